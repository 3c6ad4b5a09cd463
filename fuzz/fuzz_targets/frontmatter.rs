//! Fuzzes `content::frontmatter::split`: any text must split without
//! panicking, what it returns must be pieces of the input at the lines it
//! claims, and `---\n{yaml}\n---\n{body}` must give back `yaml` and `body`.

#![no_main]

use atelier::content::frontmatter::split;
use libfuzzer_sys::fuzz_target;

/// Is `line` a front-matter fence (which `yaml` cannot contain)?
fn is_fence(line: &str) -> bool {
    matches!(line.trim_end(), "---" | "...")
}

fuzz_target!(|input: (&str, &str)| {
    let (text, body) = input;
    if let Ok(parts) = split(text) {
        // The body is always the tail of the input.
        assert!(text.ends_with(parts.body));
        if !parts.body.is_empty() {
            let head = &text[..text.len() - parts.body.len()];
            assert_eq!(parts.body_line, head.matches('\n').count() + 1, "body_line");
        }
        if let Some(front) = parts.front {
            assert_eq!(parts.front_line, 2);
            assert!(text.contains(front));
        }
    }

    // Round trip: any YAML text without a fence line, any body.
    let yaml = text;
    if yaml.split('\n').any(is_fence) {
        return;
    }
    let file = format!("---\n{yaml}\n---\n{body}");
    let parts = split(&file).expect("closed front matter");
    assert_eq!(parts.front, Some(format!("{yaml}\n").as_str()));
    assert_eq!(parts.body, body);
    assert_eq!(parts.body_line, yaml.matches('\n').count() + 4);
});
