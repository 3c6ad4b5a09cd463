//! `atelier serve` end to end, over real sockets: edits reach open tabs as
//! Server-Sent Events, a broken file shows an error and keeps the last good
//! site, and after a series of edits the served site equals a clean
//! `atelier build` byte for byte.

mod common;
#[path = "common/events.rs"]
mod events;

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use common::{Fixture, Server, page};
use events::{subscribe, wait_for};

/// GET `path`: (status, body).
fn get(port: u16, path: &str) -> (u16, Vec<u8>) {
    common::http_get(port, path)
}

/// Waits for the next event named `name` for the participant pages, skipping
/// pings, other events, and the events meant only for the facilitator
/// version (rebuilt right after the participant versions).
fn expect_event(events: &Receiver<(String, String)>, name: &str) -> String {
    wait_for(events, name, Duration::from_secs(10), |data| {
        !data.contains("\"only\"")
    })
}

/// Waits for the event telling facilitator pages their version is ready.
fn expect_facilitator_event(events: &Receiver<(String, String)>, name: &str) -> String {
    wait_for(events, name, Duration::from_secs(10), |data| {
        data.contains("\"only\"")
    })
}

fn without_live_script(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body).into_owned();
    let start = "<script src=\"/__atelier/livereload.js\"";
    match text.find(start) {
        Some(at) => match text[at..].find("</script>") {
            Some(end) => format!("{}{}", &text[..at], &text[at + end + 9..]).into_bytes(),
            None => text.into_bytes(),
        },
        None => text.into_bytes(),
    }
}

fn project() -> Fixture {
    let f = Fixture::new(&[
        (
            "content/_index.md",
            &page("title: Accueil", "Bienvenue {{ client.name }}."),
        ),
        (
            "content/modules/01-ouverture.md",
            &page(
                "title: Ouverture\nduration: 30 min\nintensity: 2",
                "Premier texte.\n\n::: facilitator\nNOTE-ANIMATEUR\n:::\n",
            ),
        ),
        (
            "content/modules/02-confiance.md",
            &page(
                "title: Confiance\nduration: 45 min",
                "Voir [l'ouverture](01-ouverture.md).",
            ),
        ),
        (
            "content/exercises/lettre.md",
            &page(
                "title: Lettre\nkind: worksheet\nfields:\n  - { id: a, label: Destinataire }",
                "Écrivez.",
            ),
        ),
        ("static/extra.css", "body { color: black; }"),
    ]);
    f.write(
        "clients/lemoine/client.yaml",
        "name: Maison Lemoine\nsector: chocolaterie\n",
    );
    f
}

#[test]
fn edits_reach_open_tabs_and_the_served_site_equals_a_clean_build() {
    let f = project();
    let server = Server::start(f.root());
    let port = server.port;
    let (status, home) = get(port, "/");
    assert_eq!(status, 200);
    assert!(
        String::from_utf8_lossy(&home).contains("/__atelier/livereload.js"),
        "live script injected"
    );
    let stream = subscribe(port);
    expect_event(&stream, "hello");

    // An edit to one page.
    f.write(
        "content/modules/01-ouverture.md",
        &page(
            "title: Ouverture revue\nduration: 30 min\nintensity: 2",
            "Texte modifié.\n\n::: facilitator\nNOTE-ANIMATEUR\n:::\n",
        ),
    );
    expect_event(&stream, "reload");
    let (_, page_now) = get(port, "/modules/ouverture/");
    let text = String::from_utf8_lossy(&page_now);
    assert!(text.contains("Texte modifié."));
    let (_, next) = get(port, "/modules/confiance/");
    assert!(
        String::from_utf8_lossy(&next).contains("Ouverture revue"),
        "navigation of other pages updated"
    );
    let (_, landing) = get(port, "/");
    assert!(
        String::from_utf8_lossy(&landing).contains("Ouverture revue"),
        "agenda updated"
    );
    let (status, print) = get(port, "/print/");
    assert_eq!(status, 200);
    let print = String::from_utf8_lossy(&print);
    assert!(
        print.contains("Ouverture revue") && print.contains("Texte modifié."),
        "print page made from the new build"
    );

    // A broken front matter: error event naming the file, last good site kept.
    f.write(
        "content/modules/02-confiance.md",
        "---\ntitle: Confiance\ndurée: 3\n---\nx",
    );
    let error = expect_event(&stream, "error");
    assert!(error.contains("content/modules/02-confiance.md"), "{error}");
    let (status, still) = get(port, "/modules/confiance/");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&still).contains("Voir"));
    // Fixed: reload.
    f.write(
        "content/modules/02-confiance.md",
        &page(
            "title: Confiance\nduration: 45 min",
            "Voir [l'ouverture](01-ouverture.md) encore.",
        ),
    );
    expect_event(&stream, "reload");

    // A body that fails to render, then a fix that touches only the body:
    // the next build must not start from the failed one.
    f.write(
        "content/modules/02-confiance.md",
        &page(
            "title: Confiance\nduration: 45 min",
            "Voir {{ client.inconnue }} encore.",
        ),
    );
    let error = expect_event(&stream, "error");
    assert!(error.contains("content/modules/02-confiance.md"), "{error}");
    for round in ["CORPS-REPARE-1", "CORPS-REPARE-2"] {
        f.write(
            "content/modules/02-confiance.md",
            &page(
                "title: Confiance\nduration: 45 min",
                &format!("{round} : voir [l'ouverture](01-ouverture.md) encore."),
            ),
        );
        expect_event(&stream, "reload");
        let (_, fixed) = get(port, "/modules/confiance/");
        assert!(String::from_utf8_lossy(&fixed).contains(round), "{round}");
    }

    // A CSS-only change: swap stylesheets, no reload.
    f.write("static/extra.css", "body { color: navy; }");
    expect_event(&stream, "css");
    let (_, css) = get(port, "/extra.css");
    assert_eq!(css, b"body { color: navy; }");

    // A new page, a deleted page, an overlay page, an editor's atomic save.
    f.write(
        "content/modules/03-recit.md",
        &page("title: Récit\nduration: 20 min", "Un récit."),
    );
    expect_event(&stream, "reload");
    f.write(
        "clients/lemoine/content/modules/03-recit.md",
        &page(
            "title: Récit chocolaté\nduration: 20 min",
            "Pour {{ client.name }}.",
        ),
    );
    expect_event(&stream, "reload");
    std::fs::remove_file(f.path("content/exercises/lettre.md")).expect("delete");
    expect_event(&stream, "reload");
    f.write("content/modules/.01-ouverture.md.swp", "swap");
    f.write(
        "content/modules/01-ouverture.md.tmp-save",
        &page(
            "title: Ouverture finale\nduration: 30 min\nintensity: 3",
            "Version finale.",
        ),
    );
    std::fs::rename(
        f.path("content/modules/01-ouverture.md.tmp-save"),
        f.path("content/modules/01-ouverture.md"),
    )
    .expect("rename");
    expect_event(&stream, "reload");
    // The facilitator version follows the participant versions.
    let scope = expect_facilitator_event(&stream, "reload");
    assert!(scope.contains("_facilitator/"), "{scope}");

    // A module folder moved out of content/ in one rename leaves the site.
    f.write(
        "content/modules/05-dossier/_index.md",
        &page("title: Dossier\nduration: 20 min", "Un dossier."),
    );
    f.write(
        "content/modules/05-dossier/01-etape.md",
        &page("title: Étape\nduration: 10 min", "Une étape."),
    );
    expect_event(&stream, "reload");
    let (status, _) = get(port, "/modules/dossier/etape/");
    assert_eq!(status, 200);
    std::fs::rename(
        f.path("content/modules/05-dossier"),
        f.path("dossier-sorti"),
    )
    .expect("move the folder out");
    expect_event(&stream, "reload");
    let (status, _) = get(port, "/modules/dossier/etape/");
    assert_eq!(status, 404, "a moved-out folder's pages are gone");
    expect_facilitator_event(&stream, "reload");

    // The served site equals a clean build, version by version.
    f.run(&["build", "--out", "built"]).expect(0);
    f.run(&["build", "--facilitator", "--out", "built-facilitator"])
        .expect(0);
    let compared = served_equal_to(&f, port, "built", "", "the edits")
        + served_equal_to(&f, port, "built-facilitator", "_facilitator/", "the edits");
    assert!(compared > 20, "compared {compared} files");
    assert!(
        compared_client_facilitator(&f, port) > 5,
        "the client's facilitator version was compared"
    );
}

/// Each client's facilitator version is served at `/_facilitator/clients/<slug>/`
/// (where `build --facilitator` writes it), offered by the toolbar, and
/// has its own 404 page. Returns how many of its files were compared above.
fn compared_client_facilitator(f: &Fixture, port: u16) -> usize {
    let (status, home) = get(port, "/_facilitator/clients/lemoine/");
    assert_eq!(status, 200, "/_facilitator/clients/lemoine/");
    let home = String::from_utf8_lossy(&home);
    assert!(
        home.contains("Maison Lemoine") && home.contains("facilitator-banner"),
        "{home}"
    );
    let (_, module) = get(port, "/_facilitator/clients/lemoine/modules/ouverture/");
    assert!(String::from_utf8_lossy(&module).contains("facilitator-banner"));
    let (status, missing) = get(port, "/_facilitator/clients/lemoine/nope");
    assert_eq!(status, 404);
    assert_eq!(
        without_live_script(&missing),
        std::fs::read(f.path("built-facilitator/clients/lemoine/404.html")).expect("read"),
        "the client's facilitator 404 page"
    );
    let (_, versions) = get(port, "/__atelier/versions.json");
    let versions = String::from_utf8_lossy(&versions);
    assert!(
        versions.contains("\"prefix\":\"_facilitator/clients/lemoine/\""),
        "{versions}"
    );
    walkdir::WalkDir::new(f.path("built-facilitator/clients/lemoine"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .count()
}

#[test]
fn the_first_build_may_fail_and_the_server_waits_for_a_fix() {
    let f = project();
    f.write(
        "content/modules/02-confiance.md",
        "---\ntitle: [cassé\n---\nx",
    );
    let server = Server::start(f.root());
    let stream = subscribe(server.port);
    let hello = expect_event(&stream, "hello");
    let _ = hello;
    let (_, page) = get(server.port, "/");
    assert!(String::from_utf8_lossy(&page).contains("content/modules/02-confiance.md"));
    f.write("content/modules/02-confiance.md", &page_text());
    expect_event(&stream, "reload");
    let (status, _) = get(server.port, "/modules/confiance/");
    assert_eq!(status, 200);
}

fn page_text() -> String {
    page("title: Confiance\nduration: 45 min", "Réparé.")
}

#[test]
fn warnings_from_reading_the_sources_are_shown_once() {
    let f = project();
    f.write(
        "content/modules/07-ouverture.md",
        &page("title: Ouverture bis\nduration: 10 min", "Encore."),
    );
    let server = Server::start(f.root());
    let stream = subscribe(server.port);
    expect_event(&stream, "hello");
    let warning = "share the URL name `ouverture`";
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.stderr().contains(warning) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        server.stderr().matches(warning).count(),
        1,
        "{}",
        server.stderr()
    );
    f.write(
        "content/modules/02-confiance.md",
        &page("title: Confiance\nduration: 45 min", "Un autre texte."),
    );
    expect_event(&stream, "reload");
    expect_facilitator_event(&stream, "reload");
    assert_eq!(
        server.stderr().matches(warning).count(),
        1,
        "not repeated on every save:\n{}",
        server.stderr()
    );
}

/// Moving a module before another through its own front matter leaves the
/// other page's source untouched, yet its neighbour changes side: its pager
/// must be rendered again, not reused.
#[test]
fn a_neighbour_moving_to_the_other_side_renders_the_page_again() {
    let f = Fixture::new(&[
        ("content/modules/01-alpha.md", &page("title: Alpha", "A")),
        ("content/modules/02-beta.md", &page("title: Beta", "B")),
    ]);
    let server = Server::start(f.root());
    let port = server.port;
    let stream = subscribe(port);
    expect_event(&stream, "hello");
    let (_, before) = get(port, "/modules/alpha/");
    assert!(String::from_utf8_lossy(&before).contains("rel=\"next\""));
    f.write(
        "content/modules/02-beta.md",
        &page("title: Beta\norder: 0", "B"),
    );
    expect_event(&stream, "reload");
    let (_, served) = get(port, "/modules/alpha/");
    f.run(&["build", "--out", "built"]).expect(0);
    let built = std::fs::read(f.path("built/modules/alpha/index.html")).expect("read");
    assert!(
        without_live_script(&served) == built,
        "served:\n{}\nbuilt:\n{}",
        String::from_utf8_lossy(&served),
        String::from_utf8_lossy(&built)
    );
    assert!(String::from_utf8_lossy(&built).contains("rel=\"prev\""));
}

#[test]
fn a_theme_stylesheet_edit_is_served_and_swapped() {
    let f = project();
    f.write(
        "themes/atelier/static/atelier.css",
        "body { color: black; }",
    );
    let server = Server::start(f.root());
    let port = server.port;
    let stream = subscribe(port);
    expect_event(&stream, "hello");
    let (_, css) = get(port, "/static/atelier.css");
    assert_eq!(css, b"body { color: black; }");
    f.write("themes/atelier/static/atelier.css", "body { color: teal; }");
    expect_event(&stream, "css");
    let (_, css) = get(port, "/static/atelier.css");
    assert_eq!(
        String::from_utf8_lossy(&css),
        "body { color: teal; }",
        "the edited theme stylesheet is served"
    );
}

/// The served site, version by version, equals a clean build into `dir`:
/// returns how many files were compared.
fn assert_served_equals_build(f: &Fixture, port: u16, dir: &str, after: &str) -> usize {
    f.run(&["build", "--out", dir]).expect(0);
    served_equal_to(f, port, dir, "", after)
}

/// Every file of the build already in `dir` is served, byte for byte, under
/// `/{prefix}`: returns how many files were compared.
fn served_equal_to(f: &Fixture, port: u16, dir: &str, prefix: &str, after: &str) -> usize {
    let mut compared = 0;
    for entry in walkdir::WalkDir::new(f.path(dir))
        .into_iter()
        .filter_map(Result::ok)
    {
        if !entry.file_type().is_file() || entry.file_name() == ".atelier-output" {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(f.path(dir))
            .expect("rel")
            .to_string_lossy()
            .replace('\\', "/");
        let (status, served) = get(port, &format!("/{prefix}{rel}"));
        assert_eq!(status, 200, "/{prefix}{rel}");
        let built = std::fs::read(entry.path()).expect("read");
        assert!(
            without_live_script(&served) == built,
            "after {after}, /{prefix}{rel} differs from the clean build:\nserved:\n{}\nbuilt:\n{}",
            String::from_utf8_lossy(&without_live_script(&served)),
            String::from_utf8_lossy(&built)
        );
        compared += 1;
    }
    compared
}

/// A page is reused by the preview server when its fingerprint did not
/// change: an edit to any input its page value reads (its own strings, a
/// neighbour's title or order, its module's duration and clock times, a
/// listed exercise, a client variable) must show, so after each kind of
/// edit the served site equals a clean build. The project's module
/// template prints the whole page value, so no field can hide.
#[test]
fn every_input_of_a_page_value_reaches_the_served_page() {
    let module = |front: &str| page(front, "Texte.");
    let f = Fixture::new(&[
        (
            "atelier.yaml",
            &format!("{}schedule:\n  start: \"09:00\"\n", common::MINIMAL_CONFIG),
        ),
        (
            "templates/module.html",
            concat!(
                "{{ page.kind }} {{ page.title }} {{ page.summary }} {{ page.description }}\n",
                "{{ page.url }} {{ page.href }} {{ page.duration }} {{ page.start }}\n",
                "{{ page.emotion }} {{ page.intensity }} {{ page.content | safe }}\n",
                "{% for o in page.objectives %}{{ o }};{% endfor %}\n",
                "{% for e in page.exercises %}{{ e.id }} {{ e.title }} {{ e.href }} ",
                "{{ e.kind }} {{ e.duration }} {{ e.html | safe }};{% endfor %}\n",
                "{% if page.module %}{{ page.module.title }} {{ page.module.href }} ",
                "{{ page.module.duration }}{% for s in page.module.steps %} {{ s.title }} ",
                "{{ s.href }} {{ s.duration }} {{ s.current }}{% endfor %}{% endif %}\n",
                "{% if page.prev %}{{ page.prev.title }} {{ page.prev.href }}{% endif %}\n",
                "{% if page.next %}{{ page.next.title }} {{ page.next.href }}{% endif %}\n",
            ),
        ),
        (
            "content/modules/01-accueil/_index.md",
            &module(
                "title: Accueil\nsummary: Premier résumé pour {{ client.name }}\nobjectives: [Écouter]\nexercises: [lettre]",
            ),
        ),
        (
            "content/modules/01-accueil/01-a.md",
            &module("title: Étape A\nduration: 10 min"),
        ),
        (
            "content/modules/01-accueil/02-b.md",
            &module("title: Étape B\nduration: 20 min"),
        ),
        (
            "content/modules/02-suite.md",
            &module("title: Suite pour {{ client.name }}\nduration: 15 min"),
        ),
        (
            "content/exercises/lettre.md",
            &page("title: Lettre\nkind: worksheet", "Écrivez."),
        ),
    ]);
    f.write("clients/lemoine/client.yaml", "name: Maison Lemoine\n");
    let server = Server::start(f.root());
    let port = server.port;
    let stream = subscribe(port);
    expect_event(&stream, "hello");
    assert!(assert_served_equals_build(&f, port, "built-0", "the first build") > 10);

    let edits: [(&str, &str, String); 7] = [
        (
            "a neighbour's title",
            "content/modules/01-accueil/01-a.md",
            module("title: Étape A revue\nduration: 10 min"),
        ),
        (
            "a summary",
            "content/modules/01-accueil/_index.md",
            module(
                "title: Accueil\nsummary: Second résumé pour {{ client.name }}\nobjectives: [Écouter]\nexercises: [lettre]",
            ),
        ),
        (
            "objectives",
            "content/modules/01-accueil/_index.md",
            module(
                "title: Accueil\nsummary: Second résumé pour {{ client.name }}\nobjectives: [Écouter, Relancer]\nexercises: [lettre]",
            ),
        ),
        (
            "the order of neighbours",
            "content/modules/01-accueil/02-b.md",
            module("title: Étape B\nduration: 20 min\norder: 0"),
        ),
        (
            "a step's duration (the module's duration, the clock times)",
            "content/modules/01-accueil/01-a.md",
            module("title: Étape A revue\nduration: 25 min"),
        ),
        (
            "a listed exercise's kind",
            "content/exercises/lettre.md",
            page("title: Lettre\nkind: reflection", "Écrivez."),
        ),
        (
            "a client variable",
            "clients/lemoine/client.yaml",
            "name: Maison Lemoine et fils\n".to_string(),
        ),
    ];
    for (round, (what, file, text)) in edits.iter().enumerate() {
        f.write(file, text);
        expect_event(&stream, "reload");
        assert_served_equals_build(&f, port, &format!("built-{}", round + 1), what);
    }
}

/// An address the server cannot listen on is a failure of the machine, not
/// of the command line: exit code 1 (I/O), with what failed, not 2 (usage).
#[test]
fn failing_to_listen_is_an_io_error() {
    let f = project();
    f.run(&["serve", "--bind", "256.0.0.1", "--port", "1"])
        .expect(1)
        .says("cannot listen on 256.0.0.1:1");
}

/// `serve --client` with no such client is a usage error (exit code 2)
/// naming the clients there are, as `build --client` says it.
#[test]
fn serving_an_unknown_client_is_a_usage_error() {
    let f = project();
    f.run(&["serve", "--client", "personne"])
        .expect(2)
        .says("no client `personne` in clients/");
}
