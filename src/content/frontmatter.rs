//! Splitting a Markdown file into its YAML front matter and its body.
//!
//! Front matter sits between a first line `---` and the next line `---` (or
//! `...`). Line numbers of both parts are kept so every later error can point
//! at the right line of the original file.

/// A Markdown file cut in two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<'a> {
    /// The YAML text, without its fences; `None` when the file has no front matter.
    pub front: Option<&'a str>,
    /// 1-based line of the first YAML line.
    pub front_line: usize,
    /// The Markdown body.
    pub body: &'a str,
    /// 1-based line where the body starts.
    pub body_line: usize,
}

/// The front matter opened on line 1 is never closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unclosed;

/// Cuts `text` into front matter and body.
pub fn split(text: &str) -> Result<Split<'_>, Unclosed> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_end = text.find('\n').map_or(text.len(), |i| i + 1);
    if text[..first_end].trim_end() != "---" {
        return Ok(Split {
            front: None,
            front_line: 1,
            body: text,
            body_line: 1,
        });
    }
    let mut offset = first_end;
    let mut line = 2;
    while offset < text.len() {
        let end = text[offset..]
            .find('\n')
            .map_or(text.len(), |i| offset + i + 1);
        let candidate = text[offset..end].trim_end();
        if candidate == "---" || candidate == "..." {
            return Ok(Split {
                front: Some(&text[first_end..offset]),
                front_line: 2,
                body: &text[end..],
                body_line: line + 1,
            });
        }
        offset = end;
        line += 1;
    }
    Err(Unclosed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_front_matter_and_counts_lines() {
        let s = split("---\ntitle: A\nsummary: B\n---\n\nBody\n").unwrap();
        assert_eq!(s.front, Some("title: A\nsummary: B\n"));
        assert_eq!(s.front_line, 2);
        assert_eq!(s.body, "\nBody\n");
        assert_eq!(s.body_line, 5);
    }

    #[test]
    fn no_front_matter() {
        let s = split("# Hello\n").unwrap();
        assert_eq!(s.front, None);
        assert_eq!(s.body, "# Hello\n");
    }

    #[test]
    fn crlf_bom_and_dots() {
        let s = split("\u{feff}---\r\ntitle: A\r\n...\r\nx").unwrap();
        assert_eq!(s.front, Some("title: A\r\n"));
        assert_eq!(s.body, "x");
        assert_eq!(s.body_line, 4);
    }

    #[test]
    fn unclosed() {
        assert_eq!(split("---\ntitle: A\n"), Err(Unclosed));
        assert_eq!(split("---"), Err(Unclosed));
    }

    #[test]
    fn empty_front_matter() {
        let s = split("---\n---\nbody").unwrap();
        assert_eq!(s.front, Some(""));
        assert_eq!(s.body_line, 3);
    }
}
