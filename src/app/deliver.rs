//! Delivering an update: the [`Sink`] trait every channel implements (Slack and the status
//! page in `comms/`, the drill's simulated sink in `drill/`), what a delivery is as the outbox
//! keeps it, and how one fails. The model's vocabulary; the outbox worker in `runtime/` drives
//! the sinks.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::message::{Channel, Update};

/// One update to one channel, as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// The update's id (the same for each of its channels): the dedupe key.
    pub id: String,
    pub channel: Channel,
    /// The incident journal's file name (where its lines go).
    pub journal: String,
    pub queued_at: Timestamp,
    /// Its place in the queue: when it was queued on this host, in nanoseconds, never the
    /// same twice in a process (updates composed within one tick of the model's clock keep
    /// the order they were sent in).
    #[serde(default)]
    pub order: i128,
    /// A drill's: only the drill's simulated sink may take it.
    #[serde(default)]
    pub simulated: bool,
    /// Who queued it (user@host).
    pub by: String,
    pub update: Update,
}

impl OutboxItem {
    /// Its file name: its place in the queue first, so a directory listing is the queue's
    /// order.
    pub fn name(&self) -> String {
        format!(
            "{:020}-{}-{}",
            self.order.max(0),
            self.id,
            self.channel.as_str()
        )
    }
}

/// A delivery that arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    pub at: Timestamp,
    /// What the far side calls it (Slack: `CHANNEL_ID:ts`; Statuspage: the incident id).
    pub remote: Option<String>,
    /// Found already there after a crash: not sent again.
    #[serde(default)]
    pub found: bool,
}

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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::app::IncidentStatus;
    use crate::app::message::{Facts, Template};

    /// A delivery for tests: update `id` to `channel`, queued `at` seconds after a fixed time.
    pub(crate) fn delivery(id: &str, channel: Channel, at: i64) -> OutboxItem {
        let at = Timestamp::from_second(1_764_558_000 + at).expect("t");
        OutboxItem {
            id: id.into(),
            channel,
            journal: "2026-12-01T0300Z-x.jsonl".into(),
            queued_at: at,
            order: at.as_nanosecond(),
            simulated: false,
            by: "ana@bastion".into(),
            update: Update {
                template: Template::Initial,
                status: IncidentStatus::Investigating,
                subject: "s".into(),
                text: "t".into(),
                public_subject: String::new(),
                public_text: String::new(),
                facts: Facts {
                    service: "svc".into(),
                    incident: "x".into(),
                    level: crate::app::DrLevel::new(1).expect("1"),
                    severity: "CRITICAL".into(),
                    started: at,
                    commander: "ana".into(),
                    components: vec![],
                    lag: vec![],
                    backups: vec![],
                    actions: vec![],
                },
                by: "ana@bastion".into(),
                at,
                next_update: at,
                to: vec![channel],
            },
        }
    }
}
