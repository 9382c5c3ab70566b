//! Pages of a journal read back by seq, for a console that keeps only its newest lines: a
//! sparse index (the byte offset of every [`STRIDE`]th line, about 8 bytes per thousand
//! lines) is built once and extended as the file grows, so a page of older entries costs a
//! seek and the lines of the page, not a pass over the whole file.

use super::*;

/// Lines between two offsets kept by the index.
pub const STRIDE: u64 = 1024;

/// The most entries one page returns, whatever is asked.
pub const PAGE_MAX: u64 = 4096;

/// One page: the entries whose seq is in the range asked, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub entries: Vec<JournalEntry>,
    /// Nothing in the file is older than the range asked (it reached the file's first line).
    pub start: bool,
}

/// A journal file's sparse index.
#[derive(Debug)]
pub struct Pages {
    path: PathBuf,
    file: File,
    /// `offsets[i]`: where line `i * STRIDE` starts.
    offsets: Vec<u64>,
    /// Complete lines indexed, and where the next one starts.
    lines: u64,
    indexed_to: u64,
    /// The seq of the first line, once read.
    first_seq: Option<u64>,
    /// Lines that are not entries before the last page found (its entries are that many
    /// lines further down than their seqs say).
    shift: i128,
}

impl Pages {
    /// Opens the file (never through a symbolic link); nothing is read yet.
    pub fn open(path: &Path) -> Result<Pages, JournalError> {
        let file = open_nofollow(path).map_err(io(path, "read"))?;
        Ok(Pages {
            path: path.to_path_buf(),
            file,
            offsets: Vec::new(),
            lines: 0,
            indexed_to: 0,
            first_seq: None,
            shift: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this index is of the file now at `path` (not one renamed over it).
    pub fn is_of(&self, path: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        let (Ok(now), Ok(ours)) = (std::fs::symlink_metadata(path), self.file.metadata()) else {
            return false;
        };
        self.path == path && now.ino() == ours.ino() && now.dev() == ours.dev()
    }

    /// Indexes the lines appended since the last call.
    fn extend(&mut self) -> Result<(), JournalError> {
        let len = self.file.metadata().map_err(io(&self.path, "read"))?.len();
        if len < self.indexed_to {
            return Err(JournalError::Shrunk {
                path: self.path.clone(),
                len,
                offset: self.indexed_to,
            });
        }
        let mut buf = vec![0u8; 1 << 20];
        let mut at = self.indexed_to;
        while at < len {
            let want = buf.len().min((len - at) as usize);
            let n = self
                .file
                .read_at(&mut buf[..want], at)
                .map_err(io(&self.path, "read"))?;
            if n == 0 {
                break;
            }
            for (i, _) in buf[..n].iter().enumerate().filter(|(_, b)| **b == b'\n') {
                // A line ends here: the next one starts after it.
                if self.lines.is_multiple_of(STRIDE) {
                    self.offsets.push(self.indexed_to);
                }
                self.lines += 1;
                self.indexed_to = at + i as u64 + 1;
            }
            at += n as u64;
        }
        Ok(())
    }

    /// The line starting at `offset`, without its `\n` (None past the last complete line).
    fn line_at(&self, offset: u64, buf: &mut Vec<u8>) -> Result<Option<u64>, JournalError> {
        buf.clear();
        if offset >= self.indexed_to {
            return Ok(None);
        }
        let mut chunk = [0u8; 8192];
        let mut at = offset;
        loop {
            let want = chunk.len().min((self.indexed_to - at) as usize);
            let n = self
                .file
                .read_at(&mut chunk[..want], at)
                .map_err(io(&self.path, "read"))?;
            if n == 0 {
                return Ok(None);
            }
            if let Some(end) = chunk[..n].iter().position(|b| *b == b'\n') {
                buf.extend_from_slice(&chunk[..end]);
                return Ok(Some(at + end as u64 + 1));
            }
            buf.extend_from_slice(&chunk[..n]);
            at += n as u64;
        }
    }

    /// The entries whose seq is in `from..=to` (at most [`PAGE_MAX`], the newest of them),
    /// oldest first. Lines that are not entries are skipped, as every reader skips them.
    pub fn read(&mut self, from: u64, to: u64) -> Result<Page, JournalError> {
        self.extend()?;
        let from = from.max(to.saturating_sub(PAGE_MAX - 1));
        let mut buf = Vec::new();
        if self.first_seq.is_none() {
            let mut offset = 0;
            while let Some(next) = self.line_at(offset, &mut buf)? {
                if let Some(h) = JournalEntry::parse_head(&buf) {
                    self.first_seq = Some(h.seq);
                    break;
                }
                offset = next;
            }
        }
        let Some(first) = self.first_seq else {
            return Ok(Page {
                entries: Vec::new(),
                start: true,
            });
        };
        let start = from <= first;
        if to < first {
            return Ok(Page {
                entries: Vec::new(),
                start,
            });
        }
        // In a journal of one line per entry, entry `seq` is line `seq - first`: a seek to the
        // indexed line before it, then a few lines. Any other line (a torn fragment, garbage)
        // shifts the numbering: the entry found there says by how much, and the shift is kept
        // for the next page; only if that does not find it is the page read from the start.
        let wanted = (from.max(first) - first) as i128;
        let mut line = wanted + self.shift;
        for _ in 0..8 {
            let Ok(at) = u64::try_from(line) else { break };
            match self.scan((at / STRIDE) as usize, at % STRIDE, from, to, &mut buf)? {
                Scan::Found(entries) => {
                    self.shift = line - wanted;
                    return Ok(Page { entries, start });
                }
                Scan::Elsewhere(Some(seq)) => line += from as i128 - seq as i128,
                Scan::Elsewhere(None) => line += 1,
            }
        }
        let entries = match self.scan(0, 0, from, to, &mut buf)? {
            Scan::Found(e) => e,
            Scan::Elsewhere(_) => Vec::new(),
        };
        Ok(Page { entries, start })
    }

    /// Reads from indexed line `block * STRIDE`, skips `skip` lines, and collects the
    /// entries of `from..=to`; `Elsewhere` (with the seq found, if an entry) when the first
    /// line read is not entry `from` where the index said it would be.
    fn scan(
        &self,
        block: usize,
        skip: u64,
        from: u64,
        to: u64,
        buf: &mut Vec<u8>,
    ) -> Result<Scan, JournalError> {
        let Some(&(mut offset)) = self.offsets.get(block) else {
            return Ok(Scan::Found(Vec::new()));
        };
        let exact = block > 0 || skip > 0;
        for _ in 0..skip {
            match self.line_at(offset, buf)? {
                Some(next) => offset = next,
                None => return Ok(Scan::Found(Vec::new())),
            }
        }
        let mut out = Vec::new();
        let mut first = true;
        while let Some(next) = self.line_at(offset, buf)? {
            offset = next;
            let Some(head) =
                JournalEntry::parse_head(buf).or_else(|| JournalEntry::parse_line(buf).ok())
            else {
                if exact && first {
                    return Ok(Scan::Elsewhere(None));
                }
                continue;
            };
            if exact && first && head.seq != from {
                return Ok(Scan::Elsewhere(Some(head.seq)));
            }
            first = false;
            if head.seq > to {
                break;
            }
            if head.seq < from {
                continue;
            }
            if let Ok(e) = JournalEntry::parse_line(buf) {
                out.push(e);
            }
        }
        Ok(Scan::Found(out))
    }
}

/// What one scan found.
enum Scan {
    Found(Vec<JournalEntry>),
    Elsewhere(Option<u64>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(lines: u64) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("i.jsonl");
        let j = Journal::open(&path).expect("open");
        for n in 1..=lines {
            let mut body = Map::new();
            body.insert("text".into(), Value::String(format!("note {n}")));
            j.append("note", body, Timestamp::from_second(n as i64).expect("t"))
                .expect("append");
        }
        (dir, path)
    }

    fn seqs(p: &Page) -> Vec<u64> {
        p.entries.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn a_page_is_the_entries_asked_for_across_the_index_strides() {
        let (_d, path) = journal(3000);
        let mut pages = Pages::open(&path).expect("open");
        let p = pages.read(1000, 2100).expect("read");
        assert_eq!(seqs(&p), (1000..=2100).collect::<Vec<_>>());
        assert!(!p.start);
        assert_eq!(p.entries[0].body["text"], "note 1000");
        let p = pages.read(1, 10).expect("read");
        assert_eq!(seqs(&p), (1..=10).collect::<Vec<_>>());
        assert!(p.start, "seq 1 is the file's first");
        let p = pages.read(2990, 4000).expect("read");
        assert_eq!(seqs(&p), (2990..=3000).collect::<Vec<_>>());
    }

    #[test]
    fn lines_appended_later_are_indexed_and_a_page_is_capped() {
        let (_d, path) = journal(10);
        let mut pages = Pages::open(&path).expect("open");
        assert_eq!(seqs(&pages.read(1, 10).expect("read")).len(), 10);
        let j = Journal::open(&path).expect("open");
        for n in 11..=5000u64 {
            j.append(
                "note",
                Map::new(),
                Timestamp::from_second(n as i64).expect("t"),
            )
            .expect("append");
        }
        let p = pages.read(1, 5000).expect("read");
        assert_eq!(p.entries.len() as u64, PAGE_MAX, "at most a page");
        assert_eq!(
            p.entries.last().map(|e| e.seq),
            Some(5000),
            "the newest of it"
        );
    }

    #[test]
    fn a_garbage_line_shifts_the_numbering_and_the_page_is_still_found() {
        let (_d, path) = journal(2100);
        // A garbage line after line 5: every entry after it is one line further down.
        let text = std::fs::read_to_string(&path).expect("read");
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(5, "not a journal line");
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        let mut pages = Pages::open(&path).expect("open");
        let p = pages.read(1500, 1510).expect("read");
        assert_eq!(seqs(&p), (1500..=1510).collect::<Vec<_>>());
    }

    #[test]
    fn pages_on_both_sides_of_several_garbage_lines_are_found() {
        let (_d, path) = journal(5000);
        let text = std::fs::read_to_string(&path).expect("read");
        let mut lines: Vec<&str> = text.lines().collect();
        // Three lines that are not entries: after entries 100, 2000 and 2001.
        for at in [2001, 2000, 100] {
            lines.insert(at, "{\"torn\":");
        }
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        let mut pages = Pages::open(&path).expect("open");
        // Later pages first (the shift learned there is wrong for the earlier ones), then
        // back and forth.
        for (from, to) in [(4000, 4999), (50, 150), (1990, 2010), (3000, 3999), (1, 99)] {
            let p = pages.read(from, to).expect("read");
            assert_eq!(seqs(&p), (from..=to).collect::<Vec<_>>(), "{from}..={to}");
        }
    }

    #[test]
    fn a_file_that_shrank_is_refused() {
        let (_d, path) = journal(20);
        let mut pages = Pages::open(&path).expect("open");
        pages.read(1, 5).expect("read");
        let f = OpenOptions::new().write(true).open(&path).expect("open");
        f.set_len(10).expect("truncate");
        assert!(matches!(pages.read(1, 5), Err(JournalError::Shrunk { .. })));
    }

    #[test]
    fn an_empty_or_missing_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(Pages::open(&dir.path().join("none.jsonl")).is_err());
        let path = dir.path().join("empty.jsonl");
        std::fs::write(&path, "").expect("write");
        let p = Pages::open(&path).expect("open").read(1, 10).expect("read");
        assert!(p.entries.is_empty() && p.start);
    }
}
