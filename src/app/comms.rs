//! Updates to Slack and the status page as the journal tells them: queued, sent, failed with
//! the reason. Every console folds the same lines, so every console's comms panel agrees;
//! what is actually delivered is the outbox worker's business (`crate::comms`).

use jiff::Timestamp;

use super::entry::{EntryKind, IncidentStatus};
use super::message::{Channel, Template};

/// Where one update to one channel stands.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryState {
    /// In the outbox, not yet delivered.
    Queued,
    /// An attempt failed; another will be made.
    Retrying {
        reason: String,
        attempts: u32,
        /// When the next attempt is due, if the worker said.
        next: Option<Timestamp>,
    },
    Sent {
        at: Timestamp,
        remote: Option<String>,
        /// Found already posted after a crash: recorded, not sent again.
        found: bool,
    },
    /// Given up: it will not be sent unless the operator sends it again.
    Failed { at: Timestamp, reason: String },
}

/// One update to one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: String,
    pub channel: Channel,
    pub template: Template,
    pub summary: String,
    pub status: Option<IncidentStatus>,
    pub queued_at: Timestamp,
    pub by: String,
    /// A drill's: it went to the drill's simulated sink.
    pub simulated: bool,
    pub state: DeliveryState,
}

/// Every update of the followed journal, oldest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Comms {
    deliveries: Vec<Delivery>,
}

/// Whether a journal kind is about comms (read for every line of a long journal).
pub fn is_comms_kind(kind: &str) -> bool {
    kind.starts_with("comms_")
}

impl Comms {
    pub fn clear(&mut self) {
        self.deliveries.clear();
    }

    pub fn all(&self) -> &[Delivery] {
        &self.deliveries
    }

    pub fn get(&self, id: &str, channel: Channel) -> Option<&Delivery> {
        self.deliveries
            .iter()
            .find(|d| d.id == id && d.channel == channel)
    }

    fn get_mut(&mut self, id: &str, channel: Channel) -> Option<&mut Delivery> {
        self.deliveries
            .iter_mut()
            .find(|d| d.id == id && d.channel == channel)
    }

    /// Applies one journal line.
    pub fn fold(&mut self, at: Timestamp, actor: &str, kind: &EntryKind) {
        match kind {
            EntryKind::CommsQueued {
                id,
                channel,
                template,
                summary,
                status,
                simulated,
                ..
            } => {
                if self.get(id, *channel).is_some() {
                    return;
                }
                self.deliveries.push(Delivery {
                    id: id.clone(),
                    channel: *channel,
                    template: *template,
                    summary: summary.clone(),
                    status: *status,
                    queued_at: at,
                    by: actor.to_string(),
                    simulated: *simulated,
                    state: DeliveryState::Queued,
                });
            }
            EntryKind::CommsSent {
                id,
                channel,
                remote,
                simulated,
                found,
            } => {
                if let Some(d) = self.get_mut(id, *channel) {
                    d.simulated |= *simulated;
                    d.state = DeliveryState::Sent {
                        at,
                        remote: remote.clone(),
                        found: *found,
                    };
                }
            }
            EntryKind::CommsFailed {
                id,
                channel,
                reason,
                gave_up,
                retry_in,
            } => {
                if let Some(d) = self.get_mut(id, *channel) {
                    // A late failure line never undoes a delivery.
                    if matches!(d.state, DeliveryState::Sent { .. }) {
                        return;
                    }
                    let attempts = match &d.state {
                        DeliveryState::Retrying { attempts, .. } => attempts + 1,
                        _ => 1,
                    };
                    d.state = if *gave_up {
                        DeliveryState::Failed {
                            at,
                            reason: reason.clone(),
                        }
                    } else {
                        DeliveryState::Retrying {
                            reason: reason.clone(),
                            attempts,
                            next: retry_in.and_then(|r| at.checked_add(r).ok()),
                        }
                    };
                }
            }
            _ => {}
        }
    }

    /// Deliveries not yet sent and not given up.
    pub fn waiting(&self) -> usize {
        self.deliveries
            .iter()
            .filter(|d| {
                matches!(
                    d.state,
                    DeliveryState::Queued | DeliveryState::Retrying { .. }
                )
            })
            .count()
    }

    /// What the header tells the operator about a channel that is not getting through, the
    /// first such channel: an update given up after the channel's last one that arrived, or the
    /// oldest waiting one if it is failing (the worker delivers in order: everything after it
    /// waits too). With how many updates wait behind it.
    pub fn trouble(&self) -> Option<(&Delivery, usize)> {
        let mut channels: Vec<Channel> = Vec::new();
        for d in &self.deliveries {
            if !channels.contains(&d.channel) {
                channels.push(d.channel);
            }
        }
        let waiting = |d: &&Delivery| {
            matches!(
                d.state,
                DeliveryState::Queued | DeliveryState::Retrying { .. }
            )
        };
        for channel in channels {
            let ds: Vec<&Delivery> = self
                .deliveries
                .iter()
                .filter(|d| d.channel == channel)
                .collect();
            let after_sent = ds
                .iter()
                .rposition(|d| matches!(d.state, DeliveryState::Sent { .. }))
                .map_or(0, |i| i + 1);
            let behind = |from: usize| ds[from..].iter().filter(|d| waiting(d)).count();
            if let Some(i) = ds[after_sent..]
                .iter()
                .position(|d| matches!(d.state, DeliveryState::Failed { .. }))
            {
                let i = after_sent + i;
                return Some((ds[i], behind(i + 1)));
            }
            if let Some(i) = ds.iter().position(waiting)
                && matches!(ds[i].state, DeliveryState::Retrying { .. })
            {
                return Some((ds[i], behind(i + 1)));
            }
        }
        None
    }

    /// The status the page shows: that of the newest update to `channel` that arrived.
    pub fn page_says(&self, channel: Channel) -> Option<IncidentStatus> {
        self.deliveries
            .iter()
            .filter(|d| d.channel == channel)
            .filter(|d| matches!(d.state, DeliveryState::Sent { .. }))
            .max_by_key(|d| match d.state {
                DeliveryState::Sent { at, .. } => at,
                _ => d.queued_at,
            })
            .and_then(|d| d.status)
    }

    /// What stands in for an update given up: the next update to its channel ("superseded
    /// by the update of 03:40Z"), or the one still to come.
    pub fn superseded(&self, given_up: &Delivery) -> String {
        let at = self
            .deliveries
            .iter()
            .position(|d| d.id == given_up.id && d.channel == given_up.channel);
        let later = at.and_then(|i| {
            self.deliveries[i + 1..]
                .iter()
                .find(|d| d.channel == given_up.channel)
        });
        match later {
            Some(d) => format!(
                "superseded by the {} update of {}",
                d.template,
                d.queued_at.strftime("%H:%MZ")
            ),
            None => "the next update supersedes it".into(),
        }
    }

    /// When the newest update to this channel that arrived was sent.
    pub fn last_sent(&self, channel: Channel) -> Option<Timestamp> {
        self.deliveries
            .iter()
            .filter(|d| d.channel == channel)
            .filter_map(|d| match d.state {
                DeliveryState::Sent { at, .. } => Some(at),
                _ => None,
            })
            .max()
    }

    /// Updates to this channel queued and not yet delivered (nor given up).
    pub fn waiting_to(&self, channel: Channel) -> usize {
        self.deliveries
            .iter()
            .filter(|d| d.channel == channel)
            .filter(|d| {
                matches!(
                    d.state,
                    DeliveryState::Queued | DeliveryState::Retrying { .. }
                )
            })
            .count()
    }

    /// Whether an update to this channel has arrived or is on its way: the next one then
    /// replies in the Slack thread / updates the page's incident (one given up does not count:
    /// the next one is the first to arrive).
    pub fn started(&self, channel: Channel) -> bool {
        self.deliveries
            .iter()
            .any(|d| d.channel == channel && !matches!(d.state, DeliveryState::Failed { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_waiting_update_that_fails_is_the_news_with_what_waits_behind_it() {
        let mut c = Comms::default();
        for id in ["u1", "u2", "u3"] {
            c.fold(
                t(0),
                "ana@b",
                &queued(id, crate::app::message::Channel::StatusPage),
            );
        }
        assert!(c.trouble().is_none(), "queued is not trouble");
        c.fold(
            t(5),
            "ana@b",
            &EntryKind::CommsFailed {
                id: "u1".into(),
                channel: crate::app::message::Channel::StatusPage,
                reason: "HTTP 503".into(),
                gave_up: false,
                retry_in: None,
            },
        );
        let (d, behind) = c.trouble().expect("trouble");
        assert_eq!((d.id.as_str(), behind), ("u1", 2));
        assert_eq!(c.waiting_to(crate::app::message::Channel::StatusPage), 3);
        // u1 given up: the news until a later one arrives.
        c.fold(
            t(6),
            "ana@b",
            &EntryKind::CommsFailed {
                id: "u1".into(),
                channel: crate::app::message::Channel::StatusPage,
                reason: "HTTP 401".into(),
                gave_up: true,
                retry_in: None,
            },
        );
        assert_eq!(
            c.trouble().map(|(d, b)| (d.id.as_str(), b)),
            Some(("u1", 2))
        );
        c.fold(
            t(7),
            "ana@b",
            &EntryKind::CommsSent {
                id: "u2".into(),
                channel: crate::app::message::Channel::StatusPage,
                remote: None,
                simulated: false,
                found: false,
            },
        );
        assert!(c.trouble().is_none(), "{:?}", c.trouble());
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("t")
    }

    fn queued(id: &str, channel: Channel) -> EntryKind {
        EntryKind::CommsQueued {
            id: id.into(),
            channel,
            template: crate::app::message::Template::Initial,
            summary: "DB down".into(),
            status: Some(IncidentStatus::Investigating),
            text: Some("x".into()),
            simulated: false,
            body: None,
        }
    }

    #[test]
    fn a_given_up_update_names_what_supersedes_it_and_the_page_says_what_arrived_last() {
        let mut c = Comms::default();
        let sent = |id: &str| EntryKind::CommsSent {
            id: id.into(),
            channel: crate::app::message::Channel::StatusPage,
            remote: None,
            simulated: false,
            found: false,
        };
        let with_status = |id: &str, status: IncidentStatus, at: i64, c: &mut Comms| {
            let EntryKind::CommsQueued {
                id,
                channel,
                template,
                summary,
                text,
                simulated,
                body,
                ..
            } = queued(id, crate::app::message::Channel::StatusPage)
            else {
                unreachable!()
            };
            c.fold(
                t(at),
                "ana@b",
                &EntryKind::CommsQueued {
                    id,
                    channel,
                    template,
                    summary,
                    status: Some(status),
                    text,
                    simulated,
                    body,
                },
            );
        };
        assert_eq!(
            c.page_says(crate::app::message::Channel::StatusPage),
            None,
            "no incident on the page yet"
        );
        with_status("u1", IncidentStatus::Investigating, 0, &mut c);
        c.fold(t(1), "ana@b", &sent("u1"));
        assert_eq!(
            c.page_says(crate::app::message::Channel::StatusPage),
            Some(IncidentStatus::Investigating)
        );
        with_status("u2", IncidentStatus::Identified, 120, &mut c);
        c.fold(
            t(700),
            "ana@b",
            &EntryKind::CommsFailed {
                id: "u2".into(),
                channel: crate::app::message::Channel::StatusPage,
                reason: "not delivered 10m after it was queued".into(),
                gave_up: true,
                retry_in: None,
            },
        );
        assert_eq!(
            c.page_says(crate::app::message::Channel::StatusPage),
            Some(IncidentStatus::Investigating),
            "the page still says what arrived"
        );
        let u2 = c
            .get("u2", crate::app::message::Channel::StatusPage)
            .expect("u2")
            .clone();
        assert_eq!(c.superseded(&u2), "the next update supersedes it");
        with_status("u3", IncidentStatus::Monitoring, 720, &mut c);
        assert_eq!(
            c.superseded(&u2),
            "superseded by the initial update of 22:25Z"
        );
        c.fold(t(721), "ana@b", &sent("u3"));
        assert_eq!(
            c.page_says(crate::app::message::Channel::StatusPage),
            Some(IncidentStatus::Monitoring)
        );
    }

    #[test]
    fn queued_retrying_sent_and_failed_are_folded_per_channel() {
        let mut c = Comms::default();
        c.fold(
            t(0),
            "ana@b",
            &queued("u1", crate::app::message::Channel::Slack),
        );
        c.fold(
            t(0),
            "ana@b",
            &queued("u1", crate::app::message::Channel::StatusPage),
        );
        assert_eq!(c.waiting(), 2);
        c.fold(
            t(5),
            "ana@b",
            &EntryKind::CommsFailed {
                id: "u1".into(),
                channel: crate::app::message::Channel::Slack,
                reason: "HTTP 429".into(),
                gave_up: false,
                retry_in: Some(jiff::SignedDuration::from_secs(30)),
            },
        );
        assert!(matches!(
            &c.get("u1", crate::app::message::Channel::Slack).expect("d").state,
            DeliveryState::Retrying { attempts: 1, next: Some(n), .. } if *n == t(35)
        ));
        c.fold(
            t(36),
            "ana@b",
            &EntryKind::CommsSent {
                id: "u1".into(),
                channel: crate::app::message::Channel::Slack,
                remote: Some("1700.1".into()),
                simulated: false,
                found: false,
            },
        );
        c.fold(
            t(37),
            "ana@b",
            &EntryKind::CommsFailed {
                id: "u1".into(),
                channel: crate::app::message::Channel::Slack,
                reason: "late".into(),
                gave_up: true,
                retry_in: None,
            },
        );
        assert!(
            matches!(
                c.get("u1", crate::app::message::Channel::Slack)
                    .expect("d")
                    .state,
                DeliveryState::Sent { .. }
            ),
            "a late failure never undoes a delivery"
        );
        c.fold(
            t(40),
            "ana@b",
            &EntryKind::CommsFailed {
                id: "u1".into(),
                channel: crate::app::message::Channel::StatusPage,
                reason: "HTTP 401".into(),
                gave_up: true,
                retry_in: None,
            },
        );
        assert_eq!(c.waiting(), 0);
        assert_eq!(
            c.trouble().map(|(d, behind)| (d.channel.as_str(), behind)),
            Some(("statuspage", 0))
        );
        assert_eq!(
            c.last_sent(crate::app::message::Channel::Slack),
            Some(t(36))
        );
        assert!(
            c.started(crate::app::message::Channel::Slack)
                && !c.started(crate::app::message::Channel::StatusPage)
        );
    }
}
