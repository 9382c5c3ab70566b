//! Comms: updates to Slack (the team) and the status page (customers), never lost, never
//! leaked, never posted twice.
//!
//! - [`message`]: what an update says and exactly what each channel receives (pure);
//! - [`template`]: seed 000's communication templates, filled in from the live state (pure).
//! - [`outbox`]: the durable queue beside each incident journal (files: staged → pending → sent).
//! - [`record`]: journal and outbox together, for the journal keeper (the order that makes a crash safe).

pub mod build;
pub use crate::app::message;
pub mod outbox;
pub mod record;

pub mod sink;
pub mod slack;
pub mod statuspage;
pub use crate::app::template;
