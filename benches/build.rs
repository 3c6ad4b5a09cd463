//! Full builds through the library API, measured with criterion.
//!
//! * `build/example`: the example masterclass at the repository root (base
//!   version and every client).
//! * `build/corpus-200`: a 200-page synthetic workshop made by the shared
//!   `gen_corpus.py` (`../shared/bench/`, or `$SHARED/bench/`). Skipped, with
//!   a message, when python3 or the script is missing.
//!
//! Sample sizes are small so `cargo bench` finishes in well under a minute.
//! For wall time and peak memory of the CLI against Hugo and mdBook, run
//! `scripts/bench.sh` instead (see `docs/performance.md`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use atelier::builder::{BuildOptions, build};
use atelier::project::Project;
use criterion::{Criterion, criterion_group, criterion_main};

/// The repository root: it holds the example project.
fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared benchmark folder (`$SHARED`, default `../shared` from the repo).
fn shared_dir() -> PathBuf {
    match std::env::var_os("SHARED") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repo_root().join("..").join("shared"),
    }
}

/// A temporary folder on tmpfs (`/dev/shm`) when there is one: writing many
/// small files to a slow disk would swamp the build's own work.
fn scratch(prefix: &str) -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix);
    if shm.is_dir()
        && let Ok(dir) = builder.tempdir_in(shm)
    {
        return dir;
    }
    builder.tempdir().expect("temporary folder")
}

/// Generates a `pages`-page corpus under `into`; returns the atelier project
/// root, or why it could not.
fn generate_corpus(pages: usize, into: &Path) -> Result<PathBuf, String> {
    let script = shared_dir().join("bench").join("gen_corpus.py");
    if !script.is_file() {
        return Err(format!("{} not found (set SHARED)", script.display()));
    }
    let status = Command::new("python3")
        .arg(&script)
        .arg(pages.to_string())
        .arg(into)
        .args(["--layouts", "atelier"])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !status.success() {
        return Err(format!("{} failed: {status}", script.display()));
    }
    let root = into.join("atelier");
    if root.join("atelier.yaml").is_file() {
        Ok(root)
    } else {
        Err(format!("no atelier.yaml in {}", root.display()))
    }
}

/// Benchmarks a full build of the project at `root` into a temporary folder.
fn bench_project(c: &mut Criterion, name: &str, root: &Path) {
    let project =
        Project::open(Some(root)).unwrap_or_else(|e| panic!("cannot open {}: {e}", root.display()));
    let out = scratch("atelier-bench-out-");
    let options = BuildOptions {
        out: Some(out.path().join("site")),
        ..Default::default()
    };
    // One build outside the measurement: fails loudly if the project is broken.
    let report = build(&project, &options, &|_| {})
        .unwrap_or_else(|e| panic!("building {} failed: {e}", root.display()));
    eprintln!(
        "{name}: {} pages in {} version(s)",
        report.pages, report.versions
    );
    c.bench_function(name, |b| {
        b.iter(|| {
            let report = build(&project, &options, &|_| {}).expect("build");
            std::hint::black_box(report.pages)
        })
    });
}

fn bench_builds(c: &mut Criterion) {
    bench_project(c, "build/example", &repo_root());

    let corpus = scratch("atelier-bench-corpus-");
    match generate_corpus(200, corpus.path()) {
        Ok(root) => bench_project(c, "build/corpus-200", &root),
        Err(why) => eprintln!("skipping build/corpus-200: {why}"),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench_builds
}
criterion_main!(benches);
