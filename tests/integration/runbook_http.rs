//! The `http` runbook executor through [`RealExecutor`] against a real HTTP server on
//! loopback: what arrives (method, headers, the secret from the environment, body), and that
//! a planted secret never reaches an outcome or a progress line, whatever the server says
//! or when nothing answers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use warroom::cloud;
use warroom::config::{Action, Step};
use warroom::runbook::{Executor, ExecutorOptions, RealExecutor, StepOutcome, StepProgress};

/// One request as the server read it.
#[derive(Debug, Clone, Default)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How the server answers.
#[derive(Clone)]
enum Answer {
    Status(u16, String),
    /// Reads the request, then says nothing.
    Silent,
}

struct Server {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn server(answer: Answer) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                let mut line = String::new();
                if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let mut parts = line.split_whitespace();
                let mut request = Seen {
                    method: parts.next().unwrap_or_default().to_string(),
                    target: parts.next().unwrap_or_default().to_string(),
                    ..Seen::default()
                };
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':') {
                        if name.eq_ignore_ascii_case("content-length") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                        request
                            .headers
                            .push((name.to_string(), value.trim().to_string()));
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body).await;
                request.body = String::from_utf8_lossy(&body).into_owned();
                record.lock().unwrap().push(request);
                match answer {
                    Answer::Status(code, body) => {
                        let head = format!(
                            "HTTP/1.1 {code} X\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = write.write_all(head.as_bytes()).await;
                        let _ = write.write_all(body.as_bytes()).await;
                    }
                    Answer::Silent => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                    }
                }
            });
        }
    });
    Server { base, seen }
}

fn executor() -> RealExecutor {
    RealExecutor::new(cloud::Clients {
        aws: warroom::cloud::aws::AwsClients::new(Some("http://127.0.0.1:9".into())),
        kube: warroom::cloud::kubernetes::KubeClients::new(),
    })
    .with_options(ExecutorOptions {
        http_timeout: Duration::from_millis(500),
        ..ExecutorOptions::default()
    })
}

struct Http<'a> {
    method: &'a str,
    url: String,
    headers: &'a [(&'a str, &'a str)],
    headers_env: &'a [(&'a str, &'a str)],
    body: Option<&'a str>,
    expect_status: u16,
}

fn action(h: Http<'_>) -> Action {
    let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    Action::Http {
        method: h.method.into(),
        url: h.url,
        headers: map(h.headers),
        headers_env: map(h.headers_env),
        body: h.body.map(str::to_string),
        expect_status: h.expect_status,
        region: None,
    }
}

async fn run(action: Action) -> (StepOutcome, Vec<StepProgress>) {
    let step = Step {
        id: "hook".into(),
        title: "hook".into(),
        key: '1',
        confirm: action.target_name(),
        action,
        requires: Vec::new(),
        precheck: Vec::new(),
        verify: None,
        inputs: Vec::new(),
        component: None,
    };
    let (tx, mut rx) = mpsc::channel(128);
    let inputs = BTreeMap::new();
    let outcome = executor().run(&step, &inputs, None, tx).await;
    let mut progress = Vec::new();
    while let Some(p) = rx.recv().await {
        progress.push(p);
    }
    (outcome, progress)
}

/// Every text the step produced.
fn texts(outcome: &StepOutcome, progress: &[StepProgress]) -> Vec<String> {
    let mut out = vec![match outcome {
        StepOutcome::Succeeded { summary } => summary.clone(),
        StepOutcome::Checked {
            summary, evidence, ..
        }
        | StepOutcome::StillCreating {
            summary, evidence, ..
        } => format!("{summary} {evidence}"),
        StepOutcome::Failed { reason } => reason.clone(),
    }];
    for p in progress {
        match p {
            StepProgress::Output(t) | StepProgress::Status(t) => out.push(t.clone()),
            StepProgress::Running { .. }
            | StepProgress::Logged { .. }
            | StepProgress::Skipped(_)
            | StepProgress::Accepted(_) => {}
        }
    }
    out
}

fn assert_clean(outcome: &StepOutcome, progress: &[StepProgress], secrets: &[&str]) {
    for text in texts(outcome, progress) {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret:?} leaked in {text:?}");
        }
    }
}

/// Sets a variable only this test binary's test of that name uses.
fn set_env(var: &str, value: &str) {
    // SAFETY: std serializes its own environment access (and getaddrinfo) behind one lock,
    // and nothing else in this test binary reads the environment through libc; each name
    // is used by one test only.
    unsafe { std::env::set_var(var, value) };
}

#[tokio::test]
async fn the_request_arrives_with_its_method_headers_secret_and_body() {
    let secret = "tok-4f9a2c1e-planted";
    set_env("WARROOM_TEST_HOOK_TOKEN", secret);
    let server = server(Answer::Status(202, "queued: job 7\nsecond line\n".into())).await;
    let (outcome, progress) = run(action(Http {
        method: "post",
        url: format!("{}/api/v1/failover", server.base),
        headers: &[("Content-Type", "application/json")],
        headers_env: &[("Authorization", "WARROOM_TEST_HOOK_TOKEN")],
        body: Some(r#"{"region":"us-west-2"}"#),
        expect_status: 202,
    }))
    .await;

    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "sent once: {seen:?}");
    let request = &seen[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/api/v1/failover");
    assert_eq!(request.header("authorization"), Some(secret));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.body, r#"{"region":"us-west-2"}"#);
    assert!(
        request
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("warroom/"))
    );

    assert_eq!(
        outcome,
        StepOutcome::Succeeded {
            summary: format!(
                "POST {}/api/v1/failover: HTTP 202 Accepted: queued: job 7",
                server.base
            )
        }
    );
    assert_eq!(
        progress,
        [
            StepProgress::Status(format!(
                "POST {}/api/v1/failover (headers from the environment: Authorization), body of 22 bytes",
                server.base
            )),
            StepProgress::Output("queued: job 7".into()),
            StepProgress::Output("second line".into()),
        ]
    );
    assert_clean(&outcome, &progress, &[secret]);
}

#[tokio::test]
async fn a_wrong_status_fails_and_an_echoed_secret_is_masked() {
    let secret = "tok-77e1b0d3-planted";
    let query_secret = "qs-9c8b7a6d-planted";
    set_env("WARROOM_TEST_HOOK_ECHO", secret);
    let server = server(Answer::Status(
        500,
        format!("internal error: bad token {secret} for ?key={query_secret}\n"),
    ))
    .await;
    let (outcome, progress) = run(action(Http {
        method: "PUT",
        url: format!("{}/flags/readonly?key={query_secret}", server.base),
        headers: &[],
        headers_env: &[("X-Api-Key", "WARROOM_TEST_HOOK_ECHO")],
        body: None,
        expect_status: 200,
    }))
    .await;
    assert_eq!(
        server.seen.lock().unwrap()[0].header("x-api-key"),
        Some(secret)
    );
    assert_eq!(
        outcome,
        StepOutcome::Failed {
            reason: format!(
                "PUT {}/flags/readonly?…: HTTP 500 Internal Server Error, expected 200: internal error: bad token **** for ?****",
                server.base
            )
        }
    );
    assert_clean(&outcome, &progress, &[secret, query_secret]);
}

#[tokio::test]
async fn refused_and_silent_servers_fail_without_the_secret() {
    let secret = "tok-0d1e2f3a-planted";
    let query_secret = "qs-5a4b3c2d-planted";
    set_env("WARROOM_TEST_HOOK_REFUSED", secret);
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let (outcome, progress) = run(action(Http {
        method: "POST",
        url: format!("http://user:{query_secret}@127.0.0.1:{port}/hook?token={query_secret}"),
        headers: &[],
        headers_env: &[("Authorization", "WARROOM_TEST_HOOK_REFUSED")],
        body: Some("{}"),
        expect_status: 200,
    }))
    .await;
    match &outcome {
        StepOutcome::Failed { reason } => {
            assert!(
                reason.starts_with(&format!(
                    "POST http://127.0.0.1:{port}/hook?…: cannot connect: "
                )),
                "{reason}"
            );
            assert!(reason.ends_with("nothing sent"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_clean(&outcome, &progress, &[secret, query_secret]);

    let silent = server(Answer::Silent).await;
    let (outcome, progress) = run(action(Http {
        method: "POST",
        url: format!("{}/hook?token={query_secret}", silent.base),
        headers: &[],
        headers_env: &[("Authorization", "WARROOM_TEST_HOOK_REFUSED")],
        body: None,
        expect_status: 200,
    }))
    .await;
    match &outcome {
        StepOutcome::Failed { reason } => assert!(
            reason.contains("no answer in time")
                && reason.ends_with(
                    "the request may have been applied: look before running the step again"
                ),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
    assert_clean(&outcome, &progress, &[secret, query_secret]);
}

#[tokio::test]
async fn a_missing_variable_sends_nothing_and_names_it() {
    let server = server(Answer::Status(200, String::new())).await;
    let (outcome, progress) = run(action(Http {
        method: "POST",
        url: format!("{}/hook", server.base),
        headers: &[],
        headers_env: &[("Authorization", "WARROOM_TEST_HOOK_NEVER_SET")],
        body: None,
        expect_status: 200,
    }))
    .await;
    assert_eq!(
        outcome,
        StepOutcome::Failed {
            reason: "header Authorization: $WARROOM_TEST_HOOK_NEVER_SET is not set: nothing sent"
                .into()
        }
    );
    assert!(progress.is_empty());
    assert!(server.seen.lock().unwrap().is_empty());
}
