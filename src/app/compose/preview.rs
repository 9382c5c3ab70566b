//! The preview of an update: exactly the bodies each channel would be sent.

use super::*;

/// What the preview calls the id the outbox gives when the update is queued.
pub(super) const ID_LATER: &str = "u(id given when queued)";

pub(super) fn pretty(v: &serde_json::Value) -> Vec<String> {
    serde_json::to_string_pretty(v)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// What one channel will get of `u`: the request, then its body.
pub(super) fn channel_preview(state: &State, channel: Channel, u: &Update) -> Vec<String> {
    // The first update to arrive starts the thread / creates the page's incident; one given
    // up does not count, one still on its way does (the worker delivers in order).
    let first = !state.comms.started(channel);
    let before = state.comms.waiting_to(channel);
    let after = if before > 0 {
        format!(" (after the {before} update(s) still waiting before it)")
    } else {
        String::new()
    };
    let mut out = Vec::new();
    match channel {
        Channel::Slack => match &state.targets.slack {
            Some(s) if !s.webhook => {
                let ch = s.channel.clone().unwrap_or_default();
                if first {
                    // After one given up, it says what it replaces (as the outbox will).
                    let replaces = state
                        .comms
                        .all()
                        .iter()
                        .find(|d| d.channel == channel)
                        .map(|d| message::replaces_note(d.template, d.queued_at));
                    out.push(format!(
                        "▶ Slack chat.postMessage to {ch} — the incident's first update to arrive: it starts the thread"
                    ));
                    out.extend(pretty(&message::slack_post_body(
                        u,
                        ID_LATER,
                        &ch,
                        None,
                        replaces.as_deref(),
                        state.targets.audience(channel),
                    )));
                } else {
                    out.push(format!(
                        "▶ Slack chat.postMessage to {ch}, a reply in the incident's thread{after}; then chat.update of the thread's first message (its status summary: {}, {})",
                        u.status.label(),
                        u.facts.severity
                    ));
                    out.extend(pretty(&message::slack_post_body(
                        u,
                        ID_LATER,
                        "(the thread's channel)",
                        Some("(the first message's ts)"),
                        None,
                        state.targets.audience(channel),
                    )));
                }
            }
            Some(_) => {
                out.push(format!("▶ Slack incoming webhook: POST (no thread){after}"));
                out.extend(pretty(&message::slack_webhook_body(
                    u,
                    ID_LATER,
                    state.targets.audience(channel),
                )));
            }
            None => out.push("▶ Slack: not configured".into()),
        },
        Channel::StatusPage => match &state.targets.statuspage {
            Some(p) => match &p.page_id {
                Some(page) => {
                    if first {
                        out.push(format!(
                            "▶ Status page (PUBLIC): POST /pages/{page}/incidents — creates the incident"
                        ));
                        out.extend(pretty(&message::statuspage_create_body(u, &p.components)));
                    } else {
                        out.push(format!(
                            "▶ Status page (PUBLIC): PATCH /pages/{page}/incidents/(the incident's id){after}"
                        ));
                        out.extend(pretty(&message::statuspage_update_body(u, &p.components)));
                    }
                }
                None => {
                    let earlier = state
                        .comms
                        .all()
                        .iter()
                        .filter(|d| d.channel == channel)
                        .count();
                    out.push(format!(
                        "▶ Status page webhook (PUBLIC): POST the whole page{}",
                        if earlier > 0 {
                            format!(
                                " — shown as if this were the incident's only update: the page's incident also takes its title, description and createdAt from the first of the {earlier} earlier update(s), and its `updates` list them all{after}"
                            )
                        } else {
                            String::new()
                        }
                    ));
                    let stem = state
                        .incident
                        .as_ref()
                        .and_then(|i| i.journal.as_deref())
                        .map(|j| j.trim_end_matches(".jsonl").to_string())
                        .unwrap_or_default();
                    out.extend(pretty(&message::webhook_state(
                        u,
                        &[],
                        &p.components,
                        &stem,
                    )));
                }
            },
            None => out.push("▶ Status page: not configured".into()),
        },
    }
    out
}
