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
            if !args.clients.is_empty() {
                return Err(Error::Usage(
                    "client versions (--client) are not available in this version of atelier yet".into(),
                ));
            }
            let project = Project::open(cli.root.as_deref())?;
            let report = builder::build(
                &project,
                &BuildOptions {
                    out: args.out.clone(),
                    base_url: args.base_url.clone(),
                    drafts: args.drafts,
                    facilitator: args.facilitator,
                    check_only: false,
                },
            )?;
            print_warnings(cli, &report.warnings);
            if cli.verbose {
                for (phase, time) in &report.summary.timings {
                    eprintln!("  {phase:<20} {:>8.1} ms", time.as_secs_f64() * 1000.0);
                }
            }
            if !cli.quiet {
                let out = report
                    .out
                    .as_deref()
                    .map(atelier::output::shown)
                    .unwrap_or_default();
                println!(
                    "Built {} pages in {} ms → {out}{}",
                    report.pages,
                    report.elapsed.as_millis(),
                    warning_suffix(&report.warnings)
                );
            }
            Ok(())
        }
        Command::Check(args) => {
            if !args.clients.is_empty() {
                return Err(Error::Usage(
                    "client versions (--client) are not available in this version of atelier yet".into(),
                ));
            }
            let project = Project::open(cli.root.as_deref())?;
            let report = builder::build(
                &project,
                &BuildOptions {
                    check_only: true,
                    ..BuildOptions::default()
                },
            )?;
            if !cli.quiet {
                println!(
                    "Checked {} pages in {} ms: no problems found",
                    report.pages,
                    report.elapsed.as_millis()
                );
            }
            let _ = args.strict;
            Ok(())
        }
        Command::Serve(_) => Err(Error::Usage(
            "`atelier serve` is not available in this version of atelier yet; use `atelier build` and open public/index.html".into(),
        )),
        Command::Init { .. } => Err(Error::Usage(
            "`atelier init` is not available in this version of atelier yet".into(),
        )),
        Command::New { .. } => Err(Error::Usage(
            "`atelier new` is not available in this version of atelier yet".into(),
        )),
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
        1 => " (1 warning)".into(),
        n => format!(" ({n} warnings)"),
    }
}
