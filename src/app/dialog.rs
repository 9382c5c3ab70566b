//! The incident dialogs: declare (`d` without an open incident), change status (`d` with one),
//! add a note (`n`). They take every key while open, so a `q` typed into a title is a letter,
//! not a quit. Enter does nothing until the form is complete; Esc cancels; nothing is written
//! until Enter.

use super::entry::{DrLevel, IncidentStatus};
use super::view::Key;

/// The longest title kept.
pub const TITLE_MAX: usize = 120;
/// The longest note kept from the keyboard (a paste of a whole file is cut here).
pub const NOTE_MAX: usize = 2000;
/// What must be typed to resolve an incident: resolving stops the incident clock.
pub const RESOLVE_WORD: &str = "resolve";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclareField {
    Title,
    Level,
    Status,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    Declare {
        title: String,
        level: DrLevel,
        status: IncidentStatus,
        field: DeclareField,
    },
    Status {
        from: IncidentStatus,
        to: IncidentStatus,
        /// What has been typed of [`RESOLVE_WORD`] when `to` is resolved.
        typed: String,
    },
    Note {
        text: String,
    },
    /// `J` after JOURNAL TAMPERED: `continue journal: <reason>` starts a new file from the
    /// last verified entry.
    ContinueJournal {
        /// What broke, as the keeper said it.
        why: String,
        typed: String,
    },
    /// A running step's key: stop it (`cancel`) or release its claim by hand
    /// (`release: <reason>`). Nothing happens on a bare Enter.
    Running {
        runbook: String,
        step: String,
        /// Who runs it and how, in words (shown above the field).
        about: String,
        typed: String,
    },
}

/// What continuing a tampered journal starts with (the reason follows).
pub const CONTINUE_PREFIX: &str = "continue journal:";

/// What must be typed to stop a running step.
pub const CANCEL_WORD: &str = "cancel";
/// What a hand release of a step's claim starts with (the reason follows).
pub const RELEASE_PREFIX: &str = "release:";

/// What the operator asked for when the dialog closed with Enter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submit {
    Declare {
        title: String,
        level: DrLevel,
        status: IncidentStatus,
    },
    Status {
        from: IncidentStatus,
        to: IncidentStatus,
    },
    Note(String),
    /// Continue the tampered journal in a new file, for this reason.
    ContinueJournal {
        reason: String,
    },
    /// Stop the running step.
    Cancel {
        runbook: String,
        step: String,
    },
    /// Release the step's claim: nothing is stopped; the operator verifies by hand.
    Release {
        runbook: String,
        step: String,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogOutcome {
    Open,
    Cancel,
    Submit(Submit),
}

/// Printable characters only, up to `max` in all: what a text field accepts.
fn type_into(field: &mut String, text: &str, max: usize) {
    let room = max.saturating_sub(field.chars().count());
    field.extend(text.chars().filter(|c| !c.is_control()).take(room));
}

fn typed(key: &Key) -> Option<String> {
    match key {
        Key::Char(c) => Some(c.to_string()),
        Key::Paste(text) => Some(text.replace(['\r', '\n', '\t'], " ")),
        _ => None,
    }
}

/// The next (or previous) of `all` after `now`, round the end: the dialogs' ←/→ choices.
pub(crate) fn cycle<T: Copy + PartialEq>(all: &[T], now: T, forward: bool) -> T {
    let n = all.len();
    let i = all.iter().position(|x| *x == now).unwrap_or(0);
    all[if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }]
}

impl Dialog {
    pub fn declare() -> Dialog {
        Dialog::declare_at(DrLevel::ALL[0])
    }

    /// The declare dialog on `level` (the suggested one): preselected, never committed.
    pub fn declare_at(level: DrLevel) -> Dialog {
        Dialog::Declare {
            title: String::new(),
            level,
            status: IncidentStatus::Investigating,
            field: DeclareField::Title,
        }
    }

    /// The status dialog starts on the current status: nothing new is chosen until ←/→, so a
    /// bare Enter (a phrase typed into the wrong place, a key pressed twice) records nothing.
    pub fn status(from: IncidentStatus) -> Dialog {
        Dialog::Status {
            from,
            to: from,
            typed: String::new(),
        }
    }

    pub fn note() -> Dialog {
        Dialog::Note {
            text: String::new(),
        }
    }

    pub fn running(runbook: &str, step: &str, about: String) -> Dialog {
        Dialog::Running {
            runbook: runbook.to_string(),
            step: step.to_string(),
            about,
            typed: String::new(),
        }
    }

    /// Whether Enter would submit now, and if not, why.
    pub fn blocked(&self) -> Option<&'static str> {
        match self {
            Dialog::Declare { title, .. } if title.trim().is_empty() => Some("type a title"),
            Dialog::Status { from, to, .. } if from == to => Some("choose another status"),
            Dialog::Status {
                to: IncidentStatus::Resolved,
                typed,
                ..
            } if typed != RESOLVE_WORD => Some("type `resolve` to resolve"),
            Dialog::Note { text } if text.trim().is_empty() => Some("type the note"),
            Dialog::ContinueJournal { typed, .. } => match typed.strip_prefix(CONTINUE_PREFIX) {
                Some(reason) if !reason.trim().is_empty() => None,
                Some(_) => Some("give the reason after `continue journal:`"),
                None => Some("type `continue journal: <reason>`"),
            },
            Dialog::Running { typed, .. } => match typed.strip_prefix(RELEASE_PREFIX) {
                _ if typed == CANCEL_WORD => None,
                Some(reason) if !reason.trim().is_empty() => None,
                Some(_) => Some("give the reason after `release:`"),
                None => Some("type `cancel` to stop it, or `release: <reason>`"),
            },
            _ => None,
        }
    }

    pub fn on_key(&mut self, key: &Key) -> DialogOutcome {
        if *key == Key::Esc {
            return DialogOutcome::Cancel;
        }
        if *key == Key::Enter {
            if self.blocked().is_some() {
                return DialogOutcome::Open;
            }
            return DialogOutcome::Submit(match self {
                Dialog::Declare {
                    title,
                    level,
                    status,
                    ..
                } => Submit::Declare {
                    title: title.trim().to_string(),
                    level: *level,
                    status: *status,
                },
                Dialog::Status { from, to, .. } => Submit::Status {
                    from: *from,
                    to: *to,
                },
                Dialog::Note { text } => Submit::Note(text.trim().to_string()),
                Dialog::ContinueJournal { typed, .. } => Submit::ContinueJournal {
                    reason: typed
                        .strip_prefix(CONTINUE_PREFIX)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                },
                Dialog::Running {
                    runbook,
                    step,
                    typed,
                    ..
                } => match typed.strip_prefix(RELEASE_PREFIX) {
                    Some(reason) => Submit::Release {
                        runbook: runbook.clone(),
                        step: step.clone(),
                        reason: reason.trim().to_string(),
                    },
                    None => Submit::Cancel {
                        runbook: runbook.clone(),
                        step: step.clone(),
                    },
                },
            });
        }
        match self {
            Dialog::Declare {
                title,
                level,
                status,
                field,
            } => match (key, *field) {
                (Key::Tab | Key::Down, f) => {
                    *field = match f {
                        DeclareField::Title => DeclareField::Level,
                        DeclareField::Level => DeclareField::Status,
                        DeclareField::Status => DeclareField::Title,
                    }
                }
                (Key::BackTab | Key::Up, f) => {
                    *field = match f {
                        DeclareField::Title => DeclareField::Status,
                        DeclareField::Level => DeclareField::Title,
                        DeclareField::Status => DeclareField::Level,
                    }
                }
                (Key::Backspace, DeclareField::Title) => {
                    title.pop();
                }
                (k, DeclareField::Title) => {
                    if let Some(text) = typed(k) {
                        type_into(title, &text, TITLE_MAX);
                    }
                }
                (Key::Left | Key::Right, DeclareField::Level) => {
                    *level = cycle(&DrLevel::ALL, *level, *key == Key::Right)
                }
                (Key::Char(c), DeclareField::Level) => {
                    if let Some(l) = c
                        .to_digit(10)
                        .and_then(|d| u8::try_from(d).ok())
                        .and_then(DrLevel::new)
                    {
                        *level = l;
                    }
                }
                (Key::Left | Key::Right, DeclareField::Status) => {
                    // A new incident is not declared resolved.
                    let open = &IncidentStatus::ALL[..3];
                    *status = cycle(open, *status, *key == Key::Right)
                }
                _ => {}
            },
            Dialog::Status { to, typed: t, .. } => match key {
                Key::Left | Key::Right => {
                    *to = cycle(&IncidentStatus::ALL, *to, *key == Key::Right);
                    t.clear();
                }
                Key::Backspace => {
                    t.pop();
                }
                k => {
                    if let Some(text) = typed(k) {
                        type_into(t, &text, RESOLVE_WORD.len() + 8);
                    }
                }
            },
            Dialog::Running { typed: t, .. } | Dialog::ContinueJournal { typed: t, .. } => {
                match key {
                    Key::Backspace => {
                        t.pop();
                    }
                    k => {
                        if let Some(text) = typed(k) {
                            type_into(t, &text, TITLE_MAX);
                        }
                    }
                }
            }
            Dialog::Note { text } => match key {
                Key::Backspace => {
                    text.pop();
                }
                k => {
                    if let Some(more) = typed(k) {
                        type_into(text, &more, NOTE_MAX);
                    }
                }
            },
        }
        DialogOutcome::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(d: &mut Dialog, text: &str) -> DialogOutcome {
        let mut last = DialogOutcome::Open;
        for c in text.chars() {
            last = d.on_key(&Key::Char(c));
        }
        last
    }

    #[test]
    fn declare_needs_a_title_and_takes_q_as_a_letter() {
        let mut d = Dialog::declare();
        assert_eq!(d.on_key(&Key::Enter), DialogOutcome::Open, "no title yet");
        keys(&mut d, "eu-west-1 quorum lost");
        d.on_key(&Key::Tab);
        d.on_key(&Key::Char('3'));
        d.on_key(&Key::Tab);
        d.on_key(&Key::Right);
        assert_eq!(
            d.on_key(&Key::Enter),
            DialogOutcome::Submit(Submit::Declare {
                title: "eu-west-1 quorum lost".into(),
                level: DrLevel::new(3).expect("level"),
                status: IncidentStatus::Identified,
            })
        );
    }

    #[test]
    fn a_new_incident_cannot_be_declared_resolved() {
        let mut d = Dialog::declare();
        d.on_key(&Key::BackTab);
        for _ in 0..7 {
            d.on_key(&Key::Right);
            if let Dialog::Declare { status, .. } = &d {
                assert_ne!(*status, IncidentStatus::Resolved);
            }
        }
    }

    #[test]
    fn resolving_needs_the_typed_word_and_esc_cancels() {
        let mut d = Dialog::status(IncidentStatus::Monitoring);
        d.on_key(&Key::Right);
        assert_eq!(d.blocked(), Some("type `resolve` to resolve"));
        assert_eq!(keys(&mut d, "resolv"), DialogOutcome::Open);
        assert_eq!(d.on_key(&Key::Enter), DialogOutcome::Open);
        keys(&mut d, "e");
        assert_eq!(
            d.on_key(&Key::Enter),
            DialogOutcome::Submit(Submit::Status {
                from: IncidentStatus::Monitoring,
                to: IncidentStatus::Resolved
            })
        );
        assert_eq!(d.on_key(&Key::Esc), DialogOutcome::Cancel);
    }

    #[test]
    fn a_new_status_is_chosen_never_defaulted() {
        let mut d = Dialog::status(IncidentStatus::Investigating);
        assert_eq!(d.blocked(), Some("choose another status"));
        assert_eq!(d.on_key(&Key::Enter), DialogOutcome::Open, "a bare Enter");
        d.on_key(&Key::Right);
        assert_eq!(
            d.on_key(&Key::Enter),
            DialogOutcome::Submit(Submit::Status {
                from: IncidentStatus::Investigating,
                to: IncidentStatus::Identified
            })
        );
        d.on_key(&Key::Left);
        assert_eq!(d.blocked(), Some("choose another status"));
    }

    #[test]
    fn notes_drop_control_characters_and_a_huge_paste_is_cut() {
        let mut d = Dialog::note();
        d.on_key(&Key::Paste("line one\nline\x1b[2J two\x07".into()));
        assert_eq!(
            d.on_key(&Key::Enter),
            DialogOutcome::Submit(Submit::Note("line one line[2J two".into()))
        );
        let mut d = Dialog::note();
        d.on_key(&Key::Paste("x".repeat(1_000_000)));
        let Dialog::Note { text } = &d else {
            unreachable!("a note dialog")
        };
        assert_eq!(text.chars().count(), NOTE_MAX);
    }
}
