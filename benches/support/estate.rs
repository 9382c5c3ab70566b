//! The estate the benches measure: `n` components, one in ten critical, every second one
//! with lag and backup probes.

use std::time::Duration;

use warroom::app::{ComponentSpec, Estate};
use warroom::config::{Schedule, Thresholds, Tier};

pub fn estate(n: u32) -> Estate {
    let schedule = Schedule {
        every: Duration::from_secs(15),
        timeout: Duration::from_secs(10),
        confirm_after: 2,
    };
    let lag = Thresholds {
        warn: Duration::from_secs(30),
        crit: Duration::from_secs(60),
    };
    let backup = Thresholds {
        warn: Duration::from_secs(25 * 3600),
        crit: Duration::from_secs(26 * 3600),
    };
    Estate::new(
        (0..n)
            .map(|i| {
                let tier = if i % 10 == 0 {
                    Tier::Critical
                } else {
                    Tier::Standard
                };
                let mut c = ComponentSpec::new(format!("svc-{i:04}"), tier)
                    .name(format!("Service number {i}"))
                    .health(schedule)
                    .rto(Duration::from_secs(3600));
                if i % 2 == 0 {
                    c = c
                        .rpo(Duration::from_secs(900))
                        .lag(schedule, lag)
                        .backup(schedule, backup);
                }
                c
            })
            .collect(),
    )
}
