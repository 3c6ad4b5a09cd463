//! Articles: the part of a page that does not depend on its version.
//!
//! A page template such as `module.html` is a frame (header, footer, the
//! client's name) around an article (`articles/module.html`: title, steps,
//! table of contents, body, pager). An article template sees `page`, `t`,
//! `lang` and `root` but not `site`, and `page.permalink` is none in it, so
//! its HTML is the same in every version where the page reads the same.
//! Twenty client versions of a 2,000-page masterclass share most pages: each
//! page's template value and article are made once for all of them, and
//! only the frames are rendered per version.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use tera::{Context, Value};

use crate::compose::PageId;
use crate::content::SourcePage;
use crate::error::Diagnostic;
use crate::hashing::FastMap;

use super::Shared;
use super::body::Body;
use super::pages;
use super::values::PageValue;

/// Folder of article templates, beside the page templates.
const ARTICLES: &str = "articles/";

/// Page parts made so far in one build, shared by all its versions.
#[derive(Default)]
pub struct ArticleCache {
    parts: Mutex<FastMap<u64, Cached>>,
}

impl ArticleCache {
    /// An empty cache, for one build.
    pub fn new() -> ArticleCache {
        ArticleCache::default()
    }
}

/// What a page's frame is rendered with besides the version-wide values.
#[derive(Clone)]
pub(super) struct Parts {
    /// `page`, with `permalink` none (the only field that names the version).
    pub page: Value,
    /// The rendered article, when the theme has an article template.
    pub article: Option<Value>,
}

/// Cached parts. They keep the source page and body they were made from
/// alive: their addresses are part of the key, and an address must not be
/// reused by another page while the key is in the cache.
struct Cached {
    parts: Parts,
    _source: (Arc<SourcePage>, Arc<Body>),
}

/// The version-wide values an article reads (strings and language), hashed
/// once per version for every key.
pub(super) struct Keys {
    version: u64,
}

impl Keys {
    pub(super) fn new(shared: &Shared) -> Keys {
        let mut hasher = crate::hashing::fingerprint_hasher();
        shared.labels.hash(&mut hasher);
        shared.version.language.hash(&mut hasher);
        Keys {
            version: hasher.finish(),
        }
    }
}

/// The page value and article of page `id`, rendered with page template
/// `template`: from the cache when another version made the same ones,
/// else from `value` (the page's value without its permalink).
pub(super) fn parts(
    shared: &Shared,
    id: PageId,
    body: &Arc<Body>,
    template: &str,
    value: impl FnOnce() -> PageValue,
) -> Result<Parts, Diagnostic> {
    let key = shared
        .articles
        .zip(shared.article_keys.as_ref())
        .and_then(|(cache, keys)| Some((cache, key(shared, keys, id, body, template)?)));
    if let Some((cache, key)) = key
        && let Some(found) = lock(cache).get(&key)
    {
        return Ok(found.parts.clone());
    }
    let source = &shared.site.pages[id];
    let page = Value::try_from_serializable(&value()).map_err(|e| {
        Diagnostic::error(
            &source.file,
            format!("cannot pass this page to its template: {e}"),
        )
    })?;
    let article = match template_for(shared, template) {
        Some(article) => Some(render(shared, id, &article, &page)?),
        None => None,
    };
    let parts = Parts { page, article };
    if let Some((cache, key)) = key {
        lock(cache).entry(key).or_insert_with(|| Cached {
            parts: parts.clone(),
            _source: (Arc::clone(&shared.site.pages[id]), Arc::clone(body)),
        });
    }
    Ok(parts)
}

/// The article template of page template `template`, if the theme has one.
fn template_for(shared: &Shared, template: &str) -> Option<String> {
    let name = format!("{ARTICLES}{template}");
    shared.theme.has_template(&name).then_some(name)
}

fn lock(cache: &ArticleCache) -> std::sync::MutexGuard<'_, FastMap<u64, Cached>> {
    cache
        .parts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Everything the parts of page `id` depend on: what its page value reads
/// ([`pages::fingerprint`]), its URL and kind (its `root`, `url`, `href`),
/// the template, and the version's strings and language. `None` for pages
/// whose value is never fingerprinted (exercises, landing page).
fn key(shared: &Shared, keys: &Keys, id: PageId, body: &Arc<Body>, template: &str) -> Option<u64> {
    let fingerprint = pages::fingerprint(shared, id, body)?;
    let page = &shared.site.pages[id];
    let mut hasher = crate::hashing::fingerprint_hasher();
    fingerprint.hash(&mut hasher);
    keys.version.hash(&mut hasher);
    page.url.hash(&mut hasher);
    page.kind.hash(&mut hasher);
    template.hash(&mut hasher);
    Some(hasher.finish())
}

fn render(shared: &Shared, id: PageId, template: &str, page: &Value) -> Result<Value, Diagnostic> {
    let source = &shared.site.pages[id];
    let mut context = Context::new();
    context.insert_value("t", shared.labels_value.clone());
    context.insert("lang", super::language::of(shared.version, source));
    context.insert("root", &super::root_prefix(&source.url));
    context.insert_value("page", page.clone());
    let html = shared
        .theme
        .tera
        .render(template, &context)
        .map_err(|e| shared.theme.render_error(&e, &source.file))?;
    Ok(Value::safe_string(&html))
}
