//! Drawing: `draw(&State, &Screen, &mut Frame)` is pure — it reads the model and writes
//! cells, nothing else. One file per panel.

pub mod backups;
pub mod comms;
pub mod compose;
pub mod dialog;
pub mod emergency;
pub mod glyphs;
pub mod header;
pub mod health;
pub mod help;
pub mod layout;
pub mod log_viewer;
pub mod modal;
pub mod replication;
pub mod runbooks;
/// The one text cleaner lives at the bottom ([`crate::text`]): every layer uses it.
pub use crate::text as sanitize;
pub mod timeline;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use crate::app::{HealthState, Panel, State};
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

/// Where the layout puts each panel on a screen of `area`: below the header.
fn panel_areas(layout: &Layout, area: Rect) -> Vec<(Panel, Rect)> {
    let header = header::height(layout, area).min(area.height);
    layout.split(Rect {
        y: area.y + header,
        height: area.height.saturating_sub(header),
        ..area
    })
}

/// Rows each panel of `layout` shows inside its border on a terminal of `area` (what the
/// model needs to keep a scroll within them), indexed like [`Panel::ALL`].
pub fn panel_rows(layout: &Layout, area: Rect) -> [usize; 6] {
    let mut rows = [0; 6];
    if emergency::too_small(area) {
        return rows;
    }
    for (panel, rect) in panel_areas(layout, area) {
        rows[panel as usize] = rect.height.saturating_sub(2) as usize;
    }
    rows
}

/// One panel, in its rectangle.
fn draw_panel(panel: Panel, state: &State, screen: &Screen, frame: &mut Frame, rect: Rect) {
    match panel {
        Panel::Health => health::draw(state, screen, frame, rect),
        Panel::Replication => replication::draw(state, screen, frame, rect),
        Panel::Backups => backups::draw(state, screen, frame, rect),
        Panel::Timeline => timeline::draw(state, screen, frame, rect),
        Panel::Runbooks => runbooks::draw(state, screen, frame, rect),
        Panel::Comms => comms::draw(state, screen, frame, rect),
    }
}

/// Draws one frame.
pub fn draw(state: &State, screen: &Screen, frame: &mut Frame) {
    let area = frame.area();
    frame.buffer_mut().set_style(area, screen.theme.background);
    // Below the smallest layout: the emergency view, nothing squeezed.
    if emergency::too_small(area) {
        emergency::draw(state, screen, frame, area);
        if screen.glyphs.ascii {
            asciify(frame.buffer_mut());
        }
        return;
    }
    let header_height = header::height(screen.layout, area);
    let header_area = Rect {
        height: header_height.min(area.height),
        ..area
    };
    header::draw(state, screen, frame, header_area);
    for (panel, rect) in panel_areas(screen.layout, area) {
        draw_panel(panel, state, screen, frame, rect);
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
    if let Some(v) = &state.log_viewer {
        log_viewer::draw(v, screen, frame, area);
    }
    if state.view.help {
        help::draw(screen, frame, area);
    }
    if screen.glyphs.ascii {
        asciify(frame.buffer_mut());
    }
}

/// The 16 ANSI colours and their usual RGB values (xterm's), to find the nearest.
const ANSI16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

/// The RGB value of a 256-colour palette index (the 6×6×6 cube and the grey ramp).
fn indexed_rgb(n: u8) -> (u8, u8, u8) {
    match n {
        0..=15 => ANSI16[n as usize].1,
        16..=231 => {
            let n = n - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (level(n / 36), level((n / 6) % 6), level(n % 6))
        }
        _ => {
            let g = 8 + (n - 232) * 10;
            (g, g, g)
        }
    }
}

/// The nearest of the 16 ANSI colours (the named ones pass as they are).
fn nearest16(c: Color) -> Color {
    let rgb = match c {
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(n) if n < 16 => return ANSI16[n as usize].0,
        Color::Indexed(n) => indexed_rgb(n),
        other => return other,
    };
    let dist = |(r, g, b): (u8, u8, u8)| {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        d(r, rgb.0) + d(g, rgb.1) + d(b, rgb.2)
    };
    ANSI16
        .iter()
        .min_by_key(|(_, v)| dist(*v))
        .map_or(Color::Reset, |(c, _)| *c)
}

/// A terminal of 16 colours: every colour of the frame as one of them (never `38;5;N` or
/// `38;2;R;G;B`, which such a terminal shows as garbage or not at all).
pub fn to_ansi16(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        cell.fg = nearest16(cell.fg);
        cell.bg = nearest16(cell.bg);
        cell.underline_color = nearest16(cell.underline_color);
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
