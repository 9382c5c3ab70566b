use super::step_life::last_call;
use super::*;
use crate::app::observation::ObserveError;

#[test]
fn continue_journal_opens_only_after_tampering_and_needs_its_words_and_a_reason() {
    let mut rig = Rig::new(vec![comp("db", crate::config::Tier::Critical, 1)]);
    rig.key(Key::Char('J'));
    assert!(rig.state.dialog.is_none(), "nothing to continue");
    update(
        &mut rig.state,
        Event::Journal(JournalEvent::Problem(Some(
            "JOURNAL TAMPERED: x.jsonl: seq 9 after seq 3".into(),
        ))),
    );
    rig.key(Key::Char('J'));
    assert!(matches!(
        rig.state.dialog,
        Some(Dialog::ContinueJournal { .. })
    ));
    let continues = |fx: &[Effect]| {
        fx.iter()
            .filter_map(|e| match e {
                Effect::ContinueJournal { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert!(continues(&rig.key(Key::Enter)).is_empty(), "a bare Enter");
    for c in "continue journal:".chars() {
        rig.key(Key::Char(c));
    }
    assert!(continues(&rig.key(Key::Enter)).is_empty(), "no reason");
    for c in " eve's line".chars() {
        rig.key(Key::Char(c));
    }
    assert_eq!(continues(&rig.key(Key::Enter)), ["eve's line"]);
    // A read-only console cannot.
    rig.state.read_only = true;
    rig.key(Key::Char('J'));
    assert!(rig.state.dialog.is_none());
}

#[test]
fn an_abandoned_step_names_its_last_call_and_whether_its_answer_came() {
    let log: VecDeque<String> = [
        "f/p: » DescribeDBInstances dtem (us-west-2)",
        "f/p: DescribeDBInstances: available",
        "f/p: » PromoteReadReplica DBInstanceIdentifier=dr (us-west-2)",
        "other/x: PromoteReadReplica: modifying",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(
        last_call(&log, "f", "p"),
        "last call: PromoteReadReplica DBInstanceIdentifier=dr (us-west-2) — no answer had arrived: it may or may not have been applied"
    );
    let mut answered = log.clone();
    answered.push_back("f/p: PromoteReadReplica: modifying".into());
    assert!(last_call(&answered, "f", "p").ends_with("its answer had arrived"));
    assert_eq!(last_call(&log, "f", "q"), "no call made yet");
}

use crate::app::signals::LagState;
use crate::app::testkit::*;
use crate::app::track::UnknownReason;
use crate::app::{Dialog, Estate, Key};
use crate::config::Tier::{Critical, Standard};

fn severity_entry(from: Severity, to: Severity, reasons: Vec<String>) -> EntryKind {
    EntryKind::Severity { from, to, reasons }
}

#[test]
fn first_answers_end_observing_and_all_up_is_one_entry() {
    let mut rig = Rig::new(vec![comp("api", Critical, 2), comp("web", Standard, 2)]);
    assert!(rig.up(0, 1).is_empty(), "a first UP is not news");
    assert_eq!(rig.severity(), Severity::Observing);
    assert_eq!(
        entries(&rig.up(1, 2)),
        vec![severity_entry(
            Severity::Observing,
            Severity::Healthy,
            vec![]
        )]
    );
    assert_eq!(rig.state.timeline.len(), 1);
    assert_eq!(rig.state.timeline[0].at, t(2));
}

#[test]
fn a_first_answer_that_is_bad_is_recorded_and_shown_at_once() {
    let mut rig = Rig::new(vec![comp("api", Critical, 3)]);
    let fx = entries(&rig.down(0, 4));
    assert_eq!(
        fx[0],
        EntryKind::ComponentState {
            component: "api".into(),
            from: HealthState::Unknown,
            to: HealthState::Down,
            reason: "connection refused".into(),
            since: t(4),
            rto: None,
            rpo: None,
            exposure: None,
        }
    );
    assert_eq!(rig.shown(0), HealthState::Down);
    assert_eq!(rig.severity(), Severity::Critical { unverified: false });
}

#[test]
fn flapping_never_changes_the_shown_state_with_confirm_after_two() {
    let mut rig = Rig::new(vec![comp("api", Critical, 2)]);
    rig.up(0, 0);
    for i in 1..=40 {
        let fx = if i % 2 == 1 {
            rig.down(0, i)
        } else {
            rig.up(0, i)
        };
        assert!(fx.is_empty(), "observation {i} emitted {fx:?}");
        assert_eq!(rig.shown(0), HealthState::Up);
    }
    assert_eq!(rig.severity(), Severity::Healthy);
    assert_eq!(rig.component(0).health().since(), t(0));
}

#[test]
fn one_lost_packet_changes_nothing() {
    let mut rig = Rig::new(vec![comp("api", Critical, 2)]);
    rig.up(0, 0);
    assert!(rig.health(0, 15, cannot(ObserveError::Timeout)).is_empty());
    assert_eq!(rig.shown(0), HealthState::Up);
    assert_eq!(rig.severity(), Severity::Healthy);
    assert!(rig.up(0, 30).is_empty());
    assert_eq!(rig.component(0).health().pending(), None);
}

#[test]
fn agreeing_observations_emit_nothing_and_changes_emit_one_entry() {
    let mut rig = Rig::new(vec![comp("api", Standard, 2)]);
    rig.up(0, 0);
    for i in 1..10 {
        assert!(rig.up(0, i).is_empty());
    }
    assert!(rig.down(0, 10).is_empty(), "first DOWN only starts a run");
    let fx = entries(&rig.down(0, 11));
    assert_eq!(
        fx,
        vec![
            EntryKind::ComponentState {
                component: "api".into(),
                from: HealthState::Up,
                to: HealthState::Down,
                reason: "connection refused".into(),
                since: t(10),
                rto: None,
                rpo: None,
                exposure: None,
            },
            severity_entry(
                Severity::Healthy,
                Severity::Degraded,
                vec!["api DOWN: connection refused".into()]
            ),
        ]
    );
    for i in 12..20 {
        assert!(rig.health(0, i, down_outcome("503")).is_empty());
    }
    assert_eq!(rig.reason(0), "503", "details refresh in place");
    assert_eq!(rig.component(0).health().since(), t(10));
}

#[test]
fn latency_at_or_above_warn_latency_is_degraded() {
    let mut rig = Rig::new(vec![comp("api", Critical, 1).warn_latency(secs(1))]);
    rig.up(0, 0);
    rig.health(
        0,
        1,
        Outcome::Up {
            latency: Duration::from_millis(1200),
            detail: "200 OK".into(),
        },
    );
    let h = rig.state.health(ComponentIx(0)).expect("api");
    assert_eq!(h.state, HealthState::Degraded);
    assert_eq!(h.reason, "slow: 1.2s ≥ 1s");
    assert_eq!(h.latency, Some(Duration::from_millis(1200)));
    assert_eq!(rig.severity(), Severity::Degraded);
    rig.health(
        0,
        2,
        Outcome::Up {
            latency: Duration::from_millis(300),
            detail: "200 OK".into(),
        },
    );
    assert_eq!(rig.shown(0), HealthState::Up);
    assert_eq!(rig.severity(), Severity::Healthy);
}

#[test]
fn cannot_observe_is_unknown_never_down() {
    let mut rig = Rig::new(vec![comp("db", Critical, 1)]);
    rig.up(0, 0);
    rig.health(0, 1, cannot(ObserveError::AccessDenied("rds".into())));
    assert_eq!(rig.shown(0), HealthState::Unknown);
    assert_eq!(rig.reason(0), "access denied: rds");
    assert!(rig.component(0).outage().is_none(), "no outage opened");
    rig.health(0, 2, Outcome::Seconds(3.0));
    assert_eq!(rig.reason(0), "probe answered a number");
}

#[test]
fn stale_critical_component_is_critical_unverified_until_it_answers() {
    let mut rig = Rig::new(vec![comp("db", Critical, 2), comp("api", Standard, 2)]);
    rig.up(0, 1);
    rig.up(1, 1);
    rig.up(1, 44);
    assert!(
        rig.tick(46).is_empty(),
        "45s since the last answer: not stale yet"
    );
    let fx = entries(&rig.tick(47));
    assert_eq!(
        fx,
        vec![
            EntryKind::ComponentState {
                component: "db".into(),
                from: HealthState::Up,
                to: HealthState::Unknown,
                reason: "stale: no answer for 46s".into(),
                since: t(46),
                rto: None,
                rpo: None,
                exposure: None,
            },
            severity_entry(
                Severity::Healthy,
                Severity::Critical { unverified: true },
                vec!["db (critical) UNKNOWN: stale: no answer for 46s".into()]
            ),
        ]
    );
    let h = rig.state.health(ComponentIx(0)).expect("db");
    assert!(h.stale);
    assert_eq!(h.since, t(46));
    // A fresh answer clears it at once (no agreement needed after STALE).
    rig.up(0, 50);
    assert_eq!(rig.shown(0), HealthState::Up);
    assert_eq!(rig.severity(), Severity::Healthy);
}

#[test]
fn a_late_observation_can_be_stale_on_arrival() {
    let mut rig = Rig::new(vec![comp("db", Standard, 1)]);
    rig.up(0, 1);
    rig.tick(100);
    rig.up(0, 101);
    rig.tick(200);
    // Answered at 101, delivered when the clock says 200: already 3 intervals old.
    assert_eq!(rig.shown(0), HealthState::Unknown);
    assert!(rig.state.health(ComponentIx(0)).is_some_and(|h| h.stale));
}

#[test]
fn observing_until_every_probe_answered_once() {
    let mut rig = Rig::new(vec![
        comp("db", Critical, 2)
            .lag(schedule(15, 10, 2), thresholds(30, 60))
            .backup(schedule(60, 20, 2), thresholds(90_000, 93_600)),
    ]);
    rig.up(0, 1);
    assert_eq!(rig.severity(), Severity::Observing);
    rig.lag(0, "dr", 2, Outcome::Seconds(1.0));
    assert_eq!(rig.severity(), Severity::Observing);
    assert_eq!(
        rig.state.assessment().reasons,
        vec![
            "waiting for 1 probe(s) to answer".to_string(),
            "db backup".into()
        ]
    );
    rig.backup(0, 3, Outcome::Seconds(3600.0));
    assert_eq!(rig.severity(), Severity::Healthy);
}

#[test]
fn observing_until_every_probe_timed_out() {
    let mut rig = Rig::new(vec![
        comp("db", Critical, 2).lag(schedule(15, 12, 2), thresholds(30, 60)),
        comp("api", Standard, 2),
    ]);
    rig.up(1, 1);
    rig.tick(9);
    assert_eq!(rig.severity(), Severity::Observing);
    rig.tick(10);
    // db health timed out (10s); its lag has until 12s.
    assert_eq!(rig.severity(), Severity::Observing);
    assert_eq!(rig.reason(0), "no answer within 10s");
    let fx = entries(&rig.tick(12));
    assert_eq!(rig.severity(), Severity::Critical { unverified: true });
    assert_eq!(
        fx,
        vec![severity_entry(
            Severity::Observing,
            Severity::Critical { unverified: true },
            vec![
                "db (critical) UNKNOWN: no answer within 10s".into(),
                "db lag UNKNOWN: no answer within 12s".into()
            ]
        )]
    );
    // The late first answer is adopted at once and is not news when it is UP.
    let fx = entries(&rig.up(0, 13));
    assert_eq!(rig.shown(0), HealthState::Up);
    assert_eq!(fx.len(), 1, "{fx:?}");
}

#[test]
fn minus_one_lag_is_not_running_and_rpo_falls_back_to_backup_age() {
    let mut rig = Rig::new(vec![
        comp("db", Critical, 1)
            .rpo(secs(4 * 3600))
            .lag(schedule(15, 10, 1), thresholds(30, 60))
            .backup(schedule(300, 30, 1), thresholds(90_000, 93_600)),
    ]);
    rig.up(0, 0);
    rig.backup(0, 0, Outcome::Seconds(3600.0));
    rig.lag(0, "dtem-postgres-dr", 0, Outcome::Seconds(2.0));
    let rpo = rig.component(0).rpo().expect("rpo").clone();
    assert_eq!(
        (rpo.exposure, rpo.level),
        (
            Exposure::Replication {
                lag: SignedDuration::from_secs(2)
            },
            RpoLevel::Ok
        )
    );
    let fx = entries(&rig.lag(0, "dtem-postgres-dr", 600, Outcome::Seconds(-1.0)));
    assert_eq!(
        fx[0],
        EntryKind::LagLevel {
            component: "db".into(),
            replica: "dtem-postgres-dr".into(),
            from: LagState::Ok,
            to: LagState::NotRunning,
            value: None,
            detail: Some("replication not running (ReplicaLag -1)".into()),
        }
    );
    let rpo = rig.component(0).rpo().expect("rpo");
    // The backup was 1h old at 0; at 600 it is 1h10m old.
    assert_eq!(
        rpo.exposure,
        Exposure::Backup {
            age: SignedDuration::from_secs(4200)
        }
    );
    assert_eq!(rpo.level, RpoLevel::Ok);
    assert_eq!(rig.severity(), Severity::Degraded);
    // Time passes: the backup ages past half the RPO (2h) at the next Tick.
    rig.backup(0, 3000, Outcome::Seconds(3600.0 + 3000.0));
    rig.lag(0, "dtem-postgres-dr", 3000, Outcome::Seconds(-1.0));
    let fx = entries(&rig.tick(3601));
    assert!(
        fx.contains(&EntryKind::RpoExposure {
            component: "db".into(),
            from: RpoLevel::Ok,
            to: RpoLevel::AtRisk,
            exposure: Exposure::Backup {
                age: SignedDuration::from_secs(7201)
            },
            rpo: SignedDuration::from_secs(4 * 3600),
        }),
        "{fx:?}"
    );
}

#[test]
fn missing_backup_without_replication_breaches_the_rpo() {
    let mut rig = Rig::new(vec![
        comp("db", Critical, 1)
            .rpo(secs(900))
            .lag(schedule(15, 10, 1), thresholds(30, 60))
            .backup(schedule(300, 30, 1), thresholds(90_000, 93_600)),
    ]);
    rig.up(0, 0);
    rig.lag(0, "dr", 0, Outcome::Seconds(-1.0));
    rig.backup(0, 0, down_outcome("no snapshots of dtem-postgres"));
    let rpo = rig.component(0).rpo().expect("rpo");
    assert_eq!(
        (rpo.exposure, rpo.level),
        (Exposure::NoBackup, RpoLevel::Breached)
    );
    assert_eq!(rig.severity(), Severity::Critical { unverified: false });
    // The component is UP, the screen is CRITICAL: the row says why.
    assert_eq!(
        rig.state.rpo_breach(crate::app::ComponentIx(0)).as_deref(),
        Some("no backup, no healthy replica: RPO 15m")
    );
}

#[test]
fn an_old_backup_breaching_the_rpo_is_said_with_its_age_and_a_healthy_rpo_says_nothing() {
    let mut rig = Rig::new(vec![
        comp("db", Critical, 1)
            .rpo(secs(3600))
            .lag(schedule(15, 10, 1), thresholds(30, 60))
            .backup(schedule(300, 30, 1), thresholds(90_000, 93_600)),
    ]);
    rig.up(0, 0);
    rig.lag(0, "dr", 0, Outcome::Seconds(5.0));
    rig.backup(0, 0, Outcome::Seconds(14.0 * 3600.0));
    let ix = crate::app::ComponentIx(0);
    assert_eq!(rig.state.rpo_breach(ix), None, "replication covers it");
    rig.lag(0, "dr", 15, Outcome::Seconds(-1.0));
    rig.tick(16);
    assert_eq!(
        rig.state.rpo_breach(ix).as_deref(),
        Some("backup 14h old > RPO 1h")
    );
}

#[test]
fn no_datapoints_is_unknown_never_zero() {
    let mut rig = Rig::new(vec![
        comp("db", Standard, 2)
            .rpo(secs(900))
            .lag(schedule(60, 10, 2), thresholds(30, 60)),
    ]);
    rig.up(0, 0);
    let fx = entries(&rig.lag(0, "dr", 1, cannot(ObserveError::NoDatapoints)));
    let lag = rig.component(0).lag().expect("lag");
    let r = &lag.replicas()[0];
    assert_eq!(
        r.level(),
        &LagLevel::Unknown(UnknownReason::CannotObserve(ObserveError::NoDatapoints))
    );
    assert_eq!(r.value(), None);
    assert_eq!(lag.best_lag(), None);
    assert!(r.history()[0].is_nan());
    assert_eq!(
        rig.component(0).rpo().map(|r| r.level),
        Some(RpoLevel::Unknown)
    );
    assert_eq!(rig.severity(), Severity::Degraded);
    // Still UNKNOWN (only the reason changed): no lag entry, but OBSERVING is over.
    assert_eq!(
        fx,
        vec![severity_entry(
            Severity::Observing,
            Severity::Degraded,
            vec!["db lag dr UNKNOWN: no datapoints".into()]
        )]
    );
}

#[test]
fn postgres_not_streaming_is_not_running_with_its_detail() {
    let mut rig = Rig::new(vec![
        comp("db", Critical, 2).lag(schedule(15, 10, 2), thresholds(30, 60)),
    ]);
    rig.up(0, 0);
    rig.lag(0, "standby", 0, Outcome::Seconds(0.0));
    let detail = "not streaming, last replay at 2024-05-01T10:00:00Z";
    assert!(rig.lag(0, "standby", 15, down_outcome(detail)).is_empty());
    let fx = entries(&rig.lag(0, "standby", 30, down_outcome(detail)));
    assert_eq!(
        fx[0],
        EntryKind::LagLevel {
            component: "db".into(),
            replica: "standby".into(),
            from: LagState::Ok,
            to: LagState::NotRunning,
            value: None,
            detail: Some(detail.into()),
        }
    );
    let r = &rig.component(0).lag().expect("lag").replicas()[0];
    assert_eq!(r.track().since(), t(15));
    assert_eq!(
        rig.state.assessment().reasons,
        vec![format!("db lag standby NOT RUNNING: {detail}")]
    );
}

#[test]
fn rto_budget_counts_from_the_first_confirmed_down_and_breach_is_recorded_once() {
    let mut rig = Rig::new(vec![comp("db", Critical, 2).rto(secs(60))]);
    rig.up(0, 0);
    assert_eq!(rig.state.rto_budget(ComponentIx(0)), None);
    rig.down(0, 10);
    assert_eq!(
        rig.state.rto_budget(ComponentIx(0)),
        None,
        "not confirmed yet"
    );
    rig.down(0, 25);
    assert_eq!(
        rig.component(0).outage().map(|o| o.down_since),
        Some(t(10)),
        "the outage starts at the first DOWN of the confirming run"
    );
    assert_eq!(
        rig.state.rto_budget(ComponentIx(0)),
        Some(SignedDuration::from_secs(45))
    );
    // UNKNOWN during the outage keeps it open.
    rig.health(0, 40, cannot(ObserveError::Timeout));
    rig.health(0, 55, cannot(ObserveError::Timeout));
    assert_eq!(rig.shown(0), HealthState::Unknown);
    assert!(rig.tick(70).is_empty(), "budget exactly 0 is not breached");
    assert_eq!(
        rig.state.rto_budget(ComponentIx(0)),
        Some(SignedDuration::ZERO)
    );
    rig.health(0, 70, cannot(ObserveError::Timeout));
    let fx = entries(&rig.tick(71));
    assert_eq!(
        fx,
        vec![EntryKind::RtoBreached {
            component: "db".into(),
            down_since: t(10),
            rto: SignedDuration::from_secs(60),
        }]
    );
    assert_eq!(
        rig.state.rto_budget(ComponentIx(0)),
        Some(SignedDuration::from_secs(-1))
    );
    rig.health(0, 72, cannot(ObserveError::Timeout));
    assert!(rig.tick(80).is_empty(), "breach recorded once per outage");
}

#[test]
fn recovery_closes_the_outage_and_reports_the_rto_achieved() {
    let mut rig = Rig::new(vec![comp("db", Critical, 2).rto(secs(3600))]);
    rig.up(0, 0);
    rig.down(0, 100);
    let down = entries(&rig.down(0, 115));
    assert!(
        matches!(
            &down[0],
            EntryKind::ComponentState { rto: Some(rto), rpo: None, exposure: None, .. }
                if *rto == SignedDuration::from_secs(3600)
        ),
        "the DOWN entry carries the target, so a report needs only the journal: {down:?}"
    );
    assert_eq!(rig.severity(), Severity::Critical { unverified: false });
    assert!(rig.up(0, 1900).is_empty());
    let fx = entries(&rig.up(0, 1915));
    assert_eq!(
        fx,
        vec![
            EntryKind::ComponentState {
                component: "db".into(),
                from: HealthState::Down,
                to: HealthState::Up,
                reason: "200 OK".into(),
                since: t(1900),
                rto: Some(SignedDuration::from_secs(3600)),
                rpo: None,
                exposure: None,
            },
            EntryKind::Recovered {
                component: "db".into(),
                down_since: t(100),
                recovered_at: t(1900),
                took: SignedDuration::from_secs(1800),
                rto: Some(SignedDuration::from_secs(3600)),
            },
            severity_entry(
                Severity::Critical { unverified: false },
                Severity::Healthy,
                vec![]
            ),
        ]
    );
    let o = *rig.component(0).outage().expect("outage");
    assert!(!o.is_open());
    assert_eq!(o.achieved(), Some(SignedDuration::from_secs(1800)));
    assert_eq!(rig.state.rto_budget(ComponentIx(0)), None);
    let recovered = rig
        .state
        .timeline
        .iter()
        .filter(|e| matches!(e.known(), Some(EntryKind::Recovered { .. })))
        .count();
    assert_eq!(recovered, 1);
    // A new DOWN after recovery opens a new outage with its own budget.
    rig.down(0, 2000);
    rig.down(0, 2015);
    assert_eq!(
        rig.component(0).outage().map(|o| o.down_since),
        Some(t(2000))
    );
    assert_eq!(
        rig.state.rto_budget(ComponentIx(0)),
        Some(SignedDuration::from_secs(3585))
    );
}

#[test]
fn degraded_during_an_outage_does_not_close_it() {
    let mut rig = Rig::new(vec![comp("api", Critical, 1).rto(secs(600))]);
    rig.down(0, 0);
    rig.health(
        0,
        10,
        Outcome::Degraded {
            detail: "1/3 available".into(),
        },
    );
    assert!(rig.component(0).outage().is_some_and(|o| o.is_open()));
    assert_eq!(
        rig.state.rto_budget(ComponentIx(0)),
        Some(SignedDuration::from_secs(590))
    );
}

#[test]
fn rpo_at_risk_then_breached_from_lag() {
    let mut rig = Rig::new(vec![
        comp("db", Standard, 1)
            .rpo(secs(900))
            .lag(schedule(15, 10, 1), thresholds(3600, 7200)),
    ]);
    rig.up(0, 0);
    assert_eq!(
        entries(&rig.lag(0, "dr", 0, Outcome::Seconds(450.0))),
        vec![severity_entry(
            Severity::Observing,
            Severity::Healthy,
            vec![]
        )],
        "exactly half the RPO is not at risk"
    );
    let fx = entries(&rig.lag(0, "dr", 15, Outcome::Seconds(451.0)));
    assert_eq!(
        fx[0],
        EntryKind::RpoExposure {
            component: "db".into(),
            from: RpoLevel::Ok,
            to: RpoLevel::AtRisk,
            exposure: Exposure::Replication {
                lag: SignedDuration::from_secs(451)
            },
            rpo: SignedDuration::from_secs(900),
        }
    );
    assert_eq!(rig.severity(), Severity::Degraded);
    assert!(rig.lag(0, "dr", 30, Outcome::Seconds(900.0)).is_empty());
    let fx = entries(&rig.lag(0, "dr", 45, Outcome::Seconds(900.5)));
    assert!(matches!(
        fx[0],
        EntryKind::RpoExposure {
            from: RpoLevel::AtRisk,
            to: RpoLevel::Breached,
            ..
        }
    ));
    assert_eq!(
        rig.severity(),
        Severity::Degraded,
        "standard: only DEGRADED"
    );
}

#[test]
fn the_best_replica_sets_the_exposure() {
    let mut rig = Rig::new(vec![
        comp("db", Critical, 1)
            .rpo(secs(900))
            .lag(schedule(15, 10, 1), thresholds(3600, 7200)),
    ]);
    rig.up(0, 0);
    rig.lag(0, "far", 0, Outcome::Seconds(800.0));
    assert_eq!(
        rig.component(0).rpo().map(|r| r.level),
        Some(RpoLevel::AtRisk)
    );
    rig.lag(0, "near", 1, Outcome::Seconds(5.0));
    assert_eq!(rig.component(0).rpo().map(|r| r.level), Some(RpoLevel::Ok));
    assert_eq!(rig.severity(), Severity::Healthy);
}

#[test]
fn ignored_observations_are_counted_not_applied() {
    let mut rig = Rig::new(vec![comp("api", Standard, 1)]);
    rig.up(0, 10);
    assert!(rig.down(0, 5).is_empty(), "older than the last answer");
    assert_eq!(rig.shown(0), HealthState::Up);
    assert!(rig.up(7, 11).is_empty(), "no such component");
    assert!(
        rig.lag(0, "dr", 11, Outcome::Seconds(1.0)).is_empty(),
        "no lag probe"
    );
    assert_eq!(rig.state.ignored(), 3);
    assert_eq!(rig.state.now(), t(11));
}

#[test]
fn now_is_the_latest_event_time() {
    let mut rig = Rig::new(vec![comp("api", Standard, 1)]);
    rig.tick(50);
    rig.up(0, 40);
    assert_eq!(rig.state.now(), t(50));
    rig.up(0, 60);
    assert_eq!(rig.state.now(), t(60));
}

#[test]
fn timeline_keeps_the_newest_ten_thousand() {
    let mut rig = Rig::new(vec![comp("a", Standard, 1), comp("b", Standard, 1)]);
    rig.up(1, 0);
    rig.up(0, 0);
    let mut i = 1;
    while rig.state.timeline.len() < TIMELINE_CAP {
        rig.down(0, i);
        rig.up(0, i);
        i += 1;
    }
    let fx = rig.down(0, i);
    assert!(!fx.is_empty());
    assert_eq!(rig.state.timeline.len(), TIMELINE_CAP);
    assert_eq!(
        rig.state.timeline.back().map(|e| e.at),
        Some(t(i)),
        "newest last"
    );
}

// ------------------------------------------------------------ the incident, by key

fn type_text(rig: &mut Rig, text: &str) {
    for c in text.chars() {
        rig.key(Key::Char(c));
    }
}

#[test]
fn d_declares_and_then_moves_the_status_and_resolve_needs_the_word() {
    let mut rig = Rig::new(vec![comp("api", Critical, 1)]);
    rig.down(0, 10);
    assert!(rig.key(Key::Char('d')).is_empty());
    assert!(matches!(rig.state.dialog, Some(Dialog::Declare { .. })));
    type_text(&mut rig, "api down, q is a letter here");
    let fx = rig.key(Key::Enter);
    assert!(
        matches!(&fx[..], [Effect::Declare { title, .. }] if title == "api down, q is a letter here"),
        "{fx:?}"
    );
    assert!(rig.state.dialog.is_none());
    let i = rig.state.open_incident().expect("declared and followed");
    assert_eq!(i.status, IncidentStatus::Investigating);

    rig.key(Key::Char('d'));
    assert!(
        rig.key(Key::Enter).is_empty(),
        "a bare Enter chooses nothing"
    );
    rig.key(Key::Right);
    let fx = rig.key(Key::Enter);
    assert_eq!(
        entries(&fx),
        vec![EntryKind::Status {
            from: IncidentStatus::Investigating,
            to: IncidentStatus::Identified
        }]
    );
    assert_eq!(
        rig.state.incident.as_ref().map(|i| i.status),
        Some(IncidentStatus::Identified)
    );

    rig.key(Key::Char('d'));
    rig.key(Key::Right); // monitoring
    rig.key(Key::Right); // resolved
    assert!(rig.key(Key::Enter).is_empty(), "not without the word");
    type_text(&mut rig, "resolve");
    let fx = rig.key(Key::Enter);
    assert!(matches!(
        entries(&fx)[..],
        [EntryKind::Status {
            to: IncidentStatus::Resolved,
            ..
        }]
    ));
    assert!(rig.state.incident.as_ref().is_some_and(|i| !i.is_open()));
}

#[test]
fn n_records_a_note_and_esc_records_nothing() {
    let mut rig = Rig::new(vec![comp("api", Critical, 1)]);
    rig.key(Key::Char('n'));
    type_text(&mut rig, "paged the DBA");
    assert!(rig.key(Key::Esc).is_empty());
    assert!(rig.state.dialog.is_none());
    rig.key(Key::Char('n'));
    type_text(&mut rig, "follow-up: alert on lag");
    let fx = rig.key(Key::Enter);
    assert_eq!(
        entries(&fx),
        vec![EntryKind::Note {
            text: "follow-up: alert on lag".into()
        }]
    );
    assert_eq!(
        rig.state.timeline.back().map(|r| r.describe()),
        Some("note: follow-up: alert on lag".into()),
        "the note is on the timeline once the journal has it"
    );
}

#[test]
fn a_read_only_console_opens_no_dialog_and_asks_for_no_write_whatever_the_keys() {
    let mut rig = Rig::new(vec![comp("api", Critical, 1)]);
    rig.state.read_only = true;
    let mut keys: Vec<Key> = "dnq?/ abcdefghijklmnopqrstuvwxyz0123456789resolve"
        .chars()
        .map(Key::Char)
        .collect();
    keys.extend([
        Key::Enter,
        Key::Esc,
        Key::Tab,
        Key::BackTab,
        Key::Up,
        Key::Down,
        Key::Left,
        Key::Right,
        Key::Backspace,
        Key::PageUp,
        Key::PageDown,
        Key::Home,
        Key::End,
        Key::Paste("d\nresolve\n".into()),
    ]);
    for k in keys.iter().chain(keys.iter().rev()) {
        for fx in rig.key(k.clone()) {
            assert!(
                matches!(fx, Effect::Quit),
                "read-only console asked for {fx:?} on {k:?}"
            );
        }
        assert!(rig.state.dialog.is_none(), "no dialog on {k:?}");
    }
    rig.state.view.help = false;
    rig.state.view.editing_filter = false;
    rig.key(Key::Char('d'));
    assert_eq!(
        rig.state.view.flash.as_deref(),
        Some("read-only console: cannot declare or change status")
    );
}

#[test]
fn a_console_that_is_not_the_recorder_asks_for_no_automatic_entry() {
    let mut rig = Rig::new(vec![comp("api", Critical, 1)]);
    update(
        &mut rig.state,
        Event::Journal(JournalEvent::Recorder {
            me: false,
            holder: Some("bo@h pid 7".into()),
        }),
    );
    assert!(entries(&rig.down(0, 10)).is_empty());
    assert_eq!(rig.shown(0), HealthState::Down, "it still sees it");
    rig.key(Key::Char('n'));
    type_text(&mut rig, "seen here too");
    assert_eq!(
        entries(&rig.key(Key::Enter)).len(),
        1,
        "people's entries are written"
    );
}

#[test]
fn without_a_journal_d_and_n_say_why_they_do_nothing() {
    let mut state = State::new(
        Estate::new(vec![comp("api", Critical, 1)]),
        t(0),
        crate::app::Setup::default(),
    );
    assert!(update(&mut state, Event::Key(Key::Char('d'))).is_empty());
    assert!(state.dialog.is_none());
    assert_eq!(
        state.view.flash.as_deref(),
        Some("no journal: nothing can be recorded")
    );
}

#[test]
fn a_console_that_becomes_the_recorder_writes_what_the_journal_missed() {
    let mut rig = Rig::new(vec![comp("api", Critical, 1), comp("db", Critical, 1)]);
    // Recorded by this console while it records.
    rig.down(0, 10);
    update(
        &mut rig.state,
        Event::Journal(JournalEvent::Recorder {
            me: false,
            holder: Some("bo@h pid 7".into()),
        }),
    );
    // The other recorder wrote this one (not seen here: it is another console's line);
    // this console saw it too, and later what the other never wrote (it died).
    rig.down(1, 20);
    let fx = update(
        &mut rig.state,
        Event::Journal(JournalEvent::Recorder {
            me: true,
            holder: None,
        }),
    );
    let kinds = entries(&fx);
    assert!(
        kinds
            .iter()
            .any(|k| matches!(k, EntryKind::ComponentState { component, .. } if component == "db")),
        "the DOWN nobody recorded is written on takeover: {kinds:?}"
    );
    assert!(
        !kinds.iter().any(
            |k| matches!(k, EntryKind::ComponentState { component, .. } if component == "api")
        ),
        "what the journal has is not written twice: {kinds:?}"
    );
}

#[test]
fn a_takeover_does_not_write_again_what_the_last_recorder_saw_a_second_earlier() {
    let mut rig = Rig::new(vec![comp("api", Critical, 1), comp("db", Critical, 1)]);
    rig.up(0, 1);
    rig.up(1, 1);
    update(
        &mut rig.state,
        Event::Journal(JournalEvent::Recorder {
            me: false,
            holder: Some("bo@h pid 7".into()),
        }),
    );
    // This console sees db DOWN at 20; the other recorder saw it at 19 and wrote it.
    rig.down(1, 20);
    let theirs = vec![
        Effect::Append(Entry {
            at: t(19),
            kind: EntryKind::ComponentState {
                component: "db".into(),
                from: HealthState::Up,
                to: HealthState::Down,
                reason: "refused".into(),
                since: t(19),
                rto: None,
                rpo: None,
                exposure: None,
            },
        }),
        Effect::Append(Entry {
            at: t(19),
            kind: EntryKind::Severity {
                from: Severity::Healthy,
                to: Severity::Critical { unverified: false },
                reasons: vec!["db (critical) DOWN: refused".into()],
            },
        }),
    ];
    rig.journal.echo(&mut rig.state, &theirs);
    // Then the other died before writing api's DOWN, which this console saw.
    rig.down(0, 30);
    let fx = update(
        &mut rig.state,
        Event::Journal(JournalEvent::Recorder {
            me: true,
            holder: None,
        }),
    );
    let kinds = entries(&fx);
    assert!(
        !kinds
            .iter()
            .any(|k| matches!(k, EntryKind::ComponentState { component, .. } if component == "db")),
        "db's DOWN is in the journal already, a second earlier: {kinds:?}"
    );
    assert!(
        kinds.iter().any(
            |k| matches!(k, EntryKind::ComponentState { component, .. } if component == "api")
        ),
        "api's DOWN nobody wrote is: {kinds:?}"
    );
    assert!(
        kinds.iter().any(|k| matches!(
            k,
            EntryKind::Severity {
                to: Severity::Emergency,
                ..
            }
        )),
        "the severity it reached since: {kinds:?}"
    );
}
