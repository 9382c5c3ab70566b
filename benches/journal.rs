//! A journal of 100 000 entries. The budget (issue 5): it loads, verifies and the timeline
//! draws in ≤ 300 ms — `console: open+draw` is exactly that path (load and verify in one
//! pass, building only what the model keeps — the newest 10 000 lines and the declaration,
//! status and step lines; the others checked from their bytes — fold it into the model,
//! draw one war-room frame with the timeline). Also: the
//! same load+verify alone, without dropping the entries read (timed apart), on one thread,
//! and each alone (`load`; `verify`, what `warroom journal verify` does).

use std::io::Write;

use criterion::{Criterion, criterion_group, criterion_main};
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
                    k == "declared" || k == "status" || k.starts_with("step_")
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

criterion_group!(benches, bench);
criterion_main!(benches);
