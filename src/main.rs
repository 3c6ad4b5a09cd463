//! The `atelier` command: parses arguments, runs the library, prints
//! diagnostics and maps outcomes to exit codes (0 ok, 1 content or build
//! errors, 2 usage errors).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use atelier::builder::{self, BuildOptions, Workbooks};
use atelier::error::{Diagnostic, Error};
use atelier::plural::count;
use atelier::project::Project;

/// Static-site generator for emotional-marketing masterclasses.
#[derive(Debug, Parser)]
#[command(name = "atelier", version, about, long_about = None)]
struct Cli {
    /// Project folder (default: the nearest parent with atelier.yaml).
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print more detail (timings).
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scaffold a working masterclass (never overwrites a file).
    Init {
        /// Folder to create it in (default: the current folder).
        dir: Option<PathBuf>,
    },
    /// Build the site into public/ (and every client version).
    Build(BuildArgs),
    /// Serve the site with live reload while you write.
    Serve(ServeArgs),
    /// Validate everything a build does, plus links, without writing.
    Check(CheckArgs),
    /// Publish each version to its target, sending only what changed.
    Publish(PublishArgs),
    /// Typeset the workbook PDFs only (the base's and every client's).
    Pdf(PdfArgs),
    /// Create a new module, exercise or client.
    New {
        /// What to create.
        kind: NewKind,
        /// Its title (or the client's name).
        title: String,
    },
}

#[derive(Debug, Args)]
struct BuildArgs {
    /// Build only this client (repeatable); one client is written at the output root.
    #[arg(long = "client", value_name = "SLUG")]
    clients: Vec<String>,
    /// Output folder (default public/, or public-facilitator/ with --facilitator).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Override base_url from atelier.yaml.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Include pages marked draft.
    #[arg(long)]
    drafts: bool,
    /// Build the facilitator version (notes shown, solutions open).
    #[arg(long)]
    facilitator: bool,
    /// Also write each version's workbook.pdf at its root.
    #[arg(long)]
    pdf: bool,
}

#[derive(Debug, Args)]
struct PdfArgs {
    /// Only this client's workbook (repeatable); one client is written at the output root.
    #[arg(long = "client", value_name = "SLUG")]
    clients: Vec<String>,
    /// The facilitator's workbooks (notes and solutions included).
    #[arg(long)]
    facilitator: bool,
    /// Output folder (default workbooks/, or workbooks-facilitator/ with --facilitator):
    /// DIR/workbook.pdf for the base, DIR/clients/<slug>/workbook.pdf for each client.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Port to listen on.
    #[arg(long, default_value_t = 1111)]
    port: u16,
    /// Address to bind (127.0.0.1 unless you say otherwise).
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Preview this client's version.
    #[arg(long, value_name = "SLUG")]
    client: Option<String>,
    /// Open the browser.
    #[arg(long)]
    open: bool,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Check only this client (repeatable).
    #[arg(long = "client", value_name = "SLUG")]
    clients: Vec<String>,
    /// Turn warnings into errors.
    #[arg(long)]
    strict: bool,
}

#[derive(Debug, Args)]
struct PublishArgs {
    /// Publish only this client's version (repeatable); default: the base
    /// version and every client that has a target.
    #[arg(long = "client", value_name = "SLUG")]
    clients: Vec<String>,
    /// List what would be uploaded and deleted; touch nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum NewKind {
    Module,
    Exercise,
    Client,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Unreported(error)) => {
            eprintln!("{error}");
            ExitCode::from(error.exit_code() as u8)
        }
        Err(Failure::Reported(error)) => ExitCode::from(error.exit_code() as u8),
    }
}

/// How a command failed: with an error still to print, or with its problems
/// already printed in the command's own layout (`check`'s grouped report);
/// the exit code is the error's either way.
enum Failure {
    Unreported(Error),
    Reported(Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Unreported(error)
    }
}

fn run(cli: &Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Build(args) => {
            let project = Project::open(cli.root.as_deref())?;
            let report = builder::build(
                &project,
                &BuildOptions {
                    out: args.out.clone(),
                    base_url: args.base_url.clone(),
                    drafts: args.drafts,
                    facilitator: args.facilitator,
                    check_only: false,
                    clients: args.clients.clone(),
                    strict: false,
                    pdf: if args.pdf {
                        Workbooks::WithSite
                    } else {
                        Workbooks::No
                    },
                },
                &|target| note_waiting(cli, target),
            )?;
            print_warnings(cli, &report.warnings);
            if cli.verbose {
                print_timings(&report);
            }
            if !cli.quiet {
                for client in &report.uniqueness {
                    println!("  {}", uniqueness_line(client));
                }
                let out = report
                    .out
                    .as_deref()
                    .map(atelier::output::shown)
                    .unwrap_or_default();
                let versions = match report.versions {
                    1 => String::new(),
                    n => format!(" ({n} versions)"),
                };
                println!(
                    "Built {}{versions} in {} ms → {out}{}",
                    count(report.pages, "page", "pages"),
                    report.elapsed.as_millis(),
                    warning_suffix(&report.warnings)
                );
                if !report.uniqueness.is_empty() && !args.facilitator {
                    println!(
                        "  {out}clients/ holds each client's version: do not copy {out} online as it is. \
                         Put a version online with `atelier publish` (a `publish: {{ target: … }}` in atelier.yaml or its client.yaml), \
                         or build one client alone with `atelier build --client SLUG`."
                    );
                }
            }
            Ok(())
        }
        Command::Pdf(args) => {
            let project = Project::open(cli.root.as_deref())?;
            let report = builder::build(
                &project,
                &BuildOptions {
                    out: args.out.clone(),
                    facilitator: args.facilitator,
                    clients: args.clients.clone(),
                    pdf: Workbooks::Only,
                    ..BuildOptions::default()
                },
                &|target| note_waiting(cli, target),
            )?;
            print_warnings(cli, &report.warnings);
            if cli.verbose {
                print_timings(&report);
            }
            if !cli.quiet {
                let out = report
                    .out
                    .as_deref()
                    .map(atelier::output::shown)
                    .unwrap_or_default();
                println!(
                    "Wrote {} in {} ms → {out}{}",
                    count(report.versions, "workbook", "workbooks"),
                    report.elapsed.as_millis(),
                    warning_suffix(&report.warnings)
                );
            }
            Ok(())
        }
        Command::Check(args) => {
            let project = Project::open(cli.root.as_deref())?;
            let options = BuildOptions {
                clients: args.clients.clone(),
                strict: args.strict,
                ..BuildOptions::default()
            };
            let report = match builder::check(&project, &options) {
                Ok(report) => report,
                // The sources could not be read: nothing was rendered.
                Err(Error::Content(problems)) => {
                    let shown: Vec<&Diagnostic> = problems.iter().collect();
                    print_grouped(&shown);
                    eprintln!("{}", problem_count(&shown));
                    return Err(Failure::Reported(Error::Content(problems)));
                }
                Err(other) => return Err(other.into()),
            };
            let mut problems: Vec<&Diagnostic> = report.errors.iter().collect();
            if !cli.quiet {
                problems.extend(&report.warnings);
            }
            problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
            print_grouped(&problems);
            if cli.verbose {
                print_timings(&report);
            }
            if !cli.quiet {
                print_uniqueness(&report.uniqueness);
            }
            let summary = format!(
                "Checked {} in {} in {} ms: {}",
                count(report.pages, "page", "pages"),
                count(report.versions, "version", "versions"),
                report.elapsed.as_millis(),
                problem_count(&problems)
            );
            if !report.errors.is_empty() {
                eprintln!("{summary}");
                return Err(Failure::Reported(Error::Content(report.errors)));
            }
            if !cli.quiet {
                println!("{summary}");
            }
            Ok(())
        }
        Command::Serve(args) => Ok(atelier::serve::run(
            cli.root.as_deref(),
            &atelier::serve::ServeOptions {
                port: args.port,
                bind: args.bind.clone(),
                client: args.client.clone(),
                open: args.open,
                quiet: cli.quiet,
                verbose: cli.verbose,
            },
            std::sync::Arc::new(Terminal),
        )?),
        Command::Publish(args) => {
            let project = Project::open(cli.root.as_deref())?;
            let report = atelier::publish::run(
                &project,
                &atelier::publish::PublishOptions {
                    clients: args.clients.clone(),
                    dry_run: args.dry_run,
                },
            )?;
            print_warnings(cli, &report.warnings);
            print_publish(cli, &report, args.dry_run);
            if report.failed() {
                return Err(Failure::Reported(Error::Content(Vec::new())));
            }
            Ok(())
        }
        Command::Init { dir } => {
            let dir = dir
                .clone()
                .or_else(|| cli.root.clone())
                .unwrap_or_else(|| PathBuf::from("."));
            let report = atelier::scaffold::init(&dir)?;
            if !cli.quiet {
                print!("{report}");
            }
            Ok(())
        }
        Command::New { kind, title } => {
            let project = Project::open(cli.root.as_deref())?;
            let kind = match kind {
                NewKind::Module => atelier::scaffold::NewKind::Module,
                NewKind::Exercise => atelier::scaffold::NewKind::Exercise,
                NewKind::Client => atelier::scaffold::NewKind::Client,
            };
            let created = atelier::scaffold::create(&project.root, kind, title)?;
            if !cli.quiet {
                println!("Created {}", atelier::error::display_path(&created));
            }
            Ok(())
        }
    }
}

/// `publish`'s report: one line per version (and, for a dry run, the paths).
fn print_publish(cli: &Cli, report: &atelier::publish::PublishReport, dry_run: bool) {
    use atelier::publish::{Outcome, shown_bytes};
    let mut published = 0;
    for version in &report.versions {
        match &version.outcome {
            Outcome::Skipped => {
                if !cli.quiet {
                    eprintln!(
                        "note: {} has no publish target; skipped (add `publish: {{ target: … }}` to {})",
                        version.name,
                        atelier::error::display_path(&version.config_file)
                    );
                }
            }
            Outcome::Done {
                target,
                changes,
                bytes,
            } => {
                published += 1;
                if cli.quiet {
                    continue;
                }
                let (uploaded, deleted, sent) = if dry_run {
                    ("to upload", "to delete", "to send")
                } else {
                    ("uploaded", "deleted", "sent")
                };
                println!(
                    "{} → {target}: {} {uploaded}, {} {deleted}, {} unchanged, {} {sent}{}",
                    version.name,
                    changes.upload.len(),
                    changes.delete.len(),
                    changes.unchanged,
                    shown_bytes(*bytes),
                    if dry_run {
                        " (dry run: nothing touched)"
                    } else {
                        ""
                    }
                );
                if dry_run {
                    for path in &changes.upload {
                        println!("  + {path}");
                    }
                    for path in &changes.delete {
                        println!("  - {path}");
                    }
                }
            }
            Outcome::Failed { target, error } => {
                eprintln!("error: {} → {target}: {error}", version.name);
            }
        }
    }
    let asked = report
        .versions
        .iter()
        .filter(|v| !matches!(v.outcome, Outcome::Skipped))
        .count();
    if asked == 0 {
        if !cli.quiet {
            eprintln!(
                "nothing to publish: no version has a target (add `publish: {{ target: … }}` to atelier.yaml or a client.yaml)"
            );
        }
    } else if report.failed() {
        eprintln!(
            "{} of {} published; a target that failed holds each file old or new: run `atelier publish` again once it is fixed",
            count(published, "version", "versions"),
            asked
        );
    } else if cli.verbose {
        eprintln!(
            "  publish {:>8.1} ms",
            report.elapsed.as_secs_f64() * 1000.0
        );
    }
}

/// `check`'s report: problems grouped under their file.
fn print_grouped(problems: &[&Diagnostic]) {
    let mut current: Option<Option<&std::path::Path>> = None;
    for problem in problems {
        let file = problem.file.as_deref();
        if current != Some(file) {
            let header = file.map_or_else(|| "(project)".to_string(), atelier::error::display_path);
            eprintln!("\n{header}");
            current = Some(file);
        }
        for line in problem.to_string().lines() {
            eprintln!("  {line}");
        }
    }
    if !problems.is_empty() {
        eprintln!();
    }
}

/// "1 error, 2 warnings in 2 files", or "no problems found".
fn problem_count(problems: &[&Diagnostic]) -> String {
    let errors = problems.iter().filter(|d| d.is_error()).count();
    let warnings = problems.len() - errors;
    let files: std::collections::HashSet<_> = problems.iter().map(|d| d.file.as_deref()).collect();
    let counts = match (errors, warnings) {
        (0, 0) => return "no problems found".to_string(),
        (_, 0) => count(errors, "error", "errors"),
        (0, _) => count(warnings, "warning", "warnings"),
        _ => format!(
            "{}, {}",
            count(errors, "error", "errors"),
            count(warnings, "warning", "warnings")
        ),
    };
    format!("{counts} in {}", count(files.len(), "file", "files"))
}

/// `check`'s uniqueness report: each client's figure and what makes it.
fn print_uniqueness(clients: &[atelier::uniqueness::ClientReport]) {
    if clients.is_empty() {
        return;
    }
    println!("Uniqueness of each client's version (share of its text not in the base version):");
    for client in clients {
        println!("  {}", uniqueness_line(client));
        for (label, files) in [("overrides", &client.overridden), ("adds", &client.added)] {
            if !files.is_empty() {
                let files: Vec<String> = files
                    .iter()
                    .map(|f| atelier::error::display_path(f))
                    .collect();
                println!("      {label}: {}", files.join(", "));
            }
        }
        if !client.variables.is_empty() {
            println!("      variables: {}", client.variables.join(", "));
        }
    }
}

fn print_timings(report: &builder::BuildReport) {
    for (phase, time) in &report.timings {
        eprintln!("  {phase:<28} {:>8.1} ms", time.as_secs_f64() * 1000.0);
    }
}

fn uniqueness_line(client: &atelier::uniqueness::ClientReport) -> String {
    let similar = client
        .most_similar
        .as_ref()
        .map(|(slug, alike)| {
            format!(
                "; closest: {slug} ({} alike)",
                atelier::uniqueness::percent(*alike)
            )
        })
        .unwrap_or_default();
    format!(
        "{}: {} unique — {} overridden, {} added, {}{similar}",
        client.slug,
        atelier::uniqueness::percent(client.share),
        client.overridden.len(),
        client.added.len(),
        count(client.variables.len(), "variable", "variables"),
    )
}

/// Says, unless `-q`, that this build waits for another one writing the
/// same output (the output lock).
fn note_waiting(cli: &Cli, target: &std::path::Path) {
    if !cli.quiet {
        eprintln!(
            "note: waiting for another build of {} to finish…",
            atelier::output::shown(target)
        );
    }
}

fn print_warnings(cli: &Cli, warnings: &[Diagnostic]) {
    if cli.quiet {
        return;
    }
    for warning in warnings {
        eprintln!("{warning}");
    }
}

fn warning_suffix(warnings: &[Diagnostic]) -> String {
    match warnings.len() {
        0 => String::new(),
        n => format!(" ({})", count(n, "warning", "warnings")),
    }
}

/// `atelier serve` reports to the terminal: news on stdout, problems on
/// stderr.
struct Terminal;

impl atelier::serve::Reporter for Terminal {
    fn info(&self, text: &str) {
        println!("{text}");
    }

    fn problem(&self, text: &str) {
        eprintln!("{text}");
    }
}
