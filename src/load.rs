//! Loading: everything read from disk once per command (the theme, the
//! content tree, every client with its overlay, the `static/` folders), and
//! shared by every version the command renders.
//!
//! First stage of the data flow: nothing here composes or renders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::client::{self, Client};
use crate::content::{self, Asset, SourcePage};
use crate::error::{Diagnostic, Diagnostics, display_path};
use crate::project::Project;
use crate::theme::Theme;

/// Everything read from disk once, shared by every version.
pub struct Loaded {
    /// Compiled theme (shared with what the preview server renders later).
    pub theme: Arc<Theme>,
    /// Base pages.
    pub pages: Vec<Arc<SourcePage>>,
    /// Base assets.
    pub assets: Vec<Arc<Asset>>,
    /// Project `static/` files (output path, source).
    pub static_files: Vec<(String, PathBuf)>,
    /// Every client, with its overlay.
    pub clients: Vec<LoadedClient>,
    /// URL segments of the base content tree (to re-read one file later).
    pub segments: Arc<content::Segments>,
}

/// A client and its overlay.
pub struct LoadedClient {
    /// The profile.
    pub client: Client,
    /// Overlay pages.
    pub pages: Vec<Arc<SourcePage>>,
    /// Overlay assets.
    pub assets: Vec<Arc<Asset>>,
    /// Overlay static files (output path, source).
    pub static_files: Vec<(String, PathBuf)>,
}

/// Reads the theme, the content, the clients and their overlays, in parallel.
pub fn load(project: &Project, diagnostics: &Diagnostics) -> Option<Loaded> {
    let root = project.root.as_path();
    let ((theme, base), clients) = rayon::join(
        || {
            rayon::join(
                || Theme::load(root, &project.config, &project.config_text),
                || content::load(root, Path::new("content"), diagnostics),
            )
        },
        || {
            let found = Diagnostics::new();
            let clients = client::load_all(root, &found);
            (clients, found)
        },
    );
    // Overlays are read once the base tree is known: their URLs are decided
    // among the base's names.
    // When a client.yaml is wrong, no overlay is read: that error is the
    // one to fix first.
    let (clients, found) = clients;
    let clients_failed = found.has_errors();
    diagnostics.extend(found.into_sorted());
    let clients: Vec<LoadedClient> = if clients_failed {
        Vec::new()
    } else {
        clients
            .into_par_iter()
            .map(|client| load_client(root, client, &base.segments, diagnostics))
            .collect()
    };
    let theme = match theme {
        Ok(theme) => Some(theme),
        Err(problems) => {
            diagnostics.extend(problems);
            None
        }
    };
    if diagnostics.has_errors() {
        return None;
    }
    Some(Loaded {
        theme: Arc::new(theme?),
        segments: base.segments,
        pages: base.pages.into_iter().map(Arc::new).collect(),
        assets: base.assets.into_iter().map(Arc::new).collect(),
        static_files: static_files(root, Path::new("static"), diagnostics),
        clients,
    })
}

/// Reads a client's overlay content and static files.
fn load_client(
    root: &Path,
    client: Client,
    base: &content::Segments,
    diagnostics: &Diagnostics,
) -> LoadedClient {
    let overlay = content::load_overlay(root, &client.content_dir(), base, diagnostics);
    let static_files = static_files(root, &client.static_dir(), diagnostics);
    LoadedClient {
        pages: overlay.pages.into_iter().map(Arc::new).collect(),
        assets: overlay.assets.into_iter().map(Arc::new).collect(),
        static_files,
        client,
    }
}

/// Project static files with a client's overriding them by path.
pub fn merged_static(
    base: &[(String, PathBuf)],
    overlay: Option<&[(String, PathBuf)]>,
) -> Vec<(String, PathBuf)> {
    let mut merged: BTreeMap<&str, &PathBuf> = base
        .iter()
        .map(|(rel, path)| (rel.as_str(), path))
        .collect();
    for (rel, path) in overlay.unwrap_or_default() {
        merged.insert(rel.as_str(), path);
    }
    merged
        .into_iter()
        .map(|(rel, path)| (rel.to_string(), path.clone()))
        .collect()
}

/// Files of a `static/` folder, as (output path, source path). A symbolic
/// link is followed only when it stays inside the project; one pointing
/// outside is refused (reported, never read or copied).
pub fn static_files(root: &Path, dir: &Path, diagnostics: &Diagnostics) -> Vec<(String, PathBuf)> {
    let base = root.join(dir);
    if !base.is_dir() {
        return Vec::new();
    }
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    walkdir::WalkDir::new(&base)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0 || !content::is_ignored_name(&e.file_name().to_string_lossy())
        })
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            if !entry.path_is_symlink() {
                return entry.file_type().is_file();
            }
            match entry.path().canonicalize() {
                Ok(target) if target.starts_with(&canonical_root) => target.is_file(),
                _ => {
                    diagnostics.push(
                        Diagnostic::error(
                            content::relative_to(root, entry.path()),
                            "symbolic link points outside the project: refused",
                        )
                        .with_help("copy the file into the project instead of linking to it"),
                    );
                    false
                }
            }
        })
        .filter_map(|entry| {
            let rel = entry.path().strip_prefix(&base).ok()?;
            Some((display_path(rel), entry.path().to_path_buf()))
        })
        .collect()
}
