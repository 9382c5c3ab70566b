//! What this account last saw of each incident journal: its length, its last entry's seq and
//! hash, and when. A journal is append-only, so a file found shorter than it was seen — or
//! whose entry at that seq now has another hash — was rewritten: that is tampering even after
//! a restart, when the console has nothing else to compare with.
//!
//! Kept in `<XDG state dir>/warroom/journals-seen.json` (the account's own, mode 0600). The
//! watch log is not kept here: it rolls over by design.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One journal as last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// Bytes read (whole lines).
    pub len: u64,
    pub seq: u64,
    pub hash: String,
    pub at: Timestamp,
}

/// The record of every journal this account has followed.
#[derive(Debug, Clone, Default)]
pub struct SeenBook {
    path: Option<PathBuf>,
    map: BTreeMap<String, Seen>,
    dirty: bool,
}

/// `<XDG state dir>/warroom/journals-seen.json`, if there is a home.
pub fn default_path() -> Option<PathBuf> {
    let dirs = crate::paths::project()?;
    Some(
        dirs.state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .join("journals-seen.json"),
    )
}

/// The key of a journal: its canonical path (the same file however it was named).
fn key(journal: &Path) -> String {
    std::fs::canonicalize(journal)
        .unwrap_or_else(|_| journal.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

impl SeenBook {
    /// The record at `path` (none, or one that cannot be read: an empty record, said in the
    /// log — losing it weakens a check, it never raises a false one).
    pub fn open(path: PathBuf) -> SeenBook {
        let map = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!("{}: unreadable, starting anew: {e}", path.display());
                BTreeMap::new()
            }),
            Err(_) => BTreeMap::new(),
        };
        SeenBook {
            path: Some(path),
            map,
            dirty: false,
        }
    }

    pub fn get(&self, journal: &Path) -> Option<&Seen> {
        self.map.get(&key(journal))
    }

    /// What is seen of `journal` now; nothing is written until [`SeenBook::save`].
    pub fn record(&mut self, journal: &Path, seen: Seen) {
        let k = key(journal);
        if self.map.get(&k).is_none_or(|s| s.len != seen.len) {
            self.map.insert(k, seen);
            self.dirty = true;
        }
    }

    /// Why `journal` (now `len` bytes; `hash_at(seq)` the hash of its entry `seq` if it has
    /// one) is not what was seen, if it is not.
    pub fn contradicts(
        &self,
        journal: &Path,
        len: u64,
        hash_at: impl Fn(u64) -> Option<String>,
    ) -> Option<String> {
        let seen = self.get(journal)?;
        if len < seen.len {
            return Some(format!(
                "the file is {len} bytes, shorter than the {} seen on {} (up to seq {})",
                seen.len, seen.at, seen.seq
            ));
        }
        match hash_at(seen.seq) {
            Some(h) if h != seen.hash => Some(format!(
                "its entry seq {} is not the one seen on {} (another hash)",
                seen.seq, seen.at
            )),
            _ => None,
        }
    }

    /// Writes the record if it changed (a new file, then renamed over the old one).
    pub fn save(&mut self) {
        let Some(path) = self.path.clone().filter(|_| self.dirty) else {
            return;
        };
        let write = || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension(format!("json.{}", std::process::id()));
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&serde_json::to_vec(&self.map).unwrap_or_default())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        match write() {
            Ok(()) => self.dirty = false,
            Err(e) => tracing::warn!("{}: cannot write: {e}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shorter_file_or_another_hash_at_the_seen_seq_contradicts_what_was_seen() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("x.jsonl");
        std::fs::write(&journal, "x").unwrap();
        let book_path = dir.path().join("seen.json");
        let mut book = SeenBook::open(book_path.clone());
        let at: Timestamp = "2026-12-06T03:00:00Z".parse().unwrap();
        book.record(
            &journal,
            Seen {
                len: 100,
                seq: 4,
                hash: "aa".into(),
                at,
            },
        );
        book.save();
        let book = SeenBook::open(book_path);
        assert_eq!(book.contradicts(&journal, 120, |_| Some("aa".into())), None);
        assert_eq!(book.contradicts(&journal, 120, |_| None), None);
        assert!(
            book.contradicts(&journal, 90, |_| Some("aa".into()))
                .is_some_and(|w| w.contains("shorter than the 100 seen on 2026-12-06T03:00:00Z"))
        );
        assert!(
            book.contradicts(&journal, 120, |_| Some("bb".into()))
                .is_some_and(|w| w.contains("seq 4"))
        );
        assert_eq!(
            book.contradicts(&dir.path().join("other.jsonl"), 0, |_| None),
            None
        );
    }
}
