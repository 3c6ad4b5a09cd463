//! Real publish servers on 127.0.0.1 for tests: OpenSSH's `sshd` with a
//! temporary host key and authorized key, and `moto_server` (an S3 server
//! in Python, from PyPI's `moto[server]`). Each lives in its own temporary
//! folder and is stopped when dropped; none reads or writes the user's own
//! `~/.ssh` or AWS settings.
//!
//! Include with `#[path = "common/remote.rs"] mod remote;`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A port nobody listens on right now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("bind a free port on 127.0.0.1")
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|error| {
        panic!("cannot run {command:?}: {error} (apt-get install openssh-server)")
    });
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A new ed25519 key pair at `path` (and `path.pub`), without passphrase;
/// returns the public line.
pub(crate) fn keygen(path: &Path) -> String {
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "atelier-test", "-f"])
        .arg(path));
    fs::read_to_string(path.with_extension("pub")).expect("read the public key")
}

/// The name of the account running the tests, which sshd lets log in.
pub(crate) fn current_user() -> String {
    run(Command::new("id").arg("-un")).trim().to_string()
}

/// An OpenSSH server on 127.0.0.1: one port that reads and writes, one
/// whose SFTP is read-only (`internal-sftp -R`), and a client home whose
/// key the server accepts.
pub(crate) struct Sshd {
    child: Child,
    dir: tempfile::TempDir,
    /// The port that takes writes.
    pub port: u16,
    /// The port whose SFTP server refuses every write.
    pub read_only_port: u16,
    /// The server's public host key line (`ssh-ed25519 AAAA… comment`).
    pub host_key: String,
    /// The account to log in as.
    pub user: String,
    log: Arc<Mutex<String>>,
}

impl Sshd {
    /// Starts the server and waits until both ports listen.
    pub(crate) fn start() -> Sshd {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        let host_key = keygen(&root.join("host_key"));
        let client_home = root.join("home");
        fs::create_dir_all(client_home.join(".ssh")).expect("client .ssh");
        let client_key = keygen(&client_home.join(".ssh/id_ed25519"));
        fs::write(root.join("authorized_keys"), &client_key).expect("authorized_keys");
        let (port, read_only_port) = (free_port(), free_port());
        let config = format!(
            "Port {port}\nPort {read_only_port}\nListenAddress 127.0.0.1\n\
             HostKey {root}/host_key\nPidFile {root}/sshd.pid\n\
             AuthorizedKeysFile {root}/authorized_keys\n\
             StrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             MaxStartups 50\nMaxSessions 50\nLogLevel VERBOSE\n\
             Subsystem sftp internal-sftp\n\
             Match LocalPort {read_only_port}\n    ForceCommand internal-sftp -R\n",
            root = root.display()
        );
        fs::write(root.join("sshd_config"), config).expect("sshd_config");
        if Path::new("/run").is_dir() && is_root() {
            // sshd's privilege separation folder, made by the service on a
            // normal boot and missing in a container.
            let _ = fs::create_dir_all("/run/sshd");
        }
        let mut child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(root.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start /usr/sbin/sshd (apt-get install openssh-server)");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("sshd stderr");
        let (ready_send, ready) = std::sync::mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut listening = 0;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("Server listening on") {
                    listening += 1;
                    if listening == 2 {
                        let _ = ready_send.send(());
                    }
                }
                let mut log = sink.lock().expect("log lock");
                log.push_str(&line);
                log.push('\n');
            }
        });
        let sshd = Sshd {
            child,
            dir,
            port,
            read_only_port,
            host_key,
            user: current_user(),
            log,
        };
        if ready.recv_timeout(Duration::from_secs(20)).is_err() {
            panic!("sshd did not start:\n{}", sshd.log());
        }
        sshd
    }

    /// What sshd printed so far, for failure messages.
    pub(crate) fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// The client's home folder: `.ssh/id_ed25519`, accepted by the server.
    /// No `known_hosts` until [`Sshd::trust`] writes one.
    pub(crate) fn client_home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// A folder of the server for a test to publish into.
    pub(crate) fn folder(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join("srv").join(name);
        fs::create_dir_all(&path).expect("server folder");
        path
    }

    /// The known_hosts line for the server on `port`.
    pub(crate) fn known_hosts_line(&self, port: u16) -> String {
        let mut parts = self.host_key.split_whitespace();
        let (kind, key) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        format!("[127.0.0.1]:{port} {kind} {key}\n")
    }

    /// Writes `home/.ssh/known_hosts` trusting the server on `ports`.
    pub(crate) fn trust(&self, home: &Path, ports: &[u16]) {
        let lines: String = ports
            .iter()
            .map(|&port| self.known_hosts_line(port))
            .collect();
        fs::create_dir_all(home.join(".ssh")).expect(".ssh");
        fs::write(home.join(".ssh/known_hosts"), lines).expect("known_hosts");
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    current_user() == "root"
}

/// An `ssh-agent` holding one key, on a socket of its own.
pub(crate) struct Agent {
    child: Child,
    /// `SSH_AUTH_SOCK` for it.
    pub socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Agent {
    /// Starts an agent and adds the private key at `key`.
    pub(crate) fn start(key: &Path) -> Agent {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ssh-agent");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "ssh-agent did not make its socket"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        run(Command::new("ssh-add")
            .arg("-q")
            .arg(key)
            .env("SSH_AUTH_SOCK", &socket));
        Agent {
            child,
            socket,
            _dir: dir,
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP relay from a port of its own to `target`, which cuts both sides
/// once `cut_after` bytes went from the client to the server: a connection
/// lost in the middle of an upload.
pub(crate) struct CuttingRelay {
    /// The port to connect to instead of the server's.
    pub port: u16,
}

impl CuttingRelay {
    /// Relays one connection, then stops.
    pub(crate) fn start(target: u16, cut_after: usize) -> CuttingRelay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let port = listener.local_addr().expect("relay address").port();
        std::thread::spawn(move || {
            let Ok((client, _)) = listener.accept() else {
                return;
            };
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                return;
            };
            let (client_read, server_write) = (client.try_clone(), server.try_clone());
            let (Ok(mut client_read), Ok(mut server_write)) = (client_read, server_write) else {
                return;
            };
            let (mut server_read, mut client_write) = (server, client);
            let back = std::thread::spawn(move || {
                let _ = std::io::copy(&mut server_read, &mut client_write);
            });
            let mut sent = 0;
            let mut buffer = [0u8; 16 * 1024];
            while sent < cut_after {
                match client_read.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(read) => {
                        if server_write.write_all(&buffer[..read]).is_err() {
                            break;
                        }
                        sent += read;
                    }
                }
            }
            let _ = client_read.shutdown(std::net::Shutdown::Both);
            let _ = server_write.shutdown(std::net::Shutdown::Both);
            let _ = back.join();
        });
        CuttingRelay { port }
    }
}

/// `moto_server` on 127.0.0.1: an S3 API in memory. It accepts any
/// credentials (moto checks signatures only when told to).
pub(crate) struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    port: u16,
}

impl Moto {
    /// Starts the server and waits until it answers.
    pub(crate) fn start() -> Moto {
        let moto = Moto::spawn(None);
        let deadline = Instant::now() + Duration::from_secs(30);
        while moto.request("GET", "/").is_none() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Starts a server holding `bucket` that, from then on, checks every
    /// request's credentials against its (empty) IAM users, as AWS does:
    /// moto lets the first `INITIAL_NO_AUTH_ACTION_COUNT` actions through
    /// unchecked, here only the bucket's creation.
    pub(crate) fn start_checking_credentials(bucket: &str) -> Moto {
        let moto = Moto::spawn(Some(1));
        let deadline = Instant::now() + Duration::from_secs(30);
        // Wait on the socket alone: an HTTP request would count as an action.
        while TcpStream::connect(("127.0.0.1", moto.port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto.create_bucket(bucket);
        moto
    }

    fn spawn(unchecked_actions: Option<u32>) -> Moto {
        let port = free_port();
        let mut command = Command::new("moto_server");
        if let Some(count) = unchecked_actions {
            command.env("INITIAL_NO_AUTH_ACTION_COUNT", count.to_string());
        }
        let child = command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server (pip install 'moto[server]')");
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
        }
    }

    /// Creates a bucket.
    pub(crate) fn create_bucket(&self, name: &str) {
        let status = self.request("PUT", &format!("/{name}"));
        assert_eq!(status, Some(200), "create bucket {name}");
    }

    /// An object as another S3 client (Python's boto3, which moto brings)
    /// reads it, so the check does not go through the code under test.
    pub(crate) fn object(&self, bucket: &str, key: &str) -> StoredObject {
        let output = Command::new("python3")
            .args(["-c", BOTO3_GET, &self.endpoint, bucket, key])
            .output()
            .expect("run python3 with boto3 (pip install 'moto[server]')");
        assert!(
            output.status.success(),
            "boto3 get_object failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let read: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("boto3 script prints JSON");
        let text = |name: &str| read[name].as_str().map(str::to_string);
        StoredObject {
            status: read["status"].as_u64().unwrap_or(0) as u16,
            content_type: text("content_type"),
            cache_control: text("cache_control"),
            body: text("body_hex")
                .map(|hex| from_hex(&hex))
                .unwrap_or_default(),
        }
    }

    /// Every object of `bucket` as boto3 reads it back (one Python process
    /// for all), by key, with the listing's `ETag` and `LastModified`: what
    /// a test compares before and after a run that must touch nothing.
    pub(crate) fn objects(&self, bucket: &str) -> BTreeMap<String, ListedObject> {
        let output = Command::new("python3")
            .args(["-c", BOTO3_ALL, &self.endpoint, bucket])
            .output()
            .expect("run python3 with boto3 (pip install 'moto[server]')");
        assert!(
            output.status.success(),
            "boto3 listing failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let read: BTreeMap<String, serde_json::Value> =
            serde_json::from_slice(&output.stdout).expect("boto3 script prints JSON");
        read.into_iter()
            .map(|(key, value)| {
                let text = |name: &str| value[name].as_str().map(str::to_string);
                let object = ListedObject {
                    content_type: text("content_type"),
                    cache_control: text("cache_control"),
                    etag: text("etag").unwrap_or_default(),
                    last_modified: text("last_modified").unwrap_or_default(),
                    body: from_hex(&text("body_hex").unwrap_or_default()),
                };
                (key, object)
            })
            .collect()
    }

    /// The status of one unsigned HTTP/1.1 request without a body (moto
    /// takes unsigned requests for buckets), without keep-alive.
    fn request(&self, method: &str, path: &str) -> Option<u16> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n",
            self.port
        );
        stream.write_all(head.as_bytes()).ok()?;
        let mut response = String::new();
        BufReader::new(stream).read_line(&mut response).ok()?;
        response.split_whitespace().nth(1)?.parse().ok()
    }
}

/// An object as boto3 read it back.
#[derive(Debug)]
pub(crate) struct StoredObject {
    /// 200, or the error status (404 when there is none).
    pub status: u16,
    /// `Content-Type` the store serves it with.
    pub content_type: Option<String>,
    /// `Cache-Control` the store serves it with.
    pub cache_control: Option<String>,
    /// Its bytes.
    pub body: Vec<u8>,
}

/// One object of a bucket's listing, as boto3 read it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedObject {
    /// `Content-Type` the store serves it with.
    pub content_type: Option<String>,
    /// `Cache-Control` the store serves it with.
    pub cache_control: Option<String>,
    /// The listing's `ETag`.
    pub etag: String,
    /// The listing's `LastModified`, as boto3 prints it.
    pub last_modified: String,
    /// Its bytes.
    pub body: Vec<u8>,
}

fn from_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

const BOTO3_ALL: &str = r#"
import json, sys
import boto3
endpoint, bucket = sys.argv[1:3]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-3",
                  aws_access_key_id="atelier-test", aws_secret_access_key="atelier-test-secret")
found = {}
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
    for listed in page.get("Contents", []):
        got = s3.get_object(Bucket=bucket, Key=listed["Key"])
        found[listed["Key"]] = {"content_type": got.get("ContentType"),
                                "cache_control": got.get("CacheControl"),
                                "etag": listed["ETag"],
                                "last_modified": listed["LastModified"].isoformat(),
                                "body_hex": got["Body"].read().hex()}
print(json.dumps(found))
"#;

const BOTO3_GET: &str = r#"
import json, sys
import boto3
from botocore.exceptions import ClientError
endpoint, bucket, key = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-3",
                  aws_access_key_id="atelier-test", aws_secret_access_key="atelier-test-secret")
try:
    got = s3.get_object(Bucket=bucket, Key=key)
    print(json.dumps({"status": 200, "content_type": got.get("ContentType"),
                      "cache_control": got.get("CacheControl"),
                      "body_hex": got["Body"].read().hex()}))
except ClientError as error:
    print(json.dumps({"status": error.response["ResponseMetadata"]["HTTPStatusCode"]}))
"#;

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
