//! Links between pages and to files, through the real binary: pages a
//! version leaves out, files of `static/`, and links written the mdBook way.

mod common;

use common::{Fixture, broken_links, page};

/// A masterclass whose first module links to three pages, each left out of
/// one client's version in its own way: `selection`'s `modules:` omits
/// `confiance`, `retrait`'s overlay removes `recit`, and `reserve` is only
/// for `autre` (so the base version lacks it too).
fn left_out_pages() -> Fixture {
    let f = Fixture::new(&[
        (
            "content/modules/01-ouverture.md",
            &page(
                "title: Ouverture\nduration: 30 min",
                "Voir [la confiance](02-confiance.md#ancre) ici.\n\n\
                 Puis [le récit](03-recit.md) ensuite.\n\n\
                 Enfin [la réserve](../reserve.md) aussi.\n",
            ),
        ),
        (
            "content/modules/02-confiance.md",
            &page("title: Confiance\nduration: 30 min", "## Ancre\n\nTexte.\n"),
        ),
        (
            "content/modules/03-recit.md",
            &page("title: Récit\nduration: 30 min", "Le récit.\n"),
        ),
        (
            "content/reserve.md",
            &page("title: Réserve\nclients: { only: [autre] }", "Réservé.\n"),
        ),
    ]);
    f.write(
        "clients/selection/client.yaml",
        "name: Selection\nmodules: [ouverture, recit]\n",
    );
    f.write("clients/retrait/client.yaml", "name: Retrait\n");
    f.write(
        "clients/retrait/content/modules/03-recit.md",
        &page("title: Récit\nremove: true", ""),
    );
    f.write("clients/autre/client.yaml", "name: Autre\n");
    f
}

const CONFIANCE_LINKED: &str = ">la confiance</a> ici.";
const CONFIANCE_TEXT: &str = "Voir la confiance ici.";
const RECIT_LINKED: &str = ">le récit</a> ensuite.";
const RECIT_TEXT: &str = "Puis le récit ensuite.";
const RESERVE_LINKED: &str = ">la réserve</a> aussi.";
const RESERVE_TEXT: &str = "Enfin la réserve aussi.";

/// The module page and the print page of the version at `prefix`.
fn module_and_print(f: &Fixture, prefix: &str) -> [String; 2] {
    [
        f.read(&format!("public/{prefix}modules/ouverture/index.html")),
        f.read(&format!("public/{prefix}print/index.html")),
    ]
}

#[test]
fn a_link_to_a_page_a_version_leaves_out_keeps_its_text_and_loses_its_link() {
    let f = left_out_pages();
    let run = f.build();
    let warnings = &run.stderr;

    for html in module_and_print(&f, "") {
        assert!(html.contains(CONFIANCE_LINKED), "{html}");
        assert!(html.contains(RECIT_LINKED), "{html}");
        assert!(html.contains(RESERVE_TEXT), "{html}");
    }
    for html in module_and_print(&f, "clients/selection/") {
        assert!(html.contains(CONFIANCE_TEXT), "{html}");
        assert!(html.contains(RECIT_LINKED), "{html}");
    }
    for html in module_and_print(&f, "clients/retrait/") {
        assert!(html.contains(CONFIANCE_LINKED), "{html}");
        assert!(html.contains(RECIT_TEXT), "{html}");
    }
    for html in module_and_print(&f, "clients/autre/") {
        assert!(html.contains(CONFIANCE_LINKED), "{html}");
        assert!(html.contains(RECIT_LINKED), "{html}");
        assert!(html.contains(RESERVE_LINKED), "{html}");
    }
    let public = f.path("public");
    assert_eq!(broken_links(&public), Vec::<String>::new());
    for (path, bytes) in f.snapshot("public") {
        if path.extension().is_some_and(|x| x == "html") {
            let html = String::from_utf8_lossy(&bytes);
            for link in common::attribute_values(&html, &["href", "src"]) {
                let file = link.split(['#', '?']).next().unwrap_or_default();
                assert!(!file.ends_with(".md"), "{}: {link}", path.display());
            }
        }
    }

    // Reported once per problem, naming the versions that have it.
    for (versions, link, at, why) in [
        (
            "version: selection",
            "02-confiance.md#ancre",
            "5:6",
            "`modules:`",
        ),
        ("version: retrait", "03-recit.md", "7:6", "`remove: true`"),
        (
            "versions: base, retrait, selection",
            "../reserve.md",
            "9:7",
            "`clients:` rule",
        ),
    ] {
        let expected = format!(
            "warning: link to a page that is not in this version: `{link}` (its text is kept, without the link)\n  --> content/modules/01-ouverture.md:{at}\n   = in {versions}\n   = help: "
        );
        let found = warnings
            .find(&expected)
            .unwrap_or_else(|| panic!("no warning for {link} naming {versions}:\n{warnings}"));
        let help = warnings[found + expected.len()..]
            .lines()
            .next()
            .unwrap_or_default();
        assert!(help.contains(why), "{help}");
    }
    assert!(
        !warnings
            .lines()
            .any(|line| line.starts_with("   = in ") && line.contains("autre")),
        "{warnings}"
    );

    let check = f.run(&["check"]);
    check
        .expect(1)
        .says("error: link to a page that is not in this version: `02-confiance.md#ancre`")
        .says("= in version: selection")
        .says("= in version: retrait");
}

/// A client built alone (`--client`, at the output root) drops the link too.
#[test]
fn a_client_built_alone_drops_links_to_the_pages_it_leaves_out() {
    let f = left_out_pages();
    let run = f.run(&["build", "--client", "selection", "--out", "alone"]);
    // The one version built has the problem: no list of versions to give.
    run.expect(0)
        .says("link to a page that is not in this version: `02-confiance.md#ancre`");
    let module = f.read("alone/modules/ouverture/index.html");
    assert!(module.contains(CONFIANCE_TEXT), "{module}");
    assert!(module.contains(RECIT_LINKED), "{module}");
    let print = f.read("alone/print/index.html");
    assert!(print.contains(CONFIANCE_TEXT), "{print}");
    assert_eq!(broken_links(&f.path("alone")), Vec::<String>::new());
}

/// A link to a page that exists nowhere is reported and leaves no link to a
/// Markdown file behind.
#[test]
fn a_link_to_a_missing_page_keeps_its_text_only() {
    let f = Fixture::new(&[(
        "content/modules/01-a.md",
        &page("title: A", "Voir [ailleurs](02-absent.md#x) ici.\n"),
    )]);
    let run = f.build();
    run.says("warning: link to a missing page: `02-absent.md#x`")
        .says("content/modules/01-a.md:4:6");
    assert!(!run.stderr.contains("= in "), "{}", run.stderr);
    let html = f.read("public/modules/a/index.html");
    assert!(html.contains("Voir ailleurs ici."), "{html}");
    assert!(!html.contains("02-absent.md"), "{html}");
    f.run(&["check"])
        .expect(1)
        .says("error: link to a missing page");
}

const LOGO: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><title>projet</title></svg>";
const CLIENT_LOGO: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><title>client</title></svg>";

/// A project with `static/logo.svg`, overridden by client `lemoine`, shown
/// from a module, a module's step and an overlay page.
fn static_logo() -> Fixture {
    let f = Fixture::new(&[
        (
            "content/modules/01-a.md",
            &page(
                "title: A",
                "![Logo](../../static/logo.svg)\n\n[Le guide](../../static/docs/guide.pdf#page=2)\n",
            ),
        ),
        ("content/modules/02-b/_index.md", &page("title: B", "B.")),
        (
            "content/modules/02-b/01-etape.md",
            &page("title: Étape", "![Logo](../../../static/logo.svg)\n"),
        ),
        (
            "clients/lemoine/content/modules/03-propre.md",
            &page(
                "title: Propre",
                "![Le sien](../../static/logo.svg) ![Le commun](../../../../static/docs/guide.pdf)\n",
            ),
        ),
    ]);
    f.write_bytes("static/logo.svg", LOGO);
    f.write_bytes("static/docs/guide.pdf", b"%PDF-1.4");
    f.write("clients/lemoine/client.yaml", "name: Maison Lemoine\n");
    f.write_bytes("clients/lemoine/static/logo.svg", CLIENT_LOGO);
    f
}

/// The bytes the first `attribute` of `page` (a file under the fixture)
/// points at, relative to that page.
fn target_of(f: &Fixture, page: &str, attribute: &str, nth: usize) -> (String, Vec<u8>) {
    let html = f.read(page);
    let link = common::attribute_values(&html, &[attribute])
        .into_iter()
        .filter(|l| l.contains("logo") || l.contains("guide"))
        .nth(nth)
        .unwrap_or_else(|| panic!("no {attribute} to a static file in {page}:\n{html}"));
    let path = link.split('#').next().unwrap_or_default();
    let file = f.path(page).parent().expect("folder").join(path);
    let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{link} from {page}: {e}"));
    (link, bytes)
}

#[test]
fn relative_paths_into_static_point_at_the_versions_copy() {
    let f = static_logo();
    let run = f.build();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);

    let (src, bytes) = target_of(&f, "public/modules/a/index.html", "src", 0);
    assert_eq!(src, "../../logo.svg");
    assert_eq!(bytes, LOGO);
    let (href, bytes) = target_of(&f, "public/modules/a/index.html", "href", 0);
    assert_eq!(href, "../../docs/guide.pdf#page=2");
    assert_eq!(bytes, b"%PDF-1.4");
    let (src, bytes) = target_of(&f, "public/modules/b/etape/index.html", "src", 0);
    assert_eq!(src, "../../../logo.svg");
    assert_eq!(bytes, LOGO);
    let (_, bytes) = target_of(&f, "public/print/index.html", "src", 0);
    assert_eq!(bytes, LOGO);

    let client = "public/clients/lemoine/";
    for page in [
        "modules/a/index.html",
        "modules/b/etape/index.html",
        "print/index.html",
    ] {
        let (_, bytes) = target_of(&f, &format!("{client}{page}"), "src", 0);
        assert_eq!(bytes, CLIENT_LOGO, "{page}");
    }
    let overlay = format!("{client}modules/propre/index.html");
    assert_eq!(target_of(&f, &overlay, "src", 0).1, CLIENT_LOGO);
    assert_eq!(target_of(&f, &overlay, "src", 1).1, b"%PDF-1.4");
    assert_eq!(broken_links(&f.path("public")), Vec::<String>::new());

    f.run(&["check"]).expect(0);
}

#[test]
fn a_missing_file_in_static_is_a_warning_and_a_check_error() {
    let f = static_logo();
    f.write(
        "content/modules/01-a.md",
        &page("title: A", "![Logo](../../static/absent.svg)\n"),
    );
    f.write(
        "clients/lemoine/content/modules/03-propre.md",
        &page("title: Propre", "![Le sien](../../static/absent.svg)\n"),
    );
    f.build()
        .says("warning: link to a missing image in static/: `../../static/absent.svg`")
        .says("content/modules/01-a.md:4:1")
        .says("put the image at static/absent.svg")
        .says("clients/lemoine/content/modules/03-propre.md:4:1")
        .says("put the image at clients/lemoine/static/absent.svg");
    f.run(&["check"])
        .expect(1)
        .says("error: link to a missing image in static/");
}

/// `/static/logo.svg` is a 404 wherever the site is not at its host's root:
/// the warning says the relative path to write.
#[test]
fn a_root_absolute_path_to_a_static_file_says_the_relative_path_to_write() {
    let f = static_logo();
    f.write(
        "content/modules/02-b/01-etape.md",
        &page(
            "title: Étape",
            "![Logo](/static/logo.svg) ![Logo](/logo.svg)\n",
        ),
    );
    let run = f.build();
    run.says("warning: absolute link `/static/logo.svg` breaks when the site is not at the root of its host")
        .says("write the path relative to this file: `../../../static/logo.svg`");
    assert_eq!(
        run.stderr.matches("`../../../static/logo.svg`").count(),
        2,
        "{}",
        run.stderr
    );
}

/// A book written for mdBook links chapters as `chapter.html`: such a link
/// beside a source `chapter.md` goes to that page, anchors included.
#[test]
fn links_written_the_mdbook_way_go_to_the_page() {
    let f = Fixture::new(&[
        (
            "content/modules/01-a.md",
            &page(
                "title: A",
                "Voir [B](02-b.html#suite), [le guide](../guide/chapitre.html) et [l'index](../guide/index.html).\n",
            ),
        ),
        (
            "content/modules/02-b.md",
            &page("title: B", "## Suite\n\nTexte.\n"),
        ),
        (
            "content/guide/chapitre.md",
            &page("title: Chapitre", "Un chapitre.\n"),
        ),
        (
            "content/guide/_index.md",
            &page("title: Guide", "Le guide.\n"),
        ),
    ]);
    let run = f.build();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let html = f.read("public/modules/a/index.html");
    assert!(
        html.contains("href=\"../../modules/b/index.html#suite\""),
        "{html}"
    );
    assert!(
        html.contains("href=\"../../guide/chapitre/index.html\""),
        "{html}"
    );
    assert!(html.contains("href=\"../../guide/index.html\""), "{html}");
    assert_eq!(broken_links(&f.path("public")), Vec::<String>::new());
    f.run(&["check"]).expect(0);

    f.write(
        "content/modules/01-a.md",
        &page(
            "title: A",
            "Voir [B](02-b.html#absente) et [rien](03-rien.html).\n",
        ),
    );
    f.build()
        .says("anchor `#absente` does not exist in content/modules/02-b.md")
        .says("warning: link to a missing file: `03-rien.html`")
        .says("no page content/modules/03-rien.md and no file content/modules/03-rien.html");
}
