//! The manifest a publish leaves on its target: every file atelier put
//! there, with a hash of its content. The next publish compares the new
//! build with it to send only what changed, and deletes only files it
//! lists: a file of the user's on the target is never in it.
//!
//! The format, kept at [`MANIFEST_PATH`] at the target's root, is JSON:
//!
//! ```json
//! {
//!   "format": 1,
//!   "generator": "atelier 0.1.0",
//!   "files": {
//!     "index.html": "sha256:5f1c…",
//!     "static/atelier.css": "sha256:9a0b…"
//!   }
//! }
//! ```
//!
//! `files` maps each path (relative, `/`-separated) to `sha256:` and the
//! lowercase hex SHA-256 of its bytes. While a publish is under way, the
//! files it is about to change are marked [`PENDING`] instead (see
//! [`Manifest::pending`]): a publish killed halfway leaves a manifest that
//! makes the next one send those files again, whatever they hold by then.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where the manifest lives on a target.
pub const MANIFEST_PATH: &str = ".atelier-manifest.json";

/// The hash of a file a publish was changing when it stopped: it matches
/// no content, so the file is sent (or deleted) again.
pub const PENDING: &str = "pending";

/// The format this version of atelier writes and reads.
const FORMAT: u32 = 1;

/// Every file atelier published on a target, by path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    format: u32,
    #[serde(default)]
    generator: String,
    files: BTreeMap<String, String>,
}

/// Why a manifest found on a target cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedManifest(pub String);

/// What a publish has to do: the new build compared with the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Paths new or changed, sorted.
    pub upload: Vec<String>,
    /// Paths the last publish put that the build no longer has, sorted.
    pub delete: Vec<String>,
    /// Paths whose content the target already holds.
    pub unchanged: usize,
}

impl Changes {
    /// Whether the target already holds the build.
    pub fn is_empty(&self) -> bool {
        self.upload.is_empty() && self.delete.is_empty()
    }
}

/// The hash the manifest keeps for `bytes`.
pub fn hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut text = String::with_capacity(7 + 64);
    text.push_str("sha256:");
    for byte in digest {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

impl Manifest {
    /// A manifest of `files` (path, hash).
    pub fn new(files: impl IntoIterator<Item = (String, String)>) -> Self {
        Manifest {
            format: FORMAT,
            generator: format!("atelier {}", env!("CARGO_PKG_VERSION")),
            files: files.into_iter().collect(),
        }
    }

    /// Reads a manifest found on a target. A path that could leave the
    /// target's folder (`..`, absolute) makes the whole manifest unusable:
    /// deleting what it lists could delete anything.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, DamagedManifest> {
        let manifest: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| DamagedManifest(format!("it is not an atelier manifest ({e})")))?;
        if manifest.format != FORMAT {
            return Err(DamagedManifest(format!(
                "it has format {}, this atelier reads format {FORMAT}",
                manifest.format
            )));
        }
        if let Some(bad) = manifest.files.keys().find(|p| !is_safe_path(p)) {
            return Err(DamagedManifest(format!(
                "it lists `{bad}`, which is not a path inside the target"
            )));
        }
        Ok(manifest)
    }

    /// The manifest as stored on the target.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// How many files it lists.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether it lists no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// What turns a target holding `old` (nothing known when `None`) into
    /// this manifest's files.
    pub fn changes_from(&self, old: Option<&Manifest>) -> Changes {
        let empty = BTreeMap::new();
        let before = old.map_or(&empty, |m| &m.files);
        let mut changes = Changes::default();
        for (path, hash) in &self.files {
            if before.get(path) == Some(hash) {
                changes.unchanged += 1;
            } else {
                changes.upload.push(path.clone());
            }
        }
        changes.delete = before
            .keys()
            .filter(|path| !self.files.contains_key(*path))
            .cloned()
            .collect();
        changes
    }

    /// `old` with every path `changes` touches marked [`PENDING`]: written
    /// before the first file is sent, so that a publish that stops halfway
    /// leaves those files to be sent (or deleted) by the next one, even if
    /// the sources are back to what `old` says by then.
    pub fn pending(old: Option<&Manifest>, changes: &Changes) -> Manifest {
        let mut pending = old.cloned().unwrap_or_else(|| Manifest::new([]));
        for path in changes.upload.iter().chain(&changes.delete) {
            pending.files.insert(path.clone(), PENDING.to_string());
        }
        pending
    }
}

/// A path a target may hold: relative, `/`-separated, no `.`, `..` or empty
/// segment, no backslash or control character.
pub fn is_safe_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && !path.chars().any(|c| c == '\\' || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(files: &[(&str, &str)]) -> Manifest {
        Manifest::new(files.iter().map(|(p, h)| (p.to_string(), h.to_string())))
    }

    #[test]
    fn compares_by_content_hash() {
        let old = manifest(&[("a.html", "1"), ("b.html", "2"), ("gone.html", "3")]);
        let new = manifest(&[("a.html", "1"), ("b.html", "9"), ("new.html", "4")]);
        assert_eq!(
            new.changes_from(Some(&old)),
            Changes {
                upload: vec!["b.html".into(), "new.html".into()],
                delete: vec!["gone.html".into()],
                unchanged: 1
            }
        );
        assert_eq!(new.changes_from(None).upload.len(), 3);
    }

    #[test]
    fn a_pending_file_is_sent_again() {
        let old = manifest(&[("a.html", "1"), ("b.html", "2")]);
        let new = manifest(&[("a.html", "9"), ("b.html", "2")]);
        let pending = Manifest::pending(Some(&old), &new.changes_from(Some(&old)));
        // The sources went back to the old `a.html` before the next publish.
        let next = new.changes_from(Some(&pending));
        assert_eq!(next.upload, ["a.html"]);
        let reverted = old.changes_from(Some(&pending));
        assert_eq!(reverted.upload, ["a.html"]);
    }

    #[test]
    fn reads_what_it_writes_and_refuses_paths_outside() {
        let written = manifest(&[("index.html", &hash(b"x"))]);
        assert_eq!(Manifest::parse(&written.to_bytes()), Ok(written));
        assert_eq!(
            hash(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let hostile = br#"{"format":1,"files":{"../../home/x":"sha256:00"}}"#;
        assert!(Manifest::parse(hostile).is_err());
        assert!(Manifest::parse(b"<html>").is_err());
        assert!(Manifest::parse(br#"{"format":2,"files":{}}"#).is_err());
        for bad in ["/etc/passwd", "a//b", "a/./b", "a\\b", ""] {
            assert!(!is_safe_path(bad), "{bad}");
        }
    }
}
