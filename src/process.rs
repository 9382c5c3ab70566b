//! Runs a program as a child process, the one way every part of warroom does it (command
//! probes now, runbook `command` steps later).
//!
//! - Never through a shell: `argv[0]` is the program (looked up in `PATH` when it has no
//!   slash), the rest are its arguments, passed as they are.
//! - stdin is `/dev/null`, and the child runs in a session of its own (`setsid`), so it has no
//!   controlling terminal: an `ssh`, `sudo` or `aws sso` prompt can never grab the operator's
//!   terminal or wait for a key nobody will press.
//! - The child's session is also its process group (pgid = its pid), and that group never
//!   outlives the run: it is killed (`SIGKILL`) on timeout, when the future is dropped (the
//!   probe scheduler enforces its timeout by dropping), and after the program exits (whatever
//!   it left running in its group would have no one to read its output). A daemon that must
//!   outlive the step has to start a session of its own.
//! - stdout and stderr are captured, each bounded to `output_limit` bytes: the first half of
//!   the limit is kept from the head, the second half from the tail, and the middle is
//!   replaced by a line saying how much was left out. The first line says what the program
//!   is about, the last ones why it failed.
//! - [`run_streaming`] also hands every line to a callback as it comes (the runbook step log
//!   shows output live). Lines are untrusted text: sanitize before drawing.
//! - The environment is the console's minus every variable the config names as a secret
//!   ([`withhold_from_children`]; a step gets one only by listing it in its own `env`), plus
//!   `env`. Every line and capture is scrubbed of every secret the console knows.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// The environment variables no child gets (the ones the config names as secrets).
static WITHHELD: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

/// Children of this console never get these variables (the config's `token_env`,
/// `api_key_env`, `webhook_url_env`, `url_env`, `dsn_env`, `headers_env` names), unless a
/// step lists one in its own `env`.
pub fn withhold_from_children<S: AsRef<str>>(names: &[S]) {
    if let Ok(mut w) = WITHHELD.write() {
        for n in names {
            let n = n.as_ref().to_string();
            if !n.is_empty() && !w.contains(&n) {
                w.push(n);
            }
        }
    }
}

/// How long, after the program exited (or was killed), the output pipes are still read: a
/// process outside its group (one that started its own session) may hold them open forever.
pub const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// A line longer than this is handed to the callback in pieces of this many bytes.
pub const MAX_LINE: usize = 4096;

/// Which output a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// How the program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it (the number).
    Signal(i32),
}

impl Exit {
    fn from_status(status: ExitStatus) -> Exit {
        match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(signal)) => Exit::Signal(signal),
            // Neither a code nor a signal does not happen on Unix for a waited child.
            (None, None) => Exit::Code(-1),
        }
    }

    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
}

impl fmt::Display for Exit {
    /// "exit 2", "killed by SIGKILL".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exit::Code(code) => write!(f, "exit {code}"),
            Exit::Signal(n) => match Signal::try_from(n) {
                Ok(signal) => write!(f, "killed by {}", signal.as_str()),
                Err(_) => write!(f, "killed by signal {n}"),
            },
        }
    }
}

/// One output stream as captured: its head and tail within the limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The text (invalid UTF-8 replaced). When output was left out, a line
    /// `… N bytes left out …` stands between the head and the tail.
    pub text: String,
    /// How many bytes were left out of the middle (0 when everything was kept).
    pub omitted: u64,
}

impl Captured {
    /// The first line that is not blank, trimmed.
    pub fn first_line(&self) -> Option<&str> {
        self.text.lines().map(str::trim).find(|l| !l.is_empty())
    }

    /// The last line that is not blank, trimmed.
    pub fn last_line(&self) -> Option<&str> {
        self.text.lines().map(str::trim).rfind(|l| !l.is_empty())
    }
}

/// A program that ran to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub exit: Exit,
    pub stdout: Captured,
    pub stderr: Captured,
    /// From the spawn to the exit.
    pub elapsed: Duration,
    /// What its relay wrote to its log ([`run_logged`] only).
    pub logged: Option<relay::Relayed>,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.exit.success()
    }
}

/// Why a program did not run to its end. Every variant names the program (`argv[0]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    #[error("no program to run (empty argv)")]
    EmptyArgv,
    #[error("{program}: program not found")]
    NotFound { program: String },
    #[error("{program}: permission denied (not executable?)")]
    PermissionDenied { program: String },
    #[error("{program}: working directory {cwd}: {reason}")]
    Cwd {
        program: String,
        cwd: String,
        reason: String,
    },
    #[error("{program}: cannot start: {reason}")]
    Spawn { program: String, reason: String },
    /// It ran longer than the timeout; its process group was killed. What it printed until
    /// then is kept.
    #[error("{program}: timed out after {}", humantime::format_duration(*.after))]
    TimedOut {
        program: String,
        after: Duration,
        stdout: Captured,
        stderr: Captured,
    },
}

/// Runs `argv` to its end (or its timeout) and returns what it printed; see the module docs.
/// `output_limit` bounds each of stdout and stderr.
pub async fn run(
    argv: &[String],
    env: &BTreeMap<String, String>,
    cwd: Option<&Path>,
    timeout: Duration,
    output_limit: usize,
) -> Result<Finished, ProcessError> {
    run_streaming(argv, env, cwd, timeout, output_limit, |_, _| {}).await
}

/// [`run`], handing every line of output to `on_line` as soon as it is complete (without its
/// line break; invalid UTF-8 replaced; a line longer than [`MAX_LINE`] bytes comes in
/// pieces). Lines come in the order they were read; stdout and stderr interleave as the
/// program wrote them, as far as the pipes tell.
pub async fn run_streaming(
    argv: &[String],
    env: &BTreeMap<String, String>,
    cwd: Option<&Path>,
    timeout: Duration,
    output_limit: usize,
    mut on_line: impl FnMut(Stream, String) + Send,
) -> Result<Finished, ProcessError> {
    let (name, mut command) = session_command(argv, env, cwd, None).await?;
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);

    let start = Instant::now();
    let child = command.spawn().map_err(|e| spawn_error(&name, &e))?;
    // With a pre_exec hook, spawn returns only once the child has exec'd (or failed to), so
    // it is already the leader of its own session and process group.
    let mut group = Group::new(child);
    let stdout = group.child.stdout.take();
    let stderr = group.child.stderr.take();

    let mut out = LineReader::new(stdout, Stream::Stdout, output_limit);
    let mut err = LineReader::new(stderr, Stream::Stderr, output_limit);
    let deadline = start + timeout;
    let mut exit: Option<Exit> = None;
    let mut elapsed = Duration::ZERO;
    let mut timed_out = false;
    // Set once the program ended: the pipes are read until then at most.
    let mut drain_until: Option<Instant> = None;

    while !(exit.is_some() && out.closed() && err.closed()) {
        tokio::select! {
            n = out.read(), if !out.closed() => out.took(n, &mut on_line),
            n = err.read(), if !err.closed() => err.took(n, &mut on_line),
            status = group.child.wait(), if exit.is_none() => {
                elapsed = start.elapsed();
                // Without a status (wait failed), the program is gone all the same.
                exit = Some(status.map_or(Exit::Code(-1), Exit::from_status));
                // Whatever it left running in its group goes with it.
                group.kill();
                drain_until.get_or_insert(Instant::now() + DRAIN_GRACE);
            }
            () = sleep_until(deadline), if !timed_out && exit.is_none() => {
                timed_out = true;
                group.kill();
                drain_until = Some(Instant::now() + DRAIN_GRACE);
            }
            () = sleep_until(drain_until.unwrap_or(deadline)), if drain_until.is_some() => break,
        }
    }
    group.kill();
    out.finish(&mut on_line);
    err.finish(&mut on_line);

    if timed_out {
        return Err(ProcessError::TimedOut {
            program: name,
            after: timeout,
            stdout: out.capture.done(),
            stderr: err.capture.done(),
        });
    }
    Ok(Finished {
        // The loop ends without an exit only when the drain grace ran out, which is set
        // once the exit is known or after a timeout (returned above).
        exit: exit.unwrap_or(Exit::Code(-1)),
        stdout: out.capture.done(),
        stderr: err.capture.done(),
        elapsed,
        logged: None,
    })
}

async fn sleep_until(at: Instant) {
    tokio::time::sleep_until(at).await;
}

/// The program of `argv` as every child of warroom starts: never through a shell, the
/// console's environment plus `env`, stdin from /dev/null, in `cwd` (checked first: the
/// child's chdir failing reads as ENOENT, which would blame the program), in a session and
/// process group of its own. The caller sets its stdout, stderr and drop behaviour. Returns
/// the program's name (for errors) and the command.
async fn session_command(
    argv: &[String],
    env: &BTreeMap<String, String>,
    cwd: Option<&Path>,
    relay: Option<&Path>,
) -> Result<(String, Command), ProcessError> {
    let Some(program) = argv.first() else {
        return Err(ProcessError::EmptyArgv);
    };
    let name = program.clone();
    if let Some(cwd) = cwd {
        match tokio::fs::metadata(cwd).await {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(cwd_error(&name, cwd, "not a directory".into())),
            Err(e) => return Err(cwd_error(&name, cwd, io_reason(&e))),
        }
    }
    let mut command = match relay {
        Some(relay) => {
            // Found here, so a missing program reads as before, not as the relay's exit.
            find_program(program, env, cwd)?;
            let mut c = Command::new(relay);
            c.arg(relay::ARG).arg("--").arg(program);
            c
        }
        None => Command::new(program),
    };
    if let Ok(withheld) = WITHHELD.read() {
        for name in withheld.iter().filter(|n| !env.contains_key(*n)) {
            command.env_remove(name);
        }
    }
    command.args(&argv[1..]).envs(env).stdin(Stdio::null());
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    // SAFETY: the closure runs in the forked child before exec, where only async-signal-safe
    // functions may be called. It calls setsid(2) alone, a single system call that is
    // async-signal-safe, and allocates nothing (the error path builds an io::Error from a raw
    // errno, which does not allocate).
    unsafe {
        command.pre_exec(|| nix::unistd::setsid().map(drop).map_err(io::Error::from));
    }
    Ok((name, command))
}

/// SIGKILL to every process of a group (ESRCH when it is empty, which is fine).
fn kill_group(pgid: Option<Pid>) {
    if let Some(pgid) = pgid {
        let _ = killpg(pgid, Signal::SIGKILL);
    }
}

/// Hands each complete line of `bytes` (after what `line` holds from before) to `on_line`; a
/// line longer than [`MAX_LINE`] comes in pieces. What follows the last line break stays in
/// `line`.
fn split_lines(
    stream: Stream,
    line: &mut Vec<u8>,
    bytes: &[u8],
    on_line: &mut impl FnMut(Stream, String),
) {
    for &b in bytes {
        if b == b'\n' {
            emit(stream, line, on_line);
        } else {
            line.push(b);
            if line.len() >= MAX_LINE {
                emit(stream, line, on_line);
            }
        }
    }
}

fn cwd_error(program: &str, cwd: &Path, reason: String) -> ProcessError {
    ProcessError::Cwd {
        program: program.to_string(),
        cwd: cwd.display().to_string(),
        reason,
    }
}

fn spawn_error(program: &str, e: &io::Error) -> ProcessError {
    let program = program.to_string();
    match e.kind() {
        io::ErrorKind::NotFound => ProcessError::NotFound { program },
        io::ErrorKind::PermissionDenied => ProcessError::PermissionDenied { program },
        _ => ProcessError::Spawn {
            program,
            reason: io_reason(e),
        },
    }
}

/// An io error's message without the "(os error N)" suffix.
pub(crate) fn io_reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

/// The child and its process group: the group is killed when this is dropped.
struct Group {
    child: Child,
    pgid: Option<Pid>,
}

impl Group {
    fn new(child: Child) -> Group {
        let pgid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw);
        Group { child, pgid }
    }

    /// SIGKILL to every process of the group. Until the leader is reaped its pid cannot be
    /// reused; after that, the group id stays reserved as long as a member lives, so this
    /// reaches only the child's own group (ESRCH when it is empty, which is fine).
    fn kill(&self) {
        kill_group(self.pgid);
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // Dropped mid-run (the caller's timeout) or after: either way nothing of it stays.
        // The child itself is then killed and reaped by tokio (kill_on_drop).
        self.kill();
    }
}

/// One output pipe: read into a bounded capture, split into lines for the callback.
struct LineReader<R> {
    pipe: Option<R>,
    stream: Stream,
    buf: Box<[u8]>,
    line: Vec<u8>,
    capture: Capture,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    fn new(pipe: Option<R>, stream: Stream, limit: usize) -> LineReader<R> {
        LineReader {
            pipe,
            stream,
            buf: vec![0; 8192].into_boxed_slice(),
            line: Vec::new(),
            capture: Capture::new(limit),
        }
    }

    fn closed(&self) -> bool {
        self.pipe.is_none()
    }

    /// Reads once (cancel-safe: a read that did not complete took nothing).
    async fn read(&mut self) -> io::Result<usize> {
        match self.pipe.as_mut() {
            Some(pipe) => pipe.read(&mut self.buf).await,
            None => Ok(0),
        }
    }

    fn took(&mut self, n: io::Result<usize>, on_line: &mut impl FnMut(Stream, String)) {
        match n {
            Ok(0) | Err(_) => self.pipe = None,
            Ok(n) => {
                let bytes = &self.buf[..n];
                self.capture.push(bytes);
                split_lines(self.stream, &mut self.line, bytes, on_line);
            }
        }
    }

    /// The last line, if it had no line break.
    fn finish(&mut self, on_line: &mut impl FnMut(Stream, String)) {
        self.pipe = None;
        if !self.line.is_empty() {
            emit(self.stream, &mut self.line, on_line);
        }
    }
}

/// Hands a line (without its `\r`, if any) to the callback and empties it.
fn emit(stream: Stream, line: &mut Vec<u8>, on_line: &mut impl FnMut(Stream, String)) {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    let text = String::from_utf8_lossy(line);
    on_line(stream, crate::text::redact::scrub_known(&text).into_owned());
    line.clear();
}

/// Keeps the first half of the limit and the last half of what came after it.
struct Capture {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    head_limit: usize,
    tail_limit: usize,
    omitted: u64,
}

impl Capture {
    fn new(limit: usize) -> Capture {
        let head_limit = limit.div_ceil(2);
        Capture {
            head: Vec::new(),
            tail: VecDeque::new(),
            head_limit,
            tail_limit: limit - head_limit,
            omitted: 0,
        }
    }

    fn push(&mut self, mut bytes: &[u8]) {
        let room = self.head_limit - self.head.len();
        let (head, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(head);
        bytes = rest;
        if bytes.len() > self.tail_limit {
            let skip = bytes.len() - self.tail_limit;
            self.omitted += (self.tail.len() + skip) as u64;
            self.tail.clear();
            bytes = &bytes[skip..];
        }
        let overflow = (self.tail.len() + bytes.len()).saturating_sub(self.tail_limit);
        self.tail.drain(..overflow);
        self.omitted += overflow as u64;
        self.tail.extend(bytes);
    }

    fn done(&self) -> Captured {
        let mut text = String::from_utf8_lossy(&self.head).into_owned();
        if self.omitted > 0 {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!("… {} bytes left out …\n", self.omitted));
        }
        let (a, b) = self.tail.as_slices();
        let tail = [a, b].concat();
        text.push_str(&String::from_utf8_lossy(&tail));
        Captured {
            text: crate::text::redact::scrub_known(&text).into_owned(),
            omitted: self.omitted,
        }
    }
}

/// What `/proc/PID/stat` says of a process: enough to tell a live process from a zombie and
/// from a later process that was given the same pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// The state letter (`R`, `S`, `Z`, …).
    pub state: char,
    pub pgrp: u32,
    pub session: u32,
    /// When it started, in clock ticks since boot (field 22): with the pid, a process's name
    /// that is never given to another.
    pub start: u64,
}

/// Parses one `/proc/PID/stat` line. The command name (field 2) is in parentheses and may hold
/// spaces and parentheses itself: the fields after it are counted from its last `)`.
pub fn parse_stat(line: &str) -> Option<ProcStat> {
    let rest = &line[line.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state); field N is fields[N - 3].
    Some(ProcStat {
        state: fields.first()?.chars().next()?,
        pgrp: fields.get(2)?.parse().ok()?,
        session: fields.get(3)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
    })
}

/// `/proc/PID/stat` of a process of this host, if it exists.
pub fn stat_of(pid: u32) -> Option<ProcStat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Whether the process `pid` that started at `start` (when known) still runs: it exists, is
/// not a zombie, and is the same process (a reused pid has another start time).
pub fn process_alive(pid: u32, start: Option<u64>) -> bool {
    stat_of(pid).is_some_and(|s| s.state != 'Z' && start.is_none_or(|t| t == s.start))
}

/// Whether the process group a step's program leads (`pgid`, a session of its own, its leader
/// started at `start`) still has a live member: any process of that group and session, not a
/// zombie, started no earlier than the leader (a group id reused later has a newer leader, but
/// never members older than it).
pub fn group_alive(pgid: u32, start: u64) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(stat_of)
        .any(|s| s.pgrp == pgid && s.session == pgid && s.start >= start && s.state != 'Z')
}

/// Sends `signal` to the process group `pgid` if it is still the group whose leader started at
/// `start` ([`group_alive`]): `Ok(false)` when nothing of it is left (a later group given the
/// same id is never signalled), an error when this account may not signal it.
pub fn signal_group(pgid: u32, start: u64, signal: Signal) -> nix::Result<bool> {
    let Ok(raw) = i32::try_from(pgid) else {
        return Ok(false);
    };
    if !group_alive(pgid, start) {
        return Ok(false);
    }
    match killpg(Pid::from_raw(raw), signal) {
        Ok(()) => Ok(true),
        Err(nix::errno::Errno::ESRCH) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A step's program as started: the leader of its own session and process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spawned {
    pub pgid: u32,
    /// The leader's start time (see [`ProcStat::start`]).
    pub start: u64,
}

/// How often a logged run looks for new output in its log.
const TAIL_EVERY: Duration = Duration::from_millis(100);

/// Looks `program` up as `execvp` would (in the `PATH` the child gets, or relative to `cwd`
/// when it has a slash): missing is [`ProcessError::NotFound`], a file nobody may execute
/// [`ProcessError::PermissionDenied`].
fn find_program(
    program: &str,
    env: &BTreeMap<String, String>,
    cwd: Option<&Path>,
) -> Result<(), ProcessError> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| match std::fs::metadata(p) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Some(true),
        Ok(m) if m.is_file() => Some(false),
        _ => None,
    };
    let found = if program.contains('/') {
        let p = match cwd {
            Some(cwd) => cwd.join(program),
            None => Path::new(program).to_path_buf(),
        };
        executable(&p)
    } else {
        let path = env
            .get("PATH")
            .map(std::ffi::OsString::from)
            .or_else(|| std::env::var_os("PATH"))
            .unwrap_or_default();
        let mut found = None;
        for dir in std::env::split_paths(&path) {
            match executable(&dir.join(program)) {
                Some(true) => {
                    found = Some(true);
                    break;
                }
                Some(false) => found = Some(false),
                None => {}
            }
        }
        found
    };
    let program = program.to_string();
    match found {
        Some(true) => Ok(()),
        Some(false) => Err(ProcessError::PermissionDenied { program }),
        None => Err(ProcessError::NotFound { program }),
    }
}

/// Runs `argv` like [`run_streaming`], but for a runbook step that must outlive the console:
/// through `relay` (this binary, see [`relay`]), which leads the step's session and process
/// group, reads the program's output from a pipe, and appends it to the file `log` scrubbed
/// of every known secret and capped at [`relay::LOG_CAP`]; the lines are read back from
/// there. A console that ends (SIGTERM, a detach deadline, SIGKILL) leaves the relay and the
/// program running; whoever records adopts them by their process group ([`group_alive`]).
/// `on_spawn` hears the group once it exists. The group is killed on timeout and after the
/// relay exits (what the program left in its group goes too), never when this future is
/// dropped. Everything the log holds is in `stdout`; [`Finished::logged`] counts the lines.
#[allow(clippy::too_many_arguments)]
pub async fn run_logged(
    argv: &[String],
    env: &BTreeMap<String, String>,
    cwd: Option<&Path>,
    timeout: Duration,
    output_limit: usize,
    log: &Path,
    relay: &Path,
    on_spawn: impl FnOnce(Spawned) + Send,
    mut on_line: impl FnMut(Stream, String) + Send,
) -> Result<Finished, ProcessError> {
    use tokio::io::AsyncWriteExt;
    let (name, mut command) = session_command(argv, env, cwd, Some(relay)).await?;
    let spawn_failed = |reason: String| ProcessError::Spawn {
        program: name.clone(),
        reason,
    };
    // A new file, never through a link: a name planted beside the journal must not have the
    // program's output written into someone else's file.
    let out = std::fs::OpenOptions::new()
        .create_new(true)
        .append(true)
        .mode(0o640)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(log)
        .map_err(|e| spawn_failed(format!("step log {}: {}", log.display(), io_reason(&e))))?;
    // Never killed on drop: the relay and its program outlive a console that ends first. Its
    // stderr is ours alone: the counts it says there are the relay's, never the program's.
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::from(out))
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| spawn_error(&name, &e))?;
    let pgid = child.id().unwrap_or(0);
    let group = i32::try_from(pgid).ok().map(Pid::from_raw);
    on_spawn(Spawned {
        pgid,
        start: stat_of(pgid).map_or(0, |s| s.start),
    });
    // The secrets, through a pipe nobody else can read (never in argv or the environment).
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&relay::secrets_for_relay()).await;
    }

    let mut said = child.stderr.take();
    let mut tail = OutputTail::open(log, 0, output_limit).await;
    let deadline = started + timeout;
    let mut timed_out = false;
    let exit = loop {
        tokio::select! {
            status = child.wait() => break status.map_or(Exit::Code(-1), Exit::from_status),
            () = sleep_until(deadline), if !timed_out => {
                timed_out = true;
                kill_group(group);
            }
            () = tokio::time::sleep(TAIL_EVERY) => tail.read(&mut on_line).await,
        }
    };
    let elapsed = started.elapsed();
    // Whatever it left running in its group goes with it.
    kill_group(group);
    tail.read(&mut on_line).await;
    tail.finish(&mut on_line);
    let stdout = tail.capture.done();
    // The relay's counts; a relay killed (the timeout) said none: the lines of the log then.
    let mut text = Vec::new();
    if let Some(err) = said.as_mut() {
        let _ = tokio::time::timeout(
            DRAIN_GRACE,
            tokio::io::AsyncReadExt::read_to_end(&mut err.take(64 * 1024), &mut text),
        )
        .await;
    }
    let logged = String::from_utf8_lossy(&text)
        .lines()
        .find_map(|l| serde_json::from_str::<relay::Relayed>(l).ok())
        .unwrap_or(relay::Relayed {
            lines: tail.newlines,
            kept: tail.newlines,
        });
    if let Some(other) = String::from_utf8_lossy(&text)
        .lines()
        .find(|l| serde_json::from_str::<relay::Relayed>(l).is_err())
    {
        tracing::warn!(
            "step relay for {name}: {}",
            crate::text::redact::scrub_known(other)
        );
    }
    if timed_out {
        return Err(ProcessError::TimedOut {
            program: name,
            after: timeout,
            stdout,
            stderr: Captured::default(),
        });
    }
    Ok(Finished {
        exit,
        stdout,
        stderr: Captured::default(),
        elapsed,
        logged: Some(logged),
    })
}

/// Reads a step log from where the step began, split into lines for the callback.
struct OutputTail {
    file: Option<tokio::fs::File>,
    line: Vec<u8>,
    capture: Capture,
    /// Line breaks read: the log's lines.
    newlines: u64,
}

impl OutputTail {
    async fn open(log: &Path, from: u64, limit: usize) -> OutputTail {
        use tokio::io::AsyncSeekExt;
        let mut file = tokio::fs::File::open(log).await.ok();
        if let Some(f) = file.as_mut()
            && f.seek(io::SeekFrom::Start(from)).await.is_err()
        {
            file = None;
        }
        OutputTail {
            file,
            line: Vec::new(),
            capture: Capture::new(limit),
            newlines: 0,
        }
    }

    /// Everything appended since the last read.
    async fn read(&mut self, on_line: &mut impl FnMut(Stream, String)) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let mut buf = [0u8; 8192];
        loop {
            match file.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    self.capture.push(&buf[..n]);
                    self.newlines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
                    split_lines(Stream::Stdout, &mut self.line, &buf[..n], on_line);
                }
            }
        }
    }

    fn finish(&mut self, on_line: &mut impl FnMut(Stream, String)) {
        if !self.line.is_empty() {
            emit(Stream::Stdout, &mut self.line, on_line);
        }
    }
}

pub mod relay;

#[cfg(test)]
mod tests;
