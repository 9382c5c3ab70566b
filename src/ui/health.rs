//! Health: component, tier, glyph + word, latency, since when, RTO budget left, reason.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use crate::app::{HealthState, Panel, State, fmt};
use crate::config::Tier;

use super::{Screen, clean, window};

/// How long ago, in the coarsest unit that still reads right: seconds only in the first
/// minute, so a screen at rest changes a few cells a minute, not every second.
pub fn coarse(d: jiff::SignedDuration) -> String {
    let s = d.as_secs().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// An age to the minute ("<1m", "11m", "6h07m", "2d03h"): backups age every second, and a
/// screen at rest should not redraw every second for it.
pub fn age(d: jiff::SignedDuration) -> String {
    let m = d.as_secs().max(0) / 60;
    match m {
        0 => "<1m".into(),
        1..60 => format!("{m}m"),
        60..1440 => format!("{}h{:02}m", m / 60, m % 60),
        _ => format!("{}d{:02}h", m / 1440, (m % 1440) / 60),
    }
}

pub fn draw(state: &State, screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let now = state.now();
    let view = &state.view;
    let shown: Vec<_> = state
        .components()
        .filter(|(_, spec, _)| view.shows(&spec.id, &spec.name))
        .collect();
    let filter = if view.editing_filter {
        format!("/{}_", clean(&view.filter))
    } else if !view.filter.is_empty() {
        format!(
            "/{} ({} of {})",
            clean(&view.filter),
            shown.len(),
            state.estate().len()
        )
    } else {
        String::new()
    };
    let block = screen.block(state, Panel::Health, &filter);
    // Wide screens get every column and the components' names; narrow ones (80×24) show
    // the short ids and drop latency (a slow answer says it in its reason), so that the
    // reason — what the operator acts on — keeps its room.
    let wide = area.width >= 120;
    let label = |spec: &crate::app::ComponentSpec| screen.label(spec, wide);
    let longest = shown
        .iter()
        .map(|(_, spec, _)| {
            clean(if wide { &spec.name } else { &spec.id })
                .chars()
                .count()
        })
        .max()
        .unwrap_or(9)
        .max(9) as u16;
    let name_width = longest.min(if wide { 40 } else { 20 });
    let inner_rows = area.height.saturating_sub(3) as usize;
    let rows = window(&shown, view.scroll_of(Panel::Health), inner_rows)
        .iter()
        .map(|(ix, spec, c)| {
            let Some(h) = state.health(*ix) else {
                return Row::new(Vec::<Cell>::new());
            };
            let style = screen.health_style(h.state, h.stale);
            let tier = match spec.tier {
                Tier::Critical => Span::styled("crit", t.accent),
                Tier::Standard => Span::styled("std", t.muted),
            };
            // Control-plane probes (RDS, Kubernetes) answer with no latency of the
            // component's own: a zero is not shown as if it were one.
            let latency = h
                .latency
                .filter(|l| !l.is_zero())
                .map(fmt::duration)
                .unwrap_or_default();
            let since = coarse(now.duration_since(h.since));
            let rto = match (state.rto_budget(*ix), spec.rto) {
                (Some(left), _) if left.is_negative() => {
                    Span::styled(format!("BREACHED {}", fmt::signed(left.abs())), t.down)
                }
                (Some(left), _) => Span::styled(format!("{} left", fmt::signed(left)), t.degraded),
                (None, Some(rto)) => Span::styled(fmt::duration(rto), t.muted),
                (None, None) => Span::raw(""),
            };
            let reason = if h.state == HealthState::Up && !h.stale {
                String::new()
            } else {
                clean(&h.reason).into_owned()
            };
            let _ = c;
            // An RPO breach is said on the row, even when the component is UP: the
            // severity it raises is never without its reason.
            let mut why = Vec::new();
            if let Some(rpo) = state.rpo_breach(*ix) {
                why.push(Span::styled(
                    format!("RPO {} {} ", screen.glyphs.down, clean(&rpo)),
                    t.down,
                ));
            }
            why.push(Span::styled(reason, t.text));
            let mut cells = vec![
                Cell::from(Span::styled(label(spec), t.text)),
                Cell::from(tier),
                Cell::from(Span::styled(screen.glyphs.health(h.state, h.stale), style)),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(latency, t.muted)));
            }
            cells.extend([
                Cell::from(Span::styled(since, t.muted)),
                Cell::from(Line::from(rto)),
                Cell::from(Line::from(why)),
            ]);
            Row::new(cells)
        });
    let mut titles = vec!["Component", "Tier", "State"];
    let mut widths = vec![
        Constraint::Length(name_width),
        Constraint::Length(4),
        Constraint::Length(11),
    ];
    if wide {
        titles.push("Latency");
        widths.push(Constraint::Length(7));
    }
    titles.extend(["Since", "RTO", "Reason"]);
    widths.extend([
        Constraint::Length(5),
        Constraint::Length(11),
        Constraint::Fill(1),
    ]);
    let header = Row::new(titles).style(t.muted);
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .block(block);
    frame.render_widget(table, area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    /// Alone, at the size each built-in layout gives it (see `ui::tests::panel_alone`).
    #[test]
    fn at_the_sizes_the_layouts_give_it() {
        for (name, text) in crate::ui::tests::panel_alone(crate::app::Panel::Health) {
            insta::assert_snapshot!(name, text);
        }
    }

    #[test]
    fn since_and_age_change_rarely_once_things_settle() {
        assert_eq!(coarse(SignedDuration::from_secs(47)), "47s");
        assert_eq!(coarse(SignedDuration::from_secs(380)), "6m");
        assert_eq!(coarse(SignedDuration::from_secs(7300)), "2h");
        assert_eq!(coarse(SignedDuration::from_secs(200_000)), "2d");
        assert_eq!(coarse(SignedDuration::from_secs(-5)), "0s");
        assert_eq!(age(SignedDuration::from_secs(59)), "<1m");
        assert_eq!(age(SignedDuration::from_secs(665)), "11m");
        assert_eq!(age(SignedDuration::from_secs(22_020)), "6h07m");
        assert_eq!(age(SignedDuration::from_secs(183_600)), "2d03h");
    }
}
