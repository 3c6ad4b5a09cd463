//! The preview server's HTTP layer: serves the last good build held in
//! [`LiveState`] and streams live-reload events to open tabs.
//!
//! # Threads
//!
//! A small HTTP/1.1 server on `std` alone (no HTTP crate: tiny_http 0.12's
//! connection pool can leave a new connection unread while other
//! connections sit idle, which breaks "one stuck client never blocks the
//! others"):
//!
//! - the accept loop only accepts, sets socket timeouts and starts one
//!   thread per connection, at most [`MAX_CONNECTIONS`] (beyond that: 503);
//!   an accept error (no file descriptor left…) is waited out, never fatal;
//! - a connection thread reads requests within deadlines (a request head
//!   must arrive within [`HEAD_TIMEOUT`], an idle keep-alive connection is
//!   closed after [`IDLE_TIMEOUT`]), asks the worker pool for the answer and
//!   writes it; a client that stops reading is dropped after
//!   [`WRITE_TIMEOUT`], and only ever holds its own thread;
//! - answers are computed by a fixed pool of [`WORKERS`] threads fed by a
//!   queue of [`QUEUE`] requests (a full queue answers 503);
//! - `GET /__atelier/events` turns its connection into a Server-Sent Events
//!   stream, at most [`MAX_STREAMS`] at once (beyond that: 503).
//!
//! # What is served
//!
//! Only files of the [`Snapshot`], in memory: a URL is percent-decoded and
//! checked (no `..` or `.` segment, no backslash, no `//`, no drive letter, no
//! encoded `/` or `\`, no double encoding, no NUL), then looked up as a key.
//! Folders answer with their `index.html`; a folder named without its final
//! `/` is redirected; there are no directory listings. Every HTML page served
//! (including 404 pages) gets the live script injected before `</body>`.
//!
//! Internal routes live under `/__atelier/`: `livereload.js` (the client
//! script), `versions.json` (the toolbar's versions), `errors.json` (the
//! current build errors) and `events` (the event stream).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{
    Receiver, RecvTimeoutError, SyncSender, TrySendError, channel, sync_channel,
};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::state::{LiveState, Snapshot, build_id, errors_json};

/// Threads computing answers.
pub const WORKERS: usize = 8;
/// Requests waiting for a worker before new ones get a 503.
pub const QUEUE: usize = 256;
/// Open connections (event streams included) before new ones get a 503.
pub const MAX_CONNECTIONS: usize = 512;
/// Event streams open at once before new ones get a 503.
pub const MAX_STREAMS: usize = 256;
/// Idle time after which an event stream sends a `: ping` comment.
pub const PING_INTERVAL: Duration = Duration::from_secs(15);
/// Time a client has to send a whole request head once it started one.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a kept-alive connection may stay idle between requests.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one write to a client may block before the connection is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a connection waits for a worker's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest request head (request line and headers) accepted.
const MAX_HEAD: usize = 16 * 1024;
/// Most header lines accepted.
const MAX_HEADERS: usize = 100;
/// Largest request body read (and ignored) to keep a connection alive.
const MAX_IGNORED_BODY: u64 = 64 * 1024;
/// Bodies up to this size get an ETag from their content; larger ones one
/// from their build.
pub const HASHED_MAX: usize = 1024 * 1024;

/// The tag injected into every HTML page served. It names the build the
/// page comes from: a tab that missed an event while it was loading sees, at
/// its first `hello`, that the server has moved on, and reloads.
fn live_script_tag(build: &str) -> String {
    format!(r#"<script src="/__atelier/livereload.js" data-build="{build}" defer></script>"#)
}
/// The client script, served at `/__atelier/livereload.js`.
const LIVERELOAD_JS: &str = include_str!("livereload.js");
const EVENTS_PATH: &str = "/__atelier/events";

/// Serves `state` on an already-bound listener until the process ends.
///
/// Returns only if the worker threads cannot be started; accept errors
/// (such as running out of file descriptors) are waited out.
pub fn serve(listener: TcpListener, state: Arc<LiveState>) -> io::Result<()> {
    let server = Arc::new(Shared {
        jobs: spawn_workers(&state)?,
        state,
        connections: Arc::new(AtomicUsize::new(0)),
        streams: Arc::new(AtomicUsize::new(0)),
    });
    let mut failures: u32 = 0;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                failures = 0;
                server.start_connection(stream);
            }
            Err(err) => {
                if failures == 0 {
                    eprintln!("atelier serve: cannot accept a connection ({err}), retrying");
                }
                failures = failures.saturating_add(1);
                thread::sleep(Duration::from_millis(
                    10u64.saturating_mul(failures.min(20).into()),
                ));
            }
        }
    }
}

/// What every connection thread shares.
struct Shared {
    jobs: SyncSender<Job>,
    state: Arc<LiveState>,
    connections: Arc<AtomicUsize>,
    streams: Arc<AtomicUsize>,
}

impl Shared {
    /// Starts a thread for `stream`, or answers 503 if there are too many.
    /// Never blocks for long: socket writes here have a short timeout.
    fn start_connection(self: &Arc<Self>, mut stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let Some(slot) = Slot::acquire(&self.connections, MAX_CONNECTIONS) else {
            let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
            let reply = Reply::text(503, "Too many connections, retry.\n");
            let _ = write_reply(&mut stream, &reply, false, false);
            return;
        };
        if stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_err() {
            return;
        }
        let shared = Arc::clone(self);
        // If the thread cannot start, the connection is closed.
        let _ = thread::Builder::new()
            .name("atelier-http-conn".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                let _slot = slot;
                shared.connection(stream);
            });
    }

    /// Answers requests on one connection until it closes, fails or idles.
    fn connection(&self, stream: TcpStream) {
        let Ok(reader) = stream.try_clone() else {
            return;
        };
        let mut reader = BufReader::new(reader);
        let mut writer = stream;
        loop {
            // Wait for the next request, then give it a deadline.
            match wait_for_data(&mut reader, Instant::now() + IDLE_TIMEOUT) {
                Ok(true) => {}
                Ok(false) | Err(_) => return,
            }
            let request = match read_request(&mut reader, Instant::now() + HEAD_TIMEOUT) {
                Ok(request) => request,
                Err(refusal) => {
                    if let Some(reply) = refusal.reply()
                        && write_reply(&mut writer, &reply, false, false).is_ok()
                    {
                        linger(&mut reader, &writer);
                    }
                    return;
                }
            };
            if request.method == "GET" && split_url(&request.target).0 == EVENTS_PATH {
                self.stream_events(writer);
                return;
            }
            let reply = self.answer(&request);
            let head_only = request.method == "HEAD";
            if write_reply(&mut writer, &reply, head_only, request.keep_alive).is_err()
                || !request.keep_alive
            {
                return;
            }
        }
    }

    /// Asks the worker pool for the answer to `request`.
    fn answer(&self, request: &Request) -> Reply {
        let (send, receive) = channel();
        let job = Job {
            method: request.method.clone(),
            target: request.target.clone(),
            if_none_match: request.if_none_match.clone(),
            reply: send,
        };
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                return Reply::text(503, "Server busy, retry.\n");
            }
        }
        receive
            .recv_timeout(ANSWER_TIMEOUT)
            .unwrap_or_else(|_| Reply::text(500, "Internal error.\n"))
    }

    /// Turns the connection into an event stream: the head, then `hello`,
    /// then every event, with a ping when idle; ends when a write fails.
    fn stream_events(&self, mut out: TcpStream) {
        let Some(_slot) = Slot::acquire(&self.streams, MAX_STREAMS) else {
            let reply = Reply::text(503, "Too many live-reload streams.\n");
            let _ = write_reply(&mut out, &reply, false, false);
            return;
        };
        // Subscribe before reading the state, so no event falls in between.
        let events = self.state.subscribe();
        let hello = hello_message(&self.state);
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

/// Closes after an error reply without losing it: closing a socket that
/// still has unread request bytes sends a reset, which can destroy the reply
/// before the client reads it. So: stop writing, then read and drop what
/// the client still sends, for a short while.
fn linger<R: Read + AsTcp>(reader: &mut BufReader<R>, writer: &TcpStream) {
    let _ = writer.shutdown(std::net::Shutdown::Write);
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut left: usize = 256 * 1024;
    let mut chunk = [0u8; 4096];
    while left > 0 && set_deadline(reader, deadline).is_ok() {
        match reader.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(read) => left = left.saturating_sub(read),
        }
    }
}

fn send(out: &mut impl Write, text: &str) -> io::Result<()> {
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// One parsed request (its body, if any, already read and ignored).
#[derive(Debug, PartialEq, Eq)]
struct Request {
    method: String,
    target: String,
    if_none_match: Option<String>,
    keep_alive: bool,
}

/// Why a request could not be read.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// The client went away or was too slow: close without answering.
    Gone,
    /// Answer with this status, then close.
    Status(u16),
}

impl Refusal {
    fn reply(&self) -> Option<Reply> {
        let Refusal::Status(status) = *self else {
            return None;
        };
        let text = match status {
            405 => "Method not allowed: use GET or HEAD.\n",
            408 => "Request timeout.\n",
            413 => "Request body too large.\n",
            431 => "Request head too large.\n",
            505 => "HTTP version not supported.\n",
            _ => "Bad request.\n",
        };
        let reply = Reply::text(status, text);
        Some(if status == 405 {
            reply.with("Allow", "GET, HEAD".into())
        } else {
            reply
        })
    }
}

impl From<io::Error> for Refusal {
    fn from(err: io::Error) -> Refusal {
        match err.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Refusal::Status(408),
            _ => Refusal::Gone,
        }
    }
}

/// Sets the socket's read timeout to what is left before `deadline`.
fn set_deadline<R: Read + AsTcp>(reader: &mut BufReader<R>, deadline: Instant) -> io::Result<()> {
    let left = deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "deadline passed"))?;
    reader.get_ref().tcp().set_read_timeout(Some(left))
}

/// Gives access to the socket under a reader (a trait so tests can use
/// any `TcpStream`).
trait AsTcp {
    fn tcp(&self) -> &TcpStream;
}

impl AsTcp for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

/// Waits until a byte can be read: `false` if the client closed first.
fn wait_for_data<R: Read + AsTcp>(
    reader: &mut BufReader<R>,
    deadline: Instant,
) -> io::Result<bool> {
    if !reader.buffer().is_empty() {
        return Ok(true);
    }
    set_deadline(reader, deadline)?;
    Ok(!reader.fill_buf()?.is_empty())
}

/// Reads one line (without its CR LF) before `deadline`, at most `*budget`
/// bytes, which it decreases.
fn read_line<R: Read + AsTcp>(
    reader: &mut BufReader<R>,
    deadline: Instant,
    budget: &mut usize,
) -> Result<String, Refusal> {
    let mut line = Vec::new();
    loop {
        set_deadline(reader, deadline)?;
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Err(Refusal::Gone);
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        if take > *budget {
            return Err(Refusal::Status(431));
        }
        *budget -= take;
        line.extend_from_slice(&available[..take]);
        reader.consume(take);
        if done {
            while line.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
                line.pop();
            }
            return String::from_utf8(line).map_err(|_| Refusal::Status(400));
        }
    }
}

/// Reads a request head and skips its body, all before `deadline`.
fn read_request<R: Read + AsTcp>(
    reader: &mut BufReader<R>,
    deadline: Instant,
) -> Result<Request, Refusal> {
    let mut budget = MAX_HEAD;
    let mut line = read_line(reader, deadline, &mut budget)?;
    // Tolerate empty lines before a request (RFC 9112 §2.2).
    for _ in 0..4 {
        if !line.is_empty() {
            break;
        }
        line = read_line(reader, deadline, &mut budget)?;
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Status(400));
    };
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        v if v.starts_with("HTTP/") => return Err(Refusal::Status(505)),
        _ => return Err(Refusal::Status(400)),
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) || target.is_empty() {
        return Err(Refusal::Status(400));
    }
    let mut connection = String::new();
    let mut if_none_match = None;
    let mut length: u64 = 0;
    let mut chunked = false;
    for count in 0.. {
        let header = read_line(reader, deadline, &mut budget)?;
        if header.is_empty() {
            break;
        }
        if count >= MAX_HEADERS {
            return Err(Refusal::Status(431));
        }
        let Some((name, value)) = header.split_once(':') else {
            return Err(Refusal::Status(400));
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "connection" => connection = value.to_ascii_lowercase(),
            "if-none-match" => if_none_match = Some(value.to_string()),
            "content-length" => {
                length = value.parse().map_err(|_| Refusal::Status(400))?;
            }
            "transfer-encoding" => chunked = true,
            _ => {}
        }
    }
    let has_body = chunked || length > 0;
    if has_body && method != "GET" && method != "HEAD" {
        // Answer without reading what may never come; the connection closes.
        return Err(Refusal::Status(405));
    }
    if chunked || length > MAX_IGNORED_BODY {
        return Err(Refusal::Status(413));
    }
    let mut body = reader.take(length);
    loop {
        set_deadline(body.get_mut(), deadline)?;
        if body.read(&mut [0u8; 4096])? == 0 {
            break;
        }
    }
    if body.limit() > 0 {
        return Err(Refusal::Gone);
    }
    let keep_alive = if http11 {
        !connection.contains("close")
    } else {
        connection.contains("keep-alive")
    };
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        if_none_match,
        keep_alive,
    })
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
        out.write_all(reply.body.as_ref())?;
    }
    out.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        304 => "Not Modified",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
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

/// Work for the pool: what to answer, and where to send the answer.
struct Job {
    method: String,
    target: String,
    if_none_match: Option<String>,
    reply: std::sync::mpsc::Sender<Reply>,
}

/// Starts the worker pool; returns the sending end of its queue.
fn spawn_workers(state: &Arc<LiveState>) -> io::Result<SyncSender<Job>> {
    let (sender, receiver) = sync_channel::<Job>(QUEUE);
    let receiver = Arc::new(Mutex::new(receiver));
    for index in 0..WORKERS {
        let receiver = Arc::clone(&receiver);
        let state = Arc::clone(state);
        thread::Builder::new()
            .name(format!("atelier-http-{index}"))
            .spawn(move || worker(&receiver, &state))?;
    }
    Ok(sender)
}

fn worker(receiver: &Mutex<Receiver<Job>>, state: &LiveState) {
    loop {
        let next = receiver.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(job) = next else { return };
        // A bug in one answer must not shrink the pool: the connection then
        // sees the sender dropped and answers 500.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let reply = answer(
                &job.method,
                &job.target,
                job.if_none_match.as_deref(),
                state,
            );
            let _ = job.reply.send(reply);
        }));
    }
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
    /// `Content-Length`: the body's length, or for a 304 the length of the
    /// body a 200 would have had.
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

/// The answer to `method url` (HEAD is answered like GET; the body is left
/// out when writing).
fn answer(method: &str, url: &str, if_none_match: Option<&str>, state: &LiveState) -> Reply {
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
        "/__atelier/versions.json" => return Reply::json(versions_json(state)),
        "/__atelier/errors.json" => return Reply::json(errors_json(&state.errors())),
        // Only HEAD gets here: GET streams on its own thread.
        EVENTS_PATH => return Reply::new(200, "text/event-stream", Body::Owned(Vec::new())),
        _ => {}
    }
    let snapshot = state.current();
    match resolve(path, &snapshot) {
        Target::File(key) => {
            let bytes = match snapshot.file(&key) {
                Some(Ok(bytes)) => bytes,
                Some(Err(problem)) => {
                    return Reply::text(500, &format!("This page could not be made:\n{problem}\n"));
                }
                None => return not_found("", &snapshot),
            };
            let kind = content_type(&key);
            let body = if is_html(&key) {
                Body::Owned(inject_live_script(&bytes, snapshot.generation))
            } else {
                Body::Shared(bytes)
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
            Body::Owned(inject_live_script(&page, snapshot.generation)),
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
fn inject_live_script(html: &[u8], generation: u64) -> Vec<u8> {
    const CLOSE: &[u8] = b"</body";
    let at = html
        .windows(CLOSE.len())
        .rposition(|w| w.eq_ignore_ascii_case(CLOSE))
        .unwrap_or(html.len());
    let tag = live_script_tag(&build_id(generation));
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
        let tag = live_script_tag(&build_id(3));
        let out = inject_live_script(b"<html><BODY>x</Body></html>", 3);
        assert_eq!(
            String::from_utf8_lossy(&out),
            format!("<html><BODY>x{tag}</Body></html>")
        );
        let out = inject_live_script(b"<p>no body", 3);
        assert_eq!(String::from_utf8_lossy(&out), format!("<p>no body{tag}"));
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

    /// Parses `raw` as sent by a client over a real loopback socket.
    fn parse(raw: &[u8]) -> Result<Request, Refusal> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|_| Refusal::Gone)?;
        let addr = listener.local_addr().map_err(|_| Refusal::Gone)?;
        let mut client = TcpStream::connect(addr).map_err(|_| Refusal::Gone)?;
        client.write_all(raw).map_err(|_| Refusal::Gone)?;
        drop(client.shutdown(std::net::Shutdown::Write));
        let (server, _) = listener.accept().map_err(|_| Refusal::Gone)?;
        let mut reader = BufReader::new(server);
        read_request(&mut reader, Instant::now() + Duration::from_secs(5))
    }

    #[test]
    fn requests_are_parsed() {
        let get = parse(b"GET /a?b HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"1\"\r\n\r\n");
        assert_eq!(
            get,
            Ok(Request {
                method: "GET".into(),
                target: "/a?b".into(),
                if_none_match: Some("\"1\"".into()),
                keep_alive: true,
            })
        );
        let close = parse(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n");
        assert!(close.is_ok_and(|r| !r.keep_alive));
        let old = parse(b"HEAD / HTTP/1.0\r\n\r\n");
        assert!(old.is_ok_and(|r| !r.keep_alive && r.method == "HEAD"));
        let old_kept = parse(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert!(old_kept.is_ok_and(|r| r.keep_alive));
        let with_body = parse(b"GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
        assert!(with_body.is_ok());
    }

    #[test]
    fn bad_requests_are_refused() {
        assert_eq!(parse(b"GET /\r\n\r\n"), Err(Refusal::Status(400)));
        assert_eq!(parse(b"GET / HTTP/2.0\r\n\r\n"), Err(Refusal::Status(505)));
        assert_eq!(parse(b"get / HTTP/1.1\r\n\r\n"), Err(Refusal::Status(400)));
        assert_eq!(parse(b"GET  / HTTP/1.1\r\n\r\n"), Err(Refusal::Status(400)));
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nNoColon\r\n\r\n"),
            Err(Refusal::Status(400))
        );
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"),
            Err(Refusal::Status(405))
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(Refusal::Status(413))
        );
        let huge = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(parse(huge.as_bytes()), Err(Refusal::Status(431)));
        let many = format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            "X: y\r\n".repeat(MAX_HEADERS + 1)
        );
        assert_eq!(parse(many.as_bytes()), Err(Refusal::Status(431)));
        // The client hung up half-way.
        assert_eq!(parse(b"GET /ind"), Err(Refusal::Gone));
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nContent-Length: 9\r\n\r\nab"),
            Err(Refusal::Gone)
        );
        assert_eq!(
            parse(b"GET /\xff HTTP/1.1\r\n\r\n"),
            Err(Refusal::Status(400))
        );
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

    #[test]
    fn other_methods_get_405() {
        let state = LiveState::new(snapshot(), Vec::new());
        let reply = answer("POST", "/", None, &state);
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
            let reply = answer("GET", url, None, &state);
            assert_eq!(reply.status, 404, "{url}");
            String::from_utf8_lossy(reply.body.as_ref()).into_owned()
        };
        assert!(body("/clients/a/nope/").starts_with("clients/a/404.html"));
        assert!(body("/clients/b/nope/").starts_with("404.html"));
        assert!(body("/_facilitator/nope").starts_with("404.html"));
        assert!(body("/nope").contains("/__atelier/livereload.js\" data-build="));
    }
}
