//! The help overlay on `?`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::Screen;

pub const KEYS: &[(&str, &str)] = &[
    ("q", "quit (running steps and queued updates finish first)"),
    ("?", "this help; any key closes it"),
    (
        "/",
        "filter components by id or name; Enter keeps it, Esc clears it",
    ),
    ("Tab / Right", "next panel"),
    ("S-Tab / Left", "previous panel"),
    (
        "Up Down PgUp PgDn Home",
        "scroll the focused panel; in Runbooks: choose the runbook",
    ),
    ("Esc", "clear the filter"),
    (
        "a step's key",
        "any panel: its modal; type the phrase, Enter runs it",
    ),
    ("R", "focus the runbooks (Up/Down choose one)"),
    ("d", "declare an incident; with one open: change its status"),
    ("n", "add a note to the journal"),
    (
        "u",
        "compose an update to Slack / the status page (preview; `publish` for the page)",
    ),
    ("J", "after JOURNAL TAMPERED: continue it in a new file"),
    (
        "o k t",
        "in Timeline: oldest/newest first, kind filter, UTC/local",
    ),
    ("End", "scroll the focused panel to its end"),
];

pub fn draw(screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let g = screen.glyphs;
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("{k:>20}  "), t.accent),
                Span::styled(*what, t.text),
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
