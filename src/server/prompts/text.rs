//! Prompt text from templates and argument values: values cleaned so they stay data inside a
//! backquoted span, quoted as a span of their own, and templates filled in one pass. A leaf
//! module: it imports nothing of this crate.

/// Whether `c` is whitespace to Python's `str.split()`: Unicode White_Space, which is what
/// [`char::is_whitespace`] tests, plus the four separators U+001C..U+001F.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `value` made safe inside a backquoted span: every backquote becomes an apostrophe, and every
/// run of whitespace (line breaks included) one space, with none at either end. May be empty.
pub fn clean(value: &str) -> String {
    value
        .replace('`', "'")
        .split(is_space)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `value` as one inline backquoted span: [`clean`]ed, `(not supplied)` when nothing is left,
/// then wrapped in single backquotes. The result has exactly two backquotes, at its ends, and
/// no line break.
pub fn quote(value: &str) -> String {
    let value = clean(value);
    if value.is_empty() {
        "`(not supplied)`".to_string()
    } else {
        format!("`{value}`")
    }
}

/// `template` with each `{name}` hole replaced by `value(name)`, in one pass: a hole `value`
/// does not know stays as written, and nothing a value brings in is read as a hole.
pub fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        let filled = after
            .split_once('}')
            .and_then(|(hole, tail)| Some((value(hole)?, tail)));
        match filled {
            Some((v, tail)) => {
                out.push_str(&v);
                rest = tail;
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_makes_one_inline_span() {
        let samples = [
            "",
            " ",
            "a",
            "a`b",
            "x\n\ny",
            "``",
            "`",
            " lead and trail ",
            "\u{200b}",
            "\u{feff}x",
            "db.internal.example.com",
            "first.last@example.com",
            "ANALYTICS_PROD.CUSTOMER_DATA.CUSTOMER_PROFILES_2026.PRIMARY_EMAIL_ADDRESS",
            "tab\there",
            "\u{1c}\u{1f}\u{3000}",
            "multi\r\n\r\nline `code`",
        ];
        for s in samples {
            let q = quote(s);
            assert!(
                q.starts_with('`') && q.ends_with('`') && q.len() >= 3,
                "{q:?}"
            );
            assert_eq!(q.matches('`').count(), 2, "{q:?}");
            assert!(!q.contains('\n') && !q.contains('\r'), "{q:?}");
            assert_ne!(q, "``");
            assert_eq!(clean(s), q[1..q.len() - 1].replace("(not supplied)", ""));
        }
        assert_eq!(quote("a`b"), "`a'b`");
        assert_eq!(quote("x\n\ny"), "`x y`");
        assert_eq!(quote("  a \t\u{a0} b  "), "`a b`");
        for unchanged in [
            "db.internal.example.com",
            "first.last@example.com",
            "ANALYTICS_PROD.CUSTOMER_DATA.CUSTOMER_PROFILES_2026.PRIMARY_EMAIL_ADDRESS",
            "<DB>.<SCHEMA>.<TABLE>.<COLUMN>",
            "HR_ADMIN",
        ] {
            assert_eq!(quote(unchanged), format!("`{unchanged}`"));
            assert_eq!(clean(unchanged), unchanged);
        }
        for blank in ["", " ", "\n\n", "\u{1c}\u{1f}\u{3000}", "\t\u{0b}\u{0c}\r"] {
            assert_eq!(quote(blank), "`(not supplied)`", "{blank:?}");
            assert_eq!(clean(blank), "");
        }
        // Zero-width characters are not whitespace, to Python either.
        assert_eq!(quote("\u{200b}"), "`\u{200b}`");
        assert_eq!(quote("a\u{feff}b"), "`a\u{feff}b`");
        assert_eq!(clean("\u{180e}"), "\u{180e}");
    }

    #[test]
    fn whitespace_is_pythons_set() {
        let python: Vec<char> = "\t\n\u{0b}\u{0c}\r\u{1c}\u{1d}\u{1e}\u{1f} \u{85}\u{a0}\u{1680}"
            .chars()
            .chain('\u{2000}'..='\u{200a}')
            .chain(['\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}'])
            .collect();
        let ours: Vec<char> = (char::MIN..=char::MAX).filter(|&c| is_space(c)).collect();
        assert_eq!(ours, python);
        for c in python {
            assert_eq!(clean(&format!("a{c}{c}b")), "a b", "{:?}", c);
        }
    }

    #[test]
    fn fill_is_one_pass() {
        let v = |h: &str| (h == "a").then(|| "{a}{b}".to_string());
        assert_eq!(fill("x {a} {b} {", v), "x {a}{b} {b} {");
        assert_eq!(fill("{a}{a}", v), "{a}{b}{a}{b}");
        assert_eq!(fill("no holes", v), "no holes");
    }
}
