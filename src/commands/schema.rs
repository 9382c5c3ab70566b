//! `warroom schema`: the config's JSON Schema on stdout, for editors to complete and check
//! `warroom.toml` with (the README says how). Needs no config.

use std::io::Write as _;
use std::process::ExitCode;

use crate::config::sketch::json_schema;

pub fn schema() -> ExitCode {
    let text = match serde_json::to_string_pretty(&json_schema()) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("warroom: cannot write the schema: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (`warroom schema | head`) is not an error worth a message.
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("warroom: cannot write the schema: {e}");
            ExitCode::FAILURE
        }
    }
}
