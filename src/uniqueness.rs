//! The uniqueness report: how much of a client's version is its own.
//!
//! A client's share is the fraction of its visible text (titles and page
//! bodies, as rendered for that client) that does not appear in the base
//! version. Text is compared as overlapping three-word sequences
//! ("shingles"), page by page at the same URL: a shingle of the client's page
//! that the base page at that URL does not have counts as different; a page
//! the base does not have at all is entirely different. Reordering whole
//! modules does not count, rewording a sentence does. The same measure between
//! two clients gives their similarity (1 − difference), to name the most
//! similar other client.
//!
//! Pages whose rendered body is the very same as the base's (shared by the
//! body cache) are known identical without looking at their words.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;

use crate::markdown::strip_tags;
use crate::render::PageText;

/// One client's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientReport {
    /// Client folder name.
    pub slug: String,
    /// Client name.
    pub name: String,
    /// Share of the client's text that differs from the base (0..1).
    pub share: f64,
    /// Overlay pages replacing a base page (source files).
    pub overridden: Vec<PathBuf>,
    /// Overlay pages the base does not have (source files).
    pub added: Vec<PathBuf>,
    /// Variables the client's version uses.
    pub variables: Vec<String>,
    /// The most similar other client and how alike they are (0..1).
    pub most_similar: Option<(String, f64)>,
    /// The client's pages with the least of their own text, most generic first.
    pub generic_pages: Vec<PathBuf>,
}

/// A version's pages as the report needs them.
pub struct VersionTexts<'a> {
    /// Client folder name.
    pub slug: &'a str,
    /// Client name.
    pub name: &'a str,
    /// Title and body by URL.
    pub pages: &'a BTreeMap<String, PageText>,
    /// Overlay pages replacing base pages.
    pub overridden: Vec<PathBuf>,
    /// Overlay pages adding pages.
    pub added: Vec<PathBuf>,
    /// Variables used.
    pub variables: Vec<String>,
}

/// Shingle sets, computed once per distinct (body, title).
#[derive(Default)]
struct Shingles {
    sets: HashMap<(usize, String), Arc<HashSet<u64>>>,
}

impl Shingles {
    fn of(&mut self, page: &PageText) -> Arc<HashSet<u64>> {
        let key = (Arc::as_ptr(&page.body) as usize, page.title.clone());
        Arc::clone(
            self.sets
                .entry(key)
                .or_insert_with(|| Arc::new(shingles(&page.title, &page.body.rendered.html))),
        )
    }
}

fn shingles(title: &str, html: &str) -> HashSet<u64> {
    let text = format!("{title} {}", strip_tags(html));
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let width = 3.min(words.len().max(1));
    words
        .windows(width)
        .map(|window| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            window.hash(&mut hasher);
            hasher.finish()
        })
        .collect()
}

/// (different shingles, total shingles) of `page` against `other` (if any).
fn difference(
    shingles: &mut Shingles,
    page: &PageText,
    other: Option<&PageText>,
) -> (usize, usize) {
    let own = shingles.of(page);
    match other {
        Some(other) if Arc::ptr_eq(&page.body, &other.body) && page.title == other.title => {
            (0, own.len())
        }
        Some(other) => {
            let theirs = shingles.of(other);
            (
                own.iter().filter(|s| !theirs.contains(s)).count(),
                own.len(),
            )
        }
        None => (own.len(), own.len()),
    }
}

fn share(
    shingles: &mut Shingles,
    ours: &BTreeMap<String, PageText>,
    theirs: &BTreeMap<String, PageText>,
) -> f64 {
    let (mut different, mut total) = (0usize, 0usize);
    for (url, page) in ours {
        let (d, t) = difference(shingles, page, theirs.get(url));
        different += d;
        total += t;
    }
    if total == 0 {
        0.0
    } else {
        different as f64 / total as f64
    }
}

/// Computes every client's report against the base version.
pub fn report(base: &BTreeMap<String, PageText>, clients: &[VersionTexts]) -> Vec<ClientReport> {
    let mut shingles = Shingles::default();
    clients
        .iter()
        .map(|client| {
            let mut per_page: Vec<(f64, usize, PathBuf)> = client
                .pages
                .iter()
                .map(|(url, page)| {
                    let (d, t) = difference(&mut shingles, page, base.get(url));
                    let own = if t == 0 { 0.0 } else { d as f64 / t as f64 };
                    (own, t, page.file.clone())
                })
                .collect();
            per_page.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
            let most_similar = clients
                .iter()
                .filter(|other| other.slug != client.slug)
                .map(|other| {
                    let alike = 1.0 - share(&mut shingles, client.pages, other.pages);
                    (other.slug.to_string(), alike)
                })
                .max_by(|a, b| a.1.total_cmp(&b.1));
            ClientReport {
                slug: client.slug.to_string(),
                name: client.name.to_string(),
                share: share(&mut shingles, client.pages, base),
                overridden: client.overridden.clone(),
                added: client.added.clone(),
                variables: client.variables.clone(),
                most_similar,
                generic_pages: per_page
                    .into_iter()
                    .take(3)
                    .map(|(_, _, file)| file)
                    .collect(),
            }
        })
        .collect()
}

/// `42.5 %`.
pub fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::Rendered;
    use crate::render::Body;

    fn text(title: &str, html: &str) -> PageText {
        PageText {
            title: title.into(),
            file: PathBuf::from(format!("content/{title}.md")),
            body: Arc::new(Body {
                rendered: Rendered {
                    html: html.into(),
                    ..Rendered::default()
                },
                used: Vec::new(),
            }),
        }
    }

    #[test]
    fn shares_are_measured_on_words_page_by_page() {
        let shared = text(
            "a",
            "<p>un deux trois quatre cinq six sept huit neuf dix</p>",
        );
        let mut base = BTreeMap::new();
        base.insert("a/".to_string(), shared.clone());
        base.insert(
            "b/".to_string(),
            text("b", "<p>le même texte pour tout le monde ici</p>"),
        );
        let mut same = base.clone();
        same.insert("a/".to_string(), shared);
        let mut own = base.clone();
        own.insert(
            "b/".to_string(),
            text("b", "<p>Pour Maison Lemoine : Claire et ses chocolats</p>"),
        );
        let clients = [
            VersionTexts {
                slug: "same",
                name: "Same",
                pages: &same,
                overridden: vec![],
                added: vec![],
                variables: vec![],
            },
            VersionTexts {
                slug: "own",
                name: "Own",
                pages: &own,
                overridden: vec![],
                added: vec![],
                variables: vec![],
            },
        ];
        let reports = report(&base, &clients);
        assert_eq!(reports[0].share, 0.0);
        assert!(
            reports[1].share > 0.3 && reports[1].share < 0.7,
            "{}",
            reports[1].share
        );
        assert_eq!(
            reports[0].most_similar.as_ref().map(|s| s.0.as_str()),
            Some("own")
        );
        assert_eq!(reports[1].generic_pages[0], PathBuf::from("content/a.md"));
    }
}
