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

use std::path::{Path, PathBuf};

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

/// Why a theme could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("unknown theme `{name}` (known themes: {})", known.join(", "))]
    Unknown { name: String, known: Vec<String> },
    #[error("cannot read theme file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: crate::files::FileError,
    },
    #[error("theme file {} is not valid:\n{diagnostics}", path.display())]
    Invalid {
        path: PathBuf,
        diagnostics: Diagnostics,
    },
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

    /// The theme `spec` names, as the console's `--theme` or `console.theme` gives it.
    ///
    /// - `no_color` (the caller's reading of `NO_COLOR`, see [`no_color_env`]): monochrome,
    ///   whatever `spec` says.
    /// - A spec containing `/` or ending in `.toml` is a path (relative to the working directory).
    /// - Otherwise a name: `user_dir/<name>.toml` if it exists, else a built-in.
    pub fn resolve(
        spec: &str,
        user_dir: Option<&Path>,
        no_color: bool,
    ) -> Result<Theme, ThemeError> {
        if no_color {
            return Ok(Theme::monochrome());
        }
        if spec.contains('/') || spec.ends_with(".toml") {
            let path = Path::new(spec);
            let text =
                crate::files::read_text(path, crate::files::CONFIG_MAX).map_err(|source| {
                    ThemeError::Read {
                        path: path.to_path_buf(),
                        source,
                    }
                })?;
            let name = path
                .file_stem()
                .map_or_else(|| spec.to_string(), |s| s.to_string_lossy().into_owned());
            return Theme::from_file(&name, path, text);
        }
        if let Some(dir) = user_dir {
            let path = dir.join(format!("{spec}.toml"));
            match crate::files::read_text(&path, crate::files::CONFIG_MAX) {
                Ok(text) => return Theme::from_file(spec, &path, text),
                Err(crate::files::FileError::NotFound) => {}
                Err(source) => return Err(ThemeError::Read { path, source }),
            }
        }
        Theme::builtin(spec).ok_or_else(|| ThemeError::Unknown {
            name: spec.to_string(),
            known: known_names(user_dir),
        })
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

    fn from_file(name: &str, path: &Path, text: String) -> Result<Theme, ThemeError> {
        let src = SourceFile::new(path, text);
        Theme::from_source(name, &src).map_err(|diagnostics| ThemeError::Invalid {
            path: path.to_path_buf(),
            diagnostics,
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

/// Checks the built-in themes and every `*.toml` in the user's theme directory.
pub fn check_all(user_dir: Option<&Path>) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (name, text) in BUILTINS {
        diags.extend(validate(&SourceFile::new(
            builtin_path(name),
            (*text).to_string(),
        )));
    }
    let Some(dir) = user_dir else { return diags };
    let files = match user_files(dir) {
        Ok(files) => files,
        // No theme directory is the usual case, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return diags,
        Err(e) => {
            diags.push(Diagnostic::file(
                dir,
                format!("cannot read theme directory: {e}"),
            ));
            return diags;
        }
    };
    for path in files {
        match crate::files::read_text(&path, crate::files::CONFIG_MAX) {
            Ok(text) => diags.extend(validate(&SourceFile::new(path, text))),
            Err(e) => diags.push(Diagnostic::unreadable(&path, &e)),
        }
    }
    diags
}

/// `<XDG config dir>/warroom/themes`, where user themes live; `None` without a home directory.
pub fn user_dir() -> Option<PathBuf> {
    crate::paths::project().map(|d| d.config_dir().join("themes"))
}

/// Whether `NO_COLOR` asks for no colour: set and not empty (https://no-color.org).
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Where diagnostics place a built-in theme: it has no file on the user's disk.
fn builtin_path(name: &str) -> PathBuf {
    PathBuf::from(format!("<built-in>/{name}.toml"))
}

/// The `*.toml` files in `dir`, sorted so that reports come in a stable order.
fn user_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The names `resolve` would accept: the built-ins and the user's own, sorted, once each.
fn known_names(user_dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = BUILTIN_NAMES.iter().map(|n| n.to_string()).collect();
    let user = user_dir
        .and_then(|d| user_files(d).ok())
        .unwrap_or_default();
    names.extend(
        user.iter()
            .filter_map(|p| p.file_stem())
            .map(|s| s.to_string_lossy().into_owned()),
    );
    names.sort();
    names.dedup();
    names
}
