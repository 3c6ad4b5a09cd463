//! The images a workbook shows: files of the version (content assets,
//! static files, the client's logo) by their output path, given to the
//! typesetter under `/files/…`. Only those a page or the cover names are
//! handed over, and only image types Typst can draw.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// Image types the workbook can show.
const IMAGE_TYPES: [&str; 6] = ["png", "jpg", "jpeg", "gif", "svg", "webp"];

/// The version's files an image may be, and those asked for so far.
pub(super) struct Files {
    /// Source of every file of the version, by output path.
    by_output: BTreeMap<String, PathBuf>,
    /// Virtual path → source, for each image asked for.
    used: Mutex<BTreeMap<String, PathBuf>>,
}

impl Files {
    /// The files of a version: its content assets and static files (output
    /// path, source).
    pub(super) fn new<'a>(files: impl IntoIterator<Item = (&'a str, &'a std::path::Path)>) -> Self {
        Files {
            by_output: files
                .into_iter()
                .map(|(output, source)| (output.to_string(), source.to_path_buf()))
                .collect(),
            used: Mutex::default(),
        }
    }

    /// The virtual path of the image at output path `output`, when the
    /// version has that file and it is an image.
    pub(super) fn image(&self, output: &str) -> Option<String> {
        let output = output.trim_start_matches('/');
        let extension = output.rsplit_once('.')?.1.to_ascii_lowercase();
        if !IMAGE_TYPES.contains(&extension.as_str()) {
            return None;
        }
        let source = self.by_output.get(output)?;
        if !looks_like_image(source, &extension) {
            return None;
        }
        let path = format!("/files/{output}");
        self.used
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.clone(), source.clone());
        Some(path)
    }

    /// Every image asked for: virtual path and source.
    pub(super) fn into_used(self) -> BTreeMap<String, PathBuf> {
        self.used.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

/// Whether the file at `source` starts like an image of its type: Typst
/// fails on a file that is not one, and the workbook then shows the image's
/// text alternative instead.
fn looks_like_image(source: &std::path::Path, extension: &str) -> bool {
    use std::io::Read;
    let mut head = [0u8; 512];
    let Ok(read) = std::fs::File::open(source).and_then(|mut file| file.read(&mut head)) else {
        return false;
    };
    let head = &head[..read];
    match extension {
        "png" => head.starts_with(b"\x89PNG\r\n\x1a\n"),
        "jpg" | "jpeg" => head.starts_with(&[0xff, 0xd8, 0xff]),
        "gif" => head.starts_with(b"GIF8"),
        "webp" => head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP".as_slice()),
        "svg" => String::from_utf8_lossy(head).contains("<svg"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_images_of_the_version_are_handed_over() {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("write");
            path
        };
        let png = write("a.png", b"\x89PNG\r\n\x1a\nrest");
        let empty = write("empty.png", b"");
        let svg = write("logo.svg", b"<?xml version=\"1.0\"?><svg></svg>");
        let text = write("notes.txt", b"notes");
        let files = Files::new([
            ("images/a.png", png.as_path()),
            ("images/empty.png", empty.as_path()),
            ("logo.svg", svg.as_path()),
            ("notes.txt", text.as_path()),
        ]);
        assert_eq!(
            files.image("images/a.png").as_deref(),
            Some("/files/images/a.png")
        );
        assert_eq!(files.image("/logo.svg").as_deref(), Some("/files/logo.svg"));
        assert_eq!(files.image("images/empty.png"), None, "not an image");
        assert_eq!(files.image("notes.txt"), None);
        assert_eq!(files.image("images/b.png"), None);
        let used = files.into_used();
        assert_eq!(used.len(), 2);
        assert_eq!(used["/files/images/a.png"], png);
    }
}
