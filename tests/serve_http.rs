//! The preview server's HTTP layer over real sockets: pages, HEAD, ETags,
//! 404 pages, redirects, keep-alive, refused traversals, the event stream,
//! and that long-lived, stuck or non-reading connections never hold up page
//! requests.
//!
//! Every server listens on 127.0.0.1 on a port of its own; every request
//! loop is bounded in count and every read has a deadline.

use std::collections::HashMap;
use std::error::Error;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

mod common;
#[path = "common/events.rs"]
mod events;

use events::Events;

use atelier::serve::access::{Access, Secret};
use atelier::serve::http::{MAX_STREAMS, serve, serve_with};
use atelier::serve::listen::prepare;
use atelier::serve::state::{Change, LiveState, OverlayError, Snapshot, VersionLink};

type Result<T = ()> = std::result::Result<T, Box<dyn Error>>;

/// Longest any single read or write may take.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
const SCRIPT: &str = r#"<script src="/__atelier/livereload.js" data-build=""#;
const SCRIPT_END: &str = r#"" defer></script></body>"#;

fn page(title: &str) -> Vec<u8> {
    format!("<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>")
        .into_bytes()
}

/// `event: NAME` whose data names build `generation` of this server.
fn is_event(message: &str, name: &str, generation: u64) -> bool {
    let Some(data) = message
        .strip_prefix(&format!("event: {name}\ndata: "))
        .and_then(|rest| rest.strip_suffix("\n\n"))
    else {
        return false;
    };
    serde_json::from_str::<serde_json::Value>(data)
        .ok()
        .and_then(|v| v["build"].as_str().map(str::to_string))
        .is_some_and(|build| build.ends_with(&format!("-{generation}")))
}

fn snapshot(generation: u64) -> Snapshot {
    let mut files: HashMap<String, Arc<[u8]>> = HashMap::new();
    let mut add = |key: &str, bytes: Vec<u8>| {
        files.insert(key.to_string(), Arc::from(bytes));
    };
    add("index.html", page("Accueil"));
    add("modules/x/index.html", page("Module X"));
    add("static/atelier.css", b"body { color: #222; }\n".to_vec());
    add("404.html", page("Page introuvable"));
    add("clients/a/index.html", page("Client A"));
    add("clients/a/404.html", page("Introuvable chez A"));
    add("_facilitator/index.html", page("Animateur"));
    // Larger than any socket buffer takes at once.
    add("static/big.bin", vec![b'x'; 16 * 1024 * 1024]);
    Snapshot::from_files(files, generation)
}

fn versions() -> Vec<VersionLink> {
    vec![
        VersionLink {
            label: "Version de base".into(),
            prefix: String::new(),
        },
        VersionLink {
            label: "Client A".into(),
            prefix: "clients/a/".into(),
        },
        VersionLink {
            label: "Animateur".into(),
            prefix: "_facilitator/".into(),
        },
    ]
}

/// Starts a server on 127.0.0.1 and a free port; it runs until the test
/// process ends.
fn start() -> Result<(SocketAddr, Arc<LiveState>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    prepare(&listener)?;
    let addr = listener.local_addr()?;
    let state = Arc::new(LiveState::new(snapshot(1), versions()));
    let served = Arc::clone(&state);
    thread::spawn(move || serve(listener, served));
    Ok((addr, state))
}

fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(stream)
}

/// A parsed response.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn parse(raw: &[u8]) -> io::Result<Reply> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    })
}

/// Sends `raw` on a new connection and reads the answer until the server
/// closes it.
fn exchange(addr: SocketAddr, raw: &str) -> io::Result<Reply> {
    let mut stream = connect(addr)?;
    stream.write_all(raw.as_bytes())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    parse(&answer)
}

/// Reads one response (head, then as many body bytes as it announces).
fn read_one(stream: &mut TcpStream) -> io::Result<Reply> {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Ok(reply) = parse(&raw) {
            let length: usize = reply
                .header("Content-Length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if reply.body.len() >= length {
                return Ok(reply);
            }
        }
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            return parse(&raw);
        }
        raw.extend_from_slice(&chunk[..read]);
    }
}

fn request(addr: SocketAddr, method: &str, path: &str, extra: &str) -> io::Result<Reply> {
    exchange(
        addr,
        &format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n"),
    )
}

fn get(addr: SocketAddr, path: &str) -> io::Result<Reply> {
    request(addr, "GET", path, "")
}

#[test]
fn pages_are_served_with_charset_headers_and_the_live_script() -> Result {
    let (addr, _state) = start()?;
    let home = get(addr, "/")?;
    assert_eq!(home.status, 200);
    assert_eq!(
        home.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(home.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(home.header("Cache-Control"), Some("no-cache"));
    let text = home.text();
    assert!(text.contains("<h1>Accueil</h1>"), "{text}");
    assert!(text.contains(SCRIPT) && text.contains(SCRIPT_END), "{text}");
    assert_eq!(text.matches("/__atelier/livereload.js").count(), 1);
    assert_eq!(
        home.header("Content-Length"),
        Some(home.body.len().to_string().as_str())
    );

    let module = get(addr, "/modules/x/?from=toc")?;
    assert_eq!(module.status, 200);
    assert!(module.text().contains("Module X"));

    let css = get(addr, "/static/atelier.css?v=123")?;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("Content-Type"), Some("text/css; charset=utf-8"));
    assert_eq!(
        css.text(),
        "body { color: #222; }\n",
        "nothing injected into CSS"
    );

    let facilitator = get(addr, "/_facilitator/")?;
    assert!(facilitator.text().contains("Animateur"));
    Ok(())
}

#[test]
fn internal_routes() -> Result {
    let (addr, state) = start()?;
    let js = get(addr, "/__atelier/livereload.js")?;
    assert_eq!(js.status, 200);
    assert_eq!(
        js.header("Content-Type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(js.text().contains("/__atelier/events"));
    assert!(js.text().contains("atelier-livereload"));

    let list = get(addr, "/__atelier/versions.json")?;
    assert_eq!(
        list.header("Content-Type"),
        Some("application/json; charset=utf-8")
    );
    let parsed: serde_json::Value = serde_json::from_slice(&list.body)?;
    assert_eq!(
        parsed,
        serde_json::json!([
            {"label": "Version de base", "prefix": ""},
            {"label": "Client A", "prefix": "clients/a/"},
            {"label": "Animateur", "prefix": "_facilitator/"},
        ])
    );

    let errors = get(addr, "/__atelier/errors.json")?;
    assert_eq!(errors.text(), r#"{"errors":[]}"#);
    state.fail(vec![OverlayError {
        location: "content/modules/02-x.md:4:1".into(),
        message: "bad front matter".into(),
        source_line: Some("title: [".into()),
    }]);
    let errors = get(addr, "/__atelier/errors.json")?;
    assert!(errors.text().contains("content/modules/02-x.md:4:1"));
    Ok(())
}

#[test]
fn head_has_the_headers_of_get_and_no_body() -> Result {
    let (addr, _state) = start()?;
    for path in ["/", "/static/atelier.css", "/static/big.bin", "/nope/"] {
        let full = get(addr, path)?;
        let head = request(addr, "HEAD", path, "")?;
        assert_eq!(head.status, full.status, "{path}");
        assert!(head.body.is_empty(), "{path}: HEAD sent a body");
        assert_eq!(
            head.header("Content-Length"),
            Some(full.body.len().to_string().as_str()),
            "{path}"
        );
        assert_eq!(head.header("Content-Type"), full.header("Content-Type"));
        assert_eq!(head.header("ETag"), full.header("ETag"));
    }
    Ok(())
}

#[test]
fn etag_and_if_none_match_give_304() -> Result {
    let (addr, state) = start()?;
    let first = get(addr, "/modules/x/")?;
    let etag = first.header("ETag").ok_or("no ETag")?.to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    let again = request(
        addr,
        "GET",
        "/modules/x/",
        &format!("If-None-Match: {etag}\r\n"),
    )?;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("ETag"), Some(etag.as_str()));

    let other = request(addr, "GET", "/", &format!("If-None-Match: {etag}\r\n"))?;
    assert_eq!(other.status, 200, "another page's ETag does not match");

    // A rebuild that changes the page changes its ETag.
    let next = Snapshot::from_files(
        [
            ("index.html".to_string(), Arc::from(page("Accueil"))),
            (
                "modules/x/index.html".to_string(),
                Arc::from(page("Module X v2")),
            ),
        ],
        2,
    );
    state.publish(next, versions(), Change::Reload);
    let changed = request(
        addr,
        "GET",
        "/modules/x/",
        &format!("If-None-Match: {etag}\r\n"),
    )?;
    assert_eq!(changed.status, 200);
    assert!(changed.text().contains("Module X v2"));
    assert_ne!(changed.header("ETag"), Some(etag.as_str()));
    Ok(())
}

#[test]
fn missing_paths_get_the_version_404_page() -> Result {
    let (addr, _state) = start()?;
    let root = get(addr, "/nowhere/")?;
    assert_eq!(root.status, 404);
    assert_eq!(
        root.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert!(root.text().contains("Page introuvable"));
    assert!(root.text().contains(SCRIPT) && root.text().contains(SCRIPT_END));

    let client = get(addr, "/clients/a/nowhere.html")?;
    assert_eq!(client.status, 404);
    assert!(
        client.text().contains("Introuvable chez A"),
        "{}",
        client.text()
    );
    assert!(client.text().contains(SCRIPT));

    let facilitator = get(addr, "/_facilitator/nowhere/")?;
    assert_eq!(facilitator.status, 404);
    assert!(facilitator.text().contains("Page introuvable"));

    let asset = get(addr, "/static/missing.css")?;
    assert_eq!(asset.status, 404);
    Ok(())
}

#[test]
fn kept_alive_and_pipelined_requests_are_answered_in_order() -> Result {
    let (addr, _state) = start()?;
    let mut stream = connect(addr)?;
    stream.write_all(
        b"GET /static/atelier.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n\
          HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n\
          GET /modules/x/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let mut rest = raw.as_slice();
    let mut replies = Vec::new();
    for head_only in [false, true, false] {
        let reply = parse(rest)?;
        let length: usize = reply
            .header("Content-Length")
            .and_then(|v| v.parse().ok())
            .ok_or("no Content-Length")?;
        let head_end = rest.len() - reply.body.len();
        let body_len = if head_only { 0 } else { length };
        let body = rest
            .get(head_end..head_end + body_len)
            .ok_or("short body")?;
        replies.push((reply.status, String::from_utf8_lossy(body).into_owned()));
        rest = &rest[head_end + body_len..];
    }
    assert!(rest.is_empty(), "{} bytes too many", rest.len());
    assert_eq!(replies[0], (200, "body { color: #222; }\n".to_string()));
    assert_eq!(replies[1], (200, String::new()));
    assert_eq!(replies[2].0, 200);
    assert!(replies[2].1.contains("Module X"));
    Ok(())
}

#[test]
fn other_methods_get_405() -> Result {
    let (addr, _state) = start()?;
    for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
        let reply = exchange(
            addr,
            &format!(
                "{method} / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"
            ),
        )?;
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.header("Allow"), Some("GET, HEAD"));
    }
    // A large body the server does not want: the 405 still arrives (read
    // by its length: the connection is kept alive, as the client asked).
    let body = "x".repeat(100 * 1024);
    let mut stream = connect(addr)?;
    stream.write_all(
        format!(
            "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )?;
    let reply = read_one(&mut stream)?;
    assert_eq!(reply.status, 405);
    Ok(())
}

#[test]
fn folders_without_slash_are_redirected_and_never_listed() -> Result {
    let (addr, _state) = start()?;
    let reply = get(addr, "/modules/x")?;
    assert_eq!(reply.status, 301);
    assert_eq!(reply.header("Location"), Some("/modules/x/"));

    let with_query = get(addr, "/clients/a?x=1")?;
    assert_eq!(with_query.status, 301);
    assert_eq!(with_query.header("Location"), Some("/clients/a/?x=1"));

    // `static/` has files but no index.html: 404, no listing.
    let folder = get(addr, "/static/")?;
    assert_eq!(folder.status, 404);
    assert!(!folder.text().contains("atelier.css"));
    Ok(())
}

#[test]
fn traversal_is_refused_without_leaking_anything() -> Result {
    let (addr, _state) = start()?;
    // Files that exist next to the test and on the machine, outside the
    // snapshot: none of their content may come back.
    let cargo = std::fs::read_to_string("Cargo.toml")?;
    let secrets = [
        "[package]",
        "name = \"atelier\"",
        "root:x:0:0",
        "[fonts]",
        "body { color",
    ];
    assert!(cargo.contains(secrets[0]) && cargo.contains(secrets[1]));
    let attempts = [
        "/../Cargo.toml",
        "/../../../../etc/passwd",
        "/%2e%2e/Cargo.toml",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/.%2e/Cargo.toml",
        "/%2e%2e%2fCargo.toml",
        "/..%5cCargo.toml",
        "/%2e%2e%5cCargo.toml",
        "/static/..%2f..%2fCargo.toml",
        "/static/%2e%2e/%2e%2e/Cargo.toml",
        "/%252e%252e/Cargo.toml",
        "/static/..%252f..%252fCargo.toml",
        "//etc/passwd",
        "/\\..\\Cargo.toml",
        "/static\\..\\..\\Cargo.toml",
        "/static/%00",
        "/static/atelier.css%00.html",
        "/.%00./Cargo.toml",
        "/C:/Windows/win.ini",
        "/c:%5cwindows%5cwin.ini",
        "/modules/../../Cargo.toml",
        "/modules/x/../../../Cargo.toml",
        "/./Cargo.toml",
        "/%c0%ae%c0%ae/Cargo.toml",
        "/..;/Cargo.toml",
        "/Cargo.toml",
        "/etc/passwd",
    ];
    assert!(attempts.len() >= 10);
    for path in attempts {
        let reply = get(addr, path)?;
        assert!(
            reply.status == 400 || reply.status == 404,
            "{path}: status {}",
            reply.status
        );
        let text = reply.text();
        for secret in secrets {
            assert!(!text.contains(secret), "{path} leaked {secret:?}");
        }
    }
    Ok(())
}

impl Events {
    /// Opens the stream and checks the response head.
    fn open(addr: SocketAddr) -> Result<Events> {
        let mut stream = connect(addr)?;
        stream.write_all(
            b"GET /__atelier/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
        )?;
        let mut events = Events::new(stream);
        let head = events.until(b"\r\n\r\n", Instant::now() + IO_TIMEOUT)?;
        let head = parse(&head)?;
        if head.status != 200 || head.header("Content-Type") != Some("text/event-stream") {
            return Err(format!("bad event-stream head: {}", head.status).into());
        }
        if head.header("Content-Length").is_some() {
            return Err("an event stream has no Content-Length".into());
        }
        Ok(events)
    }
}

#[test]
fn events_say_hello_then_reload() -> Result {
    let (addr, state) = start()?;
    let mut events = Events::open(addr)?;
    let hello = events.next(Instant::now() + IO_TIMEOUT)?;
    assert!(hello.starts_with("event: hello\ndata: {"), "{hello}");
    let data = hello
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .ok_or("no data")?;
    let data: serde_json::Value = serde_json::from_str(data)?;
    assert_eq!(data["errors"], serde_json::json!([]));
    assert_eq!(data["generation"], 1);

    let sent = Instant::now();
    state.publish(snapshot(2), versions(), Change::Reload);
    let reload = events.next(sent + Duration::from_secs(2))?;
    assert!(is_event(&reload, "reload", 2), "{reload}");

    state.publish(snapshot(3), versions(), Change::Css);
    let css = events.next(Instant::now() + Duration::from_secs(2))?;
    assert!(is_event(&css, "css", 3), "{css}");

    state.fail(vec![OverlayError {
        location: "content/modules/02-x.md:4:1".into(),
        message: "oops".into(),
        source_line: None,
    }]);
    let error = events.next(Instant::now() + Duration::from_secs(2))?;
    assert!(
        error.starts_with("event: error\n") && error.contains("02-x.md:4:1"),
        "{error}"
    );
    Ok(())
}

#[test]
fn a_tab_opened_while_the_build_is_broken_gets_the_errors_in_hello() -> Result {
    let (addr, state) = start()?;
    state.fail(vec![OverlayError {
        location: "atelier.yaml:3".into(),
        message: "unknown key".into(),
        source_line: Some("colour: red".into()),
    }]);
    let mut events = Events::open(addr)?;
    let hello = events.next(Instant::now() + IO_TIMEOUT)?;
    assert!(hello.starts_with("event: hello\n"), "{hello}");
    assert!(
        hello.contains("atelier.yaml:3") && hello.contains("colour: red"),
        "{hello}"
    );
    Ok(())
}

#[test]
fn fifty_streams_and_a_stuck_client_do_not_hold_up_pages() -> Result {
    let (addr, state) = start()?;

    // A client that sends half a request line and stalls, one that sends
    // nothing, and a few that ask for a large file and never read it.
    let mut stalled = connect(addr)?;
    stalled.write_all(b"GET /ind")?;
    let _silent = connect(addr)?;
    let mut non_readers = Vec::new();
    for _ in 0..12 {
        let mut stream = connect(addr)?;
        stream.write_all(b"GET /static/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")?;
        non_readers.push(stream);
    }

    // Fifty open event streams, each past its hello (so subscribed).
    let mut streams = Vec::new();
    for index in 0..50 {
        let mut events = Events::open(addr).map_err(|e| format!("stream {index}: {e}"))?;
        let hello = events
            .next(Instant::now() + IO_TIMEOUT)
            .map_err(|e| format!("hello {index}: {e}"))?;
        assert!(hello.starts_with("event: hello"), "{hello}");
        streams.push(events);
    }

    // Twenty page requests from four threads, each well under a second
    // (measured generously).
    let pages: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(move || -> std::result::Result<Vec<Duration>, String> {
                let mut times = Vec::new();
                for path in [
                    "/",
                    "/modules/x/",
                    "/static/atelier.css",
                    "/clients/a/",
                    "/nope",
                ] {
                    let started = Instant::now();
                    let reply = get(addr, path).map_err(|e| format!("{path}: {e}"))?;
                    if reply.status != 200 && reply.status != 404 {
                        return Err(format!("{path}: status {}", reply.status));
                    }
                    times.push(started.elapsed());
                }
                Ok(times)
            })
        })
        .collect();
    let mut times = Vec::new();
    for handle in pages {
        let result = handle.join().map_err(|_| "page thread panicked")?;
        times.extend(result?);
    }
    assert_eq!(times.len(), 20);
    for time in &times {
        assert!(*time < Duration::from_secs(2), "a page took {time:?}");
    }

    // Every stream gets the next event.
    let sent = Instant::now();
    state.publish(snapshot(2), versions(), Change::Reload);
    for (index, events) in streams.iter_mut().enumerate() {
        let message = events
            .next(sent + Duration::from_secs(5))
            .map_err(|e| format!("stream {index}: {e}"))?;
        assert!(is_event(&message, "reload", 2), "stream {index}: {message}");
    }

    // The stalled client is still there and still harmless.
    stalled.write_all(b"ex")?;
    assert_eq!(get(addr, "/")?.status, 200);
    Ok(())
}

/// Connections that open and send nothing never delay a new request (the
/// pool of tiny_http 0.12 could leave one unread in this situation).
#[test]
fn bursts_of_idle_connections_never_hold_up_a_new_request() -> Result {
    let (addr, _state) = start()?;
    let mut idle = Vec::new();
    for round in 0..15 {
        for _ in 0..8 {
            idle.push(connect(addr)?);
        }
        let started = Instant::now();
        let reply = get(addr, "/").map_err(|e| format!("round {round}: {e}"))?;
        assert_eq!(reply.status, 200);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "round {round} took {took:?}");
    }
    Ok(())
}

#[test]
fn a_closed_tab_ends_its_stream() -> Result {
    let (addr, state) = start()?;
    let mut events = Events::open(addr)?;
    events.next(Instant::now() + IO_TIMEOUT)?;
    assert_eq!(state.subscriber_count(), 1);
    drop(events);
    // The stream thread notices on its next write; bounded attempts.
    for generation in 2..40 {
        state.publish(snapshot(generation), versions(), Change::Css);
        if state.subscriber_count() == 0 {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(50));
    }
    Err(format!("{} subscribers left", state.subscriber_count()).into())
}

// ------------------------------------------------------------------ strict

/// Sends `raw` on a new connection and collects what comes back until the
/// server closes it or sends nothing more for `quiet`.
fn raw_exchange(addr: SocketAddr, raw: &[u8], quiet: Duration) -> io::Result<Vec<u8>> {
    let mut stream = connect(addr)?;
    stream.write_all(raw)?;
    stream.set_read_timeout(Some(quiet))?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(answer),
            Ok(read) => answer.extend_from_slice(&chunk[..read]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(answer);
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(answer),
            Err(e) => return Err(e),
        }
    }
}

/// A request line and headers that ask for the facilitator page next,
/// hidden where a lenient parser would take it for a body or for the
/// next request.
const SMUGGLED: &str = "GET /_facilitator/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

#[test]
fn framing_tricks_get_400_and_what_follows_is_never_answered() -> Result {
    let (addr, _state) = start()?;
    let length = SMUGGLED.len();
    let cases = [
        format!(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nContent-Length: {length}\r\n\r\n{SMUGGLED}"
        ),
        format!(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\nContent-Length: 0\r\n\r\n{SMUGGLED}"
        ),
        format!("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length : {length}\r\n\r\n{SMUGGLED}"),
        format!(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}, {length}\r\n\r\n{SMUGGLED}"
        ),
        format!("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n{SMUGGLED}"),
        format!("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: +{length}\r\n\r\n{SMUGGLED}"),
        format!(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{SMUGGLED}"
        ),
        format!("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX Forwarded: 1\r\n\r\n{SMUGGLED}"),
        format!("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n{SMUGGLED}"),
    ];
    let checks: Vec<_> = cases
        .into_iter()
        .map(|raw| {
            thread::spawn(move || -> std::result::Result<(), String> {
                let answer = raw_exchange(addr, raw.as_bytes(), Duration::from_millis(1500))
                    .map_err(|e| format!("{raw:?}: {e}"))?;
                let text = String::from_utf8_lossy(&answer);
                if !text.starts_with("HTTP/1.1 400 ") {
                    return Err(format!("{raw:?}: not a 400: {text:?}"));
                }
                // tiny_http may refuse what is left (a second 400), but
                // never answers it.
                let statuses = text.matches("HTTP/1.1 ").count();
                if statuses != text.matches("HTTP/1.1 400 ").count() || text.contains("Animateur") {
                    return Err(format!("{raw:?}: the rest was answered: {text:?}"));
                }
                Ok(())
            })
        })
        .collect();
    for check in checks {
        check.join().map_err(|_| "check panicked")??;
    }
    // The server is still fine.
    assert_eq!(get(addr, "/")?.status, 200);
    Ok(())
}

#[test]
fn control_bytes_in_the_target_get_400() -> Result {
    let (addr, _state) = start()?;
    for target in [
        "/a\x1bb",
        "/a\x00",
        "/a\x7f",
        "/a\rb",
        "/modules/x?\x1b[31m",
        "/modules/x\x08",
    ] {
        let raw = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        let answer = raw_exchange(addr, raw.as_bytes(), IO_TIMEOUT)?;
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 400 "), "{target:?}: {text:?}");
    }
    Ok(())
}

#[test]
fn no_request_byte_reaches_a_response_header_unescaped() -> Result {
    let (addr, _state) = start()?;
    let targets: [&[u8]; 6] = [
        b"/modules/x?a=%0d%0aSet-Cookie:%20x=1",
        b"/modules/x?a=\r\nSet-Cookie: x=1",
        b"/modules/x?a=\x00\x1b",
        b"/modules/x?\xc3\xa9t\xc3\xa9",
        b"/modules/x?a=\"<b>\"",
        b"/clients/a?x=1 2",
    ];
    for target in targets {
        let mut raw = b"GET ".to_vec();
        raw.extend_from_slice(target);
        raw.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        let answer = raw_exchange(addr, &raw, IO_TIMEOUT)?;
        let end = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(answer.len());
        let head = &answer[..end];
        for line in head.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            assert!(
                line.iter().all(|b| (0x20..0x7f).contains(b)),
                "{:?}: raw byte in the head line {:?}",
                String::from_utf8_lossy(target),
                String::from_utf8_lossy(line)
            );
            let lower = String::from_utf8_lossy(line).to_ascii_lowercase();
            assert!(!lower.starts_with("set-cookie"), "{lower}");
        }
    }
    let reply = get(addr, "/modules/x?a=%0d%0aSet-Cookie:%20x=1")?;
    assert_eq!(reply.status, 301);
    assert_eq!(
        reply.header("Location"),
        Some("/modules/x/?a=%0d%0aSet-Cookie:%20x=1")
    );
    Ok(())
}

// ------------------------------------------------------------ who sees what

#[test]
fn loopback_answers_only_hosts_naming_this_server() -> Result {
    let (addr, _state) = start()?;
    let port = addr.port();
    let ask = |host: Option<String>| -> io::Result<Reply> {
        let host = host.map(|h| format!("Host: {h}\r\n")).unwrap_or_default();
        exchange(
            addr,
            &format!("GET / HTTP/1.1\r\n{host}Connection: close\r\n\r\n"),
        )
    };
    for host in [
        "localhost".to_string(),
        format!("localhost:{port}"),
        "LocalHost".to_string(),
        "127.0.0.1".to_string(),
        format!("127.0.0.1:{port}"),
        "[::1]".to_string(),
        format!("[::1]:{port}"),
    ] {
        assert_eq!(ask(Some(host.clone()))?.status, 200, "{host}");
    }
    for host in [
        "evil.example".to_string(),
        format!("evil.example:{port}"),
        "localhost.evil.example".to_string(),
        "127.0.0.1.nip.io".to_string(),
        format!("localhost:{}", port.wrapping_add(1)),
        String::new(),
    ] {
        let reply = ask(Some(host.clone()))?;
        assert_eq!(reply.status, 403, "{host}");
        assert!(!reply.text().contains("Accueil"), "{host}");
    }
    assert_eq!(ask(None)?.status, 403, "no Host");
    // The event stream too (a rebinding page could watch the builds).
    let stream = exchange(
        addr,
        "GET /__atelier/events HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    )?;
    assert_eq!(stream.status, 403);
    Ok(())
}

/// A server bound to every address (LAN mode), reached over 127.0.0.1.
fn start_lan(client_only: bool) -> Result<(SocketAddr, Arc<LiveState>, Secret)> {
    let listener = TcpListener::bind("0.0.0.0:0")?;
    prepare(&listener)?;
    let bound = listener.local_addr()?;
    let secret = Secret::generate()?;
    let access = Access::new(bound.ip(), bound.port(), Some(secret.clone()), client_only);
    let state = Arc::new(LiveState::new(snapshot(1), versions()));
    let served = Arc::clone(&state);
    thread::spawn(move || serve_with(listener, served, access));
    let addr = SocketAddr::from(([127, 0, 0, 1], bound.port()));
    Ok((addr, state, secret))
}

#[test]
fn on_the_network_participants_see_participant_versions_only() -> Result {
    let (addr, state, secret) = start_lan(false)?;
    state.fail(vec![OverlayError {
        location: "clients/a/content/x.md:2".into(),
        message: "NOTE-SECRETE".into(),
        source_line: Some("::: facilitator".into()),
    }]);
    let home = get(addr, "/")?;
    assert_eq!(home.status, 200);
    assert!(home.text().contains("Accueil"));
    for path in [
        "/_facilitator/",
        "/_facilitator/index.html",
        "/_facilitator",
        "/clients/a/",
        "/clients/a",
        "/clients/a/index.html",
        "/%5ffacilitator/",
        "/__atelier/versions.json",
        &format!("/_facilitator/?key={}x", secret.as_str()),
        "/_facilitator/?key=",
    ] {
        let reply = get(addr, path)?;
        assert_eq!(reply.status, 404, "{path}");
        let text = reply.text();
        assert!(
            !text.contains("Animateur") && !text.contains("Client A"),
            "{path}: {text}"
        );
    }
    let errors = get(addr, "/__atelier/errors.json")?;
    assert_eq!(errors.text(), r#"{"errors":[]}"#);
    let mut events = Events::open(addr)?;
    let hello = events.next(Instant::now() + IO_TIMEOUT)?;
    assert!(
        !hello.contains("NOTE-SECRETE") && !hello.contains("clients/a"),
        "{hello}"
    );
    state.fail(vec![OverlayError {
        location: "clients/a/content/y.md:3".into(),
        message: "NOTE-SECRETE".into(),
        source_line: None,
    }]);
    let error = events.next(Instant::now() + IO_TIMEOUT)?;
    assert!(error.starts_with("event: error\n"), "{error}");
    assert!(
        !error.contains("NOTE-SECRETE") && !error.contains("clients/a"),
        "{error}"
    );

    // The key in the address: a cookie, and the same address without it.
    let keyed = get(addr, &format!("/_facilitator/?key={}&x=1", secret.as_str()))?;
    assert_eq!(keyed.status, 303);
    assert_eq!(keyed.header("Location"), Some("/_facilitator/?x=1"));
    let cookie = keyed.header("Set-Cookie").ok_or("no cookie")?.to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!keyed.text().contains(secret.as_str()));
    let pair = cookie.split(';').next().ok_or("empty cookie")?.to_string();
    let with_key = |path: &str| request(addr, "GET", path, &format!("Cookie: {pair}\r\n"));
    assert!(with_key("/_facilitator/")?.text().contains("Animateur"));
    assert!(with_key("/clients/a/")?.text().contains("Client A"));
    let list = with_key("/__atelier/versions.json")?;
    assert!(list.text().contains("Client A"), "{}", list.text());
    assert!(
        with_key("/__atelier/errors.json")?
            .text()
            .contains("NOTE-SECRETE")
    );
    // A wrong cookie is no key.
    let wrong = request(
        addr,
        "GET",
        "/_facilitator/",
        "Cookie: atelier_key=0000\r\n",
    )?;
    assert_eq!(wrong.status, 404);
    Ok(())
}

#[test]
fn serve_client_serves_that_version_only_in_every_mode() -> Result {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let access = Access::new(addr.ip(), addr.port(), None, true);
    let state = Arc::new(LiveState::new(snapshot(1), versions()));
    let served = Arc::clone(&state);
    thread::spawn(move || serve_with(listener, served, access));
    assert_eq!(get(addr, "/")?.status, 200);
    assert_eq!(
        get(addr, "/_facilitator/")?.status,
        200,
        "its own facilitator view, on loopback"
    );
    for path in [
        "/clients/a/",
        "/clients/a/index.html",
        "/_facilitator/clients/a/",
    ] {
        let reply = get(addr, path)?;
        assert_eq!(reply.status, 404, "{path}");
        assert!(!reply.text().contains("Client A"), "{path}");
    }
    let list = get(addr, "/__atelier/versions.json")?;
    assert!(!list.text().contains("Client A"), "{}", list.text());

    let (lan, _state, _secret) = start_lan(true)?;
    for path in ["/clients/a/", "/_facilitator/", "/__atelier/versions.json"] {
        assert_eq!(get(lan, path)?.status, 404, "{path}");
    }
    Ok(())
}

/// `atelier serve ARGS` on a small project; returns the child, its port and
/// its stdout lines (collected as they come).
fn start_binary(
    f: &common::Fixture,
    wrapper: &[&str],
    args: &[&str],
) -> Result<(std::process::Child, u16, std::sync::mpsc::Receiver<String>)> {
    use std::io::BufRead;
    let probe = TcpListener::bind("127.0.0.1:0")?;
    let port = probe.local_addr()?.port();
    drop(probe);
    let binary = env!("CARGO_BIN_EXE_atelier");
    let port_text = port.to_string();
    let mut command: Vec<&str> = wrapper.to_vec();
    command.extend([binary, "serve", "--port", port_text.as_str()]);
    command.extend(args);
    let mut child = std::process::Command::new(command[0])
        .args(&command[1..])
        .current_dir(f.root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (sender, lines) = std::sync::mpsc::channel();
    thread::spawn(move || {
        for line in io::BufReader::new(stdout).lines().map_while(io::Result::ok) {
            let _ = sender.send(line);
        }
    });
    Ok((child, port, lines))
}

/// Kills the child when dropped (a failed assertion included).
struct Stop(std::process::Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for a line of `lines` containing `what`.
fn wait_line(lines: &std::sync::mpsc::Receiver<String>, what: &str) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let line = lines.recv_timeout(left)?;
        if line.contains(what) {
            return Ok(line);
        }
    }
    Err(format!("no line with {what:?}").into())
}

fn small_project() -> common::Fixture {
    let f = common::Fixture::new(&[
        (
            "content/_index.md",
            &common::page("title: Accueil", "Bienvenue."),
        ),
        (
            "content/modules/01-ouverture.md",
            &common::page(
                "title: Ouverture\nduration: 30 min",
                "Premier texte.\n\n::: facilitator\nNOTE-ANIMATEUR\n:::\n",
            ),
        ),
    ]);
    f.write(
        "clients/lemoine/client.yaml",
        "name: Maison Lemoine\nsector: chocolaterie\n",
    );
    f
}

#[test]
fn the_binary_on_the_network_gives_a_fresh_key_and_keeps_facilitator_notes_for_it() -> Result {
    let f = small_project();
    let (child, port, lines) = start_binary(&f, &[], &["--bind", "0.0.0.0"])?;
    let _stop = Stop(child);
    (|| -> Result {
        let line = wait_line(&lines, "?key=")?;
        let key = line.rsplit("?key=").next().ok_or("no key")?.to_string();
        assert_eq!(key.len(), 64, "{line}");
        assert!(
            line.contains(&format!(":{port}/_facilitator/?key=")),
            "{line}"
        );
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let page = get(addr, "/modules/ouverture/")?;
        assert_eq!(page.status, 200);
        assert!(!page.text().contains("NOTE-ANIMATEUR"));
        for path in [
            "/_facilitator/modules/ouverture/",
            "/clients/lemoine/",
            "/__atelier/versions.json",
        ] {
            let reply = get(addr, path)?;
            assert_eq!(reply.status, 404, "{path}");
            assert!(!reply.text().contains("NOTE-ANIMATEUR") && !reply.text().contains("Lemoine"));
        }
        let keyed = get(addr, &format!("/_facilitator/modules/ouverture/?key={key}"))?;
        assert_eq!(keyed.status, 303);
        let cookie = keyed.header("Set-Cookie").ok_or("no cookie")?;
        let pair = cookie.split(';').next().ok_or("empty")?.to_string();
        let notes = request(
            addr,
            "GET",
            "/_facilitator/modules/ouverture/",
            &format!("Cookie: {pair}\r\n"),
        )?;
        assert!(notes.text().contains("NOTE-ANIMATEUR"));
        // A second run has another key.
        let (other, _, other_lines) = start_binary(&f, &[], &["--bind", "0.0.0.0"])?;
        let _other = Stop(other);
        let other_line = wait_line(&other_lines, "?key=");
        assert!(!other_line?.contains(&key));
        Ok(())
    })()
}

// --------------------------------------------------------------- resilient

/// The "under 100 ms" below is a functional bound of these scenarios (a
/// page must not wait for a timeout or a free slot), not a benchmark: on
/// loopback an answer takes about a millisecond. It bounds the median of
/// ten requests, and each one is under a second: what these tests guard
/// against (a request queued behind a timeout) takes seconds, while two
/// cores shared with other builds can delay any one request by a
/// scheduling slice.
/// These tests take the machine's attention one at a time: their bounds
/// are about the server, not about sharing two cores with each other.
const PROMPT: Duration = Duration::from_millis(100);

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// Ten GETs of `/`, each answered with 200 within a second, their median
/// under [`PROMPT`]; `what` names the scenario in failures.
fn prompt_pages(addr: SocketAddr, what: &str) -> Result {
    let mut times = Vec::new();
    for round in 0..10 {
        let took = timed_get(addr).map_err(|e| format!("{what}, round {round}: {e}"))?;
        assert!(
            took < Duration::from_secs(1),
            "{what}, round {round}: {took:?}"
        );
        times.push(took);
    }
    times.sort();
    let median = times[times.len() / 2];
    assert!(median < PROMPT, "{what}: median {median:?} ({times:?})");
    Ok(())
}

/// GET `/` answered with 200, and how long it took.
fn timed_get(addr: SocketAddr) -> Result<Duration> {
    let started = Instant::now();
    let reply = get(addr, "/")?;
    let took = started.elapsed();
    if reply.status != 200 {
        return Err(format!("status {}", reply.status).into());
    }
    Ok(took)
}

#[test]
fn a_connection_without_a_complete_head_is_closed_within_seconds() -> Result {
    let _alone = alone();
    let (addr, _state) = start()?;
    let mut partial = connect(addr)?;
    partial.write_all(b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n")?;
    let mut idle = connect(addr)?;
    idle.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")?;
    let first = read_one(&mut idle)?;
    assert_eq!(first.status, 200);
    let started = Instant::now();
    for (name, stream) in [
        ("partial head", &mut partial),
        ("idle keep-alive", &mut idle),
    ] {
        stream.set_read_timeout(Some(Duration::from_secs(12)))?;
        let mut rest = Vec::new();
        // The server closes: end of stream (or a reset), not our timeout.
        match stream.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
            Err(e) => return Err(format!("{name}: not closed: {e}").into()),
        }
        assert!(
            !String::from_utf8_lossy(&rest).contains("200 OK"),
            "{name}: answered"
        );
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(8), "closed after {took:?}");
    Ok(())
}

#[test]
fn pages_are_prompt_with_300_silent_connections_open() -> Result {
    let _alone = alone();
    let (addr, _state) = start()?;
    let mut silent = Vec::new();
    for index in 0..300 {
        silent.push(connect(addr).map_err(|e| format!("connection {index}: {e}"))?);
    }
    prompt_pages(addr, "300 silent connections")?;
    drop(silent);
    Ok(())
}

#[test]
fn pages_are_prompt_with_500_streams_and_a_closed_stream_frees_its_place() -> Result {
    let _alone = alone();
    let (addr, _state) = start()?;
    let mut streams = Vec::new();
    for index in 0..MAX_STREAMS {
        let mut events = Events::open(addr).map_err(|e| format!("stream {index}: {e}"))?;
        events
            .next(Instant::now() + IO_TIMEOUT)
            .map_err(|e| format!("hello {index}: {e}"))?;
        streams.push(events);
        if streams.len() == 500 {
            prompt_pages(addr, "500 streams")?;
        }
    }
    // Full: the next stream is refused, pages are still served.
    let refused = exchange(
        addr,
        "GET /__atelier/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )?;
    assert_eq!(refused.status, 503);
    prompt_pages(addr, "every stream taken")?;
    // Every tab goes: within a few seconds (a ping notices), a new one is
    // accepted again, with no event published meanwhile.
    drop(streams);
    let closed = Instant::now();
    loop {
        match Events::open(addr) {
            Ok(_) => break,
            Err(e) if closed.elapsed() < Duration::from_secs(4) => {
                let _ = e;
                thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(format!("still refused after {:?}: {e}", closed.elapsed()).into()),
        }
    }
    Ok(())
}

#[test]
fn pages_are_prompt_after_the_server_ran_out_of_file_descriptors() -> Result {
    let _alone = alone();
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err("prlimit (util-linux) is needed for this test".into());
    }
    let f = small_project();
    let (child, port, lines) = start_binary(&f, &["prlimit", "--nofile=96", "--"], &[])?;
    let pid = child.id();
    let _stop = Stop(child);
    (|| -> Result {
        wait_line(&lines, "Serving http://")?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        assert!(timed_get(addr)? < Duration::from_secs(2));
        let mut held = Vec::new();
        for _ in 0..150 {
            // Half a request, so the kernel hands each one over. Past the
            // limit, connections wait in the kernel's queue or are
            // refused: both are fine here.
            if let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
                let _ = stream.write_all(b"GET / HTTP/1.1\r\n");
                held.push(stream);
            }
        }
        thread::sleep(Duration::from_millis(300));
        let open = std::fs::read_dir(format!("/proc/{pid}/fd"))?.count();
        assert!(
            open >= 90,
            "only {open} descriptors open: the limit was not reached"
        );
        drop(held);
        // The server notices the closed connections, takes the dead ones
        // waiting in the kernel's queue and listens again, within seconds
        // (tiny_http's accept thread panicked: it is replaced at once, far
        // sooner than the STALL that catches a silent death).
        thread::sleep(Duration::from_secs(1));
        prompt_pages(addr, "after running out of descriptors")
    })()
}
