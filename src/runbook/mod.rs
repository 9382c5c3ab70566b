//! Runbook steps: what runs an action, and what it reports while it runs.
//!
//! [`Executor`] is what the runtime calls when `update` decided that a step may run
//! (confirmed, required steps done, prechecks passed). A drill plugs in
//! [`crate::drill::SimExecutor`]; a console on the real estate plugs in [`RealExecutor`],
//! which dispatches on the action kind to one module per kind:
//!
//! | module | action kinds |
//! |---|---|
//! | [`rds`] | `rds_promote_read_replica`, `rds_restore_snapshot`, `rds_restore_point_in_time`, `rds_failover_cluster` |
//! | [`kubernetes`] | `k8s_rollout_restart`, `k8s_scale`, `k8s_wait_available` |
//! | [`command`] | `command` |
//! | [`http`] | `http` |
//!
//! `checklist` and `notify` are not executed here: the console ticks a checklist's items
//! itself and sends a notify through comms; [`RealExecutor`] answers them with a `Failed`
//! saying so, so that a runtime that hands them over by mistake does nothing.
//!
//! Every executor reports each call it makes as a [`StepProgress::Status`] (the API call and
//! its parameters) before making it, ends with what the other side answered, and never lets
//! a secret into a progress line or an outcome.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use tokio::sync::mpsc;

use crate::config::Step;

pub mod command;
pub mod http;
pub mod kubernetes;
pub mod rds;
pub mod real;

pub use real::{Options, RealExecutor};

// The vocabulary of a step's life is the model's (`app::outcome`); named here too, where
// the executors that produce it live.
pub use crate::app::outcome::{Postcondition, PostconditionReading, StepOutcome, StepProgress};

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
        progress: mpsc::Sender<StepProgress>,
    ) -> RunFuture<'a>;

    /// Reads a postcondition left pending by a step (this console's or another's) once.
    /// An executor that cannot read it says so; the console asks again later.
    fn read_postcondition<'a>(&'a self, postcondition: &'a Postcondition) -> ReadFuture<'a> {
        let why = format!("this console cannot read {}", postcondition.describe());
        Box::pin(async move { PostconditionReading::CannotRead(why) })
    }
}

/// Sends a progress report; a closed receiver is not the step's failure.
pub(crate) async fn report(progress: &mpsc::Sender<StepProgress>, what: StepProgress) {
    let _ = progress.send(what).await;
}

/// Sends a status line (see [`report`]).
pub(crate) async fn status(progress: &mpsc::Sender<StepProgress>, text: impl Into<String>) {
    report(progress, StepProgress::Status(text.into())).await;
}

pub(crate) fn failed(reason: impl Into<String>) -> StepOutcome {
    StepOutcome::Failed {
        reason: reason.into(),
    }
}

pub(crate) fn succeeded(summary: impl Into<String>) -> StepOutcome {
    StepOutcome::Succeeded {
        summary: summary.into(),
    }
}
