use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value};

use super::*;
use crate::app::entry::{DrLevel, EntryKind, IncidentStatus, StepResult};
use crate::app::signals::HealthState;
use crate::app::{Exposure, Severity};
use crate::journal::{self, JournalEntry, Problem, TornLine};

fn t(s: i64) -> Timestamp {
    // 2026-11-25 03:00:00 UTC
    Timestamp::from_second(1_795_575_600 + s).expect("valid")
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_secs(m * 60)
}

/// A journal written entry by entry, chained as the real one is.
#[derive(Default)]
struct GoldenLog {
    entries: Vec<JournalEntry>,
}

impl GoldenLog {
    fn raw(
        &mut self,
        at: i64,
        actor: &str,
        kind: &str,
        body: Map<String, Value>,
    ) -> &mut GoldenLog {
        let prev = self
            .entries
            .last()
            .map_or(journal::GENESIS.to_string(), |e| e.hash.clone());
        let seq = self.entries.len() as u64 + 1;
        self.entries.push(JournalEntry::seal(
            seq,
            t(at),
            actor.into(),
            kind.into(),
            body,
            &prev,
        ));
        self
    }

    fn add(&mut self, at: i64, actor: &str, k: EntryKind) -> &mut GoldenLog {
        let (kind, body) = k.to_journal();
        self.raw(at, actor, &kind, body)
    }

    fn facts(&self) -> JournalFacts {
        JournalFacts::from_entries(&self.entries)
    }

    fn render(&self, kind: ReportKind) -> String {
        self.render_with(kind, &journal::VerifyReport::default(), &Loaded::default())
    }

    fn render_with(
        &self,
        kind: ReportKind,
        verify: &journal::VerifyReport,
        extra: &Loaded,
    ) -> String {
        let loaded = Loaded {
            entries: self.entries.clone(),
            lines: (1..=self.entries.len()).collect(),
            torn: extra.torn.clone(),
            problems: extra.problems.clone(),
        };
        let mut verify = verify.clone();
        verify.entries = self.entries.len();
        let recorded = crate::report::in_time_order(&loaded.entries);
        render(&ReportInput {
            id: "2026-11-25T0300Z-region-outage",
            kind,
            loaded: &loaded,
            verify: &verify,
            entries: &|visit| recorded.iter().for_each(visit),
        })
    }
}

const REC: &str = "recorder@bastion";

fn down(c: &str, since: i64, rto: i64, rpo: i64, exposure: Option<Exposure>) -> EntryKind {
    EntryKind::ComponentState {
        component: c.into(),
        from: HealthState::Up,
        to: HealthState::Down,
        reason: "connection refused".into(),
        since: t(since),
        rto: Some(mins(rto)),
        rpo: Some(mins(rpo)),
        exposure,
    }
}

fn state(c: &str, from: HealthState, to: HealthState, since: i64) -> EntryKind {
    EntryKind::ComponentState {
        component: c.into(),
        from,
        to,
        reason: String::new(),
        since: t(since),
        rto: None,
        rpo: None,
        exposure: None,
    }
}

fn recovered(c: &str, down_since: i64, at: i64, rto: i64) -> EntryKind {
    EntryKind::Recovered {
        component: c.into(),
        down_since: t(down_since),
        recovered_at: t(at),
        took: t(at).duration_since(t(down_since)),
        rto: Some(mins(rto)),
    }
}

fn lag(s: i64) -> Option<Exposure> {
    Some(Exposure::Replication {
        lag: SignedDuration::from_secs(s),
    })
}

fn declared(at_started: i64) -> EntryKind {
    EntryKind::Declared {
        title: "Region outage".into(),
        level: DrLevel::new(3).expect("level"),
        status: IncidentStatus::Investigating,
        commander: "ana@bastion".into(),
        started: t(at_started),
    }
}

fn note(text: &str) -> EntryKind {
    EntryKind::Note { text: text.into() }
}

#[test]
fn rto_is_met_missed_or_not_recovered() {
    let mut log = GoldenLog::default();
    log.add(0, REC, down("db", 0, 60, 15, lag(5)))
        .add(0, REC, down("web", 0, 30, 0, lag(0)))
        .add(0, REC, down("mq", 0, 15, 0, None))
        // db back after 40m: met.
        .add(
            2400,
            REC,
            state("db", HealthState::Down, HealthState::Up, 2400),
        )
        .add(2400, REC, recovered("db", 0, 2400, 60))
        // web: UNKNOWN in between does not close the outage; back after 50m: missed by 20m.
        .add(
            600,
            REC,
            state("web", HealthState::Down, HealthState::Unknown, 600),
        )
        .add(3000, REC, recovered("web", 0, 3000, 30))
        // mq never comes back; the last entry is at 1h.
        .add(3600, "ana@bastion", note("still waiting on mq"));
    let f = log.facts();
    let as_of = f.last_at().expect("entries");
    let verdict = |c: &str| {
        f.outages
            .iter()
            .find(|o| o.component == c)
            .expect("outage")
            .rto_verdict(as_of)
    };
    assert_eq!(f.outages.len(), 3, "{:?}", f.outages);
    assert_eq!(verdict("db"), RtoVerdict::Met);
    assert_eq!(verdict("web"), RtoVerdict::Missed { by: mins(20) });
    assert_eq!(
        verdict("mq"),
        RtoVerdict::Open {
            open_for: mins(60),
            exceeded: true
        }
    );
    let text = log.render(ReportKind::Incident);
    assert!(
        text.contains(
            "| db | 2026-11-25 03:00:00 UTC | 1h | 40m | met | 15m | replication lag 5s | within |"
        ),
        "{text}"
    );
    assert!(
        text.contains("| web | 2026-11-25 03:00:00 UTC | 30m | 50m | MISSED by 20m |"),
        "{text}"
    );
    assert!(text.contains("| mq | 2026-11-25 03:00:00 UTC | 15m | — | not recovered, open for 1h, MISSED | 0s | not recorded | unknown |"), "{text}");
}

#[test]
fn an_open_outage_within_its_rto_is_not_missed_and_a_second_down_is_a_second_outage() {
    let mut log = GoldenLog::default();
    log.add(0, REC, down("db", 0, 60, 15, lag(5)))
        .add(600, REC, recovered("db", 0, 600, 60))
        .add(900, REC, down("db", 900, 60, 15, lag(5)))
        .add(1200, REC, note("x"));
    let f = log.facts();
    assert_eq!(f.outages.len(), 2);
    assert_eq!(
        f.outages[1].rto_verdict(t(1200)),
        RtoVerdict::Open {
            open_for: mins(5),
            exceeded: false
        }
    );
    // A recorded breach counts even if the clock says otherwise (no target recorded).
    let mut log = GoldenLog::default();
    log.add(0, REC, state("x", HealthState::Up, HealthState::Down, 0))
        .add(
            100,
            REC,
            EntryKind::RtoBreached {
                component: "x".into(),
                down_since: t(0),
                rto: SignedDuration::from_secs(60),
            },
        );
    let f = log.facts();
    assert_eq!(f.outages.len(), 1);
    assert_eq!(f.outages[0].rto, Some(SignedDuration::from_secs(60)));
    assert!(matches!(
        f.outages[0].rto_verdict(t(100)),
        RtoVerdict::Open { exceeded: true, .. }
    ));
}

#[test]
fn exposure_at_failure_is_within_exceeded_or_unknown() {
    let mut log = GoldenLog::default();
    log.add(0, REC, down("at-rpo", 0, 60, 15, lag(900)))
        .add(0, REC, down("over", 0, 60, 15, lag(901)))
        .add(
            0,
            REC,
            down("no-backup", 0, 60, 15, Some(Exposure::NoBackup)),
        )
        .add(0, REC, down("unknown", 0, 60, 15, Some(Exposure::Unknown)))
        .add(0, REC, down("unrecorded", 0, 60, 15, None))
        .add(
            0,
            REC,
            down(
                "backup",
                0,
                60,
                60,
                Some(Exposure::Backup {
                    age: SignedDuration::from_secs(3000),
                }),
            ),
        )
        .add(
            0,
            REC,
            state("no-target", HealthState::Up, HealthState::Down, 0),
        );
    let f = log.facts();
    let verdict = |c: &str| {
        f.outages
            .iter()
            .find(|o| o.component == c)
            .expect("outage")
            .rpo_verdict()
    };
    assert_eq!(
        verdict("at-rpo"),
        RpoVerdict::Within,
        "exactly the RPO is within"
    );
    assert_eq!(verdict("over"), RpoVerdict::Exceeded);
    assert_eq!(verdict("no-backup"), RpoVerdict::Exceeded);
    assert_eq!(verdict("unknown"), RpoVerdict::Unknown);
    assert_eq!(verdict("unrecorded"), RpoVerdict::Unknown);
    assert_eq!(verdict("backup"), RpoVerdict::Within);
    assert_eq!(verdict("no-target"), RpoVerdict::NoTarget);
    let text = log.render(ReportKind::Drill);
    assert!(
        text.contains("- over: RPO EXCEEDED at failure: replication lag 15m01s (target 15m)"),
        "{text}"
    );
    assert!(
        text.contains("- no-backup: RPO EXCEEDED at failure: no backup found (target 15m)"),
        "{text}"
    );
    assert!(
        text.contains("- unknown: RPO exposure unknown at failure (target 15m)"),
        "{text}"
    );
}

#[test]
fn follow_ups_are_notes_starting_with_the_prefix_in_any_case() {
    assert_eq!(
        follow_up("follow-up: add a lag alarm"),
        Some("add a lag alarm")
    );
    assert_eq!(
        follow_up("  Follow-Up:check DNS TTL "),
        Some("check DNS TTL")
    );
    assert_eq!(follow_up("FOLLOW-UP:"), Some(""));
    assert_eq!(follow_up("follow-up add"), None);
    assert_eq!(follow_up("followup: x"), None);
    assert_eq!(follow_up("a follow-up: x"), None);
    assert_eq!(
        follow_up("ñollow-up: x"),
        None,
        "not a char boundary: no panic"
    );
    assert_eq!(follow_up(""), None);

    let mut log = GoldenLog::default();
    log.add(0, "ana@bastion", note("follow-up: add a lag alarm"))
        .add(10, "bob@bastion", note("db is back"))
        .add(
            20,
            "bob@bastion",
            note("FOLLOW-UP: rotate the DR credentials"),
        );
    let f = log.facts();
    let items: Vec<(&str, &str)> = f
        .follow_ups
        .iter()
        .map(|u| (u.text.as_str(), u.actor.as_str()))
        .collect();
    assert_eq!(
        items,
        vec![
            ("add a lag alarm", "ana@bastion"),
            ("rotate the DR credentials", "bob@bastion")
        ]
    );
    let text = log.render(ReportKind::Incident);
    assert!(
        text.contains(
            "| add a lag alarm | ana@bastion | 2026-11-25 03:00:00 UTC | open |\n| rotate the DR credentials | bob@bastion | 2026-11-25 03:00:20 UTC | open |"
        ),
        "{text}"
    );
}

#[test]
fn unknown_kinds_are_shown_generically_in_the_timeline() {
    let mut log = GoldenLog::default();
    let mut body = Map::new();
    body.insert("to".into(), "oncall-db".into());
    body.insert("level".into(), 2.into());
    log.add(0, REC, declared(0))
        .raw(60, "pagerbot@h", "pager_escalated", body);
    let f = log.facts();
    assert_eq!(f.unknown, 1);
    let text = log.render(ReportKind::Incident);
    assert!(
        text.contains(
            "| 2026-11-25 03:01:00 UTC | T+1m | pagerbot@h | [pager_escalated] level=2, to=oncall-db |"
        ),
        "{text}"
    );
    assert!(
        text.contains("- 1 entry of kinds this version does not know, shown as recorded."),
        "{text}"
    );
}

/// Every line that starts a table row has exactly as many unescaped `|` as its header.
fn assert_tables_hold(text: &str) {
    let mut columns = None;
    for line in text.lines() {
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let mut pipes = 0;
        let mut escaped = false;
        for c in line.chars() {
            match c {
                '\\' if !escaped => escaped = true,
                '|' if !escaped => pipes += 1,
                _ => escaped = false,
            }
            if c != '\\' {
                escaped = false;
            }
        }
        match columns {
            None => columns = Some(pipes),
            Some(n) => assert_eq!(pipes, n, "row breaks its table: {line:?}"),
        }
    }
}

#[test]
fn hostile_text_cannot_drive_the_terminal_or_break_the_markdown() {
    let hostile = "follow-up: \x1b[2Jwipe\x1b]0;pwned\x07 | col \\| x\nnew line\r\n# heading <img src=x onerror=alert(1)>\u{202E}";
    let mut log = GoldenLog::default();
    log.add(0, "ana@bastion", declared(0))
        .add(5, "evil\x1b[31m|actor", note(hostile))
        .add(
            10,
            "ana@bastion",
            EntryKind::StepConfirmed {
                runbook: "fail|over".into(),
                step: "promote\nnow".into(),
                override_reason: Some("lag | unknown\x1bc".into()),
                inputs: Default::default(),
                break_glass: None,
            },
        );
    let mut body = Map::new();
    body.insert("x".into(), "a|b\nc\x1b[2J".into());
    log.raw(20, REC, "weird|kind", body);
    for kind in [ReportKind::Incident, ReportKind::Drill] {
        let text = log.render(kind);
        assert!(!text.contains('\x1b'), "{text:?}");
        assert!(!text.contains('\x07') && !text.contains('\r'), "{text:?}");
        assert!(!text.contains('\u{202E}'), "{text:?}");
        assert!(!text.contains("\n# heading"), "{text}");
        assert!(
            !text.replace("\\<", "").contains('<'),
            "raw HTML escaped: {text}"
        );
        assert_tables_hold(&text);
        assert!(
            text.contains("wipe \\| col \\\\\\| x new line  # heading \\<img"),
            "{text}"
        );
    }
    let text = log.render(ReportKind::Incident);
    assert!(text.contains("| evil\\|actor |"), "{text}");
    assert!(
        text.contains("override: lag \\| unknown (ana@bastion)"),
        "{text}"
    );
    assert!(text.contains("[weird\\|kind] x=a\\|b c"), "{text}");
}

#[test]
fn a_step_run_gathers_its_entries_and_a_retry_is_a_new_row() {
    let step = |k: &str| (String::from("region-failover"), String::from(k));
    let (rb, st) = step("promote-db");
    let mut log = GoldenLog::default();
    log.add(0, REC, declared(0))
        .add(
            60,
            "ana@bastion",
            EntryKind::StepRequested {
                runbook: rb.clone(),
                step: st.clone(),
            },
        )
        .add(
            70,
            "bob@bastion",
            EntryKind::StepConfirmed {
                runbook: rb.clone(),
                step: st.clone(),
                override_reason: None,
                inputs: Default::default(),
                break_glass: None,
            },
        )
        .add(
            71,
            "bob@bastion",
            EntryKind::StepStarted {
                runbook: rb.clone(),
                step: st.clone(),
                pid: 42,
                host: "bastion".into(),
                start: None,
            },
        );
    for i in 0..3 {
        log.add(
            72 + i,
            "bob@bastion",
            EntryKind::StepOutput {
                runbook: rb.clone(),
                step: st.clone(),
                summary: format!("line {i}"),
            },
        );
    }
    log.add(
        100,
        "bob@bastion",
        EntryKind::StepFinished {
            runbook: rb.clone(),
            step: st.clone(),
            outcome: StepResult::Failed,
            took: SignedDuration::from_secs(29),
            detail: "InvalidDBInstanceState".into(),
        },
    )
    .add(
        200,
        "ana@bastion",
        EntryKind::StepRequested {
            runbook: rb.clone(),
            step: st.clone(),
        },
    )
    .add(
        210,
        "ana@bastion",
        EntryKind::StepConfirmed {
            runbook: rb.clone(),
            step: st.clone(),
            override_reason: Some("lag probe down, checked by hand".into()),
            inputs: Default::default(),
            break_glass: None,
        },
    )
    .add(
        300,
        "ana@bastion",
        EntryKind::StepFinished {
            runbook: rb.clone(),
            step: st.clone(),
            outcome: StepResult::Succeeded,
            took: SignedDuration::from_secs(90),
            detail: String::new(),
        },
    )
    .add(
        400,
        REC,
        EntryKind::StepVerified {
            runbook: rb.clone(),
            step: st.clone(),
            component: "db-dr".into(),
            verified: false,
            detail: "still read-only".into(),
        },
    );
    let f = log.facts();
    assert_eq!(f.steps.len(), 2);
    assert_eq!(f.steps[0].outputs, 3);
    assert_eq!(f.steps[0].last_output.as_deref(), Some("line 2"));
    assert!(f.steps[0].verified.is_none());
    assert_eq!(
        f.steps[1].verified.as_ref().map(|v| v.verified),
        Some(false)
    );
    let text = log.render(ReportKind::Incident);
    assert!(text.contains("| region-failover/promote-db | ana@bastion at 2026-11-25 03:01:00 UTC | bob@bastion | FAILED: InvalidDBInstanceState | 29s | not recorded | 3 lines, last: line 2 |"), "{text}");
    assert!(text.contains("| region-failover/promote-db | ana@bastion at 2026-11-25 03:03:20 UTC | override: lag probe down, checked by hand (ana@bastion) | succeeded | 1m30s | NO: db-dr still read-only | — |"), "{text}");
    assert!(
        text.contains("Not listed one by one: 3 step output lines and 0 queued updates (see Actions and Comms)."),
        "{text}"
    );
    assert!(!text.contains("line 0"), "outputs are not in the timeline");
    let text = log.render(ReportKind::Drill);
    assert!(text.contains("- **FAIL** region-failover/promote-db: FAILED: InvalidDBInstanceState (took 29s); verified: not recorded; confirmed: bob@bastion"), "{text}");
    assert!(
        text.contains(
            "- Step region-failover/promote-db FAILED after 29s: InvalidDBInstanceState\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("- Step region-failover/promote-db NOT verified: db-dr still read-only\n"),
        "{text}"
    );
    assert!(text.contains("- Step region-failover/promote-db ran with failing prechecks overridden: lag probe down, checked by hand\n"), "{text}");
}

/// A restore still being created when the journal ends reads STILL CREATING, with what was
/// read last — neither passed nor failed; a later verdict settles it.
#[test]
fn a_restore_still_creating_is_reported_as_such_until_a_verdict_settles_it() {
    let (rb, st) = ("restore".to_string(), "from-snapshot".to_string());
    let mut log = GoldenLog::default();
    log.add(
        100,
        "ana@bastion",
        EntryKind::StepFinished {
            runbook: rb.clone(),
            step: st.clone(),
            outcome: StepResult::Succeeded,
            took: SignedDuration::from_secs(1800),
            detail: "RestoreDBInstanceFromDBSnapshot accepted".into(),
        },
    )
    .add(
        100,
        "ana@bastion",
        EntryKind::StepPending {
            runbook: rb.clone(),
            step: st.clone(),
            postcondition: crate::app::outcome::Postcondition::RdsInstanceAvailable {
                region: "us-west-2".into(),
                instance: "db-restored".into(),
            },
            detail: "still creating (status creating): db-restored creating".into(),
        },
    );
    let text = log.render(ReportKind::Drill);
    assert!(text.contains("- **STILL CREATING** restore/from-snapshot: succeeded: RestoreDBInstanceFromDBSnapshot accepted (took 30m); verified: not yet: still creating (status creating): db-restored creating;"), "{text}");
    assert!(text.contains("- Step restore/from-snapshot accepted but not verified yet: still creating (status creating): db-restored creating\n"), "{text}");
    log.add(
        200,
        REC,
        EntryKind::StepVerified {
            runbook: rb.clone(),
            step: st.clone(),
            component: "db-restored".into(),
            verified: true,
            detail: "db-restored available".into(),
        },
    );
    let text = log.render(ReportKind::Drill);
    assert!(text.contains("- **PASS** restore/from-snapshot:"), "{text}");
    assert!(!text.contains("not verified yet"), "{text}");
}

#[test]
fn comms_show_their_result_and_queued_ones_are_folded() {
    let mut log = GoldenLog::default();
    let queued = |id: &str, channel: crate::app::message::Channel| EntryKind::CommsQueued {
        id: id.into(),
        channel,
        template: crate::app::message::Template::Initial,
        summary: "DB primary down".into(),
        status: None,
        text: None,
        simulated: false,
        body: None,
    };
    log.add(
        0,
        "ana@bastion",
        queued("m1", crate::app::message::Channel::Slack),
    )
    .add(
        0,
        "ana@bastion",
        queued("m1", crate::app::message::Channel::StatusPage),
    )
    .add(
        5,
        "ana@bastion",
        EntryKind::CommsFailed {
            id: "m1".into(),
            channel: crate::app::message::Channel::Slack,
            reason: "429 Too Many Requests".into(),
            gave_up: false,
            retry_in: None,
        },
    )
    .add(
        10,
        "ana@bastion",
        EntryKind::CommsSent {
            id: "m1".into(),
            channel: crate::app::message::Channel::Slack,
            remote: None,
            simulated: false,
            found: false,
        },
    )
    .add(
        12,
        "ana@bastion",
        EntryKind::CommsFailed {
            id: "m1".into(),
            channel: crate::app::message::Channel::StatusPage,
            reason: "401 Unauthorized".into(),
            gave_up: true,
            retry_in: None,
        },
    );
    let text = log.render(ReportKind::Incident);
    assert!(text.contains("| 2026-11-25 03:00:00 UTC | slack | initial (m1): DB primary down | sent at 2026-11-25 03:00:10 UTC after 1 failed attempt (last: 429 Too Many Requests) |"), "{text}");
    assert!(text.contains("| 2026-11-25 03:00:00 UTC | statuspage | initial (m1): DB primary down | FAILED at 2026-11-25 03:00:12 UTC: 401 Unauthorized; gave up |"), "{text}");
    assert!(
        text.contains("| slack: sent m1 (initial: DB primary down) |"),
        "{text}"
    );
    assert!(
        text.contains("0 step output lines and 2 queued updates"),
        "{text}"
    );
}

#[test]
fn status_decides_resolved_and_the_duration() {
    let mut log = GoldenLog::default();
    log.add(30, "ana@bastion", declared(0))
        .add(
            40,
            REC,
            EntryKind::Severity {
                from: Severity::Healthy,
                to: Severity::Emergency,
                reasons: vec![],
            },
        )
        .add(
            50,
            REC,
            EntryKind::Severity {
                from: Severity::Emergency,
                to: Severity::Critical { unverified: false },
                reasons: vec![],
            },
        )
        .add(
            4320,
            "ana@bastion",
            EntryKind::Status {
                from: IncidentStatus::Investigating,
                to: IncidentStatus::Resolved,
            },
        );
    let f = log.facts();
    assert_eq!(f.resolved_at, Some(t(4320)));
    assert_eq!(f.duration(), Some(mins(72)));
    assert_eq!(f.worst, Some(Severity::Emergency));
    let text = log.render(ReportKind::Incident);
    assert!(text.contains("- **Duration**: 1h12m\n"), "{text}");
    assert!(text.contains("- **Worst severity**: EMERGENCY\n"), "{text}");
    assert!(
        text.contains("- **DR level**: L3 critical — whole region failure\n"),
        "{text}"
    );

    // Reopened: open again, measured to the last entry.
    log.add(
        4400,
        "ana@bastion",
        EntryKind::Status {
            from: IncidentStatus::Resolved,
            to: IncidentStatus::Monitoring,
        },
    )
    .add(4500, "ana@bastion", note("watching"));
    let f = log.facts();
    assert_eq!(f.resolved_at, None);
    assert_eq!(f.status, Some(IncidentStatus::Monitoring));
    let text = log.render(ReportKind::Incident);
    assert!(
        text.contains(
            "- **Duration**: still open: 1h15m as of the last entry (2026-11-25 04:15:00 UTC)\n"
        ),
        "{text}"
    );
    assert!(text.contains("- **Resolved**: not yet\n"), "{text}");
}

#[test]
fn watch_log_entries_before_the_declaration_sort_into_place() {
    let mut log = GoldenLog::default();
    log.add(120, "ana@bastion", declared(0))
        .add(0, REC, down("db", 0, 60, 15, lag(5)));
    let text = log.render(ReportKind::Incident);
    let down_at = text
        .find("| T+0s | recorder@bastion | db: UP → DOWN")
        .expect("down");
    let declared_at = text
        .find("| T+2m | ana@bastion | declared:")
        .expect("declared");
    assert!(down_at < declared_at, "{text}");
}

#[test]
fn an_empty_journal_says_none_everywhere() {
    let text = GoldenLog::default().render(ReportKind::Incident);
    assert!(text.starts_with("# Post-Incident Report: 2026-11-25T0300Z-region-outage\n"));
    for section in [
        "## Timeline",
        "## Actions",
        "## Recovery objectives (RTO/RPO)",
        "## Comms",
        "## Open follow-ups",
    ] {
        assert!(
            text.contains(&format!("{section}\n\nNone.\n")),
            "{section}: {text}"
        );
    }
    let text = GoldenLog::default().render(ReportKind::Drill);
    for section in [
        "## Test Results",
        "## RTO/RPO Metrics",
        "## Issues Identified",
        "## Recommendations",
    ] {
        assert!(
            text.contains(&format!("{section}\n\nNone.\n")),
            "{section}: {text}"
        );
    }
    assert!(text.contains("## Next Steps\n\n- Schedule follow-up meeting\n- Update DR procedures\n- Plan next test cycle\n"));
}

#[test]
fn a_broken_chain_and_skipped_lines_are_said() {
    let mut log = GoldenLog::default();
    log.add(0, "ana@bastion", declared(0))
        .add(10, "ana@bastion", note("x"));
    let verify = journal::VerifyReport {
        entries: 2,
        first_break: Some(
            "line 2 (seq 2): hash does not match its content — edited? (or the entry before it was)"
                .into(),
        ),
        warnings: vec![],
    };
    let extra = Loaded {
        torn: Some(TornLine { line: 4, bytes: 17 }),
        problems: vec![Problem {
            line: 3,
            why: "not JSON: \x1b[2Jbad".into(),
        }],
        ..Loaded::default()
    };
    let text = log.render_with(ReportKind::Incident, &verify, &extra);
    assert!(
        text.contains(
            "> **Warning: the journal's hash chain is broken** (first broken entry: line 2 (seq 2)"
        ),
        "{text}"
    );
    assert!(
        text.contains("- Hash chain: **BROKEN** over 2 entries; first broken entry: line 2 (seq 2): hash does not match"),
        "{text}"
    );
    assert!(
        text.contains("- Skipped: line 4, a torn last line (17 bytes)"),
        "{text}"
    );
    assert!(
        text.contains("- Skipped: line 3, not an entry: not JSON: bad."),
        "{text}"
    );
    let text = log.render(ReportKind::Incident);
    assert!(
        text.contains("- Hash chain: verified, intact over 2 entries.\n- Skipped lines: none.\n"),
        "{text}"
    );
    assert!(!text.contains("Warning"), "{text}");
}

#[test]
fn markdown_text_times_and_elapsed() {
    assert_eq!(md::text("a|b\\c<d\x1b[2J\ne"), "a\\|b\\\\c\\<d e");
    assert_eq!(md::text("db-primary: UP → DOWN"), "db-primary: UP → DOWN");
    assert_eq!(md::time(t(0)), "2026-11-25 03:00:00 UTC");
    assert_eq!(
        md::time(t(0) + SignedDuration::from_millis(999)),
        "2026-11-25 03:00:00 UTC"
    );
    assert_eq!(md::t_plus(t(0), t(30)), "T-30s");
    assert_eq!(md::t_plus(t(3720), t(0)), "T+1h02m");
    assert_eq!(md::t_plus(t(0), t(0)), "T+0s");
}
