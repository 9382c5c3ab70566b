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

/// The writer's own terminal: frames buffered, colours fitted to the terminal, then the tty.
type FrameTerminal = Terminal<CrosstermBackend<Sgr16<BufWriter<Tty>>>>;

/// What a frame is gathered in before it goes to the terminal in one write.
const FRAME_BUFFER: usize = 64 * 1024;

#[derive(Default)]
struct CellSlot {
    frame: Option<Buffer>,
    stop: bool,
}

struct Shared {
    slot: Mutex<CellSlot>,
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
    /// `ansi16`: the terminal knows 16 colours only ([`Sgr16`]).
    pub fn start(
        gone: mpsc::UnboundedSender<String>,
        ansi16: bool,
    ) -> std::io::Result<FrameWriter> {
        let shared = Arc::new(Shared {
            slot: Mutex::new(CellSlot::default()),
            wake: Condvar::new(),
            epoch: Instant::now(),
            busy_since: AtomicU64::new(0),
        });
        let (done_tx, done) = std::sync::mpsc::channel();
        let inner = shared.clone();
        let handle = std::thread::Builder::new()
            .name("terminal".into())
            .spawn(move || {
                write_frames(&inner, &gone, ansi16);
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
fn write_frames(shared: &Shared, gone: &mpsc::UnboundedSender<String>, ansi16: bool) {
    let mut terminal: Option<(FrameTerminal, Rect)> = None;
    write_until_stopped(shared, gone, &mut terminal, ansi16);
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
    terminal: &mut Option<(FrameTerminal, Rect)>,
    ansi16: bool,
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
        let written = write_frame(terminal, frame, ansi16);
        shared.busy_since.store(0, Ordering::SeqCst);
        if let Err(e) = written {
            let _ = gone.send(e.to_string());
            return;
        }
    }
}

fn write_frame(
    terminal: &mut Option<(FrameTerminal, Rect)>,
    frame: Buffer,
    ansi16: bool,
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
                CrosstermBackend::new(Sgr16::new(
                    BufWriter::with_capacity(FRAME_BUFFER, Tty::new()),
                    ansi16,
                )),
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

/// What goes to a terminal of 16 colours: crossterm writes even the 16 named colours as
/// `38;5;N` / `48;5;N`, which such a terminal (the Linux console, a vt100) does not know;
/// they become `3N`/`9N` and `4N`/`10N`. Inactive, it passes everything through.
pub struct Sgr16<W: std::io::Write> {
    inner: W,
    active: bool,
    /// An escape sequence being gathered (crossterm writes one in several pieces).
    pending: Vec<u8>,
}

impl<W: std::io::Write> Sgr16<W> {
    pub fn new(inner: W, active: bool) -> Sgr16<W> {
        Sgr16 {
            inner,
            active,
            pending: Vec::new(),
        }
    }

    /// An SGR's parameters with 16-colour codes for the palette's first 16 entries.
    fn rewrite(params: &str) -> String {
        let parts: Vec<&str> = params.split(';').collect();
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        while i < parts.len() {
            let n = parts.get(i + 2).and_then(|n| n.parse::<u8>().ok());
            match (parts[i], parts.get(i + 1), n) {
                ("38", Some(&"5"), Some(n)) if n < 16 => {
                    out.push(if n < 8 { 30 + n } else { 90 + n - 8 }.to_string());
                    i += 3;
                }
                ("48", Some(&"5"), Some(n)) if n < 16 => {
                    out.push(
                        if n < 8 {
                            40 + u16::from(n)
                        } else {
                            100 + u16::from(n) - 8
                        }
                        .to_string(),
                    );
                    i += 3;
                }
                (p, _, _) => {
                    out.push(p.to_string());
                    i += 1;
                }
            }
        }
        out.join(";")
    }

    fn finish_sequence(&mut self) -> std::io::Result<()> {
        let seq = std::mem::take(&mut self.pending);
        if seq.len() > 3 && seq.starts_with(b"\x1b[") && seq.ends_with(b"m") {
            let params = String::from_utf8_lossy(&seq[2..seq.len() - 1]).into_owned();
            let rewritten = format!("\x1b[{}m", Self::rewrite(&params));
            return self.inner.write_all(rewritten.as_bytes());
        }
        self.inner.write_all(&seq)
    }
}

impl<W: std::io::Write> std::io::Write for Sgr16<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.active {
            return self.inner.write(buf);
        }
        let mut plain = 0;
        for (i, &b) in buf.iter().enumerate() {
            if self.pending.is_empty() {
                if b == 0x1b {
                    self.inner.write_all(&buf[plain..i])?;
                    self.pending.push(b);
                }
                continue;
            }
            self.pending.push(b);
            plain = i + 1;
            let csi = self.pending.len() >= 2 && self.pending[1] == b'[';
            let done = if self.pending.len() == 2 {
                !csi
            } else {
                (0x40..=0x7e).contains(&b) || self.pending.len() > 64
            };
            if done {
                self.finish_sequence()?;
            }
        }
        if self.pending.is_empty() {
            self.inner.write_all(&buf[plain..])?;
        }
        Ok(buf.len())
    }

    // A sequence cut by a flush is finished by the writes that follow (a frame always ends
    // with a whole one).
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod sgr16_tests {
    use super::*;
    use std::io::Write;

    fn through(pieces: &[&str], active: bool) -> String {
        let mut w = Sgr16::new(Vec::new(), active);
        for p in pieces {
            w.write_all(p.as_bytes()).expect("write");
        }
        w.flush().expect("flush");
        String::from_utf8(w.inner).expect("utf8")
    }

    #[test]
    fn palette_colours_become_sixteen_colour_codes_even_in_pieces() {
        assert_eq!(
            through(
                &[
                    "ab\x1b[",
                    "38;5;1",
                    "m",
                    "x\x1b[48;5;12mY\x1b[1;38;5;9;48;5;0mZ"
                ],
                true
            ),
            "ab\x1b[31mx\x1b[104mY\x1b[1;91;40mZ"
        );
        // Other sequences and text pass untouched; 256-colour indexes above 15 too.
        assert_eq!(
            through(&["\x1b[2J\x1b[?2026h", "\x1b[38;5;200mq"], true),
            "\x1b[2J\x1b[?2026h\x1b[38;5;200mq"
        );
        assert_eq!(through(&["\x1b[38;5;1m"], false), "\x1b[38;5;1m");
    }
}
