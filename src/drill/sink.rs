//! A drill's sinks: they take every delivery at once and keep it, touching nothing real (a
//! drill never reaches Slack or the status page).

use std::sync::{Arc, Mutex};

use crate::app::deliver::{Context, Delivered, OutboxItem, Sink, SinkFuture};
use crate::app::message::Channel;
use crate::config::Config;

/// A drill's sink: takes every delivery at once and keeps it, touching nothing real.
#[derive(Debug, Default)]
pub struct SimSink {
    channel: Option<Channel>,
    taken: Mutex<Vec<OutboxItem>>,
}

impl SimSink {
    pub fn new(channel: Channel) -> SimSink {
        SimSink {
            channel: Some(channel),
            taken: Mutex::new(Vec::new()),
        }
    }

    /// What it took, in order.
    pub fn taken(&self) -> Vec<OutboxItem> {
        self.taken.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

impl Sink for SimSink {
    fn channel(&self) -> Channel {
        self.channel.unwrap_or(Channel::Slack)
    }

    fn simulated(&self) -> bool {
        true
    }

    fn deliver<'a>(&'a self, d: &'a OutboxItem, _ctx: &'a Context) -> SinkFuture<'a, Delivered> {
        Box::pin(async move {
            let n = match self.taken.lock() {
                Ok(mut t) => {
                    t.push(d.clone());
                    t.len()
                }
                Err(_) => 0,
            };
            Ok(Delivered {
                remote: Some(format!("simulated-{}-{n}", d.channel.as_str())),
            })
        })
    }

    fn find<'a>(&'a self, d: &'a OutboxItem, _ctx: &'a Context) -> SinkFuture<'a, Option<String>> {
        Box::pin(async move {
            let found = self.taken.lock().ok().and_then(|t| {
                t.iter()
                    .position(|x| x.id == d.id && x.channel == d.channel)
            });
            Ok(found.map(|i| format!("simulated-{}-{}", d.channel.as_str(), i + 1)))
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sim_sink_takes_everything_and_finds_what_it_took() {
        let sink = SimSink::new(Channel::Slack);
        let d = crate::app::deliver::tests::delivery("u1", Channel::Slack, 0);
        let ctx = Context::default();
        assert_eq!(sink.find(&d, &ctx).await, Ok(None));
        let got = sink.deliver(&d, &ctx).await.expect("taken");
        assert_eq!(got.remote.as_deref(), Some("simulated-slack-1"));
        assert_eq!(
            sink.find(&d, &ctx).await,
            Ok(Some("simulated-slack-1".into()))
        );
        assert_eq!(sink.taken().len(), 1);
        assert!(sink.simulated());
    }
}
