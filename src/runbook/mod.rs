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

use tokio::sync::mpsc;

pub mod command;
pub mod http;
pub mod kubernetes;
pub mod rds;
pub mod real;

pub use real::{ExecutorOptions, RealExecutor, StepLogs};

// The vocabulary of a step's life is the model's (`app::outcome`); named here too, where
// the executors that produce it live.
pub use crate::app::outcome::{
    Executor, Postcondition, PostconditionReading, ReadFuture, RunFuture, StepLog, StepOutcome,
    StepProgress,
};

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
