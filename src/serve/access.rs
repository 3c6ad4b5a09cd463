//! Who may see what in the preview.
//!
//! - **Loopback** (the default bind): only this machine connects, but a page
//!   on another site can reach the port through DNS rebinding; so the `Host`
//!   header must name `localhost`, `127.0.0.1`, `[::1]` or the bound address
//!   (403 otherwise). Everything is visible.
//! - **LAN** (a bind address that is not loopback): participants' phones
//!   connect. Without the run's secret a request sees participant versions
//!   only: no facilitator version, no client version, no version list, no
//!   build errors (their text may quote facilitator notes). The secret is
//!   made fresh for each run, given once in the terminal as
//!   `…/_facilitator/?key=…`, then kept in an HttpOnly, SameSite=Strict
//!   cookie.
//! - `serve --client X` serves X's version (at the root) only: nothing under
//!   `clients/` in any mode.

use std::io::Read;
use std::net::IpAddr;

/// The cookie that carries the secret once it was given in an address.
pub const KEY_COOKIE: &str = "atelier_key";
/// The query parameter that gives the secret.
pub const KEY_PARAM: &str = "key";
/// The first segment of the facilitator versions' paths.
const FACILITATOR: &str = "_facilitator";

/// What a request may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visitor {
    /// Participant versions only.
    Participant,
    /// Everything: facilitator versions, client versions, the version list.
    Facilitator,
}

/// What to do with a request before routing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Route it for this visitor.
    Admit(Visitor),
    /// The `Host` does not name this server: 403.
    ForeignHost,
    /// The address gave the right secret: set the cookie and send the
    /// browser to the same address without it.
    KeyAccepted {
        /// Where to (path and the rest of the query).
        location: String,
        /// The `Set-Cookie` value.
        cookie: String,
    },
}

/// The run's secret for LAN mode.
#[derive(Clone)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// 32 random bytes from the system, as hex.
    pub fn generate() -> std::io::Result<Secret> {
        let mut bytes = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        Ok(Secret(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// The secret as it goes into the address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `given` is the secret, in time that does not depend on
    /// where they differ.
    pub(super) fn matches(&self, given: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), given.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
        std::hint::black_box(difference) == 0
    }
}

/// The rules of one run.
#[derive(Debug, Clone)]
pub struct Access {
    /// `None` on a loopback bind.
    secret: Option<Secret>,
    /// The address bound and its port (for the `Host` check).
    bound: IpAddr,
    port: u16,
    /// `serve --client`: no other client's version.
    client_only: bool,
}

impl Access {
    /// The rules for a server listening on `bound:port`: LAN mode (with
    /// `secret`) when the address is not loopback.
    pub fn new(bound: IpAddr, port: u16, secret: Option<Secret>, client_only: bool) -> Access {
        let secret = if bound.is_loopback() { None } else { secret };
        Access {
            secret,
            bound,
            port,
            client_only,
        }
    }

    /// The run's secret in LAN mode (`None` on loopback).
    pub fn secret(&self) -> Option<&Secret> {
        self.secret.as_ref()
    }

    /// Whether this run is in LAN mode.
    pub fn is_lan(&self) -> bool {
        !self.bound.is_loopback()
    }

    /// Decides about a request from its `Host` (`None` when missing), its
    /// `Cookie` headers, its path and its query (with the `?`).
    pub fn admit(
        &self,
        host: Option<&str>,
        cookies: &[&str],
        path: &str,
        query: &str,
    ) -> Admission {
        if !self.is_lan() {
            return match host {
                Some(host) if self.names_this_server(host) => {
                    Admission::Admit(Visitor::Facilitator)
                }
                _ => Admission::ForeignHost,
            };
        }
        let Some(secret) = &self.secret else {
            return Admission::Admit(Visitor::Participant);
        };
        let (given, rest) = take_key(query);
        if let Some(given) = given
            && secret.matches(&given)
        {
            return Admission::KeyAccepted {
                location: format!("{path}{rest}"),
                cookie: format!(
                    "{KEY_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
                    secret.as_str()
                ),
            };
        }
        let has_cookie = cookies
            .iter()
            .flat_map(|header| header.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| name == KEY_COOKIE && secret.matches(value));
        Admission::Admit(if has_cookie {
            Visitor::Facilitator
        } else {
            Visitor::Participant
        })
    }

    /// Whether `visitor` may see the file at `key` (a decoded path inside
    /// the site, no leading `/`).
    pub fn may_see(&self, visitor: Visitor, key: &str) -> bool {
        let mut segments = key.split('/');
        let first = segments.next().unwrap_or("");
        let second = segments.next().unwrap_or("");
        let names_a_client = first == "clients" || (first == FACILITATOR && second == "clients");
        if self.client_only && names_a_client {
            return false;
        }
        match visitor {
            Visitor::Facilitator => true,
            Visitor::Participant => !names_a_client && first != FACILITATOR,
        }
    }

    /// Whether a `Host` header names this server on loopback.
    fn names_this_server(&self, host: &str) -> bool {
        let (name, port) = split_host(host);
        if port.is_some_and(|p| p != self.port) {
            return false;
        }
        let bound = match self.bound {
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        };
        name.eq_ignore_ascii_case("localhost")
            || name == "127.0.0.1"
            || name == "[::1]"
            || name == bound
    }
}

/// `name` and port of a `Host` value; a port that is not a number is
/// `Some(0)` (never ours).
fn split_host(host: &str) -> (&str, Option<u16>) {
    let cut = if host.starts_with('[') {
        host.find(']').map(|end| end + 1)
    } else {
        host.find(':')
    };
    match cut {
        Some(at) if at < host.len() => {
            let (name, rest) = host.split_at(at);
            match rest.strip_prefix(':') {
                Some(port) => (name, Some(port.parse().unwrap_or(0))),
                None => (host, Some(0)),
            }
        }
        _ => (host, None),
    }
}

/// The value of `key=` in `query` (percent-decoded), and the query
/// without it (with its `?` when something is left).
fn take_key(query: &str) -> (Option<String>, String) {
    let mut given = None;
    let mut kept = Vec::new();
    for pair in query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
    {
        match pair.split_once('=') {
            Some((KEY_PARAM, value)) => {
                given = crate::html::percent_decode(value).and_then(|v| String::from_utf8(v).ok());
            }
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    };
    (given, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lan() -> (Access, Secret) {
        let secret = Secret::generate().unwrap_or(Secret("0".repeat(64)));
        let access = Access::new(
            "192.168.1.20".parse().unwrap_or(IpAddr::from([0; 4])),
            1111,
            Some(secret.clone()),
            false,
        );
        (access, secret)
    }

    #[test]
    fn loopback_checks_the_host() {
        let access = Access::new(IpAddr::from([127, 0, 0, 1]), 1111, None, false);
        let admitted = Admission::Admit(Visitor::Facilitator);
        for host in [
            "localhost",
            "LOCALHOST:1111",
            "127.0.0.1",
            "127.0.0.1:1111",
            "[::1]",
            "[::1]:1111",
        ] {
            assert_eq!(access.admit(Some(host), &[], "/", ""), admitted, "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:1111",
            "localhost:2222",
            "localhost:x",
            "127.0.0.1.evil",
            "[::1]x",
            "",
        ] {
            assert_eq!(
                access.admit(Some(host), &[], "/", ""),
                Admission::ForeignHost,
                "{host}"
            );
        }
        assert_eq!(access.admit(None, &[], "/", ""), Admission::ForeignHost);
    }

    #[test]
    fn lan_needs_the_secret_for_everything_but_participant_versions() {
        let (access, secret) = lan();
        let participant = Admission::Admit(Visitor::Participant);
        assert_eq!(access.admit(Some("x"), &[], "/", ""), participant);
        assert_eq!(access.admit(Some("x"), &[], "/", "?key=nope"), participant);
        let cookie = format!("a=b; {KEY_COOKIE}={}", secret.as_str());
        assert_eq!(
            access.admit(Some("x"), &[&cookie], "/", ""),
            Admission::Admit(Visitor::Facilitator)
        );
        let query = format!("?a=1&key={}&b=2", secret.as_str());
        let Admission::KeyAccepted { location, cookie } =
            access.admit(None, &[], "/_facilitator/", &query)
        else {
            panic!("the key was not accepted");
        };
        assert_eq!(location, "/_facilitator/?a=1&b=2");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(access.may_see(Visitor::Participant, "modules/x/index.html"));
        for key in [
            "_facilitator/index.html",
            "clients/a/index.html",
            "_facilitator/clients/a/",
            "clients",
        ] {
            assert!(!access.may_see(Visitor::Participant, key), "{key}");
            assert!(access.may_see(Visitor::Facilitator, key), "{key}");
        }
        let client = Access::new(IpAddr::from([127, 0, 0, 1]), 1111, None, true);
        assert!(!client.may_see(Visitor::Facilitator, "clients/b/index.html"));
        assert!(!client.may_see(Visitor::Facilitator, "_facilitator/clients/b/index.html"));
        assert!(client.may_see(Visitor::Facilitator, "_facilitator/index.html"));
    }
}
