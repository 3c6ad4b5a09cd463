//! Test harness: fixture projects in temporary folders, driven through the
//! real `atelier` binary, and a checker for the links of a built site.

#![allow(dead_code)]

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

/// A masterclass project in a temporary folder.
pub(crate) struct Fixture {
    dir: tempfile::TempDir,
}

/// The outcome of one `atelier` run.
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, showing the output when it differs.
    pub(crate) fn expect(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts stderr contains `text`.
    pub(crate) fn says(&self, text: &str) -> &Run {
        assert!(
            self.stderr.contains(text) || self.stdout.contains(text),
            "expected output to contain {text:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

pub(crate) const MINIMAL_CONFIG: &str = "title: Atelier test\nlanguage: fr\nbase_url: https://example.org/atelier/\nclient_defaults:\n  name: votre entreprise\n  sector: votre secteur\n";

impl Fixture {
    /// An empty folder.
    pub(crate) fn empty() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A project with `atelier.yaml` and the given files.
    pub(crate) fn new(files: &[(&str, &str)]) -> Fixture {
        let fixture = Fixture::empty();
        fixture.write("atelier.yaml", MINIMAL_CONFIG);
        for (path, text) in files {
            fixture.write(path, text);
        }
        fixture
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub(crate) fn write(&self, rel: &str, text: &str) {
        self.write_bytes(rel, text.as_bytes());
    }

    pub(crate) fn write_bytes(&self, rel: &str, bytes: &[u8]) {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, bytes).expect("write");
    }

    pub(crate) fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub(crate) fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    /// Runs `atelier ARGS` in the project folder.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        Run::from(
            Command::new(env!("CARGO_BIN_EXE_atelier"))
                .args(args)
                .current_dir(self.root())
                .output()
                .expect("run atelier"),
        )
    }

    /// `atelier build`, expected to succeed.
    pub(crate) fn build(&self) -> Run {
        let run = self.run(&["build"]);
        run.expect(0);
        run
    }

    /// Runs a build expected to fail: exit 1, every `expected` text in the
    /// output, no panic, and the output folder still equal to `before`.
    pub(crate) fn expect_failed_build(&self, before: &[(PathBuf, Vec<u8>)], expected: &[&str]) {
        let run = self.run(&["build"]);
        run.expect(1);
        for text in expected {
            run.says(text);
        }
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert_eq!(
            before,
            self.snapshot("public"),
            "the previous output changed"
        );
    }

    /// Every file under `dir` with its bytes, for before/after comparisons.
    pub(crate) fn snapshot(&self, dir: &str) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<(PathBuf, Vec<u8>)> = walkdir::WalkDir::new(self.path(dir))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| (e.path().to_path_buf(), fs::read(e.path()).expect("read")))
            .collect();
        files.sort();
        files
    }
}

/// A front-matter page.
pub(crate) fn page(front: &str, body: &str) -> String {
    format!("---\n{front}\n---\n{body}")
}

/// Checks every `href`/`src` of every HTML file under `site`: internal links
/// must be relative and resolve to a file (and anchor) under `site`.
/// Returns the problems found.
pub(crate) fn broken_links(site: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let html_files: Vec<PathBuf> = walkdir::WalkDir::new(site)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .map(|e| e.path().to_path_buf())
        .collect();
    for file in &html_files {
        if file.file_name().is_some_and(|n| n == "404.html") {
            continue;
        }
        let html = fs::read_to_string(file).expect("read html");
        for link in attribute_values(&html, &["href", "src"]) {
            if link.starts_with("http://")
                || link.starts_with("https://")
                || link.starts_with("mailto:")
                || link.starts_with("data:")
                || link.starts_with("javascript:")
            {
                continue;
            }
            if link.starts_with('/') {
                problems.push(format!("{}: absolute internal link {link}", file.display()));
                continue;
            }
            let (path, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                file.clone()
            } else {
                normalize(&file.parent().expect("parent").join(path))
            };
            let target = if target.is_dir() {
                target.join("index.html")
            } else {
                target
            };
            if !target.starts_with(site) || !target.is_file() {
                problems.push(format!("{}: broken link {link}", file.display()));
                continue;
            }
            if !fragment.is_empty() && target.extension().is_some_and(|x| x == "html") {
                let text = fs::read_to_string(&target).expect("read target");
                let ids: HashSet<String> = attribute_values(&text, &["id", "name"])
                    .into_iter()
                    .collect();
                if !ids.contains(fragment) {
                    problems.push(format!("{}: missing anchor {link}", file.display()));
                }
            }
        }
    }
    problems
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Values of the given attributes (double-quoted) in `html`.
pub(crate) fn attribute_values(html: &str, names: &[&str]) -> Vec<String> {
    let mut values = Vec::new();
    for name in names {
        let needle = format!(" {name}=\"");
        let mut rest = html;
        while let Some(at) = rest.find(&needle) {
            rest = &rest[at + needle.len()..];
            if let Some(end) = rest.find('"') {
                values.push(rest[..end].replace("&amp;", "&"));
                rest = &rest[end..];
            }
        }
    }
    values
}

/// `atelier serve` running on a project, stopped when dropped.
pub(crate) struct Server {
    child: Child,
    /// The port it announced.
    pub port: u16,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    stdout: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    /// Starts `atelier serve` in `project` and waits for its address.
    pub(crate) fn start(project: &Path) -> Server {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("probe port");
        let port = probe.local_addr().expect("probe address").port();
        drop(probe);
        let mut child = Command::new(env!("CARGO_BIN_EXE_atelier"))
            .args(["serve", "--port", &port.to_string()])
            .current_dir(project)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start atelier serve");
        let stdout = child.stdout.take().expect("stdout");
        let stderr_pipe = child.stderr.take().expect("stderr");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let collected = std::sync::Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
                let mut text = collected.lock().unwrap_or_else(|p| p.into_inner());
                text.push_str(&line);
                text.push('\n');
            }
        });
        let (sender, receiver) = channel();
        let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let collected = std::sync::Arc::clone(&printed);
        // Keeps draining stdout, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut text = collected.lock().unwrap_or_else(|p| p.into_inner());
                text.push_str(&line);
                text.push('\n');
                drop(text);
                let _ = sender.send(line);
            }
        });
        let mut server = Server {
            child,
            port: 0,
            stderr,
            stdout: printed,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(line) = receiver.recv_timeout(Duration::from_millis(200))
                && let Some(rest) = line.strip_prefix("Serving http://127.0.0.1:")
                && let Some(port) = rest.split('/').next().and_then(|p| p.parse().ok())
            {
                server.port = port;
                return server;
            }
        }
        panic!("atelier serve did not announce its address within 20 s");
    }
}

impl Server {
    /// The server's process id (to read its memory in /proc).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server printed on stdout so far.
    pub(crate) fn stdout(&self) -> String {
        self.stdout
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What the server printed on stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file under `dir` whose bytes contain `needle`, relative to `dir`.
pub(crate) fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            fs::read(e.path()).is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(needle))
        })
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .unwrap_or(e.path())
                .display()
                .to_string()
        })
        .collect()
}

/// `GET path` from a preview server on 127.0.0.1 (`Connection: close`):
/// status and body, a chunked body decoded.
pub(crate) fn http_get(port: u16, path: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let mut body = response[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
}
