//! A fake Slack Web API on loopback, answering like the real one: `chat.postMessage` (a
//! channel by name or id; `thread_ts` must name a message of that channel),
//! `chat.update`, `conversations.history`, `conversations.replies`, `conversations.list`,
//! and an incoming webhook at `/hooks/<secret>`. Every method but the webhook needs
//! `Authorization: Bearer <token>` (else `invalid_auth`, HTTP 200, as Slack answers). Scripted
//! faults (429 with Retry-After, 500, a slow answer) go through [`super::http::Server::fault`].

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::http::{Fault, Reply, Request, Server};

pub const CHANNEL_ID: &str = "C0DTEMWAR1";
pub const CHANNEL_NAME: &str = "dtem-war-room";

/// A message as the fake keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub ts: String,
    pub thread_ts: Option<String>,
    pub text: String,
    pub blocks: Value,
    /// Times chat.update changed it.
    pub updates: u32,
}

#[derive(Default)]
struct State {
    messages: Vec<Message>,
    webhook: Vec<Value>,
    n: u64,
}

pub struct FakeSlack {
    pub server: Server,
    state: Arc<Mutex<State>>,
    pub token: String,
    pub hook: String,
}

fn ok(extra: Value) -> Reply {
    let mut v = json!({ "ok": true });
    if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    Reply::json(200, v)
}

fn error(code: &str) -> Reply {
    Reply::json(200, json!({ "ok": false, "error": code }))
}

fn wire(m: &Message) -> Value {
    let mut v = json!({
        "type": "message",
        "ts": m.ts,
        "text": m.text,
        "blocks": m.blocks,
        "user": "U0WARROOM",
        "bot_id": "B0WARROOM",
    });
    if let Some(t) = &m.thread_ts {
        v["thread_ts"] = Value::from(t.clone());
    }
    v
}

/// Form fields (GET query or form body) or a JSON body, as Slack takes either.
fn field(r: &Request, name: &str) -> Option<String> {
    if let Some(v) = r.query.get(name) {
        return Some(v.clone());
    }
    match r.json().get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) if !v.is_null() => Some(v.to_string()),
        _ => None,
    }
}

fn handle(state: &Mutex<State>, token: &str, hook: &str, r: &Request) -> Reply {
    let mut s = state.lock().unwrap();
    if r.path == format!("/hooks/{hook}") {
        if r.method != "POST" {
            return Reply::text(405, "invalid_method");
        }
        let body = r.json();
        if body.get("text").is_none() && body.get("blocks").is_none() {
            return Reply::text(400, "no_text");
        }
        s.webhook.push(body);
        return Reply::text(200, "ok");
    }
    let Some(method) = r.path.strip_prefix("/api/") else {
        return Reply::text(404, "not found");
    };
    if r.header("authorization") != Some(&format!("Bearer {token}")) {
        return error("invalid_auth");
    }
    let known = |c: &str| c == CHANNEL_ID || c == CHANNEL_NAME || c == format!("#{CHANNEL_NAME}");
    match method {
        "chat.postMessage" => {
            let body = r.json();
            let channel = body["channel"].as_str().unwrap_or_default();
            if !known(channel) {
                return error("channel_not_found");
            }
            if body.get("text").is_none() && body.get("blocks").is_none() {
                return error("no_text");
            }
            let thread = body["thread_ts"].as_str().map(str::to_string);
            if let Some(t) = &thread
                && !s
                    .messages
                    .iter()
                    .any(|m| &m.ts == t && m.thread_ts.is_none())
            {
                return error("thread_not_found");
            }
            s.n += 1;
            let m = Message {
                ts: format!("1795575{:03}.{:06}", s.n, s.n * 100),
                thread_ts: thread,
                text: body["text"].as_str().unwrap_or_default().to_string(),
                blocks: body["blocks"].clone(),
                updates: 0,
            };
            s.messages.push(m.clone());
            ok(json!({ "channel": CHANNEL_ID, "ts": m.ts, "message": wire(&m) }))
        }
        "chat.update" => {
            let body = r.json();
            if body["channel"].as_str() != Some(CHANNEL_ID) {
                return error("channel_not_found");
            }
            let ts = body["ts"].as_str().unwrap_or_default().to_string();
            let Some(m) = s.messages.iter_mut().find(|m| m.ts == ts) else {
                return error("message_not_found");
            };
            m.text = body["text"].as_str().unwrap_or_default().to_string();
            m.blocks = body["blocks"].clone();
            m.updates += 1;
            let text = m.text.clone();
            ok(json!({ "channel": CHANNEL_ID, "ts": ts, "text": text }))
        }
        "conversations.history" => {
            if field(r, "channel").as_deref() != Some(CHANNEL_ID) {
                return error("channel_not_found");
            }
            let messages: Vec<Value> = s
                .messages
                .iter()
                .rev()
                .filter(|m| m.thread_ts.is_none())
                .map(wire)
                .collect();
            ok(json!({ "messages": messages, "has_more": false }))
        }
        "conversations.replies" => {
            if field(r, "channel").as_deref() != Some(CHANNEL_ID) {
                return error("channel_not_found");
            }
            let Some(root) = field(r, "ts") else {
                return error("invalid_arguments");
            };
            let messages: Vec<Value> = s
                .messages
                .iter()
                .filter(|m| m.ts == root || m.thread_ts.as_deref() == Some(root.as_str()))
                .map(wire)
                .collect();
            if messages.is_empty() {
                return error("thread_not_found");
            }
            ok(json!({ "messages": messages, "has_more": false }))
        }
        "conversations.list" => ok(json!({
            "channels": [
                { "id": "C0OTHER001", "name": "general", "is_channel": true, "created": 0 },
                { "id": CHANNEL_ID, "name": CHANNEL_NAME, "is_channel": true, "created": 0 },
            ],
            "response_metadata": { "next_cursor": "" }
        })),
        _ => error("unknown_method"),
    }
}

impl FakeSlack {
    pub async fn start(token: &str) -> FakeSlack {
        let state = Arc::new(Mutex::new(State::default()));
        let hook = "T0DTEM/B0HOOK/PLANTEDhookSECRET9".to_string();
        let (s, t, h) = (state.clone(), token.to_string(), hook.clone());
        let server = Server::start(Box::new(move |r| handle(&s, &t, &h, r))).await;
        FakeSlack {
            server,
            state,
            token: token.to_string(),
            hook,
        }
    }

    /// The `api_url` to configure: `http://127.0.0.1:PORT/api`.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.server.url())
    }

    pub fn webhook_url(&self) -> String {
        format!("{}/hooks/{}", self.server.url(), self.hook)
    }

    pub fn messages(&self) -> Vec<Message> {
        self.state.lock().unwrap().messages.clone()
    }

    pub fn webhook_posts(&self) -> Vec<Value> {
        self.state.lock().unwrap().webhook.clone()
    }

    pub fn fault(&self, f: Fault) {
        self.server.fault(f);
    }

    /// The requests of one Web API method.
    pub fn calls(&self, method: &str) -> Vec<Request> {
        self.server.to(&format!("/api/{method}"))
    }
}
