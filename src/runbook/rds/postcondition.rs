//! Reading an instance back after the call until it is what the step promised, or a dead end.

use super::*;

/// A restore's postcondition: the new instance `available`. Said first as
/// [`StepProgress::Accepted`], so a console that ends while it waits journals the step as
/// still creating; still being created at the deadline ends the same way, never failed.
pub(super) async fn restored(
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
pub(super) fn still_creating(status: &str, seen: &str) -> String {
    format!("still creating (status {status}): {seen}")
}

/// One reading of a postcondition: it holds (what was read); or not yet (what was read, and
/// the status of a thing AWS is still making, which may yet hold); or no answer to go by.
pub(super) enum InstanceReading {
    Held(String),
    Not {
        seen: String,
        creating: Option<String>,
    },
    Unreadable(String),
}

/// Statuses after which an instance being made will not become `available` by waiting.
/// Every other status on the way (creating, backing-up, modifying, configuring-…) may.
pub(super) const DEAD_ENDS: &[&str] = &[
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
pub(super) async fn read_until<F, Fut>(
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
pub(super) enum Shown {
    /// Its status.
    State,
    /// Its status and its replication source (a promotion's postcondition).
    WithReplication,
}

/// Whether the step makes the instance its postcondition reads: then a status on the way
/// (creating, backing-up, …) at the deadline is "still creating", not "not in time".
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Makes {
    Instance,
    Nothing,
}

/// One `DescribeDBInstances` of `instance`, weighed by `holds`.
pub(super) async fn read_instance(
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
pub(super) async fn instance_postcondition(
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
pub(super) fn instance_seen(i: &DbInstance, asked: &str, shown: Shown) -> String {
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
pub(super) fn instance_state(instance: Option<&DbInstance>, asked: &str) -> String {
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

pub(super) fn timestamp(t: &DateTime) -> Option<Timestamp> {
    Timestamp::new(t.secs(), t.subsec_nanos() as i32).ok()
}
