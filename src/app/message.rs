//! What an update says and exactly what each channel receives.
//!
//! Pure: an [`Update`] is composed in the console (from a template and the live state, then
//! edited by the operator) and rendered here into the request bodies Slack and the status
//! page get. The compose preview draws these same bodies, so what the operator approved is
//! what is sent, byte for byte (only the ids the far side hands out — the Slack thread, the
//! status-page incident — are filled in when sending).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::{DrLevel, HealthState, IncidentStatus};
use crate::config::{Audience, Tier};

mod slack;
pub use slack::*;
mod page;
pub use page::*;

/// Where an update goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The team: Slack (a bot token's threaded channel, or an incoming webhook).
    Slack,
    /// Customers: the public status page (Atlassian Statuspage or a generic webhook).
    #[serde(rename = "statuspage")]
    StatusPage,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Slack, Channel::StatusPage];

    /// As written in the journal and the outbox.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Slack => "slack",
            Channel::StatusPage => "statuspage",
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Channel, String> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown channel \"{s}\" (known: slack, statuspage)"))
    }
}

/// What must be typed to post where the public reads ([`Targets::audience`]).
pub const PUBLISH_WORD: &str = "publish";

/// How often customers get an update during an incident (seed 000's communication matrix:
/// customers, status page, every 30 minutes).
pub const CUSTOMER_EVERY: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// The seed's communication templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    /// "Initial Incident Notification".
    Initial,
    /// A progress update in between.
    Update,
    /// "Service Restoration Notification".
    Restoration,
}

impl Template {
    pub const ALL: [Template; 3] = [Template::Initial, Template::Update, Template::Restoration];

    /// As a runbook's `notify` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Template::Initial => "initial",
            Template::Update => "update",
            Template::Restoration => "restoration",
        }
    }

    pub fn parse(s: &str) -> Option<Template> {
        Template::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Template::Initial => "initial notification",
            Template::Update => "update",
            Template::Restoration => "restoration",
        }
    }
}

impl std::fmt::Display for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One component as the update tells it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentFact {
    pub id: String,
    pub name: String,
    /// What customers call it, in the update's language: the only name the public part uses
    /// (none: it is not named publicly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_name: Option<String>,
    pub tier: Tier,
    pub state: HealthState,
    /// Why it is not UP (empty when it is).
    pub reason: String,
    /// Its recovery time objective, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_seconds: Option<u64>,
    /// It failed at some point of this incident (it may be UP again now): the status page
    /// shows it, recovered, rather than forgetting it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub affected: bool,
}

/// What the console knew when the update was composed: the update says this, whenever it is
/// delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// The console's title ("DTEM production"): the service customers know.
    pub service: String,
    pub incident: String,
    pub level: DrLevel,
    /// "CRITICAL", "EMERGENCY"…
    pub severity: String,
    /// When the incident started (its first failure).
    pub started: Timestamp,
    pub commander: String,
    pub components: Vec<ComponentFact>,
    /// "db-primary → dtem-postgres-dr-replica: 6m17s (WARN)".
    pub lag: Vec<String>,
    /// "db-primary: newest backup 6h07m old (OK)".
    pub backups: Vec<String>,
    /// Steps that succeeded so far ("Promote the DR replica … (ana, 03:12Z)"), for the
    /// restoration notice's "actions taken".
    pub actions: Vec<String>,
}

impl Facts {
    /// Components that are not UP, worst first.
    pub fn affected(&self) -> Vec<&ComponentFact> {
        let rank = |s: HealthState| match s {
            HealthState::Down => 0,
            HealthState::Unknown => 1,
            HealthState::Degraded => 2,
            HealthState::Up => 3,
        };
        let mut v: Vec<&ComponentFact> = self
            .components
            .iter()
            .filter(|c| c.state != HealthState::Up)
            .collect();
        v.sort_by_key(|c| (rank(c.state), c.tier != Tier::Critical));
        v
    }
}

/// An update as composed and approved: everything each channel receives is rendered from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Update {
    pub template: Template,
    /// The incident status it announces (the status page's incident status).
    pub status: IncidentStatus,
    /// One line: the Slack header, the status page's incident name on the first update.
    pub subject: String,
    /// The operator's text for the team (Slack).
    pub text: String,
    /// What the public reads (the status page): its incident name and text. Empty in an
    /// update queued by an older build: then generated from the facts, with no ETA.
    #[serde(default)]
    pub public_subject: String,
    #[serde(default)]
    pub public_text: String,
    pub facts: Facts,
    /// Who posts it (user@host).
    pub by: String,
    pub at: Timestamp,
    /// When the next update is due (announced in it).
    pub next_update: Timestamp,
    pub to: Vec<Channel>,
}

/// An update and the incident it belongs to: the file name of the incident's journal, where
/// it is journaled as queued, sent or failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    pub journal: String,
    pub update: Update,
}

/// The longest text kept from the composer (Slack's section text limit is 3000).
pub const TEXT_MAX: usize = 2900;
/// The longest subject (Slack's header block limit is 150).
pub const SUBJECT_MAX: usize = 150;

/// Where each channel's updates go, as far as the console may know it (no secrets).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Targets {
    pub slack: Option<SlackTarget>,
    pub statuspage: Option<PageTarget>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlackTarget {
    /// `None` for an incoming webhook (it posts where it was made for).
    pub channel: Option<String>,
    /// An incoming webhook: one message per update, no thread, no chat.update.
    pub webhook: bool,
    /// Who reads the channel.
    pub audience: Audience,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PageTarget {
    /// `Some(page id)` for Atlassian Statuspage; `None` for a generic webhook.
    pub page_id: Option<String>,
    /// Our component id → the page's component id.
    pub components: BTreeMap<String, String>,
}

impl Targets {
    pub fn from_config(cfg: &crate::config::Config) -> Targets {
        use crate::config::{SlackAuth, StatusPageKind};
        Targets {
            slack: cfg.slack.as_ref().map(|s| SlackTarget {
                channel: s.channel.clone(),
                webhook: matches!(s.auth, SlackAuth::Webhook(_)),
                audience: s.audience,
            }),
            statuspage: cfg.statuspage.as_ref().map(|p| PageTarget {
                page_id: match &p.kind {
                    StatusPageKind::Atlassian { page_id, .. } => Some(page_id.clone()),
                    StatusPageKind::Webhook { .. } => None,
                },
                components: p.components.clone(),
            }),
        }
    }

    pub fn has(&self, channel: Channel) -> bool {
        match channel {
            Channel::Slack => self.slack.is_some(),
            Channel::StatusPage => self.statuspage.is_some(),
        }
    }

    /// Who reads `channel`: the status page is public; Slack as configured.
    pub fn audience(&self, channel: Channel) -> Audience {
        match channel {
            Channel::StatusPage => Audience::Public,
            Channel::Slack => self.slack.as_ref().map_or(Audience::Team, |s| s.audience),
        }
    }

    pub fn channels(&self) -> Vec<Channel> {
        Channel::ALL.into_iter().filter(|c| self.has(*c)).collect()
    }

    /// "Slack #dtem-war-room", "status page dtemstatus01".
    pub fn describe(&self, channel: Channel) -> String {
        match channel {
            Channel::Slack => {
                let public = match self.audience(channel) {
                    Audience::Public => " (public)",
                    Audience::Team => "",
                };
                match &self.slack {
                    Some(SlackTarget {
                        channel: Some(c),
                        webhook: false,
                        ..
                    }) => format!("Slack {c}{public}"),
                    Some(_) => format!("Slack (incoming webhook){public}"),
                    None => "Slack (not configured)".into(),
                }
            }
            Channel::StatusPage => match &self.statuspage {
                Some(PageTarget {
                    page_id: Some(p), ..
                }) => format!("status page {p} (public)"),
                Some(_) => "status page webhook (public)".into(),
                None => "status page (not configured)".into(),
            },
        }
    }
}

// ---------------------------------------------------------------- Slack

#[cfg(test)]
mod tests;
