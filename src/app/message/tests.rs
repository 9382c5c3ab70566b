use super::*;

pub(crate) fn facts() -> Facts {
    Facts {
        service: "DTEM production".into(),
        incident: "us-east-1 unreachable".into(),
        level: DrLevel::new(3).expect("3"),
        severity: "EMERGENCY".into(),
        started: Timestamp::from_second(1_764_558_000).expect("t"),
        commander: "ana@bastion".into(),
        components: vec![
            ComponentFact {
                public_name: None,
                id: "db-primary".into(),
                name: "Base de Datos Principal".into(),
                tier: Tier::Critical,
                state: HealthState::Down,
                reason: "connection timed out".into(),
                rto_seconds: Some(3600),
                affected: false,
            },
            ComponentFact {
                public_name: Some("API Gateway".into()),
                id: "web-apps".into(),
                name: "Aplicaciones Web".into(),
                tier: Tier::Critical,
                state: HealthState::Degraded,
                reason: "slow: 2.5s".into(),
                rto_seconds: None,
                affected: false,
            },
            ComponentFact {
                public_name: None,
                id: "apps-dr".into(),
                name: "Aplicaciones Web (standby DR)".into(),
                tier: Tier::Standard,
                state: HealthState::Up,
                reason: String::new(),
                rto_seconds: None,
                affected: false,
            },
            ComponentFact {
                public_name: None,
                id: "config-secrets".into(),
                name: "Configuración y Secretos".into(),
                tier: Tier::Critical,
                state: HealthState::Unknown,
                reason: "EKS API unreachable".into(),
                rto_seconds: None,
                affected: false,
            },
        ],
        lag: vec!["db-primary → dtem-postgres-dr-replica: 6m17s (WARN)".into()],
        backups: vec!["db-primary: newest backup 14h old (OK)".into()],
        actions: vec![],
    }
}

fn update(text: &str) -> Update {
    let at = Timestamp::from_second(1_764_558_600).expect("t");
    Update {
        template: Template::Initial,
        status: IncidentStatus::Investigating,
        subject: "🚨 CRITICAL: DTEM production — us-east-1 unreachable".into(),
        text: text.into(),
        public_subject: "DTEM production: service disruption".into(),
        public_text: text.into(),
        facts: facts(),
        by: "ana@bastion".into(),
        at,
        next_update: at
            .saturating_add(jiff::SignedDuration::from_mins(30))
            .expect("t"),
        to: vec![Channel::Slack, Channel::StatusPage],
    }
}

/// Every text of a Slack body within `max` characters, UTF-16 units and UTF-8 bytes.
fn fits(text: &str, max: usize) -> bool {
    text.chars().count() <= max && text.encode_utf16().count() <= max && text.len() <= max
}

#[test]
fn the_largest_update_the_console_can_make_fits_every_slack_limit() {
    // A 500-character title full of emoji and entities, 40 failing components with long
    // reasons, a 5000-character note, long lag and backup lines.
    let mut u = update(&"🚨 <db> & cache — réplica caída ".repeat(160));
    u.subject = "🔥&<>é".repeat(100);
    u.facts.severity = "EMERGENCY ".repeat(300);
    u.facts.components = (0..40)
        .map(|i| ComponentFact {
            public_name: None,
            id: format!("component-{i}-{}", "x".repeat(60)),
            name: format!("Componente {i}"),
            tier: Tier::Critical,
            state: HealthState::Down,
            reason: "🧨 & <timeout> ".repeat(30),
            rto_seconds: None,
            affected: false,
        })
        .collect();
    u.facts.lag = vec!["db → dr: 🐢 ".repeat(200); 20];
    u.facts.backups = vec!["backup 🗄 old ".repeat(200); 20];
    for body in [
        slack_post_body(&u, "w-1", "#war", Some("1.2"), None, Audience::Team),
        slack_webhook_body(&u, "w-1", Audience::Team),
        slack_root_update_body(&u, &u, "w-1", "C1", "1.2"),
    ] {
        let blocks = body["blocks"].as_array().expect("blocks");
        assert!(blocks.len() <= BLOCKS_MAX);
        let text = body["text"].as_str().expect("text");
        assert!(fits(text, FALLBACK_MAX), "text: {} bytes", text.len());
        for b in blocks {
            match b["type"].as_str() {
                Some("header") => {
                    let t = b["text"]["text"].as_str().expect("header");
                    assert!(fits(t, HEADER_MAX), "header: {} bytes", t.len());
                    assert!(t.ends_with('…'));
                }
                Some("section") => {
                    if let Some(t) = b["text"]["text"].as_str() {
                        assert!(fits(t, SECTION_MAX), "section: {} bytes", t.len());
                    }
                    for f in b["fields"].as_array().into_iter().flatten() {
                        let t = f["text"].as_str().expect("field");
                        assert!(fits(t, FIELD_MAX), "field: {} bytes", t.len());
                    }
                }
                Some("context") => {
                    for e in b["elements"].as_array().into_iter().flatten() {
                        let t = e["text"].as_str().expect("element");
                        assert!(fits(t, FIELD_MAX), "context: {} bytes", t.len());
                    }
                }
                _ => {}
            }
        }
        let all = body.to_string();
        assert!(all.contains("… and 28 more"), "the affected list is capped");
    }
}

/// A Slack channel the public reads gets the public part only: none of the facts, the
/// team's text, the DR level or who posted.
#[test]
fn a_public_slack_audience_reads_the_public_part_only() {
    let mut u = update("Internal: promoted dtem-postgres-dr by hand, ana on it.");
    u.public_text = "We are investigating a disruption affecting DTEM production.".into();
    u.facts.actions = vec!["Promote the DR replica (ana@bastion, 03:12Z)".into()];
    for body in [
        slack_post_body(&u, "w-1", "#customers", None, None, Audience::Public),
        slack_post_body(&u, "w-2", "#customers", Some("1.2"), None, Audience::Public),
        slack_webhook_body(&u, "w-3", Audience::Public),
    ] {
        let text = body.to_string();
        for internal in [
            "ana",
            "bastion",
            "Base de Datos",
            "db-primary",
            "dtem-postgres",
            "Promote the DR replica",
            "Internal:",
            "EMERGENCY",
            "L3",
            "us-east-1",
        ] {
            assert!(!text.contains(internal), "{internal:?} in {text}");
        }
        assert!(text.contains("We are investigating a disruption"), "{text}");
        assert!(
            text.contains("DTEM production: service disruption"),
            "{text}"
        );
        assert!(
            text.contains("ref w-"),
            "the ref that finds it after a crash: {text}"
        );
    }
    // The team's channel gets everything.
    let team = slack_post_body(&u, "w-4", "#war", None, None, Audience::Team).to_string();
    assert!(team.contains("Internal: promoted") && team.contains("posted by ana@bastion"));
}

#[test]
fn user_text_is_escaped_everywhere_in_slack_so_a_note_cannot_ping_the_channel() {
    let u = update("<!channel> db & cache > down");
    let body = slack_post_body(&u, "w-1", "#war", None, None, Audience::Team).to_string();
    assert!(!body.contains("<!channel>"), "{body}");
    assert!(body.contains("&lt;!channel&gt; db &amp; cache &gt; down"));
    let hook = slack_webhook_body(&u, "w-1", Audience::Team).to_string();
    assert!(!hook.contains("<!channel>"));
}

#[test]
fn a_slack_update_carries_header_status_level_affected_lag_backup_due_and_who() {
    let u = update("We are on it.");
    let blocks = slack_blocks(&u, "w-1");
    let text = blocks.to_string();
    assert_eq!(blocks[0]["type"], "header");
    for needle in [
        "investigating",
        "L3 critical",
        "EMERGENCY",
        "db-primary DOWN (connection timed out)",
        "config-secrets UNKNOWN",
        "web-apps DEGRADED",
        "6m17s",
        "14h old",
        "Next update due",
        "03:40Z",
        "posted by ana@bastion",
        "ref w-1",
        "We are on it.",
    ] {
        assert!(text.contains(needle), "{needle} missing in {text}");
    }
    assert!(!text.contains("apps-dr"), "UP components are not affected");
}

#[test]
fn replies_go_to_the_thread_of_the_first_message() {
    let u = update("x");
    assert!(
        slack_post_body(&u, "w-1", "#war", None, None, Audience::Team)
            .get("thread_ts")
            .is_none()
    );
    assert_eq!(
        slack_post_body(&u, "w-2", "#war", Some("1700.1"), None, Audience::Team)["thread_ts"],
        "1700.1"
    );
}

#[test]
fn page_components_follow_the_mapping_worst_state_and_unknown_says_nothing() {
    let f = facts();
    let mapping: BTreeMap<String, String> = [
        ("db-primary", "database"),
        ("web-apps", "api"),
        ("apps-dr", "api"),
        ("config-secrets", "config"),
    ]
    .into_iter()
    .map(|(a, b)| (a.into(), b.into()))
    .collect();
    let got = page_components(&f, &mapping);
    assert_eq!(got.get("database"), Some(&PageStatus::MajorOutage));
    // web-apps DEGRADED + apps-dr UP.
    assert_eq!(got.get("api"), Some(&PageStatus::DegradedPerformance));
    assert_eq!(got.get("config"), None, "unknown: not said");
    let mut f2 = f.clone();
    f2.components[1].state = HealthState::Down;
    assert_eq!(
        page_components(&f2, &mapping).get("api"),
        Some(&PageStatus::PartialOutage)
    );
}

#[test]
fn the_page_hears_only_of_components_the_incident_touched() {
    let mut f = facts();
    let mapping: BTreeMap<String, String> = [
        ("db-primary", "database"),
        ("apps-dr", "standby"),
        ("web-apps", "api"),
    ]
    .into_iter()
    .map(|(a, b)| (a.into(), b.into()))
    .collect();
    // apps-dr has been UP all along: its subscribers are not told of this incident.
    let got = affected_page_components(&f, &mapping);
    assert_eq!(got.get("database"), Some(&PageStatus::MajorOutage));
    assert_eq!(got.get("api"), Some(&PageStatus::DegradedPerformance));
    assert_eq!(got.get("standby"), None);
    // db-primary recovered but failed earlier: shown, operational again.
    f.components[0].state = HealthState::Up;
    f.components[0].affected = true;
    let got = affected_page_components(&f, &mapping);
    assert_eq!(got.get("database"), Some(&PageStatus::Operational));
    let mut u = update("Recovered.");
    u.facts = f;
    let body = statuspage_update_body(&u, &mapping);
    let ids: Vec<&str> = body["incident"]["component_ids"]
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(ids, ["api", "database"]);
}

#[test]
fn statuspage_bodies_create_then_update_the_incident() {
    let mapping: BTreeMap<String, String> =
        [("db-primary".to_string(), "cmp_db".to_string())].into();
    let u = update("Investigating.");
    let c = statuspage_create_body(&u, &mapping);
    assert_eq!(c["incident"]["status"], "investigating");
    assert_eq!(c["incident"]["components"]["cmp_db"], "major_outage");
    assert_eq!(c["incident"]["impact_override"], "critical");
    assert_eq!(c["incident"]["body"], "Investigating.");
    let mut r = update("All services restored.");
    r.status = IncidentStatus::Resolved;
    let p = statuspage_update_body(&r, &mapping);
    assert_eq!(p["incident"]["status"], "resolved");
    assert_eq!(p["incident"]["body"], "All services restored.");
    assert!(p["incident"].get("name").is_none());
}

#[test]
fn the_webhook_gets_the_seeds_whole_page_state() {
    let mapping: BTreeMap<String, String> = [
        ("db-primary".to_string(), "database".to_string()),
        ("web-apps".to_string(), "api".to_string()),
    ]
    .into();
    let first = update("Investigating.");
    let mut second = update("Identified.");
    second.status = IncidentStatus::Identified;
    let v = webhook_state(&second, std::slice::from_ref(&first), &mapping, "inc-1");
    assert_eq!(v["status"], "major_outage");
    assert_eq!(v["components"][0]["id"], "api");
    // The public name, never the internal one; none: the page's own id.
    assert_eq!(v["components"][0]["name"], "API Gateway");
    assert_eq!(v["components"][1]["name"], "database");
    assert!(!v.to_string().contains("Base de Datos"), "{v}");
    assert_eq!(v["incidents"][0]["id"], "inc-1");
    assert_eq!(v["incidents"][0]["status"], "identified");
    assert_eq!(
        v["incidents"][0]["updates"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(v["lastUpdated"].is_string());
    let mut resolved = update("Done.");
    resolved.status = IncidentStatus::Resolved;
    let v = webhook_state(&resolved, &[first, second], &mapping, "inc-1");
    assert_eq!(v["incidents"].as_array().map(Vec::len), Some(0));
}
