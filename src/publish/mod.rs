//! `atelier publish`: each version to the host it is published on, sending
//! only what changed since the last publish (SPEC §11).
//!
//! A publish builds every version that has a `publish: { target: … }`
//! through the normal pipeline (participant versions only, each alone at
//! its target's root), then, per version: reads the manifest the last
//! publish left on the target ([`manifest`]), compares content hashes,
//! refuses when more than `max_deletes` files would go, and only then
//! writes: an in-progress manifest, the new and changed files (static files
//! before pages), the deletions, and the final manifest last
//! ([`Remote::commit`]). A failure anywhere before that leaves the target
//! as it was; a failure or a kill during it leaves each file old or new and
//! a manifest that makes the next publish send whatever may be stale.
//!
//! Versions go to different targets (two versions at one target are
//! refused), so they publish side by side. When one version's target
//! fails, the others are still published: each target is independent, and
//! the report says which failed.

pub mod manifest;
pub mod remote;
pub mod s3;
pub mod sftp;
pub mod ssh;
pub mod target;
pub mod targets;

mod git;
mod known_hosts;
mod local;
mod versions;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::client::CLIENTS_DIR;
use crate::error::{Diagnostic, Diagnostics, Error, Result};
use crate::load::{LoadedClient, load};
use crate::project::Project;

use manifest::{Changes, MANIFEST_PATH, Manifest};
use remote::{Remote, RemoteError, Upload};
use target::Target;

/// What `atelier publish` is asked.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// Only these clients (by slug); none: the base version and every client.
    pub clients: Vec<String>,
    /// Compare and list the changes, touch nothing.
    pub dry_run: bool,
}

/// What a publish did, version by version.
#[derive(Debug)]
pub struct PublishReport {
    /// Each version asked for, in order (the base first).
    pub versions: Vec<VersionReport>,
    /// Warnings the build found.
    pub warnings: Vec<Diagnostic>,
    /// Wall time.
    pub elapsed: Duration,
}

impl PublishReport {
    /// Whether a version's target failed (the command exits 1).
    pub fn failed(&self) -> bool {
        self.versions
            .iter()
            .any(|v| matches!(v.outcome, Outcome::Failed { .. }))
    }
}

/// One version's publish.
#[derive(Debug)]
pub struct VersionReport {
    /// `base` or the client's slug.
    pub name: String,
    /// The file its `publish:` block is in (or would be).
    pub config_file: PathBuf,
    /// What happened.
    pub outcome: Outcome,
}

/// How one version's publish ended.
#[derive(Debug)]
pub enum Outcome {
    /// Its configuration has no `publish:` target.
    Skipped,
    /// Sent (or, with `--dry-run`, compared) to `target`.
    Done {
        /// The target, as messages name it.
        target: String,
        /// What changed (or would change).
        changes: Changes,
        /// Bytes of the files sent (or that would be).
        bytes: u64,
    },
    /// The target could not be read or written.
    Failed {
        /// The target, as messages name it.
        target: String,
        /// What went wrong.
        error: String,
    },
}

/// A version with a target, ready to publish.
struct Job<'a> {
    name: String,
    config_file: PathBuf,
    client: Option<&'a LoadedClient>,
    target: Target,
    max_deletes: usize,
}

/// Builds and publishes the versions `options` asks for. `Err` when the
/// project has errors (nothing is published) or for usage; a target that
/// fails is an [`Outcome::Failed`] in the report, the others still done.
pub fn run(project: &Project, options: &PublishOptions) -> Result<PublishReport> {
    let started = Instant::now();
    let diagnostics = Diagnostics::new();
    let Some(loaded) = load(project, &diagnostics) else {
        return Err(Error::Content(diagnostics.into_sorted()));
    };
    diagnostics.extend(crate::embeds::exercises_embedded_twice(&loaded));
    diagnostics.extend(crate::rules::unknown_clients_and_values(&loaded));

    let chosen = chosen_versions(&loaded.clients, &options.clients)?;
    let mut reports = Vec::new();
    let mut jobs = Vec::new();
    for version in targets::read(project, &chosen, &diagnostics) {
        match version.target {
            Some((target, max_deletes)) => jobs.push(Job {
                name: version.name,
                config_file: version.config_file,
                client: version.client,
                target,
                max_deletes,
            }),
            None if !version.configured => reports.push(VersionReport {
                name: version.name,
                config_file: version.config_file,
                outcome: Outcome::Skipped,
            }),
            // Unreadable: the diagnostic stops the publish below.
            None => {}
        }
    }
    if diagnostics.has_errors() {
        return Err(Error::Content(diagnostics.into_sorted()));
    }

    let plans = jobs
        .iter()
        .map(|job| versions::plan_for(project, &loaded, job.client))
        .collect::<Result<Vec<_>>>()?;
    diagnostics.declare_versions(plans.iter().map(crate::plan::VersionPlan::name));
    let built = versions::render(project, &loaded, &plans, &diagnostics);
    let all = diagnostics.into_sorted();
    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
        all.into_iter().partition(Diagnostic::is_error);
    if !errors.is_empty() || built.iter().any(Option::is_none) {
        let mut all = errors;
        all.extend(warnings);
        return Err(Error::Content(all));
    }

    let done: Vec<VersionReport> = jobs
        .into_par_iter()
        .zip(built.into_par_iter())
        .map(|(job, files)| {
            let files = files.unwrap_or_default();
            let outcome = publish_version(&job, &files, &project.root, options.dry_run);
            VersionReport {
                name: job.name,
                config_file: job.config_file,
                outcome,
            }
        })
        .collect();
    reports.extend(done);
    let order = |r: &VersionReport| r.name != "base";
    reports.sort_by(|a, b| (order(a), &a.name).cmp(&(order(b), &b.name)));
    Ok(PublishReport {
        versions: reports,
        warnings,
        elapsed: started.elapsed(),
    })
}

/// The base version (`None`) and every client, or only the clients
/// `slugs` name (a usage error for one that does not exist).
fn chosen_versions<'a>(
    clients: &'a [LoadedClient],
    slugs: &[String],
) -> Result<Vec<Option<&'a LoadedClient>>> {
    if slugs.is_empty() {
        return Ok(std::iter::once(None)
            .chain(clients.iter().map(Some))
            .collect());
    }
    slugs
        .iter()
        .map(|slug| {
            clients
                .iter()
                .find(|c| &c.client.slug == slug)
                .map(Some)
                .ok_or_else(|| {
                    let known: Vec<&str> = clients.iter().map(|c| c.client.slug.as_str()).collect();
                    let guess = crate::suggest::closest(slug, known.iter().copied())
                        .map(|k| format!("did you mean `{k}`? "))
                        .unwrap_or_default();
                    Error::Usage(format!(
                        "no client `{slug}` in {CLIENTS_DIR}/; {guess}clients: {}",
                        if known.is_empty() {
                            "none yet".to_string()
                        } else {
                            known.join(", ")
                        }
                    ))
                })
        })
        .collect()
}

/// Publishes one version's `files` to its target.
fn publish_version(job: &Job, files: &versions::Files, root: &Path, dry_run: bool) -> Outcome {
    let target = job.target.describe();
    match send(job, files, root, dry_run) {
        Ok((changes, bytes)) => Outcome::Done {
            target,
            changes,
            bytes,
        },
        Err(error) => Outcome::Failed { target, error },
    }
}

/// Compares, checks `max_deletes`, then (unless `dry_run`) writes.
fn send(
    job: &Job,
    files: &versions::Files,
    root: &Path,
    dry_run: bool,
) -> std::result::Result<(Changes, u64), String> {
    let hashes: Vec<(String, String)> = files
        .par_iter()
        .filter(|(path, _)| path.as_str() != MANIFEST_PATH)
        .map(|(path, bytes)| (path.clone(), manifest::hash(bytes)))
        .collect();
    let new = Manifest::new(hashes);
    let mut remote = target::open(&job.target, root).map_err(|e| e.to_string())?;
    let old = match remote.read_manifest().map_err(|e| e.to_string())? {
        Some(bytes) => Some(Manifest::parse(&bytes).map_err(|e| {
            format!(
                "the target's {MANIFEST_PATH} cannot be used: {}; nothing was changed. Delete that file on the target to publish everything again (no file would be deleted)",
                e.0
            )
        })?),
        None => None,
    };
    let mut changes = new.changes_from(old.as_ref());
    if changes.delete.len() > job.max_deletes {
        return Err(format!(
            "this publish would delete {} files, more than max_deletes ({}); nothing was changed. Check that the target is right, or raise `max_deletes` in {}",
            changes.delete.len(),
            job.max_deletes,
            crate::error::display_path(&job.config_file)
        ));
    }
    // Stylesheets and images first, pages after: a reader never gets a
    // new page before what it shows.
    changes
        .upload
        .sort_by_key(|path| (crate::media::is_html(path), path.clone()));
    let bytes: u64 = changes
        .upload
        .iter()
        .filter_map(|path| files.get(path))
        .map(|b| b.len() as u64)
        .sum();
    if dry_run || changes.is_empty() {
        return Ok((changes, bytes));
    }
    write_changes(remote.as_mut(), old.as_ref(), &new, &changes, files)
        .map_err(|e| e.to_string())?;
    Ok((changes, bytes))
}

/// The in-progress manifest, the uploads, the deletions, the manifest.
fn write_changes(
    remote: &mut dyn Remote,
    old: Option<&Manifest>,
    new: &Manifest,
    changes: &Changes,
    files: &versions::Files,
) -> std::result::Result<(), RemoteError> {
    let pending = Manifest::pending(old, changes).to_bytes();
    remote.put(&remote_upload(MANIFEST_PATH, &pending))?;
    for path in &changes.upload {
        let Some(bytes) = files.get(path) else {
            continue;
        };
        remote.put(&remote_upload(path, bytes))?;
    }
    for path in &changes.delete {
        remote.delete(path)?;
    }
    remote.commit(&new.to_bytes())
}

fn remote_upload<'a>(path: &'a str, bytes: &'a [u8]) -> Upload<'a> {
    Upload {
        path,
        bytes,
        content_type: crate::media::content_type(path),
        cache_control: if path == MANIFEST_PATH {
            "no-store"
        } else {
            crate::media::cache_control(path)
        },
    }
}

/// "41.2 kB", "512 B", "3.4 MB" (powers of 1000, as file managers show).
pub fn shown_bytes(bytes: u64) -> String {
    match bytes {
        0..1000 => format!("{bytes} B"),
        1000..1_000_000 => format!("{:.1} kB", bytes as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", bytes as f64 / 1e6),
        _ => format!("{:.2} GB", bytes as f64 / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_like_a_file_manager() {
        assert_eq!(shown_bytes(512), "512 B");
        assert_eq!(shown_bytes(41_234), "41.2 kB");
        assert_eq!(shown_bytes(3_400_000), "3.4 MB");
    }
}
