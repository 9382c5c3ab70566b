//! What a journal says, gathered once: the declaration, the status, each outage with its
//! RTO/RPO verdict, each runbook step run, each update sent, the open follow-ups.

use jiff::{SignedDuration, Timestamp};

use crate::app::entry::{DrLevel, EntryKind, IncidentStatus, Recorded, StepResult};
use crate::app::signals::HealthState;
use crate::app::{Exposure, Severity};
use crate::journal;

/// The (last) declaration, with the first one's time.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    /// When the incident was first declared.
    pub at: Timestamp,
    /// Title, level and commander of the last declaration (a re-declaration escalates).
    pub title: String,
    pub level: DrLevel,
    pub commander: String,
    /// The earliest `started` of any declaration: the first failure.
    pub started: Timestamp,
}

/// A component's outage: from its first confirmed DOWN to its first confirmed UP after it.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentOutage {
    pub component: String,
    pub down_since: Timestamp,
    pub rto: Option<SignedDuration>,
    pub rpo: Option<SignedDuration>,
    /// The RPO exposure recorded with the DOWN entry: what a failover would lose then.
    /// `None` when no DOWN entry recorded one.
    pub exposure: Option<Exposure>,
    pub recovered_at: Option<Timestamp>,
    /// The recovery time achieved (the `Recovered` entry's `took`, else recovered − down).
    pub took: Option<SignedDuration>,
    /// The recorder wrote `rto_breached` for it.
    pub breach_recorded: bool,
}

/// How an outage did against its RTO.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RtoVerdict {
    /// Recovered within the RTO.
    Met,
    /// Recovered, later than the RTO by this much.
    Missed { by: SignedDuration },
    /// Not recovered by the last entry: open for this long; `exceeded` when past its RTO.
    Open {
        open_for: SignedDuration,
        exceeded: bool,
    },
    /// Recovered, but no RTO was recorded for the component.
    NoTarget,
}

/// The RPO exposure at the time of failure against the RPO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpoVerdict {
    Within,
    Exceeded,
    /// The exposure was not known (or not recorded) when the component failed.
    Unknown,
    /// No RPO was recorded for the component.
    NoTarget,
}

impl ComponentOutage {
    fn open(component: &str, down_since: Timestamp) -> ComponentOutage {
        ComponentOutage {
            component: component.to_string(),
            down_since,
            rto: None,
            rpo: None,
            exposure: None,
            recovered_at: None,
            took: None,
            breach_recorded: false,
        }
    }

    pub fn is_open(&self) -> bool {
        self.recovered_at.is_none()
    }

    /// The RTO verdict; an open outage is measured up to `as_of` (the last entry).
    pub fn rto_verdict(&self, as_of: Timestamp) -> RtoVerdict {
        match self.took {
            Some(took) if !self.is_open() => match self.rto {
                None => RtoVerdict::NoTarget,
                Some(rto) if took <= rto => RtoVerdict::Met,
                Some(rto) => RtoVerdict::Missed { by: took - rto },
            },
            _ => {
                let open_for = as_of.duration_since(self.down_since);
                let exceeded = self.breach_recorded || self.rto.is_some_and(|r| open_for > r);
                RtoVerdict::Open { open_for, exceeded }
            }
        }
    }

    /// Within when the exposure at failure was at most the RPO (no backup at all exceeds any).
    pub fn rpo_verdict(&self) -> RpoVerdict {
        let Some(rpo) = self.rpo else {
            return RpoVerdict::NoTarget;
        };
        match self.exposure.as_ref().and_then(Exposure::amount) {
            None => RpoVerdict::Unknown,
            Some(amount) if amount > rpo => RpoVerdict::Exceeded,
            Some(_) => RpoVerdict::Within,
        }
    }
}

/// Who confirmed a step, and whether prechecks were overridden.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirmed {
    pub actor: String,
    pub at: Timestamp,
    pub override_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FinishedStep {
    pub at: Timestamp,
    pub outcome: StepResult,
    pub took: SignedDuration,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub component: String,
    pub verified: bool,
    pub detail: String,
}

/// One run of a runbook step, from its request to its verification.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepRun {
    pub runbook: String,
    pub step: String,
    /// Who requested it, and when.
    pub requested: Option<(String, Timestamp)>,
    pub confirmed: Option<Confirmed>,
    pub started: Option<Timestamp>,
    /// How many output lines it wrote, and the last one.
    pub outputs: usize,
    pub last_output: Option<String>,
    pub finished: Option<FinishedStep>,
    /// Its claim was released (the process that held it is gone): why.
    pub released: Option<String>,
    pub verified: Option<Verified>,
    /// Accepted, and what it makes was still being created when its console stopped
    /// waiting: the last reading (a later `step_verified` settles it).
    pub still_creating: Option<String>,
}

impl StepRun {
    fn new(runbook: &str, step: &str) -> StepRun {
        StepRun {
            runbook: runbook.to_string(),
            step: step.to_string(),
            ..StepRun::default()
        }
    }

    fn is(&self, runbook: &str, step: &str) -> bool {
        self.runbook == runbook && self.step == step
    }

    /// Still collecting entries: neither finished nor released.
    fn is_live(&self) -> bool {
        self.finished.is_none() && self.released.is_none()
    }

    pub fn name(&self) -> String {
        format!("{}/{}", self.runbook, self.step)
    }
}

/// An update to one channel: queued, then sent or failed (perhaps several times).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: String,
    pub channel: crate::app::message::Channel,
    /// When it was queued, its template and summary.
    pub queued: Option<(Timestamp, String, String)>,
    /// Failed attempts: when, why, and whether that was the last attempt.
    pub failures: Vec<(Timestamp, String, bool)>,
    pub sent: Option<Timestamp>,
}

/// A note starting with `follow-up:`.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUp {
    pub at: Timestamp,
    pub actor: String,
    /// The note without its `follow-up:` prefix.
    pub text: String,
}

/// The text of a follow-up note, without its prefix: `None` if the note is not one. The
/// prefix is `follow-up:` in any case, after leading blanks.
pub fn follow_up(note: &str) -> Option<&str> {
    const PREFIX: &str = "follow-up:";
    let t = note.trim_start();
    let head = t.get(..PREFIX.len())?;
    head.eq_ignore_ascii_case(PREFIX)
        .then(|| t[PREFIX.len()..].trim())
}

/// Entries as the report reads them: in time order, ties in journal order (entries copied
/// from the watch log may follow the declaration in the file).
pub fn in_time_order(entries: &[journal::JournalEntry]) -> Vec<Recorded> {
    let mut recorded: Vec<Recorded> = entries.iter().map(Recorded::from_journal).collect();
    recorded.sort_by_key(|r| r.at);
    recorded
}

/// Everything the report says, read from the journal's entries.
#[derive(Debug, Clone, Default)]
pub struct JournalFacts {
    /// How many entries, and the times of the first and the last (in time order).
    pub entry_count: usize,
    pub first_at: Option<Timestamp>,
    pub last_entry_at: Option<Timestamp>,
    /// Entries the timeline lists one by one; step output lines and queued updates it only
    /// counts.
    pub listed: usize,
    pub outputs: usize,
    pub queued_updates: usize,
    pub declared: Option<Declared>,
    /// The status now: the declaration's, then every status change.
    pub status: Option<IncidentStatus>,
    /// When it was resolved, if its status is `resolved` now.
    pub resolved_at: Option<Timestamp>,
    pub worst: Option<Severity>,
    /// Components that left UP, with the worst state each reached, in order of appearance.
    pub affected: Vec<(String, HealthState)>,
    pub outages: Vec<ComponentOutage>,
    pub steps: Vec<StepRun>,
    pub comms: Vec<Message>,
    pub follow_ups: Vec<FollowUp>,
    /// Gates passed by a typed override (`override resolve: …`), as said.
    pub overrides: Vec<String>,
    /// Distinct actors, in order of appearance.
    pub actors: Vec<String>,
    /// Entries of kinds this build does not know.
    pub unknown: usize,
}

impl JournalFacts {
    /// The facts of entries held in memory (see [`in_time_order`]).
    pub fn from_entries(entries: &[journal::JournalEntry]) -> JournalFacts {
        let recorded = in_time_order(entries);
        JournalFacts::fold(&|visit: &mut dyn FnMut(&Recorded)| recorded.iter().for_each(visit))
    }

    /// The facts of every entry `entries` hands over, in time order: nothing of an entry is
    /// kept but what the report says of it.
    pub fn fold(entries: super::Entries) -> JournalFacts {
        let mut f = JournalFacts::default();
        entries(&mut |r| f.add(r));
        f
    }

    /// When the incident started: the first failure of the declaration, else the first entry.
    pub fn start(&self) -> Option<Timestamp> {
        match &self.declared {
            Some(d) => Some(d.started),
            None => self.first_at,
        }
    }

    /// The time of the latest entry.
    pub fn last_at(&self) -> Option<Timestamp> {
        self.last_entry_at
    }

    /// The incident's duration: to its resolution, else (still open) to the last entry.
    pub fn duration(&self) -> Option<SignedDuration> {
        let start = self.start()?;
        let end = self.resolved_at.or(self.last_at())?;
        Some(end.duration_since(start))
    }

    fn add(&mut self, r: &Recorded) {
        self.entry_count += 1;
        self.first_at.get_or_insert(r.at);
        self.last_entry_at = Some(r.at);
        match r.known() {
            Some(EntryKind::StepOutput { .. }) => self.outputs += 1,
            Some(EntryKind::CommsQueued { .. }) => self.queued_updates += 1,
            _ => self.listed += 1,
        }
        if !self.actors.contains(&r.actor) {
            self.actors.push(r.actor.clone());
        }
        let Some(kind) = r.known() else {
            self.unknown += 1;
            return;
        };
        match kind {
            EntryKind::Declared {
                title,
                level,
                status,
                commander,
                started,
            } => {
                let first = self.declared.as_ref();
                self.declared = Some(Declared {
                    at: first.map_or(r.at, |d| d.at),
                    title: title.clone(),
                    level: first.map_or(*level, |d| d.level.max(*level)),
                    commander: commander.clone(),
                    started: first.map_or(*started, |d| d.started.min(*started)),
                });
                self.set_status(*status, r.at);
            }
            EntryKind::Status { to, .. } => self.set_status(*to, r.at),
            EntryKind::Severity { to, .. } => {
                if self.worst.is_none_or(|w| rank(*to) > rank(w)) {
                    self.worst = Some(*to);
                }
            }
            EntryKind::ComponentState {
                component,
                to,
                since,
                rto,
                rpo,
                exposure,
                ..
            } => self.component_state(component, *to, *since, *rto, *rpo, *exposure),
            EntryKind::RtoBreached {
                component,
                down_since,
                rto,
            } => {
                let o = self.outage_for(component, *down_since);
                o.breach_recorded = true;
                o.rto = o.rto.or(Some(*rto));
            }
            EntryKind::Recovered {
                component,
                down_since,
                recovered_at,
                took,
                rto,
            } => {
                let o = self.outage_for(component, *down_since);
                o.recovered_at = Some(*recovered_at);
                o.took = Some(*took);
                o.rto = o.rto.or(*rto);
            }
            EntryKind::GateOverridden {
                gate,
                reason,
                detail,
            } => self.overrides.push(format!(
                "override {gate} by {} at {}: {reason} ({detail})",
                r.actor,
                r.at.strftime("%H:%M:%SZ")
            )),
            EntryKind::Note { text } => {
                if let Some(item) = follow_up(text) {
                    self.follow_ups.push(FollowUp {
                        at: r.at,
                        actor: r.actor.clone(),
                        text: item.to_string(),
                    });
                }
            }
            EntryKind::StepRequested { runbook, step } => {
                let mut run = StepRun::new(runbook, step);
                run.requested = Some((r.actor.clone(), r.at));
                self.steps.push(run);
            }
            EntryKind::StepConfirmed {
                runbook,
                step,
                override_reason,
                ..
            } => {
                self.live_run(runbook, step).confirmed = Some(Confirmed {
                    actor: r.actor.clone(),
                    at: r.at,
                    override_reason: override_reason.clone(),
                });
            }
            EntryKind::StepStarted { runbook, step, .. } => {
                self.live_run(runbook, step).started = Some(r.at);
            }
            // Which process ran it is the journal's business (claims), not the report's; the
            // outcome comes with the end or the release.
            EntryKind::StepProcess { .. } | EntryKind::StepAdopted { .. } => {}
            // The chain's own business: `journal verify` and the integrity section say it.
            EntryKind::JournalContinued { .. }
            | EntryKind::JournalUnsafe { .. }
            | EntryKind::RolledOver { .. }
            | EntryKind::Continues { .. } => {}
            EntryKind::StepOutput {
                runbook,
                step,
                summary,
            } => {
                let run = self.live_run(runbook, step);
                run.outputs += 1;
                run.last_output = Some(summary.clone());
            }
            EntryKind::StepFinished {
                runbook,
                step,
                outcome,
                took,
                detail,
            } => {
                self.live_run(runbook, step).finished = Some(FinishedStep {
                    at: r.at,
                    outcome: *outcome,
                    took: *took,
                    detail: detail.clone(),
                });
            }
            EntryKind::StepReleased {
                runbook,
                step,
                reason,
                ..
            } => self.live_run(runbook, step).released = Some(reason.clone()),
            EntryKind::StepPending {
                runbook,
                step,
                detail,
                ..
            } => {
                if let Some(run) = self.steps.iter_mut().rev().find(|s| s.is(runbook, step)) {
                    run.still_creating = Some(detail.clone());
                }
            }
            EntryKind::StepVerified {
                runbook,
                step,
                component,
                verified,
                detail,
            } => {
                let v = Verified {
                    component: component.clone(),
                    verified: *verified,
                    detail: detail.clone(),
                };
                match self.steps.iter_mut().rev().find(|s| s.is(runbook, step)) {
                    Some(run) => run.verified = Some(v),
                    None => {
                        let mut run = StepRun::new(runbook, step);
                        run.verified = Some(v);
                        self.steps.push(run);
                    }
                }
            }
            EntryKind::CommsQueued {
                id,
                channel,
                template,
                summary,
                ..
            } => {
                self.message(id, *channel).queued =
                    Some((r.at, template.to_string(), summary.clone()));
            }
            EntryKind::CommsSent { id, channel, .. } => {
                self.message(id, *channel).sent = Some(r.at)
            }
            EntryKind::CommsFailed {
                id,
                channel,
                reason,
                gave_up,
                ..
            } => self
                .message(id, *channel)
                .failures
                .push((r.at, reason.clone(), *gave_up)),
            EntryKind::LagLevel { .. }
            | EntryKind::BackupLevel { .. }
            | EntryKind::RpoExposure { .. }
            | EntryKind::Recorder { .. } => {}
        }
    }

    fn set_status(&mut self, to: IncidentStatus, at: Timestamp) {
        if to == IncidentStatus::Resolved {
            // Resolved twice: the clock stopped the first time.
            if self.status != Some(IncidentStatus::Resolved) {
                self.resolved_at = Some(at);
            }
        } else {
            self.resolved_at = None;
        }
        self.status = Some(to);
    }

    fn component_state(
        &mut self,
        component: &str,
        to: HealthState,
        since: Timestamp,
        rto: Option<SignedDuration>,
        rpo: Option<SignedDuration>,
        exposure: Option<Exposure>,
    ) {
        if to != HealthState::Up {
            match self.affected.iter_mut().find(|(c, _)| c == component) {
                Some((_, worst)) => {
                    if badness(to) > badness(*worst) {
                        *worst = to;
                    }
                }
                None => self.affected.push((component.to_string(), to)),
            }
        }
        let open = self
            .outages
            .iter_mut()
            .rev()
            .find(|o| o.component == component)
            .filter(|o| o.is_open());
        match (to, open) {
            // A DOWN after a recovery (or the first) opens an outage; during one it changes nothing.
            (HealthState::Down, None) => {
                let mut o = ComponentOutage::open(component, since);
                o.rto = rto;
                o.rpo = rpo;
                o.exposure = exposure;
                self.outages.push(o);
            }
            // UP closes it (the `recovered` entry that follows says the same).
            (HealthState::Up, Some(o)) => {
                o.recovered_at = Some(since);
                o.took = Some(since.duration_since(o.down_since));
            }
            // An outage stays open through UNKNOWN and DEGRADED.
            _ => {}
        }
    }

    /// The outage of `component` that started at `down_since`, else its open one, else a new
    /// one (its DOWN entry is missing from the journal).
    fn outage_for(&mut self, component: &str, down_since: Timestamp) -> &mut ComponentOutage {
        let i = self
            .outages
            .iter()
            .rposition(|o| o.component == component && o.down_since == down_since)
            .or_else(|| {
                self.outages
                    .iter()
                    .rposition(|o| o.component == component && o.is_open())
            });
        match i {
            Some(i) => &mut self.outages[i],
            None => {
                self.outages
                    .push(ComponentOutage::open(component, down_since));
                let last = self.outages.len() - 1;
                &mut self.outages[last]
            }
        }
    }

    /// The latest run of the step still collecting entries, else a new one (its request is
    /// missing from the journal).
    fn live_run(&mut self, runbook: &str, step: &str) -> &mut StepRun {
        match self
            .steps
            .iter()
            .rposition(|s| s.is(runbook, step) && s.is_live())
        {
            Some(i) => &mut self.steps[i],
            None => {
                self.steps.push(StepRun::new(runbook, step));
                let last = self.steps.len() - 1;
                &mut self.steps[last]
            }
        }
    }

    fn message(&mut self, id: &str, channel: crate::app::message::Channel) -> &mut Message {
        match self
            .comms
            .iter()
            .position(|m| m.id == id && m.channel == channel)
        {
            Some(i) => &mut self.comms[i],
            None => {
                self.comms.push(Message {
                    id: id.to_string(),
                    channel,
                    queued: None,
                    failures: Vec::new(),
                    sent: None,
                });
                let last = self.comms.len() - 1;
                &mut self.comms[last]
            }
        }
    }

    /// The template and summary of update `id`, if it was queued.
    pub fn queued(
        &self,
        id: &str,
        channel: crate::app::message::Channel,
    ) -> Option<&(Timestamp, String, String)> {
        self.comms
            .iter()
            .find(|m| m.id == id && m.channel == channel)
            .and_then(|m| m.queued.as_ref())
    }
}

/// Severities from least to most severe.
pub fn rank(s: Severity) -> u8 {
    match s {
        Severity::Observing => 0,
        Severity::Healthy => 1,
        Severity::Degraded => 2,
        Severity::Critical { unverified: true } => 3,
        Severity::Critical { unverified: false } => 4,
        Severity::Emergency => 5,
    }
}

/// How bad a state is for "affected": DOWN, then DEGRADED, then UNKNOWN.
fn badness(s: HealthState) -> u8 {
    match s {
        HealthState::Up => 0,
        HealthState::Unknown => 1,
        HealthState::Degraded => 2,
        HealthState::Down => 3,
    }
}
