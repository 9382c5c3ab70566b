//! The confirmation modal of a runbook step: what will happen, the inputs as typed, the
//! prechecks with their live values, and the confirm phrase. Enter does nothing until the
//! phrase matches exactly (case-sensitive) and every input is valid; a failing or stale
//! precheck also needs `override precheck: <reason>`, and a tampered journal `break glass:
//! <reason>`: each gate its own typed line, so one reason never clears two gates.
//! Esc cancels. Nothing runs by default.

use super::view::Key;
use crate::config::{Input, InputKind, Step};

/// The longest text a field keeps (a pasted file is cut here).
pub const FIELD_MAX: usize = 500;
/// What a precheck override must start with (it names its gate: a reason typed for one gate
/// never clears another).
pub const OVERRIDE_PREFIX: &str = "override precheck:";
/// What the line that accepts AWS's default network for a restore must start with.
pub const OVERRIDE_DEFAULTS_PREFIX: &str = "override defaults:";
/// Under this name the confirmation carries the `override defaults` reason to the executor
/// (a name with a blank: no configured input can have it).
pub const OVERRIDE_DEFAULTS_INPUT: &str = "override defaults";
/// What a break-glass line must start with (a step while the journal is TAMPERED).
pub const BREAK_GLASS_PREFIX: &str = "break glass:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// An item of a checklist step: Space ticks it.
    Item(usize),
    Input(usize),
    Phrase,
    Override,
    BreakGlass,
    /// `override defaults: <reason>` for a restore whose network is not configured.
    Defaults,
}

/// Whether a restore may land on AWS's default network (default VPC and security group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultsGate {
    /// Not a restore, or its subnet group and security groups are configured.
    None,
    /// Copied from the source at run time; typing the override lets it fall back to the
    /// defaults should the source not answer (else the restore stops).
    Optional,
    /// Nothing to copy from: Enter waits for `override defaults: <reason>`.
    Required,
}

/// The defaults gate of a step.
pub fn defaults_gate(step: &Step) -> DefaultsGate {
    use crate::config::{Action, SnapshotChoice};
    match &step.action {
        Action::RdsRestoreSnapshot { placement, .. }
        | Action::RdsRestorePointInTime { placement, .. }
            if placement.has_network() =>
        {
            DefaultsGate::None
        }
        Action::RdsRestoreSnapshot {
            snapshot: SnapshotChoice::Named(_),
            ..
        } => DefaultsGate::Required,
        Action::RdsRestoreSnapshot { .. } | Action::RdsRestorePointInTime { .. } => {
            DefaultsGate::Optional
        }
        _ => DefaultsGate::None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepModal {
    /// Indexes into the console's runbooks and that runbook's steps.
    pub runbook: usize,
    pub step: usize,
    /// The step's inputs as typed, in the step's order.
    pub inputs: Vec<String>,
    pub phrase: String,
    pub override_text: String,
    pub break_glass_text: String,
    pub defaults_text: String,
    /// The journal is TAMPERED: no claim can be its lock, so running a step needs
    /// `break glass: <reason>` (set by the model from the journal's state at each key).
    pub needs_break_glass: bool,
    pub field: Field,
    /// A checklist step's items, ticked by the operator one by one (empty for other steps).
    pub ticked: Vec<bool>,
}

/// What is still missing before Enter runs the step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waiting {
    Items { left: usize },
    Input { name: String, why: String },
    Phrase,
    Override,
    BreakGlass,
    Defaults,
}

impl Waiting {
    pub fn describe(&self) -> String {
        match self {
            Waiting::Items { left } => {
                format!("{left} checklist item(s) not ticked (Space ticks the one marked)")
            }
            Waiting::Input { name, why } => format!("input `{name}`: {why}"),
            Waiting::Phrase => "type the confirm phrase exactly".into(),
            Waiting::Override => {
                "a precheck fails: type `override precheck: <reason>` to run it anyway".into()
            }
            Waiting::Defaults => {
                "no subnet group or security groups to restore into: type `override defaults: <reason>` to accept AWS's default VPC and security group".into()
            }
            Waiting::BreakGlass => {
                "the journal is TAMPERED: type `break glass: <reason>` to run it anyway (or `J` to continue the journal first)".into()
            }
        }
    }
}

/// Why a typed input is not valid for its kind (`None`: it is).
pub fn invalid(input: &Input, value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return Some("empty".into());
    }
    match input.kind {
        InputKind::Text => None,
        InputKind::Integer => v
            .parse::<i64>()
            .err()
            .map(|_| format!("`{v}` is not a whole number")),
        InputKind::Rfc3339 => v
            .parse::<jiff::Timestamp>()
            .err()
            .map(|_| format!("`{v}` is not an RFC 3339 time (e.g. 2024-01-15T14:30:00Z)")),
    }
}

impl StepModal {
    pub fn new(runbook: usize, step: usize, s: &Step) -> StepModal {
        let items = checklist(s).len();
        StepModal {
            runbook,
            step,
            inputs: vec![String::new(); s.inputs.len()],
            phrase: String::new(),
            override_text: String::new(),
            break_glass_text: String::new(),
            defaults_text: String::new(),
            needs_break_glass: false,
            field: if items > 0 {
                Field::Item(0)
            } else if s.inputs.is_empty() {
                Field::Phrase
            } else {
                Field::Input(0)
            },
            ticked: vec![false; items],
        }
    }

    /// What must be typed: the step's phrase, then each input as typed (DESIGN: the inputs
    /// become part of the phrase, so a point-in-time restore's time is read twice).
    pub fn required_phrase(&self, step: &Step) -> String {
        let mut p = step.confirm.clone();
        for v in &self.inputs {
            p.push(' ');
            p.push_str(v.trim());
        }
        p
    }

    /// The override's reason, if the override line is well formed.
    pub fn override_reason(&self) -> Option<String> {
        let reason = self
            .override_text
            .trim()
            .strip_prefix(OVERRIDE_PREFIX)?
            .trim();
        (!reason.is_empty()).then(|| reason.to_string())
    }

    /// The `override defaults` reason, if the line is well formed.
    pub fn defaults_reason(&self) -> Option<String> {
        let reason = self
            .defaults_text
            .trim()
            .strip_prefix(OVERRIDE_DEFAULTS_PREFIX)?
            .trim();
        (!reason.is_empty()).then(|| reason.to_string())
    }

    /// The break-glass reason, if the line is well formed.
    pub fn break_glass_reason(&self) -> Option<String> {
        let reason = self
            .break_glass_text
            .trim()
            .strip_prefix(BREAK_GLASS_PREFIX)?
            .trim();
        (!reason.is_empty()).then(|| reason.to_string())
    }

    /// What Enter still waits for; `prechecks_pass` from the live values.
    pub fn waiting(&self, step: &Step, prechecks_pass: bool) -> Option<Waiting> {
        let left = self.ticked.iter().filter(|t| !**t).count();
        if left > 0 {
            return Some(Waiting::Items { left });
        }
        for (input, value) in step.inputs.iter().zip(&self.inputs) {
            if let Some(why) = invalid(input, value) {
                return Some(Waiting::Input {
                    name: input.name.clone(),
                    why,
                });
            }
        }
        // Exactly: no trimming, no case folding; and never an empty phrase (a runbook whose
        // phrase came out empty must not run on a bare Enter).
        if step.confirm.trim().is_empty() || self.phrase != self.required_phrase(step) {
            return Some(Waiting::Phrase);
        }
        if !prechecks_pass && self.override_reason().is_none() {
            return Some(Waiting::Override);
        }
        if self.needs_break_glass && self.break_glass_reason().is_none() {
            return Some(Waiting::BreakGlass);
        }
        if defaults_gate(step) == DefaultsGate::Required && self.defaults_reason().is_none() {
            return Some(Waiting::Defaults);
        }
        None
    }

    fn fields(&self, step: &Step, prechecks_pass: bool) -> Vec<Field> {
        let mut f: Vec<Field> = (0..self.ticked.len()).map(Field::Item).collect();
        f.extend((0..step.inputs.len()).map(Field::Input));
        f.push(Field::Phrase);
        if !prechecks_pass {
            f.push(Field::Override);
        }
        if self.needs_break_glass {
            f.push(Field::BreakGlass);
        }
        if defaults_gate(step) != DefaultsGate::None {
            f.push(Field::Defaults);
        }
        f
    }

    fn current(&mut self) -> &mut String {
        match self.field {
            Field::Input(i) => match self.inputs.get_mut(i) {
                Some(s) => s,
                None => &mut self.phrase,
            },
            // Items take no text: typing goes to the phrase.
            Field::Item(_) | Field::Phrase => &mut self.phrase,
            Field::Override => &mut self.override_text,
            Field::BreakGlass => &mut self.break_glass_text,
            Field::Defaults => &mut self.defaults_text,
        }
    }

    /// Handles a key; true when Enter was pressed and nothing is waiting (run it).
    pub fn on_key(&mut self, key: &Key, step: &Step, prechecks_pass: bool) -> bool {
        let fields = self.fields(step, prechecks_pass);
        if !fields.contains(&self.field) {
            self.field = Field::Phrase;
        }
        let at = fields.iter().position(|f| *f == self.field).unwrap_or(0);
        match key {
            Key::Enter => return self.waiting(step, prechecks_pass).is_none(),
            Key::Tab | Key::Down => self.field = fields[(at + 1) % fields.len()],
            Key::BackTab | Key::Up => self.field = fields[(at + fields.len() - 1) % fields.len()],
            Key::Char(' ') if matches!(self.field, Field::Item(_)) => {
                if let Field::Item(i) = self.field
                    && let Some(t) = self.ticked.get_mut(i)
                {
                    *t = !*t;
                    // On to the next item, so ticking a list is Space, Space, Space.
                    if *t {
                        self.field = fields[(at + 1) % fields.len()];
                    }
                }
            }
            Key::Backspace => {
                self.current().pop();
            }
            Key::Char(c) => push(self.current(), &c.to_string()),
            Key::Paste(text) => push(self.current(), text),
            _ => {}
        }
        false
    }
}

/// A checklist step's items (none for other steps).
pub fn checklist(step: &Step) -> &[String] {
    match &step.action {
        crate::config::Action::Checklist { items } => items,
        _ => &[],
    }
}

fn push(field: &mut String, text: &str) {
    let room = FIELD_MAX.saturating_sub(field.chars().count());
    field.extend(text.chars().filter(|c| !c.is_control()).take(room));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Action, Precheck};

    fn step(inputs: Vec<Input>) -> Step {
        Step {
            id: "promote".into(),
            title: "Promote".into(),
            key: 'p',
            action: Action::RdsPromoteReadReplica {
                instance: "dr".into(),
                region: "us-west-2".into(),
            },
            confirm: "us-West-2".into(),
            requires: vec![],
            precheck: vec![Precheck::State {
                component: "dr".into(),
                state: crate::config::ExpectedState::Up,
            }],
            verify: None,
            inputs,
            component: None,
        }
    }

    fn type_text(m: &mut StepModal, s: &Step, pass: bool, text: &str) -> bool {
        let mut run = false;
        for c in text.chars() {
            run |= m.on_key(&Key::Char(c), s, pass);
        }
        run
    }

    #[test]
    fn enter_runs_only_on_the_exact_phrase() {
        let s = step(vec![]);
        let mut m = StepModal::new(0, 0, &s);
        assert!(!m.on_key(&Key::Enter, &s, true), "nothing runs by default");
        type_text(&mut m, &s, true, "us-west-2");
        assert!(!m.on_key(&Key::Enter, &s, true), "case-sensitive");
        m.phrase.clear();
        m.on_key(&Key::Paste("us-West-2 ".into()), &s, true);
        assert!(!m.on_key(&Key::Enter, &s, true), "no trimming");
        m.on_key(&Key::Backspace, &s, true);
        assert!(m.on_key(&Key::Enter, &s, true));
    }

    #[test]
    fn a_tampered_journal_needs_break_glass_with_a_reason_after_the_phrase() {
        let s = step(vec![]);
        let mut m = StepModal::new(0, 0, &s);
        m.needs_break_glass = true;
        type_text(&mut m, &s, true, "us-West-2");
        assert_eq!(m.waiting(&s, true), Some(Waiting::BreakGlass));
        assert!(
            !m.on_key(&Key::Enter, &s, true),
            "the phrase alone runs nothing"
        );
        m.on_key(&Key::Tab, &s, true);
        assert_eq!(m.field, Field::BreakGlass);
        type_text(&mut m, &s, true, "break glass:   ");
        assert!(!m.on_key(&Key::Enter, &s, true), "a reason is needed");
        type_text(&mut m, &s, true, "region gone");
        assert_eq!(m.break_glass_reason().as_deref(), Some("region gone"));
        assert!(m.on_key(&Key::Enter, &s, true));
        // Not tampered: no such field, nothing asked.
        let mut plain = StepModal::new(0, 0, &s);
        type_text(&mut plain, &s, true, "us-West-2");
        plain.on_key(&Key::Tab, &s, true);
        assert_eq!(plain.field, Field::Phrase);
        assert!(plain.on_key(&Key::Enter, &s, true));
    }

    #[test]
    fn two_gates_need_two_lines_and_one_reason_never_clears_both() {
        let s = step(vec![]);
        let mut m = StepModal::new(0, 0, &s);
        m.needs_break_glass = true;
        type_text(&mut m, &s, false, "us-West-2");
        m.on_key(&Key::Tab, &s, false);
        assert_eq!(m.field, Field::Override);
        // The break-glass words in the override's line clear neither gate.
        type_text(&mut m, &s, false, "break glass: both");
        assert_eq!(m.waiting(&s, false), Some(Waiting::Override));
        m.override_text.clear();
        type_text(&mut m, &s, false, "override precheck: lag read by hand");
        assert_eq!(m.waiting(&s, false), Some(Waiting::BreakGlass));
        assert!(!m.on_key(&Key::Enter, &s, false));
        m.on_key(&Key::Tab, &s, false);
        assert_eq!(m.field, Field::BreakGlass);
        type_text(&mut m, &s, false, "override precheck: x");
        assert!(!m.on_key(&Key::Enter, &s, false), "the other gate's words");
        m.break_glass_text.clear();
        type_text(&mut m, &s, false, "break glass: region gone");
        assert!(m.on_key(&Key::Enter, &s, false));
    }

    #[test]
    fn a_failing_precheck_needs_an_override_with_a_reason() {
        let s = step(vec![]);
        let mut m = StepModal::new(0, 0, &s);
        type_text(&mut m, &s, false, "us-West-2");
        assert_eq!(m.waiting(&s, false), Some(Waiting::Override));
        m.on_key(&Key::Tab, &s, false);
        assert_eq!(m.field, Field::Override);
        // The bare word of another gate's line is not this gate's.
        type_text(&mut m, &s, false, "override: stale");
        assert_eq!(m.override_reason(), None);
        m.override_text.clear();
        type_text(&mut m, &s, false, "override precheck:  ");
        assert!(!m.on_key(&Key::Enter, &s, false), "a reason is needed");
        type_text(&mut m, &s, false, "DR replica checked by hand");
        assert!(m.on_key(&Key::Enter, &s, false));
        assert_eq!(
            m.override_reason().as_deref(),
            Some("DR replica checked by hand")
        );
    }

    #[test]
    fn inputs_must_be_valid_for_their_kind() {
        let s = step(vec![Input {
            name: "time".into(),
            kind: InputKind::Rfc3339,
            prompt: None,
        }]);
        let mut m = StepModal::new(0, 0, &s);
        assert_eq!(m.field, Field::Input(0));
        type_text(&mut m, &s, true, "yesterday");
        m.on_key(&Key::Tab, &s, true);
        type_text(&mut m, &s, true, "us-West-2");
        assert!(matches!(m.waiting(&s, true), Some(Waiting::Input { .. })));
        assert!(!m.on_key(&Key::Enter, &s, true));
        m.inputs[0] = "2024-01-15T14:30:00Z".into();
        assert!(
            !m.on_key(&Key::Enter, &s, true),
            "the input is part of the phrase"
        );
        type_text(&mut m, &s, true, " 2024-01-15T14:30:00Z");
        assert!(m.on_key(&Key::Enter, &s, true));
    }

    #[test]
    fn a_checklist_needs_every_item_ticked_by_the_operator_then_its_phrase() {
        let mut s = step(vec![]);
        s.action = Action::Checklist {
            items: vec!["region really down".into(), "management called".into()],
        };
        let mut m = StepModal::new(0, 0, &s);
        assert_eq!(m.field, Field::Item(0));
        m.on_key(&Key::Char(' '), &s, true);
        assert_eq!(m.ticked, [true, false]);
        assert_eq!(m.field, Field::Item(1), "on to the next item");
        m.on_key(&Key::Tab, &s, true);
        type_text(&mut m, &s, true, "us-West-2");
        assert_eq!(m.waiting(&s, true), Some(Waiting::Items { left: 1 }));
        assert!(!m.on_key(&Key::Enter, &s, true));
        m.field = Field::Item(1);
        m.on_key(&Key::Char(' '), &s, true);
        assert!(m.on_key(&Key::Enter, &s, true));
    }

    #[test]
    fn an_empty_phrase_never_runs_on_a_bare_enter() {
        let mut s = step(vec![]);
        s.confirm = " ".into();
        let mut m = StepModal::new(0, 0, &s);
        m.phrase = " ".into();
        assert!(!m.on_key(&Key::Enter, &s, true));
        assert_eq!(m.waiting(&s, true), Some(Waiting::Phrase));
    }

    #[test]
    fn a_restore_with_nowhere_to_land_waits_for_override_defaults() {
        use crate::config::{Placement, SnapshotChoice};
        let restore = |snapshot: SnapshotChoice, placement: Placement| {
            let mut s = step(vec![]);
            s.confirm = "restore us-west-2/db-restored".into();
            s.precheck.clear();
            s.action = Action::RdsRestoreSnapshot {
                snapshot,
                target: "db-restored".into(),
                instance_class: None,
                region: "us-west-2".into(),
                placement,
            };
            s
        };
        let named = restore(SnapshotChoice::Named("snap-1".into()), Placement::default());
        assert_eq!(defaults_gate(&named), DefaultsGate::Required);
        let mut m = StepModal::new(0, 0, &named);
        for c in "restore us-west-2/db-restored".chars() {
            m.on_key(&Key::Char(c), &named, true);
        }
        assert_eq!(m.waiting(&named, true), Some(Waiting::Defaults));
        // The defaults line is the next field; a bare prefix is no reason.
        m.on_key(&Key::Tab, &named, true);
        assert_eq!(m.field, Field::Defaults);
        for c in "override defaults:".chars() {
            m.on_key(&Key::Char(c), &named, true);
        }
        assert!(!m.on_key(&Key::Enter, &named, true));
        for c in " apps follow".chars() {
            m.on_key(&Key::Char(c), &named, true);
        }
        assert_eq!(m.defaults_reason().as_deref(), Some("apps follow"));
        assert!(m.on_key(&Key::Enter, &named, true));
        // The newest of an instance: copied at run time, the override optional.
        let latest = restore(SnapshotChoice::LatestOf("db".into()), Placement::default());
        assert_eq!(defaults_gate(&latest), DefaultsGate::Optional);
        // Configured: no gate at all.
        let placed = restore(
            SnapshotChoice::Named("snap-1".into()),
            Placement {
                subnet_group: Some("db-dr".into()),
                security_groups: Some(vec!["sg-1".into()]),
                ..Placement::default()
            },
        );
        assert_eq!(defaults_gate(&placed), DefaultsGate::None);
    }
}
