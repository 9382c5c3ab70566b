//! Episodes: where a failure began and whether an incident has ended, read from journal
//! lines. Domain rules the journal keeper (declaring from the first failure, finding the
//! open incident) and the model (the incident's start) both apply.

use jiff::Timestamp;
use serde_json::Value;

use crate::app::EntryKind;
use crate::app::{BackupState, HealthState, LagState, RpoLevel, Severity};
use crate::journal::JournalEntry;

/// Whether these lines resolve the incident (the last status entry says resolved).
pub fn resolved(entries: &[JournalEntry]) -> bool {
    entries
        .iter()
        .rev()
        .find_map(|e| match e.kind.as_str() {
            "status" => Some(e.body.get("to").and_then(Value::as_str) == Some("resolved")),
            "declared" => Some(e.body.get("status").and_then(Value::as_str) == Some("resolved")),
            _ => None,
        })
        .unwrap_or(false)
}

/// Whether a watch-log line says something failed.
pub fn is_failure(kind: &EntryKind) -> bool {
    match kind {
        EntryKind::ComponentState { to, .. } => *to != HealthState::Up,
        EntryKind::LagLevel { to, .. } => *to != LagState::Ok,
        EntryKind::BackupLevel { to, .. } => *to != BackupState::Ok,
        EntryKind::RpoExposure { to, .. } => matches!(to, RpoLevel::AtRisk | RpoLevel::Breached),
        EntryKind::RtoBreached { .. } => true,
        EntryKind::Severity { to, .. } => !matches!(to, Severity::Healthy | Severity::Observing),
        _ => false,
    }
}

/// When the failure that opens `from` (its first line) began: the earliest `since` of the
/// component state changes among its lines — each the first answer of the failing run the
/// state was confirmed on — else the first line's time.
pub fn failure_began(from: &[JournalEntry]) -> Timestamp {
    let first = from.first().map_or(Timestamp::UNIX_EPOCH, |e| e.at);
    from.iter()
        .filter_map(|e| match EntryKind::from_journal(&e.kind, &e.body)? {
            EntryKind::ComponentState { to, since, .. } if to != HealthState::Up => Some(since),
            _ => None,
        })
        .fold(first, Timestamp::min)
}

/// The first failure of the current episode: after the last return to HEALTHY, the first line
/// that says something failed. `None` if nothing has failed since.
pub fn first_failure(watch: &[JournalEntry]) -> Option<usize> {
    let known: Vec<Option<EntryKind>> = watch
        .iter()
        .map(|e| EntryKind::from_journal(&e.kind, &e.body))
        .collect();
    let from = known
        .iter()
        .rposition(|k| {
            matches!(
                k,
                Some(EntryKind::Severity {
                    to: Severity::Healthy,
                    ..
                })
            )
        })
        .map(|i| i + 1)
        .unwrap_or(0);
    (from..watch.len()).find(|&i| known[i].as_ref().is_some_and(is_failure))
}
