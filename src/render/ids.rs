//! Own element ids for each copy of an exercise widget on one page.
//!
//! A widget is rendered once per exercise and pasted wherever the exercise
//! appears. When a page shows the same exercise twice (two `::: exercise`
//! embeds, or an embed and the module's `exercises:` list), the copies would
//! share their ids, so the second copy's labels would point at the first
//! copy's controls. Every copy after the first gets `-N` appended to each id
//! and to every attribute that refers to one (`for`, `aria-labelledby`…).
//! Both copies keep the same `data-storage-key`: they are one exercise, and
//! atelier.js shows the same answers in both as they are typed.

/// Attributes whose value is an id, or a space-separated list of ids.
const ID_ATTRIBUTES: [&str; 7] = [
    "id",
    "for",
    "aria-labelledby",
    "aria-describedby",
    "aria-controls",
    "headers",
    "list",
];

/// `html` (one widget) with `-{copy}` appended to every id and id
/// reference; `copy` 1 (the first copy) is `html` unchanged.
pub(super) fn nth_copy(html: &str, copy: usize) -> String {
    if copy <= 1 {
        return html.to_string();
    }
    let suffix = format!("-{copy}");
    let mut out = String::with_capacity(html.len() + html.len() / 16);
    let mut rest = html;
    while let Some((at, name_len)) = next_id_attribute(rest) {
        let value_start = at + name_len + 2; // `name="`
        out.push_str(&rest[..value_start]);
        let after = &rest[value_start..];
        let end = after.find('"').unwrap_or(after.len());
        let value = &after[..end];
        for (i, token) in value.split(' ').enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(token);
            if !token.is_empty() {
                out.push_str(&suffix);
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The next ` NAME="` with NAME an id attribute: (offset of NAME, its length).
fn next_id_attribute(html: &str) -> Option<(usize, usize)> {
    let bytes = html.as_bytes();
    let mut from = 0;
    while let Some(found) = html[from..].find("=\"") {
        let eq = from + found;
        let name_start = html[..eq]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .map_or(0, |i| i + 1);
        let name = &html[name_start..eq];
        let preceded_by_space =
            name_start > 0 && matches!(bytes[name_start - 1], b' ' | b'\n' | b'\t');
        if preceded_by_space && ID_ATTRIBUTES.contains(&name) {
            return Some((name_start, name.len()));
        }
        from = eq + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_and_reference_gets_the_suffix() {
        let widget = "<form id=\"exercise-x\" data-id=\"keep\"><label for=\"x-a\">A</label>\n  \
                      <input id=\"x-a\" name=\"a\"><output for=\"x-a x-b\" aria-describedby=\"x-h\">\
                      </output><p title=\"id=&quot;no&quot;\">for=\"text\"</p></form>";
        assert_eq!(nth_copy(widget, 1), widget);
        assert_eq!(
            nth_copy(widget, 2),
            "<form id=\"exercise-x-2\" data-id=\"keep\"><label for=\"x-a-2\">A</label>\n  \
             <input id=\"x-a-2\" name=\"a\"><output for=\"x-a-2 x-b-2\" aria-describedby=\"x-h-2\">\
             </output><p title=\"id=&quot;no&quot;\">for=\"text\"</p></form>"
        );
        assert_eq!(nth_copy("<p id=\"\">x", 3), "<p id=\"\">x");
        assert_eq!(nth_copy("<p id=\"open", 2), "<p id=\"open-2");
    }
}
