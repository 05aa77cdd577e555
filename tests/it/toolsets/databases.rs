//! Databases tools through MCP against the fake ALTR API.

use crate::common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn get_databases_lists_them() {
    let h = Harness::start().await;
    let payload = json!({"success": true, "data": {"databases": [{"id": 1, "friendlyDatabaseName": "Sales"}]}});
    h.mock("GET", "/altrnet/api/databases", 200, payload.clone())
        .await;
    let c = h.call("get_databases", none()).await;
    assert_eq!(c.ok(), &payload["data"]);
    assert_request(
        &h.only_request().await,
        "GET",
        "/altrnet/api/databases",
        &[],
        None,
    );
}

#[tokio::test]
async fn get_databases_reports_upstream_401_as_failure() {
    let h = Harness::start().await;
    h.mock(
        "GET",
        "/altrnet/api/databases",
        401,
        json!({"message": "bad key"}),
    )
    .await;
    let c = h.call("get_databases", none()).await;
    c.upstream(401);
    assert!(c.error()["hint"].as_str().unwrap().contains("MAPI_KEY"));
    assert!(!c.text.contains("test-secret"));
}

/// The exact request each tool sends (checked, with the generated rows, in `generated`).
pub fn table() -> Vec<Sends> {
    vec![
        Sends {
            tool: "get_databases",
            args: none(),
            method: "GET",
            path: "/altrnet/api/databases",
            query: &[],
            body: None,
        },
        Sends {
            tool: "get_service_users",
            args: none(),
            method: "GET",
            path: "/service-user/v1/services/snowflake/users",
            query: &[],
            body: None,
        },
        Sends {
            tool: "create_database",
            args: json!({"friendly_database_name": "Sales", "database_type": "snowflake", "database_name": "SALES_DB"}),
            method: "POST",
            path: "/altrnet/api/databases",
            query: &[],
            body: Some(
                json!({"friendlyDatabaseName": "Sales", "databaseType": "snowflake", "databaseName": "SALES_DB"}),
            ),
        },
        Sends {
            tool: "create_database",
            args: json!({
                "friendly_database_name": "Sales", "database_type": "snowflake", "database_name": "SALES_DB",
                "database_username": "altr_svc", "database_password": "pw", "hostname": "xy1.snowflakecomputing.com",
                "database_port": 443,
            }),
            method: "POST",
            path: "/altrnet/api/databases",
            query: &[],
            body: Some(json!({
                "friendlyDatabaseName": "Sales", "databaseType": "snowflake", "databaseName": "SALES_DB",
                "databaseUsername": "altr_svc", "databasePassword": "pw", "hostname": "xy1.snowflakecomputing.com",
                "databasePort": 443,
            })),
        },
        Sends {
            tool: "create_database",
            args: json!({
                "friendly_database_name": "Sales", "database_type": "snowflake", "database_name": "SALES_DB",
                "service_user_id": "su-1", "hostname": "xy1.snowflakecomputing.com",
            }),
            method: "POST",
            path: "/altrnet/api/databases",
            query: &[],
            body: Some(json!({
                "friendlyDatabaseName": "Sales", "databaseType": "snowflake", "databaseName": "SALES_DB",
                "serviceUserID": "su-1", "hostname": "xy1.snowflakecomputing.com",
            })),
        },
        Sends {
            tool: "create_databricks_database",
            args: json!({
                "friendly_database_name": "Lake", "database_name": "main", "hostname": "dbc-1.cloud.databricks.com",
                "database_username": "token", "database_password": "dapi123",
            }),
            method: "POST",
            path: "/altrnet/api/databases",
            query: &[],
            body: Some(json!({
                "friendlyDatabaseName": "Lake", "databaseType": "databricks", "databaseName": "main",
                "hostname": "dbc-1.cloud.databricks.com", "databaseUsername": "token", "databasePassword": "dapi123",
            })),
        },
        Sends {
            tool: "create_databricks_database",
            args: json!({
                "friendly_database_name": "Lake", "database_name": "main", "hostname": "dbc-1.cloud.databricks.com",
                "service_user_id": "su-2",
            }),
            method: "POST",
            path: "/altrnet/api/databases",
            query: &[],
            body: Some(json!({
                "friendlyDatabaseName": "Lake", "databaseType": "databricks", "databaseName": "main",
                "hostname": "dbc-1.cloud.databricks.com", "serviceUserID": "su-2",
            })),
        },
        Sends {
            tool: "update_database",
            args: json!({
                "database_id": 7, "friendly_database_name": "Sales EU", "max_number_of_connections": 5,
                "max_number_of_batches": 2, "service_user_id": "su-1", "connection_string": "cs",
                "database_password": "pw", "database_username": "u", "snowflake_role": "ALTR_ROLE",
                "warehouse_name": "WH", "should_classify": true, "data_usage_history": false,
                "classification_type": "GDLP", "reinvoke": true,
            }),
            method: "PATCH",
            path: "/altrnet/api/databases/7",
            query: &[],
            body: Some(json!({
                "friendlyDatabaseName": "Sales EU", "maxNumberOfConnections": 5, "maxNumberOfBatches": 2,
                "serviceUserID": "su-1", "connectionString": "cs", "databasePassword": "pw",
                "databaseUsername": "u", "snowflakeRole": "ALTR_ROLE", "warehouseName": "WH",
                "shouldClassify": true, "dataUsageHistory": false, "classificationType": "GDLP", "reinvoke": true,
            })),
        },
        Sends {
            tool: "update_database",
            args: json!({"database_id": 7, "should_classify": false}),
            method: "PATCH",
            path: "/altrnet/api/databases/7",
            query: &[],
            body: Some(json!({"shouldClassify": false})),
        },
        Sends {
            tool: "trigger_database_status_sync",
            args: json!({"database_id": 7}),
            method: "PATCH",
            path: "/altrnet/api/databases/7/status",
            query: &[],
            body: None,
        },
        Sends {
            tool: "disconnect_database",
            args: json!({"database_id": 7}),
            method: "DELETE",
            path: "/altrnet/api/databases/7",
            query: &[],
            body: None,
        },
        Sends {
            tool: "disconnect_database",
            args: json!({"database_id": 7, "ignore_errors": false}),
            method: "DELETE",
            path: "/altrnet/api/databases/7",
            query: &[],
            body: None,
        },
        Sends {
            tool: "disconnect_database",
            args: json!({"database_id": 7, "ignore_errors": true}),
            method: "DELETE",
            path: "/altrnet/api/databases/7",
            query: &[("ignoreErrors", "true")],
            body: None,
        },
    ]
}

fn database_list() -> Value {
    json!({"success": true, "data": {"databases": [
        {"id": 2, "friendlyDatabaseName": "SALES", "databaseName": "UPPER"},
        {"id": 3, "friendlyDatabaseName": "sales", "databaseName": "OLD"},
        {"id": 4, "friendlyDatabaseName": "Sales & Co/EU", "databaseName": "SALES_DB"},
    ]}})
}

#[tokio::test]
async fn get_database_id_returns_the_exact_match() {
    let h = Harness::start().await;
    h.mock("GET", "/altrnet/api/databases", 200, database_list())
        .await;
    let c = h
        .call("get_database_id", json!({"database_name": "Sales & Co/EU"}))
        .await;
    assert_eq!(
        c.ok(),
        &json!({
            "database_id": 4,
            "database": {"id": 4, "friendlyDatabaseName": "Sales & Co/EU", "databaseName": "SALES_DB"},
        })
    );
    assert_request(
        &h.only_request().await,
        "GET",
        "/altrnet/api/databases",
        &[("friendlyDatabaseName", "Sales & Co/EU")],
        None,
    );
    // The raw query keeps the name as one encoded value.
    let raw = h
        .only_request()
        .await
        .url
        .query()
        .unwrap_or_default()
        .to_string();
    assert_eq!(raw, "friendlyDatabaseName=Sales+%26+Co%2FEU");
}

#[tokio::test]
async fn get_database_id_prefers_the_exact_name_then_ignores_case() {
    let h = Harness::start().await;
    h.mock("GET", "/altrnet/api/databases", 200, database_list())
        .await;
    for (name, id) in [
        ("sales", 3),
        ("SALES", 2),
        ("Sales", 2),
        ("sales & co/eu", 4),
    ] {
        let c = h
            .call("get_database_id", json!({"database_name": name}))
            .await;
        assert_eq!(c.ok()["database_id"], id, "{name}");
    }
}

#[tokio::test]
async fn get_database_id_reports_an_unknown_name_as_not_found() {
    let h = Harness::start().await;
    h.mock("GET", "/altrnet/api/databases", 200, database_list())
        .await;
    let c = h
        .call("get_database_id", json!({"database_name": "Marketing"}))
        .await;
    assert!(c.is_error);
    assert_eq!(c.envelope["success"], false);
    assert_eq!(c.data(), &Value::Null);
    assert_eq!(c.error()["code"], "not_found");
    assert!(c.error()["message"]
        .as_str()
        .unwrap()
        .contains("'Marketing'"));
    assert_request(
        &h.only_request().await,
        "GET",
        "/altrnet/api/databases",
        &[("friendlyDatabaseName", "Marketing")],
        None,
    );
}

#[tokio::test]
async fn invalid_arguments_are_refused_before_any_request() {
    let h = Harness::start().await;
    let create_base =
        json!({"friendly_database_name": "S", "database_type": "snowflake", "database_name": "S"});
    let create = |extra: Value| with_args(&create_base, extra);
    let databricks_base =
        json!({"friendly_database_name": "L", "database_name": "main", "hostname": "h"});
    let databricks = |extra: Value| with_args(&databricks_base, extra);
    let cases: Vec<(&str, Value, &str)> = vec![
        // (Unknown, missing and mistyped parameters: generated for every tool.)
        // Ports are 1-65535.
        (
            "create_database",
            create(json!({"database_port": 70000})),
            "database_port",
        ),
        (
            "create_database",
            create(json!({"database_port": 0})),
            "database_port",
        ),
        // Service user and password authentication exclude each other.
        (
            "create_database",
            create(json!({"service_user_id": "su", "database_username": "u"})),
            "database_username",
        ),
        (
            "create_database",
            create(json!({"service_user_id": "su", "database_password": SECRET})),
            "database_password",
        ),
        (
            "create_database",
            create(json!({"database_password": SECRET})),
            "database_username",
        ),
        (
            "create_databricks_database",
            databricks(
                json!({"service_user_id": "su", "database_username": "u", "database_password": SECRET}),
            ),
            "database_username",
        ),
        (
            "create_databricks_database",
            databricks(json!({"service_user_id": "su", "database_password": SECRET})),
            "database_password",
        ),
        (
            "create_databricks_database",
            databricks(json!({"database_password": SECRET})),
            "database_username",
        ),
        // Nothing to update.
        ("update_database", json!({"database_id": 7}), "reinvoke"),
        (
            "update_database",
            json!({"database_id": 7, "friendly_database_name": null}),
            "friendly_database_name",
        ),
    ];
    for (tool, args, parameter) in cases {
        assert_refused(&h, tool, args, parameter).await;
    }
}

#[tokio::test]
async fn update_database_with_nothing_to_update_says_so() {
    let h = Harness::start().await;
    let c = h.call("update_database", json!({"database_id": 7})).await;
    c.invalid("friendly_database_name");
    c.invalid("reinvoke");
    let message = c.error()["message"].as_str().unwrap();
    assert!(message.contains("nothing to update"), "{message}");
    assert!(c.error()["hint"]
        .as_str()
        .unwrap()
        .contains("Nothing was sent"));
    h.assert_no_requests().await;
}
