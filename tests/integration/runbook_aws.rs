//! The RDS runbook executors through [`RealExecutor`] against a real moto_server on loopback
//! (see `support/moto.rs`; install it with `.ci/moto.sh`): promote a read replica, restore a
//! snapshot (named, and the newest of an instance), restore to a point in time, fail a
//! cluster over; what a bad restore time and a control plane that does not answer do.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::moto::{Moto, create_instance, create_replica};
use jiff::{Timestamp, ToSpan};
use tokio::sync::mpsc;
use warroom::cloud;
use warroom::cloud::aws::AwsClients;
use warroom::config::{Action, Input, InputKind, Placement, SnapshotChoice, Step};
use warroom::runbook::{
    Executor, Postcondition, PostconditionReading, RealExecutor, StepOutcome, StepProgress,
};

const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";

/// The postcondition read after the call: held, and what was read.
fn checked(outcome: &StepOutcome) -> (bool, String) {
    match outcome {
        StepOutcome::Checked { held, evidence, .. } => (*held, evidence.clone()),
        other => panic!("expected Checked, got {other:?}"),
    }
}

/// The executor, reading a step's postcondition every 100 ms for 2 s (not 15 s for 30 min).
fn executor(clients: &AwsClients) -> RealExecutor {
    let quick = clients
        .clone()
        .with_postcondition(Duration::from_millis(100), Duration::from_secs(2));
    RealExecutor::new(cloud::Clients {
        aws: quick,
        kube: warroom::cloud::kubernetes::KubeClients::new(),
    })
}

fn step(action: Action, inputs: Vec<Input>) -> Step {
    Step {
        id: "rds".into(),
        title: "rds".into(),
        key: '1',
        confirm: action.target_name(),
        action,
        requires: Vec::new(),
        precheck: Vec::new(),
        verify: None,
        inputs,
        component: None,
    }
}

async fn run_step(
    clients: &AwsClients,
    step: &Step,
    inputs: &[(&str, &str)],
) -> (StepOutcome, Vec<StepProgress>) {
    let inputs: BTreeMap<String, String> = inputs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (tx, mut rx) = mpsc::channel(64);
    let outcome = executor(clients).run(step, &inputs, None, tx).await;
    let mut progress = Vec::new();
    while let Some(p) = rx.recv().await {
        progress.push(p);
    }
    (outcome, progress)
}

async fn run(clients: &AwsClients, action: Action) -> (StepOutcome, Vec<StepProgress>) {
    run_step(clients, &step(action, Vec::new()), &[]).await
}

/// As the modal sends a restore confirmed with `override defaults: <reason>` (moto has no
/// VPC to name a subnet group in).
async fn run_on_defaults(clients: &AwsClients, action: Action) -> (StepOutcome, Vec<StepProgress>) {
    let reason = "moto has no VPCs";
    run_step(
        clients,
        &step(action, Vec::new()),
        &[(warroom::app::modal::OVERRIDE_DEFAULTS_INPUT, reason)],
    )
    .await
}

/// A configured network (the recorded control planes do not check it exists).
fn network() -> Placement {
    Placement {
        subnet_group: Some("dtem-dr-db".into()),
        security_groups: Some(vec!["sg-0a1b2c3d".into(), "sg-4e5f6a7b".into()]),
        ..Placement::default()
    }
}

fn summary(outcome: &StepOutcome, moto: &Moto) -> String {
    match outcome {
        StepOutcome::Succeeded { summary } | StepOutcome::Checked { summary, .. } => {
            summary.clone()
        }
        other => panic!("expected Succeeded, got {other:?}\n{}", moto.log_text()),
    }
}

fn reason(outcome: &StepOutcome) -> &str {
    match outcome {
        StepOutcome::Failed { reason } => reason,
        other => panic!("expected Failed, got {other:?}"),
    }
}

fn statuses(progress: &[StepProgress]) -> Vec<&str> {
    progress
        .iter()
        .filter_map(|p| match p {
            StepProgress::Status(s) => Some(s.as_str()),
            StepProgress::Output(_)
            | StepProgress::Running { .. }
            | StepProgress::Logged { .. }
            | StepProgress::Skipped(_)
            | StepProgress::Accepted(_) => None,
        })
        .collect()
}

async fn create_snapshot(clients: &AwsClients, region: &str, instance: &str, id: &str) {
    clients
        .rds(region)
        .await
        .create_db_snapshot()
        .db_instance_identifier(instance)
        .db_snapshot_identifier(id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("snapshot {id}: {e:?}"));
}

/// The instance as moto describes it, or None when it does not exist.
async fn describe(
    clients: &AwsClients,
    region: &str,
    id: &str,
) -> Option<aws_sdk_rds::types::DbInstance> {
    match clients
        .rds(region)
        .await
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
    {
        Ok(out) => out.db_instances().first().cloned(),
        Err(_) => None,
    }
}

// ---- rds_promote_read_replica --------------------------------------------------------------

#[tokio::test]
async fn promote_makes_the_replica_a_standalone_primary() {
    let moto = Moto::shared();
    let clients = moto.clients();
    create_instance(&clients, WEST, "rb-promote-primary").await;
    create_replica(&clients, WEST, "rb-promote-dr", "rb-promote-primary").await;
    let before = describe(&clients, WEST, "rb-promote-dr")
        .await
        .expect("replica");
    assert_eq!(
        before.read_replica_source_db_instance_identifier(),
        Some("rb-promote-primary")
    );

    let (outcome, progress) = run(
        &clients,
        Action::RdsPromoteReadReplica {
            instance: "rb-promote-dr".into(),
            region: WEST.into(),
        },
    )
    .await;
    let summary = summary(&outcome, moto);
    assert!(
        summary.starts_with("PromoteReadReplica accepted: rb-promote-dr is "),
        "{summary}"
    );
    let said = statuses(&progress);
    assert_eq!(
        said[0],
        "PromoteReadReplica DBInstanceIdentifier=rb-promote-dr (us-west-2)"
    );
    // Then the postcondition, read with DescribeDBInstances until its deadline. moto keeps
    // answering the old replication source after a promotion (AWS does not), so on moto it
    // never holds: only the calls are asserted here; the holding path is the recorded-answer
    // test below.
    assert!(said.len() > 2, "read more than once: {said:?}");
    assert!(
        said[1..].iter().all(|s| s.starts_with(
            "waiting for rb-promote-dr available with no replication source: rb-promote-dr "
        )),
        "{said:?}"
    );
    let (held, evidence) = checked(&outcome);
    assert!(!held);
    assert!(
        evidence.starts_with("not available with no replication source within 2s: last seen rb-promote-dr available, replica of rb-promote-primary"),
        "{evidence}"
    );
    // moto 5.2.5 marks the instance as no longer a replica but keeps answering its old
    // ReadReplicaSourceDBInstanceIdentifier; what shows the promotion is what only a
    // standalone instance may do: be stopped (moto refuses to stop a replica, as AWS does).
    let stop = |id: &'static str| {
        let clients = clients.clone();
        async move {
            clients
                .rds(WEST)
                .await
                .stop_db_instance()
                .db_instance_identifier(id)
                .send()
                .await
        }
    };
    create_replica(&clients, WEST, "rb-promote-other", "rb-promote-primary").await;
    assert!(
        stop("rb-promote-other").await.is_err(),
        "moto stops a replica: this test no longer proves anything"
    );
    let stopped = stop("rb-promote-dr").await;
    assert!(stopped.is_ok(), "still a replica: {stopped:?}");
}

#[tokio::test]
async fn a_failing_control_plane_fails_the_step_and_says_it_may_have_applied_it() {
    // moto 5.2.5 answers a bare HTTP 500 to PromoteReadReplica of an unknown instance (AWS
    // answers DBInstanceNotFound): a 5xx, after which nobody knows what AWS did.
    let moto = Moto::shared();
    let clients = moto.clients();
    let (outcome, _) = run(
        &clients,
        Action::RdsPromoteReadReplica {
            instance: "rb-no-such-instance".into(),
            region: WEST.into(),
        },
    )
    .await;
    let why = reason(&outcome);
    assert!(
        why.starts_with("PromoteReadReplica: unreachable: "),
        "{why}"
    );
    assert!(why.contains("AWS may or may not have applied it"), "{why}");
}

// ---- rds_restore_snapshot ------------------------------------------------------------------

#[tokio::test]
async fn restore_a_named_snapshot_with_the_instance_class() {
    let moto = Moto::shared();
    let clients = moto.clients();
    create_instance(&clients, EAST, "rb-named-src").await;
    create_snapshot(&clients, EAST, "rb-named-src", "rb-named-snap").await;

    let (outcome, progress) = run_on_defaults(
        &clients,
        Action::RdsRestoreSnapshot {
            snapshot: SnapshotChoice::Named("rb-named-snap".into()),
            target: "rb-named-restored".into(),
            instance_class: Some("db.r6g.large".into()),
            region: EAST.into(),
            placement: Default::default(),
        },
    )
    .await;
    let summary = summary(&outcome, moto);
    assert_eq!(
        checked(&outcome),
        (
            true,
            "rb-named-restored available at rb-named-restored.aaaaaaaaaa.us-east-1.rds.amazonaws.com:5432"
                .to_string()
        ),
        "the restore read back available"
    );
    assert!(
        summary.starts_with("RestoreDBInstanceFromDBSnapshot accepted: rb-named-restored is "),
        "{summary}"
    );
    assert!(summary.contains("(db.r6g.large)"), "{summary}");
    assert!(
        summary.ends_with("from snapshot rb-named-snap"),
        "{summary}"
    );
    assert_eq!(
        statuses(&progress),
        [
            "RestoreDBInstanceFromDBSnapshot DBInstanceIdentifier=rb-named-restored \
             DBSnapshotIdentifier=rb-named-snap DBInstanceClass=db.r6g.large (us-east-1)"
        ]
    );
    let restored = describe(&clients, EAST, "rb-named-restored")
        .await
        .expect("the restored instance exists");
    assert_eq!(restored.db_instance_identifier(), Some("rb-named-restored"));
    assert_eq!(restored.db_instance_class(), Some("db.r6g.large"));
}

#[tokio::test]
async fn restore_the_newest_snapshot_of_an_instance() {
    let moto = Moto::shared();
    let clients = moto.clients();
    create_instance(&clients, EAST, "rb-latest-src").await;
    create_snapshot(&clients, EAST, "rb-latest-src", "rb-latest-old").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    create_snapshot(&clients, EAST, "rb-latest-src", "rb-latest-new").await;
    // Another instance's newer snapshot is not a candidate.
    create_instance(&clients, EAST, "rb-latest-other").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    create_snapshot(&clients, EAST, "rb-latest-other", "rb-latest-other-snap").await;

    let (outcome, progress) = run(
        &clients,
        Action::RdsRestoreSnapshot {
            snapshot: SnapshotChoice::LatestOf("rb-latest-src".into()),
            target: "rb-latest-restored".into(),
            instance_class: None,
            region: EAST.into(),
            placement: Default::default(),
        },
    )
    .await;
    let summary = summary(&outcome, moto);
    assert!(
        summary.contains("from snapshot rb-latest-new (newest of rb-latest-src, taken "),
        "{summary}"
    );
    let statuses = statuses(&progress);
    assert_eq!(
        statuses,
        [
            "DescribeDBSnapshots DBInstanceIdentifier=rb-latest-src (us-east-1)",
            "DescribeDBInstances DBInstanceIdentifier=rb-latest-src (us-east-1): settings to copy",
            "RestoreDBInstanceFromDBSnapshot DBInstanceIdentifier=rb-latest-restored \
             DBSnapshotIdentifier=rb-latest-new (us-east-1)",
        ]
    );
    let restored = describe(&clients, EAST, "rb-latest-restored")
        .await
        .expect("the restored instance exists");
    // No class asked: the snapshot's instance's.
    assert_eq!(restored.db_instance_class(), Some("db.t3.micro"));
}

#[tokio::test]
async fn no_snapshot_to_restore_fails_and_restores_nothing() {
    let moto = Moto::shared();
    let clients = moto.clients();
    let (outcome, _) = run(
        &clients,
        Action::RdsRestoreSnapshot {
            snapshot: SnapshotChoice::LatestOf("rb-never-existed".into()),
            target: "rb-nothing-restored".into(),
            instance_class: None,
            region: EAST.into(),
            placement: Default::default(),
        },
    )
    .await;
    assert!(
        reason(&outcome).starts_with("no available snapshot of rb-never-existed in us-east-1"),
        "{outcome:?}"
    );
    assert!(
        describe(&clients, EAST, "rb-nothing-restored")
            .await
            .is_none()
    );

    let (outcome, _) = run_on_defaults(
        &clients,
        Action::RdsRestoreSnapshot {
            snapshot: SnapshotChoice::Named("rb-no-such-snap".into()),
            target: "rb-nothing-restored".into(),
            instance_class: None,
            region: EAST.into(),
            placement: Default::default(),
        },
    )
    .await;
    let why = reason(&outcome);
    assert!(
        why.starts_with("RestoreDBInstanceFromDBSnapshot: DBSnapshotNotFound"),
        "{why}"
    );
    assert!(
        describe(&clients, EAST, "rb-nothing-restored")
            .await
            .is_none()
    );
}

// ---- rds_restore_point_in_time -------------------------------------------------------------

fn pitr(source: &str, target: &str) -> Step {
    step(
        Action::RdsRestorePointInTime {
            source: source.into(),
            target: target.into(),
            region: EAST.into(),
            placement: Default::default(),
        },
        vec![Input {
            name: "restore_to".into(),
            kind: InputKind::Rfc3339,
            prompt: None,
        }],
    )
}

#[tokio::test]
async fn restore_to_the_typed_point_in_time() {
    let moto = Moto::shared();
    let clients = moto.clients();
    create_instance(&clients, EAST, "rb-pitr-src").await;
    let at = Timestamp::now() - 5.minutes();
    let at = Timestamp::from_second(at.as_second()).expect("a time");
    let typed = at.to_string();

    let (outcome, progress) = run_step(
        &clients,
        &pitr("rb-pitr-src", "rb-pitr-target"),
        &[("restore_to", &typed)],
    )
    .await;
    let summary = summary(&outcome, moto);
    assert!(
        summary.starts_with("RestoreDBInstanceToPointInTime accepted: rb-pitr-target is "),
        "{summary}"
    );
    assert!(
        summary.ends_with(&format!("from rb-pitr-src as of {typed}")),
        "{summary}"
    );
    assert_eq!(
        statuses(&progress),
        [
            "DescribeDBInstances DBInstanceIdentifier=rb-pitr-src (us-east-1): settings to copy"
                .to_string(),
            format!(
                "RestoreDBInstanceToPointInTime SourceDBInstanceIdentifier=rb-pitr-src \
                 TargetDBInstanceIdentifier=rb-pitr-target RestoreTime={typed} (us-east-1)"
            )
        ]
    );
    let target = describe(&clients, EAST, "rb-pitr-target")
        .await
        .expect("the target instance exists");
    assert_eq!(target.db_instance_identifier(), Some("rb-pitr-target"));
}

/// A loopback endpoint that counts the connections made to it (and answers none).
fn counting_endpoint() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (url, count)
}

#[tokio::test]
async fn a_bad_or_future_restore_time_fails_without_any_call() {
    let (url, connections) = counting_endpoint();
    let clients = crate::support::moto::clients_at(&url);
    let step = pitr("rb-pitr-src", "rb-pitr-never");
    let future = (Timestamp::now() + 1.hour()).to_string();
    for (typed, expect) in [
        (
            "2024-01-15 14:30",
            "restore time \"2024-01-15 14:30\" is not an RFC 3339 time",
        ),
        (
            "2024-01-15T14:30:00",
            "restore time \"2024-01-15T14:30:00\" is not an RFC 3339 time (no offset",
        ),
        (
            "yesterday",
            "restore time \"yesterday\" is not an RFC 3339 time",
        ),
        (future.as_str(), "restore time "),
    ] {
        let (outcome, progress) = run_step(&clients, &step, &[("restore_to", typed)]).await;
        let why = reason(&outcome);
        assert!(why.starts_with(expect), "{typed}: {why}");
        assert!(why.ends_with("nothing restored"), "{why}");
        assert!(progress.is_empty(), "{progress:?}");
    }
    let (outcome, _) = run_step(&clients, &step, &[]).await;
    assert_eq!(
        reason(&outcome),
        "no restore time was given (input `restore_to`): nothing restored"
    );
    // Give a stray connection time to show up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(connections.load(Ordering::SeqCst), 0, "a call was made");

    // And against moto: no instance appeared.
    let moto = Moto::shared();
    let clients = moto.clients();
    create_instance(&clients, EAST, "rb-pitr-bad-src").await;
    let step = pitr("rb-pitr-bad-src", "rb-pitr-bad-target");
    let (outcome, _) = run_step(&clients, &step, &[("restore_to", "15/01/2024")]).await;
    reason(&outcome);
    assert!(
        describe(&clients, EAST, "rb-pitr-bad-target")
            .await
            .is_none()
    );
}

// ---- rds_failover_cluster ------------------------------------------------------------------

async fn create_cluster(clients: &AwsClients, region: &str, id: &str, members: &[&str]) {
    let rds = clients.rds(region).await;
    rds.create_db_cluster()
        .db_cluster_identifier(id)
        .engine("aurora-postgresql")
        .master_username("dtem")
        .master_user_password("not-a-secret-1")
        .send()
        .await
        .unwrap_or_else(|e| panic!("create cluster {id}: {e:?}"));
    for member in members {
        rds.create_db_instance()
            .db_instance_identifier(*member)
            .db_cluster_identifier(id)
            .engine("aurora-postgresql")
            .db_instance_class("db.r6g.large")
            .send()
            .await
            .unwrap_or_else(|e| panic!("create member {member}: {e:?}"));
    }
}

async fn writer(clients: &AwsClients, region: &str, cluster: &str) -> Option<String> {
    let out = clients
        .rds(region)
        .await
        .describe_db_clusters()
        .db_cluster_identifier(cluster)
        .send()
        .await
        .expect("describe cluster");
    out.db_clusters()
        .first()?
        .db_cluster_members()
        .iter()
        .find(|m| m.is_cluster_writer() == Some(true))
        .and_then(|m| m.db_instance_identifier())
        .map(str::to_string)
}

#[tokio::test]
async fn failover_moves_the_writer_to_the_target_instance() {
    let moto = Moto::shared();
    let clients = moto.clients();
    create_cluster(&clients, EAST, "rb-aurora", &["rb-aurora-1", "rb-aurora-2"]).await;
    assert_eq!(
        writer(&clients, EAST, "rb-aurora").await.as_deref(),
        Some("rb-aurora-1")
    );

    let (outcome, progress) = run(
        &clients,
        Action::RdsFailoverCluster {
            cluster: "rb-aurora".into(),
            target_instance: Some("rb-aurora-2".into()),
            region: EAST.into(),
        },
    )
    .await;
    let summary = summary(&outcome, moto);
    assert!(
        summary.starts_with("FailoverDBCluster accepted: cluster rb-aurora is "),
        "{summary}"
    );
    assert!(summary.ends_with(", writer rb-aurora-2"), "{summary}");
    // Done is read back with DescribeDBClusters: the target is the writer.
    let (held, evidence) = checked(&outcome);
    assert!(held, "{evidence}");
    assert!(
        evidence.starts_with("cluster rb-aurora ") && evidence.ends_with(", writer rb-aurora-2"),
        "{evidence}"
    );
    assert_eq!(
        statuses(&progress),
        [
            "FailoverDBCluster DBClusterIdentifier=rb-aurora TargetDBInstanceIdentifier=rb-aurora-2 (us-east-1)"
        ]
    );
    assert_eq!(
        writer(&clients, EAST, "rb-aurora").await.as_deref(),
        Some("rb-aurora-2")
    );
}

#[tokio::test]
async fn failover_without_a_target_picks_a_reader_and_of_a_lone_writer_fails() {
    let moto = Moto::shared();
    let clients = moto.clients();
    create_cluster(&clients, WEST, "rb-aurora-any", &["rb-any-1", "rb-any-2"]).await;
    let (outcome, _) = run(
        &clients,
        Action::RdsFailoverCluster {
            cluster: "rb-aurora-any".into(),
            target_instance: None,
            region: WEST.into(),
        },
    )
    .await;
    assert!(
        summary(&outcome, moto).ends_with(", writer rb-any-2"),
        "{outcome:?}"
    );

    create_cluster(&clients, WEST, "rb-aurora-lone", &["rb-lone-1"]).await;
    let (outcome, _) = run(
        &clients,
        Action::RdsFailoverCluster {
            cluster: "rb-aurora-lone".into(),
            target_instance: None,
            region: WEST.into(),
        },
    )
    .await;
    let why = reason(&outcome);
    assert!(
        why.starts_with("FailoverDBCluster: InvalidDBClusterStateFault"),
        "{why}"
    );
}

// ---- a control plane that does not answer --------------------------------------------------

/// A control plane on loopback that reads each request whole, records it, and answers with
/// `answer(request)` as RDS XML — or, for `None`, never answers (the connection stays open).
/// The requests, as text, in order.
async fn control_plane(
    answer: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let asked: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let (log, answer) = (asked.clone(), Arc::new(answer));
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let (log, answer) = (log.clone(), answer.clone());
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut buf = [0u8; 8192];
                // Headers, then a body of Content-Length bytes.
                loop {
                    let Ok(n) = conn.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    req.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&req).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if req.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&req).to_string();
                if let Ok(mut l) = log.lock() {
                    l.push(text.clone());
                }
                match answer(&text) {
                    Some(body) => {
                        // An error document comes with its status, as AWS sends it.
                        let status = if body.starts_with("<ErrorResponse") {
                            "404 Not Found"
                        } else {
                            "200 OK"
                        };
                        let reply = format!(
                            "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = conn.write_all(reply.as_bytes()).await;
                    }
                    // Taken, never answered: hold the connection until the client leaves.
                    None => while conn.read(&mut buf).await.is_ok_and(|n| n > 0) {},
                }
            });
        }
    });
    (format!("http://{addr}"), asked)
}

/// The `Action=` of a recorded query-protocol request.
fn action_of(request: &str) -> String {
    request
        .split(['&', '\n'])
        .find_map(|p| p.trim().strip_prefix("Action="))
        .unwrap_or("?")
        .to_string()
}

/// The real lost-answer path: the request reached a server that took it and never said
/// whether it did anything. Not "unreachable": it may have been applied.
#[tokio::test]
async fn a_request_taken_and_never_answered_times_out_saying_it_may_have_been_applied() {
    let (endpoint, got) = control_plane(|_| None).await;
    let clients =
        crate::support::moto::clients_at(&endpoint).with_call_timeout(Duration::from_secs(2));
    let (outcome, _) = run(
        &clients,
        Action::RdsPromoteReadReplica {
            instance: "rb-anything".into(),
            region: EAST.into(),
        },
    )
    .await;
    let why = reason(&outcome);
    let sent = got.lock().expect("lock").concat();
    assert!(
        sent.contains("Action=PromoteReadReplica") && sent.contains("rb-anything"),
        "the request reached the server: {sent}"
    );
    assert!(why.starts_with("PromoteReadReplica: "), "{why}");
    assert!(why.contains("timed out"), "{why}");
    assert!(
        why.ends_with(
            "AWS may or may not have applied it: look at the target before running the step again"
        ),
        "{why}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_unreachable_and_names_the_doubt() {
    let clients = crate::support::moto::clients_at(&crate::support::moto::closed_endpoint());
    let (outcome, _) = run(
        &clients,
        Action::RdsPromoteReadReplica {
            instance: "rb-anything".into(),
            region: EAST.into(),
        },
    )
    .await;
    let why = reason(&outcome);
    assert!(
        why.starts_with("PromoteReadReplica: unreachable: "),
        "{why}"
    );
    assert!(
        why.ends_with(
            "AWS may or may not have applied it: look at the target before running the step again"
        ),
        "{why}"
    );
}

/// A control plane answering from recordings: PromoteReadReplica accepted, then
/// DescribeDBInstances says the instance is still a modifying replica, then a standalone
/// available primary. What it was asked, in order.
async fn recorded_rds(instance: &'static str) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let describes = AtomicUsize::new(0);
    let ns = "http://rds.amazonaws.com/doc/2014-10-31/";
    control_plane(move |request| {
        Some(match action_of(request).as_str() {
            "PromoteReadReplica" => format!(
                "<PromoteReadReplicaResponse xmlns=\"{ns}\"><PromoteReadReplicaResult><DBInstance><DBInstanceIdentifier>{instance}</DBInstanceIdentifier><DBInstanceStatus>modifying</DBInstanceStatus><ReadReplicaSourceDBInstanceIdentifier>primary</ReadReplicaSourceDBInstanceIdentifier></DBInstance></PromoteReadReplicaResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></PromoteReadReplicaResponse>"
            ),
            _ => {
                let instance_xml = if describes.fetch_add(1, Ordering::SeqCst) == 0 {
                    format!("<DBInstanceIdentifier>{instance}</DBInstanceIdentifier><DBInstanceStatus>modifying</DBInstanceStatus><ReadReplicaSourceDBInstanceIdentifier>primary</ReadReplicaSourceDBInstanceIdentifier>")
                } else {
                    format!("<DBInstanceIdentifier>{instance}</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus>")
                };
                format!(
                    "<DescribeDBInstancesResponse xmlns=\"{ns}\"><DescribeDBInstancesResult><DBInstances><DBInstance>{instance_xml}</DBInstance></DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></DescribeDBInstancesResponse>"
                )
            }
        })
    })
    .await
}

/// Accepted is not done: the promotion is done once DescribeDBInstances shows the instance
/// available with no replication source (recorded answers: first still a modifying replica).
#[tokio::test]
async fn a_promotion_is_verified_by_reading_the_instance_standalone_and_available() {
    let (endpoint, asked) = recorded_rds("dr").await;
    let clients = crate::support::moto::clients_at(&endpoint);
    let (outcome, progress) = run(
        &clients,
        Action::RdsPromoteReadReplica {
            instance: "dr".into(),
            region: EAST.into(),
        },
    )
    .await;
    let (held, evidence) = checked(&outcome);
    assert!(held, "{evidence}");
    assert_eq!(evidence, "dr available, no replication source");
    let actions: Vec<String> = asked
        .lock()
        .expect("lock")
        .iter()
        .map(|r| action_of(r))
        .collect();
    assert_eq!(
        actions,
        [
            "PromoteReadReplica",
            "DescribeDBInstances",
            "DescribeDBInstances"
        ]
    );
    assert!(
        statuses(&progress).contains(
            &"waiting for dr available with no replication source: dr modifying, replica of primary"
        ),
        "{progress:?}"
    );
}

/// A control plane answering from recordings: RestoreDBInstanceFromDBSnapshot accepted, then
/// DescribeDBInstances answers with the status `status()` gives at that moment (`None`: the
/// instance is not found). What it was asked, in order.
async fn recorded_restore(
    instance: &'static str,
    status: impl Fn() -> Option<&'static str> + Send + Sync + 'static,
) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let ns = "http://rds.amazonaws.com/doc/2014-10-31/";
    control_plane(move |request| {
        Some(match action_of(request).as_str() {
            "RestoreDBInstanceFromDBSnapshot" => format!(
                "<RestoreDBInstanceFromDBSnapshotResponse xmlns=\"{ns}\"><RestoreDBInstanceFromDBSnapshotResult><DBInstance><DBInstanceIdentifier>{instance}</DBInstanceIdentifier><DBInstanceStatus>creating</DBInstanceStatus></DBInstance></RestoreDBInstanceFromDBSnapshotResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></RestoreDBInstanceFromDBSnapshotResponse>"
            ),
            _ => match status() {
                Some(state) => format!(
                    "<DescribeDBInstancesResponse xmlns=\"{ns}\"><DescribeDBInstancesResult><DBInstances><DBInstance><DBInstanceIdentifier>{instance}</DBInstanceIdentifier><DBInstanceStatus>{state}</DBInstanceStatus></DBInstance></DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></DescribeDBInstancesResponse>"
                ),
                None => format!(
                    "<ErrorResponse xmlns=\"{ns}\"><Error><Type>Sender</Type><Code>DBInstanceNotFound</Code><Message>DBInstance {instance} not found.</Message></Error><RequestId>r3</RequestId></ErrorResponse>"
                ),
            },
        })
    })
    .await
}

/// A restore still being created when the step stops waiting ends "still creating (status
/// X)" — not failed, not verified — naming what any console can read later; that read (one
/// DescribeDBInstances, no process of the step) settles it.
#[tokio::test]
async fn a_restore_still_creating_at_the_deadline_is_left_for_any_console_to_read() {
    let phase = Arc::new(AtomicUsize::new(0));
    let now = phase.clone();
    let (endpoint, asked) = recorded_restore("rb-slow", move || {
        Some(match now.load(Ordering::SeqCst) {
            0 => "creating",
            1 => "backing-up",
            2 => "available",
            _ => "incompatible-restore",
        })
    })
    .await;
    let clients = crate::support::moto::clients_at(&endpoint);
    let (outcome, progress) = run(
        &clients,
        Action::RdsRestoreSnapshot {
            snapshot: SnapshotChoice::Named("snap-1".into()),
            target: "rb-slow".into(),
            instance_class: None,
            region: EAST.into(),
            placement: network(),
        },
    )
    .await;
    let pending = Postcondition::RdsInstanceAvailable {
        region: EAST.into(),
        instance: "rb-slow".into(),
    };
    match &outcome {
        StepOutcome::StillCreating {
            summary,
            evidence,
            postcondition,
        } => {
            assert!(
                summary
                    .starts_with("RestoreDBInstanceFromDBSnapshot accepted: rb-slow is creating"),
                "{summary}"
            );
            assert_eq!(
                evidence,
                "still creating (status creating): rb-slow creating"
            );
            assert_eq!(postcondition, &pending);
        }
        other => panic!("expected StillCreating, got {other:?}"),
    }
    assert!(outcome.succeeded(), "accepted is not failed");
    assert!(
        progress.contains(&StepProgress::Accepted(pending.clone())),
        "said before waiting, so a console that ends meanwhile knows: {progress:?}"
    );

    // Later, from any console: one read each.
    let reader = executor(&clients);
    let before = asked.lock().expect("lock").len();
    phase.store(1, Ordering::SeqCst);
    assert_eq!(
        reader.read_postcondition(&pending).await,
        PostconditionReading::StillCreating(
            "still creating (status backing-up): rb-slow backing-up".into()
        )
    );
    phase.store(2, Ordering::SeqCst);
    assert_eq!(
        reader.read_postcondition(&pending).await,
        PostconditionReading::Held("rb-slow available".into())
    );
    phase.store(3, Ordering::SeqCst);
    assert_eq!(
        reader.read_postcondition(&pending).await,
        PostconditionReading::NotHeld("rb-slow incompatible-restore".into()),
        "a dead end is an answer: it will not become available by waiting"
    );
    let reads: Vec<String> = asked.lock().expect("lock")[before..]
        .iter()
        .map(|r| action_of(r))
        .collect();
    assert_eq!(reads, ["DescribeDBInstances"; 3]);
}

/// A restored instance that is gone, or a control plane that cannot be reached: gone is
/// NOT verified; unreachable is no answer (read again later), never a verdict.
#[tokio::test]
async fn a_pending_restore_gone_is_not_held_and_an_unreachable_one_is_read_again() {
    let (endpoint, _) = recorded_restore("rb-gone", || None).await;
    let pending = Postcondition::RdsInstanceAvailable {
        region: EAST.into(),
        instance: "rb-gone".into(),
    };
    let reading = executor(&crate::support::moto::clients_at(&endpoint))
        .read_postcondition(&pending)
        .await;
    assert_eq!(
        reading,
        PostconditionReading::NotHeld("rb-gone: DBInstanceNotFound".into())
    );
    let reading = executor(&crate::support::moto::clients_at(
        &crate::support::moto::closed_endpoint(),
    ))
    .read_postcondition(&pending)
    .await;
    assert!(
        matches!(&reading, PostconditionReading::CannotRead(why) if why.starts_with("DescribeDBInstances: unreachable")),
        "{reading:?}"
    );
}

// ---- where a restore lands -------------------------------------------------------------------

/// A control plane whose source instance `dtem-postgres` lives in a VPC subnet group with two
/// security groups, a parameter group, Multi-AZ, deletion protection and tags; a restore is
/// accepted and the new instance is available at once. Records every request.
async fn control_plane_with_source() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let ns = "http://rds.amazonaws.com/doc/2014-10-31/";
    control_plane(move |request| {
        let action = action_of(request);
        Some(match action.as_str() {
            "RestoreDBInstanceFromDBSnapshot" | "RestoreDBInstanceToPointInTime" => format!(
                "<{action}Response xmlns=\"{ns}\"><{action}Result><DBInstance><DBInstanceIdentifier>dtem-restored</DBInstanceIdentifier><DBInstanceStatus>creating</DBInstanceStatus></DBInstance></{action}Result><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></{action}Response>"
            ),
            "DescribeDBSnapshots" => format!(
                "<DescribeDBSnapshotsResponse xmlns=\"{ns}\"><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot><DBSnapshotIdentifier>rds:dtem-postgres-2026-12-06</DBSnapshotIdentifier><DBInstanceIdentifier>dtem-postgres</DBInstanceIdentifier><Status>available</Status><SnapshotCreateTime>2026-12-06T03:00:00Z</SnapshotCreateTime></DBSnapshot></DBSnapshots></DescribeDBSnapshotsResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></DescribeDBSnapshotsResponse>"
            ),
            _ if request.contains("DBInstanceIdentifier=gone-source") => format!(
                "<ErrorResponse xmlns=\"{ns}\"><Error><Type>Sender</Type><Code>DBInstanceNotFound</Code><Message>DBInstance gone-source not found.</Message></Error><RequestId>r5</RequestId></ErrorResponse>"
            ),
            _ if request.contains("DBInstanceIdentifier=dtem-postgres&")
                || request.ends_with("DBInstanceIdentifier=dtem-postgres") =>
            {
                format!(
                    "<DescribeDBInstancesResponse xmlns=\"{ns}\"><DescribeDBInstancesResult><DBInstances><DBInstance><DBInstanceIdentifier>dtem-postgres</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus><MultiAZ>true</MultiAZ><DeletionProtection>true</DeletionProtection><PubliclyAccessible>false</PubliclyAccessible><StorageType>gp3</StorageType><Iops>12000</Iops><Endpoint><Address>dtem-postgres.c1.us-west-2.rds.amazonaws.com</Address><Port>5432</Port></Endpoint><DBSubnetGroup><DBSubnetGroupName>dtem-db-private</DBSubnetGroupName></DBSubnetGroup><VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-0aaa</VpcSecurityGroupId><Status>active</Status></VpcSecurityGroupMembership><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-0bbb</VpcSecurityGroupId><Status>active</Status></VpcSecurityGroupMembership></VpcSecurityGroups><DBParameterGroups><DBParameterGroup><DBParameterGroupName>dtem-pg15</DBParameterGroupName></DBParameterGroup></DBParameterGroups><OptionGroupMemberships><OptionGroupMembership><OptionGroupName>default:postgres-15</OptionGroupName></OptionGroupMembership></OptionGroupMemberships><TagList><Tag><Key>team</Key><Value>dtem</Value></Tag></TagList></DBInstance></DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>r3</RequestId></ResponseMetadata></DescribeDBInstancesResponse>"
                )
            }
            _ => format!(
                "<DescribeDBInstancesResponse xmlns=\"{ns}\"><DescribeDBInstancesResult><DBInstances><DBInstance><DBInstanceIdentifier>dtem-restored</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus><Endpoint><Address>dtem-restored.c1.us-west-2.rds.amazonaws.com</Address><Port>5432</Port></Endpoint></DBInstance></DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>r4</RequestId></ResponseMetadata></DescribeDBInstancesResponse>"
            ),
        })
    })
    .await
}

/// The one request of this action, its form parameters.
fn sent(asked: &Arc<std::sync::Mutex<Vec<String>>>, action: &str) -> BTreeMap<String, String> {
    let asked = asked.lock().expect("log").clone();
    let requests: Vec<&String> = asked.iter().filter(|r| action_of(r) == action).collect();
    assert_eq!(requests.len(), 1, "one {action}: {asked:?}");
    let body = requests[0].split("\r\n\r\n").nth(1).unwrap_or_default();
    body.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace("%3A", ":")))
        .collect()
}

#[tokio::test]
async fn a_restore_copies_its_network_from_the_source_and_is_never_public_by_omission() {
    let (endpoint, asked) = control_plane_with_source().await;
    let clients = crate::support::moto::clients_at(&endpoint);
    let (outcome, progress) = run(
        &clients,
        Action::RdsRestoreSnapshot {
            snapshot: SnapshotChoice::LatestOf("dtem-postgres".into()),
            target: "dtem-restored".into(),
            instance_class: None,
            region: WEST.into(),
            placement: Placement {
                // Configured wins over the source's.
                multi_az: Some(false),
                ..Placement::default()
            },
        },
    )
    .await;
    let request = sent(&asked, "RestoreDBInstanceFromDBSnapshot");
    let param = |k: &str| request.get(k).map(String::as_str);
    assert_eq!(param("DBSubnetGroupName"), Some("dtem-db-private"));
    assert_eq!(
        param("VpcSecurityGroupIds.VpcSecurityGroupId.1"),
        Some("sg-0aaa")
    );
    assert_eq!(
        param("VpcSecurityGroupIds.VpcSecurityGroupId.2"),
        Some("sg-0bbb")
    );
    assert_eq!(param("DBParameterGroupName"), Some("dtem-pg15"));
    // The engine's default option group is AWS's own pick: not sent.
    assert_eq!(param("OptionGroupName"), None);
    assert_eq!(param("MultiAZ"), Some("false"));
    assert_eq!(param("DeletionProtection"), Some("true"));
    assert_eq!(param("PubliclyAccessible"), Some("false"));
    assert_eq!(param("Port"), Some("5432"));
    assert_eq!(param("StorageType"), Some("gp3"));
    assert_eq!(param("Iops"), Some("12000"));
    assert_eq!(param("Tags.Tag.1.Key"), Some("team"));
    assert!(
        progress.iter().any(|p| matches!(p, StepProgress::Output(o)
            if o.starts_with("copied from dtem-postgres (us-west-2): subnet group dtem-db-private, security groups sg-0aaa sg-0bbb"))),
        "{progress:?}"
    );
    // Waited until available, and says where the apps reach it.
    assert_eq!(
        checked(&outcome),
        (
            true,
            "dtem-restored available at dtem-restored.c1.us-west-2.rds.amazonaws.com:5432".into()
        )
    );
}

#[tokio::test]
async fn a_configured_placement_is_sent_whole_without_asking_the_source() {
    let (endpoint, asked) = control_plane_with_source().await;
    let clients = crate::support::moto::clients_at(&endpoint);
    let placement = Placement {
        parameter_group: Some("dtem-pg15-dr".into()),
        option_group: Some("dtem-opts".into()),
        multi_az: Some(true),
        deletion_protection: Some(true),
        publicly_accessible: Some(false),
        port: Some(5433),
        tags: BTreeMap::from([("restored-by".to_string(), "warroom".to_string())]),
        storage_type: Some("io2".into()),
        iops: Some(20000),
        ..network()
    };
    let time = (Timestamp::now() - 1.hour()).to_string();
    let (outcome, _) = run_step(
        &clients,
        &pitr_with("dtem-postgres", "dtem-restored", placement),
        &[("restore_to", &time)],
    )
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let request = sent(&asked, "RestoreDBInstanceToPointInTime");
    for (k, v) in [
        ("DBSubnetGroupName", "dtem-dr-db"),
        ("VpcSecurityGroupIds.VpcSecurityGroupId.1", "sg-0a1b2c3d"),
        ("VpcSecurityGroupIds.VpcSecurityGroupId.2", "sg-4e5f6a7b"),
        ("DBParameterGroupName", "dtem-pg15-dr"),
        ("OptionGroupName", "dtem-opts"),
        ("MultiAZ", "true"),
        ("DeletionProtection", "true"),
        ("PubliclyAccessible", "false"),
        ("Port", "5433"),
        ("StorageType", "io2"),
        ("Iops", "20000"),
        ("Tags.Tag.1.Key", "restored-by"),
        ("Tags.Tag.1.Value", "warroom"),
    ] {
        assert_eq!(
            request.get(k).map(String::as_str),
            Some(v),
            "{k}: {request:?}"
        );
    }
    // Everything was configured: the source was not asked.
    let asked = asked.lock().expect("log").clone();
    assert!(
        !asked.iter().any(|r| action_of(r) == "DescribeDBInstances"
            && r.contains("DBInstanceIdentifier=dtem-postgres&")),
        "{asked:?}"
    );
}

#[tokio::test]
async fn a_source_that_cannot_be_asked_stops_the_restore_unless_defaults_are_accepted() {
    // In a region outage the source's region does not answer: nothing is restored.
    let clients = crate::support::moto::clients_at(&crate::support::moto::closed_endpoint());
    let time = (Timestamp::now() - 1.hour()).to_string();
    let step = pitr_with("dtem-postgres", "dtem-restored", Placement::default());
    let (outcome, _) = run_step(&clients, &step, &[("restore_to", &time)]).await;
    let why = reason(&outcome);
    assert!(
        why.starts_with(
            "no subnet group or security groups: none configured and DescribeDBInstances"
        ) && why.contains("nothing restored"),
        "{why}"
    );
    // A source that is not found: the same, and no restore is sent.
    let (endpoint, asked) = control_plane_with_source().await;
    let refusing = crate::support::moto::clients_at(&endpoint);
    let step = pitr_with("gone-source", "dtem-restored", Placement::default());
    let (outcome, _) = run_step(&refusing, &step, &[("restore_to", &time)]).await;
    assert!(
        reason(&outcome).contains("DBInstanceNotFound"),
        "{outcome:?}"
    );
    assert!(
        !asked
            .lock()
            .expect("log")
            .iter()
            .any(|r| action_of(r) == "RestoreDBInstanceToPointInTime")
    );
    // With `override defaults: <reason>` it goes on, on AWS's defaults, and says so.
    let (outcome, progress) = run_step(
        &refusing,
        &step,
        &[
            ("restore_to", &time),
            (
                warroom::app::modal::OVERRIDE_DEFAULTS_INPUT,
                "the apps follow later",
            ),
        ],
    )
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let request = sent(&asked, "RestoreDBInstanceToPointInTime");
    assert_eq!(request.get("DBSubnetGroupName"), None);
    assert_eq!(
        request.get("PubliclyAccessible").map(String::as_str),
        Some("false")
    );
    assert!(
        progress.iter().any(|p| matches!(p, StepProgress::Output(o)
            if o.contains("AWS defaults (default VPC, default security group) — override defaults: the apps follow later"))),
        "{progress:?}"
    );
}

fn pitr_with(source: &str, target: &str, placement: Placement) -> Step {
    let mut step = pitr(source, target);
    if let Action::RdsRestorePointInTime { placement: p, .. } = &mut step.action {
        *p = placement;
    }
    step
}

/// A recording proxy in front of `target` (moto): every request is read whole, recorded and
/// forwarded; moto's answer goes back as it came. What was asked, as text, in order.
async fn recording_proxy(target: String) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let asked: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let log = asked.clone();
    let http = reqwest::Client::new();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let (log, http, target) = (log.clone(), http.clone(), target.clone());
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut buf = [0u8; 8192];
                let (head, body) = loop {
                    let Ok(n) = conn.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    req.extend_from_slice(&buf[..n]);
                    let Some(end) = req.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&req[..end]).to_string();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if req.len() >= end + 4 + len {
                        break (head, req[end + 4..end + 4 + len].to_vec());
                    }
                };
                if let Ok(mut l) = log.lock() {
                    l.push(format!("{head}\r\n\r\n{}", String::from_utf8_lossy(&body)));
                }
                let mut lines = head.lines();
                let first = lines.next().unwrap_or_default();
                let mut parts = first.split_whitespace();
                let (method, path) = (
                    parts.next().unwrap_or("POST").to_string(),
                    parts.next().unwrap_or("/").to_string(),
                );
                let mut forward = http.request(
                    reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::POST),
                    format!("{target}{path}"),
                );
                for line in lines {
                    if let Some((k, v)) = line.split_once(':') {
                        let k = k.trim();
                        if !k.eq_ignore_ascii_case("host")
                            && !k.eq_ignore_ascii_case("content-length")
                        {
                            forward = forward.header(k, v.trim());
                        }
                    }
                }
                let Ok(answer) = forward.body(body).send().await else {
                    return;
                };
                let status = answer.status();
                let kind = answer
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("text/xml")
                    .to_string();
                let bytes = answer.bytes().await.unwrap_or_default();
                let head = format!(
                    "HTTP/1.1 {} {}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or(""),
                    bytes.len()
                );
                let _ = conn.write_all(head.as_bytes()).await;
                let _ = conn.write_all(&bytes).await;
            });
        }
    });
    (format!("http://{addr}"), asked)
}

/// Against moto, through the recorder: the restore's request carries what was copied from
/// the source moto describes (moto would copy a subnet group into the instance by itself,
/// so the instance proves nothing: the request does), never public by omission; the wait
/// reads the new instance available at its endpoint.
#[tokio::test]
async fn through_moto_the_restore_request_carries_what_the_source_has() {
    let moto = Moto::shared();
    let direct = moto.clients();
    create_instance(&direct, EAST, "rb-land-src").await;
    create_snapshot(&direct, EAST, "rb-land-src", "rb-land-snap").await;
    let source = describe(&direct, EAST, "rb-land-src")
        .await
        .expect("the source exists");
    let (endpoint, asked) = recording_proxy(moto.url()).await;
    let clients = crate::support::moto::clients_at(&endpoint);
    let (outcome, progress) = run(
        &clients,
        Action::RdsRestoreSnapshot {
            snapshot: SnapshotChoice::LatestOf("rb-land-src".into()),
            target: "rb-land-restored".into(),
            instance_class: None,
            region: EAST.into(),
            placement: Placement::default(),
        },
    )
    .await;
    let request = sent(&asked, "RestoreDBInstanceFromDBSnapshot");
    let param = |k: &str| request.get(k).map(String::as_str);
    assert_eq!(param("PubliclyAccessible"), Some("false"));
    // moto's source answers these; each is sent as it answered.
    let port = source
        .endpoint()
        .and_then(|e| e.port())
        .expect("moto gives the source a port");
    assert_eq!(
        param("Port"),
        Some(port.to_string().as_str()),
        "{request:?}"
    );
    let multi_az = source.multi_az().expect("moto says whether it is Multi-AZ");
    assert_eq!(param("MultiAZ"), Some(multi_az.to_string().as_str()));
    let storage = source.storage_type().expect("moto says its storage type");
    assert_eq!(param("StorageType"), Some(storage));
    let group = source.vpc_security_groups()[0]
        .vpc_security_group_id()
        .expect("moto gives it a security group");
    assert_eq!(
        param("VpcSecurityGroupIds.VpcSecurityGroupId.1"),
        Some(group)
    );
    // moto's instance has no subnet group: none is sent (what the source lacks, it lacks).
    assert_eq!(
        param("DBSubnetGroupName"),
        source
            .db_subnet_group()
            .and_then(|g| g.db_subnet_group_name())
    );
    assert!(
        statuses(&progress).contains(
            &"DescribeDBInstances DBInstanceIdentifier=rb-land-src (us-east-1): settings to copy"
        ),
        "{progress:?}"
    );
    let (held, evidence) = checked(&outcome);
    assert!(held, "{evidence}");
    assert!(
        evidence.starts_with("rb-land-restored available at "),
        "{evidence}"
    );
}
