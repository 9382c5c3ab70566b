//! Where each entry of a journal is, so entries can be read back in another order (the
//! report's time order) without holding them: about 32 bytes an entry, and one line at a time.

use super::*;

/// One entry of a journal: its time, and where its line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryAt {
    pub at: Timestamp,
    pub offset: u64,
    pub len: u64,
}

/// Every entry of the journal at `path` as it is when opened (its length then), in file
/// order, with the file opened for [`entry_at`]. Lines that are not entries are left out (as
/// [`load`] leaves them out of its entries).
pub fn index(path: &Path) -> Result<(File, Vec<EntryAt>), JournalError> {
    let file = open_nofollow(path).map_err(io(path, "read"))?;
    let len = file.metadata().map_err(io(path, "read"))?.len();
    let mut reader = std::io::BufReader::with_capacity(1 << 20, Read::take(&file, len));
    let mut out = Vec::new();
    let mut line = Vec::new();
    let mut offset = 0u64;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(io(path, "read"))?;
        if n == 0 {
            break;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let at = JournalEntry::parse_head(text)
            .map(|h| h.at)
            .or_else(|| JournalEntry::parse_line(text).ok().map(|e| e.at));
        if let Some(at) = at {
            out.push(EntryAt {
                at,
                offset,
                len: text.len() as u64,
            });
        }
        offset += n as u64;
    }
    Ok((file, out))
}

/// The entry where `at` says, read from `file` (from [`index`]); `None` if its line is no
/// longer an entry.
pub fn entry_at(file: &File, at: &EntryAt) -> Option<JournalEntry> {
    let mut line = vec![0u8; usize::try_from(at.len).ok()?];
    file.read_exact_at(&mut line, at.offset).ok()?;
    JournalEntry::parse_line(&line).ok()
}
