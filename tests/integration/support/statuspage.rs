//! A fake Atlassian Statuspage API (v1) on loopback, answering like the real one:
//! `POST /v1/pages/{page}/incidents` (`{"incident": {...}}`, answered with the incident),
//! `PATCH /v1/pages/{page}/incidents/{id}` (a new incident update), `GET .../incidents?q=`
//! and `GET .../incidents/{id}`. Every request needs `Authorization: OAuth <key>` (else 401).
//! Scripted faults go through [`super::http::Server::fault`]. Also a generic status-page
//! webhook at `/page-hook/<secret>` that keeps every body it gets.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::http::{Fault, Reply, Request, Server};

pub const PAGE: &str = "dtemstatus01";

#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: String,
    pub name: String,
    pub status: String,
    pub impact: String,
    pub created_at: String,
    /// (status, body) of each update, the creation's first.
    pub updates: Vec<(String, String)>,
    /// The last component statuses set, page component id → status.
    pub components: Value,
}

#[derive(Default)]
struct State {
    incidents: Vec<Incident>,
    hook: Vec<Value>,
    n: u32,
}

pub struct FakeStatuspage {
    pub server: Server,
    state: Arc<Mutex<State>>,
    pub key: String,
    pub hook: String,
}

fn wire(i: &Incident) -> Value {
    json!({
        "id": i.id,
        "page_id": PAGE,
        "name": i.name,
        "status": i.status,
        "impact": i.impact,
        "created_at": i.created_at,
        "incident_updates": i.updates.iter().rev().map(|(status, body)| json!({
            "status": status, "body": body, "created_at": i.created_at,
        })).collect::<Vec<_>>(),
        "components": i.components,
    })
}

fn unauthorized() -> Reply {
    Reply::json(401, json!({ "error": "Could not authenticate" }))
}

fn handle(state: &Mutex<State>, key: &str, hook: &str, r: &Request) -> Reply {
    let mut s = state.lock().unwrap();
    if r.path == format!("/page-hook/{hook}") {
        s.hook.push(r.json());
        return Reply::json(200, json!({ "received": true }));
    }
    if r.header("authorization") != Some(&format!("OAuth {key}")) {
        return unauthorized();
    }
    let base = format!("/v1/pages/{PAGE}/incidents");
    let now = jiff::Timestamp::now().to_string();
    match (r.method.as_str(), r.path.as_str()) {
        ("POST", p) if p == base => {
            let body = r.json();
            let i = &body["incident"];
            let (Some(name), Some(status)) = (i["name"].as_str(), i["status"].as_str()) else {
                return Reply::json(422, json!({ "error": "name and status are required" }));
            };
            s.n += 1;
            let inc = Incident {
                id: format!("inc{:04}", s.n),
                name: name.to_string(),
                status: status.to_string(),
                impact: i["impact_override"].as_str().unwrap_or("none").to_string(),
                created_at: now,
                updates: vec![(
                    status.to_string(),
                    i["body"].as_str().unwrap_or_default().to_string(),
                )],
                components: i["components"].clone(),
            };
            let v = wire(&inc);
            s.incidents.push(inc);
            Reply::json(201, v)
        }
        ("GET", p) if p == base => {
            let q = r.query.get("q").cloned().unwrap_or_default();
            let list: Vec<Value> = s
                .incidents
                .iter()
                .filter(|i| i.name.contains(&q))
                .map(wire)
                .collect();
            Reply::json(200, Value::Array(list))
        }
        (m, p) if p.starts_with(&format!("{base}/")) => {
            let id = &p[base.len() + 1..];
            let Some(inc) = s.incidents.iter_mut().find(|i| i.id == id) else {
                return Reply::json(404, json!({ "error": "Incident not found" }));
            };
            match m {
                "GET" => Reply::json(200, wire(inc)),
                "PATCH" | "PUT" => {
                    let body = r.json();
                    let i = &body["incident"];
                    if let Some(st) = i["status"].as_str() {
                        inc.status = st.to_string();
                    }
                    if !i["components"].is_null() {
                        inc.components = i["components"].clone();
                    }
                    inc.updates.push((
                        inc.status.clone(),
                        i["body"].as_str().unwrap_or_default().to_string(),
                    ));
                    Reply::json(200, wire(inc))
                }
                _ => Reply::json(405, json!({ "error": "method not allowed" })),
            }
        }
        _ => Reply::json(404, json!({ "error": "not found" })),
    }
}

impl FakeStatuspage {
    pub async fn start(key: &str) -> FakeStatuspage {
        let state = Arc::new(Mutex::new(State::default()));
        let hook = "PLANTEDpageHOOKsecret7".to_string();
        let (s, k, h) = (state.clone(), key.to_string(), hook.clone());
        let server = Server::start(Box::new(move |r| handle(&s, &k, &h, r))).await;
        FakeStatuspage {
            server,
            state,
            key: key.to_string(),
            hook,
        }
    }

    /// The `api_url` to configure: `http://127.0.0.1:PORT/v1`.
    pub fn api_url(&self) -> String {
        format!("{}/v1", self.server.url())
    }

    pub fn webhook_url(&self) -> String {
        format!("{}/page-hook/{}", self.server.url(), self.hook)
    }

    pub fn incidents(&self) -> Vec<Incident> {
        self.state.lock().unwrap().incidents.clone()
    }

    pub fn webhook_posts(&self) -> Vec<Value> {
        self.state.lock().unwrap().hook.clone()
    }

    pub fn fault(&self, f: Fault) {
        self.server.fault(f);
    }
}
