//! Embeds the default theme (`themes/atelier/`) into the binary, so a project
//! without a `themes/` folder builds with nothing but the `atelier` executable.
//!
//! Generates `$OUT_DIR/embedded.rs`: a sorted list of
//! `(relative path, bytes)` pairs read with `include_bytes!`; and likewise
//! `$OUT_DIR/embedded_scaffold.rs` with the starter project of `atelier init`
//! (`scaffold/`), so `init` works with nothing but the executable too.
//!
//! Also sets `cfg(browser_tooling)` when the real-browser tests
//! (`tests/browser.rs`) can run, or when `CI` is set (there they must run, and
//! fail loudly if the tooling is missing): without it they are ignored, so a
//! test that did not run is never reported as passed. Likewise
//! `cfg(sshd_tooling)` (OpenSSH's server and `ssh-keygen`) and
//! `cfg(s3_tooling)` (`moto_server`) for the publish tests with real servers
//! (`tests/publish_remote.rs`).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(&path, base, out);
        } else if let Ok(rel) = path.strip_prefix(base) {
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path.clone()));
        }
    }
}

fn embed(dir: &str, const_name: &str, code: &mut String) {
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.join(dir);
    println!("cargo:rerun-if-changed={dir}");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    code.push_str(&format!(
        "pub(super) static {const_name}: &[(&str, &[u8])] = &[\n"
    ));
    for (rel, path) in files {
        code.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    code.push_str("];\n");
}

/// Whether `path` exists, watched so that installing or removing it reruns
/// this script: the path itself when it is there, else `parent` (a folder
/// whose modification time changes when the path appears). A missing path is
/// never watched directly, which would rerun the script on every build.
fn watched(path: &Path, parent: &Path) -> bool {
    let present = path.exists();
    let watch = if present { path } else { parent };
    println!("cargo::rerun-if-changed={}", watch.display());
    present
}

/// What the browser tests need: Chromium, `node` on PATH and `npm ci` in
/// `tests/browser` (playwright-core and axe-core).
fn browser_tooling_present(manifest: &Path) -> bool {
    let browser = manifest.join("tests/browser");
    let modules = browser.join("node_modules");
    let chromium = watched(Path::new("/usr/bin/chromium"), Path::new("/usr/bin"));
    let playwright = watched(&modules.join("playwright-core/package.json"), &browser);
    let axe = watched(&modules.join("axe-core/package.json"), &browser);
    println!("cargo::rerun-if-env-changed=PATH");
    let path = env::var_os("PATH").unwrap_or_default();
    let node = env::split_paths(&path).find(|dir| dir.join("node").is_file());
    match &node {
        Some(dir) => println!("cargo::rerun-if-changed={}", dir.join("node").display()),
        None => env::split_paths(&path)
            .filter(|dir| dir.is_dir())
            .for_each(|dir| println!("cargo::rerun-if-changed={}", dir.display())),
    }
    chromium && playwright && axe && node.is_some()
}

/// Whether `program` is in a folder of PATH, watched like [`watched`].
fn on_path(program: &str) -> bool {
    let path = env::var_os("PATH").unwrap_or_default();
    let found = env::split_paths(&path).find(|dir| dir.join(program).is_file());
    match &found {
        Some(dir) => println!("cargo::rerun-if-changed={}", dir.join(program).display()),
        None => env::split_paths(&path)
            .filter(|dir| dir.is_dir())
            .for_each(|dir| println!("cargo::rerun-if-changed={}", dir.display())),
    }
    found.is_some()
}

/// What the SFTP tests need: OpenSSH's server, its SFTP server and the
/// key tools (`apt-get install openssh-server`).
fn sshd_tooling_present() -> bool {
    let sshd = watched(Path::new("/usr/sbin/sshd"), Path::new("/usr/sbin"));
    sshd && on_path("ssh-keygen") && on_path("ssh-agent") && on_path("ssh-add")
}

fn main() {
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo::rustc-check-cfg=cfg(browser_tooling)");
    println!("cargo::rustc-check-cfg=cfg(sshd_tooling)");
    println!("cargo::rustc-check-cfg=cfg(s3_tooling)");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=PATH");
    let ci = env::var_os("CI").is_some();
    if ci || browser_tooling_present(&manifest) {
        println!("cargo::rustc-cfg=browser_tooling");
    }
    if ci || sshd_tooling_present() {
        println!("cargo::rustc-cfg=sshd_tooling");
    }
    if ci || on_path("moto_server") {
        println!("cargo::rustc-cfg=s3_tooling");
    }
    let mut code = String::new();
    embed("themes/atelier", "THEME_FILES", &mut code);
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("embedded.rs"), code).expect("write embedded.rs");
    // The starter project of `atelier init`, in a file of its own: each
    // module includes only the table it uses (an unused static would warn).
    let mut scaffold = String::new();
    embed("scaffold", "SCAFFOLD_FILES", &mut scaffold);
    fs::write(out.join("embedded_scaffold.rs"), scaffold).expect("write embedded_scaffold.rs");
}
