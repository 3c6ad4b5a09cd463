//! Real-browser tests, driving Chromium with node + playwright-core:
//!
//! - the exercise widgets: builds the example masterclass with the real
//!   binary, then runs `tests/browser/exercises.mjs` over it;
//! - the live preview: runs `atelier serve` on a fixture project, then
//!   `tests/browser/livereload.mjs` edits its files and watches open tabs;
//! - present mode: `tests/browser/present.mjs` drives the deck and the
//!   presenter console (HTTP and file://, keys, notes, countdown, axe);
//! - following the presenter: `tests/browser/follow.mjs` moves participant
//!   tabs from the console over `atelier serve`, and refuses forged moves;
//! - accessibility: `tests/browser/a11y.mjs` runs axe-core over every page
//!   kind of the example masterclass, participants' and facilitator's.
//! - media: `tests/browser/media.mjs` seeks in a `<video>` served by
//!   `atelier serve` (a WAV sound made by the test: no encoder needed) in
//!   three versions, and checks Chromium got 206 answers to its `Range`s.
//!
//! Needs `/usr/bin/chromium`, `node`, and `npm ci` run in `tests/browser`.
//! `build.rs` looks for them: without them the tests are ignored (cargo shows
//! `ignored`, never `ok`), unless `CI` is set: then they run and fail.
//! Screenshots land in `target/screenshots/`.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use common::Server;
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";
const INSTALL_HINT: &str = "install chromium (apt-get install chromium, for /usr/bin/chromium) \
     and node, then run `npm ci` in tests/browser";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What the browser run needs and is not there.
fn missing_prerequisites(browser_dir: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        missing.push(format!("{CHROMIUM} not found"));
    }
    for package in ["playwright-core", "axe-core"] {
        if !browser_dir.join("node_modules").join(package).is_dir() {
            missing.push(format!("tests/browser/node_modules/{package} not found"));
        }
    }
    let node_runs = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !node_runs {
        missing.push("`node` is not on PATH".to_string());
    }
    missing
}

/// Fails the test when the prerequisites are missing: it only runs when
/// `build.rs` found them, or in CI, where they must be there.
fn require_tooling(browser_dir: &Path) {
    let missing = missing_prerequisites(browser_dir);
    assert!(
        missing.is_empty(),
        "the browser test cannot run ({}): {INSTALL_HINT}",
        missing.join("; ")
    );
}

/// Runs `node tests/browser/SCRIPT ARGS…` from the crate root, shows its
/// output, and asserts it succeeded and ended with `N passed, 0 failed`.
fn run_checks(script: &str, args: &[&OsStr]) {
    let root = manifest_dir();
    let run = Command::new("node")
        .arg(root.join("tests/browser").join(script))
        .args(args)
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("run node tests/browser/{script}: {e}"));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    println!("{stdout}");
    if !stderr.trim().is_empty() {
        eprintln!("{stderr}");
    }
    assert!(
        run.status.success(),
        "browser checks failed ({})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        run.status
    );
    assert!(
        stdout.trim_end().ends_with(" passed, 0 failed"),
        "unexpected end of the browser checks' output:\n{stdout}"
    );
}

/// Builds the example project (content/ of this crate) with the real binary
/// into `out`, with `extra` arguments.
fn build_example(out: &Path, extra: &[&str]) {
    let build = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .arg("--root")
        .arg(manifest_dir())
        .arg("build")
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run atelier");
    assert!(
        build.status.success(),
        "atelier build failed\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );
}

#[test]
#[cfg_attr(
    not(browser_tooling),
    ignore = "needs chromium, node and npm ci in tests/browser"
)]
fn every_page_kind_has_no_serious_accessibility_violation() {
    require_tooling(&manifest_dir().join("tests/browser"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let site = tmp.path().join("participants");
    let facilitator = tmp.path().join("facilitator");
    build_example(&site, &[]);
    build_example(&facilitator, &["--facilitator"]);
    run_checks("a11y.mjs", &[site.as_os_str(), facilitator.as_os_str()]);
}

#[test]
#[cfg_attr(
    not(browser_tooling),
    ignore = "needs chromium, node and npm ci in tests/browser"
)]
fn exercises_work_in_a_real_browser() {
    let root = manifest_dir();
    let browser_dir = root.join("tests/browser");

    require_tooling(&browser_dir);

    // Build the example project (content/ of this crate) with the real binary.
    let tmp = tempfile::tempdir().expect("temp dir");
    let site = tmp.path().join("site");
    let build = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .arg("--root")
        .arg(&root)
        .arg("build")
        .arg("--out")
        .arg(&site)
        .output()
        .expect("run atelier");
    assert!(
        build.status.success(),
        "atelier build failed\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );

    // A page that shows one exercise twice, built beside it (served from
    // `twice/`): each copy must have its own ids and show the same answers.
    let twice = tmp.path().join("twice");
    let files = [
        ("atelier.yaml", "title: Deux fois\nlanguage: fr\n"),
        (
            "content/_index.md",
            "---\ntitle: Accueil\n---\nBienvenue.\n",
        ),
        (
            "content/modules/01-ouverture.md",
            "---\ntitle: Ouverture\nduration: 30 min\n---\n\
             ::: exercise note\n:::\n\nPlus loin :\n\n::: exercise note\n:::\n",
        ),
        (
            "content/exercises/note.md",
            "---\ntitle: Note\nkind: worksheet\nfields:\n  - { id: idee, label: Votre idée }\n\
             \x20 - { id: niveau, label: Niveau, type: scale }\n---\nNotez une idée.\n",
        ),
    ];
    for (rel, text) in files {
        let path = twice.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
        std::fs::write(&path, text).expect("write fixture file");
    }
    let build = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .arg("--root")
        .arg(&twice)
        .arg("build")
        .arg("--out")
        .arg(site.join("twice"))
        .output()
        .expect("run atelier");
    assert!(
        build.status.success(),
        "atelier build of the page with two copies failed\n{}",
        String::from_utf8_lossy(&build.stderr)
    );

    let screenshots = root.join("target/screenshots");
    std::fs::create_dir_all(&screenshots).expect("create target/screenshots");

    run_checks(
        "exercises.mjs",
        &[site.as_os_str(), screenshots.as_os_str()],
    );
    println!("screenshots in {}", screenshots.display());
}

#[test]
#[cfg_attr(
    not(browser_tooling),
    ignore = "needs chromium, node and npm ci in tests/browser"
)]
fn live_preview_updates_open_tabs() {
    let root = manifest_dir();
    require_tooling(&root.join("tests/browser"));

    // The sentence is the one livereload.mjs expects to see first; the module
    // embeds a one-field worksheet so the page has a text input.
    let tmp = tempfile::tempdir().expect("temp dir");
    let project = tmp.path();
    let files = [
        (
            "atelier.yaml",
            "title: Aperçu\nlanguage: fr\nstyles: [extra.css]\n",
        ),
        (
            "content/_index.md",
            "---\ntitle: Accueil\n---\nBienvenue.\n",
        ),
        (
            "content/modules/01-ouverture.md",
            "---\ntitle: Ouverture\nduration: 30 min\n---\n\
             Le premier jet de l’ouverture parle des attentes.\n\n\
             ::: exercise note\n:::\n",
        ),
        (
            "content/exercises/note.md",
            "---\ntitle: Note\nkind: worksheet\nfields:\n  - { id: idee, label: Votre idée }\n---\n\
             Notez une idée.\n",
        ),
        (
            "static/extra.css",
            "body { outline: 0px solid rgb(1, 2, 3); }\n",
        ),
        ("clients/acme/client.yaml", "name: Acme\n"),
    ];
    for (rel, text) in files {
        let path = project.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
        std::fs::write(&path, text).expect("write fixture file");
    }

    let server = Server::start(project);
    let origin = format!("http://127.0.0.1:{}", server.port);
    let screenshots = root.join("target/screenshots");
    std::fs::create_dir_all(&screenshots).expect("create target/screenshots");

    run_checks(
        "livereload.mjs",
        &[
            OsStr::new(&origin),
            project.as_os_str(),
            screenshots.as_os_str(),
        ],
    );
    println!("overlay screenshot in {}", screenshots.display());
    drop(server);
}

#[test]
#[cfg_attr(
    not(browser_tooling),
    ignore = "needs chromium, node and npm ci in tests/browser"
)]
fn present_mode_works_in_a_real_browser() {
    let root = manifest_dir();
    require_tooling(&root.join("tests/browser"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let site = tmp.path().join("participants");
    let facilitator = tmp.path().join("facilitator");
    build_example(&site, &[]);
    build_example(&facilitator, &["--facilitator"]);
    let shots = root.join("target/screenshots/present");
    run_checks(
        "present.mjs",
        &[site.as_os_str(), facilitator.as_os_str(), shots.as_os_str()],
    );
}

/// A minute of 16-bit mono sound at 44.1 kHz (5 MB), as a WAV file: a
/// tone whose pitch rises, so every second differs.
fn wav_minute() -> Vec<u8> {
    const RATE: u32 = 44_100;
    let samples = RATE * 60;
    let data_len = samples * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for n in 0..samples {
        let t = f64::from(n) / f64::from(RATE);
        let pitch = 220.0 + 4.0 * t;
        let sample = (t * pitch * std::f64::consts::TAU).sin() * 8_000.0;
        wav.extend_from_slice(&(sample as i16).to_le_bytes());
    }
    wav
}

#[test]
#[cfg_attr(
    not(browser_tooling),
    ignore = "needs chromium, node and npm ci in tests/browser"
)]
fn participants_follow_the_presenter_under_serve() {
    let root = manifest_dir();
    require_tooling(&root.join("tests/browser"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let project = tmp.path().join("project");
    let section = |n: usize| format!("## Partie {n}\n\nLe texte de la partie {n}.\n\n");
    let module: String = (1..=5).map(section).collect();
    let files = [
        ("atelier.yaml", "title: Suivre\nlanguage: fr\n".to_string()),
        (
            "content/_index.md",
            "---\ntitle: Accueil\n---\nBienvenue.\n".to_string(),
        ),
        (
            "content/modules/01-ouverture.md",
            format!(
                "---\ntitle: Ouverture\nduration: 30 min\n---\n{module}::: facilitator\nNOTE-ANIMATEUR\n:::\n"
            ),
        ),
        ("clients/acme/client.yaml", "name: Acme\n".to_string()),
    ];
    for (rel, text) in files {
        let path = project.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
        std::fs::write(&path, text).expect("write fixture file");
    }
    let built = tmp.path().join("built");
    let build = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .arg("--root")
        .arg(&project)
        .arg("build")
        .arg("--out")
        .arg(&built)
        .output()
        .expect("run atelier");
    assert!(
        build.status.success(),
        "atelier build failed\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let server = Server::start(&project);
    let origin = format!("http://127.0.0.1:{}", server.port);
    let shots = root.join("target/screenshots/follow");
    std::fs::create_dir_all(&shots).expect("create target/screenshots/follow");
    run_checks(
        "follow.mjs",
        &[OsStr::new(&origin), built.as_os_str(), shots.as_os_str()],
    );
    drop(server);
}

#[test]
#[cfg_attr(
    not(browser_tooling),
    ignore = "needs chromium, node and npm ci in tests/browser"
)]
fn a_video_in_the_preview_can_seek() {
    let root = manifest_dir();
    require_tooling(&root.join("tests/browser"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let project = tmp.path();
    let files = [
        ("atelier.yaml", "title: Médias\nlanguage: fr\n"),
        (
            "content/_index.md",
            "---\ntitle: Accueil\n---\nBienvenue.\n",
        ),
        (
            "static/lecteur.html",
            "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Lecteur</title></head>\
             <body><video src=\"media/son.wav\" preload=\"metadata\" controls></video></body></html>\n",
        ),
        ("clients/acme/client.yaml", "name: Acme\n"),
    ];
    for (rel, text) in files {
        let path = project.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
        std::fs::write(&path, text).expect("write fixture file");
    }
    std::fs::create_dir_all(project.join("static/media")).expect("create folder");
    std::fs::write(project.join("static/media/son.wav"), wav_minute()).expect("write the sound");
    let server = Server::start(project);
    let origin = format!("http://127.0.0.1:{}", server.port);
    run_checks("media.mjs", &[OsStr::new(&origin)]);
    drop(server);
}
