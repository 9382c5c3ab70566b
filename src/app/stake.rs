//! The data at stake in a step, where the decision is made: what promoting a replica,
//! restoring a snapshot or restoring to a point in time would lose now, measured by the
//! console's own probes, with the age of what it stands on. A figure that is stale or
//! unknown is said to be UNKNOWN with the last value and its age — never replaced by another
//! figure.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::estate::{ComponentIx, ComponentSpec, Estate, signed};
use super::fmt;
use super::signals::{BackupTrack, LagTrack, Measured, Replica};
use super::update::State;
use crate::config::{Action, SnapshotChoice, Step};

/// One line of the data at stake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakeLine {
    pub text: String,
    /// Said in the warning style: the figure is unknown or stale.
    pub unknown: bool,
    /// The loss is larger than the component's RPO.
    pub over_rpo: bool,
}

impl StakeLine {
    fn known(text: String, over_rpo: bool) -> StakeLine {
        StakeLine {
            text,
            unknown: false,
            over_rpo,
        }
    }

    fn unknown(text: String) -> StakeLine {
        StakeLine {
            text,
            unknown: true,
            over_rpo: false,
        }
    }
}

/// The instance (or cluster) an RDS action acts on, for finding its component. `None` for
/// actions that put no database at stake.
fn acted_on(action: &Action) -> Option<Option<&str>> {
    match action {
        Action::RdsPromoteReadReplica { instance, .. } => Some(Some(instance)),
        Action::RdsFailoverCluster { cluster, .. } => Some(Some(cluster)),
        Action::RdsRestoreSnapshot { snapshot, .. } => Some(match snapshot {
            SnapshotChoice::LatestOf(instance) => Some(instance),
            // A snapshot's own name says nothing of whose it is.
            SnapshotChoice::Named(_) => None,
        }),
        Action::RdsRestorePointInTime { source, .. } => Some(Some(source)),
        _ => None,
    }
}

/// Whether the step changes a database (every RDS action does): `check` warns when such a
/// step has no component at stake.
pub fn is_rds(action: &Action) -> bool {
    acted_on(action).is_some()
}

/// The component whose data the step puts at stake: its `component` key, else the one whose
/// lag probe reads the action's instance, else whose backup probe, else whose health probe.
pub fn component_of(estate: &Estate, step: &Step) -> Option<ComponentIx> {
    if let Some(id) = &step.component {
        return estate.ix(id);
    }
    let name = acted_on(&step.action)??;
    let reads = |pick: fn(&ComponentSpec) -> Option<&String>| {
        estate
            .iter()
            .find(|(_, c)| pick(c).is_some_and(|n| n == name))
            .map(|(ix, _)| ix)
    };
    reads(|c| c.probed.lag.as_ref())
        .or_else(|| reads(|c| c.probed.backup.as_ref()))
        .or_else(|| reads(|c| c.probed.health.as_ref()))
}

/// `check`'s warnings: every RDS step whose data at stake the modal could not show.
pub fn warnings(config: &crate::config::Config) -> Vec<String> {
    let estate = Estate::from_config(config);
    let mut out = Vec::new();
    for rb in &config.runbooks {
        for step in &rb.steps {
            if is_rds(&step.action) && component_of(&estate, step).is_none() {
                let why = match acted_on(&step.action).flatten() {
                    Some(name) => format!("no component's probe reads {name}"),
                    None => "a named snapshot says nothing of whose it is".into(),
                };
                out.push(format!(
                    "{}: warning: runbook {} step {}: no component at stake ({why}): add `component = \"<id>\"` so the step's modal shows what it would lose",
                    rb.file.display(),
                    rb.id,
                    step.id
                ));
            }
        }
    }
    out
}

/// What `check` refuses about where restores land: a restore into another region than its
/// source's (the region of the component at stake) without `subnet_group` and
/// `security_groups` — in a region outage the source cannot be asked for them.
pub fn refusals(config: &crate::config::Config) -> Vec<String> {
    let estate = Estate::from_config(config);
    let mut out = Vec::new();
    for rb in &config.runbooks {
        for step in &rb.steps {
            let (placement, region) = match &step.action {
                Action::RdsRestoreSnapshot {
                    placement, region, ..
                }
                | Action::RdsRestorePointInTime {
                    placement, region, ..
                } => (placement, region),
                _ => continue,
            };
            let source_region = component_of(&estate, step)
                .and_then(|ix| estate.get(ix))
                .and_then(|c| c.region.as_deref());
            if let Some(from) = source_region
                && from != region
                && !placement.has_network()
            {
                out.push(format!(
                    "{}: runbook {} step {}: a restore into {region} from {from} needs `subnet_group` and `security_groups` (the source cannot be asked in a region outage; AWS would use the default VPC and security group)",
                    rb.file.display(),
                    rb.id,
                    step.id
                ));
            }
        }
    }
    out
}

/// A value may stand for now if it is younger than two intervals of its probe (the rule the
/// prechecks use).
fn fresh(m: &Measured, every: Duration, now: Timestamp) -> bool {
    m.age(now) <= signed(every).saturating_mul(2)
}

fn rpo_words(spec: &ComponentSpec) -> String {
    spec.rpo
        .map(|r| format!(" (RPO {})", fmt::duration(r)))
        .unwrap_or_default()
}

fn over(spec: &ComponentSpec, loss: SignedDuration) -> bool {
    spec.rpo.is_some_and(|r| loss > signed(r))
}

/// What the step would lose now, and the last backup's age: the lines above the phrase.
/// Empty for a step that puts no data at stake.
pub fn of(state: &State, step: &Step, inputs: &BTreeMap<String, String>) -> Vec<StakeLine> {
    let rds = acted_on(&step.action);
    if rds.is_none() && step.component.is_none() {
        return Vec::new();
    }
    let estate = state.estate();
    let found = component_of(estate, step).and_then(|ix| {
        Some((
            ix,
            estate.get(ix)?,
            state.component(ix).map(|c| (c.lag(), c.backup())),
        ))
    });
    let Some((_, spec, Some((lag, backup)))) = found else {
        let what = match rds.flatten() {
            Some(name) => format!("no component's probe reads {name}"),
            None => "the step names no component".to_string(),
        };
        return vec![StakeLine::unknown(format!(
            "data at stake: UNKNOWN ({what}; give the step `component = \"<id>\"`)"
        ))];
    };
    let now = state.now();
    let mut lines = Vec::new();
    let mut backup_said = false;
    match &step.action {
        Action::RdsPromoteReadReplica { instance, .. } => {
            lines.push(lag_loss(state, step, spec, lag, Some(instance)));
        }
        Action::RdsFailoverCluster {
            target_instance, ..
        } => lines.push(lag_loss(state, step, spec, lag, target_instance.as_deref())),
        Action::RdsRestoreSnapshot { snapshot, .. } => {
            backup_said = true;
            lines.push(match snapshot {
                SnapshotChoice::LatestOf(_) => snapshot_loss(state, spec, backup),
                SnapshotChoice::Named(name) => StakeLine::unknown(format!(
                    "data at stake: UNKNOWN (when snapshot {name} was taken is not read here)"
                )),
            });
        }
        Action::RdsRestorePointInTime { .. } => {
            lines.push(point_in_time_loss(spec, inputs.get("time"), now));
        }
        // Any other step that names its component: the component's lag as it stands.
        _ => lines.push(lag_loss(state, step, spec, lag, None)),
    }
    if !backup_said && spec.backup.is_some() {
        lines.push(last_backup(state, spec, backup));
    }
    lines
}

/// The replica a promote or failover acts on: the one its lag probe reports under the
/// instance's name; else, when the step names its component and that has one replica, that
/// one; else the worst (a cluster failover without a target may pick any).
fn replica_at_stake<'a>(
    step: &Step,
    lag: &'a LagTrack,
    instance: Option<&str>,
) -> Result<&'a Replica, String> {
    let replicas = lag.replicas();
    if replicas.is_empty() {
        return Err("no lag read yet".into());
    }
    if let Some(name) = instance {
        if let Some(r) = replicas.iter().find(|r| r.name() == name) {
            return Ok(r);
        }
        if step.component.is_some()
            && let [only] = replicas
        {
            return Ok(only);
        }
        if !matches!(step.action, Action::RdsFailoverCluster { .. }) {
            return Err(format!("no lag probe reads {name}"));
        }
    }
    replicas
        .iter()
        .max_by(|a, b| {
            let v = |r: &Replica| r.value().map_or(f64::INFINITY, |m| m.seconds);
            v(a).total_cmp(&v(b))
        })
        .ok_or_else(|| "no lag read yet".to_string())
}

fn lag_loss(
    state: &State,
    step: &Step,
    spec: &ComponentSpec,
    lag: Option<&LagTrack>,
    instance: Option<&str>,
) -> StakeLine {
    let now = state.now();
    let (Some(lag), Some(lag_spec)) = (lag, spec.lag.as_ref()) else {
        return StakeLine::unknown(format!(
            "data at stake: UNKNOWN ({} has no lag probe)",
            spec.id
        ));
    };
    let replica = match replica_at_stake(step, lag, instance) {
        Ok(r) => r,
        Err(why) => return StakeLine::unknown(format!("data at stake: UNKNOWN ({why})")),
    };
    match replica.value() {
        Some(m) if replica.level().is_measured() && fresh(&m, lag_spec.timing.every(), now) => {
            let loss = SignedDuration::try_from_secs_f64(m.seconds).unwrap_or(SignedDuration::MAX);
            StakeLine::known(
                format!(
                    "data at stake: up to {} of writes{} — lag read {} ago",
                    fmt::seconds(m.seconds),
                    rpo_words(spec),
                    fmt::signed(m.age(now))
                ),
                over(spec, loss),
            )
        }
        Some(m) => {
            let why = replica
                .level()
                .detail(now)
                .map(|d| format!("; {d}"))
                .unwrap_or_default();
            StakeLine::unknown(format!(
                "data at stake: UNKNOWN (last lag {}, read {} ago{why})",
                fmt::seconds(m.seconds),
                fmt::signed(m.age(now))
            ))
        }
        None => StakeLine::unknown(format!(
            "data at stake: UNKNOWN ({})",
            replica
                .level()
                .detail(now)
                .unwrap_or_else(|| "no lag read yet".into())
        )),
    }
}

/// The newest backup's age now, if the value it stands on is fresh.
fn backup_now(
    state: &State,
    spec: &ComponentSpec,
    backup: Option<&BackupTrack>,
) -> Result<(SignedDuration, Measured), String> {
    let now = state.now();
    let (Some(backup), Some(backup_spec)) = (backup, spec.backup.as_ref()) else {
        return Err(format!("{} has no backup probe", spec.id));
    };
    let Some(m) = backup.value() else {
        return Err(backup
            .level()
            .detail(now)
            .unwrap_or_else(|| "no backup read yet".into()));
    };
    match backup.age_at(now) {
        Some(age) if fresh(&m, backup_spec.timing.every(), now) => Ok((age, m)),
        _ => Err(format!(
            "last backup {} old, read {} ago",
            fmt::seconds(m.seconds),
            fmt::signed(m.age(now))
        )),
    }
}

fn snapshot_loss(state: &State, spec: &ComponentSpec, backup: Option<&BackupTrack>) -> StakeLine {
    match backup_now(state, spec, backup) {
        Ok((age, m)) => StakeLine::known(
            format!(
                "data at stake: up to {} of writes{} — the newest snapshot, read {} ago",
                fmt::signed(age),
                rpo_words(spec),
                fmt::signed(m.age(state.now()))
            ),
            over(spec, age),
        ),
        Err(why) => StakeLine::unknown(format!("data at stake: UNKNOWN ({why})")),
    }
}

fn last_backup(state: &State, spec: &ComponentSpec, backup: Option<&BackupTrack>) -> StakeLine {
    match backup_now(state, spec, backup) {
        Ok((age, m)) => StakeLine::known(
            format!(
                "last backup: {} old (read {} ago)",
                fmt::signed(age),
                fmt::signed(m.age(state.now()))
            ),
            false,
        ),
        Err(why) => StakeLine::unknown(format!("last backup: UNKNOWN ({why})")),
    }
}

fn point_in_time_loss(spec: &ComponentSpec, typed: Option<&String>, now: Timestamp) -> StakeLine {
    let Some(at) = typed.and_then(|t| t.trim().parse::<Timestamp>().ok()) else {
        return StakeLine::unknown(format!(
            "data at stake: every write after the time you type{}",
            rpo_words(spec)
        ));
    };
    let loss = now.duration_since(at);
    if loss.is_negative() {
        return StakeLine::unknown(format!(
            "data at stake: UNKNOWN ({at} is {} in the future)",
            fmt::signed(-loss)
        ));
    }
    StakeLine::known(
        format!(
            "data at stake: {} of writes after {at}{}",
            fmt::signed(loss),
            rpo_words(spec)
        ),
        over(spec, loss),
    )
}

#[cfg(test)]
mod tests;
