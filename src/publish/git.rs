//! A git branch as a publish target (GitHub Pages, GitLab Pages, any host
//! that serves a branch).
//!
//! atelier drives the `git` program rather than a git library: git brings
//! the user's own credentials (credential helpers, the SSH agent and
//! `~/.ssh/config`, `insteadOf` rules), so none ever lives in the project,
//! and nothing here has to know SSH or HTTPS. A bare cache repository under
//! the project's `.atelier/publish/` holds the branch's last commit
//! (fetched with `--depth 1`). A publish streams what changed into one
//! `git fast-import` process (each new or changed file, each deleted one,
//! then the manifest), which writes one commit whose parent is the
//! branch's tip and whose tree is that tip's with only those paths
//! changed; the commit is then pushed to the branch. `fast-import` was
//! chosen over `hash-object`/`update-index`/`write-tree`/`commit-tree`
//! because it is one process for the whole publish instead of one per
//! file, and it never needs the files on disk. Nothing reaches the remote
//! before the push, and a push is atomic: an interrupted publish leaves
//! the branch as it was. A branch that does not exist yet is created with
//! no parent. A `.nojekyll` file is added when the branch has none, so
//! GitHub Pages serves the site as built.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};

use super::manifest::MANIFEST_PATH;
use super::remote::{Remote, RemoteError, Upload};
use super::target::GitTarget;

/// Where the cache repositories live, under the project's root.
const CACHE_DIR: &str = ".atelier/publish";

/// The cache's ref for the commit being written.
const NEW_REF: &str = "refs/atelier/new";

/// The cache's ref for the branch as last fetched.
const FETCHED_REF: &str = "refs/atelier/fetched";

/// GitHub Pages runs Jekyll on a branch without it, which hides folders
/// starting with `_` and costs minutes.
const NOJEKYLL: &str = ".nojekyll";

/// A git branch being published to.
pub(super) struct GitBranch {
    target: GitTarget,
    cache: PathBuf,
    /// The branch's tip when the publish started (`None`: no branch yet).
    parent: Option<String>,
    /// Whether the branch already has a `.nojekyll`.
    has_nojekyll: bool,
    /// The `git fast-import` process writing the new commit, started at
    /// the first change.
    import: Option<(Child, ChildStdin)>,
}

impl GitBranch {
    /// Prepares the cache repository for `target` and fetches the
    /// branch's tip: an unreachable repository fails here, before
    /// anything else happens.
    pub(super) fn connect(target: &GitTarget, root: &Path) -> Result<GitBranch, RemoteError> {
        let cache = root.join(CACHE_DIR).join(cache_name(target));
        if !cache.join("HEAD").is_file() {
            std::fs::create_dir_all(&cache).map_err(|e| {
                RemoteError::Failed(format!("cannot create {}: {e}", cache.display()))
            })?;
            run(
                git(None).args(["init", "--quiet", "--bare"]).arg(&cache),
                "git init",
            )
            .map_err(RemoteError::Failed)?;
        }
        let mut branch = GitBranch {
            target: target.clone(),
            cache,
            parent: None,
            has_nojekyll: false,
            import: None,
        };
        branch.parent = branch.fetch()?;
        if let Some(parent) = &branch.parent {
            branch.has_nojekyll = branch.blob(parent, NOJEKYLL)?.is_some();
        }
        Ok(branch)
    }

    fn git(&self) -> Command {
        git(Some(&self.cache))
    }

    /// The branch's tip on the remote, fetched into the cache; `None` when
    /// the repository has no such branch yet.
    fn fetch(&self) -> Result<Option<String>, RemoteError> {
        let branch_ref = format!("refs/heads/{}", self.target.branch);
        let listed = run(
            self.git()
                .args(["ls-remote", "--heads", "--"])
                .arg(&self.target.url)
                .arg(&branch_ref),
            "git ls-remote",
        )
        .map_err(RemoteError::Unreachable)?;
        let tip = listed.lines().find_map(|line| {
            let (sha, name) = line.split_once('\t')?;
            (name == branch_ref).then(|| sha.to_string())
        });
        let Some(tip) = tip else {
            return Ok(None);
        };
        run(
            self.git()
                .args(["fetch", "--quiet", "--no-tags", "--depth", "1", "--"])
                .arg(&self.target.url)
                .arg(format!("+{branch_ref}:{FETCHED_REF}")),
            "git fetch",
        )
        .map_err(RemoteError::Unreachable)?;
        Ok(Some(tip))
    }

    /// The bytes of `path` in `commit`, `None` when it has no such file.
    fn blob(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        let listed = run(
            self.git()
                .args(["ls-tree", "--name-only", commit, "--", path]),
            "git ls-tree",
        )
        .map_err(RemoteError::Failed)?;
        if listed.lines().all(|line| line != path) {
            return Ok(None);
        }
        let output = self
            .git()
            .args(["cat-file", "blob", &format!("{commit}:{path}")])
            .output()
            .map_err(|e| RemoteError::Failed(format!("cannot run git: {e}")))?;
        if !output.status.success() {
            return Err(RemoteError::Failed(failure("git cat-file", &output)));
        }
        Ok(Some(output.stdout))
    }

    /// The fast-import stream, started with the commit's header on first use.
    fn stream(&mut self) -> Result<&mut ChildStdin, RemoteError> {
        if self.import.is_none() {
            let mut child = self
                .git()
                .args(["fast-import", "--quiet", "--done"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| RemoteError::Failed(format!("cannot run git fast-import: {e}")))?;
            let Some(mut stdin) = child.stdin.take() else {
                return Err(RemoteError::Failed("git fast-import has no input".into()));
            };
            let header = self.header();
            if let Err(e) = stdin.write_all(header.as_bytes()) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RemoteError::Failed(format!("git fast-import stopped: {e}")));
            }
            self.import = Some((child, stdin));
        }
        match &mut self.import {
            Some((_, stdin)) => Ok(stdin),
            None => Err(RemoteError::Failed("git fast-import is not running".into())),
        }
    }

    /// `reset` (so no earlier run's commit becomes the parent), then the
    /// commit's author, message and parent.
    fn header(&self) -> String {
        let ident = committer(&self.cache);
        let message = format!(
            "Publish with atelier {} (only the files that changed)\n",
            env!("CARGO_PKG_VERSION")
        );
        let from = self
            .parent
            .as_ref()
            .map(|sha| format!("from {sha}\n"))
            .unwrap_or_default();
        format!(
            "reset {NEW_REF}\ncommit {NEW_REF}\ncommitter {ident}\ndata {}\n{message}{from}",
            message.len()
        )
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), RemoteError> {
        let stdin = self.stream()?;
        if stdin.write_all(bytes).is_ok() {
            return Ok(());
        }
        Err(RemoteError::Failed(self.stop_import()))
    }

    /// Writes a file into the commit being made.
    fn modify(&mut self, path: &str, bytes: &[u8]) -> Result<(), RemoteError> {
        let mut command =
            format!("M 100644 inline {}\ndata {}\n", quoted(path), bytes.len()).into_bytes();
        command.extend_from_slice(bytes);
        command.push(b'\n');
        self.write(&command)
    }

    /// Ends fast-import after an error, with what it said.
    fn stop_import(&mut self) -> String {
        match self.import.take() {
            Some((child, stdin)) => {
                drop(stdin);
                match child.wait_with_output() {
                    Ok(output) => failure("git fast-import", &output),
                    Err(e) => format!("git fast-import failed: {e}"),
                }
            }
            None => "git fast-import failed".into(),
        }
    }

    /// Closes the stream and waits for the commit; its hash.
    fn finish_import(&mut self) -> Result<String, RemoteError> {
        self.write(b"done\n")?;
        let Some((child, stdin)) = self.import.take() else {
            return Err(RemoteError::Failed("git fast-import is not running".into()));
        };
        drop(stdin);
        let output = child
            .wait_with_output()
            .map_err(|e| RemoteError::Failed(format!("git fast-import failed: {e}")))?;
        if !output.status.success() {
            return Err(RemoteError::Failed(failure("git fast-import", &output)));
        }
        let sha = run(
            self.git().args(["rev-parse", "--verify", NEW_REF]),
            "git rev-parse",
        )
        .map_err(RemoteError::Failed)?;
        Ok(sha.trim().to_string())
    }
}

impl Remote for GitBranch {
    fn describe(&self) -> String {
        format!("git+{}#{}", self.target.url, self.target.branch)
    }

    fn read_manifest(&mut self) -> Result<Option<Vec<u8>>, RemoteError> {
        match self.parent.clone() {
            Some(parent) => self.blob(&parent, MANIFEST_PATH),
            None => Ok(None),
        }
    }

    fn put(&mut self, file: &Upload<'_>) -> Result<(), RemoteError> {
        // The in-progress manifest guards targets a publish changes file by
        // file; nothing reaches a branch before the push, so the commit's
        // manifest is the only one it needs.
        if file.path == MANIFEST_PATH {
            return Ok(());
        }
        self.modify(file.path, file.bytes)
    }

    fn delete(&mut self, path: &str) -> Result<(), RemoteError> {
        self.write(format!("D {}\n", quoted(path)).as_bytes())
    }

    fn commit(&mut self, manifest: &[u8]) -> Result<(), RemoteError> {
        self.modify(MANIFEST_PATH, manifest)?;
        if !self.has_nojekyll {
            self.modify(NOJEKYLL, b"")?;
        }
        let commit = self.finish_import()?;
        let pushed = self
            .git()
            .args(["push", "--quiet", "--"])
            .arg(&self.target.url)
            .arg(format!("{commit}:refs/heads/{}", self.target.branch))
            .output()
            .map_err(|e| RemoteError::Failed(format!("cannot run git: {e}")))?;
        if !pushed.status.success() {
            return Err(RemoteError::Denied(failure("git push", &pushed)));
        }
        Ok(())
    }
}

impl Drop for GitBranch {
    /// A publish that stops before its commit leaves no fast-import behind
    /// (its half-written commit is never pushed).
    fn drop(&mut self) {
        if let Some((mut child, stdin)) = self.import.take() {
            drop(stdin);
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `git` with the cache as its repository when given, never prompting on
/// the terminal (a publish runs unattended; git's helpers and agent still
/// answer), with messages in English whatever the locale.
fn git(cache: Option<&Path>) -> Command {
    let mut command = Command::new("git");
    if let Some(cache) = cache {
        command.arg("--git-dir").arg(cache);
    }
    command
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    command
}

/// Runs `command`; its standard output, or what it said on failure.
fn run(command: &mut Command, what: &str) -> Result<String, String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run git (is it installed?): {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(failure(what, &output))
    }
}

/// "git push failed: <git's last lines>".
fn failure(what: &str, output: &Output) -> String {
    let said = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = said
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(4)..].join(" / ");
    if tail.is_empty() {
        format!("{what} failed ({})", output.status)
    } else {
        format!("{what} failed: {tail}")
    }
}

/// The user's committer identity as git knows it, else atelier's own.
fn committer(cache: &Path) -> String {
    let ident = git(Some(cache))
        .args(["var", "GIT_COMMITTER_IDENT"])
        .output();
    match ident {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        }
        _ => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            format!("atelier <atelier@localhost> {now} +0000")
        }
    }
}

/// A path as fast-import reads it: in double quotes, `"` and `\` escaped.
fn quoted(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 2);
    out.push('"');
    for c in path.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The cache folder of a target: readable, and unique per URL and branch.
fn cache_name(target: &GitTarget) -> String {
    let key = format!("{}#{}", target.url, target.branch);
    let hash = super::manifest::hash(key.as_bytes());
    let readable: String = target
        .url
        .rsplit('/')
        .next()
        .unwrap_or("repo")
        .trim_end_matches(".git")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(40)
        .collect();
    format!(
        "{readable}-{}.git",
        &hash["sha256:".len().."sha256:".len() + 12]
    )
}
