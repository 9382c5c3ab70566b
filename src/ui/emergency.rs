//! The emergency view: a terminal smaller than the smallest layout (80×24) still tells the
//! truth. The header's first line (`DRILL` first in a drill, `[RO]/[RW]`, severity, incident
//! clock), then every component that is not UP with its state word whole, then why nothing
//! else is here. No panel is squeezed into a size where it would cut words or hide rows.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{HealthState, State, update::TOO_SMALL};

use super::{Screen, clean, header};

/// The smallest terminal the layouts are made for.
pub const NEED: (u16, u16) = (80, 24);

/// Whether `area` is below the smallest layout.
pub fn too_small(area: Rect) -> bool {
    area.width < NEED.0 || area.height < NEED.1
}

pub fn draw(state: &State, screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let g = screen.glyphs;
    header::draw(state, screen, frame, Rect { height: 1, ..area });
    // The last line (two when narrower than it) says why nothing else is here, or what the
    // last key got.
    let why = state.view.flash.as_deref().unwrap_or(TOO_SMALL);
    let why_rows: u16 = if usize::from(area.width) < why.chars().count() {
        2
    } else {
        1
    };
    let rows = area.height.saturating_sub(1 + why_rows) as usize;
    let mut not_up: Vec<(HealthState, bool, String, String)> = state
        .components()
        .filter_map(|(ix, spec, _)| {
            let h = state.health(ix);
            let (s, stale, reason) = match h {
                Some(h) if h.state == HealthState::Up && !h.stale => return None,
                Some(h) => (h.state, h.stale, h.reason.clone()),
                None => (HealthState::Unknown, false, String::new()),
            };
            Some((s, stale, spec.id.clone(), reason))
        })
        .collect();
    // Worst first: DOWN, UNKNOWN, DEGRADED.
    not_up.sort_by_key(|(s, _, _, _)| match s {
        HealthState::Down => 0,
        HealthState::Unknown => 1,
        HealthState::Degraded => 2,
        HealthState::Up => 3,
    });
    let mut lines: Vec<Line> = Vec::new();
    if not_up.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("{} every component UP", g.up),
            t.up,
        )));
    }
    let shown = if not_up.len() > rows {
        rows.saturating_sub(1)
    } else {
        not_up.len()
    };
    for (s, stale, id, reason) in not_up.iter().take(shown) {
        let style = match s {
            HealthState::Down => t.down,
            HealthState::Degraded => t.degraded,
            _ => t.unknown,
        };
        // The state word first and whole: a cut id still says what is wrong.
        lines.push(Line::from(vec![
            Span::styled(format!("{:<11}", g.health(*s, *stale)), style),
            Span::styled(clean(id).into_owned(), t.text),
            Span::styled(format!(" {}", clean(reason)), t.muted),
        ]));
    }
    if not_up.len() > shown {
        lines.push(Line::from(Span::styled(
            format!("+{} more not UP", not_up.len() - shown),
            t.down,
        )));
    }
    frame.render_widget(
        Paragraph::new(lines),
        Rect {
            y: area.y + 1,
            height: rows as u16,
            ..area
        },
    );
    if area.height > why_rows {
        frame.render_widget(
            Paragraph::new(Span::styled(clean(why).into_owned(), t.degraded))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            Rect {
                y: area.y + area.height - why_rows,
                height: why_rows,
                ..area
            },
        );
    }
}
