//! Rendering: one composed version of the site to HTML files.
//!
//! Third stage of the data flow. Bodies are rendered from Markdown once per
//! version, in parallel; anchors are verified once every page's ids are known;
//! each exercise widget is rendered once and embedded wherever the exercise
//! appears; then every page goes through its template, in parallel, straight
//! into the output [`Sink`]. Nothing here knows where files end up.

mod arc;
mod links;
mod values;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::Path;

use rayon::prelude::*;
use tera::{Context, Value};

use crate::compose::{PageId, Site};
use crate::config::Config;
use crate::content::{Front, PageKind, SourcePage};
use crate::error::{Diagnostic, Diagnostics};
use crate::markdown::{
    self, ROOT_MARKER, Rendered, directives, typography::FrenchTypography, variables,
};
use crate::theme::Theme;
pub use values::ClientInfo;
use values::*;

/// Where rendered files go: a staging folder, memory, …
pub trait Sink: Sync {
    /// Writes `bytes` at `rel` (relative to the version's output root).
    fn write(&self, rel: &str, bytes: &[u8]) -> std::io::Result<()>;
    /// Copies the file at `source` to `rel`.
    fn copy(&self, rel: &str, source: &Path) -> std::io::Result<()>;
    /// Opens `rel` for writing in pieces (large pages).
    fn create(&self, rel: &str) -> std::io::Result<Box<dyn std::io::Write + '_>>;
}

/// Which version is being rendered.
#[derive(Debug, Clone)]
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
    /// Render pages marked `draft` too (they were kept by composition).
    pub drafts: bool,
    /// Keep every page's visible text in the summary (uniqueness report).
    pub collect_texts: bool,
}

/// What a rendered version produced.
#[derive(Debug, Clone, Default)]
pub struct RenderSummary {
    /// HTML pages written.
    pub pages: usize,
    /// Every page's visible text, by URL (for the uniqueness report).
    pub texts: BTreeMap<String, String>,
    /// Variables used, by name.
    pub variables: HashSet<String>,
    /// Wall time of each rendering phase, for `-v`.
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// Everything a page needs that is computed once per version.
struct Shared<'a> {
    site: &'a Site,
    config: &'a Config,
    theme: &'a Theme,
    version: &'a Version,
    strings: BTreeMap<String, String>,
    site_value: Value,
    strings_value: Value,
    assets: HashMap<&'a str, &'a str>,
}

/// A page's front-matter strings after variables and typography.
#[derive(Debug, Clone, Default)]
struct PageStrings {
    title: String,
    summary: Option<String>,
    description: Option<String>,
    objectives: Vec<String>,
    objective: Option<String>,
    fields: Vec<crate::content::Field>,
    stages: Vec<String>,
}

/// Phase A's result for one page.
struct Prepared {
    strings: PageStrings,
    body: Rendered,
    used: Vec<String>,
}

/// Renders one version of the site into `sink`. Errors stop the rendering
/// before anything is written; warnings go to `diagnostics`.
pub fn render_site(
    site: &Site,
    config: &Config,
    theme: &Theme,
    version: &Version,
    static_files: &[(String, std::path::PathBuf)],
    sink: &dyn Sink,
    diagnostics: &Diagnostics,
) -> Result<RenderSummary, Vec<Diagnostic>> {
    let strings = theme.strings(&version.language);
    let shared = Shared {
        site,
        config,
        theme,
        version,
        site_value: Value::from_serializable(&SiteValue::new(config, version)),
        strings_value: Value::from_serializable(&strings),
        strings,
        assets: site
            .assets
            .iter()
            .map(|a| (a.rel.as_str(), a.output.as_str()))
            .collect(),
    };

    let mut clock = std::time::Instant::now();
    let mut timings = Vec::new();
    let mut lap = |name: &'static str| {
        timings.push((name, clock.elapsed()));
        clock = std::time::Instant::now();
    };
    // Phase A: every published page's Markdown, in parallel.
    let published: Vec<PageId> = published_pages(site);
    let prepared: Vec<(PageId, Result<Prepared, Vec<Diagnostic>>)> = published
        .par_iter()
        .map(|&id| (id, prepare(&shared, id)))
        .collect();
    let mut problems = Vec::new();
    let mut pages: HashMap<PageId, Prepared> = HashMap::with_capacity(prepared.len());
    for (id, result) in prepared {
        match result {
            Ok(p) => {
                pages.insert(id, p);
            }
            Err(mut errors) => problems.append(&mut errors),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    check_links(&shared, &pages, diagnostics);
    lap("markdown");

    // Phase B: each exercise widget once (interactive and blank for print).
    let widgets: Widgets = site
        .exercises
        .par_iter()
        .filter_map(|&id| {
            let prepared = pages.get(&id)?;
            let value = exercise_value(&shared, id, prepared);
            Some((
                site.pages[id].slug.clone(),
                (
                    render_widget(&shared, &value, false),
                    render_widget(&shared, &value, true),
                ),
            ))
        })
        .map(|(slug, (live, print))| Ok((slug, (live?, print?))))
        .collect::<Result<_, Diagnostic>>()
        .map_err(|d| vec![d])?;

    lap("exercise widgets");
    // Phase C: every page through its template, straight to the sink.
    let write = |rel: &str, bytes: &[u8]| -> Result<(), Diagnostic> {
        sink.write(rel, bytes)
            .map_err(|e| Diagnostic::general(format!("cannot write {rel}: {e}")))
    };
    let results: Vec<Result<(String, String), Diagnostic>> = published
        .par_iter()
        .filter(|&&id| site.pages[id].kind != PageKind::Landing)
        .map(|&id| {
            let html = render_page(&shared, id, &pages, &widgets)?;
            write(&output_path(&site.pages[id].url), html.as_bytes())?;
            let text = if version.collect_texts {
                markdown::strip_tags(&pages[&id].body.html)
            } else {
                String::new()
            };
            Ok((site.pages[id].url.clone(), text))
        })
        .collect();
    lap("pages");
    let mut summary = RenderSummary::default();
    for result in results {
        match result {
            Ok((url, text)) => {
                summary.pages += 1;
                if version.collect_texts {
                    summary.texts.insert(url, text);
                }
            }
            Err(d) => problems.push(d),
        }
    }
    match write_print(&shared, &pages, &widgets, sink) {
        Ok(()) => summary.pages += 1,
        Err(d) => problems.push(d),
    }
    lap("print/index.html");
    let specials: [(&str, SpecialPage); 3] = [
        ("index.html", render_landing),
        ("exercises/index.html", render_exercise_list),
        ("404.html", render_not_found),
    ];
    for (rel, render) in specials {
        if rel == "exercises/index.html" && site.exercises.is_empty() {
            continue;
        }
        match render(&shared, &pages, &widgets).and_then(|html| write(rel, html.as_bytes())) {
            Ok(()) => summary.pages += 1,
            Err(d) => problems.push(d),
        }
        lap(rel);
    }
    if let Some(id) = site.landing
        && version.collect_texts
    {
        summary
            .texts
            .insert(String::new(), markdown::strip_tags(&pages[&id].body.html));
    }
    if let Err(d) = write("sitemap.xml", sitemap(&shared).as_bytes()) {
        problems.push(d);
    }
    for file in &theme.static_files {
        if let Err(d) = write(&format!("static/{}", file.rel), &file.bytes) {
            problems.push(d);
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
    lap("static files");
    for prepared in pages.values() {
        summary.variables.extend(prepared.used.iter().cloned());
    }
    summary.timings = timings;
    if problems.is_empty() {
        Ok(summary)
    } else {
        Err(problems)
    }
}

/// Rendered exercise widgets by id: (interactive, blank for print).
type Widgets = HashMap<String, (String, String)>;

/// A page that is not a content file (landing, print, exercise list, 404).
type SpecialPage = fn(&Shared, &HashMap<PageId, Prepared>, &Widgets) -> Result<String, Diagnostic>;

/// Pages that get their own HTML file, in a stable order.
fn published_pages(site: &Site) -> Vec<PageId> {
    site.landing
        .into_iter()
        .chain(
            site.modules
                .iter()
                .flat_map(|m| std::iter::once(m.page).chain(m.steps.iter().copied())),
        )
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

fn prepare(shared: &Shared, id: PageId) -> Result<Prepared, Vec<Diagnostic>> {
    let page = &shared.site.pages[id];
    let mut problems = Vec::new();
    let mut used = Vec::new();
    let strings = page_strings(shared, page, &mut used, &mut problems);

    // Directives first, so variables inside blocks another client gets (or
    // facilitator notes) never have to resolve in this version.
    let labels = |key: &str| {
        shared
            .strings
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string())
    };
    let matches =
        |key: &str, value: &str| client_matches(shared.version.client.as_ref(), key, value);
    let (expanded, line_map, exercise_refs) = if directives::has_directives(&page.body) {
        let options = directives::ExpandOptions {
            facilitator: shared.version.facilitator,
            labels: &labels,
            matches: &matches,
        };
        match directives::expand(&page.body, &options) {
            Ok(expanded) => (
                expanded.markdown,
                Some(expanded.line_map),
                expanded
                    .exercises
                    .into_iter()
                    .map(|e| (e.id, e.line, e.included))
                    .collect(),
            ),
            Err(errors) => {
                for e in errors {
                    problems.push(
                        Diagnostic::error(&page.file, e.message)
                            .at(page.body_line + e.line - 1, e.column.max(1)),
                    );
                }
                return Err(problems);
            }
        }
    } else {
        (page.body.clone(), None, Vec::new())
    };
    let body_line = page.body_line;
    let source_line = |index: usize| match &line_map {
        Some(map) => map.get(index).map_or(body_line, |l| body_line + l - 1),
        None => body_line + index,
    };

    let lookup = |name: &str| lookup_variable(shared, name, Some(&strings.title));
    let markdown_text = if variables::has_variables(&expanded) {
        match variables::substitute(&expanded, &lookup) {
            Ok(s) => {
                used.extend(s.used);
                s.text
            }
            Err(errors) => {
                for e in errors {
                    problems.push(variable_error(
                        page,
                        source_line(e.line - 1),
                        e.column,
                        &e.name,
                        &e.message,
                    ));
                }
                expanded
            }
        }
    } else {
        expanded
    };

    for (exercise, line, _included) in exercise_refs {
        let line = page.body_line + line - 1;
        if !shared.site.exercise_by_id.contains_key(&exercise) {
            let mut known: Vec<&str> = shared
                .site
                .exercise_by_id
                .keys()
                .map(String::as_str)
                .collect();
            known.sort_unstable();
            problems.push(
                Diagnostic::error(
                    &page.file,
                    format!("unknown exercise `{exercise}` in `::: exercise`"),
                )
                .at_line(line)
                .with_help(format!(
                    "exercise ids are the file names in content/exercises/: {}",
                    known.join(", ")
                )),
            );
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let resolve = |dest: &str, is_image: bool| {
        links::resolve(shared.site, &shared.assets, page, dest, is_image)
    };
    let body = markdown::render(
        &markdown_text,
        &markdown::RenderOptions {
            french: shared.version.french,
            resolve_link: &resolve,
            source_line: &source_line,
        },
    );
    Ok(Prepared {
        strings,
        body,
        used,
    })
}

fn page_strings(
    shared: &Shared,
    page: &SourcePage,
    used: &mut Vec<String>,
    problems: &mut Vec<Diagnostic>,
) -> PageStrings {
    let mut text = |value: &str, own_title: Option<&str>| -> String {
        let substituted = if variables::has_variables(value) {
            let lookup = |name: &str| lookup_variable(shared, name, own_title);
            match variables::substitute(value, &lookup) {
                Ok(s) => {
                    used.extend(s.used);
                    s.text
                }
                Err(errors) => {
                    for e in errors {
                        let (line, column) = locate_in_front(page, value, e.column);
                        problems.push(variable_error(page, line, column, &e.name, &e.message));
                    }
                    value.to_string()
                }
            }
        } else {
            value.to_string()
        };
        if shared.version.french {
            let mut out = String::with_capacity(substituted.len() + 4);
            FrenchTypography::new().push_text(&substituted, &mut out);
            out
        } else {
            substituted
        }
    };
    let title = text(page.front.title(), None);
    let own = Some(title.as_str());
    let mut strings = PageStrings {
        summary: page.front.summary().map(|s| text(s, own)),
        description: page.front.description().map(|s| text(s, own)),
        ..PageStrings::default()
    };
    match &page.front {
        Front::Module(front) => {
            strings.objectives = front.objectives.iter().map(|o| text(o, own)).collect();
        }
        Front::Exercise(front) => {
            strings.objective = front.objective.as_deref().map(|o| text(o, own));
            strings.stages = front.stages.iter().map(|s| text(s, own)).collect();
            strings.fields = front
                .fields
                .iter()
                .map(|f| crate::content::Field {
                    label: text(&f.label, own),
                    placeholder: f.placeholder.as_deref().map(|p| text(p, own)),
                    options: f.options.iter().map(|o| text(o, own)).collect(),
                    ..f.clone()
                })
                .collect();
        }
        Front::Page(_) => {}
    }
    strings.title = title;
    strings
}

/// Where a front-matter string with a variable problem sits in the file.
fn locate_in_front(page: &SourcePage, value: &str, column_in_value: usize) -> (usize, usize) {
    let needle = value.lines().next().unwrap_or(value);
    for (i, line) in page.front_text.lines().enumerate() {
        if let Some(at) = line.find(needle) {
            let column = line[..at].chars().count() + column_in_value;
            return (page.front_line + i, column);
        }
    }
    (page.front_line, column_in_value)
}

fn variable_error(
    page: &SourcePage,
    line: usize,
    column: usize,
    name: &str,
    message: &str,
) -> Diagnostic {
    const KNOWN: &str = "known variables: client.name, client.sector, client.city, client.audience, client.vars.KEY, site.title, site.subtitle, site.author, page.title; write \\{{ for a literal {{";
    let known_name = matches!(
        name,
        "client.name"
            | "client.sector"
            | "client.city"
            | "client.audience"
            | "client.slug"
            | "site.title"
            | "site.subtitle"
            | "site.author"
            | "site.base_url"
            | "page.title"
    ) || name
        .strip_prefix("client.vars.")
        .is_some_and(|k| !k.is_empty());
    let (message, help) = if name.is_empty() {
        (message.to_string(), KNOWN.to_string())
    } else if !known_name {
        (format!("unknown variable `{name}`"), KNOWN.to_string())
    } else if name.starts_with("client.") {
        (
            message.to_string(),
            "give it a value in clients/<slug>/client.yaml, or in `client_defaults` of atelier.yaml for the base version: a blank where the client's words should be is exactly the generic message to avoid".to_string(),
        )
    } else {
        (
            message.to_string(),
            format!("set it in atelier.yaml; {KNOWN}"),
        )
    };
    Diagnostic::error(&page.file, message)
        .at(line, column.max(1))
        .with_help(help)
}

fn lookup_variable(shared: &Shared, name: &str, page_title: Option<&str>) -> variables::Lookup {
    let config = shared.config;
    let value: Option<String> = match name {
        "site.title" => Some(config.title.clone()),
        "site.subtitle" => config.subtitle.clone(),
        "site.author" => config.author.clone(),
        "site.base_url" => shared.version.base_url.clone(),
        "page.title" => page_title.map(str::to_string),
        _ => match name.strip_prefix("client.") {
            Some(key) => match &shared.version.client {
                Some(client) => client.value(key),
                None => {
                    let defaults = &config.client_defaults;
                    match key {
                        "name" => defaults.name.clone(),
                        "sector" => defaults.sector.clone(),
                        "city" => defaults.city.clone(),
                        "audience" => defaults.audience.clone(),
                        _ => key
                            .strip_prefix("vars.")
                            .and_then(|k| defaults.vars.get(k).cloned()),
                    }
                }
            },
            None => None,
        },
    };
    match value {
        Some(v) => variables::Lookup::Value(v),
        None => variables::Lookup::Missing,
    }
}

fn client_matches(client: Option<&ClientInfo>, key: &str, value: &str) -> bool {
    match client {
        None => false,
        Some(client) if key == "client" => client.slug == value,
        Some(client) => client.value(key).is_some_and(|v| v == value),
    }
}

fn check_links(shared: &Shared, pages: &HashMap<PageId, Prepared>, diagnostics: &Diagnostics) {
    for (&id, prepared) in pages {
        let page = &shared.site.pages[id];
        for problem in &prepared.body.link_problems {
            diagnostics.push(
                Diagnostic::warning(&page.file, problem.message.clone())
                    .at(problem.line, problem.column)
                    .with_help(problem.help.clone()),
            );
        }
        for check in &prepared.body.anchors {
            let target = check.target.unwrap_or(id);
            let Some(target_page) = pages.get(&target) else {
                continue;
            };
            if !target_page.body.ids.contains(&check.anchor) {
                let mut known: Vec<&str> =
                    target_page.body.ids.iter().map(String::as_str).collect();
                known.sort_unstable();
                diagnostics.push(
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

fn exercise_value(shared: &Shared, id: PageId, prepared: &Prepared) -> ExerciseValue {
    let page = &shared.site.pages[id];
    let Front::Exercise(front) = &page.front else {
        return ExerciseValue::default();
    };
    let prompts = prepared
        .strings
        .fields
        .iter()
        .map(|f| f.label.clone())
        .collect();
    ExerciseValue {
        id: page.slug.clone(),
        title: prepared.strings.title.clone(),
        kind: front.kind.as_str(),
        duration: front.duration.map(|d| d.label()),
        objective: prepared.strings.objective.clone(),
        instructions: prepared.body.html.clone(),
        fields: prepared.strings.fields.clone(),
        stages: prepared.strings.stages.clone(),
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

fn render_widget(
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

fn base_context(shared: &Shared, root: &str) -> Context {
    let mut context = Context::new();
    context.insert_value("site", shared.site_value.clone());
    context.insert_value("t", shared.strings_value.clone());
    context.insert("lang", &shared.version.language);
    context.insert("root", root);
    context
}

/// The final body of a page: exercise widgets in place, links relative to `root`.
fn finish_body(html: &str, root: &str, widgets: &Widgets, print: bool) -> String {
    let mut html = html.replace(ROOT_MARKER, root);
    if html.contains("<!--atelier:exercise:") {
        for (id, (live, blank)) in widgets {
            let marker = format!("<!--atelier:exercise:{id}-->");
            if html.contains(&marker) {
                let widget = if print { blank } else { live };
                html = html.replace(&marker, &widget.replace(ROOT_MARKER, root));
            }
        }
    }
    html
}

fn permalink(shared: &Shared, url: &str) -> Option<String> {
    shared
        .version
        .base_url
        .as_ref()
        .map(|base| format!("{}/{url}", base.trim_end_matches('/')))
}

fn page_value(
    shared: &Shared,
    id: PageId,
    pages: &HashMap<PageId, Prepared>,
    widgets: &Widgets,
) -> PageValue {
    let site = shared.site;
    let page = &site.pages[id];
    let prepared = &pages[&id];
    let root = root_prefix(&page.url);
    let link = |target: PageId| LinkValue {
        title: pages.get(&target).map_or_else(
            || site.pages[target].front.title().to_string(),
            |p| p.strings.title.clone(),
        ),
        href: output_path(&site.pages[target].url),
    };
    let (prev, next) = site.neighbours(id);
    let module_index = site.module_index_of(id);
    let module = module_index.map(|i| &site.modules[i]);
    let module_start = module_index.and_then(|i| site.agenda.module_start(i));
    let mut start = module_start;
    if let Some(module) = module
        && page.kind == PageKind::Step
        && let Some(mut clock) = module_start
    {
        for &step in &module.steps {
            if step == id {
                break;
            }
            clock = clock.plus(site.pages[step].front.duration().unwrap_or_default());
        }
        start = Some(clock);
    }
    let (emotion, intensity, exercise_ids) = match &page.front {
        Front::Module(f) => (f.emotion.clone(), f.intensity, f.exercises.clone()),
        _ => (None, None, Vec::new()),
    };
    let exercises = exercise_ids
        .iter()
        .filter_map(|ex| {
            let &target = site.exercise_by_id.get(ex)?;
            let (live, _) = widgets.get(ex)?;
            let Front::Exercise(front) = &site.pages[target].front else {
                return None;
            };
            Some(ExerciseLink {
                id: ex.clone(),
                title: link(target).title,
                href: output_path(&site.pages[target].url),
                kind: front.kind.as_str(),
                duration: front.duration.map(|d| d.label()),
                html: live.replace(ROOT_MARKER, &root),
            })
        })
        .collect();
    let module_value = module.filter(|m| !m.steps.is_empty()).map(|m| ModuleNav {
        title: link(m.page).title,
        href: output_path(&site.pages[m.page].url),
        duration: m.duration.map(|d| d.label()),
        steps: m
            .steps
            .iter()
            .map(|&s| StepLink {
                title: link(s).title,
                href: output_path(&site.pages[s].url),
                duration: site.pages[s].front.duration().map(|d| d.label()),
                current: s == id,
            })
            .collect(),
    });
    let duration = match page.kind {
        PageKind::Module => module.and_then(|m| m.duration),
        _ => page.front.duration(),
    };
    PageValue {
        kind: page.kind.as_str(),
        title: prepared.strings.title.clone(),
        description: prepared
            .strings
            .description
            .clone()
            .or_else(|| prepared.strings.summary.clone()),
        summary: prepared.strings.summary.clone(),
        url: page.url.clone(),
        href: output_path(&page.url),
        permalink: permalink(shared, &page.url),
        content: finish_body(&prepared.body.html, &root, widgets, false),
        toc: prepared.body.toc.clone(),
        duration: duration.map(|d| d.label()),
        start: start.map(|s| s.to_string()),
        emotion,
        intensity,
        objectives: prepared.strings.objectives.clone(),
        exercises,
        module: module_value,
        prev: prev.map(link),
        next: next.map(link),
        exercise: None,
    }
}

fn render_page(
    shared: &Shared,
    id: PageId,
    pages: &HashMap<PageId, Prepared>,
    widgets: &Widgets,
) -> Result<String, Diagnostic> {
    let page = &shared.site.pages[id];
    let root = root_prefix(&page.url);
    let mut value = page_value(shared, id, pages, widgets);
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
    if page.kind == PageKind::Exercise
        && let Some(prepared) = pages.get(&id)
    {
        let mut exercise = exercise_value(shared, id, prepared);
        exercise.instructions = finish_body(&exercise.instructions, &root, widgets, false);
        exercise.html = widgets
            .get(&page.slug)
            .map(|(live, _)| live.replace(ROOT_MARKER, &root))
            .unwrap_or_default();
        value.exercise = Some(exercise);
    }
    let mut context = base_context(shared, &root);
    context.insert("page", &value);
    shared
        .theme
        .tera
        .render(&template, &context)
        .map_err(|e| shared.theme.render_error(&e, &page.file))
}

fn render_landing(
    shared: &Shared,
    pages: &HashMap<PageId, Prepared>,
    widgets: &Widgets,
) -> Result<String, Diagnostic> {
    let site = shared.site;
    let page = match site.landing {
        Some(id) => page_value(shared, id, pages, widgets),
        None => PageValue {
            kind: "landing",
            title: shared.config.title.clone(),
            description: shared.config.subtitle.clone(),
            permalink: permalink(shared, ""),
            href: "index.html".into(),
            ..PageValue::default()
        },
    };
    let title_of = |id: PageId| {
        pages
            .get(&id)
            .map_or_else(String::new, |p| p.strings.title.clone())
    };
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
                summary: pages.get(&m.page).and_then(|p| p.strings.summary.clone()),
                duration: m.duration.map(|d| d.label()),
                emotion,
                intensity,
                steps: m.steps.len(),
            }
        })
        .collect();
    let break_label = shared
        .strings
        .get("break_label")
        .cloned()
        .unwrap_or_else(|| "Pause".into());
    let agenda = AgendaValue::new(&site.agenda, &modules, &break_label);
    let arc_svg = arc::svg(&modules, &shared.version.language);
    let mut context = base_context(shared, "");
    context.insert("page", &page);
    context.insert("agenda", &agenda);
    context.insert("arc_svg", &arc_svg);
    context.insert("modules", &modules);
    context.insert("exercises", &exercise_cards(shared, pages));
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
    shared.theme.tera.render(&template, &context).map_err(|e| {
        shared
            .theme
            .render_error(&e, Path::new("content/_index.md"))
    })
}

fn exercise_cards(shared: &Shared, pages: &HashMap<PageId, Prepared>) -> Vec<ExerciseCard> {
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
                title: pages
                    .get(&id)
                    .map_or_else(String::new, |p| p.strings.title.clone()),
                href: output_path(&page.url),
                kind: front.kind.as_str(),
                duration: front.duration.map(|d| d.label()),
                objective: pages.get(&id).and_then(|p| p.strings.objective.clone()),
            })
        })
        .collect()
}

fn special_page(
    shared: &Shared,
    kind: &'static str,
    title_key: &str,
    fallback: &str,
    url: &str,
) -> PageValue {
    PageValue {
        kind,
        title: shared
            .strings
            .get(title_key)
            .cloned()
            .unwrap_or_else(|| fallback.to_string()),
        url: url.to_string(),
        href: output_path(url),
        permalink: permalink(shared, url),
        ..PageValue::default()
    }
}

fn render_exercise_list(
    shared: &Shared,
    pages: &HashMap<PageId, Prepared>,
    _widgets: &Widgets,
) -> Result<String, Diagnostic> {
    let mut context = base_context(shared, "../");
    context.insert(
        "page",
        &special_page(shared, "exercises", "exercises", "Exercises", "exercises/"),
    );
    context.insert("exercises", &exercise_cards(shared, pages));
    shared
        .theme
        .tera
        .render("exercises.html", &context)
        .map_err(|e| {
            shared
                .theme
                .render_error(&e, Path::new("exercises/index.html"))
        })
}

fn render_not_found(
    shared: &Shared,
    _pages: &HashMap<PageId, Prepared>,
    _widgets: &Widgets,
) -> Result<String, Diagnostic> {
    // Hosts serve 404.html at any depth: absolute links when the address is known.
    let root = shared
        .version
        .base_url
        .as_ref()
        .map(|b| format!("{}/", b.trim_end_matches('/')))
        .unwrap_or_default();
    let mut context = base_context(shared, &root);
    let mut page = special_page(
        shared,
        "not_found",
        "not_found_title",
        "Page not found",
        "404.html",
    );
    page.href = "404.html".into();
    page.permalink = None;
    context.insert("page", &page);
    shared
        .theme
        .tera
        .render("404.html", &context)
        .map_err(|e| shared.theme.render_error(&e, Path::new("404.html")))
}

/// The print page holds every body: it is streamed to the sink, one body at a
/// time, so a 10,000-page masterclass never needs a second copy of its HTML.
fn write_print(
    shared: &Shared,
    pages: &HashMap<PageId, Prepared>,
    widgets: &Widgets,
    sink: &dyn Sink,
) -> Result<(), Diagnostic> {
    const MARKER: &str = "<!--atelier:print:";
    let site = shared.site;
    let root = "../";
    let mut bodies: Vec<PageId> = Vec::new();
    let mut placeholder = |id: PageId| {
        bodies.push(id);
        format!("{MARKER}{}-->", bodies.len() - 1)
    };
    let title = |id: PageId| {
        pages
            .get(&id)
            .map_or_else(String::new, |p| p.strings.title.clone())
    };
    let blank = |id: &str| {
        widgets
            .get(id)
            .map(|(_, blank)| blank.replace(ROOT_MARKER, root))
    };
    let mut sections = Vec::new();
    for (index, module) in site.modules.iter().enumerate() {
        let exercises = match &site.pages[module.page].front {
            Front::Module(f) => f.exercises.iter().filter_map(|ex| blank(ex)).collect(),
            _ => Vec::new(),
        };
        let module_slug = &site.pages[module.page].slug;
        sections.push(PrintSection {
            kind: "module",
            title: title(module.page),
            anchor: format!("module-{module_slug}"),
            duration: module.duration.map(|d| d.label()),
            start: site.agenda.module_start(index).map(|s| s.to_string()),
            content: placeholder(module.page),
            steps: module
                .steps
                .iter()
                .map(|&s| PrintStep {
                    title: title(s),
                    anchor: format!("step-{module_slug}-{}", site.pages[s].slug),
                    content: placeholder(s),
                })
                .collect(),
            exercises,
        });
    }
    for &id in &site.exercises {
        let page = &site.pages[id];
        sections.push(PrintSection {
            kind: "exercise",
            title: title(id),
            anchor: format!("exercise-{}", page.slug),
            duration: page.front.duration().map(|d| d.label()),
            start: None,
            content: blank(&page.slug).unwrap_or_default(),
            steps: Vec::new(),
            exercises: Vec::new(),
        });
    }
    let mut context = base_context(shared, root);
    let mut page = special_page(shared, "print", "print", "Print", "print/");
    page.title = shared.config.title.clone();
    context.insert("page", &page);
    context.insert("sections", &sections);
    drop(sections);
    let frame = shared
        .theme
        .tera
        .render("print.html", &context)
        .map_err(|e| shared.theme.render_error(&e, Path::new("print/index.html")))?;
    let rel = "print/index.html";
    let failed = |e: std::io::Error| Diagnostic::general(format!("cannot write {rel}: {e}"));
    let mut out = sink.create(rel).map_err(failed)?;
    let mut rest = frame.as_str();
    while let Some(at) = rest.find(MARKER) {
        out.write_all(rest[..at].as_bytes()).map_err(failed)?;
        let after = &rest[at + MARKER.len()..];
        let end = after.find("-->").unwrap_or(after.len());
        let body = after[..end]
            .parse::<usize>()
            .ok()
            .and_then(|n| bodies.get(n))
            .and_then(|id| pages.get(id))
            .map(|p| finish_body(&p.body.html, root, widgets, true))
            .unwrap_or_default();
        out.write_all(body.as_bytes()).map_err(failed)?;
        rest = after.get(end + 3..).unwrap_or_default();
    }
    out.write_all(rest.as_bytes()).map_err(failed)?;
    out.flush().map_err(failed)
}

fn sitemap(shared: &Shared) -> String {
    let base = shared
        .version
        .base_url
        .as_deref()
        .map(|b| b.trim_end_matches('/'));
    let mut urls: Vec<&str> = vec![""];
    urls.extend(
        published_pages(shared.site)
            .iter()
            .map(|&id| shared.site.pages[id].url.as_str())
            .filter(|u| !u.is_empty()),
    );
    if !shared.site.exercises.is_empty() {
        urls.push("exercises/");
    }
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for url in urls {
        let loc = match base {
            Some(base) => format!("{base}/{url}"),
            None => url.to_string(),
        };
        xml.push_str("  <url><loc>");
        crate::html::escape_into(&loc, &mut xml);
        xml.push_str("</loc></url>\n");
    }
    xml.push_str("</urlset>\n");
    xml
}
