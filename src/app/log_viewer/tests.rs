use std::path::PathBuf;

use super::*;
use crate::app::testkit::{Rig, t};
use crate::app::{EntryKind, Event, JournalEvent, Panel, update};
use crate::config::{Action, Runbook, Step};

fn command_step(id: &str, key: char) -> Step {
    Step {
        id: id.into(),
        title: format!("step {id}"),
        key,
        action: Action::Command {
            argv: vec!["true".into()],
            env: Default::default(),
            cwd: None,
            timeout: std::time::Duration::from_secs(60),
            region: None,
        },
        confirm: "go".into(),
        requires: vec![],
        precheck: vec![],
        verify: None,
        inputs: vec![],
        component: None,
    }
}

/// A console whose runbook has two command steps, both run by another console (as its
/// journal lines tell): `first` at t(10), `second` at t(20), each with its log.
fn rig() -> Rig {
    let mut rig = Rig::new(Vec::new());
    rig.state.runbooks = vec![Runbook {
        id: "rb".into(),
        title: "Runbook".into(),
        file: PathBuf::from("rb.toml"),
        level: None,
        steps: vec![command_step("first", 'f'), command_step("second", 's')],
    }];
    let ran = |step: &str, at: i64| {
        [
            (
                t(at),
                EntryKind::StepStarted {
                    runbook: "rb".into(),
                    step: step.into(),
                    pid: 7,
                    host: "elsewhere".into(),
                    start: None,
                },
            ),
            (
                t(at + 1),
                EntryKind::StepProcess {
                    runbook: "rb".into(),
                    step: step.into(),
                    pgid: 70,
                    start: 1,
                    timeout: jiff::SignedDuration::from_secs(60),
                    log: Some(format!("/j/incidents/i.steps/rb.{step}.{at}.log")),
                },
            ),
        ]
    };
    let lines: Vec<_> = ran("first", 10)
        .into_iter()
        .chain(ran("second", 20))
        .collect();
    rig.journal.write_all(&mut rig.state, lines);
    rig.state.view.focus = Panel::Runbooks;
    rig
}

fn asked(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::ReadStepLog { path } => Some(path.clone()),
            _ => None,
        })
        .collect()
}

fn answer(rig: &mut Rig, path: &str, tail: LogTail) {
    update(
        &mut rig.state,
        Event::Journal(JournalEvent::StepLog {
            path: path.into(),
            tail,
        }),
    );
}

#[test]
fn enter_on_the_runbooks_reads_the_log_of_the_step_that_ran_last_and_tab_the_next() {
    let mut rig = rig();
    let fx = update(&mut rig.state, Event::Key(Key::Enter));
    let second = "/j/incidents/i.steps/rb.second.20.log";
    assert_eq!(asked(&fx), [second]);
    let v = rig.state.log_viewer.as_ref().expect("open");
    assert_eq!((v.step.as_str(), v.asked), ("second", true));
    // Not asked again until answered.
    let fx = update(&mut rig.state, Event::Tick(t(30)));
    assert!(asked(&fx).is_empty());
    let lines: Vec<String> = (1..=50).map(|n| format!("line {n}")).collect();
    answer(&mut rig, second, Ok((lines.clone(), 350)));
    let v = rig.state.log_viewer.as_ref().expect("open");
    assert_eq!((v.lines.len(), v.size, v.back), (50, 350, 0));
    // An answer about another file changes nothing.
    answer(&mut rig, "/elsewhere.log", Ok((Vec::new(), 0)));
    assert_eq!(
        rig.state.log_viewer.as_ref().map(|v| v.lines.len()),
        Some(50)
    );
    // Read again each second while open.
    assert_eq!(asked(&update(&mut rig.state, Event::Tick(t(31)))), [second]);
    // Scrolled back, new lines keep the same lines on screen.
    update(&mut rig.state, Event::Key(Key::PageUp));
    assert_eq!(rig.state.log_viewer.as_ref().map(|v| v.back), Some(20));
    let more: Vec<String> = (1..=55).map(|n| format!("line {n}")).collect();
    answer(&mut rig, second, Ok((more, 400)));
    assert_eq!(rig.state.log_viewer.as_ref().map(|v| v.back), Some(25));
    // Tab: the other step's log.
    let fx = update(&mut rig.state, Event::Key(Key::Tab));
    assert_eq!(asked(&fx), ["/j/incidents/i.steps/rb.first.10.log"]);
    answer(
        &mut rig,
        "/j/incidents/i.steps/rb.first.10.log",
        Err("EACCES".into()),
    );
    let v = rig.state.log_viewer.as_ref().expect("open");
    assert_eq!(v.problem.as_deref(), Some("EACCES"));
    // Keys are the viewer's while it is open: `s` is no step key here.
    update(&mut rig.state, Event::Key(Key::Char('s')));
    assert!(rig.state.modal.is_none());
    update(&mut rig.state, Event::Key(Key::Esc));
    assert!(rig.state.log_viewer.is_none());
    assert!(asked(&update(&mut rig.state, Event::Tick(t(40)))).is_empty());
}

#[test]
fn a_runbook_without_a_logged_step_says_so() {
    let mut rig = Rig::new(Vec::new());
    rig.state.runbooks = vec![Runbook {
        id: "rb".into(),
        title: "Runbook".into(),
        file: PathBuf::from("rb.toml"),
        level: None,
        steps: vec![command_step("first", 'f')],
    }];
    rig.state.view.focus = Panel::Runbooks;
    let fx = update(&mut rig.state, Event::Key(Key::Enter));
    assert!(asked(&fx).is_empty());
    assert!(rig.state.log_viewer.is_none());
    assert!(
        rig.state
            .view
            .flash
            .as_deref()
            .is_some_and(|f| f.contains("no step of this runbook has a log yet"))
    );
}
