//! Text written by people (justifications, comments, statement text, descriptions) comes back
//! fenced: `{"untrusted_text": "..."}` instead of the bare string, with invisible, bidi and
//! control characters removed, so instructions hidden in data read as data.

use std::sync::Arc;

use serde_json::{json, Value};

use super::tool::ToolDef;

/// Answer fields whose string values are people's free text.
pub const FIELDS: &[&str] = &[
    "justification",
    "comment",
    "comments",
    "text",
    "statement_text",
    "description",
];

/// Whether a character is invisible or reorders text: controls (but newline and tab), bidi
/// controls, zero-width characters, soft hyphens, tag characters.
fn hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c,
            '\u{00AD}' | '\u{061C}' | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{E0000}'..='\u{E007F}')
}

/// The text without hidden characters.
pub fn clean(text: &str) -> String {
    text.chars().filter(|c| !hidden(*c)).collect()
}

/// The answer with every free-text field fenced, recursively.
pub fn fence(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) if FIELDS.contains(&k.as_str()) => {
                            json!({"untrusted_text": clean(&s)})
                        }
                        other => fence(other),
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(fence).collect()),
        other => other,
    }
}

/// The tool, with its answers fenced.
pub fn fenced(mut def: ToolDef) -> ToolDef {
    let inner = def.handler.clone();
    def.handler = Arc::new(move |ctx, raw| {
        let inner = inner.clone();
        Box::pin(async move { inner(ctx, raw).await.map(fence) })
    });
    def
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_is_fenced_and_cleaned_everywhere() {
        let v = json!({"data": {"items": [
            {"id": "c1", "text": "ok\u{202E}evil\u{200B}\u{E0041}\nline 2", "pinned": true},
            {"comments": [{"text": "nested"}], "justification": "why\u{7}"}
        ], "name": "kept as is", "description": null}});
        assert_eq!(
            fence(v),
            json!({"data": {"items": [
                {"id": "c1", "text": {"untrusted_text": "okevil\nline 2"}, "pinned": true},
                {"comments": [{"text": {"untrusted_text": "nested"}}], "justification": {"untrusted_text": "why"}}
            ], "name": "kept as is", "description": null}})
        );
    }
}
