//! The visible text of rendered HTML and its words: one meaning for the
//! audit (text that leaks between clients) and the uniqueness report (how
//! much of a client's version is its own).
//!
//! Tags are skipped and end a word; a word is a run of alphanumeric
//! characters. [`strip_tags`] and [`words`] spell that out on strings;
//! [`visit_words`] reads the same words straight from the bytes, for the
//! uniqueness report's hot loop.

/// The text content of rendered HTML, tags replaced by a space and entities
/// left as is: enough to compare versions and count words.
pub fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len() / 2);
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// Whether `c` belongs to a word.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// The words of plain text, in order, as written.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_word_char(c))
        .filter(|word| !word.is_empty())
}

/// What [`visit_words`] meets, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordPart {
    /// An ASCII character of a word.
    Ascii(u8),
    /// Another character of a word.
    Char(char),
    /// Something that is not part of a word (a space, punctuation, a tag).
    Gap,
}

/// Calls `visit` for each character of `source`'s words and for what
/// separates them, as [`words`] of [`strip_tags`] would split it when
/// `markup` (tags are skipped and end a word), or of `source` itself.
/// Bytes are read directly and tags skipped in one search; only non-ASCII
/// characters are decoded, so counting or hashing words builds no text.
#[inline]
pub fn visit_words(source: &str, markup: bool, mut visit: impl FnMut(WordPart)) {
    let bytes = source.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        if b.is_ascii() {
            at += 1;
            if b.is_ascii_alphanumeric() {
                visit(WordPart::Ascii(b));
                continue;
            }
            if markup && b == b'<' {
                at = after_tag(bytes, at);
            }
        } else {
            let c = char_at(source, at);
            at += c.len_utf8();
            if is_word_char(c) {
                visit(WordPart::Char(c));
                continue;
            }
        }
        visit(WordPart::Gap);
    }
}

/// How many words [`visit_words`] finds in `source`.
pub fn count_words(source: &str, markup: bool) -> usize {
    let mut count = 0;
    let mut in_word = false;
    visit_words(source, markup, |part| {
        let word = part != WordPart::Gap;
        if word && !in_word {
            count += 1;
        }
        in_word = word;
    });
    count
}

/// Where the tag opened just before `from` ends: after its `>`, or at the
/// end of an unterminated tag.
fn after_tag(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'>')
        .map_or(bytes.len(), |at| from + at + 1)
}

/// The character starting at byte `at` of `text` (a character boundary).
fn char_at(text: &str, at: usize) -> char {
    text.get(at..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or(' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What [`visit_words`] finds, as strings.
    fn visited(source: &str, markup: bool) -> Vec<String> {
        let mut found = vec![String::new()];
        visit_words(source, markup, |part| match part {
            WordPart::Ascii(b) => found.last_mut().unwrap().push(char::from(b)),
            WordPart::Char(c) => found.last_mut().unwrap().push(c),
            WordPart::Gap => found.push(String::new()),
        });
        found.retain(|w| !w.is_empty());
        found
    }

    #[test]
    fn visited_words_are_the_words_of_the_stripped_text() {
        for html in [
            "<p>Un <em>mot</em>, deux—trois <a href=\"x>y\">quatre</a></p>",
            "Été À l'ŒUVRE <b>ß</b>straße 2026 ! <unterminated tag",
            "a<b>c</b>d  <br/>e>f < g",
            "",
            "<>",
            "日本語のテキスト et émoji 🎉 fin",
        ] {
            let stripped = strip_tags(html);
            let expected: Vec<&str> = words(&stripped).collect();
            assert_eq!(visited(html, true), expected, "{html}");
            assert_eq!(count_words(html, true), expected.len(), "{html}");
            let plain: Vec<&str> = words(html).collect();
            assert_eq!(visited(html, false), plain, "{html}");
            assert_eq!(count_words(html, false), plain.len(), "{html}");
        }
    }
}
