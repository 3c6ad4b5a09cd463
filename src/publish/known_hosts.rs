//! Is this the host we think it is? The SSH host key a server shows, checked
//! against `~/.ssh/known_hosts` and `/etc/ssh/ssh_known_hosts` as OpenSSH
//! reads them: plain, wildcard and negated patterns, `[host]:port` entries
//! for other ports, hashed entries (`|1|salt|hash`, from `HashKnownHosts`),
//! `@revoked` keys. Publishing never learns a key by itself: the trainer adds
//! it once, after checking its fingerprint, as with `ssh`.

use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// What the known_hosts files say of the key a host showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A line records this very key for this host.
    Known,
    /// No line records a key of this type for this host; `other_types` are
    /// the types recorded for it (the host may have been added with another
    /// kind of key).
    Unknown {
        /// Key types other lines record for this host (`ssh-rsa`, …).
        other_types: Vec<String>,
    },
    /// A line records another key of the same type for this host: the host
    /// was reinstalled, or someone stands between us and it.
    Changed {
        /// The file holding the line.
        file: PathBuf,
        /// Its line number, from 1.
        line: usize,
    },
    /// The key is marked `@revoked`.
    Revoked {
        /// The file holding the line.
        file: PathBuf,
        /// Its line number, from 1.
        line: usize,
    },
}

/// The name known_hosts records a host under: `host` on port 22,
/// `[host]:port` elsewhere, in lower case as OpenSSH writes it.
pub(crate) fn lookup_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 22 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// Checks the key `key_type key_base64` (as `ssh-keyscan` prints it) shown
/// by `host:port` against `files`, read in order; a missing file is empty.
pub(crate) fn check(
    files: &[PathBuf],
    host: &str,
    port: u16,
    key_type: &str,
    key: &str,
) -> Verdict {
    let name = lookup_name(host, port);
    let mut known = false;
    let mut changed = None;
    let mut other_types = Vec::new();
    for file in files {
        for entry in entries(file) {
            if !entry.matches(&name) {
                continue;
            }
            let same_key = entry.key_type == key_type && entry.key == key;
            match entry.marker {
                Marker::Revoked if same_key => {
                    return Verdict::Revoked {
                        file: file.clone(),
                        line: entry.line,
                    };
                }
                Marker::Revoked | Marker::CertAuthority => {}
                Marker::None if same_key => known = true,
                Marker::None if entry.key_type == key_type => {
                    changed.get_or_insert((file.clone(), entry.line));
                }
                Marker::None => {
                    if !other_types.contains(&entry.key_type) {
                        other_types.push(entry.key_type.clone());
                    }
                }
            }
        }
    }
    match (known, changed) {
        (true, _) => Verdict::Known,
        (false, Some((file, line))) => Verdict::Changed { file, line },
        (false, None) => Verdict::Unknown { other_types },
    }
}

/// The key types recorded for `host:port`, so the connection can ask the
/// server for one of them first, as OpenSSH does.
pub(crate) fn recorded_types(files: &[PathBuf], host: &str, port: u16) -> Vec<String> {
    let name = lookup_name(host, port);
    let mut types: Vec<String> = Vec::new();
    for file in files {
        for entry in entries(file) {
            if entry.marker == Marker::None
                && entry.matches(&name)
                && !types.contains(&entry.key_type)
            {
                types.push(entry.key_type);
            }
        }
    }
    types
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

/// One line of a known_hosts file.
#[derive(Debug)]
struct Entry {
    line: usize,
    marker: Marker,
    patterns: String,
    key_type: String,
    key: String,
}

/// The entries of `file`; lines that are blank, comments or malformed are
/// skipped, as OpenSSH skips them.
fn entries(file: &Path) -> Vec<Entry> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| parse_line(index + 1, line))
        .collect()
}

fn parse_line(number: usize, line: &str) -> Option<Entry> {
    let mut fields = line.split_whitespace().peekable();
    if fields.peek()?.starts_with('#') {
        return None;
    }
    let marker = match fields.peek()? {
        &"@revoked" => Marker::Revoked,
        &"@cert-authority" => Marker::CertAuthority,
        marker if marker.starts_with('@') => return None,
        _ => Marker::None,
    };
    if marker != Marker::None {
        fields.next();
    }
    Some(Entry {
        line: number,
        marker,
        patterns: fields.next()?.to_string(),
        key_type: fields.next()?.to_string(),
        key: fields.next()?.to_string(),
    })
}

impl Entry {
    /// Whether the line's host patterns take `name`: one pattern matches and
    /// no negated one (`!pattern`) does.
    fn matches(&self, name: &str) -> bool {
        let mut matched = false;
        for pattern in self.patterns.split(',') {
            if let Some(negated) = pattern.strip_prefix('!') {
                if pattern_matches(negated, name) {
                    return false;
                }
            } else if pattern_matches(pattern, name) {
                matched = true;
            }
        }
        matched
    }
}

fn pattern_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("|1|") {
        Some(hashed) => hashed_matches(hashed, name),
        None => wildcard_matches(pattern.to_ascii_lowercase().as_bytes(), name.as_bytes()),
    }
}

/// `salt|hash`, both base64: the entry is HMAC-SHA1(salt, name).
fn hashed_matches(hashed: &str, name: &str) -> bool {
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let decode = |text: &str| data_encoding::BASE64.decode(text.as_bytes()).ok();
    let (Some(salt), Some(hash)) = (decode(salt), decode(hash)) else {
        return false;
    };
    let Ok(mac) = Hmac::<Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.chain_update(name.as_bytes())
        .verify_slice(&hash)
        .is_ok()
}

/// `*` takes any run of characters, `?` exactly one.
fn wildcard_matches(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|skip| wildcard_matches(rest, &name[skip..])),
        Some((b'?', rest)) => !name.is_empty() && wildcard_matches(rest, &name[1..]),
        Some((c, rest)) => name.first() == Some(c) && wildcard_matches(rest, &name[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIBq1lX0sOCTXkMqzQ1u6cJ6d1xX1oCJk5yD2zJ0c0c0c";
    const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIF9d2sXb1Q0a3l8m7E6Xn1c2m3b4v5n6m7b8v9c0x1z2";

    fn file(text: &str) -> (tempfile::TempDir, Vec<PathBuf>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("known_hosts");
        std::fs::write(&path, text).expect("write known_hosts");
        (dir, vec![path])
    }

    fn verdict(text: &str, host: &str, port: u16) -> Verdict {
        let (_dir, files) = file(text);
        check(&files, host, port, "ssh-ed25519", KEY)
    }

    /// HMAC-SHA1 of `name` under `salt`, as `ssh-keygen -H` writes it.
    fn hashed(salt: &[u8], name: &str) -> String {
        let mac = Hmac::<Sha1>::new_from_slice(salt)
            .expect("any key length")
            .chain_update(name.as_bytes())
            .finalize()
            .into_bytes();
        format!(
            "|1|{}|{}",
            data_encoding::BASE64.encode(salt),
            data_encoding::BASE64.encode(&mac)
        )
    }

    #[test]
    fn a_plain_entry_on_port_22_is_known() {
        let text = format!("# mine\n\nexample.org,192.0.2.1 ssh-ed25519 {KEY} me@laptop\n");
        assert_eq!(verdict(&text, "example.org", 22), Verdict::Known);
        assert_eq!(verdict(&text, "EXAMPLE.org", 22), Verdict::Known);
        assert!(matches!(
            verdict(&text, "example.net", 22),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn another_port_needs_a_bracketed_entry() {
        let text =
            format!("example.org ssh-ed25519 {KEY}\n[example.org]:2222 ssh-ed25519 {OTHER}\n");
        assert_eq!(verdict(&text, "example.org", 22), Verdict::Known);
        assert!(matches!(
            verdict(&text, "example.org", 2222),
            Verdict::Changed { line: 2, .. }
        ));
        assert!(matches!(
            verdict(&text, "example.org", 2200),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn hashed_entries_match_their_name_only() {
        let text = format!(
            "{} ssh-ed25519 {KEY}\n",
            hashed(b"twenty bytes of salt", "[127.0.0.1]:2222")
        );
        assert_eq!(verdict(&text, "127.0.0.1", 2222), Verdict::Known);
        assert!(matches!(
            verdict(&text, "127.0.0.1", 22),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn a_different_key_of_the_same_type_is_a_change() {
        let text = format!("host ssh-rsa AAAAB3Nza\n\thost\tssh-ed25519\t{OTHER}\n");
        let Verdict::Changed { line, file } = verdict(&text, "host", 22) else {
            panic!("expected a changed key");
        };
        assert_eq!(line, 2);
        assert!(file.ends_with("known_hosts"));
    }

    #[test]
    fn a_key_recorded_beside_an_old_one_is_known() {
        let text = format!("host ssh-ed25519 {OTHER}\nhost ssh-ed25519 {KEY}\n");
        assert_eq!(verdict(&text, "host", 22), Verdict::Known);
    }

    #[test]
    fn only_other_types_is_unknown_and_says_which() {
        let text = "host ssh-rsa AAAAB3Nza\nhost ecdsa-sha2-nistp256 AAAAE2Vj\n";
        assert_eq!(
            verdict(text, "host", 22),
            Verdict::Unknown {
                other_types: vec!["ssh-rsa".into(), "ecdsa-sha2-nistp256".into()]
            }
        );
        let (_dir, files) = file(text);
        assert_eq!(
            recorded_types(&files, "host", 22),
            ["ssh-rsa", "ecdsa-sha2-nistp256"]
        );
    }

    #[test]
    fn wildcards_and_negations() {
        let text = format!("*.example.org,!bad.example.org ssh-ed25519 {KEY}\n");
        assert_eq!(verdict(&text, "www.example.org", 22), Verdict::Known);
        assert!(matches!(
            verdict(&text, "bad.example.org", 22),
            Verdict::Unknown { .. }
        ));
        let text = format!("[web?.example.org]:* ssh-ed25519 {KEY}\n");
        assert_eq!(verdict(&text, "web1.example.org", 2222), Verdict::Known);
        assert!(matches!(
            verdict(&text, "web12.example.org", 2222),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn a_revoked_key_is_refused_even_when_also_listed() {
        let text = format!("host ssh-ed25519 {KEY}\n@revoked * ssh-ed25519 {KEY}\n");
        assert!(matches!(
            verdict(&text, "host", 22),
            Verdict::Revoked { line: 2, .. }
        ));
    }

    #[test]
    fn malformed_lines_and_missing_files_are_skipped() {
        let text = format!(
            "garbage\n@unknown-marker host ssh-ed25519 {KEY}\nhost ssh-ed25519\nhost ssh-ed25519 {KEY}\n"
        );
        assert_eq!(verdict(&text, "host", 22), Verdict::Known);
        let missing = vec![PathBuf::from("/nonexistent/known_hosts")];
        assert!(matches!(
            check(&missing, "host", 22, "ssh-ed25519", KEY),
            Verdict::Unknown { .. }
        ));
    }
}
