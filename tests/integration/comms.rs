//! Comms against local servers that answer like the Slack Web API and the Statuspage API:
//! the real sinks (slack-morphism over an HTTP/1 connector pointed at the fake with its API
//! URL override; reqwest for the status page), the real outbox, journal keeper and worker.
//! Request shapes and auth headers, threading, chat.update, 429 with Retry-After, 500,
//! answers that never come (the update is found, not posted twice), refusals, and secrets
//! that never reach an error.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::http::{Fault, Reply};
use crate::support::slack::{CHANNEL_ID, FakeSlack};
use crate::support::statuspage::{FakeStatuspage, PAGE};
use jiff::Timestamp;
use serde_json::Value;
use warroom::app::message::{Channel, ComponentFact, Facts, Outgoing, Template, Update};
use warroom::app::{DrLevel, HealthState, IncidentStatus};
use warroom::comms::sink::Sink;
use warroom::comms::slack::SlackSink;
use warroom::comms::statuspage::StatusPageSink;
use warroom::config::{Audience, Secret, Slack, SlackAuth, StatusPage, StatusPageKind, Tier};
use warroom::probe::clock::SystemClock;
use warroom::runtime::keeper::{Keeper, KeeperOptions, Mode, Request};
use warroom::runtime::outbox_worker::{OutboxOptions, Worker};

const PATIENCE: Duration = Duration::from_secs(20);
const TOKEN: &str = "xoxb-PLANTED-slack-7f3e9c1d";
const KEY: &str = "PLANTED-statuspage-key-51b0a";

fn private_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    dir
}

fn secret_file(dir: &Path, name: &str, value: &str) -> Secret {
    let path = dir.join(name);
    std::fs::write(&path, format!("{value}\n")).expect("write the secret");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    Secret::File(path)
}

fn facts() -> Facts {
    Facts {
        service: "DTEM production".into(),
        incident: "us-east-1 unreachable".into(),
        level: DrLevel::new(3).expect("3"),
        severity: "CRITICAL".into(),
        started: Timestamp::now(),
        commander: "ana@bastion".into(),
        components: vec![
            ComponentFact {
                public_name: None,
                id: "db-primary".into(),
                name: "Base de Datos Principal".into(),
                tier: Tier::Critical,
                state: HealthState::Down,
                reason: "no route to host".into(),
                rto_seconds: Some(3600),
                affected: false,
            },
            ComponentFact {
                public_name: None,
                id: "web-apps".into(),
                name: "Aplicaciones Web".into(),
                tier: Tier::Critical,
                state: HealthState::Up,
                reason: String::new(),
                rto_seconds: Some(1800),
                affected: false,
            },
        ],
        lag: vec!["db-primary → dtem-postgres-dr-replica: 6m17s (WARN)".into()],
        backups: vec!["db-primary: newest backup 14h old (OK)".into()],
        actions: vec![],
    }
}

fn update(to: &[Channel], template: Template, status: IncidentStatus, text: &str) -> Update {
    let at = Timestamp::now();
    Update {
        template,
        status,
        subject: format!("{} — us-east-1 unreachable", template.label()),
        text: text.into(),
        // The same words for the public: these tests are about delivery, not wording.
        public_subject: format!("{} — us-east-1 unreachable", template.label()),
        public_text: text.into(),
        facts: facts(),
        by: "ana@bastion".into(),
        at,
        next_update: at,
        to: to.to_vec(),
    }
}

/// A journal dir with an open incident and an operator's keeper on it; secrets live elsewhere.
struct Rig {
    dir: tempfile::TempDir,
    secrets: tempfile::TempDir,
    requests: Option<std::sync::mpsc::Sender<Request>>,
    keeper: Option<Keeper>,
    journal: String,
}

impl Rig {
    fn start() -> Rig {
        let dir = private_dir();
        let (requests, rx) = std::sync::mpsc::channel();
        let (tx, mut events) = tokio::sync::mpsc::channel(1024);
        // Nobody reads the model's side here: drained, so the keeper never waits on it.
        std::thread::spawn(move || while events.blocking_recv().is_some() {});
        let mut o = KeeperOptions::new(dir.path().to_path_buf(), Mode::Operator);
        // The account running the tests: an outbox delivers only what an operator of the
        // journal dir's team queued.
        o.actor = warroom::journal::actor();
        o.poll = Duration::from_millis(50);
        let keeper = Keeper::spawn(o, rx, tx).expect("keeper");
        requests
            .send(Request::Declare {
                title: "us-east-1 unreachable".into(),
                level: DrLevel::new(3).expect("3"),
                status: IncidentStatus::Investigating,
                at: Timestamp::now(),
            })
            .expect("declare");
        let incidents = warroom::journal::incidents_dir(dir.path());
        let deadline = Instant::now() + PATIENCE;
        let journal = loop {
            if let Some(p) = warroom::journal::latest(&incidents)
                && warroom::journal::load(&p)
                    .is_ok_and(|l| l.entries.iter().any(|e| e.kind == "declared"))
            {
                break p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .expect("a name");
            }
            assert!(Instant::now() < deadline, "no incident declared");
            std::thread::sleep(Duration::from_millis(20));
        };
        Rig {
            dir,
            secrets: private_dir(),
            requests: Some(requests),
            keeper: Some(keeper),
            journal,
        }
    }

    fn incidents(&self) -> PathBuf {
        warroom::journal::incidents_dir(self.dir.path())
    }

    fn post(&self, u: Update) -> String {
        let id = warroom::comms::record::new_id();
        self.requests
            .as_ref()
            .expect("running")
            .send(Request::Post {
                out: Box::new(Outgoing {
                    journal: self.journal.clone(),
                    update: u,
                }),
                id: id.clone(),
                order: warroom::comms::record::next_order(),
            })
            .expect("post");
        id
    }

    fn worker(&self, sinks: Vec<Arc<dyn Sink>>) -> Worker {
        self.worker_telling(sinks, Arc::default())
    }

    /// The worker, giving an update up `give_up_after` after it was queued.
    fn worker_giving_up(&self, sinks: Vec<Arc<dyn Sink>>, give_up_after: Duration) -> Worker {
        self.start_worker(sinks, Arc::default(), |o| o.give_up_after = give_up_after)
    }

    /// The worker, with what it tells the operator (per channel) collected in `told`.
    fn worker_telling(
        &self,
        sinks: Vec<Arc<dyn Sink>>,
        told: Arc<std::sync::Mutex<Vec<String>>>,
    ) -> Worker {
        self.start_worker(sinks, told, |_| {})
    }

    /// A quick worker (50 ms polls, 200 ms first backoff), `tune`d, telling `told`.
    fn start_worker(
        &self,
        sinks: Vec<Arc<dyn Sink>>,
        told: Arc<std::sync::Mutex<Vec<String>>>,
        tune: impl FnOnce(&mut OutboxOptions),
    ) -> Worker {
        let (tx, mut problems) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            while let Some((_, p)) = problems.recv().await {
                if let (Some(p), Ok(mut told)) = (p, told.lock()) {
                    told.push(p);
                }
            }
        });
        let mut o = OutboxOptions::new(self.incidents());
        o.poll = Duration::from_millis(50);
        o.first_backoff = Duration::from_millis(200);
        tune(&mut o);
        Worker::start(
            o,
            sinks,
            self.requests.clone().expect("running"),
            Arc::new(SystemClock),
            tx,
        )
    }

    /// The journal's lines of `kind`, their fields.
    fn lines(&self, kind: &str) -> Vec<serde_json::Map<String, Value>> {
        warroom::journal::load(&self.incidents().join(&self.journal))
            .expect("load")
            .entries
            .into_iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.body)
            .collect()
    }

    /// The reasons of the `comms_failed` lines that gave the update up.
    fn given_up(&self) -> Vec<String> {
        self.lines("comms_failed")
            .iter()
            .filter(|l| l["gave_up"] == true)
            .filter_map(|l| l["reason"].as_str().map(str::to_string))
            .collect()
    }

    /// Every byte the journal dir holds (journals, outbox, locks), for the planted-secret search.
    fn all_bytes(&self) -> String {
        crate::support::local::all_bytes(self.dir.path())
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.requests.take();
        if let Some(k) = self.keeper.take() {
            k.finish();
        }
    }
}

async fn until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !f() {
        assert!(Instant::now() < deadline, "not within {PATIENCE:?}: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn slack_sink(dir: &Path, fake: &FakeSlack, timeout: Duration) -> Arc<dyn Sink> {
    slack_sink_for(dir, fake, timeout, Audience::Team)
}

fn slack_sink_for(
    dir: &Path,
    fake: &FakeSlack,
    timeout: Duration,
    audience: Audience,
) -> Arc<dyn Sink> {
    Arc::new(
        SlackSink::new(&Slack {
            auth: SlackAuth::Token(secret_file(dir, "slack-token", &fake.token)),
            channel: Some(format!("#{}", crate::support::slack::CHANNEL_NAME)),
            api_url: fake.api_url(),
            audience,
        })
        .with_timeout(timeout),
    )
}

fn mapping() -> BTreeMap<String, String> {
    [
        ("db-primary".to_string(), "cmp_database".to_string()),
        ("web-apps".to_string(), "cmp_api".to_string()),
    ]
    .into()
}

fn page_sink(dir: &Path, fake: &FakeStatuspage, timeout: Duration) -> Arc<dyn Sink> {
    Arc::new(
        StatusPageSink::new(&StatusPage {
            kind: StatusPageKind::Atlassian {
                page_id: PAGE.into(),
                api_key: secret_file(dir, "statuspage-key", &fake.key),
                api_url: fake.api_url(),
            },
            components: mapping(),
        })
        .expect("sink")
        .with_timeout(timeout)
        .expect("sink"),
    )
}

fn reasons(rig: &Rig) -> Vec<String> {
    rig.lines("comms_failed")
        .iter()
        .map(|l| l["reason"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_threads_later_updates_and_keeps_the_first_message_current() {
    let rig = Rig::start();
    let slack = FakeSlack::start(TOKEN).await;
    let worker = rig.worker(vec![slack_sink(
        rig.secrets.path(),
        &slack,
        Duration::from_secs(5),
    )]);
    let first = update(
        &[Channel::Slack],
        Template::Initial,
        IncidentStatus::Investigating,
        "We are on it <!channel> & more.",
    );
    let id1 = rig.post(first.clone());
    until("the first message", || slack.messages().len() == 1).await;
    let second = update(
        &[Channel::Slack],
        Template::Update,
        IncidentStatus::Identified,
        "Cause found.",
    );
    rig.post(second);
    until("the reply and the update of the first message", || {
        slack.messages().len() == 2 && slack.messages()[0].updates == 1
    })
    .await;
    let msgs = slack.messages();
    assert_eq!(
        msgs[0].thread_ts, None,
        "the first update starts the thread"
    );
    assert_eq!(msgs[1].thread_ts.as_deref(), Some(msgs[0].ts.as_str()));
    // The request: a bearer token, JSON, the blocks exactly as the preview renders them.
    let post = &slack.calls("chat.postMessage")[0];
    assert_eq!(
        post.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(
        post.header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let body = post.json();
    assert_eq!(body["channel"], "#dtem-war-room");
    // The whole request body, field by field, is the one the preview renders (the preview
    // writes a placeholder where the delivery's id goes).
    assert_eq!(
        body,
        warroom::app::message::slack_post_body(
            &first,
            &id1,
            "#dtem-war-room",
            None,
            None,
            Audience::Team
        ),
        "what was previewed is what was sent"
    );
    assert!(body.to_string().contains("&lt;!channel&gt; &amp; more"));
    assert!(!body.to_string().contains("<!channel>"));
    // chat.update: the channel id and ts of the first message, its summary now "identified".
    let upd = &slack.calls("chat.update")[0].json();
    assert_eq!(upd["channel"], CHANNEL_ID);
    assert_eq!(upd["ts"], msgs[0].ts.as_str());
    assert!(upd["blocks"].to_string().contains("identified"), "{upd}");
    assert!(
        msgs[0].blocks.to_string().contains("We are on it"),
        "the first text is kept"
    );
    until("two sent lines", || rig.lines("comms_sent").len() == 2).await;
    let sent = rig.lines("comms_sent");
    assert_eq!(
        sent[0]["remote"],
        format!("{CHANNEL_ID}:{}", msgs[0].ts).as_str()
    );
    assert_eq!(rig.lines("comms_queued").len(), 2);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incoming_webhook_gets_the_same_blocks_and_no_token() {
    let rig = Rig::start();
    let slack = FakeSlack::start(TOKEN).await;
    let sink: Arc<dyn Sink> = Arc::new(SlackSink::new(&Slack {
        auth: SlackAuth::Webhook(secret_file(
            rig.secrets.path(),
            "hook",
            &slack.webhook_url(),
        )),
        channel: None,
        api_url: slack.api_url(),
        audience: Audience::Team,
    }));
    let worker = rig.worker(vec![sink]);
    let u = update(
        &[Channel::Slack],
        Template::Initial,
        IncidentStatus::Investigating,
        "x",
    );
    let id = rig.post(u.clone());
    until("the webhook post", || slack.webhook_posts().len() == 1).await;
    assert_eq!(
        slack.webhook_posts()[0]["blocks"],
        warroom::app::message::slack_blocks(&u, &id)
    );
    let req = &slack.server.to(&format!("/hooks/{}", slack.hook))[0];
    assert_eq!(req.header("authorization"), None);
    until("sent", || rig.lines("comms_sent").len() == 1).await;
    assert!(
        !rig.all_bytes().contains(&slack.hook),
        "the webhook URL is a secret: not in the journal or the outbox"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_waits_its_retry_after_and_a_500_is_retried_after_checking_the_channel() {
    let rig = Rig::start();
    let slack = FakeSlack::start(TOKEN).await;
    slack.fault(Fault::Instead(
        Reply::json(
            429,
            serde_json::json!({"ok": false, "error": "ratelimited"}),
        )
        .with_header("Retry-After", "2"),
    ));
    slack.fault(Fault::Instead(Reply::text(500, "upstream connect error")));
    let worker = rig.worker(vec![slack_sink(
        rig.secrets.path(),
        &slack,
        Duration::from_secs(5),
    )]);
    rig.post(update(
        &[Channel::Slack],
        Template::Initial,
        IncidentStatus::Investigating,
        "x",
    ));
    until("delivered", || slack.messages().len() == 1).await;
    let posts = slack.calls("chat.postMessage");
    assert_eq!(posts.len(), 3, "429, 500, then the one that arrived");
    assert!(
        posts[1].at.duration_since(posts[0].at) >= Duration::from_secs(2),
        "Retry-After: 2 was honoured"
    );
    // A 500 may have posted it: the channel was looked at before sending again.
    let history = slack.calls("conversations.history");
    assert_eq!(history.len(), 1, "one look after the 500");
    assert!(history[0].at > posts[1].at && history[0].at < posts[2].at);
    until("sent", || rig.lines("comms_sent").len() == 1).await;
    let r = reasons(&rig);
    assert!(r.iter().any(|r| r.contains("429")), "{r:?}");
    assert!(r.iter().any(|r| r.contains("HTTP 500")), "{r:?}");
    assert_eq!(slack.messages().len(), 1);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_never_comes_is_found_in_the_thread_not_posted_twice() {
    let rig = Rig::start();
    let slack = FakeSlack::start(TOKEN).await;
    let worker = rig.worker(vec![slack_sink(
        rig.secrets.path(),
        &slack,
        Duration::from_millis(500),
    )]);
    rig.post(update(
        &[Channel::Slack],
        Template::Initial,
        IncidentStatus::Investigating,
        "a",
    ));
    until("the first", || rig.lines("comms_sent").len() == 1).await;
    // The reply is posted, but its answer comes after the client gave up.
    slack.fault(Fault::AppliedLate(Duration::from_secs(2)));
    rig.post(update(
        &[Channel::Slack],
        Template::Update,
        IncidentStatus::Identified,
        "b",
    ));
    until("the second recorded", || rig.lines("comms_sent").len() == 2).await;
    assert_eq!(
        slack.messages().len(),
        2,
        "posted once: {:?}",
        slack.messages()
    );
    assert_eq!(
        slack.calls("conversations.replies").len(),
        1,
        "looked in the thread"
    );
    let found = rig.lines("comms_sent");
    assert_eq!(found[1]["found"], true, "{found:?}");
    assert!(reasons(&rig).iter().any(|r| r.contains("no answer within")));
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_gives_up_says_why_and_no_secret_reaches_the_journal() {
    let rig = Rig::start();
    let slack = FakeSlack::start("xoxb-the-right-one").await;
    // An answer that quotes the token back must not carry it any further.
    slack.fault(Fault::Instead(Reply::text(
        401,
        &format!("token {TOKEN} is not valid"),
    )));
    let sink: Arc<dyn Sink> = Arc::new(SlackSink::new(&Slack {
        auth: SlackAuth::Token(secret_file(rig.secrets.path(), "slack-token", TOKEN)),
        channel: Some("#dtem-war-room".into()),
        api_url: slack.api_url(),
        audience: Audience::Team,
    }));
    let worker = rig.worker(vec![sink]);
    rig.post(update(
        &[Channel::Slack],
        Template::Initial,
        IncidentStatus::Investigating,
        "x",
    ));
    until("given up", || {
        rig.lines("comms_failed")
            .iter()
            .any(|l| l["gave_up"] == true)
    })
    .await;
    let r = reasons(&rig);
    assert!(r[0].contains("HTTP 401"), "{r:?}");
    assert!(!r[0].contains(TOKEN), "{r:?}");
    assert!(slack.messages().is_empty());
    // The journal says it gave up first; the delivery moves to failed/ right after.
    let failed_dir = rig
        .incidents()
        .join(format!("{}.outbox", rig.journal.trim_end_matches(".jsonl")))
        .join("failed");
    until("kept in failed/: nothing is lost", || {
        std::fs::read_dir(&failed_dir).is_ok_and(|d| d.count() >= 1)
    })
    .await;
    let bytes = rig.all_bytes();
    assert!(
        !bytes.contains(TOKEN),
        "the planted token leaked into the journal dir"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_incident_is_created_then_updated_one_request_a_second() {
    let rig = Rig::start();
    let page = FakeStatuspage::start(KEY).await;
    let worker = rig.worker(vec![page_sink(
        rig.secrets.path(),
        &page,
        Duration::from_secs(5),
    )]);
    let first = update(
        &[Channel::StatusPage],
        Template::Initial,
        IncidentStatus::Investigating,
        "We are investigating.",
    );
    rig.post(first.clone());
    let second = update(
        &[Channel::StatusPage],
        Template::Update,
        IncidentStatus::Identified,
        "Cause identified.",
    );
    rig.post(second.clone());
    let mut done = update(
        &[Channel::StatusPage],
        Template::Restoration,
        IncidentStatus::Resolved,
        "Restored.",
    );
    done.facts.components[0].state = HealthState::Up;
    // Down earlier in this incident: the page shows it recovered.
    done.facts.components[0].affected = true;
    rig.post(done);
    until("three updates on one incident", || {
        page.incidents()
            .first()
            .is_some_and(|i| i.updates.len() == 3)
    })
    .await;
    let inc = &page.incidents()[0];
    assert_eq!(page.incidents().len(), 1);
    assert_eq!(inc.status, "resolved");
    assert_eq!(
        inc.updates
            .iter()
            .map(|(s, _)| s.as_str())
            .collect::<Vec<_>>(),
        vec!["investigating", "identified", "resolved"]
    );
    assert_eq!(inc.components["cmp_database"], "operational");
    let reqs = page.server.requests();
    // web-apps was UP all along: the incident never names its page component, so its
    // subscribers are not told of an incident that does not touch them.
    assert!(
        inc.components.get("cmp_api").is_none(),
        "{:?}",
        inc.components
    );
    for r in &reqs {
        let ids = r.json()["incident"]["component_ids"].clone();
        assert_eq!(ids, serde_json::json!(["cmp_database"]), "{}", r.path);
    }
    assert!(
        reqs.iter()
            .all(|r| r.header("authorization") == Some(&format!("OAuth {KEY}")))
    );
    assert_eq!(reqs[0].method, "POST");
    // Each request body is, field by field, the one the preview renders.
    assert_eq!(
        reqs[0].json(),
        warroom::app::message::statuspage_create_body(&first, &mapping()),
        "what was previewed is what was sent"
    );
    assert_eq!(
        reqs[1].json(),
        warroom::app::message::statuspage_update_body(&second, &mapping())
    );
    assert_eq!(
        reqs[0].json()["incident"]["components"]["cmp_database"],
        "major_outage"
    );
    assert!(reqs[1..].iter().all(|r| r.method == "PATCH"));
    for w in reqs.windows(2) {
        assert!(
            w[1].at.duration_since(w[0].at) >= Duration::from_millis(900),
            "Statuspage allows one request a second"
        );
    }
    until("sent lines", || rig.lines("comms_sent").len() == 3).await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_from_the_status_page_is_found_not_created_twice_and_errors_retry() {
    let rig = Rig::start();
    let page = FakeStatuspage::start(KEY).await;
    // The incident is created, but the answer comes after the client gave up.
    page.fault(Fault::AppliedLate(Duration::from_secs(2)));
    let worker = rig.worker(vec![page_sink(
        rig.secrets.path(),
        &page,
        Duration::from_millis(500),
    )]);
    rig.post(update(
        &[Channel::StatusPage],
        Template::Initial,
        IncidentStatus::Investigating,
        "We are investigating.",
    ));
    until("recorded", || rig.lines("comms_sent").len() == 1).await;
    assert_eq!(page.incidents().len(), 1, "created once");
    let sent = &rig.lines("comms_sent")[0];
    assert_eq!(sent.get("found"), Some(&Value::Bool(true)), "{sent:?}");
    assert_eq!(sent["remote"], page.incidents()[0].id.as_str());
    // A 503 on the update: looked for on the incident, not there, sent again, once.
    page.fault(Fault::Instead(Reply::text(503, "maintenance")));
    rig.post(update(
        &[Channel::StatusPage],
        Template::Update,
        IncidentStatus::Identified,
        "Identified.",
    ));
    until("recorded", || rig.lines("comms_sent").len() == 2).await;
    assert_eq!(
        page.incidents()[0].updates.len(),
        2,
        "{:?}",
        page.incidents()
    );
    let r = reasons(&rig);
    assert!(r.iter().any(|r| r.contains("HTTP 503")), "{r:?}");
    let looks = page
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert_eq!(
        looks, 2,
        "one look after each answer that did not come back whole"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_page_webhook_gets_the_whole_page_and_an_idempotency_key() {
    let rig = Rig::start();
    let page = FakeStatuspage::start(KEY).await;
    let sink: Arc<dyn Sink> = Arc::new(
        StatusPageSink::new(&StatusPage {
            kind: StatusPageKind::Webhook {
                url: secret_file(rig.secrets.path(), "page-hook", &page.webhook_url()),
            },
            components: mapping(),
        })
        .expect("sink"),
    );
    let worker = rig.worker(vec![sink]);
    let id = rig.post(update(
        &[Channel::StatusPage],
        Template::Initial,
        IncidentStatus::Investigating,
        "Investigating.",
    ));
    rig.post(update(
        &[Channel::StatusPage],
        Template::Update,
        IncidentStatus::Identified,
        "Identified.",
    ));
    until("two posts", || page.webhook_posts().len() == 2).await;
    let v = &page.webhook_posts()[1];
    assert_eq!(v["status"], "major_outage");
    assert!(v["lastUpdated"].is_string());
    let names: Vec<&str> = v["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(names, vec!["cmp_api", "cmp_database"]);
    assert_eq!(v["incidents"][0]["status"], "identified");
    assert_eq!(
        v["incidents"][0]["updates"].as_array().map(Vec::len),
        Some(2)
    );
    let first = &page.server.to(&format!("/page-hook/{}", page.hook))[0];
    assert_eq!(first.header("idempotency-key"), Some(id.as_str()));
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unset_variable_is_retried_and_named_and_a_drill_sink_never_takes_a_real_update() {
    let rig = Rig::start();
    let slack = FakeSlack::start(TOKEN).await;
    let sink: Arc<dyn Sink> = Arc::new(SlackSink::new(&Slack {
        auth: SlackAuth::Token(Secret::Env("WARROOM_TEST_NO_SUCH_TOKEN_VAR".into())),
        channel: Some("#dtem-war-room".into()),
        api_url: slack.api_url(),
        audience: Audience::Team,
    }));
    let sim = Arc::new(warroom::drill::sink::SimSink::new(Channel::StatusPage));
    let told: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let worker = rig.worker_telling(vec![sink, sim.clone() as Arc<dyn Sink>], told.clone());
    rig.post(update(
        &[Channel::Slack, Channel::StatusPage],
        Template::Initial,
        IncidentStatus::Investigating,
        "x",
    ));
    until("the reason", || {
        reasons(&rig)
            .iter()
            .any(|r| r.contains("$WARROOM_TEST_NO_SUCH_TOKEN_VAR is not set"))
    })
    .await;
    // The drill's sink looked at the real update and said it would not take it.
    until("the simulated sink refusing the real update", || {
        told.lock().is_ok_and(|t| {
            t.iter().any(|p| {
                p.contains("is real but this console's statuspage sink is simulated: not sent")
            })
        })
    })
    .await;
    assert!(sim.taken().is_empty(), "the drill sink took a real update");
    assert!(
        slack.server.requests().is_empty(),
        "nothing sent without the token"
    );
    assert!(
        rig.lines("comms_sent").is_empty(),
        "a real update is never simulated away"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_for_a_journal_that_is_gone_never_holds_up_the_journal_and_is_handed_back() {
    let mut rig = Rig::start();
    let requests = rig.requests.clone().expect("running");
    requests
        .send(Request::Post {
            out: Box::new(Outgoing {
                journal: "2020-01-01T0000Z-archived.jsonl".into(),
                update: update(
                    &[Channel::Slack],
                    Template::Initial,
                    IncidentStatus::Investigating,
                    "x",
                ),
            }),
            id: warroom::comms::record::new_id(),
            order: warroom::comms::record::next_order(),
        })
        .expect("post");
    requests
        .send(Request::Append(warroom::app::Entry {
            at: Timestamp::now(),
            kind: warroom::app::EntryKind::Note {
                text: "written all the same".into(),
            },
        }))
        .expect("note");
    until("the note", || !rig.lines("note").is_empty()).await;
    drop(requests);
    rig.requests.take();
    let left = rig.keeper.take().expect("keeper").finish();
    assert_eq!(left.updates.len(), 1, "the update is handed back, not lost");
    assert_eq!(left.updates[0].journal, "2020-01-01T0000Z-archived.jsonl");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_without_the_token_steps_aside_for_one_that_has_it() {
    let rig = Rig::start();
    let slack = FakeSlack::start(TOKEN).await;
    let without: Arc<dyn Sink> = Arc::new(SlackSink::new(&Slack {
        auth: SlackAuth::Token(Secret::Env("WARROOM_TEST_UNSET_TOKEN_TOO".into())),
        channel: Some("#dtem-war-room".into()),
        api_url: slack.api_url(),
        audience: Audience::Team,
    }));
    let first = rig.worker(vec![without]);
    rig.post(update(
        &[Channel::Slack],
        Template::Initial,
        IncidentStatus::Investigating,
        "x",
    ));
    until("the first console's reason, naming it", || {
        reasons(&rig)
            .iter()
            .any(|r| r.contains("WARROOM_TEST_UNSET_TOKEN_TOO") && r.contains(" pid "))
    })
    .await;
    // A second console, with the token, on the same outbox.
    let second = rig.worker(vec![slack_sink(
        rig.secrets.path(),
        &slack,
        Duration::from_secs(5),
    )]);
    until("delivered by the console that can", || {
        slack.messages().len() == 1
    })
    .await;
    until("sent", || rig.lines("comms_sent").len() == 1).await;
    first.stop().await;
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_in_flight_counts_as_waiting_so_a_detaching_console_waits_for_it() {
    let rig = Rig::start();
    let slack = FakeSlack::start(TOKEN).await;
    let worker = rig.worker(vec![slack_sink(
        rig.secrets.path(),
        &slack,
        Duration::from_secs(20),
    )]);
    // The post is applied at once and answered 3 s later: in flight meanwhile.
    slack.fault(Fault::AppliedLate(Duration::from_secs(3)));
    rig.post(update(
        &[Channel::Slack],
        Template::Initial,
        IncidentStatus::Investigating,
        "in flight",
    ));
    until("the post reached Slack", || {
        !slack.calls("chat.postMessage").is_empty()
    })
    .await;
    assert!(
        rig.lines("comms_sent").is_empty(),
        "its answer has not come yet"
    );
    assert_eq!(
        worker.waiting(),
        1,
        "a console ending now (SIGHUP) must wait for this delivery"
    );
    until("delivered", || rig.lines("comms_sent").len() == 1).await;
    until("nothing waiting", || worker.waiting() == 0).await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_the_journal_never_queued_is_set_aside_never_sent() {
    let rig = Rig::start();
    let slack = FakeSlack::start(TOKEN).await;
    let worker = rig.worker(vec![slack_sink(
        rig.secrets.path(),
        &slack,
        Duration::from_secs(5),
    )]);
    rig.post(update(
        &[Channel::Slack],
        Template::Initial,
        IncidentStatus::Investigating,
        "genuine",
    ));
    until("the genuine update sent", || {
        rig.lines("comms_sent").len() == 1
    })
    .await;
    let outbox = rig
        .incidents()
        .join(format!("{}.outbox", rig.journal.trim_end_matches(".jsonl")));
    let sent = std::fs::read_dir(outbox.join("sent"))
        .expect("sent/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("the sent delivery");
    // A local user drops a delivery of their own into pending/: same shape, their text, a
    // later place in the queue.
    let mut planted: Value =
        serde_json::from_slice(&std::fs::read(&sent).expect("read")).expect("json");
    planted["id"] = "planted".into();
    planted["order"] = (i64::MAX / 2).into();
    planted["update"]["text"] = "We have been breached".into();
    let name = format!("{:020}-planted-slack", i64::MAX / 2);
    std::fs::write(
        outbox.join("pending").join(format!("{name}.json")),
        serde_json::to_vec(&planted).expect("json"),
    )
    .expect("plant");
    // The same id as the genuine update but another text does not pass either.
    let mut altered: Value =
        serde_json::from_slice(&std::fs::read(&sent).expect("read")).expect("json");
    let genuine_id = altered["id"].as_str().expect("id").to_string();
    altered["order"] = (i64::MAX / 2 + 1).into();
    altered["update"]["text"] = "all fine, go home".into();
    let altered_name = format!("{:020}-{genuine_id}-slack", i64::MAX / 2 + 1);
    std::fs::write(
        outbox.join("pending").join(format!("{altered_name}.json")),
        serde_json::to_vec(&altered).expect("json"),
    )
    .expect("plant");

    until("both set aside in rejected/", || {
        ["json", "why"].iter().all(|ext| {
            [&name, &altered_name]
                .iter()
                .all(|n| outbox.join("rejected").join(format!("{n}.{ext}")).exists())
        })
    })
    .await;
    until("the rejection journaled", || {
        rig.lines("comms_failed").iter().any(|l| {
            l["id"] == "planted" && l["reason"].as_str().is_some_and(|r| r.contains("rejected"))
        })
    })
    .await;
    assert_eq!(slack.messages().len(), 1, "{:?}", slack.messages());
    let bodies = format!("{:?}", slack.messages());
    assert!(
        !bodies.contains("breached") && !bodies.contains("go home"),
        "{bodies}"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_others_can_write_delivers_nothing_and_only_an_operators_line_vouches() {
    let rig = Rig::start();
    let slack = FakeSlack::start(TOKEN).await;
    let outbox = rig
        .incidents()
        .join(format!("{}.outbox", rig.journal.trim_end_matches(".jsonl")));
    let pending = outbox.join("pending");
    std::fs::create_dir_all(&pending).expect("pending/");
    // `pending/` open to every local user, as an attacker would want it.
    std::fs::set_permissions(&pending, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let told: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let worker = rig.worker_telling(
        vec![slack_sink(
            rig.secrets.path(),
            &slack,
            Duration::from_secs(5),
        )],
        told.clone(),
    );
    rig.post(update(
        &[Channel::Slack],
        Template::Initial,
        IncidentStatus::Investigating,
        "genuine",
    ));
    until("the update queued in the journal", || {
        rig.lines("comms_queued").len() == 1
    })
    .await;
    // The worker looked at the outbox and said why it delivers nothing from it.
    until("the outbox refused as JOURNAL UNSAFE", || {
        told.lock().is_ok_and(|t| {
            t.iter()
                .any(|p| p.contains("JOURNAL UNSAFE") && p.contains("pending: writable by others"))
        })
    })
    .await;
    assert!(slack.messages().is_empty(), "{:?}", slack.messages());
    assert!(rig.lines("comms_sent").is_empty());
    // Once only the team can write it, the genuine update goes: the wall was the mode.
    std::fs::set_permissions(&pending, std::fs::Permissions::from_mode(0o770)).expect("chmod");
    until("the genuine update sent", || {
        rig.lines("comms_sent").len() == 1
    })
    .await;

    // A delivery whose comms_queued line was written by an account outside the team (as by
    // someone who appended to a journal they should not reach) is not vouched for.
    let sent = std::fs::read_dir(outbox.join("sent"))
        .expect("sent/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("the sent delivery");
    let mut planted: Value =
        serde_json::from_slice(&std::fs::read(&sent).expect("read")).expect("json");
    planted["id"] = "by-outsider".into();
    planted["order"] = (i64::MAX / 2).into();
    planted["update"]["text"] = "We have been breached".into();
    let upd: Update = serde_json::from_value(planted["update"].clone()).expect("update");
    let mut body = serde_json::Map::new();
    body.insert("id".into(), "by-outsider".into());
    body.insert("channel".into(), "slack".into());
    body.insert(
        "body".into(),
        warroom::comms::record::update_hash(&upd).into(),
    );
    warroom::journal::Journal::open(&rig.incidents().join(&rig.journal))
        .expect("journal")
        .with_actor("surely-no-such-account-x@elsewhere")
        .append("comms_queued", body, Timestamp::now())
        .expect("append");
    let name = format!("{:020}-by-outsider-slack", i64::MAX / 2);
    std::fs::write(
        pending.join(format!("{name}.json")),
        serde_json::to_vec(&planted).expect("json"),
    )
    .expect("plant");
    until("set aside in rejected/", || {
        outbox.join("rejected").join(format!("{name}.why")).exists()
    })
    .await;
    assert_eq!(slack.messages().len(), 1, "{:?}", slack.messages());
    assert!(!format!("{:?}", slack.messages()).contains("breached"));
    worker.stop().await;
}

/// Slack's documented permanent errors give up at once; an error it does not document gives
/// up after three attempts; either way the updates behind it go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_slack_documents_gives_up_at_once_an_unknown_one_after_three_and_the_next_goes() {
    let rig = Rig::start();
    let slack = FakeSlack::start(TOKEN).await;
    let worker = rig.worker(vec![slack_sink(
        rig.secrets.path(),
        &slack,
        Duration::from_secs(5),
    )]);
    let refusal = |code: &str| {
        Fault::Instead(Reply::json(
            200,
            serde_json::json!({ "ok": false, "error": code }),
        ))
    };
    rig.post(update(
        &[Channel::Slack],
        Template::Initial,
        IncidentStatus::Investigating,
        "first",
    ));
    until("the first sent", || rig.lines("comms_sent").len() == 1).await;

    // The channel was made read-only: documented, permanent.
    slack.fault(refusal("restricted_action_read_only_channel"));
    rig.post(update(
        &[Channel::Slack],
        Template::Update,
        IncidentStatus::Identified,
        "second",
    ));
    until("given up at once", || {
        rig.given_up()
            .iter()
            .any(|r| r.contains("restricted_action_read_only_channel"))
    })
    .await;
    let attempts = rig
        .lines("comms_failed")
        .iter()
        .filter(|l| {
            l["reason"]
                .as_str()
                .is_some_and(|r| r.contains("restricted_action"))
        })
        .count();
    assert_eq!(attempts, 1, "no retry of a documented refusal");

    // Something Slack does not document, three times.
    for _ in 0..3 {
        slack.fault(refusal("surely_a_new_error_code"));
    }
    rig.post(update(
        &[Channel::Slack],
        Template::Update,
        IncidentStatus::Identified,
        "third",
    ));
    until("given up after three attempts", || {
        rig.given_up()
            .iter()
            .any(|r| r.contains("given up after 3 attempts"))
    })
    .await;

    // Nothing waits behind them.
    rig.post(update(
        &[Channel::Slack],
        Template::Update,
        IncidentStatus::Monitoring,
        "fourth",
    ));
    until("the fourth sent", || rig.lines("comms_sent").len() == 2).await;
    let texts = format!("{:?}", slack.messages());
    assert!(texts.contains("fourth"), "{texts}");
    assert!(
        !texts.contains("second") && !texts.contains("third"),
        "{texts}"
    );
    worker.stop().await;
}

/// An update that keeps failing (no refusal: 503s) is given up `give_up_after` after it was
/// queued, so the ones behind it go on; the channel's first one given up, the next arrives as
/// the first: Slack's a new top-level message saying what it replaces, the page's a new
/// incident (POST) with the state it announces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_failing_past_give_up_after_is_given_up_and_the_next_arrives_as_the_first() {
    let rig = Rig::start();
    let slack = FakeSlack::start(TOKEN).await;
    let page = FakeStatuspage::start(KEY).await;
    for _ in 0..200 {
        slack.fault(Fault::Instead(Reply::text(503, "upstream unavailable")));
        page.fault(Fault::Instead(Reply::text(503, "maintenance")));
    }
    let worker = rig.worker_giving_up(
        vec![
            slack_sink(rig.secrets.path(), &slack, Duration::from_secs(5)),
            page_sink(rig.secrets.path(), &page, Duration::from_secs(5)),
        ],
        Duration::from_secs(2),
    );
    rig.post(update(
        &[Channel::Slack, Channel::StatusPage],
        Template::Initial,
        IncidentStatus::Investigating,
        "first",
    ));
    until("both given up for time", || {
        rig.given_up()
            .iter()
            .filter(|r| {
                r.starts_with("not delivered 2s after it was queued; last: ")
                    && r.contains("given up so the updates behind it go on")
            })
            .count()
            == 2
    })
    .await;
    assert!(rig.lines("comms_sent").is_empty());
    assert!(slack.messages().is_empty() && page.incidents().is_empty());
    // The far sides come back (the faults left are cleared by answering them).
    slack.server.clear_faults();
    page.server.clear_faults();
    rig.post(update(
        &[Channel::Slack, Channel::StatusPage],
        Template::Update,
        IncidentStatus::Identified,
        "second",
    ));
    until("the next one sent to both", || {
        rig.lines("comms_sent").len() == 2
    })
    .await;
    let messages = slack.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].thread_ts, None, "a new top-level message");
    let blocks = messages[0].blocks.to_string();
    assert!(
        blocks.contains("Starts this incident's thread: it replaces the initial update queued ")
            && blocks.contains(", which could not be delivered"),
        "{blocks}"
    );
    let incidents = page.incidents();
    assert_eq!(incidents.len(), 1, "created by the next one");
    assert_eq!(incidents[0].status, "identified");
    assert!(
        incidents[0].updates[0].1.contains("second"),
        "{:?}",
        incidents[0]
    );
    worker.stop().await;
}

/// A Slack channel the public reads gets the public part only, delivered for real.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_slack_channel_gets_the_public_part_only() {
    let rig = Rig::start();
    let slack = FakeSlack::start(TOKEN).await;
    let worker = rig.worker(vec![slack_sink_for(
        rig.secrets.path(),
        &slack,
        Duration::from_secs(5),
        Audience::Public,
    )]);
    let mut u = update(
        &[Channel::Slack],
        Template::Initial,
        IncidentStatus::Investigating,
        "Internal: ana promotes dtem-postgres-dr by hand.",
    );
    u.public_subject = "DTEM: service disruption".into();
    u.public_text = "We are investigating a disruption affecting DTEM.".into();
    let id = rig.post(u.clone());
    until("sent", || rig.lines("comms_sent").len() == 1).await;
    let body = slack.calls("chat.postMessage")[0].json();
    assert_eq!(
        body,
        warroom::app::message::slack_post_body(
            &u,
            &id,
            "#dtem-war-room",
            None,
            None,
            Audience::Public
        ),
        "what was previewed is what was sent"
    );
    let text = body.to_string();
    for internal in [
        "Internal:",
        "ana",
        "dtem-postgres",
        "Base de Datos",
        "db-primary",
    ] {
        assert!(!text.contains(internal), "{internal:?} in {text}");
    }
    assert!(text.contains("We are investigating a disruption affecting DTEM."));
    worker.stop().await;
}
