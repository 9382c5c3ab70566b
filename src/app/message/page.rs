//! Status page bodies: the public subject and text, the components it names and their state.

use super::*;

/// A status page's component status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageStatus {
    Operational,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl PageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PageStatus::Operational => "operational",
            PageStatus::DegradedPerformance => "degraded_performance",
            PageStatus::PartialOutage => "partial_outage",
            PageStatus::MajorOutage => "major_outage",
        }
    }
}

/// The page's components and their status from ours, through the configured mapping. Several
/// of ours may map to one of theirs: all DOWN is a major outage, some DOWN a partial one,
/// any DEGRADED degraded performance, all UP operational. A page component whose every
/// component of ours is UNKNOWN is left as it is: we cannot see it, so we do not say.
pub fn page_components(
    facts: &Facts,
    mapping: &BTreeMap<String, String>,
) -> BTreeMap<String, PageStatus> {
    let mut by_theirs: BTreeMap<&str, Vec<HealthState>> = BTreeMap::new();
    for (ours, theirs) in mapping {
        if let Some(c) = facts.components.iter().find(|c| &c.id == ours) {
            by_theirs.entry(theirs.as_str()).or_default().push(c.state);
        }
    }
    by_theirs
        .into_iter()
        .filter_map(|(theirs, states)| {
            let known: Vec<HealthState> = states
                .into_iter()
                .filter(|s| *s != HealthState::Unknown)
                .collect();
            if known.is_empty() {
                return None;
            }
            let down = known.iter().filter(|s| **s == HealthState::Down).count();
            let status = if down == known.len() {
                PageStatus::MajorOutage
            } else if down > 0 {
                PageStatus::PartialOutage
            } else if known.contains(&HealthState::Degraded) {
                PageStatus::DegradedPerformance
            } else {
                PageStatus::Operational
            };
            Some((theirs.to_string(), status))
        })
        .collect()
}

/// The page components an incident touches: those with one of ours not UP now, or one that
/// failed earlier in this incident (shown recovered). Subscribers of a component the
/// incident never touched are not told about it.
pub fn affected_page_components(
    facts: &Facts,
    mapping: &BTreeMap<String, String>,
) -> BTreeMap<String, PageStatus> {
    let touched: std::collections::BTreeSet<&str> = mapping
        .iter()
        .filter(|(ours, _)| {
            facts
                .components
                .iter()
                .any(|c| &c.id == *ours && (c.state != HealthState::Up || c.affected))
        })
        .map(|(_, theirs)| theirs.as_str())
        .collect();
    page_components(facts, mapping)
        .into_iter()
        .filter(|(theirs, _)| touched.contains(theirs.as_str()))
        .collect()
}

/// The body of an incident update on the page: the public text (an update queued by an older
/// build has none: it is made from the facts, never from the team's text).
pub fn page_body(u: &Update) -> String {
    if u.public_text.trim().is_empty() {
        return crate::app::public::text(
            u.template,
            u.status,
            &u.facts,
            None,
            u.next_update,
            crate::config::Language::En,
        );
    }
    u.public_text.trim().to_string()
}

/// The page's incident name: the public subject (made from the facts when there is none).
pub fn page_subject(u: &Update) -> String {
    if u.public_subject.trim().is_empty() {
        return crate::app::public::subject(
            u.template,
            u.status,
            &u.facts,
            crate::config::Language::En,
        );
    }
    u.public_subject.trim().to_string()
}

/// The page's incident impact, from our severity.
pub fn page_impact(severity: &str) -> &'static str {
    match severity {
        "EMERGENCY" => "critical",
        s if s.starts_with("CRITICAL") => "major",
        "DEGRADED" => "minor",
        _ => "none",
    }
}

/// Later updates move the incident's status and add its body
/// (`PATCH /pages/{page_id}/incidents/{incident_id}`), with the page's component statuses.
pub fn statuspage_update_body(u: &Update, mapping: &BTreeMap<String, String>) -> Value {
    let components = affected_page_components(&u.facts, mapping);
    json!({
        "incident": {
            "status": u.status.label(),
            "body": page_body(u),
            "deliver_notifications": true,
            "component_ids": components.keys().collect::<Vec<_>>(),
            "components": components.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect::<serde_json::Map<_, _>>(),
        }
    })
}

/// Atlassian Statuspage: the first update of an incident creates it
/// (`POST /pages/{page_id}/incidents`): an update's body with a name and an impact.
pub fn statuspage_create_body(u: &Update, mapping: &BTreeMap<String, String>) -> Value {
    let mut body = statuspage_update_body(u, mapping);
    body["incident"]["name"] = Value::from(cut(&page_subject(u), 250));
    body["incident"]["impact_override"] = Value::from(page_impact(&u.facts.severity));
    body
}

/// The generic status-page webhook's body: the whole page as seed 000's StatusPageService
/// publishes it (status, components, incidents, lastUpdated). `earlier` are the incident's
/// updates already queued before this one, oldest first. Sent again, it says the same:
/// delivering it twice is harmless.
pub fn webhook_state(
    u: &Update,
    earlier: &[Update],
    mapping: &BTreeMap<String, String>,
    incident_id: &str,
) -> Value {
    let statuses = page_components(&u.facts, mapping);
    let names: BTreeMap<&str, Vec<&str>> = mapping.iter().fold(BTreeMap::new(), |mut m, (o, t)| {
        let name = u
            .facts
            .components
            .iter()
            .find(|c| &c.id == o)
            .and_then(|c| c.public_name.as_deref())
            // No public name: the page's own id, never an internal name.
            .unwrap_or(t.as_str());
        m.entry(t.as_str()).or_insert_with(Vec::new).push(name);
        m
    });
    let components: Vec<Value> = statuses
        .iter()
        .map(|(id, status)| {
            json!({
                "id": id,
                "name": names.get(id.as_str()).map(|n| n.join(", ")).unwrap_or_default(),
                "status": status.as_str(),
            })
        })
        .collect();
    let overall = statuses
        .values()
        .max()
        .copied()
        .unwrap_or(PageStatus::Operational);
    let first = earlier.first().unwrap_or(u);
    let updates: Vec<Value> = earlier
        .iter()
        .chain(std::iter::once(u))
        .map(|x| {
            json!({
                "message": page_body(x),
                "status": x.status.label(),
                "timestamp": x.at.to_string(),
            })
        })
        .collect();
    let mut incident = json!({
        "id": incident_id,
        "title": page_subject(first),
        "description": page_body(first),
        "impact": page_impact(&u.facts.severity),
        "status": u.status.label(),
        "createdAt": first.at.to_string(),
        "updates": updates,
    });
    if u.status == IncidentStatus::Resolved {
        incident["resolvedAt"] = Value::from(u.at.to_string());
    }
    // Like the seed, the page lists the incidents that are not resolved.
    let incidents = if u.status == IncidentStatus::Resolved {
        Vec::new()
    } else {
        vec![incident]
    };
    json!({
        "status": overall.as_str(),
        "components": components,
        "incidents": incidents,
        "lastUpdated": u.at.to_string(),
    })
}
