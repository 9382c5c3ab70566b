//! What a key does: the keymap's console keys, a step's key and its modal, and the dialogs
//! (declare, status, note, release, cancel) a key opens and submits.

use super::*;

impl State {
    pub(super) fn on_key(&mut self, key: Key, effects: &mut Vec<Effect>) {
        self.view.flash = None;
        if let Some(dialog) = self.dialog.as_mut() {
            match dialog.on_key(&key) {
                DialogOutcome::Open => {}
                DialogOutcome::Cancel => self.dialog = None,
                DialogOutcome::Submit(submit) => {
                    self.dialog = None;
                    // The runtime of an observer has no writer either; this is the first wall.
                    if !self.read_only {
                        self.submit(submit, effects);
                    }
                }
            }
            return;
        }
        if self.modal.is_some() {
            self.on_modal_key(key, effects);
            return;
        }
        if self.compose.is_some() {
            self.on_compose_key(key, effects);
            return;
        }
        if self.log_viewer.is_some() {
            self.on_log_viewer_key(key, effects);
            return;
        }
        let typing = self.view.editing_filter || self.view.help;
        // A step's key opens its modal from any panel (the phrase still guards it): a key
        // pressed while another panel has the focus must not fall through to the console.
        // The timeline's own letters stay its own while it has the focus.
        let panel_letter = crate::app::keymap::is_panel_letter(&key, self.view.focus);
        if !typing
            && !panel_letter
            && let Key::Char(c) = key
        {
            if let Some((rb, st)) = self.step_for_key(c) {
                if self.view.panels.contains(&Panel::Runbooks) {
                    self.view.focus = Panel::Runbooks;
                }
                self.open_modal(rb, st, effects);
                return;
            }
            if let Some(rb) = self
                .runbooks
                .iter()
                .find(|r| r.steps.iter().any(|s| s.key == c))
            {
                self.view.flash = Some(format!(
                    "`{c}` is a step of \"{}\": press R, then ↑/↓ to choose that runbook",
                    rb.title
                ));
                return;
            }
        }
        use crate::app::keymap::KeyAction as A;
        let action = if typing {
            None
        } else {
            crate::app::keymap::action(&key, self.view.focus)
        };
        match action {
            Some(A::StepLog) => self.open_log_viewer(effects),
            Some(A::FocusRunbooks) => {
                if self.view.panels.contains(&Panel::Runbooks) {
                    self.view.focus = Panel::Runbooks;
                } else {
                    self.view.flash = Some("this layout has no runbook panel".into());
                }
            }
            Some(A::Declare) => {
                if self.read_only {
                    self.view.flash =
                        Some("read-only console: cannot declare or change status".into());
                } else if !matches!(self.journal.source, Source::Watch | Source::Incident { .. }) {
                    self.view.flash = Some("no journal: nothing can be recorded".into());
                } else {
                    self.dialog = Some(match self.open_incident() {
                        Some(i) => Dialog::status(i.status),
                        None => Dialog::declare_at(
                            crate::app::suggest::level(self)
                                .map_or(DrLevel::ALL[0], |s| s.preselect()),
                        ),
                    });
                }
            }
            Some(A::Compose) if self.view.too_small => {
                self.view.flash = Some(format!("[u] update: {TOO_SMALL}"));
            }
            Some(A::Compose) => {
                if let Some(why) = self.cannot_send() {
                    self.view.flash = Some(why);
                } else {
                    let channels = self.targets.channels();
                    // The incident's first update is its initial notification (the page's
                    // incident must not be created as "UPDATE: …").
                    let template = if self.comms.all().is_empty() {
                        Template::Initial
                    } else {
                        Template::Update
                    };
                    self.compose = Some(Compose::new(self, template, &channels));
                }
            }
            Some(A::ContinueJournal) => {
                let tampered = self
                    .journal
                    .problem
                    .as_deref()
                    .filter(|_| self.journal_tampered());
                match tampered {
                    _ if self.read_only => {
                        self.view.flash =
                            Some("read-only console: cannot continue the journal".into());
                    }
                    Some(why) => {
                        self.dialog = Some(Dialog::ContinueJournal {
                            why: why.to_string(),
                            typed: String::new(),
                        });
                    }
                    None => {
                        self.view.flash =
                            Some("the journal is not tampered: nothing to continue".into());
                    }
                }
            }
            Some(A::Note) => {
                if self.read_only {
                    self.view.flash = Some("read-only console: cannot add a note".into());
                } else if !matches!(self.journal.source, Source::Watch | Source::Incident { .. }) {
                    self.view.flash = Some("no journal: nothing can be recorded".into());
                } else {
                    self.dialog = Some(Dialog::note());
                }
            }
            _ => {
                let before = self.view.runbook;
                let arrow = matches!(key, Key::Up | Key::Down);
                if self.view.on_key(&key, self.runbooks.len()) == KeyOutcome::Quit {
                    effects.push(Effect::Quit);
                }
                if self.view.focus == crate::app::Panel::Timeline {
                    self.timeline_scrolled(action, effects);
                }
                if arrow && self.view.focus == crate::app::Panel::Runbooks {
                    self.pick_runbook();
                }
                // The step keys now belong to another runbook: say which, in the header.
                if arrow
                    && self.view.focus == crate::app::Panel::Runbooks
                    && let Some(rb) = self.runbooks.get(self.view.runbook)
                {
                    let n = self.runbooks.len();
                    let at = self.view.runbook + 1;
                    self.view.flash = Some(if self.view.runbook != before {
                        format!("runbook {at}/{n}: {} — its step keys are live", rb.title)
                    } else if at == 1 {
                        format!("already the first runbook: {}", rb.title)
                    } else {
                        format!("already the last runbook ({at}/{n}): {}", rb.title)
                    });
                }
            }
        }
    }

    /// The step of the runbook shown in the runbook panel whose key this is.
    pub(super) fn step_for_key(&self, c: char) -> Option<(usize, usize)> {
        let n = self.runbooks.len();
        if n == 0 {
            return None;
        }
        let rb = self.view.runbook % n;
        let st = self.runbooks[rb].steps.iter().position(|s| s.key == c)?;
        Some((rb, st))
    }

    pub(super) fn open_modal(&mut self, rb: usize, st: usize, effects: &mut Vec<Effect>) {
        let runbook = &self.runbooks[rb];
        let step = &runbook.steps[st];
        if self.view.too_small {
            self.view.flash = Some(format!("[{}] {}: {TOO_SMALL}", step.key, step.title));
            return;
        }
        if self.read_only {
            self.view.flash = Some("read-only console: steps cannot be started from here".into());
            return;
        }
        if !matches!(self.journal.source, Source::Watch | Source::Incident { .. }) {
            self.view.flash = Some("no journal: a step cannot run unrecorded".into());
            return;
        }
        if !self.can_run_steps {
            self.view.flash =
                Some("this console has no step executor: run the step by hand and note it".into());
            return;
        }
        let notify = match &step.action {
            Action::Notify { template, status } => Some((
                Template::parse(template).unwrap_or(Template::Update),
                status
                    .as_deref()
                    .and_then(|s| IncidentStatus::ALL.into_iter().find(|st| st.label() == s)),
            )),
            _ => None,
        };
        if notify.is_some()
            && let Some(why) = self.cannot_send()
        {
            self.view.flash = Some(format!("{}: {why}", step.title));
            return;
        }
        match steps::state_of(self, runbook, step) {
            StepState::Running { by, console_gone } => {
                let claim = self
                    .steps
                    .get(&runbook.id, &step.id)
                    .and_then(|r| r.running.clone());
                let about = match claim {
                    Some(c) => format!(
                        "[{}] {} — already running: started by {} (pid {} on {}){}{}",
                        step.key,
                        step.title,
                        c.actor,
                        c.pid,
                        c.host,
                        c.group
                            .map(|g| format!(", program: process group {}", g.pgid))
                            .unwrap_or_default(),
                        if console_gone {
                            ", its console gone"
                        } else {
                            ""
                        }
                    ),
                    None => format!("{}: already running ({by})", step.title),
                };
                self.view.flash = Some(format!("{}: already running ({by})", step.title));
                self.dialog = Some(Dialog::running(&runbook.id, &step.id, about));
                return;
            }
            StepState::Blocked { waiting_for } => {
                self.view.flash = Some(format!(
                    "{}: blocked until step `{waiting_for}` has succeeded",
                    step.title
                ));
                return;
            }
            _ => {}
        }
        effects.push(Effect::Append(Entry {
            at: self.now,
            kind: EntryKind::StepRequested {
                runbook: runbook.id.clone(),
                step: step.id.clone(),
            },
        }));
        // Running from a runbook is choosing it.
        let picked_in = self.open_incident().map(|i| i.declared);
        self.runbook_picked = Some(picked_in);
        // A notify step is an update: the composer, on the step's template, is its modal.
        if let Some((template, status)) = notify {
            let ids = (runbook.id.clone(), step.id.clone());
            let channels = self.targets.channels();
            let mut compose = Compose::new(self, template, &channels);
            if let Some(status) = status {
                compose.set_status(self, status);
            }
            compose.step = Some(ids);
            self.compose = Some(compose);
            return;
        }
        self.modal = Some(StepModal::new(rb, st, step));
    }

    /// Shows runbook `ix` as the operator's own choice (what the arrows do, one by one).
    pub fn choose_runbook(&mut self, ix: usize) {
        self.view.runbook = ix.min(self.runbooks.len().saturating_sub(1));
        self.pick_runbook();
    }

    /// The operator chose the runbook now shown, in the open incident (if any).
    pub(super) fn pick_runbook(&mut self) {
        self.runbook_picked = Some(self.open_incident().map(|i| i.declared));
    }

    /// Whether the operator chose a runbook in this incident: a choice before any incident
    /// holds into the one declared next; a choice in an earlier incident does not.
    pub fn runbook_picked(&self) -> bool {
        match self.runbook_picked {
            None => false,
            Some(None) => true,
            Some(picked_in) => picked_in == self.open_incident().map(|i| i.declared),
        }
    }

    /// Until the operator chooses one, the runbook panel shows the runbook of the suggested
    /// level (a runbook `level = N`).
    pub(super) fn follow_suggestion(&mut self) {
        if self.runbook_picked() || !self.runbooks.iter().any(|r| r.level.is_some()) {
            return;
        }
        if let Some(ix) = crate::app::suggest::level(self).and_then(|s| s.runbook) {
            self.view.runbook = ix;
        }
    }

    pub(super) fn on_modal_key(&mut self, key: Key, effects: &mut Vec<Effect>) {
        let Some(modal) = self.modal.as_ref() else {
            return;
        };
        let Some(step) = self
            .runbooks
            .get(modal.runbook)
            .and_then(|rb| rb.steps.get(modal.step))
            .cloned()
        else {
            self.modal = None;
            return;
        };
        if key == Key::Esc {
            self.modal = None;
            return;
        }
        let pass = steps::prechecks(self, &step).iter().all(|c| c.pass);
        let tampered = self.journal_tampered();
        let Some(modal) = self.modal.as_mut() else {
            return;
        };
        modal.needs_break_glass = tampered;
        if !modal.on_key(&key, &step, pass) || self.read_only {
            return;
        }
        let Some(modal) = self.modal.take() else {
            return;
        };
        let Some(runbook) = self.runbooks.get(modal.runbook).map(|r| r.id.clone()) else {
            return;
        };
        let override_reason = if pass { None } else { modal.override_reason() };
        let break_glass = if tampered {
            modal.break_glass_reason()
        } else {
            None
        };
        let defaults = modal.defaults_reason();
        let mut inputs: BTreeMap<String, String> = step
            .inputs
            .iter()
            .zip(modal.inputs)
            .map(|(i, v)| (i.name.clone(), v.trim().to_string()))
            .collect();
        // Journaled with the inputs, and read by the restore (see `modal::defaults_gate`).
        if let Some(reason) = defaults {
            inputs.insert(
                crate::app::modal::OVERRIDE_DEFAULTS_INPUT.to_string(),
                reason,
            );
        }
        effects.push(Effect::Append(Entry {
            at: self.now,
            kind: EntryKind::StepConfirmed {
                runbook: runbook.clone(),
                step: step.id.clone(),
                override_reason,
                inputs: inputs.clone(),
                break_glass: break_glass.clone(),
            },
        }));
        self.claiming.insert(
            (runbook.clone(), step.id.clone()),
            Claiming {
                inputs: inputs.clone(),
                post: None,
            },
        );
        effects.push(Effect::RunStep {
            runbook,
            step: step.id.clone(),
            inputs,
            at: self.now,
            post: None,
            break_glass,
        });
    }

    pub(super) fn submit(&mut self, submit: Submit, effects: &mut Vec<Effect>) {
        match submit {
            Submit::Cancel { runbook, step } => self.cancel_step(runbook, step, effects),
            Submit::ContinueJournal { reason } => effects.push(Effect::ContinueJournal {
                reason,
                at: self.now,
            }),
            Submit::Release {
                runbook,
                step,
                reason,
            } => {
                let pid = self
                    .steps
                    .get(&runbook, &step)
                    .and_then(|r| r.running.as_ref())
                    .map(|c| c.pid);
                if pid.is_some() {
                    effects.push(Effect::Append(Entry {
                        at: self.now,
                        kind: EntryKind::StepReleased {
                            runbook,
                            step,
                            reason: format!(
                                "released by hand by {}: {reason} — verify by hand",
                                self.actor
                            ),
                            pid,
                        },
                    }));
                }
            }
            other => effects.extend(self.submitted(self.now, other)),
        }
    }

    pub(super) fn submitted(&self, at: Timestamp, submit: Submit) -> Option<Effect> {
        match submit {
            Submit::Declare {
                title,
                level,
                status,
            } => Some(Effect::Declare {
                title,
                level,
                status,
                at,
            }),
            Submit::Status { from, to } => Some(Effect::Append(Entry {
                at,
                kind: EntryKind::Status { from, to },
            })),
            Submit::Note(text) => Some(Effect::Append(Entry {
                at,
                kind: EntryKind::Note { text },
            })),
            // Handled in `submit`.
            Submit::Cancel { .. } | Submit::Release { .. } | Submit::ContinueJournal { .. } => None,
        }
    }
}
