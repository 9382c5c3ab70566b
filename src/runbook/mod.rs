//! Runbook steps: what runs an action, and what it reports while it runs.
//!
//! Only the seam for now: [`Executor`] is what the runtime calls when `update` decided that a
//! step may run (confirmed, required steps done, prechecks passed). A drill plugs in
//! [`crate::drill::SimExecutor`]; the real executors per action kind come with the runbook work.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use tokio::sync::mpsc;

use crate::config::Step;

/// Something a running step reports before it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepProgress {
    /// A line of output (a command's stdout/stderr, an API's answer), untrusted: sanitize
    /// before drawing.
    Output(String),
    /// Where the step is ("PromoteReadReplica accepted", "3/5 available"), for the status line.
    Status(String),
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Succeeded { summary: String },
    Failed { reason: String },
}

impl StepOutcome {
    pub fn succeeded(&self) -> bool {
        matches!(self, StepOutcome::Succeeded { .. })
    }
}

/// What [`Executor::run`] returns: a boxed future, so that `dyn Executor` works.
pub type RunFuture<'a> = Pin<Box<dyn Future<Output = StepOutcome> + Send + 'a>>;

/// Runs a step's action. `inputs` are what the operator typed in the modal (by input name);
/// progress goes into `progress` (a closed receiver is not an error: the step runs on).
/// Never panics on a bad action: whatever went wrong is a [`StepOutcome::Failed`].
pub trait Executor: Send + Sync {
    fn run<'a>(
        &'a self,
        step: &'a Step,
        inputs: &'a BTreeMap<String, String>,
        progress: mpsc::Sender<StepProgress>,
    ) -> RunFuture<'a>;
}
