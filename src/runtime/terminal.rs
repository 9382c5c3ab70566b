//! Owning the terminal: raw mode, alternate screen, bracketed paste, and giving all of it
//! back — on quit, on error, on panic, on SIGTERM and on SIGHUP.
//!
//! The terminal is the least reliable part of the console: an SSH link drops (every write
//! fails with EIO) or stalls (every write blocks). So:
//! - the console writes through [`Tty`], a handle of its own on the terminal: the first write
//!   that fails marks the terminal **gone**, and every write after that is dropped silently,
//!   so nothing (ratatui's `Drop` included, which prints with `eprintln!`) can panic on it;
//! - after SIGHUP or a gone terminal the console is **detached**: [`say`] prints nothing;
//! - giving the terminal back ([`restore`]) runs on a thread of its own with a deadline, so a
//!   link that no longer drains can never hold the console's ending.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};

/// Whether the terminal is in our modes; restore runs once, whoever gets there first.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// A write to the terminal failed (EIO: the SSH link is gone) or its input ended.
static GONE: AtomicBool = AtomicBool::new(false);
/// SIGHUP arrived, or the terminal is gone or stalled: nobody is reading what we print.
static DETACHED: AtomicBool = AtomicBool::new(false);

/// The terminal can no longer be written: every later write is dropped.
pub fn mark_gone() {
    GONE.store(true, Ordering::SeqCst);
    DETACHED.store(true, Ordering::SeqCst);
}

/// Nobody reads the terminal any more (SIGHUP, or a link that does not drain): nothing more
/// is printed to it but the best-effort restore.
pub fn mark_detached() {
    DETACHED.store(true, Ordering::SeqCst);
}

pub fn is_gone() -> bool {
    GONE.load(Ordering::SeqCst)
}

pub fn is_detached() -> bool {
    DETACHED.load(Ordering::SeqCst)
}

/// Prints one line to stderr, only while somebody can read it; a write that fails is ignored
/// (`eprintln!` would panic on a closed terminal).
pub fn say(line: &str) {
    if is_detached() {
        return;
    }
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// The console's own handle on the terminal (a duplicate of stdout, so a write stalled here
/// never holds the process-wide stdout lock). The first failed write marks the terminal gone;
/// later writes are dropped.
pub struct Tty {
    out: Option<File>,
}

impl Tty {
    pub fn new() -> Tty {
        let out = io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .map(File::from);
        Tty { out }
    }
}

impl Default for Tty {
    fn default() -> Self {
        Tty::new()
    }
}

impl Write for Tty {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(out) = self.out.as_mut().filter(|_| !is_gone()) else {
            return Ok(buf.len());
        };
        match out.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                mark_gone();
                Err(e)
            }
            Ok(0) if !buf.is_empty() => {
                mark_gone();
                Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the terminal took nothing",
                ))
            }
            ok => ok,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.out.as_mut().filter(|_| !is_gone()) {
            Some(out) => out.flush().inspect_err(|_| mark_gone()),
            None => Ok(()),
        }
    }
}

/// Puts the terminal back as the shell expects it, waiting at most `deadline` for the writes
/// (a stalled link would block them forever). Errors are ignored: after SIGHUP the terminal
/// may be gone, and there is nobody left to tell. Raw mode is left at once either way (a
/// `tcsetattr`, which does not wait for output to drain).
pub fn restore_within(deadline: Duration) {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let (done_tx, done) = std::sync::mpsc::channel();
    let writes = std::thread::Builder::new()
        .name("restore".into())
        .spawn(move || {
            let mut out = Tty::new();
            let _ = execute!(
                out,
                DisableBracketedPaste,
                LeaveAlternateScreen,
                cursor::Show
            );
            let _ = out.flush();
            let _ = done_tx.send(());
        });
    if writes.is_ok() && done.recv_timeout(deadline).is_err() {
        tracing::warn!("the terminal did not take the restore within {deadline:?}");
        mark_detached();
    }
    let _ = disable_raw_mode();
}

/// [`restore_within`] two seconds.
pub fn restore() {
    restore_within(Duration::from_secs(2));
}

/// Restores the terminal when dropped, so every way out of the console gives it back.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Takes the terminal and installs a panic hook that restores it before the panic message
/// is printed (otherwise the message is lost in the alternate screen). Only a panic of the
/// console's own thread ends the console: one in a background task (caught there, the task
/// goes on or ends alone) is logged, not printed over the screen, and the terminal is kept.
/// Without a reader (detached) a panic is logged only.
pub fn enter() -> io::Result<Guard> {
    let hook = std::panic::take_hook();
    let console = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current().name().unwrap_or("?").to_string();
        if std::thread::current().id() == console {
            tracing::error!(thread, "panic in the console: {info}");
            restore_within(Duration::from_secs(1));
            if !is_detached() {
                hook(info);
            }
        } else {
            tracing::error!(thread, "panic in a background task: {info}");
        }
    }));
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let guard = Guard;
    let mut out = Tty::new();
    execute!(
        out,
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )?;
    Ok(guard)
}

/// Whether the locale's character set is UTF-8: the first of `LC_ALL`, `LC_CTYPE`, `LANG`
/// that is set says (none set: the C locale, not UTF-8).
pub fn utf8_locale() -> bool {
    utf8_in(|k| std::env::var(k).ok())
}

fn utf8_in(var: impl Fn(&str) -> Option<String>) -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|k| var(k).filter(|v| !v.is_empty()))
        .is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
}

/// Whether the terminal knows 16 colours at most, by `TERM` (and `COLORTERM`): `linux`,
/// `vt100`, `xterm`, `screen`… without `256color` or a truecolor claim.
pub fn sixteen_colours() -> bool {
    sixteen_in(
        std::env::var("TERM").ok().as_deref(),
        std::env::var("COLORTERM").ok().as_deref(),
    )
}

fn sixteen_in(term: Option<&str>, colorterm: Option<&str>) -> bool {
    if colorterm.is_some_and(|c| c == "truecolor" || c == "24bit") {
        return false;
    }
    let Some(term) = term else {
        return true;
    };
    let rich = [
        "256color",
        "truecolor",
        "direct",
        "kitty",
        "alacritty",
        "wezterm",
        "foot",
        "iterm",
    ];
    !rich.iter().any(|r| term.contains(r))
}

#[cfg(test)]
mod locale_tests {
    use super::*;

    #[test]
    fn utf8_comes_from_the_first_locale_variable_set() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(utf8_in(env(&[("LANG", "en_US.UTF-8")])));
        assert!(utf8_in(env(&[("LANG", "C.utf8")])));
        assert!(!utf8_in(env(&[("LANG", "C")])));
        assert!(!utf8_in(env(&[])), "no locale: C");
        assert!(!utf8_in(env(&[("LC_ALL", "C"), ("LANG", "en_US.UTF-8")])));
        assert!(utf8_in(env(&[
            ("LC_ALL", ""),
            ("LC_CTYPE", "de_DE.UTF-8"),
            ("LANG", "C")
        ])));
    }

    #[test]
    fn sixteen_colours_unless_the_terminal_says_more() {
        for t in ["linux", "vt100", "vt220", "xterm", "screen", "ansi"] {
            assert!(sixteen_in(Some(t), None), "{t}");
        }
        for t in [
            "xterm-256color",
            "tmux-256color",
            "xterm-kitty",
            "alacritty",
        ] {
            assert!(!sixteen_in(Some(t), None), "{t}");
        }
        assert!(!sixteen_in(Some("xterm"), Some("truecolor")));
    }
}
