//! `warroom journal init | verify`.

use std::path::Path;
use std::process::ExitCode;

use super::report::incident_file;
use super::*;

/// `warroom journal init`: the journal dir made (or adopted) for a team; exit 1 if it cannot be.
pub fn journal_init(
    explicit: Option<&Path>,
    data_dir: Option<&Path>,
    group: &str,
    observers: Option<&str>,
) -> ExitCode {
    let dir = journal_dir(explicit, data_dir);
    match crate::journal::trust::init(&dir, group, observers) {
        Ok(r) => {
            println!(
                "{}: {} for group {group}{}: {} directories (mode 2770), {} files (mode 0660)",
                dir.display(),
                if r.created { "made" } else { "adopted" },
                observers
                    .map(|o| format!(", read by group {o}"))
                    .unwrap_or_default(),
                r.dirs,
                r.files
            );
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("warroom journal init: {}", crate::text::clean(&why));
            ExitCode::from(1)
        }
    }
}

/// `warroom journal verify`: exit 0 when the chain holds, 1 when it is broken or unreadable.
pub fn journal_verify(
    explicit: Option<&Path>,
    data_dir: Option<&Path>,
    incident: Option<&str>,
) -> ExitCode {
    let dir = journal_dir(explicit, data_dir);
    let path = match incident_file(&dir, incident) {
        Ok(p) => p,
        Err(why) => {
            eprintln!("warroom journal verify: {why}");
            return ExitCode::from(1);
        }
    };
    // Every string from the file is cleaned before it is printed: a planted line must not
    // drive the terminal (an OSC title in a duplicated key did).
    let clean = |s: &str| crate::text::clean(s).into_owned();
    let shown = clean(&path.display().to_string());
    // What this account saw of it before: a journal shorter than that was rewritten.
    let seen = crate::journal::seen::default_path().map(crate::journal::seen::SeenBook::open);
    // Streamed: only the entry this account saw last is kept (memory is one window of the
    // file, however long the incident).
    let seen_seq = seen
        .as_ref()
        .and_then(|book| book.get(&path))
        .map(|s| s.seq);
    match crate::journal::load_verified_keeping(&path, 0, &|head| Some(head.seq) == seen_seq) {
        Ok((loaded, report)) => {
            for w in &report.warnings {
                eprintln!("{shown}: warning: {}", clean(w));
            }
            let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let shrunk = seen.as_ref().and_then(|book| {
                book.contradicts(&path, len, |seq| {
                    loaded
                        .entries
                        .iter()
                        .find(|e| e.seq == seq)
                        .map(|e| e.hash.clone())
                })
            });
            if let Some(why) = shrunk {
                eprintln!("{shown}: TAMPERED: {}", clean(&why));
                return ExitCode::from(1);
            }
            match &report.first_break {
                None => {
                    println!(
                        "{shown}: ok: {}, hash chain intact",
                        count(report.entries, "entry").replace("entrys", "entries")
                    );
                    ExitCode::SUCCESS
                }
                Some(why) => {
                    eprintln!("{shown}: BROKEN at {}", clean(why));
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            eprintln!("warroom journal verify: {}", clean(&e.to_string()));
            ExitCode::from(1)
        }
    }
}
