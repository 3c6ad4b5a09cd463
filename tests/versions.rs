//! What makes each version its own beyond its words: the pages its overlay
//! hides, and its language and typography.

mod common;

use common::{Fixture, page};

#[test]
fn an_overlay_page_with_only_remove_hides_the_base_page() {
    let f = Fixture::new(&[
        ("content/_index.md", &page("title: Accueil", "Bienvenue.")),
        (
            "content/modules/01-ouverture.md",
            &page("title: Ouverture", "Texte."),
        ),
        (
            "content/modules/02-recit.md",
            &page("title: Récit", "Texte."),
        ),
        (
            "content/exercises/lettre.md",
            &page("title: Lettre", "Consigne."),
        ),
        ("content/fiche.md", &page("title: Fiche", "Une fiche.")),
        ("clients/lemoine/client.yaml", "name: Maison Lemoine\n"),
        (
            "clients/lemoine/content/fiche.md",
            "---\nremove: true\n---\n",
        ),
        (
            "clients/lemoine/content/modules/01-ouverture.md",
            "---\nremove: true\n---\n",
        ),
        (
            "clients/lemoine/content/exercises/lettre.md",
            "---\r\nremove: true\r\n---\r\n",
        ),
    ]);
    f.build();
    f.run(&["check"]).expect(0);
    for base in [
        "public/fiche/index.html",
        "public/modules/ouverture/index.html",
        "public/exercises/lettre/index.html",
    ] {
        assert!(f.exists(base), "{base} missing from the base version");
    }
    for hidden in [
        "public/clients/lemoine/fiche/index.html",
        "public/clients/lemoine/modules/ouverture/index.html",
        "public/clients/lemoine/exercises/lettre/index.html",
    ] {
        assert!(!f.exists(hidden), "{hidden} should be hidden");
    }
    assert!(f.exists("public/clients/lemoine/modules/recit/index.html"));
    let landing = f.read("public/clients/lemoine/index.html");
    assert!(!landing.contains("Ouverture"), "{landing}");
}

#[test]
fn a_base_page_still_needs_its_title() {
    let f = Fixture::new(&[(
        "content/modules/01-ouverture.md",
        "---\nremove: true\n---\n",
    )]);
    f.run(&["build"])
        .expect(1)
        .says("content/modules/01-ouverture.md")
        .says("missing `title`");
}
