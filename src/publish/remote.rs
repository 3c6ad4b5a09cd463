//! What every publish target can do, whatever it talks to: a local folder,
//! an SFTP host, a git branch or an S3-compatible bucket.
//!
//! Publishing compares a version with the manifest the last publish left on
//! the target, then sends only what changed. The target only has to read that
//! manifest, put and delete single files, and commit the end of a publish; so
//! a new kind of host is one more implementation of [`Remote`], and the
//! comparison, `max_deletes`, `--dry-run` and the summary stay in one place.

use std::fmt;

/// One file of a version, as publish sends it.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    /// Its path inside the version, `/`-separated, without a leading `/`
    /// (`index.html`, `modules/confiance/index.html`).
    pub path: &'a str,
    /// Its complete content.
    pub bytes: &'a [u8],
    /// Its media type with charset for text (`text/html; charset=utf-8`):
    /// object stores serve what they were told at upload.
    pub content_type: &'a str,
    /// How long browsers and CDNs may keep it (`Cache-Control`).
    pub cache_control: &'a str,
}

/// A place a version is published to.
///
/// Implementations keep every remote file either old or new, never
/// truncated: a file is written beside its final name and renamed over it
/// where the target allows, or sent in one atomic request.
pub trait Remote {
    /// The target as messages name it, without credentials
    /// (`sftp://formation@example.org:22/var/www/histoire/`).
    fn describe(&self) -> String;

    /// The manifest the last complete publish left on the target, `None`
    /// when there is none (a first publish, or a target published by hand).
    fn read_manifest(&mut self) -> Result<Option<Vec<u8>>, RemoteError>;

    /// Writes one file, creating the folders it needs.
    fn put(&mut self, file: &Upload<'_>) -> Result<(), RemoteError>;

    /// Deletes one file; a file that is already gone is not an error.
    fn delete(&mut self, path: &str) -> Result<(), RemoteError>;

    /// Ends the publish: writes the new manifest (atomically, like a file)
    /// and makes everything sent visible where the target needs a last step
    /// (git: one commit of what changed, then the push).
    fn commit(&mut self, manifest: &[u8]) -> Result<(), RemoteError>;
}

/// Why a target could not be published to. Each names what failed in words
/// a trainer can act on; the caller adds the version and the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteError {
    /// The host or folder cannot be reached (DNS, connection refused,
    /// timeout, missing bucket or repository).
    Unreachable(String),
    /// The host does not accept who we are (refused key, unknown or changed
    /// host key, missing or wrong credentials).
    Refused(String),
    /// The host took the connection but refused a write or a delete.
    Denied(String),
    /// Anything else the target answered.
    Failed(String),
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteError::Unreachable(why) => write!(f, "cannot reach the target: {why}"),
            RemoteError::Refused(why) => write!(f, "the target refused the credentials: {why}"),
            RemoteError::Denied(why) => write!(f, "the target refused a write: {why}"),
            RemoteError::Failed(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for RemoteError {}
