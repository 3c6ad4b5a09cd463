//! One SSH connection for a publish, as `ssh` would make it: the host key
//! checked against known_hosts (never learned silently), then the user's
//! keys: the agent's first (`SSH_AUTH_SOCK`), then `~/.ssh/id_ed25519`,
//! `id_ecdsa`, `id_rsa`. No password is ever asked or stored.
//!
//! Async inside (russh), driven by the caller's small runtime: the SFTP
//! side (`sftp.rs`) opens its channel on the [`Connection`] this returns.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, AuthResult};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{Algorithm, HashAlg, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};

use super::known_hosts::{self, Verdict};
use super::remote::RemoteError;

/// How long a host may take to answer the TCP connection and the key
/// exchange before it counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The key files tried after the agent, in OpenSSH's order.
const KEY_FILES: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

/// Where the client side of SSH lives: the home folder holding `.ssh/`
/// (keys and `known_hosts`) and the agent's socket. Read from the
/// environment by [`SshClientFiles::from_env`]; tests and tools that must
/// not touch the user's own `~/.ssh` build one by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshClientFiles {
    /// The folder holding `.ssh/` (`$HOME`); `None` when there is none.
    pub home: Option<PathBuf>,
    /// The agent's socket (`$SSH_AUTH_SOCK`); `None` when no agent runs.
    pub agent: Option<PathBuf>,
    /// The system-wide known hosts (`/etc/ssh/ssh_known_hosts`), read after
    /// the user's own; `None` to read only the user's.
    pub system_known_hosts: Option<PathBuf>,
}

impl SshClientFiles {
    /// The files `ssh` itself would use: `$HOME/.ssh`, `$SSH_AUTH_SOCK`,
    /// `/etc/ssh/ssh_known_hosts`.
    pub fn from_env() -> SshClientFiles {
        let non_empty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        SshClientFiles {
            home: non_empty("HOME").map(PathBuf::from),
            agent: non_empty("SSH_AUTH_SOCK").map(PathBuf::from),
            system_known_hosts: Some(PathBuf::from("/etc/ssh/ssh_known_hosts")),
        }
    }

    fn known_hosts_files(&self) -> Vec<PathBuf> {
        let own = self.home.iter().map(|home| home.join(".ssh/known_hosts"));
        own.chain(self.system_known_hosts.iter().cloned()).collect()
    }

    /// The user's known_hosts as messages name it.
    fn known_hosts_shown(&self) -> String {
        match &self.home {
            Some(_) => "~/.ssh/known_hosts".to_string(),
            None => "known_hosts (no HOME is set)".to_string(),
        }
    }
}

/// Who to log in as, where.
pub(crate) struct Login<'a> {
    /// The account name.
    pub(crate) user: &'a str,
    /// The host name or address.
    pub(crate) host: &'a str,
    /// The SSH port.
    pub(crate) port: u16,
}

/// An authenticated SSH connection.
pub(crate) type Connection = client::Handle<HostKeyCheck>;

/// Connects and authenticates, or says why not in words the trainer can act
/// on: Unreachable for the network, Refused for host keys and user keys.
pub(crate) async fn connect(
    login: &Login<'_>,
    files: &SshClientFiles,
) -> Result<Connection, RemoteError> {
    let known_hosts = files.known_hosts_files();
    let check = HostKeyCheck {
        known_hosts: known_hosts.clone(),
        shown: files.known_hosts_shown(),
        host: login.host.to_string(),
        port: login.port,
    };
    let config = Arc::new(client::Config {
        preferred: russh::Preferred {
            key: preferred_host_keys(&known_hosts, login.host, login.port).into(),
            ..Default::default()
        },
        inactivity_timeout: Some(Duration::from_secs(120)),
        nodelay: true,
        ..Default::default()
    });
    let address = (login.host, login.port);
    let connecting = client::connect(config, address, check);
    let mut connection = match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
        Err(_) => {
            return Err(RemoteError::Unreachable(format!(
                "{}:{} did not answer within {} seconds",
                login.host,
                login.port,
                CONNECT_TIMEOUT.as_secs()
            )));
        }
        Ok(Err(failure)) => return Err(failure.into_remote_error(login)),
        Ok(Ok(connection)) => connection,
    };
    authenticate(&mut connection, login, files).await?;
    Ok(connection)
}

/// russh's host key algorithms, those of the key types known_hosts records
/// for this host first, so that a host known by its RSA key is asked for
/// that key and not refused for showing an unrecorded ed25519 one.
fn preferred_host_keys(known_hosts: &[PathBuf], host: &str, port: u16) -> Vec<Algorithm> {
    let recorded = known_hosts::recorded_types(known_hosts, host, port);
    let mut algorithms = russh::Preferred::DEFAULT.key.to_vec();
    algorithms.sort_by_key(|algorithm| !recorded.iter().any(|t| t == key_type(algorithm)));
    algorithms
}

/// The key type known_hosts writes for a host key algorithm: RSA keys are
/// `ssh-rsa` whatever hash they sign with.
fn key_type(algorithm: &Algorithm) -> &str {
    match algorithm {
        Algorithm::Rsa { .. } => "ssh-rsa",
        other => other.as_str(),
    }
}

/// Checks the host key the server shows; russh calls it during the key
/// exchange. A refusal carries its reason out through [`SshFailure`].
pub(crate) struct HostKeyCheck {
    known_hosts: Vec<PathBuf>,
    shown: String,
    host: String,
    port: u16,
}

/// Why the connection failed: the transport's own error, or our verdict on
/// the host key.
#[derive(Debug)]
pub(crate) enum SshFailure {
    /// What russh reported (network, protocol).
    Ssh(russh::Error),
    /// The host key is not the recorded one; the message says what to do.
    HostKey(String),
}

impl From<russh::Error> for SshFailure {
    fn from(error: russh::Error) -> SshFailure {
        SshFailure::Ssh(error)
    }
}

impl SshFailure {
    fn into_remote_error(self, login: &Login<'_>) -> RemoteError {
        match self {
            SshFailure::HostKey(why) => RemoteError::Refused(why),
            SshFailure::Ssh(russh::Error::IO(error)) => RemoteError::Unreachable(format!(
                "{}:{}: {}",
                login.host,
                login.port,
                io_reason(&error)
            )),
            SshFailure::Ssh(error) => RemoteError::Unreachable(format!(
                "{}:{} broke off the SSH handshake ({error}); is it an SSH server?",
                login.host, login.port
            )),
        }
    }
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::ConnectionRefused => {
            "connection refused (no SSH server listens on that port)".to_string()
        }
        _ => error.to_string(),
    }
}

impl client::Handler for HostKeyCheck {
    type Error = SshFailure;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, SshFailure> {
        let key = match server_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key,
            PublicKeyOrCertificate::Certificate(_) => {
                return Err(SshFailure::HostKey(format!(
                    "{} showed a host certificate; atelier checks plain host keys \
                     recorded in {}",
                    self.name(),
                    self.shown
                )));
            }
        };
        let openssh = key.to_openssh().map_err(|error| {
            SshFailure::HostKey(format!(
                "{} showed an unreadable host key: {error}",
                self.name()
            ))
        })?;
        let mut parts = openssh.split_whitespace();
        let (key_type, base64) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        match known_hosts::check(&self.known_hosts, &self.host, self.port, key_type, base64) {
            Verdict::Known => Ok(true),
            verdict => Err(SshFailure::HostKey(self.refusal(&verdict, key))),
        }
    }
}

impl HostKeyCheck {
    /// The host as known_hosts and messages name it.
    fn name(&self) -> String {
        known_hosts::lookup_name(&self.host, self.port)
    }

    fn refusal(&self, verdict: &Verdict, key: &PublicKey) -> String {
        let name = self.name();
        let fingerprint = key.fingerprint(HashAlg::Sha256);
        let kind = key.algorithm();
        let port = if self.port == 22 {
            String::new()
        } else {
            format!("-p {} ", self.port)
        };
        match verdict {
            Verdict::Known => String::new(),
            Verdict::Unknown { other_types } => {
                let others = if other_types.is_empty() {
                    String::new()
                } else {
                    format!(" (it records a {} key for it)", other_types.join(", "))
                };
                format!(
                    "the host key of {name} ({kind} {fingerprint}) is not in {}{others}; \
                     check that fingerprint with the host's administrator, then add it with \
                     `ssh-keyscan {port}{host} >> ~/.ssh/known_hosts`, or connect once with \
                     `ssh {port}{host}` and answer yes",
                    self.shown,
                    host = self.host,
                )
            }
            Verdict::Changed { file, line } => format!(
                "WARNING: THE HOST KEY OF {name} HAS CHANGED. {} line {line} records another \
                 {kind} key; the host now shows {fingerprint}. Someone may be intercepting the \
                 connection, or the host was reinstalled. Nothing was sent. If its administrator \
                 confirms the new key, remove the old one with `ssh-keygen -R '{name}'` and add \
                 the new one",
                file.display()
            ),
            Verdict::Revoked { file, line } => format!(
                "the host key of {name} ({fingerprint}) is marked @revoked in {} line {line}; \
                 nothing was sent",
                file.display()
            ),
        }
    }
}

/// Tries the agent's keys, then the key files, until the server accepts one.
async fn authenticate(
    connection: &mut Connection,
    login: &Login<'_>,
    files: &SshClientFiles,
) -> Result<(), RemoteError> {
    let mut tried = Vec::new();
    if let Some(socket) = &files.agent
        && try_agent(connection, login, socket, &mut tried).await?
    {
        return Ok(());
    }
    if let Some(home) = &files.home {
        for name in KEY_FILES {
            let path = home.join(".ssh").join(name);
            if path.exists() && try_key_file(connection, login, &path, &mut tried).await? {
                return Ok(());
            }
        }
    }
    let tried = if tried.is_empty() {
        "no key was found: no agent (SSH_AUTH_SOCK) and no ~/.ssh/id_ed25519, id_ecdsa or id_rsa"
            .to_string()
    } else {
        format!("tried {}", tried.join(", "))
    };
    Err(RemoteError::Refused(format!(
        "{}@{} accepted none of our keys ({tried}); add your public key (~/.ssh/id_ed25519.pub) \
         to ~/.ssh/authorized_keys of that account, or load the right key with `ssh-add`",
        login.user,
        known_hosts::lookup_name(login.host, login.port)
    )))
}

async fn try_agent(
    connection: &mut Connection,
    login: &Login<'_>,
    socket: &Path,
    tried: &mut Vec<String>,
) -> Result<bool, RemoteError> {
    let Ok(mut agent) = AgentClient::connect_uds(socket).await else {
        tried.push(format!("the agent (cannot open {})", socket.display()));
        return Ok(false);
    };
    let identities = agent.request_identities().await.unwrap_or_default();
    let keys: Vec<PublicKey> = identities
        .into_iter()
        .filter_map(|identity| match identity {
            AgentIdentity::PublicKey { key, .. } => Some(key),
            AgentIdentity::Certificate { .. } => None,
        })
        .collect();
    tried.push(format!("{} key(s) of the agent", keys.len()));
    for key in keys {
        let hash = rsa_hash(connection, key.algorithm()).await;
        let result = connection
            .authenticate_publickey_with(login.user, key, hash, &mut agent)
            .await;
        if let Ok(result) = result
            && accepted(result)?
        {
            return Ok(true);
        }
        if connection.is_closed() {
            return Err(lost(login));
        }
    }
    Ok(false)
}

async fn try_key_file(
    connection: &mut Connection,
    login: &Login<'_>,
    path: &Path,
    tried: &mut Vec<String>,
) -> Result<bool, RemoteError> {
    let shown = format!("~/.ssh/{}", path.file_name().unwrap_or_default().display());
    let key = match russh::keys::load_secret_key(path, None) {
        Ok(key) => key,
        Err(russh::keys::Error::KeyIsEncrypted) => {
            tried.push(format!(
                "{shown} (protected by a passphrase: add it to the agent with `ssh-add`)"
            ));
            return Ok(false);
        }
        Err(error) => {
            tried.push(format!("{shown} (unreadable: {error})"));
            return Ok(false);
        }
    };
    tried.push(shown);
    let hash = rsa_hash(connection, key.algorithm()).await;
    let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
    match connection.authenticate_publickey(login.user, key).await {
        Ok(result) => accepted(result),
        Err(_) => Err(lost(login)),
    }
}

/// The signature hash for an RSA key: the best the server takes.
async fn rsa_hash(connection: &Connection, algorithm: Algorithm) -> Option<HashAlg> {
    if !algorithm.is_rsa() {
        return None;
    }
    connection
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten()
}

fn accepted(result: AuthResult) -> Result<bool, RemoteError> {
    match result {
        AuthResult::Success => Ok(true),
        AuthResult::Failure {
            partial_success: true,
            ..
        } => Err(RemoteError::Refused(
            "the host asks for a second factor after the key, which atelier cannot give".into(),
        )),
        AuthResult::Failure { .. } => Ok(false),
    }
}

fn lost(login: &Login<'_>) -> RemoteError {
    RemoteError::Unreachable(format!(
        "{} closed the connection during authentication",
        known_hosts::lookup_name(login.host, login.port)
    ))
}
