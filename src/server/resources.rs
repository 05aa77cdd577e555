//! Resources a client may attach as context: the masking levels reference, the toolset
//! catalogue, and read-only views of the org (`altr://databases`, `altr://tags`, and the template
//! `altr://policies/{policy_id}`). The org views are read through the server's own read-only
//! tools, so the tool selection, read-only mode and RESTRICTED_TOOLS bound them too.

use rmcp::model::{JsonObject, ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use serde_json::{json, Value};

use super::pipeline::Pipeline;

/// The masking levels reference.
pub const MASKING_LEVELS: &str = "altr://reference/masking-levels";
/// The toolset catalogue.
pub const TOOLSETS_URI: &str = "altr://toolsets";
/// Connected databases.
pub const DATABASES: &str = "altr://databases";
/// Connected tags.
pub const TAGS: &str = "altr://tags";
/// One masking policy's rules.
pub const POLICY_TEMPLATE: &str = "altr://policies/{policy_id}";
const POLICY_PREFIX: &str = "altr://policies/";

/// Every fixed resource, for resources/list.
pub fn list() -> Vec<Resource> {
    vec![
        Resource::new(MASKING_LEVELS, "masking-levels")
            .with_title("Masking levels")
            .with_description("What users see at each masking level 10000-10009, and which policy types accept which.")
            .with_mime_type("text/markdown"),
        Resource::new(TOOLSETS_URI, "toolsets")
            .with_title("Toolsets")
            .with_description("Every toolset: id, title, description and its tools (those this server exposes marked).")
            .with_mime_type("application/json"),
        Resource::new(DATABASES, "databases")
            .with_title("Connected databases")
            .with_description("The database connections registered in ALTR (as get_databases returns them).")
            .with_mime_type("application/json"),
        Resource::new(TAGS, "tags")
            .with_title("Connected tags")
            .with_description("The Snowflake tags connected to ALTR (as get_tags returns them).")
            .with_mime_type("application/json"),
    ]
}

/// Every resource template, for resources/templates/list.
pub fn templates() -> Vec<ResourceTemplate> {
    vec![ResourceTemplate::new(POLICY_TEMPLATE, "policy")
        .with_title("A masking policy's rules")
        .with_description("The rules of one masking policy (as get_rules returns them); policy ids complete from get_policies.")
        .with_mime_type("application/json")]
}

/// Why a resource cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResourceError {
    #[error("Unknown resource '{0}'; see resources/list and resources/templates/list")]
    Unknown(String),
    #[error("Resource '{uri}' is not available: {message}")]
    Unavailable { uri: String, message: String },
}

/// The masking levels section of the server instructions.
fn masking_levels() -> String {
    let text = super::instructions::INSTRUCTIONS;
    let start = text.find("## Masking levels").unwrap_or(0);
    let rest = text.get(start..).unwrap_or_default();
    let end = rest
        .get(3..)
        .and_then(|r| r.find("\n## "))
        .map_or(rest.len(), |i| i + 3);
    rest.get(..end).unwrap_or(rest).trim().to_string()
}

fn catalogue(server: &Pipeline) -> Value {
    let exposed: Vec<&str> = server.registry().tools().iter().map(|t| t.name).collect();
    let sets: Vec<Value> = server
        .registry()
        .toolsets()
        .iter()
        .map(|ts| {
            let tools: Vec<Value> = (ts.tools)()
                .iter()
                .map(|t| json!({"name": t.name, "title": t.title, "exposed": exposed.contains(&t.name)}))
                .collect();
            json!({"id": ts.id, "title": ts.title, "description": ts.description, "tools": tools})
        })
        .collect();
    json!({"toolsets": sets})
}

/// The data of a read-only tool, as the resource's JSON.
async fn view(
    server: &Pipeline,
    uri: &str,
    tool: &str,
    args: Option<JsonObject>,
) -> Result<String, ResourceError> {
    let unavailable = |message: String| ResourceError::Unavailable {
        uri: uri.to_string(),
        message,
    };
    let Some(result) = server.call(tool, args).await else {
        return Err(unavailable(format!("this server has no {tool}")));
    };
    let envelope = result.structured_content.unwrap_or(Value::Null);
    if result.is_error == Some(true) {
        let message = envelope
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("the read failed")
            .to_string();
        return Err(unavailable(message));
    }
    let data = envelope.get("data").cloned().unwrap_or(Value::Null);
    Ok(serde_json::to_string_pretty(&data).unwrap_or_default())
}

/// Read the resource at `uri`.
pub async fn read(server: &Pipeline, uri: &str) -> Result<ReadResourceResult, ResourceError> {
    let (text, mime) = match uri {
        MASKING_LEVELS => (masking_levels(), "text/markdown"),
        TOOLSETS_URI => (
            serde_json::to_string_pretty(&catalogue(server)).unwrap_or_default(),
            "application/json",
        ),
        DATABASES => (
            view(server, uri, "get_databases", None).await?,
            "application/json",
        ),
        TAGS => (
            view(server, uri, "get_tags", None).await?,
            "application/json",
        ),
        _ => match uri.strip_prefix(POLICY_PREFIX).filter(|id| !id.is_empty()) {
            Some(id) => {
                // The id arrives as a URI segment: `TAG#...` is sent as `TAG%23...`.
                let mut args = JsonObject::new();
                args.insert("policy_id".into(), json!(id));
                (
                    view(server, uri, "get_rules", Some(args)).await?,
                    "application/json",
                )
            }
            None => {
                return Err(ResourceError::Unknown(crate::client::error::truncate(
                    uri, 100,
                )))
            }
        },
    };
    Ok(ReadResourceResult::new(vec![ResourceContents::text(
        text, uri,
    )
    .with_mime_type(mime)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_masking_reference_is_the_instructions_section() {
        let m = masking_levels();
        assert!(m.starts_with("## Masking levels"));
        assert!(m.contains("10009") && m.contains("10000-10004"));
        assert!(!m.contains("\n## "), "{m}");
    }
}
