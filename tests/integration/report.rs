//! `warroom report` on the real binary: recorded journals (a resolved incident with a
//! failover, a drill, an incident still open) against golden files in `tests/reports/`;
//! the latest incident by default; an unknown incident; an edited journal.
//!
//! After a deliberate change to the report: `UPDATE_GOLDEN=1 cargo test --test report`, then
//! review `git diff tests/reports/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value};
use warroom::app::entry::{DrLevel, EntryKind, IncidentStatus, StepResult};
use warroom::app::{Exposure, HealthState, LagState, Severity};
use warroom::journal::{Journal, drills_dir, incident_file_name, incidents_dir};

fn warroom(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warroom"))
        .arg("report")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("WARROOM_CONFIG")
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .env("XDG_DATA_HOME", dir.join("xdg-data"))
        .output()
        .expect("run warroom")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn secs(s: i64) -> SignedDuration {
    SignedDuration::from_secs(s)
}

/// A journal being recorded: entries at offsets (seconds) from its time zero.
struct Rec {
    path: PathBuf,
    zero: Timestamp,
}

impl Rec {
    fn new(dir: &Path, zero: &str, title: &str) -> Rec {
        let zero: Timestamp = zero.parse().expect("time");
        Rec {
            path: dir.join(incident_file_name(zero, title)),
            zero,
        }
    }

    fn at(&self, s: i64) -> Timestamp {
        self.zero + secs(s)
    }

    fn put(&self, s: i64, actor: &str, kind: EntryKind) -> &Rec {
        let (k, body) = kind.to_journal();
        self.raw(s, actor, &k, body)
    }

    fn raw(&self, s: i64, actor: &str, kind: &str, body: Map<String, Value>) -> &Rec {
        Journal::open(&self.path)
            .expect("open")
            .with_actor(actor)
            .append(kind, body, self.at(s))
            .expect("append");
        self
    }

    fn stem(&self) -> String {
        self.path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned()
    }

    // ------------------------------------------------ the vocabulary, briefly

    fn state(&self, s: i64, c: &str, from: HealthState, to: HealthState, why: &str) -> &Rec {
        self.state_with(s, c, from, to, why, None, None, None)
    }

    #[allow(clippy::too_many_arguments)]
    fn state_with(
        &self,
        s: i64,
        c: &str,
        from: HealthState,
        to: HealthState,
        why: &str,
        rto: Option<i64>,
        rpo: Option<i64>,
        exposure: Option<Exposure>,
    ) -> &Rec {
        self.put(
            s,
            RECORDER,
            EntryKind::ComponentState {
                component: c.into(),
                from,
                to,
                reason: why.into(),
                since: self.at(s),
                rto: rto.map(secs),
                rpo: rpo.map(secs),
                exposure,
            },
        )
    }

    fn recovered(&self, s: i64, c: &str, from: HealthState, down_since: i64, rto: i64) -> &Rec {
        self.state(s, c, from, HealthState::Up, "200 OK").put(
            s,
            RECORDER,
            EntryKind::Recovered {
                component: c.into(),
                down_since: self.at(down_since),
                recovered_at: self.at(s),
                took: secs(s - down_since),
                rto: Some(secs(rto)),
            },
        )
    }

    fn severity(&self, s: i64, from: Severity, to: Severity, why: &str) -> &Rec {
        self.put(
            s,
            RECORDER,
            EntryKind::Severity {
                from,
                to,
                reasons: vec![why.into()],
            },
        )
    }

    fn declared(&self, s: i64, title: &str, level: u8, started: i64) -> &Rec {
        self.put(
            s,
            COMMANDER,
            EntryKind::Declared {
                title: title.into(),
                level: DrLevel::new(level).expect("level"),
                status: IncidentStatus::Investigating,
                commander: COMMANDER.into(),
                started: self.at(started),
            },
        )
    }

    fn status(&self, s: i64, from: IncidentStatus, to: IncidentStatus) -> &Rec {
        self.put(s, COMMANDER, EntryKind::Status { from, to })
    }

    fn note(&self, s: i64, actor: &str, text: &str) -> &Rec {
        self.put(s, actor, EntryKind::Note { text: text.into() })
    }

    fn step(&self, s: i64, actor: &str, step: &str, what: Step) -> &Rec {
        let (runbook, step) = step.split_once('/').expect("runbook/step");
        let (runbook, step) = (runbook.to_string(), step.to_string());
        let kind = match what {
            Step::Requested => EntryKind::StepRequested { runbook, step },
            Step::Confirmed(override_reason) => EntryKind::StepConfirmed {
                runbook,
                step,
                override_reason: override_reason.map(String::from),
                inputs: Default::default(),
                break_glass: None,
            },
            Step::Started => EntryKind::StepStarted {
                runbook,
                step,
                pid: 5150,
                host: "bastion".into(),
                start: None,
            },
            Step::Output(summary) => EntryKind::StepOutput {
                runbook,
                step,
                summary: summary.into(),
            },
            Step::Finished(outcome, took, detail) => EntryKind::StepFinished {
                runbook,
                step,
                outcome,
                took: secs(took),
                detail: detail.into(),
            },
            Step::Verified(component, verified, detail) => EntryKind::StepVerified {
                runbook,
                step,
                component: component.into(),
                verified,
                detail: detail.into(),
            },
            Step::Released(reason) => EntryKind::StepReleased {
                runbook,
                step,
                reason: reason.into(),
                pid: None,
            },
        };
        self.put(s, actor, kind)
    }

    /// Requested by the commander, confirmed and run by `actor`, finished after `took`.
    fn run(&self, s: i64, actor: &str, step: &str, outcome: StepResult, took: i64) -> &Rec {
        self.step(s, COMMANDER, step, Step::Requested)
            .step(s + 10, actor, step, Step::Confirmed(None))
            .step(s + 11, actor, step, Step::Started)
            .step(
                s + 11 + took,
                actor,
                step,
                Step::Finished(outcome, took, ""),
            )
    }

    fn queued(&self, s: i64, id: &str, channel: &str, template: &str, summary: &str) -> &Rec {
        self.put(
            s,
            COMMANDER,
            EntryKind::CommsQueued {
                id: id.into(),
                channel: channel.parse().expect("a channel"),
                template: warroom::app::message::Template::parse(template).expect("a template"),
                summary: summary.into(),
                status: None,
                text: None,
                simulated: false,
                body: None,
            },
        )
    }

    fn sent(&self, s: i64, id: &str, channel: &str) -> &Rec {
        self.put(
            s,
            COMMANDER,
            EntryKind::CommsSent {
                id: id.into(),
                channel: channel.parse().expect("a channel"),
                remote: None,
                simulated: false,
                found: false,
            },
        )
    }

    fn failed(&self, s: i64, id: &str, channel: &str, reason: &str, gave_up: bool) -> &Rec {
        self.put(
            s,
            COMMANDER,
            EntryKind::CommsFailed {
                id: id.into(),
                channel: channel.parse().expect("a channel"),
                reason: reason.into(),
                gave_up,
                retry_in: None,
            },
        )
    }
}

enum Step {
    Requested,
    Confirmed(Option<&'static str>),
    Started,
    Output(&'static str),
    Finished(StepResult, i64, &'static str),
    Verified(&'static str, bool, &'static str),
    Released(&'static str),
}

const COMMANDER: &str = "ana@bastion";
const OPERATOR: &str = "bob@bastion";
/// Automatic entries are written by the recorder: the commander's console here.
const RECORDER: &str = COMMANDER;

fn lag(s: i64) -> Option<Exposure> {
    Some(Exposure::Replication { lag: secs(s) })
}

use HealthState::{Degraded, Down, Up};
use IncidentStatus::{Identified, Investigating, Monitoring, Resolved};

/// A region outage, resolved after a failover to the DR region: the database met its RTO,
/// the web apps missed theirs; updates to Slack and the status page; follow-ups; a note with
/// escape sequences; an entry of a kind this version does not know.
fn failover(data: &Path) -> Rec {
    let r = Rec::new(
        &incidents_dir(data),
        "2026-11-25T03:04:10Z",
        "Region us-east-1 outage",
    );
    r.put(
        0,
        RECORDER,
        EntryKind::Recorder {
            pid: 4242,
            previous: None,
        },
    )
    .state_with(
        0,
        "db-primary",
        Up,
        Down,
        "connection timed out (us-east-1)",
        Some(3600),
        Some(900),
        lag(4),
    )
    .severity(
        15,
        Severity::Healthy,
        Severity::Critical { unverified: false },
        "db-primary (critical) DOWN: connection timed out (us-east-1)",
    )
    .state_with(
        30,
        "web-apps",
        Up,
        Down,
        "HTTP 503 Service Unavailable",
        Some(1800),
        Some(0),
        Some(Exposure::Unknown),
    )
    .severity(
        31,
        Severity::Critical { unverified: false },
        Severity::Emergency,
        "2 critical components DOWN: db-primary, web-apps",
    )
    .put(
        45,
        RECORDER,
        EntryKind::LagLevel {
            component: "db-primary".into(),
            replica: "dtem-postgres-dr-replica".into(),
            from: LagState::Ok,
            to: LagState::NotRunning,
            value: None,
            detail: Some("replication not running (ReplicaLag -1)".into()),
        },
    )
    .declared(180, "Region us-east-1 outage", 3, 0)
    .queued(
        200,
        "m1",
        "slack",
        "initial",
        "CRITICAL: DTEM service outage, DR procedures initiated",
    )
    .queued(
        200,
        "m1",
        "statuspage",
        "initial",
        "CRITICAL: DTEM service outage, DR procedures initiated",
    )
    .sent(202, "m1", "slack")
    .failed(
        203,
        "m1",
        "statuspage",
        "HTTP 503 from the status page",
        false,
    )
    .note(
        240,
        OPERATOR,
        "primary unreachable from the bastion too; AWS Health shows an RDS event in us-east-1",
    )
    .sent(263, "m1", "statuspage")
    .status(300, Investigating, Identified)
    .step(
        360,
        COMMANDER,
        "region-failover/promote-db",
        Step::Requested,
    )
    .step(
        375,
        OPERATOR,
        "region-failover/promote-db",
        Step::Confirmed(None),
    )
    .step(376, OPERATOR, "region-failover/promote-db", Step::Started)
    .step(
        380,
        OPERATOR,
        "region-failover/promote-db",
        Step::Output("PromoteReadReplica dtem-postgres-dr accepted"),
    )
    .step(
        600,
        OPERATOR,
        "region-failover/promote-db",
        Step::Output("dtem-postgres-dr: modifying → available"),
    )
    .step(
        602,
        OPERATOR,
        "region-failover/promote-db",
        Step::Finished(StepResult::Succeeded, 226, ""),
    )
    .step(
        700,
        COMMANDER,
        "region-failover/switch-apps",
        Step::Requested,
    )
    .step(
        710,
        COMMANDER,
        "region-failover/switch-apps",
        Step::Confirmed(Some(
            "lag precheck fails: replication is off after the promotion, as expected",
        )),
    )
    .step(711, COMMANDER, "region-failover/switch-apps", Step::Started)
    .step(
        900,
        RECORDER,
        "region-failover/promote-db",
        Step::Verified("db-dr", true, "UP (accepts writes)"),
    )
    .step(
        1300,
        COMMANDER,
        "region-failover/switch-apps",
        Step::Finished(StepResult::Succeeded, 589, "apps-dr scaled to 10"),
    )
    .state(1500, "web-apps", Down, Degraded, "2 of 10 pods available")
    .put(
        1830,
        RECORDER,
        EntryKind::RtoBreached {
            component: "web-apps".into(),
            down_since: r.at(30),
            rto: secs(1800),
        },
    )
    .step(
        2000,
        RECORDER,
        "region-failover/switch-apps",
        Step::Verified("web-apps", false, "not UP within 10m"),
    )
    .note(
        2100,
        OPERATOR,
        "DNS switched by hand \x1b[2J| see ticket\nOPS-1234 \x1b]0;owned\x07",
    );
    let mut pager = Map::new();
    pager.insert("by".into(), "oncall-db".into());
    pager.insert("ticket".into(), "OPS-1234".into());
    r.raw(2200, "pagerbot@ops", "pager_ack", pager)
        .recovered(2430, "web-apps", Degraded, 30, 1800)
        .recovered(2880, "db-primary", Down, 0, 3600)
        .severity(
            2900,
            Severity::Emergency,
            Severity::Healthy,
            "every component UP",
        )
        .status(3000, Identified, Monitoring)
        .queued(
            3000,
            "m2",
            "slack",
            "restoration",
            "RESOLVED: DTEM services restored from us-west-2",
        )
        .sent(3001, "m2", "slack")
        .note(
            3300,
            COMMANDER,
            "Follow-up: alarm on ReplicaLag = -1 before the primary fails",
        )
        .note(
            3320,
            OPERATOR,
            "follow-up: script the DNS switch; the web apps took 40m",
        )
        .status(3600, Monitoring, Resolved);
    r
}

/// A drill of a region outage in simulated time: a step failed then passed on retry, one was
/// interrupted, one lost its claim, one is not verified; the queue is never recovered.
fn drill(data: &Path) -> Rec {
    let r = Rec::new(
        &drills_dir(data),
        "2026-11-25T13:00:00Z",
        "Drill: region outage",
    );
    r.state_with(
        0,
        "db-primary",
        Up,
        Down,
        "connection timed out",
        Some(3600),
        Some(900),
        lag(1200),
    )
    .state_with(
        10,
        "message-queue",
        Up,
        Down,
        "connect mq.dtem.internal:5672: connection refused",
        Some(900),
        Some(0),
        lag(0),
    )
    .declared(60, "Drill: region outage", 3, 0)
    .run(
        120,
        COMMANDER,
        "region-failover/assess",
        StepResult::Succeeded,
        30,
    )
    .step(
        200,
        RECORDER,
        "region-failover/assess",
        Step::Verified("db-primary", true, "DOWN as expected"),
    )
    .step(
        300,
        COMMANDER,
        "region-failover/promote-db",
        Step::Requested,
    )
    .step(
        310,
        OPERATOR,
        "region-failover/promote-db",
        Step::Confirmed(None),
    )
    .step(311, OPERATOR, "region-failover/promote-db", Step::Started)
    .step(
        340,
        OPERATOR,
        "region-failover/promote-db",
        Step::Finished(
            StepResult::Failed,
            29,
            "InvalidDBInstanceState: dtem-postgres-dr is not a read replica",
        ),
    )
    .run(
        400,
        OPERATOR,
        "region-failover/promote-db",
        StepResult::Succeeded,
        180,
    )
    .step(
        700,
        RECORDER,
        "region-failover/promote-db",
        Step::Verified("db-dr", true, "UP"),
    )
    .run(
        720,
        OPERATOR,
        "level-1/restart-mq",
        StepResult::Interrupted,
        45,
    )
    .put(
        910,
        RECORDER,
        EntryKind::RtoBreached {
            component: "message-queue".into(),
            down_since: r.at(10),
            rto: secs(900),
        },
    )
    .step(
        1000,
        COMMANDER,
        "region-failover/switch-apps",
        Step::Requested,
    )
    .step(
        1010,
        COMMANDER,
        "region-failover/switch-apps",
        Step::Confirmed(None),
    )
    .step(
        1011,
        COMMANDER,
        "region-failover/switch-apps",
        Step::Started,
    )
    .step(
        1500,
        OPERATOR,
        "region-failover/switch-apps",
        Step::Released("pid 5150 on bastion no longer exists"),
    )
    .recovered(2100, "db-primary", Down, 0, 3600)
    .note(
        2200,
        OPERATOR,
        "follow-up: the queue has no restore runbook; write one",
    )
    .note(2210, COMMANDER, "replica lag was 20m when the primary died")
    .status(2400, Investigating, Resolved);
    r
}

/// A cache incident still open: a step still running, an update not yet sent.
fn open_incident(data: &Path) -> Rec {
    let r = Rec::new(
        &incidents_dir(data),
        "2026-11-26T08:15:00Z",
        "Cache cluster down",
    );
    r.state_with(
        -300,
        "cache-redis",
        Up,
        Degraded,
        "PING 1.4s ≥ 1s",
        Some(1800),
        Some(3600),
        None,
    )
    .state_with(
        -240,
        "cache-redis",
        Degraded,
        Down,
        "connect redis.dtem.internal:6379: connection refused",
        Some(1800),
        Some(3600),
        Some(Exposure::Backup { age: secs(2700) }),
    )
    .severity(
        -239,
        Severity::Healthy,
        Severity::Degraded,
        "cache-redis DOWN: connection refused",
    )
    .declared(0, "Cache cluster down", 1, -300)
    .step(60, COMMANDER, "level-1/restart-cache", Step::Requested)
    .step(70, OPERATOR, "level-1/restart-cache", Step::Confirmed(None))
    .step(71, OPERATOR, "level-1/restart-cache", Step::Started)
    .step(
        90,
        OPERATOR,
        "level-1/restart-cache",
        Step::Output("rollout restart deployment/redis"),
    )
    .step(
        400,
        OPERATOR,
        "level-1/restart-cache",
        Step::Output("waiting: 1 of 3 pods available"),
    )
    .queued(
        420,
        "m1",
        "statuspage",
        "initial",
        "Degraded performance: cache",
    )
    .note(
        1200,
        COMMANDER,
        "restart is slow; considering a fresh cluster from the snapshot",
    );
    r
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reports")
        .join(format!("{name}.md"));
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| !v.is_empty() && v != "0") {
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run UPDATE_GOLDEN=1 cargo test --test report to write it",
            path.display()
        )
    });
    if expected != actual {
        let at = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the report at line {}:\n  golden: {:?}\n  report: {:?}\n\
             full report:\n{actual}\n(after a deliberate change: UPDATE_GOLDEN=1 cargo test --test report)",
            path.display(),
            at + 1,
            expected.lines().nth(at),
            actual.lines().nth(at),
        );
    }
}

fn report_ok(data: &Path, args: &[&str]) -> String {
    let out = warroom(data, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn reports_match_their_golden_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path();
    let failover = failover(data);
    let drill = drill(data);
    let open = open_incident(data);

    let report = report_ok(data, &[&failover.stem()]);
    golden("failover", &report);
    assert!(!report.contains('\x1b'), "escape sequences reach stdout");

    golden("drill", &report_ok(data, &[&drill.stem()]));
    golden("open", &report_ok(data, &[&open.stem()]));

    // Without INCIDENT: the latest incident (drills are not incidents).
    assert_eq!(report_ok(data, &[]), report_ok(data, &[&open.stem()]));
    // By file name and by path, too.
    let name = format!("{}.jsonl", failover.stem());
    assert_eq!(report_ok(data, &[&name]), report);
    let path = failover.path.to_string_lossy().into_owned();
    assert_eq!(report_ok(data, &[&path]), report);
}

#[test]
fn an_unknown_incident_or_none_at_all_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path();
    let out = warroom(data, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("warroom report: no incident journal in ")
            && stderr.contains(&incidents_dir(data).display().to_string())
            && stderr.contains(&drills_dir(data).display().to_string()),
        "{stderr}"
    );

    open_incident(data);
    let out = warroom(data, &["nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("warroom report: no incident nope in "),
        "{stderr}"
    );
}

#[test]
fn an_edited_journal_still_reports_and_says_where_the_chain_breaks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path();
    let open = open_incident(data);
    let original = fs::read_to_string(&open.path).expect("read");
    let line = original
        .lines()
        .position(|l| l.contains("considering a fresh cluster"))
        .expect("the note")
        + 1;
    let edited = original.replace("considering a fresh cluster", "all fine, no action");
    // A writer killed mid-line, too.
    fs::write(&open.path, format!("{edited}{{\"seq\":12,\"at\":")).expect("edit");

    let report = report_ok(data, &[]);
    assert!(report.contains("all fine, no action"), "{report}");
    let broken = format!("first broken entry: line {line} (seq {line}): hash does not match");
    assert!(
        report.contains(&format!(
            "> **Warning: the journal's hash chain is broken** ({broken}"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "- Hash chain: **BROKEN** over {line} entries; {broken}"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "- Skipped: line {}, a torn last line (15 bytes)",
            line + 1
        )),
        "{report}"
    );
}
