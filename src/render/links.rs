//! Link resolution: Markdown links between source files become site links.
//!
//! Authors link files as their editor sees them (`../exercises/x.md`,
//! `02-la-confiance.md#ancre`, `photo.jpg`), so links work in an editor's
//! preview; here they become links relative to the output root (prefixed with
//! [`ROOT_MARKER`]), and a target that does not exist is reported.

use crate::hashing::{FastMap, FastSet};

use super::Shared;
use crate::compose::{LeftOut, Site};
use crate::content::SourcePage;
use crate::markdown::{LinkOutcome, ROOT_MARKER};

/// A key of everything [`resolve`] reads from a version: which source path
/// is which page at which URL, which pages are left out and why, and which
/// assets and static files exist. Two versions with the same key resolve
/// every link the same way, so bodies shared between them need not resolve
/// their links again. `by_rel` maps a page's own `rel` to its id, so it is
/// read in page order (a map has none); the unordered maps are combined
/// entry by entry, by addition.
pub(super) fn site_key(site: &Site, assets: &FastMap<&str, &str>, statics: &FastSet<&str>) -> u64 {
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
    let unordered = |entry: &dyn Fn(&mut ahash::AHasher)| {
        let mut hasher = crate::hashing::fingerprint_hasher();
        entry(&mut hasher);
        hasher.finish()
    };
    let files = assets
        .iter()
        .map(|entry| unordered(&|h| entry.hash(h)))
        .fold(0u64, u64::wrapping_add);
    let left_out = site
        .left_out
        .iter()
        .map(|entry| unordered(&|h| entry.hash(h)))
        .fold(0u64, u64::wrapping_add);
    let statics_key = statics
        .iter()
        .map(|entry| unordered(&|h| entry.hash(h)))
        .fold(0u64, u64::wrapping_add);
    let mut hasher = crate::hashing::fingerprint_hasher();
    (
        (site.by_rel.len(), assets.len(), pages, files),
        (site.left_out.len(), left_out, statics.len(), statics_key),
    )
        .hash(&mut hasher);
    hasher.finish()
}

/// Resolves `dest`, written in `page`, against the version in `shared`.
pub(super) fn resolve(
    shared: &Shared,
    page: &SourcePage,
    dest: &str,
    is_image: bool,
) -> LinkOutcome {
    let site = shared.site;
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
    let (path, fragment) = match dest.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (dest, None),
    };
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    };
    let suffix = |href: String| with_suffix(href, query, fragment);
    if dest.starts_with('/') {
        return absolute(shared, page, dest, &percent_decode(path));
    }
    let decoded = percent_decode(path);
    let what = if is_image { "image" } else { "file" };
    let Some(target) = join(&page.rel, &decoded) else {
        return above_content(shared, page, dest, &decoded, what, suffix);
    };
    // A file of that name comes first: it is what the author's editor opens.
    if let Some(asset) = (!target.ends_with(".md"))
        .then(|| shared.assets.get(target.as_str()))
        .flatten()
    {
        return LinkOutcome::Rewrite {
            href: suffix(format!("{ROOT_MARKER}{asset}")),
            anchor: None,
        };
    }
    match page_source(site, &target) {
        Some(source) => to_page(site, source, dest, fragment, is_image),
        None => LinkOutcome::Broken {
            message: format!("link to a missing {what}: `{dest}`"),
            help: match target.strip_suffix(".html") {
                Some(stem) if !is_image => format!(
                    "no page content/{stem}.md and no file content/{target}; fix the path (relative to this file)"
                ),
                _ => format!(
                    "put the {what} at content/{target}, or fix the path (relative to this file)"
                ),
            },
        },
    }
}

/// `href` with the link's query and fragment put back.
fn with_suffix(mut href: String, query: Option<&str>, fragment: Option<&str>) -> String {
    if let Some(query) = query {
        href.push('?');
        href.push_str(query);
    }
    if let Some(fragment) = fragment {
        href.push('#');
        href.push_str(fragment);
    }
    href
}

/// A relative link that climbs above the content folder: fine when it
/// reaches a file of `static/`, which is at the output root.
fn above_content(
    shared: &Shared,
    page: &SourcePage,
    dest: &str,
    decoded: &str,
    what: &str,
    suffix: impl Fn(String) -> String,
) -> LinkOutcome {
    let Some((folder, file)) = static_target(page, decoded) else {
        return LinkOutcome::Broken {
            message: format!("link `{dest}` goes above the content folder"),
            help: "links between pages stay inside content/; a file in the project's static/ folder is reached with a relative path into it, e.g. `../../static/logo.png` from content/modules/"
                .into(),
        };
    };
    if shared.statics.contains(file.as_str()) {
        LinkOutcome::Rewrite {
            href: suffix(format!("{ROOT_MARKER}{file}")),
            anchor: None,
        }
    } else {
        LinkOutcome::Broken {
            message: format!("link to a missing {what} in static/: `{dest}`"),
            help: format!(
                "put the {what} at {folder}{file} (copied to the output root), or fix the path (relative to this file)"
            ),
        }
    }
}

/// The source path of the page a content-relative `target` names, if it
/// names one (published here or not): `x.md` itself, or `x.html` written
/// the mdBook way beside a source `x.md` (`index.html`: `_index.md`).
fn page_source<'t>(site: &Site, target: &'t str) -> Option<std::borrow::Cow<'t, str>> {
    let known = |rel: &str| site.by_rel.contains_key(rel) || site.left_out.contains_key(rel);
    if target.ends_with(".md") {
        return Some(target.into());
    }
    let stem = target.strip_suffix(".html")?;
    let beside = format!("{stem}.md");
    if known(&beside) {
        return Some(beside.into());
    }
    let folder = match stem.strip_suffix("index")? {
        folder if folder.is_empty() || folder.ends_with('/') => folder,
        _ => return None,
    };
    let module = format!("{folder}_index.md");
    known(&module).then(|| module.into())
}

/// A link to the page at `source`: its URL when this version publishes it,
/// otherwise the link goes and its text stays (a page left out of this
/// version, or no page at all).
fn to_page(
    site: &Site,
    source: std::borrow::Cow<str>,
    dest: &str,
    fragment: Option<&str>,
    is_image: bool,
) -> LinkOutcome {
    if let Some(&id) = site.by_rel.get(source.as_ref()) {
        let mut href = format!("{ROOT_MARKER}{}index.html", site.pages[id].url);
        if let Some(fragment) = fragment {
            href.push('#');
            href.push_str(fragment);
        }
        return LinkOutcome::Rewrite {
            href,
            anchor: fragment
                .filter(|f| !f.is_empty())
                .map(|f| (Some(id), percent_decode(f))),
        };
    }
    let (message, help) = match site.left_out.get(source.as_ref()) {
        Some(reason) => (
            format!(
                "link to a page that is not in this version: `{dest}` (its text is kept, without the link)"
            ),
            left_out_help(*reason, &source),
        ),
        None => (
            format!("link to a missing page: `{dest}` (its text is kept, without the link)"),
            format!("no page content/{source}; check the path (relative to this file)"),
        ),
    };
    if is_image {
        return LinkOutcome::Broken { message, help };
    }
    LinkOutcome::Unlinked { message, help }
}

/// How to bring a left-out page back, or to stop linking to it.
fn left_out_help(reason: LeftOut, source: &str) -> String {
    let why = match reason {
        LeftOut::Draft => {
            format!("content/{source} is a draft (`draft: true`; `--drafts` builds it)")
        }
        LeftOut::Removed => {
            format!("this client's overlay hides content/{source} with `remove: true`")
        }
        LeftOut::ClientRule => {
            format!("the `clients:` rule in the front matter of {source} leaves this version out")
        }
        LeftOut::NotSelected => format!(
            "content/{source} belongs to a module missing from this client's `modules:` in client.yaml"
        ),
    };
    format!("{why}; publish the page in this version, or put the link in a `::: except` block")
}

/// A root-absolute link: it breaks when the site is not at the root of its
/// host, so it is reported, with the relative path to write when it names a
/// file of `static/` (`/static/logo.png` or `/logo.png`).
fn absolute(shared: &Shared, page: &SourcePage, dest: &str, path: &str) -> LinkOutcome {
    let rest = path.trim_start_matches('/');
    let file = [rest.strip_prefix("static/"), Some(rest)]
        .into_iter()
        .flatten()
        .find(|file| shared.statics.contains(file));
    let help = match file {
        Some(file) => format!(
            "static/ is copied to the output root; write the path relative to this file: `{}static/{file}`",
            "../".repeat(crate::error::display_path(&page.file).matches('/').count())
        ),
        None => "link to the Markdown file or asset with a relative path, e.g. `../exercises/x.md`"
            .to_string(),
    };
    LinkOutcome::Broken {
        message: format!(
            "absolute link `{dest}` breaks when the site is not at the root of its host"
        ),
        help,
    }
}

/// The file of `static/` that a relative link from `page` reaches, as the
/// author's editor sees the files (`../../static/logo.png` from
/// `content/modules/x.md`), as (its folder, its output path); from an
/// overlay page, its client's `static/` too. Both land at the version's
/// output root, the client's copy replacing the project's.
fn static_target(page: &SourcePage, link: &str) -> Option<(String, String)> {
    let file = crate::error::display_path(&page.file);
    let reached = join(&file, link)?;
    let mut parts = file.splitn(3, '/');
    let own = match (parts.next(), parts.next()) {
        (Some("clients"), Some(slug)) => Some(format!("clients/{slug}/static/")),
        _ => None,
    };
    let folder = std::iter::once("static/".to_string())
        .chain(own)
        .find(|folder| reached.starts_with(folder.as_str()))?;
    let output = reached[folder.len()..].to_string();
    Some((folder, output))
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
