//! The terminal benchmark: the real binary in a pseudo-terminal, as an operator runs it.
//!
//! `cargo bench --bench terminal` runs `warroom drill steady` (the budget workload) and
//! `warroom drill` (the region outage, reported) at 80×24 and 200×50 and prints, per run:
//! time to first frame, bytes written per second at steady state, CPU %, peak RSS, and
//! key-press-to-frame latency p50/p99. `WARROOM_BENCH_SECS` sets the measuring window
//! (default 20 s after a 5 s warm-up).

#[path = "../tests/support/pty.rs"]
mod pty;

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
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
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

fn measure(args: &[&str], cols: u16, rows: u16, window: Duration) -> Option<Figures> {
    let dir = tempfile::tempdir().ok()?;
    let spawned = Instant::now();
    let mut pty = Pty::spawn(args, cols, rows, dir.path(), &[]);
    let pid = pty.pid();
    until(&pty, Duration::from_secs(10), |s| s.contains("Health"))?;
    let first_frame = spawned.elapsed();

    // Warm-up: the first round of answers, the layout settled.
    std::thread::sleep(Duration::from_secs(5));
    let (bytes0, cpu0, t0) = (pty.bytes(), cpu_ticks(pid)?, Instant::now());
    std::thread::sleep(window);
    let (bytes1, cpu1, elapsed) = (pty.bytes(), cpu_ticks(pid)?, t0.elapsed());
    let secs = elapsed.as_secs_f64();
    let bytes_per_sec = (bytes1 - bytes0) as f64 / secs;
    let cpu_percent = (cpu1 - cpu0) as f64 / ticks_per_second() / secs * 100.0;

    // Key to frame: open the help, see it; close it, see it gone.
    let mut latencies = Vec::new();
    for _ in 0..40 {
        pty.send(b"?");
        latencies.push(until(&pty, Duration::from_secs(2), |s| {
            s.contains("this help")
        })?);
        pty.send(b"x");
        latencies.push(until(&pty, Duration::from_secs(2), |s| {
            !s.contains("this help")
        })?);
    }
    latencies.sort();
    let peak = peak_rss_kb(pid)?;
    pty.send(b"q");
    pty.wait_exit(Duration::from_secs(5));
    Some(Figures {
        first_frame,
        bytes_per_sec,
        cpu_percent,
        peak_rss_kb: peak,
        key_p50: percentile(&latencies, 0.5),
        key_p99: percentile(&latencies, 0.99),
    })
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
    for (name, args) in [
        ("drill steady", &["drill", "steady"][..]),
        ("drill (region-outage)", &["drill"][..]),
    ] {
        for (cols, rows) in [(80u16, 24u16), (200, 50)] {
            let label = format!("{name} {cols}x{rows}");
            if filter.as_ref().is_some_and(|f| !label.contains(f.as_str())) {
                continue;
            }
            match measure(args, cols, rows, window) {
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
    }
}
