//! `atelier init` and `atelier new`, through the real binary: the starter
//! masterclass builds with no warning from nothing but the executable (and
//! checks with none once its placeholders are replaced), and neither command
//! ever overwrites a file.

mod common;

use common::{Fixture, Run, page};

fn no_warning(run: &Run) {
    assert!(
        !run.stdout.contains("warning") && !run.stderr.contains("warning"),
        "unexpected warning\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

/// Runs `atelier ARGS` in `dir` (relative to the fixture root).
fn run_in(f: &Fixture, dir: &str, args: &[&str]) -> Run {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_atelier"))
        .args(args)
        .current_dir(f.path(dir))
        .output()
        .expect("run atelier");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn init_writes_a_masterclass_that_builds_and_checks_cleanly() {
    let f = Fixture::empty();
    let run = f.run(&["init", "mon-atelier"]);
    run.expect(0)
        .says("atelier.yaml")
        .says("cd mon-atelier")
        .says("atelier serve")
        .says("atelier build");
    for file in [
        "mon-atelier/atelier.yaml",
        "mon-atelier/content/_index.md",
        "mon-atelier/clients/librairie-les-passantes/client.yaml",
        "mon-atelier/.gitignore",
    ] {
        assert!(f.exists(file), "{file} missing");
    }
    let modules: Vec<String> = std::fs::read_dir(f.path("mon-atelier/content/modules"))
        .expect("modules")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(modules.iter().any(|m| m.starts_with("01-")), "{modules:?}");
    assert!(modules.iter().any(|m| m.starts_with("02-")), "{modules:?}");

    let build = run_in(&f, "mon-atelier", &["build"]);
    build.expect(0);
    no_warning(&build);
    for file in [
        "index.html",
        "modules/le-message-que-personne-ne-lit/index.html",
        "exercises/un-merci-sincere/index.html",
        "clients/librairie-les-passantes/nos-lecteurs/index.html",
    ] {
        assert!(f.exists(&format!("mon-atelier/public/{file}")), "{file}");
    }
    let index = f.read("mon-atelier/public/index.html");
    assert!(index.contains("votre entreprise"), "client_defaults used");
    let client = f.read("mon-atelier/public/clients/librairie-les-passantes/index.html");
    assert!(client.contains("Librairie Les Passantes"));

    // `check` points at the two values left for the author to fill in, and
    // at nothing else; once they are, it is clean even under `--strict`.
    let check = run_in(&f, "mon-atelier", &["check"]);
    check.expect(0).says(": 2 warnings in 1 file");
    assert_eq!(
        check.stderr.matches("is still").count(),
        2,
        "{}",
        check.stderr
    );
    let config = f
        .read("mon-atelier/atelier.yaml")
        .replace("\"Votre nom\"", "\"Anne Morel\"")
        .replace("formations.example.org", "formations.morel-conseil.fr");
    f.write("mon-atelier/atelier.yaml", &config);
    let check = run_in(&f, "mon-atelier", &["check"]);
    check.expect(0);
    no_warning(&check);
    let strict = run_in(&f, "mon-atelier", &["check", "--strict"]);
    strict.expect(0);
}

#[test]
fn init_in_the_current_folder_needs_no_cd() {
    let f = Fixture::empty();
    let run = f.run(&["init"]);
    run.expect(0).says("atelier serve");
    assert!(!run.stdout.contains("cd "), "{}", run.stdout);
    f.build();
}

#[test]
fn init_twice_refuses_and_changes_nothing() {
    let f = Fixture::empty();
    f.run(&["init"]).expect(0);
    f.write("content/_index.md", &page("title: Le mien", "Mon texte."));
    let before = f.snapshot(".");
    f.run(&["init"])
        .expect(2)
        .says("atelier.yaml already exists");
    f.run(&["init", "."]).expect(2);
    assert_eq!(before, f.snapshot("."), "a refused init wrote something");
}

#[test]
fn init_keeps_existing_files_byte_for_byte() {
    let f = Fixture::empty();
    let notes: &[u8] = b"mes notes\r\n\xff\xfe pas de l'UTF-8";
    f.write_bytes("dossier/notes.txt", notes);
    let mine = page("title: Mon accueil", "Bonjour {{ client.name }}.");
    f.write("dossier/content/_index.md", &mine);
    let run = f.run(&["init", "dossier"]);
    run.expect(0)
        .says("Kept 1 existing file")
        .says("content/_index.md");
    assert_eq!(
        std::fs::read(f.path("dossier/notes.txt")).expect("read"),
        notes
    );
    assert_eq!(f.read("dossier/content/_index.md"), mine);
    assert!(f.exists("dossier/content/modules/01-le-message-que-personne-ne-lit.md"));
    run_in(&f, "dossier", &["build"]).expect(0);
}

#[test]
fn init_refuses_a_file_as_folder() {
    let f = Fixture::empty();
    f.write("occupe", "un fichier");
    f.run(&["init", "occupe"]).expect(2).says("not a folder");
    assert_eq!(f.read("occupe"), "un fichier");
}

#[test]
fn new_with_a_very_long_title_makes_a_short_file_name_and_keeps_the_title() {
    let f = Fixture::new(&[]);
    let title = "Écouter vraiment ce que le client ne dit pas ".repeat(7);
    let title = title.trim();
    assert!(title.chars().count() > 300);
    let run = f.run(&["new", "exercise", title]);
    run.expect(0);
    let created = run
        .stdout
        .trim()
        .strip_prefix("Created ")
        .unwrap_or_else(|| panic!("{}", run.stdout))
        .to_string();
    let name = created
        .strip_prefix("content/exercises/")
        .and_then(|n| n.strip_suffix(".md"))
        .unwrap_or_else(|| panic!("{created}"));
    assert!(name.len() <= 60, "{name} ({} bytes)", name.len());
    assert!(
        "ecouter-vraiment-ce-que-le-client-ne-dit-pas-"
            .repeat(7)
            .starts_with(&format!("{name}-")),
        "not cut at a word: {name}"
    );
    assert!(f.read(&created).contains(title), "the title is kept whole");
    let module = f.run(&["new", "module", title]);
    module.expect(0).says("content/modules/01-ecouter-vraiment");
    let client = f.run(&["new", "client", title]);
    client.expect(0).says("clients/ecouter-vraiment");
    f.build();
}

#[test]
fn an_os_error_of_new_names_the_file_once_and_plainly() {
    let f = Fixture::new(&[]);
    // A file where the exercises folder should be: creating it must fail.
    f.write("content/exercises", "pas un dossier");
    let root = f.root().to_str().expect("utf-8 path").to_string();
    let run = f.run(&[
        "--root",
        &format!("{root}/"),
        "new",
        "exercise",
        "Une fiche",
    ]);
    run.expect(1)
        .says("error: cannot create the folder content/exercises");
    assert!(!run.stderr.contains("//"), "{}", run.stderr);
    let run = f.run(&["init", &format!("{root}/content/exercises/x")]);
    run.expect(1);
    assert!(!run.stderr.contains("//"), "{}", run.stderr);
}

#[test]
fn the_scaffold_links_its_icon_from_every_page() {
    let f = Fixture::empty();
    f.run(&["init"]).expect(0);
    assert!(f.exists("static/favicon.svg"));
    f.build();
    for (page, root) in [
        ("index.html", ""),
        (
            "modules/le-message-que-personne-ne-lit/index.html",
            "../../",
        ),
        ("print/index.html", "../"),
        ("clients/librairie-les-passantes/index.html", ""),
    ] {
        let html = f.read(&format!("public/{page}"));
        let link = format!("<link rel=\"icon\" href=\"{root}favicon.svg\" type=\"image/svg+xml\">");
        assert!(
            html.contains(&link),
            "{page} does not link {root}favicon.svg"
        );
    }
    assert!(f.exists("public/favicon.svg"));
    assert!(f.exists("public/clients/librairie-les-passantes/favicon.svg"));
    let problems = common::broken_links(&f.path("public"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // No icon in static/: no link to a file that is not there.
    std::fs::remove_file(f.path("static/favicon.svg")).expect("remove");
    f.build();
    assert!(!f.read("public/index.html").contains("rel=\"icon\""));
}

#[test]
fn a_new_module_is_a_named_point_on_the_arc() {
    let f = Fixture::new(&[]);
    f.run(&["new", "module", "Premier pas"]).expect(0);
    let text = f.read("content/modules/01-premier-pas.md");
    let set = |key: &str| text.lines().any(|l| l.starts_with(&format!("{key}: ")));
    let commented = |key: &str| text.lines().any(|l| l.starts_with(&format!("# {key}: ")));
    assert_eq!(
        (set("emotion"), set("intensity")),
        (true, true),
        "emotion and intensity are not both set:\n{text}"
    );
    assert!(!commented("emotion") && !commented("intensity"), "{text}");
    f.build();
    let index = f.read("public/index.html");
    assert!(index.contains("class=\"arc-point\""), "no point on the arc");
    assert!(
        index.contains("class=\"arc-label\""),
        "the point has no label"
    );
}

#[test]
fn the_scaffold_scale_questions_do_not_repeat_their_end_labels() {
    let f = Fixture::empty();
    f.run(&["init"]).expect(0);
    f.build();
    let mut scales = 0;
    for entry in walkdir::WalkDir::new(f.path("public/exercises")) {
        let entry = entry.expect("walk");
        if entry.path().extension().is_none_or(|x| x != "html") {
            continue;
        }
        let html = std::fs::read_to_string(entry.path()).expect("read");
        for fieldset in html.split("<fieldset class=\"field field-scale\"").skip(1) {
            scales += 1;
            let legend = between(fieldset, "<legend>", "</legend>").to_lowercase();
            for end in ["scale-low\">", "scale-high\">"] {
                let label = between(fieldset, end, "</span>").to_lowercase();
                assert!(
                    !legend.contains(&label),
                    "{}: the question {legend:?} repeats the end label {label:?}",
                    entry.path().display()
                );
            }
            assert!(
                !legend.contains("1 :") && !legend.contains("5 :"),
                "{}: the question {legend:?} labels the ends itself",
                entry.path().display()
            );
        }
    }
    assert!(scales > 0, "the scaffold has no scale question any more");
}

/// The text between the first `start` and the next `end` in `text`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .map(|i| i + start.len())
        .unwrap_or_else(|| panic!("no {start}"));
    let to = text[from..].find(end).unwrap_or_else(|| panic!("no {end}"));
    &text[from..from + to]
}

#[test]
fn new_module_numbers_files_and_builds() {
    let f = Fixture::new(&[]);
    f.run(&["new", "module", "Premier pas"])
        .expect(0)
        .says("content/modules/01-premier-pas.md");
    f.run(&["new", "module", "L'étape d'après : « le suivi »"])
        .expect(0)
        .says("content/modules/02-l-etape-d-apres-le-suivi.md");
    let text = f.read("content/modules/01-premier-pas.md");
    for key in [
        "title:",
        "summary:",
        "order:",
        "duration: 30 min",
        "emotion:",
        "intensity:",
        "objectives:",
        "exercises:",
        "draft: false",
        "clients:",
    ] {
        assert!(text.contains(key), "{key} missing in\n{text}");
    }
    let build = f.build();
    no_warning(&build);
    assert!(f.exists("public/modules/premier-pas/index.html"));
    let html = f.read("public/modules/l-etape-d-apres-le-suivi/index.html");
    assert!(html.contains("suivi"));
    assert!(
        !html.contains("version animateur"),
        "facilitator text leaked"
    );
}

#[test]
fn new_module_follows_the_highest_prefix() {
    let f = Fixture::new(&[
        ("content/modules/01-a.md", &page("title: A", "x")),
        ("content/modules/07-recit/_index.md", &page("title: R", "x")),
        (
            "content/modules/07-recit/01-avant.md",
            &page("title: Av", "x"),
        ),
    ]);
    f.run(&["new", "module", "Suite"])
        .expect(0)
        .says("content/modules/08-suite.md");
    f.build();
}

#[test]
fn new_in_an_initialised_project_from_a_sub_folder() {
    let f = Fixture::empty();
    f.run(&["init"]).expect(0);
    run_in(&f, "content", &["new", "module", "La gratitude"])
        .expect(0)
        .says("content/modules/03-la-gratitude.md");
    run_in(
        &f,
        "content/modules",
        &["new", "exercise", "Carte d'un client"],
    )
    .expect(0)
    .says("content/exercises/carte-d-un-client.md");
    let exercise = f.read("content/exercises/carte-d-un-client.md");
    assert!(exercise.contains("kind: worksheet"));
    assert!(exercise.contains("journey-map") && exercise.contains("reflection"));
    let build = f.build();
    no_warning(&build);
    assert!(f.exists("public/modules/la-gratitude/index.html"));
    assert!(f.exists("public/exercises/carte-d-un-client/index.html"));
}

#[test]
fn new_client_has_every_key_and_gets_its_version() {
    let f = Fixture::new(&[("content/modules/01-a.md", &page("title: A", "Bonjour."))]);
    f.run(&["new", "client", "Fromagerie Dubreuil & Fils"])
        .expect(0)
        .says("clients/fromagerie-dubreuil-fils/client.yaml");
    let yaml = f.read("clients/fromagerie-dubreuil-fils/client.yaml");
    assert!(yaml.contains("name: \"Fromagerie Dubreuil & Fils\""));
    for key in [
        "sector:",
        "city:",
        "audience:",
        "vars:",
        "modules: [a]",
        "theme:",
        "base_url:",
        "language:",
        "schedule:",
    ] {
        assert!(yaml.contains(key), "{key} missing in\n{yaml}");
    }
    assert!(f.path("clients/fromagerie-dubreuil-fils/content").is_dir());
    f.build();
    let html = f.read("public/clients/fromagerie-dubreuil-fils/index.html");
    assert!(html.contains("Fromagerie Dubreuil &amp; Fils"));
}

#[test]
fn new_refuses_to_overwrite() {
    let f = Fixture::new(&[]);
    f.run(&["new", "client", "Maison Lemoine"]).expect(0);
    f.write(
        "clients/maison-lemoine/client.yaml",
        "name: Maison Lemoine\n",
    );
    f.run(&["new", "exercise", "Lettre"]).expect(0);
    f.run(&["new", "module", "Confiance"]).expect(0);
    let before = f.snapshot(".");
    f.run(&["new", "client", "Maison Lemoine"])
        .expect(2)
        .says("clients/maison-lemoine/client.yaml");
    f.run(&["new", "exercise", "Lettre"])
        .expect(2)
        .says("content/exercises/lettre.md");
    f.run(&["new", "module", "Confiance"])
        .expect(2)
        .says("content/modules/01-confiance.md");
    f.run(&["new", "module", "?!"])
        .expect(2)
        .says("letter or digit");
    assert_eq!(before, f.snapshot("."), "a refused `new` wrote something");
}

#[test]
fn new_needs_a_project() {
    let f = Fixture::empty();
    f.run(&["new", "module", "Seul"])
        .expect(2)
        .says("atelier init");
    assert!(!f.exists("content"));
}

#[test]
fn quiet_prints_nothing() {
    let f = Fixture::empty();
    let run = f.run(&["-q", "init"]);
    run.expect(0);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let run = f.run(&["-q", "new", "module", "Calme"]);
    run.expect(0);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}
