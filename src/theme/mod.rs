//! Themes: the console's colours and emphasis as semantic tokens (up, down, accent, …).
//!
//! A theme is a TOML file in `themes/`, one style per token. The built-ins are embedded in the
//! binary, so it works from any directory; a file of the same name in the user's theme
//! directory (`<XDG config dir>/warroom/themes`) overrides one. `NO_COLOR` forces
//! [`Theme::monochrome`]. Status is never told by colour alone (the screen draws a glyph and a
//! word too), so a theme only adds emphasis.

mod read;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use ratatui::style::Style;

use crate::config::diagnostic::SourceFile;
use crate::config::{Diagnostic, Diagnostics};

/// The tokens every theme file must define, in the order of [`Theme::tokens`].
pub const TOKENS: &[&str] = &[
    "up",
    "degraded",
    "down",
    "unknown",
    "stale",
    "accent",
    "text",
    "muted",
    "border",
    "selection",
    "background",
];

/// The built-in themes, embedded; the first is the default.
const BUILTINS: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    (
        "solarized-dark",
        include_str!("../../themes/solarized-dark.toml"),
    ),
    (
        "deuteranopia",
        include_str!("../../themes/deuteranopia.toml"),
    ),
    ("monochrome", include_str!("../../themes/monochrome.toml")),
];

/// The names of [`BUILTINS`], in the same order (a test keeps them in step).
const BUILTIN_NAMES: &[&str] = &[
    "dark",
    "light",
    "high-contrast",
    "solarized-dark",
    "deuteranopia",
    "monochrome",
];

/// The console's styles, one per semantic token.
///
/// Each style is laid over what is beneath it (`Style::patch`): a `None` fg or bg keeps the
/// colour underneath, so draw `background` first and the other tokens on top of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub name: String,
    /// Component states.
    pub up: Style,
    pub degraded: Style,
    pub down: Style,
    pub unknown: Style,
    pub stale: Style,
    /// Headings, the focused panel, keys in the help line.
    pub accent: Style,
    pub text: Style,
    /// Secondary text: timestamps, reasons, hints.
    pub muted: Style,
    pub border: Style,
    pub selection: Style,
    /// The whole screen, drawn first.
    pub background: Style,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::builtin(BUILTIN_NAMES[0]).expect("the default theme is built in")
    }
}

impl Theme {
    /// A built-in theme by name.
    pub fn builtin(name: &str) -> Option<Theme> {
        let (name, text) = BUILTINS.iter().find(|(n, _)| *n == name)?;
        let src = SourceFile::new(builtin_path(name), (*text).to_string());
        // Every built-in is checked by the tests: failing here is a bug in this crate.
        Some(Theme::from_source(name, &src).expect("built-in themes are valid"))
    }

    pub fn builtin_names() -> &'static [&'static str] {
        BUILTIN_NAMES
    }

    /// No colours at all, only modifiers: what `NO_COLOR` asks for.
    pub fn monochrome() -> Theme {
        Theme::builtin("monochrome").expect("monochrome is built in")
    }

    /// Parses a theme file's text; every error at once.
    pub fn from_source(name: &str, src: &SourceFile) -> Result<Theme, Diagnostics> {
        let [
            up,
            degraded,
            down,
            unknown,
            stale,
            accent,
            text,
            muted,
            border,
            selection,
            background,
        ] = read::read(src).map_err(Diagnostics)?;
        Ok(Theme {
            name: name.to_string(),
            up,
            degraded,
            down,
            unknown,
            stale,
            accent,
            text,
            muted,
            border,
            selection,
            background,
        })
    }

    /// Every token with its style, in [`TOKENS`] order (for previews and tests).
    pub fn tokens(&self) -> [(&'static str, Style); TOKENS.len()] {
        let styles = [
            self.up,
            self.degraded,
            self.down,
            self.unknown,
            self.stale,
            self.accent,
            self.text,
            self.muted,
            self.border,
            self.selection,
            self.background,
        ];
        std::array::from_fn(|i| (TOKENS[i], styles[i]))
    }
}

/// Every error in one theme file, for `warroom check`.
pub fn validate(src: &SourceFile) -> Vec<Diagnostic> {
    read::read(src).err().unwrap_or_default()
}

/// Where diagnostics place a built-in theme: it has no file on the user's disk.
fn builtin_path(name: &str) -> PathBuf {
    PathBuf::from(format!("<built-in>/{name}.toml"))
}
