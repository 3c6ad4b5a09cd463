//! Values from client.yaml and atelier.yaml are text wherever they land:
//! page bodies (every Markdown context), front-matter strings, attributes,
//! the agenda, the emotional arc, exercises and the print page, in every
//! version (base, client, facilitator).

mod common;

use common::{Fixture, page};

/// Markup of every kind a hostile or careless value could hold: HTML that
/// runs script, a quote that closes an attribute, Markdown emphasis and a
/// `javascript:` link.
const HOSTILE: &str = "<img src=x onerror=alert(1)></script><script>alert(2)</script>\" onmouseover=\"alert(3) **hostile-bold** [hostile-link](javascript:alert(4)) `hostile-code` <!-- ";

/// What must appear in no output file if every value stayed text.
const FORBIDDEN: [&str; 9] = [
    "<img src=x",
    "<script>alert",
    "</script><script>",
    "onmouseover=\"",
    "<strong>hostile-bold",
    "href=\"javascript:",
    "<code>hostile-code",
    "id=\"hostile-heading",
    "<li>hostile-item",
];

/// A value that would start a block if it were Markdown.
const BLOCKY: &str = "# hostile-heading";
const LISTY: &str = "- hostile-item";

fn yaml(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn hostile_project() -> Fixture {
    let h = yaml(HOSTILE);
    let config = format!(
        "title: {t}\nsubtitle: {t}\nauthor: {t}\nlanguage: fr\nschedule:\n  start: \"09:00\"\n  breaks:\n    - {{ after: ouverture, duration: 10 min, label: {t} }}\nclient_defaults:\n  name: {t}\n  sector: {t}\n  city: {t}\n  audience: {t}\n  vars: {{ persona: {t}, titre: {b}, liste: {l} }}\n",
        t = yaml(&format!("Site {HOSTILE}")),
        b = yaml(BLOCKY),
        l = yaml(LISTY),
    );
    let client = format!(
        "name: {n}\nsector: {h}\ncity: {h}\naudience: {h}\nvars: {{ persona: {h}, titre: {b}, liste: {l} }}\n",
        n = yaml(&format!("Maison {HOSTILE}")),
        b = yaml(BLOCKY),
        l = yaml(LISTY),
    );
    let body = "\
Bonjour {{ client.name }}, {{ client.sector }} à {{ client.city }} : {{ client.audience }} !

{{ client.vars.titre }}

{{ client.vars.liste }}

Intro
{{ client.vars.titre }}

*{{ client.vars.persona }}* et **{{ site.title }}** ({{ site.subtitle }}, {{ site.author }}).

## Pour {{ client.name }}

> {{ client.vars.persona }}

- {{ client.vars.persona }}
- {{ client.vars.titre }}

| qui | quoi |
|-----|------|
| {{ client.name }} | {{ client.vars.persona }} |

[Lien {{ client.name }}](https://example.org \"Titre {{ client.vars.persona }}\") et ![Image {{ client.name }}](photo.png)

<span class=\"a\" title=\"{{ client.name }}\">html</span> <span title='{{ client.vars.persona }}'>x</span>

<div class=\"bloc\">
{{ client.vars.persona }}
</div>

::: quote author=\"{{ client.name }}\" source=\"{{ client.vars.persona }}\"
Citation de {{ page.title }}.
:::

::: tip
Astuce pour {{ client.name }}.
:::

::: solution
Solution pour {{ client.vars.persona }}.
:::

::: facilitator
Note pour {{ client.name }}.
:::

::: exercise lettre
Consigne pour {{ client.vars.persona }}.
:::
";
    let f = Fixture::new(&[
        (
            "content/_index.md",
            &page(
                "title: 'Accueil {{ client.name }}'\ndescription: 'Pour {{ client.sector }}'",
                body,
            ),
        ),
        (
            "content/modules/01-ouverture.md",
            &page(
                &format!(
                    "title: 'Ouverture {{{{ client.name }}}}'\nsummary: 'Résumé {{{{ client.vars.persona }}}}'\ndescription: 'Description {{{{ site.title }}}}'\nobjectives: ['Objectif {{{{ client.sector }}}}']\nemotion: {h}\nintensity: 3\nduration: 30 min\nexercises: [lettre, parcours]"
                ),
                body,
            ),
        ),
        (
            "content/modules/02-recit/_index.md",
            &page(
                "title: 'Récit {{ client.name }}'\nintensity: 4\nemotion: 'espoir'",
                body,
            ),
        ),
        (
            "content/modules/02-recit/01-etape.md",
            &page(
                "title: 'Étape {{ client.vars.persona }}'\nduration: 10 min",
                body,
            ),
        ),
        (
            "content/exercises/lettre.md",
            &page(
                "title: 'Lettre {{ client.name }}'\nobjective: 'Objectif {{ client.vars.persona }}'\nfields:\n  - { id: a, label: 'Question {{ client.name }}', placeholder: 'Exemple {{ client.vars.persona }}' }\n  - { id: b, label: 'Choix {{ client.sector }}', type: choice, options: ['{{ client.name }}', 'autre'] }\n  - { id: c, label: 'Note {{ client.city }}', type: scale }",
                body,
            ),
        ),
        (
            "content/exercises/parcours.md",
            &page(
                "title: 'Parcours {{ client.name }}'\nkind: journey-map\nstages: ['Découverte {{ client.name }}', 'Achat {{ client.vars.persona }}']",
                "Le parcours de {{ client.vars.persona }}.",
            ),
        ),
        ("content/photo.png", ""),
        ("content/modules/photo.png", ""),
        ("content/modules/02-recit/photo.png", ""),
        ("content/exercises/photo.png", ""),
    ]);
    f.write("atelier.yaml", &config);
    f.write("clients/hostile/client.yaml", &client);
    f
}

/// Every file under `dir` with its text.
fn files(f: &Fixture, dir: &str) -> Vec<(String, String)> {
    f.snapshot(dir)
        .into_iter()
        .filter(|(path, _)| {
            path.extension()
                .is_some_and(|x| x == "html" || x == "xml" || x == "js" || x == "json")
        })
        .map(|(path, bytes)| {
            (
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect()
}

#[test]
fn client_and_config_values_never_become_markup() {
    let f = hostile_project();
    f.build();
    f.run(&["build", "--facilitator"]).expect(0);
    let mut outputs = files(&f, "public");
    outputs.extend(files(&f, "public-facilitator"));
    for expected in [
        "public/index.html",
        "public/clients/hostile/index.html",
        "public/clients/hostile/print/index.html",
        "public/print/index.html",
        "public/clients/hostile/modules/ouverture/index.html",
        "public/clients/hostile/modules/recit/etape/index.html",
        "public/clients/hostile/exercises/lettre/index.html",
        "public-facilitator/clients/hostile/index.html",
        "public-facilitator/clients/hostile/print/index.html",
    ] {
        assert!(
            outputs.iter().any(|(path, _)| path.ends_with(expected)),
            "{expected} was not written"
        );
    }
    let mut found = Vec::new();
    for (path, html) in &outputs {
        for forbidden in FORBIDDEN {
            if let Some(at) = html.find(forbidden) {
                let from = html.floor_char_boundary(at.saturating_sub(80));
                let to = html.ceil_char_boundary((at + 80).min(html.len()));
                found.push(format!("{path}: {forbidden:?} in …{}…", &html[from..to]));
            }
        }
    }
    assert!(
        found.is_empty(),
        "values became markup:\n{}",
        found.join("\n")
    );
    // The values are there, as text (not dropped to pass the test).
    let home = f.read("public/clients/hostile/index.html");
    assert!(
        home.contains("Bonjour Maison &lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;"),
        "{home}"
    );
    assert!(home.contains("**hostile-bold**"), "{home}");
    assert!(home.contains("# hostile-heading"), "{home}");
    let facilitator = f.read("public-facilitator/clients/hostile/index.html");
    assert!(
        facilitator.contains("Note pour Maison &lt;img src=x"),
        "{facilitator}"
    );
}

#[test]
fn ordinary_names_read_as_written() {
    let f = Fixture::new(&[
        (
            "content/_index.md",
            &page(
                "title: 'Accueil {{ client.name }}'",
                "Bienvenue chez {{ client.name }} !\n\n## Pour {{ client.vars.maison }}\n\n::: quote author=\"{{ client.vars.maison }}\"\nMerci.\n:::\n",
            ),
        ),
        (
            "content/modules/01-ouverture.md",
            &page(
                "title: 'Ouverture {{ client.name }}'",
                "Pour {{ client.name }}.",
            ),
        ),
    ]);
    f.write(
        "atelier.yaml",
        &format!(
            "{}  vars: {{ maison: \"l'atelier\" }}\n",
            common::MINIMAL_CONFIG
        ),
    );
    f.write(
        "clients/zephyr/client.yaml",
        "name: Café Zéphyr & Fils\nvars: { maison: \"L'Atelier d'Anne\" }\n",
    );
    f.build();
    let home = f.read("public/clients/zephyr/index.html");
    assert!(
        home.contains("Bienvenue chez Café Zéphyr &amp; Fils\u{202F}!"),
        "{home}"
    );
    assert!(home.contains("Pour L’Atelier d’Anne"), "{home}");
    assert!(home.contains("— L’Atelier d’Anne</figcaption>"), "{home}");
    assert!(!home.contains("&amp;amp;"), "{home}");
    assert!(!home.contains("&#38;"), "{home}");
    let module = f.read("public/clients/zephyr/modules/ouverture/index.html");
    assert!(module.contains("Pour Café Zéphyr &amp; Fils."), "{module}");
    assert!(
        module.contains("<title>Ouverture Café Zéphyr &amp; Fils · Atelier test</title>"),
        "{module}"
    );
    assert!(!module.contains("&amp;amp;"), "{module}");
}
