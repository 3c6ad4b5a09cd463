//! Unit tests for composing: which pages a version has, in what order,
//! under which URL, and what composing reports.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::client::{self, Client};
use crate::content::{self, SourcePage};
use crate::duration::ClockTime;
use crate::error::Diagnostics;
use crate::project::Project;

const CONFIG: &str = "title: Atelier\nlanguage: fr\nschedule:\n  start: \"09:00\"\n  breaks:\n    - { after: ouverture, duration: 15 min }\n";

/// A project of `files` (besides `atelier.yaml`), read as `build` reads it.
struct Fixture {
    _dir: tempfile::TempDir,
    project: Project,
    pages: Vec<Arc<SourcePage>>,
    assets: Vec<Arc<Asset>>,
    clients: Vec<Client>,
}

impl Fixture {
    fn new(files: &[(&str, &str)]) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        for (rel, text) in [("atelier.yaml", CONFIG)].iter().chain(files) {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
            std::fs::write(path, text).expect("write");
        }
        let project = Project::open(Some(dir.path())).expect("project");
        let diagnostics = Diagnostics::new();
        let set = content::load(dir.path(), Path::new("content"), &diagnostics);
        let clients = client::load_all(dir.path(), &diagnostics);
        assert!(!diagnostics.has_errors(), "{:?}", diagnostics.into_sorted());
        Fixture {
            project,
            pages: set.pages.into_iter().map(Arc::new).collect(),
            assets: set.assets.into_iter().map(Arc::new).collect(),
            clients,
            _dir: dir,
        }
    }

    /// The overlay of client `slug`, read as `build` reads it.
    fn overlay(&self, slug: &str) -> (&Client, Vec<Arc<SourcePage>>) {
        let client = self
            .clients
            .iter()
            .find(|c| c.slug == slug)
            .expect("client");
        let diagnostics = Diagnostics::new();
        let base = content::load(&self.project.root, Path::new("content"), &diagnostics);
        let overlay = content::load_overlay(
            &self.project.root,
            &client.content_dir(),
            &base.segments,
            &diagnostics,
        );
        (client, overlay.pages.into_iter().map(Arc::new).collect())
    }

    fn compose(&self, options: &ComposeOptions) -> (Option<Site>, Vec<Diagnostic>) {
        let diagnostics = Diagnostics::new();
        let site = compose(
            &self.project.config,
            &self.project.config_text,
            &self.pages,
            &self.assets,
            options,
            &diagnostics,
        );
        (site, diagnostics.into_sorted())
    }
}

fn page(front: &str) -> String {
    format!("---\n{front}\n---\nTexte.\n")
}

fn urls(site: &Site, ids: &[PageId]) -> Vec<String> {
    ids.iter().map(|&id| site.pages[id].url.clone()).collect()
}

fn base() -> Fixture {
    Fixture::new(&[
        ("content/_index.md", &page("title: Accueil")),
        (
            "content/modules/01-ouverture.md",
            &page("title: Ouverture\nduration: 30 min"),
        ),
        ("content/modules/02-recit/_index.md", &page("title: Récit")),
        (
            "content/modules/02-recit/01-ecoute.md",
            &page("title: Écoute\nduration: 20 min"),
        ),
        (
            "content/modules/02-recit/02-declic.md",
            &page("title: Déclic\nduration: 25 min"),
        ),
        (
            "content/modules/03-brouillon.md",
            &page("title: Brouillon\ndraft: true\nduration: 10 min"),
        ),
        ("content/exercises/lettre.md", &page("title: Lettre")),
        ("content/ressources.md", &page("title: Ressources")),
        (
            "clients/lemoine/client.yaml",
            "name: Maison Lemoine\nmodules: [recit]\n",
        ),
        (
            "clients/lemoine/content/modules/01-ouverture.md",
            &page("title: Ouverture Lemoine\nduration: 40 min"),
        ),
        (
            "clients/lemoine/content/ressources.md",
            &page("title: Ressources\nremove: true"),
        ),
        (
            "clients/lemoine/content/absente.md",
            &page("title: Absente\nremove: true"),
        ),
    ])
}

#[test]
fn modules_and_their_steps_are_in_reading_order_with_their_durations() {
    let fixture = base();
    let (site, problems) = fixture.compose(&ComposeOptions::default());
    let site = site.expect("composed");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        urls(&site, &site.reading_order),
        [
            "modules/ouverture/",
            "modules/recit/",
            "modules/recit/ecoute/",
            "modules/recit/declic/",
        ]
    );
    let durations: Vec<Option<u32>> = site
        .modules
        .iter()
        .map(|m| m.duration.map(|d| d.0))
        .collect();
    // A module without its own duration lasts as long as its steps.
    assert_eq!(durations, [Some(30), Some(45)]);
    assert_eq!(site.modules[1].steps.len(), 2);
    let recit = site.modules[1].page;
    let ecoute = site.modules[1].steps[0];
    assert_eq!(site.module_index_of(ecoute), Some(1));
    assert_eq!(
        site.neighbours(ecoute),
        (Some(recit), Some(site.modules[1].steps[1]))
    );
    assert_eq!(urls(&site, &site.exercises), ["exercises/lettre/"]);
    assert_eq!(urls(&site, &site.others), ["ressources/"]);
    assert!(site.landing.is_some());
    // The agenda: 09:00, 30 min, the break, then 45 min.
    assert_eq!(site.agenda.start, ClockTime { minutes: 9 * 60 });
    assert_eq!(site.agenda.total.0, 30 + 15 + 45);
    assert_eq!(
        site.agenda.module_start(1),
        Some(ClockTime {
            minutes: 9 * 60 + 45
        })
    );
}

#[test]
fn drafts_are_left_out_unless_asked_for() {
    let fixture = base();
    let (site, _) = fixture.compose(&ComposeOptions::default());
    let site = site.expect("composed");
    assert_eq!(site.modules.len(), 2);
    assert_eq!(
        site.left_out.get("modules/03-brouillon.md"),
        Some(&LeftOut::Draft)
    );
    let (site, _) = fixture.compose(&ComposeOptions {
        drafts: true,
        ..ComposeOptions::default()
    });
    let site = site.expect("composed");
    assert_eq!(site.modules.len(), 3);
    assert!(site.left_out.is_empty());
}

#[test]
fn an_overlay_replaces_hides_and_selects_pages() {
    let fixture = base();
    let (client, overlay) = fixture.overlay("lemoine");
    let (site, problems) = fixture.compose(&ComposeOptions {
        client: Some(client),
        overlay_pages: &overlay,
        ..ComposeOptions::default()
    });
    let site = site.expect("composed");
    // `modules: [recit]`: the opening module is not selected, even replaced.
    assert_eq!(
        urls(&site, &site.reading_order),
        [
            "modules/recit/",
            "modules/recit/ecoute/",
            "modules/recit/declic/"
        ]
    );
    assert_eq!(
        site.left_out.get("modules/01-ouverture.md"),
        Some(&LeftOut::NotSelected)
    );
    assert_eq!(site.left_out.get("ressources.md"), Some(&LeftOut::Removed));
    assert!(site.others.is_empty());
    // The break after a module this client does not have is skipped.
    assert_eq!(site.agenda.total.0, 45);
    // Removing a page the base does not have is a warning, not a failure.
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(!problems[0].is_error());
    assert!(problems[0].message.contains("`remove: true`"));
    assert_eq!(
        problems[0].file.as_deref(),
        Some(Path::new("clients/lemoine/content/absente.md"))
    );
}

#[test]
fn an_overlay_page_replaces_the_base_page_at_its_path() {
    let fixture = base();
    let (client, overlay) = fixture.overlay("lemoine");
    let everything = Client {
        profile: crate::client::ClientFile {
            modules: None,
            ..client.profile.clone()
        },
        ..client.clone()
    };
    let (site, _) = fixture.compose(&ComposeOptions {
        client: Some(&everything),
        overlay_pages: &overlay,
        ..ComposeOptions::default()
    });
    let site = site.expect("composed");
    let opening = &site.pages[site.modules[0].page];
    assert_eq!(opening.url, "modules/ouverture/");
    assert!(opening.file.starts_with("clients/lemoine"));
    assert_eq!(site.modules[0].duration.map(|d| d.0), Some(40));
}

#[test]
fn a_break_after_an_unknown_module_fails_the_base_version() {
    let fixture = Fixture::new(&[(
        "content/modules/01-autre.md",
        &page("title: Autre\nduration: 30 min"),
    )]);
    let (site, problems) = fixture.compose(&ComposeOptions::default());
    assert!(site.is_none());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].is_error());
    assert_eq!(problems[0].file.as_deref(), Some(Path::new("atelier.yaml")));
    assert!(
        problems[0]
            .message
            .contains("break after unknown module `ouverture`")
    );
}
