//! The communication templates of seed 000 ("Communication Templates": initial incident
//! notification, service restoration notification), with an update in between, filled in
//! from what the console knows. The operator edits the text before it is sent; every claim
//! a template cannot know to be true is worded so that sending it unedited says nothing false.

use jiff::Timestamp;

use super::message::{Facts, Template};
use crate::app::{HealthState, IncidentStatus};

/// The status an update announces unless the operator chooses another.
pub fn default_status(
    template: Template,
    incident: IncidentStatus,
    all_up: bool,
) -> IncidentStatus {
    match template {
        // Resolved is proposed only when every component is UP; otherwise the service is
        // back but being watched (an L3 failover: the lost region is still out).
        Template::Restoration if all_up => IncidentStatus::Resolved,
        Template::Restoration => IncidentStatus::Monitoring,
        _ if incident == IncidentStatus::Resolved => IncidentStatus::Monitoring,
        _ => incident,
    }
}

/// The one-line subject: Slack's header, the status page's incident name.
pub fn subject(template: Template, status: IncidentStatus, facts: &Facts) -> String {
    match template {
        Template::Initial => format!(
            "🚨 {}: {} — {}",
            headline(&facts.severity),
            facts.service,
            facts.incident
        ),
        Template::Update => format!("UPDATE: {} — {}", facts.service, facts.incident),
        Template::Restoration if status == IncidentStatus::Resolved => {
            format!("✅ RESOLVED: {} service restored", facts.service)
        }
        Template::Restoration => format!(
            "✅ RESTORED: {} service restored, monitoring",
            facts.service
        ),
    }
}

/// "CRITICAL" for the subject: the unverified and observing states say less.
fn headline(severity: &str) -> &str {
    match severity {
        "EMERGENCY" => "EMERGENCY",
        s if s.starts_with("CRITICAL") => "CRITICAL",
        "DEGRADED" => "DEGRADED",
        _ => "INCIDENT",
    }
}

fn utc(t: Timestamp) -> String {
    t.strftime("%H:%M UTC").to_string()
}

fn impact_lines(facts: &Facts) -> Vec<String> {
    let affected = facts.affected();
    if affected.is_empty() {
        return vec!["- No component is failing right now".into()];
    }
    affected
        .iter()
        .map(|c| {
            let what = match c.state {
                HealthState::Down => "unavailable",
                HealthState::Degraded => "degraded",
                HealthState::Unknown => "not observable",
                HealthState::Up => "operational",
            };
            // Names, not the console's ids: customers read this too.
            format!("- {} is {what}", c.name)
        })
        .collect()
}

/// The seed's "[X] hours": the longest recovery time objective of what is failing.
fn eta(facts: &Facts) -> String {
    let rto = facts.affected().iter().filter_map(|c| c.rto_seconds).max();
    match rto {
        Some(s) => format!(
            "We expect to restore service within {} (our recovery time objective).",
            crate::app::fmt::duration(std::time::Duration::from_secs(s))
        ),
        None => "We will give an estimate in the next update.".into(),
    }
}

/// The text the composer starts from.
pub fn text(template: Template, facts: &Facts, next_update: Timestamp) -> String {
    let mut out: Vec<String> = Vec::new();
    match template {
        Template::Initial => {
            out.push("Situation".into());
            out.push(format!(
                "We are currently experiencing a service outage affecting {}: {}.",
                facts.service, facts.incident
            ));
            out.push(String::new());
            out.push("Impact".into());
            out.extend(impact_lines(facts));
            out.push(String::new());
            out.push("Current actions".into());
            out.push("- Incident response team activated".into());
            out.push(format!(
                "- Disaster recovery procedures initiated ({})",
                facts.level.label()
            ));
            out.push("- Root cause investigation in progress".into());
            out.push(String::new());
            out.push("ETA".into());
            out.push(eta(facts));
            out.push(String::new());
            out.push("Next update".into());
            out.push(format!(
                "Next update will be provided within 30 minutes (by {}).",
                utc(next_update)
            ));
            out.push(String::new());
            out.push("Contact".into());
            // The user, not user@host: a bastion's name is nobody's business outside.
            let commander = facts.commander.split('@').next().unwrap_or_default();
            out.push(format!("- Incident Commander: {commander}"));
        }
        Template::Update => {
            out.push("Current status".into());
            out.push(format!(
                "Our teams continue to work on the outage affecting {} since {}.",
                facts.service,
                utc(facts.started)
            ));
            out.push(String::new());
            out.push("Impact".into());
            out.extend(impact_lines(facts));
            if !facts.actions.is_empty() {
                out.push(String::new());
                out.push("Progress".into());
                out.extend(facts.actions.iter().map(|a| format!("- {a}")));
            }
            out.push(String::new());
            out.push("Next update".into());
            out.push(format!(
                "Next update will be provided within 30 minutes (by {}).",
                utc(next_update)
            ));
        }
        Template::Restoration => {
            out.push("Resolution".into());
            out.push(format!(
                "{} services have been restored following the outage that began at {}.",
                facts.service,
                utc(facts.started)
            ));
            out.push(String::new());
            out.push("Actions taken".into());
            if facts.actions.is_empty() {
                out.push("- (describe the actions taken)".into());
            } else {
                out.extend(facts.actions.iter().map(|a| format!("- {a}")));
            }
            out.push(String::new());
            out.push("Current status".into());
            let affected = facts.affected();
            if affected.is_empty() {
                out.push("- All services are operational".into());
            } else {
                out.push("- Still affected:".into());
                out.extend(impact_lines(facts).into_iter().map(|l| format!("  {l}")));
            }
            out.push("- Performance monitoring active".into());
            out.push("- Data integrity is being verified".into());
            out.push(String::new());
            out.push("Follow-up actions".into());
            out.push("- Post-incident review scheduled".into());
            out.push("- Full incident report to follow".into());
            out.push(String::new());
            out.push("Support".into());
            out.push("If you experience any issues, please contact our support team.".into());
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::message::ComponentFact;
    use crate::config::Tier;

    fn facts(states: &[(&str, HealthState, Option<u64>)]) -> Facts {
        Facts {
            service: "DTEM production".into(),
            incident: "us-east-1 unreachable".into(),
            level: crate::app::DrLevel::new(3).expect("3"),
            severity: "CRITICAL".into(),
            started: Timestamp::from_second(1_764_558_000).expect("t"),
            commander: "ana@bastion".into(),
            components: states
                .iter()
                .map(|(id, s, rto)| ComponentFact {
                    public_name: None,
                    id: id.to_string(),
                    name: format!("{id} name"),
                    tier: Tier::Critical,
                    state: *s,
                    reason: String::new(),
                    rto_seconds: *rto,
                    affected: false,
                })
                .collect(),
            lag: vec![],
            backups: vec![],
            actions: vec!["Promote the DR replica (ana@bastion, 03:12Z)".into()],
        }
    }

    fn at() -> Timestamp {
        Timestamp::from_second(1_764_559_800).expect("t")
    }

    #[test]
    fn the_initial_notice_follows_the_seed_and_fills_in_what_is_known() {
        let f = facts(&[
            ("db", HealthState::Down, Some(3600)),
            ("mq", HealthState::Down, Some(900)),
            ("web", HealthState::Up, Some(1800)),
        ]);
        assert_eq!(
            subject(Template::Initial, IncidentStatus::Investigating, &f),
            "🚨 CRITICAL: DTEM production — us-east-1 unreachable"
        );
        let t = text(Template::Initial, &f, at());
        for needle in [
            "Situation",
            "- db name is unavailable",
            "- mq name is unavailable",
            "Disaster recovery procedures initiated (L3 critical)",
            "within 1h (our recovery time objective)",
            "within 30 minutes (by 03:30 UTC)",
            "Incident Commander: ana",
        ] {
            assert!(t.contains(needle), "{needle}: {t}");
        }
        assert!(!t.contains("web name"), "UP is not an impact");
        assert!(t.ends_with("Incident Commander: ana"), "no host name: {t}");
    }

    #[test]
    fn the_restoration_notice_says_what_is_still_affected_instead_of_claiming_all_is_well() {
        let all_up = facts(&[("db", HealthState::Up, None)]);
        let t = text(Template::Restoration, &all_up, at());
        assert!(t.contains("All services are operational"));
        assert!(t.contains("Promote the DR replica"));
        let partly = facts(&[
            ("db", HealthState::Up, None),
            ("mq", HealthState::Down, None),
        ]);
        let t = text(Template::Restoration, &partly, at());
        assert!(!t.contains("All services are operational"), "{t}");
        assert!(t.contains("mq name is unavailable"));
        assert_eq!(
            default_status(Template::Restoration, IncidentStatus::Monitoring, true),
            IncidentStatus::Resolved
        );
        assert_eq!(
            default_status(Template::Restoration, IncidentStatus::Identified, false),
            IncidentStatus::Monitoring,
            "not every component UP: never proposed as resolved"
        );
        assert_eq!(
            default_status(Template::Update, IncidentStatus::Identified, true),
            IncidentStatus::Identified
        );
        assert!(
            subject(Template::Restoration, IncidentStatus::Monitoring, &partly)
                .starts_with("✅ RESTORED: ")
        );
        assert!(
            subject(Template::Restoration, IncidentStatus::Resolved, &all_up)
                .starts_with("✅ RESOLVED: ")
        );
    }
}
