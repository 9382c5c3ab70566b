//! The recorder: who holds `recorder.lock`, the watch log's rollover, and writing what the
//! model asked to be written (held while it cannot be).

use super::claim::holder_of;
use super::*;

impl KeeperState {
    /// The recorder rolls the watch log over when it has grown past its limit (checked at
    /// most once a minute). Under the watch log's own lock, so no append is cut in two; the
    /// followers see a new file and read it anew.
    pub(super) fn roll_watch(&mut self) {
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
    pub(super) fn roll_watch_to(&mut self, path: &Path, rolled: &Path) -> Result<(), String> {
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

    pub(super) fn lock_path(&self) -> PathBuf {
        self.o.dir.join("recorder.lock")
    }

    /// Lets go of the recorder's lock (the kernel hands it to whichever console asks next) and
    /// keeps from taking it again for `for_`. Only an operator console holds it.
    pub(super) fn step_aside(&mut self, for_: Duration) {
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

    pub(super) fn try_recorder(&mut self) {
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
    pub(super) fn watch_recorder(&mut self) {
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

    pub(super) fn tell_holder(&mut self, holder: Option<String>) {
        if self.last_holder.as_ref() != Some(&holder) {
            self.last_holder = Some(holder.clone());
            self.send(JournalEvent::Recorder { me: false, holder });
        }
    }

    // ------------------------------------------------------------ writing

    pub(super) fn write_pending(&mut self) {
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
                Request::StepAside { .. }
                | Request::ReadEarlier { .. }
                | Request::ReadStepLog { .. }
                | Request::Continue { .. } => Ok(()),
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

    pub(super) fn append(&mut self, w: &Wanted) -> Result<(), String> {
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
    pub(super) fn append_to(
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
}
