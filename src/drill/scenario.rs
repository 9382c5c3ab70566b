//! Drill scenarios: what goes wrong in the simulated estate, when, and what actions do to it.
//!
//! # Format (TOML)
//!
//! ```toml
//! name = "region-outage"                      # required
//! description = "Level 3: us-east-1 is lost"  # optional, one line for the screen
//!
//! # A timeline of changes at offsets of simulated time from the start of the drill.
//! [[event]]
//! at = "5s"                                   # required: a duration ("0s", "90s", "2m", "1h 30m")
//! component = "db-primary"                    # required: a component id, or a list of ids
//! health = "down"                             # up | degraded | down | unknown
//! detail = "no route to host (db.dtem.internal:5432)"      # the health detail shown
//! # reason = "unreachable"                    # with health = "unknown": timeout | credentials |
//! #                                           #   access_denied | unreachable | no_datapoints | other
//! # latency = "2.5s"                          # how long the health probe's answer takes (an
//! #                                           #   `http` probe at or above warn_latency shows DEGRADED)
//! # replicas = 5                              # a k8s_deployment component's desired replicas
//!
//! [[event]]
//! at = "5s"
//! component = "db-primary"
//! lag = "2s"                                  # the replica lag now: a duration, "not_running"
//!                                             #   (replication stopped: CloudWatch −1) or "no_data"
//! lag_rate = "1s/s"                           # how fast the lag grows: <duration>/<unit>, e.g.
//!                                             #   "1s/s", "30s/m"; "0s/s" holds it; kept until changed
//! # lag_detail = "not streaming"              # the detail of "not_running" (postgres_replica)
//! backup_age = "14h"                          # the newest backup's age now, or "missing"
//! backup_every = "never"                      # a new backup completes each time the age reaches
//!                                             #   this (the age starts again from 0), or "never"
//! # backup_detail = "no snapshot found"       # the detail of "missing"
//!
//! [[event]]
//! at = "40m"
//! component = "web-apps"
//! health = "up"
//! unless_step = ["update-dns", "dns"]         # the event does not happen if one of these steps
//!                                             #   ran before it (e.g. DNS no longer points here)
//!
//! # What running a step's action does, besides its built-in effect (see below).
//! [[effect]]
//! step = ["update-dns", "dns"]                # which actions trigger it; each key given must
//! # target = "Z123456789"                     #   match (a string or a list of strings):
//! # region = "us-east-1"                      #   step id, the action's target name (what
//! # context = "dtem-us-east-1"                #   `confirm` defaults to), the action's region
//! #                                           #   (rds_*), the action's kube context (k8s_*)
//! after = "60s"                               # delay after the action completed; default 0s
//! # until = "40m"                             # only actions run before this offset of simulated
//! #                                           #   time trigger it (e.g. while a region is down)
//! component = "web-apps"                      # then the same change keys as an event
//! health = "up"
//! detail = "HTTP 200 (served from us-west-2)"
//!
//! [[effect]]
//! context = "dtem-us-east-1"
//! fail = "Unable to connect to the server: dial tcp: i/o timeout"   # the action fails instead
//!
//! # How long actions take, in simulated time, per action kind (the defaults are below).
//! [delays]
//! rds_promote_read_replica = "90s"
//! ```
//!
//! Before the first event every component is UP, with a small constant lag and a backup that
//! is renewed regularly (age below half its warn threshold). Events at the same offset apply
//! in file order.
//!
//! A promoted replica stays promoted: once `rds_promote_read_replica` has stopped the
//! replication a component's lag watches, an event's `lag` and `lag_rate` no longer apply to
//! that component (time alone does not make a primary replicate again); only an effect's lag
//! change does — a step that rebuilds the replica — and it ends the rule.
//!
//! # Built-in effects of actions (every action kind; a drill never touches a real system)
//!
//! | action | the call | then |
//! |---|---|---|
//! | `rds_promote_read_replica` | 2s | the component whose health watches the instance is DEGRADED "modifying" and UP after the delay (90s); the lag whose replica is the instance stops: "not running" (it is a primary now, and stays one: see above) |
//! | `rds_restore_snapshot`, `rds_restore_point_in_time` | 2s | the component watching `target` comes UP after the delay (180s / 240s); a snapshot restore fails if the source's backups are "missing", a point-in-time restore without a valid past `rfc3339` input fails |
//! | `rds_failover_cluster` | 2s | nothing built in (60s delay for effects' sake) |
//! | `k8s_rollout_restart` | 1s | the deployment's component is DEGRADED while it rolls, UP after the delay (45s) |
//! | `k8s_scale` | 1s | the deployment's component: DEGRADED "n/N available" while scaling, UP after the delay (60s); 0 replicas = DOWN |
//! | `k8s_wait_available` | until the deployment's component is UP (or its rollout done), or fails at its `timeout` |
//! | `http` | 1s | fails when a component's `http` health probe on the same host is DOWN or UNKNOWN |
//! | `command`, `checklist`, `notify` | 3s, 1s, 2s | nothing built in |
//!
//! Scenario effects land `after` the call completed; a `fail` effect makes the action fail
//! with no effect at all; an effect with `until` is triggered only by actions run before
//! that offset. `[delays]` replaces the delay of a kind (for `command`, `http`, `checklist`
//! and `notify`: the call itself).
//!
//! # Checks
//!
//! [`Scenario::parse`] reports every error with line:col (unknown keys, bad durations, bad
//! values); [`Scenario::check`] checks a scenario against a config (unknown component ids,
//! lag or backup changes on a component without that probe, `replicas` on a component that is
//! not a k8s deployment, effects or `unless_step` naming steps or targets no runbook has).
//! [`validate`] does both.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::app::ObserveError;
use crate::config::tree::{Reader as Cx, Span, Tbl, join, parse_duration, type_name};
use crate::config::{Config, Diagnostic, Diagnostics, HealthKind, diagnostic::SourceFile};

/// The built-in scenarios: name and text (also under `config/scenarios/`).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "region-outage",
        include_str!("../../config/scenarios/region-outage.toml"),
    ),
    (
        "az-failure",
        include_str!("../../config/scenarios/az-failure.toml"),
    ),
    ("steady", include_str!("../../config/scenarios/steady.toml")),
];

/// The scenario of `warroom drill` without one.
pub const DEFAULT: &str = "region-outage";

/// A component health as a scenario sets it.
#[derive(Debug, Clone, PartialEq)]
pub enum SimHealth {
    Up,
    Degraded,
    Down,
    /// The probe cannot tell: credentials, control plane unreachable, timeout…
    Unknown(ObserveError),
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthSet {
    pub state: SimHealth,
    /// `None`: the default detail of the component's probe kind for that state.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LagSet {
    Seconds(f64),
    /// Replication is not running (CloudWatch −1; a PostgreSQL standby not streaming).
    NotRunning(Option<String>),
    /// The metric has no datapoints.
    NoData,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BackupSet {
    Age(Duration),
    Missing(Option<String>),
}

/// What an event or an effect changes on its components.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    pub health: Option<HealthSet>,
    pub latency: Option<Duration>,
    pub replicas: Option<u32>,
    pub lag: Option<LagSet>,
    /// Seconds of lag gained per second of simulated time.
    pub lag_rate: Option<f64>,
    pub backup_age: Option<BackupSet>,
    /// `Some(None)`: no new backups any more.
    pub backup_every: Option<Option<Duration>>,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        *self == Change::default()
    }

    pub(crate) fn touches_lag(&self) -> bool {
        self.lag.is_some() || self.lag_rate.is_some()
    }

    fn touches_backup(&self) -> bool {
        self.backup_age.is_some() || self.backup_every.is_some()
    }
}

/// Where something was written in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spot {
    pub line_col: (usize, usize),
    /// Key path, e.g. `event[2].component`.
    pub path: String,
}

/// A component id as written, with where.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    pub id: String,
    pub spot: Spot,
}

/// A change at an offset of simulated time.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioEvent {
    pub at: Duration,
    pub components: Vec<Named>,
    pub change: Change,
    /// The event does not happen if one of these steps ran before it.
    pub unless_steps: Vec<Named>,
    pub spot: Spot,
}

/// Which actions trigger an effect: every non-empty list must contain the action's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trigger {
    pub steps: Vec<Named>,
    pub targets: Vec<Named>,
    pub regions: Vec<String>,
    pub contexts: Vec<String>,
}

/// What running a matching action does.
#[derive(Debug, Clone, PartialEq)]
pub struct StepEffect {
    pub trigger: Trigger,
    /// After the action's call completed.
    pub after: Duration,
    /// Only actions run before this offset from the start trigger it.
    pub until: Option<Duration>,
    pub components: Vec<Named>,
    pub change: Change,
    /// The action fails with this reason (and changes nothing).
    pub fail: Option<String>,
    pub spot: Spot,
}

/// Action kinds, as in the config.
pub const ACTION_KINDS: &[&str] = &[
    "rds_promote_read_replica",
    "rds_restore_snapshot",
    "rds_restore_point_in_time",
    "rds_failover_cluster",
    "k8s_rollout_restart",
    "k8s_scale",
    "k8s_wait_available",
    "command",
    "http",
    "checklist",
    "notify",
];

/// The default delay of an action kind: until its built-in effect lands (rds, k8s), or the
/// call itself (command, http, checklist, notify).
pub fn default_delay(kind: &str) -> Duration {
    let secs = match kind {
        "rds_promote_read_replica" => 90,
        "rds_restore_snapshot" => 180,
        "rds_restore_point_in_time" => 240,
        "rds_failover_cluster" => 60,
        "k8s_rollout_restart" => 45,
        "k8s_scale" => 60,
        "command" => 3,
        "notify" => 2,
        _ => 1,
    };
    Duration::from_secs(secs)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The file it was read from (`config/scenarios/NAME.toml` for a built-in).
    pub path: PathBuf,
    /// In time order; events at the same offset in file order.
    pub events: Vec<ScenarioEvent>,
    pub effects: Vec<StepEffect>,
    /// Per action kind, replacing [`default_delay`].
    pub delays: BTreeMap<String, Duration>,
}

impl Scenario {
    /// A built-in scenario by name (see [`BUILTIN`]).
    pub fn builtin(name: &str) -> Option<Scenario> {
        let (name, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        let path = builtin_path(name);
        // A test parses every built-in: an error here is a broken build.
        Some(
            Scenario::parse(&path, text)
                .unwrap_or_else(|d| panic!("built-in scenario {name} is invalid:\n{d}")),
        )
    }

    pub fn builtin_names() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(n, _)| *n)
    }

    /// Reads a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, Diagnostics> {
        let text = crate::files::read_text(path, crate::files::SCENARIO_MAX)
            .map_err(|e| Diagnostics(vec![Diagnostic::unreadable(path, &e)]))?;
        Scenario::parse(path, &text)
    }

    /// What `warroom drill SCENARIO` means: a built-in name, else a path.
    pub fn resolve(arg: &str) -> Result<Scenario, Diagnostics> {
        match Scenario::builtin(arg) {
            Some(s) => Ok(s),
            None if !arg.contains('/') && !arg.ends_with(".toml") => {
                Err(Diagnostics(vec![Diagnostic::file(
                    Path::new(arg),
                    format!(
                        "no such scenario: built-in scenarios are {}; or give a path to a scenario file",
                        Scenario::builtin_names().collect::<Vec<_>>().join(", ")
                    ),
                )]))
            }
            None => Scenario::load(Path::new(arg)),
        }
    }

    /// Parses a scenario, reporting every error with line:col. `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Scenario, Diagnostics> {
        let src = SourceFile::new(path, text.to_string());
        let mut diags = Vec::new();
        let scenario = read(&mut Cx {
            src: &src,
            diags: &mut diags,
            workdirs: Vec::new(),
        });
        match scenario {
            Some(s) if diags.is_empty() => Ok(s),
            _ => {
                diags.sort_by_key(|d| d.location);
                Err(Diagnostics(diags))
            }
        }
    }

    /// Every way this scenario does not fit `config`.
    pub fn check(&self, config: &Config) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let mut known: Vec<&str> = config.components.iter().map(|c| c.id.as_str()).collect();
        known.sort_unstable();
        let check_named = |named: &[Named], change: &Change, out: &mut Vec<Diagnostic>| {
            for n in named {
                let Some(c) = config.component(&n.id) else {
                    let msg = if known.is_empty() {
                        format!(
                            "unknown component \"{}\" (the config has no component)",
                            n.id
                        )
                    } else {
                        format!(
                            "unknown component \"{}\" (known: {})",
                            n.id,
                            known.join(", ")
                        )
                    };
                    out.push(self.error(&n.spot, msg));
                    continue;
                };
                if change.touches_lag() && c.lag.is_none() {
                    out.push(self.error(
                        &n.spot,
                        format!("component \"{}\" has no lag probe: nothing to change", n.id),
                    ));
                }
                if change.touches_backup() && c.backup.is_none() {
                    out.push(self.error(
                        &n.spot,
                        format!(
                            "component \"{}\" has no backup probe: nothing to change",
                            n.id
                        ),
                    ));
                }
                if change.replicas.is_some()
                    && !matches!(c.health.kind, HealthKind::K8sDeployment { .. })
                {
                    out.push(self.error(
                        &n.spot,
                        format!(
                            "`replicas` applies to a k8s_deployment health probe; \"{}\" is watched by {}",
                            n.id,
                            c.health.kind.name()
                        ),
                    ));
                }
            }
        };
        let steps: Vec<&crate::config::Step> =
            config.runbooks.iter().flat_map(|r| &r.steps).collect();
        for e in &self.events {
            check_named(&e.components, &e.change, &mut out);
            for s in &e.unless_steps {
                if !steps.iter().any(|st| st.id == s.id) {
                    out.push(self.error(&s.spot, format!("no runbook step has id \"{}\"", s.id)));
                }
            }
        }
        for e in &self.effects {
            check_named(&e.components, &e.change, &mut out);
            for s in &e.trigger.steps {
                if !steps.iter().any(|st| st.id == s.id) {
                    out.push(self.error(&s.spot, format!("no runbook step has id \"{}\"", s.id)));
                }
            }
            for t in &e.trigger.targets {
                if !steps.iter().any(|st| st.action.target_name() == t.id) {
                    out.push(self.error(
                        &t.spot,
                        format!("no runbook step's action targets \"{}\"", t.id),
                    ));
                }
            }
        }
        out.sort_by_key(|d| d.location);
        out
    }

    fn error(&self, spot: &Spot, message: String) -> Diagnostic {
        Diagnostic {
            file: self.path.clone(),
            location: Some(spot.line_col),
            path: spot.path.clone(),
            message,
        }
    }

    /// The delay of an action kind in this scenario.
    pub fn delay(&self, kind: &str) -> Duration {
        self.delays
            .get(kind)
            .copied()
            .unwrap_or_else(|| default_delay(kind))
    }
}

/// Where a built-in scenario lives in the source tree (its name in errors).
pub fn builtin_path(name: &str) -> PathBuf {
    PathBuf::from(format!("config/scenarios/{name}.toml"))
}

/// Parses a scenario file and checks it against `config`: every error, for `warroom check`.
pub fn validate(src: &SourceFile, config: &Config) -> Vec<Diagnostic> {
    match Scenario::parse(&src.path, &src.text) {
        Ok(s) => s.check(config),
        Err(d) => d.0,
    }
}

/// [`validate`] for a file on disk.
pub fn validate_path(path: &Path, config: &Config) -> Vec<Diagnostic> {
    match Scenario::load(path) {
        Ok(s) => s.check(config),
        Err(d) => d.0,
    }
}

// ---------------------------------------------------------------- reading

/// Where something was written, kept for the checks against a config.
fn spot(cx: &Cx, span: &Span, path: &str) -> Spot {
    Spot {
        line_col: cx.src.line_col(span.as_ref().map_or(0, |s| s.start)),
        path: path.to_string(),
    }
}

/// A string or a list of strings (component ids, step ids, …), each with where it was written.
fn names(t: &mut Tbl, cx: &mut Cx, key: &'static str) -> Option<Vec<Named>> {
    let f = t.get(key)?;
    if let Some(s) = f.item.as_str() {
        return Some(vec![Named {
            id: s.to_string(),
            spot: spot(cx, &f.span, &f.path),
        }]);
    }
    let Some(array) = f.item.as_array() else {
        cx.error(
            f.span,
            &f.path,
            format!(
                "expected a string or a list of strings, found {}",
                type_name(f.item)
            ),
        );
        return None;
    };
    let mut out = Vec::new();
    for (i, v) in array.iter().enumerate() {
        let path = format!("{}[{i}]", f.path);
        match v.as_str() {
            Some(s) => out.push(Named {
                id: s.to_string(),
                spot: spot(cx, &v.span(), &path),
            }),
            None => cx.error(
                v.span(),
                &path,
                format!("expected a string, found {}", v.type_name()),
            ),
        }
    }
    if out.is_empty() && array.is_empty() {
        cx.error(f.span, &f.path, "an empty list names nothing");
    }
    Some(out)
}

fn read(cx: &mut Cx) -> Option<Scenario> {
    let doc = match toml_edit::Document::parse(cx.src.text.as_str()) {
        Ok(doc) => doc,
        Err(e) => {
            cx.error(e.span(), "", format!("TOML syntax: {}", e.message().trim()));
            return None;
        }
    };
    let mut root = Tbl::new(doc.as_table(), String::new(), None);
    let name = match root.str_at(cx, "name") {
        Some((n, _, _)) => n,
        None if !root.has("name") => {
            root.missing_because(cx, "name", " (the scenario's name)");
            String::new()
        }
        None => String::new(),
    };
    let description = root
        .str_at(cx, "description")
        .map(|(d, _, _)| d)
        .unwrap_or_default();

    let mut events = Vec::new();
    for t in root.opt_tables(cx, "event") {
        events.extend(read_event(cx, t));
    }
    // Stable: events at the same offset keep their file order.
    events.sort_by_key(|e: &ScenarioEvent| e.at);

    let mut effects = Vec::new();
    for t in root.opt_tables(cx, "effect") {
        effects.extend(read_effect(cx, t));
    }

    let mut delays = BTreeMap::new();
    if let Some(f) = root.get("delays") {
        match f.item.as_table_like() {
            Some(t) => {
                for (kind, v) in t.iter() {
                    let path = join(&f.path, kind);
                    let key_span = t.key(kind).and_then(|k| k.span());
                    let span = v.span().or_else(|| key_span.clone());
                    if kind == "k8s_wait_available" {
                        cx.error(
                            key_span,
                            &path,
                            "k8s_wait_available waits for its deployment: it has no delay of its own",
                        );
                        continue;
                    }
                    if !ACTION_KINDS.contains(&kind) {
                        cx.error(
                            key_span,
                            &path,
                            format!(
                                "unknown action kind `{kind}` (known: {})",
                                ACTION_KINDS
                                    .iter()
                                    .filter(|k| **k != "k8s_wait_available")
                                    .copied()
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                        continue;
                    }
                    match v.as_str() {
                        Some(text) => {
                            if let Some(d) = parse_duration(cx, text, span, &path) {
                                delays.insert(kind.to_string(), d);
                            }
                        }
                        None => cx.error(
                            span,
                            &path,
                            format!(
                                "expected a duration string such as \"30s\", \"15m\" or \"1h\", found {}",
                                type_name(v)
                            ),
                        ),
                    }
                }
            }
            None => cx.error(
                f.span,
                &f.path,
                format!("expected a table, found {}", type_name(f.item)),
            ),
        }
    }
    root.finish(cx);
    Some(Scenario {
        name,
        description,
        path: cx.src.path.clone(),
        events,
        effects,
        delays,
    })
}

/// Keys of a change, for the "needs at least one change" message.
const CHANGE_KEYS: &str = "health, latency, replicas, lag, lag_rate, backup_age, backup_every";

fn read_event(cx: &mut Cx, mut t: Tbl) -> Option<ScenarioEvent> {
    let errors = cx.diags.len();
    let at = if t.has("at") {
        t.opt_duration(cx, "at")
    } else {
        t.missing_because(cx, "at", " (when, e.g. at = \"30s\")");
        None
    };
    let components = if t.has("component") {
        names(&mut t, cx, "component")
    } else {
        t.missing_because(cx, "component", " (a component id, or a list of ids)");
        None
    };
    let change = read_change(cx, &mut t);
    if change.as_ref().is_some_and(Change::is_empty) {
        cx.error(
            t.span.clone(),
            &t.path,
            format!("an event needs at least one change ({CHANGE_KEYS})"),
        );
    }
    let unless_steps = names(&mut t, cx, "unless_step").unwrap_or_default();
    let spot = spot(cx, &t.span, &t.path);
    t.finish(cx);
    if cx.diags.len() > errors {
        return None;
    }
    Some(ScenarioEvent {
        at: at?,
        components: components?,
        change: change?,
        unless_steps,
        spot,
    })
}

fn read_effect(cx: &mut Cx, mut t: Tbl) -> Option<StepEffect> {
    let errors = cx.diags.len();
    let mut trigger = Trigger {
        steps: names(&mut t, cx, "step").unwrap_or_default(),
        targets: names(&mut t, cx, "target").unwrap_or_default(),
        ..Trigger::default()
    };
    trigger.regions = names(&mut t, cx, "region")
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.id)
        .collect();
    trigger.contexts = names(&mut t, cx, "context")
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.id)
        .collect();
    if !["step", "target", "region", "context"]
        .iter()
        .any(|k| t.has(k))
    {
        cx.error(
            t.span.clone(),
            &t.path,
            "an effect needs `step`, `target`, `region` or `context`: which actions trigger it",
        );
    }
    let after = if t.has("after") {
        t.opt_duration(cx, "after")
    } else {
        Some(Duration::ZERO)
    };
    let until = t.opt_duration(cx, "until");
    let fail = t.str_at(cx, "fail");
    let components = names(&mut t, cx, "component");
    let change = read_change(cx, &mut t);
    let spot = spot(cx, &t.span, &t.path);
    match (&fail, &components, &change) {
        (Some((_, span, path)), Some(_), _) => cx.error(
            span.clone(),
            path,
            "an effect that fails the action changes nothing: no `component` with `fail`",
        ),
        (Some((_, span, path)), None, Some(c)) if !c.is_empty() => cx.error(
            span.clone(),
            path,
            "an effect that fails the action changes nothing: no changes with `fail`",
        ),
        (None, None, _) if !t.has("component") => cx.error(
            t.span.clone(),
            &t.path,
            "missing key `component` (what the effect changes), or `fail` (the action fails)",
        ),
        (None, Some(_), Some(c)) if c.is_empty() => cx.error(
            t.span.clone(),
            &t.path,
            format!("an effect needs at least one change ({CHANGE_KEYS})"),
        ),
        _ => {}
    }
    t.finish(cx);
    if cx.diags.len() > errors {
        return None;
    }
    Some(StepEffect {
        trigger,
        after: after?,
        until,
        components: components.unwrap_or_default(),
        change: change?,
        fail: fail.map(|(f, _, _)| f),
        spot,
    })
}

/// The change keys of an event or an effect; `None` if one of them was wrong.
fn read_change(cx: &mut Cx, t: &mut Tbl) -> Option<Change> {
    let errors = cx.diags.len();
    let mut change = Change::default();

    let detail = t.str_at(cx, "detail");
    let reason = t.str_at(cx, "reason");
    if let Some((state, span, path)) = t.str_at(cx, "health") {
        let state = match state.as_str() {
            "up" => Some(SimHealth::Up),
            "degraded" => Some(SimHealth::Degraded),
            "down" => Some(SimHealth::Down),
            "unknown" => {
                let text = detail.as_ref().map(|(d, _, _)| d.clone());
                read_reason(cx, reason.as_ref(), text).map(SimHealth::Unknown)
            }
            other => {
                cx.error(
                    span,
                    &path,
                    format!("unknown health \"{other}\" (expected up, degraded, down or unknown)"),
                );
                None
            }
        };
        if let Some(state) = state {
            if !matches!(state, SimHealth::Unknown(_))
                && let Some((_, span, path)) = &reason
            {
                cx.error(
                    span.clone(),
                    path,
                    "`reason` says why a probe cannot observe: only with health = \"unknown\"",
                );
            }
            let detail = match &state {
                // The detail of "unknown" went into its reason.
                SimHealth::Unknown(_) => None,
                _ => detail.as_ref().map(|(d, _, _)| d.clone()),
            };
            change.health = Some(HealthSet { state, detail });
        }
    } else {
        for (key, found) in [("detail", &detail), ("reason", &reason)] {
            if let Some((_, span, path)) = found {
                cx.error(
                    span.clone(),
                    path,
                    format!("`{key}` belongs to `health`: set `health` too"),
                );
            }
        }
    }

    change.latency = t.opt_duration(cx, "latency");
    if let Some(f) = t.get("replicas") {
        match f.item.as_integer() {
            Some(n) if (0..=100_000).contains(&n) => change.replicas = Some(n as u32),
            Some(n) => cx.error(
                f.span,
                &f.path,
                format!("{n} is out of range: expected 0 to 100000"),
            ),
            None => cx.error(
                f.span,
                &f.path,
                format!("expected an integer, found {}", type_name(f.item)),
            ),
        }
    }

    let lag_detail = t.str_at(cx, "lag_detail");
    if let Some((text, span, path)) = t.str_at(cx, "lag") {
        change.lag = match text.as_str() {
            "not_running" => Some(LagSet::NotRunning(
                lag_detail.as_ref().map(|(d, _, _)| d.clone()),
            )),
            "no_data" => Some(LagSet::NoData),
            _ if text.starts_with(|c: char| c.is_ascii_digit()) => {
                parse_duration(cx, &text, span, &path).map(|d| LagSet::Seconds(d.as_secs_f64()))
            }
            _ => {
                cx.error(
                    span,
                    &path,
                    format!(
                        "bad lag \"{text}\": write a duration (e.g. \"2s\"), \"not_running\" or \"no_data\""
                    ),
                );
                None
            }
        };
    }
    if let Some((_, span, path)) = &lag_detail
        && !matches!(change.lag, Some(LagSet::NotRunning(_)))
        && cx.diags.len() == errors
    {
        cx.error(
            span.clone(),
            path,
            "`lag_detail` describes lag = \"not_running\": set that too",
        );
    }
    if let Some((text, span, path)) = t.str_at(cx, "lag_rate") {
        match rate(&text) {
            Some(r) => change.lag_rate = Some(r),
            None => cx.error(
                span,
                &path,
                format!(
                    "bad rate \"{text}\": write lag gained per unit of time, e.g. \"1s/s\" or \"30s/m\" (\"0s/s\" holds the lag)"
                ),
            ),
        }
    }

    let backup_detail = t.str_at(cx, "backup_detail");
    if let Some((text, span, path)) = t.str_at(cx, "backup_age") {
        change.backup_age = match text.as_str() {
            "missing" => Some(BackupSet::Missing(
                backup_detail.as_ref().map(|(d, _, _)| d.clone()),
            )),
            _ if text.starts_with(|c: char| c.is_ascii_digit()) => {
                parse_duration(cx, &text, span, &path).map(BackupSet::Age)
            }
            _ => {
                cx.error(
                    span,
                    &path,
                    format!(
                        "bad backup_age \"{text}\": write a duration (e.g. \"14h\") or \"missing\""
                    ),
                );
                None
            }
        };
    }
    if let Some((_, span, path)) = &backup_detail
        && !matches!(change.backup_age, Some(BackupSet::Missing(_)))
        && cx.diags.len() == errors
    {
        cx.error(
            span.clone(),
            path,
            "`backup_detail` describes backup_age = \"missing\": set that too",
        );
    }
    if let Some((text, span, path)) = t.str_at(cx, "backup_every") {
        if text == "never" {
            change.backup_every = Some(None);
        } else if let Some(d) = parse_duration(cx, &text, span.clone(), &path) {
            if d.is_zero() {
                cx.error(
                    span,
                    &path,
                    "backup_every must be more than 0s (or \"never\")",
                );
            } else {
                change.backup_every = Some(Some(d));
            }
        }
    }

    (cx.diags.len() == errors).then_some(change)
}

fn read_reason(
    cx: &mut Cx,
    reason: Option<&(String, Span, String)>,
    detail: Option<String>,
) -> Option<ObserveError> {
    let text = |default: &str| detail.clone().unwrap_or_else(|| default.to_string());
    let Some((word, span, path)) = reason else {
        return Some(ObserveError::Unreachable(text("control-plane API")));
    };
    if matches!(word.as_str(), "timeout" | "no_datapoints") && detail.is_some() {
        cx.error(
            span.clone(),
            path,
            format!("reason \"{word}\" has no detail of its own: drop `detail`"),
        );
        return None;
    }
    Some(match word.as_str() {
        "timeout" => ObserveError::Timeout,
        "credentials" => ObserveError::Credentials(text("token expired")),
        "access_denied" => ObserveError::AccessDenied(text("not authorized")),
        "unreachable" => ObserveError::Unreachable(text("control-plane API")),
        "no_datapoints" => ObserveError::NoDatapoints,
        "other" => ObserveError::Other(text("cannot observe")),
        other => {
            cx.error(
                span.clone(),
                path,
                format!(
                    "unknown reason \"{other}\" (expected timeout, credentials, access_denied, unreachable, no_datapoints or other)"
                ),
            );
            return None;
        }
    })
}

/// "1s/s", "30s/m", "1m/1h": seconds gained per second.
fn rate(text: &str) -> Option<f64> {
    let (num, den) = text.split_once('/')?;
    let num = humantime::parse_duration(num.trim()).ok()?;
    let den = den.trim();
    let den = if den.starts_with(|c: char| c.is_ascii_digit()) {
        humantime::parse_duration(den).ok()?
    } else {
        humantime::parse_duration(&format!("1{den}")).ok()?
    };
    if den.is_zero() {
        return None;
    }
    Some(num.as_secs_f64() / den.as_secs_f64())
}

#[cfg(test)]
mod tests;
