//! Each component's signals as the model keeps them: health, lag, backup, RPO and RTO,
//! and how an observation moves them (what it says on the timeline).

use super::*;

/// A component's health as the UI shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownHealth {
    pub state: HealthState,
    pub reason: String,
    pub since: Timestamp,
    pub latency: Option<Duration>,
    /// UNKNOWN because the last answer is older than 3 intervals ("… STALE").
    pub stale: bool,
}

/// Everything `update` knows about one component.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentState {
    pub(super) health: Tracker<Health>,
    pub(super) lag: Option<LagTrack>,
    pub(super) backup: Option<BackupTrack>,
    pub(super) rpo: Option<Rpo>,
    pub(super) outage: Option<Outage>,
}

impl ComponentState {
    pub(super) fn new(spec: &ComponentSpec, started: Timestamp) -> ComponentState {
        ComponentState {
            health: Tracker::new(started),
            lag: spec.lag.as_ref().map(|_| LagTrack::new()),
            backup: spec.backup.as_ref().map(|_| BackupTrack::new(started)),
            rpo: spec.rpo.map(Rpo::new),
            outage: None,
        }
    }

    pub fn health(&self) -> &Tracker<Health> {
        &self.health
    }

    /// None when the component has no lag probe.
    pub fn lag(&self) -> Option<&LagTrack> {
        self.lag.as_ref()
    }

    /// None when the component has no backup probe.
    pub fn backup(&self) -> Option<&BackupTrack> {
        self.backup.as_ref()
    }

    /// None when the component has no RPO.
    pub fn rpo(&self) -> Option<&Rpo> {
        self.rpo.as_ref()
    }

    /// The current outage, or the last one (with `recovered_at`) if it is over.
    pub fn outage(&self) -> Option<&Outage> {
        self.outage.as_ref()
    }

    /// RTO − time since first confirmed DOWN while an outage is open; negative = breached.
    pub fn rto_budget(&self, spec: &ComponentSpec, now: Timestamp) -> Option<SignedDuration> {
        self.outage.as_ref()?.budget(spec.rto?, now)
    }

    // ------------------------------------------------------------ observations

    pub(super) fn observe_health(
        &mut self,
        spec: &ComponentSpec,
        o: Observed,
        log: &mut ObservationLog,
    ) -> Heard {
        let first = !self.health.answered();
        let reading = Health::from_outcome(o.outcome, spec.health.warn_latency);
        let confirm = spec.health.timing.confirm_after();
        let mut changed = match self.health.observe(reading, o.at, confirm) {
            Transition::Ignored => return Heard::Ignored,
            Transition::Same => first,
            Transition::Changed { from } => {
                self.health_changed(spec, from, log);
                true
            }
        };
        // An observation that arrives late may already be stale.
        if let Transition::Changed { from } = self.health.refresh(log.at, &spec.health.timing) {
            self.health_changed(spec, from, log);
            changed = true;
        }
        self.check_rto(spec, log);
        Heard::from(changed)
    }

    pub(super) fn observe_lag(
        &mut self,
        spec: &ComponentSpec,
        replica: String,
        o: Observed,
        log: &mut ObservationLog,
    ) -> Heard {
        let (Some(lag_spec), Some(lag)) = (spec.lag.as_ref(), self.lag.as_mut()) else {
            return Heard::Ignored;
        };
        let (_, r) = lag.replica_mut(replica, o.at);
        let first = !r.track().answered();
        let mut changed = match r.observe(o.outcome, o.at, lag_spec) {
            Transition::Ignored => return Heard::Ignored,
            Transition::Same => first,
            Transition::Changed { from } => {
                log_lag(spec, r, from, log);
                true
            }
        };
        if let Transition::Changed { from } = r.refresh(log.at, &lag_spec.timing) {
            log_lag(spec, r, from, log);
            changed = true;
        }
        changed |= self.refresh_rpo(spec, log);
        Heard::from(changed)
    }

    pub(super) fn observe_backup(
        &mut self,
        spec: &ComponentSpec,
        o: Observed,
        log: &mut ObservationLog,
    ) -> Heard {
        let (Some(backup_spec), Some(backup)) = (spec.backup.as_ref(), self.backup.as_mut()) else {
            return Heard::Ignored;
        };
        let first = !backup.track().answered();
        let mut changed = match backup.observe(
            o.outcome,
            o.at,
            &backup_spec.thresholds,
            &backup_spec.timing,
        ) {
            Transition::Ignored => return Heard::Ignored,
            Transition::Same => first,
            Transition::Changed { from } => {
                log_backup(spec, backup, from, log);
                true
            }
        };
        if let Transition::Changed { from } = backup.refresh(log.at, &backup_spec.timing) {
            log_backup(spec, backup, from, log);
            changed = true;
        }
        changed |= self.refresh_rpo(spec, log);
        Heard::from(changed)
    }

    // ------------------------------------------------------------ time

    /// Everything that depends on time alone; true when a shown level changed.
    pub(super) fn refresh(&mut self, spec: &ComponentSpec, log: &mut ObservationLog) -> bool {
        let mut changed = false;
        if let Transition::Changed { from } = self.health.refresh(log.at, &spec.health.timing) {
            self.health_changed(spec, from, log);
            changed = true;
        }
        if let (Some(lag_spec), Some(lag)) = (spec.lag.as_ref(), self.lag.as_mut()) {
            for r in lag.replicas_mut() {
                if let Transition::Changed { from } = r.refresh(log.at, &lag_spec.timing) {
                    log_lag(spec, r, from, log);
                    changed = true;
                }
            }
        }
        if let (Some(backup_spec), Some(backup)) = (spec.backup.as_ref(), self.backup.as_mut())
            && let Transition::Changed { from } = backup.refresh(log.at, &backup_spec.timing)
        {
            log_backup(spec, backup, from, log);
            changed = true;
        }
        changed |= self.refresh_rpo(spec, log);
        self.check_rto(spec, log);
        changed
    }

    // ------------------------------------------------------------ consequences

    pub(super) fn health_changed(
        &mut self,
        spec: &ComponentSpec,
        from: Health,
        log: &mut ObservationLog,
    ) {
        let to = self.health.shown().state();
        let since = self.health.since();
        if !first_answer_all_well(&from, to == HealthState::Up) {
            log.push(EntryKind::ComponentState {
                component: spec.id.clone(),
                from: from.state(),
                to,
                reason: self.health.shown().reason(log.at),
                since,
                rto: spec.rto.map(signed),
                rpo: spec.rpo.map(signed),
                // What would be lost if it stayed down: the report's "RPO at failure".
                exposure: self.rpo.as_ref().map(|r| r.exposure),
            });
        }
        match to {
            HealthState::Down => {
                // A new DOWN after recovery opens a new outage; during one, it changes nothing.
                if self.outage.is_none_or(|o| !o.is_open()) {
                    self.outage = Some(Outage::open(since));
                }
            }
            HealthState::Up => {
                if let Some(o) = self.outage.as_mut().filter(|o| o.is_open()) {
                    o.recovered_at = Some(since);
                    log.push(EntryKind::Recovered {
                        component: spec.id.clone(),
                        down_since: o.down_since,
                        recovered_at: since,
                        took: since.duration_since(o.down_since),
                        rto: spec.rto.map(signed),
                    });
                }
            }
            // The outage stays open through UNKNOWN and DEGRADED.
            HealthState::Degraded | HealthState::Unknown => {}
        }
    }

    /// Record an RTO breach once per outage.
    pub(super) fn check_rto(&mut self, spec: &ComponentSpec, log: &mut ObservationLog) {
        let (Some(rto), Some(o)) = (spec.rto, self.outage.as_mut()) else {
            return;
        };
        if o.breach_recorded || !o.budget(rto, log.at).is_some_and(|b| b.is_negative()) {
            return;
        }
        o.breach_recorded = true;
        log.push(EntryKind::RtoBreached {
            component: spec.id.clone(),
            down_since: o.down_since,
            rto: signed(rto),
        });
    }

    /// Recompute the RPO exposure (a handful of replicas: O(1)); true when its level changed.
    pub(super) fn refresh_rpo(&mut self, spec: &ComponentSpec, log: &mut ObservationLog) -> bool {
        let Some(rpo) = self.rpo.as_mut() else {
            return false;
        };
        rpo.exposure = Exposure::of(self.lag.as_ref(), self.backup.as_ref(), log.at);
        let level = rpo.exposure.level(rpo.rpo);
        if level == rpo.level {
            return false;
        }
        let from = mem::replace(&mut rpo.level, level);
        // The first known level is news only if it is bad.
        if rpo.ever_known || level != RpoLevel::Ok {
            log.push(EntryKind::RpoExposure {
                component: spec.id.clone(),
                from,
                to: level,
                exposure: rpo.exposure,
                rpo: signed(rpo.rpo),
            });
        }
        rpo.ever_known |= level != RpoLevel::Unknown;
        true
    }
}

/// The first answer of a probe that says all is well is not news: it would fill the timeline
/// with one "UNKNOWN → UP" per probe at start. A first answer that is bad, and any change after
/// that (including back from STALE), is recorded.
pub(super) fn first_answer_all_well<L: Level>(from: &L, to_is_ok: bool) -> bool {
    to_is_ok && from.unknown_reason().is_some_and(|r| r.is_waiting())
}

pub(super) fn log_lag(spec: &ComponentSpec, r: &Replica, from: LagLevel, log: &mut ObservationLog) {
    let to = r.level();
    if first_answer_all_well(&from, *to == LagLevel::Ok) {
        return;
    }
    log.push(EntryKind::LagLevel {
        component: spec.id.clone(),
        replica: r.name().to_string(),
        from: from.state(),
        to: to.state(),
        value: if to.is_measured() {
            r.value().map(|m| m.seconds)
        } else {
            None
        },
        detail: to.detail(log.at),
    });
}

pub(super) fn log_backup(
    spec: &ComponentSpec,
    b: &BackupTrack,
    from: BackupLevel,
    log: &mut ObservationLog,
) {
    let to = b.level();
    if first_answer_all_well(&from, *to == BackupLevel::Ok) {
        return;
    }
    log.push(EntryKind::BackupLevel {
        component: spec.id.clone(),
        from: from.state(),
        to: to.state(),
        age: if to.is_measured() {
            b.value().map(|m| m.seconds)
        } else {
            None
        },
        detail: to.detail(log.at),
    });
}

/// The parts of an observation a signal needs once its kind is known.
pub(super) struct Observed {
    pub(super) at: Timestamp,
    pub(super) outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Heard {
    /// Out of order, or for a signal the component does not have.
    Ignored,
    Unchanged,
    /// A shown level changed (or a probe answered for the first time): reassess.
    Changed,
}

impl From<bool> for Heard {
    fn from(changed: bool) -> Heard {
        if changed {
            Heard::Changed
        } else {
            Heard::Unchanged
        }
    }
}

/// Where automatic entries go: to the journal if this console is the recorder. They reach the
/// timeline from there, once on disk, like every other console's.
pub(super) struct ObservationLog<'a> {
    pub(super) at: Timestamp,
    pub(super) recording: bool,
    pub(super) effects: &'a mut Vec<Effect>,
    /// What this console noticed while another recorded (or none did yet).
    pub(super) unrecorded: &'a mut VecDeque<Entry>,
}

impl ObservationLog<'_> {
    pub(super) fn push(&mut self, kind: EntryKind) {
        let entry = Entry { at: self.at, kind };
        if self.recording {
            self.effects.push(Effect::Append(entry));
        } else {
            if self.unrecorded.len() >= UNRECORDED_CAP {
                self.unrecorded.pop_front();
            }
            self.unrecorded.push_back(entry);
        }
    }
}

impl State {
    pub(super) fn on_observation(&mut self, o: Observation, effects: &mut Vec<Effect>) {
        self.advance(o.at);
        let ix = o.component.index();
        let (Some(spec), Some(c)) = (self.estate.get(o.component), self.components.get_mut(ix))
        else {
            self.ignored += 1;
            return;
        };
        let mut log = ObservationLog {
            at: self.now,
            recording: self.journal.recording,
            effects,
            unrecorded: &mut self.unrecorded,
        };
        if o.signal == Signal::Health && !self.own.is_empty() {
            let raw = Health::from_outcome(o.outcome.clone(), spec.health.warn_latency);
            let detail = match &o.outcome {
                Outcome::Up { detail, .. } | Outcome::Down { detail } => detail.clone(),
                _ => String::new(),
            };
            for ((rb, st), run) in self.own.iter_mut() {
                let Some(v) = self
                    .runbooks
                    .iter()
                    .find(|r| &r.id == rb)
                    .and_then(|r| r.steps.iter().find(|s| &s.id == st))
                    .and_then(|s| s.verify.as_ref())
                    .filter(|v| v.component == spec.id)
                else {
                    continue;
                };
                // Only answers asked after the step ended say anything about what it did.
                if run.verify_until.is_none() || o.started < run.finished {
                    continue;
                }
                let up = raw.state() == HealthState::Up;
                let unmet = up.then(|| v.expect.unmet(&detail)).flatten();
                let said = match (&unmet, up) {
                    (Some(why), _) => format!("UP but {why}"),
                    (None, true) => "UP".to_string(),
                    (None, false) => format!("{}: {}", raw.state().label(), raw.reason(o.at)),
                };
                run.evidence.push(Evidence {
                    at: o.at,
                    passes: up && unmet.is_none(),
                    said,
                });
            }
        }
        let observed = Observed {
            at: o.at,
            outcome: o.outcome,
        };
        let seen = match o.signal {
            Signal::Health => c.observe_health(spec, observed, &mut log),
            Signal::Lag { replica } => c.observe_lag(spec, replica, observed, &mut log),
            Signal::BackupAge => c.observe_backup(spec, observed, &mut log),
        };
        match seen {
            Heard::Ignored => self.ignored += 1,
            Heard::Unchanged => {}
            Heard::Changed => self.reassess(effects),
        }
    }
}
