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
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde_json::{Map, Value};

use super::entry::{Entry, GENESIS, RESERVED, actor, canonical_json, chain_hash};

/// Mode of directories the journal creates (before the umask): owner all, group read.
pub const DIR_MODE: u32 = 0o750;
/// Mode of journal files it creates (before the umask): owner read-write, group read.
pub const FILE_MODE: u32 = 0o640;

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
    ) -> Result<Entry, JournalError> {
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
    ) -> Result<Entry, JournalError> {
        self.append_locked(Some(expected_last_seq), kind, body, at)
    }

    /// The last valid entry (`None` if there is none), read under a shared lock.
    pub fn last(&self) -> Result<Option<Entry>, JournalError> {
        let file = File::open(&self.path).map_err(io(&self.path, "open"))?;
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
    ) -> Result<Entry, JournalError> {
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
        let prev = tail.last.as_ref().map_or(GENESIS, |e| e.hash.as_str());
        let entry = Entry::seal(
            last_seq + 1,
            at,
            self.actor.clone(),
            kind.to_string(),
            body,
            prev,
        );
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
        .open(path)
        .map_err(io(path, "open for appending"))
}

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
struct Tail {
    /// The last line that is a valid entry, terminated or not.
    last: Option<Entry>,
    /// False if the file ends inside a line (a torn write); true for an empty file.
    ends_with_newline: bool,
}

/// Finds the last valid entry by reading the end of the file in growing chunks (64 KiB, then
/// doubling), skipping lines that are not entries.
fn read_tail(file: &File, path: &Path) -> Result<Tail, JournalError> {
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
            if let Ok(e) = Entry::parse_line(line) {
                return Ok(Tail {
                    last: Some(e),
                    ends_with_newline,
                });
            }
        }
        if start == 0 {
            return Ok(Tail {
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

/// A whole journal as read.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Every valid entry, in file order, each with its 1-based line number.
    pub entries: Vec<Entry>,
    /// The line number of each entry of `entries`.
    pub lines: Vec<usize>,
    pub torn: Option<TornLine>,
    /// Lines before the last that are not entries (a torn write closed by a later append, a
    /// hand edit…), skipped.
    pub problems: Vec<Problem>,
}

/// Reads every line of the journal at `path`. Lines of any length are fine; lines that are not
/// entries become [`Loaded::problems`] (or [`Loaded::torn`] for an unterminated last line),
/// never errors. Unknown kinds are entries like any other.
pub fn load(path: &Path) -> Result<Loaded, JournalError> {
    let bytes = std::fs::read(path).map_err(io(path, "read"))?;
    let mut out = Loaded::default();
    for (idx, line, terminated) in lines(&bytes) {
        let n = idx + 1;
        match Entry::parse_line(line) {
            Ok(e) => {
                out.entries.push(e);
                out.lines.push(n);
            }
            Err(_) if !terminated => {
                out.torn = Some(TornLine {
                    line: n,
                    bytes: line.len(),
                })
            }
            Err(why) => out.problems.push(Problem { line: n, why }),
        }
    }
    Ok(out)
}

/// Splits into (index, line without its '\n', terminated by '\n').
fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8], bool)> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .enumerate()
        .map(|(i, piece)| match piece.strip_suffix(b"\n") {
            Some(line) => (i, line, true),
            None => (i, piece, false),
        })
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// Valid entries checked.
    pub entries: usize,
    /// The first break of the chain, if any: "line 17 (seq 17): …".
    pub first_break: Option<String>,
    /// Not breaks: a torn last line, lines that are not entries (skipped; a missing or altered
    /// entry still shows up as a break at the next one).
    pub warnings: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Recomputes the chain of the journal at `path`. Each entry must have seq = previous + 1
/// (1 for the first) and hash = SHA-256(previous hash ‖ its own canonical form); the first
/// entry that does not is the break. The hash is recomputed from the JSON object as read
/// (minus `hash`), so anything edited in the line is caught.
pub fn verify(path: &Path) -> Result<VerifyReport, JournalError> {
    let bytes = std::fs::read(path).map_err(io(path, "read"))?;
    let mut report = VerifyReport::default();
    let mut prev_hash = GENESIS.to_string();
    let mut prev_seq = 0u64;
    for (idx, line, terminated) in lines(&bytes) {
        let n = idx + 1;
        let parsed = match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(m)) => Entry::from_map(m.clone()).map(|e| (e, m)),
            Ok(_) => Err("not a JSON object".to_string()),
            Err(e) => Err(format!("not JSON: {e}")),
        };
        let (entry, mut map) = match parsed {
            Ok(x) => x,
            Err(why) if !terminated => {
                report.warnings.push(format!(
                    "line {n}: torn last line ({} bytes), skipped: {why}",
                    line.len()
                ));
                continue;
            }
            Err(why) => {
                report
                    .warnings
                    .push(format!("line {n}: not an entry, skipped: {why}"));
                continue;
            }
        };
        report.entries += 1;
        if report.first_break.is_some() {
            continue;
        }
        if entry.seq != prev_seq + 1 {
            report.first_break = Some(if entry.seq <= prev_seq {
                format!(
                    "line {n} (seq {}): seq goes back from {prev_seq} to {}",
                    entry.seq, entry.seq
                )
            } else {
                format!(
                    "line {n} (seq {}): seq jumps from {prev_seq} to {} — entries missing?",
                    entry.seq, entry.seq
                )
            });
            continue;
        }
        // Hash what is actually in the line, not our re-serialization of it.
        map.remove("hash");
        let want = chain_hash(&prev_hash, &canonical_json(&Value::Object(map)));
        if want != entry.hash {
            report.first_break = Some(format!(
                "line {n} (seq {}): hash does not match its content — edited? (or the entry before it was)",
                entry.seq
            ));
            continue;
        }
        prev_hash = entry.hash;
        prev_seq = entry.seq;
    }
    Ok(report)
}

/// New entries found by [`follow`].
#[derive(Debug, Clone, Default)]
pub struct Followed {
    pub entries: Vec<Entry>,
    /// Complete lines that are not entries, by byte offset: skipped.
    pub problems: Vec<String>,
    /// Where to follow from next time: just after the last complete line read.
    pub offset: u64,
}

/// The complete entries appended at or after byte `offset` (0: from the start), for consoles
/// following a journal live (poll it). Only lines ending in `\n` are read, so a line being
/// written is picked up whole next time; the returned offset is just after the last of them.
pub fn follow(path: &Path, offset: u64) -> Result<Followed, JournalError> {
    let mut file = File::open(path).map_err(io(path, "open"))?;
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
    let mut out = Followed {
        offset: offset + complete as u64,
        ..Followed::default()
    };
    let mut at = offset;
    for line in buf[..complete].split_inclusive(|&b| b == b'\n') {
        let text = &line[..line.len() - 1];
        match Entry::parse_line(text) {
            Ok(e) => out.entries.push(e),
            Err(why) => out
                .problems
                .push(format!("byte {at}: not an entry, skipped: {why}")),
        }
        at += line.len() as u64;
    }
    Ok(out)
}
