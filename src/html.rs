//! Small HTML and URL helpers shared by the renderers and the preview server.

/// Escapes text for HTML content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    escape_into(text, &mut out);
    out
}

/// Appends `text`, escaped for HTML content and double-quoted attributes.
pub fn escape_into(text: &str, out: &mut String) {
    // Runs without special characters are copied whole (they are ASCII
    // bytes, so every cut is on a character boundary).
    let mut start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[start..index]);
        out.push_str(entity);
        start = index + 1;
    }
    out.push_str(&text[start..]);
}

/// Decodes `%XX` escapes of a URL path or fragment; `None` when an escape is
/// malformed. Link resolution and the preview server read URLs the same way.
pub fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let high = hex_value(*bytes.get(index + 1)?)?;
            let low = hex_value(*bytes.get(index + 2)?)?;
            out.push(high << 4 | low);
            index += 3;
        } else {
            out.push(byte);
            index += 1;
        }
    }
    Some(out)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(
            super::percent_decode("a%20b%C3%A9").as_deref(),
            Some("a bé".as_bytes())
        );
        assert_eq!(super::percent_decode("%zz"), None);
        assert_eq!(super::percent_decode("%2"), None);
    }

    #[test]
    fn escapes() {
        assert_eq!(
            super::escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(super::escape("été < ñ & 日本"), "été &lt; ñ &amp; 日本");
        assert_eq!(super::escape(""), "");
        assert_eq!(super::escape("plain"), "plain");
    }
}
