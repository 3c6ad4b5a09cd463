//! The values templates see (docs/themes.md is their contract).
//!
//! Plain serializable structs, built per page from the composed site; shared
//! site-wide values are converted to Tera values once per version.

use serde::Serialize;

use crate::agenda::{Agenda, AgendaItem};
use crate::config::Config;
use crate::content::Field;

use super::Version;

#[derive(Serialize)]
pub(super) struct ClientValue {
    slug: String,
    name: String,
    sector: Option<String>,
    city: Option<String>,
}

#[derive(Serialize, Default)]
pub(super) struct ThemeValue {
    primary: Option<String>,
    accent: Option<String>,
    logo: Option<String>,
}

#[derive(Serialize)]
pub(super) struct SiteValue {
    title: String,
    subtitle: Option<String>,
    author: Option<String>,
    base_url: Option<String>,
    styles: Vec<String>,
    facilitator: bool,
    /// Pages ask search engines not to index them (a client's version).
    noindex: bool,
    client: Option<ClientValue>,
    theme: ThemeValue,
    generator: String,
    icon: Option<IconValue>,
}

/// The site's icon, as `<link rel="icon">` needs it.
#[derive(Serialize)]
pub(super) struct IconValue {
    /// Relative to the output root.
    href: String,
    /// Its media type, so browsers need not guess from the name.
    mime: &'static str,
}

/// Icon files atelier links when `static/` has them, first found wins.
const ICONS: [(&str, &str); 3] = [
    ("favicon.svg", "image/svg+xml"),
    ("favicon.png", "image/png"),
    ("favicon.ico", "image/x-icon"),
];

impl SiteValue {
    pub(super) fn new(config: &Config, version: &Version) -> Self {
        let text = |s: &str| {
            let s = crate::markdown::smart_apostrophes(s);
            if version.french {
                let mut out = String::with_capacity(s.len() + 4);
                crate::markdown::typography::FrenchTypography::new().push_text(&s, &mut out);
                out
            } else {
                s
            }
        };
        SiteValue {
            title: text(&config.title),
            subtitle: config.subtitle.as_deref().map(text),
            author: config.author.clone(),
            base_url: version.base_url.clone(),
            styles: config.styles.clone(),
            facilitator: version.facilitator,
            noindex: !version.indexed,
            client: version.client.as_ref().map(|c| ClientValue {
                slug: c.slug.clone(),
                name: c.name.clone(),
                sector: c.sector.clone(),
                city: c.city.clone(),
            }),
            theme: version
                .client
                .as_ref()
                .map(|c| ThemeValue {
                    primary: c.primary.clone(),
                    accent: c.accent.clone(),
                    logo: c.logo.clone(),
                })
                .unwrap_or_default(),
            generator: format!("atelier {}", env!("CARGO_PKG_VERSION")),
            icon: None,
        }
    }

    /// Links the icon among `static_files` (the project's and the client's,
    /// by output path): the scaffold ships `static/favicon.svg`, and a page
    /// that links no icon makes browsers ask for `/favicon.ico`, a 404 at
    /// any sub-path the site is published under.
    pub(super) fn with_icon(mut self, static_files: &[(String, std::path::PathBuf)]) -> Self {
        self.icon = ICONS.iter().find_map(|(name, mime)| {
            static_files
                .iter()
                .any(|(rel, _)| rel == name)
                .then(|| IconValue {
                    href: (*name).to_string(),
                    mime,
                })
        });
        self
    }
}

#[derive(Serialize, Clone)]
pub(super) struct LinkValue {
    pub title: String,
    pub href: String,
}

#[derive(Serialize)]
pub(super) struct StepLink {
    pub title: String,
    pub href: String,
    pub duration: Option<String>,
    pub current: bool,
}

#[derive(Serialize)]
pub(super) struct ModuleNav {
    pub title: String,
    pub href: String,
    pub duration: Option<String>,
    /// [`StepLink`]s, converted once per module (see `pages::module_steps`).
    pub steps: tera::Value,
}

#[derive(Serialize)]
pub(super) struct ExerciseLink {
    pub id: String,
    pub title: String,
    pub href: String,
    pub kind: &'static str,
    pub duration: Option<String>,
    pub html: String,
}

#[derive(Serialize, Default)]
pub(super) struct ExerciseValue {
    pub id: String,
    pub title: String,
    pub kind: &'static str,
    pub duration: Option<String>,
    pub objective: Option<String>,
    pub instructions: String,
    pub fields: Vec<Field>,
    pub stages: Vec<String>,
    pub prompts: Vec<String>,
    pub storage_key: String,
    pub href: String,
    pub html: String,
}

#[derive(Serialize)]
pub(super) struct PageValue {
    pub kind: &'static str,
    pub title: String,
    pub description: Option<String>,
    pub summary: Option<String>,
    pub url: String,
    pub href: String,
    pub permalink: Option<String>,
    /// The finished body HTML (a string value).
    pub content: tera::Value,
    /// [`TocEntry`](crate::markdown::TocEntry)s.
    pub toc: tera::Value,
    pub duration: Option<String>,
    pub start: Option<String>,
    pub emotion: Option<String>,
    pub intensity: Option<i64>,
    pub objectives: Vec<String>,
    pub exercises: Vec<ExerciseLink>,
    pub module: Option<ModuleNav>,
    pub prev: Option<LinkValue>,
    pub next: Option<LinkValue>,
    pub exercise: Option<ExerciseValue>,
}

impl Default for PageValue {
    fn default() -> Self {
        PageValue {
            kind: "",
            title: String::new(),
            description: None,
            summary: None,
            url: String::new(),
            href: String::new(),
            permalink: None,
            content: tera::Value::from(""),
            toc: tera::Value::from(Vec::<tera::Value>::new()),
            duration: None,
            start: None,
            emotion: None,
            intensity: None,
            objectives: Vec::new(),
            exercises: Vec::new(),
            module: None,
            prev: None,
            next: None,
            exercise: None,
        }
    }
}

#[derive(Serialize, Clone)]
pub(super) struct ModuleCard {
    pub title: String,
    pub href: String,
    pub summary: Option<String>,
    pub duration: Option<String>,
    pub emotion: Option<String>,
    pub intensity: Option<i64>,
    pub steps: usize,
}

#[derive(Serialize)]
pub(super) struct ExerciseCard {
    pub id: String,
    pub title: String,
    pub href: String,
    pub kind: &'static str,
    pub duration: Option<String>,
    pub objective: Option<String>,
}

#[derive(Serialize)]
pub(super) struct AgendaEntry {
    kind: &'static str,
    title: String,
    href: Option<String>,
    start: String,
    end: String,
    duration: String,
    emotion: Option<String>,
    intensity: Option<i64>,
    summary: Option<String>,
}

#[derive(Serialize)]
pub(super) struct AgendaValue {
    start: String,
    end: String,
    total: String,
    items: Vec<AgendaEntry>,
}

impl AgendaValue {
    pub(super) fn new(agenda: &Agenda, modules: &[ModuleCard], break_label: &str) -> Self {
        let items = agenda
            .items
            .iter()
            .map(|item| {
                let start = item.start();
                let end = start.plus(item.duration());
                match item {
                    AgendaItem::Module { module, .. } => {
                        let card = modules.get(*module);
                        AgendaEntry {
                            kind: "module",
                            title: card.map(|c| c.title.clone()).unwrap_or_default(),
                            href: card.map(|c| c.href.clone()),
                            start: start.to_string(),
                            end: end.to_string(),
                            duration: item.duration().label(),
                            emotion: card.and_then(|c| c.emotion.clone()),
                            intensity: card.and_then(|c| c.intensity),
                            summary: card.and_then(|c| c.summary.clone()),
                        }
                    }
                    AgendaItem::Break { label, .. } => AgendaEntry {
                        kind: "break",
                        title: label.clone().unwrap_or_else(|| break_label.to_string()),
                        href: None,
                        start: start.to_string(),
                        end: end.to_string(),
                        duration: item.duration().label(),
                        emotion: None,
                        intensity: None,
                        summary: None,
                    },
                }
            })
            .collect();
        AgendaValue {
            start: agenda.start.to_string(),
            end: agenda.end().to_string(),
            total: agenda.total.label(),
            items,
        }
    }
}

#[derive(Serialize)]
pub(super) struct PrintStep {
    pub title: String,
    pub anchor: String,
    pub content: String,
}

/// An exercise in the print page's table of contents.
#[derive(Serialize)]
pub(super) struct PrintExercise {
    pub title: String,
    /// Where its worksheet is printed (the form's id).
    pub anchor: String,
}

/// An exercise in the print page's appendix: where its worksheet is printed
/// (`printed_in`, the module or step), or the worksheet itself (`content`).
#[derive(Serialize)]
pub(super) struct PrintAppendixEntry {
    pub title: String,
    pub anchor: String,
    pub printed_in: Option<String>,
    pub content: Option<String>,
}

#[derive(Serialize)]
pub(super) struct PrintSection {
    pub kind: &'static str,
    pub title: String,
    pub anchor: String,
    pub duration: Option<String>,
    pub start: Option<String>,
    pub content: String,
    pub steps: Vec<PrintStep>,
    pub exercises: Vec<String>,
}
