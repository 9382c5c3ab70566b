//! The Kubernetes runbook executors (`k8s_rollout_restart`, `k8s_scale`,
//! `k8s_wait_available`) through [`RealExecutor`], with a real `kube::Client` against the
//! in-process API server of `support/k8s.rs`, which records every request with its body.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::k8s::{DeploymentJson, FakeApi};
use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::mpsc;
use warroom::cloud;
use warroom::cloud::kubernetes::KubeClients;
use warroom::config::{Action, Step};
use warroom::runbook::{Executor, ExecutorOptions, RealExecutor, StepOutcome, StepProgress};

const NS: &str = "dtem-prod";
const NAME: &str = "api-gateway";
const PATH: &str = "/apis/apps/v1/namespaces/dtem-prod/deployments/api-gateway";

fn executor(api: &FakeApi) -> RealExecutor {
    let clients = cloud::Clients {
        // No AWS here: an endpoint nobody listens on.
        aws: warroom::cloud::aws::AwsClients::new(Some("http://127.0.0.1:9".into())),
        kube: KubeClients::from_config(api.config()),
    };
    RealExecutor::new(clients).with_options(ExecutorOptions {
        wait_poll: Duration::from_millis(50),
        // The fake API has no controller: a rollout completes only when a test says so.
        rollout_within: Duration::from_secs(1),
        ..ExecutorOptions::default()
    })
}

fn step(action: Action) -> Step {
    Step {
        id: "k8s".into(),
        title: "k8s".into(),
        key: '1',
        confirm: action.target_name(),
        action,
        requires: Vec::new(),
        precheck: Vec::new(),
        verify: None,
        inputs: Vec::new(),
        component: None,
    }
}

async fn run(api: &FakeApi, action: Action) -> (StepOutcome, Vec<StepProgress>) {
    let executor = executor(api);
    let step = step(action);
    let inputs = BTreeMap::new();
    let (tx, mut rx) = mpsc::channel(64);
    let outcome = executor.run(&step, &inputs, None, tx).await;
    let mut progress = Vec::new();
    while let Some(p) = rx.recv().await {
        progress.push(p);
    }
    (outcome, progress)
}

fn restart() -> Action {
    Action::K8sRolloutRestart {
        namespace: NS.into(),
        deployment: NAME.into(),
        context: None,
    }
}

fn scale(replicas: u32) -> Action {
    Action::K8sScale {
        namespace: NS.into(),
        deployment: NAME.into(),
        context: None,
        replicas,
    }
}

/// Until the fake API has answered `n` GETs (within 10 s).
async fn polled(api: &FakeApi, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while api.requests().iter().filter(|r| r.method == "GET").count() < n {
        assert!(std::time::Instant::now() < deadline, "never polled");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn wait(timeout: Duration) -> Action {
    Action::K8sWaitAvailable {
        namespace: NS.into(),
        deployment: NAME.into(),
        context: None,
        timeout,
    }
}

fn reason(outcome: &StepOutcome) -> &str {
    match outcome {
        StepOutcome::Failed { reason } => reason,
        other => panic!("expected Failed, got {other:?}"),
    }
}

fn summary(outcome: &StepOutcome) -> &str {
    match outcome {
        StepOutcome::Succeeded { summary } | StepOutcome::Checked { summary, .. } => summary,
        other => panic!("expected Succeeded, got {other:?}"),
    }
}

fn patches(api: &FakeApi) -> Vec<crate::support::k8s::Request> {
    api.requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect()
}

#[tokio::test]
async fn rollout_restart_sets_kubectls_restarted_at_with_a_strategic_merge_patch() {
    let api = FakeApi::start().await;
    api.put_deployment(DeploymentJson::healthy(NS, NAME, 3).to_json());
    let before = Timestamp::now();
    let (outcome, progress) = run(&api, restart()).await;
    let after = Timestamp::now();

    let patches = patches(&api);
    assert_eq!(patches.len(), 1, "{:?}", api.requests());
    let patch = &patches[0];
    assert_eq!(patch.path, PATH);
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/strategic-merge-patch+json")
    );
    assert!(
        patch
            .query
            .as_deref()
            .is_some_and(|q| q.contains("fieldManager=warroom")),
        "{patch:?}"
    );
    let body: Value = serde_json::from_str(&patch.body).expect("a JSON body");
    let annotations = &body["spec"]["template"]["metadata"]["annotations"];
    let at = annotations["kubectl.kubernetes.io/restartedAt"]
        .as_str()
        .unwrap_or_else(|| panic!("no kubectl restartedAt in {body}"));
    // RFC 3339, to the second, UTC, between before and after.
    assert_eq!(at.len(), "2025-11-25T13:14:15Z".len(), "{at}");
    assert!(at.ends_with('Z'), "{at}");
    let at: Timestamp = at.parse().expect("RFC 3339");
    assert!(
        at.as_second() >= before.as_second() && at <= after,
        "{at} not in [{before}, {after}]"
    );
    // Only the annotation, and not kube-rs's own.
    assert_eq!(annotations.as_object().map(|m| m.len()), Some(1), "{body}");
    assert_eq!(body.as_object().map(|m| m.len()), Some(1), "{body}");
    assert!(!patch.body.contains("kube.kubernetes.io/restartedAt"));

    // The GET (paused?) came first.
    assert_eq!(api.requests()[0].method, "GET");
    // The server now has it, and a new generation.
    let object = api.object(PATH).expect("deployment");
    assert_eq!(
        object["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
        Value::String(at.to_string())
    );
    assert_eq!(object["metadata"]["generation"], 2);

    let summary = summary(&outcome);
    assert!(
        summary.starts_with(&format!(
            "rollout restart of dtem-prod/api-gateway requested: kubectl.kubernetes.io/restartedAt={at}"
        )),
        "{summary}"
    );
    assert!(summary.ends_with("(generation 2)"), "{summary}");
    assert!(
        progress.iter().any(|p| matches!(p,
            StepProgress::Status(s) if s.starts_with("PATCH deployments/api-gateway in dtem-prod (strategic merge)"))),
        "{progress:?}"
    );
}

#[tokio::test]
async fn a_paused_deployment_is_not_restarted() {
    let api = FakeApi::start().await;
    let mut d = DeploymentJson::healthy(NS, NAME, 3).to_json();
    d["spec"]["paused"] = Value::Bool(true);
    api.put_deployment(d);
    let (outcome, _) = run(&api, restart()).await;
    assert!(
        reason(&outcome).starts_with("deployment dtem-prod/api-gateway is paused"),
        "{outcome:?}"
    );
    assert!(patches(&api).is_empty());
}

#[tokio::test]
async fn scale_patches_the_scale_subresource_with_the_replicas() {
    let api = FakeApi::start().await;
    api.put_deployment(DeploymentJson::healthy(NS, NAME, 2).to_json());
    let (outcome, _) = run(&api, scale(6)).await;

    let patches = patches(&api);
    assert_eq!(patches.len(), 1, "{:?}", api.requests());
    let patch = &patches[0];
    assert_eq!(patch.path, format!("{PATH}/scale"));
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    let body: Value = serde_json::from_str(&patch.body).expect("a JSON body");
    assert_eq!(body, serde_json::json!({"spec": {"replicas": 6}}));
    assert_eq!(api.object(PATH).expect("deployment")["spec"]["replicas"], 6);
    assert_eq!(
        summary(&outcome),
        "dtem-prod/api-gateway scaled from 2 to 6 replicas (2 running now)"
    );
}

#[tokio::test]
async fn scale_to_zero_is_sent_as_zero() {
    let api = FakeApi::start().await;
    api.put_deployment(DeploymentJson::healthy(NS, NAME, 2).to_json());
    let (outcome, _) = run(&api, scale(0)).await;
    let body: Value = serde_json::from_str(&patches(&api)[0].body).expect("JSON");
    assert_eq!(body["spec"]["replicas"], 0);
    assert!(summary(&outcome).contains("to 0 replicas"), "{outcome:?}");
}

#[tokio::test]
async fn a_forbidden_patch_fails_naming_the_verb_and_resource() {
    let api = FakeApi::start().await;
    api.put_deployment(DeploymentJson::healthy(NS, NAME, 3).to_json());
    api.forbid_verb(NS, "patch");

    let (outcome, _) = run(&api, restart()).await;
    let why = reason(&outcome);
    assert!(
        why.starts_with("PATCH deployments/api-gateway in dtem-prod: access denied: "),
        "{why}"
    );
    assert!(
        why.contains("cannot patch resource \"deployments\" in API group \"apps\""),
        "{why}"
    );

    let (outcome, _) = run(&api, scale(4)).await;
    let why = reason(&outcome);
    assert!(
        why.starts_with("PATCH deployments/api-gateway/scale in dtem-prod: access denied: "),
        "{why}"
    );
    assert!(
        why.contains("cannot patch resource \"deployments/scale\""),
        "{why}"
    );
    // Nothing changed.
    assert_eq!(api.object(PATH).expect("deployment")["spec"]["replicas"], 3);
}

#[tokio::test]
async fn a_missing_deployment_fails_naming_it() {
    let api = FakeApi::start().await;
    let (outcome, _) = run(&api, restart()).await;
    assert_eq!(
        reason(&outcome),
        "GET deployments/api-gateway in dtem-prod: deployment api-gateway not found in namespace dtem-prod"
    );
    let (outcome, _) = run(&api, scale(2)).await;
    assert_eq!(
        reason(&outcome),
        "GET deployments/api-gateway/scale in dtem-prod: deployment api-gateway not found in namespace dtem-prod"
    );
    assert!(patches(&api).is_empty());
}

#[tokio::test]
async fn wait_available_succeeds_once_the_deployment_becomes_available() {
    let api = FakeApi::start().await;
    // Rolling out: 1 of 3 available.
    let mut rolling = DeploymentJson::healthy(NS, NAME, 3);
    rolling.available = Some(1);
    rolling.updated = Some(1);
    let rolling = rolling.condition(
        "Available",
        "False",
        "MinimumReplicasUnavailable",
        "Deployment does not have minimum availability.",
    );
    api.put_deployment(rolling.to_json());
    let run = run(&api, wait(Duration::from_secs(20)));
    // Flipped once the wait has seen the rollout (its second poll means the first was
    // answered and read), not after a guessed delay.
    let flip = async {
        polled(&api, 2).await;
        api.put_deployment(DeploymentJson::healthy(NS, NAME, 3).to_json());
    };
    let ((outcome, progress), ()) = tokio::join!(run, flip);
    let summary = summary(&outcome);
    assert!(
        summary.starts_with("dtem-prod/api-gateway available: 3/3 available, Available=True"),
        "{summary}"
    );
    assert!(
        progress.iter().any(|p| matches!(p,
            StepProgress::Status(s) if s == "dtem-prod/api-gateway: last seen rolling out: 1/3 updated, 1/3 available")),
        "{progress:?}"
    );
    let gets = api.requests().iter().filter(|r| r.method == "GET").count();
    assert!(gets >= 2, "polled {gets} times");
}

#[tokio::test]
async fn wait_available_times_out_naming_what_it_saw_last() {
    let api = FakeApi::start().await;
    let mut partial = DeploymentJson::healthy(NS, NAME, 5);
    partial.available = Some(2);
    api.put_deployment(partial.to_json());
    let started = std::time::Instant::now();
    let (outcome, _) = run(&api, wait(Duration::from_millis(600))).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        reason(&outcome),
        "dtem-prod/api-gateway not available after 600ms: last seen 2/5 available"
    );
}

#[tokio::test]
async fn wait_available_keeps_looking_for_a_missing_deployment_but_not_through_a_403() {
    let api = FakeApi::start().await;
    let (outcome, _) = run(&api, wait(Duration::from_millis(300))).await;
    assert_eq!(
        reason(&outcome),
        "dtem-prod/api-gateway not available after 300ms: last seen deployment api-gateway not found in namespace dtem-prod"
    );
    assert!(api.requests().len() >= 2);

    let api = FakeApi::start().await;
    api.put_deployment(DeploymentJson::healthy(NS, NAME, 3).to_json());
    api.forbid(NS);
    let started = std::time::Instant::now();
    let (outcome, _) = run(&api, wait(Duration::from_secs(30))).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a 403 ends the wait at once"
    );
    let why = reason(&outcome);
    assert!(
        why.starts_with("GET deployments/api-gateway in dtem-prod: access denied: ")
            && why.contains("cannot get resource \"deployments\""),
        "{why}"
    );
}

#[tokio::test]
async fn wait_available_through_an_api_that_stopped_answering_says_both() {
    let api = FakeApi::start().await;
    let mut partial = DeploymentJson::healthy(NS, NAME, 4);
    partial.available = Some(3);
    api.put_deployment(partial.to_json());
    let run = run(&api, wait(Duration::from_secs(3)));
    // The API stops answering once the wait has seen the deployment, whatever the runner's
    // speed.
    let fail = async {
        polled(&api, 2).await;
        api.fail_all(503, "etcdserver: leader changed");
    };
    let ((outcome, _), ()) = tokio::join!(run, fail);
    assert_eq!(
        reason(&outcome),
        "dtem-prod/api-gateway not available after 3s: last seen 3/4 available, then \
         unreachable: kubernetes API answered 503: etcdserver: leader changed"
    );
}

/// A restart is done when the rollout of the generation it produced is complete, read with
/// its own GETs: first the new generation is not observed (no controller yet), then the
/// "controller" catches up and the step is verified; a scale nobody rolls out is not.
#[tokio::test]
async fn a_restart_is_verified_once_its_generation_has_rolled_out_and_a_stuck_scale_is_not() {
    let api = FakeApi::start().await;
    api.put_deployment(DeploymentJson::healthy(NS, NAME, 3).to_json());
    let patient = RealExecutor::new(cloud::Clients {
        aws: warroom::cloud::aws::AwsClients::new(Some("http://127.0.0.1:9".into())),
        kube: KubeClients::from_config(api.config()),
    })
    .with_options(ExecutorOptions {
        wait_poll: Duration::from_millis(50),
        rollout_within: Duration::from_secs(20),
        ..ExecutorOptions::default()
    });
    let step = step(restart());
    let inputs = BTreeMap::new();
    let (tx, mut rx) = mpsc::channel(256);
    let restarting = patient.run(&step, &inputs, None, tx);
    // Once the step has read the Deployment after its PATCH (its third GET), the rollout
    // completes: generation 2 observed, every replica updated and available.
    let controller = async {
        polled(&api, 3).await;
        let mut done = DeploymentJson::healthy(NS, NAME, 3);
        done.generation = 2;
        done.observed_generation = 2;
        api.put_deployment(done.to_json());
    };
    let (outcome, ()) = tokio::join!(restarting, controller);
    let mut said = Vec::new();
    while let Ok(p) = rx.try_recv() {
        said.push(p);
    }
    match &outcome {
        StepOutcome::Checked { held, evidence, .. } => {
            assert!(*held, "{evidence}");
            assert!(
                evidence.starts_with("dtem-prod/api-gateway rolled out (generation 2): 3/3"),
                "{evidence}"
            );
        }
        other => panic!("expected Checked, got {other:?}"),
    }
    assert!(
        said.iter().any(|p| matches!(p, StepProgress::Status(s)
            if s.contains("waiting for the rollout: generation 2 not yet observed (at 1)"))),
        "{said:?}"
    );

    // A scale the controller never rolls out: not verified, saying what it saw.
    let (outcome, _) = run(&api, scale(5)).await;
    match &outcome {
        StepOutcome::Checked { held, evidence, .. } => {
            assert!(!held, "{evidence}");
            assert!(
                evidence.starts_with("dtem-prod/api-gateway rollout not complete within 1s: last seen generation 3 not yet observed (at 2)"),
                "{evidence}"
            );
        }
        other => panic!("expected Checked, got {other:?}"),
    }
}

#[tokio::test]
async fn wait_available_fails_at_once_on_a_progress_deadline_like_kubectl() {
    let api = FakeApi::start().await;
    let mut stuck = DeploymentJson::healthy(NS, NAME, 5);
    stuck.available = Some(2);
    stuck.updated = Some(2);
    let stuck = stuck.condition(
        "Progressing",
        "False",
        "ProgressDeadlineExceeded",
        "ReplicaSet \"api-gateway-5d8f\" has timed out progressing.",
    );
    api.put_deployment(stuck.to_json());
    let (outcome, _) = run(&api, wait(Duration::from_secs(20))).await;
    assert_eq!(
        reason(&outcome),
        "dtem-prod/api-gateway exceeded its progress deadline (ProgressDeadlineExceeded): ReplicaSet \"api-gateway-5d8f\" has timed out progressing."
    );
    // Within one poll: kubectl does not wait out a rollout the controller gave up on.
    let gets = api.requests().iter().filter(|r| r.method == "GET").count();
    assert_eq!(gets, 1, "{:?}", api.requests());

    // The same condition on a generation the controller has not observed yet is from
    // before: it is not read, the wait goes on (here until its short timeout).
    let mut unobserved = stuck.clone();
    unobserved.generation = 2;
    api.put_deployment(unobserved.to_json());
    let (outcome, _) = run(&api, wait(Duration::from_millis(400))).await;
    assert!(
        reason(&outcome).contains("not available after 400ms"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_restart_whose_rollout_exceeds_its_deadline_is_not_verified_at_once() {
    let api = FakeApi::start().await;
    api.put_deployment(DeploymentJson::healthy(NS, NAME, 3).to_json());
    let run = run(&api, restart());
    // The controller, once it observed the restart's generation, gives up on it.
    let controller = async {
        polled(&api, 2).await;
        let mut stuck = DeploymentJson::healthy(NS, NAME, 3);
        stuck.generation = 2;
        stuck.observed_generation = 2;
        stuck.updated = Some(1);
        let stuck = stuck.condition(
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            "ReplicaSet \"api-gateway-6f\" has timed out progressing.",
        );
        api.put_deployment(stuck.to_json());
    };
    let ((outcome, _), ()) = tokio::join!(run, controller);
    match &outcome {
        StepOutcome::Checked {
            held: false,
            evidence,
            ..
        } => assert_eq!(
            evidence,
            "dtem-prod/api-gateway rollout failed: exceeded its progress deadline (ProgressDeadlineExceeded): ReplicaSet \"api-gateway-6f\" has timed out progressing."
        ),
        other => panic!("expected a rollout not held, got {other:?}"),
    }
}
