//! Reading typed values out of a parsed TOML tree while collecting every error with its span.
//!
//! Each table read through [`Tbl`] remembers which keys were asked for; `finish` reports the
//! rest as unknown keys. Nothing stops at the first error.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use toml_edit::{Item, TableLike, Value};

use super::diagnostic::{Diagnostic, SourceFile};
use super::secrets::is_secret_key;

pub type Span = Option<Range<usize>>;

/// What a reader asks a key to hold: the schema's types ([`super::sketch`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ty {
    /// Read by hand; [`Tbl::sketch`] says more.
    Any,
    Str,
    Bool,
    Int(i64, i64),
    Duration,
    ExitCodes,
    StrList,
    StrMap,
    Table,
    Tables,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// `true`, `false` or one of these strings.
    BoolOr(&'static [&'static str]),
    /// One character.
    Char,
}

/// Where something was written, kept for checks that span files (references, duplicates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub file: std::path::PathBuf,
    pub line_col: (usize, usize),
    pub path: String,
}

impl Loc {
    pub fn error(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: self.file.clone(),
            location: Some(self.line_col),
            path: self.path.clone(),
            message: message.into(),
        }
    }

    pub fn short(&self) -> String {
        format!(
            "{}:{}:{}",
            self.file.display(),
            self.line_col.0,
            self.line_col.1
        )
    }
}

/// Collects the diagnostics of one file.
pub struct Reader<'s> {
    pub src: &'s SourceFile,
    pub diags: &'s mut Vec<Diagnostic>,
    /// Directories steps run in, with where each is written: whether one exists can only be
    /// told on the machine the steps run on, so `check` warns, never refuses.
    pub workdirs: Vec<(std::path::PathBuf, Loc)>,
}

impl<'s> Reader<'s> {
    pub fn error(&mut self, span: Span, path: &str, message: impl Into<String>) {
        self.diags
            .push(Diagnostic::at(self.src, span, path, message.into()));
    }

    pub fn loc(&self, span: Span, path: &str) -> Loc {
        Loc {
            file: self.src.path.clone(),
            line_col: self.src.line_col(span.map_or(0, |s| s.start)),
            path: path.to_string(),
        }
    }
}

pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Value(v) => v.type_name(),
        Item::Table(_) => "table",
        Item::ArrayOfTables(_) => "array of tables",
    }
}

/// A humantime duration, or an error at `span` saying what is wrong with it.
pub fn parse_duration(r: &mut Reader, text: &str, span: Span, path: &str) -> Option<Duration> {
    match humantime::parse_duration(text) {
        Ok(d) => Some(d),
        Err(e) => {
            // humantime lists every unit it knows; the first clause is the useful part.
            let e = e.to_string();
            let why = e.split(", supported units").next().unwrap_or(&e);
            r.error(
                span,
                path,
                format!("bad duration \"{text}\": {why} (write e.g. \"30s\", \"15m\", \"1h\")"),
            );
            None
        }
    }
}

/// A table (standard or inline) being read.
pub struct Tbl<'a> {
    table: &'a dyn TableLike,
    /// Read while sketching the schema ([`super::sketch`]): the table is empty, every typed
    /// request is recorded, sub-tables are phantoms too.
    phantom: bool,
    pub path: String,
    pub span: Span,
    asked: Vec<&'static str>,
    /// Extra words for the unknown-key message, e.g. "for health kind `tcp`".
    pub context: String,
}

/// A value found at a key, with where it was written.
pub struct Found<'a> {
    pub item: &'a Item,
    pub span: Span,
    pub path: String,
}

impl<'a> Tbl<'a> {
    pub fn new(table: &'a dyn TableLike, path: String, span: Span) -> Self {
        Tbl {
            table,
            path,
            span,
            asked: Vec::new(),
            context: String::new(),
            phantom: super::sketch::sketching(),
        }
    }

    /// Records what a reader asks of `key` while the schema is sketched.
    fn note(&self, key: &'static str, ty: Ty, required: bool) {
        if self.phantom {
            super::sketch::note(&self.path, key, ty, required);
        }
    }

    /// Says what a key read by hand (through [`Tbl::get`]) holds, for the schema.
    pub fn sketch(&self, key: &'static str, ty: Ty) {
        self.note(key, ty, false);
    }

    /// Says that a key checked by hand must be there, for the schema.
    pub fn sketch_required(&self, key: &'static str, ty: Ty) {
        self.note(key, ty, true);
    }

    /// The span of a key itself (where an unknown or misplaced key is reported).
    pub fn key_span(&self, key: &str) -> Span {
        self.table
            .key(key)
            .and_then(|k| k.span())
            .or(self.span.clone())
    }

    pub fn has(&mut self, key: &'static str) -> bool {
        self.asked.push(key);
        self.table.contains_key(key)
    }

    pub fn get(&mut self, key: &'static str) -> Option<Found<'a>> {
        self.asked.push(key);
        self.note(key, Ty::Any, false);
        let table: &'a dyn TableLike = self.table;
        let item = table.get(key)?;
        Some(Found {
            item,
            span: item.span().or_else(|| self.key_span(key)),
            path: join(&self.path, key),
        })
    }

    fn missing(&self, r: &mut Reader, key: &str) {
        let what = if self.context.is_empty() {
            String::new()
        } else {
            format!(" {}", self.context)
        };
        r.error(
            self.span.clone(),
            &self.path,
            format!("missing key `{key}`{what}"),
        );
    }

    /// Reports `key` as missing, with why it is needed (e.g. " (when, e.g. at = \"30s\")").
    pub fn missing_because(&mut self, r: &mut Reader, key: &'static str, why: &str) {
        self.asked.push(key);
        r.error(
            self.span.clone(),
            &self.path,
            format!("missing key `{key}`{why}"),
        );
    }

    /// A string with where it was written: its span and key path.
    pub fn str_at(&mut self, r: &mut Reader, key: &'static str) -> Option<(String, Span, String)> {
        self.note(key, Ty::Str, false);
        let f = self.get(key)?;
        match f.item.as_str() {
            Some(s) => Some((s.to_string(), f.span, f.path)),
            None => {
                r.error(
                    f.span,
                    &f.path,
                    format!("expected a string, found {}", type_name(f.item)),
                );
                None
            }
        }
    }

    pub fn req_str(&mut self, r: &mut Reader, key: &'static str) -> Option<String> {
        self.note(key, Ty::Str, true);
        if !self.table.contains_key(key) {
            self.asked.push(key);
            self.missing(r, key);
            return None;
        }
        self.opt_str(r, key)
    }

    pub fn opt_str(&mut self, r: &mut Reader, key: &'static str) -> Option<String> {
        self.note(key, Ty::Str, false);
        let f = self.get(key)?;
        match f.item.as_str() {
            Some(s) => {
                // What fails later is refused now, where it was written.
                // (The value is kept: the error is recorded once, not followed by "missing".)
                if let Some(why) = value_problem(key, s) {
                    r.error(f.span, &f.path, why);
                }
                Some(s.to_string())
            }
            None => {
                r.error(
                    f.span,
                    &f.path,
                    format!("expected a string, found {}", type_name(f.item)),
                );
                None
            }
        }
    }

    /// A boolean.
    pub fn opt_bool(&mut self, r: &mut Reader, key: &'static str) -> Option<bool> {
        self.note(key, Ty::Bool, false);
        let f = self.get(key)?;
        match f.item.as_bool() {
            Some(b) => Some(b),
            None => {
                r.error(
                    f.span,
                    &f.path,
                    format!("expected true or false, found {}", type_name(f.item)),
                );
                None
            }
        }
    }

    /// An integer within `min..=max`.
    pub fn opt_int(
        &mut self,
        r: &mut Reader,
        key: &'static str,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        self.note(key, Ty::Int(min, max), false);
        let f = self.get(key)?;
        match f.item.as_integer() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(n) => {
                r.error(
                    f.span,
                    &f.path,
                    format!("{n} is out of range: expected {min} to {max}"),
                );
                None
            }
            None => {
                r.error(
                    f.span,
                    &f.path,
                    format!("expected an integer, found {}", type_name(f.item)),
                );
                None
            }
        }
    }

    pub fn opt_duration(&mut self, r: &mut Reader, key: &'static str) -> Option<Duration> {
        self.note(key, Ty::Duration, false);
        let f = self.get(key)?;
        let Some(text) = f.item.as_str() else {
            r.error(
                f.span,
                &f.path,
                format!(
                    "expected a duration string such as \"30s\", \"15m\" or \"1h\", found {}",
                    type_name(f.item)
                ),
            );
            return None;
        };
        let d = parse_duration(r, text, f.span.clone(), &f.path)?;
        if d.is_zero() && NONZERO_DURATIONS.contains(&key) {
            r.error(
                f.span,
                &f.path,
                format!("`{key}` of 0s can never be met: give a duration above zero"),
            );
            return None;
        }
        Some(d)
    }

    pub fn req_duration(&mut self, r: &mut Reader, key: &'static str) -> Option<Duration> {
        self.note(key, Ty::Duration, true);
        if !self.table.contains_key(key) {
            self.asked.push(key);
            self.missing(r, key);
            return None;
        }
        self.opt_duration(r, key)
    }

    /// A list of process exit codes (0..=255); `None` when absent or wrong (recorded).
    pub fn opt_exit_codes(&mut self, r: &mut Reader, key: &'static str) -> Option<Vec<i32>> {
        self.note(key, Ty::ExitCodes, false);
        let f = self.get(key)?;
        let Some(array) = f.item.as_array() else {
            r.error(
                f.span,
                &f.path,
                format!("expected a list of exit codes, found {}", type_name(f.item)),
            );
            return None;
        };
        let mut out = Vec::with_capacity(array.len());
        let mut ok = true;
        for (i, v) in array.iter().enumerate() {
            match v.as_integer() {
                Some(n) if (1..=255).contains(&n) => out.push(n as i32),
                _ => {
                    ok = false;
                    r.error(
                        v.span(),
                        &format!("{}[{i}]", f.path),
                        format!("expected an exit code from 1 to 255, found {v}"),
                    );
                }
            }
        }
        ok.then_some(out)
    }

    /// A list of strings; `None` when absent or wrong (the error is recorded).
    pub fn opt_str_list(&mut self, r: &mut Reader, key: &'static str) -> Option<Vec<String>> {
        self.note(key, Ty::StrList, false);
        let f = self.get(key)?;
        let Some(array) = f.item.as_array() else {
            r.error(
                f.span,
                &f.path,
                format!("expected a list of strings, found {}", type_name(f.item)),
            );
            return None;
        };
        let mut out = Vec::with_capacity(array.len());
        let mut ok = true;
        for (i, v) in array.iter().enumerate() {
            match v.as_str() {
                Some(s) => out.push(s.to_string()),
                None => {
                    ok = false;
                    r.error(
                        v.span(),
                        &format!("{}[{i}]", f.path),
                        format!("expected a string, found {}", v.type_name()),
                    );
                }
            }
        }
        ok.then_some(out)
    }

    /// A list of strings with the span of each element.
    pub fn opt_str_list_spanned(
        &mut self,
        r: &mut Reader,
        key: &'static str,
    ) -> Option<Vec<(String, Span, String)>> {
        self.note(key, Ty::StrList, false);
        let f = self.get(key)?;
        let Some(array) = f.item.as_array() else {
            r.error(
                f.span,
                &f.path,
                format!("expected a list of strings, found {}", type_name(f.item)),
            );
            return None;
        };
        let mut out = Vec::with_capacity(array.len());
        for (i, v) in array.iter().enumerate() {
            let path = format!("{}[{i}]", f.path);
            match v.as_str() {
                Some(s) => out.push((s.to_string(), v.span(), path)),
                None => r.error(
                    v.span(),
                    &path,
                    format!("expected a string, found {}", v.type_name()),
                ),
            }
        }
        Some(out)
    }

    /// An inline table of string values, e.g. `headers_env = { Authorization = "API_TOKEN" }`.
    /// Header tables (`headers`, `headers_env`) have header names for keys; `headers_env`
    /// and `env` values name variables.
    pub fn opt_str_map(
        &mut self,
        r: &mut Reader,
        key: &'static str,
    ) -> Option<BTreeMap<String, (String, Span)>> {
        self.note(key, Ty::StrMap, false);
        let f = self.get(key)?;
        let Some(t) = f.item.as_table_like() else {
            r.error(
                f.span,
                &f.path,
                format!(
                    "expected a table of strings such as {{ NAME = \"value\" }}, found {}",
                    type_name(f.item)
                ),
            );
            return None;
        };
        let mut out = BTreeMap::new();
        for (k, v) in t.iter() {
            let path = join(&f.path, k);
            if key.starts_with("headers") && !is_header_name(k) {
                r.error(
                    v.span(),
                    &path,
                    format!(
                        "{k:?} is not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)"
                    ),
                );
                continue;
            }
            if key == "env" && !is_env_name(k) {
                r.error(v.span(), &path, env_name_problem(k));
                continue;
            }
            match v.as_str() {
                Some(s) => {
                    out.insert(k.to_string(), (s.to_string(), v.span()));
                }
                None => r.error(
                    v.span(),
                    &join(&f.path, k),
                    format!("expected a string, found {}", type_name(v)),
                ),
            }
        }
        Some(out)
    }

    /// A sub-table, standard (`[console]`) or inline (`health = { … }`).
    pub fn opt_table(&mut self, r: &mut Reader, key: &'static str) -> Option<Tbl<'a>> {
        if self.phantom {
            self.note(key, Ty::Table, false);
            return Some(Tbl::new(
                super::sketch::empty(),
                join(&self.path, key),
                None,
            ));
        }
        let f = self.get(key)?;
        match f.item.as_table_like() {
            Some(t) => Some(Tbl::new(t, f.path, f.span)),
            None => {
                r.error(
                    f.span,
                    &f.path,
                    format!("expected a table, found {}", type_name(f.item)),
                );
                None
            }
        }
    }

    /// A list of tables: `[[key]]` sections or an array of inline tables.
    pub fn opt_tables(&mut self, r: &mut Reader, key: &'static str) -> Vec<Tbl<'a>> {
        if self.phantom {
            self.note(key, Ty::Tables, false);
            let path = format!("{}[]", join(&self.path, key));
            return vec![Tbl::new(super::sketch::empty(), path, None)];
        }
        let Some(f) = self.get(key) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match f.item {
            Item::ArrayOfTables(a) => {
                for (i, t) in a.iter().enumerate() {
                    out.push(Tbl::new(t, format!("{}[{i}]", f.path), t.span()));
                }
            }
            Item::Value(Value::Array(a)) => {
                for (i, v) in a.iter().enumerate() {
                    let path = format!("{}[{i}]", f.path);
                    match v.as_inline_table() {
                        Some(t) => out.push(Tbl::new(t, path, v.span())),
                        None => r.error(
                            v.span(),
                            &path,
                            format!("expected a table, found {}", v.type_name()),
                        ),
                    }
                }
            }
            other => r.error(
                f.span,
                &f.path,
                format!("expected a list of tables, found {}", type_name(other)),
            ),
        }
        out
    }

    /// Reports every key that no reader asked for.
    pub fn finish(self, r: &mut Reader) {
        for (key, item) in self.table.iter() {
            if self.asked.contains(&key) {
                continue;
            }
            // Inline secrets are reported by the secret scan, with advice; not twice.
            if is_secret_key(key) && item.is_str() {
                continue;
            }
            let what = if self.context.is_empty() {
                String::new()
            } else {
                format!(" {}", self.context)
            };
            let mut known: Vec<&str> = self.asked.clone();
            known.sort_unstable();
            known.dedup();
            r.error(
                self.key_span(key),
                &join(&self.path, key),
                format!(
                    "unknown key `{key}`{what} (known keys: {})",
                    known.join(", ")
                ),
            );
        }
    }
}

/// Durations that can never be met at zero.
const NONZERO_DURATIONS: &[&str] = &["timeout", "every", "up_within", "rto", "give_up_after"];

/// Keys whose value must say something when given (leave the key out instead).
const NONEMPTY: &[&str] = &[
    "channel",
    "page_id",
    "instance",
    "cluster",
    "deployment",
    "namespace",
    "context",
    "region",
    "zone",
    "target",
    "subnet_group",
    "parameter_group",
    "option_group",
    "storage_type",
    "target_instance",
    "source",
    "snapshot",
    "latest_of",
    "template",
    "method",
    "address",
    "glob",
    "cwd",
    "title",
];

/// The longest value a name or title may have: the screen shows it, people type it.
pub const NAME_MAX: usize = 200;

/// `A-Z a-z 0-9 _`, not starting with a digit: what a shell and `env` accept.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn env_name_problem(name: &str) -> String {
    format!(
        "{name:?} is not an environment variable name (letters, digits and _, not starting with a digit)"
    )
}

/// An HTTP header name (RFC 9110 token).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Why the string `value` at `key` would fail later, if it would.
pub(crate) fn value_problem(key: &str, value: &str) -> Option<String> {
    // (A secret written in its place is said by the secret scan.)
    if key.ends_with("_env")
        && !is_env_name(value)
        && super::secrets::secret_reason(key, value).is_none()
    {
        return Some(env_name_problem(value));
    }
    if NONEMPTY.contains(&key) && value.trim().is_empty() {
        return Some(format!(
            "`{key}` is empty: give a value or leave the key out"
        ));
    }
    if ["api_url", "url", "endpoint_url"].contains(&key) {
        match reqwest::Url::parse(value) {
            Ok(u) if ["http", "https"].contains(&u.scheme()) && u.host().is_some() => {}
            Ok(u) => {
                return Some(format!(
                    "{:?} is not an http(s) URL (scheme {:?})",
                    crate::text::clean(value),
                    u.scheme()
                ));
            }
            Err(e) => {
                return Some(format!("{:?} is not a URL: {e}", crate::text::clean(value)));
            }
        }
    }
    if key == "glob"
        && let Err(e) = glob::Pattern::new(value)
    {
        return Some(format!("bad glob pattern: {e}"));
    }
    if (key == "title" || key == "name") && value.chars().count() > NAME_MAX {
        return Some(format!("longer than {NAME_MAX} characters"));
    }
    None
}
