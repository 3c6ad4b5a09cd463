//! Finding and opening a masterclass project.
//!
//! The project root is the folder holding `atelier.yaml`: `--root`, else the
//! nearest parent of the current folder that has one, so commands work from
//! any sub-folder like `git` does.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use crate::config::{CONFIG_FILE, Config};
use crate::error::{Diagnostic, Error, Result};

/// An opened project: its root and parsed configuration.
#[derive(Debug, Clone)]
pub struct Project {
    /// Absolute path of the folder holding `atelier.yaml`.
    pub root: PathBuf,
    /// Parsed `atelier.yaml` (shared with what the preview server renders
    /// later, such as print pages).
    pub config: Arc<Config>,
    /// Its text, to point errors found later at the right line.
    pub config_text: String,
}

/// The nearest folder from `start` upwards that holds `atelier.yaml`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(CONFIG_FILE).is_file())
        .map(Path::to_path_buf)
}

impl Project {
    /// Opens the project at `root` (given) or around the current folder.
    pub fn open(root: Option<&Path>) -> Result<Project> {
        let root = match root {
            Some(root) => {
                if !root.join(CONFIG_FILE).is_file() {
                    return Err(Error::Usage(format!(
                        "no {CONFIG_FILE} in {}: pass the folder that holds it to --root, or run `atelier init`",
                        root.display()
                    )));
                }
                root.to_path_buf()
            }
            None => {
                let cwd = std::env::current_dir()
                    .map_err(|e| Error::io("cannot read the current folder", ".", e))?;
                find_root(&cwd).ok_or_else(|| {
                    Error::Usage(format!(
                        "no {CONFIG_FILE} here or in any parent folder: run `atelier init` to start a masterclass, or pass --root"
                    ))
                })?
            }
        };
        let root = root.canonicalize().unwrap_or(root);
        let bytes = std::fs::read(root.join(CONFIG_FILE))
            .map_err(|e| Error::io("cannot read", root.join(CONFIG_FILE), e))?;
        let config_text = String::from_utf8(bytes).map_err(|_| {
            Error::Content(vec![
                Diagnostic::error(CONFIG_FILE, "the file is not valid UTF-8 text")
                    .with_help("save it with the UTF-8 encoding"),
            ])
        })?;
        let config = Config::parse(&config_text, Path::new(CONFIG_FILE)).map_err(Error::Content)?;
        Ok(Project {
            root,
            config: Arc::new(config),
            config_text,
        })
    }
}
