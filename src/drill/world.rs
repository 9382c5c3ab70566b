//! The simulated estate: every component's health, replica lag and backup age, as a function
//! of simulated time, the scenario's timeline and the actions run so far.
//!
//! Deterministic: the same config, scenario, actions and query times give the same answers.
//! Changes are kept in a queue ordered by (time, order of scheduling) and applied as time
//! passes; values that grow (lag, backup age) are computed from the time asked. Time only
//! moves forward: asking about a moment before the latest one asked answers for the latest.
//!
//! A promoted replica stays promoted: after `rds_promote_read_replica`, the scenario's
//! timeline no longer changes the lag of the component that watched that replica; only a
//! step's effect does (one that rebuilds a replica), and that ends the rule.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::time::Duration;

use jiff::Timestamp;

use super::scenario::{BackupSet, Change, HealthSet, LagSet, Scenario, SimHealth, StepEffect};
use crate::app::observe::Slot;
use crate::app::outcome::StepOutcome;
use crate::app::{ComponentIx, Estate, Observation, ObserveError, Outcome, Signal};
use crate::clock::add;
use crate::config::{
    Action, BackupKind, Config, Diagnostics, HealthKind, LagKind, SnapshotSource, Step,
};

/// How long an RDS API call of an action takes (simulated).
pub const RDS_CALL: Duration = Duration::from_secs(2);
/// How long a Kubernetes API call of an action takes (simulated).
pub const K8S_CALL: Duration = Duration::from_secs(1);
/// Replicas of a k8s deployment component until a scenario or a scale says otherwise.
pub const DEFAULT_REPLICAS: u32 = 3;
/// Replica lag until a scenario says otherwise.
pub const DEFAULT_LAG: f64 = 1.0;

/// A Kubernetes deployment, as actions and `k8s_deployment` probes name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Deployment {
    pub context: Option<String>,
    pub namespace: String,
    pub name: String,
}

impl Deployment {
    /// Same namespace and name, and the same context unless one of them is the default.
    pub(in crate::drill) fn is(&self, other: &Deployment) -> bool {
        self.namespace == other.namespace
            && self.name == other.name
            && match (&self.context, &other.context) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// What running an action does, decided at once (the world's changes are already queued).
#[derive(Debug, Clone, PartialEq)]
pub struct Act {
    /// How long the call takes, in simulated time.
    pub call: Duration,
    /// What the call reports before it ends.
    pub status: String,
    /// Output lines, sent when the call ends.
    pub lines: Vec<String>,
    /// How the call ends, unless it waits.
    pub outcome: StepOutcome,
    /// `k8s_wait_available`: wait for this deployment, at most this long, after the call.
    pub wait: Option<(Deployment, Duration)>,
    /// The action's postcondition, read from the simulated world as the real executor reads
    /// it from AWS or Kubernetes after the call (a drill's steps are verified the same way).
    pub check: Option<SimCheck>,
}

/// What a simulated action's postcondition reads.
#[derive(Debug, Clone, PartialEq)]
pub enum SimCheck {
    /// An RDS instance `available` (a promotion's, a restore's target); `ready`: when the
    /// world makes it so if no probe watches it.
    Instance { name: String, ready: Timestamp },
    /// A deployment rolled out and available.
    Deployment(Deployment),
}

impl SimCheck {
    /// How long the real executor reads it (its default deadline).
    pub fn within(&self) -> Duration {
        match self {
            SimCheck::Instance { .. } => crate::app::outcome::INSTANCE_READ.1,
            SimCheck::Deployment(_) => crate::app::outcome::ROLLOUT_WITHIN,
        }
    }
}

#[derive(Debug, Clone)]
pub(in crate::drill) struct HealthNow {
    pub(in crate::drill) state: SimHealth,
    /// `None`: the default of the probe kind for the state.
    detail: Option<String>,
    latency: Duration,
}

#[derive(Debug, Clone)]
pub(in crate::drill) enum LagMode {
    Value,
    NotRunning(Option<String>),
    NoData,
}

#[derive(Debug, Clone)]
pub(in crate::drill) struct LagNow {
    pub(in crate::drill) kind: LagKind,
    mode: LagMode,
    /// The lag at `since`, in seconds.
    base: f64,
    since: Timestamp,
    rate: f64,
}

impl LagNow {
    fn value(&self, at: Timestamp) -> f64 {
        (self.base + self.rate * secs_between(self.since, at)).max(0.0)
    }

    fn rebase(&mut self, at: Timestamp) {
        self.base = self.value(at);
        self.since = at;
    }
}

#[derive(Debug, Clone)]
pub(in crate::drill) struct BackupNow {
    pub(in crate::drill) missing: Option<Option<String>>,
    /// The age at `since`, in seconds.
    base: f64,
    since: Timestamp,
    every: Option<Duration>,
}

impl BackupNow {
    pub(in crate::drill) fn age(&self, at: Timestamp) -> f64 {
        let age = self.base + secs_between(self.since, at);
        match self.every {
            Some(every) if !every.is_zero() => age % every.as_secs_f64(),
            _ => age,
        }
    }

    fn rebase(&mut self, at: Timestamp) {
        self.base = self.age(at);
        self.since = at;
    }
}

#[derive(Debug, Clone)]
pub(in crate::drill) struct SimComponent {
    pub(in crate::drill) health_kind: HealthKind,
    pub(in crate::drill) health: HealthNow,
    pub(in crate::drill) replicas: u32,
    pub(in crate::drill) lag: Option<LagNow>,
    pub(in crate::drill) backup: Option<BackupNow>,
    /// The replica its lag watches was promoted: a primary now, whatever the timeline says.
    promoted: bool,
}

/// Where a queued change comes from.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::drill) enum Origin {
    /// The scenario's timeline; it does not happen if one of these steps ran before it.
    Timeline { unless_steps: Vec<String> },
    /// A step's action: its built-in effect or a scenario effect.
    Step,
    /// The promotion of the replica this component's lag watches.
    Promotion,
}

fn secs_between(from: Timestamp, to: Timestamp) -> f64 {
    if to <= from {
        0.0
    } else {
        to.duration_since(from).as_secs_f64()
    }
}

/// A typical answer time of a probe kind; below a quarter of an http probe's warn latency.
fn default_latency(kind: &HealthKind) -> Duration {
    let ms = match kind {
        HealthKind::Http { .. } => 120,
        HealthKind::Tcp { .. } => 2,
        HealthKind::Command { .. } => 350,
        HealthKind::K8sDeployment { .. } => 40,
        HealthKind::RdsInstance { .. } => 90,
        HealthKind::Postgres { .. } => 8,
    };
    let latency = Duration::from_millis(ms);
    match kind {
        HealthKind::Http {
            warn_latency: Some(warn),
            ..
        } => latency.min(*warn / 4),
        _ => latency,
    }
}

impl SimComponent {
    fn new(c: &crate::config::Component, start: Timestamp) -> SimComponent {
        SimComponent {
            health: HealthNow {
                state: SimHealth::Up,
                detail: None,
                latency: default_latency(&c.health.kind),
            },
            health_kind: c.health.kind.clone(),
            replicas: DEFAULT_REPLICAS,
            lag: c.lag.as_ref().map(|l| LagNow {
                kind: l.kind.clone(),
                mode: LagMode::Value,
                base: DEFAULT_LAG,
                since: start,
                rate: 0.0,
            }),
            backup: c.backup.as_ref().map(|b| BackupNow {
                missing: None,
                // Renewed regularly, never older than half its warn threshold.
                base: (b.thresholds.warn / 4).as_secs_f64(),
                since: start,
                every: Some(b.thresholds.warn / 2),
            }),
            promoted: false,
        }
    }

    fn default_detail(&self, state: &SimHealth) -> String {
        let d = self.replicas;
        match (&self.health_kind, state) {
            (HealthKind::Http { expect_status, .. }, SimHealth::Up) => {
                format!("HTTP {expect_status}")
            }
            (HealthKind::Http { .. }, SimHealth::Degraded) => "partial answer".into(),
            (HealthKind::Http { .. }, _) => "HTTP 503".into(),
            (HealthKind::Tcp { address }, SimHealth::Up) => format!("connected to {address}"),
            (HealthKind::Tcp { address }, _) => format!("connect {address}: connection refused"),
            (HealthKind::Command { .. }, SimHealth::Up) => "exit 0".into(),
            (HealthKind::Command { .. }, _) => "exit 1".into(),
            (HealthKind::K8sDeployment { .. }, SimHealth::Up) => format!("{d}/{d} available"),
            (HealthKind::K8sDeployment { .. }, SimHealth::Degraded) => {
                format!("{}/{d} available", (d / 2).max(1).min(d))
            }
            (HealthKind::K8sDeployment { .. }, _) => format!("0/{d} available"),
            (HealthKind::RdsInstance { .. }, SimHealth::Up) => "available".into(),
            (HealthKind::RdsInstance { .. }, SimHealth::Degraded) => "modifying".into(),
            (HealthKind::RdsInstance { .. }, _) => "failed".into(),
            (HealthKind::Postgres { .. }, SimHealth::Up) => "accepting connections".into(),
            (HealthKind::Postgres { .. }, _) => "connection refused".into(),
        }
    }

    pub(in crate::drill) fn health_outcome(&self) -> Outcome {
        let detail = || {
            self.health
                .detail
                .clone()
                .unwrap_or_else(|| self.default_detail(&self.health.state))
        };
        match &self.health.state {
            SimHealth::Up => Outcome::Up {
                latency: self.health.latency,
                detail: detail(),
            },
            SimHealth::Degraded => Outcome::Degraded { detail: detail() },
            SimHealth::Down => Outcome::Down { detail: detail() },
            SimHealth::Unknown(reason) => Outcome::CannotObserve {
                reason: reason.clone(),
            },
        }
    }

    fn lag_outcome(&self, at: Timestamp) -> Outcome {
        let Some(lag) = &self.lag else {
            return Outcome::CannotObserve {
                reason: ObserveError::Other("no lag probe".into()),
            };
        };
        match (&lag.mode, &lag.kind) {
            (LagMode::Value, _) => Outcome::Seconds(lag.value(at)),
            (LagMode::NoData, _) => Outcome::CannotObserve {
                reason: ObserveError::NoDatapoints,
            },
            // CloudWatch ReplicaLag reports a stopped replication as −1.
            (LagMode::NotRunning(_), LagKind::Cloudwatch { .. }) => Outcome::Seconds(-1.0),
            (LagMode::NotRunning(detail), LagKind::PostgresReplica { .. }) => Outcome::Down {
                detail: detail
                    .clone()
                    .unwrap_or_else(|| format!("not streaming, last replay at {}", lag.since)),
            },
        }
    }

    fn backup_outcome(&self, at: Timestamp) -> Outcome {
        let Some(backup) = &self.backup else {
            return Outcome::CannotObserve {
                reason: ObserveError::Other("no backup probe".into()),
            };
        };
        match &backup.missing {
            Some(detail) => Outcome::Down {
                detail: detail.clone().unwrap_or_else(|| "no backup found".into()),
            },
            None => Outcome::Seconds(backup.age(at)),
        }
    }

    fn apply(&mut self, change: &Change, at: Timestamp, origin: &Origin) {
        // Time alone does not make a promoted replica replicate again.
        let replicates = !(self.promoted && matches!(origin, Origin::Timeline { .. }));
        match origin {
            Origin::Promotion => self.promoted = true,
            Origin::Step if change.touches_lag() => self.promoted = false,
            _ => {}
        }
        if let Some(n) = change.replicas {
            self.replicas = n;
        }
        if let Some(HealthSet { state, detail }) = &change.health {
            self.health.state = state.clone();
            self.health.detail = detail.clone();
        }
        if let Some(latency) = change.latency {
            self.health.latency = latency;
        }
        if let Some(lag) = self.lag.as_mut().filter(|_| replicates) {
            if let Some(set) = &change.lag {
                lag.rebase(at);
                match set {
                    LagSet::Seconds(s) => {
                        lag.mode = LagMode::Value;
                        lag.base = *s;
                    }
                    LagSet::NotRunning(d) => lag.mode = LagMode::NotRunning(d.clone()),
                    LagSet::NoData => lag.mode = LagMode::NoData,
                }
            }
            if let Some(rate) = change.lag_rate {
                lag.rebase(at);
                lag.rate = rate;
            }
        }
        if let Some(backup) = self.backup.as_mut() {
            if let Some(every) = change.backup_every {
                backup.rebase(at);
                backup.every = every;
            }
            match &change.backup_age {
                Some(BackupSet::Age(age)) => {
                    backup.missing = None;
                    backup.base = age.as_secs_f64();
                    backup.since = at;
                }
                Some(BackupSet::Missing(d)) => {
                    backup.rebase(at);
                    backup.missing = Some(d.clone());
                }
                None => {}
            }
        }
    }

    pub(in crate::drill) fn deployment(&self) -> Option<Deployment> {
        match &self.health_kind {
            HealthKind::K8sDeployment {
                namespace,
                deployment,
                context,
            } => Some(Deployment {
                context: context.clone(),
                namespace: namespace.clone(),
                name: deployment.clone(),
            }),
            _ => None,
        }
    }

    pub(in crate::drill) fn is_rds(&self, instance: &str) -> bool {
        matches!(&self.health_kind, HealthKind::RdsInstance { instance: i, .. } if i == instance)
    }
}

/// The simulated estate.
#[derive(Debug, Clone)]
pub struct SimWorld {
    start: Timestamp,
    now: Timestamp,
    estate: Estate,
    pub(in crate::drill) components: Vec<SimComponent>,
    /// Changes to come, by (time, order scheduled).
    pending: BTreeMap<(Timestamp, u64), (ComponentIx, Change, Origin)>,
    /// Steps whose action succeeded, by id: when each first ran.
    ran: HashMap<String, Timestamp>,
    seq: u64,
    /// Rollouts of deployments: done at this time.
    pub(in crate::drill) rollouts: HashMap<Deployment, Timestamp>,
    effects: Vec<StepEffect>,
    delays: BTreeMap<String, Duration>,
    /// Which snapshot source each component's backups are of (for `latest_of`).
    pub(in crate::drill) snapshot_sources: Vec<Option<String>>,
}

impl SimWorld {
    /// The world at `start` (simulated time), with the scenario's timeline queued. Fails if the
    /// scenario does not fit the config (see [`Scenario::check`]).
    pub fn new(
        config: &Config,
        scenario: &Scenario,
        start: Timestamp,
    ) -> Result<SimWorld, Diagnostics> {
        let problems = scenario.check(config);
        if !problems.is_empty() {
            return Err(Diagnostics(problems));
        }
        let estate = Estate::from_config(config);
        let components = config
            .components
            .iter()
            .map(|c| SimComponent::new(c, start))
            .collect();
        let snapshot_sources = config
            .components
            .iter()
            .map(|c| match c.backup.as_ref().map(|b| &b.kind) {
                Some(BackupKind::RdsSnapshots {
                    source: SnapshotSource::Instance(i) | SnapshotSource::Cluster(i),
                    ..
                }) => Some(i.clone()),
                _ => None,
            })
            .collect();
        let mut world = SimWorld {
            start,
            now: start,
            estate,
            components,
            pending: BTreeMap::new(),
            ran: HashMap::new(),
            seq: 0,
            rollouts: HashMap::new(),
            effects: scenario.effects.clone(),
            delays: scenario.delays.clone(),
            snapshot_sources,
        };
        for event in &scenario.events {
            let at = add(start, event.at);
            let origin = Origin::Timeline {
                unless_steps: event.unless_steps.iter().map(|s| s.id.clone()).collect(),
            };
            for named in &event.components {
                if let Some(ix) = world.estate.ix(&named.id) {
                    world.schedule_from(origin.clone(), at, ix, event.change.clone());
                }
            }
        }
        // Changes at the very start are the state the drill starts in.
        world.apply_due(start);
        Ok(world)
    }

    /// Simulated time at the start of the drill.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// The latest time the world was asked about.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn estate(&self) -> &Estate {
        &self.estate
    }

    /// Queues a change made by a step's action.
    pub(in crate::drill) fn schedule(&mut self, at: Timestamp, ix: ComponentIx, change: Change) {
        self.schedule_from(Origin::Step, at, ix, change);
    }

    pub(in crate::drill) fn schedule_from(
        &mut self,
        origin: Origin,
        at: Timestamp,
        ix: ComponentIx,
        change: Change,
    ) {
        self.pending.insert((at, self.seq), (ix, change, origin));
        self.seq += 1;
    }

    /// Whether step `id` ran (and its action succeeded) at or before `at`.
    fn ran_by(&self, id: &str, at: Timestamp) -> bool {
        self.ran.get(id).is_some_and(|t| *t <= at)
    }

    fn apply_due(&mut self, to: Timestamp) {
        while let Some(entry) = self.pending.first_entry() {
            let (at, _) = *entry.key();
            if at > to {
                break;
            }
            let (ix, change, origin) = entry.remove();
            if let Origin::Timeline { unless_steps } = &origin
                && unless_steps.iter().any(|s| self.ran_by(s, at))
            {
                continue;
            }
            if let Some(c) = self.components.get_mut(ix.index()) {
                c.apply(&change, at, &origin);
            }
        }
    }

    /// Moves simulated time to `at` (never back), applying every change due by then.
    pub fn advance(&mut self, at: Timestamp) {
        if at > self.now {
            self.now = at;
        }
        let now = self.now;
        self.apply_due(now);
    }

    /// What the probe of `signal` on `component` answers at `at`.
    pub fn observe(&mut self, component: ComponentIx, signal: &Signal, at: Timestamp) -> Outcome {
        self.advance(at);
        let now = self.now;
        let Some(c) = self.components.get(component.index()) else {
            return Outcome::CannotObserve {
                reason: ObserveError::Other(format!("no component {}", component.0)),
            };
        };
        match signal {
            Signal::Health => c.health_outcome(),
            Signal::Lag { .. } => c.lag_outcome(now),
            Signal::BackupAge => c.backup_outcome(now),
        }
    }

    /// Every probe of `slots` at its nominal times (every `every` from the start, no jitter)
    /// within `span` (offsets from the start, end excluded), in time order: a drill without a
    /// runtime, for tests and benches. Consecutive spans (`0..60s`, `60s..120s`) compose.
    pub fn rounds(&mut self, slots: &[Slot], span: Range<Duration>) -> Vec<Observation> {
        let mut due: Vec<(Duration, usize)> = Vec::new();
        for (i, s) in slots.iter().enumerate() {
            let every = s.schedule.every.max(Duration::from_millis(1));
            // The first round at or after the span's start.
            let first = span.start.as_nanos().div_ceil(every.as_nanos());
            let mut t = every.saturating_mul(u32::try_from(first).unwrap_or(u32::MAX));
            while t < span.end {
                due.push((t, i));
                t += every;
            }
        }
        due.sort();
        due.into_iter()
            .map(|(t, i)| {
                let s = &slots[i];
                let at = add(self.start, t);
                Observation {
                    component: s.component,
                    signal: s.signal.clone(),
                    at,
                    // The simulated probe answers at the instant it asks.
                    started: at,
                    outcome: self.observe(s.component, &s.signal, at),
                }
            })
            .collect()
    }

    /// Whether a deployment is available at `at`, and how it reads ("3/5 available").
    pub fn deployment(&mut self, d: &Deployment, at: Timestamp) -> (bool, String) {
        self.advance(at);
        let now = self.now;
        let watched: Vec<&SimComponent> = self
            .components
            .iter()
            .filter(|c| c.deployment().is_some_and(|cd| cd.is(d)))
            .collect();
        if let Some(c) = watched
            .iter()
            .find(|c| c.health.state != SimHealth::Up)
            .or(watched.first())
        {
            let available = c.health.state == SimHealth::Up;
            let detail = match c.health_outcome() {
                Outcome::Up { detail, .. }
                | Outcome::Degraded { detail }
                | Outcome::Down { detail } => detail,
                Outcome::CannotObserve { reason } => format!("cannot observe: {reason}"),
                Outcome::Seconds(_) => String::new(),
            };
            return (available, format!("{}: {detail}", d.name));
        }
        match self.rollouts.get(d) {
            Some(done) if *done > now => (false, format!("{}: rolling out", d.name)),
            _ => (true, format!("{}: available", d.name)),
        }
    }

    fn delay(&self, kind: &str) -> Duration {
        self.delays
            .get(kind)
            .copied()
            .unwrap_or_else(|| super::scenario::default_delay(kind))
    }

    pub(in crate::drill) fn find(&self, pred: impl Fn(&SimComponent) -> bool) -> Vec<ComponentIx> {
        self.components
            .iter()
            .enumerate()
            .filter(|(_, c)| pred(c))
            .map(|(i, _)| ComponentIx(i as u32))
            .collect()
    }

    /// Runs `step`'s action at `at`: queues what it does to the world and says how the call
    /// goes. Never touches a real system.
    pub fn act(&mut self, step: &Step, inputs: &BTreeMap<String, String>, at: Timestamp) -> Act {
        self.advance(at);
        let at = self.now;
        let kind = step.action.kind();
        let delay = self.delay(kind);
        let call = match &step.action {
            Action::RdsPromoteReadReplica { .. }
            | Action::RdsRestoreSnapshot { .. }
            | Action::RdsRestorePointInTime { .. }
            | Action::RdsFailoverCluster { .. } => RDS_CALL,
            Action::K8sRolloutRestart { .. }
            | Action::K8sScale { .. }
            | Action::K8sWaitAvailable { .. } => K8S_CALL,
            _ => delay,
        };
        let status = super::act::describe_call(&step.action);

        // A scenario may make the action fail: then nothing else happens.
        let offset = Duration::try_from(at.duration_since(self.start)).unwrap_or(Duration::ZERO);
        let effects: Vec<StepEffect> = self
            .effects
            .iter()
            .filter(|e| triggers(e, step, offset))
            .cloned()
            .collect();
        if let Some(reason) = effects.iter().find_map(|e| e.fail.clone()) {
            return Act {
                call,
                status,
                lines: vec![reason.clone()],
                outcome: StepOutcome::Failed { reason },
                wait: None,
                check: None,
            };
        }

        let done = add(at, call);
        let ready = add(done, delay);
        let (lines, outcome, wait) = match self.builtin(step, inputs, at, done, ready) {
            Ok((lines, summary, wait)) => (lines, StepOutcome::Succeeded { summary }, wait),
            Err(reason) => {
                return Act {
                    call,
                    status,
                    lines: vec![reason.clone()],
                    outcome: StepOutcome::Failed { reason },
                    wait: None,
                    check: None,
                };
            }
        };
        let deployment = |namespace: &str, name: &str, context: &Option<String>| Deployment {
            context: context.clone(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        let check = match &step.action {
            Action::RdsPromoteReadReplica { instance, .. } => Some(SimCheck::Instance {
                name: instance.clone(),
                ready,
            }),
            Action::RdsRestoreSnapshot { target, .. }
            | Action::RdsRestorePointInTime { target, .. } => Some(SimCheck::Instance {
                name: target.clone(),
                ready,
            }),
            Action::K8sRolloutRestart {
                namespace,
                deployment: name,
                context,
            } => Some(SimCheck::Deployment(deployment(namespace, name, context))),
            // Scaled to 0 is never "available": its rollout is not what the step is for.
            Action::K8sScale {
                namespace,
                deployment: name,
                context,
                replicas,
            } if *replicas > 0 => Some(SimCheck::Deployment(deployment(namespace, name, context))),
            _ => None,
        };
        self.ran.entry(step.id.clone()).or_insert(at);
        for e in effects {
            let when = add(done, e.after);
            for named in &e.components {
                if let Some(ix) = self.estate.ix(&named.id) {
                    self.schedule(when, ix, e.change.clone());
                }
            }
        }
        Act {
            call,
            status,
            lines,
            outcome,
            wait,
            check,
        }
    }

    /// A postcondition as the world has it now: whether it holds, and what was read.
    pub fn read_check(&mut self, check: &SimCheck, at: Timestamp) -> (bool, String) {
        match check {
            SimCheck::Deployment(d) => self.deployment(d, at),
            SimCheck::Instance { name, ready } => {
                self.advance(at);
                let watched = self.find(|c| c.is_rds(name));
                match watched.first() {
                    Some(ix) => {
                        let c = &self.components[ix.index()];
                        let detail = match c.health_outcome() {
                            Outcome::Up { detail, .. }
                            | Outcome::Degraded { detail }
                            | Outcome::Down { detail } => detail,
                            Outcome::CannotObserve { reason } => {
                                format!("cannot observe: {reason}")
                            }
                            Outcome::Seconds(_) => String::new(),
                        };
                        (c.health.state == SimHealth::Up, format!("{name} {detail}"))
                    }
                    // No probe watches it: the world makes it available when it is ready.
                    None if self.now >= *ready => (true, format!("{name} available")),
                    None => (false, format!("{name} creating")),
                }
            }
        }
    }
}

fn action_region(action: &Action) -> Option<&str> {
    match action {
        Action::RdsPromoteReadReplica { region, .. }
        | Action::RdsRestoreSnapshot { region, .. }
        | Action::RdsRestorePointInTime { region, .. }
        | Action::RdsFailoverCluster { region, .. } => Some(region),
        Action::Command { region, .. } | Action::Http { region, .. } => region.as_deref(),
        _ => None,
    }
}

fn action_context(action: &Action) -> Option<&str> {
    match action {
        Action::K8sRolloutRestart { context, .. }
        | Action::K8sScale { context, .. }
        | Action::K8sWaitAvailable { context, .. } => context.as_deref(),
        _ => None,
    }
}

/// Whether running `step` at `offset` from the start triggers the effect: every selector
/// given must match.
fn triggers(effect: &StepEffect, step: &Step, offset: Duration) -> bool {
    let t = &effect.trigger;
    effect.until.is_none_or(|until| offset < until)
        && (t.steps.is_empty() || t.steps.iter().any(|s| s.id == step.id))
        && (t.targets.is_empty() || {
            let target = step.action.target_name();
            t.targets.iter().any(|s| s.id == target)
        })
        && (t.regions.is_empty()
            || action_region(&step.action).is_some_and(|r| t.regions.iter().any(|x| x == r)))
        && (t.contexts.is_empty()
            || action_context(&step.action).is_some_and(|c| t.contexts.iter().any(|x| x == c)))
}

#[cfg(test)]
mod tests;
