//! Where deliveries go: one [`Sink`] per channel, built by the runtime. A real console builds
//! the Slack and status-page sinks of its config; a drill builds only [`SimSink`]s; a
//! read-only console builds none (it has no outbox worker at all).

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;

use super::message::{Channel, Update};
use super::outbox::{OutboxItem, Sent};

/// Why a delivery did not arrive.
#[derive(Debug, Clone, PartialEq)]
pub enum SendError {
    /// Worth trying again: the network, a timeout, a 5xx, a 429 (with the `Retry-After` the
    /// far side gave), a secret not readable right now.
    Retry {
        reason: String,
        after: Option<Duration>,
        /// The request may have reached the far side (a timeout, a 5xx): before sending again,
        /// ask whether it arrived.
        maybe_arrived: bool,
    },
    /// Trying again will not help: the far side refused it (a bad token, an unknown channel,
    /// a request it will not take).
    Refused { reason: String },
    /// This console cannot send it (its secret is not set or not readable here): another
    /// console may; nothing was sent.
    NotHere { reason: String },
    /// An answer the far side does not document: tried again up to
    /// [`UNKNOWN_ATTEMPTS`] times in all, then given up like a refusal.
    Unknown { reason: String },
}

/// Attempts an update gets when the far side's answer is not one it documents.
pub const UNKNOWN_ATTEMPTS: u32 = 3;

impl SendError {
    pub fn reason(&self) -> &str {
        match self {
            SendError::Retry { reason, .. }
            | SendError::Refused { reason }
            | SendError::NotHere { reason }
            | SendError::Unknown { reason } => reason,
        }
    }
}

/// A delivery that arrived: what the far side calls it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    pub remote: Option<String>,
}

/// What the far side already has of this incident on this channel, from the outbox.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Context {
    /// The incident's first update that arrived on this channel: the Slack thread's first
    /// message, the status page's incident.
    pub first: Option<(OutboxItem, Sent)>,
    /// The incident's earlier updates to this channel, oldest first (the webhook's state).
    pub earlier: Vec<Update>,
    /// When the send now in doubt was started.
    pub attempt_at: Option<Timestamp>,
    /// No earlier update arrived but one was given up: what this one replaces
    /// ([`super::message::replaces_note`]).
    pub replaces: Option<String>,
}

pub type SinkFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SendError>> + Send + 'a>>;

pub trait Sink: Send + Sync {
    fn channel(&self) -> Channel;

    /// A drill's sink: it takes only a drill's deliveries, and a real sink never takes those.
    fn simulated(&self) -> bool {
        false
    }

    /// Sends one delivery. Never panics on a bad answer; a secret never reaches the error.
    fn deliver<'a>(&'a self, d: &'a OutboxItem, ctx: &'a Context) -> SinkFuture<'a, Delivered>;

    /// After a send whose answer was not recorded (a crash, a timeout): did it arrive?
    /// `Ok(Some(remote))` if it did, `Ok(None)` if it did not, `Err(Refused)` when the far
    /// side cannot be asked (an incoming webhook): then it is not sent again by itself.
    fn find<'a>(&'a self, d: &'a OutboxItem, ctx: &'a Context) -> SinkFuture<'a, Option<String>>;
}

/// A drill's sink: takes every delivery at once and keeps it, touching nothing real.
#[derive(Debug, Default)]
pub struct SimSink {
    channel: Option<Channel>,
    taken: Mutex<Vec<OutboxItem>>,
}

impl SimSink {
    pub fn new(channel: Channel) -> SimSink {
        SimSink {
            channel: Some(channel),
            taken: Mutex::new(Vec::new()),
        }
    }

    /// What it took, in order.
    pub fn taken(&self) -> Vec<OutboxItem> {
        self.taken.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

impl Sink for SimSink {
    fn channel(&self) -> Channel {
        self.channel.unwrap_or(Channel::Slack)
    }

    fn simulated(&self) -> bool {
        true
    }

    fn deliver<'a>(&'a self, d: &'a OutboxItem, _ctx: &'a Context) -> SinkFuture<'a, Delivered> {
        Box::pin(async move {
            let n = match self.taken.lock() {
                Ok(mut t) => {
                    t.push(d.clone());
                    t.len()
                }
                Err(_) => 0,
            };
            Ok(Delivered {
                remote: Some(format!("simulated-{}-{n}", d.channel.as_str())),
            })
        })
    }

    fn find<'a>(&'a self, d: &'a OutboxItem, _ctx: &'a Context) -> SinkFuture<'a, Option<String>> {
        Box::pin(async move {
            let found = self.taken.lock().ok().and_then(|t| {
                t.iter()
                    .position(|x| x.id == d.id && x.channel == d.channel)
            });
            Ok(found.map(|i| format!("simulated-{}-{}", d.channel.as_str(), i + 1)))
        })
    }
}

/// How long a request to Slack or the status page may take before it counts as lost.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// An HTTP status as a [`SendError`]: 429 and 5xx are worth a retry (a 5xx may have been
/// applied), 408 too; any other 4xx is a refusal. `body` is already safe to show.
pub fn http_error(status: u16, retry_after: Option<Duration>, body: &str) -> SendError {
    let what = if body.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {body}")
    };
    match status {
        // 420 is Statuspage's other way of saying "rate limited".
        420 | 429 => SendError::Retry {
            reason: what,
            after: retry_after,
            maybe_arrived: false,
        },
        408 => SendError::Retry {
            reason: what,
            after: retry_after,
            maybe_arrived: true,
        },
        500..=599 => SendError::Retry {
            reason: what,
            after: retry_after,
            maybe_arrived: true,
        },
        _ => SendError::Refused { reason: what },
    }
}

/// A sink's secret, read now; one this console cannot read is not a failure of the update:
/// another console may send it.
pub fn read_secret(secret: &crate::config::Secret) -> Result<String, SendError> {
    crate::config::secret::read(secret).map_err(|e| SendError::NotHere {
        reason: e.to_string(),
    })
}

/// The longest wait a far side may ask for: more is taken as this (a bad header must not
/// park an update for days).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// `Retry-After` in seconds (the HTTP-date form is taken as "soon": a minute).
pub fn retry_after(value: Option<&str>) -> Option<Duration> {
    let v = value?.trim();
    match v.parse::<u64>() {
        Ok(s) => Some(Duration::from_secs(s).min(MAX_RETRY_AFTER)),
        Err(_) if !v.is_empty() => Some(Duration::from_secs(60)),
        Err(_) => None,
    }
}

/// What to take out of any text the far side answers: the secret, and for a URL secret (a
/// webhook) its path and each long path segment too — a 404 page quoting the path quotes it.
pub fn secrets_of(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_string()];
    if let Ok(url) = reqwest::Url::parse(secret) {
        out.extend(crate::text::redact::url_secrets(&url));
        let path = url.path();
        if path.len() > 1 {
            out.push(path.to_string());
            out.extend(
                path.split('/')
                    .filter(|seg| seg.len() >= 6)
                    .map(str::to_string),
            );
        }
    }
    out
}

/// A far side's text made fit for a reason: secrets taken out first (a secret cut in two by
/// the length limit would survive in part), then cut.
pub fn scrubbed(text: &str, secrets: &[String]) -> String {
    crate::text::redact::excerpt(&crate::text::redact::scrub(text, secrets), 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_say_whether_to_retry_and_whether_it_may_have_arrived() {
        assert!(matches!(
            http_error(429, Some(Duration::from_secs(7)), ""),
            SendError::Retry { after: Some(d), maybe_arrived: false, .. } if d.as_secs() == 7
        ));
        assert!(matches!(
            http_error(503, None, "x"),
            SendError::Retry {
                maybe_arrived: true,
                ..
            }
        ));
        assert!(matches!(
            http_error(401, None, ""),
            SendError::Refused { .. }
        ));
        assert_eq!(retry_after(Some("12")), Some(Duration::from_secs(12)));
        assert_eq!(
            retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after(None), None);
    }

    #[test]
    fn a_secret_is_taken_out_before_the_text_is_cut_and_a_webhook_path_too() {
        let token = "xoxb-PLANTED-0123456789";
        let long = format!("{}{token} and more", "x".repeat(290));
        let got = scrubbed(&long, &secrets_of(token));
        assert!(!got.contains("PLANTED"), "{got}");
        let hook = "https://hooks.slack.com/services/T0DTEM/B0HOOK/PLANTEDhookSECRET";
        let echo = "Cannot POST /services/T0DTEM/B0HOOK/PLANTEDhookSECRET (no such hook PLANTEDhookSECRET)";
        let got = scrubbed(echo, &secrets_of(hook));
        assert!(!got.contains("PLANTEDhook"), "{got}");
    }

    #[tokio::test]
    async fn the_sim_sink_takes_everything_and_finds_what_it_took() {
        let sink = SimSink::new(Channel::Slack);
        let d = crate::comms::outbox::tests::delivery("u1", Channel::Slack, 0);
        let ctx = Context::default();
        assert_eq!(sink.find(&d, &ctx).await, Ok(None));
        let got = sink.deliver(&d, &ctx).await.expect("taken");
        assert_eq!(got.remote.as_deref(), Some("simulated-slack-1"));
        assert_eq!(
            sink.find(&d, &ctx).await,
            Ok(Some("simulated-slack-1".into()))
        );
        assert_eq!(sink.taken().len(), 1);
        assert!(sink.simulated());
    }
}
