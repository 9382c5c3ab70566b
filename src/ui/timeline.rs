//! Timeline: the followed journal's lines — time (UTC or local), elapsed since the incident
//! started, who, what. Newest first unless toggled (`o`), filtered by kind (`k`), `t` for
//! local time; scrolls like every panel. A long incident's older lines are read back from the
//! journal as the operator scrolls to them (see [`crate::app::earlier`]); those not held are
//! counted in the title and said by a marker row where they are.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::earlier::TimelineRow;
use crate::app::{EntryKind, HealthState, KindGroup, Panel, Recorded, Source, State};
use crate::theme::Theme;

use super::{Screen, clean};

/// The longest description drawn: wider than any terminal line.
const LINE_MAX: usize = 1000;

/// "T+01:02:03", or "T-00:04:10" for what came before the first failure.
pub fn elapsed(at: Timestamp, started: Timestamp) -> String {
    let d = at.duration_since(started);
    let s = d.as_secs();
    let sign = if s < 0 { '-' } else { '+' };
    let s = s.unsigned_abs();
    format!("T{sign}{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

fn style_of(t: &Theme, r: &Recorded) -> Style {
    match r.known() {
        Some(EntryKind::ComponentState { to, .. }) => match to {
            HealthState::Up => t.up,
            HealthState::Degraded => t.degraded,
            HealthState::Down => t.down,
            HealthState::Unknown => t.unknown,
        },
        Some(EntryKind::RtoBreached { .. }) => t.down,
        Some(EntryKind::Recovered { .. }) => t.up,
        Some(EntryKind::Declared { .. } | EntryKind::Status { .. }) => t.accent,
        Some(EntryKind::Note { .. }) => t.text,
        None => t.muted,
        _ => t.text,
    }
}

/// The user of `user@host`, where the line is short.
fn who(actor: &str, roomy: bool) -> &str {
    if roomy {
        actor
    } else {
        actor.split('@').next().unwrap_or(actor)
    }
}

pub fn draw(state: &State, screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let view = &state.view;
    let total = state.timeline_rows().count();
    let matching = state
        .timeline_rows()
        .filter(|r| matches!(r, TimelineRow::Entry(_)))
        .count();
    // Entries of the followed journal the console does not hold (a long incident keeps its
    // newest lines, and reads older ones back as the operator scrolls to them): counted here
    // and said by a marker row where they are, never silently cut.
    let not_held: u64 = state
        .timeline_rows()
        .map(|r| match r {
            TimelineRow::Gap(n) | TimelineRow::Start(n) => n,
            TimelineRow::Entry(_) => 0,
        })
        .sum();
    let source = match &state.journal.source {
        Source::Nothing => "not recorded",
        Source::Watch => "watch log",
        Source::Incident { drill: true, .. } => "drill journal",
        Source::Incident { .. } => "incident journal",
    };
    // What narrows or orders the list first: a narrow panel cuts the end of its title.
    let mut extra = format!("{matching}");
    if not_held > 0 {
        extra.push_str(&format!(" (+{not_held} on disk)"));
    }
    if view.kinds != KindGroup::All {
        extra.push_str(&format!(" · only {}", view.kinds.label()));
    }
    extra.push_str(if view.oldest_first {
        " · oldest first"
    } else {
        " · newest first"
    });
    extra.push_str(if view.local_time {
        " · local"
    } else {
        " · UTC"
    });
    extra.push_str(&format!(" · {source}"));
    let block = screen.block(state, Panel::Timeline, &extra);
    let rows = area.height.saturating_sub(2) as usize;
    let roomy = area.width >= 120;
    let skip = view
        .scroll_of(Panel::Timeline)
        .min(total.saturating_sub(rows));
    let started = state.incident.as_ref().map(|i| i.started);
    let line = |r: &Recorded| {
        let time = if view.local_time {
            r.at.to_zoned_datetime(screen.local.clone())
                .strftime("%H:%M:%S ")
                .to_string()
        } else {
            r.at.strftime("%H:%M:%SZ ").to_string()
        };
        let mut spans = vec![Span::styled(time, t.muted)];
        if let Some(s) = started {
            spans.push(Span::styled(format!("{} ", elapsed(r.at, s)), t.muted));
        }
        spans.push(Span::styled(
            format!("{} ", clean(who(&r.actor, roomy))),
            t.muted,
        ));
        let mut what = r.describe();
        if what.len() > LINE_MAX {
            // A 1 MB note costs what fits on a line, not a megabyte per frame.
            let mut cut = LINE_MAX;
            while !what.is_char_boundary(cut) {
                cut -= 1;
            }
            what.truncate(cut);
            what.push('…');
        }
        if r.from_watch {
            what.push_str(" (watch log)");
        }
        spans.push(Span::styled(clean(&what).into_owned(), style_of(t, r)));
        Line::from(spans)
    };
    let earlier = &state.earlier;
    let marker = |n: u64, older: bool| {
        let what = if older { "earlier" } else { "more" };
        let text = match (&earlier.problem, earlier.asked) {
            (Some(why), _) => format!(
                "… {n} {what} entries: cannot read them from the journal: {} \
                 (`warroom report` lists every one)",
                clean(why)
            ),
            (None, Some(_)) => format!("… {n} {what} entries: reading them from the journal…"),
            (None, None) if older => {
                format!("… {n} earlier entries in the journal: End reads the oldest")
            }
            (None, None) => format!("… {n} more entries in the journal: scroll here to read them"),
        };
        Line::from(Span::styled(text, t.muted))
    };
    let lines: Vec<Line> = state
        .timeline_rows()
        .skip(skip)
        .take(rows)
        .map(|r| match r {
            TimelineRow::Entry(r) => line(r),
            TimelineRow::Gap(n) => marker(n, false),
            TimelineRow::Start(n) => marker(n, true),
        })
        .collect();
    let lines = if lines.is_empty() {
        vec![Line::from(Span::styled(
            if matches!(state.journal.source, Source::Nothing) {
                "no journal: nothing is recorded"
            } else {
                "nothing yet"
            },
            t.muted,
        ))]
    } else {
        lines
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::testkit::t;

    /// Alone, at the size each built-in layout gives it (see `ui::tests::panel_alone`).
    #[test]
    fn at_the_sizes_the_layouts_give_it() {
        for (name, text) in crate::ui::tests::panel_alone(crate::app::Panel::Timeline) {
            insta::assert_snapshot!(name, text);
        }
    }

    /// A long incident's console keeps its newest lines: the ones it does not hold are
    /// counted in the title and said at the oldest end, whichever way the list runs, and
    /// the marker says when they are being read.
    #[test]
    fn entries_not_kept_are_said_at_the_oldest_end() {
        use crate::app::{Event, JournalEvent, Key, update};
        use crate::journal::{GENESIS, JournalEntry};
        let mut rig = crate::app::testkit::Rig::new(Vec::new());
        // The newest 5 lines of a journal of 1000 (as the keeper hands them over).
        let mut prev = GENESIS.to_string();
        let entries: Vec<JournalEntry> = (996..=1000)
            .map(|seq| {
                let (kind, body) = EntryKind::Note {
                    text: format!("note {seq}"),
                }
                .to_journal();
                let e = JournalEntry::seal(seq, t(seq as i64), "ana@h".into(), kind, body, &prev);
                prev = e.hash.clone();
                e
            })
            .collect();
        update(
            &mut rig.state,
            Event::Journal(JournalEvent::Reset {
                source: Source::Incident {
                    name: "long".into(),
                    drill: false,
                },
                entries,
            }),
        );
        let screen_of = |state: &State| {
            crate::ui::tests::drawn(120, 10, |screen, frame, area| {
                draw(state, screen, frame, area)
            })
        };
        let text = screen_of(&rig.state);
        assert!(text.contains("(+995 on disk)"), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        // Newest first: the five notes, then the marker, last.
        assert!(lines[1].contains("note 1000"), "{text}");
        assert!(
            lines[6].contains("995 earlier entries in the journal: End reads the oldest"),
            "{text}"
        );
        // Oldest first (`o`, the timeline focused): the marker first, and near, so the page
        // before the kept entries is asked for.
        rig.state.view.focus = Panel::Timeline;
        let fx = update(&mut rig.state, Event::Key(Key::Char('o')));
        assert!(
            fx.iter()
                .any(|e| matches!(e, crate::app::Effect::ReadEarlier { to: 995, .. }))
        );
        let text = screen_of(&rig.state);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].contains("995 earlier entries: reading them from the journal…"),
            "{text}"
        );
        assert!(lines[2].contains("note 996"), "{text}");
    }

    #[test]
    fn elapsed_counts_from_the_first_failure_both_ways() {
        assert_eq!(elapsed(t(3723), t(0)), "T+01:02:03");
        assert_eq!(elapsed(t(0), t(250)), "T-00:04:10");
    }
}
