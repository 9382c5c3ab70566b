//! The `k8s_deployment` probe with a real `kube::Client` against an in-process API server
//! that answers the real paths with real Deployment and Status JSON.

use std::time::Duration;

use crate::support::k8s::{DeploymentJson, FakeApi};
use warroom::app::{ObserveError, Outcome};
use warroom::cloud::kubernetes::KubeClients;
use warroom::probe::Probe;
use warroom::probe::kubernetes::DeploymentProbe;

const DEPLOYMENT_PATH: &str = "/apis/apps/v1/namespaces/dtem-prod/deployments/api-gateway";

async fn observe(api: &FakeApi, d: &DeploymentJson) -> Outcome {
    api.put_deployment(d.to_json());
    probe(api, &d.namespace, &d.name).observe().await
}

fn probe(api: &FakeApi, namespace: &str, name: &str) -> DeploymentProbe {
    DeploymentProbe::new(
        KubeClients::from_config(api.config()),
        namespace,
        name,
        None,
    )
}

fn gateway(replicas: i32) -> DeploymentJson {
    DeploymentJson::healthy("dtem-prod", "api-gateway", replicas)
}

fn down(detail: &str) -> Outcome {
    Outcome::Down {
        detail: detail.into(),
    }
}

fn degraded(detail: &str) -> Outcome {
    Outcome::Degraded {
        detail: detail.into(),
    }
}

#[tokio::test]
async fn all_available_is_up_with_the_latency_of_the_get() {
    let api = FakeApi::start().await;
    let outcome = observe(&api, &gateway(5)).await;
    match outcome {
        Outcome::Up { latency, detail } => {
            assert_eq!(detail, "5/5 available");
            assert!(latency < Duration::from_secs(5), "{latency:?}");
        }
        other => panic!("expected Up, got {other:?}"),
    }
    let requests = api.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, DEPLOYMENT_PATH);
}

#[tokio::test]
async fn spec_replicas_defaults_to_one() {
    let api = FakeApi::start().await;
    let mut d = gateway(1);
    d.replicas = None;
    let outcome = observe(&api, &d).await;
    assert!(
        matches!(&outcome, Outcome::Up { detail, .. } if detail == "1/1 available"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn some_available_is_degraded() {
    let api = FakeApi::start().await;
    let mut d = gateway(5).condition(
        "Available",
        "True",
        "MinimumReplicasAvailable",
        "Deployment has minimum availability.",
    );
    d.available = Some(2);
    d.ready = Some(2);
    assert_eq!(observe(&api, &d).await, degraded("2/5 available"));
}

#[tokio::test]
async fn a_rollout_in_progress_is_degraded() {
    let api = FakeApi::start().await;
    // New ReplicaSet being scaled up: 3 of 5 updated, the old pods still serve.
    let mut d = gateway(5).condition(
        "Progressing",
        "True",
        "ReplicaSetUpdated",
        "ReplicaSet \"api-gateway-5c8f9d7b6\" is progressing.",
    );
    d.generation = 4;
    d.observed_generation = 4;
    d.updated = Some(3);
    d.total = Some(6);
    assert_eq!(
        observe(&api, &d).await,
        degraded("rolling out: 3/5 updated, 5/5 available")
    );
}

#[tokio::test]
async fn a_spec_not_yet_observed_is_a_rollout() {
    let api = FakeApi::start().await;
    let mut d = gateway(5);
    d.generation = 7;
    d.observed_generation = 6;
    assert_eq!(
        observe(&api, &d).await,
        degraded("rolling out: 5/5 updated, 5/5 available")
    );
}

#[tokio::test]
async fn the_progressing_reason_alone_marks_a_rollout() {
    let api = FakeApi::start().await;
    let d = gateway(5).condition(
        "Progressing",
        "True",
        "ReplicaSetUpdated",
        "ReplicaSet \"api-gateway-5c8f9d7b6\" is progressing.",
    );
    assert_eq!(
        observe(&api, &d).await,
        degraded("rolling out: 5/5 updated, 5/5 available")
    );
}

#[tokio::test]
async fn none_available_is_down_with_the_available_condition_message() {
    let api = FakeApi::start().await;
    let mut d = gateway(5).condition(
        "Available",
        "False",
        "MinimumReplicasUnavailable",
        "Deployment does not have minimum availability.",
    );
    d.available = None;
    d.ready = None;
    assert_eq!(
        observe(&api, &d).await,
        down("0/5 available: Deployment does not have minimum availability.")
    );
}

#[tokio::test]
async fn scaled_to_zero_is_down() {
    let api = FakeApi::start().await;
    let mut d = gateway(0);
    d.available = None;
    d.ready = None;
    d.updated = None;
    d.total = None;
    assert_eq!(observe(&api, &d).await, down("0/0 available (scaled to 0)"));
}

#[tokio::test]
async fn a_progress_deadline_exceeded_is_down() {
    let api = FakeApi::start().await;
    let mut d = gateway(5).condition(
        "Progressing",
        "False",
        "ProgressDeadlineExceeded",
        "ReplicaSet \"api-gateway-5c8f9d7b6\" has timed out progressing.",
    );
    d.generation = 4;
    d.observed_generation = 4;
    d.updated = Some(2);
    d.available = Some(4);
    assert_eq!(
        observe(&api, &d).await,
        down(
            "rollout stuck: 4/5 available: ReplicaSet \"api-gateway-5c8f9d7b6\" has timed out progressing."
        )
    );
}

#[tokio::test]
async fn all_available_but_available_false_is_degraded() {
    let api = FakeApi::start().await;
    let d = gateway(3).condition(
        "Available",
        "False",
        "MinimumReplicasUnavailable",
        "Deployment does not have minimum availability.",
    );
    assert_eq!(
        observe(&api, &d).await,
        degraded(
            "3/3 available, but Available=False: Deployment does not have minimum availability."
        )
    );
}

#[tokio::test]
async fn a_missing_deployment_is_down() {
    let api = FakeApi::start().await;
    let outcome = probe(&api, "dtem-prod", "api-gateway").observe().await;
    assert_eq!(
        outcome,
        down("deployment api-gateway not found in dtem-prod")
    );
    assert_eq!(api.requests()[0].path, DEPLOYMENT_PATH);
}

#[tokio::test]
async fn unauthorized_cannot_observe_with_credentials() {
    let api = FakeApi::start().await;
    api.put_deployment(gateway(5).to_json());
    api.require_token("s3cr3t-token");
    let outcome = probe(&api, "dtem-prod", "api-gateway").observe().await;
    assert_eq!(
        outcome,
        Outcome::CannotObserve {
            reason: ObserveError::Credentials("kubernetes API 401: Unauthorized".into())
        }
    );
}

#[tokio::test]
async fn forbidden_cannot_observe_with_the_apis_message() {
    let api = FakeApi::start().await;
    api.put_deployment(gateway(5).to_json());
    api.forbid("dtem-prod");
    let outcome = probe(&api, "dtem-prod", "api-gateway").observe().await;
    assert_eq!(
        outcome,
        Outcome::CannotObserve {
            reason: ObserveError::AccessDenied(
                "deployments.apps \"api-gateway\" is forbidden: User \"system:serviceaccount:warroom:observer\" cannot get resource \"deployments\" in API group \"apps\" in the namespace \"dtem-prod\"".into()
            )
        }
    );
}

#[tokio::test]
async fn a_closed_port_is_unreachable_never_down() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().expect("uri"));
    let probe = DeploymentProbe::new(
        KubeClients::from_config(config),
        "dtem-prod",
        "api-gateway",
        None,
    );
    assert_eq!(
        probe.observe().await,
        Outcome::CannotObserve {
            reason: ObserveError::Unreachable(
                "connection refused by the kubernetes API server".into()
            )
        }
    );
}

#[tokio::test]
async fn an_api_server_that_does_not_answer_is_unreachable() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let mut config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().expect("uri"));
    config.read_timeout = Some(Duration::from_millis(300));
    let probe = DeploymentProbe::new(
        KubeClients::from_config(config),
        "dtem-prod",
        "api-gateway",
        None,
    );
    let outcome = probe.observe().await;
    assert!(
        matches!(&outcome, Outcome::CannotObserve { reason: ObserveError::Unreachable(r) } if r.contains("timed out")),
        "{outcome:?}"
    );
    hold.abort();
}

#[tokio::test]
async fn server_errors_of_the_control_plane_cannot_observe() {
    let api = FakeApi::start().await;
    api.fail_all(503, "etcdserver: request timed out");
    let outcome = probe(&api, "dtem-prod", "api-gateway").observe().await;
    assert_eq!(
        outcome,
        Outcome::CannotObserve {
            reason: ObserveError::Unreachable(
                "kubernetes API answered 503: etcdserver: request timed out".into()
            )
        }
    );
    api.fail_all(500, "Internal error occurred: admission webhook failed");
    let outcome = probe(&api, "dtem-prod", "api-gateway").observe().await;
    assert_eq!(
        outcome,
        Outcome::CannotObserve {
            reason: ObserveError::Other(
                "kubernetes API answered 500: Internal error occurred: admission webhook failed"
                    .into()
            )
        }
    );
}

fn kubeconfig(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    let path = dir.join("config");
    let text = format!(
        r#"apiVersion: v1
kind: Config
current-context: dtem-us-east-1
clusters:
- name: east
  cluster:
    server: {url}
- name: west
  cluster:
    server: {url}
contexts:
- name: dtem-us-east-1
  context:
    cluster: east
    user: operator
- name: dtem-us-west-2
  context:
    cluster: west
    user: expired
users:
- name: operator
  user:
    token: good-token-4f1a
- name: expired
  user:
    token: expired-token-9c2e
"#
    );
    std::fs::write(&path, text).expect("write kubeconfig");
    path
}

#[tokio::test]
async fn contexts_come_from_the_kubeconfig_with_their_own_credentials() {
    let api = FakeApi::start().await;
    api.put_deployment(gateway(5).to_json());
    api.require_token("good-token-4f1a");
    let dir = tempfile::tempdir().expect("tempdir");
    let clients = KubeClients::from_kubeconfig_file(kubeconfig(dir.path(), &api.url()));

    let east = DeploymentProbe::new(
        clients.clone(),
        "dtem-prod",
        "api-gateway",
        Some("dtem-us-east-1".into()),
    );
    assert!(
        matches!(east.observe().await, Outcome::Up { .. }),
        "east is up"
    );
    assert_eq!(
        east.describe(),
        "k8s_deployment dtem-prod/api-gateway (dtem-us-east-1)"
    );
    // The default context is the kubeconfig's current-context.
    let default = DeploymentProbe::new(clients.clone(), "dtem-prod", "api-gateway", None);
    assert!(matches!(default.observe().await, Outcome::Up { .. }));
    assert_eq!(default.describe(), "k8s_deployment dtem-prod/api-gateway");
    assert!(
        api.requests()
            .iter()
            .all(|r| r.authorization.as_deref() == Some("Bearer good-token-4f1a")),
        "{:?}",
        api.requests()
    );

    let west = DeploymentProbe::new(
        clients.clone(),
        "dtem-prod",
        "api-gateway",
        Some("dtem-us-west-2".into()),
    );
    let outcome = west.observe().await;
    assert_eq!(
        outcome,
        Outcome::CannotObserve {
            reason: ObserveError::Credentials("kubernetes API 401: Unauthorized".into())
        }
    );
    assert!(!format!("{outcome:?}").contains("expired-token"));

    let unknown = DeploymentProbe::new(
        clients.clone(),
        "dtem-prod",
        "api-gateway",
        Some("dtem-eu-west-1".into()),
    );
    match unknown.observe().await {
        Outcome::CannotObserve {
            reason: ObserveError::Other(reason),
        } => {
            assert!(reason.contains("\"dtem-eu-west-1\""), "{reason}");
        }
        other => panic!("expected CannotObserve, got {other:?}"),
    }
    // The runbook executors ask the same clients.
    assert!(clients.client(Some("dtem-us-east-1")).await.is_ok());
    assert!(clients.client(Some("dtem-eu-west-1")).await.is_err());
}

#[tokio::test]
async fn no_kubeconfig_cannot_observe_with_the_reason() {
    let clients = KubeClients::from_kubeconfig_file("/nonexistent/warroom/kubeconfig");
    let probe = DeploymentProbe::new(clients, "dtem-prod", "api-gateway", None);
    match probe.observe().await {
        Outcome::CannotObserve {
            reason: ObserveError::Other(reason),
        } => {
            assert!(
                reason.starts_with("default kubeconfig context: failed to read kubeconfig"),
                "{reason}"
            );
            assert!(
                reason.contains("/nonexistent/warroom/kubeconfig"),
                "{reason}"
            );
        }
        other => panic!("expected CannotObserve, got {other:?}"),
    }
}

#[tokio::test]
async fn one_client_for_every_context() {
    let api = FakeApi::start().await;
    api.put_deployment(gateway(2).to_json());
    let client = kube::Client::try_from(api.config()).expect("client");
    let clients = KubeClients::with_client(client);
    let probe = DeploymentProbe::new(clients, "dtem-prod", "api-gateway", Some("any".into()));
    assert!(matches!(probe.observe().await, Outcome::Up { .. }));
}
