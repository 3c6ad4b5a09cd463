//! `atelier.yaml`: the masterclass configuration (README.md's "atelier.yaml").
//!
//! Unknown keys are errors with their line, never silently ignored: a typo in
//! `shedule:` must not quietly drop the agenda's clock times.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::duration::{ClockTime, Minutes};
use crate::error::Diagnostic;

/// The file name that marks a project root.
pub const CONFIG_FILE: &str = "atelier.yaml";

/// The masterclass configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The masterclass title (required).
    pub title: String,
    /// Shown under the title.
    #[serde(default)]
    pub subtitle: Option<String>,
    /// The trainer.
    #[serde(default)]
    pub author: Option<String>,
    /// Language of the theme strings, typography and `<html lang>`.
    #[serde(default)]
    pub language: Language,
    /// Absolute URL the site is published at, for the sitemap and canonical links.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Theme name: the embedded `atelier` or a folder under `themes/`.
    #[serde(default = "default_theme")]
    pub theme: String,
    /// Typography rules; defaults to French when the language is French.
    #[serde(default)]
    pub typography: Option<Typography>,
    /// Extra stylesheets from `static/`, linked after the theme's.
    #[serde(default)]
    pub styles: Vec<String>,
    /// Clock times and breaks of the agenda.
    #[serde(default)]
    pub schedule: Schedule,
    /// Thresholds of the uniqueness report.
    #[serde(default)]
    pub uniqueness: Uniqueness,
    /// What `client.*` variables are in the base version.
    #[serde(default)]
    pub client_defaults: ClientDefaults,
    /// Where `atelier publish` puts the base version.
    #[serde(default)]
    pub publish: Option<Publish>,
}

/// A `publish:` block (atelier.yaml for the base version, a client.yaml for
/// that client's): where the version is published and how carefully.
/// The target is kept as written here; `publish::target` reads it, so that
/// a build never depends on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    /// The target as written: a folder, `file://`, `sftp://`, `git+…#branch`
    /// or `s3://bucket/prefix`.
    pub target: String,
    /// A publish that would delete more remote files than this is refused:
    /// a target set to the wrong folder must not be emptied.
    #[serde(default = "default_max_deletes")]
    pub max_deletes: usize,
    /// S3-compatible endpoint (`https://s3.fr-par.scw.cloud`), else AWS's.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// S3 region, else the standard AWS variables'.
    #[serde(default)]
    pub region: Option<String>,
}

/// How many remote files a publish may delete unless told otherwise.
pub const DEFAULT_MAX_DELETES: usize = 256;

fn default_max_deletes() -> usize {
    DEFAULT_MAX_DELETES
}

fn default_theme() -> String {
    "atelier".to_string()
}

/// Supported languages (README.md's "atelier.yaml"): theme strings,
/// `<html lang>` and the default typography. The embedded theme has French and English strings;
/// German, Spanish and Italian versions show English ones until a theme
/// gives its own (`strings: { de: … }` in theme.yaml).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// French (default).
    #[default]
    Fr,
    /// English.
    En,
    /// German.
    De,
    /// Spanish.
    Es,
    /// Italian.
    It,
}

impl Language {
    /// The ISO code used in `<html lang>` and theme string tables.
    pub fn code(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
            Language::De => "de",
            Language::Es => "es",
            Language::It => "it",
        }
    }

    /// Whether text in this language gets French typography when nothing
    /// says otherwise: French spacing belongs to French text only.
    pub fn french_by_default(self) -> bool {
        self == Language::Fr
    }
}

/// Typography rules applied to text (never to code, URLs or attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Typography {
    /// Narrow no-break spaces before `; ! ? :` and inside `« »`.
    French,
    /// Text as written.
    None,
}

/// The agenda's clock.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Clock time of the first module.
    #[serde(default)]
    pub start: Option<ClockTime>,
    /// Breaks, each after a module.
    #[serde(default)]
    pub breaks: Vec<Break>,
}

/// A pause in the agenda.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Break {
    /// Slug of the module the break follows.
    pub after: String,
    /// How long it lasts.
    pub duration: Minutes,
    /// What the agenda calls it (default: the theme's "break" string).
    #[serde(default)]
    pub label: Option<String>,
}

/// Uniqueness report thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uniqueness {
    /// Warn when a client version differs from the base by less than this share.
    #[serde(default = "default_uniqueness_min")]
    pub min: f64,
}

fn default_uniqueness_min() -> f64 {
    0.2
}

impl Default for Uniqueness {
    fn default() -> Self {
        Uniqueness {
            min: default_uniqueness_min(),
        }
    }
}

/// Values of `client.*` variables in the base (no client) version.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientDefaults {
    /// `client.name`.
    #[serde(default)]
    pub name: Option<String>,
    /// `client.sector`.
    #[serde(default)]
    pub sector: Option<String>,
    /// `client.city`.
    #[serde(default)]
    pub city: Option<String>,
    /// `client.audience`.
    #[serde(default)]
    pub audience: Option<String>,
    /// `client.vars.KEY`.
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
}

impl Config {
    /// Parses `atelier.yaml`'s text; `file` is its path relative to the root.
    pub fn parse(text: &str, file: &Path) -> Result<Config, Vec<Diagnostic>> {
        let config: Config = crate::yaml::parse(text, file, 1, CONFIG_FILE).map_err(|d| vec![d])?;
        let mut problems = Vec::new();
        if config.title.trim().is_empty() {
            problems.push(
                Diagnostic::error(file, "`title` is empty")
                    .at_line(line_of_key(text, "title").unwrap_or(1))
                    .with_help(
                        "give the masterclass a title: `title: Raconter l'histoire d'après`",
                    ),
            );
        }
        if let Some(url) = &config.base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            problems.push(
                Diagnostic::error(
                    file,
                    format!("`base_url` must be an absolute http(s) URL, not `{url}`"),
                )
                .at_line(line_of_key(text, "base_url").unwrap_or(1))
                .with_help("write it as `base_url: https://example.org/masterclass/`"),
            );
        }
        if !(0.0..=1.0).contains(&config.uniqueness.min) {
            problems.push(
                Diagnostic::error(file, "`uniqueness.min` must be a share between 0 and 1")
                    .at_line(line_of_key(text, "min").unwrap_or(1))
                    .with_help("for 20 %, write `min: 0.20`"),
            );
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// Whether French typography applies to text in the project's language.
    fn french_typography(&self) -> bool {
        match self.typography {
            Some(t) => t == Typography::French,
            None => self.language.french_by_default(),
        }
    }

    /// Whether French typography applies to a version in `language` whose
    /// client.yaml says `typography` (or nothing). The project's
    /// `typography` is for versions in the project's language: a client
    /// version in another language follows its own language, unless its
    /// client.yaml says otherwise.
    pub fn french_typography_for(
        &self,
        language: Language,
        typography: Option<Typography>,
    ) -> bool {
        match typography {
            Some(t) => t == Typography::French,
            None if language == self.language => self.french_typography(),
            None => language.french_by_default(),
        }
    }
}

/// The 1-based line where `key:` first appears at the start of a line (after
/// indentation), for validation errors found after parsing.
pub fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start().trim_start_matches("- ");
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}
