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
