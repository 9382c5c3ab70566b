//! Layouts: which panels go where, and the smallest terminal each needs. Built-ins live in
//! `layouts/` and are embedded; a name is looked up in the user's layout dir first.

use std::path::{Path, PathBuf};

use crate::app::Panel;
use crate::config::tree::{Reader, Span, Tbl, type_name};
use crate::config::{Diagnostic, diagnostic::SourceFile};
use ratatui::layout::{Constraint, Direction, Layout as Split, Rect};

const BUILTIN: &[(&str, &str)] = &[
    ("war-room", include_str!("../../layouts/war-room.toml")),
    ("bastion", include_str!("../../layouts/bastion.toml")),
    ("observer", include_str!("../../layouts/observer.toml")),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderStyle {
    /// One line: title, severity, clocks, badge.
    Line,
    /// The incident clock and the severity in block letters.
    Big,
}

const HEADER_STYLES: &[(&str, HeaderStyle)] =
    &[("line", HeaderStyle::Line), ("big", HeaderStyle::Big)];

const PANELS: &[(&str, Panel)] = &[
    ("health", Panel::Health),
    ("replication", Panel::Replication),
    ("backups", Panel::Backups),
    ("timeline", Panel::Timeline),
    ("runbooks", Panel::Runbooks),
    ("comms", Panel::Comms),
];

/// A word from `words` at `key`, or an error saying which words there are.
fn read_word<T: Copy>(
    r: &mut Reader,
    t: &mut Tbl,
    key: &'static str,
    words: &[(&str, T)],
) -> Option<(T, Span)> {
    let f = t.get(key)?;
    let Some(text) = f.item.as_str() else {
        r.error(
            f.span,
            &f.path,
            format!("expected a string, found {}", type_name(f.item)),
        );
        return None;
    };
    match words.iter().find(|(w, _)| *w == text) {
        Some((_, v)) => Some((*v, f.span)),
        None => {
            let known: Vec<&str> = words.iter().map(|(w, _)| *w).collect();
            r.error(
                f.span,
                &f.path,
                format!(
                    "unknown {key} \"{}\" (known: {})",
                    crate::text::clean(text),
                    known.join(", ")
                ),
            );
            None
        }
    }
}

/// A required percentage or size; reported missing where its table is.
fn read_number(
    r: &mut Reader,
    t: &mut Tbl,
    key: &'static str,
    min: i64,
    max: i64,
) -> Option<(u16, Span)> {
    if !t.has(key) {
        t.missing_because(r, key, "");
        return None;
    }
    let span = t.get(key).and_then(|f| f.span);
    let n = t.opt_int(r, key, min, max)?;
    Some((u16::try_from(n).ok()?, span))
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

    /// Parses and checks a layout file; every problem as a diagnostic, each where it is
    /// written (only a TOML syntax error stops the reading: nothing after it can be trusted).
    pub fn parse(src: &SourceFile) -> Result<Layout, Vec<Diagnostic>> {
        let doc = match toml_edit::Document::parse(src.text.as_str()) {
            Ok(doc) => doc,
            Err(e) => {
                let message = format!("TOML syntax: {}", e.message().trim());
                return Err(vec![Diagnostic::at(src, e.span(), "", message)]);
            }
        };
        let mut diags = Vec::new();
        let mut r = Reader {
            src,
            diags: &mut diags,
            workdirs: Vec::new(),
        };
        let mut top = Tbl::new(doc.as_table(), String::new(), None);
        let name = top.req_str(&mut r, "name");
        let min_width = read_number(&mut r, &mut top, "min_width", 0, i64::from(u16::MAX));
        let min_height = read_number(&mut r, &mut top, "min_height", 0, i64::from(u16::MAX));
        let header = if top.has("header") {
            read_word(&mut r, &mut top, "header", HEADER_STYLES).map(|(h, _)| h)
        } else {
            top.missing_because(&mut r, "header", " (\"line\" or \"big\")");
            None
        };
        let rows_span = top.get("row").and_then(|f| f.span);
        if !top.has("row") {
            top.missing_because(&mut r, "row", " (at least one [[row]])");
        }
        let row_tables = top.opt_tables(&mut r, "row");
        top.finish(&mut r);

        let mut rows = Vec::new();
        let mut rows_ok = true;
        let mut height = 0u32;
        let mut seen: Vec<Panel> = Vec::new();
        // Whether a missing panel can be told: not when one could not be read.
        let mut every_panel_read = true;
        for (i, mut rt) in row_tables.into_iter().enumerate() {
            let size = read_number(&mut r, &mut rt, "size", 1, 100);
            let cells_span = rt.get("panels").and_then(|f| f.span).or(rt.span.clone());
            if !rt.has("panels") {
                rt.missing_because(
                    &mut r,
                    "panels",
                    " (e.g. panels = [{ panel = \"health\", size = 100 }])",
                );
            }
            let cell_tables = rt.opt_tables(&mut r, "panels");
            rt.finish(&mut r);
            let mut panels = Vec::new();
            let mut width = 0u32;
            let mut cells_ok = true;
            for mut ct in cell_tables {
                let panel = if ct.has("panel") {
                    read_word(&mut r, &mut ct, "panel", PANELS)
                } else {
                    ct.missing_because(&mut r, "panel", "");
                    None
                };
                let cell_size = read_number(&mut r, &mut ct, "size", 1, 100);
                let panel_path = format!("{}.panel", ct.path);
                ct.finish(&mut r);
                if let Some((panel, span)) = &panel {
                    let panel = *panel;
                    if seen.contains(&panel) {
                        r.error(
                            span.clone(),
                            &panel_path,
                            "this panel is already shown; a panel appears once",
                        );
                    }
                    seen.push(panel);
                }
                match (panel, cell_size) {
                    (Some((panel, _)), Some((size, _))) => {
                        width += u32::from(size);
                        panels.push((panel, size));
                    }
                    _ => {
                        cells_ok = false;
                        every_panel_read = false;
                    }
                }
            }
            if cells_ok && width != 100 {
                r.error(
                    cells_span,
                    &format!("row[{i}]"),
                    "panel sizes must add up to 100 (percent of the width)",
                );
            }
            match size {
                Some((size, _)) => {
                    height += u32::from(size);
                    rows.push(Row { size, panels });
                }
                None => rows_ok = false,
            }
        }
        if rows_ok && !rows.is_empty() && height != 100 {
            r.error(
                rows_span.clone(),
                "row",
                "row sizes must add up to 100 (percent of the height)",
            );
        }
        if rows_ok && every_panel_read && !seen.contains(&Panel::Health) {
            r.error(rows_span, "row", "a layout must show the health panel");
        }
        if let Some((w, span)) = &min_width
            && *w < 40
        {
            r.error(span.clone(), "min_width", "must be at least 40 (columns)");
        }
        if let Some((h, span)) = &min_height
            && *h < 10
        {
            r.error(span.clone(), "min_height", "must be at least 10 (lines)");
        }
        match (name, min_width, min_height, header) {
            (Some(name), Some((min_width, _)), Some((min_height, _)), Some(header))
                if diags.is_empty() =>
            {
                Ok(Layout {
                    name,
                    min_width,
                    min_height,
                    header,
                    rows,
                })
            }
            _ => {
                // Reported in the order they are written, however they were found.
                diags.sort_by_key(|d| d.location);
                Err(diags)
            }
        }
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
    crate::paths::project().map(|d| d.config_dir().join("layouts"))
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
                "x.toml:2:13: min_width: must be at least 40 (columns)",
                "x.toml:5:1: row: row sizes must add up to 100 (percent of the height)",
                "x.toml:5:1: row: a layout must show the health panel",
                "x.toml:7:10: row[0]: panel sizes must add up to 100 (percent of the width)",
                "x.toml:7:56: row[0].panels[1].panel: this panel is already shown; a panel appears once",
            ]
        );
        // Type errors too: every one, each where it is written, not only the first.
        let src = SourceFile::new(
            "y.toml",
            "name = 3\ncolour = 1\nmin_width = \"wide\"\nmin_height = 24\nheader = \"huge\"\n[[row]]\nsize = 100\npanels = [{ panel = \"helth\", size = 100 }, { panel = \"timeline\", size = \"half\" }, 7]\n".into(),
        );
        let errors: Vec<String> = Layout::parse(&src)
            .expect_err("invalid")
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(
            errors,
            vec![
                "y.toml:1:8: name: expected a string, found integer",
                "y.toml:2:1: colour: unknown key `colour` (known keys: header, min_height, min_width, name, row)",
                "y.toml:3:13: min_width: expected an integer, found string",
                "y.toml:5:10: header: unknown header \"huge\" (known: line, big)",
                "y.toml:8:21: row[0].panels[0].panel: unknown panel \"helth\" (known: health, replication, backups, timeline, runbooks, comms)",
                "y.toml:8:73: row[0].panels[1].size: expected an integer, found string",
                "y.toml:8:83: row[0].panels[2]: expected a table, found integer",
            ]
        );
        // A syntax error is the one thing that stops the reading: it says where.
        let src = SourceFile::new("z.toml", "name = \"z\"\nmin_width = \n".into());
        let errors = Layout::parse(&src).expect_err("syntax");
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .to_string()
                .starts_with("z.toml:2:13: TOML syntax"),
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
