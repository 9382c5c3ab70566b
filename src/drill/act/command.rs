//! A `command` step in the simulated world: nothing is run; it exits 0 unless the scenario
//! (or the region it acts in) says otherwise.

use super::Built;

pub(super) fn command(argv: &[String]) -> Built {
    Ok((
        vec!["(drill: simulated, nothing was run)".to_string()],
        format!(
            "{} exited 0",
            argv.first().map(String::as_str).unwrap_or("command")
        ),
        None,
    ))
}
