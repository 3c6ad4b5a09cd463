//! The preview server's HTTP layer: routes requests to the last good build
//! held in [`LiveState`] and streams live-reload events to open tabs.
//!
//! # Threads
//!
//! tiny_http reads and parses requests and keeps connections alive
//! ([`super::listen`] runs it and works around its weaknesses). Its
//! requests arrive one at a time on the accepting side, where
//! `Server::dispatch` refuses what the parser let through (see
//! `refusal`) and starts one short-lived thread per request, at most
//! [`MAX_IN_FLIGHT`] (beyond that: 503), so a client that does not read its
//! answer only ever holds its own thread. Every answer is written by us
//! through [`tiny_http::Request::into_writer`], head included: its length is
//! known, it is never chunked.
//!
//! `GET /__atelier/events` becomes a Server-Sent Events stream on its own
//! thread, at most [`MAX_STREAMS`] at once (beyond that: 503); a ping every
//! [`PING_INTERVAL`] notices a tab that went away, and frees its place.
//!
//! # What is served
//!
//! Only files of the [`Snapshot`] (in memory, or on disk for the files a
//! build copies as they are, streamed): a URL is percent-decoded and
//! checked (no `..` or `.` segment, no backslash, no `//`, no drive letter, no
//! encoded `/` or `\`, no double encoding, no NUL), then looked up as a key.
//! Folders answer with their `index.html`; a folder named without its final
//! `/` is redirected; there are no directory listings. Every HTML page served
//! (including 404 pages) gets the live script injected before `</body>`.
//! What a request may see is decided by [`Access`] (host check, LAN mode,
//! `serve --client`). Files other than pages answer `Range` requests
//! ([`super::ranges`]), so a browser can seek in a video.
//!
//! Internal routes live under `/__atelier/`: `livereload.js` (the client
//! script), `versions.json` (the toolbar's versions), `errors.json` (the
//! current build errors), `events` (the event stream) and `present` (the
//! presenter's moves, see [`super::follow`]: the only route that takes a
//! body, of at most [`MAX_MOVE_BODY`] bytes).
//!
//! A request that declares a body over [`MAX_DECLARED_BODY`] is never
//! answered and its connection is left to itself: tiny_http 0.12, when it
//! drops such a request, allocates a buffer of the declared size to skip
//! the body (`EqualReader`'s `Drop`), and a size that cannot be allocated
//! aborts the process. Keeping the request costs its connection (one
//! descriptor, one of tiny_http's threads) instead of the server.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::access::{Access, Admission, Secret, Visitor};
use super::files;
use super::follow::{self, Follow, MAX_MOVE_BODY, PRESENT_PATH, Posted, Refusal};
use super::ranges::{self, Span};
use super::state::{Found, LiveState, Snapshot, build_id, errors_json};
use crate::media::{content_type, is_html};

/// Requests being answered at once before new ones get a 503.
pub const MAX_IN_FLIGHT: usize = 512;
/// Event streams open at once before new ones get a 503.
pub const MAX_STREAMS: usize = 1024;
/// Idle time after which an event stream sends a `: ping` comment (and
/// so notices a tab that closed).
pub const PING_INTERVAL: Duration = Duration::from_secs(1);
/// Bodies up to this size get an ETag from their content; larger ones one
/// from their build.
pub const HASHED_MAX: usize = 1024 * 1024;
/// How long a connection refused for its framing stays refused.
const REFUSED_FOR: Duration = Duration::from_secs(30);
/// Largest body a request may declare before it is left unanswered (see
/// the module's documentation).
pub const MAX_DECLARED_BODY: usize = 1024 * 1024;

/// The tag injected into every HTML page served. It names the build the
/// page comes from: a tab that missed an event while it was loading sees, at
/// its first `hello`, that the server has moved on, and reloads. In a
/// facilitator deck or console it also carries the key that moves the
/// followers.
fn live_script_tag(build: &str, present_key: Option<&str>) -> String {
    let key = present_key.map_or_else(String::new, |key| {
        format!(
            r#" {}="{}""#,
            follow::KEY_ATTRIBUTE,
            crate::html::escape(key)
        )
    });
    format!(r#"<script src="/__atelier/livereload.js" data-build="{build}"{key} defer></script>"#)
}
/// The client script, served at `/__atelier/livereload.js`.
const LIVERELOAD_JS: &str = include_str!("livereload.js");
const EVENTS_PATH: &str = "/__atelier/events";

/// Serves `state` on an already-bound loopback listener until the process
/// ends (everything visible to requests whose `Host` names this server).
pub fn serve(listener: TcpListener, state: Arc<LiveState>) -> io::Result<()> {
    let addr = listener.local_addr()?;
    serve_with(
        listener,
        state,
        Access::new(addr.ip(), addr.port(), None, false),
    )
}

/// Serves `state` on `listener` under the rules of `access` until the
/// process ends; returns only if the listener cannot be prepared.
pub fn serve_with(listener: TcpListener, state: Arc<LiveState>, access: Access) -> io::Result<()> {
    // On loopback there is no LAN secret: the moves get a key of their own.
    let key = match access.secret() {
        Some(secret) => secret.clone(),
        None => Secret::generate()?,
    };
    let server = Arc::new(Server {
        state,
        access,
        follow: Follow::new(key),
        in_flight: Arc::new(AtomicUsize::new(0)),
        streams: Arc::new(AtomicUsize::new(0)),
        refused: Mutex::new(HashMap::new()),
    });
    super::listen::run(listener, move |request| server.dispatch(request))
}

/// What every request thread shares.
struct Server {
    state: Arc<LiveState>,
    access: Access,
    /// The presenter's positions and the key that moves them.
    follow: Follow,
    in_flight: Arc<AtomicUsize>,
    streams: Arc<AtomicUsize>,
    /// Connections (by peer address) answered 400 for their framing: what
    /// tiny_http reads after that is not a request and gets no answer.
    refused: Mutex<HashMap<SocketAddr, Instant>>,
}

/// What this layer reads from a request, copied out of tiny_http's.
struct Asked {
    method: String,
    url: String,
    host: Option<String>,
    cookies: Vec<String>,
    if_none_match: Option<String>,
    range: Option<String>,
    if_range: Option<String>,
    keep_alive: bool,
}

impl Asked {
    fn of(request: &tiny_http::Request) -> Asked {
        let header = |name: &'static str| {
            request
                .headers()
                .iter()
                .filter(move |h| h.field.equiv(name))
                .map(|h| h.value.as_str().to_string())
        };
        let connection = header("Connection").next().unwrap_or_default();
        let connection = connection.to_ascii_lowercase();
        let http11 = *request.http_version() == tiny_http::HTTPVersion(1, 1);
        // As tiny_http decides whether it reads another request.
        let keep_alive = if http11 {
            !connection.contains("close") && !connection.contains("upgrade")
        } else {
            connection.contains("keep-alive")
        };
        Asked {
            method: request.method().as_str().to_string(),
            url: request.url().to_string(),
            host: header("Host").next(),
            cookies: header("Cookie").collect(),
            if_none_match: header("If-None-Match").next(),
            range: header("Range").next(),
            if_range: header("If-Range").next(),
            keep_alive,
        }
    }
}

/// Why a request that tiny_http accepted is refused (400) before routing:
/// what a stricter parser would refuse. Framing errors also end the
/// connection: what follows on it cannot be trusted to be a request.
fn refusal(request: &tiny_http::Request) -> Option<&'static str> {
    let named = |name: &'static str| {
        request
            .headers()
            .iter()
            .filter(|h| h.field.equiv(name))
            .map(|h| h.value.as_str())
            .collect::<Vec<_>>()
    };
    let lengths = named("Content-Length");
    if lengths.len() > 1 {
        return Some("Bad request: more than one Content-Length.\n");
    }
    if lengths
        .iter()
        .any(|v| v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) || v.len() > 18)
    {
        return Some("Bad request: Content-Length is not a number.\n");
    }
    if !named("Transfer-Encoding").is_empty() {
        return Some("Bad request: request bodies are not accepted here.\n");
    }
    if named("Host").len() > 1 {
        return Some("Bad request: more than one Host.\n");
    }
    if request
        .url()
        .bytes()
        .any(|b| b.is_ascii_control() || !b.is_ascii())
    {
        return Some("Bad request: control bytes in the address.\n");
    }
    None
}

impl Server {
    /// Takes one request from tiny_http: refuses it, or starts the thread
    /// that answers it. Never blocks.
    fn dispatch(self: &Arc<Self>, request: tiny_http::Request) {
        if request
            .body_length()
            .is_some_and(|length| length > MAX_DECLARED_BODY)
        {
            // Dropping it would abort the process (see the module's
            // documentation): it is kept, unanswered.
            std::mem::forget(request);
            return;
        }
        let peer = request.remote_addr().copied();
        if let Some(peer) = peer
            && self.was_refused(peer)
        {
            // Bytes after a refused request: no answer (dropping the
            // writer unused sends nothing).
            drop(request.into_writer());
            return;
        }
        if let Some(why) = refusal(&request) {
            if let Some(peer) = peer {
                self.refuse(peer);
            }
            let reply = Reply::text(400, why);
            self.spawn_answer(request, move |_, request| {
                let head_only = request.method() == &tiny_http::Method::Head;
                let _ = write_reply(&mut request.into_writer(), &reply, head_only, false);
            });
            return;
        }
        let asked = Asked::of(&request);
        if asked.method == "GET" && split_url(&asked.url).0 == EVENTS_PATH {
            self.spawn_stream(request, asked);
        } else if asked.method == "POST" && split_url(&asked.url).0 == PRESENT_PATH {
            self.spawn_answer(request, move |server, request| {
                server.take_move(request, &asked)
            });
        } else {
            self.spawn_answer(request, move |server, request| {
                server.respond(request, &asked)
            });
        }
    }

    /// Starts the thread of an event stream, which holds a stream's place
    /// (not a request's) for as long as the tab stays; 503 when full.
    fn spawn_stream(self: &Arc<Self>, request: tiny_http::Request, asked: Asked) {
        let Some(slot) = Slot::acquire(&self.streams, MAX_STREAMS) else {
            self.spawn_answer(request, |_, request| {
                let reply = Reply::text(503, "Too many live-reload streams.\n");
                let _ = write_reply(&mut request.into_writer(), &reply, false, false);
            });
            return;
        };
        let server = Arc::clone(self);
        let _ = thread::Builder::new()
            .name("atelier-http-events".into())
            .spawn(move || {
                let _slot = slot;
                let _ = catch_unwind(AssertUnwindSafe(|| server.stream_events(request, &asked)));
            });
    }

    fn was_refused(&self, peer: SocketAddr) -> bool {
        let mut refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        refused.retain(|_, at| at.elapsed() < REFUSED_FOR);
        refused.contains_key(&peer)
    }

    fn refuse(&self, peer: SocketAddr) {
        let mut refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        refused.insert(peer, Instant::now());
    }

    /// Runs `work` on a thread of its own, or answers 503 when too many
    /// requests are being answered.
    fn spawn_answer(
        self: &Arc<Self>,
        request: tiny_http::Request,
        work: impl FnOnce(&Server, tiny_http::Request) + Send + 'static,
    ) {
        let Some(slot) = Slot::acquire(&self.in_flight, MAX_IN_FLIGHT) else {
            let reply = Reply::text(503, "Server busy, retry.\n");
            let _ = write_reply(&mut request.into_writer(), &reply, false, false);
            return;
        };
        let server = Arc::clone(self);
        // If the thread cannot start, the request is dropped: tiny_http
        // answers it 500.
        let _ = thread::Builder::new()
            .name("atelier-http".into())
            .spawn(move || {
                let _slot = slot;
                // A bug in one answer must not take the server down.
                let _ = catch_unwind(AssertUnwindSafe(|| work(&server, request)));
            });
    }

    /// Answers a request that is not an event stream.
    fn respond(&self, request: tiny_http::Request, asked: &Asked) {
        let reply = self.reply_to(asked);
        let head_only = asked.method == "HEAD";
        let keep_alive = asked.keep_alive;
        let mut out = request.into_writer();
        let _ = write_reply(&mut out, &reply, head_only, keep_alive);
    }

    /// The answer to `asked`, after the access rules.
    fn reply_to(&self, asked: &Asked) -> Reply {
        let (path, query) = split_url(&asked.url);
        let cookies: Vec<&str> = asked.cookies.iter().map(String::as_str).collect();
        match self
            .access
            .admit(asked.host.as_deref(), &cookies, path, query)
        {
            Admission::Admit(visitor) if path == PRESENT_PATH => {
                self.position_reply(&asked.method, query, visitor)
            }
            Admission::Admit(visitor) => answer(
                &asked.method,
                &asked.url,
                &Conditions {
                    if_none_match: asked.if_none_match.as_deref(),
                    range: asked.range.as_deref(),
                    if_range: asked.if_range.as_deref(),
                },
                &self.state,
                &Viewer {
                    access: &self.access,
                    visitor,
                    present_key: Some(self.follow.key()),
                },
            ),
            Admission::ForeignHost => Reply::text(
                403,
                "Forbidden: this preview answers only to localhost, 127.0.0.1 and [::1].\n",
            ),
            Admission::KeyAccepted { location, cookie } => {
                let location = header_safe(&location);
                Reply::text(303, &format!("See {location}\n"))
                    .with("Location", location)
                    .with("Set-Cookie", cookie)
                    .with("Referrer-Policy", "no-referrer".into())
            }
        }
    }

    /// `GET /__atelier/present?deck=…`: where the presenter is in a deck
    /// the visitor may see, for a follower that just opened it.
    fn position_reply(&self, method: &str, query: &str, visitor: Visitor) -> Reply {
        if method != "GET" && method != "HEAD" {
            return Reply::text(405, "Method not allowed: use GET, HEAD or POST.\n")
                .with("Allow", "GET, HEAD, POST".into());
        }
        let deck = query
            .strip_prefix("?deck=")
            .and_then(crate::html::percent_decode)
            .and_then(|bytes| String::from_utf8(bytes).ok());
        let Some(deck) = deck.filter(|deck| follow::is_deck_folder(deck)) else {
            return Reply::text(
                400,
                "Bad request: name the deck as ?deck=clients/<slug>/.\n",
            );
        };
        if !self.access.may_see(visitor, &follow::deck_page(&deck)) {
            return Reply::text(404, "404 Not Found\n");
        }
        Reply::json(self.follow.position_json(&deck))
    }

    /// `POST /__atelier/present`: a presenter's move, accepted only with the
    /// run's key, then sent to every stream that may see its deck.
    fn take_move(&self, mut request: tiny_http::Request, asked: &Asked) {
        let reply = match self.check_move(&mut request, asked) {
            Ok(seq) => Reply::json(seq),
            Err(refusal) => {
                let (status, text) = refusal.status_and_text();
                Reply::text(status, text)
            }
        };
        // A refused body may not have been read: nothing after it is taken.
        let keep_alive = asked.keep_alive && reply.status == 200;
        if !keep_alive && let Some(peer) = request.remote_addr().copied() {
            self.refuse(peer);
        }
        let _ = write_reply(&mut request.into_writer(), &reply, false, keep_alive);
    }

    /// The checks of a move, in order: this server (`Host`), this site
    /// (`Origin`), the key, the body's type and size, then the body itself.
    fn check_move(
        &self,
        request: &mut tiny_http::Request,
        asked: &Asked,
    ) -> Result<String, Refusal> {
        let (path, query) = split_url(&asked.url);
        if !query.is_empty() {
            return Err(Refusal::Malformed(
                "Bad request: a move has no query; it is all in its body.\n",
            ));
        }
        let cookies: Vec<&str> = asked.cookies.iter().map(String::as_str).collect();
        if self
            .access
            .admit(asked.host.as_deref(), &cookies, path, query)
            == Admission::ForeignHost
        {
            return Err(Refusal::Forbidden(
                "Forbidden: this preview answers only to localhost, 127.0.0.1 and [::1].\n",
            ));
        }
        let header = |name: &'static str| {
            request
                .headers()
                .iter()
                .find(|h| h.field.equiv(name))
                .map(|h| h.value.as_str().to_string())
        };
        let (origin, fetch_site, key, content_type) = (
            header("Origin"),
            header("Sec-Fetch-Site"),
            header(follow::KEY_HEADER),
            header("Content-Type"),
        );
        self.follow.admit(&Posted {
            host: asked.host.as_deref(),
            origin: origin.as_deref(),
            fetch_site: fetch_site.as_deref(),
            key: key.as_deref(),
            content_type: content_type.as_deref(),
            length: request.body_length(),
        })?;
        let mut body = Vec::with_capacity(MAX_MOVE_BODY);
        let read = request
            .as_reader()
            .take(MAX_MOVE_BODY as u64 + 1)
            .read_to_end(&mut body);
        if read.is_err() || Some(body.len()) != request.body_length() {
            return Err(Refusal::Malformed(
                "Bad request: the body is shorter than its Content-Length.\n",
            ));
        }
        let snapshot = self.state.current();
        let visible = |deck: &str| {
            let page = follow::deck_page(deck);
            snapshot.contains(&page) && self.access.may_see(Visitor::Facilitator, &page)
        };
        let (seq, event) = self.follow.record(&body, visible)?;
        self.state.send_event(event);
        Ok(format!("{{\"seq\":{seq}}}"))
    }

    /// Turns the request into an event stream: the head, then `hello`,
    /// then every event, with a ping when idle; ends when a write fails.
    fn stream_events(&self, request: tiny_http::Request, asked: &Asked) {
        let (path, query) = split_url(&asked.url);
        let cookies: Vec<&str> = asked.cookies.iter().map(String::as_str).collect();
        let visitor = match self
            .access
            .admit(asked.host.as_deref(), &cookies, path, query)
        {
            Admission::Admit(visitor) => visitor,
            _ => {
                let reply = Reply::text(403, "Forbidden.\n");
                let _ = write_reply(&mut request.into_writer(), &reply, false, false);
                return;
            }
        };
        let mut out = request.into_writer();
        let redact = visitor == Visitor::Participant;
        // Subscribe before reading the state, so no event falls in between.
        let events = self.state.subscribe();
        let hello = hello_message(&self.state, redact);
        let head = format!(
            "HTTP/1.1 200 OK\r\n\
             Date: {}\r\n\
             Server: atelier\r\n\
             Content-Type: text/event-stream\r\n\
             Cache-Control: no-cache\r\n\
             Connection: keep-alive\r\n\
             X-Content-Type-Options: nosniff\r\n\r\n",
            http_date(SystemTime::now())
        );
        if send(&mut out, &head)
            .and_then(|_| send(&mut out, &hello))
            .is_err()
        {
            return;
        }
        loop {
            let message = match events.recv_timeout(PING_INTERVAL) {
                Ok(message) if redact && message.starts_with("event: error\n") => {
                    // Build errors may quote facilitator notes or name clients.
                    "event: error\ndata: {\"errors\":[]}\n\n".to_string()
                }
                // A presenter's move, in a deck this visitor may not see.
                Ok(message)
                    if follow::deck_of(&message).is_some_and(|deck| {
                        !self.access.may_see(visitor, &follow::deck_page(&deck))
                    }) =>
                {
                    continue;
                }
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => ": ping\n\n".to_string(),
                Err(RecvTimeoutError::Disconnected) => return,
            };
            if send(&mut out, &message).is_err() {
                return;
            }
        }
    }
}

/// What a request may see: the run's rules and who asks.
struct Viewer<'a> {
    access: &'a Access,
    visitor: Visitor,
    /// The key of the presenter's moves, written into the facilitator
    /// decks this visitor may see.
    present_key: Option<&'a str>,
}

impl Viewer<'_> {
    fn may_see(&self, key: &str) -> bool {
        self.access.may_see(self.visitor, key)
    }

    fn is_facilitator(&self) -> bool {
        self.visitor == Visitor::Facilitator
    }
}

/// `value` with every byte that may not stand in a header value as is
/// (controls, spaces, non-ASCII) percent-encoded.
fn header_safe(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if (0x21..0x7f).contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn send(out: &mut impl Write, text: &str) -> io::Result<()> {
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Writes `reply` (without its body for HEAD and 304).
fn write_reply(
    out: &mut impl Write,
    reply: &Reply,
    head_only: bool,
    keep_alive: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nDate: {}\r\nServer: atelier\r\nContent-Length: {}\r\n",
        reply.status,
        reason(reply.status),
        http_date(SystemTime::now()),
        reply.length
    );
    for (name, value) in &reply.headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str(if keep_alive {
        "Connection: keep-alive\r\n"
    } else {
        "Connection: close\r\n"
    });
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    if !head_only && reply.status != 304 {
        match &reply.body {
            Body::File { file, start } => files::stream(out, file, *start, reply.length)?,
            body => out.write_all(body.as_ref())?,
        }
    }
    out.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        303 => "See Other",
        206 => "Partial Content",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let (hour, minute, second) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = WEEKDAYS.get((days % 7) as usize).copied().unwrap_or("Thu");
    let month_name = MONTHS
        .get((month as usize).saturating_sub(1))
        .copied()
        .unwrap_or("Jan");
    format!("{weekday}, {day:02} {month_name} {year} {hour:02}:{minute:02}:{second:02} GMT")
}

/// One of a bounded number of things (connections, event streams); frees
/// its place when dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn acquire(count: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        count
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(count)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `event: hello` with the current errors, the build generation and a
/// `build` id that changes when the site or the server process changes.
fn hello_message(state: &LiveState, redact: bool) -> String {
    let generation = state.current().generation;
    let errors = if redact { Vec::new() } else { state.errors() };
    let mut data: serde_json::Value = serde_json::from_str(&errors_json(&errors))
        .unwrap_or_else(|_| serde_json::json!({ "errors": [] }));
    if let Some(object) = data.as_object_mut() {
        object.insert("generation".into(), generation.into());
        object.insert("build".into(), build_id(generation).into());
    }
    format!("event: hello\ndata: {data}\n\n")
}

/// A response body: shared file bytes, a part of them, bytes made for this
/// answer, or a file on disk streamed from `start`.
enum Body {
    Shared(Arc<[u8]>),
    Slice(Arc<[u8]>, std::ops::Range<usize>),
    Owned(Vec<u8>),
    File { file: std::fs::File, start: u64 },
}

impl AsRef<[u8]> for Body {
    /// The bytes in memory (none for a file streamed from disk).
    fn as_ref(&self) -> &[u8] {
        match self {
            Body::Shared(bytes) => bytes,
            Body::Slice(bytes, range) => bytes.get(range.clone()).unwrap_or_default(),
            Body::Owned(bytes) => bytes,
            Body::File { .. } => &[],
        }
    }
}

/// The request headers that decide what of a file is sent.
#[derive(Debug, Default, Clone, Copy)]
struct Conditions<'a> {
    if_none_match: Option<&'a str>,
    range: Option<&'a str>,
    if_range: Option<&'a str>,
}

/// A file that may be sent in part: bytes in memory or a file on disk.
enum Content {
    Memory(Arc<[u8]>),
    Disk(std::fs::File, u64),
}

impl Content {
    fn len(&self) -> u64 {
        match self {
            Content::Memory(bytes) => bytes.len() as u64,
            Content::Disk(_, len) => *len,
        }
    }

    /// The body for all of it.
    fn whole(self) -> Body {
        match self {
            Content::Memory(bytes) => Body::Shared(bytes),
            Content::Disk(file, _) => Body::File { file, start: 0 },
        }
    }

    /// The body for bytes `start..=end`.
    fn part(self, start: u64, end: u64) -> Body {
        match self {
            Content::Memory(bytes) => {
                let at = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
                Body::Slice(bytes, at(start)..at(end).saturating_add(1))
            }
            Content::Disk(file, _) => Body::File { file, start },
        }
    }
}

/// An answer, built without touching the network (so it can be unit-tested).
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Body,
    /// `Content-Length`: the body's length, or for a 304 the length of the
    /// body a 200 would have had.
    length: u64,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: Body) -> Reply {
        let length = body.as_ref().len() as u64;
        Reply::sized(status, content_type, body, length)
    }

    /// A reply whose body is `length` bytes long (a file on disk).
    fn sized(status: u16, content_type: &str, body: Body, length: u64) -> Reply {
        Reply {
            status,
            headers: vec![
                ("Content-Type", content_type.to_string()),
                ("X-Content-Type-Options", "nosniff".to_string()),
                ("Cache-Control", "no-cache".to_string()),
            ],
            body,
            length,
        }
    }

    fn text(status: u16, text: &str) -> Reply {
        Reply::new(
            status,
            "text/plain; charset=utf-8",
            Body::Owned(text.as_bytes().to_vec()),
        )
    }

    fn json(json: String) -> Reply {
        Reply::new(
            200,
            "application/json; charset=utf-8",
            Body::Owned(json.into_bytes()),
        )
    }

    fn with(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }

    /// A file that answers `Range` requests: 304 when the client has this
    /// version, else all of it (200), the part asked for (206), or 416.
    fn ranged(kind: &str, content: Content, etag: String, conditions: &Conditions) -> Reply {
        let len = content.len();
        let reply = if conditions
            .if_none_match
            .is_some_and(|header| etag_matches(header, &etag))
        {
            Reply::sized(304, kind, Body::Owned(Vec::new()), len)
        } else {
            match ranges::requested(conditions.range, conditions.if_range, &etag, len) {
                Span::Whole => Reply::sized(200, kind, content.whole(), len),
                Span::Part { start, end } => {
                    Reply::sized(206, kind, content.part(start, end), end - start + 1)
                        .with("Content-Range", format!("bytes {start}-{end}/{len}"))
                }
                Span::Unsatisfiable => Reply::text(416, "Range not satisfiable.\n")
                    .with("Content-Range", format!("bytes */{len}")),
            }
        };
        reply
            .with("Accept-Ranges", "bytes".into())
            .with("ETag", etag)
    }

    /// Adds an `ETag` and turns the reply into a 304 if the client has it.
    /// `generation` names the build the body comes from.
    fn cached(mut self, if_none_match: Option<&str>, generation: u64) -> Reply {
        let etag = etag(self.body.as_ref(), generation);
        if if_none_match.is_some_and(|header| etag_matches(header, &etag)) {
            self.status = 304;
            self.body = Body::Owned(Vec::new());
        }
        self.with("ETag", etag)
    }
}

/// The answer to `method url` for `viewer` (HEAD is answered like GET; the
/// body is left out when writing).
fn answer(
    method: &str,
    url: &str,
    conditions: &Conditions,
    state: &LiveState,
    viewer: &Viewer,
) -> Reply {
    let if_none_match = conditions.if_none_match;
    if method != "GET" && method != "HEAD" {
        return Reply::text(405, "Method not allowed: use GET or HEAD.\n")
            .with("Allow", "GET, HEAD".into());
    }
    let (path, query) = split_url(url);
    match path {
        "/__atelier/livereload.js" => {
            return Reply::new(
                200,
                "text/javascript; charset=utf-8",
                Body::Owned(LIVERELOAD_JS.as_bytes().to_vec()),
            )
            .cached(if_none_match, 0);
        }
        // The version list names the clients; build errors may quote
        // facilitator notes.
        "/__atelier/versions.json" if viewer.is_facilitator() => {
            return Reply::json(versions_json(state, viewer));
        }
        "/__atelier/versions.json" => return Reply::text(404, "404 Not Found\n"),
        "/__atelier/errors.json" if viewer.is_facilitator() => {
            return Reply::json(errors_json(&state.errors()));
        }
        "/__atelier/errors.json" => return Reply::json(errors_json(&[])),
        // Only HEAD gets here: GET streams on its own thread.
        EVENTS_PATH => return Reply::new(200, "text/event-stream", Body::Owned(Vec::new())),
        _ => {}
    }
    let snapshot = state.current();
    let hidden = decode_path(path).is_some_and(|rel| !viewer.may_see(&rel));
    if hidden {
        return not_found("", &snapshot);
    }
    match resolve(path, &snapshot) {
        Target::File(key) => serve_file(&key, conditions, &snapshot, viewer),
        Target::Redirect(location) => {
            let location = header_safe(&format!("{location}{query}"));
            Reply::text(301, &format!("Moved to {location}\n")).with("Location", location)
        }
        Target::Missing(rel) => not_found(&rel, &snapshot),
        Target::Bad => Reply::text(400, "Bad request: this path is not allowed.\n"),
    }
}

/// The file at `key`: a page with the live script, or any other file,
/// whole or in part.
fn serve_file(key: &str, conditions: &Conditions, snapshot: &Snapshot, viewer: &Viewer) -> Reply {
    let kind = content_type(key);
    let generation = snapshot.generation;
    let bytes = match snapshot.find(key) {
        None => return not_found("", snapshot),
        Some(Found::Bytes(Ok(bytes))) => bytes,
        Some(Found::Bytes(Err(problem))) => {
            return Reply::text(500, &format!("This page could not be made:\n{problem}\n"));
        }
        Some(Found::Disk(file)) if is_html(key) => match file.read() {
            Ok(bytes) => Arc::from(bytes),
            Err(e) => return unreadable(key, &e, snapshot),
        },
        Some(Found::Disk(file)) => {
            return match file.open() {
                Ok((file, metadata)) => {
                    let etag = files::etag(&metadata);
                    let content = Content::Disk(file, metadata.len());
                    Reply::ranged(kind, content, etag, conditions)
                }
                Err(e) => unreadable(key, &e, snapshot),
            };
        }
    };
    if is_html(key) {
        let present_key = viewer
            .present_key
            .filter(|_| viewer.is_facilitator() && follow::carries_key(key));
        let body = Body::Owned(inject_live_script(&bytes, generation, present_key));
        return Reply::new(200, kind, body).cached(conditions.if_none_match, generation);
    }
    let etag = etag(&bytes, generation);
    Reply::ranged(kind, Content::Memory(bytes), etag, conditions)
}

/// A file served from disk that cannot be read now: gone since the build
/// (404, until the rebuild the watcher starts), or unreadable (500).
fn unreadable(key: &str, error: &io::Error, snapshot: &Snapshot) -> Reply {
    if error.kind() == io::ErrorKind::NotFound {
        return not_found(key, snapshot);
    }
    Reply::text(500, &format!("This file cannot be read: {error}\n"))
}

/// `[{"label":…,"prefix":…}]`.
fn versions_json(state: &LiveState, viewer: &Viewer) -> String {
    let items: Vec<serde_json::Value> = state
        .versions()
        .iter()
        .filter(|v| viewer.may_see(&v.prefix))
        .map(|v| serde_json::json!({ "label": v.label, "prefix": v.prefix }))
        .collect();
    serde_json::Value::Array(items).to_string()
}

/// The version's own `404.html` (for `clients/<slug>/…`, `_facilitator/…`
/// and `_facilitator/clients/<slug>/…`), else the root one, else plain text.
fn not_found(rel: &str, snapshot: &Snapshot) -> Reply {
    let mut candidates = Vec::new();
    let (facilitator, inside) = match rel.strip_prefix("_facilitator/") {
        Some(inside) => ("_facilitator/", inside),
        None => ("", rel),
    };
    if let Some((slug, _)) = inside
        .strip_prefix("clients/")
        .and_then(|rest| rest.split_once('/'))
    {
        candidates.push(format!("{facilitator}clients/{slug}/404.html"));
    }
    if !facilitator.is_empty() {
        candidates.push("_facilitator/404.html".to_string());
    }
    candidates.push("404.html".to_string());
    match candidates
        .iter()
        .find_map(|key| snapshot.file(key).and_then(Result::ok))
    {
        Some(page) => Reply::new(
            404,
            "text/html; charset=utf-8",
            Body::Owned(inject_live_script(&page, snapshot.generation, None)),
        ),
        None => Reply::text(404, "404 Not Found\n"),
    }
}

/// Where a URL path leads.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// A key of the snapshot.
    File(String),
    /// A folder named without its final `/`: where to go instead.
    Redirect(String),
    /// A well-formed path with nothing there (decoded, no leading `/`).
    Missing(String),
    /// A path that is refused outright (traversal, bad encoding…).
    Bad,
}

/// Splits `url` into its path and its query (with the `?`, fragment
/// dropped).
fn split_url(url: &str) -> (&str, &str) {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let (path, rest) = url.split_at(end);
    let query = if rest.starts_with('?') {
        rest.split('#').next().unwrap_or("")
    } else {
        ""
    };
    (path, query)
}

/// Maps a raw URL path (no query) to a snapshot key.
fn resolve(path: &str, snapshot: &Snapshot) -> Target {
    let Some(rel) = decode_path(path) else {
        return Target::Bad;
    };
    let is_dir = rel.is_empty() || rel.ends_with('/');
    let key = if is_dir {
        format!("{rel}index.html")
    } else {
        rel.clone()
    };
    if snapshot.contains(&key) {
        return Target::File(key);
    }
    let last = rel.rsplit('/').next().unwrap_or("");
    if !is_dir && !last.contains('.') {
        let folder = format!("{rel}/");
        if snapshot.has_folder(&folder) {
            return Target::Redirect(format!("{path}/"));
        }
    }
    Target::Missing(rel)
}

/// Percent-decodes and checks a URL path; returns it without its leading
/// `/`, or `None` if it is refused.
fn decode_path(path: &str) -> Option<String> {
    if !path.starts_with('/') || path.contains('\\') || path.contains("//") {
        return None;
    }
    let lower = path.to_ascii_lowercase();
    // Encoded separators, encoded `%` (double encoding) and NUL.
    if ["%2f", "%5c", "%25", "%00"]
        .iter()
        .any(|e| lower.contains(e))
    {
        return None;
    }
    let bytes = crate::html::percent_decode(&path[1..])?;
    let text = String::from_utf8(bytes).ok()?;
    if text
        .chars()
        .any(|c| c.is_control() || matches!(c, '\\' | ':' | '%'))
    {
        return None;
    }
    let segments: Vec<&str> = text.split('/').collect();
    let last = segments.len().saturating_sub(1);
    for (index, segment) in segments.iter().enumerate() {
        let empty_inside = segment.is_empty() && index != last;
        if empty_inside || *segment == "." || *segment == ".." {
            return None;
        }
    }
    Some(text)
}

/// The page with the live script (and, for a facilitator deck, the key of
/// the moves) just before its last `</body>` (or at the end when there is none).
fn inject_live_script(html: &[u8], generation: u64, present_key: Option<&str>) -> Vec<u8> {
    const CLOSE: &[u8] = b"</body";
    let at = html
        .windows(CLOSE.len())
        .rposition(|w| w.eq_ignore_ascii_case(CLOSE))
        .unwrap_or(html.len());
    let tag = live_script_tag(&build_id(generation), present_key);
    let mut out = Vec::with_capacity(html.len() + tag.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

/// A strong ETag: the length and a 64-bit hash of the bytes, or for a
/// body over [`HASHED_MAX`] (hashing it on every request would cost too
/// much) the length and the build it comes from.
fn etag(bytes: &[u8], generation: u64) -> String {
    if bytes.len() > HASHED_MAX {
        return format!("\"{}-{:x}\"", build_id(generation), bytes.len());
    }
    // FNV-1a over 8-byte words, then the tail bytes.
    let mix = |hash: u64, word: u64| (hash ^ word).wrapping_mul(0x0000_0100_0000_01b3);
    let mut words = bytes.chunks_exact(8);
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for word in &mut words {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(word);
        hash = mix(hash, u64::from_le_bytes(buf));
    }
    for &byte in words.remainder() {
        hash = mix(hash, u64::from(byte));
    }
    format!("\"{:x}-{hash:016x}\"", bytes.len())
}

/// Whether an `If-None-Match` header names `etag` (weak comparison, `*`).
fn etag_matches(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn snapshot() -> Snapshot {
        let mut files: HashMap<String, Arc<[u8]>> = HashMap::new();
        for key in [
            "index.html",
            "modules/x/index.html",
            "static/atelier.css",
            "404.html",
            "clients/a/index.html",
            "clients/a/404.html",
            "_facilitator/index.html",
            "static/only/logo.png",
        ] {
            files.insert(key.to_string(), Arc::from(key.as_bytes()));
        }
        Snapshot::from_files(files, 1)
    }

    #[test]
    fn urls_map_to_keys() {
        let s = snapshot();
        let file = |k: &str| Target::File(k.to_string());
        assert_eq!(resolve("/", &s), file("index.html"));
        assert_eq!(resolve("/index.html", &s), file("index.html"));
        assert_eq!(resolve("/modules/x/", &s), file("modules/x/index.html"));
        assert_eq!(
            resolve("/static/atelier%2Ecss", &s),
            file("static/atelier.css")
        );
        assert_eq!(resolve("/clients/a/", &s), file("clients/a/index.html"));
        assert_eq!(
            resolve("/modules/x", &s),
            Target::Redirect("/modules/x/".into())
        );
        // A folder without index.html: redirected, then 404, never listed.
        assert_eq!(
            resolve("/static/only", &s),
            Target::Redirect("/static/only/".into())
        );
        assert_eq!(
            resolve("/static/only/", &s),
            Target::Missing("static/only/".into())
        );
        assert_eq!(
            resolve("/nope.html", &s),
            Target::Missing("nope.html".into())
        );
        assert_eq!(
            resolve("/modules", &s),
            Target::Redirect("/modules/".into())
        );
        assert_eq!(
            resolve("/modules.x", &s),
            Target::Missing("modules.x".into())
        );
    }

    #[test]
    fn traversal_and_odd_encodings_are_refused() {
        let s = snapshot();
        for path in [
            "/../Cargo.toml",
            "/..",
            "/.",
            "/./index.html",
            "/%2e%2e/Cargo.toml",
            "/%2E%2E/Cargo.toml",
            "/.%2e/Cargo.toml",
            "/%2e%2e%2fCargo.toml",
            "/..%5cCargo.toml",
            "/..%5CCargo.toml",
            "/static/..%2f..%2fCargo.toml",
            "/%252e%252e/Cargo.toml",
            "//etc/passwd",
            "/\\..\\Cargo.toml",
            "/static\\atelier.css",
            "/static/%00",
            "/static/atelier.css%00.html",
            "/C:/Windows/win.ini",
            "/c:%5cwindows",
            "/modules/../../Cargo.toml",
            "/modules/x/../../index.html",
            "/modules//x/",
            "/%",
            "/%2",
            "/%zz",
            "/%ff%fe",
            "/%c0%ae%c0%ae/Cargo.toml",
            "/%0a",
            "relative",
            "",
            "*",
            "http://example.com/index.html",
        ] {
            assert_eq!(resolve(path, &s), Target::Bad, "{path}");
        }
    }

    #[test]
    fn query_and_fragment_are_split_off() {
        assert_eq!(split_url("/a.css?v=1#x"), ("/a.css", "?v=1"));
        assert_eq!(split_url("/a#x?y"), ("/a", ""));
        assert_eq!(split_url("/"), ("/", ""));
    }

    #[test]
    fn script_goes_before_the_last_body_close() {
        let tag = live_script_tag(&build_id(3), None);
        let out = inject_live_script(b"<html><BODY>x</Body></html>", 3, None);
        assert_eq!(
            String::from_utf8_lossy(&out),
            format!("<html><BODY>x{tag}</Body></html>")
        );
        let out = inject_live_script(b"<p>no body", 3, None);
        assert_eq!(String::from_utf8_lossy(&out), format!("<p>no body{tag}"));
    }

    #[test]
    fn etags_compare() {
        let tag = etag(b"abc", 1);
        assert!(etag_matches(&tag, &tag));
        assert!(etag_matches(&format!("\"x\", W/{tag}"), &tag));
        assert!(etag_matches("*", &tag));
        assert!(!etag_matches("\"3-0\"", &tag));
        assert_ne!(etag(b"abc", 1), etag(b"abd", 1));
        assert_eq!(etag(b"abcdefghij", 1), etag(b"abcdefghij", 2));
        assert_ne!(etag(b"abcdefghij", 1), etag(b"abcdefghik", 1));
        let big = vec![0u8; HASHED_MAX + 1];
        assert_ne!(etag(&big, 1), etag(&big, 2));
    }

    #[test]
    fn header_values_are_escaped() {
        assert_eq!(header_safe("/a/?x=1"), "/a/?x=1");
        assert_eq!(
            header_safe("/a\r\nSet-Cookie: x\0\x1b"),
            "/a%0D%0ASet-Cookie:%20x%00%1B"
        );
        assert_eq!(header_safe("/é"), "/%C3%A9");
    }

    #[test]
    fn dates_are_http_dates() {
        let at = |secs| http_date(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(at(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(at(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(at(4_102_444_799), "Thu, 31 Dec 2099 23:59:59 GMT");
    }

    #[test]
    fn replies_are_written_with_length_and_without_body_for_head() {
        let reply = Reply::text(200, "hi\n");
        let mut out = Vec::new();
        assert!(write_reply(&mut out, &reply, false, true).is_ok());
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("\r\nContent-Length: 3\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nhi\n"), "{text}");
        assert!(text.contains("Connection: keep-alive\r\n"));
        let mut out = Vec::new();
        assert!(write_reply(&mut out, &reply, true, false).is_ok());
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(
            text.contains("Content-Length: 3\r\n") && text.ends_with("Connection: close\r\n\r\n")
        );
    }

    #[test]
    fn slots_are_bounded_and_freed() {
        let count = Arc::new(AtomicUsize::new(0));
        let a = Slot::acquire(&count, 2);
        let b = Slot::acquire(&count, 2);
        assert!(a.is_some() && b.is_some());
        assert!(Slot::acquire(&count, 2).is_none());
        drop(a);
        assert!(Slot::acquire(&count, 2).is_some());
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    fn everything() -> Access {
        Access::new(std::net::IpAddr::from([127, 0, 0, 1]), 1111, None, false)
    }

    fn ask(method: &str, url: &str, state: &LiveState) -> Reply {
        let access = everything();
        let viewer = Viewer {
            access: &access,
            visitor: Visitor::Facilitator,
            present_key: None,
        };
        answer(method, url, &Conditions::default(), state, &viewer)
    }

    #[test]
    fn other_methods_get_405() {
        let state = LiveState::new(snapshot(), Vec::new());
        let reply = ask("POST", "/", &state);
        assert_eq!(reply.status, 405);
        assert!(
            reply
                .headers
                .iter()
                .any(|(n, v)| *n == "Allow" && v == "GET, HEAD")
        );
    }

    #[test]
    fn missing_pages_use_their_version_404() {
        let state = LiveState::new(snapshot(), Vec::new());
        let body = |url: &str| {
            let reply = ask("GET", url, &state);
            assert_eq!(reply.status, 404, "{url}");
            String::from_utf8_lossy(reply.body.as_ref()).into_owned()
        };
        assert!(body("/clients/a/nope/").starts_with("clients/a/404.html"));
        assert!(body("/clients/b/nope/").starts_with("404.html"));
        assert!(body("/_facilitator/nope").starts_with("404.html"));
        assert!(body("/nope").contains("/__atelier/livereload.js\" data-build="));
    }
}
