//! The one owner of state: `update(&mut State, Event) -> Vec<Effect>`.
//!
//! Pure: no I/O, no clock (time arrives in events), no locks. An observation costs O(1): it
//! finds its component by index and touches that component only; the overall assessment
//! (O(n)) is recomputed only when a shown level changed, and on every Tick.

use std::collections::{BTreeMap, VecDeque};
use std::mem;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::budget::{Exposure, Outage, Rpo, RpoLevel};
use super::comms::Comms;
use super::compose::{Compose, ComposeOutcome};
use super::dialog::{Dialog, DialogOutcome, Submit};
use super::entry::{DrLevel, Entry, EntryKind, IncidentStatus, Recorded, StepResult};
use super::estate::{ComponentIx, ComponentSpec, Estate, signed};
use super::incident::{self, Incident, JournalEvent, JournalState, Source};
use super::modal::StepModal;
use super::observation::StepEvent;
use super::observation::{Event, Observation, Outcome, Signal};
use super::severity::{self, Assessment, Severity};
use super::signals::{BackupLevel, BackupTrack, Health, HealthState, LagLevel, LagTrack, Replica};
use super::steps::{self, StepState, Steps};
use super::track::{Level, Tracker, Transition};
use super::view::Key;
use super::view::{KeyOutcome, Panel, View};
use crate::app::message::{Outgoing, Targets, Template};
use crate::app::outcome::{Postcondition, PostconditionReading, StepOutcome, StepProgress};
use crate::config::{Action, Runbook};

/// What a step key or `u` says on a terminal smaller than the smallest layout.
pub const TOO_SMALL: &str = "terminal too small for steps (need 80×24)";

/// Entries kept in memory for the timeline panel; the journal keeps them all.
pub const TIMELINE_CAP: usize = 10_000;

/// What the core asks of the world.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Write this entry to the journal: the open incident's, else the watch log. Automatic
    /// entries are asked for by the recorder console only; the others follow its lines.
    Append(Entry),
    /// Claim a step in the journal (a conditional append: the lock) and, if granted, run it.
    RunStep {
        runbook: String,
        step: String,
        inputs: BTreeMap<String, String>,
        at: Timestamp,
        /// A `notify` step: the update it sends, queued once the claim is granted.
        post: Option<Box<Outgoing>>,
        /// `break glass: <reason>` typed while the journal is TAMPERED: the claim is granted
        /// without its lock and written with the held entries in the continuation.
        break_glass: Option<String>,
    },
    /// Run a step whose claim this console was granted on the executor; its progress and
    /// end come back as [`StepEvent`]s. (A checklist or a `notify` step is the console's own:
    /// `update` finishes it itself, see [`Action::console_own`].)
    Execute {
        runbook: String,
        step: String,
        inputs: BTreeMap<String, String>,
        /// The step as configured: what the executor runs.
        spec: Box<crate::config::Step>,
    },
    /// Queue an update to Slack and the status page: written to the outbox and journaled as
    /// queued before any network call; the outbox worker delivers it.
    Post(Box<Outgoing>),
    /// Declare an incident: a new journal that starts from the first failure in the watch log.
    Declare {
        title: String,
        level: DrLevel,
        status: IncidentStatus,
        at: Timestamp,
    },
    /// The operator asked to leave.
    Quit,
    /// Continue a tampered journal in a new file (`continue journal: <reason>`).
    ContinueJournal { reason: String, at: Timestamp },
    /// The operator typed `cancel` on a running step: stop it.
    CancelStep {
        runbook: String,
        step: String,
        stop: Stop,
    },
    /// Read a step's pending postcondition once (the recorder finishes steps whose console
    /// stopped waiting); the answer comes back as [`StepEvent::PostconditionRead`].
    ReadPostcondition {
        runbook: String,
        step: String,
        postcondition: Postcondition,
    },
}

/// How often the recorder reads a pending postcondition again.
pub const REREAD_EVERY: SignedDuration = SignedDuration::from_secs(30);

/// How a running step is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Its program's process group (of this console or, its console gone, of this host):
    /// SIGTERM, then SIGKILL 10 s later if it still runs.
    Group { pgid: u32, start: u64 },
    /// An in-process step of this console: its calls are abandoned.
    Task,
}

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
    health: Tracker<Health>,
    lag: Option<LagTrack>,
    backup: Option<BackupTrack>,
    rpo: Option<Rpo>,
    outage: Option<Outage>,
}

impl ComponentState {
    fn new(spec: &ComponentSpec, started: Timestamp) -> ComponentState {
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

    fn observe_health(
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

    fn observe_lag(
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

    fn observe_backup(
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
    fn refresh(&mut self, spec: &ComponentSpec, log: &mut ObservationLog) -> bool {
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

    fn health_changed(&mut self, spec: &ComponentSpec, from: Health, log: &mut ObservationLog) {
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
    fn check_rto(&mut self, spec: &ComponentSpec, log: &mut ObservationLog) {
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
    fn refresh_rpo(&mut self, spec: &ComponentSpec, log: &mut ObservationLog) -> bool {
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
fn first_answer_all_well<L: Level>(from: &L, to_is_ok: bool) -> bool {
    to_is_ok && from.unknown_reason().is_some_and(|r| r.is_waiting())
}

fn log_lag(spec: &ComponentSpec, r: &Replica, from: LagLevel, log: &mut ObservationLog) {
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

fn log_backup(spec: &ComponentSpec, b: &BackupTrack, from: BackupLevel, log: &mut ObservationLog) {
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
struct Observed {
    at: Timestamp,
    outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heard {
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
struct ObservationLog<'a> {
    at: Timestamp,
    recording: bool,
    effects: &'a mut Vec<Effect>,
    /// What this console noticed while another recorded (or none did yet).
    unrecorded: &'a mut VecDeque<Entry>,
}

impl ObservationLog<'_> {
    fn push(&mut self, kind: EntryKind) {
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

/// What an automatic entry is about: its kind and the thing it is of.
fn subject(k: &EntryKind) -> (&'static str, String) {
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
fn news(k: &EntryKind) -> String {
    match k {
        EntryKind::ComponentState { to, .. } => to.label().to_string(),
        EntryKind::LagLevel { to, .. } => to.label().to_string(),
        EntryKind::BackupLevel { to, .. } => to.label().to_string(),
        EntryKind::RpoExposure { to, .. } => to.label().to_string(),
        EntryKind::Severity { to, .. } => to.label().to_string(),
        other => other.describe(),
    }
}

/// Automatic entries a console keeps while it does not record, in case it becomes the
/// recorder and must fill the gap the last one left.
const UNRECORDED_CAP: usize = 1000;

/// Everything the console knows.
#[derive(Debug, Clone)]
pub struct State {
    estate: Estate,
    started: Timestamp,
    now: Timestamp,
    components: Vec<ComponentState>,
    assessment: Assessment,
    /// The followed journal's lines, newest last, at most [`TIMELINE_CAP`] (the oldest are
    /// dropped). A deque, so dropping the oldest costs nothing.
    pub timeline: VecDeque<Recorded>,
    /// The incident of the followed journal (kept, resolved, after the console goes back to
    /// the watch log).
    pub incident: Option<Incident>,
    pub journal: JournalState,
    /// The declare / status / note dialog, while open.
    pub dialog: Option<Dialog>,
    /// Observer console (`--read-only`, or a user not among the operators): no dialog opens.
    pub read_only: bool,
    /// This console has something to run steps with.
    pub can_run_steps: bool,
    unrecorded: VecDeque<Entry>,
    ignored: u64,
    /// What the operator is looking at (focus, filter, help).
    pub view: View,
    /// The runbooks the runbook panel offers (their steps run from it).
    pub runbooks: Vec<Runbook>,
    /// Every step's record, folded from the followed journal.
    pub steps: Steps,
    /// The confirmation modal of a step, while open.
    pub modal: Option<StepModal>,
    /// Steps this console runs: until their end (and verification) is journaled.
    own: BTreeMap<(String, String), OwnRun>,
    /// Steps whose claim this console asked for, until the journal answers: what to run
    /// them with once granted.
    claiming: BTreeMap<(String, String), Claiming>,
    /// Pending postconditions this console (as the recorder) reads again.
    rereads: BTreeMap<(String, String), Reread>,
    /// The operator chose the runbook shown (an arrow, a step key), and in which incident
    /// (by its declaration time; `None`: before any). Until then the runbook panel follows
    /// the suggested level; after, a new suggestion is said in the header and moves nothing.
    runbook_picked: Option<Option<Timestamp>>,
    /// The last lines of output of the steps this console ran, newest last.
    pub step_log: VecDeque<String>,
    /// The console's title (the service customers know: "DTEM production").
    pub title: String,
    /// Who this console is (user@host): who posts its updates.
    pub actor: String,
    /// Where updates go (from the config; no secrets).
    pub targets: Targets,
    /// This console can queue updates (it has an outbox).
    pub can_send: bool,
    /// The language of the update templates and public names (`[comms] language`).
    pub language: crate::config::Language,
    /// Every update of the followed journal (and of the incident just resolved).
    pub comms: Comms,
    /// The update composer, while open.
    pub compose: Option<Compose>,
    /// What each channel's outbox worker says is wrong, by channel.
    pub comms_problems: BTreeMap<String, String>,
}

/// What a console is, fixed when it starts: what it offers and what it can do. Built by the
/// command that starts the console (the runtime sets none of it).
#[derive(Debug, Clone)]
pub struct Setup {
    /// The runbooks the runbook panel offers.
    pub runbooks: Vec<Runbook>,
    /// An observer console: no dialog opens, no step or update starts.
    pub read_only: bool,
    /// It has an executor to run steps with.
    pub can_run_steps: bool,
    /// It has an outbox worker to queue updates with.
    pub can_send: bool,
    /// Where updates go (no secrets).
    pub targets: Targets,
    pub language: crate::config::Language,
    /// The service customers know ("DTEM production").
    pub title: String,
    /// Who this console is (user@host).
    pub actor: String,
}

impl Default for Setup {
    /// A console with no runbooks, no comms and no name, that may run steps: what the model
    /// tests start from.
    fn default() -> Setup {
        Setup {
            runbooks: Vec::new(),
            read_only: false,
            can_run_steps: true,
            can_send: false,
            targets: Targets::default(),
            language: crate::config::Language::En,
            title: String::new(),
            actor: String::new(),
        }
    }
}

impl State {
    pub fn new(estate: Estate, started: Timestamp, setup: Setup) -> State {
        let Setup {
            runbooks,
            read_only,
            can_run_steps,
            can_send,
            targets,
            language,
            title,
            actor,
        } = setup;
        let components = estate
            .components()
            .iter()
            .map(|spec| ComponentState::new(spec, started))
            .collect();
        let mut state = State {
            estate,
            started,
            now: started,
            components,
            assessment: Assessment {
                severity: Severity::Observing,
                reasons: Vec::new(),
            },
            timeline: VecDeque::new(),
            incident: None,
            journal: JournalState::default(),
            dialog: None,
            read_only,
            can_run_steps,
            unrecorded: VecDeque::new(),
            ignored: 0,
            view: View::default(),
            runbooks,
            steps: Steps::default(),
            modal: None,
            own: BTreeMap::new(),
            claiming: BTreeMap::new(),
            rereads: BTreeMap::new(),
            runbook_picked: None,
            step_log: VecDeque::new(),
            title,
            actor,
            targets,
            can_send,
            language,
            comms: Comms::default(),
            compose: None,
            comms_problems: BTreeMap::new(),
        };
        state.assessment = severity::assess(&state);
        state
    }

    pub fn estate(&self) -> &Estate {
        &self.estate
    }

    pub fn started(&self) -> Timestamp {
        self.started
    }

    /// The latest time any event carried.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn assessment(&self) -> &Assessment {
        &self.assessment
    }

    pub fn severity(&self) -> Severity {
        self.assessment.severity
    }

    /// Observations ignored so far: unknown component, a signal the component has no probe
    /// for, or older than the last answer of their signal.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    pub fn component(&self, ix: ComponentIx) -> Option<&ComponentState> {
        self.components.get(ix.index())
    }

    pub fn components(
        &self,
    ) -> impl Iterator<Item = (ComponentIx, &ComponentSpec, &ComponentState)> {
        self.estate
            .iter()
            .zip(&self.components)
            .map(|((ix, spec), c)| (ix, spec, c))
    }

    /// The shown health of a component, with its reason in words.
    pub fn health(&self, ix: ComponentIx) -> Option<ShownHealth> {
        let h = &self.components.get(ix.index())?.health;
        Some(ShownHealth {
            state: h.shown().state(),
            reason: h.shown().reason(self.now),
            since: h.since(),
            latency: h.shown().latency(),
            stale: h.is_stale(),
        })
    }

    /// Why a component's RPO is breached, if it is (`backup 14h07m old > RPO 1h`): said on
    /// its row even while it is UP, so a red severity always has its reason beside it.
    pub fn rpo_breach(&self, ix: ComponentIx) -> Option<String> {
        let rpo = self.components.get(ix.index())?.rpo()?;
        if rpo.level != crate::app::RpoLevel::Breached {
            return None;
        }
        let limit = super::fmt::duration(rpo.rpo);
        Some(match rpo.exposure {
            super::budget::Exposure::Replication { lag } => {
                format!("lag {} > RPO {limit}", super::fmt::signed(lag))
            }
            super::budget::Exposure::Backup { age } => {
                format!("backup {} old > RPO {limit}", super::fmt::signed(age))
            }
            super::budget::Exposure::NoBackup => {
                format!("no backup, no healthy replica: RPO {limit}")
            }
            super::budget::Exposure::Unknown => format!("exposure unknown: RPO {limit}"),
        })
    }

    /// RTO budget left for a component in an open outage; negative = breached.
    pub fn rto_budget(&self, ix: ComponentIx) -> Option<SignedDuration> {
        let spec = self.estate.get(ix)?;
        self.components.get(ix.index())?.rto_budget(spec, self.now)
    }

    fn advance(&mut self, t: Timestamp) {
        if t > self.now {
            self.now = t;
        }
    }

    fn on_observation(&mut self, o: Observation, effects: &mut Vec<Effect>) {
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

    fn on_tick(&mut self, t: Timestamp, effects: &mut Vec<Effect>) {
        self.advance(t);
        let mut log = ObservationLog {
            at: self.now,
            recording: self.journal.recording,
            effects,
            unrecorded: &mut self.unrecorded,
        };
        for (spec, c) in self.estate.components().iter().zip(&mut self.components) {
            c.refresh(spec, &mut log);
        }
        self.reassess(effects);
        self.reread_pending(effects);
    }

    /// The recorder reads every pending postcondition again, every [`REREAD_EVERY`], one
    /// read at a time each: a restore whose console stopped waiting is finished here.
    fn reread_pending(&mut self, effects: &mut Vec<Effect>) {
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
    fn on_reread(
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
                        detail: crate::redact::excerpt(&said, 300),
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

    fn reassess(&mut self, effects: &mut Vec<Effect>) {
        let next = severity::assess(self);
        if next.severity != self.assessment.severity {
            let mut log = ObservationLog {
                at: self.now,
                recording: self.journal.recording,
                effects,
                unrecorded: &mut self.unrecorded,
            };
            log.push(EntryKind::Severity {
                from: self.assessment.severity,
                to: next.severity,
                reasons: next.reasons.clone(),
            });
        }
        self.assessment = next;
    }
}

impl State {
    fn on_journal(&mut self, event: JournalEvent, effects: &mut Vec<Effect>) {
        let j = &mut self.journal;
        match event {
            JournalEvent::Reset { source, entries } => {
                self.timeline.clear();
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
    fn journal_says(&self, kind: &EntryKind) -> bool {
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

    fn on_key(&mut self, key: Key, effects: &mut Vec<Effect>) {
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
        let typing = self.view.editing_filter || self.view.help;
        // A step's key opens its modal from any panel (the phrase still guards it): a key
        // pressed while another panel has the focus must not fall through to the console.
        // The timeline's own letters stay its own while it has the focus.
        let panel_letter = super::keymap::is_panel_letter(&key, self.view.focus);
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
        use super::keymap::KeyAction as A;
        let action = if typing {
            None
        } else {
            super::keymap::action(&key, self.view.focus)
        };
        match action {
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
                            super::suggest::level(self).map_or(DrLevel::ALL[0], |s| s.preselect()),
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
    fn step_for_key(&self, c: char) -> Option<(usize, usize)> {
        let n = self.runbooks.len();
        if n == 0 {
            return None;
        }
        let rb = self.view.runbook % n;
        let st = self.runbooks[rb].steps.iter().position(|s| s.key == c)?;
        Some((rb, st))
    }

    fn open_modal(&mut self, rb: usize, st: usize, effects: &mut Vec<Effect>) {
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
    fn pick_runbook(&mut self) {
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
    fn follow_suggestion(&mut self) {
        if self.runbook_picked() || !self.runbooks.iter().any(|r| r.level.is_some()) {
            return;
        }
        if let Some(ix) = super::suggest::level(self).and_then(|s| s.runbook) {
            self.view.runbook = ix;
        }
    }

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

    fn on_compose_key(&mut self, key: Key, effects: &mut Vec<Effect>) {
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
                let not_up = super::compose::not_up(self);
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
    pub fn customer_channel(&self) -> Option<&'static str> {
        if self.targets.statuspage.is_some() {
            Some(crate::app::message::Channel::StatusPage.as_str())
        } else if self.targets.slack.is_some() {
            Some(crate::app::message::Channel::Slack.as_str())
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
            Some(last) => super::compose::next_update(last),
            None => i.declared,
        })
    }

    fn on_modal_key(&mut self, key: Key, effects: &mut Vec<Effect>) {
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
            inputs.insert(super::modal::OVERRIDE_DEFAULTS_INPUT.to_string(), reason);
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

    /// Whether the followed journal's chain broke (`JOURNAL TAMPERED`): nothing is appended
    /// to it and no claim can be its lock until it is continued.
    pub fn journal_tampered(&self) -> bool {
        self.journal
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("JOURNAL TAMPERED"))
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
    fn start_granted(
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
                    effects.push(Effect::Execute {
                        runbook,
                        step,
                        inputs: claiming.inputs,
                        spec: Box::new(spec),
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

    fn on_step(&mut self, event: StepEvent, effects: &mut Vec<Effect>) {
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
                    StepProgress::Running { pgid, start } => {
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
                let prefix = format!("{runbook}/{step}: ");
                let kept = self
                    .step_log
                    .iter()
                    .filter(|l| l.starts_with(&prefix) && !l[prefix.len()..].starts_with('»'))
                    .count();
                if printed > 0 {
                    let noun = if printed == 1 { "line" } else { "lines" };
                    effects.push(Effect::Append(Entry {
                        at: self.now,
                        kind: EntryKind::StepOutput {
                            runbook: runbook.clone(),
                            step: step.clone(),
                            summary: format!("{printed} {noun} of output, {kept} kept on screen"),
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
                        detail: crate::redact::excerpt(&detail, 300),
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
                            detail: crate::redact::excerpt(evidence, 300),
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
                            detail: crate::redact::excerpt(evidence, 300),
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
    fn check_verifications(&mut self, effects: &mut Vec<Effect>) {
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
    fn hand_over(&mut self, reason: &str, effects: &mut Vec<Effect>) {
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
    fn abandon(&mut self, reason: &str, effects: &mut Vec<Effect>) {
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
                        detail: crate::redact::excerpt(&last, 300),
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

    fn submit(&mut self, submit: Submit, effects: &mut Vec<Effect>) {
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

    /// `cancel` typed on a running step: how it can be stopped from here, journaled first.
    fn cancel_step(&mut self, runbook: String, step: String, effects: &mut Vec<Effect>) {
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

    fn submitted(&self, at: Timestamp, submit: Submit) -> Option<Effect> {
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

/// The last call a step made, from its log lines (an executor says `» Call …` before a call
/// and `Call: …` when its answer came), and whether its answer arrived.
fn last_call(log: &VecDeque<String>, runbook: &str, step: &str) -> String {
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
struct Claiming {
    inputs: BTreeMap<String, String>,
    /// A `notify` step's update.
    post: Option<Box<Outgoing>>,
}

/// A step this console runs.
#[derive(Debug, Clone, PartialEq)]
struct OwnRun {
    /// When the claim was granted (model time: simulated in a drill).
    started: Timestamp,
    /// A `command` step's program, once it runs: its process group.
    pgid: Option<u32>,
    /// When it ended (verification counts only answers after this).
    finished: Timestamp,
    /// Verifying until then, after success.
    verify_until: Option<Timestamp>,
    /// The verified component's raw answers asked after the step ended, in order (never
    /// the smoothed state, never an answer asked before).
    evidence: Vec<Evidence>,
    /// Its action was accepted; only a postcondition anyone can read is left: which, and
    /// what its last reading said.
    accepted: Option<(Postcondition, String)>,
    /// Lines of output it printed, all of them (the screen keeps the newest few).
    printed: u64,
}

/// A pending postcondition the recorder reads again.
#[derive(Debug, Clone, PartialEq)]
struct Reread {
    asked: Timestamp,
    in_flight: bool,
    /// What the last reading said (a step-log line when it changes).
    said: String,
}

/// One raw answer weighed for a step's verification.
#[derive(Debug, Clone, PartialEq)]
struct Evidence {
    at: Timestamp,
    /// UP, and its detail meets the step's `expect`.
    passes: bool,
    /// What it said (`UP`, `DEGRADED: promoting read replica`, `UP but says "replica of"`).
    said: String,
}

/// Lines of step output kept for the step log pane.
const STEP_LOG_CAP: usize = 200;

fn fmt_duration(d: Duration) -> String {
    super::fmt::duration(d)
}

/// Take one event; return what the world should do about it.
pub fn update(state: &mut State, event: Event) -> Vec<Effect> {
    let mut effects = Vec::new();
    match event {
        Event::Observed(o) => {
            state.on_observation(o, &mut effects);
            if !state.own.is_empty() {
                state.check_verifications(&mut effects);
            }
        }
        Event::Tick(t) => {
            state.on_tick(t, &mut effects);
            state.check_verifications(&mut effects);
        }
        Event::Key(key) => state.on_key(key, &mut effects),
        Event::Journal(j) => state.on_journal(j, &mut effects),
        Event::Step(s) => state.on_step(s, &mut effects),
        Event::CommsProblem { channel, problem } => match problem {
            Some(p) => {
                state.comms_problems.insert(channel, p);
            }
            None => {
                state.comms_problems.remove(&channel);
            }
        },
        Event::HandOver { reason } => state.hand_over(&reason, &mut effects),
        Event::Abandon { reason } => {
            state.hand_over(&reason, &mut effects);
            state.abandon(&reason, &mut effects);
        }
    }
    state.follow_suggestion();
    effects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::observation::ObserveError;

    #[test]
    fn continue_journal_opens_only_after_tampering_and_needs_its_words_and_a_reason() {
        let mut rig = Rig::new(vec![comp("db", crate::config::Tier::Critical, 1)]);
        rig.key(Key::Char('J'));
        assert!(rig.state.dialog.is_none(), "nothing to continue");
        update(
            &mut rig.state,
            Event::Journal(JournalEvent::Problem(Some(
                "JOURNAL TAMPERED: x.jsonl: seq 9 after seq 3".into(),
            ))),
        );
        rig.key(Key::Char('J'));
        assert!(matches!(
            rig.state.dialog,
            Some(Dialog::ContinueJournal { .. })
        ));
        let continues = |fx: &[Effect]| {
            fx.iter()
                .filter_map(|e| match e {
                    Effect::ContinueJournal { reason, .. } => Some(reason.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        assert!(continues(&rig.key(Key::Enter)).is_empty(), "a bare Enter");
        for c in "continue journal:".chars() {
            rig.key(Key::Char(c));
        }
        assert!(continues(&rig.key(Key::Enter)).is_empty(), "no reason");
        for c in " eve's line".chars() {
            rig.key(Key::Char(c));
        }
        assert_eq!(continues(&rig.key(Key::Enter)), ["eve's line"]);
        // A read-only console cannot.
        rig.state.read_only = true;
        rig.key(Key::Char('J'));
        assert!(rig.state.dialog.is_none());
    }

    #[test]
    fn an_abandoned_step_names_its_last_call_and_whether_its_answer_came() {
        let log: VecDeque<String> = [
            "f/p: » DescribeDBInstances dtem (us-west-2)",
            "f/p: DescribeDBInstances: available",
            "f/p: » PromoteReadReplica DBInstanceIdentifier=dr (us-west-2)",
            "other/x: PromoteReadReplica: modifying",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            last_call(&log, "f", "p"),
            "last call: PromoteReadReplica DBInstanceIdentifier=dr (us-west-2) — no answer had arrived: it may or may not have been applied"
        );
        let mut answered = log.clone();
        answered.push_back("f/p: PromoteReadReplica: modifying".into());
        assert!(last_call(&answered, "f", "p").ends_with("its answer had arrived"));
        assert_eq!(last_call(&log, "f", "q"), "no call made yet");
    }

    use crate::app::signals::LagState;
    use crate::app::testkit::*;
    use crate::app::track::UnknownReason;
    use crate::app::{Dialog, Estate, Key};
    use crate::config::Tier::{Critical, Standard};

    fn severity_entry(from: Severity, to: Severity, reasons: Vec<String>) -> EntryKind {
        EntryKind::Severity { from, to, reasons }
    }

    #[test]
    fn first_answers_end_observing_and_all_up_is_one_entry() {
        let mut rig = Rig::new(vec![comp("api", Critical, 2), comp("web", Standard, 2)]);
        assert!(rig.up(0, 1).is_empty(), "a first UP is not news");
        assert_eq!(rig.severity(), Severity::Observing);
        assert_eq!(
            entries(&rig.up(1, 2)),
            vec![severity_entry(
                Severity::Observing,
                Severity::Healthy,
                vec![]
            )]
        );
        assert_eq!(rig.state.timeline.len(), 1);
        assert_eq!(rig.state.timeline[0].at, t(2));
    }

    #[test]
    fn a_first_answer_that_is_bad_is_recorded_and_shown_at_once() {
        let mut rig = Rig::new(vec![comp("api", Critical, 3)]);
        let fx = entries(&rig.down(0, 4));
        assert_eq!(
            fx[0],
            EntryKind::ComponentState {
                component: "api".into(),
                from: HealthState::Unknown,
                to: HealthState::Down,
                reason: "connection refused".into(),
                since: t(4),
                rto: None,
                rpo: None,
                exposure: None,
            }
        );
        assert_eq!(rig.shown(0), HealthState::Down);
        assert_eq!(rig.severity(), Severity::Critical { unverified: false });
    }

    #[test]
    fn flapping_never_changes_the_shown_state_with_confirm_after_two() {
        let mut rig = Rig::new(vec![comp("api", Critical, 2)]);
        rig.up(0, 0);
        for i in 1..=40 {
            let fx = if i % 2 == 1 {
                rig.down(0, i)
            } else {
                rig.up(0, i)
            };
            assert!(fx.is_empty(), "observation {i} emitted {fx:?}");
            assert_eq!(rig.shown(0), HealthState::Up);
        }
        assert_eq!(rig.severity(), Severity::Healthy);
        assert_eq!(rig.component(0).health().since(), t(0));
    }

    #[test]
    fn one_lost_packet_changes_nothing() {
        let mut rig = Rig::new(vec![comp("api", Critical, 2)]);
        rig.up(0, 0);
        assert!(rig.health(0, 15, cannot(ObserveError::Timeout)).is_empty());
        assert_eq!(rig.shown(0), HealthState::Up);
        assert_eq!(rig.severity(), Severity::Healthy);
        assert!(rig.up(0, 30).is_empty());
        assert_eq!(rig.component(0).health().pending(), None);
    }

    #[test]
    fn agreeing_observations_emit_nothing_and_changes_emit_one_entry() {
        let mut rig = Rig::new(vec![comp("api", Standard, 2)]);
        rig.up(0, 0);
        for i in 1..10 {
            assert!(rig.up(0, i).is_empty());
        }
        assert!(rig.down(0, 10).is_empty(), "first DOWN only starts a run");
        let fx = entries(&rig.down(0, 11));
        assert_eq!(
            fx,
            vec![
                EntryKind::ComponentState {
                    component: "api".into(),
                    from: HealthState::Up,
                    to: HealthState::Down,
                    reason: "connection refused".into(),
                    since: t(10),
                    rto: None,
                    rpo: None,
                    exposure: None,
                },
                severity_entry(
                    Severity::Healthy,
                    Severity::Degraded,
                    vec!["api DOWN: connection refused".into()]
                ),
            ]
        );
        for i in 12..20 {
            assert!(rig.health(0, i, down_outcome("503")).is_empty());
        }
        assert_eq!(rig.reason(0), "503", "details refresh in place");
        assert_eq!(rig.component(0).health().since(), t(10));
    }

    #[test]
    fn latency_at_or_above_warn_latency_is_degraded() {
        let mut rig = Rig::new(vec![comp("api", Critical, 1).warn_latency(secs(1))]);
        rig.up(0, 0);
        rig.health(
            0,
            1,
            Outcome::Up {
                latency: Duration::from_millis(1200),
                detail: "200 OK".into(),
            },
        );
        let h = rig.state.health(ComponentIx(0)).expect("api");
        assert_eq!(h.state, HealthState::Degraded);
        assert_eq!(h.reason, "slow: 1.2s ≥ 1s");
        assert_eq!(h.latency, Some(Duration::from_millis(1200)));
        assert_eq!(rig.severity(), Severity::Degraded);
        rig.health(
            0,
            2,
            Outcome::Up {
                latency: Duration::from_millis(300),
                detail: "200 OK".into(),
            },
        );
        assert_eq!(rig.shown(0), HealthState::Up);
        assert_eq!(rig.severity(), Severity::Healthy);
    }

    #[test]
    fn cannot_observe_is_unknown_never_down() {
        let mut rig = Rig::new(vec![comp("db", Critical, 1)]);
        rig.up(0, 0);
        rig.health(0, 1, cannot(ObserveError::AccessDenied("rds".into())));
        assert_eq!(rig.shown(0), HealthState::Unknown);
        assert_eq!(rig.reason(0), "access denied: rds");
        assert!(rig.component(0).outage().is_none(), "no outage opened");
        rig.health(0, 2, Outcome::Seconds(3.0));
        assert_eq!(rig.reason(0), "probe answered a number");
    }

    #[test]
    fn stale_critical_component_is_critical_unverified_until_it_answers() {
        let mut rig = Rig::new(vec![comp("db", Critical, 2), comp("api", Standard, 2)]);
        rig.up(0, 1);
        rig.up(1, 1);
        rig.up(1, 44);
        assert!(
            rig.tick(46).is_empty(),
            "45s since the last answer: not stale yet"
        );
        let fx = entries(&rig.tick(47));
        assert_eq!(
            fx,
            vec![
                EntryKind::ComponentState {
                    component: "db".into(),
                    from: HealthState::Up,
                    to: HealthState::Unknown,
                    reason: "stale: no answer for 46s".into(),
                    since: t(46),
                    rto: None,
                    rpo: None,
                    exposure: None,
                },
                severity_entry(
                    Severity::Healthy,
                    Severity::Critical { unverified: true },
                    vec!["db (critical) UNKNOWN: stale: no answer for 46s".into()]
                ),
            ]
        );
        let h = rig.state.health(ComponentIx(0)).expect("db");
        assert!(h.stale);
        assert_eq!(h.since, t(46));
        // A fresh answer clears it at once (no agreement needed after STALE).
        rig.up(0, 50);
        assert_eq!(rig.shown(0), HealthState::Up);
        assert_eq!(rig.severity(), Severity::Healthy);
    }

    #[test]
    fn a_late_observation_can_be_stale_on_arrival() {
        let mut rig = Rig::new(vec![comp("db", Standard, 1)]);
        rig.up(0, 1);
        rig.tick(100);
        rig.up(0, 101);
        rig.tick(200);
        // Answered at 101, delivered when the clock says 200: already 3 intervals old.
        assert_eq!(rig.shown(0), HealthState::Unknown);
        assert!(rig.state.health(ComponentIx(0)).is_some_and(|h| h.stale));
    }

    #[test]
    fn observing_until_every_probe_answered_once() {
        let mut rig = Rig::new(vec![
            comp("db", Critical, 2)
                .lag(schedule(15, 10, 2), thresholds(30, 60))
                .backup(schedule(60, 20, 2), thresholds(90_000, 93_600)),
        ]);
        rig.up(0, 1);
        assert_eq!(rig.severity(), Severity::Observing);
        rig.lag(0, "dr", 2, Outcome::Seconds(1.0));
        assert_eq!(rig.severity(), Severity::Observing);
        assert_eq!(
            rig.state.assessment().reasons,
            vec![
                "waiting for 1 probe(s) to answer".to_string(),
                "db backup".into()
            ]
        );
        rig.backup(0, 3, Outcome::Seconds(3600.0));
        assert_eq!(rig.severity(), Severity::Healthy);
    }

    #[test]
    fn observing_until_every_probe_timed_out() {
        let mut rig = Rig::new(vec![
            comp("db", Critical, 2).lag(schedule(15, 12, 2), thresholds(30, 60)),
            comp("api", Standard, 2),
        ]);
        rig.up(1, 1);
        rig.tick(9);
        assert_eq!(rig.severity(), Severity::Observing);
        rig.tick(10);
        // db health timed out (10s); its lag has until 12s.
        assert_eq!(rig.severity(), Severity::Observing);
        assert_eq!(rig.reason(0), "no answer within 10s");
        let fx = entries(&rig.tick(12));
        assert_eq!(rig.severity(), Severity::Critical { unverified: true });
        assert_eq!(
            fx,
            vec![severity_entry(
                Severity::Observing,
                Severity::Critical { unverified: true },
                vec![
                    "db (critical) UNKNOWN: no answer within 10s".into(),
                    "db lag UNKNOWN: no answer within 12s".into()
                ]
            )]
        );
        // The late first answer is adopted at once and is not news when it is UP.
        let fx = entries(&rig.up(0, 13));
        assert_eq!(rig.shown(0), HealthState::Up);
        assert_eq!(fx.len(), 1, "{fx:?}");
    }

    #[test]
    fn minus_one_lag_is_not_running_and_rpo_falls_back_to_backup_age() {
        let mut rig = Rig::new(vec![
            comp("db", Critical, 1)
                .rpo(secs(4 * 3600))
                .lag(schedule(15, 10, 1), thresholds(30, 60))
                .backup(schedule(300, 30, 1), thresholds(90_000, 93_600)),
        ]);
        rig.up(0, 0);
        rig.backup(0, 0, Outcome::Seconds(3600.0));
        rig.lag(0, "dtem-postgres-dr", 0, Outcome::Seconds(2.0));
        let rpo = rig.component(0).rpo().expect("rpo").clone();
        assert_eq!(
            (rpo.exposure, rpo.level),
            (
                Exposure::Replication {
                    lag: SignedDuration::from_secs(2)
                },
                RpoLevel::Ok
            )
        );
        let fx = entries(&rig.lag(0, "dtem-postgres-dr", 600, Outcome::Seconds(-1.0)));
        assert_eq!(
            fx[0],
            EntryKind::LagLevel {
                component: "db".into(),
                replica: "dtem-postgres-dr".into(),
                from: LagState::Ok,
                to: LagState::NotRunning,
                value: None,
                detail: Some("replication not running (ReplicaLag -1)".into()),
            }
        );
        let rpo = rig.component(0).rpo().expect("rpo");
        // The backup was 1h old at 0; at 600 it is 1h10m old.
        assert_eq!(
            rpo.exposure,
            Exposure::Backup {
                age: SignedDuration::from_secs(4200)
            }
        );
        assert_eq!(rpo.level, RpoLevel::Ok);
        assert_eq!(rig.severity(), Severity::Degraded);
        // Time passes: the backup ages past half the RPO (2h) at the next Tick.
        rig.backup(0, 3000, Outcome::Seconds(3600.0 + 3000.0));
        rig.lag(0, "dtem-postgres-dr", 3000, Outcome::Seconds(-1.0));
        let fx = entries(&rig.tick(3601));
        assert!(
            fx.contains(&EntryKind::RpoExposure {
                component: "db".into(),
                from: RpoLevel::Ok,
                to: RpoLevel::AtRisk,
                exposure: Exposure::Backup {
                    age: SignedDuration::from_secs(7201)
                },
                rpo: SignedDuration::from_secs(4 * 3600),
            }),
            "{fx:?}"
        );
    }

    #[test]
    fn missing_backup_without_replication_breaches_the_rpo() {
        let mut rig = Rig::new(vec![
            comp("db", Critical, 1)
                .rpo(secs(900))
                .lag(schedule(15, 10, 1), thresholds(30, 60))
                .backup(schedule(300, 30, 1), thresholds(90_000, 93_600)),
        ]);
        rig.up(0, 0);
        rig.lag(0, "dr", 0, Outcome::Seconds(-1.0));
        rig.backup(0, 0, down_outcome("no snapshots of dtem-postgres"));
        let rpo = rig.component(0).rpo().expect("rpo");
        assert_eq!(
            (rpo.exposure, rpo.level),
            (Exposure::NoBackup, RpoLevel::Breached)
        );
        assert_eq!(rig.severity(), Severity::Critical { unverified: false });
        // The component is UP, the screen is CRITICAL: the row says why.
        assert_eq!(
            rig.state.rpo_breach(crate::app::ComponentIx(0)).as_deref(),
            Some("no backup, no healthy replica: RPO 15m")
        );
    }

    #[test]
    fn an_old_backup_breaching_the_rpo_is_said_with_its_age_and_a_healthy_rpo_says_nothing() {
        let mut rig = Rig::new(vec![
            comp("db", Critical, 1)
                .rpo(secs(3600))
                .lag(schedule(15, 10, 1), thresholds(30, 60))
                .backup(schedule(300, 30, 1), thresholds(90_000, 93_600)),
        ]);
        rig.up(0, 0);
        rig.lag(0, "dr", 0, Outcome::Seconds(5.0));
        rig.backup(0, 0, Outcome::Seconds(14.0 * 3600.0));
        let ix = crate::app::ComponentIx(0);
        assert_eq!(rig.state.rpo_breach(ix), None, "replication covers it");
        rig.lag(0, "dr", 15, Outcome::Seconds(-1.0));
        rig.tick(16);
        assert_eq!(
            rig.state.rpo_breach(ix).as_deref(),
            Some("backup 14h old > RPO 1h")
        );
    }

    #[test]
    fn no_datapoints_is_unknown_never_zero() {
        let mut rig = Rig::new(vec![
            comp("db", Standard, 2)
                .rpo(secs(900))
                .lag(schedule(60, 10, 2), thresholds(30, 60)),
        ]);
        rig.up(0, 0);
        let fx = entries(&rig.lag(0, "dr", 1, cannot(ObserveError::NoDatapoints)));
        let lag = rig.component(0).lag().expect("lag");
        let r = &lag.replicas()[0];
        assert_eq!(
            r.level(),
            &LagLevel::Unknown(UnknownReason::CannotObserve(ObserveError::NoDatapoints))
        );
        assert_eq!(r.value(), None);
        assert_eq!(lag.best_lag(), None);
        assert!(r.history()[0].is_nan());
        assert_eq!(
            rig.component(0).rpo().map(|r| r.level),
            Some(RpoLevel::Unknown)
        );
        assert_eq!(rig.severity(), Severity::Degraded);
        // Still UNKNOWN (only the reason changed): no lag entry, but OBSERVING is over.
        assert_eq!(
            fx,
            vec![severity_entry(
                Severity::Observing,
                Severity::Degraded,
                vec!["db lag dr UNKNOWN: no datapoints".into()]
            )]
        );
    }

    #[test]
    fn postgres_not_streaming_is_not_running_with_its_detail() {
        let mut rig = Rig::new(vec![
            comp("db", Critical, 2).lag(schedule(15, 10, 2), thresholds(30, 60)),
        ]);
        rig.up(0, 0);
        rig.lag(0, "standby", 0, Outcome::Seconds(0.0));
        let detail = "not streaming, last replay at 2024-05-01T10:00:00Z";
        assert!(rig.lag(0, "standby", 15, down_outcome(detail)).is_empty());
        let fx = entries(&rig.lag(0, "standby", 30, down_outcome(detail)));
        assert_eq!(
            fx[0],
            EntryKind::LagLevel {
                component: "db".into(),
                replica: "standby".into(),
                from: LagState::Ok,
                to: LagState::NotRunning,
                value: None,
                detail: Some(detail.into()),
            }
        );
        let r = &rig.component(0).lag().expect("lag").replicas()[0];
        assert_eq!(r.track().since(), t(15));
        assert_eq!(
            rig.state.assessment().reasons,
            vec![format!("db lag standby NOT RUNNING: {detail}")]
        );
    }

    #[test]
    fn rto_budget_counts_from_the_first_confirmed_down_and_breach_is_recorded_once() {
        let mut rig = Rig::new(vec![comp("db", Critical, 2).rto(secs(60))]);
        rig.up(0, 0);
        assert_eq!(rig.state.rto_budget(ComponentIx(0)), None);
        rig.down(0, 10);
        assert_eq!(
            rig.state.rto_budget(ComponentIx(0)),
            None,
            "not confirmed yet"
        );
        rig.down(0, 25);
        assert_eq!(
            rig.component(0).outage().map(|o| o.down_since),
            Some(t(10)),
            "the outage starts at the first DOWN of the confirming run"
        );
        assert_eq!(
            rig.state.rto_budget(ComponentIx(0)),
            Some(SignedDuration::from_secs(45))
        );
        // UNKNOWN during the outage keeps it open.
        rig.health(0, 40, cannot(ObserveError::Timeout));
        rig.health(0, 55, cannot(ObserveError::Timeout));
        assert_eq!(rig.shown(0), HealthState::Unknown);
        assert!(rig.tick(70).is_empty(), "budget exactly 0 is not breached");
        assert_eq!(
            rig.state.rto_budget(ComponentIx(0)),
            Some(SignedDuration::ZERO)
        );
        rig.health(0, 70, cannot(ObserveError::Timeout));
        let fx = entries(&rig.tick(71));
        assert_eq!(
            fx,
            vec![EntryKind::RtoBreached {
                component: "db".into(),
                down_since: t(10),
                rto: SignedDuration::from_secs(60),
            }]
        );
        assert_eq!(
            rig.state.rto_budget(ComponentIx(0)),
            Some(SignedDuration::from_secs(-1))
        );
        rig.health(0, 72, cannot(ObserveError::Timeout));
        assert!(rig.tick(80).is_empty(), "breach recorded once per outage");
    }

    #[test]
    fn recovery_closes_the_outage_and_reports_the_rto_achieved() {
        let mut rig = Rig::new(vec![comp("db", Critical, 2).rto(secs(3600))]);
        rig.up(0, 0);
        rig.down(0, 100);
        let down = entries(&rig.down(0, 115));
        assert!(
            matches!(
                &down[0],
                EntryKind::ComponentState { rto: Some(rto), rpo: None, exposure: None, .. }
                    if *rto == SignedDuration::from_secs(3600)
            ),
            "the DOWN entry carries the target, so a report needs only the journal: {down:?}"
        );
        assert_eq!(rig.severity(), Severity::Critical { unverified: false });
        assert!(rig.up(0, 1900).is_empty());
        let fx = entries(&rig.up(0, 1915));
        assert_eq!(
            fx,
            vec![
                EntryKind::ComponentState {
                    component: "db".into(),
                    from: HealthState::Down,
                    to: HealthState::Up,
                    reason: "200 OK".into(),
                    since: t(1900),
                    rto: Some(SignedDuration::from_secs(3600)),
                    rpo: None,
                    exposure: None,
                },
                EntryKind::Recovered {
                    component: "db".into(),
                    down_since: t(100),
                    recovered_at: t(1900),
                    took: SignedDuration::from_secs(1800),
                    rto: Some(SignedDuration::from_secs(3600)),
                },
                severity_entry(
                    Severity::Critical { unverified: false },
                    Severity::Healthy,
                    vec![]
                ),
            ]
        );
        let o = *rig.component(0).outage().expect("outage");
        assert!(!o.is_open());
        assert_eq!(o.achieved(), Some(SignedDuration::from_secs(1800)));
        assert_eq!(rig.state.rto_budget(ComponentIx(0)), None);
        let recovered = rig
            .state
            .timeline
            .iter()
            .filter(|e| matches!(e.known(), Some(EntryKind::Recovered { .. })))
            .count();
        assert_eq!(recovered, 1);
        // A new DOWN after recovery opens a new outage with its own budget.
        rig.down(0, 2000);
        rig.down(0, 2015);
        assert_eq!(
            rig.component(0).outage().map(|o| o.down_since),
            Some(t(2000))
        );
        assert_eq!(
            rig.state.rto_budget(ComponentIx(0)),
            Some(SignedDuration::from_secs(3585))
        );
    }

    #[test]
    fn degraded_during_an_outage_does_not_close_it() {
        let mut rig = Rig::new(vec![comp("api", Critical, 1).rto(secs(600))]);
        rig.down(0, 0);
        rig.health(
            0,
            10,
            Outcome::Degraded {
                detail: "1/3 available".into(),
            },
        );
        assert!(rig.component(0).outage().is_some_and(|o| o.is_open()));
        assert_eq!(
            rig.state.rto_budget(ComponentIx(0)),
            Some(SignedDuration::from_secs(590))
        );
    }

    #[test]
    fn rpo_at_risk_then_breached_from_lag() {
        let mut rig = Rig::new(vec![
            comp("db", Standard, 1)
                .rpo(secs(900))
                .lag(schedule(15, 10, 1), thresholds(3600, 7200)),
        ]);
        rig.up(0, 0);
        assert_eq!(
            entries(&rig.lag(0, "dr", 0, Outcome::Seconds(450.0))),
            vec![severity_entry(
                Severity::Observing,
                Severity::Healthy,
                vec![]
            )],
            "exactly half the RPO is not at risk"
        );
        let fx = entries(&rig.lag(0, "dr", 15, Outcome::Seconds(451.0)));
        assert_eq!(
            fx[0],
            EntryKind::RpoExposure {
                component: "db".into(),
                from: RpoLevel::Ok,
                to: RpoLevel::AtRisk,
                exposure: Exposure::Replication {
                    lag: SignedDuration::from_secs(451)
                },
                rpo: SignedDuration::from_secs(900),
            }
        );
        assert_eq!(rig.severity(), Severity::Degraded);
        assert!(rig.lag(0, "dr", 30, Outcome::Seconds(900.0)).is_empty());
        let fx = entries(&rig.lag(0, "dr", 45, Outcome::Seconds(900.5)));
        assert!(matches!(
            fx[0],
            EntryKind::RpoExposure {
                from: RpoLevel::AtRisk,
                to: RpoLevel::Breached,
                ..
            }
        ));
        assert_eq!(
            rig.severity(),
            Severity::Degraded,
            "standard: only DEGRADED"
        );
    }

    #[test]
    fn the_best_replica_sets_the_exposure() {
        let mut rig = Rig::new(vec![
            comp("db", Critical, 1)
                .rpo(secs(900))
                .lag(schedule(15, 10, 1), thresholds(3600, 7200)),
        ]);
        rig.up(0, 0);
        rig.lag(0, "far", 0, Outcome::Seconds(800.0));
        assert_eq!(
            rig.component(0).rpo().map(|r| r.level),
            Some(RpoLevel::AtRisk)
        );
        rig.lag(0, "near", 1, Outcome::Seconds(5.0));
        assert_eq!(rig.component(0).rpo().map(|r| r.level), Some(RpoLevel::Ok));
        assert_eq!(rig.severity(), Severity::Healthy);
    }

    #[test]
    fn ignored_observations_are_counted_not_applied() {
        let mut rig = Rig::new(vec![comp("api", Standard, 1)]);
        rig.up(0, 10);
        assert!(rig.down(0, 5).is_empty(), "older than the last answer");
        assert_eq!(rig.shown(0), HealthState::Up);
        assert!(rig.up(7, 11).is_empty(), "no such component");
        assert!(
            rig.lag(0, "dr", 11, Outcome::Seconds(1.0)).is_empty(),
            "no lag probe"
        );
        assert_eq!(rig.state.ignored(), 3);
        assert_eq!(rig.state.now(), t(11));
    }

    #[test]
    fn now_is_the_latest_event_time() {
        let mut rig = Rig::new(vec![comp("api", Standard, 1)]);
        rig.tick(50);
        rig.up(0, 40);
        assert_eq!(rig.state.now(), t(50));
        rig.up(0, 60);
        assert_eq!(rig.state.now(), t(60));
    }

    #[test]
    fn timeline_keeps_the_newest_ten_thousand() {
        let mut rig = Rig::new(vec![comp("a", Standard, 1), comp("b", Standard, 1)]);
        rig.up(1, 0);
        rig.up(0, 0);
        let mut i = 1;
        while rig.state.timeline.len() < TIMELINE_CAP {
            rig.down(0, i);
            rig.up(0, i);
            i += 1;
        }
        let fx = rig.down(0, i);
        assert!(!fx.is_empty());
        assert_eq!(rig.state.timeline.len(), TIMELINE_CAP);
        assert_eq!(
            rig.state.timeline.back().map(|e| e.at),
            Some(t(i)),
            "newest last"
        );
    }

    // ------------------------------------------------------------ the incident, by key

    fn type_text(rig: &mut Rig, text: &str) {
        for c in text.chars() {
            rig.key(Key::Char(c));
        }
    }

    #[test]
    fn d_declares_and_then_moves_the_status_and_resolve_needs_the_word() {
        let mut rig = Rig::new(vec![comp("api", Critical, 1)]);
        rig.down(0, 10);
        assert!(rig.key(Key::Char('d')).is_empty());
        assert!(matches!(rig.state.dialog, Some(Dialog::Declare { .. })));
        type_text(&mut rig, "api down, q is a letter here");
        let fx = rig.key(Key::Enter);
        assert!(
            matches!(&fx[..], [Effect::Declare { title, .. }] if title == "api down, q is a letter here"),
            "{fx:?}"
        );
        assert!(rig.state.dialog.is_none());
        let i = rig.state.open_incident().expect("declared and followed");
        assert_eq!(i.status, IncidentStatus::Investigating);

        rig.key(Key::Char('d'));
        assert!(
            rig.key(Key::Enter).is_empty(),
            "a bare Enter chooses nothing"
        );
        rig.key(Key::Right);
        let fx = rig.key(Key::Enter);
        assert_eq!(
            entries(&fx),
            vec![EntryKind::Status {
                from: IncidentStatus::Investigating,
                to: IncidentStatus::Identified
            }]
        );
        assert_eq!(
            rig.state.incident.as_ref().map(|i| i.status),
            Some(IncidentStatus::Identified)
        );

        rig.key(Key::Char('d'));
        rig.key(Key::Right); // monitoring
        rig.key(Key::Right); // resolved
        assert!(rig.key(Key::Enter).is_empty(), "not without the word");
        type_text(&mut rig, "resolve");
        let fx = rig.key(Key::Enter);
        assert!(matches!(
            entries(&fx)[..],
            [EntryKind::Status {
                to: IncidentStatus::Resolved,
                ..
            }]
        ));
        assert!(rig.state.incident.as_ref().is_some_and(|i| !i.is_open()));
    }

    #[test]
    fn n_records_a_note_and_esc_records_nothing() {
        let mut rig = Rig::new(vec![comp("api", Critical, 1)]);
        rig.key(Key::Char('n'));
        type_text(&mut rig, "paged the DBA");
        assert!(rig.key(Key::Esc).is_empty());
        assert!(rig.state.dialog.is_none());
        rig.key(Key::Char('n'));
        type_text(&mut rig, "follow-up: alert on lag");
        let fx = rig.key(Key::Enter);
        assert_eq!(
            entries(&fx),
            vec![EntryKind::Note {
                text: "follow-up: alert on lag".into()
            }]
        );
        assert_eq!(
            rig.state.timeline.back().map(|r| r.describe()),
            Some("note: follow-up: alert on lag".into()),
            "the note is on the timeline once the journal has it"
        );
    }

    #[test]
    fn a_read_only_console_opens_no_dialog_and_asks_for_no_write_whatever_the_keys() {
        let mut rig = Rig::new(vec![comp("api", Critical, 1)]);
        rig.state.read_only = true;
        let mut keys: Vec<Key> = "dnq?/ abcdefghijklmnopqrstuvwxyz0123456789resolve"
            .chars()
            .map(Key::Char)
            .collect();
        keys.extend([
            Key::Enter,
            Key::Esc,
            Key::Tab,
            Key::BackTab,
            Key::Up,
            Key::Down,
            Key::Left,
            Key::Right,
            Key::Backspace,
            Key::PageUp,
            Key::PageDown,
            Key::Home,
            Key::End,
            Key::Paste("d\nresolve\n".into()),
        ]);
        for k in keys.iter().chain(keys.iter().rev()) {
            for fx in rig.key(k.clone()) {
                assert!(
                    matches!(fx, Effect::Quit),
                    "read-only console asked for {fx:?} on {k:?}"
                );
            }
            assert!(rig.state.dialog.is_none(), "no dialog on {k:?}");
        }
        rig.state.view.help = false;
        rig.state.view.editing_filter = false;
        rig.key(Key::Char('d'));
        assert_eq!(
            rig.state.view.flash.as_deref(),
            Some("read-only console: cannot declare or change status")
        );
    }

    #[test]
    fn a_console_that_is_not_the_recorder_asks_for_no_automatic_entry() {
        let mut rig = Rig::new(vec![comp("api", Critical, 1)]);
        update(
            &mut rig.state,
            Event::Journal(JournalEvent::Recorder {
                me: false,
                holder: Some("bo@h pid 7".into()),
            }),
        );
        assert!(entries(&rig.down(0, 10)).is_empty());
        assert_eq!(rig.shown(0), HealthState::Down, "it still sees it");
        rig.key(Key::Char('n'));
        type_text(&mut rig, "seen here too");
        assert_eq!(
            entries(&rig.key(Key::Enter)).len(),
            1,
            "people's entries are written"
        );
    }

    #[test]
    fn without_a_journal_d_and_n_say_why_they_do_nothing() {
        let mut state = State::new(
            Estate::new(vec![comp("api", Critical, 1)]),
            t(0),
            crate::app::Setup::default(),
        );
        assert!(update(&mut state, Event::Key(Key::Char('d'))).is_empty());
        assert!(state.dialog.is_none());
        assert_eq!(
            state.view.flash.as_deref(),
            Some("no journal: nothing can be recorded")
        );
    }

    #[test]
    fn a_console_that_becomes_the_recorder_writes_what_the_journal_missed() {
        let mut rig = Rig::new(vec![comp("api", Critical, 1), comp("db", Critical, 1)]);
        // Recorded by this console while it records.
        rig.down(0, 10);
        update(
            &mut rig.state,
            Event::Journal(JournalEvent::Recorder {
                me: false,
                holder: Some("bo@h pid 7".into()),
            }),
        );
        // The other recorder wrote this one (not seen here: it is another console's line);
        // this console saw it too, and later what the other never wrote (it died).
        rig.down(1, 20);
        let fx = update(
            &mut rig.state,
            Event::Journal(JournalEvent::Recorder {
                me: true,
                holder: None,
            }),
        );
        let kinds = entries(&fx);
        assert!(
            kinds.iter().any(
                |k| matches!(k, EntryKind::ComponentState { component, .. } if component == "db")
            ),
            "the DOWN nobody recorded is written on takeover: {kinds:?}"
        );
        assert!(
            !kinds.iter().any(
                |k| matches!(k, EntryKind::ComponentState { component, .. } if component == "api")
            ),
            "what the journal has is not written twice: {kinds:?}"
        );
    }

    #[test]
    fn a_takeover_does_not_write_again_what_the_last_recorder_saw_a_second_earlier() {
        let mut rig = Rig::new(vec![comp("api", Critical, 1), comp("db", Critical, 1)]);
        rig.up(0, 1);
        rig.up(1, 1);
        update(
            &mut rig.state,
            Event::Journal(JournalEvent::Recorder {
                me: false,
                holder: Some("bo@h pid 7".into()),
            }),
        );
        // This console sees db DOWN at 20; the other recorder saw it at 19 and wrote it.
        rig.down(1, 20);
        let theirs = vec![
            Effect::Append(Entry {
                at: t(19),
                kind: EntryKind::ComponentState {
                    component: "db".into(),
                    from: HealthState::Up,
                    to: HealthState::Down,
                    reason: "refused".into(),
                    since: t(19),
                    rto: None,
                    rpo: None,
                    exposure: None,
                },
            }),
            Effect::Append(Entry {
                at: t(19),
                kind: EntryKind::Severity {
                    from: Severity::Healthy,
                    to: Severity::Critical { unverified: false },
                    reasons: vec!["db (critical) DOWN: refused".into()],
                },
            }),
        ];
        rig.journal.echo(&mut rig.state, &theirs);
        // Then the other died before writing api's DOWN, which this console saw.
        rig.down(0, 30);
        let fx = update(
            &mut rig.state,
            Event::Journal(JournalEvent::Recorder {
                me: true,
                holder: None,
            }),
        );
        let kinds = entries(&fx);
        assert!(
            !kinds.iter().any(
                |k| matches!(k, EntryKind::ComponentState { component, .. } if component == "db")
            ),
            "db's DOWN is in the journal already, a second earlier: {kinds:?}"
        );
        assert!(
            kinds.iter().any(
                |k| matches!(k, EntryKind::ComponentState { component, .. } if component == "api")
            ),
            "api's DOWN nobody wrote is: {kinds:?}"
        );
        assert!(
            kinds.iter().any(|k| matches!(
                k,
                EntryKind::Severity {
                    to: Severity::Emergency,
                    ..
                }
            )),
            "the severity it reached since: {kinds:?}"
        );
    }
}
