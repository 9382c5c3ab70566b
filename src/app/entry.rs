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
use super::severity::Severity;
use super::signals::{BackupState, HealthState, LagState};
use crate::journal;

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
        channel: String,
        template: String,
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
        channel: String,
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
        channel: String,
        reason: String,
        /// No more attempts will be made.
        gave_up: bool,
        /// When the next attempt is made, if one is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_in: Option<SignedDuration>,
    },
}

impl EntryKind {
    /// One line for the timeline panel and the report.
    pub fn describe(&self) -> String {
        fn opt(detail: &Option<String>) -> String {
            detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        }
        match self {
            EntryKind::ComponentState {
                component,
                from,
                to,
                reason,
                ..
            } => {
                let why = if reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({reason})")
                };
                format!("{component}: {} → {}{why}", from.label(), to.label())
            }
            EntryKind::LagLevel {
                component,
                replica,
                from,
                to,
                value,
                detail,
            } => {
                let v = value.map(|v| format!(" ({})", fmt::seconds(v)));
                format!(
                    "{component} lag {replica}: {} → {}{}",
                    from.label(),
                    to.label(),
                    v.unwrap_or_else(|| opt(detail))
                )
            }
            EntryKind::BackupLevel {
                component,
                from,
                to,
                age,
                detail,
            } => {
                let v = age.map(|v| format!(" (age {})", fmt::seconds(v)));
                format!(
                    "{component} backup: {} → {}{}",
                    from.label(),
                    to.label(),
                    v.unwrap_or_else(|| opt(detail))
                )
            }
            EntryKind::RpoExposure {
                component,
                from,
                to,
                exposure,
                rpo,
            } => format!(
                "{component} RPO: {} → {} ({}, RPO {})",
                from.label(),
                to.label(),
                exposure.describe(),
                fmt::signed(*rpo)
            ),
            EntryKind::RtoBreached {
                component,
                down_since,
                rto,
            } => format!(
                "{component} RTO {} breached (DOWN since {down_since})",
                fmt::signed(*rto)
            ),
            EntryKind::Recovered {
                component,
                took,
                rto,
                ..
            } => match rto {
                Some(rto) => format!(
                    "{component} recovered after {} (RTO {})",
                    fmt::signed(*took),
                    fmt::signed(*rto)
                ),
                None => format!("{component} recovered after {}", fmt::signed(*took)),
            },
            EntryKind::Severity { from, to, reasons } => {
                let why = reasons
                    .first()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                format!("severity: {} → {}{why}", from.label(), to.label())
            }
            EntryKind::Declared {
                title,
                level,
                status,
                commander,
                ..
            } => format!(
                "declared: {title} — {} — {} (commander {commander})",
                level.label(),
                status.label()
            ),
            EntryKind::Status { from, to } => {
                format!("status: {} → {}", from.label(), to.label())
            }
            EntryKind::Note { text } => format!("note: {text}"),
            EntryKind::JournalContinued {
                from,
                last_seq,
                last_hash,
                reason,
            } => format!(
                "journal continued from {from} after its last verified entry (seq {last_seq}, hash {}…): {reason}",
                last_hash.get(..12).unwrap_or(last_hash)
            ),
            EntryKind::RolledOver { to, .. } => format!("watch log rolled over to {to}"),
            EntryKind::Continues { from, last_seq, .. } => {
                format!("watch log continues from {from} (after its seq {last_seq})")
            }
            EntryKind::JournalUnsafe { path, why } => {
                format!("JOURNAL UNSAFE: {path}: {why}")
            }
            EntryKind::Recorder { pid, previous } => match previous {
                Some(p) => format!("recorder: this console (pid {pid}) took over from {p}"),
                None => format!("recorder: this console (pid {pid}) records"),
            },
            EntryKind::StepRequested { runbook, step } => {
                format!("step {runbook}/{step}: requested")
            }
            EntryKind::StepConfirmed {
                runbook,
                step,
                override_reason,
                inputs,
                break_glass,
            } => {
                let typed: Vec<String> = inputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let typed = if typed.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", typed.join(", "))
                };
                let glass = break_glass
                    .as_ref()
                    .map(|r| format!(" — BREAK GLASS: {r}"))
                    .unwrap_or_default();
                match override_reason {
                    Some(r) => {
                        format!("step {runbook}/{step}: confirmed{typed} with override: {r}{glass}")
                    }
                    None => format!("step {runbook}/{step}: confirmed{typed}{glass}"),
                }
            }
            EntryKind::StepStarted {
                runbook,
                step,
                pid,
                host,
                ..
            } => format!("step {runbook}/{step}: started (pid {pid} on {host})"),
            EntryKind::StepOutput {
                runbook,
                step,
                summary,
            } => format!("step {runbook}/{step}: {summary}"),
            EntryKind::StepProcess {
                runbook,
                step,
                pgid,
                timeout,
                ..
            } => format!(
                "step {runbook}/{step}: program running as process group {pgid} (timeout {})",
                fmt::signed(*timeout)
            ),
            EntryKind::StepAdopted {
                runbook,
                step,
                pgid,
            } => format!(
                "step {runbook}/{step}: its console is gone, its program still runs (process group {pgid}): the recorder follows it"
            ),
            EntryKind::StepFinished {
                runbook,
                step,
                outcome,
                took,
                detail,
            } => {
                let why = if detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({detail})")
                };
                match outcome {
                    // Nobody saw it end: how long it ran says nothing.
                    StepResult::Interrupted => {
                        format!("step {runbook}/{step}: {}{why}", outcome.label())
                    }
                    _ => format!(
                        "step {runbook}/{step}: {} after {}{why}",
                        outcome.label(),
                        fmt::signed(*took)
                    ),
                }
            }
            EntryKind::StepVerified {
                runbook,
                step,
                component,
                verified,
                detail,
            } => {
                let word = if *verified {
                    "verified"
                } else {
                    "NOT verified"
                };
                format!("step {runbook}/{step}: {word} — {component} {detail}")
                    .trim_end()
                    .to_string()
            }
            EntryKind::StepPending {
                runbook,
                step,
                postcondition,
                detail,
            } => format!(
                "step {runbook}/{step}: still creating — {detail}; the recorder reads it again until {}",
                postcondition.describe()
            ),
            EntryKind::StepReleased {
                runbook,
                step,
                reason,
                ..
            } => format!("step {runbook}/{step}: claim released ({reason})"),
            EntryKind::GateOverridden {
                gate,
                reason,
                detail,
            } => format!("override {gate}: {reason} ({detail})"),
            EntryKind::CommsQueued {
                channel,
                template,
                summary,
                simulated,
                ..
            } => {
                let sim = if *simulated {
                    " (drill: simulated)"
                } else {
                    ""
                };
                format!("{channel}: queued {template}{sim}: {summary}")
            }
            EntryKind::CommsSent {
                channel,
                id,
                simulated,
                found,
                ..
            } => {
                let how = match (*simulated, *found) {
                    (true, _) => " to the drill's simulated sink",
                    (false, true) => " (found already posted; not sent again)",
                    (false, false) => "",
                };
                format!("{channel}: sent {id}{how}")
            }
            EntryKind::CommsFailed {
                channel,
                reason,
                gave_up,
                retry_in,
                ..
            } => {
                let then = match (gave_up, retry_in) {
                    (true, _) => "gave up".to_string(),
                    (false, Some(d)) => format!("retrying in {}", fmt::signed(*d)),
                    (false, None) => "will retry".to_string(),
                };
                format!("{channel}: failed ({reason}), {then}")
            }
        }
    }
}

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

/// What a recorded line says.
#[derive(Debug, Clone, PartialEq)]
pub enum What {
    Known(EntryKind),
    /// A kind this build does not know (or whose fields do not fit): its kind and its fields
    /// as `key=value`, shown as they are.
    Other {
        kind: String,
        fields: String,
    },
}

/// The longest generic rendering of an unknown entry's fields kept in memory.
const OTHER_FIELDS_MAX: usize = 512;

/// One entry of the timeline: a line of the journal (or of the watch log) as it was recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub seq: u64,
    pub at: Timestamp,
    pub actor: String,
    pub what: What,
    /// Copied from the watch log when the incident was declared.
    pub from_watch: bool,
}

impl Recorded {
    pub fn from_journal(e: &journal::JournalEntry) -> Recorded {
        let what = match EntryKind::from_journal(&e.kind, &e.body) {
            Some(k) => What::Known(k),
            None => What::Other {
                kind: e.kind.clone(),
                fields: other_fields(&e.body),
            },
        };
        Recorded {
            seq: e.seq,
            at: e.at,
            actor: e.actor.clone(),
            what,
            from_watch: e.body.contains_key(WATCH_SEQ),
        }
    }

    pub fn known(&self) -> Option<&EntryKind> {
        match &self.what {
            What::Known(k) => Some(k),
            What::Other { .. } => None,
        }
    }

    pub fn group(&self) -> KindGroup {
        match &self.what {
            What::Known(k) => k.group(),
            What::Other { .. } => KindGroup::Other,
        }
    }

    /// One line for the timeline and the report.
    pub fn describe(&self) -> String {
        match &self.what {
            What::Known(k) => k.describe(),
            What::Other { kind, fields } => format!("[{kind}] {fields}"),
        }
    }
}

/// The field a watch-log entry copied into an incident carries: its seq in the watch log.
pub const WATCH_SEQ: &str = "watch_seq";

fn other_fields(body: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = body.keys().collect();
    keys.sort();
    let mut out = String::new();
    for k in keys {
        if !out.is_empty() {
            out.push_str(", ");
        }
        let v = match &body[k.as_str()] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        out.push_str(k);
        out.push('=');
        out.push_str(&v);
        if out.len() > OTHER_FIELDS_MAX {
            let mut cut = OTHER_FIELDS_MAX;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push('…');
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests;
