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

mod claim;
mod declare;
mod follow;
mod outbox;
mod pager;
mod recorder;
mod step_log;

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
    /// Read the entries `from..=to` of the followed journal back for the timeline (answered
    /// by [`JournalEvent::Earlier`]; nothing is written).
    ReadEarlier { source: Source, from: u64, to: u64 },
    /// Read the newest lines of a step's log for the viewer (answered by
    /// [`JournalEvent::StepLog`]; nothing is written).
    ReadStepLog { path: String },
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
    /// Reads earlier pages of the timeline, once one is asked for.
    pager: Option<pager::Pager>,
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
            pager: None,
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
                | Request::ReadEarlier { .. }
                | Request::ReadStepLog { .. }
                | Request::Continue { .. } => {}
            }
        }
        left
    }

    /// A request: queued to be written, or (stepping aside) done at once.
    fn take(&mut self, r: Request) {
        match r {
            Request::StepAside { for_ } => self.step_aside(for_),
            Request::ReadEarlier { source, from, to } => self.read_earlier(source, from, to),
            Request::ReadStepLog { path } => self.read_step_log(path),
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
}

/// How many of a journal's newest lines a console keeps for its timeline; older ones are read
/// whole only if they shape the incident or a step (the others are checked, not built).
const KEEP: usize = crate::app::update::TIMELINE_CAP;
