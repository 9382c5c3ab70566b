//! `warroom report`: the post-incident (or drill) report as Markdown.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::*;

/// `warroom report`: the incident's report as Markdown on stdout (a drill's when the file is
/// in a `drills` directory). Exit 1 when there is no such journal or it cannot be read; a
/// broken hash chain still gives the report, which says so, and exit 0.
pub fn report(
    explicit: Option<&Path>,
    data_dir: Option<&Path>,
    incident: Option<&str>,
) -> ExitCode {
    let dir = journal_dir(explicit, data_dir);
    let path = match incident_file(&dir, incident) {
        Ok(p) => p,
        Err(why) => {
            eprintln!("warroom report: {why}");
            return ExitCode::from(1);
        }
    };
    // Streamed: the chain checked window by window (nothing kept but what was skipped), then
    // an index of where each entry is, sorted by time, read back entry by entry twice (the
    // facts, the timeline). A long incident is never held whole.
    let read = crate::journal::load_verified_keeping(&path, 0, &|_| false)
        .and_then(|(loaded, verify)| Ok((loaded, verify, crate::journal::index(&path)?)));
    let (loaded, verify, (file, mut index)) = match read {
        Ok(x) => x,
        Err(e) => {
            eprintln!("warroom report: {e}");
            return ExitCode::from(1);
        }
    };
    // Entries copied from the watch log may follow the declaration in the file: time order,
    // ties in journal order (a stable sort).
    index.sort_by_key(|e| e.at);
    let entries = |visit: &mut dyn FnMut(&crate::app::entry::Recorded)| {
        for at in &index {
            if let Some(entry) = crate::journal::entry_at(&file, at) {
                visit(&crate::app::entry::Recorded::from_journal(&entry));
            }
        }
    };
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let in_drills = path
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == "drills");
    let kind = if in_drills {
        crate::report::ReportKind::Drill
    } else {
        crate::report::ReportKind::Incident
    };
    let input = crate::report::ReportInput {
        id: &id,
        kind,
        loaded: &loaded,
        verify: &verify,
        entries: &entries,
    };
    match crate::report::render_to(&input, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        // `warroom report | head`: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("warroom report: cannot write the report: {e}");
            ExitCode::from(1)
        }
    }
}

/// The journal file of INCIDENT: a path, or a file name (with or without `.jsonl`) in
/// `incidents/` or `incidents/drills/`; none = the latest incident.
pub(crate) fn incident_file(dir: &Path, incident: Option<&str>) -> Result<PathBuf, String> {
    let incidents = crate::journal::incidents_dir(dir);
    let drills = crate::journal::drills_dir(dir);
    let Some(name) = incident else {
        return crate::journal::latest(&incidents)
            .or_else(|| crate::journal::latest(&drills))
            .ok_or_else(|| {
                format!(
                    "no incident journal in {} (nor a drill in {})",
                    incidents.display(),
                    drills.display()
                )
            });
    };
    let as_path = PathBuf::from(name);
    if as_path.is_file() {
        return Ok(as_path);
    }
    let file = if name.ends_with(".jsonl") {
        name.to_string()
    } else {
        format!("{name}.jsonl")
    };
    [incidents.join(&file), drills.join(&file)]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "no incident {name} in {} or {} (nor a file of that path)",
                incidents.display(),
                drills.display()
            )
        })
}
