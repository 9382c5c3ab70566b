pub mod local;
pub mod pty;
