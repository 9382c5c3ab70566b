//! The header: title, incident clock, overall severity, [RW]/[RO], data freshness.

use jiff::{SignedDuration, Timestamp};
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout as Split, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use tui_big_text::{BigText, PixelSize};

use crate::app::{HealthState, Incident, Severity, State};

use super::layout::{HeaderStyle, Layout};
use super::{Screen, clean};

pub fn height(layout: &Layout, area: Rect) -> u16 {
    match layout.header {
        HeaderStyle::Big if area.height >= 30 => 10,
        _ => 2,
    }
}

pub fn severity_style(screen: &Screen, severity: Severity) -> Style {
    let t = screen.theme;
    match severity {
        Severity::Observing => t.unknown,
        Severity::Healthy => t.up,
        Severity::Degraded => t.degraded,
        Severity::Critical { unverified: true } => t.unknown,
        Severity::Critical { .. } | Severity::Emergency => t.down,
    }
}

/// The earliest open outage this console sees.
fn first_open_outage(state: &State) -> Option<Timestamp> {
    state
        .components()
        .filter_map(|(_, _, c)| c.outage().filter(|o| o.is_open()).map(|o| o.down_since))
        .min()
}

/// The incident the header tells: the followed one, unless it is resolved and something
/// has failed since (then that undeclared outage is the news).
pub fn shown_incident(state: &State) -> Option<&Incident> {
    let i = state.incident.as_ref()?;
    match i.resolved {
        Some(r) if first_open_outage(state).is_some_and(|d| d > r) => None,
        _ => Some(i),
    }
}

/// When the incident started: the declared incident's first failure; before a declaration,
/// the earliest open outage this console sees.
pub fn incident_start(state: &State) -> Option<Timestamp> {
    match shown_incident(state) {
        Some(i) => Some(i.started),
        None => first_open_outage(state),
    }
}

/// The incident clock: running from the start, stopped at the resolution.
fn incident_clock(state: &State) -> Option<SignedDuration> {
    match shown_incident(state) {
        Some(i) => Some(i.elapsed(state.now())),
        None => first_open_outage(state).map(|s| state.now().duration_since(s)),
    }
}

fn hh_mm(d: SignedDuration) -> String {
    let m = d.as_mins().max(0);
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn hh_mm_ss(d: SignedDuration) -> String {
    let s = d.as_secs().max(0);
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// Stale or unanswered health signals: what the screen cannot vouch for.
fn stale_count(state: &State) -> usize {
    state
        .components()
        .filter(|(_, _, c)| c.health().is_stale())
        .count()
}

pub fn draw(state: &State, screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let now = state.now();
    let severity = state.severity();
    let sev_style = severity_style(screen, severity);
    let clock = incident_clock(state);
    let incident = shown_incident(state);
    let resolved = incident.is_some_and(|i| !i.is_open());
    let sep = Span::styled(format!(" {} ", screen.glyphs.separator), t.border);
    let badge = if screen.read_only {
        Span::styled("[RO] ", t.selection)
    } else {
        Span::styled("[RW] ", t.accent)
    };
    let stale = stale_count(state);
    let freshness = if stale == 0 {
        Span::styled("fresh", t.muted)
    } else {
        Span::styled(format!("{} {stale} stale", screen.glyphs.stale), t.stale)
    };
    let wall = now.strftime("%H:%M:%SZ").to_string();
    // Most important first: at 80 columns the end of the line may be cut. A drill says so
    // before anything else, at every size: it must never pass for production.
    let mut spans = Vec::new();
    if screen.drill.is_some() {
        spans.push(Span::styled(
            "DRILL",
            t.accent.add_modifier(Modifier::REVERSED | Modifier::BOLD),
        ));
        spans.push(Span::raw(" "));
    }
    spans.extend([
        badge,
        Span::styled(severity.label(), sev_style),
        sep.clone(),
        match (clock, resolved) {
            (Some(d), true) => Span::styled(format!("resolved after {}", hh_mm_ss(d)), t.up),
            (Some(d), false) => Span::styled(format!("T+{}", hh_mm_ss(d)), t.down),
            (None, _) => Span::styled("no incident", t.muted),
        },
        sep.clone(),
    ]);
    // Nobody writes the automatic entries: every console says so, near the front.
    let j = &state.journal;
    if j.recorder_known && !j.recording && j.recorder.is_none() {
        spans.push(Span::styled("NOT RECORDING: no operator console", t.down));
        spans.push(sep.clone());
    }
    match incident {
        Some(i) => {
            spans.push(Span::styled(
                format!("L{} {}: ", i.level.number(), i.status.label()),
                if resolved { t.up } else { t.down },
            ));
            spans.push(Span::styled(clean(&i.title).into_owned(), t.text));
        }
        None if clock.is_some() => {
            spans.push(Span::styled("undeclared (d declares)", t.degraded));
        }
        None => spans.push(Span::styled(clean(screen.title).into_owned(), t.text)),
    }
    // The DR level the failures call for, when it is more than the incident's (or none is
    // declared): a suggestion, said, never applied.
    if let Some(g) = crate::app::suggest::level(state)
        && incident.is_none_or(|i| i.is_open() && i.level < g.level)
    {
        spans.push(sep.clone());
        let runbook = g
            .runbook
            .and_then(|ix| state.runbooks.get(ix))
            .map(|r| format!(" {}", clean(&r.id)))
            .unwrap_or_default();
        let unverified = if g.unverified > 0 {
            format!(" (unverified: {})", g.unverified)
        } else {
            String::new()
        };
        spans.push(Span::styled(
            format!(
                "suggested: L{}{runbook}{unverified} ({})",
                g.level.number(),
                clean(&g.why)
            ),
            t.degraded,
        ));
    }
    // When customers are due their next update, or what the page still says: right after
    // the incident (which is never cut for it).
    if let Some((text, urgent)) = super::comms::due(state) {
        spans.push(sep.clone());
        spans.push(Span::styled(
            text,
            if urgent { t.degraded } else { t.muted },
        ));
    }
    spans.extend([
        sep.clone(),
        Span::styled(wall, t.text),
        sep.clone(),
        freshness,
    ]);
    // A read-only console records nothing, whatever its journal does (a read-only drill).
    if state.journal.recording && !screen.read_only {
        spans.push(sep.clone());
        spans.push(Span::styled("REC", t.accent));
    } else if let Some(holder) = &state.journal.recorder {
        spans.push(sep.clone());
        spans.push(Span::styled(format!("rec {}", clean(holder)), t.muted));
    }
    if let Some(drill) = screen.drill {
        spans.push(sep.clone());
        spans.push(Span::styled(format!("scenario {}", clean(drill)), t.accent));
    }
    let summary = summary_line(state, screen);

    if screen.layout.header == HeaderStyle::Big && area.height >= 10 {
        let rows = Split::default()
            .direction(Direction::Vertical)
            .constraints([
                Constraint::Length(8),
                Constraint::Length(1),
                Constraint::Length(1),
            ])
            .split(area);
        // A drill's first row is the line that starts with DRILL, above the block letters.
        let (big_area, line_area) = if screen.drill.is_some() {
            (
                Rect {
                    y: rows[0].y + 1,
                    ..rows[0]
                },
                rows[0].rows().next().unwrap_or(rows[1]),
            )
        } else {
            (rows[0], rows[1])
        };
        let parts = [big_area, line_area, rows[2]];
        let big = Split::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Length(44), Constraint::Min(10)])
            .split(parts[0]);
        let clock_text = clock.map_or_else(|| now.strftime("%H:%M").to_string(), hh_mm);
        frame.render_widget(
            BigText::builder()
                .pixel_size(PixelSize::Full)
                .style(if clock.is_some() { t.down } else { t.text })
                .lines(vec![clock_text.into()])
                .build(),
            big[0],
        );
        let word = match severity {
            Severity::Critical { unverified: true } => "CRITICAL?",
            s => s.label(),
        };
        frame.render_widget(
            BigText::builder()
                .pixel_size(PixelSize::Full)
                .style(sev_style)
                .lines(vec![word.into()])
                .build(),
            big[1],
        );
        frame.render_widget(Paragraph::new(Line::from(spans)), parts[1]);
        frame.render_widget(Paragraph::new(summary), parts[2]);
    } else {
        frame.render_widget(Paragraph::new(vec![Line::from(spans), summary]), area);
    }
}

/// Counts per state, glyph + word, and the first reason for the severity.
fn summary_line<'a>(state: &State, screen: &Screen) -> Line<'a> {
    let t = screen.theme;
    let mut counts = [0usize; 4];
    for (ix, _, _) in state.components() {
        if let Some(h) = state.health(ix) {
            let i = match h.state {
                HealthState::Up => 0,
                HealthState::Degraded => 1,
                HealthState::Down => 2,
                HealthState::Unknown => 3,
            };
            counts[i] += 1;
        }
    }
    let g = screen.glyphs;
    let mut spans = vec![
        Span::styled(format!("{} {} up  ", g.up, counts[0]), t.up),
        Span::styled(
            format!("{} {} degraded  ", g.degraded, counts[1]),
            t.degraded,
        ),
        Span::styled(format!("{} {} down  ", g.down, counts[2]), t.down),
        Span::styled(format!("{} {} unknown", g.unknown, counts[3]), t.unknown),
    ];
    if let Some(flash) = &state.view.flash {
        return Line::from(Span::styled(clean(flash).into_owned(), t.degraded));
    }
    if let Some(problem) = &state.journal.problem {
        return Line::from(Span::styled(format!("JOURNAL: {}", clean(problem)), t.down));
    }
    if let Some((channel, problem)) = state.comms_problems.iter().next() {
        return Line::from(Span::styled(
            format!("COMMS {channel}: {}", clean(problem)),
            t.down,
        ));
    }
    if let Some((d, behind)) = state.comms.trouble() {
        use crate::app::comms::DeliveryState;
        let what = match &d.state {
            DeliveryState::Failed { reason, .. } => {
                format!("FAILED (gave up): {reason} — {}", state.comms.superseded(d))
            }
            DeliveryState::Retrying { reason, .. } => format!("retrying: {reason}"),
            _ => String::new(),
        };
        let behind = if behind > 0 {
            format!(" ({behind} more waiting behind it)")
        } else {
            String::new()
        };
        return Line::from(Span::styled(
            format!(
                "COMMS: {} {} {}{behind}",
                d.channel,
                d.template,
                clean(&what)
            ),
            if matches!(d.state, DeliveryState::Failed { .. }) {
                t.down
            } else {
                t.degraded
            },
        ));
    }
    if let Some(reason) = state.assessment().reasons.first() {
        spans.push(Span::styled(format!("  {} ", g.separator), t.border));
        spans.push(Span::styled(clean(reason).into_owned(), t.text));
    }
    Line::from(spans)
}
