//! The workbook of one version as data: cover, agenda, emotional arc,
//! modules with their steps, worksheets, resources. Serialized as JSON, it
//! is all the Typst template reads (`json("/data.json")`), so every title,
//! client name and paragraph reaches the PDF as a string, never as markup.

use std::collections::{BTreeMap, HashSet};

use rayon::prelude::*;
use serde::Serialize;

use crate::agenda::AgendaItem;
use crate::compose::PageId;
use crate::content::{Field, Front};
use crate::error::Diagnostic;
use crate::hashing::FastMap;

use super::super::Shared;
use super::blocks::{self, Block, WalkedBody};
use super::files::Files;

/// Colours of the default theme (`static/atelier.css`), for the base
/// version and clients that give none.
const DEFAULT_PRIMARY: &str = "#9b4a2c";
const DEFAULT_ACCENT: &str = "#d69e3c";

/// The whole workbook, as the template sees it (`data` in
/// `workbook.typ`; docs/themes.md lists the fields).
#[derive(Serialize)]
pub(super) struct Document {
    /// Language code of the version (`fr`), for hyphenation.
    lang: String,
    /// The facilitator's workbook (notes and solutions).
    facilitator: bool,
    title: String,
    subtitle: Option<String>,
    author: Option<String>,
    client: Option<ClientData>,
    colors: Colors,
    /// Virtual path of the client's logo.
    logo: Option<String>,
    /// The theme's strings in the version's language.
    labels: BTreeMap<String, String>,
    /// The landing page's body (`content/_index.md`).
    intro: Vec<Block>,
    agenda: AgendaData,
    /// The modules with an intensity, in order.
    arc: Vec<ArcPoint>,
    modules: Vec<ModuleData>,
    /// The other pages of the version (resources, sheets), by URL.
    resources: Vec<PageData>,
    /// Exercises printed nowhere else, in the exercise list's order.
    appendix: Vec<String>,
    /// Every exercise's worksheet, by id.
    worksheets: BTreeMap<String, Worksheet>,
}

#[derive(Serialize)]
struct ClientData {
    name: String,
    sector: Option<String>,
    city: Option<String>,
    audience: Option<String>,
}

#[derive(Serialize)]
struct Colors {
    primary: String,
    accent: String,
}

#[derive(Serialize)]
struct AgendaData {
    start: String,
    end: String,
    total: String,
    items: Vec<AgendaRow>,
}

#[derive(Serialize)]
struct AgendaRow {
    /// `module` or `break`.
    kind: &'static str,
    title: String,
    start: String,
    end: String,
    duration: String,
    emotion: Option<String>,
}

#[derive(Serialize)]
struct ArcPoint {
    /// The module's number (1-based).
    number: usize,
    title: String,
    emotion: Option<String>,
    intensity: i64,
}

#[derive(Serialize)]
struct ModuleData {
    title: String,
    summary: Option<String>,
    duration: Option<String>,
    start: Option<String>,
    emotion: Option<String>,
    intensity: Option<i64>,
    objectives: Vec<String>,
    body: Vec<Block>,
    /// Worksheets of the exercises its front matter lists (`exercises:`)
    /// that its body does not embed.
    listed: Vec<String>,
    steps: Vec<PageData>,
}

#[derive(Serialize)]
struct PageData {
    title: String,
    summary: Option<String>,
    duration: Option<String>,
    body: Vec<Block>,
    listed: Vec<String>,
}

/// A blank worksheet: what the participant fills in by hand.
#[derive(Serialize)]
struct Worksheet {
    id: String,
    title: String,
    /// `worksheet`, `journey-map`, `empathy-map`, `roi`, `reflection`.
    kind: &'static str,
    /// The theme's name of the kind.
    kind_label: Option<String>,
    duration: Option<String>,
    objective: Option<String>,
    /// The exercise's body.
    instructions: Vec<Block>,
    fields: Vec<Field>,
    stages: Vec<String>,
}

/// The document of `shared`'s version, with what the PDF leaves out (as
/// warnings); the pages' problems when any.
pub(super) fn document(
    shared: &Shared,
    files: &Files,
    logo: Option<&str>,
) -> Result<(Document, Vec<Diagnostic>), Vec<Diagnostic>> {
    let site = shared.site;
    let exercises: HashSet<PageId> = site.exercises.iter().copied().collect();
    let pages: Vec<PageId> = site
        .landing
        .into_iter()
        .chain(site.reading_order.iter().copied())
        .chain(site.others.iter().copied())
        .chain(site.exercises.iter().copied())
        .collect();
    let walked: Vec<(PageId, Result<WalkedBody, Vec<Diagnostic>>)> = pages
        .par_iter()
        .map(|&id| {
            (
                id,
                blocks::walk(shared, id, files, !exercises.contains(&id)),
            )
        })
        .collect();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut bodies: FastMap<PageId, WalkedBody> = FastMap::default();
    for (id, body) in walked {
        match body {
            Ok(mut body) => {
                warnings.append(&mut body.warnings);
                bodies.insert(id, body);
            }
            Err(mut errors) => problems.append(&mut errors),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut printed: HashSet<String> = HashSet::new();
    let mut page_data = |id: PageId, bodies: &mut FastMap<PageId, WalkedBody>| -> PageData {
        let texts = &shared.texts[id];
        let body = bodies.remove(&id);
        let embedded: Vec<String> = body
            .as_ref()
            .map(|b| b.embedded.clone())
            .unwrap_or_default();
        printed.extend(embedded.iter().cloned());
        let listed: Vec<String> = match &site.pages[id].front {
            Front::Module(front) => front
                .exercises
                .iter()
                .filter(|x| site.exercise_by_id.contains_key(x.as_str()) && !embedded.contains(x))
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        printed.extend(listed.iter().cloned());
        PageData {
            title: texts.title.clone(),
            summary: texts.summary.clone(),
            duration: duration_of(&site.pages[id].front),
            body: body.map(|b| b.blocks).unwrap_or_default(),
            listed,
        }
    };
    let modules: Vec<ModuleData> = site
        .modules
        .iter()
        .enumerate()
        .map(|(index, module)| {
            let own = page_data(module.page, &mut bodies);
            let (emotion, intensity) = feeling(&site.pages[module.page].front);
            ModuleData {
                title: own.title,
                summary: own.summary,
                duration: module.duration.map(|d| d.label()),
                start: site.agenda.module_start(index).map(|t| t.to_string()),
                emotion,
                intensity,
                objectives: shared.texts[module.page].objectives.clone(),
                body: own.body,
                listed: own.listed,
                steps: module
                    .steps
                    .iter()
                    .map(|&step| page_data(step, &mut bodies))
                    .collect(),
            }
        })
        .collect();
    let resources: Vec<PageData> = site
        .others
        .iter()
        .map(|&id| page_data(id, &mut bodies))
        .collect();
    let intro = site
        .landing
        .and_then(|id| bodies.remove(&id))
        .map(|b| b.blocks)
        .unwrap_or_default();
    let worksheets: BTreeMap<String, Worksheet> = site
        .exercises
        .iter()
        .map(|&id| {
            let worksheet = worksheet(shared, id, bodies.remove(&id));
            (worksheet.id.clone(), worksheet)
        })
        .collect();
    let appendix = site
        .exercises
        .iter()
        .map(|&id| site.pages[id].slug.clone())
        .filter(|slug| !printed.contains(slug))
        .collect();
    let arc = site
        .modules
        .iter()
        .enumerate()
        .filter_map(|(index, module)| {
            let (emotion, intensity) = feeling(&site.pages[module.page].front);
            Some(ArcPoint {
                number: index + 1,
                title: shared.texts[module.page].title.clone(),
                emotion,
                intensity: intensity?.clamp(1, 5),
            })
        })
        .collect();
    let version = shared.version;
    let document = Document {
        lang: version.language.clone(),
        facilitator: version.facilitator,
        title: site_text(shared, &shared.config.title),
        subtitle: shared
            .config
            .subtitle
            .as_deref()
            .map(|s| site_text(shared, s)),
        author: shared.config.author.clone(),
        client: version.client.as_ref().map(|c| ClientData {
            name: c.name.clone(),
            sector: c.sector.clone(),
            city: c.city.clone(),
            audience: c.audience.clone(),
        }),
        colors: Colors {
            primary: colour(version.client.as_ref().and_then(|c| c.primary.as_deref()))
                .unwrap_or(DEFAULT_PRIMARY)
                .to_string(),
            accent: colour(version.client.as_ref().and_then(|c| c.accent.as_deref()))
                .unwrap_or(DEFAULT_ACCENT)
                .to_string(),
        },
        logo: logo.and_then(|logo| files.image(logo)),
        labels: shared.labels.clone(),
        intro,
        agenda: agenda(shared, &modules),
        arc,
        modules,
        resources,
        appendix,
        worksheets,
    };
    Ok((document, warnings))
}

/// A string of atelier.yaml as the site shows it: curly apostrophes, and
/// French spacing in a French version.
fn site_text(shared: &Shared, text: &str) -> String {
    let text = crate::markdown::smart_apostrophes(text);
    if !shared.version.french {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 4);
    crate::markdown::typography::FrenchTypography::new().push_text(&text, &mut out);
    out
}

/// A module's emotion and intensity.
fn feeling(front: &Front) -> (Option<String>, Option<i64>) {
    match front {
        Front::Module(front) => (front.emotion.clone(), front.intensity),
        _ => (None, None),
    }
}

/// A page's own duration, as the site shows it.
fn duration_of(front: &Front) -> Option<String> {
    match front {
        Front::Module(front) => front.duration.map(|d| d.label()),
        Front::Exercise(front) => front.duration.map(|d| d.label()),
        Front::Page(_) => None,
    }
}

/// `#rgb` or `#rrggbb`: a colour the template may use; anything else is
/// ignored (client.yaml checks it too).
fn colour(value: Option<&str>) -> Option<&str> {
    let value = value?.trim();
    let hex = value.strip_prefix('#')?;
    (matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(value)
}

fn agenda(shared: &Shared, modules: &[ModuleData]) -> AgendaData {
    let agenda = &shared.site.agenda;
    let break_label = shared
        .labels
        .get("break_label")
        .cloned()
        .unwrap_or_default();
    let items = agenda
        .items
        .iter()
        .map(|item| {
            let start = item.start();
            let end = start.plus(item.duration());
            let (kind, title, emotion) = match item {
                AgendaItem::Module { module, .. } => {
                    let data = modules.get(*module);
                    (
                        "module",
                        data.map(|m| m.title.clone()).unwrap_or_default(),
                        data.and_then(|m| m.emotion.clone()),
                    )
                }
                AgendaItem::Break { label, .. } => (
                    "break",
                    label.clone().unwrap_or_else(|| break_label.clone()),
                    None,
                ),
            };
            AgendaRow {
                kind,
                title,
                start: start.to_string(),
                end: end.to_string(),
                duration: item.duration().label(),
                emotion,
            }
        })
        .collect();
    AgendaData {
        start: agenda.start.to_string(),
        end: agenda.end().to_string(),
        total: agenda.total.label(),
        items,
    }
}

/// The worksheet of exercise page `id`, its instructions from `body`.
fn worksheet(shared: &Shared, id: PageId, body: Option<WalkedBody>) -> Worksheet {
    let page = &shared.site.pages[id];
    let texts = &shared.texts[id];
    let (kind, duration) = match &page.front {
        Front::Exercise(front) => (front.kind.as_str(), front.duration.map(|d| d.label())),
        _ => ("worksheet", None),
    };
    Worksheet {
        id: page.slug.clone(),
        title: texts.title.clone(),
        kind,
        kind_label: shared.labels.get(&format!("kind_{kind}")).cloned(),
        duration,
        objective: texts.objective.clone(),
        instructions: body.map(|b| b.blocks).unwrap_or_default(),
        fields: texts.fields.clone(),
        stages: texts.stages.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hex_colours_reach_the_template() {
        assert_eq!(colour(Some("#7b3f1d")), Some("#7b3f1d"));
        assert_eq!(colour(Some(" #abc ")), Some("#abc"));
        assert_eq!(colour(Some("red")), None);
        assert_eq!(colour(Some("#12345g")), None);
        assert_eq!(colour(Some("#1234")), None);
        assert_eq!(colour(None), None);
    }
}
