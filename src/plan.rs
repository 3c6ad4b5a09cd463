//! Planning: which versions a command renders, and everything each of them
//! needs, decided once from the command's options.
//!
//! Second stage of the data flow, between [`load`](crate::load) and
//! [`compose`](crate::compose). `build`, `check` and `serve` each turn their
//! options into a list of [`VersionPlan`]s here, then hand every plan to the
//! same per-version function ([`crate::pipeline::render_version`]): an option
//! a version needs is added to [`BuildOptions`] and read into the plan here,
//! in one place, and every command gets it.

use std::path::PathBuf;

use crate::client::Client;
use crate::error::{Error, Result, version_name};
use crate::load::{Loaded, LoadedClient};
use crate::project::Project;
use crate::render::{self, OutputKind, Version};

/// What a command asks for.
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
    /// Which workbook PDFs to make (`build --pdf`, `atelier pdf`).
    pub pdf: Workbooks,
}

/// Whether a command makes each version's workbook PDF (SPEC §10).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Workbooks {
    /// No PDF: the site only.
    #[default]
    No,
    /// The site, and `workbook.pdf` at the root of each version
    /// (`build --pdf`).
    WithSite,
    /// Only the PDFs (`atelier pdf`).
    Only,
}

impl Workbooks {
    /// The output kinds a version renders for this choice.
    fn outputs(self) -> Vec<&'static dyn OutputKind> {
        match self {
            Workbooks::No => render::output_kinds(),
            Workbooks::WithSite => {
                let mut kinds = render::output_kinds();
                kinds.push(render::workbook_pdf());
                kinds
            }
            Workbooks::Only => vec![render::workbook_pdf()],
        }
    }
}

/// Folder of the facilitator versions in the preview server: the base's,
/// and each client's under `clients/<slug>/` in it.
pub const FACILITATOR_PREFIX: &str = "_facilitator/";

/// One version to render, with every setting it is rendered with.
pub struct VersionPlan<'a> {
    /// The client, or `None` for the base version.
    pub client: Option<&'a LoadedClient>,
    /// Facilitator notes shown and solutions open.
    pub facilitator: bool,
    /// Pages marked `draft: true` are included.
    pub drafts: bool,
    /// Folder of the version in the output (`""`, `clients/<slug>/`,
    /// `_facilitator/clients/<slug>/`…).
    pub prefix: String,
    /// Rendered only to compare the clients with (`check --client`): its
    /// own problems are not reported, its pages not counted.
    pub reference: bool,
    /// The render settings: language, typography, `base_url`, what the
    /// summary keeps, whether broken links are errors.
    pub version: Version,
    /// What the version produces, in order (the HTML site, its sitemap…).
    pub outputs: Vec<&'static dyn OutputKind>,
}

impl VersionPlan<'_> {
    /// The client's slug, `None` for the base version.
    pub fn slug(&self) -> Option<&str> {
        self.client.map(|c| c.client.slug.as_str())
    }

    /// How diagnostics name this version.
    pub fn name(&self) -> String {
        version_name(self.slug(), self.facilitator)
    }
}

/// The versions `build` and `check` render: the base version and every
/// client's, or only the clients of `options.clients` (one client alone at
/// the output root). `check --client` adds the base version first, as a
/// reference the clients are compared with.
pub fn for_build<'a>(
    project: &Project,
    loaded: &'a Loaded,
    options: &BuildOptions,
) -> Result<Vec<VersionPlan<'a>>> {
    let chosen = chosen_clients(loaded, &options.clients)?;
    let mut versions: Vec<(Option<&LoadedClient>, String)> = match chosen.as_slice() {
        [] => std::iter::once((None, String::new()))
            .chain(loaded.clients.iter().map(|c| (Some(c), client_prefix(c))))
            .collect(),
        [one] => vec![(Some(*one), String::new())],
        many => many.iter().map(|c| (Some(*c), client_prefix(c))).collect(),
    };
    let reference = options.check_only && versions.iter().all(|(c, _)| c.is_some());
    if reference {
        versions.insert(0, (None, String::new()));
    }
    let with_base = versions.iter().any(|(c, _)| c.is_none());
    // The uniqueness report reads the site's pages: none without them.
    let collect_texts =
        options.pdf != Workbooks::Only && (options.check_only || (with_base && versions.len() > 1));
    Ok(versions
        .into_iter()
        .enumerate()
        .map(|(index, (client, prefix))| VersionPlan {
            client,
            facilitator: options.facilitator,
            drafts: options.drafts,
            prefix,
            reference: reference && index == 0,
            version: version_of(project, options, client.map(|c| &c.client), collect_texts),
            outputs: options.pdf.outputs(),
        })
        .collect())
}

/// The versions the preview server renders from the same options: each of
/// `build`'s participant versions, then its facilitator version, where
/// `build --facilitator` would put it, under [`FACILITATOR_PREFIX`].
pub fn for_serve<'a>(
    project: &Project,
    loaded: &'a Loaded,
    options: &BuildOptions,
) -> Result<Vec<VersionPlan<'a>>> {
    let participant = BuildOptions {
        facilitator: false,
        check_only: false,
        ..options.clone()
    };
    let facilitator = BuildOptions {
        facilitator: true,
        ..participant.clone()
    };
    let participants = for_build(project, loaded, &participant)?;
    let facilitators = for_build(project, loaded, &facilitator)?;
    Ok(participants
        .into_iter()
        .zip(facilitators)
        .flat_map(|(participant, mut facilitator)| {
            facilitator.prefix = format!("{FACILITATOR_PREFIX}{}", facilitator.prefix);
            [participant, facilitator]
        })
        .map(|mut plan| {
            // The preview shows no uniqueness report: no text to keep.
            plan.version.collect_texts = false;
            plan
        })
        .collect())
}

/// Folder of a client's version beside the base version.
fn client_prefix(client: &LoadedClient) -> String {
    format!("clients/{}/", client.client.slug)
}

/// The clients `slugs` name, in that order; a usage error for a slug with
/// no client, listing those there are.
fn chosen_clients<'a>(loaded: &'a Loaded, slugs: &[String]) -> Result<Vec<&'a LoadedClient>> {
    slugs
        .iter()
        .map(|slug| {
            loaded
                .clients
                .iter()
                .find(|c| &c.client.slug == slug)
                .ok_or_else(|| unknown_client(loaded, slug))
        })
        .collect()
}

fn unknown_client(loaded: &Loaded, slug: &str) -> Error {
    let known: Vec<&str> = loaded
        .clients
        .iter()
        .map(|c| c.client.slug.as_str())
        .collect();
    Error::Usage(format!(
        "no client `{slug}` in clients/{}",
        if known.is_empty() {
            String::from(" (there are no clients yet: `atelier new client \"Name\"`)")
        } else {
            format!("; clients: {}", known.join(", "))
        }
    ))
}

/// The render settings of one version. `--base-url` is the base version's,
/// or the one client's built alone; any other client's version is published
/// at its own `base_url`, else under the project's, in `clients/<slug>/`.
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
        indexed: client.is_none_or(|c| c.profile.index),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Diagnostics;

    /// A project with a base URL, a client publishing at its own URL
    /// (`alpha`) and one published under the project's (`beta`).
    fn project() -> (tempfile::TempDir, Project, Loaded) {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = [
            (
                "atelier.yaml",
                "title: Atelier\nlanguage: fr\nbase_url: https://example.org/atelier/\n",
            ),
            ("content/modules/01-a.md", "---\ntitle: A\n---\nTexte.\n"),
            (
                "clients/alpha/client.yaml",
                "name: Alpha\nbase_url: https://alpha.example.org/\nlanguage: en\n",
            ),
            ("clients/beta/client.yaml", "name: Beta\n"),
        ];
        for (rel, text) in files {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
            std::fs::write(path, text).expect("write");
        }
        let project = Project::open(Some(dir.path())).expect("project");
        let diagnostics = Diagnostics::new();
        let loaded = crate::load::load(&project, &diagnostics).expect("loaded");
        assert!(!diagnostics.has_errors(), "{:?}", diagnostics.into_sorted());
        (dir, project, loaded)
    }

    /// (slug, prefix, base_url, facilitator, reference) of each plan.
    type Row = (Option<String>, String, Option<String>, bool, bool);

    fn rows(plans: &[VersionPlan]) -> Vec<Row> {
        plans
            .iter()
            .map(|p| {
                (
                    p.slug().map(str::to_string),
                    p.prefix.clone(),
                    p.version.base_url.clone(),
                    p.facilitator,
                    p.reference,
                )
            })
            .collect()
    }

    fn row(slug: Option<&str>, prefix: &str, url: Option<&str>, facilitator: bool) -> Row {
        (
            slug.map(str::to_string),
            prefix.to_string(),
            url.map(str::to_string),
            facilitator,
            false,
        )
    }

    fn clients(slugs: &[&str]) -> Vec<String> {
        slugs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_build_plans_the_base_then_every_client_in_its_folder() {
        let (_dir, project, loaded) = project();
        let plans = for_build(&project, &loaded, &BuildOptions::default()).expect("plans");
        assert_eq!(
            rows(&plans),
            [
                row(None, "", Some("https://example.org/atelier/"), false),
                row(
                    Some("alpha"),
                    "clients/alpha/",
                    Some("https://alpha.example.org/"),
                    false
                ),
                row(
                    Some("beta"),
                    "clients/beta/",
                    Some("https://example.org/atelier/clients/beta/"),
                    false
                ),
            ]
        );
        // The uniqueness report compares the clients with the base.
        assert!(plans.iter().all(|p| p.version.collect_texts));
        assert!(
            plans
                .iter()
                .all(|p| !p.version.links_are_errors && !p.drafts)
        );
        // Each version's language and typography are its client's.
        let languages: Vec<&str> = plans.iter().map(|p| p.version.language.as_str()).collect();
        assert_eq!(languages, ["fr", "en", "fr"]);
        assert_eq!(
            plans.iter().map(|p| p.version.french).collect::<Vec<_>>(),
            [true, false, true]
        );
    }

    #[test]
    fn one_client_is_built_at_the_root_and_takes_the_base_url_option() {
        let (_dir, project, loaded) = project();
        let options = BuildOptions {
            clients: clients(&["beta"]),
            base_url: Some("https://beta.example.org/".into()),
            drafts: true,
            facilitator: true,
            ..BuildOptions::default()
        };
        let plans = for_build(&project, &loaded, &options).expect("plans");
        assert_eq!(
            rows(&plans),
            [row(
                Some("beta"),
                "",
                Some("https://beta.example.org/"),
                true
            )]
        );
        assert!(plans[0].drafts && plans[0].version.facilitator);
        // Nothing to compare with: no texts kept.
        assert!(!plans[0].version.collect_texts);
    }

    #[test]
    fn several_clients_keep_their_folders_and_their_own_urls() {
        let (_dir, project, loaded) = project();
        let options = BuildOptions {
            clients: clients(&["beta", "alpha"]),
            base_url: Some("https://ignored.example.org/".into()),
            ..BuildOptions::default()
        };
        let plans = for_build(&project, &loaded, &options).expect("plans");
        assert_eq!(
            rows(&plans),
            [
                row(
                    Some("beta"),
                    "clients/beta/",
                    Some("https://example.org/atelier/clients/beta/"),
                    false
                ),
                row(
                    Some("alpha"),
                    "clients/alpha/",
                    Some("https://alpha.example.org/"),
                    false
                ),
            ]
        );
    }

    #[test]
    fn check_with_clients_renders_the_base_first_for_reference() {
        let (_dir, project, loaded) = project();
        let options = BuildOptions {
            clients: clients(&["alpha"]),
            check_only: true,
            ..BuildOptions::default()
        };
        let plans = for_build(&project, &loaded, &options).expect("plans");
        let mut reference = row(None, "", Some("https://example.org/atelier/"), false);
        reference.4 = true;
        assert_eq!(
            rows(&plans),
            [
                reference,
                row(Some("alpha"), "", Some("https://alpha.example.org/"), false),
            ]
        );
        assert!(
            plans
                .iter()
                .all(|p| p.version.collect_texts && p.version.links_are_errors)
        );
        // Without `--client`, the base is one of the versions asked for.
        let all = BuildOptions {
            check_only: true,
            ..BuildOptions::default()
        };
        let plans = for_build(&project, &loaded, &all).expect("plans");
        assert!(plans.iter().all(|p| !p.reference));
    }

    #[test]
    fn the_preview_plans_each_version_then_its_facilitator_version() {
        let (_dir, project, loaded) = project();
        let plans = for_serve(&project, &loaded, &BuildOptions::default()).expect("plans");
        let prefixes: Vec<(&str, bool)> = plans
            .iter()
            .map(|p| (p.prefix.as_str(), p.facilitator))
            .collect();
        assert_eq!(
            prefixes,
            [
                ("", false),
                ("_facilitator/", true),
                ("clients/alpha/", false),
                ("_facilitator/clients/alpha/", true),
                ("clients/beta/", false),
                ("_facilitator/clients/beta/", true),
            ]
        );
        assert!(plans.iter().all(|p| !p.version.collect_texts));
        // The facilitator version is published where the participant's is.
        assert_eq!(plans[2].version.base_url, plans[3].version.base_url);

        let one = BuildOptions {
            clients: clients(&["alpha"]),
            ..BuildOptions::default()
        };
        let plans = for_serve(&project, &loaded, &one).expect("plans");
        assert_eq!(
            rows(&plans),
            [
                row(Some("alpha"), "", Some("https://alpha.example.org/"), false),
                row(
                    Some("alpha"),
                    "_facilitator/",
                    Some("https://alpha.example.org/"),
                    true
                ),
            ]
        );
    }

    #[test]
    fn every_version_renders_every_output_kind() {
        let (_dir, project, loaded) = project();
        let plans = for_build(&project, &loaded, &BuildOptions::default()).expect("plans");
        let kinds = render::output_kinds().len();
        assert!(kinds >= 2, "the HTML site and the sitemap at least");
        assert!(plans.iter().all(|p| p.outputs.len() == kinds));
    }

    #[test]
    fn the_workbook_pdf_is_rendered_only_when_asked_for() {
        let (_dir, project, loaded) = project();
        let kinds = |pdf: Workbooks| -> Vec<usize> {
            let options = BuildOptions {
                pdf,
                ..BuildOptions::default()
            };
            let plans = for_build(&project, &loaded, &options).expect("plans");
            assert_eq!(plans.len(), 3, "the base and both clients");
            plans.iter().map(|p| p.outputs.len()).collect()
        };
        let site = render::output_kinds().len();
        assert_eq!(kinds(Workbooks::No), [site; 3]);
        assert_eq!(kinds(Workbooks::WithSite), [site + 1; 3]);
        assert_eq!(kinds(Workbooks::Only), [1; 3]);
        let only = BuildOptions {
            pdf: Workbooks::Only,
            ..BuildOptions::default()
        };
        let plans = for_build(&project, &loaded, &only).expect("plans");
        // No site, so no uniqueness report to keep texts for.
        assert!(plans.iter().all(|p| !p.version.collect_texts));
        // The PDF kind is the last of `build --pdf`'s, the only one of `pdf`'s.
        let with_site = BuildOptions {
            pdf: Workbooks::WithSite,
            ..BuildOptions::default()
        };
        let plans_with_site = for_build(&project, &loaded, &with_site).expect("plans");
        let pdf = render::workbook_pdf();
        assert!(std::ptr::addr_eq(plans[0].outputs[0], pdf));
        assert!(std::ptr::addr_eq(
            *plans_with_site[0].outputs.last().expect("kinds"),
            pdf
        ));
    }

    #[test]
    fn an_unknown_client_is_a_usage_error_listing_the_clients() {
        let (_dir, project, loaded) = project();
        let options = BuildOptions {
            clients: clients(&["gamma"]),
            ..BuildOptions::default()
        };
        let Err(Error::Usage(message)) = for_build(&project, &loaded, &options) else {
            panic!("a usage error");
        };
        assert_eq!(
            message,
            "no client `gamma` in clients/; clients: alpha, beta"
        );
    }
}
