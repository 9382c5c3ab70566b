use super::*;
use crate::config::load::load_embedded_example;

fn lines(d: &[Diagnostic]) -> Vec<String> {
    d.iter().map(|d| d.to_string()).collect()
}

fn parse_err(text: &str) -> Vec<String> {
    lines(
        &Scenario::parse(Path::new("s.toml"), text)
            .expect_err("invalid")
            .0,
    )
}

fn parse(text: &str) -> Scenario {
    Scenario::parse(Path::new("s.toml"), text).unwrap_or_else(|d| panic!("{d}"))
}

#[test]
fn every_builtin_parses_and_fits_the_example_estate() {
    let config = load_embedded_example();
    for name in Scenario::builtin_names() {
        let s = Scenario::builtin(name).expect("built in");
        assert_eq!(s.name, name);
        assert!(!s.description.is_empty(), "{name} has a description");
        assert_eq!(s.path, builtin_path(name));
        assert_eq!(lines(&s.check(&config)), Vec::<String>::new(), "{name}");
        let src = SourceFile::new(
            builtin_path(name),
            BUILTIN
                .iter()
                .find(|(n, _)| *n == name)
                .expect("text")
                .1
                .into(),
        );
        assert!(validate(&src, &config).is_empty());
    }
    assert_eq!(
        Scenario::builtin_names().collect::<Vec<_>>(),
        ["region-outage", "az-failure", "steady"]
    );
    assert!(Scenario::builtin(DEFAULT).is_some());
    assert!(Scenario::builtin("nope").is_none());
}

#[test]
fn the_files_under_config_scenarios_are_the_builtins() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = load_embedded_example();
    for name in Scenario::builtin_names() {
        let path = dir.join(builtin_path(name));
        let mut on_disk = Scenario::load(&path).unwrap_or_else(|d| panic!("{d}"));
        assert!(validate_path(&path, &config).is_empty());
        on_disk.path = builtin_path(name);
        assert_eq!(on_disk, Scenario::builtin(name).expect("built in"));
    }
}

#[test]
fn steady_names_no_component_so_it_fits_any_config() {
    let s = Scenario::builtin("steady").expect("built in");
    assert!(s.events.is_empty() && s.effects.is_empty());
    let mut config = load_embedded_example();
    config.components.truncate(1);
    config.runbooks.clear();
    assert!(s.check(&config).is_empty());
}

#[test]
fn region_outage_reads_as_written() {
    let s = Scenario::builtin("region-outage").expect("built in");
    let first = &s.events[0];
    assert_eq!(first.at, Duration::ZERO);
    assert_eq!(first.components[0].id, "db-primary");
    assert_eq!(
        first.change.health,
        Some(HealthSet {
            state: SimHealth::Down,
            detail: Some(
                "no route to host (db.dtem.internal:5432 → dtem-postgres, us-east-1)".into()
            )
        })
    );
    assert_eq!(first.change.lag, Some(LagSet::Seconds(1.0)));
    assert_eq!(first.change.lag_rate, Some(1.0));
    assert_eq!(
        first.change.backup_age,
        Some(BackupSet::Age(Duration::from_secs(14 * 3600)))
    );
    assert_eq!(first.change.backup_every, Some(None));
    // Sorted by time.
    assert!(s.events.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(s.delay("rds_promote_read_replica"), Duration::from_secs(90));
    assert_eq!(s.delay("k8s_scale"), Duration::from_secs(60));
    let unknown = s
        .events
        .iter()
        .find(|e| e.components[0].id == "config-secrets")
        .expect("config-secrets event");
    assert_eq!(
        unknown.change.health,
        Some(HealthSet {
            state: SimHealth::Unknown(ObserveError::Unreachable(
                "EKS API dtem-us-east-1: dial tcp: i/o timeout".into()
            )),
            detail: None
        })
    );
}

#[test]
fn every_error_with_line_and_column() {
    let text = r#"description = 3
colour = "red"

[[event]]
at = "5x"
component = "db-primary"
health = "dwn"

[[event]]
component = ["a", 4]
lag = "fast"
lag_rate = "1s"
backup_age = "old"
backup_every = "0s"

[[event]]
at = "1m"
component = "a"

[[event]]
at = "2m"
component = "a"
detail = "why"
reason = "timeout"
replicas = -1
latency = 5

[[event]]
at = "3m"
component = "a"
health = "unknown"
reason = "gremlins"

[[event]]
at = "4m"
component = "a"
health = "unknown"
reason = "timeout"
detail = "slow"

[[effect]]
after = "soon"
component = "a"
health = "up"
frobnicate = true

[[effect]]
step = "x"
fail = "no"
component = "a"

[[effect]]
step = "x"

[delays]
k8s_wait_available = "1m"
teleport = "1s"
command = 5
http = "2 fortnights"
"#;
    assert_eq!(
        parse_err(text),
        [
            "s.toml:1:1: missing key `name` (the scenario's name)",
            "s.toml:1:15: description: expected a string, found integer",
            "s.toml:2:1: colour: unknown key `colour` (known keys: delays, description, effect, event, name)",
            "s.toml:5:6: event[0].at: bad duration \"5x\": unknown time unit \"x\" (write e.g. \"30s\", \"15m\", \"1h\")",
            "s.toml:7:10: event[0].health: unknown health \"dwn\" (expected up, degraded, down or unknown)",
            "s.toml:9:1: event[1]: missing key `at` (when, e.g. at = \"30s\")",
            "s.toml:10:19: event[1].component[1]: expected a string, found integer",
            "s.toml:11:7: event[1].lag: bad lag \"fast\": write a duration (e.g. \"2s\"), \"not_running\" or \"no_data\"",
            "s.toml:12:12: event[1].lag_rate: bad rate \"1s\": write lag gained per unit of time, e.g. \"1s/s\" or \"30s/m\" (\"0s/s\" holds the lag)",
            "s.toml:13:14: event[1].backup_age: bad backup_age \"old\": write a duration (e.g. \"14h\") or \"missing\"",
            "s.toml:14:16: event[1].backup_every: backup_every must be more than 0s (or \"never\")",
            "s.toml:16:1: event[2]: an event needs at least one change (health, latency, replicas, lag, lag_rate, backup_age, backup_every)",
            "s.toml:23:10: event[3].detail: `detail` belongs to `health`: set `health` too",
            "s.toml:24:10: event[3].reason: `reason` belongs to `health`: set `health` too",
            "s.toml:25:12: event[3].replicas: -1 is out of range: expected 0 to 100000",
            "s.toml:26:11: event[3].latency: expected a duration string such as \"30s\", \"15m\" or \"1h\", found integer",
            "s.toml:32:10: event[4].reason: unknown reason \"gremlins\" (expected timeout, credentials, access_denied, unreachable, no_datapoints or other)",
            "s.toml:38:10: event[5].reason: reason \"timeout\" has no detail of its own: drop `detail`",
            "s.toml:41:1: effect[0]: an effect needs `step`, `target`, `region` or `context`: which actions trigger it",
            "s.toml:42:9: effect[0].after: bad duration \"soon\": expected number at 0 (write e.g. \"30s\", \"15m\", \"1h\")",
            "s.toml:45:1: effect[0].frobnicate: unknown key `frobnicate` (known keys: after, backup_age, backup_detail, backup_every, component, context, detail, fail, health, lag, lag_detail, lag_rate, latency, reason, region, replicas, step, target, until)",
            "s.toml:49:8: effect[1].fail: an effect that fails the action changes nothing: no `component` with `fail`",
            "s.toml:52:1: effect[2]: missing key `component` (what the effect changes), or `fail` (the action fails)",
            "s.toml:56:1: delays.k8s_wait_available: k8s_wait_available waits for its deployment: it has no delay of its own",
            "s.toml:57:1: delays.teleport: unknown action kind `teleport` (known: rds_promote_read_replica, rds_restore_snapshot, rds_restore_point_in_time, rds_failover_cluster, k8s_rollout_restart, k8s_scale, command, http, checklist, notify)",
            "s.toml:58:11: delays.command: expected a duration string such as \"30s\", \"15m\" or \"1h\", found integer",
            "s.toml:59:8: delays.http: bad duration \"2 fortnights\": unknown time unit \"fortnights\" (write e.g. \"30s\", \"15m\", \"1h\")",
        ]
    );
}

#[test]
fn toml_syntax_errors_have_a_place() {
    assert_eq!(
        parse_err("name = \"x\"\n[[event]\n"),
        ["s.toml:2:9: TOML syntax: unclosed array table, expected `]`"]
    );
}

#[test]
fn checked_against_a_config() {
    let config = load_embedded_example();
    let s = parse(
        r#"name = "mine"

[[event]]
at = "0s"
component = ["db-primary", "api", "web-apps"]
lag_rate = "1s/s"

[[event]]
at = "1s"
component = "web-apps"
backup_age = "missing"
replicas = 2

[[event]]
at = "2s"
component = "apps-dr"
replicas = 2

[[effect]]
step = ["update-dns", "no-such-step"]
target = "nothing-by-this-name"
component = "dbprimary"
health = "up"

[[event]]
at = "3s"
component = "web-apps"
health = "up"
unless_step = ["dns", "no-dns"]
"#,
    );
    assert_eq!(
        lines(&s.check(&config)),
        [
            "s.toml:5:28: event[0].component[1]: unknown component \"api\" (known: apps-dr, cache-redis, config-secrets, db-dr, db-primary, file-storage, message-queue, web-apps)",
            "s.toml:5:35: event[0].component[2]: component \"web-apps\" has no lag probe: nothing to change",
            "s.toml:10:13: event[1].component: component \"web-apps\" has no backup probe: nothing to change",
            "s.toml:10:13: event[1].component: `replicas` applies to a k8s_deployment health probe; \"web-apps\" is watched by http",
            "s.toml:20:23: effect[0].step[1]: no runbook step has id \"no-such-step\"",
            "s.toml:21:10: effect[0].target: no runbook step's action targets \"nothing-by-this-name\"",
            "s.toml:22:13: effect[0].component: unknown component \"dbprimary\" (known: apps-dr, cache-redis, config-secrets, db-dr, db-primary, file-storage, message-queue, web-apps)",
            "s.toml:29:23: event[3].unless_step[1]: no runbook step has id \"no-dns\"",
        ]
    );
    // The world refuses a scenario that does not fit.
    let err = crate::drill::SimWorld::new(&config, &s, jiff::Timestamp::UNIX_EPOCH)
        .expect_err("does not fit");
    assert_eq!(err.0.len(), 8);
}

#[test]
fn validate_reports_parse_errors_and_fit() {
    let config = load_embedded_example();
    let src = SourceFile::new(
        "mine.toml",
        "name = \"x\"\n[[event]]\nat = \"1s\"\ncomponent = \"ghost\"\nhealth = \"down\"\n".into(),
    );
    assert_eq!(
        lines(&validate(&src, &config)),
        [
            "mine.toml:4:13: event[0].component: unknown component \"ghost\" (known: apps-dr, cache-redis, config-secrets, db-dr, db-primary, file-storage, message-queue, web-apps)"
        ]
    );
    let bad = SourceFile::new("bad.toml", "name = 1\n".into());
    assert_eq!(
        lines(&validate(&bad, &config)),
        ["bad.toml:1:8: name: expected a string, found integer"]
    );
    assert_eq!(
        lines(&validate_path(Path::new("/nonexistent/s.toml"), &config)),
        ["/nonexistent/s.toml: no such file"]
    );
}

#[test]
fn resolve_a_name_or_a_path() {
    assert_eq!(
        Scenario::resolve("steady").expect("built in").name,
        "steady"
    );
    assert_eq!(
        lines(&Scenario::resolve("regoin-outage").expect_err("typo").0),
        [
            "regoin-outage: no such scenario: built-in scenarios are region-outage, az-failure, steady; or give a path to a scenario file"
        ]
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, "name = \"mine\"\n").expect("write");
    let s = Scenario::resolve(path.to_str().expect("utf-8")).expect("a path");
    assert_eq!(s.name, "mine");
    assert_eq!(s.path, path);
}

#[test]
fn rates() {
    assert_eq!(rate("1s/s"), Some(1.0));
    assert_eq!(rate("30s/m"), Some(0.5));
    assert_eq!(rate("30s/min"), Some(0.5));
    assert_eq!(rate("1m / 1h"), Some(1.0 / 60.0));
    assert_eq!(rate("0s/s"), Some(0.0));
    assert_eq!(rate("1s"), None);
    assert_eq!(rate("1s/0s"), None);
    assert_eq!(rate("x/s"), None);
}

#[test]
fn effects_and_unknown_reasons() {
    let s = parse(
        r#"name = "e"
[[event]]
at = "1m"
component = "a"
health = "unknown"
reason = "credentials"

[[event]]
at = "2m"
component = "a"
health = "unknown"
reason = "timeout"

[[event]]
at = "3m"
component = "a"
lag = "not_running"
lag_detail = "not streaming"
backup_age = "missing"
backup_detail = "no snapshot"
backup_every = "1h"

unless_step = "dns"

[[effect]]
context = ["c1", "c2"]
region = "r"
until = "40m"
fail = "down"

[[effect]]
step = "s"
component = "a"
health = "up"
"#,
    );
    assert_eq!(
        s.events[0].change.health.as_ref().map(|h| &h.state),
        Some(&SimHealth::Unknown(ObserveError::Credentials(
            "token expired".into()
        )))
    );
    assert_eq!(
        s.events[1].change.health.as_ref().map(|h| &h.state),
        Some(&SimHealth::Unknown(ObserveError::Timeout))
    );
    let c = &s.events[2].change;
    assert_eq!(
        c.lag,
        Some(LagSet::NotRunning(Some("not streaming".into())))
    );
    assert_eq!(
        c.backup_age,
        Some(BackupSet::Missing(Some("no snapshot".into())))
    );
    assert_eq!(c.backup_every, Some(Some(Duration::from_secs(3600))));
    let unless: Vec<&str> = s.events[2]
        .unless_steps
        .iter()
        .map(|n| n.id.as_str())
        .collect();
    assert_eq!(unless, ["dns"]);
    assert!(s.events[0].unless_steps.is_empty());
    let e = &s.effects[0];
    assert_eq!(e.trigger.contexts, ["c1", "c2"]);
    assert_eq!(e.trigger.regions, ["r"]);
    assert_eq!(e.until, Some(Duration::from_secs(40 * 60)));
    assert_eq!(e.fail.as_deref(), Some("down"));
    assert!(e.components.is_empty());
    assert_eq!(s.effects[1].until, None);
}
