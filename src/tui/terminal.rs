//! Owning the terminal: raw mode, alternate screen, bracketed paste, and giving all of it
//! back — on quit, on error, on panic, on SIGTERM and on SIGHUP.

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Whether the terminal is in our modes; restore runs once, whoever gets there first.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back as the shell expects it. Errors are ignored: after SIGHUP the
/// terminal may be gone, and there is nobody left to tell.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = io::stdout();
        let _ = execute!(
            out,
            DisableBracketedPaste,
            LeaveAlternateScreen,
            cursor::Show
        );
        let _ = disable_raw_mode();
        let _ = out.flush();
    }
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
pub fn enter() -> io::Result<(Tui, Guard)> {
    let hook = std::panic::take_hook();
    let console = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == console {
            restore();
            hook(info);
        } else {
            tracing::error!(
                thread = std::thread::current().name().unwrap_or("?"),
                "panic in a background task: {info}"
            );
        }
    }));
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let guard = Guard;
    let mut out = io::stdout();
    execute!(
        out,
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )?;
    let terminal = Terminal::new(CrosstermBackend::new(out))?;
    Ok((terminal, guard))
}
