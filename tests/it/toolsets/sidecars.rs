//! Sidecar configuration tools through MCP against the fake ALTR API, and the sidecar workflow
//! against the built-in sandbox.

use crate::common::*;
use serde_json::{json, Value};

fn row(
    tool: &'static str,
    args: Value,
    method: &'static str,
    path: &'static str,
    query: &'static [(&'static str, &'static str)],
    body: Option<Value>,
) -> Sends {
    Sends {
        tool,
        args,
        method,
        path,
        query,
        body,
    }
}

/// The exact request each tool sends (checked, with the generated rows, in `generated`).
pub fn table() -> Vec<Sends> {
    let aws = json!({"secret_arn": "arn:aws:secretsmanager:us-east-1:1:secret:pg", "region": "us-east-1"});
    let azure = json!({"vault_url": "https://kv.vault.azure.net", "secret_name": "pg"});
    vec![
        // Agents.
        row(
            "list_sc_agents",
            json!({"limit": 25, "contiguous_id": "c1", "agent_type": "sis", "name_starts_with": "edge"}),
            "GET",
            "/sc-control/v1/agents",
            &[
                ("limit", "25"),
                ("contiguous_id", "c1"),
                ("type", "SIS"),
                ("name_starts_with", "edge"),
            ],
            None,
        ),
        row(
            "list_sc_agents",
            json!({}),
            "GET",
            "/sc-control/v1/agents",
            &[],
            None,
        ),
        row(
            "create_sc_agent",
            json!({"agent_type": "CLASSIFIER", "name": "scanner", "description": "nightly", "public_key_1": "PEM1"}),
            "POST",
            "/sc-control/v1/agents",
            &[],
            Some(
                json!({"type": "CLASSIFIER", "name": "scanner", "description": "nightly", "public_key_1": "PEM1"}),
            ),
        ),
        row(
            "create_sc_agent",
            json!({"agent_type": "SIS", "name": "edge"}),
            "POST",
            "/sc-control/v1/agents",
            &[],
            Some(json!({"type": "SIS", "name": "edge"})),
        ),
        row(
            "get_sc_agent",
            json!({"agent_id": "agt-1"}),
            "GET",
            "/sc-control/v1/agents/agt-1",
            &[],
            None,
        ),
        row(
            "update_sc_agent",
            json!({"agent_id": "agt-1", "description": "moved", "public_key_2": "PEM2"}),
            "PATCH",
            "/sc-control/v1/agents/agt-1",
            &[],
            Some(json!({"description": "moved", "public_key_2": "PEM2"})),
        ),
        row(
            "disconnect_sc_agent",
            json!({"agent_id": "agt-1"}),
            "DELETE",
            "/sc-control/v1/agents/agt-1",
            &[],
            None,
        ),
        // Agent tasks.
        row(
            "list_sc_agent_tasks",
            json!({"agent_id": "agt-1", "limit": 5}),
            "GET",
            "/sc-control/v1/agents/agt-1/tasks",
            &[("limit", "5")],
            None,
        ),
        row(
            "create_sc_agent_task",
            json!({"agent_id": "agt-1", "name": "scan-orders", "repo_name": "orders-pg",
                   "configuration": {"schemas": ["public"]}, "schedule": "{\"type\": \"cron\", \"expression\": \"0 2 * * *\"}",
                   "service_user": "altr_scan"}),
            "POST",
            "/sc-control/v1/agents/agt-1/tasks",
            &[],
            Some(
                json!({"name": "scan-orders", "repo_name": "orders-pg", "configuration": {"schemas": ["public"]},
                        "schedule": {"type": "cron", "expression": "0 2 * * *"}, "service_user": "altr_scan"}),
            ),
        ),
        row(
            "update_sc_agent_task",
            json!({"agent_id": "agt-1", "task_id": "t/1", "schedule": {"type": "manual"}}),
            "PATCH",
            "/sc-control/v1/agents/agt-1/tasks/t%2F1",
            &[],
            Some(json!({"schedule": {"type": "manual"}})),
        ),
        row(
            "delete_sc_agent_task",
            json!({"agent_id": "agt-1", "task_id": "t-1"}),
            "DELETE",
            "/sc-control/v1/agents/agt-1/tasks/t-1",
            &[],
            None,
        ),
        // Repositories.
        row(
            "list_sc_repos",
            json!({"repo_type": "postgres", "limit": 100}),
            "GET",
            "/sc-control/v1/repos",
            &[("limit", "100"), ("repo_type", "Postgres")],
            None,
        ),
        row(
            "create_sc_repo",
            json!({"name": "orders-pg", "repo_type": "Postgres", "hostname": "db.internal", "port": 5432, "description": "orders"}),
            "POST",
            "/sc-control/v1/repos",
            &[],
            Some(
                json!({"name": "orders-pg", "type": "Postgres", "hostname": "db.internal", "port": 5432, "description": "orders"}),
            ),
        ),
        row(
            "get_sc_repo",
            json!({"repo_name": "orders pg"}),
            "GET",
            "/sc-control/v1/repos/orders%20pg",
            &[],
            None,
        ),
        row(
            "update_sc_repo",
            json!({"repo_name": "orders-pg", "description": "orders (prod)"}),
            "PATCH",
            "/sc-control/v1/repos/orders-pg",
            &[],
            Some(json!({"description": "orders (prod)"})),
        ),
        row(
            "disconnect_sc_repo",
            json!({"repo_name": "orders-pg"}),
            "DELETE",
            "/sc-control/v1/repos/orders-pg",
            &[],
            None,
        ),
        // Repository users.
        row(
            "list_sc_repo_users",
            json!({"repo_name": "orders-pg", "contiguous_id": "u9"}),
            "GET",
            "/sc-control/v1/repos/orders-pg/users",
            &[("contiguous_id", "u9")],
            None,
        ),
        row(
            "create_sc_repo_user",
            json!({"repo_name": "orders-pg", "username": "app", "aws_secrets_manager": aws}),
            "POST",
            "/sc-control/v1/repos/orders-pg/users",
            &[],
            Some(json!({"username": "app", "aws_secrets_manager": aws})),
        ),
        row(
            "create_sc_repo_user",
            json!({"repo_name": "orders-pg", "username": "app", "azure_key_vault": azure.to_string()}),
            "POST",
            "/sc-control/v1/repos/orders-pg/users",
            &[],
            Some(json!({"username": "app", "azure_key_vault": azure})),
        ),
        row(
            "get_sc_repo_user",
            json!({"repo_name": "orders-pg", "username": "app"}),
            "GET",
            "/sc-control/v1/repos/orders-pg/users/app",
            &[],
            None,
        ),
        row(
            "update_sc_repo_user",
            json!({"repo_name": "orders-pg", "username": "app", "azure_key_vault": azure}),
            "PATCH",
            "/sc-control/v1/repos/orders-pg/users/app",
            &[],
            Some(json!({"azure_key_vault": azure})),
        ),
        row(
            "disconnect_sc_repo_user",
            json!({"repo_name": "orders-pg", "username": "app"}),
            "DELETE",
            "/sc-control/v1/repos/orders-pg/users/app",
            &[],
            None,
        ),
        // Service users.
        row(
            "list_sc_service_users",
            json!({"repo_name": "orders-pg", "limit": 10, "contiguous_id": "s1", "username_starts_with": "altr"}),
            "GET",
            "/sc-control/v1/repos/orders-pg/serviceusers",
            &[
                ("limit", "10"),
                ("contiguous_id", "s1"),
                ("username_starts_with", "altr"),
            ],
            None,
        ),
        row(
            "list_sc_service_users",
            json!({"limit": 10}),
            "GET",
            "/sc-control/v1/serviceusers",
            &[("limit", "10")],
            None,
        ),
        row(
            "create_sc_service_user",
            json!({"repo_name": "orders-pg", "username": "altr_scan", "resource": "classification", "aws_secrets_manager": aws}),
            "POST",
            "/sc-control/v1/repos/orders-pg/serviceusers",
            &[],
            Some(
                json!({"username": "altr_scan", "resource": "classification", "aws_secrets_manager": aws}),
            ),
        ),
        row(
            "get_sc_service_user",
            json!({"repo_name": "orders-pg", "username": "altr_scan"}),
            "GET",
            "/sc-control/v1/repos/orders-pg/serviceusers/altr_scan",
            &[],
            None,
        ),
        row(
            "update_sc_service_user",
            json!({"repo_name": "orders-pg", "username": "altr_scan", "resource": "audit"}),
            "PATCH",
            "/sc-control/v1/repos/orders-pg/serviceusers/altr_scan",
            &[],
            Some(json!({"resource": "audit"})),
        ),
        row(
            "update_sc_service_user",
            json!({"repo_name": "orders-pg", "username": "altr_scan", "azure_key_vault": azure}),
            "PATCH",
            "/sc-control/v1/repos/orders-pg/serviceusers/altr_scan",
            &[],
            Some(json!({"azure_key_vault": azure})),
        ),
        row(
            "disconnect_sc_service_user",
            json!({"repo_name": "orders-pg", "username": "altr_scan"}),
            "DELETE",
            "/sc-control/v1/repos/orders-pg/serviceusers/altr_scan",
            &[],
            None,
        ),
        // Sidecars.
        row(
            "list_sc_sidecars",
            json!({"limit": 3, "contiguous_id": "x"}),
            "GET",
            "/sc-control/v1/sidecars",
            &[("limit", "3"), ("contiguous_id", "x")],
            None,
        ),
        row(
            "create_sc_sidecar",
            json!({"name": "edge-1", "hostname": "edge-1.internal", "unsupported_query_bypass": false, "disable_platform_audits": true}),
            "POST",
            "/sc-control/v1/sidecars",
            &[],
            Some(
                json!({"name": "edge-1", "hostname": "edge-1.internal", "unsupported_query_bypass": false, "disable_platform_audits": true}),
            ),
        ),
        row(
            "get_sc_sidecar",
            json!({"sidecar_id": "sc-1"}),
            "GET",
            "/sc-control/v1/sidecars/sc-1",
            &[],
            None,
        ),
        row(
            "update_sc_sidecar",
            json!({"sidecar_id": "sc-1", "hostname": "edge-2.internal", "unsupported_query_bypass": true}),
            "PATCH",
            "/sc-control/v1/sidecars/sc-1",
            &[],
            Some(json!({"hostname": "edge-2.internal", "unsupported_query_bypass": true})),
        ),
        row(
            "disconnect_sc_sidecar",
            json!({"sidecar_id": "sc-1"}),
            "DELETE",
            "/sc-control/v1/sidecars/sc-1",
            &[],
            None,
        ),
        // Listeners.
        row(
            "list_sc_sidecar_listeners",
            json!({"sidecar_id": "sc-1"}),
            "GET",
            "/sc-control/v1/sidecars/sc-1/ports",
            &[],
            None,
        ),
        row(
            "register_sc_sidecar_listener",
            json!({"sidecar_id": "sc-1", "port": 5432, "database_type": "Postgres", "advertised_version": "15.4"}),
            "POST",
            "/sc-control/v1/sidecars/sc-1/ports",
            &[],
            Some(json!({"port": 5432, "database_type": "Postgres", "advertised_version": "15.4"})),
        ),
        row(
            "deregister_sc_sidecar_listener",
            json!({"sidecar_id": "sc-1", "port": 5432}),
            "DELETE",
            "/sc-control/v1/sidecars/sc-1/ports/5432",
            &[],
            None,
        ),
        // Bindings.
        row(
            "list_sc_sidecar_bindings",
            json!({"sidecar_id": "sc-1", "ports": "5432, 1521", "repo_names": ["orders-pg"], "limit": 20}),
            "GET",
            "/sc-control/v1/sidecars/sc-1/bindings",
            &[
                ("ports", "5432,1521"),
                ("repo_names", "orders-pg"),
                ("limit", "20"),
            ],
            None,
        ),
        row(
            "list_sc_repo_bindings",
            json!({"repo_name": "orders-pg", "ports": [5432], "sidecar_ids": "sc-1,sc-2"}),
            "GET",
            "/sc-control/v1/repos/orders-pg/bindings",
            &[("ports", "5432"), ("sidecar_ids", "sc-1,sc-2")],
            None,
        ),
        row(
            "get_sc_sidecar_binding",
            json!({"sidecar_id": "sc-1", "port": 5432, "repo_name": "orders-pg"}),
            "GET",
            "/sc-control/v1/sidecars/sc-1/bindings/ports/5432/repos/orders-pg",
            &[],
            None,
        ),
        row(
            "create_sc_sidecar_binding",
            json!({"sidecar_id": "sc-1", "port": "5432", "repo_name": "orders-pg"}),
            "POST",
            "/sc-control/v1/sidecars/sc-1/bindings/ports/5432/repos/orders-pg",
            &[],
            None,
        ),
        row(
            "disconnect_sc_sidecar_binding",
            json!({"sidecar_id": "sc-1", "port": 5432, "repo_name": "orders-pg"}),
            "DELETE",
            "/sc-control/v1/sidecars/sc-1/bindings/ports/5432/repos/orders-pg",
            &[],
            None,
        ),
    ]
}

/// Updates that would send `PATCH {}` (the Python server sends them) are refused, naming the id.
#[tokio::test]
async fn empty_updates_are_refused() {
    let h = Harness::start().await;
    for (tool, args, id) in [
        ("update_sc_agent", json!({"agent_id": "agt-1"}), "name"),
        (
            "update_sc_agent_task",
            json!({"agent_id": "agt-1", "task_id": "t-1"}),
            "schedule",
        ),
        (
            "update_sc_repo_user",
            json!({"repo_name": "r", "username": "u"}),
            "aws_secrets_manager",
        ),
        (
            "update_sc_service_user",
            json!({"repo_name": "r", "username": "u"}),
            "resource",
        ),
        (
            "update_sc_sidecar",
            json!({"sidecar_id": "sc-1", "name": null}),
            "hostname",
        ),
    ] {
        assert_refused(&h, tool, args, id).await;
    }
}

/// Creating a repo user or service user needs exactly one secret backend.
#[tokio::test]
async fn creates_need_exactly_one_secret_backend() {
    let h = Harness::start().await;
    let aws = json!({"secret_arn": SECRET});
    let azure = json!({"vault_url": SECRET});
    for (tool, base) in [
        (
            "create_sc_repo_user",
            json!({"repo_name": "r", "username": "u"}),
        ),
        (
            "create_sc_service_user",
            json!({"repo_name": "r", "username": "u", "resource": "classification"}),
        ),
    ] {
        assert_refused(
            &h,
            tool,
            base.clone(),
            "aws_secrets_manager,azure_key_vault",
        )
        .await;
        let mut both = base.clone();
        both["aws_secrets_manager"] = aws.clone();
        both["azure_key_vault"] = azure.clone();
        assert_refused(&h, tool, both, "azure_key_vault").await;
    }
}

/// An update may move a secret to one backend, never to both at once.
#[tokio::test]
async fn updates_take_at_most_one_secret_backend() {
    let h = Harness::start().await;
    let both = json!({"repo_name": "r", "username": "u",
                      "aws_secrets_manager": {"secret_arn": SECRET}, "azure_key_vault": {"vault_url": SECRET}});
    assert_refused(&h, "update_sc_repo_user", both.clone(), "azure_key_vault").await;
    let mut with_resource = both;
    with_resource["resource"] = json!("audit");
    assert_refused(
        &h,
        "update_sc_service_user",
        with_resource,
        "azure_key_vault",
    )
    .await;
}

/// The Python server silently dropped `username_starts_with` without `repo_name`.
#[tokio::test]
async fn list_sc_service_users_username_filter_needs_repo_name() {
    let h = Harness::start().await;
    assert_refused(
        &h,
        "list_sc_service_users",
        json!({"username_starts_with": "altr", "limit": 5}),
        "username_starts_with",
    )
    .await;
}

#[tokio::test]
async fn list_sc_service_users_encodes_the_repo_name() {
    let h = Harness::start().await;
    h.mock(
        "GET",
        "/sc-control/v1/repos/a%2Fb%3Fc/serviceusers",
        200,
        json!({"data": []}),
    )
    .await;
    let c = h
        .call("list_sc_service_users", json!({"repo_name": "a/b?c"}))
        .await;
    assert_eq!(c.ok(), &json!({"data": []}));
    assert_request(
        &h.only_request().await,
        "GET",
        "/sc-control/v1/repos/a%2Fb%3Fc/serviceusers",
        &[],
        None,
    );
    assert_refused(
        &Harness::start().await,
        "list_sc_service_users",
        json!({"repo_name": ".."}),
        "repo_name",
    )
    .await;
}

#[tokio::test]
async fn list_sc_service_users_reports_upstream_failures() {
    assert_upstream_failure(
        "list_sc_service_users",
        json!({}),
        "GET",
        "/sc-control/v1/serviceusers",
        403,
    )
    .await;
    assert_upstream_failure(
        "list_sc_service_users",
        json!({"repo_name": "orders-pg"}),
        "GET",
        "/sc-control/v1/repos/orders-pg/serviceusers",
        404,
    )
    .await;
}

/// Ports are 1-65535 wherever they appear, lists included.
#[tokio::test]
async fn ports_are_checked() {
    let h = Harness::start().await;
    for bad in [json!(0), json!(65536), json!(-1), json!("http")] {
        assert_refused(
            &h,
            "register_sc_sidecar_listener",
            json!({"sidecar_id": "sc-1", "port": bad, "database_type": "Postgres"}),
            "port",
        )
        .await;
        assert_refused(
            &h,
            "create_sc_repo",
            json!({"name": "r", "repo_type": "Postgres", "hostname": "h", "port": bad}),
            "port",
        )
        .await;
        assert_refused(
            &h,
            "deregister_sc_sidecar_listener",
            json!({"sidecar_id": "sc-1", "port": bad}),
            "port",
        )
        .await;
    }
    for bad in [json!("5432,70000"), json!([5432, 0]), json!([]), json!(",")] {
        assert_refused(
            &h,
            "list_sc_sidecar_bindings",
            json!({"sidecar_id": "sc-1", "ports": bad}),
            "ports",
        )
        .await;
    }
}

#[tokio::test]
async fn enums_are_checked_without_echo() {
    let h = Harness::start().await;
    assert_refused(
        &h,
        "list_sc_agents",
        json!({"agent_type": SECRET}),
        "agent_type",
    )
    .await;
    assert_refused(
        &h,
        "create_sc_repo",
        json!({"name": "r", "repo_type": SECRET, "hostname": "h", "port": 5432}),
        "repo_type",
    )
    .await;
}

#[tokio::test]
async fn bad_json_text_for_objects_is_refused() {
    let h = Harness::start().await;
    assert_refused(
        &h,
        "create_sc_agent_task",
        json!({"agent_id": "a", "name": "n", "repo_name": "r", "configuration": "{not json", "schedule": {}}),
        "configuration",
    )
    .await;
    assert_refused(
        &h,
        "create_sc_repo_user",
        json!({"repo_name": "r", "username": "u", "aws_secrets_manager": "[1, 2]"}),
        "aws_secrets_manager",
    )
    .await;
}

// ---- against the sandbox ----

mod sandbox {
    use crate::sandbox_common::*;
    use serde_json::{json, Value};

    fn id_of(c: &Call) -> String {
        c.ok()["id"].as_str().expect("an id").to_string()
    }

    /// Register a repository with a service user whose secret lives in AWS Secrets Manager, add
    /// a sidecar with a listener on 5432, bind the repository, read the telemetry, rotate the
    /// secret to Azure Key Vault, deregister the listener and see the binding go.
    #[tokio::test]
    async fn sidecar_workflow() {
        let s = Sbx::start().await;

        let repo = s
            .call(
                "create_sc_repo",
                json!({"name": "billing-pg", "repo_type": "postgres", "hostname": "pg-billing.acme.internal", "port": 5432}),
            )
            .await;
        assert_eq!(repo.ok()["type"], "Postgres");
        let repos = s
            .call("list_sc_repos", json!({"repo_type": "Postgres"}))
            .await;
        assert_eq!(
            names(&repos.ok()["repos"], "name"),
            ["orders-pg", "billing-pg"]
        );

        let aws =
            json!({"secrets_path": "altr/billing", "iam_role": "arn:aws:iam::1:role/altr-reader"});
        let su = s
            .call(
                "create_sc_service_user",
                json!({"repo_name": "billing-pg", "username": "altr_billing", "resource": "classification",
                       "aws_secrets_manager": aws.to_string()}),
            )
            .await;
        assert_eq!(su.ok()["aws_secrets_manager"], aws);
        let listed = s
            .call(
                "list_sc_service_users",
                json!({"repo_name": "billing-pg", "username_starts_with": "altr_b"}),
            )
            .await;
        assert_eq!(
            names(&listed.ok()["service_users"], "username"),
            ["altr_billing"]
        );

        let sc = s
            .call(
                "create_sc_sidecar",
                json!({"name": "edge-test", "hostname": "sc-test.acme.internal"}),
            )
            .await;
        let sc_id = id_of(&sc);
        let listener = s
            .call(
                "register_sc_sidecar_listener",
                json!({"sidecar_id": sc_id, "port": 5432, "database_type": "Postgres", "advertised_version": "15.4"}),
            )
            .await;
        assert_eq!(listener.ok()["port"], 5432);
        s.call(
            "register_sc_sidecar_listener",
            json!({"sidecar_id": sc_id, "port": 5432, "database_type": "Postgres"}),
        )
        .await
        .upstream(409);

        // A binding needs the listener and the repository, of the same database type.
        let bind =
            |port: u16, repo: &str| json!({"sidecar_id": sc_id, "port": port, "repo_name": repo});
        s.call("create_sc_sidecar_binding", bind(6000, "billing-pg"))
            .await
            .upstream(404);
        s.call("create_sc_sidecar_binding", bind(5432, "no-such-repo"))
            .await
            .upstream(404);
        let wrong_type = s
            .call("create_sc_sidecar_binding", bind(5432, "hr-oracle"))
            .await;
        assert_eq!(wrong_type.error()["status"], 400);
        let bound = s
            .call("create_sc_sidecar_binding", bind(5432, "billing-pg"))
            .await;
        assert_eq!(bound.ok()["repo_name"], "billing-pg");
        s.call("create_sc_sidecar_binding", bind(5432, "billing-pg"))
            .await
            .upstream(409);
        let on_sidecar = s
            .call(
                "list_sc_sidecar_bindings",
                json!({"sidecar_id": sc_id, "ports": [5432]}),
            )
            .await;
        assert_eq!(
            names(&on_sidecar.ok()["bindings"], "repo_name"),
            ["billing-pg"]
        );
        let on_repo = s
            .call("list_sc_repo_bindings", json!({"repo_name": "billing-pg"}))
            .await;
        assert_eq!(
            names(&on_repo.ok()["bindings"], "sidecar_id"),
            [sc_id.as_str()]
        );

        // Telemetry: the new sidecar's instance routes queries on 5432 to the repository.
        let instances = s
            .call("get_sidecar_instances", json!({"sidecar_id": sc_id}))
            .await;
        let list = instances.ok()["instances"]
            .as_array()
            .expect("instances")
            .clone();
        assert_eq!(list.len(), 1);
        let instance_id = list[0]["id"].as_str().expect("instance id").to_string();
        let one = s
            .call(
                "get_sidecar_instance",
                json!({"sidecar_id": sc_id, "instance_id": instance_id}),
            )
            .await;
        let live = &one.ok();
        assert_eq!(live["health"], "healthy");
        assert_eq!(live["listeners"][0]["repos"], json!(["billing-pg"]));
        let q = &live["queries"];
        let five = q["last_5m"].as_u64().expect("a count");
        assert!(five > 0);
        assert_eq!(q["last_1h"].as_u64(), Some(five * 12));
        assert_eq!(q["last_24h"].as_u64(), Some(five * 288));
        assert_eq!(list[0]["queries"], *q, "list and get agree");

        // Rotate the service user's secret to Azure Key Vault: the AWS reference goes.
        let azure = json!({"key_vault_uri": "https://acme-kv.vault.azure.net", "secret_name": "altr-billing"});
        s.call(
            "update_sc_service_user",
            json!({"repo_name": "billing-pg", "username": "altr_billing", "azure_key_vault": azure}),
        )
        .await
        .ok();
        let rotated = s
            .call(
                "get_sc_service_user",
                json!({"repo_name": "billing-pg", "username": "altr_billing"}),
            )
            .await;
        assert_eq!(rotated.ok()["azure_key_vault"], azure);
        assert!(rotated.ok().get("aws_secrets_manager").is_none());

        // A bound repository cannot be removed.
        s.call("disconnect_sc_repo", json!({"repo_name": "billing-pg"}))
            .await
            .upstream(409);

        // Deregistering the listener takes the binding with it; traffic stops.
        s.call(
            "deregister_sc_sidecar_listener",
            json!({"sidecar_id": sc_id, "port": 5432}),
        )
        .await
        .ok();
        s.call("get_sc_sidecar_binding", bind(5432, "billing-pg"))
            .await
            .upstream(404);
        let left = s
            .call("list_sc_repo_bindings", json!({"repo_name": "billing-pg"}))
            .await;
        assert_eq!(left.ok()["bindings"], json!([]));
        let idle = s
            .call(
                "get_sidecar_instance",
                json!({"sidecar_id": sc_id, "instance_id": instance_id}),
            )
            .await;
        assert_eq!(idle.ok()["health"], "idle");
        assert_eq!(idle.ok()["queries"]["last_24h"], 0);

        s.call("disconnect_sc_repo", json!({"repo_name": "billing-pg"}))
            .await
            .ok();
        s.call("get_sc_repo", json!({"repo_name": "billing-pg"}))
            .await
            .upstream(404);
        s.call(
            "get_sc_service_user",
            json!({"repo_name": "billing-pg", "username": "altr_billing"}),
        )
        .await
        .upstream(404);
    }

    /// Agents, tasks and task telemetry: the seeded classifier, a new task (which needs a real
    /// repository and service user), its runs, and clearing them.
    #[tokio::test]
    async fn agent_task_workflow() {
        let s = Sbx::start().await;
        let agents = s
            .call("list_sc_agents", json!({"agent_type": "classifier"}))
            .await;
        assert_eq!(names(&agents.ok()["agents"], "name"), ["scanner-east"]);
        let agent_id = agents.ok()["agents"][0]["id"]
            .as_str()
            .expect("id")
            .to_string();

        let tasks = s
            .call("list_sc_agent_tasks", json!({"agent_id": agent_id}))
            .await;
        let task_id = tasks.ok()["tasks"][0]["id"]
            .as_str()
            .expect("task")
            .to_string();
        let t = s
            .call("get_task_telemetry", json!({"task_id": task_id}))
            .await;
        assert_eq!(t.ok()["total_runs"], 3);
        assert_eq!(t.ok()["last_status"], "succeeded");

        let task = |repo: &str, user: &str| {
            json!({"agent_id": agent_id, "name": "hr-scan", "repo_name": repo, "service_user": user,
                   "configuration": {"classification_type": 5, "sample_strategy": "METADATA", "collection_name": "hr", "service_name": "HRPDB"},
                   "schedule": "{\"type\": \"CRON\", \"value\": \"0 3 * * 0\"}"})
        };
        // A schedule is {type: CRON, value: <cron>}; another shape is refused.
        let mut wrong_schedule = task("hr-oracle", "altr_audit");
        wrong_schedule["schedule"] = json!({"type": "cron", "expression": "0 3 * * 0"});
        let refused = s.call("create_sc_agent_task", wrong_schedule).await;
        assert_eq!(refused.error()["status"], 400);
        let no_repo = s
            .call("create_sc_agent_task", task("nope", "altr_audit"))
            .await;
        assert_eq!(no_repo.error()["status"], 400);
        let wrong_user = s
            .call("create_sc_agent_task", task("hr-oracle", "altr_scan"))
            .await;
        assert_eq!(wrong_user.error()["status"], 400);
        let created = s
            .call("create_sc_agent_task", task("hr-oracle", "altr_audit"))
            .await;
        let new_task = created.ok()["id"].as_str().expect("id").to_string();
        assert_eq!(
            created.ok()["schedule"],
            json!({"type": "CRON", "value": "0 3 * * 0"})
        );
        // Creating a task counts it on the agent and on its service user.
        let agent = s.call("get_sc_agent", json!({"agent_id": agent_id})).await;
        assert_eq!(agent.ok()["task_count"], 2);
        let user = json!({"repo_name": "hr-oracle", "username": "altr_audit"});
        let su = s.call("get_sc_service_user", user.clone()).await;
        assert_eq!(su.ok()["task_count"], 1);

        let all = s
            .call("get_agent_task_telemetry", json!({"agent_id": agent_id}))
            .await;
        let runs: Vec<Value> = all.ok()["task_telemetry"]
            .as_array()
            .expect("list")
            .iter()
            .map(|t| t["total_runs"].clone())
            .collect();
        assert_eq!(runs, [json!(3), json!(0)]);

        s.call("delete_task_telemetry", json!({"task_id": task_id}))
            .await
            .ok();
        let cleared = s
            .call("get_task_telemetry", json!({"task_id": task_id}))
            .await;
        assert_eq!(cleared.ok()["total_runs"], 0);

        let instances = s
            .call("get_agent_instances", json!({"agent_id": agent_id}))
            .await;
        assert_eq!(instances.ok()["instances"][0]["assigned_tasks"], 2);

        s.call(
            "update_sc_agent_task",
            json!({"agent_id": agent_id, "task_id": new_task, "description": "HR only"}),
        )
        .await
        .ok();
        s.call(
            "delete_sc_agent_task",
            json!({"agent_id": agent_id, "task_id": new_task}),
        )
        .await
        .ok();
        s.call("get_task_telemetry", json!({"task_id": new_task}))
            .await
            .upstream(404);
        let su = s.call("get_sc_service_user", user).await;
        assert_eq!(su.ok()["task_count"], 0);
        let agent = s.call("get_sc_agent", json!({"agent_id": agent_id})).await;
        assert_eq!(agent.ok()["task_count"], 1);

        // An agent with tasks is not disconnected; without them it is, with its instances.
        s.call("disconnect_sc_agent", json!({"agent_id": agent_id}))
            .await
            .upstream(409);
        s.call(
            "delete_sc_agent_task",
            json!({"agent_id": agent_id, "task_id": task_id}),
        )
        .await
        .ok();
        s.call("disconnect_sc_agent", json!({"agent_id": agent_id}))
            .await
            .ok();
        s.call("get_agent_instances", json!({"agent_id": agent_id}))
            .await
            .upstream(404);
        s.call("get_task_telemetry", json!({"task_id": task_id}))
            .await
            .upstream(404);
    }

    /// The simulated API itself enforces its rules, whatever a client sends.
    #[tokio::test]
    async fn sandbox_api_refuses_what_the_api_would() {
        let s = Sbx::start().await;
        let users = "/sc-control/v1/repos/orders-pg/users";
        let (status, _) = s.raw("POST", users, Some(r#"{"username": "x"}"#)).await;
        assert_eq!(status, 400, "no secret store");
        let both = r#"{"username": "x", "aws_secrets_manager": {}, "azure_key_vault": {}}"#;
        assert_eq!(
            s.raw("POST", users, Some(both)).await.0,
            400,
            "two secret stores"
        );
        for wrong in [
            r#"{"username": "x", "aws_secrets_manager": {"secret_arn": "a", "region": "r"}}"#,
            r#"{"username": "x", "azure_key_vault": {"vault_url": "u", "secret_name": "n"}}"#,
        ] {
            assert_eq!(s.raw("POST", users, Some(wrong)).await.0, 400, "{wrong}");
        }
        let right = r#"{"username": "x", "aws_secrets_manager": {"secrets_path": "altr/x"}}"#;
        assert_eq!(s.raw("POST", users, Some(right)).await.0, 201);
        let nope = "/sc-control/v1/sidecars/nope";
        let renamed = s.raw("PATCH", nope, Some(r#"{"name": "x"}"#)).await;
        assert_eq!(renamed.0, 404, "unknown sidecar");
        assert_eq!(
            s.raw("PATCH", nope, Some("{}")).await.0,
            400,
            "empty update"
        );
        let (status, body) = s
            .raw(
                "GET",
                "/sc-control/v1/serviceusers?username_starts_with=a",
                None,
            )
            .await;
        assert_eq!(status, 400, "{body}");

        // A sidecar with listeners is not disconnected; once they are deregistered (with their
        // bindings) it is, and the repository can go once its users have.
        let list = s.call("list_sc_sidecars", json!({})).await;
        let sc_id = list.ok()["sidecars"][0]["id"]
            .as_str()
            .expect("a sidecar")
            .to_string();
        assert_eq!(
            s.raw("DELETE", "/sc-control/v1/repos/orders-pg", None)
                .await
                .0,
            409,
            "bound repository"
        );
        s.call("disconnect_sc_sidecar", json!({"sidecar_id": sc_id}))
            .await
            .upstream(409);
        for port in [5432, 1521] {
            s.call(
                "deregister_sc_sidecar_listener",
                json!({"sidecar_id": sc_id, "port": port}),
            )
            .await
            .ok();
        }
        s.call("disconnect_sc_sidecar", json!({"sidecar_id": sc_id}))
            .await
            .ok();
        s.call("list_sc_sidecar_listeners", json!({"sidecar_id": sc_id}))
            .await
            .upstream(404);
        let left = s
            .call("list_sc_repo_bindings", json!({"repo_name": "orders-pg"}))
            .await;
        assert_eq!(left.ok()["bindings"], json!([]));
        let repo = "/sc-control/v1/repos/orders-pg";
        assert_eq!(s.raw("DELETE", repo, None).await.0, 409, "repository users");
        for user in ["orders_app", "x"] {
            s.call(
                "disconnect_sc_repo_user",
                json!({"repo_name": "orders-pg", "username": user}),
            )
            .await
            .ok();
        }
        assert_eq!(s.raw("DELETE", repo, None).await.0, 204);
    }

    /// Every list tool of both toolsets shows something in the demo org.
    #[tokio::test]
    async fn demo_seed_fills_every_list() {
        let s = Sbx::start().await;
        let sc = s.call("list_sc_sidecars", json!({})).await;
        let sc_id = sc.ok()["sidecars"][0]["id"]
            .as_str()
            .expect("a sidecar")
            .to_string();
        let agents = s.call("list_sc_agents", json!({})).await;
        let agent_id = agents.ok()["agents"][0]["id"]
            .as_str()
            .expect("an agent")
            .to_string();
        for (tool, args, key) in [
            ("list_sc_agents", json!({}), "agents"),
            (
                "list_sc_agent_tasks",
                json!({"agent_id": agent_id}),
                "tasks",
            ),
            ("list_sc_repos", json!({}), "repos"),
            (
                "list_sc_repo_users",
                json!({"repo_name": "orders-pg"}),
                "users",
            ),
            ("list_sc_service_users", json!({}), "service_users"),
            (
                "list_sc_service_users",
                json!({"repo_name": "hr-oracle"}),
                "service_users",
            ),
            ("list_sc_sidecars", json!({}), "sidecars"),
            (
                "list_sc_sidecar_listeners",
                json!({"sidecar_id": sc_id}),
                "listeners",
            ),
            (
                "list_sc_sidecar_bindings",
                json!({"sidecar_id": sc_id}),
                "bindings",
            ),
            (
                "list_sc_repo_bindings",
                json!({"repo_name": "hr-oracle"}),
                "bindings",
            ),
            (
                "get_agent_instances",
                json!({"agent_id": agent_id}),
                "instances",
            ),
            (
                "get_agent_task_telemetry",
                json!({"agent_id": agent_id}),
                "task_telemetry",
            ),
            (
                "get_sidecar_instances",
                json!({"sidecar_id": sc_id}),
                "instances",
            ),
        ] {
            let c = s.call(tool, args).await;
            let n = c.ok()[key].as_array().map(Vec::len).unwrap_or(0);
            assert!(n > 0, "{tool} shows nothing: {}", c.envelope);
        }
        let page = s.call("list_sc_service_users", json!({"limit": 1})).await;
        let next = page.ok()["contiguous_id"]
            .as_str()
            .expect("a next page")
            .to_string();
        let rest = s
            .call(
                "list_sc_service_users",
                json!({"limit": 1, "contiguous_id": next}),
            )
            .await;
        assert_ne!(page.ok()["service_users"], rest.ok()["service_users"]);
    }
}
