//! Loading and verifying a journal: the hash chain checked in parallel parts, then merged.

use super::*;

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
    read_journal(path, false, 0, usize::MAX, &|_| true, WINDOW).map(|(l, _)| l)
}

/// [`load`] and [`verify`] in one pass: each line is read and parsed once, and its hash
/// checked on the bytes just read; the report is the one [`verify`] gives. The file is read
/// in windows of [`WINDOW`] bytes of whole lines, each split at line boundaries and read on up
/// to [`MAX_THREADS`] threads (see [`load_verified_with`]).
pub fn load_verified(path: &Path) -> Result<(Loaded, VerifyReport), JournalError> {
    read_journal(path, true, 0, usize::MAX, &|_| true, WINDOW)
}

/// [`load_verified`] for a console: only the newest `keep` entries, and older ones whose head
/// `wanted` accepts (its seq, kind, actor, time and hash; no body), are read whole and
/// returned; the others are checked (seq and hash, from the line's bytes) without building
/// them, and memory is one window plus what is returned, however long the journal. The
/// report is the one [`verify`] gives.
pub fn load_verified_keeping(
    path: &Path,
    keep: usize,
    wanted: &(dyn Fn(&JournalEntry) -> bool + Sync),
) -> Result<(Loaded, VerifyReport), JournalError> {
    read_journal(path, true, 0, keep, wanted, WINDOW)
}

/// [`load`] of the newest `keep` entries and the older ones whose head `wanted` accepts (and
/// any line not read as a head), without checking the chain: what a console reads to decide
/// something (a claim, whether an incident is open, what was queued) in one window of
/// memory, however long the journal. With `keep` ≥ 1 the last entry is the file's last.
pub fn load_only(
    path: &Path,
    keep: usize,
    wanted: &(dyn Fn(&JournalEntry) -> bool + Sync),
) -> Result<Loaded, JournalError> {
    read_journal(path, false, 0, keep, wanted, WINDOW).map(|(l, _)| l)
}

/// [`load_verified`] on `threads` threads (1 to 16; fewer if the file has fewer lines), for
/// benches and tests: the result does not depend on it.
pub fn load_verified_with(
    path: &Path,
    threads: usize,
) -> Result<(Loaded, VerifyReport), JournalError> {
    read_journal(
        path,
        true,
        threads.clamp(1, 16),
        usize::MAX,
        &|_| true,
        WINDOW,
    )
}

/// How many bytes of whole lines are read and checked at a time: reading a journal takes
/// about this much memory (plus what is kept), however long the journal is. A line longer
/// than this is read whole all the same.
pub const WINDOW: usize = 16 << 20;

/// Reads the journal at `path` as it is when opened (its length then), window by window: the
/// chain is checked across windows, and heads that are not kept are dropped as soon as their
/// window is read. `keep` (newest lines read whole) needs the number of lines first: a first
/// pass counts them, reading the file in small pieces. `threads`: per window, 0 for as many
/// as it is worth (a small journal is read on the calling thread).
pub(super) fn read_journal(
    path: &Path,
    check: bool,
    threads: usize,
    keep: usize,
    wanted: &(dyn Fn(&JournalEntry) -> bool + Sync),
    window: usize,
) -> Result<(Loaded, VerifyReport), JournalError> {
    let mut file = open_nofollow(path).map_err(io(path, "read"))?;
    let len = file.metadata().map_err(io(path, "read"))?.len();
    // 0: as many as the file is worth (a small journal is read on this thread).
    let threads = match threads {
        0 => threads_for(len.min(window as u64) as usize),
        n => n,
    };
    // Lines as `read_part` numbers them: every '\n', plus the piece after the last.
    let whole_from = if keep == usize::MAX {
        0
    } else {
        let total = count_newlines(&mut file, len).map_err(io(path, "read"))? + 1;
        file.seek(SeekFrom::Start(0)).map_err(io(path, "read"))?;
        total.saturating_sub(keep).max(1)
    };
    let mut merger = Merger {
        drop_heads: keep != usize::MAX,
        ..Merger::default()
    };
    let mut prev = (0, genesis());
    let mut line_base = 0usize;
    let mut buf: Vec<u8> = Vec::new();
    let mut read: u64 = 0;
    loop {
        // Fill the window (more when one line is longer than it).
        let room = window.max(buf.len() + window.div_ceil(4)) - buf.len();
        let want = room.min((len - read) as usize);
        let start = buf.len();
        buf.resize(start + want, 0);
        file.read_exact(&mut buf[start..])
            .map_err(io(path, "read"))?;
        read += want as u64;
        let eof = read >= len;
        let cut = if eof {
            buf.len()
        } else {
            match buf.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                // No whole line yet: read on.
                None => continue,
            }
        };
        if cut > 0 {
            let window = &buf[..cut];
            let whole_from = whole_from.saturating_sub(line_base);
            let parts = read_window(window, check, threads, prev, whole_from, wanted);
            for part in parts {
                if let Some(end) = part.end {
                    prev = end;
                }
                line_base += part.lines;
                merger.push(part);
            }
            buf.drain(..cut);
        }
        if eof {
            break;
        }
    }
    Ok(merger.finish())
}

/// [`GENESIS`] as the bytes a chain starts from (seq 0's hash).
fn genesis() -> [u8; 64] {
    let mut g = [0u8; 64];
    g.copy_from_slice(GENESIS.as_bytes());
    g
}

/// The number of '\n' in the first `len` bytes of `file`, read in 1 MiB pieces.
fn count_newlines(file: &mut File, len: u64) -> std::io::Result<usize> {
    let mut piece = vec![0u8; 1 << 20];
    let mut left = len;
    let mut count = 0;
    while left > 0 {
        let n = (piece.len() as u64).min(left) as usize;
        file.read_exact(&mut piece[..n])?;
        count += piece[..n].iter().filter(|&&b| b == b'\n').count();
        left -= n as u64;
    }
    Ok(count)
}

/// At most this many threads read one journal.
pub const MAX_THREADS: usize = 4;

/// Below this many bytes per thread, a thread would cost more than it saves.
pub(super) const MIN_BYTES_PER_THREAD: usize = 1 << 20;

pub(super) fn threads_for(len: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores
        .min(MAX_THREADS)
        .min(len / MIN_BYTES_PER_THREAD)
        .max(1)
}

/// How an entry stands against the valid entry before it (seq 0 and [`GENESIS`] for the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
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
pub(super) struct Part {
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
    /// The last entry read (seq, hash), when checking: what the next part chains from.
    end: Option<(u64, [u8; 64])>,
}

/// Reads `chunk` (whole lines of a journal) into entries and, if `check`, the verdict of each
/// against the valid entry before it: `prev` (seq, hash) for the first.
/// Lines numbered below `whole_from` (counting from 1 at the start of the part) whose kind
/// `wanted` rejects are read as heads only ([`JournalEntry::parse_head`]) and dropped by the caller.
pub(super) fn read_part(
    chunk: &[u8],
    check: bool,
    prev: (u64, [u8; 64]),
    whole_from: usize,
    wanted: &(dyn Fn(&JournalEntry) -> bool + Sync),
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
            .filter(|h| !wanted(h));
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
                    part.end = Some((prev_seq, prev_hash));
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
pub(super) fn head_intact(
    head: &JournalEntry,
    line: &[u8],
    prev_seq: u64,
    prev_hash: &[u8; 64],
) -> bool {
    prev_seq.checked_add(1) == Some(head.seq)
        && line_hash(std::str::from_utf8(prev_hash).unwrap_or(GENESIS), line)
            .is_some_and(|h| h == head.hash.as_bytes())
}

pub(super) fn verdict(
    entry: &JournalEntry,
    line: &[u8],
    prev_seq: u64,
    prev_hash: &[u8; 64],
) -> Verdict {
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
pub(super) fn last_entry(bytes: &[u8]) -> Option<(u64, [u8; 64])> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    body.rsplit(|&b| b == b'\n').find_map(|line| {
        let e = JournalEntry::parse_line(line).ok()?;
        let mut hash = [0u8; 64];
        hash.copy_from_slice(e.hash.as_bytes());
        Some((e.seq, hash))
    })
}

/// Reads one window (whole lines of a journal) on up to `threads` threads: it is cut into that
/// many stretches of whole lines, each read (and checked, each entry against the entry before
/// it: `prev` for the first stretch, the last entry of the stretch before for the others) on
/// its own. Lines numbered below `whole_from` (counting from 1 at the window's start) whose
/// head `wanted` rejects are read as heads only.
pub(super) fn read_window(
    bytes: &[u8],
    check: bool,
    threads: usize,
    prev: (u64, [u8; 64]),
    whole_from: usize,
    wanted: &(dyn Fn(&JournalEntry) -> bool + Sync),
) -> Vec<Part> {
    // Stretch starts: after the first '\n' at or past each (k/threads)th of the window.
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
    let mut bases = Vec::with_capacity(starts.len());
    let mut base = 0;
    for k in 0..starts.len() {
        bases.push(base);
        base += stretch(k).iter().filter(|&&b| b == b'\n').count();
    }
    let read = |k: usize| {
        let prev = match k {
            0 => prev,
            _ if !check => (0, genesis()),
            _ => last_entry(&bytes[..starts[k]]).unwrap_or(prev),
        };
        read_part(
            stretch(k),
            check,
            prev,
            whole_from.saturating_sub(bases[k]),
            wanted,
        )
    };
    std::thread::scope(|s| {
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
    })
}

/// Puts the parts read by [`read_window`] back together, in order, window after window: where
/// the first break is found; with `drop_heads`, entries read as heads only are dropped as
/// soon as their verdict is known (memory stays what is returned).
#[derive(Default)]
pub(super) struct Merger {
    out: Loaded,
    report: VerifyReport,
    canonical: usize,
    first_canonical: usize,
    /// Lines before the part being pushed.
    offset: usize,
    pub(super) drop_heads: bool,
}

impl Merger {
    pub(super) fn push(&mut self, mut part: Part) {
        let offset = self.offset;
        let report = &mut self.report;
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
        let heads = part.heads.into_iter().chain(std::iter::repeat(false));
        for (((entry, n), verdict), head) in part
            .loaded
            .entries
            .into_iter()
            .zip(part.loaded.lines)
            .zip(verdicts)
            .zip(heads)
        {
            let n = n + offset;
            report.entries += 1;
            if report.first_break.is_none() {
                let seq = entry.seq;
                report.first_break = match verdict {
                    Verdict::Unchecked | Verdict::Intact => None,
                    Verdict::Canonical => {
                        if self.canonical == 0 {
                            self.first_canonical = n;
                        }
                        self.canonical += 1;
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
            if head && self.drop_heads {
                continue;
            }
            self.out.entries.push(entry);
            self.out.lines.push(n);
        }
        self.out.problems.append(&mut part.loaded.problems);
        // Only the last line of the file can be torn.
        if torn.is_some() {
            self.out.torn = torn;
        }
        self.offset += part.lines;
    }

    pub(super) fn finish(mut self) -> (Loaded, VerifyReport) {
        if self.canonical > 0 {
            let more = match self.canonical - 1 {
                0 => String::new(),
                1 => " and 1 more entry".into(),
                k => format!(" and {k} more entries"),
            };
            self.report.warnings.push(format!(
                "line {}{more}: hash over the entry's canonical JSON (the earlier \
                 form: an older warroom or another writer), accepted; for these the key order and \
                 spacing of the line are not covered",
                self.first_canonical
            ));
        }
        (self.out, self.report)
    }
}

/// Splits into (index, line without its '\n', terminated by '\n').
pub(super) fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8], bool)> {
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
    // Nothing kept: memory is one window however long the journal.
    load_verified_keeping(path, 0, &|_| false).map(|(_, report)| report)
}
