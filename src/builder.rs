//! `atelier build` and `atelier check`: the whole data flow, load → plan →
//! compose → render → write, for every version asked for (the base version
//! and each client's, participant or facilitator), then what looks across
//! versions (the uniqueness report, `check`'s audits) and the swap of the
//! output.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::client::{self, Client};
use crate::content::SourcePage;
use crate::error::{Diagnostic, Diagnostics, Error, Result, display_path};
use crate::load::{Loaded, LoadedClient, load};
use crate::output::{NullSink, PrefixedSink, Sink, Staging};
use crate::pipeline::{self, Inputs, Reuse};
use crate::plan::{self, VersionPlan};
use crate::project::Project;
use crate::render::{self, ArticleCache, BodyCache, PageText};
use crate::uniqueness::{self, ClientReport, VersionTexts};

pub use crate::plan::{BuildOptions, Workbooks};

/// Default output folder of `atelier pdf`: the base version's workbook at
/// its root, each client's in `clients/<slug>/`.
pub const WORKBOOKS_DIR: &str = "workbooks";
/// Default output folder of `atelier pdf --facilitator`.
pub const FACILITATOR_WORKBOOKS_DIR: &str = "workbooks-facilitator";

/// What a successful build did.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// HTML pages written, all versions together.
    pub pages: usize,
    /// Versions built.
    pub versions: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Warnings found.
    pub warnings: Vec<Diagnostic>,
    /// Errors found: `build` fails with them instead, `check` reports them
    /// beside the warnings and the uniqueness report.
    pub errors: Vec<Diagnostic>,
    /// Where the site was written (`None` for `check`).
    pub out: Option<PathBuf>,
    /// Wall time of each phase, for `-v`.
    pub timings: Vec<(String, Duration)>,
    /// One report per client, when the base version was built too.
    pub uniqueness: Vec<ClientReport>,
}

/// A rendered version's texts, for the uniqueness report: its client, its
/// pages by URL, the variables it used.
type VersionOutput<'a> = (
    Option<&'a LoadedClient>,
    BTreeMap<String, PageText>,
    HashSet<String>,
);

/// Builds the project (or checks it, with `check_only`): fails with every
/// problem found when there is an error.
///
/// `on_wait` is called, with the output folder, when another build of the
/// same output holds it and this one waits its turn (the caller says so, or
/// not: the library prints nothing).
pub fn build(
    project: &Project,
    options: &BuildOptions,
    on_wait: &dyn Fn(&Path),
) -> Result<BuildReport> {
    let mut report = run(project, options, on_wait)?;
    if report.errors.is_empty() {
        return Ok(report);
    }
    let mut all = std::mem::take(&mut report.errors);
    all.append(&mut report.warnings);
    sort_by_place(&mut all);
    Err(Error::Content(all))
}

/// `atelier check`: validates what `build` does, writing nothing, and
/// reports errors beside the warnings and the uniqueness report instead of
/// failing (`Err` only when the sources cannot be read at all, or for usage).
/// With `--client`, the base version is rendered too, for reference only
/// (its own problems are not reported), so each client gets its figure.
pub fn check(project: &Project, options: &BuildOptions) -> Result<BuildReport> {
    run(
        project,
        &BuildOptions {
            check_only: true,
            ..options.clone()
        },
        // `check` writes nothing: it never waits for the output.
        &|_| {},
    )
}

/// The versions `plans` check, each once (a facilitator plan is the same
/// version as its participants' one), for their `publish:` blocks.
fn published_versions<'a>(plans: &[VersionPlan<'a>]) -> Vec<Option<&'a LoadedClient>> {
    let mut versions: Vec<Option<&'a LoadedClient>> = Vec::new();
    for plan in plans.iter().filter(|p| !p.reference) {
        let slug = plan.client.map(|c| c.client.slug.as_str());
        if !versions
            .iter()
            .any(|v| v.map(|c| c.client.slug.as_str()) == slug)
        {
            versions.push(plan.client);
        }
    }
    versions
}

/// Orders diagnostics by file, line and column, as they are printed.
fn sort_by_place(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
}

/// The whole flow; errors are in the report's `errors`, and the output is
/// swapped in only when there are none.
fn run(project: &Project, options: &BuildOptions, on_wait: &dyn Fn(&Path)) -> Result<BuildReport> {
    let started = Instant::now();
    let root = project.root.as_path();
    let diagnostics = Diagnostics::new();
    let mut timings: Vec<(String, Duration)> = Vec::new();

    let Some(loaded) = load(project, &diagnostics) else {
        return Err(Error::Content(diagnostics.into_sorted()));
    };
    timings.push(("load".into(), started.elapsed()));
    // Once per project, not per version: each typo is reported once.
    diagnostics.extend(crate::embeds::exercises_embedded_twice(&loaded));
    let rules = crate::rules::unknown_clients_and_values(&loaded);
    diagnostics.extend(rules.into_iter().map(|problem| {
        if options.check_only {
            problem.promoted()
        } else {
            problem
        }
    }));
    let plans = plan::for_build(project, &loaded, options)?;
    diagnostics.declare_versions(plans.iter().filter(|p| !p.reference).map(VersionPlan::name));
    if options.check_only {
        // A typo in a `target:` shows now, not on the day of the publish.
        crate::publish::targets::read(project, &published_versions(&plans), &diagnostics);
    }
    // `check --client` compares the clients with the base version, rendered
    // for that alone.
    let reference = plans.iter().any(|p| p.reference);
    let with_base = plans.iter().any(|p| p.client.is_none());
    let collect_texts = plans.iter().any(|p| p.version.collect_texts);

    let staging = if options.check_only {
        None
    } else {
        let default = match (options.pdf, options.facilitator) {
            (plan::Workbooks::Only, false) => WORKBOOKS_DIR,
            (plan::Workbooks::Only, true) => FACILITATOR_WORKBOOKS_DIR,
            (_, false) => "public",
            (_, true) => "public-facilitator",
        };
        let out = options.out.clone().unwrap_or_else(|| root.join(default));
        Some(Staging::prepare(&out, root, on_wait)?)
    };
    let sink: &dyn Sink = match &staging {
        Some(staging) => staging,
        None => &NullSink,
    };
    let cache = (plans.len() > 1).then(BodyCache::new);
    let articles = (plans.len() > 1).then(ArticleCache::new);

    // The base version first: it fills the body cache every client reads.
    // Clients then render side by side, so one version's sequential parts
    // (print page, link checks) overlap another's parallel ones.
    let run = BuildRun {
        inputs: Inputs {
            project,
            loaded: &loaded,
            cache: cache.as_ref(),
            articles: articles.as_ref(),
        },
        check_only: options.check_only,
        sink,
        diagnostics: &diagnostics,
    };
    // Workbooks alone share no bodies: every version typesets at once.
    let base = plans
        .iter()
        .position(|p| p.client.is_none())
        .filter(|_| options.pdf != plan::Workbooks::Only);
    let first: Vec<(usize, Option<VersionReport>)> = base
        .map(|i| (i, run.render(&plans[i])))
        .into_iter()
        .collect();
    let others: Vec<(usize, Option<VersionReport>)> = plans
        .par_iter()
        .enumerate()
        .filter(|(index, _)| Some(*index) != base)
        .map(|(index, plan)| (index, run.render(plan)))
        .collect();
    let mut pages = 0;
    let mut texts: Vec<VersionOutput> = Vec::new();
    let mut all_rendered = true;
    for (index, outcome) in first.into_iter().chain(others) {
        let plan = &plans[index];
        let Some(outcome) = outcome else {
            all_rendered &= plan.reference;
            continue;
        };
        if !plan.reference {
            pages += outcome.summary.pages;
        }
        timings.push((outcome.label, outcome.elapsed));
        for (phase, time) in outcome.summary.timings {
            timings.push((format!("  {phase}"), time));
        }
        if collect_texts {
            texts.push((
                plan.client,
                outcome.summary.texts,
                outcome.summary.variables,
            ));
        }
    }
    if options.check_only {
        let participant: Vec<&VersionOutput> = texts
            .iter()
            .filter(|(client, _, _)| !reference || client.is_some())
            .collect();
        // An exercise used only by a version that failed is not unused.
        if all_rendered {
            diagnostics.extend(crate::audit::unused_exercises(
                &loaded,
                participant.iter().map(|(_, pages, _)| pages),
            ));
        }
        let versions: Vec<_> = participant
            .iter()
            .map(|(client, pages, _)| (*client, pages))
            .collect();
        diagnostics.extend(crate::audit::confidentiality(&loaded, &versions));
        let clients: Vec<&Client> = plans
            .iter()
            .filter_map(|p| p.client.map(|c| &c.client))
            .collect();
        diagnostics.extend(crate::audit::placeholders(
            &project.config,
            &project.config_text,
            crate::scaffold::starter_config().as_ref(),
            &clients,
        ));
    }
    if reference && !texts.iter().any(|(client, _, _)| client.is_none()) {
        diagnostics.push(
            Diagnostic::general_warning(
                "no uniqueness figure: the base version, which each client's version is compared with, has errors",
            )
            .with_help("`atelier check` without `--client` shows them"),
        );
    }
    let mut uniqueness = Vec::new();
    if with_base && plans.len() > 1 {
        let phase = Instant::now();
        uniqueness = uniqueness_report(&loaded, &texts);
        for report in &uniqueness {
            if report.share < project.config.uniqueness.min {
                diagnostics.push(generic_warning(project, report));
            }
        }
        timings.push(("uniqueness report".into(), phase.elapsed()));
    }

    let mut all = diagnostics.into_sorted();
    if options.strict {
        all = all.into_iter().map(Diagnostic::promoted).collect();
    }
    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
        all.into_iter().partition(Diagnostic::is_error);
    let phase = Instant::now();
    let out = match staging {
        Some(staging) if !errors.is_empty() => {
            staging.abandon();
            None
        }
        Some(staging) => {
            let target = staging.target().to_path_buf();
            staging.commit()?;
            Some(target)
        }
        None => None,
    };
    timings.push(("swap output".into(), phase.elapsed()));
    // What every version shared is freed beside the report, not before it:
    // tens of thousands of bodies and pages take a while to free, one by one.
    let texts: Vec<_> = texts.into_iter().map(|(_, pages, _)| pages).collect();
    let versions = plans.iter().filter(|p| !p.reference).count();
    drop(plans);
    free_in_background((texts, cache, articles, loaded));
    Ok(BuildReport {
        pages,
        versions,
        elapsed: started.elapsed(),
        warnings,
        errors,
        out,
        timings,
        uniqueness,
    })
}

/// Drops `value` on a thread of its own, so the caller need not wait for
/// it (a command that ends right after never does). If no thread can be
/// started, the closure holding it, and so `value`, is dropped right here.
fn free_in_background<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("atelier-free".into())
        .spawn(move || drop(value));
}

/// One rendered version, for the build report.
struct VersionReport {
    label: String,
    elapsed: Duration,
    summary: render::RenderSummary,
}

/// What every version of one build shares.
struct BuildRun<'a> {
    inputs: Inputs<'a>,
    check_only: bool,
    sink: &'a dyn Sink,
    diagnostics: &'a Diagnostics,
}

impl BuildRun<'_> {
    /// Composes and renders one version into its folder of the output.
    /// `None` when it failed. What it finds goes to `diagnostics`, marked
    /// with the version's name, so that a problem several versions share is
    /// reported once. The reference version of `check --client` belongs to
    /// no version asked for: none of its problems is reported.
    fn render(&self, plan: &VersionPlan) -> Option<VersionReport> {
        let started = Instant::now();
        let found = Diagnostics::new();
        let sink = PrefixedSink::new(self.sink, &plan.prefix);
        let outcome = pipeline::render_version(&self.inputs, plan, Reuse::default(), &sink, &found);
        if plan.reference {
            return outcome.rendered.map(|rendered| VersionReport {
                label: "base version (for comparison)".to_string(),
                elapsed: started.elapsed(),
                summary: rendered.summary,
            });
        }
        self.diagnostics.absorb(&plan.name(), found);
        if let Some(composed) = &outcome.composed
            && self.check_only
            && plan.client.is_none()
        {
            self.diagnostics
                .extend(crate::audit::modules_without_duration(&composed.site));
        }
        outcome.rendered.map(|rendered| VersionReport {
            label: match plan.slug() {
                Some(slug) => format!("version {slug}"),
                None => "base version".to_string(),
            },
            elapsed: started.elapsed(),
            summary: rendered.summary,
        })
    }
}

fn uniqueness_report(loaded: &Loaded, texts: &[VersionOutput]) -> Vec<ClientReport> {
    let Some((_, base, _)) = texts.iter().find(|(client, _, _)| client.is_none()) else {
        return Vec::new();
    };
    let base_rels: HashSet<&str> = loaded.pages.iter().map(|p| p.rel.as_str()).collect();
    let versions: Vec<VersionTexts> = texts
        .iter()
        .filter_map(|(client, pages, variables)| {
            let client = (*client)?;
            let (overridden, added): (Vec<&Arc<SourcePage>>, Vec<&Arc<SourcePage>>) = client
                .pages
                .iter()
                .filter(|p| !p.front.remove())
                .partition(|p| base_rels.contains(p.rel.as_str()));
            let mut variables: Vec<String> = variables.iter().cloned().collect();
            variables.sort();
            Some(VersionTexts {
                slug: &client.client.slug,
                name: &client.client.profile.name,
                pages,
                overridden: overridden.iter().map(|p| p.file.clone()).collect(),
                added: added.iter().map(|p| p.file.clone()).collect(),
                variables,
            })
        })
        .collect();
    uniqueness::report(base, &versions)
}

fn generic_warning(project: &Project, report: &ClientReport) -> Diagnostic {
    let file = Path::new(client::CLIENTS_DIR)
        .join(&report.slug)
        .join("client.yaml");
    let pages: Vec<String> = report
        .generic_pages
        .iter()
        .map(|p| display_path(p))
        .collect();
    Diagnostic::warning(
        file,
        format!(
            "{}: only {} of this version is its own (minimum {}): it is still too close to the generic workshop",
            report.name,
            uniqueness::percent(report.share),
            uniqueness::percent(project.config.uniqueness.min)
        ),
    )
    .with_help(format!(
        "make these pages theirs (an overlay in clients/{}/content/, `::: only client=\"{}\"` blocks, or `{{{{ client.* }}}}` variables): {}",
        report.slug,
        report.slug,
        pages.join(", ")
    ))
}
