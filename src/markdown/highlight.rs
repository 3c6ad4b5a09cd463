//! Syntax highlighting of code blocks, at build time, with CSS classes.
//!
//! syntect's syntax set takes tens of milliseconds to load, so it is loaded
//! lazily, once, and only when a page actually has a fenced code block with a
//! language. Identical blocks (same language, same code) are highlighted once
//! per process and the HTML shared, across pages and client versions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

use crate::html::escape_into;

/// Prefix of the CSS classes syntect emits (`hl-keyword`, `hl-string`…).
pub const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

type Cache = Mutex<HashMap<(Box<str>, Box<str>), Arc<str>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Cache::default)
}

/// The complete `<pre>` element for a code block in `lang` (may be empty).
pub fn code_block(code: &str, lang: &str) -> Arc<str> {
    let lang = lang.split([',', ' ']).next().unwrap_or_default().trim();
    let key = (Box::<str>::from(lang), Box::<str>::from(code));
    if let Some(hit) = cache().lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Arc::clone(hit);
    }
    let html: Arc<str> = render(code, lang).into();
    cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, Arc::clone(&html));
    html
}

fn render(code: &str, lang: &str) -> String {
    let mut out = String::with_capacity(code.len() * 3 + 64);
    out.push_str("<pre class=\"code\"");
    if !lang.is_empty() {
        out.push_str(" data-lang=\"");
        escape_into(lang, &mut out);
        out.push('"');
    }
    out.push_str("><code");
    if !lang.is_empty() {
        out.push_str(" class=\"language-");
        escape_into(lang, &mut out);
        out.push('"');
    }
    out.push('>');
    match highlighted(code, lang) {
        Some(html) => out.push_str(&html),
        None => escape_into(code, &mut out),
    }
    out.push_str("</code></pre>\n");
    out
}

fn highlighted(code: &str, lang: &str) -> Option<String> {
    if lang.is_empty() || matches!(lang, "text" | "txt" | "plain" | "plaintext") {
        return None;
    }
    let set = syntaxes();
    let syntax = set
        .find_syntax_by_token(lang)
        .or_else(|| set.find_syntax_by_extension(lang))?;
    let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, set, CLASS_STYLE);
    for line in LinesWithEndings::from(code) {
        generator
            .parse_html_for_line_which_includes_newline(line)
            .ok()?;
    }
    Some(generator.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_known_languages_with_classes() {
        let html = code_block("fn main() {}\n", "rust");
        assert!(html.starts_with("<pre class=\"code\" data-lang=\"rust\">"));
        assert!(html.contains("hl-"), "{html}");
    }

    #[test]
    fn unknown_language_is_escaped_text() {
        let html = code_block("<b>\n", "nope-lang");
        assert!(html.contains("&lt;b&gt;"));
        assert!(!html.contains("hl-"));
    }

    #[test]
    fn identical_blocks_share_html() {
        let a = code_block("let x = 1;\n", "js");
        let b = code_block("let x = 1;\n", "js");
        assert!(Arc::ptr_eq(&a, &b));
    }
}
