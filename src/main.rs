//! The `warroom` command line: parse it and pick a command; each command's wiring lives in
//! the library's `commands/`.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, Command, JournalCommand};
use warroom::commands::{self, EXIT_USAGE};

fn main() -> ExitCode {
    // A step's relay (started by a console, never by hand): before clap, so it starts at once
    // and its program's arguments are never read as warroom's.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args
        .get(1)
        .is_some_and(|a| a == warroom::process::relay::ARG)
        && args.get(2).is_some_and(|a| a == "--")
    {
        std::process::exit(warroom::process::relay::main(&args[3..]));
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            // clap prints help and version to stdout and errors to stderr itself.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match &cli.command {
        Some(Command::Check) => {
            commands::check::check(cli.global.config.as_deref(), cli.global.data_dir.as_deref())
        }
        Some(Command::Drill { scenario, speed }) => commands::drill::drill(
            cli.global.config.as_deref(),
            cli.global.data_dir.as_deref(),
            &(&cli.display).into(),
            scenario,
            *speed,
        ),
        Some(Command::Status { json }) => {
            commands::status::status(cli.global.config.as_deref(), *json)
        }
        Some(Command::Schema) => commands::schema::schema(),
        Some(Command::Report { incident }) => commands::report::report(
            cli.global.config.as_deref(),
            cli.global.data_dir.as_deref(),
            incident.as_deref(),
        ),
        Some(Command::Journal {
            command: JournalCommand::Init { group, observers },
        }) => commands::journal::journal_init(
            cli.global.config.as_deref(),
            cli.global.data_dir.as_deref(),
            group,
            observers.as_deref(),
        ),
        Some(Command::Journal {
            command: JournalCommand::Verify { incident },
        }) => commands::journal::journal_verify(
            cli.global.config.as_deref(),
            cli.global.data_dir.as_deref(),
            incident.as_deref(),
        ),
        None => commands::console::console(
            cli.global.config.as_deref(),
            cli.global.data_dir.as_deref(),
            &(&cli.display).into(),
        ),
    }
}
