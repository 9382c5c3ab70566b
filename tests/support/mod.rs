pub mod http;
pub mod link;
pub mod local;
pub mod pty;
pub mod slack;
pub mod statuspage;
