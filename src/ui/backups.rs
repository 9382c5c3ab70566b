//! Backups: the newest backup's age against its thresholds and the RPO exposure.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{BackupState, Panel, RpoLevel, State, fmt};

use super::{Screen, Visible, clean};

pub fn draw(state: &State, screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let now = state.now();
    let block = screen.block(state, Panel::Backups, "");
    let label = |spec: &crate::app::ComponentSpec| screen.label(spec, area.width >= 60);
    let room = area.height.saturating_sub(2) as usize;
    let mut out = Visible::new(state.view.scroll_of(Panel::Backups), room);
    for (_, spec, c) in state.components() {
        if out.full() {
            break;
        }
        if let (Some(b_spec), Some(b)) = (spec.backup.as_ref(), c.backup()) {
            out.push(|| {
                let level = b.level();
                // The label agrees with the age beside it (it grows between answers).
                let (state_, unconfirmed) = b.row_state(&b_spec.thresholds, now);
                let style = match state_ {
                    BackupState::Ok => t.up,
                    BackupState::Warn => t.degraded,
                    BackupState::Unknown => t.unknown,
                    _ => t.down,
                };
                let what = match (level.detail(now), b.age_at(now)) {
                    (Some(d), _) => d,
                    (None, Some(a)) => format!("{} old", super::health::age(a)),
                    (None, None) => String::new(),
                };
                Line::from(vec![
                    Span::styled(format!("{} ", label(spec)), t.text),
                    Span::styled(
                        format!("{}{} ", state_.label(), if unconfirmed { "?" } else { "" }),
                        style,
                    ),
                    Span::styled(clean(&what).into_owned(), t.text),
                    Span::styled(
                        format!(
                            "  warn {} crit {}",
                            fmt::duration(b_spec.thresholds.warn),
                            fmt::duration(b_spec.thresholds.crit)
                        ),
                        t.muted,
                    ),
                ])
            });
        }
        if let Some(rpo) = c.rpo()
            && (spec.lag.is_some() || spec.backup.is_some())
        {
            out.push(|| {
                let style = match rpo.level {
                    RpoLevel::Ok => t.up,
                    RpoLevel::AtRisk => t.degraded,
                    RpoLevel::Breached => t.down,
                    RpoLevel::Unknown => t.unknown,
                };
                Line::from(vec![
                    Span::styled(format!("  RPO {} ", fmt::duration(rpo.rpo)), t.muted),
                    Span::styled(format!("{} ", rpo.level.label()), style),
                    Span::styled(clean(&rpo.exposure.describe()).into_owned(), t.text),
                ])
            });
        }
    }
    let lines = if out.is_empty() {
        vec![Line::from(Span::styled(
            "no backup probes configured",
            t.muted,
        ))]
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
        for (name, text) in crate::ui::tests::panel_alone(crate::app::Panel::Backups) {
            insta::assert_snapshot!(name, text);
        }
    }
}
