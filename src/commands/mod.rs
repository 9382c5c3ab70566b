//! One file of wiring per command: each reads the config, builds the parts (probes,
//! executors, sinks, the journal keeper) and hands them to the runtime or prints what a
//! command prints. `main.rs` parses the command line and picks one.

pub mod check;
pub mod console;
pub mod drill;
pub mod journal;
pub mod report;
pub mod schema;
pub mod status;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config;

/// Exit code for usage errors (EX_USAGE).
pub const EXIT_USAGE: u8 = 64;
/// Exit code for an invalid config given to any command but `check` (EX_CONFIG).
pub const EXIT_CONFIG: u8 = 78;

/// How the console looks (`--theme`, `--layout`, `--read-only`, `--low-bandwidth`,
/// `--ascii`); for the console and for drills.
#[derive(Debug, Clone, Default)]
pub struct Display {
    pub theme: Option<String>,
    pub layout: Option<String>,
    pub read_only: bool,
    pub low_bandwidth: bool,
    pub ascii: bool,
}

/// Loads the config for a command other than `check`: an invalid one exits 78.
pub(crate) fn load(explicit: Option<&Path>) -> Result<config::Config, ExitCode> {
    let path = match config::locate(explicit) {
        Ok(p) => p,
        Err(why) => {
            eprintln!("warroom: {why}");
            return Err(ExitCode::from(EXIT_CONFIG));
        }
    };
    let loaded = config::load(&path).map_err(|diags| {
        for d in &diags.0 {
            eprintln!("{}", crate::text::clean(&d.to_string()));
        }
        eprintln!(
            "warroom: {} is not valid ({}); run `warroom check -c {}`",
            path.display(),
            count(diags.0.len(), "error"),
            path.display()
        );
        ExitCode::from(EXIT_CONFIG)
    })?;
    crate::config::secret::guard(&loaded);
    Ok(loaded)
}

/// A theme or layout the config names by a relative path is found beside the config file,
/// not in whatever directory the console was started from; names are left alone.
pub(crate) fn beside_config(cfg: &config::Config, spec: &str) -> String {
    let is_path = spec.contains('/') || spec.ends_with(".toml");
    match cfg.path.parent() {
        Some(dir) if is_path && Path::new(spec).is_relative() => {
            dir.join(spec).to_string_lossy().into_owned()
        }
        _ => spec.to_string(),
    }
}

/// With `[console] operators` set, only those users (from getuid, not `$USER`) may change
/// anything; everyone else gets an observer console.
pub(crate) fn is_operator(cfg: &config::Config) -> bool {
    if cfg.console.operators.is_empty() {
        return true;
    }
    let actor = crate::journal::actor();
    let user = actor.split('@').next().unwrap_or_default();
    cfg.console.operators.iter().any(|o| o == user)
}

/// Logs go to a file in the state dir: nothing may be printed while the TUI owns the
/// terminal. Without a writable state dir the console runs without a log.
pub(crate) fn init_log() -> Option<PathBuf> {
    let dirs = crate::paths::project()?;
    let dir = dirs
        .state_dir()
        .unwrap_or_else(|| dirs.data_local_dir())
        .to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("warroom.log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    // Every line through the one cleaner and redactor: a logged error may quote a server or
    // a program, and the log is read in a terminal.
    tracing_subscriber::fmt()
        .with_writer(crate::text::redact::ScrubbedLog(std::sync::Mutex::new(
            file,
        )))
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(path)
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("warroom: cannot start the runtime: {e}");
            ExitCode::FAILURE
        })
}

/// The console's runtime: two threads, so that a terminal write stalled by a slow SSH link
/// never stops the probes, the steps or the outbox.
pub(crate) fn console_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("warroom: cannot start the runtime: {e}");
            ExitCode::FAILURE
        })
}

/// The console on the real estate: every configured probe on its own schedule.
/// A full-screen console needs a terminal on both ends: `ssh -T`, a pipe or `TERM=dumb` get
/// one clear line and exit 64, not an error number.
pub(crate) fn needs_terminal() -> Result<(), ExitCode> {
    use std::io::IsTerminal;
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    if dumb || !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        eprintln!("warroom needs a terminal; for scripts use 'warroom status'");
        return Err(ExitCode::from(EXIT_USAGE));
    }
    Ok(())
}

pub(crate) fn finish(
    result: anyhow::Result<crate::runtime::ConsoleExit>,
    log: Option<PathBuf>,
) -> ExitCode {
    match result {
        Ok(exit) => {
            tracing::info!("console ended ({})", exit.reason());
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("console ended (error: {e:#})");
            crate::runtime::terminal::say(&format!("warroom: {e:#}"));
            if let Some(log) = log {
                crate::runtime::terminal::say(&format!("warroom: the log is at {}", log.display()));
            }
            ExitCode::FAILURE
        }
    }
}

/// Where the journals are: `--data-dir`, else the config's `[journal] dir` (when a valid
/// config is found), else the XDG data dir. A config that cannot be read does not stop a
/// verify: the journal is what is being checked.
pub(crate) fn journal_dir(explicit: Option<&Path>, data_dir: Option<&Path>) -> PathBuf {
    let configured = config::locate(explicit)
        .ok()
        .filter(|p| p.exists())
        .and_then(|p| config::load(&p).ok())
        .and_then(|c| c.journal.dir);
    crate::journal::journal_dir(configured.as_deref(), data_dir)
}

pub(crate) fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
