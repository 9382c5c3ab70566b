//! Kubernetes: one cached [`kube::Client`] per kubeconfig context ([`KubeClients`]), what a
//! Deployment reads as ([`read_deployment`], for the `k8s_deployment` probe and the rollout
//! steps alike), and what a kube error means for the screen ([`observe_error`]).
//!
//! How a Deployment reads (first rule that applies):
//!
//! | what the API says | outcome |
//! |---|---|
//! | `spec.replicas` = 0 | `Down` "0/0 available (scaled to 0)": nothing serves (a warm standby keeps ≥ 1) |
//! | `Progressing=False`, reason `ProgressDeadlineExceeded` | `Down` "rollout stuck: 3/5 available: <message>" |
//! | `availableReplicas` = 0 | `Down` "0/5 available: <Available condition message>" |
//! | rolling out: `observedGeneration` < `generation`, `updatedReplicas` < desired, or `Progressing` reason `ReplicaSetUpdated` / `NewReplicaSetCreated` / `FoundNewReplicaSet` | `Degraded` "rolling out: 3/5 updated, 4/5 available" |
//! | 0 < available < desired | `Degraded` "2/5 available" |
//! | available ≥ desired, `Available` not `False` | `Up` "5/5 available" (latency of the GET) |
//! | available ≥ desired, `Available=False` | `Degraded` "5/5 available, but Available=False: <message>" |
//! | 404 | `Down` "deployment X not found in N" |
//! | 401 | `CannotObserve { Credentials }` with the API's message |
//! | 403 | `CannotObserve { AccessDenied }` with the API's message |
//! | connection refused, timeout, DNS, TLS, 502/503/504 | `CannotObserve { Unreachable }`: the control plane, not the app |
//! | no kubeconfig, unknown context | `CannotObserve { Other }` naming the context |
//! | client certificate/key or exec-plugin failure | `CannotObserve { Credentials }` |
//!
//! Nothing here sanitizes control characters (the UI does), but no outcome ever carries a
//! token: exec-plugin failures are reported by their command, status and stderr only.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::path::PathBuf;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use tokio::sync::Mutex;

use super::CallFailure;

/// Where the clients' configuration comes from.
#[derive(Clone)]
enum KubeconfigSource {
    /// The default: `None` = `Config::infer()` (kubeconfig's current context, else in-cluster),
    /// `Some(ctx)` = that context of the kubeconfig (`$KUBECONFIG` or `~/.kube/config`).
    Default,
    /// One kubeconfig file, whatever `$KUBECONFIG` says.
    File(PathBuf),
    /// One configuration for every context (tests, or a single explicit API server).
    Config(Box<Config>),
}

struct KubeInner {
    source: KubeconfigSource,
    /// One ready client for every context (tests): no configuration is loaded.
    fixed: Option<Client>,
    /// Built clients by context; a config that failed to load is not cached, so fixing the
    /// kubeconfig (or logging in) takes effect at the next observation.
    cache: Mutex<HashMap<Option<String>, Client>>,
}

/// Kubernetes clients, one per kubeconfig context, built on first use and shared: the
/// probes and the runbook executors (rollout restart, scale, wait) ask the same ones.
/// Cheap to clone.
#[derive(Clone)]
pub struct KubeClients {
    inner: Arc<KubeInner>,
}

impl Default for KubeClients {
    fn default() -> KubeClients {
        KubeClients::new()
    }
}

impl std::fmt::Debug for KubeClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match (&self.inner.fixed, &self.inner.source) {
            (Some(_), _) => "one client".to_string(),
            (None, KubeconfigSource::Default) => "default kubeconfig / in-cluster".to_string(),
            (None, KubeconfigSource::File(p)) => format!("kubeconfig {}", p.display()),
            (None, KubeconfigSource::Config(c)) => format!("config for {}", c.cluster_url),
        };
        f.debug_struct("KubeClients")
            .field("source", &source)
            .finish()
    }
}

impl KubeClients {
    /// Clients from the environment: `$KUBECONFIG` or `~/.kube/config`, or the in-cluster
    /// service account when running in a pod (for the default context only).
    pub fn new() -> KubeClients {
        KubeClients::from_source(KubeconfigSource::Default)
    }

    /// Clients from this kubeconfig file, whatever `$KUBECONFIG` says.
    pub fn from_kubeconfig_file(path: impl Into<PathBuf>) -> KubeClients {
        KubeClients::from_source(KubeconfigSource::File(path.into()))
    }

    /// One configuration for every context: a single API server (tests point it at a
    /// local server with `Config::new("http://127.0.0.1:PORT".parse()?)`).
    pub fn from_config(config: Config) -> KubeClients {
        KubeClients::from_source(KubeconfigSource::Config(Box::new(config)))
    }

    /// One ready client for every context (tests).
    pub fn with_client(client: Client) -> KubeClients {
        KubeClients::build(KubeconfigSource::Default, Some(client))
    }

    fn from_source(source: KubeconfigSource) -> KubeClients {
        KubeClients::build(source, None)
    }

    fn build(source: KubeconfigSource, fixed: Option<Client>) -> KubeClients {
        KubeClients {
            inner: Arc::new(KubeInner {
                source,
                fixed,
                cache: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The client for `context` (`None` = the default context), built on first use.
    /// A configuration that cannot be loaded is an [`CallFailure`] with the reason:
    /// `Credentials` for a client certificate or key that cannot be read, `Other` for the
    /// rest (no kubeconfig, unknown context, bad cluster URL).
    pub async fn client(&self, context: Option<&str>) -> Result<Client, CallFailure> {
        if let Some(client) = &self.inner.fixed {
            return Ok(client.clone());
        }
        let key = context.map(str::to_string);
        let mut cache = self.inner.cache.lock().await;
        if let Some(client) = cache.get(&key) {
            return Ok(client.clone());
        }
        let config = self.config(context).await?;
        let client = Client::try_from(config).map_err(|e| {
            CallFailure::Other(format!(
                "{}: {}",
                context_label(context),
                crate::text::redact::error_chain(&e)
            ))
        })?;
        cache.insert(key, client.clone());
        Ok(client)
    }

    async fn config(&self, context: Option<&str>) -> Result<Config, CallFailure> {
        let options = KubeConfigOptions {
            context: context.map(str::to_string),
            ..KubeConfigOptions::default()
        };
        let label = context_label(context);
        match &self.inner.source {
            KubeconfigSource::Default if context.is_none() => Config::infer().await.map_err(|e| {
                CallFailure::Other(format!(
                    "{label}: no kubeconfig and not in a cluster ({})",
                    crate::text::redact::error_chain(&e)
                ))
            }),
            KubeconfigSource::Default => Config::from_kubeconfig(&options)
                .await
                .map_err(|e| config_error(&label, &e)),
            KubeconfigSource::File(path) => {
                let kubeconfig =
                    Kubeconfig::read_from(path).map_err(|e| config_error(&label, &e))?;
                Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(|e| config_error(&label, &e))
            }
            KubeconfigSource::Config(config) => Ok((**config).clone()),
        }
    }
}

fn context_label(context: Option<&str>) -> String {
    match context {
        Some(ctx) => format!("kubeconfig context {ctx:?}"),
        None => "default kubeconfig context".to_string(),
    }
}

fn config_error(label: &str, e: &kube::config::KubeconfigError) -> CallFailure {
    use kube::config::KubeconfigError as K;
    let text = format!("{label}: {}", crate::text::redact::error_chain(e));
    match e {
        K::LoadClientCertificate(_) | K::LoadClientKey(_) => CallFailure::Credentials(text),
        _ => CallFailure::Other(text),
    }
}

/// How a failed API call reads as an [`CallFailure`], for everything but a 404 (which is
/// the caller's business: a missing object is usually `Down`). The runbook executors use it
/// too.
pub fn observe_error(err: &kube::Error) -> CallFailure {
    match err {
        kube::Error::Api(status) => {
            let message = if status.message.is_empty() {
                status.reason.clone()
            } else {
                status.message.clone()
            };
            match status.code {
                401 => CallFailure::Credentials(format!("kubernetes API 401: {message}")),
                403 => CallFailure::AccessDenied(message),
                502..=504 => CallFailure::Unreachable(format!(
                    "kubernetes API answered {}: {message}",
                    status.code
                )),
                code => CallFailure::Other(format!("kubernetes API answered {code}: {message}")),
            }
        }
        kube::Error::Auth(auth) => CallFailure::Credentials(auth_message(auth)),
        kube::Error::SerdeError(e) => {
            CallFailure::Other(format!("unexpected answer from the kubernetes API: {e}"))
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            if let Some(auth) = find_in_chain::<kube::client::AuthError>(err) {
                return CallFailure::Credentials(auth_message(auth));
            }
            CallFailure::Unreachable(transport_message(err))
        }
        other => CallFailure::Other(crate::text::redact::error_chain(other)),
    }
}

/// An auth failure, without anything an exec plugin printed on stdout (that is where a
/// token would be).
fn auth_message(e: &kube::client::AuthError) -> String {
    use kube::client::AuthError as A;
    match e {
        A::AuthExecRun { cmd, out } => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            format!(
                "auth exec command '{cmd}' failed with {}: {}",
                out.status,
                stderr.trim()
            )
        }
        A::AuthExecParse(_) => "could not parse the auth exec plugin's output".to_string(),
        A::InvalidBearerToken(_) => "the bearer token is not a valid header value".to_string(),
        A::InvalidBasicAuth(_) => "the basic-auth credentials are not a valid header".to_string(),
        other => format!("kubernetes auth: {other}"),
    }
}

/// Connection refused, timed out, DNS, TLS: what went wrong talking to the API server.
fn transport_message(err: &(dyn StdError + 'static)) -> String {
    if let Some(io) = find_in_chain::<std::io::Error>(err) {
        use std::io::ErrorKind as K;
        let what = match io.kind() {
            K::ConnectionRefused => Some("connection refused by the kubernetes API server"),
            K::TimedOut => Some("timed out connecting to the kubernetes API server"),
            K::ConnectionReset => Some("connection reset by the kubernetes API server"),
            K::HostUnreachable | K::NetworkUnreachable => {
                Some("no route to the kubernetes API server")
            }
            _ => None,
        };
        if let Some(what) = what {
            return what.to_string();
        }
    }
    format!(
        "kubernetes API server: {}",
        crate::text::redact::error_chain(err)
    )
}

fn find_in_chain<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        cur = e.source();
    }
    None
}

/// What a Deployment's status says of its rollout, with the words for the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutReading {
    /// Every desired replica updated and available.
    Up { detail: String },
    /// Serving, but not all of it (rolling out, fewer available than desired).
    Degraded { detail: String },
    /// Nothing available, scaled to 0, or stuck past its progress deadline.
    Down { detail: String },
}

/// How one Deployment reads (see the module's table).
pub fn read_deployment(d: &Deployment) -> RolloutReading {
    let desired = d.spec.replicas.unwrap_or(1);
    let status = d.status.as_ref();
    let available = status.and_then(|s| s.available_replicas).unwrap_or(0);
    let updated = status.and_then(|s| s.updated_replicas).unwrap_or(0);
    let conditions: &[DeploymentCondition] = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let condition = |kind: &str| conditions.iter().find(|c| c.type_.as_deref() == Some(kind));
    let message = |c: &DeploymentCondition| c.message.clone().unwrap_or_default();

    if desired <= 0 {
        return RolloutReading::Down {
            detail: format!("{available}/0 available (scaled to 0)"),
        };
    }
    let progressing = condition("Progressing");
    if let Some(p) = progressing
        && p.status.as_deref() == Some("False")
        && p.reason.as_deref() == Some("ProgressDeadlineExceeded")
    {
        return RolloutReading::Down {
            detail: with_message(
                format!("rollout stuck: {available}/{desired} available"),
                &message(p),
            ),
        };
    }
    if available <= 0 {
        let why = condition("Available").map(message).unwrap_or_default();
        return RolloutReading::Down {
            detail: with_message(format!("0/{desired} available"), &why),
        };
    }
    let generation = d.metadata.generation.unwrap_or(0);
    let observed = status.and_then(|s| s.observed_generation).unwrap_or(0);
    let rolling_reason = progressing.is_some_and(|p| {
        p.status.as_deref() == Some("True")
            && matches!(
                p.reason.as_deref(),
                Some("ReplicaSetUpdated" | "NewReplicaSetCreated" | "FoundNewReplicaSet")
            )
    });
    if observed < generation || updated < desired || rolling_reason {
        return RolloutReading::Degraded {
            detail: format!(
                "rolling out: {}/{desired} updated, {available}/{desired} available",
                updated.min(desired)
            ),
        };
    }
    if available < desired {
        return RolloutReading::Degraded {
            detail: format!("{available}/{desired} available"),
        };
    }
    if let Some(a) = condition("Available")
        && a.status.as_deref() == Some("False")
    {
        return RolloutReading::Degraded {
            detail: with_message(
                format!("{desired}/{desired} available, but Available=False"),
                &message(a),
            ),
        };
    }
    RolloutReading::Up {
        detail: format!("{desired}/{desired} available"),
    }
}

fn with_message(head: String, message: &str) -> String {
    if message.is_empty() {
        head
    } else {
        format!("{head}: {message}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(json: serde_json::Value) -> Deployment {
        serde_json::from_value(json).expect("a deployment")
    }

    fn detail(o: &RolloutReading) -> String {
        match o {
            RolloutReading::Up { detail }
            | RolloutReading::Degraded { detail }
            | RolloutReading::Down { detail } => detail.clone(),
        }
    }

    #[test]
    fn default_replicas_is_one() {
        let d = deployment(serde_json::json!({
            "metadata": {"name": "web", "generation": 1},
            "spec": {"selector": {}, "template": {}},
            "status": {"observedGeneration": 1, "availableReplicas": 1, "updatedReplicas": 1}
        }));
        let o = read_deployment(&d);
        assert!(matches!(o, RolloutReading::Up { .. }), "{o:?}");
        assert_eq!(detail(&o), "1/1 available");
    }

    #[test]
    fn no_status_yet_is_down() {
        let d = deployment(serde_json::json!({
            "metadata": {"name": "web", "generation": 1},
            "spec": {"replicas": 3, "selector": {}, "template": {}}
        }));
        let o = read_deployment(&d);
        assert_eq!(
            o,
            RolloutReading::Down {
                detail: "0/3 available".into()
            }
        );
    }

    #[test]
    fn chains_are_described_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(
            transport_message(&io),
            "connection refused by the kubernetes API server"
        );
        let other = std::io::Error::other("dns error: no such host");
        assert_eq!(
            transport_message(&other),
            "kubernetes API server: dns error: no such host"
        );
    }
}
