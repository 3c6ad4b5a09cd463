//! Page bodies: front-matter strings and Markdown, for one version.
//!
//! Directives are expanded before variables are substituted, so a variable
//! inside a block that another client gets (or inside facilitator notes)
//! never has to resolve in this version; then the Markdown is rendered with
//! links resolved against the composed site.

use crate::compose::PageId;
use crate::content::{Front, SourcePage};
use crate::error::Diagnostic;
use crate::markdown::{
    self, ROOT_MARKER, Rendered, directives, typography::FrenchTypography, variables,
};

use std::sync::{Arc, Mutex, OnceLock};

use super::cache::Dependencies;
use super::{ClientInfo, PageStrings, Shared, links};

/// A page's rendered Markdown and the variables it used.
#[derive(Debug)]
pub struct Body {
    /// The rendered body.
    pub rendered: Rendered,
    /// Variables the body used.
    pub used: Vec<String>,
    /// Where the version-specific parts go (root links, exercise widgets),
    /// found once however many versions and pages embed this body.
    pieces: OnceLock<Vec<Piece>>,
    /// Its page content and table of contents as template values, for a
    /// body shared by several versions: converted once, not once per version.
    values: OnceLock<BodyValues>,
    /// Its HTML on the print page, for a body shared by several versions.
    print: OnceLock<Option<Arc<str>>>,
}

/// A shared body's template values, valid for pages at one root.
#[derive(Debug)]
pub(super) struct BodyValues {
    root: String,
    /// The finished HTML (`page.content`).
    pub(super) content: tera::Value,
    /// `page.toc`.
    pub(super) toc: tera::Value,
}

/// A part of a rendered body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Piece {
    /// Verbatim HTML (byte range of the body).
    Text(std::ops::Range<usize>),
    /// The path to the output root.
    Root,
    /// The widget of this exercise.
    Exercise(String),
}

impl Body {
    /// A body from its rendering.
    pub fn new(rendered: Rendered, used: Vec<String>) -> Body {
        Body {
            rendered,
            used,
            pieces: OnceLock::new(),
            values: OnceLock::new(),
            print: OnceLock::new(),
        }
    }

    /// Ids of the exercises embedded with `::: exercise`.
    pub fn embedded_exercises(&self) -> impl Iterator<Item = &str> {
        self.pieces().iter().filter_map(|piece| match piece {
            Piece::Exercise(id) => Some(id.as_str()),
            _ => None,
        })
    }

    /// The body cut at its version-specific parts.
    pub(super) fn pieces(&self) -> &[Piece] {
        self.pieces.get_or_init(|| pieces_of(&self.rendered.html))
    }

    /// Whether its finished HTML is the same in every version: it embeds no
    /// exercise widget (widgets differ per version).
    fn same_in_every_version(&self) -> bool {
        self.embedded_exercises().next().is_none()
    }

    /// Its HTML on the print page, made once for all versions when it is the
    /// same in every version; `None` otherwise.
    pub(super) fn print_html(&self, finish: impl FnOnce() -> String) -> Option<&Arc<str>> {
        self.print
            .get_or_init(|| self.same_in_every_version().then(|| Arc::from(finish())))
            .as_ref()
    }

    /// Its content and table of contents as template values for a page at
    /// `root`, converted once for all versions, when that is sound: the body
    /// is the same in every version and the first page asking for them had
    /// the same root. `None` otherwise.
    pub(super) fn values(
        &self,
        root: &str,
        finish: impl FnOnce() -> String,
    ) -> Option<&BodyValues> {
        if !self.same_in_every_version() {
            return None;
        }
        let values = self.values.get_or_init(|| BodyValues {
            root: root.to_string(),
            content: tera::Value::from(finish()),
            toc: tera::Value::from_serializable(&self.rendered.toc),
        });
        (values.root == root).then_some(values)
    }
}

/// What comes before and after the id in an exercise marker, taken from
/// [`directives::exercise_marker`] so the two never disagree.
fn exercise_marker_parts() -> &'static (String, String) {
    static PARTS: OnceLock<(String, String)> = OnceLock::new();
    PARTS.get_or_init(|| {
        const ID: &str = "\u{0}";
        let marker = directives::exercise_marker(ID);
        let (before, after) = marker.split_once(ID).unwrap_or((&marker, ""));
        (before.to_string(), after.to_string())
    })
}

/// Cuts HTML at root markers and exercise markers.
pub(super) fn pieces_of(html: &str) -> Vec<Piece> {
    let (exercise, close) = exercise_marker_parts();
    let (exercise, close) = (exercise.as_str(), close.as_str());
    let mut marks: Vec<(usize, usize, Piece)> = html
        .match_indices(ROOT_MARKER)
        .map(|(at, m)| (at, at + m.len(), Piece::Root))
        .collect();
    if html.contains(exercise) {
        for (at, _) in html.match_indices(exercise) {
            let rest = &html[at + exercise.len()..];
            if let Some(end) = rest.find(close) {
                let id = rest[..end].to_string();
                marks.push((
                    at,
                    at + exercise.len() + end + close.len(),
                    Piece::Exercise(id),
                ));
            }
        }
        marks.sort_by_key(|m| m.0);
    }
    let mut pieces = Vec::with_capacity(marks.len() * 2 + 1);
    let mut position = 0;
    for (start, end, piece) in marks {
        if start < position {
            continue;
        }
        if start > position {
            pieces.push(Piece::Text(position..start));
        }
        pieces.push(piece);
        position = end;
    }
    if position < html.len() {
        pieces.push(Piece::Text(position..html.len()));
    }
    pieces
}

pub(super) fn page_strings(
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
        let substituted = markdown::smart_apostrophes(&substituted);
        if super::language::french(shared.version, page) {
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

/// The body of page `id` in this version: reused from another version when
/// everything it depends on is the same there, rendered otherwise.
pub(super) fn body_for(shared: &Shared, id: PageId) -> Result<Arc<Body>, Vec<Diagnostic>> {
    let Some(cache) = shared.cache else {
        return render_body(shared, id, &Mutex::default()).map(Arc::new);
    };
    if let Some(body) = cache.find(shared, id) {
        return Ok(body);
    }
    let dependencies = Mutex::new(Dependencies {
        links_key: shared.links_key,
        ..Dependencies::default()
    });
    let body = Arc::new(render_body(shared, id, &dependencies)?);
    let dependencies = dependencies.into_inner().unwrap_or_else(|p| p.into_inner());
    cache.insert(shared, id, dependencies, Arc::clone(&body));
    Ok(body)
}

/// A page body ready for a Markdown renderer (the site's HTML, the
/// workbook PDF's): directives expanded for the version, variables
/// substituted, embedded exercises checked.
pub(super) struct Source {
    /// The Markdown to parse.
    pub(super) markdown: String,
    /// For each line of `markdown`, its line in the body (directives add
    /// and drop lines); `None` when nothing moved.
    line_map: Option<Vec<usize>>,
    /// File line of the body's first line.
    body_line: usize,
}

impl Source {
    /// The 1-based file line of 0-based line `index` of the Markdown.
    pub(super) fn file_line(&self, index: usize) -> usize {
        match &self.line_map {
            Some(map) => map
                .get(index)
                .map_or(self.body_line, |l| self.body_line + l - 1),
            None => self.body_line + index,
        }
    }
}

/// Renders page `id`'s body, logging every lookup into `log`.
fn render_body(
    shared: &Shared,
    id: PageId,
    log: &Mutex<Dependencies>,
) -> Result<Body, Vec<Diagnostic>> {
    let page = &shared.site.pages[id];
    let templates = super::directive::Templates::new(shared, id);
    let mut used = Vec::new();
    let source = expand_source(shared, id, &templates, log, &mut used, &mut || {
        let recorded = templates.recorded.take();
        if !recorded.is_empty() {
            log.lock()
                .unwrap_or_else(|p| p.into_inner())
                .directives
                .extend(recorded);
        }
        templates.problems.take()
    })?;
    let record = |f: &mut dyn FnMut(&mut Dependencies)| {
        f(&mut log.lock().unwrap_or_else(|p| p.into_inner()))
    };
    let resolve = |dest: &str, is_image: bool| {
        let outcome = links::resolve(shared, page, dest, is_image);
        record(&mut |d| d.links.push((dest.to_string(), is_image, outcome.clone())));
        outcome
    };
    let source_line = |index: usize| source.file_line(index);
    let body = markdown::render(
        &source.markdown,
        &markdown::RenderOptions {
            french: super::language::french(shared.version, page),
            resolve_link: &resolve,
            source_line: &source_line,
            directive_kinds: shared.theme.extra_directives(),
        },
    );
    if !body.stray_fences.is_empty() {
        return Err(body
            .stray_fences
            .iter()
            .map(|stray| stray_fence_error(page, stray))
            .collect());
    }
    Ok(Body::new(body, used))
}

/// Page `id`'s body as a renderer parses it in this version: directives
/// expanded with `html` around their content, then variables substituted;
/// every lookup is logged into `log`, variables used into `used`.
/// `html_problems` gives what the directive HTML found, once expanded. The
/// problems of the page when any.
pub(super) fn expand_source(
    shared: &Shared,
    id: PageId,
    html: &dyn directives::DirectiveHtml,
    log: &Mutex<Dependencies>,
    used: &mut Vec<String>,
    html_problems: &mut dyn FnMut() -> Vec<Diagnostic>,
) -> Result<Source, Vec<Diagnostic>> {
    let page = &shared.site.pages[id];
    let mut problems = Vec::new();
    let title = shared.texts[id].title.as_str();
    let record = |f: &mut dyn FnMut(&mut Dependencies)| {
        f(&mut log.lock().unwrap_or_else(|p| p.into_inner()))
    };

    // Directives first, so variables inside blocks another client gets (or
    // facilitator notes) never have to resolve in this version.
    let matches = |key: &str, value: &str| {
        let matched = client_matches(shared.version.client.as_ref(), key, value);
        record(&mut |d| {
            d.matches
                .push((key.to_string(), value.to_string(), matched))
        });
        matched
    };
    let (expanded, line_map, exercise_refs) = if directives::has_directives(&page.body) {
        let options = directives::ExpandOptions {
            facilitator: shared.version.facilitator,
            html,
            matches: &matches,
        };
        let result = directives::expand_in_file(&page.body, page.body_line, &options);
        problems.append(&mut html_problems());
        match result {
            Ok(expanded) if problems.is_empty() => (
                expanded.markdown,
                Some(expanded.line_map),
                expanded
                    .exercises
                    .into_iter()
                    .map(|e| (e.id, e.line, e.included))
                    .collect(),
            ),
            Ok(_) => return Err(problems),
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
    let mut source = Source {
        markdown: String::new(),
        line_map,
        body_line: page.body_line,
    };

    let lookup = |name: &str| {
        let found = lookup_variable(shared, name, Some(title));
        let value = match &found {
            variables::Lookup::Value(v) => Some(v.clone()),
            variables::Lookup::Missing => None,
        };
        record(&mut |d| d.variables.push((name.to_string(), value.clone())));
        found
    };
    source.markdown = if variables::has_variables(&expanded) {
        match variables::substitute_markdown(&expanded, &lookup) {
            Ok(s) => {
                used.extend(s.used);
                s.text
            }
            Err(errors) => {
                for e in errors {
                    problems.push(variable_error(
                        page,
                        source.file_line(e.line - 1),
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
        let present = shared.site.exercise_by_id.contains_key(&exercise);
        record(&mut |d| d.exercises.push((exercise.clone(), present)));
        if !present {
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
    if problems.is_empty() {
        Ok(source)
    } else {
        Err(problems)
    }
}

/// A directive opener the Markdown parser reads as text: publishing the
/// page would publish the block's content (a facilitator note) to everyone.
pub(super) fn stray_fence_error(page: &SourcePage, stray: &markdown::StrayFence) -> Diagnostic {
    Diagnostic::error(
        &page.file,
        format!(
            "`{}` is not read as a directive here, so its content would be published as text",
            stray.fence
        ),
    )
    .at(stray.line, stray.column)
    .with_help(
        "start the fence line with `:::` after at most three spaces (after any `>`, list \
         marker or footnote label), outside code blocks, and close it with a line `:::`; to show \
         the fence itself, put it in a fenced code block",
    )
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

pub(super) fn lookup_variable(
    shared: &Shared,
    name: &str,
    page_title: Option<&str>,
) -> variables::Lookup {
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

pub(super) fn client_matches(client: Option<&ClientInfo>, key: &str, value: &str) -> bool {
    match client {
        None => false,
        Some(client) if key == "client" => client.slug == value,
        Some(client) => client.value(key).is_some_and(|v| v == value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_find_the_exercise_markers_directives_write() {
        let html = format!(
            "<p>a</p>{}<p>b</p>{}",
            directives::exercise_marker("miroir"),
            directives::exercise_marker("carte-empathie")
        );
        let pieces = pieces_of(&html);
        let ids: Vec<&str> = pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Exercise(id) => Some(id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(ids, ["miroir", "carte-empathie"]);
        let text: String = pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Text(range) => Some(&html[range.clone()]),
                _ => None,
            })
            .collect();
        assert_eq!(text, "<p>a</p><p>b</p>");
    }
}
