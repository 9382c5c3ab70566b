//! `command` steps: a program run through [`crate::process`], the way every child of warroom
//! runs: never through a shell (`argv[0]` is the program, the rest its arguments as written),
//! stdin from /dev/null, in a session and process group of its own (so no `ssh`, `sudo` or
//! `aws sso` prompt can take the operator's terminal), the console's environment plus `env`,
//! in `cwd` when given.
//!
//! - Each line of stdout and stderr is sent as [`StepProgress::Output`] as soon as it is
//!   complete, in the order read (untrusted text: the step log pane sanitizes it).
//! - On timeout the whole process group is killed (`SIGKILL`), grandchildren included:
//!   `Failed` "timed out after 30s, process group killed". Whatever the program left running
//!   in its group after it exited is killed too.
//! - Exit 0 is `Succeeded`, any other exit (or a signal) `Failed`; both say the exit and the
//!   last line the program printed (stderr's first, on failure).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{StepOutcome, StepProgress, failed, status, succeeded};
use crate::process::{self, Captured, ProcessError};
use crate::text::redact::excerpt;

/// Each of stdout and stderr is kept up to this many bytes for the outcome (every line is
/// streamed anyway).
pub const OUTPUT_LIMIT: usize = 64 * 1024;

/// At most this many progress items wait for the screen; older output lines are skipped.
pub const FEED_MAX: usize = 2_000;

/// The queue between a program's output and the (slower) screen: bounded, ordered, and
/// counting what it skipped.
#[derive(Clone, Default)]
struct Feed(std::sync::Arc<(std::sync::Mutex<FeedState>, tokio::sync::Notify)>);

#[derive(Default)]
struct FeedState {
    queue: std::collections::VecDeque<StepProgress>,
    skipped: u64,
    closed: bool,
}

impl Feed {
    fn push(&self, p: StepProgress) {
        if let Ok(mut s) = self.0.0.lock() {
            if s.queue.len() >= FEED_MAX
                && let Some(at) = s
                    .queue
                    .iter()
                    .position(|q| matches!(q, StepProgress::Output(_)))
            {
                s.queue.remove(at);
                s.skipped += 1;
            }
            s.queue.push_back(p);
        }
        self.0.1.notify_one();
    }

    fn close(&self) {
        if let Ok(mut s) = self.0.0.lock() {
            s.closed = true;
        }
        self.0.1.notify_one();
    }

    /// What is waiting (the count of skipped lines first: they came before), or `None` once
    /// closed and empty.
    async fn next(&self) -> Option<Vec<StepProgress>> {
        loop {
            let notified = self.0.1.notified();
            {
                let Ok(mut s) = self.0.0.lock() else {
                    return None;
                };
                if s.skipped > 0 || !s.queue.is_empty() {
                    let mut batch = Vec::with_capacity(s.queue.len() + 1);
                    if s.skipped > 0 {
                        batch.push(StepProgress::Skipped(std::mem::take(&mut s.skipped)));
                    }
                    batch.extend(s.queue.drain(..));
                    return Some(batch);
                }
                if s.closed {
                    return None;
                }
            }
            notified.await;
        }
    }
}

/// A line quoted in an outcome is cut to this many characters.
const QUOTE_CHARS: usize = 200;

/// How a program reads in a status line: its argv, an argument with blanks or quotes quoted.
pub fn shown(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty()
                || a.chars()
                    .any(|c| c.is_whitespace() || "'\"\\$`".contains(c))
            {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a `command` step's output is kept: the file, and the relay that writes it (this
/// binary; see [`process::relay`]).
#[derive(Debug, Clone, Copy)]
pub struct Logging<'a> {
    pub log: &'a Path,
    pub relay: &'a Path,
}

/// Runs a `command` step.
///
/// With `logging`, the program's output goes through its relay to the log file (and is read
/// back from it) and the program outlives the console if the console ends first (see
/// [`process::run_logged`]): its process group and log are reported as
/// [`StepProgress::Running`] for the journal, and what the log holds as
/// [`StepProgress::Logged`]. Without, its output comes through pipes and it dies with the
/// console.
pub async fn run(
    argv: &[String],
    env: &BTreeMap<String, String>,
    cwd: Option<&Path>,
    timeout: Duration,
    logging: Option<Logging<'_>>,
    progress: &mpsc::Sender<StepProgress>,
) -> StepOutcome {
    let mut what = format!("run {}", excerpt(&shown(argv), 300));
    if let Some(cwd) = cwd {
        what.push_str(&format!(" in {}", cwd.display()));
    }
    if !env.is_empty() {
        let names: Vec<&str> = env.keys().map(String::as_str).collect();
        what.push_str(&format!(" with {}", names.join(", ")));
    }
    what.push_str(&format!(
        " (timeout {})",
        humantime::format_duration(timeout)
    ));
    status(progress, what).await;

    // The line callback cannot wait: lines go through a queue to a forwarder that does. The
    // queue is bounded ([`FEED_MAX`]): a program printing faster than the screen takes it
    // has its oldest unsent lines skipped and counted, never piled up in memory (the log
    // file, when there is one, has every line).
    let feed = Feed::default();
    let running = async {
        let on_line = {
            let feed = feed.clone();
            move |_, line| feed.push(StepProgress::Output(line))
        };
        let result = match logging {
            Some(Logging { log, relay }) => {
                let shown = log.display().to_string();
                let on_spawn = {
                    let feed = feed.clone();
                    let shown = shown.clone();
                    move |s: process::Spawned| {
                        feed.push(StepProgress::Running {
                            pgid: s.pgid,
                            start: s.start,
                            log: Some(shown),
                        })
                    }
                };
                let result = process::run_logged(
                    argv,
                    env,
                    cwd,
                    timeout,
                    OUTPUT_LIMIT,
                    log,
                    relay,
                    on_spawn,
                    on_line,
                )
                .await;
                if let Ok(process::Finished {
                    logged: Some(r), ..
                }) = &result
                {
                    feed.push(StepProgress::Logged {
                        lines: r.lines,
                        kept: r.kept,
                        log: shown,
                    });
                }
                result
            }
            None => process::run_streaming(argv, env, cwd, timeout, OUTPUT_LIMIT, on_line).await,
        };
        feed.close();
        result
    };
    let forward = async {
        while let Some(batch) = feed.next().await {
            for p in batch {
                let _ = progress.send(p).await;
            }
        }
    };
    let (result, ()) = tokio::join!(running, forward);

    let program = argv.first().map(String::as_str).unwrap_or_default();
    match result {
        Ok(done) => {
            let after = humantime::format_duration(round(done.elapsed));
            let last = last_words(&done.stderr, &done.stdout, done.success());
            if done.success() {
                succeeded(format!("{program}: exit 0 after {after}{last}"))
            } else {
                failed(format!("{program}: {} after {after}{last}", done.exit))
            }
        }
        Err(ProcessError::TimedOut {
            after,
            stdout,
            stderr,
            ..
        }) => {
            let last = last_words(&stderr, &stdout, false);
            failed(format!(
                "{program}: timed out after {}, process group killed{last}",
                humantime::format_duration(after)
            ))
        }
        Err(other) => failed(other.to_string()),
    }
}

/// ": <last line>" of stdout on success, of stderr (else stdout) on failure; "" when silent.
fn last_words(stderr: &Captured, stdout: &Captured, success: bool) -> String {
    let line = if success {
        stdout.last_line()
    } else {
        stderr.last_line().or(stdout.last_line())
    };
    match line {
        Some(l) => format!(": {}", excerpt(l, QUOTE_CHARS)),
        None => String::new(),
    }
}

/// A duration to the tenth of a second (for reading).
fn round(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64 / 100 * 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    async fn run_collect(
        a: &[&str],
        env: &BTreeMap<String, String>,
        cwd: Option<&Path>,
        timeout: Duration,
    ) -> (StepOutcome, Vec<StepProgress>) {
        let (tx, mut rx) = mpsc::channel(4);
        let argv = argv(a);
        let collect = async move {
            let mut seen = Vec::new();
            while let Some(p) = rx.recv().await {
                seen.push(p);
            }
            seen
        };
        let run = async move { run(&argv, env, cwd, timeout, None, &tx).await };
        tokio::join!(run, collect)
    }

    fn outputs(progress: &[StepProgress]) -> Vec<String> {
        progress
            .iter()
            .filter_map(|p| match p {
                StepProgress::Output(l) => Some(l.clone()),
                StepProgress::Status(_)
                | StepProgress::Running { .. }
                | StepProgress::Logged { .. }
                | StepProgress::Skipped(_)
                | StepProgress::Accepted(_) => None,
            })
            .collect()
    }

    #[test]
    fn argv_is_shown_quoted_where_needed() {
        assert_eq!(
            shown(&argv(&["sh", "-c", "echo it's $HOME", ""])),
            r"sh -c 'echo it'\''s $HOME' ''"
        );
        assert_eq!(shown(&argv(&["/usr/bin/true"])), "/usr/bin/true");
    }

    #[tokio::test]
    async fn every_line_is_streamed_in_order_and_exit_0_succeeds() {
        let env = BTreeMap::from([("WARROOM_TEST_WHO".to_string(), "ops".to_string())]);
        // More lines than the progress channel holds: none is lost.
        let script =
            "for i in 1 2 3 4 5 6 7 8 9 10; do echo \"line $i $WARROOM_TEST_WHO\"; done; pwd";
        let dir = std::env::temp_dir();
        let (outcome, progress) = run_collect(
            &["sh", "-c", script],
            &env,
            Some(&dir),
            Duration::from_secs(10),
        )
        .await;
        let mut want: Vec<String> = (1..=10).map(|i| format!("line {i} ops")).collect();
        let cwd = std::fs::canonicalize(&dir).expect("temp dir");
        want.push(cwd.display().to_string());
        assert_eq!(outputs(&progress), want);
        match &progress[0] {
            StepProgress::Status(s) => assert!(
                s.starts_with("run sh -c 'for i in") && s.contains("with WARROOM_TEST_WHO"),
                "{s}"
            ),
            other => panic!("{other:?}"),
        }
        match outcome {
            StepOutcome::Succeeded { summary } => {
                assert!(summary.starts_with("sh: exit 0 after "), "{summary}");
                assert!(summary.ends_with(&cwd.display().to_string()), "{summary}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// A program that prints far faster than the screen takes it: the queue stays bounded
    /// (older unsent lines skipped and counted), every line is accounted for, the newest
    /// arrive in order.
    #[tokio::test]
    async fn a_flood_of_output_is_skipped_and_counted_not_piled_up() {
        let (tx, mut rx) = mpsc::channel(4);
        let argv = argv(&["seq", "200000"]);
        let env = BTreeMap::new();
        // A screen that takes a line now and then.
        let collect = async move {
            let mut seen = Vec::new();
            while let Some(p) = rx.recv().await {
                if seen.len() < 50 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                seen.push(p);
            }
            seen
        };
        // The sender goes with the run: when it ends, the screen's loop ends too.
        let run = async move { run(&argv, &env, None, Duration::from_secs(60), None, &tx).await };
        let (outcome, progress) = tokio::join!(run, collect);
        assert!(outcome.succeeded(), "{outcome:?}");
        let shown: Vec<u64> = outputs(&progress)
            .iter()
            .map(|l| l.parse().expect("a number"))
            .collect();
        let skipped: u64 = progress
            .iter()
            .map(|p| match p {
                StepProgress::Skipped(n) => *n,
                _ => 0,
            })
            .sum();
        assert!(skipped > 0, "a slow screen skips lines");
        assert_eq!(
            shown.len() as u64 + skipped,
            200_000,
            "every line accounted for"
        );
        assert!(shown.windows(2).all(|w| w[0] < w[1]), "in order");
        assert_eq!(
            shown.last(),
            Some(&200_000),
            "the newest line is never skipped"
        );
    }

    #[tokio::test]
    async fn a_non_zero_exit_fails_with_the_code_and_the_last_error_line() {
        let (outcome, progress) = run_collect(
            &[
                "sh",
                "-c",
                "echo working; echo 'no route to db' >&2; exit 3",
            ],
            &BTreeMap::new(),
            None,
            Duration::from_secs(10),
        )
        .await;
        let mut lines = outputs(&progress);
        lines.sort();
        assert_eq!(lines, ["no route to db", "working"]);
        match outcome {
            StepOutcome::Failed { reason } => {
                assert!(reason.starts_with("sh: exit 3 after "), "{reason}");
                assert!(reason.ends_with(": no route to db"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pids = dir.path().join("pids");
        let script = format!(
            "sleep 100 & echo $! > {p}; sleep 100 & echo $! >> {p}; echo started; wait",
            p = pids.display()
        );
        let started = Instant::now();
        let (outcome, progress) = run_collect(
            &["sh", "-c", &script],
            &BTreeMap::new(),
            None,
            Duration::from_millis(700),
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(outputs(&progress), ["started"]);
        match outcome {
            StepOutcome::Failed { reason } => assert_eq!(
                reason,
                "sh: timed out after 700ms, process group killed: started"
            ),
            other => panic!("{other:?}"),
        }
        let text = std::fs::read_to_string(&pids).expect("pids written");
        let pids: Vec<i32> = text
            .lines()
            .map(|l| l.trim().parse().expect("pid"))
            .collect();
        assert_eq!(pids.len(), 2);
        // The grandchildren are gone (reaped by init once killed; allow it a moment).
        let deadline = Instant::now() + Duration::from_secs(5);
        for pid in pids {
            loop {
                let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
                    && !is_zombie(pid);
                if !alive {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "sleep {pid} survived the timeout"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    fn is_zombie(pid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                s.rsplit_once(')')
                    .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
            })
            .unwrap_or(true)
    }

    #[tokio::test]
    async fn a_program_that_cannot_run_fails_naming_it() {
        let (outcome, _) = run_collect(
            &["/nonexistent/warroom-no-such-program"],
            &BTreeMap::new(),
            None,
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(
            outcome,
            StepOutcome::Failed {
                reason: "/nonexistent/warroom-no-such-program: program not found".into()
            }
        );
        let (outcome, _) = run_collect(
            &["true"],
            &BTreeMap::new(),
            Some(Path::new("/nonexistent-dir")),
            Duration::from_secs(5),
        )
        .await;
        match outcome {
            StepOutcome::Failed { reason } => {
                assert!(
                    reason.starts_with("true: working directory /nonexistent-dir"),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}
