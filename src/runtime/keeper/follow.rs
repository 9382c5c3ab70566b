//! Following the journal: the watch log or the open incident, new lines as they land, the
//! comms lines of the incident just resolved, and what is trusted, tampered or unsafe.

use super::*;

impl KeeperState {
    pub(super) fn follow_watch(&mut self) {
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

    pub(super) fn follow_incident(&mut self, path: PathBuf) {
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
    pub(super) fn reload(&mut self, path: &Path) -> Vec<JournalEntry> {
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
        // The entry this account saw last is kept too: a journal rewritten since says so.
        let seen_seq = self
            .seen
            .as_ref()
            .and_then(|book| book.get(path))
            .map(|seen| seen.seq);
        match load_verified_keeping(path, KEEP, &|head| {
            crate::app::incident::shapes_incident(&head.kind)
                || is_step_kind(&head.kind)
                || crate::app::comms::is_comms_kind(&head.kind)
                || Some(head.seq) == seen_seq
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

    pub(super) fn poll(&mut self) {
        self.follow_new_lines();
        self.follow_comms_tail();
        if self.o.mode == Mode::Operator {
            // After reading the newest lines: a claim finished a moment ago is not released.
            self.release_dead_claims();
        }
    }

    pub(super) fn follow_new_lines(&mut self) {
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
    pub(super) fn take_new_lines(&mut self, path: &Path) {
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
    pub(super) fn follow_comms_tail(&mut self) {
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

    pub(super) fn reset_current(&mut self) {
        match (&self.source, self.followed.path.clone()) {
            (Source::Incident { .. }, Some(p)) => self.follow_incident(p),
            _ => self.follow_watch(),
        }
    }

    /// The newest incident file, if it is still open. Re-read only when it changed.
    pub(super) fn open_incident(&mut self) -> Option<PathBuf> {
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
        let open = crate::journal::load_only(&path, 0, &|h| {
            crate::app::incident::shapes_incident(&h.kind)
        })
        .is_ok_and(|l| l.entries.iter().any(|e| e.kind == "declared") && !resolved(&l.entries));
        self.checked = Some((path.clone(), len, open));
        open.then_some(path)
    }

    /// Whether what this account saw of an incident journal contradicts it now.
    pub(super) fn seen_contradicts(
        &self,
        path: &Path,
        len: u64,
        entries: &[JournalEntry],
    ) -> Option<String> {
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
    pub(super) fn is_incident_file(&self, path: &Path) -> bool {
        path.parent() == Some(self.incidents.as_path())
    }

    /// Records how far the followed incident journal was read and verified; written at most
    /// every few seconds (and when the console ends).
    pub(super) fn note_seen(&mut self, path: &Path) {
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
    pub(super) fn is_tampered(&self, path: &Path) -> bool {
        self.tampered.as_ref().is_some_and(|(p, _)| p == path)
    }

    /// The followed journal is not what it was: `JOURNAL TAMPERED` on this console's screen
    /// (every console following it finds the same), said in the log; no more appends to it.
    pub(super) fn mark_tampered(&mut self, path: &Path, why: String) {
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
    pub(super) fn guard(&mut self, path: &Path) -> Result<(), String> {
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
    pub(super) fn mark_unsafe(&mut self, path: &Path, why: String) -> String {
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
    pub(super) fn record_unsafe(&mut self) {
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

    pub(super) fn set_problem(&mut self, p: Option<String>) {
        self.other_problem = p;
        self.refresh_problem();
    }

    /// Tells the screen the sticky problems and the problem of the moment, if that changed.
    pub(super) fn refresh_problem(&mut self) {
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
}
