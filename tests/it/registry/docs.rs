//! The prose that describes the code stays true: every path README.md and CONTRIBUTING.md name
//! exists, and every name CONTRIBUTING.md says is in a file is there.

use std::path::Path;

const README: &str = include_str!("../../../README.md");
const CONTRIBUTING: &str = include_str!("../../../CONTRIBUTING.md");

/// The backticked spans of a Markdown text.
fn spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_path_the_docs_name_exists() {
    let mut checked = 0;
    for (doc, text) in [("README.md", README), ("CONTRIBUTING.md", CONTRIBUTING)] {
        for span in spans(text) {
            let is_path = ["src/", "tests/", "benches/", "docs/", ".ci/"]
                .iter()
                .any(|p| span.starts_with(p))
                && !span.contains(' ');
            if !is_path {
                continue;
            }
            // `src/toolsets/<toolset>.rs` names a folder of such files.
            let path = match span.find('<') {
                Some(at) => &span[..at],
                None => span,
            };
            assert!(
                root().join(path).exists(),
                "{doc} names `{span}`, which does not exist"
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "found {checked} paths");
}

#[test]
fn every_name_contributing_places_in_a_file_is_there() {
    // "`NAME` in `PATH`": the list or function a step of CONTRIBUTING.md touches.
    let spans = spans(CONTRIBUTING);
    let text: Vec<&str> = CONTRIBUTING.split('`').collect();
    let mut checked = 0;
    for (i, pair) in text.windows(3).enumerate() {
        if i % 2 == 0 || pair[1].trim() != "in" {
            continue;
        }
        let (name, path) = (pair[0], pair[2]);
        if !(path.starts_with("src/") || path.starts_with("tests/")) || name.contains(' ') {
            continue;
        }
        let source = std::fs::read_to_string(root().join(path))
            .unwrap_or_else(|_| panic!("CONTRIBUTING.md names `{path}`"));
        let last = name.rsplit("::").next().unwrap_or(name);
        assert!(
            source.contains(last),
            "CONTRIBUTING.md says `{name}` is in `{path}`"
        );
        checked += 1;
    }
    assert!(
        checked >= 3,
        "found {checked} names ({} spans)",
        spans.len()
    );
}
