//! tiny_http underneath the preview server, and what is done around its
//! weaknesses (tiny_http 0.12):
//!
//! - it never times a connection out: one thread per connection waits for
//!   the next request head for ever. Here the listening socket carries
//!   `SO_RCVTIMEO`/`SO_SNDTIMEO` of [`IO_TIMEOUT`], which Linux copies onto
//!   every accepted socket: a connection that sends no complete head line,
//!   or does not read its answer, for that long is closed by tiny_http's
//!   own read or write failing;
//! - its accept thread stops at the first accept error (no file descriptor
//!   left, or the accept timeout above when nobody connects), and can panic
//!   when it cannot duplicate an accepted socket. [`run`] notices (an error
//!   message, or a panic inside tiny_http, counted by a panic hook
//!   installed once) and starts a new tiny_http server on the same socket,
//!   while the old one's remaining connections are still answered by a
//!   draining thread;
//! - its pool of connection threads can leave an accepted connection
//!   queued, unread, while its idle threads sleep (a lost wake-up: seen
//!   over sockets, a connection waited until the pool was dropped five
//!   seconds later, though three threads were idle). Every new task the
//!   pool is given wakes a thread, which takes the oldest queued one; so a
//!   [`NUDGE_INTERVAL`] ticker connects to the server, sends a request for
//!   [`NUDGE_PATH`] (never answered) and closes. That also keeps its accept
//!   call from timing out when nobody connects, and tells a live server
//!   from one whose accept thread stopped in a way the panic hook did not
//!   see: no request at all for [`STALL`], and another server is started.
//!   A nudge takes one
//!   queued connection at a time, so connections must not queue by the
//!   hundred: the listening socket carries `TCP_DEFER_ACCEPT`, and the
//!   kernel hands over a connection only once its first bytes arrived.
//!   Connections that send nothing never reach the pool (for
//!   [`IO_TIMEOUT`]; then they do, and time out as above);
//! - the soft limit on open files is raised to the hard one at start
//!   ([`raise_file_limit`]), since each connection holds two descriptors.

use std::io::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::thread;
use std::time::{Duration, Instant};

/// How long a connection may stay silent (no complete head line, no
/// request on a kept-alive connection) or not read its answer.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections the kernel keeps waiting for accept (capped by
/// `net.core.somaxconn`).
const BACKLOG: libc::c_int = 4096;
/// How often a connection to ourselves wakes tiny_http's pool (see above).
pub const NUDGE_INTERVAL: Duration = Duration::from_millis(25);
/// What the nudging connections ask for; never answered.
pub const NUDGE_PATH: &str = "/__atelier/nudge";
/// A server that passed on no request (not even a nudge, forty of which
/// are sent a second) for this long has stopped accepting. Far above any
/// pause of a loaded machine: a live server taken for dead keeps its
/// accept thread, which then shares the nudges with its replacement. At
/// 300 ms, on two busy cores, that happened every second and snowballed.
pub const STALL: Duration = Duration::from_secs(2);
/// How often a running server is looked at for a panic of tiny_http's.
const TICK: Duration = Duration::from_millis(20);
/// Highest soft limit on open files asked for.
const FILE_LIMIT: libc::rlim_t = 65_536;
/// A replaced server stops being drained after this long without a request
/// (its connections have timed out by then).
const DRAIN_QUIET: Duration = Duration::from_secs(12);
/// Longest wait between two attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_millis(50);

/// Raises the soft limit on open files towards the hard limit; returns the
/// soft limit now in force (0 if it cannot be read).
pub fn raise_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        let wanted = limit.rlim_max.min(FILE_LIMIT);
        if wanted > limit.rlim_cur {
            let raised = libc::rlimit {
                rlim_cur: wanted,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = wanted;
            }
        }
    }
    limit.rlim_cur
}

/// Prepares a listening socket: the options of every connection are
/// copied from it when the connection is made, so this must happen before
/// the first client connects (right after binding). [`run`] does it again.
pub fn prepare(listener: &TcpListener) -> io::Result<()> {
    // A longer queue of connections waiting to be accepted than std's: a
    // burst of silent ones must not make the kernel drop a real one.
    // SAFETY: listen on the listener's own, already listening, fd.
    if unsafe { libc::listen(listener.as_raw_fd(), BACKLOG) } != 0 {
        return Err(io::Error::last_os_error());
    }
    set_inherited_timeouts(listener, IO_TIMEOUT)
}

/// Sets `SO_RCVTIMEO` and `SO_SNDTIMEO` on the listening socket, inherited
/// by every socket it accepts, and `TCP_DEFER_ACCEPT`.
fn set_inherited_timeouts(listener: &TcpListener, timeout: Duration) -> io::Result<()> {
    let value = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: libc::suseconds_t::from(timeout.subsec_micros() as i32),
    };
    let seconds = libc::c_int::try_from(timeout.as_secs().max(1)).unwrap_or(libc::c_int::MAX);
    // SAFETY: as below, with an int.
    let deferred = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            (&seconds as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if deferred != 0 {
        return Err(io::Error::last_os_error());
    }
    for option in [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO] {
        // SAFETY: the fd is the listener's, alive for the call; the value is
        // a timeval of the size given.
        let done = unsafe {
            libc::setsockopt(
                listener.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                (&value as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if done != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Accepts on `listener` through tiny_http for ever, giving each request to
/// `handle` (which must return quickly: it runs on the accepting side).
///
/// Returns only if the socket cannot be prepared.
pub fn run(
    listener: TcpListener,
    handle: impl Fn(tiny_http::Request) + Send + Sync + 'static,
) -> io::Result<()> {
    raise_file_limit();
    count_tiny_http_panics();
    prepare(&listener)?;
    let mut target = listener.local_addr()?;
    if target.ip().is_unspecified() {
        target.set_ip(match target {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        });
    }
    thread::Builder::new()
        .name("atelier-http-nudge".into())
        .spawn(move || nudge(target))?;
    let handle: Arc<dyn Fn(tiny_http::Request) + Send + Sync> = Arc::new(handle);
    supervise(&listener, &handle)
}

/// Panics raised inside tiny_http's own code since the process started.
static TINY_HTTP_PANICS: AtomicU64 = AtomicU64::new(0);

/// Installs, once, a panic hook that counts the panics located in
/// tiny_http's files and keeps quiet about them (the server is replaced
/// and goes on: a trace would only alarm the trainer); any other panic
/// goes to the hook that was there before.
fn count_tiny_http_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info
                .location()
                .is_some_and(|at| is_tiny_http_file(at.file()))
            {
                TINY_HTTP_PANICS.fetch_add(1, Ordering::SeqCst);
            } else {
                previous(info);
            }
        }));
    });
}

/// Whether a panic's source file is one of tiny_http's (as cargo unpacks
/// it: `…/tiny_http-0.12.0/src/…`).
fn is_tiny_http_file(file: &str) -> bool {
    file.split(['/', '\\'])
        .any(|part| part.starts_with("tiny_http-"))
}

/// Connects to `target`, asks for [`NUDGE_PATH`] and closes, every
/// [`NUDGE_INTERVAL`], for ever.
fn nudge(target: SocketAddr) {
    let ask = format!("GET {NUDGE_PATH} HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n");
    loop {
        thread::sleep(NUDGE_INTERVAL);
        // Refused or out of descriptors: the next tick tries again.
        if let Ok(mut stream) = TcpStream::connect_timeout(&target, Duration::from_secs(1)) {
            let _ = stream.write_all(ask.as_bytes());
        }
    }
}

/// Gives `request` to `handle` unless it is a nudge (dropped unanswered).
fn pass(request: tiny_http::Request, handle: &dyn Fn(tiny_http::Request)) {
    if request.url() == NUDGE_PATH {
        drop(request.into_writer());
        return;
    }
    handle(request);
}

/// Keeps one tiny_http server accepting on `listener`: starts it, hands
/// its requests to `handle`, and starts another when its accept thread
/// stops. Never returns.
fn supervise(listener: &TcpListener, handle: &Arc<dyn Fn(tiny_http::Request) + Send + Sync>) -> ! {
    let mut backoff = Duration::ZERO;
    loop {
        let started = Instant::now();
        let server = listener
            .try_clone()
            .map_err(|e| e.to_string())
            .and_then(|clone| {
                tiny_http::Server::from_listener(clone, None).map_err(|e| e.to_string())
            });
        if let Ok(server) = server {
            serve_until_stopped(&server, handle.as_ref());
            drain(server, Arc::clone(handle));
        }
        // A server that died at once (no descriptor left) is started again
        // after a short, growing pause; one that ran for a while at once.
        backoff = if started.elapsed() < Duration::from_millis(100) {
            (backoff + Duration::from_millis(5)).min(MAX_BACKOFF)
        } else {
            Duration::ZERO
        };
        thread::sleep(backoff);
    }
}

/// Hands requests to `handle` until the server's accept thread stops: it
/// says so with an error, tiny_http panicked, or no request came for
/// [`STALL`].
fn serve_until_stopped(server: &tiny_http::Server, handle: &dyn Fn(tiny_http::Request)) {
    let panics = TINY_HTTP_PANICS.load(Ordering::SeqCst);
    let mut last = Instant::now();
    loop {
        match server.recv_timeout(TICK) {
            Ok(Some(request)) => {
                pass(request, handle);
                last = Instant::now();
            }
            Ok(None) => {}
            Err(_) => return,
        }
        if TINY_HTTP_PANICS.load(Ordering::SeqCst) != panics || last.elapsed() >= STALL {
            return;
        }
    }
}

/// Answers the requests still coming from a replaced server's connections
/// on a thread of its own, until it has been quiet for a while. A nudge
/// counts: it says that the server's accept thread still takes
/// connections (it was only slow), and dropping it then would leave the
/// connections it accepts unanswered but for tiny_http's empty 500.
fn drain(server: tiny_http::Server, handle: Arc<dyn Fn(tiny_http::Request) + Send + Sync>) {
    let work = move || {
        let mut last = Instant::now();
        while last.elapsed() < DRAIN_QUIET {
            match server.recv_timeout(DRAIN_QUIET) {
                Ok(Some(request)) => {
                    pass(request, handle.as_ref());
                    last = Instant::now();
                }
                Ok(None) => return,
                Err(_) => {}
            }
        }
    };
    // Without a thread, the old connections are closed with the server.
    let _ = thread::Builder::new()
        .name("atelier-http-drain".into())
        .spawn(work);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_sockets_inherit_the_timeouts() -> io::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        set_inherited_timeouts(&listener, Duration::from_millis(1500))?;
        let _client = TcpStream::connect(listener.local_addr()?)?;
        let (accepted, _) = listener.accept()?;
        assert_eq!(accepted.read_timeout()?, Some(Duration::from_millis(1500)));
        assert_eq!(accepted.write_timeout()?, Some(Duration::from_millis(1500)));
        assert!(raise_file_limit() > 0);
        Ok(())
    }

    #[test]
    fn tiny_http_files_are_told_from_ours() {
        let registry = "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f";
        assert!(is_tiny_http_file(&format!(
            "{registry}/tiny_http-0.12.0/src/util/refined_tcp_stream.rs"
        )));
        assert!(is_tiny_http_file(
            r"C:\cargo\registry\src\x\tiny_http-0.12.0\src\lib.rs"
        ));
        assert!(!is_tiny_http_file("src/serve/listen.rs"));
        assert!(!is_tiny_http_file("/home/me/tiny_http_notes/src/lib.rs"));
    }
}
