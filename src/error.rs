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
    /// The versions it was found in (`base`, a client's slug, see
    /// [`version_name`]), in build order: one problem in a file that several
    /// versions share is reported once, naming the versions it affects.
    /// None when it belongs to no version (the sources as read, the config)
    /// or, once grouped, when every version built has it. (Boxed: most
    /// diagnostics have none, and a `Result` carrying one stays small.)
    versions: Option<Box<VersionList>>,
}

/// The versions a diagnostic was found in (behind one pointer, so that
/// the many diagnostics with none stay small).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct VersionList(Vec<String>);

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
            versions: None,
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
            versions: None,
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

    /// Marks it as found while building `version` (see [`version_name`]).
    /// Diagnostics gathered through [`Diagnostics::absorb`] are marked
    /// already; this is for the few found after the versions were built.
    pub fn in_version(mut self, version: impl Into<String>) -> Self {
        self.add_version(version.into());
        self
    }

    /// A warning that belongs to no single file.
    pub fn general_warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::general(message)
        }
    }

    /// The versions it was found in, in build order (see the field); empty
    /// when it is about no version in particular, or about all of them.
    pub fn versions(&self) -> &[String] {
        self.versions
            .as_deref()
            .map_or(&[], |list| list.0.as_slice())
    }

    fn add_version(&mut self, version: String) {
        let list = self.versions.get_or_insert_with(Box::default);
        if !list.0.contains(&version) {
            list.0.push(version);
        }
    }

    /// "in version: a" or "in versions: a, b"; `None` when it names none.
    pub fn versions_note(&self) -> Option<String> {
        match self.versions() {
            [] => None,
            [one] => Some(format!("in version: {one}")),
            many => Some(format!("in versions: {}", many.join(", "))),
        }
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
        if let Some(note) = self.versions_note() {
            writeln!(f, "   = {note}")?;
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

/// The name a version goes by in messages: `base`, a client's slug, and the
/// same with ` (facilitator)` for the facilitator versions.
pub fn version_name(client_slug: Option<&str>, facilitator: bool) -> String {
    let name = client_slug.unwrap_or("base");
    if facilitator {
        format!("{name} (facilitator)")
    } else {
        name.to_string()
    }
}

/// A thread-safe collector, so parallel stages can report without stopping.
///
/// It also groups what several versions found: [`Diagnostics::absorb`]
/// marks each diagnostic with the version it was found in, and
/// [`Diagnostics::into_sorted`] reports a problem found in several versions
/// once, naming them (or none, when every version has it). Call sites that
/// report per version need do nothing for that.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Mutex<Vec<Diagnostic>>,
    /// Every version of the run, in build order (see [`Diagnostics::declare_versions`]).
    versions: Mutex<Vec<String>>,
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

    /// Says which versions this run builds, in build order: a problem every
    /// one of them has names none, and grouped problems list them in this
    /// order.
    pub fn declare_versions(&self, names: impl IntoIterator<Item = String>) {
        let mut versions = self
            .versions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for name in names {
            if !versions.contains(&name) {
                versions.push(name);
            }
        }
    }

    /// Records what building one version found (its own collector), each
    /// diagnostic marked as found in `version`.
    pub fn absorb(&self, version: &str, found: Diagnostics) {
        let found = found.into_items();
        self.lock()
            .extend(found.into_iter().map(|d| d.in_version(version)));
    }

    /// True when at least one error (not warning) was recorded.
    pub fn has_errors(&self) -> bool {
        self.lock().iter().any(Diagnostic::is_error)
    }

    /// The recorded diagnostics, one per distinct problem, sorted by file,
    /// line and column so output is stable whatever the thread scheduling
    /// was. The same problem (severity, place and message) found in several
    /// versions is one diagnostic naming those versions (none when all the
    /// declared versions have it), with the help of the first of them in
    /// build order, so the text never depends on which thread came first.
    pub fn into_sorted(self) -> Vec<Diagnostic> {
        let order = self
            .versions
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        group(
            self.items
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            &order,
        )
    }

    fn into_items(self) -> Vec<Diagnostic> {
        self.items
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Diagnostic>> {
        self.items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One diagnostic per distinct problem: see [`Diagnostics::into_sorted`].
///
/// Columns are not compared across versions: a column found in text where
/// variables were already substituted moves with the length of their values.
/// Within one version, the same message on the same line at different
/// columns is as many problems; across versions, the n-th of them in one
/// version is the n-th in another.
fn group(items: Vec<Diagnostic>, order: &[String]) -> Vec<Diagnostic> {
    // Where a version comes in build order; unmarked diagnostics first.
    let rank = |d: &Diagnostic| {
        d.versions().first().map_or(0, |v| {
            1 + order.iter().position(|o| o == v).unwrap_or(order.len())
        })
    };
    let mut items = items;
    items.sort_by(|a, b| {
        (
            &a.file,
            a.line,
            &a.message,
            a.severity,
            a.versions(),
            a.column,
        )
            .cmp(&(
                &b.file,
                b.line,
                &b.message,
                b.severity,
                b.versions(),
                b.column,
            ))
    });
    let mut numbered: Vec<(usize, Diagnostic)> = Vec::with_capacity(items.len());
    for item in items {
        let occurrence = match numbered.last() {
            Some((n, last)) if same_problem(last, &item) && last.versions() == item.versions() => {
                if last.column == item.column {
                    *n
                } else {
                    n + 1
                }
            }
            _ => 0,
        };
        numbered.push((occurrence, item));
    }
    numbered.sort_by(|(n, a), (m, b)| {
        (
            &a.file,
            a.line,
            &a.message,
            a.severity,
            n,
            rank(a),
            a.column,
        )
            .cmp(&(
                &b.file,
                b.line,
                &b.message,
                b.severity,
                m,
                rank(b),
                b.column,
            ))
    });
    let mut grouped: Vec<(usize, Diagnostic)> = Vec::with_capacity(numbered.len());
    let mut everywhere = false;
    for (occurrence, item) in numbered {
        match grouped.last_mut() {
            Some((n, last)) if *n == occurrence && same_problem(last, &item) => {
                everywhere |= item.versions().is_empty();
                for version in item.versions.into_iter().flat_map(|list| list.0) {
                    last.add_version(version);
                }
            }
            _ => {
                if let Some((_, last)) = grouped.last_mut() {
                    settle_versions(last, everywhere, order);
                }
                everywhere = item.versions().is_empty();
                grouped.push((occurrence, item));
            }
        }
    }
    if let Some((_, last)) = grouped.last_mut() {
        settle_versions(last, everywhere, order);
    }
    let mut grouped: Vec<Diagnostic> = grouped.into_iter().map(|(_, d)| d).collect();
    grouped.sort_by(|a, b| {
        (&a.file, a.line, a.column, &a.message).cmp(&(&b.file, b.line, b.column, &b.message))
    });
    grouped
}

/// The same problem, whichever version found it (columns aside).
fn same_problem(a: &Diagnostic, b: &Diagnostic) -> bool {
    a.severity == b.severity && a.file == b.file && a.line == b.line && a.message == b.message
}

/// A grouped diagnostic's versions in build order, or none when it is in
/// every version (or was also reported about no version in particular).
fn settle_versions(diagnostic: &mut Diagnostic, everywhere: bool, order: &[String]) {
    let all = !order.is_empty() && order.iter().all(|v| diagnostic.versions().contains(v));
    if everywhere || all {
        diagnostic.versions = None;
        return;
    }
    let position = |v: &String| order.iter().position(|o| o == v).unwrap_or(order.len());
    if let Some(list) = diagnostic.versions.as_mut() {
        list.0
            .sort_by(|a, b| (position(a), a).cmp(&(position(b), b)));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown_exercise(help: &str) -> Diagnostics {
        let found = Diagnostics::new();
        found.push(
            Diagnostic::error("content/modules/01-a.md", "unknown exercise `lettr`")
                .at_line(4)
                .with_help(help),
        );
        found
    }

    fn collector(versions: &[&str]) -> Diagnostics {
        let all = Diagnostics::new();
        all.declare_versions(versions.iter().map(|v| v.to_string()));
        all
    }

    #[test]
    fn a_problem_every_version_has_is_reported_once_naming_none() {
        let all = collector(&["base", "a", "b"]);
        // Found in another order than the build's: the help is the base's.
        for (version, help) in [
            ("b", "ids: extra, lettre"),
            ("base", "ids: lettre"),
            ("a", "ids: lettre"),
        ] {
            all.absorb(version, unknown_exercise(help));
        }
        let grouped = all.into_sorted();
        assert_eq!(grouped.len(), 1, "{grouped:?}");
        assert!(grouped[0].versions().is_empty());
        assert_eq!(grouped[0].help.as_deref(), Some("ids: lettre"));
        assert!(!grouped[0].to_string().contains("in version"));
    }

    #[test]
    fn a_problem_some_versions_have_names_them_in_build_order() {
        let all = collector(&["base", "maison-lemoine", "cabinet-belcourt"]);
        all.absorb("cabinet-belcourt", unknown_exercise("x"));
        all.absorb("maison-lemoine", unknown_exercise("y"));
        let grouped = all.into_sorted();
        assert_eq!(grouped.len(), 1);
        assert_eq!(grouped[0].help.as_deref(), Some("y"));
        assert!(
            grouped[0]
                .to_string()
                .contains("= in versions: maison-lemoine, cabinet-belcourt"),
            "{}",
            grouped[0]
        );
        let one = collector(&["base", "b"]);
        one.absorb("b", unknown_exercise("x"));
        assert!(
            one.into_sorted()[0]
                .to_string()
                .contains("= in version: b\n")
        );
    }

    #[test]
    fn columns_moved_by_a_version_s_values_are_the_same_problem() {
        let all = collector(&["base", "a", "b"]);
        for (version, shift) in [("base", 0), ("a", 7), ("b", 3)] {
            let lines = Diagnostics::new();
            for column in [10, 30] {
                let link = Diagnostic::error("content/x.md", "broken link `y.md`");
                lines.push(link.clone().at(6, column + shift));
                // Reported twice in one version (page and print page).
                lines.push(link.at(6, column + shift));
            }
            all.absorb(version, lines);
        }
        let grouped = all.into_sorted();
        assert_eq!(grouped.len(), 2, "{grouped:?}");
        assert_eq!(
            grouped.iter().map(|d| d.column).collect::<Vec<_>>(),
            [Some(10), Some(30)],
            "the column of the first version in build order"
        );
        assert!(grouped.iter().all(|d| d.versions().is_empty()));
    }

    #[test]
    fn different_problems_stay_apart() {
        let all = collector(&["base", "a"]);
        let found = Diagnostics::new();
        found.push(Diagnostic::warning("content/x.md", "first").at_line(2));
        found.push(Diagnostic::error("content/x.md", "first").at_line(2));
        found.push(Diagnostic::warning("content/x.md", "first").at_line(3));
        all.absorb("a", found);
        all.push(Diagnostic::warning("content/x.md", "first").at_line(2));
        all.absorb("base", unknown_exercise("h"));
        let grouped = all.into_sorted();
        assert_eq!(grouped.len(), 4, "{grouped:?}");
        // Also reported about no version in particular: it names none.
        assert!(
            grouped.iter().all(|d| d.versions().is_empty()
                || d.versions() == ["a"]
                || d.versions() == ["base"])
        );
        let line_two: Vec<_> = grouped.iter().filter(|d| d.line == Some(2)).collect();
        assert!(
            line_two
                .iter()
                .any(|d| !d.is_error() && d.versions().is_empty())
        );
    }
}
