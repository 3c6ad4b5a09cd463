//! Fuzzes `markdown::directives::expand` for both participant and
//! facilitator versions, then renders the expanded Markdown: no input may
//! panic, and the line map must cover every output line.

#![no_main]

use atelier::markdown::directives::{ExpandOptions, expand};
use atelier::markdown::{LinkOutcome, RenderOptions, render};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let labels = |kind: &str| kind.to_uppercase();
    let matches = |key: &str, value: &str| key == "sector" && value == "boulangerie";
    for facilitator in [false, true] {
        let opts = ExpandOptions {
            facilitator,
            labels: &labels,
            matches: &matches,
        };
        match expand(text, &opts) {
            Ok(expanded) => {
                assert_eq!(
                    expanded.line_map.len(),
                    expanded.markdown.lines().count(),
                    "one line_map entry per output line"
                );
                let source_lines = text.split_inclusive('\n').count().max(1);
                assert!(
                    expanded
                        .line_map
                        .iter()
                        .all(|&l| l >= 1 && l <= source_lines)
                );
                let resolve = |_: &str, _: bool| LinkOutcome::Keep;
                let map = &expanded.line_map;
                let source_line = |i: usize| map.get(i).copied().unwrap_or(1);
                let _ = render(
                    &expanded.markdown,
                    &RenderOptions {
                        french: true,
                        resolve_link: &resolve,
                        source_line: &source_line,
                    },
                );
            }
            Err(errors) => {
                assert!(!errors.is_empty());
                assert!(errors.iter().all(|e| e.line >= 1 && e.column >= 1));
            }
        }
    }
});
