//! A `command` step's output through its relay (`warroom __step-relay`): kept in a log of
//! its own, scrubbed of secrets, capped, outliving the console that started it.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use warroom::process::{Exit, group_alive, run_logged};

fn relay() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_warroom"))
}

fn argv(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// `argv` through the relay to its end (or its timeout), with what it printed.
async fn relayed(
    argv: Vec<String>,
    timeout: Duration,
) -> (
    Result<warroom::process::Finished, warroom::process::ProcessError>,
    Vec<String>,
    String,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("step.log");
    let mut lines = Vec::new();
    let done = run_logged(
        &argv,
        &BTreeMap::new(),
        None,
        timeout,
        1024,
        &log,
        relay(),
        |_| {},
        |_, l| lines.push(l),
    )
    .await;
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    (done, lines, text)
}

#[tokio::test]
async fn a_logged_group_lives_on_when_its_run_is_dropped_and_is_seen_alive_until_it_ends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("step.log");
    let argv = argv(&["sh", "-c", "echo one; sleep 1; echo two"]);
    let (tx, rx) = std::sync::mpsc::channel();
    let env = BTreeMap::new();
    let run = run_logged(
        &argv,
        &env,
        None,
        Duration::from_secs(30),
        1024,
        &log,
        relay(),
        move |s| {
            let _ = tx.send(s);
        },
        |_, _| {},
    );
    // Dropped once it has spawned: as when the console ends.
    let _ = tokio::time::timeout(Duration::from_millis(300), run).await;
    let spawned = rx.recv().expect("it spawned");
    assert!(
        group_alive(spawned.pgid, spawned.start),
        "the group lives on"
    );
    assert!(!group_alive(spawned.pgid, spawned.start + 1_000_000_000));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while group_alive(spawned.pgid, spawned.start) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !group_alive(spawned.pgid, spawned.start),
        "it ended on its own"
    );
    assert_eq!(
        std::fs::read_to_string(&log).expect("log"),
        "one\ntwo\n",
        "it wrote on after its console was gone"
    );
}

#[tokio::test]
async fn a_logged_run_streams_its_lines_and_says_how_it_ended() {
    let (done, lines, _) = relayed(
        argv(&["sh", "-c", "echo out; echo err >&2; exit 3"]),
        Duration::from_secs(30),
    )
    .await;
    let done = done.expect("it ran");
    assert_eq!(done.exit, Exit::Code(3));
    assert_eq!(lines, ["out", "err"]);
    assert_eq!(done.stdout.last_line(), Some("err"));
    let logged = done.logged.expect("counted");
    assert_eq!((logged.lines, logged.kept), (2, 2));
}

#[tokio::test]
async fn the_relay_ends_as_its_program_did_and_a_missing_program_is_said_as_before() {
    let patience = Duration::from_secs(30);
    let (done, _, _) = relayed(argv(&["sh", "-c", "kill -TERM $$"]), patience).await;
    assert_eq!(
        done.expect("it ran").exit,
        Exit::Signal(15),
        "killed by its SIGTERM, as it was"
    );
    let (err, _, _) = relayed(argv(&["no-such-program-here"]), patience).await;
    assert_eq!(
        err.expect_err("not found").to_string(),
        "no-such-program-here: program not found"
    );
}

/// A loose bound on the console's peak RSS while a step floods it (the figures are in the
/// benchmark): far below the ~490 MB the issue measured after 5 million lines.
const LOOSE: u64 = 300 << 20;

#[test]
fn a_step_printing_five_million_lines_keeps_a_capped_scrubbed_log_and_the_console_small() {
    use crate::support::local::{closed_port, private_config};
    use crate::support::long_journal;
    use crate::support::pty::Pty;
    use crate::support::rss;
    use std::os::unix::fs::PermissionsExt;
    const KEY: &str = "planted-flood-key-7d41c9";
    const LINES: u64 = 5_000_000;
    let patience = Duration::from_secs(600);
    let home = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    // An open incident: the log goes beside its journal.
    let journal = long_journal::write(data.path(), 3);
    let key_file = home.path().join("statuspage-key");
    std::fs::write(&key_file, KEY).expect("key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    // The secret first (kept, so scrubbed), then 5 million lines of 48 bytes (240 MB: past
    // the 64 MiB cap), then the secret again (past the cap: counted, never written).
    let flood = format!(
        "cat {k}; echo; yes 'a line of step output, padded to forty-eight.' | head -n {LINES}; cat {k}; echo",
        k = key_file.display()
    );
    let config = private_config(
        home.path(),
        &format!(
            r#"
[[component]]
id = "db"
tier = "critical"
health = {{ kind = "tcp", address = "127.0.0.1:{port}", every = "5s" }}

[statuspage]
kind = "atlassian"
page_id = "page"
api_key_file = "{key}"
api_url = "http://127.0.0.1:{port}/v1"

[[runbook]]
id = "flood"
title = "Flood"

[[runbook.step]]
id = "print"
title = "Print a lot"
key = "x"
action = {{ kind = "command", argv = ["sh", "-c", "{flood}"], timeout = "10m" }}
confirm = "flood it"
"#,
            port = closed_port(),
            key = key_file.display(),
        ),
    );
    let (config, data_dir) = (
        config.to_string_lossy().into_owned(),
        data.path().to_string_lossy().into_owned(),
    );
    let mut console = Pty::spawn(
        &[
            "-c",
            &config,
            "--data-dir",
            &data_dir,
            "--layout",
            "war-room",
        ],
        200,
        50,
        home.path(),
        &[],
    );
    console
        .wait_for("long incident", patience)
        .expect("the console follows the incident");
    console.send(b"x");
    console
        .wait_for("run (no shell)", patience)
        .expect("the modal");
    console.send(b"flood it\r");
    console
        .wait_for("step flood/print: succeeded", patience)
        .expect("the step ran to its end");
    let peak = rss::vm_hwm(console.pid()).expect("the console runs");
    let resident = rss::vm_rss(console.pid()).expect("the console runs");
    eprintln!(
        "console after 5M lines: peak RSS {} MB, resident {} MB",
        peak >> 20,
        resident >> 20
    );
    // A read-only console opens the log from the runbook panel: its newest lines, the count
    // of those not kept last.
    let mut observer = Pty::spawn(
        &[
            "-c",
            &config,
            "--data-dir",
            &data_dir,
            "--layout",
            "war-room",
            "--read-only",
        ],
        200,
        50,
        home.path(),
        &[],
    );
    // (The timeline cuts the line at the panel's edge: its start.)
    let quick = Duration::from_secs(60);
    observer
        .wait_for(&format!("{} lines, ", LINES + 2), quick)
        .expect("the summary on the observer's timeline");
    observer.send(b"R");
    observer
        .wait_for("▶ Runbooks", quick)
        .expect("runbooks focused");
    observer.send(b"\r");
    observer
        .wait_for_all(
            &[
                "Log of flood/print (64.0 MiB)",
                "the log is capped at 64 MiB",
            ],
            quick,
        )
        .expect("the observer reads the end of the log");
    // q closes the viewer (as in `less`), a second q the console.
    observer.send(b"q");
    observer
        .wait_gone("Log of flood/print", quick)
        .expect("q closes the viewer");
    observer.send(b"q");
    assert!(observer.wait_exit(Duration::from_secs(60)).is_some());
    console.send(b"q");
    assert!(console.wait_exit(Duration::from_secs(60)).is_some());
    assert!(peak < LOOSE, "the console peaked at {} MB", peak >> 20);
    assert!(resident < LOOSE, "the console kept {} MB", resident >> 20);

    // The log: beside the incident's journal, its run's own file.
    let steps = warroom::journal::dirs::steps_dir(&journal);
    let logs: Vec<_> = std::fs::read_dir(&steps)
        .unwrap_or_else(|e| panic!("{}: {e}", steps.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let [log] = &logs[..] else {
        panic!("one log in {}: {logs:?}", steps.display());
    };
    let name = log.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    assert!(
        name.starts_with("flood.print.") && name.ends_with(".log"),
        "{name}"
    );
    let bytes = std::fs::read(log).expect("log");
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(KEY), "the planted secret is in the log");
    assert!(text.starts_with("****\n"), "{}", &text[..40]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        bytes.len() as u64 <= warroom::process::relay::LOG_CAP + 200,
        "capped: {} bytes",
        bytes.len()
    );
    let dropped = lines
        .last()
        .and_then(|l| warroom::process::relay::parse_trailer(l))
        .unwrap_or_else(|| {
            panic!(
                "the count of dropped lines ends the log: {:?}",
                lines.last()
            )
        });
    let kept = lines.len() as u64 - 1;
    // The secret's line, the flood, the secret again.
    assert_eq!(kept + dropped, LINES + 2);
    assert!(kept > 1_000_000, "64 MiB of 48-byte lines: {kept}");

    // The journal's summary says so and names the file.
    let journaled = std::fs::read_to_string(&journal).expect("journal");
    let summary = format!("{} lines, {kept} kept, log {}", LINES + 2, log.display());
    assert!(
        journaled.contains(&summary),
        "{summary} not in the journal:\n{}",
        journaled
            .lines()
            .filter(|l| l.contains("step_output"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test]
async fn a_step_ends_when_its_program_does_even_if_what_it_left_running_holds_the_pipe() {
    // A daemon in a session of its own keeps the program's stdout open for a minute.
    let started = std::time::Instant::now();
    let (done, _, text) = relayed(
        argv(&["sh", "-c", "echo started; setsid sleep 60 & echo done"]),
        Duration::from_secs(120),
    )
    .await;
    assert_eq!(done.expect("it ran").exit, Exit::Code(0));
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "the step waited for the daemon"
    );
    assert!(text.starts_with("started\ndone\n"), "{text}");
    assert!(
        text.contains("what the processes it left running print is not kept"),
        "{text}"
    );
}

#[tokio::test]
async fn a_line_before_a_hang_is_in_the_log_at_once_and_survives_the_timeout() {
    // A line, then a partial one (a progress bar), then nothing until it is killed.
    let (done, lines, text) = relayed(
        argv(&[
            "sh",
            "-c",
            "echo waiting for the lock; printf 'dots...'; sleep 60",
        ]),
        Duration::from_secs(3),
    )
    .await;
    assert!(
        matches!(done, Err(warroom::process::ProcessError::TimedOut { .. })),
        "{done:?}"
    );
    assert_eq!(
        lines.first().map(String::as_str),
        Some("waiting for the lock")
    );
    assert!(text.starts_with("waiting for the lock\n"), "{text:?}");
}

#[tokio::test]
async fn the_counts_are_the_relays_not_what_the_program_prints() {
    let fake = "[warroom] the log is capped at 64 MiB: 999999 more lines were not kept";
    let (done, _, text) = relayed(
        argv(&["sh", "-c", &format!("echo one; echo '{fake}'")]),
        Duration::from_secs(30),
    )
    .await;
    let logged = done.expect("it ran").logged.expect("counted");
    assert_eq!((logged.lines, logged.kept), (2, 2), "{text}");
}

#[tokio::test]
async fn a_secret_across_a_long_lines_cut_is_masked_whole() {
    const SECRET: &str = "split-secret-7f3a9c2e1d";
    // Learned by this test process: the relay is handed what the console knows.
    warroom::text::redact::learn_secrets(&[SECRET]);
    if !warroom::text::redact::known().iter().any(|k| k == SECRET) {
        panic!("another test learned other secrets first: this test needs its own");
    }
    // 64 KiB pieces: the secret straddles the first cut.
    let pad = 64 * 1024 - 7;
    let (done, _, text) = relayed(
        argv(&[
            "sh",
            "-c",
            &format!(
                "head -c {pad} /dev/zero | tr '\\0' a; printf {SECRET}; \
                 head -c 100 /dev/zero | tr '\\0' b; echo; echo {SECRET}"
            ),
        ]),
        Duration::from_secs(30),
    )
    .await;
    done.expect("it ran");
    assert!(!text.contains(SECRET), "the secret is in the log");
    assert!(!text.contains("split-sec"), "a part of it is in the log");
    assert_eq!(
        text.matches("****").count(),
        2,
        "{}",
        &text[text.len() - 200..]
    );
    assert_eq!(text.lines().count(), 2, "the long line is one line");
}
