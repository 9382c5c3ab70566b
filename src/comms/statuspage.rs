//! The public status page: Atlassian Statuspage (the first update of an incident creates it,
//! later ones move its status and add a body; component statuses from ours through the
//! configured mapping), or a generic webhook that receives the whole page as seed 000's
//! StatusPageService publishes it.
//!
//! Statuspage allows one request a second: every request of this sink waits its turn. The API
//! key and a webhook URL are read when sending and never reach an error (`without_url`, and
//! scrubbed).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::message::{self, Channel};
use super::outbox::OutboxItem;
use super::sink::{
    Context, Delivered, REQUEST_TIMEOUT, SendError, Sink, SinkFuture, http_error, retry_after,
};
use crate::config::{Secret, StatusPage, StatusPageKind};

/// Statuspage's rate limit: one request a second.
pub const MIN_GAP: Duration = Duration::from_secs(1);

pub struct StatusPageSink {
    http: reqwest::Client,
    kind: StatusPageKind,
    components: BTreeMap<String, String>,
    /// When the last request was sent.
    last: Mutex<Option<Instant>>,
    gap: Duration,
}

impl StatusPageSink {
    pub fn new(cfg: &StatusPage) -> Result<StatusPageSink, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("warroom/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the status page's HTTP client: {e}"))?;
        Ok(StatusPageSink {
            http,
            kind: cfg.kind.clone(),
            components: cfg.components.clone(),
            last: Mutex::new(None),
            gap: MIN_GAP,
        })
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Result<StatusPageSink, String> {
        self.http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the status page's HTTP client: {e}"))?;
        Ok(self)
    }

    fn secret(&self) -> &Secret {
        match &self.kind {
            StatusPageKind::Atlassian { api_key, .. } => api_key,
            StatusPageKind::Webhook { url } => url,
        }
    }

    fn read_secret(&self) -> Result<String, SendError> {
        super::sink::read_secret(self.secret())
    }

    /// Waits until a request may be sent (one a second), then counts it as sent.
    async fn turn(&self) {
        let wait = {
            let Ok(mut last) = self.last.lock() else {
                return;
            };
            let now = Instant::now();
            let next = last.map_or(now, |l| (l + self.gap).max(now));
            *last = Some(next);
            next - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// One request; its answer as JSON, or why not. Nothing secret reaches the error.
    async fn call(
        &self,
        what: &str,
        req: reqwest::RequestBuilder,
        secret: &str,
    ) -> Result<Value, SendError> {
        self.turn().await;
        let secrets = super::sink::secrets_of(secret);
        let scrub = |t: &str| super::sink::scrubbed(t, &secrets);
        let resp = req.send().await.map_err(|e| {
            let arrived = !e.is_connect() && !e.is_builder();
            let e = e.without_url();
            SendError::Retry {
                reason: scrub(&format!("{what}: {e}")),
                after: None,
                maybe_arrived: arrived,
            }
        })?;
        let status = resp.status().as_u16();
        let after = retry_after(
            resp.headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
        );
        let body = resp.text().await.map_err(|e| SendError::Retry {
            reason: scrub(&format!(
                "{what}: the answer was cut off: {}",
                e.without_url()
            )),
            after: None,
            maybe_arrived: true,
        })?;
        if !(200..300).contains(&status) {
            return Err(http_error(
                status,
                after,
                &scrub(&format!("{what}: {body}")),
            ));
        }
        if body.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&body).map_err(|_| SendError::Retry {
            reason: scrub(&format!("{what}: the answer is not JSON: {body}")),
            after: None,
            maybe_arrived: true,
        })
    }

    fn base(api_url: &str, page_id: &str) -> String {
        format!("{}/pages/{page_id}", api_url.trim_end_matches('/'))
    }

    async fn atlassian(
        &self,
        d: &OutboxItem,
        ctx: &Context,
        page_id: &str,
        api_url: &str,
    ) -> Result<Delivered, SendError> {
        let key = self.read_secret()?;
        let base = Self::base(api_url, page_id);
        let auth = format!("OAuth {key}");
        match ctx.first.as_ref().and_then(|(_, s)| s.remote.clone()) {
            None => {
                let body = message::statuspage_create_body(&d.update, &self.components);
                let v = self
                    .call(
                        "create the incident",
                        self.http
                            .post(format!("{base}/incidents"))
                            .header(reqwest::header::AUTHORIZATION, &auth)
                            .json(&body),
                        &key,
                    )
                    .await?;
                let id = v["id"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| SendError::Retry {
                        reason: "create the incident: the answer has no incident id".into(),
                        after: None,
                        maybe_arrived: true,
                    })?;
                Ok(Delivered { remote: Some(id) })
            }
            Some(incident) => {
                let body = message::statuspage_update_body(&d.update, &self.components);
                self.call(
                    "update the incident",
                    self.http
                        .patch(format!("{base}/incidents/{incident}"))
                        .header(reqwest::header::AUTHORIZATION, &auth)
                        .json(&body),
                    &key,
                )
                .await?;
                Ok(Delivered {
                    remote: Some(incident),
                })
            }
        }
    }

    async fn atlassian_find(
        &self,
        d: &OutboxItem,
        ctx: &Context,
        page_id: &str,
        api_url: &str,
    ) -> Result<Option<String>, SendError> {
        let key = self.read_secret()?;
        let base = Self::base(api_url, page_id);
        let auth = format!("OAuth {key}");
        let since = ctx.attempt_at.map(|t| t.as_second() - 120).unwrap_or(0);
        let after = |v: &Value, field: &str| {
            v[field]
                .as_str()
                .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                .is_none_or(|t| t.as_second() >= since)
        };
        match ctx.first.as_ref().and_then(|(_, s)| s.remote.clone()) {
            None => {
                let url = reqwest::Url::parse_with_params(
                    &format!("{base}/incidents"),
                    &[
                        ("q", message::page_subject(&d.update).as_str()),
                        ("limit", "20"),
                    ],
                )
                .map_err(|e| SendError::Refused {
                    reason: format!("the status page's api_url is not a URL: {e}"),
                })?;
                let v = self
                    .call(
                        "look for the incident",
                        self.http
                            .get(url)
                            .header(reqwest::header::AUTHORIZATION, &auth),
                        &key,
                    )
                    .await?;
                Ok(v.as_array().and_then(|list| {
                    list.iter()
                        .find(|i| {
                            i["name"].as_str() == Some(message::page_subject(&d.update).as_str())
                                && after(i, "created_at")
                        })
                        .and_then(|i| i["id"].as_str().map(str::to_string))
                }))
            }
            Some(incident) => {
                let v = self
                    .call(
                        "look at the incident",
                        self.http
                            .get(format!("{base}/incidents/{incident}"))
                            .header(reqwest::header::AUTHORIZATION, &auth),
                        &key,
                    )
                    .await?;
                // What was last posted: the incident holds one update per update delivered
                // before this one (the first created it); one more, saying what this one
                // says, is this one. Two updates saying the same are told apart by the count.
                let body = message::page_body(&d.update);
                let ups = v["incident_updates"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let ours = ups.iter().filter(|u| {
                    u["body"].as_str() == Some(body.as_str())
                        && u["status"].as_str() == Some(d.update.status.label())
                        && after(u, "created_at")
                });
                let found = ups.len() > ctx.earlier.len() && ours.count() > 0;
                Ok(found.then_some(incident))
            }
        }
    }

    async fn webhook(&self, d: &OutboxItem, ctx: &Context) -> Result<Delivered, SendError> {
        let url = self.read_secret()?;
        let stem = d.journal.strip_suffix(".jsonl").unwrap_or(&d.journal);
        let body = message::webhook_state(&d.update, &ctx.earlier, &self.components, stem);
        self.call(
            "status page webhook",
            self.http
                .post(url.as_str())
                .header("Idempotency-Key", &d.id)
                .json(&body),
            &url,
        )
        .await?;
        Ok(Delivered { remote: None })
    }
}

impl Sink for StatusPageSink {
    fn channel(&self) -> Channel {
        Channel::StatusPage
    }

    fn deliver<'a>(&'a self, d: &'a OutboxItem, ctx: &'a Context) -> SinkFuture<'a, Delivered> {
        Box::pin(async move {
            match &self.kind {
                StatusPageKind::Atlassian {
                    page_id, api_url, ..
                } => self.atlassian(d, ctx, page_id, api_url).await,
                StatusPageKind::Webhook { .. } => self.webhook(d, ctx).await,
            }
        })
    }

    fn find<'a>(&'a self, d: &'a OutboxItem, ctx: &'a Context) -> SinkFuture<'a, Option<String>> {
        Box::pin(async move {
            match &self.kind {
                StatusPageKind::Atlassian {
                    page_id, api_url, ..
                } => self.atlassian_find(d, ctx, page_id, api_url).await,
                // The whole page's state, sent again, says the same: a resend is harmless.
                StatusPageKind::Webhook { .. } => Ok(None),
            }
        })
    }
}
