//! Fuzzes `content::frontmatter::split`: any text must split without
//! panicking, and what it returns must be pieces of the input at the lines
//! it claims.

#![no_main]

use atelier::content::frontmatter::split;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(parts) = split(text) else {
        return;
    };
    // The body is always the tail of the (BOM-less) input.
    assert!(text.ends_with(parts.body));
    let lines_before_body = text.len() - parts.body.len();
    let newlines = text
        .get(..lines_before_body)
        .map_or(0, |head| head.matches('\n').count());
    assert_eq!(parts.body_line, newlines + 1, "body_line is off");
    if let Some(front) = parts.front {
        assert_eq!(parts.front_line, 2);
        assert!(text.contains(front));
    }
});
