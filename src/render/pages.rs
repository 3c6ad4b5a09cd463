//! Page values and templates: every HTML page of a version but the print page.

use std::path::Path;
use std::sync::Arc;

use tera::{Context, Value};

use crate::compose::PageId;
use crate::content::{Front, PageKind};
use crate::error::Diagnostic;
use crate::markdown::{ROOT_MARKER, Rendered};

use super::body::{Body, Piece, pieces_of};
use super::values::*;
use super::{Shared, WidgetHtml, arc, output_path, root_prefix};
use crate::duration::{ClockTime, Minutes};

/// What [`page_value`] reads of another page it shows (a neighbour, its
/// module's page and steps, a listed exercise), and nothing else: its hash
/// is what that page lends the fingerprints of the pages that show it.
#[derive(Clone, Copy, Hash)]
struct LentPage<'a> {
    url: &'a str,
    title: &'a str,
    duration: Option<Minutes>,
    kind: PageKind,
    /// For an exercise: its front matter's kind.
    exercise_kind: Option<&'static str>,
}

impl<'a> LentPage<'a> {
    fn of(shared: &'a Shared, id: PageId) -> LentPage<'a> {
        let page = &shared.site.pages[id];
        LentPage {
            url: &page.url,
            title: &shared.texts[id].title,
            duration: page.front.duration(),
            kind: page.kind,
            exercise_kind: match &page.front {
                Front::Exercise(front) => Some(front.kind.as_str()),
                _ => None,
            },
        }
    }

    fn link(&self) -> LinkValue {
        LinkValue {
            title: self.title.to_string(),
            href: output_path(self.url),
        }
    }
}

/// The [`LentPage`] hashes of every page and module, computed once per
/// version for all fingerprints.
pub(super) struct Lent {
    /// By page id (0 for pages not published).
    pages: Vec<u64>,
    /// By module index: the module page and all its steps.
    modules: Vec<u64>,
}

impl Lent {
    pub(super) fn new(shared: &Shared) -> Lent {
        use rayon::prelude::*;
        use std::hash::{Hash, Hasher};
        let site = shared.site;
        let pages: Vec<u64> = (0..site.pages.len())
            .into_par_iter()
            .map(|target| {
                let mut hasher = crate::hashing::fingerprint_hasher();
                LentPage::of(shared, target).hash(&mut hasher);
                hasher.finish()
            })
            .collect();
        let modules = site
            .modules
            .iter()
            .map(|module| {
                let mut hasher = crate::hashing::fingerprint_hasher();
                for id in module.pages() {
                    pages[id].hash(&mut hasher);
                }
                hasher.finish()
            })
            .collect();
        Lent { pages, modules }
    }
}

/// A page another page shows, hashed as its precomputed [`Lent`] hash (0
/// when the version fingerprints nothing).
#[derive(Clone, Copy)]
struct Lend<'a> {
    page: LentPage<'a>,
    hash: u64,
}

impl<'a> Lend<'a> {
    fn of(shared: &'a Shared, id: PageId) -> Lend<'a> {
        Lend {
            page: LentPage::of(shared, id),
            hash: shared.lent.as_ref().map_or(0, |lent| lent.pages[id]),
        }
    }
}

impl std::hash::Hash for Lend<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.hash.hash(state);
    }
}

/// A value compared by address: a source page or body, immutable once
/// made, stands for all of its content.
struct ByAddress<'a, T>(&'a T);

impl<T> std::hash::Hash for ByAddress<'_, T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::ptr::from_ref(self.0).hash(state);
    }
}

/// The module a page belongs to, as [`page_value`] reads it.
#[derive(Hash)]
struct ModuleInputs<'a> {
    /// Its page and steps, hashed as their [`Lent`] hash; read through
    /// [`LentPage`] (its step links through [`module_steps`], built from
    /// the same).
    pages: ModulePages<'a>,
    duration: Option<Minutes>,
    /// The page's clock time: the module's start plus the steps before it.
    start: Option<ClockTime>,
}

/// A module's pages, hashed as their precomputed [`Lent`] hash.
struct ModulePages<'a> {
    index: usize,
    module: &'a crate::compose::Module,
    hash: u64,
}

impl std::hash::Hash for ModulePages<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.hash.hash(state);
    }
}

/// An exercise a module page lists, as [`page_value`] reads it.
#[derive(Hash)]
struct ListedExercise<'a> {
    id: &'a str,
    /// Its page, when the version has it.
    page: Option<Lend<'a>>,
    widget: Option<&'a WidgetHtml>,
}

/// Everything [`page_value`] reads besides the version-wide values, which
/// the version hash covers: the page value is built from these inputs only,
/// and a page's fingerprint is their hash, so the two cannot disagree.
#[derive(Hash)]
struct PageInputs<'a> {
    /// The source page, by identity: its URL, kind and front matter.
    page: ByAddress<'a, crate::content::SourcePage>,
    /// The body, by identity: its HTML, table of contents and embeds.
    body: ByAddress<'a, Body>,
    title: &'a str,
    summary: Option<&'a str>,
    description: Option<&'a str>,
    objectives: &'a [String],
    // Options whole: a neighbour before the page and the same neighbour
    // after it must not hash alike.
    prev: Option<Lend<'a>>,
    next: Option<Lend<'a>>,
    module: Option<ModuleInputs<'a>>,
    exercises: Vec<ListedExercise<'a>>,
    /// The widgets of the exercises the body embeds, in order.
    embedded: Vec<Option<&'a WidgetHtml>>,
}

impl<'a> PageInputs<'a> {
    fn of(shared: &'a Shared, id: PageId, body: &'a Body) -> PageInputs<'a> {
        let site = shared.site;
        let page = &site.pages[id];
        let texts = &shared.texts[id];
        let (prev, next) = site.neighbours(id);
        let module = site.module_index_of(id).map(|index| {
            let module = &site.modules[index];
            let mut start = site.agenda.module_start(index);
            if page.kind == PageKind::Step
                && let Some(clock) = &mut start
            {
                for &step in module.steps.iter().take_while(|&&step| step != id) {
                    *clock = clock.plus(LentPage::of(shared, step).duration.unwrap_or_default());
                }
            }
            ModuleInputs {
                pages: ModulePages {
                    index,
                    module,
                    hash: shared.lent.as_ref().map_or(0, |lent| lent.modules[index]),
                },
                duration: module.duration,
                start,
            }
        });
        let exercises = match &page.front {
            Front::Module(front) => front
                .exercises
                .iter()
                .map(|exercise| ListedExercise {
                    id: exercise,
                    page: site
                        .exercise_by_id
                        .get(exercise)
                        .map(|&target| Lend::of(shared, target)),
                    widget: shared.widgets.get(exercise),
                })
                .collect(),
            _ => Vec::new(),
        };
        PageInputs {
            page: ByAddress(&**page),
            body: ByAddress(body),
            title: &texts.title,
            summary: texts.summary.as_deref(),
            description: texts.description.as_deref(),
            objectives: &texts.objectives,
            prev: prev.map(|target| Lend::of(shared, target)),
            next: next.map(|target| Lend::of(shared, target)),
            module,
            exercises,
            embedded: body
                .embedded_exercises()
                .map(|exercise| shared.widgets.get(exercise))
                .collect(),
        }
    }
}

/// A fingerprint of everything page `id`'s HTML depends on besides the
/// version-wide values: equal fingerprints, equal pages. It is the hash of
/// the [`PageInputs`] [`page_value`] is built from, without building the
/// value. `None` for pages never reused, and when the version computed no
/// [`Lent`] (nothing fingerprints its pages).
pub(super) fn fingerprint(shared: &Shared, id: PageId, body: &Arc<Body>) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    shared.lent.as_ref()?;
    let page = &shared.site.pages[id];
    if page.kind == PageKind::Exercise || page.kind == PageKind::Landing {
        return None;
    }
    let mut hasher = crate::hashing::fingerprint_hasher();
    PageInputs::of(shared, id, body).hash(&mut hasher);
    Some(hasher.finish())
}

pub(super) fn page_value(shared: &Shared, id: PageId, body: &Body) -> PageValue {
    page_value_of(shared, &PageInputs::of(shared, id, body))
}

/// The page value of `inputs`: reads nothing of the site but them (and the
/// version-wide values).
fn page_value_of(shared: &Shared, inputs: &PageInputs) -> PageValue {
    let page = inputs.page.0;
    let body = inputs.body.0;
    let root = root_prefix(&page.url);
    let (emotion, intensity) = match &page.front {
        Front::Module(f) => (f.emotion.clone(), f.intensity),
        _ => (None, None),
    };
    // A listed exercise the body also embeds is a later copy on the page.
    let mut copies: Vec<&str> = body.embedded_exercises().collect();
    let exercises = inputs
        .exercises
        .iter()
        .filter_map(|listed| {
            let target = listed.page?.page;
            let (live, _) = listed.widget?;
            let kind = target.exercise_kind?;
            let ex = listed.id;
            Some(ExerciseLink {
                id: ex.to_string(),
                title: target.title.to_string(),
                href: output_path(target.url),
                kind,
                duration: target.duration.map(|d| d.label()),
                html: {
                    copies.push(ex);
                    let copy = copies.iter().filter(|&&c| c == ex).count();
                    super::ids::nth_copy(&live.replace(ROOT_MARKER, &root), copy)
                },
            })
        })
        .collect();
    let module_value = inputs
        .module
        .as_ref()
        .filter(|m| !m.pages.module.steps.is_empty())
        .map(|m| {
            let ModulePages { index, module, .. } = m.pages;
            let module_page = LentPage::of(shared, module.page);
            ModuleNav {
                title: module_page.title.to_string(),
                href: output_path(module_page.url),
                duration: m.duration.map(|d| d.label()),
                steps: Value::from(
                    module_steps(shared, index)
                        .iter()
                        .zip(&module.steps)
                        .map(|(values, &step)| {
                            values
                                .get(std::ptr::eq(shared.site.pages[step].as_ref(), page))
                                .clone()
                        })
                        .collect::<Vec<Value>>(),
                ),
            }
        });
    let shared_values = shared
        .shares_across_versions()
        .then(|| body.values(&root, || finish(shared, body, &root, false)))
        .flatten();
    let (content, toc) = match shared_values {
        Some(values) => (values.content.clone(), values.toc.clone()),
        None => (
            Value::from(finish(shared, body, &root, false)),
            Value::from_serializable(&body.rendered.toc),
        ),
    };
    let duration = match page.kind {
        PageKind::Module => inputs.module.as_ref().and_then(|m| m.duration),
        _ => page.front.duration(),
    };
    PageValue {
        kind: page.kind.as_str(),
        title: inputs.title.to_string(),
        description: inputs.description.or(inputs.summary).map(str::to_string),
        summary: inputs.summary.map(str::to_string),
        url: page.url.clone(),
        href: output_path(&page.url),
        permalink: permalink(shared, &page.url),
        content,
        toc,
        duration: duration.map(|d| d.label()),
        start: inputs
            .module
            .as_ref()
            .and_then(|m| m.start)
            .map(|s| s.to_string()),
        emotion,
        intensity,
        objectives: inputs.objectives.to_vec(),
        exercises,
        module: module_value,
        prev: inputs.prev.map(|lend| lend.page.link()),
        next: inputs.next.map(|lend| lend.page.link()),
        exercise: None,
    }
}

/// A step link as a template value, in its two forms: as a sibling and as
/// the page being shown.
pub(super) struct StepValues {
    sibling: Value,
    current: Value,
}

impl StepValues {
    fn get(&self, current: bool) -> &Value {
        if current {
            &self.current
        } else {
            &self.sibling
        }
    }
}

/// The step links of module `index`, converted once per version.
fn module_steps<'s>(shared: &'s Shared, index: usize) -> &'s [StepValues] {
    shared.module_steps[index].get_or_init(|| {
        let site = shared.site;
        site.modules[index]
            .steps
            .iter()
            .map(|&step| {
                let lent = LentPage::of(shared, step);
                let value = |current| {
                    Value::from_serializable(&StepLink {
                        title: lent.title.to_string(),
                        href: output_path(lent.url),
                        duration: lent.duration.map(|d| d.label()),
                        current,
                    })
                };
                StepValues {
                    sibling: value(false),
                    current: value(true),
                }
            })
            .collect()
    })
}

/// Renders page `id` into `html` (appended).
pub(super) fn render_page(
    shared: &Shared,
    id: PageId,
    body: &Arc<Body>,
    html: &mut Vec<u8>,
) -> Result<(), Diagnostic> {
    let page = &shared.site.pages[id];
    let root = root_prefix(&page.url);
    let template = match (page.front.template(), page.kind) {
        (Some(name), _) => {
            let name = if name.ends_with(".html") {
                name.to_string()
            } else {
                format!("{name}.html")
            };
            if !shared.theme.has_template(&name) {
                let line = crate::config::line_of_key(&page.front_text, "template")
                    .map_or(page.front_line, |l| page.front_line + l - 1);
                return Err(Diagnostic::error(
                    &page.file,
                    format!("template `{name}` does not exist"),
                )
                .at_line(line)
                .with_help("add templates/<name>.html to the project, or remove `template:`"));
            }
            name
        }
        (None, PageKind::Module | PageKind::Step) => "module.html".to_string(),
        (None, PageKind::Exercise) => "exercise.html".to_string(),
        (None, PageKind::Landing) => "index.html".to_string(),
        (None, PageKind::Page) => "page.html".to_string(),
    };
    let value = || {
        let mut value = page_value(shared, id, body);
        value.permalink = None;
        if page.kind == PageKind::Exercise {
            let mut exercise = exercise_value(shared, id, &body.rendered);
            exercise.instructions = finish_body(shared, &exercise.instructions, &root, false);
            exercise.html = shared
                .widgets
                .get(&page.slug)
                .map(|(live, _)| live.replace(ROOT_MARKER, &root))
                .unwrap_or_default();
            value.exercise = Some(exercise);
        }
        value
    };
    let parts = super::article::parts(shared, id, body, &template, value)?;
    let mut context = base_context(shared, &root);
    context.insert("lang", super::language::of(shared.version, page));
    if let Some(article) = parts.article {
        context.insert_value("article", article);
    }
    let page_value = match permalink(shared, &page.url) {
        Some(permalink) => {
            let mut map = parts.page.into_map().unwrap_or_default();
            map.insert(tera::value::Key::Str("permalink"), Value::from(permalink));
            Value::from(map)
        }
        None => parts.page,
    };
    context.insert_value("page", page_value);
    html.reserve(body.rendered.html.len() + 16 * 1024);
    shared
        .theme
        .tera
        .render_to(&template, &context, html)
        .map_err(|e| shared.theme.render_error(&e, &page.file))
}

pub(super) fn render_landing(shared: &Shared, body: Option<&Body>) -> Result<Special, Diagnostic> {
    let site = shared.site;
    let page = match site.landing {
        Some(id) => match body {
            Some(body) => page_value(shared, id, body),
            None => page_value(shared, id, &Body::new(Rendered::default(), Vec::new())),
        },
        None => PageValue {
            kind: "landing",
            title: shared.config.title.clone(),
            description: shared.config.subtitle.clone(),
            permalink: permalink(shared, ""),
            href: "index.html".into(),
            ..PageValue::default()
        },
    };
    let title_of = |id: PageId| shared.texts[id].title.clone();
    let modules: Vec<ModuleCard> = site
        .modules
        .iter()
        .map(|m| {
            let (emotion, intensity) = match &site.pages[m.page].front {
                Front::Module(f) => (f.emotion.clone(), f.intensity),
                _ => (None, None),
            };
            ModuleCard {
                title: title_of(m.page),
                href: output_path(&site.pages[m.page].url),
                summary: shared.texts[m.page].summary.clone(),
                duration: m.duration.map(|d| d.label()),
                emotion,
                intensity,
                steps: m.steps.len(),
            }
        })
        .collect();
    let break_label = shared
        .labels
        .get("break_label")
        .cloned()
        .unwrap_or_else(|| "Pause".into());
    let agenda = AgendaValue::new(&site.agenda, &modules, &break_label);
    let arc_svg = arc::svg(&modules, &shared.version.language);
    let lang = site.landing.map_or(shared.version.language.as_str(), |id| {
        super::language::of(shared.version, &site.pages[id])
    });
    let values = [
        ("lang", Value::from(lang)),
        ("page", Value::from_serializable(&page)),
        ("agenda", Value::from_serializable(&agenda)),
        ("arc_svg", Value::from_serializable(&arc_svg)),
        ("modules", Value::from_serializable(&modules)),
        (
            "exercises",
            Value::from_serializable(&exercise_cards(shared)),
        ),
    ];
    let template = site
        .landing
        .and_then(|id| {
            site.pages[id]
                .front
                .template()
                .map(|t| format!("{}.html", t.trim_end_matches(".html")))
        })
        .filter(|t| shared.theme.has_template(t))
        .unwrap_or_else(|| "index.html".into());
    render_special(
        shared,
        ("index.html", ""),
        &template,
        values,
        Path::new("content/_index.md"),
    )
}

/// A page that is not a content page (landing, exercise list, 404), as
/// rendered or reused.
pub(super) struct Special {
    /// The HTML.
    pub bytes: Arc<[u8]>,
    /// The fingerprint of its context, when renderings are remembered.
    pub fingerprint: Option<u64>,
    /// Rendered now (not reused from the last rendering).
    pub fresh: bool,
}

/// Keys [`base_context`] gives every page context.
const BASE_KEYS: [&str; 4] = ["site", "t", "lang", "root"];

/// Renders `template` as the page at `path` (`root` leads from it to the
/// output root), with the base context and `values`; or, in the preview
/// server, reuses its last rendering when every value of that context
/// serializes the same: the template sees nothing else, so the page is the
/// same.
fn render_special<const N: usize>(
    shared: &Shared,
    (path, root): (&str, &str),
    template: &str,
    values: [(&'static str, Value); N],
    source: &Path,
) -> Result<Special, Diagnostic> {
    let keys = values.each_ref().map(|(key, _)| *key);
    let mut context = base_context(shared, root);
    for (key, value) in values {
        context.insert_value(key, value);
    }
    let fingerprint = shared.remember.then(|| {
        use std::hash::{Hash, Hasher};
        let mut writer = HashWriter(crate::hashing::fingerprint_hasher());
        shared.theme.generation.hash(&mut writer.0);
        template.hash(&mut writer.0);
        for key in BASE_KEYS.iter().chain(&keys) {
            key.hash(&mut writer.0);
            if let Some(value) = context.get(key) {
                // Writing into a hasher cannot fail.
                let _ = serde_json::to_writer(&mut writer, value);
            }
        }
        writer.0.finish()
    });
    if let Some(bytes) = super::reusable(shared.previous, path, fingerprint) {
        return Ok(Special {
            bytes,
            fingerprint,
            fresh: false,
        });
    }
    let html = shared
        .theme
        .tera
        .render(template, &context)
        .map_err(|e| shared.theme.render_error(&e, source))?;
    Ok(Special {
        bytes: Arc::from(html.into_bytes()),
        fingerprint,
        fresh: true,
    })
}

/// Feeds serialized values straight into a hasher.
struct HashWriter(ahash::AHasher);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        std::hash::Hasher::write(&mut self.0, bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn exercise_cards(shared: &Shared) -> Vec<ExerciseCard> {
    shared
        .site
        .exercises
        .iter()
        .filter_map(|&id| {
            let page = &shared.site.pages[id];
            let Front::Exercise(front) = &page.front else {
                return None;
            };
            Some(ExerciseCard {
                id: page.slug.clone(),
                title: shared.texts[id].title.clone(),
                href: output_path(&page.url),
                kind: front.kind.as_str(),
                duration: front.duration.map(|d| d.label()),
                objective: shared.texts[id].objective.clone(),
            })
        })
        .collect()
}

pub(super) fn special_page(
    shared: &Shared,
    kind: &'static str,
    title_key: &str,
    fallback: &str,
    url: &str,
) -> PageValue {
    PageValue {
        kind,
        title: shared
            .labels
            .get(title_key)
            .cloned()
            .unwrap_or_else(|| fallback.to_string()),
        url: url.to_string(),
        href: output_path(url),
        permalink: permalink(shared, url),
        ..PageValue::default()
    }
}

pub(super) fn render_exercise_list(shared: &Shared) -> Result<Special, Diagnostic> {
    let page = special_page(shared, "exercises", "exercises", "Exercises", "exercises/");
    render_special(
        shared,
        ("exercises/index.html", "../"),
        "exercises.html",
        [
            ("page", Value::from_serializable(&page)),
            (
                "exercises",
                Value::from_serializable(&exercise_cards(shared)),
            ),
        ],
        Path::new("exercises/index.html"),
    )
}

pub(super) fn render_not_found(shared: &Shared) -> Result<Special, Diagnostic> {
    // Hosts serve 404.html at any depth: absolute links when the address is known.
    let root = shared
        .version
        .base_url
        .as_ref()
        .map(|b| format!("{}/", b.trim_end_matches('/')))
        .unwrap_or_default();
    let mut page = special_page(
        shared,
        "not_found",
        "not_found_title",
        "Page not found",
        "404.html",
    );
    page.href = "404.html".into();
    page.permalink = None;
    render_special(
        shared,
        ("404.html", &root),
        "404.html",
        [("page", Value::from_serializable(&page))],
        Path::new("404.html"),
    )
}

pub(super) fn exercise_value(shared: &Shared, id: PageId, body: &Rendered) -> ExerciseValue {
    let page = &shared.site.pages[id];
    let texts = &shared.texts[id];
    let Front::Exercise(front) = &page.front else {
        return ExerciseValue::default();
    };
    let prompts = texts.fields.iter().map(|f| f.label.clone()).collect();
    ExerciseValue {
        id: page.slug.clone(),
        title: texts.title.clone(),
        kind: front.kind.as_str(),
        duration: front.duration.map(|d| d.label()),
        objective: texts.objective.clone(),
        instructions: body.html.clone(),
        fields: texts.fields.clone(),
        stages: texts.stages.clone(),
        prompts,
        storage_key: format!(
            "atelier:{}:{}",
            shared
                .version
                .client
                .as_ref()
                .map_or("base", |c| c.slug.as_str()),
            page.slug
        ),
        href: output_path(&page.url),
        html: String::new(),
    }
}

pub(super) fn render_widget(
    shared: &Shared,
    exercise: &ExerciseValue,
    print: bool,
) -> Result<String, Diagnostic> {
    let mut context = base_context(shared, "");
    context.insert("exercise", exercise);
    context.insert("print", &print);
    shared
        .theme
        .tera
        .render("partials/exercise.html", &context)
        .map_err(|e| shared.theme.render_error(&e, Path::new(&exercise.href)))
}

pub(super) fn base_context(shared: &Shared, root: &str) -> Context {
    let mut context = Context::new();
    context.insert_value("site", shared.site_value.clone());
    context.insert_value("t", shared.labels_value.clone());
    context.insert("lang", &shared.version.language);
    context.insert("root", root);
    context
}

/// The final body of a page: exercise widgets in place, links relative to `root`.
pub(super) fn finish_body(shared: &Shared, html: &str, root: &str, print: bool) -> String {
    assemble(shared, html, &pieces_of(html), root, print)
}

/// The final HTML of a body for a page at `root`.
pub(super) fn finish(shared: &Shared, body: &Body, root: &str, print: bool) -> String {
    assemble(shared, &body.rendered.html, body.pieces(), root, print)
}

fn assemble(shared: &Shared, html: &str, pieces: &[Piece], root: &str, print: bool) -> String {
    let mut out = String::with_capacity(html.len() + 256);
    // How many copies of each exercise are placed so far: each later copy
    // gets its own element ids.
    let mut placed: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for piece in pieces {
        match piece {
            Piece::Text(range) => out.push_str(html.get(range.clone()).unwrap_or_default()),
            Piece::Root => out.push_str(root),
            Piece::Exercise(id) => match shared.widgets.get(id) {
                Some((live, blank)) => {
                    let widget = if print { blank } else { live };
                    let copy = placed.entry(id.as_str()).or_default();
                    *copy += 1;
                    let copy = *copy;
                    let widget = widget.replace(ROOT_MARKER, root);
                    if copy > 1 {
                        out.push_str(&super::ids::nth_copy(&widget, copy));
                    } else {
                        out.push_str(&widget);
                    }
                }
                None => out.push_str(&crate::markdown::directives::exercise_marker(id)),
            },
        }
    }
    out
}

fn permalink(shared: &Shared, url: &str) -> Option<String> {
    shared
        .version
        .base_url
        .as_ref()
        .map(|base| format!("{}/{url}", base.trim_end_matches('/')))
}
