//! Probes: the real kinds that ask the world how a component is doing.
//!
//! One [`Probe`] per configured probe (a component's `health`, `lag` or `backup`). The real
//! kinds (http, tcp, command, kubernetes, rds, cloudwatch, postgres, files) come one file
//! each; a drill uses [`crate::drill::SimProbe`]. The [`Probe`] trait and the probe slots
//! of a config are the model's ([`crate::app::observe`]); the runtime's scheduler runs each
//! probe as its own tokio task on its own interval.

pub mod build;
pub use crate::clock;
pub mod cloudwatch;
pub mod command;
pub mod files;
pub mod http;
pub mod kubernetes;
pub mod pg_tls;
pub mod postgres;
pub mod rds;
pub mod round;
pub mod snapshots;
pub mod tcp;

pub use crate::app::observe::{
    ObserveAllFuture, ObserveFuture, Probe, ProbeRole, Scheduled, Slot, replica_name, slots,
};
pub use clock::{Clock, SimClock, SystemClock};
