//! A preview session: the project as loaded in memory, kept up to date file
//! by file, and rebuilt into a complete in-memory [`Snapshot`] on every change.
//!
//! Work is kept from one build to the next at three levels: an edited
//! Markdown file is the only one read and parsed again; bodies whose
//! dependencies did not change are reused from the [`BodyCache`]; pages whose
//! fingerprint did not change are reused byte for byte from the last build.
//! Everything else (composition, navigation, landing, print page) is redone,
//! so the result is always what a clean `atelier build` would write.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::builder::{self, BuildOptions, Loaded};
use crate::compose::{ComposeOptions, Site, compose};
use crate::config::Config;
use crate::content::{self, Asset, SourcePage};
use crate::error::{Diagnostic, Diagnostics, Error, display_path, version_name};
use crate::project::Project;
use crate::render::{self, BodyCache, PageMemo, RenderJob, Sink, Version};
use crate::theme::Theme;

use crate::hashing::FastMap;

use super::state::{Layer, LazyFile, OverlayError, Snapshot, VersionLink};

/// Files written by a rendering, in memory.
#[derive(Default)]
struct MemorySink {
    files: Mutex<FastMap<String, Arc<[u8]>>>,
}

struct MemoryWriter<'a> {
    sink: &'a MemorySink,
    rel: String,
    buffer: Vec<u8>,
}

impl std::io::Write for MemoryWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let bytes: Arc<[u8]> = Arc::from(std::mem::take(&mut self.buffer));
        self.sink.insert(&self.rel, bytes);
        Ok(())
    }
}

impl MemorySink {
    fn insert(&self, rel: &str, bytes: Arc<[u8]>) {
        self.files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(rel.to_string(), bytes);
    }
}

impl Sink for MemorySink {
    fn write(&self, rel: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.insert(rel, Arc::from(bytes));
        Ok(())
    }
    fn copy(&self, rel: &str, source: &Path) -> std::io::Result<()> {
        self.insert(rel, Arc::from(std::fs::read(source)?));
        Ok(())
    }
    fn create(&self, rel: &str) -> std::io::Result<Box<dyn std::io::Write + '_>> {
        Ok(Box::new(MemoryWriter {
            sink: self,
            rel: rel.to_string(),
            buffer: Vec::new(),
        }))
    }
    fn write_shared(&self, rel: &str, bytes: Arc<[u8]>) -> std::io::Result<()> {
        self.insert(rel, bytes);
        Ok(())
    }
}

/// What rendering a version's print page later needs: the snapshot keeps
/// it, so the page shows exactly that build, whenever it is asked for.
struct PrintRecipe {
    site: Arc<Site>,
    version: Version,
    config: Arc<Config>,
    theme: Arc<Theme>,
    cache: Arc<BodyCache>,
    /// The version's static files, which links in bodies may reach.
    static_files: Vec<(String, std::path::PathBuf)>,
}

impl PrintRecipe {
    /// The print page, or a file of the deck (`render::DECK_PATH`…).
    fn render_file(&self, path: &str) -> Result<Arc<[u8]>, String> {
        let sink = MemorySink::default();
        let job = RenderJob {
            site: &self.site,
            config: &self.config,
            theme: &self.theme,
            version: &self.version,
            static_files: &self.static_files,
            cache: Some(&self.cache),
            articles: None,
            previous: None,
            remember: false,
            print: true,
        };
        let rendered = if path == render::PRINT_PATH {
            render::render_print(&job, &sink)
        } else {
            render::render_present(&job, &sink)
        };
        rendered.map_err(|problems| {
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        })?;
        sink.files
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .remove(path)
            .ok_or_else(|| format!("{path} was not written"))
    }
}

/// Which versions a build renders. The preview server rebuilds the
/// participant versions first and the facilitator versions (the base's at
/// `_facilitator/`, each client's at `_facilitator/clients/<slug>/`) right
/// after, so the tabs most people have open reload sooner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Every version.
    All,
    /// Base and client versions.
    Participant,
    /// The facilitator versions (under `_facilitator/`).
    Facilitator,
}

/// Folder of the facilitator versions in the snapshot: the base's, and
/// each client's under `clients/<slug>/` in it.
pub const FACILITATOR_PREFIX: &str = "_facilitator/";

/// What a rebuild did, for the terminal.
#[derive(Debug, Clone)]
pub struct RebuildReport {
    /// Wall time.
    pub millis: f64,
    /// Pages rendered again (the others were reused).
    pub rendered: usize,
    /// Pages in the snapshot, all versions together.
    pub pages: usize,
    /// Warnings of the build.
    pub warnings: Vec<Diagnostic>,
    /// Wall time of each phase, for `-v`.
    pub timings: Vec<(String, std::time::Duration)>,
}

/// How a set of changed paths affects the loaded project.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Reload everything (config, theme, templates, client profiles).
    pub everything: bool,
    /// Base content files (relative to `content/`).
    pub content: Vec<String>,
    /// Client overlays to reload (client slugs).
    pub overlays: HashSet<String>,
    /// Static files changed.
    pub statics: bool,
    /// Every changed file is a stylesheet.
    pub css_only: bool,
}

impl Changes {
    /// Sorts changed paths (absolute, under `root`) by what they affect;
    /// `None` when none of them matters.
    pub fn classify(root: &Path, paths: &[PathBuf]) -> Option<Changes> {
        let mut changes = Changes {
            css_only: true,
            ..Changes::default()
        };
        let mut relevant = false;
        for path in paths {
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.iter().any(|p| content::is_ignored_name(p)) {
                continue;
            }
            let is_css = parts.last().is_some_and(|p| p.ends_with(".css"));
            match parts
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice()
            {
                ["atelier.yaml"] => changes.everything = true,
                // The theme (its stylesheets too) is read again as a whole;
                // a stylesheet alone still only swaps the CSS in open tabs.
                ["templates", ..] | ["themes", ..] => changes.everything = true,
                ["content", rest @ ..] if !rest.is_empty() => changes.content.push(rest.join("/")),
                ["content"] => changes.everything = true,
                ["static", ..] => changes.statics = true,
                ["clients", slug, "content", ..] => {
                    changes.overlays.insert((*slug).to_string());
                }
                ["clients", _, "static", ..] => changes.statics = true,
                ["clients", ..] => changes.everything = true,
                _ => continue,
            }
            relevant = true;
            changes.css_only &= is_css;
        }
        relevant.then_some(changes)
    }
}

/// The project held in memory between rebuilds.
pub struct Session {
    project: Project,
    loaded: Loaded,
    segments: Arc<content::Segments>,
    cache: Arc<BodyCache>,
    memos: HashMap<String, Arc<PageMemo>>,
    /// Warnings from reading the sources (names that keep their number
    /// prefix…), reported once, with the next build.
    news: Vec<Diagnostic>,
    /// Source pages an edit replaced without touching their front matter
    /// (old, new): every version's composition is then the last one with
    /// these pages swapped in, since composing reads only front matter and
    /// paths.
    patch: Option<Vec<(Arc<SourcePage>, Arc<SourcePage>)>>,
    /// The compositions of the last successful build, by version folder
    /// (empty after a failed build: the next one composes afresh).
    sites: FastMap<String, Arc<Site>>,
    /// Render print pages with the other pages (after the theme or the
    /// configuration changed, so their templates are checked at once), not
    /// when first asked for.
    eager_print: bool,
    /// Only this client (serve --client).
    client: Option<String>,
}

impl Session {
    /// Opens the project and reads everything once.
    pub fn open(root: Option<&Path>, client: Option<String>) -> Result<Session, Error> {
        let project = Project::open(root)?;
        let (loaded, segments, news) = load_all(&project)?;
        if let Some(slug) = &client
            && !loaded.clients.iter().any(|c| &c.client.slug == slug)
        {
            let known: Vec<&str> = loaded
                .clients
                .iter()
                .map(|c| c.client.slug.as_str())
                .collect();
            return Err(Error::Usage(format!(
                "no client `{slug}` in clients/; clients: {}",
                if known.is_empty() {
                    "none yet".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
        Ok(Session {
            project,
            loaded,
            segments,
            cache: Arc::new(BodyCache::new()),
            memos: HashMap::new(),
            eager_print: true,
            news,
            patch: None,
            sites: FastMap::default(),
            client,
        })
    }

    /// The project root.
    pub fn root(&self) -> &Path {
        &self.project.root
    }

    /// Brings the loaded project up to date with `changes`.
    pub fn apply(&mut self, changes: &Changes) -> Result<(), Error> {
        self.patch = None;
        if changes.everything {
            self.sites.clear();
            let project = Project::open(Some(&self.project.root))?;
            let (loaded, segments, news) = load_all(&project)?;
            self.news = news;
            self.project = project;
            self.loaded = loaded;
            self.segments = segments;
            self.memos.clear();
            self.eager_print = true;
            return Ok(());
        }
        let only_content = changes.overlays.is_empty() && !changes.statics;
        let mut overlays: HashSet<String> = changes.overlays.clone();
        if !changes.content.is_empty() && !self.reload_pages(&changes.content, only_content) {
            let diagnostics = Diagnostics::new();
            let set = content::load(&self.project.root, Path::new("content"), &diagnostics);
            if diagnostics.has_errors() {
                return Err(Error::Content(diagnostics.into_sorted()));
            }
            self.loaded.pages = set.pages.into_iter().map(Arc::new).collect();
            self.loaded.assets = set.assets.into_iter().map(Arc::new).collect();
            self.segments = set.segments;
            self.news = diagnostics.into_sorted();
            // Overlay URLs are decided among the base's names: read them again.
            overlays = self
                .loaded
                .clients
                .iter()
                .map(|c| c.client.slug.clone())
                .collect();
        }
        for slug in &overlays {
            let diagnostics = Diagnostics::new();
            let Some(client) = self
                .loaded
                .clients
                .iter_mut()
                .find(|c| &c.client.slug == slug)
            else {
                continue;
            };
            let set = content::load_overlay(
                &self.project.root,
                &client.client.content_dir(),
                &self.segments,
                &diagnostics,
            );
            if diagnostics.has_errors() {
                return Err(Error::Content(diagnostics.into_sorted()));
            }
            client.pages = set.pages.into_iter().map(Arc::new).collect();
            client.assets = set.assets.into_iter().map(Arc::new).collect();
            self.news.extend(diagnostics.into_sorted());
        }
        if changes.statics {
            let root = self.project.root.clone();
            let diagnostics = Diagnostics::new();
            let project_files = builder::static_files(&root, Path::new("static"), &diagnostics);
            let client_files: Vec<_> = self
                .loaded
                .clients
                .iter()
                .map(|c| builder::static_files(&root, &c.client.static_dir(), &diagnostics))
                .collect();
            if diagnostics.has_errors() {
                return Err(Error::Content(diagnostics.into_sorted()));
            }
            self.loaded.static_files = project_files;
            for (client, files) in self.loaded.clients.iter_mut().zip(client_files) {
                client.static_files = files;
            }
        }
        Ok(())
    }

    /// Re-reads edited Markdown files in place; `false` when the tree's
    /// shape changed (a file added, removed, renamed, or not Markdown), which
    /// needs the whole content folder walked again.
    fn reload_pages(&mut self, rels: &[String], may_patch: bool) -> bool {
        let root = self.project.root.clone();
        let mut replacements = Vec::new();
        for rel in rels {
            let path = root.join("content").join(rel);
            let known = self.loaded.pages.iter().position(|p| &p.rel == rel);
            let is_plain_file = path
                .symlink_metadata()
                .is_ok_and(|m| m.file_type().is_file());
            match known {
                Some(index) if is_plain_file && rel.ends_with(".md") => {
                    replacements.push((index, rel))
                }
                // A file that came and went between two looks (the
                // temporary file of an atomic save, `sed -i`'s): nothing
                // to read, nothing the site had.
                None if path.symlink_metadata().is_err() && !self.had(rel) => {}
                _ => return false,
            }
        }
        let mut patch = Vec::new();
        for (index, rel) in replacements {
            match content::reload_page(&root, Path::new("content"), rel, &self.segments) {
                Ok(page) => {
                    let new = Arc::new(page);
                    let old = std::mem::replace(&mut self.loaded.pages[index], Arc::clone(&new));
                    patch.push((old, new));
                }
                Err(_) => return false,
            }
        }
        let same_front = patch
            .iter()
            .all(|(old, new)| old.front_text == new.front_text);
        if may_patch && same_front && !patch.is_empty() {
            self.patch = Some(patch);
        }
        true
    }

    /// Whether the site had a page or asset at `rel` or under the folder `rel`.
    fn had(&self, rel: &str) -> bool {
        let folder = format!("{rel}/");
        self.loaded
            .pages
            .iter()
            .map(|p| p.rel.as_str())
            .chain(self.loaded.assets.iter().map(|a| a.rel.as_str()))
            .any(|known| known == rel || known.starts_with(&folder))
    }

    /// Renders every version into a snapshot.
    pub fn build(
        &mut self,
        generation: u64,
        group: Group,
    ) -> Result<(Snapshot, Vec<VersionLink>, RebuildReport), Vec<Diagnostic>> {
        let started = Instant::now();
        let diagnostics = Diagnostics::new();
        if group != Group::Facilitator {
            diagnostics.extend(std::mem::take(&mut self.news));
        }
        let loaded = &self.loaded;
        let plans: Vec<(Option<&builder::LoadedClient>, bool, String, String)> = match &self.client
        {
            Some(slug) => {
                let client = loaded.clients.iter().find(|c| &c.client.slug == slug);
                let name = client.map_or_else(|| slug.clone(), |c| c.client.profile.name.clone());
                vec![
                    (client, false, String::new(), name),
                    (client, true, FACILITATOR_PREFIX.into(), "Animateur".into()),
                ]
            }
            None => std::iter::once((None, false, String::new(), "Version de base".to_string()))
                .chain(std::iter::once((
                    None,
                    true,
                    FACILITATOR_PREFIX.to_string(),
                    "Animateur".to_string(),
                )))
                // Each client's version, then its facilitator version where
                // `build --facilitator` puts it in the facilitator output.
                .chain(loaded.clients.iter().flat_map(|c| {
                    [
                        (
                            Some(c),
                            false,
                            format!("clients/{}/", c.client.slug),
                            c.client.profile.name.clone(),
                        ),
                        (
                            Some(c),
                            true,
                            format!("{FACILITATOR_PREFIX}clients/{}/", c.client.slug),
                            format!("{} · animateur", c.client.profile.name),
                        ),
                    ]
                }))
                .collect(),
        };
        let versions: Vec<VersionLink> = plans
            .iter()
            .map(|(_, _, prefix, label)| VersionLink {
                label: label.clone(),
                prefix: prefix.clone(),
            })
            .collect();
        let mut snapshot = Snapshot::new(generation);
        let mut rendered = 0;
        let mut pages = 0;
        let mut memos = HashMap::new();
        let mut sites = Vec::new();
        let mut timings = Vec::new();
        let mut failed = false;
        let wanted = |facilitator: bool| match group {
            Group::All => true,
            Group::Participant => !facilitator,
            Group::Facilitator => facilitator,
        };
        let name = |client: Option<&builder::LoadedClient>, facilitator: bool| {
            version_name(client.map(|c| c.client.slug.as_str()), facilitator)
        };
        diagnostics.declare_versions(
            plans
                .iter()
                .filter(|(_, facilitator, _, _)| wanted(*facilitator))
                .map(|(client, facilitator, _, _)| name(*client, *facilitator)),
        );
        for (client, facilitator, prefix, label) in &plans {
            if !wanted(*facilitator) {
                continue;
            }
            // What this version finds, marked with its name: a problem
            // several versions share is one problem in the overlay.
            let found = Diagnostics::new();
            let phase = Instant::now();
            let profile = client.map(|c| &c.client);
            let (overlay_pages, overlay_assets): (&[Arc<SourcePage>], &[Arc<Asset>]) = match client
            {
                Some(c) => (&c.pages, &c.assets),
                None => (&[], &[]),
            };
            let composed = match (&self.patch, self.sites.get(prefix)) {
                (Some(patch), Some(last)) => Ok(patched(last, patch)),
                _ => compose(
                    &self.project.config,
                    &self.project.config_text,
                    &loaded.pages,
                    &loaded.assets,
                    overlay_pages,
                    overlay_assets,
                    &ComposeOptions {
                        drafts: false,
                        client: profile,
                    },
                ),
            };
            let site = match composed {
                Ok(site) => Arc::new(site),
                Err(errors) => {
                    failed = true;
                    found.extend(errors);
                    diagnostics.absorb(&name(*client, *facilitator), found);
                    continue;
                }
            };
            found.extend(site.warnings.iter().cloned());
            let composing = phase.elapsed();
            let options = BuildOptions {
                facilitator: *facilitator,
                drafts: false,
                clients: self.client.iter().cloned().collect(),
                ..BuildOptions::default()
            };
            let version = builder::version_of(&self.project, &options, profile, false);
            let static_files = builder::merged_static(
                &loaded.static_files,
                client.map(|c| c.static_files.as_slice()),
            );
            let sink = MemorySink::default();
            let job = RenderJob {
                site: &site,
                config: &self.project.config,
                theme: &loaded.theme,
                version: &version,
                static_files: &static_files,
                cache: Some(&self.cache),
                articles: None,
                previous: self.memos.get(prefix).map(|memo| &**memo),
                remember: true,
                print: self.eager_print,
            };
            match render::render_site(&job, &sink, &found) {
                Ok(summary) => {
                    let memo = Arc::new(summary.memo);
                    let mut layer = Layer {
                        files: sink.files.into_inner().unwrap_or_else(|p| p.into_inner()),
                        pages: Arc::clone(&memo),
                        lazy: FastMap::default(),
                    };
                    if !self.eager_print {
                        let recipe = Arc::new(PrintRecipe {
                            site: Arc::clone(&site),
                            version,
                            config: Arc::clone(&self.project.config),
                            theme: Arc::clone(&loaded.theme),
                            cache: Arc::clone(&self.cache),
                            static_files: static_files.clone(),
                        });
                        let mut lazy = vec![render::PRINT_PATH, render::DECK_PATH];
                        if recipe.version.facilitator {
                            lazy.push(render::CONSOLE_PATH);
                        }
                        for path in lazy {
                            let recipe = Arc::clone(&recipe);
                            layer.lazy.insert(
                                path.to_string(),
                                Arc::new(LazyFile::new(move || recipe.render_file(path))),
                            );
                        }
                    }
                    snapshot.set_layer(prefix, Arc::new(layer));
                    timings.push((format!("version {label}"), phase.elapsed()));
                    timings.push(("  compose".to_string(), composing));
                    for (name, time) in &summary.timings {
                        timings.push((format!("  {name}"), *time));
                    }
                    rendered += summary.rendered;
                    pages += summary.pages;
                    memos.insert(prefix.clone(), memo);
                    sites.push((prefix.clone(), site));
                }
                Err(errors) => {
                    failed = true;
                    found.extend(errors);
                }
            }
            diagnostics.absorb(&name(*client, *facilitator), found);
        }
        if failed || diagnostics.has_errors() {
            self.sites.clear();
            return Err(diagnostics.into_sorted());
        }
        self.memos.extend(memos);
        self.sites.extend(sites);
        if group != Group::Participant {
            self.eager_print = false;
        }
        let report = RebuildReport {
            millis: started.elapsed().as_secs_f64() * 1000.0,
            rendered,
            pages,
            warnings: diagnostics.into_sorted(),
            timings,
        };
        Ok((snapshot, versions, report))
    }

    /// Drops cached work for source pages that no longer exist (edited or
    /// deleted), so a long session does not grow without end. Called once
    /// the rebuild is published: it is not on the way to the reload.
    pub fn forget_unused(&self) {
        let live: crate::hashing::FastSet<usize> = self
            .loaded
            .pages
            .iter()
            .chain(self.loaded.clients.iter().flat_map(|c| c.pages.iter()))
            .map(|p| Arc::as_ptr(p) as usize)
            .collect();
        self.cache
            .retain_sources(|source| live.contains(&(Arc::as_ptr(source) as usize)));
    }

    /// Errors as the browser overlay shows them, with their source line.
    pub fn overlay_errors(&self, problems: &[Diagnostic]) -> Vec<OverlayError> {
        problems
            .iter()
            .filter(|d| d.is_error())
            .map(|d| {
                let file = d.file.as_deref().map(display_path).unwrap_or_default();
                let location = match (d.line, d.column) {
                    (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
                    (Some(l), None) => format!("{file}:{l}"),
                    _ => file.clone(),
                };
                let source_line = d.file.as_ref().zip(d.line).and_then(|(file, line)| {
                    let text = std::fs::read_to_string(self.project.root.join(file)).ok()?;
                    text.lines().nth(line.checked_sub(1)?).map(str::to_string)
                });
                let mut message = d.message.clone();
                if let Some(note) = d.versions_note() {
                    message = format!("{message} ({note})");
                }
                if let Some(help) = &d.help {
                    message = format!("{message} ({help})");
                }
                OverlayError {
                    location,
                    message,
                    source_line,
                }
            })
            .collect()
    }
}

/// The composition `last` with the pages of `patch` swapped in.
fn patched(last: &Site, patch: &[(Arc<SourcePage>, Arc<SourcePage>)]) -> Site {
    let mut site = last.clone();
    for page in &mut site.pages {
        if let Some((_, new)) = patch.iter().find(|(old, _)| Arc::ptr_eq(old, page)) {
            *page = Arc::clone(new);
        }
    }
    site
}

/// Everything read from disk, with the warnings reading it gave.
type LoadedAll = (Loaded, Arc<content::Segments>, Vec<Diagnostic>);

fn load_all(project: &Project) -> Result<LoadedAll, Error> {
    let diagnostics = Diagnostics::new();
    match builder::load(project, &diagnostics) {
        Some(loaded) if !diagnostics.has_errors() => {
            let segments = Arc::clone(&loaded.segments);
            Ok((loaded, segments, diagnostics.into_sorted()))
        }
        _ => Err(Error::Content(diagnostics.into_sorted())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_classified() {
        let root = Path::new("/p");
        let classify = |paths: &[&str]| {
            Changes::classify(
                root,
                &paths.iter().map(|p| root.join(p)).collect::<Vec<_>>(),
            )
        };
        let edit = classify(&["content/modules/01-a.md"]).expect("relevant");
        assert_eq!(edit.content, vec!["modules/01-a.md".to_string()]);
        assert!(!edit.everything && !edit.css_only);
        assert!(classify(&["atelier.yaml"]).expect("relevant").everything);
        assert!(classify(&["static/extra.css"]).expect("relevant").css_only);
        let theme_css = classify(&["themes/atelier/static/atelier.css"]).expect("relevant");
        assert!(theme_css.css_only && theme_css.everything);
        assert!(
            classify(&["themes/atelier/templates/base.html"])
                .expect("relevant")
                .everything
        );
        assert!(
            classify(&[
                "content/.01-a.md.swp",
                "content/4913",
                "public/index.html",
                "target/x"
            ])
            .is_none()
        );
        let overlay = classify(&["clients/lemoine/content/x.md"]).expect("relevant");
        assert!(overlay.overlays.contains("lemoine"));
    }
}
