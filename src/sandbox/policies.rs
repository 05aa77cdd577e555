//! Policies & rules (API `/v1/unified-policy/management/policy...`) and roles (ALTRnet
//! `/api/userGroups`).
//!
//! Policy and rule lists page DynamoDB-style: `data.last_evaluated_key` (an object) is sent back
//! as `exclusive_start_key` (its JSON text, or the bare id). Rules come back grouped by a rule hash
//! (`data.items: {hash: [rule, ...]}`). One policy per tag and type (409). Rule batches hold 1 to
//! 99 rules; tag policies accept masking levels 10000-10004, other policies 10000-10009; roles must
//! be known user groups. Roles page with `offset` and answer `data.userGroups` and `data.count`.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxumState};
use axum::routing::{get, patch};
use axum::Router;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::{
    created, field_int, field_string, lock, now, ok, page, to_json, type_name, Body, Fail, Org,
    Query, Reply, Seed, Shared, State, ALTRNET, API,
};

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

/// Every org has the seven [`ROLES`]. Demo: a TAG policy on PII_TYPE with five rules.
pub(crate) fn seed(org: &mut Org, seed: Seed) {
    org.roles = ROLES.iter().map(|r| r.to_string()).collect();
    if seed != Seed::Demo {
        return;
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

/// Every policy type the API knows.
pub const POLICY_TYPES: &[&str] = &[
    "TAG",
    "COLUMN",
    "PUSHDOWN",
    "IMPERSONATION",
    "GRANT",
    "ROW",
    "OLTP",
];
/// The policy types the sandbox can create.
pub const CREATABLE: &[&str] = &["TAG", "PUSHDOWN"];
/// Most rules in one batch request.
pub const MAX_BATCH: usize = 99;
/// Policies per page unless `limit` says otherwise (small, so paging is exercised).
pub const POLICY_PAGE: u64 = 2;
/// Rules per page unless `limit` says otherwise.
pub const RULE_PAGE: u64 = 25;
/// Roles per page unless `limit` says otherwise.
pub const ROLE_PAGE: u64 = 3;

const RULE_FIELDS: &[&str] = &[
    "masking_policy",
    "role",
    "tag_value",
    "access_rate_thresholds",
    "time_window_thresholds",
];

const DAYS: &[&str] = &[
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
];

/// The masking levels and their names; 10010 is an outcome the API lists, never a level to set.
pub const MASKING_TYPES: &[(i64, &str, &str)] = &[
    (10000, "No Mask", "The raw value is shown"),
    (10001, "Full Mask", "Every character replaced by *"),
    (10002, "Email Mask", "Only the domain part is visible"),
    (
        10003,
        "Show Last Four",
        "All but the last 4 characters masked",
    ),
    (
        10004,
        "Constant Mask",
        "1 for numbers, * for strings, 1/1/2000 for dates",
    ),
    (10005, "Null", "The value is replaced by NULL"),
    (10006, "Full Mask Hash", "The value is replaced by a hash"),
    (10007, "Email Hash", "Domain shown, local part hashed"),
    (10008, "Show Last Four Hash", "Prefix hashed, last 4 shown"),
    (10009, "Constant Date", "Replaced by 12/31/9999"),
    (
        10010,
        "Policy Error at Runtime",
        "The policy could not be applied",
    ),
];

/// The levels a rule of a policy of this type may use.
pub fn allowed_levels(policy_type: &str) -> RangeInclusive<i64> {
    if policy_type == "TAG" {
        10000..=10004
    } else {
        10000..=10009
    }
}

/// One masking rule.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rule {
    pub rule_id: String,
    pub policy_id: String,
    pub role: String,
    pub tag_value: String,
    pub masking_policy: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_rate_thresholds: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_window_thresholds: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
}

/// A masking policy and its rules (by rule_id).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub policy_id: String,
    pub identifier: String,
    pub policy_type: String,
    pub database_ids: Option<Vec<i64>>,
    pub rules: BTreeMap<String, Rule>,
    pub created_at: String,
    pub updated_at: String,
}

impl Policy {
    fn to_json(&self) -> Value {
        let mut v = json!({
            "policy_id": self.policy_id,
            "identifier": self.identifier,
            "type": self.policy_type,
            "rule_count": self.rules.len(),
            "status": "ACTIVE",
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        });
        if let Some(ids) = &self.database_ids {
            if let Some(o) = v.as_object_mut() {
                o.insert("database_ids".into(), json!(ids));
            }
        }
        v
    }
}

/// A rule's fields as given in a batch or an update, already checked.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleFields {
    pub masking_policy: Option<i64>,
    pub role: Option<String>,
    pub tag_value: Option<String>,
    pub access_rate_thresholds: Option<Value>,
    pub time_window_thresholds: Option<Value>,
}

const POLICY: &str = "/v1/unified-policy/management/policy";

pub(crate) fn routes() -> Router<std::sync::Arc<Shared>> {
    Router::new()
        .route(&format!("{API}{POLICY}"), get(list).post(create))
        .route(
            &format!("{API}{POLICY}/rules/supportedMaskingTypes"),
            get(supported_masking_types),
        )
        .route(
            &format!("{API}{POLICY}/{{policy_id}}"),
            get(read).delete(delete),
        )
        .route(
            &format!("{API}{POLICY}/{{policy_id}}/rules"),
            get(list_rules),
        )
        .route(
            &format!("{API}{POLICY}/{{policy_id}}/rules/batch"),
            patch(batch),
        )
        .route(
            &format!("{API}{POLICY}/{{policy_id}}/rules/{{rule_id}}"),
            get(read_rule).patch(update_rule).delete(delete_rule),
        )
        .route(&format!("{ALTRNET}/api/userGroups"), get(user_groups))
}

/// Create a policy in the org (used by the seed and the endpoint).
pub(crate) fn insert_policy(
    org: &mut Org,
    identifier: &str,
    policy_type: &str,
    database_ids: Option<Vec<i64>>,
) -> String {
    let id = format!("{policy_type}#{}", org.new_uuid());
    let at = now();
    org.policies.insert(
        id.clone(),
        Policy {
            policy_id: id.clone(),
            identifier: identifier.to_string(),
            policy_type: policy_type.to_string(),
            database_ids,
            rules: BTreeMap::new(),
            created_at: at.clone(),
            updated_at: at,
        },
    );
    id
}

/// Add or replace (same role and tag value) a rule; whether it was new. The fields must carry
/// role, tag_value and masking_policy.
pub(crate) fn put_rule(org: &mut Org, policy_id: &str, f: RuleFields) -> Option<(String, bool)> {
    let (role, tag_value, level) = (f.role?, f.tag_value?, f.masking_policy?);
    let new_id = org.new_uuid();
    let policy = org.policies.get_mut(policy_id)?;
    let at = now();
    policy.updated_at = at.clone();
    if let Some(existing) = policy
        .rules
        .values_mut()
        .find(|r| r.role == role && r.tag_value == tag_value)
    {
        existing.masking_policy = level;
        existing.access_rate_thresholds = f.access_rate_thresholds;
        existing.time_window_thresholds = f.time_window_thresholds;
        existing.updated_at = at;
        return Some((existing.rule_id.clone(), false));
    }
    policy.rules.insert(
        new_id.clone(),
        Rule {
            rule_id: new_id.clone(),
            policy_id: policy_id.to_string(),
            role,
            tag_value,
            masking_policy: level,
            access_rate_thresholds: f.access_rate_thresholds,
            time_window_thresholds: f.time_window_thresholds,
            created_at: at.clone(),
            updated_at: at,
        },
    );
    Some((new_id, true))
}

fn policy_not_found(id: &str) -> Fail {
    Fail::not_found(format!(
        "Policy '{}' not found",
        id.chars().take(120).collect::<String>()
    ))
}

fn rule_not_found(id: &str) -> Fail {
    Fail::not_found(format!(
        "Rule '{}' not found in this policy",
        id.chars().take(120).collect::<String>()
    ))
}

/// The id a cursor starts after: the JSON object this API gave out (its `field`) or a bare id.
fn cursor(q: &Query, field: &str) -> Result<Option<String>, Fail> {
    let Some(raw) = q.get("exclusive_start_key").map(str::trim) else {
        return Ok(None);
    };
    if raw.is_empty() || raw == "null" {
        return Ok(None);
    }
    if !raw.starts_with('{') {
        return Ok(Some(raw.to_string()));
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(o)) => match o.get(field) {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            _ => Err(Fail::bad_request(format!(
                "exclusive_start_key has no {field}; pass back the last_evaluated_key of the previous page"
            ))),
        },
        _ => Err(Fail::bad_request(
            "exclusive_start_key is not valid JSON; pass back the last_evaluated_key of the previous page",
        )),
    }
}

fn policy_type_of(q: &Query) -> Result<Option<String>, Fail> {
    match q.get("policy_type").map(|t| t.trim().to_ascii_uppercase()) {
        None => Ok(None),
        Some(t) if t.is_empty() => Ok(None),
        Some(t) if POLICY_TYPES.contains(&t.as_str()) => Ok(Some(t)),
        Some(_) => Err(Fail::bad_request(format!(
            "policy_type must be one of {}",
            POLICY_TYPES.join(", ")
        ))),
    }
}

async fn list(AxumState(s): State, RawQuery(raw): RawQuery) -> Reply {
    let q = Query::parse(raw);
    let policy_type = policy_type_of(&q)?;
    let after = cursor(&q, "policy_id")?;
    let limit = q.number("limit", POLICY_PAGE, 1, 100)?;
    let org = lock(&s.org);
    let mut rest = org
        .policies
        .values()
        .filter(|p| policy_type.as_deref().is_none_or(|t| p.policy_type == t))
        .filter(|p| after.as_deref().is_none_or(|a| p.policy_id.as_str() > a));
    let items: Vec<&Policy> = rest.by_ref().take(limit as usize).collect();
    let more = rest.next().is_some();
    let last_evaluated_key = match items.last() {
        Some(p) if more => json!({"policy_id": p.policy_id, "type": p.policy_type}),
        _ => Value::Null,
    };
    ok(json!({
        "policies": items.iter().map(|p| p.to_json()).collect::<Vec<_>>(),
        "count": items.len(),
        "last_evaluated_key": last_evaluated_key,
    }))
}

async fn read(AxumState(s): State, Path(id): Path<String>) -> Reply {
    let org = lock(&s.org);
    let p = org.policies.get(&id).ok_or_else(|| policy_not_found(&id))?;
    ok(p.to_json())
}

async fn create(AxumState(s): State, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    b.only(&["identifier", "type", "database_ids"])?;
    let identifier = b.string("identifier")?;
    let policy_type = b.string("type")?.to_ascii_uppercase();
    if !POLICY_TYPES.contains(&policy_type.as_str()) {
        return Err(Fail::bad_request(format!(
            "type must be one of {}",
            POLICY_TYPES.join(", ")
        )));
    }
    if !CREATABLE.contains(&policy_type.as_str()) {
        return Err(Fail::bad_request(format!(
            "the sandbox creates {} policies only",
            CREATABLE.join(" and ")
        )));
    }
    let database_ids = match b.0.get("database_ids") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut ids = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match field_int(&format!("database_ids[{i}]"), Some(item))? {
                    Some(id) => ids.push(id),
                    None => return Err(Fail::bad_request("database_ids must list numbers")),
                }
            }
            Some(ids)
        }
        Some(other) => {
            return Err(Fail::bad_request(format!(
                "database_ids must be a list of database ids, not {}",
                type_name(other)
            )))
        }
    };
    let mut org = lock(&s.org);
    match (policy_type.as_str(), &database_ids) {
        ("TAG", Some(_)) => {
            return Err(Fail::bad_request(
                "database_ids is not allowed on a TAG policy (it applies wherever the tag is connected)",
            ))
        }
        ("TAG", None) => {
            if !org.tags.values().any(|t| t.tag_name == identifier) {
                let hint = org
                    .tags
                    .values()
                    .find(|t| t.tag_name.eq_ignore_ascii_case(&identifier))
                    .map(|t| format!(" (tag names are case-sensitive: did you mean {}?)", t.tag_name))
                    .unwrap_or_else(|| " ; connect it first".into());
                return Err(Fail::bad_request(format!(
                    "No connected tag named '{identifier}'{hint}"
                )));
            }
        }
        (_, None) => {
            return Err(Fail::bad_request(format!(
                "database_ids is required for a {policy_type} policy"
            )))
        }
        (_, Some(ids)) => {
            if ids.is_empty() {
                return Err(Fail::bad_request("database_ids must not be empty"));
            }
            if let Some(missing) = ids.iter().find(|id| !org.databases.contains_key(id)) {
                return Err(Fail::bad_request(format!(
                    "database_ids: database {missing} does not exist"
                )));
            }
        }
    }
    if let Some(existing) = org
        .policies
        .values()
        .find(|p| p.policy_type == policy_type && p.identifier.eq_ignore_ascii_case(&identifier))
    {
        return Err(Fail::conflict(format!(
            "A {policy_type} policy for tag '{identifier}' already exists: {}",
            existing.policy_id
        )));
    }
    let id = insert_policy(&mut org, &identifier, &policy_type, database_ids);
    created(json!({"policy_id": id}))
}

async fn delete(AxumState(s): State, Path(id): Path<String>) -> Reply {
    let mut org = lock(&s.org);
    let p = org
        .policies
        .remove(&id)
        .ok_or_else(|| policy_not_found(&id))?;
    ok(json!({"policy_id": p.policy_id, "deleted": true, "rules_deleted": p.rules.len()}))
}

/// The group a rule is listed under: a stable hash of its role.
fn rule_hash(role: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in role.to_ascii_lowercase().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

async fn list_rules(AxumState(s): State, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Reply {
    let q = Query::parse(raw);
    let after = cursor(&q, "rule_id")?;
    let limit = q.number("limit", RULE_PAGE, 1, 100)?;
    let org = lock(&s.org);
    let p = org.policies.get(&id).ok_or_else(|| policy_not_found(&id))?;
    let mut rest = p
        .rules
        .values()
        .filter(|r| after.as_deref().is_none_or(|a| r.rule_id.as_str() > a));
    let rules: Vec<&Rule> = rest.by_ref().take(limit as usize).collect();
    let more = rest.next().is_some();
    let mut items: Map<String, Value> = Map::new();
    for r in &rules {
        let group = items
            .entry(rule_hash(&r.role))
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = group {
            list.push(to_json(r));
        }
    }
    let last_evaluated_key = match rules.last() {
        Some(r) if more => json!({"rule_id": r.rule_id, "policy_id": p.policy_id}),
        _ => Value::Null,
    };
    ok(json!({
        "items": items,
        "count": rules.len(),
        "last_evaluated_key": last_evaluated_key,
    }))
}

async fn read_rule(
    AxumState(s): State,
    Path((policy_id, rule_id)): Path<(String, String)>,
) -> Reply {
    let org = lock(&s.org);
    let p = org
        .policies
        .get(&policy_id)
        .ok_or_else(|| policy_not_found(&policy_id))?;
    let r = p
        .rules
        .get(&rule_id)
        .ok_or_else(|| rule_not_found(&rule_id))?;
    ok(to_json(r))
}

/// The role as the org spells it.
fn known_role(org: &Org, at: &str, role: &str) -> Result<String, Fail> {
    org.roles
        .iter()
        .find(|r| r.eq_ignore_ascii_case(role.trim()))
        .cloned()
        .ok_or_else(|| {
            Fail::bad_request(format!(
                "{at}.role: '{role}' is not a role in this org (see GET /api/userGroups)"
            ))
        })
}

/// Check a rule object's fields (`at` names it in messages). With `complete`, role, tag_value and
/// masking_policy are required.
fn rule_fields(
    org: &Org,
    policy: &Policy,
    at: &str,
    rule: &Map<String, Value>,
    complete: bool,
) -> Result<RuleFields, Fail> {
    if let Some(k) = rule.keys().find(|k| !RULE_FIELDS.contains(&k.as_str())) {
        return Err(Fail::bad_request(format!(
            "{at}.{k} is not a rule field; allowed: {}",
            RULE_FIELDS.join(", ")
        )));
    }
    let level = field_int(&format!("{at}.masking_policy"), rule.get("masking_policy"))?;
    let role = field_string(&format!("{at}.role"), rule.get("role"))?;
    let tag_value = field_string(&format!("{at}.tag_value"), rule.get("tag_value"))?;
    if complete {
        for (name, missing) in [
            ("masking_policy", level.is_none()),
            ("role", role.is_none()),
            ("tag_value", tag_value.is_none()),
        ] {
            if missing {
                return Err(Fail::bad_request(format!("{at}.{name} is required")));
            }
        }
    }
    if let Some(l) = level {
        let allowed = allowed_levels(&policy.policy_type);
        if !allowed.contains(&l) {
            return Err(Fail::bad_request(format!(
                "{at}.masking_policy {l} is not supported on a {} policy; use {} to {}",
                policy.policy_type,
                allowed.start(),
                allowed.end()
            )));
        }
    }
    let role = match role {
        Some(r) => Some(known_role(org, at, &r)?),
        None => None,
    };
    Ok(RuleFields {
        masking_policy: level,
        role,
        tag_value,
        access_rate_thresholds: thresholds(at, "access_rate_thresholds", rule, access_rate)?,
        time_window_thresholds: thresholds(at, "time_window_thresholds", rule, time_window)?,
    })
}

fn thresholds(
    at: &str,
    key: &str,
    rule: &Map<String, Value>,
    check: fn(&Map<String, Value>) -> Result<(), String>,
) -> Result<Option<Value>, Fail> {
    match rule.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let Value::Object(o) = item else {
                    return Err(Fail::bad_request(format!(
                        "{at}.{key}[{i}] must be an object"
                    )));
                };
                check(o).map_err(|m| Fail::bad_request(format!("{at}.{key}[{i}].{m}")))?;
            }
            Ok(Some(Value::Array(items.clone())))
        }
        Some(_) => Err(Fail::bad_request(format!("{at}.{key} must be a list"))),
    }
}

fn only_keys(o: &Map<String, Value>, keys: &[&str]) -> Result<(), String> {
    match o.keys().find(|k| !keys.contains(&k.as_str())) {
        Some(k) => Err(format!("{k} is not allowed here")),
        None => Ok(()),
    }
}

fn text(o: &Map<String, Value>, key: &str) -> Result<(), String> {
    match o.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(()),
        _ => Err(format!("{key} is required (text)")),
    }
}

fn access_rate(o: &Map<String, Value>) -> Result<(), String> {
    only_keys(o, &["access_rate_unit", "access_rate_limit", "action"])?;
    text(o, "access_rate_unit")?;
    text(o, "action")?;
    match o.get("access_rate_limit").and_then(Value::as_i64) {
        Some(n) if n >= 1 => Ok(()),
        _ => Err("access_rate_limit must be a whole number of at least 1".into()),
    }
}

fn clock(o: &Map<String, Value>, key: &str) -> Result<(), String> {
    let Some(Value::Object(t)) = o.get(key) else {
        return Err(format!("{key} must be {{hour, minute}}"));
    };
    only_keys(t, &["hour", "minute"]).map_err(|m| format!("{key}.{m}"))?;
    let hour = t.get("hour").and_then(Value::as_i64);
    let minute = t.get("minute").and_then(Value::as_i64);
    match (hour, minute) {
        (Some(h), Some(m)) if (0..=23).contains(&h) && (0..=59).contains(&m) => Ok(()),
        _ => Err(format!("{key} needs hour 0-23 and minute 0-59")),
    }
}

fn time_window(o: &Map<String, Value>) -> Result<(), String> {
    only_keys(o, &["day", "start_time", "end_time", "timezone", "action"])?;
    match o.get("day") {
        Some(Value::Array(days))
            if !days.is_empty()
                && days.iter().all(|d| {
                    d.as_str()
                        .is_some_and(|d| DAYS.contains(&d.to_ascii_uppercase().as_str()))
                }) => {}
        _ => return Err("day must list days such as MONDAY".into()),
    }
    clock(o, "start_time")?;
    clock(o, "end_time")?;
    text(o, "timezone")?;
    text(o, "action")
}

enum BatchOp {
    Put(RuleFields),
    Delete(String),
}

async fn batch(AxumState(s): State, Path(id): Path<String>, body: Bytes) -> Reply {
    let b = Body::parse(&body)?;
    b.only(&["rules"])?;
    let entries = match b.0.get("rules") {
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(Fail::bad_request(format!(
                "rules must be a list, not {}",
                type_name(other)
            )))
        }
        None => return Err(Fail::bad_request("rules is required")),
    };
    if entries.is_empty() || entries.len() > MAX_BATCH {
        return Err(Fail::bad_request(format!(
            "a batch holds 1 to {MAX_BATCH} rules; this one has {}",
            entries.len()
        )));
    }
    let mut org = lock(&s.org);
    let policy = org.policies.get(&id).ok_or_else(|| policy_not_found(&id))?;
    let mut ops = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("rules[{i}]");
        let Value::Object(entry) = entry else {
            return Err(Fail::bad_request(format!(
                "{at} must be {{\"action\": \"PUT\", \"rule\": {{...}}}}"
            )));
        };
        if let Some(k) = entry.keys().find(|k| *k != "action" && *k != "rule") {
            return Err(Fail::bad_request(format!(
                "{at}.{k} is not allowed; an entry is {{action, rule}}"
            )));
        }
        let action = field_string(&format!("{at}.action"), entry.get("action"))?
            .map(|a| a.to_ascii_uppercase())
            .ok_or_else(|| Fail::bad_request(format!("{at}.action is required (PUT or DELETE)")))?;
        let Some(Value::Object(rule)) = entry.get("rule") else {
            return Err(Fail::bad_request(format!("{at}.rule must be an object")));
        };
        let rule_at = format!("{at}.rule");
        match action.as_str() {
            "PUT" => ops.push(BatchOp::Put(rule_fields(
                &org, policy, &rule_at, rule, true,
            )?)),
            "DELETE" => {
                let rule_id = field_string(&format!("{rule_at}.rule_id"), rule.get("rule_id"))?
                    .ok_or_else(|| {
                        Fail::bad_request(format!("{rule_at}.rule_id is required to DELETE"))
                    })?;
                if !policy.rules.contains_key(&rule_id) {
                    return Err(rule_not_found(&rule_id));
                }
                ops.push(BatchOp::Delete(rule_id));
            }
            _ => {
                return Err(Fail::bad_request(format!(
                    "{at}.action must be PUT or DELETE"
                )))
            }
        }
    }
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        match op {
            BatchOp::Put(fields) => {
                if let Some((rule_id, new)) = put_rule(&mut org, &id, fields) {
                    results.push(json!({
                        "action": "PUT",
                        "rule_id": rule_id,
                        "status": if new { "CREATED" } else { "UPDATED" },
                    }));
                }
            }
            BatchOp::Delete(rule_id) => {
                if let Some(p) = org.policies.get_mut(&id) {
                    p.rules.remove(&rule_id);
                    p.updated_at = now();
                }
                results.push(json!({"action": "DELETE", "rule_id": rule_id, "status": "DELETED"}));
            }
        }
    }
    let rule_count = org.policies.get(&id).map(|p| p.rules.len()).unwrap_or(0);
    ok(json!({"policy_id": id, "results": results, "rule_count": rule_count}))
}

async fn update_rule(
    AxumState(s): State,
    Path((policy_id, rule_id)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    let b = Body::parse(&body)?;
    if b.0.is_empty() {
        return Err(Fail::bad_request(format!(
            "nothing to update; give at least one of {}",
            RULE_FIELDS.join(", ")
        )));
    }
    let mut org = lock(&s.org);
    let policy = org
        .policies
        .get(&policy_id)
        .ok_or_else(|| policy_not_found(&policy_id))?;
    let current = policy
        .rules
        .get(&rule_id)
        .ok_or_else(|| rule_not_found(&rule_id))?;
    let f = rule_fields(&org, policy, "rule", &b.0, false)?;
    let role = f.role.clone().unwrap_or_else(|| current.role.clone());
    let tag_value = f
        .tag_value
        .clone()
        .unwrap_or_else(|| current.tag_value.clone());
    if let Some(other) = policy
        .rules
        .values()
        .find(|r| r.rule_id != rule_id && r.role == role && r.tag_value == tag_value)
    {
        return Err(Fail::conflict(format!(
            "Rule {} already covers role {role} and tag value {tag_value}",
            other.rule_id
        )));
    }
    let Some(rule) = org
        .policies
        .get_mut(&policy_id)
        .and_then(|p| p.rules.get_mut(&rule_id))
    else {
        return Err(rule_not_found(&rule_id));
    };
    rule.role = role;
    rule.tag_value = tag_value;
    if let Some(l) = f.masking_policy {
        rule.masking_policy = l;
    }
    if f.access_rate_thresholds.is_some() {
        rule.access_rate_thresholds = f.access_rate_thresholds;
    }
    if f.time_window_thresholds.is_some() {
        rule.time_window_thresholds = f.time_window_thresholds;
    }
    rule.updated_at = now();
    ok(to_json(rule))
}

async fn delete_rule(
    AxumState(s): State,
    Path((policy_id, rule_id)): Path<(String, String)>,
) -> Reply {
    let mut org = lock(&s.org);
    let policy = org
        .policies
        .get_mut(&policy_id)
        .ok_or_else(|| policy_not_found(&policy_id))?;
    let rule = policy
        .rules
        .remove(&rule_id)
        .ok_or_else(|| rule_not_found(&rule_id))?;
    policy.updated_at = now();
    ok(json!({"rule_id": rule.rule_id, "policy_id": policy_id, "deleted": true}))
}

async fn supported_masking_types(RawQuery(raw): RawQuery) -> Reply {
    let q = Query::parse(raw);
    let policy_type = q
        .get("policy_type")
        .map(|t| t.trim().to_ascii_lowercase())
        .ok_or_else(|| {
            Fail::bad_request("policy_type is required (tag, tag_pushdown or column)")
        })?;
    let database_type = q
        .get("database_type")
        .map(|d| d.trim().to_ascii_lowercase());
    if let Some(d) = &database_type {
        if d != "snowflake" && d != "databricks" {
            return Err(Fail::bad_request(
                "database_type must be snowflake or databricks",
            ));
        }
    }
    let top = match policy_type.as_str() {
        "tag" => 10004,
        "tag_pushdown" if database_type.as_deref() == Some("databricks") => 10004,
        "tag_pushdown" => 10009,
        "column" => {
            match q.get("field_id").map(|f| f.trim().parse::<i64>()) {
                Some(Ok(_)) => {}
                Some(Err(_)) => return Err(Fail::bad_request("field_id must be a number")),
                None => {
                    return Err(Fail::bad_request(
                        "field_id is required when policy_type is column",
                    ))
                }
            }
            10009
        }
        _ => {
            return Err(Fail::bad_request(
                "policy_type must be tag, tag_pushdown or column",
            ))
        }
    };
    let types: Vec<Value> = MASKING_TYPES
        .iter()
        .filter(|(level, _, _)| *level <= top || *level == 10010)
        .map(|(level, name, description)| {
            json!({"masking_type": level, "name": name, "description": description})
        })
        .collect();
    ok(Value::Array(types))
}

async fn user_groups(AxumState(s): State, RawQuery(raw): RawQuery) -> Reply {
    let q = Query::parse(raw);
    let offset = q.number("offset", 0, 0, u64::from(u32::MAX))?;
    let limit = q.number("limit", ROLE_PAGE, 1, 100)?;
    let org = lock(&s.org);
    let groups: Vec<Value> = page(&org.roles, offset, limit)
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            json!({
                "userGroupName": name,
                "userGroupId": offset.saturating_add(i as u64).saturating_add(1),
            })
        })
        .collect();
    ok(json!({"userGroups": groups, "count": org.roles.len()}))
}
