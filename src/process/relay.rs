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

use std::io::{self, BufRead, Read, Write};

use crate::text::redact::scrub_known;

/// The hidden first argument that makes `warroom` a step relay: `warroom __step-relay --
/// <argv>`.
pub const ARG: &str = "__step-relay";

/// The most bytes a step log holds; what follows is counted, not kept.
pub const LOG_CAP: u64 = 64 << 20;

/// A line longer than this is written in pieces of this many bytes (a program writing a
/// binary blob must not grow the relay without bound).
const LINE_MAX: usize = 64 * 1024;

/// The most bytes of secrets read from the relay's stdin.
const SECRETS_MAX: u64 = 4 << 20;

/// What went through the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Relayed {
    /// Every line the program printed (a last line without `\n` counts).
    pub lines: u64,
    /// Those in the log.
    pub kept: u64,
}

/// The log's last line when lines were not kept: what [`parse_trailer`] reads back.
pub fn trailer(r: &Relayed) -> Option<String> {
    let dropped = r.lines - r.kept;
    (dropped > 0).then(|| {
        format!(
            "[warroom] the log is capped at {} MiB: {dropped} more lines were not kept\n",
            LOG_CAP >> 20
        )
    })
}

/// The count of lines not kept, from a log's last line (only the relay writes past the cap).
pub fn parse_trailer(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("[warroom] the log is capped at ")?;
    let (_, rest) = rest.split_once(" MiB: ")?;
    rest.strip_suffix(" more lines were not kept")?.parse().ok()
}

/// Copies `from` to `to` line by line, each scrubbed of the known secrets, until `cap` bytes
/// are written; the lines after that are counted. Ends with the trailer if any was dropped.
pub fn copy_lines(from: impl Read, to: &mut impl Write, cap: u64) -> io::Result<Relayed> {
    let mut from = io::BufReader::with_capacity(256 * 1024, from);
    let mut r = Relayed::default();
    let mut written = 0u64;
    let mut line = Vec::new();
    let mut full = false;
    loop {
        if full {
            // Past the cap: newlines are counted in what is read, nothing is kept.
            let buf = from.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let n = buf.len();
            let newlines = buf.iter().filter(|b| **b == b'\n').count() as u64;
            let ends_line = buf[n - 1] == b'\n';
            r.lines += newlines;
            from.consume(n);
            // A last piece without a newline is a line too: counted at the end.
            line.clear();
            if !ends_line {
                line.push(b'x');
            }
            continue;
        }
        line.clear();
        let n = (&mut from)
            .take(LINE_MAX as u64)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            line.push(b'\n');
        }
        let text = String::from_utf8_lossy(&line);
        let clean = scrub_known(&text);
        let bytes = clean.as_bytes();
        if written + bytes.len() as u64 > cap {
            full = true;
            r.lines += 1;
            // The rest of a cut long line is this line's, not another.
            line.clear();
            continue;
        }
        to.write_all(bytes)?;
        written += bytes.len() as u64;
        r.lines += 1;
        r.kept += 1;
        if from.buffer().is_empty() {
            // Nothing more waiting: what was read is in the log for the console to read.
            to.flush()?;
        }
    }
    if full && !line.is_empty() {
        r.lines += 1;
    }
    if let Some(t) = trailer(&r) {
        to.write_all(t.as_bytes())?;
    }
    to.flush()?;
    Ok(r)
}

/// Reads the secrets the console hands over (one JSON string per line) and learns them.
fn learn_from(stdin: impl Read) {
    let mut secrets = Vec::new();
    for line in io::BufReader::new(stdin.take(SECRETS_MAX)).lines() {
        let Ok(line) = line else { break };
        if let Ok(s) = serde_json::from_str::<String>(&line) {
            secrets.push(s);
        }
    }
    crate::text::redact::learn_secrets(&secrets);
}

/// The secrets as the relay reads them on its stdin.
pub fn secrets_for_relay() -> Vec<u8> {
    let mut out = Vec::new();
    for s in crate::text::redact::known() {
        if let Ok(j) = serde_json::to_string(s) {
            out.extend_from_slice(j.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

/// `warroom step-relay -- <argv>`: runs `argv`, relays its output to stdout (the log), and
/// exits as it did.
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
    learn_from(io::stdin().lock());
    let mut log = io::stdout();
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
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let copier = std::thread::spawn(move || {
        // Few large writes (stdout alone flushes at each line); not locked for long, so the
        // last words below are never held up.
        let mut log = io::BufWriter::with_capacity(256 * 1024, io::stdout());
        if let Err(e) = copy_lines(&reader, &mut log, LOG_CAP) {
            // The log cannot be written (a full disk): the program must not block on a
            // full pipe, so what it prints is read and dropped.
            let _ = writeln!(log, "[warroom] step relay: cannot write the log: {e}");
            let _ = io::copy(&mut &reader, &mut io::sink());
        }
        let _ = done_tx.send(());
    });
    let status = match child.wait() {
        Ok(s) => s,
        Err(_) => return 1,
    };
    match done_rx.recv_timeout(super::DRAIN_GRACE) {
        Ok(()) => {
            let _ = copier.join();
        }
        Err(_) => {
            let _ = writeln!(
                log,
                "[warroom] the program has ended; what the processes it left running print is not kept"
            );
            let _ = log.flush();
        }
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
        let r = copy_lines(input, &mut out, cap).expect("copy");
        (String::from_utf8(out).expect("utf8"), r)
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
    fn a_long_line_is_written_in_pieces_and_an_invalid_byte_does_not_stop_it() {
        let mut input = vec![b'a'; LINE_MAX + 10];
        input.extend_from_slice(b"\n\xff\xfe ok\n");
        let (log, r) = relay(&input, 1 << 20);
        assert_eq!(r.lines, 3);
        assert!(
            log.ends_with("\u{fffd}\u{fffd} ok\n"),
            "{}",
            &log[log.len() - 20..]
        );
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
