//! An exercise embedded twice on one page (two `::: exercise x`).
//!
//! Each copy gets its own element ids when the page is rendered, and both
//! show the same answers; but two forms for one exercise on one page are
//! almost always a slip (a copied block), so the second embed is a warning
//! with its file and line. Checked once per project: a page's embeds are
//! tried in each version that may show it (the base, each client, and the
//! facilitator's view), and the warning names the first version where both
//! copies appear.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::client::ClientInfo;
use crate::content::SourcePage;
use crate::error::Diagnostic;
use crate::load::Loaded;
use crate::markdown::directives::{self, ExerciseRef, ExpandOptions};

/// Warnings for every page of `loaded` (base and overlays) that embeds the
/// same exercise twice in some version.
#[must_use]
pub fn exercises_embedded_twice(loaded: &Loaded) -> Vec<Diagnostic> {
    let clients: Vec<ClientInfo> = loaded.clients.iter().map(|c| c.client.info()).collect();
    let base = loaded.pages.iter().map(|page| (page, None));
    let overlays = loaded
        .clients
        .iter()
        .enumerate()
        .flat_map(|(index, client)| client.pages.iter().map(move |page| (page, Some(index))));
    let pages: Vec<_> = base.chain(overlays).collect();
    pages
        .par_iter()
        .filter_map(|(page, owner)| {
            let versions: Vec<Option<&ClientInfo>> = match owner {
                Some(index) => vec![clients.get(*index)],
                None => std::iter::once(None)
                    .chain(clients.iter().map(Some))
                    .collect(),
            };
            twice_on(page, &versions)
        })
        .collect()
}

/// The warning for `page` if one of `versions` shows an exercise twice.
fn twice_on(page: &SourcePage, versions: &[Option<&ClientInfo>]) -> Option<Diagnostic> {
    // Fewer than two `exercise` words: no repeat possible.
    page.body.matches("exercise").nth(1)?;
    // Every embed, whatever the version: most pages have no repeat at all.
    let all = embeds(page, None, true, true)?;
    repeat(&all)?;
    for &client in versions {
        for facilitator in [false, true] {
            let Some(refs) = embeds(page, client, facilitator, false) else {
                continue;
            };
            if let Some((first, second)) = repeat(&refs) {
                let shown = |line: usize| page.body_line + line - 1;
                let version = match client {
                    Some(info) => format!("{}'s version", info.name),
                    None => "the base version".to_string(),
                };
                let view = if facilitator {
                    " (facilitator view)"
                } else {
                    ""
                };
                return Some(
                    Diagnostic::warning(
                        &page.file,
                        format!(
                            "exercise `{}` is embedded twice on this page (first at line {}): \
                             {version}{view} shows two copies of its form",
                            second.id,
                            shown(first.line)
                        ),
                    )
                    .at_line(shown(second.line))
                    .with_help(
                        "remove one `::: exercise` block, or link to the exercise instead; \
                         if you keep both, each copy gets its own element ids and both show \
                         the same answers",
                    ),
                );
            }
        }
    }
    None
}

/// The exercise embeds of `page` in one version (`all`: every embed, as if
/// every condition held).
fn embeds(
    page: &SourcePage,
    client: Option<&ClientInfo>,
    facilitator: bool,
    all: bool,
) -> Option<Vec<ExerciseRef>> {
    let matches = |key: &str, value: &str| {
        all || match client {
            None => false,
            Some(info) if key == "client" => info.slug == value,
            Some(info) => info.value(key).is_some_and(|v| v == value),
        }
    };
    let opts = ExpandOptions {
        facilitator,
        html: &directives::NoHtml,
        matches: &matches,
    };
    let expanded = directives::expand(&page.body, &opts).ok()?;
    Some(
        expanded
            .exercises
            .into_iter()
            .filter(|e| all || e.included)
            .collect(),
    )
}

/// The first embed of an exercise embedded again, and that second embed.
fn repeat(refs: &[ExerciseRef]) -> Option<(&ExerciseRef, &ExerciseRef)> {
    let mut first_of: HashMap<&str, &ExerciseRef> = HashMap::new();
    for embed in refs {
        if let Some(first) = first_of.get(embed.id.as_str()) {
            return Some((first, embed));
        }
        first_of.insert(&embed.id, embed);
    }
    None
}
