//! The DR level the situation calls for, from the DR plan's levels: one service down → L1,
//! one zone → L2, one region → L3, more than one region → L4. Read from the components that
//! are DOWN and where they live (`region`, `zone`). UNKNOWN is not counted: a component that
//! cannot be observed (credentials, a control-plane API) is no evidence of an outage. It is a
//! suggestion: it preselects the declare dialog, never commits anything.

use super::entry::DrLevel;
use super::signals::HealthState;
use super::update::State;

/// The level suggested and why ("region us-east-1: 5 down").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub level: DrLevel,
    pub why: String,
}

/// The suggested level, or `None` while nothing is DOWN.
pub fn level(state: &State) -> Option<Suggestion> {
    let down: Vec<_> = state
        .components()
        .filter(|(ix, _, _)| {
            state
                .health(*ix)
                .is_some_and(|h| h.state == HealthState::Down)
        })
        .map(|(_, spec, _)| spec)
        .collect();
    let level = |n: u8| DrLevel::new(n).unwrap_or(DrLevel::ALL[0]);
    match down.as_slice() {
        [] => None,
        [one] => Some(Suggestion {
            level: level(1),
            why: format!("{} down", one.id),
        }),
        many => {
            let mut regions: Vec<&str> = many.iter().filter_map(|c| c.region.as_deref()).collect();
            regions.sort_unstable();
            regions.dedup();
            let placed = many.iter().all(|c| c.region.is_some());
            let zones: Vec<Option<&str>> = many.iter().map(|c| c.zone.as_deref()).collect();
            let one_zone = zones.iter().all(|z| z.is_some() && *z == zones[0]);
            let n = many.len();
            Some(match regions.as_slice() {
                _ if !placed => Suggestion {
                    // Where they live is not known: more than one service, at least L2.
                    level: level(2),
                    why: format!("{n} down (no region given for all of them)"),
                },
                [region] if one_zone => Suggestion {
                    level: level(2),
                    why: format!("zone {} ({region}): {n} down", zones[0].unwrap_or_default()),
                },
                [region] => Suggestion {
                    level: level(3),
                    why: format!("region {region}: {n} down"),
                },
                more => Suggestion {
                    level: level(4),
                    why: format!("{} regions: {n} down", more.len()),
                },
            })
        }
    }
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
}
