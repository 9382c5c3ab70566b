//! Slack, through slack-morphism: with a bot token, an incident's first update is a
//! `chat.postMessage` to the channel, the later ones reply in its thread, and `chat.update`
//! keeps the first message's status summary current; with an incoming webhook (when that is
//! all the team has), one message per update.
//!
//! The connector speaks HTTPS and, for a loopback test server, plain HTTP/1 too
//! (slack-morphism's default connector is HTTPS- and HTTP/2-only). The token and the webhook
//! URL are read when sending and scrubbed from every error.

use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::Value;
use slack_morphism::errors::*;
use slack_morphism::prelude::*;

use super::message::{self, Channel};
use super::outbox::OutboxItem;
use super::sink::{Context, Delivered, REQUEST_TIMEOUT, SendError, Sink, SinkFuture};
use crate::config::{Audience, Secret, Slack, SlackAuth};

type Connector = SlackClientHyperConnector<HttpsConnector<HttpConnector>>;

/// Error codes of the Slack Web API that no retry will fix (from the documented error lists
/// of chat.postMessage, chat.update and conversations.*): given up at once, with the reason.
const REFUSED: &[&str] = &[
    "restricted_action_read_only_channel",
    "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel",
    "not_allowed_token_type",
    "too_many_attachments",
    "too_many_blocks",
    "as_user_not_supported",
    "channel_is_archived",
    "team_access_not_granted",
    "ekm_access_denied",
    "access_denied",
    "two_factor_setup_required",
    "org_login_required",
    "method_deprecated",
    "deprecated_endpoint",
    "invalid_post_type",
    "missing_post_type",
    "invalid_metadata_format",
    "invalid_metadata_schema",
    "metadata_too_large",
    "edit_window_closed",
    "message_limit_exceeded",
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
    "missing_scope",
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "msg_too_long",
    "no_text",
    "invalid_blocks",
    "invalid_blocks_format",
    "invalid_arguments",
    "invalid_arg_name",
    "restricted_action",
    "cant_update_message",
    "message_not_found",
    "thread_not_found",
    "ekm_access_denied",
];

/// A connector over HTTPS (the platform's roots) and plain HTTP/1 or HTTP/2.
fn connector() -> HttpsConnector<HttpConnector> {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let with_roots = match builder.with_provider_and_native_roots(provider.clone()) {
        Ok(b) => b,
        Err(e) => {
            // No platform roots: HTTPS to Slack will fail and say so; loopback HTTP works.
            tracing::warn!(error = %e, "no TLS root certificates found for Slack");
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|b| {
                    b.with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth()
                });
            match config {
                Ok(c) => hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(c),
                Err(_) => hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(
                    rustls::ClientConfig::builder()
                        .with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth(),
                ),
            }
        }
    };
    with_roots
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build()
}

pub struct SlackSink {
    client: SlackClient<Connector>,
    auth: SlackAuth,
    channel: Option<String>,
    timeout: Duration,
    audience: Audience,
}

impl SlackSink {
    pub fn new(cfg: &Slack) -> SlackSink {
        let api = cfg.api_url.trim_end_matches('/');
        SlackSink {
            client: SlackClient::new(
                SlackClientHyperConnector::with_connector(connector()).with_slack_api_url(api),
            ),
            auth: cfg.auth.clone(),
            channel: cfg.channel.clone(),
            timeout: REQUEST_TIMEOUT,
            audience: cfg.audience,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> SlackSink {
        self.timeout = timeout;
        self
    }

    fn secret(&self) -> &Secret {
        match &self.auth {
            SlackAuth::Token(s) | SlackAuth::Webhook(s) => s,
        }
    }

    fn read_secret(&self) -> Result<String, SendError> {
        super::sink::read_secret(self.secret())
    }

    async fn timed<T>(
        &self,
        what: &str,
        secret: &str,
        f: impl std::future::Future<Output = ClientResult<T>>,
    ) -> Result<T, SendError> {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(what, &e, secret)),
            Err(_) => Err(SendError::Retry {
                reason: format!(
                    "{what}: no answer within {}",
                    crate::app::fmt::duration(self.timeout)
                ),
                after: None,
                maybe_arrived: true,
            }),
        }
    }

    async fn post(&self, d: &OutboxItem, ctx: &Context) -> Result<Delivered, SendError> {
        let token_value = self.read_secret()?;
        let token = SlackApiToken::new(SlackApiTokenValue(token_value.clone()));
        let session = self.client.open_session(&token);
        let channel = self.channel.clone().unwrap_or_default();
        let root = ctx
            .first
            .as_ref()
            .and_then(|(first, sent)| Some((first, split_remote(sent.remote.as_deref()?)?)));
        let body = message::slack_post_body(
            &d.update,
            &d.id,
            match &root {
                Some((_, (ch, _))) => ch,
                None => &channel,
            },
            root.as_ref().map(|(_, (_, ts))| ts.as_str()),
            ctx.replaces.as_deref(),
            self.audience,
        );
        let req: SlackApiChatPostMessageRequest = decode(body)?;
        let resp = self
            .timed(
                "chat.postMessage",
                &token_value,
                session.chat_post_message(&req),
            )
            .await?;
        let remote = format!("{}:{}", resp.channel.0, resp.ts.0);
        // A public channel's first message keeps what it said: its summary holds facts.
        if let Some((first, (ch, ts))) = root.filter(|_| self.audience == Audience::Team) {
            // The first message's summary made current: best effort, the reply is what counts.
            let body =
                message::slack_root_update_body(&first.update, &d.update, &first.id, &ch, &ts);
            match decode::<SlackApiChatUpdateRequest>(body) {
                Ok(req) => {
                    if let Err(e) = self
                        .timed("chat.update", &token_value, session.chat_update(&req))
                        .await
                    {
                        tracing::warn!(id = %d.id, reason = %e.reason(), "the thread's first message was not updated");
                    }
                }
                Err(e) => tracing::warn!(reason = %e.reason(), "chat.update not built"),
            }
        }
        Ok(Delivered {
            remote: Some(remote),
        })
    }

    async fn webhook(&self, d: &OutboxItem) -> Result<Delivered, SendError> {
        let url_text = self.read_secret()?;
        let url: reqwest::Url = url_text.parse().map_err(|_| SendError::Refused {
            reason: format!("{} does not hold a valid URL", self.secret().describe()),
        })?;
        let req: SlackApiPostWebhookMessageRequest =
            decode(message::slack_webhook_body(&d.update, &d.id, self.audience))?;
        self.timed(
            "incoming webhook",
            &url_text,
            self.client.post_webhook_message(&url, &req),
        )
        .await?;
        Ok(Delivered { remote: None })
    }

    /// The channel's id: from the thread's first message, the config (an id), or by name.
    async fn channel_id(
        &self,
        session: &SlackClientSession<'_, Connector>,
        token: &str,
        ctx: &Context,
    ) -> Result<String, SendError> {
        if let Some((ch, _)) = ctx
            .first
            .as_ref()
            .and_then(|(_, s)| split_remote(s.remote.as_deref()?))
        {
            return Ok(ch);
        }
        let configured = self.channel.clone().unwrap_or_default();
        let name = configured.trim_start_matches('#');
        if looks_like_id(name) {
            return Ok(name.to_string());
        }
        let mut cursor = None;
        for _ in 0..20 {
            let req = SlackApiConversationsListRequest {
                cursor: cursor.clone(),
                limit: Some(1000),
                exclude_archived: Some(true),
                types: Some(vec![
                    SlackConversationType::Public,
                    SlackConversationType::Private,
                ]),
            };
            let resp = self
                .timed(
                    "conversations.list",
                    token,
                    session.conversations_list(&req),
                )
                .await?;
            let v = serde_json::to_value(&resp).unwrap_or(Value::Null);
            if let Some(id) = v["channels"].as_array().and_then(|cs| {
                cs.iter().find_map(|c| {
                    (c["name"].as_str() == Some(name))
                        .then(|| c["id"].as_str().map(str::to_string))
                        .flatten()
                })
            }) {
                return Ok(id);
            }
            cursor = resp
                .response_metadata
                .and_then(|m| m.next_cursor)
                .filter(|c| !c.0.is_empty());
            if cursor.is_none() {
                break;
            }
        }
        Err(SendError::Refused {
            reason: format!("channel {configured} not found by conversations.list"),
        })
    }

    async fn look(&self, d: &OutboxItem, ctx: &Context) -> Result<Option<String>, SendError> {
        let token_value = self.read_secret()?;
        let token = SlackApiToken::new(SlackApiTokenValue(token_value.clone()));
        let session = self.client.open_session(&token);
        let channel = self.channel_id(&session, &token_value, ctx).await?;
        // Only the window where it could have landed: from a little before the attempt to a
        // little after its answer could have come.
        let ts = |s: i64| SlackTs(format!("{}.000000", s.max(0)));
        let oldest = ctx.attempt_at.map(|t| ts(t.as_second() - 120));
        let latest = ctx
            .attempt_at
            .map(|t| ts(t.as_second() + self.timeout.as_secs() as i64 + 300));
        let wanted = message::slack_ref(&d.id);
        let root = ctx
            .first
            .as_ref()
            .and_then(|(_, s)| split_remote(s.remote.as_deref()?));
        let found = |messages: &[Value]| {
            messages
                .iter()
                .find(|m| m.to_string().contains(&wanted))
                .and_then(|m| m["ts"].as_str().map(|ts| format!("{channel}:{ts}")))
        };
        let mut cursor: Option<SlackCursorId> = None;
        // A busy channel: page through the window (Slack answers the newest first).
        for _ in 0..20 {
            let (messages, next): (Vec<Value>, Option<SlackCursorId>) = match &root {
                None => {
                    let req = SlackApiConversationsHistoryRequest {
                        channel: Some(SlackChannelId(channel.clone())),
                        cursor: cursor.clone(),
                        latest: latest.clone(),
                        limit: Some(200),
                        oldest: oldest.clone(),
                        inclusive: Some(true),
                        include_all_metadata: None,
                    };
                    let resp = self
                        .timed(
                            "conversations.history",
                            &token_value,
                            session.conversations_history(&req),
                        )
                        .await?;
                    (
                        as_values(&resp.messages),
                        resp.response_metadata.and_then(|m| m.next_cursor),
                    )
                }
                Some((_, root_ts)) => {
                    let req = SlackApiConversationsRepliesRequest {
                        channel: SlackChannelId(channel.clone()),
                        ts: SlackTs(root_ts.clone()),
                        cursor: cursor.clone(),
                        latest: latest.clone(),
                        limit: Some(200),
                        oldest: oldest.clone(),
                        inclusive: Some(true),
                    };
                    let resp = self
                        .timed(
                            "conversations.replies",
                            &token_value,
                            session.conversations_replies(&req),
                        )
                        .await?;
                    (
                        as_values(&resp.messages),
                        resp.response_metadata.and_then(|m| m.next_cursor),
                    )
                }
            };
            if let Some(hit) = found(&messages) {
                return Ok(Some(hit));
            }
            cursor = next.filter(|c| !c.0.is_empty());
            if cursor.is_none() {
                return Ok(None);
            }
        }
        // Twenty pages of two hundred and still more: too busy to be sure either way.
        Err(SendError::Refused {
            reason: "the channel is too busy to tell whether the update arrived".into(),
        })
    }
}

/// Messages as JSON, to look for an update's `ref` in whatever fields Slack keeps it.
fn as_values(messages: &[SlackHistoryMessage]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| serde_json::to_value(m).unwrap_or(Value::Null))
        .collect()
}

fn looks_like_id(name: &str) -> bool {
    name.len() >= 9
        && name.starts_with(['C', 'G', 'D'])
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// `CHANNEL:ts` as the outbox keeps a Slack message.
fn split_remote(remote: &str) -> Option<(String, String)> {
    let (ch, ts) = remote.split_once(':')?;
    Some((ch.to_string(), ts.to_string()))
}

fn decode<T: for<'de> serde::Deserialize<'de>>(body: Value) -> Result<T, SendError> {
    serde_json::from_value(body).map_err(|e| SendError::Refused {
        reason: format!("the Slack message could not be built: {e}"),
    })
}

/// Error codes Slack documents as its own transient failures: retried.
const TRANSIENT: &[&str] = &[
    "ratelimited",
    "request_timeout",
    "service_unavailable",
    "fatal_error",
    "internal_error",
    "team_added_to_org",
];

/// A slack-morphism error as a [`SendError`], the secret scrubbed from every word of it.
fn classify(what: &str, e: &SlackClientError, secret: &str) -> SendError {
    let secrets = super::sink::secrets_of(secret);
    let scrub = |t: &str| super::sink::scrubbed(t, &secrets);
    match e {
        SlackClientError::ApiError(a) => {
            let reason = scrub(&format!("{what}: Slack said {}", a.code));
            if a.code == "ratelimited" {
                SendError::Retry {
                    reason,
                    after: None,
                    maybe_arrived: false,
                }
            } else if REFUSED.contains(&a.code.as_str()) {
                SendError::Refused { reason }
            } else if TRANSIENT.contains(&a.code.as_str()) {
                SendError::Retry {
                    reason,
                    after: None,
                    maybe_arrived: true,
                }
            } else {
                // Not in Slack's lists: retried a few times, then given up (an update must
                // not wait forever, nor hold up the ones behind it).
                SendError::Unknown { reason }
            }
        }
        SlackClientError::RateLimitError(r) => SendError::Retry {
            reason: scrub(&format!("{what}: rate limited (HTTP 429)")),
            after: r.retry_after.map(|a| a.min(super::sink::MAX_RETRY_AFTER)),
            maybe_arrived: false,
        },
        SlackClientError::HttpError(h) => super::sink::http_error(
            h.status_code.as_u16(),
            None,
            &scrub(&format!(
                "{what}: {}",
                h.http_response_body.as_deref().unwrap_or_default()
            )),
        ),
        other => {
            let text = other.to_string();
            // A connection that was never made carried nothing.
            let connect = text.contains("Connect") || text.contains("dns error");
            SendError::Retry {
                reason: scrub(&format!("{what}: {text}")),
                after: None,
                maybe_arrived: !connect,
            }
        }
    }
}

impl Sink for SlackSink {
    fn channel(&self) -> Channel {
        Channel::Slack
    }

    fn deliver<'a>(&'a self, d: &'a OutboxItem, ctx: &'a Context) -> SinkFuture<'a, Delivered> {
        Box::pin(async move {
            match &self.auth {
                SlackAuth::Token(_) => self.post(d, ctx).await,
                SlackAuth::Webhook(_) => self.webhook(d).await,
            }
        })
    }

    fn find<'a>(&'a self, d: &'a OutboxItem, ctx: &'a Context) -> SinkFuture<'a, Option<String>> {
        Box::pin(async move {
            match &self.auth {
                SlackAuth::Token(_) => self.look(d, ctx).await,
                SlackAuth::Webhook(_) => Err(SendError::Refused {
                    reason: "an incoming webhook cannot be asked what it received".into(),
                }),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_ids_and_remotes_are_told_apart() {
        assert!(looks_like_id("C0123ABCDEF"));
        assert!(!looks_like_id("dtem-war-room"));
        assert_eq!(
            split_remote("C01:1700.000100"),
            Some(("C01".into(), "1700.000100".into()))
        );
    }

    #[test]
    fn a_slack_error_never_carries_the_token() {
        let e = SlackClientError::HttpError(
            SlackClientHttpError::new(reqwest::StatusCode::UNAUTHORIZED)
                .with_http_response_body("bad token xoxb-PLANTED-1".into()),
        );
        let got = classify("chat.postMessage", &e, "xoxb-PLANTED-1");
        assert!(matches!(&got, SendError::Refused { .. }));
        assert!(!got.reason().contains("PLANTED"), "{}", got.reason());
        let api = SlackClientError::ApiError(SlackClientApiError::new("invalid_auth".into()));
        assert!(matches!(
            classify("x", &api, "s3cr3t"),
            SendError::Refused { .. }
        ));
        let busy = SlackClientError::ApiError(SlackClientApiError::new("internal_error".into()));
        assert!(matches!(
            classify("x", &busy, "s3cr3t"),
            SendError::Retry {
                maybe_arrived: true,
                ..
            }
        ));
    }
}
