//! An `http` step in the simulated world: it fails as the real call would when the host it
//! calls is down or unobservable.

use super::{Built, host_of};
use crate::app::Outcome;
use crate::config::HealthKind;
use crate::drill::world::SimWorld;

impl SimWorld {
    pub(super) fn http(&mut self, method: &str, url: &str) -> Built {
        let host = host_of(url);
        let watched = self.find(
            |c| matches!(&c.health_kind, HealthKind::Http { url: u, .. } if host_of(u) == host),
        );
        for ix in watched {
            match self.components[ix.index()].health_outcome() {
                Outcome::Down { detail } => {
                    return Err(format!("{method} {url}: {detail}"));
                }
                Outcome::CannotObserve { reason } => {
                    return Err(format!("{method} {url}: {reason}"));
                }
                _ => {}
            }
        }
        Ok((
            vec![format!("{method} {url}: HTTP 200")],
            format!("{method} {url}: HTTP 200"),
            None,
        ))
    }
}
