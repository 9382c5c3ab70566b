//! The update composer: template, subject, status, where it goes, the text being edited, and
//! below it exactly what each channel will receive (the same bodies the sender sends).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::compose::{Compose, ComposeField};
use crate::app::message::{PUBLISH_WORD, Template};
use crate::app::{IncidentStatus, State};

use super::{Screen, clean};

/// The text's lines, the cursor's line and column.
fn text_lines(text: &str, cursor: usize) -> (Vec<String>, usize, usize) {
    let mut lines = vec![String::new()];
    let (mut line, mut col) = (0, 0);
    for (i, c) in text.chars().enumerate() {
        if i == cursor {
            line = lines.len() - 1;
            col = lines.last().map_or(0, |l| l.chars().count());
        }
        if c == '\n' {
            lines.push(String::new());
        } else if let Some(l) = lines.last_mut() {
            l.push(c);
        }
    }
    if cursor >= text.chars().count() {
        line = lines.len() - 1;
        col = lines.last().map_or(0, |l| l.chars().count());
    }
    (lines, line, col)
}

pub fn draw(state: &State, compose: &Compose, screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let g = screen.glyphs;
    let cursor_glyph = if g.ascii { "_" } else { "▏" };
    let width = area.width.min(120);
    let height = area.height;
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    let title = match &compose.step {
        Some((rb, st)) => format!(" Update ({rb}/{st}) "),
        None => " Update ".to_string(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.accent)
        .title(Span::styled(title, t.accent));
    let block = if g.ascii {
        block.border_set(super::glyphs::ASCII_BORDER)
    } else {
        block
    };
    let inner = block.inner(rect);
    frame.render_widget(block.style(t.background), rect);
    let field = |label: &str, f: ComposeField| {
        let active = compose.field == f;
        Span::styled(
            format!("{}{label:<9}", if active { g.focus } else { " " }),
            if active { t.accent } else { t.muted },
        )
    };
    let choice = |on: bool, text: &str| {
        if on {
            Span::styled(format!("[{text}]"), t.selection)
        } else {
            Span::styled(format!(" {text} "), t.text)
        }
    };
    let mut head: Vec<Line> = Vec::new();
    if let Some(i) = &state.incident {
        head.push(Line::from(Span::styled(
            format!(
                "{} · {} · {}",
                clean(&i.title),
                i.level.label(),
                i.status.label()
            ),
            t.muted,
        )));
    }
    head.push(Line::from(
        std::iter::once(field("Template", ComposeField::Template))
            .chain(
                Template::ALL
                    .iter()
                    .map(|tp| choice(*tp == compose.template, tp.label())),
            )
            .collect::<Vec<_>>(),
    ));
    head.push(Line::from(vec![
        field("Subject", ComposeField::Subject),
        Span::styled(clean(&compose.subject).into_owned(), t.text),
        Span::styled(
            if compose.field == ComposeField::Subject {
                cursor_glyph
            } else {
                ""
            },
            t.accent,
        ),
    ]));
    head.push(Line::from(
        std::iter::once(field("Status", ComposeField::Status))
            .chain(
                IncidentStatus::ALL
                    .iter()
                    .map(|s| choice(*s == compose.status, s.label())),
            )
            .collect::<Vec<_>>(),
    ));
    let mut to = vec![field("To", ComposeField::To)];
    for (i, (channel, on)) in compose.to.iter().enumerate() {
        let mark = if *on { "[x]" } else { "[ ]" };
        let here = compose.field == ComposeField::To && i == compose.to_cursor;
        to.push(Span::styled(
            format!("{mark} {}  ", clean(&state.targets.describe(*channel))),
            if here { t.selection } else { t.text },
        ));
    }
    head.push(Line::from(to));
    head.push(Line::from(vec![
        field("Text", ComposeField::Text),
        Span::styled(
            "for the team (Slack) · Ctrl-J or Alt-Enter: new line · ↑↓←→ Home End: move",
            t.muted,
        ),
    ]));
    head.push(Line::from(vec![
        field("Public", ComposeField::Public),
        Span::styled(
            format!(
                "for customers (status page): \"{}\" — no names of ours, no people, no steps",
                clean(&compose.public_subject)
            ),
            t.muted,
        ),
    ]));
    head.push(Line::from(vec![
        field("ETA", ComposeField::Eta),
        if compose.eta.is_empty() && compose.field != ComposeField::Eta {
            Span::styled("no ETA (the public text says: not yet known)", t.muted)
        } else {
            Span::styled(clean(&compose.eta).into_owned(), t.text)
        },
        Span::styled(
            if compose.field == ComposeField::Eta {
                cursor_glyph
            } else {
                ""
            },
            t.accent,
        ),
    ]));

    let public = compose.public();
    let mut foot: Vec<Line> = Vec::new();
    let fields = compose.fields(state);
    // A typed line: its label, what it asks, what is typed, the cursor when it has focus.
    let typed_line = |label: &str, f: ComposeField, ask: String, typed: &str, done: bool| {
        Line::from(vec![
            field(label, f),
            Span::styled(ask, t.degraded),
            Span::styled(clean(typed).into_owned(), if done { t.up } else { t.text }),
            Span::styled(if compose.field == f { cursor_glyph } else { "" }, t.accent),
        ])
    };
    if fields.contains(&ComposeField::Override) {
        let not_up = crate::app::compose::not_up(state);
        foot.push(typed_line(
            "Override",
            ComposeField::Override,
            format!(
                "not UP: {} — type `{}` <reason> > ",
                clean(&not_up.join(", ")),
                crate::app::compose::OVERRIDE_RESOLVE
            ),
            &compose.override_resolve,
            compose.override_reason().is_some(),
        ));
    }
    if fields.contains(&ComposeField::Resolve) {
        foot.push(typed_line(
            "Resolve",
            ComposeField::Resolve,
            format!(
                "announces the incident resolved: type `{}` > ",
                crate::app::dialog::RESOLVE_WORD
            ),
            &compose.resolve,
            compose.resolve == crate::app::dialog::RESOLVE_WORD,
        ));
    }
    if public {
        foot.push(Line::from(vec![
            field("Publish", ComposeField::Publish),
            Span::styled(
                match screen.drill {
                    // A drill's page is its simulated sink: no customer reads it.
                    Some(_) => format!(
                        "drill: goes to the simulated status page; type `{PUBLISH_WORD}` > "
                    ),
                    None => format!("customers read the status page: type `{PUBLISH_WORD}` > "),
                },
                t.degraded,
            ),
            Span::styled(
                clean(&compose.publish).into_owned(),
                if compose.publish == PUBLISH_WORD {
                    t.up
                } else {
                    t.text
                },
            ),
            Span::styled(
                if compose.field == ComposeField::Publish {
                    cursor_glyph
                } else {
                    ""
                },
                t.accent,
            ),
        ]));
    }
    foot.push(Line::from(match compose.blocked(state) {
        _ if compose.cancel_armed => Span::styled(
            "Esc again throws away what you typed; any other key goes on editing",
            t.down,
        ),
        Some(why) => Span::styled(format!("Enter waits: {why} · Esc: cancel"), t.degraded),
        None => Span::styled(
            "Enter: queue it (the outbox delivers it, the comms panel shows how) · Esc: cancel",
            t.up,
        ),
    }));
    foot.push(Line::from(Span::styled(
        "Tab: next field · ←/→: choose · Space: tick where it goes",
        t.muted,
    )));

    let fixed = head.len() as u16 + foot.len() as u16;
    let room = inner.height.saturating_sub(fixed);
    let text_rows = (room / 2).max(room.min(3));
    let preview_rows = room.saturating_sub(text_rows);
    let mut y = inner.y;
    let head_h = (head.len() as u16).min(inner.height);
    frame.render_widget(
        Paragraph::new(head),
        Rect {
            y,
            height: head_h,
            ..inner
        },
    );
    y += head_h;

    // The text area, wrapped to its width and scrolled to keep the cursor in view.
    // The editor shows the public text while it has the focus, else the team's.
    let (lines, cur_line, cur_col) = if compose.field == ComposeField::Public {
        text_lines(&compose.public_text, compose.public_cursor)
    } else {
        text_lines(&compose.text, compose.cursor)
    };
    let w = (inner.width as usize).saturating_sub(3).max(1);
    let mut rows_of: Vec<(String, bool, Option<usize>)> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let chars: Vec<char> = clean(l).chars().collect();
        let chunks = chars.len().div_ceil(w).max(1);
        for k in 0..chunks {
            let part: String = chars.iter().skip(k * w).take(w).collect();
            let here =
                i == cur_line && cur_col >= k * w && (cur_col < (k + 1) * w || k + 1 == chunks);
            rows_of.push((part, here, here.then(|| cur_col - k * w)));
        }
    }
    let rows = text_rows as usize;
    let cursor_row = rows_of.iter().position(|(_, here, _)| *here).unwrap_or(0);
    let first = cursor_row.saturating_sub(rows.saturating_sub(1));
    let editing = matches!(compose.field, ComposeField::Text | ComposeField::Public);
    let shown: Vec<Line> = rows_of
        .into_iter()
        .skip(first)
        .take(rows)
        .map(|(l, _, col)| match col.filter(|_| editing) {
            Some(col) => {
                let chars: Vec<char> = l.chars().collect();
                let at = col.min(chars.len());
                let a: String = chars[..at].iter().collect();
                let b: String = chars[at..].iter().collect();
                Line::from(vec![
                    Span::raw("  "),
                    Span::styled(a, t.text),
                    Span::styled(cursor_glyph, t.accent),
                    Span::styled(b, t.text),
                ])
            }
            None => Line::from(vec![Span::raw("  "), Span::styled(l, t.text)]),
        })
        .collect();
    if text_rows > 0 {
        frame.render_widget(
            Paragraph::new(shown),
            Rect {
                y,
                height: text_rows,
                ..inner
            },
        );
    }
    y += text_rows;

    if preview_rows > 0 {
        // Scrolled by whole lines (the model knows how many there are and stops at the last),
        // each wrapped to the width: the end of a long body is always reachable.
        let lines: Vec<Line> = compose
            .preview(state)
            .into_iter()
            .enumerate()
            .skip(compose.preview_scroll)
            .map(|(i, l)| {
                let style = if i == 0 || l.starts_with('▶') {
                    t.accent
                } else {
                    t.muted
                };
                Line::from(Span::styled(clean(&l).into_owned(), style))
            })
            .collect();
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: false }),
            Rect {
                y,
                height: preview_rows,
                ..inner
            },
        );
    }
    y += preview_rows;
    frame.render_widget(
        Paragraph::new(foot),
        Rect {
            y,
            height: inner.height.saturating_sub(y - inner.y),
            ..inner
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_is_found_on_its_line() {
        assert_eq!(
            text_lines("ab\ncd", 4),
            (vec!["ab".into(), "cd".into()], 1, 1)
        );
        assert_eq!(
            text_lines("ab\n", 3),
            (vec!["ab".into(), String::new()], 1, 0)
        );
        assert_eq!(text_lines("", 0), (vec![String::new()], 0, 0));
    }
}
