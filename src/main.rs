//! The `warroom` command line: parsing and wiring only; the work lives in the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use warroom::runtime::keeper::{Keeper, Mode, Options};

use warroom::config;
use warroom::theme::{self, Theme};
use warroom::ui::layout::{self, Layout};

/// Exit code for usage errors (EX_USAGE).
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
        Some(Command::Check) => check(cli.global.config.as_deref(), cli.global.data_dir.as_deref()),
        Some(Command::Drill { scenario, speed }) => drill(
            cli.global.config.as_deref(),
            cli.global.data_dir.as_deref(),
            &cli.display,
            scenario,
            *speed,
        ),
        Some(Command::Status { json }) => status(cli.global.config.as_deref(), *json),
        Some(Command::Report { incident }) => report(
            cli.global.config.as_deref(),
            cli.global.data_dir.as_deref(),
            incident.as_deref(),
        ),
        Some(Command::Journal {
            command: JournalCommand::Init { group, observers },
        }) => journal_init(
            cli.global.config.as_deref(),
            cli.global.data_dir.as_deref(),
            group,
            observers.as_deref(),
        ),
        Some(Command::Journal {
            command: JournalCommand::Verify { incident },
        }) => journal_verify(
            cli.global.config.as_deref(),
            cli.global.data_dir.as_deref(),
            incident.as_deref(),
        ),
        None => console(
            cli.global.config.as_deref(),
            cli.global.data_dir.as_deref(),
            &cli.display,
        ),
    }
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
    let loaded = config::load(&path).map_err(|diags| {
        for d in &diags.0 {
            eprintln!("{}", warroom::text::clean(&d.to_string()));
        }
        eprintln!(
            "warroom: {} is not valid ({}); run `warroom check -c {}`",
            path.display(),
            count(diags.0.len(), "error"),
            path.display()
        );
        ExitCode::from(EXIT_CONFIG)
    })?;
    warroom::config::secret::guard(&loaded);
    Ok(loaded)
}

/// A theme or layout the config names by a relative path is found beside the config file,
/// not in whatever directory the console was started from; names are left alone.
fn beside_config(cfg: &config::Config, spec: &str) -> String {
    let is_path = spec.contains('/') || spec.ends_with(".toml");
    match cfg.path.parent() {
        Some(dir) if is_path && Path::new(spec).is_relative() => {
            dir.join(spec).to_string_lossy().into_owned()
        }
        _ => spec.to_string(),
    }
}

/// How the console looks: `--theme`/`--layout` over the config's, `NO_COLOR` over both.
fn settings(
    cfg: &config::Config,
    display: &Display,
    drill: Option<String>,
) -> Result<warroom::runtime::Settings, ExitCode> {
    // A bad name on the command line is a usage error; one in the config, or a file (named
    // anywhere) that is not a sane regular file or not valid, a config error.
    let code = |from_cli: bool, unknown: bool| {
        ExitCode::from(if from_cli && unknown {
            EXIT_USAGE
        } else {
            EXIT_CONFIG
        })
    };
    let config_theme = beside_config(cfg, &cfg.console.theme);
    let theme_spec = display.theme.as_deref().unwrap_or(&config_theme);
    let theme = Theme::resolve(
        theme_spec,
        theme::user_dir().as_deref(),
        theme::no_color_env(),
    )
    .map_err(|e| {
        eprintln!("warroom: {e}");
        code(
            display.theme.is_some(),
            matches!(e, theme::ThemeError::Unknown { .. }),
        )
    })?;
    let config_layout = beside_config(cfg, &cfg.console.layout);
    let layout_spec = display.layout.as_deref().unwrap_or(&config_layout);
    let layout = if layout_spec == "auto" {
        None
    } else {
        Some(
            Layout::resolve(layout_spec, layout::user_dir().as_deref()).map_err(|e| {
                eprintln!("warroom: {e}");
                code(
                    display.layout.is_some(),
                    matches!(e, layout::LayoutError::Unknown { .. }),
                )
            })?,
        )
    };
    Ok(warroom::runtime::Settings {
        title: cfg.console.title.clone(),
        read_only: display.read_only || !is_operator(cfg),
        // `--ascii`, else the config, else the locale: a terminal that is not UTF-8 gets
        // nothing but ASCII (a UTF-8 box corner carries a C1 byte an 8-bit terminal obeys).
        ascii: display.ascii
            || cfg
                .console
                .ascii
                .unwrap_or_else(|| !warroom::runtime::terminal::utf8_locale()),
        ansi16: warroom::runtime::terminal::sixteen_colours(),
        low_bandwidth: display.low_bandwidth,
        theme,
        layout,
        runbooks: cfg.runbooks.clone(),
        drill,
        local: jiff::tz::TimeZone::system(),
        targets: warroom::app::message::Targets::from_config(cfg),
        language: cfg.comms.language,
        stalled_after: cfg.console.stalled_after,
    })
}

/// With `[console] operators` set, only those users (from getuid, not `$USER`) may change
/// anything; everyone else gets an observer console.
fn is_operator(cfg: &config::Config) -> bool {
    if cfg.console.operators.is_empty() {
        return true;
    }
    let actor = warroom::journal::actor();
    let user = actor.split('@').next().unwrap_or_default();
    cfg.console.operators.iter().any(|o| o == user)
}

/// Logs go to a file in the state dir: nothing may be printed while the TUI owns the
/// terminal. Without a writable state dir the console runs without a log.
fn init_log() -> Option<PathBuf> {
    let dirs = warroom::paths::project()?;
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
        .with_writer(warroom::redact::ScrubbedLog(std::sync::Mutex::new(file)))
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(path)
}

fn drill(
    explicit: Option<&Path>,
    data_dir: Option<&Path>,
    display: &Display,
    scenario: &str,
    speed: f64,
) -> ExitCode {
    // Without -c a drill runs on the built-in example estate, never on a config found
    // by $WARROOM_CONFIG or the XDG dir: a drill is chosen, not stumbled into.
    let cfg = match explicit {
        Some(path) => match config::load(path) {
            Ok(cfg) => cfg,
            Err(diags) => {
                for d in &diags.0 {
                    eprintln!("{}", warroom::text::clean(&d.to_string()));
                }
                return ExitCode::from(EXIT_CONFIG);
            }
        },
        None => config::load::load_embedded_example(),
    };
    let scenario = match warroom::drill::Scenario::resolve(scenario) {
        Ok(s) => s,
        Err(diags) => {
            for d in &diags.0 {
                eprintln!("{}", warroom::text::clean(&d.to_string()));
            }
            // An unknown name is a usage error; a scenario file that cannot be read or is
            // not valid, a config error (like every other file warroom reads).
            let names_a_file = scenario.contains('/') || scenario.ends_with(".toml");
            return ExitCode::from(if names_a_file {
                EXIT_CONFIG
            } else {
                EXIT_USAGE
            });
        }
    };
    let misfit = scenario.check(&cfg);
    if !misfit.is_empty() {
        for d in &misfit {
            eprintln!("{}", warroom::text::clean(&d.to_string()));
        }
        eprintln!(
            "warroom drill: scenario {} does not fit {}: `steady` fits any estate, or write a scenario for your own components",
            scenario.name,
            cfg.path.display()
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let speed = warroom::probe::clock::clamp_speed(speed);
    let label = format!("{} x{speed}", scenario.name);
    let settings = match settings(&cfg, display, Some(label)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Err(code) = needs_terminal() {
        return code;
    }
    // A drill's journal is its own, read-only or not: its watch log in memory, incidents under
    // drills/; an observer of a drill must not follow the real estate's watch log.
    let (link, keeper) = match start_journal(&cfg, data_dir, Mode::Drill) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let drills = warroom::journal::drills_dir(&warroom::journal::journal_dir(
        cfg.journal.dir.as_deref(),
        data_dir,
    ));
    let log = init_log();
    let rt = match console_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = rt.block_on(async move {
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let drill =
            warroom::drill::start(&cfg, scenario, speed).map_err(|d| anyhow::anyhow!("{d}"))?;
        let scheduler = warroom::runtime::scheduler::Scheduler::drill(&drill, tx, |o| o);
        let state =
            warroom::app::State::new(warroom::app::Estate::from_config(&cfg), drill.started());
        let clock: std::sync::Arc<dyn warroom::probe::clock::Clock> = drill.clock();
        let executor: std::sync::Arc<dyn warroom::runbook::Executor> = drill.executor();
        // A drill's updates go to simulated sinks only, in its own outboxes under drills/.
        let comms = comms_link(
            drills,
            &cfg,
            warroom::comms::build::drill_sinks(&cfg),
            &link,
            clock.clone(),
        );
        let exit =
            warroom::runtime::run(state, settings, rx, link, Some(executor), comms, clock).await;
        scheduler.stop();
        exit
    });
    finish_journal(keeper);
    finish(result, log)
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
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
fn console_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("warroom: cannot start the runtime: {e}");
            ExitCode::FAILURE
        })
}

/// The outbox worker over `incidents` with these sinks (none configured: no worker).
fn comms_link(
    incidents: PathBuf,
    cfg: &warroom::config::Config,
    sinks: Vec<std::sync::Arc<dyn warroom::comms::sink::Sink>>,
    link: &warroom::runtime::JournalLink,
    clock: std::sync::Arc<dyn warroom::probe::clock::Clock>,
) -> Option<warroom::runtime::CommsLink> {
    if sinks.is_empty() {
        return None;
    }
    let (tx, problems) = tokio::sync::mpsc::channel(16);
    let mut options = warroom::runtime::outbox_worker::Options::new(incidents);
    options.operators = cfg.console.operators.clone();
    options.give_up_after = cfg.comms.give_up_after;
    let worker = warroom::runtime::outbox_worker::Worker::start(
        options,
        sinks,
        link.requests.clone(),
        clock,
        tx,
    );
    Some(warroom::runtime::CommsLink { worker, problems })
}

/// `warroom status`: one round of every probe; the exit code says the overall severity.
fn status(explicit: Option<&Path>, json: bool) -> ExitCode {
    let cfg = match load(explicit) {
        Ok(cfg) => cfg,
        Err(code) => return code,
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let report = rt.block_on(async {
        let estate = warroom::app::Estate::from_config(&cfg);
        let clients = warroom::cloud::Clients::new(&cfg);
        let probes = warroom::probe::build::build(&cfg, &estate, &clients);
        let clock: std::sync::Arc<dyn warroom::probe::clock::Clock> =
            std::sync::Arc::new(warroom::probe::clock::SystemClock);
        let started = clock.now();
        let mut state = warroom::app::State::new(estate, started);
        for o in warroom::probe::round::once(&probes, clock.clone()).await {
            warroom::app::update(&mut state, warroom::app::Event::Observed(o));
        }
        warroom::app::update(&mut state, warroom::app::Event::Tick(clock.now()));
        warroom::status::report(&state)
    });
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("warroom status: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", warroom::status::table(&report));
    }
    ExitCode::from(report.exit_code)
}

/// The console on the real estate: every configured probe on its own schedule.
/// A full-screen console needs a terminal on both ends: `ssh -T`, a pipe or `TERM=dumb` get
/// one clear line and exit 64, not an error number.
fn needs_terminal() -> Result<(), ExitCode> {
    use std::io::IsTerminal;
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    if dumb || !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        eprintln!("warroom needs a terminal; for scripts use 'warroom status'");
        return Err(ExitCode::from(EXIT_USAGE));
    }
    Ok(())
}

fn console(explicit: Option<&Path>, data_dir: Option<&Path>, display: &Display) -> ExitCode {
    let cfg = match load(explicit) {
        Ok(cfg) => cfg,
        Err(code) => return code,
    };
    let mut settings = match settings(&cfg, display, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // An account of the observers' group reads the team's journal and writes nothing.
    let dir = warroom::journal::journal_dir(cfg.journal.dir.as_deref(), data_dir);
    if warroom::journal::trust::Team::of(&dir, &cfg.console.operators)
        .is_ok_and(|t| t.role() == warroom::journal::trust::Role::Observer)
    {
        settings.read_only = true;
    }
    let mode = if settings.read_only {
        Mode::Observer
    } else {
        Mode::Operator
    };
    // Who may not use this journal is told so first; then whether there is a screen.
    if let Err(code) = refuse_outsider(&cfg, &dir, mode).and_then(|()| needs_terminal()) {
        return code;
    }
    let (link, keeper) = match start_journal(&cfg, data_dir, mode) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let journal_dir = warroom::journal::journal_dir(cfg.journal.dir.as_deref(), data_dir);
    let incidents = warroom::journal::incidents_dir(&journal_dir);
    // A `command` step's output goes to a file beside the journal: its program outlives a
    // console that ends first, and whoever records follows it.
    let step_logs = journal_dir.join("steps");
    // An observer console builds no sink at all: nothing to send an update with.
    let sinks = if settings.read_only {
        Vec::new()
    } else {
        match warroom::comms::build::real_sinks(&cfg) {
            Ok(s) => s,
            Err(why) => {
                eprintln!("warroom: {why}");
                return ExitCode::FAILURE;
            }
        }
    };
    let log = init_log();
    let rt = match console_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = rt.block_on(async move {
        let estate = warroom::app::Estate::from_config(&cfg);
        let clients = warroom::cloud::Clients::new(&cfg);
        let probes = warroom::probe::build::build(&cfg, &estate, &clients);
        let clock: std::sync::Arc<dyn warroom::probe::clock::Clock> =
            std::sync::Arc::new(warroom::probe::clock::SystemClock);
        let state = warroom::app::State::new(estate, clock.now());
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let scheduler = warroom::runtime::scheduler::Scheduler::start(
            probes,
            clock.clone(),
            warroom::runtime::scheduler::Options::default(),
            tx,
            std::convert::identity,
        );
        // An observer console gets no executor at all: nothing to run a step with.
        let executor: Option<std::sync::Arc<dyn warroom::runbook::Executor>> =
            (!settings.read_only).then(|| {
                std::sync::Arc::new(
                    warroom::runbook::real::RealExecutor::new(clients.clone())
                        .with_step_logs(step_logs),
                ) as std::sync::Arc<dyn warroom::runbook::Executor>
            });
        let comms = comms_link(incidents, &cfg, sinks, &link, clock.clone());
        let exit = warroom::runtime::run(state, settings, rx, link, executor, comms, clock).await;
        scheduler.stop();
        exit
    });
    finish_journal(keeper);
    finish(result, log)
}

/// The top of the journal dir untrusted: nothing in it could be (what is below is checked as
/// it is used, and said on every screen). An account outside the team cannot read the journal
/// and must not write it. Both said before the screen opens.
fn refuse_outsider(cfg: &config::Config, dir: &Path, mode: Mode) -> Result<(), ExitCode> {
    use warroom::journal::trust::{Role, Team, TrustError};
    match Team::of(dir, &cfg.console.operators) {
        Err(e @ TrustError::Unsafe { .. }) if mode != Mode::Observer => {
            eprintln!("warroom: {e}");
            Err(ExitCode::from(EXIT_CONFIG))
        }
        Ok(team) => {
            if let Role::Outsider { groups } = team.role() {
                eprintln!(
                    "warroom: journal dir {}: you are not in its team; ask to join group {groups}",
                    dir.display()
                );
                return Err(ExitCode::from(EXIT_CONFIG));
            }
            Ok(())
        }
        Err(_) => Ok(()),
    }
}

/// Starts the console's journal keeper on the journal dir (`--data-dir` > `[journal] dir` >
/// XDG). A journal dir others can write to is refused before the screen opens: a journal is
/// evidence, and the console would be recording into a place anyone can rewrite.
fn start_journal(
    cfg: &config::Config,
    data_dir: Option<&Path>,
    mode: Mode,
) -> Result<(warroom::runtime::JournalLink, Keeper), ExitCode> {
    let dir = warroom::journal::journal_dir(cfg.journal.dir.as_deref(), data_dir);
    refuse_outsider(cfg, &dir, mode)?;
    let (requests, requests_rx) = std::sync::mpsc::channel();
    let (events_tx, events) = tokio::sync::mpsc::channel(256);
    let mut options = Options::new(dir, mode);
    options.operators = cfg.console.operators.clone();
    options.seen = warroom::journal::seen::default_path();
    let keeper = Keeper::spawn(options, requests_rx, events_tx).map_err(|e| {
        eprintln!("warroom: cannot start the journal: {e}");
        ExitCode::FAILURE
    })?;
    Ok((warroom::runtime::JournalLink { requests, events }, keeper))
}

/// How long a console's ending waits for its journal keeper to write what is queued (a disk
/// that hangs must not keep the process forever; what is unwritten then is said in the log).
const KEEPER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// Waits (bounded) for the journal keeper to write what is queued. What it could not write
/// goes to a file in the state dir, one JSON line per entry, and to stderr only while a
/// terminal is there to read it (after SSH dropped, nobody is): nothing typed is lost.
fn finish_journal(keeper: Keeper) {
    let Some(left) = keeper.finish_within(KEEPER_DEADLINE) else {
        tracing::error!(
            "the journal keeper did not finish within {}s: entries still queued may be lost",
            KEEPER_DEADLINE.as_secs()
        );
        warroom::runtime::terminal::say(
            "warroom: the journal did not finish writing in time; see the log",
        );
        return;
    };
    if left.is_empty() {
        return;
    }
    let mut lines: Vec<String> = left
        .entries
        .iter()
        .map(|e| {
            let (kind, body) = e.kind.to_journal();
            let mut m = body;
            m.insert("kind".into(), kind.into());
            m.insert("at".into(), e.at.to_string().into());
            serde_json::Value::Object(m).to_string()
        })
        .collect();
    // An update that never reached its outbox: kept whole, to be sent by hand.
    lines.extend(
        left.updates
            .iter()
            .map(|u| serde_json::json!({ "kind": "unsent_update", "update": u }).to_string()),
    );
    let saved = warroom::paths::project().and_then(|d| {
        let dir = d
            .state_dir()
            .unwrap_or_else(|| d.data_local_dir())
            .to_path_buf();
        std::fs::create_dir_all(&dir).ok()?;
        let path = dir.join(format!(
            "unwritten-{}-{}.jsonl",
            jiff::Timestamp::now().as_second(),
            std::process::id()
        ));
        std::fs::write(&path, lines.join("\n") + "\n").ok()?;
        Some(path)
    });
    tracing::error!(
        count = lines.len(),
        kept = ?saved,
        "journal entries could not be written"
    );
    warroom::runtime::terminal::say(&format!(
        "warroom: {} journal entr{} could not be written{}:",
        lines.len(),
        if lines.len() == 1 { "y" } else { "ies" },
        saved
            .map(|p| format!("; kept in {}", p.display()))
            .unwrap_or_default()
    ));
    for l in &lines {
        warroom::runtime::terminal::say(l);
    }
}

fn finish(result: anyhow::Result<warroom::runtime::Exit>, log: Option<PathBuf>) -> ExitCode {
    match result {
        Ok(exit) => {
            tracing::info!("console ended ({})", exit.reason());
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("console ended (error: {e:#})");
            warroom::runtime::terminal::say(&format!("warroom: {e:#}"));
            if let Some(log) = log {
                warroom::runtime::terminal::say(&format!(
                    "warroom: the log is at {}",
                    log.display()
                ));
            }
            ExitCode::FAILURE
        }
    }
}

/// Where the journals are: `--data-dir`, else the config's `[journal] dir` (when a valid
/// config is found), else the XDG data dir. A config that cannot be read does not stop a
/// verify: the journal is what is being checked.
fn journal_dir(explicit: Option<&Path>, data_dir: Option<&Path>) -> PathBuf {
    let configured = config::locate(explicit)
        .ok()
        .filter(|p| p.exists())
        .and_then(|p| config::load(&p).ok())
        .and_then(|c| c.journal.dir);
    warroom::journal::journal_dir(configured.as_deref(), data_dir)
}

/// The journal file of INCIDENT: a path, or a file name (with or without `.jsonl`) in
/// `incidents/` or `incidents/drills/`; none = the latest incident.
fn incident_file(dir: &Path, incident: Option<&str>) -> Result<PathBuf, String> {
    let incidents = warroom::journal::incidents_dir(dir);
    let drills = warroom::journal::drills_dir(dir);
    let Some(name) = incident else {
        return warroom::journal::latest(&incidents)
            .or_else(|| warroom::journal::latest(&drills))
            .ok_or_else(|| {
                format!(
                    "no incident journal in {} (nor a drill in {})",
                    incidents.display(),
                    drills.display()
                )
            });
    };
    let as_path = PathBuf::from(name);
    if as_path.is_file() {
        return Ok(as_path);
    }
    let file = if name.ends_with(".jsonl") {
        name.to_string()
    } else {
        format!("{name}.jsonl")
    };
    [incidents.join(&file), drills.join(&file)]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "no incident {name} in {} or {} (nor a file of that path)",
                incidents.display(),
                drills.display()
            )
        })
}

/// `warroom report`: the incident's report as Markdown on stdout (a drill's when the file is
/// in a `drills` directory). Exit 1 when there is no such journal or it cannot be read; a
/// broken hash chain still gives the report, which says so, and exit 0.
fn report(explicit: Option<&Path>, data_dir: Option<&Path>, incident: Option<&str>) -> ExitCode {
    use std::io::Write as _;
    let dir = journal_dir(explicit, data_dir);
    let path = match incident_file(&dir, incident) {
        Ok(p) => p,
        Err(why) => {
            eprintln!("warroom report: {why}");
            return ExitCode::from(1);
        }
    };
    let read = warroom::journal::load(&path)
        .and_then(|loaded| warroom::journal::verify(&path).map(|v| (loaded, v)));
    let (loaded, verify) = match read {
        Ok(x) => x,
        Err(e) => {
            eprintln!("warroom report: {e}");
            return ExitCode::from(1);
        }
    };
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let in_drills = path
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == "drills");
    let kind = if in_drills {
        warroom::report::Kind::Drill
    } else {
        warroom::report::Kind::Incident
    };
    let text = warroom::report::render(&warroom::report::Source {
        id: &id,
        kind,
        loaded: &loaded,
        verify: &verify,
    });
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // `warroom report | head`: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("warroom report: cannot write the report: {e}");
            ExitCode::from(1)
        }
    }
}

/// `warroom journal init`: the journal dir made (or adopted) for a team; exit 1 if it cannot be.
fn journal_init(
    explicit: Option<&Path>,
    data_dir: Option<&Path>,
    group: &str,
    observers: Option<&str>,
) -> ExitCode {
    let dir = journal_dir(explicit, data_dir);
    match warroom::journal::trust::init(&dir, group, observers) {
        Ok(r) => {
            println!(
                "{}: {} for group {group}{}: {} directories (mode 2770), {} files (mode 0660)",
                dir.display(),
                if r.created { "made" } else { "adopted" },
                observers
                    .map(|o| format!(", read by group {o}"))
                    .unwrap_or_default(),
                r.dirs,
                r.files
            );
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("warroom journal init: {}", warroom::text::clean(&why));
            ExitCode::from(1)
        }
    }
}

/// `warroom journal verify`: exit 0 when the chain holds, 1 when it is broken or unreadable.
fn journal_verify(
    explicit: Option<&Path>,
    data_dir: Option<&Path>,
    incident: Option<&str>,
) -> ExitCode {
    let dir = journal_dir(explicit, data_dir);
    let path = match incident_file(&dir, incident) {
        Ok(p) => p,
        Err(why) => {
            eprintln!("warroom journal verify: {why}");
            return ExitCode::from(1);
        }
    };
    // Every string from the file is cleaned before it is printed: a planted line must not
    // drive the terminal (an OSC title in a duplicated key did).
    let clean = |s: &str| warroom::text::clean(s).into_owned();
    let shown = clean(&path.display().to_string());
    // What this account saw of it before: a journal shorter than that was rewritten.
    let seen = warroom::journal::seen::default_path().map(warroom::journal::seen::SeenBook::open);
    match warroom::journal::load_verified(&path) {
        Ok((loaded, report)) => {
            for w in &report.warnings {
                eprintln!("{shown}: warning: {}", clean(w));
            }
            let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let shrunk = seen.as_ref().and_then(|book| {
                book.contradicts(&path, len, |seq| {
                    loaded
                        .entries
                        .iter()
                        .find(|e| e.seq == seq)
                        .map(|e| e.hash.clone())
                })
            });
            if let Some(why) = shrunk {
                eprintln!("{shown}: TAMPERED: {}", clean(&why));
                return ExitCode::from(1);
            }
            match &report.first_break {
                None => {
                    println!(
                        "{shown}: ok: {}, hash chain intact",
                        count(report.entries, "entry").replace("entrys", "entries")
                    );
                    ExitCode::SUCCESS
                }
                Some(why) => {
                    eprintln!("{shown}: BROKEN at {}", clean(why));
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            eprintln!("warroom journal verify: {}", clean(&e.to_string()));
            ExitCode::from(1)
        }
    }
}

fn check(explicit: Option<&Path>, data_dir: Option<&Path>) -> ExitCode {
    let path = match config::locate(explicit) {
        Ok(p) => p,
        Err(why) => {
            eprintln!("warroom check: {why}");
            return ExitCode::from(1);
        }
    };
    // Themes and layouts are checked too: the built-ins and the user's own.
    let mut extra = theme::check_all(theme::user_dir().as_deref());
    extra.extend(layout::check_all(layout::user_dir().as_deref()));
    let loaded = config::load(&path).and_then(|cfg| {
        let mut diags = extra.clone();
        diags.extend(check_look(&cfg, data_dir));
        diags.extend(check_scenarios(&cfg));
        if diags.is_empty() {
            Ok(cfg)
        } else {
            Err(config::Diagnostics(diags))
        }
    });
    let loaded = loaded.map_err(|mut d| {
        for e in &extra {
            if !d.0.contains(e) {
                d.0.push(e.clone());
            }
        }
        d
    });
    match loaded {
        Ok(cfg) if !warroom::app::stake::refusals(&cfg).is_empty() => {
            let refusals = warroom::app::stake::refusals(&cfg);
            for r in &refusals {
                eprintln!("{}", warroom::text::clean(r));
            }
            eprintln!("{}: {}", path.display(), count(refusals.len(), "error"));
            ExitCode::from(1)
        }
        Ok(cfg) => {
            let stake = warroom::app::stake::warnings(&cfg);
            for w in workdir_warnings(&cfg).into_iter().chain(stake) {
                eprintln!("{}", warroom::text::clean(&w));
            }
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
                eprintln!("{}", warroom::text::clean(&d.to_string()));
            }
            eprintln!("{}: {}", path.display(), count(diags.0.len(), "error"));
            ExitCode::from(1)
        }
    }
}

/// A step's `cwd` that is not a directory here fails that step here. It is a warning, not an
/// error: a config is often checked away from the machine its steps run on (the bastion).
fn workdir_warnings(cfg: &config::Config) -> Vec<String> {
    let mut out = Vec::new();
    let mut told: Vec<&Path> = Vec::new();
    for (dir, loc) in &cfg.workdirs {
        if told.contains(&dir.as_path()) {
            continue;
        }
        told.push(dir);
        let why = match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => "not a directory".to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no such directory".to_string(),
            Err(e) => e.to_string(),
        };
        let more = cfg.workdirs.iter().filter(|(d, _)| d == dir).count() - 1;
        let more = if more > 0 {
            format!(
                " (and {more} more {})",
                if more == 1 { "step" } else { "steps" }
            )
        } else {
            String::new()
        };
        out.push(format!(
            "{}: warning: cwd {}: {why} on this machine: steps that run in it fail here{more}",
            loc.short(),
            dir.display()
        ));
    }
    out
}

/// Scenario files beside the config (`scenarios/*.toml`) and in the user's config dir are
/// checked against this config: their faults must name its components.
fn check_scenarios(cfg: &config::Config) -> Vec<config::Diagnostic> {
    let mut dirs = Vec::new();
    if let Some(parent) = cfg.path.parent() {
        dirs.push(parent.join("scenarios"));
    }
    if let Some(d) = warroom::paths::project() {
        dirs.push(d.config_dir().join("scenarios"));
    }
    let mut diags = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for file in files {
            diags.extend(warroom::drill::scenario::validate_path(&file, cfg));
        }
    }
    diags
}

/// The config's own theme and layout must exist.
fn check_look(cfg: &config::Config, data_dir: Option<&Path>) -> Vec<config::Diagnostic> {
    let mut diags = Vec::new();
    let at = |key: &str, message: String| config::Diagnostic {
        file: cfg.path.clone(),
        location: None,
        path: key.to_string(),
        message,
    };
    let theme_spec = beside_config(cfg, &cfg.console.theme);
    if let Err(e) = Theme::resolve(&theme_spec, theme::user_dir().as_deref(), false) {
        diags.push(at("console.theme", e.to_string()));
    }
    // Secret files must be the operator's own and readable by nobody else (a variable is
    // only read by the console that delivers: it may not be this shell's).
    let mut secrets: Vec<(&str, &config::Secret)> = Vec::new();
    if let Some(slack) = &cfg.slack {
        match &slack.auth {
            config::SlackAuth::Token(s) => secrets.push(("slack.token_file", s)),
            config::SlackAuth::Webhook(s) => secrets.push(("slack.webhook_url_file", s)),
        }
    }
    if let Some(page) = &cfg.statuspage {
        match &page.kind {
            config::StatusPageKind::Atlassian { api_key, .. } => {
                secrets.push(("statuspage.api_key_file", api_key))
            }
            config::StatusPageKind::Webhook { url } => secrets.push(("statuspage.url_file", url)),
        }
    }
    for (key, secret) in secrets {
        if let Some(why) = warroom::config::secret::check_file(secret) {
            diags.push(at(key, why));
        }
    }
    // The journal dir the console would use (`--data-dir`, the config's, or the default),
    // and everything in it.
    let dir = warroom::journal::journal_dir(cfg.journal.dir.as_deref(), data_dir);
    if let Some(why) = warroom::journal::unsafe_dir(&dir, &cfg.console.operators) {
        diags.push(at("journal.dir", why));
    }
    if cfg.console.layout != "auto"
        && let Err(e) = Layout::resolve(
            &beside_config(cfg, &cfg.console.layout),
            layout::user_dir().as_deref(),
        )
    {
        diags.push(at("console.layout", e.to_string()));
    }
    diags
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
