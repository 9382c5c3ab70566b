use super::*;
use crate::app::testkit::{Rig, t};
use crate::app::update::TIMELINE_CAP;
use crate::app::{Effect, EntryKind, Event, JournalEvent, Key, update};

/// Rows the timeline shows in these tests.
const ROWS: usize = 20;

/// A console on a journal of `n` notes ("note 1" … "note n"), its timeline focused.
fn long(n: u64) -> Rig {
    let mut rig = Rig::new(Vec::new());
    rig.state.view.rows[Panel::Timeline as usize] = ROWS;
    rig.state.view.focus = Panel::Timeline;
    rig.journal.write_all(
        &mut rig.state,
        (1..=n).map(|seq| {
            (
                t(seq as i64),
                EntryKind::Note {
                    text: format!("note {seq}"),
                },
            )
        }),
    );
    rig
}

/// The rows on screen, as text: `seq` for an entry, `gap N` / `start N` for a marker.
fn shown(state: &State) -> Vec<String> {
    let top = state.view.scroll_of(Panel::Timeline);
    state
        .timeline_rows()
        .skip(top)
        .take(ROWS)
        .map(|r| match r {
            TimelineRow::Entry(e) => e.seq.to_string(),
            TimelineRow::Gap(n) => format!("gap {n}"),
            TimelineRow::Start(n) => format!("start {n}"),
        })
        .collect()
}

fn asked(effects: &[Effect]) -> Vec<(u64, u64)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::ReadEarlier { from, to, .. } => Some((*from, *to)),
            _ => None,
        })
        .collect()
}

/// Whether the held earlier entries are consecutive and within their bound.
fn held_well(state: &State) -> bool {
    let e = &state.earlier.entries;
    e.len() <= EARLIER_MAX
        && e.iter()
            .zip(e.iter().skip(1))
            .all(|(a, b)| b.seq == a.seq + 1)
}

#[test]
fn end_reads_the_journals_first_page_and_shows_its_oldest_entry() {
    let mut rig = long(25_000);
    assert_eq!(rig.state.timeline.len(), TIMELINE_CAP);
    // Before: the newest entries, and a marker for the 15 000 not held at the bottom.
    let all: Vec<TimelineRow> = rig.state.timeline_rows().collect();
    assert_eq!(all.last(), Some(&TimelineRow::Start(15_000)));
    assert!(asked(&rig.key(Key::End)).contains(&(1, 1000)));
    let rows = shown(&rig.state);
    // The oldest entry is on the last row shown, the first page above it, then the gap.
    assert_eq!(rows.last().map(String::as_str), Some("1"), "{rows:?}");
    assert_eq!(rows[0], "20", "{rows:?}");
    let all: Vec<TimelineRow> = rig.state.timeline_rows().collect();
    assert!(all.contains(&TimelineRow::Gap(14_000)));
    assert!(!all.iter().any(|r| matches!(r, TimelineRow::Start(_))));
    // Up moves at once from there (the scroll is kept within the rows).
    rig.key(Key::Up);
    assert_eq!(shown(&rig.state).last().map(String::as_str), Some("2"));
}

#[test]
fn scrolling_up_from_the_oldest_reads_the_pages_between_and_keeps_the_place() {
    let mut rig = long(25_000);
    rig.key(Key::End);
    // PageUp from the oldest end, towards the kept timeline: each page is read before the
    // gap is reached, and the rows on screen stay consecutive entries.
    let mut pages = Vec::new();
    for _ in 0..300 {
        pages.extend(asked(&rig.key(Key::PageUp)));
        let rows = shown(&rig.state);
        let seqs: Vec<u64> = rows.iter().filter_map(|r| r.parse().ok()).collect();
        assert_eq!(
            seqs.len(),
            ROWS,
            "only entries on screen, never the gap: {rows:?}"
        );
        assert!(seqs.windows(2).all(|w| w[0] == w[1] + 1), "{rows:?}");
        assert!(held_well(&rig.state));
    }
    assert_eq!(pages[0], (1001, 2000), "{pages:?}");
    assert!(pages.windows(2).all(|w| w[1].0 == w[0].1 + 1), "{pages:?}");
    // 3000 rows up from the oldest entry.
    assert_eq!(shown(&rig.state).last().map(String::as_str), Some("3001"));
}

#[test]
fn scrolling_down_past_the_kept_timeline_reads_on_in_bounded_memory() {
    let mut rig = long(25_000);
    // Near the oldest kept entry: the page below it is read before it is reached.
    rig.state.view.scroll[Panel::Timeline as usize] = TIMELINE_CAP - 100;
    assert_eq!(asked(&rig.key(Key::Down)), vec![(14_001, 15_000)]);
    let all: Vec<TimelineRow> = rig.state.timeline_rows().collect();
    assert!(
        !all.iter().any(|r| matches!(r, TimelineRow::Gap(_))),
        "adjacent: no gap"
    );
    assert_eq!(all.last(), Some(&TimelineRow::Start(14_000)));
    // On down through 6000 more: never more than three pages held; the entries left behind
    // are a gap marker, read again when the operator goes back.
    for _ in 0..650 {
        rig.key(Key::PageDown);
        let seqs: Vec<u64> = shown(&rig.state)
            .iter()
            .filter_map(|r| r.parse().ok())
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] == w[1] + 1));
        assert!(held_well(&rig.state));
    }
    assert_eq!(rig.state.earlier.entries.len(), EARLIER_MAX);
    assert!(
        rig.state
            .timeline_rows()
            .any(|r| matches!(r, TimelineRow::Gap(n) if n > 0))
    );
    assert_eq!(shown(&rig.state)[0], "8599");
    // Home: the kept timeline again, its newest entry first.
    rig.key(Key::Home);
    assert_eq!(shown(&rig.state)[0], "25000");
}

#[test]
fn oldest_first_home_shows_the_first_entry_at_the_top() {
    let mut rig = long(30_000);
    // Oldest first, the marker is the top row: the page below the kept timeline is read at
    // once, and the rows on screen stay where they were.
    let fx = rig.key(Key::Char('o'));
    assert_eq!(asked(&fx), vec![(19_001, 20_000)]);
    assert_eq!(shown(&rig.state)[1], "20001");
    assert!(asked(&rig.key(Key::Home)).contains(&(1, 1000)));
    let rows = shown(&rig.state);
    assert_eq!(rows[0], "1", "{rows:?}");
    assert_eq!(rows[1], "2", "{rows:?}");
    // Paging down from the first entry reads the pages after it before the gap is reached.
    let mut pages = Vec::new();
    for _ in 0..210 {
        pages.extend(asked(&rig.key(Key::PageDown)));
        assert!(held_well(&rig.state));
        assert!(shown(&rig.state).iter().all(|r| r.parse::<u64>().is_ok()));
    }
    assert_eq!(pages, vec![(1001, 2000), (2001, 3000)]);
    assert_eq!(shown(&rig.state)[0], "2101");
}

#[test]
fn a_page_that_cannot_be_read_is_said_and_asked_again_on_the_next_key() {
    let mut rig = long(12_000);
    let fx = update(&mut rig.state, Event::Key(Key::End));
    let [(from, to)] = asked(&fx)[..] else {
        panic!("one page asked: {fx:?}");
    };
    let source = rig.state.journal.source.clone();
    // An answer for another journal, or another page, changes nothing.
    let answer = |source: Source, from: u64, page: EarlierPage| {
        Event::Journal(JournalEvent::Earlier {
            source,
            from,
            to,
            page,
        })
    };
    let other = Source::Incident {
        name: "other.jsonl".into(),
        drill: false,
    };
    update(&mut rig.state, answer(other, from, Ok((Vec::new(), true))));
    update(
        &mut rig.state,
        answer(source.clone(), 5, Ok((Vec::new(), true))),
    );
    assert_eq!(rig.state.earlier.asked, Some((from, to)));
    let fx = update(
        &mut rig.state,
        answer(source, from, Err("incident.jsonl: cannot read: EIO".into())),
    );
    assert!(asked(&fx).is_empty(), "not asked again by itself");
    assert_eq!(
        rig.state.earlier.problem.as_deref(),
        Some("incident.jsonl: cannot read: EIO")
    );
    assert!(asked(&update(&mut rig.state, Event::Key(Key::End))).contains(&(1, 1000)));
}

#[test]
fn another_journal_forgets_what_was_read() {
    let mut rig = long(12_000);
    rig.key(Key::End);
    assert!(!rig.state.earlier.entries.is_empty());
    update(
        &mut rig.state,
        Event::Journal(JournalEvent::Reset {
            source: Source::Watch,
            entries: Vec::new(),
        }),
    );
    assert_eq!(rig.state.earlier, Earlier::default());
}

/// Answers every page asked for from `rig`'s journal, as the keeper would, until nothing
/// more is asked; how many pages were read (a loop would never end: capped and asserted).
fn answer_all(rig: &mut Rig, mut fx: Vec<Effect>) -> usize {
    let mut read = 0;
    loop {
        let Some((from, to)) = asked(&fx).into_iter().next() else {
            return read;
        };
        read += 1;
        assert!(read < 200, "pages asked for without end");
        let page = page_in_memory(rig.journal.entries(), from, to);
        let source = rig.state.journal.source.clone();
        fx = update(
            &mut rig.state,
            Event::Journal(JournalEvent::Earlier {
                source,
                from,
                to,
                page: Ok(page),
            }),
        );
    }
}

#[test]
fn under_a_kind_filter_that_hides_every_earlier_entry_reading_on_ends() {
    let mut rig = long(20_000);
    // Only step entries: there are none, so both markers sit side by side on screen.
    let mut read = 0;
    while rig.state.view.kinds != KindGroup::Steps {
        let fx = update(&mut rig.state, Event::Key(Key::Char('k')));
        read += answer_all(&mut rig, fx);
    }
    let fx = update(&mut rig.state, Event::Key(Key::Down));
    read += answer_all(&mut rig, fx);
    // Each key reads on one way at most through the journal (the operator is looking for an
    // earlier step) and stops; what it read is held within the bound. (Before, the gap and
    // the start marker side by side had pages read back and forth for ever.)
    let journal_pages = 20_000 / PAGE as usize;
    assert!(read > 0 && read <= 3 * journal_pages, "{read} pages");
    assert!(held_well(&rig.state));
    for key in [Key::Down, Key::PageDown, Key::End, Key::Up, Key::Home] {
        let fx = update(&mut rig.state, Event::Key(key.clone()));
        let read = answer_all(&mut rig, fx);
        assert!(read <= journal_pages, "{key:?}: {read} pages");
        assert!(held_well(&rig.state));
    }
}
