//! `atelier serve`: live preview. Builds every version into memory, serves the
//! last good build over HTTP ([`http`]), watches the sources ([`watch`]),
//! rebuilds what changed ([`session`]) and pushes reload events to open tabs
//! over Server-Sent Events ([`state`]).

pub mod access;
pub mod files;
pub mod follow;
pub mod http;
pub mod listen;
pub mod ranges;
pub mod session;
pub mod state;
pub mod watch;

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use crate::error::{Diagnostic, Error};
use access::{Access, Secret};
use session::{Changes, FACILITATOR_PREFIX, Group, Session};
use state::{Change, LiveState, Scope, Snapshot};

/// What `atelier serve` was asked.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Port to try first.
    pub port: u16,
    /// Address to bind.
    pub bind: String,
    /// Preview only this client's version.
    pub client: Option<String>,
    /// Open the browser.
    pub open: bool,
    /// Print only errors.
    pub quiet: bool,
    /// Print the time of each rebuild phase.
    pub verbose: bool,
}

/// Where `serve` tells the user what happens: the caller (the terminal,
/// in `main.rs`) decides how it is shown; the library prints nothing.
pub trait Reporter: Send + Sync {
    /// News: the addresses served, each rebuild (stdout in a terminal).
    fn info(&self, text: &str);
    /// Problems and details: build errors, warnings, timings (stderr).
    fn problem(&self, text: &str);
}

/// Ports tried after the asked one is taken.
const PORT_ATTEMPTS: u16 = 20;

/// Runs the preview server until the process is stopped.
pub fn run(
    root: Option<&Path>,
    options: &ServeOptions,
    reporter: Arc<dyn Reporter>,
) -> Result<(), Error> {
    let (listener, port) = bind(&options.bind, options.port)?;
    let out: &dyn Reporter = reporter.as_ref();
    let say = |text: String| {
        if !options.quiet {
            out.info(&text);
        }
    };
    if port != options.port {
        say(format!(
            "Port {} is taken: serving on {port} instead (choose one with --port).",
            options.port
        ));
    }

    let mut generation = 1;
    let opened = Session::open(root, options.client.clone());
    let (mut session, state) = match opened {
        Ok(mut session) => {
            let state = match session.build(generation, Group::All) {
                Ok((snapshot, versions, report)) => {
                    print_warnings(&report.warnings, options.quiet, out);
                    say(format!(
                        "Built {} in {:.0} ms.",
                        crate::plural::count(report.pages, "page", "pages"),
                        report.millis
                    ));
                    LiveState::new(snapshot, versions)
                }
                Err(problems) => {
                    print_errors(&problems, out);
                    let state = LiveState::new(error_snapshot(&problems), Vec::new());
                    state.fail(session.overlay_errors(&problems));
                    state
                }
            };
            (Some(session), Arc::new(state))
        }
        Err(Error::Content(problems)) => {
            print_errors(&problems, out);
            let state = LiveState::new(error_snapshot(&problems), Vec::new());
            (None, Arc::new(state))
        }
        Err(other) => return Err(other),
    };
    let root = match (&session, root) {
        (Some(session), _) => session.root().to_path_buf(),
        (None, Some(root)) => root.to_path_buf(),
        (None, None) => {
            let cwd = std::env::current_dir().map_err(|e| Error::io("cannot read", ".", e))?;
            crate::project::find_root(&cwd).unwrap_or(cwd)
        }
    };

    // Watching starts before the first request is answered: an edit made as
    // soon as a page is open is never missed.
    let mut watcher = watch::Watcher::start(&root)
        .map_err(|e| Error::io("cannot watch", &root, std::io::Error::other(e)))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::io("cannot read the address of", &root, e))?
        .ip();
    let secret = if bound.is_loopback() {
        None
    } else {
        Some(Secret::generate().map_err(|e| {
            Error::io(
                "cannot make the facilitator key from",
                Path::new("/dev/urandom"),
                e,
            )
        })?)
    };
    let access = Access::new(bound, port, secret.clone(), options.client.is_some());
    let served = Arc::clone(&state);
    let stopped = Arc::clone(&reporter);
    std::thread::Builder::new()
        .name("atelier-http".into())
        .spawn(move || {
            if let Err(error) = http::serve_with(listener, served, access) {
                stopped.problem(&format!("error: the preview server stopped: {error}"));
                std::process::exit(1);
            }
        })
        .map_err(|e| Error::io("cannot start the server thread for", &root, e))?;
    let url = match &secret {
        None => format!("http://{}:{port}/", url_host(bound)),
        Some(secret) => {
            let host = if bound.is_unspecified() {
                lan_address().unwrap_or(bound)
            } else {
                bound
            };
            let host = url_host(host);
            say(format!(
                "Serving http://{host}:{port}/ on the local network (Ctrl+C to stop): \
                 participants see the participant version only."
            ));
            // Printed even with --quiet: there is no other way to get it.
            out.info(&format!(
                "Facilitator view, with this run's key (keep it to yourself; it opens the \
                 facilitator notes and the version switcher): \
                 http://{host}:{port}/_facilitator/?key={}",
                secret.as_str()
            ));
            format!("http://{host}:{port}/")
        }
    };
    if secret.is_none() {
        say(format!("Serving {url} (Ctrl+C to stop)"));
        say(format!("Facilitator view: {url}_facilitator/"));
    }
    if options.open {
        let _ = std::process::Command::new("xdg-open")
            .arg(&url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }

    while let Some(paths) = watcher.next_batch() {
        let Some(changes) = Changes::classify(&root, &paths) else {
            continue;
        };
        generation += 1;
        // A server that started on a broken project opens it now.
        if session.is_none() {
            match Session::open(Some(&root), options.client.clone()) {
                Ok(fresh) => session = Some(fresh),
                Err(error) => {
                    let problems = problems_of(error);
                    print_errors(&problems, out);
                    continue;
                }
            }
        }
        let Some(session) = session.as_mut() else {
            continue;
        };
        let change = if changes.css_only {
            Change::Css
        } else {
            Change::Reload
        };
        // Participant versions first, published as soon as they are ready;
        // the facilitator versions right after (their tabs wait for them).
        let first = session
            .apply(&changes)
            .map_err(problems_of)
            .and_then(|()| session.build(generation, Group::Participant));
        match first {
            Ok((mut snapshot, versions, report)) => {
                snapshot.adopt(&state.current(), |folder| {
                    folder.starts_with(FACILITATOR_PREFIX)
                });
                state.publish_scoped(
                    snapshot,
                    versions,
                    change,
                    Scope::Except(FACILITATOR_PREFIX.into()),
                );
                // Printed once the tabs are told: not on the way to the reload.
                print_warnings(&report.warnings, options.quiet, out);
                report_rebuild(&report, options, out, &say);
            }
            Err(problems) => {
                print_errors(&problems, out);
                state.fail(session.overlay_errors(&problems));
                continue;
            }
        }
        match session.build(generation, Group::Facilitator) {
            Ok((mut snapshot, versions, report)) => {
                snapshot.adopt(&state.current(), |folder| {
                    !folder.starts_with(FACILITATOR_PREFIX)
                });
                state.publish_scoped(
                    snapshot,
                    versions,
                    change,
                    Scope::Only(FACILITATOR_PREFIX.into()),
                );
                if options.verbose {
                    report_rebuild(&report, options, out, &say);
                }
                session.forget_unused();
            }
            Err(problems) => {
                print_errors(&problems, out);
                state.fail(session.overlay_errors(&problems));
            }
        }
    }
    Ok(())
}

fn report_rebuild(
    report: &session::RebuildReport,
    options: &ServeOptions,
    out: &dyn Reporter,
    say: &dyn Fn(String),
) {
    if options.verbose {
        for (phase, time) in &report.timings {
            out.problem(&format!(
                "  {phase:<28} {:>8.1} ms",
                time.as_secs_f64() * 1000.0
            ));
        }
    }
    say(format!(
        "Rebuilt in {:.0} ms ({} rendered, the others unchanged).",
        report.millis,
        crate::plural::count(report.rendered, "page", "pages")
    ));
}

fn problems_of(error: Error) -> Vec<Diagnostic> {
    match error {
        Error::Content(problems) => problems,
        other => vec![Diagnostic::general(other.to_string())],
    }
}

fn print_errors(problems: &[Diagnostic], out: &dyn Reporter) {
    for problem in problems {
        out.problem(&problem.to_string());
    }
    let errors = problems.iter().filter(|d| d.is_error()).count();
    out.problem(&format!(
        "{}: still serving the last good version; fix the file and save.",
        crate::plural::count(errors, "error", "errors")
    ));
}

fn print_warnings(warnings: &[Diagnostic], quiet: bool, out: &dyn Reporter) {
    if !quiet {
        for warning in warnings {
            out.problem(&warning.to_string());
        }
    }
}

/// Listens on `bind:port`, or the next free port.
fn bind(bind: &str, port: u16) -> Result<(TcpListener, u16), Error> {
    let mut last = None;
    for candidate in (0..PORT_ATTEMPTS).filter_map(|offset| port.checked_add(offset)) {
        match TcpListener::bind((bind, candidate)) {
            Ok(listener) => {
                listen::prepare(&listener)
                    .map_err(|e| Error::io("cannot prepare", format!("{bind}:{candidate}"), e))?;
                return Ok((listener, candidate));
            }
            Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => last = Some(error),
            Err(error) => {
                return Err(Error::io(
                    "cannot listen on",
                    format!("{bind}:{candidate}"),
                    error,
                ));
            }
        }
    }
    let end = port.saturating_add(PORT_ATTEMPTS - 1);
    Err(Error::io(
        format!("ports {port} to {end} are all taken (choose another with --port); last tried"),
        format!("{bind}:{end}"),
        last.unwrap_or_else(|| std::io::ErrorKind::AddrInUse.into()),
    ))
}

/// `ip` as it stands in a URL (`[…]` around IPv6).
fn url_host(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        std::net::IpAddr::V4(ip) => ip.to_string(),
    }
}

/// This machine's address on the local network, for participants' phones.
/// (Connecting a UDP socket sends nothing; it only picks the route.)
fn lan_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// A page explaining that the first build failed, served until it succeeds.
fn error_snapshot(problems: &[Diagnostic]) -> Snapshot {
    let mut html = String::from(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>atelier: build failed</title></head><body><h1>The build failed</h1><p>Fix the files below and save: this page reloads by itself.</p><pre>",
    );
    for problem in problems {
        crate::html::escape_into(&problem.to_string(), &mut html);
        html.push('\n');
    }
    html.push_str("</pre></body></html>");
    let page: Arc<[u8]> = Arc::from(html.into_bytes());
    Snapshot::from_files(
        [
            ("index.html".to_string(), Arc::clone(&page)),
            ("404.html".to_string(), page),
        ],
        0,
    )
}
