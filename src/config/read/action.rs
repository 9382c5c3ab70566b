//! A step's `action`: one reader per action kind, and a restore's placement.

use super::*;

pub(super) fn req_u32(r: &mut Reader, t: &mut Tbl, key: &'static str) -> Option<u32> {
    t.sketch_required(key, Ty::Int(0, 10_000));
    let n = t.opt_int(r, key, 0, 10_000);
    if !t.has(key) {
        r.error(t.span.clone(), &t.path, format!("missing key `{key}`"));
        return None;
    }
    n.map(|n| n as u32)
}

pub(super) fn read_action(r: &mut Reader, mut t: Tbl) -> Option<Action> {
    let kind = read_kind(r, &mut t, "action", ACTION_KINDS);
    let action = action_of_kind(r, &mut t, kind.as_deref());
    if !t.context.is_empty() {
        t.finish(r);
    }
    action
}

/// The keys of a action kind, read whatever else is missing (a `?` here ends only this).
fn action_of_kind(r: &mut Reader, t: &mut Tbl, kind: Option<&str>) -> Option<Action> {
    match kind {
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
            let placement = read_placement(r, t);
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
            let placement = read_placement(r, t);
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
            let (namespace, deployment, context) = k8s_keys(r, t);
            Some(Action::K8sRolloutRestart {
                namespace: namespace?,
                deployment: deployment?,
                context,
            })
        }
        Some("k8s_scale") => {
            let (namespace, deployment, context) = k8s_keys(r, t);
            let replicas = req_u32(r, t, "replicas");
            Some(Action::K8sScale {
                namespace: namespace?,
                deployment: deployment?,
                context,
                replicas: replicas?,
            })
        }
        Some("k8s_wait_available") => {
            let (namespace, deployment, context) = k8s_keys(r, t);
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
            let argv = read_argv(r, t);
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
                    if let Some(why) = crate::config::tree::value_problem("cwd", &dir) {
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
            let region = t.opt_str(r, "region");
            Some(Action::Command {
                argv: argv?,
                env,
                cwd,
                timeout,
                region,
            })
        }
        Some("http") => {
            t.sketch("method", Ty::OneOf(METHODS));
            let method = t.opt_str(r, "method").unwrap_or_else(|| "POST".into());
            let url = t.req_str(r, "url");
            let headers = t
                .opt_str_map(r, "headers")
                .unwrap_or_default()
                .into_iter()
                .map(|(k, (v, _))| (k, v))
                .collect();
            let headers_env = read_headers_env(r, t);
            let body = t.opt_str(r, "body");
            let expect_status = t.opt_int(r, "expect_status", 100, 599).unwrap_or(200) as u16;
            if !METHODS.contains(&method.as_str()) {
                let span = t.get("method").and_then(|f| f.span);
                r.error(
                    span,
                    &crate::config::tree::join(&t.path, "method"),
                    format!(
                        "unknown method \"{method}\" (known: {})",
                        METHODS.join(", ")
                    ),
                );
            }
            let region = t.opt_str(r, "region");
            Some(Action::Http {
                method,
                url: url?,
                headers,
                headers_env,
                body,
                expect_status,
                region,
            })
        }
        Some("checklist") => {
            t.sketch_required("items", Ty::StrList);
            if !t.has("items") {
                r.error(t.span.clone(), &t.path, "missing key `items`");
            }
            let items = t.opt_str_list(r, "items");
            if items.as_ref().is_some_and(|i| i.is_empty()) {
                let span = t.get("items").and_then(|f| f.span);
                r.error(
                    span,
                    &crate::config::tree::join(&t.path, "items"),
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
                    &crate::config::tree::join(&t.path, "items"),
                    "an empty checklist item: say what the person checks",
                );
            }
            Some(Action::Checklist { items: items? })
        }
        Some("notify") => {
            t.sketch("template", Ty::OneOf(TEMPLATES));
            let template = t.req_str(r, "template");
            if let Some(tpl) = &template
                && !TEMPLATES.contains(&tpl.as_str())
            {
                let span = t.get("template").and_then(|f| f.span);
                r.error(
                    span,
                    &crate::config::tree::join(&t.path, "template"),
                    format!(
                        "unknown template \"{tpl}\" (known: {})",
                        TEMPLATES.join(", ")
                    ),
                );
            }
            t.sketch(
                "status",
                Ty::OneOf(&crate::config::schema::INCIDENT_STATUSES),
            );
            let status = t.opt_str(r, "status");
            if let Some(s) = &status
                && !crate::config::schema::INCIDENT_STATUSES.contains(&s.as_str())
            {
                let span = t.get("status").and_then(|f| f.span);
                r.error(
                    span,
                    &crate::config::tree::join(&t.path, "status"),
                    format!(
                        "unknown status \"{s}\" (known: {})",
                        crate::config::schema::INCIDENT_STATUSES.join(", ")
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
            unknown_kind(r, t, "action", other, ACTION_KINDS);
            None
        }
        None => None,
    }
}

/// A restore's placement keys (see [`Placement`]).
pub(super) fn read_placement(r: &mut Reader, t: &mut Tbl) -> Placement {
    let security_groups = t.opt_str_list(r, "security_groups");
    if let Some(groups) = &security_groups
        && groups.is_empty()
    {
        let span = t.get("security_groups").and_then(|f| f.span);
        r.error(
            span,
            &crate::config::tree::join(&t.path, "security_groups"),
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

pub(super) fn read_argv(r: &mut Reader, t: &mut Tbl) -> Option<Vec<String>> {
    t.sketch_required("argv", Ty::StrList);
    let argv = t.opt_str_list(r, "argv");
    if !t.has("argv") {
        r.error(
            t.span.clone(),
            &t.path,
            "missing key `argv` (the program and its arguments, run without a shell)",
        );
        return None;
    }
    let argv = argv?;
    if argv.is_empty() || argv[0].is_empty() {
        let span = t.get("argv").and_then(|f| f.span);
        r.error(
            span,
            &crate::config::tree::join(&t.path, "argv"),
            "argv must name a program",
        );
        return None;
    }
    Some(argv)
}

pub(super) fn read_headers_env(r: &mut Reader, t: &mut Tbl) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (header, (var, span)) in t.opt_str_map(r, "headers_env").unwrap_or_default() {
        if !is_env_name(&var) {
            r.error(
                span,
                &crate::config::tree::join(&crate::config::tree::join(&t.path, "headers_env"), &header),
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

/// The keys every Kubernetes action has: namespace, deployment, context.
fn k8s_keys(r: &mut Reader, t: &mut Tbl) -> (Option<String>, Option<String>, Option<String>) {
    let namespace = t.req_str(r, "namespace");
    let deployment = t.req_str(r, "deployment");
    let context = t.opt_str(r, "context");
    (namespace, deployment, context)
}

/// An `http` step's methods.
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
/// A `notify` step's templates.
const TEMPLATES: &[&str] = &["initial", "update", "restoration"];
