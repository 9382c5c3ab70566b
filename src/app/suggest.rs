//! The DR level the situation calls for, from the DR plan's levels: one service down → L1,
//! one zone → L2, one region → L3, more than one region → L4. Read from the components that
//! are DOWN and where they live (`region`, `zone`), and — marked unverified — the UNKNOWN
//! ones whose own endpoint does not answer (an `http`, `tcp` or `postgres` health probe that
//! timed out or found nothing to connect to). Never UNKNOWN for credentials, permissions or
//! a control-plane API: a component that cannot be observed is no evidence of an outage. It
//! is a suggestion: it preselects the declare dialog (never L4 on unverified evidence) and
//! opens the runbook panel on the runbook of that level, never commits anything.

use super::entry::DrLevel;
use super::estate::ComponentSpec;
use super::observation::ObserveError;
use super::signals::{Health, HealthState};
use super::track::UnknownReason;
use super::update::State;

/// The level suggested and why ("region us-east-1: 5 down").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub level: DrLevel,
    pub why: String,
    /// How many UNKNOWN components the level rests on (0: only DOWN ones).
    pub unverified: usize,
    /// The first runbook that serves this level (`level = N`), by index.
    pub runbook: Option<usize>,
}

impl Suggestion {
    /// The level the declare dialog opens on: the suggestion, but never L4 on unverified
    /// evidence (declaring everything lost is the operator's call).
    pub fn preselect(&self) -> DrLevel {
        if self.unverified > 0 && self.level.number() == 4 {
            DrLevel::new(3).unwrap_or(self.level)
        } else {
            self.level
        }
    }
}

/// UNKNOWN because the component's own endpoint did not answer.
fn unreachable_itself(spec: &ComponentSpec, health: &Health) -> bool {
    spec.health.own_endpoint
        && matches!(
            health,
            Health::Unknown(
                UnknownReason::NoAnswerWithin(_)
                    | UnknownReason::CannotObserve(
                        ObserveError::Timeout | ObserveError::Unreachable(_)
                    )
            )
        )
}

/// The level for these components failing, and why.
fn classify(failing: &[&ComponentSpec], what: &str) -> Option<(DrLevel, String)> {
    let level = |n: u8| DrLevel::new(n).unwrap_or(DrLevel::ALL[0]);
    match failing {
        [] => None,
        [one] => Some((level(1), format!("{} {what}", one.id))),
        many => {
            let mut regions: Vec<&str> = many.iter().filter_map(|c| c.region.as_deref()).collect();
            regions.sort_unstable();
            regions.dedup();
            let placed = many.iter().all(|c| c.region.is_some());
            let zones: Vec<Option<&str>> = many.iter().map(|c| c.zone.as_deref()).collect();
            let one_zone = zones.iter().all(|z| z.is_some() && *z == zones[0]);
            let n = many.len();
            Some(match regions.as_slice() {
                // Where they live is not known: more than one service, at least L2.
                _ if !placed => (
                    level(2),
                    format!("{n} {what} (no region given for all of them)"),
                ),
                [region] if one_zone => (
                    level(2),
                    format!(
                        "zone {} ({region}): {n} {what}",
                        zones[0].unwrap_or_default()
                    ),
                ),
                [region] => (level(3), format!("region {region}: {n} {what}")),
                more => (level(4), format!("{} regions: {n} {what}", more.len())),
            })
        }
    }
}

/// Whether a runbook's steps act on or check component `id`.
fn names(runbook: &crate::config::Runbook, id: &str) -> bool {
    runbook.steps.iter().any(|s| {
        s.component.as_deref() == Some(id)
            || s.verify.as_ref().is_some_and(|v| v.component == id)
            || s.precheck.iter().any(|p| p.component() == id)
    })
}

/// The suggested level, or `None` while nothing is DOWN or unreachable.
pub fn level(state: &State) -> Option<Suggestion> {
    let mut down: Vec<&ComponentSpec> = Vec::new();
    let mut unverified: Vec<&ComponentSpec> = Vec::new();
    for (_, spec, c) in state.components() {
        let shown = c.health().shown();
        if shown.state() == HealthState::Down {
            down.push(spec);
        } else if unreachable_itself(spec, shown) {
            unverified.push(spec);
        }
    }
    let sure = classify(&down, "down");
    let mut both = down.clone();
    both.extend(&unverified);
    let with_unknown = classify(&both, "down or unreachable");
    let ((level, why), rests_on) = match (sure, with_unknown) {
        (Some(s), Some(w)) if w.0 > s.0 => (w, unverified.len()),
        (Some(s), _) => (s, 0),
        (None, Some(w)) => (w, unverified.len()),
        (None, None) => return None,
    };
    // For one service, the runbook of its level that acts on it; else the first of the level.
    let one = match (down.as_slice(), unverified.as_slice()) {
        ([one], []) | ([], [one]) => Some(one.id.as_str()),
        _ => None,
    };
    let of_level = |r: &&crate::config::Runbook| r.level == Some(level.number());
    let runbook = one
        .and_then(|id| {
            state
                .runbooks
                .iter()
                .position(|r| of_level(&r) && names(r, id))
        })
        .or_else(|| state.runbooks.iter().position(|r| of_level(&r)));
    Some(Suggestion {
        level,
        why,
        unverified: rests_on,
        runbook,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::testkit::*;
    use crate::app::{Estate, State};
    use crate::config::Tier::Critical;

    fn state(specs: Vec<crate::app::ComponentSpec>, down: &[u32], unknown: &[u32]) -> State {
        let mut rig = Rig::new(specs);
        for ix in down {
            rig.down(*ix, 1);
        }
        for ix in unknown {
            rig.send(
                *ix,
                crate::app::Signal::Health,
                1,
                cannot(crate::app::ObserveError::Timeout),
            );
        }
        let _ = Estate::default();
        rig.state
    }

    fn at(id: &str, region: &str, zone: Option<&str>) -> crate::app::ComponentSpec {
        comp(id, Critical, 1).place(region, zone)
    }

    #[test]
    fn the_level_follows_how_far_the_failures_spread() {
        let estate = || {
            vec![
                at("api", "us-east-1", Some("us-east-1a")),
                at("db", "us-east-1", Some("us-east-1a")),
                at("mq", "us-east-1", Some("us-east-1b")),
                at("dr", "us-west-2", Some("us-west-2a")),
            ]
        };
        let lvl = |s: &State| level(s).map(|g| u8::from(g.level));
        assert_eq!(lvl(&state(estate(), &[], &[])), None);
        assert_eq!(lvl(&state(estate(), &[0], &[])), Some(1));
        let zone = level(&state(estate(), &[0, 1], &[])).expect("L2");
        assert_eq!(u8::from(zone.level), 2);
        assert_eq!(zone.why, "zone us-east-1a (us-east-1): 2 down");
        assert_eq!(lvl(&state(estate(), &[0, 1, 2], &[])), Some(3));
        assert_eq!(lvl(&state(estate(), &[0, 3], &[])), Some(4));
        // UNKNOWN is no evidence: a timeout on the DR side does not make it L4.
        assert_eq!(lvl(&state(estate(), &[0, 2], &[3])), Some(3));
        // The declare dialog opens on the suggestion: preselected, nothing committed.
        let mut rig = Rig::new(estate());
        for ix in [0, 1, 2] {
            rig.down(ix, 1);
        }
        let fx = rig.key(crate::app::Key::Char('d'));
        assert!(fx.is_empty(), "opening commits nothing");
        assert!(matches!(
            rig.state.dialog,
            Some(crate::app::Dialog::Declare { level, .. }) if u8::from(level) == 3
        ));
        // Without regions: more than one service is at least L2, never L4.
        let unplaced = vec![comp("a", Critical, 1), comp("b", Critical, 1)];
        assert_eq!(lvl(&state(unplaced, &[0, 1], &[])), Some(2));
    }

    fn runbook(id: &str, level: Option<u8>) -> crate::config::Runbook {
        crate::config::Runbook {
            id: id.into(),
            title: id.into(),
            file: "r.toml".into(),
            level,
            steps: Vec::new(),
        }
    }

    fn unreachable(rig: &mut Rig, ix: u32, reason: crate::app::ObserveError) {
        rig.send(ix, crate::app::Signal::Health, 1, cannot(reason));
    }

    #[test]
    fn an_unreachable_endpoint_is_unverified_evidence_credentials_are_none() {
        use crate::app::ObserveError::{Credentials, Timeout, Unreachable};
        let estate = || {
            vec![
                at("api", "us-east-1", None).own_endpoint(),
                at("db", "us-east-1", None).own_endpoint(),
                at("dr-api", "us-west-2", None).own_endpoint(),
                // Read through a control-plane API: its timeout says nothing of it.
                at("dr-db", "us-west-2", None),
            ]
        };
        // us-east-1 down, the DR API's own endpoint times out: L4, resting on it.
        let mut rig = Rig::new(estate());
        rig.down(0, 1);
        rig.down(1, 1);
        unreachable(&mut rig, 2, Timeout);
        let g = level(&rig.state).expect("a suggestion");
        assert_eq!(
            (u8::from(g.level), g.unverified, g.why.as_str()),
            (4, 1, "2 regions: 3 down or unreachable")
        );
        // Never L4 preselected on unverified evidence.
        assert_eq!(u8::from(g.preselect()), 3);
        rig.key(crate::app::Key::Char('d'));
        assert!(matches!(
            rig.state.dialog,
            Some(crate::app::Dialog::Declare { level, .. }) if u8::from(level) == 3
        ));
        // Refused or unroutable counts the same way.
        let mut rig = Rig::new(estate());
        rig.down(0, 1);
        rig.down(1, 1);
        unreachable(&mut rig, 2, Unreachable("no route to host".into()));
        assert_eq!(level(&rig.state).map(|g| g.unverified), Some(1));
        // Credentials, or a control-plane timeout: no raise, nothing unverified.
        for (ix, reason) in [(2, Credentials("expired token".into())), (3, Timeout)] {
            let mut rig = Rig::new(estate());
            rig.down(0, 1);
            rig.down(1, 1);
            unreachable(&mut rig, ix, reason);
            let g = level(&rig.state).expect("a suggestion");
            assert_eq!((u8::from(g.level), g.unverified), (3, 0), "{g:?}");
        }
        // Nothing DOWN, one endpoint unreachable: L1, unverified.
        let mut rig = Rig::new(estate());
        unreachable(&mut rig, 0, Timeout);
        let g = level(&rig.state).expect("a suggestion");
        assert_eq!((u8::from(g.level), g.unverified), (1, 1));
        // An unknown that adds nothing to the level is not what it rests on.
        let mut rig = Rig::new(estate());
        rig.down(0, 1);
        rig.down(2, 1);
        unreachable(&mut rig, 1, Timeout);
        let g = level(&rig.state).expect("a suggestion");
        assert_eq!((u8::from(g.level), g.unverified), (4, 0));
        assert_eq!(u8::from(g.preselect()), 4);
    }

    #[test]
    fn the_runbook_panel_follows_the_suggestion_until_a_runbook_is_chosen() {
        use crate::app::{Key, Panel};
        let mut rig = Rig::new(vec![
            at("api", "us-east-1", Some("us-east-1a")),
            at("db", "us-east-1", Some("us-east-1b")),
            at("dr", "us-west-2", None),
        ]);
        rig.state.runbooks = vec![
            runbook("restore", None),
            runbook("l1", Some(1)),
            runbook("l3", Some(3)),
            runbook("l4", Some(4)),
        ];
        rig.all_up(0);
        assert_eq!(rig.state.view.runbook, 0, "nothing to suggest: left alone");
        rig.down(0, 1);
        assert_eq!(rig.state.view.runbook, 1, "one service: the L1 runbook");
        let g = level(&rig.state).expect("suggested");
        assert_eq!(g.runbook, Some(1));
        rig.down(1, 2);
        assert_eq!(rig.state.view.runbook, 2, "a region: the L3 runbook");
        // The operator chooses another runbook: from now on the suggestion moves nothing.
        rig.state.view.focus = Panel::Runbooks;
        rig.key(Key::Up);
        assert_eq!(rig.state.view.runbook, 1);
        assert!(rig.state.runbook_picked());
        rig.down(2, 3);
        assert_eq!(level(&rig.state).map(|g| u8::from(g.level)), Some(4));
        assert_eq!(
            rig.state.view.runbook, 1,
            "a later suggestion never moves a choice"
        );
    }
}
