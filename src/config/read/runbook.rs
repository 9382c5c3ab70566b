//! `[[runbook]]` and its steps: prechecks, inputs, keys, `requires` and its cycles.

use super::*;

pub(super) fn read_precheck(
    r: &mut Reader,
    mut t: Tbl,
    refs: &mut Vec<(String, Loc)>,
) -> Option<Precheck> {
    let component = t.req_str(r, "component");
    if let Some(c) = &component {
        let span = t.get("component").and_then(|f| f.span);
        refs.push((
            c.clone(),
            r.loc(span, &crate::config::tree::join(&t.path, "component")),
        ));
    }
    let lag = t.opt_duration(r, "lag_below");
    let backup = t.opt_duration(r, "backup_younger_than");
    t.sketch("state", Ty::OneOf(&["up", "down"]));
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
                    &crate::config::tree::join(&t.path, "state"),
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

pub(super) fn read_input(r: &mut Reader, mut t: Tbl) -> Option<(Input, Span)> {
    let name = t.req_str(r, "name");
    let name_span = t.get("name").and_then(|f| f.span);
    if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        r.error(
            name_span.clone(),
            &crate::config::tree::join(&t.path, "name"),
            "an input needs a name: the modal asks for it by name",
        );
    }
    t.sketch("kind", Ty::OneOf(&["text", "rfc3339", "integer"]));
    let kind = match t.opt_str(r, "kind").as_deref() {
        None | Some("text") => Some(InputKind::Text),
        Some("rfc3339") => Some(InputKind::Rfc3339),
        Some("integer") => Some(InputKind::Integer),
        Some(other) => {
            let span = t.get("kind").and_then(|f| f.span);
            r.error(
                span,
                &crate::config::tree::join(&t.path, "kind"),
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
pub(super) struct StepRead {
    step: Option<Step>,
    id: Option<(String, Loc)>,
    key: Option<char>,
    key_loc: Loc,
    explicit_key: bool,
    requires: Vec<(String, Loc)>,
    /// Its `confirm`, else the step table.
    confirm_loc: Loc,
}

pub(super) fn read_step(
    r: &mut Reader,
    mut t: Tbl,
    position: usize,
    refs: &mut Vec<(String, Loc)>,
) -> StepRead {
    let id = read_id(&mut t, r);
    let title = t.req_str(r, "title");
    t.sketch("key", Ty::Char);
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
        Some(span) => r.loc(Some(span), &crate::config::tree::join(&t.path, "confirm")),
        None => r.loc(t.span.clone(), &t.path),
    };
    if confirm.as_deref().is_some_and(|c| c.trim().is_empty()) {
        let span = t.get("confirm").and_then(|f| f.span);
        r.error(
            span,
            &crate::config::tree::join(&t.path, "confirm"),
            "the confirm phrase may not be empty: nothing runs without typing something",
        );
    } else if let Some(c) = confirm.as_deref()
        && crate::text::clean(c) != c
    {
        // The modal drops what cannot be typed or seen: such a phrase could never be matched.
        let span = t.get("confirm").and_then(|f| f.span);
        r.error(
            span,
            &crate::config::tree::join(&t.path, "confirm"),
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
                r.loc(span, &crate::config::tree::join(&v.path, "component")),
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

pub(super) fn read_runbook(
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
pub(super) fn check_steps(r: &mut Reader, steps: &[StepRead]) {
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
pub(super) fn report_cycles(r: &mut Reader, steps: &[StepRead]) {
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

impl StepRead {
    fn id(&self) -> &str {
        self.id.as_ref().map_or("", |(id, _)| id.as_str())
    }
}
