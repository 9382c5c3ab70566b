//! RPO exposure (how much data a failover would lose now) and RTO budget (how long is left
//! to bring a DOWN component back).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::estate::signed;
use super::fmt;
use super::signals::{BackupLevel, BackupTrack, LagTrack};

// ---------------------------------------------------------------- RPO

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RpoLevel {
    Ok,
    /// Exposure above half the RPO.
    AtRisk,
    /// Exposure above the RPO.
    Breached,
    Unknown,
}

impl RpoLevel {
    pub fn label(self) -> &'static str {
        match self {
            RpoLevel::Ok => "OK",
            RpoLevel::AtRisk => "AT RISK",
            RpoLevel::Breached => "BREACHED",
            RpoLevel::Unknown => "UNKNOWN",
        }
    }
}

/// The data a failover would lose now, and where that figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Exposure {
    /// Replication is healthy: promoting the best replica loses this much.
    Replication {
        lag: SignedDuration,
    },
    /// Replication is not: restoring the newest backup loses everything since it was taken.
    Backup {
        age: SignedDuration,
    },
    /// Replication is not healthy and no backup was found: the loss is unbounded.
    NoBackup,
    Unknown,
}

impl Exposure {
    /// Replication lag while replication is healthy (a replica with a measured, fresh lag;
    /// the smallest one), else the age of the newest backup now, else unknown.
    pub fn of(lag: Option<&LagTrack>, backup: Option<&BackupTrack>, now: Timestamp) -> Exposure {
        if let Some(best) = lag.and_then(LagTrack::best_lag) {
            return Exposure::Replication {
                lag: SignedDuration::try_from_secs_f64(best).unwrap_or(SignedDuration::MAX),
            };
        }
        let Some(backup) = backup else {
            return Exposure::Unknown;
        };
        if let BackupLevel::Missing(_) = backup.level() {
            return Exposure::NoBackup;
        }
        match backup.age_at(now) {
            Some(age) => Exposure::Backup { age },
            None => Exposure::Unknown,
        }
    }

    /// How much would be lost; `None` when unknown, `SignedDuration::MAX` when unbounded.
    pub fn amount(&self) -> Option<SignedDuration> {
        match self {
            Exposure::Replication { lag } => Some(*lag),
            Exposure::Backup { age } => Some(*age),
            Exposure::NoBackup => Some(SignedDuration::MAX),
            Exposure::Unknown => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Exposure::Replication { lag } => format!("replication lag {}", fmt::signed(*lag)),
            Exposure::Backup { age } => format!("backup age {}", fmt::signed(*age)),
            Exposure::NoBackup => "no backup found".into(),
            Exposure::Unknown => "unknown".into(),
        }
    }

    /// At risk above half the RPO, breached above it (with an RPO of 0 any loss breaches).
    pub fn level(&self, rpo: Duration) -> RpoLevel {
        let Some(amount) = self.amount() else {
            return RpoLevel::Unknown;
        };
        let rpo = signed(rpo);
        let half = rpo.checked_div(2).unwrap_or(rpo);
        if amount > rpo {
            RpoLevel::Breached
        } else if amount > half {
            RpoLevel::AtRisk
        } else {
            RpoLevel::Ok
        }
    }
}

/// A component's RPO and its current exposure.
#[derive(Debug, Clone, PartialEq)]
pub struct Rpo {
    pub rpo: Duration,
    pub exposure: Exposure,
    pub level: RpoLevel,
    /// Whether the level has ever been known: the first known level is not news.
    pub(crate) ever_known: bool,
}

impl Rpo {
    pub(crate) fn new(rpo: Duration) -> Rpo {
        Rpo {
            rpo,
            exposure: Exposure::Unknown,
            level: RpoLevel::Unknown,
            ever_known: false,
        }
    }
}

// ---------------------------------------------------------------- RTO

/// The span from the first confirmed DOWN to the first confirmed UP after it. It stays open
/// through UNKNOWN and DEGRADED: a component coming back half-way has not recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    /// `since` of the DOWN state that opened the outage.
    pub down_since: Timestamp,
    /// `since` of the UP state that closed it.
    pub recovered_at: Option<Timestamp>,
    pub(crate) breach_recorded: bool,
}

impl Outage {
    pub(crate) fn open(down_since: Timestamp) -> Outage {
        Outage {
            down_since,
            recovered_at: None,
            breach_recorded: false,
        }
    }

    pub fn is_open(&self) -> bool {
        self.recovered_at.is_none()
    }

    /// How long the component has been (or was) out.
    pub fn elapsed(&self, now: Timestamp) -> SignedDuration {
        self.recovered_at
            .unwrap_or(now)
            .duration_since(self.down_since)
    }

    /// The recovery time achieved, once recovered.
    pub fn achieved(&self) -> Option<SignedDuration> {
        self.recovered_at.map(|r| r.duration_since(self.down_since))
    }

    /// RTO − time since the first confirmed DOWN, while the outage is open; negative = breached.
    pub fn budget(&self, rto: Duration, now: Timestamp) -> Option<SignedDuration> {
        if !self.is_open() {
            return None;
        }
        Some(signed(rto).saturating_sub(self.elapsed(now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::estate::{LagSpec, Timing};
    use crate::app::observation::{ObserveError, Outcome};
    use crate::config::{Schedule, Thresholds};

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("valid")
    }

    fn mins(m: u64) -> Duration {
        Duration::from_secs(m * 60)
    }

    fn lag_spec() -> LagSpec {
        LagSpec {
            timing: Timing::new(Schedule {
                every: Duration::from_secs(15),
                timeout: Duration::from_secs(10),
                confirm_after: 1,
            }),
            thresholds: Thresholds {
                warn: Duration::from_secs(30),
                crit: Duration::from_secs(60),
            },
            metric: "ReplicaLag",
        }
    }

    fn backup_at(outcome: Outcome) -> BackupTrack {
        let th = Thresholds {
            warn: Duration::from_secs(25 * 3600),
            crit: Duration::from_secs(26 * 3600),
        };
        let mut b = BackupTrack::new(t(0));
        b.observe(outcome, t(0), &th, &Timing::default());
        b
    }

    #[test]
    fn thresholds_are_strictly_above_half_and_above_rpo() {
        let rpo = mins(15);
        let at = |s: i64| {
            Exposure::Replication {
                lag: SignedDuration::from_secs(s),
            }
            .level(rpo)
        };
        assert_eq!(at(0), RpoLevel::Ok);
        assert_eq!(at(450), RpoLevel::Ok, "exactly half is not at risk");
        assert_eq!(at(451), RpoLevel::AtRisk);
        assert_eq!(at(900), RpoLevel::AtRisk, "exactly the RPO is not breached");
        assert_eq!(at(901), RpoLevel::Breached);
        assert_eq!(Exposure::NoBackup.level(rpo), RpoLevel::Breached);
        assert_eq!(Exposure::Unknown.level(rpo), RpoLevel::Unknown);
    }

    #[test]
    fn rpo_zero_breaches_on_any_loss() {
        let zero = Duration::ZERO;
        let ex = |n: i64| Exposure::Replication {
            lag: SignedDuration::from_millis(n),
        };
        assert_eq!(ex(0).level(zero), RpoLevel::Ok);
        assert_eq!(ex(1).level(zero), RpoLevel::Breached);
    }

    #[test]
    fn exposure_prefers_healthy_replication_then_backup_age() {
        let spec = lag_spec();
        let mut lag = LagTrack::new();
        lag.replica_mut("dr".into(), t(0))
            .1
            .observe(Outcome::Seconds(20.0), t(0), &spec);
        let backup = backup_at(Outcome::Seconds(3600.0));
        assert_eq!(
            Exposure::of(Some(&lag), Some(&backup), t(60)),
            Exposure::Replication {
                lag: SignedDuration::from_secs(20)
            }
        );
        // −1: replication not running → the backup's age now (1h measured a minute ago).
        lag.replica_mut("dr".into(), t(15))
            .1
            .observe(Outcome::Seconds(-1.0), t(15), &spec);
        assert_eq!(
            Exposure::of(Some(&lag), Some(&backup), t(60)),
            Exposure::Backup {
                age: SignedDuration::from_secs(3660)
            }
        );
        assert_eq!(Exposure::of(Some(&lag), None, t(60)), Exposure::Unknown);
        let missing = backup_at(Outcome::Down {
            detail: "no backup".into(),
        });
        assert_eq!(
            Exposure::of(Some(&lag), Some(&missing), t(60)),
            Exposure::NoBackup
        );
        let unknown = backup_at(Outcome::CannotObserve {
            reason: ObserveError::Timeout,
        });
        assert_eq!(Exposure::of(None, Some(&unknown), t(60)), Exposure::Unknown);
    }

    #[test]
    fn outage_budget_and_achieved() {
        let mut o = Outage::open(t(100));
        assert_eq!(
            o.budget(mins(60), t(1900)),
            Some(SignedDuration::from_secs(1800))
        );
        assert_eq!(
            o.budget(mins(60), t(3800)),
            Some(SignedDuration::from_secs(-100))
        );
        o.recovered_at = Some(t(4000));
        assert_eq!(o.budget(mins(60), t(5000)), None);
        assert_eq!(o.achieved(), Some(SignedDuration::from_secs(3900)));
        assert_eq!(o.elapsed(t(9999)), SignedDuration::from_secs(3900));
    }

    #[test]
    fn exposure_words() {
        assert_eq!(
            Exposure::Replication {
                lag: SignedDuration::from_secs(40)
            }
            .describe(),
            "replication lag 40s"
        );
        assert_eq!(
            Exposure::Backup {
                age: SignedDuration::from_secs(3720)
            }
            .describe(),
            "backup age 1h02m"
        );
        assert_eq!(Exposure::NoBackup.describe(), "no backup found");
    }
}
