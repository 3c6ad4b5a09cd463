//! YAML nested absurdly deep is refused with its place, before the YAML
//! parser (which would take most of a minute over it) ever sees it.
//!
//! Without the guard these tests do not fail quickly: each build hangs for
//! about 45 s in the parser, then fails on other messages.

mod common;

use common::{Fixture, page};

const LEVELS: usize = 100_000;

fn nested(levels: usize) -> String {
    format!("{}x{}", "[".repeat(levels), "]".repeat(levels))
}

#[test]
fn deep_front_matter_is_refused_with_its_place() {
    let f = Fixture::new(&[
        ("content/_index.md", &page("title: Accueil", "Bienvenue.")),
        (
            "content/modules/01-ouverture.md",
            &page(
                &format!("summary: court\ntitle: {}", nested(LEVELS)),
                "Texte.",
            ),
        ),
    ]);
    f.run(&["build"])
        .expect(1)
        .says("--> content/modules/01-ouverture.md:3:")
        .says("more than 64 levels deep");
    f.run(&["check"])
        .expect(1)
        .says("--> content/modules/01-ouverture.md:3:");
}

#[test]
fn deep_client_and_config_files_are_refused_with_their_place() {
    let f = Fixture::new(&[("content/_index.md", &page("title: Accueil", "Bienvenue."))]);
    f.write(
        "clients/lemoine/client.yaml",
        &format!(
            "name: Maison Lemoine\nvars:\n  persona: {}\n",
            nested(LEVELS)
        ),
    );
    f.run(&["build"])
        .expect(1)
        .says("--> clients/lemoine/client.yaml:3:")
        .says("more than 64 levels deep");
    f.write(
        "atelier.yaml",
        &format!("title: Atelier\nschedule:\n{}x\n", "- ".repeat(LEVELS)),
    );
    f.run(&["build"])
        .expect(1)
        .says("--> atelier.yaml:3:")
        .says("more than 64 levels deep");
}
