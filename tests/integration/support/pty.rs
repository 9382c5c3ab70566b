//! A pseudo-terminal harness: spawn the real `warroom` binary at a size, send keys, read the
//! screen as a terminal would show it (vt100), and check what it left behind on exit.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub struct Pty {
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    bytes: Arc<AtomicUsize>,
    raw: Arc<Mutex<Vec<u8>>>,
    reader: Option<thread::JoinHandle<()>>,
}

impl Pty {
    /// Runs `warroom ARGS` in a `cols`×`rows` terminal, in `dir`, with `env` added.
    pub fn spawn(
        args: &[&str],
        cols: u16,
        rows: u16,
        dir: &std::path::Path,
        env: &[(&str, &str)],
    ) -> Pty {
        Pty::spawn_program(env!("CARGO_BIN_EXE_warroom"), args, cols, rows, dir, env)
    }

    /// Runs `program ARGS` the same way (the terminal benchmark's peer).
    pub fn spawn_program(
        program: &str,
        args: &[&str],
        cols: u16,
        rows: u16,
        dir: &std::path::Path,
        env: &[(&str, &str)],
    ) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.cwd(dir);
        cmd.env("TERM", "xterm-256color");
        // A UTF-8 terminal, whatever the machine running the tests has (a test for another
        // locale sets its own).
        cmd.env("LANG", "C.UTF-8");
        cmd.env_remove("LC_ALL");
        cmd.env_remove("LC_CTYPE");
        cmd.env("HOME", dir);
        cmd.env("XDG_CONFIG_HOME", dir.join("xdg-config"));
        cmd.env("XDG_STATE_HOME", dir.join("xdg-state"));
        cmd.env("XDG_DATA_HOME", dir.join("xdg-data"));
        cmd.env_remove("NO_COLOR");
        cmd.env_remove("WARROOM_CONFIG");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn the program");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let size = |n: u16| std::num::NonZeroU16::new(n).expect("a terminal is at least 1×1");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(size(rows), size(cols), 0)));
        let bytes = Arc::new(AtomicUsize::new(0));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (p, b, r) = (parser.clone(), bytes.clone(), raw.clone());
        let reader = thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        b.fetch_add(n, Ordering::SeqCst);
                        if let Ok(mut raw) = r.lock() {
                            raw.extend_from_slice(&buf[..n]);
                        }
                        if let Ok(mut p) = p.lock() {
                            p.process(&buf[..n]);
                        }
                    }
                }
            }
        });
        Pty {
            master: pair.master,
            child,
            writer,
            parser,
            bytes,
            raw,
            reader: Some(reader),
        }
    }

    pub fn send(&mut self, input: &[u8]) {
        self.writer.write_all(input).expect("write to the pty");
        self.writer.flush().expect("flush the pty");
    }

    /// The screen as text, rows joined by newlines.
    pub fn screen(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Bytes the program has written so far.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::SeqCst)
    }

    pub fn raw(&self) -> Vec<u8> {
        self.raw.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Waits until the screen shows `needle`; the screen on failure, to say what it showed.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> Result<String, String> {
        self.wait_for_all(&[needle], timeout)
    }

    /// Waits until the screen shows every needle at once (a frame arrives in pieces, so
    /// one needle seen does not mean the rest of the frame is there yet).
    pub fn wait_for_all(&self, needles: &[&str], timeout: Duration) -> Result<String, String> {
        wait_for_screen(|| self.screen(), needles, timeout)
    }

    /// Waits until the screen no longer shows `needle`.
    pub fn wait_gone(&self, needle: &str, timeout: Duration) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if !screen.contains(needle) {
                return Ok(screen);
            }
            if Instant::now() > deadline {
                return Err(format!("screen still shows {needle:?}:\n{screen}"));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.process_id().expect("child pid") as i32
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), signal)
            .expect("send signal");
    }

    /// The exit code, once the program has ended (`None` if it did not within `timeout`).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<u32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader take the last bytes (the terminal restore) first.
                thread::sleep(Duration::from_millis(100));
                return Some(status.exit_code());
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the program gave the terminal back: main screen, cursor shown, bracketed
    /// paste off, and the line discipline out of raw mode (canonical input and echo).
    pub fn restored(&self) -> Result<(), String> {
        let parser = self.parser.lock().map_err(|_| "parser poisoned")?;
        let screen = parser.screen();
        let mut wrong = Vec::new();
        if screen.alternate_screen() {
            wrong.push("still in the alternate screen");
        }
        if screen.hide_cursor() {
            wrong.push("cursor still hidden");
        }
        if screen.bracketed_paste() {
            wrong.push("bracketed paste still on");
        }
        match self.master.get_termios() {
            Some(termios) => {
                let flags = termios.local_flags.bits() as nix::libc::tcflag_t;
                if flags & nix::libc::ICANON == 0 || flags & nix::libc::ECHO == 0 {
                    wrong.push("still in raw mode");
                }
            }
            None => wrong.push("the terminal modes cannot be read"),
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong.join(", "))
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            // The reader ends when the pty closes; do not hang a failing test on it.
            drop(reader);
        }
    }
}

/// Waits until `screen()` shows every needle at once (a frame arrives in pieces, so one needle
/// seen does not mean the rest of the frame is there yet); the screen on failure, to say what
/// it showed.
pub fn wait_for_screen(
    screen: impl Fn() -> String,
    needles: &[&str],
    timeout: Duration,
) -> Result<String, String> {
    let deadline = Instant::now() + timeout;
    loop {
        let shown = screen();
        if needles.iter().all(|n| shown.contains(n)) {
            return Ok(shown);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "screen never showed all of {needles:?}; it showed:\n{shown}"
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
}
