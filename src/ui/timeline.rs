//! Timeline: what happened, newest first (in memory until the journal lands).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{EntryKind, HealthState, Panel, State};

use super::{Screen, clean};

pub fn draw(state: &State, screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let block = screen.block(
        state,
        Panel::Timeline,
        &format!("{} entries", state.timeline.len()),
    );
    let rows = area.height.saturating_sub(2) as usize;
    let skip = state
        .view
        .scroll_of(Panel::Timeline)
        .min(state.timeline.len().saturating_sub(1));
    let lines: Vec<Line> = state
        .timeline
        .iter()
        .rev()
        .skip(skip)
        .take(rows)
        .map(|e| {
            let style = match &e.kind {
                EntryKind::ComponentState { to, .. } => match to {
                    HealthState::Up => t.up,
                    HealthState::Degraded => t.degraded,
                    HealthState::Down => t.down,
                    HealthState::Unknown => t.unknown,
                },
                EntryKind::RtoBreached { .. } => t.down,
                EntryKind::Recovered { .. } => t.up,
                _ => t.text,
            };
            Line::from(vec![
                Span::styled(e.at.strftime("%H:%M:%S ").to_string(), t.muted),
                Span::styled(clean(&e.kind.describe()).into_owned(), style),
            ])
        })
        .collect();
    let lines = if lines.is_empty() {
        vec![Line::from(Span::styled("nothing yet", t.muted))]
    } else {
        lines
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
