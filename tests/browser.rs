//! Real-browser test of the exercise widgets: builds the example masterclass
//! with the real binary, then drives Chromium over it with
//! `tests/browser/exercises.mjs` (node + playwright-core).
//!
//! Needs `/usr/bin/chromium`, `node`, and `npm ci` run in `tests/browser`.
//! Without them the test is skipped, unless `CI` is set: then it fails.
//! Screenshots land in `target/screenshots/`.

use std::path::{Path, PathBuf};
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
    if !browser_dir.join("node_modules/playwright-core").is_dir() {
        missing.push("tests/browser/node_modules/playwright-core not found".to_string());
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

#[test]
fn exercises_work_in_a_real_browser() {
    let root = manifest_dir();
    let browser_dir = root.join("tests/browser");

    let missing = missing_prerequisites(&browser_dir);
    if !missing.is_empty() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "the browser test cannot run ({}): {INSTALL_HINT}",
                missing.join("; ")
            );
        }
        eprintln!(
            "skipped: install chromium and run npm ci in tests/browser ({})",
            missing.join("; ")
        );
        return;
    }

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

    let screenshots = root.join("target/screenshots");
    std::fs::create_dir_all(&screenshots).expect("create target/screenshots");

    let run = Command::new("node")
        .arg(browser_dir.join("exercises.mjs"))
        .arg(&site)
        .arg(&screenshots)
        .current_dir(&root)
        .output()
        .expect("run node tests/browser/exercises.mjs");
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
    println!("screenshots in {}", screenshots.display());
}
