//! The AWS probes against a real moto_server on loopback (see `support/moto.rs`; install it
//! with `.ci/moto.sh`): RDS instances and replicas, CloudWatch lag, snapshots, and what a
//! control plane that does not answer or refuses us reads as.

use std::process::Command;
use std::time::Duration;

use crate::support::moto::{Moto, create_instance, create_replica, create_unbacked_instance};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use warroom::app::{ObserveError, Outcome};
use warroom::cloud::aws::AwsClients;
use warroom::config::{LagMetric, SnapshotSource};
use warroom::probe::Probe;
use warroom::probe::cloudwatch::CloudwatchLagProbe;
use warroom::probe::rds::RdsInstanceProbe;
use warroom::probe::snapshots::RdsSnapshotsProbe;

const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";

fn rds_probe(clients: &AwsClients, region: &str, id: &str) -> RdsInstanceProbe {
    RdsInstanceProbe::new(clients.clone(), id.into(), region.into())
}

fn cannot_observe(outcome: &Outcome) -> &ObserveError {
    match outcome {
        Outcome::CannotObserve { reason } => reason,
        other => panic!("expected CannotObserve, got {other:?}"),
    }
}

// ---- rds_instance -------------------------------------------------------------------------

#[tokio::test]
async fn a_primary_and_its_read_replica_are_up_and_say_so() {
    let moto = Moto::shared();
    let clients = moto.clients();
    create_instance(&clients, EAST, "dtem-postgres").await;
    create_replica(&clients, EAST, "dtem-postgres-replica", "dtem-postgres").await;

    let replica = rds_probe(&clients, EAST, "dtem-postgres-replica")
        .observe()
        .await;
    match &replica {
        Outcome::Up { latency, detail } => {
            assert_eq!(
                *latency,
                Duration::ZERO,
                "the API call is not the DB's latency"
            );
            assert!(
                detail.starts_with("available, replica of dtem-postgres"),
                "{detail}"
            );
        }
        other => panic!("replica: {other:?}\n{}", moto.log_text()),
    }
    let primary = rds_probe(&clients, EAST, "dtem-postgres").observe().await;
    match &primary {
        Outcome::Up { detail, .. } => assert!(
            detail.starts_with("available, primary with replicas dtem-postgres-replica"),
            "{detail}"
        ),
        other => panic!("primary: {other:?}"),
    }
}

#[tokio::test]
async fn a_cross_region_dr_replica_names_its_primary_and_region() {
    let moto = Moto::shared();
    let clients = moto.clients();
    create_instance(&clients, EAST, "dtem-xr-primary").await;
    let arn = format!("arn:aws:rds:{EAST}:123456789012:db:dtem-xr-primary");
    create_replica(&clients, WEST, "dtem-xr-dr", &arn).await;
    match rds_probe(&clients, WEST, "dtem-xr-dr").observe().await {
        Outcome::Up { detail, .. } => assert!(
            detail.starts_with("available, replica of dtem-xr-primary (us-east-1)"),
            "{detail}"
        ),
        other => panic!("{other:?}"),
    }
    match rds_probe(&clients, EAST, "dtem-xr-primary").observe().await {
        Outcome::Up { detail, .. } => assert!(
            detail.starts_with("available, primary with replicas dtem-xr-dr (us-west-2)"),
            "{detail}"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_stopped_instance_is_down_stopped() {
    let moto = Moto::shared();
    let clients = moto.clients();
    create_instance(&clients, WEST, "dtem-batch").await;
    clients
        .rds(WEST)
        .await
        .stop_db_instance()
        .db_instance_identifier("dtem-batch")
        .send()
        .await
        .expect("stop");
    assert_eq!(
        rds_probe(&clients, WEST, "dtem-batch").observe().await,
        Outcome::Down {
            detail: "stopped".into()
        }
    );
    // Starting again: on its way back, not failed (moto makes it available at once).
    clients
        .rds(WEST)
        .await
        .start_db_instance()
        .db_instance_identifier("dtem-batch")
        .send()
        .await
        .expect("start");
    assert!(matches!(
        rds_probe(&clients, WEST, "dtem-batch").observe().await,
        Outcome::Up { .. } | Outcome::Degraded { .. }
    ));
}

#[tokio::test]
async fn an_unknown_instance_is_down_not_found() {
    let moto = Moto::shared();
    let probe = rds_probe(&moto.clients(), EAST, "no-such-db");
    assert_eq!(probe.describe(), "rds_instance no-such-db (us-east-1)");
    assert_eq!(
        probe.observe().await,
        Outcome::Down {
            detail: "instance no-such-db not found".into()
        }
    );
}

// ---- cloudwatch lag -----------------------------------------------------------------------

async fn put_lag(
    clients: &AwsClients,
    region: &str,
    metric: &str,
    instance: &str,
    points: &[(i64, f64)],
) {
    let now = jiff::Timestamp::now().as_second();
    let mut req = clients
        .cloudwatch(region)
        .await
        .put_metric_data()
        .namespace("AWS/RDS");
    for (ago, value) in points {
        req = req.metric_data(
            MetricDatum::builder()
                .metric_name(metric)
                .dimensions(
                    Dimension::builder()
                        .name("DBInstanceIdentifier")
                        .value(instance)
                        .build(),
                )
                .timestamp(DateTime::from_secs(now - ago))
                .value(*value)
                .unit(if metric == "AuroraReplicaLag" {
                    StandardUnit::Milliseconds
                } else {
                    StandardUnit::Seconds
                })
                .build(),
        );
    }
    req.send().await.expect("put metric data");
}

fn lag_probe(
    clients: &AwsClients,
    region: &str,
    id: &str,
    metric: LagMetric,
) -> CloudwatchLagProbe {
    CloudwatchLagProbe::new(clients.clone(), id.into(), region.into(), metric)
}

#[tokio::test]
async fn the_lag_is_the_most_recent_replica_lag_datapoint() {
    let moto = Moto::shared();
    let clients = moto.clients();
    put_lag(
        &clients,
        WEST,
        "ReplicaLag",
        "lag-latest",
        &[(200, 4.0), (130, 45.0), (70, 12.0)],
    )
    .await;
    // Another replica's lag is not ours.
    put_lag(&clients, WEST, "ReplicaLag", "someone-else", &[(10, 999.0)]).await;
    let probe = lag_probe(&clients, WEST, "lag-latest", LagMetric::ReplicaLag);
    assert_eq!(
        probe.describe(),
        "cloudwatch ReplicaLag lag-latest (us-west-2)"
    );
    assert_eq!(
        probe.observe().await,
        Outcome::Seconds(12.0),
        "{}",
        moto.log_text()
    );
}

#[tokio::test]
async fn replica_lag_minus_one_is_passed_on_as_not_replicating() {
    let moto = Moto::shared();
    let clients = moto.clients();
    put_lag(
        &clients,
        WEST,
        "ReplicaLag",
        "lag-not-running",
        &[(190, 3.0), (10, -1.0)],
    )
    .await;
    let probe = lag_probe(&clients, WEST, "lag-not-running", LagMetric::ReplicaLag);
    assert_eq!(probe.observe().await, Outcome::Seconds(-1.0));
}

#[tokio::test]
async fn aurora_replica_lag_is_read_in_milliseconds() {
    let moto = Moto::shared();
    let clients = moto.clients();
    put_lag(
        &clients,
        EAST,
        "AuroraReplicaLag",
        "dtem-aurora-2",
        &[(30, 1500.0)],
    )
    .await;
    let probe = lag_probe(&clients, EAST, "dtem-aurora-2", LagMetric::AuroraReplicaLag);
    assert_eq!(probe.observe().await, Outcome::Seconds(1.5));
}

#[tokio::test]
async fn no_datapoints_is_unknown_never_zero() {
    let moto = Moto::shared();
    let clients = moto.clients();
    // A datapoint older than the window does not count either.
    put_lag(&clients, WEST, "ReplicaLag", "lag-old", &[(3600, 5.0)]).await;
    let probe = lag_probe(&clients, WEST, "lag-old", LagMetric::ReplicaLag);
    assert_eq!(
        probe.observe().await,
        Outcome::CannotObserve {
            reason: ObserveError::NoDatapoints
        }
    );
    let nothing = lag_probe(&clients, WEST, "never-published", LagMetric::ReplicaLag);
    assert_eq!(
        *cannot_observe(&nothing.observe().await),
        ObserveError::NoDatapoints
    );
}

// ---- rds_snapshots -------------------------------------------------------------------------

fn snapshots_probe(
    clients: &AwsClients,
    region: &str,
    source: SnapshotSource,
) -> RdsSnapshotsProbe {
    RdsSnapshotsProbe::new(clients.clone(), source, region.into())
}

fn assert_fresh(outcome: Outcome, moto: &Moto) {
    match outcome {
        Outcome::Seconds(age) => assert!((-5.0..60.0).contains(&age), "age {age}"),
        other => panic!("{other:?}\n{}", moto.log_text()),
    }
}

#[tokio::test]
async fn an_instance_without_snapshots_is_down_then_a_manual_snapshot_is_zero_seconds_old() {
    let moto = Moto::shared();
    let clients = moto.clients();
    create_unbacked_instance(&clients, WEST, "dtem-unbacked").await;
    // moto takes an automated snapshot of every new instance, and (unlike AWS) lets us
    // delete it: an instance without any snapshot.
    let rds = clients.rds(WEST).await;
    let taken = rds
        .describe_db_snapshots()
        .db_instance_identifier("dtem-unbacked")
        .send()
        .await
        .expect("describe");
    for snap in taken.db_snapshots() {
        rds.delete_db_snapshot()
            .db_snapshot_identifier(snap.db_snapshot_identifier().expect("id"))
            .send()
            .await
            .expect("delete");
    }
    let probe = snapshots_probe(
        &clients,
        WEST,
        SnapshotSource::Instance("dtem-unbacked".into()),
    );
    assert_eq!(probe.describe(), "rds_snapshots dtem-unbacked (us-west-2)");
    assert_eq!(
        probe.observe().await,
        Outcome::Down {
            detail: "no available snapshot of dtem-unbacked".into()
        }
    );
    clients
        .rds(WEST)
        .await
        .create_db_snapshot()
        .db_instance_identifier("dtem-unbacked")
        .db_snapshot_identifier("dtem-unbacked-manual-1")
        .send()
        .await
        .expect("snapshot");
    assert_fresh(probe.observe().await, moto);
}

#[tokio::test]
async fn automated_snapshots_count_too() {
    let moto = Moto::shared();
    let clients = moto.clients();
    // moto takes an automated snapshot when an instance with backups is created.
    create_instance(&clients, EAST, "dtem-automated").await;
    let automated = clients
        .rds(EAST)
        .await
        .describe_db_snapshots()
        .db_instance_identifier("dtem-automated")
        .snapshot_type("automated")
        .send()
        .await
        .expect("describe");
    assert!(
        !automated.db_snapshots().is_empty(),
        "moto took no automated snapshot"
    );
    let probe = snapshots_probe(
        &clients,
        EAST,
        SnapshotSource::Instance("dtem-automated".into()),
    );
    assert_fresh(probe.observe().await, moto);
}

#[tokio::test]
async fn an_unknown_instance_has_no_snapshot() {
    let moto = Moto::shared();
    let probe = snapshots_probe(
        &moto.clients(),
        WEST,
        SnapshotSource::Instance("never-backed-up".into()),
    );
    assert_eq!(
        probe.observe().await,
        Outcome::Down {
            detail: "no available snapshot of never-backed-up".into()
        }
    );
}

#[tokio::test]
async fn a_cluster_snapshot_is_about_zero_seconds_old_and_no_cluster_snapshot_is_down() {
    let moto = Moto::shared();
    let clients = moto.clients();
    let rds = clients.rds(EAST).await;
    rds.create_db_cluster()
        .db_cluster_identifier("dtem-aurora")
        .engine("aurora-postgresql")
        .master_username("dtem")
        .master_user_password("not-a-secret-1")
        .send()
        .await
        .expect("create cluster");
    let probe = snapshots_probe(
        &clients,
        EAST,
        SnapshotSource::Cluster("dtem-aurora".into()),
    );
    assert_eq!(
        probe.describe(),
        "rds_snapshots cluster dtem-aurora (us-east-1)"
    );
    let before = probe.observe().await;
    // moto may or may not take an automated cluster snapshot: either way it is fresh.
    if !matches!(before, Outcome::Down { .. }) {
        assert_fresh(before, moto);
    }
    rds.create_db_cluster_snapshot()
        .db_cluster_identifier("dtem-aurora")
        .db_cluster_snapshot_identifier("dtem-aurora-manual-1")
        .send()
        .await
        .expect("cluster snapshot");
    assert_fresh(probe.observe().await, moto);

    let none = snapshots_probe(
        &clients,
        EAST,
        SnapshotSource::Cluster("no-such-cluster".into()),
    );
    assert_eq!(
        none.observe().await,
        Outcome::Down {
            detail: "no available snapshot of cluster no-such-cluster".into()
        }
    );
}

/// moto answers DescribeDBSnapshots in one page, whatever MaxRecords says: the paging is
/// shown against a small server that answers the real API's shape in two pages (the only
/// stand-in in this file), the newest snapshot on the second.
#[tokio::test]
async fn every_page_of_snapshots_is_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let now = jiff::Timestamp::now();
    let page = |marker: Option<&str>, id: &str, ago: i64| {
        let taken = now - jiff::SignedDuration::from_secs(ago);
        let marker = marker
            .map(|m| format!("<Marker>{m}</Marker>"))
            .unwrap_or_default();
        format!(
            "<DescribeDBSnapshotsResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\
             <DescribeDBSnapshotsResult>{marker}<DBSnapshots><DBSnapshot>\
             <DBSnapshotIdentifier>{id}</DBSnapshotIdentifier>\
             <DBInstanceIdentifier>dtem-postgres</DBInstanceIdentifier>\
             <Status>available</Status><SnapshotType>automated</SnapshotType>\
             <SnapshotCreateTime>{}</SnapshotCreateTime>\
             </DBSnapshot></DBSnapshots></DescribeDBSnapshotsResult>\
             <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>\
             </DescribeDBSnapshotsResponse>",
            taken.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
    };
    let first = page(Some("page-2"), "old", 86_400);
    let second = page(None, "newest", 120);
    let server = tokio::spawn(async move {
        let mut asked = Vec::new();
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return asked;
            };
            // One request per connection is enough: answer and close.
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let n = conn.read(&mut chunk).await.expect("read");
                if n == 0 {
                    break String::new();
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break text[end + 4..end + 4 + len].to_string();
                    }
                }
            };
            let answer = if body.contains("Marker=page-2") {
                &second
            } else {
                &first
            };
            asked.push(body);
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{answer}",
                answer.len()
            );
            conn.write_all(response.as_bytes()).await.expect("write");
            if asked.len() == 2 {
                return asked;
            }
        }
    });
    let probe = snapshots_probe(
        &crate::support::moto::clients_at(&url),
        WEST,
        SnapshotSource::Instance("dtem-postgres".into()),
    );
    match probe.observe().await {
        Outcome::Seconds(age) => assert!((119.0..180.0).contains(&age), "age {age}"),
        other => panic!("{other:?}"),
    }
    let asked = server.await.expect("server");
    assert!(asked[0].contains("Action=DescribeDBSnapshots"), "{asked:?}");
    assert!(
        asked[0].contains("DBInstanceIdentifier=dtem-postgres"),
        "{asked:?}"
    );
    assert!(asked[1].contains("Marker=page-2"), "{asked:?}");
}

// ---- cannot observe ------------------------------------------------------------------------

#[tokio::test]
async fn a_control_plane_that_does_not_answer_is_unreachable_never_down() {
    let endpoint = crate::support::moto::closed_endpoint();
    let clients = crate::support::moto::clients_at(&endpoint);
    let probes: Vec<Box<dyn Probe>> = vec![
        Box::new(rds_probe(&clients, EAST, "dtem-postgres")),
        Box::new(lag_probe(
            &clients,
            WEST,
            "dtem-postgres-dr",
            LagMetric::ReplicaLag,
        )),
        Box::new(RdsSnapshotsProbe::new(
            clients.clone(),
            SnapshotSource::Instance("dtem-postgres".into()),
            WEST.into(),
        )),
    ];
    for probe in &probes {
        let outcome = probe.observe().await;
        match cannot_observe(&outcome) {
            ObserveError::Unreachable(text) => assert!(!text.is_empty()),
            other => panic!("{}: {other:?}", probe.describe()),
        }
    }
}

// ---- credentials and permissions, with moto's IAM authentication on ----------------------

/// An IAM user with an access key and no policy, made while moto's authentication is still
/// off: moto_server started with `INITIAL_NO_AUTH_ACTION_COUNT=2` lets exactly these two
/// requests through unauthenticated, and authenticates every request after them.
async fn observer_key(moto: &Moto) -> (String, String) {
    let http = reqwest::Client::new();
    let mut answers = Vec::new();
    for body in [
        "Action=CreateUser&UserName=observer&Version=2010-05-08",
        "Action=CreateAccessKey&UserName=observer&Version=2010-05-08",
    ] {
        let answer = http
            .post(format!("{}/", moto.url()))
            .header("Content-Type", "application/x-www-form-urlencoded")
            // moto routes by the credential scope; while authentication is off it checks
            // no signature.
            .header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, \
                 SignedHeaders=host, Signature=0",
            )
            .body(body)
            .send()
            .await
            .expect("IAM request");
        let status = answer.status();
        let text = answer.text().await.expect("IAM answer");
        assert!(status.is_success(), "{body}: {status}: {text}");
        answers.push(text);
    }
    let tag = |text: &str, name: &str| -> String {
        let open = format!("<{name}>");
        let start = text.find(&open).map(|i| i + open.len());
        let end = text.find(&format!("</{name}>"));
        match (start, end) {
            (Some(s), Some(e)) => text[s..e].to_string(),
            _ => panic!("no {name} in {text}"),
        }
    };
    (
        tag(&answers[1], "AccessKeyId"),
        tag(&answers[1], "SecretAccessKey"),
    )
}

fn clients_with_key(moto: &Moto, key: &str, secret: &str) -> AwsClients {
    AwsClients::new(Some(moto.url())).with_credentials(aws_sdk_rds::config::Credentials::new(
        key, secret, None, None, "test",
    ))
}

fn all_probes(clients: &AwsClients) -> Vec<Box<dyn Probe>> {
    vec![
        Box::new(rds_probe(clients, EAST, "dtem-postgres")),
        Box::new(lag_probe(
            clients,
            WEST,
            "dtem-postgres-dr",
            LagMetric::ReplicaLag,
        )),
        Box::new(snapshots_probe(
            clients,
            WEST,
            SnapshotSource::Instance("dtem-postgres".into()),
        )),
        Box::new(snapshots_probe(
            clients,
            WEST,
            SnapshotSource::Cluster("dtem-aurora".into()),
        )),
    ]
}

#[tokio::test]
async fn refused_credentials_and_permissions_are_cannot_observe_never_down() {
    let moto = Moto::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "2")]);
    let (key, secret) = observer_key(&moto).await;

    // A key moto's IAM does not know.
    for probe in all_probes(&clients_with_key(&moto, "AKIAWARROOMUNKNOWN01", "whatever")) {
        match cannot_observe(&probe.observe().await) {
            ObserveError::Credentials(text) => {
                assert!(text.starts_with("InvalidClientTokenId: "), "{text}")
            }
            other => panic!("{}: {other:?}\n{}", probe.describe(), moto.log_text()),
        }
    }
    // A known key signed with the wrong secret.
    for probe in all_probes(&clients_with_key(&moto, &key, "not-the-secret")) {
        match cannot_observe(&probe.observe().await) {
            ObserveError::Credentials(text) => {
                assert!(text.starts_with("SignatureDoesNotMatch: "), "{text}");
                assert!(!text.contains("not-the-secret"), "{text}");
            }
            other => panic!("{}: {other:?}", probe.describe()),
        }
    }
    // The right key and secret of a user with no policy.
    for probe in all_probes(&clients_with_key(&moto, &key, &secret)) {
        match cannot_observe(&probe.observe().await) {
            ObserveError::AccessDenied(text) => {
                assert!(text.starts_with("AccessDenied: "), "{text}");
                assert!(text.contains("is not authorized to perform"), "{text}");
                assert!(!text.contains(&secret), "{text}");
            }
            other => panic!("{}: {other:?}", probe.describe()),
        }
    }
}

// ---- the SDK's default chain, in a child process with an environment of its own ----------
//
// The default chain reads the process environment (credentials, AWS_ENDPOINT_URL), which a
// test must not change under the other threads: these run this test binary again, one
// `child_*` test at a time, with a cleared environment, a HOME without ~/.aws, and no
// instance metadata.

const CHILD: &str = "WARROOM_AWS_CHILD";
const CHILD_ENDPOINT: &str = "WARROOM_AWS_CHILD_ENDPOINT";

fn run_child(test: &str, env: &[(&str, &str)]) {
    let home = tempfile::tempdir().expect("home");
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            // libtest names a test by its module path in this binary.
            &format!("aws::{test}"),
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join("no-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join("no-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(CHILD, "1")
        .envs(env.iter().copied())
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child {test} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

/// The endpoint the parent gave a child, or None when not run as a child.
fn child_endpoint() -> Option<String> {
    std::env::var_os(CHILD)?;
    Some(std::env::var(CHILD_ENDPOINT).expect("the parent sets the endpoint"))
}

#[test]
fn no_credentials_in_the_default_chain_is_credentials() {
    run_child(
        "child_no_credentials_in_the_default_chain",
        &[(CHILD_ENDPOINT, &crate::support::moto::closed_endpoint())],
    );
}

#[tokio::test]
#[ignore = "a child of no_credentials_in_the_default_chain_is_credentials, run with its environment"]
async fn child_no_credentials_in_the_default_chain() {
    let Some(endpoint) = child_endpoint() else {
        return;
    };
    let clients = AwsClients::new(Some(endpoint));
    for probe in [
        Box::new(rds_probe(&clients, EAST, "dtem-postgres")) as Box<dyn Probe>,
        Box::new(lag_probe(
            &clients,
            WEST,
            "dtem-postgres-dr",
            LagMetric::ReplicaLag,
        )),
    ] {
        let outcome = probe.observe().await;
        match cannot_observe(&outcome) {
            ObserveError::Credentials(text) => {
                assert!(text.starts_with("no credentials found in chain"), "{text}");
                assert!(!text.contains('\n'), "{text}");
            }
            other => panic!("{}: {other:?}", probe.describe()),
        }
    }
}

#[tokio::test]
async fn the_sdk_honours_aws_endpoint_url_and_the_config_endpoint_wins_over_it() {
    let moto = Moto::shared();
    create_instance(&moto.clients(), EAST, "dtem-env-endpoint").await;
    let moto_url = moto.url();
    let closed = crate::support::moto::closed_endpoint();
    // No [aws] endpoint_url: the SDK sends to AWS_ENDPOINT_URL, with the credentials of
    // the environment.
    run_child(
        "child_endpoint_from_the_environment",
        &[
            ("AWS_ENDPOINT_URL", &moto_url),
            ("AWS_ACCESS_KEY_ID", crate::support::moto::ACCESS_KEY_ID),
            (
                "AWS_SECRET_ACCESS_KEY",
                crate::support::moto::SECRET_ACCESS_KEY,
            ),
            (CHILD_ENDPOINT, ""),
        ],
    );
    // [aws] endpoint_url set: it wins over AWS_ENDPOINT_URL (which goes nowhere here).
    run_child(
        "child_endpoint_from_the_environment",
        &[
            ("AWS_ENDPOINT_URL", &closed),
            ("AWS_ACCESS_KEY_ID", crate::support::moto::ACCESS_KEY_ID),
            (
                "AWS_SECRET_ACCESS_KEY",
                crate::support::moto::SECRET_ACCESS_KEY,
            ),
            (CHILD_ENDPOINT, &moto_url),
        ],
    );
}

#[tokio::test]
#[ignore = "a child of the_sdk_honours_aws_endpoint_url_and_…, run with its environment"]
async fn child_endpoint_from_the_environment() {
    let Some(endpoint) = child_endpoint() else {
        return;
    };
    let endpoint = Some(endpoint).filter(|e| !e.is_empty());
    let clients = AwsClients::new(endpoint);
    match rds_probe(&clients, EAST, "dtem-env-endpoint")
        .observe()
        .await
    {
        Outcome::Up { detail, .. } => assert_eq!(detail, "available"),
        other => panic!("{other:?}"),
    }
}
