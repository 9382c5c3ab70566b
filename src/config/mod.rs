//! Configuration: schema, loading (XDG paths, file permissions) and validation with file:line:col.

pub mod schema;

pub use schema::*;
pub mod diagnostic;
pub mod load;
mod read;
pub mod secret;
mod secrets;
pub mod sketch;
pub(crate) mod tree;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use load::{CONFIG_ENV, load, locate, unsafe_permissions};
pub use read::CONSOLE_KEYS;
