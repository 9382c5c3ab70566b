//! Declaring an incident from the watch log, and continuing a tampered journal in a new
//! file, both under `.declare.lock`.

use super::*;

impl KeeperState {
    /// Continues the tampered journal being followed: a new file whose first entry names the
    /// tampered one and its last verified entry (seq, hash) with the operator's reason; an
    /// incident's continuation carries its declaration, its latest status and the claims still
    /// running, so every console follows it as the incident. The tampered file stays as it is,
    /// as evidence. Nothing happens if the followed journal is not tampered.
    pub(super) fn continue_journal(&mut self, reason: &str, at: Timestamp) -> Result<(), String> {
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
                EntryKind::from_journal(&e.kind, &e.body),
                Some(
                    EntryKind::StepStarted { .. }
                        | EntryKind::StepProcess { .. }
                        | EntryKind::StepAdopted { .. }
                )
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
    pub(super) fn declare_lock_trusted(&mut self) -> bool {
        let incidents = self.incidents.clone();
        self.guard(&incidents).is_ok() && self.guard(&incidents.join(".declare.lock")).is_ok()
    }

    /// `incidents/.declare.lock`: exclusive while an incident is declared, shared while a line
    /// is appended to the watch log.
    pub(super) fn declare_lock(&mut self, arg: FlockArg) -> Result<Flock<File>, String> {
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

    pub(super) fn declare(
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
        // The new journal's lines, written at once (one fsync, however long the episode).
        let mut lines = Vec::new();
        // A watch-log line copied in as it was written, marked with its place there.
        let mut copy = |e: &JournalEntry| {
            let mut body = e.body.clone();
            body.insert(WATCH_SEQ.into(), Value::from(e.seq));
            lines.push((e.actor.clone(), e.kind.clone(), body, e.at));
        };
        for e in watch[..until].iter().filter(|e| {
            matches!(
                EntryKind::from_journal(&e.kind, &e.body),
                Some(EntryKind::StepStarted { .. })
            )
        }) {
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
                copy(e);
            }
        }
        if let Some(i) = first {
            for e in &watch[i..] {
                copy(e);
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
        lines.push((self.o.actor.clone(), kind, body, at));
        journal.append_all(lines).map_err(|e| describe(&e))?;
        drop(lock);
        self.checked = None;
        self.follow_incident(path);
        Ok(())
    }
}
