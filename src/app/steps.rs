//! Runbook steps as the journal tells them: who asked, who confirmed, who runs it, how it
//! ended, whether it was verified. Every console folds the same lines, so a step started on
//! one console shows as running on all of them; the journal is the lock.

use std::collections::HashMap;

use jiff::Timestamp;

use super::entry::{EntryKind, StepResult};
use super::precheck::{self, Checked};
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
    /// Accepted, and what it makes still being created when its console stopped waiting:
    /// what to read again and what was read last, until a verdict is journaled.
    pub still_creating: Option<(crate::app::outcome::Postcondition, String)>,
    /// The file the last run's output went to (a `command` step's), for anyone to read.
    pub log: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub actor: String,
    pub host: String,
    pub pid: u32,
    pub at: Timestamp,
    /// The claiming console's start time (`/proc/PID/stat`), when it said.
    pub start: Option<u64>,
    /// A `command` step's program, once it runs: the claim lives while its group does.
    pub group: Option<ClaimGroup>,
    /// Its console is gone; the recorder follows the program.
    pub adopted: bool,
}

/// The process group a `command` step's program leads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClaimGroup {
    pub pgid: u32,
    pub start: u64,
    /// When the program was journaled as running, and the step's timeout from then.
    pub since: Timestamp,
    pub timeout: jiff::SignedDuration,
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

    /// Every step's record in these journal lines.
    pub fn of_journal(entries: &[crate::journal::JournalEntry]) -> Steps {
        let mut steps = Steps::default();
        steps.fold_journal(entries);
        steps
    }

    /// Applies the step lines among these journal lines (the others are not even parsed).
    pub fn fold_journal(&mut self, entries: &[crate::journal::JournalEntry]) {
        for e in entries.iter().filter(|e| is_step_kind(&e.kind)) {
            if let Some(k) = EntryKind::from_journal(&e.kind, &e.body) {
                self.fold(e.at, &e.actor, &k);
            }
        }
    }

    /// Applies one journal line.
    pub fn fold(&mut self, at: Timestamp, actor: &str, kind: &EntryKind) {
        let (runbook, step) = match kind {
            EntryKind::StepRequested { runbook, step }
            | EntryKind::StepConfirmed { runbook, step, .. }
            | EntryKind::StepStarted { runbook, step, .. }
            | EntryKind::StepOutput { runbook, step, .. }
            | EntryKind::StepProcess { runbook, step, .. }
            | EntryKind::StepAdopted { runbook, step, .. }
            | EntryKind::StepFinished { runbook, step, .. }
            | EntryKind::StepVerified { runbook, step, .. }
            | EntryKind::StepPending { runbook, step, .. }
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
            EntryKind::StepStarted {
                pid, host, start, ..
            } => {
                r.running = Some(Claim {
                    actor: actor.to_string(),
                    host: host.clone(),
                    pid: *pid,
                    at,
                    start: *start,
                    group: None,
                    adopted: false,
                });
                r.finished = None;
                r.verified = None;
                r.still_creating = None;
                r.log = None;
            }
            EntryKind::StepFinished {
                outcome, detail, ..
            } => {
                r.running = None;
                r.finished = Some((*outcome, detail.clone()));
            }
            EntryKind::StepVerified { verified, .. } => {
                r.verified = Some(*verified);
                r.still_creating = None;
            }
            EntryKind::StepPending {
                postcondition,
                detail,
                ..
            } if r.verified.is_none() => {
                r.still_creating = Some((postcondition.clone(), detail.clone()));
            }
            EntryKind::StepProcess {
                pgid,
                start,
                timeout,
                log,
                ..
            } => {
                if log.is_some() {
                    r.log.clone_from(log);
                }
                if let Some(c) = r.running.as_mut() {
                    c.group = Some(ClaimGroup {
                        pgid: *pgid,
                        start: *start,
                        since: at,
                        timeout: *timeout,
                    });
                }
            }
            EntryKind::StepAdopted { pgid, .. } => {
                if let Some(c) = r.running.as_mut()
                    && c.group.is_some_and(|g| g.pgid == *pgid)
                {
                    c.adopted = true;
                }
            }
            // A released claim: nobody saw the step end.
            EntryKind::StepReleased { reason, pid, .. }
                if r.running
                    .as_ref()
                    .is_some_and(|c| pid.is_none_or(|p| p == c.pid)) =>
            {
                r.running = None;
                r.finished = Some((StepResult::Interrupted, reason.clone()));
            }
            _ => {}
        }
    }

    /// Steps accepted whose postcondition is still pending: (runbook, step, what to read).
    pub fn still_creating(
        &self,
    ) -> impl Iterator<Item = (&str, &str, &crate::app::outcome::Postcondition)> + '_ {
        self.records
            .iter()
            .filter_map(|((rb, st), r)| match (&r.still_creating, r.verified) {
                (Some((pc, _)), None) if r.running.is_none() => {
                    Some((rb.as_str(), st.as_str(), pc))
                }
                _ => None,
            })
    }

    /// Whether any step is running (claimed, not ended).
    pub fn any_running(&self) -> bool {
        self.records.values().any(|r| r.running.is_some())
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
        /// The console that started it is gone; its program still runs, followed by the
        /// recorder.
        console_gone: bool,
    },
    /// Succeeded; its component is being watched until it is UP.
    Verifying {
        component: String,
    },
    /// Accepted; what it makes was still being created when its console stopped waiting
    /// (what was read last). The recorder reads it again until it is there.
    StillCreating {
        detail: String,
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
            StepState::Running {
                console_gone: true, ..
            } => "running (console gone)",
            StepState::Running { .. } => "running",
            StepState::Verifying { .. } => "verifying",
            StepState::StillCreating { .. } => "still creating",
            StepState::Succeeded {
                verified: Some(false),
            } => "NOT verified",
            StepState::Succeeded {
                verified: Some(true),
            } => "verified",
            // Nothing checks what it did: never shown as passed.
            StepState::Succeeded { verified: None } => "done (not verifiable)",
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
                console_gone: c.adopted,
            };
        }
        match &r.finished {
            Some((StepResult::Succeeded, _)) => {
                if let (Some((_, detail)), None) = (&r.still_creating, r.verified) {
                    return StepState::StillCreating {
                        detail: detail.clone(),
                    };
                }
                if let (Some(v), None) = (&step.verify, r.verified) {
                    // Verifying until a verdict is journaled (the runner writes it, from
                    // fresh answers): the component UP on screen proves nothing yet.
                    return StepState::Verifying {
                        component: v.component.clone(),
                    };
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

#[cfg(test)]
mod tests;

#[cfg(test)]
mod drill_monkey;
