//! What the publish tests compare: the files of a folder, of a git branch,
//! of a build, without what atelier keeps beside a site.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What atelier keeps beside a site (the build's marker, the publish
/// manifest and lock, GitHub's `.nojekyll`).
pub(crate) const BESIDE_THE_SITE: [&str; 4] = [
    ".atelier-output",
    ".atelier-manifest.json",
    ".atelier-publish.lock",
    ".nojekyll",
];

/// Every file under `dir`, by `/`-separated path.
pub(crate) fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).expect("under dir");
            let rel = rel.to_string_lossy().replace('\\', "/");
            (rel, fs::read(e.path()).expect("read"))
        })
        .collect()
}

/// `tree` without the files atelier keeps beside a site (the build's
/// marker, the publish manifest and lock, GitHub's `.nojekyll`).
pub(crate) fn site(files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    files
        .into_iter()
        .filter(|(rel, _)| !BESIDE_THE_SITE.contains(&rel.as_str()))
        .collect()
}

/// Asserts two sets of files are the same, naming the paths that differ
/// (never printing the bytes: some are megabytes).
pub(crate) fn assert_same(
    actual: &BTreeMap<String, Vec<u8>>,
    expected: &BTreeMap<String, Vec<u8>>,
    what: &str,
) {
    let differ: std::collections::BTreeSet<&String> = actual
        .keys()
        .chain(expected.keys())
        .filter(|rel| actual.get(*rel) != expected.get(*rel))
        .collect();
    assert!(differ.is_empty(), "{what}: these files differ: {differ:?}");
    assert!(!expected.is_empty(), "{what}: nothing to compare");
}

pub(crate) fn git(repo: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(args)
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A bare repository in a temporary folder.
pub(crate) fn bare_repo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("pages.git");
    let status = Command::new("git")
        .args(["init", "--quiet", "--bare"])
        .arg(&repo)
        .status()
        .expect("git init");
    assert!(status.success());
    (dir, repo)
}

/// Every file of `branch` in `repo`.
pub(crate) fn branch_tree(repo: &Path, branch: &str) -> BTreeMap<String, Vec<u8>> {
    git(repo, &["ls-tree", "-r", "--name-only", branch])
        .lines()
        .map(|path| {
            let output = Command::new("git")
                .arg("--git-dir")
                .arg(repo)
                .args(["cat-file", "blob", &format!("{branch}:{path}")])
                .output()
                .expect("git cat-file");
            (path.to_string(), output.stdout)
        })
        .collect()
}
