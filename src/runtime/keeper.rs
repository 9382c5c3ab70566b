//! The journal keeper: the one part of a console that reads and writes journal files.
//!
//! It runs on its own thread (fsyncs never stall the screen), takes the console's write
//! requests, and tells the model what the journal says:
//! - **follow**: it polls the followed file every [`KeeperOptions::poll`] and sends new lines, its own
//!   included (a line reaches the screen once it is on disk), so every console on the host sees
//!   every other console's entries within a second;
//! - **recorder**: an operator console tries to take `recorder.lock` (an exclusive `flock`,
//!   released by the kernel when its holder exits, however it exits); the holder writes the
//!   automatic entries, the others retry every [`KeeperOptions::recorder_retry`] and take over when it
//!   goes. An observer never takes it;
//! - **watch log**: before an incident is declared, entries go to `watch.jsonl`; declaring
//!   copies the watch log from the first failure of the current episode into the new incident
//!   journal, so the incident starts from that failure, not from the key press;
//! - **never lost**: a write that fails stays queued and is retried; the model is told what is
//!   waiting and why; what is still unwritten when the console ends is handed back to the caller.
//!
//! A drill keeps its watch log in memory (simulated time, nobody else's business) and writes
//! its incidents under `incidents/drills/`.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use nix::fcntl::{Flock, FlockArg};
use serde_json::Value;
use tokio::sync::mpsc::Sender;

use crate::app::Entry as Wanted;
use crate::app::episode::{failure_began, first_failure, resolved};
use crate::app::incident::{JournalEvent, Source};
use crate::app::message::Outgoing;
use crate::app::steps::{Claim, Steps, is_step_kind};
use crate::app::{DrLevel, EntryKind, IncidentStatus, WATCH_SEQ};
use crate::comms;
use crate::journal::dirs::{drills_dir, incident_file_name, incidents_dir, latest};
use crate::journal::entry::{GENESIS, JournalEntry};
use crate::journal::file::{
    FILE_MODE, Journal, JournalError, follow, follow_checked, load, load_verified_keeping,
};
use crate::journal::trust::{Team, TrustError};

/// Who this console is to the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Reads only: never writes, never records.
    Observer,
    /// Writes its people's entries; records the automatic ones while it holds the lock.
    Operator,
    /// A drill: always its own recorder, watch log in memory, incidents under `drills/`.
    Drill,
}

#[derive(Debug, Clone)]
pub struct KeeperOptions {
    /// The journal dir (`incidents/` and the watch log are inside it).
    pub dir: PathBuf,
    pub mode: Mode,
    pub poll: Duration,
    pub recorder_retry: Duration,
    /// `user@host` for this console's entries.
    pub actor: String,
    /// The watch log rolls over (to `watch.1.jsonl`, replacing the one before) when the
    /// recorder finds it larger than this.
    pub watch_max_bytes: u64,
    /// Where this account keeps what it last saw of each incident journal (see
    /// [`crate::journal::seen`]); None: not kept.
    pub seen: Option<PathBuf>,
    /// `[console] operators`: the accounts that may own the journal dir's files (empty: any
    /// member of the journal group). See [`crate::journal::trust`].
    pub operators: Vec<String>,
}

impl KeeperOptions {
    pub fn new(dir: PathBuf, mode: Mode) -> KeeperOptions {
        KeeperOptions {
            dir,
            mode,
            poll: Duration::from_millis(250),
            recorder_retry: Duration::from_secs(1),
            actor: crate::journal::entry::actor(),
            watch_max_bytes: 8 << 20,
            seen: None,
            operators: Vec::new(),
        }
    }
}

/// What a console asks of the journal.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// To the open incident, else the watch log.
    Append(Wanted),
    Declare {
        title: String,
        level: DrLevel,
        status: IncidentStatus,
        at: Timestamp,
    },
    /// Claim a step: write its `step_started` line only if nobody runs it, by a conditional
    /// append (nothing was appended between the check and the write). The answer comes back
    /// as a [`JournalEvent::Claimed`].
    Claim {
        runbook: String,
        step: String,
        at: Timestamp,
        /// `break glass: <reason>`: granted even in a TAMPERED journal (see `claim`).
        break_glass: Option<String>,
    },
    /// Queue an update: written to its incident's outbox and journaled as queued (one line per
    /// channel) before the outbox worker may see it. `id` is the update's dedupe key and
    /// `order` its place in the queue, both given once, when it was asked for: a retry after
    /// a failure half-way queues the same deliveries, never new ones.
    Post {
        out: Box<Outgoing>,
        id: String,
        order: i128,
    },
    /// What became of a delivery, from the outbox worker: journaled, then the delivery leaves
    /// `pending/` if it is done.
    Delivery(Box<comms::record::DeliveryReport>),
    /// A delivery a console staged but did not make deliverable before it ended (the outbox
    /// worker found it): journal it as queued unless it is, and make it deliverable.
    Commit(Box<comms::outbox::OutboxItem>),
    /// After JOURNAL TAMPERED: start a new file from the last verified entry of the tampered
    /// one (`continue journal: <reason>` typed by an operator).
    Continue { reason: String, at: Timestamp },
    /// This console's terminal does not drain: let go of `recorder.lock` so a live console
    /// records, and take it back no sooner than `for_` from now if nobody did.
    StepAside { for_: Duration },
}

/// What a keeper could not write before it ended, handed back to be kept elsewhere.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Leftovers {
    pub entries: Vec<Wanted>,
    /// Updates that never reached their outbox.
    pub updates: Vec<Outgoing>,
}

impl Leftovers {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.updates.is_empty()
    }
}

/// The keeper's thread. Dropping every sender of its requests ends it: it writes what it can
/// and returns what it could not.
pub struct Keeper {
    handle: JoinHandle<Leftovers>,
}

impl Keeper {
    pub fn spawn(
        options: KeeperOptions,
        requests: Receiver<Request>,
        events: Sender<JournalEvent>,
    ) -> std::io::Result<Keeper> {
        let handle = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || KeeperState::new(options, events).run(requests))?;
        Ok(Keeper { handle })
    }

    /// Waits for the keeper to finish; what it could not write (already reported).
    pub fn finish(self) -> Leftovers {
        self.handle.join().unwrap_or_default()
    }

    /// [`Keeper::finish`], waiting at most `deadline` (a disk that hangs must not hold the
    /// console's ending forever): None if it has not finished by then.
    pub fn finish_within(self, deadline: Duration) -> Option<Leftovers> {
        let until = Instant::now() + deadline;
        while !self.handle.is_finished() {
            if Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(self.finish())
    }
}

/// The watch log file, or a drill's in memory.
enum Watch {
    File(PathBuf),
    Memory(Vec<JournalEntry>),
}

struct FollowedFile {
    path: Option<PathBuf>,
    offset: u64,
    ino: u64,
    /// The last entry read (seq, hash): every new line must follow it.
    last: Option<(u64, String)>,
}

struct KeeperState {
    o: KeeperOptions,
    events: Sender<JournalEvent>,
    watch: Watch,
    incidents: PathBuf,
    source: Source,
    followed: FollowedFile,
    /// An open incident is followed: appends go there.
    incident: Option<PathBuf>,
    recorder: Option<Flock<File>>,
    last_recorder_try: Option<Instant>,
    /// Stepped aside (a terminal that does not drain): no try for the lock before this.
    recorder_hold_off: Option<Instant>,
    last_roll_check: Option<Instant>,
    last_holder: Option<Option<String>>,
    /// The newest incident file checked, its length, and whether it was open.
    checked: Option<(PathBuf, u64, bool)>,
    pending: VecDeque<Request>,
    problem: Option<String>,
    /// The problem of the moment, told after the sticky ones.
    other_problem: Option<String>,
    /// The steps of the followed journal, as the model folds them.
    steps: Steps,
    last_release_check: Option<Instant>,
    /// The incident just resolved, followed for its comms lines only: the delivery of its
    /// last updates is still news after the consoles went back to the watch log.
    comms_tail: Option<FollowedFile>,
    /// Dead claims whose release is queued or written (never queued twice while a write fails).
    released: std::collections::HashSet<(String, String, u32)>,
    /// Claims whose console is gone and whose program this recorder follows (journaled once).
    adopted: std::collections::HashSet<(String, String, u32)>,
    /// Programs past their timeout this recorder has sent SIGTERM, and when.
    stopping: std::collections::HashMap<(String, String, u32), Instant>,
    /// Comms requests waiting to be written, in order, apart from the rest: an outbox step
    /// that cannot be written never holds up a note or a step's claim.
    comms: VecDeque<Request>,
    /// Updates that can never reach their outbox (their incident's journal is gone).
    unsent: Vec<Outgoing>,
    comms_problem: Option<String>,
    /// A journal whose chain broke (an edited, removed or planted line, a file shorter than
    /// it was): never appended to again, said on every screen.
    tampered: Option<(PathBuf, String)>,
    /// What this account last saw of each incident journal.
    seen: Option<crate::journal::seen::SeenBook>,
    last_seen_save: Option<Instant>,
    /// The journal dir's team, once the dir exists (what is trusted there).
    team: Option<Team>,
    /// Files and directories found untrusted, and why: never read, written or delivered;
    /// said on every screen until they are fixed.
    unsafe_paths: std::collections::BTreeMap<PathBuf, String>,
    /// Those the watch log already says (written by this console as the recorder).
    unsafe_recorded: std::collections::HashSet<PathBuf>,
}

/// Files the keeper has nothing to say about are fine; a JournalError reads as "what, where".
fn describe(e: &JournalError) -> String {
    e.to_string()
}

impl KeeperState {
    fn new(o: KeeperOptions, events: Sender<JournalEvent>) -> KeeperState {
        let (watch, incidents) = match o.mode {
            Mode::Drill => (Watch::Memory(Vec::new()), drills_dir(&o.dir)),
            _ => (
                Watch::File(o.dir.join("watch.jsonl")),
                incidents_dir(&o.dir),
            ),
        };
        KeeperState {
            o,
            events,
            watch,
            incidents,
            source: Source::Nothing,
            followed: FollowedFile {
                path: None,
                offset: 0,
                ino: 0,
                last: None,
            },
            incident: None,
            recorder: None,
            last_recorder_try: None,
            recorder_hold_off: None,
            last_roll_check: None,
            last_holder: None,
            checked: None,
            pending: VecDeque::new(),
            problem: None,
            other_problem: None,
            steps: Steps::default(),
            last_release_check: None,
            comms_tail: None,
            released: std::collections::HashSet::new(),
            adopted: std::collections::HashSet::new(),
            stopping: std::collections::HashMap::new(),
            comms: VecDeque::new(),
            unsent: Vec::new(),
            comms_problem: None,
            tampered: None,
            seen: None,
            last_seen_save: None,
            team: None,
            unsafe_paths: std::collections::BTreeMap::new(),
            unsafe_recorded: std::collections::HashSet::new(),
        }
    }

    fn send(&mut self, e: JournalEvent) {
        // The keeper keeps its own view of the steps' claims, to release those of dead
        // processes.
        match &e {
            JournalEvent::Reset { entries, .. } => {
                self.steps.clear();
                self.fold_steps(entries);
            }
            JournalEvent::Appended(entries) => self.fold_steps(entries),
            _ => {}
        }
        // The console has gone: nobody to tell.
        let _ = self.events.blocking_send(e);
    }

    fn fold_steps(&mut self, entries: &[JournalEntry]) {
        self.steps.fold_journal(entries);
    }

    /// Claims of this host whose console is gone, followed by the recorder (checked once a
    /// second): a claim whose `command` program still runs is adopted (journaled once), its
    /// group stopped at the step's timeout (SIGTERM, then SIGKILL 10 s later) if this account
    /// may; a claim with nothing left running is released, once, saying what is known: the
    /// step shows as interrupted — verify by hand.
    fn release_dead_claims(&mut self) {
        if self.recorder.is_none()
            || self
                .last_release_check
                .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        self.last_release_check = Some(Instant::now());
        let host = self.o.actor.split('@').nth(1).unwrap_or("").to_string();
        let me = std::process::id();
        let claims: Vec<(String, String, Claim)> = self
            .steps
            .claims_on(&host)
            .filter(|(_, _, c)| c.pid != me)
            .map(|(rb, st, c)| (rb.to_string(), st.to_string(), c.clone()))
            .collect();
        for (runbook, step, c) in claims {
            if crate::process::process_alive(c.pid, c.start) {
                continue;
            }
            let key = (runbook.clone(), step.clone(), c.pid);
            if self.released.contains(&key) {
                continue;
            }
            let reason = match c.group {
                Some(g) if crate::process::group_alive(g.pgid, g.start) => {
                    if !c.adopted && self.adopted.insert(key.clone()) {
                        tracing::info!("step {runbook}/{step}: adopted process group {}", g.pgid);
                        self.pending.push_back(Request::Append(Wanted {
                            at: Timestamp::now(),
                            kind: EntryKind::StepAdopted {
                                runbook: runbook.clone(),
                                step: step.clone(),
                                pgid: g.pgid,
                            },
                        }));
                    }
                    let deadline = g.since.saturating_add(g.timeout).unwrap_or(g.since);
                    if Timestamp::now() >= deadline {
                        self.stop_group(&runbook, &step, g, &key);
                    }
                    continue;
                }
                Some(g) => match self.stopping.get(&key) {
                    Some(_) => format!(
                        "timed out after {}: the recorder stopped its process group {} (SIGTERM, then SIGKILL) — verify by hand",
                        crate::app::fmt::signed(g.timeout),
                        g.pgid
                    ),
                    None => format!(
                        "ended, outcome unknown — verify by hand (process group {} ended after its console, pid {} on {host}, was gone)",
                        g.pgid, c.pid
                    ),
                },
                None => format!(
                    "the console that ran it (pid {} on {host}) is gone before saying how it ended: verify by hand",
                    c.pid
                ),
            };
            self.released.insert(key);
            self.pending.push_back(Request::Append(Wanted {
                at: Timestamp::now(),
                kind: EntryKind::StepReleased {
                    pid: Some(c.pid),
                    runbook,
                    step,
                    reason,
                },
            }));
        }
        if !self.pending.is_empty() {
            self.write_pending();
        }
    }

    /// A step's program past its timeout, its console gone: SIGTERM to its group, SIGKILL 10 s
    /// later. An account that may not signal it says who must, and how.
    fn stop_group(
        &mut self,
        runbook: &str,
        step: &str,
        g: crate::app::steps::ClaimGroup,
        key: &(String, String, u32),
    ) {
        use crate::process::signal_group;
        use nix::sys::signal::Signal;
        let pgid = g.pgid;
        match self.stopping.get(key) {
            None => match signal_group(pgid, g.start, Signal::SIGTERM) {
                Ok(_) => {
                    tracing::warn!(
                        "step {runbook}/{step}: timed out, SIGTERM to process group {pgid}"
                    );
                    self.stopping.insert(key.clone(), Instant::now());
                }
                Err(e) => {
                    let user = std::fs::metadata(format!("/proc/{pgid}"))
                        .ok()
                        .and_then(|m| {
                            nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(m.uid())).ok()
                        })
                        .flatten()
                        .map_or_else(|| "another account".to_string(), |u| u.name);
                    tracing::error!("step {runbook}/{step}: cannot stop process group {pgid}: {e}");
                    self.set_problem(Some(format!(
                        "step {runbook}/{step} timed out, still running as {user}: kill -TERM -- -{pgid}"
                    )));
                }
            },
            Some(since) if since.elapsed() >= GROUP_KILL_GRACE => {
                let _ = signal_group(pgid, g.start, Signal::SIGKILL);
            }
            Some(_) => {}
        }
    }

    fn run(mut self, requests: Receiver<Request>) -> Leftovers {
        self.seen = self
            .o
            .seen
            .clone()
            .map(crate::journal::seen::SeenBook::open);
        if self.o.mode == Mode::Drill {
            self.send(JournalEvent::Recorder {
                me: true,
                holder: None,
            });
        }
        self.start();
        loop {
            match requests.recv_timeout(self.o.poll) {
                Ok(r) => {
                    self.take(r);
                    // Take whatever else is waiting before touching the disk.
                    while let Ok(more) = requests.try_recv() {
                        self.take(more);
                    }
                    self.write_pending();
                }
                Err(RecvTimeoutError::Timeout) => {
                    if !self.pending.is_empty() || !self.comms.is_empty() {
                        self.write_pending();
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.poll();
        }
        if let Some(book) = self.seen.as_mut() {
            book.save();
        }
        // The console is ending: no step may start now.
        self.pending.retain(|r| !matches!(r, Request::Claim { .. }));
        self.write_pending();
        let mut left = Leftovers {
            updates: std::mem::take(&mut self.unsent),
            ..Leftovers::default()
        };
        for r in self.pending.into_iter().chain(self.comms) {
            match r {
                Request::Append(w) => left.entries.push(w),
                Request::Post { out, .. } => left.updates.push(*out),
                // The outbox keeps these: the next worker finishes them.
                Request::Delivery(_) | Request::Commit(_) => {}
                Request::Declare { .. }
                | Request::Claim { .. }
                | Request::StepAside { .. }
                | Request::Continue { .. } => {}
            }
        }
        left
    }

    /// A request: queued to be written, or (stepping aside) done at once.
    fn take(&mut self, r: Request) {
        match r {
            Request::StepAside { for_ } => self.step_aside(for_),
            // At once: the entries held by the tampered journal wait for it.
            Request::Continue { reason, at } => {
                if let Err(why) = self.continue_journal(&reason, at) {
                    self.set_problem(Some(format!("cannot continue the journal: {why}")));
                }
            }
            r => self.pending.push_back(r),
        }
    }

    // ------------------------------------------------------------ following

    /// Follows the open incident if there is one, else the watch log.
    fn start(&mut self) {
        if self.o.mode != Mode::Drill
            && let Some(path) = self.open_incident()
        {
            self.follow_incident(path);
            return;
        }
        self.follow_watch();
    }

    fn follow_watch(&mut self) {
        // Leaving an incident (resolved): its comms lines are still followed.
        self.comms_tail = match (&self.source, &self.followed.path) {
            (Source::Incident { .. }, Some(p)) => Some(FollowedFile {
                path: Some(p.clone()),
                offset: self.followed.offset,
                ino: self.followed.ino,
                last: self.followed.last.clone(),
            }),
            _ => self.comms_tail.take(),
        };
        self.incident = None;
        let entries = match &self.watch {
            Watch::Memory(v) => v.clone(),
            Watch::File(p) => {
                let p = p.clone();
                self.followed.path = Some(p.clone());
                self.reload(&p)
            }
        };
        if matches!(self.watch, Watch::Memory(_)) {
            self.followed.path = None;
        }
        self.source = Source::Watch;
        self.send(JournalEvent::Reset {
            source: Source::Watch,
            entries,
        });
    }

    fn follow_incident(&mut self, path: PathBuf) {
        self.comms_tail = None;
        let entries = self.reload(&path);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.source = Source::Incident {
            name,
            drill: self.o.mode == Mode::Drill,
        };
        self.followed.path = Some(path.clone());
        self.note_seen(&path);
        self.incident = (!resolved(&entries)).then_some(path);
        self.send(JournalEvent::Reset {
            source: self.source.clone(),
            entries,
        });
    }

    /// All of a file (missing = empty), remembering where to follow from.
    fn reload(&mut self, path: &Path) -> Vec<JournalEntry> {
        self.followed.offset = 0;
        self.followed.ino = 0;
        self.followed.last = None;
        if self.guard(path).is_err() {
            return Vec::new();
        }
        let Ok(meta) = std::fs::metadata(path) else {
            return Vec::new();
        };
        // Read and verified in one pass: a console opening a journal says at once if its
        // chain is broken (an edited or removed line).
        match load_verified_keeping(path, KEEP, &|kind| {
            crate::app::incident::shapes_incident(kind)
                || is_step_kind(kind)
                || crate::app::comms::is_comms_kind(kind)
        }) {
            Ok((loaded, report)) => {
                self.followed.offset = meta.len();
                self.followed.ino = meta.ino();
                let problem = loaded.torn.as_ref().map(|t| {
                    format!(
                        "{}: the last line ({}) is torn (a write was cut off): skipped",
                        path.display(),
                        t.line
                    )
                });
                if let Some(t) = &loaded.torn {
                    // Follow from the start of the torn line: when it is completed (it never
                    // is) or overwritten by the next append, it is read whole.
                    self.followed.offset = meta.len().saturating_sub(t.bytes as u64);
                }
                self.followed.last = loaded.entries.last().map(|e| (e.seq, e.hash.clone()));
                // Shorter than this account saw it, even before a restart: rewritten.
                if let Some(why) = self.seen_contradicts(path, meta.len(), &loaded.entries) {
                    self.mark_tampered(path, why);
                }
                match &report.first_break {
                    Some(b) => self.mark_tampered(path, format!("hash chain BROKEN at {b}")),
                    // Replaced by a file that verifies (its continuation): trusted again.
                    None if self.is_tampered(path) => {
                        self.tampered = None;
                        self.refresh_problem();
                    }
                    None => {}
                }
                self.set_problem(problem);
                loaded.entries
            }
            Err(e) => {
                self.set_problem(Some(describe(&e)));
                Vec::new()
            }
        }
    }

    fn poll(&mut self) {
        self.follow_new_lines();
        self.follow_comms_tail();
        if self.o.mode == Mode::Operator {
            // After reading the newest lines: a claim finished a moment ago is not released.
            self.release_dead_claims();
        }
    }

    fn follow_new_lines(&mut self) {
        if self.o.mode == Mode::Operator {
            self.try_recorder();
            self.roll_watch();
        } else if self.o.mode == Mode::Observer {
            self.watch_recorder();
        }
        if self.o.mode != Mode::Drill
            && self.incident.is_none()
            && let Some(path) = self.open_incident()
        {
            self.follow_incident(path);
            return;
        }
        // A tampered incident continued by another console: its continuation is the newest.
        if let Some(current) = self.followed.path.clone()
            && self.incident.as_ref() == Some(&current)
            && self.is_tampered(&current)
            && let Some(path) = self.open_incident()
            && path != current
        {
            self.follow_incident(path);
            return;
        }
        let Some(path) = self.followed.path.clone() else {
            return;
        };
        let Ok(meta) = std::fs::metadata(&path) else {
            return;
        };
        if self.followed.ino != 0 && meta.ino() != self.followed.ino {
            // Replaced (the watch log rotated): read it anew.
            self.reset_current();
            return;
        }
        if self.followed.ino == 0 {
            self.followed.ino = meta.ino();
        }
        if meta.len() == self.followed.offset {
            return;
        }
        self.take_new_lines(&path);
    }

    /// The lines appended to the followed file since the last read, each checked against the
    /// chain before it is told: a break is TAMPERED and nothing from it on is shown.
    fn take_new_lines(&mut self, path: &Path) {
        if self.is_tampered(path) || self.guard(path).is_err() {
            // Nothing more of it is shown as the journal's.
            return;
        }
        let last = self.followed.last.clone();
        match follow_checked(
            path,
            self.followed.offset,
            last.as_ref().map(|(seq, hash)| (*seq, hash.as_str())),
        ) {
            Ok(f) => {
                self.followed.offset = f.offset;
                if self.followed.ino == 0
                    && let Ok(m) = std::fs::metadata(path)
                {
                    self.followed.ino = m.ino();
                }
                if let Some(e) = f.entries.last() {
                    self.followed.last = Some((e.seq, e.hash.clone()));
                }
                if let Some(why) = &f.broken {
                    self.mark_tampered(path, why.clone());
                } else {
                    self.note_seen(path);
                }
                if !f.problems.is_empty() {
                    self.set_problem(Some(format!(
                        "{}: {}",
                        path.display(),
                        f.problems.join("; ")
                    )));
                }
                if f.entries.is_empty() {
                    return;
                }
                let ends = self.incident.is_some() && resolved(&f.entries);
                self.send(JournalEvent::Appended(f.entries));
                if ends {
                    // Resolved: what comes next belongs to the watch log.
                    self.follow_watch();
                }
            }
            // A journal is append-only: one shorter than it was had lines removed. Never a
            // silent reload (a watch-log rollover is a new file, not a shorter one).
            Err(JournalError::Shrunk { len, offset, .. }) => self.mark_tampered(
                path,
                format!("the file is {len} bytes, shorter than the {offset} already read"),
            ),
            Err(e) => self.set_problem(Some(describe(&e))),
        }
    }

    /// New comms lines of the incident just resolved, for the comms panel.
    fn follow_comms_tail(&mut self) {
        let Some(tail) = self.comms_tail.as_mut() else {
            return;
        };
        let Some(path) = tail.path.clone() else {
            return;
        };
        let Ok(meta) = std::fs::metadata(&path) else {
            return;
        };
        if meta.len() <= tail.offset {
            return;
        }
        if let Ok(f) = follow(&path, tail.offset) {
            tail.offset = f.offset;
            let comms: Vec<JournalEntry> = f
                .entries
                .into_iter()
                .filter(|e| crate::app::comms::is_comms_kind(&e.kind))
                .collect();
            if !comms.is_empty() {
                self.send(JournalEvent::Comms(comms));
            }
        }
    }

    fn reset_current(&mut self) {
        match (&self.source, self.followed.path.clone()) {
            (Source::Incident { .. }, Some(p)) => self.follow_incident(p),
            _ => self.follow_watch(),
        }
    }

    /// The newest incident file, if it is still open. Re-read only when it changed.
    fn open_incident(&mut self) -> Option<PathBuf> {
        let incidents = self.incidents.clone();
        self.guard(&incidents).ok()?;
        let path = latest(&incidents)?;
        self.guard(&path).ok()?;
        let len = std::fs::metadata(&path).ok()?.len();
        if let Some((p, l, open)) = &self.checked
            && *p == path
            && *l == len
        {
            return open.then_some(path);
        }
        // A file without its `declared` line is a declaration that failed half-way (it is
        // written last): not an open incident.
        let open = load(&path)
            .is_ok_and(|l| l.entries.iter().any(|e| e.kind == "declared") && !resolved(&l.entries));
        self.checked = Some((path.clone(), len, open));
        open.then_some(path)
    }

    /// Whether what this account saw of an incident journal contradicts it now.
    fn seen_contradicts(&self, path: &Path, len: u64, entries: &[JournalEntry]) -> Option<String> {
        if !self.is_incident_file(path) {
            return None;
        }
        self.seen.as_ref()?.contradicts(path, len, |seq| {
            entries
                .iter()
                .rev()
                .find(|e| e.seq == seq)
                .map(|e| e.hash.clone())
        })
    }

    /// An incident journal (not the watch log, which rolls over by design).
    fn is_incident_file(&self, path: &Path) -> bool {
        path.parent() == Some(self.incidents.as_path())
    }

    /// Records how far the followed incident journal was read and verified; written at most
    /// every few seconds (and when the console ends).
    fn note_seen(&mut self, path: &Path) {
        if !self.is_incident_file(path) || self.is_tampered(path) {
            return;
        }
        let (Some(book), Some((seq, hash))) = (self.seen.as_mut(), self.followed.last.clone())
        else {
            return;
        };
        book.record(
            path,
            crate::journal::seen::Seen {
                len: self.followed.offset,
                seq,
                hash,
                at: Timestamp::now(),
            },
        );
        if self
            .last_seen_save
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(5))
        {
            book.save();
            self.last_seen_save = Some(Instant::now());
        }
    }

    /// Whether this journal file's chain broke (it is then never appended to).
    fn is_tampered(&self, path: &Path) -> bool {
        self.tampered.as_ref().is_some_and(|(p, _)| p == path)
    }

    /// The followed journal is not what it was: `JOURNAL TAMPERED` on this console's screen
    /// (every console following it finds the same), said in the log; no more appends to it.
    fn mark_tampered(&mut self, path: &Path, why: String) {
        if self.is_tampered(path) {
            return;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let message = format!(
            "JOURNAL TAMPERED: {name}: {why}; nothing more is written to it (run `warroom journal verify`)"
        );
        tracing::error!("{message}");
        self.tampered = Some((path.to_path_buf(), message));
        self.refresh_problem();
    }

    /// Whether `path` (and every directory from the journal dir's top to it) may be used: a
    /// part that does not exist yet is fine, an untrusted one is `JOURNAL UNSAFE` on this
    /// screen and in the watch log, and `Err` says why it was not used.
    fn guard(&mut self, path: &Path) -> Result<(), String> {
        if self.team.is_none() {
            match Team::of(&self.o.dir, &self.o.operators) {
                Ok(t) => self.team = Some(t),
                // The top itself is not to be trusted: nothing below it is.
                Err(TrustError::Unsafe { path: top, why }) => {
                    return Err(self.mark_unsafe(&top, why));
                }
                // Not there yet: whoever creates it creates it the team's.
                Err(TrustError::Io { .. }) => return Ok(()),
            }
        }
        let Some(team) = self.team.as_ref() else {
            return Ok(());
        };
        match team.check(path) {
            Ok(_) => {
                if !self.unsafe_paths.is_empty() {
                    let before = self.unsafe_paths.len();
                    self.unsafe_paths
                        .retain(|p, _| !(path.starts_with(p) || p.starts_with(path)));
                    if self.unsafe_paths.len() != before {
                        self.refresh_problem();
                    }
                }
                Ok(())
            }
            Err(TrustError::Unsafe { path: bad, why }) => Err(self.mark_unsafe(&bad, why)),
            // Cannot be read (gone in between, permissions): the operation itself says so.
            Err(TrustError::Io { .. }) => Ok(()),
        }
    }

    /// Says, once per path, that `path` is not to be trusted: the log, every screen, and the
    /// watch log (by the recorder, when the watch log itself is trusted).
    fn mark_unsafe(&mut self, path: &Path, why: String) -> String {
        let message = format!("JOURNAL UNSAFE: {}: {why}", path.display());
        if self.unsafe_paths.get(path) == Some(&why) {
            return message;
        }
        tracing::error!("{message}");
        self.unsafe_paths.insert(path.to_path_buf(), why.clone());
        self.refresh_problem();
        self.record_unsafe();
        message
    }

    /// The problem of the moment (a torn line, a write that failed); `None` clears it. An
    /// untrusted file and a tampered journal stay said beside it, whatever it is.
    /// The recorder writes each untrusted path it has not written yet to the watch log (when
    /// that is trusted itself): what was unsafe, and since when, is on record.
    fn record_unsafe(&mut self) {
        if self.o.mode != Mode::Operator || self.recorder.is_none() {
            return;
        }
        let Watch::File(w) = &self.watch else {
            return;
        };
        let w = w.clone();
        let new: Vec<(PathBuf, String)> = self
            .unsafe_paths
            .iter()
            .filter(|(p, _)| !self.unsafe_recorded.contains(*p) && !w.starts_with(p))
            .map(|(p, why)| (p.clone(), why.clone()))
            .collect();
        if new.is_empty() || self.team.as_ref().is_none_or(|t| t.check(&w).is_err()) {
            return;
        }
        for (path, why) in new {
            let (kind, body) = EntryKind::JournalUnsafe {
                path: path.display().to_string(),
                why,
            }
            .to_journal();
            let written = Journal::open(&w).and_then(|j| {
                j.with_actor(self.o.actor.clone())
                    .append(&kind, body, Timestamp::now())
            });
            match written {
                Ok(_) => {
                    self.unsafe_recorded.insert(path);
                }
                Err(e) => tracing::error!("could not record it in the watch log: {e}"),
            }
        }
    }

    fn set_problem(&mut self, p: Option<String>) {
        self.other_problem = p;
        self.refresh_problem();
    }

    /// Tells the screen the sticky problems and the problem of the moment, if that changed.
    fn refresh_problem(&mut self) {
        let mut sticky: Vec<String> = self
            .unsafe_paths
            .iter()
            .map(|(path, why)| format!("JOURNAL UNSAFE: {}: {why}", path.display()))
            .collect();
        if let Some((_, t)) = &self.tampered {
            sticky.push(t.clone());
        }
        sticky.extend(self.other_problem.clone());
        let p = (!sticky.is_empty()).then(|| sticky.join(" · "));
        if p != self.problem {
            self.problem = p.clone();
            self.send(JournalEvent::Problem(p));
        }
    }

    /// The recorder rolls the watch log over when it has grown past its limit (checked at
    /// most once a minute). Under the watch log's own lock, so no append is cut in two; the
    /// followers see a new file and read it anew.
    fn roll_watch(&mut self) {
        if self.recorder.is_none()
            || self
                .last_roll_check
                .is_some_and(|t| t.elapsed() < Duration::from_secs(60))
        {
            return;
        }
        self.last_roll_check = Some(Instant::now());
        let Watch::File(path) = &self.watch else {
            return;
        };
        // Not while a step claimed in it runs: its claim would vanish from every console.
        if self.incident.is_none() && self.steps.any_running() {
            return;
        }
        let path = path.clone();
        if std::fs::metadata(&path).map_or(true, |m| m.len() <= self.o.watch_max_bytes) {
            return;
        }
        let rolled = path.with_file_name("watch.1.jsonl");
        if self.guard(&path).is_err() || self.guard(&rolled).is_err() {
            return;
        }
        if let Err(e) = self.roll_watch_to(&path, &rolled) {
            self.set_problem(Some(format!(
                "{}: cannot roll over to {}: {e}",
                path.display(),
                rolled.display()
            )));
            return;
        }
        if self.incident.is_none() {
            self.follow_watch();
        }
    }

    /// Renames the watch log to `rolled` and starts a new one, each saying so: the old one
    /// ends with `rolled_over`, the new one starts with `continues` (its last seq and hash),
    /// so no console takes the new, shorter file for a shrunk one. Every console's watch-log
    /// append waits meanwhile (`.declare.lock`, taken exclusively here).
    fn roll_watch_to(&mut self, path: &Path, rolled: &Path) -> Result<(), String> {
        let _no_appends = self.declare_lock(FlockArg::LockExclusive)?;
        let old = Journal::open(path)
            .map_err(|e| describe(&e))?
            .with_actor(self.o.actor.clone());
        let head_hash = old
            .last()
            .map_err(|e| describe(&e))?
            .map_or_else(|| GENESIS.to_string(), |e| e.hash);
        let to = rolled
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (kind, body) = EntryKind::RolledOver {
            to: to.clone(),
            head_hash,
        }
        .to_journal();
        let last = old
            .append(&kind, body, Timestamp::now())
            .map_err(|e| describe(&e))?;
        // Under the file's own lock too: a writer that is not a console (none should be)
        // never has an append cut in two.
        crate::journal::file::open_nofollow(path)
            .map_err(|e| e.to_string())
            .and_then(|f| Flock::lock(f, FlockArg::LockExclusive).map_err(|(_, e)| e.to_string()))
            .and_then(|_locked| std::fs::rename(path, rolled).map_err(|e| e.to_string()))?;
        let (kind, body) = EntryKind::Continues {
            from: to,
            last_seq: last.seq,
            last_hash: last.hash,
        }
        .to_journal();
        Journal::open(path)
            .and_then(|j| {
                j.with_actor(self.o.actor.clone())
                    .append(&kind, body, Timestamp::now())
            })
            .map_err(|e| describe(&e))?;
        Ok(())
    }

    // ------------------------------------------------------------ the recorder

    fn lock_path(&self) -> PathBuf {
        self.o.dir.join("recorder.lock")
    }

    /// Lets go of the recorder's lock (the kernel hands it to whichever console asks next) and
    /// keeps from taking it again for `for_`. Only an operator console holds it.
    fn step_aside(&mut self, for_: Duration) {
        if self.o.mode != Mode::Operator {
            return;
        }
        self.recorder_hold_off = Some(Instant::now() + for_);
        if self.recorder.take().is_some() {
            tracing::warn!("recorder: stepping aside for {}s", for_.as_secs());
            self.last_holder = None;
            self.send(JournalEvent::Recorder {
                me: false,
                holder: None,
            });
        }
    }

    fn try_recorder(&mut self) {
        if self.recorder.is_none() && self.recorder_hold_off.is_some_and(|t| Instant::now() < t) {
            // Stepped aside: only look who took it.
            self.watch_recorder();
            return;
        }
        if self.recorder.is_some()
            || self
                .last_recorder_try
                .is_some_and(|t| t.elapsed() < self.o.recorder_retry)
        {
            return;
        }
        self.last_recorder_try = Some(Instant::now());
        let path = self.lock_path();
        if std::fs::create_dir_all(&self.o.dir).is_err() || self.guard(&path).is_err() {
            return;
        }
        // Never through a symbolic link: `recorder.lock → victim` would have the victim
        // truncated and rewritten.
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(f) if f.metadata().is_ok_and(|m| m.is_file()) => f,
            Ok(_) => return,
            Err(e) => {
                if e.raw_os_error() == Some(nix::libc::ELOOP) {
                    self.mark_unsafe(
                        &path,
                        "a symbolic link; not used (nobody records until it is removed)".into(),
                    );
                }
                return;
            }
        };
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(mut locked) => {
                let mut previous = String::new();
                let _ = locked.read_to_string(&mut previous);
                let previous = previous.trim().to_string();
                let me = format!("{} pid {}", self.o.actor, std::process::id());
                let _ = locked
                    .set_len(0)
                    .and_then(|_| locked.seek(SeekFrom::Start(0)))
                    .and_then(|_| locked.write_all(me.as_bytes()))
                    .and_then(|_| locked.sync_all());
                self.recorder = Some(locked);
                self.send(JournalEvent::Recorder {
                    me: true,
                    holder: None,
                });
                self.pending.push_back(Request::Append(Wanted {
                    at: Timestamp::now(),
                    kind: EntryKind::Recorder {
                        pid: std::process::id(),
                        previous: (!previous.is_empty()).then_some(previous),
                    },
                }));
                self.write_pending();
                self.record_unsafe();
            }
            Err(_) => {
                let holder = holder_of(&path);
                self.tell_holder(Some(holder));
            }
        }
    }

    /// An observer shows who records: the lock's holder, if the lock is held at all.
    fn watch_recorder(&mut self) {
        if self
            .last_recorder_try
            .is_some_and(|t| t.elapsed() < self.o.recorder_retry)
        {
            return;
        }
        self.last_recorder_try = Some(Instant::now());
        let path = self.lock_path();
        if self.guard(&path).is_err() {
            return;
        }
        let Ok(file) = crate::journal::file::open_nofollow(&path) else {
            self.tell_holder(None);
            return;
        };
        // A shared lock we can take means nobody holds the exclusive one.
        let held = Flock::lock(file, FlockArg::LockSharedNonblock).is_err();
        self.tell_holder(held.then(|| holder_of(&path)));
    }

    fn tell_holder(&mut self, holder: Option<String>) {
        if self.last_holder.as_ref() != Some(&holder) {
            self.last_holder = Some(holder.clone());
            self.send(JournalEvent::Recorder { me: false, holder });
        }
    }

    // ------------------------------------------------------------ writing

    fn write_pending(&mut self) {
        let mut failed = None;
        while let Some(r) = self.pending.pop_front() {
            let result = match &r {
                Request::Append(w) => self.append(w),
                Request::Declare {
                    title,
                    level,
                    status,
                    at,
                } => self.declare(title, *level, *status, *at),
                Request::Claim { .. } => {
                    self.answer_claim(&r);
                    Ok(())
                }
                Request::Post { .. } | Request::Delivery(_) | Request::Commit(_) => {
                    self.comms.push_back(r);
                    continue;
                }
                // Done when taken (`take`), never queued: they must not wait behind held lines.
                Request::StepAside { .. } | Request::Continue { .. } => Ok(()),
            };
            if let Err(e) = result {
                failed = Some(e);
                self.pending.push_front(r);
                // Claims are answered now or never, not held behind lines that wait (a
                // TAMPERED journal holds every line until it is continued).
                let (claims, rest): (Vec<Request>, Vec<Request>) = self
                    .pending
                    .drain(..)
                    .partition(|r| matches!(r, Request::Claim { .. }));
                self.pending = rest.into();
                for c in &claims {
                    self.answer_claim(c);
                }
                break;
            }
        }
        match failed {
            Some(e) => self.set_problem(Some(format!(
                "{} entr{} not yet written, retrying: {e}",
                self.pending.len(),
                if self.pending.len() == 1 { "y" } else { "ies" }
            ))),
            None => {
                if self
                    .problem
                    .as_deref()
                    .is_some_and(|p| p.contains("not yet written"))
                {
                    self.set_problem(self.comms_problem.clone());
                }
            }
        }
        self.write_comms();
    }

    /// A claim is answered now or never: retried later, it would start a step the operator
    /// may have given up on or done by hand.
    fn answer_claim(&mut self, r: &Request) {
        let Request::Claim {
            runbook,
            step,
            at,
            break_glass,
        } = r
        else {
            return;
        };
        if let Err(why) = self.claim(runbook, step, *at, break_glass.as_deref()) {
            self.send(JournalEvent::Claimed {
                runbook: runbook.clone(),
                step: step.clone(),
                granted: false,
                why: Some(format!("the journal could not record the claim: {why}")),
            });
        }
    }

    /// The comms requests, in order: one that fails is tried again at the next poll (the ones
    /// after it wait: an update's deliveries and outcomes keep their order); one whose journal
    /// is gone is said once and dropped (the outbox keeps what it can).
    fn write_comms(&mut self) {
        let mut problem = None;
        while let Some(r) = self.comms.pop_front() {
            let result = match &r {
                Request::Post { out, id, order } => self.post(out, id, *order),
                Request::Delivery(o) => self.delivery(o),
                Request::Commit(d) => self.commit(d),
                _ => Ok(()),
            };
            match result {
                Ok(()) => {}
                Err(comms::record::RecordError::JournalGone(why)) => {
                    if let Request::Post { out, .. } = r {
                        self.unsent.push(*out);
                    }
                    problem = Some(format!("comms: {why}"));
                }
                Err(comms::record::RecordError::Failed(why)) => {
                    self.comms.push_front(r);
                    problem = Some(format!(
                        "comms: {} update step(s) not yet written, retrying: {why}",
                        self.comms.len()
                    ));
                    break;
                }
            }
        }
        if problem != self.comms_problem {
            self.comms_problem = problem.clone();
            let journal_trouble = self
                .problem
                .as_deref()
                .is_some_and(|p| !p.starts_with("comms: "));
            if !journal_trouble {
                self.set_problem(problem);
            }
        }
    }

    fn append(&mut self, w: &Wanted) -> Result<(), String> {
        match self.o.mode {
            // The runtime of an observer sends nothing; if it did, nothing is written.
            Mode::Observer => return Ok(()),
            // Only the recorder writes automatic entries (the model asks only when it is).
            Mode::Operator
                if w.kind.group() == crate::app::KindGroup::Automatic
                    && self.recorder.is_none() =>
            {
                return Ok(());
            }
            _ => {}
        }
        let (kind, body) = w.kind.to_journal();
        let target = match (&self.incident, &self.watch) {
            (Some(p), _) | (None, Watch::File(p)) => Some(p.clone()),
            (None, Watch::Memory(_)) => None,
        };
        if let Some(t) = target.filter(|t| self.is_tampered(t)) {
            return Err(format!(
                "{} is tampered: held until it is continued elsewhere",
                t.display()
            ));
        }
        if let Some(path) = self.incident.clone() {
            return self.append_to(&path, &kind, body, w.at);
        }
        match &mut self.watch {
            Watch::Memory(v) => {
                let (seq, prev) = v
                    .last()
                    .map(|e| (e.seq + 1, e.hash.clone()))
                    .unwrap_or((1, GENESIS.to_string()));
                let e = JournalEntry::seal(seq, w.at, self.o.actor.clone(), kind, body, &prev);
                v.push(e.clone());
                self.send(JournalEvent::Appended(vec![e]));
                Ok(())
            }
            Watch::File(p) => {
                let p = p.clone();
                // Never while an incident is being declared (the declaration copies the watch
                // log under `.declare.lock`): a line written in that instant would stay in the
                // watch log only. After one, the line goes to the new incident.
                // Nobody can declare while the lock's place is untrusted (declaring takes the
                // same lock): nothing to wait for, and the watch log still takes what people
                // write.
                let _declaring = if self.declare_lock_trusted() {
                    Some(self.declare_lock(FlockArg::LockShared)?)
                } else {
                    None
                };
                // (A new incident is a new file: `open_incident` sees it without a re-read of
                // an unchanged one.)
                if self.o.mode != Mode::Drill
                    && let Some(open) = self.open_incident()
                {
                    self.follow_incident(open.clone());
                    return self.append_to(&open, &kind, body, w.at);
                }
                self.append_to(&p, &kind, body, w.at)
            }
        }
    }

    /// Appends as this console to the followed file `path`, then reads it back: a line is on
    /// screen once it is on disk.
    fn append_to(
        &mut self,
        path: &Path,
        kind: &str,
        body: serde_json::Map<String, Value>,
        at: Timestamp,
    ) -> Result<(), String> {
        self.guard(path)?;
        Journal::open(path)
            .map_err(|e| describe(&e))?
            .with_actor(self.o.actor.clone())
            .append(kind, body, at)
            .map_err(|e| describe(&e))?;
        self.poll_now();
        Ok(())
    }

    /// Continues the tampered journal being followed: a new file whose first entry names the
    /// tampered one and its last verified entry (seq, hash) with the operator's reason; an
    /// incident's continuation carries its declaration, its latest status and the claims still
    /// running, so every console follows it as the incident. The tampered file stays as it is,
    /// as evidence. Nothing happens if the followed journal is not tampered.
    fn continue_journal(&mut self, reason: &str, at: Timestamp) -> Result<(), String> {
        if self.o.mode == Mode::Observer {
            return Ok(());
        }
        let Some((path, _)) = self.tampered.clone() else {
            return Ok(());
        };
        if self.followed.path.as_ref() != Some(&path) {
            return Ok(());
        }
        let (seq, hash) = self
            .followed
            .last
            .clone()
            .unwrap_or((0, GENESIS.to_string()));
        // The verified part: up to and with the last entry this console checked.
        let verified: Vec<JournalEntry> = match load(&path) {
            Ok(l) => {
                let mut v = Vec::new();
                for e in l.entries {
                    let last = e.seq == seq && e.hash == hash;
                    v.push(e);
                    if last {
                        break;
                    }
                }
                if v.last().is_some_and(|e| e.seq == seq && e.hash == hash) {
                    v
                } else {
                    Vec::new()
                }
            }
            Err(_) => Vec::new(),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let is_watch = matches!(&self.watch, Watch::File(w) if *w == path);
        let next = if is_watch {
            // The watch log keeps its name: the tampered one is set aside.
            let aside = path.with_file_name(format!(
                "watch.tampered-{}.jsonl",
                Timestamp::now().as_second()
            ));
            std::fs::rename(&path, &aside)
                .map_err(|e| format!("{}: cannot set aside: {e}", path.display()))?;
            path.clone()
        } else {
            let stem = name.trim_end_matches(".jsonl");
            let mut n = 2;
            loop {
                let p = path.with_file_name(format!("{stem}.{n}.jsonl"));
                if !p.exists() {
                    break p;
                }
                n += 1;
            }
        };
        let journal = Journal::open(&next)
            .map_err(|e| describe(&e))?
            .with_actor(self.o.actor.clone());
        let (kind, body) = EntryKind::JournalContinued {
            from: name,
            last_seq: seq,
            last_hash: hash,
            reason: reason.to_string(),
        }
        .to_journal();
        journal.append(&kind, body, at).map_err(|e| describe(&e))?;
        // What makes it the incident: its declaration, its latest status, the claims running.
        let copy = |e: &JournalEntry| {
            journal
                .clone()
                .with_actor(e.actor.clone())
                .append(&e.kind, e.body.clone(), e.at)
                .map(|_| ())
                .map_err(|e| describe(&e))
        };
        if let Some(d) = verified.iter().rev().find(|e| e.kind == "declared") {
            copy(d)?;
        }
        if let Some(st) = verified.iter().rev().find(|e| e.kind == "status") {
            copy(st)?;
        }
        let steps = Steps::of_journal(&verified);
        for e in verified.iter().filter(|e| {
            matches!(
                e.kind.as_str(),
                "step_started" | "step_process" | "step_adopted"
            )
        }) {
            let (rb, st) = (
                e.body.get("runbook").and_then(Value::as_str).unwrap_or(""),
                e.body.get("step").and_then(Value::as_str).unwrap_or(""),
            );
            if steps.get(rb, st).is_some_and(|r| r.running.is_some()) {
                copy(e)?;
            }
        }
        tracing::warn!(
            "journal continued: {} -> {} ({reason})",
            path.display(),
            next.display()
        );
        self.tampered = None;
        self.set_problem(None);
        self.checked = None;
        if is_watch {
            self.follow_watch();
        } else {
            self.follow_incident(next);
        }
        Ok(())
    }

    /// Whether `incidents/` and its `.declare.lock` may be used (each untrusted one is said).
    fn declare_lock_trusted(&mut self) -> bool {
        let incidents = self.incidents.clone();
        self.guard(&incidents).is_ok() && self.guard(&incidents.join(".declare.lock")).is_ok()
    }

    /// `incidents/.declare.lock`: exclusive while an incident is declared, shared while a line
    /// is appended to the watch log.
    fn declare_lock(&mut self, arg: FlockArg) -> Result<Flock<File>, String> {
        std::fs::create_dir_all(&self.incidents)
            .map_err(|e| format!("{}: cannot create: {e}", self.incidents.display()))?;
        let lock_path = self.incidents.join(".declare.lock");
        self.guard(&lock_path)?;
        let lock_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&lock_path)
            .map_err(|e| format!("{}: {e}", lock_path.display()))?;
        Flock::lock(lock_file, arg)
            .map_err(|(_, e)| format!("{}: cannot lock: {e}", lock_path.display()))
    }

    // ------------------------------------------------------------ comms

    /// Lines this keeper wrote to a journal: read back from the followed file, or told as
    /// comms lines when they went to another (the incident just resolved).
    fn wrote(&mut self, journal: &str, lines: Vec<JournalEntry>) {
        if lines.is_empty() {
            return;
        }
        let path = self.incidents.join(journal);
        let tailed = self
            .comms_tail
            .as_ref()
            .is_some_and(|t| t.path.as_deref() == Some(path.as_path()));
        if self.followed.path.as_deref() == Some(path.as_path()) {
            self.poll_now();
        } else if tailed {
            // The comms tail reads them at the next poll: told once.
            self.follow_comms_tail();
        } else {
            self.send(JournalEvent::Comms(lines));
        }
    }

    fn post(
        &mut self,
        out: &Outgoing,
        id: &str,
        order: i128,
    ) -> Result<(), comms::record::RecordError> {
        // The runtime of an observer has no outbox; if it asked anyway, nothing is queued.
        if self.o.mode == Mode::Observer {
            return Ok(());
        }
        let deliveries =
            comms::record::deliveries(out, id, order, &self.o.actor, self.o.mode == Mode::Drill);
        let lines = comms::record::queue(&self.incidents, &deliveries, &self.o.actor)?;
        self.wrote(&out.journal, lines);
        Ok(())
    }

    fn delivery(
        &mut self,
        o: &comms::record::DeliveryReport,
    ) -> Result<(), comms::record::RecordError> {
        if self.o.mode == Mode::Observer {
            return Ok(());
        }
        let line = comms::record::record(&self.incidents, o, &self.o.actor)?;
        self.wrote(&o.journal, line.into_iter().collect());
        Ok(())
    }

    fn commit(&mut self, d: &comms::outbox::OutboxItem) -> Result<(), comms::record::RecordError> {
        if self.o.mode == Mode::Observer {
            return Ok(());
        }
        let lines = comms::record::commit_staged(&self.incidents, d, &self.o.actor)?;
        self.wrote(&d.journal, lines);
        Ok(())
    }

    fn claim(
        &mut self,
        runbook: &str,
        step: &str,
        at: Timestamp,
        break_glass: Option<&str>,
    ) -> Result<(), String> {
        let answer = |granted: bool, why: Option<String>| JournalEvent::Claimed {
            runbook: runbook.to_string(),
            step: step.to_string(),
            granted,
            why,
        };
        if self.o.mode == Mode::Observer {
            self.send(answer(false, Some("read-only console".into())));
            return Ok(());
        }
        let host = self.o.actor.split('@').nth(1).unwrap_or("").to_string();
        let (kind, body) = EntryKind::StepStarted {
            runbook: runbook.to_string(),
            step: step.to_string(),
            pid: std::process::id(),
            host,
            start: crate::process::stat_of(std::process::id()).map(|s| s.start),
        }
        .to_journal();
        let me = (std::process::id(), host_of(&self.o.actor).to_string());
        // Who runs the step now, if anyone: `Ok(())` if it is this process (a claim written
        // whose fsync failed and was retried), `Err(why)` if another.
        let running_in = |entries: &[JournalEntry]| -> Option<Result<(), String>> {
            let steps = Steps::of_journal(entries);
            let c = steps.get(runbook, step).and_then(|r| r.running.clone())?;
            if c.pid == me.0 && c.host == me.1 {
                return Some(Ok(()));
            }
            // A claim of a process of this host that is gone runs nothing (the recorder
            // releases it where it is followed; elsewhere it is only history).
            if c.host == me.1 && !claim_alive(&c) {
                return None;
            }
            Some(Err(format!(
                "already running: started by {} (pid {} on {})",
                c.actor, c.pid, c.host
            )))
        };
        // A new incident another console declared a moment ago is where the claim belongs:
        // not the watch log this console has not yet left.
        if self.o.mode != Mode::Drill && self.incident.is_none() {
            self.checked = None;
            if let Some(open) = self.open_incident() {
                self.follow_incident(open);
            }
        }
        let path = match (&self.incident, &self.watch) {
            (Some(p), _) => p.clone(),
            (None, Watch::File(p)) => p.clone(),
            (None, Watch::Memory(v)) => {
                if let Some(found) = running_in(v) {
                    self.send(match found {
                        Ok(()) => answer(true, None),
                        Err(why) => answer(false, Some(why)),
                    });
                    return Ok(());
                }
                let (seq, prev) = v
                    .last()
                    .map(|e| (e.seq + 1, e.hash.clone()))
                    .unwrap_or((1, GENESIS.to_string()));
                let e = JournalEntry::seal(seq, at, self.o.actor.clone(), kind, body, &prev);
                if let Watch::Memory(v) = &mut self.watch {
                    v.push(e.clone());
                }
                self.send(JournalEvent::Appended(vec![e]));
                self.send(answer(true, None));
                return Ok(());
            }
        };
        if let Some((_, why)) = self.tampered.as_ref().filter(|(p, _)| *p == path) {
            if break_glass.is_none() {
                self.send(answer(
                    false,
                    Some(format!(
                        "no step can be claimed in this journal: {why}; type `break glass: <reason>` in the step's dialog to run it anyway"
                    )),
                ));
                return Ok(());
            }
            // Broken glass: no line can be the lock here (every console refuses claims in
            // this file, so none races this one on it). The claim is held with the other
            // entries and written, after the confirmation that carries the reason, in the
            // continuation.
            tracing::warn!("break glass: {runbook}/{step} runs while {why}");
            self.pending.push_back(Request::Append(Wanted {
                at,
                kind: EntryKind::StepStarted {
                    runbook: runbook.to_string(),
                    step: step.to_string(),
                    pid: std::process::id(),
                    host: host_of(&self.o.actor).to_string(),
                    start: crate::process::stat_of(std::process::id()).map(|s| s.start),
                },
            }));
            self.send(answer(true, None));
            return Ok(());
        }
        self.guard(&path)?;
        // A claim made in another source still runs: in the watch log before the incident was
        // declared, or in the incident just resolved (its consoles went back to the watch log).
        for other in self.other_sources(&path) {
            if let Ok(loaded) = load(&other)
                && let Some(found) = running_in(&loaded.entries)
            {
                self.send(match found {
                    Ok(()) => answer(true, None),
                    Err(why) => answer(false, Some(why)),
                });
                return Ok(());
            }
        }
        let journal = Journal::open(&path)
            .map_err(|e| describe(&e))?
            .with_actor(self.o.actor.clone());
        // Another console may append between our read and our write: then read again.
        for _ in 0..20 {
            let loaded = load(&path).map_err(|e| describe(&e))?;
            if let Some(found) = running_in(&loaded.entries) {
                self.send(match found {
                    Ok(()) => answer(true, None),
                    Err(why) => answer(false, Some(why)),
                });
                return Ok(());
            }
            let last = loaded.entries.last().map_or(0, |e| e.seq);
            match journal.append_if(last, &kind, body.clone(), at) {
                Ok(_) => {
                    self.poll_now();
                    self.send(answer(true, None));
                    return Ok(());
                }
                Err(JournalError::Conflict { .. }) => continue,
                Err(e) => return Err(describe(&e)),
            }
        }
        self.send(answer(
            false,
            Some("the journal kept changing: try again".into()),
        ));
        Ok(())
    }

    /// The journals other than `target` where a claim of a step could still run: the watch
    /// log (claiming in an incident), or the newest incident if it is resolved (claiming in
    /// the watch log).
    fn other_sources(&self, target: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if let Watch::File(w) = &self.watch
            && w != target
            && w.exists()
        {
            out.push(w.clone());
        }
        if let Some(last) = latest(&self.incidents)
            && last != target
        {
            out.push(last);
        }
        out
    }

    fn poll_now(&mut self) {
        let Some(path) = self.followed.path.clone() else {
            return;
        };
        self.take_new_lines(&path);
    }

    fn declare(
        &mut self,
        title: &str,
        level: DrLevel,
        status: IncidentStatus,
        at: Timestamp,
    ) -> Result<(), String> {
        if self.o.mode == Mode::Observer {
            return Ok(());
        }
        // One declaration at a time on this host: two operators pressing `d` together get
        // one incident, and the second is told. Held while the watch log is copied: no line
        // is appended to it meanwhile.
        let lock = self.declare_lock(FlockArg::LockExclusive)?;
        if self.o.mode != Mode::Drill {
            self.checked = None;
            if let Some(open) = self.open_incident() {
                // Told after the lock is released: a console slow to take the news must not
                // hold up another's declaration.
                drop(lock);
                self.follow_incident(open.clone());
                self.set_problem(Some(format!(
                    "an incident is already open ({}): following it; nothing declared",
                    open.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                )));
                return Ok(());
            }
        }
        let watch = match &self.watch {
            Watch::Memory(v) => v.clone(),
            Watch::File(p) if p.exists() => {
                let p = p.clone();
                self.guard(&p)?;
                load(&p).map_err(|e| describe(&e))?.entries
            }
            Watch::File(_) => Vec::new(),
        };
        let first = first_failure(&watch);
        // The incident starts when the failure began, not when it was confirmed: a component's
        // state entry says since when its failing answers ran (`since`), before `at`.
        let started = first.map(|i| failure_began(&watch[i..])).unwrap_or(at);
        let mut path = self.incidents.join(incident_file_name(at, title));
        let mut n = 2;
        while path.exists() {
            path = self.incidents.join(format!(
                "{}-{n}.jsonl",
                incident_file_name(at, title).trim_end_matches(".jsonl")
            ));
            n += 1;
        }
        self.guard(&path)?;
        let journal = Journal::open(&path).map_err(|e| describe(&e))?;
        // Claims still running from before the first failure come along: the step shows as
        // running in the incident, and nobody can start it again there.
        let until = first.unwrap_or(watch.len());
        let before = Steps::of_journal(&watch[..until]);
        // A watch-log line copied in as it was written, marked with its place there.
        let copy = |e: &JournalEntry| -> Result<(), String> {
            let mut body = e.body.clone();
            body.insert(WATCH_SEQ.into(), Value::from(e.seq));
            journal
                .clone()
                .with_actor(e.actor.clone())
                .append(&e.kind, body, e.at)
                .map(|_| ())
                .map_err(|e| describe(&e))
        };
        for e in watch[..until].iter().filter(|e| e.kind == "step_started") {
            let runbook = e
                .body
                .get("runbook")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let step = e
                .body
                .get("step")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let pid = e.body.get("pid").and_then(Value::as_u64);
            let still = before
                .get(runbook, step)
                .and_then(|r| r.running.as_ref())
                .is_some_and(|c| Some(u64::from(c.pid)) == pid);
            if still {
                copy(e)?;
            }
        }
        if let Some(i) = first {
            for e in &watch[i..] {
                copy(e)?;
            }
        }
        let (kind, body) = EntryKind::Declared {
            title: title.to_string(),
            level,
            status,
            commander: self.o.actor.clone(),
            started,
        }
        .to_journal();
        journal
            .with_actor(self.o.actor.clone())
            .append(&kind, body, at)
            .map_err(|e| describe(&e))?;
        drop(lock);
        self.checked = None;
        self.follow_incident(path);
        Ok(())
    }
}

/// How many of a journal's newest lines a console keeps for its timeline; older ones are read
/// whole only if they shape the incident or a step (the others are checked, not built).
const KEEP: usize = crate::app::update::TIMELINE_CAP;

fn host_of(actor: &str) -> &str {
    actor.split('@').nth(1).unwrap_or("")
}

/// Whether a process of this host exists (EPERM: it does, owned by someone else).
/// Whether a claim of this host still runs something: its console (the same process, not a
/// zombie or a later process given its pid), or its `command` program's process group.
fn claim_alive(c: &Claim) -> bool {
    crate::process::process_alive(c.pid, c.start)
        || c.group
            .is_some_and(|g| crate::process::group_alive(g.pgid, g.start))
}

/// How long a program past its timeout has after SIGTERM before SIGKILL.
const GROUP_KILL_GRACE: Duration = Duration::from_secs(10);

/// Who holds the recorder's lock, as its holder wrote it in the file; a holder that has not
/// written its name yet still records.
fn holder_of(lock: &Path) -> String {
    std::fs::read_to_string(lock)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "another console".into())
}
