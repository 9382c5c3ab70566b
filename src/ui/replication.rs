//! Replication: lag per replica with a sparkline of its history and its thresholds.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{LagState, Panel, State, fmt};

use super::{Screen, Visible, clean};

/// The last `width` values as block characters, scaled to `top` (the crit threshold or the
/// largest value seen); a missing value (NaN) is a gap, never drawn as 0.
pub fn sparkline(history: &[f32], width: usize, top: f32, bars: &[&str; 9]) -> String {
    let start = history.len().saturating_sub(width);
    history[start..]
        .iter()
        .map(|v| {
            if !v.is_finite() || *v < 0.0 {
                " "
            } else {
                let level = ((v / top.max(f32::EPSILON)) * 8.0).ceil().clamp(1.0, 8.0) as usize;
                bars[level]
            }
        })
        .collect()
}

pub fn draw(state: &State, screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let now = state.now();
    let block = screen.block(state, Panel::Replication, "");
    let label = |spec: &crate::app::ComponentSpec| screen.label(spec, area.width >= 60);
    let room = area.height.saturating_sub(2) as usize;
    let mut out = Visible::new(state.view.scroll_of(Panel::Replication), room);
    let spark_width = (area.width as usize).saturating_sub(40).clamp(8, 60);
    for (_, spec, c) in state.components() {
        if out.full() {
            break;
        }
        let (Some(lag_spec), Some(lag)) = (spec.lag.as_ref(), c.lag()) else {
            continue;
        };
        let th = &lag_spec.thresholds;
        out.push(|| {
            let limits = match spec.rpo {
                Some(rpo) => format!(
                    "warn {} crit {} RPO {}",
                    fmt::duration(th.warn),
                    fmt::duration(th.crit),
                    fmt::duration(rpo)
                ),
                None => format!(
                    "warn {} crit {}",
                    fmt::duration(th.warn),
                    fmt::duration(th.crit)
                ),
            };
            Line::from(vec![
                Span::styled(label(spec), t.text),
                Span::styled(format!("  {limits}"), t.muted),
            ])
        });
        if lag.replicas().is_empty() {
            out.push(|| {
                Line::from(Span::styled(
                    format!("  {} UNKNOWN no data yet", screen.glyphs.unknown),
                    t.unknown,
                ))
            });
        }
        for r in lag.replicas() {
            out.push(|| {
                let level = r.level();
                // The label agrees with the number beside it: a lag past a threshold reads
                // that threshold's level at once, marked `?` until it is confirmed.
                let (state_, unconfirmed) = r.row_state();
                let style = match state_ {
                    LagState::Ok => t.up,
                    LagState::Warn => t.degraded,
                    LagState::Unknown => t.unknown,
                    _ => t.down,
                };
                let value = match (level.detail(now), r.value()) {
                    (Some(d), _) => d,
                    (None, Some(v)) => fmt::seconds(v.seconds),
                    (None, None) => String::new(),
                };
                let history: Vec<f32> = r.history().iter().copied().collect();
                let top = th.crit.as_secs_f32().max(
                    history
                        .iter()
                        .copied()
                        .filter(|v| v.is_finite())
                        .fold(0.0, f32::max),
                );
                Line::from(vec![
                    Span::styled(format!("  {} ", clean(r.name())), t.muted),
                    Span::styled(
                        format!("{}{} ", state_.label(), if unconfirmed { "?" } else { "" }),
                        style,
                    ),
                    Span::styled(format!("{} ", clean(&value)), t.text),
                    Span::styled(
                        sparkline(&history, spark_width, top, &screen.glyphs.sparkline),
                        style,
                    ),
                ])
            });
        }
    }
    let lines = if out.is_empty() {
        vec![Line::from(Span::styled(
            "no replication probes configured",
            t.muted,
        ))]
    } else {
        out.lines
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::glyphs::UNICODE;

    /// Alone, at the size each built-in layout gives it (see `ui::tests::panel_alone`).
    #[test]
    fn at_the_sizes_the_layouts_give_it() {
        for (name, text) in crate::ui::tests::panel_alone(crate::app::Panel::Replication) {
            insta::assert_snapshot!(name, text);
        }
    }

    #[test]
    fn sparkline_scales_to_the_top_and_leaves_gaps_for_missing_values() {
        let s = sparkline(
            &[0.0, 30.0, f32::NAN, 60.0, -1.0],
            10,
            60.0,
            &UNICODE.sparkline,
        );
        assert_eq!(s, "▁▄ █ ");
        // Only the last `width` values.
        assert_eq!(sparkline(&[60.0; 20], 3, 60.0, &UNICODE.sparkline), "███");
    }
}
