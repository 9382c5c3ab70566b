//! The incident as the journal tells it, and what this console knows about the journal.
//!
//! Every console folds the same journal lines into the same [`Incident`], so the operator's
//! console and an observer's agree on the title, level, status and incident clock. What a
//! console writes reaches its own timeline the same way: back from the journal, once on disk.

use std::collections::VecDeque;

use jiff::{SignedDuration, Timestamp};

use super::comms::{Comms, is_comms_kind};
use super::entry::{DrLevel, EntryKind, IncidentStatus, Recorded};
use super::steps::{Steps, is_step_kind};
use crate::journal;

/// A declared incident.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub title: String,
    pub level: DrLevel,
    pub status: IncidentStatus,
    /// Who declared it.
    pub commander: String,
    pub declared: Timestamp,
    /// The first failure found in the watch log (else the declaration): the incident clock.
    pub started: Timestamp,
    /// When its status moved to resolved: the clock stops there.
    pub resolved: Option<Timestamp>,
    /// Its journal's file name (where its updates are journaled), when followed from one.
    pub journal: Option<String>,
}

impl Incident {
    pub fn is_open(&self) -> bool {
        self.resolved.is_none()
    }

    /// Time since the incident started, up to its resolution.
    pub fn elapsed(&self, now: Timestamp) -> SignedDuration {
        self.resolved.unwrap_or(now).duration_since(self.started)
    }

    /// Applies one journal line; `incident` is the state of the file before it.
    pub fn fold(incident: &mut Option<Incident>, at: Timestamp, kind: &EntryKind) {
        match kind {
            EntryKind::Declared {
                title,
                level,
                status,
                commander,
                started,
            } => {
                *incident = Some(Incident {
                    title: title.clone(),
                    level: *level,
                    status: *status,
                    commander: commander.clone(),
                    declared: at,
                    started: *started,
                    resolved: (*status == IncidentStatus::Resolved).then_some(at),
                    journal: incident.as_ref().and_then(|i| i.journal.clone()),
                });
            }
            EntryKind::Status { to, .. } => {
                if let Some(i) = incident.as_mut() {
                    i.status = *to;
                    i.resolved = match (*to, i.resolved) {
                        (IncidentStatus::Resolved, None) => Some(at),
                        (IncidentStatus::Resolved, kept) => kept,
                        // Re-opened by hand (another console, an edit): the clock runs again.
                        _ => None,
                    };
                }
            }
            _ => {}
        }
    }
}

/// Whether a journal kind can change the incident: only these are parsed for every line of a
/// long journal; the rest only when kept for the timeline.
pub fn shapes_incident(kind: &str) -> bool {
    matches!(kind, "declared" | "status")
}

/// What the console's timeline is following.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Source {
    /// No journal (yet): nothing is recorded.
    #[default]
    Nothing,
    /// The rolling watch log: no incident is open.
    Watch,
    /// An incident's journal, by file name.
    Incident { name: String, drill: bool },
}

/// What the journal keeper tells the model.
#[derive(Debug, Clone, PartialEq)]
pub enum JournalEvent {
    /// Now following `source`; `entries` is all of it, oldest first.
    Reset {
        source: Source,
        entries: Vec<journal::JournalEntry>,
    },
    /// New lines of the followed source (own and other consoles'), oldest first.
    Appended(Vec<journal::JournalEntry>),
    /// Who records the automatic entries: this console (`me`) or another (`holder`).
    Recorder { me: bool, holder: Option<String> },
    /// Something the operator must know about the journal (cannot write, torn line, entries
    /// waiting); `None` once it is over.
    Problem(Option<String>),
    /// Comms lines written to the journal of an incident no longer followed (the one just
    /// resolved): its updates' delivery is still news for the comms panel.
    Comms(Vec<journal::JournalEntry>),
    /// A page of earlier entries read back from `source` (see [`super::earlier`]): the
    /// answer to [`super::Effect::ReadEarlier`].
    Earlier {
        source: Source,
        from: u64,
        to: u64,
        page: super::earlier::EarlierPage,
    },
    /// The newest lines of a step's log, or why they cannot be read: the answer to
    /// [`super::Effect::ReadStepLog`].
    StepLog {
        path: String,
        tail: super::log_viewer::LogTail,
    },
    /// The answer to a step claim of this console.
    Claimed {
        runbook: String,
        step: String,
        granted: bool,
        why: Option<String>,
    },
}

/// What this console knows about the journal.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JournalState {
    pub source: Source,
    /// This console records the automatic entries.
    pub recording: bool,
    /// Who does, when another console does.
    pub recorder: Option<String>,
    /// The keeper has said who records (until then nothing is claimed either way).
    pub recorder_known: bool,
    pub problem: Option<String>,
    /// The newest seq shown: lines at or below it are already in the timeline.
    pub last_seq: u64,
}

/// Folds and keeps the lines of one source; `cap` bounds what the timeline holds.
pub fn take(
    timeline: &mut VecDeque<Recorded>,
    incident: &mut Option<Incident>,
    steps: &mut Steps,
    comms: &mut Comms,
    last_seq: &mut u64,
    entries: &[journal::JournalEntry],
    cap: usize,
) {
    // Only the newest `cap` lines are kept: the others are read for their kind alone.
    let keep_from = entries.len().saturating_sub(cap);
    for (i, e) in entries.iter().enumerate() {
        if e.seq <= *last_seq {
            continue;
        }
        *last_seq = e.seq;
        let kept = i >= keep_from;
        if !kept && !shapes_incident(&e.kind) && !is_step_kind(&e.kind) && !is_comms_kind(&e.kind) {
            continue;
        }
        let r = Recorded::from_journal(e);
        if let Some(k) = r.known() {
            Incident::fold(incident, r.at, k);
            steps.fold(r.at, &r.actor, k);
            comms.fold(r.at, &r.actor, k);
        }
        if kept {
            if timeline.len() >= cap {
                timeline.pop_front();
            }
            timeline.push_back(r);
        }
    }
}

/// A journal in memory: writes what `update` asked to append and feeds it back to the model,
/// as the keeper would, without files. For tests, benches and examples; a console uses the
/// keeper.
#[derive(Debug, Clone)]
pub struct MemoryJournal {
    entries: Vec<journal::JournalEntry>,
    actor: String,
}

impl MemoryJournal {
    /// A journal that starts as this console's watch log, recorded by it.
    pub fn attach(state: &mut super::State, actor: &str) -> MemoryJournal {
        super::update(
            state,
            super::Event::Journal(JournalEvent::Reset {
                source: Source::Watch,
                entries: Vec::new(),
            }),
        );
        super::update(
            state,
            super::Event::Journal(JournalEvent::Recorder {
                me: true,
                holder: None,
            }),
        );
        MemoryJournal {
            entries: Vec::new(),
            actor: actor.to_string(),
        }
    }

    pub fn entries(&self) -> &[journal::JournalEntry] {
        &self.entries
    }

    /// Writes many entries at once and feeds them back in one piece, as the keeper hands over
    /// a long journal: the model keeps the newest of them.
    pub fn write_all(
        &mut self,
        state: &mut super::State,
        entries: impl IntoIterator<Item = (Timestamp, EntryKind)>,
    ) {
        let lines: Vec<_> = entries
            .into_iter()
            .map(|(at, kind)| self.seal(at, &kind))
            .collect();
        super::update(state, super::Event::Journal(JournalEvent::Appended(lines)));
    }

    fn seal(&mut self, at: Timestamp, kind: &EntryKind) -> journal::JournalEntry {
        let (k, body) = kind.to_journal();
        let (seq, prev) = self
            .entries
            .last()
            .map(|e| (e.seq + 1, e.hash.clone()))
            .unwrap_or((1, journal::GENESIS.to_string()));
        let e = journal::JournalEntry::seal(seq, at, self.actor.clone(), k, body, &prev);
        self.entries.push(e.clone());
        e
    }

    /// Writes the effects' entries and feeds them back; a declaration starts a new journal.
    pub fn echo(&mut self, state: &mut super::State, effects: &[super::Effect]) {
        for effect in effects {
            match effect {
                super::Effect::Append(w) => {
                    let e = self.seal(w.at, &w.kind);
                    super::update(
                        state,
                        super::Event::Journal(JournalEvent::Appended(vec![e])),
                    );
                }
                super::Effect::Post(out) => {
                    // As the keeper does: one comms_queued line per channel, before anything
                    // is sent.
                    let n = self.entries.len();
                    for channel in &out.update.to {
                        let e = self.seal(
                            out.update.at,
                            &EntryKind::CommsQueued {
                                id: format!("mem-{n}"),
                                channel: *channel,
                                template: out.update.template,
                                summary: out.update.subject.clone(),
                                status: Some(out.update.status),
                                text: Some(out.update.text.clone()),
                                simulated: false,
                                body: None,
                            },
                        );
                        super::update(
                            state,
                            super::Event::Journal(JournalEvent::Appended(vec![e])),
                        );
                    }
                }
                super::Effect::Declare {
                    title,
                    level,
                    status,
                    at,
                } => {
                    // As the keeper does: the incident starts at the first failure of the
                    // watch log, whose lines from there on are copied into it.
                    let watch = std::mem::take(&mut self.entries);
                    let first = crate::app::episode::first_failure(&watch);
                    let started = first
                        .map(|i| crate::app::episode::failure_began(&watch[i..]))
                        .unwrap_or(*at);
                    for w in first.map(|i| &watch[i..]).unwrap_or(&[]) {
                        let mut body = w.body.clone();
                        body.insert(super::WATCH_SEQ.into(), w.seq.into());
                        let (seq, prev) = self
                            .entries
                            .last()
                            .map(|e| (e.seq + 1, e.hash.clone()))
                            .unwrap_or((1, journal::GENESIS.to_string()));
                        let e = journal::JournalEntry::seal(
                            seq,
                            w.at,
                            w.actor.clone(),
                            w.kind.clone(),
                            body,
                            &prev,
                        );
                        self.entries.push(e);
                    }
                    self.seal(
                        *at,
                        &EntryKind::Declared {
                            title: title.clone(),
                            level: *level,
                            status: *status,
                            commander: self.actor.clone(),
                            started,
                        },
                    );
                    super::update(
                        state,
                        super::Event::Journal(JournalEvent::Reset {
                            source: Source::Incident {
                                name: "memory".into(),
                                drill: false,
                            },
                            entries: self.entries.clone(),
                        }),
                    );
                }
                super::Effect::ReadEarlier { source, from, to } => {
                    let page = super::earlier::page_in_memory(&self.entries, *from, *to);
                    let effects = super::update(
                        state,
                        super::Event::Journal(JournalEvent::Earlier {
                            source: source.clone(),
                            from: *from,
                            to: *to,
                            page: Ok(page),
                        }),
                    );
                    self.echo(state, &effects);
                }
                // A journal in memory keeps no step logs.
                super::Effect::ReadStepLog { path } => {
                    super::update(
                        state,
                        super::Event::Journal(JournalEvent::StepLog {
                            path: path.clone(),
                            tail: Err("no step logs in memory".into()),
                        }),
                    );
                }
                super::Effect::RunStep {
                    runbook, step, at, ..
                } => {
                    // As the keeper does: the claim is a line; a running step is not claimed twice.
                    let running = state
                        .steps
                        .get(runbook, step)
                        .is_some_and(|r| r.running.is_some());
                    if !running {
                        let e = self.seal(
                            *at,
                            &EntryKind::StepStarted {
                                runbook: runbook.clone(),
                                step: step.clone(),
                                pid: 0,
                                host: "memory".into(),
                                start: None,
                            },
                        );
                        super::update(
                            state,
                            super::Event::Journal(JournalEvent::Appended(vec![e])),
                        );
                    }
                    // What the grant sets off (the console's own step ending, an executor
                    // asked to run) is journaled like any other effect.
                    let more = super::update(
                        state,
                        super::Event::Step(super::StepEvent::Claimed {
                            runbook: runbook.clone(),
                            step: step.clone(),
                            granted: !running,
                            why: running.then(|| "already running".to_string()),
                        }),
                    );
                    self.echo(state, &more);
                }
                // Stopping a step is the runtime's: nothing to write here (the request is an
                // Append before it).
                super::Effect::Quit
                | super::Effect::Execute { .. }
                | super::Effect::CancelStep { .. }
                | super::Effect::ReadPostcondition { .. }
                | super::Effect::ContinueJournal { .. } => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::testkit::t;

    fn line(seq: u64, at: i64, kind: EntryKind) -> journal::JournalEntry {
        let (k, body) = kind.to_journal();
        journal::JournalEntry::seal(seq, t(at), "ana@h".into(), k, body, journal::GENESIS)
    }

    fn declared(started: i64) -> EntryKind {
        EntryKind::Declared {
            title: "region down".into(),
            level: DrLevel::new(3).expect("level"),
            status: IncidentStatus::Investigating,
            commander: "ana@h".into(),
            started: t(started),
        }
    }

    fn status(from: IncidentStatus, to: IncidentStatus) -> EntryKind {
        EntryKind::Status { from, to }
    }

    #[test]
    fn the_incident_clock_runs_from_the_first_failure_and_stops_at_resolution() {
        let mut tl = VecDeque::new();
        let (mut inc, mut last) = (None, 0);
        let lines = vec![
            line(1, 100, declared(40)),
            line(
                2,
                200,
                status(IncidentStatus::Investigating, IncidentStatus::Identified),
            ),
            line(
                3,
                900,
                status(IncidentStatus::Identified, IncidentStatus::Resolved),
            ),
        ];
        take(
            &mut tl,
            &mut inc,
            &mut Steps::default(),
            &mut Comms::default(),
            &mut last,
            &lines[..2],
            100,
        );
        let i = inc.clone().expect("declared");
        assert_eq!(i.status, IncidentStatus::Identified);
        assert_eq!(i.elapsed(t(100)), SignedDuration::from_secs(60));
        assert!(i.is_open());
        take(
            &mut tl,
            &mut inc,
            &mut Steps::default(),
            &mut Comms::default(),
            &mut last,
            &lines,
            100,
        );
        let i = inc.expect("declared");
        assert_eq!(i.resolved, Some(t(900)));
        assert_eq!(
            i.elapsed(t(5000)),
            SignedDuration::from_secs(860),
            "stopped at resolution"
        );
        assert_eq!(tl.len(), 3, "lines already shown are not shown twice");
        assert_eq!(last, 3);
    }

    #[test]
    fn a_long_journal_keeps_its_newest_lines_but_reads_the_declaration_at_its_start() {
        let mut lines = vec![line(1, 0, declared(0))];
        for seq in 2..=1000 {
            lines.push(line(seq, seq as i64, EntryKind::Note { text: "n".into() }));
        }
        let mut tl = VecDeque::new();
        let (mut inc, mut last) = (None, 0);
        take(
            &mut tl,
            &mut inc,
            &mut Steps::default(),
            &mut Comms::default(),
            &mut last,
            &lines,
            10,
        );
        assert_eq!(tl.len(), 10);
        assert_eq!(tl.front().map(|r| r.seq), Some(991));
        assert!(inc.is_some(), "the declaration was read though not kept");
    }
}
