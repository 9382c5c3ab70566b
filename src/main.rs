//! The `warroom` command line: parsing and wiring only; the work lives in the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use warroom::config;

/// Exit code for usage errors and for commands that are not built yet (EX_USAGE).
const EXIT_USAGE: u8 = 64;
/// Exit code for an invalid config given to any command but `check` (EX_CONFIG).
const EXIT_CONFIG: u8 = 78;

/// A terminal console for running a disaster-recovery incident: live component health,
/// replication lag, backup age, RTO/RPO budgets, the incident timeline and guarded runbooks.
#[derive(Parser, Debug)]
#[command(name = "warroom", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: status 0 healthy, 1 degraded, 2 critical, 3 emergency, 4 could not observe; \
usage errors 64; an invalid config given to any command but check 78.\n\
The config is found at -c, else $WARROOM_CONFIG, else <XDG config dir>/warroom/config.toml."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(flatten)]
    display: Display,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Options every command accepts, before or after its name.
#[derive(Args, Debug)]
struct Global {
    /// The config file [default: $WARROOM_CONFIG, else <XDG config dir>/warroom/config.toml]
    #[arg(short = 'c', long = "config", global = true, value_name = "CONFIG")]
    config: Option<PathBuf>,
    /// Where incident journals live [default: the config's [journal] dir, else the XDG data dir]
    #[arg(long = "data-dir", global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

/// How the console looks; for the console and for drills.
#[derive(Args, Debug)]
struct Display {
    /// Theme: a name in themes/ (dark, light, high-contrast, …) or a path
    #[arg(long, global = true, value_name = "T")]
    theme: Option<String>,
    /// Layout: war-room, bastion, observer, a path, or auto (the largest that fits)
    #[arg(long, global = true, value_name = "L|auto")]
    layout: Option<String>,
    /// Watch only: no runbook step, note or update can be started from this console
    #[arg(long = "read-only", global = true)]
    read_only: bool,
    /// At most 10 frames per second, for slow links
    #[arg(long = "low-bandwidth", global = true)]
    low_bandwidth: bool,
    /// ASCII glyphs instead of Unicode symbols
    #[arg(long, global = true)]
    ascii: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The console on a simulated estate; never touches real systems, Slack or the status page
    Drill {
        /// A built-in scenario (region-outage, az-failure, steady) or a path to a scenario file
        #[arg(value_name = "SCENARIO", default_value = "region-outage")]
        scenario: String,
        /// Simulated time runs this many times faster than real time
        #[arg(long, value_name = "N", default_value_t = 1.0)]
        speed: f64,
    },
    /// Validate the config, its runbooks, scenarios, themes and layouts; every error as file:line:col
    Check,
    /// One round of every probe, as a table or JSON; the exit code is the overall severity
    Status {
        /// JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// The post-incident (or drill) report as Markdown on stdout
    Report {
        /// The incident id [default: the latest incident]
        #[arg(value_name = "INCIDENT")]
        incident: Option<String>,
    },
    /// Work with incident journals
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
}

#[derive(Subcommand, Debug)]
enum JournalCommand {
    /// Check the journal's hash chain and name the first broken entry
    Verify {
        /// The incident id [default: the latest incident]
        #[arg(value_name = "INCIDENT")]
        incident: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            // clap prints help and version to stdout and errors to stderr itself.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match &cli.command {
        Some(Command::Check) => check(cli.global.config.as_deref()),
        Some(Command::Drill { .. }) => {
            not_built("drill", "the simulated estate and the console screen")
        }
        Some(Command::Status { .. }) => not_built("status", "live probes"),
        Some(Command::Report { .. }) => not_built("report", "the incident journal"),
        Some(Command::Journal { .. }) => not_built("journal verify", "the incident journal"),
        None => {
            // The console will need a valid config: say so now rather than after the TUI exists.
            match load(cli.global.config.as_deref()) {
                Ok(_) => not_built("the console", "the terminal screen"),
                Err(code) => code,
            }
        }
    }
}

/// One clear line naming what is missing; no fake output.
fn not_built(command: &str, missing: &str) -> ExitCode {
    eprintln!(
        "warroom: {command} is not available yet: it needs {missing}, which this version does not have"
    );
    ExitCode::from(EXIT_USAGE)
}

/// Loads the config for a command other than `check`: an invalid one exits 78.
fn load(explicit: Option<&Path>) -> Result<config::Config, ExitCode> {
    let path = match config::locate(explicit) {
        Ok(p) => p,
        Err(why) => {
            eprintln!("warroom: {why}");
            return Err(ExitCode::from(EXIT_CONFIG));
        }
    };
    config::load(&path).map_err(|diags| {
        for d in &diags.0 {
            eprintln!("{d}");
        }
        eprintln!(
            "warroom: {} is not valid ({}); run `warroom check -c {}`",
            path.display(),
            count(diags.0.len(), "error"),
            path.display()
        );
        ExitCode::from(EXIT_CONFIG)
    })
}

fn check(explicit: Option<&Path>) -> ExitCode {
    let path = match config::locate(explicit) {
        Ok(p) => p,
        Err(why) => {
            eprintln!("warroom check: {why}");
            return ExitCode::from(1);
        }
    };
    match config::load(&path) {
        Ok(cfg) => {
            println!(
                "{}: ok: {}, {}, {}",
                path.display(),
                count(cfg.components.len(), "component"),
                count(cfg.runbooks.len(), "runbook"),
                count(cfg.step_count(), "step")
            );
            ExitCode::SUCCESS
        }
        Err(diags) => {
            for d in &diags.0 {
                eprintln!("{d}");
            }
            eprintln!("{}: {}", path.display(), count(diags.0.len(), "error"));
            ExitCode::from(1)
        }
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
