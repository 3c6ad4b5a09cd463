//! YAML parsing with positions that point into the user's file.
//!
//! `yaml_serde` counts lines from the start of the string it parses; front
//! matter starts a line or more into its Markdown file, so every location is
//! shifted by the caller's offset before it reaches the user.

mod depth;

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::Diagnostic;

/// Parses `text` (which starts at 1-based line `first_line` of `file`) into `T`.
///
/// `what` names the document in messages ("front matter", "atelier.yaml").
/// A text that nests collections too deeply is refused before the parser
/// sees it: the parser would take minutes over it.
pub fn parse<T: DeserializeOwned>(
    text: &str,
    file: &Path,
    first_line: usize,
    what: &str,
) -> Result<T, Diagnostic> {
    if let Some(deep) = depth::too_deep(text) {
        return Err(Diagnostic::error(
            file,
            format!(
                "{what} nests lists or mappings more than {} levels deep",
                depth::MAX_DEPTH
            ),
        )
        .at(first_line + deep.line - 1, deep.column)
        .with_help(
            "a few levels are all atelier needs: look for `[` or `{` that are never closed, or quote the text (`title: \"[[…\"`)",
        ));
    }
    // An empty document is a mapping with no keys, so "missing title" is what
    // the user sees, not a parser's end-of-input message.
    let text = if text.trim().is_empty() { "{}" } else { text };
    yaml_serde::from_str(text).map_err(|error| to_diagnostic(&error, file, first_line, what))
}

fn to_diagnostic(
    error: &yaml_serde::Error,
    file: &Path,
    first_line: usize,
    what: &str,
) -> Diagnostic {
    let full = error.to_string();
    let raw = match full.rfind(" at line ") {
        Some(at) => &full[..at],
        None => full.as_str(),
    };
    // yaml_serde prefixes some messages with the key path ("fields[0]: ...",
    // "language: ...").
    let is_path = |path: &str| {
        !path.is_empty()
            && path
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']'))
    };
    let (path, raw) = match raw.split_once(": ") {
        Some((path, rest)) if is_path(path) => (Some(path), rest),
        _ => (None, raw),
    };
    let within = path.map(|p| format!(" (in `{p}`)")).unwrap_or_default();
    let (message, help) = if let Some(rest) = raw.strip_prefix("unknown field ") {
        let (key, expected) = rest.split_once(", expected").unwrap_or((rest, ""));
        let expected = expected.trim_start_matches(" one of").trim();
        let known = expected.split(", ").map(|k| k.trim_matches('`'));
        let guess = crate::suggest::closest(key.trim_matches('`'), known)
            .map(|k| format!("did you mean `{k}`? "))
            .unwrap_or_default();
        (
            format!("unknown key {key} in {what}{within}"),
            Some(if expected.is_empty() {
                "remove this key".to_string()
            } else {
                format!("{guess}known keys here: {expected}; check the spelling or remove it")
            }),
        )
    } else if let Some(rest) = raw.strip_prefix("missing field ") {
        (
            format!("missing required key {rest} in {what}{within}"),
            Some(format!("add a line `{}: ...`", rest.trim_matches('`'))),
        )
    } else if let Some(rest) = raw.strip_prefix("unknown variant ") {
        let (value, expected) = rest.split_once(", expected").unwrap_or((rest, ""));
        (
            format!("unsupported value {value} in {what}{within}"),
            Some(format!("use{expected}")),
        )
    } else if raw.starts_with("invalid type") {
        (
            format!("{raw} in {what}{within}"),
            Some(
                "check the value's form (quote text containing `:` or starting with a symbol)"
                    .to_string(),
            ),
        )
    } else {
        (
            format!("{raw} in {what}{within}"),
            Some("check the YAML syntax: `key: value`, quote text containing `: `, consistent indentation".to_string()),
        )
    };
    let mut diagnostic = Diagnostic::error(file, message);
    diagnostic.help = help;
    match error.location() {
        Some(location) => diagnostic.at(first_line + location.line() - 1, location.column()),
        None => diagnostic.at_line(first_line),
    }
}
