//! Comms from real consoles in pseudo-terminals, against the fake Slack and Statuspage
//! servers: updates queued while both are failing survive a SIGKILL of the console and are
//! delivered exactly once by the next one; a read-only console and a drill send nothing; a
//! planted token and API key never reach the screen, the terminal's bytes, the log, the
//! journal or the outbox.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::http::{Fault, Reply};
use crate::support::local::{all_bytes, closed_port, private_config};
use crate::support::pty::Pty;
use crate::support::slack::FakeSlack;
use crate::support::statuspage::FakeStatuspage;
use serde_json::Value;

const PATIENCE: Duration = Duration::from_secs(30);
const TOKEN: &str = "xoxb-PLANTED-console-4d2a9e";
const KEY: &str = "PLANTED-console-key-8c61f0";

fn private_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    dir
}

fn secret(dir: &Path, name: &str, value: &str) {
    let path = dir.join(name);
    std::fs::write(&path, value).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// A one-component estate (DOWN: a closed port) with Slack and the status page at the fakes.
fn estate(home: &Path, slack: &FakeSlack, page: &FakeStatuspage) -> String {
    secret(home, "slack-token", TOKEN);
    secret(home, "statuspage-key", KEY);
    let port = closed_port();
    let path = private_config(
        home,
        &format!(
            r##"
[console]
title = "Comms"

[[component]]
id = "api"
tier = "critical"
rto = "30m"
health = {{ kind = "tcp", address = "127.0.0.1:{port}", every = "1s", timeout = "1s" }}

[slack]
token_file = "slack-token"
channel = "#dtem-war-room"
api_url = "{slack}"

[statuspage]
kind = "atlassian"
page_id = "dtemstatus01"
api_key_file = "statuspage-key"
api_url = "{page}"
components = {{ api = "cmp_api" }}

[[runbook]]
id = "tell"
title = "Tell the customers"

[[runbook.step]]
id = "notify-initial"
title = "Post the initial notice"
key = "i"
action = {{ kind = "notify", template = "initial" }}
"##,
            slack = slack.api_url(),
            page = page.api_url(),
        ),
    );
    path.to_string_lossy().into_owned()
}

fn console(home: &Path, config: &str, data: &Path, extra: &[&str]) -> Pty {
    let data = data.to_string_lossy().into_owned();
    let mut args = vec!["-c", config, "--data-dir", &data, "--layout", "war-room"];
    args.extend_from_slice(extra);
    Pty::spawn(&args, 200, 50, home, &[])
}

fn journals(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect()
}

/// The comms lines of every journal in `dir`, as (kind, fields).
fn comms(dir: &Path) -> Vec<(String, serde_json::Map<String, Value>)> {
    journals(dir)
        .iter()
        .flat_map(|p| {
            warroom::journal::load(p)
                .map(|l| l.entries)
                .unwrap_or_default()
        })
        .filter(|e| e.kind.starts_with("comms_"))
        .map(|e| (e.kind, e.body))
        .collect()
}

fn count(dir: &Path, kind: &str) -> usize {
    comms(dir).iter().filter(|(k, _)| k == kind).count()
}

fn wait(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !f() {
        assert!(Instant::now() < deadline, "not within {PATIENCE:?}: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_no_secret(what: &str, text: &str) {
    assert!(
        !text.contains(TOKEN),
        "the planted Slack token leaked into {what}"
    );
    assert!(
        !text.contains(KEY),
        "the planted Statuspage key leaked into {what}"
    );
}

/// Declares an incident and queues one update to both channels, typing as an operator would.
fn declare_and_send(c: &mut Pty) {
    c.send(b"d");
    c.wait_for("Declare an incident", PATIENCE)
        .expect("declare dialog");
    c.send(b"api down");
    c.send(b"\r");
    c.wait_for("investigating: api down", PATIENCE)
        .expect("declared");
    send_update(c);
}

fn send_update(c: &mut Pty) {
    c.send(b"u");
    c.wait_for("Exactly what is sent", PATIENCE)
        .expect("the composer with its preview");
    c.send(b"\t\t\t"); // Text → Public → ETA → Publish
    c.send(b"publish");
    c.wait_for("Enter: queue it", PATIENCE)
        .expect("publish typed");
    c.send(b"\r");
    c.wait_gone("Exactly what is sent", PATIENCE)
        .expect("the composer closes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_queued_before_a_sigkill_are_delivered_exactly_once_and_observers_send_nothing() {
    let home = private_dir();
    let data = private_dir();
    let slack = FakeSlack::start(TOKEN).await;
    let page = FakeStatuspage::start(KEY).await;
    // Both fail for a while, quoting the secret back (it must go no further).
    for _ in 0..40 {
        slack.fault(Fault::Instead(Reply::text(
            503,
            &format!("upstream unavailable (token {TOKEN})"),
        )));
        page.fault(Fault::Instead(Reply::text(
            503,
            &format!("maintenance; key {KEY} is fine"),
        )));
    }
    let config = estate(home.path(), &slack, &page);
    let incidents = warroom::journal::incidents_dir(data.path());

    let mut ana = console(home.path(), &config, data.path(), &[]);
    ana.wait_for_all(&["REC", "watch log"], PATIENCE)
        .expect("operator console");
    declare_and_send(&mut ana);
    send_update(&mut ana);
    wait("four deliveries queued", || {
        count(&incidents, "comms_queued") == 4
    });
    wait("failures on both channels", || {
        !slack.server.requests().is_empty() && !page.server.requests().is_empty()
    });
    ana.wait_for("retrying", PATIENCE)
        .expect("the comms panel says so");
    assert_no_secret("the screen", &ana.screen());
    ana.signal(nix::sys::signal::Signal::SIGKILL);
    ana.wait_exit(PATIENCE).expect("killed");
    assert_no_secret("the terminal's bytes", &String::from_utf8_lossy(&ana.raw()));
    assert_eq!(slack.messages().len(), 0);
    assert!(page.incidents().is_empty());

    // The fakes answer again. An observer on the same journal dir sends nothing.
    slack.server.clear_faults();
    page.server.clear_faults();
    let (slack_seen, page_seen) = (slack.server.requests().len(), page.server.requests().len());
    let mut bo = console(home.path(), &config, data.path(), &["--read-only"]);
    bo.wait_for("[RO]", PATIENCE).expect("observer");
    bo.send(b"u");
    bo.wait_for("read-only console: cannot send updates", PATIENCE)
        .expect("u says why it does nothing");
    // After that positive signal: an observer builds no sink, so nothing can come later.
    assert_eq!(
        slack.server.requests().len(),
        slack_seen,
        "the observer sent to Slack"
    );
    assert_eq!(
        page.server.requests().len(),
        page_seen,
        "the observer sent to the page"
    );
    bo.send(b"q");
    bo.wait_exit(PATIENCE).expect("observer quits");

    // The next operator console delivers everything, once.
    let mut cy = console(home.path(), &config, data.path(), &[]);
    let deadline = Instant::now() + PATIENCE;
    while !(slack.messages().len() == 2
        && page
            .incidents()
            .first()
            .is_some_and(|i| i.updates.len() == 2))
    {
        assert!(
            Instant::now() < deadline,
            "not both updates on Slack and on the page: slack saw {:?}, the page saw {:?}, the journal has {:?}; the console shows {}",
            slack
                .server
                .requests()
                .iter()
                .map(|r| format!("{} {}", r.method, r.path))
                .collect::<Vec<_>>(),
            page.server
                .requests()
                .iter()
                .map(|r| format!("{} {}", r.method, r.path))
                .collect::<Vec<_>>(),
            comms(&incidents),
            cy.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    wait("every delivery journaled as sent", || {
        count(&incidents, "comms_sent") == 4
    });
    assert_eq!(
        slack.messages().len(),
        2,
        "posted twice: {:?}",
        slack.messages()
    );
    assert_eq!(page.incidents().len(), 1);
    assert_eq!(page.incidents()[0].updates.len(), 2);
    assert_eq!(
        count(&incidents, "comms_sent"),
        4,
        "{:?}",
        comms(&incidents)
    );
    let sent: Vec<(String, String)> = comms(&incidents)
        .iter()
        .filter(|(k, _)| k == "comms_sent")
        .map(|(_, b)| {
            (
                b["id"].as_str().unwrap_or_default().to_string(),
                b["channel"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut unique = sent.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "one sent line per delivery: {sent:?}");
    // In the order they were queued (the first one starts the thread and the page incident).
    let order = |kind: &str, channel: &str| -> Vec<String> {
        comms(&incidents)
            .iter()
            .filter(|(k, b)| k == kind && b["channel"] == channel)
            .filter_map(|(_, b)| b["id"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(order("comms_sent", "slack"), order("comms_queued", "slack"));
    assert_eq!(
        order("comms_sent", "statuspage"),
        order("comms_queued", "statuspage")
    );
    // Threaded: the second Slack message replies to the first.
    let msgs = slack.messages();
    assert_eq!(msgs[1].thread_ts.as_deref(), Some(msgs[0].ts.as_str()));
    cy.wait_for("✔ sent", PATIENCE)
        .expect("the comms panel says sent");
    assert_no_secret("the screen", &cy.screen());
    cy.send(b"q");
    cy.wait_exit(PATIENCE).expect("quits");
    assert_no_secret("the terminal's bytes", &String::from_utf8_lossy(&cy.raw()));
    assert_no_secret(
        "the journal dir (journals and outbox)",
        &all_bytes(data.path()),
    );
    let log = home.path().join("xdg-state").join("warroom");
    let logged = all_bytes(&log);
    assert!(
        log.join("warroom.log").is_file(),
        "the log is where the search looks: {}",
        log.display()
    );
    assert_no_secret("the log", &logged);
    // The failures were journaled with their reason, scrubbed.
    let reasons: Vec<String> = comms(&incidents)
        .iter()
        .filter(|(k, _)| k == "comms_failed")
        .map(|(_, b)| b["reason"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("HTTP 503")),
        "{reasons:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drill_delivers_to_its_simulated_sink_only() {
    let home = private_dir();
    let data = private_dir();
    let slack = FakeSlack::start(TOKEN).await;
    let page = FakeStatuspage::start(KEY).await;
    let config = estate(home.path(), &slack, &page);
    let d = data.path().to_string_lossy().into_owned();
    let mut drill = Pty::spawn(
        &[
            "drill",
            "steady",
            "-c",
            &config,
            "--data-dir",
            &d,
            "--layout",
            "war-room",
        ],
        200,
        50,
        home.path(),
        &[],
    );
    // Keys count once the journal is followed (before, `d` says there is none).
    drill
        .wait_for_all(&["DRILL", "watch log"], PATIENCE)
        .expect("drill");
    declare_and_send(&mut drill);
    let drills = warroom::journal::drills_dir(data.path());
    wait("both sent to the drill's sink", || {
        count(&drills, "comms_sent") == 2
    });
    drill
        .wait_for("✔ simulated", PATIENCE)
        .expect("the comms panel says simulated");
    // The runbook's notify step goes the same way: the composer on its template, then the claim.
    drill.send(b"\t\t\t\t\t");
    drill
        .wait_for("Post the initial notice", PATIENCE)
        .expect("the runbook panel");
    drill.send(b"i");
    drill
        .wait_for("Update (tell/notify-initial)", PATIENCE)
        .expect("the composer is the step's modal");
    drill.send(b"\t\t\t");
    drill.send(b"publish");
    drill
        .wait_for("Enter: queue it", PATIENCE)
        .expect("publish");
    drill.send(b"\r");
    wait("the step's update sent too", || {
        count(&drills, "comms_sent") == 4
    });
    wait("the step succeeded", || {
        journals(&drills).iter().any(|p| {
            warroom::journal::load(p).is_ok_and(|l| {
                l.entries.iter().any(|e| {
                    e.kind == "step_finished"
                        && e.body.get("outcome").and_then(Value::as_str) == Some("succeeded")
                })
            })
        })
    });
    let queued: Vec<String> = comms(&drills)
        .iter()
        .filter(|(k, _)| k == "comms_queued")
        .filter_map(|(_, b)| b["template"].as_str().map(str::to_string))
        .collect();
    // `u` on an incident with no update yet opens on the initial notification.
    assert_eq!(queued, vec!["initial", "initial", "initial", "initial"]);
    let sent = comms(&drills);
    assert!(
        sent.iter()
            .filter(|(k, _)| k == "comms_sent")
            .all(|(_, b)| b.get("simulated") == Some(&Value::Bool(true))),
        "{sent:?}"
    );
    // Every update of the drill is journaled as sent (simulated): nothing is left to go.
    assert!(slack.server.requests().is_empty(), "a drill reached Slack");
    assert!(
        page.server.requests().is_empty(),
        "a drill reached the status page"
    );
    assert_eq!(
        count(
            &warroom::journal::incidents_dir(data.path()),
            "comms_queued"
        ),
        0
    );
    drill.send(b"q");
    drill.wait_exit(PATIENCE).expect("quits");
}

/// Announcing `resolved` while a component is DOWN: Enter waits for `override resolve:
/// <reason>` and for the word `resolve`, each on its own line; with both, the override is
/// journaled, the incident's own status becomes resolved (the header stops counting down
/// to a next update) and the page says resolved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolved_while_a_component_is_down_needs_its_override_and_moves_the_incident() {
    let home = private_dir();
    let data = private_dir();
    let slack = FakeSlack::start(TOKEN).await;
    let page = FakeStatuspage::start(KEY).await;
    let config = estate(home.path(), &slack, &page);
    let incidents = warroom::journal::incidents_dir(data.path());
    let mut ana = console(home.path(), &config, data.path(), &[]);
    ana.wait_for_all(&["REC", "watch log", "api (critical) DOWN"], PATIENCE)
        .expect("console");
    declare_and_send(&mut ana);
    wait("the initial update delivered", || {
        count(&incidents, "comms_sent") == 2
    });
    // `u` now offers an update, on the incident's status: never resolved by default.
    ana.send(b"u");
    ana.wait_for("Exactly what is sent", PATIENCE)
        .expect("the composer");
    let screen = ana.screen();
    assert!(screen.contains("[update]"), "{screen}");
    assert!(screen.contains("[investigating]"), "{screen}");
    // Text → To → Status, then to resolved.
    ana.send(b"\x1b[Z\x1b[Z");
    ana.send(b"\x1b[C\x1b[C\x1b[C");
    ana.wait_for("[resolved]", PATIENCE)
        .expect("resolved chosen");
    ana.send(b"\r");
    ana.wait_for(
        "Enter waits: not every component is UP: type `override resolve: <reason>`",
        PATIENCE,
    )
    .expect("the gate, named");
    // Status → To → Text → Public → ETA → Override → Resolve → Publish.
    ana.send(b"\t\t\t\t\t");
    ana.send(b"override resolve: served from the DR region");
    ana.send(b"\t\t");
    ana.send(b"publish");
    ana.send(b"\r");
    // Keys are taken in order: the `!` typed after Enter on screen means Enter was handled
    // (the footer's "Enter waits" shows before Enter too: it is no signal).
    ana.send(b"!");
    ana.wait_for("> publish!", PATIENCE)
        .expect("the key after Enter, taken");
    let screen = ana.screen();
    assert!(
        screen.contains("Enter waits: type `resolve` to announce resolved"),
        "the override does not stand for the word: {screen}"
    );
    ana.send(&[0x7f]);
    let queued = count(&incidents, "comms_queued");
    assert_eq!(queued, 2, "nothing sent without `resolve`");
    ana.send(b"\x1b[Z");
    ana.send(b"resolve");
    ana.wait_for("Enter: queue it", PATIENCE)
        .expect("everything typed");
    ana.send(b"\r");
    ana.wait_gone("Exactly what is sent", PATIENCE)
        .expect("the composer closes");
    wait("the resolved update delivered", || {
        count(&incidents, "comms_sent") == 4
    });
    let lines: Vec<warroom::journal::JournalEntry> = journals(&incidents)
        .iter()
        .flat_map(|p| {
            warroom::journal::load(p)
                .map(|l| l.entries)
                .unwrap_or_default()
        })
        .collect();
    let overridden: Vec<_> = lines
        .iter()
        .filter(|e| e.kind == "gate_overridden")
        .map(|e| e.body.clone())
        .collect();
    assert_eq!(overridden.len(), 1, "{overridden:?}");
    assert_eq!(overridden[0]["gate"], "resolve");
    assert_eq!(overridden[0]["reason"], "served from the DR region");
    assert_eq!(
        overridden[0]["detail"],
        "announced resolved while not UP: api DOWN"
    );
    assert!(
        lines
            .iter()
            .any(|e| e.kind == "status" && e.body["to"] == "resolved"),
        "the incident's own status moved"
    );
    assert_eq!(
        page.incidents().last().map(|i| i.status.clone()).as_deref(),
        Some("resolved")
    );
    // What customers read: no actor, host, runbook, step or internal id — searched for in
    // every incident name and update body the page received.
    let actor = warroom::journal::actor();
    let (user, host) = actor.split_once('@').expect("user@host");
    for incident in page.incidents() {
        let texts = std::iter::once(incident.name.clone())
            .chain(incident.updates.iter().map(|(_, body)| body.clone()));
        for text in texts {
            let words: Vec<&str> = text
                .split(|c: char| !c.is_alphanumeric() && c != '-')
                .collect();
            for internal in [user, host, "api", "notify-initial", "tell"] {
                assert!(
                    !words.contains(&internal),
                    "{internal:?} in the public text: {text}"
                );
            }
            for internal in [
                "Tell the customers",
                "Post the initial notice",
                "api down",
                "RTO",
            ] {
                assert!(
                    !text.contains(internal),
                    "{internal:?} in the public text: {text}"
                );
            }
        }
    }
    ana.wait_for("resolved: api down", PATIENCE)
        .expect("the header says resolved");
    let screen = ana.screen();
    assert!(!screen.contains("update in "), "{screen}");
    assert!(!screen.contains("OVERDUE"), "{screen}");
    ana.send(b"q");
    assert!(ana.wait_exit(PATIENCE).is_some());
}

/// The step ids of `runbook` that finished succeeded, in the drill journals under `data`.
fn succeeded_steps(data: &Path, runbook: &str) -> Vec<String> {
    let drills = warroom::journal::drills_dir(data);
    journals(&drills)
        .iter()
        .flat_map(|p| {
            warroom::journal::load(p)
                .map(|l| l.entries)
                .unwrap_or_default()
        })
        .filter(|e| {
            e.kind == "step_finished"
                && e.body.get("runbook").and_then(Value::as_str) == Some(runbook)
                && e.body.get("outcome").and_then(Value::as_str) == Some("succeeded")
        })
        .filter_map(|e| {
            e.body
                .get("step")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect()
}

/// The whole level-3 runbook in the default drill, as an operator types it: its last step
/// announces `monitoring` (the lost region is still out), `u` then offers an update on
/// monitoring, never resolved; choosing resolved while components are DOWN waits for its
/// override and `resolve` — `publish` alone sends nothing.
#[test]
fn after_the_l3_runbook_nothing_announces_resolved_while_the_region_is_down() {
    let home = private_dir();
    let data = private_dir();
    let d = data.path().to_string_lossy().into_owned();
    let example = warroom::config::load::load_embedded_example();
    let (index, l3) = example
        .runbooks
        .iter()
        .enumerate()
        .find(|(_, r)| r.id == "l3-region-failover")
        .expect("the example's L3 runbook");
    let mut drill = Pty::spawn(
        &[
            "drill",
            "--speed",
            "30",
            "--data-dir",
            &d,
            "--layout",
            "war-room",
        ],
        200,
        50,
        home.path(),
        &[],
    );
    drill
        .wait_for_all(&["DRILL", "watch log"], PATIENCE)
        .expect("drill");
    drill.send(b"d");
    drill
        .wait_for("Declare an incident", PATIENCE)
        .expect("declare dialog");
    drill.send(b"us-east-1 down\r");
    drill
        .wait_for("investigating: us-east-1 down", PATIENCE)
        .expect("declared");
    // The L3 runbook selected: R, to the top, down to it.
    drill.send(b"R");
    drill.send(&b"\x1b[A".repeat(12));
    drill.send(&b"\x1b[B".repeat(index));
    drill.wait_for(&l3.title, PATIENCE).expect("the L3 runbook");
    let drills = warroom::journal::drills_dir(data.path());
    for step in &l3.steps {
        // Its requires done and its prechecks passing (db-primary seen DOWN for the
        // promotion): only then is its key pressed, once.
        drill
            .wait_for(&format!("[{}] ready", step.key), Duration::from_secs(60))
            .unwrap_or_else(|s| panic!("{} never ready: {s}", step.id));
        drill.send(step.key.to_string().as_bytes());
        match &step.action {
            warroom::config::Action::Notify { status, .. } => {
                drill
                    .wait_for("Exactly what is sent", PATIENCE)
                    .expect("the step's composer");
                if step.id == "notify-restoration" {
                    assert_eq!(status.as_deref(), Some("monitoring"));
                    let screen = drill.screen();
                    assert!(screen.contains("[monitoring]"), "{screen}");
                    assert!(!screen.contains("[resolved]"), "{screen}");
                }
                drill.send(b"\t\t\tpublish\r");
                drill
                    .wait_gone("Exactly what is sent", PATIENCE)
                    .expect("sent");
            }
            warroom::config::Action::Checklist { items } => {
                drill.wait_for("Run a step", PATIENCE).expect("the modal");
                drill.send(&b" ".repeat(items.len()));
                drill.send(format!("{}\r", step.confirm).as_bytes());
            }
            _ => {
                drill.wait_for("Run a step", PATIENCE).expect("the modal");
                drill.send(format!("{}\r", step.confirm).as_bytes());
            }
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while !succeeded_steps(data.path(), &l3.id).contains(&step.id) {
            assert!(
                Instant::now() < deadline,
                "{} did not succeed: {}",
                step.id,
                drill.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let queued = |drills: &Path| count(drills, "comms_queued");
    // Both notify steps' updates, to both channels, are in the journal (a step's end can be
    // written before its update's queued lines).
    wait("the runbook's two updates queued to both channels", || {
        queued(&drills) == 4
    });
    let before = queued(&drills);
    let statuses: Vec<String> = comms(&drills)
        .iter()
        .filter(|(k, _)| k == "comms_queued")
        .filter_map(|(_, b)| b["status"].as_str().map(str::to_string))
        .collect();
    assert!(
        !statuses.iter().any(|s| s == "resolved"),
        "nothing announced resolved: {statuses:?}"
    );
    // `u`: an update, on monitoring.
    drill.send(b"u");
    drill
        .wait_for("Exactly what is sent", PATIENCE)
        .expect("the composer");
    let screen = drill.screen();
    assert!(screen.contains("[update]"), "{screen}");
    assert!(screen.contains("[monitoring]"), "{screen}");
    // Resolved chosen (Text → To → Status, one to the right), `publish` typed, no `resolve`.
    drill.send(b"\x1b[Z\x1b[Z\x1b[C");
    drill
        .wait_for("[resolved]", PATIENCE)
        .expect("resolved chosen");
    // Status → To → Text → Public → ETA → Override → Resolve → Publish.
    drill.send(b"\t\t\t\t\t\t\tpublish\r");
    // Keys are taken in order: the `!` after Enter on screen means Enter was handled.
    drill.send(b"!");
    drill
        .wait_for("> publish!", PATIENCE)
        .expect("`publish` typed in its field, and the key after Enter taken");
    let screen = drill.screen();
    assert!(
        screen.contains("Enter waits: not every component is UP"),
        "the override is asked for: {screen}"
    );
    assert_eq!(queued(&drills), before, "nothing sent");
    drill.send(b"\x1b\x1b");
    drill.send(b"q");
    assert!(drill.wait_exit(PATIENCE).is_some());
}
