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

/// Slack's reserved characters in text: `& < >` (so a note cannot ping `<!channel>`).
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Slack's limits, with margin: a text fits when its characters, its UTF-16 units and its
/// UTF-8 bytes are all within the limit (Slack is reported to count in more than one way;
/// an emoji is 1 character, 2 units, 4 bytes). Bytes are never fewer than the other two, so
/// they are what is counted.
pub const HEADER_MAX: usize = 150;
pub const SECTION_MAX: usize = 3000;
pub const FIELD_MAX: usize = 2000;
pub const FALLBACK_MAX: usize = 4000;
pub const BLOCKS_MAX: usize = 50;
/// Components listed in "Affected" before `… and N more`.
const AFFECTED_SHOWN: usize = 12;

/// `text` escaped for Slack, within `max` (bytes, so characters and UTF-16 units too) once
/// escaped, ending in `…` when cut (an entity is never cut in two).
fn escape_cut(text: &str, max: usize) -> String {
    let pieces = text.chars().map(|c| match c {
        '&' => "&amp;".to_string(),
        '<' => "&lt;".to_string(),
        '>' => "&gt;".to_string(),
        c => c.to_string(),
    });
    fit(pieces, max)
}

/// `text` within `max` bytes, ending in `…` when cut.
fn cut(text: &str, max: usize) -> String {
    fit(text.chars().map(String::from), max)
}

fn fit(pieces: impl Iterator<Item = String>, max: usize) -> String {
    let pieces: Vec<String> = pieces.collect();
    let total: usize = pieces.iter().map(String::len).sum();
    if total <= max {
        return pieces.concat();
    }
    let budget = max.saturating_sub('…'.len_utf8());
    let mut out = String::new();
    for p in pieces {
        if out.len() + p.len() > budget {
            break;
        }
        out.push_str(&p);
    }
    out.push('…');
    out
}

fn mrkdwn(text: &str) -> Value {
    json!({ "type": "mrkdwn", "text": text })
}

fn hh_mm(t: Timestamp) -> String {
    t.strftime("%H:%MZ").to_string()
}

/// The status fields every Slack message and the thread's first message carry.
/// When the next update comes, as a Slack field: a resolved incident has none.
fn slack_next_update(u: &Update) -> String {
    match u.status {
        IncidentStatus::Resolved => "*Next update*\nnone: resolved".to_string(),
        _ => format!("*Next update due*\n{}", hh_mm(u.next_update)),
    }
}

fn slack_fields(u: &Update) -> Value {
    let next = slack_next_update(u);
    json!({
        "type": "section",
        "fields": [
            mrkdwn(&cut(&format!("*Status*\n{}", u.status.label()), FIELD_MAX)),
            mrkdwn(&cut(&format!("*DR level*\n{}", u.facts.level.label()), FIELD_MAX)),
            mrkdwn(&cut(
                &format!("*Severity*\n{}", slack_escape(&u.facts.severity)),
                FIELD_MAX
            )),
            mrkdwn(&next),
        ]
    })
}

fn slack_affected(u: &Update) -> String {
    let affected = u.facts.affected();
    if affected.is_empty() {
        return "*Affected*: none — every component is UP".into();
    }
    let lines: Vec<String> = affected
        .iter()
        .take(AFFECTED_SHOWN)
        .map(|c| {
            let why = if c.reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", cut(&c.reason, 80))
            };
            escape_cut(&format!("• {} {}{why}", c.id, c.state.label()), 200)
        })
        .collect();
    let more = affected.len().saturating_sub(AFFECTED_SHOWN);
    let tail = if more > 0 {
        format!("\n… and {more} more")
    } else {
        String::new()
    };
    // Twelve lines of at most 200 bytes each and the tail fit a section; cut anyway.
    cut(
        &format!("*Affected*\n{}{tail}", lines.join("\n")),
        SECTION_MAX,
    )
}

fn slack_data(u: &Update) -> Option<String> {
    if u.facts.lag.is_empty() && u.facts.backups.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !u.facts.lag.is_empty() {
        parts.push(format!(
            "*Replication lag*\n{}",
            slack_escape(&u.facts.lag.join("\n"))
        ));
    }
    if !u.facts.backups.is_empty() {
        parts.push(format!(
            "*Backup age*\n{}",
            slack_escape(&u.facts.backups.join("\n"))
        ));
    }
    Some(parts.join("\n"))
}

/// The reference a message carries so that, after a crash between sending and recording,
/// the console can find it in the channel instead of posting it twice.
pub fn slack_ref(delivery: &str) -> String {
    format!("ref {delivery}")
}

fn slack_context(u: &Update, delivery: &str) -> Value {
    json!({
        "type": "context",
        "elements": [mrkdwn(&escape_cut(&format!(
            "posted by {} via warroom · {}",
            u.by,
            slack_ref(delivery)
        ), FIELD_MAX))]
    })
}

/// The Block Kit blocks of one update: header, status, affected components, lag and backup
/// age, the operator's text, who posted.
pub fn slack_blocks(u: &Update, delivery: &str) -> Value {
    let mut blocks = vec![
        json!({
            "type": "header",
            "text": { "type": "plain_text", "text": escape_cut(&u.subject, HEADER_MAX), "emoji": true }
        }),
        slack_fields(u),
        json!({ "type": "section", "text": mrkdwn(&slack_affected(u)) }),
    ];
    if let Some(data) = slack_data(u) {
        blocks.push(json!({ "type": "section", "text": mrkdwn(&cut(&data, SECTION_MAX)) }));
    }
    if !u.text.trim().is_empty() {
        blocks.push(json!({ "type": "divider" }));
        blocks.push(json!({
            "type": "section",
            "text": mrkdwn(&escape_cut(u.text.trim(), SECTION_MAX))
        }));
    }
    blocks.push(slack_context(u, delivery));
    Value::Array(blocks)
}

/// What a first update to arrive replaces: "the initial update queued 03:14Z, which could not
/// be delivered" (the outbox and the preview say it alike).
pub fn replaces_note(template: &str, queued_at: Timestamp) -> String {
    format!(
        "the {template} update queued {}, which could not be delivered",
        queued_at.strftime("%H:%MZ")
    )
}

/// The blocks a public Slack audience gets: the public subject and text, the status and
/// when the next update comes — no facts, no names of ours, nobody's account.
fn slack_public_blocks(u: &Update, delivery: &str) -> Value {
    let next = slack_next_update(u);
    json!([
        {
            "type": "header",
            "text": { "type": "plain_text", "text": escape_cut(&page_subject(u), HEADER_MAX), "emoji": true }
        },
        {
            "type": "section",
            "fields": [
                mrkdwn(&cut(&format!("*Status*\n{}", u.status.label()), FIELD_MAX)),
                mrkdwn(&next),
            ]
        },
        { "type": "section", "text": mrkdwn(&escape_cut(&page_body(u), SECTION_MAX)) },
        { "type": "context", "elements": [mrkdwn(&slack_ref(delivery))] }
    ])
}

/// The blocks and the notification text `audience` reads.
fn slack_content(u: &Update, delivery: &str, audience: Audience) -> (String, Value) {
    match audience {
        Audience::Team => (slack_text(u), slack_blocks(u, delivery)),
        Audience::Public => (
            escape_cut(
                &format!("{} — {}", page_subject(u), u.status.label()),
                FALLBACK_MAX,
            ),
            slack_public_blocks(u, delivery),
        ),
    }
}

/// The notification text (what a phone's lock screen shows) of an update.
pub fn slack_text(u: &Update) -> String {
    escape_cut(
        &format!("{} — {}", u.subject, u.status.label()),
        FALLBACK_MAX,
    )
}

/// `chat.postMessage` (bot token): the first update of an incident starts the thread, later
/// ones reply in it (`thread_ts` is the first one's `ts`, known when sending).
pub fn slack_post_body(
    u: &Update,
    delivery: &str,
    channel: &str,
    thread: Option<&str>,
    replaces: Option<&str>,
    audience: Audience,
) -> Value {
    let (text, mut blocks) = slack_content(u, delivery, audience);
    // The incident's first update to arrive, after one given up: it says what it replaces
    // (a reader who saw nothing before knows this is the start).
    if let (None, Some(what), Value::Array(list)) = (thread, replaces, &mut blocks) {
        list.insert(
            1,
            json!({
                "type": "context",
                "elements": [mrkdwn(&escape_cut(&format!("Starts this incident's thread: it replaces {what}"), FIELD_MAX))]
            }),
        );
    }
    let mut body = json!({
        "channel": channel,
        "text": text,
        "blocks": blocks,
    });
    if let Some(ts) = thread {
        body["thread_ts"] = Value::from(ts);
    }
    body
}

/// `chat.update` of the thread's first message: its status summary made current (the
/// latest update's status, severity, affected components and next-update time), its own
/// first text kept.
pub fn slack_root_update_body(
    first: &Update,
    latest: &Update,
    delivery: &str,
    channel_id: &str,
    ts: &str,
) -> Value {
    let mut blocks = vec![
        json!({
            "type": "header",
            "text": { "type": "plain_text", "text": escape_cut(&first.subject, HEADER_MAX), "emoji": true }
        }),
        slack_fields(latest),
        json!({ "type": "section", "text": mrkdwn(&slack_affected(latest)) }),
        json!({
            "type": "context",
            "elements": [mrkdwn(&slack_escape(&format!(
                "status as of {} ({} by {}): updates in the thread",
                hh_mm(latest.at),
                latest.template.label(),
                latest.by
            )))]
        }),
    ];
    if !first.text.trim().is_empty() {
        blocks.push(json!({ "type": "divider" }));
        blocks.push(json!({
            "type": "section",
            "text": mrkdwn(&escape_cut(first.text.trim(), SECTION_MAX))
        }));
    }
    blocks.push(slack_context(first, delivery));
    json!({
        "channel": channel_id,
        "ts": ts,
        "text": slack_text(latest),
        "blocks": blocks,
    })
}

/// An incoming webhook's body: the same blocks, no channel, no thread.
pub fn slack_webhook_body(u: &Update, delivery: &str, audience: Audience) -> Value {
    let (text, blocks) = slack_content(u, delivery, audience);
    json!({
        "text": text,
        "blocks": blocks,
    })
}

// ---------------------------------------------------------------- status page

/// A status page's component status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageStatus {
    Operational,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl PageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PageStatus::Operational => "operational",
            PageStatus::DegradedPerformance => "degraded_performance",
            PageStatus::PartialOutage => "partial_outage",
            PageStatus::MajorOutage => "major_outage",
        }
    }
}

/// The page's components and their status from ours, through the configured mapping. Several
/// of ours may map to one of theirs: all DOWN is a major outage, some DOWN a partial one,
/// any DEGRADED degraded performance, all UP operational. A page component whose every
/// component of ours is UNKNOWN is left as it is: we cannot see it, so we do not say.
pub fn page_components(
    facts: &Facts,
    mapping: &BTreeMap<String, String>,
) -> BTreeMap<String, PageStatus> {
    let mut by_theirs: BTreeMap<&str, Vec<HealthState>> = BTreeMap::new();
    for (ours, theirs) in mapping {
        if let Some(c) = facts.components.iter().find(|c| &c.id == ours) {
            by_theirs.entry(theirs.as_str()).or_default().push(c.state);
        }
    }
    by_theirs
        .into_iter()
        .filter_map(|(theirs, states)| {
            let known: Vec<HealthState> = states
                .into_iter()
                .filter(|s| *s != HealthState::Unknown)
                .collect();
            if known.is_empty() {
                return None;
            }
            let down = known.iter().filter(|s| **s == HealthState::Down).count();
            let status = if down == known.len() {
                PageStatus::MajorOutage
            } else if down > 0 {
                PageStatus::PartialOutage
            } else if known.contains(&HealthState::Degraded) {
                PageStatus::DegradedPerformance
            } else {
                PageStatus::Operational
            };
            Some((theirs.to_string(), status))
        })
        .collect()
}

/// The page components an incident touches: those with one of ours not UP now, or one that
/// failed earlier in this incident (shown recovered). Subscribers of a component the
/// incident never touched are not told about it.
pub fn affected_page_components(
    facts: &Facts,
    mapping: &BTreeMap<String, String>,
) -> BTreeMap<String, PageStatus> {
    let touched: std::collections::BTreeSet<&str> = mapping
        .iter()
        .filter(|(ours, _)| {
            facts
                .components
                .iter()
                .any(|c| &c.id == *ours && (c.state != HealthState::Up || c.affected))
        })
        .map(|(_, theirs)| theirs.as_str())
        .collect();
    page_components(facts, mapping)
        .into_iter()
        .filter(|(theirs, _)| touched.contains(theirs.as_str()))
        .collect()
}

/// The body of an incident update on the page: the public text (an update queued by an older
/// build has none: it is made from the facts, never from the team's text).
pub fn page_body(u: &Update) -> String {
    if u.public_text.trim().is_empty() {
        return crate::app::public::text(
            u.template,
            u.status,
            &u.facts,
            None,
            u.next_update,
            crate::config::Language::En,
        );
    }
    u.public_text.trim().to_string()
}

/// The page's incident name: the public subject (made from the facts when there is none).
pub fn page_subject(u: &Update) -> String {
    if u.public_subject.trim().is_empty() {
        return crate::app::public::subject(
            u.template,
            u.status,
            &u.facts,
            crate::config::Language::En,
        );
    }
    u.public_subject.trim().to_string()
}

/// The page's incident impact, from our severity.
pub fn page_impact(severity: &str) -> &'static str {
    match severity {
        "EMERGENCY" => "critical",
        s if s.starts_with("CRITICAL") => "major",
        "DEGRADED" => "minor",
        _ => "none",
    }
}

/// Later updates move the incident's status and add its body
/// (`PATCH /pages/{page_id}/incidents/{incident_id}`), with the page's component statuses.
pub fn statuspage_update_body(u: &Update, mapping: &BTreeMap<String, String>) -> Value {
    let components = affected_page_components(&u.facts, mapping);
    json!({
        "incident": {
            "status": u.status.label(),
            "body": page_body(u),
            "deliver_notifications": true,
            "component_ids": components.keys().collect::<Vec<_>>(),
            "components": components.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect::<serde_json::Map<_, _>>(),
        }
    })
}

/// Atlassian Statuspage: the first update of an incident creates it
/// (`POST /pages/{page_id}/incidents`): an update's body with a name and an impact.
pub fn statuspage_create_body(u: &Update, mapping: &BTreeMap<String, String>) -> Value {
    let mut body = statuspage_update_body(u, mapping);
    body["incident"]["name"] = Value::from(cut(&page_subject(u), 250));
    body["incident"]["impact_override"] = Value::from(page_impact(&u.facts.severity));
    body
}

/// The generic status-page webhook's body: the whole page as seed 000's StatusPageService
/// publishes it (status, components, incidents, lastUpdated). `earlier` are the incident's
/// updates already queued before this one, oldest first. Sent again, it says the same:
/// delivering it twice is harmless.
pub fn webhook_state(
    u: &Update,
    earlier: &[Update],
    mapping: &BTreeMap<String, String>,
    incident_id: &str,
) -> Value {
    let statuses = page_components(&u.facts, mapping);
    let names: BTreeMap<&str, Vec<&str>> = mapping.iter().fold(BTreeMap::new(), |mut m, (o, t)| {
        let name = u
            .facts
            .components
            .iter()
            .find(|c| &c.id == o)
            .and_then(|c| c.public_name.as_deref())
            // No public name: the page's own id, never an internal name.
            .unwrap_or(t.as_str());
        m.entry(t.as_str()).or_insert_with(Vec::new).push(name);
        m
    });
    let components: Vec<Value> = statuses
        .iter()
        .map(|(id, status)| {
            json!({
                "id": id,
                "name": names.get(id.as_str()).map(|n| n.join(", ")).unwrap_or_default(),
                "status": status.as_str(),
            })
        })
        .collect();
    let overall = statuses
        .values()
        .max()
        .copied()
        .unwrap_or(PageStatus::Operational);
    let first = earlier.first().unwrap_or(u);
    let updates: Vec<Value> = earlier
        .iter()
        .chain(std::iter::once(u))
        .map(|x| {
            json!({
                "message": page_body(x),
                "status": x.status.label(),
                "timestamp": x.at.to_string(),
            })
        })
        .collect();
    let mut incident = json!({
        "id": incident_id,
        "title": page_subject(first),
        "description": page_body(first),
        "impact": page_impact(&u.facts.severity),
        "status": u.status.label(),
        "createdAt": first.at.to_string(),
        "updates": updates,
    });
    if u.status == IncidentStatus::Resolved {
        incident["resolvedAt"] = Value::from(u.at.to_string());
    }
    // Like the seed, the page lists the incidents that are not resolved.
    let incidents = if u.status == IncidentStatus::Resolved {
        Vec::new()
    } else {
        vec![incident]
    };
    json!({
        "status": overall.as_str(),
        "components": components,
        "incidents": incidents,
        "lastUpdated": u.at.to_string(),
    })
}

#[cfg(test)]
mod tests;
