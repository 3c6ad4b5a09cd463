//! Client rules that name nobody: `::: only client="…"`, `::: except
//! sector="…"` and a page's `clients: { only: […], except: […] }` naming a
//! client slug that does not exist, or a client.yaml value no client has.
//!
//! Such a rule never fails by itself: the block or page is just hidden from
//! every version (or shown to all), which is how a typo silently loses
//! content. The set of clients and their values is known once the project
//! is loaded, so the rules are checked once per project, not once per
//! version: each typo is reported once. They are warnings in `build` and
//! errors in `check` (README.md's "Clients").

use std::collections::BTreeSet;

use rayon::prelude::*;

use crate::client::ClientInfo;
use crate::content::SourcePage;
use crate::error::Diagnostic;
use crate::load::Loaded;
use crate::markdown::directives::{self, ClientCondition};
use crate::suggest::closest;

/// Warnings for every rule of `loaded`'s pages (base and overlays) that
/// names a client or a value no client has, in file order.
#[must_use]
pub fn unknown_clients_and_values(loaded: &Loaded) -> Vec<Diagnostic> {
    let known = Known::new(loaded);
    let pages: Vec<&SourcePage> = loaded
        .pages
        .iter()
        .chain(loaded.clients.iter().flat_map(|c| c.pages.iter()))
        .map(AsRef::as_ref)
        .collect();
    pages
        .par_iter()
        .flat_map_iter(|page| {
            let mut found = page_rule_problems(page, &known);
            found.extend(
                directives::client_conditions(&page.body)
                    .into_iter()
                    .filter_map(|condition| condition_problem(page, &condition, &known)),
            );
            found
        })
        .collect()
}

/// The clients of the project, as their rules can name them.
struct Known {
    infos: Vec<ClientInfo>,
}

impl Known {
    fn new(loaded: &Loaded) -> Known {
        Known {
            infos: loaded.clients.iter().map(|c| c.client.info()).collect(),
        }
    }

    fn slugs(&self) -> impl Iterator<Item = &str> {
        self.infos.iter().map(|info| info.slug.as_str())
    }

    fn is_client(&self, slug: &str) -> bool {
        self.slugs().any(|s| s == slug)
    }

    /// Every value some client has for `key`, sorted, without repeats.
    fn values(&self, key: &str) -> BTreeSet<String> {
        self.infos
            .iter()
            .filter_map(|info| info.value(key))
            .collect()
    }

    /// Every key some client has a value for.
    fn keys(&self) -> BTreeSet<String> {
        let mut keys: BTreeSet<String> = ["client", "name", "sector", "city", "audience"]
            .iter()
            .map(|k| (*k).to_string())
            .collect();
        for info in &self.infos {
            keys.extend(info.vars.keys().map(|k| format!("vars.{k}")));
        }
        keys
    }

    /// "did you mean `x`? clients: a, b" for a slug that is not a client.
    fn slug_help(&self, slug: &str) -> String {
        let all: Vec<&str> = self.slugs().collect();
        if all.is_empty() {
            return "the project has no client yet: add clients/<slug>/client.yaml".to_string();
        }
        let names: BTreeSet<String> = all.iter().map(|s| (*s).to_string()).collect();
        let listed = format!("the clients are: {}", listing(&names));
        match closest(slug, all.iter().copied()) {
            Some(near) => format!("did you mean `{near}`? {listed}"),
            None => listed,
        }
    }
}

/// A `clients:` rule in the front matter naming a slug that is not a client.
fn page_rule_problems(page: &SourcePage, known: &Known) -> Vec<Diagnostic> {
    let Some(rule) = page.front.clients() else {
        return Vec::new();
    };
    let lists = [("only", &rule.only), ("except", &rule.except)];
    let mut problems = Vec::new();
    for (list, slugs) in lists {
        for slug in slugs.iter().filter(|slug| !known.is_client(slug)) {
            let effect = if list == "only" {
                "no client gets the page because of it"
            } else {
                "it excludes nobody"
            };
            let message = format!(
                "`clients: {{ {list}: [...] }}` names `{slug}`, which is not a client: {effect}"
            );
            let (line, column) = front_position(page, slug);
            problems.push(
                Diagnostic::warning(&page.file, message)
                    .at(line, column)
                    .with_help(known.slug_help(slug)),
            );
        }
    }
    problems
}

/// Where `slug` is written in the page's `clients:` front matter (file line
/// and column), else the line of `clients:`.
fn front_position(page: &SourcePage, slug: &str) -> (usize, usize) {
    let lines: Vec<&str> = page.front_text.lines().collect();
    let start = lines
        .iter()
        .position(|line| line.trim_start().starts_with("clients:"))
        .unwrap_or(0);
    for (i, line) in lines.iter().enumerate().skip(start) {
        if let Some(at) = find_word(line, slug) {
            return (page.front_line + i, line[..at].chars().count() + 1);
        }
    }
    (page.front_line + start, 1)
}

/// The byte offset of `word` in `line` not inside a longer name.
fn find_word(line: &str, word: &str) -> Option<usize> {
    let is_name = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    line.match_indices(word).map(|(at, _)| at).find(|&at| {
        let before = line[..at].chars().next_back().is_none_or(|c| !is_name(c));
        let after = line[at + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_name(c));
        before && after
    })
}

/// Up to a dozen names, comma-separated, for a help line.
fn listing(names: &BTreeSet<String>) -> String {
    const SHOWN: usize = 12;
    let mut text = names
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

/// A condition of an `only` / `except` block no client satisfies.
fn condition_problem(
    page: &SourcePage,
    condition: &ClientCondition,
    known: &Known,
) -> Option<Diagnostic> {
    let ClientCondition {
        directive,
        key,
        value,
        ..
    } = condition;
    let effect = if *directive == "only" {
        "the block is hidden from every version"
    } else {
        "the block is shown to every version"
    };
    let (message, help) = if key == "client" {
        if known.is_client(value) {
            return None;
        }
        (
            format!("`::: {directive} client=\"{value}\"` names no client: {effect}"),
            known.slug_help(value),
        )
    } else {
        let values = known.values(key);
        if values.contains(value) {
            return None;
        }
        if values.is_empty() {
            let keys = known.keys();
            let listed = format!("conditions use client.yaml keys: {}", listing(&keys));
            let help = match closest(key, keys.iter().map(String::as_str)) {
                Some(near) => format!("did you mean `{near}`? {listed}"),
                None => listed,
            };
            (
                format!(
                    "`::: {directive} {key}=\"{value}\"` asks for a value no client has (no \
                     client.yaml sets `{key}`): {effect}"
                ),
                help,
            )
        } else {
            let listed = format!("the clients' `{key}` values are: {}", listing(&values));
            let help = match closest(value, values.iter().map(String::as_str)) {
                Some(near) => format!("did you mean `{near}`? {listed}"),
                None => listed,
            };
            (
                format!(
                    "`::: {directive} {key}=\"{value}\"` asks for a value no client has: {effect}"
                ),
                help,
            )
        }
    };
    Some(
        Diagnostic::warning(&page.file, message)
            .at(page.body_line + condition.line - 1, condition.column)
            .with_help(help),
    )
}
