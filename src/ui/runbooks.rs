//! Runbooks: the chosen runbook's steps and their keys (running them comes with the
//! runbook issue; the keys are shown so the operator learns them before the outage).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{Panel, State};

use super::{Screen, clean};

pub fn draw(state: &State, screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let runbooks = screen.runbooks;
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
        lines.push(Line::from(vec![
            Span::styled(format!(" [{}] ", clean(&step.key.to_string())), t.selection),
            Span::styled(clean(&step.title).into_owned(), t.text),
            Span::styled(format!("  {}", step.action.kind()), t.muted),
        ]));
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
