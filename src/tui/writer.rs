//! The terminal writer: frames go to the terminal from a thread of their own, so a link that
//! stalls (an SSH window that does not drain) blocks nothing but this thread.
//!
//! The console renders each frame into a [`Buffer`] (pure, fast) and hands it over through a
//! slot that keeps only the newest one: while the writer is stuck in a write, newer frames
//! replace older ones and the console's `update`, journal, probes, steps and outbox run on.
//! The writer keeps its own ratatui `Terminal`, so what it sends is the difference between
//! what it last wrote and the newest frame — skipping frames never garbles the screen.
//!
//! It tells the console two things: how long it has been stuck in a write
//! ([`FrameWriter::stuck_for`]), and that the terminal is gone (the first write that failed).

use std::io::BufWriter;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossterm::queue;
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use tokio::sync::mpsc;

use super::terminal::Tty;

/// What a frame is gathered in before it goes to the terminal in one write.
const FRAME_BUFFER: usize = 64 * 1024;

#[derive(Default)]
struct Slot {
    frame: Option<Buffer>,
    stop: bool,
}

struct Shared {
    slot: Mutex<Slot>,
    wake: Condvar,
    epoch: Instant,
    /// When the write under way started, in ms since `epoch`, plus one; 0 = not writing.
    busy_since: AtomicU64,
}

/// The console's side of the writer thread.
pub struct FrameWriter {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
    done: std::sync::mpsc::Receiver<()>,
}

impl FrameWriter {
    /// Starts the writer. The first write error (the terminal is gone) is sent to `gone`.
    pub fn start(gone: mpsc::UnboundedSender<String>) -> std::io::Result<FrameWriter> {
        let shared = Arc::new(Shared {
            slot: Mutex::new(Slot::default()),
            wake: Condvar::new(),
            epoch: Instant::now(),
            busy_since: AtomicU64::new(0),
        });
        let (done_tx, done) = std::sync::mpsc::channel();
        let inner = shared.clone();
        let handle = std::thread::Builder::new()
            .name("terminal".into())
            .spawn(move || {
                write_frames(&inner, &gone);
                let _ = done_tx.send(());
            })?;
        Ok(FrameWriter {
            shared,
            handle: Some(handle),
            done,
        })
    }

    /// Hands over a frame: it replaces one the writer has not taken yet.
    pub fn submit(&self, frame: Buffer) {
        if let Ok(mut slot) = self.shared.slot.lock() {
            slot.frame = Some(frame);
            self.shared.wake.notify_one();
        }
    }

    /// How long the writer has been stuck in the write under way (None when it is not
    /// writing).
    pub fn stuck_for(&self) -> Option<Duration> {
        match self.shared.busy_since.load(Ordering::SeqCst) {
            0 => None,
            since => {
                let now = self.shared.epoch.elapsed().as_millis() as u64;
                Some(Duration::from_millis(now.saturating_sub(since - 1)))
            }
        }
    }

    /// Stops the writer after the frame under way; true if it ended within `deadline` (a
    /// writer stuck on a stalled link is left behind: the process ends without it).
    pub fn stop(mut self, deadline: Duration) -> bool {
        if let Ok(mut slot) = self.shared.slot.lock() {
            slot.stop = true;
            slot.frame = None;
            self.shared.wake.notify_one();
        }
        let ended = self.done.recv_timeout(deadline).is_ok();
        if ended && let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        ended
    }
}

/// The writer thread: the newest frame, each in synchronized output, until told to stop or
/// the terminal is gone.
fn write_frames(shared: &Shared, gone: &mpsc::UnboundedSender<String>) {
    let mut terminal: Option<(Terminal<CrosstermBackend<BufWriter<Tty>>>, Rect)> = None;
    write_until_stopped(shared, gone, &mut terminal);
    // ratatui's Terminal shows the cursor when dropped and, if that fails, prints with
    // `eprintln!`, which panics on a hung-up terminal. Shown here first: a failure marks the
    // terminal gone, and the drop's own attempt is then dropped silently.
    if let Some((t, _)) = terminal.as_mut() {
        let _ = t.show_cursor();
    }
}

fn write_until_stopped(
    shared: &Shared,
    gone: &mpsc::UnboundedSender<String>,
    terminal: &mut Option<(Terminal<CrosstermBackend<BufWriter<Tty>>>, Rect)>,
) {
    loop {
        let frame = {
            let Ok(mut slot) = shared.slot.lock() else {
                return;
            };
            loop {
                if slot.stop {
                    return;
                }
                if let Some(f) = slot.frame.take() {
                    break f;
                }
                slot = match shared.wake.wait(slot) {
                    Ok(s) => s,
                    Err(_) => return,
                };
            }
        };
        let started = shared.epoch.elapsed().as_millis() as u64;
        shared.busy_since.store(started + 1, Ordering::SeqCst);
        let written = write_frame(terminal, frame);
        shared.busy_since.store(0, Ordering::SeqCst);
        if let Err(e) = written {
            let _ = gone.send(e.to_string());
            return;
        }
    }
}

fn write_frame(
    terminal: &mut Option<(Terminal<CrosstermBackend<BufWriter<Tty>>>, Rect)>,
    frame: Buffer,
) -> std::io::Result<()> {
    let area: Rect = frame.area;
    // A fixed viewport of the frame's own size: the writer draws what the console rendered,
    // at the size it rendered it, and never asks the terminal (a resize is a new frame size).
    let term = match terminal {
        Some((t, drawn)) => {
            if *drawn != area {
                t.resize(area)?;
                *drawn = area;
            }
            t
        }
        None => {
            // Buffered: a frame is many small writes, sent to the terminal as one.
            let t = Terminal::with_options(
                CrosstermBackend::new(BufWriter::with_capacity(FRAME_BUFFER, Tty::new())),
                TerminalOptions {
                    viewport: Viewport::Fixed(area),
                },
            )?;
            &mut terminal.insert((t, area)).0
        }
    };
    queue!(term.backend_mut(), BeginSynchronizedUpdate)?;
    term.draw(|f| *f.buffer_mut() = frame)?;
    queue!(term.backend_mut(), EndSynchronizedUpdate)?;
    std::io::Write::flush(term.backend_mut())
}
