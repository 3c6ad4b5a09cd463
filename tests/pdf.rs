//! The workbook PDF (SPEC §10), through the binary: `atelier pdf` and
//! `atelier build --pdf` on fixture projects, the PDFs read back with lopdf
//! (outline, fonts) and poppler's `pdftotext` (text).

mod common;

use std::path::Path;
use std::process::Command;

use common::{Fixture, page};

/// Text only the facilitator's workbook may hold.
const NOTE: &str = "NOTEANIMATEUR";
const SOLUTION: &str = "SOLUTIONCACHEE";
/// Text only Alpha's (and Beta's) version holds.
const ALPHA_TEXT: &str = "TEXTEALPHA";
const ALPHA_PAGE: &str = "PAGEALPHASEULE";
const BETA_TEXT: &str = "TEXTEBETA";

/// Modules, steps and exercises of every kind, facilitator notes and
/// solutions, passages for one client, raw HTML and code in an unknown
/// language; two clients, one with a page of its own.
fn project() -> Fixture {
    Fixture::new(&[
        (
            "content/_index.md",
            &page("title: Accueil", "Bienvenue à {{ client.name }}.\n"),
        ),
        (
            "content/modules/01-accueil.md",
            &page(
                "title: Premier module\nduration: 30 min\nemotion: curiosité\nintensity: 2\nobjectives: [Comprendre le livret]\nexercises: [carte]",
                &format!(
                    "Un texte d'ouverture.\n\n\
                     ::: facilitator\n{NOTE} à dire au groupe.\n:::\n\n\
                     ::: solution\n{SOLUTION} pour l'exercice.\n:::\n\n\
                     ::: only client=\"alpha\"\n{ALPHA_TEXT} pour Alpha.\n:::\n\n\
                     ::: only client=\"beta\"\n{BETA_TEXT} pour Beta.\n:::\n\n\
                     <div class=\"encart\">Un encart en HTML.</div>\n\n\
                     ```nope-lang\nbonjour()\n```\n\n\
                     ```python\nprint(\"bonjour\")\n```\n\n\
                     ::: exercise lettre\nÀ faire seul.\n:::\n"
                ),
            ),
        ),
        (
            "content/modules/02-recit/_index.md",
            &page(
                "title: Deuxième module\nintensity: 4",
                "Le récit.\n\n::: temoignage\nUn client raconte.\n:::\n",
            ),
        ),
        (
            "content/modules/02-recit/01-etape-une.md",
            &page(
                "title: Étape une\nduration: 10 min",
                "## Un intertitre\n\nLe début.\n\n::: exercise parcours\n:::\n",
            ),
        ),
        (
            "content/modules/02-recit/02-etape-deux.md",
            &page(
                "title: Étape deux\nduration: 10 min",
                "La suite, avec **du gras**, un [lien](https://example.org/) et `du code`.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
            ),
        ),
        (
            "content/exercises/lettre.md",
            &page(
                "title: La lettre\nobjective: Écrire à une personne\nfields:\n  - { id: a, label: Question ouverte, type: textarea }\n  - { id: b, label: Un choix, type: choice, options: [Oui, Non] }\n  - { id: c, label: Une note, type: scale }",
                "Consigne de la lettre.\n",
            ),
        ),
        (
            "content/exercises/parcours.md",
            &page(
                "title: Le parcours\nkind: journey-map\nstages: [Découverte, Achat]",
                "Consigne du parcours.\n",
            ),
        ),
        (
            "content/exercises/carte.md",
            &page(
                "title: La carte\nkind: empathy-map",
                "Consigne de la carte.\n",
            ),
        ),
        (
            "content/exercises/roi.md",
            &page("title: Le calcul\nkind: roi", "Consigne du calcul.\n"),
        ),
        (
            "templates/directives/temoignage.html",
            "<blockquote class=\"temoignage\">{{ body }}</blockquote>\n",
        ),
        ("clients/alpha/client.yaml", "name: Alpha Conseil\n"),
        (
            "clients/alpha/content/ressources-alpha.md",
            &page("title: Pour Alpha", &format!("{ALPHA_PAGE}.\n")),
        ),
        ("clients/beta/client.yaml", "name: Beta Atelier\n"),
    ])
}

/// What `pdftotext` prints for the PDF at `path` with `args` before it.
fn pdftotext(path: &Path, args: &[&str]) -> String {
    let output = Command::new("pdftotext")
        .args(args)
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils, installed by .ci/run)");
    assert!(
        output.status.success(),
        "pdftotext failed on {}",
        path.display()
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The text of a PDF (all pages, or `pages` first to last).
fn pdf_text(path: &Path, pages: Option<(u32, u32)>) -> String {
    let range = pages.map(|(first, last)| (first.to_string(), last.to_string()));
    let args: Vec<&str> = match &range {
        Some((first, last)) => vec!["-f", first, "-l", last],
        None => Vec::new(),
    };
    // Words a line break split are joined again.
    pdftotext(path, &args)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The dictionaries of the PDF whose `/Type` is `kind` (`Font`).
fn dictionaries<'a>(
    document: &'a lopdf::Document,
    kind: &'a [u8],
) -> impl Iterator<Item = &'a lopdf::Dictionary> {
    document
        .objects
        .values()
        .filter_map(|object| object.as_dict().ok())
        .filter(move |dict| dict.get(b"Type").and_then(|t| t.as_name()).ok() == Some(kind))
}

/// The outline's entries: (level, title).
fn outline(path: &Path) -> Vec<(usize, String)> {
    let document = lopdf::Document::load(path).expect("a PDF lopdf reads");
    let toc = document.get_toc().expect("the PDF has an outline");
    toc.toc.into_iter().map(|e| (e.level, e.title)).collect()
}

/// Whether every font of the PDF is embedded (its descriptor holds the
/// font program), and there is at least one.
fn fonts_embedded(path: &Path) -> (usize, usize) {
    let document = lopdf::Document::load(path).expect("a PDF lopdf reads");
    let descriptors: Vec<_> = dictionaries(&document, b"FontDescriptor").collect();
    let embedded = descriptors
        .iter()
        .filter(|dict| {
            [b"FontFile".as_slice(), b"FontFile2", b"FontFile3"]
                .iter()
                .any(|key| dict.has(key))
        })
        .count();
    (descriptors.len(), embedded)
}

#[test]
fn every_version_gets_a_workbook_with_its_outline_cover_fonts_and_only_its_text() {
    let f = project();
    let run = f.run(&["pdf"]);
    run.expect(0).says("Wrote 3 workbooks");
    let base = f.path("workbooks/workbook.pdf");
    let alpha = f.path("workbooks/clients/alpha/workbook.pdf");
    let beta = f.path("workbooks/clients/beta/workbook.pdf");
    // Only the PDFs: no site beside them.
    assert!(!f.exists("workbooks/index.html"));
    assert!(!f.exists("public"));

    for pdf in [&base, &alpha, &beta] {
        let entries = outline(pdf);
        for (level, title) in [
            (1, "Premier module"),
            (1, "Deuxième module"),
            (2, "Étape une"),
            (2, "Étape deux"),
        ] {
            assert!(
                entries.iter().any(|(l, t)| *l == level && t == title),
                "{title} at level {level} in the outline of {}: {entries:?}",
                pdf.display()
            );
        }
        // The body's own headings are not bookmarks.
        assert!(
            !entries.iter().any(|(_, t)| t == "Un intertitre"),
            "{entries:?}"
        );
        let (descriptors, embedded) = fonts_embedded(pdf);
        assert!(descriptors > 0, "fonts in {}", pdf.display());
        assert_eq!(
            descriptors,
            embedded,
            "every font embedded in {}",
            pdf.display()
        );

        let text = pdf_text(pdf, None);
        assert!(
            !text.contains(NOTE),
            "no facilitator note in {}",
            pdf.display()
        );
        assert!(!text.contains(SOLUTION), "no solution in {}", pdf.display());
        // Every module, step and worksheet kind is there.
        for expected in [
            "Un texte d’ouverture",
            "Le récit",
            "Le début",
            "La suite",
            "La lettre",
            "Question ouverte",
            "Le parcours",
            "Découverte",
            "La carte",
            "Le calcul",
            "print(\"bonjour\")",
            "bonjour()",
            "Un client raconte",
            // A project's kind without a PDF template: a box with its title.
            "Temoignage",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} in {}: {text}",
                pdf.display()
            );
        }
        // What a PDF cannot show is left out.
        assert!(!text.contains("Un encart en HTML"));
    }

    let cover = |pdf: &Path| pdf_text(pdf, Some((1, 1)));
    assert!(cover(&alpha).contains("Alpha Conseil"), "{}", cover(&alpha));
    assert!(cover(&beta).contains("Beta Atelier"), "{}", cover(&beta));
    assert!(!cover(&base).contains("Alpha"), "{}", cover(&base));

    let (base, alpha, beta) = (
        pdf_text(&base, None),
        pdf_text(&alpha, None),
        pdf_text(&beta, None),
    );
    assert!(alpha.contains(ALPHA_TEXT) && alpha.contains(ALPHA_PAGE));
    assert!(beta.contains(BETA_TEXT));
    for (name, text) in [("base", &base), ("beta", &beta)] {
        assert!(
            !text.contains(ALPHA_TEXT),
            "Alpha's text in {name}'s workbook"
        );
        assert!(
            !text.contains(ALPHA_PAGE),
            "Alpha's page in {name}'s workbook"
        );
        assert!(
            !text.contains("Alpha Conseil"),
            "Alpha's name in {name}'s workbook"
        );
    }
    assert!(!alpha.contains(BETA_TEXT) && !alpha.contains("Beta Atelier"));
    // The client's name in the running header, on every page but the cover.
    assert!(alpha.matches("Alpha Conseil").count() > 3, "{alpha}");

    // Warnings name the file and line, once for the three versions.
    run.says("warning: raw HTML is left out of the workbook PDF")
        .says("content/modules/01-accueil.md:27:1")
        .says("code in an unknown language `nope-lang`")
        .says("content/modules/01-accueil.md:29:1");
    assert_eq!(
        run.stderr.matches("raw HTML is left out").count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn the_facilitator_workbook_holds_notes_and_solutions() {
    let f = project();
    f.run(&["pdf", "--facilitator", "--client", "alpha"])
        .expect(0);
    // One client alone is at the output root.
    let pdf = f.path("workbooks-facilitator/workbook.pdf");
    let text = pdf_text(&pdf, None);
    assert!(text.contains(NOTE), "{text}");
    assert!(text.contains(SOLUTION), "{text}");
    assert!(text.contains(ALPHA_TEXT));
    let cover = pdf_text(&pdf, Some((1, 1))).to_lowercase();
    assert!(cover.contains("livret de l’animateur"), "{cover}");
    assert!(!f.exists("workbooks-facilitator/clients"));
}

#[test]
fn build_with_pdf_writes_the_workbook_beside_each_site() {
    let f = project();
    f.run(&["build", "--pdf", "--client", "alpha", "--client", "beta"])
        .expect(0);
    for slug in ["alpha", "beta"] {
        assert!(f.exists(&format!("public/clients/{slug}/index.html")));
        let pdf = f.path(&format!("public/clients/{slug}/workbook.pdf"));
        assert!(pdf_text(&pdf, None).contains("Premier module"));
    }
    // Without --pdf, no PDF.
    f.run(&["build"]).expect(0);
    assert!(!f.exists("public/workbook.pdf"));
    assert!(f.exists("public/index.html"));
}

#[test]
fn client_values_are_text_in_the_pdf_never_typst_markup() {
    let f = project();
    let hostile = r##"#panic("x") *_$@< #set page(width: 1cm) [lien](x) \ $x^2$ // <b>"##;
    let quoted = format!("'{}'", hostile.replace('\'', "''"));
    f.write(
        "clients/alpha/client.yaml",
        &format!(
            "name: {quoted}\nsector: {quoted}\ncity: {quoted}\naudience: {quoted}\nvars: {{ persona: {quoted} }}\n"
        ),
    );
    f.write(
        "content/modules/03-valeurs.md",
        &page(
            "title: Valeurs",
            "Pour {{ client.name }} à {{ client.city }}, {{ client.vars.persona }}.\n",
        ),
    );
    let run = f.run(&["pdf", "--client", "alpha"]);
    run.expect(0);
    let pdf = f.path("workbooks/workbook.pdf");
    let cover = pdf_text(&pdf, Some((1, 1)));
    let text = pdf_text(&pdf, None);
    // Every piece of markup is shown as written, on the cover and in the
    // pages (typography may change only spacing).
    for piece in [
        "#panic(\"x\")",
        "*_$@<",
        "#set page(width: 1cm)",
        "[lien](x)",
        "$x^2$",
        "// <b>",
    ] {
        assert!(cover.contains(piece), "{piece:?} on the cover: {cover}");
        assert!(
            text.matches(piece).count() >= 4,
            "{piece:?} in the pages: {text}"
        );
    }
}

#[test]
fn a_project_template_error_names_its_file_and_line_and_keeps_the_previous_workbooks() {
    let f = project();
    f.run(&["pdf"]).expect(0);
    let before = f.snapshot("workbooks");
    f.write(
        "templates/pdf/workbook.typ",
        "#let workbook(data, directives: (:)) = {\n  [Bonjour]\n  undefined-function(data.title)\n}\n",
    );
    let run = f.run(&["pdf"]);
    run.expect(1)
        .says("templates/pdf/workbook.typ:3:3")
        .says("workbook template: unknown variable: undefined-function");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(
        before,
        f.snapshot("workbooks"),
        "the previous workbooks changed"
    );
}

#[test]
fn project_templates_replace_the_workbook_and_lay_out_their_directives() {
    let f = project();
    f.write(
        "templates/pdf/directives/temoignage.typ",
        "#let directive(attrs, body) = block[TEMOIN-PDF #body]\n",
    );
    f.run(&["pdf", "--client", "beta"]).expect(0);
    let text = pdf_text(&f.path("workbooks/workbook.pdf"), None);
    assert!(text.contains("TEMOIN-PDF Un client raconte"), "{text}");

    f.write(
        "templates/pdf/workbook.typ",
        "#let workbook(data, directives: (:)) = [Livret maison pour #data.client.name]\n",
    );
    f.run(&["pdf", "--client", "beta"]).expect(0);
    let text = pdf_text(&f.path("workbooks/workbook.pdf"), None);
    assert_eq!(text, "Livret maison pour Beta Atelier");
}

#[test]
fn a_directive_fence_read_as_text_stops_the_workbook_as_it_stops_the_site() {
    let f = project();
    f.write(
        "content/modules/03-glisse.md",
        &page(
            "title: Glissé",
            "Un paragraphe\n    ::: facilitator\nNOTEGLISSEE\n",
        ),
    );
    let run = f.run(&["pdf"]);
    run.expect(1)
        .says("content/modules/03-glisse.md:5:5")
        .says("is not read as a directive here");
    assert!(!f.exists("workbooks/workbook.pdf"));
}

/// The x position of each word of the PDF's text (pdftotext -bbox), in
/// reading order.
fn word_positions(path: &Path) -> Vec<(String, f64)> {
    pdftotext(path, &["-bbox"])
        .lines()
        .filter_map(|line| {
            let x = line.split("xMin=\"").nth(1)?.split('"').next()?;
            let word = line.split('>').nth(1)?.split('<').next()?;
            Some((word.to_string(), x.parse().ok()?))
        })
        .collect()
}

/// Names of the fonts the PDF uses (their BaseFont, subset prefix dropped).
fn font_names(path: &Path) -> Vec<String> {
    let document = lopdf::Document::load(path).expect("a PDF lopdf reads");
    dictionaries(&document, b"Font")
        .filter_map(|dict| dict.get(b"BaseFont").and_then(|n| n.as_name()).ok())
        .map(|name| {
            let name = String::from_utf8_lossy(name);
            name.split_once('+')
                .map_or(name.to_string(), |(_, n)| n.to_string())
        })
        .collect()
}

#[test]
fn code_blocks_keep_their_indentation_in_the_code_font() {
    let f = Fixture::new(&[(
        "content/modules/01-code.md",
        &page(
            "title: Du code",
            "Un exemple.\n\n```python\ndef accueil(nom):\n        return nom\n```\n",
        ),
    )]);
    f.run(&["pdf"]).expect(0);
    let pdf = f.path("workbooks/workbook.pdf");
    let words = word_positions(&pdf);
    let x = |word: &str| {
        words
            .iter()
            .find(|(w, _)| w == word)
            .map(|(_, x)| *x)
            .unwrap_or_else(|| panic!("`{word}` not in the workbook: {words:?}"))
    };
    // Eight spaces in the code font: well to the right of the line above.
    let indent = x("return") - x("def");
    assert!(indent > 20.0, "the indentation is lost: {indent} pt");
    assert!(
        font_names(&pdf)
            .iter()
            .any(|name| name.starts_with("DejaVuSansMono")),
        "no code font: {:?}",
        font_names(&pdf)
    );
}
