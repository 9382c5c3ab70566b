//! The outbox: a durable queue of deliveries (one update to one channel) beside each
//! incident's journal, `<incidents>/<incident>.outbox/`, so that no update is lost when the
//! network, Slack or the console fails, and none is posted twice after a crash.
//!
//! A delivery is a file that moves through directories, each step a rename (atomic) after
//! the file was fsynced, each marker written whole (temporary file, fsync, rename):
//!
//! | where | what it means |
//! |---|---|
//! | `staged/NAME.json` | written; its `comms_queued` line may not be in the journal yet |
//! | `pending/NAME.json` | journaled as queued: the worker may deliver it |
//! | `pending/NAME.attempt` | a send was started: if no answer was recorded, it is in doubt — ask the far side before sending again |
//! | `pending/NAME.sent` | delivered (with what the far side calls it); `comms_sent` may not be journaled yet |
//! | `pending/NAME.failed` | given up (with why); `comms_failed` may not be journaled yet |
//! | `sent/`, `failed/` | done and journaled |
//!
//! Each channel of an incident is delivered by one console at a time: the holder of
//! `<incident>.outbox/<channel>.lock` (an exclusive `flock`, released by the kernel however
//! its holder ends). A restarted console takes the lock and goes on where the last one was.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use super::message::Channel;
pub use crate::app::deliver::{OutboxItem, Sent};

// An outbox is the team's, like its journal: any operator's console may deliver what
// another queued (others get nothing).
use crate::journal::file::{DIR_MODE, FILE_MODE};

/// A send that was started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub n: u32,
    pub at: Timestamp,
    /// "user@host pid N".
    pub by: String,
}

/// A delivery given up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failed {
    pub at: Timestamp,
    pub reason: String,
}

/// A delivery in `pending/` with its markers.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub name: String,
    pub delivery: OutboxItem,
    pub attempt: Option<Attempt>,
    pub sent: Option<Sent>,
    pub failed: Option<Failed>,
}

/// A file the outbox cannot read: kept where it is, reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    pub path: PathBuf,
    pub why: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot {op}: {source}")]
pub struct OutboxError {
    pub path: String,
    pub op: &'static str,
    #[source]
    pub source: std::io::Error,
}

fn err(path: &Path, op: &'static str) -> impl FnOnce(std::io::Error) -> OutboxError {
    let path = path.display().to_string();
    move |source| OutboxError { path, op, source }
}

/// The outbox of one incident.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbox {
    dir: PathBuf,
}

/// The outbox directory of the incident journal `journal` (a file name) in `incidents`.
fn dir_for(incidents: &Path, journal: &str) -> PathBuf {
    let stem = journal.strip_suffix(".jsonl").unwrap_or(journal);
    incidents.join(format!("{stem}.outbox"))
}

fn fsync_dir(dir: &Path) -> Result<(), OutboxError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(err(dir, "fsync the directory"))
}

/// Writes `bytes` to `path` whole: a temporary file, fsynced, renamed over it.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), OutboxError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(&tmp)
        .map_err(err(&tmp, "create"))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(err(&tmp, "write"))?;
    std::fs::rename(&tmp, path).map_err(err(path, "rename into place"))?;
    if let Some(parent) = path.parent() {
        fsync_dir(parent)?;
    }
    Ok(())
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: not a valid outbox file: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: cannot read: {e}", path.display())),
    }
}

impl Outbox {
    pub fn of(incidents: &Path, journal: &str) -> Outbox {
        Outbox {
            dir: dir_for(incidents, journal),
        }
    }

    /// Every incident outbox in `incidents`, oldest incident first.
    pub fn all(incidents: &Path) -> Vec<Outbox> {
        let Ok(rd) = std::fs::read_dir(incidents) else {
            return Vec::new();
        };
        let mut dirs: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir() && p.extension().is_some_and(|e| e == "outbox"))
            .collect();
        dirs.sort();
        dirs.into_iter().map(|dir| Outbox { dir }).collect()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The incident journal's file name this outbox belongs to.
    pub fn journal(&self) -> String {
        let stem = self
            .dir
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("{stem}.jsonl")
    }

    fn sub(&self, name: &str) -> Result<PathBuf, OutboxError> {
        let d = self.dir.join(name);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(&d)
            .map_err(err(&d, "create the directory"))?;
        Ok(d)
    }

    /// Writes a delivery to `staged/` (again is harmless: same name, same content).
    pub fn stage(&self, d: &OutboxItem) -> Result<(), OutboxError> {
        let staged = self.sub("staged")?;
        let path = staged.join(format!("{}.json", d.name()));
        let bytes = serde_json::to_vec_pretty(d).map_err(|e| OutboxError {
            path: path.display().to_string(),
            op: "encode",
            source: std::io::Error::other(e.to_string()),
        })?;
        write_whole(&path, &bytes)
    }

    /// Whether a delivery is past `staged/`: deliverable, delivered or given up.
    pub fn past_staging(&self, name: &str) -> bool {
        ["pending", "sent", "failed"]
            .iter()
            .any(|d| self.dir.join(d).join(format!("{name}.json")).exists())
    }

    /// From `staged/` to `pending/`: it is journaled as queued, the worker may take it. Done
    /// before (by this console or another) is fine; a staged copy left behind is removed.
    pub fn commit(&self, name: &str) -> Result<(), OutboxError> {
        let pending = self.sub("pending")?;
        let from = self.dir.join("staged").join(format!("{name}.json"));
        let to = pending.join(format!("{name}.json"));
        if self.past_staging(name) {
            if from.exists() {
                std::fs::remove_file(&from).map_err(err(&from, "remove"))?;
            }
            return Ok(());
        }
        std::fs::rename(&from, &to).map_err(err(&from, "move to pending"))?;
        fsync_dir(&pending)?;
        fsync_dir(&self.dir.join("staged"))
    }

    /// Deliveries written but maybe not journaled (a console ended between the two).
    pub fn staged(&self) -> (Vec<OutboxItem>, Vec<Unreadable>) {
        use std::os::unix::fs::MetadataExt;
        let mut found = Vec::new();
        let mut bad = Vec::new();
        let me = nix::unistd::geteuid().as_raw();
        for path in json_files(&self.dir.join("staged")) {
            // Only this account's (or root's) staged files are committed: a staged file is
            // journaled as queued by whoever finds it, so one planted by another account
            // would be sent under this operator's name.
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_file() && (m.uid() == me || m.uid() == 0) => {}
                Ok(m) => {
                    bad.push(Unreadable {
                        path,
                        why: format!(
                            "not a regular file of this account or root (uid {}): not committed",
                            m.uid()
                        ),
                    });
                    continue;
                }
                Err(_) => continue,
            }
            match read_json::<OutboxItem>(&path) {
                Ok(Some(d)) => found.push(d),
                Ok(None) => {}
                Err(why) => bad.push(Unreadable { path, why }),
            }
        }
        (found, bad)
    }

    /// The deliveries waiting in `pending/` for `channel`, in queue order, with their markers.
    pub fn pending(&self, channel: Option<Channel>) -> (Vec<Pending>, Vec<Unreadable>) {
        let dir = self.dir.join("pending");
        let mut found = Vec::new();
        let mut bad = Vec::new();
        for path in json_files(&dir) {
            let Some(name) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                continue;
            };
            if channel.is_some_and(|c| !name.ends_with(&format!("-{}", c.as_str()))) {
                continue;
            }
            let delivery = match read_json::<OutboxItem>(&path) {
                Ok(Some(d)) => d,
                Ok(None) => continue,
                Err(why) => {
                    bad.push(Unreadable { path, why });
                    continue;
                }
            };
            let marker = |ext: &str| self.find_marker(&name, ext);
            let mut p = Pending {
                name: name.clone(),
                delivery,
                attempt: None,
                sent: None,
                failed: None,
            };
            match read_json(&marker("attempt")) {
                Ok(a) => p.attempt = a,
                Err(why) => bad.push(Unreadable {
                    path: marker("attempt"),
                    why,
                }),
            }
            match read_json(&marker("sent")) {
                Ok(s) => p.sent = s,
                Err(why) => bad.push(Unreadable {
                    path: marker("sent"),
                    why,
                }),
            }
            match read_json(&marker("failed")) {
                Ok(f) => p.failed = f,
                Err(why) => bad.push(Unreadable {
                    path: marker("failed"),
                    why,
                }),
            }
            found.push(p);
        }
        (found, bad)
    }

    fn marker(&self, name: &str, ext: &str) -> PathBuf {
        self.dir.join("pending").join(format!("{name}.{ext}"))
    }

    /// A marker where it is: in `pending/`, or already moved on by a [`Outbox::finish`] that
    /// was cut short (markers move first, the delivery last).
    fn find_marker(&self, name: &str, ext: &str) -> PathBuf {
        let here = self.marker(name, ext);
        if here.exists() {
            return here;
        }
        ["sent", "failed"]
            .iter()
            .map(|d| self.dir.join(d).join(format!("{name}.{ext}")))
            .find(|p| p.exists())
            .unwrap_or(here)
    }

    /// Before a send: if the console ends before the answer is recorded, the next one knows
    /// to ask the far side first.
    pub fn mark_attempt(&self, name: &str, a: &Attempt) -> Result<(), OutboxError> {
        let path = self.marker(name, "attempt");
        write_whole(&path, &serde_json::to_vec(a).unwrap_or_default())
    }

    /// The last attempt is known not to have arrived (the far side refused it).
    pub fn clear_attempt(&self, name: &str) -> Result<(), OutboxError> {
        let path = self.marker(name, "attempt");
        match std::fs::remove_file(&path) {
            Ok(()) => fsync_dir(&self.dir.join("pending")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(err(&path, "remove")(e)),
        }
    }

    pub fn mark_sent(&self, name: &str, s: &Sent) -> Result<(), OutboxError> {
        let path = self.marker(name, "sent");
        write_whole(&path, &serde_json::to_vec(s).unwrap_or_default())
    }

    pub fn mark_failed(&self, name: &str, f: &Failed) -> Result<(), OutboxError> {
        let path = self.marker(name, "failed");
        write_whole(&path, &serde_json::to_vec(f).unwrap_or_default())
    }

    /// Moves a delivery and its markers to `sent/` (or `failed/`): done and journaled.
    pub fn finish(&self, name: &str, sent: bool) -> Result<(), OutboxError> {
        self.move_out(name, if sent { "sent" } else { "failed" })
    }

    /// Moves a delivery and its markers out of `pending/` into `to`: markers first, the
    /// delivery last (a crash in between leaves a delivery whose markers are already done,
    /// which the reconcile finishes).
    fn move_out(&self, name: &str, to: &str) -> Result<(), OutboxError> {
        let to = self.sub(to)?;
        let from = self.dir.join("pending");
        for ext in ["attempt", "sent", "failed", "json"] {
            let f = from.join(format!("{name}.{ext}"));
            match std::fs::rename(&f, to.join(format!("{name}.{ext}"))) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(err(&f, "move")(e)),
            }
        }
        fsync_dir(&to)?;
        fsync_dir(&from)
    }

    /// Moves a delivery the journal never queued (and its markers) to `rejected/`, with a
    /// `.why` file saying why: it is never sent.
    pub fn reject(&self, name: &str, why: &str) -> Result<(), OutboxError> {
        write_whole(
            &self.sub("rejected")?.join(format!("{name}.why")),
            why.as_bytes(),
        )?;
        self.move_out(name, "rejected")
    }

    /// The deliveries of `channel` that arrived, in queue order, with what the far side
    /// called them: the Slack thread's first message, the status page's incident.
    pub fn sent(&self, channel: Channel) -> Vec<(OutboxItem, Sent)> {
        let mut out: Vec<(String, OutboxItem, Sent)> = Vec::new();
        // `pending/` first: a delivery the keeper moves on meanwhile is then found in `sent/`,
        // never in neither.
        for dir in [self.dir.join("pending"), self.dir.join("sent")] {
            for path in json_files(&dir) {
                let Some(name) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                    continue;
                };
                if !name.ends_with(&format!("-{}", channel.as_str())) {
                    continue;
                }
                let (Ok(Some(d)), Ok(Some(s))) = (
                    read_json::<OutboxItem>(&path),
                    read_json::<Sent>(&self.find_marker(&name, "sent")),
                ) else {
                    continue;
                };
                out.push((name, d, s));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.dedup_by(|a, b| a.0 == b.0);
        out.into_iter().map(|(_, d, s)| (d, s)).collect()
    }

    /// The deliveries of `channel` given up (in `failed/`, or marked failed in `pending/`), in
    /// queue order.
    pub fn given_up(&self, channel: Channel) -> Vec<OutboxItem> {
        let mut out: Vec<(String, OutboxItem)> = Vec::new();
        for dir in [self.dir.join("pending"), self.dir.join("failed")] {
            for path in json_files(&dir) {
                let Some(name) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                    continue;
                };
                if !name.ends_with(&format!("-{}", channel.as_str())) {
                    continue;
                }
                if !self.find_marker(&name, "failed").exists() {
                    continue;
                }
                if let Ok(Some(d)) = read_json::<OutboxItem>(&path) {
                    out.push((name, d));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.dedup_by(|a, b| a.0 == b.0);
        out.into_iter().map(|(_, d)| d).collect()
    }

    /// Takes the lock of `channel` in this outbox, if no other console holds it.
    pub fn try_lock(&self, channel: Channel) -> Option<Flock<File>> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(&self.dir)
            .ok()?;
        let path = self.dir.join(format!("{}.lock", channel.as_str()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .open(&path)
            .ok()?;
        Flock::lock(file, FlockArg::LockExclusiveNonblock).ok()
    }
}

/// `*.json` files of a directory, sorted by name (missing directory: none).
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) use crate::app::deliver::tests::delivery;

    #[test]
    fn a_delivery_moves_from_staged_to_pending_to_sent_with_its_markers() {
        let tmp = tempfile::tempdir().expect("tmp");
        let o = Outbox::of(tmp.path(), "2026-12-01T0300Z-x.jsonl");
        let d = delivery("u1", Channel::Slack, 0);
        o.stage(&d).expect("stage");
        o.stage(&d).expect("again is harmless");
        assert_eq!(o.staged().0, vec![d.clone()]);
        assert!(
            o.pending(None).0.is_empty(),
            "staged is not yet deliverable"
        );
        o.commit(&d.name()).expect("commit");
        o.commit(&d.name()).expect("a commit done before is fine");
        let (p, bad) = o.pending(Some(Channel::Slack));
        assert!(bad.is_empty());
        assert_eq!(p.len(), 1);
        assert!(p[0].attempt.is_none());
        assert!(o.pending(Some(Channel::StatusPage)).0.is_empty());
        let at = d.queued_at;
        o.mark_attempt(
            &d.name(),
            &Attempt {
                n: 1,
                at,
                by: "me".into(),
            },
        )
        .expect("attempt");
        assert_eq!(o.pending(None).0[0].attempt.as_ref().map(|a| a.n), Some(1));
        o.mark_sent(
            &d.name(),
            &Sent {
                at,
                remote: Some("C1:1.2".into()),
                found: false,
            },
        )
        .expect("sent");
        assert_eq!(
            o.sent(Channel::Slack).len(),
            1,
            "sent but not moved yet counts"
        );
        o.finish(&d.name(), true).expect("finish");
        assert!(o.pending(None).0.is_empty());
        // A finish cut short (markers moved, the delivery not): still known as sent.
        let d2 = delivery("u2", Channel::Slack, 1);
        o.stage(&d2).expect("stage");
        o.commit(&d2.name()).expect("commit");
        o.mark_sent(
            &d2.name(),
            &Sent {
                at,
                remote: Some("C1:1.3".into()),
                found: false,
            },
        )
        .expect("sent");
        std::fs::rename(
            o.dir().join("pending").join(format!("{}.sent", d2.name())),
            o.dir().join("sent").join(format!("{}.sent", d2.name())),
        )
        .expect("move the marker");
        assert!(o.pending(None).0[0].sent.is_some(), "not sent again");
        o.finish(&d2.name(), true).expect("finish");
        let sent = o.sent(Channel::Slack);
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].1.remote.as_deref(), Some("C1:1.2"));
        assert_eq!(Outbox::all(tmp.path()), vec![o.clone()]);
        assert_eq!(o.journal(), "2026-12-01T0300Z-x.jsonl");
    }

    #[test]
    fn the_queue_is_in_order_and_a_broken_file_is_reported_not_fatal() {
        let tmp = tempfile::tempdir().expect("tmp");
        let o = Outbox::of(tmp.path(), "i.jsonl");
        for (id, at) in [("b", 5), ("a", 9), ("c", 1)] {
            let d = delivery(id, Channel::StatusPage, at);
            o.stage(&d).expect("stage");
            o.commit(&d.name()).expect("commit");
        }
        std::fs::write(o.dir().join("pending").join("zz-bad-slack.json"), b"{nope").expect("write");
        let (p, bad) = o.pending(None);
        let ids: Vec<&str> = p.iter().map(|p| p.delivery.id.as_str()).collect();
        assert_eq!(ids, vec!["c", "b", "a"]);
        assert_eq!(bad.len(), 1);
        assert!(
            bad[0].why.contains("not a valid outbox file"),
            "{}",
            bad[0].why
        );
    }

    #[test]
    fn one_console_at_a_time_holds_a_channel() {
        let tmp = tempfile::tempdir().expect("tmp");
        let o = Outbox::of(tmp.path(), "i.jsonl");
        let held = o.try_lock(Channel::Slack).expect("free");
        assert!(o.try_lock(Channel::Slack).is_none(), "held");
        assert!(o.try_lock(Channel::StatusPage).is_some(), "another channel");
        drop(held);
        assert!(o.try_lock(Channel::Slack).is_some(), "released");
    }
}
