//! The shape of the source tree: no module imports from a module that imports it back (checked
//! on every file and on the top-level folders), and `src/` holds few files besides its folders.
//!
//! The check reads the sources: every path through `crate::` or `super::`, and every path through
//! a child module of the file, in `use` statements and in code, resolved to the file of the
//! deepest module it names. Test modules (`#[cfg(test)]` to the end of a file) are left out: a
//! test may reach anywhere. Inside the sandbox, whose org holds each simulated domain's state
//! while each domain works on the org, a domain file may use its parent's items; the sandbox as
//! a whole still imports nothing of the tools or the client and takes part in no circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, keyed by its module path (`src/server/pipeline.rs` is
/// `server::pipeline`; `lib.rs` is the empty path).
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut segs: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if segs
                .last()
                .is_some_and(|s| s == "mod" || s == "lib" || s == "main")
            {
                segs.pop();
            }
            if rel == Path::new("main") {
                continue;
            }
            out.insert(segs, path);
        }
    }
    out
}

/// The code of a file without comments and without its test module.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(at) => &l[..at],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Expand `a::{b, c::{d, e}}` into `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.to_string()];
    };
    let close = match tree.rfind('}') {
        Some(c) if c > open => c,
        _ => return vec![tree.to_string()],
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..close];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| expand(p).into_iter().map(move |e| format!("{prefix}{e}")))
        .collect()
}

/// The module paths a file refers to: `use` trees and paths in code, made absolute.
fn references(module: &[String], code: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let compact: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut paths = Vec::new();
    for statement in compact.split(';') {
        if let Some(at) = statement.find("use ") {
            let before = &statement[..at];
            if before.is_empty() || before.ends_with(' ') || before.ends_with('}') {
                paths.extend(expand(&statement[at + 4..].replace(' ', "")));
            }
        }
    }
    // Paths in code: crate::.., super::.., child::..
    let chars: Vec<char> = compact.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0
            || !(chars[i - 1].is_alphanumeric()
                || chars[i - 1] == '_'
                || chars[i - 1] == ':'
                || chars[i - 1] == '$');
        if boundary && (chars[i].is_alphabetic() || chars[i] == '_') {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word.contains("::") {
                paths.push(word);
            }
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for p in paths {
        let segs: Vec<&str> = p.split("::").filter(|s| !s.is_empty()).collect();
        let Some(first) = segs.first() else { continue };
        let mut abs: Vec<String> = match *first {
            "crate" => Vec::new(),
            "super" | "self" => {
                let mut m = module.to_vec();
                let mut rest = &segs[..];
                while let Some(s) = rest.first() {
                    match *s {
                        "super" => {
                            m.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
                m.extend(rest.iter().map(|s| s.to_string()));
                out.push(m);
                continue;
            }
            c if children.contains(c) => module.to_vec(),
            _ => continue,
        };
        let skip = usize::from(*first == "crate");
        abs.extend(segs.iter().skip(skip).map(|s| s.to_string()));
        out.push(abs);
    }
    out
}

/// The edges between files, by module path.
fn graph(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mods = modules(src);
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, path) in &mods {
        let code = code_of(&std::fs::read_to_string(path).unwrap());
        let children: BTreeSet<String> = mods
            .keys()
            .filter(|k| k.len() == module.len() + 1 && k.starts_with(module))
            .filter_map(|k| k.last().cloned())
            .collect();
        let targets = edges.entry(module.clone()).or_default();
        for reference in references(module, &code, &children) {
            // The deepest module the path names.
            let target = (0..=reference.len())
                .rev()
                .map(|n| reference[..n].to_vec())
                .find(|p| mods.contains_key(p));
            match target {
                // The crate root only declares modules (and the macros exported there).
                Some(t) if !t.is_empty() && &t != module => {
                    targets.insert(t);
                }
                _ => {}
            }
        }
    }
    edges
}

/// A cycle in the graph, if any (as the list of its nodes).
fn cycle<N: Ord + Clone>(edges: &BTreeMap<N, BTreeSet<N>>) -> Option<Vec<N>> {
    fn visit<N: Ord + Clone>(
        n: &N,
        edges: &BTreeMap<N, BTreeSet<N>>,
        state: &mut BTreeMap<N, u8>,
        stack: &mut Vec<N>,
    ) -> Option<Vec<N>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => {
                let at = stack.iter().position(|s| s == n).unwrap_or(0);
                let mut c = stack[at..].to_vec();
                c.push(n.clone());
                return Some(c);
            }
            _ => {}
        }
        state.insert(n.clone(), 1);
        stack.push(n.clone());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if let Some(c) = visit(n, edges, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn the_checker_finds_a_circle_and_resolves_paths() {
    let module = vec!["server".to_string()];
    let children: BTreeSet<String> = ["pipeline".to_string()].into();
    let refs = references(
        &module,
        "use super::registry::{tool::ToolDef, select::Registry};\nlet x = pipeline::Call::new();\nuse crate::{client::Service, safety::audit};",
        &children,
    );
    let joined: Vec<String> = refs.iter().map(|r| r.join("::")).collect();
    for want in [
        "registry::tool::ToolDef",
        "registry::select::Registry",
        "server::pipeline::Call::new",
        "client::Service",
        "safety::audit",
    ] {
        assert!(joined.iter().any(|j| j == want), "{want} not in {joined:?}");
    }
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    edges.entry("a").or_default().insert("b");
    edges.entry("b").or_default().insert("c");
    assert!(cycle(&edges).is_none());
    edges.entry("c").or_default().insert("a");
    assert_eq!(cycle(&edges).unwrap(), ["a", "b", "c", "a"]);
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let edges = graph(&src());
    assert!(edges.len() > 60, "read the sources ({} files)", edges.len());
    let in_sandbox = |m: &Vec<String>| m.first().is_some_and(|s| s == "sandbox");
    let files: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = edges
        .iter()
        .map(|(from, to)| {
            let kept = to
                .iter()
                .filter(|t| !(in_sandbox(from) && in_sandbox(t)))
                .cloned()
                .collect();
            (from.clone(), kept)
        })
        .collect();
    if let Some(c) = cycle(&files) {
        let names: Vec<String> = c.iter().map(|m| m.join("::")).collect();
        panic!("import circle between files: {}", names.join(" -> "));
    }
    // The same between the top-level modules (cli, config, client, registry, toolsets, server,
    // safety, transport, sandbox, ...): data flows one way.
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in &edges {
        let Some(f) = from.first() else { continue };
        let entry = top.entry(f.clone()).or_default();
        for t in targets.iter().filter_map(|t| t.first()) {
            if t != f {
                entry.insert(t.clone());
            }
        }
    }
    if let Some(c) = cycle(&top) {
        panic!(
            "import circle between top-level modules: {}",
            c.join(" -> ")
        );
    }
    // The sandbox is written from the API facts alone.
    for t in &top["sandbox"] {
        assert!(
            !matches!(t.as_str(), "registry" | "toolsets" | "client"),
            "the sandbox imports {t}"
        );
    }
}

#[test]
fn src_holds_at_most_five_files_besides_its_folders() {
    let files: Vec<String> = std::fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| !modules_dir_file(n))
        .collect();
    assert!(files.len() <= 5, "{files:?}");
}

/// `foo.rs` beside a `foo/` folder is that folder's module file, not a loose file.
fn modules_dir_file(name: &str) -> bool {
    name.strip_suffix(".rs")
        .is_some_and(|stem| src().join(stem).is_dir())
}
