//! Backup `rds_snapshots`: the age of the newest available snapshot of an RDS instance
//! (DescribeDBSnapshots) or Aurora cluster (DescribeDBClusterSnapshots).
//!
//! Automated and manual snapshots both count (the default of both calls; shared and public
//! ones do not), every page is read, only status `available` counts: a snapshot still
//! `creating` cannot be restored. The age is now − the time of the snapshot's data: a copy
//! (the usual cross-region DR snapshot) has its own `SnapshotCreateTime` but keeps the
//! original's in `OriginalSnapshotCreateTime`, and it is the data's age that counts
//! against the RPO. No available snapshot is `Down` ("no backup found").

use aws_sdk_rds::error::ProvideErrorMetadata;
use aws_sdk_rds::primitives::DateTime;
use jiff::Timestamp;

use super::{ObserveFuture, Probe};
use crate::app::Outcome;
use crate::cloud::aws::{self, AwsClients, Snap, newest_available};
use crate::config::SnapshotSource;

/// The newest available snapshot's age at `now`, or `Down` naming what has none.
pub fn outcome(snaps: &[Snap], now: Timestamp, source: &SnapshotSource) -> Outcome {
    match newest_available(snaps).and_then(|s| s.taken) {
        Some(taken) => Outcome::Seconds(now.duration_since(taken).as_secs_f64()),
        None => none_of(source),
    }
}

fn none_of(source: &SnapshotSource) -> Outcome {
    Outcome::Down {
        detail: match source {
            SnapshotSource::Instance(id) => format!("no available snapshot of {id}"),
            SnapshotSource::Cluster(id) => format!("no available snapshot of cluster {id}"),
        },
    }
}

fn timestamp(t: &DateTime) -> Option<Timestamp> {
    Timestamp::new(t.secs(), t.subsec_nanos() as i32).ok()
}

/// The time of a snapshot's data: the original's for a copy, else its own.
fn taken(original: Option<&DateTime>, created: Option<&DateTime>) -> Option<Timestamp> {
    original.or(created).and_then(timestamp)
}

/// DescribeDBSnapshots or DescribeDBClusterSnapshots, every page.
pub struct RdsSnapshotsProbe {
    clients: AwsClients,
    source: SnapshotSource,
    region: String,
}

impl RdsSnapshotsProbe {
    pub fn new(clients: AwsClients, source: SnapshotSource, region: String) -> RdsSnapshotsProbe {
        RdsSnapshotsProbe {
            clients,
            source,
            region,
        }
    }

    async fn ask(&self) -> Outcome {
        let client = self.clients.rds(&self.region).await;
        let mut snaps = Vec::new();
        match &self.source {
            SnapshotSource::Instance(id) => {
                let mut pages = client
                    .describe_db_snapshots()
                    .db_instance_identifier(id)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    match page {
                        Ok(page) => snaps.extend(page.db_snapshots().iter().map(|s| Snap {
                            id: s.db_snapshot_identifier().unwrap_or_default().to_string(),
                            status: s.status().unwrap_or_default().to_string(),
                            taken: taken(
                                s.original_snapshot_create_time(),
                                s.snapshot_create_time(),
                            ),
                        })),
                        // AWS answers an empty list for an instance it does not know;
                        // an emulator may say so instead: either way, no backup of it.
                        Err(err) if err.code() == Some("DBInstanceNotFound") => {
                            return none_of(&self.source);
                        }
                        Err(err) => return Outcome::cannot_observe(aws::observe_error(&err)),
                    }
                }
            }
            SnapshotSource::Cluster(id) => {
                let mut pages = client
                    .describe_db_cluster_snapshots()
                    .db_cluster_identifier(id)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    match page {
                        Ok(page) => snaps.extend(page.db_cluster_snapshots().iter().map(|s| {
                            Snap {
                                id: s
                                    .db_cluster_snapshot_identifier()
                                    .unwrap_or_default()
                                    .to_string(),
                                status: s.status().unwrap_or_default().to_string(),
                                taken: taken(None, s.snapshot_create_time()),
                            }
                        })),
                        Err(err) if err.code() == Some("DBClusterNotFoundFault") => {
                            return none_of(&self.source);
                        }
                        Err(err) => return Outcome::cannot_observe(aws::observe_error(&err)),
                    }
                }
            }
        }
        outcome(&snaps, Timestamp::now(), &self.source)
    }
}

impl Probe for RdsSnapshotsProbe {
    fn observe(&self) -> ObserveFuture<'_> {
        Box::pin(self.ask())
    }

    fn describe(&self) -> String {
        match &self.source {
            SnapshotSource::Instance(id) => format!("rds_snapshots {id} ({})", self.region),
            SnapshotSource::Cluster(id) => {
                format!("rds_snapshots cluster {id} ({})", self.region)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).expect("valid")
    }

    fn snap(id: &str, status: &str, taken: Option<i64>) -> Snap {
        Snap {
            id: id.into(),
            status: status.into(),
            taken: taken.map(at),
        }
    }

    #[test]
    fn the_newest_available_one_counts() {
        let snaps = [
            snap("old", "available", Some(1_000)),
            snap("new-but-creating", "creating", Some(9_000)),
            snap("newest", "available", Some(5_000)),
            snap("no-time", "available", None),
        ];
        assert_eq!(
            newest_available(&snaps).map(|s| s.id.as_str()),
            Some("newest")
        );
        let source = SnapshotSource::Instance("db".into());
        assert_eq!(outcome(&snaps, at(5_600), &source), Outcome::Seconds(600.0));
    }

    #[test]
    fn none_available_is_down() {
        let snaps = [snap("c", "creating", Some(1))];
        assert_eq!(
            outcome(&snaps, at(10), &SnapshotSource::Instance("db".into())),
            Outcome::Down {
                detail: "no available snapshot of db".into()
            }
        );
        assert_eq!(
            outcome(&[], at(10), &SnapshotSource::Cluster("c1".into())),
            Outcome::Down {
                detail: "no available snapshot of cluster c1".into()
            }
        );
    }

    #[test]
    fn a_copy_is_as_old_as_its_original() {
        let original = DateTime::from_secs(1_000);
        let copied = DateTime::from_secs(4_000);
        assert_eq!(taken(Some(&original), Some(&copied)), Some(at(1_000)));
        assert_eq!(taken(None, Some(&copied)), Some(at(4_000)));
        assert_eq!(
            taken(None, Some(&DateTime::from_fractional_secs(5, 0.25))),
            Some(Timestamp::new(5, 250_000_000).expect("valid"))
        );
    }

    #[test]
    fn describes_itself() {
        let p = RdsSnapshotsProbe::new(
            AwsClients::new(None),
            SnapshotSource::Cluster("c1".into()),
            "us-west-2".into(),
        );
        assert_eq!(p.describe(), "rds_snapshots cluster c1 (us-west-2)");
        let p = RdsSnapshotsProbe::new(
            AwsClients::new(None),
            SnapshotSource::Instance("db".into()),
            "us-west-2".into(),
        );
        assert_eq!(p.describe(), "rds_snapshots db (us-west-2)");
    }
}
