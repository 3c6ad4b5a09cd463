//! `atelier build` and `atelier check`: the whole data flow, load → compose →
//! render → write, for every version asked for (the base version and each
//! client's, participant or facilitator).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::client::{self, Client};
use crate::compose::{ComposeOptions, Site, compose};
use crate::content::SourcePage;
use crate::error::{Diagnostic, Diagnostics, Error, Result, display_path, version_name};
use crate::load::{Loaded, LoadedClient, load, merged_static};
use crate::output::{NullSink, PrefixedSink, Sink, Staging};
use crate::project::Project;
use crate::render::{self, ArticleCache, BodyCache, PageText, RenderJob, Version};
use crate::uniqueness::{self, ClientReport, VersionTexts};

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Output folder (default `public/`, or `public-facilitator/` with `facilitator`).
    pub out: Option<PathBuf>,
    /// Override `base_url` (of the base version, or of the one client built).
    pub base_url: Option<String>,
    /// Include drafts.
    pub drafts: bool,
    /// Build the facilitator versions.
    pub facilitator: bool,
    /// Validate only: render in memory, write nothing, links are errors.
    pub check_only: bool,
    /// Only these clients (by slug); one client is written at the output root.
    pub clients: Vec<String>,
    /// Warnings are errors (`check --strict`).
    pub strict: bool,
    /// Print nothing but errors (`-q`): not even that the build waits for
    /// another build of the same output to finish.
    pub quiet: bool,
}

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

/// One version to build: which client (if any), where under the output.
pub struct Plan<'a> {
    /// The client, or `None` for the base version.
    pub client: Option<&'a LoadedClient>,
    /// Folder of the version in the output (`""` or `clients/<slug>/`).
    pub prefix: String,
}

/// Which versions `clients` asks for (empty: base and every client).
pub fn plan<'a>(loaded: &'a Loaded, clients: &[String]) -> Result<Vec<Plan<'a>>> {
    let known: Vec<&str> = loaded
        .clients
        .iter()
        .map(|c| c.client.slug.as_str())
        .collect();
    let mut chosen = Vec::new();
    for slug in clients {
        match loaded.clients.iter().find(|c| &c.client.slug == slug) {
            Some(client) => chosen.push(client),
            None => {
                return Err(Error::Usage(format!(
                    "no client `{slug}` in clients/{}",
                    if known.is_empty() {
                        String::from(" (there are no clients yet: `atelier new client \"Name\"`)")
                    } else {
                        format!("; clients: {}", known.join(", "))
                    }
                )));
            }
        }
    }
    Ok(match chosen.as_slice() {
        [] => std::iter::once(Plan {
            client: None,
            prefix: String::new(),
        })
        .chain(loaded.clients.iter().map(|c| Plan {
            prefix: format!("clients/{}/", c.client.slug),
            client: Some(c),
        }))
        .collect(),
        [one] => vec![Plan {
            client: Some(one),
            prefix: String::new(),
        }],
        many => many
            .iter()
            .map(|c| Plan {
                prefix: format!("clients/{}/", c.client.slug),
                client: Some(c),
            })
            .collect(),
    })
}

/// The render settings of one version.
pub fn version_of(
    project: &Project,
    options: &BuildOptions,
    client: Option<&Client>,
    collect_texts: bool,
) -> Version {
    let config = &project.config;
    let language = client
        .and_then(|c| c.profile.language)
        .unwrap_or(config.language);
    let french = config.french_typography_for(language, client.and_then(|c| c.profile.typography));
    let own_url = client.and_then(|c| c.profile.base_url.clone());
    let base_url = match (client, &options.base_url) {
        (None, Some(url)) => Some(url.clone()),
        (Some(_), Some(url)) if options.clients.len() == 1 => Some(url.clone()),
        _ => own_url.or_else(|| {
            config.base_url.as_ref().map(|base| match client {
                Some(c) => format!("{}/clients/{}/", base.trim_end_matches('/'), c.slug),
                None => base.clone(),
            })
        }),
    };
    Version {
        client: client.map(Client::info),
        facilitator: options.facilitator,
        language: language.code().to_string(),
        base_url,
        french,
        collect_texts,
        links_are_errors: options.check_only,
    }
}

/// Builds the project (or checks it, with `check_only`): fails with every
/// problem found when there is an error.
pub fn build(project: &Project, options: &BuildOptions) -> Result<BuildReport> {
    let mut report = run(project, options)?;
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
    )
}

/// Orders diagnostics by file, line and column, as they are printed.
fn sort_by_place(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
}

/// The whole flow; errors are in the report's `errors`, and the output is
/// swapped in only when there are none.
fn run(project: &Project, options: &BuildOptions) -> Result<BuildReport> {
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
    let mut plans = plan(&loaded, &options.clients)?;
    diagnostics.declare_versions(plans.iter().map(|p| {
        version_name(
            p.client.map(|c| c.client.slug.as_str()),
            options.facilitator,
        )
    }));
    // `check --client` compares the clients with the base version, rendered
    // for that alone.
    let reference = options.check_only && plans.iter().all(|p| p.client.is_some());
    if reference {
        plans.insert(
            0,
            Plan {
                client: None,
                prefix: String::new(),
            },
        );
    }
    let with_base = plans.iter().any(|p| p.client.is_none());
    let collect_texts = options.check_only || (with_base && plans.len() > 1);

    let staging = if options.check_only {
        None
    } else {
        let default = if options.facilitator {
            "public-facilitator"
        } else {
            "public"
        };
        let out = options.out.clone().unwrap_or_else(|| root.join(default));
        Some(Staging::prepare(&out, root, |target| {
            if !options.quiet {
                eprintln!(
                    "note: waiting for another build of {} to finish…",
                    crate::output::shown(target)
                );
            }
        })?)
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
        project,
        options,
        loaded: &loaded,
        sink,
        cache: cache.as_ref(),
        articles: articles.as_ref(),
        collect_texts,
        diagnostics: &diagnostics,
    };
    let base = plans.iter().position(|p| p.client.is_none());
    let first: Vec<(usize, Option<VersionOutcome>)> = base
        .map(|i| {
            let outcome = if reference {
                run.render_reference(&plans[i])
            } else {
                run.render_version(&plans[i])
            };
            (i, outcome)
        })
        .into_iter()
        .collect();
    let others: Vec<(usize, Option<VersionOutcome>)> = plans
        .par_iter()
        .enumerate()
        .filter(|(index, _)| Some(*index) != base)
        .map(|(index, plan)| (index, run.render_version(plan)))
        .collect();
    let mut pages = 0;
    let mut texts: Vec<VersionOutput> = Vec::new();
    let mut all_rendered = true;
    for (index, outcome) in first.into_iter().chain(others) {
        let plan = &plans[index];
        let compared_only = reference && plan.client.is_none();
        let Some(outcome) = outcome else {
            all_rendered &= compared_only;
            continue;
        };
        if !compared_only {
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
    let versions = plans.len() - usize::from(reference);
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
struct VersionOutcome {
    label: String,
    elapsed: Duration,
    summary: render::RenderSummary,
}

/// What every version of one build shares.
struct BuildRun<'a> {
    project: &'a Project,
    options: &'a BuildOptions,
    loaded: &'a Loaded,
    sink: &'a dyn Sink,
    cache: Option<&'a BodyCache>,
    articles: Option<&'a ArticleCache>,
    collect_texts: bool,
    diagnostics: &'a Diagnostics,
}

impl BuildRun<'_> {
    /// Composes and renders one version into its folder of the output.
    /// `None` when it failed. What it finds goes to `diagnostics`, marked
    /// with the version's name, so that a problem several versions share is
    /// reported once.
    fn render_version(&self, plan: &Plan) -> Option<VersionOutcome> {
        let found = Diagnostics::new();
        let (site, outcome) = self.render_into(plan, &found);
        let client = plan.client.map(|c| c.client.slug.as_str());
        self.diagnostics
            .absorb(&version_name(client, self.options.facilitator), found);
        if let Some(site) = site
            && self.options.check_only
            && plan.client.is_none()
        {
            self.diagnostics
                .extend(crate::audit::modules_without_duration(&site));
        }
        outcome
    }

    /// Renders the base version for comparison only (`check --client`):
    /// its problems belong to a version not asked for, so none is reported.
    fn render_reference(&self, plan: &Plan) -> Option<VersionOutcome> {
        let (_, outcome) = self.render_into(plan, &Diagnostics::new());
        outcome.map(|outcome| VersionOutcome {
            label: "base version (for comparison)".to_string(),
            ..outcome
        })
    }

    /// Composes and renders `plan`, reporting to `diagnostics`: the
    /// composed site (`None` when composing failed) and the rendered
    /// version (`None` when anything failed).
    fn render_into(
        &self,
        plan: &Plan,
        diagnostics: &Diagnostics,
    ) -> (Option<Site>, Option<VersionOutcome>) {
        let BuildRun {
            project,
            options,
            loaded,
            sink,
            cache,
            articles,
            collect_texts,
            diagnostics: _,
        } = *self;
        let phase = Instant::now();
        let client = plan.client.map(|c| &c.client);
        let (overlay_pages, overlay_assets) = match plan.client {
            Some(c) => (c.pages.as_slice(), c.assets.as_slice()),
            None => (&[][..], &[][..]),
        };
        let site = match compose(
            &project.config,
            &project.config_text,
            &loaded.pages,
            &loaded.assets,
            overlay_pages,
            overlay_assets,
            &ComposeOptions {
                drafts: options.drafts,
                client,
            },
        ) {
            Ok(site) => site,
            Err(problems) => {
                diagnostics.extend(problems);
                return (None, None);
            }
        };
        diagnostics.extend(site.warnings.iter().cloned());
        let version = version_of(project, options, client, collect_texts);
        let static_files = merged_static(
            &loaded.static_files,
            plan.client.map(|c| c.static_files.as_slice()),
        );
        let prefixed = PrefixedSink::new(sink, &plan.prefix);
        let job = RenderJob {
            site: &site,
            config: &project.config,
            theme: &loaded.theme,
            version: &version,
            static_files: &static_files,
            cache,
            articles,
            previous: None,
            remember: false,
            print: true,
        };
        let outcome = match render::render_site(&job, &prefixed, diagnostics) {
            Ok(summary) => Some(VersionOutcome {
                label: match client {
                    Some(c) => format!("version {}", c.slug),
                    None => "base version".to_string(),
                },
                elapsed: phase.elapsed(),
                summary,
            }),
            Err(problems) => {
                diagnostics.extend(problems);
                None
            }
        };
        (Some(site), outcome)
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
