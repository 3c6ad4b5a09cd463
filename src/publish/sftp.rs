//! The SFTP target (`sftp://user@host:port/path`): one SSH connection and
//! one SFTP session for the whole version (see `ssh.rs` for keys and host
//! keys).
//!
//! Every file is written beside its final name (`.NAME.atelier-part`) and
//! renamed over it, with OpenSSH's `posix-rename@openssh.com` when the
//! server has it: readers see the old file or the new one, never a part.
//! A server without it gets remove-then-rename: never a truncated file, but
//! for a moment no file. A publish cut off mid-file leaves at most that
//! `.atelier-part` beside the old file, overwritten by the next publish.

use std::collections::HashSet;
use std::ffi::CStr;
use std::sync::Arc;

use russh_sftp::client::RawSftpSession;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, OpenFlags, Packet, StatusCode};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

use super::remote::{Remote, RemoteError, Upload};
use super::ssh::{self, Connection, Login, SshClientFiles};
use super::target::SftpTarget;

/// Where the manifest of the last complete publish lives, in the target's
/// folder.
pub const MANIFEST: &str = ".atelier-manifest.json";

/// The extension that renames over an existing file atomically.
const POSIX_RENAME: &str = "posix-rename@openssh.com";

/// How much one write request carries; OpenSSH takes up to 256 KiB.
const WRITE_CHUNK: usize = 64 * 1024;

/// How many write requests of one file may be in flight at once.
const WRITES_IN_FLIGHT: usize = 16;

/// How long one SFTP request may wait for its answer.
const REQUEST_TIMEOUT_SECS: u64 = 30;

/// Connects to `target` with the user's own SSH setup (`$HOME/.ssh`,
/// `$SSH_AUTH_SOCK`).
pub fn connect(target: &SftpTarget) -> Result<Box<dyn Remote>, RemoteError> {
    connect_with(target, &SshClientFiles::from_env())
}

/// Connects to `target` with the keys, agent and known_hosts of `files`.
pub fn connect_with(
    target: &SftpTarget,
    files: &SshClientFiles,
) -> Result<Box<dyn Remote>, RemoteError> {
    let user = match &target.user {
        Some(user) => user.clone(),
        None => local_account().ok_or_else(|| {
            RemoteError::Refused(format!(
                "no user name to log in to {} as: write it in the target \
                 (sftp://NAME@{}/…)",
                target.host, target.host
            ))
        })?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| RemoteError::Failed(format!("cannot start the SFTP client: {error}")))?;
    let described = describe(target, &user);
    let login = Login {
        user: &user,
        host: &target.host,
        port: target.port,
    };
    let files = runtime.block_on(Files::open(&login, files, &target.path, &described))?;
    Ok(Box::new(SftpRemote { runtime, files }))
}

/// `sftp://user@host:port/path/`, as messages name the target.
fn describe(target: &SftpTarget, user: &str) -> String {
    let path = target.path.trim_start_matches('/');
    let slash = if path.is_empty() || path.ends_with('/') {
        ""
    } else {
        "/"
    };
    let host = if target.host.contains(':') {
        format!("[{}]", target.host)
    } else {
        target.host.clone()
    };
    format!("sftp://{user}@{host}:{}/{path}{slash}", target.port)
}

/// The name of the account running atelier, as `ssh` takes it: the password
/// database first, then `$USER`.
fn local_account() -> Option<String> {
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buffer = vec![0 as libc::c_char; 4096];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r writes into `entry` and `buffer`, both alive and of
    // the sizes given; `found` is null or points at `entry`, whose name
    // points into `buffer`, copied out before either is dropped.
    let code = unsafe {
        libc::getpwuid_r(
            libc::geteuid(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut found,
        )
    };
    let from_database = (code == 0 && !found.is_null() && !entry.pw_name.is_null())
        .then(|| unsafe { CStr::from_ptr(entry.pw_name) })
        .and_then(|name| name.to_str().ok())
        .map(str::to_string);
    from_database.or_else(|| std::env::var("USER").ok().filter(|name| !name.is_empty()))
}

/// A connected SFTP target and the runtime that drives its connection.
struct SftpRemote {
    runtime: Runtime,
    files: Files,
}

impl Remote for SftpRemote {
    fn describe(&self) -> String {
        self.files.described.clone()
    }

    fn read_manifest(&mut self) -> Result<Option<Vec<u8>>, RemoteError> {
        let SftpRemote { runtime, files } = self;
        runtime.block_on(files.read(MANIFEST))
    }

    fn put(&mut self, file: &Upload<'_>) -> Result<(), RemoteError> {
        let SftpRemote { runtime, files } = self;
        runtime.block_on(files.put(file.path, file.bytes))
    }

    fn delete(&mut self, path: &str) -> Result<(), RemoteError> {
        let SftpRemote { runtime, files } = self;
        runtime.block_on(files.delete(path))
    }

    fn commit(&mut self, manifest: &[u8]) -> Result<(), RemoteError> {
        let SftpRemote { runtime, files } = self;
        runtime.block_on(files.put(MANIFEST, manifest))
    }
}

/// The file operations of one SFTP session, in the target's folder.
struct Files {
    /// Kept open for the session's lifetime; also tells a lost connection
    /// from a refused request.
    connection: Connection,
    sftp: Arc<RawSftpSession>,
    /// The target's folder, without a trailing `/` (`.` for the home).
    base: String,
    described: String,
    posix_rename: bool,
    chunk: usize,
    /// Folders known to exist, so each is made at most once.
    folders: HashSet<String>,
}

impl Files {
    async fn open(
        login: &Login<'_>,
        client: &SshClientFiles,
        path: &str,
        described: &str,
    ) -> Result<Files, RemoteError> {
        let connection = ssh::connect(login, client).await?;
        let no_sftp = |error: russh::Error| {
            RemoteError::Failed(format!("{described} does not offer SFTP: {error}"))
        };
        let channel = connection.channel_open_session().await.map_err(no_sftp)?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(no_sftp)?;
        let mut sftp = RawSftpSession::new(channel.into_stream());
        sftp.set_timeout(REQUEST_TIMEOUT_SECS);
        let version = sftp.init().await.map_err(|error| {
            RemoteError::Failed(format!(
                "{described} does not offer SFTP (is the sftp subsystem enabled?): {error}"
            ))
        })?;
        let offers = |name: &str| version.extensions.get(name).is_some_and(|v| v == "1");
        let mut chunk = WRITE_CHUNK;
        if offers("limits@openssh.com")
            && let Ok(limits) = sftp.limits().await
        {
            let limits = russh_sftp::client::rawsession::Limits::from(limits);
            if let Some(most) = limits.write_len {
                chunk = chunk
                    .min(usize::try_from(most).unwrap_or(WRITE_CHUNK))
                    .max(1);
            }
            sftp.set_limits(limits);
        }
        let base = match path.trim_end_matches('/') {
            "" if path.starts_with('/') => "/".to_string(),
            "" => ".".to_string(),
            trimmed => trimmed.to_string(),
        };
        Ok(Files {
            connection,
            sftp: Arc::new(sftp),
            base,
            described: described.to_string(),
            posix_rename: offers(POSIX_RENAME),
            chunk,
            folders: HashSet::new(),
        })
    }

    /// The remote path of a version file, refusing anything that would
    /// leave the target's folder.
    fn remote_path(&self, path: &str) -> Result<String, RemoteError> {
        let safe = !path.is_empty()
            && !path.contains('\0')
            && path
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        if !safe {
            return Err(RemoteError::Failed(format!(
                "refusing to write {path:?}: not a plain path inside the version"
            )));
        }
        Ok(match self.base.as_str() {
            "/" => format!("/{path}"),
            base => format!("{base}/{path}"),
        })
    }

    async fn read(&self, path: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        let remote = self.remote_path(path)?;
        let handle = match self
            .sftp
            .open(&remote, OpenFlags::READ, FileAttributes::default())
            .await
        {
            Ok(handle) => handle.handle,
            Err(error) if status_is(&error, StatusCode::NoSuchFile) => return Ok(None),
            Err(error) => return Err(self.error("read", &remote, error)),
        };
        let mut bytes = Vec::new();
        loop {
            match self
                .sftp
                .read(&handle, bytes.len() as u64, self.chunk as u32)
                .await
            {
                Ok(data) if data.data.is_empty() => break,
                Ok(data) => bytes.extend_from_slice(&data.data),
                Err(error) if status_is(&error, StatusCode::Eof) => break,
                Err(error) => return Err(self.error("read", &remote, error)),
            }
        }
        self.sftp
            .close(handle)
            .await
            .map_err(|error| self.error("read", &remote, error))?;
        Ok(Some(bytes))
    }

    /// Writes `bytes` beside `path`, then renames the part over it.
    async fn put(&mut self, path: &str, bytes: &[u8]) -> Result<(), RemoteError> {
        let remote = self.remote_path(path)?;
        let part = part_name(&remote);
        let handle = match self.create(&part).await {
            Err(error) if status_is(&error, StatusCode::NoSuchFile) => {
                self.make_folders(&remote).await?;
                self.create(&part).await
            }
            other => other,
        }
        .map_err(|error| self.error("write", &remote, error))?;
        let written = self.write_all(&handle, bytes).await;
        let closed = self.sftp.close(handle).await.map(|_| ());
        if let Err(error) = written.and(closed) {
            let _ = self.sftp.remove(&part).await;
            return Err(self.error("write", &remote, error));
        }
        self.rename_over(&part, &remote)
            .await
            .map_err(|error| self.error("rename into place", &remote, error))
    }

    async fn create(&self, path: &str) -> Result<String, SftpError> {
        let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE;
        let attributes = FileAttributes {
            permissions: Some(0o644),
            ..FileAttributes::default()
        };
        Ok(self.sftp.open(path, flags, attributes).await?.handle)
    }

    /// Sends the file in chunks, several in flight at once so a large file
    /// is not one round trip per chunk.
    async fn write_all(&self, handle: &str, bytes: &[u8]) -> Result<(), SftpError> {
        if bytes.len() <= self.chunk {
            if !bytes.is_empty() {
                self.sftp.write(handle, 0, bytes.to_vec()).await?;
            }
            return Ok(());
        }
        let mut in_flight = JoinSet::new();
        for (index, chunk) in bytes.chunks(self.chunk).enumerate() {
            if in_flight.len() >= WRITES_IN_FLIGHT {
                finished(in_flight.join_next().await)?;
            }
            let sftp = Arc::clone(&self.sftp);
            let (handle, offset, data) = (
                handle.to_string(),
                (index * self.chunk) as u64,
                chunk.to_vec(),
            );
            in_flight.spawn(async move { sftp.write(handle, offset, data).await.map(|_| ()) });
        }
        while let Some(result) = in_flight.join_next().await {
            finished(Some(result))?;
        }
        Ok(())
    }

    async fn rename_over(&self, part: &str, path: &str) -> Result<(), SftpError> {
        if self.posix_rename {
            let mut data = Vec::with_capacity(part.len() + path.len() + 8);
            for text in [part, path] {
                data.extend_from_slice(&(text.len() as u32).to_be_bytes());
                data.extend_from_slice(text.as_bytes());
            }
            return match self.sftp.extended(POSIX_RENAME, data).await? {
                Packet::Status(status) if status.status_code == StatusCode::Ok => Ok(()),
                Packet::Status(status) => Err(SftpError::Status(status)),
                _ => Err(SftpError::UnexpectedPacket),
            };
        }
        // SFTP version 3 renames only onto a free name.
        if self.sftp.rename(part, path).await.is_ok() {
            return Ok(());
        }
        match self.sftp.remove(path).await {
            Err(error) if !status_is(&error, StatusCode::NoSuchFile) => return Err(error),
            _ => {}
        }
        self.sftp.rename(part, path).await.map(|_| ())
    }

    /// Makes the folders of `path` that are missing, as `mkdir -p`.
    async fn make_folders(&mut self, path: &str) -> Result<(), RemoteError> {
        let mut folders = Vec::new();
        let mut folder = parent(path);
        while let Some(current) = folder {
            if self.folders.contains(current) {
                break;
            }
            folders.push(current.to_string());
            folder = parent(current);
        }
        for folder in folders.into_iter().rev() {
            if let Err(error) = self.sftp.mkdir(&folder, FileAttributes::default()).await {
                let exists =
                    matches!(self.sftp.stat(&folder).await, Ok(found) if found.attrs.is_dir());
                if !exists {
                    return Err(self.error("create the folder", &folder, error));
                }
            }
            self.folders.insert(folder);
        }
        Ok(())
    }

    async fn delete(&self, path: &str) -> Result<(), RemoteError> {
        let remote = self.remote_path(path)?;
        match self.sftp.remove(&remote).await {
            Ok(_) => Ok(()),
            Err(error) if status_is(&error, StatusCode::NoSuchFile) => Ok(()),
            Err(error) => Err(self.error("delete", &remote, error)),
        }
    }

    /// What went wrong, as the trainer reads it: a refused write is Denied,
    /// a connection gone is Unreachable, anything else Failed.
    fn error(&self, action: &str, path: &str, error: SftpError) -> RemoteError {
        let lost = self.connection.is_closed() || matches!(error, SftpError::IO(_));
        match error {
            SftpError::Status(status) if status.status_code == StatusCode::PermissionDenied => {
                RemoteError::Denied(format!(
                    "{} refused to {action} {path} (permission denied): check that the \
                     account may write there",
                    self.described
                ))
            }
            SftpError::Timeout => RemoteError::Unreachable(format!(
                "{} stopped answering (after {REQUEST_TIMEOUT_SECS} s) while we tried to \
                 {action} {path}",
                self.described
            )),
            _ if lost => RemoteError::Unreachable(format!(
                "the connection to {} was lost while we tried to {action} {path}",
                self.described
            )),
            SftpError::Status(status) => RemoteError::Failed(format!(
                "{} could not {action} {path}: {} ({})",
                self.described, status.status_code, status.error_message
            )),
            other => RemoteError::Failed(format!(
                "{} could not {action} {path}: {other}",
                self.described
            )),
        }
    }
}

fn finished(
    result: Option<Result<Result<(), SftpError>, tokio::task::JoinError>>,
) -> Result<(), SftpError> {
    match result {
        None => Ok(()),
        Some(Ok(written)) => written,
        Some(Err(error)) => Err(SftpError::UnexpectedBehavior(error.to_string())),
    }
}

fn status_is(error: &SftpError, code: StatusCode) -> bool {
    matches!(error, SftpError::Status(status) if status.status_code == code)
}

/// The name a file is written under before it is renamed over `path`: in
/// the same folder (a rename never crosses file systems), hidden, and the
/// same each time, so an interrupted publish leaves one part, not a pile.
fn part_name(path: &str) -> String {
    match path.rsplit_once('/') {
        Some((folder, name)) => format!("{folder}/.{name}.atelier-part"),
        None => format!(".{path}.atelier-part"),
    }
}

/// The folder holding `path`, `None` at the top (`/`, `.` or a bare name).
fn parent(path: &str) -> Option<&str> {
    match path.rsplit_once('/') {
        Some(("" | ".", _)) | None => None,
        Some((folder, _)) => Some(folder),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_sit_beside_their_file() {
        assert_eq!(
            part_name("/var/www/a/index.html"),
            "/var/www/a/.index.html.atelier-part"
        );
        assert_eq!(part_name("index.html"), ".index.html.atelier-part");
    }

    #[test]
    fn parents_stop_at_the_top() {
        assert_eq!(parent("/var/www/a.html"), Some("/var/www"));
        assert_eq!(parent("/var"), None);
        assert_eq!(parent("./site/a.html"), Some("./site"));
        assert_eq!(parent("./a.html"), None);
        assert_eq!(parent("www/a.html"), Some("www"));
    }

    #[test]
    fn targets_are_described_without_secrets() {
        let target = SftpTarget {
            user: None,
            host: "example.org".into(),
            port: 2222,
            path: "/var/www/histoire".into(),
        };
        assert_eq!(
            describe(&target, "formation"),
            "sftp://formation@example.org:2222/var/www/histoire/"
        );
    }
}
