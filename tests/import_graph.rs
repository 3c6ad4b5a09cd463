//! The units of `src/` (a file or a folder each) depend on each other one
//! way: no `crate::` path leads from a unit back to itself. A cycle means
//! two stages know each other, and the data no longer flows one way
//! (docs/architecture.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Unit of a source file: `src/render/pages.rs` → `render`, `src/load.rs` → `load`.
fn unit_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src/");
    let first = rel
        .components()
        .next()
        .expect("a file")
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Identifier at the start of `text`.
fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// Units a source text names through `crate::`: `crate::a::b`, `use
/// crate::a;`, `use crate::{a, b::c, d::{e, f}}` (top level of the group
/// only), with line comments left out.
fn dependencies(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut units = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue; // `$crate::`, `my_crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if c.is_whitespace() => {}
                    _ if start && depth == 0 => {
                        let name = ident(&group[i..]);
                        if !name.is_empty() && name != "self" {
                            units.insert(name.to_string());
                        }
                        start = false;
                    }
                    _ => start = false,
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                units.insert(name.to_string());
            }
        }
    }
    units
}

/// The unit graph of `src/`, without `lib.rs` and `main.rs` (they name
/// every unit; nothing names them).
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable src/") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let unit = unit_of(src, &path);
                if unit == "lib" || unit == "main" {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("readable source");
                let mut deps = dependencies(&text);
                deps.remove(&unit);
                graph.entry(unit).or_default().extend(deps);
            }
        }
    }
    graph
}

/// A cycle of the graph, as the path of units that closes it, if any.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        unit: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(unit) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = path.iter().position(|u| u == unit).expect("on the path");
                let mut cycle = path[from..].to_vec();
                cycle.push(unit.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(unit.to_string(), Mark::Open);
        path.push(unit.to_string());
        for next in graph.get(unit).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(unit.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|unit| visit(unit, graph, &mut marks, &mut Vec::new()))
}

#[test]
fn the_units_of_src_depend_on_each_other_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph(&src);
    assert!(graph.contains_key("compose") && graph["pipeline"].contains("compose"));
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle between units of src/: {}", cycle.join(" → "));
    }
}

#[test]
fn every_form_of_crate_path_is_read() {
    let text = "use crate::a::B;\nuse crate::{b, c::D, d::{e, f::G}, self};\n// use crate::commented;\nfn x() { crate::e::run(); $crate::no(); }\n";
    let found: Vec<String> = dependencies(text).into_iter().collect();
    assert_eq!(found, ["a", "b", "c", "d", "e"]);
}

#[test]
fn a_cycle_is_found() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    graph.get_mut("c").expect("c").clear();
    assert_eq!(find_cycle(&graph), None);
}
