use super::*;
use crate::app::observe::slots;
use crate::config::load::load_embedded_example;
use crate::config::{Dsn, Runbook};
use crate::drill::Scenario;

fn t0() -> Timestamp {
    Timestamp::from_second(1_700_000_000).expect("valid")
}

/// Seconds after the start.
fn t(s: u64) -> Timestamp {
    add(t0(), Duration::from_secs(s))
}

fn world(config: &Config, scenario: &str) -> SimWorld {
    SimWorld::new(
        config,
        &Scenario::builtin(scenario).expect("built in"),
        t0(),
    )
    .unwrap_or_else(|d| panic!("{d}"))
}

fn ix(w: &SimWorld, id: &str) -> ComponentIx {
    w.estate().ix(id).expect("component")
}

fn health(w: &mut SimWorld, id: &str, at: Timestamp) -> Outcome {
    let i = ix(w, id);
    w.observe(i, &Signal::Health, at)
}

fn lag(w: &mut SimWorld, id: &str, at: Timestamp) -> Outcome {
    let i = ix(w, id);
    w.observe(
        i,
        &Signal::Lag {
            replica: "dtem-postgres-dr-replica".into(),
        },
        at,
    )
}

fn backup(w: &mut SimWorld, id: &str, at: Timestamp) -> Outcome {
    let i = ix(w, id);
    w.observe(i, &Signal::BackupAge, at)
}

fn state(o: &Outcome) -> &'static str {
    match o {
        Outcome::Up { .. } => "up",
        Outcome::Degraded { .. } => "degraded",
        Outcome::Down { .. } => "down",
        Outcome::CannotObserve { .. } => "unknown",
        Outcome::Seconds(_) => "seconds",
    }
}

fn detail(o: &Outcome) -> String {
    match o {
        Outcome::Up { detail, .. } | Outcome::Degraded { detail } | Outcome::Down { detail } => {
            detail.clone()
        }
        Outcome::CannotObserve { reason } => reason.to_string(),
        Outcome::Seconds(s) => s.to_string(),
    }
}

fn runbook<'c>(config: &'c Config, id: &str) -> &'c Runbook {
    config
        .runbooks
        .iter()
        .find(|r| r.id == id)
        .expect("runbook")
}

fn step<'c>(config: &'c Config, runbook_id: &str, step_id: &str) -> &'c Step {
    runbook(config, runbook_id)
        .steps
        .iter()
        .find(|s| s.id == step_id)
        .expect("step")
}

fn no_inputs() -> BTreeMap<String, String> {
    BTreeMap::new()
}

#[test]
fn region_outage_at_ten_seconds() {
    let config = load_embedded_example();
    let mut w = world(&config, "region-outage");
    // From the first instant: the primary database is unreachable, the lag starts climbing.
    let db = health(&mut w, "db-primary", t(0));
    assert_eq!(state(&db), "down");
    assert_eq!(
        detail(&db),
        "no route to host (db.dtem.internal:5432 → dtem-postgres, us-east-1)"
    );
    assert_eq!(lag(&mut w, "db-primary", t(0)), Outcome::Seconds(1.0));
    match health(&mut w, "web-apps", t(0)) {
        Outcome::Up { latency, .. } => assert_eq!(latency, Duration::from_millis(2500)),
        other => panic!("web-apps slow at first: {other:?}"),
    }
    assert_eq!(
        health(&mut w, "config-secrets", t(0)),
        Outcome::CannotObserve {
            reason: ObserveError::Unreachable(
                "EKS API dtem-us-east-1: dial tcp: i/o timeout".into()
            )
        }
    );

    assert_eq!(state(&health(&mut w, "db-primary", t(10))), "down");
    assert_eq!(lag(&mut w, "db-primary", t(10)), Outcome::Seconds(11.0));
    assert_eq!(lag(&mut w, "db-primary", t(70)), Outcome::Seconds(71.0));
    assert_eq!(state(&health(&mut w, "message-queue", t(70))), "down");
    assert_eq!(state(&health(&mut w, "cache-redis", t(70))), "down");
    assert_eq!(
        detail(&health(&mut w, "web-apps", t(70))),
        "HTTP 503 Service Unavailable (no healthy targets)"
    );
    assert_eq!(state(&health(&mut w, "file-storage", t(70))), "down");
    // Backups age from where they were: snapshot copies have stopped.
    assert_eq!(
        backup(&mut w, "db-primary", t(70)),
        Outcome::Seconds((14 * 3600 + 70) as f64)
    );
    assert_eq!(
        backup(&mut w, "file-storage", t(70)),
        Outcome::Seconds((3 * 60 + 70) as f64)
    );
    // The DR side is fine.
    assert_eq!(
        health(&mut w, "db-dr", t(70)),
        Outcome::Up {
            latency: Duration::from_millis(90),
            detail: "available (read replica of dtem-postgres)".into()
        }
    );
    assert_eq!(detail(&health(&mut w, "apps-dr", t(70))), "1/1 available");
}

#[test]
fn promoting_the_replica_brings_db_dr_up_after_the_delay() {
    let config = load_embedded_example();
    let mut w = world(&config, "region-outage");
    let promote = step(&config, "l3-region-failover", "promote-db");
    let act = w.act(promote, &no_inputs(), t(60));
    assert_eq!(act.call, Duration::from_secs(2));
    assert_eq!(
        act.outcome,
        StepOutcome::Succeeded {
            summary: "dtem-postgres-dr-replica is being promoted to a standalone primary".into()
        }
    );
    assert_eq!(
        act.lines,
        ["PromoteReadReplica dtem-postgres-dr-replica (us-west-2): accepted, status modifying"]
    );
    assert_eq!(act.status, "PromoteReadReplica dtem-postgres-dr-replica…");
    assert_eq!(act.wait, None);

    // During the call: still the replica; then modifying for the 90 s delay; then a primary.
    assert_eq!(state(&health(&mut w, "db-dr", t(61))), "up");
    assert_eq!(lag(&mut w, "db-primary", t(61)), Outcome::Seconds(62.0));
    assert_eq!(
        health(&mut w, "db-dr", t(62)),
        Outcome::Degraded {
            detail: "modifying (promoting read replica)".into()
        }
    );
    // The replica is a primary now: its replication lag is "not running" (CloudWatch −1).
    assert_eq!(lag(&mut w, "db-primary", t(62)), Outcome::Seconds(-1.0));
    assert_eq!(state(&health(&mut w, "db-dr", t(151))), "degraded");
    assert_eq!(
        detail(&health(&mut w, "db-dr", t(152))),
        "available (promoted to primary)"
    );
    assert_eq!(state(&health(&mut w, "db-dr", t(152))), "up");
    // The old primary's region is still gone.
    assert_eq!(state(&health(&mut w, "db-primary", t(600))), "down");
}

#[test]
fn the_dns_switch_brings_the_public_side_back_from_the_dr_region() {
    let config = load_embedded_example();
    let mut w = world(&config, "region-outage");
    let dns = step(&config, "l3-region-failover", "update-dns");
    let act = w.act(dns, &no_inputs(), t(200));
    assert!(act.outcome.succeeded());
    // A command takes 3 s; the effects land 60 s (90 s for the cache) after it completed.
    assert_eq!(act.call, Duration::from_secs(3));
    assert_eq!(state(&health(&mut w, "web-apps", t(262))), "down");
    assert_eq!(state(&health(&mut w, "db-primary", t(262))), "down");
    assert_eq!(
        health(&mut w, "web-apps", t(263)),
        Outcome::Up {
            latency: Duration::from_millis(180),
            detail: "HTTP 200 (served from us-west-2)".into()
        }
    );
    assert_eq!(state(&health(&mut w, "message-queue", t(263))), "up");
    // The database's writer name moves with the others: db-primary reaches the DR instance.
    assert_eq!(
        detail(&health(&mut w, "db-primary", t(263))),
        "accepting connections (primary; db.dtem.internal → dtem-postgres-dr-replica, us-west-2)"
    );
    assert_eq!(state(&health(&mut w, "db-primary", t(263))), "up");
    assert_eq!(state(&health(&mut w, "cache-redis", t(292))), "down");
    assert_eq!(state(&health(&mut w, "cache-redis", t(293))), "up");
    // The same effect for the failover runbook's step 7.
    let mut w = world(&config, "region-outage");
    w.act(step(&config, "failover", "dns"), &no_inputs(), t(0));
    assert_eq!(state(&health(&mut w, "web-apps", t(63))), "up");
}

#[test]
fn stop_writes_holds_the_lag_for_the_failover_prechecks() {
    let config = load_embedded_example();
    let mut w = world(&config, "region-outage");
    // us-east-1 is back at 40 min: its writes can be stopped from then on.
    let at = 2430;
    let before = lag(&mut w, "db-primary", t(at - 1));
    let act = w.act(
        step(&config, "failover", "stop-writes"),
        &no_inputs(),
        t(at),
    );
    assert!(act.outcome.succeeded(), "{:?}", act.outcome);
    assert_ne!(before, Outcome::Seconds(2.0));
    assert_eq!(lag(&mut w, "db-primary", t(at + 3)), Outcome::Seconds(2.0));
    assert_eq!(
        lag(&mut w, "db-primary", t(at + 900)),
        Outcome::Seconds(2.0)
    );
}

#[test]
fn actions_aimed_at_the_lost_region_fail_and_change_nothing() {
    let config = load_embedded_example();
    let mut w = world(&config, "region-outage");
    let restart = step(&config, "l1-api-gateway", "restart");
    let act = w.act(restart, &no_inputs(), t(10));
    assert_eq!(
        act.outcome,
        StepOutcome::Failed {
            reason: "Unable to connect to the server: dial tcp 10.20.0.10:443: i/o timeout".into()
        }
    );
    let pitr = step(&config, "db-restore-pitr", "restore");
    let inputs = BTreeMap::from([("time".to_string(), "2023-11-14T22:00:00Z".to_string())]);
    let act = w.act(pitr, &inputs, t(20));
    assert_eq!(
        act.outcome,
        StepOutcome::Failed {
            reason: REGION_DOWN.into()
        }
    );
    // The same step ids in the DR region work: the context decides.
    let restart_dr = step(&config, "db-restore-snapshot", "restart-api-gateway");
    assert!(w.act(restart_dr, &no_inputs(), t(30)).outcome.succeeded());
}

const REGION_DOWN: &str = "connect timeout: us-east-1 does not answer (https://rds.us-east-1.amazonaws.com/, the EKS API and every endpoint in the region)";

/// A command says the region it acts in: during the outage "stop writes in us-east-1" (the
/// planned failover's step, the wrong runbook here) fails like the real kubectl would; the
/// DR side's script and a region-less command (the Route 53 change) still run; after the
/// region returns (40 min) us-east-1 answers again.
#[test]
fn a_command_into_the_lost_region_fails_like_a_real_call() {
    let config = load_embedded_example();
    let mut w = world(&config, "region-outage");
    let stop_writes = step(&config, "failover", "stop-writes");
    assert!(
        matches!(&stop_writes.action, Action::Command { region: Some(r), .. } if r == "us-east-1"),
        "the example says where it acts: {:?}",
        stop_writes.action
    );
    let act = w.act(stop_writes, &no_inputs(), t(10));
    assert_eq!(
        act.outcome,
        StepOutcome::Failed {
            reason: REGION_DOWN.into()
        }
    );
    let identify = step(&config, "l1-api-gateway", "identify");
    assert!(!w.act(identify, &no_inputs(), t(15)).outcome.succeeded());
    let activate = step(&config, "failover", "activate-services");
    assert!(w.act(activate, &no_inputs(), t(20)).outcome.succeeded());
    let dns = step(&config, "l3-region-failover", "update-dns");
    assert!(w.act(dns, &no_inputs(), t(25)).outcome.succeeded());
    let identify = step(&config, "l1-api-gateway", "identify");
    assert!(
        w.act(identify, &no_inputs(), t(41 * 60))
            .outcome
            .succeeded()
    );
}

#[test]
fn scaling_the_dr_deployment_is_degraded_then_up() {
    let config = load_embedded_example();
    let mut w = world(&config, "region-outage");
    let scale = step(&config, "l3-region-failover", "scale-api-gateway");
    let act = w.act(scale, &no_inputs(), t(100));
    assert_eq!(act.call, Duration::from_secs(1));
    assert_eq!(
        act.outcome,
        StepOutcome::Succeeded {
            summary: "api-gateway scaled to 5".into()
        }
    );
    assert_eq!(detail(&health(&mut w, "apps-dr", t(100))), "1/1 available");
    assert_eq!(
        health(&mut w, "apps-dr", t(101)),
        Outcome::Degraded {
            detail: "1/5 available".into()
        }
    );
    let d = Deployment {
        context: Some("dtem-us-west-2".into()),
        namespace: "dtem-prod".into(),
        name: "api-gateway".into(),
    };
    assert_eq!(
        w.deployment(&d, t(120)),
        (false, "api-gateway: 1/5 available".to_string())
    );
    assert_eq!(detail(&health(&mut w, "apps-dr", t(161))), "5/5 available");
    assert_eq!(
        w.deployment(&d, t(161)),
        (true, "api-gateway: 5/5 available".to_string())
    );
}

#[test]
fn unwatched_deployments_are_available_unless_rolling_out() {
    let config = load_embedded_example();
    let mut w = world(&config, "region-outage");
    let d = Deployment {
        context: Some("dtem-us-west-2".into()),
        namespace: "dtem-prod".into(),
        name: "dte-service".into(),
    };
    assert_eq!(
        w.deployment(&d, t(5)),
        (true, "dte-service: available".into())
    );
    w.act(
        step(&config, "l3-region-failover", "scale-dte-service"),
        &no_inputs(),
        t(10),
    );
    assert_eq!(
        w.deployment(&d, t(70)),
        (false, "dte-service: rolling out".into())
    );
    assert_eq!(
        w.deployment(&d, t(71)),
        (true, "dte-service: available".into())
    );
    let wait = w.act(
        step(&config, "l3-region-failover", "wait-dte-service"),
        &no_inputs(),
        t(80),
    );
    assert_eq!(wait.wait, Some((d, Duration::from_secs(600))));
}

#[test]
fn http_actions_fail_while_the_host_is_down() {
    let config = load_embedded_example();
    let mut w = world(&config, "region-outage");
    let verify = step(&config, "l3-region-failover", "verify-services");
    assert_eq!(
        w.act(verify, &no_inputs(), t(30)).outcome,
        StepOutcome::Failed {
            reason: "GET https://api.dtem.empresa.cl/health/db: HTTP 503 Service Unavailable (no healthy targets)".into()
        }
    );
    w.act(
        step(&config, "l3-region-failover", "update-dns"),
        &no_inputs(),
        t(40),
    );
    assert_eq!(
        w.act(verify, &no_inputs(), t(200)).outcome,
        StepOutcome::Succeeded {
            summary: "GET https://api.dtem.empresa.cl/health/db: HTTP 200".into()
        }
    );
}

#[test]
fn restores_check_their_inputs_and_snapshots() {
    let config = load_embedded_example();
    let mut w = world(&config, "steady");
    let pitr = step(&config, "db-restore-pitr", "restore");
    let fails = |w: &mut SimWorld, inputs: &[(&str, &str)]| {
        let inputs = inputs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match w.act(pitr, &inputs, t(100)).outcome {
            StepOutcome::Failed { reason } => reason,
            StepOutcome::Succeeded { summary }
            | StepOutcome::Checked { summary, .. }
            | StepOutcome::StillCreating { summary, .. } => format!("ok: {summary}"),
        }
    };
    assert_eq!(fails(&mut w, &[]), "no restore time given (input `time`)");
    assert!(
        fails(&mut w, &[("time", "yesterday")])
            .starts_with("restore time \"yesterday\" is not RFC 3339")
    );
    assert_eq!(
        fails(&mut w, &[("time", "2030-01-01T00:00:00Z")]),
        "restore time 2030-01-01T00:00:00Z is in the future (now 2023-11-14T22:15:00Z)"
    );
    assert_eq!(
        fails(&mut w, &[("time", "2023-11-14T22:00:00Z")]),
        "ok: dtem-postgres-pitr is being restored from dtem-postgres as of 2023-11-14T22:00:00Z"
    );

    let snapshot = step(&config, "db-restore-snapshot", "restore");
    let act = w.act(snapshot, &no_inputs(), t(100));
    assert_eq!(
        act.outcome,
        StepOutcome::Succeeded {
            summary: "dtem-postgres-restored is being restored from the newest snapshot of dtem-postgres (taken 6h16m ago)".into()
        }
    );
    // With the backups missing, there is nothing to restore from.
    let s = Scenario::parse(
        std::path::Path::new("s.toml"),
        "name = \"s\"\n[[event]]\nat = \"0s\"\ncomponent = \"db-primary\"\nbackup_age = \"missing\"\n",
    )
    .expect("valid");
    let mut w = SimWorld::new(&config, &s, t0()).expect("fits");
    assert_eq!(
        backup(&mut w, "db-primary", t(1)),
        Outcome::Down {
            detail: "no backup found".into()
        }
    );
    assert_eq!(
        w.act(snapshot, &no_inputs(), t(5)).outcome,
        StepOutcome::Failed {
            reason: "no snapshot of dtem-postgres found in us-west-2".into()
        }
    );
}

#[test]
fn every_action_kind_runs() {
    let config = load_embedded_example();
    let mut w = world(&config, "steady");
    let mut kinds = std::collections::BTreeSet::new();
    for (i, s) in config.runbooks.iter().flat_map(|r| &r.steps).enumerate() {
        let inputs = BTreeMap::from([("time".to_string(), "2023-11-14T22:00:00Z".to_string())]);
        let act = w.act(s, &inputs, t(10 * i as u64));
        assert!(act.outcome.succeeded(), "{}: {:?}", s.id, act.outcome);
        kinds.insert(s.action.kind());
    }
    // The example has every kind but a cluster failover.
    assert_eq!(kinds.len(), 10, "{kinds:?}");
    let failover = Step {
        id: "aurora".into(),
        title: "Fail over".into(),
        key: 'x',
        action: Action::RdsFailoverCluster {
            cluster: "dtem-aurora".into(),
            target_instance: Some("dtem-aurora-2".into()),
            region: "us-east-1".into(),
        },
        confirm: "dtem-aurora".into(),
        requires: vec![],
        precheck: vec![],
        verify: None,
        inputs: vec![],
        component: None,
    };
    assert_eq!(
        w.act(&failover, &no_inputs(), t(1000)).outcome,
        StepOutcome::Succeeded {
            summary: "dtem-aurora is failing over to dtem-aurora-2".into()
        }
    );
}

#[test]
fn steady_is_quiet() {
    let config = load_embedded_example();
    let mut w = world(&config, "steady");
    let estate = w.estate().clone();
    let slots = slots(&config, &estate);
    let rounds = w.rounds(&slots, Duration::ZERO..Duration::from_secs(3600));
    let mut last: BTreeMap<String, Outcome> = BTreeMap::new();
    let mut changes = 0;
    for o in &rounds {
        if o.signal == Signal::BackupAge {
            // Ages grow, and start again when a backup is taken: never near warn.
            let Outcome::Seconds(age) = o.outcome else {
                panic!("an age")
            };
            let spec = estate
                .get(o.component)
                .and_then(|c| c.backup.as_ref())
                .expect("spec");
            assert!(age < spec.thresholds.warn.as_secs_f64() / 2.0);
            continue;
        }
        if o.signal != Signal::Health {
            assert_eq!(o.outcome, Outcome::Seconds(DEFAULT_LAG));
        }
        let key = format!("{:?} {:?}", o.component, o.signal);
        if last
            .insert(key, o.outcome.clone())
            .is_some_and(|p| p != o.outcome)
        {
            changes += 1;
        }
        if o.signal == Signal::Health {
            assert_eq!(state(&o.outcome), "up", "{o:?}");
        }
    }
    assert_eq!(changes, 0, "health and lag never change in steady");
    assert_eq!(
        health(&mut w, "web-apps", t(10)),
        Outcome::Up {
            latency: Duration::from_millis(120),
            detail: "HTTP 200".into()
        }
    );
    assert_eq!(
        detail(&health(&mut w, "message-queue", t(10))),
        "connected to mq.dtem.internal:5671"
    );
    assert_eq!(
        detail(&health(&mut w, "config-secrets", t(10))),
        "3/3 available"
    );
}

#[test]
fn the_same_inputs_give_the_same_world() {
    let config = load_embedded_example();
    let run = || {
        let mut w = world(&config, "region-outage");
        let estate = w.estate().clone();
        let slots = slots(&config, &estate);
        let mut out = w.rounds(&slots, Duration::ZERO..Duration::from_secs(100));
        w.act(
            step(&config, "l3-region-failover", "promote-db"),
            &no_inputs(),
            t(100),
        );
        out.extend(w.rounds(&slots, Duration::from_secs(100)..Duration::from_secs(300)));
        out
    };
    assert_eq!(run(), run());
}

#[test]
fn rounds_follow_each_probe_schedule_in_time_order() {
    let config = load_embedded_example();
    let mut w = world(&config, "steady");
    let estate = w.estate().clone();
    let slots = slots(&config, &estate);
    let rounds = w.rounds(&slots, Duration::ZERO..Duration::from_secs(61));
    // Spans compose.
    let mut again = world(&config, "steady");
    let mut split = again.rounds(&slots, Duration::ZERO..Duration::from_secs(30));
    split.extend(again.rounds(&slots, Duration::from_secs(30)..Duration::from_secs(61)));
    assert_eq!(split, rounds);
    // 11 probes at 0; the 15 s ones (6) at 15, 30, 45, 60; the 30 s one at 30, 60; the
    // 60 s ones (lag, file-storage health) at 60.
    assert_eq!(rounds.iter().filter(|o| o.at == t(0)).count(), 11);
    assert_eq!(rounds.iter().filter(|o| o.at == t(15)).count(), 6);
    assert_eq!(rounds.iter().filter(|o| o.at == t(30)).count(), 7);
    assert_eq!(rounds.iter().filter(|o| o.at == t(60)).count(), 9);
    assert!(rounds.windows(2).all(|p| p[0].at <= p[1].at));
}

#[test]
fn postgres_standby_lag_and_no_data() {
    let mut config = load_embedded_example();
    let db = config
        .components
        .iter_mut()
        .find(|c| c.id == "db-primary")
        .expect("db-primary");
    db.lag.as_mut().expect("lag").kind = LagKind::PostgresReplica {
        dsn: Dsn::Env("PG_STANDBY".into()),
    };
    let s = Scenario::parse(
        std::path::Path::new("s.toml"),
        "name = \"s\"\n[[event]]\nat = \"10s\"\ncomponent = \"db-primary\"\nlag = \"not_running\"\n\n[[event]]\nat = \"20s\"\ncomponent = \"db-primary\"\nlag = \"no_data\"\n[[event]]\nat = \"30s\"\ncomponent = \"db-primary\"\nlag = \"4s\"\nlag_rate = \"30s/m\"\n",
    )
    .expect("valid");
    let mut w = SimWorld::new(&config, &s, t0()).expect("fits");
    let i = ix(&w, "db-primary");
    let standby = Signal::Lag {
        replica: "standby".into(),
    };
    assert_eq!(w.observe(i, &standby, t(5)), Outcome::Seconds(1.0));
    assert_eq!(
        w.observe(i, &standby, t(15)),
        Outcome::Down {
            detail: "not streaming, last replay at 2023-11-14T22:13:30Z".into()
        }
    );
    assert_eq!(
        w.observe(i, &standby, t(25)),
        Outcome::CannotObserve {
            reason: ObserveError::NoDatapoints
        }
    );
    assert_eq!(w.observe(i, &standby, t(50)), Outcome::Seconds(14.0));
    // Time does not go back: asking about the past answers for the latest moment.
    assert_eq!(w.observe(i, &standby, t(40)), Outcome::Seconds(14.0));
}

/// A scenario of its own, on the example estate.
fn scenario(text: &str) -> Scenario {
    Scenario::parse(std::path::Path::new("s.toml"), text).unwrap_or_else(|d| panic!("{d}"))
}

#[test]
fn a_promoted_replica_stays_promoted_until_a_step_rebuilds_it() {
    let config = load_embedded_example();
    // The timeline says the replication runs again at 100 s and at 300 s; the failover's
    // stop-writes effect sets the lag as a step would after rebuilding the replica.
    let s = scenario(
        "name = \"s\"\n\
         [[event]]\nat = \"100s\"\ncomponent = \"db-primary\"\nlag = \"3s\"\nlag_rate = \"0s/s\"\n\
         [[event]]\nat = \"300s\"\ncomponent = \"db-primary\"\nlag = \"4s\"\n\
         [[effect]]\nstep = \"stop-writes\"\ncomponent = \"db-primary\"\nlag = \"2s\"\n",
    );
    let mut w = SimWorld::new(&config, &s, t0()).expect("fits");
    let promote = step(&config, "l3-region-failover", "promote-db");
    assert!(w.act(promote, &no_inputs(), t(10)).outcome.succeeded());
    assert_eq!(lag(&mut w, "db-primary", t(50)), Outcome::Seconds(-1.0));
    // Time alone does not make the promoted replica replicate again.
    assert_eq!(lag(&mut w, "db-primary", t(150)), Outcome::Seconds(-1.0));
    // A step's effect does, and ends the rule: the timeline applies again.
    let stop = step(&config, "failover", "stop-writes");
    assert!(w.act(stop, &no_inputs(), t(200)).outcome.succeeded());
    assert_eq!(lag(&mut w, "db-primary", t(202)), Outcome::Seconds(-1.0));
    assert_eq!(lag(&mut w, "db-primary", t(203)), Outcome::Seconds(2.0));
    assert_eq!(lag(&mut w, "db-primary", t(300)), Outcome::Seconds(4.0));

    // Without the promotion, the same timeline applies.
    let mut w = SimWorld::new(&config, &s, t0()).expect("fits");
    assert_eq!(lag(&mut w, "db-primary", t(150)), Outcome::Seconds(3.0));
}

#[test]
fn the_rule_keeps_the_rest_of_an_event() {
    let config = load_embedded_example();
    let s = scenario(
        "name = \"s\"\n\
         [[event]]\nat = \"100s\"\ncomponent = \"db-primary\"\nhealth = \"down\"\nlag = \"3s\"\nbackup_age = \"1h\"\n",
    );
    let mut w = SimWorld::new(&config, &s, t0()).expect("fits");
    let promote = step(&config, "l3-region-failover", "promote-db");
    w.act(promote, &no_inputs(), t(10));
    // Only the replication is the promoted replica's: the health and the backups change.
    assert_eq!(state(&health(&mut w, "db-primary", t(100))), "down");
    assert_eq!(
        backup(&mut w, "db-primary", t(100)),
        Outcome::Seconds(3600.0)
    );
    assert_eq!(lag(&mut w, "db-primary", t(100)), Outcome::Seconds(-1.0));
}

#[test]
fn an_event_unless_a_step_ran_before_it() {
    let config = load_embedded_example();
    let s = scenario(
        "name = \"s\"\n\
         [[event]]\nat = \"100s\"\ncomponent = \"web-apps\"\nhealth = \"down\"\nunless_step = [\"update-dns\", \"dns\"]\n",
    );
    // Nobody switched DNS: the event happens.
    let mut w = SimWorld::new(&config, &s, t0()).expect("fits");
    assert_eq!(state(&health(&mut w, "web-apps", t(100))), "down");
    // One of the steps ran before it: it does not.
    let mut w = SimWorld::new(&config, &s, t0()).expect("fits");
    w.act(step(&config, "failover", "dns"), &no_inputs(), t(50));
    assert_eq!(state(&health(&mut w, "web-apps", t(100))), "up");
    // Run after it: too late to stop it.
    let mut w = SimWorld::new(&config, &s, t0()).expect("fits");
    assert_eq!(state(&health(&mut w, "web-apps", t(100))), "down");
    w.act(step(&config, "failover", "dns"), &no_inputs(), t(150));
    assert_eq!(state(&health(&mut w, "web-apps", t(200))), "down");
    // A step that failed did not run.
    let s = scenario(
        "name = \"s\"\n\
         [[event]]\nat = \"100s\"\ncomponent = \"web-apps\"\nhealth = \"down\"\nunless_step = \"dns\"\n\
         [[effect]]\nstep = \"dns\"\nfail = \"Route 53: throttled\"\n",
    );
    let mut w = SimWorld::new(&config, &s, t0()).expect("fits");
    assert!(
        !w.act(step(&config, "failover", "dns"), &no_inputs(), t(50))
            .outcome
            .succeeded()
    );
    assert_eq!(state(&health(&mut w, "web-apps", t(100))), "down");
}

#[test]
fn an_effect_until_an_offset() {
    let config = load_embedded_example();
    let s = scenario(
        "name = \"s\"\n\
         [[effect]]\nregion = \"us-east-1\"\nuntil = \"10m\"\nfail = \"us-east-1 unreachable\"\n",
    );
    let mut w = SimWorld::new(&config, &s, t0()).expect("fits");
    let pitr = step(&config, "db-restore-pitr", "restore");
    let inputs = BTreeMap::from([("time".to_string(), "2023-11-14T22:00:00Z".to_string())]);
    assert_eq!(
        w.act(pitr, &inputs, t(599)).outcome,
        StepOutcome::Failed {
            reason: "us-east-1 unreachable".into()
        }
    );
    assert!(w.act(pitr, &inputs, t(600)).outcome.succeeded());
}

#[test]
fn us_east_1_is_back_at_40_minutes() {
    let config = load_embedded_example();
    let mut w = world(&config, "region-outage");
    let restart = step(&config, "l1-api-gateway", "restart");
    assert!(!w.act(restart, &no_inputs(), t(2399)).outcome.succeeded());
    assert_eq!(state(&health(&mut w, "config-secrets", t(2399))), "unknown");
    assert_eq!(
        backup(&mut w, "file-storage", t(2399)),
        Outcome::Seconds((3 * 60 + 2399) as f64)
    );
    // Actions reach the region again; what lives there answers; the canary replicates.
    assert!(w.act(restart, &no_inputs(), t(2400)).outcome.succeeded());
    assert_eq!(
        detail(&health(&mut w, "config-secrets", t(2400))),
        "3/3 available"
    );
    assert_eq!(state(&health(&mut w, "file-storage", t(2400))), "up");
    assert_eq!(
        backup(&mut w, "file-storage", t(2400)),
        Outcome::Seconds(60.0)
    );
    assert_eq!(
        backup(&mut w, "file-storage", t(2640)),
        Outcome::Seconds(0.0)
    );
    assert_eq!(lag(&mut w, "db-primary", t(2640)), Outcome::Seconds(1.0));
    assert_eq!(
        health(&mut w, "web-apps", t(2640)),
        Outcome::Up {
            latency: Duration::from_millis(120),
            detail: "HTTP 200 (served from us-east-1)".into()
        }
    );
}
