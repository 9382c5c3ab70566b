//! `warroom status` and the console on a real (local) estate: real TCP and HTTP servers, real
//! commands and files, the real binary.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::pty::Pty;

/// A loopback HTTP server answering every request with `status` and `body`, in a thread.
fn http_server(status: &'static str, body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// A loopback TCP listener that accepts and forgets, in a thread.
fn tcp_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || for _ in listener.incoming() {});
    port
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn write_config(dir: &Path, text: &str) {
    let path = dir.join("estate.toml");
    fs::write(&path, text).expect("write config");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
}

fn estate(dir: &Path, db_port: u16, api_health: &str, job: &str) -> String {
    let backups = dir.join("backups");
    fs::create_dir_all(&backups).expect("mkdir");
    fs::write(backups.join("nightly.dump"), "x").expect("backup file");
    let api = http_server("200 OK", "status: ok");
    format!(
        r#"
[console]
title = "Local estate"

[[component]]
id = "db"
name = "Database"
tier = "critical"
rto = "1h"
rpo = "1h"
health = {{ kind = "tcp", address = "127.0.0.1:{db_port}", timeout = "2s" }}
backup = {{ kind = "files", glob = "{glob}", warn = "25h", crit = "26h" }}

[[component]]
id = "api"
tier = "standard"
health = {{ kind = "http", url = "http://127.0.0.1:{api}/health", body_contains = "{api_health}", timeout = "2s" }}

[[component]]
id = "job"
tier = "critical"
health = {{ kind = "command", argv = ["{job}"], timeout = "2s" }}
"#,
        glob = backups.join("*.dump").display(),
    )
}

fn status(dir: &Path, json: bool) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warroom"));
    cmd.args(["status", "-c", "estate.toml"]).current_dir(dir);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().expect("run status");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_healthy_estate_exits_0_with_every_component_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_config(
        dir.path(),
        &estate(dir.path(), tcp_server(), "ok", "/bin/true"),
    );
    let (code, table) = status(dir.path(), false);
    assert_eq!(code, Some(0), "{table}");
    assert!(table.contains("HEALTHY"), "{table}");
    let (code, json) = status(dir.path(), true);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["severity"], "HEALTHY");
    assert_eq!(v["exit_code"], 0);
    let db = &v["components"][0];
    assert_eq!(db["id"], "db");
    assert_eq!(db["tier"], "critical");
    assert_eq!(db["state"], "up");
    assert_eq!(db["backup"]["state"], "ok");
    assert!(
        db["backup"]["age_seconds"]
            .as_f64()
            .is_some_and(|a| a < 60.0),
        "{db}"
    );
    assert!(db["latency_seconds"].as_f64().is_some(), "{db}");
    assert_eq!(v["components"][1]["state"], "up");
    assert_eq!(v["components"][2]["state"], "up");
}

#[test]
fn a_critical_component_down_exits_2_a_standard_one_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_config(
        dir.path(),
        &estate(dir.path(), closed_port(), "ok", "/bin/true"),
    );
    let (code, json) = status(dir.path(), true);
    assert_eq!(code, Some(2), "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["components"][0]["state"], "down");
    assert!(
        v["components"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("refused")),
        "{json}"
    );
    // While the database is down its RTO budget runs.
    assert!(v["components"][0]["rto_left_seconds"].as_f64().is_some());

    // Only the standard api is down (its body lacks the text): degraded.
    let dir = tempfile::tempdir().expect("tempdir");
    write_config(
        dir.path(),
        &estate(dir.path(), tcp_server(), "all good", "/bin/true"),
    );
    let (code, json) = status(dir.path(), true);
    assert_eq!(code, Some(1), "{json}");
}

#[test]
fn a_critical_component_that_cannot_be_seen_exits_4() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_config(
        dir.path(),
        &estate(dir.path(), tcp_server(), "ok", "/no/such/probe-program"),
    );
    let (code, json) = status(dir.path(), true);
    assert_eq!(code, Some(4), "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["severity"], "CRITICAL (unverified)");
    assert_eq!(v["components"][2]["state"], "unknown");
}

#[test]
fn the_console_watches_the_real_estate() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_config(
        dir.path(),
        &estate(dir.path(), closed_port(), "ok", "/bin/true"),
    );
    let mut pty = Pty::spawn(&["-c", "estate.toml"], 100, 30, dir.path(), &[]);
    let screen = pty
        .wait_for_all(
            &["✖ DOWN", "connection refused", "Timeline"],
            Duration::from_secs(20),
        )
        .expect("the database down, with why");
    assert!(screen.contains("CRITICAL"), "{screen}");
    assert!(!screen.contains("DRILL"), "{screen}");
    pty.send(b"q");
    assert_eq!(pty.wait_exit(Duration::from_secs(10)), Some(0));
    pty.restored().expect("the terminal is restored");
}
