//! What the world tells the core: observations from probes, and the passing of time.

use crate::cloud::CallFailure;
use crate::cloud::kubernetes::RolloutReading;
use std::time::Duration;

use jiff::Timestamp;

use super::estate::ComponentIx;

/// One answer of one probe about one component.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub component: ComponentIx,
    pub signal: Signal,
    /// When the probe got its answer (wall clock, or simulated time in a drill).
    pub at: Timestamp,
    /// When the probe asked: a step is verified only by answers asked after it ended.
    pub started: Timestamp,
    pub outcome: Outcome,
}

/// Which of a component's signals an observation is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    Health,
    /// Replication lag of one replica (a component may have several).
    Lag {
        replica: String,
    },
    BackupAge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Up {
        latency: Duration,
        detail: String,
    },
    /// Answered, but slow or partial.
    Degraded {
        detail: String,
    },
    /// The thing itself failed or refused (for a lag: not replicating; for a backup: none found).
    Down {
        detail: String,
    },
    /// Not the thing's fault: auth expired, control-plane API unreachable, timeout.
    CannotObserve {
        reason: ObserveError,
    },
    /// A lag or a backup age, in seconds.
    Seconds(f64),
}

impl Outcome {
    /// A call to AWS or Kubernetes that told nothing: UNKNOWN, with why.
    pub fn cannot_observe(failure: CallFailure) -> Outcome {
        Outcome::CannotObserve {
            reason: failure.into(),
        }
    }

    /// What a Deployment's rollout says, read in `latency`.
    pub fn of_rollout(reading: RolloutReading, latency: Duration) -> Outcome {
        match reading {
            RolloutReading::Up { detail } => Outcome::Up { latency, detail },
            RolloutReading::Degraded { detail } => Outcome::Degraded { detail },
            RolloutReading::Down { detail } => Outcome::Down { detail },
        }
    }
}

/// Why a probe could not tell.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObserveError {
    #[error("timed out")]
    Timeout,
    #[error("credentials: {0}")]
    Credentials(String),
    #[error("access denied: {0}")]
    AccessDenied(String),
    #[error("unreachable: {0}")]
    Unreachable(String),
    #[error("no datapoints")]
    NoDatapoints,
    #[error("{0}")]
    Other(String),
}

impl From<CallFailure> for ObserveError {
    fn from(f: CallFailure) -> ObserveError {
        match f {
            CallFailure::Credentials(t) => ObserveError::Credentials(t),
            CallFailure::AccessDenied(t) => ObserveError::AccessDenied(t),
            CallFailure::Unreachable(t) => ObserveError::Unreachable(t),
            CallFailure::Other(t) => ObserveError::Other(t),
        }
    }
}

/// Everything `update` reacts to. More kinds (keys, step progress, deliveries) will come:
/// match with a wildcard arm outside this crate.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    Observed(Observation),
    /// The clock moved on: derive what depends on time (stale signals, budgets, timeouts).
    Tick(Timestamp),
    /// The operator pressed a key (no time: what a key does never depends on the clock).
    Key(super::view::Key),
    /// Lines of the journal this console follows, and news about the journal itself.
    Journal(super::incident::JournalEvent),
    /// A step this console asked to run: its claim, its progress, its end.
    Step(StepEvent),
    /// What a channel's outbox worker says the operator must know (an unreadable outbox file,
    /// an update that cannot be sent from here); `None` once it is over.
    CommsProblem {
        channel: super::message::Channel,
        problem: Option<String>,
    },
    /// The console is ending (`reason`: SIGTERM, the detach deadline): the programs of its
    /// `command` steps run on in their own sessions, handed to whoever records.
    HandOver {
        reason: String,
    },
    /// The console ends now (`reason`) with in-process steps (API calls) unfinished: they die
    /// with it and their claims are released, saying what was last done.
    Abandon {
        reason: String,
    },
}

/// What the runtime tells the model about a step it asked to run.
#[derive(Debug, Clone, PartialEq)]
pub enum StepEvent {
    /// The journal granted the claim (the step_started line is written) or refused it.
    Claimed {
        runbook: String,
        step: String,
        granted: bool,
        why: Option<String>,
    },
    Progress {
        runbook: String,
        step: String,
        progress: crate::app::outcome::StepProgress,
    },
    Finished {
        runbook: String,
        step: String,
        outcome: crate::app::outcome::StepOutcome,
    },
    /// What a read of a step's pending postcondition said (asked by
    /// [`crate::app::Effect::ReadPostcondition`]).
    PostconditionRead {
        runbook: String,
        step: String,
        reading: crate::app::outcome::PostconditionReading,
    },
}

impl Event {
    /// The time this event carries, if it carries one.
    pub fn at(&self) -> Option<Timestamp> {
        match self {
            Event::Observed(o) => Some(o.at),
            Event::Tick(t) => Some(*t),
            Event::Key(_)
            | Event::Journal(_)
            | Event::Step(_)
            | Event::CommsProblem { .. }
            | Event::HandOver { .. }
            | Event::Abandon { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observe_errors_read_as_reasons() {
        assert_eq!(ObserveError::Timeout.to_string(), "timed out");
        assert_eq!(
            ObserveError::Credentials("token expired".into()).to_string(),
            "credentials: token expired"
        );
        assert_eq!(
            ObserveError::AccessDenied("rds:DescribeDBInstances".into()).to_string(),
            "access denied: rds:DescribeDBInstances"
        );
        assert_eq!(
            ObserveError::Unreachable("eks api".into()).to_string(),
            "unreachable: eks api"
        );
        assert_eq!(ObserveError::NoDatapoints.to_string(), "no datapoints");
        assert_eq!(ObserveError::Other("boom".into()).to_string(), "boom");
    }

    #[test]
    fn event_time() {
        let t = Timestamp::from_second(100).expect("valid");
        assert_eq!(Event::Tick(t).at(), Some(t));
        let o = Observation {
            component: ComponentIx(0),
            signal: Signal::Health,
            at: t,
            started: t,
            outcome: Outcome::Seconds(1.0),
        };
        assert_eq!(Event::Observed(o).at(), Some(t));
    }
}
