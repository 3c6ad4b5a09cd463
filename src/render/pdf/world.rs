//! The Typst world of one workbook: everything the typesetter may read,
//! and nothing else. A main file written here (it imports the template and
//! hands it the document), the theme's or project's Typst files, the
//! document as JSON, the images it shows, the embedded fonts, and today's
//! date. No file of the machine is reachable through a path in a template,
//! no system font is looked up, no package is downloaded.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use typst::diag::{FileError, FileResult, Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};

/// Where a file of the world comes from.
pub(super) enum Content {
    /// Text or bytes made in memory (the main file, the JSON, a template).
    Bytes(Vec<u8>),
    /// A file read from disk when the typesetter first asks for it (an image).
    Disk(PathBuf),
}

/// One file of the world, with the name a message gives it.
pub(super) struct WorldFile {
    /// Its content.
    pub(super) content: Content,
    /// How messages name it (`templates/pdf/workbook.typ`).
    pub(super) origin: String,
}

/// The standard library and the fonts: made once per process, shared by
/// every workbook.
struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        Shared {
            library: LazyHash::new(Library::default()),
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    })
}

/// The world of one workbook.
pub(super) struct WorkbookWorld {
    main: FileId,
    /// Every file, by its absolute virtual path (`/main.typ`).
    files: HashMap<String, WorldFile>,
    /// Files already read or parsed.
    loaded: Mutex<HashMap<FileId, Loaded>>,
    today: Option<Datetime>,
}

/// A file as the typesetter got it.
#[derive(Clone)]
struct Loaded {
    bytes: FileResult<Bytes>,
    source: Option<FileResult<Source>>,
}

/// The file id of absolute virtual path `path`.
fn file_id(path: &str) -> Option<FileId> {
    VirtualPath::new(path)
        .ok()
        .map(|vpath| RootedPath::new(VirtualRoot::Project, vpath).intern())
}

/// The absolute virtual path of `id`, when it is a file of the project
/// (packages are never available).
fn path_of(id: FileId) -> Option<String> {
    let rooted = id.get();
    match rooted.root() {
        VirtualRoot::Project => Some(rooted.vpath().get_with_slash().to_string()),
        VirtualRoot::Package(_) => None,
    }
}

impl WorkbookWorld {
    /// A world of `files` whose main file is `main` (both virtual paths).
    pub(super) fn new(main: &str, files: HashMap<String, WorldFile>) -> Option<Self> {
        Some(WorkbookWorld {
            main: file_id(main)?,
            files,
            loaded: Mutex::default(),
            today: today(),
        })
    }

    fn load(&self, id: FileId) -> Loaded {
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = loaded.get(&id) {
            return hit.clone();
        }
        let bytes = self.read(id);
        let entry = Loaded {
            bytes,
            source: None,
        };
        loaded.insert(id, entry.clone());
        entry
    }

    fn read(&self, id: FileId) -> FileResult<Bytes> {
        let path = path_of(id).ok_or(FileError::AccessDenied)?;
        let file = self
            .files
            .get(&path)
            .ok_or_else(|| FileError::NotFound(PathBuf::from(&path)))?;
        match &file.content {
            Content::Bytes(bytes) => Ok(Bytes::new(bytes.clone())),
            Content::Disk(disk) => std::fs::read(disk)
                .map(Bytes::new)
                .map_err(|e| FileError::from_io(e, disk)),
        }
    }

    /// How messages name the file of `id`, and the 1-based line and column
    /// of `span` in it, when the span points into a file.
    pub(super) fn place(&self, span: typst::syntax::DiagSpan) -> Option<(String, usize, usize)> {
        let id = span.id()?;
        let path = path_of(id)?;
        let origin = self
            .files
            .get(&path)
            .map_or_else(|| path.clone(), |f| f.origin.clone());
        let range = self.range(span)?;
        let source = self.source(id).ok()?;
        let (line, column) = source.lines().byte_to_line_column(range.start)?;
        Some((origin, line + 1, column + 1))
    }

    /// The first error among `diagnostics` (the one to fix first).
    pub(super) fn first_error(diagnostics: &[SourceDiagnostic]) -> Option<&SourceDiagnostic> {
        diagnostics
            .iter()
            .find(|d| d.severity == Severity::Error)
            .or_else(|| diagnostics.first())
    }
}

impl World for WorkbookWorld {
    fn library(&self) -> &LazyHash<Library> {
        &shared().library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &shared().book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        let entry = self.load(id);
        if let Some(source) = entry.source {
            return source;
        }
        let source = entry.bytes.and_then(|bytes| {
            let text = std::str::from_utf8(&bytes).map_err(|_| FileError::InvalidUtf8)?;
            Ok(Source::new(id, text.to_string()))
        });
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cached) = loaded.get_mut(&id) {
            cached.source = Some(source.clone());
        }
        source
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.load(id).bytes
    }

    fn font(&self, index: usize) -> Option<Font> {
        shared().fonts.get(index).cloned()
    }

    fn today(&self, offset: Option<Duration>) -> Option<Datetime> {
        // The workbook's date is the day it is made, in UTC.
        let _ = offset;
        self.today
    }
}

/// Today's date in UTC, from the system clock.
fn today() -> Option<Datetime> {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (year, month, day) = civil_date(i64::try_from(seconds / 86_400).unwrap_or(0));
    Datetime::from_ymd(year, month, day)
}

/// The Gregorian date of day `days` since 1970-01-01 (Howard Hinnant's
/// civil-from-days algorithm).
fn civil_date(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(1970),
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(19_723), (2024, 1, 1));
        assert_eq!(civil_date(20_788), (2026, 12, 1));
        assert_eq!(civil_date(20_789), (2026, 12, 2));
        assert_eq!(civil_date(-1), (1969, 12, 31));
    }
}
