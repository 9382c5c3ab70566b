//! How much memory a process took at its peak: a running one's `VmHWM`, a finished one's
//! `ru_maxrss` (read by Python's `resource` for the one child it waited for: exact, where
//! polling `VmHWM` could miss the end). For the memory test and the benchmarks.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The peak resident set of a running process (`VmHWM`), in bytes; `None` once it is gone.
pub fn vm_hwm(pid: i32) -> Option<u64> {
    status_bytes(pid, "VmHWM:")
}

/// The resident set of a running process now (`VmRSS`), in bytes.
pub fn vm_rss(pid: i32) -> Option<u64> {
    status_bytes(pid, "VmRSS:")
}

fn status_bytes(pid: i32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// A finished run: its exit code, wall time and peak resident set in bytes.
pub struct Run {
    pub code: i32,
    pub took: Duration,
    pub peak: u64,
}

/// Runs `program ARGS` to its end (stdout discarded) with `home` as its home and no
/// `WARROOM_CONFIG`, and reads what it took.
pub fn measured(program: &str, args: &[&str], home: &Path) -> Run {
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
        .env_remove("WARROOM_CONFIG")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("xdg-config"))
        .output()
        .expect("run python3");
    let text = String::from_utf8_lossy(&out.stdout);
    let words: Vec<&str> = text.split_whitespace().collect();
    let field = |i: usize| {
        words
            .get(i)
            .copied()
            .unwrap_or_else(|| panic!("{program} {args:?}: {text}"))
    };
    Run {
        code: field(0).parse().expect("an exit code"),
        took: Duration::from_secs_f64(field(1).parse().expect("a time")),
        peak: field(2).parse::<u64>().expect("a peak RSS") * 1024,
    }
}
