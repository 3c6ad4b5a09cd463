//! A page body as the workbook's blocks: the same Markdown, with directives
//! expanded for the version by the same engine as the site's, walked into a
//! tree of plain data (headings, paragraphs, lists, tables, coloured code,
//! directive boxes, worksheets) that the Typst template lays out.
//!
//! Nothing here writes Typst: every string is data, so no text of a page or
//! a client can ever be read as markup. What a PDF cannot show (raw HTML) is
//! left out with a warning naming the file and line.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Mutex;

use pulldown_cmark::{Alignment, CodeBlockKind, Event, LinkType, Parser, Tag, TagEnd};
use serde::Serialize;

use crate::compose::PageId;
use crate::error::Diagnostic;
use crate::markdown::directives::{
    self, DirectiveCall, DirectiveHtml, Role, Wrapper, builtin_spec,
};
use crate::markdown::typography::FrenchTypography;
use crate::markdown::{self, FenceWatch, highlight};

use super::super::{Shared, body, links};
use super::files::Files;

/// A block of the workbook.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "t", rename_all = "kebab-case")]
pub(super) enum Block {
    /// A heading of the body (level 1 to 6).
    Heading {
        /// Its level.
        level: u8,
        /// Its text.
        body: Vec<Inline>,
    },
    /// A paragraph.
    Paragraph {
        /// Its text.
        body: Vec<Inline>,
    },
    /// A bulleted or numbered list.
    List {
        /// Numbered.
        ordered: bool,
        /// The first number.
        start: u64,
        /// Each item's blocks.
        items: Vec<Vec<Block>>,
    },
    /// A blockquote.
    Quote {
        /// What it quotes.
        body: Vec<Block>,
    },
    /// A code block, coloured as on the site.
    Code {
        /// Its language as written (may be empty).
        lang: String,
        /// Its lines, as runs of one token kind.
        lines: Vec<Vec<Run>>,
    },
    /// A table.
    Table {
        /// Each column's alignment: `left`, `center`, `right` or `auto`.
        align: Vec<&'static str>,
        /// The header row's cells.
        head: Vec<Vec<Inline>>,
        /// The other rows' cells.
        rows: Vec<Vec<Vec<Inline>>>,
    },
    /// A thematic break.
    Rule,
    /// A directive block this version shows (`story`, `tip`, a project's).
    Directive {
        /// Its kind.
        kind: String,
        /// The title its box shows (the theme's label of the kind, or a
        /// project kind's `title` attribute).
        title: Option<String>,
        /// Its attributes, as written.
        attrs: BTreeMap<String, String>,
        /// Its content.
        body: Vec<Block>,
    },
    /// The blank worksheet of an exercise (an id of the document's
    /// worksheets).
    Worksheet {
        /// The exercise id.
        id: String,
    },
    /// A footnote's text.
    Footnote {
        /// Its label.
        label: String,
        /// Its content.
        body: Vec<Block>,
    },
}

/// Inline content.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "t", rename_all = "kebab-case")]
pub(super) enum Inline {
    /// Text, typography applied.
    Text {
        /// The text.
        s: String,
    },
    /// Inline code.
    Code {
        /// The code.
        s: String,
    },
    /// Emphasis.
    Emph {
        /// Its content.
        body: Vec<Inline>,
    },
    /// Strong emphasis.
    Strong {
        /// Its content.
        body: Vec<Inline>,
    },
    /// Struck out.
    Strike {
        /// Its content.
        body: Vec<Inline>,
    },
    /// A link: its URL when it leads outside the workbook, else its text only.
    Link {
        /// An absolute URL (`https:`, `mailto:`), or none.
        url: Option<String>,
        /// Its text.
        body: Vec<Inline>,
    },
    /// An image of the content (its file in the typesetter's files).
    Image {
        /// Its virtual path, none when the file is missing.
        path: Option<String>,
        /// Its text alternative.
        alt: String,
    },
    /// A hard line break.
    Break,
    /// A footnote reference.
    Note {
        /// The footnote's label.
        label: String,
    },
    /// A task list's box.
    Task {
        /// Ticked.
        checked: bool,
    },
}

/// A run of one token kind in a code line.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Run {
    /// The site's token class (`k`, `s`…), none for plain text.
    kind: Option<&'static str>,
    /// The text.
    text: String,
}

/// A body walked into blocks.
pub(super) struct WalkedBody {
    /// Its blocks.
    pub(super) blocks: Vec<Block>,
    /// The exercises it embeds, in order.
    pub(super) embedded: Vec<String>,
    /// What the PDF leaves out of it.
    pub(super) warnings: Vec<Diagnostic>,
}

/// Placed before the index of a directive call in its marker.
const OPEN_MARKER: &str = "<!--atelier-pdf:";
/// Ends a directive's content.
const CLOSE_MARKER: &str = "<!--atelier-pdf:end-->";

/// A directive call: its kind and attributes.
type Call = (String, Vec<(String, String)>);

/// The directive markers of one page: each shown directive becomes an HTML
/// comment holding its index, and its kind and attributes are kept here.
struct Markers<'s, 'a> {
    shared: &'s Shared<'a>,
    calls: RefCell<Vec<Call>>,
}

impl DirectiveHtml for Markers<'_, '_> {
    fn defines(&self, name: &str) -> bool {
        self.shared.theme.directive(name).is_some()
    }

    fn defined(&self) -> Vec<String> {
        self.shared.theme.extra_directives().to_vec()
    }

    fn wrap(&self, call: &DirectiveCall) -> Option<Wrapper> {
        let role = builtin_spec(call.kind).map(|spec| spec.role);
        if matches!(role, Some(Role::Only | Role::Except)) {
            // Kept or dropped by the engine; nothing around what is kept.
            return Some(Wrapper::default());
        }
        let mut calls = self.calls.borrow_mut();
        let index = calls.len();
        calls.push((call.kind.to_string(), call.attrs.to_vec()));
        // A solution is folded for participants (the engine checks it): the
        // workbook leaves it out of theirs.
        Some(Wrapper {
            open: format!("<details>{OPEN_MARKER}{index}-->"),
            close: format!("{CLOSE_MARKER}</details>"),
        })
    }
}

/// Page `id`'s body in this version, as blocks. `worksheets`: whether
/// `::: exercise` places a worksheet (not inside an exercise's own
/// instructions, which would nest worksheets).
pub(super) fn walk(
    shared: &Shared,
    id: PageId,
    files: &Files,
    worksheets: bool,
) -> Result<WalkedBody, Vec<Diagnostic>> {
    let page = &shared.site.pages[id];
    let markers = Markers {
        shared,
        calls: RefCell::default(),
    };
    let mut used = Vec::new();
    let source = body::expand_source(
        shared,
        id,
        &markers,
        &Mutex::default(),
        &mut used,
        &mut Vec::new,
    )?;
    let text = source.markdown.as_str();
    let lines = markdown::LineStarts::new(text);
    let locate = |offset: usize| -> (usize, usize) {
        let (index, column) = lines.locate(offset);
        (source.file_line(index), column)
    };
    let labels = &shared.labels;
    let calls = markers.calls.into_inner();
    let mut walker = Walker {
        stack: vec![Frame::Blocks(BlockFrame::Root, Vec::new())],
        pending: String::new(),
        typography: super::super::language::french(shared.version, page)
            .then(FrenchTypography::new),
        facilitator: shared.version.facilitator,
        embedded: Vec::new(),
        warnings: Vec::new(),
        html_lines: Vec::new(),
        worksheets,
    };
    let mut fences = FenceWatch::new(text, shared.theme.extra_directives());
    for (event, range) in Parser::new_ext(text, markdown::parser_options()).into_offset_iter() {
        fences.observe(&event, range.clone());
        match event {
            Event::Html(html) | Event::InlineHtml(html) => {
                walker.flush();
                if !walker.html(&html, &calls, labels) {
                    walker.html_lines.push(locate(range.start));
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                walker.flush();
                let path = image_path(shared, id, &dest_url, files);
                walker.open(Frame::Inlines(InlineFrame::Image(path), Vec::new()));
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) => {
                walker.flush();
                let url = external(link_type, &dest_url);
                walker.open(Frame::Inlines(InlineFrame::Link(url), Vec::new()));
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some(Frame::Code { lang, .. }) = walker.stack.last()
                    && highlight::token_lines("", lang).is_none()
                {
                    let (line, column) = locate(range.start);
                    walker.warnings.push(
                        Diagnostic::warning(
                            &page.file,
                            format!(
                                "code in an unknown language `{lang}`: the workbook PDF prints it without colours"
                            ),
                        )
                        .at(line, column)
                        .with_help(
                            "name a known language after the fence (```python, ```html, ```yaml…), or `text`",
                        ),
                    );
                }
                walker.event(Event::End(TagEnd::CodeBlock));
            }
            event => walker.event(event),
        }
    }
    walker.flush();
    let stray = fences.into_found(&locate);
    if !stray.is_empty() {
        return Err(stray
            .iter()
            .map(|fence| body::stray_fence_error(page, fence))
            .collect());
    }
    let mut warnings = std::mem::take(&mut walker.warnings);
    let mut seen = std::collections::HashSet::new();
    for (line, column) in std::mem::take(&mut walker.html_lines) {
        if seen.insert(line) {
            warnings.push(
                Diagnostic::warning(&page.file, "raw HTML is left out of the workbook PDF")
                    .at(line, column)
                    .with_help(
                        "write it in Markdown (or as a directive) to have it in the PDF too; the site keeps it",
                    ),
            );
        }
    }
    Ok(WalkedBody {
        blocks: walker.finish(),
        embedded: walker.embedded,
        warnings,
    })
}

/// The URL a link keeps in the PDF: only one that leads outside the site
/// (a page of the site is in the workbook itself).
fn external(link_type: LinkType, dest: &str) -> Option<String> {
    let dest = dest.trim();
    let outside = matches!(link_type, LinkType::Autolink | LinkType::Email)
        || ["http://", "https://", "mailto:", "tel:"]
            .iter()
            .any(|scheme| {
                dest.get(..scheme.len())
                    .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
            });
    outside.then(|| {
        if link_type == LinkType::Email && !dest.starts_with("mailto:") {
            format!("mailto:{dest}")
        } else {
            dest.to_string()
        }
    })
}

/// The virtual path of an image of page `id`, when it is a file of the
/// version (a content asset or a static file).
fn image_path(shared: &Shared, id: PageId, dest: &str, files: &Files) -> Option<String> {
    let page = &shared.site.pages[id];
    match links::resolve(shared, page, dest, true) {
        markdown::LinkOutcome::Rewrite { href, .. } => {
            let output = href.strip_prefix(markdown::ROOT_MARKER)?;
            let output = output.split(['?', '#']).next().unwrap_or(output);
            files.image(output)
        }
        _ => None,
    }
}

/// What a frame of blocks is.
enum BlockFrame {
    Root,
    Quote,
    Item,
    Footnote(String),
    /// A directive: kind, title, attributes; `keep: false` drops its content
    /// (a solution in a participant's workbook).
    Directive {
        kind: String,
        title: Option<String>,
        attrs: BTreeMap<String, String>,
        keep: bool,
    },
}

/// What a frame of inlines is.
enum InlineFrame {
    /// A paragraph; `implicit` when the Markdown has none (a tight list's
    /// item).
    Paragraph {
        implicit: bool,
    },
    Heading(u8),
    Emph,
    Strong,
    Strike,
    Link(Option<String>),
    Image(Option<String>),
    Cell,
}

/// An open element while the events are walked.
enum Frame {
    Blocks(BlockFrame, Vec<Block>),
    Inlines(InlineFrame, Vec<Inline>),
    List {
        ordered: bool,
        start: u64,
        items: Vec<Vec<Block>>,
    },
    Table {
        align: Vec<&'static str>,
        head: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
        in_head: bool,
    },
    Code {
        lang: String,
        text: String,
    },
}

/// Builds the tree from the parser's events.
struct Walker {
    stack: Vec<Frame>,
    /// Consecutive text, typography applied once the run is complete.
    pending: String,
    typography: Option<FrenchTypography>,
    facilitator: bool,
    embedded: Vec<String>,
    warnings: Vec<Diagnostic>,
    /// Where raw HTML was left out (line, column).
    html_lines: Vec<(usize, usize)>,
    worksheets: bool,
}

impl Walker {
    fn event(&mut self, event: Event) {
        if !matches!(event, Event::Text(_)) {
            self.flush();
        }
        if let Some(Frame::Code { text, .. }) = self.stack.last_mut() {
            match event {
                Event::Text(code) => text.push_str(&code),
                Event::End(TagEnd::CodeBlock) => {
                    self.close_until(|f| matches!(f, Frame::Code { .. }))
                }
                _ => {}
            }
            return;
        }
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.pending.push_str(&text),
            Event::Code(code) => {
                self.break_typography();
                self.inline(Inline::Code {
                    s: code.to_string(),
                });
            }
            Event::SoftBreak => {
                if let Some(t) = self.typography.as_mut() {
                    t.push_text("\n", &mut String::new());
                }
                self.inline(Inline::Text { s: " ".into() });
            }
            Event::HardBreak => self.inline(Inline::Break),
            Event::Rule => self.block(Block::Rule),
            Event::FootnoteReference(label) => self.inline(Inline::Note {
                label: label.to_string(),
            }),
            Event::TaskListMarker(checked) => self.inline(Inline::Task { checked }),
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag) {
        let frame = match tag {
            Tag::Paragraph => {
                Frame::Inlines(InlineFrame::Paragraph { implicit: false }, Vec::new())
            }
            Tag::Heading { level, .. } => {
                Frame::Inlines(InlineFrame::Heading(level as u8), Vec::new())
            }
            Tag::BlockQuote(_) => Frame::Blocks(BlockFrame::Quote, Vec::new()),
            Tag::CodeBlock(kind) => {
                self.break_typography();
                Frame::Code {
                    lang: match kind {
                        CodeBlockKind::Fenced(info) => info.to_string(),
                        CodeBlockKind::Indented => String::new(),
                    },
                    text: String::new(),
                }
            }
            Tag::List(start) => Frame::List {
                ordered: start.is_some(),
                start: start.unwrap_or(1),
                items: Vec::new(),
            },
            Tag::Item => Frame::Blocks(BlockFrame::Item, Vec::new()),
            Tag::FootnoteDefinition(label) => {
                Frame::Blocks(BlockFrame::Footnote(label.to_string()), Vec::new())
            }
            Tag::Table(align) => Frame::Table {
                align: align
                    .iter()
                    .map(|a| match a {
                        Alignment::None => "auto",
                        Alignment::Left => "left",
                        Alignment::Center => "center",
                        Alignment::Right => "right",
                    })
                    .collect(),
                head: Vec::new(),
                rows: Vec::new(),
                in_head: false,
            },
            Tag::TableHead => {
                if let Some(Frame::Table { in_head, .. }) = self.stack.last_mut() {
                    *in_head = true;
                }
                return;
            }
            Tag::TableRow => {
                if let Some(Frame::Table { rows, in_head, .. }) = self.stack.last_mut() {
                    *in_head = false;
                    rows.push(Vec::new());
                }
                return;
            }
            Tag::TableCell => Frame::Inlines(InlineFrame::Cell, Vec::new()),
            Tag::Emphasis => Frame::Inlines(InlineFrame::Emph, Vec::new()),
            Tag::Strong => Frame::Inlines(InlineFrame::Strong, Vec::new()),
            Tag::Strikethrough => Frame::Inlines(InlineFrame::Strike, Vec::new()),
            // Links and images are opened by the caller (they need the site).
            _ => return,
        };
        self.open(frame);
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                self.close_until(|f| matches!(f, Frame::Inlines(InlineFrame::Paragraph { .. }, _)))
            }
            TagEnd::Heading(_) => {
                self.close_until(|f| matches!(f, Frame::Inlines(InlineFrame::Heading(_), _)))
            }
            TagEnd::BlockQuote(_) => {
                self.close_until(|f| matches!(f, Frame::Blocks(BlockFrame::Quote, _)))
            }
            TagEnd::List(_) => self.close_until(|f| matches!(f, Frame::List { .. })),
            TagEnd::Item => self.close_until(|f| matches!(f, Frame::Blocks(BlockFrame::Item, _))),
            TagEnd::FootnoteDefinition => {
                self.close_until(|f| matches!(f, Frame::Blocks(BlockFrame::Footnote(_), _)))
            }
            TagEnd::Table => self.close_until(|f| matches!(f, Frame::Table { .. })),
            TagEnd::TableCell => {
                self.close_until(|f| matches!(f, Frame::Inlines(InlineFrame::Cell, _)))
            }
            TagEnd::Emphasis => {
                self.close_until(|f| matches!(f, Frame::Inlines(InlineFrame::Emph, _)))
            }
            TagEnd::Strong => {
                self.close_until(|f| matches!(f, Frame::Inlines(InlineFrame::Strong, _)))
            }
            TagEnd::Strikethrough => {
                self.close_until(|f| matches!(f, Frame::Inlines(InlineFrame::Strike, _)))
            }
            TagEnd::Link => {
                self.close_until(|f| matches!(f, Frame::Inlines(InlineFrame::Link(_), _)))
            }
            TagEnd::Image => {
                self.close_until(|f| matches!(f, Frame::Inlines(InlineFrame::Image(_), _)))
            }
            _ => {}
        }
        if matches!(tag, TagEnd::Paragraph) {
            self.break_typography();
        }
    }

    /// Handles an HTML event: directive markers, exercise markers and line
    /// breaks; `false` when it holds anything else (raw HTML, left out).
    fn html(&mut self, html: &str, calls: &[Call], labels: &BTreeMap<String, String>) -> bool {
        self.break_typography();
        let (exercise_open, exercise_close) = exercise_marker_parts();
        let mut only_markers = true;
        for line in html.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(index) = line
                .strip_prefix("<details>")
                .and_then(|rest| rest.strip_prefix(OPEN_MARKER))
                .and_then(|rest| rest.strip_suffix("-->"))
                .and_then(|index| index.parse::<usize>().ok())
            {
                if let Some((kind, attrs)) = calls.get(index) {
                    self.open_directive(kind, attrs, labels);
                }
            } else if line == format!("{CLOSE_MARKER}</details>") {
                self.close_until(|f| matches!(f, Frame::Blocks(BlockFrame::Directive { .. }, _)));
            } else if let Some(id) = line
                .strip_prefix(exercise_open.as_str())
                .and_then(|rest| rest.strip_suffix(exercise_close.as_str()))
            {
                if self.worksheets {
                    self.embedded.push(id.to_string());
                    self.block(Block::Worksheet { id: id.to_string() });
                }
            } else if is_line_break(line) {
                self.inline(Inline::Break);
            } else {
                only_markers = false;
            }
        }
        only_markers
    }

    fn open_directive(
        &mut self,
        kind: &str,
        attrs: &[(String, String)],
        labels: &BTreeMap<String, String>,
    ) {
        let role = builtin_spec(kind).map(|spec| spec.role);
        let attrs: BTreeMap<String, String> = attrs.iter().cloned().collect();
        let title = match role {
            Some(Role::Facilitator) => labels.get("facilitator_note").cloned(),
            Some(_) => labels.get(kind).cloned(),
            None => attrs
                .get("title")
                .cloned()
                .or_else(|| Some(capitalized(kind))),
        };
        let keep = role != Some(Role::Solution) || self.facilitator;
        self.open(Frame::Blocks(
            BlockFrame::Directive {
                kind: kind.to_string(),
                title,
                attrs,
                keep,
            },
            Vec::new(),
        ));
    }

    fn break_typography(&mut self) {
        self.flush();
        if let Some(t) = self.typography.as_mut() {
            t.break_context();
        }
    }

    /// Emits the text gathered so far, typography applied to the whole run.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.pending);
        let s = match self.typography.as_mut() {
            Some(t) => {
                let mut fixed = String::with_capacity(text.len() + 8);
                t.push_text(&text, &mut fixed);
                fixed
            }
            None => text,
        };
        self.inline(Inline::Text { s });
    }

    /// Opens `frame`; a block closes the implicit paragraph it follows.
    fn open(&mut self, frame: Frame) {
        let inline = matches!(
            frame,
            Frame::Inlines(
                InlineFrame::Emph
                    | InlineFrame::Strong
                    | InlineFrame::Strike
                    | InlineFrame::Link(_)
                    | InlineFrame::Image(_),
                _
            )
        );
        if !inline {
            self.close_implicit_paragraph();
        } else if matches!(self.stack.last(), Some(Frame::Blocks(..))) {
            self.stack.push(Frame::Inlines(
                InlineFrame::Paragraph { implicit: true },
                Vec::new(),
            ));
        }
        self.stack.push(frame);
    }

    fn close_implicit_paragraph(&mut self) {
        if matches!(
            self.stack.last(),
            Some(Frame::Inlines(InlineFrame::Paragraph { implicit: true }, _))
        ) {
            self.close_top();
        }
    }

    /// Adds `inline` to the open inlines (a tight list item's text opens an
    /// implicit paragraph).
    fn inline(&mut self, inline: Inline) {
        if matches!(self.stack.last(), Some(Frame::Blocks(..))) {
            self.stack.push(Frame::Inlines(
                InlineFrame::Paragraph { implicit: true },
                Vec::new(),
            ));
        }
        if let Some(Frame::Inlines(_, inlines)) = self.stack.last_mut() {
            inlines.push(inline);
        }
    }

    /// Adds `block` to the innermost open blocks.
    fn block(&mut self, block: Block) {
        self.close_implicit_paragraph();
        if let Some(Frame::Blocks(_, blocks)) = self.stack.last_mut() {
            blocks.push(block);
        }
    }

    /// Closes frames down to and including the innermost one `is` matches;
    /// nothing when no open frame matches (an end without its start).
    fn close_until(&mut self, is: impl Fn(&Frame) -> bool) {
        let Some(depth) = self.stack.iter().rposition(is) else {
            return;
        };
        // The root is never closed.
        let depth = depth.max(1);
        while self.stack.len() > depth {
            self.close_top();
        }
    }

    /// Closes the innermost frame into its parent.
    fn close_top(&mut self) {
        if self.stack.len() <= 1 {
            return;
        }
        let Some(frame) = self.stack.pop() else {
            return;
        };
        match frame {
            Frame::Inlines(kind, body) => {
                let inline = match kind {
                    InlineFrame::Paragraph { .. } => {
                        if !body.is_empty() {
                            self.block(Block::Paragraph { body });
                        }
                        return;
                    }
                    InlineFrame::Heading(level) => {
                        self.block(Block::Heading { level, body });
                        return;
                    }
                    InlineFrame::Cell => {
                        if let Some(Frame::Table {
                            head,
                            rows,
                            in_head,
                            ..
                        }) = self.stack.last_mut()
                        {
                            match rows.last_mut() {
                                Some(row) if !*in_head => row.push(body),
                                _ => head.push(body),
                            }
                        }
                        return;
                    }
                    InlineFrame::Emph => Inline::Emph { body },
                    InlineFrame::Strong => Inline::Strong { body },
                    InlineFrame::Strike => Inline::Strike { body },
                    InlineFrame::Link(url) => Inline::Link { url, body },
                    InlineFrame::Image(path) => Inline::Image {
                        path,
                        alt: plain_text(&body),
                    },
                };
                if let Some(Frame::Inlines(_, inlines)) = self.stack.last_mut() {
                    inlines.push(inline);
                }
            }
            Frame::Blocks(kind, body) => match kind {
                BlockFrame::Root => {}
                BlockFrame::Quote => self.block(Block::Quote { body }),
                BlockFrame::Item => {
                    if let Some(Frame::List { items, .. }) = self.stack.last_mut() {
                        items.push(body);
                    }
                }
                BlockFrame::Footnote(label) => self.block(Block::Footnote { label, body }),
                BlockFrame::Directive {
                    kind,
                    title,
                    attrs,
                    keep,
                } => {
                    if keep {
                        self.block(Block::Directive {
                            kind,
                            title,
                            attrs,
                            body,
                        });
                    }
                }
            },
            Frame::List {
                ordered,
                start,
                items,
            } => self.block(Block::List {
                ordered,
                start,
                items,
            }),
            Frame::Table {
                align, head, rows, ..
            } => self.block(Block::Table { align, head, rows }),
            Frame::Code { lang, text } => {
                let lines = highlight::token_lines(&text, &lang).unwrap_or_else(|| {
                    text.lines()
                        .map(|line| vec![(None, line.to_string())])
                        .collect()
                });
                let lines = lines
                    .into_iter()
                    .map(|runs| {
                        runs.into_iter()
                            .map(|(kind, text)| Run { kind, text })
                            .collect()
                    })
                    .collect();
                self.block(Block::Code { lang, lines });
            }
        }
    }

    /// Closes every open frame: the body's blocks.
    fn finish(&mut self) -> Vec<Block> {
        while self.stack.len() > 1 {
            self.close_top();
        }
        match self.stack.pop() {
            Some(Frame::Blocks(_, blocks)) => blocks,
            _ => Vec::new(),
        }
    }
}

/// `<br>`, `<br/>`, `<br />`: a line break the PDF can show.
fn is_line_break(html: &str) -> bool {
    let inner = html
        .strip_prefix('<')
        .and_then(|h| h.strip_suffix('>'))
        .map(|h| h.trim_end_matches('/').trim());
    inner.is_some_and(|tag| tag.eq_ignore_ascii_case("br"))
}

/// What comes before and after the id in an exercise marker.
fn exercise_marker_parts() -> (String, String) {
    let marker = directives::exercise_marker("\u{0}");
    let (before, after) = marker.split_once('\u{0}').unwrap_or((&marker, ""));
    (before.to_string(), after.to_string())
}

/// The text of inlines, without their styles (an image's alternative).
fn plain_text(inlines: &[Inline]) -> String {
    let mut text = String::new();
    for inline in inlines {
        match inline {
            Inline::Text { s } | Inline::Code { s } => text.push_str(s),
            Inline::Emph { body }
            | Inline::Strong { body }
            | Inline::Strike { body }
            | Inline::Link { body, .. } => text.push_str(&plain_text(body)),
            _ => {}
        }
    }
    text
}

/// `temoignage` → `Temoignage`: the title of a project kind's box when it
/// gives none.
fn capitalized(kind: &str) -> String {
    let mut chars = kind.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars)
            .collect::<String>()
            .replace(['-', '_'], " "),
        None => String::new(),
    }
}
