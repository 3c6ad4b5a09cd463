//! Watching the project's sources for changes.
//!
//! Editors save in many ways (write in place, write a temporary file and
//! rename it over, swap files, bursts of writes), so folders are watched, not
//! files, every kind of event counts the same, and a burst is gathered into
//! one batch: after the first event, events keep coming in until the folders
//! have been quiet for a few milliseconds. Which paths matter is decided by
//! the session ([`super::session::Changes`]), not here.
//!
//! notify's own debouncer waits a fixed delay (hundreds of milliseconds in
//! practice) after every event; the quiet window here ends as soon as the
//! burst does, which is what keeps a save-to-reload under 20 ms.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};

/// Folders watched recursively, when they exist (or once they are created).
pub const WATCHED: [&str; 5] = ["content", "clients", "static", "templates", "themes"];

/// A burst ends after this long without events.
const QUIET: Duration = Duration::from_millis(8);
/// A burst never delays a rebuild longer than this.
const MAX_BURST: Duration = Duration::from_millis(300);

/// The project's source folders, watched.
pub struct Watcher {
    watcher: RecommendedWatcher,
    events: Receiver<notify::Result<notify::Event>>,
    root: PathBuf,
}

impl Watcher {
    /// Starts watching `root` (the folder itself, not recursively, for
    /// `atelier.yaml` and new source folders) and its source folders.
    pub fn start(root: &Path) -> notify::Result<Watcher> {
        let (sender, events) = channel();
        let mut watcher = notify::recommended_watcher(move |event| {
            let _ = sender.send(event);
        })?;
        watcher.watch(root, RecursiveMode::NonRecursive)?;
        for folder in WATCHED {
            let path = root.join(folder);
            if path.is_dir() {
                watcher.watch(&path, RecursiveMode::Recursive)?;
            }
        }
        Ok(Watcher {
            watcher,
            events,
            root: root.to_path_buf(),
        })
    }

    /// Waits for the next burst of changes and returns every path it touched.
    /// `None` when the watcher stopped.
    pub fn next_batch(&mut self) -> Option<Vec<PathBuf>> {
        let mut paths = Vec::new();
        let first = self.events.recv().ok()?;
        self.take(first, &mut paths);
        let started = Instant::now();
        loop {
            match self.events.recv_timeout(QUIET) {
                Ok(event) => self.take(event, &mut paths),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return None,
            }
            if started.elapsed() > MAX_BURST {
                break;
            }
        }
        paths.sort();
        paths.dedup();
        Some(paths)
    }

    fn take(&mut self, event: notify::Result<notify::Event>, paths: &mut Vec<PathBuf>) {
        let Ok(event) = event else {
            return;
        };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        for path in event.paths {
            // A source folder created after start (templates/, themes/…).
            if path.parent() == Some(self.root.as_path())
                && path.is_dir()
                && path
                    .file_name()
                    .is_some_and(|name| WATCHED.iter().any(|w| name == *w))
            {
                let _ = self.watcher.watch(&path, RecursiveMode::Recursive);
            }
            paths.push(path);
        }
    }
}
