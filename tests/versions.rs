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

/// A project in French with `typography: french`, one body with every
/// punctuation mark French spacing touches.
fn bilingual() -> Fixture {
    let f = Fixture::new(&[
        (
            "content/_index.md",
            &page(
                "title: 'Accueil : bienvenue !'",
                "Welcome: {{ client.name }}!",
            ),
        ),
        (
            "content/modules/01-ouverture.md",
            &page("title: 'Ouverture ?'", "Why now? Because; « quoted »."),
        ),
        (
            "content/guest.md",
            &page(
                "title: 'Guest: hello!'\nlanguage: en",
                "A guest's words: in English!",
            ),
        ),
        (
            "content/invite.md",
            &page("title: 'Invité : salut !'\nlanguage: fr", "Bonjour : oui !"),
        ),
    ]);
    f.write(
        "atelier.yaml",
        &format!("{}typography: french\n", common::MINIMAL_CONFIG),
    );
    f.write(
        "clients/northwind/client.yaml",
        "name: Northwind\nlanguage: en\n",
    );
    f.write(
        "clients/french-english/client.yaml",
        "name: Frenchy\nlanguage: en\ntypography: french\n",
    );
    f.write(
        "clients/plain/client.yaml",
        "name: Plain\ntypography: none\n",
    );
    f.write("clients/lemoine/client.yaml", "name: Maison Lemoine\n");
    f.write(
        "clients/berlin/client.yaml",
        "name: Berlin GmbH\nlanguage: de\n",
    );
    f
}

const NNBSP: char = '\u{202F}';

#[test]
fn a_client_in_another_language_gets_its_own_typography() {
    let f = bilingual();
    f.build();
    let english = f.read("public/clients/northwind/index.html");
    assert!(english.contains("<html lang=\"en\""), "{english}");
    assert!(english.contains("Welcome: Northwind!"), "{english}");
    assert!(english.contains("Version for Northwind"), "{english}");
    assert!(!english.contains(NNBSP), "{english}");
    let module = f.read("public/clients/northwind/modules/ouverture/index.html");
    assert!(module.contains("Why now? Because; « quoted »."), "{module}");
    assert!(!module.contains(NNBSP), "{module}");

    // The client asks for French spacing in English.
    let asked = f.read("public/clients/french-english/index.html");
    assert!(asked.contains("<html lang=\"en\""), "{asked}");
    assert!(
        asked.contains(&format!("Welcome{NNBSP}: Frenchy{NNBSP}!")),
        "{asked}"
    );

    // Same language as the project: the project's typography...
    let french = f.read("public/clients/lemoine/index.html");
    assert!(french.contains("<html lang=\"fr\""), "{french}");
    assert!(french.contains(&format!("Welcome{NNBSP}: Maison Lemoine{NNBSP}!")));
    let base = f.read("public/index.html");
    assert!(base.contains(&format!("Welcome{NNBSP}: votre entreprise{NNBSP}!")));
    // ...unless the client turns it off.
    let plain = f.read("public/clients/plain/index.html");
    assert!(plain.contains("<html lang=\"fr\""), "{plain}");
    assert!(plain.contains("Welcome: Plain!"), "{plain}");

    // German: theme strings fall back to English, no French spacing.
    let german = f.read("public/clients/berlin/index.html");
    assert!(german.contains("<html lang=\"de\""), "{german}");
    assert!(german.contains("Version for Berlin GmbH"), "{german}");
    assert!(german.contains("Welcome: Berlin GmbH!"), "{german}");
}

#[test]
fn a_page_in_another_language_follows_it() {
    let f = bilingual();
    f.build();
    for version in ["public", "public/clients/lemoine"] {
        let guest = f.read(&format!("{version}/guest/index.html"));
        assert!(guest.contains("<html lang=\"en\""), "{guest}");
        assert!(guest.contains("A guest’s words: in English!"), "{guest}");
        assert!(guest.contains("<title>Guest: hello! ·"), "{guest}");
        assert!(!guest.contains("Guest\u{202F}:"), "{guest}");
        let module = f.read(&format!("{version}/modules/ouverture/index.html"));
        assert!(module.contains("<html lang=\"fr\""), "{module}");
        assert!(module.contains(&format!("Why now{NNBSP}?")), "{module}");
    }
    // A French page in an English version gets French spacing.
    let invite = f.read("public/clients/northwind/invite/index.html");
    assert!(invite.contains("<html lang=\"fr\""), "{invite}");
    assert!(
        invite.contains(&format!("Bonjour{NNBSP}: oui{NNBSP}!")),
        "{invite}"
    );
    let guest = f.read("public/clients/northwind/guest/index.html");
    assert!(guest.contains("A guest’s words: in English!"), "{guest}");
}

#[test]
fn every_listed_language_is_accepted() {
    for language in ["fr", "en", "de", "es", "it"] {
        let f = Fixture::new(&[("content/_index.md", &page("title: Accueil", "Texte."))]);
        f.write(
            "atelier.yaml",
            &format!("title: Atelier\nlanguage: {language}\n"),
        );
        f.build();
        let home = f.read("public/index.html");
        assert!(
            home.contains(&format!("<html lang=\"{language}\"")),
            "{language}: {home}"
        );
    }
    let f = Fixture::new(&[("content/_index.md", &page("title: Accueil", "Texte."))]);
    f.write("atelier.yaml", "title: Atelier\nlanguage: pt\n");
    f.run(&["build"])
        .expect(1)
        .says("atelier.yaml:2:")
        .says("unsupported value `pt` in atelier.yaml (in `language`)")
        .says("use one of `fr`, `en`, `de`, `es`, `it`");
}
