//! Long incidents in bounded memory (issue 23): a console, `report` and `journal verify` on a
//! generated 1,000,000-line journal, their peak RSS read loosely (the budgets are in the
//! benchmark: this machine is shared and noisy).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::local::{closed_port, private_config};
use crate::support::long_journal;
use crate::support::pty::Pty;

const LINES: u64 = 1_000_000;

/// A loose bound on a process's peak RSS for a 1,000,000-line incident: far above the
/// budgets (150 MB a console, 200 MB `report` and `verify`) so noise cannot fail it, far
/// below the gigabytes a whole-file reader takes.
const LOOSE: u64 = 500 << 20;

/// Runs warroom with `args` under Python's `resource`, which reports the child's peak RSS
/// exactly (ru_maxrss of the one child it waited for), in bytes; with its exit code.
fn peak_rss(data: &Path, args: &[&str]) -> (i32, u64) {
    let script = "import resource, subprocess, sys\n\
                  r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n\
                  print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_warroom"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("WARROOM_CONFIG")
        .env("HOME", data)
        .env("XDG_CONFIG_HOME", data.join("xdg-config"))
        .output()
        .expect("run python3");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    let code = words
        .next()
        .and_then(|w| w.parse().ok())
        .expect("an exit code");
    let kib: u64 = words
        .next()
        .and_then(|w| w.parse().ok())
        .expect("a peak RSS");
    (code, kib * 1024)
}

/// The peak RSS of a running process (`VmHWM`), in bytes.
fn vm_hwm(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM")
        * 1024
}

#[test]
fn a_million_line_incident_is_opened_verified_and_reported_in_bounded_memory() {
    let data = tempfile::tempdir().expect("tempdir");
    let path = long_journal::write(data.path(), LINES);
    let mb = |b: u64| b >> 20;

    let (code, verify) = peak_rss(data.path(), &["journal", "verify"]);
    eprintln!("journal verify: exit {code}, peak RSS {} MB", mb(verify));
    assert_eq!(code, 0, "the chain of the generated journal holds");
    assert!(verify < LOOSE, "journal verify peaked at {} MB", mb(verify));

    let (code, report) = peak_rss(data.path(), &["report"]);
    eprintln!("report: exit {code}, peak RSS {} MB", mb(report));
    assert_eq!(code, 0);
    assert!(report < LOOSE, "report peaked at {} MB", mb(report));

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
    let console_rss = vm_hwm(console.pid());
    eprintln!("console: peak RSS {} MB", mb(console_rss));
    assert!(
        console_rss < LOOSE,
        "the console peaked at {} MB",
        mb(console_rss)
    );
    // What it does not keep it says, at the oldest end of the timeline.
    for _ in 0..8 {
        if console.screen().contains("▶ Timeline") {
            break;
        }
        console.send(b"\t");
        std::thread::sleep(Duration::from_millis(200));
    }
    console
        .wait_for("▶ Timeline", Duration::from_secs(10))
        .expect("Tab focuses the timeline");
    console.send(b"\x1b[F");
    console
        .wait_for(
            "earlier entries are in the journal",
            Duration::from_secs(10),
        )
        .expect("End shows what was not kept");
    console.send(b"q");
    console
        .wait_exit(Duration::from_secs(30))
        .expect("q ends it");
    assert!(path.exists());
}
