//! The sinks a console delivers with: its config's Slack and status page (a drill's
//! simulated ones are `drill::sink`'s).

use std::sync::Arc;

use super::sink::Sink;
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
