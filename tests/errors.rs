//! Bad input: every content error names the file (relative to the project
//! root) and the line, exits 1, never panics, and leaves the previous output
//! byte for byte intact.

mod common;

use common::{Fixture, page};

/// Builds a good project, breaks one file, and checks the failed build.
fn assert_failed_build_keeps_output(file: &str, bad: &[u8], expected: &[&str]) {
    let f = Fixture::new(&[
        ("content/modules/01-a.md", &page("title: A", "Bonjour.")),
        ("content/modules/02-b.md", &page("title: B", "Au revoir.")),
    ]);
    f.build();
    let before = f.snapshot("public");
    f.write_bytes(file, bad);
    f.expect_failed_build(&before, expected);
}

#[test]
fn malformed_yaml() {
    assert_failed_build_keeps_output(
        "content/modules/02-b.md",
        b"---\ntitle: B\nsummary: [unclosed\n---\nx",
        &["content/modules/02-b.md:", "error"],
    );
}

#[test]
fn unknown_front_matter_key() {
    assert_failed_build_keeps_output(
        "content/modules/02-b.md",
        "---\ntitle: B\ndurée: 45 min\n---\nx".as_bytes(),
        &[
            "content/modules/02-b.md:3",
            "unknown key `durée`",
            "duration",
        ],
    );
}

#[test]
fn missing_title() {
    assert_failed_build_keeps_output(
        "content/modules/02-b.md",
        b"---\nsummary: sans titre\n---\nx",
        &["content/modules/02-b.md:1", "missing `title`"],
    );
}

#[test]
fn front_matter_never_closed() {
    assert_failed_build_keeps_output(
        "content/modules/02-b.md",
        b"---\ntitle: B\n\nLe corps commence ici.\n",
        &["content/modules/02-b.md:1", "never closed"],
    );
}

#[test]
fn non_utf8_file() {
    assert_failed_build_keeps_output(
        "content/modules/02-b.md",
        b"---\ntitle: B\n---\nCaf\xe9 cr\xe8me\n",
        &["content/modules/02-b.md:4:4", "UTF-8"],
    );
}

#[test]
fn bad_duration_and_intensity() {
    assert_failed_build_keeps_output(
        "content/modules/02-b.md",
        b"---\ntitle: B\nduration: une heure\n---\nx",
        &["content/modules/02-b.md:3", "invalid duration `une heure`"],
    );
    assert_failed_build_keeps_output(
        "content/modules/02-b.md",
        b"---\ntitle: B\nintensity: 9\n---\nx",
        &["content/modules/02-b.md:3", "1 to 5"],
    );
}

#[test]
fn duplicate_url() {
    assert_failed_build_keeps_output(
        "content/modules/02-B.md",
        b"---\ntitle: B bis\n---\nx",
        &[
            "content/modules/02-B.md",
            "content/modules/02-b.md",
            "modules/b/",
        ],
    );
}

#[test]
fn unknown_config_key_points_at_its_line() {
    let f = Fixture::new(&[]);
    f.write(
        "atelier.yaml",
        "title: Test\nlanguage: fr\nshedule:\n  start: \"09:30\"\n",
    );
    f.run(&["build"])
        .expect(1)
        .says("atelier.yaml:3")
        .says("unknown key `shedule`");
}

#[test]
fn several_errors_are_reported_together() {
    let f = Fixture::new(&[
        (
            "content/modules/01-a.md",
            "---\ntitle: A\ncolor: red\n---\nx",
        ),
        ("content/modules/02-b.md", "---\nsummary: x\n---\nx"),
        (
            "content/exercises/c.md",
            "---\ntitle: C\nkind: quiz\n---\nx",
        ),
    ]);
    let run = f.run(&["build"]);
    run.expect(1)
        .says("content/modules/01-a.md:3")
        .says("content/modules/02-b.md:1")
        .says("content/exercises/c.md:3")
        .says("3 errors");
    assert!(!f.exists("public"), "nothing written on failure");
}

#[test]
fn unknown_exercise_in_module_list() {
    let f = Fixture::new(&[(
        "content/modules/01-a.md",
        "---\ntitle: A\nexercises: [lettre]\n---\nx",
    )]);
    f.run(&["build"])
        .expect(1)
        .says("content/modules/01-a.md:3")
        .says("unknown exercise `lettre`");
}

#[test]
fn step_without_module_index() {
    let f = Fixture::new(&[(
        "content/modules/03-recit/01-avant.md",
        &page("title: Avant", "x"),
    )]);
    f.run(&["build"])
        .expect(1)
        .says("content/modules/03-recit/01-avant.md")
        .says("_index.md");
}

#[test]
fn break_after_unknown_module() {
    let f = Fixture::new(&[("content/modules/01-a.md", &page("title: A", "x"))]);
    f.write(
        "atelier.yaml",
        "title: T\nschedule:\n  start: \"09:30\"\n  breaks:\n    - { after: nulle-part, duration: 15 min }\n",
    );
    f.run(&["build"])
        .expect(1)
        .says("atelier.yaml:5")
        .says("nulle-part")
        .says("a");
}

#[test]
fn unknown_template_name() {
    let f = Fixture::new(&[(
        "content/apropos.md",
        &page("title: A\ntemplate: special", "x"),
    )]);
    f.run(&["build"])
        .expect(1)
        .says("content/apropos.md:3")
        .says("special.html");
}

#[test]
fn symlink_pointing_outside_the_project_is_refused() {
    let outside = tempfile::tempdir().expect("tmp");
    std::fs::write(
        outside.path().join("secret.md"),
        "---\ntitle: Secret\n---\nconfidentiel",
    )
    .expect("write");
    let f = Fixture::new(&[("content/modules/01-a.md", &page("title: A", "x"))]);
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        outside.path().join("secret.md"),
        f.path("content/secret.md"),
    )
    .expect("symlink");
    #[cfg(unix)]
    f.run(&["build"])
        .expect(1)
        .says("content/secret.md")
        .says("outside the project");
}
