//! `warroom report`: the post-incident report (or, for a drill, the DR test report) as
//! Markdown, from an incident's journal alone.
//!
//! [`render`] is pure: it takes the loaded journal and the result of verifying its chain and
//! returns the text; reading the file is the command line's job. Every string that came from
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

use crate::journal::{Loaded, VerifyReport};

pub use facts::{JournalFacts, RpoVerdict, RtoVerdict, follow_up};

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

/// A journal as read from its file.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// The incident's id: its file name without `.jsonl` (a drill's Test ID).
    pub id: &'a str,
    pub kind: ReportKind,
    pub loaded: &'a Loaded,
    pub verify: &'a VerifyReport,
}

/// The report as Markdown.
pub fn render(src: &ReportInput) -> String {
    let facts = JournalFacts::from_entries(&src.loaded.entries);
    match src.kind {
        ReportKind::Incident => incident::render(src, &facts),
        ReportKind::Drill => drill::render(src, &facts),
    }
}
