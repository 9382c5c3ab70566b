//! The journal as the model hears it: what a console reads from it, and what the recorder
//! writes of what it saw while another recorded (the gap fill).

use super::*;

/// What an automatic entry is about: its kind and the thing it is of.
pub(super) fn subject(k: &EntryKind) -> (&'static str, String) {
    match k {
        EntryKind::ComponentState { component, .. } => ("component_state", component.clone()),
        EntryKind::LagLevel {
            component, replica, ..
        } => ("lag_level", format!("{component}/{replica}")),
        EntryKind::BackupLevel { component, .. } => ("backup_level", component.clone()),
        EntryKind::RpoExposure { component, .. } => ("rpo_exposure", component.clone()),
        EntryKind::RtoBreached { component, .. } => ("rto_breached", component.clone()),
        EntryKind::Recovered { component, .. } => ("recovered", component.clone()),
        EntryKind::Severity { .. } => ("severity", String::new()),
        _ => ("other", String::new()),
    }
}

/// What an automatic entry says its thing now is (two consoles' entries saying the same are
/// one change, whenever each saw it).
pub(super) fn news(k: &EntryKind) -> String {
    match k {
        EntryKind::ComponentState { to, .. } => to.label().to_string(),
        EntryKind::LagLevel { to, .. } => to.label().to_string(),
        EntryKind::BackupLevel { to, .. } => to.label().to_string(),
        EntryKind::RpoExposure { to, .. } => to.label().to_string(),
        EntryKind::Severity { to, .. } => to.label().to_string(),
        other => other.describe(),
    }
}

impl State {
    pub(super) fn on_journal(&mut self, event: JournalEvent, effects: &mut Vec<Effect>) {
        let j = &mut self.journal;
        match event {
            JournalEvent::Reset { source, entries } => {
                self.timeline.clear();
                self.earlier = Default::default();
                j.last_seq = 0;
                // Back on the watch log after a resolution, the header still tells it.
                let kept = self.incident.take().filter(|_| source == Source::Watch);
                let name = match &source {
                    Source::Incident { name, .. } => Some(name.clone()),
                    _ => None,
                };
                j.source = source;
                self.steps.clear();
                // The updates of an incident just resolved stay on the comms panel: their
                // delivery is still news.
                let kept_comms = kept.is_some().then(|| std::mem::take(&mut self.comms));
                self.comms.clear();
                incident::take(
                    &mut self.timeline,
                    &mut self.incident,
                    &mut self.steps,
                    &mut self.comms,
                    &mut j.last_seq,
                    &entries,
                    TIMELINE_CAP,
                );
                if let Some(i) = self.incident.as_mut() {
                    i.journal = name;
                }
                if self.incident.is_none() {
                    self.incident = kept;
                    if let Some(c) = kept_comms {
                        self.comms = c;
                    }
                }
                self.view.scroll[Panel::Timeline as usize] = 0;
            }
            JournalEvent::Appended(entries) => incident::take(
                &mut self.timeline,
                &mut self.incident,
                &mut self.steps,
                &mut self.comms,
                &mut j.last_seq,
                &entries,
                TIMELINE_CAP,
            ),
            JournalEvent::Earlier {
                source,
                from,
                to,
                page,
            } => self.on_earlier(source, (from, to), page, effects),
            JournalEvent::StepLog { path, tail } => self.on_log_tail(&path, tail),
            JournalEvent::Comms(entries) => {
                for e in &entries {
                    let r = Recorded::from_journal(e);
                    if let Some(k) = r.known() {
                        self.comms.fold(r.at, &r.actor, k);
                    }
                }
            }
            JournalEvent::Recorder { me, holder } => {
                let became = me && !j.recording;
                j.recording = me;
                j.recorder = holder;
                j.recorder_known = true;
                if became {
                    // Fill the gap the last recorder left: for each thing this console saw
                    // change while another recorded (or none did), its latest change, unless
                    // the journal already says the same of it. Each console runs its own
                    // probes, so times differ: what the journal says is compared, not when.
                    let mut latest: Vec<Entry> = Vec::new();
                    for e in self.unrecorded.drain(..) {
                        let key = subject(&e.kind);
                        latest.retain(|l| subject(&l.kind) != key);
                        latest.push(e);
                    }
                    latest.sort_by_key(|e| e.at);
                    for e in latest {
                        if !self.journal_says(&e.kind) {
                            effects.push(Effect::Append(e));
                        }
                    }
                }
                self.unrecorded.clear();
            }
            JournalEvent::Problem(p) => j.problem = p,
            JournalEvent::Claimed {
                runbook,
                step,
                granted,
                why,
            } => self.on_step(
                StepEvent::Claimed {
                    runbook,
                    step,
                    granted,
                    why,
                },
                effects,
            ),
        }
    }

    /// Whether the followed journal already says what this automatic entry says: its thing's
    /// latest entry says the same; for a breach or a recovery, one was written in this
    /// outage (after the component's last DOWN).
    pub(super) fn journal_says(&self, kind: &EntryKind) -> bool {
        let key = subject(kind);
        let known = || self.timeline.iter().rev().filter_map(Recorded::known);
        match kind {
            EntryKind::RtoBreached { component, .. } | EntryKind::Recovered { component, .. } => {
                for k in known() {
                    if subject(k) == key {
                        return true;
                    }
                    if let EntryKind::ComponentState {
                        component: c,
                        to: HealthState::Down,
                        ..
                    } = k
                        && c == component
                    {
                        return false;
                    }
                }
                false
            }
            _ => known()
                .find(|k| subject(k) == key)
                .is_some_and(|k| news(k) == news(kind)),
        }
    }

    /// The incident that `d` changes the status of: open and followed.
    pub fn open_incident(&self) -> Option<&Incident> {
        self.incident
            .as_ref()
            .filter(|i| i.is_open() && matches!(self.journal.source, Source::Incident { .. }))
    }

    /// Whether the followed journal's chain broke (`JOURNAL TAMPERED`): nothing is appended
    /// to it and no claim can be its lock until it is continued.
    pub fn journal_tampered(&self) -> bool {
        self.journal
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("JOURNAL TAMPERED"))
    }
}
