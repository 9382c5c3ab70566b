//! `warroom status`: one round of every probe, as a table or JSON.

use std::path::Path;
use std::process::ExitCode;

use super::*;

/// `warroom status`: one round of every probe; the exit code says the overall severity.
pub fn status(explicit: Option<&Path>, json: bool) -> ExitCode {
    let cfg = match load(explicit) {
        Ok(cfg) => cfg,
        Err(code) => return code,
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let report = rt.block_on(async {
        let estate = crate::app::Estate::from_config(&cfg);
        let clients = crate::cloud::Clients::new(&cfg);
        let probes = crate::probe::build::build(&cfg, &estate, &clients);
        let clock: std::sync::Arc<dyn crate::probe::clock::Clock> =
            std::sync::Arc::new(crate::probe::clock::SystemClock);
        let started = clock.now();
        let mut state = crate::app::State::new(estate, started, crate::app::Setup::default());
        for o in crate::probe::round::once(&probes, clock.clone()).await {
            crate::app::update(&mut state, crate::app::Event::Observed(o));
        }
        crate::app::update(&mut state, crate::app::Event::Tick(clock.now()));
        crate::status::report(&state)
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
        print!("{}", crate::status::table(&report));
    }
    ExitCode::from(report.exit_code)
}
