//! Following the presenter under `atelier serve`, over real sockets: a move
//! posted with the run's key reaches the event streams that may see its
//! deck; a move without the key, from another site, malformed or too large
//! is refused and sends nothing; only facilitator decks carry the key.
//!
//! Every server listens on 127.0.0.1 (or 0.0.0.0 for LAN mode, reached over
//! 127.0.0.1) on a port of its own; every read has a deadline.

#[path = "common/events.rs"]
mod events;

use std::collections::HashMap;
use std::error::Error;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use atelier::serve::access::{Access, Secret};
use atelier::serve::http::{serve, serve_with};
use atelier::serve::listen::prepare;
use atelier::serve::state::{LiveState, Snapshot};
use events::Events;

type Result<T = ()> = std::result::Result<T, Box<dyn Error>>;

const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a stream is watched for an event that must not come.
const QUIET: Duration = Duration::from_millis(400);

fn page(title: &str) -> Arc<[u8]> {
    Arc::from(
        format!("<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>")
            .into_bytes(),
    )
}

/// A base version and two clients, each with its deck, and the facilitator
/// versions with their decks and consoles.
fn snapshot() -> Snapshot {
    let mut files: HashMap<String, Arc<[u8]>> = HashMap::new();
    for (key, title) in [
        ("index.html", "Accueil"),
        ("404.html", "Introuvable"),
        ("present/index.html", "Diapos base"),
        ("clients/a/present/index.html", "Diapos A"),
        ("clients/b/present/index.html", "Diapos B"),
        ("_facilitator/index.html", "Animateur"),
        ("_facilitator/present/index.html", "Diapos animateur"),
        ("_facilitator/present/console/index.html", "Console"),
        (
            "_facilitator/clients/a/present/index.html",
            "Diapos animateur A",
        ),
        (
            "_facilitator/clients/a/present/console/index.html",
            "Console A",
        ),
    ] {
        files.insert(key.to_string(), page(title));
    }
    Snapshot::from_files(files, 1)
}

/// A loopback server (everything visible to this machine).
fn start() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    prepare(&listener)?;
    let addr = listener.local_addr()?;
    let state = Arc::new(LiveState::new(snapshot(), Vec::new()));
    thread::spawn(move || serve(listener, state));
    Ok(addr)
}

/// A LAN-mode server, reached over 127.0.0.1, and its secret.
fn start_lan(client_only: bool) -> Result<(SocketAddr, Secret)> {
    let listener = TcpListener::bind("0.0.0.0:0")?;
    prepare(&listener)?;
    let bound = listener.local_addr()?;
    let secret = Secret::generate()?;
    let access = Access::new(bound.ip(), bound.port(), Some(secret.clone()), client_only);
    let state = Arc::new(LiveState::new(snapshot(), Vec::new()));
    thread::spawn(move || serve_with(listener, state, access));
    Ok((SocketAddr::from(([127, 0, 0, 1], bound.port())), secret))
}

fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(stream)
}

/// Sends `raw` and reads the answer until the server closes: status, body.
fn exchange(addr: SocketAddr, raw: &[u8]) -> Result<(u16, String)> {
    let mut stream = connect(addr)?;
    stream.write_all(raw)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no end of headers")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    Ok((status, body.to_string()))
}

fn get(addr: SocketAddr, path: &str, extra: &str) -> Result<(u16, String)> {
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n")
            .as_bytes(),
    )
}

/// `POST /__atelier/present` with `headers` (each ending in `\r\n`) and `body`.
fn post(addr: SocketAddr, headers: &str, body: &str) -> Result<(u16, String)> {
    exchange(
        addr,
        format!(
            "POST /__atelier/present HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

/// The headers of a move sent by a facilitator deck holding `key`.
fn keyed(key: &str) -> String {
    format!(
        "Content-Type: application/json\r\nX-Atelier-Key: {key}\r\n\
         Origin: http://127.0.0.1\r\nSec-Fetch-Site: same-origin\r\n"
    )
}

fn move_body(deck: &str, slide: u64) -> String {
    format!(r#"{{"deck":"{deck}","slide":{slide}}}"#)
}

/// The key the server wrote into the facilitator deck it serves.
fn key_in(html: &str) -> Option<String> {
    let rest = html.split("data-present-key=\"").nth(1)?;
    rest.split('"').next().map(str::to_string)
}

impl Events {
    /// Opens the stream (with `extra` headers) and reads past `hello`.
    fn open(addr: SocketAddr, extra: &str) -> Result<Events> {
        let mut stream = connect(addr)?;
        stream.write_all(
            format!("GET /__atelier/events HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n").as_bytes(),
        )?;
        let mut events = Events::new(stream);
        let head = events.until(b"\r\n\r\n", Instant::now() + IO_TIMEOUT)?;
        if !head.starts_with(b"HTTP/1.1 200") {
            return Err(format!("no stream: {}", String::from_utf8_lossy(&head)).into());
        }
        let hello = events.next(Instant::now() + IO_TIMEOUT)?;
        if !hello.starts_with("event: hello\n") {
            return Err(format!("no hello: {hello}").into());
        }
        Ok(events)
    }

    /// The next `present` event's data.
    fn next_move(&mut self) -> Result<serde_json::Value> {
        let message = self.next(Instant::now() + IO_TIMEOUT)?;
        let data = message
            .strip_prefix("event: present\ndata: ")
            .ok_or_else(|| format!("not a move: {message}"))?;
        Ok(serde_json::from_str(data.trim_end())?)
    }

    /// Fails if any message other than a ping comes within [`QUIET`].
    fn stays_quiet(&mut self) -> Result {
        match self.next(Instant::now() + QUIET) {
            Ok(message) => Err(format!("unexpected event: {message}").into()),
            Err(_) => Ok(()),
        }
    }
}

#[test]
fn a_move_with_the_key_reaches_the_streams_that_may_see_its_deck() -> Result {
    let (addr, secret) = start_lan(false)?;
    let cookie = format!("Cookie: atelier_key={}\r\n", secret.as_str());
    let mut facilitator = Events::open(addr, &cookie)?;
    let mut participant = Events::open(addr, "")?;

    let (status, body) = post(addr, &keyed(secret.as_str()), &move_body("clients/a/", 4))?;
    assert_eq!((status, body.as_str()), (200, r#"{"seq":1}"#));
    let moved = facilitator.next_move()?;
    assert_eq!(moved["deck"], "clients/a/");
    assert_eq!(moved["slide"], 4);
    // Participants on the network see the base version only: a move in a
    // client's deck would name that client.
    participant.stays_quiet()?;

    let (status, _) = post(addr, &keyed(secret.as_str()), &move_body("", 2))?;
    assert_eq!(status, 200);
    for events in [&mut facilitator, &mut participant] {
        let moved = events.next_move()?;
        assert_eq!(
            (moved["deck"].as_str(), moved["slide"].as_u64()),
            (Some(""), Some(2))
        );
        assert_eq!(moved["seq"], 2);
    }

    // A follower that arrives later asks where the presenter is.
    let (status, body) = get(addr, "/__atelier/present?deck=", "")?;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"black":false,"deck":"","seq":2,"slide":2}"#)
    );
    let (status, _) = get(addr, "/__atelier/present?deck=clients%2Fa%2F", "")?;
    assert_eq!(status, 404, "a participant asked about a client's deck");
    let (status, body) = get(addr, "/__atelier/present?deck=clients%2Fa%2F", &cookie)?;
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            r#"{"black":false,"deck":"clients/a/","seq":1,"slide":4}"#
        )
    );
    let (status, body) = get(addr, "/__atelier/present?deck=clients/b/", &cookie)?;
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            r#"{"black":false,"deck":"clients/b/","seq":0,"slide":null}"#
        )
    );
    Ok(())
}

#[test]
fn a_blacked_screen_and_the_senders_name_reach_the_followers() -> Result {
    let (addr, secret) = start_lan(false)?;
    let mut participant = Events::open(addr, "")?;
    let body = r#"{"deck":"","slide":1,"black":true,"from":"console7"}"#;
    let (status, _) = post(addr, &keyed(secret.as_str()), body)?;
    assert_eq!(status, 200);
    let moved = participant.next_move()?;
    assert_eq!(moved["black"], true);
    assert_eq!(moved["from"], "console7");
    let (_, position) = get(addr, "/__atelier/present?deck=", "")?;
    assert_eq!(position, r#"{"black":true,"deck":"","seq":1,"slide":1}"#);
    // A sender's name is letters and digits: it lands in pages' scripts.
    let forged = r#"{"deck":"","slide":2,"from":"</script>"}"#;
    let (status, _) = post(addr, &keyed(secret.as_str()), forged)?;
    assert_eq!(status, 400);
    participant.stays_quiet()?;
    Ok(())
}

#[test]
fn serve_client_streams_only_that_clients_moves() -> Result {
    let (addr, secret) = start_lan(true)?;
    let cookie = format!("Cookie: atelier_key={}\r\n", secret.as_str());
    let mut facilitator = Events::open(addr, &cookie)?;
    // Another client's deck is not served at all: no move in it.
    let (status, _) = post(addr, &keyed(secret.as_str()), &move_body("clients/b/", 1))?;
    assert_eq!(status, 404);
    facilitator.stays_quiet()?;
    let (status, _) = post(addr, &keyed(secret.as_str()), &move_body("", 3))?;
    assert_eq!(status, 200);
    assert_eq!(facilitator.next_move()?["slide"], 3);
    Ok(())
}

#[test]
fn a_move_without_the_key_is_refused_and_sends_nothing() -> Result {
    let (addr, secret) = start_lan(false)?;
    let key = secret.as_str();
    let cookie = format!("Cookie: atelier_key={key}\r\n");
    let mut facilitator = Events::open(addr, &cookie)?;
    let body = move_body("", 5);
    let wrong = format!("{}0", &key[..key.len() - 1]);
    for headers in [
        // No key at all, as from a participant's page.
        "Content-Type: application/json\r\n".to_string(),
        // The cookie alone: a form on another site would send it, not the header.
        format!("Content-Type: application/json\r\n{cookie}"),
        keyed(&wrong),
        keyed(""),
        // The key, from another site's page.
        keyed(key).replace("Origin: http://127.0.0.1", "Origin: http://evil.example"),
        keyed(key).replace("Sec-Fetch-Site: same-origin", "Sec-Fetch-Site: cross-site"),
    ] {
        let (status, text) = post(addr, &headers, &body)?;
        assert_eq!(status, 403, "{headers}: {text}");
        assert!(!text.contains(key));
    }
    facilitator.stays_quiet()?;
    let (status, body) = get(addr, "/__atelier/present?deck=", &cookie)?;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"black":false,"deck":"","seq":0,"slide":null}"#)
    );

    // On loopback, a Host that does not name this server is refused first.
    let addr = start()?;
    let (_, html) = get(addr, "/_facilitator/present/", "")?;
    let key = key_in(&html).ok_or("no key in the facilitator deck")?;
    let forged = format!(
        "POST /__atelier/present HTTP/1.1\r\nHost: evil.example\r\n{}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{}",
        keyed(&key),
        move_body("", 1).len(),
        move_body("", 1)
    );
    assert_eq!(exchange(addr, forged.as_bytes())?.0, 403);
    let (status, _) = post(
        addr,
        "Content-Type: application/json\r\n",
        &move_body("", 1),
    )?;
    assert_eq!(status, 403);
    let (status, _) = post(addr, &keyed(&key), &move_body("", 1))?;
    assert_eq!(status, 200, "the key the facilitator deck carries moves");
    Ok(())
}

#[test]
fn malformed_or_oversized_moves_are_refused() -> Result {
    let addr = start()?;
    let (_, html) = get(addr, "/_facilitator/clients/a/present/console/", "")?;
    let key = key_in(&html).ok_or("no key in the console")?;
    let headers = keyed(&key);
    for (body, status) in [
        ("", 400),
        ("{}", 400),
        ("{\"deck\":\"\"}", 400),
        ("{\"deck\":\"\",\"slide\":-1}", 400),
        ("{\"deck\":\"\",\"slide\":\"1\"}", 400),
        ("{\"deck\":\"\",\"slide\":1,\"x\":1}", 400),
        ("{\"deck\":\"\",\"slide\":99999999}", 400),
        ("not json", 400),
        ("{\"deck\":\"_facilitator/\",\"slide\":1}", 404),
        ("{\"deck\":\"clients/zz/\",\"slide\":1}", 404),
        ("{\"deck\":\"../\",\"slide\":1}", 404),
    ] {
        assert_eq!(post(addr, &headers, body)?.0, status, "{body}");
    }
    let long = format!(r#"{{"deck":"{}","slide":1}}"#, "a".repeat(300));
    assert_eq!(post(addr, &headers, &long)?.0, 413);
    let form = headers.replace("application/json", "application/x-www-form-urlencoded");
    assert_eq!(post(addr, &form, &move_body("", 1))?.0, 415);
    // A body shorter than announced, then the client stops writing.
    let short = format!(
        "POST /__atelier/present HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: 40\r\n\r\n{{\"deck\":\"\"",
    );
    let mut stream = connect(addr)?;
    stream.write_all(short.as_bytes())?;
    stream.shutdown(std::net::Shutdown::Write)?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(
        !String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
        "a truncated move was taken"
    );
    let chunked = format!(
        "POST /__atelier/present HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n"
    );
    assert_eq!(exchange(addr, chunked.as_bytes())?.0, 400);
    let query = format!(
        "POST /__atelier/present?key={key} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{}",
        move_body("", 1).len(),
        move_body("", 1)
    );
    assert_eq!(exchange(addr, query.as_bytes())?.0, 400);
    let put = format!(
        "PUT /__atelier/present HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(exchange(addr, put.as_bytes())?.0, 405);
    assert_eq!(get(addr, "/__atelier/present?deck=%2e%2e%2f", "")?.0, 400);
    assert_eq!(get(addr, "/__atelier/present", "")?.0, 400);
    // After all that, a good move still goes through.
    assert_eq!(post(addr, &headers, &move_body("clients/a/", 1))?.0, 200);
    Ok(())
}

#[test]
fn only_facilitator_decks_and_consoles_carry_the_key() -> Result {
    let addr = start()?;
    let (_, deck) = get(addr, "/_facilitator/present/", "")?;
    let key = key_in(&deck).ok_or("no key in the facilitator deck")?;
    assert_eq!(key.len(), 64, "{key}");
    for path in [
        "/_facilitator/present/console/",
        "/_facilitator/clients/a/present/",
        "/_facilitator/clients/a/present/console/index.html",
    ] {
        assert_eq!(
            key_in(&get(addr, path, "")?.1).as_deref(),
            Some(key.as_str()),
            "{path}"
        );
    }
    for path in [
        "/",
        "/present/",
        "/clients/a/present/",
        "/_facilitator/",
        "/nope/",
        "/_facilitator/nope/",
        "/__atelier/present?deck=",
        "/__atelier/versions.json",
        "/__atelier/livereload.js",
    ] {
        let (_, body) = get(addr, path, "")?;
        assert!(!body.contains(&key), "{path} holds the key");
    }

    // On the network, the key is the run's secret; participants never get it.
    let (addr, secret) = start_lan(false)?;
    for path in [
        "/present/",
        "/_facilitator/present/",
        "/_facilitator/present/console/",
    ] {
        let (_, body) = get(addr, path, "")?;
        assert!(
            !body.contains(secret.as_str()),
            "{path} gave a participant the key"
        );
    }
    let cookie = format!("Cookie: atelier_key={}\r\n", secret.as_str());
    let (_, deck) = get(addr, "/_facilitator/present/console/", &cookie)?;
    assert_eq!(key_in(&deck).as_deref(), Some(secret.as_str()));
    Ok(())
}

#[test]
fn a_declared_body_too_large_to_allocate_does_not_stop_the_server() -> Result {
    let addr = start()?;
    for request in [
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 999999999999999999\r\n\r\n",
        "POST /__atelier/present HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 999999999999999999\r\n\r\n{",
    ] {
        let mut stream = connect(addr)?;
        stream.write_all(request.as_bytes())?;
        // It is never answered; give the server time to pass it on.
        thread::sleep(Duration::from_millis(200));
        let (status, body) = get(addr, "/", "")?;
        assert_eq!(status, 200);
        assert!(body.contains("Accueil"));
    }
    Ok(())
}
