//! How a step runs and ends, in the model's words: what an executor reports while a step runs
//! ([`StepProgress`]), how it ended ([`StepOutcome`]), and the postcondition an accepted step
//! may leave for any console to read ([`Postcondition`]). The executors (`runbook/`, the
//! drill) produce these; `update` decides what they mean. The [`Executor`] trait is here too
//! (DESIGN: the traits adapters implement live in the model), so the drill implements it
//! without importing the real executors.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use std::time::Duration;

use tokio::sync::mpsc;

use crate::config::Step;

/// How often, and for how long, an RDS postcondition (a promoted replica standing alone, a
/// restored instance available) is read: a promotion takes minutes. The AWS clients' own
/// default, so a drill reads as long as production does.
pub const INSTANCE_READ: (Duration, Duration) = crate::cloud::aws::POSTCONDITION;

/// How long a restart's or a scale's rollout is read by default before NOT verified.
pub const ROLLOUT_WITHIN: Duration = Duration::from_secs(10 * 60);

/// Something a running step reports before it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepProgress {
    /// A line of output (a command's stdout/stderr, an API's answer), untrusted: sanitize
    /// before drawing.
    Output(String),
    /// Where the step is ("PromoteReadReplica accepted", "3/5 available"), for the status line.
    Status(String),
    /// A `command` step's program runs: the leader of its own process group, started at
    /// `start` (`/proc/PID/stat`), its output going to the file `log`. It outlives the
    /// console if need be; the journal says so.
    Running {
        pgid: u32,
        start: u64,
        log: Option<String>,
    },
    /// What the step's log holds, once it ended: every line it printed, those kept (the log is
    /// capped), and the file.
    Logged { lines: u64, kept: u64, log: String },
    /// Lines of output printed faster than the screen takes them, not sent to it (the
    /// step's log file has them): how many, counted so the journal's summary stays exact.
    Skipped(u64),
    /// The action was accepted; what is left is a postcondition that anyone can read later
    /// with one API call (no process of the step needed): if the console ends before it
    /// holds, the step is journaled as still creating, not interrupted.
    Accepted(Postcondition),
}

/// A postcondition that one read-only API call tells, whoever makes it and whenever: what
/// an accepted step still waits for after its console stopped waiting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Postcondition {
    /// A restored RDS instance is `available` (`DescribeDBInstances`).
    RdsInstanceAvailable { region: String, instance: String },
}

impl Postcondition {
    /// What it names: the instance.
    pub fn target(&self) -> &str {
        match self {
            Postcondition::RdsInstanceAvailable { instance, .. } => instance,
        }
    }

    /// "us-west-2/dtem-restored available", for the panel and the journal.
    pub fn describe(&self) -> String {
        match self {
            Postcondition::RdsInstanceAvailable { region, instance } => {
                format!("{region}/{instance} available")
            }
        }
    }
}

/// One reading of a [`Postcondition`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostconditionReading {
    /// It holds: what was read.
    Held(String),
    /// Not yet, and the thing is still being made (`still creating (status creating)`).
    StillCreating(String),
    /// It does not hold and will not by waiting (failed, deleted, gone): what was read.
    NotHeld(String),
    /// No answer to go by (unreachable, credentials): why; read again later.
    CannotRead(String),
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Succeeded {
        summary: String,
    },
    /// The action was accepted, and its built-in postcondition was read with its own API
    /// call (like the AWS CLI's waiters): `held`, or not by the deadline; `evidence` is what
    /// was read last (`dtem-postgres-dr-replica available, no replication source`).
    Checked {
        summary: String,
        held: bool,
        evidence: String,
    },
    /// The action was accepted and what it makes was still being created when the step
    /// stopped waiting: not failed, not verified; any console reads `postcondition` again.
    StillCreating {
        summary: String,
        evidence: String,
        postcondition: Postcondition,
    },
    Failed {
        reason: String,
    },
}

impl StepOutcome {
    pub fn succeeded(&self) -> bool {
        matches!(
            self,
            StepOutcome::Succeeded { .. }
                | StepOutcome::Checked { .. }
                | StepOutcome::StillCreating { .. }
        )
    }
}

/// Where a run of a step keeps its output: a file of its own beside the journal it runs
/// under (`<incident>.steps/<run>.log`); an executor that keeps logs makes the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepLog {
    pub source: super::Source,
    /// The run's name: `<runbook>.<step>.<milliseconds since the epoch>`.
    pub run: String,
}

/// What [`Executor::run`] returns: a boxed future, so that `dyn Executor` works.
pub type RunFuture<'a> = Pin<Box<dyn Future<Output = StepOutcome> + Send + 'a>>;

/// What [`Executor::read_postcondition`] returns.
pub type ReadFuture<'a> = Pin<Box<dyn Future<Output = PostconditionReading> + Send + 'a>>;

/// Runs a step's action. `inputs` are what the operator typed in the modal (by input name);
/// progress goes into `progress` (a closed receiver is not an error: the step runs on).
/// Never panics on a bad action: whatever went wrong is a [`StepOutcome::Failed`].
pub trait Executor: Send + Sync {
    fn run<'a>(
        &'a self,
        step: &'a Step,
        inputs: &'a BTreeMap<String, String>,
        log: Option<&'a StepLog>,
        progress: mpsc::Sender<StepProgress>,
    ) -> RunFuture<'a>;

    /// Reads a postcondition left pending by a step (this console's or another's) once.
    /// An executor that cannot read it says so; the console asks again later.
    fn read_postcondition<'a>(&'a self, postcondition: &'a Postcondition) -> ReadFuture<'a> {
        let why = format!("this console cannot read {}", postcondition.describe());
        Box::pin(async move { PostconditionReading::CannotRead(why) })
    }
}
