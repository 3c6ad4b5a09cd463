//! Colon-fenced directive blocks (`::: story`, `::: facilitator`, `::: tip`…)
//! expanded into raw HTML wrappers around their Markdown bodies.
//!
//! A table of specs ([`BUILTIN_SPECS`], and [`PROJECT_SPEC`] for kinds a
//! project defines) says how each kind is parsed and what the engine does
//! with it; the HTML around a body comes from the kind's template, through
//! [`DirectiveHtml`] (the render layer passes the theme in, this module
//! knows nothing of themes). Privacy is the engine's: a facilitator note is
//! dropped from participant versions before any template is asked for it.
//!
//! Directives are how a trainer marks what a passage *is*: the story told,
//! notes for the facilitator only, an embedded exercise, a passage for one
//! client's sector. This pass runs before the Markdown parser: each directive
//! becomes HTML block lines (surrounded by blank lines, so `CommonMark` keeps
//! the body as Markdown), blocks that the current version must not show are
//! dropped entirely (facilitator notes never reach participant pages, not
//! even as a comment), and every mistake is reported with its line and a fix.
//!
//! Nesting uses an explicit stack, so any depth works without recursion, and
//! a line map keeps error positions from the Markdown renderer pointing at
//! the author's source lines.

use super::variables::CodeFenceTracker;

/// What the engine does with a directive's content, whatever its template
/// says: privacy and conditions are rules of the engine, not of the theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Wrapped in its template's HTML in every version.
    Wrapper,
    /// Dropped from participant versions before any template sees it;
    /// wrapped only in facilitator versions.
    Facilitator,
    /// Folded (`<details>` without `open`) for participants, open for the
    /// facilitator; the engine refuses a template that would show it open.
    Solution,
    /// Kept only for clients matching every condition.
    Only,
    /// Kept except for clients matching every condition.
    Except,
    /// Embeds the exercise named by its positional id after its content.
    Exercise,
}

/// The attributes a kind accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attributes {
    /// None at all.
    None,
    /// These names only; `required` ones must be given and not blank.
    Named(&'static [AttributeSpec]),
    /// At least one `key="value"` condition on client.yaml values.
    Conditions,
    /// Any `key="value"`, all optional (project-defined kinds).
    Any,
}

/// One attribute a built-in kind accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeSpec {
    /// Its name (`author`).
    pub name: &'static str,
    /// Must it be given (and not blank)?
    pub required: bool,
}

/// How a directive kind is parsed and what the engine does with it. The
/// HTML is not here: it is the kind's template (`directives/KIND.html`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectiveSpec {
    /// The kind's name, as written after the colons.
    pub name: &'static str,
    /// The name under which the positional argument (`::: exercise ID`)
    /// reaches the template's `attrs`; it is then required.
    pub positional: Option<&'static str>,
    /// The `key="value"` attributes it accepts.
    pub attributes: Attributes,
    /// What the engine does with its content.
    pub role: Role,
    /// What the kind needs and how to write it, said when its positional
    /// argument or a required attribute is missing (`an author: write …`).
    pub needs: &'static str,
}

/// The built-in kinds, in the order they are listed in error messages.
pub const BUILTIN_SPECS: [DirectiveSpec; 10] = [
    simple("story", Role::Wrapper),
    simple("facilitator", Role::Facilitator),
    DirectiveSpec {
        name: "exercise",
        positional: Some("id"),
        attributes: Attributes::None,
        role: Role::Exercise,
        needs: "the id of an exercise: write `::: exercise lettre-personnalisee` (the \
                exercise's file name without `.md`)",
    },
    DirectiveSpec {
        name: "quote",
        positional: None,
        attributes: Attributes::Named(&[
            AttributeSpec {
                name: "author",
                required: true,
            },
            AttributeSpec {
                name: "source",
                required: false,
            },
        ]),
        role: Role::Wrapper,
        needs: "an author: write `::: quote author=\"Seth Godin\"` (and optionally \
                source=\"…\")",
    },
    simple("tip", Role::Wrapper),
    simple("note", Role::Wrapper),
    simple("warning", Role::Wrapper),
    simple("solution", Role::Solution),
    conditional("only", Role::Only),
    conditional("except", Role::Except),
];

/// The spec of every kind a project defines with a template of its own:
/// any optional attributes, wrapped in every version.
pub const PROJECT_SPEC: DirectiveSpec = DirectiveSpec {
    name: "",
    positional: None,
    attributes: Attributes::Any,
    role: Role::Wrapper,
    needs: "",
};

const fn simple(name: &'static str, role: Role) -> DirectiveSpec {
    DirectiveSpec {
        name,
        positional: None,
        attributes: Attributes::None,
        role,
        needs: "",
    }
}

const fn conditional(name: &'static str, role: Role) -> DirectiveSpec {
    DirectiveSpec {
        name,
        positional: None,
        attributes: Attributes::Conditions,
        role,
        needs: "",
    }
}

/// The built-in spec of `name`.
#[must_use]
pub fn builtin_spec(name: &str) -> Option<&'static DirectiveSpec> {
    BUILTIN_SPECS.iter().find(|spec| spec.name == name)
}

/// Every built-in kind, in the order they are listed in error messages.
pub const KNOWN_KINDS: [&str; 10] = {
    let mut names = [""; 10];
    let mut index = 0;
    while index < BUILTIN_SPECS.len() {
        names[index] = BUILTIN_SPECS[index].name;
        index += 1;
    }
    names
};

/// One directive to wrap: its kind and attributes, as its template gets
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DirectiveCall<'a> {
    /// The kind (`quote`, `temoignage`).
    pub kind: &'a str,
    /// Its attributes as written, the positional argument first under its
    /// name (`id` for `exercise`); values are plain text, never HTML.
    pub attrs: &'a [(String, String)],
    /// 1-based line of the opening fence, in the source given to [`expand`].
    pub line: usize,
}

/// The HTML around a directive's content: the kind's template rendered
/// once, cut where the content goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Wrapper {
    /// HTML before the content (may span several lines).
    pub open: String,
    /// HTML after the content.
    pub close: String,
}

/// Where directive HTML comes from: the render layer passes the theme's
/// templates in, so this module stays free of themes.
pub trait DirectiveHtml {
    /// Whether `name` is a kind defined by a template beyond the built-in
    /// ones (a project's or a theme's).
    fn defines(&self, name: &str) -> bool;
    /// The kinds defined beyond the built-in ones, sorted, for messages.
    fn defined(&self) -> Vec<String>;
    /// The HTML around `call`'s content; `None` when its template failed
    /// (the implementation keeps that error and reports it).
    fn wrap(&self, call: &DirectiveCall) -> Option<Wrapper>;
}

/// HTML for passes that only read a page's structure (its exercises and
/// conditions): every kind is accepted and wraps in nothing, except a
/// solution, in a bare `<details>` (folded, as the engine requires).
pub struct NoHtml;

impl DirectiveHtml for NoHtml {
    fn defines(&self, _: &str) -> bool {
        true
    }
    fn defined(&self) -> Vec<String> {
        Vec::new()
    }
    fn wrap(&self, call: &DirectiveCall) -> Option<Wrapper> {
        if builtin_spec(call.kind).is_some_and(|spec| spec.role == Role::Solution) {
            return Some(Wrapper {
                open: "<details>".to_string(),
                close: "</details>".to_string(),
            });
        }
        Some(Wrapper::default())
    }
}

/// What the expansion needs to know about the version being built.
pub struct ExpandOptions<'a> {
    /// Building the facilitator version: keep `facilitator` blocks and show
    /// `solution` blocks open.
    pub facilitator: bool,
    /// The HTML of each kind (its template), and the kinds beyond the
    /// built-in ones.
    pub html: &'a dyn DirectiveHtml,
    /// Does the current client have `key == value` (for `only` / `except`)?
    pub matches: &'a dyn Fn(&str, &str) -> bool,
}

/// A mistake in the directives of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveError {
    /// 1-based line in the source given to [`expand`].
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// One `::: exercise id` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExerciseRef {
    /// The exercise id (the exercise's slug).
    pub id: String,
    /// 1-based line of the `::: exercise` fence.
    pub line: usize,
    /// The HTML comment placed in the output where the exercise widget goes
    /// (see [`exercise_marker`]).
    pub marker: String,
    /// Whether the marker is in the output; `false` when the directive is
    /// inside a block this version drops (a `facilitator` block for
    /// participants, a non-matching `only`). The id should still be checked.
    pub included: bool,
}

/// The Markdown produced by [`expand`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// Markdown with directives replaced by HTML block lines. Every line ends
    /// with `\n` (a `\r\n` line ending becomes `\n`).
    pub markdown: String,
    /// For each line of `markdown` (0-based index), the 1-based line of the
    /// source it comes from; inserted lines map to their directive's fence.
    pub line_map: Vec<usize>,
    /// Every `::: exercise id`, in source order.
    pub exercises: Vec<ExerciseRef>,
    /// Every condition of an `only` / `except` block, in source order,
    /// including those inside blocks this version drops.
    pub conditions: Vec<ClientCondition>,
}

/// One `key="value"` of an `::: only` or `::: except` fence, kept so the
/// project can check once that some client has that value: a typo would
/// otherwise hide the block from everyone, silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCondition {
    /// `"only"` or `"except"`.
    pub directive: &'static str,
    /// `client`, `sector`, `vars.persona`…
    pub key: String,
    /// The value asked for.
    pub value: String,
    /// 1-based line of the fence, in the source given to [`expand`].
    pub line: usize,
    /// 1-based column of the attribute.
    pub column: usize,
}

/// The `only` / `except` conditions of `source`, whatever the version; an
/// empty list when its directives have errors (the build reports those).
#[must_use]
pub fn client_conditions(source: &str) -> Vec<ClientCondition> {
    let has_client_blocks = (source.contains("only") || source.contains("except"))
        && source.lines().any(|line| {
            let content = containers(line).content;
            let kind = content.trim_start_matches(':').trim_start();
            content.starts_with(":::") && (kind.starts_with("only") || kind.starts_with("except"))
        });
    if !has_client_blocks {
        return Vec::new();
    }
    let opts = ExpandOptions {
        facilitator: true,
        html: &NoHtml,
        matches: &|_: &str, _: &str| true,
    };
    expand(source, &opts).map_or_else(|_| Vec::new(), |expanded| expanded.conditions)
}

/// The placeholder written where the widget of exercise `id` goes.
#[must_use]
pub fn exercise_marker(id: &str) -> String {
    format!("<!--atelier:exercise:{id}-->")
}

/// Fast pre-check: could `source` contain a directive fence (a line whose
/// content, after any blockquote, list or footnote markers, starts with
/// `:::`)? When `false`, [`expand`] would change nothing but line endings.
#[must_use]
pub fn has_directives(source: &str) -> bool {
    source.contains(":::")
        && source
            .lines()
            .any(|line| containers(line).content.trim_start().starts_with(":::"))
}

/// Expands every directive of `source` for the version described by `opts`.
///
/// Fences inside fenced code blocks are code, not directives.
///
/// # Errors
///
/// Unknown kinds, bad or missing attributes, unmatched or unclosed fences:
/// all of them, collected and sorted by position, each saying how to fix it.
/// Blocks this version drops (facilitator notes for participants) are
/// validated too.
pub fn expand(source: &str, opts: &ExpandOptions) -> Result<Expanded, Vec<DirectiveError>> {
    expand_in_file(source, 1, opts)
}

/// [`expand`] for a page body that starts on line `first_line` of its file
/// (after the front matter).
///
/// Positions in the result ([`DirectiveError::line`], [`Expanded::line_map`],
/// [`ExerciseRef::line`]) stay relative to `source`, exactly as with
/// [`expand`]; only the line numbers written *inside* error messages ("opened
/// at line 9") are file lines. Without this, a message said "line 2" while
/// its `--> file:5:1` pointer (offset by the caller) said line 5.
///
/// # Errors
///
/// As [`expand`].
pub fn expand_in_file(
    source: &str,
    first_line: usize,
    opts: &ExpandOptions,
) -> Result<Expanded, Vec<DirectiveError>> {
    let mut expander = Expander {
        line_offset: first_line.saturating_sub(1),
        opts,
        out: Output {
            markdown: String::with_capacity(source.len() + source.len() / 4),
            line_map: Vec::new(),
            last_blank: true,
        },
        stack: Vec::new(),
        errors: Vec::new(),
        exercises: Vec::new(),
        conditions: Vec::new(),
        pending_marker: None,
    };
    let mut fences = CodeFenceTracker::new();
    let mut in_item = false;
    for (index, raw) in source.split_inclusive('\n').enumerate() {
        let line_no = index + 1;
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        fences.end_if_blockquote_left(line);
        expander.resolve_marker(line, line_no);
        if !fences.is_open() {
            let split = containers(line);
            in_item = split.in_item(in_item);
            if let Some(fence) = split.fence(in_item) {
                match fence {
                    ColonFence::Open { colons, rest } => {
                        expander.open(line_no, colons, &split, rest);
                    }
                    ColonFence::Close { colons } => expander.close(line_no, colons, &split),
                }
                continue;
            }
        }
        fences.classify(line, line_no);
        if expander.emitting() {
            match expander.quoted_blank(line) {
                Some(blank) => expander.out.line(&blank, line_no),
                None => expander.out.line(line, line_no),
            }
        }
    }
    let open_code_since = fences.open_since().map(|line| line + expander.line_offset);
    expander.finish(open_code_since)
}

/// A line cut into its block-container markers and its content.
///
/// `CommonMark` lets a directive sit in any container: `> ::: facilitator`,
/// `- ::: tip`, `[^1]: ::: note`, `> 1. ::: solution`. The expander reads the
/// fence in the content and writes its HTML lines behind the same markers,
/// so the parser keeps them inside the same blockquote, list item or
/// footnote.
struct Containers<'a> {
    /// The markers and indentation in front of the content, as written.
    prefix: &'a str,
    /// The rest of the line, without its leading whitespace.
    content: &'a str,
    /// How many `>` markers the prefix holds.
    quotes: usize,
    /// Does the prefix hold a list item or footnote definition marker (the
    /// line starts an item)?
    starts_item: bool,
    /// Is the item it starts a footnote definition (`[^1]:`)?
    footnote: bool,
    /// Leading whitespace of the whole line, in columns (a tab counts 4).
    indent: usize,
}

/// Cuts `line` into its container markers and content.
fn containers(line: &str) -> Containers<'_> {
    let indent = whitespace_width(line);
    let mut quotes = 0;
    let mut starts_item = false;
    let mut footnote = false;
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if let Some(after) = trimmed.strip_prefix('>') {
            quotes += 1;
            rest = after;
        } else if let Some(after) = strip_item_marker(trimmed) {
            starts_item = true;
            footnote = trimmed.starts_with("[^");
            rest = after;
        } else {
            let prefix_len = line.len() - trimmed.len();
            return Containers {
                prefix: line.get(..prefix_len).unwrap_or(""),
                content: trimmed,
                quotes,
                starts_item,
                footnote,
                indent,
            };
        }
    }
}

/// The width of the leading spaces and tabs of `text`, in columns.
fn whitespace_width(text: &str) -> usize {
    text.bytes()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .map(|b| if b == b'\t' { 4 } else { 1 })
        .sum()
}

/// `text` after a list marker (`-`, `*`, `+`, `1.`, `1)`) or a footnote
/// definition label (`[^note]:`) followed by whitespace or the end of the
/// line.
fn strip_item_marker(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let marker_len = match bytes.first() {
        Some(b'-' | b'*' | b'+') => 1,
        Some(b'0'..=b'9') => {
            let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 9 || !matches!(bytes.get(digits), Some(b'.' | b')')) {
                return None;
            }
            digits + 1
        }
        Some(b'[') if bytes.get(1) == Some(&b'^') => {
            let close = text.find("]:")?;
            let label = text.get(2..close)?;
            if label.is_empty() || label.contains([']', '[']) || label.contains(char::is_whitespace)
            {
                return None;
            }
            close + 2
        }
        _ => return None,
    };
    match bytes.get(marker_len) {
        Some(b' ' | b'\t') | None => text.get(marker_len..),
        _ => None,
    }
}

impl Containers<'_> {
    /// Whether the next lines may be inside a list item or footnote (so may
    /// be indented four spaces or more without being code), given that
    /// `before` was true for the previous line.
    fn in_item(&self, before: bool) -> bool {
        if self.starts_item {
            true
        } else if self.content.is_empty() {
            before
        } else {
            before && self.indent > 0
        }
    }

    /// The directive fence this line holds, if any. Four spaces of
    /// indentation outside any container make an indented code line.
    fn fence(&self, in_item: bool) -> Option<ColonFence<'_>> {
        if self.indent > 3 && !in_item {
            return None;
        }
        colon_fence(self.content)
    }

    /// The prefix to write in front of the lines that follow this one in the
    /// same containers: list and footnote markers become spaces.
    fn continuation(&self) -> String {
        let mut out = String::with_capacity(self.prefix.len());
        let mut rest = self.prefix;
        loop {
            let trimmed = rest.trim_start_matches([' ', '\t']);
            out.push_str(&rest[..rest.len() - trimmed.len()]);
            if let Some(after) = trimmed.strip_prefix('>') {
                out.push('>');
                rest = after;
            } else if let Some(after) = strip_item_marker(trimmed) {
                let marker = &trimmed[..trimmed.len() - after.len()];
                out.extend(std::iter::repeat_n(' ', marker.chars().count()));
                rest = after;
            } else {
                return out;
            }
        }
    }

    /// Column (1-based, in characters) where the content starts.
    fn content_column(&self) -> usize {
        self.prefix.chars().count() + 1
    }
}

/// A line that is a directive fence.
enum ColonFence<'a> {
    /// `::: kind …`: `rest` starts right after the colons.
    Open { colons: usize, rest: &'a str },
    /// `:::` alone.
    Close { colons: usize },
}

/// Reads a fence from a line's content (after its containers).
fn colon_fence(content: &str) -> Option<ColonFence<'_>> {
    let colons = content.bytes().take_while(|&b| b == b':').count();
    if colons < 3 {
        return None;
    }
    let rest = content.get(colons..).unwrap_or("");
    if rest.trim().is_empty() {
        Some(ColonFence::Close { colons })
    } else {
        Some(ColonFence::Open { colons, rest })
    }
}

/// One open directive.
struct Frame {
    /// The kind as written, for messages.
    name: String,
    colons: usize,
    line: usize,
    column: usize,
    /// Is the body written to the output?
    emits: bool,
    /// HTML lines to write when the directive closes (empty when its
    /// wrapper was not written).
    close_html: Vec<String>,
    /// The container prefix for lines inside the block (the opening line's
    /// markers, list and footnote markers turned into spaces).
    continuation: String,
    /// How many `>` markers the opening line has.
    quotes: usize,
    /// The list marker of the item this dropped block starts, and the
    /// prefix of the item's further lines (see `Expander::pending_marker`).
    deferred_marker: Option<(String, String)>,
}

/// The output being built.
struct Output {
    markdown: String,
    line_map: Vec<usize>,
    last_blank: bool,
}

impl Output {
    fn line(&mut self, text: &str, source_line: usize) {
        self.markdown.push_str(text);
        self.markdown.push('\n');
        self.line_map.push(source_line);
        self.last_blank = text.trim().is_empty();
    }

    /// HTML block lines behind `prefix` (the first) and `continuation`
    /// (the others), with a blank line before and after them; the blank
    /// lines keep the `>` markers of `continuation`, so a blockquote does
    /// not end there. Blank lines inside `html` are left out: one would end
    /// the HTML block, and an indented line after it would read as code.
    fn html(&mut self, prefix: &str, continuation: &str, html: &str, source_line: usize) {
        let mut lines = html
            .lines()
            .map(str::trim_end)
            .filter(|line| !line.trim().is_empty());
        let Some(first) = lines.next() else {
            return;
        };
        let blank = continuation.trim_end();
        if !self.last_blank {
            self.line(blank, source_line);
        }
        self.markdown.push_str(prefix);
        self.line(first.trim_start(), source_line);
        for line in lines {
            self.markdown.push_str(continuation);
            self.line(line, source_line);
        }
        self.line(blank, source_line);
        self.last_blank = true;
    }
}

struct Expander<'o, 'a> {
    /// Added to source lines quoted inside messages (see [`expand_in_file`]).
    line_offset: usize,
    opts: &'o ExpandOptions<'a>,
    out: Output,
    stack: Vec<Frame>,
    errors: Vec<DirectiveError>,
    exercises: Vec<ExerciseRef>,
    conditions: Vec<ClientCondition>,
    /// A list item began with a block this version dropped: its marker,
    /// written only if the next line with content continues that item.
    pending_marker: Option<(String, String)>,
}

impl Opener {
    /// The exercise an `exercise` directive embeds.
    fn exercise_id(&self) -> Option<&str> {
        let positional = self.spec.positional?;
        (self.spec.role == Role::Exercise)
            .then(|| self.attrs.iter().find(|(key, _)| key == positional))
            .flatten()
            .map(|(_, id)| id.as_str())
    }
}

/// Whether an opening fragment starts with a `<details>` element that is
/// not open: the content after it stays folded.
fn folds(open: &str) -> bool {
    let open = open.trim_start();
    let Some(rest) = open
        .get(..8)
        .filter(|tag| tag.eq_ignore_ascii_case("<details"))
        .map(|_| &open[8..])
    else {
        return false;
    };
    if !rest.starts_with(['>', ' ', '\t', '\n', '\r']) {
        return false;
    }
    let tag = rest.split('>').next().unwrap_or("");
    !tag.split(|c: char| c.is_whitespace() || c == '=')
        .any(|word| word.eq_ignore_ascii_case("open"))
}

impl Expander<'_, '_> {
    fn emitting(&self) -> bool {
        self.stack.last().is_none_or(|frame| frame.emits)
    }

    /// A blank line inside a block opened in a blockquote keeps the `>`
    /// markers: the block, and the blockquote around it, go on to its
    /// closing fence.
    fn quoted_blank(&self, line: &str) -> Option<String> {
        self.stack
            .last()
            .filter(|frame| frame.quotes > 0 && line.trim().is_empty())
            .map(|frame| frame.continuation.trim_end().to_string())
    }

    /// Writes the pending list marker before `line` if `line` continues
    /// that item, forgets it if `line` has content but does not; waits on
    /// blank lines.
    fn resolve_marker(&mut self, line: &str, line_no: usize) {
        if self.pending_marker.is_none() || containers(line).content.is_empty() {
            return;
        }
        if let Some((marker, continuation)) = self.pending_marker.take()
            && self.emitting()
            && line.starts_with(continuation.as_str())
        {
            self.out.line(&marker, line_no);
        }
    }

    fn error(&mut self, line: usize, column: usize, message: String) {
        self.errors.push(DirectiveError {
            line,
            column,
            message,
        });
    }

    fn open(&mut self, line_no: usize, colons: usize, line: &Containers, rest: &str) {
        let fence_column = line.content_column();
        let mut cursor = Cursor::new(rest, fence_column + colons);
        let (name, opener) = parse_opener(&mut cursor, line_no, self.opts.html, &mut self.errors);
        let parent_emits = self.emitting();
        let all_match = |conditions: &[Attribute]| {
            conditions
                .iter()
                .all(|condition| (self.opts.matches)(&condition.key, &condition.value))
        };
        // An opener with errors keeps its body (checked) and wraps nothing.
        let emits = match &opener {
            _ if !parent_emits => false,
            None => true,
            Some(opener) => match opener.spec.role {
                Role::Facilitator => self.opts.facilitator,
                Role::Only => all_match(&opener.conditions),
                Role::Except => !all_match(&opener.conditions),
                Role::Wrapper | Role::Solution | Role::Exercise => true,
            },
        };
        let mut open_html = None;
        let mut close_html = Vec::new();
        if let Some(opener) = &opener {
            self.record(opener, line_no, parent_emits);
            // Only what this version shows reaches a template: a dropped
            // facilitator note is never rendered, not even around a marker.
            if emits && let Some(wrapper) = self.wrap(&name, opener, line_no, fence_column) {
                open_html = Some(wrapper.open).filter(|html| !html.trim().is_empty());
                if let Some(id) = opener.exercise_id() {
                    close_html.push(exercise_marker(id));
                }
                close_html.push(wrapper.close);
                close_html.retain(|html| !html.trim().is_empty());
            }
        }
        let continuation = line.continuation();
        let mut deferred_marker = None;
        if let Some(html) = open_html {
            self.out.html(line.prefix, &continuation, &html, line_no);
        } else if parent_emits && line.starts_item {
            // The item or footnote the fence starts holds whatever follows
            // the block: keep its marker. A list item whose only content is
            // a dropped block keeps it only if the item goes on after the
            // block (an empty bullet would show where a note was).
            let marker = line.prefix.trim_end().to_string();
            if emits || line.footnote {
                self.out.line(&marker, line_no);
            } else {
                deferred_marker = Some((marker, continuation.clone()));
            }
        }
        self.stack.push(Frame {
            name,
            colons,
            line: line_no,
            column: fence_column,
            emits,
            close_html,
            continuation,
            quotes: line.quotes,
            deferred_marker,
        });
    }

    /// Keeps what the project checks whatever the version: the conditions
    /// of `only` / `except` and the exercises embedded.
    fn record(&mut self, opener: &Opener, line_no: usize, parent_emits: bool) {
        let directive = match opener.spec.role {
            Role::Only => "only",
            Role::Except => "except",
            _ => "",
        };
        if !directive.is_empty() {
            self.conditions
                .extend(opener.conditions.iter().map(|condition| ClientCondition {
                    directive,
                    key: condition.key.clone(),
                    value: condition.value.clone(),
                    line: line_no,
                    column: condition.column,
                }));
        }
        if let Some(id) = opener.exercise_id() {
            self.exercises.push(ExerciseRef {
                id: id.to_string(),
                line: line_no,
                marker: exercise_marker(id),
                included: parent_emits,
            });
        }
    }

    /// The kind's HTML around its content. A solution's template must fold
    /// it for participants, whatever it says.
    fn wrap(
        &mut self,
        name: &str,
        opener: &Opener,
        line_no: usize,
        column: usize,
    ) -> Option<Wrapper> {
        let call = DirectiveCall {
            kind: name,
            attrs: &opener.attrs,
            line: line_no,
        };
        let wrapper = self.opts.html.wrap(&call)?;
        if opener.spec.role == Role::Solution && !self.opts.facilitator && !folds(&wrapper.open) {
            self.error(
                line_no,
                column,
                "the template directives/solution.html shows the solution open to \
                 participants: start it with `<details>` (without `open`, or with \
                 `{% if open %} open{% endif %}`) so it stays folded"
                    .to_string(),
            );
            return None;
        }
        Some(wrapper)
    }

    /// Pops the innermost frame, writing its closing HTML.
    fn pop(&mut self, line_no: usize) -> Option<Frame> {
        let frame = self.stack.pop()?;
        if frame.deferred_marker.is_some() {
            self.pending_marker.clone_from(&frame.deferred_marker);
        }
        for html in &frame.close_html {
            self.out
                .html(&frame.continuation, &frame.continuation, html, line_no);
        }
        Some(frame)
    }

    /// A line of colons alone: it closes the innermost open directive when
    /// it has at least as many colons as that directive's opening fence (the
    /// remark-directive rule). A shorter one closes nothing and is an error:
    /// as text it would publish a stray `:::`.
    fn close(&mut self, line_no: usize, colons: usize, line: &Containers) {
        let column = line.content_column();
        let fence = ":".repeat(colons);
        let shown_line = line_no + self.line_offset;
        if line.starts_item {
            self.error(
                line_no,
                column,
                format!(
                    "closing fence `{fence}` at line {shown_line} starts a list item or footnote: \
                     write it alone on its line, indented like the block's content"
                ),
            );
            return;
        }
        let Some(top) = self.stack.last() else {
            self.error(
                line_no,
                column,
                format!(
                    "closing fence `{fence}` at line {shown_line} has no open directive to close: \
                     remove it, or open a block above it (for example `::: note`)"
                ),
            );
            return;
        };
        let (top_name, top_colons, top_line, top_quotes) = (
            top.name.clone(),
            top.colons,
            top.line + self.line_offset,
            top.quotes,
        );
        let top_fence = ":".repeat(top_colons);
        if colons < top_colons {
            self.error(
                line_no,
                column,
                format!(
                    "closing fence `{fence}` at line {shown_line} is shorter than `{top_fence}` \
                     that opened `{top_name}` at line {top_line}, so it closes nothing: close \
                     `{top_name}` with at least as many colons (`{top_fence}`), or write \
                     `\\{fence}` for a literal line of colons"
                ),
            );
            return;
        }
        if line.quotes != top_quotes {
            let depth = |n: usize| match n {
                0 => "outside any blockquote".to_string(),
                1 => "in a blockquote (`>`)".to_string(),
                n => format!("in {n} nested blockquotes"),
            };
            self.error(
                line_no,
                column,
                format!(
                    "closing fence `{fence}` at line {shown_line} is {} but `{top_name}` opened at \
                     line {top_line} is {}: write its closing fence inside the same blockquote \
                     (`{}{top_fence}`)",
                    depth(line.quotes),
                    depth(top_quotes),
                    "> ".repeat(top_quotes)
                ),
            );
        }
        self.pop(line_no);
    }

    fn finish(mut self, open_code_since: Option<usize>) -> Result<Expanded, Vec<DirectiveError>> {
        let unclosed = std::mem::take(&mut self.stack);
        for frame in unclosed {
            let fence = ":".repeat(frame.colons);
            let mut message = format!(
                "`{}` opened at line {} is never closed: add a line `{fence}` after its content",
                frame.name,
                frame.line + self.line_offset
            );
            if let Some(code_line) = open_code_since {
                message = format!(
                    "{message} (the code block opened at line {code_line} is never closed \
                     either, so everything after it is read as code: close it with a fence line)"
                );
            }
            self.error(frame.line, frame.column, message);
        }
        if !self.errors.is_empty() {
            self.errors.sort_by_key(|e| (e.line, e.column));
            return Err(self.errors);
        }
        Ok(Expanded {
            markdown: self.out.markdown,
            line_map: self.out.line_map,
            exercises: self.exercises,
            conditions: self.conditions,
        })
    }
}

/// Reads the text of an opening fence character by character, keeping the
/// column of each character.
struct Cursor {
    chars: Vec<char>,
    pos: usize,
    /// Column of `chars[0]`.
    base_column: usize,
}

impl Cursor {
    fn new(text: &str, base_column: usize) -> Self {
        Cursor {
            chars: text.chars().collect(),
            pos: 0,
            base_column,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn column(&self) -> usize {
        self.base_column + self.pos
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    /// Reads up to the next whitespace.
    fn word(&mut self) -> String {
        let mut word = String::new();
        while let Some(c) = self.peek().filter(|c| !c.is_whitespace()) {
            word.push(c);
            self.pos += 1;
        }
        word
    }

    /// The next word, shortened for error messages, without moving.
    fn excerpt(&self) -> String {
        self.excerpt_from(self.pos)
    }

    /// The word starting at character `start`, shortened for error messages.
    fn excerpt_from(&self, start: usize) -> String {
        let mut text: String = self
            .chars
            .iter()
            .skip(start)
            .take_while(|c| !c.is_whitespace())
            .take(41)
            .collect();
        if text.chars().count() > 40 {
            text = text.chars().take(40).collect();
            text.push('…');
        }
        text
    }
}

/// One `key="value"` or `key=value` attribute.
struct Attribute {
    key: String,
    value: String,
    column: usize,
}

/// A parsed opening fence.
struct Opener {
    spec: DirectiveSpec,
    /// The attributes for the template: the positional argument first.
    attrs: Vec<(String, String)>,
    /// The conditions of an `only` / `except`, with their columns.
    conditions: Vec<Attribute>,
}

/// Parses the text after the colons of an opening fence against the kind's
/// spec. Errors are pushed to `errors`; the opener is then `None` (it still
/// pairs with its closing fence).
fn parse_opener(
    cursor: &mut Cursor,
    line: usize,
    html: &dyn DirectiveHtml,
    errors: &mut Vec<DirectiveError>,
) -> (String, Option<Opener>) {
    let error_count = errors.len();
    let mut error = |column: usize, message: String| {
        errors.push(DirectiveError {
            line,
            column,
            message,
        })
    };
    cursor.skip_spaces();
    let name_column = cursor.column();
    let name = cursor.word();
    let spec = match builtin_spec(&name) {
        Some(spec) => *spec,
        None if html.defines(&name) => PROJECT_SPEC,
        None => {
            let shown: String = name.chars().take(40).collect();
            error(name_column, unknown_kind_message(&name, html));
            return (shown, None);
        }
    };
    let mut attrs = Vec::new();
    let mut bad_id = false;
    if let Some(positional) = spec.positional {
        cursor.skip_spaces();
        let id_column = cursor.column();
        let looks_like_id = cursor.peek().is_some() && !cursor.excerpt().contains('=');
        if looks_like_id {
            let id = cursor.word();
            let valid = id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if valid {
                attrs.push((positional.to_string(), id));
            } else {
                let shown: String = id.chars().take(40).collect();
                bad_id = true;
                error(
                    id_column,
                    format!(
                        "{} id `{shown}` is not valid: ids use lowercase letters, digits and \
                         hyphens (the exercise's file name without `.md`)",
                        spec.name
                    ),
                );
            }
        } else {
            bad_id = true;
            error(id_column, format!("`{name}` needs {}", spec.needs));
        }
    }
    let Some(attributes) = parse_attributes(cursor, &mut error) else {
        return (name, None);
    };
    let mut conditions = Vec::new();
    match spec.attributes {
        Attributes::None => {
            if let Some(attribute) = attributes.first().filter(|_| !bad_id) {
                let what = if spec.positional.is_some() {
                    format!("takes only an {} id", spec.name)
                } else {
                    "takes no attributes".to_string()
                };
                error(
                    attribute.column,
                    format!("`{name}` {what}: remove `{}=…`", attribute.key),
                );
            }
        }
        Attributes::Named(allowed) => {
            for attribute in attributes {
                if !allowed.iter().any(|a| a.name == attribute.key) {
                    let names: Vec<String> = allowed
                        .iter()
                        .map(|a| format!("{}=\"…\"", a.name))
                        .collect();
                    error(
                        attribute.column,
                        format!(
                            "`{name}` does not take `{}`: its attributes are {}",
                            attribute.key,
                            and_list(&names)
                        ),
                    );
                } else if attrs.iter().any(|(key, _)| *key == attribute.key) {
                    error(
                        attribute.column,
                        format!("`{}` is given twice on `{name}`: keep one", attribute.key),
                    );
                } else {
                    attrs.push((attribute.key, attribute.value));
                }
            }
            let missing = allowed.iter().any(|a| {
                a.required
                    && !attrs
                        .iter()
                        .any(|(key, value)| key == a.name && !value.trim().is_empty())
            });
            if missing {
                error(name_column, format!("`{name}` needs {}", spec.needs));
            }
        }
        Attributes::Conditions => {
            if attributes.is_empty() {
                error(
                    name_column,
                    format!(
                        "`{name}` needs at least one condition: write `::: {name} \
                         sector=\"boulangerie\"` or `::: {name} client=\"maison-lemoine\"`"
                    ),
                );
            }
            attrs.extend(attributes.iter().map(|a| (a.key.clone(), a.value.clone())));
            conditions = attributes;
        }
        Attributes::Any => {
            for attribute in attributes {
                if attrs.iter().any(|(key, _)| *key == attribute.key) {
                    error(
                        attribute.column,
                        format!("`{}` is given twice on `{name}`: keep one", attribute.key),
                    );
                } else {
                    attrs.push((attribute.key, attribute.value));
                }
            }
        }
    }
    if errors.len() > error_count {
        return (name, None);
    }
    let opener = Opener {
        spec,
        attrs,
        conditions,
    };
    (name, Some(opener))
}

/// "unknown directive `x`": with the kinds available (the project's
/// included) and how to define a new one.
fn unknown_kind_message(name: &str, html: &dyn DirectiveHtml) -> String {
    let shown: String = name.chars().take(40).collect();
    let defined = html.defined();
    let known: Vec<&str> = KNOWN_KINDS
        .iter()
        .copied()
        .chain(defined.iter().map(String::as_str))
        .collect();
    let lower = name.to_lowercase();
    let hint = if known.contains(&lower.as_str()) {
        format!(" (directive names are lowercase: write `{lower}`)")
    } else {
        String::new()
    };
    let define = if is_kind_name(name) && !known.contains(&lower.as_str()) {
        format!(", or define it in templates/directives/{name}.html")
    } else {
        String::new()
    };
    format!(
        "unknown directive `{shown}`{hint}: use one of {}{define}",
        known.join(", ")
    )
}

/// Whether `name` can be a directive kind defined by a template: lowercase
/// ASCII letters, digits, `-` and `_`, starting with a letter.
#[must_use]
pub fn is_kind_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// Parses `key="value"` / `key=value` attributes up to the end of the line
/// (an optional trailing run of colons, Pandoc style, is allowed). Returns
/// `None` after reporting a syntax error.
fn parse_attributes(
    cursor: &mut Cursor,
    error: &mut dyn FnMut(usize, String),
) -> Option<Vec<Attribute>> {
    let is_key_start = |c: char| c.is_ascii_alphabetic() || c == '_';
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut attributes = Vec::new();
    loop {
        cursor.skip_spaces();
        let Some(first) = cursor.peek() else {
            return Some(attributes);
        };
        let column = cursor.column();
        if first == ':' {
            let rest = cursor.excerpt();
            let trailing = cursor.word();
            cursor.skip_spaces();
            if trailing.chars().all(|c| c == ':') && cursor.at_end() {
                return Some(attributes);
            }
            error(
                column,
                format!(
                    "unexpected `{rest}` in a directive fence: attributes are written \
                     key=\"value\""
                ),
            );
            return None;
        }
        if !is_key_start(first) {
            error(
                column,
                format!(
                    "expected an attribute like key=\"value\", found `{}`",
                    cursor.excerpt()
                ),
            );
            return None;
        }
        let mut key = String::new();
        while let Some(c) = cursor.peek().filter(|&c| is_key_char(c)) {
            key.push(c);
            cursor.pos += 1;
        }
        if cursor.peek() != Some('=') {
            let message = if cursor.peek().is_none_or(char::is_whitespace) {
                format!("attribute `{key}` has no value: write {key}=\"value\"")
            } else {
                format!(
                    "bad attribute `{}`: write key=\"value\" (letters, digits, `-` and `_` in \
                     the key)",
                    cursor.excerpt_from(column - cursor.base_column)
                )
            };
            error(column, message);
            return None;
        }
        cursor.pos += 1;
        let mut value = String::new();
        if cursor.peek() == Some('"') {
            cursor.pos += 1;
            let mut closed = false;
            while let Some(c) = cursor.peek() {
                cursor.pos += 1;
                match c {
                    '\\' if matches!(cursor.peek(), Some('"' | '\\')) => {
                        value.extend(cursor.peek());
                        cursor.pos += 1;
                    }
                    '"' => {
                        closed = true;
                        break;
                    }
                    _ => value.push(c),
                }
            }
            if !closed {
                error(
                    column,
                    format!(
                        "the value of `{key}` has no closing quote: write {key}=\"value\" \
                         (use \\\" for a quote inside the value)"
                    ),
                );
                return None;
            }
            if cursor.peek().is_some_and(|c| !c.is_whitespace()) {
                error(
                    cursor.column(),
                    format!(
                        "put a space after {key}=\"…\" before `{}`",
                        cursor.excerpt()
                    ),
                );
                return None;
            }
        } else {
            value = cursor.word();
            if value.is_empty() {
                error(
                    column,
                    format!("attribute `{key}` has no value: write {key}=\"value\""),
                );
                return None;
            }
            if value.contains('"') {
                error(
                    column,
                    format!(
                        "misplaced quote in `{key}={value}`: write {key}=\"value\" \
                         (use \\\" for a quote inside the value)"
                    ),
                );
                return None;
            }
        }
        attributes.push(Attribute { key, value, column });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(key: &str) -> String {
        match key {
            "tip" => "Astuce",
            "note" => "Note",
            "warning" => "Attention",
            "solution" => "Solution",
            "facilitator_note" => "Note pour l’animateur",
            "story" => "Histoire",
            _ => "?",
        }
        .to_string()
    }

    fn matches(key: &str, value: &str) -> bool {
        matches!(
            (key, value),
            ("sector", "boulangerie") | ("client", "maison-lemoine") | ("city", "Lille")
        )
    }

    /// The built-in templates' HTML, written out, so these tests see the
    /// layout the real templates give (`tests/directive_templates.rs`
    /// checks the templates themselves through the binary).
    struct Html {
        facilitator: bool,
        labels: fn(&str) -> String,
        /// Kinds defined beyond the built-in ones (wrapped in a `<section>`).
        extra: &'static [&'static str],
    }

    impl Html {
        fn new(facilitator: bool) -> Self {
            Html {
                facilitator,
                labels,
                extra: &[],
            }
        }
    }

    impl DirectiveHtml for Html {
        fn defines(&self, name: &str) -> bool {
            self.extra.contains(&name)
        }
        fn defined(&self) -> Vec<String> {
            self.extra.iter().map(|k| (*k).to_string()).collect()
        }
        fn wrap(&self, call: &DirectiveCall) -> Option<Wrapper> {
            let label = |key: &str| crate::html::escape(&(self.labels)(key));
            let attr = |key: &str| {
                call.attrs
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| crate::html::escape(v))
            };
            let (open, close) = match call.kind {
                "story" => (
                    "<div class=\"directive story\">".to_string(),
                    "</div>".to_string(),
                ),
                kind @ ("tip" | "note" | "warning") => (
                    format!(
                        "<div class=\"directive callout {kind}\"><p class=\"directive-label\">{}</p>",
                        label(kind)
                    ),
                    "</div>".to_string(),
                ),
                "quote" => (
                    "<figure class=\"directive quote\"><blockquote>".to_string(),
                    format!(
                        "</blockquote><figcaption>— {}{}</figcaption></figure>",
                        attr("author").unwrap_or_default(),
                        attr("source")
                            .map(|s| format!(", <cite>{s}</cite>"))
                            .unwrap_or_default()
                    ),
                ),
                "solution" => (
                    format!(
                        "<details class=\"directive solution\"{}><summary>{}</summary>",
                        if self.facilitator { " open" } else { "" },
                        label("solution")
                    ),
                    "</details>".to_string(),
                ),
                "facilitator" => (
                    format!(
                        "<aside class=\"directive facilitator\"><p class=\"directive-label\">{}</p>",
                        label("facilitator_note")
                    ),
                    "</aside>".to_string(),
                ),
                "exercise" => (
                    "<div class=\"directive exercise-embed\">".to_string(),
                    "</div>".to_string(),
                ),
                "only" | "except" => (String::new(), String::new()),
                kind => (
                    format!("<section class=\"{kind}\">"),
                    "</section>".to_string(),
                ),
            };
            Some(Wrapper { open, close })
        }
    }

    fn run(source: &str, facilitator: bool) -> Expanded {
        let opts = ExpandOptions {
            facilitator,
            html: &Html::new(facilitator),
            matches: &matches,
        };
        match expand(source, &opts) {
            Ok(expanded) => {
                check_line_map(source, &expanded);
                expanded
            }
            Err(errors) => panic!("unexpected errors for {source:?}: {errors:#?}"),
        }
    }

    fn participant(source: &str) -> String {
        run(source, false).markdown
    }

    fn errs(source: &str) -> Vec<DirectiveError> {
        let opts = ExpandOptions {
            facilitator: false,
            html: &Html::new(false),
            matches: &matches,
        };
        match expand(source, &opts) {
            Ok(expanded) => panic!("expected errors for {source:?}, got {expanded:#?}"),
            Err(errors) => errors,
        }
    }

    fn one_err(source: &str) -> DirectiveError {
        let mut errors = errs(source);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        errors.remove(0)
    }

    /// Renders with atelier's extensions (footnotes among them).
    fn render_ext(markdown: &str) -> String {
        let mut html = String::new();
        pulldown_cmark::html::push_html(
            &mut html,
            pulldown_cmark::Parser::new_ext(markdown, crate::markdown::parser_options()),
        );
        html
    }

    fn render(markdown: &str) -> String {
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(markdown));
        html
    }

    /// Every output line is either inserted (blank or one of our HTML lines,
    /// mapped to a fence line) or a copy of the source line it maps to.
    fn check_line_map(source: &str, expanded: &Expanded) {
        let source_lines: Vec<&str> = source
            .split_inclusive('\n')
            .map(|l| l.trim_end_matches('\n').trim_end_matches('\r'))
            .collect();
        let out_lines: Vec<&str> = expanded.markdown.split_inclusive('\n').collect();
        assert_eq!(out_lines.len(), expanded.line_map.len());
        assert!(expanded.markdown.is_empty() || expanded.markdown.ends_with('\n'));
        let mut previous = 0;
        for (out, &line) in out_lines.iter().zip(&expanded.line_map) {
            let out = out.trim_end_matches('\n');
            assert!(line >= 1 && line <= source_lines.len(), "line {line}");
            assert!(line >= previous, "line map goes backwards");
            previous = line;
            let src = source_lines[line - 1];
            let out_content = containers(out).content;
            let src_content = containers(src).content;
            let inserted = out_content.is_empty() || out_content.starts_with('<');
            let fence = src_content.starts_with(":::");
            if !inserted || src_content.starts_with('<') {
                if out != src {
                    assert!(fence && inserted, "output {out:?} maps to {src:?}");
                }
            } else {
                assert!(
                    fence || out_content.is_empty(),
                    "inserted {out:?} maps to non-fence {src:?}"
                );
            }
        }
    }

    #[test]
    fn story_exact_output_and_line_map() {
        let e = run("Intro\n::: story\nIl était une fois.\n:::\nFin\n", false);
        assert_eq!(
            e.markdown,
            "Intro\n\n<div class=\"directive story\">\n\nIl était une fois.\n\n</div>\n\nFin\n"
        );
        assert_eq!(e.line_map, vec![1, 2, 2, 2, 3, 4, 4, 4, 5]);
        assert!(e.exercises.is_empty());
    }

    /// The same block, written in every kind of block container, with the
    /// HTML element that container renders to.
    fn in_every_container(kind: &str) -> Vec<(String, &'static str)> {
        let b = |s: &str| s.replace("KIND", kind);
        vec![
            (b("> ::: KIND\n> SECRET\n> :::\n"), "<blockquote>"),
            (
                b("> Avant.\n>\n> ::: KIND\n> SECRET\n> :::\n>\n> Après.\n"),
                "<blockquote>",
            ),
            (b("> > ::: KIND\n> > SECRET\n> > :::\n"), "<blockquote>"),
            (b("- un\n- ::: KIND\n  SECRET\n  :::\n- trois\n"), "<li>"),
            (b("- un\n\n  ::: KIND\n  SECRET\n  :::\n"), "<li>"),
            (b("1. Étape\n\n    ::: KIND\n    SECRET\n    :::\n"), "<li>"),
            (b("> - ::: KIND\n>   SECRET\n>   :::\n"), "<li>"),
            (
                b("- Citation :\n\n  > ::: KIND\n  > SECRET\n  > :::\n"),
                "<blockquote>",
            ),
            (
                b("Texte[^1].\n\n[^1]: ::: KIND\n    SECRET\n    :::\n"),
                "footnote-definition",
            ),
            (
                b("Texte[^n].\n\n[^n]: Note.\n\n    ::: KIND\n    SECRET\n    :::\n"),
                "footnote-definition",
            ),
            (
                b("::: story\n> ::: KIND\n> SECRET\n> :::\n:::\n"),
                "<blockquote>",
            ),
            (b(":::: story\n- ::: KIND\n  SECRET\n  :::\n::::\n"), "<li>"),
            (
                b("> ::: story\n> > ::: KIND\n> > SECRET\n> > :::\n> :::\n"),
                "<blockquote>",
            ),
        ]
    }

    #[test]
    fn facilitator_notes_are_dropped_in_every_container() {
        for (src, container) in in_every_container("facilitator") {
            let md = participant(&src);
            assert!(
                !md.contains("SECRET") && !md.contains(":::"),
                "{src:?} gave {md:?}"
            );
            let html = render_ext(&md);
            assert!(
                !html.contains("SECRET") && !html.contains(":::"),
                "{src:?}: {html}"
            );
            // The facilitator sees it, inside the same container.
            let html = render_ext(&run(&src, true).markdown);
            let inside = html
                .find(container)
                .zip(html.find("<aside class=\"directive facilitator\">"))
                .is_some_and(|(c, a)| c < a);
            assert!(inside, "{src:?}: {html}");
            let flat: String = html.lines().map(|l| format!("{}\n", l.trim())).collect();
            assert!(flat.contains("<p>SECRET</p>\n</aside>"), "{src:?}: {html}");
            assert!(!html.contains(":::"), "{src:?}: {html}");
        }
    }

    #[test]
    fn solutions_are_folded_in_every_container() {
        for (src, container) in in_every_container("solution") {
            for facilitator in [false, true] {
                let html = render_ext(&run(&src, facilitator).markdown);
                let details = if facilitator {
                    "<details class=\"directive solution\" open>"
                } else {
                    "<details class=\"directive solution\">"
                };
                let inside = html
                    .find(container)
                    .zip(html.find(details))
                    .is_some_and(|(c, d)| c < d);
                assert!(inside, "{src:?}: {html}");
                let flat: String = html.lines().map(|l| format!("{}\n", l.trim())).collect();
                assert!(
                    flat.contains("<p>SECRET</p>\n</details>"),
                    "{src:?}: {html}"
                );
                assert!(!html.contains(":::"), "{src:?}: {html}");
            }
        }
    }

    #[test]
    fn containers_around_the_block_stay_whole() {
        let html = render_ext(&participant(
            "> Avant.\n>\n> ::: facilitator\n> x\n> :::\n>\n> Après.\n",
        ));
        assert_eq!(
            html,
            "<blockquote>\n<p>Avant.</p>\n<p>Après.</p>\n</blockquote>\n"
        );
        // A list item holding only the note disappears with it; one that
        // goes on after it keeps the rest.
        let html = render_ext(&participant(
            "- un\n- ::: facilitator\n  x\n  :::\n- trois\n",
        ));
        assert_eq!(html, "<ul>\n<li>un</li>\n<li>trois</li>\n</ul>\n");
        let html = render_ext(&participant(
            "- un\n- ::: facilitator\n  x\n  :::\n- ::: facilitator\n  y\n  :::\n\n  suite\n- trois\n",
        ));
        assert_eq!(
            html,
            "<ul>\n<li>\n<p>un</p>\n</li>\n<li>\n<p>suite</p>\n</li>\n<li>\n<p>trois</p>\n</li>\n</ul>\n"
        );
        let html = render_ext(&participant(
            "> - ::: facilitator\n>   x\n>   :::\n> - deux\n",
        ));
        assert_eq!(
            html,
            "<blockquote>\n<ul>\n<li>deux</li>\n</ul>\n</blockquote>\n"
        );
        // A footnote keeps its label, so its reference stays a reference.
        let html = render_ext(&participant(
            "a[^n]\n\n[^n]: ::: facilitator\n    x\n    :::\n",
        ));
        assert!(
            html.contains("<div class=\"footnote-definition\" id=\"n\">"),
            "{html}"
        );
        let html = render_ext(&participant("> ::: tip\n> Corps.\n> :::\n"));
        assert_eq!(
            html,
            "<blockquote>\n<div class=\"directive callout tip\"><p class=\"directive-label\">Astuce</p>\n<p>Corps.</p>\n</div>\n</blockquote>\n"
        );
    }

    #[test]
    fn code_block_ends_with_its_blockquote() {
        let md = participant(
            "> ```\n> ::: facilitator\n> ```\n\n> ```\n> x\n\n::: facilitator\nSECRET\n:::\n",
        );
        assert!(
            md.contains("> ::: facilitator") && !md.contains("SECRET"),
            "{md}"
        );
    }

    #[test]
    fn blank_lines_keep_the_block_in_its_blockquote() {
        let html = render_ext(&participant("> ::: tip\n> a\n\n> b\n> :::\n"));
        assert_eq!(
            html,
            "<blockquote>\n<div class=\"directive callout tip\"><p class=\"directive-label\">Astuce</p>\n<p>a</p>\n<p>b</p>\n</div>\n</blockquote>\n"
        );
    }

    #[test]
    fn closing_fence_in_another_blockquote() {
        let e = one_err("> ::: tip\n> x\n:::\n");
        assert_eq!((e.line, e.column), (3, 1));
        assert!(
            e.message.contains(
                "is outside any blockquote but `tip` opened at line 1 is in a blockquote (`>`)"
            ),
            "{}",
            e.message
        );
        assert!(e.message.contains("(`> :::`)"), "{}", e.message);
        let errors = errs("- ::: tip\n  x\n- :::\n");
        assert!(
            errors
                .iter()
                .any(|e| e.line == 3 && e.message.contains("starts a list item")),
            "{errors:#?}"
        );
    }

    #[test]
    fn no_directives_is_identity() {
        let text = "# Titre\n\nUn paragraphe : avec deux-points.\n\n- liste\n";
        assert!(!has_directives(text));
        let e = run(text, false);
        assert_eq!(e.markdown, text);
        assert_eq!(e.line_map, vec![1, 2, 3, 4, 5]);
        // A missing final newline is added; CRLF becomes LF.
        assert_eq!(participant("a\r\nb"), "a\nb\n");
        assert_eq!(participant(""), "");
    }

    #[test]
    fn has_directives_checks_line_starts() {
        assert!(has_directives("a\n::: tip\nb\n:::"));
        assert!(has_directives("   :::: story"));
        assert!(has_directives("> ::: facilitator"));
        assert!(has_directives("> 1. [^n]: ::: solution"));
        assert!(!has_directives("a ::: b"));
        assert!(!has_directives(":: tip"));
    }

    #[test]
    fn callouts_have_label_and_class() {
        for (kind, label) in [
            ("tip", "Astuce"),
            ("note", "Note"),
            ("warning", "Attention"),
        ] {
            let md = participant(&format!("::: {kind}\nCorps **gras**.\n:::\n"));
            assert_eq!(
                md,
                format!(
                    "<div class=\"directive callout {kind}\"><p class=\"directive-label\">{label}</p>\n\nCorps **gras**.\n\n</div>\n\n"
                )
            );
            let html = render(&md);
            assert!(
                html.contains("<p>Corps <strong>gras</strong>.</p>"),
                "{html}"
            );
        }
    }

    #[test]
    fn labels_are_escaped() {
        let html = Html {
            facilitator: true,
            labels: |_: &str| "<b>&\"".to_string(),
            extra: &[],
        };
        let opts = ExpandOptions {
            facilitator: true,
            html: &html,
            matches: &matches,
        };
        let e = expand("::: tip\nx\n:::\n::: solution\ny\n:::", &opts).map(|e| e.markdown);
        let md = e.unwrap_or_default();
        assert!(md.contains("<p class=\"directive-label\">&lt;b&gt;&amp;&quot;</p>"));
        assert!(md.contains("<summary>&lt;b&gt;&amp;&quot;</summary>"));
    }

    #[test]
    fn quote_with_author_and_source() {
        let md = participant(
            "::: quote author=\"Seth Godin\" source=\"This Is <Marketing> & co\"\nLes gens comme nous.\n:::",
        );
        assert_eq!(
            md,
            "<figure class=\"directive quote\"><blockquote>\n\nLes gens comme nous.\n\n\
             </blockquote><figcaption>— Seth Godin, <cite>This Is &lt;Marketing&gt; &amp; co</cite></figcaption></figure>\n\n"
        );
        let md = participant("::: quote author=Anonyme\nx\n:::");
        assert!(md.contains("<figcaption>— Anonyme</figcaption></figure>"));
        let md = participant("::: quote author=\"Il dit \\\"oui\\\" \\\\ fin\"\nx\n:::");
        assert!(
            md.contains("— Il dit &quot;oui&quot; \\ fin</figcaption>"),
            "{md}"
        );
        let html = render(&participant("::: quote author=\"A\"\n*x*\n:::"));
        assert!(
            html.contains("<blockquote>\n<p><em>x</em></p>\n</blockquote>"),
            "{html}"
        );
    }

    #[test]
    fn quote_errors() {
        let e = one_err("::: quote\nx\n:::");
        assert_eq!((e.line, e.column), (1, 5));
        assert!(e.message.contains("needs an author"), "{}", e.message);
        let e = one_err("::: quote source=\"x\"\nx\n:::");
        assert!(e.message.contains("needs an author"));
        let e = one_err("::: quote author=\"A\" by=\"B\"\nx\n:::");
        assert_eq!(e.column, 22);
        assert!(e.message.contains("`quote` does not take `by`"));
        let e = one_err("::: quote author=\"A\" author=\"B\"\nx\n:::");
        assert!(e.message.contains("given twice"));
        let e = one_err("::: quote author=\"  \"\nx\n:::");
        assert!(e.message.contains("needs an author"));
    }

    #[test]
    fn solution_folded_for_participants_open_for_facilitator() {
        let src = "::: solution\nLa réponse.\n:::";
        assert_eq!(
            participant(src),
            "<details class=\"directive solution\"><summary>Solution</summary>\n\nLa réponse.\n\n</details>\n\n"
        );
        assert_eq!(
            run(src, true).markdown,
            "<details class=\"directive solution\" open><summary>Solution</summary>\n\nLa réponse.\n\n</details>\n\n"
        );
    }

    #[test]
    fn facilitator_block_in_facilitator_version() {
        let md = run("::: facilitator\nDemandez un exemple.\n:::", true).markdown;
        assert_eq!(
            md,
            "<aside class=\"directive facilitator\"><p class=\"directive-label\">Note pour l’animateur</p>\n\nDemandez un exemple.\n\n</aside>\n\n"
        );
    }

    #[test]
    fn facilitator_block_absent_for_participants_even_nested() {
        let src = "\
Avant
:::: facilitator
SECRET-1
::: tip
SECRET-2
:::
::: exercise secret-exercise
SECRET-3
:::
```
SECRET-4
:::
```
::: only sector=\"boulangerie\"
SECRET-5
:::
::::
Après
";
        let e = run(src, false);
        assert_eq!(e.markdown, "Avant\nAprès\n");
        assert_eq!(e.line_map, vec![1, 18]);
        assert!(!e.markdown.contains("SECRET"));
        assert!(!e.markdown.contains("facilitator"));
        assert_eq!(e.exercises.len(), 1);
        assert_eq!(e.exercises[0].id, "secret-exercise");
        assert!(!e.exercises[0].included);
        let f = run(src, true);
        for n in 1..=5 {
            assert!(f.markdown.contains(&format!("SECRET-{n}")));
        }
        assert!(f.exercises[0].included);
    }

    #[test]
    fn facilitator_deep_inside_other_blocks() {
        let src = "::::: story\n:::: tip\n::: facilitator\nCACHÉ\n:::\nVisible\n::::\n:::::\n";
        let md = participant(src);
        assert!(!md.contains("CACHÉ"));
        assert!(md.contains("Visible"));
        assert!(!md.contains("aside"));
    }

    #[test]
    fn facilitator_content_is_still_validated() {
        let errors = errs("::: facilitator\n::: bogus\n:::\n::: quote\n:::\n:::");
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].message.contains("unknown directive `bogus`"));
        assert_eq!(errors[1].line, 4);
        assert!(errors[1].message.contains("needs an author"));
    }

    #[test]
    fn only_and_except() {
        let src = "\
A
::: only sector=\"boulangerie\"
B
:::
::: only sector=\"boulangerie\" city=Paris
C
:::
::: except client=\"maison-lemoine\"
D
:::
::: except client=\"cabinet-belcourt\"
E
:::
::: only client=maison-lemoine city=\"Lille\"
F
:::
G
";
        let e = run(src, false);
        assert_eq!(e.markdown, "A\nB\nE\nF\nG\n");
        assert_eq!(e.line_map, vec![1, 3, 12, 15, 17]);
    }

    #[test]
    fn only_needs_a_condition() {
        let e = one_err("::: only\nx\n:::");
        assert!(e.message.contains("`only` needs at least one condition"));
        assert_eq!((e.line, e.column), (1, 5));
        let e = one_err("::: except\nx\n:::");
        assert!(e.message.contains("`except` needs at least one condition"));
    }

    #[test]
    fn exercise_embed() {
        let e = run(
            "Texte\n\n::: exercise lettre-personnalisee\nPrenez 10 minutes.\n:::\n",
            false,
        );
        assert_eq!(
            e.markdown,
            "Texte\n\n<div class=\"directive exercise-embed\">\n\nPrenez 10 minutes.\n\n\
             <!--atelier:exercise:lettre-personnalisee-->\n\n</div>\n\n"
        );
        assert_eq!(e.line_map, vec![1, 2, 3, 3, 4, 5, 5, 5, 5, 5]);
        assert_eq!(
            e.exercises,
            vec![ExerciseRef {
                id: "lettre-personnalisee".into(),
                line: 3,
                marker: "<!--atelier:exercise:lettre-personnalisee-->".into(),
                included: true,
            }]
        );
        let e = run("::: exercise roi-2\n:::\n::: exercise a\n:::", false);
        let ids: Vec<_> = e
            .exercises
            .iter()
            .map(|x| (x.id.as_str(), x.line))
            .collect();
        assert_eq!(ids, vec![("roi-2", 1), ("a", 3)]);
        let html = render(&e.markdown);
        assert!(html.contains("<!--atelier:exercise:roi-2-->"), "{html}");
    }

    #[test]
    fn exercise_errors() {
        let e = one_err("::: exercise\n:::");
        assert!(
            e.message.contains("`exercise` needs the id"),
            "{}",
            e.message
        );
        assert_eq!(e.column, 13);
        let e = one_err("::: exercise Lettre_Perso\n:::");
        assert!(
            e.message
                .contains("exercise id `Lettre_Perso` is not valid")
        );
        assert_eq!(e.column, 14);
        let e = one_err("::: exercise id=\"x\"\n:::");
        assert!(e.message.contains("needs the id"));
        let e = one_err("::: exercise x title=\"y\"\n:::");
        assert!(
            e.message
                .contains("`exercise` takes only an exercise id: remove `title=…`")
        );
        assert_eq!(e.column, 16);
    }

    #[test]
    fn nesting_with_more_colons_and_same_colons() {
        let src = "::::: story\n:::: tip\n::: note\nx\n:::\n::::\n:::::\n";
        let md = participant(src);
        let opens: Vec<_> = md.lines().filter(|l| l.starts_with("<div")).collect();
        assert_eq!(opens.len(), 3);
        assert_eq!(md.matches("</div>").count(), 3);
        let same = participant("::: story\n::: tip\nx\n:::\ny\n:::\n");
        assert!(same.find("x").unwrap_or(0) < same.find("</div>").unwrap_or(0));
        let html = render(&same);
        assert_eq!(
            html,
            "<div class=\"directive story\">\n<div class=\"directive callout tip\"><p class=\"directive-label\">Astuce</p>\n<p>x</p>\n</div>\n<p>y</p>\n</div>\n"
        );
    }

    #[test]
    fn longer_closing_fence_closes_the_innermost_block() {
        // Pandoc and Carpentries lessons close 41-colon openers with
        // 50-colon lines.
        let opener = ":".repeat(41);
        let closer = ":".repeat(50);
        let md = participant(&format!("{opener} tip\nx\n{closer}\nafter\n"));
        assert_eq!(
            md,
            "<div class=\"directive callout tip\"><p class=\"directive-label\">Astuce</p>\n\nx\n\n</div>\n\nafter\n"
        );
        // It closes one block only: the innermost.
        let md = participant("::: story\n::: tip\nx\n::::::\ny\n:::\n");
        let html = render(&md);
        assert_eq!(
            html,
            "<div class=\"directive story\">\n<div class=\"directive callout tip\"><p class=\"directive-label\">Astuce</p>\n<p>x</p>\n</div>\n<p>y</p>\n</div>\n"
        );
    }

    #[test]
    fn shorter_closing_fence_closes_nothing() {
        let src = "a\nb\nc\nd\ne\nf\ng\nh\n:::: tip\nx\n:::\ny\n::::\n";
        let errors = errs(src);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(
            errors[0].message,
            "closing fence `:::` at line 11 is shorter than `::::` that opened `tip` at line 9, \
             so it closes nothing: close `tip` with at least as many colons (`::::`), or write \
             `\\:::` for a literal line of colons"
        );
        assert_eq!((errors[0].line, errors[0].column), (11, 1));
        // An escaped line of colons is text.
        let md = participant(":::: tip\n\\:::\n::::\n");
        assert!(render(&md).contains("<p>:::</p>"), "{md}");
    }

    #[test]
    fn forgotten_inner_fence_is_one_error() {
        let src = ":::: story\n::: tip\nx\n::::\nsuite\n";
        let errors = errs(src);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0]
                .message
                .contains("`story` opened at line 1 is never closed"),
            "{}",
            errors[0].message
        );
    }

    /// Regression: messages quoted body lines while their pointer (offset by
    /// the caller) showed file lines. `expand_in_file` quotes file lines.
    #[test]
    fn messages_quote_file_lines_after_front_matter() {
        let opts = ExpandOptions {
            facilitator: false,
            html: &Html::new(false),
            matches: &matches,
        };
        let src = "a\n:::: tip\nx\n:::\n::::\n::: story\n```\n";
        let errors = expand_in_file(src, 5, &opts).err().unwrap_or_default();
        assert_eq!(errors.len(), 2, "{errors:#?}");
        // Positions stay relative to the body, as with `expand`.
        assert_eq!((errors[0].line, errors[1].line), (4, 6));
        assert!(
            errors[0]
                .message
                .contains("at line 8 is shorter than `::::` that opened `tip` at line 6"),
            "{}",
            errors[0].message
        );
        assert!(errors[1].message.contains("`story` opened at line 10"));
        assert!(errors[1].message.contains("code block opened at line 11"));
        let plain = expand(src, &opts).err().unwrap_or_default();
        assert!(plain[1].message.contains("`story` opened at line 6"));
    }

    #[test]
    fn closing_fence_with_nothing_open() {
        let e = one_err("texte\n  :::\n");
        assert_eq!((e.line, e.column), (2, 3));
        assert!(e.message.contains("has no open directive to close"));
    }

    #[test]
    fn unclosed_directive() {
        let e = one_err("# T\n\n::: story\nIl était une fois\n");
        assert_eq!((e.line, e.column), (3, 1));
        assert_eq!(
            e.message,
            "`story` opened at line 3 is never closed: add a line `:::` after its content"
        );
        let errors = errs(":::: story\n::: tip\n");
        assert_eq!(errors.len(), 2);
        assert!(errors[0].message.contains("add a line `::::`"));
        assert!(errors[1].message.contains("`tip` opened at line 2"));
    }

    #[test]
    fn unclosed_code_fence_hides_closing_directive() {
        let e = one_err("::: tip\n```\ncode\n:::\n");
        assert!(e.message.contains("`tip` opened at line 1 is never closed"));
        assert!(
            e.message.contains("code block opened at line 2"),
            "{}",
            e.message
        );
    }

    #[test]
    fn unknown_kind_lists_known_ones() {
        let e = one_err("::: astuce\nx\n:::");
        assert_eq!(
            e.message,
            "unknown directive `astuce`: use one of story, facilitator, exercise, quote, tip, \
             note, warning, solution, only, except, or define it in \
             templates/directives/astuce.html"
        );
        assert_eq!(e.column, 5);
        let e = one_err(":::Tip\nx\n:::");
        assert!(e.message.contains("write `tip`"));
        assert_eq!(e.column, 4);
        let e = one_err("::: {.note}\nx\n:::");
        assert!(e.message.contains("unknown directive `{.note}`"));
    }

    fn with_kinds(
        source: &str,
        facilitator: bool,
        html: &dyn DirectiveHtml,
    ) -> Result<Expanded, Vec<DirectiveError>> {
        let opts = ExpandOptions {
            facilitator,
            html,
            matches: &matches,
        };
        expand(source, &opts)
    }

    #[test]
    fn spec_table_lists_every_builtin_kind_once() {
        assert_eq!(
            KNOWN_KINDS,
            [
                "story",
                "facilitator",
                "exercise",
                "quote",
                "tip",
                "note",
                "warning",
                "solution",
                "only",
                "except"
            ]
        );
        for spec in &BUILTIN_SPECS {
            assert_eq!(builtin_spec(spec.name), Some(spec));
            assert!(is_kind_name(spec.name));
        }
        assert_eq!(
            builtin_spec("facilitator").map(|s| s.role),
            Some(Role::Facilitator)
        );
        assert_eq!(
            builtin_spec("exercise").and_then(|s| s.positional),
            Some("id")
        );
        assert!(builtin_spec("challenge").is_none());
        assert!(!is_kind_name("Tip") && !is_kind_name("{.note}") && !is_kind_name("-x"));
    }

    #[test]
    fn project_kinds_take_any_attributes_and_nest() {
        let html = Html {
            facilitator: false,
            labels,
            extra: &["challenge", "temoignage"],
        };
        let md = with_kinds(
            "::::: challenge titre=\"Un défi\" niveau=2\nTexte.\n::: solution\nRéponse.\n:::\n::::::::::",
            false,
            &html,
        )
        .map(|e| e.markdown);
        assert_eq!(
            md,
            Ok("<section class=\"challenge\">\n\nTexte.\n\n<details class=\"directive solution\"><summary>Solution</summary>\n\nRéponse.\n\n</details>\n\n</section>\n\n".to_string())
        );
        let e = with_kinds("::: temoignage a=\"1\" a=\"2\"\nx\n:::", false, &html).unwrap_err();
        assert!(
            e[0].message.contains("`a` is given twice on `temoignage`"),
            "{e:?}"
        );
        let e = with_kinds("::: defi\nx\n:::", false, &html).unwrap_err();
        assert_eq!(
            e[0].message,
            "unknown directive `defi`: use one of story, facilitator, exercise, quote, tip, note, \
             warning, solution, only, except, challenge, temoignage, or define it in \
             templates/directives/defi.html"
        );
        let e = with_kinds("::: Challenge\nx\n:::", false, &html).unwrap_err();
        assert!(e[0].message.contains("write `challenge`"), "{e:?}");
    }

    /// Records every kind it is asked to wrap; wraps in several lines.
    struct Spy {
        asked: std::cell::RefCell<Vec<String>>,
        open: &'static str,
    }

    impl DirectiveHtml for Spy {
        fn defines(&self, _: &str) -> bool {
            false
        }
        fn defined(&self) -> Vec<String> {
            Vec::new()
        }
        fn wrap(&self, call: &DirectiveCall) -> Option<Wrapper> {
            self.asked.borrow_mut().push(call.kind.to_string());
            Some(Wrapper {
                open: self.open.to_string(),
                close: "\n  </div>\n\n</section>\n".to_string(),
            })
        }
    }

    #[test]
    fn dropped_facilitator_notes_never_reach_a_template() {
        let spy = Spy {
            asked: Default::default(),
            open: "<section>\n\n    <div>\n",
        };
        let src = "::: story\na\n:::: facilitator\n::: tip\nsecret\n:::\n::::\n:::";
        let md = with_kinds(src, false, &spy).map(|e| e.markdown);
        assert_eq!(spy.asked.borrow().as_slice(), ["story"]);
        assert!(!md.clone().unwrap_or_default().contains("secret"));
        // Blank lines inside a fragment are left out (they would end the
        // HTML block and turn the indented line into code); the first line
        // of each loses its indentation, which could make it code too.
        assert_eq!(
            md,
            Ok("<section>\n    <div>\n\na\n\n</div>\n</section>\n\n".to_string())
        );
        spy.asked.borrow_mut().clear();
        let md = with_kinds(src, true, &spy)
            .map(|e| e.markdown)
            .unwrap_or_default();
        assert_eq!(
            spy.asked.borrow().as_slice(),
            ["story", "facilitator", "tip"]
        );
        assert!(md.contains("secret"));
    }

    #[test]
    fn structure_passes_read_every_page() {
        let src = "::: solution\nx\n:::\n::: defi\n::: exercise a\n:::\n:::\n::: exercise a\n:::\n";
        for facilitator in [false, true] {
            let opts = ExpandOptions {
                facilitator,
                html: &NoHtml,
                matches: &matches,
            };
            let expanded = expand(src, &opts).map(|e| e.exercises.len());
            assert_eq!(expanded, Ok(2), "facilitator: {facilitator}");
        }
    }

    #[test]
    fn a_solution_template_must_fold_for_participants() {
        for (open, folds) in [
            ("<details class=\"x\"><summary>S</summary>", true),
            ("<DETAILS>", true),
            ("<details data-state=\"open\">", true),
            ("<details open>", false),
            ("<details class=\"x\" open><summary>", false),
            ("<div class=\"solution\">", false),
            ("<detailsx>", false),
        ] {
            assert_eq!(super::folds(open), folds, "{open}");
        }
        let spy = Spy {
            asked: Default::default(),
            open: "<div class=\"solution\">",
        };
        let e = with_kinds("::: solution\nx\n:::", false, &spy).unwrap_err();
        assert!(
            e[0].message
                .contains("shows the solution open to participants"),
            "{e:?}"
        );
        assert!(with_kinds("::: solution\nx\n:::", true, &spy).is_ok());
    }

    #[test]
    fn attributes_on_kinds_that_take_none() {
        for kind in ["story", "facilitator", "tip", "note", "warning", "solution"] {
            let e = one_err(&format!("::: {kind} titre=\"x\"\ny\n:::"));
            assert!(
                e.message
                    .contains(&format!("`{kind}` takes no attributes: remove `titre=…`")),
                "{}",
                e.message
            );
            assert_eq!(e.column, kind.len() + 6);
        }
    }

    #[test]
    fn bad_attribute_syntax() {
        let cases = [
            ("::: only sector", "attribute `sector` has no value", 10),
            ("::: only sector=", "attribute `sector` has no value", 10),
            ("::: only sector=\"boul", "has no closing quote", 10),
            (
                "::: only \"x\"",
                "expected an attribute like key=\"value\", found `\"x\"`",
                10,
            ),
            (
                "::: only a=\"b\"c",
                "put a space after a=\"…\" before `c`",
                15,
            ),
            ("::: only a=b\"c\"", "misplaced quote", 10),
            ("::: only a.b=c", "bad attribute `a.b=c`", 10),
            ("::: tip Le titre", "attribute `Le` has no value", 9),
            ("::: only a=b :: x", "unexpected `::`", 14),
        ];
        for (line, expected, column) in cases {
            let e = one_err(&format!("{line}\nx\n:::"));
            assert!(e.message.contains(expected), "{line}: {}", e.message);
            assert_eq!((e.line, e.column), (1, column), "{line}");
        }
    }

    #[test]
    fn unicode_columns() {
        let e = one_err("::: quote author=\"Émile Zola\" ô=1\nx\n:::");
        // ô is not a valid key start: column counts characters.
        assert_eq!(e.column, 31);
        let e = one_err("::: only ville=\"Besançon\" é\nx\n:::");
        assert_eq!(e.column, 27);
        let e = one_err("::: été\nx\n:::");
        assert_eq!(e.column, 5);
    }

    #[test]
    fn trailing_colons_and_spacing() {
        let md = participant("::: tip :::\nx\n:::");
        assert!(md.contains("callout tip"));
        let md = participant(":::tip\nx\n:::   ");
        assert!(md.contains("callout tip"));
        let md = participant("   ::: note\nx\n   :::");
        assert!(md.starts_with("   <div class=\"directive callout note\">"));
        assert!(md.contains("\n   </div>\n"));
        // Four spaces: not a fence (an indented code line).
        let md = participant("    ::: tip\nx");
        assert_eq!(md, "    ::: tip\nx\n");
    }

    #[test]
    fn colon_lines_inside_code_blocks_are_code() {
        let src = "```markdown\n::: tip\nExemple\n:::\n:::\n```\n~~~\n::: bogus\n~~~\n";
        let e = run(src, false);
        assert_eq!(e.markdown, src);
    }

    #[test]
    fn code_fences_inside_directives() {
        let src = "::: tip\n```yaml\n:::\nkey: value\n```\nAprès\n:::\n";
        let e = run(src, false);
        assert!(
            e.markdown
                .contains("```yaml\n:::\nkey: value\n```\nAprès\n\n</div>")
        );
        let html = render(&e.markdown);
        assert!(
            html.contains("<pre><code class=\"language-yaml\">:::\nkey: value\n</code></pre>"),
            "{html}"
        );
    }

    #[test]
    fn code_fence_inside_list_inside_directive() {
        let src = "::: note\n- étape\n  ```\n  :::\n  ```\n:::\n";
        let md = participant(src);
        assert!(md.contains("  ```\n  :::\n  ```\n"));
        assert!(md.contains("</div>"));
    }

    #[test]
    fn crlf_input() {
        let e = run("::: tip\r\nx\r\n:::\r\n", false);
        assert!(!e.markdown.contains('\r'));
        assert!(e.markdown.contains("\nx\n"));
    }

    #[test]
    fn errors_are_collected_and_sorted() {
        let src = "::: bogus\n:::\n:::\n::: quote\n:::\n::: tip\n";
        let errors = errs(src);
        let lines: Vec<_> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![1, 3, 4, 6]);
    }

    #[test]
    fn line_map_with_dropped_blocks() {
        let src = "\
L1
::: facilitator
L3
:::
L5
::: only client=\"autre\"
L7
::: tip
L9
:::
:::
L12
::: story
L14
:::
";
        let e = run(src, false);
        let lines: Vec<&str> = e.markdown.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if let Some(n) = line.strip_prefix('L') {
                assert_eq!(n.parse::<usize>().ok(), Some(e.line_map[i]));
            }
        }
        assert!(e.markdown.contains("L1\nL5\nL12\n"));
        assert!(
            !e.markdown.contains("L3") && !e.markdown.contains("L7") && !e.markdown.contains("L9")
        );
        // The facilitator version keeps L3 at its line too.
        let f = run(src, true);
        let i = f.markdown.lines().position(|l| l == "L3");
        assert_eq!(i.map(|i| f.line_map[i]), Some(3));
    }

    #[test]
    fn ten_thousand_nested_directives() {
        const DEPTH: usize = 10_000;
        let mut src = String::new();
        for _ in 0..DEPTH {
            src.push_str("::: story\n");
        }
        src.push_str("Au fond.\n");
        for _ in 0..DEPTH {
            src.push_str(":::\n");
        }
        let e = run(&src, false);
        assert_eq!(
            e.markdown
                .matches("<div class=\"directive story\">")
                .count(),
            DEPTH
        );
        assert_eq!(e.markdown.matches("</div>").count(), DEPTH);
        let i = e.markdown.lines().position(|l| l == "Au fond.");
        assert_eq!(i.map(|i| e.line_map[i]), Some(DEPTH + 1));

        // More colons outside, fewer inside (the input grows as the square
        // of the depth, so a smaller depth).
        const COLON_DEPTH: usize = 1_000;
        let mut src = String::new();
        for level in 0..COLON_DEPTH {
            src.push_str(&":".repeat(COLON_DEPTH + 3 - level));
            src.push_str(" note\n");
        }
        for level in (0..COLON_DEPTH).rev() {
            src.push_str(&":".repeat(COLON_DEPTH + 3 - level));
            src.push('\n');
        }
        let e = run(&src, false);
        assert_eq!(e.markdown.matches("</div>").count(), COLON_DEPTH);

        // Deep facilitator: nothing at all for participants.
        let mut src = String::from("::: facilitator\n");
        for _ in 0..DEPTH {
            src.push_str("::: tip\nsecret\n");
        }
        for _ in 0..=DEPTH {
            src.push_str(":::\n");
        }
        assert_eq!(participant(&src), "");

        // Deep and unclosed: one error per open block, no overflow.
        let src = "::: story\n".repeat(DEPTH);
        assert_eq!(errs(&src).len(), DEPTH);
    }

    #[test]
    fn deep_nesting_renders() {
        let src = format!("{}x\n{}", "::: tip\n".repeat(500), ":::\n".repeat(500));
        let html = render(&participant(&src));
        assert_eq!(html.matches("<p>x</p>").count(), 1);
    }

    #[test]
    fn never_panics_on_odd_input() {
        let pieces = [
            "::: ",
            ":::",
            "::::",
            "tip",
            "quote",
            "exercise",
            "only",
            " a=\"b",
            "\\\"",
            "\"",
            "=",
            "é",
            "```",
            "~~~",
            "\n",
            "\r\n",
            " ",
            "x",
            ":",
            "facilitator",
            "   ",
            "> ",
            ">",
            "- ",
            "1. ",
            "[^1]: ",
            "[^",
            "\t",
            "    ",
            "solution",
        ];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..3_000 {
            let mut src = String::new();
            for _ in 0..(seed % 40) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                src.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            for facilitator in [false, true] {
                let opts = ExpandOptions {
                    facilitator,
                    html: &Html::new(facilitator),
                    matches: &matches,
                };
                match expand(&src, &opts) {
                    Ok(e) => check_line_map(&src, &e),
                    Err(errors) => {
                        assert!(!errors.is_empty());
                        let lines = src.split_inclusive('\n').count();
                        for e in errors {
                            assert!(e.line >= 1 && e.line <= lines && e.column >= 1);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn odd_nestings_never_panic_and_never_leak() {
        let cases = [
            "> ::: facilitator\n:::\n",
            "::: facilitator\n> :::\n",
            "> ::: story\n> > ::: facilitator\n> > SECRET\n> :::\n> :::\n",
            "- ::: facilitator\n- SECRET\n- :::\n",
            "[^1]: ::: facilitator\n[^2]: ::: solution\n    SECRET\n    :::\n:::\n",
            "> - [^a]: 1. ::: facilitator\n>   SECRET\n:::::\n",
            "::::: facilitator\n:::\n::: tip\nSECRET\n::::\n:::::\n",
            ">>>>>>>>>> ::: facilitator\n>>>>>>>>>> SECRET\n>>>>>>>>>> :::\n",
            "-\t::: facilitator\n\tSECRET\n\t:::\n",
            "> ```\n> ::: facilitator\nSECRET\n:::\n",
            "[^]: ::: facilitator\nSECRET\n:::\n",
            "1)::: facilitator\n",
            "* * ::: facilitator\n    SECRET\n    :::\n",
        ];
        for src in cases {
            for facilitator in [false, true] {
                let opts = ExpandOptions {
                    facilitator,
                    html: &Html::new(facilitator),
                    matches: &matches,
                };
                if let Ok(e) = expand(src, &opts) {
                    check_line_map(src, &e);
                    if !facilitator {
                        let html = render_ext(&e.markdown);
                        let leaked = html.contains("SECRET")
                            && !html.contains("<details class=\"directive solution\">");
                        assert!(!leaked, "{src:?}: {html}");
                    }
                }
            }
        }
        let prefix = "> ".repeat(5_000);
        let deep = format!("{prefix}::: facilitator\n{prefix}SECRET\n{prefix}:::\n");
        assert!(!participant(&deep).contains("SECRET"));
        let opts = ExpandOptions {
            facilitator: false,
            html: &Html::new(false),
            matches: &matches,
        };
        let deep = format!("{}::: facilitator\nSECRET\n:::\n", "> - ".repeat(5_000));
        let result = expand(&deep, &opts);
        assert!(result.is_err_and(|errors| errors.len() == 1));
    }

    #[test]
    fn client_conditions_are_found_in_every_block() {
        let src = "::: facilitator\n> ::: only client=\"a\" sector=\"b\"\n> x\n> :::\n:::\n\
                   - ::::except city=\"c\"\n  y\n  ::::\n```\n::: only client=\"code\"\n```\n";
        let found: Vec<_> = client_conditions(src)
            .into_iter()
            .map(|c| (c.directive, c.key, c.value, c.line, c.column))
            .collect();
        assert_eq!(
            found,
            vec![
                ("only", "client".into(), "a".into(), 2, 12),
                ("only", "sector".into(), "b".into(), 2, 23),
                ("except", "city".into(), "c".into(), 6, 14),
            ]
        );
        assert!(client_conditions("::: tip\nonly\n:::\n").is_empty());
        assert!(client_conditions("::: only client=\"a\"\n").is_empty());
    }

    #[test]
    fn long_lines_are_linear() {
        let src = format!("::: only {}\nx\n:::", "a=b ".repeat(50_000));
        assert!(participant(&src).is_empty());
        let src = format!("::: quote author=\"a\" {}\nx\n:::", "k=v ".repeat(50_000));
        assert_eq!(errs(&src).len(), 50_000);
    }
}
