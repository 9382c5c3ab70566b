//! The runtime of the console: it owns the terminal and every side effect, feeds events
//! to the pure `update` and draws with the pure `ui::draw`.
//!
//! Redraw policy (DESIGN.md): a key is drawn at once; background changes (observations,
//! clock ticks) are drawn at most 30 times a second (10 with `--low-bandwidth`); every
//! frame is wrapped in synchronized output so the terminal never shows half a frame.

pub mod keeper;
pub mod keys;
pub mod outbox_worker;
pub mod scheduler;
pub mod terminal;
pub mod writer;

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream};
use futures_util::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

use std::collections::{BTreeMap, HashMap};

use crate::app::{Effect, Event, JournalEvent, Key, Observation, State, StepEvent, Stop, update};
use crate::config::Step;
use crate::probe::clock::Clock;
use crate::runbook::{Executor, StepOutcome};
use crate::runtime::keeper::Request;
use crate::runtime::outbox_worker::Worker;
use crate::theme::Theme;
use crate::ui::{self, Glyphs, Layout, Screen};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use writer::FrameWriter;

/// How the console looks, fixed for the session.
pub struct Settings {
    pub title: String,
    pub read_only: bool,
    pub ascii: bool,
    /// The terminal knows 16 colours at most (`TERM=linux`, `vt100`, `xterm`): every colour
    /// sent is one of them.
    pub ansi16: bool,
    pub low_bandwidth: bool,
    pub theme: Theme,
    /// `None` = auto: the largest layout that fits, chosen again on every resize.
    pub layout: Option<Layout>,
    /// "region-outage ×1" for a drill.
    pub drill: Option<String>,
    /// The operator's time zone (the timeline's `t`).
    pub local: jiff::tz::TimeZone,
    /// A terminal that has not drained for this long hands the recorder's lock on.
    pub stalled_after: Duration,
}

/// The console's outbox worker and what it tells the operator. None in an observer console:
/// it has nothing to send updates with.
pub struct CommsLink {
    pub worker: Worker,
    /// (channel, problem): `None` once it is over.
    pub problems: mpsc::Receiver<(crate::app::message::Channel, Option<String>)>,
}

/// The console's line to its journal keeper: what to write, and what the journal says.
pub struct JournalLink {
    pub requests: std::sync::mpsc::Sender<Request>,
    pub events: mpsc::Receiver<JournalEvent>,
}

/// Where effects go: the journal keeper, and the step executor (none in an observer console:
/// the second wall — even if `update` asked to run a step, there is nothing to run it with).
struct World {
    requests: std::sync::mpsc::Sender<Request>,
    executor: Option<Arc<dyn Executor>>,
    steps_tx: mpsc::Sender<StepEvent>,
    /// This console has an outbox worker: updates may be queued.
    can_post: bool,
    /// The executor tasks of the steps running here: `cancel` abandons one.
    tasks: HashMap<(String, String), tokio::task::AbortHandle>,
}

impl World {
    /// Does what `update` asked; true when it asked to quit.
    fn dispatch(&mut self, effects: Vec<Effect>) -> bool {
        let mut quit = false;
        for e in effects {
            // A keeper that has gone (it never ends before the console) cannot take more; what
            // it could not write it hands back when it ends.
            let _ = match e {
                Effect::Quit => {
                    quit = true;
                    Ok(())
                }
                Effect::Append(entry) => self.requests.send(Request::Append(entry)),
                Effect::Declare {
                    title,
                    level,
                    status,
                    at,
                } => self.requests.send(Request::Declare {
                    title,
                    level,
                    status,
                    at,
                }),
                Effect::Post(out) => {
                    if !self.can_post {
                        continue;
                    }
                    self.requests.send(Request::Post {
                        out,
                        id: crate::comms::record::new_id(),
                        order: crate::comms::record::next_order(),
                    })
                }
                Effect::ReadStepLog { path } => self.requests.send(Request::ReadStepLog { path }),
                Effect::ReadEarlier { source, from, to } => self
                    .requests
                    .send(Request::ReadEarlier { source, from, to }),
                Effect::ContinueJournal { reason, at } => {
                    self.requests.send(Request::Continue { reason, at })
                }
                Effect::CancelStep {
                    runbook,
                    step,
                    stop,
                } => {
                    self.cancel(&runbook, &step, stop);
                    Ok(())
                }
                Effect::ReadPostcondition {
                    runbook,
                    step,
                    postcondition,
                } => {
                    // One read-only call; the answer comes back as an event. No executor (an
                    // observer): nothing reads it, and the model asks only as the recorder.
                    let Some(executor) = self.executor.clone() else {
                        continue;
                    };
                    let tx = self.steps_tx.clone();
                    tokio::spawn(async move {
                        let reading = executor.read_postcondition(&postcondition).await;
                        let _ = tx
                            .send(StepEvent::PostconditionRead {
                                runbook,
                                step,
                                reading,
                            })
                            .await;
                    });
                    Ok(())
                }
                Effect::Execute {
                    runbook,
                    step,
                    inputs,
                    spec,
                    log,
                } => {
                    self.execute(runbook, step, inputs, *spec, log);
                    Ok(())
                }
                Effect::RunStep {
                    runbook,
                    step,
                    at,
                    post,
                    break_glass,
                    ..
                } => {
                    // Nothing to carry it out with, nothing claimed: a notify step needs the
                    // outbox, any other an executor (the model decides the rest).
                    let can = if post.is_some() {
                        self.can_post
                    } else {
                        self.executor.is_some()
                    };
                    if !can {
                        continue;
                    }
                    self.requests.send(Request::Claim {
                        runbook,
                        step,
                        at,
                        break_glass,
                    })
                }
            };
        }
        quit
    }

    /// A step that ended here is no longer this console's to cancel.
    fn finished(&mut self, event: &StepEvent) {
        if let StepEvent::Finished { runbook, step, .. } = event {
            self.tasks.remove(&(runbook.clone(), step.clone()));
        }
    }

    /// `cancel` typed on a running step: SIGTERM to its program's group, SIGKILL 10 s later
    /// if it is still there; or its executor task abandoned.
    fn cancel(&mut self, runbook: &str, step: &str, stop: Stop) {
        match stop {
            Stop::Task => {
                if let Some(task) = self.tasks.remove(&(runbook.to_string(), step.to_string())) {
                    task.abort();
                }
            }
            Stop::Group { pgid, start } => {
                use crate::process::signal_group;
                use nix::sys::signal::Signal;
                // Finding the group reads /proc: off the console's task. (A console that ends
                // within the grace waits for it: the SIGKILL is still sent.)
                let (runbook, step) = (runbook.to_string(), step.to_string());
                tokio::task::spawn_blocking(move || {
                    match signal_group(pgid, start, Signal::SIGTERM) {
                        Ok(true) => {
                            tracing::warn!(
                                "cancel {runbook}/{step}: SIGTERM to process group {pgid}"
                            );
                            std::thread::sleep(CANCEL_GRACE);
                            let _ = signal_group(pgid, start, Signal::SIGKILL);
                        }
                        Ok(false) => {}
                        Err(e) => {
                            tracing::error!("cancel {runbook}/{step}: SIGTERM to group {pgid}: {e}")
                        }
                    }
                });
            }
        }
    }

    /// A step whose claim this console was granted runs here, on a task of its own that
    /// `cancel` can abandon: its progress and end come back as events.
    fn execute(
        &mut self,
        runbook: String,
        step: String,
        inputs: BTreeMap<String, String>,
        config: Step,
        log: Option<crate::app::outcome::StepLog>,
    ) {
        let Some(executor) = self.executor.clone() else {
            return;
        };
        let tx = self.steps_tx.clone();
        let (progress_tx, mut progress_rx) = mpsc::channel(64);
        let run = tokio::spawn(async move {
            executor
                .run(&config, &inputs, log.as_ref(), progress_tx)
                .await
        });
        self.tasks
            .insert((runbook.clone(), step.clone()), run.abort_handle());
        tokio::spawn(async move {
            let forward = {
                let tx = tx.clone();
                let (runbook, step) = (runbook.clone(), step.clone());
                tokio::spawn(async move {
                    while let Some(progress) = progress_rx.recv().await {
                        let _ = tx
                            .send(StepEvent::Progress {
                                runbook: runbook.clone(),
                                step: step.clone(),
                                progress,
                            })
                            .await;
                    }
                })
            };
            // An executor that panics on a bad answer is a failed step, not a step that never
            // ends; one cancelled by the operator is abandoned.
            let outcome = match run.await {
                Ok(outcome) => outcome,
                Err(e) if e.is_cancelled() => StepOutcome::Failed {
                    reason: "cancelled by the operator: its calls were abandoned — the action may or may not have been applied, verify by hand".into(),
                },
                Err(e) => StepOutcome::Failed {
                    reason: format!(
                        "the executor crashed ({e}): the action may or may not have been applied — look at the target"
                    ),
                },
            };
            // Its last lines first; but an executor that kept a sender alive must not keep
            // the step from ending.
            let _ = tokio::time::timeout(Duration::from_secs(2), forward).await;
            let _ = tx
                .send(StepEvent::Finished {
                    runbook,
                    step,
                    outcome,
                })
                .await;
        });
    }
}

/// How long a console whose terminal does not drain leaves the recorder's lock to others before
/// it may take it back.
const STEP_ASIDE: Duration = Duration::from_secs(5);

/// How long a detached console (SIGHUP) waits for its running steps to end and be journaled.
const DETACH_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// How long a cancelled step's program has after SIGTERM before SIGKILL.
const CANCEL_GRACE: Duration = Duration::from_secs(10);

/// How long a console told to stop (SIGTERM) waits for the API calls of its steps under way
/// (never cut mid-request; a `command` step's program is handed over at once).
const TERM_DEADLINE: Duration = Duration::from_secs(30);

/// How long a console that quits waits for the updates it is delivering (the outbox keeps
/// them either way: the next console delivers what is left).
const QUIT_COMMS_DEADLINE: Duration = Duration::from_secs(10);

/// Why the console ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleExit {
    Quit,
    /// SIGTERM: restore the terminal and stop.
    Terminated,
    /// SIGHUP (the SSH link dropped): detach.
    HungUp,
    /// The terminal is gone: its input ended or failed (EOF, EIO), or a write to it failed.
    /// The same detach as SIGHUP.
    TerminalGone,
}

impl ConsoleExit {
    /// Why, in the log's words: `console ended (<reason>)`.
    pub fn reason(self) -> &'static str {
        match self {
            ConsoleExit::Quit => "quit",
            ConsoleExit::Terminated => "SIGTERM",
            ConsoleExit::HungUp => "SIGHUP",
            ConsoleExit::TerminalGone => "terminal gone",
        }
    }
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

/// Renders frames for the terminal writer: pure drawing into memory, at the terminal's size;
/// the writer thread works out what changed and does the terminal I/O. (ratatui's `Frame`
/// comes only from a `Terminal`: this one's backend is never drawn to.)
struct Renderer {
    screen: Terminal<TestBackend>,
}

impl Renderer {
    fn new(width: u16, height: u16) -> Renderer {
        // A TestBackend never fails (its error type is Infallible).
        let Ok(screen) = Terminal::new(TestBackend::new(width.max(1), height.max(1)));
        Renderer { screen }
    }

    fn resize(&mut self, width: u16, height: u16) {
        let (width, height) = (width.max(1), height.max(1));
        self.screen.backend_mut().resize(width, height);
        let Ok(()) = self
            .screen
            .resize(ratatui::layout::Rect::new(0, 0, width, height));
    }

    /// The whole frame for this state, handed to the writer.
    fn render(
        &mut self,
        writer: &FrameWriter,
        state: &State,
        settings: &Settings,
        layout: &Layout,
    ) {
        let screen = Screen {
            title: &settings.title,
            read_only: settings.read_only,
            theme: &settings.theme,
            layout,
            glyphs: Glyphs::for_ascii(settings.ascii),
            drill: settings.drill.as_deref(),
            local: &settings.local,
        };
        let mut frame = self.screen.get_frame();
        ui::draw(state, &screen, &mut frame);
        if settings.ansi16 {
            ui::to_ansi16(frame.buffer_mut());
        }
        // The drawn buffer goes to the writer; a blank one of the same size takes its place.
        let area = self.screen.current_buffer_mut().area;
        let drawn = std::mem::replace(
            self.screen.current_buffer_mut(),
            ratatui::buffer::Buffer::empty(area),
        );
        writer.submit(drawn);
    }
}

/// Runs the console until the operator quits or a signal ends it.
pub async fn run(
    mut state: State,
    settings: Settings,
    mut observations: mpsc::Receiver<Observation>,
    journal: JournalLink,
    executor: Option<Arc<dyn Executor>>,
    comms: Option<CommsLink>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<ConsoleExit> {
    let JournalLink {
        requests,
        events: mut journal_events,
    } = journal;
    // An observer console has no outbox worker at all: nothing to send updates with.
    let comms = comms.filter(|_| !settings.read_only);
    let (worker, mut comms_problems) = match comms {
        Some(c) => (Some(c.worker), Some(c.problems)),
        None => (None, None),
    };
    let (steps_tx, mut step_events) = mpsc::channel(256);
    let mut world = World {
        requests,
        // An observer console has no executor at all.
        executor: executor.filter(|_| !settings.read_only),
        steps_tx,
        can_post: worker.is_some(),
        tasks: HashMap::new(),
    };
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let _guard = terminal::enter()?;
    let (gone_tx, mut gone_rx) = mpsc::unbounded_channel();
    let writer = FrameWriter::start(gone_tx, settings.ansi16)?;
    let (width, height) = crossterm::terminal::size()?;
    let mut renderer = Renderer::new(width, height);
    let mut layout = pick_layout(&settings, width, height);
    state.view.too_small =
        ui::emergency::too_small(ratatui::layout::Rect::new(0, 0, width, height));
    state.view.set_panels(&layout.panels());
    state.view.rows = ui::panel_rows(&layout, ratatui::layout::Rect::new(0, 0, width, height));
    world.dispatch(update(&mut state, Event::Tick(clock.now())));

    // The first frame, before any probe has answered: the operator sees OBSERVING at once.
    renderer.render(&writer, &state, &settings, &layout);
    let gap = frame_gap(settings.low_bandwidth);
    let mut last_draw = Instant::now();
    let mut dirty = false;
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // The terminal has not drained for `stalled_after`: the recorder's lock was handed on.
    let mut stalled = false;

    let exit = loop {
        let next_draw = last_draw + gap;
        tokio::select! {
            biased;
            _ = sigterm.recv() => break ConsoleExit::Terminated,
            _ = sighup.recv() => break ConsoleExit::HungUp,
            Some(why) = gone_rx.recv() => {
                tracing::warn!("the terminal is gone: {why}");
                break ConsoleExit::TerminalGone;
            }
            event = events.next() => {
                let key = match event {
                    Some(Ok(TermEvent::Key(k))) => keys::translate(&k),
                    Some(Ok(TermEvent::Paste(text))) => Some(Key::Paste(text)),
                    Some(Ok(TermEvent::Resize(w, h))) => {
                        state.view.too_small = ui::emergency::too_small(ratatui::layout::Rect::new(0, 0, w, h));
                        layout = pick_layout(&settings, w, h);
                        state.view.rows = ui::panel_rows(&layout, ratatui::layout::Rect::new(0, 0, w, h));
                        state.view.set_panels(&layout.panels());
                        renderer.resize(w, h);
                        renderer.render(&writer, &state, &settings, &layout);
                        last_draw = Instant::now();
                        dirty = false;
                        None
                    }
                    Some(Ok(_)) => None,
                    // EOF or EIO on the terminal's input: the link is gone, as after SIGHUP.
                    Some(Err(e)) => {
                        tracing::warn!("the terminal's input failed: {e}");
                        break ConsoleExit::TerminalGone;
                    }
                    None => {
                        tracing::warn!("the terminal's input ended");
                        break ConsoleExit::TerminalGone;
                    }
                };
                if let Some(key) = key {
                    if world.dispatch(update(&mut state, Event::Key(key))) {
                        break ConsoleExit::Quit;
                    }
                    // Input is drawn at once, whatever the rate cap says.
                    renderer.render(&writer, &state, &settings, &layout);
                    last_draw = Instant::now();
                    dirty = false;
                }
            }
            Some(observation) = observations.recv() => {
                world.dispatch(update(&mut state, Event::Observed(observation)));
                // Take whatever else has arrived: one frame for a burst of answers.
                while let Ok(more) = observations.try_recv() {
                    world.dispatch(update(&mut state, Event::Observed(more)));
                }
                dirty = true;
            }
            Some(news) = journal_events.recv() => {
                world.dispatch(update(&mut state, Event::Journal(news)));
                while let Ok(more) = journal_events.try_recv() {
                    world.dispatch(update(&mut state, Event::Journal(more)));
                }
                dirty = true;
            }
            Some(step) = step_events.recv() => {
                world.finished(&step);
                world.dispatch(update(&mut state, Event::Step(step)));
                dirty = true;
            }
            Some((channel, problem)) = recv_problem(&mut comms_problems) => {
                world.dispatch(update(&mut state, Event::CommsProblem { channel, problem }));
                dirty = true;
            }
            _ = tick.tick() => {
                world.dispatch(update(&mut state, Event::Tick(clock.now())));
                dirty = true;
                match writer.stuck_for() {
                    Some(stuck) if stuck >= settings.stalled_after && !stalled => {
                        stalled = true;
                        tracing::warn!(
                            "terminal not draining for {}s: the recorder's lock goes to another console",
                            stuck.as_secs()
                        );
                        let _ = world.requests.send(Request::StepAside { for_: STEP_ASIDE });
                    }
                    None if stalled => {
                        stalled = false;
                        tracing::info!("terminal draining again");
                    }
                    _ => {}
                }
            }
            _ = tokio::time::sleep_until(next_draw), if dirty => {
                renderer.render(&writer, &state, &settings, &layout);
                last_draw = Instant::now();
                dirty = false;
            }
        }
    };
    if matches!(exit, ConsoleExit::HungUp | ConsoleExit::TerminalGone) {
        // Nobody reads this terminal any more: nothing else is printed to it.
        terminal::mark_detached();
    }
    if exit == ConsoleExit::TerminalGone {
        terminal::mark_gone();
    }
    // The last frame under way, then the terminal back (each bounded: a stalled link must not
    // hold the ending; the process ends without a writer stuck in a write).
    if !writer.stop(Duration::from_secs(2)) {
        terminal::mark_detached();
    }
    terminal::restore();
    // Steps started here are never stopped by the console's ending. A `command` step's program
    // runs in its own session: on SIGTERM it is handed over at once (journaled as still
    // running, for the recorder to follow); in-process calls (AWS, Kubernetes, HTTP) are
    // awaited, never cut mid-request — up to 30 s after SIGTERM, up to the detach deadline
    // after SIGHUP, a gone terminal or `q`. What still runs then is handed over or released
    // as interrupted. A (second) SIGTERM while waiting ends the wait at once.
    let wait = match exit {
        ConsoleExit::Terminated => TERM_DEADLINE,
        ConsoleExit::HungUp | ConsoleExit::TerminalGone | ConsoleExit::Quit => DETACH_DEADLINE,
    };
    let mut reason = exit.reason();
    if exit == ConsoleExit::Terminated {
        world.dispatch(update(
            &mut state,
            Event::HandOver {
                reason: "SIGTERM".into(),
            },
        ));
    }
    // A step accepted and waiting only on a postcondition any console can read (a restore
    // still creating) is not waited for: it is journaled as still creating, for the recorder.
    if state.own_runs_to_wait_for() > 0 {
        if exit == ConsoleExit::Quit {
            terminal::say(&format!(
                "warroom: waiting for {} step(s) started here to finish and be journaled (SIGTERM to stop waiting)",
                state.own_runs_to_wait_for()
            ));
        }
        let deadline = Instant::now() + wait;
        while state.own_runs_to_wait_for() > 0 {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {
                    if exit != ConsoleExit::Terminated {
                        reason = "detach deadline";
                    }
                    break;
                }
                _ = sigterm.recv() => {
                    reason = "SIGTERM";
                    break;
                }
                Some(step) = step_events.recv() => {
                    world.finished(&step);
                    world.dispatch(update(&mut state, Event::Step(step)));
                }
                Some(observation) = observations.recv() => {
                    world.dispatch(update(&mut state, Event::Observed(observation)));
                }
                Some(news) = journal_events.recv() => {
                        world.dispatch(update(&mut state, Event::Journal(news)));
                }
                _ = tick.tick() => {
                    world.dispatch(update(&mut state, Event::Tick(clock.now())));
                }
            }
        }
    }
    if state.own_runs() > 0 {
        tracing::warn!(
            "console ending ({reason}) with {} step(s) unfinished: handed over or released",
            state.own_runs()
        );
        world.dispatch(update(
            &mut state,
            Event::Abandon {
                reason: reason.into(),
            },
        ));
    }
    // The updates this console is delivering: a console that quits or was detached gives them
    // a moment (the outbox keeps whatever is left for the next console); SIGTERM does not wait.
    if let Some(worker) = worker {
        let wait = match exit {
            ConsoleExit::Terminated => Duration::ZERO,
            ConsoleExit::HungUp | ConsoleExit::TerminalGone => DETACH_DEADLINE,
            ConsoleExit::Quit => QUIT_COMMS_DEADLINE,
        };
        // An update queued a moment ago may not be in the outbox yet: the worker gets a look
        // at it before "nothing waiting" is believed.
        let queued = state.comms.waiting();
        let settle = if queued > 0 {
            Duration::from_millis(1500)
        } else {
            Duration::ZERO
        };
        if (worker.waiting() > 0 || queued > 0) && !wait.is_zero() {
            if exit == ConsoleExit::Quit {
                terminal::say(&format!(
                    "warroom: delivering {} update(s) still in the outbox (up to {}s; the next console sends what is left)",
                    worker.waiting().max(queued),
                    wait.as_secs()
                ));
            }
            let started = Instant::now();
            let deadline = started + wait;
            while (worker.waiting() > 0 || started.elapsed() < settle) && Instant::now() < deadline
            {
                tokio::select! {
                    _ = sigterm.recv() => break,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        }
        worker.stop().await;
    }
    Ok(exit)
}

/// The next problem the outbox worker reports, if the console has one.
async fn recv_problem(
    problems: &mut Option<mpsc::Receiver<(crate::app::message::Channel, Option<String>)>>,
) -> Option<(crate::app::message::Channel, Option<String>)> {
    match problems {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
