//! `atelier publish` through the binary to three kinds of host at once, as
//! a training company uses it: the base version to a git branch (a bare
//! repository, `git+file://`), one client to an SFTP folder (OpenSSH's
//! sshd on 127.0.0.1) and another to an S3 bucket (moto_server on
//! 127.0.0.1). The child process gets a `HOME` of the test's own (its
//! known_hosts and key) and the AWS variables of the test, never the
//! user's.
//!
//! Without sshd or moto_server these tests are ignored outside CI (build.rs
//! sets `cfg(sshd_tooling)` / `cfg(s3_tooling)`), and fail under CI.

mod common;
#[path = "common/published.rs"]
mod published;
#[path = "common/remote.rs"]
mod remote;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

use common::{Fixture, Run, page};
use published::{assert_same, branch_tree, git, site, tree};
use remote::{ListedObject, Moto, Sshd};

/// The SFTP client and the S3 client.
const SFTP_CLIENT: &str = "lumiere";
const S3_CLIENT: &str = "horizon";
const BUCKET: &str = "formations";

/// A project, the three servers, and where each version goes.
struct Hosts {
    fixture: Fixture,
    sshd: Sshd,
    moto: Moto,
    _repo_dir: tempfile::TempDir,
    repo: PathBuf,
    sftp_folder: PathBuf,
}

const BRANCH: &str = "gh-pages";

impl Hosts {
    /// The servers, a project of two modules and two clients, each version
    /// with its own target; the SFTP host in known_hosts when `trusted`.
    fn start(trusted: bool) -> Hosts {
        let sshd = Sshd::start();
        let moto = Moto::start();
        moto.create_bucket(BUCKET);
        if trusted {
            sshd.trust(&sshd.client_home(), &[sshd.port]);
        } else {
            // Known on another port only: this host is not.
            sshd.trust(&sshd.client_home(), &[sshd.read_only_port]);
        }
        let repo_dir = tempfile::tempdir().expect("temp dir");
        let repo = repo_dir.path().join("pages.git");
        let status = Command::new("git")
            .args(["init", "--quiet", "--bare"])
            .arg(&repo)
            .status()
            .expect("git init");
        assert!(status.success());
        // Not made yet: publish makes it.
        let sftp_folder = sshd.folder("www").join(SFTP_CLIENT);
        let fixture = Fixture::new(&[
            (
                "content/modules/01-la-confiance.md",
                &page(
                    "title: La confiance\nduration: 30 min",
                    "La confiance se gagne lentement, {{ client.name }}.\n",
                ),
            ),
            (
                "content/modules/02-la-gratitude.md",
                &page(
                    "title: La gratitude\nduration: 20 min",
                    "Dire merci sans rien demander.\n",
                ),
            ),
        ]);
        // More pages that the edit below leaves alone.
        for (number, theme) in ["l'écoute", "la surprise", "le souvenir", "la fierté"]
            .iter()
            .enumerate()
        {
            fixture.write(
                &format!("content/modules/{:02}-module-{number}.md", number + 3),
                &page(
                    &format!("title: \"Sur {theme}\"\nduration: 15 min"),
                    &format!("Parler de {theme} avec des exemples vécus.\n"),
                ),
            );
        }
        let config = fixture.read("atelier.yaml");
        fixture.write(
            "atelier.yaml",
            &format!(
                "{config}publish:\n  target: \"git+file://{}#{BRANCH}\"\n",
                repo.display()
            ),
        );
        fixture.write(
            &format!("clients/{SFTP_CLIENT}/client.yaml"),
            &format!(
                "name: Maison Lumière\npublish:\n  target: \"sftp://{}@127.0.0.1:{}{}/\"\n",
                sshd.user,
                sshd.port,
                sftp_folder.display()
            ),
        );
        fixture.write(
            &format!("clients/{S3_CLIENT}/client.yaml"),
            &format!(
                "name: Cabinet Horizon\npublish:\n  target: \"s3://{BUCKET}/{S3_CLIENT}/\"\n  endpoint: \"{}\"\n  region: eu-west-3\n",
                moto.endpoint
            ),
        );
        Hosts {
            fixture,
            sshd,
            moto,
            _repo_dir: repo_dir,
            repo,
            sftp_folder,
        }
    }

    /// `atelier ARGS` with the test's HOME (known_hosts, key) and AWS
    /// variables, none of the user's.
    fn atelier(&self, args: &[&str]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_atelier"));
        command.args(args).current_dir(self.fixture.root());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("AWS_") {
                command.env_remove(&name);
            }
        }
        let output = command
            .env("HOME", self.sshd.client_home())
            .env_remove("SSH_AUTH_SOCK")
            .env("AWS_ACCESS_KEY_ID", "atelier-test")
            .env("AWS_SECRET_ACCESS_KEY", "atelier-test-secret")
            .output()
            .expect("run atelier");
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        run
    }

    /// `atelier publish`, with the server's log when it fails.
    fn publish(&self, args: &[&str]) -> Run {
        let mut all = vec!["publish"];
        all.extend(args);
        let run = self.atelier(&all);
        if run.code != 0 {
            eprintln!("--- sshd\n{}", self.sshd.log());
        }
        run
    }

    /// `atelier build --client SLUG` (or the base alone) into a fresh
    /// folder: what each target must hold.
    fn built(&self, client: Option<&str>) -> BTreeMap<String, Vec<u8>> {
        let out = tempfile::tempdir().expect("temp dir");
        let out_path = out.path().join("site");
        let out_arg = out_path.to_string_lossy().into_owned();
        let mut args = vec!["build", "--out", &out_arg];
        if let Some(slug) = client {
            args.extend(["--client", slug]);
        }
        self.atelier(&args).expect(0);
        let mut files = site(tree(&out_path));
        if client.is_none() {
            // `build` puts every client under the base; publish never does.
            files.retain(|rel, _| !rel.starts_with("clients/"));
        }
        files
    }

    fn branch(&self) -> BTreeMap<String, Vec<u8>> {
        branch_tree(&self.repo, BRANCH)
    }

    fn head(&self) -> String {
        git(&self.repo, &["rev-parse", BRANCH])
    }

    /// The S3 client's objects, by path under its prefix.
    fn bucket(&self) -> BTreeMap<String, ListedObject> {
        let prefix = format!("{S3_CLIENT}/");
        let objects = self.moto.objects(BUCKET);
        for key in objects.keys() {
            assert!(
                key.starts_with(&prefix),
                "an object outside the prefix: {key}"
            );
        }
        objects
            .into_iter()
            .map(|(key, object)| (key[prefix.len()..].to_string(), object))
            .collect()
    }

    /// The S3 client's published files, by path.
    fn bucket_files(&self) -> BTreeMap<String, Vec<u8>> {
        site(
            self.bucket()
                .into_iter()
                .map(|(path, object)| (path, object.body))
                .collect(),
        )
    }

    /// Asserts every target holds exactly its version, as `build` makes it.
    fn assert_each_target_holds_its_version(&self) {
        let branch = self.branch();
        assert!(
            !branch.keys().any(|rel| rel.starts_with("clients/")),
            "the base's branch holds clients/: {:?}",
            branch.keys().collect::<Vec<_>>()
        );
        assert_same(&site(branch), &self.built(None), "base on the git branch");
        assert_same(
            &site(tree(&self.sftp_folder)),
            &self.built(Some(SFTP_CLIENT)),
            "the SFTP client on its folder",
        );
        assert_same(
            &self.bucket_files(),
            &self.built(Some(S3_CLIENT)),
            "the S3 client in its bucket",
        );
    }
}

/// A summary line's figures: uploaded, deleted, unchanged and the bytes
/// text (`41.2 kB`), for `version` whose target description contains
/// `target`. Exactly one such line must be printed.
fn summary(stdout: &str, version: &str, target: &str) -> (usize, usize, usize, String) {
    let start = format!("{version} → ");
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with(&start)).collect();
    assert_eq!(lines.len(), 1, "one line for {version}:\n{stdout}");
    let line = lines[0];
    let (described, figures) = line[start.len()..]
        .rsplit_once(": ")
        .unwrap_or_else(|| panic!("no figures: {line}"));
    assert!(described.contains(target), "{version} → {target}?\n{line}");
    let parts: Vec<&str> = figures.split(", ").collect();
    assert_eq!(parts.len(), 4, "{line}");
    let number = |part: &str, word: &str| -> usize {
        part.strip_suffix(word)
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("`{part}` is not N {word}: {line}"))
    };
    (
        number(parts[0], " uploaded"),
        number(parts[1], " deleted"),
        number(parts[2], " unchanged"),
        parts[3]
            .strip_suffix(" sent")
            .unwrap_or_else(|| panic!("no bytes sent: {line}"))
            .to_string(),
    )
}

/// The three versions, with what their target descriptions contain.
fn versions(hosts: &Hosts) -> [(&'static str, String); 3] {
    [
        (
            "base",
            format!("git+file://{}#{BRANCH}", hosts.repo.display()),
        ),
        (
            SFTP_CLIENT,
            format!(
                "sftp://{}@127.0.0.1:{}{}",
                hosts.sshd.user,
                hosts.sshd.port,
                hosts.sftp_folder.display()
            ),
        ),
        (S3_CLIENT, format!("s3://{BUCKET}/{S3_CLIENT}")),
    ]
}

fn edit_a_shared_page(fixture: &Fixture) {
    fixture.write(
        "content/modules/02-la-gratitude.md",
        &page(
            "title: La gratitude\nduration: 20 min",
            "Dire merci sans rien demander, et le dire tôt.\n",
        ),
    );
}

#[test]
#[cfg_attr(
    not(all(sshd_tooling, s3_tooling)),
    ignore = "needs openssh-server (apt-get install openssh-server) and moto_server (pip install 'moto[server]')"
)]
fn one_publish_sends_each_version_to_its_own_host_then_only_what_changed() {
    let hosts = Hosts::start(true);
    let run = hosts.publish(&[]);
    run.expect(0);
    hosts.assert_each_target_holds_its_version();
    for (version, target) in versions(&hosts) {
        let built = hosts.built((version != "base").then_some(version));
        let (uploaded, deleted, unchanged, bytes) = summary(&run.stdout, version, &target);
        assert_eq!(
            (uploaded, deleted, unchanged),
            (built.len(), 0, 0),
            "{version}"
        );
        assert!(
            bytes.ends_with(" kB") || bytes.ends_with(" MB"),
            "{version}: {bytes}"
        );
    }
    let index = &hosts.bucket()["index.html"];
    assert_eq!(
        index.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
    // One client's text never reaches another's host, nor the base's.
    let text = |files: &BTreeMap<String, Vec<u8>>| -> String {
        files
            .values()
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            .collect()
    };
    let (base, sftp, s3) = (
        text(&hosts.branch()),
        text(&tree(&hosts.sftp_folder)),
        text(&hosts.bucket_files()),
    );
    assert!(sftp.contains("Maison Lumière") && s3.contains("Cabinet Horizon"));
    assert!(!sftp.contains("Cabinet Horizon") && !s3.contains("Maison Lumière"));
    assert!(!base.contains("Maison Lumière") && !base.contains("Cabinet Horizon"));

    // A page every version shows changes: a handful of files each.
    let first_head = hosts.head();
    edit_a_shared_page(&hosts.fixture);
    let run = hosts.publish(&[]);
    run.expect(0);
    hosts.assert_each_target_holds_its_version();
    for (version, target) in versions(&hosts) {
        let total = hosts.built((version != "base").then_some(version)).len();
        let (uploaded, deleted, unchanged, _) = summary(&run.stdout, version, &target);
        assert!(
            total > 15,
            "{version}: a site of {total} files is too small to tell"
        );
        assert!(
            (1..=5).contains(&uploaded),
            "{version}: {uploaded} uploaded for a one-page edit\n{}",
            run.stdout
        );
        assert_eq!((deleted, unchanged), (0, total - uploaded), "{version}");
    }
    let touched = git(&hosts.repo, &["diff", "--name-only", &first_head, BRANCH]);
    assert!(
        touched
            .lines()
            .any(|l| l == "modules/la-gratitude/index.html"),
        "{touched}"
    );

    // Nothing changed: nothing sent, no new commit.
    let head = hosts.head();
    let run = hosts.publish(&[]);
    run.expect(0);
    for (version, target) in versions(&hosts) {
        let total = hosts.built((version != "base").then_some(version)).len();
        let figures = summary(&run.stdout, version, &target);
        assert_eq!(figures, (0, 0, total, "0 B".to_string()), "{version}");
    }
    assert_eq!(hosts.head(), head);
}

#[test]
#[cfg_attr(
    not(all(sshd_tooling, s3_tooling)),
    ignore = "needs openssh-server (apt-get install openssh-server) and moto_server (pip install 'moto[server]')"
)]
fn a_dry_run_over_the_three_hosts_touches_nothing() {
    let hosts = Hosts::start(true);
    hosts.publish(&[]).expect(0);
    edit_a_shared_page(&hosts.fixture);
    let (head, folder, bucket) = (hosts.head(), tree(&hosts.sftp_folder), hosts.bucket());

    let dry = hosts.publish(&["--dry-run"]);
    dry.expect(0);
    assert_eq!(hosts.head(), head, "the dry run moved the branch");
    assert_eq!(
        git(&hosts.repo, &["for-each-ref", "--format=%(refname)"]),
        format!("refs/heads/{BRANCH}"),
        "the dry run made a ref"
    );
    assert!(
        tree(&hosts.sftp_folder) == folder,
        "the dry run changed the SFTP folder"
    );
    assert!(hosts.bucket() == bucket, "the dry run changed the bucket");
    for (version, target) in versions(&hosts) {
        let line = dry
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{version} → ")))
            .unwrap_or_else(|| panic!("no line for {version}:\n{}", dry.stdout));
        assert!(line.contains(&target), "{line}");
        assert!(
            line.ends_with(" to send (dry run: nothing touched)"),
            "{line}"
        );
        assert!(line.contains(" to upload, 0 to delete, "), "{line}");
    }
    let listed = dry
        .stdout
        .lines()
        .filter(|l| *l == "  + modules/la-gratitude/index.html")
        .count();
    assert_eq!(
        listed, 3,
        "the edited page, once per version:\n{}",
        dry.stdout
    );

    // What the dry run listed is still to send.
    hosts.publish(&[]).expect(0);
    hosts.assert_each_target_holds_its_version();
}

#[test]
#[cfg_attr(
    not(all(sshd_tooling, s3_tooling)),
    ignore = "needs openssh-server (apt-get install openssh-server) and moto_server (pip install 'moto[server]')"
)]
fn an_unknown_sftp_host_fails_alone_and_says_how_to_trust_it() {
    let hosts = Hosts::start(false);
    let run = hosts.publish(&[]);
    run.expect(1);
    let [_, (_, sftp_target), _] = versions(&hosts);
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with(&format!("error: {SFTP_CLIENT} → {sftp_target}")))
        .unwrap_or_else(|| panic!("no error naming the version and target:\n{}", run.stderr));
    assert!(
        error.contains("the target refused the credentials"),
        "{error}"
    );
    assert!(
        error.contains("SHA256:"),
        "the fingerprint to check: {error}"
    );
    assert!(
        error.contains(&format!(
            "ssh-keyscan -p {} 127.0.0.1 >> ~/.ssh/known_hosts",
            hosts.sshd.port
        )),
        "{error}"
    );
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("2 versions of 3 published"),
        "the last line says how many were published: {last}"
    );
    assert!(
        !hosts.sftp_folder.exists(),
        "the SFTP folder was made: {:?}",
        tree(&hosts.sftp_folder).keys().collect::<Vec<_>>()
    );
    // The other hosts are independent: published as if alone.
    assert_same(&site(hosts.branch()), &hosts.built(None), "base");
    assert_same(&hosts.bucket_files(), &hosts.built(Some(S3_CLIENT)), "S3");
    let known_hosts =
        fs::read_to_string(hosts.sshd.client_home().join(".ssh/known_hosts")).expect("known_hosts");
    assert_eq!(
        known_hosts,
        hosts.sshd.known_hosts_line(hosts.sshd.read_only_port),
        "atelier added a host key by itself"
    );
}
