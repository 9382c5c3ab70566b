//! The terminal benchmark: the real binary in a pseudo-terminal, as an operator runs it, side
//! by side with a peer dashboard TUI, bottom (`btm`), in the same run and the same harness.
//!
//! `cargo bench --bench terminal` runs `warroom drill steady` (the budget workload) and
//! `warroom drill` (the region outage, reported) at 80×24 and 200×50, then `btm` at both
//! sizes, and prints per run: time to first frame, bytes written per second at steady state,
//! CPU %, peak RSS, and key-press-to-frame latency p50/p99 (send a key, see the screen
//! change); then our `drill steady` figures over the peer's. `WARROOM_BENCH_SECS` sets the
//! measuring window (default 20 s after a 5 s warm-up). `WARROOM_BASELINE=PATH` also runs
//! `drill steady` with another warroom binary (an earlier commit's release build) at both
//! sizes, interleaved with ours, and prints ours over it: a change measured side by side in
//! one run. The peer is `$WARROOM_PEER`, else
//! `btm` on the PATH, else `~/.cache/warroom/btm/bin/btm` (`cargo install bottom --locked
//! --root ~/.cache/warroom/btm`); without it the peer rows say so.

#[path = "../tests/integration/support/pty.rs"]
#[allow(dead_code)] // the bench uses the terminal, not the screen helpers
mod pty;
#[path = "../tests/integration/support/rss.rs"]
#[allow(dead_code)] // the running process's peak only
mod rss;

use std::time::{Duration, Instant};

use pty::Pty;

struct Figures {
    first_frame: Duration,
    bytes_per_sec: f64,
    cpu_percent: f64,
    peak_rss_kb: u64,
    key_p50: Duration,
    key_p99: Duration,
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields start after the closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn peak_rss_kb(pid: i32) -> Option<u64> {
    rss::vm_hwm(pid).map(|bytes| bytes / 1024)
}

fn ticks_per_second() -> f64 {
    // sysconf(_SC_CLK_TCK) is 100 on Linux everywhere that matters.
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map_or(100.0, |t| t as f64)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Waits, polling tightly, until `done(screen)`; how long it took.
fn until(pty: &Pty, timeout: Duration, done: impl Fn(&str) -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if done(&pty.screen()) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    None
}

/// A program under test and how to see it respond.
struct Subject<'a> {
    program: String,
    args: &'a [&'a str],
    /// On screen once the first frame is drawn.
    ready: &'a str,
    /// A key that opens an overlay showing `open_marker`, and one that closes it.
    open: &'a [u8],
    open_marker: &'a str,
    close: &'a [u8],
    quit: &'a [u8],
}

fn measure(subject: &Subject, cols: u16, rows: u16, window: Duration) -> Option<Figures> {
    let dir = tempfile::tempdir().ok()?;
    let spawned = Instant::now();
    let mut pty = Pty::spawn_program(&subject.program, subject.args, cols, rows, dir.path(), &[]);
    let pid = pty.pid();
    until(&pty, Duration::from_secs(10), |s| s.contains(subject.ready))?;
    let first_frame = spawned.elapsed();

    // Warm-up: the first round of answers, the layout settled.
    std::thread::sleep(Duration::from_secs(5));
    let (bytes0, cpu0, t0) = (pty.bytes(), cpu_ticks(pid)?, Instant::now());
    std::thread::sleep(window);
    let (bytes1, cpu1, elapsed) = (pty.bytes(), cpu_ticks(pid)?, t0.elapsed());
    let secs = elapsed.as_secs_f64();
    let bytes_per_sec = (bytes1 - bytes0) as f64 / secs;
    let cpu_percent = (cpu1 - cpu0) as f64 / ticks_per_second() / secs * 100.0;

    // Key to frame: open the overlay, see it; close it, see it gone.
    let mut latencies = Vec::new();
    for _ in 0..40 {
        pty.send(subject.open);
        latencies.push(until(&pty, Duration::from_secs(2), |s| {
            s.contains(subject.open_marker)
        })?);
        pty.send(subject.close);
        latencies.push(until(&pty, Duration::from_secs(2), |s| {
            !s.contains(subject.open_marker)
        })?);
    }
    latencies.sort();
    let peak = peak_rss_kb(pid)?;
    pty.send(subject.quit);
    if pty.wait_exit(Duration::from_secs(5)).is_none() {
        pty.signal(nix::sys::signal::Signal::SIGKILL);
    }
    Some(Figures {
        first_frame,
        bytes_per_sec,
        cpu_percent,
        peak_rss_kb: peak,
        key_p50: percentile(&latencies, 0.5),
        key_p99: percentile(&latencies, 0.99),
    })
}

/// The peer's binary, if it is installed.
fn peer() -> Option<String> {
    if let Ok(p) = std::env::var("WARROOM_PEER") {
        return Some(p);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("btm"))
            .find(|p| p.is_file())
    });
    let cached = std::env::var_os("HOME")
        .map(|h| std::path::PathBuf::from(h).join(".cache/warroom/btm/bin/btm"))
        .filter(|p| p.is_file());
    on_path.or(cached).map(|p| p.to_string_lossy().into_owned())
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

/// Ours over theirs: the figures every comparison prints.
fn ratios(o: &Figures, p: &Figures) -> String {
    format!(
        "bytes/s {:.2}, CPU {:.2}, RSS {:.2}, key p99 {:.2}",
        ratio(o.bytes_per_sec, p.bytes_per_sec),
        ratio(o.cpu_percent, p.cpu_percent),
        ratio(o.peak_rss_kb as f64, p.peak_rss_kb as f64),
        ratio(o.key_p99.as_secs_f64(), p.key_p99.as_secs_f64()),
    )
}

fn row(label: &str, f: &Option<Figures>) {
    match f {
        Some(f) => println!(
            "{:<26} {:>9.1} {:>10.0} {:>7.2} {:>9.1} {:>7.2}ms {:>7.2}ms",
            label,
            f.first_frame.as_secs_f64() * 1000.0,
            f.bytes_per_sec,
            f.cpu_percent,
            f.peak_rss_kb as f64 / 1024.0,
            f.key_p50.as_secs_f64() * 1000.0,
            f.key_p99.as_secs_f64() * 1000.0,
        ),
        None => println!("{label:<26} failed: the screen did not show what was expected"),
    }
}

fn main() {
    // `cargo bench` passes --bench; a filter word, if any, picks runs by name.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let window = Duration::from_secs(
        std::env::var("WARROOM_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(20),
    );
    println!(
        "{:<26} {:>9} {:>10} {:>7} {:>9} {:>9} {:>9}",
        "run", "first ms", "bytes/s", "CPU %", "RSS MB", "key p50", "key p99"
    );
    let ours = env!("CARGO_BIN_EXE_warroom").to_string();
    let wanted = |label: &str| filter.as_ref().is_none_or(|f| label.contains(f.as_str()));
    let mut steady = Vec::new();
    for (name, args) in [
        ("drill steady", &["drill", "steady"][..]),
        ("drill (region-outage)", &["drill"][..]),
    ] {
        for (cols, rows) in [(80u16, 24u16), (200, 50)] {
            let label = format!("{name} {cols}x{rows}");
            if !wanted(&label) {
                continue;
            }
            let subject = Subject {
                program: ours.clone(),
                args,
                ready: "Health",
                open: b"?",
                open_marker: "this help",
                close: b"x",
                quit: b"q",
            };
            let f = measure(&subject, cols, rows, window);
            row(&label, &f);
            if name == "drill steady" {
                steady.push(((cols, rows), f));
            }
        }
    }
    // An earlier build, run the same way right after ours: the change's own cost.
    if let Ok(baseline) = std::env::var("WARROOM_BASELINE") {
        for (cols, rows) in [(80u16, 24u16), (200, 50)] {
            let label = format!("baseline steady {cols}x{rows}");
            if !wanted(&label) {
                continue;
            }
            let subject = Subject {
                program: baseline.clone(),
                args: &["drill", "steady"],
                ready: "Health",
                open: b"?",
                open_marker: "this help",
                close: b"x",
                quit: b"q",
            };
            let f = measure(&subject, cols, rows, window);
            row(&label, &f);
            let ours = steady
                .iter()
                .find(|(size, _)| *size == (cols, rows))
                .and_then(|(_, f)| f.as_ref());
            if let (Some(o), Some(b)) = (ours, &f) {
                println!(
                    "ratio drill steady / baseline {cols}x{rows}: {}, key p50 {:.2}, first frame {:.2}",
                    ratios(o, b),
                    ratio(o.key_p50.as_secs_f64(), b.key_p50.as_secs_f64()),
                    ratio(o.first_frame.as_secs_f64(), b.first_frame.as_secs_f64()),
                );
            }
        }
    }
    let peer = peer();
    let mut peers = Vec::new();
    for (cols, rows) in [(80u16, 24u16), (200, 50)] {
        let label = format!("peer btm {cols}x{rows}");
        if !wanted(&label) {
            continue;
        }
        let Some(program) = peer.clone() else {
            println!("{label:<26} not run: no btm (cargo install bottom --locked)");
            continue;
        };
        // bottom's own help overlay: `?` opens it, Esc closes it.
        let subject = Subject {
            program,
            args: &[],
            ready: "CPU",
            open: b"?",
            open_marker: "Help",
            close: b"\x1b",
            quit: b"q",
        };
        let f = measure(&subject, cols, rows, window);
        row(&label, &f);
        peers.push(((cols, rows), f));
    }
    // Ours over the peer's, same size, same run (budgets: bytes/s ≤ 0.8, CPU ≤ 1).
    for ((size, ours), (_, theirs)) in steady.iter().zip(&peers) {
        if let (Some(o), Some(p)) = (ours, theirs) {
            println!(
                "ratio drill steady / btm {}x{}: {}",
                size.0,
                size.1,
                ratios(o, p)
            );
        }
    }
}
