//! The incident's vocabulary: every kind of entry the console writes to the journal, and
//! how a journal line reads back into the timeline.
//!
//! On disk an entry is `kind` + its fields (see `journal::entry`); here it is one variant of
//! [`EntryKind`], whose serde tag is the journal's `kind`. Lines of kinds this build does not
//! know (a newer console wrote them) stay in the timeline as [`What::Other`], shown generically.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::budget::{Exposure, RpoLevel};
use super::fmt;
use super::message::{Channel, Template};
use super::severity::Severity;
use super::signals::{BackupState, HealthState, LagState};
use crate::journal;

mod describe;
mod recorded;
pub use recorded::*;

/// One line of the incident timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub at: Timestamp,
    pub kind: EntryKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EntryKind {
    /// The shown health of a component changed.
    ComponentState {
        component: String,
        from: HealthState,
        to: HealthState,
        reason: String,
        /// The first observation of the agreeing run that made the change.
        since: Timestamp,
        /// The component's targets, so a report needs the journal only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rto: Option<SignedDuration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rpo: Option<SignedDuration>,
        /// Its RPO exposure at the time of the change.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exposure: Option<Exposure>,
    },
    LagLevel {
        component: String,
        replica: String,
        from: LagState,
        to: LagState,
        /// Seconds, when the new level stands on a measured lag.
        value: Option<f64>,
        detail: Option<String>,
    },
    BackupLevel {
        component: String,
        from: BackupState,
        to: BackupState,
        /// Age of the newest backup in seconds, when measured.
        age: Option<f64>,
        detail: Option<String>,
    },
    RpoExposure {
        component: String,
        from: RpoLevel,
        to: RpoLevel,
        exposure: Exposure,
        rpo: SignedDuration,
    },
    RtoBreached {
        component: String,
        down_since: Timestamp,
        rto: SignedDuration,
    },
    /// A component confirmed UP again after an outage: the RTO achieved.
    Recovered {
        component: String,
        down_since: Timestamp,
        recovered_at: Timestamp,
        took: SignedDuration,
        rto: Option<SignedDuration>,
    },
    Severity {
        from: Severity,
        to: Severity,
        reasons: Vec<String>,
    },
    /// An incident was declared; the declaring user is its commander.
    Declared {
        title: String,
        level: DrLevel,
        status: IncidentStatus,
        commander: String,
        /// When the incident started: the first failure in the watch log, else the declaration.
        started: Timestamp,
    },
    /// The incident's status moved (to `resolved`: the incident clock stops).
    Status {
        from: IncidentStatus,
        to: IncidentStatus,
    },
    /// A person's note. One starting with `follow-up:` is an open follow-up in the report.
    Note {
        text: String,
    },
    /// The first entry of a journal that continues one whose chain broke: the last verified
    /// entry there (seq and hash), and why the operator continued.
    JournalContinued {
        from: String,
        /// `seq` and `hash` are the journal's own fields: these name the other file's.
        last_seq: u64,
        last_hash: String,
        reason: String,
    },
    /// A file or directory of the journal dir is not to be trusted (others can write it, it
    /// is a link, or it is not the team's): nothing in it is read, written or delivered.
    JournalUnsafe {
        path: String,
        why: String,
    },
    /// The watch log's last entry before it was renamed (`to`): a rollover, not a shrink.
    /// `head_hash` is the hash of the entry before this one.
    RolledOver {
        to: String,
        head_hash: String,
    },
    /// The first entry of a new watch log: the last entry (seq, hash) of the one it follows.
    Continues {
        from: String,
        last_seq: u64,
        last_hash: String,
    },
    /// This console records the automatic entries from now on.
    Recorder {
        pid: u32,
        /// Who recorded before, when this is a takeover.
        previous: Option<String>,
    },
    StepRequested {
        runbook: String,
        step: String,
    },
    /// The confirm phrase matched, or the operator overrode failing prechecks with a reason.
    StepConfirmed {
        runbook: String,
        step: String,
        override_reason: Option<String>,
        /// The step's inputs as typed (a point-in-time restore's time…).
        #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        inputs: std::collections::BTreeMap<String, String>,
        /// Run while the journal was TAMPERED (no claim could be its lock): why. Written,
        /// with the claim, in the journal's continuation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        break_glass: Option<String>,
    },
    /// The step's claim: written with a conditional append, it is the lock. The console that
    /// holds it is `pid` on `host`, started at `start` (clock ticks since boot, from
    /// `/proc/PID/stat`: a pid given later to another process does not hold the claim).
    StepStarted {
        runbook: String,
        step: String,
        pid: u32,
        host: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start: Option<u64>,
    },
    /// A `command` step's program is running: the leader of process group `pgid` (its own
    /// session, on the claim's host), started at `start`. The claim lives as long as that group
    /// does, with or without the console that started it; `timeout` is the step's.
    StepProcess {
        runbook: String,
        step: String,
        pgid: u32,
        start: u64,
        timeout: SignedDuration,
        /// The file its output goes to (scrubbed, capped), for anyone to read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        log: Option<String>,
    },
    /// The console that ran the step is gone but its program still runs: the recorder follows
    /// it (journals its end, stops it at its timeout).
    StepAdopted {
        runbook: String,
        step: String,
        pgid: u32,
    },
    StepOutput {
        runbook: String,
        step: String,
        summary: String,
    },
    StepFinished {
        runbook: String,
        step: String,
        outcome: StepResult,
        took: SignedDuration,
        detail: String,
    },
    StepVerified {
        runbook: String,
        step: String,
        component: String,
        verified: bool,
        detail: String,
    },
    /// The step's action was accepted and what it makes was still being created when its
    /// console stopped waiting (its deadline, or the console ended): not failed, not
    /// verified. The recorder reads `postcondition` again until a `step_verified` says.
    StepPending {
        runbook: String,
        step: String,
        postcondition: crate::app::outcome::Postcondition,
        detail: String,
    },
    /// A gate passed by its typed override (`override resolve: <reason>`): which gate, why,
    /// and what it let through.
    GateOverridden {
        gate: String,
        reason: String,
        detail: String,
    },
    /// A claim left by a process that no longer exists, released.
    StepReleased {
        runbook: String,
        step: String,
        reason: String,
        /// The pid of the claim released: a release applies to that claim only, not to a
        /// newer one another console made meanwhile.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pid: Option<u32>,
    },
    /// An update written to the outbox, before any network call: one entry per channel it
    /// goes to (its `id` is the delivery's, the dedupe key of the outbox).
    CommsQueued {
        id: String,
        channel: Channel,
        template: Template,
        /// Its subject (the Slack header, the status page's incident name).
        summary: String,
        /// The incident status it announces.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<IncidentStatus>,
        /// The operator's text as it will be sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// A drill's update: it goes to the drill's simulated sink, never to a real channel.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        simulated: bool,
        /// SHA-256 of the update as queued: the outbox delivers only an update whose queued
        /// line says so.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
    },
    CommsSent {
        id: String,
        channel: Channel,
        /// What the far side calls it: the Slack message's `ts`, the status page's incident id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remote: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        simulated: bool,
        /// Found already posted after a crash between sending and recording: not sent again.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        found: bool,
    },
    CommsFailed {
        id: String,
        channel: Channel,
        reason: String,
        /// No more attempts will be made.
        gave_up: bool,
        /// When the next attempt is made, if one is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_in: Option<SignedDuration>,
    },
}

impl EntryKind {}

/// DR level of the seed's disaster classification (1 minor … 4 catastrophic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct DrLevel(u8);

impl DrLevel {
    pub const ALL: [DrLevel; 4] = [DrLevel(1), DrLevel(2), DrLevel(3), DrLevel(4)];

    pub fn new(n: u8) -> Option<DrLevel> {
        (1..=4).contains(&n).then_some(DrLevel(n))
    }

    pub fn number(self) -> u8 {
        self.0
    }

    /// "L3 critical".
    pub fn label(self) -> &'static str {
        match self.0 {
            1 => "L1 minor",
            2 => "L2 major",
            3 => "L3 critical",
            _ => "L4 catastrophic",
        }
    }

    /// What the level means, from the seed's classification.
    pub fn meaning(self) -> &'static str {
        match self.0 {
            1 => "single component failure",
            2 => "whole availability zone failure",
            3 => "whole region failure",
            _ => "several regions affected",
        }
    }
}

impl TryFrom<u8> for DrLevel {
    type Error = String;
    fn try_from(n: u8) -> Result<DrLevel, String> {
        DrLevel::new(n).ok_or_else(|| format!("DR level {n} is not 1–4"))
    }
}

impl From<DrLevel> for u8 {
    fn from(l: DrLevel) -> u8 {
        l.0
    }
}

/// The incident's status, as the status page has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 4] = [
        IncidentStatus::Investigating,
        IncidentStatus::Identified,
        IncidentStatus::Monitoring,
        IncidentStatus::Resolved,
    ];

    pub fn label(self) -> &'static str {
        match self {
            IncidentStatus::Investigating => "investigating",
            IncidentStatus::Identified => "identified",
            IncidentStatus::Monitoring => "monitoring",
            IncidentStatus::Resolved => "resolved",
        }
    }
}

/// How a runbook step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepResult {
    Succeeded,
    Failed,
    /// The console running it went away before it could say: verify by hand.
    Interrupted,
}

impl StepResult {
    pub fn label(self) -> &'static str {
        match self {
            StepResult::Succeeded => "succeeded",
            StepResult::Failed => "failed",
            StepResult::Interrupted => "interrupted — verify by hand",
        }
    }
}

impl EntryKind {
    /// The journal's `kind` and the entry's own fields.
    pub fn to_journal(&self) -> (String, Map<String, Value>) {
        let mut body = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            // Every variant is a struct variant of plain data: it always serializes to an object.
            _ => Map::new(),
        };
        let kind = match body.remove("type") {
            Some(Value::String(k)) => k,
            _ => String::from("unknown"),
        };
        (kind, body)
    }

    /// Reads a journal entry's kind and fields; `None` if the kind is unknown to this build or
    /// its fields do not fit it. Extra fields (such as `watch_seq`) are ignored.
    pub fn from_journal(kind: &str, body: &Map<String, Value>) -> Option<EntryKind> {
        let mut m = body.clone();
        m.insert("type".into(), Value::String(kind.into()));
        serde_json::from_value(Value::Object(m)).ok()
    }

    /// Kinds a person wrote (or a step, or comms), as opposed to what the recorder noticed.
    pub fn group(&self) -> KindGroup {
        match self {
            EntryKind::ComponentState { .. }
            | EntryKind::LagLevel { .. }
            | EntryKind::BackupLevel { .. }
            | EntryKind::RpoExposure { .. }
            | EntryKind::RtoBreached { .. }
            | EntryKind::Recovered { .. }
            | EntryKind::Severity { .. } => KindGroup::Automatic,
            EntryKind::Declared { .. }
            | EntryKind::Status { .. }
            | EntryKind::Note { .. }
            | EntryKind::Recorder { .. }
            | EntryKind::JournalContinued { .. }
            | EntryKind::JournalUnsafe { .. }
            | EntryKind::RolledOver { .. }
            | EntryKind::GateOverridden { .. }
            | EntryKind::Continues { .. } => KindGroup::Incident,
            EntryKind::StepRequested { .. }
            | EntryKind::StepConfirmed { .. }
            | EntryKind::StepStarted { .. }
            | EntryKind::StepOutput { .. }
            | EntryKind::StepProcess { .. }
            | EntryKind::StepAdopted { .. }
            | EntryKind::StepFinished { .. }
            | EntryKind::StepVerified { .. }
            | EntryKind::StepPending { .. }
            | EntryKind::StepReleased { .. } => KindGroup::Steps,
            EntryKind::CommsQueued { .. }
            | EntryKind::CommsSent { .. }
            | EntryKind::CommsFailed { .. } => KindGroup::Comms,
        }
    }
}

/// The timeline's kind filter: which entries it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KindGroup {
    #[default]
    All,
    /// State changes, threshold crossings, severity: what the recorder noticed.
    Automatic,
    /// Declaration, status, notes, recorder changes.
    Incident,
    Steps,
    Comms,
    /// Kinds this build does not know.
    Other,
}

impl KindGroup {
    pub const CYCLE: [KindGroup; 6] = [
        KindGroup::All,
        KindGroup::Automatic,
        KindGroup::Incident,
        KindGroup::Steps,
        KindGroup::Comms,
        KindGroup::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            KindGroup::All => "all",
            KindGroup::Automatic => "automatic",
            KindGroup::Incident => "incident",
            KindGroup::Steps => "steps",
            KindGroup::Comms => "comms",
            KindGroup::Other => "other",
        }
    }

    pub fn next(self) -> KindGroup {
        let i = KindGroup::CYCLE
            .iter()
            .position(|g| *g == self)
            .unwrap_or(0);
        KindGroup::CYCLE[(i + 1) % KindGroup::CYCLE.len()]
    }
}

/// The field a watch-log entry copied into an incident carries: its seq in the watch log.
pub const WATCH_SEQ: &str = "watch_seq";

#[cfg(test)]
mod tests;
