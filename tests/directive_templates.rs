//! Directives as templates, through the real binary: a project's own kinds
//! (`templates/directives/KIND.html`), overrides of built-in ones, the
//! privacy of facilitator notes and solutions whatever their templates say,
//! unknown kinds, template errors, a Carpentries-style lesson, and the
//! preview server serving what a clean build writes.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Fixture, Server, files_containing, page};

/// How many files `dir` holds.
fn file_count(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .count()
}

const TEMOIGNAGE: &str = "<blockquote class=\"temoignage\" data-pour=\"{{ client.name | default(value='tous') }}\">\n  {{ body }}\n  <footer>{{ attrs.auteur }}, sur « {{ page.title }} »</footer>\n</blockquote>\n";

fn lemoine() -> (&'static str, &'static str) {
    (
        "clients/lemoine/client.yaml",
        "name: Maison Lemoine\nsector: chocolaterie\n",
    )
}

fn project_with_temoignage() -> Fixture {
    Fixture::new(&[
        ("templates/directives/temoignage.html", TEMOIGNAGE),
        lemoine(),
        (
            "content/modules/01-confiance.md",
            &page(
                "title: La confiance",
                "Avant.\n\n::: temoignage auteur=\"Jeanne <la> & {{ client.name }}\"\nIls m’ont **écrit** après l’achat.\n\n- une lettre\n- un appel\n:::\n\nAprès.\n",
            ),
        ),
        // No variable: only the template reads the client, so a body
        // rendered for one version must not be reused for another.
        (
            "content/modules/02-apres.md",
            &page(
                "title: Après",
                "::: temoignage auteur=\"Paul\"\nMerci.\n:::\n",
            ),
        ),
    ])
}

#[test]
fn a_project_kind_renders_its_template_in_every_version_and_the_print_page() {
    let f = project_with_temoignage();
    f.build();
    let base = f.read("public/modules/confiance/index.html");
    assert!(
        base.contains("<blockquote class=\"temoignage\" data-pour=\"tous\">"),
        "{base}"
    );
    // The body stays Markdown; attribute values are text, escaped, and
    // variables in them resolve per version.
    assert!(
        base.contains("<p>Ils m’ont <strong>écrit</strong> après l’achat.</p>"),
        "{base}"
    );
    assert!(base.contains("<li>une lettre</li>"), "{base}");
    assert!(
        base.contains(
            "<footer>Jeanne &lt;la&gt; &amp; votre entreprise, sur « La confiance »</footer>"
        ),
        "{base}"
    );
    let client = f.read("public/clients/lemoine/modules/confiance/index.html");
    assert!(client.contains("data-pour=\"Maison Lemoine\""), "{client}");
    assert!(
        client.contains("<footer>Jeanne &lt;la&gt; &amp; Maison Lemoine, sur"),
        "{client}"
    );
    for (file, pour) in [
        ("public/modules/apres/index.html", "tous"),
        (
            "public/clients/lemoine/modules/apres/index.html",
            "Maison Lemoine",
        ),
    ] {
        let html = f.read(file);
        assert!(
            html.contains(&format!("data-pour=\"{pour}\">\n<p>Merci.</p>")),
            "{file}: {html}"
        );
    }
    let print = f.read("public/clients/lemoine/print/index.html");
    assert!(print.contains("data-pour=\"Maison Lemoine\""), "{print}");
    assert!(print.contains("<strong>écrit</strong>"), "{print}");
    f.run(&["check"]).expect(0);
}

#[test]
fn a_builtin_kind_is_restyled_by_overriding_its_template() {
    let f = Fixture::new(&[
        (
            "templates/directives/tip.html",
            "<section class=\"astuce-maison\"><h4>{{ t.tip }} ({{ lang }})</h4>{{ body | safe }}</section>",
        ),
        (
            "content/modules/01-a.md",
            &page("title: A", "::: tip\nUn *conseil*.\n:::\n"),
        ),
    ]);
    f.build();
    let html = f.read("public/modules/a/index.html");
    assert!(
        html.contains("<section class=\"astuce-maison\"><h4>Astuce (fr)</h4>\n<p>Un <em>conseil</em>.</p>\n</section>"),
        "{html}"
    );
    assert!(!html.contains("callout"), "{html}");
}

#[test]
fn facilitator_and_solution_overrides_keep_their_privacy() {
    let f = Fixture::new(&[
        (
            "templates/directives/facilitator.html",
            "<div class=\"montre-tout\">{{ body }} {{ body | safe }}</div>",
        ),
        (
            "templates/directives/solution.html",
            "<details class=\"reponse\"{% if open %} open{% endif %}><summary>Voir</summary>{{ body }}</details>",
        ),
        lemoine(),
        (
            "content/modules/01-a.md",
            &page(
                "title: A",
                "Texte.\n\n::: facilitator\nSECRET-TOP\n:::\n\n> ::: facilitator\n> SECRET-QUOTE\n> :::\n\n- ::: facilitator\n  SECRET-ITEM\n  :::\n- fin\n\n:::: story\n::: facilitator\nSECRET-STORY\n:::\n::::\n\n::: solution\nLa réponse.\n:::\n",
            ),
        ),
    ]);
    // The override writes `body` twice: refused, in the facilitator view
    // only (participants never render it).
    let run = f.run(&["build"]);
    run.expect(0);
    for secret in ["SECRET-TOP", "SECRET-QUOTE", "SECRET-ITEM", "SECRET-STORY"] {
        let leaks = files_containing(&f.path("public"), secret);
        assert!(leaks.is_empty(), "{secret} in {leaks:?}");
    }
    assert!(file_count(&f.path("public")) > 5);
    let html = f.read("public/clients/lemoine/modules/a/index.html");
    assert!(
        html.contains(
            "<details class=\"reponse\"><summary>Voir</summary>\n<p>La réponse.</p>\n</details>"
        ),
        "{html}"
    );
    f.run(&["build", "--facilitator"])
        .expect(1)
        .says("templates/directives/facilitator.html")
        .says("writes it 2 times, not once");
    f.write(
        "templates/directives/facilitator.html",
        "<div class=\"montre-tout\">{{ body }}</div>",
    );
    f.run(&["build", "--facilitator"]).expect(0);
    let html = f.read("public-facilitator/modules/a/index.html");
    assert!(
        html.contains("<div class=\"montre-tout\">\n<p>SECRET-TOP</p>\n</div>"),
        "{html}"
    );
    assert!(html.contains("<details class=\"reponse\" open>"), "{html}");
}

#[test]
fn a_solution_template_that_shows_it_open_is_refused() {
    let f = Fixture::new(&[
        (
            "templates/directives/solution.html",
            "<div class=\"ouverte\">{{ body }}</div>",
        ),
        (
            "content/modules/01-a.md",
            &page("title: A", "Texte.\n\n::: solution\nLa réponse.\n:::\n"),
        ),
    ]);
    let run = f.run(&["build"]);
    run.expect(1)
        .says("content/modules/01-a.md:6:1")
        .says("shows the solution open to participants");
    assert!(!f.exists("public/modules/a/index.html"));
}

#[test]
fn an_unknown_kind_lists_the_kinds_available_the_projects_included() {
    let f = Fixture::new(&[
        (
            "templates/directives/defi.html",
            "<div class=\"defi\">{{ body }}</div>",
        ),
        (
            "content/modules/01-a.md",
            &page("title: A", "Texte.\n\n::: defy\nx\n:::\n"),
        ),
    ]);
    for command in ["build", "check"] {
        f.run(&[command])
            .expect(1)
            .says("content/modules/01-a.md:6:5")
            .says("unknown directive `defy`: use one of story, facilitator, exercise, quote, tip, note, warning, solution, only, except, defi, or define it in templates/directives/defy.html");
    }
}

#[test]
fn template_errors_name_the_template_file_and_line() {
    let f = Fixture::new(&[
        (
            "templates/directives/carte.html",
            "<div class=\"carte\">\n{{ body }}\n{{ attrs.titre | upper }}\n</div>\n",
        ),
        (
            "content/modules/01-a.md",
            &page("title: A", "::: carte\nx\n:::\n"),
        ),
    ]);
    f.run(&["build"])
        .expect(1)
        .says("templates/directives/carte.html:3")
        .says("content/modules/01-a.md");
    f.write(
        "templates/directives/carte.html",
        "<div class=\"carte\">{{ attrs.titre | default(value='') }}</div>\n",
    );
    f.run(&["check"])
        .expect(1)
        .says("content/modules/01-a.md:4")
        .says(
            "the template templates/directives/carte.html of `::: carte` never writes `{{ body }}`",
        );
    f.write(
        "templates/directives/carte.html",
        "<div class=\"carte\">{% if %}</div>\n",
    );
    f.run(&["build"])
        .expect(1)
        .says("templates/directives/carte.html:1");
}

/// A lesson written for the Carpentries Workbench (Pandoc fenced divs):
/// 41-colon openers, 50-colon closers, a challenge holding a solution.
const LESSON: &str = "---
title: Écrire après l’achat
---

Un client revient quand on lui écrit comme à une personne.

::::::::::::::::::::::::::::::::::::::: challenge

## Défi : la première lettre

Réécrivez le message « Merci pour votre commande » pour une cliente précise.

:::::::::::::::: solution

Nommez-la, rappelez ce qu’elle a choisi, dites ce qui vient ensuite.

:::::::::::::::::::::::::

::::::::::::::::::::::::::::::::::::::::::::::::::

::::::::::::::::::::::::::::::::::::::: callout

Une lettre lue vaut mieux que dix relances.

::::::::::::::::::::::::::::::::::::::::::::::::::

:::::::::::::::::::::::::::::::::::::::: keypoints

- La confiance naît du détail.
- L’après-vente est une histoire.

::::::::::::::::::::::::::::::::::::::::::::::::::
";

#[test]
fn a_carpentries_lesson_builds_with_its_kinds_as_templates() {
    let f = Fixture::new(&[
        (
            "templates/directives/challenge.html",
            "<div class=\"challenge\">\n  <p class=\"label\">Défi</p>\n  {{ body }}\n</div>\n",
        ),
        (
            "templates/directives/callout.html",
            "<aside class=\"callout\">{{ body }}</aside>\n",
        ),
        (
            "templates/directives/keypoints.html",
            "<section class=\"keypoints\"><h2>Points clés</h2>{{ body }}</section>\n",
        ),
        ("content/modules/01-lettre.md", LESSON),
    ]);
    f.build();
    let html = f.read("public/modules/lettre/index.html");
    let challenge = html.find("<div class=\"challenge\">").expect("challenge");
    let solution = html
        .find("<details class=\"directive solution\"><summary>Solution</summary>")
        .expect("folded solution");
    let end = html[challenge..].find("</div>").expect("end") + challenge;
    assert!(challenge < solution && solution < end, "{html}");
    assert!(
        html.contains("<h2 id=\"defi-la-premiere-lettre\">"),
        "{html}"
    );
    assert!(
        html.contains("<aside class=\"callout\">\n<p>Une lettre lue"),
        "{html}"
    );
    assert!(
        html.contains("<section class=\"keypoints\"><h2>Points clés</h2>\n<ul>"),
        "{html}"
    );
    assert!(!html.contains(":::"), "{html}");
    f.run(&["build", "--facilitator"]).expect(0);
    let html = f.read("public-facilitator/modules/lettre/index.html");
    assert!(
        html.contains("<details class=\"directive solution\" open><summary>Solution</summary>"),
        "{html}"
    );
    // A kind the lesson uses but the project does not define.
    f.write(
        "content/modules/02-suite.md",
        &LESSON.replace("keypoints", "instructor"),
    );
    f.run(&["build"])
        .expect(1)
        .says("content/modules/02-suite.md:27:42")
        .says("use one of story, facilitator, exercise, quote, tip, note, warning, solution, only, except, callout, challenge, keypoints, or define it in templates/directives/instructor.html");
}

/// GET `path` from the preview server: its body, without the live-reload
/// script.
fn served(port: u16, path: &str) -> String {
    let (_, bytes) = common::http_get(port, path);
    let body = String::from_utf8_lossy(&bytes);
    match body.find("<script src=\"/__atelier/") {
        Some(at) => {
            let end = body[at..]
                .find("</script>")
                .map_or(body.len(), |e| at + e + 9);
            format!("{}{}", &body[..at], &body[end..])
        }
        None => body.to_string(),
    }
}

#[test]
fn the_preview_serves_a_project_kind_as_a_clean_build_writes_it() {
    let f = project_with_temoignage();
    let server = Server::start(f.root());
    let paths = [
        ("modules/confiance/index.html", "/modules/confiance/"),
        (
            "clients/lemoine/modules/confiance/index.html",
            "/clients/lemoine/modules/confiance/",
        ),
    ];
    f.run(&["build", "--out", "built"]).expect(0);
    for (file, url) in paths {
        assert_eq!(
            served(server.port, url),
            f.read(&format!("built/{file}")),
            "{url}"
        );
    }
    // Editing the template reaches the served pages (every version).
    f.write(
        "templates/directives/temoignage.html",
        &TEMOIGNAGE.replace("class=\"temoignage\"", "class=\"temoignage v2\""),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !served(server.port, "/clients/lemoine/modules/confiance/").contains("temoignage v2") {
        assert!(
            Instant::now() < deadline,
            "the edit never reached the server"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    f.run(&["build", "--out", "built2"]).expect(0);
    for (file, url) in paths {
        assert_eq!(
            served(server.port, url),
            f.read(&format!("built2/{file}")),
            "{url}"
        );
    }
}

#[test]
fn a_project_kind_left_as_text_is_an_error() {
    let f = Fixture::new(&[
        (
            "templates/directives/defi.html",
            "<div class=\"defi\">{{ body }}</div>",
        ),
        (
            "content/modules/01-a.md",
            &page(
                "title: A",
                "Texte.\n\n    ::: defi\n    Le défi.\n    :::\n",
            ),
        ),
    ]);
    f.run(&["build"])
        .expect(1)
        .says("content/modules/01-a.md:6:5")
        .says("`::: defi` is not read as a directive here");
}

/// The built-in templates write exactly the HTML atelier wrote before kinds
/// were templates (the theme's CSS and every published site rely on it).
#[test]
fn the_built_in_templates_write_the_html_of_the_built_in_kinds() {
    let body = "Intro.\n\n::: story\nUn *récit*.\n:::\n\n::: tip\nAstuce **forte**.\n:::\n\n::: note\nUne note.\n:::\n\n::: warning\nAttention.\n:::\n\n::: quote author=\"Seth <Godin> & \\\"co\\\"\" source=\"This Is 'Marketing'\"\nLes gens comme nous.\n:::\n\n::: quote author=Anonyme\nSans source.\n:::\n\n::: solution\nLa réponse.\n:::\n\n::: facilitator\nPour l'animateur.\n:::\n\n::: exercise lettre\nFaites-le.\n:::\n\n::: only sector=\"chocolaterie\"\nPour les chocolatiers.\n:::\n\n::: except client=\"lemoine\"\nPour les autres.\n:::\n\n> ::: tip\n> Dans une citation.\n> :::\n\n- ::: note\n  Dans une liste.\n  :::\n";
    let f = Fixture::new(&[
        lemoine(),
        (
            "content/exercises/lettre.md",
            &page(
                "title: Lettre\nkind: reflection\nfields:\n  - { id: a, label: \"A ?\", type: text }",
                "Corps.\n",
            ),
        ),
        (
            "content/modules/01-a.md",
            &page("title: A\nduration: 10 min", body),
        ),
    ]);
    f.build();
    f.run(&["build", "--facilitator"]).expect(0);
    let base = f.read("public/modules/a/index.html");
    for expected in [
        "<p>Intro.</p>\n<div class=\"directive story\">\n<p>Un <em>récit</em>.</p>\n</div>\n",
        "<div class=\"directive callout tip\"><p class=\"directive-label\">Astuce</p>\n<p>Astuce <strong>forte</strong>.</p>\n</div>\n",
        "<div class=\"directive callout note\"><p class=\"directive-label\">Note</p>\n<p>Une note.</p>\n</div>\n",
        "<div class=\"directive callout warning\"><p class=\"directive-label\">Attention</p>\n<p>Attention.</p>\n</div>\n",
        "<figure class=\"directive quote\"><blockquote>\n<p>Les gens comme nous.</p>\n</blockquote><figcaption>— Seth &lt;Godin&gt; &amp; &quot;co&quot;, <cite>This Is &#39;Marketing&#39;</cite></figcaption></figure>\n",
        "<figure class=\"directive quote\"><blockquote>\n<p>Sans source.</p>\n</blockquote><figcaption>— Anonyme</figcaption></figure>\n",
        "<details class=\"directive solution\"><summary>Solution</summary>\n<p>La réponse.</p>\n</details>\n<div class=\"directive exercise-embed\">\n<p>Faites-le.</p>\n\n<form class=\"exercise exercise-reflection\" id=\"exercise-lettre\"",
        "</form>\n\n</div>\n<p>Pour les autres.</p>\n<blockquote>\n<div class=\"directive callout tip\"><p class=\"directive-label\">Astuce</p>\n<p>Dans une citation.</p>\n</div>\n</blockquote>\n<ul>\n<li><div class=\"directive callout note\"><p class=\"directive-label\">Note</p>\n<p>Dans une liste.</p>\n</div>\n</li>\n</ul>\n",
    ] {
        assert!(base.contains(expected), "missing {expected:?} in\n{base}");
    }
    assert!(
        !base.contains("chocolatiers") && !base.contains("animateur"),
        "{base}"
    );
    let client = f.read("public/clients/lemoine/modules/a/index.html");
    assert!(
        client.contains("<p>Pour les chocolatiers.</p>\n<div class=\"directive exercise-embed\">")
            || client.contains("</div>\n<p>Pour les chocolatiers.</p>\n"),
        "{client}"
    );
    assert!(!client.contains("Pour les autres"), "{client}");
    let facilitator = f.read("public-facilitator/modules/a/index.html");
    assert!(
        facilitator.contains("<details class=\"directive solution\" open><summary>Solution</summary>\n<p>La réponse.</p>\n</details>\n<aside class=\"directive facilitator\"><p class=\"directive-label\">Note pour l’animateur</p>\n<p>Pour l’animateur.</p>\n</aside>\n"),
        "{facilitator}"
    );
}

#[test]
fn a_project_theme_adds_and_restyles_kinds_and_templates_win_over_it() {
    let f = Fixture::new(&[
        (
            "themes/atelier/templates/directives/story.html",
            "<div class=\"recit-maison\">{{ body }}</div>",
        ),
        (
            "themes/atelier/templates/directives/encart.html",
            "<aside class=\"encart-theme\">{{ body }}</aside>",
        ),
        (
            "themes/atelier/templates/directives/cadre.html",
            "<aside class=\"cadre-theme\">{{ body }}</aside>",
        ),
        (
            "templates/directives/cadre.html",
            "<aside class=\"cadre-projet\">{{ body }}</aside>",
        ),
        (
            "content/modules/01-a.md",
            &page(
                "title: A",
                "::: story\nR.\n:::\n\n::: encart\nE.\n:::\n\n::: cadre\nC.\n:::\n",
            ),
        ),
    ]);
    f.build();
    let html = f.read("public/modules/a/index.html");
    assert!(
        html.contains("<div class=\"recit-maison\">\n<p>R.</p>\n</div>"),
        "{html}"
    );
    assert!(
        html.contains("<aside class=\"encart-theme\">\n<p>E.</p>\n</aside>"),
        "{html}"
    );
    assert!(
        html.contains("<aside class=\"cadre-projet\">\n<p>C.</p>\n</aside>"),
        "{html}"
    );
    assert!(!html.contains("cadre-theme"), "{html}");
}
