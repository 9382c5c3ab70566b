//! The RDS actions, with the SDK's RDS client of the action's region ([`aws::AwsClients`], the
//! same clients the probes use, `[aws] endpoint_url` honoured):
//!
//! | action | API call |
//! |---|---|
//! | `rds_promote_read_replica` | `PromoteReadReplica(DBInstanceIdentifier)` |
//! | `rds_restore_snapshot` | `RestoreDBInstanceFromDBSnapshot(DBInstanceIdentifier = target, DBSnapshotIdentifier, DBInstanceClass?)`; with `latest_of`, first `DescribeDBSnapshots(DBInstanceIdentifier)` (every page) picks the newest `available` one |
//! | `rds_restore_point_in_time` | `RestoreDBInstanceToPointInTime(SourceDBInstanceIdentifier, TargetDBInstanceIdentifier, RestoreTime)`, the time being the step's `rfc3339` input |
//! | `rds_failover_cluster` | `FailoverDBCluster(DBClusterIdentifier, TargetDBInstanceIdentifier?)` |
//!
//! - A restore is sent with its placement ([`Placement`]): the configured settings, the
//!   rest copied from the source instance when it answers within [`SOURCE_WITHIN`]; without
//!   a network (subnet group and security groups) and no source to ask, it stops before the
//!   call unless the operator accepted AWS's defaults (`override defaults: <reason>`).
//! - A mutating call is sent once: the SDK's retries are off for it (a restore retried after
//!   a lost answer would fail with "already exists" while the first one runs), and it has
//!   [`CALL_TIMEOUT`]. When the answer was lost (no connection, timeout, unreadable answer)
//!   or AWS failed (5xx), the reason says that AWS may have applied it: look before running
//!   the step again.
//! - A restore time that is not strict RFC 3339 (`2024-01-15T14:30:00Z`,
//!   `2024-01-15T16:30:00+02:00`), or that is in the future, fails the step before any call.
//! - "Newest" for `latest_of` is the snapshot whose data is the newest: a copy's
//!   `OriginalSnapshotCreateTime`, else its `SnapshotCreateTime` (as the `rds_snapshots`
//!   backup probe measures it, so the snapshot restored is the one whose age the screen
//!   showed).
//! - The summary says what AWS answered: the instance's (or cluster's) status, and for a
//!   failover the writer AWS named.
//! - Accepted is not done: a promotion and a restore then read their postcondition with
//!   their own `DescribeDBInstances` calls, like the AWS CLI's waiters, every
//!   [`AwsClients::postcondition`] poll for at most its deadline — promote: `available` and no
//!   `ReadReplicaSourceDBInstanceIdentifier`; restore: the new instance `available`. The
//!   step ends [`StepOutcome::Checked`]: held, or not (a restore still creating says `still
//!   creating (status X)`), with what was read last.

use std::collections::BTreeMap;
use std::error::Error;

use aws_sdk_rds::config::http::HttpResponse;
use aws_sdk_rds::config::retry::RetryConfig;
use aws_sdk_rds::config::timeout::TimeoutConfig;
use aws_sdk_rds::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_rds::primitives::DateTime;
use aws_sdk_rds::types::DbInstance;
use jiff::Timestamp;
use tokio::sync::mpsc;

use super::{
    Postcondition, PostconditionReading, StepOutcome, StepProgress, failed, report, status,
    succeeded,
};
use crate::cloud::aws::{self, AwsClients};
use crate::cloud::aws::{Snap, newest_available};
use crate::config::{Input, InputKind, Placement, SnapshotChoice};

pub use crate::cloud::aws::CALL_TIMEOUT;

mod restore;
pub use restore::*;
mod postcondition;
pub use postcondition::*;

/// Settings for one mutating call: sent once, bounded in time ([`AwsClients::call_timeout`]).
fn once(clients: &AwsClients) -> aws_sdk_rds::config::Builder {
    aws_sdk_rds::config::Builder::default()
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(clients.call_timeout())
                .build(),
        )
}

/// `PromoteReadReplica`.
pub async fn promote_read_replica(
    clients: &AwsClients,
    instance: &str,
    region: &str,
    progress: &mpsc::Sender<StepProgress>,
) -> StepOutcome {
    let call = "PromoteReadReplica";
    status(
        progress,
        format!("{call} DBInstanceIdentifier={instance} ({region})"),
    )
    .await;
    let answer = clients
        .rds(region)
        .await
        .promote_read_replica()
        .db_instance_identifier(instance)
        .customize()
        .config_override(once(clients))
        .send()
        .await;
    match answer {
        Ok(out) => {
            let state = instance_state(out.db_instance(), instance);
            report(progress, StepProgress::Output(format!("{call}: {state}"))).await;
            let summary = format!(
                "{call} accepted: {state}; it stops replicating and becomes a standalone primary"
            );
            let reading = instance_postcondition(
                clients,
                region,
                instance,
                "available with no replication source",
                Shown::WithReplication,
                Makes::Nothing,
                &|i| {
                    i.db_instance_status() == Some("available")
                        && i.read_replica_source_db_instance_identifier().is_none()
                },
                progress,
            )
            .await;
            // A promotion makes nothing new: not done in time is NOT verified.
            let (held, evidence) = match reading {
                PostconditionReading::Held(seen) => (true, seen),
                PostconditionReading::StillCreating(seen)
                | PostconditionReading::NotHeld(seen)
                | PostconditionReading::CannotRead(seen) => (false, seen),
            };
            StepOutcome::Checked {
                summary,
                held,
                evidence,
            }
        }
        Err(err) => failed(aws_failure(call, &err)),
    }
}

/// `FailoverDBCluster`.
pub async fn failover_cluster(
    clients: &AwsClients,
    cluster: &str,
    target_instance: Option<&str>,
    region: &str,
    progress: &mpsc::Sender<StepProgress>,
) -> StepOutcome {
    let call = "FailoverDBCluster";
    let to = target_instance
        .map(|t| format!(" TargetDBInstanceIdentifier={t}"))
        .unwrap_or_default();
    status(
        progress,
        format!("{call} DBClusterIdentifier={cluster}{to} ({region})"),
    )
    .await;
    let answer = clients
        .rds(region)
        .await
        .failover_db_cluster()
        .db_cluster_identifier(cluster)
        .set_target_db_instance_identifier(target_instance.map(str::to_string))
        .customize()
        .config_override(once(clients))
        .send()
        .await;
    match answer {
        Ok(out) => {
            let Some(c) = out.db_cluster() else {
                return succeeded(format!(
                    "{call} accepted for {cluster} (no cluster in the answer)"
                ));
            };
            let state = c.status().unwrap_or("status not given");
            let writer = c
                .db_cluster_members()
                .iter()
                .find(|m| m.is_cluster_writer() == Some(true))
                .and_then(|m| m.db_instance_identifier());
            let writer = match writer {
                Some(w) => format!(", writer {w}"),
                None => String::new(),
            };
            let line = format!("{call}: cluster {cluster} is {state}{writer}");
            report(progress, StepProgress::Output(line)).await;
            let summary = format!("{call} accepted: cluster {cluster} is {state}{writer}");
            // With a target, done is that instance being the writer, read back.
            match target_instance {
                Some(t) => {
                    let (held, evidence) =
                        cluster_writer(clients, region, cluster, t, progress).await;
                    StepOutcome::Checked {
                        summary,
                        held,
                        evidence,
                    }
                }
                None => succeeded(summary),
            }
        }
        Err(err) => failed(aws_failure(call, &err)),
    }
}

/// A failover's postcondition: `DescribeDBClusters` names `target` as the writer.
async fn cluster_writer(
    clients: &AwsClients,
    region: &str,
    cluster: &str,
    target: &str,
    progress: &mpsc::Sender<StepProgress>,
) -> (bool, String) {
    let read = || async move {
        let answer = clients
            .rds(region)
            .await
            .describe_db_clusters()
            .db_cluster_identifier(cluster)
            .send()
            .await;
        let seen = match answer {
            Ok(out) => match out.db_clusters().first() {
                Some(c) => {
                    let writer = c
                        .db_cluster_members()
                        .iter()
                        .find(|m| m.is_cluster_writer() == Some(true))
                        .and_then(|m| m.db_instance_identifier());
                    let state = c.status().unwrap_or("status not given");
                    let seen = format!(
                        "cluster {cluster} {state}, writer {}",
                        writer.unwrap_or("none named")
                    );
                    if writer == Some(target) {
                        return InstanceReading::Held(seen);
                    }
                    seen
                }
                None => format!("cluster {cluster}: not in the answer"),
            },
            Err(err) => aws_failure("DescribeDBClusters", &err),
        };
        InstanceReading::Not {
            seen,
            creating: None,
        }
    };
    let waiting = format!("{target} to be the writer");
    match read_until(clients, &waiting, progress, read).await {
        Ok(seen) => (true, seen),
        Err((last, _)) => (
            false,
            format!(
                "{target} not the writer within {}: last seen {last}",
                crate::app::fmt::duration(clients.postcondition().1)
            ),
        ),
    }
}

/// Why a call failed, naming it; when the answer was lost or AWS failed (5xx), that AWS
/// may have applied it.
pub fn aws_failure<E>(call: &str, err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
{
    let reason = aws::observe_error(err);
    // No answer, or AWS's own failure: whether it did the work is unknown.
    let lost = match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(e) => e.raw().status().is_server_error(),
        _ => false,
    };
    if lost {
        format!(
            "{call}: {reason}; AWS may or may not have applied it: look at the target before running the step again"
        )
    } else {
        format!("{call}: {reason}")
    }
}

#[cfg(test)]
mod tests;
