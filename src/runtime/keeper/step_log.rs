//! Step logs read back for the viewer: only a run's log beside the journal (a journal line
//! naming any other file is not read), checked as the journal's files are, its newest lines.

use std::os::unix::fs::FileExt;
use std::path::Component;

use super::*;
use crate::app::log_viewer::{LogTail, TAIL_LINES};

/// The most bytes read from the end of a log.
const TAIL_BYTES: u64 = 256 * 1024;

impl KeeperState {
    pub(super) fn read_step_log(&mut self, path: String) {
        let tail = self.step_log_tail(Path::new(&path));
        self.send(JournalEvent::StepLog { path, tail });
    }

    fn step_log_tail(&mut self, path: &Path) -> LogTail {
        let plain = path.components().all(|c| {
            matches!(
                c,
                Component::Normal(_) | Component::RootDir | Component::CurDir
            )
        });
        let in_steps = path
            .parent()
            .and_then(|d| d.file_name())
            .and_then(|d| Path::new(d).extension())
            .is_some_and(|e| e == crate::journal::dirs::STEPS_EXTENSION);
        let is_log = path.extension().is_some_and(|e| e == "log");
        if !(plain && in_steps && is_log && path.starts_with(&self.o.dir)) {
            return Err(format!(
                "{}: not a step log beside the journal: not read",
                path.display()
            ));
        }
        self.guard(path)?;
        // Opened by the same walk that checks it (each directory from the top with
        // `O_NOFOLLOW`, non-blocking): nothing can be swapped in between.
        let Some(team) = self.team.as_ref() else {
            return Err(format!(
                "{}: the journal dir is not there",
                self.o.dir.display()
            ));
        };
        let file = team
            .open_read(path)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{}: not there (yet)", path.display()))?;
        let meta = file
            .metadata()
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        if !meta.is_file() {
            return Err(format!("{}: not a file", path.display()));
        }
        let size = meta.len();
        let from = size.saturating_sub(TAIL_BYTES);
        let mut buf = vec![0u8; (size - from) as usize];
        let n = file
            .read_at(&mut buf, from)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        buf.truncate(n);
        let text = String::from_utf8_lossy(&buf);
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        if from > 0 && !lines.is_empty() {
            // Cut mid-line: the first is not whole.
            lines.remove(0);
        }
        let drop = lines.len().saturating_sub(TAIL_LINES);
        lines.drain(..drop);
        Ok((lines, size))
    }
}
