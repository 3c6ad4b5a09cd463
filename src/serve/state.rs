//! What the preview server serves: the last good build, held in memory, and
//! the events that tell open tabs to reload.
//!
//! Files a build copies as they are (`static/`, images and videos beside
//! the content) are not held: a layer names their source ([`DiskFile`]) and
//! each request reads them from disk, so the memory of the preview does not
//! grow with the media or with the number of versions showing them.
//!
//! The watcher side publishes a complete [`Snapshot`] only after a build
//! succeeded, so a request never sees a half-written site; a failed build
//! keeps the previous snapshot and publishes the errors instead.

pub use super::files::DiskFile;
use crate::hashing::FastMap;
use crate::render::PageMemo;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// The files of one version of a build, by path inside the version
/// (`index.html`, `modules/x/index.html`).
#[derive(Debug, Default)]
pub struct Layer {
    /// File bytes by path (no leading `/`).
    pub files: FastMap<String, Arc<[u8]>>,
    /// Content pages as the rendering remembered them (shared with the next
    /// rebuild, which reuses the unchanged ones).
    pub pages: Arc<PageMemo>,
    /// Files rendered only when first asked for (print pages).
    pub lazy: FastMap<String, Arc<LazyFile>>,
    /// Files served from their source on disk, shared by every layer that
    /// shows them.
    pub disk: FastMap<String, Arc<DiskFile>>,
}

impl Layer {
    fn contains(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
            || self.pages.contains_key(rel)
            || self.lazy.contains_key(rel)
            || self.disk.contains_key(rel)
    }

    fn is_empty(&self) -> bool {
        self.files.is_empty()
            && self.pages.is_empty()
            && self.lazy.is_empty()
            && self.disk.is_empty()
    }

    fn has_folder(&self, folder: &str) -> bool {
        folder.is_empty()
            || self
                .files
                .keys()
                .chain(self.pages.keys())
                .chain(self.lazy.keys())
                .chain(self.disk.keys())
                .any(|k| k.starts_with(folder))
    }

    fn find(&self, rel: &str) -> Option<Found> {
        if let Some(bytes) = self.files.get(rel) {
            return Some(Found::Bytes(Ok(Arc::clone(bytes))));
        }
        if let Some((_, bytes)) = self.pages.get(rel) {
            return Some(Found::Bytes(Ok(Arc::clone(bytes))));
        }
        if let Some(file) = self.disk.get(rel) {
            return Some(Found::Disk(Arc::clone(file)));
        }
        self.lazy.get(rel).map(|lazy| Found::Bytes(lazy.get()))
    }
}

/// What a snapshot holds at a path.
#[derive(Debug)]
pub enum Found {
    /// Bytes in memory, or why a lazy file could not be made.
    Bytes(Result<Arc<[u8]>, String>),
    /// A file to read from disk.
    Disk(Arc<DiskFile>),
}

/// A complete built site: every version as a layer under its folder (`""`
/// for the base version, `clients/lemoine/`, `_facilitator/`). A rebuild of
/// some versions shares the other layers with the snapshot before it, so
/// publishing costs nothing per file.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// Layers by folder, longest folder first (so `clients/x/` is found
    /// before `""`).
    layers: Vec<(String, Arc<Layer>)>,
    /// Build number, increasing; used in ETags.
    pub generation: u64,
}

impl Snapshot {
    /// An empty build numbered `generation`.
    pub fn new(generation: u64) -> Snapshot {
        Snapshot {
            layers: Vec::new(),
            generation,
        }
    }

    /// A build of one layer holding `files` by their full output path.
    pub fn from_files(
        files: impl IntoIterator<Item = (String, Arc<[u8]>)>,
        generation: u64,
    ) -> Snapshot {
        let mut snapshot = Snapshot::new(generation);
        snapshot.set_layer(
            "",
            Arc::new(Layer {
                files: files.into_iter().collect(),
                ..Layer::default()
            }),
        );
        snapshot
    }

    /// Puts (or replaces) the version under `folder`.
    pub fn set_layer(&mut self, folder: &str, layer: Arc<Layer>) {
        self.layers.retain(|(f, _)| f != folder);
        self.layers.push((folder.to_string(), layer));
        self.layers
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    }

    /// Takes from `other` the versions whose folder `keep` accepts (the
    /// ones this build did not render), sharing them.
    pub fn adopt(&mut self, other: &Snapshot, keep: impl Fn(&str) -> bool) {
        for (folder, layer) in &other.layers {
            if keep(folder) {
                self.set_layer(folder, Arc::clone(layer));
            }
        }
    }

    /// The layer `key` belongs to and the path inside it.
    fn locate<'k>(&self, key: &'k str) -> Option<(&Layer, &'k str)> {
        self.layers.iter().find_map(|(folder, layer)| {
            key.strip_prefix(folder.as_str())
                .map(|rest| (&**layer, rest))
        })
    }

    /// Whether the build has a file at `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.locate(key)
            .is_some_and(|(layer, rel)| layer.contains(rel))
    }

    /// Whether some file lies under `folder` (which ends with `/`).
    pub fn has_folder(&self, folder: &str) -> bool {
        self.layers.iter().any(
            |(prefix, layer)| match folder.strip_prefix(prefix.as_str()) {
                Some(inside) => layer.has_folder(inside),
                None => prefix.starts_with(folder) && !layer.is_empty(),
            },
        )
    }

    /// What is at `key`, rendering a lazy file the first time.
    pub fn find(&self, key: &str) -> Option<Found> {
        let (layer, rel) = self.locate(key)?;
        layer.find(rel)
    }

    /// The bytes at `key`, rendering a lazy file the first time, reading a
    /// file served from disk; `Err` when that failed.
    pub fn file(&self, key: &str) -> Option<Result<Arc<[u8]>, String>> {
        match self.find(key)? {
            Found::Bytes(bytes) => Some(bytes),
            Found::Disk(file) => Some(
                file.read()
                    .map(Arc::from)
                    .map_err(|e| format!("cannot read {key}: {e}")),
            ),
        }
    }
}

/// How a lazy file is made.
type Maker = Box<dyn Fn() -> Result<Arc<[u8]>, String> + Send + Sync>;

/// A file made on first request, then kept for the life of its snapshot;
/// requests arriving while it is being made wait for it.
pub struct LazyFile {
    bytes: OnceLock<Result<Arc<[u8]>, String>>,
    make: Maker,
}

impl LazyFile {
    /// A file `make` renders when it is first asked for.
    pub fn new(make: impl Fn() -> Result<Arc<[u8]>, String> + Send + Sync + 'static) -> Self {
        LazyFile {
            bytes: OnceLock::new(),
            make: Box::new(make),
        }
    }

    /// The file's bytes (made now if needed), or why they cannot be made.
    pub fn get(&self) -> Result<Arc<[u8]>, String> {
        self.bytes.get_or_init(|| (self.make)()).clone()
    }
}

impl std::fmt::Debug for LazyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyFile")
            .field("made", &self.bytes.get().is_some())
            .finish()
    }
}

/// One version a trainer can switch to from the preview toolbar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionLink {
    /// What the toolbar shows ("Version de base", "Maison Lemoine", "Animateur").
    pub label: String,
    /// Path prefix of that version in the snapshot ("", "clients/lemoine/", "_facilitator/").
    pub prefix: String,
}

/// What changed in the last successful build, so tabs react the right way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Only stylesheets changed: swap them without reloading.
    Css,
    /// Anything else: reload.
    Reload,
}

/// Which open pages an event concerns, by version folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every page.
    All,
    /// Pages under this folder (`_facilitator/`).
    Only(String),
    /// Pages not under this folder.
    Except(String),
}

/// One build problem as shown in the browser overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayError {
    /// `content/modules/02-x.md:4:1`.
    pub location: String,
    /// What is wrong.
    pub message: String,
    /// The source line, when known.
    pub source_line: Option<String>,
}

/// Shared between the watcher (writer) and the HTTP threads (readers).
#[derive(Debug, Default)]
pub struct LiveState {
    snapshot: RwLock<Arc<Snapshot>>,
    errors: RwLock<Vec<OverlayError>>,
    versions: RwLock<Vec<VersionLink>>,
    subscribers: Mutex<Vec<Sender<String>>>,
}

impl LiveState {
    /// A state serving `snapshot`.
    pub fn new(snapshot: Snapshot, versions: Vec<VersionLink>) -> LiveState {
        LiveState {
            snapshot: RwLock::new(Arc::new(snapshot)),
            versions: RwLock::new(versions),
            ..LiveState::default()
        }
    }

    /// The site being served now.
    pub fn current(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshot.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The errors of the last build (empty when it succeeded).
    pub fn errors(&self) -> Vec<OverlayError> {
        self.errors
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The versions the toolbar offers.
    pub fn versions(&self) -> Vec<VersionLink> {
        self.versions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Serves a new good build and tells every tab (`reload` or `css`).
    pub fn publish(&self, snapshot: Snapshot, versions: Vec<VersionLink>, change: Change) {
        self.publish_scoped(snapshot, versions, change, Scope::All);
    }

    /// Serves a new good build and tells the tabs of the versions it concerns.
    pub fn publish_scoped(
        &self,
        snapshot: Snapshot,
        versions: Vec<VersionLink>,
        change: Change,
        scope: Scope,
    ) {
        // The old build is dropped after the event is sent: freeing it is
        // not on the way to the reload.
        let old = std::mem::replace(
            &mut *self.snapshot.write().unwrap_or_else(|p| p.into_inner()),
            Arc::new(snapshot),
        );
        *self.versions.write().unwrap_or_else(|p| p.into_inner()) = versions;
        self.errors
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let build = build_id(self.current().generation);
        let data = match scope {
            Scope::All => serde_json::json!({ "build": build }),
            Scope::Only(prefix) => serde_json::json!({ "only": prefix, "build": build }),
            Scope::Except(prefix) => serde_json::json!({ "except": prefix, "build": build }),
        }
        .to_string();
        let event = match change {
            Change::Css => "css",
            Change::Reload => "reload",
        };
        self.broadcast(format!("event: {event}\ndata: {data}\n\n"));
        drop(old);
    }

    /// Keeps the last good build and shows `errors` in every tab.
    pub fn fail(&self, errors: Vec<OverlayError>) {
        let payload = errors_json(&errors);
        *self.errors.write().unwrap_or_else(|p| p.into_inner()) = errors;
        self.broadcast(format!("event: error\ndata: {payload}\n\n"));
    }

    /// Sends `message`, a complete SSE message that is not about a build
    /// (a presenter's move), to every open stream.
    pub fn send_event(&self, message: String) {
        self.broadcast(message);
    }

    /// A new event stream: receives complete SSE messages (`event: …\ndata: …\n\n`).
    pub fn subscribe(&self) -> Receiver<String> {
        let (sender, receiver) = channel();
        self.subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(sender);
        receiver
    }

    /// Number of open event streams (closed ones are dropped on the next event).
    pub fn subscriber_count(&self) -> usize {
        self.subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    fn broadcast(&self, message: String) {
        self.subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|sender| sender.send(message.clone()).is_ok());
    }
}

/// Names one build of one server process (in events and in the pages'
/// live-reload tag).
pub fn build_id(generation: u64) -> String {
    format!("{}-{generation}", instance_id())
}

/// Tells this server process apart from a restarted one (in `hello`
/// events and in the ETags of large files).
pub fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{:x}{:x}", std::process::id(), nanos)
    })
}

/// `{"errors":[{"location":…,"message":…,"source":…}]}` for the overlay.
pub fn errors_json(errors: &[OverlayError]) -> String {
    let items: Vec<serde_json::Value> = errors
        .iter()
        .map(|e| {
            serde_json::json!({
                "location": e.location,
                "message": e.message,
                "source": e.source_line,
            })
        })
        .collect();
    serde_json::json!({ "errors": items }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_reach_every_subscriber_and_closed_ones_are_dropped() {
        let state = LiveState::new(Snapshot::default(), Vec::new());
        let a = state.subscribe();
        let b = state.subscribe();
        drop(b);
        state.publish(Snapshot::default(), Vec::new(), Change::Css);
        assert_eq!(
            a.try_recv().ok(),
            Some(format!(
                "event: css\ndata: {{\"build\":\"{}\"}}\n\n",
                build_id(0)
            ))
        );
        assert_eq!(state.subscriber_count(), 1);
        let made = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = Arc::clone(&made);
        let mut snapshot =
            Snapshot::from_files([("index.html".to_string(), Arc::from(&b"base"[..]))], 1);
        let mut client = Layer::default();
        client.lazy.insert(
            "print/index.html".into(),
            Arc::new(LazyFile::new(move || {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(Arc::from(&b"<p>all</p>"[..]))
            })),
        );
        snapshot.set_layer("clients/a/", Arc::new(client));
        assert!(snapshot.contains("clients/a/print/index.html"));
        assert!(!snapshot.contains("print/index.html"));
        assert!(snapshot.has_folder("clients/"));
        assert!(snapshot.has_folder("clients/a/print/"));
        assert!(!snapshot.has_folder("modules/"));
        for _ in 0..3 {
            let bytes = snapshot
                .file("clients/a/print/index.html")
                .and_then(Result::ok);
            assert_eq!(bytes.as_deref(), Some(&b"<p>all</p>"[..]));
        }
        assert_eq!(
            made.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "made once"
        );
        let base = snapshot.file("index.html").and_then(Result::ok);
        assert_eq!(base.as_deref(), Some(&b"base"[..]));
        state.fail(vec![OverlayError {
            location: "content/x.md:1".into(),
            message: "bad".into(),
            source_line: None,
        }]);
        assert!(a.try_recv().unwrap_or_default().contains("content/x.md:1"));
        state.publish_scoped(
            Snapshot::default(),
            Vec::new(),
            Change::Reload,
            Scope::Only("_facilitator/".into()),
        );
        assert_eq!(
            a.try_recv().ok(),
            Some(format!(
                "event: reload\ndata: {{\"build\":\"{}\",\"only\":\"_facilitator/\"}}\n\n",
                build_id(0)
            ))
        );
    }
}
