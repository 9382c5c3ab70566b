//! The post-incident report, after the DR plan's "Post-Incident Report Summary": summary,
//! timeline, actions, recovery objectives, comms, open follow-ups (its action items) and the
//! journal's integrity.

use super::facts::{JournalFacts, RtoVerdict};
use super::md::{self, text};
use super::sections::{self, NONE};
use super::{Out, ReportInput, say};
use crate::app::entry::StepResult;

pub(super) fn render(src: &ReportInput, f: &JournalFacts, out: &mut Out) {
    let title = f.declared.as_ref().map_or(src.id, |d| d.title.as_str());
    say!(out.text, "# Post-Incident Report: {}", text(title));
    say!(out.text);
    sections::broken_banner(&mut out.text, src);
    say!(out.text, "## Summary");
    say!(out.text);
    summary(&mut out.text, src, f);
    say!(out.text);
    say!(out.text, "## Timeline");
    say!(out.text);
    sections::timeline(out, src, f, " (see Actions and Comms)");
    say!(out.text);
    say!(out.text, "## Actions");
    say!(out.text);
    sections::actions(&mut out.text, f);
    say!(out.text);
    say!(out.text, "## Recovery objectives (RTO/RPO)");
    say!(out.text);
    sections::objectives(&mut out.text, f);
    say!(out.text);
    say!(out.text, "## Comms");
    say!(out.text);
    sections::comms(&mut out.text, f);
    say!(out.text);
    say!(out.text, "## Open follow-ups");
    say!(out.text);
    sections::follow_ups(&mut out.text, f);
    say!(out.text);
    say!(out.text, "## Journal integrity");
    say!(out.text);
    sections::integrity(&mut out.text, src, f);
}

fn summary(out: &mut String, src: &ReportInput, f: &JournalFacts) {
    if f.entry_count == 0 {
        say!(out, "The journal has no entries.");
        say!(out);
    } else {
        say!(out, "In short: {}.", in_short(f));
        say!(out);
    }
    say!(out, "- **Incident ID**: {}", text(src.id));
    match &f.declared {
        Some(d) => {
            say!(
                out,
                "- **DR level**: {} — {}",
                d.level.label(),
                d.level.meaning()
            );
            say!(out, "- **Commander**: {}", text(&d.commander));
        }
        None => {
            say!(
                out,
                "- **DR level**: not declared (no declaration in the journal)"
            );
            say!(out, "- **Commander**: unknown");
        }
    }
    say!(
        out,
        "- **Status**: {}",
        f.status.map_or("unknown", |s| s.label())
    );
    if let Some(worst) = f.worst {
        say!(out, "- **Worst severity**: {}", worst.label());
    }
    let when = |t: Option<jiff::Timestamp>| t.map_or_else(|| "unknown".to_string(), md::time);
    say!(out, "- **Started (first failure)**: {}", when(f.start()));
    say!(
        out,
        "- **Declared**: {}",
        f.declared
            .as_ref()
            .map_or_else(|| "not declared".to_string(), |d| md::time(d.at))
    );
    say!(
        out,
        "- **Resolved**: {}",
        f.resolved_at
            .map_or_else(|| "not yet".to_string(), md::time)
    );
    say!(out, "- **Duration**: {}", duration(f));
    let affected = if f.affected.is_empty() {
        "none recorded".to_string()
    } else {
        f.affected
            .iter()
            .map(|(c, state)| format!("{} ({})", text(c), state.label()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    say!(out, "- **Affected components**: {affected}");
}

/// `1h12m` when resolved; `still open: 45m as of the last entry (…)` otherwise.
fn duration(f: &JournalFacts) -> String {
    match (f.duration(), f.resolved_at, f.last_at()) {
        (Some(d), Some(_), _) => md::dur(d),
        (Some(d), None, Some(last)) => format!(
            "still open: {} as of the last entry ({})",
            md::dur(d),
            md::time(last)
        ),
        _ => "unknown".into(),
    }
}

/// One sentence: outages, steps, updates, and whether it is over.
fn in_short(f: &JournalFacts) -> String {
    let mut parts = Vec::new();
    if let Some(d) = &f.declared {
        parts.push(format!(
            "{} ({}) declared by {}",
            d.level.label(),
            d.level.meaning(),
            text(&d.commander)
        ));
    }
    if let Some(as_of) = f.last_at()
        && !f.outages.is_empty()
    {
        let (mut met, mut missed, mut open) = (0, 0, 0);
        for o in &f.outages {
            match o.rto_verdict(as_of) {
                RtoVerdict::Met | RtoVerdict::NoTarget => met += 1,
                RtoVerdict::Missed { .. } => missed += 1,
                RtoVerdict::Open { .. } => open += 1,
            }
        }
        let mut how = Vec::new();
        if met > 0 {
            how.push(format!("{met} recovered in time"));
        }
        if missed > 0 {
            how.push(format!("{missed} recovered after its RTO"));
        }
        if open > 0 {
            how.push(format!("{open} not recovered"));
        }
        parts.push(format!(
            "{} ({})",
            md::count(f.outages.len(), "outage", "outages"),
            how.join(", ")
        ));
    }
    let finished: Vec<StepResult> = f
        .steps
        .iter()
        .filter_map(|s| s.finished.as_ref().map(|fin| fin.outcome))
        .collect();
    if !finished.is_empty() {
        let failed = finished
            .iter()
            .filter(|o| **o != StepResult::Succeeded)
            .count();
        let unverified = f
            .steps
            .iter()
            .filter(|s| s.verified.as_ref().is_some_and(|v| !v.verified))
            .count();
        let unverified = if unverified > 0 {
            format!(", {unverified} not verified")
        } else {
            String::new()
        };
        parts.push(format!(
            "{} finished ({failed} failed or interrupted{unverified})",
            md::count(finished.len(), "runbook step", "runbook steps"),
        ));
    }
    let sent = f.comms.iter().filter(|m| m.sent.is_some()).count();
    if !f.comms.is_empty() {
        parts.push(format!(
            "{} of {} sent",
            sent,
            md::count(f.comms.len(), "update", "updates")
        ));
    }
    match (f.duration(), f.resolved_at) {
        (Some(d), Some(_)) => parts.push(format!("resolved after {}", md::dur(d))),
        (Some(d), None) => parts.push(format!("still open after {}", md::dur(d))),
        _ => {}
    }
    if parts.is_empty() {
        NONE.trim_end_matches('.').to_string()
    } else {
        parts.join("; ")
    }
}
