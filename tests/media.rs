//! Media in the build and the preview: a static file the same in every
//! version is written once and hard-linked; the preview serves it from disk
//! (its memory does not grow with the media or the versions) and answers
//! `Range` requests over a real socket, so a browser can seek in a video.

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use common::{Fixture, Server, page};

const CLIENTS: [&str; 3] = ["alpha", "bravo", "charlie"];

/// A project with three clients and `static/media/clip.bin` of `len`
/// bytes (`media/clip.bin` in every version).
fn project_with_media(len: usize) -> (Fixture, Vec<u8>) {
    let f = Fixture::new(&[
        ("content/_index.md", &page("title: Accueil", "Bienvenue.")),
        (
            "content/modules/01-ouverture.md",
            &page(
                "title: Ouverture\nduration: 20 min",
                "Regardez la vidéo : ![extrait](../../static/media/clip.bin)",
            ),
        ),
    ]);
    for client in CLIENTS {
        f.write(
            &format!("clients/{client}/client.yaml"),
            &format!("name: Client {client}\nsector: artisanat\n"),
        );
    }
    let media = pattern(len);
    f.write_bytes("static/media/clip.bin", &media);
    (f, media)
}

/// Bytes that differ from one position to the next (a wrong offset shows).
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn inode_and_links(f: &Fixture, rel: &str) -> (u64, u64) {
    let metadata = std::fs::metadata(f.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    (metadata.ino(), metadata.nlink())
}

#[test]
fn build_writes_a_static_file_once_and_links_it_into_every_version() {
    let (f, media) = project_with_media(64 * 1024);
    f.write("clients/bravo/static/media/own.bin", "à bravo seulement");
    f.build();
    let versions: Vec<String> = std::iter::once(String::from("public/"))
        .chain(CLIENTS.iter().map(|c| format!("public/clients/{c}/")))
        .collect();
    for shared in ["media/clip.bin", "static/atelier.css"] {
        let (inode, links) = inode_and_links(&f, &format!("public/{shared}"));
        assert!(links >= 4, "{shared} has {links} links");
        for version in &versions {
            let rel = format!("{version}{shared}");
            assert_eq!(inode_and_links(&f, &rel).0, inode, "{rel} is another file");
        }
    }
    assert_eq!(
        std::fs::read(f.path("public/clients/alpha/media/clip.bin")).ok(),
        Some(media.clone())
    );
    // A client's own file is its own, and only in its version.
    assert_eq!(
        inode_and_links(&f, "public/clients/bravo/media/own.bin").1,
        1
    );
    assert!(!f.exists("public/clients/alpha/media/own.bin"));

    // The output never links to the sources: editing a source in place
    // leaves the built site as it was.
    let source = f.path("static/media/clip.bin");
    assert_ne!(
        inode_and_links(&f, "static/media/clip.bin").0,
        inode_and_links(&f, "public/media/clip.bin").0
    );
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&source)
        .expect("open");
    file.write_all(b"CHANGED").expect("write");
    drop(file);
    assert_eq!(
        std::fs::read(f.path("public/clients/charlie/media/clip.bin")).ok(),
        Some(media)
    );

    // The next build writes the new bytes, linked again; the facilitator
    // build links its own versions the same way.
    f.build();
    let rebuilt = std::fs::read(f.path("public/clients/charlie/media/clip.bin")).expect("read");
    assert!(rebuilt.starts_with(b"CHANGED"));
    assert!(inode_and_links(&f, "public/media/clip.bin").1 >= 4);
    f.run(&["build", "--facilitator"]).expect(0);
    let (inode, links) = inode_and_links(&f, "public-facilitator/media/clip.bin");
    assert!(links >= 4, "{links} links");
    assert_eq!(
        inode_and_links(&f, "public-facilitator/clients/alpha/media/clip.bin").0,
        inode
    );
}

/// One request over a fresh connection: status, head (lowercase) and body.
fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String, Vec<u8>) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes()).expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of the head");
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, head, response[split + 4..].to_vec())
}

/// The value of header `name` (lowercase) in `head`.
fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

#[test]
fn the_preview_answers_every_form_of_range_request() {
    let len = 300_000;
    let (f, media) = project_with_media(len);
    let server = Server::start(f.root());
    let port = server.port;
    for path in [
        "/media/clip.bin",
        "/clients/bravo/media/clip.bin",
        "/_facilitator/media/clip.bin",
    ] {
        let (status, head, body) = request(port, "GET", path, &[]);
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&head, "accept-ranges"), Some("bytes"), "{head}");
        assert_eq!(header(&head, "content-length"), Some("300000"));
        assert!(header(&head, "transfer-encoding").is_none(), "{head}");
        assert!(body == media, "{path}: whole file");
    }
    let path = "/clients/alpha/media/clip.bin";
    let range = |value: &str| request(port, "GET", path, &[("Range", value)]);
    for (asked, start, end) in [
        ("bytes=0-9", 0, 9),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=299990-", 299_990, 299_999),
        ("bytes=-100", 299_900, 299_999),
        ("bytes=299000-999999", 299_000, 299_999),
        ("bytes=-999999", 0, 299_999),
    ] {
        let (status, head, body) = range(asked);
        assert_eq!(status, 206, "{asked}: {head}");
        assert_eq!(
            header(&head, "content-range"),
            Some(format!("bytes {start}-{end}/{len}").as_str()),
            "{asked}"
        );
        assert_eq!(
            header(&head, "content-length"),
            Some((end - start + 1).to_string().as_str())
        );
        assert!(body == media[start..=end], "{asked}: wrong bytes");
    }
    for asked in ["bytes=300000-", "bytes=400000-500000", "bytes=-0"] {
        let (status, head, _) = range(asked);
        assert_eq!(status, 416, "{asked}");
        assert_eq!(
            header(&head, "content-range"),
            Some("bytes */300000"),
            "{asked}"
        );
    }
    // Several ranges: the whole file. Malformed: ignored.
    for asked in [
        "bytes=0-1,5-9",
        "bytes=9-1",
        "bytes=abc",
        "octets=0-1",
        "bytes=--1",
        "bytes=0-1\u{7f}",
    ] {
        let (status, head, body) = range(asked);
        assert_eq!(status, 200, "{asked}: {head}");
        assert!(body == media, "{asked}");
    }
    // If-Range: the part only while the tag is current.
    let (_, head, _) = request(port, "HEAD", path, &[]);
    let etag = header(&head, "etag").expect("an ETag").to_string();
    let (status, _, body) = request(
        port,
        "GET",
        path,
        &[("Range", "bytes=5-6"), ("If-Range", &etag)],
    );
    assert_eq!((status, body.as_slice()), (206, &media[5..=6]));
    let (status, _, body) = request(
        port,
        "GET",
        path,
        &[("Range", "bytes=5-6"), ("If-Range", "\"old\"")],
    );
    assert_eq!((status, body.len()), (200, len));
    // HEAD: the same head, no body.
    let (status, head, body) = request(port, "HEAD", path, &[("Range", "bytes=10-19")]);
    assert_eq!(
        (status, header(&head, "content-length"), body.len()),
        (206, Some("10"), 0)
    );
    // If-None-Match still wins.
    let (status, _, body) = request(
        port,
        "GET",
        path,
        &[("If-None-Match", &etag), ("Range", "bytes=0-1")],
    );
    assert_eq!((status, body.len()), (304, 0));
    // Files in memory (the theme's) answer ranges too; pages do not.
    let (status, head, body) = request(
        port,
        "GET",
        "/static/atelier.css",
        &[("Range", "bytes=0-3")],
    );
    assert_eq!((status, body.len()), (206, 4), "{head}");
    let (status, head, _) = request(port, "GET", "/", &[("Range", "bytes=0-3")]);
    assert_eq!(status, 200);
    assert!(header(&head, "accept-ranges").is_none());
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}

/// Waits until `path` answers `status`, or fails after 20 s.
fn wait_for(port: u16, path: &str, status: u16) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (got, _, body) = request(port, "GET", path, &[]);
        if got == status {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{path} still answers {got}, not {status}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_media_file_changed_or_deleted_on_disk_is_seen_by_the_preview() {
    let (f, media) = project_with_media(10_000);
    let server = Server::start(f.root());
    let path = "/clients/charlie/media/clip.bin";
    assert!(wait_for(server.port, path, 200) == media);
    f.write("static/media/clip.bin", "nouvelle version");
    let deadline = Instant::now() + Duration::from_secs(20);
    while wait_for(server.port, path, 200) != b"nouvelle version" {
        assert!(Instant::now() < deadline, "the new bytes are not served");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::remove_file(f.path("static/media/clip.bin")).expect("remove");
    wait_for(server.port, path, 404);
    wait_for(server.port, "/media/clip.bin", 404);
}

/// Resident memory of process `pid`, in bytes.
fn resident(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("VmRSS");
    kb * 1024
}

/// With 8 versions (the base, 3 clients, and the facilitator's of each), a
/// preview that kept its media in memory would hold 8 × 48 MB; one that
/// read a file whole to send it would hold 48 MB more while sending.
#[test]
fn the_preview_keeps_no_media_in_memory() {
    const MEDIA: usize = 48 * 1024 * 1024;
    // The same preview with a 16-byte file: what the binary itself holds
    // (a debug build's relocations alone are tens of megabytes).
    let baseline = {
        let (f, _) = project_with_media(16);
        let server = Server::start(f.root());
        resident(server.pid())
    };
    let (f, media) = project_with_media(MEDIA);
    let server = Server::start(f.root());
    let after_start = resident(server.pid());
    println!(
        "VmRSS after start: {} MB ({} MB with a 16-byte file)",
        after_start >> 20,
        baseline >> 20
    );
    assert!(
        after_start < baseline + (MEDIA as u64) / 2,
        "atelier serve holds {} MB after start with a {} MB file, {} MB with a 16-byte one",
        after_start >> 20,
        MEDIA >> 20,
        baseline >> 20
    );
    // A slow reader: the server is in the middle of sending the file.
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    stream
        .write_all(b"GET /clients/alpha/media/clip.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut first = vec![0u8; 64 * 1024];
    stream.read_exact(&mut first).expect("the first bytes");
    std::thread::sleep(Duration::from_millis(500));
    let while_sending = resident(server.pid());
    println!("VmRSS while sending: {} MB", while_sending >> 20);
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).expect("the rest");
    first.extend_from_slice(&rest);
    let split = first
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of the head");
    assert!(first[split + 4..] == media[..], "the file as sent");
    assert!(
        while_sending < after_start + (MEDIA as u64) / 2,
        "atelier serve went from {} MB to {} MB while sending a {} MB file",
        after_start >> 20,
        while_sending >> 20,
        MEDIA >> 20
    );
    for path in [
        "/media/clip.bin",
        "/_facilitator/clients/charlie/media/clip.bin",
    ] {
        let (status, _, body) = request(server.port, "GET", path, &[]);
        assert!(status == 200 && body == media, "{path}");
    }
    let after_serving = resident(server.pid());
    println!(
        "VmRSS after sending it from 3 versions: {} MB",
        after_serving >> 20
    );
    assert!(
        after_serving < baseline + (MEDIA as u64) / 2,
        "atelier serve holds {} MB after sending a {} MB file, {} MB with a 16-byte one",
        after_serving >> 20,
        MEDIA >> 20,
        baseline >> 20
    );
}

/// A file the build found inside the project, replaced since by a link to
/// a file outside it, is not served (the rebuild refuses the link; until
/// then, the file is checked again at every request).
#[test]
fn a_media_file_replaced_by_a_link_outside_the_project_is_not_served() {
    let (f, media) = project_with_media(1000);
    let outside = tempfile::tempdir().expect("temp dir");
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, "SECRET-OUTSIDE").expect("write");
    let server = Server::start(f.root());
    let path = "/clients/alpha/media/clip.bin";
    assert!(wait_for(server.port, path, 200) == media);
    let source = f.path("static/media/clip.bin");
    std::fs::remove_file(&source).expect("remove");
    std::os::unix::fs::symlink(&secret, &source).expect("link");
    // At once, and after the rebuild has (or has not) run.
    for _ in 0..10 {
        for path in [path, "/media/clip.bin"] {
            let (status, _, body) = request(server.port, "GET", path, &[]);
            assert_ne!(status, 200, "{path}");
            assert!(!String::from_utf8_lossy(&body).contains("SECRET-OUTSIDE"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
