//! From a parsed TOML tree to the typed [`Config`], checking everything `check` promises:
//! unknown keys, types, durations, duplicate ids, references, step keys, `requires` cycles.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml_edit::TableLike;

use super::schema::*;
use super::tree::{Loc, Reader, Span, Tbl, Ty};

mod action;
mod comms;
mod component;
mod runbook;

use action::*;
use comms::*;
use component::*;
use runbook::*;

/// Keys the console itself uses; a step key may not shadow them.
pub const CONSOLE_KEYS: &[char] = &['q', '?', '/', 'd', 'n', 'u', 'J', 'R'];

/// What one file contributes, plus where ids and references were written for the
/// checks that span files.
#[derive(Default)]
pub struct Parts {
    pub console: Option<Console>,
    pub aws: Option<Aws>,
    pub journal: Option<JournalConfig>,
    pub comms: Option<CommsConfig>,
    pub slack: Option<Slack>,
    pub statuspage: Option<StatusPage>,
    pub components: Vec<Component>,
    /// Every component id written, also of components with other errors, so that one
    /// mistake does not also make every reference to that component an error.
    pub component_ids: Vec<(String, Loc)>,
    pub runbooks: Vec<(Runbook, Loc)>,
    /// Runbook files named by the main config, resolved against its directory, with where named.
    pub runbook_files: Vec<(PathBuf, Loc)>,
    /// Every place a component id is referred to.
    pub component_refs: Vec<(String, Loc)>,
    /// Every step's `cwd`, with where it is written.
    pub workdirs: Vec<(PathBuf, Loc)>,
    /// Where each step's confirm phrase comes from (its `confirm`, else the step), by
    /// runbook and step id: two different actions may not share a phrase anywhere.
    pub phrase_locs: Vec<((String, String), Loc)>,
}

/// The longest id: ids are shown in narrow columns and written in every journal line.
const ID_MAX: usize = 64;

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Reads `id`, which must be `[a-z0-9-]+`.
fn read_id(t: &mut Tbl, r: &mut Reader) -> Option<(String, Loc)> {
    let id = t.req_str(r, "id")?;
    let span = t.get("id").and_then(|f| f.span);
    let loc = r.loc(span.clone(), &super::tree::join(&t.path, "id"));
    if !valid_id(&id) {
        r.error(
            span,
            &loc.path,
            format!(
                "id \"{}\" must be lowercase letters, digits and dashes ([a-z0-9-]+)",
                crate::text::clean(&id)
            ),
        );
        return None;
    }
    if id.len() > ID_MAX {
        r.error(
            span,
            &loc.path,
            format!("id longer than {ID_MAX} characters: the screen and the journal name it"),
        );
        return None;
    }
    Some((id, loc))
}

/// Reads the main config file.
pub fn read_main(r: &mut Reader, root: &dyn TableLike) -> Parts {
    let mut parts = Parts::default();
    let mut t = Tbl::new(root, String::new(), None);

    parts.console = Some(match t.opt_table(r, "console") {
        Some(c) => read_console(r, c),
        None => Console::default(),
    });
    parts.aws = Some(match t.opt_table(r, "aws") {
        Some(mut a) => {
            let aws = Aws {
                endpoint_url: a.opt_str(r, "endpoint_url"),
            };
            a.finish(r);
            aws
        }
        None => Aws::default(),
    });
    parts.journal = Some(match t.opt_table(r, "journal") {
        Some(mut j) => {
            let journal = JournalConfig {
                dir: j.opt_str(r, "dir").map(PathBuf::from),
            };
            j.finish(r);
            journal
        }
        None => JournalConfig::default(),
    });
    parts.comms = Some(match t.opt_table(r, "comms") {
        Some(mut c) => {
            let d = CommsConfig::default();
            let span = c.get("give_up_after").and_then(|f| f.span);
            let give_up_after = c.opt_duration(r, "give_up_after");
            if give_up_after.is_some_and(|g| g < Duration::from_secs(60)) {
                r.error(
                    span,
                    &super::tree::join(&c.path, "give_up_after"),
                    "give_up_after must be at least 1m: a slow far side is not a lost update"
                        .to_string(),
                );
            }
            let language_span = c.get("language").and_then(|f| f.span);
            c.sketch("language", Ty::OneOf(&["en", "es"]));
            let language = match c.opt_str(r, "language") {
                None => d.language,
                Some(code) => Language::parse(&code).unwrap_or_else(|| {
                    r.error(
                        language_span,
                        &super::tree::join(&c.path, "language"),
                        format!("unknown language \"{code}\" (known: en, es)"),
                    );
                    d.language
                }),
            };
            let comms = CommsConfig {
                give_up_after: give_up_after.unwrap_or(d.give_up_after),
                language,
            };
            c.finish(r);
            comms
        }
        None => CommsConfig::default(),
    });
    if let Some(s) = t.opt_table(r, "slack") {
        parts.slack = read_slack(r, s);
    }
    if let Some(s) = t.opt_table(r, "statuspage") {
        parts.statuspage = read_statuspage(r, s, &mut parts.component_refs);
    }
    for c in t.opt_tables(r, "component") {
        let (id, component) = read_component(r, c);
        parts.component_ids.extend(id);
        parts.components.extend(component);
    }
    if let Some(files) = t.opt_str_list_spanned(r, "runbook_files") {
        let base = r.src.path.parent().unwrap_or(Path::new(""));
        for (file, span, path) in files {
            parts
                .runbook_files
                .push((base.join(&file), r.loc(span, &path)));
        }
    }
    read_runbooks(r, &mut t, &mut parts);
    t.finish(r);
    parts
}

/// Reads a file named in `runbook_files`: it holds `[[runbook]]` tables only.
pub fn read_runbook_file(r: &mut Reader, root: &dyn TableLike) -> Parts {
    let mut parts = Parts::default();
    let mut t = Tbl::new(root, String::new(), None);
    t.context = "in a runbook file (it holds [[runbook]] tables only)".into();
    read_runbooks(r, &mut t, &mut parts);
    if !t.has("runbook") {
        r.error(
            Some(0..0),
            "",
            "no [[runbook]] in this runbook file: a file named in runbook_files adds runbooks",
        );
    }
    t.finish(r);
    parts
}

fn read_runbooks(r: &mut Reader, t: &mut Tbl, parts: &mut Parts) {
    for rb in t.opt_tables(r, "runbook") {
        if let Some((runbook, loc, phrases)) = read_runbook(r, rb, &mut parts.component_refs) {
            for (step, at) in runbook.steps.iter().zip(phrases) {
                parts
                    .phrase_locs
                    .push(((runbook.id.clone(), step.id.clone()), at));
            }
            parts.runbooks.push((runbook, loc));
        }
    }
}

fn read_console(r: &mut Reader, mut t: Tbl) -> Console {
    let d = Console::default();
    let operators = t.opt_str_list(r, "operators").unwrap_or_default();
    // An account name has no blank: "" or "root root" would match nobody (or everyone).
    for bad in operators
        .iter()
        .filter(|o| o.is_empty() || o.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        let span = t.get("operators").and_then(|f| f.span);
        r.error(
            span,
            &super::tree::join(&t.path, "operators"),
            format!(
                "{:?} is not an account name (no blanks; an empty list means everyone)",
                crate::text::clean(bad)
            ),
        );
    }
    t.sketch("ascii", Ty::BoolOr(&["auto"]));
    let ascii = match t.get("ascii") {
        None => None,
        Some(f) => match (f.item.as_bool(), f.item.as_str()) {
            (Some(b), _) => Some(b),
            (None, Some("auto")) => None,
            _ => {
                r.error(
                    f.span,
                    &f.path,
                    "expected \"auto\", true or false".to_string(),
                );
                None
            }
        },
    };
    let console = Console {
        ascii,
        title: t.opt_str(r, "title").unwrap_or(d.title),
        theme: t.opt_str(r, "theme").unwrap_or(d.theme),
        layout: t.opt_str(r, "layout").unwrap_or(d.layout),
        operators,
        stalled_after: t
            .opt_duration(r, "stalled_after")
            .unwrap_or(d.stalled_after),
    };
    t.finish(r);
    console
}

fn is_env_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Reads `kind`, one of `known` (while the schema is sketched: the kind of this run).
fn read_kind(
    r: &mut Reader,
    t: &mut Tbl,
    what: &str,
    known: &'static [&'static str],
) -> Option<String> {
    if let Some(kind) = super::sketch::kind_for(&t.path, known) {
        t.sketch("kind", Ty::OneOf(known));
        return Some(kind.to_string());
    }
    let kind = t.req_str(r, "kind")?;
    t.context = format!("for {what} kind `{kind}`");
    Some(kind)
}

fn unknown_kind(r: &mut Reader, t: &mut Tbl, what: &str, kind: &str, known: &[&str]) {
    let known = known.join(", ");
    let span = t.get("kind").and_then(|f| f.span);
    r.error(
        span,
        &super::tree::join(&t.path, "kind"),
        format!("unknown {what} kind \"{kind}\" (known: {known})"),
    );
    // The other keys mean nothing without a kind: do not report them as unknown too.
    t.context = String::new();
}
