//! The drill end to end without a terminal: the world's observations through `update`, and
//! the running drill (probes, clock, executor) on a paused tokio clock.

use super::*;
use crate::app::entry::{DrLevel, IncidentStatus, StepResult};
use crate::app::observe::Slot;
use crate::app::steps::{StepState, state_of};
use crate::app::{
    Effect, Entry, EntryKind, Estate, Event, HealthState, MemoryJournal, Severity, State, update,
};
use crate::config::load::load_embedded_example;

fn t0() -> Timestamp {
    Timestamp::from_second(1_700_000_000).expect("valid")
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn step<'c>(config: &'c Config, runbook: &str, id: &str) -> &'c Step {
    config
        .runbooks
        .iter()
        .find(|r| r.id == runbook)
        .and_then(|r| r.steps.iter().find(|s| s.id == id))
        .expect("step")
}

/// A drill without a runtime: the world, the console's state recording into a journal in
/// memory, the probes' slots.
struct Offline {
    config: Config,
    world: SimWorld,
    state: State,
    journal: MemoryJournal,
    slots: Vec<Slot>,
    /// Simulated seconds fed so far.
    fed: u64,
    /// `step_finished` entries of steps whose call has not ended yet, in time order.
    finishing: Vec<Entry>,
}

impl Offline {
    fn new(scenario: &str) -> Offline {
        let config = load_embedded_example();
        let world = SimWorld::new(
            &config,
            &Scenario::builtin(scenario).expect("built in"),
            t0(),
        )
        .expect("fits");
        let estate = Estate::from_config(&config);
        let slots = slots(&config, &estate);
        let mut state = State::new(estate, t0(), crate::app::Setup::default());
        state.runbooks = config.runbooks.clone();
        let journal = MemoryJournal::attach(&mut state, "ana@drill");
        Offline {
            state,
            journal,
            config,
            world,
            slots,
            fed: 0,
            finishing: Vec::new(),
        }
    }

    /// Writes what the console asks to write, and feeds it back, as the recorder does.
    fn record(&mut self, effects: &[Effect]) {
        self.journal.echo(&mut self.state, effects);
    }

    fn feed(&mut self, event: Event) {
        let effects = update(&mut self.state, event);
        self.record(&effects);
    }

    /// The ends of the steps whose call has ended by `to`.
    fn flush(&mut self, to: Timestamp) {
        while self.finishing.first().is_some_and(|e| e.at <= to) {
            let e = self.finishing.remove(0);
            self.record(&[Effect::Append(e)]);
        }
    }

    /// Every probe round up to `until` seconds (excluded), a Tick after each second that had one.
    fn run_until(&mut self, until: u64) {
        let observations = self.world.rounds(&self.slots, secs(self.fed)..secs(until));
        let mut last = None;
        for o in observations {
            if let Some(t) = last.filter(|t| *t != o.at) {
                self.feed(Event::Tick(t));
            }
            self.flush(o.at);
            last = Some(o.at);
            self.feed(Event::Observed(o));
        }
        if let Some(t) = last {
            self.feed(Event::Tick(t));
        }
        self.fed = self.fed.max(until);
        self.flush(add(t0(), secs(self.fed)));
    }

    /// The action of a step, straight on the world (no console, no journal).
    fn act(&mut self, runbook: &str, id: &str, at: u64) -> crate::app::outcome::StepOutcome {
        let step = step(&self.config, runbook, id).clone();
        self.world
            .act(&step, &BTreeMap::new(), add(t0(), secs(at)))
            .outcome
    }

    /// A step as an operator runs it at `at`: the console must show it ready (its requires
    /// succeeded, its prechecks pass on fresh values); its life goes to the journal. A wait
    /// is answered at once: run it when the deployment should be available.
    fn run(&mut self, runbook: &str, id: &str, at: u64) -> crate::app::outcome::StepOutcome {
        self.run_until(at);
        let rb = self
            .config
            .runbooks
            .iter()
            .find(|r| r.id == runbook)
            .expect("runbook")
            .clone();
        let step = step(&self.config, runbook, id).clone();
        assert_eq!(
            state_of(&self.state, &rb, &step),
            StepState::Ready,
            "{runbook}/{id} at {at}s"
        );
        let when = add(t0(), secs(at));
        let act = self.world.act(&step, &BTreeMap::new(), when);
        let outcome = match (&act.wait, act.outcome) {
            (Some((deployment, _)), crate::app::outcome::StepOutcome::Succeeded { .. }) => {
                match self.world.deployment(deployment, when) {
                    (true, summary) => crate::app::outcome::StepOutcome::Succeeded { summary },
                    (false, reason) => crate::app::outcome::StepOutcome::Failed { reason },
                }
            }
            (_, outcome) => outcome,
        };
        let (runbook, id) = (runbook.to_string(), id.to_string());
        let now = |kind| Effect::Append(Entry { at: when, kind });
        self.record(&[
            now(EntryKind::StepRequested {
                runbook: runbook.clone(),
                step: id.clone(),
            }),
            now(EntryKind::StepConfirmed {
                runbook: runbook.clone(),
                step: id.clone(),
                override_reason: None,
                inputs: BTreeMap::new(),
                break_glass: None,
            }),
            now(EntryKind::StepStarted {
                runbook: runbook.clone(),
                step: id.clone(),
                pid: 1,
                host: "drill".into(),
                start: None,
            }),
        ]);
        let (result, detail) = match &outcome {
            crate::app::outcome::StepOutcome::Succeeded { summary }
            | crate::app::outcome::StepOutcome::Checked { summary, .. }
            | crate::app::outcome::StepOutcome::StillCreating { summary, .. } => {
                (StepResult::Succeeded, summary.clone())
            }
            crate::app::outcome::StepOutcome::Failed { reason } => {
                (StepResult::Failed, reason.clone())
            }
        };
        self.finishing.push(Entry {
            at: add(when, act.call),
            kind: EntryKind::StepFinished {
                runbook,
                step: id,
                outcome: result,
                took: jiff::SignedDuration::try_from(act.call).expect("short"),
                detail,
            },
        });
        outcome
    }

    fn declare(&mut self, at: u64, title: &str) {
        self.run_until(at);
        self.record(&[Effect::Declare {
            title: title.into(),
            level: DrLevel::new(3).expect("level 3"),
            status: IncidentStatus::Investigating,
            at: add(t0(), secs(at)),
        }]);
    }

    fn shown(&self, id: &str) -> HealthState {
        let ix = self.state.estate().ix(id).expect("component");
        self.state.health(ix).expect("health").state
    }

    fn reason(&self, id: &str) -> String {
        let ix = self.state.estate().ix(id).expect("component");
        self.state.health(ix).expect("health").reason
    }
}

#[test]
fn region_outage_raises_the_severity_in_the_first_round() {
    let mut d = Offline::new("region-outage");
    assert_eq!(d.state.severity(), Severity::Observing);
    // The first round, at the start: every probe answers at once.
    d.run_until(1);
    assert_eq!(d.shown("db-primary"), HealthState::Down);
    assert_eq!(d.shown("config-secrets"), HealthState::Unknown);
    assert_eq!(d.shown("web-apps"), HealthState::Degraded);
    assert_eq!(
        d.state.severity(),
        Severity::Critical { unverified: false },
        "{:?}",
        d.state.assessment()
    );
    // The queue follows within seconds: two critical components DOWN.
    d.run_until(31);
    assert_eq!(d.shown("message-queue"), HealthState::Down);
    assert_eq!(d.state.severity(), Severity::Emergency);
    d.run_until(120);
    assert_eq!(d.shown("web-apps"), HealthState::Down);
    assert_eq!(d.shown("cache-redis"), HealthState::Down);
    assert_eq!(d.state.severity(), Severity::Emergency);
}

#[test]
fn steady_is_healthy_and_says_so_once() {
    let mut d = Offline::new("steady");
    d.run_until(1);
    assert_eq!(
        d.state.severity(),
        Severity::Healthy,
        "{:?}",
        d.state.assessment()
    );
    let entries = d.state.timeline.len();
    d.run_until(4 * 3600);
    assert_eq!(d.state.severity(), Severity::Healthy);
    assert_eq!(
        d.state.timeline.len(),
        entries,
        "nothing happens: {:?}",
        d.state.timeline
    );
}

/// The incident declared and the level-3 runbook run from 2 minutes in, as an operator
/// would; done at 410 s.
fn level_3(d: &mut Offline) {
    d.declare(115, "us-east-1 down");
    for (id, at) in [
        ("declare", 120),
        ("notify-initial", 130),
        ("promote-db", 140),
        ("scale-api-gateway", 150),
        ("scale-dte-service", 151),
        ("scale-web-frontend", 152),
        // The scale-ups are done 61 s after their call.
        ("wait-dte-service", 215),
        ("wait-web-frontend", 216),
        ("update-dns", 240),
        ("verify-services", 400),
        ("notify-restoration", 410),
    ] {
        let outcome = d.run("l3-region-failover", id, at);
        assert!(outcome.succeeded(), "{id}: {outcome:?}");
    }
}

/// The failback runbook from 41 minutes in (us-east-1 came back at 40), in its order; the
/// new DR replica replicates 10 minutes after its creation, at 2 913 s.
fn failback(d: &mut Offline) {
    for (id, at) in [
        ("region-back", 2460),
        ("hold-writes-primary", 2470),
        ("keep-old-primary", 2480),
        ("rebuild-primary", 2490),
        ("scale-api-gateway", 2500),
        ("scale-dte-service", 2501),
        ("scale-web-frontend", 2502),
        ("wait-api-gateway", 2570),
        ("wait-dte-service", 2571),
        ("wait-web-frontend", 2572),
        ("stop-writes-dr", 2580),
        ("sync-primary", 2590),
        ("promote-primary", 2600),
        ("dns-back", 2700),
        ("resume-writes", 2800),
        ("resume-writes-dr", 2810),
        ("retire-dr-primary", 2820),
        ("recreate-dr-replica", 2900),
        ("notify-restoration", 2910),
    ] {
        let outcome = d.run("failback", id, at);
        assert!(outcome.succeeded(), "{id}: {outcome:?}");
    }
}

/// The only reasons of the overall severity.
fn reasons(d: &Offline) -> Vec<String> {
    d.state.assessment().reasons.clone()
}

/// The lag a component's replica vouches for now: `None` unless it replicates (measured, fresh).
fn replicating(d: &Offline, id: &str) -> Option<f64> {
    let ix = d.state.estate().ix(id).expect("component");
    d.state
        .component(ix)
        .and_then(|c| c.lag())
        .and_then(|l| l.replicas().first())
        .and_then(|r| r.healthy_lag())
}

#[test]
fn the_level_3_runbook_recovers_what_the_dr_region_can_serve() {
    let mut d = Offline::new("region-outage");
    d.run_until(115);
    assert_eq!(d.state.severity(), Severity::Emergency);
    level_3(&mut d);
    assert_eq!(d.shown("db-dr"), HealthState::Up);
    assert_eq!(d.shown("apps-dr"), HealthState::Up);
    assert_eq!(d.shown("web-apps"), HealthState::Up);
    assert_eq!(d.shown("message-queue"), HealthState::Up);
    assert_eq!(d.shown("cache-redis"), HealthState::Up);
    // The database's writer name follows the DNS switch: the promoted replica answers.
    assert_eq!(d.shown("db-primary"), HealthState::Up);
    assert_eq!(
        d.reason("db-primary"),
        "accepting connections (primary; db.dtem.internal → dtem-postgres-dr-replica, us-west-2)"
    );
    // But nothing replicates the new primary any more: what a loss of us-west-2 would cost is
    // everything since the newest backup, 14 h old. Config & secrets live in us-east-1.
    let assessment = d.state.assessment();
    assert_eq!(
        assessment.severity,
        Severity::Critical { unverified: false }
    );
    assert!(
        assessment
            .reasons
            .iter()
            .any(|r| r.starts_with("db-primary RPO breached: backup age 14h")),
        "{assessment:?}"
    );
}

#[test]
fn us_east_1_returning_brings_the_services_back_without_a_failover() {
    let mut d = Offline::new("region-outage");
    d.run_until(39 * 60);
    assert_eq!(d.state.severity(), Severity::Emergency);
    assert_eq!(d.shown("config-secrets"), HealthState::Unknown);
    assert_eq!(d.shown("file-storage"), HealthState::Down);
    assert_eq!(replicating(&d, "db-primary"), Some(38.0 * 60.0 + 1.0));
    // Nobody failed over: at 40 min the region's return alone brings everything back from
    // us-east-1, and the DR replica replicates again (the 5 min canary probe confirms its
    // backup at 45 min).
    d.run_until(46 * 60);
    for (_, c) in d.state.estate().iter() {
        assert_eq!(d.shown(&c.id), HealthState::Up, "{}", c.id);
    }
    assert_eq!(
        d.reason("db-primary"),
        "accepting connections (primary; db.dtem.internal → dtem-postgres, us-east-1)"
    );
    assert_eq!(d.reason("web-apps"), "HTTP 200 (served from us-east-1)");
    assert_eq!(replicating(&d, "db-primary"), Some(1.0));
    assert_eq!(
        d.state.severity(),
        Severity::Healthy,
        "{:?}",
        d.state.assessment()
    );
}

#[test]
fn after_a_level_3_failover_the_region_returns_but_the_rpo_stays_breached() {
    let mut d = Offline::new("region-outage");
    level_3(&mut d);
    d.run_until(46 * 60);
    // What lives in us-east-1 is back; what DNS serves stays where DNS points.
    assert_eq!(d.shown("config-secrets"), HealthState::Up);
    assert_eq!(d.shown("file-storage"), HealthState::Up);
    assert_eq!(d.reason("web-apps"), "HTTP 200 (served from us-west-2)");
    assert_eq!(
        d.reason("db-primary"),
        "accepting connections (primary; db.dtem.internal → dtem-postgres-dr-replica, us-west-2)"
    );
    // The promoted replica stays promoted: no replication, the newest backup 14 h old.
    assert_eq!(replicating(&d, "db-primary"), None);
    assert_eq!(d.state.severity(), Severity::Critical { unverified: false });
    let reasons = reasons(&d);
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons[0].starts_with("db-primary RPO breached: backup age 14h"),
        "{reasons:?}"
    );
    assert_eq!(
        reasons[1],
        "db-primary lag dtem-postgres-dr-replica NOT RUNNING: replication not running (ReplicaLag -1)"
    );
}

#[test]
fn the_failback_runbook_brings_the_estate_back_to_healthy() {
    let mut d = Offline::new("region-outage");
    level_3(&mut d);
    // While us-east-1 is away the failback cannot start: config & secrets are not seen UP.
    d.run_until(30 * 60);
    let rb = d
        .config
        .runbooks
        .iter()
        .find(|r| r.id == "failback")
        .expect("failback")
        .clone();
    let first = &rb.steps[0];
    assert!(
        matches!(state_of(&d.state, &rb, first), StepState::Pending { ref why } if why.starts_with("config-secrets")),
        "{:?}",
        state_of(&d.state, &rb, first)
    );
    failback(&mut d);
    // The old DR instance renamed, the new one still being created: nothing replicates yet.
    d.run_until(3000);
    assert_eq!(d.shown("db-dr"), HealthState::Degraded);
    assert_eq!(d.reason("web-apps"), "HTTP 200 (served from us-east-1)");
    assert_eq!(d.state.severity(), Severity::Critical { unverified: false });
    // Ten minutes later it replicates: every component UP, the RPO kept, HEALTHY.
    d.run_until(3700);
    for (_, c) in d.state.estate().iter() {
        assert_eq!(d.shown(&c.id), HealthState::Up, "{}", c.id);
    }
    assert_eq!(
        d.reason("db-primary"),
        "accepting connections (primary; db.dtem.internal → dtem-postgres, us-east-1)"
    );
    assert_eq!(
        d.reason("db-dr"),
        "available (read replica of dtem-postgres)"
    );
    assert_eq!(replicating(&d, "db-primary"), Some(1.0));
    assert_eq!(
        d.state.severity(),
        Severity::Healthy,
        "{:?}",
        d.state.assessment()
    );
}

#[test]
fn the_failover_runbook_passes_its_lag_prechecks_once_writes_stop() {
    let mut d = Offline::new("region-outage");
    d.run_until(20);
    // The planned failover stops writes in us-east-1: not while the region is down (the
    // wrong runbook for a region outage is not rewarded), once it is back (40 min).
    assert!(!d.act("failover", "stop-writes", 20).succeeded());
    d.run_until(2420);
    assert!(d.act("failover", "stop-writes", 2420).succeeded());
    d.run_until(2600);
    let ix = d.state.estate().ix("db-primary").expect("db-primary");
    let lag = d
        .state
        .component(ix)
        .and_then(|c| c.lag())
        .and_then(|l| l.replicas().first())
        .and_then(|r| r.value())
        .expect("a measured lag");
    assert_eq!(lag.seconds, 2.0);
    for (id, at) in [
        ("promote", 2600),
        ("activate-services", 2610),
        ("dns", 2700),
    ] {
        d.run_until(at);
        assert!(d.act("failover", id, at).succeeded(), "{id}");
    }
    d.run_until(2900);
    assert_eq!(d.shown("db-dr"), HealthState::Up);
    assert_eq!(d.shown("apps-dr"), HealthState::Up);
    assert_eq!(d.shown("web-apps"), HealthState::Up);
}

#[test]
fn az_failure_is_degraded_and_the_level_2_runbook_makes_it_healthy() {
    let mut d = Offline::new("az-failure");
    d.run_until(1);
    assert_eq!(d.state.severity(), Severity::Healthy);
    d.run_until(60);
    assert_eq!(d.shown("cache-redis"), HealthState::Down);
    assert_eq!(d.shown("db-primary"), HealthState::Degraded);
    assert_eq!(d.state.severity(), Severity::Degraded);
    for (id, at) in [
        ("verify-az", 60),
        ("avoid-az-api-gateway", 70),
        ("scale-api-gateway", 80),
    ] {
        d.run_until(at);
        assert!(d.act("l2-az-us-east-1a", id, at).succeeded(), "{id}");
    }
    d.run_until(200);
    assert_eq!(d.shown("web-apps"), HealthState::Up);
    assert_eq!(d.shown("db-primary"), HealthState::Up);
    assert_eq!(d.shown("cache-redis"), HealthState::Up);
    d.run_until(8 * 60);
    assert_eq!(
        d.state.severity(),
        Severity::Healthy,
        "{:?}",
        d.state.assessment()
    );
}

// ---------------------------------------------------------------- the running drill

fn region_outage() -> Scenario {
    Scenario::builtin("region-outage").expect("built in")
}

#[tokio::test(start_paused = true)]
async fn the_executor_runs_steps_in_simulated_time() {
    let config = load_embedded_example();
    let drill = start_at(&config, region_outage(), t0(), 10.0).expect("fits");
    let executor: Arc<dyn Executor> = drill.executor();
    let (ptx, mut prx) = mpsc::channel(16);
    let inputs = BTreeMap::new();
    let promote = step(&config, "l3-region-failover", "promote-db");
    let real = tokio::time::Instant::now();
    let outcome = executor.run(promote, &inputs, None, ptx.clone()).await;
    // Accepted is not done: the promotion's postcondition is read from the world, as the
    // real executor reads it from AWS.
    assert_eq!(
        outcome,
        StepOutcome::Checked {
            summary: "dtem-postgres-dr-replica is being promoted to a standalone primary".into(),
            held: true,
            evidence: "dtem-postgres-dr-replica available (promoted to primary) (simulated)".into(),
        }
    );
    // The 2 s call and the 90 s promotion took 9.2 s of real time at speed 10.
    assert_eq!(real.elapsed(), Duration::from_millis(9200));
    assert_eq!(
        prx.recv().await,
        Some(StepProgress::Status(
            "PromoteReadReplica dtem-postgres-dr-replica…".into()
        ))
    );
    assert_eq!(
        prx.recv().await,
        Some(StepProgress::Output(
            "PromoteReadReplica dtem-postgres-dr-replica (us-west-2): accepted, status modifying"
                .into()
        ))
    );

    // A scale is verified by its rollout: until it is done, in simulated time.
    let scale = step(&config, "l3-region-failover", "scale-dte-service");
    let before = drill.now();
    let outcome = executor.run(scale, &inputs, None, ptx.clone()).await;
    assert!(
        matches!(&outcome, StepOutcome::Checked { held: true, evidence, .. } if evidence.ends_with("(simulated)")),
        "{outcome:?}"
    );
    let waited = drill.now().duration_since(before).as_secs();
    assert!((58..=64).contains(&waited), "waited {waited}s");
    // Then waiting for it is over at once.
    let wait = step(&config, "l3-region-failover", "wait-dte-service");
    let outcome = executor.run(wait, &inputs, None, ptx.clone()).await;
    assert_eq!(
        outcome,
        StepOutcome::Succeeded {
            summary: "dte-service: available".into()
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_wait_that_never_ends_times_out() {
    let config = load_embedded_example();
    // apps-dr down for good: waiting for its deployment times out after 10 min.
    let scenario = Scenario::parse(
        std::path::Path::new("s.toml"),
        "name = \"s\"\n[[event]]\nat = \"0s\"\ncomponent = \"apps-dr\"\nhealth = \"down\"\n",
    )
    .expect("valid");
    let drill = start_at(&config, scenario, t0(), 100.0).expect("fits");
    let executor = drill.executor();
    let (ptx, mut prx) = mpsc::channel(64);
    let wait = Step {
        id: "wait".into(),
        title: "Wait".into(),
        key: 'w',
        action: crate::config::Action::K8sWaitAvailable {
            namespace: "dtem-prod".into(),
            deployment: "api-gateway".into(),
            context: Some("dtem-us-west-2".into()),
            timeout: secs(600),
        },
        confirm: "api-gateway".into(),
        requires: vec![],
        precheck: vec![],
        verify: None,
        inputs: vec![],
        component: None,
    };
    let outcome = executor.run(&wait, &BTreeMap::new(), None, ptx).await;
    assert_eq!(
        outcome,
        StepOutcome::Failed {
            reason: "timed out after 10m: api-gateway: 0/3 available".into()
        }
    );
    assert_eq!(
        prx.recv().await,
        Some(StepProgress::Status("waiting for api-gateway…".into()))
    );
    assert_eq!(
        prx.recv().await,
        Some(StepProgress::Status("api-gateway: 0/3 available".into()))
    );
}

#[tokio::test(start_paused = true)]
async fn a_scenario_that_does_not_fit_is_refused() {
    let mut config = load_embedded_example();
    config.components.retain(|c| c.id != "db-primary");
    let Err(e) = start(&config, region_outage(), 1.0) else {
        panic!("refused")
    };
    let known =
        "apps-dr, cache-redis, config-secrets, db-dr, file-storage, message-queue, web-apps";
    // One error per place the scenario names db-primary, each with its line and column.
    let text = scenario::BUILTIN
        .iter()
        .find(|(n, _)| *n == "region-outage")
        .expect("built in")
        .1;
    let places: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "component = \"db-primary\"")
        .map(|(i, _)| i + 1)
        .collect();
    assert!(places.len() > 5, "{places:?}");
    let errors: Vec<String> = e.to_string().lines().map(String::from).collect();
    assert_eq!(errors.len(), places.len(), "{errors:#?}");
    for (error, line) in errors.iter().zip(&places) {
        let at = format!("config/scenarios/region-outage.toml:{line}:13: ");
        assert!(error.starts_with(&at), "{error} (expected {at})");
        assert!(
            error.ends_with(&format!(
                ".component: unknown component \"db-primary\" (known: {known})"
            )),
            "{error}"
        );
    }
    assert!(
        errors[0].contains(":13: event[0].component: "),
        "{errors:#?}"
    );
}

#[test]
fn sim_probes_describe_themselves() {
    let config = load_embedded_example();
    let world = Arc::new(Mutex::new(
        SimWorld::new(&config, &region_outage(), t0()).expect("fits"),
    ));
    let clock: Arc<dyn Clock> = Arc::new(SimClock::new(t0(), 1.0));
    let probe = SimProbe {
        world,
        component: ComponentIx(0),
        signal: Signal::Lag {
            replica: "dtem-postgres-dr-replica".into(),
        },
        clock,
    };
    assert_eq!(
        probe.describe(),
        "simulated lag of db-primary (dtem-postgres-dr-replica)"
    );
}

#[test]
fn the_drill_report_shows_the_rto_achieved_by_each_component_that_was_down() {
    let mut d = Offline::new("region-outage");
    level_3(&mut d);
    failback(&mut d);
    d.run_until(3700);
    assert_eq!(d.state.severity(), Severity::Healthy);
    d.record(&[Effect::Append(Entry {
        at: add(t0(), secs(3700)),
        kind: EntryKind::Status {
            from: IncidentStatus::Investigating,
            to: IncidentStatus::Resolved,
        },
    })]);
    // The drill's journal as `warroom report` reads it: from its file, chain verified.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("drill.jsonl");
    let lines: String = d
        .journal
        .entries()
        .iter()
        .map(|e| format!("{}\n", e.to_line()))
        .collect();
    std::fs::write(&path, lines).expect("write");
    let (loaded, verify) = crate::journal::load_verified(&path).expect("load");
    assert!(verify.ok(), "{verify:?}");
    let recorded = crate::report::in_time_order(&loaded.entries);
    let report = crate::report::render(&crate::report::ReportInput {
        id: "2023-11-14T2213Z-drill-us-east-1-down",
        kind: crate::report::ReportKind::Drill,
        loaded: &loaded,
        verify: &verify,
        entries: &|visit| recorded.iter().for_each(visit),
    });
    // Every component that was DOWN, with its RTO target, the time it took and the verdict:
    // the queue and the web apps back from us-west-2 within their 15 and 30 minutes, the
    // database within its hour, file storage when us-east-1 returned.
    let table = report
        .split("## RTO/RPO Metrics\n\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("the RTO/RPO table");
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(2)
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect();
    let rto: Vec<[&str; 5]> = rows
        .iter()
        .map(|r| [r[0], r[1], r[2], r[3], r[4]])
        .collect();
    assert_eq!(
        rto,
        [
            [
                "db-primary",
                "2023-11-14 22:13:20 UTC",
                "1h",
                "5m15s",
                "met"
            ],
            [
                "message-queue",
                "2023-11-14 22:13:35 UTC",
                "15m",
                "5m",
                "met"
            ],
            [
                "cache-redis",
                "2023-11-14 22:13:35 UTC",
                "30m",
                "5m30s",
                "met"
            ],
            ["web-apps", "2023-11-14 22:13:50 UTC", "30m", "4m45s", "met"],
            [
                "file-storage",
                "2023-11-14 22:14:20 UTC",
                "2h",
                "39m",
                "met"
            ],
        ],
        "{table}"
    );
    assert!(
        report.contains("| db-primary recovered after 5m15s (RTO 1h) |"),
        "{report}"
    );
    assert!(
        report.contains(
            "- **Duration**: 1h01m (simulated time, from the first failure to resolution)"
        ),
        "{report}"
    );
    assert!(
        report.contains("- **DONE (not verifiable)** failback/recreate-dr-replica: succeeded"),
        "{report}"
    );
    assert!(!report.contains("not recovered"), "{report}");
    assert!(!report.contains("RTO MISSED"), "{report}");
}
