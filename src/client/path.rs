//! Percent-encoded URL paths: every argument placed in a path is one encoded segment.

use std::fmt::Display;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Characters left as they are in a path segment: RFC 3986 unreserved ones. Everything else,
/// `/ ? # %` included, is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An argument that cannot be placed in a URL path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct PathError {
    pub parameter: String,
    pub message: String,
}

/// One path argument: its parameter name (for error messages), its value, and whether the caller
/// may pass it already percent-encoded (it is then decoded first, so `TAG%23x` and `TAG#x` agree).
pub struct Seg<'a> {
    pub name: &'a str,
    pub value: String,
    pub decode_first: bool,
}

/// A path argument, encoded as given.
pub fn seg<'a>(name: &'a str, value: impl Display) -> Seg<'a> {
    Seg {
        name,
        value: value.to_string(),
        decode_first: false,
    }
}

/// A path argument that may arrive percent-encoded (policy and rule ids).
pub fn seg_decoded<'a>(name: &'a str, value: impl Display) -> Seg<'a> {
    Seg {
        name,
        value: value.to_string(),
        decode_first: true,
    }
}

/// A request path, encoded, with the template it was made from (what traces show of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPath {
    pub path: String,
    pub route: String,
}

impl std::ops::Deref for ApiPath {
    type Target = str;
    fn deref(&self) -> &str {
        &self.path
    }
}

impl Display for ApiPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path)
    }
}

/// A path given whole (a constant): its template is itself, with anything id-like hidden.
impl From<String> for ApiPath {
    fn from(path: String) -> Self {
        let route = template_of(&path).into_owned();
        ApiPath { path, route }
    }
}

impl From<&str> for ApiPath {
    fn from(path: &str) -> Self {
        ApiPath::from(path.to_string())
    }
}

impl From<&String> for ApiPath {
    fn from(path: &String) -> Self {
        ApiPath::from(path.clone())
    }
}

impl From<&ApiPath> for ApiPath {
    fn from(path: &ApiPath) -> Self {
        path.clone()
    }
}

/// Fill each `{}` of `template` with the next argument, percent-encoded as one segment.
/// Empty values and the dot segments `.` and `..` are refused: they would change which URL is hit.
pub fn path(template: &str, args: &[Seg<'_>]) -> Result<ApiPath, PathError> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut pieces = template.split("{}");
    out.push_str(pieces.next().unwrap_or_default());
    let mut args = args.iter();
    for piece in pieces {
        let Some(arg) = args.next() else {
            // A template with more holes than arguments is a programming error; refuse loudly.
            return Err(PathError {
                parameter: "path".into(),
                message: format!("internal error: missing argument for {template}"),
            });
        };
        let value = if arg.decode_first {
            percent_decode_str(&arg.value)
                .decode_utf8()
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| arg.value.clone())
        } else {
            arg.value.clone()
        };
        if value.trim().is_empty() {
            return Err(PathError {
                parameter: arg.name.into(),
                message: "must not be empty".into(),
            });
        }
        if value == "." || value == ".." {
            return Err(PathError {
                parameter: arg.name.into(),
                message: "must not be '.' or '..'".into(),
            });
        }
        out.extend(utf8_percent_encode(&value, SEGMENT));
        out.push_str(piece);
    }
    Ok(ApiPath {
        path: out,
        route: template.to_string(),
    })
}

/// A path as traces may show it when no template was named: every segment that is not a plain
/// word (letters, `-`, `_`) or a version (`v1`) becomes `{}`, so ids, names and anything encoded
/// stay out.
pub fn template_of(path: &str) -> std::borrow::Cow<'_, str> {
    let word = |s: &str| {
        s.is_empty()
            || s.chars()
                .all(|c| c.is_ascii_alphabetic() || c == '-' || c == '_')
            || s.strip_prefix('v')
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    if path.split('/').all(word) {
        return std::borrow::Cow::Borrowed(path);
    }
    let shown: Vec<&str> = path
        .split('/')
        .map(|s| if word(s) { s } else { "{}" })
        .collect();
    std::borrow::Cow::Owned(shown.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        let p = path("/v1/x/{}/y/{}", &[seg("a", "a/b?c#d"), seg("b", "..%2F..")]).unwrap();
        assert_eq!(&*p, "/v1/x/a%2Fb%3Fc%23d/y/..%252F..");
        assert_eq!(p.route, "/v1/x/{}/y/{}");
        assert_eq!(
            &*path("/p/{}", &[seg_decoded("policy_id", "TAG%23p1")]).unwrap(),
            "/p/TAG%23p1"
        );
        assert_eq!(
            &*path("/p/{}", &[seg_decoded("policy_id", "TAG#p1")]).unwrap(),
            "/p/TAG%23p1"
        );
        assert_eq!(&*path("/p/{}", &[seg("id", 42)]).unwrap(), "/p/42");
        assert_eq!(&*path("/p/{}", &[seg("id", "a b")]).unwrap(), "/p/a%20b");
    }

    #[test]
    fn templates_hide_what_is_not_a_word() {
        assert_eq!(template_of("/api/userGroups"), "/api/userGroups");
        assert_eq!(
            template_of("/v1/tag/masking/tag/42"),
            "/v1/tag/masking/tag/{}"
        );
        assert_eq!(
            template_of("/api/policies/TAG%23abc/rules"),
            "/api/policies/{}/rules"
        );
        assert_eq!(template_of("/v2/x/a.b"), "/v2/x/{}");
    }

    #[test]
    fn dot_and_empty_segments_are_refused() {
        for bad in ["", " ", ".", ".."] {
            let e = path("/p/{}", &[seg("rule_id", bad)]).unwrap_err();
            assert_eq!(e.parameter, "rule_id");
        }
        let e = path("/p/{}", &[seg_decoded("policy_id", "%2E%2E")]).unwrap_err();
        assert_eq!(e.parameter, "policy_id");
        assert!(path("/p/{}/{}", &[seg("a", "x")]).is_err());
    }
}
