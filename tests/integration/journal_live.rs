//! The journal shared live between consoles on one host: the keeper (follow, recorder lock,
//! watch log, declare) driven directly, then two real consoles in pseudo-terminals.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::mpsc as tokio_mpsc;
use warroom::app::{DrLevel, Entry, EntryKind, HealthState, IncidentStatus, JournalEvent, Source};
use warroom::runtime::keeper::{Keeper, KeeperOptions, Mode, Request};

use crate::support::local::{closed_port, private_config};
use crate::support::pty::Pty;

/// How long a test waits for news before it fails (generous: the machine is shared; the
/// design figure is one poll, 250 ms).
const PATIENCE: Duration = Duration::from_secs(10);

struct Console {
    requests: Option<mpsc::Sender<Request>>,
    events: tokio_mpsc::Receiver<JournalEvent>,
    keeper: Option<Keeper>,
}

impl Console {
    fn start(dir: &Path, mode: Mode, actor: &str) -> Console {
        let (requests, rx) = mpsc::channel();
        let (tx, events) = tokio_mpsc::channel(1024);
        let mut o = KeeperOptions::new(dir.to_path_buf(), mode);
        o.actor = actor.into();
        o.poll = Duration::from_millis(50);
        o.recorder_retry = Duration::from_millis(200);
        let keeper = Keeper::spawn(o, rx, tx).expect("spawn the keeper");
        Console {
            requests: Some(requests),
            events,
            keeper: Some(keeper),
        }
    }

    fn ask(&self, r: Request) {
        self.requests
            .as_ref()
            .expect("running")
            .send(r)
            .expect("keeper alive");
    }

    fn note(&self, text: &str) {
        self.ask(Request::Append(Entry {
            at: Timestamp::now(),
            kind: EntryKind::Note { text: text.into() },
        }));
    }

    /// Waits for an event that `want` accepts; the events before it are dropped.
    fn wait(&mut self, what: &str, want: impl Fn(&JournalEvent) -> bool) -> JournalEvent {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            match self.events.try_recv() {
                Ok(e) if want(&e) => return e,
                Ok(_) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        panic!("no {what} within {PATIENCE:?}");
    }

    /// Ends the console: its keeper writes what is queued and releases the lock.
    fn stop(&mut self) -> Vec<Entry> {
        self.requests.take();
        self.keeper
            .take()
            .map(|k| k.finish().entries)
            .unwrap_or_default()
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.stop();
    }
}

fn has_note(e: &JournalEvent, text: &str) -> bool {
    let entries = match e {
        JournalEvent::Appended(v) | JournalEvent::Reset { entries: v, .. } => v,
        _ => return false,
    };
    entries
        .iter()
        .any(|e| e.kind == "note" && e.body.get("text").and_then(|t| t.as_str()) == Some(text))
}

fn journal_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    dir
}

#[test]
fn an_operator_and_an_observer_see_each_others_entries_and_the_observer_writes_nothing() {
    let dir = journal_dir();
    let mut ana = Console::start(dir.path(), Mode::Operator, "ana@bastion");
    ana.wait("the recorder lock", |e| {
        matches!(e, JournalEvent::Recorder { me: true, .. })
    });
    let mut obs = Console::start(dir.path(), Mode::Observer, "olga@bastion");
    obs.wait("who records", |e| {
        matches!(e, JournalEvent::Recorder { me: false, holder: Some(h) } if h.starts_with("ana@bastion pid "))
    });

    ana.note("DBA paged");
    ana.wait("its own note back from disk", |e| has_note(e, "DBA paged"));
    obs.wait("the operator's note", |e| has_note(e, "DBA paged"));

    let before = std::fs::read(dir.path().join("watch.jsonl")).expect("watch log");
    obs.note("an observer's note");
    obs.ask(Request::Declare {
        title: "observer".into(),
        level: DrLevel::new(1).expect("level"),
        status: IncidentStatus::Investigating,
        at: Timestamp::now(),
    });
    assert!(
        obs.stop().is_empty(),
        "nothing waiting: an observer writes nothing"
    );
    // Its keeper has ended: nothing it could write is still to come.
    assert_eq!(
        std::fs::read(dir.path().join("watch.jsonl")).expect("watch log"),
        before,
        "the observer wrote nothing"
    );
    assert!(
        !dir.path().join("incidents").exists()
            || std::fs::read_dir(dir.path().join("incidents"))
                .expect("dir")
                .flatten()
                .all(|e| !e.file_name().to_string_lossy().ends_with(".jsonl")),
        "the observer declared nothing"
    );
    let verified = warroom::journal::verify(&dir.path().join("watch.jsonl")).expect("verify");
    assert!(verified.ok(), "{verified:?}");
}

#[test]
fn declaring_starts_the_incident_at_the_first_failure_of_the_watch_log_for_every_console() {
    let dir = journal_dir();
    let mut ana = Console::start(dir.path(), Mode::Operator, "ana@bastion");
    ana.wait("the recorder lock", |e| {
        matches!(e, JournalEvent::Recorder { me: true, .. })
    });
    let mut obs = Console::start(dir.path(), Mode::Observer, "olga@bastion");
    let t = |s: i64| Timestamp::from_second(1_795_000_000 + s).expect("time");
    let state = |to: HealthState, at: i64| EntryKind::ComponentState {
        component: "db".into(),
        from: HealthState::Up,
        to,
        reason: "refused".into(),
        since: t(at),
        rto: None,
        rpo: None,
        exposure: None,
    };
    // An old blip that recovered, then the real failure.
    for (at, kind) in [
        (10, state(HealthState::Down, 10)),
        (
            20,
            EntryKind::Severity {
                from: warroom::app::Severity::Critical { unverified: false },
                to: warroom::app::Severity::Healthy,
                reasons: vec![],
            },
        ),
        (100, state(HealthState::Down, 100)),
        (
            130,
            EntryKind::Note {
                text: "looking".into(),
            },
        ),
    ] {
        ana.ask(Request::Append(Entry { at: t(at), kind }));
    }
    ana.wait("the note", |e| has_note(e, "looking"));
    ana.ask(Request::Declare {
        title: "db down".into(),
        level: DrLevel::new(2).expect("level"),
        status: IncidentStatus::Investigating,
        at: t(200),
    });
    for c in [&mut ana, &mut obs] {
        let JournalEvent::Reset { source, entries } = c.wait("the incident", |e| {
            matches!(
                e,
                JournalEvent::Reset {
                    source: Source::Incident { .. },
                    ..
                }
            )
        }) else {
            unreachable!()
        };
        assert!(matches!(source, Source::Incident { drill: false, .. }));
        let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["component_state", "note", "declared"],
            "from the first failure on"
        );
        assert_eq!(entries[0].at, t(100));
        assert!(entries[0].body.contains_key("watch_seq"));
        assert_eq!(
            entries[2].body.get("started").and_then(|v| v.as_str()),
            Some(t(100).to_string().as_str())
        );
        assert_eq!(
            entries[2].body.get("commander").and_then(|v| v.as_str()),
            Some("ana@bastion")
        );
    }
    // A second declaration while one is open joins it instead of making another.
    ana.ask(Request::Declare {
        title: "again".into(),
        level: DrLevel::new(1).expect("level"),
        status: IncidentStatus::Investigating,
        at: t(300),
    });
    ana.wait(
        "why nothing was declared",
        |e| matches!(e, JournalEvent::Problem(Some(p)) if p.contains("already open")),
    );
    let files = std::fs::read_dir(dir.path().join("incidents"))
        .expect("incidents")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".jsonl"))
        .count();
    assert_eq!(files, 1);
    // Resolving sends every console back to the watch log.
    ana.ask(Request::Append(Entry {
        at: t(400),
        kind: EntryKind::Status {
            from: IncidentStatus::Investigating,
            to: IncidentStatus::Resolved,
        },
    }));
    obs.wait("the watch log again", |e| {
        matches!(
            e,
            JournalEvent::Reset {
                source: Source::Watch,
                ..
            }
        )
    });
}

#[test]
fn another_operator_console_takes_over_recording_when_the_recorder_goes() {
    let dir = journal_dir();
    let mut ana = Console::start(dir.path(), Mode::Operator, "ana@bastion");
    ana.wait("the recorder lock", |e| {
        matches!(e, JournalEvent::Recorder { me: true, .. })
    });
    let mut bo = Console::start(dir.path(), Mode::Operator, "bo@bastion");
    bo.wait("who records", |e| {
        matches!(e, JournalEvent::Recorder { me: false, holder: Some(h) } if h.starts_with("ana@bastion"))
    });
    ana.stop();
    bo.wait("the takeover", |e| {
        matches!(e, JournalEvent::Recorder { me: true, .. })
    });
    // `wait` fails the test unless a takeover entry naming the previous holder arrives.
    bo.wait("the takeover entry", |e| match e {
        JournalEvent::Appended(v) => v.iter().any(|e| {
            e.kind == "recorder"
                && e.actor == "bo@bastion"
                && e.body
                    .get("previous")
                    .and_then(|p| p.as_str())
                    .is_some_and(|p| p.starts_with("ana@bastion pid "))
        }),
        _ => false,
    });
}

#[test]
fn a_write_that_fails_is_kept_reported_and_handed_back_not_lost() {
    let dir = journal_dir();
    // The watch log's name is taken by a directory: every append fails.
    std::fs::create_dir(dir.path().join("watch.jsonl")).expect("mkdir");
    let mut ana = Console::start(dir.path(), Mode::Operator, "ana@bastion");
    ana.note("must not be lost");
    ana.wait(
        "the problem",
        |e| matches!(e, JournalEvent::Problem(Some(p)) if p.contains("not yet written")),
    );
    let unwritten = ana.stop();
    assert!(
        unwritten.iter().any(|e| e.kind
            == EntryKind::Note {
                text: "must not be lost".into()
            }),
        "{unwritten:?}"
    );
}

// ------------------------------------------------------------ two real consoles

fn estate(dir: &Path) -> std::path::PathBuf {
    // A port nothing listens on: the component is DOWN, which the recorder writes.
    let port = closed_port();
    private_config(
        dir,
        &format!(
            r#"
[console]
title = "Two consoles"

[[component]]
id = "db"
tier = "critical"
rto = "1h"
health = {{ kind = "tcp", address = "127.0.0.1:{port}", every = "1s", timeout = "1s" }}
"#
        ),
    )
}

#[test]
fn an_operator_console_and_an_observer_console_follow_each_other_and_the_recorder_hands_over() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = journal_dir();
    let config = estate(home.path());
    let (config, data_dir) = (
        config.to_string_lossy().into_owned(),
        data.path().to_string_lossy().into_owned(),
    );
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut a = vec![
            "-c".to_string(),
            config.clone(),
            "--data-dir".into(),
            data_dir.clone(),
            "--layout".into(),
            "bastion".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let spawn = |extra: &[&'static str]| {
        let a = args(extra);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        Pty::spawn(&a, 200, 50, home.path(), &[])
    };
    let mut operator = spawn(&[]);
    operator
        .wait_for("REC", PATIENCE)
        .expect("the first operator records");
    let mut observer = spawn(&["--read-only"]);
    observer.wait_for("[RO]", PATIENCE).expect("observer up");
    // The recorder's automatic entry reaches the observer.
    observer
        .wait_for("db: UNKNOWN → DOWN", PATIENCE)
        .expect("the DOWN recorded by the operator console");

    // A note typed on the operator console shows on the observer's.
    operator.send(b"n");
    operator.wait_for("Note", PATIENCE).expect("note dialog");
    operator.send(b"replica promoted by hand\r");
    observer
        .wait_for("note: replica promoted by hand", PATIENCE)
        .expect("the note on the observer console");

    // The observer cannot declare or note.
    observer.send(b"d");
    observer
        .wait_for("read-only console: cannot declare", PATIENCE)
        .expect("why d does nothing");
    observer.send(b"n");
    observer
        .wait_for("read-only console: cannot add a note", PATIENCE)
        .expect("why n does nothing");

    // Declared on the operator console: the observer follows the incident.
    operator.send(b"d");
    operator
        .wait_for("Declare an incident", PATIENCE)
        .expect("dialog");
    operator.send(b"db gone\t2\r");
    observer
        .wait_for("L2 investigating: db gone", PATIENCE)
        .expect("the incident on the observer console");

    // A second operator console; the first quits; the second takes over the recording.
    let mut second = spawn(&[]);
    second
        .wait_for("rec ", PATIENCE)
        .expect("the second shows who records");
    operator.send(b"q");
    assert!(
        operator.wait_exit(PATIENCE).is_some(),
        "the first operator quit"
    );
    second
        .wait_for("REC", PATIENCE)
        .expect("the second operator console took over recording");
    observer
        .wait_for(") took", PATIENCE)
        .expect("the takeover in the journal, seen by the observer");
    second.send(b"q");
    observer.send(b"q");
    assert!(second.wait_exit(PATIENCE).is_some());
    assert!(observer.wait_exit(PATIENCE).is_some());

    let incident = warroom::journal::latest(&data.path().join("incidents")).expect("incident");
    let report = warroom::journal::verify(&incident).expect("verify");
    assert!(report.ok(), "{report:?}");
    let text = std::fs::read_to_string(&incident).expect("read");
    assert!(text.contains("\"kind\":\"declared\""), "{text}");
    assert!(
        text.contains("replica promoted by hand"),
        "copied from the watch log: {text}"
    );
}

#[test]
fn a_drill_declares_into_the_drills_journal_from_its_first_failure_and_reports_as_a_dr_test() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = journal_dir();
    let data_dir = data.path().to_string_lossy().into_owned();
    let mut drill = Pty::spawn(
        &[
            "drill",
            "--speed",
            "10",
            "--data-dir",
            &data_dir,
            "--layout",
            "bastion",
        ],
        200,
        50,
        home.path(),
        &[],
    );
    drill
        .wait_for("db-primary: UNKNOWN → DOWN", PATIENCE)
        .expect("the scenario's failure recorded by the drill");
    drill.send(b"d");
    drill
        .wait_for("Declare an incident", PATIENCE)
        .expect("dialog");
    drill.send(b"drill: region down\t3\r");
    drill
        .wait_for("L3 investigating: drill: region down", PATIENCE)
        .expect("declared");
    drill.send(b"nfollow-up: rehearse the DNS switch\r");
    drill
        .wait_for("note: follow-up: rehearse the DNS switch", PATIENCE)
        .expect("the note");
    drill.send(b"q");
    assert!(drill.wait_exit(PATIENCE).is_some());
    assert!(
        !data.path().join("watch.jsonl").exists(),
        "a drill's watch log stays in memory"
    );
    let drills = data.path().join("incidents").join("drills");
    let file = warroom::journal::latest(&drills).expect("a drill journal");
    let loaded = warroom::journal::load(&file).expect("load");
    let declared = loaded
        .entries
        .iter()
        .find(|e| e.kind == "declared")
        .expect("declared");
    let started = declared
        .body
        .get("started")
        .and_then(|v| v.as_str())
        .expect("started");
    let started: Timestamp = started.parse().expect("started is a time");
    assert!(
        started < declared.at,
        "the incident starts at the scenario's first failure, before the key press"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["report", "--data-dir", &data_dir])
        .arg(&file)
        .output()
        .expect("report");
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(
        report.starts_with("# Disaster Recovery Test Report"),
        "{report}"
    );
    assert!(report.contains("rehearse the DNS switch"), "{report}");
}

#[test]
fn the_recorder_rolls_a_large_watch_log_over_and_keeps_the_old_one() {
    let dir = journal_dir();
    let watch = dir.path().join("watch.jsonl");
    {
        let j = warroom::journal::Journal::open(&watch).expect("open");
        for i in 0..50 {
            let (kind, body) = EntryKind::Note {
                text: format!("old note {i}"),
            }
            .to_journal();
            j.append(&kind, body, Timestamp::now()).expect("append");
        }
    }
    // Another console follows the watch log as it rolls over: a new, shorter file that says
    // what it continues is no tampering.
    let mut obs = Console::start(dir.path(), Mode::Observer, "olga@bastion");
    obs.wait("the old notes", |e| has_note(e, "old note 49"));
    let (requests, rx) = mpsc::channel();
    let (tx, mut events) = tokio_mpsc::channel(1024);
    let mut o = KeeperOptions::new(dir.path().to_path_buf(), Mode::Operator);
    o.poll = Duration::from_millis(50);
    o.watch_max_bytes = 1024;
    let keeper = Keeper::spawn(o, rx, tx).expect("spawn");
    let deadline = Instant::now() + PATIENCE;
    while !dir.path().join("watch.1.jsonl").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Every event until it follows the new watch log, and after: never TAMPERED (`wait`
    // would drop the events before the one it waits for).
    let deadline = Instant::now() + PATIENCE;
    loop {
        assert!(
            Instant::now() < deadline,
            "never followed the new watch log"
        );
        match obs.events.try_recv() {
            Ok(e) => {
                assert!(!tampered(&e), "{e:?}");
                if matches!(&e, JournalEvent::Reset { entries, .. } if entries.first().is_some_and(|e| e.kind == "continues"))
                {
                    break;
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    while let Ok(e) = obs.events.try_recv() {
        assert!(!tampered(&e), "{e:?}");
    }
    obs.stop();
    drop(requests);
    assert!(keeper.finish().is_empty());
    while events.try_recv().is_ok() {}
    let old = warroom::journal::load(&dir.path().join("watch.1.jsonl")).expect("rolled");
    assert!(old.entries.len() >= 50, "the old watch log is kept whole");
    let last = old.entries.last().expect("a last entry");
    assert_eq!(last.kind, "rolled_over");
    assert_eq!(last.body["to"], "watch.1.jsonl");
    assert_eq!(
        last.body["head_hash"],
        old.entries[old.entries.len() - 2].hash
    );
    let first = warroom::journal::load(&watch).expect("new").entries[0].clone();
    assert_eq!(first.kind, "continues");
    assert_eq!(first.body["from"], "watch.1.jsonl");
    assert_eq!(first.body["last_seq"], last.seq);
    assert_eq!(first.body["last_hash"], last.hash);
    assert!(
        warroom::journal::verify(&dir.path().join("watch.1.jsonl"))
            .expect("verify")
            .ok()
    );
    let new = warroom::journal::load(&watch)
        .map(|l| l.entries.len())
        .unwrap_or(0);
    assert!(new < 50, "a fresh watch log: {new} entries");
}

#[test]
fn a_claim_left_by_a_dead_process_of_this_host_is_released_as_interrupted() {
    let dir = journal_dir();
    // A process that has ended: its pid is free.
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let dead = child.id();
    child.wait().expect("wait");
    let actor = warroom::journal::actor();
    let host = actor.split('@').nth(1).unwrap_or_default().to_string();
    {
        let j = warroom::journal::Journal::open(&dir.path().join("watch.jsonl")).expect("open");
        let (kind, body) = EntryKind::StepStarted {
            runbook: "failover".into(),
            step: "promote".into(),
            pid: dead,
            host: host.clone(),
            start: None,
        }
        .to_journal();
        j.append(&kind, body, Timestamp::now()).expect("append");
    }
    let mut ana = Console::start(dir.path(), Mode::Operator, &actor);
    let released = ana.wait("the release", |e| match e {
        JournalEvent::Appended(v) => v.iter().any(|e| e.kind == "step_released"),
        _ => false,
    });
    let JournalEvent::Appended(v) = released else {
        unreachable!()
    };
    let e = v
        .iter()
        .find(|e| e.kind == "step_released")
        .expect("released");
    let reason = e
        .body
        .get("reason")
        .and_then(|r| r.as_str())
        .unwrap_or_default();
    assert!(
        reason.contains(&format!("pid {dead}")) && reason.contains("verify by hand"),
        "{reason}"
    );
}

#[test]
fn a_note_the_journal_cannot_take_is_kept_in_a_file_when_the_console_ends() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = journal_dir();
    // The watch log's name is taken by a directory: every append fails.
    std::fs::create_dir(data.path().join("watch.jsonl")).expect("mkdir");
    let config = estate(home.path()).to_string_lossy().into_owned();
    let data_dir = data.path().to_string_lossy().into_owned();
    let mut console = Pty::spawn(
        &[
            "-c",
            &config,
            "--data-dir",
            &data_dir,
            "--layout",
            "bastion",
        ],
        160,
        40,
        home.path(),
        &[],
    );
    console.wait_for("[RW]", PATIENCE).expect("console");
    console.send(b"n");
    console.wait_for("Note", PATIENCE).expect("note dialog");
    console.send(b"must survive\r");
    console
        .wait_for("not yet written", PATIENCE)
        .expect("the header says the journal is not taking it");
    console.send(b"q");
    assert!(console.wait_exit(PATIENCE).is_some());
    let state = home.path().join("xdg-state").join("warroom");
    let kept: Vec<String> = std::fs::read_dir(&state)
        .expect("state dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("unwritten-"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    assert!(
        kept.iter().any(|k| k.contains("must survive")),
        "the note is kept: {kept:?}"
    );
}

/// A claim made by a live process of another host, written straight into `path`.
fn claim_in(path: &Path, runbook: &str, step: &str) {
    let j = warroom::journal::Journal::open(path)
        .expect("open")
        .with_actor("bo@other-host");
    let (kind, body) = EntryKind::StepStarted {
        runbook: runbook.into(),
        step: step.into(),
        pid: 4242,
        host: "other-host".into(),
        start: None,
    }
    .to_journal();
    j.append(&kind, body, Timestamp::now()).expect("append");
}

fn claim_answer(c: &mut Console, step: &str) -> (bool, Option<String>) {
    claim_answer_with(c, step, None)
}

fn claim_answer_with(
    c: &mut Console,
    step: &str,
    break_glass: Option<&str>,
) -> (bool, Option<String>) {
    c.ask(Request::Claim {
        runbook: "failover".into(),
        step: step.into(),
        at: Timestamp::now(),
        break_glass: break_glass.map(str::to_string),
    });
    let wanted = step.to_string();
    match c.wait(
        "the claim's answer",
        |e| matches!(e, JournalEvent::Claimed { step, .. } if *step == wanted),
    ) {
        JournalEvent::Claimed { granted, why, .. } => (granted, why),
        _ => unreachable!(),
    }
}

#[test]
fn a_step_running_in_another_source_cannot_be_started_again() {
    let dir = journal_dir();
    let mut ana = Console::start(dir.path(), Mode::Operator, "ana@bastion");
    ana.wait("the watch log", |e| {
        matches!(
            e,
            JournalEvent::Reset {
                source: Source::Watch,
                ..
            }
        )
    });
    // Claimed on the watch log before any incident: carried into the incident declared
    // later, where it cannot be started again.
    claim_in(&dir.path().join("watch.jsonl"), "failover", "promote");
    ana.ask(Request::Declare {
        title: "db down".into(),
        level: DrLevel::new(2).expect("2"),
        status: IncidentStatus::Investigating,
        at: Timestamp::now(),
    });
    let reset = ana.wait("the incident", |e| {
        matches!(
            e,
            JournalEvent::Reset {
                source: Source::Incident { .. },
                ..
            }
        )
    });
    let JournalEvent::Reset { entries, .. } = reset else {
        unreachable!()
    };
    assert!(
        entries.iter().any(|e| e.kind == "step_started"),
        "the running claim came along: {entries:?}"
    );
    let (granted, why) = claim_answer(&mut ana, "promote");
    assert!(!granted, "started twice");
    assert!(why.is_some_and(|w| w.contains("bo@other-host")));
    // Claimed in the incident, which is then resolved: the consoles follow the watch log, but
    // the step still runs and cannot be started from there.
    let incident = warroom::journal::latest(&warroom::journal::incidents_dir(dir.path()))
        .expect("the incident");
    claim_in(&incident, "failover", "dns");
    ana.ask(Request::Append(Entry {
        at: Timestamp::now(),
        kind: EntryKind::Status {
            from: IncidentStatus::Investigating,
            to: IncidentStatus::Resolved,
        },
    }));
    ana.wait("back on the watch log", |e| {
        matches!(
            e,
            JournalEvent::Reset {
                source: Source::Watch,
                ..
            }
        )
    });
    let (granted, why) = claim_answer(&mut ana, "dns");
    assert!(!granted, "started again from the watch log");
    assert!(why.is_some_and(|w| w.contains("already running")));
    // A step nobody runs is granted.
    let (granted, _) = claim_answer(&mut ana, "validate");
    assert!(granted);
}

#[test]
fn a_claim_made_just_after_another_console_declared_goes_to_the_incident() {
    let dir = journal_dir();
    let mut ana = Console::start(dir.path(), Mode::Operator, "ana@bastion");
    let mut bo = Console::start(dir.path(), Mode::Operator, "bo@bastion");
    ana.wait("the watch log", |e| {
        matches!(
            e,
            JournalEvent::Reset {
                source: Source::Watch,
                ..
            }
        )
    });
    bo.wait("the watch log", |e| {
        matches!(
            e,
            JournalEvent::Reset {
                source: Source::Watch,
                ..
            }
        )
    });
    bo.ask(Request::Declare {
        title: "db down".into(),
        level: DrLevel::new(2).expect("2"),
        status: IncidentStatus::Investigating,
        at: Timestamp::now(),
    });
    bo.wait("bo's incident", |e| {
        matches!(
            e,
            JournalEvent::Reset {
                source: Source::Incident { .. },
                ..
            }
        )
    });
    // Ana asks at once, before her poll noticed the incident.
    let (granted, _) = claim_answer(&mut ana, "promote");
    assert!(granted);
    let incident = warroom::journal::latest(&warroom::journal::incidents_dir(dir.path()))
        .expect("the incident");
    let lines = warroom::journal::load(&incident).expect("load").entries;
    assert!(
        lines.iter().any(|e| e.kind == "step_started"),
        "the claim is in the incident, where everyone looks"
    );
    let watch = warroom::journal::load(&dir.path().join("watch.jsonl"))
        .map(|l| l.entries)
        .unwrap_or_default();
    assert!(!watch.iter().any(|e| e.kind == "step_started"));
}

fn tampered(e: &JournalEvent) -> bool {
    matches!(e, JournalEvent::Problem(Some(p)) if p.contains("JOURNAL TAMPERED"))
}

/// A line in the journal's own format that does not chain: `seq` and `prev` are the
/// attacker's choice.
fn planted(seq: u64, prev: &str, text: &str) -> String {
    let mut body = serde_json::Map::new();
    body.insert("text".into(), text.into());
    warroom::journal::JournalEntry::seal(
        seq,
        Timestamp::now(),
        "eve@bastion".into(),
        "note".into(),
        body,
        prev,
    )
    .to_line()
        + "\n"
}

fn append_raw(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open the watch log");
    f.write_all(text.as_bytes()).expect("append");
}

#[test]
fn a_line_followed_live_that_does_not_chain_is_tampering_never_shown_and_never_chained_onto() {
    let dir = journal_dir();
    let watch = dir.path().join("watch.jsonl");
    let mut ana = Console::start(dir.path(), Mode::Operator, "ana@bastion");
    ana.wait("the recorder lock", |e| {
        matches!(e, JournalEvent::Recorder { me: true, .. })
    });
    ana.note("genuine");
    ana.wait("its note", |e| has_note(e, "genuine"));
    let mut obs = Console::start(dir.path(), Mode::Observer, "olga@bastion");
    obs.wait("the note", |e| has_note(e, "genuine"));

    // A well-formed line whose hash does not follow the last entry.
    let before = std::fs::read_to_string(&watch).expect("watch log");
    append_raw(
        &watch,
        &planted(2, warroom::journal::GENESIS, "We have been breached"),
    );
    ana.wait("TAMPERED on the operator's screen", tampered);
    obs.wait("TAMPERED on the observer's screen", tampered);
    // Nothing after the break is shown as the journal's, and nothing is chained onto it.
    ana.note("after the plant");
    // The positive signal first: the keeper tried the note and held it. Nothing it told the
    // console until then showed the planted line or the held note as the journal's.
    let deadline = Instant::now() + PATIENCE;
    loop {
        assert!(Instant::now() < deadline, "the note was never held");
        match ana.events.try_recv() {
            Ok(JournalEvent::Problem(Some(p))) if p.contains("held until it is continued") => {
                break;
            }
            Ok(e) => {
                assert!(!has_note(&e, "We have been breached"), "{e:?}");
                assert!(!has_note(&e, "after the plant"), "{e:?}");
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    let after = std::fs::read_to_string(&watch).expect("watch log");
    assert!(after.starts_with(&before));
    assert!(
        !after.contains("after the plant"),
        "appended to a tampered journal"
    );
    // What could not be written is handed back, not lost.
    let left = ana.stop();
    assert!(
        left.iter()
            .any(|e| matches!(&e.kind, EntryKind::Note { text } if text == "after the plant"))
    );
}

#[test]
fn a_max_seq_line_refuses_every_claim_and_a_shrunk_journal_is_tampering_not_a_reload() {
    let dir = journal_dir();
    let watch = dir.path().join("watch.jsonl");
    let mut ana = Console::start(dir.path(), Mode::Operator, "ana@bastion");
    ana.wait("the recorder lock", |e| {
        matches!(e, JournalEvent::Recorder { me: true, .. })
    });
    ana.note("one");
    ana.wait("its note", |e| has_note(e, "one"));
    let last = std::fs::read_to_string(&watch)
        .expect("watch log")
        .lines()
        .last()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .expect("a line");
    let hash = last["hash"].as_str().expect("hash").to_string();
    append_raw(&watch, &planted(u64::MAX, &hash, "max"));
    ana.wait("TAMPERED", tampered);
    let (granted, why) = claim_answer(&mut ana, "promote");
    assert!(!granted, "a claim after a planted max seq");
    assert!(why.is_some_and(|w| w.contains("JOURNAL TAMPERED")));

    // Another journal dir: the watch log shrinks under a follower.
    let dir2 = journal_dir();
    let watch2 = dir2.path().join("watch.jsonl");
    let mut bo = Console::start(dir2.path(), Mode::Operator, "bo@bastion");
    bo.wait("the recorder lock", |e| {
        matches!(e, JournalEvent::Recorder { me: true, .. })
    });
    bo.note("first");
    bo.wait("first", |e| has_note(e, "first"));
    bo.note("second");
    bo.wait("second", |e| has_note(e, "second"));
    let text = std::fs::read_to_string(&watch2).expect("watch log");
    let first_line = text.lines().next().expect("a line").to_string() + "\n";
    std::fs::write(&watch2, first_line).expect("shrink");
    let e = bo.wait("TAMPERED, or a silent reload", |e| {
        tampered(e) || matches!(e, JournalEvent::Reset { .. })
    });
    assert!(
        tampered(&e),
        "a shorter journal was reloaded silently: {e:?}"
    );
}

#[test]
fn a_declaration_racing_the_recorders_appends_loses_no_line_to_the_watch_log() {
    let dir = journal_dir();
    let mut ana = Console::start(dir.path(), Mode::Operator, "ana@bastion");
    ana.wait("the recorder lock", |e| {
        matches!(e, JournalEvent::Recorder { me: true, .. })
    });
    let mut bo = Console::start(dir.path(), Mode::Operator, "bo@bastion");
    bo.wait("who records", |e| {
        matches!(e, JournalEvent::Recorder { me: false, .. })
    });
    ana.ask(Request::Append(Entry {
        at: Timestamp::now(),
        kind: EntryKind::ComponentState {
            component: "db".into(),
            from: HealthState::Up,
            to: HealthState::Down,
            reason: "refused".into(),
            since: Timestamp::now(),
            rto: None,
            rpo: None,
            exposure: None,
        },
    }));
    // The recorder writes line after line while the other console declares.
    const LINES: usize = 200;
    let sender = ana.requests.clone().expect("running");
    let writer = std::thread::spawn(move || {
        for i in 0..LINES {
            let _ = sender.send(Request::Append(Entry {
                at: Timestamp::now(),
                kind: EntryKind::Note {
                    text: format!("line {i}"),
                },
            }));
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    std::thread::sleep(Duration::from_millis(100));
    bo.ask(Request::Declare {
        title: "db down".into(),
        level: DrLevel::new(2).expect("level"),
        status: IncidentStatus::Investigating,
        at: Timestamp::now(),
    });
    writer.join().expect("writer");
    ana.wait("the last line", |e| {
        has_note(e, &format!("line {}", LINES - 1))
    });
    ana.stop();
    bo.stop();
    let incident = std::fs::read_dir(dir.path().join("incidents"))
        .expect("incidents")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .expect("the incident journal");
    let text = std::fs::read_to_string(&incident).expect("incident");
    let missing: Vec<usize> = (0..LINES)
        .filter(|i| !text.contains(&format!("\"line {i}\"")))
        .collect();
    assert!(
        missing.is_empty(),
        "lines written around the declaration are missing from the incident: {missing:?}"
    );
}

#[test]
fn a_recorder_lock_that_is_a_link_is_never_followed_and_its_victim_is_untouched() {
    let dir = journal_dir();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").expect("victim");
    std::os::unix::fs::symlink(&victim, dir.path().join("recorder.lock")).expect("link");
    let mut ana = Console::start(dir.path(), Mode::Operator, "ana@bastion");
    ana.wait("JOURNAL UNSAFE", |e| {
        matches!(e, JournalEvent::Problem(Some(p)) if p.contains("JOURNAL UNSAFE") && p.contains("recorder.lock"))
    });
    ana.note("no recorder");
    ana.wait("the note", |e| has_note(e, "no recorder"));
    ana.stop();
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious\n",
        "the victim was written through the link"
    );
    assert!(
        !std::fs::read_to_string(dir.path().join("watch.jsonl"))
            .unwrap_or_default()
            .contains("precious"),
        "the victim's content was copied into the journal"
    );
}

fn untampered(e: &JournalEvent) -> bool {
    matches!(e, JournalEvent::Problem(p) if !p.as_deref().is_some_and(|p| p.contains("JOURNAL TAMPERED")))
}

#[test]
fn continue_journal_starts_a_new_file_from_the_last_verified_entry_and_nothing_typed_is_lost() {
    let dir = journal_dir();
    let mut ana = Console::start(dir.path(), Mode::Operator, "ana@bastion");
    records_and_declares(&mut ana);
    ana.note("before");
    ana.wait("before", |e| has_note(e, "before"));
    let mut obs = Console::start(dir.path(), Mode::Observer, "olga@bastion");
    obs.wait("the incident", |e| has_note(e, "before"));
    let incidents = dir.path().join("incidents");
    let file = warroom::journal::latest(&incidents).expect("the incident file");
    let text = std::fs::read_to_string(&file).expect("read");
    let last: serde_json::Value =
        serde_json::from_str(text.lines().last().expect("a line")).expect("json");
    append_raw(&file, &planted(99, warroom::journal::GENESIS, "planted"));
    ana.wait("TAMPERED", tampered);
    obs.wait("TAMPERED", tampered);
    ana.note("while tampered");

    ana.ask(Request::Continue {
        reason: "line 7 planted by eve; reported to security".into(),
        at: Timestamp::now(),
    });
    ana.wait("trusted again", untampered);
    ana.wait("the held note, now written", |e| {
        has_note(e, "while tampered")
    });
    ana.note("after");
    ana.wait("after", |e| has_note(e, "after"));
    obs.wait("the observer follows the continuation", |e| {
        has_note(e, "after")
    });

    let next = warroom::journal::latest(&incidents).expect("the continuation");
    assert_ne!(next, file);
    assert!(
        next.to_string_lossy().ends_with(".2.jsonl"),
        "{}",
        next.display()
    );
    let report = warroom::journal::verify(&next).expect("verify");
    assert!(report.ok(), "{:?}", report.first_break);
    let loaded = warroom::journal::load(&next).expect("load");
    let first = &loaded.entries[0];
    assert_eq!(first.kind, "journal_continued");
    assert_eq!(first.body["last_seq"], last["seq"]);
    assert_eq!(first.body["last_hash"], last["hash"]);
    assert!(loaded.entries.iter().any(|e| e.kind == "declared"));
    // The tampered file is kept as it was: evidence.
    assert!(
        std::fs::read_to_string(&file)
            .expect("read")
            .contains("planted")
    );
}

#[test]
fn an_incident_journal_shorter_than_seen_before_a_restart_is_tampered() {
    let dir = journal_dir();
    let state = journal_dir();
    let seen = state.path().join("journals-seen.json");
    let start = |actor: &str| {
        let (requests, rx) = mpsc::channel();
        let (tx, events) = tokio_mpsc::channel(1024);
        let mut o = KeeperOptions::new(dir.path().to_path_buf(), Mode::Operator);
        o.actor = actor.into();
        o.poll = Duration::from_millis(50);
        o.recorder_retry = Duration::from_millis(200);
        o.seen = Some(seen.clone());
        Console {
            requests: Some(requests),
            events,
            keeper: Some(Keeper::spawn(o, rx, tx).expect("keeper")),
        }
    };
    let mut ana = start("ana@bastion");
    records_and_declares(&mut ana);
    ana.note("one");
    ana.wait("one", |e| has_note(e, "one"));
    ana.note("two");
    ana.wait("two", |e| has_note(e, "two"));
    ana.stop();
    // While no console runs, the last line goes.
    let file = warroom::journal::latest(&dir.path().join("incidents")).expect("incident");
    let text = std::fs::read_to_string(&file).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    let cut: String = lines[..lines.len() - 1]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, cut).expect("cut");
    let mut bo = start("bo@bastion");
    let e = bo.wait("TAMPERED", tampered);
    assert!(
        matches!(&e, JournalEvent::Problem(Some(p)) if p.contains("shorter than")),
        "{e:?}"
    );
}

#[test]
fn the_incident_starts_when_the_failure_began_not_when_it_was_confirmed() {
    let dir = journal_dir();
    let mut ana = Console::start(dir.path(), Mode::Operator, "ana@bastion");
    ana.wait("the recorder lock", |e| {
        matches!(e, JournalEvent::Recorder { me: true, .. })
    });
    let t = |s: i64| Timestamp::from_second(1_795_000_000 + s).expect("time");
    // The first failing answer at 85; confirmed (confirm_after) at 100.
    ana.ask(Request::Append(Entry {
        at: t(100),
        kind: EntryKind::ComponentState {
            component: "db".into(),
            from: HealthState::Up,
            to: HealthState::Down,
            reason: "refused".into(),
            since: t(85),
            rto: None,
            rpo: None,
            exposure: None,
        },
    }));
    ana.note("looking");
    ana.wait("the note", |e| has_note(e, "looking"));
    ana.ask(Request::Declare {
        title: "db down".into(),
        level: DrLevel::new(2).expect("level"),
        status: IncidentStatus::Investigating,
        at: t(200),
    });
    let JournalEvent::Reset { entries, .. } = ana.wait("the incident", |e| {
        matches!(
            e,
            JournalEvent::Reset {
                source: Source::Incident { .. },
                ..
            }
        )
    }) else {
        unreachable!()
    };
    let declared = entries
        .iter()
        .find(|e| e.kind == "declared")
        .expect("the declaration");
    assert_eq!(
        declared.body["started"],
        serde_json::Value::from(t(85).to_string()),
        "{declared:?}"
    );
}

/// Waits until `c` records, then declares an incident there and waits until it follows it.
fn records_and_declares(c: &mut Console) {
    c.wait("the recorder lock", |e| {
        matches!(e, JournalEvent::Recorder { me: true, .. })
    });
    c.ask(Request::Declare {
        title: "db down".into(),
        level: DrLevel::new(2).expect("level"),
        status: IncidentStatus::Investigating,
        at: Timestamp::now(),
    });
    c.wait("the incident", |e| {
        matches!(
            e,
            JournalEvent::Reset {
                source: Source::Incident { .. },
                ..
            }
        )
    });
}

#[test]
fn an_incidents_dir_others_can_write_is_unsafe_its_planted_incident_gets_nothing() {
    let dir = journal_dir();
    let incidents = dir.path().join("incidents");
    std::fs::create_dir(&incidents).expect("incidents");
    std::fs::set_permissions(&incidents, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    // What a local user could plant there: an open incident, newest by name.
    let fake = incidents.join("2099-01-01T0000Z-fake.jsonl");
    let j = warroom::journal::Journal::open(&fake)
        .expect("plant")
        .with_actor("eve@bastion");
    let (kind, body) = EntryKind::Declared {
        title: "fake".into(),
        level: DrLevel::new(1).expect("level"),
        status: IncidentStatus::Investigating,
        commander: "eve@bastion".into(),
        started: Timestamp::now(),
    }
    .to_journal();
    j.append(&kind, body, Timestamp::now()).expect("declared");
    let planted = std::fs::read(&fake).expect("read");

    let mut ana = Console::start(dir.path(), Mode::Operator, "ana@bastion");
    ana.wait("JOURNAL UNSAFE naming incidents/", |e| {
        matches!(e, JournalEvent::Problem(Some(p)) if p.contains("JOURNAL UNSAFE") && p.contains("incidents: writable by others"))
    });
    ana.note("where does this go");
    ana.wait("the note, in the watch log", |e| {
        matches!(e, JournalEvent::Appended(v) | JournalEvent::Reset { entries: v, .. }
            if v.iter().any(|e| e.body.get("text").and_then(|t| t.as_str()) == Some("where does this go")))
    });
    ana.stop();
    assert_eq!(
        std::fs::read(&fake).expect("read"),
        planted,
        "written into the planted incident"
    );
    // The recorder said it in the watch log, for whoever reads it later.
    let watch = warroom::journal::load(&dir.path().join("watch.jsonl")).expect("watch log");
    assert!(
        watch.entries.iter().any(|e| e.kind == "journal_unsafe"
            && e.body["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("incidents"))),
        "{:?}",
        watch.entries.iter().map(|e| &e.kind).collect::<Vec<_>>()
    );
}

#[test]
fn a_tampered_journal_runs_a_step_only_by_break_glass_written_in_the_continuation() {
    let dir = journal_dir();
    let mut ana = Console::start(dir.path(), Mode::Operator, "ana@bastion");
    records_and_declares(&mut ana);
    let incidents = dir.path().join("incidents");
    let file = warroom::journal::latest(&incidents).expect("the incident file");
    append_raw(&file, &planted(99, warroom::journal::GENESIS, "planted"));
    ana.wait("TAMPERED", tampered);
    // A line is held (nothing is appended to a tampered file): the claims behind it are
    // still answered at once.
    ana.note("held");
    let (granted, why) = claim_answer(&mut ana, "promote");
    assert!(!granted);
    assert!(
        why.as_deref()
            .is_some_and(|w| w.contains("break glass: <reason>")),
        "{why:?}"
    );
    ana.ask(Request::Append(Entry {
        at: Timestamp::now(),
        kind: EntryKind::StepConfirmed {
            runbook: "failover".into(),
            step: "promote".into(),
            override_reason: None,
            inputs: Default::default(),
            break_glass: Some("primary region gone, chain fixed later".into()),
        },
    }));
    let (granted, why) = claim_answer_with(
        &mut ana,
        "promote",
        Some("primary region gone, chain fixed later"),
    );
    assert!(granted, "{why:?}");
    let before = std::fs::read(&file).expect("read");
    ana.ask(Request::Continue {
        reason: "line planted; reported".into(),
        at: Timestamp::now(),
    });
    ana.wait("trusted again", untampered);
    ana.wait("the held claim, written in the continuation", |e| {
        matches!(e, JournalEvent::Appended(v) | JournalEvent::Reset { entries: v, .. }
            if v.iter().any(|e| e.kind == "step_started"))
    });
    ana.stop();
    assert_eq!(
        std::fs::read(&file).expect("read"),
        before,
        "the tampered file grew"
    );
    let next = warroom::journal::latest(&incidents).expect("the continuation");
    let kinds: Vec<(String, Option<String>)> = warroom::journal::load(&next)
        .expect("load")
        .entries
        .iter()
        .map(|e| {
            (
                e.kind.clone(),
                e.body
                    .get("break_glass")
                    .and_then(|b| b.as_str())
                    .map(str::to_string),
            )
        })
        .collect();
    let confirmed = kinds
        .iter()
        .position(|(k, b)| {
            k == "step_confirmed" && b.as_deref() == Some("primary region gone, chain fixed later")
        })
        .unwrap_or_else(|| panic!("no break-glass confirmation: {kinds:?}"));
    let started = kinds
        .iter()
        .position(|(k, _)| k == "step_started")
        .unwrap_or_else(|| panic!("no claim: {kinds:?}"));
    assert!(confirmed < started, "{kinds:?}");
    assert!(
        kinds.iter().any(|(k, _)| k == "note"),
        "the held note: {kinds:?}"
    );
}
