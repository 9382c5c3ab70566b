//! The journal's storage under real processes: concurrent writers, a writer killed with
//! SIGKILL, an edited file, hostile notes.
//!
//! The writers are this test binary itself, run again as child processes: with
//! `WARROOM_JOURNAL_CHILD` set, the test `child` appends to the journal it names and exits;
//! without it, `child` does nothing.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use warroom::journal::{self, Journal};

const CHILD_ENV: &str = "WARROOM_JOURNAL_CHILD";

fn body(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

/// `WARROOM_JOURNAL_CHILD=<id>:<count, "forever" or "torn">:<note bytes>:<path>`
#[test]
fn child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.splitn(4, ':');
    let id: u64 = parts.next().unwrap().parse().unwrap();
    let count = parts.next().unwrap();
    if count == "torn" {
        let path = parts.nth(1).unwrap();
        die_mid_append(Path::new(path));
    }
    let count: u64 = if count == "forever" {
        u64::MAX
    } else {
        count.parse().unwrap()
    };
    let note_bytes: usize = parts.next().unwrap().parse().unwrap();
    let path = parts.next().unwrap();
    let j = Journal::open(Path::new(path)).unwrap();
    let filler = "x".repeat(note_bytes);
    for i in 0..count {
        j.append(
            "note",
            body(json!({"writer": id, "i": i, "text": filler})),
            Timestamp::now(),
        )
        .unwrap();
    }
}

/// Does what an append does up to the middle of its write, then waits to be killed: takes the
/// lock, writes the first half of the next entry's line, and holds the lock.
fn die_mid_append(path: &Path) -> ! {
    use std::io::Write;
    let last = Journal::open(path).unwrap().last().unwrap().unwrap();
    let file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    let mut file = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .unwrap_or_else(|_| panic!("lock"));
    let next = journal::JournalEntry::seal(
        last.seq + 1,
        Timestamp::now(),
        journal::actor(),
        "note".into(),
        body(json!({"text": "never finished"})),
        &last.hash,
    );
    let line = next.to_line();
    file.write_all(&line.as_bytes()[..line.len() / 2]).unwrap();
    file.sync_data().unwrap();
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn spawn_child(id: u64, count: &str, note_bytes: usize, path: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "journal::child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_ENV,
            format!("{id}:{count}:{note_bytes}:{}", path.display()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

#[test]
fn several_processes_append_at_once_without_losing_or_mixing_lines() {
    const WRITERS: u64 = 4;
    const EACH: u64 = 200;
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("incidents/2026-11-25T0307Z-concurrent.jsonl");
    let children: Vec<Child> = (0..WRITERS)
        .map(|id| spawn_child(id, &EACH.to_string(), 100, &path))
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a writer failed");
    }

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with('\n'));
    assert_eq!(text.lines().count() as u64, WRITERS * EACH);
    let loaded = journal::load(&path).unwrap();
    assert!(loaded.torn.is_none(), "{:?}", loaded.torn);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let seqs: Vec<u64> = loaded.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=WRITERS * EACH).collect::<Vec<_>>());
    // Each writer's entries are all there, in the order it wrote them.
    for id in 0..WRITERS {
        let mine: Vec<u64> = loaded
            .entries
            .iter()
            .filter(|e| e.body["writer"] == json!(id))
            .map(|e| e.body["i"].as_u64().unwrap())
            .collect();
        assert_eq!(mine, (0..EACH).collect::<Vec<_>>(), "writer {id}");
    }
    let report = journal::verify(&path).unwrap();
    assert!(report.ok(), "{report:?}");
    assert!(report.warnings.is_empty(), "{report:?}");
    assert_eq!(report.entries as u64, WRITERS * EACH);
}

/// Wherever the SIGKILL lands (between appends or inside one: not under the test's control),
/// the journal verifies, says a torn line if and only if there is one, and the next writer
/// chains on. The torn case itself is made certain by the test after this one.
#[test]
fn a_writer_killed_wherever_it_was_leaves_a_journal_that_verifies_and_chains_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incidents/killed.jsonl");
    // Big notes, so the kill is likely to land inside a write.
    let mut child = spawn_child(9, "forever", 256 * 1024, &path);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::metadata(&path).map_or(0, |m| m.len()) < 1024 * 1024 {
        assert!(Instant::now() < deadline, "the writer wrote nothing");
        std::thread::sleep(Duration::from_millis(5));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();

    let before = journal::load(&path).unwrap();
    assert!(before.problems.is_empty(), "{:?}", before.problems);
    let last = before.entries.last().unwrap().clone();
    let report = journal::verify(&path).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.warnings.len(), usize::from(before.torn.is_some()));

    // A new writer takes the lock (the dead one's went with it) and carries on the chain.
    let j = Journal::open(&path).unwrap();
    let next = j
        .append(
            "note",
            body(json!({"text": "after the crash"})),
            Timestamp::now(),
        )
        .unwrap();
    assert_eq!(next.seq, last.seq + 1);
    let after = journal::load(&path).unwrap();
    assert_eq!(after.entries.last(), Some(&next));
    assert!(after.torn.is_none());
    assert_eq!(after.problems.len(), usize::from(before.torn.is_some()));
    let report = journal::verify(&path).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.entries, before.entries.len() + 1);
}

#[test]
fn a_writer_killed_inside_its_write_leaves_a_torn_line_that_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incidents/torn.jsonl");
    let j = Journal::open(&path).unwrap();
    for i in 0..3 {
        j.append("note", body(json!({"i": i})), Timestamp::now())
            .unwrap();
    }
    let len = std::fs::metadata(&path).unwrap().len();
    let mut child = spawn_child(7, "torn", 0, &path);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::metadata(&path).unwrap().len() == len {
        assert!(Instant::now() < deadline, "the writer wrote nothing");
        std::thread::sleep(Duration::from_millis(5));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();

    let before = journal::load(&path).unwrap();
    assert_eq!(before.entries.len(), 3);
    let torn = before.torn.clone().expect("a torn last line");
    assert_eq!(torn.line, 4);
    let report = journal::verify(&path).unwrap();
    assert!(report.ok(), "{report:?}");
    assert!(
        report.warnings[0].starts_with("line 4: torn last line"),
        "{report:?}"
    );

    // The dead writer's lock went with it; the next append closes the fragment and chains on.
    let next = j
        .append("note", body(json!({"text": "recovered"})), Timestamp::now())
        .unwrap();
    assert_eq!(next.seq, 4);
    let after = journal::load(&path).unwrap();
    assert_eq!(after.entries.len(), 4);
    assert_eq!(after.entries[3], next);
    assert_eq!(after.lines[3], 5);
    assert!(after.torn.is_none());
    assert_eq!(after.problems.len(), 1);
    assert_eq!(after.problems[0].line, 4);
    let report = journal::verify(&path).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.entries, 4);
    assert!(
        report.warnings[0].starts_with("line 4: not an entry"),
        "{report:?}"
    );
}

#[test]
fn verify_catches_an_edited_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incidents/edited.jsonl");
    let j = Journal::open(&path).unwrap();
    for i in 1..=30 {
        j.append(
            "step",
            body(json!({"step": format!("promote-{i}"), "outcome": "ok"})),
            Timestamp::now(),
        )
        .unwrap();
    }
    assert!(journal::verify(&path).unwrap().ok());
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[11] = lines[11].replace(r#""outcome":"ok""#, r#""outcome":"failed""#);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let report = journal::verify(&path).unwrap();
    assert_eq!(
        report.first_break.as_deref(),
        Some(
            "line 12 (seq 12): hash does not match its content — edited? (or the entry before it was)"
        )
    );
}

#[test]
fn hostile_notes_are_stored_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incidents/hostile.jsonl");
    let j = Journal::open(&path).unwrap();
    let escapes = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}[31mred\r\nsecond line\0nul \u{202e}rtl \u{9b}31m \"quoted\" \\ back";
    let big: String = (0..1024 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect::<String>()
        + "\n\u{1b}[0m end";
    let a = j
        .append("note", body(json!({"text": escapes})), Timestamp::now())
        .unwrap();
    let b = j
        .append("note", body(json!({"text": big})), Timestamp::now())
        .unwrap();
    j.append("note", body(json!({"text": "after"})), Timestamp::now())
        .unwrap();

    let raw = std::fs::read(&path).unwrap();
    assert_eq!(
        raw.iter().filter(|&&c| c == b'\n').count(),
        3,
        "one line each"
    );
    assert!(!raw.contains(&0x1b) && !raw.contains(&0), "escaped on disk");
    let loaded = journal::load(&path).unwrap();
    assert_eq!(loaded.entries.len(), 3);
    assert!(loaded.problems.is_empty() && loaded.torn.is_none());
    assert_eq!(loaded.entries[0], a);
    assert_eq!(loaded.entries[0].body["text"].as_str(), Some(escapes));
    assert_eq!(loaded.entries[1], b);
    assert_eq!(loaded.entries[1].body["text"].as_str(), Some(big.as_str()));
    let followed = journal::follow(&path, 0).unwrap();
    assert_eq!(followed.entries, loaded.entries);
    assert!(journal::verify(&path).unwrap().ok());
}
