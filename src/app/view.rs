//! What the operator is looking at: focus, filter, help, selection. Driven by keys in
//! [`super::update`]; drawn by `ui`. Nothing here changes the estate or any system.

use super::entry::KindGroup;

/// A key press, already translated from the terminal's events (the runtime does that), so
/// the model never depends on crossterm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Enter,
    Esc,
    Backspace,
    Tab,
    BackTab,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    /// Text pasted as one piece (bracketed paste).
    Paste(String),
    /// A new line in a multi-line text (Ctrl-J or Alt-Enter; Enter sends).
    Newline,
}

/// The panels that can hold the focus, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Panel {
    Health,
    Replication,
    Backups,
    Timeline,
    Runbooks,
    Comms,
}

impl Panel {
    pub const ALL: [Panel; 6] = [
        Panel::Health,
        Panel::Replication,
        Panel::Backups,
        Panel::Timeline,
        Panel::Runbooks,
        Panel::Comms,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Panel::Health => "Health",
            Panel::Replication => "Replication",
            Panel::Backups => "Backups",
            Panel::Timeline => "Timeline",
            Panel::Runbooks => "Runbooks",
            Panel::Comms => "Comms",
        }
    }
}

/// The longest filter kept: a paste of a whole file must not grow the state without bound.
const FILTER_MAX: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// Panels this layout shows, in Tab order (the observer layout has no runbook panel).
    pub panels: Vec<Panel>,
    pub focus: Panel,
    pub help: bool,
    /// Components whose id or name contains this (case-insensitive) are shown.
    pub filter: String,
    /// The filter line is taking keys.
    pub editing_filter: bool,
    /// First row shown per panel (scrolling), indexed like [`Panel::ALL`].
    pub scroll: [usize; 6],
    /// Rows each panel shows inside its border (set by the runtime from the layout and the
    /// terminal's size; 0 while unknown).
    pub rows: [usize; 6],
    /// The runbook shown in the runbook panel.
    pub runbook: usize,
    /// A one-line answer to the last key (why it did nothing), until the next key.
    pub flash: Option<String>,
    /// The timeline lists oldest first (`o` toggles; newest first by default).
    pub oldest_first: bool,
    /// Which kinds of entries the timeline shows (`k` cycles).
    pub kinds: KindGroup,
    /// The timeline's times in local time instead of UTC (`t` toggles).
    pub local_time: bool,
    /// The terminal is smaller than the smallest layout (set by the runtime): the emergency
    /// view is shown, and nothing whose data could not be shown opens.
    pub too_small: bool,
}

impl Default for View {
    fn default() -> Self {
        View {
            panels: Panel::ALL.to_vec(),
            focus: Panel::Health,
            help: false,
            filter: String::new(),
            editing_filter: false,
            scroll: [0; 6],
            rows: [0; 6],
            runbook: 0,
            flash: None,
            oldest_first: false,
            kinds: KindGroup::All,
            local_time: false,
            too_small: false,
        }
    }
}

/// What a key asks of the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOutcome {
    Nothing,
    Redraw,
    Quit,
}

impl View {
    /// Restricts focus to the panels a layout shows.
    pub fn set_panels(&mut self, panels: &[Panel]) {
        self.panels = panels.to_vec();
        if !self.panels.contains(&self.focus) {
            self.focus = self.panels.first().copied().unwrap_or(Panel::Health);
        }
    }

    pub fn scroll_of(&self, panel: Panel) -> usize {
        self.scroll[panel as usize]
    }

    pub fn rows_of(&self, panel: Panel) -> usize {
        self.rows[panel as usize]
    }

    /// Whether a component passes the filter.
    pub fn shows(&self, id: &str, name: &str) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let f = self.filter.to_lowercase();
        id.to_lowercase().contains(&f) || name.to_lowercase().contains(&f)
    }

    fn move_focus(&mut self, forward: bool) {
        let n = self.panels.len();
        if n == 0 {
            return;
        }
        let i = self
            .panels
            .iter()
            .position(|p| *p == self.focus)
            .unwrap_or(0);
        let j = if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        };
        self.focus = self.panels[j];
    }

    fn scroll_by(&mut self, delta: isize) {
        let s = &mut self.scroll[self.focus as usize];
        *s = s.saturating_add_signed(delta);
    }

    /// Handles one key. `runbooks` is how many runbooks there are (to cycle through them).
    pub fn on_key(&mut self, key: &Key, runbooks: usize) -> KeyOutcome {
        if self.editing_filter {
            match key {
                Key::Char(c) if !c.is_control() => {
                    if self.filter.chars().count() < FILTER_MAX {
                        self.filter.push(*c);
                    }
                }
                Key::Paste(text) => {
                    for c in text.chars().filter(|c| !c.is_control()) {
                        if self.filter.chars().count() >= FILTER_MAX {
                            break;
                        }
                        self.filter.push(c);
                    }
                }
                Key::Backspace => {
                    self.filter.pop();
                }
                Key::Enter => self.editing_filter = false,
                Key::Esc => {
                    self.filter.clear();
                    self.editing_filter = false;
                }
                _ => return KeyOutcome::Nothing,
            }
            return KeyOutcome::Redraw;
        }
        if self.help {
            // Any key closes the help; q still quits.
            self.help = false;
            return match key {
                Key::Char('q') => KeyOutcome::Quit,
                _ => KeyOutcome::Redraw,
            };
        }
        use super::keymap::KeyAction as A;
        let Some(action) = super::keymap::action(key, self.focus) else {
            return KeyOutcome::Nothing;
        };
        match action {
            A::Quit => return KeyOutcome::Quit,
            A::Help => self.help = true,
            A::Filter => {
                self.editing_filter = true;
                self.focus = Panel::Health;
            }
            A::ClearFilter if !self.filter.is_empty() => self.filter.clear(),
            A::NextPanel => self.move_focus(true),
            A::PreviousPanel => self.move_focus(false),
            // They stop at the ends: a wrap would silently put the step keys on a far
            // runbook.
            A::PreviousRunbook => {
                self.runbook = self
                    .runbook
                    .min(runbooks.saturating_sub(1))
                    .saturating_sub(1);
            }
            A::NextRunbook => {
                self.runbook = (self.runbook + 1).min(runbooks.saturating_sub(1));
            }
            A::TimelineOrder => {
                self.oldest_first = !self.oldest_first;
                self.scroll[Panel::Timeline as usize] = 0;
            }
            A::TimelineKinds => {
                self.kinds = self.kinds.next();
                self.scroll[Panel::Timeline as usize] = 0;
            }
            A::TimelineClock => self.local_time = !self.local_time,
            A::ScrollDown => self.scroll_by(1),
            A::ScrollUp => self.scroll_by(-1),
            A::PageDown => self.scroll_by(10),
            A::PageUp => self.scroll_by(-10),
            A::Top => self.scroll[self.focus as usize] = 0,
            A::Bottom => self.scroll[self.focus as usize] = usize::MAX / 2,
            // The model's: `update` acts on these before the view is asked.
            A::ClearFilter
            | A::StepLog
            | A::FocusRunbooks
            | A::Declare
            | A::Note
            | A::Compose
            | A::ContinueJournal => return KeyOutcome::Nothing,
        }
        KeyOutcome::Redraw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_quits_unless_typing_a_filter() {
        let mut v = View::default();
        assert_eq!(v.on_key(&Key::Char('/'), 0), KeyOutcome::Redraw);
        assert_eq!(v.on_key(&Key::Char('q'), 0), KeyOutcome::Redraw);
        assert_eq!(v.filter, "q");
        assert_eq!(v.on_key(&Key::Enter, 0), KeyOutcome::Redraw);
        assert_eq!(v.on_key(&Key::Char('q'), 0), KeyOutcome::Quit);
    }

    #[test]
    fn filter_matches_id_or_name_ignoring_case_and_esc_clears_it() {
        let mut v = View::default();
        v.on_key(&Key::Char('/'), 0);
        v.on_key(&Key::Paste("DB\x1b[2J".into()), 0);
        assert_eq!(
            v.filter, "DB[2J",
            "control characters never enter the filter"
        );
        v.on_key(&Key::Backspace, 0);
        v.on_key(&Key::Backspace, 0);
        v.on_key(&Key::Backspace, 0);
        assert!(v.shows("db-primary", "Base de Datos"));
        assert!(!v.shows("web-apps", "Aplicaciones Web"));
        v.on_key(&Key::Esc, 0);
        assert!(!v.editing_filter);
        assert!(v.filter.is_empty());
        assert!(v.shows("web-apps", "Aplicaciones Web"));
    }

    #[test]
    fn a_pasted_file_does_not_grow_the_filter_without_bound() {
        let mut v = View::default();
        v.on_key(&Key::Char('/'), 0);
        v.on_key(&Key::Paste("x".repeat(1_000_000)), 0);
        assert_eq!(v.filter.chars().count(), FILTER_MAX);
    }

    #[test]
    fn tab_cycles_focus_over_the_layouts_panels_only() {
        let mut v = View::default();
        v.set_panels(&[Panel::Health, Panel::Timeline]);
        assert_eq!(v.focus, Panel::Health);
        v.on_key(&Key::Tab, 0);
        assert_eq!(v.focus, Panel::Timeline);
        v.on_key(&Key::Tab, 0);
        assert_eq!(v.focus, Panel::Health);
        v.on_key(&Key::BackTab, 0);
        assert_eq!(v.focus, Panel::Timeline);
    }

    #[test]
    fn help_opens_with_question_mark_and_any_key_closes_it() {
        let mut v = View::default();
        v.on_key(&Key::Char('?'), 0);
        assert!(v.help);
        assert_eq!(v.on_key(&Key::Char('x'), 0), KeyOutcome::Redraw);
        assert!(!v.help);
        v.on_key(&Key::Char('?'), 0);
        assert_eq!(v.on_key(&Key::Char('q'), 0), KeyOutcome::Quit);
    }

    #[test]
    fn arrows_scroll_the_focused_panel_and_never_below_zero() {
        let mut v = View::default();
        v.on_key(&Key::Up, 0);
        assert_eq!(v.scroll_of(Panel::Health), 0);
        v.on_key(&Key::Down, 0);
        v.on_key(&Key::Down, 0);
        assert_eq!(v.scroll_of(Panel::Health), 2);
        v.on_key(&Key::Tab, 0);
        assert_eq!(v.scroll_of(Panel::Replication), 0);
    }

    #[test]
    fn arrows_choose_the_runbook_when_the_runbook_panel_has_focus() {
        let mut v = View {
            focus: Panel::Runbooks,
            ..View::default()
        };
        v.on_key(&Key::Down, 3);
        assert_eq!(v.runbook, 1);
        v.on_key(&Key::Up, 3);
        v.on_key(&Key::Up, 3);
        assert_eq!(v.runbook, 0, "stops at the first, never wraps");
        for _ in 0..5 {
            v.on_key(&Key::Down, 3);
        }
        assert_eq!(v.runbook, 2, "stops at the last");
        // Letters are left to the runbook's step keys.
        assert_eq!(v.on_key(&Key::Char('k'), 3), KeyOutcome::Nothing);
    }

    #[test]
    fn the_timeline_keys_act_only_while_the_timeline_has_focus() {
        let mut v = View::default();
        assert_eq!(v.on_key(&Key::Char('o'), 0), KeyOutcome::Nothing);
        assert!(!v.oldest_first);
        v.focus = Panel::Timeline;
        v.on_key(&Key::Char('o'), 0);
        v.on_key(&Key::Char('k'), 0);
        v.on_key(&Key::Char('t'), 0);
        assert!(v.oldest_first);
        assert_eq!(v.kinds, KindGroup::Automatic);
        assert!(v.local_time);
        for _ in 0..5 {
            v.on_key(&Key::Char('k'), 0);
        }
        assert_eq!(
            v.kinds,
            KindGroup::All,
            "the kind filter cycles back to all"
        );
    }
}
