//! Updates to Slack and the status page: whether this console can send one, the composer's
//! keys, and when the next update is due.

use super::*;

impl State {
    /// Why this console cannot queue an update now, if it cannot.
    pub fn cannot_send(&self) -> Option<String> {
        if self.read_only {
            return Some("read-only console: cannot send updates".into());
        }
        if self.targets.channels().is_empty() {
            return Some(
                "no comms configured: add [slack] and/or [statuspage] to the config".into(),
            );
        }
        if !self.can_send {
            return Some("this console has no outbox: updates cannot be sent from here".into());
        }
        match &self.incident {
            None => Some("no incident declared: an update belongs to one (d declares)".into()),
            Some(i) if i.journal.is_none() => {
                Some("the incident's journal is not known here: cannot send".into())
            }
            Some(_) => None,
        }
    }

    pub(super) fn on_compose_key(&mut self, key: Key, effects: &mut Vec<Effect>) {
        let Some(mut compose) = self.compose.take() else {
            return;
        };
        match compose.on_key(&key, self) {
            ComposeOutcome::Open => {
                self.compose = Some(compose);
            }
            ComposeOutcome::Cancel => {}
            ComposeOutcome::Send => {
                // The runtime of an observer has no outbox either; this is the first wall.
                if self.read_only {
                    return;
                }
                let Some(journal) = self.incident.as_ref().and_then(|i| i.journal.clone()) else {
                    self.view.flash = Some("no incident journal: nothing sent".into());
                    return;
                };
                let outgoing = Box::new(Outgoing {
                    journal,
                    update: compose.update(self),
                });
                // Announcing resolved while something is not UP: the override, journaled
                // with what was not UP, before the update.
                let not_up = crate::app::compose::not_up(self);
                if compose.status == IncidentStatus::Resolved
                    && !not_up.is_empty()
                    && let Some(reason) = compose.override_reason()
                {
                    effects.push(Effect::Append(Entry {
                        at: self.now,
                        kind: EntryKind::GateOverridden {
                            gate: "resolve".into(),
                            reason: reason.to_string(),
                            detail: format!(
                                "announced resolved while not UP: {}",
                                not_up.join(", ")
                            ),
                        },
                    }));
                }
                // The incident's own status follows what the update announces: header,
                // journal and page say the same.
                if let Some(from) = self.incident.as_ref().map(|i| i.status)
                    && from != compose.status
                {
                    effects.push(Effect::Append(Entry {
                        at: self.now,
                        kind: EntryKind::Status {
                            from,
                            to: compose.status,
                        },
                    }));
                }
                match compose.step {
                    Some((runbook, step)) => {
                        effects.push(Effect::Append(Entry {
                            at: self.now,
                            kind: EntryKind::StepConfirmed {
                                runbook: runbook.clone(),
                                step: step.clone(),
                                override_reason: None,
                                inputs: BTreeMap::new(),
                                break_glass: None,
                            },
                        }));
                        self.claiming.insert(
                            (runbook.clone(), step.clone()),
                            Claiming {
                                inputs: BTreeMap::new(),
                                post: Some(outgoing.clone()),
                            },
                        );
                        effects.push(Effect::RunStep {
                            runbook,
                            step,
                            inputs: BTreeMap::new(),
                            at: self.now,
                            post: Some(outgoing),
                            break_glass: None,
                        });
                    }
                    None => effects.push(Effect::Post(outgoing)),
                }
            }
        }
    }

    /// The channel customers read: the status page, or Slack when there is no page.
    pub fn customer_channel(&self) -> Option<crate::app::message::Channel> {
        if self.targets.statuspage.is_some() {
            Some(crate::app::message::Channel::StatusPage)
        } else if self.targets.slack.is_some() {
            Some(crate::app::message::Channel::Slack)
        } else {
            None
        }
    }

    /// When the next update is due, while an incident is open: 30 minutes after the last one
    /// that reached customers, or at once when none has yet (one queued but not delivered
    /// does not count: customers have not read it).
    pub fn next_update_due(&self) -> Option<Timestamp> {
        let i = self.incident.as_ref().filter(|i| i.is_open())?;
        let channel = self.customer_channel()?;
        Some(match self.comms.last_sent(channel) {
            Some(last) => crate::app::compose::next_update(last),
            None => i.declared,
        })
    }
}
