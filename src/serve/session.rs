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
use std::sync::Arc;
use std::time::Instant;

use crate::compose::Site;
use crate::config::Config;
use crate::content::{self, SourcePage};
use crate::error::{Diagnostic, Diagnostics, Error, display_path};
use crate::load::{self, Loaded};
use crate::output::MemorySink;
use crate::pipeline::{self, Composed, Inputs, Reuse};
use crate::plan::{self, BuildOptions, VersionPlan};
use crate::project::Project;
use crate::render::{self, BodyCache, PageMemo, RenderJob, Version};
use crate::theme::Theme;

use crate::hashing::FastMap;

use super::state::{DiskFile, Layer, LazyFile, OverlayError, Snapshot, VersionLink};

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
        let problems = Diagnostics::new();
        let rendered = if path == render::PRINT_PATH {
            render::render_print(&job, &sink, &problems)
        } else {
            render::render_present(&job, &sink, &problems)
        };
        if !rendered {
            return Err(problems
                .into_sorted()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"));
        }
        sink.into_files()
            .written
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

pub use crate::plan::FACILITATOR_PREFIX;

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
    sites: FastMap<String, Composed>,
    /// Render print pages with the other pages (after the theme or the
    /// configuration changed, so their templates are checked at once), not
    /// when first asked for.
    eager_print: bool,
    /// What every rebuild renders (`serve --client`: only that client),
    /// as `build` would.
    options: BuildOptions,
}

impl Session {
    /// Opens the project and reads everything once.
    pub fn open(root: Option<&Path>, client: Option<String>) -> Result<Session, Error> {
        let project = Project::open(root)?;
        let (loaded, news) = load_all(&project)?;
        let options = BuildOptions {
            clients: client.into_iter().collect(),
            ..BuildOptions::default()
        };
        // An unknown client is a usage error now, not at every rebuild.
        plan::for_serve(&project, &loaded, &options)?;
        Ok(Session {
            project,
            loaded,
            cache: Arc::new(BodyCache::new()),
            memos: HashMap::new(),
            eager_print: true,
            news,
            patch: None,
            sites: FastMap::default(),
            options,
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
            let (loaded, news) = load_all(&project)?;
            self.news = news;
            self.project = project;
            self.loaded = loaded;
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
            self.loaded.segments = set.segments;
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
                &self.loaded.segments,
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
            let project_files = load::static_files(&root, Path::new("static"), &diagnostics);
            let client_files: Vec<_> = self
                .loaded
                .clients
                .iter()
                .map(|c| load::static_files(&root, &c.client.static_dir(), &diagnostics))
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
            match content::reload_page(&root, Path::new("content"), rel, &self.loaded.segments) {
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
        let plans = match plan::for_serve(&self.project, &self.loaded, &self.options) {
            Ok(plans) => plans,
            Err(error) => return Err(vec![Diagnostic::general(error.to_string())]),
        };
        let versions: Vec<VersionLink> = plans
            .iter()
            .map(|plan| VersionLink {
                label: link_label(plan),
                prefix: plan.prefix.clone(),
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
        diagnostics.declare_versions(
            plans
                .iter()
                .filter(|plan| wanted(plan.facilitator))
                .map(VersionPlan::name),
        );
        let inputs = Inputs {
            project: &self.project,
            loaded: &self.loaded,
            cache: Some(&self.cache),
            articles: None,
        };
        // Files served from disk, one entry for every version showing them.
        let root: Arc<Path> = Arc::from(
            self.project
                .root
                .canonicalize()
                .unwrap_or_else(|_| self.project.root.clone()),
        );
        let mut on_disk: FastMap<PathBuf, Arc<DiskFile>> = FastMap::default();
        for plan in &plans {
            if !wanted(plan.facilitator) {
                continue;
            }
            // What this version finds, marked with its name: a problem
            // several versions share is one problem in the overlay.
            let found = Diagnostics::new();
            let phase = Instant::now();
            let reuse = Reuse {
                composed: match (&self.patch, self.sites.get(&plan.prefix)) {
                    (Some(patch), Some(last)) => Some(patched(last, patch)),
                    _ => None,
                },
                previous: self.memos.get(&plan.prefix).map(|memo| &**memo),
                remember: true,
                print: self.eager_print,
            };
            let sink = MemorySink::default();
            let outcome = pipeline::render_version(&inputs, plan, reuse, &sink, &found);
            match outcome.composed.zip(outcome.rendered) {
                Some((composed, done)) => {
                    let summary = done.summary;
                    let memo = Arc::new(summary.memo);
                    let files = sink.into_files();
                    let disk = files
                        .copied
                        .into_iter()
                        .map(|(rel, source)| {
                            let file = on_disk.entry(source).or_insert_with_key(|source| {
                                Arc::new(DiskFile::new(source.clone(), Arc::clone(&root)))
                            });
                            (rel, Arc::clone(file))
                        })
                        .collect();
                    let mut layer = Layer {
                        files: files.written,
                        pages: Arc::clone(&memo),
                        lazy: FastMap::default(),
                        disk,
                    };
                    if !self.eager_print {
                        let recipe = Arc::new(PrintRecipe {
                            site: Arc::clone(&composed.site),
                            version: plan.version.clone(),
                            config: Arc::clone(&self.project.config),
                            theme: Arc::clone(&self.loaded.theme),
                            cache: Arc::clone(&self.cache),
                            static_files: done.static_files,
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
                    snapshot.set_layer(&plan.prefix, Arc::new(layer));
                    timings.push((format!("version {}", link_label(plan)), phase.elapsed()));
                    timings.push(("  compose".to_string(), done.composing));
                    for (name, time) in &summary.timings {
                        timings.push((format!("  {name}"), *time));
                    }
                    rendered += summary.rendered;
                    pages += summary.pages;
                    memos.insert(plan.prefix.clone(), memo);
                    sites.push((plan.prefix.clone(), composed));
                }
                None => failed = true,
            }
            diagnostics.absorb(&plan.name(), found);
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

/// How the preview's version switcher names a version.
fn link_label(plan: &VersionPlan) -> String {
    match (plan.client, plan.facilitator) {
        (None, false) => "Version de base".to_string(),
        (Some(c), false) => c.client.profile.name.clone(),
        (None, true) => "Animateur".to_string(),
        // Serving one client, its facilitator version is the only one.
        (Some(_), true) if plan.prefix == FACILITATOR_PREFIX => "Animateur".to_string(),
        (Some(c), true) => format!("{} · animateur", c.client.profile.name),
    }
}

/// The composition `last` with the pages of `patch` swapped in.
fn patched(last: &Composed, patch: &[(Arc<SourcePage>, Arc<SourcePage>)]) -> Composed {
    let mut site = Site::clone(&last.site);
    for page in &mut site.pages {
        if let Some((_, new)) = patch.iter().find(|(old, _)| Arc::ptr_eq(old, page)) {
            *page = Arc::clone(new);
        }
    }
    Composed {
        site: Arc::new(site),
        warnings: last.warnings.clone(),
    }
}

/// Everything read from disk, with the warnings reading it gave.
fn load_all(project: &Project) -> Result<(Loaded, Vec<Diagnostic>), Error> {
    let diagnostics = Diagnostics::new();
    match load::load(project, &diagnostics) {
        Some(loaded) if !diagnostics.has_errors() => Ok((loaded, diagnostics.into_sorted())),
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
