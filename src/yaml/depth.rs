//! How deeply a YAML text nests its collections, found before it is parsed.
//!
//! The YAML parser takes time that grows much faster than the text when
//! collections nest deeply: `title: [[[…]]]` 100,000 levels deep (200 KB)
//! takes it most of a minute. No atelier file needs more than a few levels,
//! so a text that nests past [`MAX_DEPTH`] is refused before the parser sees
//! it. The scan reads each byte once and keeps no more than a stack of
//! indentations, so it costs next to nothing on the front matter of every
//! page.
//!
//! It follows the YAML structure closely enough to count only real
//! collections: brackets and dashes inside quoted strings, plain text
//! (`titre: a [b`), comments and block scalars (`|`, `>`) are text.

/// Collections may nest this deep (a block mapping in a sequence in a
/// mapping… or flow collections `[{…}]`), far more than any atelier file uses.
pub(super) const MAX_DEPTH: usize = 64;

/// Where a text first nests deeper than [`MAX_DEPTH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TooDeep {
    /// 1-based line in the text.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// What a line continues from the lines before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carry {
    /// Nothing: the line starts with its indentation.
    None,
    /// A quoted string still open (`"` or `'`).
    Quote(u8),
    /// A block scalar (`|`, `>`) of a line indented this much: more
    /// indented lines and blank lines are its text.
    BlockScalar(usize),
}

/// The first place where `text` nests collections deeper than [`MAX_DEPTH`].
pub(super) fn too_deep(text: &str) -> Option<TooDeep> {
    let mut scan = Scan {
        indents: Vec::new(),
        flow: 0,
        carry: Carry::None,
    };
    for (index, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(byte) = scan.line(line.as_bytes()) {
            let column = line.get(..byte).map_or(byte, |s| s.chars().count()) + 1;
            return Some(TooDeep {
                line: index + 1,
                column,
            });
        }
    }
    None
}

struct Scan {
    /// Indentations of the open block collections.
    indents: Vec<usize>,
    /// Open flow collections (`[`, `{`).
    flow: usize,
    carry: Carry,
}

impl Scan {
    /// Scans one line; returns the byte where it goes too deep.
    fn line(&mut self, line: &[u8]) -> Option<usize> {
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        let blank = indent == line.len() || line.get(indent) == Some(&b'#');
        let mut at = 0;
        match self.carry {
            Carry::Quote(quote) => match close_quote(line, 0, quote) {
                Some(end) => {
                    self.carry = Carry::None;
                    at = end;
                }
                None => return None,
            },
            Carry::BlockScalar(parent) if blank || indent > parent => return None,
            Carry::BlockScalar(_) | Carry::None => {
                self.carry = Carry::None;
                if blank {
                    return None;
                }
                if self.flow == 0 {
                    while self.indents.last().is_some_and(|&top| top > indent) {
                        self.indents.pop();
                    }
                    if self.indents.last() != Some(&indent) {
                        self.indents.push(indent);
                    }
                    at = indent;
                    // Compact collections: `- - x`, `? key`, `- key: …`.
                    while matches!(line.get(at), Some(b'-' | b'?' | b':'))
                        && line.get(at + 1).is_none_or(|&b| b == b' ')
                    {
                        self.indents.push(at + 1);
                        if self.depth() > MAX_DEPTH {
                            return Some(at);
                        }
                        at += 1;
                        while line.get(at) == Some(&b' ') {
                            at += 1;
                        }
                    }
                }
            }
        }
        if self.depth() > MAX_DEPTH {
            return Some(at);
        }
        self.rest(line, at, indent)
    }

    fn depth(&self) -> usize {
        self.indents.len() + self.flow
    }

    /// Scans `line` from `at` (the start of a node, or inside a flow
    /// collection) to its end.
    fn rest(&mut self, line: &[u8], mut at: usize, indent: usize) -> Option<usize> {
        let mut token_start = true;
        while let Some(&byte) = line.get(at) {
            let after_space = at == 0 || line.get(at - 1).is_some_and(|&b| b == b' ');
            match byte {
                b' ' => {}
                b'#' if after_space => return None,
                b'[' | b'{' if token_start || self.flow > 0 => {
                    self.flow += 1;
                    if self.depth() > MAX_DEPTH {
                        return Some(at);
                    }
                    token_start = true;
                }
                b']' | b'}' if self.flow > 0 => {
                    self.flow -= 1;
                    token_start = false;
                }
                b',' if self.flow > 0 => token_start = true,
                b'"' | b'\'' if token_start => match close_quote(line, at + 1, byte) {
                    Some(end) => {
                        at = end;
                        token_start = false;
                        continue;
                    }
                    None => {
                        self.carry = Carry::Quote(byte);
                        return None;
                    }
                },
                b'|' | b'>' if token_start && self.flow == 0 => {
                    self.carry = Carry::BlockScalar(indent);
                    return None;
                }
                b':' if line
                    .get(at + 1)
                    .is_none_or(|&b| b == b' ' || (self.flow > 0 && b",[]{}".contains(&b))) =>
                {
                    token_start = true;
                }
                _ => token_start = false,
            }
            at += 1;
        }
        None
    }
}

/// The byte after the quote that closes a string opened before `from`
/// (`''` is an escaped quote in single quotes, `\"` in double quotes); `None`
/// when the string goes on to the next line.
fn close_quote(line: &[u8], from: usize, quote: u8) -> Option<usize> {
    let mut at = from;
    while let Some(&byte) = line.get(at) {
        if quote == b'"' && byte == b'\\' {
            at += 2;
            continue;
        }
        if byte == quote {
            if quote == b'\'' && line.get(at + 1) == Some(&b'\'') {
                at += 2;
                continue;
            }
            return Some(at + 1);
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_documents_pass() {
        for text in [
            "title: La confiance\nobjectives: [Un, Deux]\nclients: { only: [a, b] }\n",
            "fields:\n  - { id: a, label: \"À qui ?\", type: text }\n  - id: b\n    options: [x, y]\n",
            "title: L'atelier [brouillon {\nsummary: \"[[[[\" \ndescription: '{{{{'\n",
            "vars:\n  persona: \"Claire, 41 ans\"\n  produit: >\n    - - - - [[[[\n    {{{{\n",
            "a: [\n  1,\n  [2, 3],\n  \"x]\"\n]\nb: 2\n",
            "title: x # [[[[ comment\n# [[[[[\n",
            "s: \"multi\n  [[[[ line\"\nt: 1\n",
        ] {
            assert_eq!(too_deep(text), None, "{text:?}");
        }
    }

    #[test]
    fn deep_flow_collections_are_found() {
        let text = format!("title: {}x{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            too_deep(&text),
            Some(TooDeep {
                line: 1,
                column: 7 + MAX_DEPTH
            })
        );
        let text = format!("a: 1\nb: {}\n", "{a: ".repeat(70));
        assert_eq!(too_deep(&text).map(|d| d.line), Some(2));
        let text = format!("a:\n  {}\n", "[\n".repeat(70));
        assert!(too_deep(&text).is_some());
    }

    #[test]
    fn deep_block_collections_are_found() {
        let text = format!("a: {}x\n", "- ".repeat(100));
        assert!(too_deep(&text).is_none(), "a plain scalar");
        let text = format!("a:\n{}x\n", "- ".repeat(100));
        assert_eq!(too_deep(&text).map(|d| d.line), Some(2));
        let text: String = (0..80)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert_eq!(too_deep(&text).map(|d| d.line), Some(MAX_DEPTH + 1));
    }

    #[test]
    fn just_under_the_limit_passes() {
        let depth = MAX_DEPTH - 1;
        let text = format!("t: {}x{}\n", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(too_deep(&text), None);
    }
}
