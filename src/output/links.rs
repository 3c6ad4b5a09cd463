//! Files several versions of a build share, written once.
//!
//! Every version of a build holds the project's `static/` files and the
//! theme's: with twenty clients, a 50 MB video would be written forty times.
//! The staging folder writes such a file the first time a version asks for
//! it, and hard-links the later ones to that first file: one copy on disk,
//! under every version's path. Where the file system refuses a link (another
//! device, no hard links, too many links), the file is written again, as a
//! plain copy.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::hashing::{FastMap, FastSet};

/// Where the bytes of a shared file come from: the same origin means the
/// same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Origin {
    /// A file on disk, copied as is (a `static/` file, a content asset).
    Source(PathBuf),
    /// Bytes in memory that every version passes as the same `Arc` (a
    /// theme's static files), by address and length. The entry keeps the
    /// `Arc` alive, so the address is not reused during the build.
    Shared(usize, usize),
}

impl Origin {
    /// The origin of bytes shared by `Arc`.
    pub(super) fn of_bytes(bytes: &Arc<[u8]>) -> Origin {
        Origin::Shared(bytes.as_ptr() as usize, bytes.len())
    }
}

/// The first file written for one origin.
#[derive(Debug, Default)]
struct First {
    /// Its path, once written (`None`: writing it failed).
    path: OnceLock<Option<PathBuf>>,
    /// Keeps shared bytes alive (see [`Origin::Shared`]).
    _bytes: Option<Arc<[u8]>>,
}

/// The files of a build written once and linked into the other versions.
#[derive(Debug, Default)]
pub(super) struct Linker {
    firsts: Mutex<FastMap<Origin, Arc<First>>>,
    /// Paths made as links: writing one of them again must replace the
    /// link, never write through it into the other versions' file.
    linked: Mutex<FastSet<PathBuf>>,
}

impl Linker {
    /// Puts the bytes of `origin` at `path`: `make` writes them the first
    /// time (or when linking fails); later paths are hard links to the first.
    /// Versions writing the same origin at once wait for the first write.
    pub(super) fn place(
        &self,
        origin: Origin,
        keep: Option<&Arc<[u8]>>,
        path: &Path,
        make: impl Fn(&Path) -> io::Result<()>,
    ) -> io::Result<()> {
        self.unlink_if_linked(path)?;
        let first = Arc::clone(
            self.firsts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(origin)
                .or_insert_with(|| {
                    Arc::new(First {
                        path: OnceLock::new(),
                        _bytes: keep.map(Arc::clone),
                    })
                }),
        );
        let mut made_here = None;
        let written = first.path.get_or_init(|| {
            let outcome = make(path);
            let done = outcome.is_ok().then(|| path.to_path_buf());
            made_here = Some(outcome);
            done
        });
        if let Some(outcome) = made_here {
            return outcome;
        }
        match written {
            Some(first) if first != path => {
                if link_or_make(first, path, &make)? == Placed::Linked {
                    self.linked
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(path.to_path_buf());
                }
                Ok(())
            }
            _ => make(path),
        }
    }

    /// Before anything else is written at `path`: if it is a link to a
    /// shared file, removes the link (the others keep the file).
    pub(super) fn unlink_if_linked(&self, path: &Path) -> io::Result<()> {
        let was_linked = self
            .linked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(path);
        match was_linked {
            true => match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            false => Ok(()),
        }
    }
}

/// How a later copy of a shared file was placed.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Placed {
    /// A hard link to the first file.
    Linked,
    /// Written again, because the file system refused the link.
    Copied,
}

/// Hard-links `path` to `first`; when the file system refuses (another
/// device, no hard links, too many links to the file), writes it with
/// `make` instead.
pub(super) fn link_or_make(
    first: &Path,
    path: &Path,
    make: impl Fn(&Path) -> io::Result<()>,
) -> io::Result<Placed> {
    match fs::hard_link(first, path) {
        Ok(()) => Ok(Placed::Linked),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            fs::remove_file(path)?;
            match fs::hard_link(first, path) {
                Ok(()) => Ok(Placed::Linked),
                Err(_) => make(path).map(|()| Placed::Copied),
            }
        }
        Err(_) => make(path).map(|()| Placed::Copied),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn a_file_is_written_once_and_linked_after() {
        let dir = tempfile::tempdir().expect("temp dir");
        let linker = Linker::default();
        let source = dir.path().join("video.webm");
        fs::write(&source, b"video").expect("write");
        let copy = |to: &Path| fs::copy(&source, to).map(|_| ());
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let origin = Origin::Source(source.clone());
        linker.place(origin.clone(), None, &a, copy).expect("first");
        linker.place(origin, None, &b, copy).expect("second");
        let (ma, mb) = (fs::metadata(&a).expect("a"), fs::metadata(&b).expect("b"));
        assert_eq!(ma.ino(), mb.ino());
        assert_eq!(ma.nlink(), 2);
        // Writing b again breaks its link: a keeps its bytes.
        linker
            .place(Origin::Source(dir.path().join("other")), None, &b, |to| {
                fs::write(to, b"other")
            })
            .expect("rewrite");
        assert_eq!(fs::read(&a).expect("a"), b"video");
        assert_eq!(fs::read(&b).expect("b"), b"other");
    }

    /// A link across devices fails (EXDEV): the file is copied instead.
    /// `/dev/shm` is a tmpfs, the crate's `target/` is not.
    #[test]
    fn a_link_the_file_system_refuses_becomes_a_copy() {
        let shm = tempfile::tempdir_in("/dev/shm").expect("a folder in /dev/shm");
        let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
        let other = tempfile::tempdir_in(&target).expect("a folder in target/");
        let dev = |p: &Path| fs::metadata(p).expect("metadata").dev();
        assert_ne!(
            dev(shm.path()),
            dev(other.path()),
            "this test needs /dev/shm and target/ on two file systems"
        );
        let first = shm.path().join("first");
        fs::write(&first, b"bytes").expect("write");
        let path = other.path().join("second");
        let placed = link_or_make(&first, &path, |to| fs::copy(&first, to).map(|_| ()));
        assert_eq!(placed.expect("placed"), Placed::Copied);
        assert_eq!(fs::read(&path).expect("read"), b"bytes");
        assert_eq!(fs::metadata(&path).expect("metadata").nlink(), 1);
    }
}
