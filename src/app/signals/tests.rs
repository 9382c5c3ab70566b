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
