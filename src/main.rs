//! The `atelier` command: parses arguments, runs the library, prints
//! diagnostics and maps outcomes to exit codes (0 ok, 1 content or build
//! errors, 2 usage errors).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use atelier::builder::{self, BuildOptions};
use atelier::error::{Diagnostic, Error};
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
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(error.exit_code() as u8)
        }
    }
}

fn run(cli: &Cli) -> Result<(), Error> {
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
                    quiet: cli.quiet,
                },
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
                    "Built {} pages{versions} in {} ms → {out}{}",
                    report.pages,
                    report.elapsed.as_millis(),
                    warning_suffix(&report.warnings)
                );
            }
            Ok(())
        }
        Command::Check(args) => {
            let project = Project::open(cli.root.as_deref())?;
            let report = match builder::build(
                &project,
                &BuildOptions {
                    check_only: true,
                    clients: args.clients.clone(),
                    strict: args.strict,
                    ..BuildOptions::default()
                },
            ) {
                Ok(report) => report,
                Err(Error::Content(problems)) => {
                    print_grouped(&problems);
                    std::process::exit(1);
                }
                Err(other) => return Err(other),
            };
            if !cli.quiet {
                print_grouped(&report.warnings);
            }
            if cli.verbose {
                print_timings(&report);
            }
            if !cli.quiet {
                if !report.uniqueness.is_empty() {
                    println!(
                        "Uniqueness of each client's version (share of its text not in the base version):"
                    );
                    for client in &report.uniqueness {
                        println!("  {}", uniqueness_line(client));
                        for (label, files) in
                            [("overrides", &client.overridden), ("adds", &client.added)]
                        {
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
                println!(
                    "Checked {} pages in {} versions in {} ms: {}",
                    report.pages,
                    report.versions,
                    report.elapsed.as_millis(),
                    match report.warnings.len() {
                        0 => "no problems found".to_string(),
                        1 => "1 warning".to_string(),
                        n => format!("{n} warnings"),
                    }
                );
            }
            Ok(())
        }
        Command::Serve(args) => atelier::serve::run(
            cli.root.as_deref(),
            &atelier::serve::ServeOptions {
                port: args.port,
                bind: args.bind.clone(),
                client: args.client.clone(),
                open: args.open,
                quiet: cli.quiet,
                verbose: cli.verbose,
            },
        ),
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

/// `check`'s report: problems grouped under their file, then a summary.
fn print_grouped(problems: &[Diagnostic]) {
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
    if problems.is_empty() {
        return;
    }
    let errors = problems.iter().filter(|d| d.is_error()).count();
    let files: std::collections::HashSet<_> = problems.iter().map(|d| d.file.as_deref()).collect();
    eprintln!(
        "\n{errors} error(s), {} warning(s) in {} file(s)",
        problems.len() - errors,
        files.len()
    );
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
        "{}: {} unique — {} overridden, {} added, {} variables{similar}",
        client.slug,
        atelier::uniqueness::percent(client.share),
        client.overridden.len(),
        client.added.len(),
        client.variables.len(),
    )
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
        1 => " (1 warning)".into(),
        n => format!(" ({n} warnings)"),
    }
}
