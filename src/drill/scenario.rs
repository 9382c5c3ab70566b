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

mod read;
use read::*;

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

#[cfg(test)]
mod tests;
