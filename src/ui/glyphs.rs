//! Status is never shown by colour alone: each state has a glyph and a word; `--ascii`
//! swaps the glyphs for plain ASCII.

use ratatui::symbols::border;

use crate::app::HealthState;

/// Panel borders in plain ASCII.
pub const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Glyphs {
    pub up: &'static str,
    pub degraded: &'static str,
    pub down: &'static str,
    pub unknown: &'static str,
    pub stale: &'static str,
    pub focus: &'static str,
    pub separator: &'static str,
    pub sparkline: [&'static str; 9],
    pub ascii: bool,
}

pub const UNICODE: Glyphs = Glyphs {
    up: "✔",
    degraded: "▲",
    down: "✖",
    unknown: "?",
    stale: "…",
    focus: "▶",
    separator: "│",
    sparkline: [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
    ascii: false,
};

pub const ASCII: Glyphs = Glyphs {
    up: "+",
    degraded: "!",
    down: "X",
    unknown: "?",
    stale: "~",
    focus: ">",
    separator: "|",
    sparkline: [" ", ".", ".", "-", "-", "=", "=", "#", "#"],
    ascii: true,
};

impl Glyphs {
    pub fn for_ascii(ascii: bool) -> &'static Glyphs {
        if ascii { &ASCII } else { &UNICODE }
    }

    /// Glyph and word, e.g. `✖ DOWN` or `… STALE`.
    pub fn health(&self, state: HealthState, stale: bool) -> String {
        if stale {
            return format!("{} STALE", self.stale);
        }
        let glyph = match state {
            HealthState::Up => self.up,
            HealthState::Degraded => self.degraded,
            HealthState::Down => self.down,
            HealthState::Unknown => self.unknown,
        };
        format!("{glyph} {}", state.label())
    }
}
