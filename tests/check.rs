//! `atelier check`: what it finds beyond a build, and that it writes nothing.

mod common;

use common::{Fixture, page};

fn project() -> Fixture {
    let f = Fixture::new(&[
        (
            "content/modules/01-a.md",
            &page(
                "title: A\nduration: 30 min\nexercises: [lettre]",
                "Pour {{ client.name }}.",
            ),
        ),
        (
            "content/exercises/lettre.md",
            &page("title: Lettre\nkind: worksheet", "Écrivez."),
        ),
    ]);
    f.write(
        "clients/lemoine/client.yaml",
        "name: Maison Lemoine\nvars: { persona: \"Claire, fidèle depuis dix ans\" }\n",
    );
    f.write(
        "clients/lemoine/content/modules/01-a.md",
        &page(
            "title: A\nduration: 30 min\nexercises: [lettre]",
            "Le coffret Beffroi se glisse sous le sapin de Claire chaque hiver depuis dix ans.",
        ),
    );
    f.write("clients/belcourt/client.yaml", "name: Cabinet Belcourt\n");
    // A real address: the fixtures' example.org is a placeholder to `check`.
    f.write(
        "atelier.yaml",
        &common::MINIMAL_CONFIG.replace("https://example.org/", "https://formations.atelier.test/"),
    );
    f
}

#[test]
fn a_clean_project_checks_without_writing_anything() {
    let f = project();
    f.run(&["check"]).expect(0).says("no problems found");
    assert!(!f.exists("public"));
}

#[test]
fn modules_without_duration_and_unused_exercises_are_warnings() {
    let f = project();
    f.write("content/modules/02-b.md", &page("title: B", "Sans durée."));
    f.write(
        "content/exercises/orpheline.md",
        &page(
            "title: Orpheline\nkind: reflection",
            "Personne ne m'utilise.",
        ),
    );
    let run = f.run(&["check"]);
    run.expect(0)
        .says("content/modules/02-b.md:1")
        .says("has no duration")
        .says("content/exercises/orpheline.md:1")
        .says("used by no module");
    f.run(&["check", "--strict"]).expect(1);
}

#[test]
fn confidentiality_no_version_contains_another_clients_words() {
    let f = project();
    f.write(
        "content/modules/01-a.md",
        &page(
            "title: A\nduration: 30 min\nexercises: [lettre]",
            "Comme chez Maison Lemoine.",
        ),
    );
    f.run(&["check"])
        .expect(1)
        .says("content/modules/01-a.md")
        .says("this page contains `Maison Lemoine`, which belongs to client lemoine")
        .says("= in versions: base, belcourt");

    let f = project();
    f.write(
        "clients/belcourt/content/modules/01-a.md",
        &page(
            "title: A\nduration: 30 min\nexercises: [lettre]",
            "Le coffret Beffroi se glisse sous le sapin de Claire chaque hiver depuis dix ans.",
        ),
    );
    f.run(&["check"])
        .expect(1)
        .says("clients/belcourt/content/modules/01-a.md")
        .says("text from clients/lemoine/content/")
        .says("= in version: belcourt");
}
