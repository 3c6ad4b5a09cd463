//! Fuzzes `markdown::variables::substitute`: no panic, text without `{{` is
//! returned unchanged, and errors point at real positions.

#![no_main]

use atelier::markdown::variables::{Lookup, substitute};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let lookup = |name: &str| match name {
        "client.name" => Lookup::Value("Maison Lemoine".into()),
        "client.sector" => Lookup::Value("chocolaterie {{ client.name }}".into()),
        "client.city" => Lookup::Value(String::new()),
        _ => Lookup::Missing,
    };
    match substitute(text, &lookup) {
        Ok(done) => {
            if !text.contains("{{") {
                assert_eq!(done.text, text, "no `{{{{`: identity");
                assert!(done.used.is_empty());
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            let lines = text.split_inclusive('\n').count().max(1);
            for e in &errors {
                assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}", e.line);
                assert!(e.column >= 1);
            }
        }
    }
});
