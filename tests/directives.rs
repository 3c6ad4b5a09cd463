//! Directives through the real binary: facilitator notes and solutions in
//! every block container, closing fences, stray fences, typos in `only` /
//! `except`, exercises embedded twice.

mod common;

use common::{Fixture, files_containing, page};

/// The same note, in every kind of block container, each with its own
/// secret word.
fn containers(kind: &str) -> Vec<(String, String)> {
    let cases = [
        ("quote", "> ::: KIND\n> SECRET\n> :::\n"),
        (
            "quotemid",
            "> Avant.\n>\n> ::: KIND\n> SECRET\n> :::\n>\n> Après.\n",
        ),
        ("nestedquote", "> > ::: KIND\n> > SECRET\n> > :::\n"),
        ("item", "- un\n- ::: KIND\n  SECRET\n  :::\n- trois\n"),
        ("itembody", "- un\n\n  ::: KIND\n  SECRET\n  :::\n"),
        ("ordered", "1. Étape\n\n    ::: KIND\n    SECRET\n    :::\n"),
        ("listinquote", "> - ::: KIND\n>   SECRET\n>   :::\n"),
        (
            "quoteinlist",
            "- Citation :\n\n  > ::: KIND\n  > SECRET\n  > :::\n",
        ),
        (
            "footnote",
            "Texte[^a].\n\n[^a]: ::: KIND\n    SECRET\n    :::\n",
        ),
        (
            "footnotebody",
            "Texte[^b].\n\n[^b]: Note.\n\n    ::: KIND\n    SECRET\n    :::\n",
        ),
        ("instory", "::: story\n> ::: KIND\n> SECRET\n> :::\n:::\n"),
        (
            "listinstory",
            ":::: story\n- ::: KIND\n  SECRET\n  :::\n::::\n",
        ),
        (
            "quoteinstoryinquote",
            "> ::: story\n> > ::: KIND\n> > SECRET\n> > :::\n> :::\n",
        ),
    ];
    cases
        .iter()
        .map(|(name, text)| {
            let secret = format!("SECRET{}{}", kind.to_uppercase(), name.to_uppercase());
            (
                secret.clone(),
                text.replace("KIND", kind).replace("SECRET", &secret),
            )
        })
        .collect()
}

/// A project whose module, shared page and exercise hold `body`, with a
/// base version and two clients.
fn project(body: &str) -> Fixture {
    let f = Fixture::new(&[
        ("content/_index.md", &page("title: Accueil", "Bienvenue.")),
        (
            "content/modules/01-ouverture.md",
            &page(
                "title: Ouverture\nduration: 30 min\nexercises: [lettre]",
                &format!("Intro.\n\n{body}\n::: exercise lettre\n:::\n"),
            ),
        ),
        ("content/fiche.md", &page("title: Fiche", body)),
        (
            "content/exercises/lettre.md",
            &page(
                "title: Lettre\nkind: worksheet\nfields:\n  - { id: idee, label: Votre idée }",
                &format!("Écrivez.\n\n{body}"),
            ),
        ),
    ]);
    f.write(
        "clients/lemoine/client.yaml",
        "name: Maison Lemoine\nsector: chocolaterie\n",
    );
    f.write(
        "clients/belcourt/client.yaml",
        "name: Cabinet Belcourt\nsector: conseil\n",
    );
    f
}

#[test]
fn facilitator_notes_never_reach_participants_in_any_container() {
    let cases = containers("facilitator");
    let body: String = cases.iter().map(|(_, text)| format!("{text}\n")).collect();
    let f = project(&body);
    f.build();
    f.run(&["build", "--facilitator", "--out", "animateur"])
        .expect(0);
    let public = f.path("public");
    assert!(public.join("clients/lemoine/index.html").exists());
    assert!(public.join("clients/belcourt/index.html").exists());
    // The module (base, two clients: its page, the print page, the slide
    // deck) and the exercise.
    assert_eq!(files_containing(&public, "Intro.").len(), 9);
    assert!(files_containing(&public, "Écrivez.").len() >= 3);
    for (secret, text) in &cases {
        let leaked = files_containing(&public, secret);
        assert!(leaked.is_empty(), "{text:?} published in {leaked:?}");
        let shown = files_containing(&f.path("animateur"), secret);
        assert!(
            shown.iter().any(|p| p.starts_with("modules")),
            "{text:?} missing from the facilitator build: {shown:?}"
        );
    }
    // No fence is left as text in any page (the theme's CSS mentions them).
    let pages = |needle: &str| -> Vec<String> {
        files_containing(&public, needle)
            .into_iter()
            .filter(|p| !p.ends_with(".css"))
            .collect()
    };
    assert_eq!(pages(":::"), Vec::<String>::new());
    let facilitator = f.read("animateur/modules/ouverture/index.html");
    // The module's own notes, and the embedded exercise's.
    assert_eq!(
        facilitator
            .matches("<aside class=\"directive facilitator\">")
            .count()
            % cases.len(),
        0,
        "{facilitator}"
    );
    for (secret, _) in &cases {
        assert!(facilitator.contains(&format!("<p>{secret}</p>")));
    }
}

#[test]
fn solutions_are_folded_in_any_container() {
    let cases = containers("solution");
    let body: String = cases.iter().map(|(_, text)| format!("{text}\n")).collect();
    let f = project(&body);
    f.build();
    let public = f.path("public");
    let raw: Vec<String> = files_containing(&public, ":::")
        .into_iter()
        .filter(|p| !p.ends_with(".css"))
        .collect();
    assert!(raw.is_empty(), "{raw:?}");
    for page in [
        "modules/ouverture/index.html",
        "fiche/index.html",
        "clients/lemoine/modules/ouverture/index.html",
        "clients/belcourt/fiche/index.html",
    ] {
        let html = f.read(&format!("public/{page}"));
        let folded = html
            .matches("<details class=\"directive solution\">")
            .count();
        assert!(folded >= cases.len(), "{page}: {html}");
        for (secret, _) in &cases {
            // Each secret sits inside a folded block, wherever it appears.
            let found: Vec<usize> = html.match_indices(secret.as_str()).map(|m| m.0).collect();
            assert!(!found.is_empty(), "{page}: {secret} missing");
            for at in found {
                let open = html[..at].rfind("<details class=\"directive solution\">");
                let close = html[..at].rfind("</details>");
                assert!(open > close, "{page}: {secret} not folded");
            }
        }
    }
}

#[test]
fn a_fence_left_as_text_is_an_error_not_published_text() {
    // A paragraph's continuation line indented four spaces is text for
    // CommonMark: never a place to publish a facilitator note.
    let f = project("Avant.\n\n\nTexte\n    ::: facilitator\nSECRET-STRAY\n");
    let run = f.run(&["build"]);
    run.expect(1)
        .says("content/fiche.md:8:5")
        .says("`::: facilitator` is not read as a directive here");
    assert!(files_containing(&f.path("."), "SECRET-STRAY").len() == 3);
    assert!(!f.exists("public"));
    f.run(&["check"])
        .expect(1)
        .says("is not read as a directive");
}

#[test]
fn a_longer_closing_fence_closes_the_block() {
    let opener = ":".repeat(41);
    let closer = ":".repeat(50);
    let f = project(&format!(
        "{opener} facilitator\nSECRET-LONG\n{closer}\n\nAprès.\n\n:::: tip\n\\:::\n::::::\n"
    ));
    f.build();
    assert!(files_containing(&f.path("public"), "SECRET-LONG").is_empty());
    let html = f.read("public/fiche/index.html");
    assert!(html.contains("<p>Après.</p>"), "{html}");
    assert!(html.contains("<p>:::</p>\n</div>"), "{html}");
    // A shorter one closes nothing.
    f.write(
        "content/fiche.md",
        &page("title: Fiche", ":::: tip\nx\n:::\ny\n::::\n"),
    );
    f.run(&["build"])
        .expect(1)
        .says("content/fiche.md:6:1")
        .says("closing fence `:::` at line 6 is shorter than `::::` that opened `tip` at line 4");
}

/// A project with two clients and one typo in `rule`, written at line 5 of
/// `content/fiche.md` (body) or in its front matter.
fn typo_project(front: &str, body: &str) -> Fixture {
    let f = Fixture::new(&[
        ("content/_index.md", &page("title: Accueil", "Bienvenue.")),
        (
            "content/fiche.md",
            &page(&format!("title: Fiche{front}"), &format!("Avant.\n{body}")),
        ),
    ]);
    f.write(
        "clients/northwind-coffee/client.yaml",
        "name: Northwind\nsector: torréfaction\nvars: { persona: Léa }\n",
    );
    f.write(
        "clients/maison-lemoine/client.yaml",
        "name: Maison Lemoine\nsector: chocolaterie\n",
    );
    f
}

#[test]
fn typos_in_client_rules_are_warnings_in_build_and_errors_in_check() {
    let cases = [
        (
            "",
            "::: only client=\"northwind-cofee\"\nCACHE\n:::\n",
            "content/fiche.md:5:10",
            "`::: only client=\"northwind-cofee\"` names no client: the block is hidden from every version",
            "did you mean `northwind-coffee`?",
        ),
        (
            "",
            "::: except client=\"maison-lemoin\"\nX\n:::\n",
            "content/fiche.md:5:12",
            "`::: except client=\"maison-lemoin\"` names no client: the block is shown to every version",
            "did you mean `maison-lemoine`?",
        ),
        (
            "",
            "> ::: only sector=\"torefaction\"\n> X\n> :::\n",
            "content/fiche.md:5:12",
            "`::: only sector=\"torefaction\"` asks for a value no client has",
            "did you mean `torréfaction`?",
        ),
        (
            "",
            "::: except sector=\"chocolatrie\"\nX\n:::\n",
            "content/fiche.md:5:12",
            "`::: except sector=\"chocolatrie\"` asks for a value no client has",
            "did you mean `chocolaterie`?",
        ),
        (
            "",
            "::: only secteur=\"chocolaterie\"\nX\n:::\n",
            "content/fiche.md:5:10",
            "`::: only secteur=\"chocolaterie\"` asks for a value no client has (no client.yaml sets `secteur`)",
            "did you mean `sector`?",
        ),
        (
            "",
            "::: facilitator\n::: only client=\"northwind-cofe\"\nX\n:::\n:::\n",
            "content/fiche.md:6:10",
            "`::: only client=\"northwind-cofe\"` names no client",
            "did you mean `northwind-coffee`?",
        ),
        (
            "\nclients: { only: [northwind-cofee] }",
            "",
            "content/fiche.md:3:19",
            "`clients: { only: [...] }` names `northwind-cofee`, which is not a client",
            "did you mean `northwind-coffee`?",
        ),
        (
            "\nclients:\n  except:\n    - maison-lemoin",
            "",
            "content/fiche.md:5:7",
            "`clients: { except: [...] }` names `maison-lemoin`, which is not a client",
            "did you mean `maison-lemoine`?",
        ),
    ];
    for (front, body, place, message, help) in cases {
        let f = typo_project(front, body);
        let build = f.run(&["build"]);
        build.expect(0).says(place).says(message).says(help);
        let warning = format!("warning: {message}");
        assert_eq!(
            build.stderr.matches(message).count(),
            1,
            "reported once, not once per version:\n{}",
            build.stderr
        );
        assert!(build.stderr.contains(&warning), "{}", build.stderr);
        let check = f.run(&["check"]);
        check.expect(1).says(place).says(help);
        assert!(
            check.stderr.contains(&format!("error: {message}")),
            "{}",
            check.stderr
        );
        assert_eq!(check.stderr.matches(message).count(), 1, "{}", check.stderr);
    }
    // Values that exist are fine.
    let f = typo_project(
        "\nclients: { except: [maison-lemoine] }",
        "::: only sector=\"torréfaction\" client=\"northwind-coffee\"\nX\n:::\n",
    );
    let build = f.build();
    for run in [&build, &f.run(&["check"])] {
        let quiet = !run.stderr.contains("no client") && !run.stderr.contains("not a client");
        assert!(quiet, "{}", run.stderr);
    }
    f.run(&["check"]).expect(0);
}

/// Every `id="…"` of an HTML page.
fn ids_of(html: &str) -> Vec<String> {
    common::attribute_values(html, &["id"])
}

/// Asserts no id repeats and every `for` points at an id of the page.
fn assert_ids_unique(page: &str, html: &str) {
    let ids = ids_of(html);
    let mut seen = std::collections::HashSet::new();
    let repeated: Vec<&String> = ids.iter().filter(|id| !seen.insert(*id)).collect();
    assert!(repeated.is_empty(), "{page}: repeated ids {repeated:?}");
    for target in common::attribute_values(html, &["for"]) {
        for id in target.split_whitespace() {
            assert!(
                seen.contains(&id.to_string()),
                "{page}: for=\"{id}\" has no element"
            );
        }
    }
}

#[test]
fn an_exercise_embedded_twice_warns_and_each_copy_has_its_own_ids() {
    let worksheet = "title: Lettre\nkind: worksheet\nfields:\n  - { id: idee, label: Votre idée }\n  - { id: note, label: Note, type: scale }\n  - { id: choix, label: Choix, type: choice, options: [A, B] }";
    let f = Fixture::new(&[
        ("content/_index.md", &page("title: Accueil", "Bienvenue.")),
        (
            "content/modules/01-ouverture.md",
            &page(
                "title: Ouverture\nduration: 30 min\nexercises: [lettre]",
                "Intro.\n\n::: exercise lettre\n:::\n\nEncore :\n\n::: exercise lettre\nUne deuxième fois.\n:::\n\n::: solution\nUne solution ne cache pas le doublon.\n:::\n",
            ),
        ),
        ("content/exercises/lettre.md", &page(worksheet, "Écrivez.")),
        (
            "content/fiche.md",
            &page(
                "title: Fiche",
                "::: only client=\"lemoine\"\n::: exercise lettre\n:::\n:::\n\n::: except client=\"lemoine\"\n::: exercise lettre\n:::\n:::\n",
            ),
        ),
    ]);
    f.write("clients/lemoine/client.yaml", "name: Maison Lemoine\n");
    let build = f.build();
    build
        .says("content/modules/01-ouverture.md:13")
        .says("exercise `lettre` is embedded twice on this page (first at line 8)")
        .says("the base version shows two copies of its form");
    assert_eq!(
        build.stderr.matches("is embedded twice").count(),
        1,
        "once, for the module only (the fiche shows one copy per version):\n{}",
        build.stderr
    );
    for page in [
        "public/modules/ouverture/index.html",
        "public/clients/lemoine/modules/ouverture/index.html",
    ] {
        let html = f.read(page);
        // Two embeds and the module's list: three copies.
        assert_eq!(
            html.matches("data-exercise=\"lettre\"").count(),
            3,
            "{page}"
        );
        assert!(html.contains("id=\"exercise-lettre-2\""), "{page}");
        assert!(html.contains("id=\"exercise-lettre-3\""), "{page}");
        // One exercise: the copies share their stored answers.
        let keys = common::attribute_values(&html, &["data-storage-key"]);
        assert!(
            keys.len() == 3 && keys.windows(2).all(|w| w[0] == w[1]),
            "{keys:?}"
        );
        assert_ids_unique(page, &html);
    }
    f.run(&["check"]).expect(0).says("is embedded twice");
}

#[test]
fn errors_inside_containers_point_at_the_source() {
    let f = Fixture::new(&[
        ("content/_index.md", &page("title: Accueil", "Bienvenue.")),
        (
            "content/fiche.md",
            &page(
                "title: Fiche",
                "Avant.\n\n> ::: tip\n> Pour {{ client.inconnu }}.\n> :::\n",
            ),
        ),
    ]);
    f.run(&["build"])
        .expect(1)
        .says("content/fiche.md:7:8")
        .says("unknown variable `client.inconnu`");
    // After a dropped block, and inside a block kept for the facilitator.
    f.write(
        "content/fiche.md",
        &page(
            "title: Fiche",
            "Avant.\n\n- ::: facilitator\n  Voir [x](absent.md).\n  :::\n\n> {{ client.inconnu }}\n",
        ),
    );
    f.run(&["build"]).expect(1).says("content/fiche.md:10:3");
    f.write(
        "content/fiche.md",
        &page(
            "title: Fiche",
            "Avant.\n\n- ::: facilitator\n  Voir [x](absent.md).\n  :::\n",
        ),
    );
    f.run(&["build", "--facilitator", "--out", "animateur"])
        .expect(0)
        .says("content/fiche.md:7:8");
}
