//! Composition: from loaded pages to one version of the site.
//!
//! Second stage of the data flow. It decides which pages a version contains
//! (drafts, overlays, client rules), in what order, under which URL, and how
//! they link to each other (modules and their steps, previous/next, the
//! agenda). It reads no file and produces no HTML, so the same parsed pages
//! (shared through `Arc`) are composed into as many versions as needed.

use crate::hashing::FastMap;
use std::sync::Arc;

use crate::agenda::{Agenda, ModuleSlot};
use crate::client::Client;
use crate::config::{Config, Schedule};
use crate::content::{Asset, Front, PageKind, SourcePage};
use crate::duration::Minutes;
use crate::error::{Diagnostic, Diagnostics};

/// Index of a page in [`Site::pages`].
pub type PageId = usize;

/// A module and its steps, in order.
#[derive(Debug, Clone)]
pub struct Module {
    /// The module's own page.
    pub page: PageId,
    /// Its steps, in order (empty for a single-file module).
    pub steps: Vec<PageId>,
    /// Its own duration, else the sum of its steps' durations.
    pub duration: Option<Minutes>,
}

impl Module {
    /// The module's page, then its steps: the pages it stands for wherever
    /// a module is walked (reading order, navigation, selection).
    pub fn pages(&self) -> impl Iterator<Item = PageId> + '_ {
        std::iter::once(self.page).chain(self.steps.iter().copied())
    }
}

/// Why a page that exists is not published in a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeftOut {
    /// `draft: true`, and drafts are not built.
    Draft,
    /// An overlay page of the client with `remove: true` hides it.
    Removed,
    /// Its front matter's `clients:` rule excludes this version.
    ClientRule,
    /// A module, or a step of one, missing from the client's `modules:`.
    NotSelected,
}

/// What to compose.
#[derive(Debug, Clone, Copy, Default)]
pub struct ComposeOptions<'a> {
    /// Include pages marked `draft: true`.
    pub drafts: bool,
    /// The client this version is for (`None`: the base version).
    pub client: Option<&'a Client>,
    /// The client's overlay pages (empty for the base version).
    pub overlay_pages: &'a [Arc<SourcePage>],
    /// The client's overlay assets.
    pub overlay_assets: &'a [Arc<Asset>],
}

/// One version of the masterclass, ready to render.
#[derive(Debug, Clone)]
pub struct Site {
    /// Every page of this version.
    pub pages: Vec<Arc<SourcePage>>,
    /// `content/_index.md`, if any.
    pub landing: Option<PageId>,
    /// Modules in order.
    pub modules: Vec<Module>,
    /// Exercises in order.
    pub exercises: Vec<PageId>,
    /// Other pages, by URL.
    pub others: Vec<PageId>,
    /// Modules and their steps in reading order, for previous/next.
    pub reading_order: Vec<PageId>,
    /// Every published page by its own content-relative source path, to
    /// rewrite `.md` links (the link key of a version hashes the same pages).
    pub by_rel: FastMap<String, PageId>,
    /// Pages that exist but are not in this version, by source path, with
    /// why: a link to one keeps its text and loses its link here.
    pub left_out: FastMap<String, LeftOut>,
    /// Exercise page by id (slug).
    pub exercise_by_id: FastMap<String, PageId>,
    /// Files copied beside the pages.
    pub assets: Vec<Arc<Asset>>,
    /// Clock times of modules and breaks.
    pub agenda: Agenda,
    /// For each page: its module (index into `modules`), if any.
    module_index: Vec<Option<usize>>,
    /// For each page: its position in `reading_order` or `exercises`.
    sequence_position: Vec<Option<usize>>,
}

impl Site {
    /// The index (into `modules`) of the module a page belongs to: itself
    /// for a module, its parent for a step.
    pub fn module_index_of(&self, id: PageId) -> Option<usize> {
        self.module_index.get(id).copied().flatten()
    }

    /// Previous and next pages of a page in the reading order (modules and
    /// steps) or in the exercise list.
    pub fn neighbours(&self, id: PageId) -> (Option<PageId>, Option<PageId>) {
        let sequence = match self.pages[id].kind {
            PageKind::Module | PageKind::Step => &self.reading_order,
            PageKind::Exercise => &self.exercises,
            _ => return (None, None),
        };
        match self.sequence_position.get(id).copied().flatten() {
            Some(i) => (
                i.checked_sub(1).and_then(|j| sequence.get(j).copied()),
                sequence.get(i + 1).copied(),
            ),
            None => (None, None),
        }
    }
}

/// Composes one version from base pages and an optional client overlay.
///
/// The client's overlay pages (in `options`) replace base pages with the
/// same content-relative path, add new ones, or (with `remove: true`) hide
/// them. What composing finds goes to `diagnostics`; `None` when it found
/// an error.
pub fn compose(
    config: &Config,
    config_text: &str,
    base_pages: &[Arc<SourcePage>],
    base_assets: &[Arc<Asset>],
    options: &ComposeOptions,
    diagnostics: &Diagnostics,
) -> Option<Site> {
    let (overlay_pages, overlay_assets) = (options.overlay_pages, options.overlay_assets);
    let mut problems = Vec::new();
    let (chosen, removed) = apply_overlay(base_pages, overlay_pages, &mut problems);
    let (pages, mut left_out) = apply_rules(chosen, removed, options);
    check_unique_urls(&pages, &mut problems);
    let sorted = sort_by_kind(&pages, &mut problems);
    let exercise_by_id: FastMap<String, PageId> = sorted
        .exercises
        .iter()
        .map(|&id| (pages[id].slug.clone(), id))
        .collect();
    let modules = match options.client {
        Some(client) => {
            select_modules(&pages, sorted.modules, client, &mut left_out, &mut problems)
        }
        None => sorted.modules,
    };
    check_listed_exercises(&pages, &modules, &exercise_by_id, &mut problems);
    let by_rel = published_by_rel(
        &pages,
        sorted.landing,
        &modules,
        &sorted.exercises,
        &sorted.others,
    );
    let reading_order: Vec<PageId> = modules.iter().flat_map(Module::pages).collect();
    let agenda = agenda_of(
        config,
        config_text,
        &pages,
        &modules,
        options,
        &mut problems,
    );
    let assets = merge_assets(base_assets, overlay_assets);

    let failed = problems.iter().any(Diagnostic::is_error);
    diagnostics.extend(problems);
    if failed {
        return None;
    }
    let mut module_index = vec![None; pages.len()];
    for (index, module) in modules.iter().enumerate() {
        for id in module.pages() {
            module_index[id] = Some(index);
        }
    }
    let mut sequence_position = vec![None; pages.len()];
    for sequence in [&reading_order, &sorted.exercises] {
        for (position, &id) in sequence.iter().enumerate() {
            sequence_position[id] = Some(position);
        }
    }
    Some(Site {
        module_index,
        sequence_position,
        pages,
        landing: sorted.landing,
        modules,
        exercises: sorted.exercises,
        others: sorted.others,
        reading_order,
        by_rel,
        left_out,
        exercise_by_id,
        assets,
        agenda,
    })
}

/// Overlay application: the base pages with the overlay's pages in place of
/// those at the same path and its new pages after them, and for each page
/// whether an overlay page with `remove: true` hides it.
fn apply_overlay(
    base_pages: &[Arc<SourcePage>],
    overlay_pages: &[Arc<SourcePage>],
    problems: &mut Vec<Diagnostic>,
) -> (Vec<Arc<SourcePage>>, Vec<bool>) {
    let mut chosen: Vec<Arc<SourcePage>> = Vec::with_capacity(base_pages.len());
    let mut position: FastMap<&str, usize> =
        FastMap::with_capacity_and_hasher(base_pages.len(), Default::default());
    for page in base_pages {
        position.insert(page.rel.as_str(), chosen.len());
        chosen.push(Arc::clone(page));
    }
    let mut removed = vec![false; chosen.len()];
    for page in overlay_pages {
        match position.get(page.rel.as_str()) {
            Some(&i) if page.front.remove() => removed[i] = true,
            Some(&i) => chosen[i] = Arc::clone(page),
            None if page.front.remove() => problems.push(
                Diagnostic::warning(
                    &page.file,
                    "`remove: true`, but the base content has no page at this path",
                )
                .at_line(page.front_line - 1)
                .with_help(format!(
                    "to hide a base page, use the same path as in content/: {}",
                    page.rel
                )),
            ),
            None => {
                removed.push(false);
                chosen.push(Arc::clone(page));
            }
        }
    }
    (chosen, removed)
}

/// Rules: the pages this version keeps (not removed, not drafts unless
/// asked, not excluded by their `clients:` rule), and why each other one is
/// left out.
fn apply_rules(
    chosen: Vec<Arc<SourcePage>>,
    removed: Vec<bool>,
    options: &ComposeOptions,
) -> (Vec<Arc<SourcePage>>, FastMap<String, LeftOut>) {
    let mut left_out: FastMap<String, LeftOut> = FastMap::default();
    let pages: Vec<Arc<SourcePage>> = chosen
        .into_iter()
        .zip(removed)
        .filter(
            |(page, removed)| match left_out_by_rules(page, *removed, options) {
                Some(reason) => {
                    left_out.insert(page.rel.clone(), reason);
                    false
                }
                None => true,
            },
        )
        .map(|(page, _)| page)
        .collect();
    (pages, left_out)
}

/// An error for each page whose URL an earlier page already has.
fn check_unique_urls(pages: &[Arc<SourcePage>], problems: &mut Vec<Diagnostic>) {
    let mut by_url: FastMap<&str, PageId> =
        FastMap::with_capacity_and_hasher(pages.len(), Default::default());
    for (id, page) in pages.iter().enumerate() {
        if let Some(&other) = by_url.get(page.url.as_str()) {
            problems.push(
                Diagnostic::error(
                    &page.file,
                    format!(
                        "this page and {} both map to the URL `{}`",
                        crate::error::display_path(&pages[other].file),
                        if page.url.is_empty() { "/" } else { &page.url }
                    ),
                )
                .at_line(1)
                .with_help("rename one of the two files (the `NN-` prefix and accents do not count in URLs)"),
            );
        } else {
            by_url.insert(page.url.as_str(), id);
        }
    }
}

/// The pages of a version by kind, each list in its order.
struct ByKind {
    landing: Option<PageId>,
    /// Every module with its steps, by sort key.
    modules: Vec<Module>,
    /// By sort key.
    exercises: Vec<PageId>,
    /// By URL.
    others: Vec<PageId>,
}

/// Ordering: sorts pages by kind, attaches each step to its module (an
/// error for a step whose module has no `_index.md`) and puts each list in
/// its order.
fn sort_by_kind(pages: &[Arc<SourcePage>], problems: &mut Vec<Diagnostic>) -> ByKind {
    let parent_by_rel: FastMap<&str, PageId> = pages
        .iter()
        .enumerate()
        .filter(|(_, page)| page.kind == PageKind::Module)
        .map(|(id, page)| (page.rel.as_str(), id))
        .collect();

    let mut landing = None;
    let mut module_pages = Vec::new();
    let mut steps_of: FastMap<PageId, Vec<PageId>> = FastMap::default();
    let mut exercises = Vec::new();
    let mut others = Vec::new();
    for (id, page) in pages.iter().enumerate() {
        match page.kind {
            PageKind::Landing => landing = Some(id),
            PageKind::Module => module_pages.push(id),
            PageKind::Exercise => exercises.push(id),
            PageKind::Page => others.push(id),
            PageKind::Step => {
                let parent = page
                    .parent
                    .as_deref()
                    .and_then(|rel| parent_by_rel.get(rel));
                match parent {
                    Some(&parent) => steps_of.entry(parent).or_default().push(id),
                    None => problems.push(orphan_step(page)),
                }
            }
        }
    }

    let sort =
        |ids: &mut Vec<PageId>| ids.sort_by(|&a, &b| pages[a].sort_key().cmp(&pages[b].sort_key()));
    sort(&mut module_pages);
    sort(&mut exercises);
    others.sort_by(|&a, &b| pages[a].url.cmp(&pages[b].url));

    let modules: Vec<Module> = module_pages
        .iter()
        .map(|&page| {
            let mut steps = steps_of.remove(&page).unwrap_or_default();
            sort(&mut steps);
            let own = pages[page].front.duration();
            let from_steps = steps
                .iter()
                .filter_map(|&s| pages[s].front.duration())
                .fold(None, |sum: Option<Minutes>, d| {
                    Some(Minutes(sum.map_or(0, |s| s.0) + d.0))
                });
            Module {
                page,
                steps,
                duration: own.or(from_steps),
            }
        })
        .collect();
    ByKind {
        landing,
        modules,
        exercises,
        others,
    }
}

/// An error for a step whose module folder has no `_index.md`.
fn orphan_step(page: &SourcePage) -> Diagnostic {
    Diagnostic::error(&page.file, "this step's module folder has no `_index.md`")
        .at_line(1)
        .with_help(format!(
            "add {} with the module's front matter (title, summary, duration…)",
            page.parent.as_deref().map_or_else(String::new, |rel| {
                let dir = page
                    .file
                    .to_string_lossy()
                    .strip_suffix(page.rel.as_str())
                    .unwrap_or_default()
                    .to_string();
                format!("{dir}{rel}")
            })
        ))
}

/// Selection: the modules the client's `modules:` names, in its order (all
/// of them when it has none); the others are left out, and an unknown slug
/// is an error.
fn select_modules(
    pages: &[Arc<SourcePage>],
    modules: Vec<Module>,
    client: &Client,
    left_out: &mut FastMap<String, LeftOut>,
    problems: &mut Vec<Diagnostic>,
) -> Vec<Module> {
    let Some(selection) = &client.profile.modules else {
        return modules;
    };
    let by_slug: FastMap<&str, &Module> = modules
        .iter()
        .map(|m| (pages[m.page].slug.as_str(), m))
        .collect();
    let mut selected: Vec<Module> = Vec::with_capacity(selection.len());
    for slug in selection {
        match by_slug.get(slug.as_str()) {
            Some(module) => selected.push((*module).clone()),
            None => {
                let mut known: Vec<&str> = by_slug.keys().copied().collect();
                known.sort_unstable();
                problems.push(
                    Diagnostic::error(
                        &client.file,
                        format!("unknown module `{slug}` in `modules:`"),
                    )
                    .at_line(client.line_of(slug))
                    .with_help(format!(
                        "module slugs (file names without NN- and .md): {}",
                        known.join(", ")
                    )),
                );
            }
        }
    }
    for module in &modules {
        if !selection.contains(&pages[module.page].slug) {
            for id in module.pages() {
                left_out.insert(pages[id].rel.clone(), LeftOut::NotSelected);
            }
        }
    }
    selected
}

/// An error for each `exercises:` entry of a published module page that
/// names no exercise.
fn check_listed_exercises(
    pages: &[Arc<SourcePage>],
    modules: &[Module],
    exercise_by_id: &FastMap<String, PageId>,
    problems: &mut Vec<Diagnostic>,
) {
    for id in modules.iter().flat_map(Module::pages) {
        if let Front::Module(front) = &pages[id].front {
            for exercise in &front.exercises {
                if !exercise_by_id.contains_key(exercise) {
                    problems.push(unknown_exercise(&pages[id], exercise, exercise_by_id));
                }
            }
        }
    }
}

/// Every published page by its content-relative source path.
fn published_by_rel(
    pages: &[Arc<SourcePage>],
    landing: Option<PageId>,
    modules: &[Module],
    exercises: &[PageId],
    others: &[PageId],
) -> FastMap<String, PageId> {
    landing
        .into_iter()
        .chain(modules.iter().flat_map(Module::pages))
        .chain(exercises.iter().copied())
        .chain(others.iter().copied())
        .map(|id| (pages[id].rel.clone(), id))
        .collect()
}

/// Agenda: the clock times of the modules, on the client's schedule when it
/// has one (its start, the project's breaks); errors go to `problems`.
fn agenda_of(
    config: &Config,
    config_text: &str,
    pages: &[Arc<SourcePage>],
    modules: &[Module],
    options: &ComposeOptions,
    problems: &mut Vec<Diagnostic>,
) -> Agenda {
    let schedule = match options.client.and_then(|c| c.profile.schedule.as_ref()) {
        Some(own) => Schedule {
            start: own.start.or(config.schedule.start),
            breaks: config.schedule.breaks.clone(),
        },
        None => config.schedule.clone(),
    };
    let slots: Vec<ModuleSlot> = modules
        .iter()
        .map(|m| ModuleSlot {
            slug: &pages[m.page].slug,
            duration: m.duration,
        })
        .collect();
    Agenda::compute(&schedule, config_text, &slots, options.client.is_some())
        .map_err(|mut errors| {
            problems.append(&mut errors);
        })
        .unwrap_or_default()
}

/// The assets of a version: the base's, with the overlay's in place of those
/// at the same path and its new ones after them.
fn merge_assets(base_assets: &[Arc<Asset>], overlay_assets: &[Arc<Asset>]) -> Vec<Arc<Asset>> {
    let mut assets: Vec<Arc<Asset>> = Vec::with_capacity(base_assets.len() + overlay_assets.len());
    let mut asset_position: FastMap<&str, usize> = FastMap::default();
    for asset in base_assets.iter().chain(overlay_assets) {
        match asset_position.get(asset.rel.as_str()) {
            Some(&i) => assets[i] = Arc::clone(asset),
            None => {
                asset_position.insert(asset.rel.as_str(), assets.len());
                assets.push(Arc::clone(asset));
            }
        }
    }
    assets
}

/// Why `page` is not in this version by its own rules, if it is not: an
/// overlay removed it, it is a draft, or its `clients:` rule excludes it.
fn left_out_by_rules(
    page: &SourcePage,
    removed: bool,
    options: &ComposeOptions,
) -> Option<LeftOut> {
    if removed {
        Some(LeftOut::Removed)
    } else if !options.drafts && page.front.draft() {
        Some(LeftOut::Draft)
    } else if page
        .front
        .clients()
        .is_some_and(|rule| !rule.includes(options.client.map(|c| c.slug.as_str())))
    {
        Some(LeftOut::ClientRule)
    } else {
        None
    }
}

/// An error for an `exercises:` entry naming no exercise, with the closest ids.
fn unknown_exercise(page: &SourcePage, id: &str, known: &FastMap<String, PageId>) -> Diagnostic {
    let line = page
        .front_text
        .lines()
        .position(|l| l.contains(id))
        .map_or(page.front_line, |i| page.front_line + i);
    let mut ids: Vec<&str> = known.keys().map(String::as_str).collect();
    ids.sort_unstable();
    Diagnostic::error(
        &page.file,
        format!("unknown exercise `{id}` in `exercises:`"),
    )
    .at_line(line)
    .with_help(if ids.is_empty() {
        "add the exercise as content/exercises/<id>.md".to_string()
    } else {
        format!(
            "exercise ids are the file names in content/exercises/: {}",
            ids.join(", ")
        )
    })
}

#[cfg(test)]
mod tests;
