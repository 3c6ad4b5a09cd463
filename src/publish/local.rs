//! A folder on this machine as a publish target: a web server's root, a
//! mounted share, a folder a sync client uploads.
//!
//! Each file is written beside its final name (`.name.atelier-tmp-PID`)
//! and renamed over it, so a reader (or a publish killed by `kill -9`)
//! only ever sees the old file or the new one. Only files the manifest
//! lists are ever deleted, and only folders those deletions emptied are
//! removed: anything else in the folder is the user's.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::manifest::{MANIFEST_PATH, is_safe_path};
use super::remote::{Remote, RemoteError, Upload};

/// Held while a publish writes into the folder, so that two publishes of
/// the same folder take turns instead of interleaving their files.
const LOCK_FILE: &str = ".atelier-publish.lock";

/// What names a file being written: `.index.html.atelier-tmp-1234`.
const TMP_INFIX: &str = ".atelier-tmp-";

/// A local folder being published to.
pub(super) struct LocalFolder {
    root: PathBuf,
    /// Taken at the first write; `None` until then (a dry run never takes it).
    lock: Option<fs::File>,
}

impl LocalFolder {
    /// The folder at `root` (which may not exist yet: the first write
    /// creates it).
    pub(super) fn new(root: &Path) -> Self {
        LocalFolder {
            root: root.to_path_buf(),
            lock: None,
        }
    }

    /// Creates the folder, takes its lock and removes what killed
    /// publishes left there, once, before the first write.
    fn ready(&mut self) -> Result<(), RemoteError> {
        if self.lock.is_some() {
            return Ok(());
        }
        fs::create_dir_all(&self.root).map_err(|e| {
            unreachable_folder(&self.root, &e).unwrap_or_else(|| {
                from_io(
                    &format!("cannot create the folder {}", self.root.display()),
                    e,
                )
            })
        })?;
        let path = self.root.join(LOCK_FILE);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| from_io(&format!("cannot create {}", path.display()), e))?;
        match file.lock() {
            Ok(()) => {}
            // A file system without locks (some network shares): publish
            // unguarded rather than not at all.
            Err(e) if e.kind() == ErrorKind::Unsupported => {}
            Err(e) => return Err(from_io(&format!("cannot lock {}", path.display()), e)),
        }
        self.lock = Some(file);
        remove_leftovers(&self.root);
        Ok(())
    }

    fn path_of(&self, rel: &str) -> Result<PathBuf, RemoteError> {
        if !is_safe_path(rel) {
            return Err(RemoteError::Failed(format!(
                "refusing to write outside the target folder: {rel}"
            )));
        }
        Ok(self.root.join(rel))
    }

    /// Writes `bytes` at `rel` through a file beside it and a rename.
    fn write_atomically(&self, rel: &str, bytes: &[u8]) -> Result<(), RemoteError> {
        let path = self.path_of(rel)?;
        let parent = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(parent)
            .map_err(|e| from_io(&format!("cannot create the folder {}", parent.display()), e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = parent.join(format!(".{name}{TMP_INFIX}{}", std::process::id()));
        if let Err(e) = fs::write(&tmp, bytes) {
            let _ = fs::remove_file(&tmp);
            return Err(from_io(&format!("cannot write {}", tmp.display()), e));
        }
        fs::rename(&tmp, &path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            from_io(&format!("cannot replace {}", path.display()), e)
        })
    }
}

impl Remote for LocalFolder {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn read_manifest(&mut self) -> Result<Option<Vec<u8>>, RemoteError> {
        if let Ok(meta) = fs::metadata(&self.root)
            && !meta.is_dir()
        {
            return Err(RemoteError::Unreachable(format!(
                "{} is a file, not a folder",
                self.root.display()
            )));
        }
        match fs::read(self.root.join(MANIFEST_PATH)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(unreachable_folder(&self.root, &e).unwrap_or_else(|| {
                from_io(
                    &format!("cannot read {MANIFEST_PATH} in {}", self.root.display()),
                    e,
                )
            })),
        }
    }

    fn put(&mut self, file: &Upload<'_>) -> Result<(), RemoteError> {
        self.ready()?;
        self.write_atomically(file.path, file.bytes)
    }

    fn delete(&mut self, rel: &str) -> Result<(), RemoteError> {
        self.ready()?;
        let path = self.path_of(rel)?;
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(from_io(&format!("cannot delete {}", path.display()), e)),
        }
        // Folders the deletion emptied, up to (not including) the root;
        // `remove_dir` refuses any folder that still holds something.
        let mut folder = path.parent();
        while let Some(dir) = folder {
            if dir == self.root || fs::remove_dir(dir).is_err() {
                break;
            }
            folder = dir.parent();
        }
        Ok(())
    }

    fn commit(&mut self, manifest: &[u8]) -> Result<(), RemoteError> {
        self.ready()?;
        self.write_atomically(MANIFEST_PATH, manifest)
    }
}

/// When `error` comes from the folder's place itself (a parent that is a
/// file, a mount that is gone), the target cannot be reached at all.
fn unreachable_folder(root: &Path, error: &std::io::Error) -> Option<RemoteError> {
    let below_a_file = root
        .ancestors()
        .skip(1)
        .any(|a| fs::metadata(a).is_ok_and(|m| !m.is_dir()));
    (below_a_file || error.kind() == ErrorKind::NotADirectory).then(|| {
        RemoteError::Unreachable(format!(
            "{} cannot be a folder: a file is in its path",
            root.display()
        ))
    })
}

/// Removes the `.name.atelier-tmp-PID` files that publishes killed while
/// writing left in `root` (called with the folder's lock held, so no live
/// publish owns any). Only names atelier gives are considered.
fn remove_leftovers(root: &Path) {
    for entry in walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
    {
        let name = entry.file_name().to_string_lossy();
        let is_ours = name.starts_with('.')
            && name
                .rsplit_once(TMP_INFIX)
                .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
        if is_ours {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// A remote error for an I/O failure while `action`.
fn from_io(action: &str, error: std::io::Error) -> RemoteError {
    let text = format!("{action}: {error}");
    match error.kind() {
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => RemoteError::Denied(text),
        ErrorKind::NotADirectory => RemoteError::Unreachable(text),
        _ => RemoteError::Failed(text),
    }
}
