//! `Range` requests (RFC 9110, section 14): which part of a file a request
//! asks for, so a browser can seek in a video without loading it whole.
//!
//! One range is served as asked (`bytes=a-b`, `bytes=a-`, `bytes=-n`) with
//! a 206; a range that starts past the end is unsatisfiable (416). Several
//! ranges at once (`bytes=0-1,5-6`) are answered with the whole file (200),
//! as RFC 9110 allows: browsers never ask for them, and a multipart answer
//! is the part of the protocol attackers use to make a server work hard. A
//! `Range` header that does not parse is ignored (200), as the RFC says. A
//! request with `If-Range` gets its range only if the tag names the file's
//! current version (a strong ETag, compared byte for byte); dates are not
//! compared (the preview sends no `Last-Modified`), so they get the whole
//! file.

/// What to send of a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// The whole file (200).
    Whole,
    /// Bytes `start` to `end`, both included (206).
    Part {
        /// First byte sent.
        start: u64,
        /// Last byte sent (included).
        end: u64,
    },
    /// Nothing the file has (416, `Content-Range: bytes */len`).
    Unsatisfiable,
}

/// The span asked for by the `range` and `if_range` headers of a request
/// for a file of `len` bytes whose ETag is `etag`.
pub fn requested(range: Option<&str>, if_range: Option<&str>, etag: &str, len: u64) -> Span {
    let Some(range) = range else {
        return Span::Whole;
    };
    if if_range.is_some_and(|tag| tag.trim() != etag) {
        return Span::Whole;
    }
    parse(range, len).unwrap_or(Span::Whole)
}

/// The span of one `Range` value, `None` when it is malformed or asks for
/// several ranges.
fn parse(value: &str, len: u64) -> Option<Span> {
    let (unit, set) = value.trim().split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
        return None;
    }
    let (first, last) = set.trim().split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    match (number(first), number(last)) {
        // `-n`: the last n bytes.
        (None, Some(suffix)) if first.is_empty() => {
            if suffix == 0 || len == 0 {
                return Some(Span::Unsatisfiable);
            }
            Some(Span::Part {
                start: len.saturating_sub(suffix),
                end: len - 1,
            })
        }
        // `a-`: from a to the end.
        (Some(start), None) if last.is_empty() => Some(satisfiable(start, u64::MAX, len)),
        // `a-b`.
        (Some(start), Some(end)) if start <= end => Some(satisfiable(start, end, len)),
        _ => None,
    }
}

/// `start..=end` of a file of `len` bytes, cut at its end; unsatisfiable
/// when `start` is past it.
fn satisfiable(start: u64, end: u64, len: u64) -> Span {
    if start >= len {
        Span::Unsatisfiable
    } else {
        Span::Part {
            start,
            end: end.min(len - 1),
        }
    }
}

/// A byte position: ASCII digits only (no sign, no space), fitting in `u64`.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(range: &str, len: u64) -> Span {
        requested(Some(range), None, "\"t\"", len)
    }

    fn part(start: u64, end: u64) -> Span {
        Span::Part { start, end }
    }

    #[test]
    fn every_form_of_one_range() {
        assert_eq!(span("bytes=0-9", 100), part(0, 9));
        assert_eq!(span("bytes=10-", 100), part(10, 99));
        assert_eq!(span("bytes=-10", 100), part(90, 99));
        assert_eq!(span("bytes=-1000", 100), part(0, 99));
        assert_eq!(span("bytes=90-1000", 100), part(90, 99));
        assert_eq!(span("bytes=99-99", 100), part(99, 99));
        assert_eq!(span("Bytes = 5-6", 100), part(5, 6));
    }

    #[test]
    fn ranges_past_the_end_are_unsatisfiable() {
        assert_eq!(span("bytes=100-", 100), Span::Unsatisfiable);
        assert_eq!(span("bytes=100-200", 100), Span::Unsatisfiable);
        assert_eq!(span("bytes=-0", 100), Span::Unsatisfiable);
        assert_eq!(span("bytes=0-", 0), Span::Unsatisfiable);
        assert_eq!(span("bytes=-5", 0), Span::Unsatisfiable);
    }

    #[test]
    fn malformed_or_multiple_ranges_get_the_whole_file() {
        for range in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=5-4",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=1--2",
            "bytes=0x1-2",
            "bytes=99999999999999999999-",
            "bytes=0-1,3-4",
            "items=0-1",
            "0-1",
            "bytes=\u{661}-2",
        ] {
            assert_eq!(span(range, 100), Span::Whole, "{range:?}");
        }
        assert_eq!(requested(None, None, "\"t\"", 100), Span::Whole);
    }

    #[test]
    fn if_range_must_name_the_current_tag() {
        let etag = "\"5-abc\"";
        let ask = |if_range| requested(Some("bytes=0-1"), Some(if_range), etag, 100);
        assert_eq!(ask("\"5-abc\""), part(0, 1));
        assert_eq!(ask("\"5-abd\""), Span::Whole);
        assert_eq!(ask("W/\"5-abc\""), Span::Whole);
        assert_eq!(ask("Wed, 21 Oct 2015 07:28:00 GMT"), Span::Whole);
    }
}
