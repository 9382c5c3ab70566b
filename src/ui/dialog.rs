//! The incident dialogs (declare, status, note): a box over the screen that shows exactly what
//! will be written, and what Enter still waits for.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::dialog::RESOLVE_WORD;
use crate::app::{DeclareField, Dialog, DrLevel, IncidentStatus, State};

use super::{Screen, clean};

pub fn draw(state: &State, dialog: &Dialog, screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let g = screen.glyphs;
    let cursor = if g.ascii { "_" } else { "▏" };
    let field = |label: &str, active: bool| {
        Span::styled(
            format!("{}{label:<10}", if active { g.focus } else { "  " }),
            if active { t.accent } else { t.muted },
        )
    };
    // What is typed, with the cursor after it.
    let typed_line = |text: &str| {
        Line::from(vec![
            Span::styled("> ", t.accent),
            Span::styled(clean(text).into_owned(), t.text),
            Span::styled(cursor, t.accent),
        ])
    };
    // A dialog that waits for typed words: what it is about, what each word does, the field.
    let gated = |head: Line<'static>, words: [&'static str; 2], typed: &str, keys: &'static str| {
        vec![
            head,
            Line::from(""),
            Line::from(Span::styled(words[0], t.muted)),
            Line::from(Span::styled(words[1], t.muted)),
            typed_line(typed),
            Line::from(""),
            Line::from(Span::styled(keys, t.muted)),
        ]
    };
    let choice = |on: bool, text: String| {
        if on {
            Span::styled(format!("[{text}]"), t.selection)
        } else {
            Span::styled(format!(" {text} "), t.text)
        }
    };
    let (title, mut lines) = match dialog {
        Dialog::Declare {
            title,
            level,
            status,
            field: f,
        } => {
            let lines = vec![
                Line::from(vec![
                    field("Title", *f == DeclareField::Title),
                    Span::styled(clean(title).into_owned(), t.text),
                    Span::styled(
                        if *f == DeclareField::Title {
                            cursor
                        } else {
                            ""
                        },
                        t.accent,
                    ),
                ]),
                Line::from(
                    std::iter::once(field("DR level", *f == DeclareField::Level))
                        .chain(
                            DrLevel::ALL
                                .iter()
                                .map(|l| choice(l == level, l.label().to_string())),
                        )
                        .collect::<Vec<_>>(),
                ),
                Line::from(vec![
                    Span::raw("            "),
                    Span::styled(level.meaning(), t.muted),
                ]),
                Line::from(
                    std::iter::once(field("Status", *f == DeclareField::Status))
                        .chain(
                            IncidentStatus::ALL[..3]
                                .iter()
                                .map(|s| choice(s == status, s.label().to_string())),
                        )
                        .collect::<Vec<_>>(),
                ),
                Line::from(""),
                Line::from(Span::styled(
                    "The incident starts at the first failure in the watch log; you are its commander.",
                    t.muted,
                )),
                Line::from(Span::styled(
                    "Tab: next field · ←/→ or 1–4: choose · Enter: declare · Esc: cancel",
                    t.muted,
                )),
            ];
            (" Declare an incident ", lines)
        }
        Dialog::Status { from, to, typed } => {
            let mut lines = vec![
                Line::from(vec![
                    Span::styled("Now: ", t.muted),
                    Span::styled(from.label(), t.text),
                ]),
                Line::from(
                    std::iter::once(Span::styled("New: ", t.muted))
                        .chain(
                            IncidentStatus::ALL
                                .iter()
                                .map(|s| choice(s == to, s.label().to_string())),
                        )
                        .collect::<Vec<_>>(),
                ),
            ];
            if *to == IncidentStatus::Resolved {
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(
                    "Resolving stops the incident clock. Type `resolve`:",
                    t.degraded,
                )));
                lines.push(Line::from(vec![
                    Span::styled("> ", t.accent),
                    Span::styled(
                        clean(typed).into_owned(),
                        if typed == RESOLVE_WORD { t.up } else { t.text },
                    ),
                    Span::styled(cursor, t.accent),
                ]));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                "←/→: choose · Enter: record · Esc: cancel",
                t.muted,
            )));
            (" Incident status ", lines)
        }
        Dialog::ContinueJournal { why, typed } => (
            " Journal tampered ",
            gated(
                Line::from(Span::styled(clean(why).into_owned(), t.down)),
                [
                    "`continue journal: <reason>` starts a new file from the last verified entry",
                    "(it records that entry's seq and hash and your reason; the tampered file stays as evidence)",
                ],
                typed,
                "Enter: continue · Esc: back",
            ),
        ),
        Dialog::Running { about, typed, .. } => (
            " Running step ",
            gated(
                Line::from(Span::styled(clean(about).into_owned(), t.text)),
                [
                    "`cancel` stops it: SIGTERM to its program's process group (SIGKILL 10 s later), or its calls abandoned",
                    "`release: <reason>` releases its claim and stops nothing: verify by hand",
                ],
                typed,
                "Enter: do it · Esc: back",
            ),
        ),
        Dialog::Note { text } => (
            " Note ",
            vec![
                typed_line(text),
                Line::from(""),
                Line::from(Span::styled(
                    "Start with `follow-up:` to list it in the report · Enter: record · Esc: cancel",
                    t.muted,
                )),
            ],
        ),
    };
    let waiting = dialog.blocked();
    lines.push(Line::from(match waiting {
        Some(why) => Span::styled(format!("Enter waits: {why}"), t.degraded),
        None => Span::styled("Enter records it in the journal", t.up),
    }));
    if let Some(i) = state.open_incident() {
        lines.insert(
            0,
            Line::from(Span::styled(
                format!("{} · {}", clean(&i.title), i.level.label()),
                t.muted,
            )),
        );
    }
    super::popup(screen, frame, area, title, 84, 4, lines);
}
