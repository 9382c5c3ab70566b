//! `warroom`: the console on the real estate, and the wiring a drill shares with it (the
//! look, the journal keeper, the comms link).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::*;
use crate::config;
use crate::runtime::keeper::{Keeper, KeeperOptions, Mode};
use crate::theme::{self, Theme};
use crate::ui::layout::{self, Layout};

/// How the console looks: `--theme`/`--layout` over the config's, `NO_COLOR` over both.
pub(crate) fn settings(
    cfg: &config::Config,
    display: &Display,
    drill: Option<String>,
) -> Result<crate::runtime::Settings, ExitCode> {
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
    Ok(crate::runtime::Settings {
        title: cfg.console.title.clone(),
        read_only: display.read_only || !is_operator(cfg),
        // `--ascii`, else the config, else the locale: a terminal that is not UTF-8 gets
        // nothing but ASCII (a UTF-8 box corner carries a C1 byte an 8-bit terminal obeys).
        ascii: display.ascii
            || cfg
                .console
                .ascii
                .unwrap_or_else(|| !crate::runtime::terminal::utf8_locale()),
        ansi16: crate::runtime::terminal::sixteen_colours(),
        low_bandwidth: display.low_bandwidth,
        theme,
        layout,
        drill,
        local: jiff::tz::TimeZone::system(),
        stalled_after: cfg.console.stalled_after,
    })
}

/// The outbox worker over `incidents` with these sinks (none configured: no worker).
pub(crate) fn comms_link(
    incidents: PathBuf,
    cfg: &crate::config::Config,
    sinks: Vec<std::sync::Arc<dyn crate::comms::sink::Sink>>,
    link: &crate::runtime::JournalLink,
    clock: std::sync::Arc<dyn crate::probe::clock::Clock>,
) -> Option<crate::runtime::CommsLink> {
    if sinks.is_empty() {
        return None;
    }
    let (tx, problems) = tokio::sync::mpsc::channel(16);
    let mut options = crate::runtime::outbox_worker::OutboxOptions::new(incidents);
    options.operators = cfg.console.operators.clone();
    options.give_up_after = cfg.comms.give_up_after;
    let worker = crate::runtime::outbox_worker::Worker::start(
        options,
        sinks,
        link.requests.clone(),
        clock,
        tx,
    );
    Some(crate::runtime::CommsLink { worker, problems })
}

pub fn console(explicit: Option<&Path>, data_dir: Option<&Path>, display: &Display) -> ExitCode {
    let cfg = match load(explicit) {
        Ok(cfg) => cfg,
        Err(code) => return code,
    };
    let mut settings = match settings(&cfg, display, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // An account of the observers' group reads the team's journal and writes nothing.
    let dir = crate::journal::journal_dir(cfg.journal.dir.as_deref(), data_dir);
    if crate::journal::trust::Team::of(&dir, &cfg.console.operators)
        .is_ok_and(|t| t.role() == crate::journal::trust::Role::Observer)
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
    let journal_dir = crate::journal::journal_dir(cfg.journal.dir.as_deref(), data_dir);
    let incidents = crate::journal::incidents_dir(&journal_dir);
    // A `command` step's output goes through a relay to a file beside the journal: its
    // program outlives a console that ends first, and whoever records follows it. The relay
    // is this binary as the console runs it (`/proc/self/exe` at the child's exec is still the
    // console's image), even if a newer one was installed over it mid-incident.
    let step_logs = crate::runbook::StepLogs {
        journal_dir: journal_dir.clone(),
        operators: cfg.console.operators.clone(),
        relay: std::path::PathBuf::from("/proc/self/exe"),
    };
    // An observer console builds no sink at all: nothing to send an update with.
    let sinks = if settings.read_only {
        Vec::new()
    } else {
        match crate::comms::build::real_sinks(&cfg) {
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
        let estate = crate::app::Estate::from_config(&cfg);
        let clients = crate::cloud::Clients::new(&cfg);
        let probes = crate::probe::build::build(&cfg, &estate, &clients);
        let clock: std::sync::Arc<dyn crate::probe::clock::Clock> =
            std::sync::Arc::new(crate::probe::clock::SystemClock);
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let scheduler = crate::runtime::scheduler::Scheduler::start(
            probes,
            clock.clone(),
            crate::runtime::scheduler::SchedulerOptions::default(),
            tx,
            std::convert::identity,
        );
        // An observer console gets no executor at all: nothing to run a step with.
        let executor: Option<std::sync::Arc<dyn crate::runbook::Executor>> = (!settings.read_only)
            .then(|| {
                std::sync::Arc::new(
                    crate::runbook::real::RealExecutor::new(clients.clone())
                        .with_step_logs(step_logs),
                ) as std::sync::Arc<dyn crate::runbook::Executor>
            });
        let comms = comms_link(incidents, &cfg, sinks, &link, clock.clone());
        let setup = setup(
            &cfg,
            settings.read_only,
            executor.is_some(),
            comms.is_some(),
        );
        let state = crate::app::State::new(estate, clock.now(), setup);
        let exit = crate::runtime::run(state, settings, rx, link, executor, comms, clock).await;
        scheduler.stop();
        exit
    });
    finish_journal(keeper);
    finish(result, log)
}

/// The top of the journal dir untrusted: nothing in it could be (what is below is checked as
/// it is used, and said on every screen). An account outside the team cannot read the journal
/// and must not write it. Both said before the screen opens.
pub(crate) fn refuse_outsider(
    cfg: &config::Config,
    dir: &Path,
    mode: Mode,
) -> Result<(), ExitCode> {
    use crate::journal::trust::{Role, Team, TrustError};
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
pub(crate) fn start_journal(
    cfg: &config::Config,
    data_dir: Option<&Path>,
    mode: Mode,
) -> Result<(crate::runtime::JournalLink, Keeper), ExitCode> {
    let dir = crate::journal::journal_dir(cfg.journal.dir.as_deref(), data_dir);
    refuse_outsider(cfg, &dir, mode)?;
    let (requests, requests_rx) = std::sync::mpsc::channel();
    let (events_tx, events) = tokio::sync::mpsc::channel(256);
    let mut options = KeeperOptions::new(dir, mode);
    options.operators = cfg.console.operators.clone();
    options.seen = crate::journal::seen::default_path();
    let keeper = Keeper::spawn(options, requests_rx, events_tx).map_err(|e| {
        eprintln!("warroom: cannot start the journal: {e}");
        ExitCode::FAILURE
    })?;
    Ok((crate::runtime::JournalLink { requests, events }, keeper))
}

/// How long a console's ending waits for its journal keeper to write what is queued (a disk
/// that hangs must not keep the process forever; what is unwritten then is said in the log).
pub(crate) const KEEPER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// Waits (bounded) for the journal keeper to write what is queued. What it could not write
/// goes to a file in the state dir, one JSON line per entry, and to stderr only while a
/// terminal is there to read it (after SSH dropped, nobody is): nothing typed is lost.
pub(crate) fn finish_journal(keeper: Keeper) {
    let Some(left) = keeper.finish_within(KEEPER_DEADLINE) else {
        tracing::error!(
            "the journal keeper did not finish within {}s: entries still queued may be lost",
            KEEPER_DEADLINE.as_secs()
        );
        crate::runtime::terminal::say(
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
    let saved = crate::paths::project().and_then(|d| {
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
    crate::runtime::terminal::say(&format!(
        "warroom: {} journal entr{} could not be written{}:",
        lines.len(),
        if lines.len() == 1 { "y" } else { "ies" },
        saved
            .map(|p| format!("; kept in {}", p.display()))
            .unwrap_or_default()
    ));
    for l in &lines {
        crate::runtime::terminal::say(l);
    }
}

/// What the console is: the config's runbooks, targets, language and title, who runs it, and
/// whether it can run steps (an executor, not read-only) and queue updates (an outbox worker).
pub(crate) fn setup(
    cfg: &config::Config,
    read_only: bool,
    has_executor: bool,
    has_outbox: bool,
) -> crate::app::Setup {
    crate::app::Setup {
        runbooks: cfg.runbooks.clone(),
        read_only,
        can_run_steps: has_executor && !read_only,
        can_send: has_outbox && !read_only,
        targets: crate::app::message::Targets::from_config(cfg),
        language: cfg.comms.language,
        title: cfg.console.title.clone(),
        actor: crate::journal::actor(),
    }
}
