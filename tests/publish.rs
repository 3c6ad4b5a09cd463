//! `atelier publish` through the binary: a local folder and a git branch
//! (a bare repository made here, reached through `git+file://`), what each
//! version sends, what it must never touch, and what an interrupted or
//! refused publish leaves behind.

mod common;
#[path = "common/published.rs"]
mod published;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Fixture, MINIMAL_CONFIG, page};
use published::{assert_same, bare_repo, branch_tree, git, site, tree};

/// A masterclass with two modules and two clients; `publish` blocks go
/// in afterwards.
fn project() -> Fixture {
    Fixture::new(&[
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
        ("clients/alpha/client.yaml", "name: Maison Alpha\n"),
        (
            "clients/beta/client.yaml",
            "name: Atelier Bêta\nindex: true\n",
        ),
    ])
}

/// Appends `publish: { target: TARGET }` to `file` (atelier.yaml or a
/// client.yaml), with `extra` lines inside the block.
fn publish_to(fixture: &Fixture, file: &str, target: &str, extra: &str) {
    let text = if fixture.exists(file) {
        fixture.read(file)
    } else {
        MINIMAL_CONFIG.to_string()
    };
    fixture.write(
        file,
        &format!("{text}publish:\n  target: \"{target}\"\n{extra}"),
    );
}

/// `atelier build --client SLUG` (or the base alone) into a fresh folder.
fn built_alone(fixture: &Fixture, client: Option<&str>) -> BTreeMap<String, Vec<u8>> {
    let out = tempfile::tempdir().expect("temp dir");
    let out_path = out.path().join("site");
    let out_arg = out_path.to_string_lossy().into_owned();
    let mut args = vec!["build", "--out", &out_arg];
    if let Some(slug) = client {
        args.extend(["--client", slug]);
    }
    fixture.run(&args).expect(0);
    let mut files = site(tree(&out_path));
    if client.is_none() {
        files.retain(|rel, _| !rel.starts_with("clients/"));
    }
    files
}

#[test]
fn each_version_goes_alone_to_its_own_target() {
    let fixture = project();
    let base_dir = tempfile::tempdir().expect("temp dir");
    let beta_dir = tempfile::tempdir().expect("temp dir");
    let (_repo_dir, repo) = bare_repo();
    let base_target = base_dir.path().join("www");
    publish_to(&fixture, "atelier.yaml", &base_target.to_string_lossy(), "");
    publish_to(
        &fixture,
        "clients/alpha/client.yaml",
        &format!("git+file://{}#gh-pages", repo.display()),
        "",
    );
    publish_to(
        &fixture,
        "clients/beta/client.yaml",
        &format!("file://{}", beta_dir.path().display()),
        "",
    );

    let run = fixture.run(&["publish"]);
    run.expect(0);
    let base_files = tree(&base_target);
    assert!(
        !base_files.keys().any(|rel| rel.starts_with("clients/")),
        "the base's target holds clients/: {:?}",
        base_files.keys().collect::<Vec<_>>()
    );
    assert_same(&site(base_files), &built_alone(&fixture, None), "base");
    let alpha = branch_tree(&repo, "gh-pages");
    assert!(
        alpha.contains_key(".nojekyll"),
        "GitHub Pages needs .nojekyll"
    );
    assert!(alpha.contains_key(".atelier-manifest.json"));
    assert_same(
        &site(alpha.clone()),
        &built_alone(&fixture, Some("alpha")),
        "alpha",
    );
    assert_same(
        &site(tree(beta_dir.path())),
        &built_alone(&fixture, Some("beta")),
        "beta",
    );
    // One line per version, in order, with what was sent.
    let files = |files: &BTreeMap<String, Vec<u8>>| files.len();
    let base_count = files(&site(tree(&base_target)));
    assert!(
        run.stdout.contains(&format!(
            "base → {}: {base_count} uploaded, 0 deleted, 0 unchanged,",
            base_target.display()
        )),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&format!(
        "alpha → git+file://{}#gh-pages: {} uploaded",
        repo.display(),
        site(alpha.clone()).len()
    )));
    assert!(run.stdout.contains(" kB sent"), "{}", run.stdout);
    // Other clients' text never reaches a target.
    let alpha_text: String = alpha
        .values()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(alpha_text.contains("Maison Alpha"));
    assert!(!alpha_text.contains("Atelier Bêta"));
    // noindex: a client's version unless `index: true`; never the base.
    let robots = r#"<meta name="robots" content="noindex">"#;
    let alpha_index = String::from_utf8_lossy(&alpha["index.html"]).into_owned();
    assert!(alpha_index.contains(robots), "{alpha_index}");
    assert!(!fixture_text(&base_target.join("index.html")).contains("noindex"));
    assert!(!fixture_text(&beta_dir.path().join("index.html")).contains("noindex"));

    // Published twice without an edit: nothing sent, no new commit.
    let head = git(&repo, &["rev-parse", "gh-pages"]);
    let again = fixture.run(&["publish"]);
    again.expect(0);
    assert!(
        again.stdout.contains(&format!(
            "0 uploaded, 0 deleted, {base_count} unchanged, 0 B sent"
        )),
        "{}",
        again.stdout
    );
    assert_eq!(git(&repo, &["rev-parse", "gh-pages"]), head);
}

fn fixture_text(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The paths a `--dry-run` lists as `+ path` or `- path` (by `sign`)
/// under `version`'s summary line.
fn listed(stdout: &str, version: &str, sign: char) -> Vec<String> {
    let prefix = format!("  {sign} ");
    let mut within = false;
    let mut paths = Vec::new();
    for line in stdout.lines() {
        if !line.starts_with("  ") {
            within = line.starts_with(&format!("{version} → "));
        } else if within && let Some(path) = line.strip_prefix(&prefix) {
            paths.push(path.to_string());
        }
    }
    paths.sort();
    paths
}

#[test]
fn a_one_page_edit_sends_only_what_changed_and_a_dry_run_touches_nothing() {
    let fixture = project();
    let (_repo_dir, repo) = bare_repo();
    let www = tempfile::tempdir().expect("temp dir");
    publish_to(&fixture, "atelier.yaml", &www.path().to_string_lossy(), "");
    publish_to(
        &fixture,
        "clients/alpha/client.yaml",
        &format!("git+file://{}#pages", repo.display()),
        "",
    );
    fixture.run(&["publish"]).expect(0);
    let first = git(&repo, &["rev-parse", "pages"]);

    fixture.write(
        "content/modules/02-la-gratitude.md",
        &page(
            "title: La gratitude\nduration: 20 min",
            "Dire merci sans rien demander, et le dire tôt.\n",
        ),
    );
    let before = tree(www.path());
    let dry = fixture.run(&["publish", "--dry-run"]);
    dry.expect(0);
    assert_same(&tree(www.path()), &before, "a dry run changed the folder");
    assert_eq!(git(&repo, &["rev-parse", "pages"]), first);
    assert!(
        dry.stdout.contains("(dry run: nothing touched)"),
        "{}",
        dry.stdout
    );
    let changed = listed(&dry.stdout, "base", '+');
    // The page, and the pages that show its text (the print page, the deck).
    assert!(
        changed.contains(&"modules/la-gratitude/index.html".to_string()),
        "{changed:?}"
    );
    assert!(changed.len() <= 4, "too many changes: {changed:?}");
    assert_eq!(listed(&dry.stdout, "alpha", '+'), changed);
    assert!(listed(&dry.stdout, "base", '-').is_empty());

    let run = fixture.run(&["publish"]);
    run.expect(0);
    assert!(
        run.stdout
            .contains(&format!("{} uploaded, 0 deleted", changed.len())),
        "{}",
        run.stdout
    );
    // One commit on the branch, touching only those files and the manifest.
    let log = git(&repo, &["rev-list", &format!("{first}..pages")]);
    assert_eq!(log.lines().count(), 1, "{log}");
    let mut touched: Vec<String> = git(&repo, &["diff", "--name-only", &first, "pages"])
        .lines()
        .map(str::to_string)
        .collect();
    touched.sort();
    let mut expected = changed.clone();
    expected.insert(0, ".atelier-manifest.json".to_string());
    assert_eq!(touched, expected);
    assert_same(
        &site(tree(www.path())),
        &built_alone(&fixture, None),
        "base",
    );
}

#[test]
fn only_published_files_are_deleted_and_max_deletes_guards_the_target() {
    let fixture = project();
    fixture.write(
        "content/modules/03-le-souvenir.md",
        &page("title: Le souvenir\nduration: 10 min", "Ce qui reste.\n"),
    );
    let www = tempfile::tempdir().expect("temp dir");
    publish_to(
        &fixture,
        "atelier.yaml",
        &www.path().to_string_lossy(),
        "  max_deletes: 1\n",
    );
    fixture.run(&["publish"]).expect(0);
    // The user's own files, beside and among atelier's.
    fs::write(www.path().join("CNAME"), "formations.example.org\n").expect("write");
    fs::write(
        www.path().join("modules/la-gratitude/notes.txt"),
        "mes notes\n",
    )
    .expect("write");

    // Two modules gone: two pages to delete, one allowed.
    fs::remove_file(fixture.path("content/modules/02-la-gratitude.md")).expect("rm");
    fs::remove_file(fixture.path("content/modules/03-le-souvenir.md")).expect("rm");
    let before = tree(www.path());
    let refused = fixture.run(&["publish"]);
    refused.expect(1);
    refused.says(&format!("error: base → {}", www.path().display()));
    refused.says("would delete 2 files, more than max_deletes (1); nothing was changed");
    refused.says("`max_deletes` in atelier.yaml");
    assert_eq!(
        tree(www.path()),
        before,
        "a refused publish touched the target"
    );

    let text = fixture
        .read("atelier.yaml")
        .replace("max_deletes: 1", "max_deletes: 2");
    fixture.write("atelier.yaml", &text);
    fixture.run(&["publish"]).expect(0).says("2 deleted");
    assert!(
        !www.path().join("modules/le-souvenir").exists(),
        "an emptied folder stayed"
    );
    assert!(!www.path().join("modules/la-gratitude/index.html").exists());
    assert_eq!(
        fixture_text(&www.path().join("CNAME")),
        "formations.example.org\n"
    );
    assert_eq!(
        fixture_text(&www.path().join("modules/la-gratitude/notes.txt")),
        "mes notes\n"
    );
}

#[test]
fn an_unreachable_target_names_its_version_and_the_others_are_published() {
    let fixture = project();
    let missing = tempfile::tempdir().expect("temp dir");
    let www = tempfile::tempdir().expect("temp dir");
    let a_file = www.path().join("un-fichier");
    fs::write(&a_file, "pas un dossier").expect("write");
    let missing_repo = format!(
        "git+file://{}/nulle-part.git#gh-pages",
        missing.path().display()
    );
    publish_to(&fixture, "clients/alpha/client.yaml", &missing_repo, "");
    let under_file = a_file.join("site");
    publish_to(
        &fixture,
        "clients/beta/client.yaml",
        &under_file.to_string_lossy(),
        "",
    );
    let base_target = www.path().join("base");
    publish_to(&fixture, "atelier.yaml", &base_target.to_string_lossy(), "");

    let run = fixture.run(&["publish"]);
    run.expect(1);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run.says(&format!(
        "error: alpha → {missing_repo}: cannot reach the target"
    ));
    run.says(&format!(
        "error: beta → {}: cannot reach the target",
        under_file.display()
    ));
    run.says("1 version of 3 published");
    assert!(
        base_target.join("index.html").is_file(),
        "the base was not published"
    );
    assert!(!missing.path().join("nulle-part.git").exists());
    assert_eq!(fixture_text(&a_file), "pas un dossier");
}

#[test]
fn a_refused_push_is_an_error_and_the_branch_stays() {
    let fixture = project();
    let (_repo_dir, repo) = bare_repo();
    let url = format!("git+file://{}#gh-pages", repo.display());
    publish_to(&fixture, "clients/alpha/client.yaml", &url, "");
    fixture.run(&["publish", "--client", "alpha"]).expect(0);
    let head = git(&repo, &["rev-parse", "gh-pages"]);

    let hook = repo.join("hooks/pre-receive");
    fs::write(&hook, "#!/bin/sh\necho 'pages are frozen' >&2\nexit 1\n").expect("hook");
    make_executable(&hook);
    fixture.write(
        "content/modules/01-la-confiance.md",
        &page("title: La confiance\nduration: 30 min", "Un autre texte.\n"),
    );
    let run = fixture.run(&["publish", "--client", "alpha"]);
    run.expect(1);
    run.says(&format!(
        "error: alpha → {url}: the target refused a write: git push failed"
    ));
    run.says("pages are frozen");
    assert_eq!(git(&repo, &["rev-parse", "gh-pages"]), head);
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn targets_are_checked_before_anything_is_built() {
    let fixture = project();
    publish_to(
        &fixture,
        "clients/alpha/client.yaml",
        "git+https://moi:s3cr3t@github.com/moi/atelier.git#gh-pages",
        "",
    );
    let run = fixture.run(&["publish"]);
    run.expect(1);
    run.says("clients/alpha/client.yaml:3:11");
    run.says("credentials never live in the project");
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);

    let fixture = project();
    publish_to(&fixture, "clients/alpha/client.yaml", "./content/site", "");
    fixture
        .run(&["publish"])
        .expect(1)
        .says("refusing to publish into")
        .says("inside the project's content/ sources");
    assert!(!fixture.exists("content/site"));

    let fixture = project();
    publish_to(&fixture, "atelier.yaml", "/tmp/x", "  max_delete: 3\n");
    fixture
        .run(&["publish"])
        .expect(1)
        .says("atelier.yaml:")
        .says("did you mean `max_deletes`?");

    let fixture = project();
    publish_to(
        &fixture,
        "clients/alpha/client.yaml",
        "git+file:///srv/pages.git",
        "",
    );
    fixture
        .run(&["publish"])
        .expect(1)
        .says("the git target names no branch");

    let fixture = project();
    let www = tempfile::tempdir().expect("temp dir");
    publish_to(
        &fixture,
        "clients/alpha/client.yaml",
        &www.path().to_string_lossy(),
        "",
    );
    publish_to(
        &fixture,
        "clients/beta/client.yaml",
        &www.path().to_string_lossy(),
        "",
    );
    fixture
        .run(&["publish"])
        .expect(1)
        .says("beta is published to the same target as alpha");
    assert!(tree(www.path()).is_empty());

    // No target anywhere: each version is skipped with a note.
    let fixture = project();
    fixture
        .run(&["publish"])
        .expect(0)
        .says("note: alpha has no publish target; skipped (add `publish: { target: … }` to clients/alpha/client.yaml)")
        .says("nothing to publish");
    fixture
        .run(&["publish", "--client", "alpah"])
        .expect(2)
        .says("did you mean `alpha`?");
}

#[test]
fn check_finds_the_targets_publish_would_refuse_and_build_does_not_mind() {
    let fixture = project();
    publish_to(
        &fixture,
        "clients/alpha/client.yaml",
        "git+file:///srv/pages.git",
        "",
    );
    let www = tempfile::tempdir().expect("temp dir");
    let folder = www.path().to_string_lossy().into_owned();
    publish_to(&fixture, "atelier.yaml", &folder, "");
    publish_to(&fixture, "clients/beta/client.yaml", &folder, "");
    let run = fixture.run(&["check"]);
    run.expect(1)
        .says("clients/alpha/client.yaml:3:11")
        .says("the git target names no branch")
        .says("clients/beta/client.yaml:4:11")
        .says("beta is published to the same target as base");
    // Checking one client looks at that client's target only.
    let run = fixture.run(&["check", "--client", "alpha"]);
    run.expect(1).says("the git target names no branch");
    assert!(!run.stderr.contains("beta"), "{}", run.stderr);
    // A build never depends on where it will be published.
    fixture.run(&["build"]).expect(0);
    assert!(tree(www.path()).is_empty());

    fixture.write(
        "clients/alpha/client.yaml",
        "name: Maison Alpha\npublish:\n  target: \"git+file:///srv/pages.git#gh-pages\"\n",
    );
    fixture.write(
        "clients/beta/client.yaml",
        &format!("name: Atelier Bêta\nindex: true\npublish:\n  target: \"{folder}/beta\"\n"),
    );
    let run = fixture.run(&["check"]);
    run.expect(0);
    assert!(!run.stderr.contains("target"), "{}", run.stderr);
}

/// Big static files, so a publish spends long enough writing for a kill
/// to land in the middle.
const BIG_FILES: usize = 8;
const BIG_SIZE: usize = 16 << 20;

fn write_big_files(fixture: &Fixture, fill: u8) {
    for i in 0..BIG_FILES {
        // static/media/ is published as media/.
        fixture.write_bytes(
            &format!("static/media/video-{i}.bin"),
            &vec![fill; BIG_SIZE],
        );
    }
}

#[test]
fn a_publish_killed_halfway_leaves_each_file_old_or_new_and_the_next_one_completes_it() {
    let fixture = project();
    let www = tempfile::tempdir().expect("temp dir");
    publish_to(&fixture, "atelier.yaml", &www.path().to_string_lossy(), "");
    write_big_files(&fixture, b'a');
    fixture.run(&["publish"]).expect(0);
    let old = site(tree(www.path()));

    // Every big file changes; the publish is killed while it writes them.
    write_big_files(&fixture, b'b');
    let mut child = Command::new(env!("CARGO_BIN_EXE_atelier"))
        .arg("publish")
        .current_dir(fixture.root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    let video = |i: usize| www.path().join(format!("media/video-{i}.bin"));
    // Killed once the first big file is new and the others not yet all.
    loop {
        let first_new = fs::File::open(video(0)).is_ok_and(|mut file| {
            let mut byte = [0u8; 1];
            std::io::Read::read_exact(&mut file, &mut byte).is_ok() && byte[0] == b'b'
        });
        if first_new {
            break;
        }
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the publish ended before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no file was ever written"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().expect("kill -9");
    child.wait().expect("wait");
    let after_kill = tree(www.path());
    let mut new_files = 0;
    for i in 0..BIG_FILES {
        let rel = format!("media/video-{i}.bin");
        let bytes = &after_kill[&rel];
        assert_eq!(bytes.len(), BIG_SIZE, "{rel} is truncated");
        let fill = bytes[0];
        assert!(bytes.iter().all(|&b| b == fill), "{rel} mixes old and new");
        new_files += usize::from(fill == b'b');
    }
    assert!(
        new_files < BIG_FILES,
        "the kill came after the last big file"
    );

    // The sources go back to what the manifest says the target holds: the
    // files the killed publish had already replaced are sent again.
    write_big_files(&fixture, b'a');
    fixture.run(&["publish"]).expect(0);
    assert_same(&site(tree(www.path())), &old, "after the kill and a revert");
    assert!(
        !tree(www.path())
            .keys()
            .any(|rel| rel.contains(".atelier-tmp-")),
        "a killed publish's temporary file stayed"
    );

    write_big_files(&fixture, b'b');
    fixture.run(&["publish"]).expect(0);
    assert_same(
        &site(tree(www.path())),
        &built_alone(&fixture, None),
        "base",
    );
}
