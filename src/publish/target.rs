//! Where a version is published, read from the `target:` of its `publish:`
//! block: a local folder, a git branch, an SFTP host or an S3 bucket.
//!
//! A target names a place, never a secret: credentials in a URL are refused,
//! because a project is shared, committed and mailed around. SSH keys or
//! agent, git's own credential helpers and the standard AWS variables
//! authenticate instead.

use std::fmt;
use std::path::{Path, PathBuf};

use super::remote::{Remote, RemoteError};

/// A parsed publish target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A folder on this machine (a mounted share, a web server's root).
    Local(PathBuf),
    /// A branch of a git repository, pushed to with the `git` program.
    Git(GitTarget),
    /// A folder on an SFTP host.
    Sftp(SftpTarget),
    /// A prefix of an S3-compatible bucket.
    S3(S3Target),
}

/// A git branch to publish to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitTarget {
    /// The repository as git understands it (`file:///srv/pages.git`,
    /// `ssh://git@host/owner/repo.git`, `https://host/owner/repo.git`).
    pub url: String,
    /// The branch (`gh-pages`).
    pub branch: String,
}

/// A folder on an SFTP host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SftpTarget {
    /// The login, else the SSH configuration's or the local user's.
    pub user: Option<String>,
    /// Host name or address.
    pub host: String,
    /// Port (22 unless the URL says otherwise).
    pub port: u16,
    /// Absolute folder on the host.
    pub path: String,
}

/// A prefix of an S3-compatible bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Target {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix, `""` or ending in `/`.
    pub prefix: String,
    /// Endpoint of an S3-compatible service, else AWS's.
    pub endpoint: Option<String>,
    /// Region, else the standard AWS variables'.
    pub region: Option<String>,
}

/// Why a `target:` cannot be used, with how to write it instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

impl TargetError {
    fn new(message: impl Into<String>, help: impl Into<String>) -> Self {
        TargetError {
            message: message.into(),
            help: help.into(),
        }
    }
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.help)
    }
}

const FORMS: &str = "a folder (`/srv/www/atelier`, `./site`), `file:///…`, `sftp://user@host/path/`, `git+file:///…#branch`, `git+ssh://git@host/owner/repo.git#gh-pages`, `git+https://…#branch` or `s3://bucket/prefix`";

impl Target {
    /// Reads `text` (a `target:` value); relative folders are relative to
    /// `root`, the project's root. `endpoint` and `region` are the S3 keys
    /// of the same block.
    pub fn parse(
        text: &str,
        root: &Path,
        endpoint: Option<&str>,
        region: Option<&str>,
    ) -> Result<Target, TargetError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TargetError::new(
                "`target` is empty",
                format!("write {FORMS}"),
            ));
        }
        let (scheme, rest) = text.split_once("://").unwrap_or(("", text));
        if (endpoint.is_some() || region.is_some()) && scheme != "s3" {
            return Err(TargetError::new(
                "`endpoint` and `region` are for S3 targets only",
                "remove them, or publish to `s3://bucket/prefix`",
            ));
        }
        let userinfo = rest.split('/').next().and_then(|a| a.rsplit_once('@'));
        if !scheme.is_empty() && userinfo.is_some_and(|(user, _)| user.contains(':')) {
            return Err(TargetError::new(
                format!(
                    "the `{scheme}://` target holds a password: credentials never live in the project"
                ),
                "remove it from the URL; SSH keys or agent, git's credential helper or the standard AWS variables give it when publishing",
            ));
        }
        match scheme {
            "" => local_path(text, root),
            "file" => file_url(rest),
            "sftp" => sftp(rest).map(Target::Sftp),
            "s3" => s3(rest, endpoint, region).map(Target::S3),
            "git+file" | "git+ssh" | "git+https" | "git+http" => {
                git(&scheme["git+".len()..], rest).map(Target::Git)
            }
            "http" | "https" | "ssh" | "git" => Err(TargetError::new(
                format!("`{scheme}://` is not a publish target"),
                format!(
                    "for a git repository write `git+{scheme}://…#branch`; the forms are {FORMS}"
                ),
            )),
            other => Err(TargetError::new(
                format!("unknown target scheme `{other}://`"),
                format!("write {FORMS}"),
            )),
        }
    }

    /// The target as messages name it, without credentials (there are
    /// none: they are refused).
    pub fn describe(&self) -> String {
        match self {
            Target::Local(path) => path.display().to_string(),
            Target::Git(git) => format!("git+{}#{}", git.url, git.branch),
            Target::Sftp(sftp) => {
                let user = sftp
                    .user
                    .as_deref()
                    .map(|u| format!("{u}@"))
                    .unwrap_or_default();
                format!("sftp://{user}{}:{}{}", sftp.host, sftp.port, sftp.path)
            }
            Target::S3(s3) => format!("s3://{}/{}", s3.bucket, s3.prefix),
        }
    }
}

/// Connects to `target`. `root` is the project's root: the git target keeps
/// its cache clone under `.atelier/` there.
pub fn open(target: &Target, root: &Path) -> Result<Box<dyn Remote>, RemoteError> {
    match target {
        Target::Local(path) => Ok(Box::new(super::local::LocalFolder::new(path))),
        Target::Git(git) => super::git::GitBranch::connect(git, root)
            .map(|remote| Box::new(remote) as Box<dyn Remote>),
        Target::Sftp(sftp) => super::sftp::connect(sftp),
        Target::S3(s3) => super::s3::connect(s3),
    }
}

fn local_path(text: &str, root: &Path) -> Result<Target, TargetError> {
    let path = Path::new(text);
    if path.is_absolute() {
        return Ok(Target::Local(path.to_path_buf()));
    }
    if text.starts_with("./") || text.starts_with("../") || text == "." || text == ".." {
        return Ok(Target::Local(root.join(path)));
    }
    Err(TargetError::new(
        format!("`{text}` is neither a folder path nor a URL"),
        format!(
            "a folder relative to the project starts with `./` (`./{text}`); the forms are {FORMS}"
        ),
    ))
}

fn file_url(rest: &str) -> Result<Target, TargetError> {
    // `file:///srv/www` (empty host) or `file://localhost/srv/www`.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return Err(TargetError::new(
            format!("`file://{rest}` names another machine"),
            "write `file:///absolute/folder` (three slashes) for a folder on this machine",
        ));
    }
    Ok(Target::Local(PathBuf::from(percent_decode(path)?)))
}

/// The parts of a URL after its scheme: user, host, port and path.
type Authority<'a> = (Option<String>, &'a str, Option<u16>, &'a str);

/// Splits `[user[:password]@]host[:port]` from what follows; refuses a
/// password, and any user at all when `user_allowed` is false.
fn authority<'a>(
    scheme: &str,
    rest: &'a str,
    user_allowed: bool,
) -> Result<Authority<'a>, TargetError> {
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    let (user, host_port) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };
    if let Some(user) = user {
        if user.contains(':') || !user_allowed {
            return Err(TargetError::new(
                format!(
                    "the `{scheme}://` target holds credentials: credentials never live in the project"
                ),
                match scheme {
                    "https" | "http" => {
                        "remove them from the URL; git's credential helper (`git credential`, a token in your keychain) gives them when pushing"
                    }
                    "sftp" | "ssh" => {
                        "keep only the user (`sftp://user@host/path/`); the SSH key or agent authenticates"
                    }
                    _ => {
                        "remove them from the URL; the standard AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) give them"
                    }
                },
            ));
        }
        if user.is_empty() {
            return Err(TargetError::new(
                format!("`{scheme}://@…`: the user before `@` is empty"),
                "write the user (`user@host`) or leave out the `@`",
            ));
        }
    }
    let bracketed = host_port.starts_with('[') && host_port.ends_with(']');
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) if !bracketed => {
            let port: u16 = port.parse().map_err(|_| {
                TargetError::new(
                    format!("`{port}` is not a port number"),
                    "write the port as digits (`host:2222`), or leave it out",
                )
            })?;
            (host, Some(port))
        }
        _ => (host_port, None),
    };
    if host.starts_with('-') {
        return Err(TargetError::new(
            format!("`{host}` is not a host name"),
            "a host name starts with a letter or a digit",
        ));
    }
    if host.is_empty() {
        return Err(TargetError::new(
            format!("the `{scheme}://` target names no host"),
            format!("write `{scheme}://host/…`"),
        ));
    }
    Ok((user.map(str::to_string), host, port, path))
}

fn sftp(rest: &str) -> Result<SftpTarget, TargetError> {
    let (user, host, port, path) = authority("sftp", rest, true)?;
    if path.is_empty() || path == "/" {
        return Err(TargetError::new(
            "the SFTP target names no folder",
            "write the folder after the host: `sftp://user@host/var/www/atelier/`",
        ));
    }
    Ok(SftpTarget {
        user,
        host: host.to_string(),
        port: port.unwrap_or(22),
        path: percent_decode(path)?,
    })
}

fn s3(rest: &str, endpoint: Option<&str>, region: Option<&str>) -> Result<S3Target, TargetError> {
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.contains('@') {
        return Err(TargetError::new(
            "the `s3://` target holds credentials: credentials never live in the project",
            "write `s3://bucket/prefix`; the standard AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) give them",
        ));
    }
    let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    if bucket.len() < 3 || bucket.len() > 63 || !bucket.chars().all(valid) {
        return Err(TargetError::new(
            format!("`{bucket}` is not a bucket name"),
            "a bucket name has 3 to 63 lowercase letters, digits, `-` or `.`: `s3://formations/histoire/`",
        ));
    }
    let prefix = prefix.trim_matches('/');
    if prefix.split('/').any(|part| part == ".." || part == ".") {
        return Err(TargetError::new(
            format!("the prefix `{prefix}` has `.` or `..` segments"),
            "write the prefix as plain folder names: `s3://bucket/formations/histoire/`",
        ));
    }
    if let Some(endpoint) = endpoint
        && !(endpoint.starts_with("https://") || endpoint.starts_with("http://"))
    {
        return Err(TargetError::new(
            format!("`endpoint` must be an http(s) URL, not `{endpoint}`"),
            "write it as `endpoint: https://s3.example.org`",
        ));
    }
    if endpoint.is_some_and(|e| e.split_once("://").is_some_and(|(_, r)| r.contains('@'))) {
        return Err(TargetError::new(
            "`endpoint` holds credentials: credentials never live in the project",
            "remove them; the standard AWS variables give them",
        ));
    }
    Ok(S3Target {
        bucket: bucket.to_string(),
        prefix: if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        },
        endpoint: endpoint.map(str::to_string),
        region: region.map(str::to_string),
    })
}

fn git(scheme: &str, rest: &str) -> Result<GitTarget, TargetError> {
    let Some((location, branch)) = rest.rsplit_once('#') else {
        return Err(TargetError::new(
            "the git target names no branch",
            format!("add the branch after `#`: `git+{scheme}://{rest}#gh-pages`"),
        ));
    };
    if !valid_branch(branch) {
        return Err(TargetError::new(
            format!("`{branch}` is not a branch name"),
            "write a plain branch name after `#`, such as `#gh-pages` or `#pages`",
        ));
    }
    if scheme != "file" {
        authority(scheme, location, scheme == "ssh")?;
    } else if !location.starts_with('/') {
        return Err(TargetError::new(
            format!("`git+file://{location}` is not an absolute path"),
            "write `git+file:///absolute/repo.git#branch` (three slashes)",
        ));
    }
    Ok(GitTarget {
        url: format!("{scheme}://{location}"),
        branch: branch.to_string(),
    })
}

/// A branch name git accepts and a command line cannot mistake for an
/// option (the rules of `git check-ref-format`, simplified to the safe side).
fn valid_branch(branch: &str) -> bool {
    !branch.is_empty()
        && !branch.starts_with(['-', '/', '.'])
        && !branch.ends_with(['/', '.'])
        && !branch.ends_with(".lock")
        && !branch.contains("..")
        && !branch.contains("//")
        && !branch.contains("@{")
        && branch
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

/// `%20` and the like in a path, decoded; a malformed escape is an error.
fn percent_decode(text: &str) -> Result<String, TargetError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(byte) = hex else {
                return Err(TargetError::new(
                    format!("`{text}` has a `%` that is not an escape such as `%20`"),
                    "write `%25` for a literal `%`",
                ));
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        TargetError::new(
            format!("`{text}` decodes to text that is not UTF-8"),
            "write the path's characters as they are, or as UTF-8 escapes",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Target, TargetError> {
        Target::parse(text, Path::new("/projet"), None, None)
    }

    #[test]
    fn folders_and_file_urls() {
        assert_eq!(parse("/srv/www"), Ok(Target::Local("/srv/www".into())));
        assert_eq!(parse("./site"), Ok(Target::Local("/projet/./site".into())));
        assert_eq!(
            parse("file:///srv/mes%20sites"),
            Ok(Target::Local("/srv/mes sites".into()))
        );
        assert!(parse("file://serveur/partage").is_err());
        assert!(parse("site").unwrap_err().help.contains("./site"));
    }

    #[test]
    fn git_targets_need_a_branch() {
        assert_eq!(
            parse("git+file:///srv/pages.git#gh-pages"),
            Ok(Target::Git(GitTarget {
                url: "file:///srv/pages.git".into(),
                branch: "gh-pages".into()
            }))
        );
        assert_eq!(
            parse("git+ssh://git@github.com/moi/atelier.git#gh-pages"),
            Ok(Target::Git(GitTarget {
                url: "ssh://git@github.com/moi/atelier.git".into(),
                branch: "gh-pages".into()
            }))
        );
        let missing = parse("git+https://github.com/moi/atelier.git").unwrap_err();
        assert!(missing.message.contains("no branch"), "{missing}");
        assert!(parse("git+file:///srv/pages.git#--force").is_err());
        assert!(parse("git+file:///srv/pages.git#a..b").is_err());
    }

    #[test]
    fn credentials_are_refused() {
        for text in [
            "git+https://moi:secret@github.com/moi/atelier.git#gh-pages",
            "git+https://ghp_token@github.com/moi/atelier.git#gh-pages",
            "sftp://formation:motdepasse@example.org/var/www/",
            "s3://AKIA:secret@bucket/prefix",
        ] {
            let error = parse(text).unwrap_err();
            assert!(
                error
                    .message
                    .contains("credentials never live in the project"),
                "{text}: {error}"
            );
            assert!(!error.message.contains("secret") && !error.help.contains("secret"));
        }
    }

    #[test]
    fn sftp_and_s3() {
        assert_eq!(
            parse("sftp://formation@example.org:2222/var/www/lemoine/"),
            Ok(Target::Sftp(SftpTarget {
                user: Some("formation".into()),
                host: "example.org".into(),
                port: 2222,
                path: "/var/www/lemoine/".into()
            }))
        );
        assert_eq!(
            parse("sftp://example.org/var/www/").map(|t| t.describe()),
            Ok("sftp://example.org:22/var/www/".into())
        );
        assert!(parse("sftp://example.org").is_err());
        assert!(parse("sftp://example.org:ssh/x").is_err());
        assert_eq!(
            Target::parse(
                "s3://formations/histoire",
                Path::new("/p"),
                Some("https://s3.example.org"),
                Some("fr-par")
            ),
            Ok(Target::S3(S3Target {
                bucket: "formations".into(),
                prefix: "histoire/".into(),
                endpoint: Some("https://s3.example.org".into()),
                region: Some("fr-par".into())
            }))
        );
        assert!(parse("s3://Formations/x").is_err());
        assert!(Target::parse("/srv", Path::new("/p"), None, Some("eu")).is_err());
    }

    #[test]
    fn unknown_schemes_say_what_is_known() {
        let error = parse("ftp://example.org/www").unwrap_err();
        assert!(error.message.contains("unknown target scheme `ftp://`"));
        assert!(error.help.contains("sftp://"));
        let error = parse("https://github.com/moi/atelier.git").unwrap_err();
        assert!(error.help.contains("git+https://"));
    }
}
