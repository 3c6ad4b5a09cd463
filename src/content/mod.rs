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

/// Reads every file under `root/dir` (e.g. `content` or `clients/x/content`).
///
/// A missing folder is an empty set. Problems are recorded in `diagnostics`;
/// files with problems are left out of the result.
pub fn load(root: &Path, dir: &Path, diagnostics: &Diagnostics) -> ContentSet {
    let base = root.join(dir);
    if !base.is_dir() {
        return ContentSet::default();
    }
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut markdown = Vec::new();
    let mut assets = Vec::new();
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
            let output = output_path_of_asset(&rel);
            assets.push(Asset {
                source: path.to_path_buf(),
                file,
                rel,
                output,
            });
        }
    }
    let results: Vec<Result<SourcePage, Vec<Diagnostic>>> = markdown
        .into_par_iter()
        .map(|(path, file, rel)| read_page(&path, file, rel))
        .collect();
    let mut pages = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(page) => pages.push(page),
            Err(problems) => diagnostics.extend(problems),
        }
    }
    ContentSet { pages, assets }
}

/// `path` relative to `root` (or as is when it is not below it).
pub fn relative_to(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// Output path of an asset: folders mapped like page URLs, file name kept.
fn output_path_of_asset(rel: &str) -> String {
    let mut parts: Vec<&str> = rel.split('/').collect();
    let name = parts.pop().unwrap_or_default();
    let mut out: String = parts
        .iter()
        .map(|dir| folder_slug(dir))
        .map(|s| s + "/")
        .collect();
    out.push_str(name);
    out
}

fn folder_slug(dir: &str) -> String {
    let slug = stem_slug(dir);
    if slug.is_empty() {
        dir.to_string()
    } else {
        slug
    }
}

fn read_page(path: &Path, file: PathBuf, rel: String) -> Result<SourcePage, Vec<Diagnostic>> {
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
    parse_page(&text, file, rel)
}

/// Parses one Markdown file's text; `rel` is its path under the content root.
pub fn parse_page(text: &str, file: PathBuf, rel: String) -> Result<SourcePage, Vec<Diagnostic>> {
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
    let place = Place::of(&rel);
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
    let problems = validate(&front, front_text, &file, line);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(SourcePage {
        file,
        rel,
        kind: place.kind,
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

fn validate(front: &Front, text: &str, file: &Path, first_line: usize) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let at = |key: &str| {
        crate::config::line_of_key(text, key).map_or(first_line - 1, |l| l + first_line - 1)
    };
    if front.title().trim().is_empty() {
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
    fn of(rel: &str) -> Place {
        let parts: Vec<&str> = rel.split('/').collect();
        let file = parts.last().copied().unwrap_or_default();
        let stem = file.strip_suffix(".md").unwrap_or(file);
        let (prefix_order, _) = split_order_prefix(stem);
        let page = |kind, slug: String, url: String| Place {
            kind,
            slug,
            prefix_order,
            url,
            parent: None,
        };
        match parts.as_slice() {
            ["_index.md"] => page(PageKind::Landing, String::new(), String::new()),
            ["modules", name] if stem != "_index" => {
                let slug = stem_slug(stem);
                page(PageKind::Module, slug.clone(), format!("modules/{slug}/"))
            }
            ["modules", dir, name] => {
                let (dir_order, _) = split_order_prefix(dir);
                let module = folder_slug(dir);
                if stem == "_index" {
                    Place {
                        kind: PageKind::Module,
                        slug: module.clone(),
                        prefix_order: dir_order,
                        url: format!("modules/{module}/"),
                        parent: None,
                    }
                } else {
                    let slug = stem_slug(stem);
                    let _ = name;
                    Place {
                        kind: PageKind::Step,
                        url: format!("modules/{module}/{slug}/"),
                        slug,
                        prefix_order,
                        parent: Some(format!("modules/{dir}/_index.md")),
                    }
                }
            }
            ["exercises", name] if stem != "_index" => {
                let _ = name;
                let slug = stem_slug(stem);
                page(
                    PageKind::Exercise,
                    slug.clone(),
                    format!("exercises/{slug}/"),
                )
            }
            _ => {
                let mut url: String = parts[..parts.len().saturating_sub(1)]
                    .iter()
                    .map(|dir| folder_slug(dir) + "/")
                    .collect();
                let slug = if stem == "_index" {
                    parts
                        .len()
                        .checked_sub(2)
                        .and_then(|i| parts.get(i))
                        .map(|d| folder_slug(d))
                        .unwrap_or_default()
                } else {
                    let slug = stem_slug(stem);
                    url.push_str(&slug);
                    url.push('/');
                    slug
                };
                page(PageKind::Page, slug, url)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(rel: &str) -> (PageKind, String, String) {
        let p = Place::of(rel);
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
        assert_eq!(
            output_path_of_asset("modules/03-recit/Photo.JPG"),
            "modules/recit/Photo.JPG"
        );
        assert_eq!(output_path_of_asset("logo.svg"), "logo.svg");
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
