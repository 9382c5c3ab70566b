//! The runtime of the console: it owns the terminal and every side effect, feeds events
//! to the pure `update` and draws with the pure `ui::draw`.
//!
//! Redraw policy (DESIGN.md): a key is drawn at once; background changes (observations,
//! clock ticks) are drawn at most 30 times a second (10 with `--low-bandwidth`); every
//! frame is wrapped in synchronized output so the terminal never shows half a frame.

pub mod keys;
pub mod terminal;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream};
use crossterm::execute;
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use futures_util::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::app::{Effect, Event, JournalEvent, Key, Observation, State, update};
use crate::config::Runbook;
use crate::journal::keeper::Request;
use crate::probe::clock::Clock;
use crate::theme::Theme;
use crate::ui::{self, Glyphs, Layout, Screen};

/// How the console looks, fixed for the session.
pub struct Settings {
    pub title: String,
    pub read_only: bool,
    pub ascii: bool,
    pub low_bandwidth: bool,
    pub theme: Theme,
    /// `None` = auto: the largest layout that fits, chosen again on every resize.
    pub layout: Option<Layout>,
    pub runbooks: Vec<Runbook>,
    /// "region-outage ×1" for a drill.
    pub drill: Option<String>,
    /// The operator's time zone (the timeline's `t`).
    pub local: jiff::tz::TimeZone,
}

/// The console's line to its journal keeper: what to write, and what the journal says.
pub struct JournalLink {
    pub requests: std::sync::mpsc::Sender<Request>,
    pub events: mpsc::Receiver<JournalEvent>,
}

/// Hands the journal what `update` asked for; true when it asked to quit.
fn dispatch(effects: Vec<Effect>, requests: &std::sync::mpsc::Sender<Request>) -> bool {
    let mut quit = false;
    for e in effects {
        // A keeper that has gone (it never ends before the console) cannot take more; what it
        // could not write it hands back when it ends.
        let _ = match e {
            Effect::Quit => {
                quit = true;
                Ok(())
            }
            Effect::Append(entry) => requests.send(Request::Append(entry)),
            Effect::Declare {
                title,
                level,
                status,
                at,
            } => requests.send(Request::Declare {
                title,
                level,
                status,
                at,
            }),
        };
    }
    quit
}

/// Why the console ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Quit,
    /// SIGTERM: restore the terminal and stop.
    Terminated,
    /// SIGHUP (the SSH link dropped): detach.
    HungUp,
    /// The terminal's input ended or failed.
    InputClosed,
}

fn frame_gap(low_bandwidth: bool) -> Duration {
    if low_bandwidth {
        Duration::from_millis(100)
    } else {
        Duration::from_millis(33)
    }
}

fn pick_layout(settings: &Settings, width: u16, height: u16) -> Layout {
    settings
        .layout
        .clone()
        .unwrap_or_else(|| Layout::auto(width, height, settings.read_only))
}

fn draw(
    terminal: &mut terminal::Tui,
    state: &State,
    settings: &Settings,
    layout: &Layout,
) -> std::io::Result<()> {
    let screen = Screen {
        title: &settings.title,
        read_only: settings.read_only,
        theme: &settings.theme,
        layout,
        glyphs: Glyphs::for_ascii(settings.ascii),
        runbooks: &settings.runbooks,
        drill: settings.drill.as_deref(),
        local: &settings.local,
    };
    execute!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    // The completed frame borrows the terminal; only whether it worked is kept.
    let drawn = terminal
        .draw(|frame| ui::draw(state, &screen, frame))
        .map(|_| ());
    execute!(terminal.backend_mut(), EndSynchronizedUpdate)?;
    terminal.backend_mut().flush()?;
    drawn
}

/// Runs the console until the operator quits or a signal ends it.
pub async fn run(
    mut state: State,
    settings: Settings,
    mut observations: mpsc::Receiver<Observation>,
    journal: JournalLink,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Exit> {
    let JournalLink {
        requests,
        events: mut journal_events,
    } = journal;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let (mut terminal, _guard) = terminal::enter()?;
    let size = terminal.size()?;
    let mut layout = pick_layout(&settings, size.width, size.height);
    state.view.set_panels(&layout.panels());
    state.runbooks = settings.runbooks.len();
    state.read_only = settings.read_only;
    dispatch(update(&mut state, Event::Tick(clock.now())), &requests);

    // The first frame, before any probe has answered: the operator sees OBSERVING at once.
    draw(&mut terminal, &state, &settings, &layout)?;
    let gap = frame_gap(settings.low_bandwidth);
    let mut last_draw = Instant::now();
    let mut dirty = false;
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    let exit = loop {
        let next_draw = last_draw + gap;
        tokio::select! {
            biased;
            _ = sigterm.recv() => break Exit::Terminated,
            _ = sighup.recv() => break Exit::HungUp,
            event = events.next() => {
                let key = match event {
                    Some(Ok(TermEvent::Key(k))) => keys::translate(&k),
                    Some(Ok(TermEvent::Paste(text))) => Some(Key::Paste(text)),
                    Some(Ok(TermEvent::Resize(w, h))) => {
                        layout = pick_layout(&settings, w, h);
                        state.view.set_panels(&layout.panels());
                        terminal.autoresize()?;
                        draw(&mut terminal, &state, &settings, &layout)?;
                        last_draw = Instant::now();
                        dirty = false;
                        None
                    }
                    Some(Ok(_)) => None,
                    Some(Err(_)) | None => break Exit::InputClosed,
                };
                if let Some(key) = key {
                    if dispatch(update(&mut state, Event::Key(key)), &requests) {
                        break Exit::Quit;
                    }
                    // Input is drawn at once, whatever the rate cap says.
                    draw(&mut terminal, &state, &settings, &layout)?;
                    last_draw = Instant::now();
                    dirty = false;
                }
            }
            Some(observation) = observations.recv() => {
                dispatch(update(&mut state, Event::Observed(observation)), &requests);
                // Take whatever else has arrived: one frame for a burst of answers.
                while let Ok(more) = observations.try_recv() {
                    dispatch(update(&mut state, Event::Observed(more)), &requests);
                }
                dirty = true;
            }
            Some(news) = journal_events.recv() => {
                dispatch(update(&mut state, Event::Journal(news)), &requests);
                while let Ok(more) = journal_events.try_recv() {
                    dispatch(update(&mut state, Event::Journal(more)), &requests);
                }
                dirty = true;
            }
            _ = tick.tick() => {
                dispatch(update(&mut state, Event::Tick(clock.now())), &requests);
                dirty = true;
            }
            _ = tokio::time::sleep_until(next_draw), if dirty => {
                draw(&mut terminal, &state, &settings, &layout)?;
                last_draw = Instant::now();
                dirty = false;
            }
        }
    };
    terminal::restore();
    Ok(exit)
}
