//! Claims: a step is started once, by the console whose claim the journal granted; the
//! claims of consoles gone are released (their program groups stopped).

use super::*;

/// Whether a process of this host exists (EPERM: it does, owned by someone else).
/// Whether a claim of this host still runs something: its console (the same process, not a
/// zombie or a later process given its pid), or its `command` program's process group.
pub(super) fn claim_alive(c: &Claim) -> bool {
    crate::process::process_alive(c.pid, c.start)
        || c.group
            .is_some_and(|g| crate::process::group_alive(g.pgid, g.start))
}

/// How long a program past its timeout has after SIGTERM before SIGKILL.
pub(super) const GROUP_KILL_GRACE: Duration = Duration::from_secs(10);

/// Who holds the recorder's lock, as its holder wrote it in the file; a holder that has not
/// written its name yet still records.
pub(super) fn holder_of(lock: &Path) -> String {
    std::fs::read_to_string(lock)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "another console".into())
}

pub(super) fn host_of(actor: &str) -> &str {
    actor.split('@').nth(1).unwrap_or("")
}

impl KeeperState {
    /// Claims of this host whose console is gone, followed by the recorder (checked once a
    /// second): a claim whose `command` program still runs is adopted (journaled once), its
    /// group stopped at the step's timeout (SIGTERM, then SIGKILL 10 s later) if this account
    /// may; a claim with nothing left running is released, once, saying what is known: the
    /// step shows as interrupted — verify by hand.
    pub(super) fn release_dead_claims(&mut self) {
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
    pub(super) fn stop_group(
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

    /// A claim is answered now or never: retried later, it would start a step the operator
    /// may have given up on or done by hand.
    pub(super) fn answer_claim(&mut self, r: &Request) {
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

    pub(super) fn claim(
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
            if let Ok(loaded) = crate::journal::load_only(&other, 0, &|h| is_step_kind(&h.kind))
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
            // The steps' lines, and the newest line: the claim is written only after it.
            let loaded = crate::journal::load_only(&path, 1, &|h| is_step_kind(&h.kind))
                .map_err(|e| describe(&e))?;
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
    pub(super) fn other_sources(&self, target: &Path) -> Vec<PathBuf> {
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

    pub(super) fn poll_now(&mut self) {
        let Some(path) = self.followed.path.clone() else {
            return;
        };
        self.take_new_lines(&path);
    }
}
