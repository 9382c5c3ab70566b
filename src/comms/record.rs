//! Journal and outbox together: what the journal keeper does for comms, in the order that
//! makes a crash at any point safe.
//!
//! - queue: stage the delivery, journal `comms_queued`, move it to `pending/` (only then may
//!   the worker see it: nothing is sent before it is journaled);
//! - sent / failed: the worker has marked the outcome in the outbox; journal it, then move the
//!   delivery to `sent/` or `failed/`.
//!
//! Each step is repeatable: after a crash, the worker that takes the outbox over asks for
//! the steps left, with `check` set, and a line already in the journal is not written again.

use std::path::Path;

use jiff::{SignedDuration, Timestamp};

use super::message::{Channel, Outgoing};
use super::outbox::{Outbox, OutboxItem};
use crate::app::EntryKind;
use crate::journal::{Journal, JournalEntry, load};

/// Why a comms step could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The incident's journal is not there any more (moved, archived): trying again will not
    /// help. What the outbox holds was finished as far as it could be.
    #[error("{0}")]
    JournalGone(String),
    /// A write failed (the disk full, a permission): worth trying again.
    #[error("{0}")]
    Failed(String),
}

/// What the worker reports to be journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryReport {
    /// The incident journal's file name.
    pub journal: String,
    /// The delivery's name in the outbox.
    pub name: String,
    pub id: String,
    pub channel: Channel,
    pub at: Timestamp,
    pub what: Outcomes,
    /// Look in the journal first: after a crash the line may be there already.
    pub check: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcomes {
    Sent {
        remote: Option<String>,
        simulated: bool,
        found: bool,
    },
    Failed {
        reason: String,
        gave_up: bool,
        retry_in: Option<SignedDuration>,
    },
}

/// A new update id: unique across consoles and restarts (time, process, a counter), short
/// enough to be read out ("ref u3f9a2c71b0" in Slack).
pub fn new_id() -> String {
    use sha2::{Digest, Sha256};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let seed = format!(
        "{}/{}/{n}/{}",
        Timestamp::now().as_nanosecond(),
        std::process::id(),
        crate::journal::actor()
    );
    let digest = Sha256::digest(seed.as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    format!("u{hex}")
}

/// A place in the queue: the wall clock in nanoseconds, and always after the last one this
/// process gave (two updates queued in the same nanosecond, or a clock stepped back).
pub fn next_order() -> i128 {
    use std::sync::Mutex;
    static LAST: Mutex<i128> = Mutex::new(0);
    let now = Timestamp::now().as_nanosecond();
    match LAST.lock() {
        Ok(mut last) => {
            let next = now.max(*last + 1);
            *last = next;
            next
        }
        Err(_) => now,
    }
}

/// The deliveries of an update, one per channel it goes to, at `order` in the queue.
pub fn deliveries(
    out: &Outgoing,
    id: &str,
    order: i128,
    by: &str,
    simulated: bool,
) -> Vec<OutboxItem> {
    out.update
        .to
        .iter()
        .map(|channel| OutboxItem {
            id: id.to_string(),
            channel: *channel,
            journal: out.journal.clone(),
            queued_at: out.update.at,
            order,
            simulated,
            by: by.to_string(),
            update: out.update.clone(),
        })
        .collect()
}

fn queued_line(d: &OutboxItem) -> EntryKind {
    EntryKind::CommsQueued {
        id: d.id.clone(),
        channel: d.channel,
        template: d.update.template,
        summary: d.update.subject.clone(),
        status: Some(d.update.status),
        text: Some(d.update.text.clone()),
        simulated: d.simulated,
        body: Some(update_hash(&d.update)),
    }
}

/// SHA-256 (hex) of an update as it is kept in the outbox: what its `comms_queued` line
/// vouches for.
pub fn update_hash(update: &crate::app::message::Update) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(update).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn append(journal: &Journal, kind: &EntryKind, at: Timestamp) -> Result<JournalEntry, RecordError> {
    let (k, body) = kind.to_journal();
    journal
        .append(&k, body, at)
        .map_err(|e| RecordError::Failed(e.to_string()))
}

/// Whether the journal already has a line of `kind` for this delivery (for a failure, one
/// that gave up: a retry's line does not say it is over).
fn journaled(path: &Path, kind: &str, id: &str, channel: Channel) -> Result<bool, RecordError> {
    let loaded = load(path).map_err(|e| RecordError::Failed(e.to_string()))?;
    Ok(loaded.entries.iter().any(|e| {
        e.kind == kind
            && e.body.get("id").and_then(|v| v.as_str()) == Some(id)
            && e.body.get("channel").and_then(|v| v.as_str()) == Some(channel.as_str())
            && (kind != "comms_failed"
                || e.body.get("gave_up").and_then(|v| v.as_bool()) == Some(true))
    }))
}

fn open(incidents: &Path, journal: &str, actor: &str) -> Result<Journal, RecordError> {
    let path = incidents.join(journal);
    if !path.is_file() {
        return Err(RecordError::JournalGone(format!(
            "{}: no such incident journal: the update cannot be recorded",
            path.display()
        )));
    }
    Journal::open(&path)
        .map(|j| j.with_actor(actor.to_string()))
        .map_err(|e| RecordError::Failed(e.to_string()))
}

fn failed(e: impl std::fmt::Display) -> RecordError {
    RecordError::Failed(e.to_string())
}

/// Queues an update: each delivery staged, journaled as queued, then made deliverable. A
/// delivery already deliverable (a retry after a failure half-way) is not journaled again.
/// Returns the lines written.
pub fn queue(
    incidents: &Path,
    deliveries: &[OutboxItem],
    actor: &str,
) -> Result<Vec<JournalEntry>, RecordError> {
    let mut written = Vec::new();
    for d in deliveries {
        let outbox = Outbox::of(incidents, &d.journal);
        let name = d.name();
        // Already journaled and made deliverable (a retry after a failure half-way), maybe
        // delivered since: not again.
        if outbox.past_staging(&name) {
            continue;
        }
        let journal = open(incidents, &d.journal, actor)?;
        outbox.stage(d).map_err(failed)?;
        written.push(append(&journal, &queued_line(d), d.queued_at)?);
        outbox.commit(&name).map_err(failed)?;
    }
    Ok(written)
}

/// A delivery staged by a console that ended before making it deliverable: journaled as
/// queued unless it already is, then made deliverable.
pub fn commit_staged(
    incidents: &Path,
    d: &OutboxItem,
    actor: &str,
) -> Result<Vec<JournalEntry>, RecordError> {
    let outbox = Outbox::of(incidents, &d.journal);
    let journal = match open(incidents, &d.journal, actor) {
        Ok(j) => j,
        Err(RecordError::JournalGone(why)) => {
            // Never journaled, and now it cannot be: not sent either (nothing unrecorded goes
            // out), kept in failed/ with why.
            let f = super::outbox::Failed {
                at: Timestamp::now(),
                reason: why.clone(),
            };
            outbox.stage(d).map_err(failed)?;
            outbox.commit(&d.name()).map_err(failed)?;
            outbox.mark_failed(&d.name(), &f).map_err(failed)?;
            outbox.finish(&d.name(), false).map_err(failed)?;
            return Err(RecordError::JournalGone(why));
        }
        Err(e) => return Err(e),
    };
    let mut written = Vec::new();
    if !journaled(journal.path(), "comms_queued", &d.id, d.channel)? {
        written.push(append(&journal, &queued_line(d), d.queued_at)?);
    }
    outbox.commit(&d.name()).map_err(failed)?;
    Ok(written)
}

/// Journals what became of a delivery; a delivery that is done (sent, or given up) moves out
/// of `pending/`. Returns the line written, if one was.
pub fn record(
    incidents: &Path,
    o: &DeliveryReport,
    actor: &str,
) -> Result<Option<JournalEntry>, RecordError> {
    let journal = match open(incidents, &o.journal, actor) {
        Ok(j) => j,
        Err(RecordError::JournalGone(why)) => {
            // The outcome stays in the outbox (sent/ or failed/); the journal to say it in is
            // gone.
            let done = match &o.what {
                Outcomes::Sent { .. } => Some(true),
                Outcomes::Failed { gave_up, .. } => gave_up.then_some(false),
            };
            if let Some(sent) = done {
                Outbox::of(incidents, &o.journal)
                    .finish(&o.name, sent)
                    .map_err(failed)?;
            }
            return Err(RecordError::JournalGone(why));
        }
        Err(e) => return Err(e),
    };
    let (kind, done) = match &o.what {
        Outcomes::Sent {
            remote,
            simulated,
            found,
        } => (
            EntryKind::CommsSent {
                id: o.id.clone(),
                channel: o.channel,
                remote: remote.clone(),
                simulated: *simulated,
                found: *found,
            },
            Some(true),
        ),
        Outcomes::Failed {
            reason,
            gave_up,
            retry_in,
        } => (
            EntryKind::CommsFailed {
                id: o.id.clone(),
                channel: o.channel,
                reason: reason.clone(),
                gave_up: *gave_up,
                retry_in: *retry_in,
            },
            gave_up.then_some(false),
        ),
    };
    let (k, _) = kind.to_journal();
    let already = o.check && journaled(journal.path(), &k, &o.id, o.channel)?;
    let line = if already {
        None
    } else {
        Some(append(&journal, &kind, o.at)?)
    };
    if let Some(sent) = done {
        Outbox::of(incidents, &o.journal)
            .finish(&o.name, sent)
            .map_err(failed)?;
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::message::Update;
    use crate::comms::outbox::Sent;

    fn outgoing(to: Vec<Channel>) -> Outgoing {
        let d = crate::comms::outbox::tests::delivery("x", Channel::Slack, 0);
        Outgoing {
            journal: d.journal.clone(),
            update: Update { to, ..d.update },
        }
    }

    fn incident(dir: &Path, name: &str) {
        let j = Journal::open(&dir.join(name)).expect("open");
        j.append("note", serde_json::Map::new(), Timestamp::now())
            .expect("append");
    }

    fn kinds(dir: &Path, name: &str) -> Vec<String> {
        load(&dir.join(name))
            .expect("load")
            .entries
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    #[test]
    fn queued_is_journaled_before_the_worker_can_see_it_and_a_retry_does_not_repeat_it() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = outgoing(vec![Channel::Slack, Channel::StatusPage]);
        incident(tmp.path(), &out.journal);
        let ds = deliveries(&out, "u1", 7, "ana@b", false);
        assert_eq!(ds.len(), 2);
        let lines = queue(tmp.path(), &ds, "ana@b").expect("queue");
        assert_eq!(lines.len(), 2);
        let outbox = Outbox::of(tmp.path(), &out.journal);
        assert_eq!(outbox.pending(None).0.len(), 2);
        assert!(queue(tmp.path(), &ds, "ana@b").expect("again").is_empty());
        assert_eq!(
            kinds(tmp.path(), &out.journal),
            vec!["note", "comms_queued", "comms_queued"]
        );
    }

    #[test]
    fn a_retried_update_never_queues_again_a_delivery_already_delivered() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = outgoing(vec![Channel::Slack, Channel::StatusPage]);
        incident(tmp.path(), &out.journal);
        let ds = deliveries(&out, "u1", 7, "ana@b", false);
        let outbox = Outbox::of(tmp.path(), &out.journal);
        // The first half went through and was delivered before the retry of the whole.
        queue(tmp.path(), &ds[..1], "ana@b").expect("the first half");
        outbox
            .mark_sent(
                &ds[0].name(),
                &Sent {
                    at: Timestamp::now(),
                    remote: None,
                    found: false,
                },
            )
            .expect("sent");
        outbox.finish(&ds[0].name(), true).expect("finish");
        let lines = queue(tmp.path(), &ds, "ana@b").expect("the retry");
        assert_eq!(lines.len(), 1, "only the half not queued yet");
        assert_eq!(outbox.sent(Channel::Slack).len(), 1);
        let pending = outbox.pending(None).0;
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].delivery.channel, Channel::StatusPage);
        assert!(outbox.staged().0.is_empty());
        // A staged copy left behind by a console that ended, of a delivery done since: gone.
        outbox.stage(&ds[0]).expect("stage again");
        outbox.commit(&ds[0].name()).expect("commit of a done one");
        assert!(
            outbox.staged().0.is_empty(),
            "the orphan is removed, not delivered again"
        );
        assert_eq!(outbox.pending(None).0.len(), 1);
    }

    #[test]
    fn no_journal_no_queue() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = outgoing(vec![Channel::Slack]);
        let ds = deliveries(&out, "u1", 7, "ana@b", false);
        let why = queue(tmp.path(), &ds, "ana@b").expect_err("no journal");
        assert!(
            matches!(&why, RecordError::JournalGone(w) if w.contains("no such incident journal")),
            "{why}"
        );
        assert!(
            Outbox::of(tmp.path(), &out.journal)
                .pending(None)
                .0
                .is_empty()
        );
    }

    #[test]
    fn a_staged_delivery_left_by_a_crash_is_journaled_once_and_committed() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = outgoing(vec![Channel::Slack]);
        incident(tmp.path(), &out.journal);
        let d = deliveries(&out, "u1", 7, "ana@b", false).remove(0);
        let outbox = Outbox::of(tmp.path(), &out.journal);
        // Crash after journaling, before the move.
        outbox.stage(&d).expect("stage");
        let j = Journal::open(&tmp.path().join(&out.journal)).expect("open");
        append(&j, &queued_line(&d), d.queued_at).expect("append");
        assert!(
            commit_staged(tmp.path(), &d, "bo@b")
                .expect("commit")
                .is_empty()
        );
        assert_eq!(outbox.pending(None).0.len(), 1);
        assert_eq!(
            kinds(tmp.path(), &out.journal),
            vec!["note", "comms_queued"]
        );
    }

    #[test]
    fn sent_is_journaled_then_moved_and_a_checked_repeat_writes_nothing() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = outgoing(vec![Channel::Slack]);
        incident(tmp.path(), &out.journal);
        let d = deliveries(&out, "u1", 7, "ana@b", false).remove(0);
        queue(tmp.path(), std::slice::from_ref(&d), "ana@b").expect("queue");
        let outbox = Outbox::of(tmp.path(), &out.journal);
        let at = Timestamp::now();
        outbox
            .mark_sent(
                &d.name(),
                &Sent {
                    at,
                    remote: Some("C1:1".into()),
                    found: false,
                },
            )
            .expect("mark");
        let o = DeliveryReport {
            journal: out.journal.clone(),
            name: d.name(),
            id: "u1".into(),
            channel: Channel::Slack,
            at,
            what: Outcomes::Sent {
                remote: Some("C1:1".into()),
                simulated: false,
                found: false,
            },
            check: false,
        };
        assert!(record(tmp.path(), &o, "ana@b").expect("record").is_some());
        assert!(outbox.pending(None).0.is_empty());
        assert_eq!(outbox.sent(Channel::Slack).len(), 1);
        let again = DeliveryReport { check: true, ..o };
        assert!(
            record(tmp.path(), &again, "ana@b")
                .expect("again")
                .is_none()
        );
        assert_eq!(
            kinds(tmp.path(), &out.journal),
            vec!["note", "comms_queued", "comms_sent"]
        );
    }
}
