//! `atelier build` on fixture projects: structure, ordering, slugs, links,
//! highlighting, themes, 404 and sitemap, and output safety.

mod common;

use common::{Fixture, broken_links, page};

#[test]
fn example_project_builds_with_every_link_resolving() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().expect("tmp");
    let site = out.path().join("site");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_atelier"))
        .args([
            "--root",
            root.to_str().expect("utf-8 path"),
            "build",
            "--out",
        ])
        .arg(&site)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        !stderr.contains("warning"),
        "the example must build without warnings:\n{stderr}"
    );
    for file in [
        "index.html",
        "404.html",
        "sitemap.xml",
        "print/index.html",
        "exercises/index.html",
    ] {
        assert!(site.join(file).is_file(), "{file} missing");
    }
    let index = std::fs::read_to_string(site.join("index.html")).expect("index.html");
    assert!(
        index.contains("<link rel=\"icon\" href=\"favicon.svg\""),
        "the example's static/favicon.svg is not linked"
    );
    let problems = broken_links(&site);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn modules_are_ordered_by_order_then_prefix_then_title() {
    let f = Fixture::new(&[
        (
            "content/modules/01-premier.md",
            &page("title: Premier", "Un."),
        ),
        (
            "content/modules/02-deuxieme.md",
            &page("title: Deuxième\norder: 9", "Deux."),
        ),
        (
            "content/modules/03-troisieme.md",
            &page("title: Troisième", "Trois."),
        ),
        ("content/modules/zebre.md", &page("title: Zèbre", "Z.")),
        ("content/modules/abeille.md", &page("title: Abeille", "A.")),
    ]);
    f.build();
    let index = f.read("public/index.html");
    let positions: Vec<usize> = ["Premier", "Troisième", "Deuxième", "Abeille", "Zèbre"]
        .iter()
        .map(|t| {
            index
                .find(&format!("{t}<"))
                .unwrap_or_else(|| panic!("{t} not on the landing page"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "order on landing: {positions:?}"
    );
    let troisieme = f.read("public/modules/troisieme/index.html");
    assert!(
        troisieme.contains("../../modules/premier/index.html"),
        "previous link"
    );
    assert!(
        troisieme.contains("../../modules/deuxieme/index.html"),
        "next link"
    );
}

#[test]
fn slugs_fold_accents_and_drop_prefixes() {
    let f = Fixture::new(&[
        (
            "content/modules/02-Émotion Forte.md",
            &page("title: Émotion", "x"),
        ),
        (
            "content/modules/03-Récit/_index.md",
            &page("title: Récit", "intro"),
        ),
        (
            "content/modules/03-Récit/02-Le déclic.md",
            &page("title: Le déclic\nduration: 20 min", "x"),
        ),
        (
            "content/modules/03-Récit/01-Avant.md",
            &page("title: Avant\nduration: 25", "x"),
        ),
        (
            "content/guides/Été 2026/Fiche.md",
            &page("title: Fiche", "x"),
        ),
    ]);
    f.build();
    for file in [
        "public/modules/emotion-forte/index.html",
        "public/modules/recit/index.html",
        "public/modules/recit/le-declic/index.html",
        "public/modules/recit/avant/index.html",
        "public/guides/ete-2026/fiche/index.html",
    ] {
        assert!(f.exists(file), "{file} missing");
    }
    // Steps in order, with the module's table of steps; duration is the sum.
    let module = f.read("public/modules/recit/index.html");
    let avant = module.find("Avant").expect("step Avant listed");
    let declic = module.find("Le déclic").expect("step Le déclic listed");
    assert!(avant < declic);
    assert!(
        module.contains("45 min"),
        "module duration is the sum of its steps"
    );
    let step = f.read("public/modules/recit/avant/index.html");
    assert!(step.contains("le-declic/index.html"), "next step link");
}

#[test]
fn two_files_with_one_url_is_an_error_naming_both() {
    let f = Fixture::new(&[
        ("content/modules/01-Émotion.md", &page("title: A", "x")),
        ("content/modules/01-emotion.md", &page("title: B", "x")),
        ("content/ressources.md", &page("title: C", "x")),
        ("content/ressources/_index.md", &page("title: D", "x")),
    ]);
    f.run(&["build"])
        .expect(1)
        .says("content/modules/01-Émotion.md")
        .says("content/modules/01-emotion.md")
        .says("modules/emotion/")
        .says("content/ressources.md")
        .says("content/ressources/_index.md");
}

#[test]
fn siblings_that_differ_only_by_their_number_keep_it_in_their_urls() {
    let f = Fixture::new(&[
        ("content/modules/01-confiance.md", &page("title: A", "x")),
        ("content/modules/05-confiance.md", &page("title: B", "x")),
        ("content/modules/02-recit/_index.md", &page("title: R", "x")),
        (
            "content/modules/02-recit/01-avant.md",
            &page("title: Avant", "x"),
        ),
        (
            "content/modules/07-recit/_index.md",
            &page("title: R2", "x"),
        ),
    ]);
    let run = f.build();
    run.says("warning").says("keep the prefix");
    for file in [
        "public/modules/01-confiance/index.html",
        "public/modules/05-confiance/index.html",
        "public/modules/02-recit/avant/index.html",
        "public/modules/07-recit/index.html",
    ] {
        assert!(f.exists(file), "{file}");
    }
}

#[test]
fn markdown_links_become_relative_page_links() {
    let f = Fixture::new(&[
        (
            "content/modules/01-a.md",
            &page(
                "title: A",
                "## Le coût du générique\n\nVoir [B](02-b.md#suite), [l'exercice](../exercises/lettre.md), ![photo](img/p.png) et [ici](#le-cout-du-generique).\n",
            ),
        ),
        (
            "content/modules/02-b.md",
            &page("title: B", "## Suite\n\nFin.\n"),
        ),
        ("content/modules/img/p.png", "not really a png"),
        (
            "content/exercises/lettre.md",
            &page("title: Lettre\nkind: worksheet", "Écrivez."),
        ),
    ]);
    let run = f.build();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let a = f.read("public/modules/a/index.html");
    assert!(
        a.contains("href=\"../../modules/b/index.html#suite\""),
        "{a}"
    );
    assert!(a.contains("href=\"../../exercises/lettre/index.html\""));
    assert!(a.contains("src=\"../../modules/img/p.png\""));
    assert!(a.contains("href=\"#le-cout-du-generique\""));
    assert!(
        f.exists("public/modules/img/p.png"),
        "assets are copied beside their pages"
    );
    let problems = broken_links(&f.path("public"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn missing_link_targets_are_warnings_in_build_errors_in_check() {
    let f = Fixture::new(&[(
        "content/modules/01-a.md",
        &page(
            "title: A",
            "Intro\n\nVoir [rien](02-absent.md) et [ancre](#nulle-part).\n",
        ),
    )]);
    let run = f.build();
    run.says("warning")
        .says("content/modules/01-a.md:6:6")
        .says("02-absent.md");
    run.says("#nulle-part");
    f.run(&["check"])
        .expect(1)
        .says("content/modules/01-a.md:6");
}

#[test]
fn code_blocks_are_highlighted_with_classes_and_untouched_by_typography() {
    let f = Fixture::new(&[(
        "content/ressources.md",
        &page(
            "title: Code",
            "Attention !\n\n```rust\nfn main() { println!(\"a : b\"); }\n```\n",
        ),
    )]);
    f.build();
    let html = f.read("public/ressources/index.html");
    assert!(
        html.contains("<pre class=\"code\" data-lang=\"rust\">"),
        "{html}"
    );
    assert!(html.contains("class=\"hl-"), "syntect classes");
    assert!(
        html.contains("Attention\u{202F}!"),
        "French typography on text"
    );
    assert!(!html.contains("a\u{202F}: b"), "no typography inside code");
}

#[test]
fn project_templates_and_theme_files_override_the_builtin_theme() {
    let f = Fixture::new(&[
        ("content/apropos.md", &page("title: À propos", "Bonjour")),
        (
            "templates/page.html",
            "{% extends \"base.html\" %}{% block content %}<main id=\"custom-page\">{{ page.title }}</main>{% endblock content %}",
        ),
        (
            "themes/atelier/static/atelier.css",
            "body { color: rebeccapurple; }",
        ),
    ]);
    f.build();
    assert!(
        f.read("public/apropos/index.html")
            .contains("<main id=\"custom-page\">À propos</main>")
    );
    assert_eq!(
        f.read("public/static/atelier.css"),
        "body { color: rebeccapurple; }"
    );
}

#[test]
fn template_errors_name_the_template_file_and_line() {
    let f = Fixture::new(&[
        ("content/apropos.md", &page("title: À propos", "Bonjour")),
        (
            "templates/page.html",
            "{% extends \"base.html\" %}\n{% block content %}\n{{ page.title | nosuchfilter }}\n{% endblock content %}",
        ),
    ]);
    f.run(&["build"]).expect(1).says("templates/page.html:3");
}

/// An article template is overridden like any other; it sees the page but
/// not `site` (what names a version belongs in the frame), and using `site`
/// there is an error that says so, with the file and line.
#[test]
fn article_templates_are_overridable_and_see_no_site() {
    let f = Fixture::new(&[
        ("content/apropos.md", &page("title: À propos", "Bonjour")),
        (
            "templates/articles/page.html",
            "<section id=\"mon-article\">{{ page.title }}{% if page.permalink %}LIEN{% endif %}</section>",
        ),
    ]);
    f.write(
        "atelier.yaml",
        "title: Atelier\nbase_url: https://example.org/a/\n",
    );
    f.build();
    let html = f.read("public/apropos/index.html");
    assert!(
        html.contains("<section id=\"mon-article\">À propos</section>"),
        "{html}"
    );
    assert!(
        html.contains("<link rel=\"canonical\" href=\"https://example.org/a/apropos/\">"),
        "the frame still has the permalink: {html}"
    );
    f.write(
        "templates/articles/page.html",
        "<section>\n{{ site.title }}\n</section>",
    );
    f.run(&["build"])
        .expect(1)
        .says("templates/articles/page.html:2")
        .says("`site` is not defined");
}

#[test]
fn not_found_page_and_sitemap_use_base_url() {
    let f = Fixture::new(&[("content/modules/01-a.md", &page("title: A", "x"))]);
    f.build();
    let sitemap = f.read("public/sitemap.xml");
    assert!(sitemap.contains("<loc>https://example.org/atelier/</loc>"));
    assert!(sitemap.contains("<loc>https://example.org/atelier/modules/a/</loc>"));
    let not_found = f.read("public/404.html");
    assert!(
        not_found.contains("https://example.org/atelier/index.html"),
        "404 links work at any depth"
    );
    let run = f.run(&["build", "--base-url", "https://autre.example/x"]);
    run.expect(0);
    assert!(
        f.read("public/sitemap.xml")
            .contains("<loc>https://autre.example/x/modules/a/</loc>")
    );
}

#[test]
fn drafts_are_skipped_unless_asked() {
    let f = Fixture::new(&[(
        "content/modules/01-a.md",
        &page("title: A\ndraft: true", "x"),
    )]);
    f.build();
    assert!(!f.exists("public/modules/a/index.html"));
    f.run(&["build", "--drafts"]).expect(0);
    assert!(f.exists("public/modules/a/index.html"));
}

#[test]
fn a_project_without_content_or_theme_folder_builds() {
    let f = Fixture::new(&[]);
    f.build();
    assert!(f.read("public/index.html").contains("Atelier test"));
    assert!(
        f.exists("public/static/atelier.css"),
        "embedded theme files are written"
    );
}

#[test]
fn output_folder_safety() {
    let f = Fixture::new(&[("content/modules/01-a.md", &page("title: A", "x"))]);
    f.run(&["build", "--out", "."]).expect(2).says("refusing");
    f.run(&["build", "--out", "content"])
        .expect(2)
        .says("refusing");
    f.run(&["build", "--out", "content/sub"])
        .expect(2)
        .says("refusing");
    assert!(f.exists("content/modules/01-a.md"));

    f.write("mine/notes.txt", "précieux");
    f.run(&["build", "--out", "mine"])
        .expect(2)
        .says("was not created by atelier");
    assert_eq!(f.read("mine/notes.txt"), "précieux");

    f.run(&["build", "--out", "site"]).expect(0);
    assert!(f.exists("site/.atelier-output"));
    f.run(&["build", "--out", "site"]).expect(0);
    assert!(
        f.exists("site/modules/a/index.html"),
        "an atelier folder is replaced"
    );
}

#[test]
fn nothing_is_written_from_a_project_subfolder_lookup_failure() {
    let f = Fixture::empty();
    f.run(&["build"]).expect(2).says("atelier init");
}

#[test]
fn build_can_run_from_a_subfolder() {
    let f = Fixture::new(&[("content/modules/01-a.md", &page("title: A", "x"))]);
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_atelier"))
        .arg("build")
        .current_dir(f.path("content/modules"))
        .output()
        .expect("run");
    assert!(run.status.success());
    assert!(f.exists("public/modules/a/index.html"));
}
