//! Syntax highlighting of code blocks, at build time, with CSS classes.
//!
//! syntect's syntax set takes tens of milliseconds to load, so it is loaded
//! lazily, once, and only when a page actually has a fenced code block with a
//! language. Identical blocks (same language, same code) are highlighted once
//! per process and the HTML shared, across pages and client versions.
//!
//! Each token gets one short class naming what it is (`hl-k` for a keyword,
//! `hl-s` for a string…), resolved from its grammar scopes by TextMate scope
//! selectors, as a colour theme would be. Writing every scope as its own
//! nested span instead (syntect's classed HTML) makes a 20-line block about
//! 15 KB; short classes keep it near 3 KB, in every page and every client
//! version that shows it.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

use syntect::highlighting::{
    Color, HighlightIterator, HighlightState, Highlighter, ScopeSelectors, StyleModifier, Theme,
    ThemeItem, ThemeSettings,
};
use syntect::parsing::{ParseState, ScopeStack, SyntaxSet};
use syntect::util::LinesWithEndings;

use crate::html::escape_into;

/// Token kinds: the class (after `hl-`) and the scope selectors that make a
/// token that kind. The most specific selector wins, as in TextMate themes;
/// `static/highlight.css` gives each class its colour.
pub const TOKEN_KINDS: &[(&str, &str)] = &[
    ("c", "comment, punctuation.definition.comment, markup.quote"),
    (
        "k",
        "keyword, storage, entity.name.tag, constant.other.placeholder",
    ),
    ("kt", "storage.type"),
    ("h", "markup.heading"),
    ("l", "variable.language"),
    ("o", "keyword.operator, punctuation"),
    ("s", "string, punctuation.definition.string, markup.raw"),
    (
        "n",
        "constant, string constant.character.escape, string.regexp, support.constant, \
         variable.other.constant, entity.other.attribute-name, markup.list",
    ),
    (
        "f",
        "entity.name.function, support.function, variable.function, \
         meta.function-call variable.function, support.type.property-name, \
         meta.mapping.key string, entity.name.tag.yaml, meta.diff.header, meta.diff.range",
    ),
    ("m", "support.macro, entity.name.macro"),
    (
        "t",
        "entity.name.type, entity.name.class, entity.name.struct, entity.name.enum, \
         entity.name.trait, entity.other.inherited-class, support.type, support.class",
    ),
    ("v", "variable"),
    ("p", "variable.parameter"),
    ("u", "markup.underline.link"),
    ("b", "markup.bold"),
    ("i", "markup.italic"),
    ("ins", "markup.inserted"),
    ("del", "markup.deleted"),
    ("x", "invalid"),
];

/// A theme whose "colour" is the index of the token kind (0: plain text).
fn kinds_theme() -> &'static Theme {
    static THEME: OnceLock<Theme> = OnceLock::new();
    THEME.get_or_init(|| {
        let kind = |index: usize| Color {
            r: u8::try_from(index).unwrap_or(0),
            g: 0,
            b: 0,
            a: 0xff,
        };
        Theme {
            settings: ThemeSettings {
                foreground: Some(kind(0)),
                ..ThemeSettings::default()
            },
            scopes: TOKEN_KINDS
                .iter()
                .enumerate()
                .filter_map(|(index, (_, selectors))| {
                    Some(ThemeItem {
                        scope: ScopeSelectors::from_str(selectors).ok()?,
                        style: StyleModifier {
                            foreground: Some(kind(index + 1)),
                            background: None,
                            font_style: None,
                        },
                    })
                })
                .collect(),
            ..Theme::default()
        }
    })
}

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

/// One run of a code line: the token kind (a class of [`TOKEN_KINDS`],
/// `None` for plain text) and its text.
pub type TokenRun = (Option<&'static str>, String);

/// A code block cut into lines of token runs, for renderers that colour
/// tokens themselves (the workbook PDF): the kinds are the site's classes, so
/// both show the same colours. `None` when `lang` names no known grammar;
/// an empty or plain-text language gives one plain run per line.
pub fn token_lines(code: &str, lang: &str) -> Option<Vec<Vec<TokenRun>>> {
    let lang = lang.split([',', ' ']).next().unwrap_or_default().trim();
    let plain = || {
        code.lines()
            .map(|line| vec![(None, line.to_string())])
            .collect()
    };
    if is_plain(lang) {
        return Some(plain());
    }
    let set = syntaxes();
    let syntax = set
        .find_syntax_by_token(lang)
        .or_else(|| set.find_syntax_by_extension(lang))?;
    let highlighter = Highlighter::new(kinds_theme());
    let mut parser = ParseState::new(syntax);
    let mut state = HighlightState::new(&highlighter, ScopeStack::new());
    let mut lines = Vec::new();
    for line in LinesWithEndings::from(code) {
        let Ok(ops) = parser.parse_line(line, set) else {
            return Some(plain());
        };
        let mut runs: Vec<TokenRun> = Vec::new();
        for (style, text) in HighlightIterator::new(&mut state, &ops, line, &highlighter) {
            let text = text.trim_end_matches(['\n', '\r']);
            if text.is_empty() {
                continue;
            }
            let kind = TOKEN_KINDS
                .get(usize::from(style.foreground.r).wrapping_sub(1))
                .map(|(class, _)| *class);
            match runs.last_mut() {
                // Whitespace takes any kind: it keeps runs of one kind together.
                Some((last, run)) if *last == kind || text.trim().is_empty() => run.push_str(text),
                _ => runs.push((kind, text.to_string())),
            }
        }
        lines.push(runs);
    }
    Some(lines)
}

/// A language that is no language: shown as written, not highlighted.
fn is_plain(lang: &str) -> bool {
    lang.is_empty() || matches!(lang, "text" | "txt" | "plain" | "plaintext")
}

fn highlighted(code: &str, lang: &str) -> Option<String> {
    if is_plain(lang) {
        return None;
    }
    let set = syntaxes();
    let syntax = set
        .find_syntax_by_token(lang)
        .or_else(|| set.find_syntax_by_extension(lang))?;
    let highlighter = Highlighter::new(kinds_theme());
    let mut parser = ParseState::new(syntax);
    let mut state = HighlightState::new(&highlighter, ScopeStack::new());
    let mut out = String::with_capacity(code.len() * 2);
    let mut open: u8 = 0;
    for line in LinesWithEndings::from(code) {
        let ops = parser.parse_line(line, set).ok()?;
        for (style, text) in HighlightIterator::new(&mut state, &ops, line, &highlighter) {
            let kind = style.foreground.r;
            // Whitespace takes any kind: it keeps runs of one kind together.
            if kind != open && !text.trim().is_empty() {
                if open != 0 {
                    out.push_str("</span>");
                }
                if let Some((class, _)) = TOKEN_KINDS.get(usize::from(kind).wrapping_sub(1)) {
                    out.push_str("<span class=\"hl-");
                    out.push_str(class);
                    out.push_str("\">");
                    open = kind;
                } else {
                    open = 0;
                }
            }
            escape_into(text, &mut out);
        }
    }
    if open != 0 {
        out.push_str("</span>");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_known_languages_with_classes() {
        let html = code_block("fn main() {}\n", "rust");
        assert!(html.starts_with("<pre class=\"code\" data-lang=\"rust\">"));
        assert!(html.contains("<span class=\"hl-kt\">fn </span>"), "{html}");
        assert!(html.contains("<span class=\"hl-f\">main</span>"), "{html}");
    }

    #[test]
    fn every_token_kind_has_valid_selectors() {
        assert_eq!(kinds_theme().scopes.len(), TOKEN_KINDS.len());
    }

    #[test]
    fn most_specific_selector_wins() {
        let html = code_block("# note\nx = \"a\\n\" + f(1)\n", "python");
        assert!(html.contains("<span class=\"hl-c\"># note"), "{html}");
        assert!(html.contains("<span class=\"hl-n\">\\n</span>"), "{html}");
        assert!(html.contains("<span class=\"hl-o\">+ </span>"), "{html}");
        assert!(
            html.contains("<span class=\"hl-s\">&quot;a</span>"),
            "{html}"
        );
    }

    #[test]
    fn unknown_language_is_escaped_text() {
        let html = code_block("<b>\n", "nope-lang");
        assert!(html.contains("&lt;b&gt;"));
        assert!(!html.contains("hl-"));
    }

    #[test]
    fn token_lines_carry_the_site_classes() {
        let lines = token_lines("fn main() {}\nlet x = 1;\n", "rust").expect("rust is known");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0][0], (Some("kt"), "fn ".to_string()));
        assert!(
            lines[0].contains(&(Some("f"), "main".to_string())),
            "{lines:?}"
        );
        let text: String = lines[1].iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(text, "let x = 1;");
        assert_eq!(
            token_lines("a\nb\n", ""),
            Some(vec![vec![(None, "a".into())], vec![(None, "b".into())]])
        );
        assert_eq!(token_lines("x\n", "nope-lang"), None);
    }

    #[test]
    fn identical_blocks_share_html() {
        let a = code_block("let x = 1;\n", "js");
        let b = code_block("let x = 1;\n", "js");
        assert!(Arc::ptr_eq(&a, &b));
    }
}
