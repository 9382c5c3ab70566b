//! The help overlay on `?`: the lines of the model's keymap ([`crate::app::keymap::HELP`]).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::Screen;

pub fn draw(screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let g = screen.glyphs;
    // The model's keymap says which keys there are; this only lays them out.
    let mut lines: Vec<Line> = crate::app::keymap::HELP
        .iter()
        .map(|h| {
            Line::from(vec![
                Span::styled(format!("{:>20}  ", h.keys), t.accent),
                Span::styled(h.what, t.text),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled(format!("{} UP  ", g.up), t.up),
        Span::styled(format!("{} DEGRADED  ", g.degraded), t.degraded),
        Span::styled(format!("{} DOWN  ", g.down), t.down),
        Span::styled(format!("{} UNKNOWN  ", g.unknown), t.unknown),
        Span::styled(format!("{} STALE", g.stale), t.stale),
    ]));
    let badge = if screen.read_only {
        "[RO] read-only: nothing can be changed from this console"
    } else {
        "[RW] operator: runbook steps ask for typed confirmation"
    };
    lines.push(Line::from(Span::styled(badge, t.muted)));
    let width = 82.min(area.width);
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).style(t.background).block({
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(t.accent)
                .title(Span::styled(" Keys ", t.accent));
            if g.ascii {
                block.border_set(super::glyphs::ASCII_BORDER)
            } else {
                block
            }
        }),
        popup,
    );
}
