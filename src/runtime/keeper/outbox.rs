//! The comms lines: updates queued to the outbox and journaled, and what the outbox worker
//! reports of their delivery.

use super::*;

impl KeeperState {
    /// The comms requests, in order: one that fails is tried again at the next poll (the ones
    /// after it wait: an update's deliveries and outcomes keep their order); one whose journal
    /// is gone is said once and dropped (the outbox keeps what it can).
    pub(super) fn write_comms(&mut self) {
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

    /// Lines this keeper wrote to a journal: read back from the followed file, or told as
    /// comms lines when they went to another (the incident just resolved).
    pub(super) fn wrote(&mut self, journal: &str, lines: Vec<JournalEntry>) {
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

    pub(super) fn post(
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

    pub(super) fn delivery(
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

    pub(super) fn commit(
        &mut self,
        d: &comms::outbox::OutboxItem,
    ) -> Result<(), comms::record::RecordError> {
        if self.o.mode == Mode::Observer {
            return Ok(());
        }
        let lines = comms::record::commit_staged(&self.incidents, d, &self.o.actor)?;
        self.wrote(&d.journal, lines);
        Ok(())
    }
}
