//! Access governance: access management policies (which roles may read or write which Snowflake
//! objects or OLTP columns) and access requests (asking for such access, and approving, denying or
//! cancelling the request).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Map, Value};

use crate::client::{path, seg_decoded, ApiRequest, Method, Service::Api};
use crate::registry::args::JsonOr;
use crate::registry::params::{Cursor, Id, Limit, Name, NonEmpty};
use crate::registry::{untrusted, Ctx, Effect, ToolDef, ToolError, Toolset};
use crate::wire_enum;

pub static SET: Toolset = Toolset {
    id: "access",
    title: "Access management and requests",
    description: "Access management policies (which roles may read or write which Snowflake objects or OLTP columns) and access requests with their approval.",
    in_default: true,
    tools,
};

const AM_PATH: &str = "/v1/unified-policy/management/policy/accessManagement";

wire_enum! {
    /// Who a Snowflake rule applies to.
    pub enum SnowflakeActorType { Role = "role" }
}

wire_enum! {
    /// How identifiers are matched.
    pub enum ActorCondition { Equals = "equals", StartsWith = "starts_with", EndsWith = "ends_with" }
}

wire_enum! {
    /// What a Snowflake rule covers.
    pub enum ObjectType { Database = "database", Schema = "schema", Table = "table", View = "view" }
}

wire_enum! {
    /// How object identifiers are matched.
    pub enum ObjectCondition {
        Equals = "equals",
        StartsWith = "starts_with",
        EndsWith = "ends_with",
        FullyQualified = "fully_qualified",
    }
}

wire_enum! {
    /// A kind of access.
    pub enum AccessKind { Read = "read", Write = "write" }
}

wire_enum! {
    /// Who an OLTP rule applies to.
    pub enum OltpActorType { IdpUser = "idp_user", IdpGroup = "idp_group" }
}

wire_enum! {
    /// How OLTP actor identifiers are matched.
    pub enum OltpCondition { Equals = "equals" }
}

wire_enum! {
    /// What an OLTP rule covers.
    pub enum OltpObjectType { Column = "column" }
}

wire_enum! {
    /// The access an OLTP rule grants.
    pub enum OltpAccess { Read = "read" }
}

wire_enum! {
    /// How often an access policy is checked.
    pub enum MaintenanceRate { Day = "day", Cron = "cron" }
}

wire_enum! {
    /// Whether OLTP identifiers match case-sensitively.
    pub enum CaseSensitivity { CaseSensitive = "case_sensitive", CaseInsensitive = "case_insensitive" }
}

wire_enum! {
    /// The state of an access request.
    pub enum RequestStatus {
        Open = "OPEN",
        Pending = "PENDING",
        PendingApproved = "PENDING_APPROVED",
        ClosedApproved = "CLOSED_APPROVED",
        PendingDenied = "PENDING_DENIED",
        ClosedDenied = "CLOSED_DENIED",
        PendingCancelled = "PENDING_CANCELLED",
        ClosedCancelled = "CLOSED_CANCELLED",
        Closed = "CLOSED",
        Failed = "FAILED",
    }
}

wire_enum! {
    /// Sort order by creation time.
    pub enum SortOrder { Asc = "asc", Desc = "desc" }
}

/// Who a Snowflake access rule applies to.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SnowflakeActor {
    /// Always `role`.
    #[serde(rename = "type")]
    pub kind: SnowflakeActorType,
    /// How the identifiers match role names.
    pub condition: ActorCondition,
    /// Role names (or prefixes/suffixes).
    pub identifiers: NonEmpty<String>,
}

/// What a Snowflake access rule covers.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(try_from = "ObjectFields")]
pub struct SnowflakeObject {
    /// database, schema, table or view.
    #[serde(rename = "type")]
    pub kind: ObjectType,
    /// How identifiers match; `fully_qualified` uses fully_qualified_identifiers.
    pub condition: ObjectCondition,
    /// Object names (or prefixes/suffixes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifiers: Option<NonEmpty<String>>,
    /// Objects as {database, schema, table, view} (condition fully_qualified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fully_qualified_identifiers: Option<NonEmpty<Map<String, Value>>>,
}

/// A [`SnowflakeObject`] before its condition and identifiers are checked against each other.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectFields {
    /// database, schema, table or view.
    #[serde(rename = "type")]
    kind: ObjectType,
    /// How identifiers match; `fully_qualified` uses fully_qualified_identifiers.
    condition: ObjectCondition,
    /// Object names (or prefixes/suffixes); not with fully_qualified.
    #[serde(default)]
    identifiers: Option<NonEmpty<String>>,
    /// Objects as {database, schema, table, view}; only with condition fully_qualified.
    #[serde(default)]
    fully_qualified_identifiers: Option<NonEmpty<Map<String, Value>>>,
}

impl TryFrom<ObjectFields> for SnowflakeObject {
    type Error = String;
    fn try_from(o: ObjectFields) -> Result<Self, String> {
        let qualified = o.condition == ObjectCondition::FullyQualified;
        match (qualified, &o.identifiers, &o.fully_qualified_identifiers) {
            (true, None, Some(_)) | (false, Some(_), None) => Ok(SnowflakeObject {
                kind: o.kind,
                condition: o.condition,
                identifiers: o.identifiers,
                fully_qualified_identifiers: o.fully_qualified_identifiers,
            }),
            (true, _, _) => Err("condition fully_qualified takes fully_qualified_identifiers (and no identifiers)".into()),
            (false, _, _) => Err("give identifiers (and no fully_qualified_identifiers) unless condition is fully_qualified".into()),
        }
    }
}

/// One kind of access a rule grants.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// read or write.
    pub name: AccessKind,
}

/// One Snowflake access rule: these actors get this access to these objects.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SnowflakeRule {
    /// Roles the rule applies to.
    pub actors: NonEmpty<SnowflakeActor>,
    /// Objects the rule covers.
    pub objects: NonEmpty<SnowflakeObject>,
    /// Access granted: [{"name": "read"}] and/or write.
    pub access: NonEmpty<Access>,
    /// Tag-based targeting: [{check_against: [databases|schemas|tables|views], tagged_with: [{database, schema, name, value}], tag_condition: or|and}].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagged_objects: Option<Vec<Map<String, Value>>>,
}

/// Who an OLTP access rule applies to.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OltpActor {
    /// idp_user or idp_group.
    #[serde(rename = "type")]
    pub kind: OltpActorType,
    /// Always `equals`.
    pub condition: OltpCondition,
    /// User or group names.
    pub identifiers: NonEmpty<String>,
}

/// What an OLTP access rule covers.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OltpObject {
    /// Always `column`.
    #[serde(rename = "type")]
    pub kind: OltpObjectType,
    /// Columns as {database, schema, table, column}, each {name, wildcard}.
    pub identifiers: NonEmpty<Map<String, Value>>,
}

/// One OLTP access rule.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OltpRule {
    /// Always `read`.
    #[serde(rename = "type")]
    pub kind: OltpAccess,
    /// Users or groups the rule applies to.
    pub actors: NonEmpty<OltpActor>,
    /// Columns the rule covers.
    pub objects: NonEmpty<OltpObject>,
}

/// When ALTR re-checks the policy.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Maintenance {
    /// `day` (value: every N days) or `cron` (value: a cron expression).
    pub rate: MaintenanceRate,
    /// A number of days or a cron expression.
    pub value: Value,
}

/// Serialize one id as a one-item list (`connection_ids: [id]`).
fn one_item_list<S: Serializer>(id: &Id, s: S) -> Result<S::Ok, S::Error> {
    [id].serialize(s)
}

// Parameters without a `///` doc have no description in tools/list, where their tool's
// description names them; each carries a doc-only long form (`#[schemars(extend("x-doc" = ...))]`)
// that the reference, `docs/index.md`, shows. Parameters many tools share (`limit` and the page
// cursors) are documented once instead (`registry::args::SHARED_PARAMETERS`).
// Nested shapes are listed collapsed (`schemars(with)`), stated in the field's `///` doc or its
// long form; the field's own type still parses and validates them.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSnowflake {
    #[schemars(extend("x-doc" = "The new access policy's name, 1 to 255 characters."))]
    pub policy_name: Name,
    #[schemars(extend("x-doc" = "What the policy is for, 1 to 255 characters; required."))]
    pub description: Name,
    #[serde(rename(serialize = "connection_ids"), serialize_with = "one_item_list")]
    #[schemars(extend("x-doc" = "The Snowflake connection the policy governs: its database_id from get_databases. Sent as a one-item connection_ids list."))]
    pub connection_id: Id,
    /// [{actors:[{type:role,condition:C,identifiers:[..]}],objects:[{type:database|schema|table|view,condition:C|fully_qualified,identifiers:[..]}],access:[{name:read|write}],tagged_objects?:[{check_against:[databases|schemas|tables|views],tagged_with:[{database,schema,name,value}],tag_condition:or|and}]}]; C=equals|starts_with|ends_with; fully_qualified: fully_qualified_identifiers:[{database,schema,table,view}] instead
    #[schemars(with = "Vec<Map<String, Value>>")]
    pub rules: JsonOr<NonEmpty<SnowflakeRule>>,
    #[schemars(with = "Option<Map<String, Value>>")]
    #[schemars(extend("x-doc" = "When ALTR re-checks the policy: {\"rate\": \"day\", \"value\": N} for every N days, or {\"rate\": \"cron\", \"value\": \"<cron expression>\"}; an object or its JSON text. Not sent when omitted."))]
    pub policy_maintenance: Option<JsonOr<Maintenance>>,
    #[schemars(extend("x-doc" = "The id of the access request this policy fulfils, from get_access_requests; not sent when omitted."))]
    pub access_request_id: Option<Name>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOltp {
    #[schemars(extend("x-doc" = "The new access policy's name, 1 to 255 characters."))]
    pub policy_name: Name,
    #[schemars(extend("x-doc" = "What the policy is for, 1 to 255 characters; required."))]
    pub description: Name,
    #[schemars(extend("x-doc" = "The OLTP repository whose columns the policy governs, by its name from list_sc_repos."))]
    pub repo_name: Name,
    #[schemars(extend("x-doc" = "The repository's database type as a number, e.g. 4 (paired with database_type_name, e.g. oracle)."))]
    pub database_type: Id,
    #[schemars(extend("x-doc" = "The repository's database type as a name, e.g. oracle, matching the number in database_type."))]
    pub database_type_name: Name,
    /// [{type:read,actors:[{type:idp_user|idp_group,condition:equals,identifiers:[..]}],objects:[{type:column,identifiers:[{database,schema,table,column}]}]}]; parts {name,wildcard:bool}
    #[schemars(with = "Vec<Map<String, Value>>")]
    pub rules: JsonOr<NonEmpty<OltpRule>>,
    #[serde(default = "case_sensitive")]
    #[schemars(extend("x-doc" = "How the rules' identifiers are matched: case_sensitive (the default) or case_insensitive."))]
    pub case_sensitivity: CaseSensitivity,
}

fn case_sensitive() -> CaseSensitivity {
    CaseSensitivity::CaseSensitive
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSnowflake {
    #[schemars(extend("x-doc" = "The Snowflake access policy's id (ACCESS#...), as create_snowflake_access_policy returned it; ACCESS#x and ACCESS%23x are the same id."))]
    pub policy_id: Name,
    #[schemars(extend("x-doc" = "The policy's name after the update, 1 to 255 characters; required because the policy is replaced."))]
    pub policy_name: Name,
    #[schemars(with = "Vec<Map<String, Value>>")]
    #[schemars(extend("x-doc" = "The policy's complete new rule list, in the same shape as create_snowflake_access_policy's rules (a list or its JSON text, at least one rule). Existing rules left out are removed, which is refused unless replace_all is true."))]
    pub rules: JsonOr<NonEmpty<SnowflakeRule>>,
    #[schemars(extend("x-doc" = "The policy's new description, 1 to 255 characters; not sent when omitted."))]
    pub description: Option<Name>,
    #[serde(default)]
    #[schemars(extend("x-doc" = "Default false: the policy is read first and the update is refused if it would remove an existing rule missing from rules. true replaces the rules without that check."))]
    pub replace_all: bool,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyId {
    #[schemars(extend("x-doc" = "The access policy's id (ACCESS#...), as the tool that created it returned it; ACCESS#x and ACCESS%23x are the same id."))]
    pub policy_id: Name,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    #[schemars(extend("x-doc" = "Who asks for the access, sent as requester_identity.requester."))]
    pub requester: Name,
    #[schemars(extend("x-doc" = "Why the access is needed, for the approvers; must not be empty."))]
    pub justification: Name,
    #[schemars(extend("x-doc" = "The Snowflake connection the access is asked on: its database_id from get_databases."))]
    pub connection_id: Id,
    #[schemars(with = "Vec<Map<String, Value>>")]
    #[schemars(extend("x-doc" = "The access asked for, as rules in the same shape as create_snowflake_access_policy's rules (a list or its JSON text, at least one rule)."))]
    pub rules: JsonOr<NonEmpty<SnowflakeRule>>,
    #[schemars(extend("x-doc" = "The requester's email address, sent in requester_identity; not sent when omitted."))]
    pub email: Option<Name>,
    #[schemars(extend("x-doc" = "The requester's Snowflake role, sent in requester_identity; not sent when omitted."))]
    pub role: Option<Name>,
    /// {account_region,account_name,organization_name}
    pub snowflake_metadata: Option<JsonOr<Map<String, Value>>>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRequests {
    pub limit: Option<Limit<1000>>,
    #[schemars(extend("x-doc" = "List only the requests of this requester. Omit for all."))]
    pub requester: Option<Name>,
    #[schemars(extend("x-doc" = "List only requests in this state: OPEN, PENDING, PENDING_APPROVED, CLOSED_APPROVED, PENDING_DENIED, CLOSED_DENIED, PENDING_CANCELLED, CLOSED_CANCELLED, CLOSED or FAILED. Omit for all."))]
    pub status: Option<RequestStatus>,
    #[schemars(extend("x-doc" = "Order by creation time: asc (oldest first) or desc (newest first). Not sent when omitted."))]
    pub sort: Option<SortOrder>,
    #[schemars(extend("x-doc" = "For the next page: the last_evaluated_key the previous page returned. Omit for the first page."))]
    pub exclusive_start_key: Option<Cursor>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestId {
    #[schemars(extend("x-doc" = "The access request's id, as get_access_requests returns it."))]
    pub request_id: Name,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    #[schemars(extend("x-doc" = "The id of the open access request, as get_access_requests returns it."))]
    pub request_id: Name,
    #[schemars(extend("x-doc" = "The reason for approving, denying or cancelling, kept with the request; must not be empty."))]
    pub justification: Name,
}

/// The rules a policy answer holds, wherever the API put them.
fn current_rules(body: &Value) -> Vec<Value> {
    [
        "/data/rules",
        "/rules",
        "/data/policy/rules",
        "/policy/rules",
    ]
    .iter()
    .find_map(|p| body.pointer(p).and_then(Value::as_array))
    .cloned()
    .unwrap_or_default()
}

/// A rule's substance: its actors, objects, access and tag targeting (not ids or timestamps).
fn rule_key(rule: &Value) -> Value {
    let mut key = Map::new();
    for field in ["actors", "objects", "access", "tagged_objects"] {
        if let Some(v) = rule.get(field).filter(|v| !v.is_null()) {
            key.insert(field.into(), v.clone());
        }
    }
    Value::Object(key)
}

async fn update_snowflake(ctx: Ctx, p: UpdateSnowflake) -> Result<Value, ToolError> {
    let at = path(
        &format!("{AM_PATH}/snowflake/{{}}"),
        &[seg_decoded("policy_id", &p.policy_id)],
    )?;
    let rules = serde_json::to_value(&p.rules)
        .map_err(|e| ToolError::invalid("rules", format!("cannot be sent: {e}")))?;
    // The policy as it is: refused on a failed read unless replace_all, which needs no check.
    let before = ctx.send(ApiRequest::get(Api, at.clone())).await;
    if !p.replace_all {
        let current = before.clone()?;
        let new_keys: Vec<Value> = rules
            .as_array()
            .into_iter()
            .flatten()
            .map(rule_key)
            .collect();
        let removed: Vec<Value> = current_rules(&current)
            .into_iter()
            .filter(|r| !new_keys.contains(&rule_key(r)))
            .collect();
        if !removed.is_empty() {
            return Err(ToolError::Failed {
                code: "would_remove_rules",
                message: format!(
                    "This update replaces the policy's rules and would remove {} existing rule(s) missing from `rules`; nothing was changed. Include them in `rules`, or pass replace_all: true to remove them.",
                    removed.len()
                ),
                details: Some(json!({"rules_removed": removed})),
            });
        }
    }
    let mut body = Map::new();
    body.insert("policy_name".into(), json!(p.policy_name));
    body.insert("rules".into(), rules);
    if let Some(d) = p.description {
        body.insert("description".into(), json!(d));
    }
    let after = ctx
        .send(ApiRequest::put(Api, at).json(Value::Object(body)))
        .await?;
    Ok(crate::registry::request::before_after(before, after))
}

async fn create_request(ctx: Ctx, p: CreateRequest) -> Result<Value, ToolError> {
    let mut identity = Map::new();
    identity.insert("requester".into(), json!(p.requester));
    if let Some(email) = p.email {
        identity.insert("email".into(), json!(email));
    }
    if let Some(role) = p.role {
        identity.insert("role".into(), json!(role));
    }
    let mut body = Map::new();
    body.insert("requester_identity".into(), Value::Object(identity));
    body.insert("justification".into(), json!(p.justification));
    body.insert("connection_id".into(), json!(p.connection_id));
    body.insert("rules".into(), json!(p.rules));
    if let Some(meta) = p.snowflake_metadata {
        body.insert("snowflake_metadata".into(), Value::Object(meta.0));
    }
    let req = ApiRequest::post(Api, "/v1/unified-policy/management/accessRequest")
        .json(Value::Object(body));
    ctx.send(req).await
}

/// The toolset's tools; their answers fence people's free text (see [`untrusted`]).
pub fn tools() -> Vec<ToolDef> {
    vec![
        SET.tool("create_snowflake_access_policy", "Create Snowflake access policy", Effect::Additive)
            .description("Roles may read/write objects of Snowflake connection_id (database_id); checked per policy_maintenance {rate:day|cron,value:N days|cron expr}. policy_name, description: 1-255 chars; access_request_id: request fulfilled. Returns policy_id.")
            .request::<CreateSnowflake>(Method::POST, Api, "/v1/unified-policy/management/policy/accessManagement/snowflake"),
        SET.tool("create_oltp_access_policy", "Create OLTP access policy", Effect::Additive)
            .description("IdP users/groups may read columns of OLTP repository repo_name; database_type and database_type_name e.g. 4, oracle; case_sensitivity of identifiers. policy_name, description: 1-255 chars.")
            .request::<CreateOltp>(Method::POST, Api, "/v1/unified-policy/management/policy/accessManagement/oltp"),
        SET.tool("update_snowflake_access_policy", "Replace Snowflake access policy", Effect::Idempotent)
            .description("Replace policy_id's policy_name, description and ALL rules (as in create_snowflake_access_policy); refuses to drop rules left out unless replace_all. Returns {before, after}.")
            .handler(update_snowflake),
        SET.tool("trigger_access_policy_check", "Run access check", Effect::Additive)
            .description("Run policy_id's access compliance check now.")
            .request::<PolicyId>(Method::PUT, Api, "/v1/unified-policy/management/policy/accessManagement/triggerCheck/{policy_id~}"),
        SET.tool("create_access_request", "Request data access", Effect::Additive)
            .description("Ask approvers for access on connection_id (database_id): requester (optional email, Snowflake role), justification, rules as in create_snowflake_access_policy.")
            .handler(create_request),
        SET.tool("get_access_requests", "List access requests", Effect::ReadOnly)
            .description("Access requests by requester or status, sort by creation time. limit default 10; next page: exclusive_start_key=last_evaluated_key.")
            .request::<ListRequests>(Method::GET, Api, "/v1/unified-policy/management/accessRequest"),
        SET.tool("get_access_request", "Get access request", Effect::ReadOnly)
            .description("Access request request_id: requester, justification, rules, status.")
            .request::<RequestId>(Method::GET, Api, "/v1/unified-policy/management/accessRequest/{request_id~}"),
        SET.tool("approve_access_request", "Approve access request", Effect::Idempotent)
            .description("Approve open request request_id with justification; grants the access to its actors (a role: all of its members) and creates an ACCESS# policy for it. Returns {before, after}.")
            .before("/v1/unified-policy/management/accessRequest/{request_id~}")
            .request::<Decision>(Method::PUT, Api, "/v1/unified-policy/management/accessRequest/{request_id~}/approve"),
        SET.tool("deny_access_request", "Deny access request", Effect::Idempotent)
            .description("Deny open request request_id with justification; grants nothing. Returns {before, after}.")
            .before("/v1/unified-policy/management/accessRequest/{request_id~}")
            .request::<Decision>(Method::PUT, Api, "/v1/unified-policy/management/accessRequest/{request_id~}/deny"),
        SET.tool("cancel_access_request", "Cancel access request", Effect::Idempotent)
            .description("Requester withdraws open request request_id with justification. Returns {before, after}.")
            .before("/v1/unified-policy/management/accessRequest/{request_id~}")
            .request::<Decision>(Method::PUT, Api, "/v1/unified-policy/management/accessRequest/{request_id~}/cancel"),
    ]
    .into_iter()
    .map(untrusted::fenced)
    .collect()
}
