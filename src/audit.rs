//! What only `atelier check` looks for, beyond what every build validates:
//! modules without a duration (the agenda would lie), exercises no module
//! uses, confidentiality between clients (no version may contain another
//! client's name, variable values or overlay-only text), and the starter
//! project's placeholders still waiting to be replaced.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use crate::client::Client;
use crate::compose::Site;
use crate::config::{CONFIG_FILE, Config, line_of_key};
use crate::content::{Front, PageKind};
use crate::error::{Diagnostic, display_path, version_name};
use crate::load::{Loaded, LoadedClient};
use crate::markdown::strip_tags;
use crate::render::PageText;

/// Warnings for modules whose agenda slot would be zero minutes.
pub fn modules_without_duration(site: &Site) -> Vec<Diagnostic> {
    site.modules
        .iter()
        .filter(|m| m.duration.is_none())
        .map(|m| {
            let page = &site.pages[m.page];
            Diagnostic::warning(
                &page.file,
                format!(
                    "module `{}` has no duration: the agenda counts it as 0 minutes",
                    page.slug
                ),
            )
            .at_line(page.front_line.saturating_sub(1).max(1))
            .with_help("add `duration: 45 min` (or durations to its steps)")
        })
        .collect()
}

/// Warnings for exercises that no page lists or embeds, in any version.
pub fn unused_exercises<'a>(
    loaded: &Loaded,
    versions: impl Iterator<Item = &'a BTreeMap<String, PageText>>,
) -> Vec<Diagnostic> {
    let mut used: HashSet<String> = HashSet::new();
    let all_pages = loaded
        .pages
        .iter()
        .chain(loaded.clients.iter().flat_map(|c| c.pages.iter()));
    for page in all_pages.clone() {
        if let Front::Module(front) = &page.front {
            used.extend(front.exercises.iter().cloned());
        }
    }
    for pages in versions {
        for text in pages.values() {
            used.extend(text.body.embedded_exercises().map(str::to_string));
        }
    }
    let mut seen = HashSet::new();
    all_pages
        .filter(|page| page.kind == PageKind::Exercise && !page.front.remove())
        .filter(|page| !used.contains(&page.slug) && seen.insert(page.slug.clone()))
        .map(|page| {
            Diagnostic::warning(&page.file, format!("exercise `{}` is used by no module", page.slug))
                .at_line(page.front_line.saturating_sub(1).max(1))
                .with_help(format!(
                    "list it in a module's `exercises: [{}]`, embed it with `::: exercise {}`, or remove it",
                    page.slug, page.slug
                ))
        })
        .collect()
}

/// Sentences of a text, normalized (lowercase, single spaces), of at least
/// `min_words` words: the unit of "overlay-only text".
fn sentences(text: &str, min_words: usize) -> impl Iterator<Item = String> + '_ {
    text.split(['.', '!', '?', '\n'])
        .map(|s| {
            crate::markdown::words::words(s)
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
        })
        .filter(move |words| words.len() >= min_words)
        .map(|words| words.join(" "))
}

fn page_text(text: &PageText) -> String {
    format!("{}\n{}", text.title, strip_tags(&text.body.rendered.html))
}

/// Errors for every version that contains another client's name, variable
/// values or text found only in that client's overlay.
pub fn confidentiality(
    loaded: &Loaded,
    versions: &[(Option<&LoadedClient>, &BTreeMap<String, PageText>)],
) -> Vec<Diagnostic> {
    const MIN_WORDS: usize = 6;
    let base_sentences: HashSet<String> = versions
        .iter()
        .filter(|(client, _)| client.is_none())
        .flat_map(|(_, pages)| pages.values())
        .flat_map(|text| sentences(&page_text(text), MIN_WORDS).collect::<Vec<_>>())
        .collect();
    // What belongs to each client alone.
    let mut secrets: Vec<(&str, Vec<String>, HashSet<String>)> = Vec::new();
    for client in &loaded.clients {
        let slug = client.client.slug.as_str();
        let mut words: Vec<String> = vec![client.client.profile.name.clone()];
        words.extend(
            client
                .client
                .profile
                .vars
                .values()
                .filter(|v| v.trim().chars().count() >= 4)
                .cloned(),
        );
        let overlay_dir = Path::new("clients").join(slug);
        let own: HashSet<String> = versions
            .iter()
            .filter(|(c, _)| c.is_some_and(|c| c.client.slug == slug))
            .flat_map(|(_, pages)| pages.values())
            .filter(|text| text.file.starts_with(&overlay_dir))
            .flat_map(|text| sentences(&page_text(text), MIN_WORDS).collect::<Vec<_>>())
            .filter(|sentence| !base_sentences.contains(sentence))
            .collect();
        secrets.push((slug, words, own));
    }
    let mut problems = Vec::new();
    let mut reported: HashMap<(String, String), ()> = HashMap::new();
    for (client, pages) in versions {
        let owner = client.map(|c| c.client.slug.as_str());
        let version = version_name(owner, false);
        for text in pages.values() {
            let plain = page_text(text);
            let own_sentences: HashSet<String> = sentences(&plain, MIN_WORDS).collect();
            for (slug, words, overlay) in &secrets {
                if Some(*slug) == owner {
                    continue;
                }
                let leak = words
                    .iter()
                    .find(|w| plain.contains(w.as_str()))
                    .map(|w| format!("`{w}`"))
                    .or_else(|| {
                        overlay
                            .intersection(&own_sentences)
                            .min()
                            .map(|s| format!("text from clients/{slug}/content/ (\"{s}\")"))
                    });
                if let Some(what) = leak
                    && reported
                        .insert(
                            (
                                version.clone(),
                                format!("{}{slug}", display_path(&text.file)),
                            ),
                            (),
                        )
                        .is_none()
                {
                    problems.push(
                        Diagnostic::error(&text.file, format!("this page contains {what}, which belongs to client {slug}"))
                            .with_help(format!(
                                "put client-specific text in clients/{slug}/content/, in `::: only client=\"{slug}\"` blocks or in {{{{ client.* }}}} variables"
                            ))
                            .in_version(&version),
                    );
                }
            }
        }
    }
    problems
}

/// Domains reserved for documentation (RFC 2606): an address there is an
/// example still waiting for the real one, since nothing can be published
/// at it.
const EXAMPLE_DOMAINS: [&str; 4] = ["example.com", "example.net", "example.org", "example"];

/// Warnings for the values `atelier init` writes for the author to replace,
/// still present: `author` as the starter project has it (`starter` is its
/// configuration), and a `base_url` (of atelier.yaml or of the clients
/// checked) on a documentation domain such as example.org.
pub fn placeholders(
    config: &Config,
    config_text: &str,
    starter: Option<&Config>,
    clients: &[&Client],
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let at_key = |key: &str| line_of_key(config_text, key).unwrap_or(1);
    if let (Some(author), Some(placeholder)) =
        (&config.author, starter.and_then(|s| s.author.as_ref()))
        && author.trim() == placeholder.trim()
    {
        problems.push(
            Diagnostic::warning(
                CONFIG_FILE,
                format!("`author` is still the starter project's placeholder `{author}`"),
            )
            .at_line(at_key("author"))
            .with_help(
                "replace it with your name as participants should read it (`{{ site.author }}`, the pages' author), or remove the line",
            ),
        );
    }
    if let Some(url) = &config.base_url
        && is_example_address(url)
    {
        problems.push(example_address(CONFIG_FILE, at_key("base_url"), url));
    }
    for client in clients {
        if let Some(url) = &client.profile.base_url
            && is_example_address(url)
        {
            let line = line_of_key(&client.text, "base_url").unwrap_or(1);
            problems.push(example_address(&client.file, line, url));
        }
    }
    problems
}

fn example_address(file: impl AsRef<Path>, line: usize, url: &str) -> Diagnostic {
    Diagnostic::warning(
        file,
        format!("`base_url` is still a placeholder: `{url}` is an example address, where nothing can be published"),
    )
    .at_line(line)
    .with_help(
        "replace it with the address where this version will be published (the sitemap and canonical links use it), or remove the line until you know it",
    )
}

/// Whether `url`'s host is a documentation domain or under one.
fn is_example_address(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    EXAMPLE_DOMAINS
        .iter()
        .any(|domain| host == *domain || host.ends_with(&format!(".{domain}")))
}

#[cfg(test)]
mod placeholder_tests {
    use super::is_example_address;

    #[test]
    fn documentation_domains_are_placeholders_and_real_ones_are_not() {
        for url in [
            "https://example.org/",
            "https://formations.example.org/confiance/",
            "http://user@EXAMPLE.com:8080/x",
            "https://site.example/",
        ] {
            assert!(is_example_address(url), "{url}");
        }
        for url in [
            "https://formations.lemoine.fr/",
            "https://notexample.org/",
            "https://example.org.lemoine.fr/",
        ] {
            assert!(!is_example_address(url), "{url}");
        }
    }
}
