//! Slack message bodies: blocks, fields and texts cut to every limit Slack counts.

use super::*;

/// Slack's reserved characters in text: `& < >` (so a note cannot ping `<!channel>`).
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Slack's limits, with margin: a text fits when its characters, its UTF-16 units and its
/// UTF-8 bytes are all within the limit (Slack is reported to count in more than one way;
/// an emoji is 1 character, 2 units, 4 bytes). Bytes are never fewer than the other two, so
/// they are what is counted.
pub const HEADER_MAX: usize = 150;

pub const SECTION_MAX: usize = 3000;

pub const FIELD_MAX: usize = 2000;

pub const FALLBACK_MAX: usize = 4000;

pub const BLOCKS_MAX: usize = 50;

/// Components listed in "Affected" before `… and N more`.
pub(super) const AFFECTED_SHOWN: usize = 12;

/// `text` escaped for Slack, within `max` (bytes, so characters and UTF-16 units too) once
/// escaped, ending in `…` when cut (an entity is never cut in two).
pub(super) fn escape_cut(text: &str, max: usize) -> String {
    let pieces = text.chars().map(|c| match c {
        '&' => "&amp;".to_string(),
        '<' => "&lt;".to_string(),
        '>' => "&gt;".to_string(),
        c => c.to_string(),
    });
    fit(pieces, max)
}

/// `text` within `max` bytes, ending in `…` when cut.
pub(super) fn cut(text: &str, max: usize) -> String {
    fit(text.chars().map(String::from), max)
}

pub(super) fn fit(pieces: impl Iterator<Item = String>, max: usize) -> String {
    let pieces: Vec<String> = pieces.collect();
    let total: usize = pieces.iter().map(String::len).sum();
    if total <= max {
        return pieces.concat();
    }
    let budget = max.saturating_sub('…'.len_utf8());
    let mut out = String::new();
    for p in pieces {
        if out.len() + p.len() > budget {
            break;
        }
        out.push_str(&p);
    }
    out.push('…');
    out
}

pub(super) fn mrkdwn(text: &str) -> Value {
    json!({ "type": "mrkdwn", "text": text })
}

pub(super) fn hh_mm(t: Timestamp) -> String {
    t.strftime("%H:%MZ").to_string()
}

/// The status fields every Slack message and the thread's first message carry.
/// When the next update comes, as a Slack field: a resolved incident has none.
pub(super) fn slack_next_update(u: &Update) -> String {
    match u.status {
        IncidentStatus::Resolved => "*Next update*\nnone: resolved".to_string(),
        _ => format!("*Next update due*\n{}", hh_mm(u.next_update)),
    }
}

pub(super) fn slack_fields(u: &Update) -> Value {
    let next = slack_next_update(u);
    json!({
        "type": "section",
        "fields": [
            mrkdwn(&cut(&format!("*Status*\n{}", u.status.label()), FIELD_MAX)),
            mrkdwn(&cut(&format!("*DR level*\n{}", u.facts.level.label()), FIELD_MAX)),
            mrkdwn(&cut(
                &format!("*Severity*\n{}", slack_escape(&u.facts.severity)),
                FIELD_MAX
            )),
            mrkdwn(&next),
        ]
    })
}

pub(super) fn slack_affected(u: &Update) -> String {
    let affected = u.facts.affected();
    if affected.is_empty() {
        return "*Affected*: none — every component is UP".into();
    }
    let lines: Vec<String> = affected
        .iter()
        .take(AFFECTED_SHOWN)
        .map(|c| {
            let why = if c.reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", cut(&c.reason, 80))
            };
            escape_cut(&format!("• {} {}{why}", c.id, c.state.label()), 200)
        })
        .collect();
    let more = affected.len().saturating_sub(AFFECTED_SHOWN);
    let tail = if more > 0 {
        format!("\n… and {more} more")
    } else {
        String::new()
    };
    // Twelve lines of at most 200 bytes each and the tail fit a section; cut anyway.
    cut(
        &format!("*Affected*\n{}{tail}", lines.join("\n")),
        SECTION_MAX,
    )
}

pub(super) fn slack_data(u: &Update) -> Option<String> {
    if u.facts.lag.is_empty() && u.facts.backups.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !u.facts.lag.is_empty() {
        parts.push(format!(
            "*Replication lag*\n{}",
            slack_escape(&u.facts.lag.join("\n"))
        ));
    }
    if !u.facts.backups.is_empty() {
        parts.push(format!(
            "*Backup age*\n{}",
            slack_escape(&u.facts.backups.join("\n"))
        ));
    }
    Some(parts.join("\n"))
}

/// The reference a message carries so that, after a crash between sending and recording,
/// the console can find it in the channel instead of posting it twice.
pub fn slack_ref(delivery: &str) -> String {
    format!("ref {delivery}")
}

pub(super) fn slack_context(u: &Update, delivery: &str) -> Value {
    json!({
        "type": "context",
        "elements": [mrkdwn(&escape_cut(&format!(
            "posted by {} via warroom · {}",
            u.by,
            slack_ref(delivery)
        ), FIELD_MAX))]
    })
}

/// The Block Kit blocks of one update: header, status, affected components, lag and backup
/// age, the operator's text, who posted.
pub fn slack_blocks(u: &Update, delivery: &str) -> Value {
    let mut blocks = vec![
        json!({
            "type": "header",
            "text": { "type": "plain_text", "text": escape_cut(&u.subject, HEADER_MAX), "emoji": true }
        }),
        slack_fields(u),
        json!({ "type": "section", "text": mrkdwn(&slack_affected(u)) }),
    ];
    if let Some(data) = slack_data(u) {
        blocks.push(json!({ "type": "section", "text": mrkdwn(&cut(&data, SECTION_MAX)) }));
    }
    if !u.text.trim().is_empty() {
        blocks.push(json!({ "type": "divider" }));
        blocks.push(json!({
            "type": "section",
            "text": mrkdwn(&escape_cut(u.text.trim(), SECTION_MAX))
        }));
    }
    blocks.push(slack_context(u, delivery));
    Value::Array(blocks)
}

/// What a first update to arrive replaces: "the initial update queued 03:14Z, which could not
/// be delivered" (the outbox and the preview say it alike).
pub fn replaces_note(template: super::Template, queued_at: Timestamp) -> String {
    format!(
        "the {template} update queued {}, which could not be delivered",
        queued_at.strftime("%H:%MZ")
    )
}

/// The blocks a public Slack audience gets: the public subject and text, the status and
/// when the next update comes — no facts, no names of ours, nobody's account.
pub(super) fn slack_public_blocks(u: &Update, delivery: &str) -> Value {
    let next = slack_next_update(u);
    json!([
        {
            "type": "header",
            "text": { "type": "plain_text", "text": escape_cut(&page_subject(u), HEADER_MAX), "emoji": true }
        },
        {
            "type": "section",
            "fields": [
                mrkdwn(&cut(&format!("*Status*\n{}", u.status.label()), FIELD_MAX)),
                mrkdwn(&next),
            ]
        },
        { "type": "section", "text": mrkdwn(&escape_cut(&page_body(u), SECTION_MAX)) },
        { "type": "context", "elements": [mrkdwn(&slack_ref(delivery))] }
    ])
}

/// The blocks and the notification text `audience` reads.
pub(super) fn slack_content(u: &Update, delivery: &str, audience: Audience) -> (String, Value) {
    match audience {
        Audience::Team => (slack_text(u), slack_blocks(u, delivery)),
        Audience::Public => (
            escape_cut(
                &format!("{} — {}", page_subject(u), u.status.label()),
                FALLBACK_MAX,
            ),
            slack_public_blocks(u, delivery),
        ),
    }
}

/// The notification text (what a phone's lock screen shows) of an update.
pub fn slack_text(u: &Update) -> String {
    escape_cut(
        &format!("{} — {}", u.subject, u.status.label()),
        FALLBACK_MAX,
    )
}

/// `chat.postMessage` (bot token): the first update of an incident starts the thread, later
/// ones reply in it (`thread_ts` is the first one's `ts`, known when sending).
pub fn slack_post_body(
    u: &Update,
    delivery: &str,
    channel: &str,
    thread: Option<&str>,
    replaces: Option<&str>,
    audience: Audience,
) -> Value {
    let (text, mut blocks) = slack_content(u, delivery, audience);
    // The incident's first update to arrive, after one given up: it says what it replaces
    // (a reader who saw nothing before knows this is the start).
    if let (None, Some(what), Value::Array(list)) = (thread, replaces, &mut blocks) {
        list.insert(
            1,
            json!({
                "type": "context",
                "elements": [mrkdwn(&escape_cut(&format!("Starts this incident's thread: it replaces {what}"), FIELD_MAX))]
            }),
        );
    }
    let mut body = json!({
        "channel": channel,
        "text": text,
        "blocks": blocks,
    });
    if let Some(ts) = thread {
        body["thread_ts"] = Value::from(ts);
    }
    body
}

/// `chat.update` of the thread's first message: its status summary made current (the
/// latest update's status, severity, affected components and next-update time), its own
/// first text kept.
pub fn slack_root_update_body(
    first: &Update,
    latest: &Update,
    delivery: &str,
    channel_id: &str,
    ts: &str,
) -> Value {
    let mut blocks = vec![
        json!({
            "type": "header",
            "text": { "type": "plain_text", "text": escape_cut(&first.subject, HEADER_MAX), "emoji": true }
        }),
        slack_fields(latest),
        json!({ "type": "section", "text": mrkdwn(&slack_affected(latest)) }),
        json!({
            "type": "context",
            "elements": [mrkdwn(&slack_escape(&format!(
                "status as of {} ({} by {}): updates in the thread",
                hh_mm(latest.at),
                latest.template.label(),
                latest.by
            )))]
        }),
    ];
    if !first.text.trim().is_empty() {
        blocks.push(json!({ "type": "divider" }));
        blocks.push(json!({
            "type": "section",
            "text": mrkdwn(&escape_cut(first.text.trim(), SECTION_MAX))
        }));
    }
    blocks.push(slack_context(first, delivery));
    json!({
        "channel": channel_id,
        "ts": ts,
        "text": slack_text(latest),
        "blocks": blocks,
    })
}

/// An incoming webhook's body: the same blocks, no channel, no thread.
pub fn slack_webhook_body(u: &Update, delivery: &str, audience: Audience) -> Value {
    let (text, blocks) = slack_content(u, delivery, audience);
    json!({
        "text": text,
        "blocks": blocks,
    })
}

// ---------------------------------------------------------------- status page
