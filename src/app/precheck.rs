//! A step's prechecks against the live values, with their age: `replica lag 12s < 60s ✔ (4s
//! ago)`. A value older than two probe intervals is stale and fails the check; no value fails
//! it; a precheck never passes on what the console cannot see.

use jiff::{SignedDuration, Timestamp};

use super::estate::signed;
use super::fmt;
use super::signals::HealthState;
use super::update::State;
use crate::config::{ExpectedState, Precheck};

/// One precheck as the modal shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// "db-primary lag 12s < 1m".
    pub text: String,
    pub pass: bool,
    /// Age of the value it stands on, when there is one.
    pub age: Option<SignedDuration>,
    /// Why it fails, when it does: "stale (40s old, limit 30s)", "no value yet".
    pub why: Option<String>,
}

impl Checked {
    fn fail(text: String, why: impl Into<String>, age: Option<SignedDuration>) -> Checked {
        Checked {
            text,
            pass: false,
            age,
            why: Some(why.into()),
        }
    }
}

/// A value may be used if it is younger than two intervals of the probe that gave it.
fn too_old(at: Timestamp, every: std::time::Duration, now: Timestamp) -> Option<String> {
    let age = now.duration_since(at);
    let limit = signed(every).saturating_mul(2);
    (age > limit).then(|| {
        format!(
            "stale: {} old, limit {}",
            fmt::signed(age),
            fmt::signed(limit)
        )
    })
}

pub fn check(state: &State, p: &Precheck) -> Checked {
    let now = state.now();
    let id = p.component();
    let Some(ix) = state.estate().ix(id) else {
        return Checked::fail(
            format!("{id}: unknown component"),
            "not in the estate",
            None,
        );
    };
    let (Some(spec), Some(c)) = (state.estate().get(ix), state.component(ix)) else {
        return Checked::fail(
            format!("{id}: unknown component"),
            "not in the estate",
            None,
        );
    };
    match p {
        Precheck::LagBelow { max, .. } => {
            let text = format!("{id} lag < {}", fmt::duration(*max));
            let (Some(lag_spec), Some(lag)) = (spec.lag.as_ref(), c.lag()) else {
                return Checked::fail(text, "no lag probe", None);
            };
            // The worst replica decides: a failover must not lose what any replica lacks.
            let mut worst: Option<(f64, Timestamp)> = None;
            for r in lag.replicas() {
                if !r.level().is_measured() {
                    return Checked::fail(
                        text,
                        format!(
                            "{}: {}",
                            r.name(),
                            r.level().detail(now).unwrap_or_else(|| "no value".into())
                        ),
                        r.track().last_answer().map(|t| now.duration_since(t)),
                    );
                }
                if let Some(m) = r.value()
                    && worst.is_none_or(|(s, _)| m.seconds > s)
                {
                    worst = Some((m.seconds, m.at));
                }
            }
            let Some((seconds, at)) = worst else {
                return Checked::fail(text, "no value yet", None);
            };
            let age = Some(now.duration_since(at));
            let text = format!(
                "{id} lag {} < {}",
                fmt::seconds(seconds),
                fmt::duration(*max)
            );
            if let Some(why) = too_old(at, lag_spec.timing.every(), now) {
                return Checked::fail(text, why, age);
            }
            if seconds >= max.as_secs_f64() {
                return Checked::fail(text, "too high", age);
            }
            Checked {
                text,
                pass: true,
                age,
                why: None,
            }
        }
        Precheck::BackupYoungerThan { max, .. } => {
            let text = format!("{id} backup younger than {}", fmt::duration(*max));
            let (Some(backup_spec), Some(backup)) = (spec.backup.as_ref(), c.backup()) else {
                return Checked::fail(text, "no backup probe", None);
            };
            let Some(m) = backup.value() else {
                return Checked::fail(text, "no value yet", None);
            };
            let age = Some(now.duration_since(m.at));
            let newest = backup
                .age_at(now)
                .map(|a| a.as_secs_f64())
                .unwrap_or(m.seconds);
            let text = format!(
                "{id} backup {} old < {}",
                fmt::seconds(newest),
                fmt::duration(*max)
            );
            if let Some(why) = too_old(m.at, backup_spec.timing.every(), now) {
                return Checked::fail(text, why, age);
            }
            if newest >= max.as_secs_f64() {
                return Checked::fail(text, "too old", age);
            }
            Checked {
                text,
                pass: true,
                age,
                why: None,
            }
        }
        Precheck::State { state: want, .. } => {
            let want_state = match want {
                ExpectedState::Up => HealthState::Up,
                ExpectedState::Down => HealthState::Down,
            };
            let shown = c.health().shown().state();
            let text = format!("{id} is {} (now {})", want_state.label(), shown.label());
            let last = c.health().last_answer();
            let age = last.map(|t| now.duration_since(t));
            let Some(last) = last else {
                return Checked::fail(text, "no answer yet", None);
            };
            if let Some(why) = too_old(last, spec.health.timing.every(), now) {
                return Checked::fail(text, why, age);
            }
            if shown != want_state {
                return Checked::fail(text, "not in that state", age);
            }
            Checked {
                text,
                pass: true,
                age,
                why: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::app::testkit::*;
    use crate::app::{Outcome, Signal};
    use crate::config::Tier::Critical;

    fn lag_below(max: u64) -> Precheck {
        Precheck::LagBelow {
            component: "db".into(),
            max: Duration::from_secs(max),
        }
    }

    fn rig() -> Rig {
        Rig::new(vec![
            comp("db", Critical, 1).lag(schedule(15, 10, 1), thresholds(60, 300)),
        ])
    }

    fn lag(rig: &mut Rig, at: i64, seconds: f64) {
        rig.send(
            0,
            Signal::Lag {
                replica: "dr".into(),
            },
            at,
            Outcome::Seconds(seconds),
        );
    }

    #[test]
    fn lag_passes_when_fresh_and_below_and_shows_its_age() {
        let mut rig = rig();
        lag(&mut rig, 0, 12.0);
        rig.tick(4);
        let c = check(&rig.state, &lag_below(60));
        assert!(c.pass, "{c:?}");
        assert_eq!(c.text, "db lag 12s < 1m");
        assert_eq!(c.age, Some(SignedDuration::from_secs(4)));
    }

    #[test]
    fn lag_fails_when_too_high_stale_or_never_seen() {
        let mut rig = rig();
        assert_eq!(
            check(&rig.state, &lag_below(60)).why.as_deref(),
            Some("no value yet")
        );
        lag(&mut rig, 0, 90.0);
        assert_eq!(
            check(&rig.state, &lag_below(60)).why.as_deref(),
            Some("too high")
        );
        lag(&mut rig, 15, 5.0);
        rig.tick(46);
        let c = check(&rig.state, &lag_below(60));
        assert!(!c.pass);
        assert_eq!(c.why.as_deref(), Some("stale: 31s old, limit 30s"));
    }

    #[test]
    fn a_state_precheck_needs_a_fresh_answer_in_that_state() {
        let mut rig = Rig::new(vec![comp("dr", Critical, 1)]);
        let up = Precheck::State {
            component: "dr".into(),
            state: ExpectedState::Up,
        };
        assert!(!check(&rig.state, &up).pass);
        rig.up(0, 0);
        assert!(check(&rig.state, &up).pass);
        rig.tick(31);
        assert!(!check(&rig.state, &up).pass, "stale after two intervals");
    }
}
