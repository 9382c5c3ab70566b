//! Drills: the console on a simulated estate.

pub mod scenario;

pub use scenario::Scenario;
