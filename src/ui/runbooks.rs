//! Runbooks: the chosen runbook's steps — key, title, state (pending, blocked, ready, running,
//! verifying, succeeded, failed, interrupted) with the last actor and time — and the last lines
//! of output of the steps this console ran.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::steps::{StepState, state_of};
use crate::app::{Panel, State};
use crate::theme::Theme;

use super::{Screen, clean};

pub fn draw(state: &State, screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let runbooks = &state.runbooks;
    let Some(rb) = runbooks.get(state.view.runbook % runbooks.len().max(1)) else {
        let block = screen.block(state, Panel::Runbooks, "");
        frame.render_widget(
            Paragraph::new(Span::styled("no runbooks configured", t.muted)).block(block),
            area,
        );
        return;
    };
    let position = format!(
        "{}/{}",
        state.view.runbook % runbooks.len() + 1,
        runbooks.len()
    );
    let block = screen.block(state, Panel::Runbooks, &position);
    let mut lines = vec![Line::from(Span::styled(
        clean(&rb.title).into_owned(),
        t.accent,
    ))];
    for step in &rb.steps {
        let st = state_of(state, rb, step);
        // The state first: it is what the operator scans for; titles are long.
        let mut spans = vec![
            Span::styled(format!(" [{}] ", clean(&step.key.to_string())), t.selection),
            // A label as wide as the column still stands apart from the title.
            Span::styled(
                format!(
                    "{:<10}{}",
                    st.label(),
                    if st.label().len() >= 10 { " " } else { "" }
                ),
                state_style(t, &st),
            ),
            Span::styled(clean(&step.title).into_owned(), t.text),
        ];
        if let Some(r) = state.steps.get(&rb.id, &step.id)
            && let Some(at) = r.last_at
        {
            spans.push(Span::styled(
                format!(
                    " {} {}",
                    clean(r.last_actor.split('@').next().unwrap_or_default()),
                    at.strftime("%H:%M:%SZ")
                ),
                t.muted,
            ));
        }
        match &st {
            StepState::Blocked { waiting_for } => spans.push(Span::styled(
                format!(" (needs {})", clean(waiting_for)),
                t.muted,
            )),
            StepState::Pending { why }
            | StepState::Failed { why }
            | StepState::StillCreating { detail: why } => {
                spans.push(Span::styled(format!(" ({})", clean(why)), t.muted))
            }
            _ => spans.push(Span::styled(format!("  {}", step.action.kind()), t.muted)),
        }
        lines.push(Line::from(spans));
    }
    if !state.step_log.is_empty() {
        lines.push(Line::from(Span::styled("output:", t.muted)));
        let room = (area.height as usize)
            .saturating_sub(lines.len() + 3)
            .max(1);
        for l in state.step_log.iter().rev().take(room).rev() {
            lines.push(Line::from(Span::styled(format!(" {}", clean(l)), t.muted)));
        }
    }
    if screen.read_only {
        lines.push(Line::from(Span::styled(
            "read-only: steps cannot be started from this console",
            t.muted,
        )));
    }
    let scroll = state
        .view
        .scroll_of(Panel::Runbooks)
        .min(lines.len().saturating_sub(1));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll as u16, 0)),
        area,
    );
}

fn state_style(t: &Theme, s: &StepState) -> ratatui::style::Style {
    match s {
        StepState::Ready => t.accent,
        StepState::Running { .. }
        | StepState::Verifying { .. }
        | StepState::StillCreating { .. } => t.degraded,
        StepState::Succeeded {
            verified: Some(false),
        }
        | StepState::Failed { .. }
        | StepState::Interrupted => t.down,
        StepState::Succeeded {
            verified: Some(true),
        } => t.up,
        StepState::Succeeded { .. } => t.degraded,
        StepState::Blocked { .. } | StepState::Pending { .. } => t.muted,
    }
}

#[cfg(test)]
mod tests {
    /// Alone, at the size each built-in layout gives it (see `ui::tests::panel_alone`).
    #[test]
    fn at_the_sizes_the_layouts_give_it() {
        for (name, text) in crate::ui::tests::panel_alone(crate::app::Panel::Runbooks) {
            insta::assert_snapshot!(name, text);
        }
    }
}
