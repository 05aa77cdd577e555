//! Our own credentials, removed from whatever came from upstream before it is logged or returned.

use std::borrow::Cow;

use serde_json::Value;

/// What replaces a credential found in upstream text.
pub const SCRUBBED: &str = "<redacted>";

/// Secrets shorter than this are not scrubbed: replacing every `a` of a text would destroy it
/// without protecting anything real.
const MIN_SECRET_LEN: usize = 4;

/// Our own credentials, to be removed from any text that came from upstream before it is logged
/// or returned (an error page may echo the Authorization header).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Scrubber {
    needles: Vec<String>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrubber({} secrets)", self.needles.len())
    }
}

impl Scrubber {
    /// Scrub these secrets (empty and very short ones are ignored); longer ones first, so a
    /// secret that contains another is removed whole.
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut needles: Vec<String> = secrets
            .into_iter()
            .map(Into::into)
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .collect();
        needles.sort_by_key(|s| std::cmp::Reverse(s.len()));
        needles.dedup();
        Self { needles }
    }

    /// The text with every secret replaced by [`SCRUBBED`].
    pub fn text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        if !self.needles.iter().any(|n| s.contains(n.as_str())) {
            return Cow::Borrowed(s);
        }
        let mut out = s.to_string();
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), SCRUBBED);
            }
        }
        Cow::Owned(out)
    }

    /// Scrub every string (and object key) of a JSON value in place.
    pub fn value(&self, v: &mut Value) {
        if self.needles.is_empty() {
            return;
        }
        match v {
            Value::String(s) => {
                if let Cow::Owned(clean) = self.text(s) {
                    *s = clean;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.value(i)),
            Value::Object(map) => {
                let dirty_keys = map.keys().any(|k| matches!(self.text(k), Cow::Owned(_)));
                if dirty_keys {
                    let old = std::mem::take(map);
                    for (k, mut item) in old {
                        self.value(&mut item);
                        map.insert(self.text(&k).into_owned(), item);
                    }
                } else {
                    map.values_mut().for_each(|i| self.value(i));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credentials_are_scrubbed_from_text_and_values() {
        let s = Scrubber::new(["dGVzdDpzZWNyZXQ=", "top-secret-value", "", "ab"]);
        assert_eq!(
            s.text("echo: Authorization: Basic dGVzdDpzZWNyZXQ= and top-secret-value"),
            "echo: Authorization: Basic <redacted> and <redacted>"
        );
        assert!(matches!(s.text("nothing here, ab"), Cow::Borrowed(_)));
        let mut v = json!({"a": ["x top-secret-value y"], "top-secret-value": 1, "n": 2});
        s.value(&mut v);
        assert_eq!(v, json!({"a": ["x <redacted> y"], "<redacted>": 1, "n": 2}));
    }
}
