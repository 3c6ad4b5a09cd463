//! What the preview server serves: the last good build, held in memory, and
//! the events that tell open tabs to reload.
//!
//! The watcher side publishes a complete [`Snapshot`] only after a build
//! succeeded, so a request never sees a half-written site; a failed build
//! keeps the previous snapshot and publishes the errors instead.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// A complete built site: every file by its output path (`index.html`,
/// `modules/x/index.html`, `clients/lemoine/index.html`, and the facilitator
/// version under `_facilitator/`).
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// File bytes by output path (no leading `/`).
    pub files: HashMap<String, Arc<[u8]>>,
    /// Files of this build rendered only when first asked for (print pages).
    pub lazy: HashMap<String, Arc<LazyFile>>,
    /// Build number, increasing; used in ETags.
    pub generation: u64,
}

impl Snapshot {
    /// Whether the build has a file at `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.files.contains_key(key) || self.lazy.contains_key(key)
    }

    /// Every file path of the build.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.files.keys().chain(self.lazy.keys())
    }

    /// The bytes at `key`, rendering a lazy file the first time; `Err`
    /// when rendering it failed.
    pub fn file(&self, key: &str) -> Option<Result<Arc<[u8]>, String>> {
        match self.files.get(key) {
            Some(bytes) => Some(Ok(Arc::clone(bytes))),
            None => self.lazy.get(key).map(|lazy| lazy.get()),
        }
    }

    /// Takes the files of `other` whose path `keep` accepts.
    pub fn merge_from(&mut self, other: &Snapshot, keep: impl Fn(&str) -> bool) {
        for (path, bytes) in &other.files {
            if keep(path) {
                self.files.insert(path.clone(), Arc::clone(bytes));
            }
        }
        for (path, lazy) in &other.lazy {
            if keep(path) {
                self.lazy.insert(path.clone(), Arc::clone(lazy));
            }
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
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(snapshot);
        *self.versions.write().unwrap_or_else(|p| p.into_inner()) = versions;
        self.errors
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let data = match scope {
            Scope::All => "{}".to_string(),
            Scope::Only(prefix) => serde_json::json!({ "only": prefix }).to_string(),
            Scope::Except(prefix) => serde_json::json!({ "except": prefix }).to_string(),
        };
        let event = match change {
            Change::Css => "css",
            Change::Reload => "reload",
        };
        self.broadcast(format!("event: {event}\ndata: {data}\n\n"));
    }

    /// Keeps the last good build and shows `errors` in every tab.
    pub fn fail(&self, errors: Vec<OverlayError>) {
        let payload = errors_json(&errors);
        *self.errors.write().unwrap_or_else(|p| p.into_inner()) = errors;
        self.broadcast(format!("event: error\ndata: {payload}\n\n"));
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
            a.try_recv().ok().as_deref(),
            Some("event: css\ndata: {}\n\n")
        );
        assert_eq!(state.subscriber_count(), 1);
        let made = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = Arc::clone(&made);
        let mut snapshot = Snapshot::default();
        snapshot.lazy.insert(
            "print/index.html".into(),
            Arc::new(LazyFile::new(move || {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(Arc::from(&b"<p>all</p>"[..]))
            })),
        );
        assert!(snapshot.contains("print/index.html"));
        for _ in 0..3 {
            let bytes = snapshot.file("print/index.html").and_then(Result::ok);
            assert_eq!(bytes.as_deref(), Some(&b"<p>all</p>"[..]));
        }
        assert_eq!(
            made.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "made once"
        );
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
            a.try_recv().ok().as_deref(),
            Some("event: reload\ndata: {\"only\":\"_facilitator/\"}\n\n")
        );
    }
}
