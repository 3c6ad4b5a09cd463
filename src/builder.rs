//! `atelier build` and `atelier check`: the whole data flow, load → compose →
//! render → write, for every version asked for.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::compose::{ComposeOptions, compose};
use crate::content::{self, ContentSet};
use crate::error::{Diagnostic, Diagnostics, Error, Result};
use crate::output::Staging;
use crate::project::Project;
use crate::render::{self, RenderSummary, Sink, Version};
use crate::theme::Theme;

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Output folder (default `public/`, or `public-facilitator/` with `facilitator`).
    pub out: Option<PathBuf>,
    /// Override `base_url`.
    pub base_url: Option<String>,
    /// Include drafts.
    pub drafts: bool,
    /// Build the facilitator version.
    pub facilitator: bool,
    /// Validate only: render in memory, write nothing, links are errors.
    pub check_only: bool,
}

/// What a successful build did.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// HTML pages written.
    pub pages: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Warnings found.
    pub warnings: Vec<Diagnostic>,
    /// Where the site was written (`None` for `check`).
    pub out: Option<PathBuf>,
    /// The base version's rendering summary.
    pub summary: RenderSummary,
}

/// A sink that discards everything (for `check`).
struct NullSink;

impl Sink for NullSink {
    fn write(&self, _: &str, _: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
    fn copy(&self, _: &str, source: &Path) -> std::io::Result<()> {
        std::fs::metadata(source).map(|_| ())
    }
    fn create(&self, _: &str) -> std::io::Result<Box<dyn std::io::Write + '_>> {
        Ok(Box::new(std::io::sink()))
    }
}

/// Builds the project (or checks it, with `check_only`).
pub fn build(project: &Project, options: &BuildOptions) -> Result<BuildReport> {
    let started = Instant::now();
    let root = project.root.as_path();
    let config = &project.config;
    let diagnostics = Diagnostics::new();

    let (theme, base) = rayon::join(
        || Theme::load(root, config, &project.config_text),
        || content::load(root, Path::new("content"), &diagnostics),
    );
    let mut timings = vec![("load", started.elapsed())];
    let theme = theme.map_err(|problems| {
        diagnostics.extend(problems);
    });
    let ContentSet { pages, assets } = base;
    let pages: Vec<Arc<content::SourcePage>> = pages.into_iter().map(Arc::new).collect();
    let assets: Vec<Arc<content::Asset>> = assets.into_iter().map(Arc::new).collect();
    let static_files = static_files(root, Path::new("static"));
    if diagnostics.has_errors() {
        return Err(Error::Content(diagnostics.into_sorted()));
    }
    let Ok(theme) = theme else {
        return Err(Error::Content(diagnostics.into_sorted()));
    };

    let site = match compose(
        config,
        &project.config_text,
        &pages,
        &assets,
        &[],
        &[],
        &ComposeOptions {
            drafts: options.drafts,
            client: None,
            module_selection: None,
        },
    ) {
        Ok(site) => site,
        Err(problems) => {
            diagnostics.extend(problems);
            return Err(Error::Content(diagnostics.into_sorted()));
        }
    };

    timings.push((
        "compose",
        started.elapsed() - timings.iter().map(|t| t.1).sum::<Duration>(),
    ));
    let version = Version {
        client: None,
        facilitator: options.facilitator,
        language: config.language.code().to_string(),
        base_url: options.base_url.clone().or_else(|| config.base_url.clone()),
        french: config.french_typography(),
        drafts: options.drafts,
        collect_texts: false,
    };

    let staging = if options.check_only {
        None
    } else {
        let default = if options.facilitator {
            "public-facilitator"
        } else {
            "public"
        };
        let out = options.out.clone().unwrap_or_else(|| root.join(default));
        Some(Staging::prepare(&out, root)?)
    };
    let sink: &dyn Sink = match &staging {
        Some(staging) => staging,
        None => &NullSink,
    };
    let rendered = render::render_site(
        &site,
        config,
        &theme,
        &version,
        &static_files,
        sink,
        &diagnostics,
    );
    let mut summary = match rendered {
        Ok(summary) => summary,
        Err(problems) => {
            diagnostics.extend(problems);
            if let Some(staging) = staging {
                staging.abandon();
            }
            return Err(Error::Content(diagnostics.into_sorted()));
        }
    };
    let mut all = diagnostics.into_sorted();
    if options.check_only {
        all = all.into_iter().map(Diagnostic::promoted).collect();
    }
    if all.iter().any(Diagnostic::is_error) {
        if let Some(staging) = staging {
            staging.abandon();
        }
        return Err(Error::Content(all));
    }
    let commit_started = Instant::now();
    let out = match staging {
        Some(staging) => {
            let target = staging.target().to_path_buf();
            staging.commit()?;
            Some(target)
        }
        None => None,
    };
    timings.append(&mut summary.timings);
    timings.push(("swap output", commit_started.elapsed()));
    summary.timings = timings;
    Ok(BuildReport {
        pages: summary.pages,
        elapsed: started.elapsed(),
        warnings: all,
        out,
        summary,
    })
}

/// Files of a project `static/` folder, as (output path, source path).
fn static_files(root: &Path, dir: &Path) -> Vec<(String, PathBuf)> {
    let base = root.join(dir);
    if !base.is_dir() {
        return Vec::new();
    }
    walkdir::WalkDir::new(&base)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0 || !content::is_ignored_name(&e.file_name().to_string_lossy())
        })
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_file())
        .filter_map(|entry| {
            let rel = entry.path().strip_prefix(&base).ok()?;
            Some((crate::error::display_path(rel), entry.path().to_path_buf()))
        })
        .collect()
}
