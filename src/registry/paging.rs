//! Auto-paging that ends, for every tool that fetches all pages itself: each next page is asked
//! for with the cursor the previous page gave, and paging stops when the call's [`Budget`] is
//! spent: its pages (MAX_PAGES for the whole call, however many listings it reads) or its bytes
//! (MAX_RESULT_BYTES of items), the result then saying `truncated: true` and why. A repeated
//! cursor or a repeated page (an API that ignores the cursor) is an error rather than 100 copies
//! of page one, and a failed page (an upstream error, or ALTR's `success: false`) fails the
//! listing instead of leaving it silently partial. Every page goes through [`Ctx::send`] like any
//! other request. A reader that needs one item stops at the page that holds it
//! ([`collect_until`]).

use serde_json::{json, Map, Value};

use super::ctx::Ctx;
pub use super::ctx::MAX_PAGES;
use super::error::{unsuccessful, ToolError};
use crate::client::{ApiError, ApiRequest};

/// Why a listing stopped before the API said it was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The call's page budget ([`MAX_PAGES`]) was spent.
    Pages,
    /// The items reached the call's byte budget (MAX_RESULT_BYTES).
    Bytes,
}

/// The size of `v` as compact JSON, counted without building the text.
fn json_size(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

/// How a listing pages.
#[derive(Debug, Clone, Copy)]
pub struct Pages {
    /// Where a page's items are: JSON pointers, the first that holds an array or object wins.
    pub items: &'static [&'static str],
    pub next: NextPage,
}

/// How to ask for the page after this one.
#[derive(Debug, Clone, Copy)]
pub enum NextPage {
    /// The page names the next cursor at one of `at`; it is sent back as query parameter `param`.
    /// No cursor (null, empty) means that was the last page.
    Cursor {
        at: &'static [&'static str],
        param: &'static str,
    },
    /// Offset paging: `param` is set to the number of items fetched so far, while `more` says
    /// there are more (an empty page always ends it).
    Offset { param: &'static str, more: More },
}

/// Whether an offset listing has more pages.
#[derive(Debug, Clone, Copy)]
pub enum More {
    /// A boolean flag at one of these pointers.
    Flag(&'static [&'static str]),
    /// The total number of items, at one of these pointers.
    Total(&'static [&'static str]),
}

/// What the paging collected.
#[derive(Debug, Clone, PartialEq)]
pub struct Collected {
    /// The items of every page: a list, or (for listings whose pages are objects) the pages'
    /// objects merged by key, lists under the same key concatenated.
    pub items: Value,
    pub pages: usize,
    /// Why the paging stopped before the API said it was done, if it did.
    pub cut: Option<Cut>,
}

impl Collected {
    pub fn new() -> Self {
        Self {
            items: Value::Null,
            pages: 0,
            cut: None,
        }
    }

    /// Whether the paging stopped before the API said it was done.
    pub fn truncated(&self) -> bool {
        self.cut.is_some()
    }

    /// The number of items collected (keys, for merged objects).
    pub fn len(&self) -> usize {
        match &self.items {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items as a list (empty when the pages held objects or nothing).
    pub fn into_list(self) -> Vec<Value> {
        match self.items {
            Value::Array(a) => a,
            _ => Vec::new(),
        }
    }

    /// Add another listing's items (e.g. one policy type after another).
    pub fn extend(&mut self, other: Collected) {
        self.pages += other.pages;
        self.cut = self.cut.or(other.cut);
        if self.items.is_null() {
            self.items = other.items;
        } else {
            merge(&mut self.items, other.items);
        }
    }

    /// `{key: items, "count": n}`, plus `"truncated": true` and a note when a budget stopped
    /// the paging.
    pub fn result(self, key: &str) -> Value {
        let mut out = Map::new();
        let count = self.len();
        let cut = self.cut;
        let items = match self.items {
            Value::Null => Value::Array(Vec::new()),
            other => other,
        };
        out.insert(key.to_string(), items);
        out.insert("count".into(), json!(count));
        if let Some(cut) = cut {
            out.insert("truncated".into(), Value::Bool(true));
            out.insert("note".into(), json!(cut_note(cut, self.pages)));
        }
        Value::Object(out)
    }
}

impl Default for Collected {
    fn default() -> Self {
        Self::new()
    }
}

/// What a truncated listing says about why, and how to see the rest.
pub fn cut_note(cut: Cut, pages: usize) -> String {
    match cut {
        Cut::Pages => format!("Stopped after {pages} pages (one call reads at most {MAX_PAGES}); the list is incomplete. Narrow the query to see the rest."),
        Cut::Bytes => format!("Stopped after {pages} pages: the items reached MAX_RESULT_BYTES; the list is incomplete. Narrow the query (its filters) to see the rest."),
    }
}

/// Merge a page's items into what was collected so far.
fn merge(into: &mut Value, page: Value) {
    match (into, page) {
        (_, Value::Null) => {}
        (Value::Array(have), Value::Array(more)) => have.extend(more),
        (Value::Object(have), Value::Object(more)) => {
            for (key, value) in more {
                match (have.get_mut(&key), value) {
                    (Some(Value::Array(list)), Value::Array(extra)) => list.extend(extra),
                    (_, value) => {
                        have.insert(key, value);
                    }
                }
            }
        }
        (slot, page) => *slot = page,
    }
}

/// The first value found at one of `pointers`.
fn at<'a>(body: &'a Value, pointers: &[&str]) -> Option<&'a Value> {
    pointers.iter().find_map(|p| body.pointer(p))
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

fn count_of(items: &Value) -> usize {
    match items {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    }
}

/// Fetch `first` and every page after it, as `pages` describes, within the call's budget.
pub async fn collect_pages(
    ctx: &Ctx,
    first: ApiRequest,
    pages: Pages,
) -> Result<Collected, ToolError> {
    collect_until(ctx, first, pages, |_| false).await
}

/// [`collect_pages`] that stops at the first page whose items `found` accepts (a reader that
/// needs one item does not read the pages after it).
pub async fn collect_until(
    ctx: &Ctx,
    first: ApiRequest,
    pages: Pages,
    found: impl Fn(&Value) -> bool,
) -> Result<Collected, ToolError> {
    let mut req = first;
    let mut out = Collected::new();
    let mut seen_cursors: Vec<String> = Vec::new();
    let mut previous: Option<Value> = None;
    let mut fetched = 0usize;
    let invalid = |req: &ApiRequest, detail: String| -> ToolError {
        ToolError::Api(ApiError::InvalidResponse {
            method: req.method.to_string(),
            path: req.path.clone(),
            detail,
        })
    };
    loop {
        if !ctx.budget.take_page() {
            out.cut = Some(Cut::Pages);
            return Ok(out);
        }
        let body = ctx.send(req.clone()).await?;
        // A page is checked like a single read: ALTR saying it did not succeed fails the listing.
        if let Some(e) = unsuccessful(&body) {
            return Err(e);
        }
        let page = out.pages + 1;
        out.pages = page;
        let items = at(&body, pages.items)
            .filter(|v| v.is_array() || v.is_object())
            .cloned()
            .unwrap_or(Value::Null);
        let n = count_of(&items);
        if n > 0 && previous.as_ref() == Some(&items) {
            return Err(invalid(
                &req,
                format!("the API returned the same page twice (it may ignore the paging cursor); stopped after {page} pages"),
            ));
        }
        fetched += n;
        if out.items.is_null() {
            out.items = match &items {
                Value::Object(_) => Value::Object(Map::new()),
                _ => Value::Array(Vec::new()),
            };
        }
        let room = ctx.budget.spend(json_size(&items));
        let done = found(&items);
        merge(&mut out.items, items.clone());
        previous = Some(items);
        let next = match pages.next {
            NextPage::Cursor { at: where_, param } => {
                cursor_text(at(&body, where_)).map(|value| (param, value))
            }
            NextPage::Offset { param, more } => {
                let more = match more {
                    More::Flag(p) => at(&body, p).and_then(Value::as_bool).unwrap_or(false),
                    More::Total(p) => {
                        let total = at(&body, p).and_then(Value::as_u64).unwrap_or(0);
                        (fetched as u64) < total
                    }
                };
                (n > 0 && more).then(|| (param, fetched.to_string()))
            }
        };
        let Some((param, value)) = next.filter(|_| !done) else {
            return Ok(out);
        };
        if !room {
            out.cut = Some(Cut::Bytes);
            return Ok(out);
        }
        if seen_cursors.contains(&value) {
            return Err(invalid(
                &req,
                format!("the API returned the same `{param}` cursor twice; stopped paging after {page} pages"),
            ));
        }
        seen_cursors.push(value.clone());
        req = req.set_query(param, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn pages_merge() {
        let mut a = json!({"h1": [1], "h2": [2]});
        merge(&mut a, json!({"h1": [3], "h3": [4]}));
        assert_eq!(a, json!({"h1": [1, 3], "h2": [2], "h3": [4]}));
        let mut l = json!([1]);
        merge(&mut l, json!([2, 3]));
        assert_eq!(l, json!([1, 2, 3]));
    }

    #[test]
    fn results_say_when_truncated() {
        let c = Collected {
            items: json!([1, 2]),
            pages: 100,
            cut: Some(Cut::Pages),
        };
        let v = c.result("items");
        assert_eq!(v["count"], 2);
        assert_eq!(v["truncated"], true);
        let c = Collected {
            items: Value::Null,
            pages: 1,
            cut: None,
        };
        assert_eq!(c.result("items"), json!({"items": [], "count": 0}));
    }
}
