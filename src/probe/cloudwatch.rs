//! Lag `cloudwatch`: an RDS replica's replication lag, as CloudWatch last recorded it.
//!
//! GetMetricData for `AWS/RDS` `ReplicaLag` (seconds) or `AuroraReplicaLag` (milliseconds,
//! converted to seconds), dimension `DBInstanceIdentifier` = the replica, statistic
//! `Maximum`, period 60 s, over the last [`WINDOW`]: the most recent datapoint is the lag.
//!
//! The truths the model relies on:
//! - no datapoint in the window is `CannotObserve { NoDatapoints }` (UNKNOWN), never 0;
//! - a negative value is passed on as it is (not converted): RDS reports `ReplicaLag` −1
//!   when replication is not running, and the model reads any negative lag that way.

use std::time::Duration;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy, StatusCode,
};

use super::{ObserveFuture, Probe};
use crate::app::{ObserveError, Outcome};
use crate::cloud::aws::{self, AwsClients};
use crate::config::LagMetric;

/// How far back a datapoint still counts: RDS publishes lag every minute, so five minutes
/// tolerate a few missed publications without showing an old number as current.
pub const WINDOW: Duration = Duration::from_secs(300);

/// The period (and so the resolution) asked of CloudWatch.
pub const PERIOD_SECONDS: i32 = 60;

/// GetMetricData for one replica's lag metric.
pub struct CloudwatchLagProbe {
    clients: AwsClients,
    instance: String,
    region: String,
    metric: LagMetric,
}

impl CloudwatchLagProbe {
    pub fn new(
        clients: AwsClients,
        instance: String,
        region: String,
        metric: LagMetric,
    ) -> CloudwatchLagProbe {
        CloudwatchLagProbe {
            clients,
            instance,
            region,
            metric,
        }
    }

    async fn ask(&self) -> Outcome {
        let client = self.clients.cloudwatch(&self.region).await;
        let now = jiff::Timestamp::now().as_second();
        let start = now - WINDOW.as_secs() as i64;
        // Ask a minute past now: a datapoint stamped this very second is not cut off.
        let end = now + i64::from(PERIOD_SECONDS);
        let query = MetricDataQuery::builder()
            .id("lag")
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace("AWS/RDS")
                            .metric_name(self.metric.as_str())
                            .dimensions(
                                Dimension::builder()
                                    .name("DBInstanceIdentifier")
                                    .value(&self.instance)
                                    .build(),
                            )
                            .build(),
                    )
                    .period(PERIOD_SECONDS)
                    .stat("Maximum")
                    .build(),
            )
            .return_data(true)
            .build();
        let answer = client
            .get_metric_data()
            .metric_data_queries(query)
            .start_time(DateTime::from_secs(start))
            .end_time(DateTime::from_secs(end))
            .scan_by(ScanBy::TimestampDescending)
            .send()
            .await;
        match answer {
            Ok(out) => match out
                .metric_data_results()
                .iter()
                .find(|r| r.id() == Some("lag"))
            {
                Some(result) => lag_of(result, self.metric),
                None => no_datapoints(),
            },
            Err(err) => Outcome::cannot_observe(aws::observe_error(&err)),
        }
    }
}

fn no_datapoints() -> Outcome {
    Outcome::CannotObserve {
        reason: ObserveError::NoDatapoints,
    }
}

/// The lag in one metric result: its most recent datapoint, in seconds.
pub fn lag_of(result: &MetricDataResult, metric: LagMetric) -> Outcome {
    let latest = result
        .timestamps()
        .iter()
        .zip(result.values())
        .max_by_key(|(t, _)| t.as_nanos());
    match latest {
        Some((_, &value)) => Outcome::Seconds(seconds(value, metric)),
        None => match result.status_code() {
            Some(StatusCode::Forbidden) => Outcome::CannotObserve {
                reason: ObserveError::AccessDenied(format!(
                    "GetMetricData {}: Forbidden",
                    metric.as_str()
                )),
            },
            Some(StatusCode::InternalError) => Outcome::CannotObserve {
                reason: ObserveError::Unreachable(format!(
                    "GetMetricData {}: InternalError",
                    metric.as_str()
                )),
            },
            _ => no_datapoints(),
        },
    }
}

/// A datapoint in seconds: `AuroraReplicaLag` is in milliseconds; a negative value (the
/// "not replicating" sentinel) is kept as it is.
pub fn seconds(value: f64, metric: LagMetric) -> f64 {
    match metric {
        _ if value < 0.0 => value,
        LagMetric::ReplicaLag => value,
        LagMetric::AuroraReplicaLag => value / 1000.0,
    }
}

impl Probe for CloudwatchLagProbe {
    fn observe(&self) -> ObserveFuture<'_> {
        Box::pin(self.ask())
    }

    fn describe(&self) -> String {
        format!(
            "cloudwatch {} {} ({})",
            self.metric.as_str(),
            self.instance,
            self.region
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(points: &[(i64, f64)]) -> MetricDataResult {
        let mut b = MetricDataResult::builder()
            .id("lag")
            .status_code(StatusCode::Complete);
        for (t, v) in points {
            b = b.timestamps(DateTime::from_secs(*t)).values(*v);
        }
        b.build()
    }

    #[test]
    fn the_most_recent_datapoint_whatever_the_order() {
        let r = result(&[(120, 7.0), (180, 3.0), (60, 9.0)]);
        assert_eq!(lag_of(&r, LagMetric::ReplicaLag), Outcome::Seconds(3.0));
    }

    #[test]
    fn no_datapoints_is_unknown_never_zero() {
        assert_eq!(
            lag_of(&result(&[]), LagMetric::ReplicaLag),
            Outcome::CannotObserve {
                reason: ObserveError::NoDatapoints
            }
        );
        let forbidden = MetricDataResult::builder()
            .id("lag")
            .status_code(StatusCode::Forbidden)
            .build();
        assert!(matches!(
            lag_of(&forbidden, LagMetric::ReplicaLag),
            Outcome::CannotObserve {
                reason: ObserveError::AccessDenied(_)
            }
        ));
    }

    #[test]
    fn minus_one_stays_minus_one() {
        let r = result(&[(60, 2.0), (120, -1.0)]);
        assert_eq!(lag_of(&r, LagMetric::ReplicaLag), Outcome::Seconds(-1.0));
        assert_eq!(
            lag_of(&r, LagMetric::AuroraReplicaLag),
            Outcome::Seconds(-1.0)
        );
    }

    #[test]
    fn aurora_lag_is_in_milliseconds() {
        let r = result(&[(60, 1500.0)]);
        assert_eq!(
            lag_of(&r, LagMetric::AuroraReplicaLag),
            Outcome::Seconds(1.5)
        );
        assert_eq!(seconds(20.0, LagMetric::ReplicaLag), 20.0);
    }

    #[test]
    fn describes_itself() {
        let p = CloudwatchLagProbe::new(
            AwsClients::new(None),
            "db-dr".into(),
            "us-west-2".into(),
            LagMetric::AuroraReplicaLag,
        );
        assert_eq!(
            p.describe(),
            "cloudwatch AuroraReplicaLag db-dr (us-west-2)"
        );
    }
}
