//! The command line: what `warroom` accepts (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A terminal console for running a disaster-recovery incident: live component health,
/// replication lag, backup age, RTO/RPO budgets, the incident timeline and guarded runbooks.
#[derive(Parser, Debug)]
#[command(name = "warroom", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: status 0 healthy, 1 degraded, 2 critical, 3 emergency, 4 could not observe; \
usage errors 64; an invalid config given to any command but check 78.\n\
The config is found at -c, else $WARROOM_CONFIG, else <XDG config dir>/warroom/config.toml."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command accepts, before or after its name.
#[derive(Args, Debug)]
pub struct Global {
    /// The config file [default: $WARROOM_CONFIG, else <XDG config dir>/warroom/config.toml]
    #[arg(short = 'c', long = "config", global = true, value_name = "CONFIG")]
    pub config: Option<PathBuf>,
    /// Where incident journals live [default: the config's [journal] dir, else the XDG data dir]
    #[arg(long = "data-dir", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// How the console looks; for the console and for drills.
#[derive(Args, Debug)]
pub struct DisplayArgs {
    /// Theme: a name in themes/ (dark, light, high-contrast, …) or a path
    #[arg(long, global = true, value_name = "T")]
    pub theme: Option<String>,
    /// Layout: war-room, bastion, observer, a path, or auto (the largest that fits)
    #[arg(long, global = true, value_name = "L|auto")]
    pub layout: Option<String>,
    /// Watch only: no runbook step, note or update can be started from this console
    #[arg(long = "read-only", global = true)]
    pub read_only: bool,
    /// At most 10 frames per second, for slow links
    #[arg(long = "low-bandwidth", global = true)]
    pub low_bandwidth: bool,
    /// ASCII glyphs instead of Unicode symbols
    #[arg(long, global = true)]
    pub ascii: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
    /// Print a JSON Schema of the config for editors (Taplo, VS Code's Even Better TOML)
    Schema,
    /// Work with incident journals
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum JournalCommand {
    /// Make (or adopt) the journal dir for a team: group GROUP writes, OBSERVERS read
    Init {
        /// The operators' group: the journal dir's group, mode 2770, files 0660
        #[arg(long, value_name = "GROUP")]
        group: String,
        /// A group that may read everything (through default POSIX ACLs) and write nothing
        #[arg(long, value_name = "GROUP")]
        observers: Option<String>,
    },
    /// Check the journal's hash chain and name the first broken entry
    Verify {
        /// The incident id [default: the latest incident]
        #[arg(value_name = "INCIDENT")]
        incident: Option<String>,
    },
}

impl From<&DisplayArgs> for warroom::commands::Display {
    fn from(d: &DisplayArgs) -> Self {
        warroom::commands::Display {
            theme: d.theme.clone(),
            layout: d.layout.clone(),
            read_only: d.read_only,
            low_bandwidth: d.low_bandwidth,
            ascii: d.ascii,
        }
    }
}
