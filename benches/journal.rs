//! A journal of 100 000 entries: load it and verify its hash chain, in one pass
//! (`load+verify`, what the console does; budget for load + verify + drawing the timeline:
//! ≤ 300 ms, this bench covers the journal's part), the same without dropping the entries
//! read (timed apart), the same on one thread, and each alone (`load`; `verify`, what
//! `warroom journal verify` does).

use std::io::Write;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value};
use warroom::journal::{Entry, GENESIS, load, load_verified, load_verified_with, verify};

const ENTRIES: u64 = 100_000;

/// Writes the journal directly (sealed entries, one write): appending through the lock
/// and an fsync per entry would make the setup, not the bench, take minutes.
fn journal() -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    let start = Timestamp::from_second(1_795_575_600).expect("time");
    let mut prev = GENESIS.to_string();
    let mut out = String::new();
    for seq in 1..=ENTRIES {
        let mut body = Map::new();
        body.insert(
            "component".into(),
            Value::String(format!("svc-{:04}", seq % 1000)),
        );
        body.insert("from".into(), Value::String("up".into()));
        body.insert("to".into(), Value::String("down".into()));
        body.insert("reason".into(), Value::String("connection refused".into()));
        let at = start
            .checked_add(SignedDuration::from_secs(seq as i64))
            .expect("in range");
        let entry = Entry::seal(
            seq,
            at,
            "alice@bastion".into(),
            "component_state".into(),
            body,
            &prev,
        );
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
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
