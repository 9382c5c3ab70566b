//! How each journal entry reads in the timeline.

use super::*;

impl EntryKind {
    /// One line for the timeline panel and the report.
    pub fn describe(&self) -> String {
        fn opt(detail: &Option<String>) -> String {
            detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        }
        match self {
            EntryKind::ComponentState {
                component,
                from,
                to,
                reason,
                ..
            } => {
                let why = if reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({reason})")
                };
                format!("{component}: {} → {}{why}", from.label(), to.label())
            }
            EntryKind::LagLevel {
                component,
                replica,
                from,
                to,
                value,
                detail,
            } => {
                let v = value.map(|v| format!(" ({})", fmt::seconds(v)));
                format!(
                    "{component} lag {replica}: {} → {}{}",
                    from.label(),
                    to.label(),
                    v.unwrap_or_else(|| opt(detail))
                )
            }
            EntryKind::BackupLevel {
                component,
                from,
                to,
                age,
                detail,
            } => {
                let v = age.map(|v| format!(" (age {})", fmt::seconds(v)));
                format!(
                    "{component} backup: {} → {}{}",
                    from.label(),
                    to.label(),
                    v.unwrap_or_else(|| opt(detail))
                )
            }
            EntryKind::RpoExposure {
                component,
                from,
                to,
                exposure,
                rpo,
            } => format!(
                "{component} RPO: {} → {} ({}, RPO {})",
                from.label(),
                to.label(),
                exposure.describe(),
                fmt::signed(*rpo)
            ),
            EntryKind::RtoBreached {
                component,
                down_since,
                rto,
            } => format!(
                "{component} RTO {} breached (DOWN since {down_since})",
                fmt::signed(*rto)
            ),
            EntryKind::Recovered {
                component,
                took,
                rto,
                ..
            } => match rto {
                Some(rto) => format!(
                    "{component} recovered after {} (RTO {})",
                    fmt::signed(*took),
                    fmt::signed(*rto)
                ),
                None => format!("{component} recovered after {}", fmt::signed(*took)),
            },
            EntryKind::Severity { from, to, reasons } => {
                let why = reasons
                    .first()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                format!("severity: {} → {}{why}", from.label(), to.label())
            }
            EntryKind::Declared {
                title,
                level,
                status,
                commander,
                ..
            } => format!(
                "declared: {title} — {} — {} (commander {commander})",
                level.label(),
                status.label()
            ),
            EntryKind::Status { from, to } => {
                format!("status: {} → {}", from.label(), to.label())
            }
            EntryKind::Note { text } => format!("note: {text}"),
            EntryKind::JournalContinued {
                from,
                last_seq,
                last_hash,
                reason,
            } => format!(
                "journal continued from {from} after its last verified entry (seq {last_seq}, hash {}…): {reason}",
                last_hash.get(..12).unwrap_or(last_hash)
            ),
            EntryKind::RolledOver { to, .. } => format!("watch log rolled over to {to}"),
            EntryKind::Continues { from, last_seq, .. } => {
                format!("watch log continues from {from} (after its seq {last_seq})")
            }
            EntryKind::JournalUnsafe { path, why } => {
                format!("JOURNAL UNSAFE: {path}: {why}")
            }
            EntryKind::Recorder { pid, previous } => match previous {
                Some(p) => format!("recorder: this console (pid {pid}) took over from {p}"),
                None => format!("recorder: this console (pid {pid}) records"),
            },
            EntryKind::StepRequested { runbook, step } => {
                format!("step {runbook}/{step}: requested")
            }
            EntryKind::StepConfirmed {
                runbook,
                step,
                override_reason,
                inputs,
                break_glass,
            } => {
                let typed: Vec<String> = inputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let typed = if typed.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", typed.join(", "))
                };
                let glass = break_glass
                    .as_ref()
                    .map(|r| format!(" — BREAK GLASS: {r}"))
                    .unwrap_or_default();
                match override_reason {
                    Some(r) => {
                        format!("step {runbook}/{step}: confirmed{typed} with override: {r}{glass}")
                    }
                    None => format!("step {runbook}/{step}: confirmed{typed}{glass}"),
                }
            }
            EntryKind::StepStarted {
                runbook,
                step,
                pid,
                host,
                ..
            } => format!("step {runbook}/{step}: started (pid {pid} on {host})"),
            EntryKind::StepOutput {
                runbook,
                step,
                summary,
            } => format!("step {runbook}/{step}: {summary}"),
            EntryKind::StepProcess {
                runbook,
                step,
                pgid,
                timeout,
                log,
                ..
            } => {
                let mut s = format!(
                    "step {runbook}/{step}: program running as process group {pgid} (timeout {})",
                    fmt::signed(*timeout)
                );
                if let Some(log) = log {
                    s.push_str(&format!(", output in {log}"));
                }
                s
            }
            EntryKind::StepAdopted {
                runbook,
                step,
                pgid,
            } => format!(
                "step {runbook}/{step}: its console is gone, its program still runs (process group {pgid}): the recorder follows it"
            ),
            EntryKind::StepFinished {
                runbook,
                step,
                outcome,
                took,
                detail,
            } => {
                let why = if detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({detail})")
                };
                match outcome {
                    // Nobody saw it end: how long it ran says nothing.
                    StepResult::Interrupted => {
                        format!("step {runbook}/{step}: {}{why}", outcome.label())
                    }
                    _ => format!(
                        "step {runbook}/{step}: {} after {}{why}",
                        outcome.label(),
                        fmt::signed(*took)
                    ),
                }
            }
            EntryKind::StepVerified {
                runbook,
                step,
                component,
                verified,
                detail,
            } => {
                let word = if *verified {
                    "verified"
                } else {
                    "NOT verified"
                };
                format!("step {runbook}/{step}: {word} — {component} {detail}")
                    .trim_end()
                    .to_string()
            }
            EntryKind::StepPending {
                runbook,
                step,
                postcondition,
                detail,
            } => format!(
                "step {runbook}/{step}: still creating — {detail}; the recorder reads it again until {}",
                postcondition.describe()
            ),
            EntryKind::StepReleased {
                runbook,
                step,
                reason,
                ..
            } => format!("step {runbook}/{step}: claim released ({reason})"),
            EntryKind::GateOverridden {
                gate,
                reason,
                detail,
            } => format!("override {gate}: {reason} ({detail})"),
            EntryKind::CommsQueued {
                channel,
                template,
                summary,
                simulated,
                ..
            } => {
                let sim = if *simulated {
                    " (drill: simulated)"
                } else {
                    ""
                };
                format!("{channel}: queued {template}{sim}: {summary}")
            }
            EntryKind::CommsSent {
                channel,
                id,
                simulated,
                found,
                ..
            } => {
                let how = match (*simulated, *found) {
                    (true, _) => " to the drill's simulated sink",
                    (false, true) => " (found already posted; not sent again)",
                    (false, false) => "",
                };
                format!("{channel}: sent {id}{how}")
            }
            EntryKind::CommsFailed {
                channel,
                reason,
                gave_up,
                retry_in,
                ..
            } => {
                let then = match (gave_up, retry_in) {
                    (true, _) => "gave up".to_string(),
                    (false, Some(d)) => format!("retrying in {}", fmt::signed(*d)),
                    (false, None) => "will retry".to_string(),
                };
                format!("{channel}: failed ({reason}), {then}")
            }
        }
    }
}
