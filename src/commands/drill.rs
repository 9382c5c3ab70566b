//! `warroom drill`: the console on a simulated estate.

use std::path::Path;
use std::process::ExitCode;

use super::console::{comms_link, finish_journal, settings, setup, start_journal};
use super::*;
use crate::config;
use crate::runtime::keeper::Mode;

pub fn drill(
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
                    eprintln!("{}", crate::text::clean(&d.to_string()));
                }
                return ExitCode::from(EXIT_CONFIG);
            }
        },
        None => config::load::load_embedded_example(),
    };
    let scenario = match crate::drill::Scenario::resolve(scenario) {
        Ok(s) => s,
        Err(diags) => {
            for d in &diags.0 {
                eprintln!("{}", crate::text::clean(&d.to_string()));
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
            eprintln!("{}", crate::text::clean(&d.to_string()));
        }
        eprintln!(
            "warroom drill: scenario {} does not fit {}: `steady` fits any estate, or write a scenario for your own components",
            scenario.name,
            cfg.path.display()
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let speed = crate::probe::clock::clamp_speed(speed);
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
    let drills = crate::journal::drills_dir(&crate::journal::journal_dir(
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
            crate::drill::start(&cfg, scenario, speed).map_err(|d| anyhow::anyhow!("{d}"))?;
        let scheduler = crate::runtime::scheduler::Scheduler::drill(&drill, tx, |o| o);
        let clock: std::sync::Arc<dyn crate::probe::clock::Clock> = drill.clock();
        let executor: std::sync::Arc<dyn crate::runbook::Executor> = drill.executor();
        // A drill's updates go to simulated sinks only, in its own outboxes under drills/.
        let comms = comms_link(
            drills,
            &cfg,
            crate::drill::sink::drill_sinks(&cfg),
            &link,
            clock.clone(),
        );
        let setup = setup(&cfg, settings.read_only, true, comms.is_some());
        let state = crate::app::State::new(
            crate::app::Estate::from_config(&cfg),
            drill.started(),
            setup,
        );
        let exit =
            crate::runtime::run(state, settings, rx, link, Some(executor), comms, clock).await;
        scheduler.stop();
        exit
    });
    finish_journal(keeper);
    finish(result, log)
}
