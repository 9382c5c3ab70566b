//! The overall severity, decided from what every component shows (DESIGN.md, "What the
//! screen says"):
//!
//! | overall   | when |
//! |-----------|------|
//! | EMERGENCY | 2 or more critical components DOWN |
//! | CRITICAL  | 1 critical DOWN; or 3+ standard DOWN; or a critical component's RPO breached; or a critical component UNKNOWN ("CRITICAL (unverified)" when that is the only cause) |
//! | DEGRADED  | 1–2 standard DOWN; anything DEGRADED; a standard component UNKNOWN; lag or backup at warn or worse, or unknown; an RPO at risk (or a standard component's RPO breached) |
//! | HEALTHY   | everything UP and fresh, no warnings |
//! | OBSERVING | only at start, while some probe has neither answered once nor passed its timeout |

use serde::{Deserialize, Serialize};

use super::budget::RpoLevel;
use super::fmt;
use super::signals::{BackupLevel, HealthState, LagLevel};
use super::track::UnknownReason;
use super::update::State;
use crate::config::Tier;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// No severity is claimed yet: some probe has not answered and has not timed out.
    Observing,
    Healthy,
    Degraded,
    /// `unverified`: the only cause is a critical component we cannot see.
    Critical {
        unverified: bool,
    },
    Emergency,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Observing => "OBSERVING",
            Severity::Healthy => "HEALTHY",
            Severity::Degraded => "DEGRADED",
            Severity::Critical { unverified: false } => "CRITICAL",
            Severity::Critical { unverified: true } => "CRITICAL (unverified)",
            Severity::Emergency => "EMERGENCY",
        }
    }

    /// Exit code of `warroom status`: 0 healthy, 1 degraded, 2 critical, 3 emergency,
    /// 4 could not observe — nothing answered, or the only critical thing is a critical
    /// component that cannot be seen ("CRITICAL (unverified)").
    pub fn status_exit_code(self) -> u8 {
        match self {
            Severity::Healthy => 0,
            Severity::Degraded => 1,
            Severity::Critical { unverified: false } => 2,
            Severity::Emergency => 3,
            Severity::Critical { unverified: true } | Severity::Observing => 4,
        }
    }
}

/// The severity and why, most severe causes first.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub severity: Severity,
    pub reasons: Vec<String>,
}

/// Reasons kept in an assessment; the rest are counted in a last "… and N more".
pub const MAX_REASONS: usize = 12;

/// Causes of one kind: all counted, the first few spelled out (so a wide outage of a large
/// estate does not format a thousand lines on every change).
#[derive(Default)]
struct Causes {
    count: usize,
    words: Vec<String>,
}

impl Causes {
    fn add(&mut self, words: impl FnOnce() -> String) {
        self.count += 1;
        if self.words.len() < MAX_REASONS {
            self.words.push(words());
        }
    }
}

fn with_reason(head: String, reason: String) -> String {
    if reason.is_empty() {
        head
    } else {
        format!("{head}: {reason}")
    }
}

/// Decide the overall severity. O(components + replicas); called when a shown level changed
/// and on every Tick.
pub(crate) fn assess(state: &State) -> Assessment {
    let now = state.now();
    let since_start = now.duration_since(state.started());
    let mut waiting = Causes::default();
    let mut critical_down = Causes::default();
    let mut standard_down = Causes::default();
    let mut critical_rpo = Causes::default();
    let mut critical_unknown = Causes::default();
    let mut degraded = Causes::default();

    for (_, spec, c) in state.components() {
        let id = spec.id.as_str();
        let critical = spec.tier == Tier::Critical;

        let health = c.health();
        if !health.answered() && since_start < spec.health.timing.timeout() {
            waiting.add(|| format!("{id} health"));
        }
        let shown = health.shown();
        match shown.state() {
            HealthState::Up => {}
            HealthState::Down if critical => critical_down
                .add(|| with_reason(format!("{id} (critical) DOWN"), shown.reason(now))),
            HealthState::Down => {
                standard_down.add(|| with_reason(format!("{id} DOWN"), shown.reason(now)))
            }
            HealthState::Unknown if critical => critical_unknown
                .add(|| with_reason(format!("{id} (critical) UNKNOWN"), shown.reason(now))),
            s @ (HealthState::Unknown | HealthState::Degraded) => {
                degraded.add(|| with_reason(format!("{id} {}", s.label()), shown.reason(now)))
            }
        }

        if let (Some(lag_spec), Some(lag)) = (spec.lag.as_ref(), c.lag()) {
            match lag.waiting(state.started(), now, &lag_spec.timing) {
                Some(why) => {
                    if why == UnknownReason::NoDataYet {
                        waiting.add(|| format!("{id} lag"));
                    }
                    degraded.add(|| format!("{id} lag UNKNOWN: {}", why.describe(now)));
                }
                None => {
                    for r in lag.replicas() {
                        let level = r.level();
                        if *level == LagLevel::Ok {
                            continue;
                        }
                        degraded.add(|| {
                            let what = match (level.detail(now), r.value()) {
                                (Some(d), _) => d,
                                (None, Some(v)) => fmt::seconds(v.seconds),
                                (None, None) => String::new(),
                            };
                            with_reason(
                                format!("{id} lag {} {}", r.name(), level.state().label()),
                                what,
                            )
                        });
                    }
                }
            }
        }

        if let (Some(backup_spec), Some(backup)) = (spec.backup.as_ref(), c.backup()) {
            if !backup.track().answered() && since_start < backup_spec.timing.timeout() {
                waiting.add(|| format!("{id} backup"));
            }
            let level = backup.level();
            if *level != BackupLevel::Ok {
                degraded.add(|| {
                    let what = match (level.detail(now), backup.age_at(now)) {
                        (Some(d), _) => d,
                        (None, Some(age)) => format!("age {}", fmt::signed(age)),
                        (None, None) => String::new(),
                    };
                    with_reason(format!("{id} backup {}", level.state().label()), what)
                });
            }
        }

        if let Some(rpo) = c.rpo() {
            let words = |what: &str| {
                format!(
                    "{id} RPO {what}: {} (RPO {})",
                    rpo.exposure.describe(),
                    fmt::duration(rpo.rpo)
                )
            };
            match rpo.level {
                RpoLevel::Breached if critical => critical_rpo.add(|| words("breached")),
                RpoLevel::Breached => degraded.add(|| words("breached")),
                RpoLevel::AtRisk => degraded.add(|| words("at risk")),
                // An unknown exposure comes from an unknown lag or backup, already counted;
                // a component with an RPO and no lag or backup probe must not stay unhealthy.
                RpoLevel::Ok | RpoLevel::Unknown => {}
            }
        }
    }

    if waiting.count > 0 {
        let head = format!("waiting for {} probe(s) to answer", waiting.count);
        return Assessment {
            severity: Severity::Observing,
            reasons: reasons(&mut [Causes {
                count: waiting.count + 1,
                words: std::iter::once(head).chain(waiting.words).collect(),
            }]),
        };
    }

    let severity = if critical_down.count >= 2 {
        Severity::Emergency
    } else if critical_down.count == 1 || standard_down.count >= 3 || critical_rpo.count > 0 {
        Severity::Critical { unverified: false }
    } else if critical_unknown.count > 0 {
        Severity::Critical { unverified: true }
    } else if standard_down.count > 0 || degraded.count > 0 {
        Severity::Degraded
    } else {
        Severity::Healthy
    };
    Assessment {
        severity,
        reasons: reasons(&mut [
            critical_down,
            standard_down,
            critical_rpo,
            critical_unknown,
            degraded,
        ]),
    }
}

/// The causes in order, at most [`MAX_REASONS`] lines, then "… and N more".
fn reasons(causes: &mut [Causes]) -> Vec<String> {
    let total: usize = causes.iter().map(|c| c.count).sum();
    let mut out = Vec::new();
    for c in causes.iter_mut() {
        for w in c.words.drain(..) {
            if out.len() == MAX_REASONS {
                break;
            }
            out.push(w);
        }
    }
    if total > out.len() {
        let more = total - out.len();
        if out.len() == MAX_REASONS {
            out.pop();
            out.push(format!("… and {} more", more + 1));
        } else {
            out.push(format!("… and {more} more"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::observation::{ObserveError, Outcome};
    use crate::app::testkit::*;
    use crate::config::Tier::{Critical, Standard};

    /// `tiers` components, confirm_after 1, health only, every one UP at t(1).
    fn healthy(tiers: &[Tier]) -> Rig {
        let specs = tiers
            .iter()
            .enumerate()
            .map(|(i, tier)| comp(&format!("c{i}"), *tier, 1))
            .collect();
        let mut rig = Rig::new(specs);
        rig.all_up(1);
        assert_eq!(rig.severity(), Severity::Healthy);
        rig
    }

    #[test]
    fn labels_and_exit_codes() {
        let all = [
            (Severity::Observing, "OBSERVING", 4),
            (Severity::Healthy, "HEALTHY", 0),
            (Severity::Degraded, "DEGRADED", 1),
            (Severity::Critical { unverified: false }, "CRITICAL", 2),
            (
                Severity::Critical { unverified: true },
                "CRITICAL (unverified)",
                4,
            ),
            (Severity::Emergency, "EMERGENCY", 3),
        ];
        for (s, label, code) in all {
            assert_eq!((s.label(), s.status_exit_code()), (label, code), "{s:?}");
        }
    }

    #[test]
    fn observing_at_start_with_every_probe_waiting() {
        let rig = Rig::new(vec![comp("a", Critical, 2), comp("b", Standard, 2)]);
        let a = rig.state.assessment();
        assert_eq!(a.severity, Severity::Observing);
        assert_eq!(
            a.reasons,
            vec![
                "waiting for 2 probe(s) to answer".to_string(),
                "a health".into(),
                "b health".into()
            ]
        );
    }

    #[test]
    fn healthy_when_everything_is_up_and_fresh() {
        let rig = healthy(&[Critical, Standard]);
        assert!(rig.state.assessment().reasons.is_empty());
    }

    #[test]
    fn emergency_two_critical_down() {
        let mut rig = healthy(&[Critical, Critical, Standard]);
        rig.down(0, 2);
        assert_eq!(rig.severity(), Severity::Critical { unverified: false });
        rig.down(1, 3);
        assert_eq!(rig.severity(), Severity::Emergency);
        assert_eq!(
            rig.state.assessment().reasons,
            vec![
                "c0 (critical) DOWN: connection refused".to_string(),
                "c1 (critical) DOWN: connection refused".into()
            ]
        );
    }

    #[test]
    fn critical_one_critical_down() {
        let mut rig = healthy(&[Critical, Standard]);
        rig.down(0, 2);
        assert_eq!(rig.severity(), Severity::Critical { unverified: false });
        assert_eq!(rig.severity().label(), "CRITICAL");
    }

    #[test]
    fn standard_down_one_two_degraded_three_critical() {
        let mut rig = healthy(&[Critical, Standard, Standard, Standard]);
        rig.down(1, 2);
        assert_eq!(rig.severity(), Severity::Degraded);
        assert_eq!(
            rig.state.assessment().reasons,
            vec!["c1 DOWN: connection refused".to_string()]
        );
        rig.down(2, 3);
        assert_eq!(rig.severity(), Severity::Degraded);
        rig.down(3, 4);
        assert_eq!(rig.severity(), Severity::Critical { unverified: false });
    }

    #[test]
    fn critical_unknown_is_critical_unverified_unless_another_cause_holds() {
        let mut rig = healthy(&[Critical, Standard, Standard, Standard]);
        rig.health(
            0,
            2,
            cannot(ObserveError::Credentials("SSO token expired".into())),
        );
        assert_eq!(rig.severity(), Severity::Critical { unverified: true });
        assert_eq!(rig.severity().label(), "CRITICAL (unverified)");
        assert_eq!(
            rig.state.assessment().reasons,
            vec!["c0 (critical) UNKNOWN: credentials: SSO token expired".to_string()]
        );
        // 1–2 standard DOWN are only DEGRADED causes: still unverified.
        rig.down(1, 3);
        rig.down(2, 3);
        assert_eq!(rig.severity(), Severity::Critical { unverified: true });
        // 3 standard DOWN is a CRITICAL cause of its own: verified.
        rig.down(3, 4);
        assert_eq!(rig.severity(), Severity::Critical { unverified: false });
    }

    #[test]
    fn critical_rpo_breached_is_critical_and_standard_only_degraded() {
        let specs = vec![
            comp("db", Critical, 1)
                .rpo(secs(900))
                .lag(schedule(15, 10, 1), thresholds(1000, 2000)),
            comp("files", Standard, 1)
                .rpo(secs(900))
                .lag(schedule(15, 10, 1), thresholds(1000, 2000)),
        ];
        let mut rig = Rig::new(specs);
        rig.all_up(1);
        rig.lag(0, "dr", 1, Outcome::Seconds(10.0));
        rig.lag(1, "dr", 1, Outcome::Seconds(10.0));
        assert_eq!(rig.severity(), Severity::Healthy);
        rig.lag(1, "dr", 2, Outcome::Seconds(901.0));
        assert_eq!(rig.severity(), Severity::Degraded);
        assert_eq!(
            rig.state.assessment().reasons,
            vec!["files RPO breached: replication lag 15m01s (RPO 15m)".to_string()]
        );
        rig.lag(0, "dr", 2, Outcome::Seconds(901.0));
        assert_eq!(rig.severity(), Severity::Critical { unverified: false });
        assert_eq!(
            rig.state.assessment().reasons[0],
            "db RPO breached: replication lag 15m01s (RPO 15m)"
        );
    }

    #[test]
    fn critical_unknown_with_critical_rpo_breached_is_verified() {
        let specs = vec![
            comp("db", Critical, 1)
                .rpo(secs(60))
                .backup(schedule(60, 10, 1), thresholds(90_000, 93_600)),
        ];
        let mut rig = Rig::new(specs);
        rig.health(0, 1, cannot(ObserveError::Timeout));
        rig.backup(0, 1, Outcome::Seconds(3600.0));
        assert_eq!(rig.severity(), Severity::Critical { unverified: false });
    }

    #[test]
    fn degraded_causes() {
        // Each case: one thing wrong on an otherwise healthy estate → DEGRADED, with its words.
        fn estate() -> Rig {
            let mut rig = Rig::new(vec![
                comp("crit", Critical, 1).warn_latency(secs(1)),
                comp("std", Standard, 1)
                    .rpo(secs(900))
                    .lag(schedule(15, 10, 1), thresholds(30, 60))
                    .backup(schedule(60, 10, 1), thresholds(90_000, 93_600)),
            ]);
            rig.all_up(1);
            rig.lag(1, "dr", 1, Outcome::Seconds(1.0));
            rig.backup(1, 1, Outcome::Seconds(3600.0));
            assert_eq!(rig.severity(), Severity::Healthy);
            rig
        }
        type Case = (&'static str, fn(&mut Rig), &'static str);
        let cases: [Case; 10] = [
            (
                "critical slow",
                |r| {
                    r.health(
                        0,
                        2,
                        Outcome::Up {
                            latency: Duration::from_millis(1200),
                            detail: "200 OK".into(),
                        },
                    );
                },
                "crit DEGRADED: slow: 1.2s ≥ 1s",
            ),
            (
                "critical partial",
                |r| {
                    r.health(
                        0,
                        2,
                        Outcome::Degraded {
                            detail: "1/3 available".into(),
                        },
                    );
                },
                "crit DEGRADED: 1/3 available",
            ),
            (
                "standard unknown",
                |r| {
                    r.health(1, 2, cannot(ObserveError::Unreachable("eks api".into())));
                },
                "std UNKNOWN: unreachable: eks api",
            ),
            (
                "lag warn",
                |r| {
                    r.lag(1, "dr", 2, Outcome::Seconds(30.0));
                },
                "std lag dr WARN: 30s",
            ),
            (
                "lag crit",
                |r| {
                    r.lag(1, "dr", 2, Outcome::Seconds(60.0));
                },
                "std lag dr CRIT: 1m",
            ),
            (
                "lag not running",
                |r| {
                    r.lag(1, "dr", 2, Outcome::Seconds(-1.0));
                },
                "std lag dr NOT RUNNING: replication not running (ReplicaLag -1)",
            ),
            (
                "lag unknown",
                |r| {
                    r.lag(1, "dr", 2, cannot(ObserveError::NoDatapoints));
                },
                "std lag dr UNKNOWN: no datapoints",
            ),
            (
                "backup warn",
                |r| {
                    r.backup(1, 2, Outcome::Seconds(90_000.0));
                },
                "std backup WARN: age 25h",
            ),
            (
                "backup missing",
                |r| {
                    r.backup(1, 2, down_outcome("no snapshots"));
                },
                "std backup MISSING: no snapshots",
            ),
            (
                "stale lag",
                |r| {
                    r.up(0, 40);
                    r.up(1, 40);
                    r.backup(1, 40, Outcome::Seconds(3600.0));
                    r.tick(47);
                },
                "std lag dr UNKNOWN: stale: no answer for 46s",
            ),
        ];
        for (name, act, first_reason) in cases {
            let mut rig = estate();
            act(&mut rig);
            let a = rig.state.assessment();
            assert_eq!(a.severity, Severity::Degraded, "{name}: {:?}", a.reasons);
            assert_eq!(a.reasons[0], first_reason, "{name}");
        }
    }

    #[test]
    fn rpo_at_risk_alone_is_degraded() {
        let mut rig = Rig::new(vec![
            comp("db", Critical, 1)
                .rpo(secs(900))
                .lag(schedule(15, 10, 1), thresholds(600, 1200)),
        ]);
        rig.up(0, 1);
        rig.lag(0, "dr", 1, Outcome::Seconds(451.0));
        assert_eq!(rig.severity(), Severity::Degraded);
        assert_eq!(
            rig.state.assessment().reasons,
            vec!["db RPO at risk: replication lag 7m31s (RPO 15m)".to_string()]
        );
    }

    #[test]
    fn reasons_are_capped_with_a_count_of_the_rest() {
        let mut rig = healthy(&[Standard; 20]);
        for ix in 0..20 {
            rig.down(ix, 2);
        }
        let a = rig.state.assessment();
        assert_eq!(a.severity, Severity::Critical { unverified: false });
        assert_eq!(a.reasons.len(), MAX_REASONS);
        assert_eq!(a.reasons[0], "c0 DOWN: connection refused");
        assert_eq!(a.reasons[MAX_REASONS - 1], "… and 9 more");
    }

    use std::time::Duration;
}
