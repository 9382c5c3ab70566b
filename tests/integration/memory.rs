//! Long incidents in bounded memory (issue 23): a console, `report` and `journal verify` on a
//! generated 1,000,000-line journal, their peak RSS read loosely (the budgets are in the
//! benchmark: this machine is shared and noisy).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::local::{closed_port, private_config};
use crate::support::long_journal;
use crate::support::pty::Pty;
use crate::support::rss;

const LINES: u64 = 1_000_000;

/// A loose bound on a process's peak RSS for a 1,000,000-line incident: far above the
/// budgets (150 MB a console, 200 MB `report` and `verify`) so noise cannot fail it, far
/// below the gigabytes a whole-file reader takes.
const LOOSE: u64 = 500 << 20;

/// `warroom ARGS --data-dir DATA`, to its end.
fn run(data: &Path, args: &[&str]) -> rss::Run {
    let data_dir = data.to_string_lossy();
    let args: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--data-dir", &data_dir])
        .collect();
    let run = rss::measured(env!("CARGO_BIN_EXE_warroom"), &args, data);
    eprintln!(
        "{args:?}: exit {}, {:.1} s, peak RSS {} MB",
        run.code,
        run.took.as_secs_f64(),
        run.peak >> 20
    );
    run
}

#[test]
fn a_million_line_incident_is_opened_verified_and_reported_in_bounded_memory() {
    let data = tempfile::tempdir().expect("tempdir");
    long_journal::write(data.path(), LINES);
    let mb = |b: u64| b >> 20;

    let verify = run(data.path(), &["journal", "verify"]);
    assert_eq!(verify.code, 0, "the chain of the generated journal holds");
    assert!(
        verify.peak < LOOSE,
        "journal verify peaked at {} MB",
        mb(verify.peak)
    );

    let report = run(data.path(), &["report"]);
    assert_eq!(report.code, 0);
    assert!(
        report.peak < LOOSE,
        "report peaked at {} MB",
        mb(report.peak)
    );

    // A console on it: the incident's header, its newest entry, in bounded memory.
    let home = tempfile::tempdir().expect("tempdir");
    let config = private_config(
        home.path(),
        &format!(
            "[[component]]\nid = \"db\"\ntier = \"critical\"\n\
             health = {{ kind = \"tcp\", address = \"127.0.0.1:{}\", every = \"5s\" }}\n",
            closed_port()
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
    let newest = format!("note {}", (LINES / 50) * 50);
    console
        .wait_for_all(&["long incident", &newest], Duration::from_secs(120))
        .expect("the console opens the long incident on its newest entries");
    let console_rss = rss::vm_hwm(console.pid()).expect("the console runs");
    eprintln!("console: peak RSS {} MB", mb(console_rss));
    assert!(
        console_rss < LOOSE,
        "the console peaked at {} MB",
        mb(console_rss)
    );
    // What it does not hold it reads back from the journal as the operator scrolls: End on
    // the timeline shows the incident's oldest entry. Tab moves the focus (the panel whose
    // title has `▶`) one panel on; each move is seen before the next.
    let focused = |screen: &str| {
        screen
            .split_once("▶ ")
            .and_then(|(_, rest)| rest.split_whitespace().next().map(str::to_string))
    };
    for _ in 0..8 {
        let before = focused(&console.screen());
        if before.as_deref() == Some("Timeline") {
            break;
        }
        console.send(b"\t");
        let deadline = Instant::now() + Duration::from_secs(5);
        while focused(&console.screen()) == before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    console
        .wait_for("▶ Timeline", Duration::from_secs(10))
        .expect("Tab focuses the timeline");
    console.send(b"\x1b[F");
    // (Its start: the rest of the line is cut at the panel's edge.)
    let oldest = &long_journal::OLDEST_NOTE[..30];
    console
        .wait_for(oldest, Duration::from_secs(30))
        .expect("End shows the incident's oldest entry, read back from the journal");
    // Reading it back did not cost what holding the incident would.
    let console_rss = rss::vm_hwm(console.pid()).expect("the console runs");
    eprintln!("console after End: peak RSS {} MB", mb(console_rss));
    assert!(
        console_rss < LOOSE,
        "the console peaked at {} MB after End",
        mb(console_rss)
    );
    console.send(b"q");
    console
        .wait_exit(Duration::from_secs(30))
        .expect("q ends it");
}
