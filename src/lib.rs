//! warroom: a terminal console for running a disaster-recovery incident.
//!
//! Data flow (see DESIGN.md): events in, pure [`app::update`], effects out, pure draw.

pub mod app;
pub mod clock;
pub mod cloud;
pub mod commands;
pub mod comms;
pub mod config;
pub mod drill;
pub mod files;
pub mod journal;
#[cfg(test)]
mod layers;
pub mod paths;
pub mod probe;
pub mod process;
pub mod report;
pub mod runbook;
pub mod runtime;
pub mod status;
pub mod text;
pub mod theme;
pub mod ui;
