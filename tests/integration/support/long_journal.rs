//! A long incident, written the way the issue measured it: the journal's own line and hash
//! format, one buffered write after a first line appended through the journal (which makes
//! the directories with the modes a console trusts).

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use warroom::app::{DrLevel, EntryKind, HealthState, IncidentStatus};
use warroom::journal::{Journal, JournalEntry, incident_file_name, incidents_dir};

/// The time the long incident was declared.
pub fn declared() -> Timestamp {
    Timestamp::from_second(1_795_575_600).expect("time")
}

/// The note written as the incident's second line: the oldest thing to scroll back to.
pub const OLDEST_NOTE: &str = "first note: paged at 03:00, on the bridge";

/// Writes an open incident of `lines` entries under `<data>/incidents/`: declared, the
/// oldest note, then component state changes of 1000 services with a note every 50 lines,
/// one second apart. Returns its path.
pub fn write(data: &Path, lines: u64) -> PathBuf {
    let start = declared();
    let path = incidents_dir(data).join(incident_file_name(start, "long incident"));
    let at = |seq: u64| {
        start
            .checked_add(SignedDuration::from_secs(seq as i64))
            .expect("in range")
    };
    let journal = Journal::open(&path)
        .expect("open the journal")
        .with_actor("ana@bastion");
    let (kind, body) = EntryKind::Declared {
        title: "long incident".into(),
        level: DrLevel::new(3).expect("a level"),
        status: IncidentStatus::Investigating,
        commander: "ana@bastion".into(),
        started: start,
    }
    .to_journal();
    journal.append(&kind, body, at(1)).expect("declare");
    let mut prev = journal
        .last()
        .expect("read back")
        .expect("the declaration")
        .hash;
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("append");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    for seq in 2..=lines {
        let kind = if seq == 2 {
            EntryKind::Note {
                text: OLDEST_NOTE.into(),
            }
        } else if seq % 50 == 0 {
            EntryKind::Note {
                text: format!("note {seq}: checked the DR replica by hand"),
            }
        } else {
            EntryKind::ComponentState {
                component: format!("svc-{:04}", seq % 1000),
                from: HealthState::Up,
                to: HealthState::Down,
                reason: "connection refused".into(),
                since: start,
                rto: None,
                rpo: None,
                exposure: None,
            }
        };
        let (kind, body) = kind.to_journal();
        let entry = JournalEntry::seal(seq, at(seq), "ana@bastion".into(), kind, body, &prev);
        prev = entry.hash.clone();
        out.write_all(entry.to_line().as_bytes()).expect("write");
        out.write_all(b"\n").expect("write");
    }
    out.flush().expect("flush");
    path
}
