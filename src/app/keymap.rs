//! The console's keys as data (as gitui's `key_list.rs`): one table says which key does what,
//! where, and how the help overlay says it. `update` and the view dispatch through
//! [`action`]; the help overlay draws [`HELP`]; `check` refuses a step key the console
//! already uses ([`console_letters`], kept equal to `config::CONSOLE_KEYS` by a test).
//!
//! What the table does not hold, on purpose: the keys of a modal, a dialog or the composer
//! (they own every key while open), typing into the filter, and the step keys (the
//! operator's own, from the runbooks).

use super::view::{Key, Panel};

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyContext {
    /// Whatever has the focus.
    Anywhere,
    /// Only while this panel has the focus (its letters are step keys elsewhere).
    Focused(Panel),
}

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAction {
    Quit,
    Help,
    Filter,
    ClearFilter,
    NextPanel,
    PreviousPanel,
    PreviousRunbook,
    NextRunbook,
    ScrollDown,
    ScrollUp,
    PageDown,
    PageUp,
    Top,
    Bottom,
    FocusRunbooks,
    Declare,
    Note,
    Compose,
    ContinueJournal,
    TimelineOrder,
    TimelineKinds,
    TimelineClock,
    /// In Runbooks: the log of the step that ran last.
    StepLog,
}

/// One key, where it applies and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub key: Key,
    pub context: KeyContext,
    pub action: KeyAction,
}

const fn bind(key: Key, context: KeyContext, action: KeyAction) -> Binding {
    Binding {
        key,
        context,
        action,
    }
}

use KeyAction as A;
use KeyContext::{Anywhere, Focused};

/// Every console key, first match wins: a panel's own binding comes before the same key
/// anywhere.
pub const KEYMAP: &[Binding] = &[
    bind(Key::Char('q'), Anywhere, A::Quit),
    bind(Key::Char('?'), Anywhere, A::Help),
    bind(Key::Char('/'), Anywhere, A::Filter),
    bind(Key::Esc, Anywhere, A::ClearFilter),
    bind(Key::Tab, Anywhere, A::NextPanel),
    bind(Key::Right, Anywhere, A::NextPanel),
    bind(Key::BackTab, Anywhere, A::PreviousPanel),
    bind(Key::Left, Anywhere, A::PreviousPanel),
    // Step keys are the operator's (any letter but the console's own), so the runbook panel
    // chooses its runbook with the arrows, not with letters.
    bind(Key::Up, Focused(Panel::Runbooks), A::PreviousRunbook),
    bind(Key::Down, Focused(Panel::Runbooks), A::NextRunbook),
    bind(Key::Enter, Focused(Panel::Runbooks), A::StepLog),
    // The timeline's own letters: elsewhere they may be step keys.
    bind(Key::Char('o'), Focused(Panel::Timeline), A::TimelineOrder),
    bind(Key::Char('k'), Focused(Panel::Timeline), A::TimelineKinds),
    bind(Key::Char('t'), Focused(Panel::Timeline), A::TimelineClock),
    bind(Key::Down, Anywhere, A::ScrollDown),
    bind(Key::Up, Anywhere, A::ScrollUp),
    bind(Key::PageDown, Anywhere, A::PageDown),
    bind(Key::PageUp, Anywhere, A::PageUp),
    bind(Key::Home, Anywhere, A::Top),
    bind(Key::End, Anywhere, A::Bottom),
    bind(Key::Char('R'), Anywhere, A::FocusRunbooks),
    bind(Key::Char('d'), Anywhere, A::Declare),
    bind(Key::Char('n'), Anywhere, A::Note),
    bind(Key::Char('u'), Anywhere, A::Compose),
    bind(Key::Char('J'), Anywhere, A::ContinueJournal),
];

/// What `key` does with `focus` on the focused panel, if anything.
pub fn action(key: &Key, focus: Panel) -> Option<KeyAction> {
    KEYMAP
        .iter()
        .find(|b| {
            &b.key == key
                && match b.context {
                    Anywhere => true,
                    Focused(p) => p == focus,
                }
        })
        .map(|b| b.action)
}

/// Whether `key` is one of a panel's own letters while that panel has the focus (then it is
/// not a step key).
pub fn is_panel_letter(key: &Key, focus: Panel) -> bool {
    KEYMAP
        .iter()
        .any(|b| &b.key == key && b.context == Focused(focus) && matches!(key, Key::Char(_)))
}

/// The letters the console uses wherever the focus is: no step may take one.
pub fn console_letters() -> Vec<char> {
    KEYMAP
        .iter()
        .filter(|b| b.context == Anywhere)
        .filter_map(|b| match b.key {
            Key::Char(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// One line of the help overlay: the keys as written, and what they do.
pub struct Help {
    pub keys: &'static str,
    pub what: &'static str,
    /// The actions the line speaks for (none: the step keys, which are the runbooks').
    pub actions: &'static [KeyAction],
}

/// The help overlay, in its order. Every action of [`KEYMAP`] is on a line (a test checks),
/// so a new key cannot be left out of the help.
pub const HELP: &[Help] = &[
    Help {
        keys: "q",
        what: "quit (running steps and queued updates finish first)",
        actions: &[A::Quit],
    },
    Help {
        keys: "?",
        what: "this help; any key closes it",
        actions: &[A::Help],
    },
    Help {
        keys: "/",
        what: "filter components by id or name; Enter keeps it, Esc clears it",
        actions: &[A::Filter],
    },
    Help {
        keys: "Enter",
        what: "in Runbooks: the log of the step that ran last (Tab: the next step's)",
        actions: &[A::StepLog],
    },
    Help {
        keys: "Tab / Right",
        what: "next panel",
        actions: &[A::NextPanel],
    },
    Help {
        keys: "S-Tab / Left",
        what: "previous panel",
        actions: &[A::PreviousPanel],
    },
    Help {
        keys: "Up Down PgUp PgDn Home",
        what: "scroll the focused panel; in Runbooks: choose the runbook",
        actions: &[
            A::ScrollUp,
            A::ScrollDown,
            A::PageUp,
            A::PageDown,
            A::Top,
            A::PreviousRunbook,
            A::NextRunbook,
        ],
    },
    Help {
        keys: "Esc",
        what: "clear the filter",
        actions: &[A::ClearFilter],
    },
    Help {
        keys: "a step's key",
        what: "any panel: its modal; type the phrase, Enter runs it",
        actions: &[],
    },
    Help {
        keys: "R",
        what: "focus the runbooks (Up/Down choose one)",
        actions: &[A::FocusRunbooks],
    },
    Help {
        keys: "d",
        what: "declare an incident; with one open: change its status",
        actions: &[A::Declare],
    },
    Help {
        keys: "n",
        what: "add a note to the journal",
        actions: &[A::Note],
    },
    Help {
        keys: "u",
        what: "compose an update to Slack / the status page (preview; `publish` for the page)",
        actions: &[A::Compose],
    },
    Help {
        keys: "J",
        what: "after JOURNAL TAMPERED: continue it in a new file",
        actions: &[A::ContinueJournal],
    },
    Help {
        keys: "o k t",
        what: "in Timeline: oldest/newest first, kind filter, UTC/local",
        actions: &[A::TimelineOrder, A::TimelineKinds, A::TimelineClock],
    },
    Help {
        keys: "End",
        what: "scroll the focused panel to its end",
        actions: &[A::Bottom],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_the_table_is_on_a_help_line_and_every_help_line_is_a_key() {
        for b in KEYMAP {
            assert!(
                HELP.iter().any(|h| h.actions.contains(&b.action)),
                "{b:?} is not in the help"
            );
        }
        for h in HELP {
            for a in h.actions {
                assert!(
                    KEYMAP.iter().any(|b| b.action == *a),
                    "the help says {:?} ({}) but no key does it",
                    a,
                    h.keys
                );
            }
        }
    }

    #[test]
    fn a_help_line_names_each_letter_it_speaks_for() {
        for h in HELP {
            for b in KEYMAP.iter().filter(|b| h.actions.contains(&b.action)) {
                if let Key::Char(c) = b.key {
                    assert!(
                        h.keys == c.to_string() || h.keys.split(' ').any(|w| w == c.to_string()),
                        "help line {:?} does not name '{c}'",
                        h.keys
                    );
                }
            }
        }
    }

    #[test]
    fn the_config_reserves_exactly_the_consoles_letters() {
        let mut table = console_letters();
        let mut config = crate::config::CONSOLE_KEYS.to_vec();
        table.sort_unstable();
        config.sort_unstable();
        assert_eq!(
            table, config,
            "config::CONSOLE_KEYS must be the keymap's letters (check refuses a step key \
             that collides with one)"
        );
    }

    #[test]
    fn a_panels_letter_is_its_own_only_while_it_has_the_focus() {
        assert_eq!(
            action(&Key::Char('o'), Panel::Timeline),
            Some(A::TimelineOrder)
        );
        assert_eq!(action(&Key::Char('o'), Panel::Health), None);
        assert!(is_panel_letter(&Key::Char('k'), Panel::Timeline));
        assert!(!is_panel_letter(&Key::Char('k'), Panel::Runbooks));
        assert_eq!(action(&Key::Up, Panel::Runbooks), Some(A::PreviousRunbook));
        assert_eq!(action(&Key::Up, Panel::Health), Some(A::ScrollUp));
    }
}
