//! The step relay: a small process (`warroom step-relay`, this same binary) between a
//! `command` step's program and its log file. It is the leader of the step's session and
//! process group; the program is its child, writing into a pipe the relay reads. Each line is
//! scrubbed of every secret the console knows (handed over on the relay's stdin, never in its
//! arguments or environment) and appended to the log (the relay's stdout, opened by the
//! console) until the log holds [`LOG_CAP`] bytes; the lines after that are counted, not kept,
//! and the count is the log's last line ([`trailer`]). The relay lives as long as the
//! program: a console that ends (SIGTERM, a dropped link, SIGKILL) does not end it, and it
//! ignores the signals a console's end or a cancel sends its group, so the program's last
//! words are still read and the program never dies of a broken pipe. It exits as the program
//! did (same code, or the same signal).

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::text::redact::scrub_known;

/// The hidden first argument that makes `warroom` a step relay: `warroom __step-relay --
/// <argv>`.
pub const ARG: &str = "__step-relay";

/// The most bytes a step log holds; what follows is counted, not kept.
pub const LOG_CAP: u64 = 64 << 20;

/// A line longer than this is written in pieces (a program writing a binary blob must not
/// grow the relay without bound); a piece never ends inside a known secret.
const LINE_MAX: usize = 64 * 1024;

/// The most bytes of secrets read from the relay's stdin.
const SECRETS_MAX: u64 = 4 << 20;

/// What went through the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Relayed {
    /// Every line the program printed (a last line without `\n` counts).
    pub lines: u64,
    /// Those in the log.
    pub kept: u64,
}

/// The counts as they grow: the copy runs on a thread of its own, and the relay may have to
/// say them before it ends (see [`main`]).
#[derive(Debug, Default)]
pub struct Counts {
    lines: AtomicU64,
    kept: AtomicU64,
}

impl Counts {
    pub fn now(&self) -> Relayed {
        Relayed {
            lines: self.lines.load(Ordering::Relaxed),
            kept: self.kept.load(Ordering::Relaxed),
        }
    }

    fn add(&self, lines: u64, kept: u64) {
        self.lines.fetch_add(lines, Ordering::Relaxed);
        self.kept.fetch_add(kept, Ordering::Relaxed);
    }
}

/// The log's last line when lines were not kept (for whoever reads the log; the console
/// gets the counts from the relay itself, never from the log, which the program writes).
pub fn trailer(r: &Relayed) -> Option<String> {
    let dropped = r.lines.saturating_sub(r.kept);
    (dropped > 0).then(|| {
        format!(
            "[warroom] the log is capped at {} MiB: {dropped} more lines were not kept\n",
            LOG_CAP >> 20
        )
    })
}

/// The count of lines not kept, from a log's last line.
pub fn parse_trailer(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("[warroom] the log is capped at ")?;
    let (_, rest) = rest.split_once(" MiB: ")?;
    rest.strip_suffix(" more lines were not kept")?.parse().ok()
}

/// Where to end a piece of a long line at or after `at`: never inside an occurrence of a
/// known secret (any letter case), never inside a UTF-8 character.
fn safe_cut(bytes: &[u8], at: usize) -> usize {
    let mut cut = at.min(bytes.len());
    loop {
        let before = cut;
        for k in crate::text::redact::known() {
            let k = k.as_bytes();
            if k.is_empty() || k.len() > bytes.len() {
                continue;
            }
            // Occurrences that start before the cut and end after it.
            let from = cut.saturating_sub(k.len() - 1);
            let last = (cut.saturating_sub(1)).min(bytes.len() - k.len());
            for i in from..=last {
                if i < cut && i + k.len() > cut && bytes[i..i + k.len()].eq_ignore_ascii_case(k) {
                    cut = i + k.len();
                }
            }
        }
        if cut == before {
            break;
        }
    }
    while cut < bytes.len() && (bytes[cut] & 0b1100_0000) == 0b1000_0000 {
        cut += 1;
    }
    cut
}

/// Copies `from` to `to` line by line, each scrubbed of the known secrets, until `cap` bytes
/// are written; the lines after that are counted in `counts`, not kept. Everything read is
/// in `to` (flushed) before the next read, which may block. Ends with the trailer if any line
/// was not kept.
pub fn copy_lines(
    mut from: impl Read,
    to: &mut impl Write,
    cap: u64,
    counts: &Counts,
) -> io::Result<()> {
    let longest = crate::text::redact::known()
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(0);
    let mut buf = vec![0u8; 256 * 1024];
    // The current line's bytes not yet written.
    let mut pending: Vec<u8> = Vec::new();
    let mut written = 0u64;
    let mut full = false;
    // The log ends inside a line (a long line's pieces): the trailer starts on a line of its
    // own.
    let mut mid_line = false;
    // Bytes came since the last newline (an unterminated last line counts).
    let mut open = false;
    let put = |bytes: &[u8], to: &mut dyn Write, written: &mut u64| -> io::Result<bool> {
        let text = String::from_utf8_lossy(bytes);
        let clean = scrub_known(&text);
        if *written + clean.len() as u64 > cap {
            return Ok(false);
        }
        to.write_all(clean.as_bytes())?;
        *written += clean.len() as u64;
        Ok(true)
    };
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        open = chunk[n - 1] != b'\n';
        if full {
            counts.add(chunk.iter().filter(|b| **b == b'\n').count() as u64, 0);
            continue;
        }
        let mut rest = chunk;
        while let Some(i) = rest.iter().position(|b| *b == b'\n') {
            pending.extend_from_slice(&rest[..=i]);
            rest = &rest[i + 1..];
            if put(&pending, to, &mut written)? {
                counts.add(1, 1);
                mid_line = false;
            } else {
                full = true;
                counts.add(1 + rest.iter().filter(|b| **b == b'\n').count() as u64, 0);
                rest = &[];
            }
            pending.clear();
            if full {
                break;
            }
        }
        if !full {
            pending.extend_from_slice(rest);
            // A long line goes out in pieces, each cut where no secret is still open.
            while pending.len() >= LINE_MAX + longest {
                let cut = safe_cut(&pending, LINE_MAX);
                if put(&pending[..cut], to, &mut written)? {
                    mid_line = true;
                    pending.drain(..cut);
                } else {
                    full = true;
                    pending.clear();
                }
            }
        }
        to.flush()?;
    }
    if open {
        // The last line, without its newline.
        if !full && !pending.is_empty() {
            pending.push(b'\n');
            if put(&pending, to, &mut written)? {
                counts.add(1, 1);
                mid_line = false;
            } else {
                counts.add(1, 0);
            }
        } else {
            counts.add(1, 0);
        }
    }
    if let Some(t) = trailer(&counts.now()) {
        if mid_line {
            to.write_all(b"\n")?;
        }
        to.write_all(t.as_bytes())?;
    }
    to.flush()
}

/// Reads the secrets the console hands over (one JSON array of strings, then the end of its
/// stdin) and learns them; `false` if they did not all come (the console ended first).
fn learn_from(stdin: impl Read) -> bool {
    let mut text = Vec::new();
    if stdin.take(SECRETS_MAX).read_to_end(&mut text).is_err() {
        return false;
    }
    match serde_json::from_slice::<Vec<String>>(&text) {
        Ok(secrets) => {
            crate::text::redact::learn_secrets(&secrets);
            true
        }
        Err(_) => false,
    }
}

/// The secrets as the relay reads them on its stdin.
pub fn secrets_for_relay() -> Vec<u8> {
    let mut out =
        serde_json::to_vec(crate::text::redact::known()).unwrap_or_else(|_| b"[]".to_vec());
    out.push(b'\n');
    out
}

/// `warroom __step-relay -- <argv>`: runs `argv`, relays its output to stdout (the log),
/// says the counts as one JSON line on stderr (the console's pipe), and exits as the
/// program did.
pub fn main(argv: &[std::ffi::OsString]) -> i32 {
    use nix::sys::signal::{SigHandler, Signal, signal};
    use std::os::unix::process::ExitStatusExt;
    // The signals a console's end or a cancel sends the group are the program's to act on;
    // the relay reads on until the program is gone. (Ignored dispositions are inherited
    // across exec: they are set back for the program below.)
    const IGNORED: [Signal; 4] = [
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGINT,
        Signal::SIGPIPE,
    ];
    let mut log = io::stdout();
    if !learn_from(io::stdin().lock()) {
        // Without them nothing could be scrubbed: the program is not started.
        let _ = writeln!(
            log,
            "[warroom] the console ended before it said what to scrub: the program was not started"
        );
        return 125;
    }
    let Some(program) = argv.first() else {
        let _ = writeln!(log, "[warroom] step relay: no program to run");
        return 2;
    };
    let (reader, writer) = match io::pipe() {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(log, "[warroom] step relay: cannot make a pipe: {e}");
            return 126;
        }
    };
    let mut command = std::process::Command::new(program);
    command.args(&argv[1..]).stdin(std::process::Stdio::null());
    let (out, err) = match writer.try_clone() {
        Ok(w2) => (writer, w2),
        Err(e) => {
            let _ = writeln!(log, "[warroom] step relay: cannot make a pipe: {e}");
            return 126;
        }
    };
    command.stdout(out).stderr(err);
    // SAFETY: runs in the forked child before exec: signal(2) only, async-signal-safe, no
    // allocation. The program gets the default dispositions back.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(|| {
            for s in IGNORED {
                let _ = signal(s, SigHandler::SigDfl);
            }
            Ok(())
        });
    }
    for s in IGNORED {
        // SAFETY: SIG_IGN installs no handler code.
        let _ = unsafe { signal(s, SigHandler::SigIgn) };
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(
                log,
                "[warroom] cannot start {}: {}",
                program.to_string_lossy(),
                super::io_reason(&e)
            );
            return if e.kind() == io::ErrorKind::NotFound {
                127
            } else {
                126
            };
        }
    };
    // Our copies of the pipe's write end go with `command`: the read ends at the program's
    // (and its children's) last close.
    drop(command);
    // The copy runs apart: a process the program left running in a session of its own may
    // hold the pipe open forever, and the step ends when the program does (as a step without
    // a relay would), its output read until then and for a moment after.
    let counts = std::sync::Arc::new(Counts::default());
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let copier = {
        let counts = counts.clone();
        std::thread::spawn(move || {
            // Few large writes (stdout alone flushes at each line); not locked for long, so
            // the last words below are never held up.
            let mut log = io::BufWriter::with_capacity(256 * 1024, io::stdout());
            if let Err(e) = copy_lines(&reader, &mut log, LOG_CAP, &counts) {
                // The log cannot be written (a full disk): the program must not block on a
                // full pipe, so what it prints is read, counted and dropped.
                let _ = writeln!(log, "[warroom] step relay: cannot write the log: {e}");
                let _ = log.flush();
                let mut sink = io::sink();
                let _ = copy_lines(&reader, &mut sink, 0, &counts);
            }
            let _ = done_tx.send(());
        })
    };
    let status = match child.wait() {
        Ok(s) => s,
        Err(_) => return 1,
    };
    match done_rx.recv_timeout(super::DRAIN_GRACE) {
        Ok(()) => {
            let _ = copier.join();
        }
        Err(_) => {
            let now = counts.now();
            let mut last = String::from(
                "\n[warroom] the program has ended; what the processes it left running print is not kept\n",
            );
            if let Some(t) = trailer(&now) {
                last.push_str(&t);
            }
            let _ = log.write_all(last.as_bytes());
            let _ = log.flush();
        }
    }
    // The counts, for the console only (the program never writes here).
    if let Ok(json) = serde_json::to_string(&counts.now()) {
        let _ = writeln!(io::stderr(), "{json}");
    }
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => {
            // Ended as the program did: by its signal.
            if let Ok(s) = Signal::try_from(sig) {
                // SAFETY: SIG_DFL installs no handler code.
                let _ = unsafe { signal(s, SigHandler::SigDfl) };
                let _ = nix::sys::signal::raise(s);
            }
            128 + sig
        }
        (None, None) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(input: &[u8], cap: u64) -> (String, Relayed) {
        let mut out = Vec::new();
        let counts = Counts::default();
        copy_lines(input, &mut out, cap, &counts).expect("copy");
        (String::from_utf8(out).expect("utf8"), counts.now())
    }

    #[test]
    fn every_line_is_kept_under_the_cap() {
        let (log, r) = relay(b"one\ntwo\nthree", 1 << 20);
        assert_eq!(log, "one\ntwo\nthree\n");
        assert_eq!(r, Relayed { lines: 3, kept: 3 });
        assert_eq!(trailer(&r), None);
    }

    #[test]
    fn past_the_cap_lines_are_counted_and_the_count_is_the_last_line() {
        let input: String = (1..=1000).map(|n| format!("line {n}\n")).collect();
        let (log, r) = relay(input.as_bytes(), 100);
        let lines: Vec<&str> = log.lines().collect();
        // "line 1\n" … "line 9\n" are 63 bytes; "line 10\n" … are 8 bytes each.
        assert_eq!(r.kept, 13, "{log}");
        assert_eq!(r.lines, 1000);
        assert_eq!(lines[..2], ["line 1", "line 2"]);
        assert_eq!(lines.len(), 14);
        assert_eq!(parse_trailer(lines[13]), Some(987), "{log}");
        // An unterminated last piece past the cap counts as a line.
        let (_, r) = relay(format!("{input}tail").as_bytes(), 100);
        assert_eq!(r.lines, 1001);
    }

    #[test]
    fn a_long_line_is_written_in_pieces_counted_once_and_an_invalid_byte_does_not_stop_it() {
        let mut input = vec![b'a'; 3 * LINE_MAX + 10];
        input.extend_from_slice(b"\n\xff\xfe ok\n");
        let (log, r) = relay(&input, 1 << 20);
        assert_eq!(r, Relayed { lines: 2, kept: 2 });
        assert_eq!(log.lines().next().map(str::len), Some(3 * LINE_MAX + 10));
        assert!(
            log.ends_with("\u{fffd}\u{fffd} ok\n"),
            "{}",
            &log[log.len() - 20..]
        );
    }

    #[test]
    fn a_long_line_capped_mid_way_leaves_the_trailer_on_a_line_of_its_own() {
        let mut input = vec![b'a'; 4 * LINE_MAX];
        input.extend_from_slice(b"\nnext\n");
        let (log, r) = relay(&input, 2 * LINE_MAX as u64);
        assert_eq!(r, Relayed { lines: 2, kept: 0 });
        let last = log.lines().last().unwrap_or_default();
        assert_eq!(parse_trailer(last), Some(2), "{}", &log[log.len() - 80..]);
    }

    #[test]
    fn a_piece_never_ends_inside_a_secret() {
        // (No secret is learned in this test process: the cut is checked alone.)
        let bytes = "héllo".as_bytes();
        // Inside the two bytes of é: moved past it.
        assert_eq!(safe_cut(bytes, 2), 3);
        assert_eq!(safe_cut(bytes, 1), 1);
        assert_eq!(safe_cut(bytes, 99), bytes.len());
    }

    #[test]
    fn a_line_that_is_not_the_trailer_is_not_read_as_one() {
        assert_eq!(
            parse_trailer("the log is capped at 64 MiB: 5 more lines"),
            None
        );
        assert_eq!(
            parse_trailer("[warroom] the log is capped at 64 MiB: x more lines were not kept"),
            None
        );
    }
}
