//! The basic probes against real things: HTTP servers and listeners on loopback, real child
//! processes, real files. Nothing is mocked.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use tokio::net::TcpListener;
use warroom::app::{ObserveError, Outcome};
use warroom::probe::Probe;
use warroom::probe::command::{CommandBackupProbe, CommandProbe};
use warroom::probe::files::FilesBackupProbe;
use warroom::probe::tcp::TcpProbe;
use warroom::process::{self, Exit, ProcessError, Stream};

const SECOND: Duration = Duration::from_secs(1);

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn down(detail: &str) -> Outcome {
    Outcome::Down {
        detail: detail.into(),
    }
}

fn other(reason: &str) -> Outcome {
    Outcome::CannotObserve {
        reason: ObserveError::Other(reason.into()),
    }
}

const TIMED_OUT: Outcome = Outcome::CannotObserve {
    reason: ObserveError::Timeout,
};

/// A port on loopback where nothing listens (bound, then let go).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

// ---------------------------------------------------------------------------------------
// TCP

#[tokio::test]
async fn tcp_open_port_is_up() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let outcome = TcpProbe::new(addr.to_string()).observe().await;
    let Outcome::Up { latency, detail } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(detail, format!("connected to {addr}"));
    assert!(latency < 2 * SECOND);
    // By name too: localhost may resolve to ::1 first, where nothing listens.
    let outcome = TcpProbe::new(format!("localhost:{}", addr.port()))
        .observe()
        .await;
    assert!(matches!(outcome, Outcome::Up { .. }), "{outcome:?}");
}

#[tokio::test]
async fn tcp_closed_port_is_refused() {
    let probe = TcpProbe::new(format!("127.0.0.1:{}", closed_port()));
    assert_eq!(probe.observe().await, down("connection refused"));
    assert_eq!(
        TcpProbe::new("[::1]:5432").describe(),
        "tcp [::1]:5432".to_string()
    );
}

#[tokio::test]
async fn tcp_name_that_does_not_resolve_is_down() {
    let outcome = TcpProbe::new("db.warroom-test.invalid:5432")
        .observe()
        .await;
    let Outcome::Down { detail } = outcome else {
        panic!("{outcome:?}");
    };
    assert!(
        detail.starts_with("DNS: cannot resolve db.warroom-test.invalid"),
        "{detail}"
    );
}

#[tokio::test]
async fn tcp_address_without_a_port_cannot_be_observed() {
    assert_eq!(
        TcpProbe::new("db.internal").observe().await,
        other("address db.internal is not host:port")
    );
}

// ---------------------------------------------------------------------------------------
// Child processes

/// Whether a process still runs (a zombie does not: it is dead, waiting to be reaped by
/// whoever inherited it).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
            !matches!(state.and_then(|s| s.chars().next()), Some('Z' | 'X') | None)
        }
    }
}

/// Waits until none of `pids` runs, or panics after a few seconds.
async fn all_dead(pids: &[i32]) {
    let start = Instant::now();
    while pids.iter().any(|&p| alive(p)) {
        assert!(
            start.elapsed() < 5 * SECOND,
            "still running: {:?}",
            pids.iter().filter(|&&p| alive(p)).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A shell that starts a grandchild `sleep 1000`, writes "its own pid, the grandchild's pid"
/// to `pidfile` (atomically), then waits forever.
fn family(pidfile: &Path) -> Vec<String> {
    argv(&[
        "/bin/sh",
        "-c",
        r#"sleep 1000 & echo "$$ $!" > "$0.tmp" && mv "$0.tmp" "$0"; echo started; wait"#,
        pidfile.to_str().expect("utf-8 path"),
    ])
}

async fn read_pids(pidfile: &Path) -> Vec<i32> {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(pidfile) {
            return text
                .split_whitespace()
                .map(|p| p.parse().expect("a pid"))
                .collect();
        }
        assert!(start.elapsed() < 5 * SECOND, "no pid file");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The pids in `pidfile`, once they are all seen running.
async fn running_pids(pidfile: &Path) -> Vec<i32> {
    let pids = read_pids(pidfile).await;
    assert!(pids.iter().all(|&p| alive(p)), "{pids:?} run");
    pids
}

fn no_env() -> BTreeMap<String, String> {
    BTreeMap::new()
}

#[tokio::test]
async fn process_output_and_exit_code_are_captured() {
    let finished = process::run(
        &argv(&["/bin/sh", "-c", "echo out; echo err >&2; exit 3"]),
        &no_env(),
        None,
        5 * SECOND,
        1024,
    )
    .await
    .expect("runs");
    assert_eq!(finished.exit, Exit::Code(3));
    assert!(!finished.success());
    assert_eq!(finished.stdout.text, "out\n");
    assert_eq!(finished.stderr.text, "err\n");
}

#[tokio::test]
async fn process_env_and_cwd_are_applied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = BTreeMap::from([("WARROOM_STEP".to_string(), "promote".to_string())]);
    let finished = process::run(
        &argv(&[
            "/bin/sh",
            "-c",
            "echo $WARROOM_STEP; pwd; echo ${HOME:+home-kept}",
        ]),
        &env,
        Some(dir.path()),
        5 * SECOND,
        1024,
    )
    .await
    .expect("runs");
    let cwd = dir.path().canonicalize().expect("canonical");
    assert_eq!(
        finished.stdout.text,
        format!("promote\n{}\nhome-kept\n", cwd.display())
    );
    let missing = dir.path().join("missing");
    let err = process::run(&argv(&["/bin/true"]), &env, Some(&missing), SECOND, 1024)
        .await
        .expect_err("no such directory");
    assert!(
        matches!(&err, ProcessError::Cwd { program, .. } if program == "/bin/true"),
        "{err:?}"
    );
}

#[tokio::test]
async fn process_programs_that_cannot_run_are_named() {
    let err = process::run(
        &argv(&["warroom-no-such-program", "--flag"]),
        &no_env(),
        None,
        SECOND,
        1024,
    )
    .await
    .expect_err("not found");
    assert_eq!(
        err,
        ProcessError::NotFound {
            program: "warroom-no-such-program".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "warroom-no-such-program: program not found"
    );

    // Not executable (no x bit: refused even to root).
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("check.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").expect("write");
    let script = script.to_str().expect("utf-8").to_string();
    let err = process::run(std::slice::from_ref(&script), &no_env(), None, SECOND, 1024)
        .await
        .expect_err("not executable");
    assert_eq!(err, ProcessError::PermissionDenied { program: script });

    assert_eq!(
        process::run(&[], &no_env(), None, SECOND, 1024).await,
        Err(ProcessError::EmptyArgv)
    );
}

#[tokio::test]
async fn process_stdin_is_dev_null() {
    let start = Instant::now();
    let finished = process::run(
        &argv(&[
            "/bin/sh",
            "-c",
            "readlink /proc/$$/fd/0; cat; echo \"eof $?\"",
        ]),
        &no_env(),
        None,
        10 * SECOND,
        1024,
    )
    .await
    .expect("runs");
    assert_eq!(finished.stdout.text, "/dev/null\neof 0\n");
    assert!(start.elapsed() < 5 * SECOND);
}

#[tokio::test]
async fn process_runs_as_the_leader_of_its_own_session_and_group() {
    let finished = process::run(
        // pid, process group, session of the shell itself (comm "sh" has no spaces).
        &argv(&["/bin/sh", "-c", "cut -d' ' -f1,5,6 /proc/$$/stat"]),
        &no_env(),
        None,
        5 * SECOND,
        1024,
    )
    .await
    .expect("runs");
    let ids: Vec<i32> = finished
        .stdout
        .text
        .split_whitespace()
        .map(|x| x.parse().expect("a number"))
        .collect();
    assert_eq!(ids.len(), 3, "{:?}", finished.stdout);
    assert_eq!(ids[0], ids[1], "process group is its pid");
    assert_eq!(ids[0], ids[2], "session is its pid");
    let ours = nix::unistd::getsid(None).expect("our session").as_raw();
    assert_ne!(ids[2], ours);
}

#[tokio::test]
async fn process_timeout_kills_the_whole_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("pids");
    let start = Instant::now();
    let err = process::run(&family(&pidfile), &no_env(), None, SECOND, 1024)
        .await
        .expect_err("times out");
    assert!(start.elapsed() < 3 * SECOND, "{:?}", start.elapsed());
    let ProcessError::TimedOut { stdout, after, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*after, SECOND);
    assert_eq!(stdout.text, "started\n", "what it said before is kept");
    let pids = read_pids(&pidfile).await;
    assert_eq!(pids.len(), 2);
    all_dead(&pids).await;
}

#[tokio::test]
async fn process_dropped_mid_run_kills_the_whole_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("pids");
    let argv = family(&pidfile);
    let env = no_env();
    let run = process::run(&argv, &env, None, 60 * SECOND, 1024);
    let pids = tokio::select! {
        r = run => panic!("ended: {r:?}"),
        pids = running_pids(&pidfile) => pids,
    };
    // `run` was dropped as the select ended, as the scheduler drops a round that took too
    // long.
    all_dead(&pids).await;
}

#[tokio::test]
async fn process_leaves_nothing_running_after_it_exits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("pids");
    let start = Instant::now();
    // The grandchild keeps stdout open: the run must not wait for it.
    let finished = process::run(
        &argv(&[
            "/bin/sh",
            "-c",
            r#"sleep 1000 & echo "$$ $!" > "$0"; echo bye"#,
            pidfile.to_str().expect("utf-8"),
        ]),
        &no_env(),
        None,
        60 * SECOND,
        1024,
    )
    .await
    .expect("runs");
    assert!(start.elapsed() < 5 * SECOND, "{:?}", start.elapsed());
    assert!(finished.success());
    assert_eq!(finished.stdout.text, "bye\n");
    all_dead(&read_pids(&pidfile).await).await;
}

#[tokio::test]
async fn process_output_is_bounded_keeping_head_and_tail() {
    let finished = process::run(
        &argv(&["seq", "1", "100000"]),
        &no_env(),
        None,
        10 * SECOND,
        1000,
    )
    .await
    .expect("runs");
    let out = &finished.stdout;
    assert!(out.omitted > 0);
    assert_eq!(out.first_line(), Some("1"));
    assert_eq!(out.last_line(), Some("100000"));
    assert!(out.text.len() < 1100, "{}", out.text.len());
    assert!(
        out.text
            .contains(&format!("… {} bytes left out …", out.omitted))
    );
}

#[tokio::test]
async fn process_streams_lines_as_they_come() {
    let mut lines = Vec::new();
    let finished = process::run_streaming(
        &argv(&[
            "/bin/sh",
            "-c",
            "echo one; echo two >&2; printf 'three\\r\\nfour'",
        ]),
        &no_env(),
        None,
        5 * SECOND,
        1024,
        |stream, line| lines.push((stream, line)),
    )
    .await
    .expect("runs");
    assert!(finished.success());
    let of = |s: Stream| -> Vec<&str> {
        lines
            .iter()
            .filter(|(x, _)| *x == s)
            .map(|(_, l)| l.as_str())
            .collect()
    };
    assert_eq!(of(Stream::Stdout), ["one", "three", "four"]);
    assert_eq!(of(Stream::Stderr), ["two"]);
}

// ---------------------------------------------------------------------------------------
// Command probes

#[tokio::test]
async fn command_exit_0_is_up_with_the_first_line_of_stdout() {
    let outcome = CommandProbe::new(argv(&["/bin/true"]), 5 * SECOND)
        .observe()
        .await;
    assert!(
        matches!(outcome, Outcome::Up { ref detail, .. } if detail.is_empty()),
        "{outcome:?}"
    );
    let probe = CommandProbe::new(
        argv(&[
            "/bin/sh",
            "-c",
            "printf '\\n\\033[2Jqueue depth 3\\nmore\\n'",
        ]),
        5 * SECOND,
    );
    let outcome = probe.observe().await;
    assert!(
        matches!(outcome, Outcome::Up { ref detail, .. } if detail == "queue depth 3"),
        "{outcome:?}"
    );
    assert_eq!(
        probe.describe(),
        "command /bin/sh -c printf '\\n\\033[2Jqueue depth 3\\nmore\\n'"
    );
}

#[tokio::test]
async fn command_nonzero_exit_is_down_with_the_last_line_of_stderr() {
    assert_eq!(
        CommandProbe::new(argv(&["/bin/false"]), 5 * SECOND)
            .observe()
            .await,
        down("exit 1")
    );
    let probe = CommandProbe::new(
        argv(&[
            "/bin/sh",
            "-c",
            "echo checking; echo 'connecting' >&2; echo 'replica not streaming' >&2; exit 2",
        ]),
        5 * SECOND,
    );
    assert_eq!(probe.observe().await, down("exit 2: replica not streaming"));
}

#[tokio::test]
async fn command_that_cannot_run_or_is_killed_cannot_be_observed() {
    assert_eq!(
        CommandProbe::new(argv(&["/nonexistent/check-db"]), 5 * SECOND)
            .observe()
            .await,
        other("cannot run /nonexistent/check-db: not found")
    );
    assert_eq!(
        CommandProbe::new(argv(&["/bin/sh", "-c", "kill -9 $$"]), 5 * SECOND)
            .observe()
            .await,
        other("/bin/sh killed by SIGKILL")
    );
}

#[tokio::test]
async fn command_that_hangs_times_out_and_its_group_dies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("pids");
    let probe = CommandProbe::new(family(&pidfile), SECOND);
    assert_eq!(probe.observe().await, TIMED_OUT);
    all_dead(&read_pids(&pidfile).await).await;

    // Abandoned by the scheduler (its timeout drops the round): the group dies all the same.
    let pidfile = dir.path().join("pids-dropped");
    let probe = CommandProbe::new(family(&pidfile), 60 * SECOND);
    let pids = tokio::select! {
        outcome = probe.observe() => panic!("ended: {outcome:?}"),
        pids = running_pids(&pidfile) => pids,
    };
    all_dead(&pids).await;
}

#[tokio::test]
async fn command_backup_age_from_an_rfc3339_time() {
    let now = CommandBackupProbe::new(argv(&["date", "-u", "+%Y-%m-%dT%H:%M:%SZ"]), 5 * SECOND)
        .observe()
        .await;
    let Outcome::Seconds(age) = now else {
        panic!("{now:?}");
    };
    assert!((0.0..5.0).contains(&age), "{age}");

    let two_hours_ago = CommandBackupProbe::new(
        argv(&["date", "-d", "-2 hours", "+%Y-%m-%dT%H:%M:%S%:z"]),
        5 * SECOND,
    )
    .observe()
    .await;
    let Outcome::Seconds(age) = two_hours_ago else {
        panic!("{two_hours_ago:?}");
    };
    assert!((7200.0..7205.0).contains(&age), "{age}");
}

#[tokio::test]
async fn command_backup_garbage_or_failure_cannot_be_observed() {
    assert_eq!(
        CommandBackupProbe::new(argv(&["echo", "yesterday\x1b[2J"]), 5 * SECOND)
            .observe()
            .await,
        other("echo printed \"yesterday\", not an RFC 3339 time")
    );
    assert_eq!(
        CommandBackupProbe::new(argv(&["/bin/true"]), 5 * SECOND)
            .observe()
            .await,
        other("/bin/true printed nothing, not an RFC 3339 time")
    );
    assert_eq!(
        CommandBackupProbe::new(
            argv(&["/bin/sh", "-c", "echo 'bucket not found' >&2; exit 1"]),
            5 * SECOND
        )
        .observe()
        .await,
        other("/bin/sh exit 1: bucket not found")
    );
    assert_eq!(
        CommandBackupProbe::new(argv(&["warroom-no-such-lister"]), 5 * SECOND)
            .observe()
            .await,
        other("cannot run warroom-no-such-lister: not found")
    );
}

// ---------------------------------------------------------------------------------------
// Files

fn touch(path: &Path, age: Duration) {
    let file = std::fs::File::create(path).expect("create");
    file.set_modified(SystemTime::now() - age)
        .expect("set mtime");
}

#[tokio::test]
async fn files_backup_age_is_the_newest_match() {
    let dir = tempfile::tempdir().expect("tempdir");
    touch(&dir.path().join("a.dump"), Duration::from_secs(3 * 3600));
    touch(&dir.path().join("b.dump"), Duration::from_secs(3600));
    // Newer, but does not match.
    touch(&dir.path().join("c.log"), Duration::ZERO);
    let glob = format!("{}/*.dump", dir.path().display());
    let probe = FilesBackupProbe::new(glob.clone());
    let outcome = probe.observe().await;
    let Outcome::Seconds(age) = outcome else {
        panic!("{outcome:?}");
    };
    assert!((3600.0..3605.0).contains(&age), "{age}");
    assert_eq!(probe.describe(), format!("files {glob}"));
}

#[tokio::test]
async fn files_backup_without_a_match_is_down_not_age_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    touch(&dir.path().join("c.log"), Duration::ZERO);
    let glob = format!("{}/*.dump", dir.path().display());
    assert_eq!(
        FilesBackupProbe::new(glob.clone()).observe().await,
        down(&format!("no file matches {glob}"))
    );
    // A directory that does not exist holds no backup either.
    let glob = format!("{}/gone/*.dump", dir.path().display());
    assert_eq!(
        FilesBackupProbe::new(glob.clone()).observe().await,
        down(&format!("no file matches {glob}"))
    );
}

#[tokio::test]
async fn files_backup_in_an_unreadable_directory_cannot_be_observed() {
    use std::os::unix::fs::PermissionsExt;
    if nix::unistd::geteuid().is_root() {
        // Root reads every directory: the mapping is unit-tested in probe::files.
        eprintln!("skipped: running as root, no directory is unreadable");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).expect("mkdir");
    touch(&locked.join("a.dump"), Duration::ZERO);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let outcome = FilesBackupProbe::new(format!("{}/*.dump", locked.display()))
        .observe()
        .await;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    assert!(
        matches!(
            outcome,
            Outcome::CannotObserve {
                reason: ObserveError::AccessDenied(_)
            }
        ),
        "{outcome:?}"
    );
}
