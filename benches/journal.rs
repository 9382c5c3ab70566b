//! First, a long incident (issue 23): a generated 1,000,000-line journal (the journal's own
//! line and hash format), and the real binary on it: `journal verify` and `report` (wall time
//! and peak RSS, read by Python's `resource` for that one child), and a console in a pty
//! (time to its first frame showing the newest entry, peak RSS then). `WARROOM_BASELINE=PATH`
//! runs the same with another build (an earlier commit's release binary), interleaved, and
//! prints ours over it. Budgets: a console ≤ 150 MB and its first frame ≤ 1.5 s, `report`
//! and `verify` ≤ 200 MB. Ours also goes to the timeline's oldest entry (End): the time until
//! it shows, read back from disk, and the console's peak RSS after.
//!
//! `step flood` (`-- flood`): a console runs a `command` step that prints 5,000,000 lines (48 bytes each)
//! on ours and the baseline: the time until it has ended on screen, the console's peak and
//! resident RSS then.
//!
//! Then a journal of 100 000 entries. The budget (issue 5): it loads, verifies and the timeline
//! draws in ≤ 300 ms — `console: open+draw` is exactly that path (load and verify in one
//! pass, building only what the model keeps — the newest 10 000 lines and the declaration,
//! status and step lines; the others checked from their bytes — fold it into the model,
//! draw one war-room frame with the timeline). Also: the
//! same load+verify alone, without dropping the entries read (timed apart), on one thread,
//! and each alone (`load`; `verify`, what `warroom journal verify` does).

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use warroom::app::{ComponentSpec, Estate, Event, JournalEvent, Panel, Source, State, update};
use warroom::config::Tier;
use warroom::journal::{load, load_verified, load_verified_keeping, load_verified_with, verify};
use warroom::theme::Theme;
use warroom::ui::{Glyphs, Layout, Screen, draw};

const ENTRIES: u64 = 100_000;

/// The 100 000-line journal, written as the long incident is (`long_journal`): sealed
/// entries in one buffered write, since an fsync per entry would make the setup take minutes.
fn journal() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = long_journal::write(dir.path(), ENTRIES);
    (dir, path)
}

fn bench(c: &mut Criterion) {
    let (_dir, file) = journal();
    let mut group = c.benchmark_group("journal_100k");
    group.sample_size(10);
    group.bench_function("load", |b| {
        b.iter(|| {
            let loaded = load(&file).expect("load");
            assert_eq!(loaded.entries.len() as u64, ENTRIES);
        })
    });
    group.bench_function("verify", |b| {
        b.iter(|| {
            let report = verify(&file).expect("verify");
            assert!(report.ok());
        })
    });
    group.bench_function("load+verify", |b| {
        b.iter(|| {
            let (loaded, report) = load_verified(&file).expect("load_verified");
            assert!(report.ok() && report.warnings.is_empty());
            assert_eq!(loaded.entries.len() as u64, ENTRIES);
        })
    });
    // What the console pays before it can draw: the entries it does not keep can be dropped
    // later, or elsewhere.
    group.bench_function("load+verify, drop untimed", |b| {
        b.iter_with_large_drop(|| {
            let (loaded, report) = load_verified(&file).expect("load_verified");
            assert!(report.ok() && loaded.entries.len() as u64 == ENTRIES);
            loaded
        })
    });
    group.bench_function("load+verify 1 thread", |b| {
        b.iter(|| {
            let (loaded, report) = load_verified_with(&file, 1).expect("load_verified");
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
                load_verified_keeping(&file, warroom::app::update::TIMELINE_CAP, &|k| {
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
#[path = "../tests/integration/support/rss.rs"]
mod rss;

const LONG: u64 = 1_000_000;

/// `program`'s console on `config` and `data_dir`, war-room layout, in a 200×50 pty.
fn console(program: &str, config: &str, data_dir: &str, home: &Path) -> pty::Pty {
    pty::Pty::spawn_program(
        program,
        &["-c", config, "--data-dir", data_dir, "--layout", "war-room"],
        200,
        50,
        home,
        &[],
    )
}

/// One binary's figures on the long incident.
struct Long {
    verify: (Duration, u64),
    report: (Duration, u64),
    first_frame: Duration,
    console_rss: u64,
    /// Ours: End on the timeline until the oldest entry shows, and the peak RSS after.
    oldest: Option<(Duration, u64)>,
}

fn long_figures(program: &str, data: &Path, home: &Path, config: &str, paging: bool) -> Long {
    let data_dir = data.to_string_lossy().into_owned();
    let measured = |args: &[&str]| {
        let args: Vec<&str> = args
            .iter()
            .copied()
            .chain(["--data-dir", &data_dir])
            .collect();
        let run = rss::measured(program, &args, data);
        assert_eq!(run.code, 0, "{program} {args:?}");
        (run.took, run.peak)
    };
    let verify = measured(&["journal", "verify"]);
    let report = measured(&["report"]);
    let started = Instant::now();
    let mut console = console(program, config, &data_dir, home);
    let newest = format!("note {}", (LONG / 50) * 50);
    console
        .wait_for_all(&["long incident", &newest], Duration::from_secs(300))
        .expect("the console opens the long incident");
    let first_frame = started.elapsed();
    let console_rss = rss::vm_hwm(console.pid()).expect("the console runs");
    let oldest = paging.then(|| {
        // Health, Replication, Backups, Timeline: three Tabs in the war-room layout.
        console.send(b"\t\t\t");
        console
            .wait_for("▶ Timeline", Duration::from_secs(30))
            .expect("the timeline focused");
        let asked = Instant::now();
        console.send(b"\x1b[F");
        console
            .wait_for(&long_journal::OLDEST_NOTE[..30], Duration::from_secs(60))
            .expect("End shows the oldest entry");
        (
            asked.elapsed(),
            rss::vm_hwm(console.pid()).expect("the console runs"),
        )
    });
    console.send(b"\x1b");
    console.send(b"q");
    let _ = console.wait_exit(Duration::from_secs(30));
    Long {
        verify,
        report,
        first_frame,
        console_rss,
        oldest,
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
        true,
    );
    let baseline = std::env::var("WARROOM_BASELINE")
        .ok()
        .map(|b| long_figures(&b, data.path(), home.path(), &config, false));
    // (what, ours, the baseline's, as text) with ours / baseline.
    let mb = |b: u64| (format!("{} MB", b >> 20), b as f64);
    let s = |d: Duration| (format!("{:.2} s", d.as_secs_f64()), d.as_secs_f64());
    let figures = |f: &Long| {
        [
            ("journal verify: time", s(f.verify.0)),
            ("journal verify: peak RSS", mb(f.verify.1)),
            ("report: time", s(f.report.0)),
            ("report: peak RSS", mb(f.report.1)),
            ("console: first frame", s(f.first_frame)),
            ("console: peak RSS", mb(f.console_rss)),
        ]
    };
    println!("| | ours | baseline | ours / baseline |");
    println!("|---|---|---|---|");
    let theirs = baseline.as_ref().map(figures);
    for (i, (what, (o, ov))) in figures(&ours).into_iter().enumerate() {
        match theirs.as_ref().map(|t| &t[i].1) {
            Some((b, bv)) => println!("| {what} | {o} | {b} | {:.2} |", ov / bv),
            None => println!("| {what} | {o} | (no WARROOM_BASELINE) | |"),
        }
    }
    if let Some((took, peak)) = ours.oldest {
        println!(
            "| console: End until the oldest entry shows | {:.2} s | (not shown) | |",
            took.as_secs_f64()
        );
        println!("| console: peak RSS after End | {} MB | | |", peak >> 20);
    }
}

/// A console's figures for one flooding step: time until it ended on screen, peak and
/// resident RSS then.
fn flood_figures(program: &str, home: &Path, config: &str) -> (Duration, u64, u64) {
    let data = tempfile::tempdir().expect("tempdir");
    let data_dir = data.path().to_string_lossy().into_owned();
    let mut console = console(program, config, &data_dir, home);
    console
        .wait_for("Print a lot", Duration::from_secs(60))
        .expect("the console shows the runbook");
    console.send(b"x");
    console
        .wait_for("run (no shell)", Duration::from_secs(30))
        .expect("the modal");
    let started = Instant::now();
    console.send(b"flood it\r");
    console
        .wait_for("step flood/print: succeeded", Duration::from_secs(900))
        .expect("the step ends");
    let took = started.elapsed();
    let peak = rss::vm_hwm(console.pid()).expect("the console runs");
    let resident = rss::vm_rss(console.pid()).expect("the console runs");
    console.send(b"q");
    let _ = console.wait_exit(Duration::from_secs(60));
    (took, peak, resident)
}

fn step_flood() {
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("estate.toml");
    std::fs::write(
        &config,
        "[[component]]\nid = \"db\"\ntier = \"critical\"\n\
         health = { kind = \"tcp\", address = \"127.0.0.1:9\", every = \"5s\" }\n\n\
         [[runbook]]\nid = \"flood\"\ntitle = \"Flood\"\n\n\
         [[runbook.step]]\nid = \"print\"\ntitle = \"Print a lot\"\nkey = \"x\"\n\
         action = { kind = \"command\", argv = [\"sh\", \"-c\", \"yes 'a line of step output, padded to forty-eight.' | head -n 5000000\"], timeout = \"15m\" }\n\
         confirm = \"flood it\"\n",
    )
    .expect("config");
    std::fs::set_permissions(
        &config,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
    )
    .expect("chmod");
    let config = config.to_string_lossy().into_owned();
    let ours = flood_figures(env!("CARGO_BIN_EXE_warroom"), home.path(), &config);
    let baseline = std::env::var("WARROOM_BASELINE")
        .ok()
        .map(|b| flood_figures(&b, home.path(), &config));
    println!("| step printing 5,000,000 lines | ours | baseline | ours / baseline |");
    println!("|---|---|---|---|");
    let rows = |f: (Duration, u64, u64)| {
        [
            (
                "until it ended on screen",
                format!("{:.1} s", f.0.as_secs_f64()),
                f.0.as_secs_f64(),
            ),
            ("console: peak RSS", format!("{} MB", f.1 >> 20), f.1 as f64),
            (
                "console: resident after",
                format!("{} MB", f.2 >> 20),
                f.2 as f64,
            ),
        ]
    };
    let theirs = baseline.map(rows);
    for (i, (what, o, ov)) in rows(ours).into_iter().enumerate() {
        match theirs.as_ref().map(|t| (&t[i].1, t[i].2)) {
            Some((b, bv)) => println!("| {what} | {o} | {b} | {:.2} |", ov / bv),
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
    if filters.is_empty() || filters.iter().any(|f| "step flood".contains(f.as_str())) {
        step_flood();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
