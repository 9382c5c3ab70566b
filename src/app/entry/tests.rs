use super::*;
use crate::app::testkit::t;

fn severity_entry(from: Severity, to: Severity, reasons: Vec<String>) -> EntryKind {
    EntryKind::Severity { from, to, reasons }
}

#[test]
fn entries_read_as_one_line() {
    let e = EntryKind::ComponentState {
        component: "db".into(),
        from: HealthState::Up,
        to: HealthState::Down,
        reason: "refused".into(),
        since: t(0),
        rto: None,
        rpo: None,
        exposure: None,
    };
    assert_eq!(e.describe(), "db: UP → DOWN (refused)");
    let e = EntryKind::LagLevel {
        component: "db".into(),
        replica: "dr".into(),
        from: LagState::Ok,
        to: LagState::Warn,
        value: Some(40.0),
        detail: None,
    };
    assert_eq!(e.describe(), "db lag dr: OK → WARN (40s)");
    let e = EntryKind::Recovered {
        component: "db".into(),
        down_since: t(0),
        recovered_at: t(1800),
        took: SignedDuration::from_secs(1800),
        rto: Some(SignedDuration::from_secs(3600)),
    };
    assert_eq!(e.describe(), "db recovered after 30m (RTO 1h)");
    let e = severity_entry(
        Severity::Healthy,
        Severity::Critical { unverified: true },
        vec!["db (critical) UNKNOWN: timed out".into()],
    );
    assert_eq!(
        e.describe(),
        "severity: HEALTHY → CRITICAL (unverified) (db (critical) UNKNOWN: timed out)"
    );
}

#[test]
fn entries_serialize_for_the_journal() {
    let e = Entry {
        at: t(0),
        kind: EntryKind::RtoBreached {
            component: "db".into(),
            down_since: t(0),
            rto: SignedDuration::from_secs(3600),
        },
    };
    let json = serde_json::to_string(&e).expect("serializes");
    assert_eq!(
        json,
        r#"{"at":"2023-11-14T22:13:20Z","kind":{"type":"rto_breached","component":"db","down_since":"2023-11-14T22:13:20Z","rto":"PT1H"}}"#
    );
    let back: Entry = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, e);
}

/// One of every kind, each field set (options `Some`), so a field that does not survive
/// the journal shows. The match below has no wildcard: a new kind fails to compile here
/// until it is added to the list.
fn one_of_every_kind() -> Vec<EntryKind> {
    let d = SignedDuration::from_secs(90);
    let kinds = vec![
        EntryKind::ComponentState {
            component: "db".into(),
            from: HealthState::Up,
            to: HealthState::Down,
            reason: "refused".into(),
            since: t(1),
            rto: Some(d),
            rpo: Some(d),
            exposure: Some(Exposure::Backup { age: d }),
        },
        EntryKind::LagLevel {
            component: "db".into(),
            replica: "dr".into(),
            from: LagState::Ok,
            to: LagState::Warn,
            value: Some(61.5),
            detail: Some("ReplicaLag".into()),
        },
        EntryKind::BackupLevel {
            component: "db".into(),
            from: BackupState::Ok,
            to: BackupState::Missing,
            age: Some(3600.0),
            detail: Some("no snapshots".into()),
        },
        EntryKind::RpoExposure {
            component: "db".into(),
            from: RpoLevel::Ok,
            to: RpoLevel::Breached,
            exposure: Exposure::NoBackup,
            rpo: d,
        },
        EntryKind::RtoBreached {
            component: "db".into(),
            down_since: t(1),
            rto: d,
        },
        EntryKind::Recovered {
            component: "db".into(),
            down_since: t(1),
            recovered_at: t(2),
            took: d,
            rto: Some(d),
        },
        EntryKind::Severity {
            from: Severity::Healthy,
            to: Severity::Critical { unverified: true },
            reasons: vec!["db DOWN".into()],
        },
        EntryKind::Declared {
            title: "eu-west-1 down".into(),
            level: DrLevel::new(3).expect("level"),
            status: IncidentStatus::Investigating,
            commander: "ana@bastion".into(),
            started: t(0),
        },
        EntryKind::Status {
            from: IncidentStatus::Investigating,
            to: IncidentStatus::Resolved,
        },
        EntryKind::Note { text: "x".into() },
        EntryKind::JournalContinued {
            from: "a.jsonl".into(),
            last_seq: 7,
            last_hash: "ab".into(),
            reason: "planted".into(),
        },
        EntryKind::JournalUnsafe {
            path: "/j/incidents".into(),
            why: "writable by others".into(),
        },
        EntryKind::RolledOver {
            to: "watch.1.jsonl".into(),
            head_hash: "cd".into(),
        },
        EntryKind::Continues {
            from: "watch.1.jsonl".into(),
            last_seq: 9,
            last_hash: "ef".into(),
        },
        EntryKind::Recorder {
            pid: 42,
            previous: Some("bo@h pid 7".into()),
        },
        EntryKind::StepRequested {
            runbook: "failover".into(),
            step: "promote".into(),
        },
        EntryKind::StepConfirmed {
            runbook: "failover".into(),
            step: "promote".into(),
            override_reason: Some("lag read by hand".into()),
            inputs: [("time".to_string(), "2024-01-15T14:30:00Z".to_string())].into(),
            break_glass: Some("region gone".into()),
        },
        EntryKind::StepStarted {
            runbook: "failover".into(),
            step: "promote".into(),
            pid: 42,
            host: "bastion".into(),
            start: Some(123),
        },
        EntryKind::StepProcess {
            runbook: "failover".into(),
            step: "promote".into(),
            pgid: 43,
            start: 124,
            timeout: d,
            log: Some("incidents/i.steps/failover.promote.1.log".into()),
        },
        EntryKind::StepAdopted {
            runbook: "failover".into(),
            step: "promote".into(),
            pgid: 43,
        },
        EntryKind::StepOutput {
            runbook: "failover".into(),
            step: "promote".into(),
            summary: "3 lines".into(),
        },
        EntryKind::StepFinished {
            runbook: "failover".into(),
            step: "promote".into(),
            outcome: StepResult::Succeeded,
            took: d,
            detail: "available".into(),
        },
        EntryKind::StepVerified {
            runbook: "failover".into(),
            step: "promote".into(),
            component: "db-dr".into(),
            verified: true,
            detail: "db-dr UP ×2".into(),
        },
        EntryKind::GateOverridden {
            gate: "resolve".into(),
            reason: "customers can use the service".into(),
            detail: "announced resolved while not UP: db-primary DOWN".into(),
        },
        EntryKind::StepPending {
            runbook: "failover".into(),
            step: "restore".into(),
            postcondition: crate::app::outcome::Postcondition::RdsInstanceAvailable {
                region: "us-west-2".into(),
                instance: "restored".into(),
            },
            detail: "still creating (status creating): restored creating".into(),
        },
        EntryKind::StepReleased {
            runbook: "failover".into(),
            step: "promote".into(),
            reason: "pid 42 is gone".into(),
            pid: Some(42),
        },
        EntryKind::CommsQueued {
            id: "m1".into(),
            channel: crate::app::message::Channel::Slack,
            template: crate::app::message::Template::Initial,
            summary: "db down".into(),
            status: Some(IncidentStatus::Identified),
            text: Some("body".into()),
            simulated: true,
            body: Some("00ff".into()),
        },
        EntryKind::CommsSent {
            id: "m1".into(),
            channel: crate::app::message::Channel::Slack,
            remote: Some("1700000000.000100".into()),
            simulated: false,
            found: true,
        },
        EntryKind::CommsFailed {
            id: "m1".into(),
            channel: crate::app::message::Channel::Slack,
            reason: "429".into(),
            gave_up: false,
            retry_in: Some(d),
        },
    ];
    // Exhaustive on purpose (see above).
    for k in &kinds {
        match k {
            EntryKind::ComponentState { .. }
            | EntryKind::LagLevel { .. }
            | EntryKind::BackupLevel { .. }
            | EntryKind::RpoExposure { .. }
            | EntryKind::RtoBreached { .. }
            | EntryKind::Recovered { .. }
            | EntryKind::Severity { .. }
            | EntryKind::Declared { .. }
            | EntryKind::Status { .. }
            | EntryKind::Note { .. }
            | EntryKind::JournalContinued { .. }
            | EntryKind::JournalUnsafe { .. }
            | EntryKind::RolledOver { .. }
            | EntryKind::Continues { .. }
            | EntryKind::Recorder { .. }
            | EntryKind::StepRequested { .. }
            | EntryKind::StepConfirmed { .. }
            | EntryKind::StepStarted { .. }
            | EntryKind::StepProcess { .. }
            | EntryKind::StepAdopted { .. }
            | EntryKind::StepOutput { .. }
            | EntryKind::StepFinished { .. }
            | EntryKind::StepVerified { .. }
            | EntryKind::StepPending { .. }
            | EntryKind::GateOverridden { .. }
            | EntryKind::StepReleased { .. }
            | EntryKind::CommsQueued { .. }
            | EntryKind::CommsSent { .. }
            | EntryKind::CommsFailed { .. } => {}
        }
    }
    kinds
}

#[test]
fn every_kind_goes_to_the_journal_and_back() {
    let kinds = one_of_every_kind();
    let mut names = std::collections::BTreeSet::new();
    for k in kinds.iter().cloned() {
        let (kind, body) = k.to_journal();
        assert!(!body.contains_key("type"));
        assert_eq!(EntryKind::from_journal(&kind, &body), Some(k), "{kind}");
        names.insert(kind);
    }
    assert_eq!(names.len(), kinds.len(), "one entry per kind: {names:?}");
    let (kind, _) = EntryKind::Note { text: "x".into() }.to_journal();
    assert_eq!(kind, "note");
}

#[test]
fn levels_outside_one_to_four_do_not_read() {
    let mut body = Map::new();
    body.insert("title".into(), "t".into());
    body.insert("level".into(), 7.into());
    body.insert("status".into(), "investigating".into());
    body.insert("commander".into(), "a@h".into());
    body.insert("started".into(), "2023-11-14T22:13:20Z".into());
    assert_eq!(EntryKind::from_journal("declared", &body), None);
    body.insert("level".into(), 2.into());
    assert!(EntryKind::from_journal("declared", &body).is_some());
}

#[test]
fn unknown_kinds_are_kept_and_shown_generically() {
    let mut body = Map::new();
    body.insert("z".into(), "last".into());
    body.insert("a".into(), 1.into());
    body.insert("long".into(), "y".repeat(10_000).into());
    let e = journal::JournalEntry::seal(
        1,
        t(0),
        "ana@h".into(),
        "pager".into(),
        body,
        journal::GENESIS,
    );
    let r = Recorded::from_journal(&e);
    assert_eq!(r.group(), KindGroup::Other);
    let text = r.describe();
    assert!(text.starts_with("[pager] a=1, long=yyy"), "{text}");
    assert!(text.len() < 600, "bounded: {}", text.len());
}

#[test]
fn a_known_kind_with_wrong_fields_is_shown_generically_not_dropped() {
    let mut body = Map::new();
    body.insert("text".into(), 5.into());
    let e =
        journal::JournalEntry::seal(1, t(0), "a@h".into(), "note".into(), body, journal::GENESIS);
    let r = Recorded::from_journal(&e);
    assert_eq!(r.describe(), "[note] text=5");
}
