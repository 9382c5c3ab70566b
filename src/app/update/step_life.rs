//! A step's life in this console: claimed, granted, run, its progress and end, verified or
//! not, handed over or abandoned, cancelled; and the recorder's re-reads of postconditions.

use super::*;

/// The last call a step made, from its log lines (an executor says `» Call …` before a call
/// and `Call: …` when its answer came), and whether its answer arrived.
pub(super) fn last_call(log: &VecDeque<String>, runbook: &str, step: &str) -> String {
    let prefix = format!("{runbook}/{step}: ");
    let mut last: Option<(&str, bool)> = None;
    for line in log.iter().filter_map(|l| l.strip_prefix(&prefix)) {
        match line.strip_prefix("» ") {
            Some(call) => last = Some((call, false)),
            None => {
                if let Some((call, answered)) = last.as_mut() {
                    let name = call.split_whitespace().next().unwrap_or(call);
                    if line.starts_with(&format!("{name}:")) {
                        *answered = true;
                    }
                }
            }
        }
    }
    match last {
        None => "no call made yet".into(),
        Some((call, true)) => format!("last call: {call} — its answer had arrived"),
        Some((call, false)) => format!(
            "last call: {call} — no answer had arrived: it may or may not have been applied"
        ),
    }
}

/// A step whose claim is asked for: what it runs with once granted.
#[derive(Debug, Clone)]
pub(super) struct Claiming {
    pub(super) inputs: BTreeMap<String, String>,
    /// A `notify` step's update.
    pub(super) post: Option<Box<Outgoing>>,
}

/// A step this console runs.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct OwnRun {
    /// When the claim was granted (model time: simulated in a drill).
    pub(super) started: Timestamp,
    /// A `command` step's program, once it runs: its process group.
    pub(super) pgid: Option<u32>,
    /// When it ended (verification counts only answers after this).
    pub(super) finished: Timestamp,
    /// Verifying until then, after success.
    pub(super) verify_until: Option<Timestamp>,
    /// The verified component's raw answers asked after the step ended, in order (never
    /// the smoothed state, never an answer asked before).
    pub(super) evidence: Vec<Evidence>,
    /// Its action was accepted; only a postcondition anyone can read is left: which, and
    /// what its last reading said.
    pub(super) accepted: Option<(Postcondition, String)>,
    /// Lines of output it printed, all of them (the screen keeps the newest few).
    pub(super) printed: u64,
    /// What its log holds once it ended: (lines printed, lines kept, the file).
    pub(super) logged: Option<(u64, u64, String)>,
}

/// A pending postcondition the recorder reads again.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Reread {
    pub(super) asked: Timestamp,
    pub(super) in_flight: bool,
    /// What the last reading said (a step-log line when it changes).
    pub(super) said: String,
}

/// One raw answer weighed for a step's verification.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Evidence {
    pub(super) at: Timestamp,
    /// UP, and its detail meets the step's `expect`.
    pub(super) passes: bool,
    /// What it said (`UP`, `DEGRADED: promoting read replica`, `UP but says "replica of"`).
    pub(super) said: String,
}

/// Lines of step output kept for the step log pane.
pub(super) const STEP_LOG_CAP: usize = 200;

pub(super) fn fmt_duration(d: Duration) -> String {
    crate::app::fmt::duration(d)
}

impl State {
    /// The recorder reads every pending postcondition again, every [`REREAD_EVERY`], one
    /// read at a time each: a restore whose console stopped waiting is finished here.
    pub(super) fn reread_pending(&mut self, effects: &mut Vec<Effect>) {
        if !self.journal.recording || self.read_only || !self.can_run_steps {
            return;
        }
        let now = self.now;
        let mut asks: Vec<(String, String, Postcondition)> = self
            .steps
            .still_creating()
            .filter(|(rb, st, _)| {
                self.rereads
                    .get(&(rb.to_string(), st.to_string()))
                    .is_none_or(|r| !r.in_flight && now.duration_since(r.asked) >= REREAD_EVERY)
            })
            .map(|(rb, st, pc)| (rb.to_string(), st.to_string(), pc.clone()))
            .collect();
        asks.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        for (runbook, step, postcondition) in asks {
            let r = self
                .rereads
                .entry((runbook.clone(), step.clone()))
                .or_insert_with(|| Reread {
                    asked: now,
                    in_flight: true,
                    said: String::new(),
                });
            r.asked = now;
            r.in_flight = true;
            effects.push(Effect::ReadPostcondition {
                runbook,
                step,
                postcondition,
            });
        }
    }

    /// A pending postcondition read: a verdict when it holds or never will; else the
    /// step stays still creating (said in the step log when the reading changes).
    pub(super) fn on_reread(
        &mut self,
        runbook: String,
        step: String,
        reading: PostconditionReading,
        effects: &mut Vec<Effect>,
    ) {
        let key = (runbook.clone(), step.clone());
        let Some(postcondition) = self
            .steps
            .still_creating()
            .find(|(rb, st, _)| *rb == runbook && *st == step)
            .map(|(_, _, pc)| pc.clone())
        else {
            self.rereads.remove(&key);
            return;
        };
        let (verdict, said) = match reading {
            PostconditionReading::Held(seen) => (Some(true), seen),
            PostconditionReading::NotHeld(seen) => (Some(false), seen),
            PostconditionReading::StillCreating(seen) => (None, seen),
            PostconditionReading::CannotRead(why) => (None, format!("cannot read: {why}")),
        };
        match verdict {
            // Only the recorder writes the verdict (it may have handed over meanwhile: the
            // new one reads again).
            Some(verified) if self.journal.recording => {
                self.rereads.remove(&key);
                effects.push(Effect::Append(Entry {
                    at: self.now,
                    kind: EntryKind::StepVerified {
                        runbook,
                        step,
                        component: postcondition.target().to_string(),
                        verified,
                        detail: crate::text::redact::excerpt(&said, 300),
                    },
                }));
            }
            Some(_) => {
                self.rereads.remove(&key);
            }
            None => {
                let Some(r) = self.rereads.get_mut(&key) else {
                    return;
                };
                // The next read comes a whole interval after this answer.
                r.in_flight = false;
                r.asked = self.now;
                if r.said != said {
                    let line = format!("{runbook}/{step}: {said}");
                    r.said = said;
                    if self.step_log.len() >= STEP_LOG_CAP {
                        self.step_log.pop_front();
                    }
                    self.step_log.push_back(line);
                }
            }
        }
    }

    /// A step this console runs is being verified (its verdict not yet journaled).
    pub fn verifying(&self, runbook: &str, step: &str) -> bool {
        self.own
            .get(&(runbook.to_string(), step.to_string()))
            .is_some_and(|o| o.verify_until.is_some())
    }

    /// A step this console claimed was granted: the console's own steps end here (a
    /// checklist was ticked in the modal, a `notify` step's update goes to the outbox);
    /// anything else goes to the executor.
    pub(super) fn start_granted(
        &mut self,
        runbook: String,
        step: String,
        claiming: Claiming,
        effects: &mut Vec<Effect>,
    ) {
        let spec = self
            .runbooks
            .iter()
            .find(|r| r.id == runbook)
            .and_then(|r| r.steps.iter().find(|s| s.id == step))
            .cloned();
        let action = spec.as_ref().map(|s| s.action.clone());
        let summary = match (claiming.post, action) {
            // Journaled as queued by the outbox; the comms panel shows how delivery goes.
            (Some(out), _) => {
                let channels: Vec<&str> = out.update.to.iter().map(|c| c.as_str()).collect();
                let summary = format!(
                    "{} update queued for {} (delivery: see the comms panel)",
                    out.update.template.label(),
                    channels.join(" and ")
                );
                effects.push(Effect::Post(out));
                summary
            }
            // The operator read every item in the modal and typed the phrase; that is the
            // tick, recorded with who did it.
            (None, Some(Action::Checklist { items })) => {
                format!("{} item(s) ticked by the operator", items.len())
            }
            // Any other action is the executor's (a `notify` without its update, which the
            // composer always gives, would be refused there, having sent nothing).
            (None, Some(_)) => {
                if let Some(spec) = spec {
                    let log = (self.journal.source != Source::Nothing).then(|| {
                        super::super::outcome::StepLog {
                            source: self.journal.source.clone(),
                            run: format!("{runbook}.{step}.{}", self.now.as_millisecond()),
                        }
                    });
                    effects.push(Effect::Execute {
                        runbook,
                        step,
                        inputs: claiming.inputs,
                        spec: Box::new(spec),
                        log,
                    });
                }
                return;
            }
            // A runbook this console does not know (cannot happen: it confirmed the step).
            (None, None) => return,
        };
        self.on_step(
            StepEvent::Finished {
                runbook,
                step,
                outcome: StepOutcome::Succeeded { summary },
            },
            effects,
        );
    }

    pub(super) fn on_step(&mut self, event: StepEvent, effects: &mut Vec<Effect>) {
        match event {
            StepEvent::PostconditionRead {
                runbook,
                step,
                reading,
            } => self.on_reread(runbook, step, reading, effects),
            StepEvent::Claimed {
                runbook,
                step,
                granted,
                why,
            } => {
                let claiming = self.claiming.remove(&(runbook.clone(), step.clone()));
                if granted {
                    self.own.insert(
                        (runbook.clone(), step.clone()),
                        OwnRun {
                            started: self.now,
                            pgid: None,
                            finished: self.now,
                            verify_until: None,
                            evidence: Vec::new(),
                            accepted: None,
                            printed: 0,
                            logged: None,
                        },
                    );
                    if let Some(claiming) = claiming {
                        self.start_granted(runbook, step, claiming, effects);
                    }
                } else {
                    self.view.flash = Some(format!(
                        "{runbook}/{step} not started: {}",
                        why.unwrap_or_else(|| "refused".into())
                    ));
                }
            }
            StepEvent::Progress {
                runbook,
                step,
                progress,
            } => {
                let key = (runbook.clone(), step.clone());
                let line = match progress {
                    StepProgress::Output(l) => {
                        if let Some(o) = self.own.get_mut(&key) {
                            o.printed += 1;
                        }
                        l
                    }
                    StepProgress::Skipped(n) => {
                        if let Some(o) = self.own.get_mut(&key) {
                            o.printed += n;
                        }
                        format!(
                            "» {n} lines of output skipped here to keep up (the step log has them)"
                        )
                    }
                    StepProgress::Status(l) => {
                        if let Some(o) = self.own.get_mut(&key)
                            && let Some((_, last)) = o.accepted.as_mut()
                        {
                            last.clone_from(&l);
                        }
                        format!("» {l}")
                    }
                    StepProgress::Accepted(postcondition) => {
                        let line = format!("» accepted: waiting for {}", postcondition.describe());
                        if let Some(o) = self.own.get_mut(&key) {
                            o.accepted = Some((postcondition, "not read yet".into()));
                        }
                        line
                    }
                    StepProgress::Logged { lines, kept, log } => {
                        if let Some(o) = self.own.get_mut(&key) {
                            o.logged = Some((lines, kept, log.clone()));
                        }
                        format!("» {lines} lines of output, {kept} kept in {log}")
                    }
                    StepProgress::Running { pgid, start, log } => {
                        let key = (runbook.clone(), step.clone());
                        let timeout = self
                            .runbooks
                            .iter()
                            .find(|r| r.id == runbook)
                            .and_then(|r| r.steps.iter().find(|s| s.id == step))
                            .and_then(|s| match &s.action {
                                crate::config::Action::Command { timeout, .. } => Some(*timeout),
                                _ => None,
                            });
                        if let (Some(o), Some(timeout)) = (self.own.get_mut(&key), timeout) {
                            o.pgid = Some(pgid);
                            effects.push(Effect::Append(Entry {
                                at: self.now,
                                kind: EntryKind::StepProcess {
                                    runbook: runbook.clone(),
                                    step: step.clone(),
                                    pgid,
                                    start,
                                    timeout: signed(timeout),
                                    log,
                                },
                            }));
                        }
                        format!("» running as process group {pgid}")
                    }
                };
                if self.step_log.len() >= STEP_LOG_CAP {
                    self.step_log.pop_front();
                }
                self.step_log.push_back(format!("{runbook}/{step}: {line}"));
            }
            StepEvent::Finished {
                runbook,
                step,
                outcome,
            } => {
                let key = (runbook.clone(), step.clone());
                let started = self.own.get(&key).map(|o| o.started).unwrap_or(self.now);
                let (result, detail) = match &outcome {
                    StepOutcome::Succeeded { summary }
                    | StepOutcome::Checked { summary, .. }
                    | StepOutcome::StillCreating { summary, .. } => {
                        (StepResult::Succeeded, summary.clone())
                    }
                    StepOutcome::Failed { reason } => (StepResult::Failed, reason.clone()),
                };
                // All it printed, and how many of those the screen still holds: never the
                // ring's count as if it were the whole output.
                let printed = self.own.get(&key).map_or(0, |o| o.printed);
                let logged = self.own.get(&key).and_then(|o| o.logged.clone());
                let prefix = format!("{runbook}/{step}: ");
                let kept = self
                    .step_log
                    .iter()
                    .filter(|l| l.starts_with(&prefix) && !l[prefix.len()..].starts_with('»'))
                    .count();
                // With a log, what the log holds (the relay counted every line); else what
                // the screen saw.
                let summary = match logged {
                    Some((lines, kept, log)) => {
                        let noun = if lines == 1 { "line" } else { "lines" };
                        Some(format!("{lines} {noun}, {kept} kept, log {log}"))
                    }
                    None if printed > 0 => {
                        let noun = if printed == 1 { "line" } else { "lines" };
                        Some(format!("{printed} {noun} of output, {kept} kept on screen"))
                    }
                    None => None,
                };
                if let Some(summary) = summary {
                    effects.push(Effect::Append(Entry {
                        at: self.now,
                        kind: EntryKind::StepOutput {
                            runbook: runbook.clone(),
                            step: step.clone(),
                            summary,
                        },
                    }));
                }
                effects.push(Effect::Append(Entry {
                    at: self.now,
                    kind: EntryKind::StepFinished {
                        runbook: runbook.clone(),
                        step: step.clone(),
                        outcome: result,
                        took: self.now.duration_since(started),
                        detail: crate::text::redact::excerpt(&detail, 300),
                    },
                }));
                // Accepted, still being created at its deadline: not failed, not verified; the
                // recorder reads it again until it is there.
                if let StepOutcome::StillCreating {
                    evidence,
                    postcondition,
                    ..
                } = &outcome
                {
                    effects.push(Effect::Append(Entry {
                        at: self.now,
                        kind: EntryKind::StepPending {
                            runbook: runbook.clone(),
                            step: step.clone(),
                            postcondition: postcondition.clone(),
                            detail: crate::text::redact::excerpt(evidence, 300),
                        },
                    }));
                }
                // A built-in postcondition, read by the executor with its own API call, is the
                // step's verification (a configured `verify` adds its own verdict after).
                if let StepOutcome::Checked { held, evidence, .. } = &outcome {
                    let target = self
                        .runbooks
                        .iter()
                        .find(|rb| rb.id == runbook)
                        .and_then(|rb| rb.steps.iter().find(|s| s.id == step))
                        .map(|s| s.action.target_name())
                        .unwrap_or_default();
                    effects.push(Effect::Append(Entry {
                        at: self.now,
                        kind: EntryKind::StepVerified {
                            runbook: runbook.clone(),
                            step: step.clone(),
                            component: target,
                            verified: *held,
                            detail: crate::text::redact::excerpt(evidence, 300),
                        },
                    }));
                }
                let verify = self
                    .runbooks
                    .iter()
                    .find(|rb| rb.id == runbook)
                    .and_then(|rb| rb.steps.iter().find(|s| s.id == step))
                    .and_then(|s| s.verify.clone());
                match (result, verify) {
                    (StepResult::Succeeded, Some(v)) => {
                        if let Some(o) = self.own.get_mut(&key) {
                            o.finished = self.now;
                            o.verify_until = Some(
                                self.now
                                    .saturating_add(signed(v.up_within))
                                    .unwrap_or(self.now),
                            );
                        }
                        self.check_verifications(effects);
                    }
                    _ => {
                        self.own.remove(&key);
                    }
                }
            }
        }
    }

    /// Verdicts for the steps this console verifies: UP in time, or not.
    pub(super) fn check_verifications(&mut self, effects: &mut Vec<Effect>) {
        let mut done = Vec::new();
        for ((rb, st), o) in &self.own {
            let Some(until) = o.verify_until else {
                continue;
            };
            let Some(v) = self
                .runbooks
                .iter()
                .find(|r| &r.id == rb)
                .and_then(|r| r.steps.iter().find(|s| &s.id == st))
                .and_then(|s| s.verify.as_ref())
            else {
                continue;
            };
            // Verified by fresh evidence only: `confirm_after` consecutive raw answers, asked
            // after the step ended, all UP and as `expect` says; named in the verdict.
            let needed = self
                .estate
                .ix(&v.component)
                .and_then(|ix| self.estate.get(ix))
                .map_or(1, |spec| spec.health.timing.confirm_after().max(1))
                as usize;
            let run: Vec<&Evidence> = o.evidence.iter().rev().take_while(|e| e.passes).collect();
            let clock = |t: Timestamp| t.strftime("%H:%M:%S").to_string();
            let verdict = if run.len() >= needed {
                let mut times: Vec<String> = run[..needed].iter().map(|e| clock(e.at)).collect();
                times.reverse();
                Some((
                    true,
                    format!("{} UP ×{needed} at {}", v.component, times.join(", ")),
                ))
            } else if self.now > until {
                let last = match o.evidence.last() {
                    Some(e) => format!("last: {} {} at {}", v.component, e.said, clock(e.at)),
                    None => "no answer asked after the step ended".into(),
                };
                Some((
                    false,
                    format!(
                        "not UP ×{needed} within {}; {last}",
                        fmt_duration(v.up_within)
                    ),
                ))
            } else {
                None
            };
            if let Some((verified, detail)) = verdict {
                effects.push(Effect::Append(Entry {
                    at: self.now,
                    kind: EntryKind::StepVerified {
                        runbook: rb.clone(),
                        step: st.clone(),
                        component: v.component.clone(),
                        verified,
                        detail,
                    },
                }));
                done.push((rb.clone(), st.clone()));
            }
        }
        for k in done {
            self.own.remove(&k);
        }
    }

    /// The console ends: the programs of its `command` steps run on, journaled as such, and
    /// are no longer this console's to wait for.
    pub(super) fn hand_over(&mut self, reason: &str, effects: &mut Vec<Effect>) {
        let mut handed: Vec<(String, String)> = Vec::new();
        for ((rb, st), o) in &self.own {
            let Some(pgid) = o.pgid.filter(|_| o.verify_until.is_none()) else {
                continue;
            };
            effects.push(Effect::Append(Entry {
                at: self.now,
                kind: EntryKind::StepOutput {
                    runbook: rb.clone(),
                    step: st.clone(),
                    summary: format!(
                        "console ended ({reason}); step still running (pgid {pgid}): the recorder follows it"
                    ),
                },
            }));
            handed.push((rb.clone(), st.clone()));
        }
        handed.sort();
        for k in handed {
            self.own.remove(&k);
        }
    }

    /// The console ends with in-process steps unfinished: each claim is released, naming the
    /// last call made (its status line says whether an answer came).
    pub(super) fn abandon(&mut self, reason: &str, effects: &mut Vec<Effect>) {
        let mut left: Vec<(String, String)> = self
            .own
            .iter()
            .filter(|(_, o)| o.verify_until.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        left.sort();
        for (rb, st) in left {
            // Accepted, waiting only on a postcondition anyone can read: still creating, for
            // the recorder to finish — not interrupted.
            if let Some((started, (postcondition, last))) = self
                .own
                .get(&(rb.clone(), st.clone()))
                .and_then(|o| Some((o.started, o.accepted.clone()?)))
            {
                effects.push(Effect::Append(Entry {
                    at: self.now,
                    kind: EntryKind::StepFinished {
                        runbook: rb.clone(),
                        step: st.clone(),
                        outcome: StepResult::Succeeded,
                        took: self.now.duration_since(started),
                        detail: format!(
                            "accepted; the console ended ({reason}) while waiting for {}",
                            postcondition.describe()
                        ),
                    },
                }));
                effects.push(Effect::Append(Entry {
                    at: self.now,
                    kind: EntryKind::StepPending {
                        runbook: rb.clone(),
                        step: st.clone(),
                        postcondition,
                        detail: crate::text::redact::excerpt(&last, 300),
                    },
                }));
                self.own.remove(&(rb, st));
                continue;
            }
            let last = last_call(&self.step_log, &rb, &st);
            effects.push(Effect::Append(Entry {
                at: self.now,
                kind: EntryKind::StepReleased {
                    runbook: rb.clone(),
                    step: st.clone(),
                    reason: format!(
                        "interrupted — verify by hand: the console ended ({reason}) before the step did ({last})"
                    ),
                    // This console's own claim: released, not a newer one.
                    pid: self
                        .steps
                        .get(&rb, &st)
                        .and_then(|r| r.running.as_ref())
                        .map(|c| c.pid),
                },
            }));
            self.own.remove(&(rb, st));
        }
    }

    /// Steps this console is running or verifying.
    pub fn own_runs(&self) -> usize {
        self.own.len()
    }

    /// Steps an ending console waits for: not those accepted and waiting only on a
    /// postcondition that any console can read later (journaled as still creating).
    pub fn own_runs_to_wait_for(&self) -> usize {
        self.own
            .values()
            .filter(|o| o.accepted.is_none() || o.verify_until.is_some())
            .count()
    }

    /// `cancel` typed on a running step: how it can be stopped from here, journaled first.
    pub(super) fn cancel_step(&mut self, runbook: String, step: String, effects: &mut Vec<Effect>) {
        let key = (runbook.clone(), step.clone());
        let here = self.actor.split('@').nth(1).unwrap_or("");
        let claim = self
            .steps
            .get(&runbook, &step)
            .and_then(|r| r.running.clone());
        let stop = match (self.own.get(&key), &claim) {
            (Some(o), Some(c)) => match (o.pgid, c.group) {
                (Some(_), Some(g)) => Some(Stop::Group {
                    pgid: g.pgid,
                    start: g.start,
                }),
                _ => Some(Stop::Task),
            },
            (None, Some(c)) if c.host == here && c.group.is_some() => {
                c.group.map(|g| Stop::Group {
                    pgid: g.pgid,
                    start: g.start,
                })
            }
            _ => None,
        };
        let Some(stop) = stop else {
            self.view.flash = Some(match claim {
                Some(c) => format!(
                    "{runbook}/{step} runs in another console ({} pid {}): cancel it there, or `release: <reason>`",
                    c.host, c.pid
                ),
                None => format!("{runbook}/{step} is no longer running"),
            });
            return;
        };
        let how = match stop {
            Stop::Group { pgid, .. } => {
                format!("SIGTERM to process group {pgid} (SIGKILL 10 s later if it still runs)")
            }
            Stop::Task => "its calls are abandoned: verify by hand what was applied".into(),
        };
        effects.push(Effect::Append(Entry {
            at: self.now,
            kind: EntryKind::StepOutput {
                runbook: runbook.clone(),
                step: step.clone(),
                summary: format!("cancel typed by {}: {how}", self.actor),
            },
        }));
        effects.push(Effect::CancelStep {
            runbook,
            step,
            stop,
        });
    }
}
