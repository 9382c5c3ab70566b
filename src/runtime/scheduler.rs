//! Runs every probe as its own tokio task, on its own interval, and sends what each answered.
//!
//! - The first round fires at once, so the screen leaves OBSERVING as soon as every probe has
//!   answered once.
//! - Round `k` of a probe is due at `start + k × interval + jitter`, the interval being the
//!   probe's `every` divided by the speed and the jitter a random delay below a few percent of
//!   it (so probes configured alike do not all fire in the same instant). Rounds never drift
//!   and never overlap: a round that ends late skips the ticks it missed.
//! - A round that takes longer than `timeout` (divided by the speed) is answered
//!   `CannotObserve { reason: Timeout }`.
//! - `at` is stamped by the [`Clock`] when the answer arrived.
//! - A round answered `CannotObserve` (credentials, an API that does not answer) is followed
//!   by a pause of twice the interval: an unreachable control plane is not hammered, and
//!   the signal still answers before it would read STALE (three intervals).
//! - A task stops when the [`Scheduler`] is stopped or dropped, or when the receiver is
//!   dropped. Starting never blocks the caller; a full channel delays only that probe's task.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::app::observe::Scheduled;
use crate::app::{Observation, ObserveError, Outcome};
use crate::clock::{Clock, clamp_speed, scale};

/// How the scheduler runs its probes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SchedulerOptions {
    /// Intervals and timeouts are divided by this (a drill's `--speed`); clamped to
    /// [`MIN_SPEED`](crate::clock::MIN_SPEED)..=[`MAX_SPEED`](crate::clock::MAX_SPEED).
    pub speed: f64,
    /// Each round is delayed by a random fraction of the interval below this; 0 = none.
    pub jitter: f64,
    /// Seed of the jitter, so a run can be repeated.
    pub seed: u64,
}

/// Jitter of each round: below 5 % of the interval.
pub const DEFAULT_JITTER: f64 = 0.05;

/// No probe runs more often than this in real time, whatever the speed.
pub const MIN_INTERVAL: Duration = Duration::from_millis(1);

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions {
            speed: 1.0,
            jitter: DEFAULT_JITTER,
            seed: fastrand::u64(..),
        }
    }
}

/// The running probes. Stopping it (or dropping it) ends every task.
pub struct Scheduler {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Scheduler {
    /// Starts one task per probe and returns at once. Must be called within a tokio runtime.
    ///
    /// Observations go into `tx`, each mapped by `wrap` (`std::convert::identity` for a
    /// channel of observations, or the runtime's `Event::Observed`).
    pub fn start<T, F>(
        probes: Vec<Scheduled>,
        clock: Arc<dyn Clock>,
        options: SchedulerOptions,
        tx: mpsc::Sender<T>,
        wrap: F,
    ) -> Scheduler
    where
        T: Send + 'static,
        F: Fn(Observation) -> T + Send + Sync + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        let speed = clamp_speed(options.speed);
        let jitter = if options.jitter.is_finite() {
            options.jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let wrap = Arc::new(wrap);
        let tasks = probes
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let task = Task {
                    interval: scale(p.schedule.every, 1.0 / speed).max(MIN_INTERVAL),
                    timeout: scale(p.schedule.timeout, 1.0 / speed).max(MIN_INTERVAL),
                    jitter,
                    rng: fastrand::Rng::with_seed(options.seed.wrapping_add(i as u64)),
                    probe: p,
                    clock: clock.clone(),
                };
                tokio::spawn(task.run(tx.clone(), wrap.clone(), stopped.clone()))
            })
            .collect();
        Scheduler { stop, tasks }
    }

    /// Runs a drill's simulated probes at the drill's speed, stamped by its clock.
    pub fn drill<T, F>(drill: &crate::drill::DrillHandle, tx: mpsc::Sender<T>, wrap: F) -> Scheduler
    where
        T: Send + 'static,
        F: Fn(Observation) -> T + Send + Sync + 'static,
    {
        let options = SchedulerOptions {
            speed: drill.speed(),
            ..SchedulerOptions::default()
        };
        Scheduler::start(drill.probes(), drill.clock(), options, tx, wrap)
    }

    /// How many probes run.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Tells every task to stop; a round in flight is abandoned. Returns at once.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Stops every task and waits until all have ended.
    pub async fn shutdown(mut self) {
        self.stop();
        for t in std::mem::take(&mut self.tasks) {
            let _ = t.await;
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Task {
    probe: Scheduled,
    clock: Arc<dyn Clock>,
    interval: Duration,
    timeout: Duration,
    jitter: f64,
    rng: fastrand::Rng,
}

/// Why a task ends.
struct Stopped;

impl Task {
    async fn run<T, F>(
        mut self,
        tx: mpsc::Sender<T>,
        wrap: Arc<F>,
        mut stopped: watch::Receiver<bool>,
    ) where
        T: Send + 'static,
        F: Fn(Observation) -> T + Send + Sync + 'static,
    {
        let start = Instant::now();
        let mut round: u32 = 0;
        loop {
            let backoff = match self.round(&tx, &*wrap, &mut stopped).await {
                Ok(backoff) => backoff,
                Err(Stopped) => return,
            };
            // The next tick after now: a round that ended late skips the ticks it missed.
            let elapsed = start.elapsed();
            let ticks = (elapsed.as_nanos() / self.interval.as_nanos().max(1)) as u32;
            round = round.max(ticks).saturating_add(if backoff { 2 } else { 1 });
            let due = start
                + self.interval.saturating_mul(round)
                + scale(self.interval, self.jitter * self.rng.f64());
            tokio::select! {
                _ = stopped.wait_for(|s| *s) => return,
                _ = tx.closed() => return,
                _ = tokio::time::sleep_until(due) => {}
            }
        }
    }

    /// One round: ask, time out, stamp, send. Whether to back off (nothing could be seen).
    async fn round<T, F>(
        &self,
        tx: &mpsc::Sender<T>,
        wrap: &F,
        stopped: &mut watch::Receiver<bool>,
    ) -> Result<bool, Stopped>
    where
        F: Fn(Observation) -> T,
    {
        let signal = &self.probe.signal;
        let started = self.clock.now();
        let answers = tokio::select! {
            biased;
            _ = stopped.wait_for(|s| *s) => return Err(Stopped),
            _ = tx.closed() => return Err(Stopped),
            answer = tokio::time::timeout(self.timeout, self.probe.probe.observe_all(signal)) => {
                answer.unwrap_or_else(|_| vec![(
                    signal.clone(),
                    Outcome::CannotObserve { reason: ObserveError::Timeout },
                )])
            }
        };
        let at = self.clock.now();
        let backoff = !answers.is_empty()
            && answers
                .iter()
                .all(|(_, o)| matches!(o, Outcome::CannotObserve { .. }));
        for (signal, outcome) in answers {
            let observation = Observation {
                component: self.probe.component,
                signal,
                at,
                started,
                outcome,
            };
            tokio::select! {
                biased;
                _ = stopped.wait_for(|s| *s) => return Err(Stopped),
                sent = tx.send(wrap(observation)) => sent.map_err(|_| Stopped)?,
            }
        }
        Ok(backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::observe::{ObserveFuture, Probe};
    use crate::app::{ComponentIx, Signal};
    use crate::clock::SimClock;
    use crate::config::Schedule;
    use jiff::{SignedDuration, Timestamp};
    use std::sync::atomic::{AtomicU32, Ordering};

    fn t0() -> Timestamp {
        Timestamp::from_second(1_700_000_000).expect("valid")
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Answers UP at once, or never (to be timed out), counting how often it was asked.
    struct Fake {
        hang: bool,
        asked: AtomicU32,
    }

    impl Fake {
        fn new(hang: bool) -> Arc<Fake> {
            Arc::new(Fake {
                hang,
                asked: AtomicU32::new(0),
            })
        }
    }

    impl Probe for Fake {
        fn observe(&self) -> ObserveFuture<'_> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            let hang = self.hang;
            Box::pin(async move {
                if hang {
                    std::future::pending::<()>().await;
                }
                Outcome::Up {
                    latency: Duration::from_millis(5),
                    detail: "ok".into(),
                }
            })
        }
        fn describe(&self) -> String {
            "fake".into()
        }
    }

    fn scheduled(ix: u32, every: u64, timeout: u64, probe: Arc<Fake>) -> Scheduled {
        Scheduled {
            component: ComponentIx(ix),
            signal: Signal::Health,
            schedule: Schedule {
                every: secs(every),
                timeout: secs(timeout),
                confirm_after: 2,
            },
            probe,
        }
    }

    fn options(speed: f64, jitter: f64) -> SchedulerOptions {
        SchedulerOptions {
            speed,
            jitter,
            seed: 7,
        }
    }

    fn offset(o: &Observation) -> SignedDuration {
        o.at.duration_since(t0())
    }

    #[tokio::test(start_paused = true)]
    async fn first_round_at_once_then_every_interval_per_probe() {
        let clock = Arc::new(SimClock::new(t0(), 1.0));
        let (tx, mut rx) = mpsc::channel(16);
        let a = Fake::new(false);
        let b = Fake::new(false);
        let s = Scheduler::start(
            vec![
                scheduled(0, 10, 5, a.clone()),
                scheduled(1, 15, 5, b.clone()),
            ],
            clock,
            options(1.0, 0.0),
            tx,
            std::convert::identity,
        );
        assert_eq!(s.len(), 2);
        let mut seen = Vec::new();
        while seen.len() < 7 {
            let o = rx.recv().await.expect("observation");
            seen.push((o.component.0, offset(&o).as_secs()));
        }
        seen.sort();
        assert_eq!(
            seen,
            [(0, 0), (0, 10), (0, 20), (0, 30), (1, 0), (1, 15), (1, 30)]
        );
        s.shutdown().await;
    }

    #[tokio::test(start_paused = true)]
    async fn speed_divides_the_interval_and_stamps_simulated_time() {
        let clock = Arc::new(SimClock::new(t0(), 10.0));
        let (tx, mut rx) = mpsc::channel(16);
        let started = Instant::now();
        let s = Scheduler::start(
            vec![scheduled(0, 15, 10, Fake::new(false))],
            clock,
            options(10.0, 0.0),
            tx,
            std::convert::identity,
        );
        let mut at = Vec::new();
        for _ in 0..3 {
            at.push(offset(&rx.recv().await.expect("obs")).as_secs());
        }
        assert_eq!(at, [0, 15, 30]);
        // 2 intervals of 1.5 s of real time.
        assert_eq!(started.elapsed(), Duration::from_millis(3000));
        drop(s);
    }

    #[tokio::test(start_paused = true)]
    async fn jitter_stays_within_a_few_percent_without_drift() {
        let clock = Arc::new(SimClock::new(t0(), 1.0));
        let (tx, mut rx) = mpsc::channel(64);
        let s = Scheduler::start(
            vec![scheduled(0, 100, 5, Fake::new(false))],
            clock,
            options(1.0, DEFAULT_JITTER),
            tx,
            std::convert::identity,
        );
        let first = rx.recv().await.expect("obs");
        assert_eq!(offset(&first), SignedDuration::ZERO);
        let mut jittered = 0;
        for k in 1..=20i64 {
            let o = rx.recv().await.expect("obs");
            let late = offset(&o) - SignedDuration::from_secs(100 * k);
            assert!(
                late >= SignedDuration::ZERO && late < SignedDuration::from_secs(5),
                "round {k} is {late} late"
            );
            if late > SignedDuration::ZERO {
                jittered += 1;
            }
        }
        assert!(jittered > 10, "jitter should move most rounds");
        s.shutdown().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_that_does_not_answer_times_out() {
        let clock = Arc::new(SimClock::new(t0(), 2.0));
        let (tx, mut rx) = mpsc::channel(16);
        let hang = Fake::new(true);
        let s = Scheduler::start(
            vec![scheduled(3, 30, 10, hang.clone())],
            clock,
            options(2.0, 0.0),
            tx,
            std::convert::identity,
        );
        let o = rx.recv().await.expect("obs");
        assert_eq!(o.component, ComponentIx(3));
        assert_eq!(
            o.outcome,
            Outcome::CannotObserve {
                reason: ObserveError::Timeout
            }
        );
        // The timeout is 10 s of simulated time.
        assert_eq!(offset(&o), SignedDuration::from_secs(10));
        // Nothing could be seen: the next round backs off to twice the interval (60 s,
        // simulated), counted from the start, not from the timeout; it too times out at +10 s.
        let o = rx.recv().await.expect("obs");
        assert_eq!(offset(&o), SignedDuration::from_secs(70));
        assert_eq!(hang.asked.load(Ordering::SeqCst), 2);
        s.shutdown().await;
    }

    /// Answers for two standbys at once, like a lag probe on a PostgreSQL primary.
    struct Primary;

    impl Probe for Primary {
        fn observe(&self) -> ObserveFuture<'_> {
            Box::pin(async { Outcome::Seconds(0.0) })
        }
        fn observe_all<'a>(
            &'a self,
            _signal: &'a Signal,
        ) -> crate::app::observe::ObserveAllFuture<'a> {
            Box::pin(async {
                vec![
                    (
                        Signal::Lag {
                            replica: "standby-a".into(),
                        },
                        Outcome::Seconds(1.5),
                    ),
                    (
                        Signal::Lag {
                            replica: "standby-b".into(),
                        },
                        Outcome::Seconds(3.0),
                    ),
                ]
            })
        }
        fn describe(&self) -> String {
            "primary".into()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_may_answer_for_several_replicas_in_one_round() {
        let clock = Arc::new(SimClock::new(t0(), 1.0));
        let (tx, mut rx) = mpsc::channel(16);
        let s = Scheduler::start(
            vec![Scheduled {
                component: ComponentIx(2),
                signal: Signal::Lag {
                    replica: "standby".into(),
                },
                schedule: Schedule {
                    every: secs(10),
                    timeout: secs(5),
                    confirm_after: 2,
                },
                probe: Arc::new(Primary),
            }],
            clock,
            options(1.0, 0.0),
            tx,
            std::convert::identity,
        );
        let a = rx.recv().await.expect("obs");
        let b = rx.recv().await.expect("obs");
        assert_eq!(
            a.signal,
            Signal::Lag {
                replica: "standby-a".into()
            }
        );
        assert_eq!(
            b.signal,
            Signal::Lag {
                replica: "standby-b".into()
            }
        );
        assert_eq!((a.component, a.at), (ComponentIx(2), b.at));
        assert_eq!(b.outcome, Outcome::Seconds(3.0));
        // Answers were seen: no back-off, the next round comes after one interval.
        let next = rx.recv().await.expect("obs");
        assert_eq!(offset(&next), SignedDuration::from_secs(10));
        s.shutdown().await;
    }

    #[tokio::test(start_paused = true)]
    async fn stop_ends_every_task_and_closes_the_channel() {
        let clock = Arc::new(SimClock::new(t0(), 1.0));
        let (tx, mut rx) = mpsc::channel(16);
        let a = Fake::new(false);
        let s = Scheduler::start(
            vec![
                scheduled(0, 10, 5, a.clone()),
                scheduled(1, 10, 5, Fake::new(true)),
            ],
            clock,
            options(1.0, 0.0),
            tx,
            std::convert::identity,
        );
        assert_eq!(offset(&rx.recv().await.expect("obs")).as_secs(), 0);
        s.stop();
        // Every sender is gone once the tasks have ended: recv ends.
        while let Some(o) = rx.recv().await {
            assert!(offset(&o).as_secs() == 0, "nothing after stop: {o:?}");
        }
        assert_eq!(a.asked.load(Ordering::SeqCst), 1);
        s.shutdown().await;
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_receiver_ends_the_tasks() {
        let clock = Arc::new(SimClock::new(t0(), 1.0));
        let (tx, rx) = mpsc::channel::<Observation>(1);
        let a = Fake::new(false);
        let s = Scheduler::start(
            vec![scheduled(0, 10, 5, a.clone())],
            clock,
            options(1.0, 0.0),
            tx,
            std::convert::identity,
        );
        tokio::time::sleep(secs(25)).await;
        drop(rx);
        tokio::time::timeout(secs(60), s.shutdown())
            .await
            .expect("tasks end when the receiver is gone");
        // Channel of 1: the first answer was taken by the buffer, the second waited to be sent.
        assert!(a.asked.load(Ordering::SeqCst) <= 3);
    }

    #[tokio::test(start_paused = true)]
    async fn wrap_maps_observations_into_the_callers_events() {
        #[derive(Debug)]
        enum SchedEvent {
            Obs(Observation),
        }
        let clock = Arc::new(SimClock::new(t0(), 1.0));
        let (tx, mut rx) = mpsc::channel(4);
        let s = Scheduler::start(
            vec![scheduled(2, 10, 5, Fake::new(false))],
            clock,
            options(1.0, 0.0),
            tx,
            SchedEvent::Obs,
        );
        let Some(SchedEvent::Obs(o)) = rx.recv().await else {
            panic!("an event")
        };
        assert_eq!(o.component, ComponentIx(2));
        s.shutdown().await;
    }
}

/// The drill's simulated probes, run by the scheduler.
#[cfg(test)]
mod drill_tests {
    use std::time::Duration;

    use jiff::Timestamp;
    use tokio::sync::mpsc;

    use super::Scheduler;
    use crate::app::{Event, Signal};
    use crate::clock::add;
    use crate::config::load::load_embedded_example;
    use crate::drill::{Scenario, start_at};

    fn t0() -> Timestamp {
        Timestamp::from_second(1_700_000_000).expect("valid")
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn region_outage() -> Scenario {
        Scenario::builtin("region-outage").expect("built in")
    }

    #[tokio::test(start_paused = true)]
    async fn start_runs_one_simulated_probe_per_configured_probe() {
        let config = load_embedded_example();
        let (tx, mut rx) = mpsc::channel(64);
        let drill = start_at(&config, region_outage(), t0(), 10.0).expect("fits");
        let scheduler = Scheduler::drill(&drill, tx, Event::Observed);
        assert_eq!(scheduler.len(), 11);
        assert_eq!(drill.started(), t0());
        assert_eq!(drill.speed(), 10.0);
        assert_eq!(drill.scenario().name, "region-outage");
        // The first round, all at the start of simulated time.
        let mut first = Vec::new();
        for _ in 0..11 {
            let Some(Event::Observed(o)) = rx.recv().await else {
                panic!("an observation")
            };
            assert_eq!(o.at, t0());
            first.push(o);
        }
        let db = drill
            .world()
            .lock()
            .expect("world")
            .estate()
            .ix("db-primary");
        assert!(first.iter().any(|o| Some(o.component) == db
            && o.signal == Signal::Health
            && matches!(o.outcome, crate::app::Outcome::Down { .. })));
        // 1.5 s of real time is 15 s of simulated time: the 15 s probes answer again.
        tokio::time::sleep(Duration::from_millis(1600)).await;
        assert_eq!(drill.now(), add(t0(), Duration::from_secs(16)));
        let Some(Event::Observed(o)) = rx.recv().await else {
            panic!("an observation")
        };
        assert!(o.at >= add(t0(), secs(15)), "{o:?}");
        scheduler.shutdown().await;
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_the_drill_stops_the_probes() {
        let config = load_embedded_example();
        let (tx, mut rx) = mpsc::channel(64);
        let drill = start_at(
            &config,
            Scenario::builtin("steady").expect("built in"),
            t0(),
            1.0,
        )
        .expect("fits");
        let scheduler = Scheduler::drill(&drill, tx, std::convert::identity);
        for _ in 0..11 {
            rx.recv().await.expect("first round");
        }
        scheduler.stop();
        tokio::time::sleep(secs(120)).await;
        assert!(rx.recv().await.is_none(), "no probe runs after stop");
        drop(scheduler);
    }
}
