//! An in-process fake Kubernetes API server: plain HTTP/1.1 on loopback (the tests' server,
//! `super::http`), answering the real
//! paths with real object JSON and real `Status` objects, so that a real `kube::Client`
//! can be pointed at it (no API server can run here).
//!
//! What it serves:
//! - `GET /apis/apps/v1/namespaces/{ns}/deployments/{name}`: the Deployment put with
//!   [`FakeApi::put_deployment`], else a 404 `Status` (reason `NotFound`).
//! - `PATCH` of an object put there, with `Content-Type` `application/merge-patch+json` or
//!   `application/strategic-merge-patch+json`: the patch is merged in (RFC 7386, which is
//!   what a strategic merge does to maps), `metadata.generation` goes up when `spec`
//!   changed (the status is left as it was: the rollout has not been observed yet), and the
//!   object is answered. Another content type: 415.
//! - `GET`/`PATCH .../deployments/{name}/scale`: the Deployment's `autoscaling/v1` Scale;
//!   a PATCH sets the Deployment's `spec.replicas` (and its generation goes up).
//! - for a (namespace, verb) given to [`FakeApi::forbid_verb`]: 403 `Status` naming the verb.
//! - with [`FakeApi::require_token`], a request without that bearer token: 401 `Status`.
//! - in a namespace given to [`FakeApi::forbid`]: 403 `Status` (reason `Forbidden`).
//! - with [`FakeApi::fail_all`]: that status code and message for everything.
//! - anything else: 404 `Status` "the server could not find the requested resource".
//!
//! Every request is recorded ([`FakeApi::requests`]) with its method, path, query,
//! `Authorization` and `Content-Type` headers and body.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
    pub content_type: Option<String>,
    /// What followed `?` in the request target, if anything.
    pub query: Option<String>,
}

#[derive(Default)]
struct State {
    /// Objects by their full API path.
    objects: HashMap<String, Value>,
    token: Option<String>,
    forbidden: HashSet<String>,
    /// (namespace, verb) pairs refused.
    forbidden_verbs: HashSet<(String, String)>,
    fail: Option<(u16, String)>,
    requests: Vec<Request>,
}

pub struct FakeApi {
    /// The loopback HTTP/1.1 server of the tests (it serves until dropped).
    server: super::http::Server,
    state: Arc<Mutex<State>>,
}

impl FakeApi {
    /// Listens on a free loopback port; serves until dropped.
    pub async fn start() -> FakeApi {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let server = super::http::Server::start(Box::new(move |r| {
            let request = Request {
                method: r.method.clone(),
                path: r.path.clone(),
                authorization: r.header("authorization").map(str::to_string),
                body: r.body.clone(),
                content_type: r.header("content-type").map(str::to_string),
                query: r.raw_query.clone(),
            };
            let (code, answer) = answer(&shared, request);
            super::http::Reply::json(code, answer)
        }))
        .await;
        FakeApi { server, state }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// A client configuration for this server (no retries on 503, so a test sees it at once).
    pub fn config(&self) -> kube::Config {
        let mut config = kube::Config::new(self.url().parse().expect("a URI"));
        config.default_retry = false;
        config
    }

    pub fn put_deployment(&self, deployment: Value) {
        let ns = deployment["metadata"]["namespace"]
            .as_str()
            .expect("metadata.namespace")
            .to_string();
        let name = deployment["metadata"]["name"]
            .as_str()
            .expect("metadata.name")
            .to_string();
        self.put(
            format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"),
            deployment,
        );
    }

    /// Serves `object` at `path` (any kind).
    pub fn put(&self, path: String, object: Value) {
        self.state.lock().unwrap().objects.insert(path, object);
    }

    /// From now on, requests without `Authorization: Bearer <token>` get a 401.
    pub fn require_token(&self, token: &str) {
        self.state.lock().unwrap().token = Some(token.to_string());
    }

    /// Requests in this namespace get a 403.
    pub fn forbid(&self, namespace: &str) {
        self.state
            .lock()
            .unwrap()
            .forbidden
            .insert(namespace.to_string());
    }

    /// Requests in this namespace with this verb (`get`, `patch`, …) get a 403.
    pub fn forbid_verb(&self, namespace: &str, verb: &str) {
        self.state
            .lock()
            .unwrap()
            .forbidden_verbs
            .insert((namespace.to_string(), verb.to_string()));
    }

    /// The object served at `path` now (after the PATCHes it received).
    pub fn object(&self, path: &str) -> Option<Value> {
        self.state.lock().unwrap().objects.get(path).cloned()
    }

    /// Every request gets this status code with a `Status` carrying this message.
    pub fn fail_all(&self, code: u16, message: &str) {
        self.state.lock().unwrap().fail = Some((code, message.to_string()));
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }
}

fn answer(state: &Mutex<State>, request: Request) -> (u16, Value) {
    let mut state = state.lock().unwrap();
    state.requests.push(request.clone());
    if let Some((code, message)) = &state.fail {
        return (*code, status(*code, reason_of(*code), message, None));
    }
    if let Some(token) = &state.token
        && request.authorization.as_deref() != Some(&format!("Bearer {token}"))
    {
        return (401, status(401, "Unauthorized", "Unauthorized", None));
    }
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    // /apis/{group}/{version}/namespaces/{ns}/{resource}/{name}[/{subresource}]
    let target = match segments.as_slice() {
        ["apis", group, _version, "namespaces", ns, resource, name] => {
            Some((*group, *ns, *resource, *name, None))
        }
        [
            "apis",
            group,
            _version,
            "namespaces",
            ns,
            resource,
            name,
            sub,
        ] => Some((*group, *ns, *resource, *name, Some(*sub))),
        ["api", _version, "namespaces", ns, resource, name] => {
            Some(("", *ns, *resource, *name, None))
        }
        _ => None,
    };
    let Some((group, ns, resource, name, sub)) = target else {
        return (
            404,
            status(
                404,
                "NotFound",
                "the server could not find the requested resource",
                None,
            ),
        );
    };
    let qualified = if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    };
    let details = json!({"name": name, "group": group, "kind": resource});
    let verb = match request.method.as_str() {
        "GET" => "get",
        "PATCH" => "patch",
        "PUT" => "update",
        "DELETE" => "delete",
        _ => "create",
    };
    if state.forbidden.contains(ns)
        || state
            .forbidden_verbs
            .contains(&(ns.to_string(), verb.to_string()))
    {
        let resource = match sub {
            Some(sub) => format!("{resource}/{sub}"),
            None => resource.to_string(),
        };
        let message = format!(
            "{qualified} \"{name}\" is forbidden: User \"system:serviceaccount:warroom:observer\" cannot {verb} resource \"{resource}\" in API group \"{group}\" in the namespace \"{ns}\""
        );
        return (403, status(403, "Forbidden", &message, Some(details)));
    }
    if let Some(sub) = sub {
        let parent = request.path.rsplit_once('/').map(|(p, _)| p.to_string());
        return match (sub, parent) {
            ("scale", Some(parent)) if resource == "deployments" => {
                scale(&mut state, &parent, &request, &qualified, name, details)
            }
            _ => (
                404,
                status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                    None,
                ),
            ),
        };
    }
    if request.method == "PATCH" && state.objects.contains_key(&request.path) {
        if let Err(answer) = patch_type(&request) {
            return answer;
        }
        let patch: Value = match serde_json::from_str(&request.body) {
            Ok(p) => p,
            Err(e) => return (400, status(400, "BadRequest", &e.to_string(), None)),
        };
        let object = state.objects.get_mut(&request.path).expect("checked");
        let before = object["spec"].clone();
        merge(object, &patch);
        if object["spec"] != before {
            let generation = object["metadata"]["generation"].as_i64().unwrap_or(0);
            object["metadata"]["generation"] = json!(generation + 1);
        }
        return (200, object.clone());
    }
    match state.objects.get(&request.path) {
        Some(object) if request.method == "GET" => (200, object.clone()),
        Some(_) => (
            405,
            status(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                None,
            ),
        ),
        None => (
            404,
            status(
                404,
                "NotFound",
                &format!("{qualified} \"{name}\" not found"),
                Some(details),
            ),
        ),
    }
}

/// The patch types a PATCH may have here, else the 415 answer.
fn patch_type(request: &Request) -> Result<(), (u16, Value)> {
    match request.content_type.as_deref() {
        Some("application/merge-patch+json" | "application/strategic-merge-patch+json") => Ok(()),
        other => Err((
            415,
            status(
                415,
                "UnsupportedMediaType",
                &format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {other:?})"
                ),
                None,
            ),
        )),
    }
}

/// RFC 7386 JSON merge patch: objects merge key by key, `null` removes, anything else
/// replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = json!({});
            }
            let map = target.as_object_mut().expect("an object");
            for (key, value) in fields {
                if value.is_null() {
                    map.remove(key);
                } else {
                    merge(map.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// GET or PATCH of a Deployment's scale subresource.
fn scale(
    state: &mut State,
    parent: &str,
    request: &Request,
    qualified: &str,
    name: &str,
    details: Value,
) -> (u16, Value) {
    let Some(deployment) = state.objects.get_mut(parent) else {
        return (
            404,
            status(
                404,
                "NotFound",
                &format!("{qualified} \"{name}\" not found"),
                Some(details),
            ),
        );
    };
    match request.method.as_str() {
        "GET" => {}
        "PATCH" => {
            if let Err(answer) = patch_type(request) {
                return answer;
            }
            let patch: Value = match serde_json::from_str(&request.body) {
                Ok(p) => p,
                Err(e) => return (400, status(400, "BadRequest", &e.to_string(), None)),
            };
            let mut scale = scale_of(deployment);
            merge(&mut scale, &patch);
            let replicas = scale["spec"]["replicas"].clone();
            if deployment["spec"]["replicas"] != replicas {
                deployment["spec"]["replicas"] = replicas;
                let generation = deployment["metadata"]["generation"].as_i64().unwrap_or(0);
                deployment["metadata"]["generation"] = json!(generation + 1);
            }
        }
        _ => {
            return (
                405,
                status(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                    None,
                ),
            );
        }
    }
    (200, scale_of(deployment))
}

/// The `autoscaling/v1` Scale of a Deployment, as the API server derives it.
fn scale_of(deployment: &Value) -> Value {
    let labels = deployment["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": deployment["metadata"]["name"],
            "namespace": deployment["metadata"]["namespace"],
            "uid": deployment["metadata"]["uid"],
            "resourceVersion": deployment["metadata"]["resourceVersion"],
        },
        "spec": {"replicas": deployment["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {
            "replicas": deployment["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": labels,
        },
    })
}

/// A `metav1.Status` as the API server writes it.
pub fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut s = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(d) = details {
        s["details"] = d;
    }
    s
}

fn reason_of(code: u16) -> &'static str {
    match code {
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

/// A Deployment as the API server returns it, built up field by field. The defaults are a
/// healthy, settled deployment of `replicas` replicas at generation 1.
#[derive(Debug, Clone)]
pub struct DeploymentJson {
    pub namespace: String,
    pub name: String,
    /// `spec.replicas`; `None` leaves it out (the API then means 1).
    pub replicas: Option<i32>,
    pub generation: i64,
    pub observed_generation: i64,
    pub available: Option<i32>,
    pub ready: Option<i32>,
    pub updated: Option<i32>,
    pub total: Option<i32>,
    /// (type, status, reason, message)
    pub conditions: Vec<(String, String, String, String)>,
}

impl DeploymentJson {
    /// Settled and fully available: `replicas`/`replicas`, Available=True,
    /// Progressing=True NewReplicaSetAvailable.
    pub fn healthy(namespace: &str, name: &str, replicas: i32) -> DeploymentJson {
        DeploymentJson {
            namespace: namespace.into(),
            name: name.into(),
            replicas: Some(replicas),
            generation: 1,
            observed_generation: 1,
            available: Some(replicas),
            ready: Some(replicas),
            updated: Some(replicas),
            total: Some(replicas),
            conditions: vec![
                cond(
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                ),
                cond(
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    &format!("ReplicaSet \"{name}-7d9c6b5f4\" has successfully progressed."),
                ),
            ],
        }
    }

    /// Sets the condition of this type (replacing one already there).
    pub fn condition(mut self, kind: &str, status: &str, reason: &str, message: &str) -> Self {
        self.conditions.retain(|c| c.0 != kind);
        self.conditions.push(cond(kind, status, reason, message));
        self
    }

    pub fn to_json(&self) -> Value {
        let mut spec = json!({
            "selector": {"matchLabels": {"app": self.name}},
            "template": {
                "metadata": {"labels": {"app": self.name}},
                "spec": {"containers": [{"name": self.name, "image": format!("registry.example/{}:1.4.2", self.name)}]}
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600
        });
        if let Some(r) = self.replicas {
            spec["replicas"] = json!(r);
        }
        let mut status = json!({"observedGeneration": self.observed_generation});
        for (key, value) in [
            ("availableReplicas", self.available),
            ("readyReplicas", self.ready),
            ("updatedReplicas", self.updated),
            ("replicas", self.total),
        ] {
            if let Some(v) = value {
                status[key] = json!(v);
            }
        }
        let desired = self.replicas.unwrap_or(1);
        let unavailable = desired - self.available.unwrap_or(0);
        if unavailable > 0 {
            status["unavailableReplicas"] = json!(unavailable);
        }
        let conditions: Vec<Value> = self
            .conditions
            .iter()
            .map(|(kind, st, reason, message)| {
                json!({
                    "type": kind,
                    "status": st,
                    "lastUpdateTime": "2025-11-25T13:00:00Z",
                    "lastTransitionTime": "2025-11-25T12:00:00Z",
                    "reason": reason,
                    "message": message,
                })
            })
            .collect();
        if !conditions.is_empty() {
            status["conditions"] = json!(conditions);
        }
        json!({
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "uid": "3f1c2b7e-8a4d-4e0f-9b6a-2d5c7e9f1a3b",
                "resourceVersion": "184467",
                "generation": self.generation,
                "creationTimestamp": "2025-11-01T09:00:00Z",
                "labels": {"app": self.name},
                "annotations": {"deployment.kubernetes.io/revision": "3"}
            },
            "spec": spec,
            "status": status,
        })
    }
}

fn cond(kind: &str, status: &str, reason: &str, message: &str) -> (String, String, String, String) {
    (kind.into(), status.into(), reason.into(), message.into())
}
