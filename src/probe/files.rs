//! `files` backup: the age of the newest file (or directory) that matches a glob, by its
//! modification time, measured against the clock now.
//!
//! - Nothing matches → DOWN "no file matches …": the model reads DOWN on a backup signal as
//!   "no backup found", never as an age of 0.
//! - Nothing matches because a directory on the way could not be read → cannot observe
//!   (access denied, or the error): the backups may be there.
//! - Some matches found while another directory could not be read → the age of the newest
//!   readable one: an age can only be overstated that way (a warning too many), never hidden.
//! - Symlinks are followed (a `latest.dump` link reads as the file it points to); a file that
//!   vanished between the listing and its stat (rotation) is skipped.
//!
//! The walk is blocking file-system work: it runs on tokio's blocking pool. If the round is
//! abandoned, the walk finishes in the background and its answer is dropped.

use std::io;
use std::path::Path;
use std::time::SystemTime;

use jiff::Timestamp;

use super::{ObserveFuture, Probe};
use crate::app::{ObserveError, Outcome};
use crate::process::io_reason;
use crate::text::redact::excerpt;

#[derive(Debug, Clone)]
pub struct FilesBackupProbe {
    glob: String,
}

impl FilesBackupProbe {
    pub fn new(glob: impl Into<String>) -> FilesBackupProbe {
        FilesBackupProbe { glob: glob.into() }
    }

    async fn check(&self) -> Outcome {
        let pattern = self.glob.clone();
        let newest = match tokio::task::spawn_blocking(move || newest(&pattern)).await {
            Ok(newest) => newest,
            Err(e) => {
                return Outcome::CannotObserve {
                    reason: ObserveError::Other(format!("glob walk failed: {e}")),
                };
            }
        };
        match newest {
            Newest::Found(mtime) => match Timestamp::try_from(mtime) {
                Ok(at) => Outcome::Seconds(Timestamp::now().duration_since(at).as_secs_f64()),
                Err(e) => Outcome::CannotObserve {
                    reason: ObserveError::Other(format!("modification time out of range: {e}")),
                },
            },
            Newest::NoMatch => Outcome::Down {
                detail: format!("no file matches {}", excerpt(&self.glob, 200)),
            },
            Newest::Unreadable(reason) => Outcome::CannotObserve { reason },
        }
    }
}

impl Probe for FilesBackupProbe {
    fn observe(&self) -> ObserveFuture<'_> {
        Box::pin(self.check())
    }

    fn describe(&self) -> String {
        format!("files {}", self.glob)
    }
}

/// What the walk found.
#[derive(Debug)]
enum Newest {
    Found(SystemTime),
    NoMatch,
    /// Nothing found, and something could not be read.
    Unreadable(ObserveError),
}

fn newest(pattern: &str) -> Newest {
    let paths = match glob::glob(pattern) {
        Ok(paths) => paths,
        Err(e) => {
            return Newest::Unreadable(ObserveError::Other(format!(
                "glob {}: {e}",
                excerpt(pattern, 200)
            )));
        }
    };
    let mut newest: Option<SystemTime> = None;
    let mut first_error: Option<ObserveError> = None;
    for entry in paths {
        let found = entry
            .map_err(|e| (e.path().to_path_buf(), io::Error::from(e)))
            .and_then(|path| match std::fs::metadata(&path) {
                Ok(m) => m.modified().map_err(|e| (path, e)),
                Err(e) => Err((path, e)),
            });
        match found {
            Ok(mtime) => newest = newest.max(Some(mtime)),
            // Rotated away between the listing and the stat.
            Err((_, e)) if e.kind() == io::ErrorKind::NotFound => {}
            Err((path, e)) => {
                first_error.get_or_insert_with(|| unreadable(&path, &e));
            }
        }
    }
    match (newest, first_error) {
        (Some(mtime), _) => Newest::Found(mtime),
        (None, Some(reason)) => Newest::Unreadable(reason),
        (None, None) => Newest::NoMatch,
    }
}

/// Why a path could not be read: access denied, or the error as it is.
fn unreadable(path: &Path, e: &io::Error) -> ObserveError {
    let path = excerpt(&path.display().to_string(), 200);
    match e.kind() {
        io::ErrorKind::PermissionDenied => ObserveError::AccessDenied(path),
        _ => ObserveError::Other(format!("{path}: {}", io_reason(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_paths_read_as_access_denied() {
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(
            unreadable(Path::new("/backups/db"), &denied),
            ObserveError::AccessDenied("/backups/db".into())
        );
        let other = io::Error::from_raw_os_error(nix::errno::Errno::EIO as i32);
        assert_eq!(
            unreadable(Path::new("/backups/db"), &other),
            ObserveError::Other("/backups/db: Input/output error".into())
        );
    }

    #[test]
    fn a_bad_pattern_cannot_be_observed() {
        assert!(matches!(
            newest("/backups/[.dump"),
            Newest::Unreadable(ObserveError::Other(_))
        ));
    }
}
