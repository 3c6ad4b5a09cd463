//! Per-client versions: overlays, selection and order, variables, blocks,
//! colours, isolation between clients, and the uniqueness report.

mod common;

use common::{Fixture, broken_links, page};

fn masterclass() -> Fixture {
    let f = Fixture::new(&[
        (
            "content/_index.md",
            &page("title: Accueil", "Bienvenue {{ client.name }}."),
        ),
        (
            "content/modules/01-ouverture.md",
            &page(
                "title: Ouverture\nduration: 30 min",
                "Pour {{ client.name }}, secteur {{ client.sector }}.",
            ),
        ),
        (
            "content/modules/02-confiance.md",
            &page(
                "title: Confiance\nduration: 45 min",
                "Texte commun.\n\n::: only client=\"lemoine\"\nSEULEMENT-LEMOINE\n:::\n\n::: only sector=\"conseil\"\nSEULEMENT-CONSEIL\n:::\n\n::: except client=\"lemoine\"\nSAUF-LEMOINE\n:::\n",
            ),
        ),
        (
            "content/modules/03-recit.md",
            &page(
                "title: Récit\nduration: 1h",
                "Le récit de {{ client.vars.persona }}.",
            ),
        ),
        (
            "content/fiche.md",
            &page("title: Fiche", "Une fiche générique."),
        ),
        (
            "content/reserve.md",
            &page(
                "title: Réservé\nclients: { only: [belcourt] }",
                "RESERVE-BELCOURT",
            ),
        ),
    ]);
    f.write(
        "atelier.yaml",
        "title: Atelier\nbase_url: https://example.org/a/\nschedule:\n  start: \"09:30\"\nclient_defaults:\n  name: votre entreprise\n  sector: votre secteur\n  vars: { persona: votre client }\n",
    );
    f.write(
        "clients/lemoine/client.yaml",
        "name: Maison Lemoine\nsector: chocolaterie\nvars: { persona: Claire }\nmodules: [recit, ouverture]\ntheme: { primary: \"#7b3f1d\", accent: \"#e9c46a\", logo: logo.svg }\nschedule: { start: \"14:00\" }\n",
    );
    f.write(
        "clients/lemoine/static/logo.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    );
    f.write(
        "clients/lemoine/content/modules/03-recit.md",
        &page(
            "title: Récit chocolaté\nduration: 1h",
            "CHOCOLAT-LEMOINE : le coffret de {{ client.vars.persona }}.",
        ),
    );
    f.write(
        "clients/lemoine/content/coffret.md",
        &page("title: Coffret", "PAGE-AJOUTEE-LEMOINE"),
    );
    f.write(
        "clients/lemoine/content/fiche.md",
        "---\ntitle: Fiche\nremove: true\n---\n",
    );
    f.write(
        "clients/lemoine/content/nulle-part.md",
        "---\ntitle: Nulle part\nremove: true\n---\n",
    );
    f.write(
        "clients/belcourt/client.yaml",
        "name: Cabinet Belcourt\nsector: conseil\nvars: { persona: Nadia }\ntheme: { primary: \"#1d3557\" }\n",
    );
    f
}

#[test]
fn each_client_gets_a_complete_version_of_its_own() {
    let f = masterclass();
    f.run(&["build"])
        .expect(0)
        .says("clients/lemoine/content/nulle-part.md")
        .says("`remove: true`, but the base content has no page at this path");
    for file in [
        "public/index.html",
        "public/clients/lemoine/index.html",
        "public/clients/lemoine/print/index.html",
        "public/clients/lemoine/404.html",
        "public/clients/lemoine/sitemap.xml",
        "public/clients/lemoine/coffret/index.html",
        "public/clients/lemoine/logo.svg",
        "public/clients/belcourt/index.html",
        "public/clients/belcourt/reserve/index.html",
    ] {
        assert!(f.exists(file), "{file} missing");
    }
    // Overlay: replace, add, remove.
    let recit = f.read("public/clients/lemoine/modules/recit/index.html");
    assert!(
        recit.contains("CHOCOLAT-LEMOINE : le coffret de Claire")
            || recit.contains("CHOCOLAT-LEMOINE\u{202F}: le coffret de Claire")
    );
    assert!(
        !f.exists("public/clients/lemoine/fiche/index.html"),
        "removed page"
    );
    assert!(f.exists("public/clients/belcourt/fiche/index.html"));
    assert!(
        !f.exists("public/reserve/index.html"),
        "`only` pages are not in the base version"
    );
    // Selection and order: recit before ouverture, confiance left out.
    assert!(!f.exists("public/clients/lemoine/modules/confiance/index.html"));
    let landing = f.read("public/clients/lemoine/index.html");
    let recit_at = landing.find("Récit chocolaté").expect("recit in agenda");
    let ouverture_at = landing.find("Ouverture").expect("ouverture in agenda");
    assert!(recit_at < ouverture_at, "client order in the agenda");
    assert!(
        landing.contains("14:00") && landing.contains("15:00"),
        "client schedule"
    );
    let recit_page = f.read("public/clients/lemoine/modules/recit/index.html");
    assert!(
        recit_page.contains("../../modules/ouverture/index.html"),
        "next follows the client's order"
    );
    assert!(
        broken_links(&f.path("public")).is_empty(),
        "{:?}",
        broken_links(&f.path("public"))
    );
}

#[test]
fn variables_and_blocks_resolve_per_client() {
    let f = masterclass();
    f.build();
    let base = f.read("public/modules/ouverture/index.html");
    assert!(base.contains("Pour votre entreprise, secteur votre secteur."));
    let lemoine = f.read("public/clients/lemoine/modules/ouverture/index.html");
    assert!(lemoine.contains("Pour Maison Lemoine, secteur chocolaterie."));
    let belcourt = f.read("public/clients/belcourt/modules/confiance/index.html");
    assert!(belcourt.contains("SEULEMENT-CONSEIL"));
    assert!(belcourt.contains("SAUF-LEMOINE"));
    assert!(!belcourt.contains("SEULEMENT-LEMOINE"));
    let base_confiance = f.read("public/modules/confiance/index.html");
    assert!(
        !base_confiance.contains("SEULEMENT-"),
        "only blocks are not in the base"
    );
    assert!(base_confiance.contains("SAUF-LEMOINE"));
}

#[test]
fn client_colours_and_logo_only_in_that_clients_pages() {
    let f = masterclass();
    f.build();
    assert!(
        f.read("public/clients/lemoine/index.html")
            .contains("#7b3f1d")
    );
    assert!(
        f.read("public/clients/lemoine/modules/recit/index.html")
            .contains("logo.svg")
    );
    assert!(
        f.read("public/clients/belcourt/index.html")
            .contains("#1d3557")
    );
    assert!(
        !f.read("public/clients/belcourt/index.html")
            .contains("#7b3f1d")
    );
    assert!(!f.read("public/index.html").contains("#7b3f1d"));
}

#[test]
fn one_clients_text_never_appears_in_another_clients_output() {
    let f = masterclass();
    f.build();
    let lemoine_only = [
        "Maison Lemoine",
        "Claire",
        "CHOCOLAT-LEMOINE",
        "PAGE-AJOUTEE-LEMOINE",
        "SEULEMENT-LEMOINE",
    ];
    let belcourt_only = [
        "Cabinet Belcourt",
        "Nadia",
        "RESERVE-BELCOURT",
        "SEULEMENT-CONSEIL",
    ];
    let scan = |dir: &str, forbidden: &[&str]| {
        for entry in walkdir::WalkDir::new(f.path(dir))
            .into_iter()
            .filter_map(Result::ok)
        {
            let path = entry.path();
            if path.starts_with(f.path("public/clients")) && !dir.contains("clients") {
                continue;
            }
            if entry.file_type().is_file() {
                let text =
                    String::from_utf8_lossy(&std::fs::read(path).expect("read")).into_owned();
                for word in forbidden {
                    assert!(!text.contains(word), "{} contains {word}", path.display());
                }
            }
        }
    };
    scan("public/clients/belcourt", &lemoine_only);
    scan("public/clients/lemoine", &belcourt_only);
    let mut both = lemoine_only.to_vec();
    both.extend(belcourt_only);
    scan("public", &both);
}

#[test]
fn one_client_builds_at_the_output_root() {
    let f = masterclass();
    f.run(&["build", "--client", "lemoine", "--out", "deploy"])
        .expect(0);
    assert!(
        f.read("deploy/index.html").contains("Maison Lemoine")
            || f.read("deploy/modules/ouverture/index.html")
                .contains("Maison Lemoine")
    );
    assert!(f.exists("deploy/modules/recit/index.html"));
    assert!(!f.exists("deploy/clients"));
    f.run(&[
        "build", "--client", "lemoine", "--client", "belcourt", "--out", "two",
    ])
    .expect(0);
    assert!(
        f.exists("two/clients/lemoine/index.html") && f.exists("two/clients/belcourt/index.html")
    );
    assert!(
        !f.exists("two/modules"),
        "no base version when clients are named"
    );
    f.run(&["build", "--client", "inconnu"])
        .expect(2)
        .says("lemoine");
}

#[test]
fn client_profile_errors_name_the_file_and_line() {
    let f = masterclass();
    f.write(
        "clients/belcourt/client.yaml",
        "name: Cabinet Belcourt\nmodules: [ouverture, nulle-part]\ncouleur: rouge\n",
    );
    f.run(&["build"])
        .expect(1)
        .says("clients/belcourt/client.yaml:3")
        .says("unknown key `couleur`");
    f.write(
        "clients/belcourt/client.yaml",
        "name: Cabinet Belcourt\nmodules: [ouverture, nulle-part]\n",
    );
    f.run(&["build"])
        .expect(1)
        .says("clients/belcourt/client.yaml:2")
        .says("unknown module `nulle-part`");
    f.write(
        "clients/belcourt/client.yaml",
        "name: Cabinet Belcourt\ntheme: { primary: \"red; background: url(x)\" }\n",
    );
    f.run(&["build"]).expect(1).says("not a colour");
}

#[test]
fn uniqueness_report_on_a_known_answer() {
    // Base: one page of 12 distinct words. `copie` changes nothing; `propre`
    // replaces the page with 12 other words: 0 % and 100 % unique.
    let words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima";
    let own = "un deux trois quatre cinq six sept huit neuf dix onze douze";
    let f = Fixture::new(&[("content/page.md", &page("title: Page", words))]);
    f.write("atelier.yaml", "title: T\nuniqueness: { min: 0.5 }\n");
    f.write("clients/copie/client.yaml", "name: Copie\n");
    f.write("clients/propre/client.yaml", "name: Propre\n");
    f.write("clients/propre/content/page.md", &page("title: Page", own));
    let run = f.run(&["build"]);
    run.expect(0)
        .says("copie: 0.0 % unique")
        .says("propre: 100.0 % unique — 1 overridden")
        .says("warning: Copie: only 0.0 % of this version is its own")
        .says("content/page.md");
    f.run(&["check", "--strict"]).expect(1).says("Copie");
}

#[test]
fn a_link_to_a_module_a_client_does_not_include_is_reported() {
    let f = masterclass();
    f.write(
        "content/modules/01-ouverture.md",
        &page(
            "title: Ouverture\nduration: 30 min",
            "Voir [la confiance](02-confiance.md).",
        ),
    );
    let run = f.run(&["check"]);
    run.expect(1)
        .says("content/modules/01-ouverture.md:5")
        .says("not in this version");
}

/// Files under `dir` by path relative to it, the output marker left out.
fn tree(f: &Fixture, dir: &str) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let base = f.path(dir);
    f.snapshot(dir)
        .into_iter()
        .map(|(path, bytes)| {
            (
                path.strip_prefix(&base).expect("inside").to_path_buf(),
                bytes,
            )
        })
        .filter(|(path, _)| path != std::path::Path::new(".atelier-output"))
        .collect()
}

/// Builds `client` alone and compares it, file by file, with its version in
/// the build at `together`.
fn assert_same_as_built_alone(f: &Fixture, together: &str, client: &str) {
    let alone = format!("alone-{client}");
    f.run(&["build", "--client", client, "--out", &alone])
        .expect(0);
    let shared = tree(f, &format!("{together}/clients/{client}"));
    let own = tree(f, &alone);
    assert_eq!(
        shared.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        own.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        "{client}: not the same files"
    );
    for ((path, shared), (_, own)) in shared.iter().zip(&own) {
        assert!(
            shared == own,
            "{client}: {} differs when built with the other versions:\n{}\n---\n{}",
            path.display(),
            String::from_utf8_lossy(shared),
            String::from_utf8_lossy(own)
        );
    }
}

/// A page whose only neighbour is the same page, but on the other side:
/// its pager must not be shared between the two versions.
#[test]
fn a_neighbour_on_the_other_side_is_not_the_same_page() {
    let f = Fixture::new(&[
        ("content/modules/01-alpha.md", &page("title: Alpha", "A")),
        ("content/modules/02-beta.md", &page("title: Beta", "B")),
    ]);
    f.write("atelier.yaml", "title: Atelier\n");
    f.write(
        "clients/inverse/client.yaml",
        "name: Inverse\nmodules: [beta, alpha]\n",
    );
    f.run(&["build", "--out", "together"]).expect(0);
    assert_same_as_built_alone(&f, "together", "inverse");
    let alpha = f.read("together/clients/inverse/modules/alpha/index.html");
    assert!(alpha.contains("rel=\"prev\""), "{alpha}");
}

/// Versions built together share bodies, page values and articles; a client
/// built alone shares nothing. Both must give the same bytes, including on
/// pages that show another page's client-specific title (steps, pager), a
/// client's own clock times, and pages left out of one client's selection.
#[test]
fn client_versions_built_together_equal_each_built_alone() {
    let f = masterclass();
    f.write(
        "content/modules/04-etapes/_index.md",
        &page("title: Étapes", "Le module en étapes."),
    );
    f.write(
        "content/modules/04-etapes/01-pour-qui.md",
        &page(
            "title: Pour {{ client.name }}\nduration: 20 min",
            "Une étape [vers la suivante](02-commune.md).",
        ),
    );
    f.write(
        "content/modules/04-etapes/02-commune.md",
        &page(
            "title: Commune\nduration: 10 min",
            "## Partie\n\nTexte commun.\n\n## Suite\n\nEncore.",
        ),
    );
    f.write(
        "content/modules/04-etapes/03-fin.md",
        &page("title: Fin\nduration: 15 min", "Fin commune."),
    );
    f.write(
        "clients/belcourt/client.yaml",
        "name: Cabinet Belcourt\nsector: conseil\nvars: { persona: Nadia }\ntheme: { primary: \"#1d3557\" }\nschedule: { start: \"08:15\" }\nlanguage: en\n",
    );
    // A shared page linking to a module lemoine's selection leaves out, and
    // to a page only belcourt has: the same body cannot serve every version.
    f.write(
        "content/liens.md",
        &page(
            "title: Liens",
            "Une page commune, voir [la confiance](modules/02-confiance.md) et [la réserve](reserve.html).",
        ),
    );
    f.run(&["build", "--out", "together"]).expect(0);
    for client in ["lemoine", "belcourt"] {
        assert_same_as_built_alone(&f, "together", client);
    }
    let commune = f.read("together/clients/belcourt/modules/etapes/commune/index.html");
    assert!(commune.contains("Pour Cabinet Belcourt"), "{commune}");
    assert!(!commune.contains("Maison Lemoine"));
    let liens = f.read("together/clients/lemoine/liens/index.html");
    assert!(
        liens.contains("voir la confiance et la réserve."),
        "{liens}"
    );
    let fiche = f.read("together/clients/belcourt/liens/index.html");
    assert!(fiche.contains(">la confiance</a>"), "{fiche}");
    assert!(fiche.contains(">la réserve</a>"), "{fiche}");
}

/// An overlay page takes the URL of the base page it replaces, even where
/// the base keeps `NN-` prefixes because two siblings share a name: URLs are
/// decided among the names of both trees, and the collision is reported once.
#[test]
fn overlay_pages_keep_the_urls_of_the_pages_they_replace() {
    let f = Fixture::new(&[
        (
            "content/modules/01-intro/_index.md",
            &page("title: Intro", "Un."),
        ),
        (
            "content/modules/01-intro/01-etape.md",
            &page("title: Étape", "Base."),
        ),
        (
            "content/modules/05-intro/_index.md",
            &page("title: Intro bis", "Deux."),
        ),
        (
            "clients/lemoine/content/modules/01-intro/01-etape.md",
            &page("title: Étape", "ETAPE-LEMOINE"),
        ),
    ]);
    f.write("atelier.yaml", "title: Atelier\n");
    f.write("clients/lemoine/client.yaml", "name: Maison Lemoine\n");
    let run = f.run(&["build"]);
    run.expect(0);
    assert!(f.exists("public/modules/01-intro/etape/index.html"));
    let step = f.read("public/clients/lemoine/modules/01-intro/etape/index.html");
    assert!(step.contains("ETAPE-LEMOINE"), "{step}");
    assert!(!f.exists("public/clients/lemoine/modules/intro"));
    assert_eq!(
        run.stderr.matches("share the URL name").count(),
        1,
        "{}",
        run.stderr
    );
}
