//! Each version's `publish:` block read into a [`Target`], with any problem
//! at its `target:` line: what `atelier publish` starts from, and what
//! `atelier check` validates without building or reaching any host.

use std::path::{Path, PathBuf};

use crate::config::{CONFIG_FILE, Publish};
use crate::error::{Diagnostic, Diagnostics, version_name};
use crate::load::LoadedClient;
use crate::project::Project;

use super::target::Target;

/// One version and where it is published.
pub struct VersionTarget<'a> {
    /// `base` or the client's slug.
    pub name: String,
    /// The file its `publish:` block is in (or would be).
    pub config_file: PathBuf,
    /// The client, `None` for the base version.
    pub client: Option<&'a LoadedClient>,
    /// The target and its `max_deletes`; `None` when the version has no
    /// `publish:` block, or when it could not be read (then a diagnostic
    /// says why).
    pub target: Option<(Target, usize)>,
    /// Whether the version has a `publish:` block at all.
    pub configured: bool,
}

/// Reads the targets of `versions` (`None`: the base version), reporting
/// unreadable ones and two versions at one target into `diagnostics`.
pub fn read<'a>(
    project: &Project,
    versions: &[Option<&'a LoadedClient>],
    diagnostics: &Diagnostics,
) -> Vec<VersionTarget<'a>> {
    let mut read: Vec<VersionTarget<'a>> = Vec::with_capacity(versions.len());
    for &client in versions {
        let (config_file, text, publish) = block_of(project, client);
        let name = version_name(client.map(|c| c.client.slug.as_str()), false);
        let target = publish.and_then(|publish| {
            match read_target(&project.root, publish, &config_file, text) {
                Ok(target) => Some((target, publish.max_deletes)),
                Err(problem) => {
                    diagnostics.push(problem);
                    None
                }
            }
        });
        read.push(VersionTarget {
            name,
            config_file,
            client,
            target,
            configured: publish.is_some(),
        });
    }
    refuse_shared_targets(&read, project, diagnostics);
    read
}

/// The file, its text and its `publish:` block, for a version.
fn block_of<'a>(
    project: &'a Project,
    client: Option<&'a LoadedClient>,
) -> (PathBuf, &'a str, Option<&'a Publish>) {
    match client {
        Some(c) => (
            c.client.file.clone(),
            c.client.text.as_str(),
            c.client.profile.publish.as_ref(),
        ),
        None => (
            PathBuf::from(CONFIG_FILE),
            project.config_text.as_str(),
            project.config.publish.as_ref(),
        ),
    }
}

/// The block's target, or an error at its `target:` line in `file`.
fn read_target(
    root: &Path,
    publish: &Publish,
    file: &Path,
    text: &str,
) -> std::result::Result<Target, Diagnostic> {
    let (line, column) = value_position(text, "target");
    let at = |d: Diagnostic| d.at(line, column);
    let target = Target::parse(
        &publish.target,
        root,
        publish.endpoint.as_deref(),
        publish.region.as_deref(),
    )
    .map_err(|e| at(Diagnostic::error(file, e.message).with_help(e.help)))?;
    if let Target::Local(folder) = &target {
        let folder = crate::output::absolute(folder);
        if let Some(why) = crate::output::forbidden_folder(&folder, root) {
            return Err(at(Diagnostic::error(
                file,
                format!("refusing to publish into {}: {why}", folder.display()),
            )
            .with_help("publish to a folder outside the project's sources, such as `/srv/www/atelier` or `../site`")));
        }
        return Ok(Target::Local(folder));
    }
    Ok(target)
}

/// Two versions at one target would overwrite each other's manifest and
/// delete each other's files: refused, at the second one's `target:`.
fn refuse_shared_targets(versions: &[VersionTarget], project: &Project, diagnostics: &Diagnostics) {
    for (index, job) in versions.iter().enumerate() {
        let Some((target, _)) = &job.target else {
            continue;
        };
        let same = |other: &&VersionTarget| other.target.as_ref().is_some_and(|(t, _)| t == target);
        let Some(first) = versions[..index].iter().find(same) else {
            continue;
        };
        let text = match job.client {
            Some(c) => c.client.text.as_str(),
            None => project.config_text.as_str(),
        };
        let (line, column) = value_position(text, "target");
        diagnostics.push(
            Diagnostic::error(
                &job.config_file,
                format!(
                    "{} is published to the same target as {} ({})",
                    job.name,
                    first.name,
                    target.describe()
                ),
            )
            .at(line, column)
            .with_help("give each version its own folder, branch, bucket prefix or host path"),
        );
    }
}

/// The 1-based line and column of the value of the first `key:` in `text`,
/// in block (`  target: …`) or flow style (`publish: { target: … }`);
/// (1, 1) when it is not found.
fn value_position(text: &str, key: &str) -> (usize, usize) {
    let needle = format!("{key}:");
    for (index, line) in text.lines().enumerate() {
        let found = line.match_indices(&needle).find(|(at, _)| {
            line[..*at]
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || c == '{' || c == ',')
        });
        if let Some((at, _)) = found {
            let after = at + needle.len();
            let spaces = line[after..].len() - line[after..].trim_start().len();
            return (index + 1, line[..after + spaces].chars().count() + 1);
        }
    }
    (1, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_of_a_key_is_located() {
        let text = "name: X\npublish:\n  target:   ftp://x\n";
        assert_eq!(value_position(text, "target"), (3, 13));
        assert_eq!(value_position("name: X\n", "target"), (1, 1));
        let flow = "name: X\npublish: { target: \"s3://b/p\" }\n";
        assert_eq!(value_position(flow, "target"), (2, 20));
        assert_eq!(value_position("retarget: 1\n", "target"), (1, 1));
    }
}
