//! The incident journal's storage: one append-only JSON-lines file per incident, hash-chained,
//! appended under a file lock and fsynced (see DESIGN.md, "Journal").

pub mod dirs;
pub mod entry;
pub mod file;
pub mod seen;
pub mod trust;

pub use dirs::{
    drills_dir, incident_file_name, incidents_dir, journal_dir, latest, slug, unsafe_dir,
};
pub use entry::{GENESIS, JournalEntry, actor};
pub use file::{
    EntryAt, Followed, Journal, JournalError, Loaded, Problem, TornLine, VerifyReport, entry_at,
    follow, index, load, load_only, load_verified, load_verified_keeping, load_verified_with,
    verify,
};
