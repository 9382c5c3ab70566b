//! Throughput of `update` on a 1000-component estate: a stream of health observations (mostly
//! agreeing with what is shown, some lost packets, a few confirmed outages and recoveries) and
//! lag observations. The target is ≥ 1,000,000 observations/s in a release build.

use std::hint::black_box;
use std::time::Duration;

#[path = "support/estate.rs"]
mod support;

use support::estate;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use warroom::app::{ComponentIx, Event, Observation, Outcome, Signal, State, update};

const COMPONENTS: u32 = 1000;
const OBSERVATIONS: usize = 100_000;

fn at(start: Timestamp, ms: i64) -> Timestamp {
    start
        .checked_add(SignedDuration::from_millis(ms))
        .expect("in range")
}

fn up() -> Outcome {
    Outcome::Up {
        latency: Duration::from_millis(25),
        detail: "200 OK".into(),
    }
}

/// A state where every probe has answered once, UP and fresh.
fn warm(start: Timestamp) -> State {
    let mut state = State::new(estate(COMPONENTS), start, warroom::app::Setup::default());
    for i in 0..COMPONENTS {
        let c = ComponentIx(i);
        let obs = |signal, outcome| {
            Event::Observed(Observation {
                component: c,
                signal,
                at: start,
                started: start,
                outcome,
            })
        };
        update(&mut state, obs(Signal::Health, up()));
        if i % 2 == 0 {
            for replica in ["dr-a", "dr-b"] {
                update(
                    &mut state,
                    obs(
                        Signal::Lag {
                            replica: replica.into(),
                        },
                        Outcome::Seconds(2.0),
                    ),
                );
            }
            update(&mut state, obs(Signal::BackupAge, Outcome::Seconds(3600.0)));
        }
    }
    update(&mut state, Event::Tick(at(start, 1)));
    assert_eq!(state.severity().label(), "HEALTHY");
    state
}

/// The stream: round-robin over components, one observation per millisecond of simulated time.
/// 90% health: UP, except 1% lost packets (a lone DOWN that confirm_after 2 absorbs) and
/// outages (two rounds DOWN, so confirmed, then UP again) touching ~0.4% of observations;
/// 10% lag of one replica, drifting across the warn threshold now and then.
fn stream(start: Timestamp) -> Vec<Event> {
    (0..OBSERVATIONS)
        .map(|i| {
            let round = (i / COMPONENTS as usize) as u32;
            let c = (i as u32).wrapping_mul(7919) % COMPONENTS;
            let t = at(start, 2 + i as i64);
            let (signal, outcome) = if i % 10 == 9 && c.is_multiple_of(2) {
                let replica = if round.is_multiple_of(2) {
                    "dr-a"
                } else {
                    "dr-b"
                };
                let lag = if (round + c) % 50 < 3 {
                    45.0
                } else {
                    2.0 + f64::from(round % 5)
                };
                (
                    Signal::Lag {
                        replica: replica.into(),
                    },
                    Outcome::Seconds(lag),
                )
            } else if (round + c) % 500 < 2 {
                (
                    Signal::Health,
                    Outcome::Down {
                        detail: "connection refused".into(),
                    },
                )
            } else if (round * 31 + c).is_multiple_of(100) {
                (
                    Signal::Health,
                    Outcome::CannotObserve {
                        reason: warroom::app::ObserveError::Timeout,
                    },
                )
            } else {
                (Signal::Health, up())
            };
            Event::Observed(Observation {
                component: ComponentIx(c),
                signal,
                at: t,
                started: t,
                outcome,
            })
        })
        .collect()
}

fn observations(cr: &mut Criterion) {
    let start = Timestamp::from_second(1_700_000_000).expect("valid");
    let state = warm(start);
    let events = stream(start);

    // How many entries the stream produces: the changes are real, not optimised away.
    let mut probe = state.clone();
    let appended: usize = events
        .iter()
        .cloned()
        .map(|e| update(&mut probe, e).len())
        .sum();
    eprintln!(
        "stream: {OBSERVATIONS} observations, {appended} entries, final severity {}",
        probe.severity().label()
    );

    let mut group = cr.benchmark_group("update");
    group.throughput(Throughput::Elements(OBSERVATIONS as u64));
    group.bench_function("observations_1000_components", |b| {
        b.iter_batched(
            || (state.clone(), events.clone()),
            |(mut state, events)| {
                for e in events {
                    black_box(update(&mut state, e));
                }
                state
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();

    let mut group = cr.benchmark_group("update");
    group.throughput(Throughput::Elements(1));
    group.bench_function("tick_1000_components", |b| {
        // Steady state: every component fresh, nothing to derive but the checks themselves.
        let mut state = state.clone();
        b.iter(|| black_box(update(&mut state, Event::Tick(at(start, 2)))))
    });
    group.finish();
}

criterion_group!(benches, observations);
criterion_main!(benches);
