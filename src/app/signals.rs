//! The three signals of a component and how a probe's answer reads for each:
//! health (UP / DEGRADED / DOWN / UNKNOWN), replication lag per replica, backup age.

use std::collections::VecDeque;
use std::fmt as stdfmt;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::estate::{LagSpec, Timing};
use super::fmt;
use super::observation::Outcome;
use super::track::{Level, Tracker, Transition, UnknownReason};
use crate::config::Thresholds;

// ---------------------------------------------------------------- health

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    Up,
    Degraded,
    Down,
    Unknown,
}

impl HealthState {
    pub fn label(self) -> &'static str {
        match self {
            HealthState::Up => "UP",
            HealthState::Degraded => "DEGRADED",
            HealthState::Down => "DOWN",
            HealthState::Unknown => "UNKNOWN",
        }
    }
}

/// An answer slower than the configured `warn_latency`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slow {
    pub latency: Duration,
    pub warn: Duration,
}

/// A component's health as read from one answer, or as shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    Up {
        latency: Duration,
        detail: String,
    },
    /// Answered slow (`slow` is set) or partial (the probe said so in `detail`).
    Degraded {
        detail: String,
        slow: Option<Slow>,
    },
    Down {
        detail: String,
    },
    Unknown(UnknownReason),
}

impl Health {
    /// How one answer of a health probe reads.
    pub fn from_outcome(outcome: Outcome, warn_latency: Option<Duration>) -> Health {
        match outcome {
            Outcome::Up { latency, detail } => match warn_latency {
                Some(warn) if latency >= warn => Health::Degraded {
                    detail,
                    slow: Some(Slow { latency, warn }),
                },
                _ => Health::Up { latency, detail },
            },
            Outcome::Degraded { detail } => Health::Degraded { detail, slow: None },
            Outcome::Down { detail } => Health::Down { detail },
            // Not the thing's fault: never DOWN.
            Outcome::CannotObserve { reason } => {
                Health::Unknown(UnknownReason::CannotObserve(reason))
            }
            Outcome::Seconds(_) => {
                Health::Unknown(UnknownReason::Unexpected("probe answered a number"))
            }
        }
    }

    pub fn state(&self) -> HealthState {
        match self {
            Health::Up { .. } => HealthState::Up,
            Health::Degraded { .. } => HealthState::Degraded,
            Health::Down { .. } => HealthState::Down,
            Health::Unknown(_) => HealthState::Unknown,
        }
    }

    /// The latency of the last answer, when it had one.
    pub fn latency(&self) -> Option<Duration> {
        match self {
            Health::Up { latency, .. } => Some(*latency),
            Health::Degraded {
                slow: Some(slow), ..
            } => Some(slow.latency),
            _ => None,
        }
    }

    /// Why the component is in this state, in the operator's words ("slow: 1.2s ≥ 1s").
    pub fn reason(&self, now: Timestamp) -> String {
        match self {
            Health::Up { detail, .. } | Health::Down { detail } => detail.clone(),
            Health::Degraded { slow: Some(s), .. } => format!(
                "slow: {} ≥ {}",
                fmt::duration(s.latency),
                fmt::duration(s.warn)
            ),
            Health::Degraded { detail, .. } => detail.clone(),
            Health::Unknown(r) => r.describe(now),
        }
    }
}

impl Level for Health {
    type Kind = HealthState;
    fn kind(&self) -> HealthState {
        self.state()
    }
    fn unknown(reason: UnknownReason) -> Health {
        Health::Unknown(reason)
    }
    fn unknown_reason(&self) -> Option<&UnknownReason> {
        match self {
            Health::Unknown(r) => Some(r),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------- numbers

/// A lag or a backup age as measured, and when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub seconds: f64,
    pub at: Timestamp,
}

impl Measured {
    pub fn age(&self, now: Timestamp) -> SignedDuration {
        now.duration_since(self.at)
    }
}

fn level_of(seconds: f64, t: &Thresholds) -> Threshold {
    if seconds >= t.crit.as_secs_f64() {
        Threshold::Crit
    } else if seconds >= t.warn.as_secs_f64() {
        Threshold::Warn
    } else {
        Threshold::Ok
    }
}

enum Threshold {
    Ok,
    Warn,
    Crit,
}

const NOT_A_NUMBER: &str = "probe answered a state, not a number";

// ---------------------------------------------------------------- lag

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LagState {
    Ok,
    Warn,
    Crit,
    NotRunning,
    Unknown,
}

impl LagState {
    pub fn label(self) -> &'static str {
        match self {
            LagState::Ok => "OK",
            LagState::Warn => "WARN",
            LagState::Crit => "CRIT",
            LagState::NotRunning => "NOT RUNNING",
            LagState::Unknown => "UNKNOWN",
        }
    }
}

/// Why replication is not running. Kept typed so a steady −1 costs no allocation.
#[derive(Debug, Clone, PartialEq)]
pub enum NotRunning {
    /// A negative metric value: RDS `ReplicaLag` −1.
    Sentinel { metric: &'static str, value: f64 },
    /// What the probe said, e.g. PostgreSQL "not streaming, last replay at T".
    Reported(String),
}

impl stdfmt::Display for NotRunning {
    fn fmt(&self, f: &mut stdfmt::Formatter<'_>) -> stdfmt::Result {
        match self {
            NotRunning::Sentinel { metric, value } => {
                write!(f, "replication not running ({metric} {value})")
            }
            NotRunning::Reported(detail) => f.write_str(detail),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum LagLevel {
    Ok,
    Warn,
    Crit,
    NotRunning(NotRunning),
    Unknown(UnknownReason),
}

impl LagLevel {
    /// How one answer of a lag probe reads, and the lag it measured if any.
    pub fn from_outcome(outcome: Outcome, spec: &LagSpec) -> (LagLevel, Option<f64>) {
        match outcome {
            Outcome::Seconds(x) if x.is_nan() => (
                LagLevel::Unknown(UnknownReason::Unexpected("lag is not a number")),
                None,
            ),
            Outcome::Seconds(x) if x < 0.0 => (
                LagLevel::NotRunning(NotRunning::Sentinel {
                    metric: spec.metric,
                    value: x,
                }),
                None,
            ),
            Outcome::Seconds(x) => {
                let level = match level_of(x, &spec.thresholds) {
                    Threshold::Ok => LagLevel::Ok,
                    Threshold::Warn => LagLevel::Warn,
                    Threshold::Crit => LagLevel::Crit,
                };
                (level, Some(x))
            }
            Outcome::Down { detail } => (LagLevel::NotRunning(NotRunning::Reported(detail)), None),
            // No datapoints is not a lag of 0: it is UNKNOWN.
            Outcome::CannotObserve { reason } => (
                LagLevel::Unknown(UnknownReason::CannotObserve(reason)),
                None,
            ),
            Outcome::Up { .. } | Outcome::Degraded { .. } => (
                LagLevel::Unknown(UnknownReason::Unexpected(NOT_A_NUMBER)),
                None,
            ),
        }
    }

    pub fn state(&self) -> LagState {
        match self {
            LagLevel::Ok => LagState::Ok,
            LagLevel::Warn => LagState::Warn,
            LagLevel::Crit => LagState::Crit,
            LagLevel::NotRunning(_) => LagState::NotRunning,
            LagLevel::Unknown(_) => LagState::Unknown,
        }
    }

    /// True when the level stands on a measured number.
    pub fn is_measured(&self) -> bool {
        matches!(self, LagLevel::Ok | LagLevel::Warn | LagLevel::Crit)
    }

    /// The detail behind a level that has one ("no datapoints", "replication not running …").
    pub fn detail(&self, now: Timestamp) -> Option<String> {
        match self {
            LagLevel::NotRunning(n) => Some(n.to_string()),
            LagLevel::Unknown(r) => Some(r.describe(now)),
            _ => None,
        }
    }
}

impl Level for LagLevel {
    type Kind = LagState;
    fn kind(&self) -> LagState {
        self.state()
    }
    fn unknown(reason: UnknownReason) -> LagLevel {
        LagLevel::Unknown(reason)
    }
    fn unknown_reason(&self) -> Option<&UnknownReason> {
        match self {
            LagLevel::Unknown(r) => Some(r),
            _ => None,
        }
    }
}

/// Lag values kept per replica for the sparkline.
pub const LAG_HISTORY: usize = 120;

/// One replica's lag: the shown level, the latest measured value and a short history.
#[derive(Debug, Clone, PartialEq)]
pub struct Replica {
    name: String,
    track: Tracker<LagLevel>,
    value: Option<Measured>,
    history: VecDeque<f32>,
}

impl Replica {
    fn new(name: String, first_seen: Timestamp) -> Replica {
        Replica {
            name,
            track: Tracker::new(first_seen),
            value: None,
            history: VecDeque::with_capacity(LAG_HISTORY),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn level(&self) -> &LagLevel {
        self.track.shown()
    }

    pub fn track(&self) -> &Tracker<LagLevel> {
        &self.track
    }

    /// What the row says beside the newest number: the shown level, unless the newest
    /// answer read a worse threshold that still awaits its `confirm_after` (then that level,
    /// and `true`: not yet confirmed). A number at or past a threshold is never labelled OK
    /// (nor one past crit WARN); the journal still waits for the confirmation.
    pub fn row_state(&self) -> (LagState, bool) {
        let shown = self.level().state();
        let rank = |s: LagState| match s {
            LagState::Ok => Some(0),
            LagState::Warn => Some(1),
            LagState::Crit => Some(2),
            _ => None,
        };
        match self.track.pending().map(|(l, _)| l.state()) {
            Some(next) if rank(next) > rank(shown) && rank(shown).is_some() => (next, true),
            _ => (shown, false),
        }
    }

    /// The latest measured lag (a replica that stopped replicating keeps its last number
    /// here; the level says whether it still holds).
    pub fn value(&self) -> Option<Measured> {
        self.value
    }

    /// The last [`LAG_HISTORY`] answers, oldest first, in seconds; NaN marks an answer
    /// without a lag (not running, unknown): draw it as a gap, never as 0.
    pub fn history(&self) -> &VecDeque<f32> {
        &self.history
    }

    /// The lag this replica vouches for right now: a measured level, fresh.
    pub fn healthy_lag(&self) -> Option<f64> {
        if self.level().is_measured() {
            self.value.map(|m| m.seconds)
        } else {
            None
        }
    }

    pub(crate) fn observe(
        &mut self,
        outcome: Outcome,
        at: Timestamp,
        spec: &LagSpec,
    ) -> Transition<LagLevel> {
        if self.track.last_answer().is_some_and(|last| at < last) {
            return Transition::Ignored;
        }
        let (level, value) = LagLevel::from_outcome(outcome, spec);
        if self.history.len() == LAG_HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(value.map_or(f32::NAN, |v| v as f32));
        if let Some(seconds) = value {
            self.value = Some(Measured { seconds, at });
        }
        self.track.observe(level, at, spec.timing.confirm_after())
    }

    pub(crate) fn refresh(&mut self, now: Timestamp, timing: &Timing) -> Transition<LagLevel> {
        self.track.refresh(now, timing)
    }
}

/// The lag signal of a component: its replicas, as they answer.
#[derive(Debug, Clone, PartialEq)]
pub struct LagTrack {
    replicas: Vec<Replica>,
}

impl LagTrack {
    pub(crate) fn new() -> LagTrack {
        LagTrack {
            replicas: Vec::new(),
        }
    }

    pub fn replicas(&self) -> &[Replica] {
        &self.replicas
    }

    pub fn answered(&self) -> bool {
        !self.replicas.is_empty()
    }

    /// Before any replica answered: why the lag is UNKNOWN ("no data yet", "no answer within 10s").
    pub fn waiting(
        &self,
        started: Timestamp,
        now: Timestamp,
        timing: &Timing,
    ) -> Option<UnknownReason> {
        if self.answered() {
            None
        } else if now.duration_since(started) >= timing.timeout() {
            Some(UnknownReason::NoAnswerWithin(timing.schedule().timeout))
        } else {
            Some(UnknownReason::NoDataYet)
        }
    }

    /// The replica of that name, found (a handful at most: a scan) or added.
    pub(crate) fn replica_mut(&mut self, name: String, at: Timestamp) -> (usize, &mut Replica) {
        let i = match self.replicas.iter().position(|r| r.name == name) {
            Some(i) => i,
            None => {
                self.replicas.push(Replica::new(name, at));
                self.replicas.len() - 1
            }
        };
        (i, &mut self.replicas[i])
    }

    pub(crate) fn replicas_mut(&mut self) -> &mut [Replica] {
        &mut self.replicas
    }

    /// The smallest lag among replicas that replicate and answer: the data you would keep
    /// by promoting the best replica.
    pub fn best_lag(&self) -> Option<f64> {
        self.replicas
            .iter()
            .filter_map(Replica::healthy_lag)
            .min_by(f64::total_cmp)
    }
}

// ---------------------------------------------------------------- backup

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupState {
    Ok,
    Warn,
    Crit,
    Missing,
    Unknown,
}

impl BackupState {
    pub fn label(self) -> &'static str {
        match self {
            BackupState::Ok => "OK",
            BackupState::Warn => "WARN",
            BackupState::Crit => "CRIT",
            BackupState::Missing => "MISSING",
            BackupState::Unknown => "UNKNOWN",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum BackupLevel {
    Ok,
    Warn,
    Crit,
    /// No backup found: not an age of 0.
    Missing(String),
    Unknown(UnknownReason),
}

impl BackupLevel {
    /// How one answer of a backup probe reads, and the age it measured if any.
    pub fn from_outcome(outcome: Outcome, thresholds: &Thresholds) -> (BackupLevel, Option<f64>) {
        match outcome {
            Outcome::Seconds(x) if x.is_nan() => (
                BackupLevel::Unknown(UnknownReason::Unexpected("backup age is not a number")),
                None,
            ),
            Outcome::Seconds(x) => {
                // A backup newer than the probe's clock is clock skew: it is brand new.
                let x = x.max(0.0);
                let level = match level_of(x, thresholds) {
                    Threshold::Ok => BackupLevel::Ok,
                    Threshold::Warn => BackupLevel::Warn,
                    Threshold::Crit => BackupLevel::Crit,
                };
                (level, Some(x))
            }
            Outcome::Down { detail } => (BackupLevel::Missing(detail), None),
            Outcome::CannotObserve { reason } => (
                BackupLevel::Unknown(UnknownReason::CannotObserve(reason)),
                None,
            ),
            Outcome::Up { .. } | Outcome::Degraded { .. } => (
                BackupLevel::Unknown(UnknownReason::Unexpected(NOT_A_NUMBER)),
                None,
            ),
        }
    }

    pub fn state(&self) -> BackupState {
        match self {
            BackupLevel::Ok => BackupState::Ok,
            BackupLevel::Warn => BackupState::Warn,
            BackupLevel::Crit => BackupState::Crit,
            BackupLevel::Missing(_) => BackupState::Missing,
            BackupLevel::Unknown(_) => BackupState::Unknown,
        }
    }

    pub fn is_measured(&self) -> bool {
        matches!(
            self,
            BackupLevel::Ok | BackupLevel::Warn | BackupLevel::Crit
        )
    }

    pub fn detail(&self, now: Timestamp) -> Option<String> {
        match self {
            BackupLevel::Missing(d) => Some(d.clone()),
            BackupLevel::Unknown(r) => Some(r.describe(now)),
            _ => None,
        }
    }
}

impl Level for BackupLevel {
    type Kind = BackupState;
    fn kind(&self) -> BackupState {
        self.state()
    }
    fn unknown(reason: UnknownReason) -> BackupLevel {
        BackupLevel::Unknown(reason)
    }
    fn unknown_reason(&self) -> Option<&UnknownReason> {
        match self {
            BackupLevel::Unknown(r) => Some(r),
            _ => None,
        }
    }
}

/// The backup signal of a component: the shown level and the newest backup's measured age.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupTrack {
    track: Tracker<BackupLevel>,
    value: Option<Measured>,
}

impl BackupTrack {
    /// What the row says beside the age it shows now: the shown level, unless the age now
    /// (the measured one plus the time since) is past a worse threshold (then that level,
    /// and `true`: the next answer confirms it). An age past a threshold never reads OK.
    pub fn row_state(&self, thresholds: &Thresholds, now: Timestamp) -> (BackupState, bool) {
        let shown = self.level().state();
        let rank = |s: BackupState| match s {
            BackupState::Ok => Some(0),
            BackupState::Warn => Some(1),
            BackupState::Crit => Some(2),
            _ => None,
        };
        let Some(age) = self.age_at(now) else {
            return (shown, false);
        };
        let by_age = match level_of(age.as_secs_f64(), thresholds) {
            Threshold::Ok => BackupState::Ok,
            Threshold::Warn => BackupState::Warn,
            Threshold::Crit => BackupState::Crit,
        };
        if rank(shown).is_some() && rank(by_age) > rank(shown) {
            (by_age, true)
        } else {
            (shown, false)
        }
    }

    pub(crate) fn new(started: Timestamp) -> BackupTrack {
        BackupTrack {
            track: Tracker::new(started),
            value: None,
        }
    }

    pub fn level(&self) -> &BackupLevel {
        self.track.shown()
    }

    pub fn track(&self) -> &Tracker<BackupLevel> {
        &self.track
    }

    /// The newest backup's age as measured, and when.
    pub fn value(&self) -> Option<Measured> {
        self.value
    }

    /// The newest backup's age now: a backup measured 1h old ten minutes ago is 1h10m old.
    /// None unless the shown level stands on a measured age.
    pub fn age_at(&self, now: Timestamp) -> Option<SignedDuration> {
        if !self.level().is_measured() {
            return None;
        }
        let m = self.value?;
        let measured = SignedDuration::try_from_secs_f64(m.seconds).unwrap_or(SignedDuration::MAX);
        let since = m.age(now).max(SignedDuration::ZERO);
        Some(measured.saturating_add(since))
    }

    pub(crate) fn observe(
        &mut self,
        outcome: Outcome,
        at: Timestamp,
        thresholds: &Thresholds,
        timing: &Timing,
    ) -> Transition<BackupLevel> {
        if self.track.last_answer().is_some_and(|last| at < last) {
            return Transition::Ignored;
        }
        let (level, value) = BackupLevel::from_outcome(outcome, thresholds);
        if let Some(seconds) = value {
            self.value = Some(Measured { seconds, at });
        }
        self.track.observe(level, at, timing.confirm_after())
    }

    pub(crate) fn refresh(&mut self, now: Timestamp, timing: &Timing) -> Transition<BackupLevel> {
        self.track.refresh(now, timing)
    }
}

#[cfg(test)]
mod tests;
