//! What the console observes: the [`Probe`] trait the adapters implement (the real kinds in
//! `probe/`, the simulated one in `drill/`), and the probe slots a config calls for (one per
//! component's health, lag and backup), in config order.

use std::future::Future;
use std::pin::Pin;

use std::sync::Arc;

use crate::app::{ComponentIx, Estate, Outcome, Signal};
use crate::config::{Config, LagKind, Schedule};

/// What [`Probe::observe`] returns: a boxed future, so that `dyn Probe` works.
pub type ObserveFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// What [`Probe::observe_all`] returns: one answer per signal.
pub type ObserveAllFuture<'a> = Pin<Box<dyn Future<Output = Vec<(Signal, Outcome)>> + Send + 'a>>;

/// One configured probe: asks once, answers one [`Outcome`].
///
/// A probe never fails: whatever went wrong is an outcome (`Down` when the thing itself
/// failed, `CannotObserve` when we could not tell). Timeouts are the scheduler's business (the runtime's): a
/// probe may take as long as it takes.
pub trait Probe: Send + Sync {
    fn observe(&self) -> ObserveFuture<'_>;
    /// The answers of one round, each with its signal. Most probes answer for the one
    /// signal they were scheduled for; a lag probe on a PostgreSQL primary answers for
    /// every standby it sees, by name, and overrides this.
    fn observe_all<'a>(&'a self, signal: &'a Signal) -> ObserveAllFuture<'a> {
        Box::pin(async move { vec![(signal.clone(), self.observe().await)] })
    }
    /// One line saying what is asked, for logs and `warroom status` ("rds_instance
    /// dtem-postgres (us-east-1)").
    fn describe(&self) -> String;
}

/// The replica name a lag probe reports under ([`Signal::Lag`]): a CloudWatch lag is the
/// replica instance's; a PostgreSQL standby is "standby".
pub fn replica_name(kind: &LagKind) -> String {
    match kind {
        LagKind::Cloudwatch { instance, .. } => instance.clone(),
        LagKind::PostgresReplica { .. } => "standby".to_string(),
    }
}

/// One probe with what the scheduler needs to run it.
#[derive(Clone)]
pub struct Scheduled {
    pub component: ComponentIx,
    pub signal: Signal,
    pub schedule: Schedule,
    pub probe: Arc<dyn Probe>,
}

/// Which configured probe: a component's health, lag or backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeRole {
    Health,
    Lag,
    Backup,
}

/// One configured probe, resolved once: the component it observes (by index), the signal it
/// reports, and its schedule. What to build for it is the caller's (real kinds or a drill).
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub component: ComponentIx,
    /// The component's id in the config.
    pub id: String,
    pub role: ProbeRole,
    pub signal: Signal,
    pub schedule: Schedule,
}

/// Every probe of a config, in config order (per component: health, lag, backup), resolved
/// against the estate built from that same config.
pub fn slots(config: &Config, estate: &Estate) -> Vec<Slot> {
    let mut out = Vec::new();
    for c in &config.components {
        let Some(ix) = estate.ix(&c.id) else {
            continue;
        };
        out.push(Slot {
            component: ix,
            id: c.id.clone(),
            role: ProbeRole::Health,
            signal: Signal::Health,
            schedule: c.health.schedule,
        });
        if let Some(lag) = &c.lag {
            out.push(Slot {
                component: ix,
                id: c.id.clone(),
                role: ProbeRole::Lag,
                signal: Signal::Lag {
                    replica: replica_name(&lag.kind),
                },
                schedule: lag.schedule,
            });
        }
        if let Some(backup) = &c.backup {
            out.push(Slot {
                component: ix,
                id: c.id.clone(),
                role: ProbeRole::Backup,
                signal: Signal::BackupAge,
                schedule: backup.schedule,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Dsn;
    use crate::config::load::load_embedded_example;

    #[test]
    fn replica_names() {
        let cw = LagKind::Cloudwatch {
            instance: "dtem-postgres-dr-replica".into(),
            region: "us-west-2".into(),
            metric: crate::config::LagMetric::ReplicaLag,
        };
        assert_eq!(replica_name(&cw), "dtem-postgres-dr-replica");
        let pg = LagKind::PostgresReplica {
            dsn: Dsn::Env("PG".into()),
        };
        assert_eq!(replica_name(&pg), "standby");
    }

    #[test]
    fn slots_of_the_example_estate() {
        let config = load_embedded_example();
        let estate = Estate::from_config(&config);
        let slots = slots(&config, &estate);
        let names: Vec<String> = slots
            .iter()
            .map(|s| format!("{} {:?}", s.id, s.signal))
            .collect();
        assert_eq!(
            names,
            [
                "db-primary Health",
                "db-primary Lag { replica: \"dtem-postgres-dr-replica\" }",
                "db-primary BackupAge",
                "web-apps Health",
                "message-queue Health",
                "cache-redis Health",
                "file-storage Health",
                "file-storage BackupAge",
                "config-secrets Health",
                "db-dr Health",
                "apps-dr Health",
            ]
        );
        assert_eq!(slots[1].role, ProbeRole::Lag);
        assert_eq!(slots[1].schedule.every, std::time::Duration::from_secs(60));
        assert_eq!(slots[0].component, ComponentIx(0));
        assert_eq!(slots[10].component, ComponentIx(7));
    }
}
