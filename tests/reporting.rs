//! What `build`, `check` and `serve` report, through the real binary: a
//! problem in a file several versions share is reported once (naming the
//! versions it affects when it is not all of them), counts are of distinct
//! problems and grammatical, `check` gives every client checked its
//! uniqueness figure whatever else it found, and the starter project's
//! placeholders are pointed out.

mod common;
#[path = "common/events.rs"]
mod events;

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use common::{Fixture, Server, page};
use events::{subscribe, wait_for};

const CONFIG: &str = "title: Atelier test\nlanguage: fr\nbase_url: https://formations.atelier.test/\nclient_defaults:\n  name: votre entreprise\n  vars: { persona: \"une cliente fidèle\" }\n";

/// A base version and two clients; the second adds an exercise of its own,
/// so the list of exercise ids differs between versions.
fn three_versions() -> Fixture {
    let f = Fixture::new(&[
        (
            "content/modules/01-accueil.md",
            &page(
                "title: Accueil\nduration: 30 min\nexercises: [lettre]",
                "Pour {{ client.name }} : pensez à {{ client.vars.persona }}.",
            ),
        ),
        (
            "content/exercises/lettre.md",
            &page("title: Lettre\nkind: worksheet", "Écrivez."),
        ),
    ]);
    f.write("atelier.yaml", CONFIG);
    f.write(
        "clients/maison-lemoine/client.yaml",
        "name: Maison Lemoine\nvars: { persona: \"Claire, fidèle depuis dix ans\" }\n",
    );
    f.write(
        "clients/cabinet-belcourt/client.yaml",
        "name: Cabinet Belcourt\nvars: { persona: \"Maître Roux\" }\n",
    );
    f.write(
        "clients/cabinet-belcourt/content/exercises/bilan.md",
        &page("title: Bilan\nkind: reflection", "Notez."),
    );
    f
}

/// A typo every version meets: the module lists an exercise that does not exist.
fn with_shared_typo(f: &Fixture) {
    f.write(
        "content/modules/01-accueil.md",
        &page(
            "title: Accueil\nduration: 30 min\nexercises: [letre]",
            "Pour {{ client.name }} : pensez à {{ client.vars.persona }}.",
        ),
    );
}

const TYPO: &str = "unknown exercise `letre`";

fn output(run: &common::Run) -> String {
    format!("{}{}", run.stdout, run.stderr)
}

#[test]
fn a_typo_in_a_shared_file_is_reported_once_by_build_and_check() {
    let f = three_versions();
    with_shared_typo(&f);

    let build = f.run(&["build"]);
    build.expect(1).says("content/modules/01-accueil.md:4");
    let text = output(&build);
    assert_eq!(text.matches(TYPO).count(), 1, "{text}");
    assert_eq!(text.matches("= help:").count(), 1, "{text}");
    assert!(
        !text.contains("in version"),
        "every version has it:\n{text}"
    );
    build.says("1 error found; nothing was written");

    let check = f.run(&["check"]);
    check.expect(1);
    let text = output(&check);
    assert_eq!(text.matches(TYPO).count(), 1, "{text}");
    assert_eq!(text.matches("= help:").count(), 1, "{text}");
    assert!(
        !text.contains("in version"),
        "every version has it:\n{text}"
    );
    check.says(": 1 error in 1 file");
}

#[test]
fn a_variable_missing_in_one_client_names_that_client() {
    let f = three_versions();
    f.write(
        "clients/cabinet-belcourt/client.yaml",
        "name: Cabinet Belcourt\n",
    );
    let problem = "`client.vars.persona` has no value";
    for command in ["build", "check"] {
        let run = f.run(&[command]);
        run.expect(1)
            .says("content/modules/01-accueil.md:6:")
            .says("= in version: cabinet-belcourt\n");
        let text = output(&run);
        assert_eq!(text.matches(problem).count(), 1, "{command}:\n{text}");
        assert!(!text.contains("in versions:"), "{command}:\n{text}");
    }

    // Missing in two of the three versions: both named, in build order.
    f.write(
        "atelier.yaml",
        &CONFIG.replace("  vars: { persona: \"une cliente fidèle\" }\n", ""),
    );
    let run = f.run(&["build"]);
    run.expect(1)
        .says("= in versions: base, cabinet-belcourt\n");
    assert_eq!(output(&run).matches(problem).count(), 1, "{}", output(&run));
}

/// The data of the next event named `name`, within 15 s.
fn next_event(events: &Receiver<(String, String)>, name: &str) -> String {
    wait_for(events, name, Duration::from_secs(15), |_| true)
}

/// The body of `GET path`.
fn get(port: u16, path: &str) -> String {
    String::from_utf8_lossy(&common::http_get(port, path).1).into_owned()
}

/// The overlay's errors, as the event or `errors.json` sends them.
fn overlay_errors(json: &str) -> usize {
    json.matches("\"location\":").count()
}

#[test]
fn the_serve_overlay_and_terminal_count_one_problem_for_a_shared_typo() {
    let f = three_versions();
    let server = Server::start(f.root());
    let stream = subscribe(server.port);
    next_event(&stream, "hello");
    with_shared_typo(&f);
    let data = next_event(&stream, "error");
    assert_eq!(overlay_errors(&data), 1, "{data}");
    assert!(data.contains(TYPO), "{data}");
    let json = get(server.port, "/__atelier/errors.json");
    assert_eq!(overlay_errors(&json), 1, "{json}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.stderr().contains("still serving") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let terminal = server.stderr();
    assert_eq!(terminal.matches(TYPO).count(), 1, "{terminal}");
    assert!(terminal.contains("1 error: still serving"), "{terminal}");

    // A problem only one client has names it, in the overlay too.
    f.write(
        "content/modules/01-accueil.md",
        &page(
            "title: Accueil\nduration: 30 min\nexercises: [lettre]",
            "Pour {{ client.name }} : pensez à {{ client.vars.persona }}.",
        ),
    );
    next_event(&stream, "reload");
    f.write(
        "clients/cabinet-belcourt/client.yaml",
        "name: Cabinet Belcourt\n",
    );
    let data = next_event(&stream, "error");
    assert_eq!(overlay_errors(&data), 1, "{data}");
    assert!(data.contains("in version: cabinet-belcourt"), "{data}");
}

#[test]
fn the_serve_terminal_counts_grammatically() {
    let f = Fixture::new(&[
        ("content/_index.md", &page("title: Accueil", "Bonjour.")),
        (
            "content/modules/01-seul.md",
            &page("title: Seul\nduration: 10 min", "Un texte."),
        ),
    ]);
    let server = Server::start(f.root());
    let stream = subscribe(server.port);
    next_event(&stream, "hello");
    f.write(
        "content/modules/01-seul.md",
        &page("title: Seul\nduration: 10 min", "Un autre texte."),
    );
    next_event(&stream, "reload");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.stdout().contains("Rebuilt") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let printed = server.stdout();
    assert!(
        printed.contains("(1 page rendered, the others unchanged)"),
        "{printed}"
    );
    assert!(!printed.contains("1 pages"), "{printed}");
}

/// A project where one client is hardly its own (a uniqueness warning) and
/// a module has no duration (a second warning).
fn with_a_generic_client() -> Fixture {
    let f = three_versions();
    std::fs::remove_file(f.path("clients/cabinet-belcourt/content/exercises/bilan.md"))
        .expect("remove");
    f.write(
        "atelier.yaml",
        &format!("{CONFIG}uniqueness: {{ min: 0.5 }}\n"),
    );
    f.write(
        "content/modules/02-suite.md",
        &page(
            "title: Suite",
            "Une longue suite de mots tout à fait ordinaires, la même pour tous les clients sans exception aucune.",
        ),
    );
    f.write(
        "clients/maison-lemoine/content/modules/02-suite.md",
        &page(
            "title: Suite",
            "Le coffret Beffroi se glisse sous le sapin de Claire chaque hiver depuis dix ans, et elle le dit.",
        ),
    );
    f
}

const GENERIC: &str = "Cabinet Belcourt: only ";

#[test]
fn check_with_errors_still_counts_warnings_and_gives_the_uniqueness_report() {
    let f = with_a_generic_client();
    let clean = f.run(&["check"]);
    clean
        .expect(0)
        .says("warning: Cabinet Belcourt: only ")
        .says("of this version is its own (minimum 50.0 %)")
        .says(": 2 warnings in 2 files");
    assert!(!output(&clean).contains("Belcourt's"), "{}", output(&clean));

    // A broken link is an error in `check`, and every version still renders.
    f.write(
        "content/modules/01-accueil.md",
        &page(
            "title: Accueil\nduration: 30 min\nexercises: [lettre]",
            "Pour {{ client.name }} : pensez à {{ client.vars.persona }}. Voir [la suite](03-absente.md).",
        ),
    );
    let run = f.run(&["check"]);
    run.expect(1)
        .says(GENERIC)
        .says("Uniqueness of each client's version")
        .says("cabinet-belcourt: ")
        .says("maison-lemoine: ")
        .says(": 1 error, 2 warnings in 3 files");
    assert!(!output(&run).contains("(s)"), "{}", output(&run));
}

#[test]
fn check_strict_keeps_the_uniqueness_report_and_makes_its_warning_an_error() {
    let f = with_a_generic_client();
    let run = f.run(&["check", "--strict"]);
    run.expect(1)
        .says(&format!("error: {GENERIC}"))
        .says("Uniqueness of each client's version")
        .says("cabinet-belcourt: ")
        .says(": 2 errors in 2 files");
}

#[test]
fn check_one_client_reports_its_uniqueness_figure() {
    let f = with_a_generic_client();
    let run = f.run(&["check", "--client", "maison-lemoine"]);
    run.expect(0)
        .says("Uniqueness of each client's version")
        .says("maison-lemoine: ")
        .says("% unique")
        .says("Checked ");
    assert!(!run.stdout.contains("cabinet-belcourt"), "{}", run.stdout);
    // The base version, only compared with, is not counted as checked.
    run.says(" in 1 version in ");

    let generic = f.run(&["check", "--client", "cabinet-belcourt"]);
    generic.expect(0).says("cabinet-belcourt: ").says(GENERIC);
    f.run(&["check", "--client", "cabinet-belcourt", "--strict"])
        .expect(1)
        .says(&format!("error: {GENERIC}"))
        .says("cabinet-belcourt: ");
}

#[test]
fn counts_are_grammatical_and_client_names_take_no_possessive() {
    let f = Fixture::new(&[(
        "content/modules/01-accueil.md",
        &page(
            "title: Accueil\nduration: 30 min",
            "Bonjour {{ client.name }}. Une longue suite de mots tout à fait ordinaires, la même pour tous les clients.",
        ),
    )]);
    f.write(
        "atelier.yaml",
        &format!("{CONFIG}uniqueness: {{ min: 0.9 }}\n"),
    );
    f.write("clients/cafe/client.yaml", "name: Café Zéphyr & Fils\n");
    f.write("clients/autre/client.yaml", "name: Autre\n");
    f.write(
        "clients/autre/content/modules/01-accueil.md",
        &page(
            "title: Accueil\nduration: 30 min",
            "Bonjour {{ client.name }}. Ici tout est écrit pour nous, et rien ne ressemble à la version de base.",
        ),
    );
    let build = f.build();
    build
        .says("cafe: ")
        .says(", 1 variable;")
        .says("warning: Café Zéphyr & Fils: only ")
        .says("(1 warning)");
    let check = f.run(&["check"]);
    check.expect(0).says(", 1 variable;");
    let text = format!("{}{}", output(&build), output(&check));
    for wrong in ["1 variables", "(s)", "Fils's", "1 pages", "1 warnings"] {
        assert!(!text.contains(wrong), "{wrong:?} in:\n{text}");
    }

    let one = Fixture::new(&[("content/_index.md", &page("title: Accueil", "Bonjour."))]);
    one.write("atelier.yaml", CONFIG);
    one.run(&["check"])
        .expect(0)
        .says("in 1 version in ")
        .says("no problems found");
}

#[test]
fn init_counts_one_file_in_the_singular() {
    let f = Fixture::empty();
    f.run(&["init", "a"]).expect(0);
    // Every starter file already there but the configuration.
    for entry in walkdir::WalkDir::new(f.path("a"))
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = entry.path().strip_prefix(f.path("a")).expect("inside");
        if entry.file_type().is_file() && rel != std::path::Path::new("atelier.yaml") {
            f.write_bytes(
                &format!("b/{}", rel.display()),
                &std::fs::read(entry.path()).expect("read"),
            );
        }
    }
    let run = f.run(&["init", "b"]);
    run.expect(0)
        .says("Created a masterclass in b (1 file):")
        .says("untouched (not overwritten)");
    assert!(!run.stdout.contains("1 files"), "{}", run.stdout);
}

#[test]
fn check_points_out_the_starter_placeholders_until_they_are_replaced() {
    let f = Fixture::empty();
    f.run(&["init"]).expect(0);
    let run = f.run(&["check"]);
    run.expect(0)
        .says("atelier.yaml:5")
        .says("`author` is still the starter project's placeholder `Votre nom`")
        .says("replace it with your name")
        .says("atelier.yaml:7")
        .says("`base_url` is still a placeholder")
        .says("replace it with the address where this version will be published")
        .says(": 2 warnings in 1 file");
    f.run(&["check", "--strict"]).expect(1);

    let config = f.read("atelier.yaml");
    let config = config
        .replace("\"Votre nom\"", "\"Anne Morel\"")
        .replace("formations.example.org", "formations.morel-conseil.fr");
    f.write("atelier.yaml", &config);
    f.run(&["check", "--strict"])
        .expect(0)
        .says("no problems found");

    // A client published at an example address is pointed out too.
    f.write(
        "clients/librairie-les-passantes/client.yaml",
        "name: Librairie Les Passantes\nbase_url: https://www.example.com/passantes/\n",
    );
    f.run(&["check"])
        .expect(0)
        .says("clients/librairie-les-passantes/client.yaml:2")
        .says("`https://www.example.com/passantes/` is an example address");
}
