//! `warroom status`: what one probe round says, as a table for people or JSON for scripts,
//! and the exit code of the overall severity.

use serde::Serialize;

use crate::app::{BackupState, HealthState, LagState, RpoLevel, State, fmt as human};
use crate::config::Tier;
use crate::ui::clean;

#[derive(Debug, Serialize)]
pub struct Report {
    /// RFC 3339.
    pub at: String,
    pub severity: String,
    pub exit_code: u8,
    pub reasons: Vec<String>,
    pub components: Vec<ComponentReport>,
}

#[derive(Debug, Serialize)]
pub struct ComponentReport {
    pub id: String,
    pub name: String,
    pub tier: &'static str,
    /// up | degraded | down | unknown
    pub state: &'static str,
    pub stale: bool,
    /// Why, in words; empty when up.
    pub reason: String,
    pub latency_seconds: Option<f64>,
    pub lag: Vec<LagReport>,
    pub backup: Option<BackupReport>,
    pub rpo: Option<RpoReport>,
    /// RTO budget left in an open outage (negative = breached).
    pub rto_left_seconds: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct LagReport {
    pub replica: String,
    /// ok | warn | crit | not_running | unknown
    pub state: &'static str,
    pub seconds: Option<f64>,
    pub detail: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct BackupReport {
    /// ok | warn | crit | missing | unknown
    pub state: &'static str,
    pub age_seconds: Option<f64>,
    pub detail: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RpoReport {
    pub rpo_seconds: f64,
    /// ok | at_risk | breached | unknown
    pub level: &'static str,
    pub exposure_seconds: Option<f64>,
}

fn health_word(s: HealthState) -> &'static str {
    match s {
        HealthState::Up => "up",
        HealthState::Degraded => "degraded",
        HealthState::Down => "down",
        HealthState::Unknown => "unknown",
    }
}

fn lag_word(s: LagState) -> &'static str {
    match s {
        LagState::Ok => "ok",
        LagState::Warn => "warn",
        LagState::Crit => "crit",
        LagState::NotRunning => "not_running",
        LagState::Unknown => "unknown",
    }
}

fn backup_word(s: BackupState) -> &'static str {
    match s {
        BackupState::Ok => "ok",
        BackupState::Warn => "warn",
        BackupState::Crit => "crit",
        BackupState::Missing => "missing",
        BackupState::Unknown => "unknown",
    }
}

fn rpo_word(l: RpoLevel) -> &'static str {
    match l {
        RpoLevel::Ok => "ok",
        RpoLevel::AtRisk => "at_risk",
        RpoLevel::Breached => "breached",
        RpoLevel::Unknown => "unknown",
    }
}

/// Everything the state says, in plain values (all text sanitized).
pub fn report(state: &State) -> Report {
    let now = state.now();
    let severity = state.severity();
    let components = state
        .components()
        .filter_map(|(ix, spec, c)| {
            let h = state.health(ix)?;
            let lag = c
                .lag()
                .map(|l| {
                    l.replicas()
                        .iter()
                        .map(|r| LagReport {
                            replica: clean(r.name()).into_owned(),
                            state: lag_word(r.level().state()),
                            seconds: r.value().map(|v| v.seconds),
                            detail: r.level().detail(now).map(|d| clean(&d).into_owned()),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let backup = c.backup().map(|b| BackupReport {
                state: backup_word(b.level().state()),
                age_seconds: b.age_at(now).map(|a| a.as_secs_f64()),
                detail: b.level().detail(now).map(|d| clean(&d).into_owned()),
            });
            let rpo = c.rpo().map(|r| RpoReport {
                rpo_seconds: r.rpo.as_secs_f64(),
                level: rpo_word(r.level),
                exposure_seconds: r.exposure.amount().map(|a| a.as_secs_f64()),
            });
            Some(ComponentReport {
                id: spec.id.clone(),
                name: clean(&spec.name).into_owned(),
                tier: match spec.tier {
                    Tier::Critical => "critical",
                    Tier::Standard => "standard",
                },
                state: health_word(h.state),
                stale: h.stale,
                reason: if h.state == HealthState::Up && !h.stale {
                    String::new()
                } else {
                    clean(&h.reason).into_owned()
                },
                // Zero = the probe measured no latency of the component (RDS, Kubernetes).
                latency_seconds: h.latency.filter(|l| !l.is_zero()).map(|l| l.as_secs_f64()),
                lag,
                backup,
                rpo,
                rto_left_seconds: state.rto_budget(ix).map(|b| b.as_secs_f64()),
            })
        })
        .collect();
    Report {
        at: now.to_string(),
        severity: severity.label().to_string(),
        exit_code: severity.status_exit_code(),
        reasons: state
            .assessment()
            .reasons
            .iter()
            .map(|r| clean(r).into_owned())
            .collect(),
        components,
    }
}

/// The table for people: one line per component, then the severity and its reasons.
pub fn table(report: &Report) -> String {
    let width = report
        .components
        .iter()
        .map(|c| c.id.chars().count())
        .max()
        .unwrap_or(2)
        .max(9);
    let mut out = format!(
        "{:<width$}  {:<8}  {:<8}  {:>8}  {}\n",
        "COMPONENT", "TIER", "STATE", "LATENCY", "DETAIL"
    );
    for c in &report.components {
        let state = if c.stale {
            "STALE".to_string()
        } else {
            c.state.to_uppercase()
        };
        let latency = c
            .latency_seconds
            .map(|l| human::duration(std::time::Duration::from_secs_f64(l)))
            .unwrap_or_default();
        let mut detail = c.reason.clone();
        for l in &c.lag {
            let v = match (&l.detail, l.seconds) {
                (Some(d), _) => d.clone(),
                (None, Some(s)) => human::seconds(s),
                (None, None) => String::new(),
            };
            push(&mut detail, format!("lag {} {} {v}", l.replica, l.state));
        }
        if let Some(b) = &c.backup {
            let v = match (&b.detail, b.age_seconds) {
                (Some(d), _) => d.clone(),
                (None, Some(s)) => format!("age {}", human::seconds(s)),
                (None, None) => String::new(),
            };
            push(&mut detail, format!("backup {} {v}", b.state));
        }
        if let Some(r) = &c.rpo
            && r.level != "ok"
        {
            push(&mut detail, format!("RPO {}", r.level));
        }
        out.push_str(&format!(
            "{:<width$}  {:<8}  {:<8}  {:>8}  {}\n",
            c.id,
            c.tier,
            state,
            latency,
            detail.trim()
        ));
    }
    out.push_str(&format!("\n{}\n", report.severity));
    for r in &report.reasons {
        out.push_str(&format!("  {r}\n"));
    }
    out
}

fn push(detail: &mut String, more: String) {
    if !detail.is_empty() {
        detail.push_str("; ");
    }
    detail.push_str(more.trim());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{
        ComponentIx, ComponentSpec, Estate, Event, Observation, ObserveError, Outcome, Signal,
        update,
    };
    use crate::config::{Schedule, Thresholds};
    use jiff::Timestamp;
    use std::time::Duration;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_795_575_600 + s).expect("valid")
    }

    fn estate() -> Estate {
        let schedule = Schedule::default();
        Estate::new(vec![
            ComponentSpec::new("db", Tier::Critical)
                .name("Database")
                .health(schedule)
                .rto(Duration::from_secs(3600))
                .rpo(Duration::from_secs(900))
                .lag(
                    schedule,
                    Thresholds {
                        warn: Duration::from_secs(30),
                        crit: Duration::from_secs(60),
                    },
                ),
            ComponentSpec::new("api", Tier::Standard).health(schedule),
        ])
    }

    fn observe(state: &mut State, ix: u32, signal: Signal, outcome: Outcome) {
        update(
            state,
            Event::Observed(Observation {
                component: ComponentIx(ix),
                signal,
                at: at(1),
                started: at(1),
                outcome,
            }),
        );
    }

    #[test]
    fn a_zero_latency_is_not_reported_as_one() {
        let mut state = State::new(estate(), at(0), crate::app::Setup::default());
        observe(
            &mut state,
            1,
            Signal::Health,
            Outcome::Up {
                latency: Duration::ZERO,
                detail: "available".into(),
            },
        );
        let r = report(&state);
        assert_eq!(r.components[1].state, "up");
        assert_eq!(r.components[1].latency_seconds, None);
    }

    #[test]
    fn the_report_says_state_reason_lag_and_budget_in_plain_values() {
        let mut state = State::new(estate(), at(0), crate::app::Setup::default());
        observe(
            &mut state,
            0,
            Signal::Health,
            Outcome::Down {
                detail: "refused\x1b[2J".into(),
            },
        );
        observe(
            &mut state,
            0,
            Signal::Lag {
                replica: "db-dr".into(),
            },
            Outcome::Seconds(-1.0),
        );
        observe(
            &mut state,
            1,
            Signal::Health,
            Outcome::CannotObserve {
                reason: ObserveError::Credentials("token expired".into()),
            },
        );
        let r = report(&state);
        assert_eq!(r.exit_code, 2);
        assert_eq!(r.severity, "CRITICAL");
        let db = &r.components[0];
        assert_eq!(
            (db.id.as_str(), db.tier, db.state),
            ("db", "critical", "down")
        );
        assert_eq!(db.reason, "refused", "sanitized");
        assert_eq!(db.lag[0].state, "not_running");
        assert_eq!(db.rto_left_seconds, Some(3600.0));
        let api = &r.components[1];
        assert_eq!(api.state, "unknown");
        assert!(api.reason.contains("token expired"), "{}", api.reason);
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["components"][0]["lag"][0]["replica"], "db-dr");
        let table = table(&r);
        assert!(
            table.lines().nth(1).is_some_and(|l| l.starts_with("db ")),
            "{table}"
        );
        assert!(table.contains("CRITICAL"), "{table}");
    }
}
