//! A journal line as the model keeps it: its kind when known, and what else it says.

use super::*;

/// What a recorded line says.
#[derive(Debug, Clone, PartialEq)]
pub enum What {
    Known(EntryKind),
    /// A kind this build does not know (or whose fields do not fit): its kind and its fields
    /// as `key=value`, shown as they are.
    Other {
        kind: String,
        fields: String,
    },
}

/// The longest generic rendering of an unknown entry's fields kept in memory.
pub(super) const OTHER_FIELDS_MAX: usize = 512;

/// One entry of the timeline: a line of the journal (or of the watch log) as it was recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub seq: u64,
    pub at: Timestamp,
    pub actor: String,
    pub what: What,
    /// Copied from the watch log when the incident was declared.
    pub from_watch: bool,
}

impl Recorded {
    pub fn from_journal(e: &journal::JournalEntry) -> Recorded {
        let what = match EntryKind::from_journal(&e.kind, &e.body) {
            Some(k) => What::Known(k),
            None => What::Other {
                kind: e.kind.clone(),
                fields: other_fields(&e.body),
            },
        };
        Recorded {
            seq: e.seq,
            at: e.at,
            actor: e.actor.clone(),
            what,
            from_watch: e.body.contains_key(WATCH_SEQ),
        }
    }

    pub fn known(&self) -> Option<&EntryKind> {
        match &self.what {
            What::Known(k) => Some(k),
            What::Other { .. } => None,
        }
    }

    pub fn group(&self) -> KindGroup {
        match &self.what {
            What::Known(k) => k.group(),
            What::Other { .. } => KindGroup::Other,
        }
    }

    /// One line for the timeline and the report.
    pub fn describe(&self) -> String {
        match &self.what {
            What::Known(k) => k.describe(),
            What::Other { kind, fields } => format!("[{kind}] {fields}"),
        }
    }
}

pub(super) fn other_fields(body: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = body.keys().collect();
    keys.sort();
    let mut out = String::new();
    for k in keys {
        if !out.is_empty() {
            out.push_str(", ");
        }
        let v = match &body[k.as_str()] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        out.push_str(k);
        out.push('=');
        out.push_str(&v);
        if out.len() > OTHER_FIELDS_MAX {
            let mut cut = OTHER_FIELDS_MAX;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push('…');
            break;
        }
    }
    out
}
