use std::path::PathBuf;

use proptest::prelude::*;

use super::*;
use crate::app::outcome::StepOutcome;
use crate::app::testkit::*;
use crate::app::{Effect, Entry, Event, Key, StepEvent, update};
use crate::config::Tier::Critical;
use crate::config::{Action, ExpectedState, Precheck, Verify};

fn step(id: &str, key: char, confirm: &str, requires: &[&str]) -> Step {
    Step {
        id: id.into(),
        title: format!("step {id}"),
        key,
        action: Action::RdsPromoteReadReplica {
            instance: "dr".into(),
            region: "us-west-2".into(),
        },
        confirm: confirm.into(),
        requires: requires.iter().map(|s| s.to_string()).collect(),
        precheck: vec![Precheck::State {
            component: "db".into(),
            state: ExpectedState::Down,
        }],
        verify: Some(Verify {
            component: "dr".into(),
            up_within: std::time::Duration::from_secs(600),
            expect: Default::default(),
        }),
        inputs: vec![],
        component: None,
    }
}

fn rig() -> Rig {
    rig_with(1)
}

/// The rig with the DR component confirmed after `dr_confirm` agreeing answers.
fn rig_with(dr_confirm: u32) -> Rig {
    let mut rig = Rig::new(vec![
        comp("db", Critical, 1),
        comp("dr", Critical, dr_confirm),
    ]);
    rig.state.runbooks = vec![Runbook {
        id: "failover".into(),
        title: "Failover".into(),
        file: PathBuf::from("f.toml"),
        level: None,
        steps: vec![
            step("sync", 's', "synced", &[]),
            step("promote", 'p', "dr-Replica", &["sync"]),
            Step {
                action: Action::Notify {
                    template: "initial".into(),
                    status: None,
                },
                verify: None,
                precheck: vec![],
                ..step("tell", 'i', "initial", &[])
            },
        ],
    }];
    rig.state.view.focus = crate::app::Panel::Runbooks;
    rig.state.targets = crate::app::message::Targets {
        slack: Some(crate::app::message::SlackTarget {
            channel: Some("#war".into()),
            webhook: false,
            audience: crate::config::Audience::Team,
        }),
        statuspage: Some(crate::app::message::PageTarget {
            page_id: Some("page".into()),
            components: Default::default(),
        }),
    };
    rig.state.can_send = true;
    rig.down(0, 1);
    rig.down(1, 1);
    let fx = vec![Effect::Declare {
        title: "db down".into(),
        level: crate::app::DrLevel::new(2).expect("2"),
        status: crate::app::IncidentStatus::Investigating,
        at: t(2),
    }];
    rig.journal.echo(&mut rig.state, &fx);
    rig
}

/// A composer may send as it stands: not resolved, or resolved with `resolve` typed and,
/// while a component is not UP, `override resolve: <reason>`.
pub(in crate::app) fn resolve_typed(c: &crate::app::compose::Compose, state: &State) -> bool {
    c.status != crate::app::IncidentStatus::Resolved
        || (c.resolve == "resolve"
            && (crate::app::compose::not_up(state).is_empty() || c.override_reason().is_some()))
}

/// Effects that would send an update (a `u` or a notify step).
fn posts(fx: &[Effect]) -> usize {
    fx.iter()
        .filter(|e| matches!(e, Effect::Post(_) | Effect::RunStep { post: Some(_), .. }))
        .count()
}

#[test]
fn a_notify_step_opens_the_composer_on_its_template_and_sends_through_the_claim() {
    let mut rig = rig();
    let fx = rig.key(Key::Char('i'));
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::Append(Entry {
                kind: EntryKind::StepRequested { .. },
                ..
            })
        )),
        "{fx:?}"
    );
    let c = rig
        .state
        .compose
        .as_ref()
        .expect("the composer is the step's modal");
    assert_eq!(c.template, crate::app::message::Template::Initial);
    assert_eq!(c.step, Some(("failover".to_string(), "tell".to_string())));
    assert!(
        rig.key(Key::Enter).is_empty(),
        "the public page needs `publish`"
    );
    // Text → Public → ETA → Publish.
    rig.key(Key::Tab);
    rig.key(Key::Tab);
    rig.key(Key::Tab);
    let fx = type_text(&mut rig, "publish");
    assert!(fx.is_empty());
    let fx = rig.key(Key::Enter);
    assert!(rig.state.compose.is_none());
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Append(Entry { kind: EntryKind::StepConfirmed { step, .. }, .. }) if step == "tell"
    )));
    let post = fx.iter().find_map(|e| match e {
        Effect::RunStep {
            step,
            post: Some(out),
            ..
        } if step == "tell" => Some(out.clone()),
        _ => None,
    });
    let out = post.expect("the claim carries the update");
    assert_eq!(out.journal, "memory");
    assert_eq!(
        out.update.to,
        vec![
            crate::app::message::Channel::Slack,
            crate::app::message::Channel::StatusPage
        ]
    );
    assert!(out.update.text.contains("Situation"));
}

/// The claim granted, the model decides what happens (DESIGN: the runtime only carries
/// out): a checklist and a notify step end there, anything else goes to the executor.
#[test]
fn a_granted_claim_ends_the_consoles_own_steps_and_hands_the_rest_to_the_executor() {
    let mut rig = rig();
    rig.state.runbooks[0].steps.push(Step {
        action: Action::Checklist {
            items: vec!["look".into(), "see".into()],
        },
        verify: None,
        precheck: vec![],
        ..step("look", 'z', "looked", &[])
    });
    let grant = |rig: &mut Rig, step: &str| {
        update(
            &mut rig.state,
            Event::Step(StepEvent::Claimed {
                runbook: "failover".into(),
                step: step.into(),
                granted: true,
                why: None,
            }),
        )
    };
    let finished = |fx: &[Effect]| {
        fx.iter().find_map(|e| match e {
            Effect::Append(Entry {
                kind:
                    EntryKind::StepFinished {
                        step,
                        outcome: StepResult::Succeeded,
                        detail,
                        ..
                    },
                ..
            }) => Some((step.clone(), detail.clone())),
            _ => None,
        })
    };
    let executes = |fx: &[Effect]| {
        fx.iter()
            .filter(|e| matches!(e, Effect::Execute { .. }))
            .count()
    };

    // An executor's step: the grant asks the executor, with what was typed.
    rig.key(Key::Char('s'));
    type_text(&mut rig, "synced");
    let fx = update(&mut rig.state, Event::Key(Key::Enter));
    assert_eq!(runs(&fx), 1);
    assert_eq!(executes(&fx), 0, "nothing runs before the claim: {fx:?}");
    let fx = grant(&mut rig, "sync");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Execute { step, .. } if step == "sync")),
        "{fx:?}"
    );
    assert_eq!(finished(&fx), None);

    // A checklist: ticked in the modal, ended by the grant; no executor.
    rig.key(Key::Char('z'));
    rig.key(Key::Char(' '));
    rig.key(Key::Char(' '));
    type_text(&mut rig, "looked");
    let fx = update(&mut rig.state, Event::Key(Key::Enter));
    assert_eq!(runs(&fx), 1);
    let fx = grant(&mut rig, "look");
    assert_eq!(executes(&fx), 0, "{fx:?}");
    assert_eq!(
        finished(&fx),
        Some((
            "look".to_string(),
            "2 item(s) ticked by the operator".to_string()
        ))
    );

    // A notify step: the grant queues its update, then ends it; no executor.
    rig.key(Key::Char('i'));
    for _ in 0..3 {
        rig.key(Key::Tab);
    }
    type_text(&mut rig, "publish");
    let fx = update(&mut rig.state, Event::Key(Key::Enter));
    assert_eq!(posts(&fx), 1);
    let fx = grant(&mut rig, "tell");
    assert_eq!(executes(&fx), 0, "{fx:?}");
    let post = fx.iter().position(|e| matches!(e, Effect::Post(_)));
    let end = fx.iter().position(|e| {
        matches!(
            e,
            Effect::Append(Entry {
                kind: EntryKind::StepFinished { .. },
                ..
            })
        )
    });
    assert!(
        matches!((post, end), (Some(p), Some(f)) if p < f),
        "queued, then ended: {fx:?}"
    );
    let (step, detail) = finished(&fx).expect("ended");
    assert_eq!(step, "tell");
    assert!(
        detail.contains("update queued for slack and statuspage"),
        "{detail}"
    );

    // A claim refused runs nothing, and a later grant of it (not asked) neither.
    rig.key(Key::Char('s'));
    type_text(&mut rig, "synced");
    update(&mut rig.state, Event::Key(Key::Enter));
    let refused = update(
        &mut rig.state,
        Event::Step(StepEvent::Claimed {
            runbook: "failover".into(),
            step: "sync".into(),
            granted: false,
            why: Some("already running".into()),
        }),
    );
    assert_eq!(executes(&refused), 0);
    assert_eq!(executes(&grant(&mut rig, "sync")), 0);
}

#[test]
fn u_composes_and_sends_once_and_read_only_or_no_incident_cannot() {
    let mut rig = self::rig();
    rig.state.view.focus = crate::app::Panel::Health;
    rig.key(Key::Char('u'));
    assert!(rig.state.compose.is_some());
    for _ in 0..3 {
        rig.key(Key::Tab);
    }
    type_text(&mut rig, "publish");
    let fx = rig.key(Key::Enter);
    assert_eq!(posts(&fx), 1);
    // The incident's first update is its initial notification...
    assert!(
        matches!(&fx[0], Effect::Post(out) if out.update.template == crate::app::message::Template::Initial)
    );
    // ... and once one is queued, `u` opens on an update.
    rig.key(Key::Char('u'));
    assert_eq!(
        rig.state.compose.as_ref().map(|c| c.template),
        Some(crate::app::message::Template::Update)
    );
    rig.key(Key::Esc);
    let mut ro = self::rig();
    ro.state.read_only = true;
    ro.state.view.focus = crate::app::Panel::Health;
    assert!(ro.key(Key::Char('u')).is_empty());
    assert!(ro.state.compose.is_none());
    assert_eq!(
        ro.state.view.flash.as_deref(),
        Some("read-only console: cannot send updates")
    );
    let mut none = Rig::new(vec![comp("db", Critical, 1)]);
    none.state.targets = ro.state.targets.clone();
    none.state.can_send = true;
    none.key(Key::Char('u'));
    assert!(none.state.compose.is_none());
    assert!(
        none.state
            .view
            .flash
            .as_deref()
            .is_some_and(|f| f.starts_with("no incident declared"))
    );
}

/// The journal's output summary counts every line printed, and says how many the
/// screen still holds: never the screen's ring as if it were the whole output.
#[test]
fn the_output_summary_counts_what_was_printed_not_what_was_kept() {
    let mut rig = rig();
    rig.all_up(0);
    rig.key(Key::Char('s'));
    type_text(&mut rig, "synced");
    rig.key(Key::Enter);
    for i in 0..250 {
        let fx = update(
            &mut rig.state,
            Event::Step(StepEvent::Progress {
                runbook: "failover".into(),
                step: "sync".into(),
                progress: crate::app::outcome::StepProgress::Output(format!("line {i}")),
            }),
        );
        rig.journal.echo(&mut rig.state, &fx);
    }
    let fx = finish(
        &mut rig,
        "sync",
        StepOutcome::Succeeded {
            summary: "done".into(),
        },
    );
    let summary = entries(&fx).into_iter().find_map(|k| match k {
        EntryKind::StepOutput { summary, .. } => Some(summary),
        _ => None,
    });
    assert_eq!(
        summary.as_deref(),
        Some("250 lines of output, 200 kept on screen")
    );
}

/// Two steps whose verdicts come in one event are journaled in one order, every run
/// (runbook, then step id), never in a hash map's.
#[test]
fn two_verdicts_in_one_event_are_journaled_in_step_order() {
    let mut rig = rig();
    rig.all_up(0);
    let promote = &mut rig.state.runbooks[0].steps[1];
    promote.precheck.clear();
    promote.requires.clear();
    for (key, phrase, id) in [('s', "synced", "sync"), ('p', "dr-Replica", "promote")] {
        rig.key(Key::Char(key));
        type_text(&mut rig, phrase);
        let fx = rig.key(Key::Enter);
        assert!(
            fx.iter().any(|e| matches!(e, Effect::RunStep { .. })),
            "{id}: {fx:?}"
        );
        finish(
            &mut rig,
            id,
            StepOutcome::Succeeded {
                summary: String::new(),
            },
        );
    }
    // No fresh answer of dr: both deadlines pass in the same tick.
    let fx = rig.tick(10_000);
    let order: Vec<String> = entries(&fx)
        .into_iter()
        .filter_map(|k| match k {
            EntryKind::StepVerified { step, .. } => Some(step),
            _ => None,
        })
        .collect();
    assert_eq!(order, ["promote", "sync"]);
}

#[test]
fn override_defaults_travels_with_the_confirmation_and_is_journaled() {
    let mut rig = rig();
    rig.all_up(0);
    rig.state.runbooks[0].steps[0].action = Action::RdsRestoreSnapshot {
        snapshot: crate::config::SnapshotChoice::Named("snap-1".into()),
        target: "db-restored".into(),
        instance_class: None,
        region: "us-west-2".into(),
        placement: Default::default(),
    };
    rig.state.runbooks[0].steps[0].precheck.clear();
    rig.key(Key::Char('s'));
    type_text(&mut rig, "synced");
    let fx = rig.key(Key::Enter);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::RunStep { .. })),
        "no network, no override: nothing runs"
    );
    rig.key(Key::Tab);
    type_text(&mut rig, "override defaults: the apps follow later");
    let fx = rig.key(Key::Enter);
    let key = crate::app::modal::OVERRIDE_DEFAULTS_INPUT;
    assert!(
        fx.iter().any(|e| matches!(e, Effect::RunStep { inputs, .. }
            if inputs.get(key).map(String::as_str) == Some("the apps follow later"))),
        "{fx:?}"
    );
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Append(Entry { kind: EntryKind::StepConfirmed { inputs, .. }, .. })
            if inputs.contains_key(key))),
        "journaled: {fx:?}"
    );
}

fn type_text(rig: &mut Rig, text: &str) -> Vec<Effect> {
    let mut fx = Vec::new();
    for c in text.chars() {
        fx.extend(rig.key(Key::Char(c)));
    }
    fx
}

fn runs(fx: &[Effect]) -> usize {
    fx.iter()
        .filter(|e| matches!(e, Effect::RunStep { .. }))
        .count()
}

fn state(rig: &Rig, i: usize) -> StepState {
    let rb = &rig.state.runbooks[0];
    state_of(&rig.state, rb, &rb.steps[i])
}

fn finish(rig: &mut Rig, id: &str, outcome: StepOutcome) -> Vec<Effect> {
    let fx = update(
        &mut rig.state,
        Event::Step(StepEvent::Finished {
            runbook: "failover".into(),
            step: id.into(),
            outcome,
        }),
    );
    rig.journal.echo(&mut rig.state, &fx);
    fx
}

#[test]
fn the_arrows_stop_at_the_ends_and_name_the_runbook_the_keys_now_belong_to() {
    let mut rig = rig();
    let mut second = rig.state.runbooks[0].clone();
    second.id = "failback".into();
    second.title = "Failback".into();
    rig.state.runbooks.push(second);
    rig.key(Key::Up);
    assert_eq!(rig.state.view.runbook, 0, "no wrap to the last");
    assert!(
        rig.state
            .view
            .flash
            .as_deref()
            .is_some_and(|f| f.starts_with("already the first runbook: Failover")),
        "{:?}",
        rig.state.view.flash
    );
    rig.key(Key::Down);
    assert_eq!(rig.state.view.runbook, 1);
    assert_eq!(
        rig.state.view.flash.as_deref(),
        Some("runbook 2/2: Failback — its step keys are live")
    );
    rig.key(Key::Down);
    assert_eq!(rig.state.view.runbook, 1, "no wrap to the first");
    assert!(
        rig.state
            .view
            .flash
            .as_deref()
            .is_some_and(|f| f.starts_with("already the last runbook (2/2)"))
    );
}

#[test]
fn while_the_journal_is_tampered_a_step_runs_only_by_break_glass_and_says_so() {
    let mut rig = rig();
    update(
        &mut rig.state,
        Event::Journal(crate::app::JournalEvent::Problem(Some(
            "JOURNAL TAMPERED: x.jsonl: seq 9 after seq 3".into(),
        ))),
    );
    rig.key(Key::Char('s'));
    type_text(&mut rig, "synced");
    assert_eq!(runs(&rig.key(Key::Enter)), 0, "the phrase alone");
    rig.key(Key::Tab);
    type_text(&mut rig, "break glass: sync by hand");
    let fx = rig.key(Key::Enter);
    let glass: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::RunStep { break_glass, .. } => Some(break_glass.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(glass, [Some("sync by hand".to_string())]);
    assert!(entries(&fx).iter().any(|k| matches!(
        k,
        EntryKind::StepConfirmed { break_glass: Some(r), .. } if r == "sync by hand"
    )));
}

#[test]
fn a_step_runs_only_on_its_exact_phrase_and_its_life_is_journaled() {
    let mut rig = rig();
    assert_eq!(state(&rig, 0), StepState::Ready);
    assert!(matches!(state(&rig, 1), StepState::Blocked { .. }));
    // Blocked: the key says why and opens nothing.
    rig.key(Key::Char('p'));
    assert!(rig.state.modal.is_none());
    assert!(
        rig.state
            .view
            .flash
            .as_deref()
            .is_some_and(|f| f.contains("blocked"))
    );

    let fx = rig.key(Key::Char('s'));
    assert!(matches!(
        entries(&fx)[..],
        [EntryKind::StepRequested { .. }]
    ));
    assert!(rig.state.modal.is_some());
    type_text(&mut rig, "Synced");
    assert_eq!(runs(&rig.key(Key::Enter)), 0, "wrong phrase: nothing runs");
    for _ in 0..6 {
        rig.key(Key::Backspace);
    }
    type_text(&mut rig, "synced");
    let fx = rig.key(Key::Enter);
    assert_eq!(runs(&fx), 1);
    assert!(rig.state.modal.is_none());
    assert!(matches!(state(&rig, 0), StepState::Running { .. }));

    let fx = finish(
        &mut rig,
        "sync",
        StepOutcome::Succeeded {
            summary: "caught up".into(),
        },
    );
    assert!(entries(&fx).iter().any(|k| matches!(
        k,
        EntryKind::StepFinished {
            outcome: StepResult::Succeeded,
            ..
        }
    )));
    assert!(matches!(state(&rig, 0), StepState::Verifying { .. }));
    assert_eq!(
        state(&rig, 1),
        StepState::Ready,
        "a required step counts once it succeeded, while it is verified"
    );
    // The component comes up: verified.
    let fx = rig.up(1, 30);
    assert!(
        entries(&fx)
            .iter()
            .any(|k| matches!(k, EntryKind::StepVerified { verified: true, .. }))
    );
    assert_eq!(
        state(&rig, 0),
        StepState::Succeeded {
            verified: Some(true)
        }
    );
    assert_eq!(state(&rig, 1), StepState::Ready);
}

#[test]
fn a_step_running_elsewhere_cannot_be_started_here() {
    let mut rig = rig();
    rig.journal.echo(
        &mut rig.state,
        &[Effect::Append(crate::app::Entry {
            at: t(2),
            kind: EntryKind::StepStarted {
                runbook: "failover".into(),
                step: "sync".into(),
                pid: 4242,
                host: "other".into(),
                start: None,
            },
        })],
    );
    assert!(matches!(state(&rig, 0), StepState::Running { .. }));
    rig.key(Key::Char('s'));
    assert!(rig.state.modal.is_none());
    assert!(
        rig.state
            .view
            .flash
            .as_deref()
            .is_some_and(|f| f.contains("already running"))
    );
}

fn cancels(fx: &[Effect]) -> Vec<crate::app::Stop> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::CancelStep { stop, .. } => Some(*stop),
            _ => None,
        })
        .collect()
}

fn running_dialog(rig: &Rig) -> bool {
    matches!(rig.state.dialog, Some(crate::app::Dialog::Running { .. }))
}

#[test]
fn a_running_steps_key_stops_it_only_on_the_typed_word_cancel() {
    let mut rig = rig();
    rig.key(Key::Char('s'));
    type_text(&mut rig, "synced");
    assert_eq!(runs(&rig.key(Key::Enter)), 1);
    assert!(matches!(state(&rig, 0), StepState::Running { .. }));
    // Its key again: what runs it and how to stop it, nothing on a bare Enter.
    rig.key(Key::Char('s'));
    assert!(running_dialog(&rig));
    assert!(cancels(&rig.key(Key::Enter)).is_empty());
    let fx = type_text(&mut rig, "cance");
    assert!(cancels(&fx).is_empty());
    assert!(cancels(&rig.key(Key::Enter)).is_empty(), "not the word");
    rig.key(Key::Char('l'));
    let fx = rig.key(Key::Enter);
    // An API step of this console: its calls are abandoned, journaled first.
    assert_eq!(cancels(&fx), [crate::app::Stop::Task]);
    assert!(entries(&fx).iter().any(|k| matches!(
        k,
        EntryKind::StepOutput { summary, .. } if summary.starts_with("cancel typed by")
    )));
    assert!(rig.state.dialog.is_none());
}

#[test]
fn cancelling_a_command_step_signals_its_process_group() {
    let mut rig = rig();
    rig.state.runbooks[0].steps[0].action = Action::Command {
        argv: vec!["sleep".into(), "60".into()],
        env: Default::default(),
        cwd: None,
        timeout: std::time::Duration::from_secs(90),
        region: None,
    };
    rig.key(Key::Char('s'));
    type_text(&mut rig, "synced");
    rig.key(Key::Enter);
    let fx = update(
        &mut rig.state,
        Event::Step(StepEvent::Progress {
            runbook: "failover".into(),
            step: "sync".into(),
            progress: crate::app::outcome::StepProgress::Running {
                pgid: 4321,
                start: 99,
                log: None,
            },
        }),
    );
    // The program is journaled with its group and the step's timeout.
    assert!(entries(&fx).iter().any(|k| matches!(
        k,
        EntryKind::StepProcess { pgid: 4321, start: 99, timeout, .. }
            if *timeout == jiff::SignedDuration::from_secs(90)
    )));
    rig.journal.echo(&mut rig.state, &fx);
    rig.key(Key::Char('s'));
    type_text(&mut rig, "cancel");
    let fx = rig.key(Key::Enter);
    assert_eq!(
        cancels(&fx),
        [crate::app::Stop::Group {
            pgid: 4321,
            start: 99
        }]
    );
}

#[test]
fn a_claim_can_be_released_by_hand_with_a_reason_and_another_consoles_step_is_not_cancelled_here() {
    let mut rig = rig();
    rig.journal.echo(
        &mut rig.state,
        &[Effect::Append(crate::app::Entry {
            at: t(2),
            kind: EntryKind::StepStarted {
                runbook: "failover".into(),
                step: "sync".into(),
                pid: 4242,
                host: "other".into(),
                start: None,
            },
        })],
    );
    rig.key(Key::Char('s'));
    assert!(running_dialog(&rig));
    type_text(&mut rig, "cancel");
    let fx = rig.key(Key::Enter);
    assert!(cancels(&fx).is_empty(), "it runs in another console");
    assert!(
        rig.state
            .view
            .flash
            .as_deref()
            .is_some_and(|f| f.contains("cancel it there"))
    );
    rig.key(Key::Char('s'));
    type_text(&mut rig, "release:");
    assert!(
        entries(&rig.key(Key::Enter)).is_empty(),
        "a release needs its reason"
    );
    let fx = type_text(&mut rig, " its console's host was rebooted");
    assert!(entries(&fx).is_empty());
    let fx = rig.key(Key::Enter);
    assert!(entries(&fx).iter().any(|k| matches!(
        k,
        EntryKind::StepReleased { reason, pid: Some(4242), .. }
            if reason.contains("released by hand") && reason.contains("rebooted")
    )));
    assert!(matches!(state(&rig, 0), StepState::Interrupted));
}

#[test]
fn an_ending_console_hands_its_programs_over_and_releases_its_unfinished_calls() {
    let mut rig = rig();
    // `sync` is an API step under way; `promote` (made a command step) runs a program.
    rig.state.runbooks[0].steps[1].action = Action::Command {
        argv: vec!["sleep".into(), "60".into()],
        env: Default::default(),
        cwd: None,
        timeout: std::time::Duration::from_secs(90),
        region: None,
    };
    rig.state.runbooks[0].steps[1].requires.clear();
    rig.state.runbooks[0].steps[1].precheck.clear();
    for (key, phrase) in [('s', "synced"), ('p', "dr-Replica")] {
        rig.key(Key::Char(key));
        type_text(&mut rig, phrase);
        assert_eq!(runs(&rig.key(Key::Enter)), 1, "{key}");
    }
    let progress = |step: &str, p: crate::app::outcome::StepProgress| {
        Event::Step(StepEvent::Progress {
            runbook: "failover".into(),
            step: step.into(),
            progress: p,
        })
    };
    update(
        &mut rig.state,
        progress(
            "sync",
            crate::app::outcome::StepProgress::Status("PromoteReadReplica dr".into()),
        ),
    );
    let fx = update(
        &mut rig.state,
        progress(
            "promote",
            crate::app::outcome::StepProgress::Running {
                pgid: 77,
                start: 1,
                log: None,
            },
        ),
    );
    rig.journal.echo(&mut rig.state, &fx);
    assert_eq!(rig.state.own_runs(), 2);

    let fx = update(
        &mut rig.state,
        Event::HandOver {
            reason: "SIGTERM".into(),
        },
    );
    assert_eq!(
        entries(&fx),
        [EntryKind::StepOutput {
            runbook: "failover".into(),
            step: "promote".into(),
            summary:
                "console ended (SIGTERM); step still running (pgid 77): the recorder follows it"
                    .into(),
        }]
    );
    assert_eq!(rig.state.own_runs(), 1, "the API step is still awaited");
    let fx = update(
        &mut rig.state,
        Event::Abandon {
            reason: "SIGTERM".into(),
        },
    );
    assert!(
        entries(&fx).iter().any(|k| matches!(
            k,
            EntryKind::StepReleased { step, reason, .. } if step == "sync"
                && reason.contains("interrupted — verify by hand")
                && reason.contains("PromoteReadReplica dr — no answer had arrived")
        )),
        "{:?}",
        entries(&fx)
    );
    assert_eq!(rig.state.own_runs(), 0);
}

#[test]
fn a_step_key_opens_its_modal_from_any_panel_and_r_goes_to_the_runbooks() {
    let mut rig = rig();
    rig.state.runbooks.push(Runbook {
        id: "other".into(),
        title: "Other runbook".into(),
        file: PathBuf::from("o.toml"),
        level: None,
        steps: vec![Step {
            action: Action::Checklist {
                items: vec!["look".into()],
            },
            verify: None,
            precheck: vec![],
            ..step("look", 'z', "looked", &[])
        }],
    });
    rig.state.view.focus = crate::app::Panel::Health;
    // The selected runbook's step: its modal, whatever has the focus; the phrase still
    // guards it.
    rig.key(Key::Char('s'));
    assert!(rig.state.modal.is_some());
    assert_eq!(rig.state.view.focus, crate::app::Panel::Runbooks);
    rig.key(Key::Esc);
    // Another runbook's step: says where it is, opens nothing.
    rig.state.view.focus = crate::app::Panel::Timeline;
    assert!(rig.key(Key::Char('z')).is_empty());
    assert!(rig.state.modal.is_none());
    assert!(
        rig.state
            .view
            .flash
            .as_deref()
            .is_some_and(|f| f.contains("Other runbook") && f.contains("press R"))
    );
    // The timeline's own letters stay its own while it has the focus.
    rig.state.runbooks[0].steps[0].key = 'o';
    rig.key(Key::Char('o'));
    assert!(rig.state.modal.is_none());
    assert!(rig.state.view.oldest_first);
    rig.state.view.focus = crate::app::Panel::Health;
    rig.key(Key::Char('R'));
    assert_eq!(rig.state.view.focus, crate::app::Panel::Runbooks);
}

#[test]
fn verification_that_does_not_hold_is_journaled_as_not_verified() {
    let mut rig = rig();
    rig.key(Key::Char('s'));
    type_text(&mut rig, "synced");
    rig.key(Key::Enter);
    finish(
        &mut rig,
        "sync",
        StepOutcome::Succeeded {
            summary: String::new(),
        },
    );
    let fx = rig.tick(700);
    assert!(entries(&fx).iter().any(|k| matches!(
        k,
        EntryKind::StepVerified {
            verified: false,
            ..
        }
    )));
    assert_eq!(
        state(&rig, 0),
        StepState::Succeeded {
            verified: Some(false)
        }
    );
}

/// The rig with the DR component confirmed after 2 answers, and its verify expecting
/// the answer not to say "replica of".
fn rig_verifying_by_two_fresh_answers() -> Rig {
    let mut rig = rig_with(2);
    if let Some(v) = rig.state.runbooks[0].steps[0].verify.as_mut() {
        v.expect.not_contains = Some("replica of".into());
    }
    rig
}

fn verdicts(fx: &[Effect]) -> Vec<(bool, String)> {
    entries(fx)
        .iter()
        .filter_map(|k| match k {
            EntryKind::StepVerified {
                verified, detail, ..
            } => Some((*verified, detail.clone())),
            _ => None,
        })
        .collect()
}

fn up_saying(detail: &str) -> crate::app::Outcome {
    crate::app::Outcome::Up {
        latency: std::time::Duration::from_millis(20),
        detail: detail.into(),
    }
}

#[test]
fn verified_only_by_confirm_after_fresh_answers_that_say_what_the_step_was_for() {
    let mut rig = rig_verifying_by_two_fresh_answers();
    rig.key(Key::Char('s'));
    type_text(&mut rig, "synced");
    rig.key(Key::Enter);
    rig.tick(10);
    finish(
        &mut rig,
        "sync",
        StepOutcome::Succeeded {
            summary: String::new(),
        },
    );
    // Asked before the step ended, answered after: no evidence, so one fresh answer
    // after it is not yet two.
    assert!(verdicts(&rig.health_asked(1, 9, 12, up_saying("primary"))).is_empty());
    assert!(verdicts(&rig.health_asked(1, 15, 15, up_saying("primary"))).is_empty());
    // UP but still a replica: does not count, and breaks the run.
    assert!(verdicts(&rig.health_asked(1, 30, 30, up_saying("replica of db"))).is_empty());
    assert!(verdicts(&rig.health_asked(1, 45, 45, up_saying("primary"))).is_empty());
    assert!(matches!(state(&rig, 0), StepState::Verifying { .. }));
    let fx = rig.health_asked(1, 60, 60, up_saying("primary"));
    assert_eq!(
        verdicts(&fx),
        [(true, "dr UP ×2 at 22:14:05, 22:14:20".to_string())]
    );
}

#[test]
fn not_verified_at_the_deadline_names_the_last_evidence() {
    let mut rig = rig_verifying_by_two_fresh_answers();
    rig.key(Key::Char('s'));
    type_text(&mut rig, "synced");
    rig.key(Key::Enter);
    rig.tick(10);
    finish(
        &mut rig,
        "sync",
        StepOutcome::Succeeded {
            summary: String::new(),
        },
    );
    rig.health_asked(1, 15, 15, up_saying("primary"));
    rig.health_asked(1, 30, 30, up_saying("replica of db"));
    let fx = rig.tick(700);
    assert_eq!(
        verdicts(&fx),
        [(
            false,
            "not UP ×2 within 10m; last: dr UP but says \"replica of\" at 22:13:50".to_string()
        )]
    );
    // A step nothing can verify is done, never passed.
    assert_eq!(
        StepState::Succeeded { verified: None }.label(),
        "done (not verifiable)"
    );
}

#[test]
fn a_postcondition_read_by_the_executor_is_journaled_as_the_steps_verification() {
    let mut rig = rig();
    rig.key(Key::Char('s'));
    type_text(&mut rig, "synced");
    rig.key(Key::Enter);
    let fx = finish(
        &mut rig,
        "sync",
        StepOutcome::Checked {
            summary: "PromoteReadReplica accepted".into(),
            held: false,
            evidence: "not available with no replication source within 30m: last seen dr available, replica of db".into(),
        },
    );
    assert!(entries(&fx).iter().any(|k| matches!(
        k,
        EntryKind::StepFinished {
            outcome: StepResult::Succeeded,
            ..
        }
    )));
    assert_eq!(
        verdicts(&fx),
        [(
            false,
            "not available with no replication source within 30m: last seen dr available, replica of db".to_string()
        )]
    );
}

fn restored() -> crate::app::outcome::Postcondition {
    crate::app::outcome::Postcondition::RdsInstanceAvailable {
        region: "us-west-2".into(),
        instance: "restored".into(),
    }
}

/// The rig with its first step (no `verify`) claimed and running here.
fn rig_running_a_restore() -> Rig {
    let mut rig = rig();
    rig.state.runbooks[0].steps[0].verify = None;
    rig.key(Key::Char('s'));
    type_text(&mut rig, "synced");
    let fx = rig.key(Key::Enter);
    assert_eq!(runs(&fx), 1);
    rig
}

fn rereads(fx: &[Effect]) -> Vec<(String, crate::app::outcome::Postcondition)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::ReadPostcondition {
                step,
                postcondition,
                ..
            } => Some((step.clone(), postcondition.clone())),
            _ => None,
        })
        .collect()
}

fn reading(rig: &mut Rig, reading: crate::app::outcome::PostconditionReading) -> Vec<Effect> {
    let fx = update(
        &mut rig.state,
        Event::Step(StepEvent::PostconditionRead {
            runbook: "failover".into(),
            step: "sync".into(),
            reading,
        }),
    );
    rig.journal.echo(&mut rig.state, &fx);
    fx
}

#[test]
fn a_restore_still_creating_at_its_deadline_is_not_failed_and_the_recorder_finishes_it() {
    use crate::app::outcome::PostconditionReading as R;
    let mut rig = rig_running_a_restore();
    let fx = finish(
        &mut rig,
        "sync",
        StepOutcome::StillCreating {
            summary: "RestoreDBInstanceFromDBSnapshot accepted: restored is creating".into(),
            evidence: "still creating (status creating): restored creating".into(),
            postcondition: restored(),
        },
    );
    let kinds = entries(&fx);
    assert!(kinds.iter().any(|k| matches!(
        k,
        EntryKind::StepFinished {
            outcome: StepResult::Succeeded,
            ..
        }
    )));
    assert!(kinds.contains(&EntryKind::StepPending {
        runbook: "failover".into(),
        step: "sync".into(),
        postcondition: restored(),
        detail: "still creating (status creating): restored creating".into(),
    }));
    assert!(
        verdicts(&fx).is_empty(),
        "neither verified nor NOT verified"
    );
    let shown = state(&rig, 0);
    assert_eq!(
        shown,
        StepState::StillCreating {
            detail: "still creating (status creating): restored creating".into()
        }
    );
    assert_eq!(shown.label(), "still creating");

    // The recorder reads it again: once, then not while that read is out.
    assert_eq!(rereads(&rig.tick(1)), [("sync".to_string(), restored())]);
    assert!(rereads(&rig.tick(40)).is_empty(), "one read at a time");
    let fx = reading(
        &mut rig,
        R::StillCreating("still creating (status backing-up): restored backing-up".into()),
    );
    assert!(verdicts(&fx).is_empty());
    assert!(
        rig.state.step_log.back().is_some_and(
            |l| l.ends_with("still creating (status backing-up): restored backing-up")
        ),
        "{:?}",
        rig.state.step_log
    );
    assert!(matches!(state(&rig, 0), StepState::StillCreating { .. }));
    assert!(rereads(&rig.tick(60)).is_empty(), "30 s between reads");
    assert_eq!(rereads(&rig.tick(71)).len(), 1);
    let fx = reading(
        &mut rig,
        R::CannotRead("DescribeDBInstances: unreachable".into()),
    );
    assert!(verdicts(&fx).is_empty(), "no answer is no verdict");
    assert_eq!(rereads(&rig.tick(102)).len(), 1);
    let fx = reading(&mut rig, R::Held("restored available".into()));
    assert_eq!(verdicts(&fx), [(true, "restored available".to_string())]);
    assert!(entries(&fx).iter().any(|k| matches!(
        k,
        EntryKind::StepVerified { component, .. } if component == "restored"
    )));
    assert_eq!(
        state(&rig, 0),
        StepState::Succeeded {
            verified: Some(true)
        }
    );
    assert!(
        rereads(&rig.tick(200)).is_empty(),
        "settled: not read again"
    );
}

#[test]
fn a_restore_that_ends_failed_is_not_verified_and_only_the_recorder_reads_it() {
    use crate::app::outcome::PostconditionReading as R;
    let mut rig = rig_running_a_restore();
    finish(
        &mut rig,
        "sync",
        StepOutcome::StillCreating {
            summary: "accepted".into(),
            evidence: "still creating (status creating): restored creating".into(),
            postcondition: restored(),
        },
    );
    rig.state.journal.recording = false;
    assert!(rereads(&rig.tick(1)).is_empty(), "not the recorder");
    rig.state.journal.recording = true;
    rig.state.read_only = true;
    assert!(rereads(&rig.tick(2)).is_empty(), "an observer");
    rig.state.read_only = false;
    assert_eq!(rereads(&rig.tick(3)).len(), 1);
    let fx = reading(&mut rig, R::NotHeld("restored incompatible-restore".into()));
    assert_eq!(
        verdicts(&fx),
        [(false, "restored incompatible-restore".to_string())]
    );
    assert_eq!(
        state(&rig, 0),
        StepState::Succeeded {
            verified: Some(false)
        }
    );
}

#[test]
fn a_console_ending_while_its_restore_is_created_journals_it_still_creating() {
    let mut rig = rig_running_a_restore();
    let progress = |p| {
        Event::Step(StepEvent::Progress {
            runbook: "failover".into(),
            step: "sync".into(),
            progress: p,
        })
    };
    use crate::app::outcome::StepProgress;
    update(&mut rig.state, progress(StepProgress::Accepted(restored())));
    update(
        &mut rig.state,
        progress(StepProgress::Status(
            "waiting for restored available: restored creating".into(),
        )),
    );
    assert_eq!(rig.state.own_runs(), 1);
    assert_eq!(
        rig.state.own_runs_to_wait_for(),
        0,
        "an ending console does not wait for what any console can read later"
    );
    let fx = update(
        &mut rig.state,
        Event::Abandon {
            reason: "SIGHUP".into(),
        },
    );
    rig.journal.echo(&mut rig.state, &fx);
    let kinds = entries(&fx);
    assert!(
        !kinds
            .iter()
            .any(|k| matches!(k, EntryKind::StepReleased { .. })),
        "not interrupted: {kinds:?}"
    );
    assert!(kinds.iter().any(|k| matches!(
        k,
        EntryKind::StepFinished { outcome: StepResult::Succeeded, detail, .. }
            if detail == "accepted; the console ended (SIGHUP) while waiting for us-west-2/restored available"
    )), "{kinds:?}");
    assert!(
        kinds.contains(&EntryKind::StepPending {
            runbook: "failover".into(),
            step: "sync".into(),
            postcondition: restored(),
            detail: "waiting for restored available: restored creating".into(),
        }),
        "{kinds:?}"
    );
    assert_eq!(rig.state.own_runs(), 0);
    assert!(matches!(state(&rig, 0), StepState::StillCreating { .. }));
}

#[test]
fn a_terminal_too_small_opens_no_step_and_no_composer() {
    let mut rig = rig();
    rig.state.view.too_small = true;
    rig.key(Key::Char('s'));
    assert!(
        rig.state.modal.is_none(),
        "no modal whose data cannot be shown"
    );
    assert_eq!(
        rig.state.view.flash.as_deref(),
        Some("[s] step sync: terminal too small for steps (need 80×24)")
    );
    rig.key(Key::Char('u'));
    assert!(rig.state.compose.is_none());
    rig.state.view.too_small = false;
    rig.key(Key::Char('s'));
    assert!(rig.state.modal.is_some(), "at 80×24 it opens");
}

#[test]
fn up_before_the_step_ended_does_not_verify_it() {
    let mut rig = rig();
    rig.up(1, 2); // the verify component is already UP before the step runs
    rig.key(Key::Char('s'));
    type_text(&mut rig, "synced");
    rig.key(Key::Enter);
    rig.tick(5);
    let fx = finish(
        &mut rig,
        "sync",
        StepOutcome::Succeeded {
            summary: String::new(),
        },
    );
    assert!(
        !entries(&fx)
            .iter()
            .any(|k| matches!(k, EntryKind::StepVerified { .. })),
        "no verdict from an answer older than the step's end: {fx:?}"
    );
    assert!(matches!(state(&rig, 0), StepState::Verifying { .. }));
    let fx = rig.up(1, 20);
    assert!(
        entries(&fx)
            .iter()
            .any(|k| matches!(k, EntryKind::StepVerified { verified: true, .. }))
    );
}

#[test]
fn a_released_claim_reads_as_interrupted() {
    let mut s = Steps::default();
    for kind in [
        EntryKind::StepStarted {
            runbook: "r".into(),
            step: "s".into(),
            pid: 7,
            host: "h".into(),
            start: None,
        },
        EntryKind::StepReleased {
            runbook: "r".into(),
            step: "s".into(),
            reason: "pid 7 is gone".into(),
            pid: Some(7),
        },
    ] {
        s.fold(t(0), "a@h", &kind);
    }
    let r = s.get("r", "s").expect("record");
    assert!(r.running.is_none());
    assert_eq!(
        r.finished.as_ref().map(|f| f.0),
        Some(StepResult::Interrupted)
    );
}

#[test]
fn a_release_of_an_old_claim_does_not_end_a_newer_one() {
    let mut s = Steps::default();
    let started = |pid| EntryKind::StepStarted {
        runbook: "r".into(),
        step: "s".into(),
        pid,
        host: "h".into(),
        start: None,
    };
    s.fold(t(0), "a@h", &started(7));
    // pid 7 died; before the release was written, another console claimed the step again.
    s.fold(t(1), "b@h", &started(8));
    s.fold(
        t(2),
        "c@h",
        &EntryKind::StepReleased {
            runbook: "r".into(),
            step: "s".into(),
            reason: "pid 7 is gone".into(),
            pid: Some(7),
        },
    );
    let r = s.get("r", "s").expect("record");
    assert_eq!(r.running.as_ref().map(|c| c.pid), Some(8), "still running");
    assert!(r.finished.is_none());
}

fn any_key() -> impl Strategy<Value = Key> {
    prop_oneof![
        4 => any::<char>().prop_map(Key::Char),
        3 => prop::sample::select(vec!['s', 'y', 'n', 'c', 'e', 'd', 'p', 'q', '1', '5', 'u', 'i']).prop_map(Key::Char),
        1 => Just(Key::Enter),
        1 => Just(Key::Esc),
        1 => Just(Key::Tab),
        1 => Just(Key::BackTab),
        1 => Just(Key::Backspace),
        1 => Just(Key::Left),
        1 => Just(Key::Right),
        1 => "[a-z ]{0,12}".prop_map(Key::Paste),
        1 => Just(Key::Paste("synce".into())),
        1 => Just(Key::Paste("publish".into())),
    ]
}

/// What a monkey types in one go: a random key, or a step's key followed by its exact
/// phrase, a prefix of it or a near miss (one character changed), then Enter — and for
/// the notify step the composer's `publish`. Often enough that the guarded branch runs.
fn chunk() -> impl Strategy<Value = Vec<Key>> {
    let steps: Vec<(char, &'static str)> =
        vec![('s', "synced"), ('p', "dr-Replica"), ('i', "publish")];
    let pick = prop::sample::select(steps);
    prop_oneof![
        4 => any_key().prop_map(|k| vec![k]),
        // The notify step's composer: Text → Public → ETA → Publish, the word, Enter.
        1 => Just(vec![
            Key::Char('i'),
            Key::Tab,
            Key::Tab,
            Key::Tab,
            Key::Paste("publish".into()),
            Key::Enter
        ]),
        3 => pick.clone().prop_map(|(key, phrase)| vec![
            Key::Char(key),
            Key::Paste(phrase.into()),
            Key::Enter
        ]),
        1 => (pick.clone(), 0usize..6).prop_map(|((key, phrase), n)| vec![
            Key::Char(key),
            Key::Paste(phrase.chars().take(n).collect()),
            Key::Enter
        ]),
        1 => (pick, 0usize..6, any::<char>()).prop_map(|((key, phrase), at, c)| {
            let mut near: Vec<char> = phrase.chars().collect();
            let at = at % near.len();
            near[at] = if near[at] == c { '#' } else { c };
            vec![Key::Char(key), Key::Paste(near.into_iter().collect()), Key::Enter]
        }),
    ]
}

fn monkey_keys() -> impl Strategy<Value = Vec<Key>> {
    prop::collection::vec(chunk(), 0..40).prop_map(|c| c.into_iter().flatten().collect())
}

/// Runs `keys` on the rig, checking at every key that a step ran only on the Enter that
/// had its exact phrase in the field (and an update only from the composer, with
/// `publish` for the page); a step that runs is granted and succeeds, so what requires
/// it can run next. The steps that ran, in order.
fn monkey(keys: &[Key]) -> Result<Vec<String>, TestCaseError> {
    let mut rig = rig();
    let mut ran = Vec::new();
    for k in keys {
        let phrase = rig.state.modal.as_ref().map(|m| {
            let rb = &rig.state.runbooks[m.runbook];
            (m.phrase.clone(), m.required_phrase(&rb.steps[m.step]))
        });
        let publish = rig
            .state
            .compose
            .as_ref()
            .map(|c| !c.public() || c.publish == "publish");
        let resolve = rig
            .state
            .compose
            .as_ref()
            .map(|c| resolve_typed(c, &rig.state));
        let fx = update(&mut rig.state, Event::Key(k.clone()));
        if posts(&fx) > 0 {
            prop_assert_eq!(k, &Key::Enter);
            prop_assert_eq!(publish, Some(true));
            prop_assert_eq!(resolve, Some(true));
        } else if runs(&fx) > 0 {
            prop_assert_eq!(k, &Key::Enter);
            let (typed, confirm) = phrase.expect("a modal was open");
            prop_assert_eq!(typed, confirm);
        }
        rig.journal.echo(&mut rig.state, &fx);
        ran.extend(grant_and_succeed(&mut rig.state, &mut rig.journal, &fx));
        if fx.contains(&Effect::Quit) {
            break;
        }
    }
    Ok(ran)
}

proptest! {
    /// Monkey: whatever the keys, a step runs only when its exact phrase was in the
    /// field at the Enter that ran it.
    #[test]
    fn random_keys_never_run_a_step_whose_phrase_was_not_typed(keys in monkey_keys()) {
        monkey(&keys)?;
    }
}

/// The monkey above reaches what it guards: over many sequences, a good share run a
/// step (promote included, which needs sync to have succeeded first). Code that never
/// runs a step would pass the safety check; it fails this one.
#[test]
fn the_monkey_runs_steps_often_enough_to_test_the_guard() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = monkey_keys();
    let (mut cases, mut with_a_run, mut promoted) = (0, 0, 0);
    for _ in 0..200 {
        let keys = strategy.new_tree(&mut runner).expect("keys").current();
        let ran = monkey(&keys).expect("the guard holds");
        cases += 1;
        with_a_run += usize::from(!ran.is_empty());
        promoted += usize::from(ran.iter().any(|s| s == "promote"));
    }
    assert!(
        with_a_run * 4 >= cases,
        "only {with_a_run} of {cases} sequences ran a step"
    );
    assert!(
        promoted * 20 >= cases,
        "promote ran in {promoted} of {cases}"
    );
}

proptest! {
    /// Read-only: no key sequence produces anything but a quit.
    #[test]
    fn a_read_only_console_asks_for_nothing_whatever_the_keys(keys in monkey_keys()) {
        let mut rig = rig();
        rig.state.read_only = true;
        for k in keys {
            for fx in update(&mut rig.state, Event::Key(k)) {
                prop_assert!(matches!(fx, Effect::Quit), "{:?}", fx);
            }
            prop_assert!(rig.state.modal.is_none());
            prop_assert!(rig.state.dialog.is_none());
            prop_assert!(rig.state.compose.is_none());
        }
    }
}
