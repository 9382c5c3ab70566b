//! Drills: the console on a simulated estate.

pub mod scenario;
pub mod world;

pub use scenario::Scenario;
pub use world::{Act, Deployment, SimWorld};
