//! Guarded runbook steps end to end: the real binary in a pseudo-terminal on the drill estate.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::support::pty::Pty;

const PATIENCE: Duration = Duration::from_secs(30);

fn spawn(home: &std::path::Path, data: &std::path::Path, extra: &[&str]) -> Pty {
    let data = data.to_string_lossy().into_owned();
    let mut args = vec![
        "drill",
        "--speed",
        "10",
        "--data-dir",
        &data,
        "--layout",
        "bastion",
    ];
    args.extend_from_slice(extra);
    Pty::spawn(&args, 200, 50, home, &[])
}

fn dirs() -> (tempfile::TempDir, tempfile::TempDir) {
    let home = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    (home, data)
}

/// Focus the runbook panel and choose the level-3 runbook (the third).
fn to_level_3(pty: &mut Pty) {
    pty.send(b"\t\t\t\t");
    for _ in 0..12 {
        if pty
            .wait_for(
                "Level 3: region us-east-1 failed",
                Duration::from_millis(500),
            )
            .is_ok()
        {
            return;
        }
        pty.send(b"\x1b[B");
    }
    panic!("no level-3 runbook: {}", pty.screen());
}

/// A drill once the outage shows, an L3 incident declared (so steps go to the drill's
/// incident journal), the level-3 runbook chosen.
fn declared_drill(home: &std::path::Path, data: &std::path::Path) -> Pty {
    let mut pty = spawn(home, data, &[]);
    pty.wait_for("db-primary: UNKNOWN → DOWN", PATIENCE)
        .expect("the outage");
    pty.send(b"d");
    pty.wait_for("Declare an incident", PATIENCE)
        .expect("declare");
    pty.send(b"region down\t3\r");
    pty.wait_for("L3 investigating: region down", PATIENCE)
        .expect("declared");
    to_level_3(&mut pty);
    pty
}

/// Opens a step's modal with its key, types `typed` and Enter, waits for `until`.
fn run_step(pty: &mut Pty, key: &[u8], typed: &[u8], until: &str) {
    pty.send(key);
    pty.wait_for("Run a step", PATIENCE).expect("the modal");
    pty.send(typed);
    pty.send(b"\r");
    pty.wait_for(until, PATIENCE)
        .unwrap_or_else(|e| panic!("{until}: {e}"));
}

#[test]
fn promote_runs_only_on_the_exact_phrase_then_succeeds_and_is_verified_and_journaled() {
    let (home, data) = dirs();
    let mut pty = declared_drill(home.path(), data.path());
    // The declaration checklist first: promote requires it.
    pty.send(b"p");
    pty.wait_for("blocked until step `declare` has succeeded", PATIENCE)
        .expect("promote is blocked");
    // Four items ticked (Space), then the phrase.
    run_step(
        &mut pty,
        b"w",
        b"    done",
        "step l3-region-failover/declare: succeeded",
    );

    pty.send(b"p");
    pty.wait_for(
        "PromoteReadReplica DBInstanceIdentifier=dtem-postgres-dr-replica",
        PATIENCE,
    )
    .expect("the modal says exactly what will happen");
    pty.send(b"promote us-west-2/dtem-postgres-dr-REPLICA\r");
    // The negative only after the positive signal that Enter was taken and refused.
    let screen = pty
        .wait_for("Enter waits: type the confirm phrase exactly", PATIENCE)
        .expect("the modal says why Enter did nothing");
    assert!(
        !screen.contains("promote-db: started"),
        "a wrong phrase runs nothing: {screen}"
    );
    pty.send(&[0x7f; 7]);
    pty.send(b"replica\r");
    pty.wait_for("step l3-region-failover/promote-db: started", PATIENCE)
        .expect("claimed in the journal");
    pty.wait_for("step l3-region-failover/promote-db: succeeded", PATIENCE)
        .expect("the promotion succeeded");
    pty.wait_for("promote-db: verified", PATIENCE)
        .expect("db-dr came up within its deadline");
    pty.send(b"q");
    assert!(pty.wait_exit(PATIENCE).is_some());
    let file = warroom::journal::latest(&data.path().join("incidents").join("drills"))
        .expect("the drill's journal");
    assert!(warroom::journal::verify(&file).expect("verify").ok());
    let loaded = warroom::journal::load(&file).expect("load");
    let promote: Vec<&str> = loaded
        .entries
        .iter()
        .filter(|e| e.body.get("step").and_then(|s| s.as_str()) == Some("promote-db"))
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(
        promote,
        [
            "step_requested",
            "step_confirmed",
            "step_started",
            "step_output",
            "step_finished",
            "step_verified",
            "step_verified"
        ],
        "requested, confirmed, started (the claim), output, finished, verified by its \
         postcondition (the instance a standalone primary), then by its verify (db-dr UP)"
    );
    let verdicts: Vec<(String, bool)> = loaded
        .entries
        .iter()
        .filter(|e| e.kind == "step_verified")
        .filter_map(|e| {
            Some((
                e.body.get("component")?.as_str()?.to_string(),
                e.body.get("verified")?.as_bool()?,
            ))
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("dtem-postgres-dr-replica".to_string(), true),
            ("db-dr".to_string(), true)
        ]
    );
}

#[test]
fn the_same_keys_in_a_read_only_drill_write_nothing_where_an_operators_write() {
    // The read-only console gets the keys that, on an operator's, declare the drill (a
    // journal file) and start the first step.
    let (home, data) = dirs();
    let mut ro = spawn(home.path(), data.path(), &["--read-only"]);
    ro.wait_for_all(&["[RO]", "db-primary: UNKNOWN → DOWN"], PATIENCE)
        .expect("the outage on the read-only console");
    ro.send(b"d");
    ro.wait_for("read-only console: cannot declare", PATIENCE)
        .expect("why d does nothing");
    ro.send(b"region down\t3\r");
    to_level_3(&mut ro);
    ro.send(b"w");
    ro.wait_for(
        "read-only console: steps cannot be started from here",
        PATIENCE,
    )
    .expect("why nothing opens");
    ro.send(b"    done\r");
    // Keys are taken in order: the help on screen means every key before it was handled.
    ro.send(b"?");
    ro.wait_for("this help; any key closes it", PATIENCE)
        .expect("the keys were handled");
    ro.send(b"\x1b");
    ro.send(b"q");
    assert!(ro.wait_exit(PATIENCE).is_some());
    let written = walk(data.path());
    assert!(written.is_empty(), "a read-only drill wrote {written:?}");

    // The same keys on an operator's console write the drill's journal: the check above
    // can fail.
    let (home, data) = dirs();
    let mut op = declared_drill(home.path(), data.path());
    run_step(&mut op, b"w", b"    done", "declare: succeeded");
    op.send(b"q");
    assert!(op.wait_exit(PATIENCE).is_some());
    let file = warroom::journal::latest(&data.path().join("incidents").join("drills"))
        .expect("the operator's drill journal");
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(
        text.contains("\"kind\":\"declared\"") && text.contains("\"kind\":\"step_requested\""),
        "{text}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A drill with an incident declared and a long step (a wait, minutes of simulated time)
/// running.
fn long_step_running(home: &std::path::Path, data: &std::path::Path) -> Pty {
    let mut pty = declared_drill(home, data);
    run_step(&mut pty, b"w", b"    done", "declare: succeeded");
    run_step(
        &mut pty,
        b"p",
        b"promote us-west-2/dtem-postgres-dr-replica",
        "promote-db: succeeded",
    );
    run_step(
        &mut pty,
        b"t",
        b"scale dtem-us-west-2/dte-service to 10",
        "scale-dte-service: succeeded",
    );
    run_step(
        &mut pty,
        b"e",
        b"wait dtem-us-west-2/dte-service",
        "wait-dte-service: started",
    );
    pty
}

fn wait_step_finished_in_journal(data: &std::path::Path) -> bool {
    let Some(file) = warroom::journal::latest(&data.join("incidents").join("drills")) else {
        return false;
    };
    let Ok(loaded) = warroom::journal::load(&file) else {
        return false;
    };
    loaded.entries.iter().any(|e| {
        e.kind == "step_finished"
            && e.body.get("step").and_then(|s| s.as_str()) == Some("wait-dte-service")
    })
}

#[test]
fn sighup_while_a_step_runs_ends_the_console_once_the_step_has_ended_in_the_journal() {
    let (home, data) = dirs();
    let mut pty = long_step_running(home.path(), data.path());
    pty.signal(nix::sys::signal::Signal::SIGHUP);
    assert!(
        pty.wait_exit(Duration::from_secs(120)).is_some(),
        "the detached console ends once its step has"
    );
    assert!(
        wait_step_finished_in_journal(data.path()),
        "the step's end was journaled after the detach"
    );
}

#[test]
fn q_while_a_step_runs_gives_the_terminal_back_and_waits_for_the_step() {
    let (home, data) = dirs();
    let mut pty = long_step_running(home.path(), data.path());
    pty.send(b"q");
    assert!(
        pty.wait_exit(Duration::from_secs(120)).is_some(),
        "the console ends once its step has"
    );
    assert!(
        wait_step_finished_in_journal(data.path()),
        "the step's end was journaled after q"
    );
    pty.restored().expect("the terminal was given back");
}

/// The region outage of the default drill: the header names L3 and its runbook, `d` opens on
/// L3 (the title is all the operator types), the runbook panel is already on the L3 runbook,
/// and the promote's modal says what promoting would lose against the RPO.
#[test]
fn the_region_outage_suggests_level_3_and_the_promote_shows_the_data_at_stake() {
    let (home, data) = dirs();
    let mut pty = spawn(home.path(), data.path(), &[]);
    pty.wait_for_all(&["EMERGENCY", "suggested: L3 l3-region-failover"], PATIENCE)
        .expect("the suggestion in the header after EMERGENCY");
    pty.send(b"d");
    pty.wait_for_all(&["Declare an incident", "whole region failure"], PATIENCE)
        .expect("the declare dialog preselects L3");
    pty.send(b"region down\r");
    pty.wait_for("L3 investigating: region down", PATIENCE)
        .expect("declared at the preselected level");
    // `R`: the runbook panel, already on the suggested runbook (no arrow pressed).
    pty.send(b"R");
    pty.wait_for("Level 3: region us-east-1 failed", PATIENCE)
        .expect("the runbook panel opened on the L3 runbook");
    run_step(
        &mut pty,
        b"w",
        b"    done",
        "step l3-region-failover/declare: succeeded",
    );
    pty.send(b"p");
    let screen = pty
        .wait_for("data at stake: up to", PATIENCE)
        .expect("the promote's modal shows the data at stake");
    let line = screen
        .lines()
        .find(|l| l.contains("data at stake"))
        .unwrap_or_default();
    assert!(
        line.contains("of writes (RPO 15m)") && line.contains("lag read"),
        "the lag against the RPO, and its age: {line}"
    );
    pty.send(b"\x1b");
    pty.wait_gone("Run a step", PATIENCE)
        .expect("the modal closed");
    pty.send(b"q");
    assert!(pty.wait_exit(PATIENCE).is_some());
}
