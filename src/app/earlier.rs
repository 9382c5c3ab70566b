//! The timeline's earlier entries: a long incident's console keeps its newest
//! [`TIMELINE_CAP`](super::update::TIMELINE_CAP) lines; older ones are read back from the
//! journal a page at a time as the operator scrolls towards them, and at most
//! [`EARLIER_MAX`] are held. What is neither kept nor read is a marker row that says how many
//! entries it stands for, so nothing is cut silently.
//!
//! The rows of the timeline, oldest first: `[start marker] [earlier page(s)] [gap marker]
//! [kept timeline]` (newest first reverses them). Scrolling near a marker asks the journal
//! keeper for the page beside it ([`Effect::ReadEarlier`]); `End` (`Home` oldest first) asks
//! for the journal's first page, so the oldest entry is one key away.

use std::collections::VecDeque;

use super::incident::Source;
use super::update::{Effect, State};
use super::{KindGroup, Panel, Recorded};
use crate::journal::JournalEntry;

/// Entries asked for at a time.
pub const PAGE: u64 = 1000;
/// The most earlier entries held (three pages).
pub const EARLIER_MAX: usize = 3 * PAGE as usize;
/// A marker this many rows (or fewer) beyond the screen's edge is read before it is reached.
const MARGIN: usize = 200;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Earlier {
    /// Entries older than the kept timeline, read back from the journal: consecutive seqs,
    /// oldest first.
    pub entries: VecDeque<Recorded>,
    /// The journal's first seq, once a page reached it (else 1 is assumed).
    pub start: Option<u64>,
    /// The page asked for and not yet answered (one at a time).
    pub asked: Option<(u64, u64)>,
    /// Why the last page could not be read; no page is asked again until the next key.
    pub problem: Option<String>,
    /// The operator asked for the oldest end (`End`, or `Home` oldest first): it stays in
    /// view as pages arrive.
    pub pinned_oldest: bool,
    /// Where the last page asked for was heading: the next one asked without a key goes the
    /// same way, so reading on (under a kind filter that hides what is read) always ends.
    pub heading: Option<Heading>,
}

/// Which way a page extends what is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heading {
    /// Towards the journal's first entry.
    Start,
    /// Into the gap, down from the kept timeline.
    GapFromKept,
    /// Into the gap, up from the earlier entries held.
    GapFromHeld,
}

/// One row of the timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimelineRow<'a> {
    Entry(&'a Recorded),
    /// Entries between the earlier pages and the kept timeline, not held.
    Gap(u64),
    /// Entries older than anything held.
    Start(u64),
}

impl State {
    fn first_kept(&self) -> u64 {
        self.timeline
            .front()
            .map(|r| r.seq)
            .unwrap_or(self.journal.last_seq + 1)
    }

    /// The oldest seq held, and how many entries are older (the start marker).
    fn older_than_held(&self) -> u64 {
        let lowest = self
            .earlier
            .entries
            .front()
            .map(|r| r.seq)
            .unwrap_or_else(|| self.first_kept());
        lowest.saturating_sub(self.earlier.start.unwrap_or(1))
    }

    fn gap(&self) -> u64 {
        match self.earlier.entries.back() {
            Some(last) => self.first_kept().saturating_sub(last.seq + 1),
            None => 0,
        }
    }

    /// The timeline's rows as drawn: kind filter applied, markers where entries are not held,
    /// newest first unless the operator chose oldest first.
    pub fn timeline_rows(&self) -> Box<dyn Iterator<Item = TimelineRow<'_>> + '_> {
        let kinds = self.view.kinds;
        let shows = move |r: &&Recorded| kinds == KindGroup::All || r.group() == kinds;
        let start = self.older_than_held();
        let start = (start > 0).then_some(TimelineRow::Start(start));
        let gap = self.gap();
        let gap = (gap > 0).then_some(TimelineRow::Gap(gap));
        if self.view.oldest_first {
            Box::new(
                start
                    .into_iter()
                    .chain(
                        self.earlier
                            .entries
                            .iter()
                            .filter(shows)
                            .map(TimelineRow::Entry),
                    )
                    .chain(gap)
                    .chain(self.timeline.iter().filter(shows).map(TimelineRow::Entry)),
            )
        } else {
            Box::new(
                self.timeline
                    .iter()
                    .rev()
                    .filter(shows)
                    .map(TimelineRow::Entry)
                    .chain(gap)
                    .chain(
                        self.earlier
                            .entries
                            .iter()
                            .rev()
                            .filter(shows)
                            .map(TimelineRow::Entry),
                    )
                    .chain(start),
            )
        }
    }

    /// The first row the timeline shows: its scroll, kept within its rows.
    fn timeline_top(&self, total: usize) -> usize {
        let visible = self.view.rows_of(Panel::Timeline);
        self.view
            .scroll_of(Panel::Timeline)
            .min(total.saturating_sub(visible))
    }

    /// The timeline was scrolled (`action`): keep its scroll within its rows, and ask for the
    /// page the operator is heading to.
    pub(super) fn timeline_scrolled(
        &mut self,
        action: Option<super::keymap::KeyAction>,
        effects: &mut Vec<Effect>,
    ) {
        use super::keymap::KeyAction as A;
        let oldest_first = self.view.oldest_first;
        match action {
            Some(A::Bottom) if !oldest_first => self.earlier.pinned_oldest = true,
            Some(A::Top) if oldest_first => self.earlier.pinned_oldest = true,
            Some(
                A::Top
                | A::Bottom
                | A::ScrollUp
                | A::ScrollDown
                | A::PageUp
                | A::PageDown
                | A::TimelineOrder
                | A::TimelineKinds,
            ) => self.earlier.pinned_oldest = false,
            _ => return,
        }
        // A key is a new try after a page that could not be read.
        self.earlier.problem = None;
        self.settle_timeline(None, effects);
    }

    /// Puts the scroll where it belongs (the oldest end when pinned, else within the rows)
    /// and asks for the next page if a marker is near: any marker after a key, only one
    /// `heading` the same way after a page arrived (two markers side by side must not have
    /// pages read back and forth for ever).
    fn settle_timeline(&mut self, heading: Option<Heading>, effects: &mut Vec<Effect>) {
        let total = self.timeline_rows().count();
        if self.earlier.pinned_oldest {
            self.view.scroll[Panel::Timeline as usize] =
                if self.view.oldest_first { 0 } else { total };
        }
        self.view.scroll[Panel::Timeline as usize] = self.timeline_top(total);
        if let Some((way, (from, to))) = self.next_page(total, heading) {
            self.earlier.asked = Some((from, to));
            self.earlier.heading = Some(way);
            effects.push(Effect::ReadEarlier {
                source: self.journal.source.clone(),
                from,
                to,
            });
        }
    }

    /// The page to read next, if a marker is near the rows shown.
    fn next_page(&self, total: usize, heading: Option<Heading>) -> Option<(Heading, (u64, u64))> {
        let e = &self.earlier;
        if e.asked.is_some() || e.problem.is_some() || self.journal.source == Source::Nothing {
            return None;
        }
        let start = e.start.unwrap_or(1);
        let first_kept = self.first_kept();
        let lowest = e.entries.front().map(|r| r.seq).unwrap_or(first_kept);
        let older = self.older_than_held();
        if e.pinned_oldest && older > 0 && heading.is_none_or(|h| h == Heading::Start) {
            return Some((Heading::Start, (start, (start + PAGE - 1).min(lowest - 1))));
        }
        let top = self.timeline_top(total);
        let bottom = top + self.view.rows_of(Panel::Timeline);
        // How far a row is from the rows shown.
        let distance = |row: usize| {
            if row < top {
                top - row
            } else {
                row.saturating_sub(bottom)
            }
        };
        let mut near: Vec<(usize, Heading, (u64, u64))> = Vec::new();
        let rows: Vec<(usize, TimelineRow)> = self
            .timeline_rows()
            .enumerate()
            .filter(|(_, r)| !matches!(r, TimelineRow::Entry(_)))
            .collect();
        for (row, marker) in rows {
            match marker {
                TimelineRow::Start(_) => {
                    near.push((
                        row,
                        Heading::Start,
                        (lowest.saturating_sub(PAGE).max(start), lowest - 1),
                    ));
                }
                TimelineRow::Gap(_) => {
                    let Some(last) = e.entries.back().map(|r| r.seq) else {
                        continue;
                    };
                    // From the side the operator looks at it: the kept timeline's, or the
                    // earlier page's.
                    let from_kept = (top <= row) != self.view.oldest_first;
                    near.push(if from_kept {
                        (
                            row,
                            Heading::GapFromKept,
                            (
                                first_kept.saturating_sub(PAGE).max(last + 1),
                                first_kept - 1,
                            ),
                        )
                    } else {
                        (
                            row,
                            Heading::GapFromHeld,
                            (last + 1, (last + PAGE).min(first_kept - 1)),
                        )
                    });
                }
                TimelineRow::Entry(_) => {}
            }
        }
        near.into_iter()
            .filter(|(row, way, _)| distance(*row) <= MARGIN && heading.is_none_or(|h| h == *way))
            .min_by_key(|(row, _, _)| distance(*row))
            .map(|(_, way, page)| (way, page))
    }

    /// A page the keeper read (or could not).
    pub(super) fn on_earlier(
        &mut self,
        source: Source,
        (from, to): (u64, u64),
        page: EarlierPage,
        effects: &mut Vec<Effect>,
    ) {
        if source != self.journal.source || self.earlier.asked != Some((from, to)) {
            return;
        }
        self.earlier.asked = None;
        let (entries, start) = match page {
            Ok(p) => p,
            Err(why) => {
                self.earlier.problem = Some(why);
                return;
            }
        };
        if start {
            self.earlier.start = Some(entries.first().map(|e| e.seq).unwrap_or(to + 1));
        }
        let first_kept = self.first_kept();
        let page: Vec<Recorded> = entries
            .iter()
            .filter(|e| e.seq >= from && e.seq <= to && e.seq < first_kept)
            .map(Recorded::from_journal)
            .collect();
        let consecutive = page.windows(2).all(|w| w[1].seq == w[0].seq + 1);
        if page.is_empty() || !consecutive {
            if !start {
                self.earlier.problem = Some(format!(
                    "entries {from}–{to} are not where the journal says: `warroom journal verify`"
                ));
            }
            return;
        }
        let anchor = self.anchor();
        self.merge(page);
        self.restore(anchor);
        let heading = self.earlier.heading;
        self.settle_timeline(heading.or(Some(Heading::Start)), effects);
    }

    /// Joins a page to the earlier entries held, dropping those furthest from it.
    fn merge(&mut self, page: Vec<Recorded>) {
        let held = &mut self.earlier.entries;
        let (first, last) = (page[0].seq, page[page.len() - 1].seq);
        match (held.front().map(|r| r.seq), held.back().map(|r| r.seq)) {
            (Some(f), _) if last + 1 == f => {
                for r in page.into_iter().rev() {
                    held.push_front(r);
                }
                held.truncate(EARLIER_MAX);
            }
            (_, Some(l)) if l + 1 == first => {
                held.extend(page);
                while held.len() > EARLIER_MAX {
                    held.pop_front();
                }
            }
            _ => *held = page.into(),
        }
    }

    /// The entry at or after the first row shown, and how many rows before it the screen
    /// starts: the same entry stays where it was when rows come and go around it.
    fn anchor(&self) -> Option<(u64, usize)> {
        let total = self.timeline_rows().count();
        let top = self.timeline_top(total);
        self.timeline_rows()
            .enumerate()
            .skip(top)
            .find_map(|(i, r)| match r {
                TimelineRow::Entry(e) => Some((e.seq, i - top)),
                _ => None,
            })
    }

    fn restore(&mut self, anchor: Option<(u64, usize)>) {
        let Some((seq, before)) = anchor else {
            return;
        };
        let at = self
            .timeline_rows()
            .position(|r| matches!(r, TimelineRow::Entry(e) if e.seq == seq));
        if let Some(at) = at {
            self.view.scroll[Panel::Timeline as usize] = at.saturating_sub(before);
        }
    }
}

/// The page a keeper read, as the model is told it: `(entries, reached the file's start)`.
pub type EarlierPage = Result<(Vec<JournalEntry>, bool), String>;

/// A page of a journal held in memory (a drill's watch log, [`super::MemoryJournal`]): the
/// entries of `from..=to`, and whether nothing is older.
pub fn page_in_memory(entries: &[JournalEntry], from: u64, to: u64) -> (Vec<JournalEntry>, bool) {
    let page = entries
        .iter()
        .filter(|e| e.seq >= from && e.seq <= to)
        .cloned()
        .collect();
    let start = entries.first().is_none_or(|e| e.seq >= from);
    (page, start)
}

#[cfg(test)]
mod tests;
