//! What the screen shows for one signal: hysteresis, first answers, timeouts and staleness.
//!
//! A [`Tracker`] holds the shown level of a signal (a component's health, one replica's lag,
//! a backup's age) and changes it only after `confirm_after` consecutive observations agree,
//! so one lost packet does not flap the screen.

use std::mem;
use std::time::Duration;

use jiff::Timestamp;

use super::estate::Timing;
use super::fmt;
use super::observation::ObserveError;

/// Why a signal is UNKNOWN. Always shown with the state.
#[derive(Debug, Clone, PartialEq)]
pub enum UnknownReason {
    /// The probe has not answered yet (and its first timeout has not passed).
    NoDataYet,
    /// The probe has never answered and its timeout has passed since the console started.
    NoAnswerWithin(Duration),
    /// The last answer is older than 3 intervals.
    Stale {
        last_answer: Timestamp,
    },
    CannotObserve(ObserveError),
    /// The probe answered something that makes no sense for this signal.
    Unexpected(&'static str),
}

impl UnknownReason {
    /// The reason in words; `now` is needed for "stale: no answer for 47s".
    pub fn describe(&self, now: Timestamp) -> String {
        match self {
            UnknownReason::NoDataYet => "no data yet".into(),
            UnknownReason::NoAnswerWithin(t) => format!("no answer within {}", fmt::duration(*t)),
            UnknownReason::Stale { last_answer } => format!(
                "stale: no answer for {}",
                fmt::signed(now.duration_since(*last_answer))
            ),
            UnknownReason::CannotObserve(e) => e.to_string(),
            UnknownReason::Unexpected(what) => (*what).into(),
        }
    }

    /// True while the probe has never answered.
    pub fn is_waiting(&self) -> bool {
        matches!(
            self,
            UnknownReason::NoDataYet | UnknownReason::NoAnswerWithin(_)
        )
    }
}

/// A shown level of a signal (health state, lag level, backup level).
pub trait Level: Clone {
    /// The category two observations must share to agree (details aside).
    type Kind: Copy + Eq + std::fmt::Debug;
    fn kind(&self) -> Self::Kind;
    fn unknown(reason: UnknownReason) -> Self;
    fn unknown_reason(&self) -> Option<&UnknownReason>;
}

/// What an observation or the passing of time did to the shown level.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition<L> {
    /// Older than the last answer: a newer one has already decided.
    Ignored,
    /// The shown category stayed (its details may have been refreshed in place).
    Same,
    /// The shown category changed; `from` is what was shown before.
    Changed { from: L },
}

#[derive(Debug, Clone, PartialEq)]
struct Candidate<L> {
    level: L,
    count: u32,
    first_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tracker<L> {
    shown: L,
    since: Timestamp,
    candidate: Option<Candidate<L>>,
    last_answer: Option<Timestamp>,
    /// The next answer is shown at once, without waiting for agreement. True for the very
    /// first answer: the state is UNKNOWN "no data yet", there is nothing to flap from, and
    /// OBSERVING must end once every probe has answered once. Also true after the signal went
    /// STALE: the old state is 3 intervals old, and the first fresh answer is the best truth.
    adopt_next: bool,
}

impl<L: Level> Tracker<L> {
    /// A signal that has not answered yet, UNKNOWN "no data yet" since `started`.
    pub fn new(started: Timestamp) -> Tracker<L> {
        Tracker {
            shown: L::unknown(UnknownReason::NoDataYet),
            since: started,
            candidate: None,
            last_answer: None,
            adopt_next: true,
        }
    }

    pub fn shown(&self) -> &L {
        &self.shown
    }

    /// When the shown category began: the first observation of the agreeing run.
    pub fn since(&self) -> Timestamp {
        self.since
    }

    /// The time of the last answer, whatever it said.
    pub fn last_answer(&self) -> Option<Timestamp> {
        self.last_answer
    }

    pub fn answered(&self) -> bool {
        self.last_answer.is_some()
    }

    pub fn is_stale(&self) -> bool {
        matches!(
            self.shown.unknown_reason(),
            Some(UnknownReason::Stale { .. })
        )
    }

    /// A different level being confirmed, and how many agreeing observations it has so far.
    pub fn pending(&self) -> Option<(&L, u32)> {
        self.candidate.as_ref().map(|c| (&c.level, c.count))
    }

    /// Take one answer into account.
    pub fn observe(&mut self, reading: L, at: Timestamp, confirm_after: u32) -> Transition<L> {
        if self.last_answer.is_some_and(|last| at < last) {
            return Transition::Ignored;
        }
        self.last_answer = Some(at);
        if self.adopt_next {
            self.adopt_next = false;
            self.candidate = None;
            if reading.kind() == self.shown.kind() {
                self.shown = reading;
                return Transition::Same;
            }
            let from = mem::replace(&mut self.shown, reading);
            self.since = at;
            return Transition::Changed { from };
        }
        if reading.kind() == self.shown.kind() {
            // Agrees with what is shown: refresh details in place, forget any challenger.
            self.shown = reading;
            self.candidate = None;
            return Transition::Same;
        }
        let count = match &mut self.candidate {
            Some(c) if c.level.kind() == reading.kind() => {
                c.level = reading;
                c.count = c.count.saturating_add(1);
                c.count
            }
            _ => {
                self.candidate = Some(Candidate {
                    level: reading,
                    count: 1,
                    first_at: at,
                });
                1
            }
        };
        if count >= confirm_after.max(1)
            && let Some(c) = self.candidate.take()
        {
            let from = mem::replace(&mut self.shown, c.level);
            self.since = c.first_at;
            return Transition::Changed { from };
        }
        Transition::Same
    }

    /// Derive what depends on time alone: a first answer overdue, or the last one stale.
    pub fn refresh(&mut self, now: Timestamp, timing: &Timing) -> Transition<L> {
        match self.last_answer {
            None => {
                if matches!(self.shown.unknown_reason(), Some(UnknownReason::NoDataYet))
                    && now.duration_since(self.since) >= timing.timeout()
                {
                    // Still UNKNOWN, only the reason changes: same category, since kept.
                    self.shown =
                        L::unknown(UnknownReason::NoAnswerWithin(timing.schedule().timeout));
                }
                Transition::Same
            }
            Some(last) => {
                if self.is_stale() || now.duration_since(last) <= timing.stale_after() {
                    return Transition::Same;
                }
                let stale = L::unknown(UnknownReason::Stale { last_answer: last });
                let changed = stale.kind() != self.shown.kind();
                let from = mem::replace(&mut self.shown, stale);
                self.candidate = None;
                self.adopt_next = true;
                if changed {
                    // It became stale when the third interval ran out, not when we noticed.
                    self.since = last
                        .checked_add(timing.stale_after())
                        .unwrap_or(Timestamp::MAX);
                    Transition::Changed { from }
                } else {
                    Transition::Same
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Schedule;

    /// A minimal level: a category and a detail that agreeing observations refresh.
    #[derive(Debug, Clone, PartialEq)]
    enum L {
        Up(u32),
        Down,
        Unknown(UnknownReason),
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum K {
        Up,
        Down,
        Unknown,
    }

    impl Level for L {
        type Kind = K;
        fn kind(&self) -> K {
            match self {
                L::Up(_) => K::Up,
                L::Down => K::Down,
                L::Unknown(_) => K::Unknown,
            }
        }
        fn unknown(r: UnknownReason) -> L {
            L::Unknown(r)
        }
        fn unknown_reason(&self) -> Option<&UnknownReason> {
            match self {
                L::Unknown(r) => Some(r),
                _ => None,
            }
        }
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("valid")
    }

    fn timing() -> Timing {
        Timing::new(Schedule {
            every: Duration::from_secs(15),
            timeout: Duration::from_secs(10),
            confirm_after: 2,
        })
    }

    #[test]
    fn first_answer_is_adopted_at_once() {
        let mut tr: Tracker<L> = Tracker::new(t(0));
        assert_eq!(tr.shown(), &L::Unknown(UnknownReason::NoDataYet));
        assert_eq!(
            tr.observe(L::Down, t(3), 2),
            Transition::Changed {
                from: L::Unknown(UnknownReason::NoDataYet)
            }
        );
        assert_eq!(tr.shown(), &L::Down);
        assert_eq!(tr.since(), t(3));
    }

    #[test]
    fn a_change_needs_confirm_after_agreeing_answers_and_since_is_the_first() {
        let mut tr: Tracker<L> = Tracker::new(t(0));
        tr.observe(L::Up(1), t(1), 2);
        assert_eq!(tr.observe(L::Down, t(16), 2), Transition::Same);
        assert_eq!(tr.shown(), &L::Up(1));
        assert_eq!(tr.pending(), Some((&L::Down, 1)));
        assert_eq!(
            tr.observe(L::Down, t(31), 2),
            Transition::Changed { from: L::Up(1) }
        );
        assert_eq!(tr.shown(), &L::Down);
        assert_eq!(tr.since(), t(16));
        assert_eq!(tr.pending(), None);
    }

    #[test]
    fn agreeing_answers_refresh_details_in_place_and_reset_the_challenger() {
        let mut tr: Tracker<L> = Tracker::new(t(0));
        tr.observe(L::Up(1), t(1), 3);
        tr.observe(L::Down, t(2), 3);
        tr.observe(L::Down, t(3), 3);
        assert_eq!(tr.observe(L::Up(7), t(4), 3), Transition::Same);
        assert_eq!(tr.shown(), &L::Up(7));
        assert_eq!(tr.since(), t(1));
        assert_eq!(tr.pending(), None);
        // The run was broken: two more Down are not enough with confirm_after 3.
        tr.observe(L::Down, t(5), 3);
        assert_eq!(tr.observe(L::Down, t(6), 3), Transition::Same);
        assert!(matches!(
            tr.observe(L::Down, t(7), 3),
            Transition::Changed { .. }
        ));
        assert_eq!(tr.since(), t(5));
    }

    #[test]
    fn a_different_challenger_restarts_the_count() {
        let mut tr: Tracker<L> = Tracker::new(t(0));
        tr.observe(L::Up(1), t(1), 2);
        tr.observe(L::Down, t(2), 2);
        tr.observe(
            L::Unknown(UnknownReason::CannotObserve(ObserveError::Timeout)),
            t(3),
            2,
        );
        assert_eq!(tr.shown(), &L::Up(1));
        assert_eq!(
            tr.pending().map(|(l, n)| (l.kind(), n)),
            Some((K::Unknown, 1))
        );
    }

    #[test]
    fn older_answers_are_ignored() {
        let mut tr: Tracker<L> = Tracker::new(t(0));
        tr.observe(L::Up(1), t(10), 1);
        assert_eq!(tr.observe(L::Down, t(9), 1), Transition::Ignored);
        assert_eq!(tr.shown(), &L::Up(1));
        assert_eq!(tr.last_answer(), Some(t(10)));
    }

    #[test]
    fn no_answer_within_timeout_keeps_unknown_and_since() {
        let mut tr: Tracker<L> = Tracker::new(t(0));
        assert_eq!(tr.refresh(t(9), &timing()), Transition::Same);
        assert_eq!(tr.shown(), &L::Unknown(UnknownReason::NoDataYet));
        assert_eq!(tr.refresh(t(10), &timing()), Transition::Same);
        assert_eq!(
            tr.shown(),
            &L::Unknown(UnknownReason::NoAnswerWithin(Duration::from_secs(10)))
        );
        assert_eq!(tr.since(), t(0));
        assert_eq!(
            tr.shown()
                .unknown_reason()
                .map(|r| r.describe(t(10)))
                .as_deref(),
            Some("no answer within 10s")
        );
        // The late first answer is still adopted at once.
        assert!(matches!(
            tr.observe(L::Up(1), t(12), 2),
            Transition::Changed { .. }
        ));
    }

    #[test]
    fn stale_after_three_intervals_then_the_next_answer_is_adopted() {
        let mut tr: Tracker<L> = Tracker::new(t(0));
        tr.observe(L::Up(1), t(1), 2);
        assert_eq!(
            tr.refresh(t(46), &timing()),
            Transition::Same,
            "exactly 3×15s"
        );
        assert!(!tr.is_stale());
        assert_eq!(
            tr.refresh(t(48), &timing()),
            Transition::Changed { from: L::Up(1) }
        );
        assert!(tr.is_stale());
        assert_eq!(tr.since(), t(46));
        assert_eq!(
            tr.shown()
                .unknown_reason()
                .map(|r| r.describe(t(48)))
                .as_deref(),
            Some("stale: no answer for 47s")
        );
        assert_eq!(tr.refresh(t(60), &timing()), Transition::Same, "stale once");
        assert_eq!(
            tr.observe(L::Down, t(61), 2),
            Transition::Changed {
                from: L::Unknown(UnknownReason::Stale { last_answer: t(1) })
            }
        );
        assert_eq!(tr.since(), t(61));
        assert!(!tr.is_stale());
    }

    #[test]
    fn stale_while_unknown_keeps_since_and_reports_no_change() {
        let mut tr: Tracker<L> = Tracker::new(t(0));
        let cannot = L::Unknown(UnknownReason::CannotObserve(ObserveError::Timeout));
        tr.observe(cannot, t(1), 2);
        assert_eq!(tr.refresh(t(100), &timing()), Transition::Same);
        assert!(tr.is_stale());
        // The first answer kept the category UNKNOWN it had since the start.
        assert_eq!(tr.since(), t(0));
    }
}
