//! Diagnostics: the errors and warnings atelier reports about a project.
//!
//! Errors are product: every content problem names the file relative to the
//! project root, the line (and column when known), what is wrong and how to
//! fix it. A build collects every diagnostic it can find before stopping, so an
//! author fixes a whole batch in one pass instead of one error per run.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The build still succeeds; `check` (or `--strict`) may promote it.
    Warning,
    /// The build fails and the previous output is kept.
    Error,
}

/// One problem found in a project, located as precisely as we know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// File relative to the project root (e.g. `content/modules/02-x.md`).
    pub file: Option<PathBuf>,
    /// 1-based line in that file.
    pub line: Option<usize>,
    /// 1-based column (characters) in that line.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The one version this is about (a client slug, or `base`) when the
    /// problem exists only there, like a link to a page that version leaves
    /// out; `None` when it does not depend on the version. Kept apart from
    /// the message so reports can group one problem across versions.
    /// Boxed (one pointer): it is rare, and every `Result<_, Diagnostic>`
    /// stays small.
    pub version: Option<Box<String>>,
}

impl Diagnostic {
    /// An error about `file` (relative to the project root).
    pub fn error(file: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: Some(file.as_ref().to_path_buf()),
            line: None,
            column: None,
            message: message.into(),
            help: None,
            version: None,
        }
    }

    /// A warning about `file` (relative to the project root).
    pub fn warning(file: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, message)
        }
    }

    /// An error that belongs to no single file (the output folder, a client set…).
    pub fn general(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: None,
            line: None,
            column: None,
            message: message.into(),
            help: None,
            version: None,
        }
    }

    /// Sets the 1-based line.
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// Sets the 1-based line and column.
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Adds the "how to fix it" part.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Says which version (client slug, or `base`) the problem is about.
    pub fn in_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(Box::new(version.into()));
        self
    }

    /// True for errors (not warnings).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Turns a warning into an error (`check`, `--strict`).
    pub fn promoted(mut self) -> Self {
        self.severity = Severity::Error;
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{label}: {}", self.message)?;
        if let Some(file) = &self.file {
            let file = display_path(file);
            match (self.line, self.column) {
                (Some(line), Some(column)) => writeln!(f, "  --> {file}:{line}:{column}")?,
                (Some(line), None) => writeln!(f, "  --> {file}:{line}")?,
                _ => writeln!(f, "  --> {file}")?,
            }
        }
        match self.version.as_deref().map(String::as_str) {
            Some("base") => writeln!(f, "   = in: the base version")?,
            Some(slug) => writeln!(f, "   = in: the version for client `{slug}`")?,
            None => {}
        }
        if let Some(help) = &self.help {
            for (i, line) in help.lines().enumerate() {
                if i == 0 {
                    writeln!(f, "   = help: {line}")?;
                } else {
                    writeln!(f, "           {line}")?;
                }
            }
        }
        Ok(())
    }
}

/// A path with `/` separators on every platform, as users type them.
pub fn display_path(path: &Path) -> String {
    let mut shown = String::new();
    for component in path.components() {
        // After the root (`/`, or `C:\` on Windows) no separator is added.
        if !shown.is_empty() && !shown.ends_with('/') {
            shown.push('/');
        }
        match component {
            std::path::Component::RootDir => shown.push('/'),
            other => shown.push_str(&other.as_os_str().to_string_lossy()),
        }
    }
    shown
}

/// A thread-safe collector, so parallel stages can report without stopping.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Mutex<Vec<Diagnostic>>,
}

impl Diagnostics {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one diagnostic.
    pub fn push(&self, diagnostic: Diagnostic) {
        self.lock().push(diagnostic);
    }

    /// Records several diagnostics.
    pub fn extend(&self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.lock().extend(diagnostics);
    }

    /// True when at least one error (not warning) was recorded.
    pub fn has_errors(&self) -> bool {
        self.lock().iter().any(Diagnostic::is_error)
    }

    /// The recorded diagnostics, sorted by file, line and column so output is
    /// stable whatever the thread scheduling was; exact duplicates removed.
    pub fn into_sorted(self) -> Vec<Diagnostic> {
        let mut items = self
            .items
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        items.sort_by(|a, b| {
            (&a.file, a.line, a.column, &a.message, &a.version)
                .cmp(&(&b.file, b.line, b.column, &b.message, &b.version))
        });
        items.dedup();
        items
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Diagnostic>> {
        self.items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Why a command failed.
#[derive(Debug)]
pub enum Error {
    /// Problems in the project's content, config or templates (exit code 1).
    Content(Vec<Diagnostic>),
    /// The command was asked something it refuses to do (exit code 2).
    Usage(String),
    /// Reading or writing a file failed (exit code 1).
    Io {
        /// What we were doing.
        action: String,
        /// The file involved.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

impl Error {
    /// An I/O failure while `action` on `path`.
    pub fn io(action: impl Into<String>, path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            action: action.into(),
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// The process exit code for this failure: 2 for usage errors, else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Content(_) | Error::Io { .. } => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Content(diagnostics) => {
                for diagnostic in diagnostics {
                    writeln!(f, "{diagnostic}")?;
                }
                let errors = diagnostics.iter().filter(|d| d.is_error()).count();
                write!(
                    f,
                    "{errors} error{} found; nothing was written",
                    if errors == 1 { "" } else { "s" }
                )
            }
            Error::Usage(message) => write!(f, "error: {message}"),
            Error::Io {
                action,
                path,
                source,
            } => write!(f, "error: {action} {}: {source}", display_path(path)),
        }
    }
}

impl std::error::Error for Error {}

/// Result type of atelier's commands.
pub type Result<T, E = Error> = std::result::Result<T, E>;
