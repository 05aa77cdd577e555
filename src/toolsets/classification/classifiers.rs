//! Classifiers: the rules that recognise sensitive data by column name and sampled values.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::*;
use crate::client::{path, seg, ApiRequest, Method, Service::Classification};
use crate::registry::args::{JsonOr, NoParams};
use crate::registry::params::Name;
use crate::registry::{Ctx, Effect, ToolDef, ToolError, ToolResult, Toolset};

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifierName {
    #[schemars(extend("x-doc" = "The classifier's name, as get_classifiers returns it; sent as one percent-encoded path segment, so it may contain /."))]
    pub classifier_name: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClassifier {
    #[schemars(extend("x-doc" = "The new classifier's name."))]
    pub classifier_name: Name,
    #[schemars(extend("x-doc" = "The classifier's rules (column-name and data patterns), as a JSON object or its JSON text."))]
    pub compound_ruleset: JsonOr<Map<String, Value>>,
    #[schemars(extend("x-doc" = "What the classifier finds; not sent when omitted."))]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClassifier {
    #[schemars(extend("x-doc" = "The name of the classifier to change, as get_classifiers returns it."))]
    pub classifier_name: String,
    #[schemars(extend("x-doc" = "The classifier's new description; unchanged when omitted. Give it, compound_ruleset, or both."))]
    pub description: Option<String>,
    #[schemars(extend("x-doc" = "New rules replacing the classifier's current ones, as a JSON object or its JSON text; the legacy pattern is cleared too. Unchanged when omitted."))]
    pub compound_ruleset: Option<JsonOr<Map<String, Value>>>,
}

async fn update_classifier(ctx: Ctx, p: UpdateClassifier) -> ToolResult {
    let path = path(
        "/v1/classifiers/{}",
        &[seg("classifier_name", &p.classifier_name)],
    )?;
    let mut body = Map::new();
    if let Some(d) = p.description {
        body.insert("description".into(), Value::String(d));
    }
    if let Some(rules) = p.compound_ruleset {
        body.insert("compound_ruleset".into(), Value::Object(rules.0));
        body.insert("pattern".into(), Value::Null);
    }
    if body.is_empty() {
        return Err(ToolError::invalid(
            "description,compound_ruleset",
            "nothing to update: give description or compound_ruleset",
        ));
    }
    ctx.send(ApiRequest::patch(Classification, path).json(Value::Object(body)))
        .await
}

pub fn tools(set: &'static Toolset) -> Vec<ToolDef> {
    use Effect::{Additive, Destructive, Idempotent, ReadOnly};
    const GET: Method = Method::GET;
    const POST: Method = Method::POST;
    const DELETE: Method = Method::DELETE;
    vec![
        set.tool("get_classifiers", "List classifiers", ReadOnly)
            .description("Every classifier: custom and imported ALTR-managed.")
            .handler(|ctx: Ctx, _: NoParams| list_all(ctx, "/v1/classifiers", "classifiers")),
        set.tool("get_classifier", "Get classifier", ReadOnly)
            .description("Description and compound ruleset of classifier_name.")
            .request::<ClassifierName>(GET, Classification, "/v1/classifiers/{classifier_name}"),
        set.tool("create_classifier", "Create classifier", Additive)
            .description("New classifier_name with description and compound_ruleset (object or JSON text: column-name/data patterns).")
            .request::<CreateClassifier>(POST, Classification, "/v1/classifiers"),
        set.tool("update_classifier", "Update classifier", Idempotent)
            .description("Set description and/or compound_ruleset (replaces rules, clears legacy pattern) of classifier_name; refuses empty updates.")
            .handler(update_classifier),
        set.tool("delete_classifier", "Delete classifier", Destructive)
            .description("Delete classifier_name, also from its collections.")
            .request::<ClassifierName>(DELETE, Classification, "/v1/classifiers/{classifier_name}"),
    ]
}
