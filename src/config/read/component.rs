//! `[[component]]` and its probes: health, lag and backup, with their schedule and thresholds.

use super::*;

pub(super) fn read_schedule(r: &mut Reader, t: &mut Tbl) -> Schedule {
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
            &crate::config::tree::join(&t.path, "every"),
            "must be longer than 0s",
        );
    }
    if timeout.is_zero() {
        let span = t.get("timeout").and_then(|f| f.span);
        r.error(
            span,
            &crate::config::tree::join(&t.path, "timeout"),
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
pub(super) fn read_dsn(r: &mut Reader, t: &mut Tbl) -> Option<Dsn> {
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

pub(super) fn read_health(r: &mut Reader, mut t: Tbl) -> Option<HealthProbe> {
    let kind = read_kind(r, &mut t, "health", HEALTH_KINDS);
    let schedule = read_schedule(r, &mut t);
    let kind = health_kind(r, &mut t, kind.as_deref());
    if !t.context.is_empty() {
        t.finish(r);
    }
    Some(HealthProbe {
        kind: kind?,
        schedule,
    })
}

/// The keys of a health kind, read whatever else is missing (a `?` here ends only this).
fn health_kind(r: &mut Reader, t: &mut Tbl, kind: Option<&str>) -> Option<HealthKind> {
    match kind {
        Some("http") => {
            let url = t.req_str(r, "url");
            let expect_status = t.opt_int(r, "expect_status", 100, 599).unwrap_or(200) as u16;
            let body_contains = t.opt_str(r, "body_contains");
            let headers_env = read_headers_env(r, t);
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
                    &crate::config::tree::join(&t.path, "address"),
                    format!("address \"{a}\" must be host:port"),
                );
            }
            address.map(|address| HealthKind::Tcp { address })
        }
        Some("command") => {
            let unknown_exit = t.opt_exit_codes(r, "unknown_exit").unwrap_or_default();
            read_argv(r, t).map(|argv| HealthKind::Command { argv, unknown_exit })
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
        Some("postgres") => read_dsn(r, t).map(|dsn| HealthKind::Postgres { dsn }),
        Some(other) => {
            unknown_kind(r, t, "health", other, HEALTH_KINDS);
            None
        }
        None => None,
    }
}

/// Warn and crit of a lag or backup age: given, or derived from the component's RPO.
pub(super) fn read_thresholds(
    r: &mut Reader,
    t: &mut Tbl,
    rpo: Option<Duration>,
) -> Option<Thresholds> {
    let warn = t.opt_duration(r, "warn");
    let crit = t.opt_duration(r, "crit");
    let derived = rpo.filter(|d| !d.is_zero());
    match (warn, crit, derived) {
        (Some(warn), Some(crit), _) => {
            if warn > crit {
                let span = t.get("warn").and_then(|f| f.span);
                r.error(
                    span,
                    &crate::config::tree::join(&t.path, "warn"),
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

pub(super) fn read_lag(r: &mut Reader, mut t: Tbl, rpo: Option<Duration>) -> Option<LagProbe> {
    let kind = read_kind(r, &mut t, "lag", LAG_KINDS);
    let schedule = read_schedule(r, &mut t);
    let kind = lag_kind(r, &mut t, kind.as_deref());
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

/// The keys of a lag kind, read whatever else is missing (a `?` here ends only this).
fn lag_kind(r: &mut Reader, t: &mut Tbl, kind: Option<&str>) -> Option<LagKind> {
    match kind {
        Some("cloudwatch") => {
            let instance = t.req_str(r, "instance");
            let region = t.req_str(r, "region");
            t.sketch("metric", Ty::OneOf(&["ReplicaLag", "AuroraReplicaLag"]));
            let metric = match t.opt_str(r, "metric").as_deref() {
                None | Some("ReplicaLag") => Some(LagMetric::ReplicaLag),
                Some("AuroraReplicaLag") => Some(LagMetric::AuroraReplicaLag),
                Some(other) => {
                    let span = t.get("metric").and_then(|f| f.span);
                    r.error(
                        span,
                        &crate::config::tree::join(&t.path, "metric"),
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
        Some("postgres_replica") => read_dsn(r, t).map(|dsn| LagKind::PostgresReplica { dsn }),
        Some(other) => {
            unknown_kind(r, t, "lag", other, LAG_KINDS);
            None
        }
        None => None,
    }
}

pub(super) fn read_backup(
    r: &mut Reader,
    mut t: Tbl,
    rpo: Option<Duration>,
) -> Option<BackupProbe> {
    let kind = read_kind(r, &mut t, "backup", BACKUP_KINDS);
    let schedule = read_schedule(r, &mut t);
    let kind = backup_kind(r, &mut t, kind.as_deref());
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

/// The keys of a backup kind, read whatever else is missing (a `?` here ends only this).
fn backup_kind(r: &mut Reader, t: &mut Tbl, kind: Option<&str>) -> Option<BackupKind> {
    match kind {
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
        Some("command") => read_argv(r, t).map(|argv| BackupKind::Command { argv }),
        Some(other) => {
            unknown_kind(r, t, "backup", other, BACKUP_KINDS);
            None
        }
        None => None,
    }
}

pub(super) fn read_component(
    r: &mut Reader,
    mut t: Tbl,
) -> (Option<(String, Loc)>, Option<Component>) {
    let id = read_id(&mut t, r);
    let name = t.opt_str(r, "name");
    let public_name = t.opt_str(r, "public_name");
    let public_name_es = t.opt_str(r, "public_name_es");
    t.sketch("tier", Ty::OneOf(&["critical", "standard"]));
    let tier = match t.req_str(r, "tier").as_deref() {
        Some("critical") => Some(Tier::Critical),
        Some("standard") => Some(Tier::Standard),
        Some(other) => {
            let span = t.get("tier").and_then(|f| f.span);
            r.error(
                span,
                &crate::config::tree::join(&t.path, "tier"),
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
