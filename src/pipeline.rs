//! One version, from loaded sources to files: compose → render every
//! output kind → sink. `build`, `check` and `serve` all call
//! [`render_version`] for each [`VersionPlan`]; they differ only in the plans
//! they make, the sink they pass, and what the preview server brings from
//! its last rebuild ([`Reuse`]).
//!
//! The output kinds of a version ([`crate::render::OutputKind`]: the HTML site, the
//! sitemap; next the slide deck, the workbook PDF, the search index) are the
//! plug-in point: a new kind implements the trait and joins
//! [`crate::render::output_kinds`], and every command renders it for every version.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::compose::{ComposeOptions, Site, compose};
use crate::error::{Diagnostic, Diagnostics};
use crate::load::{Loaded, merged_static};
use crate::output::Sink;
use crate::plan::VersionPlan;
use crate::project::Project;
use crate::render::{ArticleCache, BodyCache, PageMemo, RenderJob, RenderSummary};

/// What every version of one command shares.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    /// The project and its configuration.
    pub project: &'a Project,
    /// Everything read from disk.
    pub loaded: &'a Loaded,
    /// Bodies shared between versions (and, in the preview server, with
    /// the next rebuild).
    pub cache: Option<&'a BodyCache>,
    /// Articles shared between the versions of one build.
    pub articles: Option<&'a ArticleCache>,
}

/// A composed version, with the warnings composing it gave (reported
/// again whenever it is rendered again).
#[derive(Clone)]
pub struct Composed {
    /// The composition.
    pub site: Arc<Site>,
    /// What composing found without failing.
    pub warnings: Vec<Diagnostic>,
}

/// What the preview server brings from its last rebuild of a version; a
/// clean build brings nothing ([`Reuse::default`]).
pub struct Reuse<'a> {
    /// The version's composition, when an edit left every front matter as
    /// it was: rendered as is instead of composing again.
    pub composed: Option<Composed>,
    /// The version's pages as last rendered: a page whose fingerprint did
    /// not change is reused byte for byte.
    pub previous: Option<&'a PageMemo>,
    /// Keep the pages' fingerprints and bytes in the summary's memo, for the
    /// next rebuild (those pages go there instead of the sink).
    pub remember: bool,
    /// Write the print page with the others (else it is rendered when
    /// asked for, see [`crate::render::render_print`]).
    pub print: bool,
}

impl Default for Reuse<'_> {
    fn default() -> Self {
        Reuse {
            composed: None,
            previous: None,
            remember: false,
            print: true,
        }
    }
}

/// A version rendered without errors.
pub struct Rendered {
    /// What rendering produced (pages, texts, memo, timings).
    pub summary: RenderSummary,
    /// The version's static files (the project's, the client's over them).
    pub static_files: Vec<(String, PathBuf)>,
    /// Wall time of composing.
    pub composing: Duration,
}

/// What [`render_version`] did.
pub struct VersionOutcome {
    /// The composition, `None` when composing failed.
    pub composed: Option<Composed>,
    /// The rendering, `None` when anything failed.
    pub rendered: Option<Rendered>,
}

/// Composes `plan`'s version (or takes `reuse.composed`) and renders each of
/// its output kinds into `sink`, in turn. Every problem goes to
/// `diagnostics`.
pub fn render_version(
    inputs: &Inputs,
    plan: &VersionPlan,
    reuse: Reuse,
    sink: &dyn Sink,
    diagnostics: &Diagnostics,
) -> VersionOutcome {
    let Inputs {
        project, loaded, ..
    } = *inputs;
    let started = Instant::now();
    let client = plan.client.map(|c| &c.client);
    let composed = match reuse.composed {
        Some(composed) => composed,
        None => {
            let (pages, assets) = match plan.client {
                Some(c) => (c.pages.as_slice(), c.assets.as_slice()),
                None => (&[][..], &[][..]),
            };
            let found = Diagnostics::new();
            let site = compose(
                &project.config,
                &project.config_text,
                &loaded.pages,
                &loaded.assets,
                &ComposeOptions {
                    drafts: plan.drafts,
                    client,
                    overlay_pages: pages,
                    overlay_assets: assets,
                },
                &found,
            );
            let warnings = found.into_sorted();
            match site {
                Some(site) => Composed {
                    site: Arc::new(site),
                    warnings,
                },
                None => {
                    diagnostics.extend(warnings);
                    return VersionOutcome {
                        composed: None,
                        rendered: None,
                    };
                }
            }
        }
    };
    diagnostics.extend(composed.warnings.iter().cloned());
    let composing = started.elapsed();
    let static_files = merged_static(
        &loaded.static_files,
        plan.client.map(|c| c.static_files.as_slice()),
    );
    let job = RenderJob {
        site: &composed.site,
        config: &project.config,
        theme: &loaded.theme,
        version: &plan.version,
        static_files: &static_files,
        cache: inputs.cache,
        articles: inputs.articles,
        previous: reuse.previous,
        remember: reuse.remember,
        print: reuse.print,
    };
    let mut summary = RenderSummary::default();
    let succeeded = plan
        .outputs
        .iter()
        .all(|output| output.render(&job, sink, &mut summary, diagnostics));
    let rendered = succeeded.then_some(Rendered {
        summary,
        static_files,
        composing,
    });
    VersionOutcome {
        composed: Some(composed),
        rendered,
    }
}
