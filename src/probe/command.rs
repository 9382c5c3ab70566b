//! `command` probes: a program the operator configured, run through [`crate::process`] (never
//! a shell, stdin from /dev/null, its own session, its process group killed on timeout or when
//! the round is abandoned).
//!
//! - [`CommandProbe`] (health): exit 0 → UP with the first line of stdout; any other exit →
//!   DOWN with the exit and the last line of stderr (of stdout when stderr is empty).
//! - [`CommandBackupProbe`] (backup): the program prints the time of the newest backup as an
//!   RFC 3339 time on its first line; the age is measured against the clock now.
//!
//! A program that cannot be run (not found, not executable), that timed out, or that was
//! killed by a signal says nothing about the component: cannot observe. So does a backup
//! program that failed or printed something that is not a time: only the program knows
//! whether there is a backup, and it did not say.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;

use super::{ObserveFuture, Probe};
use crate::app::{ObserveError, Outcome};
use crate::process::{self, Exit, Finished, ProcessError};
use crate::text::redact::excerpt;

/// Each of stdout and stderr is captured up to this many bytes (head and tail).
pub const OUTPUT_LIMIT: usize = 64 * 1024;

/// A line of output quoted in an outcome is cut to this many characters.
const QUOTE_CHARS: usize = 160;

/// A health probe that runs `argv`; exit 0 = up.
#[derive(Debug, Clone)]
pub struct CommandProbe {
    argv: Vec<String>,
    timeout: Duration,
    /// Exits that mean the program could not look: UNKNOWN, not DOWN.
    unknown_exit: Vec<i32>,
}

impl CommandProbe {
    /// `timeout` bounds the run (its process group is killed then); the scheduler's own
    /// timeout, when shorter, ends it too.
    pub fn new(argv: Vec<String>, timeout: Duration) -> CommandProbe {
        CommandProbe {
            argv,
            timeout,
            unknown_exit: Vec::new(),
        }
    }

    /// Exits the config names (`unknown_exit`) that say nothing about the component (the
    /// `aws` CLI's 253 when it finds no credentials): cannot observe, not DOWN.
    pub fn unknown_exit(mut self, codes: Vec<i32>) -> CommandProbe {
        self.unknown_exit = codes;
        self
    }

    async fn check(&self) -> Outcome {
        let finished = match run(&self.argv, self.timeout).await {
            Ok(f) => f,
            Err(reason) => return Outcome::CannotObserve { reason },
        };
        match finished.exit {
            Exit::Code(0) => Outcome::Up {
                latency: finished.elapsed,
                detail: finished
                    .stdout
                    .first_line()
                    .map(|l| excerpt(l, QUOTE_CHARS))
                    .unwrap_or_default(),
            },
            Exit::Code(c) if self.unknown_exit.contains(&c) => Outcome::CannotObserve {
                reason: ObserveError::Other(format!(
                    "{} could not look: {}",
                    program(&self.argv),
                    failure(&finished)
                )),
            },
            Exit::Code(_) => Outcome::Down {
                detail: failure(&finished),
            },
            Exit::Signal(_) => Outcome::CannotObserve {
                reason: ObserveError::Other(format!(
                    "{} {}",
                    program(&self.argv),
                    failure(&finished)
                )),
            },
        }
    }
}

impl Probe for CommandProbe {
    fn observe(&self) -> ObserveFuture<'_> {
        Box::pin(self.check())
    }

    fn describe(&self) -> String {
        format!("command {}", self.argv.join(" "))
    }
}

/// A backup probe that runs `argv`, which prints the time of the newest backup (RFC 3339).
#[derive(Debug, Clone)]
pub struct CommandBackupProbe {
    argv: Vec<String>,
    timeout: Duration,
}

impl CommandBackupProbe {
    pub fn new(argv: Vec<String>, timeout: Duration) -> CommandBackupProbe {
        CommandBackupProbe { argv, timeout }
    }

    async fn check(&self) -> Outcome {
        let finished = match run(&self.argv, self.timeout).await {
            Ok(f) => f,
            Err(reason) => return Outcome::CannotObserve { reason },
        };
        let program = program(&self.argv);
        let reason = if !finished.success() {
            format!("{program} {}", failure(&finished))
        } else {
            match finished.stdout.first_line() {
                None => format!("{program} printed nothing, not an RFC 3339 time"),
                Some(line) => match line.parse::<Timestamp>() {
                    Ok(at) => {
                        return Outcome::Seconds(Timestamp::now().duration_since(at).as_secs_f64());
                    }
                    Err(_) => format!(
                        "{program} printed \"{}\", not an RFC 3339 time",
                        excerpt(line, 60)
                    ),
                },
            }
        };
        Outcome::CannotObserve {
            reason: ObserveError::Other(reason),
        }
    }
}

impl Probe for CommandBackupProbe {
    fn observe(&self) -> ObserveFuture<'_> {
        Box::pin(self.check())
    }

    fn describe(&self) -> String {
        format!("command {}", self.argv.join(" "))
    }
}

/// Runs `argv` with the console's environment; a run that did not end is why we cannot tell.
async fn run(argv: &[String], timeout: Duration) -> Result<Finished, ObserveError> {
    process::run(argv, &BTreeMap::new(), None, timeout, OUTPUT_LIMIT)
        .await
        .map_err(|e| cannot_run(&e))
}

/// Why a program that did not run to its end cannot tell us anything.
fn cannot_run(e: &ProcessError) -> ObserveError {
    let text = match e {
        ProcessError::TimedOut { .. } => return ObserveError::Timeout,
        ProcessError::NotFound { program } => format!("cannot run {program}: not found"),
        ProcessError::PermissionDenied { program } => {
            format!("cannot run {program}: permission denied")
        }
        ProcessError::Spawn { program, reason } => format!("cannot run {program}: {reason}"),
        ProcessError::EmptyArgv | ProcessError::Cwd { .. } => e.to_string(),
    };
    ObserveError::Other(excerpt(&text, 2 * QUOTE_CHARS))
}

/// "exit 2: <last line of stderr, else of stdout>", or "exit 2" when it printed nothing.
fn failure(finished: &Finished) -> String {
    let said = finished
        .stderr
        .last_line()
        .or_else(|| finished.stdout.last_line());
    match said {
        Some(line) => format!("{}: {}", finished.exit, excerpt(line, QUOTE_CHARS)),
        None => finished.exit.to_string(),
    }
}

/// The program's name as the config gave it.
fn program(argv: &[String]) -> String {
    excerpt(argv.first().map_or("", String::as_str), QUOTE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::Captured;

    fn finished(exit: Exit, stdout: &str, stderr: &str) -> Finished {
        let captured = |t: &str| Captured {
            text: t.into(),
            omitted: 0,
        };
        Finished {
            exit,
            stdout: captured(stdout),
            stderr: captured(stderr),
            elapsed: Duration::ZERO,
            logged: None,
        }
    }

    #[test]
    fn failures_quote_the_last_line_said() {
        assert_eq!(
            failure(&finished(
                Exit::Code(2),
                "",
                "warming up\nreplica lagging\n"
            )),
            "exit 2: replica lagging"
        );
        assert_eq!(
            failure(&finished(Exit::Code(1), "CRITICAL - 0 rows\n", "")),
            "exit 1: CRITICAL - 0 rows"
        );
        assert_eq!(failure(&finished(Exit::Code(1), "", "")), "exit 1");
        assert_eq!(
            failure(&finished(Exit::Code(3), "", "\x1b[31mred\x1b[0m alert")),
            "exit 3: red alert"
        );
    }

    #[test]
    fn programs_that_cannot_run_are_named() {
        assert_eq!(
            cannot_run(&ProcessError::NotFound {
                program: "check-db".into()
            }),
            ObserveError::Other("cannot run check-db: not found".into())
        );
        assert_eq!(
            cannot_run(&ProcessError::TimedOut {
                program: "x".into(),
                after: Duration::from_secs(1),
                stdout: Captured::default(),
                stderr: Captured::default(),
            }),
            ObserveError::Timeout
        );
    }
}
