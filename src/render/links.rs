//! Link resolution: Markdown links between source files become site links.
//!
//! Authors link files as their editor sees them (`../exercises/x.md`,
//! `02-la-confiance.md#ancre`, `photo.jpg`), so links work in an editor's
//! preview; here they become links relative to the output root (prefixed with
//! [`ROOT_MARKER`]), and a target that does not exist is reported.

use crate::hashing::FastMap;

use crate::compose::Site;
use crate::content::SourcePage;
use crate::markdown::{LinkOutcome, ROOT_MARKER};

/// A key of everything [`resolve`] reads from a version: which source path
/// is which page at which URL, and which assets exist. Two versions with the
/// same key resolve every link the same way, so bodies shared between them
/// need not resolve their links again. `by_rel` maps a page's own `rel` to
/// its id, so it is read in page order (a map has none); the unordered
/// asset map is combined entry by entry, by addition.
pub(super) fn site_key(site: &Site, assets: &FastMap<&str, &str>) -> u64 {
    use std::hash::{Hash, Hasher};
    // `by_rel` holds exactly the published pages, by their own `rel`.
    let published = super::published_pages(site);
    debug_assert_eq!(published.len(), site.by_rel.len());
    let pages = {
        let mut hasher = crate::hashing::fingerprint_hasher();
        for id in published {
            let page = &site.pages[id];
            page.rel.hash(&mut hasher);
            page.url.hash(&mut hasher);
            id.hash(&mut hasher);
        }
        hasher.finish()
    };
    let files = assets
        .iter()
        .map(|entry| {
            let mut hasher = crate::hashing::fingerprint_hasher();
            entry.hash(&mut hasher);
            hasher.finish()
        })
        .fold(0u64, u64::wrapping_add);
    let mut hasher = crate::hashing::fingerprint_hasher();
    (site.by_rel.len(), assets.len(), pages, files).hash(&mut hasher);
    hasher.finish()
}

/// Resolves `dest`, written in `page`, against `site`.
pub(super) fn resolve(
    site: &Site,
    assets: &FastMap<&str, &str>,
    page: &SourcePage,
    dest: &str,
    is_image: bool,
) -> LinkOutcome {
    let dest = dest.trim();
    if dest.is_empty() || dest.starts_with("//") || has_scheme(dest) {
        return LinkOutcome::Keep;
    }
    if let Some(anchor) = dest.strip_prefix('#') {
        return LinkOutcome::Rewrite {
            href: dest.to_string(),
            anchor: (!anchor.is_empty()).then(|| (None, percent_decode(anchor))),
        };
    }
    if dest.starts_with('/') {
        return LinkOutcome::Broken {
            message: format!(
                "absolute link `{dest}` breaks when the site is not at the root of its host"
            ),
            help:
                "link to the Markdown file or asset with a relative path, e.g. `../exercises/x.md`"
                    .into(),
        };
    }
    let (path, fragment) = match dest.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (dest, None),
    };
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    };
    let Some(target) = join(&page.rel, &percent_decode(path)) else {
        return LinkOutcome::Broken {
            message: format!("link `{dest}` goes above the content folder"),
            help: "links between pages stay inside content/; files for every page go in static/"
                .into(),
        };
    };
    let what = if is_image { "image" } else { "file" };
    if target.ends_with(".md") {
        return match site.by_rel.get(&target) {
            Some(&id) => {
                let mut href = format!("{ROOT_MARKER}{}index.html", site.pages[id].url);
                if let Some(fragment) = fragment {
                    href.push('#');
                    href.push_str(fragment);
                }
                LinkOutcome::Rewrite {
                    href,
                    anchor: fragment
                        .filter(|f| !f.is_empty())
                        .map(|f| (Some(id), percent_decode(f))),
                }
            }
            None => LinkOutcome::Broken {
                message: format!("link to a page that is not in this version: `{dest}`"),
                help: format!(
                    "no page content/{target} here (missing, draft, or left out of this client's version); check the path relative to this file"
                ),
            },
        };
    }
    match assets.get(target.as_str()) {
        Some(output) => {
            let mut href = format!("{ROOT_MARKER}{output}");
            if let Some(query) = query {
                href.push('?');
                href.push_str(query);
            }
            if let Some(fragment) = fragment {
                href.push('#');
                href.push_str(fragment);
            }
            LinkOutcome::Rewrite { href, anchor: None }
        }
        None => LinkOutcome::Broken {
            message: format!("link to a missing {what}: `{dest}`"),
            help: format!(
                "put the {what} at content/{target}, or fix the path (relative to this file)"
            ),
        },
    }
}

fn has_scheme(dest: &str) -> bool {
    match dest.find(':') {
        Some(colon) => {
            let scheme = &dest[..colon];
            !scheme.is_empty()
                && !scheme.contains(['/', '#', '?'])
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// Joins a relative link to the folder of `from` (both content-relative),
/// normalizing `.` and `..`; `None` when it climbs above the content root.
fn join(from: &str, link: &str) -> Option<String> {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for segment in link.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            segment => parts.push(segment),
        }
    }
    Some(parts.join("/"))
}

/// A link as the author meant it: escapes decoded, or the text as written
/// when it is not a valid escaped UTF-8 path.
fn percent_decode(text: &str) -> String {
    crate::html::percent_decode(text)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_relative_paths() {
        assert_eq!(
            join("modules/01-a.md", "02-b.md").as_deref(),
            Some("modules/02-b.md")
        );
        assert_eq!(
            join("modules/01-a.md", "../exercises/x.md").as_deref(),
            Some("exercises/x.md")
        );
        assert_eq!(
            join("modules/03-r/01-s.md", "./img/p.png").as_deref(),
            Some("modules/03-r/img/p.png")
        );
        assert_eq!(join("a.md", "../../x.md"), None);
    }

    #[test]
    fn schemes() {
        assert!(has_scheme("https://x"));
        assert!(has_scheme("mailto:a@b"));
        assert!(!has_scheme("02-x.md#a:b"));
        assert!(!has_scheme("x.md"));
    }

    #[test]
    fn decodes() {
        assert_eq!(percent_decode("mon%20fichier.md"), "mon fichier.md");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
