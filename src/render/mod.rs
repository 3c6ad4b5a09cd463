//! Rendering: one composed version of the site to HTML files.
//!
//! Third stage of the data flow. Bodies are rendered from Markdown once per
//! version, in parallel; anchors are verified once every page's ids are known;
//! each exercise widget is rendered once and embedded wherever the exercise
//! appears; then every page goes through its template, in parallel, straight
//! into the output [`Sink`]. Nothing here knows where files end up.

mod arc;
mod article;
mod body;
mod cache;
mod deck;
mod directive;
mod ids;
mod language;
mod links;
mod outputs;
mod pages;
mod pdf;
mod print;
mod sitemap;
mod values;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;
use tera::Value;

use crate::client::ClientInfo;
use crate::compose::{PageId, Site};
use crate::config::Config;
use crate::content::{Field, PageKind};
use crate::error::{Diagnostic, Diagnostics};
use crate::hashing::FastMap;
use crate::markdown::{AnchorCheck, LinkProblem};
use crate::output::Sink;
use crate::theme::Theme;
pub use article::ArticleCache;
pub use body::Body;
pub use cache::BodyCache;
pub use deck::{CONSOLE_PATH, DECK_PATH, MAX_SLIDE_LINES, MAX_SLIDE_WORDS};
pub use outputs::{HtmlSite, OutputKind, output_kinds, workbook_pdf};
pub use pdf::WORKBOOK_PATH;
pub use print::PRINT_PATH;
use values::SiteValue;

/// Pages of the last rendering of a version, by output path: fingerprint
/// and bytes. A page whose fingerprint did not change is not rendered again.
pub type PageMemo = FastMap<String, (u64, Arc<[u8]>)>;

/// Which version is being rendered. `Hash` keys the preview server's
/// reuse of pages: every field counts.
#[derive(Debug, Clone, Hash)]
pub struct Version {
    /// The client, or `None` for the base version.
    pub client: Option<ClientInfo>,
    /// Facilitator notes shown and solutions open.
    pub facilitator: bool,
    /// `fr` or `en`.
    pub language: String,
    /// Absolute URL the version is published at.
    pub base_url: Option<String>,
    /// French typography on text.
    pub french: bool,
    /// Keep every page's visible text in the summary (uniqueness report).
    pub collect_texts: bool,
    /// Report broken links and anchors as errors (`check`), not warnings.
    pub links_are_errors: bool,
    /// Search engines may index it: the base version, and a client's only
    /// when its client.yaml says `index: true` (its pages carry
    /// `<meta name="robots" content="noindex">` otherwise).
    pub indexed: bool,
}

/// What a rendered version produced.
#[derive(Debug, Clone, Default)]
pub struct RenderSummary {
    /// HTML pages written.
    pub pages: usize,
    /// Every content page's title and body, by URL (kept only with
    /// `collect_texts`, for the uniqueness report).
    pub texts: BTreeMap<String, PageText>,
    /// Variables used, by name.
    pub variables: HashSet<String>,
    /// Wall time of each rendering phase, for `-v`.
    pub timings: Vec<(&'static str, std::time::Duration)>,
    /// Fingerprints and bytes of the content pages (with `remember`).
    pub memo: PageMemo,
    /// Pages rendered (not reused from `previous`).
    pub rendered: usize,
}

impl RenderSummary {
    /// Adds what another output kind of the same version produced.
    pub fn absorb(&mut self, other: RenderSummary) {
        self.pages += other.pages;
        self.rendered += other.rendered;
        self.texts.extend(other.texts);
        self.variables.extend(other.variables);
        self.timings.extend(other.timings);
        self.memo.extend(other.memo);
    }
}

/// A page's visible words, as the uniqueness report compares them.
#[derive(Debug, Clone)]
pub struct PageText {
    /// The page title in this version.
    pub title: String,
    /// Its source file, relative to the project root.
    pub file: std::path::PathBuf,
    /// The rendered body (shared with other versions when identical).
    pub body: Arc<Body>,
}

/// Everything one version's rendering reads.
#[derive(Clone, Copy)]
pub struct RenderJob<'a> {
    /// The composed version.
    pub site: &'a Site,
    /// `atelier.yaml`.
    pub config: &'a Config,
    /// Compiled templates.
    pub theme: &'a Theme,
    /// Which version.
    pub version: &'a Version,
    /// Files copied as is (output path, source).
    pub static_files: &'a [(String, std::path::PathBuf)],
    /// Bodies shared with other versions of the same build.
    pub cache: Option<&'a BodyCache>,
    /// Articles shared with other versions of the same build.
    pub articles: Option<&'a ArticleCache>,
    /// The last rendering of this version (preview server), to reuse pages.
    pub previous: Option<&'a PageMemo>,
    /// Keep fingerprints and bytes of the pages in the summary's `memo`
    /// (the preview server's): those pages go there instead of the sink.
    pub remember: bool,
    /// Write the print page with the others. The preview server leaves it
    /// out of rebuilds and renders it when asked ([`render_print`]): it holds
    /// every body, and few edits are looked at in it.
    pub print: bool,
}

/// Everything a page needs that is computed once per version.
struct Shared<'a> {
    site: &'a Site,
    config: &'a Config,
    theme: &'a Theme,
    version: &'a Version,
    /// Theme strings (`t`) for the version's language.
    labels: BTreeMap<String, String>,
    site_value: Value,
    labels_value: Value,
    assets: FastMap<&'a str, &'a str>,
    /// Output paths of the version's files from `static/` (the project's
    /// with the client's over them), which relative links may reach.
    statics: crate::hashing::FastSet<&'a str>,
    /// Front-matter strings of every page, by id (after variables).
    texts: Vec<Arc<PageStrings>>,
    /// Every exercise widget, rendered once.
    widgets: Widgets,
    /// Bodies shared with other versions.
    cache: Option<&'a BodyCache>,
    /// The last rendering of this version (preview server).
    previous: Option<&'a PageMemo>,
    /// Renderings are remembered (preview server): fingerprint them.
    remember: bool,
    /// Identity of everything a link can resolve to in this version (see
    /// [`links::site_key`]): a body whose links were resolved in a version
    /// with the same key resolves them the same way here.
    links_key: u64,
    /// Each module's step links as template values, built when a page of
    /// the module is first rendered: every page of a module lists the same
    /// steps, only the current one differs.
    module_steps: Vec<std::sync::OnceLock<Vec<pages::StepValues>>>,
    /// What other pages lend each page, for fingerprints: computed only when
    /// pages are fingerprinted (preview server, shared articles).
    lent: Option<pages::Lent>,
    /// Articles shared with other versions, and the version-wide values
    /// their keys include.
    articles: Option<&'a ArticleCache>,
    article_keys: Option<article::Keys>,
}

impl Shared<'_> {
    /// Whether this rendering is one of several versions of one build that
    /// share what they can (bodies' finished HTML, articles): not in the
    /// preview server, which keeps bodies for the whole session and renders
    /// again only what changed.
    fn shares_across_versions(&self) -> bool {
        self.cache.is_some() && !self.remember
    }
}

/// A page's front-matter strings after variables and typography.
#[derive(Debug, Clone, Default)]
struct PageStrings {
    title: String,
    summary: Option<String>,
    description: Option<String>,
    objectives: Vec<String>,
    objective: Option<String>,
    fields: Vec<Field>,
    stages: Vec<String>,
}

/// What rendering one page leaves behind once it is written: heading ids,
/// anchors to check, link problems, variables used. The body itself when it
/// lives on anyway (in the cache, or for the uniqueness report); otherwise
/// only those parts, so a large site's bodies are freed batch by batch.
enum Outcome {
    Kept(Arc<Body>),
    Parts {
        ids: HashSet<String>,
        anchors: Vec<AnchorCheck>,
        link_problems: Vec<LinkProblem>,
        used: Vec<String>,
    },
}

impl Outcome {
    fn new(body: Arc<Body>, keep: bool) -> Outcome {
        if keep {
            return Outcome::Kept(body);
        }
        match Arc::try_unwrap(body) {
            Ok(body) => Outcome::Parts {
                ids: body.rendered.ids,
                anchors: body.rendered.anchors,
                link_problems: body.rendered.link_problems,
                used: body.used,
            },
            Err(body) => Outcome::Kept(body),
        }
    }

    fn ids(&self) -> &HashSet<String> {
        match self {
            Outcome::Kept(body) => &body.rendered.ids,
            Outcome::Parts { ids, .. } => ids,
        }
    }

    fn anchors(&self) -> &[AnchorCheck] {
        match self {
            Outcome::Kept(body) => &body.rendered.anchors,
            Outcome::Parts { anchors, .. } => anchors,
        }
    }

    fn link_problems(&self) -> &[LinkProblem] {
        match self {
            Outcome::Kept(body) => &body.rendered.link_problems,
            Outcome::Parts { link_problems, .. } => link_problems,
        }
    }

    fn used(&self) -> &[String] {
        match self {
            Outcome::Kept(body) => &body.used,
            Outcome::Parts { used, .. } => used,
        }
    }
}

/// One exercise widget: (interactive, blank for print).
type WidgetHtml = (String, String);

/// Rendered exercise widgets by exercise id.
type Widgets = FastMap<String, WidgetHtml>;

/// Pages rendered and written per batch: bounds the memory held at once.
const BATCH: usize = 512;

/// The last rendering of `path`, when its fingerprint is still `now`.
fn reusable(previous: Option<&PageMemo>, path: &str, now: Option<u64>) -> Option<Arc<[u8]>> {
    let now = now?;
    match previous?.get(path) {
        Some((before, bytes)) if *before == now => Some(Arc::clone(bytes)),
        _ => None,
    }
}

/// The body of page `id`: an exercise's was rendered first (its widget is
/// embedded elsewhere), any other comes from the cache or is rendered now.
fn body_of(
    shared: &Shared,
    exercise_bodies: &FastMap<PageId, Result<Arc<Body>, Vec<Diagnostic>>>,
    id: PageId,
) -> Result<Arc<Body>, Vec<Diagnostic>> {
    match exercise_bodies.get(&id) {
        Some(Ok(body)) => Ok(Arc::clone(body)),
        Some(Err(errors)) => Err(errors.clone()),
        None => body::body_for(shared, id),
    }
}

/// Whether a page's body goes into the print page.
fn printed(kind: PageKind) -> bool {
    matches!(kind, PageKind::Module | PageKind::Step)
}

/// What [`prepare`] computes once per version before any page is rendered.
struct Prepared<'a> {
    shared: Shared<'a>,
    exercise_bodies: FastMap<PageId, Result<Arc<Body>, Vec<Diagnostic>>>,
    variables: HashSet<String>,
    problems: Vec<Diagnostic>,
}

/// Front-matter strings of every page (titles are needed everywhere) and the
/// exercises, whose widgets are embedded in other pages.
fn prepare<'a>(job: &RenderJob<'a>) -> Prepared<'a> {
    let RenderJob {
        site,
        config,
        theme,
        version,
        cache,
        ..
    } = *job;
    let labels = theme.strings(&version.language);
    let mut shared = Shared {
        site,
        config,
        theme,
        version,
        site_value: Value::from_serializable(
            &SiteValue::new(config, version).with_icon(job.static_files),
        ),
        labels_value: Value::from_serializable(&labels),
        labels,
        assets: site
            .assets
            .iter()
            .map(|a| (a.rel.as_str(), a.output.as_str()))
            .collect(),
        statics: job
            .static_files
            .iter()
            .map(|(output, _)| output.as_str())
            .collect(),
        texts: Vec::new(),
        widgets: Widgets::default(),
        cache,
        previous: job.previous,
        remember: job.remember,
        links_key: 0,
        module_steps: site
            .modules
            .iter()
            .map(|_| std::sync::OnceLock::new())
            .collect(),
        lent: None,
        articles: job.articles,
        article_keys: None,
    };
    shared.links_key = links::site_key(site, &shared.assets, &shared.statics);
    let mut problems = Vec::new();
    let mut variables = HashSet::new();
    let published = published_pages(site);
    type Strings = (PageId, Arc<PageStrings>, Vec<String>, Vec<Diagnostic>);
    let texts: Vec<Strings> = published
        .par_iter()
        .map(|&id| {
            let page = &site.pages[id];
            let french = language::french(version, page);
            if let Some(strings) = cache.and_then(|c| c.strings(page, french)) {
                return (id, strings, Vec::new(), Vec::new());
            }
            let mut used = Vec::new();
            let mut errors = Vec::new();
            let strings = Arc::new(body::page_strings(&shared, page, &mut used, &mut errors));
            // Strings that looked nothing up are the same in every version.
            if let Some(cache) = cache
                && used.is_empty()
                && errors.is_empty()
            {
                cache.insert_strings(page, french, Arc::clone(&strings));
            }
            (id, strings, used, errors)
        })
        .collect();
    let unpublished = Arc::new(PageStrings::default());
    shared.texts = (0..site.pages.len())
        .map(|_| Arc::clone(&unpublished))
        .collect();
    for (id, texts, used, mut errors) in texts {
        shared.texts[id] = texts;
        variables.extend(used);
        problems.append(&mut errors);
    }

    let exercise_bodies: FastMap<PageId, Result<Arc<Body>, Vec<Diagnostic>>> = site
        .exercises
        .par_iter()
        .map(|&id| (id, body::body_for(&shared, id)))
        .collect();
    let widgets: Vec<Result<(String, WidgetHtml), Diagnostic>> = exercise_bodies
        .par_iter()
        .filter_map(|(&id, body)| {
            let body = body.as_ref().ok()?;
            let value = pages::exercise_value(&shared, id, &body.rendered);
            let live = pages::render_widget(&shared, &value, false);
            let blank = pages::render_widget(&shared, &value, true);
            Some(live.and_then(|live| Ok((site.pages[id].slug.clone(), (live, blank?)))))
        })
        .collect();
    for widget in widgets {
        match widget {
            Ok((slug, html)) => {
                shared.widgets.insert(slug, html);
            }
            Err(d) => problems.push(d),
        }
    }
    if job.remember || shared.articles.is_some() {
        shared.lent = Some(pages::Lent::new(&shared));
    }
    if shared.articles.is_some() {
        shared.article_keys = Some(article::Keys::new(&shared));
    }
    Prepared {
        shared,
        exercise_bodies,
        variables,
        problems,
    }
}

/// Renders the print page of a version alone (the preview server's, on
/// request): every body comes from the cache when the version was rendered.
/// Problems go to `diagnostics`; `false` when the page could not be made.
pub fn render_print(job: &RenderJob, sink: &dyn Sink, diagnostics: &Diagnostics) -> bool {
    let Prepared {
        shared,
        exercise_bodies,
        mut problems,
        ..
    } = prepare(job);
    let shared = &shared;
    let mut print = match print::PrintStream::open(shared, sink) {
        Ok(print) => print,
        Err(d) => {
            diagnostics.push(d);
            return false;
        }
    };
    let site = job.site;
    let bodies: Vec<(PageId, Result<PrintBody, Vec<Diagnostic>>)> = site
        .reading_order
        .par_iter()
        .filter(|&&id| printed(site.pages[id].kind))
        .map(|&id| {
            let html = body_of(shared, &exercise_bodies, id).map(|body| print_body(shared, &body));
            (id, html)
        })
        .collect();
    for (id, body) in bodies {
        match body {
            Ok(body) if print.expects(id) => {
                if let Err(d) = print.push(body.html.as_str(), body.exercises()) {
                    problems.push(d);
                }
            }
            Ok(_) => {}
            Err(mut errors) => problems.append(&mut errors),
        }
    }
    if let Err(d) = print.finish(shared) {
        problems.push(d);
    }
    let done = problems.is_empty();
    diagnostics.extend(problems);
    done
}

/// Renders the deck (and, facilitator version, the console) of a version
/// alone (the preview server's, on request): every body comes from the cache
/// when the version was rendered.
pub fn render_present(job: &RenderJob, sink: &dyn Sink, diagnostics: &Diagnostics) -> bool {
    let Prepared {
        shared,
        exercise_bodies,
        mut problems,
        ..
    } = prepare(job);
    let shared = &shared;
    let (slicer, mut stream) = match deck::open(shared, sink) {
        Ok(opened) => opened,
        Err(problem) => {
            diagnostics.push(problem);
            return false;
        }
    };
    let site = job.site;
    let slides: Vec<(PageId, Result<deck::DeckSlides, Vec<Diagnostic>>)> = site
        .reading_order
        .par_iter()
        .filter(|&&id| deck::in_deck(site.pages[id].kind))
        .map(|&id| {
            let slides =
                body_of(shared, &exercise_bodies, id).map(|body| slicer.slides(shared, id, &body));
            (id, slides)
        })
        .collect();
    for (id, slides) in slides {
        match slides {
            Ok(slides) => {
                if let Err(d) = stream.push(id, &slides) {
                    problems.push(d);
                }
            }
            Err(mut errors) => problems.append(&mut errors),
        }
    }
    if let Err(d) = stream.finish() {
        problems.push(d);
    }
    let done = problems.is_empty();
    diagnostics.extend(problems);
    done
}

/// A body as the print page shows it: shared by every version when it
/// embeds no exercise widget, else this version's own.
enum PrintHtml {
    Shared(Arc<str>),
    Own(String),
}

impl PrintHtml {
    fn as_str(&self) -> &str {
        match self {
            PrintHtml::Shared(html) => html,
            PrintHtml::Own(html) => html,
        }
    }
}

/// A body's part of the print page: its HTML and the exercises whose
/// worksheets it prints.
struct PrintBody {
    html: PrintHtml,
    exercises: Vec<String>,
}

impl PrintBody {
    fn exercises(&self) -> impl Iterator<Item = &str> {
        self.exercises.iter().map(String::as_str)
    }
}

/// A body's part of the print page of this version.
fn print_body(shared: &Shared, body: &Body) -> PrintBody {
    PrintBody {
        html: print_html(shared, body),
        exercises: body.embedded_exercises().map(str::to_string).collect(),
    }
}

/// A body's HTML on the print page of this version.
fn print_html(shared: &Shared, body: &Body) -> PrintHtml {
    let finish = || pages::finish(shared, body, print::PRINT_ROOT, true);
    match shared
        .shares_across_versions()
        .then(|| body.print_html(finish))
        .flatten()
    {
        Some(html) => PrintHtml::Shared(Arc::clone(html)),
        None => PrintHtml::Own(finish()),
    }
}

/// Runs `render` with this thread's page buffer, emptied: pages written at
/// once need no allocation of their own. A buffer grown by a huge page is
/// not kept.
fn with_page_buffer<T>(render: impl FnOnce(&mut Vec<u8>) -> T) -> T {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        buffer.clear();
        let result = render(&mut buffer);
        if buffer.capacity() > 1 << 20 {
            *buffer = Vec::new();
        }
        result
    })
}

/// Renders one version of the site into `sink`. Pages are written as soon
/// as they are rendered; on errors (`None`) the caller abandons the sink (a
/// staging folder). Every problem goes to `diagnostics`.
pub fn render_site(
    job: &RenderJob,
    sink: &dyn Sink,
    diagnostics: &Diagnostics,
) -> Option<RenderSummary> {
    let RenderJob {
        site,
        config,
        theme,
        version,
        static_files,
        previous,
        remember,
        ..
    } = *job;
    let mut clock = std::time::Instant::now();
    let mut timings = Vec::new();
    let mut lap = |name: &'static str| {
        timings.push((name, clock.elapsed()));
        clock = std::time::Instant::now();
    };
    let Prepared {
        shared,
        exercise_bodies,
        variables,
        mut problems,
    } = prepare(job);
    let mut summary = RenderSummary {
        variables,
        memo: PageMemo::with_capacity_and_hasher(
            if remember { site.pages.len() + 4 } else { 0 },
            Default::default(),
        ),
        ..RenderSummary::default()
    };
    let published = published_pages(site);
    // The version-wide values every page shows, for fingerprints (preview
    // server only).
    let version_hash = remember.then(|| {
        use std::hash::{Hash, Hasher};
        let mut hasher = crate::hashing::fingerprint_hasher();
        serde_json::to_vec(&SiteValue::new(config, version).with_icon(static_files))
            .ok()
            .hash(&mut hasher);
        shared.labels.hash(&mut hasher);
        version.hash(&mut hasher);
        theme.generation.hash(&mut hasher);
        hasher.finish()
    });
    lap("front matter, exercises");

    // Every page, in reading order and in batches: Markdown, template,
    //    write; bodies flow into the print page and are dropped.
    let shared = &shared;
    let mut print = match job.print.then(|| print::PrintStream::open(shared, sink)) {
        Some(Ok(print)) => Some(print),
        Some(Err(d)) => {
            problems.push(d);
            None
        }
        None => None,
    };
    // Present mode (an output kind written with the print page).
    let (slicer, mut present) = match job.print.then(|| deck::open(shared, sink)) {
        Some(Ok((slicer, stream))) => (Some(slicer), Some(stream)),
        Some(Err(d)) => {
            problems.push(d);
            (None, None)
        }
        None => (None, None),
    };
    let mut outcomes: FastMap<PageId, Outcome> =
        FastMap::with_capacity_and_hasher(published.len(), Default::default());
    let order: Vec<PageId> = site
        .reading_order
        .iter()
        .copied()
        .chain(site.landing)
        .chain(site.others.iter().copied())
        .chain(site.exercises.iter().copied())
        .collect();
    let printing = print.is_some();
    // The preview server holds every page in memory anyway: one batch.
    let batch_size = if remember { order.len().max(1) } else { BATCH };
    for batch in order.chunks(batch_size) {
        type Rendered = (
            PageId,
            Result<
                (
                    Option<(String, u64, Arc<[u8]>)>,
                    bool,
                    Outcome,
                    Option<PrintBody>,
                    Option<deck::DeckSlides>,
                ),
                Vec<Diagnostic>,
            >,
        );
        let rendered: Vec<Rendered> = batch
            .par_iter()
            .map(|&id| {
                let result = (|| {
                    let body = body_of(shared, &exercise_bodies, id)?;
                    let page = &site.pages[id];
                    let path = output_path(&page.url);
                    let fingerprint = version_hash.and_then(|version_hash| {
                        pages::fingerprint(shared, id, &body).map(|f| f ^ version_hash)
                    });
                    let reused = reusable(previous, &path, fingerprint);
                    let mut fresh = reused.is_none();
                    let mut fingerprint = fingerprint;
                    let bytes: Option<Arc<[u8]>> = match reused {
                        Some(bytes) => Some(bytes),
                        None if page.kind == PageKind::Landing => {
                            let landing =
                                pages::render_landing(shared, Some(&body)).map_err(|d| vec![d])?;
                            fresh = landing.fresh;
                            fingerprint = landing.fingerprint;
                            Some(landing.bytes)
                        }
                        // Remembered: the bytes live on in the memo.
                        None if fingerprint.is_some() => {
                            let mut html = Vec::new();
                            pages::render_page(shared, id, &body, &mut html)
                                .map_err(|d| vec![d])?;
                            Some(Arc::from(html))
                        }
                        // Written at once, from this thread's buffer.
                        None => {
                            with_page_buffer(|html| {
                                pages::render_page(shared, id, &body, html).map_err(|d| vec![d])?;
                                sink.write(&path, html).map_err(|e| {
                                    vec![Diagnostic::general(format!("cannot write {path}: {e}"))]
                                })
                            })?;
                            None
                        }
                    };
                    // A remembered page is served from the memo, not the sink.
                    let memo = match (fingerprint, bytes) {
                        (Some(fingerprint), Some(bytes)) => Some((path, fingerprint, bytes)),
                        (None, Some(bytes)) => {
                            sink.write_shared(&path, bytes).map_err(|e| {
                                vec![Diagnostic::general(format!("cannot write {path}: {e}"))]
                            })?;
                            None
                        }
                        (_, None) => None,
                    };
                    let print_body =
                        (printing && printed(page.kind)).then(|| print_body(shared, &body));
                    let slides = (slicer.as_ref())
                        .filter(|_| deck::in_deck(page.kind))
                        .map(|deck| deck.slides(shared, id, &body));
                    let keep = job.cache.is_some() || version.collect_texts;
                    Ok((memo, fresh, Outcome::new(body, keep), print_body, slides))
                })();
                (id, result)
            })
            .collect();
        for (id, result) in rendered {
            match result {
                Ok((memo, fresh, outcome, print_body, slides)) => {
                    if let (Some(present), Some(slides)) = (present.as_mut(), slides)
                        && let Err(d) = present.push(id, &slides)
                    {
                        problems.push(d);
                    }
                    if let Some((path, fingerprint, bytes)) = memo {
                        summary.memo.insert(path, (fingerprint, bytes));
                    }
                    summary.rendered += usize::from(fresh);
                    if let (Some(stream), Some(body)) = (print.as_mut(), print_body)
                        && stream.expects(id)
                        && let Err(d) = stream.push(body.html.as_str(), body.exercises())
                    {
                        problems.push(d);
                    }
                    summary.pages += 1;
                    outcomes.insert(id, outcome);
                }
                Err(mut errors) => problems.append(&mut errors),
            }
        }
    }
    if let Some(present) = present
        && let Err(d) = present.finish()
    {
        problems.push(d);
    }
    if let Some(print) = print {
        match print.finish(shared) {
            Ok(()) => summary.pages += 1,
            Err(d) => problems.push(d),
        }
    }
    lap("pages");

    // Files that are not content pages (the exercise list is always
    // written: the theme's navigation links to it).
    type RenderSpecial = fn(&Shared) -> Result<pages::Special, Diagnostic>;
    let specials: [(&str, RenderSpecial); 3] = [
        ("index.html", |shared| pages::render_landing(shared, None)),
        ("exercises/index.html", pages::render_exercise_list),
        ("404.html", pages::render_not_found),
    ];
    for (path, render) in specials {
        if path == "index.html" && site.landing.is_some() {
            continue;
        }
        let special = render(shared).and_then(|special| match special.fingerprint {
            Some(fingerprint) => {
                summary
                    .memo
                    .insert(path.to_string(), (fingerprint, special.bytes));
                Ok(special.fresh)
            }
            None => sink
                .write_shared(path, special.bytes)
                .map(|()| true)
                .map_err(|e| Diagnostic::general(format!("cannot write {path}: {e}"))),
        });
        match special {
            Ok(fresh) if path.ends_with(".html") => {
                summary.pages += 1;
                summary.rendered += usize::from(fresh);
            }
            Ok(_) => {}
            Err(d) => problems.push(d),
        }
    }
    for file in &theme.static_files {
        let rel = format!("static/{}", file.rel);
        if let Err(e) = sink.write_static(&rel, &file.bytes) {
            problems.push(Diagnostic::general(format!("cannot write {rel}: {e}")));
        }
    }
    let copies: Vec<Diagnostic> = site
        .assets
        .par_iter()
        .map(|a| (a.output.as_str(), a.source.as_path()))
        .chain(
            static_files
                .par_iter()
                .map(|(rel, path)| (rel.as_str(), path.as_path())),
        )
        .filter_map(|(rel, source)| {
            sink.copy(rel, source)
                .err()
                .map(|e| Diagnostic::general(format!("cannot copy {}: {e}", source.display())))
        })
        .collect();
    problems.extend(copies);
    lap("other pages, static files");

    check_links(shared, &outcomes, diagnostics);
    if version.links_are_errors {
        diagnostics.extend(deck::long_slide_warnings(shared));
    }
    for (id, outcome) in outcomes {
        summary.variables.extend(outcome.used().iter().cloned());
        if let (true, Outcome::Kept(body)) = (version.collect_texts, outcome) {
            summary.texts.insert(
                site.pages[id].url.clone(),
                PageText {
                    title: shared.texts[id].title.clone(),
                    file: site.pages[id].file.clone(),
                    body,
                },
            );
        }
    }
    summary.timings = timings;
    let done = problems.is_empty();
    diagnostics.extend(problems);
    done.then_some(summary)
}

/// How diagnostics name a version: its client's slug, or `base`.
/// Pages that get their own HTML file, in a stable order.
fn published_pages(site: &Site) -> Vec<PageId> {
    site.landing
        .into_iter()
        .chain(site.modules.iter().flat_map(crate::compose::Module::pages))
        .chain(site.exercises.iter().copied())
        .chain(site.others.iter().copied())
        .collect()
}

/// `modules/x/` → `modules/x/index.html`.
pub fn output_path(url: &str) -> String {
    format!("{url}index.html")
}

/// From a page at `url` to the output root: `../` per folder level.
pub fn root_prefix(url: &str) -> String {
    "../".repeat(url.matches('/').count())
}

fn check_links(shared: &Shared, outcomes: &FastMap<PageId, Outcome>, diagnostics: &Diagnostics) {
    let report = |d: Diagnostic| {
        diagnostics.push(if shared.version.links_are_errors {
            d.promoted()
        } else {
            d
        })
    };
    for (&id, outcome) in outcomes {
        let page = &shared.site.pages[id];
        for problem in outcome.link_problems() {
            let diagnostic = Diagnostic::warning(&page.file, problem.message.clone())
                .at(problem.line, problem.column)
                .with_help(problem.help.clone());
            report(diagnostic);
        }
        for check in outcome.anchors() {
            let target = check.target.unwrap_or(id);
            let Some(target_outcome) = outcomes.get(&target) else {
                continue;
            };
            let ids = target_outcome.ids();
            if !ids.contains(&check.anchor) {
                let mut known: Vec<&str> = ids.iter().map(String::as_str).collect();
                known.sort_unstable();
                report(
                    Diagnostic::warning(
                        &page.file,
                        format!(
                            "anchor `#{}` does not exist in {}",
                            check.anchor,
                            crate::error::display_path(&shared.site.pages[target].file)
                        ),
                    )
                    .at(check.line, check.column)
                    .with_help(if known.is_empty() {
                        "that page has no headings to link to".to_string()
                    } else {
                        format!("headings there: {}", known.join(", "))
                    }),
                );
            }
        }
    }
}
