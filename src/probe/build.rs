//! From a config to the probes that watch the real estate: one probe per configured
//! `health`, `lag` and `backup`, sharing one AWS client per region and one Kubernetes client
//! per context.

use std::sync::Arc;

use super::{ProbeRole, Scheduled, slots};
use super::{
    cloudwatch::CloudwatchLagProbe,
    command::{CommandBackupProbe, CommandProbe},
    files::FilesBackupProbe,
    http::HttpProbe,
    kubernetes::DeploymentProbe,
    postgres::{PostgresProbe, ReplicaLagProbe},
    rds::RdsInstanceProbe,
    snapshots::RdsSnapshotsProbe,
    tcp::TcpProbe,
};
use crate::app::Estate;
use crate::cloud::Clients;
use crate::config::{BackupKind, Config, HealthKind, LagKind};

/// Every probe of `config`, ready for the scheduler (or one round of `warroom status`).
pub fn build(config: &Config, estate: &Estate, clients: &Clients) -> Vec<Scheduled> {
    let mut out = Vec::new();
    for slot in slots(config, estate) {
        let Some(component) = config.component(&slot.id) else {
            continue;
        };
        let timeout = slot.schedule.timeout;
        let probe: Arc<dyn super::Probe> = match slot.role {
            ProbeRole::Health => match &component.health.kind {
                HealthKind::Http {
                    url,
                    expect_status,
                    body_contains,
                    headers_env,
                    ..
                } => Arc::new(HttpProbe::new(
                    url,
                    *expect_status,
                    body_contains.clone(),
                    headers_env,
                    timeout,
                )),
                HealthKind::Tcp { address } => Arc::new(TcpProbe::new(address.clone())),
                HealthKind::Command { argv, unknown_exit } => Arc::new(
                    CommandProbe::new(argv.clone(), timeout).unknown_exit(unknown_exit.clone()),
                ),
                HealthKind::K8sDeployment {
                    namespace,
                    deployment,
                    context,
                } => Arc::new(DeploymentProbe::new(
                    clients.kube.clone(),
                    namespace.clone(),
                    deployment.clone(),
                    context.clone(),
                )),
                HealthKind::RdsInstance { instance, region } => Arc::new(RdsInstanceProbe::new(
                    clients.aws.clone(),
                    instance.clone(),
                    region.clone(),
                )),
                HealthKind::Postgres { dsn } => Arc::new(PostgresProbe::new(dsn)),
            },
            ProbeRole::Lag => match component.lag.as_ref().map(|l| &l.kind) {
                Some(LagKind::Cloudwatch {
                    instance,
                    region,
                    metric,
                }) => Arc::new(CloudwatchLagProbe::new(
                    clients.aws.clone(),
                    instance.clone(),
                    region.clone(),
                    *metric,
                )),
                Some(LagKind::PostgresReplica { dsn }) => Arc::new(ReplicaLagProbe::new(dsn)),
                None => continue,
            },
            ProbeRole::Backup => match component.backup.as_ref().map(|b| &b.kind) {
                Some(BackupKind::RdsSnapshots { source, region }) => Arc::new(
                    RdsSnapshotsProbe::new(clients.aws.clone(), source.clone(), region.clone()),
                ),
                Some(BackupKind::Files { glob }) => Arc::new(FilesBackupProbe::new(glob.clone())),
                Some(BackupKind::Command { argv }) => {
                    Arc::new(CommandBackupProbe::new(argv.clone(), timeout))
                }
                None => continue,
            },
        };
        out.push(Scheduled {
            component: slot.component,
            signal: slot.signal,
            schedule: slot.schedule,
            probe,
        });
    }
    out
}
