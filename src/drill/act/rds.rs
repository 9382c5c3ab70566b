//! RDS actions in the simulated world: the instance goes through `modifying` or `creating`
//! to `available`, as the real executor (`runbook/rds.rs`) reads it from AWS.

use jiff::Timestamp;

use super::{Built, health};
use crate::config::{InputKind, LagKind, SnapshotChoice, Step};
use crate::drill::scenario::{Change, HealthSet, LagSet, SimHealth};
use crate::drill::world::{LagNow, Origin, SimWorld};

impl SimWorld {
    pub(super) fn promote(
        &mut self,
        instance: &str,
        region: &str,
        done: Timestamp,
        ready: Timestamp,
    ) -> Built {
        for ix in self.find(|c| c.is_rds(instance)) {
            self.schedule(
                done,
                ix,
                health(SimHealth::Degraded, "modifying (promoting read replica)"),
            );
            self.schedule(
                ready,
                ix,
                health(SimHealth::Up, "available (promoted to primary)"),
            );
        }
        let replica_of = self.find(|c| {
            matches!(&c.lag, Some(LagNow { kind: LagKind::Cloudwatch { instance: i, .. }, .. }) if i == instance)
        });
        for ix in replica_of {
            // Promotion starts by stopping replication: the replica is a primary now.
            self.schedule_from(
                Origin::Promotion,
                done,
                ix,
                Change {
                    lag: Some(LagSet::NotRunning(Some(format!(
                        "{instance} was promoted: it is a primary now"
                    )))),
                    ..Change::default()
                },
            );
        }
        Ok((
            vec![format!(
                "PromoteReadReplica {instance} ({region}): accepted, status modifying"
            )],
            format!("{instance} is being promoted to a standalone primary"),
            None,
        ))
    }

    pub(super) fn restore_snapshot(
        &mut self,
        snapshot: &SnapshotChoice,
        target: &str,
        region: &str,
        at: Timestamp,
        (done, ready): (Timestamp, Timestamp),
    ) -> Built {
        let from = match snapshot {
            SnapshotChoice::Named(s) => s.clone(),
            SnapshotChoice::LatestOf(instance) => {
                let source = self
                    .snapshot_sources
                    .iter()
                    .position(|s| s.as_deref() == Some(instance));
                let newest = source.and_then(|i| {
                    let b = self.components[i].backup.as_ref()?;
                    Some(match &b.missing {
                        Some(_) => None,
                        None => Some(b.age(at)),
                    })
                });
                match newest {
                    Some(None) => {
                        return Err(format!("no snapshot of {instance} found in {region}"));
                    }
                    Some(Some(age)) => format!(
                        "the newest snapshot of {instance} (taken {} ago)",
                        crate::app::fmt::seconds(age)
                    ),
                    None => format!("the newest snapshot of {instance}"),
                }
            }
        };
        self.restore(target, done, ready);
        Ok((
            vec![format!(
                "RestoreDBInstanceFromDBSnapshot {target} ({region}): accepted, status creating"
            )],
            format!("{target} is being restored from {from}"),
            None,
        ))
    }

    /// `inputs` are the step's typed inputs: the restore time is the first RFC 3339 one.
    pub(super) fn restore_point_in_time(
        &mut self,
        (step, inputs): (&Step, &std::collections::BTreeMap<String, String>),
        (source, target, region): (&str, &str, &str),
        at: Timestamp,
        (done, ready): (Timestamp, Timestamp),
    ) -> Built {
        let input = step
            .inputs
            .iter()
            .find(|i| i.kind == InputKind::Rfc3339)
            .map(|i| i.name.as_str())
            .unwrap_or("time");
        let Some(text) = inputs.get(input) else {
            return Err(format!("no restore time given (input `{input}`)"));
        };
        let time: Timestamp = text
            .parse()
            .map_err(|e| format!("restore time \"{text}\" is not RFC 3339: {e}"))?;
        if time > at {
            return Err(format!("restore time {time} is in the future (now {at})"));
        }
        self.restore(target, done, ready);
        Ok((
            vec![format!(
                "RestoreDBInstanceToPointInTime {source} → {target} at {time} ({region}): accepted, status creating"
            )],
            format!("{target} is being restored from {source} as of {time}"),
            None,
        ))
    }

    pub(super) fn failover(cluster: &str, target_instance: Option<&str>, region: &str) -> Built {
        let to = target_instance
            .map(|t| format!(" to {t}"))
            .unwrap_or_default();
        Ok((
            vec![format!(
                "FailoverDBCluster {cluster}{to} ({region}): accepted"
            )],
            format!("{cluster} is failing over{to}"),
            None,
        ))
    }

    /// A restore's target goes `creating` when the call is done, `available` when ready.
    fn restore(&mut self, target: &str, done: Timestamp, ready: Timestamp) {
        for ix in self.find(|c| c.is_rds(target)) {
            self.schedule(
                done,
                ix,
                Change {
                    health: Some(HealthSet {
                        state: SimHealth::Degraded,
                        detail: Some("creating (restoring)".into()),
                    }),
                    ..Change::default()
                },
            );
            self.schedule(
                ready,
                ix,
                Change {
                    health: Some(HealthSet {
                        state: SimHealth::Up,
                        detail: Some("available (restored)".into()),
                    }),
                    ..Change::default()
                },
            );
        }
    }
}
