//! MCP Apps (the `io.modelcontextprotocol/ui` extension): a client that declares it, with the
//! `text/html;profile=mcp-app` MIME type, is offered the masking matrix app: the resource
//! `ui://altr/masking-matrix`, `_meta.ui.resourceUri` on the tools that show it, and the matrix
//! in those tools' result `_meta`. A client that does not declare it sees none of this: its
//! tools/list, resources/list and results are what they were. MCP_APPS=false turns apps off.
//!
//! The app is one self-contained HTML file (`src/apps/masking_matrix.html`): no script, style,
//! font or request from anywhere else, so its content security policy lists no domain.

use rmcp::model::{
    ClientCapabilities, JsonObject, MetaObject, ReadResourceResult, Resource, ResourceContents,
    ServerCapabilities, Tool,
};
use serde_json::json;

/// The extension's id in `capabilities.extensions`.
pub const EXTENSION: &str = "io.modelcontextprotocol/ui";
/// The MIME type of an MCP App's HTML.
pub const MIME: &str = "text/html;profile=mcp-app";
/// The masking matrix app, and where a result's `_meta` holds the matrix it draws: named once,
/// by the policies toolset whose tools show it.
pub use crate::toolsets::policies::{MATRIX_APP as MASKING_MATRIX, MATRIX_META};

const MASKING_MATRIX_HTML: &str = include_str!("../apps/masking_matrix.html");

/// Whether the client declared the extension with the app MIME type.
pub fn declared(capabilities: Option<&ClientCapabilities>) -> bool {
    capabilities
        .and_then(|c| c.extensions.as_ref())
        .and_then(|e| e.get(EXTENSION))
        .and_then(|ui| ui.get("mimeTypes"))
        .and_then(|m| m.as_array())
        .is_some_and(|types| types.iter().any(|t| t.as_str() == Some(MIME)))
}

/// The extension, declared in the server's capabilities.
pub fn advertise(capabilities: &mut ServerCapabilities) {
    let mut settings = JsonObject::new();
    settings.insert("mimeTypes".into(), json!([MIME]));
    capabilities
        .extensions
        .get_or_insert_with(Default::default)
        .insert(EXTENSION.into(), settings);
}

/// `_meta.ui.resourceUri` on every listed tool whose results an app shows.
pub fn mark(tools: &mut [Tool], app_of: impl Fn(&str) -> Option<&'static str>) {
    for t in tools {
        if let Some(uri) = app_of(&t.name) {
            let meta = t.meta.get_or_insert_with(|| MetaObject(JsonObject::new()));
            meta.0.insert("ui".into(), json!({"resourceUri": uri}));
        }
    }
}

/// The app's `_meta.ui`: no domain to connect to or load from, and a border please.
fn ui_meta() -> MetaObject {
    let mut m = JsonObject::new();
    m.insert(
        "ui".into(),
        json!({"csp": {"connectDomains": [], "resourceDomains": []}, "prefersBorder": true}),
    );
    MetaObject(m)
}

/// The app resources, for resources/list.
pub fn resources() -> Vec<Resource> {
    vec![Resource::new(MASKING_MATRIX, "masking-matrix")
        .with_title("Masking matrix")
        .with_description("Who sees what: for one masking policy, the level each role sees for each tag value, now and after a proposed change.")
        .with_mime_type(MIME)
        .with_meta(ui_meta())]
}

/// An app resource by its URI.
pub fn read(uri: &str) -> Option<ReadResourceResult> {
    (uri == MASKING_MATRIX).then(|| {
        ReadResourceResult::new(vec![ResourceContents::TextResourceContents {
            uri: uri.to_string(),
            mime_type: Some(MIME.into()),
            text: MASKING_MATRIX_HTML.to_string(),
            meta: Some(ui_meta()),
        }])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(v: serde_json::Value) -> ClientCapabilities {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn only_a_client_declaring_the_app_mime_type_gets_apps() {
        assert!(!declared(None));
        assert!(!declared(Some(&caps(json!({})))));
        assert!(!declared(Some(&caps(
            json!({"extensions": {EXTENSION: {"mimeTypes": ["text/html"]}}})
        ))));
        assert!(!declared(Some(&caps(
            json!({"extensions": {"other/ext": {"mimeTypes": [MIME]}}})
        ))));
        assert!(declared(Some(&caps(
            json!({"extensions": {EXTENSION: {"mimeTypes": [MIME]}}})
        ))));
    }

    #[test]
    fn the_app_is_self_contained() {
        let html = MASKING_MATRIX_HTML.to_ascii_lowercase();
        for outside in ["http://", "https://", "<link", "src=\"//", "fetch("] {
            assert!(!html.contains(outside), "{outside} in the app");
        }
        assert!(html.contains("ui/initialize"));
    }
}
