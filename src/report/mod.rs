//! `warroom report`: the post-incident report (or, for a drill, the DR test report) as
//! Markdown, from an incident's journal alone.
//!
//! [`render_to`] is pure but for writing: it takes the journal's entries (handed over in time
//! order, as often as asked: once for the facts, once for the timeline, so a long incident is
//! never held whole) and the result of verifying its chain, and writes the text as it goes;
//! reading the file is the command line's job. Every string that came from
//! the journal is cleaned of control characters and escape sequences and escaped for Markdown
//! ([`md::text`]) before it is written, so a note cannot drive the reader's terminal or break
//! a table.
//!
//! The timeline lists every entry in time order except `step_output` (a step may write many:
//! each step's count and last line are in Actions) and `comms_queued` (each update is in
//! Comms with its template, summary and result); the report says how many it left out.

mod drill;
pub mod facts;
mod incident;
pub mod md;
mod sections;

#[cfg(test)]
mod tests;

use crate::app::entry::Recorded;
use crate::journal::{Loaded, VerifyReport};

pub use facts::{JournalFacts, RpoVerdict, RtoVerdict, follow_up, in_time_order};

/// Appends one formatted line (writing to a String cannot fail).
macro_rules! say {
    ($out:expr) => {
        $out.push('\n')
    };
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}
pub(crate) use say;

/// Which report to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// A real incident: the post-incident report.
    Incident,
    /// A drill (its file is under `incidents/drills/`): the DR test report, in simulated time.
    Drill,
}

/// Every entry of a journal, handed to the visitor in time order (ties in journal order).
pub type Entries<'a> = &'a dyn Fn(&mut dyn FnMut(&Recorded));

/// A journal as read from its file.
#[derive(Clone, Copy)]
pub struct ReportInput<'a> {
    /// The incident's id: its file name without `.jsonl` (a drill's Test ID).
    pub id: &'a str,
    pub kind: ReportKind,
    /// What was skipped while reading it (a torn last line, lines that are not entries); its
    /// entries are not read here: [`ReportInput::entries`] are.
    pub loaded: &'a Loaded,
    pub verify: &'a VerifyReport,
    pub entries: Entries<'a>,
}

/// Where the report goes: text written out as it grows, so a long timeline is never held
/// whole.
pub(crate) struct Out<'w> {
    pub(crate) text: String,
    w: &'w mut dyn std::io::Write,
    err: Option<std::io::Error>,
}

impl Out<'_> {
    /// Writes out what is there once it is more than a little.
    pub(crate) fn spill(&mut self) {
        if self.text.len() >= 1 << 20 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.err.is_none()
            && let Err(e) = self.w.write_all(self.text.as_bytes())
        {
            self.err = Some(e);
        }
        self.text.clear();
    }
}

/// The report, written to `w` as it is made.
pub fn render_to(src: &ReportInput, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let facts = JournalFacts::fold(src.entries);
    let mut out = Out {
        text: String::new(),
        w,
        err: None,
    };
    match src.kind {
        ReportKind::Incident => incident::render(src, &facts, &mut out),
        ReportKind::Drill => drill::render(src, &facts, &mut out),
    }
    out.flush();
    match out.err {
        Some(e) => Err(e),
        None => out.w.flush(),
    }
}

/// The report as Markdown.
pub fn render(src: &ReportInput) -> String {
    let mut bytes = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = render_to(src, &mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}
