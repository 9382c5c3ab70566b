//! The built-in effect of each action kind on the simulated world, one file per kind as in
//! `runbook/`: what the call prints and says, and the changes it queues. The scenario's
//! effects and failures are applied around it, in `world.rs`.

mod command;
mod http;
mod kubernetes;
mod rds;

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;

use super::scenario::{Change, HealthSet, SimHealth};
use super::world::{Deployment, SimWorld};
use crate::config::{Action, Step};

/// Output lines, summary and what to wait for; or why the call fails.
pub(super) type Built = Result<(Vec<String>, String, Option<(Deployment, Duration)>), String>;

fn health(state: SimHealth, detail: &str) -> Change {
    Change {
        health: Some(HealthSet {
            state,
            detail: Some(detail.to_string()),
        }),
        ..Change::default()
    }
}

fn up() -> Change {
    Change {
        health: Some(HealthSet {
            state: SimHealth::Up,
            detail: None,
        }),
        ..Change::default()
    }
}

fn deployment(namespace: &str, name: &str, context: &Option<String>) -> Deployment {
    Deployment {
        context: context.clone(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    }
}

impl SimWorld {
    /// The built-in effect of `step`'s action called at `at`, done at `done`, its result
    /// ready at `ready`.
    pub(super) fn builtin(
        &mut self,
        step: &Step,
        inputs: &BTreeMap<String, String>,
        at: Timestamp,
        done: Timestamp,
        ready: Timestamp,
    ) -> Built {
        match &step.action {
            Action::RdsPromoteReadReplica { instance, region } => {
                self.promote(instance, region, done, ready)
            }
            Action::RdsRestoreSnapshot {
                snapshot,
                target,
                region,
                ..
            } => self.restore_snapshot(snapshot, target, region, at, (done, ready)),
            Action::RdsRestorePointInTime {
                source,
                target,
                region,
                ..
            } => self.restore_point_in_time(
                (step, inputs),
                (source, target, region),
                at,
                (done, ready),
            ),
            Action::RdsFailoverCluster {
                cluster,
                target_instance,
                region,
            } => SimWorld::failover(cluster, target_instance.as_deref(), region),
            Action::K8sRolloutRestart {
                namespace,
                deployment: name,
                context,
            } => self.rollout_restart(deployment(namespace, name, context), done, ready),
            Action::K8sScale {
                namespace,
                deployment: name,
                context,
                replicas,
            } => self.scale(deployment(namespace, name, context), *replicas, done, ready),
            Action::K8sWaitAvailable {
                namespace,
                deployment: name,
                context,
                timeout,
            } => SimWorld::wait_available(deployment(namespace, name, context), *timeout),
            Action::Http { method, url, .. } => self.http(method, url),
            Action::Command { argv, .. } => command::command(argv),
            // The console's own actions never reach an executor (`Action::console_own`); a
            // drill that asked would be told what the real one says.
            Action::Checklist { items } => {
                Ok((Vec::new(), format!("{} items checked", items.len()), None))
            }
            Action::Notify { template, .. } => Ok((
                vec![format!(
                    "(drill: the {template} notice goes to the simulated sink only)"
                )],
                format!("{template} notice posted (drill)"),
                None,
            )),
        }
    }
}

/// What the call is doing, for the step's status line.
pub(super) fn describe_call(action: &Action) -> String {
    match action {
        Action::RdsPromoteReadReplica { instance, .. } => format!("PromoteReadReplica {instance}…"),
        Action::RdsRestoreSnapshot { target, .. } => {
            format!("RestoreDBInstanceFromDBSnapshot {target}…")
        }
        Action::RdsRestorePointInTime { target, .. } => {
            format!("RestoreDBInstanceToPointInTime {target}…")
        }
        Action::RdsFailoverCluster { cluster, .. } => format!("FailoverDBCluster {cluster}…"),
        Action::K8sRolloutRestart { deployment, .. } => format!("rollout restart {deployment}…"),
        Action::K8sScale {
            deployment,
            replicas,
            ..
        } => format!("scale {deployment} to {replicas}…"),
        Action::K8sWaitAvailable { deployment, .. } => format!("waiting for {deployment}…"),
        Action::Command { argv, .. } => format!("running {}…", argv.join(" ")),
        Action::Http { method, url, .. } => format!("{method} {url}…"),
        Action::Checklist { .. } => "checklist…".to_string(),
        Action::Notify { template, .. } => format!("posting the {template} notice…"),
    }
}

/// The host of a URL ("https://api.example/health" → "api.example").
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority.rsplit('@').next().unwrap_or(authority)
}
