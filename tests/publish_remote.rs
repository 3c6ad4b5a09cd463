//! The SFTP and S3 publish targets against real servers on 127.0.0.1:
//! OpenSSH's sshd (started here with a temporary host key and authorized
//! key) and moto_server (an S3 API). Through the library, as the publish
//! command calls them; the command's own tests add the CLI side.
//!
//! Without the servers these tests are ignored outside CI (build.rs sets
//! `cfg(sshd_tooling)` / `cfg(s3_tooling)`), and fail under CI.

#[path = "common/remote.rs"]
mod remote;

use std::fs;
use std::path::Path;
use std::process::Command;

use atelier::publish::remote::{Remote, RemoteError, Upload};
use atelier::publish::s3::{self, S3Environment};
use atelier::publish::sftp;
use atelier::publish::ssh::SshClientFiles;
use atelier::publish::target::{S3Target, SftpTarget};

use remote::{Agent, CuttingRelay, Moto, Sshd, free_port, keygen};

const MANIFEST: &str = ".atelier-manifest.json";

fn upload<'a>(path: &'a str, bytes: &'a [u8]) -> Upload<'a> {
    Upload {
        path,
        bytes,
        content_type: "text/html; charset=utf-8",
        cache_control: "public, max-age=300",
    }
}

/// Bytes that are not text and not a repetition: every byte value, mixed.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x2545_f491;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect()
}

fn client(home: &Path) -> SshClientFiles {
    SshClientFiles {
        home: Some(home.to_path_buf()),
        agent: None,
        system_known_hosts: None,
    }
}

fn target(sshd: &Sshd, port: u16, folder: &Path) -> SftpTarget {
    SftpTarget {
        user: Some(sshd.user.clone()),
        host: "127.0.0.1".into(),
        port,
        path: format!("{}/", folder.display()),
    }
}

fn connect(sshd: &Sshd, port: u16, folder: &Path, files: &SshClientFiles) -> Box<dyn Remote> {
    sftp::connect_with(&target(sshd, port, folder), files)
        .unwrap_or_else(|error| panic!("connect: {error}\n--- sshd\n{}", sshd.log()))
}

fn refusal(result: Result<Box<dyn Remote>, RemoteError>) -> RemoteError {
    match result {
        Ok(remote) => panic!("expected an error, connected to {}", remote.describe()),
        Err(error) => error,
    }
}

/// Every file under `root`, relative, sorted.
fn tree(root: &Path) -> Vec<String> {
    let mut files: Vec<String> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .map(|entry| {
            entry
                .path()
                .strip_prefix(root)
                .expect("under root")
                .display()
                .to_string()
        })
        .collect();
    files.sort();
    files
}

#[test]
#[cfg_attr(
    not(sshd_tooling),
    ignore = "needs openssh-server (apt-get install openssh-server)"
)]
fn sftp_puts_deletes_and_keeps_the_manifest() {
    let sshd = Sshd::start();
    let home = sshd.client_home();
    sshd.trust(&home, &[sshd.port]);
    // The version's folder does not exist yet: publish makes it.
    let folder = sshd.folder("www").join("histoire");
    let mut remote = connect(&sshd, sshd.port, &folder, &client(&home));
    assert_eq!(
        remote.describe(),
        format!(
            "sftp://{}@127.0.0.1:{}{}/",
            sshd.user,
            sshd.port,
            folder.display()
        )
    );
    assert_eq!(remote.read_manifest().expect("read manifest"), None);

    let big = noise(3 * 1024 * 1024 + 17);
    let page = "<h1>Confiance</h1>\n".as_bytes();
    remote
        .put(&upload("index.html", b"<h1>Accueil</h1>"))
        .expect("put index");
    remote
        .put(&upload("modules/confiance/index.html", page))
        .expect("put nested");
    remote
        .put(&upload("media/film.bin", &big))
        .expect("put big");
    remote.put(&upload("vide.txt", b"")).expect("put empty");
    remote
        .put(&upload("index.html", b"<h1>Accueil v2</h1>"))
        .expect("overwrite");
    remote.delete("vide.txt").expect("delete");
    remote
        .delete("jamais-la.html")
        .expect("deleting a missing file is fine");
    remote.commit(br#"{"files":3}"#).expect("commit");

    assert_eq!(
        fs::read(folder.join("index.html")).expect("index"),
        b"<h1>Accueil v2</h1>"
    );
    assert_eq!(
        fs::read(folder.join("modules/confiance/index.html")).expect("nested"),
        page
    );
    assert!(
        fs::read(folder.join("media/film.bin")).expect("big") == big,
        "big file differs"
    );
    assert_eq!(
        tree(&folder),
        [
            MANIFEST,
            "index.html",
            "media/film.bin",
            "modules/confiance/index.html"
        ],
        "no part file or deleted file is left"
    );
    drop(remote);

    // A new connection (the next publish) reads what the last one left.
    let mut again = connect(&sshd, sshd.port, &folder, &client(&home));
    assert_eq!(
        again.read_manifest().expect("manifest"),
        Some(br#"{"files":3}"#.to_vec())
    );
}

#[test]
#[cfg_attr(
    not(sshd_tooling),
    ignore = "needs openssh-server (apt-get install openssh-server)"
)]
fn sftp_refuses_paths_leaving_the_target() {
    let sshd = Sshd::start();
    let home = sshd.client_home();
    sshd.trust(&home, &[sshd.port]);
    let folder = sshd.folder("site");
    let mut remote = connect(&sshd, sshd.port, &folder, &client(&home));
    for path in ["../evasion.html", "/etc/evasion", "a//b.html", "a/./b.html"] {
        let error = remote.put(&upload(path, b"x")).expect_err(path);
        assert!(matches!(error, RemoteError::Failed(_)), "{path}: {error:?}");
    }
    assert!(
        !folder
            .parent()
            .expect("parent")
            .join("evasion.html")
            .exists()
    );
    assert!(tree(&folder).is_empty());
}

#[test]
#[cfg_attr(
    not(sshd_tooling),
    ignore = "needs openssh-server (apt-get install openssh-server)"
)]
fn sftp_reads_hashed_known_hosts_entries() {
    let sshd = Sshd::start();
    let home = sshd.client_home();
    sshd.trust(&home, &[sshd.port]);
    let known_hosts = home.join(".ssh/known_hosts");
    let output = Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&known_hosts)
        .output()
        .expect("ssh-keygen -H");
    assert!(output.status.success());
    let hashed = fs::read_to_string(&known_hosts).expect("known_hosts");
    assert!(
        hashed.starts_with("|1|") && !hashed.contains("127.0.0.1"),
        "{hashed}"
    );
    let mut remote = connect(&sshd, sshd.port, &sshd.folder("site"), &client(&home));
    assert_eq!(remote.read_manifest().expect("manifest"), None);
}

#[test]
#[cfg_attr(
    not(sshd_tooling),
    ignore = "needs openssh-server (apt-get install openssh-server)"
)]
fn sftp_refuses_an_unknown_host_and_says_how_to_add_it() {
    let sshd = Sshd::start();
    let home = sshd.client_home();
    // known_hosts knows the host on another port only.
    sshd.trust(&home, &[sshd.read_only_port]);
    let error = refusal(sftp::connect_with(
        &target(&sshd, sshd.port, &sshd.folder("site")),
        &client(&home),
    ));
    let RemoteError::Refused(why) = &error else {
        panic!("expected Refused, got {error:?}");
    };
    assert!(
        why.contains(&format!(
            "ssh-keyscan -p {} 127.0.0.1 >> ~/.ssh/known_hosts",
            sshd.port
        )),
        "{why}"
    );
    assert!(why.contains("SHA256:"), "the fingerprint to check: {why}");
    assert!(tree(&sshd.folder("site")).is_empty());
}

#[test]
#[cfg_attr(
    not(sshd_tooling),
    ignore = "needs openssh-server (apt-get install openssh-server)"
)]
fn sftp_refuses_a_changed_host_key_loudly() {
    let sshd = Sshd::start();
    let home = sshd.client_home();
    let impostor = tempfile::tempdir().expect("temp dir");
    let other_key = keygen(&impostor.path().join("other"));
    let mut parts = other_key.split_whitespace();
    let (kind, key) = (parts.next().expect("type"), parts.next().expect("key"));
    fs::write(
        home.join(".ssh/known_hosts"),
        format!("# ours\n[127.0.0.1]:{} {kind} {key}\n", sshd.port),
    )
    .expect("known_hosts");
    let error = refusal(sftp::connect_with(
        &target(&sshd, sshd.port, &sshd.folder("site")),
        &client(&home),
    ));
    let RemoteError::Refused(why) = &error else {
        panic!("expected Refused, got {error:?}");
    };
    assert!(why.contains("HAS CHANGED"), "{why}");
    assert!(why.contains("known_hosts line 2"), "{why}");
    assert!(
        why.contains(&format!("ssh-keygen -R '[127.0.0.1]:{}'", sshd.port)),
        "{why}"
    );
}

#[test]
#[cfg_attr(
    not(sshd_tooling),
    ignore = "needs openssh-server (apt-get install openssh-server)"
)]
fn sftp_refuses_a_key_the_server_does_not_accept() {
    let sshd = Sshd::start();
    let stranger = tempfile::tempdir().expect("temp dir");
    fs::create_dir_all(stranger.path().join(".ssh")).expect(".ssh");
    keygen(&stranger.path().join(".ssh/id_ed25519"));
    sshd.trust(stranger.path(), &[sshd.port]);
    let error = refusal(sftp::connect_with(
        &target(&sshd, sshd.port, &sshd.folder("site")),
        &client(stranger.path()),
    ));
    let RemoteError::Refused(why) = &error else {
        panic!("expected Refused, got {error:?}");
    };
    assert!(why.contains("accepted none of our keys"), "{why}");
    assert!(why.contains("~/.ssh/id_ed25519"), "{why}");
}

#[test]
#[cfg_attr(
    not(sshd_tooling),
    ignore = "needs openssh-server (apt-get install openssh-server)"
)]
fn sftp_logs_in_with_the_agent_when_no_key_file_is_there() {
    let sshd = Sshd::start();
    let agent = Agent::start(&sshd.client_home().join(".ssh/id_ed25519"));
    let keyless = tempfile::tempdir().expect("temp dir");
    sshd.trust(keyless.path(), &[sshd.port]);
    let files = SshClientFiles {
        home: Some(keyless.path().to_path_buf()),
        agent: Some(agent.socket.clone()),
        system_known_hosts: None,
    };
    let folder = sshd.folder("site");
    let mut remote = connect(&sshd, sshd.port, &folder, &files);
    remote
        .put(&upload("index.html", b"par l'agent"))
        .expect("put");
    assert_eq!(
        fs::read(folder.join("index.html")).expect("index"),
        b"par l'agent"
    );
}

#[test]
#[cfg_attr(
    not(sshd_tooling),
    ignore = "needs openssh-server (apt-get install openssh-server)"
)]
fn sftp_says_unreachable_when_nothing_listens() {
    let home = tempfile::tempdir().expect("temp dir");
    let target = SftpTarget {
        user: Some("formation".into()),
        host: "127.0.0.1".into(),
        port: free_port(),
        path: "/var/www".into(),
    };
    let error = refusal(sftp::connect_with(&target, &client(home.path())));
    let RemoteError::Unreachable(why) = &error else {
        panic!("expected Unreachable, got {error:?}");
    };
    assert!(why.contains("connection refused"), "{why}");
}

#[test]
#[cfg_attr(
    not(sshd_tooling),
    ignore = "needs openssh-server (apt-get install openssh-server)"
)]
fn sftp_says_denied_when_the_server_refuses_writes() {
    let sshd = Sshd::start();
    let home = sshd.client_home();
    sshd.trust(&home, &[sshd.read_only_port]);
    let folder = sshd.folder("lecture-seule");
    fs::write(folder.join("index.html"), "ancienne").expect("old file");
    let mut remote = connect(&sshd, sshd.read_only_port, &folder, &client(&home));
    assert_eq!(remote.read_manifest().expect("reading is allowed"), None);
    let error = remote
        .put(&upload("index.html", b"nouvelle"))
        .expect_err("write refused");
    assert!(matches!(error, RemoteError::Denied(_)), "{error:?}");
    assert!(error.to_string().contains("index.html"), "{error}");
    let error = remote.delete("index.html").expect_err("delete refused");
    assert!(matches!(error, RemoteError::Denied(_)), "{error:?}");
    assert_eq!(
        fs::read(folder.join("index.html")).expect("old"),
        b"ancienne"
    );
}

#[test]
#[cfg_attr(
    not(sshd_tooling),
    ignore = "needs openssh-server (apt-get install openssh-server)"
)]
fn sftp_cut_mid_upload_leaves_the_old_file_whole() {
    let sshd = Sshd::start();
    let home = sshd.client_home();
    let relay = CuttingRelay::start(sshd.port, 2 * 1024 * 1024);
    sshd.trust(&home, &[sshd.port, relay.port]);
    let folder = sshd.folder("site");
    let old = noise(1000);
    fs::write(folder.join("film.bin"), &old).expect("old file");
    let new = noise(8 * 1024 * 1024);

    let mut cut = connect(&sshd, relay.port, &folder, &client(&home));
    let error = cut
        .put(&upload("film.bin", &new))
        .expect_err("the connection was cut");
    assert!(matches!(error, RemoteError::Unreachable(_)), "{error:?}");
    drop(cut);
    let after = fs::read(folder.join("film.bin")).expect("final path");
    assert!(after == old, "old file intact, found {} bytes", after.len());

    // The next publish completes it, and no part is left.
    let mut next = connect(&sshd, sshd.port, &folder, &client(&home));
    next.put(&upload("film.bin", &new)).expect("put again");
    assert!(
        fs::read(folder.join("film.bin")).expect("final path") == new,
        "new file whole"
    );
    assert_eq!(tree(&folder), ["film.bin"]);
}

fn s3_environment(extra: &[(&str, &str)]) -> S3Environment {
    let mut variables = vec![
        ("AWS_ACCESS_KEY_ID".to_string(), "atelier-test".to_string()),
        (
            "AWS_SECRET_ACCESS_KEY".to_string(),
            "atelier-test-secret".to_string(),
        ),
    ];
    variables.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    S3Environment { variables }
}

fn s3_target(moto: &Moto, bucket: &str) -> S3Target {
    S3Target {
        bucket: bucket.into(),
        prefix: "histoire/".into(),
        endpoint: Some(moto.endpoint.clone()),
        region: Some("eu-west-3".into()),
    }
}

#[test]
#[cfg_attr(
    not(s3_tooling),
    ignore = "needs moto_server (pip install 'moto[server]')"
)]
fn s3_puts_with_content_type_and_cache_control() {
    let moto = Moto::start();
    moto.create_bucket("formations");
    let mut remote = s3::connect_with(&s3_target(&moto, "formations"), &s3_environment(&[]))
        .unwrap_or_else(|error| panic!("connect: {error}"));
    assert_eq!(
        remote.describe(),
        format!("s3://formations/histoire/ at {}", moto.endpoint)
    );
    assert_eq!(remote.read_manifest().expect("manifest"), None);

    let css = noise(70_000);
    remote
        .put(&upload("index.html", "<h1>Écoute</h1>".as_bytes()))
        .expect("put html");
    remote
        .put(&Upload {
            path: "static/style.css",
            bytes: &css,
            content_type: "text/css; charset=utf-8",
            cache_control: "public, max-age=31536000, immutable",
        })
        .expect("put css");
    remote.put(&upload("ancienne.html", b"x")).expect("put old");
    remote.delete("ancienne.html").expect("delete");
    remote
        .delete("jamais-la.html")
        .expect("deleting a missing key is fine");
    remote.commit(br#"{"files":2}"#).expect("commit");

    let page = moto.object("formations", "histoire/index.html");
    assert_eq!(page.status, 200);
    assert_eq!(page.body, "<h1>Écoute</h1>".as_bytes());
    assert_eq!(
        page.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.cache_control.as_deref(), Some("public, max-age=300"));
    let style = moto.object("formations", "histoire/static/style.css");
    assert_eq!(style.status, 200);
    assert!(style.body == css, "style.css differs");
    assert_eq!(
        style.content_type.as_deref(),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(
        style.cache_control.as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        moto.object("formations", "histoire/ancienne.html").status,
        404
    );
    let manifest = moto.object("formations", "histoire/.atelier-manifest.json");
    assert_eq!(manifest.body, br#"{"files":2}"#);
    assert_eq!(manifest.content_type.as_deref(), Some("application/json"));
    drop(remote);

    // The endpoint and region may come from the environment instead.
    let from_env = S3Target {
        endpoint: None,
        region: None,
        ..s3_target(&moto, "formations")
    };
    let environment = s3_environment(&[
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_DEFAULT_REGION", "eu-west-3"),
    ]);
    let mut again = s3::connect_with(&from_env, &environment).expect("connect from env");
    assert_eq!(
        again.read_manifest().expect("manifest"),
        Some(br#"{"files":2}"#.to_vec())
    );
}

#[test]
#[cfg_attr(
    not(s3_tooling),
    ignore = "needs moto_server (pip install 'moto[server]')"
)]
fn s3_missing_bucket_is_unreachable() {
    let moto = Moto::start();
    let error = refusal(s3::connect_with(
        &s3_target(&moto, "absent"),
        &s3_environment(&[]),
    ));
    let RemoteError::Unreachable(why) = &error else {
        panic!("expected Unreachable, got {error:?}");
    };
    assert!(why.contains("the bucket absent does not exist"), "{why}");
}

#[test]
#[cfg_attr(
    not(s3_tooling),
    ignore = "needs moto_server (pip install 'moto[server]')"
)]
fn s3_endpoint_not_listening_is_unreachable() {
    let target = S3Target {
        bucket: "formations".into(),
        prefix: String::new(),
        endpoint: Some(format!("http://127.0.0.1:{}", free_port())),
        region: Some("eu-west-3".into()),
    };
    let error = refusal(s3::connect_with(&target, &s3_environment(&[])));
    assert!(matches!(error, RemoteError::Unreachable(_)), "{error:?}");
}

#[test]
#[cfg_attr(
    not(s3_tooling),
    ignore = "needs moto_server (pip install 'moto[server]')"
)]
fn s3_unknown_credentials_are_refused() {
    let moto = Moto::start_checking_credentials("formations");
    let error = refusal(s3::connect_with(
        &s3_target(&moto, "formations"),
        &s3_environment(&[]),
    ));
    let RemoteError::Refused(why) = &error else {
        panic!("expected Refused, got {error:?}");
    };
    assert!(why.contains("InvalidAccessKeyId"), "{why}");
}
