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

mod preview;
use preview::*;
mod editor;

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
            reason: crate::text::redact::excerpt(&reason, 200),
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
mod tests;
