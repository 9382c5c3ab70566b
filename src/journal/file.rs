//! One journal file: locked, fsynced appends; reading it back; verifying its chain; following it.
//!
//! Appending opens the file anew (`O_APPEND`), so every append has its own open file
//! description and the exclusive `flock` excludes other threads of this process as well as
//! other processes. Under the lock it reads the last valid entry from the end of the file
//! (reading the tail in growing chunks, never the whole file unless it must), writes the new
//! line with one `write_all`, and `fsync`s (`sync_data`) before unlocking and returning: an
//! entry returned by [`Journal::append`] is on disk.
//!
//! A writer killed mid-append leaves a torn last line (no `\n`). Readers report it and skip
//! it; the next append first writes a `\n`, so the fragment stays a line of its own (reported
//! as a problem by [`load`], a warning by [`verify`]) and the new entry chains from the last
//! valid one. An unterminated last line that is nevertheless a whole entry (only the `\n` was
//! lost) counts as an entry everywhere.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde_json::{Map, Value};

use super::entry::{GENESIS, JournalEntry, RESERVED, actor, chain_hash, line_hash};

mod index;
mod pages;
mod verify;
pub use index::{EntryAt, entry_at, index};
pub use pages::{PAGE_MAX, Page, Pages};
pub use verify::*;

/// Mode of directories the journal creates (before the umask, or the default ACL of a team's
/// journal dir): the journal group is the team, and writes too (see [`super::trust`]).
pub const DIR_MODE: u32 = 0o2770;
/// Mode of journal files it creates (before the umask or the default ACL): owner and the
/// journal group read and write.
pub const FILE_MODE: u32 = 0o660;

/// How much of the end of the file is read first when looking for the last entry.
const TAIL_CHUNK: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path}: cannot {op}: {source}")]
    Io {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A conditional append found another last entry than the one expected.
    #[error("the journal moved on: its last entry is now seq {last}")]
    Conflict { last: u64 },
    #[error("field {0:?} is reserved for the journal itself")]
    ReservedField(String),
    /// The last entry's seq has no successor: a planted line (seq 2^64 − 1) must not wrap the
    /// numbering to 0, where nobody reads what follows and the conditional append breaks.
    #[error(
        "{path}: the last entry's seq {last} has no successor: tampered? (run `warroom journal verify`)"
    )]
    SeqOverflow { path: PathBuf, last: u64 },
    #[error("{path}: the file shrank to {len} bytes, below offset {offset}: not append-only")]
    Shrunk {
        path: PathBuf,
        len: u64,
        offset: u64,
    },
}

fn io(path: &Path, op: &'static str) -> impl FnOnce(std::io::Error) -> JournalError {
    let path = path.to_path_buf();
    move |source| JournalError::Io { path, op, source }
}

/// An incident's journal file, for appending.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
    actor: String,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path`. Missing parent directories are created
    /// with mode [`DIR_MODE`] and the file with [`FILE_MODE`] (both less the umask); creating
    /// the file fsyncs its directory so the new name survives a crash. The actor of its entries
    /// is [`actor()`].
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(parent)
                .map_err(io(parent, "create the directory"))?;
        }
        let created = match OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(path)
        {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(io(path, "create")(e)),
        };
        if created && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            File::open(parent)
                .and_then(|d| d.sync_all())
                .map_err(io(parent, "fsync the directory"))?;
        }
        // Fail now, not at the first append, if it cannot be written.
        open_for_append(path)?;
        Ok(Journal {
            path: path.to_path_buf(),
            actor: actor(),
        })
    }

    /// Like [`Journal::open`] with another actor (tests, imports).
    pub fn with_actor(mut self, actor: impl Into<String>) -> Journal {
        self.actor = actor.into();
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Appends an entry of `kind` with the fields of `body`, dated `at`; returns it once it is
    /// on disk. `body` may not use the names `seq`, `at`, `actor`, `kind`, `hash`.
    pub fn append(
        &self,
        kind: &str,
        body: Map<String, Value>,
        at: Timestamp,
    ) -> Result<JournalEntry, JournalError> {
        self.append_locked(None, kind, body, at)
    }

    /// Appends only if the last entry is still `expected_last_seq` (0: the journal is empty),
    /// checked and written under the same lock: the lock of runbook steps. Otherwise
    /// [`JournalError::Conflict`] with the last seq found, and nothing is written.
    pub fn append_if(
        &self,
        expected_last_seq: u64,
        kind: &str,
        body: Map<String, Value>,
        at: Timestamp,
    ) -> Result<JournalEntry, JournalError> {
        self.append_locked(Some(expected_last_seq), kind, body, at)
    }

    /// Appends many entries at once, each `(actor, kind, body, at)`, chained in order, under
    /// one lock, in one write and one fsync: a declaration copying thousands of watch-log
    /// lines costs one fsync, not thousands. Nothing is written if a body uses a reserved
    /// name.
    pub fn append_all(
        &self,
        items: Vec<(String, String, Map<String, Value>, Timestamp)>,
    ) -> Result<Vec<JournalEntry>, JournalError> {
        for (_, _, body, _) in &items {
            if let Some(k) = body.keys().find(|k| RESERVED.contains(&k.as_str())) {
                return Err(JournalError::ReservedField(k.clone()));
            }
        }
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let file = open_for_append(&self.path)?;
        let mut file = lock(file, FlockArg::LockExclusive, &self.path)?;
        let tail = read_tail(&file, &self.path)?;
        let mut last_seq = tail.last.as_ref().map_or(0, |e| e.seq);
        let mut prev = tail
            .last
            .as_ref()
            .map_or(GENESIS.to_string(), |e| e.hash.clone());
        let mut text = String::new();
        if !tail.ends_with_newline {
            // Close the torn line left by a killed writer, so it stays a line of its own.
            text.push('\n');
        }
        let mut written = Vec::with_capacity(items.len());
        for (actor, kind, body, at) in items {
            let next = last_seq
                .checked_add(1)
                .ok_or_else(|| JournalError::SeqOverflow {
                    path: self.path.clone(),
                    last: last_seq,
                })?;
            let entry = JournalEntry::seal(next, at, actor, kind, body, &prev);
            text.push_str(&entry.to_line());
            text.push('\n');
            last_seq = next;
            prev.clone_from(&entry.hash);
            written.push(entry);
        }
        file.write_all(text.as_bytes())
            .map_err(io(&self.path, "append"))?;
        file.sync_data().map_err(io(&self.path, "fsync"))?;
        Ok(written)
    }

    /// The last valid entry (`None` if there is none), read under a shared lock.
    pub fn last(&self) -> Result<Option<JournalEntry>, JournalError> {
        let file = open_nofollow(&self.path).map_err(io(&self.path, "open"))?;
        let file = lock(file, FlockArg::LockShared, &self.path)?;
        let tail = read_tail(&file, &self.path)?;
        Ok(tail.last)
    }

    fn append_locked(
        &self,
        expected: Option<u64>,
        kind: &str,
        body: Map<String, Value>,
        at: Timestamp,
    ) -> Result<JournalEntry, JournalError> {
        if let Some(k) = body.keys().find(|k| RESERVED.contains(&k.as_str())) {
            return Err(JournalError::ReservedField(k.clone()));
        }
        let file = open_for_append(&self.path)?;
        let mut file = lock(file, FlockArg::LockExclusive, &self.path)?;
        let tail = read_tail(&file, &self.path)?;
        let last_seq = tail.last.as_ref().map_or(0, |e| e.seq);
        if let Some(expected) = expected
            && expected != last_seq
        {
            return Err(JournalError::Conflict { last: last_seq });
        }
        let next = last_seq
            .checked_add(1)
            .ok_or_else(|| JournalError::SeqOverflow {
                path: self.path.clone(),
                last: last_seq,
            })?;
        let prev = tail.last.as_ref().map_or(GENESIS, |e| e.hash.as_str());
        let entry = JournalEntry::seal(next, at, self.actor.clone(), kind.to_string(), body, prev);
        let mut line = String::new();
        if !tail.ends_with_newline {
            // Close the torn line left by a killed writer, so it stays a line of its own.
            line.push('\n');
        }
        line.push_str(&entry.to_line());
        line.push('\n');
        file.write_all(line.as_bytes())
            .map_err(io(&self.path, "append"))?;
        file.sync_data().map_err(io(&self.path, "fsync"))?;
        // The lock is released when `file` drops, after the fsync.
        Ok(entry)
    }
}

fn open_for_append(path: &Path) -> Result<File, JournalError> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(io(path, "open for appending"))
}

/// Opens a file of the journal dir for reading without following a symbolic link in its last
/// component: a link planted there could point the console at any file the operator can
/// read (and, for writes, overwrite).
pub fn open_nofollow(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
}

/// The whole file, read through [`open_nofollow`].
fn lock(file: File, arg: FlockArg, path: &Path) -> Result<Flock<File>, JournalError> {
    let mut file = file;
    loop {
        match Flock::lock(file, arg) {
            Ok(locked) => return Ok(locked),
            Err((f, Errno::EINTR)) => file = f,
            Err((_, errno)) => return Err(io(path, "lock")(std::io::Error::from(errno))),
        }
    }
}

/// What the end of the file says.
struct FileTail {
    /// The last line that is a valid entry, terminated or not.
    last: Option<JournalEntry>,
    /// False if the file ends inside a line (a torn write); true for an empty file.
    ends_with_newline: bool,
}

/// Finds the last valid entry by reading the end of the file in growing chunks (64 KiB, then
/// doubling), skipping lines that are not entries.
fn read_tail(file: &File, path: &Path) -> Result<FileTail, JournalError> {
    let len = file.metadata().map_err(io(path, "stat"))?.len();
    let mut chunk = TAIL_CHUNK;
    loop {
        let start = len.saturating_sub(chunk);
        let mut buf = vec![0u8; (len - start) as usize];
        file.read_exact_at(&mut buf, start)
            .map_err(io(path, "read"))?;
        let ends_with_newline = buf.last().is_none_or(|&b| b == b'\n');
        let pieces: Vec<&[u8]> = buf.split_inclusive(|&b| b == b'\n').collect();
        for (i, piece) in pieces.iter().enumerate().rev() {
            if i == 0 && start > 0 {
                break; // may be the end of a longer line: read more
            }
            let line = piece.strip_suffix(b"\n").unwrap_or(piece);
            if let Ok(e) = JournalEntry::parse_line(line) {
                return Ok(FileTail {
                    last: Some(e),
                    ends_with_newline,
                });
            }
        }
        if start == 0 {
            return Ok(FileTail {
                last: None,
                ends_with_newline,
            });
        }
        chunk = chunk.saturating_mul(2);
    }
}

/// The unterminated end of a file that is not an entry: a writer died while writing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornLine {
    /// 1-based line number.
    pub line: usize,
    /// How many bytes of it were written.
    pub bytes: usize,
}

/// A line that is not an entry (not JSON, or missing a field), skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number.
    pub line: usize,
    pub why: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.why)
    }
}

/// New entries found by [`follow`].
#[derive(Debug, Clone, Default)]
pub struct Followed {
    pub entries: Vec<JournalEntry>,
    /// Complete lines that are not entries, by byte offset: skipped.
    pub problems: Vec<String>,
    /// Where to follow from next time: just after the last complete line read.
    pub offset: u64,
    /// With [`follow_checked`]: the first line that does not follow the chain (its seq is not
    /// the one before + 1, or its hash does not match), said as "seq N: why". Nothing from
    /// that line on is in `entries`: it is never shown as the journal's.
    pub broken: Option<String>,
}

/// [`follow`], checking each new entry against the one before it: `prev` (seq, hash) is the
/// last entry this console already has (`None`: follow from the start of the file, against
/// the genesis). The returned entries are the chain's; a break stops them (see
/// [`Followed::broken`]).
pub fn follow_checked(
    path: &Path,
    offset: u64,
    prev: Option<(u64, &str)>,
) -> Result<Followed, JournalError> {
    let mut out = Followed::default();
    let (mut prev_seq, hash) = prev.unwrap_or((0, GENESIS));
    let mut prev_hash = [0u8; 64];
    if !crate::journal::entry::is_hash(hash) {
        out.offset = offset;
        out.broken = Some(format!("seq {prev_seq}: its hash is not a hash"));
        return Ok(out);
    }
    prev_hash.copy_from_slice(hash.as_bytes());
    let mut broken = None;
    let (entries, problems, next) = read_complete_lines(path, offset, |line, e| {
        if broken.is_some() {
            return None;
        }
        let why = match verdict(&e, line, prev_seq, &prev_hash) {
            Verdict::Intact | Verdict::Canonical | Verdict::Unchecked => None,
            Verdict::Seq { prev_seq: p } => Some(format!(
                "seq {} after seq {p}: {}",
                e.seq,
                if e.seq <= p {
                    "seq goes back"
                } else {
                    "entries missing"
                }
            )),
            Verdict::Hash { .. } => Some(format!(
                "seq {}: hash does not match its content or the entry before it",
                e.seq
            )),
        };
        if why.is_some() {
            broken = why;
            return None;
        }
        prev_seq = e.seq;
        prev_hash.copy_from_slice(e.hash.as_bytes());
        Some(e)
    })?;
    out.entries = entries;
    out.problems = problems;
    out.offset = next;
    out.broken = broken;
    Ok(out)
}

/// The complete lines at or after byte `offset`: each entry `take` keeps (given the line as
/// written and the entry read from it), the lines that are
/// not entries (as problems), and the offset just after the last complete line.
fn read_complete_lines(
    path: &Path,
    offset: u64,
    mut take: impl FnMut(&[u8], JournalEntry) -> Option<JournalEntry>,
) -> Result<(Vec<JournalEntry>, Vec<String>, u64), JournalError> {
    let mut file = open_nofollow(path).map_err(io(path, "open"))?;
    let len = file.metadata().map_err(io(path, "stat"))?.len();
    if len < offset {
        return Err(JournalError::Shrunk {
            path: path.to_path_buf(),
            len,
            offset,
        });
    }
    file.seek(SeekFrom::Start(offset))
        .map_err(io(path, "seek"))?;
    let mut buf = Vec::with_capacity((len - offset) as usize);
    file.read_to_end(&mut buf).map_err(io(path, "read"))?;
    let complete = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut at = offset;
    for line in buf[..complete].split_inclusive(|&b| b == b'\n') {
        let text = &line[..line.len() - 1];
        match JournalEntry::parse_line(text) {
            Ok(e) => entries.extend(take(text, e)),
            Err(why) => problems.push(format!("byte {at}: not an entry, skipped: {why}")),
        }
        at += line.len() as u64;
    }
    Ok((entries, problems, offset + complete as u64))
}

/// The complete entries appended at or after byte `offset` (0: from the start), for consoles
/// following a journal live (poll it). Only lines ending in `\n` are read, so a line being
/// written is picked up whole next time; the returned offset is just after the last of them.
pub fn follow(path: &Path, offset: u64) -> Result<Followed, JournalError> {
    let (entries, problems, offset) = read_complete_lines(path, offset, |_, e| Some(e))?;
    Ok(Followed {
        entries,
        problems,
        offset,
        broken: None,
    })
}

#[cfg(test)]
mod tests;
