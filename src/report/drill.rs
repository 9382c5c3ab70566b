//! The drill report, after the DR plan's test report (`generate_report()`): test
//! information, results, RTO/RPO metrics, issues, recommendations, next steps; then the
//! timeline and the journal's integrity. Every time in it is the drill's simulated clock.

use super::facts::{JournalFacts, RpoVerdict, RtoVerdict, StepRun};
use super::md::{self, text};
use super::sections::{self, NONE};
use super::{Out, ReportInput, say};
use crate::app::entry::StepResult;

/// The DR plan's next steps after a test.
const NEXT_STEPS: [&str; 3] = [
    "Schedule follow-up meeting",
    "Update DR procedures",
    "Plan next test cycle",
];

pub(super) fn render(src: &ReportInput, f: &JournalFacts, out: &mut Out) {
    say!(out.text, "# Disaster Recovery Test Report");
    say!(out.text);
    say!(
        out.text,
        "> **Drill**: a simulated estate in simulated time. Every time and duration below is \
         the drill's simulated clock; no real system, Slack channel or status page was touched."
    );
    say!(out.text);
    sections::broken_banner(&mut out.text, src);
    say!(out.text, "## Test Information");
    say!(out.text);
    information(&mut out.text, src, f);
    say!(out.text);
    say!(out.text, "## Test Results");
    say!(out.text);
    results(&mut out.text, f);
    say!(out.text);
    say!(out.text, "## RTO/RPO Metrics");
    say!(out.text);
    sections::objectives(&mut out.text, f);
    say!(out.text);
    say!(out.text, "## Issues Identified");
    say!(out.text);
    issues(&mut out.text, src, f);
    say!(out.text);
    say!(out.text, "## Recommendations");
    say!(out.text);
    if f.follow_ups.is_empty() {
        say!(out.text, "{NONE}");
    }
    for u in &f.follow_ups {
        say!(
            out.text,
            "- {} (raised by {} at {})",
            text(&u.text),
            text(&u.actor),
            md::time(u.at)
        );
    }
    say!(out.text);
    say!(out.text, "## Next Steps");
    say!(out.text);
    for s in NEXT_STEPS {
        say!(out.text, "- {s}");
    }
    say!(out.text);
    say!(out.text, "## Timeline");
    say!(out.text);
    sections::timeline(out, src, f, "");
    say!(out.text);
    say!(out.text, "## Journal Integrity");
    say!(out.text);
    sections::integrity(&mut out.text, src, f);
}

fn information(out: &mut String, src: &ReportInput, f: &JournalFacts) {
    say!(out, "- **Test ID**: {}", text(src.id));
    if let Some(d) = &f.declared {
        say!(
            out,
            "- **Scenario**: {} ({} — {})",
            text(&d.title),
            d.level.label(),
            d.level.meaning()
        );
    }
    say!(
        out,
        "- **Date**: {} (simulated)",
        f.start().map_or_else(|| "unknown".to_string(), md::time)
    );
    let duration = match (f.duration(), f.resolved_at, f.last_at()) {
        (Some(d), Some(_), _) => format!(
            "{} (simulated time, from the first failure to resolution)",
            md::dur(d)
        ),
        (Some(d), None, Some(last)) => format!(
            "{} so far (simulated time): not resolved as of the last entry ({})",
            md::dur(d),
            md::time(last)
        ),
        _ => "unknown".into(),
    };
    say!(out, "- **Duration**: {duration}");
    let participants = if f.actors.is_empty() {
        "none recorded".to_string()
    } else {
        f.actors
            .iter()
            .map(|a| text(a))
            .collect::<Vec<_>>()
            .join(", ")
    };
    say!(out, "- **Participants**: {participants}");
}

/// PASS (succeeded and verified), DONE (not verifiable), STILL CREATING, FAIL, INTERRUPTED or
/// NOT FINISHED.
fn verdict(run: &StepRun) -> &'static str {
    match &run.finished {
        Some(fin) => match fin.outcome {
            StepResult::Succeeded => match run.verified.as_ref().map(|v| v.verified) {
                Some(true) => "PASS",
                Some(false) => "FAIL",
                // Accepted; what it makes was not ready when the journal ends.
                None if run.still_creating.is_some() => "STILL CREATING",
                // Nothing checked what it did: done, never counted as passed.
                None => "DONE (not verifiable)",
            },
            StepResult::Failed => "FAIL",
            StepResult::Interrupted => "INTERRUPTED",
        },
        None if run.released.is_some() => "INTERRUPTED",
        None => "NOT FINISHED",
    }
}

fn results(out: &mut String, f: &JournalFacts) {
    if f.steps.is_empty() {
        say!(out, "{NONE}");
        return;
    }
    for run in &f.steps {
        let took = run
            .finished
            .as_ref()
            .map(|fin| format!(" (took {})", md::dur(fin.took)))
            .unwrap_or_default();
        say!(
            out,
            "- **{}** {}: {}{took}; verified: {}; confirmed: {}",
            verdict(run),
            text(&run.name()),
            sections::outcome(run),
            sections::verification(run),
            sections::confirmation(run)
        );
    }
}

fn issues(out: &mut String, src: &ReportInput, f: &JournalFacts) {
    let mut list: Vec<String> = f.overrides.iter().map(|o| text(o)).collect();
    for run in &f.steps {
        let name = text(&run.name());
        match &run.finished {
            Some(fin) if fin.outcome != StepResult::Succeeded => {
                let detail = if fin.detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", text(&fin.detail))
                };
                let (word, then) = match fin.outcome {
                    StepResult::Interrupted => ("INTERRUPTED", "; verify its effect by hand"),
                    _ => ("FAILED", ""),
                };
                list.push(format!(
                    "Step {name} {word} after {}{detail}{then}",
                    md::dur(fin.took)
                ));
            }
            Some(_) => {}
            None if run.released.is_some() => {
                list.push(format!("Step {name}: {}", sections::outcome(run)));
            }
            None if run.started.is_some() => {
                list.push(format!("Step {name} started but never reported a result"));
            }
            None => {}
        }
        if let (None, Some(detail)) = (&run.verified, &run.still_creating) {
            list.push(format!(
                "Step {name} accepted but not verified yet: {}",
                text(detail)
            ));
        }
        if let Some(v) = run.verified.as_ref().filter(|v| !v.verified) {
            let what = format!("{} {}", v.component, v.detail);
            list.push(format!(
                "Step {name} NOT verified: {}",
                text(what.trim_end())
            ));
        }
        if let Some(why) = run
            .confirmed
            .as_ref()
            .and_then(|c| c.override_reason.as_ref())
        {
            list.push(format!(
                "Step {name} ran with failing prechecks overridden: {}",
                text(why)
            ));
        }
    }
    if let Some(as_of) = f.last_at() {
        for o in &f.outages {
            let c = text(&o.component);
            let target = o.rto.map(md::dur).unwrap_or_default();
            match o.rto_verdict(as_of) {
                RtoVerdict::Missed { .. } => list.push(format!(
                    "{c}: RTO MISSED, recovered after {} (target {target})",
                    o.took.map(md::dur).unwrap_or_default()
                )),
                RtoVerdict::Open { open_for, exceeded } => {
                    let past = if exceeded {
                        format!(", past its RTO of {target}")
                    } else {
                        String::new()
                    };
                    list.push(format!(
                        "{c}: not recovered, open for {} at the last entry{past}",
                        md::dur(open_for)
                    ));
                }
                RtoVerdict::Met | RtoVerdict::NoTarget => {}
            }
            let rpo = o.rpo.map(md::dur).unwrap_or_default();
            match o.rpo_verdict() {
                RpoVerdict::Exceeded => list.push(format!(
                    "{c}: RPO EXCEEDED at failure: {} (target {rpo})",
                    sections::exposure_words(o)
                )),
                RpoVerdict::Unknown => list.push(format!(
                    "{c}: RPO exposure unknown at failure (target {rpo})"
                )),
                RpoVerdict::Within | RpoVerdict::NoTarget => {}
            }
        }
    }
    for m in &f.comms {
        if m.sent.is_none()
            && let Some((_, why, _)) = m.failures.last()
        {
            list.push(format!(
                "Update {} to {} was not sent: {}",
                text(&m.id),
                text(m.channel.as_str()),
                text(why)
            ));
        }
    }
    if let Some(why) = &src.verify.first_break {
        list.push(format!(
            "The journal's hash chain is broken; first broken entry: {}",
            text(why)
        ));
    }
    if list.is_empty() {
        say!(out, "{NONE}");
    }
    for item in list {
        say!(out, "- {item}");
    }
}
