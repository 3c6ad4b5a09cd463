//! `{{ path }}` variable substitution in page bodies and front-matter strings.
//!
//! A workshop is only personal if the client's name, sector and examples
//! actually appear in it, so a variable that resolves to nothing is an error,
//! never a silent blank. Markdown code (fenced code blocks and inline code
//! spans) is documentation about syntax, so it is left byte-for-byte as
//! written; `\{{` writes a literal `{{` everywhere else.
//!
//! The module also exposes [`CodeFenceTracker`], the line-based fenced-code
//! detector shared with the directive expander, so that both passes agree on
//! what is code.

use std::collections::{HashMap, HashSet};

/// The result of looking up one variable path, as answered by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The variable exists and has this value (it may still be blank, which
    /// [`substitute`] reports as an error).
    Value(String),
    /// No such variable.
    Missing,
}

/// One problem found by [`substitute`]: a malformed `{{`, or a variable that
/// resolves to nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableError {
    /// 1-based line of the opening `{{` in the text given to [`substitute`].
    pub line: usize,
    /// 1-based column (in characters, not bytes) of the opening `{{`.
    pub column: usize,
    /// The variable path (`client.vars.persona`); empty when the variable is
    /// malformed and has no readable path.
    pub name: String,
    /// What is wrong and how to fix it; the caller may append hints.
    pub message: String,
}

/// A successful substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Substitution {
    /// The text with every variable replaced and every `\{{` turned into `{{`.
    pub text: String,
    /// Distinct variable paths found, in order of first use.
    pub used: Vec<String>,
}

/// Fast pre-check: can `text` contain a variable or an escaped `\{{`?
///
/// When this returns `false`, [`substitute`] would return the text unchanged.
#[must_use]
pub fn has_variables(text: &str) -> bool {
    text.contains("{{")
}

/// Replaces every `{{ path }}` in `text` with the value `lookup` gives for it,
/// as is: for plain strings (front matter), which templates escape.
///
/// Fenced code blocks and inline code spans are copied unchanged. `\{{`
/// becomes `{{`.
///
/// # Errors
///
/// A variable that is missing or blank, and a malformed or unclosed `{{`;
/// all of them are collected and returned together, in text order.
pub fn substitute(
    text: &str,
    lookup: &dyn Fn(&str) -> Lookup,
) -> Result<Substitution, Vec<VariableError>> {
    substitute_as(text, lookup, false)
}

/// [`substitute`] for Markdown (page bodies): each value is written so that
/// the Markdown parser and browsers read it as literal text, never as markup
/// (see [`super::literal`]).
///
/// # Errors
///
/// As [`substitute`].
pub fn substitute_markdown(
    text: &str,
    lookup: &dyn Fn(&str) -> Lookup,
) -> Result<Substitution, Vec<VariableError>> {
    substitute_as(text, lookup, true)
}

fn substitute_as(
    text: &str,
    lookup: &dyn Fn(&str) -> Lookup,
    literal: bool,
) -> Result<Substitution, Vec<VariableError>> {
    let mut scanner = Scanner {
        text,
        bytes: text.as_bytes(),
        lookup,
        literal,
        out: String::with_capacity(text.len()),
        copied: 0,
        errors: Vec::new(),
        used: Vec::new(),
        used_set: HashSet::new(),
    };
    let mut fences = CodeFenceTracker::new();
    // Start byte and first line number of the pending run of text lines.
    let mut pending: Option<(usize, usize)> = None;
    let mut offset = 0;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line_no = index + 1;
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let kind = fences.classify(line, line_no);
        let is_text = kind == FenceLine::Text;
        let is_paragraph_text = is_text && !line.trim().is_empty() && !is_colon_fence(line);
        if is_paragraph_text {
            if pending.is_none() {
                pending = Some((start, line_no));
            }
            continue;
        }
        if let Some((seg_start, seg_line)) = pending.take() {
            scanner.scan(seg_start, start, seg_line);
        }
        if is_text {
            // A blank line or a directive fence line: a block of its own.
            scanner.scan(start, offset, line_no);
        }
    }
    if let Some((seg_start, seg_line)) = pending.take() {
        scanner.scan(seg_start, text.len(), seg_line);
    }
    scanner.finish()
}

/// Is this line a `:::` directive fence (a block boundary for code spans)?
fn is_colon_fence(line: &str) -> bool {
    let trimmed = line.trim_start_matches(' ');
    line.len() - trimmed.len() <= 3 && trimmed.starts_with(":::")
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    lookup: &'a dyn Fn(&str) -> Lookup,
    /// Values are written as literal Markdown text, not as is.
    literal: bool,
    out: String,
    /// Everything before this byte offset has been written to `out`.
    copied: usize,
    errors: Vec<VariableError>,
    used: Vec<String>,
    used_set: HashSet<String>,
}

/// Where the scanner is, for line and column numbers.
struct Position {
    line: usize,
    line_start: usize,
    /// A cached (byte offset, column) pair on the current line, so that
    /// computing many columns on one long line stays linear.
    cache_byte: usize,
    cache_col: usize,
}

impl Position {
    fn new(line: usize, line_start: usize) -> Self {
        Position {
            line,
            line_start,
            cache_byte: line_start,
            cache_col: 1,
        }
    }

    fn newline_at(&mut self, byte: usize) {
        *self = Position::new(self.line + 1, byte + 1);
    }

    /// Column of `byte`, which must not be before the previous query.
    fn column(&mut self, text: &str, byte: usize) -> usize {
        if byte < self.cache_byte {
            self.cache_byte = self.line_start;
            self.cache_col = 1;
        }
        let chars = text
            .get(self.cache_byte..byte)
            .map_or(0, |s| s.chars().count());
        self.cache_byte = byte;
        self.cache_col += chars;
        self.cache_col
    }
}

/// Backtick runs of one block, grouped by length, for linear code-span
/// matching: each length keeps a cursor that only moves forward.
struct BacktickRuns {
    by_len: HashMap<usize, (Vec<usize>, usize)>,
}

impl BacktickRuns {
    fn new(bytes: &[u8], start: usize, end: usize) -> Self {
        let mut by_len: HashMap<usize, (Vec<usize>, usize)> = HashMap::new();
        let mut i = start;
        while i < end {
            if bytes.get(i) == Some(&b'`') {
                let run_start = i;
                while i < end && bytes.get(i) == Some(&b'`') {
                    i += 1;
                }
                by_len.entry(i - run_start).or_default().0.push(run_start);
            } else {
                i += 1;
            }
        }
        BacktickRuns { by_len }
    }

    /// Start of the first run of exactly `len` backticks starting at or
    /// after `from`. Queries must come with non-decreasing `from`.
    fn closer(&mut self, len: usize, from: usize) -> Option<usize> {
        let (starts, cursor) = self.by_len.get_mut(&len)?;
        while starts.get(*cursor).is_some_and(|&s| s < from) {
            *cursor += 1;
        }
        starts.get(*cursor).copied()
    }
}

impl Scanner<'_> {
    fn byte(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    /// Copies the unchanged text up to `upto` into the output.
    fn flush(&mut self, upto: usize) {
        if upto > self.copied {
            if let Some(s) = self.text.get(self.copied..upto) {
                self.out.push_str(s);
            }
            self.copied = upto;
        }
    }

    /// Scans one block of text lines (`start..end`, starting at a line
    /// start), replacing variables outside code spans.
    fn scan(&mut self, start: usize, end: usize, first_line: usize) {
        if !self.text.get(start..end).is_some_and(|s| s.contains('{')) {
            return;
        }
        let mut runs = BacktickRuns::new(self.bytes, start, end);
        let mut pos = Position::new(first_line, start);
        let mut i = start;
        while i < end {
            match self.byte(i) {
                Some(b'\n') => {
                    pos.newline_at(i);
                    i += 1;
                }
                Some(b'\\') => {
                    if self.byte(i + 1) == Some(b'{') && self.byte(i + 2) == Some(b'{') {
                        self.flush(i);
                        self.out.push_str("{{");
                        self.copied = i + 3;
                        i += 3;
                    } else if self.byte(i + 1).is_some_and(|b| b.is_ascii_punctuation()) {
                        // A Markdown escape: the next character is literal.
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                Some(b'`') => {
                    let mut run_end = i;
                    while run_end < end && self.byte(run_end) == Some(b'`') {
                        run_end += 1;
                    }
                    match runs.closer(run_end - i, run_end) {
                        Some(close) if close < end => {
                            // A code span: skip it unchanged, keeping count of lines.
                            for j in run_end..close {
                                if self.byte(j) == Some(b'\n') {
                                    pos.newline_at(j);
                                }
                            }
                            i = close + (run_end - i);
                        }
                        // An unmatched run of backticks is literal text.
                        _ => i = run_end,
                    }
                }
                Some(b'{') if self.byte(i + 1) == Some(b'{') => {
                    i = self.variable(i, end, &mut pos);
                }
                _ => i += 1,
            }
        }
    }

    /// Handles the `{{` at `start`; returns where scanning resumes.
    fn variable(&mut self, start: usize, end: usize, pos: &mut Position) -> usize {
        let is_space = |b: Option<u8>| matches!(b, Some(b' ' | b'\t'));
        let mut j = start + 2;
        while j < end && is_space(self.byte(j)) {
            j += 1;
        }
        let path_start = j;
        loop {
            if !self
                .byte(j)
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            {
                break;
            }
            j += 1;
            while self
                .byte(j)
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                j += 1;
            }
            let next_is_segment = self.byte(j) == Some(b'.')
                && self
                    .byte(j + 1)
                    .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
            if !next_is_segment {
                break;
            }
            j += 1;
        }
        let path_end = j;
        while j < end && is_space(self.byte(j)) {
            j += 1;
        }
        let closed = j + 1 < end && self.byte(j) == Some(b'}') && self.byte(j + 1) == Some(b'}');
        let column = pos.column(self.text, start);
        let path = self.text.get(path_start..path_end).unwrap_or("");
        if path.is_empty() || !closed {
            let at_line_end = matches!(self.byte(j), None | Some(b'\n' | b'\r'));
            let snippet = self.snippet(start, end);
            let message = if !path.is_empty() && at_line_end {
                format!(
                    "unclosed variable `{snippet}`: close it with `}}}}` \
                     (write {{{{ {path} }}}}), or write \\{{{{ for a literal {{{{"
                )
            } else {
                format!(
                    "malformed variable `{snippet}`: write {{{{ client.name }}}} \
                     (a dotted name between {{{{ and }}}}), or \\{{{{ for a literal {{{{"
                )
            };
            self.errors.push(VariableError {
                line: pos.line,
                column,
                name: String::new(),
                message,
            });
            return start + 2;
        }
        let after = j + 2;
        if self.used_set.insert(path.to_string()) {
            self.used.push(path.to_string());
        }
        let problem = match (self.lookup)(path) {
            Lookup::Value(value) if !value.trim().is_empty() => {
                self.flush(start);
                if self.literal {
                    let before = self.out.chars().next_back();
                    let next = self.text.get(after..).and_then(|rest| rest.chars().next());
                    super::literal::push_literal(&value, before, next, &mut self.out);
                } else {
                    self.out.push_str(&value);
                }
                self.copied = after;
                None
            }
            Lookup::Value(_) => Some(format!("`{path}` has no value (it is empty)")),
            Lookup::Missing => Some(format!("`{path}` has no value")),
        };
        if let Some(message) = problem {
            self.errors.push(VariableError {
                line: pos.line,
                column,
                name: path.to_string(),
                message,
            });
        }
        after
    }

    /// A short excerpt of a malformed variable for error messages: up to the
    /// next `}}` on the same line, or a few dozen characters.
    fn snippet(&self, start: usize, end: usize) -> String {
        const LIMIT: usize = 60;
        let mut j = start + 2;
        let mut stop = None;
        while j < end && j < start + LIMIT {
            match self.byte(j) {
                Some(b'\n' | b'\r') | None => break,
                Some(b'}') if self.byte(j + 1) == Some(b'}') => {
                    stop = Some(j + 2);
                    break;
                }
                _ => j += 1,
            }
        }
        let mut stop = stop.unwrap_or(j).min(end);
        while stop > start && !self.text.is_char_boundary(stop) {
            stop -= 1;
        }
        let excerpt = self.text.get(start..stop).unwrap_or("{{");
        if stop >= start + LIMIT {
            format!("{excerpt}…")
        } else {
            excerpt.to_string()
        }
    }

    fn finish(mut self) -> Result<Substitution, Vec<VariableError>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        self.flush(self.text.len());
        Ok(Substitution {
            text: self.out,
            used: self.used,
        })
    }
}

/// What a line is with respect to fenced code blocks, as decided by
/// [`CodeFenceTracker::classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FenceLine {
    /// Ordinary Markdown, outside any fenced code block.
    Text,
    /// The opening fence of a code block (```` ``` ```` or `~~~`).
    Open,
    /// A line inside a fenced code block.
    Code,
    /// The closing fence of a code block.
    Close,
}

/// Follows fenced code blocks line by line, the way `CommonMark` does for the
/// common cases: a run of at least three backticks or tildes, possibly after
/// indentation, blockquote markers (`>`) or list markers (`-`, `1.`), closed
/// by a run of the same character at least as long with nothing after it,
/// or by the end of the text.
#[derive(Debug, Clone, Default)]
pub struct CodeFenceTracker {
    open: Option<OpenFence>,
}

#[derive(Debug, Clone, Copy)]
struct OpenFence {
    ch: u8,
    len: usize,
    line: usize,
    /// How many `>` markers its opening line has: a line with fewer ends
    /// the blockquote, and the code block with it.
    quotes: usize,
}

impl CodeFenceTracker {
    /// A tracker outside any code block.
    #[must_use]
    pub fn new() -> Self {
        CodeFenceTracker::default()
    }

    /// Classifies the next line (without its line ending; a trailing `\r` is
    /// tolerated) and updates the state. `line_no` is only remembered for
    /// [`CodeFenceTracker::open_since`].
    pub fn classify(&mut self, line: &str, line_no: usize) -> FenceLine {
        self.end_if_blockquote_left(line);
        let body = strip_container_prefix(line);
        let quotes = quote_depth(line, body);
        match self.open {
            Some(fence) => {
                let (ch, len, rest) = fence_run(body);
                if ch == fence.ch && len >= fence.len && rest.trim().is_empty() {
                    self.open = None;
                    FenceLine::Close
                } else {
                    FenceLine::Code
                }
            }
            None => {
                let (ch, len, rest) = fence_run(body);
                let valid = len >= 3 && (ch == b'~' || (ch == b'`' && !rest.contains('`')));
                if valid {
                    self.open = Some(OpenFence {
                        ch,
                        len,
                        line: line_no,
                        quotes,
                    });
                    FenceLine::Open
                } else {
                    FenceLine::Text
                }
            }
        }
    }

    /// Ends the open code block when `line` has fewer `>` markers than its
    /// opening fence: the blockquote, and the code block in it, ended on
    /// the line before (as `CommonMark` reads it).
    pub fn end_if_blockquote_left(&mut self, line: &str) {
        if self
            .open
            .is_some_and(|fence| quote_depth(line, strip_container_prefix(line)) < fence.quotes)
        {
            self.open = None;
        }
    }

    /// Is a fenced code block open (the next line would be code or its
    /// closing fence)?
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// The line number of the opening fence of the code block still open,
    /// if any.
    pub fn open_since(&self) -> Option<usize> {
        self.open.map(|fence| fence.line)
    }
}

/// How many `>` markers sit in front of `body`, the rest of `line`.
fn quote_depth(line: &str, body: &str) -> usize {
    line[..line.len() - body.len()].matches('>').count()
}

/// Removes indentation, blockquote markers and list markers in front of a
/// line's content.
fn strip_container_prefix(line: &str) -> &str {
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if let Some(after) = trimmed.strip_prefix('>') {
            rest = after;
        } else if let Some(after) = strip_list_marker(trimmed) {
            rest = after;
        } else {
            return trimmed;
        }
    }
}

fn strip_list_marker(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let marker_len = match bytes.first() {
        Some(b'-' | b'*' | b'+') => 1,
        Some(b'0'..=b'9') if digits <= 9 && matches!(bytes.get(digits), Some(b'.' | b')')) => {
            digits + 1
        }
        _ => return None,
    };
    match bytes.get(marker_len) {
        Some(b' ' | b'\t') => line.get(marker_len..),
        _ => None,
    }
}

/// The leading run of backticks or tildes of `body`: (char, length, rest).
fn fence_run(body: &str) -> (u8, usize, &str) {
    let ch = match body.as_bytes().first() {
        Some(&c @ (b'`' | b'~')) => c,
        _ => return (0, 0, body),
    };
    let len = body.bytes().take_while(|&b| b == ch).count();
    (ch, len, body.get(len..).unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Lookup {
        match name {
            "client.name" => Lookup::Value("Maison Lemoine".into()),
            "client.sector" => Lookup::Value("chocolaterie".into()),
            "site.title" => Lookup::Value("Raconter".into()),
            "client.vars.persona" => Lookup::Value("Claire, 41 ans".into()),
            "client.vars.blank" => Lookup::Value("  \t ".into()),
            "client.vars.empty" => Lookup::Value(String::new()),
            "client.vars.crème" => Lookup::Value("non".into()),
            "page.my-title_2" => Lookup::Value("T".into()),
            _ => Lookup::Missing,
        }
    }

    fn ok(text: &str) -> Substitution {
        match substitute(text, &vars) {
            Ok(s) => s,
            Err(e) => panic!("unexpected errors for {text:?}: {e:?}"),
        }
    }

    fn errs(text: &str) -> Vec<VariableError> {
        match substitute(text, &vars) {
            Ok(s) => panic!("expected errors for {text:?}, got {s:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn replaces_simple_variables() {
        let s = ok("Bonjour {{ client.name }}, du secteur {{client.sector}}.");
        assert_eq!(s.text, "Bonjour Maison Lemoine, du secteur chocolaterie.");
        assert_eq!(s.used, vec!["client.name", "client.sector"]);
    }

    #[test]
    fn spaces_and_tabs_are_optional() {
        assert_eq!(ok("{{client.name}}").text, "Maison Lemoine");
        assert_eq!(ok("{{   client.name\t}}").text, "Maison Lemoine");
        assert_eq!(ok("{{ page.my-title_2 }}").text, "T");
    }

    #[test]
    fn used_is_distinct_in_order_of_first_use() {
        let s = ok("{{ site.title }} {{ client.name }} {{ site.title }} {{client.name}}");
        assert_eq!(s.used, vec!["site.title", "client.name"]);
    }

    #[test]
    fn text_without_variables_is_unchanged() {
        let text = "# Titre\n\nRien à voir ici { } }} {x}.\r\nFin";
        assert!(!has_variables(text));
        let s = ok(text);
        assert_eq!(s.text, text);
        assert!(s.used.is_empty());
        assert_eq!(ok("").text, "");
    }

    #[test]
    fn has_variables_detects_braces() {
        assert!(has_variables("a {{ b }}"));
        assert!(has_variables("a \\{{ b"));
        assert!(!has_variables("a { b }"));
    }

    #[test]
    fn missing_variable_is_an_error_with_position() {
        let e = errs("Titre\n\nBonjour {{ client.vars.nope }} !");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, 3);
        assert_eq!(e[0].column, 9);
        assert_eq!(e[0].name, "client.vars.nope");
        assert_eq!(e[0].message, "`client.vars.nope` has no value");
    }

    #[test]
    fn blank_values_are_errors() {
        let e = errs("{{ client.vars.blank }} et {{ client.vars.empty }}");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].name, "client.vars.blank");
        assert!(e[0].message.contains("has no value"));
        assert_eq!(e[1].name, "client.vars.empty");
        assert_eq!(e[1].column, 28);
    }

    #[test]
    fn all_errors_are_collected() {
        let e = errs("{{ a }}\n{{ 3 + }}\n`ok` {{ b }} {{ client.name }} {{ c");
        let lines: Vec<_> = e.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(lines, vec![(1, 1), (2, 1), (3, 6), (3, 32)]);
        assert!(e[1].message.starts_with("malformed variable `{{ 3 + }}`"));
        assert!(e[1].message.contains("{{ client.name }}"));
        assert!(e[1].message.contains("\\{{ for a literal {{"));
        assert_eq!(e[1].name, "");
        assert!(e[3].message.starts_with("unclosed variable `{{ c`"));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let e = errs("Émotion « été » — {{ client.vars.x }}");
        assert_eq!(e[0].column, 19);
        let e = errs("日本語{{ a }}日本語{{ b }}");
        assert_eq!((e[0].column, e[1].column), (4, 14));
    }

    #[test]
    fn malformed_variables() {
        for text in [
            "{{ }}",
            "{{ 3 + }}",
            "{{ client. }}",
            "{{ client..name }}",
            "{{ .name }}",
            "{{ client name }}",
            "{{ client.name }",
            "{{ client.name",
            "{{",
            "{{ -x }}",
            "{{ client.crème }}",
        ] {
            let e = errs(text);
            assert_eq!(e.len(), 1, "{text:?}: {e:?}");
            assert_eq!((e[0].line, e[0].column), (1, 1), "{text:?}");
        }
    }

    #[test]
    fn unclosed_variable_message_suggests_fix() {
        let e = errs("Bonjour {{ client.name\nsuite");
        assert_eq!(e.len(), 1);
        assert!(
            e[0].message.contains("write {{ client.name }}"),
            "{}",
            e[0].message
        );
        // A variable never spans lines.
        let e = errs("{{ client.name\n}}");
        assert_eq!(e.len(), 1);
    }

    #[test]
    fn long_malformed_snippet_is_truncated() {
        let text = format!("{{{{ {} ", "x y ".repeat(100));
        let e = errs(&text);
        assert_eq!(e.len(), 1);
        assert!(e[0].message.len() < 300);
        assert!(e[0].message.contains('…'));
    }

    #[test]
    fn escaped_braces_are_literal() {
        let s = ok("Écrivez \\{{ client.name }} pour {{ client.name }}.");
        assert_eq!(s.text, "Écrivez {{ client.name }} pour Maison Lemoine.");
        assert_eq!(s.used, vec!["client.name"]);
        // An escaped malformed variable is fine too.
        assert_eq!(ok("\\{{ 3 + }}").text, "{{ 3 + }}");
        assert_eq!(ok("\\{{").text, "{{");
        // A single escaped brace is a Markdown escape, left alone.
        assert_eq!(ok("\\{ x }").text, "\\{ x }");
    }

    #[test]
    fn escaped_backslash_does_not_escape_braces() {
        assert_eq!(ok("\\\\{{ client.name }}").text, "\\\\Maison Lemoine");
    }

    #[test]
    fn triple_braces() {
        let e = errs("{{{ client.name }}}");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].column, 1);
    }

    #[test]
    fn code_spans_are_untouched() {
        let text = "Écrivez `{{ client.name }}` ou ``{{ x }} ` \\{{ `` puis {{ client.name }}.";
        let s = ok(text);
        assert_eq!(
            s.text,
            "Écrivez `{{ client.name }}` ou ``{{ x }} ` \\{{ `` puis Maison Lemoine."
        );
        assert_eq!(s.used, vec!["client.name"]);
    }

    #[test]
    fn code_span_needs_exact_backtick_count() {
        // ``` does not close `: the span runs to the next single backtick.
        let s = ok("`{{ x }}``` `{{ client.name }}");
        assert_eq!(s.text, "`{{ x }}``` `Maison Lemoine");
    }

    #[test]
    fn unmatched_backticks_are_literal() {
        let s = ok("Un ` seul, puis {{ client.name }}");
        assert_eq!(s.text, "Un ` seul, puis Maison Lemoine");
        let s = ok("`` deux {{ client.name }} ` un");
        assert_eq!(s.text, "`` deux Maison Lemoine ` un");
    }

    #[test]
    fn escaped_backtick_does_not_open_a_code_span() {
        let s = ok("\\`{{ client.name }}`");
        assert_eq!(s.text, "\\`Maison Lemoine`");
    }

    #[test]
    fn backslash_inside_code_span_is_literal() {
        let s = ok("`a\\` {{ client.name }}");
        assert_eq!(s.text, "`a\\` Maison Lemoine");
    }

    #[test]
    fn code_span_across_lines_of_a_paragraph() {
        let s = ok("Un `début\n{{ x }} fin` et\n{{ client.name }}");
        assert_eq!(s.text, "Un `début\n{{ x }} fin` et\nMaison Lemoine");
        let e = errs("Un `début\n{{ x }} fin` et\n{{ y }}");
        assert_eq!((e[0].line, e[0].column), (3, 1));
    }

    #[test]
    fn code_spans_do_not_cross_blank_lines() {
        let s = ok("Un ` ici\n\n{{ client.name }} `");
        assert_eq!(s.text, "Un ` ici\n\nMaison Lemoine `");
    }

    #[test]
    fn fenced_code_blocks_are_untouched() {
        let text = "Avant {{ client.name }}\n\n```yaml\nname: {{ client.name }}\n\\{{ x }}\n```\n\n~~~~\n{{ y }}\n~~~\n{{ z }}\n~~~~\nAprès {{ client.sector }}\n";
        let s = ok(text);
        assert_eq!(
            s.text,
            "Avant Maison Lemoine\n\n```yaml\nname: {{ client.name }}\n\\{{ x }}\n```\n\n~~~~\n{{ y }}\n~~~\n{{ z }}\n~~~~\nAprès chocolaterie\n"
        );
        assert_eq!(s.used, vec!["client.name", "client.sector"]);
    }

    #[test]
    fn unclosed_fence_runs_to_end_of_text() {
        let s = ok("{{ client.name }}\n```\n{{ x }}\n");
        assert_eq!(s.text, "Maison Lemoine\n```\n{{ x }}\n");
    }

    #[test]
    fn closing_fence_must_match_char_and_length() {
        let s = ok("````\n```\n{{ x }}\n~~~~\n{{ y }}\n````\n{{ client.name }}");
        assert_eq!(
            s.text,
            "````\n```\n{{ x }}\n~~~~\n{{ y }}\n````\nMaison Lemoine"
        );
        // A fence with text after it does not close.
        let s = ok("```\n``` no\n{{ x }}\n```\n{{ client.name }}");
        assert!(s.text.ends_with("```\nMaison Lemoine"));
    }

    #[test]
    fn backtick_fence_info_cannot_contain_backticks() {
        // ```a``` is an inline code span, not a fence.
        let s = ok("```{{ x }}```\n{{ client.name }}");
        assert_eq!(s.text, "```{{ x }}```\nMaison Lemoine");
    }

    #[test]
    fn fences_in_lists_and_blockquotes() {
        let text = "- item\n  ```\n  {{ x }}\n  ```\n> ```\n> {{ y }}\n> ```\n1. ~~~\n   {{ z }}\n   ~~~\n{{ client.name }}";
        let s = ok(text);
        assert!(s.text.contains("  {{ x }}\n"));
        assert!(s.text.contains("> {{ y }}\n"));
        assert!(s.text.contains("   {{ z }}\n"));
        assert!(s.text.ends_with("\nMaison Lemoine"));
        // A code block in a blockquote ends with the blockquote.
        let s = ok("> ```\n> {{ y }}\n\n{{ client.name }}\n");
        assert!(s.text.ends_with("\nMaison Lemoine\n"), "{}", s.text);
    }

    #[test]
    fn fence_inside_directive_body() {
        let text = "::: tip\n```\n{{ x }}\n```\n{{ client.name }}\n:::\n";
        assert_eq!(
            ok(text).text,
            "::: tip\n```\n{{ x }}\n```\nMaison Lemoine\n:::\n"
        );
    }

    #[test]
    fn variables_in_directive_attributes() {
        let s = ok("::: quote author=\"{{ client.name }}\"\nTexte\n:::");
        assert_eq!(s.text, "::: quote author=\"Maison Lemoine\"\nTexte\n:::");
    }

    #[test]
    fn crlf_line_endings_are_kept() {
        let s = ok("a {{ client.name }}\r\n```\r\n{{ x }}\r\n```\r\nb {{ site.title }}\r\n");
        assert_eq!(
            s.text,
            "a Maison Lemoine\r\n```\r\n{{ x }}\r\n```\r\nb Raconter\r\n"
        );
        let e = errs("a\r\nb {{ x }}");
        assert_eq!((e[0].line, e[0].column), (2, 3));
    }

    #[test]
    fn values_are_inserted_verbatim() {
        let lookup = |_: &str| Lookup::Value("{{ client.name }} `x` \\{{".into());
        let s = substitute("a {{ client.name }} b", &lookup);
        assert_eq!(
            s.map(|s| s.text),
            Ok("a {{ client.name }} `x` \\{{ b".to_string())
        );
    }

    #[test]
    fn front_matter_strings() {
        assert_eq!(
            ok("Atelier pour {{ client.name }}").text,
            "Atelier pour Maison Lemoine"
        );
        assert_eq!(ok("{{ client.name }}").text, "Maison Lemoine");
    }

    #[test]
    fn pathological_inputs_are_linear_and_do_not_panic() {
        let many_braces = "{{".repeat(50_000);
        assert_eq!(errs(&many_braces).len(), 50_000);
        let many_backticks: String = (1..2_000).map(|n| "`".repeat(n % 7 + 1) + "x").collect();
        assert!(substitute(&many_backticks, &vars).is_ok());
        let mixed = "`` ` {{ client.name }} \\ \\{{ é".repeat(20_000);
        assert!(substitute(&mixed, &vars).is_ok());
        let fences = "```\n{{ x }}\n".repeat(10_000);
        assert!(substitute(&fences, &vars).is_err());
        for text in [
            "\\", "{", "}", "`", "{{ a", "\\{", "é{{", "{{é", "{{ a.", "{{ a }",
        ] {
            let _ = substitute(text, &vars);
        }
    }

    #[test]
    fn rendered_with_pulldown_cmark() {
        let s = ok("Bonjour {{ client.name }} et `{{ client.name }}` et \\{{ x }}.");
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(&s.text));
        assert_eq!(
            html,
            "<p>Bonjour Maison Lemoine et <code>{{ client.name }}</code> et {{ x }}.</p>\n"
        );
    }

    #[test]
    fn tracker_classifies_lines() {
        let mut t = CodeFenceTracker::new();
        let kinds: Vec<_> = [
            "a", "```rust", "x", "````", "```", "b", "~~~", "```", "~~~ x", "~~~~",
        ]
        .iter()
        .enumerate()
        .map(|(i, l)| t.classify(l, i + 1))
        .collect();
        use FenceLine::*;
        assert_eq!(
            kinds,
            vec![
                Text, Open, Code, Close, Open, Code, Code, Close, Open, Close
            ]
        );
        let mut t = CodeFenceTracker::new();
        t.classify("   ~~~", 4);
        assert!(t.is_open());
        assert_eq!(t.open_since(), Some(4));
    }
}
