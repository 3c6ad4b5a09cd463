//! The output folder under stress: overlapping builds, builds killed halfway,
//! and `--out` pointing at an empty folder or a dangling symbolic link.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Fixture, page};

/// A project with enough pages that a debug build spends a while writing
/// them, and one client, so `--client` can be tried too.
fn big_project(pages: usize) -> Fixture {
    let f = Fixture::new(&[(
        "clients/acme/client.yaml",
        "name: Acme\nsector: industrie\n",
    )]);
    for i in 0..pages {
        f.write(
            &format!("content/modules/p{i:04}.md"),
            &page(&format!("title: Page {i}"), &format!("Texte {i}.")),
        );
    }
    f
}

/// Starts `atelier ARGS` in the project, its stderr collected as it comes.
fn spawn(f: &Fixture, args: &[&str]) -> (Child, Arc<Mutex<String>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .args(args)
        .current_dir(f.root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start atelier");
    let mut pipe = child.stderr.take().expect("stderr");
    let text = Arc::new(Mutex::new(String::new()));
    let collected = Arc::clone(&text);
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buffer) {
            if n == 0 {
                break;
            }
            let chunk = String::from_utf8_lossy(&buffer[..n]).into_owned();
            collected
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push_str(&chunk);
        }
    });
    (child, text)
}

fn read(text: &Arc<Mutex<String>>) -> String {
    text.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Waits until `done` holds, failing with `what` after a minute.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Names in the project root that a build leaves beside `public/`
/// (everything hidden that starts with `.public.`, but the lock file).
fn leftovers(f: &Fixture) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(f.root())
        .expect("read root")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".public.") && n != ".public.atelier-lock")
        .collect();
    names.sort();
    names
}

fn assert_complete(f: &Fixture, out: &str) {
    for file in [
        "index.html",
        "modules",
        ".atelier-output",
        "print/index.html",
    ] {
        assert!(
            f.exists(&format!("{out}/{file}")),
            "{out}/{file} is missing"
        );
    }
}

/// Sends `signal` (STOP, CONT) to a process.
fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} failed");
}

/// The first build is frozen (SIGSTOP) while it writes its staging folder,
/// which makes the overlap certain however fast or loaded the machine is;
/// the second build is started then, and the first resumed once the second
/// has either finished or said that it waits.
fn overlapping_builds(second: &[&str]) {
    let f = big_project(1000);
    f.build();
    let (mut first, first_said) = spawn(&f, &["build"]);
    let staging = f.path(&format!(".public.atelier-staging-{}", first.id()));
    wait_until("the first build's staging folder", || {
        staging.join(".atelier-output").exists()
    });
    signal(&first, "STOP");
    assert!(
        staging.exists(),
        "the first build finished before it could be frozen; make the project bigger"
    );

    let (mut second, said) = spawn(&f, second);
    wait_until("the second build to wait or finish", || {
        read(&said).contains("waiting for another build")
            || second.try_wait().ok().flatten().is_some()
    });
    signal(&first, "CONT");
    let first_status = first.wait().expect("first build");
    let second_status = second.wait().expect("second build");
    let said = read(&said);

    assert!(
        first_status.success(),
        "the first build failed:\n{}",
        read(&first_said)
    );
    assert!(second_status.success(), "the second build failed:\n{said}");
    assert_complete(&f, "public");
    assert_eq!(
        leftovers(&f),
        Vec::<String>::new(),
        "folders left beside public/"
    );
    assert!(
        said.contains("note: waiting for another build of public/ to finish…"),
        "the second build did not say it waits:\n{said}"
    );
    let run = f.build();
    assert!(!run.stderr.contains("waiting"), "{}", run.stderr);
    assert_complete(&f, "public");
}

#[cfg(unix)]
#[test]
fn a_second_full_build_waits_for_the_first_and_the_output_stays_complete() {
    overlapping_builds(&["build"]);
}

#[cfg(unix)]
#[test]
fn a_client_build_waits_for_a_full_build_of_the_same_output() {
    overlapping_builds(&["build", "--client", "acme"]);
}

#[test]
fn the_next_build_cleans_what_a_killed_build_left_and_nothing_else() {
    let f = big_project(1000);
    let (mut killed, _) = spawn(&f, &["build"]);
    let staging = format!(".public.atelier-staging-{}", killed.id());
    wait_until("the build's staging folder", || {
        f.path(&staging).join("index.html").exists()
    });
    killed.kill().expect("kill -9");
    killed.wait().expect("reap");
    assert!(f.exists(&staging), "the killed build left nothing to clean");

    // What a build killed between its two renames leaves: the previous
    // site moved aside; and one killed before it wrote its marker.
    f.write(".public.atelier-old-424242/.atelier-output", "atelier");
    f.write(".public.atelier-old-424242/index.html", "old site");
    std::fs::create_dir(f.path(".public.atelier-staging-31337")).expect("mkdir");
    // The user's own things, named alike: never deleted.
    f.write(".public.atelier-old-notes/.atelier-output", "mine");
    f.write(".public.atelier-staging-77/notes.txt", "précieux");
    f.write(".public.atelier-old-99", "a file, not a folder");

    let run = f.build();
    assert!(!run.stderr.contains("waiting"), "{}", run.stderr);
    assert_complete(&f, "public");
    assert_eq!(
        leftovers(&f),
        [
            ".public.atelier-old-99",
            ".public.atelier-old-notes",
            ".public.atelier-staging-77"
        ]
    );
    assert_eq!(f.read(".public.atelier-staging-77/notes.txt"), "précieux");
}

#[test]
fn an_empty_existing_out_folder_is_filled_and_nothing_is_left_beside_it() {
    let f = Fixture::new(&[("content/modules/01-a.md", &page("title: A", "x"))]);
    std::fs::create_dir(f.path("site")).expect("mkdir");
    f.run(&["build", "--out", "site"]).expect(0);
    assert_complete(&f, "site");
    let beside: Vec<String> = std::fs::read_dir(f.root())
        .expect("read root")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".site.") && n != ".site.atelier-lock")
        .collect();
    assert_eq!(beside, Vec::<String>::new(), "left beside site/");
}

#[cfg(unix)]
#[test]
fn an_out_through_a_dangling_symbolic_link_is_refused_and_nothing_is_written() {
    let f = Fixture::new(&[("content/modules/01-a.md", &page("title: A", "x"))]);
    std::os::unix::fs::symlink("nowhere", f.path("site")).expect("symlink");
    for out in ["site", "site/deeper"] {
        f.run(&["build", "--out", out])
            .expect(2)
            .says("site is a symbolic link to nowhere, which does not exist");
    }
    assert_eq!(
        std::fs::read_link(f.path("site")).expect("the link is kept"),
        Path::new("nowhere")
    );
    let mut names: Vec<String> = std::fs::read_dir(f.root())
        .expect("read root")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["atelier.yaml", "content", "site"],
        "something was written"
    );
}
