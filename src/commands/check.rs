//! `warroom check`: every error in the config and the files it names, as file:line:col.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::*;
use crate::config;
use crate::theme::{self, Theme};
use crate::ui::layout::{self, Layout};

pub fn check(explicit: Option<&Path>, data_dir: Option<&Path>) -> ExitCode {
    let path = match config::locate(explicit) {
        Ok(p) => p,
        Err(why) => {
            eprintln!("warroom check: {why}");
            return ExitCode::from(1);
        }
    };
    // Themes and layouts are checked too: the built-ins and the user's own.
    let mut extra = theme::check_all(theme::user_dir().as_deref());
    extra.extend(layout::check_all(layout::user_dir().as_deref()));
    let loaded = config::load(&path).and_then(|cfg| {
        let mut diags = extra.clone();
        diags.extend(check_look(&cfg, data_dir));
        diags.extend(check_scenarios(&cfg));
        if diags.is_empty() {
            Ok(cfg)
        } else {
            Err(config::Diagnostics(diags))
        }
    });
    let loaded = loaded.map_err(|mut d| {
        for e in &extra {
            if !d.0.contains(e) {
                d.0.push(e.clone());
            }
        }
        d
    });
    match loaded {
        Ok(cfg) if !crate::app::stake::refusals(&cfg).is_empty() => {
            let refusals = crate::app::stake::refusals(&cfg);
            for r in &refusals {
                eprintln!("{}", crate::text::clean(r));
            }
            eprintln!("{}: {}", path.display(), count(refusals.len(), "error"));
            ExitCode::from(1)
        }
        Ok(cfg) => {
            let stake = crate::app::stake::warnings(&cfg);
            for w in workdir_warnings(&cfg).into_iter().chain(stake) {
                eprintln!("{}", crate::text::clean(&w));
            }
            println!(
                "{}: ok: {}, {}, {}",
                path.display(),
                count(cfg.components.len(), "component"),
                count(cfg.runbooks.len(), "runbook"),
                count(cfg.step_count(), "step")
            );
            ExitCode::SUCCESS
        }
        Err(diags) => {
            for d in &diags.0 {
                eprintln!("{}", crate::text::clean(&d.to_string()));
            }
            eprintln!("{}: {}", path.display(), count(diags.0.len(), "error"));
            ExitCode::from(1)
        }
    }
}

/// A step's `cwd` that is not a directory here fails that step here. It is a warning, not an
/// error: a config is often checked away from the machine its steps run on (the bastion).
pub(crate) fn workdir_warnings(cfg: &config::Config) -> Vec<String> {
    let mut out = Vec::new();
    let mut told: Vec<&Path> = Vec::new();
    for (dir, loc) in &cfg.workdirs {
        if told.contains(&dir.as_path()) {
            continue;
        }
        told.push(dir);
        let why = match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => "not a directory".to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no such directory".to_string(),
            Err(e) => e.to_string(),
        };
        let more = cfg.workdirs.iter().filter(|(d, _)| d == dir).count() - 1;
        let more = if more > 0 {
            format!(
                " (and {more} more {})",
                if more == 1 { "step" } else { "steps" }
            )
        } else {
            String::new()
        };
        out.push(format!(
            "{}: warning: cwd {}: {why} on this machine: steps that run in it fail here{more}",
            loc.short(),
            dir.display()
        ));
    }
    out
}

/// Scenario files beside the config (`scenarios/*.toml`) and in the user's config dir are
/// checked against this config: their faults must name its components.
pub(crate) fn check_scenarios(cfg: &config::Config) -> Vec<config::Diagnostic> {
    let mut dirs = Vec::new();
    if let Some(parent) = cfg.path.parent() {
        dirs.push(parent.join("scenarios"));
    }
    if let Some(d) = crate::paths::project() {
        dirs.push(d.config_dir().join("scenarios"));
    }
    let mut diags = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for file in files {
            diags.extend(crate::drill::scenario::validate_path(&file, cfg));
        }
    }
    diags
}

/// The config's own theme and layout must exist.
pub(crate) fn check_look(cfg: &config::Config, data_dir: Option<&Path>) -> Vec<config::Diagnostic> {
    let mut diags = Vec::new();
    let at = |key: &str, message: String| config::Diagnostic {
        file: cfg.path.clone(),
        location: None,
        path: key.to_string(),
        message,
    };
    let theme_spec = beside_config(cfg, &cfg.console.theme);
    if let Err(e) = Theme::resolve(&theme_spec, theme::user_dir().as_deref(), false) {
        diags.push(at("console.theme", e.to_string()));
    }
    // Secret files must be the operator's own and readable by nobody else (a variable is
    // only read by the console that delivers: it may not be this shell's).
    let mut secrets: Vec<(&str, &config::Secret)> = Vec::new();
    if let Some(slack) = &cfg.slack {
        match &slack.auth {
            config::SlackAuth::Token(s) => secrets.push(("slack.token_file", s)),
            config::SlackAuth::Webhook(s) => secrets.push(("slack.webhook_url_file", s)),
        }
    }
    if let Some(page) = &cfg.statuspage {
        match &page.kind {
            config::StatusPageKind::Atlassian { api_key, .. } => {
                secrets.push(("statuspage.api_key_file", api_key))
            }
            config::StatusPageKind::Webhook { url } => secrets.push(("statuspage.url_file", url)),
        }
    }
    for (key, secret) in secrets {
        if let Some(why) = crate::config::secret::check_file(secret) {
            diags.push(at(key, why));
        }
    }
    // The journal dir the console would use (`--data-dir`, the config's, or the default),
    // and everything in it.
    let dir = crate::journal::journal_dir(cfg.journal.dir.as_deref(), data_dir);
    if let Some(why) = crate::journal::unsafe_dir(&dir, &cfg.console.operators) {
        diags.push(at("journal.dir", why));
    }
    if cfg.console.layout != "auto"
        && let Err(e) = Layout::resolve(
            &beside_config(cfg, &cfg.console.layout),
            layout::user_dir().as_deref(),
        )
    {
        diags.push(at("console.layout", e.to_string()));
    }
    diags
}
