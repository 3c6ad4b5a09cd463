//! The versions a publish sends, built through the normal pipeline into
//! memory: each participant version alone at its own root, as
//! `build --client SLUG` writes it (the base version without `clients/`).

use std::sync::Arc;

use rayon::prelude::*;

use crate::error::{Diagnostic, Diagnostics, Error, Result};
use crate::hashing::FastMap;
use crate::load::{Loaded, LoadedClient};
use crate::output::{MemoryFiles, MemorySink};
use crate::pipeline::{self, Inputs, Reuse};
use crate::plan::{self, BuildOptions, VersionPlan};
use crate::project::Project;
use crate::render::{ArticleCache, BodyCache};

/// A rendered version's files, by path.
pub(super) type Files = FastMap<String, Arc<[u8]>>;

/// The plan of one participant version at the output root: the base
/// (`None`) or a client's.
pub(super) fn plan_for<'a>(
    project: &Project,
    loaded: &'a Loaded,
    client: Option<&'a LoadedClient>,
) -> Result<VersionPlan<'a>> {
    let options = BuildOptions {
        clients: client
            .map(|c| vec![c.client.slug.clone()])
            .unwrap_or_default(),
        ..BuildOptions::default()
    };
    let plans = plan::for_build(project, loaded, &options)?;
    let mut plan = plans
        .into_iter()
        .find(|p| p.slug() == client.map(|c| c.client.slug.as_str()))
        .ok_or_else(|| Error::Usage("no such version".into()))?;
    // A publish sends pages; it keeps no text for a uniqueness report.
    plan.version.collect_texts = false;
    plan.prefix = String::new();
    Ok(plan)
}

/// Renders each plan into memory, the base version first (it fills the
/// caches every client reads), then the clients side by side. What is
/// found goes to `diagnostics` under each version's name; a version that
/// failed is `None`.
pub(super) fn render(
    project: &Project,
    loaded: &Loaded,
    plans: &[VersionPlan],
    diagnostics: &Diagnostics,
) -> Vec<Option<Files>> {
    let cache = (plans.len() > 1).then(BodyCache::new);
    let articles = (plans.len() > 1).then(ArticleCache::new);
    let inputs = Inputs {
        project,
        loaded,
        cache: cache.as_ref(),
        articles: articles.as_ref(),
    };
    let one = |plan: &VersionPlan| {
        let sink = MemorySink::default();
        let found = Diagnostics::new();
        let outcome = pipeline::render_version(&inputs, plan, Reuse::default(), &sink, &found);
        let files = outcome
            .rendered
            .and_then(|_| with_copied_bytes(sink.into_files(), &found));
        diagnostics.absorb(&plan.name(), found);
        files
    };
    let base = plans.iter().position(|p| p.client.is_none());
    let first = base.map(|i| (i, one(&plans[i])));
    let mut rendered: Vec<(usize, Option<Files>)> = plans
        .par_iter()
        .enumerate()
        .filter(|(index, _)| Some(*index) != base)
        .map(|(index, plan)| (index, one(plan)))
        .collect();
    rendered.extend(first);
    rendered.sort_by_key(|(index, _)| *index);
    rendered.into_iter().map(|(_, files)| files).collect()
}

/// The version's files with the bytes of those the build copies from the
/// project (`static/`, the theme's assets), which the sink only names: a
/// publish hashes and sends them. A source that cannot be read now is an
/// error of the version (`None`).
fn with_copied_bytes(files: MemoryFiles, found: &Diagnostics) -> Option<Files> {
    let MemoryFiles {
        mut written,
        copied,
    } = files;
    let mut complete = true;
    for (rel, source) in copied {
        match std::fs::read(&source) {
            Ok(bytes) => {
                written.insert(rel, Arc::from(bytes));
            }
            Err(e) => {
                complete = false;
                found.push(
                    Diagnostic::error(&source, format!("cannot read this file to publish it: {e}"))
                        .with_help(
                            "check that it still exists and can be read, then publish again",
                        ),
                );
            }
        }
    }
    complete.then_some(written)
}
