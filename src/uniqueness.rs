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

use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::hashing::{FastMap, FastSet};
use crate::markdown::words::{self, WordPart};
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

/// Identity of a page's rendered text: its (shared) body and its title.
type TextKey = (usize, u64);

fn key_of(page: &PageText) -> TextKey {
    let mut hasher = crate::hashing::fingerprint_hasher();
    page.title.hash(&mut hasher);
    (Arc::as_ptr(&page.body) as usize, hasher.finish())
}

/// A version's pages by URL, each with its text's identity, computed once.
type Keyed<'a> = FastMap<&'a str, (TextKey, &'a PageText)>;

fn keyed(pages: &BTreeMap<String, PageText>) -> Keyed<'_> {
    pages
        .iter()
        .map(|(url, page)| (url.as_str(), (key_of(page), page)))
        .collect()
}

/// Word sequences of each distinct page text, computed once and only for the
/// pages that differ somewhere; read-only once prepared, so clients are
/// compared in parallel.
#[derive(Default)]
struct Shingles {
    sets: FastMap<TextKey, PageShingles>,
    /// Shingle counts of the base's pages and of every page that differs.
    sizes: FastMap<TextKey, usize>,
    /// `different` of every client page against the base page at its URL,
    /// both ways: comparisons between two clients mostly come down to these.
    against_base: FastMap<(TextKey, TextKey), usize>,
}

impl Shingles {
    /// Reads every distinct text once, in parallel: sizes of the base's
    /// pages, shingles of the client pages that differ from the base and of
    /// the base pages they replace, and the difference of each such pair.
    fn prepare(base: &Keyed, clients: &[Keyed]) -> Shingles {
        let mut compared: FastMap<TextKey, &PageText> = FastMap::default();
        let mut pairs: FastSet<(TextKey, TextKey)> = FastSet::default();
        for client in clients {
            for (url, &(key, page)) in client {
                match base.get(url) {
                    Some(&(theirs, _)) if theirs == key => {}
                    Some(&(theirs, their_page)) => {
                        compared.insert(key, page);
                        compared.insert(theirs, their_page);
                        pairs.insert((key, theirs));
                        pairs.insert((theirs, key));
                    }
                    None => {
                        compared.insert(key, page);
                    }
                }
            }
        }
        let sets: FastMap<TextKey, PageShingles> = compared
            .into_iter()
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(key, page)| {
                let list = shingles(&page.title, &page.body.rendered.html);
                let set = list.iter().copied().collect();
                (key, (list, set))
            })
            .collect();
        let mut sizes: FastMap<TextKey, usize> = base
            .values()
            .filter(|(key, _)| !sets.contains_key(key))
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|&(key, page)| (key, text_size(page)))
            .collect();
        sizes.extend(sets.iter().map(|(&key, set)| (key, set.0.len())));
        let mut shingles = Shingles {
            sets,
            sizes,
            against_base: FastMap::default(),
        };
        let against_base = pairs
            .into_iter()
            .collect::<Vec<_>>()
            .into_par_iter()
            .filter_map(|(own, other)| Some(((own, other), shingles.count(own, other)?)))
            .collect();
        shingles.against_base = against_base;
        shingles
    }

    /// Shingles of the text `own` absent from the text `other`.
    fn count(&self, own: TextKey, other: TextKey) -> Option<usize> {
        let own = self.sets.get(&own)?;
        let theirs = self.sets.get(&other)?;
        Some(own.0.iter().filter(|s| !theirs.1.contains(s)).count())
    }

    /// How many shingles the text has.
    fn size(&self, key: TextKey, page: &PageText) -> usize {
        self.sizes
            .get(&key)
            .copied()
            .unwrap_or_else(|| text_size(page))
    }

    /// Shingles of `page` absent from `other` (the whole page when there is none).
    fn different(
        &self,
        (own_key, page): (TextKey, &PageText),
        other: Option<(TextKey, &PageText)>,
    ) -> usize {
        let Some((other_key, other)) = other else {
            return self.size(own_key, page);
        };
        if own_key == other_key {
            return 0;
        }
        if let Some(&known) = self.against_base.get(&(own_key, other_key)) {
            return known;
        }
        self.count(own_key, other_key).unwrap_or_else(|| {
            let own = shingles(&page.title, &page.body.rendered.html);
            let theirs: ShingleSet = shingles(&other.title, &other.body.rendered.html)
                .into_iter()
                .collect();
            own.iter().filter(|s| !theirs.contains(s)).count()
        })
    }
}

/// How many shingles a page's text has, counted without building them.
fn text_size(page: &PageText) -> usize {
    let words =
        words::count_words(&page.title, false) + words::count_words(&page.body.rendered.html, true);
    words.saturating_sub(2).max(usize::from(words > 0))
}

/// A hash per word (lowercased), without allocating the words; in HTML,
/// tags are skipped and end a word ([`words::visit_words`]).
fn word_hashes(title: &str, html: &str) -> Vec<u64> {
    const SEED: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut hashes = Vec::with_capacity(html.len() / 12);
    for (source, markup) in [(title, false), (html, true)] {
        let mut hash: Option<u64> = None;
        words::visit_words(source, markup, |part| match part {
            WordPart::Ascii(b) => {
                let h = hash.unwrap_or(SEED) ^ u64::from(b.to_ascii_lowercase());
                hash = Some(h.wrapping_mul(PRIME));
            }
            WordPart::Char(c) => {
                let mut h = hash.unwrap_or(SEED);
                for lower in c.to_lowercase() {
                    h ^= u64::from(lower);
                    h = h.wrapping_mul(PRIME);
                }
                hash = Some(h);
            }
            WordPart::Gap => {
                if let Some(h) = hash.take() {
                    hashes.push(h);
                }
            }
        });
        if let Some(h) = hash {
            hashes.push(h);
        }
    }
    hashes
}

/// Overlapping three-word sequences, each as one hash.
fn shingles(title: &str, html: &str) -> Vec<u64> {
    let words = word_hashes(title, html);
    let width = 3.min(words.len().max(1));
    words
        .windows(width)
        .map(|window| {
            window.iter().fold(0x9e37_79b9_7f4a_7c15_u64, |acc, &w| {
                (acc.rotate_left(23) ^ w).wrapping_mul(0xff51_afd7_ed55_8ccd)
            })
        })
        .collect()
}

/// Shingles are already hashes: sets of them need no second hashing.
#[derive(Default, Clone, Copy)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type ShingleSet = HashSet<u64, std::hash::BuildHasherDefault<PassThrough>>;

/// A page's shingles in order, and as a set.
type PageShingles = (Vec<u64>, ShingleSet);

/// A version's pages with what sets them apart from the base.
struct Profile<'a> {
    pages: &'a Keyed<'a>,
    /// URLs whose text differs from the base's.
    differing: FastSet<&'a str>,
    /// Total shingles of the version.
    total: usize,
}

/// Share of `a`'s text not found at the same URL in `b`. Pages where both
/// equal the base are equal to each other: only the differing ones are read.
fn share_between(shingles: &Shingles, a: &Profile, b: &Profile) -> f64 {
    let different: usize = a
        .differing
        .iter()
        .chain(b.differing.iter().filter(|url| !a.differing.contains(*url)))
        .filter_map(|url| {
            let &page = a.pages.get(url)?;
            Some(shingles.different(page, b.pages.get(url).copied()))
        })
        .sum();
    if a.total == 0 {
        0.0
    } else {
        different as f64 / a.total as f64
    }
}

/// Computes every client's report against the base version.
pub fn report(base: &BTreeMap<String, PageText>, clients: &[VersionTexts]) -> Vec<ClientReport> {
    let (base_keys, client_keys): (Keyed, Vec<Keyed>) = rayon::join(
        || keyed(base),
        || clients.par_iter().map(|c| keyed(c.pages)).collect(),
    );
    let shingles = Shingles::prepare(&base_keys, &client_keys);
    let profiles: Vec<Profile> = client_keys
        .par_iter()
        .map(|pages| {
            let differing: FastSet<&str> = pages
                .iter()
                .filter(|(url, (key, _))| base_keys.get(*url).is_none_or(|(b, _)| b != key))
                .map(|(url, _)| *url)
                .collect();
            let total = pages
                .values()
                .map(|&(key, page)| shingles.size(key, page))
                .sum();
            Profile {
                pages,
                differing,
                total,
            }
        })
        .collect();
    let base_profile = Profile {
        pages: &base_keys,
        differing: FastSet::default(),
        total: 0,
    };
    clients
        .par_iter()
        .zip(&profiles)
        .map(|(client, profile)| {
            let mut per_page: Vec<(f64, usize, &str, &std::path::Path)> = profile
                .pages
                .iter()
                .map(|(url, &(key, page))| {
                    let size = shingles.size(key, page);
                    let own = if profile.differing.contains(url) && size > 0 {
                        shingles.different((key, page), base_keys.get(url).copied()) as f64
                            / size as f64
                    } else {
                        0.0
                    };
                    (own, size, *url, page.file.as_path())
                })
                .collect();
            per_page.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2)));
            let share = share_between(&shingles, profile, &base_profile);
            let most_similar = clients
                .iter()
                .zip(&profiles)
                .filter(|(other, _)| other.slug != client.slug)
                .map(|(other, other_profile)| {
                    let alike = 1.0 - share_between(&shingles, profile, other_profile);
                    (other.slug.to_string(), alike)
                })
                .max_by(|a, b| a.1.total_cmp(&b.1));
            ClientReport {
                slug: client.slug.to_string(),
                name: client.name.to_string(),
                share,
                overridden: client.overridden.clone(),
                added: client.added.clone(),
                variables: client.variables.clone(),
                most_similar,
                generic_pages: per_page
                    .into_iter()
                    .take(3)
                    .map(|(_, _, _, file)| file.to_path_buf())
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
            body: Arc::new(Body::new(
                Rendered {
                    html: html.into(),
                    ..Rendered::default()
                },
                Vec::new(),
            )),
        }
    }

    /// The words of `html` as plain text: tags replaced by spaces, split on
    /// what is not alphanumeric, lowercased; the meaning the fast readers
    /// above must keep.
    fn reference_words(html: &str) -> Vec<String> {
        words::words(&words::strip_tags(html))
            .map(str::to_lowercase)
            .collect()
    }

    #[test]
    fn fast_word_readers_keep_the_plain_text_meaning() {
        for html in [
            "<p>Un <em>mot</em>, deux—trois <a href=\"x>y\">quatre</a></p>",
            "Été À l'ŒUVRE <b>ß</b>straße 2026 ! <unterminated tag",
            "a<b>c</b>d  <br/>e>f < g",
            "",
            "<>",
            "日本語のテキスト et émoji 🎉 fin",
        ] {
            let words = reference_words(html);
            assert_eq!(words::count_words(html, true), words.len(), "{html}");
            let expected: Vec<u64> = words
                .iter()
                .map(|w| {
                    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
                    for c in w.chars() {
                        h ^= u64::from(c);
                        h = h.wrapping_mul(0x0100_0000_01b3);
                    }
                    h
                })
                .collect();
            assert_eq!(word_hashes("", html), expected, "{html}");
        }
    }

    #[test]
    fn word_counts_agree_with_the_hashed_words() {
        let html =
            "<p>Un <em>mot</em>, deux—trois <a href=\"x\">quatre</a></p><pre>l'été 2026</pre>";
        assert_eq!(
            words::count_words("Titre ici", false) + words::count_words(html, true),
            word_hashes("Titre ici", html).len()
        );
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
