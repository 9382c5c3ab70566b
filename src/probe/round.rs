//! One round of every probe, all at once, each within its timeout: `warroom status`.

use std::sync::Arc;

use futures_util::future::join_all;

use super::Scheduled;
use super::clock::Clock;
use crate::app::{Observation, ObserveError, Outcome};

/// Asks every probe once, concurrently; a probe that does not answer within its timeout is
/// answered `CannotObserve { Timeout }`. The observations come back in probe order.
pub async fn once(probes: &[Scheduled], clock: Arc<dyn Clock>) -> Vec<Observation> {
    let asks =
        probes.iter().map(|p| {
            let clock = clock.clone();
            async move {
                let started = clock.now();
                let answers =
                    match tokio::time::timeout(p.schedule.timeout, p.probe.observe_all(&p.signal))
                        .await
                    {
                        Ok(answers) => answers,
                        Err(_) => vec![(
                            p.signal.clone(),
                            Outcome::CannotObserve {
                                reason: ObserveError::Timeout,
                            },
                        )],
                    };
                let at = clock.now();
                answers
                    .into_iter()
                    .map(|(signal, outcome)| Observation {
                        component: p.component,
                        signal,
                        at,
                        started,
                        outcome,
                    })
                    .collect::<Vec<_>>()
            }
        });
    join_all(asks).await.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{ComponentIx, Signal};
    use crate::config::Schedule;
    use crate::probe::{ObserveFuture, Probe, SystemClock};
    use std::time::Duration;

    struct SlowProbe(Duration, Outcome);

    impl Probe for SlowProbe {
        fn observe(&self) -> ObserveFuture<'_> {
            Box::pin(async move {
                tokio::time::sleep(self.0).await;
                self.1.clone()
            })
        }
        fn describe(&self) -> String {
            "slow".into()
        }
    }

    fn scheduled(ix: u32, wait: u64, timeout: u64, outcome: Outcome) -> Scheduled {
        Scheduled {
            component: ComponentIx(ix),
            signal: Signal::Health,
            schedule: Schedule {
                every: Duration::from_secs(60),
                timeout: Duration::from_secs(timeout),
                confirm_after: 2,
            },
            probe: Arc::new(SlowProbe(Duration::from_secs(wait), outcome)),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn every_probe_answers_once_and_a_slow_one_times_out() {
        let up = Outcome::Up {
            latency: Duration::from_millis(3),
            detail: String::new(),
        };
        let probes = vec![
            scheduled(0, 1, 5, up.clone()),
            scheduled(1, 30, 5, up.clone()),
        ];
        let started = tokio::time::Instant::now();
        let got = once(&probes, Arc::new(SystemClock)).await;
        // Concurrent: the round takes the longest timeout, not the sum.
        assert!(started.elapsed() < Duration::from_secs(6));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].outcome, up);
        assert_eq!(
            got[1].outcome,
            Outcome::CannotObserve {
                reason: ObserveError::Timeout
            }
        );
    }
}
