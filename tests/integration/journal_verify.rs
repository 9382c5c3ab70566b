//! `warroom journal verify` on the real binary: an intact chain, an edited line, a missing
//! journal.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use warroom::journal::{Journal, incident_file_name, incidents_dir};

fn verify(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["journal", "verify", "--data-dir"])
        .arg(dir)
        .args(args)
        .env_remove("WARROOM_CONFIG")
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .output()
        .expect("run warroom")
}

fn body(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn an_intact_journal_passes_and_an_edited_line_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = Timestamp::from_second(1_795_575_600).expect("time");
    let name = incident_file_name(at, "Region outage");
    let path = incidents_dir(dir.path()).join(&name);
    let journal = Journal::open(&path).expect("open");
    journal
        .append(
            "declared",
            body(json!({ "title": "Region outage", "level": 3 })),
            at,
        )
        .expect("append");
    journal
        .append("note", body(json!({ "text": "primary unreachable" })), at)
        .expect("append");

    let out = verify(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).ends_with("ok: 2 entries, hash chain intact\n"),
        "{}",
        text(&out.stdout)
    );
    // By name, with or without .jsonl.
    let stem = name.trim_end_matches(".jsonl");
    assert_eq!(verify(dir.path(), &[stem]).status.code(), Some(0));

    let edited = fs::read_to_string(&path)
        .expect("read")
        .replace("primary unreachable", "all fine");
    fs::write(&path, edited).expect("edit");
    let out = verify(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("BROKEN at line 2 (seq 2)"), "{stderr}");
}

#[test]
fn no_journal_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = verify(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no incident journal"),
        "{}",
        text(&out.stderr)
    );
    let out = verify(dir.path(), &["nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no incident nope"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_planted_line_cannot_drive_the_terminal_through_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = Timestamp::from_second(1_795_575_600).expect("time");
    let path = incidents_dir(dir.path()).join(incident_file_name(at, "Region outage"));
    let journal = Journal::open(&path).expect("open");
    journal
        .append("note", body(json!({ "text": "primary unreachable" })), at)
        .expect("append");
    // A line with a key twice (not an entry: its reason names the key) carrying an OSC title
    // and a CSI clear, escaped as JSON allows.
    let mut text_now = fs::read_to_string(&path).expect("read");
    text_now
        .push_str(r#"{"seq":2,"\u001b]0;owned\u0007":1,"\u001b]0;owned\u0007":2,"\u001b[2J":3}"#);
    text_now.push('\n');
    fs::write(&path, text_now).expect("plant");
    let out = verify(dir.path(), &[]);
    let all = [out.stdout.clone(), out.stderr.clone()].concat();
    assert!(
        !all.contains(&0x1b) && !all.contains(&0x07),
        "control bytes reached the terminal: {}",
        text(&all)
    );
    assert!(
        text(&out.stderr).contains("warning"),
        "the planted line is still reported: {}",
        text(&out.stderr)
    );
}

#[test]
fn a_journal_shorter_than_this_account_saw_it_is_tampered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = Timestamp::from_second(1_795_575_600).expect("time");
    let path = incidents_dir(dir.path()).join(incident_file_name(at, "Region outage"));
    let journal = Journal::open(&path).expect("open");
    for text in ["one", "two", "three"] {
        journal
            .append("note", body(json!({ "text": text })), at)
            .expect("append");
    }
    let whole = fs::read_to_string(&path).expect("read");
    let last: Value = serde_json::from_str(whole.lines().last().expect("line")).expect("json");
    // What a console of this account recorded when it followed the journal.
    let seen_dir = dir.path().join(".local/state/warroom");
    fs::create_dir_all(&seen_dir).expect("state dir");
    let key = fs::canonicalize(&path).expect("canonical");
    fs::write(
        seen_dir.join("journals-seen.json"),
        json!({ key.to_string_lossy(): {
            "len": whole.len(), "seq": last["seq"], "hash": last["hash"], "at": "2026-12-06T03:00:00Z"
        }})
        .to_string(),
    )
    .expect("seen");
    assert_eq!(verify(dir.path(), &[]).status.code(), Some(0), "as seen");
    // The last entry removed: the chain of what is left is intact, but it was longer.
    let cut: String = whole.lines().take(2).map(|l| format!("{l}\n")).collect();
    fs::write(&path, cut).expect("cut");
    let out = verify(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("TAMPERED") && stderr.contains("seen on 2026-12-06T03:00:00Z"),
        "{stderr}"
    );
}
