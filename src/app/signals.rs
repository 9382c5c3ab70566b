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
mod tests {
    use super::*;
    use crate::app::observation::ObserveError;
    use crate::config::Schedule;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("valid")
    }

    fn lag_spec() -> LagSpec {
        LagSpec {
            timing: Timing::new(Schedule {
                every: Duration::from_secs(15),
                timeout: Duration::from_secs(10),
                confirm_after: 2,
            }),
            thresholds: Thresholds {
                warn: Duration::from_secs(30),
                crit: Duration::from_secs(60),
            },
            metric: "ReplicaLag",
        }
    }

    #[test]
    fn health_reads() {
        let warn = Some(Duration::from_secs(1));
        let slow = Health::from_outcome(
            Outcome::Up {
                latency: Duration::from_millis(1200),
                detail: "200 OK".into(),
            },
            warn,
        );
        assert_eq!(slow.state(), HealthState::Degraded);
        assert_eq!(slow.reason(t(0)), "slow: 1.2s ≥ 1s");
        assert_eq!(slow.latency(), Some(Duration::from_millis(1200)));

        let at_warn = Health::from_outcome(
            Outcome::Up {
                latency: Duration::from_secs(1),
                detail: String::new(),
            },
            warn,
        );
        assert_eq!(at_warn.state(), HealthState::Degraded, "≥ warn, not >");

        let fast = Health::from_outcome(
            Outcome::Up {
                latency: Duration::from_millis(999),
                detail: "200 OK".into(),
            },
            warn,
        );
        assert_eq!(fast.state(), HealthState::Up);
        assert_eq!(fast.latency(), Some(Duration::from_millis(999)));

        let no_warn = Health::from_outcome(
            Outcome::Up {
                latency: Duration::from_secs(30),
                detail: String::new(),
            },
            None,
        );
        assert_eq!(no_warn.state(), HealthState::Up);

        let cannot = Health::from_outcome(
            Outcome::CannotObserve {
                reason: ObserveError::Credentials("SSO token expired".into()),
            },
            None,
        );
        assert_eq!(cannot.state(), HealthState::Unknown);
        assert_eq!(cannot.reason(t(0)), "credentials: SSO token expired");

        let number = Health::from_outcome(Outcome::Seconds(3.0), None);
        assert_eq!(number.reason(t(0)), "probe answered a number");

        let down = Health::from_outcome(
            Outcome::Down {
                detail: "503".into(),
            },
            None,
        );
        assert_eq!(
            (down.state(), down.reason(t(0))),
            (HealthState::Down, "503".into())
        );
        let partial = Health::from_outcome(
            Outcome::Degraded {
                detail: "1/3 available".into(),
            },
            None,
        );
        assert_eq!(
            (partial.state(), partial.reason(t(0)), partial.latency()),
            (HealthState::Degraded, "1/3 available".into(), None)
        );
    }

    #[test]
    fn lag_truths() {
        let spec = lag_spec();
        let read = |o| LagLevel::from_outcome(o, &spec);
        assert_eq!(read(Outcome::Seconds(0.0)), (LagLevel::Ok, Some(0.0)));
        assert_eq!(read(Outcome::Seconds(29.9)), (LagLevel::Ok, Some(29.9)));
        assert_eq!(read(Outcome::Seconds(30.0)), (LagLevel::Warn, Some(30.0)));
        assert_eq!(read(Outcome::Seconds(60.0)), (LagLevel::Crit, Some(60.0)));
        let (minus_one, v) = read(Outcome::Seconds(-1.0));
        assert_eq!(v, None);
        assert_eq!(minus_one.state(), LagState::NotRunning);
        assert_eq!(
            minus_one.detail(t(0)).as_deref(),
            Some("replication not running (ReplicaLag -1)")
        );
        let (nan, v) = read(Outcome::Seconds(f64::NAN));
        assert_eq!((nan.state(), v), (LagState::Unknown, None));
        let (none, v) = read(Outcome::CannotObserve {
            reason: ObserveError::NoDatapoints,
        });
        assert_eq!((none.state(), v), (LagState::Unknown, None));
        assert_eq!(none.detail(t(0)).as_deref(), Some("no datapoints"));
        let (pg, _) = read(Outcome::Down {
            detail: "not streaming, last replay at 2024-05-01T10:00:00Z".into(),
        });
        assert_eq!(pg.state(), LagState::NotRunning);
        assert_eq!(
            pg.detail(t(0)).as_deref(),
            Some("not streaming, last replay at 2024-05-01T10:00:00Z")
        );
        let (up, _) = read(Outcome::Up {
            latency: Duration::ZERO,
            detail: String::new(),
        });
        assert_eq!(up.state(), LagState::Unknown);
    }

    #[test]
    fn replica_history_is_bounded_and_gaps_are_nan() {
        let spec = lag_spec();
        let mut lag = LagTrack::new();
        for i in 0..130 {
            let (_, r) = lag.replica_mut("dr".into(), t(i));
            r.observe(Outcome::Seconds(i as f64 % 10.0), t(i), &spec);
        }
        let (_, r) = lag.replica_mut("dr".into(), t(130));
        r.observe(
            Outcome::CannotObserve {
                reason: ObserveError::NoDatapoints,
            },
            t(130),
            &spec,
        );
        let r = &lag.replicas()[0];
        assert_eq!(lag.replicas().len(), 1);
        assert_eq!(r.history().len(), LAG_HISTORY);
        assert_eq!(
            r.history().front().copied(),
            Some(1.0),
            "oldest kept is #11"
        );
        assert!(r.history().back().is_some_and(|v| v.is_nan()));
        // One unknown answer does not change the shown level (confirm_after 2), and the
        // last measured value stays with its time.
        assert_eq!(r.level(), &LagLevel::Ok);
        assert_eq!(
            r.value(),
            Some(Measured {
                seconds: 9.0,
                at: t(129)
            })
        );
    }

    #[test]
    fn a_lag_past_a_threshold_is_never_labelled_below_it_while_it_is_being_confirmed() {
        let spec = lag_spec();
        let mut lag = LagTrack::new();
        let r = lag.replica_mut("a".into(), t(0)).1;
        r.observe(Outcome::Seconds(10.0), t(0), &spec);
        assert_eq!(r.row_state(), (LagState::Ok, false));
        // 31s against warn 30s: one answer of the two confirm_after needs.
        r.observe(Outcome::Seconds(31.0), t(15), &spec);
        assert_eq!(r.level().state(), LagState::Ok, "the journal waits");
        assert_eq!(r.row_state(), (LagState::Warn, true), "the row does not");
        // Past crit before warn was even confirmed: the row says CRIT?.
        r.observe(Outcome::Seconds(61.0), t(30), &spec);
        assert_eq!(r.row_state(), (LagState::Crit, true));
        r.observe(Outcome::Seconds(62.0), t(45), &spec);
        assert_eq!(r.row_state(), (LagState::Crit, false), "confirmed");
        // Getting better is shown only once confirmed: a value below crit may read CRIT.
        r.observe(Outcome::Seconds(5.0), t(60), &spec);
        assert_eq!(r.row_state(), (LagState::Crit, false));
    }

    #[test]
    fn best_lag_is_the_smallest_healthy_one() {
        let spec = lag_spec();
        let mut lag = LagTrack::new();
        lag.replica_mut("a".into(), t(0))
            .1
            .observe(Outcome::Seconds(40.0), t(0), &spec);
        lag.replica_mut("b".into(), t(0))
            .1
            .observe(Outcome::Seconds(-1.0), t(0), &spec);
        lag.replica_mut("c".into(), t(0))
            .1
            .observe(Outcome::Seconds(12.5), t(0), &spec);
        assert_eq!(lag.best_lag(), Some(12.5));
        assert_eq!(lag.replicas().len(), 3);
    }

    #[test]
    fn lag_waiting_reasons() {
        let spec = lag_spec();
        let lag = LagTrack::new();
        assert_eq!(
            lag.waiting(t(0), t(9), &spec.timing),
            Some(UnknownReason::NoDataYet)
        );
        assert_eq!(
            lag.waiting(t(0), t(10), &spec.timing),
            Some(UnknownReason::NoAnswerWithin(Duration::from_secs(10)))
        );
    }

    #[test]
    fn backup_truths_and_age_extrapolation() {
        let th = Thresholds {
            warn: Duration::from_secs(25 * 3600),
            crit: Duration::from_secs(26 * 3600),
        };
        assert_eq!(
            BackupLevel::from_outcome(Outcome::Seconds(3600.0), &th),
            (BackupLevel::Ok, Some(3600.0))
        );
        assert_eq!(
            BackupLevel::from_outcome(Outcome::Seconds(25.0 * 3600.0), &th).0,
            BackupLevel::Warn
        );
        assert_eq!(
            BackupLevel::from_outcome(Outcome::Seconds(26.0 * 3600.0), &th).0,
            BackupLevel::Crit
        );
        assert_eq!(
            BackupLevel::from_outcome(Outcome::Seconds(-2.0), &th),
            (BackupLevel::Ok, Some(0.0))
        );
        let (missing, v) = BackupLevel::from_outcome(
            Outcome::Down {
                detail: "no snapshots of dtem-postgres".into(),
            },
            &th,
        );
        assert_eq!(v, None, "missing is not age 0");
        assert_eq!(
            missing,
            BackupLevel::Missing("no snapshots of dtem-postgres".into())
        );

        let timing = Timing::default();
        let mut b = BackupTrack::new(t(0));
        assert_eq!(b.age_at(t(0)), None);
        b.observe(Outcome::Seconds(3600.0), t(0), &th, &timing);
        assert_eq!(b.age_at(t(600)), Some(SignedDuration::from_secs(4200)));
    }

    #[test]
    fn a_backup_aging_past_a_threshold_between_answers_is_never_labelled_below_it() {
        let th = Thresholds {
            warn: Duration::from_secs(2 * 3600),
            crit: Duration::from_secs(3 * 3600),
        };
        let mut b = BackupTrack::new(t(0));
        b.observe(Outcome::Seconds(3600.0), t(0), &th, &Timing::default());
        assert_eq!(b.row_state(&th, t(1800)), (BackupState::Ok, false));
        // 2h00m01s old now, no answer since: WARN?, not OK.
        assert_eq!(b.row_state(&th, t(3601)), (BackupState::Warn, true));
        assert_eq!(b.row_state(&th, t(2 * 3600 + 1)), (BackupState::Crit, true));
        assert_eq!(
            b.level().state(),
            BackupState::Ok,
            "the journal waits for an answer"
        );
    }
}
