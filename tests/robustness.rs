//! Hostile and extreme input through the real binary: each class of content
//! error exits 1 naming the file and line, never panics, and leaves the
//! previous `public/` byte for byte intact; huge and deeply nested input
//! builds or fails cleanly, without a crash or a stack overflow.
//!
//! (`tests/errors.rs` covers front matter, YAML, UTF-8 and config errors;
//! this file covers directives, variables, client selections, overlay
//! symlinks and size limits.)

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Fixture, Run, page};

/// A small good project with a client, built once so `public/` exists.
fn built_project() -> Fixture {
    let f = Fixture::new(&[
        (
            "content/modules/01-a.md",
            &page("title: A", "Bonjour {{ client.name }}."),
        ),
        ("content/modules/02-b.md", &page("title: B", "Au revoir.")),
        (
            "content/exercises/lettre.md",
            &page("title: Lettre\nkind: worksheet", "Écrivez."),
        ),
        (
            "clients/maison-lemoine/client.yaml",
            "name: Maison Lemoine\nmodules: [b, a]\n",
        ),
        (
            "clients/maison-lemoine/content/coffret.md",
            &page("title: Coffret", "Le coffret de {{ client.name }}."),
        ),
    ]);
    f.build();
    f
}

/// Breaks `file` of a freshly built project with `text`, then checks the
/// failed build.
fn assert_breaking(file: &str, text: &str, expected: &[&str]) {
    let f = built_project();
    let before = f.snapshot("public");
    f.write(file, text);
    f.expect_failed_build(&before, expected);
}

#[test]
fn unknown_directive() {
    assert_breaking(
        "content/modules/02-b.md",
        "---\ntitle: B\n---\n\n::: storie\nIl était une fois.\n:::\n",
        &[
            "content/modules/02-b.md:5:5",
            "unknown directive `storie`",
            "story",
        ],
    );
}

#[test]
fn unclosed_directive() {
    assert_breaking(
        "content/modules/02-b.md",
        "---\ntitle: B\n---\n\nAvant.\n\n::: story\nIl était une fois.\n",
        &["content/modules/02-b.md:7:1", "never closed", "`:::`"],
    );
}

#[test]
fn unknown_variable() {
    assert_breaking(
        "content/modules/02-b.md",
        "---\ntitle: B\n---\nPremière ligne.\nBonjour {{ client.nom }} !\n",
        &[
            "content/modules/02-b.md:5:9",
            "unknown variable `client.nom`",
            "client.name",
        ],
    );
}

#[test]
fn unknown_variable_in_a_client_overlay() {
    assert_breaking(
        "clients/maison-lemoine/content/coffret.md",
        "---\ntitle: Coffret\n---\n\nPour {{ client.vars.persona }}.\n",
        &[
            "clients/maison-lemoine/content/coffret.md:5:6",
            "client.vars.persona",
        ],
    );
}

#[test]
fn unknown_exercise_in_directive() {
    assert_breaking(
        "content/modules/02-b.md",
        "---\ntitle: B\n---\n\n::: exercise lettre-perdue\nConsigne.\n:::\n",
        &[
            "content/modules/02-b.md:5",
            "unknown exercise `lettre-perdue`",
            "lettre",
        ],
    );
}

#[test]
fn unknown_module_in_client_selection() {
    assert_breaking(
        "clients/maison-lemoine/client.yaml",
        "name: Maison Lemoine\nsector: chocolaterie\nmodules: [b, gratitude, a]\n",
        &[
            "clients/maison-lemoine/client.yaml:3",
            "unknown module `gratitude`",
        ],
    );
}

#[cfg(unix)]
#[test]
fn overlay_symlink_pointing_outside_is_refused() {
    let outside = tempfile::tempdir().expect("tmp");
    let secret = "SECRET-HORS-DU-PROJET";
    std::fs::write(
        outside.path().join("secret.md"),
        page("title: Secret", secret),
    )
    .expect("write");
    std::fs::write(outside.path().join("secret.txt"), secret).expect("write");

    let f = built_project();
    let before = f.snapshot("public");
    std::os::unix::fs::symlink(
        outside.path().join("secret.md"),
        f.path("clients/maison-lemoine/content/secret.md"),
    )
    .expect("symlink");
    f.expect_failed_build(
        &before,
        &[
            "clients/maison-lemoine/content/secret.md",
            "outside the project",
        ],
    );

    // A linked folder in the overlay is refused the same way.
    std::fs::remove_file(f.path("clients/maison-lemoine/content/secret.md")).expect("rm");
    std::os::unix::fs::symlink(
        outside.path(),
        f.path("clients/maison-lemoine/content/dehors"),
    )
    .expect("symlink");
    f.expect_failed_build(
        &before,
        &[
            "clients/maison-lemoine/content/dehors",
            "outside the project",
        ],
    );
    std::fs::remove_file(f.path("clients/maison-lemoine/content/dehors")).expect("rm");

    // A static overlay file linking outside is refused and never copied.
    std::fs::create_dir_all(f.path("clients/maison-lemoine/static")).expect("mkdir");
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        f.path("clients/maison-lemoine/static/secret.txt"),
    )
    .expect("symlink");
    let run = f.run(&["build"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("clients/maison-lemoine/static/secret.txt"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("outside the project"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    for (path, bytes) in f.snapshot("public") {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(secret),
            "{} holds the outside file",
            path.display()
        );
    }
}

/// Runs `atelier build` in `f` with a deadline; returns `None` when it was
/// killed by a signal (a crash or a stack overflow).
fn build_within(f: &Fixture, limit: Duration) -> Option<Run> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .arg("build")
        .current_dir(f.root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run atelier");
    // Drain both pipes while waiting: a child writing more than a pipe holds
    // (thousands of errors) would otherwise block forever.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("atelier build took more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let run = Run {
        code: status.code()?,
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(run.code == 0 || run.code == 1, "exit {}", run.code);
    Some(run)
}

/// Writes `body` as module `02-b.md` of a built project and builds it: the
/// build must end by itself with 0 or 1, never by a signal.
fn survives(body: &str) -> Run {
    let f = built_project();
    let before = f.snapshot("public");
    f.write("content/modules/02-b.md", &page("title: B", body));
    let run = build_within(&f, Duration::from_secs(120))
        .unwrap_or_else(|| panic!("atelier was killed by a signal (crash or stack overflow)"));
    if run.code == 1 {
        assert_eq!(before, f.snapshot("public"), "the previous output changed");
    }
    run
}

#[test]
fn fifty_megabyte_markdown_file() {
    let paragraph = "La confiance se mérite : un message écrit pour une personne, \
        pas pour une liste ! Vraiment ? Oui, pour **{{ client.name }}** aussi; \
        voir [l'autre module](01-a.md) et `{{ pas une variable }}`.\n\n";
    let mut body = String::with_capacity(52 * 1024 * 1024);
    let mut section = 0;
    while body.len() < 50 * 1024 * 1024 {
        section += 1;
        body.push_str(&format!("## Partie {section}\n\n"));
        for _ in 0..20 {
            body.push_str(paragraph);
        }
        body.push_str("::: story\nUne histoire vraie.\n:::\n\n");
    }
    let f = built_project();
    f.write("content/modules/02-b.md", &page("title: B", &body));
    let run = build_within(&f, Duration::from_secs(240)).expect("no crash");
    run.expect(0);
    assert!(
        f.path("public/modules/b/index.html")
            .metadata()
            .expect("page")
            .len()
            > 50_000_000
    );

    // The same file with a mistake on its last line fails cleanly, at that line.
    let before = f.snapshot("public");
    body.push_str("Fin pour {{ client.inconnu }}.\n");
    f.write("content/modules/02-b.md", &page("title: B", &body));
    let last_line = body.lines().count() + 3;
    let run = build_within(&f, Duration::from_secs(240)).expect("no crash");
    run.expect(1)
        .says(&format!("content/modules/02-b.md:{last_line}:10"));
    assert_eq!(before, f.snapshot("public"), "the previous output changed");
}

#[test]
fn ten_thousand_level_nested_list() {
    survives(&format!("{}profond\n", "- ".repeat(10_000)));
    survives(&format!("{}profond\n", "1. ".repeat(10_000)));
    let mut indented = String::new();
    for depth in 0..2_000 {
        indented.push_str(&" ".repeat(depth * 2));
        indented.push_str("- niveau\n");
    }
    survives(&indented);
}

#[test]
fn ten_thousand_level_nested_directive() {
    let body = format!(
        "{}Au centre.\n{}",
        "::: story\n".repeat(10_000),
        ":::\n".repeat(10_000)
    );
    let run = survives(&body);
    run.expect(0);
    let mixed = format!(
        "{}Au centre.\n{}",
        "::: tip\n::: only sector=\"x\"\n::: facilitator\n::: exercise lettre\n".repeat(2_500),
        ":::\n".repeat(10_000)
    );
    survives(&mixed).expect(0);
    // Never closed: 10,000 errors, reported without a crash.
    survives(&"::: note\n".repeat(10_000)).expect(1);
}

#[test]
fn other_deep_nesting() {
    survives(&format!("{}citation\n", "> ".repeat(10_000)));
    survives(&format!("{}x{}\n", "*".repeat(10_000), "*".repeat(10_000)));
    survives(&format!(
        "{}x{}\n",
        "[".repeat(10_000),
        "](a)".repeat(10_000)
    ));
    survives(&format!(
        "{}x{}\n",
        "<div>".repeat(10_000),
        "</div>".repeat(10_000)
    ));
    survives(&format!("{}\n", "{{ ".repeat(10_000)));
    survives(&format!("{}\n", "\\{{ client.name }}".repeat(10_000)));
    survives(&format!("{}\n", "« ! ".repeat(10_000)));
}
