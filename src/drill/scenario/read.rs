//! Reading a scenario file: its timeline, step effects and changes, each error where written.

use super::*;
use crate::config::ACTION_KINDS;

/// Where something was written, kept for the checks against a config.
pub(super) fn spot(cx: &Cx, span: &Span, path: &str) -> Spot {
    Spot {
        line_col: cx.src.line_col(span.as_ref().map_or(0, |s| s.start)),
        path: path.to_string(),
    }
}

/// A string or a list of strings (component ids, step ids, …), each with where it was written.
pub(super) fn names(t: &mut Tbl, cx: &mut Cx, key: &'static str) -> Option<Vec<Named>> {
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

pub(super) fn read(cx: &mut Cx) -> Option<Scenario> {
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
pub(super) const CHANGE_KEYS: &str =
    "health, latency, replicas, lag, lag_rate, backup_age, backup_every";

pub(super) fn read_event(cx: &mut Cx, mut t: Tbl) -> Option<ScenarioEvent> {
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

pub(super) fn read_effect(cx: &mut Cx, mut t: Tbl) -> Option<StepEffect> {
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
pub(super) fn read_change(cx: &mut Cx, t: &mut Tbl) -> Option<Change> {
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

pub(super) fn read_reason(
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
pub(super) fn rate(text: &str) -> Option<f64> {
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
