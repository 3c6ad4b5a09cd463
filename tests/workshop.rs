//! Workshop features: directives, variables, exercises, agenda and arc,
//! facilitator and print views.

mod common;

use common::{Fixture, page};

const ALL_DIRECTIVES: &str = "Intro.

::: story
Il était une fois une chocolatière.
:::

::: facilitator
SECRET-ANIMATEUR : laisser durer le silence.
:::

::: tip
Une astuce.
:::

::: note
Une note.
:::

::: warning
Attention.
:::

::: quote author=\"Camille\" source=\"Atelier de Lille\"
Ce qui compte, c'est l'après.
:::

::: solution
SOLUTION-TEXTE
:::

::: only sector=\"chocolaterie\"
TEXTE-CHOCOLAT
:::

::: except client=\"belcourt\"
TEXTE-SAUF-BELCOURT
:::

:::: story
Dehors.

::: tip
Dedans.
:::
::::

```markdown
::: pas-une-directive
:::
```

::: exercise lettre
Consigne supplémentaire.
:::
";

fn workshop() -> Fixture {
    Fixture::new(&[
        (
            "content/modules/01-confiance.md",
            &page(
                "title: La confiance\nduration: 45 min\nemotion: confiance\nintensity: 4\nexercises: [parcours]",
                ALL_DIRECTIVES,
            ),
        ),
        (
            "content/exercises/lettre.md",
            &page(
                "title: Lettre\nkind: worksheet\nduration: 20 min\nfields:\n  - { id: a, label: Destinataire, type: text }\n  - { id: b, label: Message, type: textarea }\n  - { id: c, label: Budget, type: number }\n  - { id: d, label: Confiance, type: scale }\n  - { id: e, label: Canal, type: choice, options: [Mail, Lettre] }",
                "Écrivez à une vraie personne.",
            ),
        ),
        (
            "content/exercises/parcours.md",
            &page(
                "title: Parcours\nkind: journey-map\nstages: [Découverte, Achat, Après]",
                "Tracez.",
            ),
        ),
        (
            "content/exercises/empathie.md",
            &page("title: Empathie\nkind: empathy-map", "Observez."),
        ),
        (
            "content/exercises/retour.md",
            &page("title: Retour\nkind: roi", "Mesurez."),
        ),
        (
            "content/exercises/merci.md",
            &page(
                "title: Merci\nkind: reflection\nfields:\n  - { id: un, label: Première gratitude, type: textarea }",
                "Remerciez.",
            ),
        ),
    ])
}

#[test]
fn every_directive_renders_with_its_classes() {
    let f = workshop();
    f.build();
    let html = f.read("public/modules/confiance/index.html");
    for expected in [
        "<div class=\"directive story\">",
        "<div class=\"directive callout tip\">",
        "<div class=\"directive callout note\">",
        "<div class=\"directive callout warning\">",
        "<figure class=\"directive quote\">",
        "Camille",
        "<cite>Atelier de Lille</cite>",
        "<details class=\"directive solution\">",
        "SOLUTION-TEXTE",
        "TEXTE-SAUF-BELCOURT",
        "Dedans.",
        "::: pas-une-directive",
        "<div class=\"directive exercise-embed\">",
        "Consigne supplémentaire.",
        "data-exercise=\"lettre\"",
        "data-exercise=\"parcours\"",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    assert!(
        !html.contains("TEXTE-CHOCOLAT"),
        "`only` blocks are dropped in the base version"
    );
    assert!(!html.contains("<details class=\"directive solution\" open>"));
}

#[test]
fn participant_output_never_contains_facilitator_text() {
    let f = workshop();
    f.build();
    for entry in walkdir::WalkDir::new(f.path("public"))
        .into_iter()
        .filter_map(Result::ok)
    {
        if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).expect("read");
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("SECRET-ANIMATEUR"),
                "{} leaks facilitator notes",
                entry.path().display()
            );
        }
    }
    f.run(&["build", "--facilitator"]).expect(0);
    let html = f.read("public-facilitator/modules/confiance/index.html");
    assert!(html.contains("<aside class=\"directive facilitator\">"));
    assert!(html.contains("SECRET-ANIMATEUR"));
    assert!(html.contains("<details class=\"directive solution\" open>"));
    assert!(
        f.exists("public/index.html"),
        "the participant build is left in place"
    );
}

#[test]
fn directive_errors_have_file_and_line() {
    let f = Fixture::new(&[
        (
            "content/modules/01-a.md",
            &page("title: A", "Intro\n\n::: surprise\nx\n:::\n"),
        ),
        (
            "content/modules/02-b.md",
            &page("title: B", "Intro\n\n::: story\njamais fermé\n"),
        ),
        (
            "content/modules/03-c.md",
            &page("title: C", "::: exercise inexistant\n:::\n"),
        ),
    ]);
    f.run(&["build"])
        .expect(1)
        .says("content/modules/01-a.md:6")
        .says("surprise")
        .says("content/modules/02-b.md:6")
        .says("content/modules/03-c.md:4")
        .says("unknown exercise `inexistant`");
}

#[test]
fn variables_resolve_from_client_defaults_and_never_touch_code() {
    let f = Fixture::new(&[(
        "content/modules/01-a.md",
        &page(
            "title: Pour {{ client.name }}",
            "Bonjour {{ client.name }}, secteur {{ client.sector }} ; {{ site.title }} / {{ page.title }}.\n\n`{{ client.name }}` et \\{{ littéral }}\n\n```\n{{ client.sector }}\n```\n",
        ),
    )]);
    f.build();
    let html = f.read("public/modules/a/index.html");
    assert!(
        html.contains("Bonjour votre entreprise, secteur votre secteur"),
        "{html}"
    );
    assert!(html.contains("Atelier test / Pour votre entreprise."));
    assert!(html.contains("<code>{{ client.name }}</code>"));
    assert!(html.contains("{{ littéral }}"));
    assert!(html.contains("{{ client.sector }}\n</code>"));
    assert!(
        html.contains("<title>Pour votre entreprise"),
        "front matter strings too"
    );
}

#[test]
fn a_variable_without_value_is_an_error_with_line_and_column() {
    let f = Fixture::new(&[(
        "content/modules/01-a.md",
        &page(
            "title: A",
            "Ligne un.\n\nPour {{ client.vars.persona }} et {{ client.inconnu }}.\n",
        ),
    )]);
    f.run(&["build"])
        .expect(1)
        .says("content/modules/01-a.md:6:6")
        .says("client.vars.persona")
        .says("content/modules/01-a.md:6:35")
        .says("unknown variable `client.inconnu`");
}

#[test]
fn each_exercise_kind_renders_its_widget() {
    let f = workshop();
    f.build();
    for (slug, kind) in [
        ("lettre", "worksheet"),
        ("parcours", "journey-map"),
        ("empathie", "empathy-map"),
        ("retour", "roi"),
        ("merci", "reflection"),
    ] {
        let html = f.read(&format!("public/exercises/{slug}/index.html"));
        assert!(
            html.contains(&format!("data-kind=\"{kind}\"")),
            "{slug}: kind"
        );
        assert!(
            html.contains(&format!("data-storage-key=\"atelier:base:{slug}\"")),
            "{slug}: storage key"
        );
        assert!(html.contains("static/atelier.js"), "{slug}: script");
    }
    let lettre = f.read("public/exercises/lettre/index.html");
    for label in [
        "Destinataire",
        "Message",
        "Budget",
        "Confiance",
        "Canal",
        "Mail",
        "textarea",
        "type=\"number\"",
    ] {
        assert!(lettre.contains(label), "worksheet field {label}");
    }
    let parcours = f.read("public/exercises/parcours/index.html");
    for stage in ["Découverte", "Achat", "Après", "journey-curve"] {
        assert!(parcours.contains(stage), "journey map {stage}");
    }
}

#[test]
fn agenda_clock_times_include_breaks() {
    let f = Fixture::new(&[
        (
            "content/modules/01-a.md",
            &page("title: Module A\nduration: 45 min", "x"),
        ),
        (
            "content/modules/02-b.md",
            &page("title: Module B\nduration: 1h30", "x"),
        ),
        (
            "content/modules/03-c.md",
            &page("title: Module C\nduration: 30", "x"),
        ),
    ]);
    f.write(
        "atelier.yaml",
        "title: T\nschedule:\n  start: \"09:30\"\n  breaks:\n    - { after: a, duration: 15 min, label: Pause café }\n",
    );
    f.build();
    let index = f.read("public/index.html");
    let a = index.find("Module A").expect("A");
    let pause = index.find("Pause café").expect("break");
    let b = index.find("Module B").expect("B");
    assert!(a < pause && pause < b);
    for time in ["09:30", "10:15", "10:30", "12:00", "12:30"] {
        assert!(index.contains(time), "agenda time {time}");
    }
    assert!(
        index.contains("3 h"),
        "total duration 45 + 15 + 90 + 30 = 3 h"
    );
    let b_page = f.read("public/modules/b/index.html");
    assert!(b_page.contains("10:30"), "module page shows its start time");
}

#[test]
fn landing_page_has_the_emotional_arc() {
    let f = Fixture::new(&[
        (
            "content/modules/01-a.md",
            &page("title: A\nemotion: curiosité\nintensity: 2", "x"),
        ),
        (
            "content/modules/02-b.md",
            &page("title: B\nemotion: espoir\nintensity: 5", "x"),
        ),
    ]);
    f.build();
    let index = f.read("public/index.html");
    assert!(index.contains("<svg class=\"arc\""));
    assert_eq!(index.matches("class=\"arc-point\"").count(), 2);
    assert!(index.contains("curiosité") && index.contains("espoir"));
}

#[test]
fn print_page_has_every_module_and_blank_worksheets() {
    let f = workshop();
    f.build();
    let print = f.read("public/print/index.html");
    assert!(print.contains("La confiance"));
    for slug in ["lettre", "parcours", "empathie", "retour", "merci"] {
        assert!(
            print.contains(&format!("data-exercise=\"{slug}\"")),
            "{slug} in print"
        );
    }
    assert!(!print.contains("SECRET-ANIMATEUR"));
    let problems = common::broken_links(&f.path("public"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn english_projects_get_english_strings_and_no_french_spacing() {
    let f = Fixture::new(&[(
        "content/modules/01-a.md",
        &page("title: A", "Hello! Really?"),
    )]);
    f.write("atelier.yaml", "title: T\nlanguage: en\n");
    f.build();
    let html = f.read("public/modules/a/index.html");
    assert!(html.contains("<html lang=\"en\""));
    assert!(html.contains("Hello! Really?"));
}

/// A masterclass whose exercises are printed in every way: listed by a
/// module (`liste`), embedded in a step (`embarque`, and `double`, which its
/// module also lists), and used by no module (`seul`, printed in the
/// appendix).
fn print_fixture() -> Fixture {
    let exercise = |title: &str, id: &str| {
        page(
            &format!(
                "title: {title}\nkind: worksheet\nfields:\n  - {{ id: {id}, label: Question {id}, type: scale }}"
            ),
            "Consigne.",
        )
    };
    Fixture::new(&[
        (
            "atelier.yaml",
            "title: Masterclass Titre-Unique\nlanguage: fr\n",
        ),
        ("content/_index.md", &page("title: Accueil", "Bienvenue.")),
        (
            "content/modules/01-a/_index.md",
            &page(
                "title: Module A\nduration: 30 min\nexercises: [liste, double]",
                "Intro A.",
            ),
        ),
        (
            "content/modules/01-a/01-etape.md",
            &page(
                "title: Étape Une\nduration: 10 min",
                "Texte.\n\n::: exercise embarque\nFaites-le.\n:::\n\n::: exercise double\n:::",
            ),
        ),
        (
            "content/exercises/liste.md",
            &exercise("Fiche Listée", "l1"),
        ),
        (
            "content/exercises/embarque.md",
            &exercise("Fiche Embarquée", "e1"),
        ),
        ("content/exercises/seul.md", &exercise("Fiche Seule", "s1")),
        (
            "content/exercises/double.md",
            &exercise("Fiche Double", "d1"),
        ),
    ])
}

#[test]
fn print_page_prints_each_worksheet_once_with_its_title_once() {
    let f = print_fixture();
    f.build();
    let print = f.read("public/print/index.html");
    assert_eq!(
        print.matches("<form class=\"exercise").count(),
        4,
        "four worksheets in all"
    );
    for (slug, title) in [
        ("liste", "Fiche Listée"),
        ("embarque", "Fiche Embarquée"),
        ("seul", "Fiche Seule"),
        ("double", "Fiche Double"),
    ] {
        assert_eq!(
            print.matches(&format!("id=\"exercise-{slug}\"")).count(),
            1,
            "the worksheet of {slug} once"
        );
        assert_eq!(
            print
                .matches(&format!("<h3 class=\"exercise-title\">{title}</h3>"))
                .count(),
            1,
            "the title of {slug} once as a worksheet title"
        );
        assert_eq!(
            print
                .matches(&format!("<h2 class=\"print-section-title\">{title}"))
                .count(),
            0,
            "no section repeating the title of {slug}"
        );
    }
    // The appendix lists every exercise: where it is printed, or below.
    let appendix = &print[print.find("id=\"print-exercises\"").expect("an appendix")..];
    assert!(appendix.contains("Fiche Listée</a> <span class=\"print-exercise-where\">— imprimé dans <cite>Module A</cite>"), "{appendix}");
    assert!(appendix.contains("Fiche Embarquée</a> <span class=\"print-exercise-where\">— imprimé dans <cite>Étape Une</cite>"), "{appendix}");
    assert!(appendix.contains("<a href=\"#exercise-seul\">Fiche Seule</a> <span class=\"print-exercise-where\">— fiche ci-dessous"), "{appendix}");
    assert!(
        appendix.contains("id=\"exercise-seul\""),
        "the unused one's worksheet is in the appendix"
    );
    assert!(!appendix.contains("id=\"exercise-liste\""));
    // The worksheet the module lists and its step embeds: where it is embedded.
    assert!(
        appendix.contains("Fiche Double</a> <span class=\"print-exercise-where\">— imprimé dans <cite>Étape Une</cite>"),
        "{appendix}"
    );
    assert!(
        print.contains("<div class=\"print-exercise-embed\"></div>"),
        "the module's listing of it is left empty"
    );
    // The title names the page, then the masterclass, once.
    let title =
        &print[print.find("<title>").expect("title")..print.find("</title>").expect("title")];
    assert_eq!(
        title,
        "<title>Version imprimable · Masterclass Titre-Unique"
    );
    let problems = common::broken_links(&f.path("public"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn print_stylesheet_keeps_headings_questions_and_small_groups_together() {
    let f = print_fixture();
    f.build();
    let css = f.read("public/static/atelier.css");
    let print = &css[css.find("@media print").expect("print rules")..];
    let print: String = print
        .split("/*")
        .map(|part| part.split_once("*/").map_or(part, |(_, after)| after))
        .collect();
    let rule = |selector: &str, declaration: &str| {
        print.split('}').any(|block| {
            let (selectors, body) = block.split_once('{').unwrap_or_default();
            selectors.split(',').any(|s| s.trim() == selector) && body.contains(declaration)
        })
    };
    for selector in [
        ".print-step-title",
        ".print-section-head",
        ".exercise-head",
        "legend",
    ] {
        assert!(
            rule(selector, "break-after: avoid"),
            "{selector} stays with what follows"
        );
    }
    for selector in [".field", ".field-scale", ".journey-scroll", ".roi-grid"] {
        assert!(
            rule(selector, "break-inside: avoid"),
            "{selector} is not split"
        );
    }
    for selector in [
        ".exercise-body > .field:last-child",
        ".prompts > li:last-child",
    ] {
        assert!(
            rule(selector, "break-before: avoid"),
            "{selector} never alone on a page"
        );
    }
    assert!(
        rule(".print-step", "display: block"),
        "steps are block flow in print"
    );
}
