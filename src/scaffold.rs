//! `atelier init` and `atelier new`: starting a masterclass, and adding a
//! module, an exercise or a client to one.
//!
//! An empty folder is the hardest place to start writing, and a copied
//! example is where generic workshops come from. `init` writes a small but
//! complete French masterclass (embedded in the binary from `scaffold/`, so
//! it works without a source checkout) that builds and checks cleanly, and
//! `new` writes files whose front matter documents every key, in French, the
//! author's language. Neither ever overwrites a file: what exists is kept
//! byte for byte, and refusals are usage errors (exit code 2).

use std::fmt::{self, Write as _};
use std::fs;
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};

use crate::client::CLIENTS_DIR;
use crate::config::{CONFIG_FILE, Config};
use crate::error::{Error, Result, display_path};
use crate::slug::{slugify, split_order_prefix, stem_slug};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_scaffold.rs"));
}

/// The embedded file written as `.gitignore` (dot files are not embedded).
const GITIGNORE_SOURCE: &str = "gitignore";

/// What `atelier init` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitReport {
    /// The folder, as the user named it (for the `cd` hint).
    pub dir: PathBuf,
    /// Files written, relative to `dir`.
    pub created: Vec<PathBuf>,
    /// Files that already existed and were left untouched, relative to `dir`.
    pub skipped: Vec<PathBuf>,
}

/// The files `atelier init` writes: `(path relative to the project, bytes)`,
/// with `atelier.yaml` last, so that an interrupted `init` can be run again
/// (it refuses to run where `atelier.yaml` exists).
pub fn starter_files() -> Vec<(String, &'static [u8])> {
    let mut files: Vec<(String, &'static [u8])> = embedded::SCAFFOLD_FILES
        .iter()
        .map(|(rel, bytes)| {
            let rel = if *rel == GITIGNORE_SOURCE {
                ".gitignore".to_string()
            } else {
                (*rel).to_string()
            };
            (rel, *bytes)
        })
        .collect();
    files.sort_by_key(|(rel, _)| rel == CONFIG_FILE);
    files
}

/// The configuration `atelier init` writes: what it holds for the author to
/// replace (its `author`) is a placeholder `check` warns about while it is
/// still there.
pub fn starter_config() -> Option<Config> {
    let (_, bytes) = starter_files()
        .into_iter()
        .find(|(rel, _)| rel == CONFIG_FILE)?;
    Config::parse(std::str::from_utf8(bytes).ok()?, Path::new(CONFIG_FILE)).ok()
}

/// Writes the starter masterclass into `dir` (created if needed).
///
/// Existing files are never overwritten: they are skipped and listed in the
/// report.
///
/// # Errors
///
/// A usage error when `dir` already holds an `atelier.yaml` or is not a
/// folder; an I/O error when a folder or file cannot be written.
pub fn init(dir: &Path) -> Result<InitReport> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{} exists and is not a folder: give `atelier init` a new or existing folder",
            display_path(dir)
        )));
    }
    let config = dir.join(CONFIG_FILE);
    if fs::symlink_metadata(&config).is_ok() {
        let shown = display_path(&config);
        return Err(Error::Usage(format!(
            "{} already exists: this folder already holds a masterclass, and `atelier init` never overwrites a file; nothing was written (use `atelier new module \"Titre\"` to add to it, or init another folder)",
            shown.strip_prefix("./").unwrap_or(&shown)
        )));
    }
    fs::create_dir_all(dir).map_err(|e| Error::io("cannot create the folder", dir, e))?;
    let mut report = InitReport {
        dir: dir.to_path_buf(),
        ..InitReport::default()
    };
    for (rel, bytes) in starter_files() {
        let target = dir.join(&rel);
        if write_new(&target, bytes)? {
            report.created.push(PathBuf::from(rel));
        } else {
            report.skipped.push(PathBuf::from(rel));
        }
    }
    Ok(report)
}

impl fmt::Display for InitReport {
    /// The summary `atelier init` prints: files written, files kept, and the
    /// next commands to run.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = display_path(&self.dir);
        let here = shown.is_empty() || shown == ".";
        let place = if here {
            "this folder".to_string()
        } else {
            shown.clone()
        };
        writeln!(
            f,
            "Created a masterclass in {place} ({}):",
            crate::plural::count(self.created.len(), "file", "files")
        )?;
        for file in &self.created {
            writeln!(f, "  {}", display_path(file))?;
        }
        if !self.skipped.is_empty() {
            writeln!(
                f,
                "Kept {} untouched (not overwritten):",
                crate::plural::count(self.skipped.len(), "existing file", "existing files")
            )?;
            for file in &self.skipped {
                writeln!(f, "  {}", display_path(file))?;
            }
        }
        writeln!(f, "Next:")?;
        if !here {
            writeln!(f, "  cd {}", shell_quote(&shown))?;
        }
        writeln!(
            f,
            "  atelier serve     # live preview; or `atelier build` to write the site into public/"
        )
    }
}

/// What `atelier new` creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewKind {
    /// `content/modules/NN-slug.md`.
    Module,
    /// `content/exercises/slug.md`.
    Exercise,
    /// `clients/slug/client.yaml` and `clients/slug/content/`.
    Client,
}

/// Creates a module, exercise or client named `title` in the project at
/// `root`, and returns the created file's path relative to `root`.
///
/// # Errors
///
/// A usage error when the title has no letter or digit, or when a file (or a
/// module or exercise with the same URL) already exists; an I/O error when
/// writing fails.
pub fn create(root: &Path, kind: NewKind, title: &str) -> Result<PathBuf> {
    create_in(root, kind, title).map_err(|error| relative_to_root(root, error))
}

fn create_in(root: &Path, kind: NewKind, title: &str) -> Result<PathBuf> {
    let title = title.trim();
    let slug = file_slug(title);
    if slug.is_empty() {
        return Err(Error::Usage(format!(
            "cannot make a file name from {title:?}: give a title with at least one letter or digit, e.g. `atelier new module \"La confiance se mérite\"`"
        )));
    }
    let (rel, text) = match kind {
        NewKind::Module => {
            let dir = Path::new("content").join("modules");
            let existing = same_slug(&root.join(&dir), &slug);
            refuse_duplicate(existing, "module", &slug, &dir)?;
            let number = next_prefix(&root.join(&dir));
            let rel = dir.join(format!("{number:02}-{slug}.md"));
            (rel, module_text(title))
        }
        NewKind::Exercise => {
            let dir = Path::new("content").join("exercises");
            let existing = same_slug(&root.join(&dir), &slug);
            refuse_duplicate(existing, "exercise", &slug, &dir)?;
            (dir.join(format!("{slug}.md")), exercise_text(title))
        }
        NewKind::Client => {
            let rel = Path::new(CLIENTS_DIR).join(&slug).join("client.yaml");
            let modules = module_slugs(&root.join("content").join("modules"));
            (rel, client_text(title, &slug, &modules))
        }
    };
    let target = root.join(&rel);
    if !write_new(&target, text.as_bytes())? {
        return Err(Error::Usage(format!(
            "{} already exists; `atelier new` never overwrites a file: edit it, or choose another title",
            display_path(&rel)
        )));
    }
    if kind == NewKind::Client {
        let content = root.join(CLIENTS_DIR).join(&slug).join("content");
        fs::create_dir_all(&content)
            .map_err(|e| Error::io("cannot create the folder", &content, e))?;
    }
    Ok(rel)
}

/// The longest slug `atelier new` makes from a title, in bytes (slugs are
/// ASCII). A slug becomes a file or folder name and a URL segment: file
/// systems refuse names past 255 bytes (a 300-character title gave a raw
/// "File name too long"), and a URL past a few words is unreadable. Sixty
/// keeps eight to ten words, and the `NN-` prefix and `.md` well inside
/// every limit.
const MAX_SLUG: usize = 60;

/// The slug of `title` for a new file or folder, cut to [`MAX_SLUG`] at a
/// word boundary (mid-word only when the first word alone is longer). The
/// title itself is kept whole in the front matter.
fn file_slug(title: &str) -> String {
    let slug = slugify(title);
    if slug.len() <= MAX_SLUG {
        return slug;
    }
    let cut = match slug[..=MAX_SLUG].rfind('-') {
        Some(dash) if dash > 0 => dash,
        _ => MAX_SLUG,
    };
    slug[..cut].trim_end_matches('-').to_string()
}

/// An I/O error of `atelier new` names its file relative to the project
/// root, as the "Created ..." line and every content error do.
fn relative_to_root(root: &Path, error: Error) -> Error {
    match error {
        Error::Io {
            action,
            path,
            source,
        } => {
            let path = path
                .strip_prefix(root)
                .map_or(path.clone(), Path::to_path_buf);
            Error::Io {
                action,
                path,
                source,
            }
        }
        other => other,
    }
}

/// Writes `bytes` to `path` (creating its folders) unless something is
/// already there. Returns `false` when the file existed, which is then left
/// untouched.
fn write_new(path: &Path, bytes: &[u8]) -> Result<bool> {
    if fs::symlink_metadata(path).is_ok() {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io("cannot create the folder", parent, e))?;
    }
    // `create_new` fails rather than truncates if the file appeared meanwhile.
    let mut file = match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(Error::io("cannot create", path, e)),
    };
    file.write_all(bytes)
        .map_err(|e| Error::io("cannot write", path, e))?;
    Ok(true)
}

/// `(name, stem)` of the Markdown files and folders directly in `dir`,
/// sorted by name (`02-la-confiance.md` → `02-la-confiance`).
fn stems(dir: &Path) -> Vec<(String, String)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut stems: Vec<(String, String)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                return None;
            }
            let stem = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                name.clone()
            } else {
                name.strip_suffix(".md")?.to_string()
            };
            Some((name, stem))
        })
        .collect();
    stems.sort();
    stems
}

/// The name of the file or folder in `dir` whose URL slug is `slug`, if any.
fn same_slug(dir: &Path, slug: &str) -> Option<String> {
    stems(dir)
        .into_iter()
        .find(|(_, stem)| stem_slug(stem) == slug)
        .map(|(name, _)| name)
}

fn refuse_duplicate(existing: Option<String>, what: &str, slug: &str, dir: &Path) -> Result<()> {
    match existing {
        Some(name) => Err(Error::Usage(format!(
            "{}/{name} already has the URL name `{slug}`; `atelier new` never overwrites a file and two {what}s cannot share a URL: edit that one, or choose another title",
            display_path(dir)
        ))),
        None => Ok(()),
    }
}

/// The next `NN-` ordering prefix in `dir`: the largest existing one plus 1.
fn next_prefix(dir: &Path) -> u32 {
    stems(dir)
        .iter()
        .filter_map(|(_, stem)| split_order_prefix(stem).0)
        .max()
        .map_or(1, |max| max.saturating_add(1))
}

/// The URL slugs of the project's modules, in prefix order.
fn module_slugs(dir: &Path) -> Vec<String> {
    let mut modules: Vec<(Option<u32>, String)> = stems(dir)
        .iter()
        .map(|(_, stem)| (split_order_prefix(stem).0, stem_slug(stem)))
        .filter(|(_, slug)| !slug.is_empty())
        .collect();
    modules.sort();
    modules.into_iter().map(|(_, slug)| slug).collect()
}

/// `text` as a YAML double-quoted scalar.
fn yaml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` quoted for a POSIX shell when it needs it.
fn shell_quote(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_' | '~'));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

fn module_text(title: &str) -> String {
    let title = yaml_string(title);
    format!(
        r#"---
# Titre du module : dans l'agenda, le sommaire et en tête de page (obligatoire).
title: {title}
# Ce que le module promet aux participants, en une phrase.
# summary: "Pourquoi un message personnel vaut cent messages génériques."
# Description pour les moteurs de recherche (par défaut : le résumé).
# description: "..."
# Position dans l'agenda ; sans elle, le préfixe NN- du nom de fichier décide.
# order: 3
# Durée dans l'agenda : 45, 45 min, 1h30, 1 h 30, 90m.
duration: 30 min
# L'émotion que ce module fait ressentir au public, et son intensité (1 à 5) :
# chaque module est un point de l'arc émotionnel de la page d'accueil, nommé
# par son émotion. Choisissez les vôtres (ou commentez les deux lignes pour
# laisser ce module hors de l'arc).
emotion: confiance
intensity: 3
# Ce que les participants sauront faire en sortant.
objectives:
  - "Un objectif concret, formulé du point de vue du participant."
# Identifiants des exercices (content/exercises/<id>.md) listés après le texte.
# exercises: [lettre-personnalisee]
# true : le module est ignoré, sauf avec `atelier build --drafts`.
draft: false
# Réserver le module à certains clients, ou l'exclure pour d'autres.
# clients: {{ only: [maison-lemoine], except: [] }}
# Un gabarit particulier (templates/<nom>.html) au lieu de celui du thème.
# template: module
---

## Ce que vivent vos participants

Écrivez ici le module, en Markdown. Parlez de vrais clients, avec leurs mots :
c'est ce qui rend une formation mémorable. `{{{{ client.name }}}}` devient le nom
du client dans sa version.

::: story
Racontez une histoire vraie : une personne, un moment précis, et ce qui a
changé pour elle ensuite.
:::

::: facilitator
Vos notes d'animation : elles n'apparaissent jamais dans les pages des
participants, seulement dans la version animateur (`atelier build --facilitator`).
:::
"#
    )
}

fn exercise_text(title: &str) -> String {
    let title = yaml_string(title);
    format!(
        r#"---
# Titre de l'exercice (obligatoire).
title: {title}
# Le type d'exercice :
#   worksheet    une fiche à remplir (les champs ci-dessous)
#   reflection   des questions ouvertes, une réponse libre chacune (mêmes champs)
#   journey-map  le parcours d'un client, étape par étape (avec `stages`)
#   empathy-map  ce que le client dit, pense, fait et ressent
#   roi          temps, coûts et revenus : le vrai retour d'un canal
kind: worksheet
# Durée : 20, 20 min, 1h, 90m.
duration: 20 min
# Ce que les participants repartent avec, en une phrase.
objective: "Repartir avec un message écrit pour un client réel."
# Les champs à remplir (worksheet et reflection). `type` : text, textarea,
# number, scale (de 1 à 5) ou choice (avec `options: [...]`).
fields:
  - {{ id: destinataire, label: "À qui pensez-vous ? (un client réel, avec son prénom)", type: text, placeholder: "Par exemple : Mme Royer, cliente depuis 2021" }}
  - {{ id: message, label: "Votre message, pour cette personne seule", type: textarea }}
# Étapes du parcours (journey-map seulement).
# stages: [Découverte, Premier contact, Achat, Après]
# true : l'exercice est ignoré, sauf avec `atelier build --drafts`.
# draft: false
# Réserver l'exercice à certains clients.
# clients: {{ only: [maison-lemoine], except: [] }}
---

Expliquez ici la consigne : ce que chacun fait, seul ou en binôme, et ce qu'il
en fera ensuite. Les réponses restent dans le navigateur du participant.
"#
    )
}

fn client_text(name: &str, slug: &str, modules: &[String]) -> String {
    let quoted = yaml_string(name);
    let modules = if modules.is_empty() {
        "la-confiance-se-merite, histoire-d-apres".to_string()
    } else {
        modules.join(", ")
    };
    format!(
        r##"# Le profil de {quoted} : sa version de la masterclass est publiée dans
# public/clients/{slug}/. Ses pages propres vont dans clients/{slug}/content/
# (même chemin qu'une page de content/ : la remplace ; nouveau chemin : l'ajoute ;
# `remove: true` en front matter : la masque), ses fichiers dans clients/{slug}/static/.

# Le nom du client (obligatoire) : {{{{ client.name }}}}.
name: {quoted}
# Son secteur : {{{{ client.sector }}}}, et les blocs `::: only sector="..."`.
# sector: "chocolaterie artisanale"
# Sa ville : {{{{ client.city }}}}.
# city: "Lille"
# Qui sera dans la salle : {{{{ client.audience }}}}.
# audience: "La gérante et les trois vendeuses de la boutique"
# Ses exemples à lui : {{{{ client.vars.persona }}}}, {{{{ client.vars.produit }}}}...
# vars:
#   persona: "Claire, 41 ans, fidèle depuis dix ans"
#   produit: "le coffret de Noël"
# Les modules de sa version, dans son ordre (par défaut : tous, dans l'ordre de base).
# modules: [{modules}]
# Ses couleurs et son logo (un fichier de clients/{slug}/static/).
# theme: {{ primary: "#7b3f1d", accent: "#e9c46a", logo: logo.svg }}
# L'adresse où sa version sera publiée.
# base_url: https://formations.example.org/{slug}/
# La langue de sa version : fr, en, de, es ou it.
# language: fr
# Sa typographie : french (espaces fines avant ; ! ? :) ou none ; par défaut,
# celle d'atelier.yaml si la langue est la même, french pour le français seulement.
# typography: french
# L'heure de début de sa session.
# schedule: {{ start: "14:00" }}
"##
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_strings_are_quoted() {
        assert_eq!(yaml_string("L'été"), "\"L'été\"");
        assert_eq!(yaml_string("Dire \"merci\""), "\"Dire \\\"merci\\\"\"");
        assert_eq!(yaml_string("a\\b\nc"), "\"a\\\\b c\"");
        assert_eq!(yaml_string("x\u{7}"), "\"x\\u0007\"");
    }

    #[test]
    fn templates_are_valid_yaml() {
        for title in ["L'été « chaud » : \"vraiment\" ?", "#1 {{ client.name }}"] {
            for text in [module_text(title), exercise_text(title)] {
                let front = crate::content::frontmatter::split(&text)
                    .ok()
                    .and_then(|s| s.front)
                    .unwrap_or_default();
                let value: Result<serde_json::Value, _> = yaml_serde::from_str(front);
                let value = value.unwrap_or_else(|e| panic!("{e}\n{front}"));
                assert_eq!(value["title"], title.trim());
            }
            let client = client_text(title, "x", &[]);
            let value: serde_json::Value =
                yaml_serde::from_str(&client).unwrap_or_else(|e| panic!("{e}\n{client}"));
            assert_eq!(value["name"], title);
        }
    }

    #[test]
    fn long_titles_make_slugs_cut_at_a_word() {
        let title = "Une très longue consigne ".repeat(12);
        assert_eq!(
            file_slug(&title),
            "une-tres-longue-consigne-une-tres-longue-consigne-une-tres"
        );
        assert_eq!(file_slug(&"x".repeat(200)), "x".repeat(MAX_SLUG));
        assert_eq!(file_slug("La confiance"), "la-confiance");
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("mon-atelier"), "mon-atelier");
        assert_eq!(shell_quote("mon atelier"), "'mon atelier'");
        assert_eq!(shell_quote("l'atelier"), "'l'\\''atelier'");
    }

    #[test]
    fn starter_project_is_embedded_with_config_last() {
        let files = starter_files();
        assert!(files.len() >= 8);
        assert_eq!(files.last().map(|(rel, _)| rel.as_str()), Some(CONFIG_FILE));
        assert!(files.iter().any(|(rel, _)| rel == ".gitignore"));
        assert!(files.iter().any(|(rel, _)| rel == "content/_index.md"));
        assert!(starter_config().is_some_and(|c| c.author.is_some()));
    }
}
