//! Following the presenter live under `atelier serve`.
//!
//! A facilitator deck or console (`/_facilitator/…present/…`) posts each
//! move as `POST /__atelier/present` with `{"deck":"clients/x/","slide":3}`
//! (and optionally `"black":true` when the screen is blacked, `"from":"…"`
//! naming the sending page); the server keeps the deck's position and sends
//! `event: present` on the event stream; participants' decks that follow
//! (`present/?follow`, or the button) go to that slide and copy the black
//! screen. The sender's name comes back in the event so that the page which
//! sent a move, and the tabs of its browser that already had it, skip it. A deck is named by its version folder (`""`
//! for the base version, `clients/<slug>/`), the same for the facilitator
//! and the participant deck of a version, which have the same slides.
//!
//! Only pages that carry the run's key can move anyone. The key is the
//! LAN mode's secret (or, on loopback, one made the same way for the run);
//! the server writes it into the facilitator decks and consoles it serves,
//! in their live-script tag, and nowhere else; a move must bring it back in
//! the [`KEY_HEADER`] header (compared in constant time). A page on another
//! site cannot send that header without a CORS preflight, which is never
//! granted, and does not know the key; a participant page never receives it.
//! A move is also refused when its `Origin` (or `Sec-Fetch-Site`) says it
//! comes from another site.

use std::collections::HashMap;
use std::sync::Mutex;

use super::access::Secret;

/// Where moves are posted, and where a follower asks for the position.
pub const PRESENT_PATH: &str = "/__atelier/present";
/// The header that carries the run's key with a move.
pub const KEY_HEADER: &str = "X-Atelier-Key";
/// The attribute of the live-script tag that gives a facilitator deck the key.
pub const KEY_ATTRIBUTE: &str = "data-present-key";
/// Longest body a move may have (a move is about 40 bytes).
pub const MAX_MOVE_BODY: usize = 256;
/// Highest slide index accepted (no deck comes near it).
const MAX_SLIDE: u64 = 100_000;
/// Longest sender name: deck.js makes about eleven letters and digits.
const MAX_FROM: usize = 32;

/// The presenter's position in every deck, and the key that may move it.
pub struct Follow {
    key: Secret,
    /// Deck folder → the last move's number, slide and black screen.
    positions: Mutex<Positions>,
}

#[derive(Default)]
struct Positions {
    last: u64,
    decks: HashMap<String, Position>,
}

/// Where the presenter is in one deck.
#[derive(Debug, Clone, Copy)]
struct Position {
    /// The number of the move that put it there.
    seq: u64,
    slide: u64,
    black: bool,
}

impl std::fmt::Debug for Follow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Follow(…)")
    }
}

/// A move as it arrived: what the HTTP layer read from the request.
#[derive(Debug, Default)]
pub struct Posted<'a> {
    /// The `Host` header.
    pub host: Option<&'a str>,
    /// The `Origin` header, when the browser sent one.
    pub origin: Option<&'a str>,
    /// The `Sec-Fetch-Site` header, when the browser sent one.
    pub fetch_site: Option<&'a str>,
    /// The [`KEY_HEADER`] header.
    pub key: Option<&'a str>,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// The `Content-Length` (`None` when there was none).
    pub length: Option<usize>,
}

/// Why a move is refused, with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 403: no key, a wrong key, or another site's page.
    Forbidden(&'static str),
    /// 413: a body over [`MAX_MOVE_BODY`].
    TooLarge,
    /// 415: not JSON.
    NotJson,
    /// 400: a body that is not a move.
    Malformed(&'static str),
    /// 404: no such deck in this run.
    UnknownDeck,
}

impl Refusal {
    /// The status code and the plain-text answer.
    pub fn status_and_text(self) -> (u16, &'static str) {
        match self {
            Refusal::Forbidden(why) => (403, why),
            Refusal::TooLarge => (
                413,
                "A move is a small JSON object: this body is too large.\n",
            ),
            Refusal::NotJson => (415, "A move is sent as application/json.\n"),
            Refusal::Malformed(why) => (400, why),
            Refusal::UnknownDeck => (404, "No such deck in this preview.\n"),
        }
    }
}

/// A checked move.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Move {
    /// The deck's version folder (`""`, `clients/<slug>/`).
    pub deck: String,
    /// The slide index (0-based).
    pub slide: u64,
    /// Whether the presenter's screen is blacked; followers black theirs.
    #[serde(default)]
    pub black: bool,
    /// The sending page's name (letters and digits), passed back in the
    /// event so that the sender does not take its own move a second time.
    #[serde(default)]
    pub from: Option<String>,
}

impl Follow {
    /// Moves need `key`.
    pub fn new(key: Secret) -> Follow {
        Follow {
            key,
            positions: Mutex::new(Positions::default()),
        }
    }

    /// The key, as it is written into facilitator decks.
    pub fn key(&self) -> &str {
        self.key.as_str()
    }

    /// Checks what a move's headers say (before its body is read): who
    /// sends it, and that its body is JSON of an acceptable size.
    pub fn admit(&self, posted: &Posted) -> Result<(), Refusal> {
        if let Some(origin) = posted.origin {
            let same = posted
                .host
                .is_some_and(|host| origin.eq_ignore_ascii_case(&format!("http://{host}")));
            if !same {
                return Err(Refusal::Forbidden(
                    "Forbidden: a move must come from a page of this preview.\n",
                ));
            }
        }
        if posted
            .fetch_site
            .is_some_and(|site| !site.eq_ignore_ascii_case("same-origin"))
        {
            return Err(Refusal::Forbidden(
                "Forbidden: a move must come from a page of this preview.\n",
            ));
        }
        if !posted.key.is_some_and(|given| self.key.matches(given)) {
            return Err(Refusal::Forbidden(
                "Forbidden: only the facilitator's deck and console, which carry this run's key, move the followers.\n",
            ));
        }
        let json = posted.content_type.is_some_and(|kind| {
            let essence = kind.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/json")
        });
        if !json {
            return Err(Refusal::NotJson);
        }
        match posted.length {
            None => Err(Refusal::Malformed(
                "Bad request: a move needs a Content-Length.\n",
            )),
            Some(length) if length > MAX_MOVE_BODY => Err(Refusal::TooLarge),
            Some(_) => Ok(()),
        }
    }

    /// Records `body` as the new position of its deck, if it is a move of a
    /// deck `exists` knows; returns the move's number and the event to
    /// send to the streams.
    pub fn record(
        &self,
        body: &[u8],
        exists: impl Fn(&str) -> bool,
    ) -> Result<(u64, String), Refusal> {
        let posted = parse_move(body)?;
        if !is_deck_folder(&posted.deck) || !exists(&posted.deck) {
            return Err(Refusal::UnknownDeck);
        }
        let mut positions = self.positions.lock().unwrap_or_else(|p| p.into_inner());
        positions.last += 1;
        let position = Position {
            seq: positions.last,
            slide: posted.slide,
            black: posted.black,
        };
        positions.decks.insert(posted.deck.clone(), position);
        Ok((position.seq, present_event(&posted, position.seq)))
    }

    /// `{"black":…,"deck":…,"seq":…,"slide":…}` for a follower that just
    /// arrived (`slide` is `null` before the first move).
    pub fn position_json(&self, deck: &str) -> String {
        let positions = self.positions.lock().unwrap_or_else(|p| p.into_inner());
        let position = positions.decks.get(deck).copied();
        serde_json::json!({
            "black": position.is_some_and(|p| p.black),
            "deck": deck,
            "seq": position.map_or(0, |p| p.seq),
            "slide": position.map(|p| p.slide),
        })
        .to_string()
    }
}

/// The move in `body`: `{"deck": string, "slide": integer}`, with
/// optionally `"black": bool` and `"from": name`, nothing else.
fn parse_move(body: &[u8]) -> Result<Move, Refusal> {
    let posted: Move = serde_json::from_slice(body).map_err(|_| {
        Refusal::Malformed(
            "Bad request: a move is {\"deck\": \"…\", \"slide\": 0}, with optionally \"black\": false and \"from\": \"…\".\n",
        )
    })?;
    if posted.slide > MAX_SLIDE {
        return Err(Refusal::Malformed(
            "Bad request: no deck has that many slides.\n",
        ));
    }
    let named = |from: &String| {
        (1..=MAX_FROM).contains(&from.len()) && from.bytes().all(|b| b.is_ascii_alphanumeric())
    };
    if posted.from.as_ref().is_some_and(|from| !named(from)) {
        return Err(Refusal::Malformed(
            "Bad request: a move's \"from\" is 1 to 32 letters and digits.\n",
        ));
    }
    Ok(posted)
}

/// `event: present` with the deck, the move's number, the slide, the black
/// screen and the sender's name (`null` when it gave none).
fn present_event(posted: &Move, seq: u64) -> String {
    let data = serde_json::json!({
        "black": posted.black,
        "deck": posted.deck,
        "from": posted.from,
        "seq": seq,
        "slide": posted.slide,
    });
    format!("event: present\ndata: {data}\n\n")
}

/// Whether `deck` names a participant version's folder: `""` or
/// `clients/<slug>/` with a slug of lowercase letters, digits and `-`.
pub fn is_deck_folder(deck: &str) -> bool {
    if deck.is_empty() {
        return true;
    }
    deck.strip_prefix("clients/")
        .and_then(|rest| rest.strip_suffix('/'))
        .is_some_and(|slug| {
            !slug.is_empty()
                && slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// The deck a stream message moves, if it is an `event: present`.
pub fn deck_of(message: &str) -> Option<String> {
    let data = message
        .strip_prefix("event: present\ndata: ")?
        .strip_suffix("\n\n")?;
    let value: serde_json::Value = serde_json::from_str(data).ok()?;
    value.get("deck")?.as_str().map(str::to_string)
}

/// The path of a deck's participant page, which decides who may see its moves.
pub fn deck_page(deck: &str) -> String {
    format!("{deck}present/index.html")
}

/// Whether the file at `key` (a snapshot key) is a facilitator deck or
/// console, the only pages that get the key.
pub fn carries_key(key: &str) -> bool {
    let Some(inside) = key.strip_prefix("_facilitator/") else {
        return false;
    };
    let version = match inside.strip_prefix("clients/") {
        Some(rest) => rest.split_once('/').map_or("", |(_, after)| after),
        None => inside,
    };
    version.starts_with("present/") && version.ends_with(".html")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follow() -> Follow {
        Follow::new(Secret::generate().expect("read /dev/urandom"))
    }

    fn posted<'a>(follow: &'a Follow) -> Posted<'a> {
        Posted {
            host: Some("127.0.0.1:1111"),
            origin: Some("http://127.0.0.1:1111"),
            fetch_site: Some("same-origin"),
            key: Some(follow.key()),
            content_type: Some("application/json"),
            length: Some(30),
        }
    }

    #[test]
    fn a_move_needs_the_key_and_this_origin() {
        let follow = follow();
        assert_eq!(follow.admit(&posted(&follow)), Ok(()));
        let other = format!("{}0", follow.key());
        for broken in [
            Posted {
                key: None,
                ..posted(&follow)
            },
            Posted {
                key: Some(&other),
                ..posted(&follow)
            },
            Posted {
                key: Some(""),
                ..posted(&follow)
            },
            Posted {
                origin: Some("http://evil.example"),
                ..posted(&follow)
            },
            Posted {
                origin: Some("null"),
                ..posted(&follow)
            },
            Posted {
                fetch_site: Some("cross-site"),
                ..posted(&follow)
            },
        ] {
            assert!(
                matches!(follow.admit(&broken), Err(Refusal::Forbidden(_))),
                "{broken:?}"
            );
        }
        let form = Posted {
            content_type: Some("application/x-www-form-urlencoded"),
            ..posted(&follow)
        };
        assert_eq!(follow.admit(&form), Err(Refusal::NotJson));
        let big = Posted {
            length: Some(MAX_MOVE_BODY + 1),
            ..posted(&follow)
        };
        assert_eq!(follow.admit(&big), Err(Refusal::TooLarge));
        let charset = Posted {
            content_type: Some("application/json; charset=utf-8"),
            origin: None,
            fetch_site: None,
            ..posted(&follow)
        };
        assert_eq!(follow.admit(&charset), Ok(()));
    }

    #[test]
    fn moves_are_recorded_per_deck_and_numbered() {
        let follow = follow();
        let known = |deck: &str| deck.is_empty() || deck == "clients/a/";
        assert_eq!(
            follow.position_json("clients/a/"),
            r#"{"black":false,"deck":"clients/a/","seq":0,"slide":null}"#
        );
        let event = follow.record(br#"{"deck":"clients/a/","slide":3}"#, known);
        let expected = "event: present\ndata: {\"black\":false,\"deck\":\"clients/a/\",\"from\":null,\"seq\":1,\"slide\":3}\n\n";
        assert_eq!(event, Ok((1, expected.to_string())));
        assert_eq!(deck_of(expected).as_deref(), Some("clients/a/"));
        assert_eq!(deck_of("event: reload\ndata: {\"deck\":\"\"}\n\n"), None);
        let blacked = follow.record(
            br#"{"deck":"","slide":0,"black":true,"from":"k3x9a"}"#,
            known,
        );
        let expected = "event: present\ndata: {\"black\":true,\"deck\":\"\",\"from\":\"k3x9a\",\"seq\":2,\"slide\":0}\n\n";
        assert_eq!(blacked, Ok((2, expected.to_string())));
        assert_eq!(
            follow.position_json("clients/a/"),
            r#"{"black":false,"deck":"clients/a/","seq":1,"slide":3}"#
        );
        assert_eq!(
            follow.position_json(""),
            r#"{"black":true,"deck":"","seq":2,"slide":0}"#
        );
        for body in [
            &b""[..],
            b"{}",
            b"[]",
            b"{\"deck\":\"\"}",
            b"{\"deck\":\"\",\"slide\":-1}",
            b"{\"deck\":\"\",\"slide\":1.5}",
            b"{\"deck\":\"\",\"slide\":\"2\"}",
            b"{\"deck\":\"\",\"slide\":100001}",
            b"{\"deck\":\"\",\"slide\":1,\"blank\":true}",
            b"{\"deck\":\"\",\"slide\":1,\"black\":1}",
            b"{\"deck\":\"\",\"slide\":1,\"from\":\"\"}",
            b"{\"deck\":\"\",\"slide\":1,\"from\":\"a b\"}",
            b"{\"deck\":\"\",\"slide\":1,\"from\":\"<script>\"}",
            b"{\"deck\":\"\",\"slide\":1,\"from\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
            b"{\"deck\":\"\",\"slide\":1,\"from\":7}",
            b"{\"deck\":\"\",\"slide\":1}x",
            b"\xff\xfe",
        ] {
            assert!(
                matches!(follow.record(body, known), Err(Refusal::Malformed(_))),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        for deck in [
            "clients/b/",
            "_facilitator/",
            "clients/a",
            "../",
            "clients/A/",
        ] {
            let body = format!(r#"{{"deck":"{deck}","slide":1}}"#);
            assert_eq!(
                follow.record(body.as_bytes(), known),
                Err(Refusal::UnknownDeck),
                "{deck}"
            );
        }
    }

    #[test]
    fn only_facilitator_decks_carry_the_key() {
        for key in [
            "_facilitator/present/index.html",
            "_facilitator/present/console/index.html",
            "_facilitator/clients/a/present/index.html",
            "_facilitator/clients/a/present/console/index.html",
        ] {
            assert!(carries_key(key), "{key}");
        }
        for key in [
            "present/index.html",
            "clients/a/present/index.html",
            "_facilitator/index.html",
            "_facilitator/modules/present/index.html",
            "_facilitator/clients/a/index.html",
            "_facilitator/present/deck.css",
        ] {
            assert!(!carries_key(key), "{key}");
        }
    }
}
