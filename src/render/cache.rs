//! Rendered bodies shared between versions.
//!
//! Twenty client versions of a 2,000-page masterclass differ on a few pages:
//! the overlays and the pages whose variables, `only`/`except` blocks or links
//! resolve differently. A body is rendered once with a log of everything it
//! looked up in its version; another version reuses it when replaying that
//! log gives the same answers, and renders its own otherwise. So sharing is
//! exact, never a guess.

use crate::hashing::FastMap;
use std::sync::{Arc, RwLock};

use crate::compose::PageId;
use crate::content::SourcePage;
use crate::markdown::LinkOutcome;

use super::body::{Body, client_matches, lookup_variable};
use super::deck::SlidePlan;
use super::links;
use super::{PageStrings, Shared};

/// Everything a body's rendering asked its version.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Dependencies {
    /// Variable name → value (`None`: missing).
    pub variables: Vec<(String, Option<String>)>,
    /// `only`/`except` tests: (key, value) → matched.
    pub matches: Vec<(String, String, bool)>,
    /// Links: (destination, is image) → outcome.
    pub links: Vec<(String, bool, LinkOutcome)>,
    /// The links key of the version the links were resolved in.
    pub links_key: u64,
    /// Embedded exercises: id → present in the version.
    pub exercises: Vec<(String, bool)>,
    /// Wrappers of directive templates that read the page or the client.
    pub directives: Vec<super::directive::Recorded>,
}

impl Dependencies {
    /// Whether the version in `shared` answers every lookup the same way.
    fn hold(&self, shared: &Shared, id: PageId) -> bool {
        let page = &shared.site.pages[id];
        let title = shared.texts[id].title.as_str();
        self.variables.iter().all(|(name, value)| {
            let now = match lookup_variable(shared, name, Some(title)) {
                crate::markdown::variables::Lookup::Value(v) => Some(v),
                crate::markdown::variables::Lookup::Missing => None,
            };
            &now == value
        }) && self.matches.iter().all(|(key, value, matched)| {
            client_matches(shared.version.client.as_ref(), key, value) == *matched
        }) && self.exercises.iter().all(|(exercise, present)| {
            shared.site.exercise_by_id.contains_key(exercise) == *present
        }) && self.directives.iter().all(|(kind, attrs, wrapper)| {
            super::directive::wrapper(shared, id, kind, attrs, page.body_line)
                .is_ok_and(|(now, _)| &now == wrapper)
        }) && (self.links_key == shared.links_key
            || self.links.iter().all(|(dest, is_image, outcome)| {
                &links::resolve(shared, page, dest, *is_image) == outcome
            }))
    }
}

/// What makes two renderings of one source comparable at all.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    /// Identity of the shared, immutable source page.
    source: usize,
    facilitator: bool,
    french: bool,
    /// The version's language, as a small number (`fr` → 0, `en` → 1, …).
    language: u8,
}

/// A rendered body and what it depended on.
type Entry = (Dependencies, Arc<Body>);

/// The source page (kept alive) and its renderings.
type Entries = (Arc<SourcePage>, Vec<Entry>);

/// Bodies rendered so far, with what they depended on. Each entry keeps its
/// source page alive, so its address (part of the key) is never reused by
/// another page while the entry exists.
#[derive(Debug, Default)]
pub struct BodyCache {
    entries: RwLock<FastMap<Key, Entries>>,
    /// Front-matter strings that looked up no variable, by source page and
    /// French typography: the same in every version.
    strings: RwLock<FastMap<(usize, bool), SharedStrings>>,
    /// Each body cut into slides, by the body's address: every version that
    /// renders the same body shows the same slides.
    slide_plans: RwLock<FastMap<usize, PlannedBody>>,
}

/// A body (kept alive: its address is the key) and its slides.
type PlannedBody = (Arc<Body>, Arc<SlidePlan>);

/// A source page (kept alive: its address is the key) and its strings.
type SharedStrings = (Arc<SourcePage>, Arc<PageStrings>);

impl BodyCache {
    /// An empty cache.
    pub fn new() -> BodyCache {
        BodyCache::default()
    }

    fn key(shared: &Shared, id: PageId) -> Key {
        Key {
            source: Arc::as_ptr(&shared.site.pages[id]) as usize,
            facilitator: shared.version.facilitator,
            french: shared.version.french,
            language: match shared.version.language.as_str() {
                "fr" => 0,
                "en" => 1,
                "de" => 2,
                "es" => 3,
                "it" => 4,
                _ => 5,
            },
        }
    }

    /// A body rendered for another version that is valid for this one.
    pub(super) fn find(&self, shared: &Shared, id: PageId) -> Option<Arc<Body>> {
        let key = Self::key(shared, id);
        // Validated under a read lock: versions render in parallel, and
        // cloning the logs out would cost more than the check itself.
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries
            .get(&key)?
            .1
            .iter()
            .find(|(dependencies, _)| dependencies.hold(shared, id))
            .map(|(_, body)| Arc::clone(body))
    }

    /// Remembers a body and what it depended on.
    pub(super) fn insert(
        &self,
        shared: &Shared,
        id: PageId,
        dependencies: Dependencies,
        body: Arc<Body>,
    ) {
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(Self::key(shared, id))
            .or_insert_with(|| (Arc::clone(&shared.site.pages[id]), Vec::new()))
            .1
            .push((dependencies, body));
    }

    /// Front-matter strings of `page` that hold in every version.
    pub(super) fn strings(&self, page: &Arc<SourcePage>, french: bool) -> Option<Arc<PageStrings>> {
        let strings = self.strings.read().unwrap_or_else(|p| p.into_inner());
        strings
            .get(&(Arc::as_ptr(page) as usize, french))
            .map(|(_, strings)| Arc::clone(strings))
    }

    /// Remembers front-matter strings that looked up no variable.
    pub(super) fn insert_strings(
        &self,
        page: &Arc<SourcePage>,
        french: bool,
        strings: Arc<PageStrings>,
    ) {
        self.strings
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                (Arc::as_ptr(page) as usize, french),
                (Arc::clone(page), strings),
            );
    }

    /// The slides of `body`: cut by `cut` for the first version that shows
    /// it, the same plan for every other.
    pub(super) fn slide_plan(
        &self,
        body: &Arc<Body>,
        cut: impl FnOnce() -> SlidePlan,
    ) -> Arc<SlidePlan> {
        let key = Arc::as_ptr(body) as usize;
        let plans = self.slide_plans.read().unwrap_or_else(|p| p.into_inner());
        if let Some((_, plan)) = plans.get(&key) {
            return Arc::clone(plan);
        }
        drop(plans);
        let plan = Arc::new(cut());
        let mut plans = self.slide_plans.write().unwrap_or_else(|p| p.into_inner());
        let (_, plan) = plans.entry(key).or_insert((Arc::clone(body), plan));
        Arc::clone(plan)
    }

    /// Forgets the bodies of source pages `keep` rejects (pages edited or
    /// deleted since), so a long preview session does not grow without end.
    pub fn retain_sources(&self, keep: impl Fn(&Arc<SourcePage>) -> bool) {
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (source, _)| keep(source));
        self.strings
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (source, _)| keep(source));
        // The slides of bodies no entry holds any more.
        self.slide_plans
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (body, _)| Arc::strong_count(body) > 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::Rendered;
    use std::cell::Cell;

    fn body(html: &str) -> Arc<Body> {
        let rendered = Rendered {
            html: html.to_string(),
            ..Rendered::default()
        };
        Arc::new(Body::new(rendered, Vec::new()))
    }

    #[test]
    fn a_body_is_cut_into_slides_once_for_every_version() {
        let cache = BodyCache::new();
        let shared_body = body("<h2>A</h2><p>a</p><h2>B</h2>");
        let cuts = Cell::new(0);
        let cut = |html: &str| {
            cuts.set(cuts.get() + 1);
            SlidePlan::cut(html)
        };
        let first = cache.slide_plan(&shared_body, || cut(&shared_body.rendered.html));
        let again = cache.slide_plan(&shared_body, || cut(&shared_body.rendered.html));
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(cuts.get(), 1);
        // Another body with the same HTML (another version's rendering that
        // could not be shared) is cut on its own.
        let other = body("<h2>A</h2><p>a</p><h2>B</h2>");
        cache.slide_plan(&other, || cut(&other.rendered.html));
        assert_eq!(cuts.get(), 2);
    }

    #[test]
    fn the_slides_of_a_body_no_longer_cached_are_forgotten() {
        let cache = BodyCache::new();
        let gone = body("<p>avant</p>");
        cache.slide_plan(&gone, || SlidePlan::cut("<p>avant</p>"));
        let key = Arc::as_ptr(&gone) as usize;
        drop(gone);
        cache.retain_sources(|_| true);
        let plans = cache.slide_plans.read().unwrap_or_else(|p| p.into_inner());
        assert!(!plans.contains_key(&key));
    }
}
