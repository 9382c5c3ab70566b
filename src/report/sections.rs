//! Sections both reports share: timeline, actions, RTO/RPO, comms, follow-ups, integrity.
//! Each writes its body; the caller writes the heading.

use jiff::Timestamp;

use super::facts::{ComponentOutage, JournalFacts, Message, RpoVerdict, RtoVerdict, StepRun};
use super::md::{self, text};
use super::{Out, ReportInput, say};
use crate::app::entry::{EntryKind, StepResult, What};

pub const NONE: &str = "None.";

/// A warning at the top when the chain does not hold: what follows may have been altered.
pub fn broken_banner(out: &mut String, src: &ReportInput) {
    if let Some(why) = &src.verify.first_break {
        say!(
            out,
            "> **Warning: the journal's hash chain is broken** (first broken entry: {}). \
             Entries from there on may have been altered; see Journal integrity.",
            text(why)
        );
        say!(out);
    }
}

/// One row per entry, in time order, but for step output and queued updates (counted in a
/// last line that ends with `see`). Rows are written out as they are made.
pub fn timeline(out: &mut Out, src: &ReportInput, f: &JournalFacts, see: &str) {
    let Some(start) = f.start() else {
        say!(out.text, "{NONE}");
        return;
    };
    if f.listed == 0 {
        say!(out.text, "{NONE}");
    } else {
        md::table(&mut out.text, &["Time", "T+", "Actor", "What"], &[]);
        (src.entries)(&mut |r| {
            let what = match &r.what {
                What::Known(EntryKind::StepOutput { .. } | EntryKind::CommsQueued { .. }) => return,
                // The console's line has the time in RFC 3339; the report writes every time alike.
                What::Known(EntryKind::RtoBreached {
                    component,
                    down_since,
                    rto,
                }) => format!(
                    "{component} RTO {} breached (DOWN since {})",
                    md::dur(*rto),
                    md::time(*down_since)
                ),
                What::Known(EntryKind::CommsSent { id, channel, .. }) => {
                    match f.queued(id, *channel) {
                        Some((_, template, summary)) => {
                            format!("{}: sent {id} ({template}: {summary})", channel)
                        }
                        None => r.describe(),
                    }
                }
                _ => r.describe(),
            };
            md::row(
                &mut out.text,
                &[
                    md::time(r.at),
                    md::t_plus(r.at, start),
                    text(&r.actor),
                    text(&what),
                ],
            );
            out.spill();
        });
    }
    if f.outputs + f.queued_updates > 0 {
        say!(out.text);
        say!(
            out.text,
            "Not listed one by one: {} and {}{see}.",
            md::count(f.outputs, "step output line", "step output lines"),
            md::count(f.queued_updates, "queued update", "queued updates"),
        );
    }
}

/// How a step ended, in a word (failures in capitals).
pub fn result_word(r: StepResult) -> &'static str {
    match r {
        StepResult::Succeeded => "succeeded",
        StepResult::Failed => "FAILED",
        StepResult::Interrupted => "INTERRUPTED — verify by hand",
    }
}

/// What a step run came to.
pub fn outcome(run: &StepRun) -> String {
    if let Some(fin) = &run.finished {
        let word = result_word(fin.outcome);
        return if fin.detail.is_empty() {
            word.to_string()
        } else {
            format!("{word}: {}", text(&fin.detail))
        };
    }
    if let Some(why) = &run.released {
        return format!("claim released: {}", text(why));
    }
    if run.started.is_some() {
        "running (no result recorded)".into()
    } else if run.confirmed.is_some() {
        "not started".into()
    } else if run.requested.is_some() {
        "not confirmed".into()
    } else {
        "no result recorded".into()
    }
}

/// `yes: db-dr UP` / `NO: db-dr still DOWN` / `not recorded`.
pub fn verification(run: &StepRun) -> String {
    match &run.verified {
        None => match &run.still_creating {
            Some(detail) => format!("not yet: {}", text(detail)),
            None => "not recorded".into(),
        },
        Some(v) => {
            let word = if v.verified { "yes" } else { "NO" };
            let what = format!("{} {}", v.component, v.detail);
            format!("{word}: {}", text(what.trim_end()))
        }
    }
}

/// `bob@h` / `override: reason (bob@h)` / `not confirmed`.
pub fn confirmation(run: &StepRun) -> String {
    match &run.confirmed {
        None => "not confirmed".into(),
        Some(c) => match &c.override_reason {
            None => text(&c.actor),
            Some(why) => format!("override: {} ({})", text(why), text(&c.actor)),
        },
    }
}

/// One row per step run.
pub fn actions(out: &mut String, f: &JournalFacts) {
    if f.steps.is_empty() {
        say!(out, "{NONE}");
        return;
    }
    let rows: Vec<Vec<String>> = f
        .steps
        .iter()
        .map(|run| {
            let requested = match &run.requested {
                Some((who, at)) => format!("{} at {}", text(who), md::time(*at)),
                None => "not recorded".into(),
            };
            let output = match &run.last_output {
                Some(last) if run.outputs > 0 => format!(
                    "{}, last: {}",
                    md::count(run.outputs, "line", "lines"),
                    text(last)
                ),
                _ => String::new(),
            };
            vec![
                text(&run.name()),
                requested,
                confirmation(run),
                outcome(run),
                run.finished
                    .as_ref()
                    .map(|fin| md::dur(fin.took))
                    .unwrap_or_default(),
                verification(run),
                output,
            ]
        })
        .collect();
    md::table(
        out,
        &[
            "Step",
            "Requested",
            "Confirmed",
            "Outcome",
            "Took",
            "Verified",
            "Output",
        ],
        &rows,
    );
}

pub fn rto_words(o: &ComponentOutage, as_of: Timestamp) -> String {
    match o.rto_verdict(as_of) {
        RtoVerdict::Met => "met".into(),
        RtoVerdict::Missed { by } => format!("MISSED by {}", md::dur(by)),
        RtoVerdict::Open { open_for, exceeded } => {
            let missed = if exceeded { ", MISSED" } else { "" };
            format!("not recovered, open for {}{missed}", md::dur(open_for))
        }
        RtoVerdict::NoTarget => "no target".into(),
    }
}

pub fn rpo_words(o: &ComponentOutage) -> &'static str {
    match o.rpo_verdict() {
        RpoVerdict::Within => "within",
        RpoVerdict::Exceeded => "EXCEEDED",
        RpoVerdict::Unknown => "unknown",
        RpoVerdict::NoTarget => "no target",
    }
}

pub fn exposure_words(o: &ComponentOutage) -> String {
    o.exposure
        .map_or_else(|| "not recorded".into(), |e| text(&e.describe()))
}

/// Per outage: RTO achieved against its target, RPO exposure at failure against its target.
pub fn objectives(out: &mut String, f: &JournalFacts) {
    let (Some(as_of), false) = (f.last_at(), f.outages.is_empty()) else {
        say!(out, "{NONE}");
        return;
    };
    let opt = |d: Option<jiff::SignedDuration>| d.map(md::dur).unwrap_or_default();
    let rows: Vec<Vec<String>> = f
        .outages
        .iter()
        .map(|o| {
            vec![
                text(&o.component),
                md::time(o.down_since),
                opt(o.rto),
                opt(o.took.filter(|_| !o.is_open())),
                rto_words(o, as_of),
                opt(o.rpo),
                exposure_words(o),
                rpo_words(o).to_string(),
            ]
        })
        .collect();
    md::table(
        out,
        &[
            "Component",
            "DOWN since",
            "RTO target",
            "Recovered after",
            "RTO",
            "RPO target",
            "Exposure at failure",
            "RPO",
        ],
        &rows,
    );
}

fn comms_result(m: &Message) -> String {
    let failed = m.failures.len();
    if let Some(at) = m.sent {
        return match m.failures.last() {
            None => format!("sent at {}", md::time(at)),
            Some((_, why, _)) => format!(
                "sent at {} after {} (last: {})",
                md::time(at),
                md::count(failed, "failed attempt", "failed attempts"),
                text(why)
            ),
        };
    }
    match m.failures.last() {
        Some((at, why, true)) => format!("FAILED at {}: {}; gave up", md::time(*at), text(why)),
        Some((at, why, false)) => format!(
            "FAILED at {}: {}; a retry was due, no later result",
            md::time(*at),
            text(why)
        ),
        None => "queued, not sent".into(),
    }
}

/// One row per update and channel.
pub fn comms(out: &mut String, f: &JournalFacts) {
    if f.comms.is_empty() {
        say!(out, "{NONE}");
        return;
    }
    let rows: Vec<Vec<String>> = f
        .comms
        .iter()
        .map(|m| {
            let (queued, update) = match &m.queued {
                Some((at, template, summary)) => (
                    md::time(*at),
                    format!("{} ({}): {}", text(template), text(&m.id), text(summary)),
                ),
                None => (String::new(), text(&m.id)),
            };
            vec![queued, text(m.channel.as_str()), update, comms_result(m)]
        })
        .collect();
    md::table(out, &["Queued", "Channel", "Update", "Result"], &rows);
}

/// The open follow-ups, as the seed's action items.
pub fn follow_ups(out: &mut String, f: &JournalFacts) {
    if f.follow_ups.is_empty() {
        say!(out, "{NONE}");
        return;
    }
    let rows: Vec<Vec<String>> = f
        .follow_ups
        .iter()
        .map(|u| {
            vec![
                text(&u.text),
                text(&u.actor),
                md::time(u.at),
                "open".to_string(),
            ]
        })
        .collect();
    md::table(out, &["Item", "Raised by", "At", "Status"], &rows);
}

/// Whether the hash chain holds, how many entries, what was skipped.
pub fn integrity(out: &mut String, src: &ReportInput, f: &JournalFacts) {
    let entries = md::count(src.verify.entries, "entry", "entries");
    match &src.verify.first_break {
        None => say!(out, "- Hash chain: verified, intact over {entries}."),
        Some(why) => say!(
            out,
            "- Hash chain: **BROKEN** over {entries}; first broken entry: {}. Entries from \
             there on may have been altered or removed; they are shown as recorded.",
            text(why)
        ),
    }
    if f.unknown > 0 {
        say!(
            out,
            "- {} of kinds this version does not know, shown as recorded.",
            md::count(f.unknown, "entry", "entries")
        );
    }
    let loaded = src.loaded;
    if let Some(torn) = &loaded.torn {
        say!(
            out,
            "- Skipped: line {}, a torn last line ({} bytes): its writer stopped mid-write.",
            torn.line,
            torn.bytes
        );
    }
    for p in &loaded.problems {
        say!(
            out,
            "- Skipped: line {}, not an entry: {}.",
            p.line,
            text(&p.why)
        );
    }
    if loaded.torn.is_none() && loaded.problems.is_empty() {
        say!(out, "- Skipped lines: none.");
    }
}
