//! Client profiles (`clients/<slug>/client.yaml`, README.md's "Clients").
//!
//! A client's version is the base content with the client's overlay applied,
//! its module selection and order, its variables, its `only`/`except` blocks
//! and its colours. This module reads and validates the profiles; composition
//! and rendering apply them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Language, Publish, Typography, line_of_key};
use crate::duration::ClockTime;
use crate::error::{Diagnostic, Diagnostics, display_path};

/// The client a version is for, as far as rendering needs it.
#[derive(Debug, Clone, Default, Hash, Serialize)]
pub struct ClientInfo {
    /// Folder name under `clients/`.
    pub slug: String,
    /// `client.name`.
    pub name: String,
    /// `client.sector`.
    pub sector: Option<String>,
    /// `client.city`.
    pub city: Option<String>,
    /// `client.audience`.
    pub audience: Option<String>,
    /// `client.vars.*`.
    pub vars: BTreeMap<String, String>,
    /// Primary colour.
    pub primary: Option<String>,
    /// Accent colour.
    pub accent: Option<String>,
    /// Logo path relative to the output root.
    pub logo: Option<String>,
}

impl ClientInfo {
    /// The value of `client.KEY` (`name`, `sector`, `vars.persona`…).
    pub fn value(&self, key: &str) -> Option<String> {
        match key {
            "slug" => Some(self.slug.clone()),
            "name" => Some(self.name.clone()),
            "sector" => self.sector.clone(),
            "city" => self.city.clone(),
            "audience" => self.audience.clone(),
            _ => key
                .strip_prefix("vars.")
                .and_then(|k| self.vars.get(k).cloned()),
        }
    }
}

/// Folder holding the client profiles.
pub const CLIENTS_DIR: &str = "clients";

/// `client.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    /// The client's name (required): `client.name`.
    pub name: String,
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
    /// Module slugs, in the client's order (default: all, in the base order).
    #[serde(default)]
    pub modules: Option<Vec<String>>,
    /// Colours and logo.
    #[serde(default)]
    pub theme: ClientTheme,
    /// Where this client's version is published.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Language of this version.
    #[serde(default)]
    pub language: Option<Language>,
    /// Typography of this version (default: the project's when the
    /// language is the project's, else French for French only).
    #[serde(default)]
    pub typography: Option<Typography>,
    /// Schedule override (start time).
    #[serde(default)]
    pub schedule: Option<ClientSchedule>,
    /// Where `atelier publish` puts this client's version.
    #[serde(default)]
    pub publish: Option<Publish>,
    /// Whether search engines may index this version: a client's version
    /// is meant for its participants, so it carries `noindex` unless this
    /// says `true`.
    #[serde(default)]
    pub index: bool,
}

/// A client's colours and logo.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientTheme {
    /// Main colour (`#7b3f1d`).
    #[serde(default)]
    pub primary: Option<String>,
    /// Accent colour.
    #[serde(default)]
    pub accent: Option<String>,
    /// Logo file, in the client's `static/` (or the project's).
    #[serde(default)]
    pub logo: Option<String>,
}

/// A client's schedule override.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSchedule {
    /// Clock time of the first module.
    #[serde(default)]
    pub start: Option<ClockTime>,
}

/// A loaded, validated client.
#[derive(Debug, Clone)]
pub struct Client {
    /// Folder name under `clients/`.
    pub slug: String,
    /// `clients/<slug>/client.yaml`, relative to the root.
    pub file: PathBuf,
    /// Its text, to point later errors at the right line.
    pub text: String,
    /// The parsed profile.
    pub profile: ClientFile,
}

impl Client {
    /// The overlay content folder, relative to the project root.
    pub fn content_dir(&self) -> PathBuf {
        Path::new(CLIENTS_DIR).join(&self.slug).join("content")
    }

    /// The overlay static folder, relative to the project root.
    pub fn static_dir(&self) -> PathBuf {
        Path::new(CLIENTS_DIR).join(&self.slug).join("static")
    }

    /// What rendering needs to know of this client.
    pub fn info(&self) -> ClientInfo {
        let p = &self.profile;
        ClientInfo {
            slug: self.slug.clone(),
            name: p.name.clone(),
            sector: p.sector.clone(),
            city: p.city.clone(),
            audience: p.audience.clone(),
            vars: p.vars.clone(),
            primary: p.theme.primary.clone(),
            accent: p.theme.accent.clone(),
            logo: p.theme.logo.clone(),
        }
    }

    /// Line of the first line of `client.yaml` containing `needle`.
    pub fn line_of(&self, needle: &str) -> usize {
        self.text
            .lines()
            .position(|l| l.contains(needle))
            .map_or(1, |i| i + 1)
    }
}

/// Reads every `clients/<slug>/client.yaml` (sorted by slug): the clients
/// read, and what is wrong with the others in `diagnostics`.
pub fn load_all(root: &Path, diagnostics: &Diagnostics) -> Vec<Client> {
    let dir = root.join(CLIENTS_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut slugs: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !crate::content::is_ignored_name(name))
        .collect();
    slugs.sort();
    let mut clients = Vec::new();
    for slug in slugs {
        let file = Path::new(CLIENTS_DIR).join(&slug).join("client.yaml");
        match load_one(root, &slug, &file) {
            Ok(client) => clients.push(client),
            Err(errors) => diagnostics.extend(errors),
        }
    }
    clients
}

fn load_one(root: &Path, slug: &str, file: &Path) -> Result<Client, Vec<Diagnostic>> {
    let bytes = std::fs::read(root.join(file)).map_err(|_| {
        vec![
            Diagnostic::error(file, "a client folder without client.yaml").with_help(
                "add client.yaml with at least `name: …`, or run `atelier new client \"Name\"`",
            ),
        ]
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        vec![
            Diagnostic::error(file, "the file is not valid UTF-8 text")
                .with_help("save it with the UTF-8 encoding"),
        ]
    })?;
    let profile: ClientFile =
        crate::yaml::parse(&text, file, 1, "client.yaml").map_err(|d| vec![d])?;
    let client = Client {
        slug: slug.to_string(),
        file: file.to_path_buf(),
        text,
        profile,
    };
    let mut problems = Vec::new();
    if crate::slug::slugify(slug) != slug {
        problems.push(
            Diagnostic::error(file, format!("client folder `{slug}` is not a URL slug")).with_help(
                format!("rename the folder to `{}`", crate::slug::slugify(slug)),
            ),
        );
    }
    if client.profile.name.trim().is_empty() {
        problems.push(
            Diagnostic::error(file, "`name` is empty")
                .at_line(line_of_key(&client.text, "name").unwrap_or(1))
                .with_help(
                    "the client's name is what makes its version personal: `name: Maison Lemoine`",
                ),
        );
    }
    for (key, value) in [
        ("primary", &client.profile.theme.primary),
        ("accent", &client.profile.theme.accent),
    ] {
        if let Some(colour) = value
            && !is_css_colour(colour)
        {
            problems.push(
                Diagnostic::error(file, format!("`{key}` is not a colour: `{colour}`"))
                    .at_line(line_of_key(&client.text, key).unwrap_or_else(|| client.line_of(key)))
                    .with_help("write a hex colour such as \"#7b3f1d\" (quoted), or rgb(…)/hsl(…)"),
            );
        }
    }
    if let Some(logo) = &client.profile.theme.logo {
        let exists = !logo.contains("..")
            && (root.join(client.static_dir()).join(logo).is_file()
                || root.join("static").join(logo).is_file());
        if !exists {
            problems.push(
                Diagnostic::error(file, format!("logo `{logo}` not found"))
                    .at_line(client.line_of("logo"))
                    .with_help(format!(
                        "put the file at {}/{logo} (or in the project's static/)",
                        display_path(&client.static_dir())
                    )),
            );
        }
    }
    if let Some(url) = &client.profile.base_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        problems.push(
            Diagnostic::error(
                file,
                format!("`base_url` must be an absolute http(s) URL, not `{url}`"),
            )
            .at_line(line_of_key(&client.text, "base_url").unwrap_or(1)),
        );
    }
    if problems.is_empty() {
        Ok(client)
    } else {
        Err(problems)
    }
}

/// Accepts the colour forms that cannot break out of a CSS declaration.
fn is_css_colour(value: &str) -> bool {
    let value = value.trim();
    if let Some(hex) = value.strip_prefix('#') {
        return matches!(hex.len(), 3 | 4 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    let functional = ["rgb(", "rgba(", "hsl(", "hsla(", "oklch(", "oklab("]
        .iter()
        .any(|f| value.starts_with(f))
        && value.ends_with(')')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " .,%()/-".contains(c));
    functional || (!value.is_empty() && value.chars().all(|c| c.is_ascii_alphabetic()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours() {
        for ok in [
            "#7b3f1d",
            "#fff",
            "rgb(10, 20, 30)",
            "hsl(20 50% 40%)",
            "navy",
        ] {
            assert!(is_css_colour(ok), "{ok}");
        }
        for bad in ["#12", "red; background: url(x)", "</style>", "", "#gggggg"] {
            assert!(!is_css_colour(bad), "{bad}");
        }
    }
}
