//! The `{success, data, error}` envelope every tool call answers with, and the bound on its size
//! (MAX_RESULT_BYTES): a larger result is cut at its largest list, and says so.

use rmcp::model::{CallToolResult, MetaObject};
use serde_json::{json, Value};

use crate::registry::error::ToolError;

/// The `_meta` label on results that carry protected data in clear text.
pub fn cleartext_label() -> MetaObject {
    let mut m = rmcp::model::JsonObject::new();
    m.insert("altr/sensitivity".into(), json!("cleartext"));
    MetaObject(m)
}

fn result(envelope: Value, is_error: bool) -> CallToolResult {
    let mut r = CallToolResult::structured(envelope);
    r.is_error = Some(is_error);
    r
}

/// A tool's data with ALTR's own success envelope taken off, so that `data` is the payload:
/// `{"success": true, "data": X}` becomes `X`, and its siblings (counts, cursors, messages) stay
/// beside the payload (inside it when it is an object, else beside it as `data`); a bare
/// `"success": true` is dropped. The same is done one level down, to each value of the result
/// (the `before` and `after` of a change, each batch's answer), where our own results hold
/// ALTR's answers. A `"success": false` answer is never touched: the pipeline reports it.
pub fn payload(data: Value) -> Value {
    match unwrap_one(data) {
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, unwrap_one(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(unwrap_one).collect()),
        other => other,
    }
}

/// One ALTR success envelope off `v`, when it is one.
fn unwrap_one(v: Value) -> Value {
    let Value::Object(mut map) = v else { return v };
    if map.get("success") != Some(&Value::Bool(true)) {
        return Value::Object(map);
    }
    map.remove("success");
    if map.get("error").is_some_and(Value::is_null) {
        map.remove("error");
    }
    let Some(inner) = map.remove("data") else {
        return Value::Object(map);
    };
    if map.is_empty() {
        return inner;
    }
    match inner {
        Value::Object(mut fields) if map.keys().all(|k| !fields.contains_key(k)) => {
            fields.extend(map);
            Value::Object(fields)
        }
        other => {
            map.insert("data".into(), other);
            Value::Object(map)
        }
    }
}

/// The success envelope.
pub fn success(data: Value) -> CallToolResult {
    result(json!({"success": true, "data": data, "error": null}), false)
}

/// The success envelope, cut to at most `max_bytes` of JSON when the data is larger: the largest
/// list in it keeps as many items as fit (or the largest text is shortened), and the envelope says
/// `truncated: true` with what was kept and how to ask for less. True when it was cut.
pub fn success_bounded(data: Value, max_bytes: usize) -> (CallToolResult, bool) {
    let size = json_len(&data);
    // Room for the envelope and the truncation note.
    let budget = max_bytes.saturating_sub(600);
    if size + 64 <= max_bytes {
        return (success(data), false);
    }
    let (data, note) = shrink(data, budget);
    let envelope = json!({
        "success": true,
        "data": data,
        "error": null,
        "truncated": true,
        "truncation": note,
    });
    (result(envelope, false), true)
}

fn json_len(v: &Value) -> usize {
    serde_json::to_vec(v).map(|b| b.len()).unwrap_or(usize::MAX)
}

/// The JSON pointer of the largest array in `v` (by serialized size), and that size.
fn largest_array(v: &Value, at: String, best: &mut Option<(String, usize)>) {
    match v {
        Value::Array(items) => {
            let size = json_len(v);
            if best.as_ref().is_none_or(|(_, s)| size > *s) {
                *best = Some((at.clone(), size));
            }
            for (i, item) in items.iter().enumerate() {
                if matches!(item, Value::Array(_) | Value::Object(_)) {
                    largest_array(item, format!("{at}/{i}"), best);
                }
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                if matches!(item, Value::Array(_) | Value::Object(_)) {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    largest_array(item, format!("{at}/{key}"), best);
                }
            }
        }
        _ => {}
    }
}

const NARROW: &str = "The result was larger than MAX_RESULT_BYTES and was cut: ask for less (a filter, a smaller limit, or one page at a time with the tool's cursor) to see the rest.";

fn shrink(data: Value, budget: usize) -> (Value, Value) {
    let original = data;
    let mut data = original.clone();
    let mut best = None;
    largest_array(&data, String::new(), &mut best);
    if let Some((pointer, _)) = best {
        let total = data
            .pointer(&pointer)
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        // Binary search for the most items that fit.
        let full = &original;
        let (mut lo, mut hi) = (0usize, total);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let mut trial = full.clone();
            if let Some(Value::Array(items)) = trial.pointer_mut(&pointer) {
                items.truncate(mid);
            }
            if json_len(&trial) <= budget {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if let Some(Value::Array(items)) = data.pointer_mut(&pointer) {
            items.truncate(lo);
        }
        if json_len(&data) <= budget {
            return (
                data,
                json!({"list": format!("/data{pointer}"), "returned": lo, "total": total, "hint": NARROW}),
            );
        }
    }
    // No list to cut (or cutting it is not enough): return the start of the JSON text.
    let text = serde_json::to_string(&original).unwrap_or_default();
    let mut end = budget.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = text.get(..end).unwrap_or_default().to_string();
    (
        Value::String(cut),
        json!({"returned_bytes": end, "total_bytes": text.len(), "hint": format!("{NARROW} The data is given as the start of its JSON text.")}),
    )
}

/// The failure envelope, marked as a tool error.
pub fn failure(e: &ToolError) -> CallToolResult {
    result(
        json!({"success": false, "data": null, "error": e.to_json()}),
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn altr_success_envelopes_come_off_and_siblings_stay() {
        let api = json!({"success": true, "data": {"databases": [1]}});
        assert_eq!(payload(api.clone()), json!({"databases": [1]}));
        assert_eq!(
            payload(
                json!({"success": true, "data": {"items": []}, "nextPageToken": "t", "error": null})
            ),
            json!({"items": [], "nextPageToken": "t"})
        );
        assert_eq!(
            payload(json!({"success": true, "data": [1, 2], "count": 2})),
            json!({"data": [1, 2], "count": 2})
        );
        // A sibling that would overwrite a payload field keeps the two apart.
        assert_eq!(
            payload(json!({"success": true, "data": {"count": 1}, "count": 2})),
            json!({"data": {"count": 1}, "count": 2})
        );
        assert_eq!(
            payload(json!({"success": true, "policies": []})),
            json!({"policies": []})
        );
        assert_eq!(
            payload(json!({"before": api.clone(), "after": api.clone()})),
            json!({"before": {"databases": [1]}, "after": {"databases": [1]}})
        );
        assert_eq!(payload(json!([api.clone()])), json!([{"databases": [1]}]));
        // Failures, plain values and deeper records are left as they are.
        let failed = json!({"success": false, "message": "no"});
        assert_eq!(payload(failed.clone()), failed);
        let deep = json!({"jobs": [{"id": 1, "success": true}]});
        assert_eq!(payload(deep.clone()), deep);
        assert_eq!(payload(json!("text")), json!("text"));
    }

    #[test]
    fn small_results_are_returned_whole() {
        let (r, cut) = success_bounded(json!({"items": [1, 2, 3]}), 10_000);
        assert!(!cut);
        assert_eq!(
            r.structured_content.unwrap(),
            json!({"success": true, "data": {"items": [1, 2, 3]}, "error": null})
        );
    }

    #[test]
    fn large_results_are_cut_at_their_largest_list_and_say_so() {
        let items: Vec<Value> = (0..5000)
            .map(|i| json!({"id": i, "name": format!("column-{i}")}))
            .collect();
        let data = json!({"data": {"columns": items, "count": 5000}});
        let (r, cut) = success_bounded(data, 20_000);
        assert!(cut);
        let env = r.structured_content.unwrap();
        assert!(serde_json::to_vec(&env).unwrap().len() <= 20_000);
        assert_eq!(env["truncated"], true);
        assert_eq!(env["truncation"]["list"], "/data/data/columns");
        assert_eq!(env["truncation"]["total"], 5000);
        let kept = env["data"]["data"]["columns"].as_array().unwrap().len();
        assert_eq!(env["truncation"]["returned"], kept);
        assert!(kept > 100 && kept < 5000, "{kept}");
        assert_eq!(env["data"]["data"]["count"], 5000);
        assert!(env["truncation"]["hint"]
            .as_str()
            .unwrap()
            .contains("MAX_RESULT_BYTES"));
    }

    #[test]
    fn a_large_text_is_cut_too() {
        let (r, cut) = success_bounded(json!({"blob": "x".repeat(50_000)}), 10_000);
        assert!(cut);
        let env = r.structured_content.unwrap();
        assert!(serde_json::to_vec(&env).unwrap().len() <= 10_000);
        assert_eq!(env["truncated"], true);
        assert!(env["data"].as_str().unwrap().starts_with("{\"blob\":\"xxx"));
    }
}
