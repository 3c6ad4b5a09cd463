//! A variable's value written into Markdown so that it reads as literal text.
//!
//! Values from client.yaml and atelier.yaml are text: `Maison <img …>` must
//! show its angle brackets, `*promo*` its stars, and `# 1` must not become a
//! heading. Variables are substituted before the Markdown parser runs, so the
//! value is written with every character that Markdown or HTML could read as
//! syntax turned into a character reference (`&lt;`, `&#42;`…). `CommonMark`
//! never reads a character reference as structure, and decodes it back to its
//! character in text, link destinations and titles and image descriptions; a
//! browser decodes it the same way where the value lands in raw HTML (a
//! directive's attribute, an author's own `<span title="…">`). Character
//! references are the one escape that works in all of those places (a
//! backslash escape would show its backslash in raw HTML).
//!
//! Straight quotes get the smart punctuation the rest of the body gets
//! (`L'Atelier` → `L’Atelier`), decided the way pulldown-cmark decides it,
//! so no value can close an author's quoted HTML attribute. French spacing
//! applies later, to the decoded text, like anywhere else.

/// Appends `value` to `out` as literal Markdown text. `before` is the
/// character just before the variable in the Markdown (`None` at the start),
/// `after` the one just after it: they decide whether a quote at either end
/// opens or closes.
pub fn push_literal(value: &str, before: Option<char>, after: Option<char>, out: &mut String) {
    let chars: Vec<char> = value.chars().collect();
    let quotes = smart_quotes(&chars, before, after);
    for (index, &c) in chars.iter().enumerate() {
        if let Some(curly) = quotes.get(index).copied().flatten() {
            out.push(curly);
            continue;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ if always_structural(c) || (index == 0 && structural_at_line_start(c)) => {
                out.push_str("&#");
                out.push_str(&u32::from(c).to_string());
                out.push(';');
            }
            _ => out.push(c),
        }
    }
}

/// Characters that mean something to Markdown wherever they are: emphasis,
/// code, links, images, tables, strikethrough, heading ids and closing `#`s,
/// backslash escapes, and line breaks (a new line could start a block).
fn always_structural(c: char) -> bool {
    matches!(
        c,
        '\\' | '`' | '*' | '_' | '[' | ']' | '{' | '}' | '|' | '~' | '#' | '!' | '\n' | '\r'
    )
}

/// Characters that open a block when they start a line (the variable may
/// stand at the start of a line): indentation, list markers and ordered list
/// numbers, setext underlines.
fn structural_at_line_start(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, ' ' | '\t' | '-' | '+' | '=')
}

/// The curly quote each straight quote of `chars` becomes, by index (empty
/// when there is no straight quote).
///
/// pulldown-cmark's rule: a quote that can close (right-flanking) closes an
/// open one; a single quote that cannot close an open pair is an apostrophe
/// `’`; a double quote that does not close is an opening `“`.
fn smart_quotes(chars: &[char], before: Option<char>, after: Option<char>) -> Vec<Option<char>> {
    if !chars.iter().any(|&c| c == '\'' || c == '"') {
        return Vec::new();
    }
    let mut quotes = vec![None; chars.len()];
    let mut single_open: Option<usize> = None;
    let mut double_open = false;
    for (index, &c) in chars.iter().enumerate() {
        if c != '\'' && c != '"' {
            continue;
        }
        let previous = index
            .checked_sub(1)
            .map_or(before, |i| chars.get(i).copied());
        let next = chars.get(index + 1).copied().or(after);
        let can_open = next.is_some_and(|n| !n.is_whitespace())
            && previous.is_none_or(|p| {
                p.is_whitespace() || (is_punctuation(p) && (c != '\'' || !matches!(p, ']' | ')')))
            });
        let can_close = previous.is_some_and(|p| !p.is_whitespace())
            && next.is_none_or(|n| n.is_whitespace() || is_punctuation(n));
        quotes[index] = Some(if c == '\'' {
            match single_open {
                Some(open) if can_close => {
                    quotes[open] = Some('‘');
                    single_open = None;
                }
                _ if can_open => single_open = Some(index),
                _ => {}
            }
            '’'
        } else if can_close && double_open {
            double_open = false;
            '”'
        } else {
            double_open |= can_open;
            '“'
        });
    }
    quotes
}

/// `CommonMark`'s punctuation (Unicode punctuation and symbols), closely
/// enough for quotes: neither a letter, a digit, a space nor a control.
fn is_punctuation(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(value: &str) -> String {
        let mut out = String::new();
        push_literal(value, Some(' '), Some(' '), &mut out);
        out
    }

    fn rendered(markdown: &str) -> String {
        let mut html = String::new();
        pulldown_cmark::html::push_html(
            &mut html,
            pulldown_cmark::Parser::new_ext(markdown, super::super::parser_options()),
        );
        html
    }

    #[test]
    fn markup_in_values_is_text() {
        for (value, shown) in [
            (
                "Maison <img src=x onerror=alert(1)>",
                "Maison &lt;img src=x onerror=alert(1)&gt;",
            ),
            (
                "</script><script>alert(1)</script>",
                "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            (
                "*gras* _it_ `code` ~~barré~~",
                "*gras* _it_ `code` ~~barré~~",
            ),
            (
                "[lien](javascript:x) ![i](x.png)",
                "[lien](javascript:x) ![i](x.png)",
            ),
            ("a &amp; b &lt;", "a &amp;amp; b &amp;lt;"),
            ("back\\slash \\*", "back\\slash \\*"),
            ("titre {#id}", "titre {#id}"),
        ] {
            let html = rendered(&format!("Avant {} après", literal(value)));
            assert_eq!(html, format!("<p>Avant {shown} après</p>\n"), "{value:?}");
        }
    }

    #[test]
    fn a_value_never_starts_a_block() {
        for value in [
            "# Titre",
            "- item",
            "+ item",
            "1. item",
            "2024) item",
            "> cité",
            "    code",
            "---",
            "===",
            "| a | b |",
            "```",
            "<div>",
            "[x]: https://example.org",
            "a\n# b\n\n- c",
        ] {
            let html = rendered(&format!("Intro\n{}\n", literal(value)));
            assert!(html.starts_with("<p>Intro\n"), "{value:?}: {html}");
            assert_eq!(html.matches("<p>").count(), 1, "{value:?}: {html}");
            assert!(!html.contains("<h") && !html.contains("<li"), "{html}");
            let html = rendered(&format!("{}\n", literal(value)));
            assert!(html.starts_with("<p>"), "{value:?}: {html}");
        }
    }

    #[test]
    fn table_cells_keep_their_pipes() {
        let html = rendered(&format!(
            "| a | b |\n|---|---|\n| {} | x |\n",
            literal("1 | 2")
        ));
        assert!(html.contains("<td>1 | 2</td><td>x</td>"), "{html}");
    }

    #[test]
    fn ordinary_names_read_as_written() {
        let html = rendered(&format!("Pour {} !", literal("Café Zéphyr & Fils")));
        assert_eq!(html, "<p>Pour Café Zéphyr &amp; Fils !</p>\n");
        let html = rendered(&format!("Chez {}.", literal("L'Atelier d'Anne")));
        assert_eq!(html, "<p>Chez L’Atelier d’Anne.</p>\n");
    }

    #[test]
    fn quotes_match_smart_punctuation() {
        for value in [
            "L'Atelier",
            "'Le Fournil'",
            "\"Le Fournil\" d'Anne",
            "les 'quotes' \"et\" l'apostrophe'",
            "'",
            "\"",
            "(\"a\")",
        ] {
            let mut own = String::new();
            push_literal(value, Some(' '), Some('.'), &mut own);
            let ours = rendered(&format!("Chez {own}."));
            let smart = rendered(&format!("Chez {value}."));
            assert_eq!(ours, smart, "{value:?}");
        }
    }

    #[test]
    fn values_in_raw_html_stay_inside_their_attribute() {
        let html = rendered(&format!(
            "<p title=\"{}\" class='{}'>x</p>\n",
            literal("a\" onmouseover=\"alert(1)"),
            literal("b' onclick='alert(1)")
        ));
        assert!(!html.contains("\" onmouseover"), "{html}");
        assert!(!html.contains("' onclick"), "{html}");
    }
}
