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
fn read_nofollow(path: &Path) -> Result<Vec<u8>, JournalError> {
    let mut bytes = Vec::new();
    open_nofollow(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io(path, "read"))?;
    Ok(bytes)
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

/// A whole journal as read.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Every valid entry, in file order, each with its 1-based line number.
    pub entries: Vec<JournalEntry>,
    /// The line number of each entry of `entries`.
    pub lines: Vec<usize>,
    pub torn: Option<TornLine>,
    /// Lines before the last that are not entries (a torn write closed by a later append, a
    /// hand edit…), skipped.
    pub problems: Vec<Problem>,
}

/// Reads every line of the journal at `path`, without checking the hash chain (see
/// [`load_verified`] for both in one pass). Lines of any length are fine; lines that are not
/// entries become [`Loaded::problems`] (or [`Loaded::torn`] for an unterminated last line),
/// never errors. Unknown kinds are entries like any other.
pub fn load(path: &Path) -> Result<Loaded, JournalError> {
    let bytes = read_nofollow(path)?;
    Ok(scan(&bytes, false, threads_for(bytes.len())).0)
}

/// [`load`] and [`verify`] in one pass: each line is read and parsed once, and its hash
/// checked on the bytes just read; the report is the one [`verify`] gives. What the console
/// uses. A big journal is split at line boundaries and read on up to [`MAX_THREADS`] threads
/// (see [`load_verified_with`]).
pub fn load_verified(path: &Path) -> Result<(Loaded, VerifyReport), JournalError> {
    let bytes = read_nofollow(path)?;
    Ok(scan(&bytes, true, threads_for(bytes.len())))
}

/// [`load_verified`] for a console: only the newest `keep` entries, and older ones whose kind
/// `wanted` accepts, are read whole and returned; the others are checked (seq and hash, from
/// the line's bytes) without building them. The report is the one [`verify`] gives.
pub fn load_verified_keeping(
    path: &Path,
    keep: usize,
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> Result<(Loaded, VerifyReport), JournalError> {
    let bytes = read_nofollow(path)?;
    let (mut loaded, report, heads) =
        scan_keeping(&bytes, true, threads_for(bytes.len()), keep, wanted);
    let mut is_head = heads.into_iter();
    let mut lines = std::mem::take(&mut loaded.lines).into_iter();
    loaded.entries.retain(|_| {
        let n = lines.next().unwrap_or(0);
        let whole = !is_head.next().unwrap_or(false);
        if whole {
            loaded.lines.push(n);
        }
        whole
    });
    Ok((loaded, report))
}

/// [`load_verified`] on `threads` threads (1 to 16; fewer if the file has fewer lines), for
/// benches and tests: the result does not depend on it.
pub fn load_verified_with(
    path: &Path,
    threads: usize,
) -> Result<(Loaded, VerifyReport), JournalError> {
    let bytes = read_nofollow(path)?;
    Ok(scan(&bytes, true, threads.clamp(1, 16)))
}

/// At most this many threads read one journal.
pub const MAX_THREADS: usize = 4;
/// Below this many bytes per thread, a thread would cost more than it saves.
const MIN_BYTES_PER_THREAD: usize = 1 << 20;

fn threads_for(len: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores
        .min(MAX_THREADS)
        .min(len / MIN_BYTES_PER_THREAD)
        .max(1)
}

/// How an entry stands against the valid entry before it (seq 0 and [`GENESIS`] for the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Not checked (a load without verifying).
    Unchecked,
    /// seq follows, and the hash of its line as written matches.
    Intact,
    /// seq follows, and the hash matches in the earlier form (its canonical JSON).
    Canonical,
    /// seq does not follow `prev_seq`.
    Seq { prev_seq: u64 },
    /// seq follows but the hash does not match; `own_form`: the line ends in the hash member
    /// as warroom writes it.
    Hash { own_form: bool },
}

/// One stretch of whole lines, read on its own (possibly on its own thread).
#[derive(Default)]
struct Part {
    /// Line numbers in `loaded` count from 1 at the start of the part.
    loaded: Loaded,
    /// One per entry of `loaded.entries`.
    verdicts: Vec<Verdict>,
    /// Why the torn line, if any, is not an entry.
    torn_why: String,
    /// Lines in the part.
    lines: usize,
    /// One per entry of `loaded.entries`: read as a head only (not to be returned).
    heads: Vec<bool>,
}

/// Reads `chunk` (whole lines of a journal) into entries and, if `check`, the verdict of each
/// against the valid entry before it: `prev` (seq, hash) for the first.
/// Lines numbered below `whole_from` (counting from 1 at the start of the part) whose kind
/// `wanted` rejects are read as heads only ([`JournalEntry::parse_head`]) and dropped by the caller.
fn read_part(
    chunk: &[u8],
    check: bool,
    prev: (u64, [u8; 64]),
    whole_from: usize,
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> Part {
    let (mut prev_seq, mut prev_hash) = prev;
    let mut part = Part::default();
    let lines_hint = chunk.iter().filter(|&&b| b == b'\n').count() + 1;
    part.loaded.entries.reserve(lines_hint);
    part.loaded.lines.reserve(lines_hint);
    if check {
        part.verdicts.reserve(lines_hint);
    }
    for (idx, line, terminated) in lines(chunk) {
        let n = idx + 1;
        part.lines = n;
        let head = (n < whole_from && terminated)
            .then(|| JournalEntry::parse_head(line))
            .flatten()
            .filter(|h| !wanted(&h.kind));
        let (parsed, is_head) = match head {
            Some(h) if !check || head_intact(&h, line, prev_seq, &prev_hash) => (Ok(h), true),
            // Anything but an intact line is read whole, for the whole story.
            _ => (JournalEntry::parse_line(line), false),
        };
        match parsed {
            Ok(entry) => {
                if check {
                    part.verdicts
                        .push(verdict(&entry, line, prev_seq, &prev_hash));
                    prev_seq = entry.seq;
                    prev_hash.copy_from_slice(entry.hash.as_bytes());
                }
                part.loaded.entries.push(entry);
                part.loaded.lines.push(n);
                part.heads.push(is_head);
            }
            Err(why) if !terminated => {
                part.loaded.torn = Some(TornLine {
                    line: n,
                    bytes: line.len(),
                });
                part.torn_why = why;
            }
            Err(why) => part.loaded.problems.push(Problem { line: n, why }),
        }
    }
    part
}

/// A head whose seq follows and whose line hashes to its hash: nothing more to read.
fn head_intact(head: &JournalEntry, line: &[u8], prev_seq: u64, prev_hash: &[u8; 64]) -> bool {
    prev_seq.checked_add(1) == Some(head.seq)
        && line_hash(std::str::from_utf8(prev_hash).unwrap_or(GENESIS), line)
            .is_some_and(|h| h == head.hash.as_bytes())
}

fn verdict(entry: &JournalEntry, line: &[u8], prev_seq: u64, prev_hash: &[u8; 64]) -> Verdict {
    if prev_seq.checked_add(1) != Some(entry.seq) {
        return Verdict::Seq { prev_seq };
    }
    // GENESIS and the hashes of entries are ASCII hex.
    let prev = std::str::from_utf8(prev_hash).unwrap_or(GENESIS);
    let own = line_hash(prev, line);
    if own.is_some_and(|h| h == entry.hash.as_bytes()) {
        Verdict::Intact
    } else if chain_hash(prev, entry.canonical()) == entry.hash {
        // Only here, off the common path, is JSON re-serialized.
        Verdict::Canonical
    } else {
        Verdict::Hash {
            own_form: own.is_some(),
        }
    }
}

/// The seq and hash of the last valid entry in `bytes` (whole lines), if any.
fn last_entry(bytes: &[u8]) -> Option<(u64, [u8; 64])> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    body.rsplit(|&b| b == b'\n').find_map(|line| {
        let e = JournalEntry::parse_line(line).ok()?;
        let mut hash = [0u8; 64];
        hash.copy_from_slice(e.hash.as_bytes());
        Some((e.seq, hash))
    })
}

/// Reads a whole journal on up to `threads` threads: the file is cut into that many stretches
/// of whole lines, each read (and checked, each entry against the entry before it, which for
/// the first of a stretch is looked up at the end of the stretch before) on its own; then the
/// stretches are put back together in order, which is where the first break is found.
fn scan(bytes: &[u8], check: bool, threads: usize) -> (Loaded, VerifyReport) {
    let (loaded, report, _) = scan_keeping(bytes, check, threads, usize::MAX, &|_| true);
    (loaded, report)
}

/// [`scan`], reading whole only the newest `keep` lines and the lines whose kind `wanted`
/// accepts; the others are checked from their head and left out of the entries.
fn scan_keeping(
    bytes: &[u8],
    check: bool,
    threads: usize,
    keep: usize,
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> (Loaded, VerifyReport, Vec<bool>) {
    let mut genesis = [0u8; 64];
    genesis.copy_from_slice(GENESIS.as_bytes());
    // Stretch starts: after the first '\n' at or past each (k/threads)th of the file.
    let mut starts = vec![0];
    for k in 1..threads {
        let from = (bytes.len() * k / threads).max(*starts.last().unwrap_or(&0));
        match bytes[from..].iter().position(|&b| b == b'\n') {
            Some(i) if from + i + 1 < bytes.len() => starts.push(from + i + 1),
            _ => break,
        }
    }
    starts.dedup();
    let stretch = |k: usize| {
        let end = starts.get(k + 1).copied().unwrap_or(bytes.len());
        &bytes[starts[k]..end]
    };
    // Where the whole lines start, in each stretch's own numbering.
    let total = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    let whole_from_global = total.saturating_sub(keep).max(1);
    let mut bases = Vec::with_capacity(starts.len());
    let mut base = 0;
    for k in 0..starts.len() {
        bases.push(base);
        base += stretch(k).iter().filter(|&&b| b == b'\n').count();
    }
    let read = |k: usize| {
        let prev = match k {
            0 => (0, genesis),
            _ if !check => (0, genesis),
            _ => last_entry(&bytes[..starts[k]]).unwrap_or((0, genesis)),
        };
        let whole_from = whole_from_global.saturating_sub(bases[k]);
        read_part(stretch(k), check, prev, whole_from, wanted)
    };
    let parts: Vec<Part> = std::thread::scope(|s| {
        let others: Vec<_> = (1..starts.len())
            .map(|k| {
                let read = &read;
                (
                    k,
                    std::thread::Builder::new().spawn_scoped(s, move || read(k)),
                )
            })
            .collect();
        let mut parts = vec![read(0)];
        for (k, handle) in others {
            // A thread that could not start, or died, is read again here.
            parts.push(
                handle
                    .ok()
                    .and_then(|h| h.join().ok())
                    .unwrap_or_else(|| read(k)),
            );
        }
        parts
    });
    merge(parts)
}

/// Puts the parts read by [`scan`] back together, in order.
fn merge(parts: Vec<Part>) -> (Loaded, VerifyReport, Vec<bool>) {
    let mut heads = Vec::new();
    let mut out = Loaded::default();
    let mut report = VerifyReport::default();
    let (mut canonical, mut first_canonical) = (0usize, 0usize);
    let mut offset = 0;
    for (k, mut part) in parts.into_iter().enumerate() {
        let mut torn = part.loaded.torn.take();
        // Problems and the torn line, as warnings, in line order.
        for p in &mut part.loaded.problems {
            p.line += offset;
            report
                .warnings
                .push(format!("line {}: not an entry, skipped: {}", p.line, p.why));
        }
        if let Some(t) = &mut torn {
            t.line += offset;
            report.warnings.push(format!(
                "line {}: torn last line ({} bytes), skipped: {}",
                t.line, t.bytes, part.torn_why
            ));
        }
        let verdicts = part
            .verdicts
            .into_iter()
            .chain(std::iter::repeat(Verdict::Unchecked));
        for ((entry, n), verdict) in part
            .loaded
            .entries
            .iter()
            .zip(&mut part.loaded.lines)
            .zip(verdicts)
        {
            *n += offset;
            report.entries += 1;
            if report.first_break.is_some() {
                continue;
            }
            let (n, seq) = (*n, entry.seq);
            report.first_break = match verdict {
                Verdict::Unchecked | Verdict::Intact => None,
                Verdict::Canonical => {
                    if canonical == 0 {
                        first_canonical = n;
                    }
                    canonical += 1;
                    None
                }
                Verdict::Seq { prev_seq } if seq <= prev_seq => Some(format!(
                    "line {n} (seq {seq}): seq goes back from {prev_seq} to {seq}"
                )),
                Verdict::Seq { prev_seq } => Some(format!(
                    "line {n} (seq {seq}): seq jumps from {prev_seq} to {seq} — entries missing?"
                )),
                Verdict::Hash { own_form: true } => Some(format!(
                    "line {n} (seq {seq}): hash does not match its content — edited? (or the entry before it was)"
                )),
                Verdict::Hash { own_form: false } => Some(format!(
                    "line {n} (seq {seq}): hash does not match its content, and the line does not \
                     end in `,\"hash\":\"…\"}}` as warroom writes it — rewritten by another tool, or edited?"
                )),
            };
        }
        offset += part.lines;
        heads.append(&mut part.heads);
        if k == 0 {
            out = part.loaded;
        } else {
            out.entries.append(&mut part.loaded.entries);
            out.lines.append(&mut part.loaded.lines);
            out.problems.append(&mut part.loaded.problems);
        }
        // Only the last line of the file can be torn.
        if torn.is_some() {
            out.torn = torn;
        }
    }
    if canonical > 0 {
        let more = match canonical - 1 {
            0 => String::new(),
            1 => " and 1 more entry".into(),
            k => format!(" and {k} more entries"),
        };
        report.warnings.push(format!(
            "line {first_canonical}{more}: hash over the entry's canonical JSON (the earlier \
             form: an older warroom or another writer), accepted; for these the key order and \
             spacing of the line are not covered"
        ));
    }
    (out, report, heads)
}

/// Splits into (index, line without its '\n', terminated by '\n').
fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8], bool)> {
    let mut rest = bytes;
    let mut index = 0;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let piece = rest;
        // `skip_until` on a slice looks for the '\n' with memchr; it cannot fail.
        let len = rest.skip_until(b'\n').unwrap_or(piece.len());
        let piece = &piece[..len];
        index += 1;
        Some(match piece.strip_suffix(b"\n") {
            Some(line) => (index - 1, line, true),
            None => (index - 1, piece, false),
        })
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
    /// entry still shows up as a break at the next one), entries hashed in the earlier
    /// (canonical) form.
    pub warnings: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Recomputes the chain of the journal at `path` (for `warroom journal verify`; the console
/// uses [`load_verified`], which gives the same report). Each entry must have seq = the
/// previous one's + 1 (1 for the first) and hash = SHA-256(previous hash ‖ the line as written
/// without its final `hash` member), see [`crate::journal::entry`]; the first entry that does
/// not is the break. The hash is recomputed from the bytes of the line as read, so any byte
/// edited in it is caught (a changed value, a reordered key, spacing); a deleted or reordered
/// entry shows as a seq jump. An entry whose hash matches the earlier form (its canonical
/// JSON) instead is accepted with a warning. Lines that are not entries at all (a torn write,
/// garbage) are warnings: skipping them cannot hide an entry, since the next entry's seq and
/// hash would not follow. What the file alone cannot show is its last entries cut off:
/// compare the last seq and hash with a copy kept elsewhere (the Slack updates, another
/// console) for that.
pub fn verify(path: &Path) -> Result<VerifyReport, JournalError> {
    load_verified(path).map(|(_, report)| report)
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
