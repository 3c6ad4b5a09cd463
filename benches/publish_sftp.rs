//! Publish to SFTP, end to end against a real OpenSSH server on 127.0.0.1:
//! a 1,000-file version sent whole, then the same version after a one-page
//! edit. The target: the second publish under a second (issue #16).
//!
//! Each publish is what `atelier publish` does with a remote: connect (TCP,
//! key exchange, host key check, key login, SFTP session), read the
//! manifest, compare content hashes, put what changed, delete what is gone,
//! commit the new manifest. The comparison here is a stand-in for the
//! publish command's own (a path → hash map in JSON).
//!
//! Run with `cargo bench --bench publish_sftp` (scripts/bench-publish-sftp.sh).
//! Needs /usr/sbin/sshd (apt-get install openssh-server).

#[path = "../tests/common/remote.rs"]
#[allow(unreachable_pub)]
mod remote;

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::time::{Duration, Instant};

use atelier::publish::remote::Upload;
use atelier::publish::sftp;
use atelier::publish::ssh::SshClientFiles;
use atelier::publish::target::SftpTarget;

const FILES: usize = 1_000;
const EDIT_RUNS: usize = 7;

/// One publish: returns (files sent, files deleted, bytes sent, time).
fn publish(
    target: &SftpTarget,
    client: &SshClientFiles,
    files: &BTreeMap<String, Vec<u8>>,
) -> (usize, usize, usize, Duration) {
    let started = Instant::now();
    let mut remote = sftp::connect_with(target, client).expect("connect");
    let before: BTreeMap<String, String> = remote
        .read_manifest()
        .expect("read manifest")
        .map(|bytes| serde_json::from_slice(&bytes).expect("manifest JSON"))
        .unwrap_or_default();
    let now: BTreeMap<String, String> = files
        .iter()
        .map(|(path, bytes)| (path.clone(), hash(bytes)))
        .collect();
    let (mut sent, mut bytes_sent, mut deleted) = (0, 0, 0);
    for (path, bytes) in files {
        if before.get(path) != now.get(path) {
            remote
                .put(&Upload {
                    path,
                    bytes,
                    content_type: "text/html; charset=utf-8",
                    cache_control: "public, max-age=300",
                })
                .expect("put");
            sent += 1;
            bytes_sent += bytes.len();
        }
    }
    for path in before.keys().filter(|path| !now.contains_key(*path)) {
        remote.delete(path).expect("delete");
        deleted += 1;
    }
    let manifest = serde_json::to_vec(&now).expect("manifest");
    remote.commit(&manifest).expect("commit");
    drop(remote);
    (sent, deleted, bytes_sent, started.elapsed())
}

fn hash(bytes: &[u8]) -> String {
    let mut hasher = atelier::hashing::fingerprint_hasher();
    hasher.write(bytes);
    format!("{:016x}-{}", hasher.finish(), bytes.len())
}

/// A version of `FILES` pages of 3–9 KB in 40 module folders, plus assets.
fn version() -> BTreeMap<String, Vec<u8>> {
    (0..FILES)
        .map(|index| {
            let path = match index {
                0 => "index.html".to_string(),
                i if i % 25 == 0 => format!("static/image-{i}.webp"),
                i => format!("modules/module-{:02}/etape-{i}/index.html", i % 40),
            };
            let body = format!("<p>Étape {index} : l'écoute active, pas à pas.</p>\n")
                .repeat(60 + index % 120);
            (path, body.into_bytes())
        })
        .collect()
}

fn main() {
    let sshd = remote::Sshd::start();
    let home = sshd.client_home();
    sshd.trust(&home, &[sshd.port]);
    let client = SshClientFiles {
        home: Some(home),
        agent: None,
        system_known_hosts: None,
    };
    let folder = sshd.folder("www");
    let target = SftpTarget {
        user: Some(sshd.user.clone()),
        host: "127.0.0.1".into(),
        port: sshd.port,
        path: folder.display().to_string(),
    };
    let mut files = version();
    let total: usize = files.values().map(Vec::len).sum();

    let (sent, _, bytes, first) = publish(&target, &client, &files);
    println!(
        "first publish: {sent} files, {:.1} MB in {:.2} s",
        bytes as f64 / 1e6,
        first.as_secs_f64()
    );
    assert_eq!(sent, FILES);

    let mut times = Vec::new();
    for run in 0..EDIT_RUNS {
        let page = files
            .get_mut("modules/module-07/etape-7/index.html")
            .expect("page");
        page.extend_from_slice(format!("<p>Modifié ({run}).</p>\n").as_bytes());
        let (sent, deleted, bytes, took) = publish(&target, &client, &files);
        assert_eq!((sent, deleted), (1, 0), "one page edited, one page sent");
        println!(
            "after a one-page edit: {sent} file ({bytes} bytes) in {:.0} ms",
            took.as_secs_f64() * 1000.0
        );
        times.push(took);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "\n{FILES} files ({:.1} MB): first publish {:.2} s; one-page edit: median {:.0} ms, \
         min {:.0} ms, max {:.0} ms over {EDIT_RUNS} runs (target < 1 s)",
        total as f64 / 1e6,
        first.as_secs_f64(),
        median.as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
    assert!(
        median < Duration::from_secs(1),
        "the one-page publish takes over a second"
    );
}
