//! Health `rds_instance`: what RDS says about one DB instance (DescribeDBInstances).
//!
//! The instance's status decides: `available` is UP; a status on the way to or through a
//! change it comes back from (modifying, backing-up, starting, creating…) is DEGRADED; a
//! status in which it does not serve and will not by itself (failed, stopped, storage-full,
//! deleting…) is DOWN. An instance RDS does not know is DOWN. A control plane that does not
//! answer, or refuses us, is UNKNOWN (see [`crate::cloud::aws::classify`]).
//!
//! Decisions:
//! - `creating` is DEGRADED, like `starting`: the instance is on its way to `available`
//!   (a restore in a runbook goes through it), not failed; `stopping` and `deleting` are
//!   on their way out, so DOWN.
//! - A status this table does not know (AWS adds some) is DEGRADED with its name: we do not
//!   call UP what we cannot read, nor DOWN what may be harmless.
//! - An `available` instance whose StatusInfos report something not normal (read
//!   replication `error` or `stopped`) is DEGRADED: it answers, but not all of it works.
//!   Every StatusInfo is appended to the detail.
//! - Latency: the API call measures the control plane, not the database, so `Up` carries
//!   `Duration::ZERO` ("not measured"); only http probes have a latency threshold.

use std::time::Duration;

use aws_sdk_rds::operation::describe_db_instances::DescribeDBInstancesError;
use aws_sdk_rds::types::DbInstance;

use super::{ObserveFuture, Probe};
use crate::app::Outcome;
use crate::cloud::aws::{self, AwsClients};

/// How an RDS instance status reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    Up,
    Degraded,
    Down,
}

/// The class of an RDS `DBInstanceStatus`.
pub fn status_class(status: &str) -> StatusClass {
    match status {
        "available" => StatusClass::Up,
        "failed"
        | "stopped"
        | "stopping"
        | "storage-full"
        | "restore-error"
        | "deleting"
        | "insufficient-capacity"
        | "inaccessible-encryption-credentials"
        | "inaccessible-encryption-credentials-recoverable" => StatusClass::Down,
        s if s.starts_with("incompatible-") => StatusClass::Down,
        // backing-up, modifying, maintenance, upgrading, configuring-*, storage-optimization,
        // storage-initialization, storage-config-upgrade, renaming, rebooting,
        // resetting-master-credentials, starting, creating, converting-to-vpc,
        // moving-to-vpc, delete-precheck, and whatever AWS adds next.
        _ => StatusClass::Degraded,
    }
}

/// DescribeDBInstances for one instance.
pub struct RdsInstanceProbe {
    clients: AwsClients,
    instance: String,
    region: String,
}

impl RdsInstanceProbe {
    pub fn new(clients: AwsClients, instance: String, region: String) -> RdsInstanceProbe {
        RdsInstanceProbe {
            clients,
            instance,
            region,
        }
    }

    async fn ask(&self) -> Outcome {
        let client = self.clients.rds(&self.region).await;
        let answer = client
            .describe_db_instances()
            .db_instance_identifier(&self.instance)
            .send()
            .await;
        match answer {
            Ok(out) => match out
                .db_instances()
                .iter()
                .find(|i| i.db_instance_identifier() == Some(self.instance.as_str()))
                .or_else(|| out.db_instances().first())
            {
                Some(instance) => outcome_of(instance),
                None => not_found(&self.instance),
            },
            Err(err) => match err.as_service_error() {
                Some(DescribeDBInstancesError::DbInstanceNotFoundFault(_)) => {
                    not_found(&self.instance)
                }
                _ => Outcome::cannot_observe(aws::observe_error(&err)),
            },
        }
    }
}

fn not_found(instance: &str) -> Outcome {
    Outcome::Down {
        detail: format!("instance {instance} not found"),
    }
}

/// An instance named across regions by its ARN (`arn:aws:rds:us-west-2:123:db:dtem-dr`)
/// reads as "dtem-dr (us-west-2)"; a plain identifier as itself.
pub fn short_name(id: &str) -> String {
    let parts: Vec<&str> = id.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "rds", region, _, "db", name] => format!("{name} ({region})"),
        _ => id.to_string(),
    }
}

/// How one described instance reads.
pub fn outcome_of(instance: &DbInstance) -> Outcome {
    let status = instance.db_instance_status().unwrap_or("unknown");
    let mut detail = status.to_string();
    if let Some(source) = instance.read_replica_source_db_instance_identifier() {
        detail.push_str(&format!(", replica of {}", short_name(source)));
    } else if !instance.read_replica_db_instance_identifiers().is_empty() {
        let replicas: Vec<String> = instance
            .read_replica_db_instance_identifiers()
            .iter()
            .map(|r| short_name(r))
            .collect();
        detail.push_str(&format!(", primary with replicas {}", replicas.join(", ")));
    }
    let mut abnormal = false;
    for info in instance.status_infos() {
        let what = info.status_type().unwrap_or("status");
        let state = info.status().unwrap_or("unknown");
        detail.push_str(&format!("; {what}: {state}"));
        if let Some(message) = info.message().filter(|m| !m.is_empty()) {
            detail.push_str(&format!(": {message}"));
        }
        if info.normal() == Some(false) {
            abnormal = true;
        }
    }
    match status_class(status) {
        StatusClass::Up if abnormal => Outcome::Degraded { detail },
        StatusClass::Up => Outcome::Up {
            latency: Duration::ZERO,
            detail,
        },
        StatusClass::Degraded => Outcome::Degraded { detail },
        StatusClass::Down => Outcome::Down { detail },
    }
}

impl Probe for RdsInstanceProbe {
    fn observe(&self) -> ObserveFuture<'_> {
        Box::pin(self.ask())
    }

    fn describe(&self) -> String {
        format!("rds_instance {} ({})", self.instance, self.region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rds::types::DbInstanceStatusInfo;

    fn instance(status: &str) -> aws_sdk_rds::types::builders::DbInstanceBuilder {
        DbInstance::builder()
            .db_instance_identifier("db")
            .db_instance_status(status)
    }

    #[test]
    fn statuses() {
        assert_eq!(status_class("available"), StatusClass::Up);
        for s in [
            "backing-up",
            "modifying",
            "maintenance",
            "upgrading",
            "configuring-enhanced-monitoring",
            "configuring-log-exports",
            "storage-optimization",
            "renaming",
            "rebooting",
            "resetting-master-credentials",
            "starting",
            "creating",
            "delete-precheck",
            "something-new",
        ] {
            assert_eq!(status_class(s), StatusClass::Degraded, "{s}");
        }
        for s in [
            "failed",
            "stopped",
            "stopping",
            "storage-full",
            "incompatible-parameters",
            "incompatible-network",
            "incompatible-option-group",
            "incompatible-restore",
            "inaccessible-encryption-credentials",
            "inaccessible-encryption-credentials-recoverable",
            "restore-error",
            "deleting",
            "insufficient-capacity",
        ] {
            assert_eq!(status_class(s), StatusClass::Down, "{s}");
        }
    }

    #[test]
    fn available_replica_and_primary() {
        let replica = instance("available")
            .read_replica_source_db_instance_identifier("primary")
            .build();
        assert_eq!(
            outcome_of(&replica),
            Outcome::Up {
                latency: Duration::ZERO,
                detail: "available, replica of primary".into()
            }
        );
        let primary = instance("available")
            .read_replica_db_instance_identifiers("r1")
            .read_replica_db_instance_identifiers("r2")
            .build();
        assert_eq!(
            outcome_of(&primary),
            Outcome::Up {
                latency: Duration::ZERO,
                detail: "available, primary with replicas r1, r2".into()
            }
        );
        assert_eq!(
            outcome_of(&instance("available").build()),
            Outcome::Up {
                latency: Duration::ZERO,
                detail: "available".into()
            }
        );
    }

    #[test]
    fn a_cross_region_replica_is_named_with_its_region() {
        let replica = instance("available")
            .read_replica_source_db_instance_identifier(
                "arn:aws:rds:us-east-1:123456789012:db:dtem-postgres",
            )
            .build();
        assert!(matches!(
            outcome_of(&replica),
            Outcome::Up { detail, .. } if detail == "available, replica of dtem-postgres (us-east-1)"
        ));
        assert_eq!(short_name("dtem-postgres"), "dtem-postgres");
        assert_eq!(
            short_name("arn:aws:rds:us-east-1:1:cluster:c"),
            "arn:aws:rds:us-east-1:1:cluster:c"
        );
    }

    #[test]
    fn status_infos_are_appended_and_an_abnormal_one_degrades() {
        let broken = instance("available")
            .read_replica_source_db_instance_identifier("primary")
            .status_infos(
                DbInstanceStatusInfo::builder()
                    .status_type("read replication")
                    .normal(false)
                    .status("error")
                    .message("Replication has stopped")
                    .build(),
            )
            .build();
        assert_eq!(
            outcome_of(&broken),
            Outcome::Degraded {
                detail: "available, replica of primary; read replication: error: \
                         Replication has stopped"
                    .into()
            }
        );
        let fine = instance("available")
            .status_infos(
                DbInstanceStatusInfo::builder()
                    .status_type("read replication")
                    .normal(true)
                    .status("replicating")
                    .build(),
            )
            .build();
        assert!(matches!(
            outcome_of(&fine),
            Outcome::Up { detail, .. } if detail == "available; read replication: replicating"
        ));
    }

    #[test]
    fn down_and_degraded_carry_the_status() {
        assert_eq!(
            outcome_of(&instance("stopped").build()),
            Outcome::Down {
                detail: "stopped".into()
            }
        );
        assert_eq!(
            outcome_of(&instance("modifying").build()),
            Outcome::Degraded {
                detail: "modifying".into()
            }
        );
    }

    #[test]
    fn describes_itself() {
        let p = RdsInstanceProbe::new(AwsClients::new(None), "db".into(), "us-east-1".into());
        assert_eq!(p.describe(), "rds_instance db (us-east-1)");
    }
}
