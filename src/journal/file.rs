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
/// (minus `hash`), so anything edited in the line is caught; a deleted or reordered entry
/// shows as a seq jump. Lines that are not entries at all (a torn write, garbage) are warnings:
/// skipping them cannot hide an entry, since the next entry's seq and hash would not follow.
/// What the file alone cannot show is its last entries cut off: compare the last seq and
/// hash with a copy kept elsewhere (the Slack updates, another console) for that.
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(min: u32) -> Timestamp {
        format!("2026-11-25T03:{min:02}:00Z").parse().unwrap()
    }

    fn note(text: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("text".into(), json!(text));
        m
    }

    fn journal() -> (tempfile::TempDir, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("incidents/x.jsonl"))
            .unwrap()
            .with_actor("ana@bastion");
        (dir, j)
    }

    fn write_lines(path: &Path, lines: &[String]) {
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(path, text).unwrap();
    }

    fn file_lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    #[test]
    fn appends_chain_and_number_entries() {
        let (_d, j) = journal();
        assert_eq!(j.last().unwrap(), None);
        let a = j.append("note", note("one"), at(1)).unwrap();
        let b = j.append("declare", Map::new(), at(2)).unwrap();
        assert_eq!((a.seq, b.seq), (1, 2));
        assert_eq!(a.hash, chain_hash(GENESIS, &a.canonical()));
        assert_eq!(b.hash, chain_hash(&a.hash, &b.canonical()));
        assert_eq!(j.last().unwrap(), Some(b.clone()));
        let loaded = load(j.path()).unwrap();
        assert_eq!(loaded.entries, vec![a, b]);
        assert_eq!(loaded.lines, vec![1, 2]);
        assert!(loaded.torn.is_none() && loaded.problems.is_empty());
        let report = verify(j.path()).unwrap();
        assert!(report.ok() && report.warnings.is_empty(), "{report:?}");
        assert_eq!(report.entries, 2);
    }

    #[test]
    fn an_empty_journal_verifies() {
        let (_d, j) = journal();
        let report = verify(j.path()).unwrap();
        assert!(report.ok() && report.entries == 0 && report.warnings.is_empty());
        let loaded = load(j.path()).unwrap();
        assert!(loaded.entries.is_empty() && loaded.torn.is_none());
        assert!(matches!(
            verify(&j.path().with_extension("missing")),
            Err(JournalError::Io { op: "read", .. })
        ));
    }

    #[test]
    fn threads_of_one_process_exclude_each_other_too() {
        let (_d, j) = journal();
        std::thread::scope(|s| {
            for t in 0..4 {
                let j = j.clone();
                s.spawn(move || {
                    for i in 0..50 {
                        j.append("note", note(&format!("{t}/{i}")), at(1)).unwrap();
                    }
                });
            }
        });
        let loaded = load(j.path()).unwrap();
        let seqs: Vec<u64> = loaded.entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
        assert!(verify(j.path()).unwrap().ok());
    }

    #[test]
    fn reserved_fields_are_refused() {
        let (_d, j) = journal();
        let mut body = note("x");
        body.insert("seq".into(), json!(99));
        assert!(matches!(
            j.append("note", body, at(1)),
            Err(JournalError::ReservedField(f)) if f == "seq"
        ));
        assert_eq!(load(j.path()).unwrap().entries.len(), 0);
    }

    #[test]
    fn a_conditional_append_fails_once_the_journal_moved_on() {
        let (_d, j) = journal();
        let first = j.append_if(0, "step-start", note("s1"), at(1)).unwrap();
        assert_eq!(first.seq, 1);
        // Another console took the step first: seq 1 is no longer the last.
        j.append("note", note("meanwhile"), at(2)).unwrap();
        match j.append_if(1, "step-start", note("s1"), at(3)) {
            Err(JournalError::Conflict { last }) => assert_eq!(last, 2),
            other => panic!("{other:?}"),
        }
        assert_eq!(load(j.path()).unwrap().entries.len(), 2, "nothing written");
        assert_eq!(
            j.append_if(2, "step-start", note("s1"), at(3)).unwrap().seq,
            3
        );
        assert!(matches!(
            j.append_if(0, "x", Map::new(), at(4)),
            Err(JournalError::Conflict { last: 3 })
        ));
    }

    #[test]
    fn a_torn_last_line_is_reported_skipped_and_closed_by_the_next_append() {
        let (_d, j) = journal();
        let a = j.append("note", note("one"), at(1)).unwrap();
        let mut f = OpenOptions::new().append(true).open(j.path()).unwrap();
        f.write_all(br#"{"seq":2,"at":"2026-11-25T03:02:00Z","act"#)
            .unwrap();
        drop(f);

        let loaded = load(j.path()).unwrap();
        assert_eq!(loaded.entries, vec![a.clone()]);
        assert_eq!(loaded.torn, Some(TornLine { line: 2, bytes: 41 }));
        assert!(loaded.problems.is_empty());
        let report = verify(j.path()).unwrap();
        assert!(report.ok(), "{report:?}");
        assert!(report.warnings[0].starts_with("line 2: torn last line (41 bytes)"));
        assert_eq!(j.last().unwrap(), Some(a.clone()));

        let b = j.append("note", note("two"), at(2)).unwrap();
        assert_eq!(b.seq, 2);
        assert_eq!(b.hash, chain_hash(&a.hash, &b.canonical()));
        let lines = file_lines(j.path());
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2], b.to_line());
        let loaded = load(j.path()).unwrap();
        assert_eq!(loaded.entries, vec![a, b]);
        assert_eq!(loaded.lines, vec![1, 3]);
        assert!(loaded.torn.is_none());
        assert_eq!(loaded.problems.len(), 1);
        assert_eq!(loaded.problems[0].line, 2);
        let report = verify(j.path()).unwrap();
        assert!(report.ok(), "{report:?}");
        assert!(report.warnings[0].starts_with("line 2: not an entry, skipped"));
    }

    #[test]
    fn a_whole_entry_missing_only_its_newline_counts() {
        let (_d, j) = journal();
        let a = j.append("note", note("one"), at(1)).unwrap();
        let len = std::fs::metadata(j.path()).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(j.path())
            .unwrap()
            .set_len(len - 1)
            .unwrap();
        assert_eq!(load(j.path()).unwrap().entries, vec![a.clone()]);
        let b = j.append("note", note("two"), at(2)).unwrap();
        assert_eq!(b.seq, 2);
        assert_eq!(file_lines(j.path()), vec![a.to_line(), b.to_line()]);
        assert!(verify(j.path()).unwrap().ok());
    }

    #[test]
    fn verify_names_the_first_edited_entry() {
        let (_d, j) = journal();
        for i in 1..=20 {
            j.append("note", note(&format!("n{i}")), at(i)).unwrap();
        }
        let mut lines = file_lines(j.path());
        lines[16] = lines[16].replace("\"n17\"", "\"all fine\"");
        write_lines(j.path(), &lines);
        let report = verify(j.path()).unwrap();
        assert_eq!(
            report.first_break.as_deref(),
            Some(
                "line 17 (seq 17): hash does not match its content — edited? (or the entry before it was)"
            )
        );
        assert_eq!(report.entries, 20);

        // Re-hashing the edited entry moves the break to the next one: still caught.
        let mut e = Entry::parse_line(lines[16].as_bytes()).unwrap();
        let prev = Entry::parse_line(lines[15].as_bytes()).unwrap();
        e = Entry::seal(e.seq, e.at, e.actor, e.kind, e.body, &prev.hash);
        lines[16] = e.to_line();
        write_lines(j.path(), &lines);
        let report = verify(j.path()).unwrap();
        assert!(
            report
                .first_break
                .as_deref()
                .unwrap()
                .starts_with("line 18 (seq 18): hash"),
            "{report:?}"
        );
    }

    #[test]
    fn verify_names_a_deleted_entry() {
        let (_d, j) = journal();
        for i in 1..=20 {
            j.append("note", note(&format!("n{i}")), at(i)).unwrap();
        }
        let mut lines = file_lines(j.path());
        lines.remove(16);
        write_lines(j.path(), &lines);
        let report = verify(j.path()).unwrap();
        assert_eq!(
            report.first_break.as_deref(),
            Some("line 17 (seq 18): seq jumps from 16 to 18 — entries missing?")
        );

        // Deleting the last entries cannot be seen in the file itself, but a reordering can.
        let mut lines = file_lines(j.path());
        lines.swap(3, 4);
        write_lines(j.path(), &lines);
        let report = verify(j.path()).unwrap();
        assert_eq!(
            report.first_break.as_deref(),
            Some("line 4 (seq 5): seq jumps from 3 to 5 — entries missing?")
        );
    }

    #[test]
    fn garbage_lines_are_problems_not_errors() {
        let (_d, j) = journal();
        let a = j.append("note", note("one"), at(1)).unwrap();
        let mut f = OpenOptions::new().append(true).open(j.path()).unwrap();
        f.write_all(b"\xff\xfe not json\n\n[1,2]\n").unwrap();
        drop(f);
        let b = j.append("note", note("two"), at(2)).unwrap();
        assert_eq!(b.seq, 2, "chains from the last valid entry");
        let loaded = load(j.path()).unwrap();
        assert_eq!(loaded.entries, vec![a, b]);
        let lines: Vec<usize> = loaded.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 3, 4]);
        let report = verify(j.path()).unwrap();
        assert!(report.ok(), "{report:?}");
        assert_eq!(report.warnings.len(), 3);
    }

    #[test]
    fn the_last_entry_is_found_behind_a_long_tail() {
        // Longer than the first tail chunk, so the tail is read in growing chunks.
        let (_d, j) = journal();
        j.append("note", note("short"), at(1)).unwrap();
        let big = "x".repeat(300 * 1024);
        let e = j.append("note", note(&big), at(2)).unwrap();
        assert_eq!(j.last().unwrap().unwrap(), e);
        // A long torn fragment after it.
        let mut f = OpenOptions::new().append(true).open(j.path()).unwrap();
        f.write_all(format!("{{\"seq\":3,\"text\":\"{big}").as_bytes())
            .unwrap();
        drop(f);
        assert_eq!(j.last().unwrap().unwrap(), e);
        assert_eq!(j.append("note", note("after"), at(3)).unwrap().seq, 3);
        assert!(verify(j.path()).unwrap().ok());
    }

    #[test]
    fn follow_returns_only_complete_new_entries() {
        let (_d, j) = journal();
        let f0 = follow(j.path(), 0).unwrap();
        assert!(f0.entries.is_empty() && f0.offset == 0);
        let a = j.append("note", note("one"), at(1)).unwrap();
        let f1 = follow(j.path(), f0.offset).unwrap();
        assert_eq!(f1.entries, vec![a.clone()]);
        let mut f = OpenOptions::new().append(true).open(j.path()).unwrap();
        f.write_all(b"{\"seq\":2,").unwrap();
        drop(f);
        let f2 = follow(j.path(), f1.offset).unwrap();
        assert!(f2.entries.is_empty() && f2.problems.is_empty());
        assert_eq!(f2.offset, f1.offset, "the partial line is left for later");
        let b = j.append("note", note("two"), at(2)).unwrap();
        let f3 = follow(j.path(), f2.offset).unwrap();
        assert_eq!(f3.entries, vec![b]);
        assert_eq!(
            f3.problems.len(),
            1,
            "the torn fragment, closed by the append"
        );
        assert_eq!(f3.offset, std::fs::metadata(j.path()).unwrap().len());
        assert!(follow(j.path(), f3.offset).unwrap().entries.is_empty());
        assert!(matches!(
            follow(j.path(), f3.offset + 1),
            Err(JournalError::Shrunk { .. })
        ));
    }

    #[test]
    fn open_creates_private_directories() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j/incidents/drills/d.jsonl");
        Journal::open(&path).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("j/incidents")) & 0o027, 0);
        assert_eq!(mode(&path) & 0o037, 0);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        // Opening again keeps what is there.
        let j = Journal::open(&path).unwrap();
        j.append("x", Map::new(), at(1)).unwrap();
        Journal::open(&path).unwrap();
        assert_eq!(load(&path).unwrap().entries.len(), 1);
    }
}
