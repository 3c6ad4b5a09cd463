//! Where rendered files go. Rendering writes through [`Sink`] and never
//! knows whether files land in a staging folder ([`super::Staging`]), in
//! memory ([`MemorySink`], the preview server's), nowhere ([`NullSink`],
//! `check`'s), or under a version's folder of another sink
//! ([`PrefixedSink`]).
//!
//! Static files are the same in many versions: a sink is told so
//! ([`Sink::copy`] names the source file, [`Sink::write_static`] passes
//! bytes every version shares), so the staging folder writes each once and
//! hard-links it into the other versions, and the preview keeps a copied
//! file as its path on disk, never its bytes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::hashing::FastMap;

/// Where rendered files go: a staging folder, memory, …
pub trait Sink: Sync {
    /// Writes `bytes` at `rel` (relative to the version's output root).
    fn write(&self, rel: &str, bytes: &[u8]) -> std::io::Result<()>;
    /// Copies the file at `source` to `rel`.
    fn copy(&self, rel: &str, source: &Path) -> std::io::Result<()>;
    /// Opens `rel` for writing in pieces (large pages).
    fn create(&self, rel: &str) -> std::io::Result<Box<dyn std::io::Write + '_>>;
    /// Writes bytes that may be shared (a page reused from the last build).
    fn write_shared(&self, rel: &str, bytes: Arc<[u8]>) -> std::io::Result<()> {
        self.write(rel, &bytes)
    }
    /// Writes bytes every version writes, the very same `Arc` (a theme's
    /// static files): a sink may store them once for all versions.
    fn write_static(&self, rel: &str, bytes: &Arc<[u8]>) -> std::io::Result<()> {
        self.write_shared(rel, Arc::clone(bytes))
    }
}

/// A sink that discards everything (for `check`), but still fails on a
/// static file that cannot be read, as a real build would.
pub struct NullSink;

impl Sink for NullSink {
    fn write(&self, _: &str, _: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
    fn copy(&self, _: &str, source: &Path) -> std::io::Result<()> {
        std::fs::metadata(source).map(|_| ())
    }
    fn create(&self, _: &str) -> std::io::Result<Box<dyn std::io::Write + '_>> {
        Ok(Box::new(std::io::sink()))
    }
}

/// Writes a version under its folder of another sink (`clients/<slug>/`,
/// `_facilitator/`…), so each version renders as if at the output root.
pub struct PrefixedSink<'a> {
    inner: &'a dyn Sink,
    prefix: &'a str,
}

impl<'a> PrefixedSink<'a> {
    /// `inner`, with every path put under `prefix` (`""` or ending in `/`).
    pub fn new(inner: &'a dyn Sink, prefix: &'a str) -> Self {
        PrefixedSink { inner, prefix }
    }
}

impl Sink for PrefixedSink<'_> {
    fn write(&self, rel: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.inner.write(&format!("{}{rel}", self.prefix), bytes)
    }
    fn copy(&self, rel: &str, source: &Path) -> std::io::Result<()> {
        self.inner.copy(&format!("{}{rel}", self.prefix), source)
    }
    fn create(&self, rel: &str) -> std::io::Result<Box<dyn std::io::Write + '_>> {
        self.inner.create(&format!("{}{rel}", self.prefix))
    }
    fn write_shared(&self, rel: &str, bytes: Arc<[u8]>) -> std::io::Result<()> {
        self.inner
            .write_shared(&format!("{}{rel}", self.prefix), bytes)
    }
    fn write_static(&self, rel: &str, bytes: &Arc<[u8]>) -> std::io::Result<()> {
        self.inner
            .write_static(&format!("{}{rel}", self.prefix), bytes)
    }
}

/// Files written by a rendering, in memory (the preview server serves
/// them from there). A copied file is not read: its source path is kept,
/// and the preview serves it from disk, so a video in `static/` costs no
/// memory however many versions show it.
#[derive(Default)]
pub struct MemorySink {
    files: Mutex<FastMap<String, Arc<[u8]>>>,
    copied: Mutex<FastMap<String, PathBuf>>,
}

/// What a [`MemorySink`] received.
#[derive(Debug, Default)]
pub struct MemoryFiles {
    /// Written files, by path.
    pub written: FastMap<String, Arc<[u8]>>,
    /// Copied files: their source on disk, by path.
    pub copied: FastMap<String, PathBuf>,
}

struct MemoryWriter<'a> {
    sink: &'a MemorySink,
    rel: String,
    buffer: Vec<u8>,
}

impl std::io::Write for MemoryWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let bytes: Arc<[u8]> = Arc::from(std::mem::take(&mut self.buffer));
        self.sink.insert(&self.rel, bytes);
        Ok(())
    }
}

impl MemorySink {
    fn insert(&self, rel: &str, bytes: Arc<[u8]>) {
        self.files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(rel.to_string(), bytes);
    }

    /// Everything written and copied.
    pub fn into_files(self) -> MemoryFiles {
        MemoryFiles {
            written: self.files.into_inner().unwrap_or_else(|p| p.into_inner()),
            copied: self.copied.into_inner().unwrap_or_else(|p| p.into_inner()),
        }
    }
}

impl Sink for MemorySink {
    fn write(&self, rel: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.insert(rel, Arc::from(bytes));
        Ok(())
    }
    /// Remembers where `rel` comes from, after checking that it is a file
    /// (as a real copy would fail on a missing one).
    fn copy(&self, rel: &str, source: &Path) -> std::io::Result<()> {
        if !std::fs::metadata(source)?.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a file", source.display()),
            ));
        }
        self.copied
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(rel.to_string(), source.to_path_buf());
        Ok(())
    }
    fn create(&self, rel: &str) -> std::io::Result<Box<dyn std::io::Write + '_>> {
        Ok(Box::new(MemoryWriter {
            sink: self,
            rel: rel.to_string(),
            buffer: Vec::new(),
        }))
    }
    fn write_shared(&self, rel: &str, bytes: Arc<[u8]>) -> std::io::Result<()> {
        self.insert(rel, bytes);
        Ok(())
    }
}
