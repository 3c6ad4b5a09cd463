//! The preview server's HTTP layer: serves the last good build held in
//! [`LiveState`] and streams live-reload events to open tabs.
//!
//! # Threads
//!
//! tiny_http accepts connections and reads each one on a thread of its own, then
//! hands complete requests to [`serve`]'s loop, which only dispatches them and
//! never blocks:
//!
//! - page requests go to a fixed pool of [`WORKERS`] threads through a queue of
//!   [`QUEUE`] requests (a full queue answers 503);
//! - each `GET /__atelier/events` stream (Server-Sent Events) gets a thread of
//!   its own, at most [`MAX_STREAMS`] at once (beyond that: 503);
//! - a body over [`LARGE_BODY`] is written by a thread of its own (at most
//!   [`MAX_LARGE_WRITERS`]), so a client that does not read holds no worker.
//!
//! On Unix every accepted socket inherits a send timeout of [`WRITE_TIMEOUT`]
//! from the listener, so a client that stops reading frees its worker or
//! stream thread instead of holding it forever.
//!
//! # What is served
//!
//! Only files of [`Snapshot::files`], in memory: a URL is percent-decoded and
//! checked (no `..` or `.` segment, no backslash, no `//`, no drive letter, no
//! encoded `/` or `\`, no double encoding, no NUL), then looked up as a key.
//! Folders answer with their `index.html`; a folder named without its final
//! `/` is redirected; there are no directory listings. Every HTML page served
//! (including 404 pages) gets the live script injected before `</body>`.
//!
//! Internal routes live under `/__atelier/`: `livereload.js` (the client
//! script), `versions.json` (the toolbar's versions), `errors.json` (the
//! current build errors) and `events` (the event stream).

use std::io::{self, Cursor, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

use super::state::{LiveState, Snapshot, errors_json};

/// Threads answering page requests.
pub const WORKERS: usize = 8;
/// Page requests waiting for a worker before new ones get a 503.
pub const QUEUE: usize = 256;
/// Event streams open at once before new ones get a 503.
pub const MAX_STREAMS: usize = 256;
/// Idle time after which an event stream sends a `: ping` comment.
pub const PING_INTERVAL: Duration = Duration::from_secs(15);
/// How long one write to a client may block before the connection is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Bodies larger than this (more than socket buffers take at once) are
/// written by a thread of their own, so a client that does not read cannot
/// hold a worker.
pub const LARGE_BODY: usize = 64 * 1024;
/// Bodies up to this size get an ETag from their content; larger ones one
/// from their build.
pub const HASHED_MAX: usize = 1024 * 1024;
/// Threads writing large bodies at once; beyond that, workers write them.
pub const MAX_LARGE_WRITERS: usize = 64;
/// How often the accept loop wakes up to look at its probes.
const TICK: Duration = Duration::from_millis(250);
/// Probe interval for [`BUSY_WINDOW`] after a page request.
pub const KICK_INTERVAL: Duration = Duration::from_millis(500);
/// How long after a page request probes stay frequent.
pub const BUSY_WINDOW: Duration = Duration::from_secs(30);
/// Probe interval otherwise: checks the server still accepts connections.
pub const PROBE_AFTER_IDLE: Duration = Duration::from_secs(10);
/// A probe that has not arrived after this long means the server is dead.
pub const PROBE_DEADLINE: Duration = Duration::from_secs(5);
/// Old servers kept answering their open connections after a restart.
pub const MAX_DRAINS: usize = 4;

/// The tag injected into every HTML page served.
const LIVE_SCRIPT_TAG: &str = r#"<script src="/__atelier/livereload.js" defer></script>"#;
/// The client script, served at `/__atelier/livereload.js`.
const LIVERELOAD_JS: &str = include_str!("livereload.js");
const EVENTS_PATH: &str = "/__atelier/events";
/// What liveness probes ask for.
const ALIVE_PATH: &str = "/__atelier/alive";

/// Serves `state` on an already-bound listener until the process ends.
///
/// Returns only if the worker threads cannot be started. tiny_http's accept
/// thread ends on an accept error and dies on a failed `try_clone` (both
/// happen when the process runs out of file descriptors): when that is seen
/// (an error from `recv`, or a liveness probe to our own address that never
/// arrives), a new server is started on the same listener, and the old one
/// keeps answering the connections it already had.
pub fn serve(listener: TcpListener, state: Arc<LiveState>) -> io::Result<()> {
    let listener = with_write_timeout(listener, WRITE_TIMEOUT);
    let probe_to = probe_address(&listener);
    let dispatcher = Arc::new(Dispatcher {
        jobs: spawn_workers(&state)?,
        state,
        streams: Arc::new(AtomicUsize::new(0)),
    });
    let drains = Arc::new(AtomicUsize::new(0));
    let mut failures: u32 = 0;
    loop {
        let server = listener
            .try_clone()
            .and_then(|l| Server::from_listener(l, None).map_err(io::Error::other));
        match server {
            Ok(server) => {
                let why = accept_loop(&server, &dispatcher, probe_to, &mut failures);
                if failures == 0 {
                    eprintln!("atelier serve: {why}; restarting the HTTP server");
                }
                drain(server, &dispatcher, &drains);
            }
            Err(err) => {
                if failures == 0 {
                    eprintln!("atelier serve: cannot listen ({err}), retrying");
                }
            }
        }
        failures = failures.saturating_add(1);
        thread::sleep(Duration::from_millis(
            50u64.saturating_mul(failures.min(20).into()),
        ));
    }
}

/// Dispatches requests until `server` stops accepting; says why.
///
/// It also sends itself short `Connection: close` requests (probes): every
/// [`KICK_INTERVAL`] while pages are being requested, every
/// [`PROBE_AFTER_IDLE`] otherwise. tiny_http's connection pool can leave a
/// new connection queued (unread) until another connection ends, when two
/// connections arrive together while a pool thread is waking up; a probe
/// ends at once and its thread then takes the queued connection. A probe
/// that was sent but never arrives means the accept thread is gone.
fn accept_loop(
    server: &Server,
    dispatcher: &Dispatcher,
    probe_to: Option<SocketAddr>,
    failures: &mut u32,
) -> String {
    let mut last_request: Option<Instant> = None;
    let mut last_probe = Instant::now();
    // The oldest probe not yet seen, and whether it was sent.
    let mut pending: Option<(Instant, Arc<AtomicBool>)> = None;
    loop {
        match server.recv_timeout(TICK) {
            Ok(Some(request)) => {
                *failures = 0;
                pending = None;
                if split_url(request.url()).0 != ALIVE_PATH {
                    last_request = Some(Instant::now());
                }
                dispatcher.dispatch(request);
            }
            Ok(None) => {}
            Err(err) => return format!("accept failed ({err})"),
        }
        if let Some((sent, delivered)) = &pending {
            if sent.elapsed() >= PROBE_DEADLINE {
                if delivered.load(Ordering::SeqCst) {
                    return "the server stopped accepting connections".into();
                }
                // The probe itself failed (no descriptor left?): no proof.
                pending = None;
            }
        }
        let busy = last_request.is_some_and(|t| t.elapsed() < BUSY_WINDOW);
        let interval = if busy {
            KICK_INTERVAL
        } else {
            PROBE_AFTER_IDLE
        };
        if let Some(addr) = probe_to.filter(|_| last_probe.elapsed() >= interval) {
            let delivered = send_probe(addr);
            last_probe = Instant::now();
            if pending.is_none() {
                pending = Some((last_probe, delivered));
            }
        }
    }
}

/// Keeps answering the connections an old server already accepted, on a
/// thread of its own (at most [`MAX_DRAINS`]; beyond that it is dropped).
fn drain(server: Server, dispatcher: &Arc<Dispatcher>, drains: &Arc<AtomicUsize>) {
    let Some(slot) = Slot::acquire(drains, MAX_DRAINS) else {
        return;
    };
    let dispatcher = Arc::clone(dispatcher);
    let _ = thread::Builder::new()
        .name("atelier-http-drain".into())
        .spawn(move || {
            let _slot = slot;
            while let Ok(request) = server.recv() {
                dispatcher.dispatch(request);
            }
        });
}

/// Where to send liveness probes: the listener's address, loopback if it
/// listens on every interface.
fn probe_address(listener: &TcpListener) -> Option<SocketAddr> {
    let mut addr = listener.local_addr().ok()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        });
    }
    Some(addr)
}

/// Sends `GET /__atelier/alive` to ourselves from a short-lived thread; the
/// flag tells whether the request was written.
fn send_probe(addr: SocketAddr) -> Arc<AtomicBool> {
    let delivered = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&delivered);
    let _ = thread::Builder::new()
        .name("atelier-http-probe".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let Ok(mut stream) = TcpStream::connect_timeout(&addr, PROBE_DEADLINE) else {
                return;
            };
            let _ = stream.set_read_timeout(Some(PROBE_DEADLINE));
            let _ = stream.set_write_timeout(Some(PROBE_DEADLINE));
            let probe =
                format!("GET {ALIVE_PATH} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
            if stream.write_all(probe.as_bytes()).is_ok() {
                flag.store(true, Ordering::SeqCst);
                let _ = io::copy(&mut stream, &mut io::sink());
            }
        });
    delivered
}

/// Sets a send timeout on the listener; on Linux and the BSDs accepted
/// sockets inherit it (tiny_http gives no access to them).
#[cfg(unix)]
fn with_write_timeout(listener: TcpListener, timeout: Duration) -> TcpListener {
    use std::os::fd::OwnedFd;
    let socket = TcpStream::from(OwnedFd::from(listener));
    // Only a hardening: serving works without it.
    let _ = socket.set_write_timeout(Some(timeout));
    TcpListener::from(OwnedFd::from(socket))
}

#[cfg(not(unix))]
fn with_write_timeout(listener: TcpListener, _timeout: Duration) -> TcpListener {
    listener
}

/// Names one build of one server process.
fn build_id(generation: u64) -> String {
    format!("{}-{generation}", instance_id())
}

/// Tells this server process apart from a restarted one (in `hello`
/// events and in the ETags of large files).
fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{:x}{:x}", std::process::id(), nanos)
    })
}

/// Routes requests from the accept loop to workers or stream threads.
struct Dispatcher {
    jobs: SyncSender<Job>,
    state: Arc<LiveState>,
    streams: Arc<AtomicUsize>,
}

impl Dispatcher {
    fn dispatch(&self, request: Request) {
        if *request.method() == Method::Get && split_url(request.url()).0 == EVENTS_PATH {
            self.open_stream(request);
            return;
        }
        self.queue(Job::Answer(request));
    }

    /// Hands `job` to a worker; if the queue is full, answers 503 here (a
    /// short write on a socket that has a send timeout).
    fn queue(&self, job: Job) {
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(job)) | Err(TrySendError::Disconnected(job)) => {
                let request = match job {
                    Job::Answer(request) | Job::Refuse(request, _) => request,
                };
                respond(request, Reply::text(503, "Server busy, retry.\n"));
            }
        }
    }

    fn open_stream(&self, request: Request) {
        let Some(slot) = Slot::acquire(&self.streams, MAX_STREAMS) else {
            let reply = Reply::text(503, "Too many live-reload streams.\n");
            self.queue(Job::Refuse(request, reply));
            return;
        };
        let state = Arc::clone(&self.state);
        // If the thread cannot start, the request is dropped and tiny_http
        // answers 500.
        let _ = thread::Builder::new()
            .name("atelier-sse".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                let _slot = slot;
                stream_events(request, &state);
            });
    }
}

/// Work for the pool.
enum Job {
    /// Answer from the snapshot.
    Answer(Request),
    /// Send this fixed reply.
    Refuse(Request, Reply),
}

/// Starts the worker pool; returns the sending end of its queue.
fn spawn_workers(state: &Arc<LiveState>) -> io::Result<SyncSender<Job>> {
    let (sender, receiver) = sync_channel::<Job>(QUEUE);
    let receiver = Arc::new(Mutex::new(receiver));
    let bulk = Arc::new(AtomicUsize::new(0));
    for index in 0..WORKERS {
        let receiver = Arc::clone(&receiver);
        let state = Arc::clone(state);
        let bulk = Arc::clone(&bulk);
        thread::Builder::new()
            .name(format!("atelier-http-{index}"))
            .spawn(move || worker(&receiver, &state, &bulk))?;
    }
    Ok(sender)
}

fn worker(receiver: &Mutex<Receiver<Job>>, state: &LiveState, bulk: &Arc<AtomicUsize>) {
    loop {
        let next = receiver.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(job) = next else { return };
        // A bug in one answer must not shrink the pool; a request dropped
        // while unwinding is answered 500 by tiny_http.
        let _ = catch_unwind(AssertUnwindSafe(|| match job {
            Job::Answer(request) => handle(request, state, bulk),
            Job::Refuse(request, reply) => respond(request, reply),
        }));
    }
}

/// One of a bounded number of threads (event streams, large writes); frees
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

/// Writes the SSE response by hand (tiny_http's `Response` buffers), then
/// forwards events until the client goes away.
fn stream_events(request: Request, state: &LiveState) {
    // Subscribe before reading the state, so no event falls in between.
    let events = state.subscribe();
    let hello = hello_message(state);
    let mut out = request.into_writer();
    let head = "HTTP/1.1 200 OK\r\n\
        Content-Type: text/event-stream\r\n\
        Cache-Control: no-cache\r\n\
        Connection: keep-alive\r\n\
        X-Content-Type-Options: nosniff\r\n\
        Server: atelier\r\n\r\n";
    if send(&mut out, head)
        .and_then(|_| send(&mut out, &hello))
        .is_err()
    {
        return;
    }
    loop {
        let message = match events.recv_timeout(PING_INTERVAL) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => ": ping\n\n".to_string(),
            Err(RecvTimeoutError::Disconnected) => return,
        };
        if send(&mut out, &message).is_err() {
            return;
        }
    }
}

fn send(out: &mut dyn Write, text: &str) -> io::Result<()> {
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// `event: hello` with the current errors, the build generation and a
/// `build` id that changes when the site or the server process changes.
fn hello_message(state: &LiveState) -> String {
    let generation = state.current().generation;
    let mut data: serde_json::Value = serde_json::from_str(&errors_json(&state.errors()))
        .unwrap_or_else(|_| serde_json::json!({ "errors": [] }));
    if let Some(object) = data.as_object_mut() {
        object.insert("generation".into(), generation.into());
        object.insert("build".into(), build_id(generation).into());
    }
    format!("event: hello\ndata: {data}\n\n")
}

/// A response body: shared file bytes or bytes made for this answer.
enum Body {
    Shared(Arc<[u8]>),
    Owned(Vec<u8>),
}

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        match self {
            Body::Shared(bytes) => bytes,
            Body::Owned(bytes) => bytes,
        }
    }
}

/// An answer, built without touching the network (so it can be unit-tested).
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Body,
    /// `Content-Length`; the body's length except for 304.
    length: usize,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: Body) -> Reply {
        let length = body.as_ref().len();
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

fn respond(request: Request, reply: Reply) {
    let mut headers: Vec<Header> = reply
        .headers
        .iter()
        .filter_map(|(name, value)| Header::from_bytes(name.as_bytes(), value.as_bytes()).ok())
        .collect();
    headers.extend(Header::from_bytes(&b"Server"[..], &b"atelier"[..]).ok());
    let response = Response::new(
        StatusCode(reply.status),
        headers,
        Cursor::new(reply.body),
        Some(reply.length),
        None,
    )
    // Always send Content-Length (HEAD included), never chunks: bodies are
    // in memory anyway.
    .with_chunked_threshold(usize::MAX);
    // A client that went away is not an error worth reporting.
    let _ = request.respond(response);
}

fn handle(request: Request, state: &LiveState, bulk: &Arc<AtomicUsize>) {
    let if_none_match = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("If-None-Match"))
        .map(|h| h.value.as_str().to_string());
    let reply = answer(
        request.method(),
        request.url(),
        if_none_match.as_deref(),
        state,
    );
    let sends_body = *request.method() != Method::Head && reply.status != 304;
    if sends_body && reply.length > LARGE_BODY {
        // A client that does not read could hold this worker until the
        // write timeout: write large bodies on a thread of their own.
        if let Some(slot) = Slot::acquire(bulk, MAX_LARGE_WRITERS) {
            let spawned = thread::Builder::new()
                .name("atelier-http-large".into())
                .stack_size(256 * 1024)
                .spawn(move || {
                    let _slot = slot;
                    respond(request, reply);
                });
            // On failure the request was dropped: tiny_http answered 500.
            let _ = spawned;
            return;
        }
    }
    respond(request, reply);
}

/// The answer to `method url` (HEAD is answered like GET; tiny_http leaves
/// the body out).
fn answer(method: &Method, url: &str, if_none_match: Option<&str>, state: &LiveState) -> Reply {
    if !matches!(method, Method::Get | Method::Head) {
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
        "/__atelier/versions.json" => return Reply::json(versions_json(state)),
        "/__atelier/errors.json" => return Reply::json(errors_json(&state.errors())),
        ALIVE_PATH => return Reply::text(200, "ok\n"),
        // Only HEAD gets here: GET streams on its own thread.
        EVENTS_PATH => return Reply::new(200, "text/event-stream", Body::Owned(Vec::new())),
        _ => {}
    }
    let snapshot = state.current();
    match resolve(path, &snapshot) {
        Target::File(key) => {
            let Some(bytes) = snapshot.files.get(&key) else {
                return not_found("", &snapshot);
            };
            let kind = content_type(&key);
            let body = if is_html(&key) {
                Body::Owned(inject_live_script(bytes))
            } else {
                Body::Shared(Arc::clone(bytes))
            };
            Reply::new(200, kind, body).cached(if_none_match, snapshot.generation)
        }
        Target::Redirect(location) => {
            let location = format!("{location}{query}");
            Reply::text(301, &format!("Moved to {location}\n")).with("Location", location)
        }
        Target::Missing(rel) => not_found(&rel, &snapshot),
        Target::Bad => Reply::text(400, "Bad request: this path is not allowed.\n"),
    }
}

/// `[{"label":…,"prefix":…}]`.
fn versions_json(state: &LiveState) -> String {
    let items: Vec<serde_json::Value> = state
        .versions()
        .iter()
        .map(|v| serde_json::json!({ "label": v.label, "prefix": v.prefix }))
        .collect();
    serde_json::Value::Array(items).to_string()
}

/// The version's own `404.html` (for `clients/<slug>/…` and
/// `_facilitator/…`), else the root one, else plain text.
fn not_found(rel: &str, snapshot: &Snapshot) -> Reply {
    let mut candidates = Vec::new();
    if let Some((slug, _)) = rel
        .strip_prefix("clients/")
        .and_then(|rest| rest.split_once('/'))
    {
        candidates.push(format!("clients/{slug}/404.html"));
    }
    if rel.starts_with("_facilitator/") {
        candidates.push("_facilitator/404.html".to_string());
    }
    candidates.push("404.html".to_string());
    match candidates.iter().find_map(|key| snapshot.files.get(key)) {
        Some(page) => Reply::new(
            404,
            "text/html; charset=utf-8",
            Body::Owned(inject_live_script(page)),
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
    if snapshot.files.contains_key(&key) {
        return Target::File(key);
    }
    let last = rel.rsplit('/').next().unwrap_or("");
    if !is_dir && !last.contains('.') {
        let folder = format!("{rel}/");
        if snapshot.files.keys().any(|k| k.starts_with(&folder)) {
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
    let bytes = percent_decode(&path[1..])?;
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

/// `%XX` → byte; `None` on a malformed escape.
fn percent_decode(text: &str) -> Option<Vec<u8>> {
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

fn extension(key: &str) -> String {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_html(key: &str) -> bool {
    matches!(extension(key).as_str(), "html" | "htm")
}

/// The `Content-Type` for a snapshot key, with a charset for text.
fn content_type(key: &str) -> &'static str {
    match extension(key).as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml; charset=utf-8",
        "xml" => "application/xml; charset=utf-8",
        "json" | "map" => "application/json; charset=utf-8",
        "webmanifest" => "application/manifest+json; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "ics" => "text/calendar; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "pdf" => "application/pdf",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    }
}

/// The page with the live script just before its last `</body>` (or at the
/// end when there is none).
fn inject_live_script(html: &[u8]) -> Vec<u8> {
    const CLOSE: &[u8] = b"</body";
    let at = html
        .windows(CLOSE.len())
        .rposition(|w| w.eq_ignore_ascii_case(CLOSE))
        .unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + LIVE_SCRIPT_TAG.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(LIVE_SCRIPT_TAG.as_bytes());
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
        Snapshot {
            files,
            generation: 1,
        }
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
        let out = inject_live_script(b"<html><BODY>x</Body></html>");
        assert_eq!(
            String::from_utf8_lossy(&out),
            format!("<html><BODY>x{LIVE_SCRIPT_TAG}</Body></html>")
        );
        let out = inject_live_script(b"<p>no body");
        assert_eq!(
            String::from_utf8_lossy(&out),
            format!("<p>no body{LIVE_SCRIPT_TAG}")
        );
    }

    #[test]
    fn content_types_carry_a_charset_for_text() {
        assert_eq!(content_type("a/b.HTML"), "text/html; charset=utf-8");
        assert_eq!(content_type("x.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("x.svg"), "image/svg+xml; charset=utf-8");
        assert_eq!(content_type("x.woff2"), "font/woff2");
        assert_eq!(content_type("x.pdf"), "application/pdf");
        assert_eq!(content_type("v1.2/README"), "application/octet-stream");
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

    #[test]
    fn other_methods_get_405() {
        let state = LiveState::new(snapshot(), Vec::new());
        let reply = answer(&Method::Post, "/", None, &state);
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
            let reply = answer(&Method::Get, url, None, &state);
            assert_eq!(reply.status, 404, "{url}");
            String::from_utf8_lossy(reply.body.as_ref()).into_owned()
        };
        assert!(body("/clients/a/nope/").starts_with("clients/a/404.html"));
        assert!(body("/clients/b/nope/").starts_with("404.html"));
        assert!(body("/_facilitator/nope").starts_with("404.html"));
        assert!(body("/nope").contains(LIVE_SCRIPT_TAG));
    }
}
