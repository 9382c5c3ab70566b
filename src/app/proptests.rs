//! Property tests: whatever the estate and whatever the probes say, in whatever order, the
//! console never claims HEALTHY while something is not UP, and the cached assessment is the
//! one a full recomputation gives.

use std::time::Duration;

use proptest::prelude::*;

use super::testkit::*;
use super::*;
use crate::config::Tier;

#[derive(Debug, Clone)]
struct Comp {
    critical: bool,
    confirm: u32,
    lag: bool,
    backup: bool,
    rpo: Option<u64>,
    warn_latency: bool,
}

#[derive(Debug, Clone)]
enum Ev {
    Obs {
        comp: usize,
        signal: u8,
        /// None: an ordinary answer for the signal (UP, a small lag, a young backup), so
        /// HEALTHY is reached often enough for the properties to bite.
        outcome: Option<Outcome>,
        dt: i64,
        late: i64,
    },
    Tick {
        dt: i64,
    },
}

fn comp_strategy() -> impl Strategy<Value = Comp> {
    (
        any::<bool>(),
        1u32..=3,
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(0u64..2000),
        any::<bool>(),
    )
        .prop_map(|(critical, confirm, lag, backup, rpo, warn_latency)| Comp {
            critical,
            confirm,
            lag,
            backup,
            rpo,
            warn_latency,
        })
}

fn outcome_strategy() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        4 => (0u64..2000).prop_map(|ms| Outcome::Up {
            latency: Duration::from_millis(ms),
            detail: "ok".into(),
        }),
        1 => Just(Outcome::Degraded {
            detail: "partial".into()
        }),
        2 => Just(Outcome::Down {
            detail: "refused".into()
        }),
        1 => Just(Outcome::CannotObserve {
            reason: ObserveError::NoDatapoints
        }),
        1 => Just(Outcome::CannotObserve {
            reason: ObserveError::Timeout
        }),
        1 => Just(Outcome::Seconds(-1.0)),
        1 => Just(Outcome::Seconds(f64::NAN)),
        3 => (0.0f64..5000.0).prop_map(Outcome::Seconds),
    ]
}

fn event_strategy() -> impl Strategy<Value = Ev> {
    prop_oneof![
        5 => (0usize..8, 0u8..4, prop_oneof![3 => Just(None), 1 => outcome_strategy().prop_map(Some)], 0i64..4, prop_oneof![9 => Just(0i64), 1 => 1i64..60])
            .prop_map(|(comp, signal, outcome, dt, late)| Ev::Obs { comp, signal, outcome, dt, late }),
        1 => (0i64..15).prop_map(|dt| Ev::Tick { dt }),
    ]
}

fn build(comps: &[Comp]) -> Rig {
    let specs = comps
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let tier = if c.critical {
                Tier::Critical
            } else {
                Tier::Standard
            };
            let mut s =
                ComponentSpec::new(format!("c{i}"), tier).health(schedule(15, 10, c.confirm));
            if c.lag {
                s = s.lag(schedule(15, 10, c.confirm), thresholds(30, 60));
            }
            if c.backup {
                s = s.backup(schedule(60, 20, c.confirm), thresholds(3000, 4000));
            }
            if let Some(rpo) = c.rpo {
                s = s.rpo(secs(rpo));
            }
            if c.warn_latency {
                s = s.warn_latency(secs(1));
            }
            s
        })
        .collect();
    Rig::new(specs)
}

/// What the assessment may not contradict, checked after every event.
fn check(state: &State) -> Result<(), TestCaseError> {
    let severity = state.severity();
    for (ix, spec, c) in state.components() {
        let h = state.health(ix).expect("every component has a health");
        let not_up = h.state != HealthState::Up || h.stale;
        prop_assert!(
            !(not_up && severity == Severity::Healthy),
            "HEALTHY while {} is {:?} (stale {})",
            spec.id,
            h.state,
            h.stale
        );
        if spec.tier == Tier::Critical
            && matches!(h.state, HealthState::Down | HealthState::Unknown)
        {
            prop_assert!(
                matches!(
                    severity,
                    Severity::Observing | Severity::Critical { .. } | Severity::Emergency
                ),
                "{severity:?} while critical {} is {:?}",
                spec.id,
                h.state
            );
        }
        if severity == Severity::Healthy {
            if let Some(lag) = c.lag() {
                prop_assert!(lag.answered());
                for r in lag.replicas() {
                    prop_assert_eq!(r.level(), &LagLevel::Ok);
                }
            }
            if let Some(b) = c.backup() {
                prop_assert_eq!(b.level(), &BackupLevel::Ok);
            }
            if let Some(rpo) = c.rpo() {
                prop_assert!(matches!(rpo.level, RpoLevel::Ok | RpoLevel::Unknown));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_healthy_while_something_is_not_up(
        comps in proptest::collection::vec(comp_strategy(), 1..8),
        events in proptest::collection::vec(event_strategy(), 0..200),
    ) {
        let mut rig = build(&comps);
        let n = comps.len();
        let mut clock = 0i64;
        let mut appended = 0usize;
        check(&rig.state)?;
        for ev in events {
            let fx = match ev {
                Ev::Obs { comp, signal, outcome, dt, late } => {
                    clock += dt;
                    let ix = (comp % n) as u32;
                    let at = clock - late;
                    let outcome = outcome.unwrap_or_else(|| match signal {
                        0 => Outcome::Up { latency: Duration::from_millis(20), detail: "ok".into() },
                        1 | 2 => Outcome::Seconds(5.0),
                        _ => Outcome::Seconds(600.0),
                    });
                    match signal {
                        0 => rig.health(ix, at, outcome),
                        1 => rig.lag(ix, "a", at, outcome),
                        2 => rig.lag(ix, "b", at, outcome),
                        _ => rig.backup(ix, at, outcome),
                    }
                }
                Ev::Tick { dt } => {
                    clock += dt;
                    let fx = rig.tick(clock);
                    // After a Tick the cached assessment is exactly a full recomputation.
                    prop_assert_eq!(rig.state.assessment(), &severity::assess(&rig.state));
                    fx
                }
            };
            appended += fx.len();
            prop_assert_eq!(rig.state.timeline.len(), appended);
            check(&rig.state)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever a mutated example config still passes, the model builds its estate from it,
    /// and the data at stake, the suggestion and `check`'s restore rules read it, without
    /// a panic.
    #[test]
    fn the_model_reads_any_config_check_accepts(
        file in 0usize..8,
        line in any::<usize>(),
        how in any::<u8>(),
        junk in crate::config::load::tests::mutations::junk(),
    ) {
        if let Ok(cfg) = crate::config::load::tests::mutations::mutated_example(file, line, how, &junk) {
            let estate = Estate::from_config(&cfg);
            let _ = super::stake::warnings(&cfg);
            let _ = super::stake::refusals(&cfg);
            let mut state = State::new(estate, testkit::t(0), crate::app::Setup::default());
            state.runbooks = cfg.runbooks.clone();
            let _ = super::suggest::level(&state);
            for step in cfg.runbooks.iter().flat_map(|r| &r.steps) {
                let _ = super::stake::of(&state, step, &Default::default());
            }
        }
    }
}
