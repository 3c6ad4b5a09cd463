//! Themes: templates, static files and interface strings.
//!
//! The default theme `atelier` is embedded in the binary (see `build.rs`), so a
//! project builds with nothing but the executable. A project overrides it file
//! by file: `themes/<name>/…` replaces theme files by relative path and
//! `templates/<name>.html` replaces a template by name. Templates are compiled
//! once per build and shared by every page and client version.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use std::sync::RwLock;
use tera::Tera;

use crate::markdown::directives::{KNOWN_KINDS, Wrapper, is_kind_name};

use crate::config::{CONFIG_FILE, Config, line_of_key};
use crate::error::{Diagnostic, display_path};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// Name of the embedded default theme.
pub const DEFAULT_THEME: &str = "atelier";

/// A file of the theme, wherever it came from.
#[derive(Debug, Clone)]
pub struct ThemeFile {
    /// Path relative to the theme root (`static/atelier.css`).
    pub rel: String,
    /// Its bytes.
    pub bytes: Cow<'static, [u8]>,
    /// Where it came from, for messages (`themes/atelier/templates/base.html`).
    pub origin: String,
}

/// A static file of the theme, copied under `<output>/static/` in every
/// version: its bytes are one `Arc` all versions share (the preview holds
/// them once, a build writes them once and links them).
#[derive(Debug, Clone)]
pub struct ThemeStatic {
    /// Path under `static/` (`atelier.css`).
    pub rel: String,
    /// Its bytes.
    pub bytes: std::sync::Arc<[u8]>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
    #[serde(default)]
    strings: BTreeMap<String, BTreeMap<String, String>>,
}

/// A loaded theme: compiled templates, static files, strings per language.
pub struct Theme {
    /// Distinguishes every loaded theme in a process, so pages rendered with
    /// an older one are never reused by the preview server.
    pub generation: u64,
    /// Compiled templates, by name (`base.html`, `partials/exercise.html`).
    pub tera: Tera,
    /// Files to copy under `<output>/static/`.
    pub static_files: Vec<ThemeStatic>,
    /// The workbook PDF's Typst files, by path under `pdf/`
    /// (`workbook.typ`, `directives/KIND.typ`): the theme's `pdf/`, with the
    /// project's `templates/pdf/` over it. Kept apart from the HTML
    /// templates, which Tera compiles.
    pub pdf_files: BTreeMap<String, ThemeFile>,
    strings: BTreeMap<String, BTreeMap<String, String>>,
    origins: HashMap<String, String>,
    /// Every directive kind with a template (`directives/KIND.html`).
    directives: BTreeMap<String, DirectiveTemplate>,
    /// The kinds among them that are not built in, sorted.
    extra_directives: Vec<String>,
    /// Directive wrappers already rendered, for templates whose output
    /// depends only on the key (see [`DirectiveTemplate::per_page`]).
    wrappers: RwLock<HashMap<WrapperKey, Wrapper>>,
}

/// What atelier knows of a directive kind's template.
#[derive(Debug, Clone, Copy)]
pub struct DirectiveTemplate {
    /// Does its output depend on the page or the client (it reads `page`,
    /// `client` or `site`, or includes another template)? Then it is
    /// rendered for each page and version; otherwise once per attributes,
    /// language and view.
    pub per_page: bool,
}

/// A directive wrapper's identity when it depends on nothing else: kind,
/// attributes, page language, version language, facilitator view.
pub type WrapperKey = (String, Vec<(String, String)>, String, String, bool);

impl std::fmt::Debug for Theme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Theme")
            .field("templates", &self.origins.keys().collect::<Vec<_>>())
            .field("static_files", &self.static_files.len())
            .finish()
    }
}

impl Theme {
    /// Loads the theme named in `config`, with the project's overrides.
    pub fn load(root: &Path, config: &Config, config_text: &str) -> Result<Theme, Vec<Diagnostic>> {
        let mut files: BTreeMap<String, ThemeFile> = BTreeMap::new();
        let theme_dir = PathBuf::from("themes").join(&config.theme);
        if config.theme == DEFAULT_THEME {
            for (rel, bytes) in embedded::THEME_FILES {
                files.insert(
                    (*rel).to_string(),
                    ThemeFile {
                        rel: (*rel).to_string(),
                        bytes: Cow::Borrowed(bytes),
                        origin: format!("themes/atelier/{rel} (built in)"),
                    },
                );
            }
        } else if !root.join(&theme_dir).is_dir() {
            return Err(vec![
                Diagnostic::error(CONFIG_FILE, format!("theme `{}` not found", config.theme))
                    .at_line(line_of_key(config_text, "theme").unwrap_or(1))
                    .with_help(format!(
                        "create {}/ or use the built-in theme: `theme: atelier`",
                        display_path(&theme_dir)
                    )),
            ]);
        }
        let mut problems = Vec::new();
        read_tree(root, &theme_dir, "", &mut files, &mut problems);
        if config.theme != DEFAULT_THEME {
            builtin_directives(&mut files);
        }
        read_tree(
            root,
            Path::new("templates"),
            "templates/",
            &mut files,
            &mut problems,
        );

        let manifest: Manifest = match files.get("theme.yaml") {
            Some(file) => {
                let text = String::from_utf8_lossy(&file.bytes);
                crate::yaml::parse(
                    &text,
                    Path::new(file.origin.trim_end_matches(" (built in)")),
                    1,
                    "theme.yaml",
                )
                .unwrap_or_else(|d| {
                    problems.push(d);
                    Manifest::default()
                })
            }
            None => Manifest::default(),
        };

        let mut origins = HashMap::new();
        let mut directives = BTreeMap::new();
        let mut sources = Vec::new();
        let mut static_files = Vec::new();
        let mut pdf_files = BTreeMap::new();
        for (rel, file) in files {
            // `pdf/` sorts before `templates/`: the project's file replaces
            // the theme's of the same name.
            if let Some(name) = rel
                .strip_prefix("pdf/")
                .or_else(|| rel.strip_prefix("templates/pdf/"))
            {
                pdf_files.insert(name.to_string(), file);
            } else if let Some(name) = rel.strip_prefix("templates/") {
                match std::str::from_utf8(&file.bytes) {
                    Ok(text) => {
                        if let Some(kind) = directive_kind(name) {
                            directives.insert(
                                kind.to_string(),
                                DirectiveTemplate {
                                    per_page: reads_page_or_client(text),
                                },
                            );
                        }
                        origins.insert(name.to_string(), file.origin.clone());
                        sources.push((name.to_string(), text.to_string()));
                    }
                    Err(_) => problems.push(
                        Diagnostic::error(&file.origin, "template is not valid UTF-8 text")
                            .with_help("save it with the UTF-8 encoding"),
                    ),
                }
            } else if let Some(rel) = rel.strip_prefix("static/") {
                static_files.push(ThemeStatic {
                    rel: rel.to_string(),
                    bytes: std::sync::Arc::from(&file.bytes[..]),
                });
            }
        }
        let mut tera = Tera::new();
        if let Err(error) =
            tera.add_raw_templates(sources.iter().map(|(n, t)| (n.as_str(), t.as_str())))
        {
            let reports = parse_reports(&error.to_string());
            if reports.len() > 1 {
                for (message, name, line, column) in reports {
                    let origin = origins.get(&name).cloned().unwrap_or(name);
                    problems.push(
                        Diagnostic::error(origin, format!("template error: {message}"))
                            .at(line, column)
                            .with_help("see the template syntax in docs/themes.md (Tera 2)"),
                    );
                }
            } else {
                problems.push(template_diagnostic(&error, &origins, None));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Ok(Theme {
            generation: GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            tera,
            static_files,
            pdf_files,
            strings: manifest.strings,
            origins,
            extra_directives: directives
                .keys()
                .filter(|kind| !KNOWN_KINDS.contains(&kind.as_str()))
                .cloned()
                .collect(),
            directives,
            wrappers: RwLock::default(),
        })
    }

    /// The interface strings for `language`, English filling the gaps.
    pub fn strings(&self, language: &str) -> BTreeMap<String, String> {
        let mut merged = self.strings.get("en").cloned().unwrap_or_default();
        if let Some(own) = self.strings.get(language) {
            merged.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        merged
    }

    /// Whether a template of that name exists.
    pub fn has_template(&self, name: &str) -> bool {
        self.origins.contains_key(name)
    }

    /// The template of directive kind `kind`, if there is one.
    pub fn directive(&self, kind: &str) -> Option<DirectiveTemplate> {
        self.directives.get(kind).copied()
    }

    /// The directive kinds defined by templates beyond the built-in ones
    /// (a project's or a theme's), sorted.
    pub fn extra_directives(&self) -> &[String] {
        &self.extra_directives
    }

    /// Where template `name` comes from, for messages
    /// (`templates/directives/temoignage.html`).
    pub fn origin<'a>(&'a self, name: &'a str) -> &'a str {
        self.origins
            .get(name)
            .map_or(name, String::as_str)
            .trim_end_matches(" (built in)")
    }

    /// The wrapper rendered earlier under `key`.
    pub fn remembered_wrapper(&self, key: &WrapperKey) -> Option<Wrapper> {
        let wrappers = self.wrappers.read().unwrap_or_else(|p| p.into_inner());
        wrappers.get(key).cloned()
    }

    /// Keeps `wrapper` for the next directive with the same `key`.
    pub fn remember_wrapper(&self, key: WrapperKey, wrapper: Wrapper) {
        let mut wrappers = self.wrappers.write().unwrap_or_else(|p| p.into_inner());
        wrappers.insert(key, wrapper);
    }

    /// Turns a rendering error into a diagnostic naming the template file and,
    /// as context, the page being rendered.
    pub fn render_error(&self, error: &tera::Error, page: &Path) -> Diagnostic {
        template_diagnostic(error, &self.origins, Some(page))
    }
}

/// The kind a template defines, for `directives/KIND.html`.
fn directive_kind(template: &str) -> Option<&str> {
    template
        .strip_prefix("directives/")?
        .strip_suffix(".html")
        .filter(|kind| is_kind_name(kind))
}

/// Whether a directive template's output may depend on more than its
/// attributes, language and view: it names the page, the client or the
/// site, or pulls in other templates (which might).
fn reads_page_or_client(text: &str) -> bool {
    [
        "page", "client", "site", "include", "import", "extends", "macro",
    ]
    .iter()
    .any(|word| text.contains(word))
}

/// The built-in directive templates (HTML and PDF) and workbook template a
/// theme other than `atelier` lacks: a built-in kind always has a template,
/// and every version can make its workbook, so a project's theme need not
/// copy them to build.
fn builtin_directives(files: &mut BTreeMap<String, ThemeFile>) {
    for (rel, bytes) in embedded::THEME_FILES {
        if (rel.starts_with("templates/directives/") || rel.starts_with("pdf/"))
            && !files.contains_key(*rel)
        {
            files.insert(
                (*rel).to_string(),
                ThemeFile {
                    rel: (*rel).to_string(),
                    bytes: Cow::Borrowed(bytes),
                    origin: format!("themes/atelier/{rel} (built in)"),
                },
            );
        }
    }
}

fn read_tree(
    root: &Path,
    dir: &Path,
    prefix: &str,
    files: &mut BTreeMap<String, ThemeFile>,
    problems: &mut Vec<Diagnostic>,
) {
    let base = root.join(dir);
    if !base.is_dir() {
        return;
    }
    for entry in walkdir::WalkDir::new(&base)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0 || !crate::content::is_ignored_name(&e.file_name().to_string_lossy())
        })
    {
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(&base) else {
            continue;
        };
        let rel = format!("{prefix}{}", display_path(rel));
        let origin = display_path(&dir.join(rel.trim_start_matches(prefix)));
        match std::fs::read(entry.path()) {
            Ok(bytes) => {
                files.insert(
                    rel.clone(),
                    ThemeFile {
                        rel,
                        bytes: Cow::Owned(bytes),
                        origin,
                    },
                );
            }
            Err(error) => problems.push(Diagnostic::error(origin, format!("cannot read: {error}"))),
        }
    }
}

fn template_diagnostic(
    error: &tera::Error,
    origins: &HashMap<String, String>,
    page: Option<&Path>,
) -> Diagnostic {
    let context = page
        .map(|p| format!(" (while rendering {})", display_path(p)))
        .unwrap_or_default();
    match error.kind() {
        tera::ErrorKind::SyntaxError(report) | tera::ErrorKind::RenderingError(report) => {
            let origin = origins
                .get(report.filename())
                .cloned()
                .unwrap_or_else(|| report.filename().to_string());
            let span = report.span();
            Diagnostic::error(
                origin,
                format!("template error: {}{context}", report.message()),
            )
            .at(span.start_line.max(1), span.start_col + 1)
            .with_help("see the template syntax in docs/themes.md (Tera 2)")
        }
        _ => {
            let reports = parse_reports(&error.to_string());
            if let Some((message, name, line, column)) = reports.into_iter().next() {
                let origin = origins.get(&name).cloned().unwrap_or(name);
                return Diagnostic::error(origin, format!("template error: {message}{context}"))
                    .at(line, column)
                    .with_help("see the template syntax in docs/themes.md (Tera 2)");
            }
            let mut message = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(inner) = source {
                message.push_str(": ");
                message.push_str(&inner.to_string());
                source = inner.source();
            }
            Diagnostic::general(format!("template error: {message}{context}"))
                .with_help("check the template names used by `extends`, `include` and `template:`")
        }
    }
}

/// Tera reports some errors (unknown filters, functions, tests) only as
/// formatted text: `error: MESSAGE` then ` --> NAME:LINE:COLUMN`. Reads them
/// back as (message, template name, line, column).
fn parse_reports(text: &str) -> Vec<(String, String, usize, usize)> {
    let mut reports = Vec::new();
    let mut message: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.rfind("error: ").map(|at| &trimmed[at + 7..]) {
            message = Some(rest.to_string());
        } else if let Some(location) = trimmed.strip_prefix("--> ") {
            let mut parts = location.rsplitn(3, ':');
            let column = parts.next().and_then(|c| c.parse().ok());
            let line_no = parts.next().and_then(|l| l.parse().ok());
            if let (Some(column), Some(line_no), Some(name), Some(message)) =
                (column, line_no, parts.next(), message.take())
            {
                reports.push((message, name.to_string(), line_no, column));
            }
        }
    }
    reports
}
