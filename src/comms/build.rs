//! The sinks a console delivers with: its config's Slack and status page, or, in a drill,
//! only simulated ones (a drill never touches Slack or the status page).

use std::sync::Arc;

use super::message::Channel;
use super::sink::{SimSink, Sink};
use super::slack::SlackSink;
use super::statuspage::StatusPageSink;
use crate::config::Config;

/// The real sinks of the config; a status page whose client cannot be built is said, not
/// silently dropped.
pub fn real_sinks(cfg: &Config) -> Result<Vec<Arc<dyn Sink>>, String> {
    let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
    if let Some(slack) = &cfg.slack {
        sinks.push(Arc::new(SlackSink::new(slack)));
    }
    if let Some(page) = &cfg.statuspage {
        sinks.push(Arc::new(StatusPageSink::new(page)?));
    }
    Ok(sinks)
}

/// A drill's sinks: one simulated sink per channel the config has.
pub fn drill_sinks(cfg: &Config) -> Vec<Arc<dyn Sink>> {
    let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
    if cfg.slack.is_some() {
        sinks.push(Arc::new(SimSink::new(Channel::Slack)));
    }
    if cfg.statuspage.is_some() {
        sinks.push(Arc::new(SimSink::new(Channel::StatusPage)));
    }
    sinks
}
