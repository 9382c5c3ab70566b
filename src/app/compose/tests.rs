use super::*;
use crate::app::EntryKind;
use crate::app::testkit::*;
use crate::config::Tier::Critical;

fn rig() -> Rig {
    let mut rig = Rig::new(vec![comp("db", Critical, 1)]);
    rig.down(0, 1);
    rig.state.title = "DTEM production".into();
    rig.state.actor = "ana@bastion".into();
    rig
}

/// Updates go to one Slack channel, read by `audience`.
fn slack_only(channel: &str, audience: crate::config::Audience) -> crate::app::message::Targets {
    crate::app::message::Targets {
        slack: Some(crate::app::message::SlackTarget {
            channel: Some(channel.into()),
            webhook: false,
            audience,
        }),
        statuspage: None,
    }
}

fn typing(c: &mut Compose, state: &State, keys: &[Key]) -> ComposeOutcome {
    let mut last = ComposeOutcome::Open;
    for k in keys {
        last = c.on_key(k, state);
    }
    last
}

#[test]
fn a_component_that_failed_in_the_incident_stays_affected_once_up_again() {
    let mut rig = Rig::new(vec![comp("db", Critical, 1), comp("cache", Critical, 1)]);
    rig.down(0, 1);
    rig.up(1, 1);
    let declare = [crate::app::Effect::Declare {
        title: "db down".into(),
        level: crate::app::DrLevel::new(2).expect("2"),
        status: crate::app::IncidentStatus::Investigating,
        at: t(2),
    }];
    rig.journal.echo(&mut rig.state, &declare);
    rig.up(0, 30);
    let f = facts(&rig.state);
    assert_eq!(f.components[0].state, HealthState::Up);
    assert!(f.components[0].affected, "db was DOWN in this incident");
    assert!(!f.components[1].affected, "cache never failed");
}

#[test]
fn the_template_fills_subject_and_text_from_the_live_state() {
    let rig = rig();
    let c = Compose::new(&rig.state, Template::Initial, &[Channel::Slack]);
    assert!(
        c.subject.starts_with("🚨 CRITICAL: DTEM production"),
        "{}",
        c.subject
    );
    assert!(c.text.contains("db is unavailable"), "{}", c.text);
    assert_eq!(c.facts.components[0].state, HealthState::Down);
    assert_eq!(c.update(&rig.state).by, "ana@bastion");
}

#[test]
fn text_editing_inserts_at_the_cursor_and_keeps_newlines_from_paste_and_ctrl_j() {
    let rig = rig();
    let mut c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
    c.text.clear();
    c.cursor = 0;
    typing(
        &mut c,
        &rig.state,
        &[
            Key::Char('a'),
            Key::Char('c'),
            Key::Left,
            Key::Char('b'),
            Key::End,
            Key::Newline,
            Key::Paste("x\r\ny\x1b[2J".into()),
        ],
    );
    assert_eq!(c.text, "abc\nx\ny[2J", "controls never enter the text");
    typing(&mut c, &rig.state, &[Key::Up, Key::Home, Key::Backspace]);
    assert_eq!(c.text, "abcx\ny[2J");
}

#[test]
fn enter_waits_for_publish_when_the_public_page_is_ticked() {
    let rig = rig();
    let mut c = Compose::new(
        &rig.state,
        Template::Initial,
        &[Channel::Slack, Channel::StatusPage],
    );
    assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Open);
    assert!(c.blocked(&rig.state).is_some_and(|b| b.contains("publish")));
    c.field = ComposeField::Publish;
    typing(
        &mut c,
        &rig.state,
        &"publis".chars().map(Key::Char).collect::<Vec<_>>(),
    );
    assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Open);
    c.on_key(&Key::Char('h'), &rig.state);
    assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Send);
    // Unticking the page: Slack alone needs no word.
    let mut c = Compose::new(
        &rig.state,
        Template::Initial,
        &[Channel::Slack, Channel::StatusPage],
    );
    c.field = ComposeField::To;
    typing(&mut c, &rig.state, &[Key::Right, Key::Char(' ')]);
    assert_eq!(c.channels(), vec![Channel::Slack]);
    assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Send);
    // Nothing ticked: nothing to send.
    typing(&mut c, &rig.state, &[Key::Left, Key::Char(' ')]);
    assert!(c.channels().is_empty());
    assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Open);
}

#[test]
fn switching_the_template_refills_and_picks_its_status() {
    let mut rig = rig();
    let mut c = Compose::new(&rig.state, Template::Initial, &[Channel::Slack]);
    c.field = ComposeField::Template;
    typing(&mut c, &rig.state, &[Key::Right, Key::Right]);
    assert_eq!(c.template, Template::Restoration);
    // db is DOWN: restored, being watched — never proposed as resolved.
    assert_eq!(c.status, IncidentStatus::Monitoring);
    assert!(c.subject.starts_with("✅ RESTORED"), "{}", c.subject);
    assert_eq!(c.on_key(&Key::Esc, &rig.state), ComposeOutcome::Cancel);
    rig.up(0, 5);
    let mut c = Compose::new(&rig.state, Template::Initial, &[Channel::Slack]);
    c.field = ComposeField::Template;
    typing(&mut c, &rig.state, &[Key::Right, Key::Right]);
    assert_eq!(c.status, IncidentStatus::Resolved, "every component UP");
    assert!(c.subject.starts_with("✅ RESOLVED"), "{}", c.subject);
}

/// A composer on `status`, its text complete, going to Slack.
fn composing(rig: &Rig, status: IncidentStatus) -> Compose {
    let mut c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
    c.field = ComposeField::Status;
    while c.status != status {
        c.on_key(&Key::Right, &rig.state);
    }
    c
}

#[test]
fn resolved_while_a_component_is_down_needs_its_override_and_the_word_resolve() {
    let rig = rig();
    let mut c = composing(&rig, IncidentStatus::Resolved);
    assert_eq!(not_up(&rig.state), ["db DOWN"]);
    assert_eq!(
        c.fields(&rig.state),
        [
            ComposeField::Template,
            ComposeField::Subject,
            ComposeField::Status,
            ComposeField::To,
            ComposeField::Text,
            ComposeField::Public,
            ComposeField::Eta,
            ComposeField::Override,
            ComposeField::Resolve
        ]
    );
    assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Open);
    assert!(
        c.blocked(&rig.state)
            .is_some_and(|b| b.starts_with("not every component is UP")),
        "{:?}",
        c.blocked(&rig.state)
    );
    // The word alone does not clear the gate.
    c.field = ComposeField::Resolve;
    typing(&mut c, &rig.state, &text_keys("resolve"));
    assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Open);
    c.field = ComposeField::Override;
    typing(&mut c, &rig.state, &text_keys("override resolve:"));
    assert_eq!(
        c.on_key(&Key::Enter, &rig.state),
        ComposeOutcome::Open,
        "no reason"
    );
    typing(
        &mut c,
        &rig.state,
        &text_keys(" customers are served from DR"),
    );
    assert_eq!(c.override_reason(), Some("customers are served from DR"));
    assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Send);
    // The override alone does not stand for the word.
    c.resolve.clear();
    assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Open);
    assert_eq!(
        c.blocked(&rig.state),
        Some("type `resolve` to announce resolved")
    );
}

#[test]
fn resolved_with_everything_up_needs_only_the_word_and_other_statuses_neither() {
    let mut rig = rig();
    rig.up(0, 5);
    let mut c = composing(&rig, IncidentStatus::Resolved);
    assert!(!c.fields(&rig.state).contains(&ComposeField::Override));
    assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Open);
    c.field = ComposeField::Resolve;
    typing(&mut c, &rig.state, &text_keys("resolve"));
    assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Send);
    let mut c = composing(&rig, IncidentStatus::Monitoring);
    assert!(!c.fields(&rig.state).contains(&ComposeField::Resolve));
    assert_eq!(c.on_key(&Key::Enter, &rig.state), ComposeOutcome::Send);
}

fn text_keys(s: &str) -> Vec<Key> {
    s.chars().map(Key::Char).collect()
}

/// Sending moves the incident's own status to what the update announces, and an
/// override is journaled with what was not UP, before the update.
#[test]
fn sending_an_update_moves_the_incident_status_and_journals_an_override() {
    use crate::app::{Effect, update};
    let mut rig = rig();
    rig.state.targets = slack_only("#war", crate::config::Audience::Team);
    rig.state.can_send = true;
    let declare = [Effect::Declare {
        title: "db down".into(),
        level: crate::app::DrLevel::new(2).expect("2"),
        status: IncidentStatus::Investigating,
        at: t(2),
    }];
    rig.journal.echo(&mut rig.state, &declare);
    let mut c = composing(&rig, IncidentStatus::Resolved);
    c.resolve = RESOLVE_WORD.into();
    c.override_resolve = "override resolve: served from DR".into();
    c.field = ComposeField::Text;
    rig.state.compose = Some(c);
    let fx = update(&mut rig.state, crate::app::Event::Key(Key::Enter));
    let kinds = entries(&fx);
    assert_eq!(
        kinds,
        [
            EntryKind::GateOverridden {
                gate: "resolve".into(),
                reason: "served from DR".into(),
                detail: "announced resolved while not UP: db DOWN".into(),
            },
            EntryKind::Status {
                from: IncidentStatus::Investigating,
                to: IncidentStatus::Resolved,
            },
        ]
    );
    let posts: Vec<IncidentStatus> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Post(out) => Some(out.update.status),
            _ => None,
        })
        .collect();
    assert_eq!(posts, [IncidentStatus::Resolved]);
    rig.journal.echo(&mut rig.state, &fx);
    assert_eq!(
        rig.state.incident.as_ref().map(|i| i.status),
        Some(IncidentStatus::Resolved),
        "the header says what the page says"
    );
    assert!(
        rig.state.next_update_due().is_none(),
        "nothing says a next update is due after resolved"
    );
}

#[test]
fn one_esc_does_not_throw_away_edited_text_and_the_preview_scroll_stops_at_its_end() {
    let rig = rig();
    let mut c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
    assert_eq!(
        c.on_key(&Key::Esc, &rig.state),
        ComposeOutcome::Cancel,
        "nothing edited"
    );
    let mut c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
    c.on_key(&Key::Char('x'), &rig.state);
    assert_eq!(c.on_key(&Key::Esc, &rig.state), ComposeOutcome::Open);
    assert!(c.cancel_armed);
    c.on_key(&Key::Char('y'), &rig.state);
    assert_eq!(
        c.on_key(&Key::Esc, &rig.state),
        ComposeOutcome::Open,
        "another key disarms"
    );
    assert_eq!(c.on_key(&Key::Esc, &rig.state), ComposeOutcome::Cancel);
    let mut c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
    for _ in 0..1000 {
        c.on_key(&Key::PageDown, &rig.state);
    }
    let last = c.preview(&rig.state).len() - 1;
    assert_eq!(c.preview_scroll, last);
    c.on_key(&Key::PageUp, &rig.state);
    assert_eq!(
        c.preview_scroll,
        last.saturating_sub(10),
        "PgUp answers at once"
    );
}

/// After the channel's only update was given up, the next one starts the thread and says
/// what it replaces — the same words the outbox sends.
#[test]
fn the_preview_of_the_first_to_arrive_after_one_given_up_says_what_it_replaces() {
    let mut rig = rig();
    rig.state.targets = slack_only("#war", crate::config::Audience::Team);
    for kind in [
        EntryKind::CommsQueued {
            id: "u1".into(),
            channel: crate::app::message::Channel::Slack,
            template: crate::app::message::Template::Initial,
            summary: "s".into(),
            status: None,
            text: None,
            simulated: false,
            body: None,
        },
        EntryKind::CommsFailed {
            id: "u1".into(),
            channel: crate::app::message::Channel::Slack,
            reason: "not delivered 10m after it was queued".into(),
            gave_up: true,
            retry_in: None,
        },
    ] {
        rig.state.comms.fold(t(2), "ana@b", &kind);
    }
    let c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
    let p = c.preview(&rig.state).join("\n");
    let note = message::replaces_note(message::Template::Initial, t(2));
    assert!(
        p.contains("the incident's first update to arrive: it starts the thread")
            && p.contains(&format!(
                "Starts this incident's thread: it replaces {note}"
            )),
        "{p}"
    );
}

/// A Slack channel the public reads needs `publish` like the page, and its preview shows
/// the public part only.
#[test]
fn a_public_slack_channel_needs_publish_and_previews_the_public_part() {
    let mut rig = rig();
    rig.state.targets = slack_only("#customers", crate::config::Audience::Public);
    let mut c = Compose::new(&rig.state, Template::Initial, &[Channel::Slack]);
    assert!(c.public());
    assert_eq!(
        c.blocked(&rig.state),
        Some("type `publish`: the public reads where this goes (or untick it)")
    );
    let p = c.preview(&rig.state).join("\n");
    assert!(p.contains("DTEM production: service disruption"), "{p}");
    assert!(!p.contains("db is unavailable"), "the team's text: {p}");
    c.publish = PUBLISH_WORD.into();
    assert_eq!(c.blocked(&rig.state), None);
}

/// A pasted right-to-left override and zero-width joiner never reach Slack, the page or
/// the preview: the update sent is the cleaned one, and the preview is built from it.
#[test]
fn pasted_invisible_characters_are_neither_previewed_nor_sent() {
    let rig = rig();
    let mut c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
    c.on_key(
        &Key::Paste("\npay\u{200D}pal \u{202E}gnp.exe\u{2028}next".into()),
        &rig.state,
    );
    c.field = ComposeField::Public;
    c.on_key(&Key::Paste(" see\u{200B}more\u{202E}".into()), &rig.state);
    let u = c.update(&rig.state);
    let body =
        message::slack_post_body(&u, "w-1", "#war", None, None, crate::config::Audience::Team)
            .to_string();
    let page = message::page_body(&u);
    let preview = c.preview(&rig.state).join("\n");
    for text in [&u.text, &u.public_text, &body, &page, &preview] {
        for hidden in ['\u{202E}', '\u{200D}', '\u{200B}', '\u{2028}'] {
            assert!(!text.contains(hidden), "{hidden:?} in {text:?}");
        }
    }
    assert!(u.text.ends_with("paypal gnp.exe next"), "{:?}", u.text);
    assert!(u.public_text.ends_with(" seemore"), "{:?}", u.public_text);
}

#[test]
fn the_preview_says_create_or_update_as_the_worker_will_decide() {
    use crate::app::message::{PageTarget, Targets};
    let mut rig = rig();
    rig.state.targets = Targets {
        slack: None,
        statuspage: Some(PageTarget {
            page_id: Some("page".into()),
            components: Default::default(),
        }),
    };
    let fold = |rig: &mut Rig, kind: EntryKind| {
        rig.state.comms.fold(t(2), "ana@b", &kind);
    };
    let c = Compose::new(&rig.state, Template::Initial, &[Channel::StatusPage]);
    assert!(
        c.preview(&rig.state)
            .join("\n")
            .contains("POST /pages/page/incidents")
    );
    // The first one was refused for good: the next one is still the one that creates.
    fold(
        &mut rig,
        EntryKind::CommsQueued {
            id: "u1".into(),
            channel: crate::app::message::Channel::StatusPage,
            template: crate::app::message::Template::Initial,
            summary: "s".into(),
            status: None,
            text: None,
            simulated: false,
            body: None,
        },
    );
    let p = c.preview(&rig.state).join("\n");
    assert!(
        p.contains("PATCH /pages/page/incidents/(the incident's id) (after the 1 update(s) still waiting before it)"),
        "{p}"
    );
    fold(
        &mut rig,
        EntryKind::CommsFailed {
            id: "u1".into(),
            channel: crate::app::message::Channel::StatusPage,
            reason: "HTTP 401".into(),
            gave_up: true,
            retry_in: None,
        },
    );
    let p = c.preview(&rig.state).join("\n");
    assert!(
        p.contains("POST /pages/page/incidents — creates the incident"),
        "{p}"
    );
}

#[test]
fn a_pasted_file_is_cut_at_the_text_limit() {
    let rig = rig();
    let mut c = Compose::new(&rig.state, Template::Update, &[Channel::Slack]);
    c.on_key(&Key::Paste("x".repeat(1_000_000)), &rig.state);
    assert_eq!(c.text.chars().count(), TEXT_MAX);
}
