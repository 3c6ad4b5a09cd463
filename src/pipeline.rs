//! One version, from loaded sources to files: compose → render every
//! output kind → sink. `build`, `check` and `serve` all call
//! [`render_version`] for each [`VersionPlan`]; they differ only in the plans
//! they make, the sink they pass, and what the preview server brings from
//! its last rebuild ([`Reuse`]).
//!
//! The output kinds of a version ([`render::OutputKind`]: the HTML site, the
//! sitemap; next the slide deck, the workbook PDF, the search index) are the
//! plug-in point: a new kind implements the trait and joins
//! [`render::output_kinds`], and every command renders it for every version.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::compose::{ComposeOptions, Site, compose};
use crate::error::Diagnostics;
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

/// What the preview server brings from its last rebuild of a version; a
/// clean build brings nothing ([`Reuse::default`]).
pub struct Reuse<'a> {
    /// The version's composition, when an edit left every front matter as
    /// it was: rendered as is instead of composing again.
    pub composed: Option<Site>,
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
    pub site: Option<Arc<Site>>,
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
        Some(site) => Ok(site),
        None => {
            let (pages, assets) = match plan.client {
                Some(c) => (c.pages.as_slice(), c.assets.as_slice()),
                None => (&[][..], &[][..]),
            };
            compose(
                &project.config,
                &project.config_text,
                &loaded.pages,
                &loaded.assets,
                pages,
                assets,
                &ComposeOptions {
                    drafts: plan.drafts,
                    client,
                },
            )
        }
    };
    let site = match composed {
        Ok(site) => Arc::new(site),
        Err(problems) => {
            diagnostics.extend(problems);
            return VersionOutcome {
                site: None,
                rendered: None,
            };
        }
    };
    diagnostics.extend(site.warnings.iter().cloned());
    let composing = started.elapsed();
    let static_files = merged_static(
        &loaded.static_files,
        plan.client.map(|c| c.static_files.as_slice()),
    );
    let job = RenderJob {
        site: &site,
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
        site: Some(site),
        rendered,
    }
}
