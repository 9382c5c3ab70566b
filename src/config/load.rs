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
    match crate::paths::project() {
        Some(dirs) => Ok(dirs.config_dir().join("config.toml")),
        None => Err(format!(
            "no config file: give one with -c, or set ${CONFIG_ENV} (no home directory to look in)"
        )),
    }
}

/// Who besides its owner could change a file or directory, if anyone: what the config
/// files and the journal directory are refused for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposed {
    /// Writable by group and/or others.
    Writable { who: &'static str, mode: u32 },
    /// Owned by another user than the one running warroom, and not by root.
    Foreign { owner: u32, me: u32 },
}

/// `None` when only its owner — you or root — can change `path`, or when it does not exist.
pub fn exposed(path: &Path) -> Option<Exposed> {
    let meta = std::fs::metadata(path).ok()?;
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (true, true) => "group and others",
            (true, false) => "group",
            _ => "others",
        };
        return Some(Exposed::Writable { who, mode });
    }
    let me = nix::unistd::getuid().as_raw();
    let owner = meta.uid();
    (owner != me && owner != 0).then_some(Exposed::Foreign { owner, me })
}

/// Why a config or runbook file may not be used, if it may not: its `command` steps are code
/// that runs with the operator's rights, so only its owner (or root) may be able to change it.
pub fn unsafe_permissions(path: &Path) -> Option<String> {
    Some(match exposed(path)? {
        Exposed::Writable { who, mode } => format!(
            "refused: writable by {who} (mode {mode:04o}); its command steps run with your rights. Fix with: chmod go-w {}",
            path.display()
        ),
        Exposed::Foreign { owner, me } => format!(
            "refused: owned by uid {owner}, not by you (uid {me}) or root; its command steps would run with your rights"
        ),
    })
}

/// How one kind of file is read from its parsed tree: the main config or a runbook file.
type ReadParts = fn(&mut Reader, &dyn toml_edit::TableLike) -> Parts;

/// Reads, parses and scans one file on disk; `None` if it could not be parsed at all.
fn read_file(path: &Path, diags: &mut Vec<Diagnostic>, read: ReadParts) -> Option<Parts> {
    if let Some(why) = unsafe_permissions(path) {
        diags.push(Diagnostic::file(path, why));
    }
    let text = match crate::files::read_text(path, crate::files::CONFIG_MAX) {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diagnostic::unreadable(path, &e));
            return None;
        }
    };
    parse_text(path, text, diags, read)
}

/// Parses and scans the text of one file; `None` if it could not be parsed at all.
fn parse_text(
    path: &Path,
    text: String,
    diags: &mut Vec<Diagnostic>,
    read: ReadParts,
) -> Option<Parts> {
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
        workdirs: Vec::new(),
    };
    secrets::scan(&mut r, doc.as_table());
    let mut parts = read(&mut r, doc.as_table());
    parts.workdirs = std::mem::take(&mut r.workdirs);
    Some(parts)
}

/// Reads the config at `path` and every runbook file it names, reporting every error at once.
pub fn load(path: &Path) -> Result<Config, Diagnostics> {
    assemble(path, read_file)
}

/// Reads a config from text in memory: `main` is the main file (its path names it in errors
/// and resolves its `runbook_files`), `files` the runbook files it may name, by path as
/// resolved against the main file's directory. Nothing is read from disk, so no permission
/// check: that check is about files on disk, which others could change.
pub fn load_from_sources(
    main: (&Path, &str),
    files: &[(&Path, &str)],
) -> Result<Config, Diagnostics> {
    let (main_path, main_text) = main;
    assemble(main_path, |path, diags, read| {
        let text = if path == main_path {
            Some(main_text)
        } else {
            files.iter().find(|(p, _)| *p == path).map(|(_, t)| *t)
        };
        match text {
            Some(text) => parse_text(path, text.to_string(), diags, read),
            None => {
                diags.push(Diagnostic::file(path, "no such file".to_string()));
                None
            }
        }
    })
}

/// The example estate (`config/example.toml` and its runbooks), built into the binary: what
/// `warroom drill` runs on without `-c`. Its path is `config/example.toml`.
pub fn load_embedded_example() -> Config {
    let runbooks = embedded_runbooks();
    let main = (
        Path::new("config/example.toml"),
        include_str!("../../config/example.toml"),
    );
    // A test checks it is valid: an error here is a build of a broken example.
    load_from_sources(main, &runbooks)
        .unwrap_or_else(|d| panic!("the built-in example config is invalid:\n{d}"))
}

/// The example's runbook files, as built in.
fn embedded_runbooks() -> [(&'static Path, &'static str); 7] {
    [
        (
            Path::new("config/runbooks/level-1-component.toml"),
            include_str!("../../config/runbooks/level-1-component.toml"),
        ),
        (
            Path::new("config/runbooks/level-2-az.toml"),
            include_str!("../../config/runbooks/level-2-az.toml"),
        ),
        (
            Path::new("config/runbooks/level-3-region.toml"),
            include_str!("../../config/runbooks/level-3-region.toml"),
        ),
        (
            Path::new("config/runbooks/level-4-multi-region.toml"),
            include_str!("../../config/runbooks/level-4-multi-region.toml"),
        ),
        (
            Path::new("config/runbooks/db-restore.toml"),
            include_str!("../../config/runbooks/db-restore.toml"),
        ),
        (
            Path::new("config/runbooks/failover.toml"),
            include_str!("../../config/runbooks/failover.toml"),
        ),
        (
            Path::new("config/runbooks/failback.toml"),
            include_str!("../../config/runbooks/failback.toml"),
        ),
    ]
}

/// Reads the main file and every runbook file it names through `read_one`, then checks
/// across files.
fn assemble(
    path: &Path,
    mut read_one: impl FnMut(&Path, &mut Vec<Diagnostic>, ReadParts) -> Option<Parts>,
) -> Result<Config, Diagnostics> {
    let mut diags = Vec::new();
    let Some(main) = read_one(path, &mut diags, read_main) else {
        return Err(Diagnostics(diags));
    };
    let mut files = vec![path.to_path_buf()];
    let mut runbooks = main.runbooks;
    let mut refs = main.component_refs;
    let mut phrase_locs = main.phrase_locs;
    let mut workdirs = main.workdirs;
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
        match read_one(file, &mut diags, read_runbook_file) {
            Some(parts) => {
                runbooks.extend(parts.runbooks);
                refs.extend(parts.component_refs);
                phrase_locs.extend(parts.phrase_locs);
                workdirs.extend(parts.workdirs);
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
    diags.extend(shared_phrases(&runbooks, &phrase_locs));
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
        comms: main.comms.unwrap_or_default(),
        workdirs,
    })
}

/// One phrase names one action: two steps anywhere in the config whose actions differ may
/// not be confirmed by the same words (with the same number of inputs typed after them). A
/// checklist acts on nothing and may share its phrase.
fn shared_phrases(
    runbooks: &[(super::schema::Runbook, super::tree::Loc)],
    locs: &[((String, String), super::tree::Loc)],
) -> Vec<Diagnostic> {
    let loc_of = |rb: &str, step: &str| {
        locs.iter()
            .find(|((r, s), _)| r == rb && s == step)
            .map(|(_, l)| l)
    };
    let mut diags = Vec::new();
    let mut first: HashMap<(&str, usize), (&str, &super::schema::Step)> = HashMap::new();
    for (rb, _) in runbooks {
        for step in rb.steps.iter().filter(|s| s.action.acts()) {
            let key = (step.confirm.as_str(), step.inputs.len());
            match first.get(&key) {
                Some((rb0, s0)) if s0.action != step.action => {
                    let (Some(here), Some(there)) = (loc_of(&rb.id, &step.id), loc_of(rb0, &s0.id))
                    else {
                        continue;
                    };
                    diags.push(here.error(format!(
                        "the confirm phrase `{}` of step {}/{} also confirms step {rb0}/{} ({}), a different action: give each its own phrase",
                        step.confirm,
                        rb.id,
                        step.id,
                        s0.id,
                        there.short()
                    )));
                }
                Some(_) => {}
                None => {
                    first.insert(key, (&rb.id, step));
                }
            }
        }
    }
    diags
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) mod mutations {
        use super::*;
        use proptest::prelude::*;

        /// Values a hostile or careless edit puts where a value was.
        pub(crate) fn junk() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("\"\"".to_string()),
                Just("0".to_string()),
                Just("-1".to_string()),
                Just("[]".to_string()),
                Just("{}".to_string()),
                Just("true".to_string()),
                Just("\"0s\"".to_string()),
                Just("\"\\u001b]0;pwned\\u0007\"".to_string()),
                Just("\"a\\u202eb\\u200dc\"".to_string()),
                Just(format!("\"{}\"", "x".repeat(100_000))),
                "\"[ -~]{0,40}\"",
                "[0-9]{1,30}",
                any::<String>().prop_map(|s| format!("{s:?}")),
            ]
        }

        /// The example (main file or runbook file `file`) after one edit, read as `check`
        /// reads it. Other rooms' property tests start from it too.
        pub(crate) fn mutated_example(
            file: usize,
            line: usize,
            how: u8,
            junk: &str,
        ) -> Result<Config, Diagnostics> {
            let mut main_text = include_str!("../../config/example.toml").to_string();
            let mut runbooks: Vec<(&Path, String)> = embedded_runbooks()
                .iter()
                .map(|(p, t)| (*p, t.to_string()))
                .collect();
            match runbooks.get_mut(file) {
                Some((_, text)) => *text = mutate(text, line, how, junk),
                None => main_text = mutate(&main_text, line, how, junk),
            }
            let files: Vec<(&Path, &str)> =
                runbooks.iter().map(|(p, t)| (*p, t.as_str())).collect();
            load_from_sources((Path::new("config/example.toml"), &main_text), &files)
        }

        /// One edit of one line of the text.
        fn mutate(text: &str, line: usize, how: u8, junk: &str) -> String {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let i = line % lines.len().max(1);
            match how % 4 {
                0 => {
                    if let Some((key, _)) = lines[i].split_once('=') {
                        lines[i] = format!("{key}= {junk}");
                    }
                }
                1 => {
                    lines.remove(i);
                }
                2 => {
                    let again = lines[i].clone();
                    lines.insert(i, again);
                }
                _ => {
                    let at = lines[i].len() / 2;
                    let at = (0..=at)
                        .rev()
                        .find(|a| lines[i].is_char_boundary(*a))
                        .unwrap_or(0);
                    lines[i].insert_str(at, junk);
                }
            }
            lines.join("\n")
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(96))]
            /// A mutated example config (types, lengths, control and bidi characters, lines
            /// lost or repeated) is read or refused with diagnostics: never a panic, and what
            /// `check` would print holds no control character.
            #[test]
            fn a_mutated_example_is_read_or_refused_never_a_panic(
                file in 0usize..8,
                line in any::<usize>(),
                how in any::<u8>(),
                junk in junk(),
            ) {
                match mutated_example(file, line, how, &junk) {
                    Ok(cfg) => {
                        // (What the model builds from it: app::proptests.)
                        for step in cfg.runbooks.iter().flat_map(|r| &r.steps) {
                            let _ = step.action.default_phrase();
                        }
                    }
                    Err(diags) => {
                        prop_assert!(!diags.0.is_empty());
                        for d in &diags.0 {
                            let shown = crate::text::clean(&d.to_string()).into_owned();
                            prop_assert!(!shown.chars().any(char::is_control), "{shown:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_embedded_example_is_the_example_on_disk() {
        let embedded = load_embedded_example();
        assert_eq!(embedded.path, Path::new("config/example.toml"));
        assert_eq!(embedded.components.len(), 8);
        assert!(
            embedded
                .runbooks
                .iter()
                .any(|r| r.id == "l3-region-failover")
        );
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let on_disk = load(&dir.join("config/example.toml"));
        if let Ok(on_disk) = on_disk {
            assert_eq!(on_disk.components, embedded.components);
            assert_eq!(on_disk.step_count(), embedded.step_count());
        }
    }

    #[test]
    fn sources_in_memory_report_errors_and_missing_files() {
        let main =
            "runbook_files = [\"rb/a.toml\", \"rb/missing.toml\"]\n[console]\ntitel = \"x\"\n";
        let a = "[[runbook]]\nid = \"r\"\ntitle = \"R\"\nbogus = 1\n";
        let err = load_from_sources(
            (Path::new("mem/config.toml"), main),
            &[(Path::new("mem/rb/a.toml"), a)],
        )
        .expect_err("invalid");
        let lines: Vec<String> = err.0.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            lines,
            [
                "mem/config.toml:1:31: runbook_files[1]: mem/rb/missing.toml: no such file",
                "mem/config.toml:3:1: console.titel: unknown key `titel` (known keys: ascii, layout, operators, stalled_after, theme, title)",
                "mem/rb/a.toml:1:1: runbook[0]: a runbook needs at least one [[runbook.step]]",
                "mem/rb/a.toml:4:1: runbook[0].bogus: unknown key `bogus` (known keys: id, level, step, title)",
            ]
        );
    }
}
