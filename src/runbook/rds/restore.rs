//! Restores, from a snapshot or to a point in time: where the new instance lands (copied from
//! its source when not configured) and which snapshot or time it starts from.

use super::*;

/// The name of the restore-time input when the step declares no `rfc3339` input.
pub const DEFAULT_TIME_INPUT: &str = "time";

/// `RestoreDBInstanceFromDBSnapshot`, from a named snapshot or the newest available one of
/// an instance.
pub async fn restore_snapshot(
    clients: &AwsClients,
    snapshot: &SnapshotChoice,
    target: &str,
    instance_class: Option<&str>,
    region: &str,
    landing: Landing<'_>,
    progress: &mpsc::Sender<StepProgress>,
) -> StepOutcome {
    let (snapshot_id, from) = match snapshot {
        SnapshotChoice::Named(id) => (id.clone(), format!("snapshot {id}")),
        SnapshotChoice::LatestOf(instance) => {
            match newest_snapshot(clients, instance, region, progress).await {
                Ok((snap, taken)) => {
                    let from = format!("snapshot {snap} (newest of {instance}, taken {taken})");
                    report(
                        progress,
                        StepProgress::Output(format!(
                            "newest available snapshot of {instance}: {snap}, taken {taken}"
                        )),
                    )
                    .await;
                    (snap, from)
                }
                Err(reason) => return failed(reason),
            }
        }
    };
    let source = match snapshot {
        SnapshotChoice::LatestOf(instance) => Some(instance.as_str()),
        SnapshotChoice::Named(_) => None,
    };
    let placement = match land(clients, region, landing, source, progress).await {
        Ok(p) => p,
        Err(reason) => return failed(reason),
    };
    let call = "RestoreDBInstanceFromDBSnapshot";
    let class = instance_class
        .map(|c| format!(" DBInstanceClass={c}"))
        .unwrap_or_default();
    status(
        progress,
        format!(
            "{call} DBInstanceIdentifier={target} DBSnapshotIdentifier={snapshot_id}{class} ({region})"
        ),
    )
    .await;
    let answer = clients
        .rds(region)
        .await
        .restore_db_instance_from_db_snapshot()
        .db_instance_identifier(target)
        .db_snapshot_identifier(&snapshot_id)
        .set_db_instance_class(instance_class.map(str::to_string))
        .set_db_subnet_group_name(placement.subnet_group.clone())
        .set_vpc_security_group_ids(placement.security_groups.clone())
        .set_db_parameter_group_name(placement.parameter_group.clone())
        .set_option_group_name(placement.option_group.clone())
        .set_multi_az(placement.multi_az)
        .set_deletion_protection(placement.deletion_protection)
        .set_publicly_accessible(placement.publicly_accessible)
        .set_port(placement.port.map(i32::from))
        .set_tags(tags(&placement))
        .set_storage_type(placement.storage_type.clone())
        .set_iops(placement.iops.and_then(|i| i32::try_from(i).ok()))
        .customize()
        .config_override(once(clients))
        .send()
        .await;
    match answer {
        Ok(out) => {
            let state = instance_state(out.db_instance(), target);
            report(progress, StepProgress::Output(format!("{call}: {state}"))).await;
            restored(
                clients,
                region,
                target,
                format!("{call} accepted: {state}, from {from}"),
                progress,
            )
            .await
        }
        Err(err) => failed(aws_failure(call, &err)),
    }
}

/// How long the source instance has to answer before a restore's settings are copied from it
/// (in a region outage it cannot be asked at all).
pub const SOURCE_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// How a restore lands: what the step configured, and whether the operator accepted AWS's
/// defaults (`override defaults: <reason>`) should the network stay unknown.
#[derive(Debug, Clone, Copy)]
pub struct Landing<'a> {
    pub configured: &'a Placement,
    pub allow_defaults: Option<&'a str>,
}

pub(super) fn tags(p: &Placement) -> Option<Vec<aws_sdk_rds::types::Tag>> {
    (!p.tags.is_empty()).then(|| {
        p.tags
            .iter()
            .map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build())
            .collect()
    })
}

/// The settings a restore is sent with: the configured ones; what is missing copied from
/// `source` when it answers in `region` within [`SOURCE_WITHIN`]; `publicly_accessible`
/// false unless said. Without a subnet group and security groups AWS would use the default
/// VPC and security group: refused, unless the operator typed `override defaults`.
pub(super) async fn land(
    clients: &AwsClients,
    region: &str,
    landing: Landing<'_>,
    source: Option<&str>,
    progress: &mpsc::Sender<StepProgress>,
) -> Result<Placement, String> {
    let mut p = landing.configured.clone();
    let mut asked = None;
    // A source that answered lends what it has; what it lacks it lacks too (it lives where
    // the restore will), so only a source that could not be asked leaves the network unknown.
    let mut answered = false;
    if let Some(source) = source.filter(|_| !p.has_network() || p.parameter_group.is_none()) {
        let call = "DescribeDBInstances";
        status(
            progress,
            format!("{call} DBInstanceIdentifier={source} ({region}): settings to copy"),
        )
        .await;
        let answer = tokio::time::timeout(
            SOURCE_WITHIN,
            clients
                .rds(region)
                .await
                .describe_db_instances()
                .db_instance_identifier(source)
                .send(),
        )
        .await;
        let found = match answer {
            Ok(Ok(out)) => out
                .db_instances()
                .first()
                .cloned()
                .ok_or_else(|| format!("{source} not found in {region}")),
            Ok(Err(err)) => Err(aws_failure(call, &err)),
            Err(_) => Err(format!(
                "{source} did not answer in {region} within {}",
                crate::app::fmt::duration(SOURCE_WITHIN)
            )),
        };
        match found {
            Ok(i) => {
                answered = true;
                let copied = copy_from(&mut p, &i);
                if !copied.is_empty() {
                    report(
                        progress,
                        StepProgress::Output(format!(
                            "copied from {source} ({region}): {}",
                            copied.join(", ")
                        )),
                    )
                    .await;
                }
            }
            Err(why) => asked = Some(why),
        }
    }
    if p.publicly_accessible.is_none() {
        p.publicly_accessible = Some(false);
    }
    if !p.has_network() && !answered {
        let why = asked.unwrap_or_else(|| match source {
            Some(s) => format!("{s} gave none"),
            None => "no source instance to copy them from".to_string(),
        });
        match landing.allow_defaults {
            Some(reason) => {
                report(
                    progress,
                    StepProgress::Output(format!(
                        "no subnet group or security groups ({why}): AWS defaults (default VPC, default security group) — override defaults: {reason}"
                    )),
                )
                .await;
            }
            None => {
                return Err(format!(
                    "no subnet group or security groups: none configured and {why}; AWS would use the default VPC and security group, where the apps cannot reach it: nothing restored (configure subnet_group and security_groups, or type `override defaults: <reason>`)"
                ));
            }
        }
    }
    Ok(p)
}

/// Fills what `p` lacks from the source instance; what was copied, in words.
pub(super) fn copy_from(p: &mut Placement, i: &DbInstance) -> Vec<String> {
    let mut said = Vec::new();
    if p.subnet_group.is_none()
        && let Some(g) = i.db_subnet_group().and_then(|g| g.db_subnet_group_name())
    {
        p.subnet_group = Some(g.to_string());
        said.push(format!("subnet group {g}"));
    }
    if p.security_groups.is_none() {
        let groups: Vec<String> = i
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
            .collect();
        if !groups.is_empty() {
            said.push(format!("security groups {}", groups.join(" ")));
            p.security_groups = Some(groups);
        }
    }
    if p.parameter_group.is_none()
        && let Some(g) = i
            .db_parameter_groups()
            .first()
            .and_then(|g| g.db_parameter_group_name())
            // The engine's default is what AWS picks anyway.
            .filter(|g| !g.starts_with("default."))
    {
        p.parameter_group = Some(g.to_string());
        said.push(format!("parameter group {g}"));
    }
    if p.option_group.is_none()
        && let Some(g) = i
            .option_group_memberships()
            .first()
            .and_then(|g| g.option_group_name())
            .filter(|g| !g.starts_with("default:"))
    {
        p.option_group = Some(g.to_string());
        said.push(format!("option group {g}"));
    }
    if p.multi_az.is_none()
        && let Some(m) = i.multi_az()
    {
        p.multi_az = Some(m);
        said.push(format!("multi-AZ {m}"));
    }
    if p.deletion_protection.is_none()
        && let Some(d) = i.deletion_protection()
    {
        p.deletion_protection = Some(d);
        said.push(format!("deletion protection {d}"));
    }
    if p.publicly_accessible.is_none()
        && let Some(a) = i.publicly_accessible()
    {
        p.publicly_accessible = Some(a);
        said.push(format!("publicly accessible {a}"));
    }
    if p.port.is_none()
        && let Some(port) = i
            .endpoint()
            .and_then(|e| e.port())
            .or(i.db_instance_port())
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| *n > 0)
    {
        p.port = Some(port);
        said.push(format!("port {port}"));
    }
    if p.storage_type.is_none()
        && let Some(s) = i.storage_type()
    {
        p.storage_type = Some(s.to_string());
        said.push(format!("storage {s}"));
    }
    if p.iops.is_none()
        && let Some(n) = i.iops().and_then(|n| u32::try_from(n).ok())
    {
        p.iops = Some(n);
        said.push(format!("{n} IOPS"));
    }
    if p.tags.is_empty() {
        for t in i.tag_list() {
            if let (Some(k), Some(v)) = (t.key(), t.value()) {
                p.tags.insert(k.to_string(), v.to_string());
            }
        }
        if !p.tags.is_empty() {
            said.push(format!("{} tags", p.tags.len()));
        }
    }
    said
}

/// The newest available snapshot of `instance` in `region`: its id and when its data was
/// taken; or why there is none.
pub(super) async fn newest_snapshot(
    clients: &AwsClients,
    instance: &str,
    region: &str,
    progress: &mpsc::Sender<StepProgress>,
) -> Result<(String, Timestamp), String> {
    let call = "DescribeDBSnapshots";
    status(
        progress,
        format!("{call} DBInstanceIdentifier={instance} ({region})"),
    )
    .await;
    let mut pages = clients
        .rds(region)
        .await
        .describe_db_snapshots()
        .db_instance_identifier(instance)
        .into_paginator()
        .send();
    let mut snaps = Vec::new();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => snaps.extend(page.db_snapshots().iter().map(|s| {
                Snap {
                    id: s.db_snapshot_identifier().unwrap_or_default().to_string(),
                    status: s.status().unwrap_or_default().to_string(),
                    taken: s
                        .original_snapshot_create_time()
                        .or(s.snapshot_create_time())
                        .and_then(timestamp),
                }
            })),
            Err(err) if err.code() == Some("DBInstanceNotFound") => break,
            Err(err) => return Err(aws_failure(call, &err)),
        }
    }
    match newest_available(&snaps) {
        Some(Snap {
            id,
            taken: Some(taken),
            ..
        }) if !id.is_empty() => Ok((id.clone(), *taken)),
        _ => Err(format!(
            "no available snapshot of {instance} in {region} ({} found, none available): nothing restored",
            snaps.len()
        )),
    }
}

/// `RestoreDBInstanceToPointInTime`, to the time the operator typed.
pub async fn restore_point_in_time(
    clients: &AwsClients,
    source: &str,
    target: &str,
    region: &str,
    time: Timestamp,
    landing: Landing<'_>,
    progress: &mpsc::Sender<StepProgress>,
) -> StepOutcome {
    let placement = match land(clients, region, landing, Some(source), progress).await {
        Ok(p) => p,
        Err(reason) => return failed(reason),
    };
    let call = "RestoreDBInstanceToPointInTime";
    status(
        progress,
        format!(
            "{call} SourceDBInstanceIdentifier={source} TargetDBInstanceIdentifier={target} \
             RestoreTime={time} ({region})"
        ),
    )
    .await;
    let restore_time =
        DateTime::from_secs_and_nanos(time.as_second(), time.subsec_nanosecond() as u32);
    let answer = clients
        .rds(region)
        .await
        .restore_db_instance_to_point_in_time()
        .source_db_instance_identifier(source)
        .target_db_instance_identifier(target)
        .restore_time(restore_time)
        .set_db_subnet_group_name(placement.subnet_group.clone())
        .set_vpc_security_group_ids(placement.security_groups.clone())
        .set_db_parameter_group_name(placement.parameter_group.clone())
        .set_option_group_name(placement.option_group.clone())
        .set_multi_az(placement.multi_az)
        .set_deletion_protection(placement.deletion_protection)
        .set_publicly_accessible(placement.publicly_accessible)
        .set_port(placement.port.map(i32::from))
        .set_tags(tags(&placement))
        .set_storage_type(placement.storage_type.clone())
        .set_iops(placement.iops.and_then(|i| i32::try_from(i).ok()))
        .customize()
        .config_override(once(clients))
        .send()
        .await;
    match answer {
        Ok(out) => {
            let state = instance_state(out.db_instance(), target);
            report(progress, StepProgress::Output(format!("{call}: {state}"))).await;
            restored(
                clients,
                region,
                target,
                format!("{call} accepted: {state}, from {source} as of {time}"),
                progress,
            )
            .await
        }
        Err(err) => failed(aws_failure(call, &err)),
    }
}

/// The restore time of a point-in-time step: the step's `rfc3339` input (by its name, else
/// [`DEFAULT_TIME_INPUT`]) as typed, strict RFC 3339, not after `now`.
pub fn restore_time(
    declared: &[Input],
    inputs: &BTreeMap<String, String>,
    now: Timestamp,
) -> Result<Timestamp, String> {
    let name = declared
        .iter()
        .find(|i| i.kind == InputKind::Rfc3339)
        .map_or(DEFAULT_TIME_INPUT, |i| i.name.as_str());
    let Some(text) = inputs.get(name) else {
        return Err(format!(
            "no restore time was given (input `{name}`): nothing restored"
        ));
    };
    let time = parse_rfc3339(text).map_err(|why| {
        format!(
            "restore time {:?} is not an RFC 3339 time ({why}; e.g. 2024-01-15T14:30:00Z): nothing restored",
            crate::text::redact::excerpt(text, 60)
        )
    })?;
    if time > now {
        return Err(format!(
            "restore time {time} is in the future (now {}): nothing restored",
            Timestamp::from_second(now.as_second()).unwrap_or(now)
        ));
    }
    Ok(time)
}

/// A time in RFC 3339's `date-time` form and nothing else: `YYYY-MM-DDTHH:MM:SS`, optional
/// fraction, then `Z` or `±HH:MM` (`T` and `Z` in either case). Blanks around are ignored.
/// ISO 8601's other forms (no seconds, `+0200`, `+02`, a space for the `T`, a time zone
/// name) are refused: a restore time must mean one instant, exactly as typed.
pub fn parse_rfc3339(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    let b = text.as_bytes();
    let digits = |from: usize, n: usize| {
        b.get(from..from + n)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let shape = "expected YYYY-MM-DDTHH:MM:SS[.fraction] then Z or ±HH:MM";
    if !(digits(0, 4)
        && at(4, b'-')
        && digits(5, 2)
        && at(7, b'-')
        && digits(8, 2)
        && (at(10, b'T') || at(10, b't'))
        && digits(11, 2)
        && at(13, b':')
        && digits(14, 2)
        && at(16, b':')
        && digits(17, 2))
    {
        return Err(shape.into());
    }
    let mut i = 19;
    if at(i, b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(shape.into());
        }
    }
    let offset_ok = match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            digits(i + 1, 2) && at(i + 3, b':') && digits(i + 4, 2) && i + 6 == b.len()
        }
        None => return Err("no offset: add Z for UTC, or ±HH:MM".into()),
        _ => false,
    };
    if !offset_ok {
        return Err(shape.into());
    }
    text.parse::<Timestamp>().map_err(|e| e.to_string())
}
