//! First, a long incident (issue 23): a generated 1,000,000-line journal (the journal's own
//! line and hash format), and the real binary on it: `journal verify` and `report` (wall time
//! and peak RSS, read by Python's `resource` for that one child), and a console in a pty
//! (time to its first frame showing the newest entry, peak RSS then). `WARROOM_BASELINE=PATH`
//! runs the same with another build (an earlier commit's release binary), interleaved, and
//! prints ours over it. Budgets: a console ≤ 150 MB and its first frame ≤ 1.5 s, `report`
//! and `verify` ≤ 200 MB.
//!
//! Then a journal of 100 000 entries. The budget (issue 5): it loads, verifies and the timeline
//! draws in ≤ 300 ms — `console: open+draw` is exactly that path (load and verify in one
//! pass, building only what the model keeps — the newest 10 000 lines and the declaration,
//! status and step lines; the others checked from their bytes — fold it into the model,
//! draw one war-room frame with the timeline). Also: the
//! same load+verify alone, without dropping the entries read (timed apart), on one thread,
//! and each alone (`load`; `verify`, what `warroom journal verify` does).

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use jiff::{SignedDuration, Timestamp};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use warroom::app::{
    ComponentSpec, EntryKind, Estate, Event, HealthState, JournalEvent, Panel, Source, State,
    update,
};
use warroom::config::Tier;
use warroom::journal::{
    GENESIS, JournalEntry, load, load_verified, load_verified_keeping, load_verified_with, verify,
};
use warroom::theme::Theme;
use warroom::ui::{Glyphs, Layout, Screen, draw};

const ENTRIES: u64 = 100_000;

/// Writes the journal directly (sealed entries, one write): appending through the lock
/// and an fsync per entry would make the setup, not the bench, take minutes.
fn journal() -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    let start = Timestamp::from_second(1_795_575_600).expect("time");
    let mut prev = GENESIS.to_string();
    let mut out = String::new();
    for seq in 1..=ENTRIES {
        // Every 50th line a note, the others component state changes: real kinds, so the
        // model reads them as the console would.
        let kind = if seq % 50 == 0 {
            EntryKind::Note {
                text: format!("note {seq}: checked the DR replica by hand"),
            }
        } else {
            EntryKind::ComponentState {
                component: format!("svc-{:04}", seq % 1000),
                from: HealthState::Up,
                to: HealthState::Down,
                reason: "connection refused".into(),
                since: start,
                rto: None,
                rpo: None,
                exposure: None,
            }
        };
        let (kind, body) = kind.to_journal();
        let at = start
            .checked_add(SignedDuration::from_secs(seq as i64))
            .expect("in range");
        let entry = JournalEntry::seal(seq, at, "alice@bastion".into(), kind, body, &prev);
        prev = entry.hash.clone();
        out.push_str(&entry.to_line());
        out.push('\n');
    }
    file.write_all(out.as_bytes()).expect("write journal");
    file
}

fn bench(c: &mut Criterion) {
    let file = journal();
    let mut group = c.benchmark_group("journal_100k");
    group.sample_size(10);
    group.bench_function("load", |b| {
        b.iter(|| {
            let loaded = load(file.path()).expect("load");
            assert_eq!(loaded.entries.len() as u64, ENTRIES);
        })
    });
    group.bench_function("verify", |b| {
        b.iter(|| {
            let report = verify(file.path()).expect("verify");
            assert!(report.ok());
        })
    });
    group.bench_function("load+verify", |b| {
        b.iter(|| {
            let (loaded, report) = load_verified(file.path()).expect("load_verified");
            assert!(report.ok() && report.warnings.is_empty());
            assert_eq!(loaded.entries.len() as u64, ENTRIES);
        })
    });
    // What the console pays before it can draw: the entries it does not keep can be dropped
    // later, or elsewhere.
    group.bench_function("load+verify, drop untimed", |b| {
        b.iter_with_large_drop(|| {
            let (loaded, report) = load_verified(file.path()).expect("load_verified");
            assert!(report.ok() && loaded.entries.len() as u64 == ENTRIES);
            loaded
        })
    });
    group.bench_function("load+verify 1 thread", |b| {
        b.iter(|| {
            let (loaded, report) = load_verified_with(file.path(), 1).expect("load_verified");
            assert!(report.ok() && report.warnings.is_empty());
            assert_eq!(loaded.entries.len() as u64, ENTRIES);
        })
    });
    // The console's path to its first timeline frame.
    let theme = Theme::builtin("dark").expect("dark theme");
    let layout = Layout::builtin("war-room").expect("war-room");
    let utc = jiff::tz::TimeZone::UTC;
    let screen = Screen {
        title: "bench",
        read_only: false,
        theme: &theme,
        layout: &layout,
        glyphs: Glyphs::for_ascii(false),
        drill: None,
        local: &utc,
    };
    let estate = Estate::new(vec![ComponentSpec::new("svc-0000", Tier::Critical)]);
    let start = Timestamp::from_second(1_795_575_600).expect("time");
    group.bench_function("console: open+draw", |b| {
        // The console keeps its state: dropping it is not part of the path.
        b.iter_with_large_drop(|| {
            let (loaded, report) =
                load_verified_keeping(file.path(), warroom::app::update::TIMELINE_CAP, &|k| {
                    k.kind == "declared" || k.kind == "status" || k.kind.starts_with("step_")
                })
                .expect("load_verified_keeping");
            assert!(report.ok() && report.entries as u64 == ENTRIES);
            let entries = loaded.entries;
            let mut state = State::new(estate.clone(), start, warroom::app::Setup::default());
            state.view.set_panels(&layout.panels());
            state.view.focus = Panel::Timeline;
            update(
                &mut state,
                Event::Journal(JournalEvent::Reset {
                    source: Source::Incident {
                        name: "bench".into(),
                        drill: false,
                    },
                    entries,
                }),
            );
            assert_eq!(state.timeline.len(), warroom::app::update::TIMELINE_CAP);
            let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
            terminal
                .draw(|frame| draw(&state, &screen, frame))
                .expect("draw");
            state
        })
    });
    group.finish();
}

#[path = "../tests/integration/support/long_journal.rs"]
mod long_journal;
#[path = "../tests/integration/support/pty.rs"]
#[allow(dead_code)] // the bench reads the screen, not the other helpers
mod pty;

const LONG: u64 = 1_000_000;

/// One binary's figures on the long incident.
struct Long {
    verify: (Duration, u64),
    report: (Duration, u64),
    first_frame: Duration,
    console_rss: u64,
}

/// Wall time and peak RSS (bytes) of `program ARGS --data-dir DATA`, run by Python, which
/// reads the one child's ru_maxrss.
fn measured(program: &str, data: &Path, args: &[&str]) -> (Duration, u64) {
    let script = "import resource, subprocess, sys, time\n\
                  t = time.monotonic()\n\
                  r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n\
                  print(r.returncode, time.monotonic() - t, \
                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(program)
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("WARROOM_CONFIG")
        .env("HOME", data)
        .output()
        .expect("python3");
    let text = String::from_utf8_lossy(&out.stdout);
    let w: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(w.first(), Some(&"0"), "{program} {args:?}: {text}");
    let secs: f64 = w.get(1).and_then(|s| s.parse().ok()).expect("time");
    let kib: u64 = w.get(2).and_then(|s| s.parse().ok()).expect("rss");
    (Duration::from_secs_f64(secs), kib * 1024)
}

fn vm_hwm(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM")
        * 1024
}

fn long_figures(program: &str, data: &Path, home: &Path, config: &str) -> Long {
    let verify = measured(program, data, &["journal", "verify"]);
    let report = measured(program, data, &["report"]);
    let data_dir = data.to_string_lossy().into_owned();
    let started = Instant::now();
    let mut console = pty::Pty::spawn_program(
        program,
        &[
            "-c",
            config,
            "--data-dir",
            &data_dir,
            "--layout",
            "war-room",
        ],
        200,
        50,
        home,
        &[],
    );
    let newest = format!("note {}", (LONG / 50) * 50);
    console
        .wait_for_all(&["long incident", &newest], Duration::from_secs(300))
        .expect("the console opens the long incident");
    let first_frame = started.elapsed();
    let console_rss = vm_hwm(console.pid());
    console.send(b"q");
    let _ = console.wait_exit(Duration::from_secs(30));
    Long {
        verify,
        report,
        first_frame,
        console_rss,
    }
}

fn long_incident() {
    let data = tempfile::tempdir().expect("tempdir");
    let home = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let path = long_journal::write(data.path(), LONG);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "long incident: {LONG} lines, {} MB, written in {:.1} s",
        size >> 20,
        started.elapsed().as_secs_f64()
    );
    let config = home.path().join("estate.toml");
    std::fs::write(
        &config,
        "[[component]]\nid = \"db\"\ntier = \"critical\"\n\
         health = { kind = \"tcp\", address = \"127.0.0.1:9\", every = \"5s\" }\n",
    )
    .expect("config");
    // A config others can write is refused: owner-only, as the README asks.
    std::fs::set_permissions(
        &config,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
    )
    .expect("chmod");
    let config = config.to_string_lossy().into_owned();
    let ours = long_figures(
        env!("CARGO_BIN_EXE_warroom"),
        data.path(),
        home.path(),
        &config,
    );
    let baseline = std::env::var("WARROOM_BASELINE")
        .ok()
        .map(|b| long_figures(&b, data.path(), home.path(), &config));
    let mb = |b: u64| format!("{} MB", b >> 20);
    let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let rows: Vec<(&str, String, Option<String>, f64)> = {
        let b = baseline.as_ref();
        vec![
            (
                "journal verify: time",
                s(ours.verify.0),
                b.map(|b| s(b.verify.0)),
                b.map_or(0.0, |b| {
                    ours.verify.0.as_secs_f64() / b.verify.0.as_secs_f64()
                }),
            ),
            (
                "journal verify: peak RSS",
                mb(ours.verify.1),
                b.map(|b| mb(b.verify.1)),
                b.map_or(0.0, |b| ours.verify.1 as f64 / b.verify.1 as f64),
            ),
            (
                "report: time",
                s(ours.report.0),
                b.map(|b| s(b.report.0)),
                b.map_or(0.0, |b| {
                    ours.report.0.as_secs_f64() / b.report.0.as_secs_f64()
                }),
            ),
            (
                "report: peak RSS",
                mb(ours.report.1),
                b.map(|b| mb(b.report.1)),
                b.map_or(0.0, |b| ours.report.1 as f64 / b.report.1 as f64),
            ),
            (
                "console: first frame",
                s(ours.first_frame),
                b.map(|b| s(b.first_frame)),
                b.map_or(0.0, |b| {
                    ours.first_frame.as_secs_f64() / b.first_frame.as_secs_f64()
                }),
            ),
            (
                "console: peak RSS",
                mb(ours.console_rss),
                b.map(|b| mb(b.console_rss)),
                b.map_or(0.0, |b| ours.console_rss as f64 / b.console_rss as f64),
            ),
        ]
    };
    println!("| | ours | baseline | ours / baseline |");
    println!("|---|---|---|---|");
    for (what, o, b, ratio) in rows {
        match b {
            Some(b) => println!("| {what} | {o} | {b} | {ratio:.2} |"),
            None => println!("| {what} | {o} | (no WARROOM_BASELINE) | |"),
        }
    }
}

criterion_group!(benches, bench);

fn main() {
    // A name filter after `--` that is not about the long incident skips it.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if filters.is_empty() || filters.iter().any(|f| "long incident".contains(f.as_str())) {
        long_incident();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
