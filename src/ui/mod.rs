//! Drawing: `draw(&State, &Screen, &mut Frame)` is pure — it reads the model and writes
//! cells, nothing else. One file per panel.

pub mod backups;
pub mod comms;
pub mod compose;
pub mod dialog;
pub mod glyphs;
pub mod header;
pub mod health;
pub mod help;
pub mod layout;
pub mod modal;
pub mod replication;
pub mod runbooks;
/// The one text cleaner lives at the bottom ([`crate::text`]): every layer uses it.
pub use crate::text as sanitize;
pub mod timeline;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use crate::app::{HealthState, Panel, State};
use crate::config::Runbook;
use crate::theme::Theme;

pub use glyphs::Glyphs;
pub use layout::Layout;
pub use sanitize::clean;

/// What the screen needs besides the model: settings fixed for the session.
pub struct Screen<'a> {
    pub title: &'a str,
    pub read_only: bool,
    pub theme: &'a Theme,
    pub layout: &'a Layout,
    pub glyphs: &'a Glyphs,
    pub runbooks: &'a [Runbook],
    /// "DRILL region-outage ×10" when the estate is simulated.
    pub drill: Option<&'a str>,
    /// The operator's time zone, for the timeline's local times (`t`).
    pub local: &'a jiff::tz::TimeZone,
}

impl Screen<'_> {
    pub fn health_style(&self, state: HealthState, stale: bool) -> Style {
        let t = self.theme;
        if stale {
            return t.stale;
        }
        match state {
            HealthState::Up => t.up,
            HealthState::Degraded => t.degraded,
            HealthState::Down => t.down,
            HealthState::Unknown => t.unknown,
        }
    }

    /// How a panel names a component: its name where there is room, its (short) id where
    /// there is not.
    pub fn label(&self, spec: &crate::app::ComponentSpec, roomy: bool) -> String {
        clean(if roomy { &spec.name } else { &spec.id }).into_owned()
    }

    /// A panel's frame, its title marked when it has the focus.
    pub fn block<'b>(&self, state: &State, panel: Panel, extra: &str) -> Block<'b> {
        let focused = state.view.focus == panel;
        let mut title = vec![Span::styled(
            format!(" {} ", panel.title()),
            if focused {
                self.theme.accent
            } else {
                self.theme.text
            },
        )];
        if focused {
            title.insert(0, Span::styled(self.glyphs.focus, self.theme.accent));
        }
        if !extra.is_empty() {
            title.push(Span::styled(format!("{extra} "), self.theme.muted));
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(if focused {
                self.theme.accent
            } else {
                self.theme.border
            })
            .title(Line::from(title));
        if self.glyphs.ascii {
            block.border_set(glyphs::ASCII_BORDER)
        } else if focused {
            block.border_type(BorderType::Thick)
        } else {
            block.border_type(BorderType::Plain)
        }
    }
}

/// Draws one frame.
pub fn draw(state: &State, screen: &Screen, frame: &mut Frame) {
    let area = frame.area();
    frame.buffer_mut().set_style(area, screen.theme.background);
    let header_height = header::height(screen.layout, area);
    let header_area = Rect {
        height: header_height.min(area.height),
        ..area
    };
    let body = Rect {
        y: area.y + header_area.height,
        height: area.height.saturating_sub(header_area.height),
        ..area
    };
    header::draw(state, screen, frame, header_area);
    for (panel, rect) in screen.layout.split(body) {
        match panel {
            Panel::Health => health::draw(state, screen, frame, rect),
            Panel::Replication => replication::draw(state, screen, frame, rect),
            Panel::Backups => backups::draw(state, screen, frame, rect),
            Panel::Timeline => timeline::draw(state, screen, frame, rect),
            Panel::Runbooks => runbooks::draw(state, screen, frame, rect),
            Panel::Comms => comms::draw(state, screen, frame, rect),
        }
    }
    if let Some(d) = &state.dialog {
        dialog::draw(state, d, screen, frame, area);
    }
    if let Some(m) = &state.modal {
        modal::draw(state, m, screen, frame, area);
    }
    if let Some(c) = &state.compose {
        compose::draw(state, c, screen, frame, area);
    }
    if state.view.help {
        help::draw(screen, frame, area);
    }
    if screen.glyphs.ascii {
        asciify(frame.buffer_mut());
    }
}

/// `--ascii`: every cell of the frame in ASCII, whatever the text drawn (a reason's `≥`, a
/// title's `·`, a name from the config): the terminal that asked for it gets nothing else.
fn asciify(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        let sym = cell.symbol();
        if sym.is_ascii() {
            continue;
        }
        let plain = match sym {
            "≥" => ">",
            "≤" => "<",
            "·" | "•" => "-",
            "→" | "⇒" => ">",
            "←" => "<",
            "×" => "x",
            "—" | "–" | "─" | "━" => "-",
            "…" => ".",
            "│" | "┃" => "|",
            "▶" => ">",
            "✔" => "+",
            "✖" | "✗" => "X",
            "▲" => "!",
            "°" => "o",
            _ => "?",
        };
        cell.set_symbol(plain);
    }
}

/// A box over the screen (help, dialogs, the step modal): centred, `width` wide, tall enough
/// for `lines` plus `extra` rows, its area cleared first.
pub fn popup(
    screen: &Screen,
    frame: &mut Frame,
    area: Rect,
    title: &str,
    width: u16,
    extra: u16,
    lines: Vec<Line>,
) {
    let t = screen.theme;
    let width = width.min(area.width);
    let height = (lines.len() as u16 + extra).min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(ratatui::widgets::Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.accent)
        .title(Span::styled(title.to_string(), t.accent));
    let block = if screen.glyphs.ascii {
        block.border_set(glyphs::ASCII_BORDER)
    } else {
        block
    };
    frame.render_widget(
        ratatui::widgets::Paragraph::new(lines)
            .style(t.background)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(block),
        rect,
    );
}

/// The lines of a scrolled panel: only the visible ones are built, so a panel over 1000
/// components costs what it shows, not what it could show.
pub struct Visible<'a> {
    skip: usize,
    room: usize,
    seen: usize,
    pub lines: Vec<Line<'a>>,
}

impl<'a> Visible<'a> {
    pub fn new(scroll: usize, room: usize) -> Self {
        Visible {
            skip: scroll,
            room,
            seen: 0,
            lines: Vec::with_capacity(room),
        }
    }

    /// Adds a line, built only if it will be seen.
    pub fn push(&mut self, make: impl FnOnce() -> Line<'a>) {
        if self.seen >= self.skip && self.lines.len() < self.room {
            self.lines.push(make());
        }
        self.seen += 1;
    }

    /// Nothing more will be shown.
    pub fn full(&self) -> bool {
        self.lines.len() >= self.room
    }

    /// Whether anything was pushed at all (shown or scrolled past).
    pub fn is_empty(&self) -> bool {
        self.seen == 0
    }
}

/// `n` rows of `items` starting at `scroll`, clamped so the last page stays full.
pub fn window<T>(items: &[T], scroll: usize, rows: usize) -> &[T] {
    let start = scroll.min(items.len().saturating_sub(rows));
    let end = (start + rows).min(items.len());
    &items[start..end]
}

#[cfg(test)]
mod tests;
