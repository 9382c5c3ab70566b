//! Helpers for the model's tests: an estate built by hand, and a rig that sends events.

use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::config::{Schedule, Thresholds, Tier};

/// Seconds after a fixed start.
pub fn t(s: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + s).expect("valid timestamp")
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn schedule(every: u64, timeout: u64, confirm_after: u32) -> Schedule {
    Schedule {
        every: secs(every),
        timeout: secs(timeout),
        confirm_after,
    }
}

pub fn thresholds(warn: u64, crit: u64) -> Thresholds {
    Thresholds {
        warn: secs(warn),
        crit: secs(crit),
    }
}

/// A component with a health probe every 15s, timeout 10s, confirming after `confirm`.
pub fn comp(id: &str, tier: Tier, confirm: u32) -> ComponentSpec {
    ComponentSpec::new(id, tier).health(schedule(15, 10, confirm))
}

pub fn up_outcome() -> Outcome {
    Outcome::Up {
        latency: Duration::from_millis(20),
        detail: "200 OK".into(),
    }
}

pub fn down_outcome(detail: &str) -> Outcome {
    Outcome::Down {
        detail: detail.into(),
    }
}

pub fn cannot(reason: ObserveError) -> Outcome {
    Outcome::CannotObserve { reason }
}

pub struct Rig {
    pub state: State,
    /// The recorder's journal, in memory: what the timeline shows comes back from it.
    pub journal: MemoryJournal,
}

impl Rig {
    /// The console started at `t(0)`, recording into a journal in memory.
    pub fn new(specs: Vec<ComponentSpec>) -> Rig {
        let mut state = State::new(Estate::new(specs), t(0), crate::app::Setup::default());
        let journal = MemoryJournal::attach(&mut state, "ana@test");
        Rig { state, journal }
    }

    fn echo(&mut self, effects: Vec<Effect>) -> Vec<Effect> {
        self.journal.echo(&mut self.state, &effects);
        effects
    }

    pub fn send(&mut self, ix: u32, signal: Signal, at: i64, outcome: Outcome) -> Vec<Effect> {
        let fx = update(
            &mut self.state,
            Event::Observed(Observation {
                component: ComponentIx(ix),
                signal,
                at: t(at),
                started: t(at),
                outcome,
            }),
        );
        self.echo(fx)
    }

    /// A health answer asked at `asked` and received at `at` (a probe that was in flight).
    pub fn health_asked(&mut self, ix: u32, asked: i64, at: i64, outcome: Outcome) -> Vec<Effect> {
        let fx = update(
            &mut self.state,
            Event::Observed(Observation {
                component: ComponentIx(ix),
                signal: Signal::Health,
                at: t(at),
                started: t(asked),
                outcome,
            }),
        );
        self.echo(fx)
    }

    pub fn key(&mut self, key: crate::app::Key) -> Vec<Effect> {
        let fx = update(&mut self.state, Event::Key(key));
        self.echo(fx)
    }

    pub fn health(&mut self, ix: u32, at: i64, outcome: Outcome) -> Vec<Effect> {
        self.send(ix, Signal::Health, at, outcome)
    }

    pub fn up(&mut self, ix: u32, at: i64) -> Vec<Effect> {
        self.health(ix, at, up_outcome())
    }

    pub fn down(&mut self, ix: u32, at: i64) -> Vec<Effect> {
        self.health(ix, at, down_outcome("connection refused"))
    }

    pub fn lag(&mut self, ix: u32, replica: &str, at: i64, outcome: Outcome) -> Vec<Effect> {
        self.send(
            ix,
            Signal::Lag {
                replica: replica.into(),
            },
            at,
            outcome,
        )
    }

    pub fn backup(&mut self, ix: u32, at: i64, outcome: Outcome) -> Vec<Effect> {
        self.send(ix, Signal::BackupAge, at, outcome)
    }

    pub fn tick(&mut self, at: i64) -> Vec<Effect> {
        let fx = update(&mut self.state, Event::Tick(t(at)));
        self.echo(fx)
    }

    /// Every component UP at `at` (first answers: adopted at once).
    pub fn all_up(&mut self, at: i64) {
        for ix in 0..self.state.estate().len() as u32 {
            self.up(ix, at);
        }
    }

    pub fn shown(&self, ix: u32) -> HealthState {
        self.state
            .health(ComponentIx(ix))
            .map(|h| h.state)
            .expect("component exists")
    }

    pub fn reason(&self, ix: u32) -> String {
        self.state
            .health(ComponentIx(ix))
            .map(|h| h.reason)
            .expect("component exists")
    }

    pub fn severity(&self) -> Severity {
        self.state.severity()
    }

    pub fn component(&self, ix: u32) -> &ComponentState {
        self.state
            .component(ComponentIx(ix))
            .expect("component exists")
    }
}

/// The entry kinds in a batch of effects.
pub fn entries(effects: &[Effect]) -> Vec<EntryKind> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Append(entry) => Some(entry.kind.clone()),
            Effect::Declare { .. }
            | Effect::RunStep { .. }
            | Effect::Execute { .. }
            | Effect::Post(_)
            | Effect::Quit
            | Effect::CancelStep { .. }
            | Effect::ReadPostcondition { .. }
            | Effect::ReadEarlier { .. }
            | Effect::ReadStepLog { .. }
            | Effect::ContinueJournal { .. } => None,
        })
        .collect()
}

/// As an executor that always succeeds would: every step `fx` started (its claim granted
/// when the journal echoed `fx`) that is still running finishes succeeded, each answer
/// echoed to `journal`. The steps, in order.
pub fn grant_and_succeed(
    state: &mut State,
    journal: &mut MemoryJournal,
    fx: &[Effect],
) -> Vec<String> {
    let mut ran = Vec::new();
    for e in fx {
        if let Effect::RunStep { runbook, step, .. } = e {
            ran.push(step.clone());
            // The journal granted the claim when it echoed `fx`; the console's own steps
            // ended there, an executor's ends now.
            if state
                .steps
                .get(runbook, step)
                .is_some_and(|r| r.running.is_some())
            {
                let finished = StepEvent::Finished {
                    runbook: runbook.clone(),
                    step: step.clone(),
                    outcome: crate::app::outcome::StepOutcome::Succeeded {
                        summary: String::new(),
                    },
                };
                let more = update(state, Event::Step(finished));
                journal.echo(state, &more);
            }
        }
    }
    ran
}
