//! Files the preview serves from disk rather than memory: what a build
//! copies as it is (`static/`, images and videos beside the content). A
//! layer of the snapshot names the source ([`DiskFile`]); each request opens
//! it again (checked to be inside the project), tags it from its metadata
//! ([`etag`]) and sends it a piece at a time ([`stream`]), so the memory of
//! the preview does not grow with the media or the number of versions.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file of the build served from its source on disk, read on every
/// request (the system's page cache keeps it warm). Opening it checks
/// again that it lies inside the project: a `static/` entry replaced by a
/// link to elsewhere since the build is refused, not followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskFile {
    source: PathBuf,
    root: Arc<Path>,
}

impl DiskFile {
    /// The file at `source`, which must stay inside `root` (both as the
    /// build found them; `root` canonical).
    pub fn new(source: PathBuf, root: Arc<Path>) -> DiskFile {
        DiskFile { source, root }
    }

    /// Opens the file for reading, with its metadata; `NotFound` when it
    /// is gone, is not a file, or now resolves outside the project.
    pub fn open(&self) -> std::io::Result<(std::fs::File, std::fs::Metadata)> {
        let outside = || std::io::Error::from(std::io::ErrorKind::NotFound);
        let real = self.source.canonicalize()?;
        if !real.starts_with(&self.root) {
            return Err(outside());
        }
        let file = std::fs::File::open(&real)?;
        let metadata = file.metadata()?;
        if !metadata.is_file() {
            return Err(outside());
        }
        Ok((file, metadata))
    }

    /// The whole file (for pages that need their bytes: HTML gets the
    /// live script).
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        let (mut file, metadata) = self.open()?;
        let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

/// A strong ETag for a file on disk, from what changes when it is
/// rewritten: its length, modification time and inode.
pub fn etag(metadata: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!(
        "\"{:x}-{:x}.{:x}-{:x}\"",
        metadata.len(),
        metadata.mtime(),
        metadata.mtime_nsec(),
        metadata.ino()
    )
}

/// Writes `length` bytes of `file` from `start`, a piece at a time (a
/// video is never loaded whole). Fails if the file got shorter meanwhile:
/// the connection then closes, as the promised length cannot be kept.
pub fn stream(
    out: &mut impl std::io::Write,
    file: &std::fs::File,
    start: u64,
    length: u64,
) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    const PIECE: u64 = 256 * 1024;
    let mut buffer = vec![0u8; usize::try_from(length.min(PIECE)).unwrap_or(0)];
    let (mut at, end) = (start, start.saturating_add(length));
    while at < end {
        let want = usize::try_from((end - at).min(PIECE)).unwrap_or(0);
        let read = file.read_at(&mut buffer[..want], at)?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        out.write_all(&buffer[..read])?;
        at += read as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_streamed_and_a_file_that_shrank_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("clip.bin");
        let bytes: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).expect("write");
        let root: Arc<Path> = Arc::from(dir.path().canonicalize().expect("canonical"));
        let (file, metadata) = DiskFile::new(path.clone(), root).open().expect("open");
        assert_eq!(metadata.len(), 600_000);
        let mut out = Vec::new();
        stream(&mut out, &file, 1000, 300_000).expect("stream");
        assert!(out == bytes[1000..301_000]);
        std::fs::write(&path, b"short").expect("truncate");
        let error = stream(&mut Vec::new(), &file, 0, 600_000).expect_err("shorter now");
        assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_file_outside_the_root_or_a_folder_is_not_opened() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("project");
        std::fs::create_dir_all(root.join("static/dossier")).expect("mkdir");
        std::fs::write(dir.path().join("dehors.txt"), "x").expect("write");
        std::os::unix::fs::symlink(dir.path().join("dehors.txt"), root.join("static/lien.txt"))
            .expect("link");
        let root: Arc<Path> = Arc::from(root.canonicalize().expect("canonical"));
        for rel in ["static/lien.txt", "static/dossier", "static/absent.txt"] {
            let file = DiskFile::new(root.join(rel), Arc::clone(&root));
            let error = file.open().expect_err(rel);
            assert_eq!(error.kind(), std::io::ErrorKind::NotFound, "{rel}");
        }
    }
}
