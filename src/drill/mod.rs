//! Drills: the console on a simulated estate.
//!
//! [`SimWorld`] is a deterministic estate in simulated time, built from any config (the
//! built-in example or the operator's own) and a [`Scenario`]. [`SimProbe`] answers each
//! configured probe from the world; [`SimExecutor`] runs every action kind against it. A drill
//! never touches a real system: no network, no processes.
//!
//! The runtime calls [`start`]: it gets the observations through its channel, stamps its
//! Tick events with [`DrillHandle::clock`], runs steps through [`DrillHandle::executor`], and
//! stops the drill with [`DrillHandle::stop`] (or by dropping the handle).

mod act;
pub mod scenario;
pub mod sink;
pub mod world;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::app::observe::{ObserveFuture, Probe, Scheduled, slots};
use crate::app::outcome::{Executor, RunFuture, StepOutcome, StepProgress};
use crate::app::{ComponentIx, Signal};
use crate::clock::{Clock, SimClock, add, clamp_speed};
use crate::config::{Config, Diagnostics, Step};
use world::SimCheck;

pub use scenario::Scenario;
pub use world::{Act, Deployment, SimWorld};

/// The world shared by the probes and the executor.
pub type SharedWorld = Arc<Mutex<SimWorld>>;

fn lock(world: &SharedWorld) -> MutexGuard<'_, SimWorld> {
    // A panic while holding the lock leaves a world that is still consistent enough to read.
    world.lock().unwrap_or_else(|e| e.into_inner())
}

/// One configured probe, answered by the simulated world at the clock's now.
pub struct SimProbe {
    pub world: SharedWorld,
    pub component: ComponentIx,
    pub signal: Signal,
    pub clock: Arc<dyn Clock>,
}

impl Probe for SimProbe {
    fn observe(&self) -> ObserveFuture<'_> {
        Box::pin(async move {
            let now = self.clock.now();
            lock(&self.world).observe(self.component, &self.signal, now)
        })
    }

    fn describe(&self) -> String {
        let world = lock(&self.world);
        let id = world
            .estate()
            .get(self.component)
            .map_or("?", |c| c.id.as_str());
        match &self.signal {
            Signal::Health => format!("simulated health of {id}"),
            Signal::Lag { replica } => format!("simulated lag of {id} ({replica})"),
            Signal::BackupAge => format!("simulated backup age of {id}"),
        }
    }
}

/// How often a `k8s_wait_available` looks again, in simulated time.
pub const WAIT_POLL: Duration = Duration::from_secs(2);

/// Runs every action kind against the simulated world, in simulated time.
pub struct SimExecutor {
    world: SharedWorld,
    clock: Arc<SimClock>,
}

impl SimExecutor {
    pub fn new(world: SharedWorld, clock: Arc<SimClock>) -> SimExecutor {
        SimExecutor { world, clock }
    }

    async fn sleep(&self, sim: Duration) {
        tokio::time::sleep(self.clock.to_real(sim)).await;
    }

    async fn wait(
        &self,
        deployment: &Deployment,
        timeout: Duration,
        progress: &mpsc::Sender<StepProgress>,
    ) -> StepOutcome {
        let deadline = add(self.clock.now(), timeout);
        let mut said = String::new();
        loop {
            let now = self.clock.now();
            let (available, detail) = lock(&self.world).deployment(deployment, now);
            if available {
                return StepOutcome::Succeeded { summary: detail };
            }
            if now >= deadline {
                return StepOutcome::Failed {
                    reason: format!(
                        "timed out after {}: {detail}",
                        crate::app::fmt::duration(timeout)
                    ),
                };
            }
            if detail != said {
                let _ = progress.send(StepProgress::Status(detail.clone())).await;
                said = detail;
            }
            let left = deadline.duration_since(now);
            let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
            self.sleep(WAIT_POLL.min(left)).await;
        }
    }
}

impl SimExecutor {
    /// Reads the action's postcondition from the world until it holds or its deadline
    /// passes, as the real executor does (in simulated time).
    async fn postcondition(
        &self,
        check: &SimCheck,
        summary: String,
        progress: &mpsc::Sender<StepProgress>,
    ) -> StepOutcome {
        let within = check.within();
        let deadline = add(self.clock.now(), within);
        let mut said = String::new();
        loop {
            let now = self.clock.now();
            let (held, seen) = lock(&self.world).read_check(check, now);
            if held {
                return StepOutcome::Checked {
                    summary,
                    held: true,
                    evidence: format!("{seen} (simulated)"),
                };
            }
            if now >= deadline {
                return StepOutcome::Checked {
                    summary,
                    held: false,
                    evidence: format!(
                        "not done within {}: last seen {seen} (simulated)",
                        crate::app::fmt::duration(within)
                    ),
                };
            }
            if seen != said {
                let _ = progress
                    .send(StepProgress::Status(format!("waiting: {seen}")))
                    .await;
                said = seen;
            }
            let left = Duration::try_from(deadline.duration_since(now)).unwrap_or(Duration::ZERO);
            self.sleep(WAIT_POLL.min(left)).await;
        }
    }
}

impl Executor for SimExecutor {
    fn run<'a>(
        &'a self,
        step: &'a Step,
        inputs: &'a BTreeMap<String, String>,
        // A drill's steps print little and end with the drill: no log of their own.
        _log: Option<&'a crate::app::outcome::StepLog>,
        progress: mpsc::Sender<StepProgress>,
    ) -> RunFuture<'a> {
        Box::pin(async move {
            let act = lock(&self.world).act(step, inputs, self.clock.now());
            // A closed progress channel is not the step's failure.
            let _ = progress.send(StepProgress::Status(act.status)).await;
            self.sleep(act.call).await;
            for line in act.lines {
                let _ = progress.send(StepProgress::Output(line)).await;
            }
            match (act.wait, act.check, act.outcome) {
                (Some((deployment, timeout)), _, _) => {
                    self.wait(&deployment, timeout, &progress).await
                }
                (None, Some(check), StepOutcome::Succeeded { summary }) => {
                    self.postcondition(&check, summary, &progress).await
                }
                (None, _, outcome) => outcome,
            }
        })
    }
}

/// A running drill.
pub struct DrillHandle {
    clock: Arc<SimClock>,
    world: SharedWorld,
    executor: Arc<SimExecutor>,
    probes: Vec<Scheduled>,
    scenario: Scenario,
}

impl DrillHandle {
    /// Simulated time: stamp Tick events with it.
    pub fn clock(&self) -> Arc<SimClock> {
        self.clock.clone()
    }

    /// Simulated time at the start of the drill (the console's `started`).
    pub fn started(&self) -> Timestamp {
        self.clock.start()
    }

    /// Simulated time now.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn speed(&self) -> f64 {
        self.clock.speed()
    }

    /// Runs steps against the simulated estate.
    pub fn executor(&self) -> Arc<SimExecutor> {
        self.executor.clone()
    }

    pub fn world(&self) -> SharedWorld {
        self.world.clone()
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// One [`SimProbe`] per configured probe, for the runtime's scheduler to run (at the
    /// drill's speed, stamped by its clock).
    pub fn probes(&self) -> Vec<Scheduled> {
        self.probes.clone()
    }
}

/// Starts a drill: builds the world from `config` and `scenario` with simulated time starting
/// now (to the second) and running `speed` times faster, and one [`SimProbe`] per configured
/// probe ([`DrillHandle::probes`], for the runtime to schedule). Fails if the scenario does
/// not fit the config.
pub fn start(config: &Config, scenario: Scenario, speed: f64) -> Result<DrillHandle, Diagnostics> {
    let now = Timestamp::now();
    let start = Timestamp::from_second(now.as_second()).unwrap_or(now);
    start_at(config, scenario, start, speed)
}

/// [`start`] with simulated time starting at `start`.
pub fn start_at(
    config: &Config,
    scenario: Scenario,
    start: Timestamp,
    speed: f64,
) -> Result<DrillHandle, Diagnostics> {
    let speed = clamp_speed(speed);
    let world = Arc::new(Mutex::new(SimWorld::new(config, &scenario, start)?));
    let clock = Arc::new(SimClock::new(start, speed));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let estate = lock(&world).estate().clone();
    let probes = slots(config, &estate)
        .into_iter()
        .map(|s| Scheduled {
            component: s.component,
            signal: s.signal.clone(),
            schedule: s.schedule,
            probe: Arc::new(SimProbe {
                world: world.clone(),
                component: s.component,
                signal: s.signal,
                clock: dyn_clock.clone(),
            }),
        })
        .collect();
    Ok(DrillHandle {
        executor: Arc::new(SimExecutor::new(world.clone(), clock.clone())),
        clock,
        world,
        probes,
        scenario,
    })
}

#[cfg(test)]
mod tests;
