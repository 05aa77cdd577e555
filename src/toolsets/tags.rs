//! Tags: Snowflake object tags connected to ALTR for tag-based masking.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::databases::find_database;
use crate::client::{path, seg, ApiRequest, Method, Service::Api};
use crate::registry::args::{NoParams, OneOrMany};
use crate::registry::paging::{collect_pages, Collected, More, NextPage, Pages};
use crate::registry::params::{Id, Name};
use crate::registry::{Ctx, Effect, ToolDef, ToolError, Toolset};
use crate::wire_enum;

pub static SET: Toolset = Toolset {
    id: "tags",
    title: "Tags",
    description: "Snowflake object tags connected to ALTR for tag-based masking, and their values.",
    in_default: true,
    tools,
};

wire_enum! {
    /// How a tag's columns are protected.
    pub enum ProtectionType {
        Governed = "governed",
        GovernedPushdown = "governed-pushdown",
        TokenizedVault = "tokenized-vault",
        EncryptionFpe = "encryption-fpe",
    }
}

wire_enum! {
    /// The character set format-preserving encryption keeps.
    pub enum Alphabet { Numeric = "numeric", Alphabetic = "alphabetic", Alphanumeric = "alphanumeric" }
}

// Parameters without a `///` doc have no description in tools/list, where their tool's
// description names them; each carries a doc-only long form (`#[schemars(extend("x-doc" = ...))]`)
// that the reference, `docs/index.md`, shows. Parameters many tools share (`limit` and the page
// cursors) are documented once instead (`registry::args::SHARED_PARAMETERS`).
// Nested shapes are listed collapsed (`schemars(with)`), stated in the field's `///` doc or its
// long form; the field's own type still parses and validates them.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagGroupId {
    #[schemars(extend("x-doc" = "The connected tag's id, as get_tags returns it (tag_group_id)."))]
    pub tag_group_id: Name,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagName {
    #[schemars(extend("x-doc" = "The tag's name; it is sent as the API's filter, and the values of the matching tag are returned."))]
    pub tag_name: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagDetails {
    #[schemars(extend("x-doc" = "The numeric id of the database the tag is connected in, from get_databases."))]
    pub database_id: Id,
    #[schemars(extend("x-doc" = "The database's real name in Snowflake (databaseName in get_databases), not its friendly name."))]
    pub database_name: String,
    #[schemars(extend("x-doc" = "The tag's name in Snowflake."))]
    pub tag_name: String,
    #[schemars(extend("x-doc" = "The Snowflake schema the tag is defined in."))]
    pub schema_name: String,
    #[serde(rename(serialize = "protection-type"))]
    #[schemars(extend("x-doc" = "Return only the configuration of this protection type: governed, governed-pushdown, tokenized-vault or encryption-fpe (sent as protection-type). Omit for no filter."))]
    pub protection_type: Option<ProtectionType>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FpeOptions {
    /// Character set kept by format-preserving encryption.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alphabet: Option<Alphabet>,
    /// Whether short values are padded before encryption.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_padded: Option<bool>,
    /// Key name (see list_keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// Tweak name (see list_tweaks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tweak_name: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTag {
    #[schemars(extend("x-doc" = "The connected tag's id, as get_tags returns it."))]
    pub tag_group_id: String,
    #[schemars(extend("x-doc" = "The numeric id of the database the tag is connected in, from get_databases or get_tags."))]
    pub database_id: Id,
    #[schemars(extend("x-doc" = "The name ALTR shows for the tag."))]
    pub friendly_name: String,
    #[schemars(extend("x-doc" = "How the tag's columns are protected: governed, governed-pushdown, tokenized-vault or encryption-fpe. Default governed: the configuration is replaced, so omitting it sets governed."))]
    pub protection_type: Option<ProtectionType>,
    #[serde(default)]
    #[schemars(extend("x-doc" = "Whether the tag's custom role provider is enabled (sent as custom_role_provider.enabled); default false, which the replacement sets when omitted."))]
    pub custom_role_provider_enabled: bool,
    #[schemars(extend("x-doc" = "The data types the masking applies to, as one name or a list (a single name is sent as a one-item list); left out of the new configuration when omitted."))]
    pub mask_data_type_list: Option<OneOrMany<String>>,
    /// {alphabet:numeric|alphabetic|alphanumeric,is_padded,key_name,tweak_name}; encryption-fpe only
    #[schemars(with = "Option<Map<String, Value>>")]
    pub encryption_fpe_options: Option<FpeOptions>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagLocation {
    #[schemars(extend("x-doc" = "The numeric id of the database the tag is connected in, from get_databases."))]
    pub database_id: Id,
    #[schemars(extend("x-doc" = "The database's real name in Snowflake (databaseName in get_databases), not its friendly name."))]
    pub database_name: String,
    #[schemars(extend("x-doc" = "The Snowflake schema the tag is defined in."))]
    pub schema_name: String,
    #[schemars(extend("x-doc" = "The tag's name in Snowflake."))]
    pub tag_name: String,
    #[serde(default)]
    #[schemars(extend("x-doc" = "true disconnects the tag even if ALTR's clean-up in Snowflake fails; default false. Always sent, in the query."))]
    pub ignore_errors: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectTag {
    #[schemars(extend("x-doc" = "The database's friendly name in ALTR (friendlyDatabaseName in get_databases); its id and real name are looked up from it."))]
    pub database_name: String,
    #[schemars(extend("x-doc" = "The Snowflake schema the tag is defined in."))]
    pub schema_name: String,
    #[schemars(extend("x-doc" = "The name of an existing Snowflake tag to connect; it also becomes the tag's friendly name in ALTR."))]
    pub tag_name: String,
}

async fn get_tags(ctx: Ctx) -> Result<Value, ToolError> {
    let pages = Pages {
        items: &["/items", "/data/items"],
        next: NextPage::Offset {
            param: "offset",
            more: More::Flag(&["/has_more", "/data/has_more"]),
        },
    };
    let tags = collect_pages(&ctx, ApiRequest::get(Api, "/v1/tag/masking"), pages).await?;
    Ok(tags.result("items"))
}

async fn get_tag_values(ctx: Ctx, p: TagName) -> Result<Value, ToolError> {
    Ok(tag_values(&ctx, &p.tag_name).await?.result("tags"))
}

/// Every value record of a tag (preview_masking reads them too).
pub(crate) async fn tag_values(ctx: &Ctx, tag_name: &str) -> Result<Collected, ToolError> {
    let pages = Pages {
        items: &["/tags", "/data/tags"],
        next: NextPage::Offset {
            param: "offset",
            more: More::Total(&["/totals/tagCount", "/data/totals/tagCount"]),
        },
    };
    let first = ApiRequest::get(Api, "/v1/dis/tags/v2/tags/list").query("filter", tag_name);
    collect_pages(ctx, first, pages).await
}

async fn connect_tag(ctx: Ctx, p: ConnectTag) -> Result<Value, ToolError> {
    let Some(db) = find_database(&ctx, &p.database_name).await? else {
        return Err(ToolError::Failed {
            code: "not_found",
            message: format!(
                "Database '{}' not found in ALTR; call get_databases and use its friendlyDatabaseName.",
                p.database_name
            ),
            details: None,
        });
    };
    let database_id = db.get("id").cloned().unwrap_or(Value::Null);
    let database_name = db
        .get("databaseName")
        .and_then(Value::as_str)
        .unwrap_or(&p.database_name);
    // The tag's connection as it is now: `null` when it is not connected (404).
    let location = path(
        "/v1/tag/masking/database/{}/database-name/{}/tag-name/{}/schema-name/{}",
        &[
            seg("database_id", &database_id),
            seg("database_name", database_name),
            seg("tag_name", &p.tag_name),
            seg("schema_name", &p.schema_name),
        ],
    )?;
    let before = match ctx.send(ApiRequest::get(Api, &location)).await {
        Err(ToolError::Api(e)) if e.status() == Some(404) => Ok(Value::Null),
        other => other,
    };
    let body = json!({
        "database_id": database_id,
        "database_name": database_name,
        "schema_name": p.schema_name,
        "tag_name": p.tag_name,
        "friendly_name": p.tag_name,
        "masking": {"custom_role_provider": {"enabled": false}, "protection_type": "governed"},
    });
    let response = ctx
        .send(ApiRequest::put(Api, "/v1/tag/masking/").json(body))
        .await?;
    let details = response.get("data").cloned().unwrap_or(response.clone());
    let status = details
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_uppercase();
    let job_id = details.get("job_id").cloned().unwrap_or(Value::Null);
    // A 2xx answer that says `success: false` is a failure too, not a connected tag.
    let refused = response.get("success").and_then(Value::as_bool) == Some(false);
    match status.as_str() {
        _ if status == "FAILED" || refused => Err(ToolError::Failed {
            code: "tag_connection_failed",
            message: format!(
                "Tag connection failed: {}",
                details
                    .get("error_message")
                    .or_else(|| response.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or("ALTR gave no reason")
            ),
            details: Some(details),
        }),
        "PENDING" => Ok(with_before(
            json!({
                "status": "PENDING",
                "message": format!("Connecting tag {} is in progress (job {}); check again with get_tags.", p.tag_name, job_id),
                "job_id": job_id,
            }),
            before,
            details,
        )),
        "SUCCESS" | "" => Ok(with_before(
            json!({
                "status": "SUCCESS",
                "message": format!("Tag {} connected for database {}, schema {}.", p.tag_name, p.database_name, p.schema_name),
                "job_id": job_id,
            }),
            before,
            details,
        )),
        other => Ok(with_before(
            json!({
                "status": other,
                "message": format!("ALTR reports status {other} for connecting tag {} (job {}); check with get_tags.", p.tag_name, job_id),
                "job_id": job_id,
            }),
            before,
            details,
        )),
    }
}

/// A connect answer with `{before, after}`: the connection read first and the API's answer.
fn with_before(mut answer: Value, before: Result<Value, ToolError>, after: Value) -> Value {
    if let (Value::Object(out), Value::Object(extra)) = (
        &mut answer,
        crate::registry::request::before_after(before, after),
    ) {
        out.extend(extra);
    }
    answer
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        SET.tool("get_tags", "List connected tags", Effect::ReadOnly)
            .description("Connected Snowflake tags: tag_group_id, database, schema, masking settings.")
            .handler(|ctx: Ctx, _: NoParams| get_tags(ctx)),
        SET.tool("disconnect_tag", "Disconnect tag", Effect::Destructive)
            .formerly(&["delete_tag"])
            .description("Disconnect tag tag_group_id; delete its policies first. Returns {before, after}.")
            .before("/v1/tag/masking/tag/{tag_group_id}")
            .request::<TagGroupId>(Method::DELETE, Api, "/v1/tag/masking/tag/{tag_group_id}"),
        SET.tool("get_tag_values", "List tag values", Effect::ReadOnly)
            .description("Values of Snowflake tag tag_name in connected databases: the tag_value masking rules match.")
            .handler(get_tag_values),
        SET.tool("get_tag_details_by_group_id", "Get tag by id", Effect::ReadOnly)
            .description("Tag tag_group_id: details and masking configuration.")
            .request::<TagGroupId>(Method::GET, Api, "/v1/tag/masking/tag/{tag_group_id}"),
        SET.tool("get_tag_details", "Get tag by location", Effect::ReadOnly)
            .description("Connected tag by database_id, database_name (real name), schema_name, tag_name; protection_type filters.")
            .request::<TagDetails>(
                Method::GET,
                Api,
                "/v1/tag/masking/database/{database_id}/database-name/{database_name}/tag-name/{tag_name}/schema-name/{schema_name}",
            ),
        SET.tool("update_tag", "Update tag masking", Effect::Idempotent)
            .description("Replace tag_group_id's masking config (with database_id, friendly_name): protection_type (default governed), custom_role_provider_enabled, mask_data_type_list, encryption_fpe_options.")
            .handler(|ctx: Ctx, p: UpdateTag| async move {
                let protection = p.protection_type.unwrap_or(ProtectionType::Governed);
                if p.encryption_fpe_options.is_some() && protection != ProtectionType::EncryptionFpe {
                    return Err(ToolError::invalid("encryption_fpe_options", "only applies with protection_type encryption-fpe"));
                }
                let mut masking = serde_json::Map::new();
                masking.insert("protection_type".into(), json!(protection));
                masking.insert("custom_role_provider".into(), json!({"enabled": p.custom_role_provider_enabled}));
                if let Some(types) = p.mask_data_type_list {
                    masking.insert("mask_data_type_list".into(), json!(types.into_vec()));
                }
                if let Some(fpe) = p.encryption_fpe_options {
                    masking.insert("encryption_fpe_options".into(), json!(fpe));
                }
                let body = json!({
                    "database_id": p.database_id,
                    "friendly_name": p.friendly_name,
                    "masking": masking,
                });
                let path = path("/v1/tag/masking/tag/{}", &[seg("tag_group_id", &p.tag_group_id)])?;
                ctx.send(ApiRequest::put(Api, path).json(body)).await
            }),
        SET.tool("disconnect_tag_by_details", "Disconnect tag by location", Effect::Destructive)
            .formerly(&["delete_tag_by_details"])
            .description("Disconnect tag by database_id, database_name (real name), schema_name, tag_name; delete its policies first; ignore_errors: even if Snowflake clean-up fails.")
            .body_always()
            .in_query(&["ignore_errors"])
            .request::<TagLocation>(Method::DELETE, Api, "/v1/tag/masking/"),
        SET.tool("connect_tag", "Connect Snowflake tag", Effect::Additive)
            .description("Connect existing Snowflake tag tag_name in schema_name of friendly database_name to ALTR, as governed; id and real name are looked up. Returns {before (null if new), after}.")
            .handler(connect_tag),
    ]
}
