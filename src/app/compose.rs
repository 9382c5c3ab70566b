//! The update composer (`u`, or a runbook's `notify` step): choose a template, edit the text,
//! see exactly what Slack and the status page will receive, send with Enter. The public
//! status page also needs the typed word `publish`. Like the other dialogs it takes every key
//! while open; Enter does nothing until the update is complete and says what it waits for.
//!
//! What the update says about the estate (the facts) is taken when the composer opens, or
//! when the template changes: the preview shows those facts and they are what is sent.

use jiff::{SignedDuration, Timestamp};

use super::dialog::{RESOLVE_WORD, cycle};
use super::entry::{IncidentStatus, StepResult};
use super::signals::HealthState;
use super::update::State;
use super::view::Key;
use crate::app::message::{
    self, CUSTOMER_EVERY, Channel, ComponentFact, Facts, PUBLISH_WORD, SUBJECT_MAX, TEXT_MAX,
    Template, Update,
};
use crate::app::template;
use crate::text as sanitize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposeField {
    Template,
    Subject,
    Status,
    To,
    /// The team's text (Slack).
    Text,
    /// What the public reads (the status page).
    Public,
    /// The estimated resolution the public text gives (none until typed).
    Eta,
    /// `override resolve: <reason>`: announcing resolved while a component is not UP.
    Override,
    /// The word `resolve`: announcing resolved.
    Resolve,
    Publish,
}

impl ComposeField {
    const ORDER: [ComposeField; 10] = [
        ComposeField::Template,
        ComposeField::Subject,
        ComposeField::Status,
        ComposeField::To,
        ComposeField::Text,
        ComposeField::Public,
        ComposeField::Eta,
        ComposeField::Override,
        ComposeField::Resolve,
        ComposeField::Publish,
    ];
}

/// What starts the line that lets an update announce `resolved` while a component is not UP
/// (the reason follows).
pub const OVERRIDE_RESOLVE: &str = "override resolve:";

/// The components not UP and fresh on this console's screen now (`db-primary DOWN`): an
/// update may announce `resolved` only when there are none, or with `override resolve:`.
pub fn not_up(state: &State) -> Vec<String> {
    state
        .components()
        .filter_map(|(ix, spec, _)| match state.health(ix) {
            Some(h) if h.state == HealthState::Up && !h.stale => None,
            Some(h) if h.stale => Some(format!("{} STALE", spec.id)),
            Some(h) => Some(format!("{} {}", spec.id, h.state.label())),
            None => Some(format!("{} UNKNOWN", spec.id)),
        })
        .collect()
}

/// The composer while open.
#[derive(Debug, Clone, PartialEq)]
pub struct Compose {
    pub template: Template,
    pub subject: String,
    pub status: IncidentStatus,
    /// The channels configured, each with whether this update goes there.
    pub to: Vec<(Channel, bool)>,
    /// The channels the public reads (the status page; Slack with `audience = "public"`).
    pub public_channels: Vec<Channel>,
    /// The channel the To field points at (Space toggles it).
    pub to_cursor: usize,
    pub text: String,
    /// Where typing goes in the text, in characters.
    pub cursor: usize,
    /// The public part: the status page's incident name and text (its own cursor), made from
    /// the template until edited.
    pub public_subject: String,
    pub public_text: String,
    pub public_cursor: usize,
    pub public_edited: bool,
    /// The estimated resolution typed for the public text (empty: "not yet known").
    pub eta: String,
    /// What has been typed of [`PUBLISH_WORD`].
    pub publish: String,
    /// What has been typed of [`RESOLVE_WORD`] (asked when the status is resolved).
    pub resolve: String,
    /// What has been typed of `override resolve: <reason>` (asked when the status is
    /// resolved while a component is not UP).
    pub override_resolve: String,
    pub field: ComposeField,
    pub facts: Facts,
    /// When the facts were taken (the preview says so).
    pub facts_at: Timestamp,
    /// First line of the preview shown.
    pub preview_scroll: usize,
    /// The subject or the text was edited: Esc asks again before throwing that away.
    pub edited: bool,
    /// Esc was pressed once on edited text: the next Esc cancels.
    pub cancel_armed: bool,
    /// The `notify` step this update completes, if a step opened the composer.
    pub step: Option<(String, String)>,
}

/// What the operator asked for when the composer closed.
#[derive(Debug, Clone, PartialEq)]
pub enum ComposeOutcome {
    Open,
    Cancel,
    Send,
}

/// The facts an update tells, from what this console shows now.
pub fn facts(state: &State) -> Facts {
    let now = state.now();
    let incident = state.incident.as_ref();
    let mut components = Vec::new();
    let mut lag = Vec::new();
    let mut backups = Vec::new();
    for (ix, spec, c) in state.components() {
        let shown = state.health(ix);
        let (health, reason) = match &shown {
            Some(h) if h.state != HealthState::Up => (h.state, h.reason.clone()),
            Some(h) => (h.state, String::new()),
            None => (HealthState::Unknown, String::new()),
        };
        components.push(ComponentFact {
            id: spec.id.clone(),
            name: spec.name.clone(),
            public_name: spec
                .public_names
                .iter()
                .find(|(l, _)| *l == state.language)
                .map(|(_, n)| n.clone()),
            tier: spec.tier,
            state: health,
            reason: crate::redact::excerpt(&reason, 200),
            rto_seconds: spec.rto.map(|d| d.as_secs()),
            // Not UP now, or DOWN at some point since the incident's first failure.
            affected: health != HealthState::Up
                || incident.is_some_and(|i| c.outage().is_some_and(|o| o.down_since >= i.started)),
        });
        if let Some(l) = c.lag() {
            for r in l.replicas() {
                let value = r
                    .value()
                    .map(|m| super::fmt::seconds(m.seconds))
                    .unwrap_or_else(|| "no data".into());
                lag.push(format!(
                    "{} → {}: {value} ({})",
                    spec.id,
                    r.name(),
                    r.level().state().label()
                ));
            }
        }
        if let Some(b) = c.backup() {
            let age = b
                .value()
                .map(|m| format!("newest backup {} old", super::fmt::seconds(m.seconds)))
                .unwrap_or_else(|| "no backup seen".into());
            backups.push(format!(
                "{}: {age} ({})",
                spec.id,
                b.level().state().label()
            ));
        }
    }
    let mut actions: Vec<(Timestamp, String)> = Vec::new();
    for rb in &state.runbooks {
        for st in &rb.steps {
            if let Some(r) = state.steps.get(&rb.id, &st.id)
                && let Some((StepResult::Succeeded, _)) = &r.finished
            {
                let at = r.last_at.unwrap_or(now);
                actions.push((
                    at,
                    format!("{} ({}, {})", st.title, r.last_actor, at.strftime("%H:%MZ")),
                ));
            }
        }
    }
    actions.sort();
    Facts {
        service: state.title.clone(),
        incident: incident.map(|i| i.title.clone()).unwrap_or_default(),
        level: incident
            .map(|i| i.level)
            .unwrap_or(super::entry::DrLevel::ALL[0]),
        severity: state.severity().label().to_string(),
        started: incident.map(|i| i.started).unwrap_or(now),
        commander: incident.map(|i| i.commander.clone()).unwrap_or_default(),
        components,
        lag,
        backups,
        actions: actions.into_iter().map(|(_, a)| a).collect(),
    }
}

/// When the update composed now says the next one is due.
pub fn next_update(now: Timestamp) -> Timestamp {
    now.saturating_add(SignedDuration::try_from(CUSTOMER_EVERY).unwrap_or_default())
        .unwrap_or(now)
}

fn byte_at(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

/// What the preview calls the id the outbox gives when the update is queued.
const ID_LATER: &str = "u(id given when queued)";

fn pretty(v: &serde_json::Value) -> Vec<String> {
    serde_json::to_string_pretty(v)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// What one channel will get of `u`: the request, then its body.
fn channel_preview(state: &State, channel: Channel, u: &Update) -> Vec<String> {
    // The first update to arrive starts the thread / creates the page's incident; one given
    // up does not count, one still on its way does (the worker delivers in order).
    let first = !state.comms.started(channel.as_str());
    let before = state.comms.waiting_to(channel.as_str());
    let after = if before > 0 {
        format!(" (after the {before} update(s) still waiting before it)")
    } else {
        String::new()
    };
    let mut out = Vec::new();
    match channel {
        Channel::Slack => match &state.targets.slack {
            Some(s) if !s.webhook => {
                let ch = s.channel.clone().unwrap_or_default();
                if first {
                    // After one given up, it says what it replaces (as the outbox will).
                    let replaces = state
                        .comms
                        .all()
                        .iter()
                        .find(|d| d.channel == channel.as_str())
                        .map(|d| message::replaces_note(&d.template, d.queued_at));
                    out.push(format!(
                        "▶ Slack chat.postMessage to {ch} — the incident's first update to arrive: it starts the thread"
                    ));
                    out.extend(pretty(&message::slack_post_body(
                        u,
                        ID_LATER,
                        &ch,
                        None,
                        replaces.as_deref(),
                        state.targets.audience(channel),
                    )));
                } else {
                    out.push(format!(
                        "▶ Slack chat.postMessage to {ch}, a reply in the incident's thread{after}; then chat.update of the thread's first message (its status summary: {}, {})",
                        u.status.label(),
                        u.facts.severity
                    ));
                    out.extend(pretty(&message::slack_post_body(
                        u,
                        ID_LATER,
                        "(the thread's channel)",
                        Some("(the first message's ts)"),
                        None,
                        state.targets.audience(channel),
                    )));
                }
            }
            Some(_) => {
                out.push(format!("▶ Slack incoming webhook: POST (no thread){after}"));
                out.extend(pretty(&message::slack_webhook_body(
                    u,
                    ID_LATER,
                    state.targets.audience(channel),
                )));
            }
            None => out.push("▶ Slack: not configured".into()),
        },
        Channel::StatusPage => match &state.targets.statuspage {
            Some(p) => match &p.page_id {
                Some(page) => {
                    if first {
                        out.push(format!(
                            "▶ Status page (PUBLIC): POST /pages/{page}/incidents — creates the incident"
                        ));
                        out.extend(pretty(&message::statuspage_create_body(u, &p.components)));
                    } else {
                        out.push(format!(
                            "▶ Status page (PUBLIC): PATCH /pages/{page}/incidents/(the incident's id){after}"
                        ));
                        out.extend(pretty(&message::statuspage_update_body(u, &p.components)));
                    }
                }
                None => {
                    let earlier = state
                        .comms
                        .all()
                        .iter()
                        .filter(|d| d.channel == channel.as_str())
                        .count();
                    out.push(format!(
                        "▶ Status page webhook (PUBLIC): POST the whole page{}",
                        if earlier > 0 {
                            format!(
                                " — shown as if this were the incident's only update: the page's incident also takes its title, description and createdAt from the first of the {earlier} earlier update(s), and its `updates` list them all{after}"
                            )
                        } else {
                            String::new()
                        }
                    ));
                    let stem = state
                        .incident
                        .as_ref()
                        .and_then(|i| i.journal.as_deref())
                        .map(|j| j.trim_end_matches(".jsonl").to_string())
                        .unwrap_or_default();
                    out.extend(pretty(&message::webhook_state(
                        u,
                        &[],
                        &p.components,
                        &stem,
                    )));
                }
            },
            None => out.push("▶ Status page: not configured".into()),
        },
    }
    out
}

impl Compose {
    /// A composer on `template`, for the channels configured (all ticked).
    pub fn new(state: &State, template: Template, channels: &[Channel]) -> Compose {
        let incident = state
            .incident
            .as_ref()
            .map_or(IncidentStatus::Investigating, |i| i.status);
        let mut c = Compose {
            template,
            subject: String::new(),
            status: template::default_status(template, incident, not_up(state).is_empty()),
            to: channels.iter().map(|c| (*c, true)).collect(),
            public_channels: channels
                .iter()
                .copied()
                .filter(|c| state.targets.audience(*c) == crate::config::Audience::Public)
                .collect(),
            to_cursor: 0,
            text: String::new(),
            cursor: 0,
            public_subject: String::new(),
            public_text: String::new(),
            public_cursor: 0,
            public_edited: false,
            eta: String::new(),
            publish: String::new(),
            resolve: String::new(),
            override_resolve: String::new(),
            field: ComposeField::Text,
            facts: facts(state),
            facts_at: state.now(),
            preview_scroll: 0,
            edited: false,
            cancel_armed: false,
            step: None,
        };
        c.fill(state);
        c
    }

    /// The template's subject and text, on facts taken now.
    fn fill(&mut self, state: &State) {
        self.facts = facts(state);
        self.facts_at = state.now();
        self.edited = false;
        self.subject = template::subject(self.template, self.status, &self.facts)
            .chars()
            .take(SUBJECT_MAX)
            .collect();
        self.text = template::text(self.template, &self.facts, next_update(state.now()));
        self.cursor = self.text.chars().count();
        self.public_edited = false;
        self.refill_public(state);
        self.preview_scroll = 0;
    }

    /// The public subject and text from the template, the status and the ETA typed, unless
    /// the public text was edited.
    fn refill_public(&mut self, state: &State) {
        self.public_subject =
            super::public::subject(self.template, self.status, &self.facts, state.language);
        if self.public_edited {
            return;
        }
        let eta = Some(self.eta.as_str()).filter(|e| !e.trim().is_empty());
        self.public_text = super::public::text(
            self.template,
            self.status,
            &self.facts,
            eta,
            next_update(state.now()),
            state.language,
        );
        self.public_cursor = self.public_text.chars().count();
    }

    pub fn channels(&self) -> Vec<Channel> {
        self.to
            .iter()
            .filter(|(_, on)| *on)
            .map(|(c, _)| *c)
            .collect()
    }

    /// Whether the public reads what this update goes to (then `publish` is typed).
    pub fn public(&self) -> bool {
        self.channels()
            .iter()
            .any(|c| self.public_channels.contains(c))
    }

    /// Sets the status the update announces (a `notify` step's own), with the subject that
    /// says it.
    pub fn set_status(&mut self, state: &State, status: IncidentStatus) {
        self.status = status;
        if !self.edited {
            self.fill(state);
        }
    }

    /// The reason typed after `override resolve:`, if one was.
    pub fn override_reason(&self) -> Option<&str> {
        self.override_resolve
            .strip_prefix(OVERRIDE_RESOLVE)
            .map(str::trim)
            .filter(|r| !r.is_empty())
    }

    /// Announcing resolved while something is not UP: the override line is asked for.
    fn needs_override(&self, state: &State) -> bool {
        self.status == IncidentStatus::Resolved && !not_up(state).is_empty()
    }

    /// Whether Enter would send now, and if not, why.
    pub fn blocked(&self, state: &State) -> Option<&'static str> {
        if self.channels().is_empty() {
            return Some("tick where it goes (To: Space)");
        }
        if self.subject.trim().is_empty() {
            return Some("type a subject");
        }
        if self.text.trim().is_empty() {
            return Some("type the text");
        }
        if self.public() && self.public_text.trim().is_empty() {
            return Some("type the public text");
        }
        if self.needs_override(state) && self.override_reason().is_none() {
            return Some(
                "not every component is UP: type `override resolve: <reason>` to announce resolved (or choose another status)",
            );
        }
        if self.status == IncidentStatus::Resolved && self.resolve != RESOLVE_WORD {
            return Some("type `resolve` to announce resolved");
        }
        if self.public() && self.publish != PUBLISH_WORD {
            return Some("type `publish`: the public reads where this goes (or untick it)");
        }
        None
    }

    /// The fields Tab visits: Publish only when the status page is ticked; Resolve when the
    /// status is resolved, Override too while a component is not UP.
    pub fn fields(&self, state: &State) -> Vec<ComposeField> {
        ComposeField::ORDER
            .into_iter()
            .filter(|f| match f {
                ComposeField::Publish => self.public(),
                ComposeField::Resolve => self.status == IncidentStatus::Resolved,
                ComposeField::Override => self.needs_override(state),
                _ => true,
            })
            .collect()
    }

    fn move_field(&mut self, forward: bool, state: &State) {
        let fields = self.fields(state);
        self.field = cycle(&fields, self.field, forward);
    }

    /// The preview: for each channel ticked, the request and its body as it will be sent.
    pub fn preview(&self, state: &State) -> Vec<String> {
        let u = self.update(state);
        let mut out = vec![format!(
            "Exactly what is sent (facts as of {}; PgUp/PgDn scroll):",
            self.facts_at.strftime("%H:%M:%SZ")
        )];
        for channel in &u.to {
            out.push(String::new());
            out.extend(channel_preview(state, *channel, &u));
        }
        out
    }

    /// The update as it would be sent now.
    pub fn update(&self, state: &State) -> Update {
        let at = state.now();
        Update {
            template: self.template,
            status: self.status,
            // Through the one cleaner (controls, bidi, invisible characters, secrets): the
            // preview is built from this very update, so what it shows is what is sent.
            subject: sanitize::clean(self.subject.trim()).into_owned(),
            text: sanitize::clean_text(&self.text),
            public_subject: sanitize::clean(self.public_subject.trim()).into_owned(),
            public_text: sanitize::clean_text(&self.public_text),
            facts: self.facts.clone(),
            by: state.actor.clone(),
            at,
            next_update: next_update(at),
            to: self.channels(),
        }
    }

    fn insert(&mut self, text: &str) {
        self.edited = true;
        let room = TEXT_MAX.saturating_sub(self.text.chars().count());
        let piece: String = text
            .chars()
            .filter(|c| *c == '\n' || !c.is_control())
            .take(room)
            .collect();
        let at = byte_at(&self.text, self.cursor);
        self.text.insert_str(at, &piece);
        self.cursor += piece.chars().count();
    }

    /// The start of the line the cursor is on, and of the lines before and after it.
    fn line_starts(&self) -> Vec<usize> {
        let mut starts = vec![0];
        for (i, c) in self.text.chars().enumerate() {
            if c == '\n' {
                starts.push(i + 1);
            }
        }
        starts
    }

    fn cursor_line(&mut self, down: bool) {
        let starts = self.line_starts();
        let line = starts.iter().rposition(|s| *s <= self.cursor).unwrap_or(0);
        let col = self.cursor - starts[line];
        let target = if down {
            if line + 1 >= starts.len() {
                return;
            }
            line + 1
        } else {
            if line == 0 {
                return;
            }
            line - 1
        };
        let len = self.text.chars().count();
        let end = starts.get(target + 1).map_or(len, |s| s - 1);
        self.cursor = (starts[target] + col).min(end);
    }

    /// A key in the text editor (the team's text; the public one is swapped in for it).
    fn edit_text(&mut self, key: &Key) {
        match key {
            Key::Char(c) => self.insert(&c.to_string()),
            Key::Newline => self.insert("\n"),
            Key::Paste(p) => self.insert(&p.replace("\r\n", "\n").replace('\r', "\n")),
            Key::Backspace if self.cursor > 0 => {
                let at = byte_at(&self.text, self.cursor - 1);
                self.text.remove(at);
                self.cursor -= 1;
                self.edited = true;
            }
            Key::Left => self.cursor = self.cursor.saturating_sub(1),
            Key::Right => self.cursor = (self.cursor + 1).min(self.text.chars().count()),
            Key::Up => self.cursor_line(false),
            Key::Down => self.cursor_line(true),
            Key::Home => {
                let starts = self.line_starts();
                self.cursor = starts
                    .iter()
                    .rev()
                    .find(|s| **s <= self.cursor)
                    .copied()
                    .unwrap_or(0);
            }
            Key::End => {
                let len = self.text.chars().count();
                self.cursor = self
                    .line_starts()
                    .into_iter()
                    .find(|s| *s > self.cursor)
                    .map_or(len, |s| s - 1);
            }
            _ => {}
        }
    }

    pub fn on_key(&mut self, key: &Key, state: &State) -> ComposeOutcome {
        let armed = std::mem::take(&mut self.cancel_armed);
        match key {
            // Edited text is not thrown away on one stray Esc.
            Key::Esc if (self.edited || self.public_edited) && !armed => {
                self.cancel_armed = true;
                return ComposeOutcome::Open;
            }
            Key::Esc => return ComposeOutcome::Cancel,
            Key::Enter => {
                return if self.blocked(state).is_none() {
                    ComposeOutcome::Send
                } else {
                    ComposeOutcome::Open
                };
            }
            Key::Tab => {
                self.move_field(true, state);
                return ComposeOutcome::Open;
            }
            Key::BackTab => {
                self.move_field(false, state);
                return ComposeOutcome::Open;
            }
            Key::PageDown => {
                let last = self.preview(state).len().saturating_sub(1);
                self.preview_scroll = (self.preview_scroll + 10).min(last);
                return ComposeOutcome::Open;
            }
            Key::PageUp => {
                self.preview_scroll = self.preview_scroll.saturating_sub(10);
                return ComposeOutcome::Open;
            }
            _ => {}
        }
        match self.field {
            ComposeField::Template => match key {
                Key::Left | Key::Right => {
                    self.template = cycle(&Template::ALL, self.template, *key == Key::Right);
                    let incident = state
                        .incident
                        .as_ref()
                        .map_or(IncidentStatus::Investigating, |i| i.status);
                    self.status =
                        template::default_status(self.template, incident, not_up(state).is_empty());
                    self.fill(state);
                }
                Key::Down => self.move_field(true, state),
                _ => {}
            },
            ComposeField::Status => match key {
                Key::Left | Key::Right => {
                    self.status = cycle(&IncidentStatus::ALL, self.status, *key == Key::Right);
                    // The subject says the status (RESOLVED or RESTORED) until edited.
                    if !self.edited {
                        self.subject = template::subject(self.template, self.status, &self.facts)
                            .chars()
                            .take(SUBJECT_MAX)
                            .collect();
                    }
                    self.refill_public(state);
                }
                Key::Up => self.move_field(false, state),
                Key::Down => self.move_field(true, state),
                _ => {}
            },
            ComposeField::To => match key {
                Key::Left | Key::Right if !self.to.is_empty() => {
                    let n = self.to.len();
                    self.to_cursor = if *key == Key::Right {
                        (self.to_cursor + 1) % n
                    } else {
                        (self.to_cursor + n - 1) % n
                    };
                }
                Key::Char(' ') => {
                    if let Some((_, on)) = self.to.get_mut(self.to_cursor) {
                        *on = !*on;
                    }
                }
                Key::Up => self.move_field(false, state),
                Key::Down => self.move_field(true, state),
                _ => {}
            },
            ComposeField::Subject => match key {
                Key::Backspace => {
                    self.subject.pop();
                    self.edited = true;
                }
                Key::Char(c) if !c.is_control() && self.subject.chars().count() < SUBJECT_MAX => {
                    self.subject.push(*c);
                    self.edited = true;
                }
                Key::Paste(p) => {
                    let room = SUBJECT_MAX.saturating_sub(self.subject.chars().count());
                    self.subject.extend(
                        p.replace(['\r', '\n', '\t'], " ")
                            .chars()
                            .filter(|c| !c.is_control())
                            .take(room),
                    );
                }
                Key::Up => self.move_field(false, state),
                Key::Down => self.move_field(true, state),
                _ => {}
            },
            ComposeField::Public => {
                // The same editor, on the public text.
                std::mem::swap(&mut self.text, &mut self.public_text);
                std::mem::swap(&mut self.cursor, &mut self.public_cursor);
                let edited = std::mem::replace(&mut self.edited, false);
                self.edit_text(key);
                if self.edited {
                    self.public_edited = true;
                }
                self.edited = edited;
                std::mem::swap(&mut self.text, &mut self.public_text);
                std::mem::swap(&mut self.cursor, &mut self.public_cursor);
            }
            ComposeField::Eta => match key {
                Key::Backspace => {
                    self.eta.pop();
                    self.refill_public(state);
                }
                Key::Char(c) if !c.is_control() && self.eta.chars().count() < 60 => {
                    self.eta.push(*c);
                    self.refill_public(state);
                }
                Key::Paste(p) => {
                    self.eta = p
                        .replace(['\r', '\n', '\t'], " ")
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(60)
                        .collect();
                    self.refill_public(state);
                }
                Key::Up => self.move_field(false, state),
                Key::Down => self.move_field(true, state),
                _ => {}
            },
            ComposeField::Text => self.edit_text(key),
            ComposeField::Resolve | ComposeField::Override
                if matches!(key, Key::Up | Key::Down) =>
            {
                self.move_field(*key == Key::Down, state)
            }
            ComposeField::Resolve | ComposeField::Override => {
                let line = if self.field == ComposeField::Resolve {
                    &mut self.resolve
                } else {
                    &mut self.override_resolve
                };
                match key {
                    Key::Backspace => {
                        line.pop();
                    }
                    Key::Char(c) if !c.is_control() && line.chars().count() < 200 => line.push(*c),
                    Key::Paste(p) => {
                        *line = p
                            .trim()
                            .chars()
                            .filter(|c| !c.is_control())
                            .take(200)
                            .collect();
                    }
                    _ => {}
                }
            }
            ComposeField::Publish => match key {
                Key::Backspace => {
                    self.publish.pop();
                }
                Key::Char(c) if self.publish.len() < 32 => self.publish.push(*c),
                Key::Paste(p) => {
                    self.publish = p.trim().chars().take(32).collect();
                }
                Key::Up => self.move_field(false, state),
                _ => {}
            },
        }
        ComposeOutcome::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::EntryKind;
    use crate::app::testkit::*;
    use crate::config::Tier::Critical;

    fn rig() -> Rig {
        let mut rig = Rig::new(vec![comp("db", Critical, 1)]);
        rig.down(0, 1);
        rig.state.title = "DTEM production".into();
        rig.state.actor = "ana@bastion".into();
        rig
    }

    /// Updates go to one Slack channel, read by `audience`.
    fn slack_only(
        channel: &str,
        audience: crate::config::Audience,
    ) -> crate::app::message::Targets {
        crate::app::message::Targets {
            slack: Some(crate::app::message::SlackTarget {
                channel: Some(channel.into()),
                webhook: false,
                audience,
            }),
            statuspage: None,
        }
    }

    fn typing(c: &mut Compose, state: &State, keys: &[Key]) -> ComposeOutcome {
        let mut last = ComposeOutcome::Open;
        for k in keys {
            last = c.on_key(k, state);
        }
        last
    }

    #[test]
    fn a_component_that_failed_in_the_incident_stays_affected_once_up_again() {
        let mut rig = Rig::new(vec![comp("db", Critical, 1), comp("cache", Critical, 1)]);
        rig.down(0, 1);
        rig.up(1, 1);
        let declare = [crate::app::Effect::Declare {
            title: "db down".into(),
            level: crate::app::DrLevel::new(2).expect("2"),
            status: crate::app::IncidentStatus::Investigating,
            at: t(2),
        }];
        rig.journal.echo(&mut rig.state, &declare);
        rig.up(0, 30);
        let f = facts(&rig.state);
        assert_eq!(f.components[0].state, HealthState::Up);
        assert!(f.components[0].affected, "db was DOWN in this incident");
        assert!(!f.components[1].affected, "cache never failed");
    }

    #[test]
    fn the_template_fills_subject_and_text_from_the_live_state() {
        let rig = rig();
        let c = Compose::new(&rig.state, Template::Initial, &[Channel::Slack]);
        assert!(
            c.subject.starts_with("🚨 CRITICAL: DTEM production"),
            "{}",
            c.subject
        );
        assert!(c.text.contains("db is unavailable"), "{}", c.text);
        assert_eq!(c.facts.components[0].state, HealthState::Down);
        assert_eq!(c.update(&rig.state).by, "ana@bastion");
    }

    #[test]
    fn text_editing_inserts_at_the_cursor_and_keeps_newlines_from_paste_and_ctrl_j() {
        let rig = rig();
        let mut c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
        c.text.clear();
        c.cursor = 0;
        typing(
            &mut c,
            &rig.state,
            &[
                Key::Char('a'),
                Key::Char('c'),
                Key::Left,
                Key::Char('b'),
                Key::End,
                Key::Newline,
                Key::Paste("x\r\ny\x1b[2J".into()),
            ],
        );
        assert_eq!(c.text, "abc\nx\ny[2J", "controls never enter the text");
        typing(&mut c, &rig.state, &[Key::Up, Key::Home, Key::Backspace]);
        assert_eq!(c.text, "abcx\ny[2J");
    }

    #[test]
    fn enter_waits_for_publish_when_the_public_page_is_ticked() {
        let rig = rig();
        let mut c = Compose::new(
            &rig.state,
            Template::Initial,
            &[Channel::Slack, Channel::StatusPage],
        );
        assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Open);
        assert!(c.blocked(&rig.state).is_some_and(|b| b.contains("publish")));
        c.field = ComposeField::Publish;
        typing(
            &mut c,
            &rig.state,
            &"publis".chars().map(Key::Char).collect::<Vec<_>>(),
        );
        assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Open);
        c.on_key(&Key::Char('h'), &rig.state);
        assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Send);
        // Unticking the page: Slack alone needs no word.
        let mut c = Compose::new(
            &rig.state,
            Template::Initial,
            &[Channel::Slack, Channel::StatusPage],
        );
        c.field = ComposeField::To;
        typing(&mut c, &rig.state, &[Key::Right, Key::Char(' ')]);
        assert_eq!(c.channels(), vec![Channel::Slack]);
        assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Send);
        // Nothing ticked: nothing to send.
        typing(&mut c, &rig.state, &[Key::Left, Key::Char(' ')]);
        assert!(c.channels().is_empty());
        assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Open);
    }

    #[test]
    fn switching_the_template_refills_and_picks_its_status() {
        let mut rig = rig();
        let mut c = Compose::new(&rig.state, Template::Initial, &[Channel::Slack]);
        c.field = ComposeField::Template;
        typing(&mut c, &rig.state, &[Key::Right, Key::Right]);
        assert_eq!(c.template, Template::Restoration);
        // db is DOWN: restored, being watched — never proposed as resolved.
        assert_eq!(c.status, IncidentStatus::Monitoring);
        assert!(c.subject.starts_with("✅ RESTORED"), "{}", c.subject);
        assert_eq!(c.on_key(&Key::Esc, &rig.state), ComposeOutcome::Cancel);
        rig.up(0, 5);
        let mut c = Compose::new(&rig.state, Template::Initial, &[Channel::Slack]);
        c.field = ComposeField::Template;
        typing(&mut c, &rig.state, &[Key::Right, Key::Right]);
        assert_eq!(c.status, IncidentStatus::Resolved, "every component UP");
        assert!(c.subject.starts_with("✅ RESOLVED"), "{}", c.subject);
    }

    /// A composer on `status`, its text complete, going to Slack.
    fn composing(rig: &Rig, status: IncidentStatus) -> Compose {
        let mut c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
        c.field = ComposeField::Status;
        while c.status != status {
            c.on_key(&Key::Right, &rig.state);
        }
        c
    }

    #[test]
    fn resolved_while_a_component_is_down_needs_its_override_and_the_word_resolve() {
        let rig = rig();
        let mut c = composing(&rig, IncidentStatus::Resolved);
        assert_eq!(not_up(&rig.state), ["db DOWN"]);
        assert_eq!(
            c.fields(&rig.state),
            [
                ComposeField::Template,
                ComposeField::Subject,
                ComposeField::Status,
                ComposeField::To,
                ComposeField::Text,
                ComposeField::Public,
                ComposeField::Eta,
                ComposeField::Override,
                ComposeField::Resolve
            ]
        );
        assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Open);
        assert!(
            c.blocked(&rig.state)
                .is_some_and(|b| b.starts_with("not every component is UP")),
            "{:?}",
            c.blocked(&rig.state)
        );
        // The word alone does not clear the gate.
        c.field = ComposeField::Resolve;
        typing(&mut c, &rig.state, &text_keys("resolve"));
        assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Open);
        c.field = ComposeField::Override;
        typing(&mut c, &rig.state, &text_keys("override resolve:"));
        assert_eq!(
            c.on_key(&Key::Enter, &rig.state),
            ComposeOutcome::Open,
            "no reason"
        );
        typing(
            &mut c,
            &rig.state,
            &text_keys(" customers are served from DR"),
        );
        assert_eq!(c.override_reason(), Some("customers are served from DR"));
        assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Send);
        // The override alone does not stand for the word.
        c.resolve.clear();
        assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Open);
        assert_eq!(
            c.blocked(&rig.state),
            Some("type `resolve` to announce resolved")
        );
    }

    #[test]
    fn resolved_with_everything_up_needs_only_the_word_and_other_statuses_neither() {
        let mut rig = rig();
        rig.up(0, 5);
        let mut c = composing(&rig, IncidentStatus::Resolved);
        assert!(!c.fields(&rig.state).contains(&ComposeField::Override));
        assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Open);
        c.field = ComposeField::Resolve;
        typing(&mut c, &rig.state, &text_keys("resolve"));
        assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Send);
        let mut c = composing(&rig, IncidentStatus::Monitoring);
        assert!(!c.fields(&rig.state).contains(&ComposeField::Resolve));
        assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Send);
    }

    fn text_keys(s: &str) -> Vec<Key> {
        s.chars().map(Key::Char).collect()
    }

    /// Sending moves the incident's own status to what the update announces, and an
    /// override is journaled with what was not UP, before the update.
    #[test]
    fn sending_an_update_moves_the_incident_status_and_journals_an_override() {
        use crate::app::{Effect, update};
        let mut rig = rig();
        rig.state.targets = slack_only("#war", crate::config::Audience::Team);
        rig.state.can_send = true;
        let declare = [Effect::Declare {
            title: "db down".into(),
            level: crate::app::DrLevel::new(2).expect("2"),
            status: IncidentStatus::Investigating,
            at: t(2),
        }];
        rig.journal.echo(&mut rig.state, &declare);
        let mut c = composing(&rig, IncidentStatus::Resolved);
        c.resolve = RESOLVE_WORD.into();
        c.override_resolve = "override resolve: served from DR".into();
        c.field = ComposeField::Text;
        rig.state.compose = Some(c);
        let fx = update(&mut rig.state, crate::app::Event::Key(Key::Enter));
        let kinds = entries(&fx);
        assert_eq!(
            kinds,
            [
                EntryKind::GateOverridden {
                    gate: "resolve".into(),
                    reason: "served from DR".into(),
                    detail: "announced resolved while not UP: db DOWN".into(),
                },
                EntryKind::Status {
                    from: IncidentStatus::Investigating,
                    to: IncidentStatus::Resolved,
                },
            ]
        );
        let posts: Vec<IncidentStatus> = fx
            .iter()
            .filter_map(|e| match e {
                Effect::Post(out) => Some(out.update.status),
                _ => None,
            })
            .collect();
        assert_eq!(posts, [IncidentStatus::Resolved]);
        rig.journal.echo(&mut rig.state, &fx);
        assert_eq!(
            rig.state.incident.as_ref().map(|i| i.status),
            Some(IncidentStatus::Resolved),
            "the header says what the page says"
        );
        assert!(
            rig.state.next_update_due().is_none(),
            "nothing says a next update is due after resolved"
        );
    }

    #[test]
    fn one_esc_does_not_throw_away_edited_text_and_the_preview_scroll_stops_at_its_end() {
        let rig = rig();
        let mut c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
        assert_eq!(
            c.on_key(&Key::Esc, &rig.state),
            ComposeOutcome::Cancel,
            "nothing edited"
        );
        let mut c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
        c.on_key(&Key::Char('x'), &rig.state);
        assert_eq!(c.on_key(&Key::Esc, &rig.state), ComposeOutcome::Open);
        assert!(c.cancel_armed);
        c.on_key(&Key::Char('y'), &rig.state);
        assert_eq!(
            c.on_key(&Key::Esc, &rig.state),
            ComposeOutcome::Open,
            "another key disarms"
        );
        assert_eq!(c.on_key(&Key::Esc, &rig.state), ComposeOutcome::Cancel);
        let mut c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
        for _ in 0..1000 {
            c.on_key(&Key::PageDown, &rig.state);
        }
        let last = c.preview(&rig.state).len() - 1;
        assert_eq!(c.preview_scroll, last);
        c.on_key(&Key::PageUp, &rig.state);
        assert_eq!(
            c.preview_scroll,
            last.saturating_sub(10),
            "PgUp answers at once"
        );
    }

    /// After the channel's only update was given up, the next one starts the thread and says
    /// what it replaces — the same words the outbox sends.
    #[test]
    fn the_preview_of_the_first_to_arrive_after_one_given_up_says_what_it_replaces() {
        let mut rig = rig();
        rig.state.targets = slack_only("#war", crate::config::Audience::Team);
        for kind in [
            EntryKind::CommsQueued {
                id: "u1".into(),
                channel: "slack".into(),
                template: "initial".into(),
                summary: "s".into(),
                status: None,
                text: None,
                simulated: false,
                body: None,
            },
            EntryKind::CommsFailed {
                id: "u1".into(),
                channel: "slack".into(),
                reason: "not delivered 10m after it was queued".into(),
                gave_up: true,
                retry_in: None,
            },
        ] {
            rig.state.comms.fold(t(2), "ana@b", &kind);
        }
        let c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
        let p = c.preview(&rig.state).join("\n");
        let note = message::replaces_note("initial", t(2));
        assert!(
            p.contains("the incident's first update to arrive: it starts the thread")
                && p.contains(&format!(
                    "Starts this incident's thread: it replaces {note}"
                )),
            "{p}"
        );
    }

    /// A Slack channel the public reads needs `publish` like the page, and its preview shows
    /// the public part only.
    #[test]
    fn a_public_slack_channel_needs_publish_and_previews_the_public_part() {
        let mut rig = rig();
        rig.state.targets = slack_only("#customers", crate::config::Audience::Public);
        let mut c = Compose::new(&rig.state, Template::Initial, &[Channel::Slack]);
        assert!(c.public());
        assert_eq!(
            c.blocked(&rig.state),
            Some("type `publish`: the public reads where this goes (or untick it)")
        );
        let p = c.preview(&rig.state).join("\n");
        assert!(p.contains("DTEM production: service disruption"), "{p}");
        assert!(!p.contains("db is unavailable"), "the team's text: {p}");
        c.publish = PUBLISH_WORD.into();
        assert_eq!(c.blocked(&rig.state), None);
    }

    /// A pasted right-to-left override and zero-width joiner never reach Slack, the page or
    /// the preview: the update sent is the cleaned one, and the preview is built from it.
    #[test]
    fn pasted_invisible_characters_are_neither_previewed_nor_sent() {
        let rig = rig();
        let mut c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
        c.on_key(
            &Key::Paste("\npay\u{200D}pal \u{202E}gnp.exe\u{2028}next".into()),
            &rig.state,
        );
        c.field = ComposeField::Public;
        c.on_key(&Key::Paste(" see\u{200B}more\u{202E}".into()), &rig.state);
        let u = c.update(&rig.state);
        let body =
            message::slack_post_body(&u, "w-1", "#war", None, None, crate::config::Audience::Team)
                .to_string();
        let page = message::page_body(&u);
        let preview = c.preview(&rig.state).join("\n");
        for text in [&u.text, &u.public_text, &body, &page, &preview] {
            for hidden in ['\u{202E}', '\u{200D}', '\u{200B}', '\u{2028}'] {
                assert!(!text.contains(hidden), "{hidden:?} in {text:?}");
            }
        }
        assert!(u.text.ends_with("paypal gnp.exe next"), "{:?}", u.text);
        assert!(u.public_text.ends_with(" seemore"), "{:?}", u.public_text);
    }

    #[test]
    fn the_preview_says_create_or_update_as_the_worker_will_decide() {
        use crate::app::message::{PageTarget, Targets};
        let mut rig = rig();
        rig.state.targets = Targets {
            slack: None,
            statuspage: Some(PageTarget {
                page_id: Some("page".into()),
                components: Default::default(),
            }),
        };
        let fold = |rig: &mut Rig, kind: EntryKind| {
            rig.state.comms.fold(t(2), "ana@b", &kind);
        };
        let c = Compose::new(&rig.state, Template::Initial, &[Channel::StatusPage]);
        assert!(
            c.preview(&rig.state)
                .join("\n")
                .contains("POST /pages/page/incidents")
        );
        // The first one was refused for good: the next one is still the one that creates.
        fold(
            &mut rig,
            EntryKind::CommsQueued {
                id: "u1".into(),
                channel: "statuspage".into(),
                template: "initial".into(),
                summary: "s".into(),
                status: None,
                text: None,
                simulated: false,
                body: None,
            },
        );
        let p = c.preview(&rig.state).join("\n");
        assert!(
            p.contains("PATCH /pages/page/incidents/(the incident's id) (after the 1 update(s) still waiting before it)"),
            "{p}"
        );
        fold(
            &mut rig,
            EntryKind::CommsFailed {
                id: "u1".into(),
                channel: "statuspage".into(),
                reason: "HTTP 401".into(),
                gave_up: true,
                retry_in: None,
            },
        );
        let p = c.preview(&rig.state).join("\n");
        assert!(
            p.contains("POST /pages/page/incidents — creates the incident"),
            "{p}"
        );
    }

    #[test]
    fn a_pasted_file_is_cut_at_the_text_limit() {
        let rig = rig();
        let mut c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
        c.on_key(&Key::Paste("x".repeat(1_000_000)), &rig.state);
        assert_eq!(c.text.chars().count(), TEXT_MAX);
    }
}
