//! From a parsed TOML tree to the typed [`Config`], checking everything `check` promises:
//! unknown keys, types, durations, duplicate ids, references, step keys, `requires` cycles.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml_edit::TableLike;

use super::schema::*;
use super::tree::{Loc, Reader, Span, Tbl};

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

/// A secret named by `<key>_env` (a variable) or `<key>_file` (a 0600 file beside the config):
/// exactly one of them.
fn read_secret(r: &mut Reader, t: &mut Tbl, key: &'static str, what: &str) -> Option<Secret> {
    let (env_key, file_key) = match key {
        "token" => ("token_env", "token_file"),
        "webhook_url" => ("webhook_url_env", "webhook_url_file"),
        "api_key" => ("api_key_env", "api_key_file"),
        _ => ("url_env", "url_file"),
    };
    let env = t.opt_str(r, env_key);
    let file = t.opt_str(r, file_key);
    match (env, file) {
        (Some(var), None) => Some(Secret::Env(var)),
        (None, Some(file)) => {
            let base = r.src.path.parent().unwrap_or(Path::new(""));
            Some(Secret::File(base.join(file)))
        }
        (Some(_), Some(_)) => {
            r.error(
                t.span.clone(),
                &t.path,
                format!("give either `{env_key}` or `{file_key}` for {what}, not both"),
            );
            None
        }
        (None, None) => None,
    }
}

fn read_slack(r: &mut Reader, mut t: Tbl) -> Option<Slack> {
    let token = read_secret(r, &mut t, "token", "the bot token");
    let webhook = read_secret(r, &mut t, "webhook_url", "the webhook URL");
    let channel = t.opt_str(r, "channel");
    let api_url = t
        .opt_str(r, "api_url")
        .unwrap_or_else(|| "https://slack.com/api".into());
    let audience_span = t.get("audience").and_then(|f| f.span);
    let audience = match t.opt_str(r, "audience").as_deref() {
        None | Some("team") => Audience::Team,
        Some("public") => Audience::Public,
        Some(other) => {
            r.error(
                audience_span,
                &super::tree::join(&t.path, "audience"),
                format!("unknown audience \"{other}\" (known: team, public)"),
            );
            Audience::Team
        }
    };
    let auth = match (token, webhook) {
        (Some(tok), None) => {
            if channel.is_none() {
                r.error(
                    t.span.clone(),
                    &t.path,
                    "missing key `channel`: a bot token posts to a channel",
                );
            }
            Some(SlackAuth::Token(tok))
        }
        (None, Some(w)) => Some(SlackAuth::Webhook(w)),
        (Some(_), Some(_)) => {
            r.error(
                t.span.clone(),
                &t.path,
                "give either a bot token (`token_env`/`token_file`) or an incoming webhook (`webhook_url_env`/`webhook_url_file`), not both",
            );
            None
        }
        (None, None) => {
            r.error(
                t.span.clone(),
                &t.path,
                "missing key `token_env` (a bot token) or `webhook_url_env` (an incoming webhook); `token_file`/`webhook_url_file` name a 0600 file instead",
            );
            None
        }
    };
    t.finish(r);
    Some(Slack {
        auth: auth?,
        channel,
        api_url,
        audience,
    })
}

fn read_statuspage(
    r: &mut Reader,
    mut t: Tbl,
    refs: &mut Vec<(String, Loc)>,
) -> Option<StatusPage> {
    let kind = t.req_str(r, "kind");
    t.context = match &kind {
        Some(k) => format!("for statuspage kind `{k}`"),
        None => String::new(),
    };
    let kind = match kind.as_deref() {
        Some("atlassian") => {
            let page_id = t.req_str(r, "page_id");
            let api_key = read_secret(r, &mut t, "api_key", "the API key");
            if api_key.is_none() {
                t.missing_because(r, "api_key_env", " (or `api_key_file`, a 0600 file)");
            }
            let api_url = t
                .opt_str(r, "api_url")
                .unwrap_or_else(|| "https://api.statuspage.io/v1".into());
            Some(StatusPageKind::Atlassian {
                page_id: page_id?,
                api_key: api_key?,
                api_url,
            })
        }
        Some("webhook") => {
            let url = read_secret(r, &mut t, "url", "the webhook URL");
            if url.is_none() {
                t.missing_because(r, "url_env", " (or `url_file`, a 0600 file)");
            }
            url.map(|url| StatusPageKind::Webhook { url })
        }
        Some(other) => {
            let span = t.get("kind").and_then(|f| f.span);
            r.error(
                span,
                &super::tree::join(&t.path, "kind"),
                format!("unknown statuspage kind \"{other}\" (known: atlassian, webhook)"),
            );
            None
        }
        None => None,
    };
    let mut components = BTreeMap::new();
    if let Some(map) = t.opt_str_map(r, "components") {
        for (ours, (theirs, span)) in map {
            let path = super::tree::join(&super::tree::join(&t.path, "components"), &ours);
            // The key is ours: point at it, where the unknown id was written.
            refs.push((ours.clone(), r.loc(span, &path)));
            components.insert(ours, theirs);
        }
    }
    t.finish(r);
    Some(StatusPage {
        kind: kind?,
        components,
    })
}

fn read_schedule(r: &mut Reader, t: &mut Tbl) -> Schedule {
    let d = Schedule::default();
    let every = t.opt_duration(r, "every").unwrap_or(d.every);
    let timeout = t.opt_duration(r, "timeout").unwrap_or(d.timeout);
    let confirm_after = t
        .opt_int(r, "confirm_after", 1, 100)
        .map_or(d.confirm_after, |n| n as u32);
    if every.is_zero() {
        let span = t.get("every").and_then(|f| f.span);
        r.error(
            span,
            &super::tree::join(&t.path, "every"),
            "must be longer than 0s",
        );
    }
    if timeout.is_zero() {
        let span = t.get("timeout").and_then(|f| f.span);
        r.error(
            span,
            &super::tree::join(&t.path, "timeout"),
            "must be longer than 0s",
        );
    }
    Schedule {
        every,
        timeout,
        confirm_after,
    }
}

/// Reads `dsn_env` or `dsn`: exactly one.
fn read_dsn(r: &mut Reader, t: &mut Tbl) -> Option<Dsn> {
    let env = t.opt_str(r, "dsn_env");
    let inline = t.opt_str(r, "dsn");
    match (env, inline) {
        (Some(e), None) => Some(Dsn::Env(e)),
        (None, Some(d)) => Some(Dsn::Inline(d)),
        (Some(_), Some(_)) => {
            r.error(
                t.span.clone(),
                &t.path,
                "give either `dsn_env` or `dsn`, not both",
            );
            None
        }
        (None, None) => {
            r.error(
                t.span.clone(),
                &t.path,
                "missing key `dsn_env` (the variable holding the DSN) or `dsn` (a DSN without a password)",
            );
            None
        }
    }
}

fn read_argv(r: &mut Reader, t: &mut Tbl) -> Option<Vec<String>> {
    if !t.has("argv") {
        r.error(
            t.span.clone(),
            &t.path,
            "missing key `argv` (the program and its arguments, run without a shell)",
        );
        return None;
    }
    let argv = t.opt_str_list(r, "argv")?;
    if argv.is_empty() || argv[0].is_empty() {
        let span = t.get("argv").and_then(|f| f.span);
        r.error(
            span,
            &super::tree::join(&t.path, "argv"),
            "argv must name a program",
        );
        return None;
    }
    Some(argv)
}

fn read_headers_env(r: &mut Reader, t: &mut Tbl) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (header, (var, span)) in t.opt_str_map(r, "headers_env").unwrap_or_default() {
        if !is_env_name(&var) {
            r.error(
                span,
                &super::tree::join(&super::tree::join(&t.path, "headers_env"), &header),
                format!(
                    "\"{var}\" is not an environment variable name: headers_env maps a header to the NAME of the variable that holds its value"
                ),
            );
        } else {
            out.insert(header, var);
        }
    }
    out
}

fn is_env_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn read_kind(r: &mut Reader, t: &mut Tbl, what: &str) -> Option<String> {
    let kind = t.req_str(r, "kind")?;
    t.context = format!("for {what} kind `{kind}`");
    Some(kind)
}

fn unknown_kind(r: &mut Reader, t: &mut Tbl, what: &str, kind: &str, known: &str) {
    let span = t.get("kind").and_then(|f| f.span);
    r.error(
        span,
        &super::tree::join(&t.path, "kind"),
        format!("unknown {what} kind \"{kind}\" (known: {known})"),
    );
    // The other keys mean nothing without a kind: do not report them as unknown too.
    t.context = String::new();
}

fn read_health(r: &mut Reader, mut t: Tbl) -> Option<HealthProbe> {
    let kind = read_kind(r, &mut t, "health");
    let schedule = read_schedule(r, &mut t);
    let kind = match kind.as_deref() {
        Some("http") => {
            let url = t.req_str(r, "url");
            let expect_status = t.opt_int(r, "expect_status", 100, 599).unwrap_or(200) as u16;
            let body_contains = t.opt_str(r, "body_contains");
            let headers_env = read_headers_env(r, &mut t);
            let warn_latency = t.opt_duration(r, "warn_latency");
            url.map(|url| HealthKind::Http {
                url,
                expect_status,
                body_contains,
                headers_env,
                warn_latency,
            })
        }
        Some("tcp") => {
            let address = t.req_str(r, "address");
            if let Some(a) = &address
                && a.rsplit_once(':')
                    .is_none_or(|(_, p)| p.parse::<u16>().is_err())
            {
                let span = t.get("address").and_then(|f| f.span);
                r.error(
                    span,
                    &super::tree::join(&t.path, "address"),
                    format!("address \"{a}\" must be host:port"),
                );
            }
            address.map(|address| HealthKind::Tcp { address })
        }
        Some("command") => {
            let unknown_exit = t.opt_exit_codes(r, "unknown_exit").unwrap_or_default();
            read_argv(r, &mut t).map(|argv| HealthKind::Command { argv, unknown_exit })
        }
        Some("k8s_deployment") => {
            let namespace = t.req_str(r, "namespace");
            let deployment = t.req_str(r, "deployment");
            let context = t.opt_str(r, "context");
            Some(HealthKind::K8sDeployment {
                namespace: namespace?,
                deployment: deployment?,
                context,
            })
        }
        Some("rds_instance") => {
            let instance = t.req_str(r, "instance");
            let region = t.req_str(r, "region");
            Some(HealthKind::RdsInstance {
                instance: instance?,
                region: region?,
            })
        }
        Some("postgres") => read_dsn(r, &mut t).map(|dsn| HealthKind::Postgres { dsn }),
        Some(other) => {
            unknown_kind(
                r,
                &mut t,
                "health",
                other,
                "http, tcp, command, k8s_deployment, rds_instance, postgres",
            );
            None
        }
        None => None,
    };
    if !t.context.is_empty() {
        t.finish(r);
    }
    Some(HealthProbe {
        kind: kind?,
        schedule,
    })
}

/// Warn and crit of a lag or backup age: given, or derived from the component's RPO.
fn read_thresholds(r: &mut Reader, t: &mut Tbl, rpo: Option<Duration>) -> Option<Thresholds> {
    let warn = t.opt_duration(r, "warn");
    let crit = t.opt_duration(r, "crit");
    let derived = rpo.filter(|d| !d.is_zero());
    match (warn, crit, derived) {
        (Some(warn), Some(crit), _) => {
            if warn > crit {
                let span = t.get("warn").and_then(|f| f.span);
                r.error(
                    span,
                    &super::tree::join(&t.path, "warn"),
                    format!(
                        "warn ({}) is above crit ({})",
                        humantime::format_duration(warn),
                        humantime::format_duration(crit)
                    ),
                );
            }
            Some(Thresholds { warn, crit })
        }
        (w, c, Some(rpo)) => Some(Thresholds {
            warn: w.unwrap_or(rpo / 2),
            crit: c.unwrap_or(rpo),
        }),
        _ => {
            if !(t.has("warn") || t.has("crit")) || warn.is_some() || crit.is_some() {
                r.error(
                    t.span.clone(),
                    &t.path,
                    "needs both `warn` and `crit` (or an `rpo` above 0s on the component to derive them from)",
                );
            }
            None
        }
    }
}

fn read_lag(r: &mut Reader, mut t: Tbl, rpo: Option<Duration>) -> Option<LagProbe> {
    let kind = read_kind(r, &mut t, "lag");
    let schedule = read_schedule(r, &mut t);
    let kind = match kind.as_deref() {
        Some("cloudwatch") => {
            let instance = t.req_str(r, "instance");
            let region = t.req_str(r, "region");
            let metric = match t.opt_str(r, "metric").as_deref() {
                None | Some("ReplicaLag") => Some(LagMetric::ReplicaLag),
                Some("AuroraReplicaLag") => Some(LagMetric::AuroraReplicaLag),
                Some(other) => {
                    let span = t.get("metric").and_then(|f| f.span);
                    r.error(
                        span,
                        &super::tree::join(&t.path, "metric"),
                        format!("unknown metric \"{other}\" (known: ReplicaLag, AuroraReplicaLag)"),
                    );
                    None
                }
            };
            Some(LagKind::Cloudwatch {
                instance: instance?,
                region: region?,
                metric: metric?,
            })
        }
        Some("postgres_replica") => read_dsn(r, &mut t).map(|dsn| LagKind::PostgresReplica { dsn }),
        Some(other) => {
            unknown_kind(r, &mut t, "lag", other, "cloudwatch, postgres_replica");
            None
        }
        None => None,
    };
    let thresholds = read_thresholds(r, &mut t, rpo);
    if !t.context.is_empty() {
        t.finish(r);
    }
    Some(LagProbe {
        kind: kind?,
        schedule,
        thresholds: thresholds?,
    })
}

fn read_backup(r: &mut Reader, mut t: Tbl, rpo: Option<Duration>) -> Option<BackupProbe> {
    let kind = read_kind(r, &mut t, "backup");
    let schedule = read_schedule(r, &mut t);
    let kind = match kind.as_deref() {
        Some("rds_snapshots") => {
            let instance = t.opt_str(r, "instance");
            let cluster = t.opt_str(r, "cluster");
            let region = t.req_str(r, "region");
            let source = match (instance, cluster) {
                (Some(i), None) => Some(SnapshotSource::Instance(i)),
                (None, Some(c)) => Some(SnapshotSource::Cluster(c)),
                (Some(_), Some(_)) => {
                    r.error(
                        t.span.clone(),
                        &t.path,
                        "give either `instance` or `cluster`, not both",
                    );
                    None
                }
                (None, None) => {
                    r.error(
                        t.span.clone(),
                        &t.path,
                        "missing key `instance` or `cluster`",
                    );
                    None
                }
            };
            Some(BackupKind::RdsSnapshots {
                source: source?,
                region: region?,
            })
        }
        Some("files") => t.req_str(r, "glob").map(|glob| BackupKind::Files { glob }),
        Some("command") => read_argv(r, &mut t).map(|argv| BackupKind::Command { argv }),
        Some(other) => {
            unknown_kind(r, &mut t, "backup", other, "rds_snapshots, files, command");
            None
        }
        None => None,
    };
    let thresholds = read_thresholds(r, &mut t, rpo);
    if !t.context.is_empty() {
        t.finish(r);
    }
    Some(BackupProbe {
        kind: kind?,
        schedule,
        thresholds: thresholds?,
    })
}

fn read_component(r: &mut Reader, mut t: Tbl) -> (Option<(String, Loc)>, Option<Component>) {
    let id = read_id(&mut t, r);
    let name = t.opt_str(r, "name");
    let public_name = t.opt_str(r, "public_name");
    let public_name_es = t.opt_str(r, "public_name_es");
    let tier = match t.req_str(r, "tier").as_deref() {
        Some("critical") => Some(Tier::Critical),
        Some("standard") => Some(Tier::Standard),
        Some(other) => {
            let span = t.get("tier").and_then(|f| f.span);
            r.error(
                span,
                &super::tree::join(&t.path, "tier"),
                format!("unknown tier \"{other}\" (known: critical, standard)"),
            );
            None
        }
        None => None,
    };
    let group = t.opt_str(r, "group");
    let region = t.opt_str(r, "region");
    let zone = t.opt_str(r, "zone");
    let rto = t.opt_duration(r, "rto");
    let rpo = t.opt_duration(r, "rpo");
    let health = match t.opt_table(r, "health") {
        Some(h) => read_health(r, h),
        None => {
            r.error(
                t.span.clone(),
                &t.path,
                "missing key `health`: every component needs a health probe",
            );
            None
        }
    };
    let lag = t.opt_table(r, "lag").map(|l| read_lag(r, l, rpo));
    let backup = t.opt_table(r, "backup").map(|b| read_backup(r, b, rpo));
    t.finish(r);
    let component = (|| {
        let id = id.as_ref()?.0.clone();
        Some(Component {
            name: name.unwrap_or_else(|| id.clone()),
            public_name,
            public_name_es,
            id,
            tier: tier?,
            group,
            region,
            zone,
            rto,
            rpo,
            health: health?,
            lag: match lag {
                Some(l) => Some(l?),
                None => None,
            },
            backup: match backup {
                Some(b) => Some(b?),
                None => None,
            },
        })
    })();
    (id, component)
}

fn req_u32(r: &mut Reader, t: &mut Tbl, key: &'static str) -> Option<u32> {
    if !t.has(key) {
        r.error(t.span.clone(), &t.path, format!("missing key `{key}`"));
        return None;
    }
    t.opt_int(r, key, 0, 10_000).map(|n| n as u32)
}

fn read_action(r: &mut Reader, mut t: Tbl) -> Option<Action> {
    let kind = read_kind(r, &mut t, "action");
    let k8s = |r: &mut Reader, t: &mut Tbl| {
        let namespace = t.req_str(r, "namespace");
        let deployment = t.req_str(r, "deployment");
        let context = t.opt_str(r, "context");
        (namespace, deployment, context)
    };
    let action = match kind.as_deref() {
        Some("rds_promote_read_replica") => {
            let instance = t.req_str(r, "instance");
            let region = t.req_str(r, "region");
            Some(Action::RdsPromoteReadReplica {
                instance: instance?,
                region: region?,
            })
        }
        Some("rds_restore_snapshot") => {
            let named = t.opt_str(r, "snapshot");
            let latest = t.opt_str(r, "latest_of");
            let target = t.req_str(r, "target");
            let instance_class = t.opt_str(r, "instance_class");
            let region = t.req_str(r, "region");
            let snapshot = match (named, latest) {
                (Some(s), None) => Some(SnapshotChoice::Named(s)),
                (None, Some(i)) => Some(SnapshotChoice::LatestOf(i)),
                (Some(_), Some(_)) => {
                    r.error(
                        t.span.clone(),
                        &t.path,
                        "give either `snapshot` or `latest_of`, not both",
                    );
                    None
                }
                (None, None) => {
                    r.error(
                        t.span.clone(),
                        &t.path,
                        "missing key `snapshot` (a snapshot id) or `latest_of` (an instance whose newest snapshot to use)",
                    );
                    None
                }
            };
            let placement = read_placement(r, &mut t);
            Some(Action::RdsRestoreSnapshot {
                snapshot: snapshot?,
                target: target?,
                instance_class,
                region: region?,
                placement,
            })
        }
        Some("rds_restore_point_in_time") => {
            let source = t.req_str(r, "source");
            let target = t.req_str(r, "target");
            let region = t.req_str(r, "region");
            let placement = read_placement(r, &mut t);
            Some(Action::RdsRestorePointInTime {
                source: source?,
                target: target?,
                region: region?,
                placement,
            })
        }
        Some("rds_failover_cluster") => {
            let cluster = t.req_str(r, "cluster");
            let target_instance = t.opt_str(r, "target_instance");
            let region = t.req_str(r, "region");
            Some(Action::RdsFailoverCluster {
                cluster: cluster?,
                target_instance,
                region: region?,
            })
        }
        Some("k8s_rollout_restart") => {
            let (namespace, deployment, context) = k8s(r, &mut t);
            Some(Action::K8sRolloutRestart {
                namespace: namespace?,
                deployment: deployment?,
                context,
            })
        }
        Some("k8s_scale") => {
            let (namespace, deployment, context) = k8s(r, &mut t);
            let replicas = req_u32(r, &mut t, "replicas");
            Some(Action::K8sScale {
                namespace: namespace?,
                deployment: deployment?,
                context,
                replicas: replicas?,
            })
        }
        Some("k8s_wait_available") => {
            let (namespace, deployment, context) = k8s(r, &mut t);
            let timeout = t
                .opt_duration(r, "timeout")
                .unwrap_or(Duration::from_secs(600));
            Some(Action::K8sWaitAvailable {
                namespace: namespace?,
                deployment: deployment?,
                context,
                timeout,
            })
        }
        Some("command") => {
            let argv = read_argv(r, &mut t);
            let env = t
                .opt_str_map(r, "env")
                .unwrap_or_default()
                .into_iter()
                .map(|(k, (v, _))| (k, v))
                .collect();
            let cwd = match t.str_at(r, "cwd") {
                Some((dir, span, path)) if !dir.starts_with('/') => {
                    // Relative to what? The directory the console happened to start in.
                    r.error(
                        span,
                        &path,
                        format!(
                            "cwd \"{dir}\" is relative: the step would run wherever the console was started; write an absolute path"
                        ),
                    );
                    None
                }
                Some((dir, span, path)) => {
                    if let Some(why) = super::tree::value_problem("cwd", &dir) {
                        r.error(span.clone(), &path, why);
                    }
                    let loc = r.loc(span, &path);
                    r.workdirs.push((PathBuf::from(&dir), loc));
                    Some(PathBuf::from(dir))
                }
                None => None,
            };
            let timeout = t
                .opt_duration(r, "timeout")
                .unwrap_or(Duration::from_secs(600));
            Some(Action::Command {
                argv: argv?,
                env,
                cwd,
                timeout,
                region: t.opt_str(r, "region"),
            })
        }
        Some("http") => {
            let method = t.opt_str(r, "method").unwrap_or_else(|| "POST".into());
            let url = t.req_str(r, "url");
            let headers = t
                .opt_str_map(r, "headers")
                .unwrap_or_default()
                .into_iter()
                .map(|(k, (v, _))| (k, v))
                .collect();
            let headers_env = read_headers_env(r, &mut t);
            let body = t.opt_str(r, "body");
            let expect_status = t.opt_int(r, "expect_status", 100, 599).unwrap_or(200) as u16;
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                let span = t.get("method").and_then(|f| f.span);
                r.error(
                    span,
                    &super::tree::join(&t.path, "method"),
                    format!("unknown method \"{method}\" (known: GET, POST, PUT, PATCH, DELETE)"),
                );
            }
            Some(Action::Http {
                method,
                url: url?,
                headers,
                headers_env,
                body,
                expect_status,
                region: t.opt_str(r, "region"),
            })
        }
        Some("checklist") => {
            if !t.has("items") {
                r.error(t.span.clone(), &t.path, "missing key `items`");
            }
            let items = t.opt_str_list(r, "items");
            if items.as_ref().is_some_and(|i| i.is_empty()) {
                let span = t.get("items").and_then(|f| f.span);
                r.error(
                    span,
                    &super::tree::join(&t.path, "items"),
                    "a checklist needs at least one item",
                );
            }
            if items
                .as_ref()
                .is_some_and(|i| i.iter().any(|x| x.trim().is_empty()))
            {
                let span = t.get("items").and_then(|f| f.span);
                r.error(
                    span,
                    &super::tree::join(&t.path, "items"),
                    "an empty checklist item: say what the person checks",
                );
            }
            Some(Action::Checklist { items: items? })
        }
        Some("notify") => {
            let template = t.req_str(r, "template");
            if let Some(tpl) = &template
                && !["initial", "update", "restoration"].contains(&tpl.as_str())
            {
                let span = t.get("template").and_then(|f| f.span);
                r.error(
                    span,
                    &super::tree::join(&t.path, "template"),
                    format!("unknown template \"{tpl}\" (known: initial, update, restoration)"),
                );
            }
            let status = t.opt_str(r, "status");
            if let Some(s) = &status
                && !super::schema::INCIDENT_STATUSES.contains(&s.as_str())
            {
                let span = t.get("status").and_then(|f| f.span);
                r.error(
                    span,
                    &super::tree::join(&t.path, "status"),
                    format!(
                        "unknown status \"{s}\" (known: {})",
                        super::schema::INCIDENT_STATUSES.join(", ")
                    ),
                );
                return None;
            }
            Some(Action::Notify {
                template: template?,
                status,
            })
        }
        Some(other) => {
            unknown_kind(
                r,
                &mut t,
                "action",
                other,
                "rds_promote_read_replica, rds_restore_snapshot, rds_restore_point_in_time, rds_failover_cluster, k8s_rollout_restart, k8s_scale, k8s_wait_available, command, http, checklist, notify",
            );
            None
        }
        None => None,
    };
    if !t.context.is_empty() {
        t.finish(r);
    }
    action
}

/// A restore's placement keys (see [`Placement`]).
fn read_placement(r: &mut Reader, t: &mut Tbl) -> Placement {
    let security_groups = t.opt_str_list(r, "security_groups");
    if let Some(groups) = &security_groups
        && groups.is_empty()
    {
        let span = t.get("security_groups").and_then(|f| f.span);
        r.error(
            span,
            &super::tree::join(&t.path, "security_groups"),
            "an empty list would leave the instance in no security group: name at least one",
        );
    }
    Placement {
        subnet_group: t.opt_str(r, "subnet_group"),
        security_groups,
        parameter_group: t.opt_str(r, "parameter_group"),
        option_group: t.opt_str(r, "option_group"),
        multi_az: t.opt_bool(r, "multi_az"),
        deletion_protection: t.opt_bool(r, "deletion_protection"),
        publicly_accessible: t.opt_bool(r, "publicly_accessible"),
        port: t
            .opt_int(r, "port", 1150, 65535)
            .and_then(|p| u16::try_from(p).ok()),
        tags: t
            .opt_str_map(r, "tags")
            .unwrap_or_default()
            .into_iter()
            .map(|(k, (v, _))| (k, v))
            .collect(),
        storage_type: t.opt_str(r, "storage_type"),
        iops: t
            .opt_int(r, "iops", 1000, 256_000)
            .and_then(|n| u32::try_from(n).ok()),
    }
}

fn read_precheck(r: &mut Reader, mut t: Tbl, refs: &mut Vec<(String, Loc)>) -> Option<Precheck> {
    let component = t.req_str(r, "component");
    if let Some(c) = &component {
        let span = t.get("component").and_then(|f| f.span);
        refs.push((
            c.clone(),
            r.loc(span, &super::tree::join(&t.path, "component")),
        ));
    }
    let lag = t.opt_duration(r, "lag_below");
    let backup = t.opt_duration(r, "backup_younger_than");
    let state = t.opt_str(r, "state");
    let given = [
        t.has("lag_below"),
        t.has("backup_younger_than"),
        t.has("state"),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    let check = if given != 1 {
        r.error(
            t.span.clone(),
            &t.path,
            "a precheck needs exactly one of `lag_below`, `backup_younger_than`, `state`",
        );
        None
    } else if let Some(max) = lag {
        Some((0, max, ExpectedState::Up))
    } else if let Some(max) = backup {
        Some((1, max, ExpectedState::Up))
    } else {
        match state.as_deref() {
            Some("up") => Some((2, Duration::ZERO, ExpectedState::Up)),
            Some("down") => Some((2, Duration::ZERO, ExpectedState::Down)),
            Some(other) => {
                let span = t.get("state").and_then(|f| f.span);
                r.error(
                    span,
                    &super::tree::join(&t.path, "state"),
                    format!("unknown state \"{other}\" (known: up, down)"),
                );
                None
            }
            None => None,
        }
    };
    t.finish(r);
    let component = component?;
    let (which, max, state) = check?;
    Some(match which {
        0 => Precheck::LagBelow { component, max },
        1 => Precheck::BackupYoungerThan { component, max },
        _ => Precheck::State { component, state },
    })
}

fn read_input(r: &mut Reader, mut t: Tbl) -> Option<(Input, Span)> {
    let name = t.req_str(r, "name");
    let name_span = t.get("name").and_then(|f| f.span);
    if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        r.error(
            name_span.clone(),
            &super::tree::join(&t.path, "name"),
            "an input needs a name: the modal asks for it by name",
        );
    }
    let kind = match t.opt_str(r, "kind").as_deref() {
        None | Some("text") => Some(InputKind::Text),
        Some("rfc3339") => Some(InputKind::Rfc3339),
        Some("integer") => Some(InputKind::Integer),
        Some(other) => {
            let span = t.get("kind").and_then(|f| f.span);
            r.error(
                span,
                &super::tree::join(&t.path, "kind"),
                format!("unknown input kind \"{other}\" (known: text, rfc3339, integer)"),
            );
            None
        }
    };
    let prompt = t.opt_str(r, "prompt");
    t.finish(r);
    Some((
        Input {
            name: name?,
            kind: kind?,
            prompt,
        },
        name_span,
    ))
}

/// What was read of a step: the step if all of it was valid, and its id, key and `requires`
/// (when readable) for the checks across steps, so that one error does not cascade.
struct StepRead {
    step: Option<Step>,
    id: Option<(String, Loc)>,
    key: Option<char>,
    key_loc: Loc,
    explicit_key: bool,
    requires: Vec<(String, Loc)>,
    /// Its `confirm`, else the step table.
    confirm_loc: Loc,
}

impl StepRead {
    fn id(&self) -> &str {
        self.id.as_ref().map_or("", |(id, _)| id.as_str())
    }
}

fn read_step(
    r: &mut Reader,
    mut t: Tbl,
    position: usize,
    refs: &mut Vec<(String, Loc)>,
) -> StepRead {
    let id = read_id(&mut t, r);
    let title = t.req_str(r, "title");
    let key_found = t.get("key").map(|f| (f.span, f.path));
    let key = match t.opt_str(r, "key") {
        Some(k) => {
            let mut chars = k.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if !c.is_whitespace() && !c.is_control() => Some(c),
                _ => {
                    let (span, path) = key_found
                        .clone()
                        .unwrap_or((t.span.clone(), t.path.clone()));
                    r.error(
                        span,
                        &path,
                        format!("key \"{k}\" must be one printable character"),
                    );
                    None
                }
            }
        }
        None if t.has("key") => None,
        None if position < 9 => char::from_digit(position as u32 + 1, 10),
        None => {
            r.error(
                t.span.clone(),
                &t.path,
                format!(
                    "step {} needs an explicit `key`: default keys are 1..9 by position",
                    position + 1
                ),
            );
            None
        }
    };
    let explicit_key = key_found.is_some();
    let key_loc = match &key_found {
        Some((span, path)) => r.loc(span.clone(), path),
        None => r.loc(t.span.clone(), &t.path),
    };
    let action = match t.opt_table(r, "action") {
        Some(a) => read_action(r, a),
        None => {
            r.error(t.span.clone(), &t.path, "missing key `action`");
            None
        }
    };
    let confirm = t.opt_str(r, "confirm");
    let confirm_loc = match t.get("confirm").and_then(|f| f.span) {
        Some(span) => r.loc(Some(span), &super::tree::join(&t.path, "confirm")),
        None => r.loc(t.span.clone(), &t.path),
    };
    if confirm.as_deref().is_some_and(|c| c.trim().is_empty()) {
        let span = t.get("confirm").and_then(|f| f.span);
        r.error(
            span,
            &super::tree::join(&t.path, "confirm"),
            "the confirm phrase may not be empty: nothing runs without typing something",
        );
    } else if let Some(c) = confirm.as_deref()
        && crate::text::clean(c) != c
    {
        // The modal drops what cannot be typed or seen: such a phrase could never be matched.
        let span = t.get("confirm").and_then(|f| f.span);
        r.error(
            span,
            &super::tree::join(&t.path, "confirm"),
            format!(
                "the confirm phrase holds characters nobody can type or see (control, bidi or invisible): {:?}",
                crate::text::clean(c)
            ),
        );
    }
    if confirm.is_none()
        && let Some(a) = &action
        && a.default_phrase().is_none()
    {
        r.error(
            t.span.clone(),
            &t.path,
            format!(
                "{} `{}` step needs a `confirm` phrase: nothing in it says what it acts on (e.g. confirm = \"dns to us-west-2\")",
                if a.kind() == "http" { "an" } else { "a" },
                a.kind()
            ),
        );
    }
    let requires = t
        .opt_str_list_spanned(r, "requires")
        .unwrap_or_default()
        .into_iter()
        .map(|(s, span, path)| {
            let loc = r.loc(span, &path);
            (s, loc)
        })
        .collect::<Vec<_>>();
    let mut precheck = Vec::new();
    let mut precheck_ok = true;
    for p in t.opt_tables(r, "precheck") {
        match read_precheck(r, p, refs) {
            Some(p) => precheck.push(p),
            None => precheck_ok = false,
        }
    }
    // The component whose data this step puts at stake (else the one whose probe reads the
    // action's instance: see app::stake).
    let component = t.str_at(r, "component").map(|(c, span, path)| {
        refs.push((c.clone(), r.loc(span, &path)));
        c
    });
    let verify = t.opt_table(r, "verify").map(|mut v| {
        let component = v.req_str(r, "component");
        if let Some(c) = &component {
            let span = v.get("component").and_then(|f| f.span);
            refs.push((
                c.clone(),
                r.loc(span, &super::tree::join(&v.path, "component")),
            ));
        }
        let up_within = v.req_duration(r, "up_within");
        let expect = v
            .opt_table(r, "expect")
            .map(|mut e| {
                let expect = Expect {
                    contains: e.opt_str(r, "contains"),
                    not_contains: e.opt_str(r, "not_contains"),
                };
                e.finish(r);
                expect
            })
            .unwrap_or_default();
        v.finish(r);
        Some(Verify {
            component: component?,
            up_within: up_within?,
            expect,
        })
    });
    let mut inputs = Vec::new();
    let mut inputs_ok = true;
    for i in t.opt_tables(r, "inputs") {
        match read_input(r, i) {
            Some((input, span)) => {
                if inputs
                    .iter()
                    .any(|(x, _): &(Input, Span)| x.name == input.name)
                {
                    let path = format!("{}.inputs", t.path);
                    r.error(span, &path, format!("duplicate input \"{}\"", input.name));
                    inputs_ok = false;
                } else {
                    inputs.push((input, span));
                }
            }
            None => inputs_ok = false,
        }
    }
    let inputs: Vec<Input> = inputs.into_iter().map(|(i, _)| i).collect();
    if let Some(Action::RdsRestorePointInTime { .. }) = &action
        && inputs_ok
        && !inputs.iter().any(|i| i.kind == InputKind::Rfc3339)
    {
        r.error(
            t.span.clone(),
            &t.path,
            "a point-in-time restore needs the time as an input: inputs = [{ name = \"time\", kind = \"rfc3339\" }]",
        );
        inputs_ok = false;
    }
    t.finish(r);
    let step = (|| {
        let action = action?;
        let verify = match verify {
            Some(v) => Some(v?),
            None => None,
        };
        if !(precheck_ok && inputs_ok) {
            return None;
        }
        Some(Step {
            id: id.as_ref()?.0.clone(),
            title: title?,
            key: key?,
            confirm: confirm.or_else(|| action.default_phrase())?,
            action,
            requires: requires.iter().map(|(s, _)| s.clone()).collect(),
            precheck,
            verify,
            inputs,
            component,
        })
    })();
    StepRead {
        step,
        id,
        key,
        key_loc,
        explicit_key,
        requires,
        confirm_loc,
    }
}

fn read_runbook(
    r: &mut Reader,
    mut t: Tbl,
    refs: &mut Vec<(String, Loc)>,
) -> Option<(Runbook, Loc, Vec<Loc>)> {
    let id = read_id(&mut t, r);
    let title = t.req_str(r, "title");
    // Which DR level the runbook serves (1 one service … 4 everything): the console opens the
    // runbook panel on the one the situation calls for.
    let level = t
        .opt_int(r, "level", 1, 4)
        .and_then(|n| u8::try_from(n).ok());
    let step_tables = t.opt_tables(r, "step");
    if step_tables.is_empty() {
        r.error(
            t.span.clone(),
            &t.path,
            "a runbook needs at least one [[runbook.step]]",
        );
    }
    let count = step_tables.len();
    let steps: Vec<StepRead> = step_tables
        .into_iter()
        .enumerate()
        .map(|(i, s)| read_step(r, s, i, refs))
        .collect();
    t.finish(r);
    check_steps(r, &steps);
    let (id, loc) = id?;
    let phrases: Vec<Loc> = steps.iter().map(|s| s.confirm_loc.clone()).collect();
    let steps: Vec<Step> = steps.into_iter().filter_map(|s| s.step).collect();
    if steps.len() != count {
        return None;
    }
    Some((
        Runbook {
            id,
            title: title?,
            file: r.src.path.clone(),
            level,
            steps,
        },
        loc,
        phrases,
    ))
}

/// Step ids, keys and `requires` within one runbook.
fn check_steps(r: &mut Reader, steps: &[StepRead]) {
    let mut ids: HashMap<&str, &Loc> = HashMap::new();
    for (id, loc) in steps.iter().filter_map(|s| s.id.as_ref()) {
        if let Some(first) = ids.get(id.as_str()) {
            r.diags.push(loc.error(format!(
                "duplicate step id \"{id}\" (first at {})",
                first.short()
            )));
        } else {
            ids.insert(id, loc);
        }
    }
    let mut keys: HashMap<char, &StepRead> = HashMap::new();
    for s in steps {
        let Some(key) = s.key else { continue };
        let how = if s.explicit_key {
            String::new()
        } else {
            " (its default key by position)".to_string()
        };
        if CONSOLE_KEYS.contains(&key) {
            r.diags.push(s.key_loc.error(format!(
                "key '{key}'{how} is the console's own key ({}); choose another",
                CONSOLE_KEYS
                    .iter()
                    .map(|c| format!("'{c}'"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )));
        } else if let Some(first) = keys.get(&key) {
            r.diags.push(s.key_loc.error(format!(
                "key '{key}'{how} is already used by step \"{}\" at {}",
                first.id(),
                first.key_loc.short()
            )));
        } else {
            keys.insert(key, s);
        }
    }
    for s in steps {
        for (req, loc) in &s.requires {
            if req == s.id() {
                r.diags
                    .push(loc.error(format!("step \"{req}\" requires itself")));
            } else if !ids.contains_key(req.as_str()) {
                r.diags.push(loc.error(format!(
                    "unknown step \"{req}\" (steps of this runbook: {})",
                    steps
                        .iter()
                        .filter_map(|s| s.id.as_ref().map(|(id, _)| id.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    report_cycles(r, steps);
}

/// Finds `requires` cycles (a → b → a) and reports each once, at the edge that closes it.
fn report_cycles(r: &mut Reader, steps: &[StepRead]) {
    let index: HashMap<&str, usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.id.is_some())
        .map(|(i, s)| (s.id(), i))
        .collect();
    // 0 = unvisited, 1 = on the current path, 2 = done
    let mut mark = vec![0u8; steps.len()];
    let mut path: Vec<usize> = Vec::new();

    fn visit(
        i: usize,
        steps: &[StepRead],
        index: &HashMap<&str, usize>,
        mark: &mut [u8],
        path: &mut Vec<usize>,
        r: &mut Reader,
    ) {
        mark[i] = 1;
        path.push(i);
        for (req, loc) in &steps[i].requires {
            let Some(&j) = index.get(req.as_str()) else {
                continue;
            };
            if j == i {
                continue; // reported as "requires itself"
            }
            match mark[j] {
                0 => visit(j, steps, index, mark, path, r),
                1 => {
                    let start = path.iter().position(|&p| p == j).unwrap_or(0);
                    let mut names: Vec<&str> =
                        path[start..].iter().map(|&p| steps[p].id()).collect();
                    names.push(steps[j].id());
                    r.diags.push(
                        loc.error(format!("`requires` forms a cycle: {}", names.join(" → "))),
                    );
                }
                _ => {}
            }
        }
        path.pop();
        mark[i] = 2;
    }

    for i in 0..steps.len() {
        if mark[i] == 0 {
            visit(i, steps, &index, &mut mark, &mut path, r);
        }
    }
}
