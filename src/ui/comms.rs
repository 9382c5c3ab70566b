//! Comms: every update of the incident, per channel, newest first — queued, retrying (why,
//! when next), sent, or failed for good with the reason — and when the next one is due.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::comms::DeliveryState;
use crate::app::{Panel, State};

use super::{Screen, Visible, clean};

/// "due 03:35Z (in 12m)" or "OVERDUE by 3m" for the next update, if one is due.
pub fn due(state: &State) -> Option<(String, bool)> {
    // One queued but not delivered: customers have not read it yet — and the page still
    // says what it said (even once the incident is resolved here).
    if let Some(c) = state.customer_channel()
        && state.incident.is_some()
        && state.comms.waiting_to(c) > 0
    {
        let page = crate::app::message::Channel::StatusPage;
        return Some((
            if c == page {
                format!(
                    "status page still says {}",
                    state
                        .comms
                        .page_says(page)
                        .map_or("no incident", |s| s.label())
                )
            } else {
                "update not yet delivered".into()
            },
            true,
        ));
    }
    let due = state.next_update_due()?;
    let now = state.now();
    let left = due.duration_since(now);
    let mins = left.as_mins();
    Some(if left.is_negative() || left.is_zero() {
        let late = now.duration_since(due).as_mins();
        (
            if late == 0 {
                "update due now".into()
            } else {
                format!("update OVERDUE {late}m")
            },
            true,
        )
    } else {
        (format!("update in {}m", mins.max(1)), mins < 5)
    })
}

pub fn draw(state: &State, screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let g = screen.glyphs;
    let now = state.now();
    let all = state.comms.all();
    let waiting = state.comms.waiting();
    let failed = all
        .iter()
        .filter(|d| matches!(d.state, DeliveryState::Failed { .. }))
        .count();
    let mut extra = Vec::new();
    if waiting > 0 {
        extra.push(format!("{waiting} waiting"));
    }
    if failed > 0 {
        extra.push(format!("{failed} FAILED"));
    }
    let block = screen.block(state, Panel::Comms, &extra.join(" · "));
    let room = area.height.saturating_sub(2) as usize;
    let roomy = area.width >= 60;
    let mut out = Visible::new(state.view.scroll_of(Panel::Comms), room);
    if let Some((text, urgent)) = due(state) {
        out.push(|| {
            Line::from(Span::styled(
                text.clone(),
                if urgent { t.degraded } else { t.muted },
            ))
        });
    }
    for (channel, p) in &state.comms_problems {
        out.push(|| Line::from(Span::styled(format!("{channel}: {}", clean(p)), t.down)));
    }
    for d in all.iter().rev() {
        if out.full() {
            break;
        }
        out.push(|| {
            let (glyph, word, style) = match &d.state {
                DeliveryState::Queued => (g.stale, "queued".to_string(), t.muted),
                DeliveryState::Retrying { reason, next, .. } => {
                    // The journal has a line at the 1st, 2nd, 4th… failure: when the next try
                    // is, not how many failed, is what it can say.
                    let when = match next.map(|n| n.duration_since(now).as_secs()) {
                        Some(s) if s > 0 => format!(" (next try in {s}s)"),
                        _ => String::new(),
                    };
                    (g.degraded, format!("retrying{when}: {reason}"), t.degraded)
                }
                // A drill's update went to its simulated sink: said first, so a narrow panel
                // shows it.
                DeliveryState::Sent { at, .. } if d.simulated => {
                    (g.up, format!("simulated {}", at.strftime("%H:%MZ")), t.up)
                }
                DeliveryState::Sent { at, found, .. } => (
                    g.up,
                    format!(
                        "sent {}{}",
                        at.strftime("%H:%MZ"),
                        if *found {
                            " (found already posted)"
                        } else {
                            ""
                        }
                    ),
                    t.up,
                ),
                DeliveryState::Failed { reason, .. } => (
                    g.down,
                    format!("FAILED: {reason} — {}", state.comms.superseded(d)),
                    t.down,
                ),
            };
            let sim = match (&d.state, d.simulated) {
                (DeliveryState::Sent { .. }, _) | (_, false) => "",
                (_, true) => " (drill)",
            };
            let mut spans = vec![
                Span::styled(format!("{} ", d.queued_at.strftime("%H:%MZ")), t.muted),
                Span::styled(format!("{:<10} ", d.channel.as_str()), t.text),
            ];
            if roomy {
                spans.push(Span::styled(
                    format!("{:<11} ", d.template.as_str()),
                    t.muted,
                ));
            }
            spans.push(Span::styled(
                format!("{glyph} {}{sim}", clean(&word)),
                style,
            ));
            if roomy {
                spans.push(Span::styled(
                    format!("  {} · {}", clean(&d.summary), clean(&d.by)),
                    t.muted,
                ));
            }
            Line::from(spans)
        });
    }
    let lines = if out.is_empty() {
        let why = if state.targets.channels().is_empty() {
            "no comms configured ([slack], [statuspage])"
        } else if state.read_only {
            "no update sent in this incident (read-only console)"
        } else {
            "no update sent in this incident (u composes one)"
        };
        vec![Line::from(Span::styled(why, t.muted))]
    } else {
        out.lines
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

#[cfg(test)]
mod tests {
    /// Alone, at the size each built-in layout gives it (see `ui::tests::panel_alone`).
    #[test]
    fn at_the_sizes_the_layouts_give_it() {
        for (name, text) in crate::ui::tests::panel_alone(crate::app::Panel::Comms) {
            insta::assert_snapshot!(name, text);
        }
    }
}
