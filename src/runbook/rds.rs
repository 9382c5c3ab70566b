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

/// The name of the restore-time input when the step declares no `rfc3339` input.
pub const DEFAULT_TIME_INPUT: &str = "time";

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

/// `RestoreDBInstanceFromDBSnapshot`, from a named snapshot or the newest available one of
/// an instance.
pub async fn restore_snapshot(
    clients: &AwsClients,
    snapshot: &SnapshotChoice,
    target: &str,
    instance_class: Option<&str>,
    region: &str,
    landing: Landing<'_>,
    progress: &mpsc::Sender<StepProgress>,
) -> StepOutcome {
    let (snapshot_id, from) = match snapshot {
        SnapshotChoice::Named(id) => (id.clone(), format!("snapshot {id}")),
        SnapshotChoice::LatestOf(instance) => {
            match newest_snapshot(clients, instance, region, progress).await {
                Ok((snap, taken)) => {
                    let from = format!("snapshot {snap} (newest of {instance}, taken {taken})");
                    report(
                        progress,
                        StepProgress::Output(format!(
                            "newest available snapshot of {instance}: {snap}, taken {taken}"
                        )),
                    )
                    .await;
                    (snap, from)
                }
                Err(reason) => return failed(reason),
            }
        }
    };
    let source = match snapshot {
        SnapshotChoice::LatestOf(instance) => Some(instance.as_str()),
        SnapshotChoice::Named(_) => None,
    };
    let placement = match land(clients, region, landing, source, progress).await {
        Ok(p) => p,
        Err(reason) => return failed(reason),
    };
    let call = "RestoreDBInstanceFromDBSnapshot";
    let class = instance_class
        .map(|c| format!(" DBInstanceClass={c}"))
        .unwrap_or_default();
    status(
        progress,
        format!(
            "{call} DBInstanceIdentifier={target} DBSnapshotIdentifier={snapshot_id}{class} ({region})"
        ),
    )
    .await;
    let answer = clients
        .rds(region)
        .await
        .restore_db_instance_from_db_snapshot()
        .db_instance_identifier(target)
        .db_snapshot_identifier(&snapshot_id)
        .set_db_instance_class(instance_class.map(str::to_string))
        .set_db_subnet_group_name(placement.subnet_group.clone())
        .set_vpc_security_group_ids(placement.security_groups.clone())
        .set_db_parameter_group_name(placement.parameter_group.clone())
        .set_option_group_name(placement.option_group.clone())
        .set_multi_az(placement.multi_az)
        .set_deletion_protection(placement.deletion_protection)
        .set_publicly_accessible(placement.publicly_accessible)
        .set_port(placement.port.map(i32::from))
        .set_tags(tags(&placement))
        .set_storage_type(placement.storage_type.clone())
        .set_iops(placement.iops.and_then(|i| i32::try_from(i).ok()))
        .customize()
        .config_override(once(clients))
        .send()
        .await;
    match answer {
        Ok(out) => {
            let state = instance_state(out.db_instance(), target);
            report(progress, StepProgress::Output(format!("{call}: {state}"))).await;
            restored(
                clients,
                region,
                target,
                format!("{call} accepted: {state}, from {from}"),
                progress,
            )
            .await
        }
        Err(err) => failed(aws_failure(call, &err)),
    }
}

/// How long the source instance has to answer before a restore's settings are copied from it
/// (in a region outage it cannot be asked at all).
pub const SOURCE_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// How a restore lands: what the step configured, and whether the operator accepted AWS's
/// defaults (`override defaults: <reason>`) should the network stay unknown.
#[derive(Debug, Clone, Copy)]
pub struct Landing<'a> {
    pub configured: &'a Placement,
    pub allow_defaults: Option<&'a str>,
}

fn tags(p: &Placement) -> Option<Vec<aws_sdk_rds::types::Tag>> {
    (!p.tags.is_empty()).then(|| {
        p.tags
            .iter()
            .map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build())
            .collect()
    })
}

/// The settings a restore is sent with: the configured ones; what is missing copied from
/// `source` when it answers in `region` within [`SOURCE_WITHIN`]; `publicly_accessible`
/// false unless said. Without a subnet group and security groups AWS would use the default
/// VPC and security group: refused, unless the operator typed `override defaults`.
async fn land(
    clients: &AwsClients,
    region: &str,
    landing: Landing<'_>,
    source: Option<&str>,
    progress: &mpsc::Sender<StepProgress>,
) -> Result<Placement, String> {
    let mut p = landing.configured.clone();
    let mut asked = None;
    // A source that answered lends what it has; what it lacks it lacks too (it lives where
    // the restore will), so only a source that could not be asked leaves the network unknown.
    let mut answered = false;
    if let Some(source) = source.filter(|_| !p.has_network() || p.parameter_group.is_none()) {
        let call = "DescribeDBInstances";
        status(
            progress,
            format!("{call} DBInstanceIdentifier={source} ({region}): settings to copy"),
        )
        .await;
        let answer = tokio::time::timeout(
            SOURCE_WITHIN,
            clients
                .rds(region)
                .await
                .describe_db_instances()
                .db_instance_identifier(source)
                .send(),
        )
        .await;
        let found = match answer {
            Ok(Ok(out)) => out
                .db_instances()
                .first()
                .cloned()
                .ok_or_else(|| format!("{source} not found in {region}")),
            Ok(Err(err)) => Err(aws_failure(call, &err)),
            Err(_) => Err(format!(
                "{source} did not answer in {region} within {}",
                crate::app::fmt::duration(SOURCE_WITHIN)
            )),
        };
        match found {
            Ok(i) => {
                answered = true;
                let copied = copy_from(&mut p, &i);
                if !copied.is_empty() {
                    report(
                        progress,
                        StepProgress::Output(format!(
                            "copied from {source} ({region}): {}",
                            copied.join(", ")
                        )),
                    )
                    .await;
                }
            }
            Err(why) => asked = Some(why),
        }
    }
    if p.publicly_accessible.is_none() {
        p.publicly_accessible = Some(false);
    }
    if !p.has_network() && !answered {
        let why = asked.unwrap_or_else(|| match source {
            Some(s) => format!("{s} gave none"),
            None => "no source instance to copy them from".to_string(),
        });
        match landing.allow_defaults {
            Some(reason) => {
                report(
                    progress,
                    StepProgress::Output(format!(
                        "no subnet group or security groups ({why}): AWS defaults (default VPC, default security group) — override defaults: {reason}"
                    )),
                )
                .await;
            }
            None => {
                return Err(format!(
                    "no subnet group or security groups: none configured and {why}; AWS would use the default VPC and security group, where the apps cannot reach it: nothing restored (configure subnet_group and security_groups, or type `override defaults: <reason>`)"
                ));
            }
        }
    }
    Ok(p)
}

/// Fills what `p` lacks from the source instance; what was copied, in words.
fn copy_from(p: &mut Placement, i: &DbInstance) -> Vec<String> {
    let mut said = Vec::new();
    if p.subnet_group.is_none()
        && let Some(g) = i.db_subnet_group().and_then(|g| g.db_subnet_group_name())
    {
        p.subnet_group = Some(g.to_string());
        said.push(format!("subnet group {g}"));
    }
    if p.security_groups.is_none() {
        let groups: Vec<String> = i
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
            .collect();
        if !groups.is_empty() {
            said.push(format!("security groups {}", groups.join(" ")));
            p.security_groups = Some(groups);
        }
    }
    if p.parameter_group.is_none()
        && let Some(g) = i
            .db_parameter_groups()
            .first()
            .and_then(|g| g.db_parameter_group_name())
            // The engine's default is what AWS picks anyway.
            .filter(|g| !g.starts_with("default."))
    {
        p.parameter_group = Some(g.to_string());
        said.push(format!("parameter group {g}"));
    }
    if p.option_group.is_none()
        && let Some(g) = i
            .option_group_memberships()
            .first()
            .and_then(|g| g.option_group_name())
            .filter(|g| !g.starts_with("default:"))
    {
        p.option_group = Some(g.to_string());
        said.push(format!("option group {g}"));
    }
    if p.multi_az.is_none()
        && let Some(m) = i.multi_az()
    {
        p.multi_az = Some(m);
        said.push(format!("multi-AZ {m}"));
    }
    if p.deletion_protection.is_none()
        && let Some(d) = i.deletion_protection()
    {
        p.deletion_protection = Some(d);
        said.push(format!("deletion protection {d}"));
    }
    if p.publicly_accessible.is_none()
        && let Some(a) = i.publicly_accessible()
    {
        p.publicly_accessible = Some(a);
        said.push(format!("publicly accessible {a}"));
    }
    if p.port.is_none()
        && let Some(port) = i
            .endpoint()
            .and_then(|e| e.port())
            .or(i.db_instance_port())
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| *n > 0)
    {
        p.port = Some(port);
        said.push(format!("port {port}"));
    }
    if p.storage_type.is_none()
        && let Some(s) = i.storage_type()
    {
        p.storage_type = Some(s.to_string());
        said.push(format!("storage {s}"));
    }
    if p.iops.is_none()
        && let Some(n) = i.iops().and_then(|n| u32::try_from(n).ok())
    {
        p.iops = Some(n);
        said.push(format!("{n} IOPS"));
    }
    if p.tags.is_empty() {
        for t in i.tag_list() {
            if let (Some(k), Some(v)) = (t.key(), t.value()) {
                p.tags.insert(k.to_string(), v.to_string());
            }
        }
        if !p.tags.is_empty() {
            said.push(format!("{} tags", p.tags.len()));
        }
    }
    said
}

/// The newest available snapshot of `instance` in `region`: its id and when its data was
/// taken; or why there is none.
async fn newest_snapshot(
    clients: &AwsClients,
    instance: &str,
    region: &str,
    progress: &mpsc::Sender<StepProgress>,
) -> Result<(String, Timestamp), String> {
    let call = "DescribeDBSnapshots";
    status(
        progress,
        format!("{call} DBInstanceIdentifier={instance} ({region})"),
    )
    .await;
    let mut pages = clients
        .rds(region)
        .await
        .describe_db_snapshots()
        .db_instance_identifier(instance)
        .into_paginator()
        .send();
    let mut snaps = Vec::new();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => snaps.extend(page.db_snapshots().iter().map(|s| {
                Snap {
                    id: s.db_snapshot_identifier().unwrap_or_default().to_string(),
                    status: s.status().unwrap_or_default().to_string(),
                    taken: s
                        .original_snapshot_create_time()
                        .or(s.snapshot_create_time())
                        .and_then(timestamp),
                }
            })),
            Err(err) if err.code() == Some("DBInstanceNotFound") => break,
            Err(err) => return Err(aws_failure(call, &err)),
        }
    }
    match newest_available(&snaps) {
        Some(Snap {
            id,
            taken: Some(taken),
            ..
        }) if !id.is_empty() => Ok((id.clone(), *taken)),
        _ => Err(format!(
            "no available snapshot of {instance} in {region} ({} found, none available): nothing restored",
            snaps.len()
        )),
    }
}

/// `RestoreDBInstanceToPointInTime`, to the time the operator typed.
pub async fn restore_point_in_time(
    clients: &AwsClients,
    source: &str,
    target: &str,
    region: &str,
    time: Timestamp,
    landing: Landing<'_>,
    progress: &mpsc::Sender<StepProgress>,
) -> StepOutcome {
    let placement = match land(clients, region, landing, Some(source), progress).await {
        Ok(p) => p,
        Err(reason) => return failed(reason),
    };
    let call = "RestoreDBInstanceToPointInTime";
    status(
        progress,
        format!(
            "{call} SourceDBInstanceIdentifier={source} TargetDBInstanceIdentifier={target} \
             RestoreTime={time} ({region})"
        ),
    )
    .await;
    let restore_time =
        DateTime::from_secs_and_nanos(time.as_second(), time.subsec_nanosecond() as u32);
    let answer = clients
        .rds(region)
        .await
        .restore_db_instance_to_point_in_time()
        .source_db_instance_identifier(source)
        .target_db_instance_identifier(target)
        .restore_time(restore_time)
        .set_db_subnet_group_name(placement.subnet_group.clone())
        .set_vpc_security_group_ids(placement.security_groups.clone())
        .set_db_parameter_group_name(placement.parameter_group.clone())
        .set_option_group_name(placement.option_group.clone())
        .set_multi_az(placement.multi_az)
        .set_deletion_protection(placement.deletion_protection)
        .set_publicly_accessible(placement.publicly_accessible)
        .set_port(placement.port.map(i32::from))
        .set_tags(tags(&placement))
        .set_storage_type(placement.storage_type.clone())
        .set_iops(placement.iops.and_then(|i| i32::try_from(i).ok()))
        .customize()
        .config_override(once(clients))
        .send()
        .await;
    match answer {
        Ok(out) => {
            let state = instance_state(out.db_instance(), target);
            report(progress, StepProgress::Output(format!("{call}: {state}"))).await;
            restored(
                clients,
                region,
                target,
                format!("{call} accepted: {state}, from {source} as of {time}"),
                progress,
            )
            .await
        }
        Err(err) => failed(aws_failure(call, &err)),
    }
}

/// The restore time of a point-in-time step: the step's `rfc3339` input (by its name, else
/// [`DEFAULT_TIME_INPUT`]) as typed, strict RFC 3339, not after `now`.
pub fn restore_time(
    declared: &[Input],
    inputs: &BTreeMap<String, String>,
    now: Timestamp,
) -> Result<Timestamp, String> {
    let name = declared
        .iter()
        .find(|i| i.kind == InputKind::Rfc3339)
        .map_or(DEFAULT_TIME_INPUT, |i| i.name.as_str());
    let Some(text) = inputs.get(name) else {
        return Err(format!(
            "no restore time was given (input `{name}`): nothing restored"
        ));
    };
    let time = parse_rfc3339(text).map_err(|why| {
        format!(
            "restore time {:?} is not an RFC 3339 time ({why}; e.g. 2024-01-15T14:30:00Z): nothing restored",
            crate::redact::excerpt(text, 60)
        )
    })?;
    if time > now {
        return Err(format!(
            "restore time {time} is in the future (now {}): nothing restored",
            Timestamp::from_second(now.as_second()).unwrap_or(now)
        ));
    }
    Ok(time)
}

/// A time in RFC 3339's `date-time` form and nothing else: `YYYY-MM-DDTHH:MM:SS`, optional
/// fraction, then `Z` or `±HH:MM` (`T` and `Z` in either case). Blanks around are ignored.
/// ISO 8601's other forms (no seconds, `+0200`, `+02`, a space for the `T`, a time zone
/// name) are refused: a restore time must mean one instant, exactly as typed.
pub fn parse_rfc3339(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    let b = text.as_bytes();
    let digits = |from: usize, n: usize| {
        b.get(from..from + n)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let shape = "expected YYYY-MM-DDTHH:MM:SS[.fraction] then Z or ±HH:MM";
    if !(digits(0, 4)
        && at(4, b'-')
        && digits(5, 2)
        && at(7, b'-')
        && digits(8, 2)
        && (at(10, b'T') || at(10, b't'))
        && digits(11, 2)
        && at(13, b':')
        && digits(14, 2)
        && at(16, b':')
        && digits(17, 2))
    {
        return Err(shape.into());
    }
    let mut i = 19;
    if at(i, b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(shape.into());
        }
    }
    let offset_ok = match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            digits(i + 1, 2) && at(i + 3, b':') && digits(i + 4, 2) && i + 6 == b.len()
        }
        None => return Err("no offset: add Z for UTC, or ±HH:MM".into()),
        _ => false,
    };
    if !offset_ok {
        return Err(shape.into());
    }
    text.parse::<Timestamp>().map_err(|e| e.to_string())
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

/// A restore's postcondition: the new instance `available`. Said first as
/// [`StepProgress::Accepted`], so a console that ends while it waits journals the step as
/// still creating; still being created at the deadline ends the same way, never failed.
async fn restored(
    clients: &AwsClients,
    region: &str,
    target: &str,
    summary: String,
    progress: &mpsc::Sender<StepProgress>,
) -> StepOutcome {
    let postcondition = Postcondition::RdsInstanceAvailable {
        region: region.to_string(),
        instance: target.to_string(),
    };
    report(progress, StepProgress::Accepted(postcondition.clone())).await;
    let reading = instance_postcondition(
        clients,
        region,
        target,
        "available",
        Shown::State,
        Makes::Instance,
        &|i| i.db_instance_status() == Some("available"),
        progress,
    )
    .await;
    match reading {
        PostconditionReading::Held(evidence) => StepOutcome::Checked {
            summary,
            held: true,
            evidence,
        },
        PostconditionReading::StillCreating(evidence) => StepOutcome::StillCreating {
            summary,
            evidence,
            postcondition,
        },
        PostconditionReading::NotHeld(evidence) | PostconditionReading::CannotRead(evidence) => {
            StepOutcome::Checked {
                summary,
                held: false,
                evidence,
            }
        }
    }
}

/// Reads a pending postcondition once (any console, any time after the step: Describe needs
/// no process of the step).
pub async fn read_postcondition(
    clients: &AwsClients,
    postcondition: &Postcondition,
) -> PostconditionReading {
    match postcondition {
        Postcondition::RdsInstanceAvailable { region, instance } => {
            let holds = |i: &DbInstance| i.db_instance_status() == Some("available");
            match read_instance(clients, region, instance, Shown::State, &holds).await {
                InstanceReading::Held(seen) => PostconditionReading::Held(seen),
                InstanceReading::Not {
                    seen,
                    creating: Some(status),
                } => PostconditionReading::StillCreating(still_creating(&status, &seen)),
                InstanceReading::Not {
                    seen,
                    creating: None,
                } => PostconditionReading::NotHeld(seen),
                InstanceReading::Unreadable(why) => PostconditionReading::CannotRead(why),
            }
        }
    }
}

/// "still creating (status backing-up): dtem-restored backing-up".
fn still_creating(status: &str, seen: &str) -> String {
    format!("still creating (status {status}): {seen}")
}

/// One reading of a postcondition: it holds (what was read); or not yet (what was read, and
/// the status of a thing AWS is still making, which may yet hold); or no answer to go by.
enum InstanceReading {
    Held(String),
    Not {
        seen: String,
        creating: Option<String>,
    },
    Unreadable(String),
}

/// Statuses after which an instance being made will not become `available` by waiting.
/// Every other status on the way (creating, backing-up, modifying, configuring-…) may.
const DEAD_ENDS: &[&str] = &[
    "failed",
    "incompatible-restore",
    "incompatible-parameters",
    "incompatible-network",
    "incompatible-option-group",
    "inaccessible-encryption-credentials",
    "inaccessible-encryption-credentials-recoverable",
    "insufficient-capacity",
    "restore-error",
    "storage-full",
    "deleting",
    "stopped",
    "stopping",
];

/// Reads with `read` every [`AwsClients::postcondition`] poll until it holds or the deadline
/// passes, saying each reading that does not hold as progress (`waiting for {waiting}: …`).
/// `Err`: what was read last when time ran out, and the status of a thing still being made.
async fn read_until<F, Fut>(
    clients: &AwsClients,
    waiting: &str,
    progress: &mpsc::Sender<StepProgress>,
    read: F,
) -> Result<String, (String, Option<String>)>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = InstanceReading>,
{
    let (poll, within) = clients.postcondition();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (seen, creating) = match read().await {
            InstanceReading::Held(seen) => return Ok(seen),
            InstanceReading::Not { seen, creating } => (seen, creating),
            InstanceReading::Unreadable(why) => (why, None),
        };
        status(progress, format!("waiting for {waiting}: {seen}")).await;
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err((seen, creating));
        }
        tokio::time::sleep(poll.min(deadline - now)).await;
    }
}

/// What of an instance a postcondition's readings say.
#[derive(Clone, Copy)]
enum Shown {
    /// Its status.
    State,
    /// Its status and its replication source (a promotion's postcondition).
    WithReplication,
}

/// Whether the step makes the instance its postcondition reads: then a status on the way
/// (creating, backing-up, …) at the deadline is "still creating", not "not in time".
#[derive(Clone, Copy, PartialEq, Eq)]
enum Makes {
    Instance,
    Nothing,
}

/// One `DescribeDBInstances` of `instance`, weighed by `holds`.
async fn read_instance(
    clients: &AwsClients,
    region: &str,
    instance: &str,
    shown: Shown,
    holds: &(dyn Fn(&DbInstance) -> bool + Sync),
) -> InstanceReading {
    let answer = clients
        .rds(region)
        .await
        .describe_db_instances()
        .db_instance_identifier(instance)
        .send()
        .await;
    match answer {
        Ok(out) => match out.db_instances().first() {
            Some(i) if holds(i) => InstanceReading::Held(instance_seen(i, instance, shown)),
            Some(i) => {
                let state = i.db_instance_status().unwrap_or("status not given");
                InstanceReading::Not {
                    seen: instance_seen(i, instance, shown),
                    creating: (!DEAD_ENDS.contains(&state)).then(|| state.to_string()),
                }
            }
            None => InstanceReading::Not {
                seen: format!("{instance}: not in the answer"),
                creating: None,
            },
        },
        // Gone is an answer: it will not become available by waiting.
        Err(err) if err.as_service_error().and_then(|e| e.code()) == Some("DBInstanceNotFound") => {
            InstanceReading::Not {
                seen: format!("{instance}: DBInstanceNotFound"),
                creating: None,
            }
        }
        Err(err) => InstanceReading::Unreadable(aws_failure("DescribeDBInstances", &err)),
    }
}

/// Reads `instance` with `DescribeDBInstances` until `holds` says so or the deadline passes.
/// Held; still being created when time ran out (`still creating (status X): …`); or not in
/// time, with what was read last.
#[allow(clippy::too_many_arguments)]
async fn instance_postcondition(
    clients: &AwsClients,
    region: &str,
    instance: &str,
    what: &str,
    shown: Shown,
    makes: Makes,
    holds: &(dyn Fn(&DbInstance) -> bool + Sync),
    progress: &mpsc::Sender<StepProgress>,
) -> PostconditionReading {
    let read = || read_instance(clients, region, instance, shown, holds);
    match read_until(clients, &format!("{instance} {what}"), progress, read).await {
        Ok(seen) => PostconditionReading::Held(seen),
        Err((last, Some(status))) if makes == Makes::Instance => {
            PostconditionReading::StillCreating(still_creating(&status, &last))
        }
        Err((last, _)) => PostconditionReading::NotHeld(format!(
            "not {what} within {}: last seen {last}",
            crate::app::fmt::duration(clients.postcondition().1)
        )),
    }
}

/// "dtem-postgres-dr available, replica of dtem-postgres" as read.
fn instance_seen(i: &DbInstance, asked: &str, shown: Shown) -> String {
    let id = i.db_instance_identifier().unwrap_or(asked);
    let state = i.db_instance_status().unwrap_or("status not given");
    // Where the apps will reach it, once it is there.
    let at = i
        .endpoint()
        .and_then(|e| Some(format!(" at {}:{}", e.address()?, e.port()?)))
        .filter(|_| state == "available")
        .unwrap_or_default();
    match (shown, i.read_replica_source_db_instance_identifier()) {
        (Shown::State, _) => format!("{id} {state}{at}"),
        (Shown::WithReplication, Some(source)) => format!("{id} {state}, replica of {source}"),
        (Shown::WithReplication, None) => format!("{id} {state}, no replication source"),
    }
}

/// "dtem-postgres-dr is modifying (db.r6g.large)" from the instance AWS answered with.
fn instance_state(instance: Option<&DbInstance>, asked: &str) -> String {
    let Some(i) = instance else {
        return format!("{asked}: no instance in the answer");
    };
    let id = i.db_instance_identifier().unwrap_or(asked);
    let state = i.db_instance_status().unwrap_or("status not given");
    match i.db_instance_class() {
        Some(class) => format!("{id} is {state} ({class})"),
        None => format!("{id} is {state}"),
    }
}

fn timestamp(t: &DateTime) -> Option<Timestamp> {
    Timestamp::new(t.secs(), t.subsec_nanos() as i32).ok()
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
