//! Where journals live and what their files are called.
//!
//! ```text
//! <journal dir>/incidents/2026-11-25T0307Z-db-primary-down.jsonl
//! <journal dir>/incidents/drills/2026-11-25T0307Z-region-loss.jsonl
//! ```
//! A file is named after the moment the incident was declared, in UTC to the minute
//! (`YYYY-MM-DDTHHMMZ`, no colons so it is a safe name everywhere and sorts by time), then a
//! slug of its title. Drills are named by their simulated time.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The journal directory: `--data-dir` if given, else the config's `[journal] dir`, else the
/// XDG data dir (`$XDG_DATA_HOME/warroom`, i.e. `~/.local/share/warroom`), else `./warroom`
/// when there is no home directory at all. A relative `[journal] dir` is taken as given
/// (relative to the working directory); the config reader may resolve it first.
pub fn journal_dir(config_dir: Option<&Path>, data_dir_flag: Option<&Path>) -> PathBuf {
    if let Some(d) = data_dir_flag {
        return d.to_path_buf();
    }
    if let Some(d) = config_dir {
        return d.to_path_buf();
    }
    match crate::paths::project() {
        Some(dirs) => dirs.data_dir().to_path_buf(),
        None => PathBuf::from("warroom"),
    }
}

/// `<journal dir>/incidents`: one file per real incident.
pub fn incidents_dir(journal_dir: &Path) -> PathBuf {
    journal_dir.join("incidents")
}

/// `<journal dir>/incidents/drills`: one file per drill.
pub fn drills_dir(journal_dir: &Path) -> PathBuf {
    incidents_dir(journal_dir).join("drills")
}

/// A title as a file-name part: lowercase ASCII letters and digits, every other run of
/// characters one `-`, at most 48 characters, `incident` if nothing is left.
pub fn slug(title: &str) -> String {
    let mut s = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.is_empty() && !s.ends_with('-') {
            s.push('-');
        }
    }
    s.truncate(48);
    let s = s.trim_end_matches('-');
    if s.is_empty() {
        "incident".into()
    } else {
        s.into()
    }
}

/// The extension of the directory of step logs beside a journal file.
pub const STEPS_EXTENSION: &str = "steps";

/// Where the step logs of the journal file `journal` go: beside it, its name with `.steps`
/// for `.jsonl` (`…-db.jsonl` → `…-db.steps/`, `watch.jsonl` → `watch.steps/`).
pub fn steps_dir(journal: &Path) -> PathBuf {
    journal.with_extension(STEPS_EXTENSION)
}

/// `2026-11-25T0307Z-<slug>.jsonl` for an incident declared at `declared` with this title.
pub fn incident_file_name(declared: Timestamp, title: &str) -> String {
    let utc = declared.to_zoned_datetime(TimeZone::UTC);
    format!("{}-{}.jsonl", utc.strftime("%Y-%m-%dT%H%MZ"), slug(title))
}

/// The declaration time prefix of an incident file name, if it is one.
fn stamp(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(".jsonl")?;
    let stamp = stem.get(..16)?;
    let b = stamp.as_bytes();
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 13, 14];
    let shape = digits.iter().all(|&i| b[i].is_ascii_digit())
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[15] == b'Z'
        && (stem.len() == 16 || stem.as_bytes()[16] == b'-');
    shape.then_some(stamp)
}

/// The most recently declared incident file in `dir` (not its subdirectories): the greatest
/// time prefix, and of those declared in the same minute the last modified. Files not named
/// like [`incident_file_name`] are ignored.
pub fn latest(dir: &Path) -> Option<PathBuf> {
    let mut best: Option<(String, std::time::SystemTime, PathBuf)> = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stamp) = stamp(name) else { continue };
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let mtime = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
        let key = (stamp.to_string(), mtime);
        if best.as_ref().is_none_or(|(s, m, _)| key > (s.clone(), *m)) {
            best = Some((key.0, key.1, entry.path()));
        }
    }
    best.map(|(_, _, p)| p)
}

/// What in the journal directory may not be used, if anything (for `warroom check`): the top
/// and everything below it, checked as [`super::trust`] says (others can write it, a link, an
/// owner or a group outside the team). `None` if all is trusted or the dir does not exist yet.
pub fn unsafe_dir(dir: &Path, operators: &[String]) -> Option<String> {
    use super::trust::{Team, TrustError};
    let team = match Team::of(dir, operators) {
        Ok(t) => t,
        Err(e @ TrustError::Unsafe { .. }) => return Some(e.to_string()),
        Err(TrustError::Io { .. }) => return None,
    };
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match team.check(&path) {
                Err(e @ TrustError::Unsafe { .. }) => found.push(e.to_string()),
                Ok(true) if entry.file_type().is_ok_and(|t| t.is_dir()) => todo.push(path),
                _ => {}
            }
        }
    }
    found.sort();
    found.dedup();
    let first = found.first()?.clone();
    Some(match found.len() {
        1 => first,
        n => format!("{first} (and {} more)", n - 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_flag_wins_over_the_config_which_wins_over_xdg() {
        let flag = Path::new("/flag");
        let conf = Path::new("/conf");
        assert_eq!(journal_dir(Some(conf), Some(flag)), flag);
        assert_eq!(journal_dir(Some(conf), None), conf);
        let xdg = journal_dir(None, None);
        assert!(xdg.ends_with("warroom"), "{}", xdg.display());
        assert_eq!(
            drills_dir(Path::new("/j")),
            Path::new("/j/incidents/drills")
        );
    }

    #[test]
    fn file_names_start_with_the_utc_minute_then_a_slug() {
        let at: Timestamp = "2026-11-25T03:07:59+01:00".parse().unwrap();
        assert_eq!(
            incident_file_name(at, "DB primary DOWN (eu-west-1)!"),
            "2026-11-25T0207Z-db-primary-down-eu-west-1.jsonl"
        );
        assert_eq!(
            incident_file_name(at, "§§ ¡"),
            "2026-11-25T0207Z-incident.jsonl"
        );
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert!(slug(&"x".repeat(200)).len() <= 48);
        assert_eq!(stamp("2026-11-25T0207Z-a.jsonl"), Some("2026-11-25T0207Z"));
        assert_eq!(stamp("notes.jsonl"), None);
    }

    #[test]
    fn latest_is_the_last_declared_incident() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(latest(dir.path()), None);
        for name in [
            "2026-11-25T0307Z-b.jsonl",
            "2026-11-24T2359Z-z.jsonl",
            "zzz.jsonl",
            "2026-11-25T0308Z-a.txt",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("drills")).unwrap();
        assert_eq!(
            latest(dir.path()).unwrap(),
            dir.path().join("2026-11-25T0307Z-b.jsonl")
        );
    }

    #[test]
    fn check_names_what_others_can_write_or_what_is_a_link_anywhere_below() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o770)).unwrap();
        // The journal group writing is the team model, not a problem.
        assert_eq!(unsafe_dir(p, &[]), None);
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
        let why = unsafe_dir(p, &[]).unwrap();
        assert!(
            why.contains("writable by others") && why.contains("chmod o-w"),
            "{why}"
        );
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(unsafe_dir(&p.join("missing"), &[]), None);
        let outbox = p.join("incidents/x.outbox/pending");
        std::fs::create_dir_all(&outbox).unwrap();
        assert_eq!(unsafe_dir(p, &[]), None);
        // Deep down: an outbox anyone could drop a delivery into.
        std::fs::set_permissions(&outbox, std::fs::Permissions::from_mode(0o777)).unwrap();
        let why = unsafe_dir(p, &[]).unwrap();
        assert!(
            why.contains("x.outbox/pending: writable by others"),
            "{why}"
        );
        std::fs::set_permissions(&outbox, std::fs::Permissions::from_mode(0o770)).unwrap();
        let victim = p.join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        for name in ["recorder.lock", "watch.jsonl"] {
            std::os::unix::fs::symlink(&victim, p.join(name)).unwrap();
            let why = unsafe_dir(p, &[]).unwrap();
            assert!(why.contains(name) && why.contains("symbolic link"), "{why}");
            std::fs::remove_file(p.join(name)).unwrap();
        }
    }
}
