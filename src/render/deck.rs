//! Present mode: the day as one slide deck, and the presenter console.
//!
//! An output kind of a version, fed the same rendered bodies as its pages:
//! nothing is rendered from Markdown again. Each module or step body is cut
//! into slides at its top-level `<h2>` and `<hr>` (a `##` heading, a `---`
//! line) and around an embedded exercise; `::: facilitator` blocks become the
//! notes of the slide they stand in, written only into the console (which
//! facilitator versions alone have: participant bodies never hold them).
//! A body is cut once, into a [`SlidePlan`] kept in the body cache, for
//! every version that renders it: a version only fills in its module
//! number, its exercise headers and its links to the root.
//!
//! Like the print page the deck is streamed: its frame (title, agenda, break
//! and module title slides) is rendered from `present.html` with a
//! placeholder per body, and the slides of each body are written into it in
//! reading order as the pages are rendered.
//!
//! Inputs are the version's [`Shared`] values (composed site, version,
//! theme, labels), the bodies, and a [`Sink`]: [`Deck::new`], then
//! [`Deck::slides`] per body (any thread), [`DeckStream::push`] in reading
//! order, [`DeckStream::finish`].

use std::borrow::Cow;
use std::io::Write;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::agenda::AgendaItem;
use crate::compose::PageId;
use crate::content::{Front, PageKind};
use crate::error::Diagnostic;
use crate::hashing::FastMap;
use crate::markdown::ROOT_MARKER;

use super::body::Body;
use super::pages::{base_context, special_page};
use super::{Shared, Sink};

/// Output path of the deck.
pub const DECK_PATH: &str = "present/index.html";
/// Output path of the presenter console (facilitator versions only).
pub const CONSOLE_PATH: &str = "present/console/index.html";
const DECK_ROOT: &str = "../";
const CONSOLE_ROOT: &str = "../../";
const MARKER: &str = "<!--atelier:deck:";
const EXERCISE_MARKER: &str = "<!--atelier:exercise:";
const FACILITATOR: &str = "<aside class=\"directive facilitator\"";

/// What a version's deck needs while its bodies are cut into slides:
/// each exercise's slide header, rendered once (`partials/deck-exercise.html`).
pub(super) struct Deck {
    cards: FastMap<String, String>,
    /// Facilitator version: write the console, with the notes.
    console: bool,
}

/// The slides of one body, for the deck and (facilitator) the console.
#[derive(Default)]
pub(super) struct DeckSlides {
    deck: String,
    console: String,
}

impl Deck {
    /// Renders the exercise headers of the version.
    pub(super) fn new(shared: &Shared) -> Result<Deck, Diagnostic> {
        let site = shared.site;
        let mut cards = FastMap::default();
        for &id in &site.exercises {
            let page = &site.pages[id];
            let strings = &shared.texts[id];
            let duration = match &page.front {
                Front::Exercise(f) => f.duration,
                _ => None,
            };
            let mut context = base_context(shared, ROOT_MARKER);
            context.insert(
                "exercise",
                &ExerciseCard {
                    slug: &page.slug,
                    title: &strings.title,
                    objective: strings.objective.as_deref(),
                    duration: duration.map(|d| d.label()),
                    seconds: duration.map_or(0, |d| d.0 * 60),
                    clock: duration.map_or_else(String::new, |d| format!("{}:00", d.0)),
                    href: format!("{ROOT_MARKER}{}index.html", page.url),
                },
            );
            let html = shared
                .theme
                .tera
                .render("partials/deck-exercise.html", &context)
                .map_err(|e| shared.theme.render_error(&e, Path::new(DECK_PATH)))?;
            cards.insert(page.slug.clone(), html);
        }
        Ok(Deck {
            cards,
            console: shared.version.facilitator,
        })
    }

    /// The slides of page `id`'s body: one per top-level section. The body
    /// is cut once for every version that renders it (the plan is kept in
    /// the body cache); this version only fills in its module number, its
    /// exercise headers and the links to the root.
    pub(super) fn slides(&self, shared: &Shared, id: PageId, body: &Arc<Body>) -> DeckSlides {
        let html = body.rendered.html.as_str();
        let plan = match shared.cache {
            Some(cache) => cache.slide_plan(body, || SlidePlan::cut(html)),
            None => Arc::new(SlidePlan::cut(html)),
        };
        let module = shared.site.module_index_of(id).unwrap_or_default();
        self.write(plan.as_ref(), html, module)
    }

    /// The slides of a plan of `html`, for this version, in module number
    /// `module`.
    fn write(&self, plan: &SlidePlan, html: &str, module: usize) -> DeckSlides {
        let mut out = DeckSlides::default();
        out.deck.reserve(plan.size);
        if self.console {
            out.console.reserve(plan.size + plan.notes_size);
        }
        for slide in &plan.slides {
            let kind = if slide.exercise {
                "exercise"
            } else {
                "content"
            };
            let open = format!(
                "<section class=\"slide slide-{kind}\" data-slide data-module=\"{module}\"><div class=\"slide-inner\"><div class=\"slide-body prose\">"
            );
            out.deck.push_str(&open);
            self.fill(&slide.text, html, DECK_ROOT, &mut out.deck);
            out.deck.push_str("</div></div></section>\n");
            if self.console {
                out.console.push_str(&open);
                self.fill(&slide.text, html, CONSOLE_ROOT, &mut out.console);
                out.console.push_str("</div></div>");
                if let Some(notes) = &slide.notes {
                    out.console.push_str("<div class=\"slide-notes\" hidden>");
                    self.fill(notes, html, CONSOLE_ROOT, &mut out.console);
                    out.console.push_str("</div>");
                }
                out.console.push_str("</section>\n");
            }
        }
        out
    }

    /// A fragment's HTML for a page at `root`, onto `out`: root links and
    /// exercise headers (which hold root links too) in place.
    fn fill(&self, fragment: &Fragment, body_html: &str, root: &str, out: &mut String) {
        let text = fragment.own.as_deref().unwrap_or(body_html);
        for part in &fragment.parts {
            match part {
                Part::Html(range) => out.push_str(text.get(range.clone()).unwrap_or_default()),
                Part::Root => out.push_str(root),
                Part::Exercise(id) => {
                    let id = text.get(id.clone()).unwrap_or_default();
                    if let Some(card) = self.cards.get(id) {
                        push_rooted(card, root, out);
                    }
                }
            }
        }
    }
}

/// `html` onto `out`, with the root marker replaced by `root`.
fn push_rooted(html: &str, root: &str, out: &mut String) {
    let mut rest = html;
    while let Some(at) = rest.find(ROOT_MARKER) {
        out.push_str(&rest[..at]);
        out.push_str(root);
        rest = &rest[at + ROOT_MARKER.len()..];
    }
    out.push_str(rest);
}

/// A body cut into slides, the same for every version that renders it:
/// where each slide's text and notes are, and the places a version fills
/// in. Cutting (finding the sections, taking the notes out) is most of the
/// deck's work, so it is done once per body, not once per version.
#[derive(Debug)]
pub(super) struct SlidePlan {
    slides: Vec<PlannedSlide>,
    /// Bytes of the deck's slides, about: what to reserve.
    size: usize,
    /// Bytes of the notes.
    notes_size: usize,
}

/// One slide of a [`SlidePlan`].
#[derive(Debug)]
struct PlannedSlide {
    /// An embedded exercise's slide (with a countdown).
    exercise: bool,
    text: Fragment,
    /// Its facilitator blocks (there are none in participant bodies).
    notes: Option<Fragment>,
}

/// HTML of a slide or of its notes, cut at what differs between versions.
#[derive(Debug)]
struct Fragment {
    /// `None`: the ranges are in the body's HTML, which is not copied;
    /// else in this text (notes, a slide with notes taken out, an exercise
    /// slide with its header moved first).
    own: Option<Box<str>>,
    parts: Vec<Part>,
}

/// A part of a [`Fragment`].
#[derive(Debug, PartialEq, Eq)]
enum Part {
    /// Verbatim HTML.
    Html(Range<usize>),
    /// The path to the output root (the deck and the console differ).
    Root,
    /// The header of the exercise whose id is at this range (each version
    /// renders its own headers).
    Exercise(Range<usize>),
}

impl SlidePlan {
    /// Cuts a body's HTML into slides: one per top-level section, notes
    /// standing alone moved to the next slide (the last: to the one
    /// before), so every version has the same slides.
    pub(super) fn cut(html: &str) -> SlidePlan {
        let mut slides: Vec<(bool, Cow<str>, String)> = Vec::new();
        let mut pending = String::new();
        for chunk in split(html) {
            let (text, notes) = take_notes(&html[chunk.range]);
            pending.push_str(&notes);
            let text = match text {
                Cow::Borrowed(text) => Cow::Borrowed(strip_leading_rule(text)),
                Cow::Owned(text) => Cow::Owned(strip_leading_rule(&text).to_string()),
            };
            if text.trim().is_empty() {
                continue;
            }
            let text = if chunk.exercise {
                Cow::Owned(exercise_first(&text))
            } else {
                text
            };
            slides.push((chunk.exercise, text, std::mem::take(&mut pending)));
        }
        if let Some(last) = slides.last_mut() {
            last.2.push_str(&pending);
        }
        let size = slides.iter().map(|s| s.1.len() + 160).sum();
        let notes_size = slides.iter().map(|s| s.2.len() + 40).sum();
        let slides = slides
            .into_iter()
            .map(|(exercise, text, notes)| PlannedSlide {
                exercise,
                text: Fragment::new(html, text),
                notes: (!notes.is_empty()).then(|| Fragment::new(html, Cow::Owned(notes))),
            })
            .collect();
        SlidePlan {
            slides,
            size,
            notes_size,
        }
    }
}

impl Fragment {
    /// `text` (when borrowed, a part of `html`) cut at its exercise markers
    /// and root markers, as a version fills them in.
    fn new(html: &str, text: Cow<str>) -> Fragment {
        let within = |part: &str| {
            let offset = (part.as_ptr() as usize).checked_sub(html.as_ptr() as usize)?;
            html.get(offset..offset + part.len())
                .is_some_and(|inside| std::ptr::eq(inside, part))
                .then_some(offset)
        };
        if let Cow::Borrowed(part) = &text
            && let Some(offset) = within(part)
        {
            return Fragment {
                own: None,
                parts: parts_of(part, offset),
            };
        }
        let parts = parts_of(&text, 0);
        Fragment {
            own: Some(text.into_owned().into_boxed_str()),
            parts,
        }
    }
}

/// The parts of `text`, whose ranges are shifted by `offset` (where `text`
/// starts in the string they index): a header per exercise marker (an
/// unclosed one stays text), the root wherever the root marker is.
fn parts_of(text: &str, offset: usize) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut position = 0;
    // `contains` is vectorised, `find` is not: most bodies embed nothing.
    let embeds = text.contains(EXERCISE_MARKER);
    while let Some(found) = embeds
        .then(|| text[position..].find(EXERCISE_MARKER))
        .flatten()
    {
        let at = position + found;
        rooted_parts(text, position..at, offset, &mut parts);
        let id_start = at + EXERCISE_MARKER.len();
        let Some(id_len) = text[id_start..].find("-->") else {
            position = at;
            break;
        };
        parts.push(Part::Exercise(
            offset + id_start..offset + id_start + id_len,
        ));
        position = id_start + id_len + 3;
    }
    rooted_parts(text, position..text.len(), offset, &mut parts);
    parts
}

/// Where the root markers of `text` start, left to right: found by their
/// first byte (a `char` search uses `memchr`), rare in HTML.
fn root_markers(text: &str) -> impl Iterator<Item = usize> + '_ {
    let first = ROOT_MARKER.chars().next().unwrap_or('@');
    let mut position = 0;
    std::iter::from_fn(move || {
        while let Some(found) = text.get(position..)?.find(first) {
            let at = position + found;
            if text[at..].starts_with(ROOT_MARKER) {
                position = at + ROOT_MARKER.len();
                return Some(at);
            }
            position = at + first.len_utf8();
        }
        None
    })
}

/// `text[range]` as verbatim parts around its root markers.
fn rooted_parts(text: &str, range: Range<usize>, offset: usize, parts: &mut Vec<Part>) {
    let mut position = range.start;
    let segment = &text[range.clone()];
    for at in root_markers(segment) {
        let at = range.start + at;
        if at > position {
            parts.push(Part::Html(offset + position..offset + at));
        }
        parts.push(Part::Root);
        position = at + ROOT_MARKER.len();
    }
    if range.end > position {
        parts.push(Part::Html(offset + position..offset + range.end));
    }
}

/// An exercise's header on its slide.
#[derive(Serialize)]
struct ExerciseCard<'a> {
    slug: &'a str,
    title: &'a str,
    objective: Option<&'a str>,
    duration: Option<String>,
    seconds: u32,
    /// The countdown's start, `20:00`.
    clock: String,
    href: String,
}

/// One line of the day, as the deck's templates see it.
#[derive(Serialize, Default)]
struct DeckPart {
    /// `module` or `break`.
    kind: &'static str,
    /// Index of the module (for a break: of the module that follows).
    module: usize,
    title: String,
    summary: Option<String>,
    emotion: Option<String>,
    start: String,
    end: String,
    /// Minutes since midnight, for the console's pacing.
    start_minutes: u32,
    minutes: u32,
    duration: Option<String>,
    /// Placeholder of the module's own body.
    content: String,
    steps: Vec<DeckStep>,
    /// A break: the title of the module it resumes with.
    next: Option<String>,
}

#[derive(Serialize)]
struct DeckStep {
    title: String,
    content: String,
}

/// A deck (and console) being written.
pub(super) struct DeckStream<'s> {
    outputs: Vec<Output<'s>>,
    slots: Vec<PageId>,
    written: usize,
}

struct Output<'s> {
    path: &'static str,
    out: Box<dyn Write + 's>,
    /// Frame text between slots: `segments[k]` follows slot `k - 1`.
    segments: Vec<String>,
}

fn failed(path: &str, e: std::io::Error) -> Diagnostic {
    Diagnostic::general(format!("cannot write {path}: {e}"))
}

impl<'s> DeckStream<'s> {
    /// Renders the frames and writes them up to the first body.
    pub(super) fn open(shared: &Shared, sink: &'s dyn Sink) -> Result<DeckStream<'s>, Diagnostic> {
        let site = shared.site;
        let mut slots: Vec<PageId> = Vec::new();
        let mut placeholder = |id: PageId| {
            slots.push(id);
            format!("{MARKER}{}-->", slots.len() - 1)
        };
        let break_label = shared
            .labels
            .get("break_label")
            .cloned()
            .unwrap_or_else(|| "Break".to_string());
        let mut parts: Vec<DeckPart> = Vec::new();
        for (position, item) in site.agenda.items.iter().enumerate() {
            let start = item.start();
            let common = DeckPart {
                start: start.to_string(),
                end: start.plus(item.duration()).to_string(),
                start_minutes: start.minutes,
                minutes: item.duration().0,
                ..DeckPart::default()
            };
            match item {
                AgendaItem::Module { module, .. } => {
                    let Some(m) = site.modules.get(*module) else {
                        continue;
                    };
                    let strings = &shared.texts[m.page];
                    parts.push(DeckPart {
                        kind: "module",
                        module: *module,
                        title: strings.title.clone(),
                        summary: strings.summary.clone(),
                        emotion: match &site.pages[m.page].front {
                            Front::Module(f) => f.emotion.clone(),
                            _ => None,
                        },
                        duration: m.duration.map(|d| d.label()),
                        content: placeholder(m.page),
                        steps: m
                            .steps
                            .iter()
                            .map(|&s| DeckStep {
                                title: shared.texts[s].title.clone(),
                                content: placeholder(s),
                            })
                            .collect(),
                        ..common
                    });
                }
                AgendaItem::Break { label, .. } => {
                    let next = site.agenda.items[position..].iter().find_map(|i| match i {
                        AgendaItem::Module { module, .. } => Some(*module),
                        AgendaItem::Break { .. } => None,
                    });
                    parts.push(DeckPart {
                        kind: "break",
                        module: next.unwrap_or(site.modules.len()),
                        title: label.clone().unwrap_or_else(|| break_label.clone()),
                        duration: Some(item.duration().label()),
                        next: next
                            .and_then(|n| site.modules.get(n))
                            .map(|m| shared.texts[m.page].title.clone()),
                        ..common
                    });
                }
            }
        }
        let key = format!(
            "atelier-deck:{}:{}",
            shared.config.title,
            shared
                .version
                .client
                .as_ref()
                .map_or("base", |c| c.slug.as_str())
        );
        let mut frames = vec![(DECK_PATH, DECK_ROOT, "present.html")];
        if shared.version.facilitator {
            frames.push((CONSOLE_PATH, CONSOLE_ROOT, "present-console.html"));
        }
        let mut outputs = Vec::new();
        for (path, root, template) in frames {
            let mut context = base_context(shared, root);
            let page = special_page(shared, "present", "present", "Slides", "present/");
            context.insert("page", &page);
            context.insert("parts", &parts);
            context.insert("deck_key", &key);
            context.insert("day_start", &site.agenda.start.to_string());
            context.insert("day_end", &site.agenda.end().to_string());
            let frame = shared
                .theme
                .tera
                .render(template, &context)
                .map_err(|e| shared.theme.render_error(&e, Path::new(path)))?;
            let segments = super::print::cut_at_placeholders(&frame, MARKER);
            if segments.len() != slots.len() + 1 {
                return Err(Diagnostic::general(format!(
                    "template {template} must show every module's and step's `content` once, in order (it shows {} of {})",
                    segments.len() - 1,
                    slots.len()
                )));
            }
            let mut out = sink.create(path).map_err(|e| failed(path, e))?;
            out.write_all(segments[0].as_bytes())
                .map_err(|e| failed(path, e))?;
            outputs.push(Output {
                path,
                out,
                segments,
            });
        }
        Ok(DeckStream {
            outputs,
            slots,
            written: 0,
        })
    }

    /// Whether `id`'s slides are the next ones the deck expects.
    pub(super) fn expects(&self, id: PageId) -> bool {
        self.slots.get(self.written) == Some(&id)
    }

    /// Writes the slides of `id`'s body, when they are the next expected.
    pub(super) fn push(&mut self, id: PageId, slides: &DeckSlides) -> Result<(), Diagnostic> {
        if self.expects(id) {
            self.write_next(slides)
        } else {
            Ok(())
        }
    }

    fn write_next(&mut self, slides: &DeckSlides) -> Result<(), Diagnostic> {
        self.written += 1;
        for output in &mut self.outputs {
            let html = if output.path == DECK_PATH {
                &slides.deck
            } else {
                &slides.console
            };
            let path = output.path;
            output
                .out
                .write_all(html.as_bytes())
                .map_err(|e| failed(path, e))?;
            if let Some(segment) = output.segments.get(self.written) {
                output
                    .out
                    .write_all(segment.as_bytes())
                    .map_err(|e| failed(path, e))?;
            }
        }
        Ok(())
    }

    /// Writes what is left and closes the files.
    pub(super) fn finish(mut self) -> Result<(), Diagnostic> {
        while self.written < self.slots.len() {
            self.write_next(&DeckSlides::default())?;
        }
        for output in &mut self.outputs {
            let path = output.path;
            output.out.flush().map_err(|e| failed(path, e))?;
        }
        Ok(())
    }
}

/// The deck of a version: the slicer of its bodies (any thread) and the
/// files they are written to (in reading order).
pub(super) fn open<'s>(
    shared: &Shared,
    sink: &'s dyn Sink,
) -> Result<(Deck, DeckStream<'s>), Diagnostic> {
    Ok((Deck::new(shared)?, DeckStream::open(shared, sink)?))
}

/// Which pages' bodies go into the deck.
pub(super) fn in_deck(kind: PageKind) -> bool {
    matches!(kind, PageKind::Module | PageKind::Step)
}

/// A part of a body that makes one slide.
#[derive(Debug, PartialEq, Eq)]
struct Chunk {
    range: Range<usize>,
    /// An embedded exercise (`::: exercise`) at the top level.
    exercise: bool,
}

/// An HTML tag found by [`Tags`].
#[derive(Debug)]
struct Tag<'a> {
    start: usize,
    end: usize,
    name: &'a str,
    kind: TagKind,
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum TagKind {
    Open,
    Close,
    /// A void element (`<hr>`, `<img>`…) or a self-closing tag.
    Empty,
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];
/// Elements whose content is raw text, not tags.
const RAW: &[&str] = &["script", "style", "textarea", "title"];

/// Whether a tag name (any case) is in `names` (lower case, at most 8
/// bytes long): most names are one or two letters and match nothing.
fn is_one_of(name: &str, names: &[&str]) -> bool {
    if name.len() > 8 {
        return false;
    }
    let mut lower = [0u8; 8];
    for (to, from) in lower.iter_mut().zip(name.bytes()) {
        *to = from.to_ascii_lowercase();
    }
    let lower = &lower[..name.len()];
    names.iter().any(|n| n.as_bytes() == lower)
}

/// The tags of an HTML fragment, skipping comments and raw text. Tolerant:
/// a `<` that opens no tag is text.
struct Tags<'a> {
    html: &'a str,
    position: usize,
}

impl<'a> Iterator for Tags<'a> {
    type Item = Tag<'a>;

    fn next(&mut self) -> Option<Tag<'a>> {
        let html = self.html;
        loop {
            let start = self.position + html.get(self.position..)?.find('<')?;
            let rest = &html[start..];
            if rest.starts_with("<!--") {
                self.position = start + rest.find("-->").map_or(rest.len(), |e| e + 3);
                continue;
            }
            if rest.starts_with("<!") || rest.starts_with("<?") {
                self.position = start + rest.find('>').map_or(rest.len(), |e| e + 1);
                continue;
            }
            let closing = rest.as_bytes().get(1) == Some(&b'/');
            let name_start = start + 1 + usize::from(closing);
            let name_len = html[name_start..]
                .bytes()
                .take_while(u8::is_ascii_alphanumeric)
                .count();
            if name_len == 0 {
                self.position = start + 1;
                continue;
            }
            let name = &html[name_start..name_start + name_len];
            let mut end = html.len();
            let mut quote = None;
            for (k, b) in html[name_start + name_len..].bytes().enumerate() {
                match (quote, b) {
                    (Some(q), b) if b == q => quote = None,
                    (Some(_), _) => {}
                    (None, b'"' | b'\'') => quote = Some(b),
                    (None, b'>') => {
                        end = name_start + name_len + k + 1;
                        break;
                    }
                    _ => {}
                }
            }
            self.position = end;
            let kind = if closing {
                TagKind::Close
            } else if html[..end].ends_with("/>") || is_one_of(name, VOID) {
                TagKind::Empty
            } else {
                TagKind::Open
            };
            if kind == TagKind::Open && is_one_of(name, RAW) {
                self.position = raw_text_end(html, end, name);
            }
            return Some(Tag {
                start,
                end,
                name,
                kind,
            });
        }
    }
}

/// Where the raw text of a `name` element opened before `from` ends: at its
/// closing tag (any case), or at the end.
fn raw_text_end(html: &str, from: usize, name: &str) -> usize {
    let mut at = from;
    while let Some(found) = html[at..].find("</") {
        let start = at + found;
        let tag = html.get(start + 2..start + 2 + name.len());
        if tag.is_some_and(|t| t.eq_ignore_ascii_case(name)) {
            return start;
        }
        at = start + 2;
    }
    html.len()
}

fn tags(html: &str) -> Tags<'_> {
    Tags { html, position: 0 }
}

/// A body cut into slides: before each top-level `<h2` and `<hr`, and
/// around each top-level embedded exercise. Tags nested in other elements
/// never cut (a heading in a story block stays in its slide); unbalanced
/// HTML only means fewer cuts.
fn split(html: &str) -> Vec<Chunk> {
    let mut cuts: Vec<(usize, bool)> = vec![(0, false)];
    let mut depth = 0usize;
    let mut in_exercise = false;
    for tag in tags(html) {
        match tag.kind {
            TagKind::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 && in_exercise {
                    in_exercise = false;
                    cuts.push((tag.end, false));
                }
            }
            TagKind::Open | TagKind::Empty if depth == 0 => {
                let opening = &html[tag.start..tag.end];
                if tag.name.eq_ignore_ascii_case("h2") || tag.name.eq_ignore_ascii_case("hr") {
                    cuts.push((tag.start, false));
                } else if tag.name.eq_ignore_ascii_case("div")
                    && opening.contains("class=\"directive exercise-embed\"")
                {
                    cuts.push((tag.start, true));
                    in_exercise = tag.kind == TagKind::Open;
                }
                if tag.kind == TagKind::Open {
                    depth += 1;
                }
            }
            TagKind::Open => depth += 1,
            TagKind::Empty => {}
        }
    }
    cuts.dedup_by(|later, earlier| {
        later.0 == earlier.0 && {
            earlier.1 |= later.1;
            true
        }
    });
    let mut chunks = Vec::with_capacity(cuts.len());
    for (k, &(start, exercise)) in cuts.iter().enumerate() {
        let end = cuts.get(k + 1).map_or(html.len(), |c| c.0);
        if end > start {
            chunks.push(Chunk {
                range: start..end,
                exercise,
            });
        }
    }
    chunks
}

/// Where the element opened by the tag at `start` ends.
fn element_end(html: &str, start: usize) -> usize {
    let mut depth = 0usize;
    let mut tags = Tags {
        html,
        position: start,
    };
    for tag in &mut tags {
        match tag.kind {
            TagKind::Open => depth += 1,
            TagKind::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return tag.end;
                }
            }
            TagKind::Empty if depth == 0 => return tag.end,
            TagKind::Empty => {}
        }
    }
    html.len()
}

/// A slide's HTML without its facilitator blocks, and those blocks.
fn take_notes(html: &str) -> (Cow<'_, str>, String) {
    if !html.contains(FACILITATOR) {
        return (Cow::Borrowed(html), String::new());
    }
    let mut text = String::with_capacity(html.len());
    let mut notes = String::new();
    let mut rest = html;
    while let Some(at) = rest.find(FACILITATOR) {
        text.push_str(&rest[..at]);
        let end = at + element_end(&rest[at..], 0);
        notes.push_str(&rest[at..end]);
        rest = &rest[end..];
    }
    text.push_str(rest);
    (Cow::Owned(text), notes)
}

/// An exercise slide with the exercise's header first, its extra
/// instructions after.
fn exercise_first(html: &str) -> String {
    let Some(at) = html.find(EXERCISE_MARKER) else {
        return html.to_string();
    };
    let Some(end) = html[at..].find("-->").map(|e| at + e + 3) else {
        return html.to_string();
    };
    let open = html.find('>').map_or(0, |e| e + 1).min(at);
    format!(
        "{}{}{}{}",
        &html[..open],
        &html[at..end],
        &html[open..at],
        &html[end..]
    )
}

/// A slide that starts at a `---` line: without the rule itself.
fn strip_leading_rule(html: &str) -> &str {
    let trimmed = html.trim_start();
    if let Some(tag) = tags(trimmed).next()
        && tag.start == 0
        && tag.name.eq_ignore_ascii_case("hr")
    {
        return &trimmed[tag.end..];
    }
    html
}

/// Words a slide may hold before `check` says it is too long to read on a
/// projector (the deck still scales it down to fit).
pub const MAX_SLIDE_WORDS: usize = 120;
/// Lines (of text or code, blank lines apart) a slide may hold.
pub const MAX_SLIDE_LINES: usize = 18;

/// `check`'s warnings about the version's slides too long to read on a
/// projector, with file and line.
pub(super) fn long_slide_warnings(shared: &Shared) -> Vec<Diagnostic> {
    let site = shared.site;
    let mut warnings = Vec::new();
    for &id in &site.reading_order {
        let page = &site.pages[id];
        for (line, words, lines) in long_slides(&page.body, page.body_line) {
            let what = if words > MAX_SLIDE_WORDS {
                format!("{words} words (more than {MAX_SLIDE_WORDS})")
            } else {
                format!("{lines} lines (more than {MAX_SLIDE_LINES})")
            };
            warnings.push(
                Diagnostic::warning(
                    &page.file,
                    format!("slide too long to read on a projector: {what}"),
                )
                .at_line(line)
                .with_help(
                    "start a new slide with a `## heading` or a `---` line; the deck shrinks a slide that does not fit, so its text gets small",
                ),
            );
        }
    }
    warnings
}

/// Slides of a page's Markdown too long to read on a projector: the 1-based
/// line each starts at, its words and lines. Counted in the source, as the
/// deck cuts it (top-level `##` headings and `---` lines, outside code
/// fences and directives), without facilitator notes or fence lines.
pub(super) fn long_slides(markdown: &str, first_line: usize) -> Vec<(usize, usize, usize)> {
    let mut found = Vec::new();
    let mut slide = (first_line, 0usize, 0usize);
    let mut fence: Option<(u8, usize)> = None;
    // Directives open, and how deep the first facilitator block is.
    let mut directives: Vec<bool> = Vec::new();
    let mut previous_blank = true;
    let close = |slide: (usize, usize, usize), found: &mut Vec<_>| {
        if slide.1 > MAX_SLIDE_WORDS || slide.2 > MAX_SLIDE_LINES {
            found.push(slide);
        }
    };
    for (k, line) in markdown.lines().enumerate() {
        let number = first_line + k;
        let trimmed = line.trim_start();
        let in_notes = directives.iter().any(|&notes| notes);
        if let Some((mark, len)) = fence {
            let run = trimmed.bytes().take_while(|&b| b == mark).count();
            if run >= len && trimmed[run..].trim().is_empty() {
                fence = None;
            } else if !in_notes && !trimmed.is_empty() {
                slide.1 += trimmed.split_whitespace().count();
                slide.2 += 1;
            }
            continue;
        }
        let first = trimmed.bytes().next();
        if let Some(mark @ (b'`' | b'~')) = first {
            let run = trimmed.bytes().take_while(|&b| b == mark).count();
            if run >= 3 {
                fence = Some((mark, run));
                continue;
            }
        }
        if trimmed.starts_with(":::") {
            let kind = trimmed.trim_start_matches(':').trim();
            if kind.is_empty() {
                directives.pop();
            } else {
                directives.push(kind.split_whitespace().next() == Some("facilitator"));
            }
            continue;
        }
        let top = directives.is_empty() && line.len() - trimmed.len() < 4;
        let heading = trimmed.starts_with("## ") || trimmed == "##";
        let rule = {
            let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
            compact.len() >= 3
                && (compact.bytes().all(|b| b == b'-')
                    || compact.bytes().all(|b| b == b'*')
                    || compact.bytes().all(|b| b == b'_'))
        };
        if top && (heading || (rule && previous_blank)) {
            close(slide, &mut found);
            slide = (number, 0, 0);
        }
        previous_blank = trimmed.is_empty();
        if in_notes || trimmed.is_empty() || rule {
            continue;
        }
        slide.1 += trimmed.split_whitespace().count();
        slide.2 += 1;
    }
    close(slide, &mut found);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(html: &str) -> Vec<&str> {
        split(html).into_iter().map(|c| &html[c.range]).collect()
    }

    #[test]
    fn cuts_at_top_level_headings_and_rules_only() {
        let html = "<p>intro</p><h2 id=\"a\">A</h2><p>a</p><hr /><p>b</p><div class=\"directive story\"><h2>in</h2><hr></div><h3>c</h3>";
        assert_eq!(
            pieces(html),
            [
                "<p>intro</p>",
                "<h2 id=\"a\">A</h2><p>a</p>",
                "<hr /><p>b</p><div class=\"directive story\"><h2>in</h2><hr></div><h3>c</h3>",
            ]
        );
    }

    #[test]
    fn comments_code_and_attributes_do_not_cut() {
        let html = "<p>x</p><!-- <h2> --><pre><code>&lt;h2&gt;</code></pre><p title=\"a>b <h2\">y</p><script>\"</b><h2>\"</SCRIPT>";
        assert_eq!(pieces(html), [html]);
    }

    #[test]
    fn an_embedded_exercise_is_its_own_slide() {
        let html = "<p>a</p><div class=\"directive exercise-embed\"><!--atelier:exercise:x--><p>do it</p></div><p>b</p>";
        let chunks = split(html);
        assert_eq!(chunks.len(), 3);
        assert!(chunks[1].exercise);
        assert_eq!(
            &html[chunks[1].range.clone()],
            "<div class=\"directive exercise-embed\"><!--atelier:exercise:x--><p>do it</p></div>"
        );
    }

    #[test]
    fn facilitator_blocks_become_notes() {
        let html = "<p>a</p><aside class=\"directive facilitator\"><p>secret <aside>x</aside></p></aside><p>b</p>";
        let (text, notes) = take_notes(html);
        assert_eq!(text, "<p>a</p><p>b</p>");
        assert!(notes.starts_with(FACILITATOR) && notes.ends_with("</aside></p></aside>"));
    }

    /// The slides as they were made before plans: each version cut the
    /// body itself. A plan must give the same bytes.
    fn cut_in_place(deck: &Deck, html: &str, module: usize) -> (String, String) {
        let finish = |text: &str, root: &str, out: &mut String| {
            let mut rest = text;
            while let Some(at) = rest.find(EXERCISE_MARKER) {
                push_rooted(&rest[..at], root, out);
                let after = &rest[at + EXERCISE_MARKER.len()..];
                let Some(end) = after.find("-->") else {
                    rest = &rest[at..];
                    break;
                };
                if let Some(card) = deck.cards.get(&after[..end]) {
                    push_rooted(card, root, out);
                }
                rest = &after[end + 3..];
            }
            push_rooted(rest, root, out);
        };
        let mut slides: Vec<(&str, String, String)> = Vec::new();
        let mut pending = String::new();
        for chunk in split(html) {
            let kind = if chunk.exercise {
                "exercise"
            } else {
                "content"
            };
            let (text, notes) = take_notes(&html[chunk.range]);
            pending.push_str(&notes);
            let text = strip_leading_rule(&text).to_string();
            if text.trim().is_empty() {
                continue;
            }
            let text = if chunk.exercise {
                exercise_first(&text)
            } else {
                text
            };
            slides.push((kind, text, std::mem::take(&mut pending)));
        }
        if let Some(last) = slides.last_mut() {
            last.2.push_str(&pending);
        }
        let (mut out, mut console) = (String::new(), String::new());
        for (kind, text, notes) in &slides {
            let open = format!(
                "<section class=\"slide slide-{kind}\" data-slide data-module=\"{module}\"><div class=\"slide-inner\"><div class=\"slide-body prose\">"
            );
            out.push_str(&open);
            finish(text, DECK_ROOT, &mut out);
            out.push_str("</div></div></section>\n");
            if deck.console {
                console.push_str(&open);
                finish(text, CONSOLE_ROOT, &mut console);
                console.push_str("</div></div>");
                if !notes.is_empty() {
                    console.push_str("<div class=\"slide-notes\" hidden>");
                    finish(notes, CONSOLE_ROOT, &mut console);
                    console.push_str("</div>");
                }
                console.push_str("</section>\n");
            }
        }
        (out, console)
    }

    fn deck_with_card(console: bool, card: &str) -> Deck {
        let mut cards = FastMap::default();
        cards.insert("respirer".to_string(), card.to_string());
        Deck { cards, console }
    }

    const BODIES: &[&str] = &[
        "<p>Intro <a href=\"@atelier-root@modules/a/\">a</a></p><h2 id=\"x\">X</h2><p>x</p>\n<hr />\n<p>y <img src=\"@atelier-root@assets/i.png\"></p>",
        "<aside class=\"directive facilitator\"><p>Seul</p></aside><h2>A</h2><p>a</p><aside class=\"directive facilitator\"><p>Note <a href=\"@atelier-root@x/\">x</a></p></aside><p>b</p><hr><aside class=\"directive facilitator\"><p>fin</p></aside>",
        "<p>a</p><div class=\"directive exercise-embed\"><p>consigne</p><!--atelier:exercise:respirer--><p>après @atelier-root@</p></div><p>b</p>",
        "<p>marqueur ouvert <!--atelier:exercise:respirer sans fin @atelier-root@</p>",
        "<p>inconnu</p><div class=\"directive exercise-embed\"><!--atelier:exercise:autre--></div>",
        "\n   <hr>\n<p>après la règle</p><h2>B</h2>  <hr/>  ",
        "",
    ];

    #[test]
    fn a_plan_gives_the_bytes_each_version_cut_for_itself() {
        let card = "<header><a href=\"@atelier-root@exercises/respirer/\">Respirer</a></header>";
        for body in BODIES {
            let plan = SlidePlan::cut(body);
            for console in [false, true] {
                for module in [0, 7] {
                    let deck = deck_with_card(console, card);
                    let slides = deck.write(&plan, body, module);
                    let (expected_deck, expected_console) = cut_in_place(&deck, body, module);
                    assert_eq!(slides.deck, expected_deck, "deck of {body:?}");
                    assert_eq!(slides.console, expected_console, "console of {body:?}");
                }
            }
        }
    }

    #[test]
    fn one_plan_serves_versions_with_their_own_headers() {
        let body = BODIES[2];
        let plan = SlidePlan::cut(body);
        let first = deck_with_card(false, "<p>Premier</p>").write(&plan, body, 0);
        let second = deck_with_card(false, "<p>Second @atelier-root@</p>").write(&plan, body, 1);
        assert!(first.deck.contains("<p>Premier</p>") && !first.deck.contains("Second"));
        assert!(
            second.deck.contains("<p>Second ../</p>") && second.deck.contains("data-module=\"1\"")
        );
    }

    #[test]
    fn a_slide_without_notes_points_into_the_body() {
        let body = BODIES[0];
        let plan = SlidePlan::cut(body);
        assert_eq!(plan.slides.len(), 3);
        assert!(
            plan.slides
                .iter()
                .all(|s| s.text.own.is_none() && s.notes.is_none())
        );
        assert!(plan.slides[0].text.parts.contains(&Part::Root));
    }

    #[test]
    fn long_slides_are_found_with_their_line() {
        let long = "word ".repeat(130);
        let md = format!(
            "intro\n\n## Short\n\ntext\n\n## Long\n\n{long}\n\n---\n\nshort\n\n::: facilitator\n{long}\n:::\n"
        );
        assert_eq!(long_slides(&md, 5), [(11, 132, 2)]);
        let code = format!("## Code\n\n```\n{}```\n", "x\n".repeat(20));
        assert_eq!(long_slides(&code, 1), [(1, 22, 21)]);
    }
}
