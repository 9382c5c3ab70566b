//! The model: events in, [`update`] decides, effects out.
//!
//! Pure: no I/O, no clock reads (time arrives in [`Event`]s), no locks. Everything the screen
//! says — component state, lag, backup age, RPO exposure, RTO budget, overall severity — is
//! decided here and unit-tested without a terminal.

pub mod budget;
pub mod comms;
pub mod compose;
pub mod deliver;
pub mod dialog;
pub mod earlier;
pub mod entry;
pub mod episode;
pub mod estate;
pub mod fmt;
pub mod incident;
pub mod keymap;
pub mod log_viewer;
pub mod message;
pub mod modal;
pub mod observation;
pub mod observe;
pub mod outcome;
pub mod precheck;
pub mod public;
pub mod severity;
pub mod signals;
pub mod stake;
pub mod steps;
pub mod suggest;
pub mod template;
pub mod track;
pub mod update;
pub mod view;

pub use budget::{Exposure, Outage, Rpo, RpoLevel};
pub use dialog::{DeclareField, Dialog};
pub use entry::{
    DrLevel, Entry, EntryKind, IncidentStatus, KindGroup, Recorded, StepResult, WATCH_SEQ, What,
};
pub use estate::{
    BackupSpec, ComponentIx, ComponentSpec, Estate, HealthSpec, LagSpec, ProbedNames, Timing,
};
pub use incident::{Incident, JournalEvent, JournalState, MemoryJournal, Source};
pub use observation::{Event, Observation, ObserveError, Outcome, Signal, StepEvent};
pub use severity::{Assessment, Severity};
pub use signals::{
    BackupLevel, BackupState, BackupTrack, Health, HealthState, LagLevel, LagState, LagTrack,
    Measured, NotRunning, Replica,
};
pub use track::{Tracker, UnknownReason};
pub use update::{ComponentState, Effect, Setup, ShownHealth, State, Stop, update};
pub use view::{Key, KeyOutcome, Panel, View};

#[cfg(test)]
pub(crate) mod testkit;

#[cfg(test)]
mod proptests;
