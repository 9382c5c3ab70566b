//! The basic probes against real things: HTTP servers and listeners on loopback, real child
//! processes, real files. Nothing is mocked.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use warroom::app::{ObserveError, Outcome};
use warroom::probe::Probe;
use warroom::probe::command::{CommandBackupProbe, CommandProbe};
use warroom::probe::files::FilesBackupProbe;
use warroom::probe::http::HttpProbe;
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
// A raw HTTP/1.1 server on loopback

/// What the server does with each connection.
#[derive(Clone)]
enum Answer {
    /// Writes this response after the delay.
    Respond { delay: Duration, raw: Vec<u8> },
    /// Closes the connection without a word.
    Close,
    /// Writes this at once, without waiting for a request (as a plain HTTP server does to a
    /// TLS handshake it cannot read), and closes.
    Blurt(Vec<u8>),
}

fn respond(status: &str, body: &str) -> Answer {
    Answer::Respond {
        delay: Duration::ZERO,
        raw: format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    }
}

struct Server {
    base: String,
    port: u16,
    /// Each request's head (request line and headers), as received.
    requests: Arc<Mutex<Vec<String>>>,
}

async fn serve(answer: Answer) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let answer = answer.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                if let Answer::Blurt(raw) = &answer {
                    let _ = socket.write_all(raw).await;
                    let _ = socket.shutdown().await;
                    return;
                }
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                seen.lock()
                    .expect("lock")
                    .push(String::from_utf8_lossy(&head).into_owned());
                match answer {
                    Answer::Respond { delay, raw } => {
                        tokio::time::sleep(delay).await;
                        let _ = socket.write_all(&raw).await;
                        let _ = socket.shutdown().await;
                    }
                    Answer::Close | Answer::Blurt(_) => drop(socket),
                }
            });
        }
    });
    Server {
        base: format!("http://127.0.0.1:{port}"),
        port,
        requests,
    }
}

/// A plain HTTP server, as a TLS client meets it.
fn plain_http() -> Answer {
    Answer::Blurt(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".to_vec())
}

fn http(url: &str, body_contains: Option<&str>) -> HttpProbe {
    HttpProbe::new(
        url,
        200,
        body_contains.map(str::to_string),
        &BTreeMap::new(),
        // Generous: the first https round of a client loads the system's root certificates.
        10 * SECOND,
    )
}

// ---------------------------------------------------------------------------------------
// HTTP

#[tokio::test]
async fn http_up_with_the_expected_status_and_its_latency() {
    let server = serve(respond("200 OK", "fine")).await;
    let outcome = http(&format!("{}/health", server.base), None)
        .observe()
        .await;
    let Outcome::Up { latency, detail } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(detail, "HTTP 200 OK");
    assert!(
        latency > Duration::ZERO && latency < 2 * SECOND,
        "{latency:?}"
    );
    let requests = server.requests.lock().expect("lock");
    assert!(
        requests[0].starts_with("GET /health HTTP/1.1\r\n"),
        "{requests:?}"
    );
}

#[tokio::test]
async fn http_another_status_is_down_with_the_status() {
    let server = serve(respond("503 Service Unavailable", "ok")).await;
    let outcome = http(&server.base, Some("ok")).observe().await;
    assert_eq!(outcome, down("HTTP 503 Service Unavailable"));
    // Another expected status is honoured.
    let server = serve(respond("204 No Content", "")).await;
    let probe = HttpProbe::new(&server.base, 204, None, &BTreeMap::new(), 2 * SECOND);
    assert!(
        matches!(probe.observe().await, Outcome::Up { detail, .. } if detail == "HTTP 204 No Content")
    );
}

#[tokio::test]
async fn http_redirects_are_answers_not_followed() {
    let server = serve(Answer::Respond {
        delay: Duration::ZERO,
        raw:
            b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/login\r\ncontent-length: 0\r\n\r\n"
                .to_vec(),
    })
    .await;
    assert_eq!(
        http(&server.base, None).observe().await,
        down("HTTP 302 Found")
    );
    assert_eq!(server.requests.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn http_body_must_contain_the_text() {
    let server = serve(respond("200 OK", r#"{"status":"ok"}"#)).await;
    assert!(matches!(
        http(&server.base, Some("\"ok\"")).observe().await,
        Outcome::Up { .. }
    ));
    let server = serve(respond("200 OK", r#"{"status":"failing"}"#)).await;
    assert_eq!(
        http(&server.base, Some("ok")).observe().await,
        down("body lacks \"ok\"")
    );
}

#[tokio::test]
async fn http_body_is_searched_within_its_first_64_kib_only() {
    let within = format!("{}ok", "x".repeat(60 * 1024));
    let server = serve(respond("200 OK", &within)).await;
    assert!(matches!(
        http(&server.base, Some("ok")).observe().await,
        Outcome::Up { .. }
    ));
    let beyond = format!("{}ok", "x".repeat(70 * 1024));
    let server = serve(respond("200 OK", &beyond)).await;
    assert_eq!(
        http(&server.base, Some("ok")).observe().await,
        down("body lacks \"ok\"")
    );
}

#[tokio::test]
async fn http_slow_answer_times_out_and_cannot_be_observed() {
    let server = serve(Answer::Respond {
        delay: 10 * SECOND,
        raw: b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_vec(),
    })
    .await;
    let probe = HttpProbe::new(
        &server.base,
        200,
        None,
        &BTreeMap::new(),
        Duration::from_millis(300),
    );
    let start = Instant::now();
    assert_eq!(probe.observe().await, TIMED_OUT);
    assert!(start.elapsed() < 3 * SECOND, "{:?}", start.elapsed());
}

#[tokio::test]
async fn http_connection_refused_is_down() {
    let url = format!("http://127.0.0.1:{}/health", closed_port());
    assert_eq!(http(&url, None).observe().await, down("connection refused"));
}

#[tokio::test]
async fn http_connection_closed_without_an_answer_is_down() {
    let server = serve(Answer::Close).await;
    let outcome = http(&server.base, None).observe().await;
    assert_eq!(outcome, down("connection closed before message completed"));
}

#[tokio::test]
async fn http_body_cut_short_is_down() {
    let server = serve(Answer::Respond {
        delay: Duration::ZERO,
        raw: b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nstatus: ".to_vec(),
    })
    .await;
    let outcome = http(&server.base, Some("ok")).observe().await;
    assert_eq!(
        outcome,
        down("body: end of file before message length reached")
    );
}

#[tokio::test]
async fn http_name_that_does_not_resolve_is_down_naming_the_host() {
    // RFC 6761: .invalid never resolves.
    let outcome = http("http://api.warroom-test.invalid/health", None)
        .observe()
        .await;
    let Outcome::Down { detail } = outcome else {
        panic!("{outcome:?}");
    };
    assert!(
        detail.starts_with("DNS: cannot resolve api.warroom-test.invalid"),
        "{detail}"
    );
}

#[tokio::test]
async fn https_to_a_server_that_does_not_speak_tls_is_a_tls_failure() {
    let server = serve(plain_http()).await;
    let url = format!("https://127.0.0.1:{}/health", server.port);
    let outcome = http(&url, None).observe().await;
    let Outcome::Down { detail } = outcome else {
        panic!("{outcome:?}");
    };
    assert!(detail.starts_with("TLS: "), "{detail}");
}

#[tokio::test]
async fn http_headers_take_the_value_of_the_variable_they_name() {
    let server = serve(respond("200 OK", "ok")).await;
    // PATH is set in every test run, and its value is known: no need to change the
    // environment of a multi-threaded process.
    let path = std::env::var("PATH").expect("PATH is set");
    let headers = BTreeMap::from([("X-Probe-Path".to_string(), "PATH".to_string())]);
    let probe = HttpProbe::new(&server.base, 200, None, &headers, 2 * SECOND);
    assert!(matches!(probe.observe().await, Outcome::Up { .. }));
    let requests = server.requests.lock().expect("lock");
    assert!(
        requests[0]
            .to_ascii_lowercase()
            .contains(&format!("x-probe-path: {}\r\n", path.to_ascii_lowercase())),
        "{requests:?}"
    );
}

#[tokio::test]
async fn http_header_variable_not_set_cannot_be_observed_naming_the_variable() {
    let server = serve(respond("200 OK", "ok")).await;
    let headers = BTreeMap::from([(
        "Authorization".to_string(),
        "WARROOM_TEST_SURELY_UNSET_TOKEN".to_string(),
    )]);
    let probe = HttpProbe::new(&server.base, 200, None, &headers, 2 * SECOND);
    assert_eq!(
        probe.observe().await,
        other("header Authorization: $WARROOM_TEST_SURELY_UNSET_TOKEN is not set")
    );
    assert!(server.requests.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn http_secrets_in_the_url_never_reach_an_outcome_or_the_description() {
    let secret = "s3cret";
    let password = "pa55word";
    let with_secrets = |base: &str| format!("{base}/health?token={secret}&x=1");
    let userinfo = |port: u16| format!("http://probe:{password}@127.0.0.1:{port}");

    let failing = serve(respond("503 Service Unavailable", "")).await;
    let closing = serve(Answer::Close).await;
    let slow = serve(Answer::Respond {
        delay: 10 * SECOND,
        raw: Vec::new(),
    })
    .await;
    let plain = serve(plain_http()).await;
    let urls = [
        with_secrets(&failing.base),
        with_secrets(&userinfo(failing.port)),
        with_secrets(&closing.base),
        with_secrets(&userinfo(closed_port())),
        with_secrets("http://api.warroom-test.invalid"),
        with_secrets(&format!("https://127.0.0.1:{}", plain.port)),
        with_secrets(&slow.base),
    ];
    for url in &urls {
        let probe = HttpProbe::new(
            url,
            200,
            Some("ok".into()),
            &BTreeMap::new(),
            Duration::from_millis(500),
        );
        let outcome = probe.observe().await;
        let text = format!("{outcome:?} {}", probe.describe());
        assert!(!text.contains(secret) && !text.contains(password), "{text}");
        assert!(!matches!(outcome, Outcome::Up { .. }), "{text}");
    }
    // The secret did go where it belongs: in the request.
    let requests = failing.requests.lock().expect("lock");
    assert!(requests[0].starts_with(&format!("GET /health?token={secret}&x=1 ")));
    let probe = http(&urls[1], None);
    assert_eq!(
        probe.describe(),
        format!("http GET http://127.0.0.1:{}/health?…", failing.port)
    );
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
async fn an_exit_the_config_names_unknown_says_the_program_could_not_look_not_down() {
    // The `aws` CLI exits 253 when it finds no credentials: nothing about the bucket.
    let script = "echo 'Unable to locate credentials. You can configure credentials by running \"aws configure\".' >&2; exit 253";
    let probe = CommandProbe::new(argv(&["/bin/sh", "-c", script]), 5 * SECOND)
        .unknown_exit(vec![253, 255]);
    assert_eq!(
        probe.observe().await,
        other(
            "/bin/sh could not look: exit 253: Unable to locate credentials. You can configure credentials by running \"aws configure\"."
        )
    );
    // Any other failure still reads DOWN.
    let probe = CommandProbe::new(
        argv(&["/bin/sh", "-c", "echo 'NoSuchBucket' >&2; exit 254"]),
        5 * SECOND,
    )
    .unknown_exit(vec![253, 255]);
    assert_eq!(probe.observe().await, down("exit 254: NoSuchBucket"));
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

// A backup directory the account cannot read: tests/team.rs runs it as another account
// (root reads every directory, so here it could only be skipped).
