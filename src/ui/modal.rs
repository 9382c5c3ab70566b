//! The confirmation modal of a runbook step: exactly what will happen, the inputs as typed,
//! the prechecks with their live values and age, the confirm phrase, and what Enter waits for.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::fmt;
use crate::app::modal::{Field, StepModal};
use crate::app::{State, steps};
use crate::config::{Action, SnapshotChoice, Step};

use super::{Screen, clean};

/// What an action does, in the words of the API or the argv it will use. `inputs` are the
/// step's inputs as typed (a PITR's time).
pub fn what_happens(action: &Action, inputs: &BTreeMap<String, String>) -> Vec<String> {
    let typed = |name: &str| {
        inputs
            .get(name)
            .filter(|v| !v.is_empty())
            .cloned()
            .unwrap_or_else(|| format!("<{name}>"))
    };
    match action {
        Action::RdsPromoteReadReplica { instance, region } => vec![format!(
            "AWS RDS PromoteReadReplica DBInstanceIdentifier={instance} (region {region})"
        )],
        Action::RdsRestoreSnapshot {
            snapshot,
            target,
            instance_class,
            region,
            placement,
        } => {
            let from = match snapshot {
                SnapshotChoice::Named(s) => format!("DBSnapshotIdentifier={s}"),
                SnapshotChoice::LatestOf(i) => {
                    format!("the newest available snapshot of {i} (DescribeDBSnapshots)")
                }
            };
            let mut v = vec![format!(
                "AWS RDS RestoreDBInstanceFromDBSnapshot {from} → DBInstanceIdentifier={target}{} (region {region})",
                instance_class
                    .as_ref()
                    .map(|c| format!(" DBInstanceClass={c}"))
                    .unwrap_or_default()
            )];
            let source = match snapshot {
                SnapshotChoice::LatestOf(i) => Some(i.as_str()),
                SnapshotChoice::Named(_) => None,
            };
            v.extend(landing(placement, source, region));
            v
        }
        Action::RdsRestorePointInTime {
            source,
            target,
            region,
            placement,
        } => {
            let mut v = vec![format!(
                "AWS RDS RestoreDBInstanceToPointInTime SourceDBInstanceIdentifier={source} → TargetDBInstanceIdentifier={target} RestoreTime={} (region {region})",
                typed("time")
            )];
            v.extend(landing(placement, Some(source), region));
            v
        }
        Action::RdsFailoverCluster {
            cluster,
            target_instance,
            region,
        } => vec![format!(
            "AWS RDS FailoverDBCluster DBClusterIdentifier={cluster}{} (region {region})",
            target_instance
                .as_ref()
                .map(|t| format!(" TargetDBInstanceIdentifier={t}"))
                .unwrap_or_default()
        )],
        Action::K8sRolloutRestart {
            namespace,
            deployment,
            context,
        } => vec![format!(
            "Kubernetes PATCH deployment/{deployment} -n {namespace}{}: set kubectl.kubernetes.io/restartedAt (rollout restart)",
            context
                .as_ref()
                .map(|c| format!(" (context {c})"))
                .unwrap_or_default()
        )],
        Action::K8sScale {
            namespace,
            deployment,
            context,
            replicas,
        } => vec![format!(
            "Kubernetes PATCH deployment/{deployment}/scale -n {namespace}{}: replicas={replicas}",
            context
                .as_ref()
                .map(|c| format!(" (context {c})"))
                .unwrap_or_default()
        )],
        Action::K8sWaitAvailable {
            namespace,
            deployment,
            context,
            timeout,
        } => vec![format!(
            "Kubernetes: wait until deployment/{deployment} -n {namespace}{} is available (up to {})",
            context
                .as_ref()
                .map(|c| format!(" (context {c})"))
                .unwrap_or_default(),
            fmt::duration(*timeout)
        )],
        Action::Command {
            argv,
            env,
            cwd,
            timeout,
            region,
        } => {
            let mut v = vec![format!(
                "run (no shell): {}",
                argv.iter()
                    .map(|a| format!("{a:?}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )];
            if !env.is_empty() {
                v.push(format!(
                    "  env: {}",
                    env.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            if let Some(cwd) = cwd {
                v.push(format!("  in {}", cwd.display()));
            }
            if let Some(region) = region {
                v.push(format!("  acts in region {region}"));
            }
            v.push(format!(
                "  killed with its process group after {}",
                fmt::duration(*timeout)
            ));
            v
        }
        Action::Http {
            method,
            url,
            body,
            expect_status,
            region,
            ..
        } => vec![format!(
            "HTTP {method} {}{} — expects {expect_status}{}",
            // A URL's credentials or query are not drawn.
            reqwest::Url::parse(url)
                .map(|u| crate::text::redact::url(&u))
                .unwrap_or_else(|_| "<an invalid URL>".into()),
            if body.is_some() { " with a body" } else { "" },
            region
                .as_ref()
                .map(|r| format!(" (region {r})"))
                .unwrap_or_default()
        )],
        Action::Checklist { items } => items.iter().map(|i| format!("☐ {i}")).collect(),
        Action::Notify {
            template,
            status: None,
        } => vec![format!("notify with the `{template}` template")],
        Action::Notify {
            template,
            status: Some(status),
        } => vec![format!(
            "notify with the `{template}` template, announcing {status}"
        )],
    }
}

/// Where a restore lands: the configured settings, and what is copied from the source.
fn landing(p: &crate::config::Placement, source: Option<&str>, region: &str) -> Vec<String> {
    let mut set = Vec::new();
    if let Some(g) = &p.subnet_group {
        set.push(format!("DBSubnetGroupName={g}"));
    }
    if let Some(g) = &p.security_groups {
        set.push(format!("VpcSecurityGroupIds={}", g.join(",")));
    }
    if let Some(g) = &p.parameter_group {
        set.push(format!("DBParameterGroupName={g}"));
    }
    if let Some(g) = &p.option_group {
        set.push(format!("OptionGroupName={g}"));
    }
    if let Some(m) = p.multi_az {
        set.push(format!("MultiAZ={m}"));
    }
    if let Some(d) = p.deletion_protection {
        set.push(format!("DeletionProtection={d}"));
    }
    set.push(format!(
        "PubliclyAccessible={}",
        p.publicly_accessible.unwrap_or(false)
    ));
    if let Some(port) = p.port {
        set.push(format!("Port={port}"));
    }
    if let Some(s) = &p.storage_type {
        set.push(format!("StorageType={s}"));
    }
    if let Some(n) = p.iops {
        set.push(format!("Iops={n}"));
    }
    if !p.tags.is_empty() {
        set.push(format!("{} tags", p.tags.len()));
    }
    let mut v = vec![format!("  {}", set.join(" "))];
    match source {
        _ if p.has_network() => {}
        Some(source) => v.push(format!(
            "  the rest copied from {source} (DescribeDBInstances in {region}, up to 10s); if it does not answer, the restore stops"
        )),
        None => v.push(
            "  NO NETWORK: AWS defaults (default VPC, default security group) will be used — the apps cannot reach it"
                .to_string(),
        ),
    }
    v
}

fn inputs_of(step: &Step, modal: &StepModal) -> BTreeMap<String, String> {
    step.inputs
        .iter()
        .zip(&modal.inputs)
        .map(|(i, v)| (i.name.clone(), v.trim().to_string()))
        .collect()
}

pub fn draw(state: &State, modal: &StepModal, screen: &Screen, frame: &mut Frame, area: Rect) {
    let t = screen.theme;
    let g = screen.glyphs;
    let Some(runbook) = state.runbooks.get(modal.runbook) else {
        return;
    };
    let Some(step) = runbook.steps.get(modal.step) else {
        return;
    };
    let cursor = if g.ascii { "_" } else { "▏" };
    let checks = steps::prechecks(state, step);
    let pass = checks.iter().all(|c| c.pass);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("[{}] ", step.key), t.selection),
            Span::styled(clean(&step.title).into_owned(), t.accent),
            Span::styled(format!("  — {}", clean(&runbook.title)), t.muted),
        ]),
        Line::from(Span::styled("What will happen:", t.muted)),
    ];
    let items = crate::app::modal::checklist(step);
    if items.is_empty() {
        for l in what_happens(&step.action, &inputs_of(step, modal)) {
            lines.push(Line::from(Span::styled(format!("  {}", clean(&l)), t.text)));
        }
    } else {
        // A checklist: each item ticked by the operator (Space), recorded as theirs.
        for (i, item) in items.iter().enumerate() {
            let active = modal.field == Field::Item(i);
            let ticked = modal.ticked.get(i).copied().unwrap_or(false);
            let (mark, style) = match (ticked, g.ascii) {
                (true, false) => ("☑", t.up),
                (true, true) => ("[x]", t.up),
                (false, false) => ("☐", t.text),
                (false, true) => ("[ ]", t.text),
            };
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{} {mark} ", if active { g.focus } else { " " }),
                    if active { t.accent } else { style },
                ),
                Span::styled(clean(item).into_owned(), style),
            ]));
        }
    }
    // What would be lost, where the decision is made: high in the modal, so a small
    // terminal cuts the help lines first, never this.
    for l in crate::app::stake::of(state, step, &inputs_of(step, modal)) {
        let style = if l.unknown {
            t.degraded
        } else if l.over_rpo {
            t.down
        } else {
            t.accent
        };
        lines.push(Line::from(Span::styled(
            format!("  {}", clean(&l.text)),
            style,
        )));
    }
    for (i, (input, value)) in step.inputs.iter().zip(&modal.inputs).enumerate() {
        let active = modal.field == Field::Input(i);
        let bad = crate::app::modal::invalid(input, value);
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{}{}: ",
                    if active { g.focus } else { " " },
                    clean(input.prompt.as_deref().unwrap_or(&input.name))
                ),
                if active { t.accent } else { t.muted },
            ),
            Span::styled(clean(value).into_owned(), t.text),
            Span::styled(if active { cursor } else { "" }, t.accent),
            Span::styled(
                bad.map(|b| format!("  ({b})")).unwrap_or_default(),
                t.degraded,
            ),
        ]));
    }
    if !checks.is_empty() {
        lines.push(Line::from(Span::styled("Prechecks (live):", t.muted)));
    }
    for c in &checks {
        let age = c
            .age
            .map(|a| format!(" ({} ago)", fmt::signed(a)))
            .unwrap_or_default();
        let (glyph, style) = if c.pass {
            (g.up, t.up)
        } else {
            (g.down, t.down)
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {} {}{age}", clean(&c.text), glyph), style),
            Span::styled(
                c.why
                    .as_ref()
                    .map(|w| format!("  {}", clean(w)))
                    .unwrap_or_default(),
                t.muted,
            ),
        ]));
    }
    if let Some(r) = state.steps.get(&runbook.id, &step.id)
        && let Some((res, _)) = &r.finished
    {
        lines.push(Line::from(Span::styled(
            format!(
                "Already run: {} by {} — running it again",
                res.label(),
                clean(&r.last_actor)
            ),
            t.degraded,
        )));
    }
    let phrase_active = modal.field == Field::Phrase;
    lines.push(Line::from(vec![
        Span::styled(
            format!(
                "{}Type `{}` to run it: ",
                if phrase_active { g.focus } else { " " },
                clean(&modal.required_phrase(step))
            ),
            if phrase_active { t.accent } else { t.muted },
        ),
        Span::styled(
            clean(&modal.phrase).into_owned(),
            if modal.phrase == modal.required_phrase(step) {
                t.up
            } else {
                t.text
            },
        ),
        Span::styled(if phrase_active { cursor } else { "" }, t.accent),
    ]));
    if !pass {
        let active = modal.field == Field::Override;
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{}A precheck fails. To run anyway: override precheck: <reason> ",
                    if active { g.focus } else { " " }
                ),
                if active { t.accent } else { t.degraded },
            ),
            Span::styled(clean(&modal.override_text).into_owned(), t.text),
            Span::styled(if active { cursor } else { "" }, t.accent),
        ]));
    }
    if modal.needs_break_glass {
        let active = modal.field == Field::BreakGlass;
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{}JOURNAL TAMPERED: no claim can hold this step. To run anyway: break glass: <reason> ",
                    if active { g.focus } else { " " }
                ),
                if active { t.accent } else { t.down },
            ),
            Span::styled(clean(&modal.break_glass_text).into_owned(), t.text),
            Span::styled(if active { cursor } else { "" }, t.accent),
        ]));
    }
    let gate = crate::app::modal::defaults_gate(step);
    if gate != crate::app::modal::DefaultsGate::None {
        let active = modal.field == Field::Defaults;
        let words = if gate == crate::app::modal::DefaultsGate::Required {
            "No subnet group or security groups. To use AWS's defaults anyway: override defaults: <reason> "
        } else {
            "Should the source not answer, to use AWS's defaults instead: override defaults: <reason> "
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{}{words}", if active { g.focus } else { " " }),
                if active {
                    t.accent
                } else if gate == crate::app::modal::DefaultsGate::Required {
                    t.down
                } else {
                    t.muted
                },
            ),
            Span::styled(clean(&modal.defaults_text).into_owned(), t.text),
            Span::styled(if active { cursor } else { "" }, t.accent),
        ]));
    }
    lines.push(Line::from(match modal.waiting(step, pass) {
        Some(w) => Span::styled(format!("Enter waits: {}", w.describe()), t.degraded),
        None => Span::styled("Enter runs the step · Esc cancels", t.up),
    }));
    lines.push(Line::from(Span::styled(
        "Tab: next field · Esc: cancel · nothing runs until the phrase matches exactly",
        t.muted,
    )));
    super::popup(screen, frame, area, " Run a step ", 100, 6, lines);
}
