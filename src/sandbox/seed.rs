//! The orgs the sandbox starts with.
//!
//! Demo: "Sales Analytics" (Snowflake `SALES_DB`) and "HR Warehouse" (Snowflake `HR_DB`), both via
//! the service user `ALTR_SERVICE_USER`, and "Lakehouse" (Databricks, catalog `main`). Snowflake
//! tags `GOVERNANCE.PII_TYPE` and `GOVERNANCE.CONFIDENTIALITY` in SALES_DB, `GOVERNANCE.PII_TYPE`
//! and `PAYROLL.COMP_BAND` in HR_DB, all with values; every one connected except COMP_BAND (left
//! for trying connect_tag). Seven roles. A TAG policy on PII_TYPE with five rules.
//! Empty: the roles and the service user only.

use super::databases::{Database, ServiceUser};
use super::policies::{insert_policy, put_rule, RuleFields};
use super::tags::{connect_tag, CatalogTag, Masking};
use super::{now, Org, Seed};

/// Roles (Snowflake user groups) of every seeded org.
pub const ROLES: &[&str] = &[
    "ANALYST",
    "DATA_ENGINEER",
    "DATA_SCIENTIST",
    "FINANCE",
    "HR_ADMIN",
    "PUBLIC",
    "SECURITY_ADMIN",
];

/// The id of the seeded service user.
pub const SERVICE_USER_ID: &str = "su-7c1e2a90";

pub fn org(seed: Seed) -> Org {
    let mut org = Org {
        roles: ROLES.iter().map(|r| r.to_string()).collect(),
        service_users: vec![ServiceUser {
            id: SERVICE_USER_ID.into(),
            name: "ALTR_SERVICE_USER".into(),
            account: "acme-xy12345".into(),
            role: "ALTR_SERVICE_ROLE".into(),
            service: "snowflake".into(),
            created_at: now(),
        }],
        ..Org::default()
    };
    if seed == Seed::Demo {
        demo(&mut org);
    }
    org
}

fn snowflake(id: i64, friendly: &str, name: &str, warehouse: &str) -> Database {
    let mut db = Database::new(id, friendly, name, "snowflake");
    db.hostname = Some("acme-xy12345.snowflakecomputing.com".into());
    db.service_user_id = Some(SERVICE_USER_ID.into());
    db.snowflake_role = Some("ALTR_SERVICE_ROLE".into());
    db.warehouse_name = Some(warehouse.into());
    db.should_classify = true;
    db.classification_type = Some("altr".into());
    db
}

fn catalog(database_id: i64, schema: &str, tag: &str, values: &[(&str, u32)]) -> CatalogTag {
    CatalogTag {
        database_id,
        schema_name: schema.into(),
        tag_name: tag.into(),
        values: values.iter().map(|(v, n)| (v.to_string(), *n)).collect(),
    }
}

fn demo(org: &mut Org) {
    let sales = snowflake(1, "Sales Analytics", "SALES_DB", "ANALYTICS_WH");
    let hr = snowflake(2, "HR Warehouse", "HR_DB", "HR_WH");
    let mut lake = Database::new(3, "Lakehouse", "main", "databricks");
    lake.hostname = Some("dbc-a1b2c3d4-e5f6.cloud.databricks.com".into());
    lake.database_username = Some("altr-svc@acme.example".into());
    lake.database_password = Some("sandbox-token".into());
    for db in [sales, hr, lake] {
        org.databases.insert(db.id, db);
    }
    org.next_database_id = 3;

    org.catalog = vec![
        catalog(
            1,
            "GOVERNANCE",
            "PII_TYPE",
            &[
                ("EMAIL", 4),
                ("PHONE", 3),
                ("SSN", 1),
                ("NAME", 6),
                ("ADDRESS", 2),
            ],
        ),
        catalog(
            1,
            "GOVERNANCE",
            "CONFIDENTIALITY",
            &[("PUBLIC", 12), ("INTERNAL", 7), ("RESTRICTED", 3)],
        ),
        catalog(
            2,
            "GOVERNANCE",
            "PII_TYPE",
            &[("EMAIL", 2), ("SSN", 2), ("SALARY", 1)],
        ),
        catalog(
            2,
            "PAYROLL",
            "COMP_BAND",
            &[("BAND_1", 1), ("BAND_2", 1), ("BAND_3", 1), ("BAND_4", 1)],
        ),
    ];
    for (db, schema, tag) in [
        (1, "GOVERNANCE", "PII_TYPE"),
        (1, "GOVERNANCE", "CONFIDENTIALITY"),
        (2, "GOVERNANCE", "PII_TYPE"),
    ] {
        // The catalog above holds these tags, so connecting cannot fail.
        let _ = connect_tag(org, db, schema, tag, None, Masking::default());
    }

    let policy = insert_policy(org, "PII_TYPE", "TAG", None);
    for (role, value, level) in [
        ("ANALYST", "EMAIL", 10002),
        ("ANALYST", "SSN", 10003),
        ("HR_ADMIN", "SSN", 10000),
        ("HR_ADMIN", "SALARY", 10000),
        ("PUBLIC", "EMAIL", 10001),
    ] {
        let _ = put_rule(
            org,
            &policy,
            RuleFields {
                masking_policy: Some(level),
                role: Some(role.into()),
                tag_value: Some(value.into()),
                ..RuleFields::default()
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_org_is_complete() {
        let org = org(Seed::Demo);
        assert_eq!(org.databases.len(), 3);
        assert_eq!(org.tags.len(), 3);
        assert_eq!(org.policies.len(), 1);
        let p = org.policies.values().next().unwrap();
        assert!(p.policy_id.starts_with("TAG#"));
        assert_eq!(p.rules.len(), 5);
        assert_eq!(org.roles.len(), ROLES.len());
    }

    #[test]
    fn empty_org_has_only_roles_and_a_service_user() {
        let org = org(Seed::Empty);
        assert!(org.databases.is_empty() && org.tags.is_empty() && org.policies.is_empty());
        assert_eq!(org.service_users.len(), 1);
        assert_eq!(org.roles.len(), ROLES.len());
    }
}
