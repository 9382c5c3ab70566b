//! The public part of an update: what the status page (and any public audience) reads. It
//! names components only by what customers call them (`public_name`, per language), never
//! actors, hosts, runbook steps, internal ids or internal targets (an RTO is not a promise):
//! the ETA is the operator's choice, "not yet known" until one is typed.

use jiff::Timestamp;

use super::entry::IncidentStatus;
use crate::app::message::{ComponentFact, Facts, Template};
use crate::config::Language;

fn utc(t: Timestamp) -> String {
    t.strftime("%H:%M UTC").to_string()
}

/// The components customers can be told about that are not UP (by public name), and how
/// many others are affected that have no public name.
fn affected(facts: &Facts) -> (Vec<&str>, usize) {
    let now: Vec<&ComponentFact> = facts.affected();
    let named: Vec<&str> = now
        .iter()
        .filter_map(|c| c.public_name.as_deref())
        .collect();
    let mut unique: Vec<&str> = Vec::new();
    for n in named {
        if !unique.contains(&n) {
            unique.push(n);
        }
    }
    let unnamed = now.iter().filter(|c| c.public_name.is_none()).count();
    (unique, unnamed)
}

/// "API Gateway and Database" / "API Gateway, Database and other services".
fn list(lang: Language, names: &[&str], unnamed: usize) -> String {
    let (and, others, some) = match lang {
        Language::En => (" and ", "other services", "some of our services"),
        Language::Es => (" y ", "otros servicios", "algunos de nuestros servicios"),
    };
    let mut items: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    if unnamed > 0 {
        items.push(if items.is_empty() { some } else { others }.to_string());
    }
    match items.len() {
        0 => String::new(),
        1 => items.remove(0),
        n => format!("{}{and}{}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// The public headline: the status page's incident name.
pub fn subject(
    template: Template,
    status: IncidentStatus,
    facts: &Facts,
    lang: Language,
) -> String {
    let service = &facts.service;
    match (lang, template, status) {
        (Language::En, Template::Restoration, IncidentStatus::Resolved) => {
            format!("{service}: service restored")
        }
        (Language::En, Template::Restoration, _) => {
            format!("{service}: service restored, monitoring")
        }
        (Language::En, _, _) => format!("{service}: service disruption"),
        (Language::Es, Template::Restoration, IncidentStatus::Resolved) => {
            format!("{service}: servicio restablecido")
        }
        (Language::Es, Template::Restoration, _) => {
            format!("{service}: servicio restablecido, en observación")
        }
        (Language::Es, _, _) => format!("{service}: interrupción del servicio"),
    }
}

/// The public text the composer starts from. `eta`: what the operator typed, if anything.
pub fn text(
    template: Template,
    status: IncidentStatus,
    facts: &Facts,
    eta: Option<&str>,
    next_update: Timestamp,
    lang: Language,
) -> String {
    let (names, unnamed) = affected(facts);
    let who = list(lang, &names, unnamed);
    let service = &facts.service;
    let started = utc(facts.started);
    let next = utc(next_update);
    let eta = eta.map(str::trim).filter(|e| !e.is_empty());
    let mut out: Vec<String> = Vec::new();
    match lang {
        Language::En => match (template, status) {
            (Template::Restoration, IncidentStatus::Resolved) => {
                out.push(format!(
                    "{service} has been restored following the disruption that began at {started}."
                ));
                out.push("Everything is operational. A full incident report will follow.".into());
                out.push(
                    "If you still experience any issues, please contact our support team.".into(),
                );
            }
            (Template::Restoration, _) => {
                out.push(format!(
                        "{service} has been restored following the disruption that began at {started}. We are monitoring it closely."
                    ));
                if !who.is_empty() {
                    out.push(format!("Still affected: {who}."));
                }
                out.push(format!("Next update by {next}."));
            }
            (_, status) => {
                let lead = match status {
                    IncidentStatus::Identified => format!(
                        "We have identified the cause of the disruption affecting {service} since {started} and are working on a fix."
                    ),
                    IncidentStatus::Monitoring => format!(
                        "A fix is in place for the disruption affecting {service} since {started}; we are monitoring it."
                    ),
                    _ => format!(
                        "We are investigating a disruption affecting {service} since {started}."
                    ),
                };
                out.push(lead);
                if !who.is_empty() {
                    out.push(format!("Affected: {who}."));
                }
                out.push(match eta {
                    Some(e) => format!("Estimated resolution: {e}."),
                    None => "Estimated resolution: not yet known.".into(),
                });
                out.push(format!("Next update by {next}."));
            }
        },
        Language::Es => match (template, status) {
            (Template::Restoration, IncidentStatus::Resolved) => {
                out.push(format!(
                    "{service} ha sido restablecido tras la interrupción que comenzó a las {started}."
                ));
                out.push(
                    "Todo funciona con normalidad. Publicaremos un informe completo del incidente."
                        .into(),
                );
                out.push("Si aún tiene problemas, contacte a nuestro equipo de soporte.".into());
            }
            (Template::Restoration, _) => {
                out.push(format!(
                    "{service} ha sido restablecido tras la interrupción que comenzó a las {started}. Lo estamos observando de cerca."
                ));
                if !who.is_empty() {
                    out.push(format!("Aún afectados: {who}."));
                }
                out.push(format!("Próxima actualización antes de las {next}."));
            }
            (_, status) => {
                let lead = match status {
                    IncidentStatus::Identified => format!(
                        "Identificamos la causa de la interrupción que afecta a {service} desde las {started} y estamos trabajando en la solución."
                    ),
                    IncidentStatus::Monitoring => format!(
                        "Aplicamos una solución a la interrupción que afecta a {service} desde las {started}; la estamos observando."
                    ),
                    _ => format!(
                        "Estamos investigando una interrupción que afecta a {service} desde las {started}."
                    ),
                };
                out.push(lead);
                if !who.is_empty() {
                    out.push(format!("Afectados: {who}."));
                }
                out.push(match eta {
                    Some(e) => format!("Resolución estimada: {e}."),
                    None => "Resolución estimada: aún no se conoce.".into(),
                });
                out.push(format!("Próxima actualización antes de las {next}."));
            }
        },
    }
    out.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::HealthState;
    use crate::config::Tier;

    fn fact(id: &str, public: Option<&str>, state: HealthState) -> ComponentFact {
        ComponentFact {
            id: id.into(),
            name: format!("{id} (nombre interno)"),
            public_name: public.map(str::to_string),
            tier: Tier::Critical,
            state,
            reason: "connection refused by 10.0.3.7".into(),
            rto_seconds: Some(7200),
            affected: state != HealthState::Up,
        }
    }

    fn facts() -> Facts {
        Facts {
            service: "DTEM".into(),
            incident: "us-east-1 unreachable".into(),
            level: crate::app::DrLevel::new(3).expect("3"),
            severity: "CRITICAL".into(),
            started: Timestamp::from_second(1_764_558_000).expect("t"),
            commander: "ana@bastion-1".into(),
            components: vec![
                fact("db-primary", Some("Database"), HealthState::Down),
                fact("web-apps", Some("API Gateway"), HealthState::Down),
                fact("file-storage", None, HealthState::Down),
                fact("cache-redis", Some("Cache"), HealthState::Up),
            ],
            lag: vec!["db-primary → dtem-postgres-dr-replica: 6m17s (WARN)".into()],
            backups: vec!["db-primary: newest backup 14h old (CRIT)".into()],
            actions: vec!["Promote the DR replica to primary (ana@bastion-1, 03:12Z)".into()],
        }
    }

    fn next() -> Timestamp {
        Timestamp::from_second(1_764_559_800).expect("t")
    }

    #[test]
    fn public_text_names_components_by_public_name_and_nothing_internal() {
        let f = facts();
        for template in Template::ALL {
            for status in IncidentStatus::ALL {
                for lang in Language::ALL {
                    let t = text(template, status, &f, None, next(), lang);
                    let s = subject(template, status, &f, lang);
                    for internal in [
                        "ana",
                        "bastion-1",
                        "Promote the DR replica",
                        "db-primary",
                        "web-apps",
                        "file-storage",
                        "nombre interno",
                        "us-east-1",
                        "10.0.3.7",
                        "2h",
                        "CRITICAL",
                        "replica",
                        "backup",
                    ] {
                        assert!(
                            !t.contains(internal) && !s.contains(internal),
                            "{internal:?} in the public part ({template:?}, {status:?}, {lang:?}): {s}\n{t}"
                        );
                    }
                }
            }
        }
        let t = text(
            Template::Initial,
            IncidentStatus::Investigating,
            &f,
            None,
            next(),
            Language::En,
        );
        assert!(
            t.contains("Affected: Database, API Gateway and other services."),
            "{t}"
        );
        assert!(t.contains("Estimated resolution: not yet known."), "{t}");
        assert!(t.contains("Next update by 03:30 UTC."), "{t}");
        assert!(!t.contains("Cache"), "UP is not affected: {t}");
    }

    #[test]
    fn the_eta_is_what_the_operator_typed_and_spanish_speaks_spanish() {
        let f = facts();
        let t = text(
            Template::Update,
            IncidentStatus::Identified,
            &f,
            Some("about 04:30 UTC"),
            next(),
            Language::En,
        );
        assert!(t.contains("Estimated resolution: about 04:30 UTC."), "{t}");
        let t = text(
            Template::Update,
            IncidentStatus::Identified,
            &f,
            None,
            next(),
            Language::Es,
        );
        assert!(t.starts_with("Identificamos la causa"), "{t}");
        assert!(t.contains("Resolución estimada: aún no se conoce."), "{t}");
        assert!(
            t.contains("Afectados: Database, API Gateway y otros servicios."),
            "{t}"
        );
        assert_eq!(
            subject(
                Template::Restoration,
                IncidentStatus::Monitoring,
                &f,
                Language::Es
            ),
            "DTEM: servicio restablecido, en observación"
        );
    }
}
