//! Markdown to HTML: CommonMark plus the extensions README.md's "Markdown"
//! section lists (directives' HTML: docs/themes.md).
//!
//! The page body goes through three text passes before pulldown-cmark sees it
//! (variables, then directives), and the event stream is rewritten on the way
//! out: heading ids and anchors, the table of contents, `.md` links turned into
//! page URLs, highlighted code blocks, and French typography on text only.
//! This module knows nothing of sites: link targets are resolved by a closure
//! the render layer provides.

pub mod directives;
pub mod highlight;
pub mod literal;
pub mod typography;
pub mod variables;
pub mod words;

pub use words::strip_tags;

use std::collections::HashSet;

use pulldown_cmark::{CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};
use serde::Serialize;

use crate::html::{escape, escape_into};
use crate::slug::slugify;
use typography::FrenchTypography;

/// Prefix written before every site-root-relative link in rendered bodies; the
/// page renderer replaces it with the page's own path to the root, so one
/// rendered body serves its page and the print page alike.
pub const ROOT_MARKER: &str = "@atelier-root@";

/// One entry of a page's table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TocEntry {
    /// 2 or 3.
    pub level: u8,
    /// The heading's id.
    pub id: String,
    /// The heading's text.
    pub title: String,
}

/// What to do with a link found in Markdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    /// Leave it as written (external, mail, already fine).
    Keep,
    /// Replace the destination; check the anchor in the target page once all
    /// pages are rendered (`target: None` is the page itself).
    Rewrite {
        /// New destination.
        href: String,
        /// `(target page, anchor)` to verify, if the link has a fragment.
        anchor: Option<(Option<usize>, String)>,
    },
    /// The target does not exist.
    Broken {
        /// What is wrong.
        message: String,
        /// How to fix it.
        help: String,
    },
    /// The target is a page this version does not publish: the link goes
    /// and its text stays, so no page holds a link that leads nowhere.
    Unlinked {
        /// What is wrong.
        message: String,
        /// How to fix it.
        help: String,
    },
}

/// A problem with one link, located in the source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkProblem {
    /// 1-based line in the source file.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

/// An anchor to verify once every page's heading ids are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorCheck {
    /// 1-based line in the source file.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Target page (`None`: this page).
    pub target: Option<usize>,
    /// The fragment, without `#`.
    pub anchor: String,
}

/// A rendered Markdown body.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// HTML, with [`ROOT_MARKER`] before root-relative links.
    pub html: String,
    /// h2 and h3 headings.
    pub toc: Vec<TocEntry>,
    /// Every id defined in the body (headings, footnotes).
    pub ids: HashSet<String>,
    /// Links whose target does not exist.
    pub link_problems: Vec<LinkProblem>,
    /// Anchors to verify.
    pub anchors: Vec<AnchorCheck>,
    /// Lines that look like a directive opener (`::: facilitator`) but were
    /// left as text by the directive pass: publishing them would publish
    /// what the block was meant to hide, so the caller refuses the page.
    pub stray_fences: Vec<StrayFence>,
}

/// A directive opener the parser reads as text or raw HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrayFence {
    /// 1-based line in the source file.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The fence as written (`::: facilitator`), shortened.
    pub fence: String,
}

/// The fence in `line` when it reads like the opener of a known directive
/// kind (`::: facilitator`, `:::Solution`, `::: {.facilitator}`), built in
/// or one of `extra_kinds` (defined by the project's templates).
fn known_opener(line: &str, extra_kinds: &[String]) -> Option<String> {
    let trimmed = line.trim_start();
    let after = trimmed.strip_prefix(":::")?.trim_start_matches(':');
    let word: String = after
        .trim_start()
        .trim_start_matches("{.")
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
        .take(40)
        .collect::<String>()
        .to_lowercase();
    (directives::KNOWN_KINDS.contains(&word.as_str()) || extra_kinds.contains(&word))
        .then(|| trimmed.trim_end().chars().take(60).collect())
}

/// Finds, event by event, the directive openers a page's Markdown parser
/// reads as text or raw HTML ([`Rendered::stray_fences`]): every renderer
/// of a body (the site's, the workbook PDF's) watches its events with one,
/// so none publishes a block meant to be hidden.
pub struct FenceWatch<'a> {
    markdown: &'a str,
    kinds: &'a [String],
    /// Does the next text start a line (so could be a fence left as text)?
    at_line_start: bool,
    /// Inside a code block; indented (most likely by mistake) or not.
    code: Option<bool>,
    /// Byte offset and fence of each opener found.
    found: Vec<(usize, String)>,
}

impl<'a> FenceWatch<'a> {
    /// A watch over `markdown`, whose directive kinds beyond the built-in
    /// ones are `kinds`.
    pub fn new(markdown: &'a str, kinds: &'a [String]) -> Self {
        FenceWatch {
            markdown,
            kinds,
            at_line_start: true,
            code: None,
            found: Vec::new(),
        }
    }

    /// Looks at the next event of the parser (with its byte range).
    pub fn observe(&mut self, event: &Event, range: std::ops::Range<usize>) {
        let line_start_before = std::mem::replace(
            &mut self.at_line_start,
            matches!(
                event,
                Event::SoftBreak
                    | Event::HardBreak
                    | Event::Start(
                        Tag::Paragraph
                            | Tag::Heading { .. }
                            | Tag::Item
                            | Tag::TableCell
                            | Tag::BlockQuote(_)
                            | Tag::FootnoteDefinition(_)
                    )
            ),
        );
        let starts_line_text = match event {
            Event::Text(_) => line_start_before && self.code.is_none(),
            Event::Html(_) => true,
            _ => false,
        };
        let markdown = self.markdown;
        if starts_line_text
            && markdown.get(range.start.saturating_sub(1)..range.start) != Some("\\")
        {
            let rest = markdown.get(range.start..).unwrap_or("");
            let line = rest.split('\n').next().unwrap_or(rest);
            if let Some(fence) = known_opener(line, self.kinds) {
                self.found.push((range.start, fence));
            }
        }
        match (event, self.code) {
            // Indentation by mistake must not publish a note as code: a
            // fenced code block shows a fence.
            (Event::Text(text), Some(true)) => {
                let mut offset = range.start;
                for line in text.split_inclusive('\n') {
                    if let Some(fence) = known_opener(line, self.kinds) {
                        self.found.push((offset, fence));
                    }
                    offset += line.len();
                }
            }
            (Event::Start(Tag::CodeBlock(kind)), _) => {
                self.code = Some(matches!(kind, CodeBlockKind::Indented));
            }
            (Event::End(TagEnd::CodeBlock), _) => self.code = None,
            _ => {}
        }
    }

    /// The openers found, located by `locate` (byte offset → file line and
    /// column).
    pub fn into_found(self, locate: &dyn Fn(usize) -> (usize, usize)) -> Vec<StrayFence> {
        self.found
            .into_iter()
            .map(|(offset, fence)| {
                let (line, column) = locate(offset);
                StrayFence {
                    line,
                    column,
                    fence,
                }
            })
            .collect()
    }
}

/// Options of one rendering.
pub struct RenderOptions<'a> {
    /// Apply French typography to text.
    pub french: bool,
    /// Resolves a link destination (`is_image` for images).
    pub resolve_link: &'a (dyn Fn(&str, bool) -> LinkOutcome + Sync),
    /// Maps a 0-based line of the Markdown given to [`render`] to the
    /// 1-based line of the source file.
    pub source_line: &'a (dyn Fn(usize) -> usize + Sync),
    /// Directive kinds beyond the built-in ones, whose openers left as text
    /// are errors too.
    pub directive_kinds: &'a [String],
}

/// The pulldown-cmark extensions atelier enables.
pub fn parser_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_SMART_PUNCTUATION
}

/// Renders `markdown` (variables and directives already expanded).
pub fn render(markdown: &str, options: &RenderOptions) -> Rendered {
    let lines = LineStarts::new(markdown);
    let locate = |offset: usize| -> (usize, usize) {
        let (index, column) = lines.locate(offset);
        ((options.source_line)(index), column)
    };

    let mut rendered = Rendered::default();
    let mut typography = options.french.then(FrenchTypography::new);
    let mut out: Vec<Event> = Vec::new();
    let mut heading_start: Option<usize> = None;
    let mut code: Option<(String, String)> = None;
    let mut used_ids: HashSet<String> = HashSet::new();
    let mut pending_heading: Option<(u8, Option<String>, Vec<String>)> = None;

    let mut pending_text = String::new();
    // Inside a link whose target this version does not publish: its text
    // is written, its tags are not (links do not nest).
    let mut unlinked = false;
    let mut fences = FenceWatch::new(markdown, options.directive_kinds);
    for (event, range) in Parser::new_ext(markdown, parser_options()).into_offset_iter() {
        if !pending_text.is_empty() && !matches!(event, Event::Text(_)) {
            flush_text(&mut pending_text, typography.as_mut(), &mut out);
        }
        fences.observe(&event, range.clone());
        if let Some((_, buffer)) = code.as_mut() {
            match event {
                Event::Text(text) => buffer.push_str(&text),
                Event::End(TagEnd::CodeBlock) => {
                    if let Some((lang, buffer)) = code.take() {
                        out.push(Event::Html(CowStr::from(
                            highlight::code_block(&buffer, &lang).to_string(),
                        )));
                    }
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
                if let Some(t) = typography.as_mut() {
                    t.break_context();
                }
            }
            Event::Start(Tag::Heading {
                level, id, classes, ..
            }) => {
                heading_start = Some(out.len());
                pending_heading = Some((
                    level as u8,
                    id.map(|id| id.to_string()),
                    classes.iter().map(|c| c.to_string()).collect(),
                ));
                out.push(Event::Text(CowStr::Borrowed("")));
            }
            Event::End(TagEnd::Heading(_)) => {
                let (Some(start), Some((level, explicit_id, classes))) =
                    (heading_start.take(), pending_heading.take())
                else {
                    continue;
                };
                let inner: Vec<Event> = out.drain(start..).skip(1).collect();
                let text = plain_text(&inner);
                let base = explicit_id.filter(|id| !id.is_empty()).unwrap_or_else(|| {
                    let slug = slugify(&text);
                    if slug.is_empty() {
                        "section".to_string()
                    } else {
                        slug
                    }
                });
                let id = unique_id(&base, &mut used_ids);
                let mut inner_html = String::new();
                pulldown_cmark::html::push_html(&mut inner_html, inner.into_iter());
                let mut html = format!("<h{level} id=\"{}\"", escape(&id));
                if !classes.is_empty() {
                    html.push_str(" class=\"");
                    escape_into(&classes.join(" "), &mut html);
                    html.push('"');
                }
                html.push('>');
                html.push_str(&inner_html);
                html.push_str(&format!(
                    " <a class=\"anchor\" href=\"#{}\" aria-hidden=\"true\" tabindex=\"-1\">#</a></h{level}>\n",
                    escape(&id)
                ));
                if level == 2 || level == 3 {
                    rendered.toc.push(TocEntry {
                        level,
                        id: id.clone(),
                        title: text,
                    });
                }
                rendered.ids.insert(id);
                out.push(Event::Html(CowStr::from(html)));
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => match rewrite_link(
                link_type,
                dest_url,
                false,
                range.start,
                options,
                &locate,
                &mut rendered,
            ) {
                Some(dest_url) => out.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                })),
                None => unlinked = true,
            },
            Event::End(TagEnd::Link) if unlinked => unlinked = false,
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let written = dest_url.clone();
                let dest_url = rewrite_link(
                    link_type,
                    dest_url,
                    true,
                    range.start,
                    options,
                    &locate,
                    &mut rendered,
                )
                .unwrap_or(written);
                out.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }));
            }
            Event::Start(Tag::FootnoteDefinition(label)) => {
                rendered.ids.insert(label.to_string());
                out.push(Event::Start(Tag::FootnoteDefinition(label)));
            }
            Event::Text(text) => pending_text.push_str(&text),
            event @ (Event::Code(_) | Event::Html(_) | Event::InlineHtml(_)) => {
                if let Some(t) = typography.as_mut() {
                    t.break_context();
                }
                out.push(event);
            }
            event @ (Event::SoftBreak | Event::HardBreak) => {
                if let Some(t) = typography.as_mut() {
                    t.push_text("\n", &mut String::new());
                }
                out.push(event);
            }
            event @ Event::End(TagEnd::Paragraph) => {
                if let Some(t) = typography.as_mut() {
                    t.break_context();
                }
                out.push(event);
            }
            event => out.push(event),
        }
    }
    flush_text(&mut pending_text, typography.as_mut(), &mut out);
    rendered.stray_fences = fences.into_found(&locate);
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, out.into_iter());
    rendered.html = html;
    rendered
}

/// Emits the text gathered from consecutive text events (pulldown-cmark splits
/// them around punctuation), with typography applied to the whole run.
fn flush_text(
    pending: &mut String,
    typography: Option<&mut FrenchTypography>,
    out: &mut Vec<Event>,
) {
    if pending.is_empty() {
        return;
    }
    let text = std::mem::take(pending);
    match typography {
        Some(t) => {
            let mut fixed = String::with_capacity(text.len() + 8);
            t.push_text(&text, &mut fixed);
            out.push(Event::Text(CowStr::from(fixed)));
        }
        None => out.push(Event::Text(CowStr::from(text))),
    }
}

/// The destination to write for a link or image, `None` when the link is
/// to go (its text stays); problems and anchors to check are noted in
/// `rendered`.
fn rewrite_link<'a>(
    link_type: LinkType,
    dest: CowStr<'a>,
    is_image: bool,
    offset: usize,
    options: &RenderOptions,
    locate: &dyn Fn(usize) -> (usize, usize),
    rendered: &mut Rendered,
) -> Option<CowStr<'a>> {
    if matches!(link_type, LinkType::Autolink | LinkType::Email) {
        return Some(dest);
    }
    let problem = |rendered: &mut Rendered, message, help| {
        let (line, column) = locate(offset);
        rendered.link_problems.push(LinkProblem {
            line,
            column,
            message,
            help,
        });
    };
    match (options.resolve_link)(&dest, is_image) {
        LinkOutcome::Keep => Some(dest),
        LinkOutcome::Rewrite { href, anchor } => {
            if let Some((target, anchor)) = anchor {
                let (line, column) = locate(offset);
                rendered.anchors.push(AnchorCheck {
                    line,
                    column,
                    target,
                    anchor,
                });
            }
            Some(CowStr::from(href))
        }
        LinkOutcome::Broken { message, help } => {
            problem(rendered, message, help);
            Some(dest)
        }
        LinkOutcome::Unlinked { message, help } => {
            problem(rendered, message, help);
            None
        }
    }
}

fn plain_text(events: &[Event]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    text.trim().to_string()
}

fn unique_id(base: &str, used: &mut HashSet<String>) -> String {
    if used.insert(base.to_string()) {
        return base.to_string();
    }
    (1..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| !used.contains(candidate))
        .inspect(|id| {
            used.insert(id.clone());
        })
        .unwrap_or_else(|| base.to_string())
}

/// Where each line of a text starts, so that a parser's byte offset can be
/// reported as a line and column: the HTML renderer and the PDF's walk
/// both point their messages at the source this way.
pub struct LineStarts<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineStarts<'a> {
    /// Indexes the lines of `text`.
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0).chain(memchr_newlines(text)).collect();
        LineStarts { text, starts }
    }

    /// The 0-based line index and 1-based column (in characters) of `offset`.
    pub fn locate(&self, offset: usize) -> (usize, usize) {
        let index = self
            .starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1);
        let start = self.starts.get(index).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset.min(self.text.len()))
            .map_or(1, |s| s.chars().count() + 1);
        (index, column)
    }
}

fn memchr_newlines(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i + 1)
}

/// Curly apostrophes in plain strings (titles, summaries), as smart
/// punctuation gives bodies: `l'après` → `l’après`.
pub fn smart_apostrophes(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut previous: Option<char> = None;
    for c in text.chars() {
        if c == '\'' && previous.is_some_and(char::is_alphanumeric) {
            out.push('’');
        } else {
            out.push(c);
        }
        previous = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_openers_left_as_text_are_reported() {
        let fences = |markdown: &str| -> Vec<(usize, usize, String)> {
            render_plain(markdown)
                .stray_fences
                .into_iter()
                .map(|s| (s.line, s.column, s.fence))
                .collect()
        };
        // A paragraph's continuation line, an HTML block, a list item, a
        // code block that ended with its blockquote.
        assert_eq!(
            fences("Texte\n    ::: facilitator\nsecret\n"),
            vec![(2, 5, "::: facilitator".to_string())]
        );
        assert_eq!(fences("<div>\n::: Solution\n</div>\n").len(), 1);
        assert_eq!(fences("- :::facilitator\n").len(), 1);
        assert_eq!(
            fences("> ```\n> code\n\n::: facilitator\nsecret\n").len(),
            1
        );
        assert_eq!(fences("Texte\n\n::: {.facilitator}\n").len(), 1);
        // Code, escapes, text that merely contains colons and unknown words
        // are fine.
        assert!(fences("```\n::: facilitator\n```\n").is_empty());
        // An indented code block is usually indentation by mistake.
        assert_eq!(
            fences("Texte\n\n    x\n    ::: facilitator\n    secret\n"),
            vec![(4, 5, "::: facilitator".to_string())]
        );
        assert!(fences("`::: facilitator`\n").is_empty());
        assert!(fences("\\::: facilitator\n").is_empty());
        assert!(fences("Voici ::: facilitator\n").is_empty());
        assert!(fences("::: rien\n\n:::\n").is_empty());
    }

    fn render_plain(markdown: &str) -> Rendered {
        let resolve = |_: &str, _: bool| LinkOutcome::Keep;
        let line = |i: usize| i + 1;
        render(
            markdown,
            &RenderOptions {
                french: true,
                resolve_link: &resolve,
                source_line: &line,
                directive_kinds: &[],
            },
        )
    }

    #[test]
    fn apostrophes_in_plain_strings() {
        assert_eq!(
            smart_apostrophes("L'histoire d'après 'x'"),
            "L’histoire d’après 'x’"
        );
    }

    #[test]
    fn headings_get_unique_ids_anchors_and_toc() {
        let r = render_plain(
            "## Le coût du générique\n\n## Le coût du générique\n\n### Détail {#mon-id}\n",
        );
        assert!(
            r.html.contains("<h2 id=\"le-cout-du-generique\">"),
            "{}",
            r.html
        );
        assert!(r.html.contains("<h2 id=\"le-cout-du-generique-1\">"));
        assert!(r.html.contains("<h3 id=\"mon-id\">"));
        assert!(r.html.contains("<a class=\"anchor\" href=\"#mon-id\""));
        assert_eq!(r.toc.len(), 3);
        assert_eq!(r.toc[2].title, "Détail");
    }

    #[test]
    fn typography_skips_code() {
        let r = render_plain("Bonjour ! `a ! b`\n\n```\nx ! y\n```\n");
        assert!(r.html.contains("Bonjour\u{202F}!"), "{}", r.html);
        assert!(r.html.contains("<code>a ! b</code>"));
        assert!(r.html.contains("x ! y"));
    }

    #[test]
    fn code_blocks_are_highlighted() {
        let r = render_plain("```rust\nfn main() {}\n```\n");
        assert!(r.html.contains("data-lang=\"rust\""));
        assert!(r.html.contains("hl-"));
    }

    #[test]
    fn links_are_located_and_rewritten() {
        let resolve = |dest: &str, _: bool| {
            if dest == "a.md" {
                LinkOutcome::Rewrite {
                    href: "A/".into(),
                    anchor: None,
                }
            } else {
                LinkOutcome::Broken {
                    message: "missing".into(),
                    help: "fix".into(),
                }
            }
        };
        let line = |i: usize| i + 10;
        let r = render(
            "[ok](a.md)\n\nsee [bad](b.md)\n",
            &RenderOptions {
                french: false,
                resolve_link: &resolve,
                source_line: &line,
                directive_kinds: &[],
            },
        );
        assert!(r.html.contains("href=\"A/\""));
        assert_eq!(r.link_problems.len(), 1);
        assert_eq!(
            (r.link_problems[0].line, r.link_problems[0].column),
            (12, 5)
        );
    }

    #[test]
    fn an_unlinked_link_keeps_its_text_and_loses_its_tags() {
        let resolve = |_: &str, _: bool| LinkOutcome::Unlinked {
            message: "left out".into(),
            help: "fix".into(),
        };
        let line = |i: usize| i + 1;
        let r = render(
            "Voir [la *page*](x.md#a) et ![image](x.md).\n",
            &RenderOptions {
                french: false,
                resolve_link: &resolve,
                source_line: &line,
                directive_kinds: &[],
            },
        );
        assert_eq!(
            r.html,
            "<p>Voir la <em>page</em> et <img src=\"x.md\" alt=\"image\" />.</p>\n"
        );
        assert_eq!(r.link_problems.len(), 2);
    }
}
