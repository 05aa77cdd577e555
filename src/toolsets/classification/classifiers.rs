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
    #[schemars(extend("x-doc" = "The classifier's rules, as a JSON object or its JSON text: {operator: AND or OR, conditions: [...]}, where a condition is a nested group or a leaf {target, pattern, comparator, ...}. ROW_DATA leaves match sampled values against a regex (comparator matches) and always need minimum_threshold (e.g. 70); METADATA leaves match the column name (comparator matches, contains, equals, starts_with or ends_with). Other targets: COLUMN_LOCATION, GDLP (info-types), SNOWFLAKE_NATIVE, CONTENT_TYPE (content_format or content_formats, dominance_threshold), DATA_LENGTH and COLUMN_SIZE (length or size, a numeric comparator such as greater_than, optional trim), AMAZON_COMPREHEND (entity_type such as SSN or EMAIL, minimum_score 0.0-1.0, default 0.5) and ENTROPY (minimum_evidence_bits, minimum_key_bits, alphabet_classes, decode_base64, cumulative). Any leaf takes negated: true. Sampling is set on the job, not here."))]
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
    #[schemars(extend("x-doc" = "New rules replacing the classifier's current ones, shaped as in create_classifier, as a JSON object or its JSON text; the legacy top-level pattern is cleared too (sent as pattern: null), so keep a legacy regex as a ROW_DATA condition with its own minimum_threshold. Unchanged when omitted."))]
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
            .description("New classifier_name, description, compound_ruleset (object or JSON text): {operator:AND|OR,conditions:[group|leaf]}; leaf {target:ROW_DATA,pattern:<regex>,comparator:matches,minimum_threshold:70} or {target:METADATA,pattern:<column name>,comparator:contains|equals|starts_with|ends_with|matches}; negated:true inverts.")
            .request::<CreateClassifier>(POST, Classification, "/v1/classifiers"),
        set.tool("update_classifier", "Update classifier", Idempotent)
            .description("Set description and/or compound_ruleset (replaces rules, clears legacy pattern) of classifier_name; refuses empty updates.")
            .handler(update_classifier),
        set.tool("delete_classifier", "Delete classifier", Destructive)
            .description("Delete custom classifier_name, also from its collections.")
            .request::<ClassifierName>(DELETE, Classification, "/v1/classifiers/{classifier_name}"),
    ]
}
