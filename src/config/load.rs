//! Finding the config file, refusing unsafe ones, and reading it with every runbook file.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use super::read::{Parts, read_main, read_runbook_file};
use super::schema::Config;
use super::secrets;
use super::tree::Reader;

/// The variable that names the config file when `-c` is not given.
pub const CONFIG_ENV: &str = "WARROOM_CONFIG";

/// Where the config is: `-c`, else `$WARROOM_CONFIG`, else `<XDG config dir>/warroom/config.toml`.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    match directories::ProjectDirs::from("", "", "warroom") {
        Some(dirs) => Ok(dirs.config_dir().join("config.toml")),
        None => Err(format!(
            "no config file: give one with -c, or set ${CONFIG_ENV} (no home directory to look in)"
        )),
    }
}

/// Why a config or runbook file may not be used, if it may not: its `command` steps are code
/// that runs with the operator's rights, so only its owner (or root) may be able to change it.
pub fn unsafe_permissions(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (true, true) => "group and others",
            (true, false) => "group",
            _ => "others",
        };
        return Some(format!(
            "refused: writable by {who} (mode {mode:04o}); its command steps run with your rights. Fix with: chmod go-w {}",
            path.display()
        ));
    }
    let me = nix::unistd::getuid().as_raw();
    let owner = meta.uid();
    if owner != me && owner != 0 {
        return Some(format!(
            "refused: owned by uid {owner}, not by you (uid {me}) or root; its command steps would run with your rights"
        ));
    }
    None
}

/// Reads, parses and scans one file; `None` if it could not be parsed at all.
fn read_file(
    path: &Path,
    diags: &mut Vec<Diagnostic>,
    read: impl FnOnce(&mut Reader, &dyn toml_edit::TableLike) -> Parts,
) -> Option<Parts> {
    if let Some(why) = unsafe_permissions(path) {
        diags.push(Diagnostic::file(path, why));
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                _ => format!("cannot read: {e}"),
            };
            diags.push(Diagnostic::file(path, why));
            return None;
        }
    };
    let src = SourceFile::new(path, text);
    let doc = match toml_edit::Document::parse(src.text.as_str()) {
        Ok(doc) => doc,
        Err(e) => {
            diags.push(Diagnostic::at(
                &src,
                e.span(),
                "",
                format!("TOML syntax: {}", e.message().trim()),
            ));
            return None;
        }
    };
    let mut r = Reader {
        src: &src,
        diags: &mut *diags,
    };
    secrets::scan(&mut r, doc.as_table());
    Some(read(&mut r, doc.as_table()))
}

/// Reads the config at `path` and every runbook file it names, reporting every error at once.
pub fn load(path: &Path) -> Result<Config, Diagnostics> {
    let mut diags = Vec::new();
    let Some(main) = read_file(path, &mut diags, read_main) else {
        return Err(Diagnostics(diags));
    };
    let mut files = vec![path.to_path_buf()];
    let mut runbooks = main.runbooks;
    let mut refs = main.component_refs;
    let mut seen_files: HashMap<PathBuf, super::tree::Loc> = HashMap::new();
    for (file, named_at) in &main.runbook_files {
        if let Some(first) = seen_files.get(file) {
            diags.push(named_at.error(format!(
                "runbook file {} is already listed at {}",
                file.display(),
                first.short()
            )));
            continue;
        }
        seen_files.insert(file.clone(), named_at.clone());
        files.push(file.clone());
        let before = diags.len();
        match read_file(file, &mut diags, read_runbook_file) {
            Some(parts) => {
                runbooks.extend(parts.runbooks);
                refs.extend(parts.component_refs);
            }
            None if diags.len() > before && diags[before].location.is_none() => {
                // The file itself is missing or unreadable: say where it was named too.
                let why = diags[before].message.clone();
                diags[before] = named_at.error(format!("{}: {why}", file.display()));
            }
            None => {}
        }
    }

    // Checks across the whole estate.
    let mut component_ids: HashMap<&str, &super::tree::Loc> = HashMap::new();
    for (id, loc) in &main.component_ids {
        if let Some(first) = component_ids.get(id.as_str()) {
            diags.push(loc.error(format!(
                "duplicate component id \"{id}\" (first at {})",
                first.short()
            )));
        } else {
            component_ids.insert(id, loc);
        }
    }
    let mut runbook_ids: HashMap<&str, &super::tree::Loc> = HashMap::new();
    for (rb, loc) in &runbooks {
        if let Some(first) = runbook_ids.get(rb.id.as_str()) {
            diags.push(loc.error(format!(
                "duplicate runbook id \"{}\" (first at {})",
                rb.id,
                first.short()
            )));
        } else {
            runbook_ids.insert(&rb.id, loc);
        }
    }
    if !main.component_ids.is_empty() {
        let mut known: Vec<&str> = component_ids.keys().copied().collect();
        known.sort_unstable();
        for (id, loc) in &refs {
            if !component_ids.contains_key(id.as_str()) {
                diags.push(loc.error(format!(
                    "unknown component \"{id}\" (known: {})",
                    known.join(", ")
                )));
            }
        }
    } else {
        for (id, loc) in &refs {
            diags.push(loc.error(format!(
                "unknown component \"{id}\" (no [[component]] is defined)"
            )));
        }
    }

    if !diags.is_empty() {
        // File order, then position: the order an operator reads them in.
        let order = |d: &Diagnostic| files.iter().position(|f| f == &d.file).unwrap_or(0);
        diags.sort_by_key(|d| (order(d), d.location));
        return Err(Diagnostics(diags));
    }
    Ok(Config {
        path: path.to_path_buf(),
        console: main.console.unwrap_or_default(),
        aws: main.aws.unwrap_or_default(),
        components: main.components,
        runbooks: runbooks.into_iter().map(|(r, _)| r).collect(),
        slack: main.slack,
        statuspage: main.statuspage,
        journal: main.journal.unwrap_or_default(),
    })
}
