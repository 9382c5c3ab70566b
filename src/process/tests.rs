use super::*;

fn captured(limit: usize, chunks: &[&str]) -> Captured {
    let mut c = Capture::new(limit);
    for chunk in chunks {
        c.push(chunk.as_bytes());
    }
    c.done()
}

#[test]
fn capture_within_the_limit_keeps_everything() {
    let c = captured(10, &["abc", "def"]);
    assert_eq!(c.text, "abcdef");
    assert_eq!(c.omitted, 0);
    assert_eq!(captured(6, &["abc", "def"]).text, "abcdef");
}

#[test]
fn capture_over_the_limit_keeps_head_and_tail() {
    let c = captured(6, &["abcd", "efgh", "ij"]);
    assert_eq!(c.text, "abc\n… 4 bytes left out …\nhij");
    assert_eq!(c.omitted, 4);
    let c = captured(4, &["first\n", "0123456789", "last"]);
    assert_eq!(c.text, "fi\n… 16 bytes left out …\nst");
    assert_eq!(c.omitted, 16);
    let c = captured(0, &["abc"]);
    assert_eq!((c.text.as_str(), c.omitted), ("… 3 bytes left out …\n", 3));
}

#[test]
fn capture_byte_by_byte_matches_one_chunk() {
    let text = "line one\nline two\nline three\n";
    let whole = captured(9, &[text]);
    let mut c = Capture::new(9);
    for b in text.bytes() {
        c.push(&[b]);
    }
    assert_eq!(c.done(), whole);
    assert_eq!(whole.omitted, (text.len() - 9) as u64);
}

#[test]
fn first_and_last_lines_skip_blanks() {
    let c = Captured {
        text: "\n  up 3 days \nmiddle\nlast one\n\n".into(),
        omitted: 0,
    };
    assert_eq!(c.first_line(), Some("up 3 days"));
    assert_eq!(c.last_line(), Some("last one"));
    assert_eq!(Captured::default().first_line(), None);
}

#[test]
fn exits_read_as_words() {
    assert_eq!(Exit::Code(2).to_string(), "exit 2");
    assert_eq!(Exit::Signal(9).to_string(), "killed by SIGKILL");
    assert_eq!(Exit::Signal(200).to_string(), "killed by signal 200");
    assert!(Exit::Code(0).success());
    assert!(!Exit::Signal(15).success());
}

#[test]
fn io_reasons_drop_the_os_error_number() {
    let e = io::Error::from_raw_os_error(libc_enoent());
    assert_eq!(io_reason(&e), "No such file or directory");
}

#[test]
fn a_stat_line_is_read_past_a_name_with_parentheses_and_spaces() {
    let line =
        "4242 (sh (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 100";
    assert_eq!(
        parse_stat(line),
        Some(ProcStat {
            state: 'S',
            pgrp: 4242,
            session: 4242,
            start: 987654
        })
    );
    assert_eq!(parse_stat("12 (x) Z"), None);
}

#[test]
fn a_zombie_or_a_reused_pid_is_not_alive() {
    let me = std::process::id();
    let mine = stat_of(me).expect("this process's stat");
    assert!(process_alive(me, Some(mine.start)));
    assert!(process_alive(me, None));
    // The same pid with another start time is another process.
    assert!(!process_alive(me, Some(mine.start + 1)));
    // A child that exited and was not reaped yet is a zombie.
    let child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while stat_of(pid).is_some_and(|s| s.state != 'Z') && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(stat_of(pid).map(|s| s.state), Some('Z'));
    assert!(!process_alive(pid, None), "a zombie holds nothing");
    drop(child);
}

#[tokio::test]
async fn a_logged_group_lives_on_when_its_run_is_dropped_and_is_seen_alive_until_it_ends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("step.log");
    let argv: Vec<String> = ["sh", "-c", "echo one; sleep 1; echo two"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (tx, rx) = std::sync::mpsc::channel();
    let env = BTreeMap::new();
    let run = run_logged(
        &argv,
        &env,
        None,
        Duration::from_secs(30),
        1024,
        &log,
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
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("step.log");
    let argv: Vec<String> = ["sh", "-c", "echo out; echo err >&2; exit 3"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut lines = Vec::new();
    let done = run_logged(
        &argv,
        &BTreeMap::new(),
        None,
        Duration::from_secs(30),
        1024,
        &log,
        |_| {},
        |_, l| lines.push(l),
    )
    .await
    .expect("it ran");
    assert_eq!(done.exit, Exit::Code(3));
    assert_eq!(lines, ["out", "err"]);
    assert_eq!(done.stdout.last_line(), Some("err"));
}

fn libc_enoent() -> i32 {
    nix::errno::Errno::ENOENT as i32
}
