use proptest::prelude::*;

use crate::app::{Effect, Estate, Event, Key, MemoryJournal, Panel, State, update};
use crate::config::load::load_embedded_example;

/// A step of the drill's runbooks as a monkey would reach it: which runbook (its
/// position), its key, how many checklist items it has, its phrase.
fn drill_steps() -> Vec<(usize, char, usize, String)> {
    let cfg = load_embedded_example();
    cfg.runbooks
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            r.steps.iter().map(move |s| {
                (
                    i,
                    s.key,
                    crate::app::modal::checklist(s).len(),
                    s.confirm.clone(),
                )
            })
        })
        .collect()
}

fn random_key() -> impl Strategy<Value = Key> {
    prop_oneof![
        3 => any::<char>().prop_map(Key::Char),
        1 => Just(Key::Enter),
        1 => Just(Key::Esc),
        1 => Just(Key::Tab),
        1 => Just(Key::Down),
        1 => Just(Key::Up),
        1 => Just(Key::Backspace),
        1 => "[a-z0-9 /-]{0,12}".prop_map(Key::Paste),
        1 => Just(Key::Char('u')),
        1 => Just(Key::Paste("publish".into())),
    ]
}

/// A random key, or: go to a step's runbook (Up to the top, Down to it), its key, its
/// checklist ticked, then its exact phrase, a prefix or a near miss, then Enter.
fn chunk() -> impl Strategy<Value = Vec<Key>> {
    let step = prop::sample::select(drill_steps());
    let reach = |(rb, key, items): (usize, char, usize)| {
        let mut k = vec![Key::Char('R')];
        k.extend(std::iter::repeat_n(Key::Up, 12));
        k.extend(std::iter::repeat_n(Key::Down, rb));
        k.push(Key::Char(key));
        k.extend(std::iter::repeat_n(Key::Char(' '), items));
        k
    };
    prop_oneof![
        3 => random_key().prop_map(|k| vec![k]),
        3 => step.clone().prop_map(move |(rb, key, items, phrase)| {
            let mut k = reach((rb, key, items));
            k.extend([Key::Paste(phrase), Key::Enter]);
            k
        }),
        1 => (step, any::<prop::sample::Index>(), any::<char>()).prop_map(
            move |((rb, key, items, phrase), at, c)| {
                let mut k = reach((rb, key, items));
                let mut near: Vec<char> = phrase.chars().collect();
                if !near.is_empty() {
                    let at = at.index(near.len());
                    near[at] = if near[at] == c { '#' } else { c };
                }
                k.extend([Key::Paste(near.into_iter().collect()), Key::Enter]);
                k
            }
        ),
    ]
}

fn monkey_keys() -> impl Strategy<Value = Vec<Key>> {
    prop::collection::vec(chunk(), 0..40).prop_map(|c| c.into_iter().flatten().collect())
}

/// The drill estate with its runbooks, an incident declared; `keys` typed, the guard
/// checked at every key; a step that runs is granted and succeeds. The steps that ran.
fn monkey(keys: &[Key]) -> Result<Vec<String>, TestCaseError> {
    let cfg = load_embedded_example();
    let mut state = State::new(
        Estate::from_config(&cfg),
        crate::app::testkit::t(0),
        crate::app::Setup::default(),
    );
    state.runbooks = cfg.runbooks.clone();
    state.targets = crate::app::message::Targets::from_config(&cfg);
    state.can_send = true;
    let mut journal = MemoryJournal::attach(&mut state, "monkey@drill");
    state.view.focus = Panel::Runbooks;
    let mut ran = Vec::new();
    for k in keys {
        let open = state.modal.as_ref().map(|m| {
            let step = &state.runbooks[m.runbook].steps[m.step];
            (m.phrase.clone(), m.required_phrase(step))
        });
        let publish = state
            .compose
            .as_ref()
            .map(|c| !c.public() || c.publish == "publish");
        let resolve = state
            .compose
            .as_ref()
            .map(|c| super::tests::resolve_typed(c, &state));
        let fx = update(&mut state, Event::Key(k.clone()));
        for e in &fx {
            match e {
                // An update (a notify step or `u`): from the composer, on Enter, with
                // `publish` typed for the public page, `resolve` (and its override while
                // something is not UP) for a resolved one.
                Effect::Post(_) | Effect::RunStep { post: Some(_), .. } => {
                    prop_assert_eq!(k, &Key::Enter);
                    prop_assert_eq!(publish, Some(true));
                    prop_assert_eq!(resolve, Some(true));
                }
                Effect::RunStep { .. } => {
                    prop_assert_eq!(k, &Key::Enter);
                    let (typed, confirm) = open.clone().expect("a modal was open");
                    prop_assert_eq!(typed, confirm);
                }
                _ => {}
            }
        }
        if fx.contains(&Effect::Quit) {
            break;
        }
        journal.echo(&mut state, &fx);
        ran.extend(crate::app::testkit::grant_and_succeed(
            &mut state,
            &mut journal,
            &fx,
        ));
    }
    Ok(ran)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// On the drill estate with its runbooks: no step runs unless the Enter that ran it
    /// came with its exact phrase in the field.
    #[test]
    fn a_long_random_key_sequence_runs_no_step_whose_phrase_it_did_not_type(
        keys in monkey_keys()
    ) {
        monkey(&keys)?;
    }
}

/// And it reaches the guarded branch: many sequences run steps (checklists ticked
/// included), so a console that never ran any would fail here.
#[test]
fn the_drill_monkey_runs_steps_often_enough_to_test_the_guard() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = monkey_keys();
    let (mut cases, mut with_a_run, mut checklists) = (0, 0, 0);
    let lists: Vec<String> = load_embedded_example()
        .runbooks
        .iter()
        .flat_map(|r| r.steps.iter())
        .filter(|s| !crate::app::modal::checklist(s).is_empty())
        .map(|s| s.id.clone())
        .collect();
    for _ in 0..64 {
        let keys = strategy.new_tree(&mut runner).expect("keys").current();
        let ran = monkey(&keys).expect("the guard holds");
        cases += 1;
        with_a_run += usize::from(!ran.is_empty());
        checklists += usize::from(ran.iter().any(|s| lists.contains(s)));
    }
    assert!(
        with_a_run * 4 >= cases,
        "only {with_a_run} of {cases} sequences ran a step"
    );
    assert!(checklists > 0, "no checklist was ever completed");
}
