//! Kubernetes actions in the simulated world: a rollout takes its time, then the deployment
//! is available, as the real executor (`runbook/kubernetes.rs`) reads it.

use std::time::Duration;

use jiff::Timestamp;

use super::{Built, health, up};
use crate::drill::scenario::{Change, SimHealth};
use crate::drill::world::{Deployment, SimWorld};

impl SimWorld {
    pub(super) fn rollout_restart(
        &mut self,
        d: Deployment,
        done: Timestamp,
        ready: Timestamp,
    ) -> Built {
        for ix in self.find(|c| c.deployment().is_some_and(|cd| cd.is(&d))) {
            let n = self.components[ix.index()].replicas;
            self.schedule(
                done,
                ix,
                health(
                    SimHealth::Degraded,
                    &format!("rolling restart: 0/{n} updated"),
                ),
            );
            self.schedule(ready, ix, up());
        }
        let name = d.name.clone();
        self.rollouts.insert(d, ready);
        Ok((
            vec![format!("deployment.apps/{name} restarted")],
            format!("{name} is restarting"),
            None,
        ))
    }

    pub(super) fn scale(
        &mut self,
        d: Deployment,
        n: u32,
        done: Timestamp,
        ready: Timestamp,
    ) -> Built {
        for ix in self.find(|c| c.deployment().is_some_and(|cd| cd.is(&d))) {
            let c = &self.components[ix.index()];
            let have = if c.health.state == SimHealth::Up {
                c.replicas
            } else {
                0
            };
            let scaling = Change {
                replicas: Some(n),
                ..if n == 0 {
                    health(SimHealth::Down, "0/0 available (scaled to 0)")
                } else if have >= n {
                    up()
                } else {
                    health(SimHealth::Degraded, &format!("{have}/{n} available"))
                }
            };
            self.schedule(done, ix, scaling);
            if n > 0 {
                self.schedule(ready, ix, up());
            }
        }
        let name = d.name.clone();
        self.rollouts.insert(d, ready);
        Ok((
            vec![format!("deployment.apps/{name} scaled")],
            format!("{name} scaled to {n}"),
            None,
        ))
    }

    /// Nothing to do but wait: the runtime reads the deployment until it is available.
    pub(super) fn wait_available(d: Deployment, timeout: Duration) -> Built {
        Ok((
            Vec::new(),
            format!("{} is available", d.name),
            Some((d, timeout)),
        ))
    }
}
