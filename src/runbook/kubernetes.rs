//! The Kubernetes actions, with the console's client of the action's context
//! ([`kubernetes::KubeClients`], the same clients the probes use):
//!
//! | action | API calls |
//! |---|---|
//! | `k8s_rollout_restart` | `GET` the Deployment (a paused one is refused, as kubectl does), then a strategic-merge `PATCH` setting `spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]` to now (RFC 3339, seconds, UTC) |
//! | `k8s_scale` | `GET` then merge `PATCH` of the `scale` subresource, `{"spec":{"replicas":N}}` |
//! | `k8s_wait_available` | `GET` the Deployment every [`crate::runbook::ExecutorOptions::wait_poll`] until it is available, or the step's timeout |
//!
//! The restart annotation is kubectl's (`kubectl rollout restart` sets exactly this), not
//! kube-rs's `Api::restart`, which sets `kube.kubernetes.io/restartedAt`: a later `kubectl
//! rollout restart` would then add a second annotation instead of replacing ours, and
//! runbooks and dashboards that read kubectl's annotation would not see the restart.
//!
//! "Available", for a wait: the rollout is complete and every desired replica is available
//! (as the `k8s_deployment` probe reads UP: generation observed, all replicas updated,
//! available ≥ desired, no stuck rollout) and the `Available` condition is `True`. A
//! Deployment scaled to 0 is never available. A wait keeps polling through a missing
//! Deployment and an API that does not answer (and says so); credentials refused (401) or
//! permission denied (403) end it at once. A timeout names what was seen last.
//!
//! Every failure names the request (`PATCH deployments/web in dtem-prod`) and what the API
//! said; a 403 carries the API's message, which names the user, verb and resource.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{StepOutcome, StepProgress, failed, report, status, succeeded};
use crate::cloud::kubernetes::{self as k8s, KubeClients, RolloutReading, read_deployment};

/// The annotation `kubectl rollout restart` sets on the pod template.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// The field manager named in every PATCH (shown in `managedFields`).
pub const FIELD_MANAGER: &str = "warroom";

/// How long one API call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a restart's or a scale's rollout is read by default before NOT verified.
pub use crate::app::outcome::ROLLOUT_WITHIN;

/// How long the look at a wait's deadline may take to answer (a wait may end this much
/// after its timeout, so that its last word is a reading, not a look cut short).
pub const LAST_LOOK: Duration = Duration::from_secs(5);

/// Where an action acts.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub namespace: &'a str,
    pub deployment: &'a str,
    pub context: Option<&'a str>,
}

impl Target<'_> {
    fn label(&self) -> String {
        match self.context {
            Some(ctx) => format!("{}/{} (context {ctx})", self.namespace, self.deployment),
            None => format!("{}/{}", self.namespace, self.deployment),
        }
    }

    async fn api(&self, clients: &KubeClients) -> Result<Api<Deployment>, String> {
        match clients.client(self.context).await {
            Ok(client) => Ok(Api::namespaced(client, self.namespace)),
            Err(reason) => Err(reason.to_string()),
        }
    }
}

/// Calls the API with [`CALL_TIMEOUT`]; the error says what was asked and what came back.
async fn call<T>(
    request: &str,
    target: &Target<'_>,
    future: impl Future<Output = Result<T, kube::Error>>,
) -> Result<T, String> {
    match tokio::time::timeout(CALL_TIMEOUT, future).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(err)) => Err(format!("{request}: {}", api_error(&err, target))),
        Err(_) => Err(format!(
            "{request}: no answer within {}; it may or may not have been applied: look before running the step again",
            humantime::format_duration(CALL_TIMEOUT)
        )),
    }
}

fn api_error(err: &kube::Error, target: &Target<'_>) -> String {
    match err {
        kube::Error::Api(status) if status.code == 404 => format!(
            "deployment {} not found in namespace {}",
            target.deployment, target.namespace
        ),
        other => k8s::observe_error(other).to_string(),
    }
}

fn is_refused(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if matches!(status.code, 401 | 403))
}

fn params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PatchParams::default()
    }
}

/// The patch `kubectl rollout restart` sends, for `at`.
pub fn restart_patch(at: Timestamp) -> serde_json::Value {
    let at = Timestamp::from_second(at.as_second()).unwrap_or(at);
    json!({
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at.to_string()}}}}
    })
}

/// `k8s_rollout_restart`.
pub async fn rollout_restart(
    clients: &KubeClients,
    target: Target<'_>,
    watch: (Duration, Duration),
    progress: &mpsc::Sender<StepProgress>,
) -> StepOutcome {
    let api = match target.api(clients).await {
        Ok(api) => api,
        Err(reason) => return failed(reason),
    };
    let name = target.deployment;
    let get = format!("GET deployments/{name} in {}", target.namespace);
    status(progress, get.clone()).await;
    let current = match call(&get, &target, api.get(name)).await {
        Ok(d) => d,
        Err(reason) => return failed(reason),
    };
    if current.spec.paused == Some(true) {
        return failed(format!(
            "deployment {} is paused: a restart would not roll out; resume it first (kubectl rollout resume): nothing changed",
            target.label()
        ));
    }
    let patch = restart_patch(Timestamp::now());
    let at = patch["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let request = format!("PATCH deployments/{name} in {}", target.namespace);
    status(
        progress,
        format!("{request} (strategic merge): template annotation {RESTARTED_AT}={at}"),
    )
    .await;
    match call(
        &request,
        &target,
        api.patch(name, &params(), &Patch::Strategic(&patch)),
    )
    .await
    {
        Ok(d) => {
            let generation = d
                .metadata
                .generation
                .map(|g| format!(" (generation {g})"))
                .unwrap_or_default();
            let line = format!("{request}: accepted{generation}");
            report(progress, StepProgress::Output(line)).await;
            let summary = format!(
                "rollout restart of {} requested: {RESTARTED_AT}={at}{generation}",
                target.label()
            );
            rolled_out(
                &api,
                &target,
                d.metadata.generation,
                summary,
                watch,
                progress,
            )
            .await
        }
        Err(reason) => failed(reason),
    }
}

/// `k8s_scale`.
pub async fn scale(
    clients: &KubeClients,
    target: Target<'_>,
    replicas: u32,
    watch: (Duration, Duration),
    progress: &mpsc::Sender<StepProgress>,
) -> StepOutcome {
    let api = match target.api(clients).await {
        Ok(api) => api,
        Err(reason) => return failed(reason),
    };
    let name = target.deployment;
    let get = format!("GET deployments/{name}/scale in {}", target.namespace);
    status(progress, get.clone()).await;
    // What it was, for the journal (someone may want to scale back); a read that fails
    // for another reason than a refusal or a missing deployment does not stop the scale.
    let was = match tokio::time::timeout(CALL_TIMEOUT, api.get_scale(name)).await {
        Ok(Ok(s)) => s.spec.and_then(|s| s.replicas),
        Ok(Err(err))
            if is_refused(&err) || matches!(&err, kube::Error::Api(s) if s.code == 404) =>
        {
            return failed(format!("{get}: {}", api_error(&err, &target)));
        }
        Ok(Err(_)) | Err(_) => None,
    };
    let request = format!("PATCH deployments/{name}/scale in {}", target.namespace);
    status(
        progress,
        format!("{request} (merge): spec.replicas={replicas}"),
    )
    .await;
    let patch = json!({"spec": {"replicas": replicas}});
    match call(
        &request,
        &target,
        api.patch_scale(name, &params(), &Patch::Merge(&patch)),
    )
    .await
    {
        Ok(s) => {
            let desired = s
                .spec
                .and_then(|s| s.replicas)
                .map_or_else(|| "?".to_string(), |r| r.to_string());
            let running = s.status.map(|s| s.replicas).unwrap_or(0);
            let line = format!("{request}: {desired} desired, {running} running");
            report(progress, StepProgress::Output(line)).await;
            let from = was.map(|w| format!(" from {w}")).unwrap_or_default();
            let summary = format!(
                "{} scaled{from} to {desired} replicas ({running} running now)",
                target.label()
            );
            // The scale subresource does not say the Deployment's generation: read it.
            let generation = match call(&get, &target, api.get(name)).await {
                Ok(d) => d.metadata.generation,
                Err(_) => None,
            };
            rolled_out(&api, &target, generation, summary, watch, progress).await
        }
        Err(reason) => failed(reason),
    }
}

/// The postcondition of a restart or a scale: the rollout of the generation the step
/// produced is complete (observed, every replica updated and available). Read every
/// `watch.0` for at most `watch.1`; what was read last either way.
async fn rolled_out(
    api: &Api<Deployment>,
    target: &Target<'_>,
    generation: Option<i64>,
    summary: String,
    (poll, within): (Duration, Duration),
    progress: &mpsc::Sender<StepProgress>,
) -> StepOutcome {
    let deadline = Instant::now() + within;
    let wanted = generation.unwrap_or(0);
    loop {
        let seen = match tokio::time::timeout(CALL_TIMEOUT, api.get(target.deployment)).await {
            Ok(Ok(d)) => {
                let observed = d
                    .status
                    .as_ref()
                    .and_then(|s| s.observed_generation)
                    .unwrap_or(0);
                // A rollout the controller gave up on will not complete by waiting.
                if let Rollout::Failed(why) = rollout(&d, generation) {
                    return StepOutcome::Checked {
                        summary,
                        held: false,
                        evidence: format!("{} rollout failed: {why}", target.label()),
                    };
                }
                let (ok, detail) = available(&d);
                if ok && observed >= wanted {
                    return StepOutcome::Checked {
                        summary,
                        held: true,
                        evidence: format!(
                            "{} rolled out (generation {observed}): {detail}",
                            target.label()
                        ),
                    };
                }
                if observed < wanted {
                    format!("generation {wanted} not yet observed (at {observed}); {detail}")
                } else {
                    detail
                }
            }
            Ok(Err(err)) => api_error(&err, target),
            Err(_) => "no answer from the kubernetes API".to_string(),
        };
        status(
            progress,
            format!("{}: waiting for the rollout: {seen}", target.label()),
        )
        .await;
        let now = Instant::now();
        if now >= deadline {
            return StepOutcome::Checked {
                summary,
                held: false,
                evidence: format!(
                    "{} rollout not complete within {}: last seen {seen}",
                    target.label(),
                    humantime::format_duration(within)
                ),
            };
        }
        tokio::time::sleep(poll.min(deadline - now)).await;
    }
}

/// How a rollout reads, by `kubectl rollout status`'s rules.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rollout {
    Complete,
    Waiting(String),
    /// It will not complete by waiting: the controller gave up.
    Failed(String),
}

/// `kubectl rollout status` for a Deployment: nothing is read from the status until the
/// controller observed the generation (`produced`, the one the step's patch made, or the
/// object's own); then `Progressing` with `ProgressDeadlineExceeded` (or a `ReplicaFailure`
/// that is True) fails at once; else complete when every desired replica is updated, no old
/// replica is left and every updated one is available. A condition from before the observed
/// generation is never read (kubectl ignores it too).
fn rollout(d: &Deployment, produced: Option<i64>) -> Rollout {
    let generation = d
        .metadata
        .generation
        .unwrap_or(0)
        .max(produced.unwrap_or(0));
    let status = d.status.as_ref();
    let observed = status.and_then(|s| s.observed_generation).unwrap_or(0);
    if observed < generation {
        return Rollout::Waiting(format!(
            "waiting for generation {generation} to be observed (at {observed})"
        ));
    }
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let said = |c: &k8s_openapi::api::apps::v1::DeploymentCondition| {
        c.message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    };
    for c in conditions {
        match (c.type_.as_deref(), c.status.as_deref(), c.reason.as_deref()) {
            (Some("Progressing"), _, Some("ProgressDeadlineExceeded")) => {
                return Rollout::Failed(format!(
                    "exceeded its progress deadline (ProgressDeadlineExceeded){}",
                    said(c)
                ));
            }
            (Some("ReplicaFailure"), Some("True"), reason) => {
                return Rollout::Failed(format!(
                    "replica failure ({}){}",
                    reason.unwrap_or("ReplicaFailure"),
                    said(c)
                ));
            }
            _ => {}
        }
    }
    let desired = d.spec.replicas.unwrap_or(1);
    let updated = status.and_then(|s| s.updated_replicas).unwrap_or(0);
    let replicas = status.and_then(|s| s.replicas).unwrap_or(0);
    let available = status.and_then(|s| s.available_replicas).unwrap_or(0);
    if updated < desired {
        Rollout::Waiting(format!("{updated} of {desired} new replicas updated"))
    } else if replicas > updated {
        Rollout::Waiting(format!(
            "{} old replicas pending termination",
            replicas - updated
        ))
    } else if available < updated {
        Rollout::Waiting(format!(
            "{available} of {updated} updated replicas available"
        ))
    } else {
        Rollout::Complete
    }
}

/// Whether a Deployment is available for a wait, and how it reads.
fn available(d: &Deployment) -> (bool, String) {
    let reading = read_deployment(d);
    let condition = d
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .find(|c| c.type_.as_deref() == Some("Available"))
        .and_then(|c| c.status.clone());
    match reading {
        RolloutReading::Up { detail } => match condition.as_deref() {
            // Available, and rolled out by kubectl's rules (no old replica left).
            Some("True") => match rollout(d, None) {
                Rollout::Complete => (true, format!("{detail}, Available=True")),
                Rollout::Waiting(w) | Rollout::Failed(w) => {
                    (false, format!("{detail}, Available=True, but {w}"))
                }
            },
            Some(other) => (false, format!("{detail}, but Available={other}")),
            None => (false, format!("{detail}, no Available condition yet")),
        },
        RolloutReading::Degraded { detail } | RolloutReading::Down { detail } => (false, detail),
    }
}

/// `k8s_wait_available`: polls every `poll` until available, or `timeout`.
pub async fn wait_available(
    clients: &KubeClients,
    target: Target<'_>,
    timeout: Duration,
    poll: Duration,
    progress: &mpsc::Sender<StepProgress>,
) -> StepOutcome {
    let api = match target.api(clients).await {
        Ok(api) => api,
        Err(reason) => return failed(reason),
    };
    let name = target.deployment;
    let took = humantime::format_duration(timeout);
    status(
        progress,
        format!(
            "GET deployments/{name} in {} every {}, up to {took}, until available",
            target.namespace,
            humantime::format_duration(poll)
        ),
    )
    .await;
    let start = Instant::now();
    let deadline = start + timeout;
    // The last reading of the Deployment (or that it is missing); each look also says what
    // went wrong with it, if anything.
    let mut state: Option<String> = None;
    let mut said = String::new();
    loop {
        // The look at the deadline still gets a moment to answer.
        let left = deadline.saturating_duration_since(Instant::now());
        let bound = left.clamp(LAST_LOOK, CALL_TIMEOUT.max(LAST_LOOK));
        let error = match tokio::time::timeout(bound, api.get(name)).await {
            Ok(Ok(d)) => {
                if let Rollout::Failed(why) = rollout(&d, None) {
                    return failed(format!("{} {why}", target.label()));
                }
                let (ok, detail) = available(&d);
                if ok {
                    let secs = start.elapsed().as_secs();
                    return succeeded(format!(
                        "{} available: {detail} (after {secs}s)",
                        target.label()
                    ));
                }
                state = Some(detail);
                None
            }
            Ok(Err(kube::Error::Api(s))) if s.code == 404 => {
                state = Some(format!(
                    "deployment {} not found in namespace {}",
                    target.deployment, target.namespace
                ));
                None
            }
            Ok(Err(err)) if is_refused(&err) => {
                return failed(format!(
                    "GET deployments/{name} in {}: {}",
                    target.namespace,
                    api_error(&err, &target)
                ));
            }
            Ok(Err(err)) => Some(api_error(&err, &target)),
            Err(_) => Some(format!(
                "no answer from the kubernetes API within {}",
                humantime::format_duration(bound)
            )),
        };
        let seen = match (&state, &error) {
            (Some(s), None) => format!("last seen {s}"),
            (Some(s), Some(e)) => format!("last seen {s}, then {e}"),
            (None, Some(e)) => e.clone(),
            (None, None) => "no answer".to_string(),
        };
        if seen != said {
            status(progress, format!("{}: {seen}", target.label())).await;
            said = seen;
        }
        let now = Instant::now();
        if now >= deadline {
            return failed(format!(
                "{} not available after {took}: {said}",
                target.label()
            ));
        }
        tokio::time::sleep(poll.min(deadline - now)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(json: serde_json::Value) -> Deployment {
        serde_json::from_value(json).expect("a deployment")
    }

    #[test]
    fn the_restart_patch_is_kubectls() {
        let at: Timestamp = "2025-11-25T13:14:15.999Z".parse().expect("time");
        assert_eq!(
            restart_patch(at),
            json!({"spec": {"template": {"metadata": {"annotations": {
                "kubectl.kubernetes.io/restartedAt": "2025-11-25T13:14:15Z"
            }}}}})
        );
    }

    #[test]
    fn available_needs_the_available_condition_true() {
        let settled = |conditions: serde_json::Value| {
            deployment(json!({
                "metadata": {"name": "web", "generation": 2},
                "spec": {"replicas": 3, "selector": {}, "template": {}},
                "status": {"observedGeneration": 2, "availableReplicas": 3,
                           "updatedReplicas": 3, "conditions": conditions}
            }))
        };
        assert_eq!(
            available(&settled(json!([{"type": "Available", "status": "True"}]))),
            (true, "3/3 available, Available=True".into())
        );
        assert_eq!(
            available(&settled(json!([]))),
            (false, "3/3 available, no Available condition yet".into())
        );
        let rolling = deployment(json!({
            "metadata": {"name": "web", "generation": 3},
            "spec": {"replicas": 3, "selector": {}, "template": {}},
            "status": {"observedGeneration": 2, "availableReplicas": 3, "updatedReplicas": 3,
                       "conditions": [{"type": "Available", "status": "True"}]}
        }));
        assert_eq!(
            available(&rolling),
            (false, "rolling out: 3/3 updated, 3/3 available".into())
        );
        let zero = deployment(json!({
            "metadata": {"name": "web"},
            "spec": {"replicas": 0, "selector": {}, "template": {}}
        }));
        assert!(!available(&zero).0);
    }

    #[test]
    fn rollout_reads_like_kubectl_rollout_status() {
        let d = |generation: i64, observed: i64, status: serde_json::Value| {
            let mut st = status;
            st["observedGeneration"] = json!(observed);
            deployment(json!({
                "metadata": {"name": "web", "generation": generation},
                "spec": {"replicas": 3, "selector": {}, "template": {}},
                "status": st
            }))
        };
        let stuck = json!([{"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": "ReplicaSet \"web-5d\" has timed out progressing."}]);
        // Observed: it fails at once, with the condition's message.
        assert_eq!(
            rollout(&d(2, 2, json!({"conditions": stuck.clone()})), Some(2)),
            Rollout::Failed(
                "exceeded its progress deadline (ProgressDeadlineExceeded): ReplicaSet \"web-5d\" has timed out progressing."
                    .into()
            )
        );
        // A condition from before the generation the step produced is not read.
        assert_eq!(
            rollout(&d(2, 1, json!({"conditions": stuck})), Some(2)),
            Rollout::Waiting("waiting for generation 2 to be observed (at 1)".into())
        );
        let failure = json!([{"type": "ReplicaFailure", "status": "True",
            "reason": "FailedCreate", "message": "pods \"web-\" is forbidden: exceeded quota"}]);
        assert_eq!(
            rollout(&d(1, 1, json!({"conditions": failure})), None),
            Rollout::Failed(
                "replica failure (FailedCreate): pods \"web-\" is forbidden: exceeded quota".into()
            )
        );
        let counts = |updated: i32, replicas: i32, available: i32| {
            rollout(
                &d(
                    1,
                    1,
                    json!({"updatedReplicas": updated, "replicas": replicas,
                                "availableReplicas": available}),
                ),
                None,
            )
        };
        assert_eq!(
            counts(1, 3, 3),
            Rollout::Waiting("1 of 3 new replicas updated".into())
        );
        assert_eq!(
            counts(3, 4, 3),
            Rollout::Waiting("1 old replicas pending termination".into())
        );
        assert_eq!(
            counts(3, 3, 2),
            Rollout::Waiting("2 of 3 updated replicas available".into())
        );
        assert_eq!(counts(3, 3, 3), Rollout::Complete);
    }
}
