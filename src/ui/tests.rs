//! Snapshots of the screen: every layout at the sizes it supports, `auto` at 80×24 and
//! 200×50, the help overlay, `--ascii`, and the themes with their styles
//! (the plain-text snapshots drop colours, so theme snapshots record each styled run).

static UTC: jiff::tz::TimeZone = jiff::tz::TimeZone::UTC;

use std::fmt::Write as _;
use std::time::Duration;

use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Style;

use crate::app::{
    ComponentIx, DrLevel, Effect, Entry, EntryKind, Estate, Event, IncidentStatus, Key,
    MemoryJournal, Observation, ObserveError, Outcome, Panel, Signal, State, update,
};
use crate::config::Config;
use crate::config::load::load_embedded_example;
use crate::theme::Theme;

use super::{Glyphs, Layout, Screen, draw};

fn at(s: i64) -> Timestamp {
    // 2026-11-25T03:00:00Z: a 3 a.m. outage.
    Timestamp::from_second(1_795_575_600 + s).expect("valid time")
}

/// The example estate, as built into the binary.
fn example() -> Config {
    load_embedded_example()
}

thread_local! {
    /// The journal of the state being built: what the timeline shows comes back from it.
    static JOURNAL: std::cell::RefCell<Option<MemoryJournal>> = const { std::cell::RefCell::new(None) };
}

fn observe(state: &mut State, id: &str, signal: Signal, s: i64, outcome: Outcome) {
    let component = state.estate().ix(id).unwrap_or(ComponentIx(u32::MAX));
    let fx = update(
        state,
        Event::Observed(Observation {
            component,
            signal,
            at: at(s),
            started: at(s),
            outcome,
        }),
    );
    echo(state, &fx);
}

fn echo(state: &mut State, fx: &[Effect]) {
    JOURNAL.with(|j| {
        if let Some(j) = j.borrow_mut().as_mut() {
            j.echo(state, fx);
        }
    });
}

fn up(ms: u64) -> Outcome {
    Outcome::Up {
        latency: Duration::from_millis(ms),
        detail: String::new(),
    }
}

/// Seven minutes into a region outage: the primary database down, its replica's lag
/// climbing, the API slow, the queue unobservable, backups ageing.
fn mid_incident(cfg: &Config) -> State {
    let mut state = State::new(
        Estate::from_config(cfg),
        at(0),
        crate::app::Setup::default(),
    );
    state.runbooks = cfg.runbooks.clone();
    state.title = cfg.console.title.clone();
    state.actor = "ana@bastion".into();
    state.targets = crate::app::message::Targets::from_config(cfg);
    state.can_send = true;
    let journal = MemoryJournal::attach(&mut state, "ana@bastion");
    JOURNAL.with(|j| *j.borrow_mut() = Some(journal));
    let lag = || Signal::Lag {
        replica: "dtem-postgres-dr-replica".into(),
    };
    for s in [0, 15, 30] {
        for id in [
            "web-apps",
            "cache-redis",
            "file-storage",
            "config-secrets",
            "db-dr",
            "apps-dr",
        ] {
            observe(&mut state, id, Signal::Health, s, up(40));
        }
        observe(&mut state, "db-primary", Signal::Health, s, up(12));
        observe(&mut state, "message-queue", Signal::Health, s, up(8));
        observe(&mut state, "db-primary", lag(), s, Outcome::Seconds(2.0));
    }
    observe(
        &mut state,
        "db-primary",
        Signal::BackupAge,
        0,
        Outcome::Seconds(6.0 * 3600.0),
    );
    observe(
        &mut state,
        "file-storage",
        Signal::BackupAge,
        0,
        Outcome::Seconds(240.0),
    );
    for (i, s) in (45..=420).step_by(15).enumerate() {
        let down = Outcome::Down {
            detail: "no route to host (db.dtem.internal:5432 → dtem-postgres, us-east-1)".into(),
        };
        observe(&mut state, "db-primary", Signal::Health, s, down);
        observe(
            &mut state,
            "db-primary",
            lag(),
            s,
            Outcome::Seconds(2.0 + 15.0 * i as f64),
        );
        observe(&mut state, "web-apps", Signal::Health, s, up(1400));
        observe(
            &mut state,
            "message-queue",
            Signal::Health,
            s,
            Outcome::CannotObserve {
                reason: ObserveError::Unreachable("mq.dtem.internal: no route to host".into()),
            },
        );
        for id in [
            "cache-redis",
            "file-storage",
            "config-secrets",
            "db-dr",
            "apps-dr",
        ] {
            observe(&mut state, id, Signal::Health, s, up(40));
        }
        if s == 300 {
            // Declared five minutes in: the incident starts at the first failure (45 s).
            echo(
                &mut state,
                &[Effect::Declare {
                    title: "us-east-1 unreachable".into(),
                    level: DrLevel::new(3).expect("level"),
                    status: IncidentStatus::Investigating,
                    at: at(300),
                }],
            );
            echo(
                &mut state,
                &[Effect::Append(Entry {
                    at: at(330),
                    kind: EntryKind::Note {
                        text: "paged the DBA; promoting db-dr".into(),
                    },
                })],
            );
        }
        if s == 360 {
            // The initial notice, composed as `u` does: sent to Slack, the status page
            // retrying after a 503.
            let mut c = crate::app::compose::Compose::new(
                &state,
                crate::app::message::Template::Initial,
                &state.targets.channels(),
            );
            c.publish = "publish".into();
            let out = crate::app::message::Outgoing {
                journal: "memory.jsonl".into(),
                update: c.update(&state),
            };
            echo(&mut state, &[Effect::Post(Box::new(out))]);
            let id = state
                .comms
                .all()
                .first()
                .map(|d| d.id.clone())
                .unwrap_or_default();
            echo(
                &mut state,
                &[
                    Effect::Append(Entry {
                        at: at(361),
                        kind: EntryKind::CommsSent {
                            id: id.clone(),
                            channel: crate::app::message::Channel::Slack,
                            remote: Some("C0DTEMWAR:1795575961.000100".into()),
                            simulated: false,
                            found: false,
                        },
                    }),
                    Effect::Append(Entry {
                        at: at(362),
                        kind: EntryKind::CommsFailed {
                            id,
                            channel: crate::app::message::Channel::StatusPage,
                            reason: "create the incident: HTTP 503: upstream unavailable".into(),
                            gave_up: false,
                            retry_in: Some(jiff::SignedDuration::from_secs(30)),
                        },
                    }),
                ],
            );
        }
    }
    let fx = update(&mut state, Event::Tick(at(425)));
    echo(&mut state, &fx);
    JOURNAL.with(|j| j.borrow_mut().take());
    state
}

fn render(state: &State, screen: &Screen, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal
        .draw(|frame| draw(state, screen, frame))
        .expect("draw");
    terminal.backend().buffer().clone()
}

fn text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The text, then every run of cells sharing a style that is not the default.
fn styled(buffer: &Buffer) -> String {
    let mut out = text(buffer);
    out.push_str("--- styles (row: columns style)\n");
    let area = buffer.area;
    for y in 0..area.height {
        let mut x = 0;
        while x < area.width {
            let style = buffer[(x, y)].style();
            let start = x;
            while x < area.width && buffer[(x, y)].style() == style {
                x += 1;
            }
            if style != Style::default() {
                let _ = writeln!(out, "{y}: {start}-{} {style:?}", x - 1);
            }
        }
    }
    out
}

struct UiRig {
    cfg: Config,
    state: State,
}

impl UiRig {
    fn new() -> UiRig {
        let cfg = example();
        let state = mid_incident(&cfg);
        UiRig { cfg, state }
    }

    fn screen<'a>(&'a self, theme: &'a Theme, layout: &'a Layout, ascii: bool) -> Screen<'a> {
        Screen {
            title: &self.cfg.console.title,
            read_only: false,
            theme,
            layout,
            glyphs: Glyphs::for_ascii(ascii),
            drill: None,
            local: &UTC,
        }
    }

    fn shot(&mut self, layout: &Layout, theme: &Theme, w: u16, h: u16) -> Buffer {
        self.state.view.set_panels(&layout.panels());
        let screen = self.screen(theme, layout, false);
        render(&self.state, &screen, w, h)
    }
}

fn dark() -> Theme {
    Theme::builtin("dark").expect("dark")
}

/// What `draw_part` draws on a `w`×`h` terminal (the dark theme, the war-room layout, UTC),
/// as text: for a part's own tests (a panel with a state of its own, an overlay).
pub(super) fn drawn(
    w: u16,
    h: u16,
    draw_part: impl FnOnce(&Screen, &mut ratatui::Frame, ratatui::layout::Rect),
) -> String {
    let theme = dark();
    let layout = Layout::builtin("war-room").expect("war-room");
    let screen = Screen {
        title: "t",
        read_only: false,
        theme: &theme,
        layout: &layout,
        glyphs: Glyphs::for_ascii(false),
        drill: None,
        local: &UTC,
    };
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal
        .draw(|frame| {
            let area = frame.area();
            draw_part(&screen, frame, area)
        })
        .expect("draw");
    text(terminal.backend().buffer())
}

/// Below 80×24: the header's first line, every component not UP with its state word whole,
/// and why nothing else shows — in a drill, `DRILL` first.
#[test]
fn the_emergency_view_below_80x24() {
    let rig = UiRig::new();
    let layout = Layout::builtin("bastion").expect("bastion");
    let theme = dark();
    let not_up: Vec<String> = rig
        .state
        .components()
        .filter(|(ix, _, _)| {
            rig.state
                .health(*ix)
                .is_none_or(|h| h.state != crate::app::HealthState::Up || h.stale)
        })
        .map(|(_, spec, _)| spec.id.clone())
        .collect();
    assert!(not_up.len() >= 3, "the incident has components down");
    for (w, h) in [(40u16, 12u16), (60, 20)] {
        let mut screen = rig.screen(&theme, &layout, false);
        screen.drill = Some("region-outage x10");
        let shot = text(&render(&rig.state, &screen, w, h));
        let lines: Vec<&str> = shot.lines().collect();
        assert!(lines[0].starts_with("DRILL [RW] "), "{shot}");
        let tail: Vec<&str> = lines.iter().rev().take(2).rev().map(|l| l.trim()).collect();
        assert!(
            tail.join(" ")
                .trim()
                .ends_with("terminal too small for steps (need 80×24)"),
            "{shot}"
        );
        for id in &not_up {
            let id: String = id.chars().take(usize::from(w) - 11).collect();
            assert!(shot.contains(&id), "{id} missing at {w}x{h}:\n{shot}");
        }
        assert!(shot.contains("✖ DOWN"), "state words whole: {shot}");
        insta::assert_snapshot!(format!("emergency_{w}x{h}"), shot);
    }
}

#[test]
fn every_layout_at_the_sizes_it_supports() {
    let mut rig = UiRig::new();
    for (name, sizes) in [
        ("war-room", &[(160u16, 40u16), (200, 50)][..]),
        ("bastion", &[(80, 24), (200, 50)]),
        ("observer", &[(100, 30), (200, 50)]),
    ] {
        let layout = Layout::builtin(name).expect(name);
        for (w, h) in sizes {
            let buffer = rig.shot(&layout, &dark(), *w, *h);
            insta::assert_snapshot!(format!("layout_{name}_{w}x{h}"), text(&buffer));
        }
    }
}

#[test]
fn every_layout_at_its_sizes_in_three_themes_with_styles() {
    let mut rig = UiRig::new();
    for (name, sizes) in [
        ("war-room", &[(160u16, 40u16), (200, 50)][..]),
        ("bastion", &[(80, 24), (200, 50)]),
        ("observer", &[(100, 30), (200, 50)]),
    ] {
        let layout = Layout::builtin(name).expect(name);
        for theme in ["dark", "high-contrast", "deuteranopia"] {
            let theme_ = Theme::builtin(theme).expect(theme);
            for (w, h) in sizes {
                let buffer = rig.shot(&layout, &theme_, *w, *h);
                insta::assert_snapshot!(format!("styled_{name}_{theme}_{w}x{h}"), styled(&buffer));
            }
        }
    }
}

#[test]
fn auto_at_80x24_and_200x50() {
    let mut rig = UiRig::new();
    for (w, h) in [(80, 24), (200, 50)] {
        let layout = Layout::auto(w, h, false);
        let buffer = rig.shot(&layout, &dark(), w, h);
        insta::assert_snapshot!(format!("auto_{w}x{h}"), text(&buffer));
    }
}

#[test]
fn the_bastion_layout_shows_what_matters_at_80x24() {
    let mut rig = UiRig::new();
    let layout = Layout::builtin("bastion").expect("bastion");
    let screen = text(&rig.shot(&layout, &dark(), 80, 24));
    for needle in [
        "CRITICAL",
        "[RW]",
        "db-primary",
        "✖ DOWN",
        "no route to host",
        "? UNKNOWN",
        "▲ DEGRADED",
        "Replication",
        "Timeline",
        "Runbooks",
    ] {
        assert!(screen.contains(needle), "80×24 lacks {needle}:\n{screen}");
    }
}

#[test]
fn help_overlay_and_filter() {
    let mut rig = UiRig::new();
    let layout = Layout::builtin("bastion").expect("bastion");
    update(&mut rig.state, Event::Key(Key::Char('?')));
    insta::assert_snapshot!("help_80x24", text(&rig.shot(&layout, &dark(), 80, 24)));
    update(&mut rig.state, Event::Key(Key::Esc));
    for key in [Key::Char('/'), Key::Char('d'), Key::Char('b')] {
        update(&mut rig.state, Event::Key(key));
    }
    let filtered = text(&rig.shot(&layout, &dark(), 80, 24));
    insta::assert_snapshot!("filter_80x24", filtered);
}

#[test]
fn ascii_replaces_every_glyph() {
    let mut rig = UiRig::new();
    let layout = Layout::builtin("bastion").expect("bastion");
    rig.state.view.set_panels(&layout.panels());
    let theme = dark();
    let screen = rig.screen(&theme, &layout, true);
    let shot = text(&render(&rig.state, &screen, 80, 24));
    // Every character, not a list of the usual glyphs: a `≥` in a reason or a `·` in a
    // title breaks an ASCII terminal as surely as a `✔`.
    assert!(shot.is_ascii(), "{shot}");
    insta::assert_snapshot!("ascii_80x24", shot);
}

/// A terminal of 16 colours gets only the 16 named colours, whatever the theme says.
#[test]
fn a_sixteen_colour_terminal_gets_only_the_sixteen_colours() {
    let mut rig = UiRig::new();
    let layout = Layout::builtin("bastion").expect("bastion");
    for name in ["light", "solarized-dark", "deuteranopia"] {
        let theme = Theme::builtin(name).expect(name);
        let mut buffer = rig.shot(&layout, &theme, 80, 24);
        let rich = |c: ratatui::style::Color| {
            matches!(
                c,
                ratatui::style::Color::Rgb(..) | ratatui::style::Color::Indexed(16..)
            )
        };
        assert!(
            buffer.content.iter().any(|c| rich(c.fg) || rich(c.bg)),
            "{name} uses more than 16 colours (else this proves nothing)"
        );
        super::to_ansi16(&mut buffer);
        assert!(
            !buffer
                .content
                .iter()
                .any(|c| rich(c.fg) || rich(c.bg) || rich(c.underline_color)),
            "{name}"
        );
    }
}

#[test]
fn themes_with_their_styles() {
    let mut rig = UiRig::new();
    let layout = Layout::builtin("bastion").expect("bastion");
    for name in [
        "dark",
        "light",
        "high-contrast",
        "solarized-dark",
        "deuteranopia",
        "monochrome",
    ] {
        let theme = Theme::builtin(name).expect(name);
        for (w, h) in [(80, 24), (200, 50)] {
            let buffer = rig.shot(&layout, &theme, w, h);
            insta::assert_snapshot!(format!("theme_{name}_{w}x{h}"), styled(&buffer));
        }
    }
}

#[test]
fn no_color_draws_without_any_colour() {
    let mut rig = UiRig::new();
    let layout = Layout::builtin("bastion").expect("bastion");
    let theme = Theme::resolve("dark", None, true).expect("NO_COLOR theme");
    let buffer = rig.shot(&layout, &theme, 80, 24);
    for cell in buffer.content() {
        let s = cell.style();
        for colour in [s.fg, s.bg].into_iter().flatten() {
            assert_eq!(
                colour,
                ratatui::style::Color::Reset,
                "a colour under NO_COLOR"
            );
        }
    }
    insta::assert_snapshot!("no_color_80x24", styled(&buffer));
}

#[test]
fn hostile_strings_never_reach_the_terminal() {
    let cfg = example();
    let mut state = State::new(
        Estate::from_config(&cfg),
        at(0),
        crate::app::Setup {
            runbooks: cfg.runbooks.clone(),
            ..Default::default()
        },
    );
    let journal = MemoryJournal::attach(&mut state, "evil\x1b[2J@host\x07");
    JOURNAL.with(|j| *j.borrow_mut() = Some(journal));
    let evil = Outcome::Down {
        detail: "boom\x1b[2J\x1b]0;owned\x07\u{202e}\r\nrm -rf".into(),
    };
    for s in [0, 15] {
        observe(&mut state, "web-apps", Signal::Health, s, evil.clone());
    }
    // A note another writer put in the journal: escape sequences, and a megabyte of them.
    let note = format!(
        "\x1b]52;c;cm0gLXJmIC8=\x07{}",
        "\x1b[2J\u{202e}x".repeat(200_000)
    );
    echo(
        &mut state,
        &[Effect::Append(Entry {
            at: at(20),
            kind: EntryKind::Note { text: note },
        })],
    );
    JOURNAL.with(|j| j.borrow_mut().take());
    assert_eq!(
        state.timeline.len(),
        2,
        "the hostile DOWN and the hostile note are on the timeline"
    );
    let layout = Layout::builtin("bastion").expect("bastion");
    let theme = dark();
    let screen = Screen {
        title: "t\x1b[31m",
        read_only: true,
        theme: &theme,
        layout: &layout,
        glyphs: Glyphs::for_ascii(false),
        drill: None,
        local: &UTC,
    };
    let buffer = render(&state, &screen, 200, 50);
    for cell in buffer.content() {
        assert!(
            !cell
                .symbol()
                .chars()
                .any(|c| c.is_control() || c == '\u{202e}'),
            "a control character was drawn: {:?}",
            cell.symbol()
        );
    }
    assert!(text(&buffer).contains("boom"));
    assert!(text(&buffer).contains("[RO]"));
}

#[test]
fn a_tiny_terminal_does_not_panic() {
    let mut rig = UiRig::new();
    for (w, h) in [(1, 1), (10, 3), (40, 10), (79, 23)] {
        let layout = Layout::auto(w, h, false);
        let _ = rig.shot(&layout, &dark(), w, h);
        let war_room = Layout::builtin("war-room").expect("war-room");
        let _ = rig.shot(&war_room, &dark(), w, h);
    }
}

#[test]
fn incident_dialogs_at_80x24_and_200x50() {
    let layout = Layout::builtin("bastion").expect("bastion");
    let wide = Layout::builtin("war-room").expect("war-room");
    let theme = dark();
    // Status: an incident is open in the fixture.
    let mut rig = UiRig::new();
    update(&mut rig.state, Event::Key(Key::Char('d')));
    for _ in 0..3 {
        update(&mut rig.state, Event::Key(Key::Right));
    }
    for c in "reso".chars() {
        update(&mut rig.state, Event::Key(Key::Char(c)));
    }
    insta::assert_snapshot!(
        "dialog_status_80x24",
        text(&rig.shot(&layout, &theme, 80, 24))
    );
    insta::assert_snapshot!(
        "dialog_status_200x50",
        text(&rig.shot(&wide, &theme, 200, 50))
    );
    // Note, with hostile text pasted.
    let mut rig = UiRig::new();
    update(&mut rig.state, Event::Key(Key::Char('n')));
    update(
        &mut rig.state,
        Event::Key(Key::Paste("follow-up: \x1b[2Jcheck lag alert\x07".into())),
    );
    insta::assert_snapshot!(
        "dialog_note_80x24",
        text(&rig.shot(&layout, &theme, 80, 24))
    );
    insta::assert_snapshot!(
        "dialog_note_200x50",
        text(&rig.shot(&wide, &theme, 200, 50))
    );
    // Declare: before any incident.
    let cfg = example();
    let mut state = State::new(
        Estate::from_config(&cfg),
        at(0),
        crate::app::Setup {
            runbooks: cfg.runbooks.clone(),
            ..Default::default()
        },
    );
    MemoryJournal::attach(&mut state, "ana@bastion");
    let mut rig = UiRig { cfg, state };
    update(&mut rig.state, Event::Key(Key::Char('d')));
    for c in "db primary down".chars() {
        update(&mut rig.state, Event::Key(Key::Char(c)));
    }
    update(&mut rig.state, Event::Key(Key::Tab));
    update(&mut rig.state, Event::Key(Key::Char('3')));
    insta::assert_snapshot!(
        "dialog_declare_80x24",
        text(&rig.shot(&layout, &theme, 80, 24))
    );
    insta::assert_snapshot!(
        "dialog_declare_200x50",
        text(&rig.shot(&wide, &theme, 200, 50))
    );
}

#[test]
fn timeline_order_kind_filter_and_local_time() {
    let mut rig = UiRig::new();
    let layout = Layout::builtin("bastion").expect("bastion");
    let theme = dark();
    rig.state.view.set_panels(&layout.panels());
    rig.state.view.focus = Panel::Timeline;
    let newest = text(&rig.shot(&layout, &theme, 200, 50));
    assert!(newest.contains("newest first"), "{newest}");
    assert!(
        newest.contains("T+00:"),
        "elapsed since the first failure: {newest}"
    );
    assert!(newest.contains("(watch log)"), "{newest}");
    update(&mut rig.state, Event::Key(Key::Char('o')));
    insta::assert_snapshot!(
        "timeline_oldest_first_200x50",
        text(&rig.shot(&layout, &theme, 200, 50))
    );
    update(&mut rig.state, Event::Key(Key::Char('k')));
    update(&mut rig.state, Event::Key(Key::Char('k')));
    let incident_only = text(&rig.shot(&layout, &theme, 80, 24));
    assert!(incident_only.contains("only incident"), "{incident_only}");
    assert!(!incident_only.contains("UP → DOWN"), "{incident_only}");
    insta::assert_snapshot!("timeline_incident_kinds_80x24", incident_only);
    update(&mut rig.state, Event::Key(Key::Char('t')));
    let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(2));
    let screen = Screen {
        local: &tz,
        ..rig.screen(&theme, &layout, false)
    };
    let local = text(&render(&rig.state, &screen, 80, 24));
    assert!(
        local.contains("05:05:00 T+") && !local.contains("03:05:00Z"),
        "UTC+2 local times: {local}"
    );
    insta::assert_snapshot!("timeline_local_80x24", local);
}

#[test]
fn the_step_modal_shows_what_will_happen_the_live_prechecks_and_the_phrase() {
    let mut rig = UiRig::new();
    let layout = Layout::builtin("bastion").expect("bastion");
    let wide = Layout::builtin("war-room").expect("war-room");
    let theme = dark();
    let rb = rig
        .state
        .runbooks
        .iter()
        .position(|r| r.id == "failover")
        .expect("failover runbook");
    rig.state.view.set_panels(&layout.panels());
    rig.state.view.focus = Panel::Runbooks;
    rig.state.choose_runbook(rb);
    // Promote is blocked until sync has succeeded: the key says why.
    update(&mut rig.state, Event::Key(Key::Char('5')));
    assert!(rig.state.modal.is_none());
    assert_eq!(
        rig.state.view.flash.as_deref(),
        Some(
            "5. Promote the DR replica dtem-postgres-dr-replica to primary: blocked until step `sync` has succeeded"
        )
    );
    insta::assert_snapshot!(
        "runbook_failover_states_200x50",
        text(&rig.shot(&wide, &theme, 200, 50))
    );
    // The modal itself, opened on promote as if sync had succeeded.
    let step = rig.state.runbooks[rb].steps[4].clone();
    rig.state.modal = Some(crate::app::modal::StepModal::new(rb, 4, &step));
    for c in "promote us-west-2/dtem".chars() {
        update(&mut rig.state, Event::Key(Key::Char(c)));
    }
    let shot = text(&rig.shot(&layout, &theme, 80, 24));
    assert!(shot.contains("PromoteReadReplica"), "{shot}");
    // What would be lost stays in view at 80×24, though the modal covers the panels.
    assert!(
        shot.contains("data at stake: up to 6m17s of writes (RPO 15m)"),
        "{shot}"
    );
    insta::assert_snapshot!("modal_promote_80x24", shot);
    let shot = text(&rig.shot(&wide, &theme, 200, 50));
    assert!(shot.contains("db-primary lag"), "live precheck: {shot}");
    insta::assert_snapshot!("modal_promote_200x50", shot);
    // The journal tampered: the modal asks for break glass, in the danger colour.
    update(
        &mut rig.state,
        Event::Journal(crate::app::JournalEvent::Problem(Some(
            "JOURNAL TAMPERED: x.jsonl: hash chain BROKEN at line 7".into(),
        ))),
    );
    update(&mut rig.state, Event::Key(Key::Tab));
    let shot = text(&rig.shot(&wide, &theme, 200, 50));
    assert!(shot.contains("break glass: <reason>"), "{shot}");
    insta::assert_snapshot!("modal_promote_break_glass_200x50", shot);
}

#[test]
fn a_checklist_step_is_ticked_item_by_item() {
    let mut rig = UiRig::new();
    let layout = Layout::builtin("bastion").expect("bastion");
    let theme = dark();
    let rb = rig
        .state
        .runbooks
        .iter()
        .position(|r| r.id == "l3-region-failover")
        .expect("level-3 runbook");
    rig.state.view.set_panels(&layout.panels());
    rig.state.view.focus = Panel::Runbooks;
    rig.state.choose_runbook(rb);
    update(&mut rig.state, Event::Key(Key::Char('w')));
    update(&mut rig.state, Event::Key(Key::Char(' ')));
    let shot = text(&rig.shot(&layout, &theme, 80, 24));
    assert!(shot.contains("☑") && shot.contains("☐"), "{shot}");
    insta::assert_snapshot!("modal_checklist_80x24", shot);
    let wide = Layout::builtin("war-room").expect("war-room");
    insta::assert_snapshot!(
        "modal_checklist_200x50",
        text(&rig.shot(&wide, &theme, 200, 50))
    );
}

#[test]
fn the_update_composer_shows_the_text_and_exactly_what_is_sent() {
    let layout = Layout::builtin("bastion").expect("bastion");
    let wide = Layout::builtin("war-room").expect("war-room");
    let theme = dark();
    let mut rig = UiRig::new();
    update(&mut rig.state, Event::Key(Key::Char('u')));
    assert!(rig.state.compose.is_some(), "{:?}", rig.state.view.flash);
    // A later update: Slack replies in the thread, the page's incident is created (the first
    // attempt is still retrying, so this one waits behind it).
    for c in " <!channel> & db".chars() {
        update(&mut rig.state, Event::Key(Key::Char(c)));
    }
    let shot = text(&rig.shot(&layout, &theme, 80, 24));
    assert!(shot.contains("Enter waits: type `publish`"), "{shot}");
    insta::assert_snapshot!("compose_update_80x24", shot);
    let shot = text(&rig.shot(&wide, &theme, 200, 50));
    assert!(shot.contains("a reply in the incident's thread"), "{shot}");
    insta::assert_snapshot!("compose_update_200x50", shot);
    let compose = rig.state.compose.as_ref().expect("open");
    let preview = compose.preview(&rig.state).join("\n");
    let slack = preview.split("▶ Status page").next().unwrap_or_default();
    assert!(
        slack.contains("&lt;!channel&gt; &amp; db") && !slack.contains("<!channel>"),
        "escaped in what Slack gets: {slack}"
    );
    // The page's first update is still retrying: this one updates the incident it will create.
    assert!(
        preview.contains(
            "PATCH /pages/dtemstatus01/incidents/(the incident's id) (after the 1 update(s) still waiting before it)"
        ),
        "{preview}"
    );
    // The initial template, with the public page confirmed.
    update(&mut rig.state, Event::Key(Key::BackTab));
    update(&mut rig.state, Event::Key(Key::BackTab));
    update(&mut rig.state, Event::Key(Key::BackTab));
    update(&mut rig.state, Event::Key(Key::BackTab));
    update(&mut rig.state, Event::Key(Key::Left));
    let c = rig.state.compose.as_ref().expect("open");
    assert_eq!(c.template, crate::app::message::Template::Initial);
    update(&mut rig.state, Event::Key(Key::BackTab));
    for c in "publish".chars() {
        update(&mut rig.state, Event::Key(Key::Char(c)));
    }
    let shot = text(&rig.shot(&wide, &theme, 200, 50));
    assert!(shot.contains("Enter: queue it"), "{shot}");
    insta::assert_snapshot!("compose_initial_publish_200x50", shot);
}

/// The first row of a frame, as text.
fn first_row(buffer: &Buffer) -> String {
    text(buffer).lines().next().unwrap_or_default().to_string()
}

#[test]
fn a_drill_begins_every_frame_with_drill_and_a_read_only_console_never_says_rec() {
    let mut rig = UiRig::new();
    // A drill's keeper always records; a read-only console must not say so all the same.
    rig.state.journal.recording = true;
    let theme = dark();
    for (name, w, h) in [
        ("bastion", 80, 24),
        ("war-room", 200, 50),
        ("observer", 80, 24),
    ] {
        let layout = Layout::builtin(name).expect("layout");
        rig.state.view.set_panels(&layout.panels());
        let mut screen = rig.screen(&theme, &layout, false);
        screen.drill = Some("region-outage x1");
        let buffer = render(&rig.state, &screen, w, h);
        let top = first_row(&buffer);
        assert!(top.starts_with("DRILL [RW] "), "{name} {w}x{h}: {top}");
        if name == "bastion" {
            insta::assert_snapshot!("header_drill_80", top);
        }
        // Read-only: never REC, whatever the journal does (a drill always records).
        screen.read_only = true;
        let buffer = render(&rig.state, &screen, w, h);
        let all = text(&buffer);
        assert!(first_row(&buffer).starts_with("DRILL [RO] "), "{all}");
        assert!(!all.contains("REC"), "{name}: {all}");
        if name == "bastion" {
            insta::assert_snapshot!("header_drill_read_only_80", first_row(&buffer));
        }
    }
}

/// A panel alone, drawn into exactly the rectangle a built-in layout gives it on a terminal
/// of each size where that layout shows it (the bastion at 80×24, the observer at 100×30,
/// the war room at 200×50), in the middle of the incident; focused. Each panel's file
/// snapshots its own (`<layout>_<w>x<h>`).
pub(super) fn panel_alone(panel: Panel) -> Vec<(String, String)> {
    let mut shots = Vec::new();
    for (name, w, h) in [
        ("bastion", 80, 24),
        ("observer", 100, 30),
        ("war-room", 200, 50),
    ] {
        let mut rig = UiRig::new();
        let layout = Layout::builtin(name).expect("a built-in layout");
        let area = ratatui::layout::Rect::new(0, 0, w, h);
        let Some((_, rect)) = super::panel_areas(&layout, area)
            .into_iter()
            .find(|(p, _)| *p == panel)
        else {
            continue;
        };
        rig.state.view.set_panels(&layout.panels());
        rig.state.view.focus = panel;
        let theme = dark();
        let screen = rig.screen(&theme, &layout, false);
        let mut terminal =
            Terminal::new(TestBackend::new(rect.width, rect.height)).expect("terminal");
        terminal
            .draw(|frame| {
                let area = frame.area();
                super::draw_panel(panel, &rig.state, &screen, frame, area)
            })
            .expect("draw");
        shots.push((
            format!("{name}_{}x{}", rect.width, rect.height),
            text(terminal.backend().buffer()),
        ));
    }
    assert!(!shots.is_empty(), "no built-in layout shows {panel:?}");
    shots
}
