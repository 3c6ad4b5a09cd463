//! Present mode (SPEC §9): the deck of every version and the presenter
//! console of facilitator versions, through the binary.

mod common;

use common::{Fixture, broken_links, page};

const SECRET: &str = "NOTE-SECRETE-DU-FORMATEUR";

fn masterclass() -> Fixture {
    Fixture::new(&[
        (
            "atelier.yaml",
            "title: Atelier test\nlanguage: fr\nclient_defaults:\n  name: votre entreprise\n  sector: votre secteur\nschedule:\n  start: \"09:30\"\n  breaks:\n    - { after: ouverture, duration: 15 min, label: Pause café }\n",
        ),
        (
            "content/modules/01-ouverture.md",
            &page(
                "title: Ouverture\nsummary: On commence ensemble.\nduration: 30 min\nemotion: curiosité",
                &format!(
                    "Introduction pour {{{{ client.name }}}}.\n\n## Premier point\n\nTexte un.\n\n---\n\nSuite du premier point.\n\n## Deuxième point\n\nTexte deux.\n\n::: facilitator\n{SECRET} : laisser parler la salle.\n:::\n\n::: story\n## Titre dans une histoire\n\nReste dans sa diapositive.\n:::\n\n::: exercise lettre\nÀ faire seul.\n:::\n"
                ),
            ),
        ),
        (
            "content/modules/02-recit/_index.md",
            &page("title: Le récit\nduration: 45 min", "Ouverture du récit."),
        ),
        (
            "content/modules/02-recit/01-declic.md",
            &page("title: Le déclic", "Premier pas.\n\n## Le moment\n\nIci."),
        ),
        (
            "content/exercises/lettre.md",
            &page(
                "title: Une lettre\nkind: reflection\nduration: 20 min\nobjective: Écrire vrai.\nfields:\n  - { id: a, label: Quoi, type: text }",
                "Consigne.",
            ),
        ),
        (
            "clients/lemoine/client.yaml",
            "name: Maison Lemoine\nsector: chocolaterie\ntheme: { primary: \"#7b3f1d\", accent: \"#e9c46a\" }\n",
        ),
        (
            "clients/belcourt/client.yaml",
            "name: Cabinet Belcourt\nsector: conseil\ntheme: { primary: \"#1d4e7b\" }\n",
        ),
    ])
}

/// The `class` of every slide of a deck, in order.
fn slide_kinds(html: &str) -> Vec<String> {
    html.match_indices("<section class=\"slide ")
        .map(|(at, m)| {
            let rest = &html[at + m.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

#[test]
fn every_version_has_a_deck_in_agenda_order_with_a_slide_per_section() {
    let f = masterclass();
    f.build();
    let deck = f.read("public/present/index.html");
    assert_eq!(
        slide_kinds(&deck),
        [
            "slide-cover",
            "slide-agenda",
            "slide-module",   // Ouverture: title slide
            "slide-content",  // introduction
            "slide-content",  // ## Premier point
            "slide-content",  // --- inside it
            "slide-content",  // ## Deuxième point (the story's ## stays in it)
            "slide-exercise", // ::: exercise
            "slide-break",
            "slide-agenda",
            "slide-module", // Le récit
            "slide-content",
            "slide-step",
            "slide-content", // Premier pas
            "slide-content", // ## Le moment
        ]
    );
    assert_eq!(deck.matches("data-slide").count(), 15);
    // Title slide: title, summary, clock time, duration, emotion.
    for text in [
        "Ouverture",
        "On commence ensemble.",
        "09:30",
        "30 min",
        "curiosité",
    ] {
        assert!(deck.contains(text), "{text} missing");
    }
    // The break says when the session resumes, and the agenda where we are.
    assert!(deck.contains("Pause café"));
    assert!(deck.contains("Reprise à <strong>10:15</strong>"), "{deck}");
    assert!(
        deck.contains("is-current\" aria-current=\"step\"><span class=\"deck-agenda-time\">10:15")
    );
    // The exercise slide counts its duration down.
    assert!(deck.contains("data-seconds=\"1200\""));
    assert!(deck.contains("Titre dans une histoire"));
    assert!(
        !deck.contains("<hr"),
        "the --- line is a cut, not a rule on a slide"
    );
    // Offline: no external resource, and every link resolves.
    assert!(!deck.contains("https://") && !deck.contains("http://"));
    assert!(f.exists("public/static/deck.js") && f.exists("public/static/deck.css"));
    assert_eq!(broken_links(&f.path("public")), Vec::<String>::new());
    for client in ["lemoine", "belcourt"] {
        let deck = f.read(&format!("public/clients/{client}/present/index.html"));
        assert_eq!(deck.matches("data-slide").count(), 15, "{client}");
    }
}

#[test]
fn a_clients_deck_has_its_name_and_colours_and_nothing_of_another_client() {
    let f = masterclass();
    f.build();
    let lemoine = f.read("public/clients/lemoine/present/index.html");
    assert!(lemoine.contains("Introduction pour Maison Lemoine."));
    assert!(lemoine.contains("--primary:#7b3f1d"));
    for other in ["Belcourt", "#1d4e7b", "votre entreprise"] {
        assert!(!lemoine.contains(other), "{other} in Lemoine's deck");
    }
    let base = f.read("public/present/index.html");
    assert!(base.contains("Introduction pour votre entreprise."));
    assert!(!base.contains("Lemoine") && !base.contains("Belcourt"));
}

#[test]
fn facilitator_notes_are_in_the_console_only_and_the_console_in_facilitator_versions_only() {
    let f = masterclass();
    f.build();
    f.run(&["build", "--facilitator"]).expect(0);
    // No participant file of any version holds the note, nor a console.
    for entry in walkdir::WalkDir::new(f.path("public")) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(SECRET),
                "{} holds facilitator text",
                entry.path().display()
            );
        }
        assert!(
            !entry.path().ends_with("present/console"),
            "{}",
            entry.path().display()
        );
    }
    // The facilitator's deck is the same deck, without the notes.
    let deck = f.read("public-facilitator/present/index.html");
    assert!(!deck.contains(SECRET));
    assert_eq!(deck.matches("data-slide").count(), 15);
    // The console: every slide, and the note with the slide it stands in.
    let console = f.read("public-facilitator/present/console/index.html");
    assert_eq!(console.matches("data-slide").count(), 15);
    let note = console.find(SECRET).expect("the note is in the console");
    let slide = console[..note].rfind("<section class=\"slide ").unwrap();
    assert!(console[slide..note].contains("Deuxième point"));
    assert!(console[slide..note].contains("<div class=\"slide-notes\" hidden>"));
    for client in ["lemoine", "belcourt"] {
        assert!(f.exists(&format!(
            "public-facilitator/clients/{client}/present/console/index.html"
        )));
    }
    assert_eq!(
        broken_links(&f.path("public-facilitator")),
        Vec::<String>::new()
    );
}

#[test]
fn check_warns_about_a_slide_too_long_for_a_projector() {
    let f = masterclass();
    let long = "mot ".repeat(130);
    f.write(
        "content/modules/03-long.md",
        &page(
            "title: Long\nduration: 10 min",
            &format!("Court.\n\n## Trop long\n\n{long}\n\n## Court\n\nBien.\n"),
        ),
    );
    let run = f.run(&["check"]);
    run.says("content/modules/03-long.md:7")
        .says("slide too long to read on a projector: 133 words (more than 120)");
    assert_eq!(
        run.stderr.matches("slide too long").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(!f.run(&["check"]).stderr.contains("01-ouverture.md:"));
}

/// `GET path` from the preview server: status and body (Connection: close,
/// so the body runs to the end; chunked bodies are decoded).
fn get(port: u16, path: &str) -> (u16, String) {
    let (status, body) = common::http_get(port, path);
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn the_preview_server_serves_the_deck_after_an_edit() {
    let f = masterclass();
    let server = common::Server::start(f.root());
    let (status, deck) = get(server.port, "/present/index.html");
    assert_eq!(status, 200);
    assert!(deck.contains("Introduction pour votre entreprise."));
    let (status, console) = get(server.port, "/_facilitator/present/console/index.html");
    assert_eq!(status, 200);
    assert!(console.contains(SECRET));
    assert_eq!(get(server.port, "/present/console/index.html").0, 404);
    // An edit rebuilds the pages, and the deck shows it too.
    f.write(
        "content/modules/02-recit/01-declic.md",
        &page(
            "title: Le déclic",
            "Premier pas.\n\n## Le moment modifié\n\nIci.",
        ),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, deck) = get(server.port, "/present/index.html");
        if status == 200 && deck.contains("Le moment modifié") {
            assert!(!deck.contains(SECRET));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the deck was not rebuilt: {status}\n{}",
            server.stderr()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
