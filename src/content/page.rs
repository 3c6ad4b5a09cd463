//! Front matter of each page kind (README.md's "Front matter"), and the page
//! a source file becomes.
//!
//! Each kind has its own struct with `deny_unknown_fields`, so `durée:` in a
//! module or `stages:` in a plain page is reported with its line instead of
//! being silently ignored.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::Language;
use crate::duration::Minutes;

/// Page-level inclusion rule: `clients: { only: [...], except: [...] }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientRule {
    /// Only these client slugs get the page (empty: everyone).
    #[serde(default)]
    pub only: Vec<String>,
    /// These client slugs never get the page.
    #[serde(default)]
    pub except: Vec<String>,
}

impl ClientRule {
    /// Whether a version for `client` (`None`: the base version) includes the page.
    /// The base version includes every page not restricted by `only`.
    pub fn includes(&self, client: Option<&str>) -> bool {
        match client {
            None => self.only.is_empty(),
            Some(slug) => {
                (self.only.is_empty() || self.only.iter().any(|s| s == slug))
                    && !self.except.iter().any(|s| s == slug)
            }
        }
    }
}

/// Front matter of a module or a module step (`content/modules/`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleFront {
    /// Required.
    pub title: Option<String>,
    /// One-sentence promise of the module.
    #[serde(default)]
    pub summary: Option<String>,
    /// Meta description (defaults to the summary).
    #[serde(default)]
    pub description: Option<String>,
    /// Position; else the `NN-` prefix; else the title.
    #[serde(default)]
    pub order: Option<i64>,
    /// Length in the agenda.
    #[serde(default)]
    pub duration: Option<Minutes>,
    /// The emotion this module makes the audience feel.
    #[serde(default)]
    pub emotion: Option<String>,
    /// 1..5, drives the emotional arc.
    #[serde(default)]
    pub intensity: Option<i64>,
    /// What participants will be able to do.
    #[serde(default)]
    pub objectives: Vec<String>,
    /// Exercise ids listed after the body.
    #[serde(default)]
    pub exercises: Vec<String>,
    /// Skipped unless `--drafts`.
    #[serde(default)]
    pub draft: bool,
    /// Which clients get it.
    #[serde(default)]
    pub clients: Option<ClientRule>,
    /// Template name override.
    #[serde(default)]
    pub template: Option<String>,
    /// In a client overlay: hide the base page at this path.
    #[serde(default)]
    pub remove: bool,
    /// The page's own language, when it is not its version's: its
    /// `<html lang>` and typography follow it.
    #[serde(default)]
    pub language: Option<Language>,
}

/// The five interactive exercise kinds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExerciseKind {
    /// Fields the participant fills in.
    #[default]
    Worksheet,
    /// Stages × (actions, touchpoints, emotion, thought), with a live curve.
    JourneyMap,
    /// Says / thinks / does / feels, plus pains and gains.
    EmpathyMap,
    /// Time, money and revenue: the real return of a channel.
    Roi,
    /// Prompts with free answers.
    Reflection,
}

impl ExerciseKind {
    /// The kind as written in front matter.
    pub fn as_str(self) -> &'static str {
        match self {
            ExerciseKind::Worksheet => "worksheet",
            ExerciseKind::JourneyMap => "journey-map",
            ExerciseKind::EmpathyMap => "empathy-map",
            ExerciseKind::Roi => "roi",
            ExerciseKind::Reflection => "reflection",
        }
    }
}

/// The input type of a worksheet field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// One line.
    #[default]
    Text,
    /// Several lines.
    Textarea,
    /// A number.
    Number,
    /// 1..5.
    Scale,
    /// One of `options`.
    Choice,
}

/// One thing the participant fills in.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Stable id (answers are stored under it).
    pub id: String,
    /// The question.
    pub label: String,
    /// Input type.
    #[serde(default, rename = "type")]
    pub kind: FieldType,
    /// Hint shown in the empty field.
    #[serde(default)]
    pub placeholder: Option<String>,
    /// For `choice`.
    #[serde(default)]
    pub options: Vec<String>,
}

/// Front matter of an exercise (`content/exercises/`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExerciseFront {
    /// Required.
    pub title: Option<String>,
    /// Meta description.
    #[serde(default)]
    pub description: Option<String>,
    /// Interactive kind (default worksheet).
    #[serde(default)]
    pub kind: ExerciseKind,
    /// Length.
    #[serde(default)]
    pub duration: Option<Minutes>,
    /// What it achieves.
    #[serde(default)]
    pub objective: Option<String>,
    /// Worksheet and reflection fields.
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Journey-map stages.
    #[serde(default)]
    pub stages: Vec<String>,
    /// Position in the exercise list.
    #[serde(default)]
    pub order: Option<i64>,
    /// Skipped unless `--drafts`.
    #[serde(default)]
    pub draft: bool,
    /// Which clients get it.
    #[serde(default)]
    pub clients: Option<ClientRule>,
    /// Template name override.
    #[serde(default)]
    pub template: Option<String>,
    /// In a client overlay: hide the base page at this path.
    #[serde(default)]
    pub remove: bool,
    /// The page's own language, when it is not its version's: its
    /// `<html lang>` and typography follow it.
    #[serde(default)]
    pub language: Option<Language>,
}

/// Front matter of the landing page and any other page.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageFront {
    /// Required.
    pub title: Option<String>,
    /// Meta description; on the landing page, the promise.
    #[serde(default)]
    pub description: Option<String>,
    /// Short summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// Position among sibling pages.
    #[serde(default)]
    pub order: Option<i64>,
    /// Skipped unless `--drafts`.
    #[serde(default)]
    pub draft: bool,
    /// Which clients get it.
    #[serde(default)]
    pub clients: Option<ClientRule>,
    /// Template name override.
    #[serde(default)]
    pub template: Option<String>,
    /// In a client overlay: hide the base page at this path.
    #[serde(default)]
    pub remove: bool,
    /// The page's own language, when it is not its version's: its
    /// `<html lang>` and typography follow it.
    #[serde(default)]
    pub language: Option<Language>,
}

/// Parsed front matter, by page kind.
#[derive(Debug, Clone)]
pub enum Front {
    /// Module or step.
    Module(ModuleFront),
    /// Exercise.
    Exercise(ExerciseFront),
    /// Landing or other page.
    Page(PageFront),
}

macro_rules! common {
    ($self:ident, $field:ident) => {
        match $self {
            Front::Module(f) => &f.$field,
            Front::Exercise(f) => &f.$field,
            Front::Page(f) => &f.$field,
        }
    };
}

impl Front {
    /// The title (validated as present by the loader).
    pub fn title(&self) -> &str {
        common!(self, title).as_deref().unwrap_or("")
    }
    /// Meta description.
    pub fn description(&self) -> Option<&str> {
        common!(self, description).as_deref()
    }
    /// Explicit position.
    pub fn order(&self) -> Option<i64> {
        *common!(self, order)
    }
    /// Draft flag.
    pub fn draft(&self) -> bool {
        *common!(self, draft)
    }
    /// Overlay removal flag.
    pub fn remove(&self) -> bool {
        *common!(self, remove)
    }
    /// Client inclusion rule.
    pub fn clients(&self) -> Option<&ClientRule> {
        common!(self, clients).as_ref()
    }
    /// Template override.
    pub fn template(&self) -> Option<&str> {
        common!(self, template).as_deref()
    }
    /// The page's own language, if it says one.
    pub fn language(&self) -> Option<Language> {
        *common!(self, language)
    }
    /// Summary (modules and pages).
    pub fn summary(&self) -> Option<&str> {
        match self {
            Front::Module(f) => f.summary.as_deref(),
            Front::Page(f) => f.summary.as_deref(),
            Front::Exercise(f) => f.objective.as_deref(),
        }
    }
    /// Own duration (modules, steps, exercises).
    pub fn duration(&self) -> Option<Minutes> {
        match self {
            Front::Module(f) => f.duration,
            Front::Exercise(f) => f.duration,
            Front::Page(_) => None,
        }
    }
}

/// What a source file is, from where it sits under `content/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageKind {
    /// `content/_index.md`.
    Landing,
    /// `content/modules/NN-slug.md` or `content/modules/NN-slug/_index.md`.
    Module,
    /// `content/modules/NN-slug/NN-step.md`.
    Step,
    /// `content/exercises/slug.md`.
    Exercise,
    /// Anything else.
    Page,
}

impl PageKind {
    /// The kind as templates see it.
    pub fn as_str(self) -> &'static str {
        match self {
            PageKind::Landing => "landing",
            PageKind::Module => "module",
            PageKind::Step => "step",
            PageKind::Exercise => "exercise",
            PageKind::Page => "page",
        }
    }
}

/// A Markdown source file, read and parsed once.
#[derive(Debug, Clone)]
pub struct SourcePage {
    /// Path relative to the project root, for messages.
    pub file: PathBuf,
    /// Path relative to its content root, with `/`: the page's identity for
    /// overlays and `.md` links (`modules/02-la-confiance.md`).
    pub rel: String,
    /// Module, step, exercise…
    pub kind: PageKind,
    /// Parsed front matter.
    pub front: Front,
    /// The raw front-matter text, to locate variables in it.
    pub front_text: String,
    /// 1-based line of the first front-matter line.
    pub front_line: usize,
    /// The Markdown body.
    pub body: String,
    /// 1-based line where the body starts.
    pub body_line: usize,
    /// The page's own slug (last URL segment; for modules and exercises, their id).
    pub slug: String,
    /// Order from the `NN-` prefix of the file (or of the module folder).
    pub prefix_order: Option<u32>,
    /// URL relative to the site root, ending in `/` (`""` for the landing page).
    pub url: String,
    /// For steps: the `rel` of their module's `_index.md`.
    pub parent: Option<String>,
    /// The title in lower case, computed once: it breaks ties when pages
    /// are sorted, on every composition.
    pub sort_title: String,
}

impl SourcePage {
    /// The sort key among siblings: explicit `order`, else the `NN-` prefix,
    /// else after all ordered pages, by title.
    pub fn sort_key(&self) -> (i64, &str, &str) {
        let position = self
            .front
            .order()
            .or(self.prefix_order.map(i64::from))
            .unwrap_or(i64::MAX);
        (position, &self.sort_title, &self.rel)
    }
}
