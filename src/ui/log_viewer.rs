//! The step log viewer over the screen: the newest lines of a step's log (see
//! [`crate::app::log_viewer`]), the file named in the title, scrolled from the newest.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::log_viewer::LogViewer;

use super::{Screen, clean};

pub fn draw(v: &LogViewer, screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    // Nearly the whole screen: a log is wide and long.
    let rect = Rect {
        x: area.x + 1.min(area.width),
        y: area.y + 1.min(area.height),
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    };
    frame.render_widget(Clear, rect);
    // What and how big first: a narrow screen cuts the end of the path.
    let title = format!(
        " Log of {}/{} ({}): {} ",
        clean(&v.runbook),
        clean(&v.step),
        size(v.size),
        clean(&v.path),
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.accent)
        .title(Span::styled(title, t.accent));
    let block = if screen.glyphs.ascii {
        block.border_set(super::glyphs::ASCII_BORDER)
    } else {
        block
    };
    let rows = rect.height.saturating_sub(3) as usize;
    let mut lines: Vec<Line> = Vec::with_capacity(rows + 1);
    let end = v.lines.len().saturating_sub(v.back);
    let start = end.saturating_sub(rows);
    if let Some(why) = &v.problem {
        lines.push(Line::from(Span::styled(
            format!("cannot read it: {}", clean(why)),
            t.down,
        )));
    } else if v.lines.is_empty() {
        lines.push(Line::from(Span::styled(
            if v.asked { "reading…" } else { "(empty)" },
            t.muted,
        )));
    }
    for l in &v.lines[start..end] {
        lines.push(Line::from(Span::styled(clean(l).into_owned(), t.text)));
    }
    while lines.len() < rows {
        lines.push(Line::from(""));
    }
    let shown = if v.back == 0 {
        "newest".to_string()
    } else {
        format!("{} lines up", v.back)
    };
    lines.push(Line::from(Span::styled(
        format!(
            "{shown} of its last {} lines · Up Down PgUp PgDn Home End · Tab next · Esc",
            v.lines.len()
        ),
        t.muted,
    )));
    frame.render_widget(Paragraph::new(lines).style(t.background).block(block), rect);
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
    } else if bytes >= 1 << 10 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drawn(v: &LogViewer, w: u16, h: u16) -> String {
        crate::ui::tests::drawn(w, h, |screen, frame, area| draw(v, screen, frame, area))
    }

    fn viewer() -> LogViewer {
        let mut lines: Vec<String> = (1..=40)
            .map(|n| format!("restoring shard {n}/40 \x1b[31mok\x1b[0m"))
            .collect();
        lines.push("[warroom] the log is capped at 64 MiB: 12 more lines were not kept".into());
        LogViewer {
            runbook: "failover".into(),
            step: "sync".into(),
            path: "/var/lib/warroom/incidents/i.steps/failover.sync.1.log".into(),
            lines,
            size: 67_108_900,
            problem: None,
            back: 0,
            asked: false,
        }
    }

    /// At the bastion's 80×24: the newest lines, the file, how to move; a program's escape
    /// sequences drawn harmless.
    #[test]
    fn at_80x24_it_shows_the_newest_lines_and_the_file() {
        insta::assert_snapshot!(drawn(&viewer(), 80, 24));
    }

    #[test]
    fn scrolled_back_and_unreadable() {
        let mut v = viewer();
        v.back = 30;
        let text = drawn(&v, 80, 24);
        assert!(text.contains("restoring shard 11/40"), "{text}");
        assert!(text.contains("30 lines up"), "{text}");
        v.problem = Some("permission denied".into());
        assert!(drawn(&v, 80, 24).contains("cannot read it: permission denied"));
    }
}
