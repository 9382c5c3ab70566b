//! warroom: a terminal console for running a disaster-recovery incident.
//!
//! Data flow (see DESIGN.md): events in, pure update, effects out, pure draw.

pub mod config;
