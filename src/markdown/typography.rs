//! French typography for the text of rendered Markdown.
//!
//! French puts a (narrow, no-break) space before `; ! ? :` and inside
//! guillemets `« »`. Authors type an ordinary space, or none, and the line then
//! breaks before the `!` or leaves the mark glued to the word. This module
//! fixes that on Markdown *text* events only, so code, HTML attributes and
//! URLs are never touched, and it only ever inserts or replaces spaces.
//!
//! pulldown-cmark splits one run of text into several events (around smart
//! quotes, entities…), so [`FrenchTypography`] remembers the last characters
//! it wrote and applies the rules across consecutive [`FrenchTypography::push_text`]
//! calls.

/// U+202F NARROW NO-BREAK SPACE, the space French puts before `; ! ? :`.
pub const NARROW_NBSP: char = '\u{202F}';

const NBSP: char = '\u{A0}';

/// URL schemes written without `//` (`mailto:someone@example.org`).
const SCHEMES_WITHOUT_SLASHES: [&str; 5] = ["mailto", "tel", "sms", "urn", "geo"];

/// URL schemes followed by `//`, recognised even when the `//` comes in the
/// next text event.
const SCHEMES_WITH_SLASHES: [&str; 5] = ["http", "https", "ftp", "ftps", "file"];

/// Longest scheme name remembered while scanning a word.
const MAX_SCHEME_LEN: usize = 10;

/// Characters around which spacing may change.
fn is_mark(c: char) -> bool {
    matches!(c, ';' | '!' | '?' | ':' | '«' | '»')
}

/// French typography applied to a sequence of Markdown text events.
///
/// Create one per block of text (or per document), feed every text event to
/// [`push_text`](Self::push_text), and call
/// [`break_context`](Self::break_context) when something that is not text
/// (a code span, inline HTML) comes in between.
#[derive(Debug, Clone, Default)]
pub struct FrenchTypography {
    /// The last character written, if known.
    last: Option<char>,
    /// The character written before `last`, if known.
    before_last: Option<char>,
    /// Inside a URL: copy everything until the next whitespace.
    in_url: bool,
    /// The ASCII letters of the current word so far (lowercase), to recognise
    /// `mailto:`.
    word: Word,
}

/// The current word's first letters, kept inline: typography runs on every
/// word of every page, so it must not allocate per word.
#[derive(Debug, Clone, Copy, Default)]
struct Word {
    letters: [u8; MAX_SCHEME_LEN],
    len: u8,
    /// `false` when the word cannot be a scheme (too long, or not a word start).
    valid: bool,
}

impl Word {
    fn start() -> Word {
        Word {
            valid: true,
            ..Word::default()
        }
    }

    fn invalid() -> Word {
        Word::default()
    }

    fn push(&mut self, c: u8) {
        if !self.valid {
            return;
        }
        match self.letters.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = c.to_ascii_lowercase();
                self.len += 1;
            }
            None => self.valid = false,
        }
    }

    fn as_str(&self) -> Option<&str> {
        if !self.valid {
            return None;
        }
        self.letters
            .get(..usize::from(self.len))
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
    }
}

impl FrenchTypography {
    /// A fresh state, as at the start of a paragraph.
    #[must_use]
    pub fn new() -> Self {
        FrenchTypography {
            word: Word::start(),
            ..FrenchTypography::default()
        }
    }

    /// Forgets the characters seen so far: call it when non-text content
    /// (a code span, inline HTML, an image) interrupts the text.
    pub fn break_context(&mut self) {
        *self = FrenchTypography::new();
    }

    /// Applies French typography to one text event, appending the result to
    /// `out`. When the previous event ended with a space that now needs to
    /// become a narrow no-break space, it is replaced only if `out` still
    /// ends with it.
    pub fn push_text(&mut self, text: &str, out: &mut String) {
        out.reserve(text.len());
        let mut rest = text;
        while !rest.is_empty() {
            // Most text has no mark to space: copy it in one go.
            if !self.in_url && self.last != Some('«') {
                let plain = rest.find(is_mark).unwrap_or(rest.len());
                if plain > 0 {
                    self.copy_plain(&rest[..plain], out);
                    rest = &rest[plain..];
                    continue;
                }
            }
            let mut chars = rest.chars();
            let Some(c) = chars.next() else {
                break;
            };
            self.push_char(c, chars.as_str(), out);
            rest = chars.as_str();
        }
    }

    /// Copies text holding no mark, then brings the state up to date from its
    /// last characters (enough to know the last two and the current word).
    fn copy_plain(&mut self, text: &str, out: &mut String) {
        out.push_str(text);
        let tail = text
            .char_indices()
            .rev()
            .nth(MAX_SCHEME_LEN + 1)
            .map_or(0, |(at, _)| at);
        for c in text[tail..].chars() {
            self.track(c);
        }
    }

    /// One character, with what follows it for look-ahead.
    fn push_char(&mut self, c: char, after: &str, out: &mut String) {
        if self.in_url {
            self.emit(out, c);
            return;
        }
        if self.last == Some('«') {
            if c == ' ' || c == NBSP {
                self.emit(out, NARROW_NBSP);
                return;
            }
            if !c.is_whitespace() {
                self.emit(out, NARROW_NBSP);
            }
        }
        match c {
            ';' | '!' | '?' | ':' => {
                let mut ahead = after.chars();
                let next = ahead.next();
                let after_next = ahead.next();
                if c == ':' && self.starts_url(next, after_next) {
                    self.in_url = true;
                } else if self.last_is_replaceable_space() {
                    self.replace_last_space(out);
                } else if self.last.is_some_and(attaches_to_mark) {
                    let word_internal = next.is_some_and(char::is_alphanumeric);
                    if !word_internal {
                        self.emit(out, NARROW_NBSP);
                    }
                }
            }
            '»' => {
                if self.last_is_replaceable_space() {
                    self.replace_last_space(out);
                } else if self.last.is_some_and(|l| !l.is_whitespace()) {
                    self.emit(out, NARROW_NBSP);
                }
            }
            _ => {}
        }
        self.emit(out, c);
    }

    /// Writes one character and remembers it.
    fn emit(&mut self, out: &mut String, c: char) {
        out.push(c);
        self.track(c);
    }

    /// Remembers one character written.
    fn track(&mut self, c: char) {
        self.before_last = self.last;
        self.last = Some(c);
        if c.is_whitespace() {
            self.in_url = false;
            self.word = Word::start();
        } else if c.is_ascii_alphabetic() {
            self.word.push(c as u8);
        } else {
            // Punctuation or other letters: the next word may start right
            // after an opening bracket, `<`, or a quote.
            self.word = if matches!(c, '(' | '[' | '<' | '"' | '\'' | '“' | '‘') {
                Word::start()
            } else {
                Word::invalid()
            };
        }
    }

    /// Does the `:` about to be written start the body of a URL?
    fn starts_url(&self, next: Option<char>, after_next: Option<char>) -> bool {
        if next == Some('/') && after_next == Some('/') {
            return true;
        }
        let Some(word) = self.word.as_str() else {
            return false;
        };
        match next {
            None => SCHEMES_WITH_SLASHES.contains(&word) || SCHEMES_WITHOUT_SLASHES.contains(&word),
            Some(n) => SCHEMES_WITHOUT_SLASHES.contains(&word) && !n.is_whitespace(),
        }
    }

    /// Is the last character an ordinary or no-break space that follows
    /// something other than whitespace?
    fn last_is_replaceable_space(&self) -> bool {
        matches!(self.last, Some(' ' | NBSP)) && !self.before_last.is_some_and(char::is_whitespace)
    }

    /// Turns the space just written into a narrow no-break space, if it is
    /// still at the end of `out`.
    fn replace_last_space(&mut self, out: &mut String) {
        if let Some(space) = self.last
            && out.ends_with(space)
        {
            out.pop();
            out.push(NARROW_NBSP);
            self.last = Some(NARROW_NBSP);
        }
    }
}

/// Characters that a `; ! ? :` or `»` directly after them is glued to, and
/// that therefore get a narrow no-break space inserted.
fn attaches_to_mark(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(
            c,
            ')' | ']' | '}' | '»' | '"' | '\'' | '’' | '”' | '›' | '%' | '€' | '$' | '£' | '°'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: char = NARROW_NBSP;

    fn fr(text: &str) -> String {
        let mut out = String::new();
        FrenchTypography::new().push_text(text, &mut out);
        out
    }

    fn n(text: &str) -> String {
        text.replace('_', &N.to_string())
    }

    fn check(input: &str, expected: &str) {
        let got = fr(input);
        assert_eq!(got, n(expected), "input {input:?}");
        // Idempotent.
        assert_eq!(fr(&got), got, "not idempotent on {input:?}");
    }

    #[test]
    fn replaces_space_before_marks() {
        check("Bonjour !", "Bonjour_!");
        check("Vraiment ?", "Vraiment_?");
        check("Attention : ceci", "Attention_: ceci");
        check("un ; deux", "un_; deux");
        check("Bonjour\u{A0}!", "Bonjour_!");
    }

    #[test]
    fn inserts_space_before_glued_marks() {
        check("Bonjour!", "Bonjour_!");
        check("Vraiment?", "Vraiment_?");
        check("Note: ceci", "Note_: ceci");
        check("un; deux", "un_; deux");
        check("42!", "42_!");
        check("(vrai)?", "(vrai)_?");
        check("« oui »!", "«_oui_»_!");
        check("l’été’?", "l’été’_?");
        check("100%!", "100%_!");
    }

    #[test]
    fn nothing_between_repeated_marks() {
        check("Quoi ?!", "Quoi_?!");
        check("Quoi?!", "Quoi_?!");
        check("Non !!!", "Non_!!!");
        check("Et alors...?", "Et alors...?");
        check("Et alors…?", "Et alors…?");
        check("Hein ?? Quoi", "Hein_?? Quoi");
    }

    #[test]
    fn nothing_at_start_or_after_whitespace() {
        check("!", "!");
        check(": suite", ": suite");
        check("ligne\n!", "ligne\n!");
        check("a\t?", "a\t?");
        check("deux  !", "deux  !");
        // A leading space after unknown content (see `break_context`) is
        // still replaced: only a space after whitespace is kept.
        check(" !", "_!");
    }

    #[test]
    fn times_and_ratios_are_untouched() {
        check("Début à 09:30.", "Début à 09:30.");
        check("Un ratio 1:2", "Un ratio 1:2");
        check("Heure : 9h", "Heure_: 9h");
    }

    #[test]
    fn word_internal_marks_are_untouched() {
        check("key:value", "key:value");
        check("a;b", "a;b");
        check("C:dossier", "C:dossier");
    }

    #[test]
    fn urls_are_untouched() {
        check(
            "Voir https://exemple.fr/a?b=c&d=e!;x:y ! fin",
            "Voir https://exemple.fr/a?b=c&d=e!;x:y_! fin",
        );
        check("http://a.b/?x !", "http://a.b/?x_!");
        check("(https://a.b/c?)", "(https://a.b/c?)");
        check(
            "Écrire à mailto:moi@exemple.fr?subject=Salut! merci",
            "Écrire à mailto:moi@exemple.fr?subject=Salut! merci",
        );
        check("tel:+33123456789!", "tel:+33123456789!");
        check("<https://a.b/!>", "<https://a.b/!>");
    }

    #[test]
    fn guillemets() {
        check("« Bonjour »", "«_Bonjour_»");
        check("«Bonjour»", "«_Bonjour_»");
        check("«\u{A0}Bonjour\u{A0}»", "«_Bonjour_»");
        check("Il dit « oui » !", "Il dit «_oui_»_!");
        check("«»", "«_»");
        check("« « imbriqué » »", "«_«_imbriqué_»_»");
        check("« ", "«_");
        check("«\nx", "«\nx");
    }

    #[test]
    fn only_spaces_change() {
        let input = "« Oui ! » dit-elle; puis: « Non?! » à 10:45 https://x.y/?a:b";
        let got = fr(input);
        let strip = |s: &str| -> String {
            s.chars()
                .filter(|c| !matches!(*c, ' ' | '\u{A0}' | '\u{202F}'))
                .collect()
        };
        assert_eq!(strip(&got), strip(input));
    }

    #[test]
    fn state_carries_across_events() {
        let mut t = FrenchTypography::new();
        let mut out = String::new();
        t.push_text("Bonjour", &mut out);
        t.push_text(" !", &mut out);
        assert_eq!(out, n("Bonjour_!"));

        let mut t = FrenchTypography::new();
        let mut out = String::new();
        t.push_text("Bonjour", &mut out);
        t.push_text("!", &mut out);
        assert_eq!(out, n("Bonjour_!"));

        // The space is at the end of the previous event, same buffer.
        let mut t = FrenchTypography::new();
        let mut out = String::new();
        t.push_text("Bonjour ", &mut out);
        t.push_text("?", &mut out);
        assert_eq!(out, n("Bonjour_?"));

        let mut t = FrenchTypography::new();
        let mut out = String::new();
        t.push_text("«", &mut out);
        t.push_text("Bonjour", &mut out);
        t.push_text("»", &mut out);
        assert_eq!(out, n("«_Bonjour_»"));

        let mut t = FrenchTypography::new();
        let mut out = String::new();
        t.push_text("voir https:", &mut out);
        t.push_text("//a.b/c?d", &mut out);
        assert_eq!(out, "voir https://a.b/c?d");

        let mut t = FrenchTypography::new();
        let mut out = String::new();
        t.push_text("écrire à mailto:", &mut out);
        t.push_text("a@b.c?x!", &mut out);
        assert_eq!(out, "écrire à mailto:a@b.c?x!");

        let mut t = FrenchTypography::new();
        let mut out = String::new();
        t.push_text("voir https://a", &mut out);
        t.push_text(".b/c?d !", &mut out);
        assert_eq!(out, n("voir https://a.b/c?d_!"));
    }

    #[test]
    fn separate_buffers_cannot_rewrite_the_past() {
        let mut t = FrenchTypography::new();
        let mut first = String::new();
        let mut second = String::new();
        t.push_text("Bonjour ", &mut first);
        t.push_text("!", &mut second);
        assert_eq!(first, "Bonjour ");
        assert_eq!(second, "!");
    }

    #[test]
    fn break_context_forgets() {
        let mut t = FrenchTypography::new();
        let mut out = String::new();
        t.push_text("Bonjour", &mut out);
        t.break_context();
        t.push_text("!", &mut out);
        assert_eq!(out, "Bonjour!");

        // After a code span, " :" still gets its space replaced.
        let mut t = FrenchTypography::new();
        let mut out = String::new();
        t.push_text("Lancez ", &mut out);
        t.break_context();
        out.push_str("<code>ls</code>");
        t.push_text(" : fini", &mut out);
        assert_eq!(out, n("Lancez <code>ls</code>_: fini"));

        let mut t = FrenchTypography::new();
        let mut out = String::new();
        t.push_text("voir https://a", &mut out);
        t.break_context();
        t.push_text("b?c!", &mut out);
        assert_eq!(out, n("voir https://ab?c_!"));
    }

    #[test]
    fn idempotent_on_already_correct_text() {
        for text in [
            "Bonjour\u{202F}!",
            "«\u{202F}Oui\u{202F}»",
            "Note\u{202F}: x",
            "a\u{202F}; b",
        ] {
            assert_eq!(fr(text), text);
        }
    }

    #[test]
    fn other_text_is_unchanged() {
        for text in ["", "Bonjour", "a b c", "émotion, « »", "x\n\ny", "🙂 !"] {
            let got = fr(text);
            assert_eq!(fr(&got), got);
        }
        assert_eq!(fr("Bonjour, le monde."), "Bonjour, le monde.");
        assert_eq!(fr("🙂 !"), n("🙂_!"));
        assert_eq!(fr("🙂!"), "🙂!");
    }

    #[test]
    fn long_input_is_fine() {
        let text = "« Oui ! » a:b 09:30 https://x/?y ".repeat(20_000);
        let got = fr(&text);
        assert_eq!(fr(&got), got);
    }

    #[test]
    fn with_pulldown_cmark_text_events() {
        use pulldown_cmark::{Event, Options, Parser};
        let md = "Il a dit \"Bonjour\" ! Voir `a : b` et https://x.fr/?q=1 ; « fin »";
        let mut t = FrenchTypography::new();
        let mut out = String::new();
        for event in Parser::new_ext(md, Options::ENABLE_SMART_PUNCTUATION) {
            match event {
                Event::Text(text) => t.push_text(&text, &mut out),
                Event::Code(code) => {
                    t.break_context();
                    out.push('`');
                    out.push_str(&code);
                    out.push('`');
                }
                _ => {}
            }
        }
        assert_eq!(
            out,
            n("Il a dit “Bonjour”_! Voir `a : b` et https://x.fr/?q=1_; «_fin_»")
        );
    }
}
