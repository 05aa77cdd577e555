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

/// Fill each `{}` of `template` with the next argument, percent-encoded as one segment.
/// Empty values and the dot segments `.` and `..` are refused: they would change which URL is hit.
pub fn path(template: &str, args: &[Seg<'_>]) -> Result<String, PathError> {
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
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        let p = path("/v1/x/{}/y/{}", &[seg("a", "a/b?c#d"), seg("b", "..%2F..")]).unwrap();
        assert_eq!(p, "/v1/x/a%2Fb%3Fc%23d/y/..%252F..");
        assert_eq!(
            path("/p/{}", &[seg_decoded("policy_id", "TAG%23p1")]).unwrap(),
            "/p/TAG%23p1"
        );
        assert_eq!(
            path("/p/{}", &[seg_decoded("policy_id", "TAG#p1")]).unwrap(),
            "/p/TAG%23p1"
        );
        assert_eq!(path("/p/{}", &[seg("id", 42)]).unwrap(), "/p/42");
        assert_eq!(path("/p/{}", &[seg("id", "a b")]).unwrap(), "/p/a%20b");
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
