//! Where "now" comes from: the wall clock, or a drill's simulated clock.
//!
//! Probes stamp observations with [`Clock::now`], and the runtime stamps its Tick events with
//! the same clock, so a drill at `--speed 10` runs every budget and staleness check in
//! simulated time without `update` knowing.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::time::Instant;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Simulated time: `start_sim + elapsed_real × speed`.
///
/// Real time is read from [`tokio::time::Instant`], so a test with a paused tokio clock
/// drives simulated time exactly (outside a runtime it is the monotonic clock).
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    start_real: Instant,
    start_sim: Timestamp,
    speed: f64,
}

/// Speeds are clamped to this range: 0, negative or NaN would stop or reverse time.
pub const MIN_SPEED: f64 = 0.001;
pub const MAX_SPEED: f64 = 1_000_000.0;

/// A usable speed: within [`MIN_SPEED`]..=[`MAX_SPEED`]; NaN is 1.
pub fn clamp_speed(speed: f64) -> f64 {
    if speed.is_nan() {
        1.0
    } else {
        speed.clamp(MIN_SPEED, MAX_SPEED)
    }
}

impl SimClock {
    /// Simulated time starts at `start_sim` now, and runs `speed` times faster than real time.
    pub fn new(start_sim: Timestamp, speed: f64) -> SimClock {
        SimClock::with_start(Instant::now(), start_sim, speed)
    }

    /// Simulated time was `start_sim` at the real instant `start_real`.
    pub fn with_start(start_real: Instant, start_sim: Timestamp, speed: f64) -> SimClock {
        SimClock {
            start_real,
            start_sim,
            speed: clamp_speed(speed),
        }
    }

    pub fn start(&self) -> Timestamp {
        self.start_sim
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        self.to_sim(self.start_real.elapsed())
    }

    /// A real duration as simulated time.
    pub fn to_sim(&self, real: Duration) -> Duration {
        scale(real, self.speed)
    }

    /// A simulated duration as real time (how long to sleep for it).
    pub fn to_real(&self, sim: Duration) -> Duration {
        scale(sim, 1.0 / self.speed)
    }
}

/// `d × factor`, saturating; `factor` is positive and finite.
pub(crate) fn scale(d: Duration, factor: f64) -> Duration {
    Duration::try_from_secs_f64(d.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

/// `t + d`, saturating at the end of representable time.
pub(crate) fn add(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        add(self.start_sim, self.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        Timestamp::from_second(1_700_000_000).expect("valid")
    }

    #[tokio::test(start_paused = true)]
    async fn simulated_time_runs_at_speed() {
        let clock = SimClock::new(t0(), 10.0);
        assert_eq!(clock.now(), t0());
        tokio::time::advance(Duration::from_millis(1500)).await;
        assert_eq!(clock.now(), t0() + SignedDuration::from_secs(15));
        assert_eq!(clock.elapsed(), Duration::from_secs(15));
        assert_eq!(
            clock.to_real(Duration::from_secs(90)),
            Duration::from_secs(9)
        );
        assert_eq!(clock.speed(), 10.0);
        assert_eq!(clock.start(), t0());
    }

    #[test]
    fn speeds_are_clamped() {
        assert_eq!(clamp_speed(0.0), MIN_SPEED);
        assert_eq!(clamp_speed(-3.0), MIN_SPEED);
        assert_eq!(clamp_speed(f64::NAN), 1.0);
        assert_eq!(clamp_speed(f64::INFINITY), MAX_SPEED);
        assert_eq!(clamp_speed(60.0), 60.0);
    }

    #[test]
    fn far_future_saturates() {
        assert_eq!(add(t0(), Duration::MAX), Timestamp::MAX);
        assert_eq!(scale(Duration::MAX, 10.0), Duration::MAX);
    }

    #[test]
    fn system_clock_is_now() {
        let before = Timestamp::now();
        let now = SystemClock.now();
        assert!(now >= before);
    }
}
