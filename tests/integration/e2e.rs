//! The real binary in a pseudo-terminal: what an operator sees and what the terminal is
//! left in afterwards.

use std::time::Duration;

use crate::support::pty::Pty;
use nix::sys::signal::Signal;

const PATIENCE: Duration = Duration::from_secs(20);

fn drill(cols: u16, rows: u16, extra: &[&str]) -> (Pty, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["drill"];
    args.extend_from_slice(extra);
    let pty = Pty::spawn(&args, cols, rows, dir.path(), &[]);
    (pty, dir)
}

#[test]
fn the_drill_shows_the_failed_primary_database_and_the_raised_severity() {
    let (pty, _dir) = drill(80, 24, &["--speed", "10"]);
    pty.wait_for_all(&["[RW]", "DRILL"], PATIENCE)
        .expect("the header");
    let screen = pty
        .wait_for_all(&["✖ DOWN", "Timeline"], PATIENCE)
        .expect("a component goes down in the region outage");
    let db_row = screen
        .lines()
        .find(|l| l.contains("db-primary") && l.contains("DOWN"));
    assert!(
        db_row.is_some(),
        "the primary database is shown DOWN:\n{screen}"
    );
    let header = screen.lines().next().unwrap_or_default();
    assert!(
        header.contains("CRITICAL") || header.contains("EMERGENCY"),
        "the severity is raised:\n{screen}"
    );
}

#[test]
fn question_mark_shows_the_help_and_q_quits_restoring_the_terminal() {
    let (mut pty, _dir) = drill(80, 24, &[]);
    pty.wait_for("[RW]", PATIENCE).expect("the first frame");
    pty.send(b"?");
    pty.wait_for_all(&["this help", "filter components"], PATIENCE)
        .expect("the help overlay");
    pty.send(b"x");
    pty.wait_gone("this help", PATIENCE)
        .expect("any key closes the help");
    // While the console runs, the terminal is in its modes: the check below can fail.
    let running = pty.restored().expect_err("the console owns the terminal");
    assert_eq!(
        running,
        "still in the alternate screen, cursor still hidden, bracketed paste still on, still in raw mode"
    );
    pty.send(b"q");
    assert_eq!(pty.wait_exit(PATIENCE), Some(0), "q exits 0");
    pty.restored().expect("the terminal is restored after q");
}

#[test]
fn the_filter_narrows_the_health_panel() {
    let (mut pty, _dir) = drill(80, 24, &[]);
    pty.wait_for("web-apps", PATIENCE)
        .expect("the health panel");
    pty.send(b"/cache");
    pty.wait_for("/cache_", PATIENCE).expect("the filter line");
    pty.send(b"\r");
    let screen = pty
        .wait_for("/cache (1 of 8)", PATIENCE)
        .expect("the health panel says how many components the filter keeps");
    // The health panel's rows: between its header row and its bottom border.
    let rows: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("Component"))
        .skip(1)
        .take_while(|l| !l.contains("━━━"))
        .filter(|l| {
            !l.trim_matches(|c: char| c == '┃' || c.is_whitespace())
                .is_empty()
        })
        .collect();
    assert_eq!(rows.len(), 1, "{screen}");
    assert!(rows[0].contains("cache-redis"), "{screen}");
    pty.send(b"q");
    assert_eq!(pty.wait_exit(PATIENCE), Some(0));
}

#[test]
fn sigterm_restores_the_terminal() {
    let (mut pty, _dir) = drill(80, 24, &[]);
    pty.wait_for("[RW]", PATIENCE).expect("the first frame");
    pty.signal(Signal::SIGTERM);
    assert!(
        pty.wait_exit(PATIENCE).is_some(),
        "SIGTERM ends the console"
    );
    pty.restored()
        .expect("the terminal is restored after SIGTERM");
}

#[test]
fn sighup_ends_the_console_and_restores_the_terminal() {
    let (mut pty, _dir) = drill(80, 24, &[]);
    pty.wait_for("[RW]", PATIENCE).expect("the first frame");
    pty.signal(Signal::SIGHUP);
    assert!(pty.wait_exit(PATIENCE).is_some(), "SIGHUP ends the console");
    pty.restored()
        .expect("the terminal is restored after SIGHUP");
}

#[test]
fn read_only_shows_the_ro_badge_and_its_panels_at_200x50() {
    let (mut pty, _dir) = drill(200, 50, &["--read-only"]);
    let screen = pty
        .wait_for_all(&["[RO]", "Health", "Timeline"], PATIENCE)
        .expect("the RO badge and the panels");
    assert!(!screen.contains("[RW]"), "{screen}");
    pty.send(b"q");
    assert_eq!(pty.wait_exit(PATIENCE), Some(0));
}

#[test]
fn nothing_is_printed_after_the_terminal_is_given_back() {
    let (mut pty, _dir) = drill(80, 24, &[]);
    pty.wait_for("[RW]", PATIENCE).expect("the first frame");
    pty.send(b"q");
    assert_eq!(pty.wait_exit(PATIENCE), Some(0));
    let raw = pty.raw();
    // Every frame is wrapped in synchronized output (CSI ?2026 h … l).
    let begin = raw.windows(8).filter(|w| w == b"\x1b[?2026h").count();
    let end = raw.windows(8).filter(|w| w == b"\x1b[?2026l").count();
    assert!(
        begin >= 1 && begin == end,
        "synchronized output: {begin} begins, {end} ends"
    );
    // The last thing written is the restore (leave the alternate screen, show the cursor).
    let leave = b"\x1b[?1049l";
    let at = raw
        .windows(leave.len())
        .rposition(|w| w == leave)
        .expect("the alternate screen is left");
    let after = String::from_utf8_lossy(&raw[at + leave.len()..]).to_string();
    assert!(
        without_csi(&after).trim().is_empty(),
        "text after the restore: {after:?}"
    );
}

/// The text with CSI escape sequences (`ESC [ … final`) taken out.
fn without_csi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn every_frame_of_a_drill_begins_with_drill_at_80x24_and_40x12() {
    for (cols, rows) in [(80u16, 24u16), (40, 12)] {
        let (mut pty, _dir) = drill(cols, rows, &[]);
        pty.wait_for("[RW]", PATIENCE).expect("a first frame");
        // Later frames too (the clock ticks every second): DRILL stays first.
        let drawn = pty.bytes();
        let deadline = std::time::Instant::now() + PATIENCE;
        while pty.bytes() < drawn + 16 {
            assert!(std::time::Instant::now() < deadline, "no later frame");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(200));
        let screen = pty.screen();
        let first = screen.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("DRILL [RW]"),
            "{cols}x{rows}: the first line is {first:?}:\n{screen}"
        );
        pty.send(b"q");
        assert!(pty.wait_exit(PATIENCE).is_some());
    }
}

/// Without a terminal (`ssh -T`, a pipe) or with `TERM=dumb`, one clear line and exit 64 —
/// not an OS error number.
#[test]
fn without_a_terminal_it_says_so_and_exits_64() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .arg("drill")
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env("TERM", "xterm-256color")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "warroom needs a terminal; for scripts use 'warroom status'"
    );
    let mut pty = Pty::spawn(&["drill"], 80, 24, dir.path(), &[("TERM", "dumb")]);
    pty.wait_for("warroom needs a terminal", PATIENCE)
        .expect("said on the dumb terminal");
    assert_eq!(pty.wait_exit(PATIENCE), Some(64));
}

/// The first byte at or above 0x80 the program wrote, with what came before it.
fn first_high_byte(raw: &[u8]) -> Option<String> {
    raw.iter().position(|b| *b >= 0x80).map(|i| {
        String::from_utf8_lossy(&raw[i.saturating_sub(40)..(i + 8).min(raw.len())]).into_owned()
    })
}

/// A terminal that is not UTF-8 (`LANG=C`, or `LC_ALL=C` over a UTF-8 `LANG`) gets ASCII
/// only: a UTF-8 box corner carries a C1 byte an 8-bit terminal obeys.
#[test]
fn a_c_locale_gets_no_byte_above_ascii() {
    for env in [
        vec![("LANG", "C")],
        vec![("LANG", "en_US.UTF-8"), ("LC_ALL", "C")],
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut pty = Pty::spawn(&["drill", "--speed", "10"], 80, 24, dir.path(), &env);
        pty.wait_for_all(&["DRILL", "CRITICAL"], PATIENCE)
            .expect("the drill, drawn");
        pty.send(b"?");
        pty.wait_for("this help", PATIENCE).expect("the help");
        pty.send(b"q");
        assert!(pty.wait_exit(PATIENCE).is_some());
        if let Some(at) = first_high_byte(&pty.raw()) {
            panic!("{env:?}: a byte above 0x7f: {at:?}");
        }
    }
}

/// `--ascii` in a UTF-8 locale: no byte above ASCII across the screen, the help, a dialog,
/// the composer and a step's modal.
#[test]
fn ascii_sends_only_ascii_across_help_dialogs_and_the_composer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pty = Pty::spawn(
        &["drill", "--ascii", "--speed", "10"],
        120,
        40,
        dir.path(),
        &[],
    );
    pty.wait_for_all(&["DRILL", "watch log"], PATIENCE)
        .expect("the drill");
    pty.send(b"?");
    pty.wait_for("this help", PATIENCE).expect("the help");
    // Any key closes the help (not Esc: followed at once by `d` it reads as Alt-d).
    pty.send(b" ");
    pty.wait_gone("this help", PATIENCE)
        .expect("the help closed");
    pty.send(b"d");
    pty.wait_for("Declare an incident", PATIENCE)
        .expect("the dialog");
    pty.send(b"region down\r");
    pty.wait_for("investigating: region down", PATIENCE)
        .expect("declared");
    pty.send(b"u");
    pty.wait_for("Exactly what is sent", PATIENCE)
        .expect("the composer");
    pty.send(b"\x1b");
    pty.wait_gone("Exactly what is sent", PATIENCE)
        .expect("the composer closed");
    // A step's modal (the first runbook's first step).
    pty.send(b"i");
    pty.wait_for("Run a step", PATIENCE)
        .expect("the step modal");
    pty.send(b"\x1b");
    pty.wait_gone("Run a step", PATIENCE)
        .expect("the modal closed");
    pty.send(b"q");
    assert!(pty.wait_exit(PATIENCE).is_some());
    if let Some(at) = first_high_byte(&pty.raw()) {
        panic!("a byte above 0x7f: {at:?}");
    }
}

/// `TERM=linux` (16 colours) never gets a 256-colour or RGB sequence, even from a theme
/// written in RGB; the same theme on `xterm-256color` does (the control).
#[test]
fn a_sixteen_colour_terminal_gets_no_palette_or_rgb_sequences() {
    for (term, rich) in [("linux", false), ("xterm-256color", true)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut pty = Pty::spawn(
            &["drill", "--theme", "solarized-dark", "--speed", "10"],
            80,
            24,
            dir.path(),
            &[("TERM", term), ("COLORTERM", "")],
        );
        pty.wait_for_all(&["DRILL", "CRITICAL"], PATIENCE)
            .expect("the drill, drawn");
        pty.send(b"q");
        assert!(pty.wait_exit(PATIENCE).is_some());
        let raw = String::from_utf8_lossy(&pty.raw()).into_owned();
        let sent = raw.contains("38;5;") || raw.contains("38;2;") || raw.contains("48;2;");
        assert_eq!(sent, rich, "TERM={term}");
    }
}

/// At 40×12 the drill shows the emergency view — every component not UP, its state word
/// whole — and a step key opens nothing.
#[test]
fn a_small_terminal_gets_the_emergency_view_and_no_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut link =
        crate::support::link::Link::warroom(&["drill", "--speed", "10"], 40, 12, dir.path(), &[]);
    let screen = link
        .wait_for_all(&["DRILL", "✖ DOWN", "too small for steps"], PATIENCE)
        .expect("the emergency view");
    assert!(
        screen
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("DRILL")),
        "{screen}"
    );
    // The first runbook's first step key, typed: refused and said.
    link.send(b"i");
    link.wait_for("[i] Identify", PATIENCE)
        .expect("the refusal, said");
    // The emergency view draws no modal at all: grown back to 120×40, the screen shows
    // whether one was opened.
    link.resize(120, 40);
    let screen = link
        .wait_for("Runbooks", PATIENCE)
        .expect("the full layout again");
    assert!(!screen.contains("Run a step"), "{screen}");
    link.send(b"q");
    assert!(link.wait_exit(PATIENCE).is_some());
}

/// In the default drill (a region outage) the header suggests L3 from where the failures
/// are, before anything is declared.
#[test]
fn a_region_outage_suggests_level_3() {
    let (mut pty, _dir) = drill(200, 50, &["--speed", "10"]);
    pty.wait_for(
        "suggested: L3 l3-region-failover (region us-east-1:",
        PATIENCE,
    )
    .expect("the suggestion in the header");
    pty.send(b"q");
    assert!(pty.wait_exit(PATIENCE).is_some());
}
