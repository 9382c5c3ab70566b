//! Layouts: which panels go where, and the smallest terminal each needs. Built-ins live in
//! `layouts/` and are embedded; a name is looked up in the user's layout dir first.

use std::path::{Path, PathBuf};

use ratatui::layout::{Constraint, Direction, Layout as Split, Rect};
use serde::Deserialize;

use crate::app::Panel;
use crate::config::{Diagnostic, diagnostic::SourceFile};

const BUILTIN: &[(&str, &str)] = &[
    ("war-room", include_str!("../../layouts/war-room.toml")),
    ("bastion", include_str!("../../layouts/bastion.toml")),
    ("observer", include_str!("../../layouts/observer.toml")),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeaderStyle {
    /// One line: title, severity, clocks, badge.
    Line,
    /// The incident clock and the severity in block letters.
    Big,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum PanelName {
    Health,
    Replication,
    Backups,
    Timeline,
    Runbooks,
    Comms,
}

impl From<PanelName> for Panel {
    fn from(p: PanelName) -> Panel {
        match p {
            PanelName::Health => Panel::Health,
            PanelName::Replication => Panel::Replication,
            PanelName::Backups => Panel::Backups,
            PanelName::Timeline => Panel::Timeline,
            PanelName::Runbooks => Panel::Runbooks,
            PanelName::Comms => Panel::Comms,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CellFile {
    panel: toml::Spanned<PanelName>,
    size: u16,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RowFile {
    size: u16,
    panels: toml::Spanned<Vec<CellFile>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LayoutFile {
    name: String,
    min_width: toml::Spanned<u16>,
    min_height: toml::Spanned<u16>,
    header: HeaderStyle,
    row: toml::Spanned<Vec<toml::Spanned<RowFile>>>,
}

/// A row of panels with their widths in percent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub size: u16,
    pub panels: Vec<(Panel, u16)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub name: String,
    pub min_width: u16,
    pub min_height: u16,
    pub header: HeaderStyle,
    pub rows: Vec<Row>,
}

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("unknown layout \"{name}\" (known: {known}, auto, or a path to a .toml file)")]
    Unknown { name: String, known: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: crate::files::FileError,
    },
}

impl Layout {
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    pub fn builtin(name: &str) -> Option<Layout> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        Layout::parse(&SourceFile::new(
            format!("layouts/{name}.toml"),
            text.to_string(),
        ))
        .ok()
    }

    /// Parses and checks a layout file; every problem as a diagnostic.
    pub fn parse(src: &SourceFile) -> Result<Layout, Vec<Diagnostic>> {
        let file: LayoutFile = toml::from_str(&src.text).map_err(|e| {
            vec![Diagnostic::at(
                src,
                e.span(),
                "",
                e.message().trim().to_string(),
            )]
        })?;
        // Every error, each where it is written.
        let mut errors = Vec::new();
        let mut err = |span: std::ops::Range<usize>, msg: String| {
            errors.push(Diagnostic::at(src, Some(span), "", msg))
        };
        let rows = file.row.get_ref();
        if rows.iter().map(|r| r.get_ref().size).sum::<u16>() != 100 {
            err(
                file.row.span(),
                "row sizes must add up to 100 (percent of the height)".into(),
            );
        }
        let mut seen: Vec<PanelName> = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let cells = r.get_ref().panels.get_ref();
            if cells.iter().map(|c| c.size).sum::<u16>() != 100 {
                err(
                    r.get_ref().panels.span(),
                    format!("row[{i}]: panel sizes must add up to 100 (percent of the width)"),
                );
            }
            for c in cells {
                let panel = *c.panel.get_ref();
                if seen.contains(&panel) {
                    err(
                        c.panel.span(),
                        format!("row[{i}]: panel {panel:?} appears twice"),
                    );
                }
                seen.push(panel);
            }
        }
        if !seen.contains(&PanelName::Health) {
            err(
                file.row.span(),
                "a layout must show the health panel".into(),
            );
        }
        if *file.min_width.get_ref() < 40 {
            err(
                file.min_width.span(),
                "min_width must be at least 40".into(),
            );
        }
        if *file.min_height.get_ref() < 10 {
            err(
                file.min_height.span(),
                "min_height must be at least 10".into(),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Layout {
            name: file.name,
            min_width: file.min_width.into_inner(),
            min_height: file.min_height.into_inner(),
            header: file.header,
            rows: file
                .row
                .into_inner()
                .into_iter()
                .map(|r| {
                    let r = r.into_inner();
                    Row {
                        size: r.size,
                        panels: r
                            .panels
                            .into_inner()
                            .into_iter()
                            .map(|c| (c.panel.into_inner().into(), c.size))
                            .collect(),
                    }
                })
                .collect(),
        })
    }

    pub fn load(path: &Path) -> Result<Layout, LayoutError> {
        let text = crate::files::read_text(path, crate::files::CONFIG_MAX).map_err(|source| {
            LayoutError::Read {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Layout::parse(&SourceFile::new(path, text)).map_err(|d| {
            LayoutError::Invalid(
                d.iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })
    }

    /// A name (the user's layout dir first, then the built-ins) or a path. Not `auto`.
    pub fn resolve(spec: &str, user_dir: Option<&Path>) -> Result<Layout, LayoutError> {
        if spec.contains('/') || spec.ends_with(".toml") {
            return Layout::load(Path::new(spec));
        }
        if let Some(dir) = user_dir {
            let path = dir.join(format!("{spec}.toml"));
            if path.exists() {
                return Layout::load(&path);
            }
        }
        Layout::builtin(spec).ok_or_else(|| LayoutError::Unknown {
            name: spec.to_string(),
            known: Layout::builtin_names().join(", "),
        })
    }

    /// `--layout auto`: the largest built-in that fits. Consoles that may run steps never
    /// get a layout without the runbook panel; read-only ones may.
    pub fn auto(width: u16, height: u16, read_only: bool) -> Layout {
        let mut candidates: Vec<Layout> = Layout::builtin_names()
            .into_iter()
            .filter_map(Layout::builtin)
            .filter(|l| read_only || l.panels().contains(&Panel::Runbooks))
            .collect();
        candidates
            .sort_by_key(|l| std::cmp::Reverse(u32::from(l.min_width) * u32::from(l.min_height)));
        let smallest = candidates.last().cloned();
        candidates
            .into_iter()
            .find(|l| l.fits(width, height))
            .or(smallest)
            .unwrap_or_else(|| Layout {
                name: "fallback".into(),
                min_width: 40,
                min_height: 10,
                header: HeaderStyle::Line,
                rows: vec![Row {
                    size: 100,
                    panels: vec![(Panel::Health, 100)],
                }],
            })
    }

    pub fn fits(&self, width: u16, height: u16) -> bool {
        width >= self.min_width && height >= self.min_height
    }

    /// The panels shown, in reading order (also the Tab order).
    pub fn panels(&self) -> Vec<Panel> {
        self.rows
            .iter()
            .flat_map(|r| r.panels.iter().map(|(p, _)| *p))
            .collect()
    }

    /// Where each panel goes inside `area`.
    pub fn split(&self, area: Rect) -> Vec<(Panel, Rect)> {
        let rows = Split::default()
            .direction(Direction::Vertical)
            .constraints(self.rows.iter().map(|r| Constraint::Percentage(r.size)))
            .split(area);
        let mut out = Vec::new();
        for (row, rect) in self.rows.iter().zip(rows.iter()) {
            let cells = Split::default()
                .direction(Direction::Horizontal)
                .constraints(row.panels.iter().map(|(_, s)| Constraint::Percentage(*s)))
                .split(*rect);
            for ((panel, _), cell) in row.panels.iter().zip(cells.iter()) {
                out.push((*panel, *cell));
            }
        }
        out
    }
}

/// `<XDG config dir>/warroom/layouts`, where user layouts live.
pub fn user_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "warroom").map(|d| d.config_dir().join("layouts"))
}

/// For `warroom check`: every built-in and every layout file in the user's dir.
pub fn check_all(user_dir: Option<&Path>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (name, text) in BUILTIN {
        if let Err(d) = Layout::parse(&SourceFile::new(
            format!("layouts/{name}.toml"),
            text.to_string(),
        )) {
            out.extend(d);
        }
    }
    if let Some(dir) = user_dir
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for path in entries.flatten().map(|e| e.path()) {
            if path.extension().is_some_and(|e| e == "toml") {
                match crate::files::read_text(&path, crate::files::CONFIG_MAX) {
                    Ok(text) => {
                        if let Err(d) = Layout::parse(&SourceFile::new(&path, text)) {
                            out.extend(d);
                        }
                    }
                    Err(e) => out.push(Diagnostic::unreadable(&path, &e)),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses() {
        for name in Layout::builtin_names() {
            let l = Layout::builtin(name).expect(name);
            assert_eq!(l.name, name);
        }
        assert!(check_all(None).is_empty());
    }

    #[test]
    fn observer_has_no_runbook_panel_and_bastion_fits_80x24() {
        let observer = Layout::builtin("observer").expect("observer");
        assert!(!observer.panels().contains(&Panel::Runbooks));
        assert!(Layout::builtin("bastion").expect("bastion").fits(80, 24));
        assert!(Layout::builtin("war-room").expect("war-room").min_width >= 160);
    }

    #[test]
    fn auto_picks_the_largest_that_fits() {
        assert_eq!(Layout::auto(80, 24, false).name, "bastion");
        assert_eq!(Layout::auto(200, 50, false).name, "war-room");
        // An operator console never gets the observer layout, which has no runbooks.
        assert_eq!(Layout::auto(120, 35, false).name, "bastion");
        assert_eq!(Layout::auto(120, 35, true).name, "observer");
        // Too small for anything: the smallest, drawn as far as it goes.
        assert_eq!(Layout::auto(60, 20, false).name, "bastion");
    }

    #[test]
    fn a_bad_layout_file_is_reported() {
        let src = SourceFile::new(
            "x.toml",
            "name = \"x\"\nmin_width = 30\nmin_height = 24\nheader = \"line\"\n[[row]]\nsize = 90\npanels = [{ panel = \"timeline\", size = 60 }, { panel = \"timeline\", size = 30 }]\n".into(),
        );
        let errors: Vec<String> = Layout::parse(&src)
            .expect_err("invalid")
            .iter()
            .map(|d| d.to_string())
            .collect();
        // Every error, each where it is written.
        assert_eq!(
            errors,
            vec![
                "x.toml:5:1: row sizes must add up to 100 (percent of the height)",
                "x.toml:7:10: row[0]: panel sizes must add up to 100 (percent of the width)",
                "x.toml:7:56: row[0]: panel Timeline appears twice",
                "x.toml:5:1: a layout must show the health panel",
                "x.toml:2:13: min_width must be at least 40",
            ]
        );
        let src = SourceFile::new("y.toml", "name = \"y\"\ncolour = 1\n".into());
        let errors = Layout::parse(&src).expect_err("unknown key");
        assert!(
            errors[0]
                .to_string()
                .starts_with("y.toml:2:1: unknown field `colour`"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn resolve_by_name_path_and_user_dir() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mine = "name = \"mine\"\nmin_width = 50\nmin_height = 12\nheader = \"line\"\n[[row]]\nsize = 100\npanels = [{ panel = \"health\", size = 100 }]\n";
        std::fs::write(dir.path().join("bastion.toml"), mine).expect("write");
        assert_eq!(
            Layout::resolve("bastion", Some(dir.path()))
                .expect("user")
                .name,
            "mine"
        );
        assert_eq!(
            Layout::resolve("bastion", None).expect("builtin").name,
            "bastion"
        );
        let path = dir.path().join("bastion.toml");
        assert_eq!(
            Layout::resolve(path.to_str().expect("utf-8"), None)
                .expect("path")
                .name,
            "mine"
        );
        let err = Layout::resolve("wall", None).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown layout \"wall\" (known: war-room, bastion, observer, auto, or a path to a .toml file)"
        );
    }
}
