//! Drawing one frame: the war-room and bastion layouts with 10, 100 and 1000 components
//! (every second one with lag and backup probes), a timeline of 10 000 entries. The budget:
//! one war-room frame with 1000 components in ≤ 2 ms median (release build).

static UTC: jiff::tz::TimeZone = jiff::tz::TimeZone::UTC;

use std::hint::black_box;
use std::time::Duration;

#[path = "support/estate.rs"]
mod support;

use support::estate;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use warroom::app::{
    ComponentIx, Effect, Entry, EntryKind, Event, HealthState, MemoryJournal, Observation, Outcome,
    Severity, Signal, State, update,
};
use warroom::theme::Theme;
use warroom::ui::{Glyphs, Layout, Screen, draw};

fn at(s: i64) -> Timestamp {
    Timestamp::UNIX_EPOCH
        .checked_add(SignedDuration::from_secs(1_795_575_600 + s))
        .expect("in range")
}

/// An estate mid-incident: a few components down, lag histories full, a long timeline.
fn state(n: u32) -> State {
    let mut state = State::new(estate(n), at(0), warroom::app::Setup::default());
    for round in 0..130i64 {
        for i in 0..n {
            let outcome = if i % 97 == 3 && round > 10 {
                Outcome::Down {
                    detail: "connection refused".into(),
                }
            } else {
                Outcome::Up {
                    latency: Duration::from_millis(20),
                    detail: String::new(),
                }
            };
            let component = ComponentIx(i);
            update(
                &mut state,
                Event::Observed(Observation {
                    component,
                    signal: Signal::Health,
                    at: at(round * 15),
                    started: at(round * 15),
                    outcome,
                }),
            );
            if i % 2 == 0 {
                update(
                    &mut state,
                    Event::Observed(Observation {
                        component,
                        signal: Signal::Lag {
                            replica: "replica-1".into(),
                        },
                        at: at(round * 15),
                        started: at(round * 15),
                        outcome: Outcome::Seconds((round % 40) as f64),
                    }),
                );
            }
        }
    }
    // The timeline: 10 000 entries of the journal, read back as a console reads them.
    let mut journal = MemoryJournal::attach(&mut state, "bench@host");
    let lines: Vec<Effect> = (0..10_000i64)
        .map(|k| {
            Effect::Append(Entry {
                at: at(k),
                kind: EntryKind::Severity {
                    from: Severity::Healthy,
                    to: Severity::Degraded,
                    reasons: vec![format!("svc-{k} {}", HealthState::Degraded.label())],
                },
            })
        })
        .collect();
    journal.echo(&mut state, &lines);
    update(&mut state, Event::Tick(at(130 * 15)));
    state
}

fn bench_frames(c: &mut Criterion) {
    let theme = Theme::builtin("dark").expect("dark theme");
    let mut group = c.benchmark_group("frame");
    for (name, w, h) in [("war-room", 200u16, 50u16), ("bastion", 80, 24)] {
        let layout = Layout::builtin(name).expect("layout");
        for n in [10u32, 100, 1000] {
            let mut state = state(n);
            state.view.set_panels(&layout.panels());
            let screen = Screen {
                title: "bench",
                read_only: false,
                theme: &theme,
                layout: &layout,
                glyphs: Glyphs::for_ascii(false),
                drill: None,
                local: &UTC,
            };
            let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    terminal
                        .draw(|frame| draw(black_box(&state), &screen, frame))
                        .expect("draw");
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_frames);
criterion_main!(benches);
