//! The outbox worker: one task per channel that delivers what the outbox holds, in order,
//! with backoff, honouring `Retry-After`, and never posting an update twice after a crash
//! (a send whose answer was not recorded is looked for on the far side before it is sent
//! again). It only reports; the journal keeper journals (see [`crate::comms::record`]).
//!
//! Each (incident, channel) is delivered by the one console holding its outbox lock; the
//! others wait, and one of them takes over when it goes, where it left off.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jiff::SignedDuration;
use nix::fcntl::Flock;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::app::message::Channel;
use tokio::time::Instant;

use crate::clock::Clock;
use crate::comms::outbox::{Attempt, Failed, Outbox, Pending, Sent};
use crate::comms::record::{DeliveryReport, Outcomes};
use crate::comms::sink::{Context, SendError, Sink};
use crate::journal::trust::Team;
use crate::runtime::keeper::Request;

/// How often the outbox is looked at.
pub const POLL: Duration = Duration::from_millis(500);
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// A staged delivery older than this was left by a console that ended half-way.
const STAGED_LEFT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct OutboxOptions {
    /// The incidents directory whose outboxes are delivered (`incidents/`, or a drill's).
    pub incidents: PathBuf,
    /// "user@host pid N": who makes the attempts.
    pub me: String,
    pub poll: Duration,
    /// The first wait after a failure (doubled each time, up to [`MAX_BACKOFF`]).
    pub first_backoff: Duration,
    /// `[console] operators`: whose `comms_queued` lines vouch for a delivery (empty: any
    /// member of the journal group). See [`crate::journal::trust`].
    pub operators: Vec<String>,
    /// `[comms] give_up_after`: an update tried and still not delivered this long after it
    /// was queued is given up, so that the ones behind it go on.
    pub give_up_after: Duration,
}

impl OutboxOptions {
    pub fn new(incidents: PathBuf) -> OutboxOptions {
        OutboxOptions {
            incidents,
            me: format!("{} pid {}", crate::journal::actor(), std::process::id()),
            poll: POLL,
            first_backoff: Duration::from_secs(1),
            operators: Vec::new(),
            give_up_after: crate::config::GIVE_UP_AFTER,
        }
    }

    /// The journal dir these outboxes are in: above `incidents/` (and a drill's `drills/`).
    fn journal_dir(&self) -> PathBuf {
        let up = self.incidents.parent().unwrap_or(&self.incidents);
        if self.incidents.file_name().is_some_and(|n| n == "drills") {
            up.parent().unwrap_or(up).to_path_buf()
        } else {
            up.to_path_buf()
        }
    }

    /// The team of the journal dir, if it is there and its top is trusted.
    fn team(&self) -> Result<Team, String> {
        Team::of(&self.journal_dir(), &self.operators).map_err(|e| e.to_string())
    }
}

/// Why what is at `path` may not be used: `JOURNAL UNSAFE: ...`.
fn untrusted(team: &Result<Team, String>, path: &std::path::Path) -> Option<String> {
    match team {
        Err(why) => Some(why.clone()),
        Ok(t) => match t.check(path) {
            Err(e) if e.is_unsafe() => Some(e.to_string()),
            _ => None,
        },
    }
}

/// The running worker.
pub struct Worker {
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    /// Deliveries this worker holds the lock of and has not delivered yet.
    waiting: Arc<AtomicUsize>,
}

impl Worker {
    /// Starts one task per sink. `problems` hears what the operator must know about the
    /// outbox (`None` once it is over).
    pub fn start(
        options: OutboxOptions,
        sinks: Vec<Arc<dyn Sink>>,
        requests: std::sync::mpsc::Sender<Request>,
        clock: Arc<dyn Clock>,
        problems: mpsc::Sender<(Channel, Option<String>)>,
    ) -> Worker {
        let (stop, stopped) = watch::channel(false);
        let waiting = Arc::new(AtomicUsize::new(0));
        let tasks = sinks
            .into_iter()
            .map(|sink| {
                let run = ChannelWorker {
                    o: options.clone(),
                    sink,
                    requests: requests.clone(),
                    clock: clock.clone(),
                    problems: problems.clone(),
                    locks: HashMap::new(),
                    backoff: HashMap::new(),
                    told: HashSet::new(),
                    problem: None,
                    waiting: waiting.clone(),
                    mine: 0,
                    stepped_aside: HashMap::new(),
                    vouched: HashMap::new(),
                };
                tokio::spawn(run.run(stopped.clone()))
            })
            .collect();
        Worker {
            tasks,
            stop,
            waiting,
        }
    }

    /// Deliveries this console is delivering (it holds their lock) and has not yet delivered.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Stops the tasks (an attempt under way is abandoned: its marker makes the next worker
    /// look before sending again).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

struct Backoff {
    failures: u32,
    next: Instant,
    last_reason: String,
}

/// One channel's deliverer.
struct ChannelWorker {
    o: OutboxOptions,
    sink: Arc<dyn Sink>,
    requests: std::sync::mpsc::Sender<Request>,
    clock: Arc<dyn Clock>,
    problems: mpsc::Sender<(Channel, Option<String>)>,
    locks: HashMap<PathBuf, Flock<File>>,
    backoff: HashMap<String, Backoff>,
    /// Outcomes already handed to the keeper by this process.
    told: HashSet<String>,
    problem: Option<String>,
    waiting: Arc<AtomicUsize>,
    /// This task's share of `waiting`.
    mine: usize,
    /// Outboxes this console let go of (it cannot send their updates), until when.
    stepped_aside: HashMap<PathBuf, Instant>,
    /// What each incident journal queued (id, channel, update hash), as of its length.
    vouched: HashMap<PathBuf, (u64, Queued)>,
}

/// A journal's `comms_queued` lines: (id, channel, update hash).
type Queued = Vec<(String, String, Option<String>)>;

/// The `comms_queued` lines of a journal written by an operator: (id, channel, update hash).
fn queued_lines(journal: &std::path::Path, team: &Result<Team, String>) -> Queued {
    let Ok(team) = team else {
        return Vec::new();
    };
    let Ok(loaded) = crate::journal::load_only(journal, 0, &|h| h.kind == "comms_queued") else {
        return Vec::new();
    };
    let text = |e: &crate::journal::JournalEntry, k: &str| {
        e.body.get(k).and_then(|v| v.as_str()).map(str::to_string)
    };
    loaded
        .entries
        .iter()
        .filter(|e| e.kind == "comms_queued" && team.is_operator_actor(&e.actor))
        .filter_map(|e| Some((text(e, "id")?, text(e, "channel")?, text(e, "body"))))
        .collect()
}

impl ChannelWorker {
    async fn run(mut self, mut stopped: watch::Receiver<bool>) {
        use futures_util::FutureExt;
        let channel = self.sink.channel().as_str();
        loop {
            // A stop abandons a round under way: a send cut short leaves its attempt marker,
            // and the next worker looks before sending it again.
            let round = std::panic::AssertUnwindSafe(self.round()).catch_unwind();
            let problem = tokio::select! {
                _ = stopped.changed() => break,
                r = round => match r {
                    Ok(p) => p,
                    // A bug must not end the deliveries of this channel silently.
                    Err(_) => Some(format!(
                        "the {channel} outbox worker failed on a delivery (a bug: see the log); it goes on"
                    )),
                },
            };
            if problem != self.problem {
                self.problem = problem.clone();
                let _ = self.problems.send((self.sink.channel(), problem)).await;
            }
            tokio::select! {
                _ = stopped.changed() => break,
                _ = tokio::time::sleep(self.o.poll) => {}
            }
            if *stopped.borrow() {
                break;
            }
        }
        self.set_waiting(0);
    }

    fn set_waiting(&mut self, n: usize) {
        if n >= self.mine {
            self.waiting.fetch_add(n - self.mine, Ordering::Relaxed);
        } else {
            self.waiting.fetch_sub(self.mine - n, Ordering::Relaxed);
        }
        self.mine = n;
    }

    fn tell(&mut self, name: &str, what: DeliveryReport) {
        // A keeper that has gone cannot take it: the outbox still says, the next worker tells.
        let _ = self.requests.send(Request::Delivery(Box::new(what)));
        self.told.insert(name.to_string());
    }

    fn outcome(&self, outbox: &Outbox, p: &Pending, what: Outcomes, check: bool) -> DeliveryReport {
        DeliveryReport {
            journal: outbox.journal(),
            name: p.name.clone(),
            id: p.delivery.id.clone(),
            channel: p.delivery.channel,
            at: self.clock.now(),
            what,
            check,
        }
    }

    /// One look at every outbox; what the operator must know about it, if anything.
    async fn round(&mut self) -> Option<String> {
        let channel = self.sink.channel();
        let mut problem = None;
        let mut waiting = 0;
        // Reading directories off the runtime's threads: a stalled volume must not stall the
        // console.
        let incidents = self.o.incidents.clone();
        let options = self.o.clone();
        let (scanned, unsafe_outboxes) = tokio::task::spawn_blocking(move || {
            // An outbox others could write to is never read, written or delivered: anything
            // in it could be planted.
            let team = options.team();
            let mut unsafe_outboxes = Vec::new();
            let scanned = Outbox::all(&incidents)
                .into_iter()
                .filter(|o| {
                    let why = ["", "pending", "staged", "sent", "rejected"]
                        .iter()
                        .find_map(|sub| untrusted(&team, &o.dir().join(sub)));
                    unsafe_outboxes.extend(why.clone());
                    why.is_none()
                })
                .map(|o| {
                    let (pending, bad) = o.pending(Some(channel));
                    let (staged, _) = o.staged();
                    (o, pending, bad, staged)
                })
                .collect::<Vec<_>>();
            (scanned, unsafe_outboxes)
        })
        .await
        .unwrap_or_default();
        if let Some(why) = unsafe_outboxes.first() {
            if self.told.insert(format!("unsafe {why}")) {
                tracing::error!("outbox: {why}: nothing in it is delivered");
            }
            problem = Some(format!("{why}: nothing in it is delivered"));
        }
        let newest = crate::journal::latest(&self.o.incidents);
        let mut earlier_waiting: Vec<(String, usize)> = Vec::new();
        for (outbox, pending, bad, staged) in scanned {
            if let Some(b) = bad.first() {
                problem = Some(format!(
                    "outbox: {} (left where it is; {} file(s) unreadable)",
                    b.why,
                    bad.len()
                ));
            }
            let left: Vec<_> = staged
                .into_iter()
                .filter(|d| d.channel == channel)
                .filter(|d| {
                    let age = self.clock.now().duration_since(d.queued_at);
                    age > SignedDuration::try_from(STAGED_LEFT).unwrap_or_default()
                })
                .collect();
            if pending.is_empty() && left.is_empty() {
                self.locks.remove(outbox.dir());
                continue;
            }
            // Let go because this console cannot send them: another console gets its chance
            // before this one takes the outbox back.
            if self
                .stepped_aside
                .get(outbox.dir())
                .is_some_and(|until| *until > Instant::now())
            {
                continue;
            }
            if !self.locks.contains_key(outbox.dir()) {
                match outbox.try_lock(channel) {
                    Some(l) => {
                        self.locks.insert(outbox.dir().to_path_buf(), l);
                    }
                    // Another console delivers this incident's updates.
                    None => continue,
                }
            }
            for d in left {
                let name = d.name();
                if self.told.insert(format!("commit {name}")) {
                    let _ = self.requests.send(Request::Commit(Box::new(d)));
                }
            }
            // Outcomes recorded in the outbox but maybe not in the journal (a console ended
            // in between): handed to the keeper, which writes what the journal lacks.
            for p in &pending {
                if self.told.contains(&p.name) {
                    continue;
                }
                if let Some(s) = &p.sent {
                    let what = Outcomes::Sent {
                        remote: s.remote.clone(),
                        simulated: p.delivery.simulated,
                        found: s.found,
                    };
                    let o = self.outcome(&outbox, p, what, true);
                    self.tell(&p.name.clone(), o);
                } else if let Some(f) = &p.failed {
                    let what = Outcomes::Failed {
                        reason: f.reason.clone(),
                        gave_up: true,
                        retry_in: None,
                    };
                    let o = self.outcome(&outbox, p, what, true);
                    self.tell(&p.name.clone(), o);
                }
            }
            let open: Vec<&Pending> = pending
                .iter()
                .filter(|p| p.sent.is_none() && p.failed.is_none())
                .collect();
            waiting += open.len();
            // Updates of an incident no longer the newest: its consoles may not show them.
            if !open.is_empty()
                && newest
                    .as_ref()
                    .and_then(|n| n.file_name())
                    .is_none_or(|n| n.to_string_lossy() != outbox.journal())
            {
                earlier_waiting.push((outbox.journal(), open.len()));
            }
            // Counted before the send: a console ending (SIGHUP) waits for a delivery in flight.
            self.set_waiting(waiting.max(self.mine));
            // Only what the incident's journal queued is delivered: a file put in `pending/`
            // by anything else is set aside, said and journaled, never sent.
            if let Some(next) = open.first()
                && let Some(why) = self.unvouched(&outbox, next).await
            {
                tracing::error!("outbox {}: {why}", outbox.dir().display());
                if let Err(e) = outbox.reject(&next.name, &why) {
                    problem = Some(format!("outbox: cannot set aside {}: {e}", next.name));
                    continue;
                }
                let _ = self.requests.send(Request::Append(crate::app::Entry {
                    at: self.clock.now(),
                    kind: crate::app::EntryKind::CommsFailed {
                        id: next.delivery.id.clone(),
                        channel,
                        reason: why.clone(),
                        gave_up: true,
                        retry_in: None,
                    },
                }));
                problem = Some(why);
                continue;
            }
            // In order: a later update never overtakes an earlier one (the thread, the page).
            if let Some(next) = open.first()
                && let Some(p) = self.deliver(&outbox, next).await
            {
                problem = Some(p);
            }
        }
        self.set_waiting(waiting);
        if problem.is_none()
            && let Some((journal, n)) = earlier_waiting.first()
        {
            problem = Some(format!(
                "{n} update(s) of the earlier incident {} still waiting to be delivered",
                journal.trim_end_matches(".jsonl")
            ));
        }
        problem
    }

    /// Why `p` may not be delivered: its incident's journal has no `comms_queued` line for it
    /// (same id, channel and SHA-256 of the update; a line from before the hash was written
    /// matches on id and channel). `None`: it was queued there.
    async fn unvouched(&mut self, outbox: &Outbox, p: &Pending) -> Option<String> {
        let journal = self.o.incidents.join(outbox.journal());
        // The delivery file and the journal that vouches for it must both be the team's:
        // looked at off the runtime's threads (file system and account lookups may stall).
        let (options, file, path) = (
            self.o.clone(),
            outbox.dir().join("pending").join(&p.name),
            journal.clone(),
        );
        let looked = tokio::task::spawn_blocking(move || {
            let team = options.team();
            let why = untrusted(&team, &file).or_else(|| untrusted(&team, &path));
            let len = std::fs::metadata(&path).map(|m| m.len()).ok();
            (team, why, len)
        })
        .await;
        let (team, len) = match looked {
            Ok((_, Some(why), _)) => {
                return Some(format!(
                    "rejected {}: {why}: not sent; it is in rejected/",
                    p.name
                ));
            }
            Ok((team, None, len)) => (team, len),
            // The check itself failed (a bug): nothing is delivered unchecked.
            Err(_) => {
                return Some(format!(
                    "rejected {}: the trust check failed (a bug: see the log): not sent; it is in rejected/",
                    p.name
                ));
            }
        };
        let fresh = matches!(
            (self.vouched.get(&journal), len),
            (Some((l, _)), Some(len)) if *l == len
        );
        if !fresh {
            let path = journal.clone();
            let queued = tokio::task::spawn_blocking(move || queued_lines(&path, &team))
                .await
                .unwrap_or_default();
            self.vouched
                .insert(journal.clone(), (len.unwrap_or(0), queued));
        }
        let queued = &self.vouched.get(&journal)?.1;
        let channel = p.delivery.channel.as_str();
        let hash = crate::comms::record::update_hash(&p.delivery.update);
        let matches = queued.iter().any(|(id, ch, body)| {
            *id == p.delivery.id && ch == channel && body.as_ref().is_none_or(|b| *b == hash)
        });
        (!matches).then(|| {
            format!(
                "rejected {}: {} has no comms_queued line for it (id {}, {channel}, this text): not sent; it is in rejected/",
                p.name,
                outbox.journal(),
                p.delivery.id
            )
        })
    }

    /// Delivers `p` if its time has come; a problem to show if it cannot be delivered at all.
    async fn deliver(&mut self, outbox: &Outbox, p: &Pending) -> Option<String> {
        if p.delivery.simulated != self.sink.simulated() {
            // Two walls: a drill's update never reaches a real channel, and a real one never
            // vanishes into a drill's sink.
            return Some(format!(
                "outbox {}: {} is {} but this console's {} sink is {}: not sent",
                outbox.dir().display(),
                p.name,
                if p.delivery.simulated {
                    "a drill's"
                } else {
                    "real"
                },
                self.sink.channel().as_str(),
                if self.sink.simulated() {
                    "simulated"
                } else {
                    "real"
                },
            ));
        }
        // Tried, and still not delivered long after it was queued: given up, so that the
        // updates behind it go on (never one that was not tried: a console that was away
        // tries it once first; one whose last send got no answer is looked for first).
        let age = self.clock.now().duration_since(p.delivery.queued_at);
        let overdue = self.backoff.contains_key(&p.name)
            && age > SignedDuration::try_from(self.o.give_up_after).unwrap_or_default();
        if overdue && p.attempt.is_none() {
            return self.give_up_overdue(outbox, p, "");
        }
        if self
            .backoff
            .get(&p.name)
            .is_some_and(|b| b.next > Instant::now())
        {
            return None;
        }
        let mut ctx = context(outbox, p);
        if let Some(a) = &p.attempt {
            // Sent before without an answer recorded: did it arrive?
            ctx.attempt_at = Some(a.at);
            match self.sink.find(&p.delivery, &ctx).await {
                Ok(Some(remote)) => {
                    let sent = Sent {
                        at: self.clock.now(),
                        remote: Some(remote.clone()),
                        found: true,
                    };
                    if let Err(e) = outbox.mark_sent(&p.name, &sent) {
                        return Some(e.to_string());
                    }
                    let what = Outcomes::Sent {
                        remote: Some(remote),
                        simulated: p.delivery.simulated,
                        found: true,
                    };
                    let o = self.outcome(outbox, p, what, true);
                    self.tell(&p.name, o);
                    self.backoff.remove(&p.name);
                    return None;
                }
                // Not there: overdue, it is given up rather than sent again.
                Ok(None) if overdue => {
                    let _ = outbox.clear_attempt(&p.name);
                    return self.give_up_overdue(outbox, p, "");
                }
                Ok(None) => {}
                Err(SendError::Retry { .. } | SendError::Unknown { .. }) if overdue => {
                    let _ = outbox.clear_attempt(&p.name);
                    return self.give_up_overdue(
                        outbox,
                        p,
                        " (its last send got no answer and could not be looked for: it may have arrived — look in the channel)",
                    );
                }
                Err(SendError::Refused { reason }) => {
                    let reason = format!(
                        "in doubt: a send started at {} got no recorded answer, and it could not be checked ({reason}): not sent again — look in the channel and send it again if it is missing",
                        a.at.strftime("%H:%M:%SZ")
                    );
                    return self.give_up(outbox, p, reason);
                }
                Err(e @ SendError::Retry { .. }) => {
                    self.failed(outbox, p, &e);
                    return None;
                }
                Err(SendError::Unknown { reason }) => {
                    return self.unknown(outbox, p, reason);
                }
                Err(SendError::NotHere { reason }) => {
                    return self.not_here(outbox, p, reason);
                }
            }
        }
        let n = p.attempt.as_ref().map_or(0, |a| a.n) + 1;
        let attempt = Attempt {
            n,
            at: self.clock.now(),
            by: self.o.me.clone(),
        };
        if let Err(e) = outbox.mark_attempt(&p.name, &attempt) {
            // Without the marker a crash could post it twice: not sent.
            return Some(format!("outbox: {e}: not sent"));
        }
        match self.sink.deliver(&p.delivery, &ctx).await {
            Ok(done) => {
                let sent = Sent {
                    at: self.clock.now(),
                    remote: done.remote.clone(),
                    found: false,
                };
                if let Err(e) = outbox.mark_sent(&p.name, &sent) {
                    // Delivered, not recorded: the attempt marker makes the next look find it.
                    return Some(format!("outbox: {e}"));
                }
                let what = Outcomes::Sent {
                    remote: done.remote,
                    simulated: p.delivery.simulated,
                    found: false,
                };
                let o = self.outcome(outbox, p, what, false);
                self.tell(&p.name, o);
                self.backoff.remove(&p.name);
                None
            }
            Err(SendError::Refused { reason }) => {
                // Refused: it did not arrive.
                let _ = outbox.clear_attempt(&p.name);
                self.give_up(outbox, p, reason)
            }
            Err(e @ SendError::Retry { .. }) => {
                if let SendError::Retry {
                    maybe_arrived: false,
                    ..
                } = e
                {
                    let _ = outbox.clear_attempt(&p.name);
                }
                self.failed(outbox, p, &e);
                None
            }
            Err(SendError::Unknown { reason }) => self.unknown(outbox, p, reason),
            Err(SendError::NotHere { reason }) => {
                let _ = outbox.clear_attempt(&p.name);
                self.not_here(outbox, p, reason)
            }
        }
    }

    /// An answer the far side does not document: retried like a failure that may have
    /// arrived, and given up at the [`crate::comms::sink::UNKNOWN_ATTEMPTS`]th, so it never holds
    /// up the updates behind it for good.
    fn unknown(&mut self, outbox: &Outbox, p: &Pending, reason: String) -> Option<String> {
        let failures = self.backoff.get(&p.name).map_or(0, |b| b.failures) + 1;
        if failures >= crate::comms::sink::UNKNOWN_ATTEMPTS {
            let _ = outbox.clear_attempt(&p.name);
            return self.give_up(
                outbox,
                p,
                format!(
                    "{reason} (not an error Slack documents; given up after {failures} attempts)"
                ),
            );
        }
        let e = SendError::Retry {
            reason,
            after: None,
            maybe_arrived: true,
        };
        self.failed(outbox, p, &e);
        None
    }

    /// This console cannot send it (its secret is not here): it lets go of the outbox so that
    /// a console that can takes over, and says which console could not.
    fn not_here(&mut self, outbox: &Outbox, p: &Pending, reason: String) -> Option<String> {
        self.locks.remove(outbox.dir());
        let wait = self
            .o
            .first_backoff
            .saturating_mul(5)
            .max(Duration::from_secs(2));
        self.stepped_aside
            .insert(outbox.dir().to_path_buf(), Instant::now() + wait);
        let e = SendError::Retry {
            reason: format!("{reason} ({})", self.o.me),
            after: None,
            maybe_arrived: false,
        };
        self.failed(outbox, p, &e);
        None
    }

    /// Given up for time (`[comms] give_up_after`), saying the last failure.
    fn give_up_overdue(&mut self, outbox: &Outbox, p: &Pending, doubt: &str) -> Option<String> {
        let last = self
            .backoff
            .get(&p.name)
            .map(|b| format!("; last: {}", b.last_reason))
            .unwrap_or_default();
        let reason = format!(
            "not delivered {} after it was queued{last}: given up so the updates behind it go on{doubt}",
            crate::app::fmt::duration(self.o.give_up_after)
        );
        self.give_up(outbox, p, reason)
    }

    fn give_up(&mut self, outbox: &Outbox, p: &Pending, reason: String) -> Option<String> {
        let f = Failed {
            at: self.clock.now(),
            reason: reason.clone(),
        };
        if let Err(e) = outbox.mark_failed(&p.name, &f) {
            return Some(e.to_string());
        }
        let what = Outcomes::Failed {
            reason,
            gave_up: true,
            retry_in: None,
        };
        let o = self.outcome(outbox, p, what, false);
        self.tell(&p.name, o);
        self.backoff.remove(&p.name);
        None
    }

    /// A failed attempt: wait before the next, longer each time, at least what the far side
    /// asked; journaled at the 1st, 2nd, 4th, 8th… failure, or when the reason changes.
    fn failed(&mut self, outbox: &Outbox, p: &Pending, e: &SendError) {
        let SendError::Retry { reason, after, .. } = e else {
            return;
        };
        let b = self.backoff.entry(p.name.clone()).or_insert(Backoff {
            failures: 0,
            next: Instant::now(),
            last_reason: String::new(),
        });
        b.failures += 1;
        let doubled = self
            .o
            .first_backoff
            .saturating_mul(1 << (b.failures - 1).min(16));
        let mut wait = doubled.min(MAX_BACKOFF);
        if let Some(a) = after {
            wait = wait.max(*a);
        }
        // A little jitter, so consoles and channels do not retry in step.
        wait += Duration::from_millis(fastrand::u64(0..=wait.as_millis() as u64 / 10));
        b.next = Instant::now() + wait;
        let news = b.failures.is_power_of_two() || b.last_reason != *reason;
        b.last_reason = reason.clone();
        if news {
            let what = Outcomes::Failed {
                reason: reason.clone(),
                gave_up: false,
                retry_in: SignedDuration::try_from(wait).ok(),
            };
            let o = self.outcome(outbox, p, what, false);
            let _ = self.requests.send(Request::Delivery(Box::new(o)));
        }
    }
}

/// What the far side already has of this incident on this channel.
fn context(outbox: &Outbox, p: &Pending) -> Context {
    let sent = outbox.sent(p.delivery.channel);
    let before: Vec<_> = sent
        .into_iter()
        .filter(|(d, _)| d.name() < p.name)
        .collect();
    // Nothing arrived before, but an earlier one was given up: this one replaces it.
    let replaces = if before.is_empty() {
        outbox
            .given_up(p.delivery.channel)
            .into_iter()
            .find(|d| d.name() < p.name)
            .map(|d| crate::app::message::replaces_note(d.update.template, d.queued_at))
    } else {
        None
    };
    Context {
        first: before.first().cloned(),
        earlier: before.into_iter().map(|(d, _)| d.update).collect(),
        attempt_at: None,
        replaces,
    }
}
