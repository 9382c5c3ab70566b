//! The estate: the components the console watches, as `update` needs them.
//!
//! Built once from the config (or by hand in tests and benches); probes carry a
//! [`ComponentIx`] resolved once from the component id, so an observation finds its
//! component by index, never by searching.

use std::collections::HashMap;
use std::time::Duration;

use jiff::SignedDuration;

use crate::config::{Config, HealthKind, LagKind, Schedule, Thresholds, Tier};

/// Position of a component in the [`Estate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentIx(pub u32);

impl ComponentIx {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A probe's schedule, with what `update` derives from it computed once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    schedule: Schedule,
    stale_after: SignedDuration,
    timeout: SignedDuration,
}

/// A signal whose last answer is older than this many intervals is STALE.
pub const STALE_AFTER_INTERVALS: i32 = 3;

impl Timing {
    pub fn new(schedule: Schedule) -> Timing {
        Timing {
            schedule,
            stale_after: signed(schedule.every).saturating_mul(STALE_AFTER_INTERVALS),
            timeout: signed(schedule.timeout),
        }
    }

    pub fn schedule(&self) -> Schedule {
        self.schedule
    }

    pub fn every(&self) -> Duration {
        self.schedule.every
    }

    /// Consecutive agreeing observations needed to change what is shown; never less than one.
    pub fn confirm_after(&self) -> u32 {
        self.schedule.confirm_after.max(1)
    }

    /// No answer for longer than this: STALE.
    pub fn stale_after(&self) -> SignedDuration {
        self.stale_after
    }

    pub fn timeout(&self) -> SignedDuration {
        self.timeout
    }
}

impl Default for Timing {
    fn default() -> Self {
        Timing::new(Schedule::default())
    }
}

/// A std duration as a signed one; durations beyond ~292 billion years saturate.
pub(crate) fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthSpec {
    pub timing: Timing,
    /// From an `http` health probe: an answer this slow or slower is DEGRADED.
    pub warn_latency: Option<Duration>,
    /// The probe asks the component itself (`http`, `tcp`, `postgres`), not a control-plane
    /// API: its timeout or unreachable endpoint is a sign of an outage, though unverified.
    pub own_endpoint: bool,
}

/// The AWS names a component's probes read: a step acting on one of them acts on this
/// component's data (the promote of the replica its lag probe reads, the restore of the
/// instance its backup probe reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbedNames {
    /// The replica instance of a CloudWatch lag probe.
    pub lag: Option<String>,
    /// The instance or cluster of an `rds_snapshots` backup probe.
    pub backup: Option<String>,
    /// The instance of an `rds_instance` health probe.
    pub health: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LagSpec {
    pub timing: Timing,
    pub thresholds: Thresholds,
    /// The metric a negative value came from, named in "replication not running (ReplicaLag -1)".
    pub metric: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BackupSpec {
    pub timing: Timing,
    pub thresholds: Thresholds,
}

/// One component, as `update` sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentSpec {
    pub id: String,
    pub name: String,
    /// What customers call it, by language (none: it is not named in public text).
    pub public_names: Vec<(crate::config::Language, String)>,
    pub tier: Tier,
    pub group: Option<String>,
    /// Where it lives (the suggested DR level reads how far failures spread).
    pub region: Option<String>,
    pub zone: Option<String>,
    pub rto: Option<Duration>,
    pub rpo: Option<Duration>,
    pub health: HealthSpec,
    pub lag: Option<LagSpec>,
    pub backup: Option<BackupSpec>,
    pub probed: ProbedNames,
}

impl ComponentSpec {
    /// A component with a default health schedule and nothing else; chain the setters below.
    pub fn new(id: impl Into<String>, tier: Tier) -> ComponentSpec {
        let id = id.into();
        ComponentSpec {
            name: id.clone(),
            public_names: Vec::new(),
            id,
            tier,
            group: None,
            region: None,
            zone: None,
            rto: None,
            rpo: None,
            health: HealthSpec {
                timing: Timing::default(),
                warn_latency: None,
                own_endpoint: false,
            },
            lag: None,
            backup: None,
            probed: ProbedNames::default(),
        }
    }

    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    pub fn place(mut self, region: &str, zone: Option<&str>) -> Self {
        self.region = Some(region.to_string());
        self.zone = zone.map(str::to_string);
        self
    }

    pub fn rto(mut self, rto: Duration) -> Self {
        self.rto = Some(rto);
        self
    }

    pub fn rpo(mut self, rpo: Duration) -> Self {
        self.rpo = Some(rpo);
        self
    }

    pub fn health(mut self, schedule: Schedule) -> Self {
        self.health.timing = Timing::new(schedule);
        self
    }

    pub fn warn_latency(mut self, warn: Duration) -> Self {
        self.health.warn_latency = Some(warn);
        self
    }

    pub fn lag(mut self, schedule: Schedule, thresholds: Thresholds) -> Self {
        self.lag = Some(LagSpec {
            timing: Timing::new(schedule),
            thresholds,
            metric: "ReplicaLag",
        });
        self
    }

    pub fn backup(mut self, schedule: Schedule, thresholds: Thresholds) -> Self {
        self.backup = Some(BackupSpec {
            timing: Timing::new(schedule),
            thresholds,
        });
        self
    }

    /// The AWS names its probes read (see [`ProbedNames`]).
    pub fn probed(mut self, probed: ProbedNames) -> Self {
        self.probed = probed;
        self
    }

    /// Its health probe asks the component itself (see [`HealthSpec::own_endpoint`]).
    pub fn own_endpoint(mut self) -> Self {
        self.health.own_endpoint = true;
        self
    }

    pub fn from_config(c: &crate::config::Component) -> ComponentSpec {
        let warn_latency = match &c.health.kind {
            HealthKind::Http { warn_latency, .. } => *warn_latency,
            _ => None,
        };
        use crate::config::Language;
        ComponentSpec {
            id: c.id.clone(),
            name: c.name.clone(),
            public_names: [
                (Language::En, c.public_name.clone()),
                (Language::Es, c.public_name_es.clone()),
            ]
            .into_iter()
            .filter_map(|(l, n)| Some((l, n?)))
            .collect(),
            tier: c.tier,
            group: c.group.clone(),
            region: c.region.clone(),
            zone: c.zone.clone(),
            rto: c.rto,
            rpo: c.rpo,
            health: HealthSpec {
                timing: Timing::new(c.health.schedule),
                warn_latency,
                own_endpoint: matches!(
                    c.health.kind,
                    HealthKind::Http { .. } | HealthKind::Tcp { .. } | HealthKind::Postgres { .. }
                ),
            },
            lag: c.lag.as_ref().map(|l| LagSpec {
                timing: Timing::new(l.schedule),
                thresholds: l.thresholds,
                metric: match &l.kind {
                    LagKind::Cloudwatch { metric, .. } => metric.as_str(),
                    // PostgreSQL reports "not streaming" as Down, never as a negative number.
                    LagKind::PostgresReplica { .. } => "replay lag",
                },
            }),
            backup: c.backup.as_ref().map(|b| BackupSpec {
                timing: Timing::new(b.schedule),
                thresholds: b.thresholds,
            }),
            probed: ProbedNames {
                lag: c.lag.as_ref().and_then(|l| match &l.kind {
                    LagKind::Cloudwatch { instance, .. } => Some(instance.clone()),
                    LagKind::PostgresReplica { .. } => None,
                }),
                backup: c.backup.as_ref().and_then(|b| match &b.kind {
                    crate::config::BackupKind::RdsSnapshots { source, .. } => Some(match source {
                        crate::config::SnapshotSource::Instance(i)
                        | crate::config::SnapshotSource::Cluster(i) => i.clone(),
                    }),
                    _ => None,
                }),
                health: match &c.health.kind {
                    HealthKind::RdsInstance { instance, .. } => Some(instance.clone()),
                    _ => None,
                },
            },
        }
    }
}

/// Every component the console watches, in config order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estate {
    components: Vec<ComponentSpec>,
    by_id: HashMap<String, ComponentIx>,
}

impl Estate {
    /// Ids are expected unique (`check` refuses duplicates); if one repeats, [`Estate::ix`]
    /// resolves it to the first.
    pub fn new(components: Vec<ComponentSpec>) -> Estate {
        let mut by_id = HashMap::with_capacity(components.len());
        for (i, c) in components.iter().enumerate() {
            let ix = ComponentIx(u32::try_from(i).unwrap_or(u32::MAX));
            by_id.entry(c.id.clone()).or_insert(ix);
        }
        Estate { components, by_id }
    }

    pub fn from_config(config: &Config) -> Estate {
        Estate::new(
            config
                .components
                .iter()
                .map(ComponentSpec::from_config)
                .collect(),
        )
    }

    pub fn len(&self) -> usize {
        self.components.len()
    }

    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
    }

    /// Resolve a component id once, when wiring a probe.
    pub fn ix(&self, id: &str) -> Option<ComponentIx> {
        self.by_id.get(id).copied()
    }

    pub fn get(&self, ix: ComponentIx) -> Option<&ComponentSpec> {
        self.components.get(ix.index())
    }

    pub fn components(&self) -> &[ComponentSpec] {
        &self.components
    }

    pub fn iter(&self) -> impl Iterator<Item = (ComponentIx, &ComponentSpec)> {
        self.components
            .iter()
            .enumerate()
            .map(|(i, c)| (ComponentIx(i as u32), c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{
        Aws, BackupKind, BackupProbe, Component, Console, Dsn, HealthProbe, JournalConfig,
        LagMetric, LagProbe,
    };
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn config() -> Config {
        let schedule = Schedule {
            every: secs(15),
            timeout: secs(10),
            confirm_after: 2,
        };
        Config {
            path: PathBuf::from("config.toml"),
            console: Console::default(),
            aws: Aws::default(),
            components: vec![
                Component {
                    id: "api".into(),
                    name: "API".into(),
                    public_name: None,
                    public_name_es: None,
                    tier: Tier::Critical,
                    group: Some("us-east-1".into()),
                    region: None,
                    zone: None,
                    rto: Some(secs(1800)),
                    rpo: None,
                    health: HealthProbe {
                        kind: HealthKind::Http {
                            url: "https://api.example/health".into(),
                            expect_status: 200,
                            body_contains: None,
                            headers_env: BTreeMap::new(),
                            warn_latency: Some(secs(1)),
                        },
                        schedule,
                    },
                    lag: None,
                    backup: None,
                },
                Component {
                    id: "db-primary".into(),
                    name: "Base de Datos Principal".into(),
                    public_name: None,
                    public_name_es: None,
                    tier: Tier::Critical,
                    group: None,
                    region: None,
                    zone: None,
                    rto: Some(secs(3600)),
                    rpo: Some(secs(900)),
                    health: HealthProbe {
                        kind: HealthKind::Postgres {
                            dsn: Dsn::Env("PG_DSN".into()),
                        },
                        schedule: Schedule {
                            every: secs(5),
                            timeout: secs(3),
                            confirm_after: 3,
                        },
                    },
                    lag: Some(LagProbe {
                        kind: LagKind::Cloudwatch {
                            instance: "dtem-postgres-dr".into(),
                            region: "us-west-2".into(),
                            metric: LagMetric::AuroraReplicaLag,
                        },
                        schedule,
                        thresholds: Thresholds {
                            warn: secs(30),
                            crit: secs(60),
                        },
                    }),
                    backup: Some(BackupProbe {
                        kind: BackupKind::Files {
                            glob: "/backups/*.dump".into(),
                        },
                        schedule,
                        thresholds: Thresholds {
                            warn: secs(25 * 3600),
                            crit: secs(26 * 3600),
                        },
                    }),
                },
            ],
            runbooks: Vec::new(),
            slack: None,
            statuspage: None,
            journal: JournalConfig::default(),
            comms: crate::config::CommsConfig::default(),
            workdirs: Vec::new(),
        }
    }

    #[test]
    fn from_config_keeps_order_thresholds_and_warn_latency() {
        let estate = Estate::from_config(&config());
        assert_eq!(estate.len(), 2);
        assert_eq!(estate.ix("api"), Some(ComponentIx(0)));
        assert_eq!(estate.ix("db-primary"), Some(ComponentIx(1)));
        assert_eq!(estate.ix("nope"), None);

        let api = estate.get(ComponentIx(0)).expect("api");
        assert_eq!(api.name, "API");
        assert_eq!(api.group.as_deref(), Some("us-east-1"));
        assert_eq!(api.health.warn_latency, Some(secs(1)));
        assert_eq!(api.rto, Some(secs(1800)));
        assert!(api.lag.is_none() && api.backup.is_none());

        let db = estate.get(ComponentIx(1)).expect("db");
        assert_eq!(db.health.warn_latency, None);
        assert_eq!(db.health.timing.confirm_after(), 3);
        assert_eq!(
            db.health.timing.stale_after(),
            SignedDuration::from_secs(15)
        );
        assert_eq!(db.health.timing.timeout(), SignedDuration::from_secs(3));
        assert_eq!(db.rpo, Some(secs(900)));
        let lag = db.lag.as_ref().expect("lag");
        assert_eq!(lag.metric, "AuroraReplicaLag");
        assert_eq!(lag.thresholds.crit, secs(60));
        let backup = db.backup.as_ref().expect("backup");
        assert_eq!(backup.thresholds.warn, secs(25 * 3600));
        assert_eq!(backup.timing.stale_after(), SignedDuration::from_secs(45));
        assert!(estate.get(ComponentIx(2)).is_none());
    }

    #[test]
    fn builder_defaults_and_duplicate_ids_resolve_to_first() {
        let estate = Estate::new(vec![
            ComponentSpec::new("a", Tier::Standard),
            ComponentSpec::new("a", Tier::Critical),
        ]);
        assert_eq!(estate.ix("a"), Some(ComponentIx(0)));
        let a = &estate.components()[0];
        assert_eq!(a.name, "a");
        assert_eq!(a.health.timing.every(), secs(15));
        assert_eq!(a.health.timing.stale_after(), SignedDuration::from_secs(45));
        assert_eq!(a.health.timing.confirm_after(), 2);
    }

    #[test]
    fn confirm_after_zero_means_one() {
        let t = Timing::new(Schedule {
            every: secs(1),
            timeout: secs(1),
            confirm_after: 0,
        });
        assert_eq!(t.confirm_after(), 1);
    }
}
