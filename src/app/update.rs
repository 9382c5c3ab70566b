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

mod comms;
mod component;
mod keys;
mod recorder;
mod step_life;
#[cfg(test)]
mod tests;

use component::ObservationLog;
pub use component::{ComponentState, ShownHealth};
use step_life::{Claiming, Evidence, OwnRun, Reread};

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
        /// Where its output is kept (None: no journal is followed).
        log: Option<super::outcome::StepLog>,
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
    /// Read the entries `from..=to` of the followed journal (`source`) back from disk: the
    /// timeline's earlier page, answered by [`JournalEvent::Earlier`].
    ReadEarlier { source: Source, from: u64, to: u64 },
    /// Read the newest lines of a step's log (`path` as the journal names it), answered by
    /// [`JournalEvent::StepLog`].
    ReadStepLog { path: String },
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
    /// Older entries read back from the journal as the operator scrolls to them.
    pub earlier: super::earlier::Earlier,
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
    /// The step log viewer, while open.
    pub log_viewer: Option<super::log_viewer::LogViewer>,
    /// What each channel's outbox worker says is wrong, by channel.
    pub comms_problems: BTreeMap<crate::app::message::Channel, String>,
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
            earlier: Default::default(),
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
            log_viewer: None,
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
        self.refresh_log_viewer(effects);
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
