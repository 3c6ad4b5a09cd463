//! Loading a content tree (`content/`, or a client's overlay) into pages and assets.
//!
//! This is the first stage of the data flow (load → compose → render → write):
//! every Markdown file is read and its front matter parsed exactly once, in
//! parallel; nothing here knows about navigation, clients or HTML.

pub mod frontmatter;
pub mod page;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use walkdir::WalkDir;

use crate::error::{Diagnostic, Diagnostics, display_path};
use crate::slug::{split_order_prefix, stem_slug};
pub use page::{
    ClientRule, ExerciseFront, ExerciseKind, Field, FieldType, Front, ModuleFront, PageFront,
    PageKind, SourcePage,
};

/// A non-Markdown file beside the content (an image, a PDF…), copied with it.
#[derive(Debug, Clone)]
pub struct Asset {
    /// Absolute path to read from.
    pub source: PathBuf,
    /// Path relative to the project root, for messages.
    pub file: PathBuf,
    /// Path relative to its content root, with `/` (`modules/03-recit/photo.jpg`).
    pub rel: String,
    /// Where it goes, relative to the output root (`modules/recit/photo.jpg`).
    pub output: String,
}

/// Everything found under one content root.
#[derive(Debug, Clone, Default)]
pub struct ContentSet {
    /// Markdown pages, in path order.
    pub pages: Vec<SourcePage>,
    /// Other files, in path order.
    pub assets: Vec<Asset>,
    /// URL segments of the tree's folders and files, to re-read one file
    /// (preview server) without walking the tree again.
    pub segments: std::sync::Arc<Segments>,
}

/// Names editors and systems leave behind while saving; never content.
pub fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".swo")
        || name.ends_with(".tmp")
        || name.ends_with(".kate-swp")
        || name.ends_with(".crswap")
        || name.contains("___jb_")
        || name == "4913"
        || (name.starts_with('#') && name.ends_with('#'))
        || name == "Thumbs.db"
}

/// Reads every file under `root/dir` (`content`).
///
/// A missing folder is an empty set. Problems are recorded in `diagnostics`;
/// files with problems are left out of the result.
pub fn load(root: &Path, dir: &Path, diagnostics: &Diagnostics) -> ContentSet {
    load_tree(root, dir, None, diagnostics)
}

/// Reads a client's overlay `root/dir` (`clients/x/content`), which lies over
/// the base tree whose segments are `base`: a file's URL is decided among
/// its siblings in both trees, so an overlay page has the URL of the base
/// page it replaces, and its folders the URLs of the base folders.
pub fn load_overlay(
    root: &Path,
    dir: &Path,
    base: &Segments,
    diagnostics: &Diagnostics,
) -> ContentSet {
    load_tree(root, dir, Some(base), diagnostics)
}

fn load_tree(
    root: &Path,
    dir: &Path,
    under: Option<&Segments>,
    diagnostics: &Diagnostics,
) -> ContentSet {
    let base = root.join(dir);
    if !base.is_dir() {
        return ContentSet::default();
    }
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut markdown = Vec::new();
    let mut assets = Vec::new();
    let mut folders = Vec::new();
    let walker = WalkDir::new(&base)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            entry.depth() == 0 || !is_ignored_name(&entry.file_name().to_string_lossy())
        });
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let path = error.path().unwrap_or(&base);
                diagnostics.push(Diagnostic::error(
                    relative_to(root, path),
                    format!("cannot read: {error}"),
                ));
                continue;
            }
        };
        let path = entry.path();
        let file = relative_to(root, path);
        if entry.path_is_symlink() {
            match path.canonicalize() {
                Ok(target) if target.starts_with(&canonical_root) => {
                    if target.is_dir() {
                        diagnostics.push(
                            Diagnostic::warning(
                                &file,
                                "symbolic links to folders are not followed",
                            )
                            .with_help("move the folder here, or link its files one by one"),
                        );
                        continue;
                    }
                }
                _ => {
                    diagnostics.push(
                        Diagnostic::error(
                            &file,
                            "symbolic link points outside the project: refused",
                        )
                        .with_help("copy the file into the project instead of linking to it"),
                    );
                    continue;
                }
            }
        } else if entry.file_type().is_dir() {
            if let Ok(rel) = path.strip_prefix(&base)
                && !rel.as_os_str().is_empty()
            {
                folders.push(display_path(rel));
            }
            continue;
        } else if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel_path) = path.strip_prefix(&base) else {
            continue;
        };
        let rel = display_path(rel_path);
        if rel.ends_with(".md") {
            markdown.push((path.to_path_buf(), file, rel));
        } else {
            assets.push(Asset {
                source: path.to_path_buf(),
                file,
                rel,
                output: String::new(),
            });
        }
    }
    let segments = Segments::new(
        folders
            .iter()
            .map(String::as_str)
            .chain(markdown.iter().map(|(_, _, rel)| rel.as_str())),
        under,
        dir,
        diagnostics,
    );
    for asset in &mut assets {
        asset.output = output_path_of_asset(&asset.rel, &segments);
    }
    let results: Vec<Result<SourcePage, Vec<Diagnostic>>> = markdown
        .into_par_iter()
        .map(|(path, file, rel)| read_page(&path, file, rel, &segments))
        .collect();
    let mut pages = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(page) => pages.push(page),
            Err(problems) => diagnostics.extend(problems),
        }
    }
    ContentSet {
        pages,
        assets,
        segments: std::sync::Arc::new(segments),
    }
}

/// Re-reads one Markdown file of a content root whose folder layout did not
/// change (the preview server, after an edit).
pub fn reload_page(
    root: &Path,
    dir: &Path,
    rel: &str,
    segments: &Segments,
) -> Result<SourcePage, Vec<Diagnostic>> {
    let path = root.join(dir).join(rel);
    let file = relative_to(root, &path);
    read_page(&path, file, rel.to_string(), segments)
}

/// `path` relative to `root` (or as is when it is not below it).
pub fn relative_to(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// Output path of an asset: folders mapped like page URLs, file name kept.
fn output_path_of_asset(rel: &str, segments: &Segments) -> String {
    let (folder, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let mut out = segments.folder_url(folder);
    out.push_str(name);
    out
}

/// The URL segment of each folder and Markdown file under a content root.
///
/// A segment is the name's slug without its `NN-` prefix. When siblings
/// differ only by that prefix (`01-intro.md` and `05-intro.md`), dropping it
/// would give them one URL: they keep their prefix instead, with a warning.
/// Names that collide otherwise (`Émotion.md` and `emotion.md`) are left
/// alone, and composition reports them as one URL for two files.
#[derive(Debug, Default)]
pub struct Segments {
    prefixed: std::collections::HashSet<String>,
    /// Every folder and `.md` file of this tree, so an overlay can be laid
    /// over it.
    names: std::collections::HashSet<String>,
    /// Where the tree is, relative to the project (`content`).
    dir: PathBuf,
    /// The tree is a client's overlay, laid over the base content.
    overlay: bool,
}

impl Segments {
    /// Computes the segments of `paths` (content-relative folders and `.md`
    /// files of the tree at `dir`), laid over the tree of `under` if any:
    /// siblings are then those of both trees, and only collisions involving
    /// a name of this tree are reported (the tree below reported its own).
    fn new<'a>(
        paths: impl Iterator<Item = &'a str>,
        under: Option<&Segments>,
        dir: &Path,
        diagnostics: &Diagnostics,
    ) -> Segments {
        let own: std::collections::HashSet<String> = paths.map(str::to_string).collect();
        let below = under.map(|u| &u.names);
        let mut groups: std::collections::BTreeMap<(String, String), Vec<&str>> =
            Default::default();
        for path in own.iter().chain(below.into_iter().flatten()) {
            let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
            let stem = name.strip_suffix(".md").unwrap_or(name);
            if stem == "_index" {
                continue;
            }
            groups
                .entry((parent.to_string(), stem_slug(stem)))
                .or_default()
                .push(path);
        }
        let mut prefixed = std::collections::HashSet::new();
        for ((_, slug), mut members) in groups {
            members.sort_unstable();
            members.dedup();
            if members.len() < 2 {
                continue;
            }
            let full: std::collections::HashSet<String> = members
                .iter()
                .map(|p| full_slug(p.rsplit('/').next().unwrap_or(p)))
                .collect();
            if full.len() != members.len() {
                continue;
            }
            prefixed.extend(members.iter().map(|m| m.to_string()));
            let new_here = |m: &&str| below.is_none_or(|b| !b.contains(*m));
            if !members.iter().any(new_here) {
                continue;
            }
            let shown: Vec<String> = members
                .iter()
                .map(|m| match under {
                    Some(under) if !own.contains(*m) => display_path(&under.dir.join(m)),
                    _ => display_path(&dir.join(m)),
                })
                .collect();
            let first = members.iter().position(new_here).unwrap_or_default();
            diagnostics.push(
                Diagnostic::warning(
                    &shown[first],
                    format!(
                        "{} share the URL name `{slug}` once their number prefix is dropped, so their URLs keep the prefix",
                        shown.join(" and ")
                    ),
                )
                .with_help("give them distinct names to get prefix-free URLs"),
            );
        }
        Segments {
            prefixed,
            names: own,
            dir: dir.to_path_buf(),
            overlay: under.is_some(),
        }
    }

    /// The segment of one folder or file, given its content-relative path.
    fn of(&self, path: &str) -> String {
        let name = path.rsplit('/').next().unwrap_or(path);
        let stem = name.strip_suffix(".md").unwrap_or(name);
        let slug = if self.prefixed.contains(path) {
            full_slug(stem)
        } else {
            stem_slug(stem)
        };
        if slug.is_empty() {
            stem.to_string()
        } else {
            slug
        }
    }

    /// The URL of a content-relative folder: `modules/03-recit` → `modules/recit/`.
    pub fn folder_url(&self, folder: &str) -> String {
        if folder.is_empty() {
            return String::new();
        }
        let mut url = String::new();
        let mut end = 0;
        for part in folder.split('/') {
            end += part.len();
            url.push_str(&self.of(&folder[..end]));
            url.push('/');
            end += 1;
        }
        url
    }
}

/// The slug of a name with its number prefix kept.
fn full_slug(name: &str) -> String {
    crate::slug::slugify(name.strip_suffix(".md").unwrap_or(name))
}

fn read_page(
    path: &Path,
    file: PathBuf,
    rel: String,
    segments: &Segments,
) -> Result<SourcePage, Vec<Diagnostic>> {
    let bytes = std::fs::read(path).map_err(|error| {
        vec![Diagnostic::error(
            &file,
            format!("cannot read the file: {error}"),
        )]
    })?;
    let text = String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let bytes = error.as_bytes();
        let line = bytes[..valid].iter().filter(|&&b| b == b'\n').count() + 1;
        let column = bytes[..valid]
            .rsplit(|&b| b == b'\n')
            .next()
            .map_or(1, |l| String::from_utf8_lossy(l).chars().count() + 1);
        vec![
            Diagnostic::error(&file, "the file is not valid UTF-8 text")
                .at(line, column)
                .with_help("save the file with the UTF-8 encoding in your editor"),
        ]
    })?;
    parse_page(&text, file, rel, segments)
}

/// Parses one Markdown file's text; `rel` is its path under the content root.
pub fn parse_page(
    text: &str,
    file: PathBuf,
    rel: String,
    segments: &Segments,
) -> Result<SourcePage, Vec<Diagnostic>> {
    let split = frontmatter::split(text).map_err(|_| {
        vec![
            Diagnostic::error(&file, "front matter opened on line 1 is never closed")
                .at_line(1)
                .with_help("add a line `---` after the last front-matter key"),
        ]
    })?;
    let Some(front_text) = split.front else {
        return Err(vec![
            Diagnostic::error(&file, "the page has no front matter, so no title")
                .at_line(1)
                .with_help("start the file with:\n---\ntitle: The page title\n---"),
        ]);
    };
    let place = Place::of(&rel, segments);
    let line = split.front_line;
    let front = match place.kind {
        PageKind::Module | PageKind::Step => {
            crate::yaml::parse(front_text, &file, line, "module front matter").map(Front::Module)
        }
        PageKind::Exercise => crate::yaml::parse(front_text, &file, line, "exercise front matter")
            .map(Front::Exercise),
        PageKind::Landing | PageKind::Page => {
            crate::yaml::parse(front_text, &file, line, "page front matter").map(Front::Page)
        }
    }
    .map_err(|d| vec![d])?;
    let problems = validate(&front, front_text, &file, line, segments.overlay);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(SourcePage {
        file,
        rel,
        kind: place.kind,
        sort_title: front.title().to_lowercase(),
        front,
        front_text: front_text.to_string(),
        front_line: line,
        body: split.body.to_string(),
        body_line: split.body_line,
        slug: place.slug,
        prefix_order: place.prefix_order,
        url: place.url,
        parent: place.parent,
    })
}

/// Checks what the front matter's types cannot say. In an overlay, a page
/// that only hides the base page of its path (`remove: true`) needs no title.
fn validate(
    front: &Front,
    text: &str,
    file: &Path,
    first_line: usize,
    overlay: bool,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let at = |key: &str| {
        crate::config::line_of_key(text, key).map_or(first_line - 1, |l| l + first_line - 1)
    };
    if front.title().trim().is_empty() && !(overlay && front.remove()) {
        problems.push(
            Diagnostic::error(file, "missing `title` in front matter")
                .at_line(first_line - 1)
                .with_help("add a line `title: ...` between the `---` lines"),
        );
    }
    match front {
        Front::Module(module) => {
            if let Some(intensity) = module.intensity
                && !(1..=5).contains(&intensity)
            {
                problems.push(
                    Diagnostic::error(
                        file,
                        format!("`intensity` is {intensity}, it must be 1 to 5"),
                    )
                    .at_line(at("intensity"))
                    .with_help("1 is a quiet moment, 5 the emotional peak of the day"),
                );
            }
        }
        Front::Exercise(exercise) => {
            let mut seen = std::collections::HashSet::new();
            for field in &exercise.fields {
                if !seen.insert(field.id.as_str()) {
                    problems.push(
                        Diagnostic::error(file, format!("two fields have the id `{}`", field.id))
                            .at_line(at("fields"))
                            .with_help(
                                "answers are saved under the field id: give each field its own",
                            ),
                    );
                }
                if field.kind == FieldType::Choice && field.options.is_empty() {
                    problems.push(
                        Diagnostic::error(
                            file,
                            format!("field `{}` is a choice without options", field.id),
                        )
                        .at_line(at("fields"))
                        .with_help("add `options: [first, second]` to the field"),
                    );
                }
            }
            if exercise.kind == ExerciseKind::JourneyMap && exercise.stages.is_empty() {
                problems.push(
                    Diagnostic::error(file, "a journey-map needs `stages`")
                        .at_line(at("kind"))
                        .with_help("add `stages: [Découverte, Premier contact, Achat, Après]`"),
                );
            }
        }
        Front::Page(_) => {}
    }
    problems
}

/// Where a Markdown file sits: its kind, slug and URL.
struct Place {
    kind: PageKind,
    slug: String,
    prefix_order: Option<u32>,
    url: String,
    parent: Option<String>,
}

impl Place {
    fn of(rel: &str, segments: &Segments) -> Place {
        let parts: Vec<&str> = rel.split('/').collect();
        let (folder, file) = rel.rsplit_once('/').unwrap_or(("", rel));
        let stem = file.strip_suffix(".md").unwrap_or(file);
        let (prefix_order, _) = split_order_prefix(stem);
        let is_index = stem == "_index";
        let folder_url = segments.folder_url(folder);
        let own = segments.of(rel);
        let page = |kind, slug: String, url: String| Place {
            kind,
            slug,
            prefix_order,
            url,
            parent: None,
        };
        match parts.as_slice() {
            ["_index.md"] => page(PageKind::Landing, String::new(), String::new()),
            ["modules", _] if !is_index => {
                page(PageKind::Module, own.clone(), format!("modules/{own}/"))
            }
            ["modules", dir, _] => {
                let module = segments.of(folder);
                if is_index {
                    Place {
                        kind: PageKind::Module,
                        slug: module,
                        prefix_order: split_order_prefix(dir).0,
                        url: folder_url,
                        parent: None,
                    }
                } else {
                    Place {
                        kind: PageKind::Step,
                        url: format!("{folder_url}{own}/"),
                        slug: own,
                        prefix_order,
                        parent: Some(format!("{folder}/_index.md")),
                    }
                }
            }
            ["exercises", _] if !is_index => {
                page(PageKind::Exercise, own.clone(), format!("exercises/{own}/"))
            }
            _ if is_index => {
                let slug = folder_url
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                page(PageKind::Page, slug, folder_url)
            }
            _ => page(PageKind::Page, own.clone(), format!("{folder_url}{own}/")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(rel: &str) -> (PageKind, String, String) {
        let p = Place::of(rel, &Segments::default());
        (p.kind, p.slug, p.url)
    }

    #[test]
    fn places_and_urls() {
        assert_eq!(
            place("_index.md"),
            (PageKind::Landing, "".into(), "".into())
        );
        assert_eq!(
            place("modules/02-la-confiance.md"),
            (
                PageKind::Module,
                "la-confiance".into(),
                "modules/la-confiance/".into()
            )
        );
        assert_eq!(
            place("modules/03-recit/_index.md"),
            (PageKind::Module, "recit".into(), "modules/recit/".into())
        );
        assert_eq!(
            place("modules/03-recit/02-le-declic.md"),
            (
                PageKind::Step,
                "le-declic".into(),
                "modules/recit/le-declic/".into()
            )
        );
        assert_eq!(
            place("exercises/Lettre.md"),
            (
                PageKind::Exercise,
                "lettre".into(),
                "exercises/lettre/".into()
            )
        );
        assert_eq!(
            place("ressources.md"),
            (PageKind::Page, "ressources".into(), "ressources/".into())
        );
        assert_eq!(
            place("guides/Été/01-intro.md"),
            (PageKind::Page, "intro".into(), "guides/ete/intro/".into())
        );
        assert_eq!(
            place("guides/_index.md"),
            (PageKind::Page, "guides".into(), "guides/".into())
        );
    }

    #[test]
    fn asset_paths_follow_page_folders() {
        let segments = Segments::default();
        assert_eq!(
            output_path_of_asset("modules/03-recit/Photo.JPG", &segments),
            "modules/recit/Photo.JPG"
        );
        assert_eq!(output_path_of_asset("logo.svg", &segments), "logo.svg");
    }

    #[test]
    fn siblings_differing_only_by_prefix_keep_it() {
        let diagnostics = Diagnostics::new();
        let segments = Segments::new(
            [
                "modules/01-intro.md",
                "modules/05-intro.md",
                "modules/02-suite.md",
                "a/Emotion.md",
                "a/emotion.md",
            ]
            .into_iter(),
            None,
            Path::new("content"),
            &diagnostics,
        );
        assert_eq!(segments.of("modules/01-intro.md"), "01-intro");
        assert_eq!(segments.of("modules/05-intro.md"), "05-intro");
        assert_eq!(segments.of("modules/02-suite.md"), "suite");
        assert_eq!(segments.of("a/emotion.md"), "emotion");
        assert_eq!(diagnostics.into_sorted().len(), 1);
    }

    #[test]
    fn ignored_names() {
        for name in [
            ".x.md.swp",
            "x.md~",
            "4913",
            "#x.md#",
            ".hidden",
            "x___jb_tmp___",
        ] {
            assert!(is_ignored_name(name), "{name}");
        }
        assert!(!is_ignored_name("01-intro.md"));
    }
}
