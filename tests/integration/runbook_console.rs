//! A real console (not a drill) runs a `command` step only from an operator console, on the
//! exact phrase; the same keys on a `--read-only` console touch nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::support::local::{all_bytes, closed_port, private_config};
use crate::support::pty::Pty;

const PATIENCE: Duration = Duration::from_secs(20);

fn estate(dir: &Path, marker: &Path) -> String {
    let port = closed_port();
    let path = private_config(
        dir,
        &format!(
            r#"
[console]
title = "Steps"

[[component]]
id = "db"
tier = "critical"
health = {{ kind = "tcp", address = "127.0.0.1:{port}", every = "1s", timeout = "1s" }}

[[runbook]]
id = "mark"
title = "Mark the estate"

[[runbook.step]]
id = "touch"
title = "Touch the marker"
key = "x"
action = {{ kind = "command", argv = ["touch", "{marker}"], timeout = "10s" }}
confirm = "touch-it"
"#,
            marker = marker.display()
        ),
    );
    path.to_string_lossy().into_owned()
}

/// A console on `config` recording into `data`, in the bastion layout.
fn args<'a>(config: &'a str, data: &'a str) -> [&'a str; 6] {
    ["-c", config, "--data-dir", data, "--layout", "bastion"]
}

fn console(home: &Path, config: &str, data: &str, extra: &[&str]) -> Pty {
    let mut args = args(config, data).to_vec();
    args.extend_from_slice(extra);
    Pty::spawn(&args, 160, 40, home, &[])
}

#[test]
fn a_command_step_runs_from_an_operator_console_only_and_never_from_an_observer() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let marker = home.path().join("marker");
    let config = estate(home.path(), &marker);
    let data_dir = data.path().to_string_lossy().into_owned();

    let mut observer = console(home.path(), &config, &data_dir, &["--read-only"]);
    observer.wait_for("[RO]", PATIENCE).expect("observer");
    observer.send(b"\t\t\t\t");
    observer
        .wait_for("Touch the marker", PATIENCE)
        .expect("runbook");
    observer.send(b"x");
    observer
        .wait_for(
            "read-only console: steps cannot be started from here",
            PATIENCE,
        )
        .expect("why nothing opens");
    observer.send(b"touch-it\r");
    // Keys are taken in order: once the help that `?` opens is on screen, every key before
    // it was handled (and an observer has no executor to start anything later).
    observer.send(b"?");
    observer
        .wait_for("this help; any key closes it", PATIENCE)
        .expect("the keys before it were handled");
    assert!(!marker.exists(), "the observer's keys ran the command");
    observer.send(b"\x1b");

    let mut operator = console(home.path(), &config, &data_dir, &[]);
    operator.wait_for("REC", PATIENCE).expect("operator");
    operator.send(b"\t\t\t\t");
    operator
        .wait_for("Touch the marker", PATIENCE)
        .expect("runbook");
    operator.send(b"x");
    operator
        .wait_for("run (no shell)", PATIENCE)
        .expect("the modal shows the argv");
    operator.send(b"touch-IT\r");
    // Enter refused: the modal stays, saying why (an accepted Enter closes it and asks for
    // the claim; nothing else starts the command).
    let screen = operator
        .wait_for("Enter waits: type the confirm phrase exactly", PATIENCE)
        .expect("the wrong phrase refused");
    assert!(screen.contains("Run a step"), "{screen}");
    assert!(!marker.exists(), "a wrong phrase ran the command");
    operator.send(&[0x7f, 0x7f]);
    operator.send(b"it\r");
    operator
        .wait_for("step mark/touch: succeeded", PATIENCE)
        .expect("the step succeeded");
    assert!(marker.exists(), "the command ran");
    observer
        .wait_for("step mark/touch: succeeded", PATIENCE)
        .expect("the observer sees it on its timeline");
    operator.send(b"q");
    observer.send(b"q");
    assert!(operator.wait_exit(PATIENCE).is_some());
    assert!(observer.wait_exit(PATIENCE).is_some());
}

/// A health endpoint that answers 200 until `marker` exists, then 503 (what a step that
/// broke the service looks like from outside).
fn flipping_health(marker: std::path::PathBuf) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 2048];
            let _ = conn.read(&mut buf);
            let (status, body) = if marker.exists() {
                ("503 Service Unavailable", "down")
            } else {
                ("200 OK", "ok")
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// Verified means fresh answers after the step, all UP: an endpoint that was UP before the
/// step and answers 503 after it is NOT verified (the smoothed state still says UP for one
/// more answer; that is not evidence).
#[test]
fn a_step_after_which_the_health_endpoint_answers_503_is_not_verified() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let marker = home.path().join("broken");
    let port = flipping_health(marker.clone());
    let config = private_config(
        home.path(),
        &format!(
            r#"
[[component]]
id = "api"
tier = "critical"
health = {{ kind = "http", url = "http://127.0.0.1:{port}/health", expect_status = 200, every = "1s", timeout = "1s", confirm_after = 2 }}

[[runbook]]
id = "fix"
title = "Fix the API"

[[runbook.step]]
id = "poke"
title = "Poke the API"
key = "x"
action = {{ kind = "command", argv = ["touch", "{marker}"], timeout = "10s" }}
confirm = "poke api"
verify = {{ component = "api", up_within = "6s" }}
"#,
            marker = marker.display()
        ),
    );
    let config = config.to_string_lossy().into_owned();
    let data_dir = data.path().to_string_lossy().into_owned();
    let mut operator = console(home.path(), &config, &data_dir, &[]);
    operator
        .wait_for("severity: OBSERVING → HEALTHY", PATIENCE)
        .expect("the API answers 200 first");
    operator.send(b"x");
    operator
        .wait_for("run (no shell)", PATIENCE)
        .expect("the modal");
    operator.send(b"poke api\r");
    operator
        .wait_for("step fix/poke: succeeded", PATIENCE)
        .expect("the command succeeded");
    operator
        .wait_for("poke: NOT verified", PATIENCE)
        .expect("the verdict");
    operator.send(b"q");
    assert!(operator.wait_exit(PATIENCE).is_some());
    let watch = warroom::journal::load(&data.path().join("watch.jsonl")).expect("journal");
    let verdicts: Vec<_> = watch
        .entries
        .iter()
        .filter(|e| e.kind == "step_verified")
        .map(|e| (e.body["verified"].clone(), e.body["detail"].clone()))
        .collect();
    assert_eq!(verdicts.len(), 1, "{verdicts:?}");
    assert_eq!(verdicts[0].0, false, "{verdicts:?}");
    let detail = verdicts[0].1.as_str().unwrap_or_default();
    assert!(
        detail.starts_with("not UP ×2 within 6s; last: api DOWN"),
        "{detail}"
    );
}

/// A restore whose console drops (the SSH link: the pty's master closed) while AWS is still
/// creating the instance: that console does not hang on for the postcondition, and does not
/// call the step interrupted — it journals it still creating; the next operator console,
/// recording, reads the instance (one DescribeDBInstances, no process of the step) and
/// journals the verdict once it is available.
#[test]
fn a_restore_still_creating_when_the_link_drops_is_finished_by_the_next_console() {
    use crate::support::http::{Reply, Server};
    use crate::support::link::Link;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let home = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let available = Arc::new(AtomicBool::new(false));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let plane = {
        let available = available.clone();
        let ns = "http://rds.amazonaws.com/doc/2014-10-31/";
        rt.block_on(Server::start(Box::new(move |req| {
            let xml = |body: String| {
                let mut r = Reply::text(200, &body);
                r.headers = vec![("content-type".into(), "text/xml".into())];
                r
            };
            if req.body.contains("Action=RestoreDBInstanceFromDBSnapshot") {
                return xml(format!(
                    "<RestoreDBInstanceFromDBSnapshotResponse xmlns=\"{ns}\"><RestoreDBInstanceFromDBSnapshotResult><DBInstance><DBInstanceIdentifier>db-restored</DBInstanceIdentifier><DBInstanceStatus>creating</DBInstanceStatus></DBInstance></RestoreDBInstanceFromDBSnapshotResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></RestoreDBInstanceFromDBSnapshotResponse>"
                ));
            }
            let state = if available.load(Ordering::SeqCst) {
                "available"
            } else {
                "creating"
            };
            xml(format!(
                "<DescribeDBInstancesResponse xmlns=\"{ns}\"><DescribeDBInstancesResult><DBInstances><DBInstance><DBInstanceIdentifier>db-restored</DBInstanceIdentifier><DBInstanceStatus>{state}</DBInstanceStatus></DBInstance></DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></DescribeDBInstancesResponse>"
            ))
        })))
    };
    let port = closed_port();
    let config = private_config(
        home.path(),
        &format!(
            r#"
[aws]
endpoint_url = "{url}"

[[component]]
id = "db"
tier = "critical"
health = {{ kind = "tcp", address = "127.0.0.1:{port}", every = "1s", timeout = "1s" }}

[[runbook]]
id = "restore"
title = "Restore the database"

[[runbook.step]]
id = "from-snapshot"
title = "Restore from the snapshot"
key = "x"
action = {{ kind = "rds_restore_snapshot", snapshot = "snap-1", target = "db-restored", region = "us-east-1", subnet_group = "db-private", security_groups = ["sg-0db"] }}
"#,
            url = plane.url()
        ),
    );
    let config = config.to_string_lossy().into_owned();
    let data_dir = data.path().to_string_lossy().into_owned();
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let args = args(&config, &data_dir);

    let mut first = Link::warroom(&args, 160, 40, home.path(), &env);
    first.wait_for("REC", PATIENCE).expect("the first console");
    first.send(b"x");
    first
        .wait_for("restore us-east-1/db-restored", PATIENCE)
        .expect("the modal names the derived phrase");
    first.send(b"restore us-east-1/db-restored\r");
    first
        .wait_for("waiting for db-restored available", PATIENCE)
        .expect("accepted, waiting for the instance");
    first.drop_link();
    // Not the 15-minute detach wait: what is left, any console can read.
    let status = first.wait_exit(PATIENCE).expect("the dropped console ends");
    assert!(
        status.success(),
        "a detached console ends cleanly: {status:?}"
    );
    let lines = warroom::journal::load(&data.path().join("watch.jsonl")).expect("journal");
    let of = |kind: &str| -> Vec<serde_json::Map<String, serde_json::Value>> {
        lines
            .entries
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.body.clone())
            .collect()
    };
    assert!(of("step_released").is_empty(), "not interrupted");
    let finished = of("step_finished");
    assert_eq!(finished.len(), 1, "{finished:?}");
    assert_eq!(finished[0]["outcome"], "succeeded", "{finished:?}");
    let pending = of("step_pending");
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(
        pending[0]["postcondition"],
        serde_json::json!({"kind": "rds_instance_available", "region": "us-east-1", "instance": "db-restored"})
    );
    assert!(of("step_verified").is_empty());

    available.store(true, Ordering::SeqCst);
    let mut next = Pty::spawn(&args, 160, 40, home.path(), &env);
    next.wait_for_all(&["from-snapshot: verified", "[x] verified"], PATIENCE)
        .expect("the next console finishes it");
    next.send(b"q");
    assert!(next.wait_exit(PATIENCE).is_some());
    let lines = warroom::journal::load(&data.path().join("watch.jsonl")).expect("journal");
    let verdicts: Vec<_> = lines
        .entries
        .iter()
        .filter(|e| e.kind == "step_verified")
        .map(|e| (e.body["verified"].clone(), e.body["detail"].clone()))
        .collect();
    assert_eq!(
        verdicts,
        [(
            serde_json::json!(true),
            serde_json::json!("db-restored available")
        )]
    );
    let reads = plane
        .requests()
        .iter()
        .filter(|r| r.body.contains("Action=DescribeDBInstances"))
        .count();
    assert!(
        reads >= 2,
        "the first console's read and the next one's: {reads}"
    );
}

/// Children never carry the console's secrets, and what they print of one never gets out:
/// a step's program does not find the Slack token in its environment; a step and a probe
/// that print the status page key (plain, upper-cased, after `Bearer `) reach neither the
/// screen, nor the journal, nor the step log, nor the console's log.
#[test]
fn children_never_get_the_secrets_and_what_they_print_of_one_is_masked() {
    const TOKEN: &str = "xoxb-PLANTED-child-5e1f7a";
    const KEY: &str = "planted-child-key-93b0c4";
    let home = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let key_file = home.path().join("statuspage-key");
    std::fs::write(&key_file, KEY).expect("key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let env_seen = home.path().join("env-seen");
    let print_key = format!(
        "cat {k}; echo; cat {k} | tr a-z A-Z; echo; echo \"Authorization: Bearer $(cat {k})\"",
        k = key_file.display()
    );
    let config = private_config(
        home.path(),
        &format!(
            r##"
[[component]]
id = "leaky"
tier = "standard"
health = {{ kind = "command", argv = ["sh", "-c", "{probe}; exit 1"], every = "1s", timeout = "5s" }}

[slack]
token_env = "SLACK_BOT_TOKEN"
channel = "#war"
api_url = "http://127.0.0.1:{port}/api"

[statuspage]
kind = "atlassian"
page_id = "page"
api_key_file = "{key}"
api_url = "http://127.0.0.1:{port}/v1"

[[runbook]]
id = "leak"
title = "Leak"

[[runbook.step]]
id = "print"
title = "Print what it has"
key = "x"
action = {{ kind = "command", argv = ["sh", "-c", "env > {env_seen}; {step}"], timeout = "10s" }}
confirm = "print it"
"##,
            probe = print_key.replace('"', "\\\""),
            step = print_key.replace('"', "\\\""),
            key = key_file.display(),
            env_seen = env_seen.display(),
            port = closed_port(),
        ),
    );
    let config = config.to_string_lossy().into_owned();
    let data_dir = data.path().to_string_lossy().into_owned();
    let mut operator = Pty::spawn(
        &args(&config, &data_dir),
        200,
        50,
        home.path(),
        &[("SLACK_BOT_TOKEN", TOKEN)],
    );
    operator
        .wait_for("leaky: UNKNOWN → DOWN", PATIENCE)
        .expect("the probe's reason is journaled");
    operator.send(b"x");
    operator
        .wait_for("run (no shell)", PATIENCE)
        .expect("the modal");
    operator.send(b"print it\r");
    operator
        .wait_for("step leak/print: succeeded", PATIENCE)
        .expect("the step ran");
    let screen = operator.screen();
    assert!(
        screen.contains("****"),
        "the key masked on screen: {screen}"
    );
    operator.send(b"q");
    assert!(operator.wait_exit(PATIENCE).is_some());
    let env = std::fs::read_to_string(&env_seen).expect("the step's environment");
    assert!(
        !env.contains("SLACK_BOT_TOKEN") && !env.contains(TOKEN),
        "the child got the token"
    );
    let everything = format!(
        "{screen}{}{}",
        all_bytes(data.path()),
        all_bytes(&home.path().join("xdg-state"))
    );
    for (what, secret) in [
        ("key", KEY.to_string()),
        ("upper-cased key", KEY.to_uppercase()),
        ("token", TOKEN.to_string()),
    ] {
        assert!(
            !everything.contains(&secret),
            "the planted {what} leaked to the screen, the journal or the logs"
        );
    }
    assert!(
        all_bytes(data.path()).contains("****"),
        "the journal says something was masked"
    );
}
