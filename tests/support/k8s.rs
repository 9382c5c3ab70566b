//! An in-process fake Kubernetes API server: plain HTTP/1.1 on loopback, answering the real
//! paths with real object JSON and real `Status` objects, so that a real `kube::Client`
//! can be pointed at it (no API server can run here).
//!
//! What it serves:
//! - `GET /apis/apps/v1/namespaces/{ns}/deployments/{name}`: the Deployment put with
//!   [`FakeApi::put_deployment`], else a 404 `Status` (reason `NotFound`).
//! - with [`FakeApi::require_token`], a request without that bearer token: 401 `Status`.
//! - in a namespace given to [`FakeApi::forbid`]: 403 `Status` (reason `Forbidden`).
//! - with [`FakeApi::fail_all`]: that status code and message for everything.
//! - anything else: 404 `Status` "the server could not find the requested resource".
//!
//! Every request is recorded ([`FakeApi::requests`]) with its method, path and
//! `Authorization` header.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
}

#[derive(Default)]
struct State {
    /// Objects by their full API path.
    objects: HashMap<String, Value>,
    token: Option<String>,
    forbidden: HashSet<String>,
    fail: Option<(u16, String)>,
    requests: Vec<Request>,
}

pub struct FakeApi {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeApi {
    /// Listens on a free loopback port; serves until dropped.
    pub async fn start() -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, state).await;
                });
            }
        });
        FakeApi { addr, state, task }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
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

    /// Every request gets this status code with a `Status` carrying this message.
    pub fn fail_all(&self, code: u16, message: &str) {
        self.state.lock().unwrap().fail = Some((code, message.to_string()));
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }
}

async fn serve(stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut authorization = None;
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).await? == 0 {
                return Ok(());
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                match name.to_ascii_lowercase().as_str() {
                    "authorization" => authorization = Some(value.to_string()),
                    "content-length" => length = value.parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        let path = target.split('?').next().unwrap_or_default().to_string();
        let request = Request {
            method,
            path,
            authorization,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let (code, answer) = answer(&state, request);
        let text = answer.to_string();
        let head = format!(
            "HTTP/1.1 {code} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            reason_phrase(code),
            text.len()
        );
        write.write_all(head.as_bytes()).await?;
        write.write_all(text.as_bytes()).await?;
        write.flush().await?;
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
    // /apis/{group}/{version}/namespaces/{ns}/{resource}/{name}
    let target = match segments.as_slice() {
        ["apis", group, _version, "namespaces", ns, resource, name] => {
            Some((*group, *ns, *resource, *name))
        }
        ["api", _version, "namespaces", ns, resource, name] => Some(("", *ns, *resource, *name)),
        _ => None,
    };
    let Some((group, ns, resource, name)) = target else {
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
    if state.forbidden.contains(ns) {
        let verb = match request.method.as_str() {
            "GET" => "get",
            "PATCH" => "patch",
            "PUT" => "update",
            "DELETE" => "delete",
            _ => "create",
        };
        let message = format!(
            "{qualified} \"{name}\" is forbidden: User \"system:serviceaccount:warroom:observer\" cannot {verb} resource \"{resource}\" in API group \"{group}\" in the namespace \"{ns}\""
        );
        return (403, status(403, "Forbidden", &message, Some(details)));
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

fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
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
