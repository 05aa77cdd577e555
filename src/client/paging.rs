//! Auto-paging that ends: each next page is asked for with the cursor the previous page gave,
//! paging stops at a page cap, a repeated cursor is caught, and an upstream error on any page is
//! reported instead of a silently partial list.

use serde_json::Value;

use super::{AltrClient, ApiError, ApiRequest};

/// The most pages one tool call will fetch.
pub const MAX_PAGES: usize = 100;

/// What a page handler says about where to go next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Ask for the next page with this query parameter set to this value.
    Cursor { key: &'static str, value: String },
    /// That was the last page.
    Done,
}

/// How the paging went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Paged {
    pub pages: usize,
    /// True when the page cap stopped the paging before the API said it was done.
    pub truncated: bool,
}

/// Fetch `first` and the pages after it. `on_page` takes each page's body (it keeps the items it
/// wants) and says how to ask for the next one.
pub async fn paginate(
    client: &AltrClient,
    first: ApiRequest,
    max_pages: usize,
    mut on_page: impl FnMut(Value) -> Next,
) -> Result<Paged, ApiError> {
    let mut req = first;
    let mut seen: Vec<String> = Vec::new();
    for page in 1..=max_pages.max(1) {
        let body = client.send(&req).await?;
        match on_page(body) {
            Next::Done => {
                return Ok(Paged {
                    pages: page,
                    truncated: false,
                })
            }
            Next::Cursor { key, value } => {
                if seen.contains(&value) {
                    return Err(ApiError::InvalidResponse {
                        method: req.method.to_string(),
                        path: req.path.clone(),
                        detail: format!(
                            "the API returned the same `{key}` cursor twice; stopped paging after {page} pages"
                        ),
                    });
                }
                seen.push(value.clone());
                req = req.set_query(key, value);
            }
        }
    }
    Ok(Paged {
        pages: max_pages,
        truncated: true,
    })
}

impl Paged {
    /// The collected result, marked `truncated: true` when the page cap cut the paging short.
    pub fn result(self, mut out: Value) -> Value {
        if self.truncated {
            if let Some(o) = out.as_object_mut() {
                o.insert("truncated".into(), Value::Bool(true));
            }
        }
        out
    }
}

/// The next page of a DynamoDB-style listing: the page's `last_evaluated_key` sent back as
/// `exclusive_start_key`, until there is none.
pub fn after_last_evaluated_key(data: &Value) -> Next {
    match cursor_text(data.get("last_evaluated_key")) {
        Some(value) => Next::Cursor {
            key: "exclusive_start_key",
            value,
        },
        None => Next::Done,
    }
}

/// A cursor value as text: strings as they are, anything else as compact JSON.
/// `None` for null, missing, empty or `false` values (no further page).
pub fn cursor_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Object(o) if o.is_empty() => None,
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cursor_text_forms() {
        assert_eq!(cursor_text(None), None);
        assert_eq!(cursor_text(Some(&json!(null))), None);
        assert_eq!(cursor_text(Some(&json!(""))), None);
        assert_eq!(cursor_text(Some(&json!("abc"))), Some("abc".into()));
        assert_eq!(cursor_text(Some(&json!(7))), Some("7".into()));
        assert_eq!(
            cursor_text(Some(&json!({"pk": "a"}))),
            Some(r#"{"pk":"a"}"#.into())
        );
    }
}
