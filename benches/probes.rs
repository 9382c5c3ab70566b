//! Resident memory of 1000 `http` probes: one `reqwest::Client` per probe (how they were
//! built before issue 21) against the one shared client they use now, side by side in one
//! run. Each side runs in a fresh child process, so neither inherits the other's heap:
//! `cargo bench --bench probes`.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

const PROBES: usize = 1000;

/// The resident set of this process now, in KiB (`VmRSS`).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// One side, in this (child) process: prints the RSS growth for `PROBES` probes.
fn child(mode: &str) {
    // The runtime reqwest's resolver needs exists before the first measurement.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = runtime.enter();
    // Warm: the first client loads the TLS roots both sides share.
    let _ = warroom::probe::http::shared_client();
    let before = rss_kib();
    let none = BTreeMap::new();
    let mut keep: Vec<Box<dyn std::any::Any>> = Vec::with_capacity(PROBES);
    for i in 0..PROBES {
        let url = format!("https://svc{i}.example.internal/health");
        match mode {
            "per-probe" => keep.push(Box::new(
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .redirect(reqwest::redirect::Policy::none())
                    .pool_max_idle_per_host(0)
                    .build()
                    .expect("client"),
            )),
            _ => keep.push(Box::new(warroom::probe::http::HttpProbe::new(
                &url,
                200,
                None,
                &none,
                Duration::from_secs(5),
            ))),
        }
    }
    let after = rss_kib();
    println!("{}", after.saturating_sub(before));
    drop(keep);
}

fn main() {
    if let Ok(mode) = std::env::var("WARROOM_PROBES_BENCH") {
        child(&mode);
        return;
    }
    // `cargo bench` passes `--bench`; anything else (e.g. `cargo test --benches`) is a dry run.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let exe = std::env::current_exe().expect("this bench");
    let run = |mode: &str| -> u64 {
        let out = Command::new(&exe)
            .env("WARROOM_PROBES_BENCH", mode)
            .output()
            .expect("child");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("the child's RSS growth")
    };
    let per_probe = run("per-probe");
    let shared = run("shared");
    println!(
        "RSS growth for {PROBES} http probes (KiB): one client each {per_probe}, one shared client {shared}"
    );
    if shared > 0 {
        println!(
            "ratio (one each / shared): {:.1}",
            per_probe as f64 / shared as f64
        );
    }
}
