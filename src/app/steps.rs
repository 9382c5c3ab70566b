//! Runbook steps as the journal tells them: who asked, who confirmed, who runs it, how it
//! ended, whether it was verified. Every console folds the same lines, so a step started on
//! one console shows as running on all of them; the journal is the lock.

use std::collections::HashMap;

use jiff::Timestamp;

use super::entry::{EntryKind, StepResult};
use super::precheck::{self, Checked};
use super::signals::HealthState;
use super::update::State;
use crate::config::{Runbook, Step};

/// What the journal says about one step.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepRecord {
    /// The last line about it: who and when.
    pub last_actor: String,
    pub last_at: Option<Timestamp>,
    /// A claim (step_started) not yet followed by its end: by whom, on which host, which pid.
    pub running: Option<Claim>,
    pub finished: Option<(StepResult, String)>,
    /// Whether the verification after success held (`None`: none yet).
    pub verified: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub actor: String,
    pub host: String,
    pub pid: u32,
    pub at: Timestamp,
}

/// Every step's record, by (runbook id, step id).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Steps {
    records: HashMap<(String, String), StepRecord>,
}

/// Whether a journal kind is about a step (read for every line of a long journal).
pub fn is_step_kind(kind: &str) -> bool {
    kind.starts_with("step_")
}

impl Steps {
    pub fn get(&self, runbook: &str, step: &str) -> Option<&StepRecord> {
        self.records.get(&(runbook.to_string(), step.to_string()))
    }

    pub fn clear(&mut self) {
        self.records.clear();
    }

    /// Applies one journal line.
    pub fn fold(&mut self, at: Timestamp, actor: &str, kind: &EntryKind) {
        let (runbook, step) = match kind {
            EntryKind::StepRequested { runbook, step }
            | EntryKind::StepConfirmed { runbook, step, .. }
            | EntryKind::StepStarted { runbook, step, .. }
            | EntryKind::StepOutput { runbook, step, .. }
            | EntryKind::StepFinished { runbook, step, .. }
            | EntryKind::StepVerified { runbook, step, .. }
            | EntryKind::StepReleased { runbook, step, .. } => (runbook, step),
            _ => return,
        };
        let r = self
            .records
            .entry((runbook.clone(), step.clone()))
            .or_default();
        r.last_actor = actor.to_string();
        r.last_at = Some(at);
        match kind {
            EntryKind::StepStarted { pid, host, .. } => {
                r.running = Some(Claim {
                    actor: actor.to_string(),
                    host: host.clone(),
                    pid: *pid,
                    at,
                });
                r.finished = None;
                r.verified = None;
            }
            EntryKind::StepFinished {
                outcome, detail, ..
            } => {
                r.running = None;
                r.finished = Some((*outcome, detail.clone()));
            }
            EntryKind::StepVerified { verified, .. } => r.verified = Some(*verified),
            // A released claim: nobody saw the step end.
            EntryKind::StepReleased { reason, .. } if r.running.take().is_some() => {
                r.finished = Some((StepResult::Interrupted, reason.clone()));
            }
            _ => {}
        }
    }

    /// Claims held by processes of `host` (to find the ones whose process is gone).
    pub fn claims_on<'a>(
        &'a self,
        host: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str, &'a Claim)> + 'a {
        self.records.iter().filter_map(move |((rb, st), r)| {
            r.running
                .as_ref()
                .filter(|c| c.host == host)
                .map(|c| (rb.as_str(), st.as_str(), c))
        })
    }
}

/// A step's state in the runbook panel.
#[derive(Debug, Clone, PartialEq)]
pub enum StepState {
    /// A required step has not succeeded.
    Blocked {
        waiting_for: String,
    },
    /// Could run, but a precheck fails now (an override with a reason can still run it).
    Pending {
        why: String,
    },
    Ready,
    Running {
        by: String,
    },
    /// Succeeded; its component is being watched until it is UP.
    Verifying {
        component: String,
    },
    Succeeded {
        verified: Option<bool>,
    },
    Failed {
        why: String,
    },
    /// The console running it went away before it could say: verify by hand.
    Interrupted,
}

impl StepState {
    pub fn label(&self) -> &'static str {
        match self {
            StepState::Blocked { .. } => "blocked",
            StepState::Pending { .. } => "pending",
            StepState::Ready => "ready",
            StepState::Running { .. } => "running",
            StepState::Verifying { .. } => "verifying",
            StepState::Succeeded {
                verified: Some(false),
            } => "NOT verified",
            StepState::Succeeded {
                verified: Some(true),
            } => "verified",
            StepState::Succeeded { verified: None } => "succeeded",
            StepState::Failed { .. } => "failed",
            StepState::Interrupted => "interrupted — verify by hand",
        }
    }
}

fn succeeded(state: &State, runbook: &str, step: &str) -> bool {
    state
        .steps
        .get(runbook, step)
        .and_then(|r| r.finished.as_ref())
        .is_some_and(|(res, _)| *res == StepResult::Succeeded)
}

/// The prechecks of a step, each against its live value.
pub fn prechecks(state: &State, step: &Step) -> Vec<Checked> {
    step.precheck
        .iter()
        .map(|p| precheck::check(state, p))
        .collect()
}

/// What the panel shows for a step, from the journal, its requires and its prechecks.
pub fn state_of(state: &State, runbook: &Runbook, step: &Step) -> StepState {
    if let Some(r) = state.steps.get(&runbook.id, &step.id) {
        if let Some(c) = &r.running {
            return StepState::Running {
                by: c.actor.clone(),
            };
        }
        match &r.finished {
            Some((StepResult::Succeeded, _)) => {
                if let (Some(v), None) = (&step.verify, r.verified) {
                    // Verifying until a verdict is journaled; the runner writes it.
                    let up = state
                        .estate()
                        .ix(&v.component)
                        .and_then(|ix| state.health(ix))
                        .is_some_and(|h| h.state == HealthState::Up);
                    if !up || state.verifying(&runbook.id, &step.id) {
                        return StepState::Verifying {
                            component: v.component.clone(),
                        };
                    }
                }
                return StepState::Succeeded {
                    verified: r.verified,
                };
            }
            Some((StepResult::Failed, why)) => {
                return StepState::Failed { why: why.clone() };
            }
            Some((StepResult::Interrupted, _)) => return StepState::Interrupted,
            None => {}
        }
    }
    if let Some(missing) = step
        .requires
        .iter()
        .find(|req| !succeeded(state, &runbook.id, req))
    {
        return StepState::Blocked {
            waiting_for: missing.clone(),
        };
    }
    if let Some(failing) = prechecks(state, step).into_iter().find(|c| !c.pass) {
        return StepState::Pending {
            why: format!(
                "{}: {}",
                failing.text,
                failing.why.unwrap_or_else(|| "fails".into())
            ),
        };
    }
    StepState::Ready
}
