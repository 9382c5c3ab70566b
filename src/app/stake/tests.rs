use std::collections::BTreeMap;

use super::*;
use crate::app::testkit::*;
use crate::app::{ComponentSpec, Outcome, ProbedNames};
use crate::config::Tier::{Critical, Standard};

/// db-primary: lag of the DR replica (CloudWatch, every 60s), snapshots (every 10m), RPO 15m;
/// db-dr: the DR replica's RDS health; api: stateless.
fn estate() -> Vec<ComponentSpec> {
    vec![
        comp("db-primary", Critical, 1)
            .rpo(secs(900))
            .lag(schedule(60, 15, 1), thresholds(60, 900))
            .backup(schedule(600, 30, 1), thresholds(90_000, 93_600))
            .probed(ProbedNames {
                lag: Some("dr-replica".into()),
                backup: Some("db-main".into()),
                health: None,
            }),
        comp("db-dr", Standard, 1).probed(ProbedNames {
            health: Some("dr-replica".into()),
            ..ProbedNames::default()
        }),
        comp("api", Critical, 1),
    ]
}

fn step(action: Action) -> Step {
    Step {
        id: "s".into(),
        title: "S".into(),
        key: 's',
        action,
        confirm: "go".into(),
        requires: vec![],
        precheck: vec![],
        verify: None,
        inputs: vec![],
        component: None,
    }
}

fn promote(instance: &str) -> Step {
    step(Action::RdsPromoteReadReplica {
        instance: instance.into(),
        region: "us-west-2".into(),
    })
}

fn restore(snapshot: SnapshotChoice) -> Step {
    step(Action::RdsRestoreSnapshot {
        snapshot,
        target: "db-restored".into(),
        instance_class: None,
        region: "us-west-2".into(),
        placement: Default::default(),
    })
}

fn pitr() -> Step {
    step(Action::RdsRestorePointInTime {
        source: "db-main".into(),
        target: "db-pitr".into(),
        region: "us-east-1".into(),
        placement: Default::default(),
    })
}

fn restart() -> Step {
    step(Action::K8sRolloutRestart {
        namespace: "prod".into(),
        deployment: "api".into(),
        context: None,
    })
}

/// Lag 8m12s read at 100 s, the newest snapshot 3 h old read at 100 s.
fn rig() -> Rig {
    let mut rig = Rig::new(estate());
    rig.lag(0, "dr-replica", 100, Outcome::Seconds(492.0));
    rig.backup(0, 100, Outcome::Seconds(3.0 * 3600.0));
    rig
}

fn texts(lines: &[StakeLine]) -> Vec<(&str, bool)> {
    lines.iter().map(|l| (l.text.as_str(), l.unknown)).collect()
}

fn none() -> BTreeMap<String, String> {
    BTreeMap::new()
}

#[test]
fn the_component_at_stake_for_each_action_kind() {
    let e = crate::app::Estate::new(estate());
    let id = |s: &Step| {
        component_of(&e, s)
            .and_then(|ix| e.get(ix))
            .map(|c| c.id.as_str())
    };
    // The replica its lag probe reads (before db-dr, whose health probe reads it too).
    assert_eq!(id(&promote("dr-replica")), Some("db-primary"));
    // The instance its backup probe reads.
    assert_eq!(
        id(&restore(SnapshotChoice::LatestOf("db-main".into()))),
        Some("db-primary")
    );
    assert_eq!(id(&pitr()), Some("db-primary"));
    // A named snapshot says nothing of whose it is; an instance nobody probes, nothing.
    assert_eq!(id(&restore(SnapshotChoice::Named("snap-1".into()))), None);
    assert_eq!(id(&promote("elsewhere")), None);
    // Written on the step, it wins.
    let mut named = restore(SnapshotChoice::Named("snap-1".into()));
    named.component = Some("db-primary".into());
    assert_eq!(id(&named), Some("db-primary"));
    // Kubernetes puts no data at stake.
    assert_eq!(id(&restart()), None);
    assert!(is_rds(&promote("x").action) && !is_rds(&restart().action));
}

#[test]
fn a_promote_loses_the_replica_lag_against_the_rpo() {
    let mut rig = rig();
    rig.tick(106);
    assert_eq!(
        texts(&of(&rig.state, &promote("dr-replica"), &none())),
        vec![
            (
                "data at stake: up to 8m12s of writes (RPO 15m) — lag read 6s ago",
                false
            ),
            ("last backup: 3h old (read 6s ago)", false),
        ]
    );
    // Past the RPO it is marked so.
    rig.lag(0, "dr-replica", 160, Outcome::Seconds(1000.0));
    let lines = of(&rig.state, &promote("dr-replica"), &none());
    assert!(lines[0].over_rpo && !lines[0].unknown, "{lines:?}");
}

#[test]
fn a_stale_or_missing_figure_is_unknown_never_another_one() {
    let mut rig = rig();
    // Two intervals of the lag probe (120 s) and more: the last value, with its age.
    rig.tick(232);
    assert_eq!(
        texts(&of(&rig.state, &promote("dr-replica"), &none()))[0],
        (
            "data at stake: UNKNOWN (last lag 8m12s, read 2m12s ago)",
            true
        )
    );
    // Replication stopped: the last number and why; never a lag of 0.
    let mut rig = self::rig();
    rig.lag(0, "dr-replica", 110, Outcome::Seconds(-1.0));
    let line = &of(&rig.state, &promote("dr-replica"), &none())[0];
    assert!(line.unknown, "{line:?}");
    assert!(
        line.text.starts_with(
            "data at stake: UNKNOWN (last lag 8m12s, read 10s ago; replication not running"
        ),
        "{line:?}"
    );
    // Nothing read yet.
    let rig = Rig::new(estate());
    assert_eq!(
        texts(&of(&rig.state, &promote("dr-replica"), &none())),
        vec![
            ("data at stake: UNKNOWN (no lag read yet)", true),
            ("last backup: UNKNOWN (no data yet)", true),
        ]
    );
    // A promote of an instance no lag probe reads, on a step naming its component: no
    // figure of another replica is lent to it.
    let rig = self::rig();
    let mut other = promote("db-main");
    other.component = Some("db-primary".into());
    let mut two = rig;
    two.lag(0, "second-replica", 100, Outcome::Seconds(1.0));
    assert_eq!(
        texts(&of(&two.state, &other, &none()))[0],
        ("data at stake: UNKNOWN (no lag probe reads db-main)", true)
    );
    // No component found: said, with the way out.
    assert_eq!(
        texts(&of(&two.state, &promote("elsewhere"), &none())),
        vec![(
            "data at stake: UNKNOWN (no component's probe reads elsewhere; give the step `component = \"<id>\"`)",
            true
        )]
    );
}

#[test]
fn a_snapshot_restore_loses_the_time_since_the_snapshot() {
    let mut rig = rig();
    rig.tick(160);
    let latest = restore(SnapshotChoice::LatestOf("db-main".into()));
    let lines = of(&rig.state, &latest, &none());
    assert_eq!(
        texts(&lines),
        vec![(
            "data at stake: up to 3h01m of writes (RPO 15m) — the newest snapshot, read 1m ago",
            false
        )]
    );
    assert!(lines[0].over_rpo);
    // The backup probe runs every 10 min: a value older than 20 min is UNKNOWN.
    rig.tick(100 + 1201);
    assert_eq!(
        texts(&of(&rig.state, &latest, &none())),
        vec![(
            "data at stake: UNKNOWN (last backup 3h old, read 20m01s ago)",
            true
        )]
    );
    let mut named = restore(SnapshotChoice::Named("snap-1".into()));
    named.component = Some("db-primary".into());
    assert_eq!(
        texts(&of(&rig.state, &named, &none()))[0],
        (
            "data at stake: UNKNOWN (when snapshot snap-1 was taken is not read here)",
            true
        )
    );
}

#[test]
fn a_point_in_time_restore_loses_what_came_after_the_typed_time() {
    let mut rig = rig();
    rig.tick(106);
    let typed = |v: &str| BTreeMap::from([("time".to_string(), v.to_string())]);
    assert_eq!(
        texts(&of(&rig.state, &pitr(), &none()))[0],
        (
            "data at stake: every write after the time you type (RPO 15m)",
            true
        )
    );
    // t(106) is 1_700_000_106 s: 2023-11-14T22:15:06Z. Two hours before that:
    let lines = of(&rig.state, &pitr(), &typed("2023-11-14T20:15:06Z"));
    assert_eq!(
        texts(&lines)[0],
        (
            "data at stake: 2h of writes after 2023-11-14T20:15:06Z (RPO 15m)",
            false
        )
    );
    assert!(lines[0].over_rpo);
    assert_eq!(
        texts(&of(&rig.state, &pitr(), &typed("2023-11-14T23:15:06Z")))[0],
        (
            "data at stake: UNKNOWN (2023-11-14T23:15:06Z is 1h in the future)",
            true
        )
    );
}

#[test]
fn steps_without_data_show_nothing() {
    let rig = rig();
    assert!(of(&rig.state, &restart(), &none()).is_empty());
    // Naming a component shows its lag as it stands.
    let mut script = restart();
    script.component = Some("db-primary".into());
    assert_eq!(
        of(&rig.state, &script, &none())[0].text,
        "data at stake: up to 8m12s of writes (RPO 15m) — lag read 0s ago"
    );
}
