//! Markdown pieces: journal text made safe to print, times, tables.

use jiff::{SignedDuration, Timestamp};

use crate::app::fmt;
use crate::text::clean;

/// Text that came from the journal, safe for a terminal and for Markdown: control characters
/// and escape sequences removed, line breaks turned into spaces (so a cell or a list item
/// stays on its line), and `\`, `|` and `<` backslash-escaped (so it cannot close a table
/// cell or open an HTML tag).
pub fn text(s: &str) -> String {
    let cleaned = clean(s);
    let mut out = String::with_capacity(cleaned.len());
    for c in cleaned.chars() {
        if matches!(c, '\\' | '|' | '<') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `2026-11-25 03:12:09 UTC`.
pub fn time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A duration as the console writes it: "45s", "2m05s", "1h02m"; negative with a "-".
pub fn dur(d: SignedDuration) -> String {
    fmt::signed(d)
}

/// `T+5m`, `T+0s`, `T-30s`: time since the incident started.
pub fn t_plus(at: Timestamp, start: Timestamp) -> String {
    let d = at.duration_since(start);
    if d.is_negative() {
        format!("T{}", dur(d))
    } else {
        format!("T+{}", dur(d))
    }
}

/// A Markdown table; the cells must already be escaped (see [`text`]).
pub fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    out.push('|');
    for h in header {
        out.push(' ');
        out.push_str(h);
        out.push_str(" |");
    }
    out.push_str("\n|");
    for _ in header {
        out.push_str("---|");
    }
    out.push('\n');
    for row in rows {
        self::row(out, row);
    }
}

/// One row of a Markdown table (after its header, [`table`] with no rows).
pub fn row(out: &mut String, cells: &[String]) {
    out.push('|');
    for cell in cells {
        out.push(' ');
        out.push_str(if cell.is_empty() { "—" } else { cell });
        out.push_str(" |");
    }
    out.push('\n');
}

/// `n thing` / `n things`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
