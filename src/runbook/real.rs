//! [`RealExecutor`]: runs a step's action against the real estate, dispatching on its kind
//! (see the table in [`crate::runbook`]).
//!
//! It holds the console's clients: one AWS SDK config per region (with the config's
//! `[aws] endpoint_url`) and one Kubernetes client per kubeconfig context, built on first
//! use and shared with the probes when built from the same [`cloud::Clients`].
//!
//! `checklist` and `notify` are the console's own ([`Action::console_own`]): the model ends
//! them when their claim is granted. Handed to this executor, they end `Failed` "handled by
//! the console", having done nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;

use super::kubernetes::Target;
use super::{
    Executor, Postcondition, ReadFuture, RunFuture, StepLog, StepProgress, command, failed, http,
    kubernetes, rds,
};
use crate::cloud;
use crate::config::{Action, Config, Step};

/// What the executors wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecutorOptions {
    /// How often `k8s_wait_available` looks at the Deployment.
    pub wait_poll: Duration,
    /// How long an `http` step may take (connect, answer and body).
    pub http_timeout: Duration,
    /// How long a rollout restart or a scale is watched for its rollout to complete (its
    /// postcondition), looking every `wait_poll`.
    pub rollout_within: Duration,
}

/// A restore's landing: its configured placement, and the operator's `override defaults`
/// reason when the modal took one (carried among the inputs under a name no input can have).
fn landing<'a>(
    placement: &'a crate::config::Placement,
    inputs: &'a BTreeMap<String, String>,
) -> rds::Landing<'a> {
    rds::Landing {
        configured: placement,
        allow_defaults: inputs
            .get(crate::app::modal::OVERRIDE_DEFAULTS_INPUT)
            .map(String::as_str),
    }
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        ExecutorOptions {
            wait_poll: Duration::from_secs(2),
            http_timeout: Duration::from_secs(30),
            rollout_within: super::kubernetes::ROLLOUT_WITHIN,
        }
    }
}

/// Runs every action kind for real. Cheap to share (`Arc` it).
#[derive(Clone)]
pub struct RealExecutor {
    clients: cloud::Clients,
    options: ExecutorOptions,
    /// Where `command` steps keep their output (None: pipes, dying with the console).
    step_logs: Option<StepLogs>,
}

/// Where `command` steps keep their output: beside the journal in `journal_dir`, trusted as
/// its files are (`operators` as `[console] operators` says), written by `relay`.
#[derive(Debug, Clone)]
pub struct StepLogs {
    pub journal_dir: std::path::PathBuf,
    pub operators: Vec<String>,
    /// This binary: the step's relay is `<relay> __step-relay -- <argv>`.
    pub relay: std::path::PathBuf,
}

impl std::fmt::Debug for RealExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealExecutor")
            .field("aws", &self.clients.aws)
            .field("kube", &self.clients.kube)
            .field("options", &self.options)
            .finish()
    }
}

impl RealExecutor {
    /// With the clients the probes use (one AWS config per region, one kube client per
    /// context).
    pub fn new(clients: cloud::Clients) -> RealExecutor {
        RealExecutor {
            clients,
            options: ExecutorOptions::default(),
            step_logs: None,
        }
    }

    /// With clients of its own, built from `config` (`[aws] endpoint_url`, the default
    /// kubeconfig).
    pub fn from_config(config: &Config) -> RealExecutor {
        RealExecutor::new(cloud::Clients::new(config))
    }

    pub fn with_options(mut self, options: ExecutorOptions) -> RealExecutor {
        self.options = options;
        self
    }

    /// `command` steps keep their output in a log of their own beside the journal, through
    /// a relay, and outlive a console that ends before them (the console's executor does
    /// this; tests need not).
    pub fn with_step_logs(mut self, logs: StepLogs) -> RealExecutor {
        self.step_logs = Some(logs);
        self
    }

    /// The log file for a run: `<incident>.steps/<run>.log` beside the journal it runs under
    /// (`watch.steps/` before an incident), its dir made if need be and trusted as the
    /// journal's files are; why not, when it cannot be.
    fn step_log(logs: &StepLogs, log: &StepLog) -> Result<std::path::PathBuf, String> {
        use crate::app::Source;
        use std::os::unix::fs::DirBuilderExt;
        let safe = |name: &str| -> String {
            let name: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            // Never a name that climbs or hides (`..`, `.x`), never none at all.
            match name.trim_start_matches('.') {
                "" => "_".to_string(),
                kept => kept.to_string(),
            }
        };
        let dir = match &log.source {
            Source::Incident { name, drill } => {
                let base = if *drill {
                    crate::journal::drills_dir(&logs.journal_dir)
                } else {
                    crate::journal::incidents_dir(&logs.journal_dir)
                };
                crate::journal::dirs::steps_dir(&base.join(safe(name)))
            }
            Source::Watch => crate::journal::dirs::steps_dir(&logs.journal_dir.join("watch.jsonl")),
            Source::Nothing => return Err("no journal is followed".into()),
        };
        let team = crate::journal::trust::Team::of(&logs.journal_dir, &logs.operators)
            .map_err(|e| e.to_string())?;
        // Its parent first: nothing is made through a directory (or a link) not the team's.
        if let Some(parent) = dir.parent() {
            match team.check(parent) {
                Ok(true) => {}
                Ok(false) => return Err(format!("{}: not there", parent.display())),
                Err(e) => return Err(e.to_string()),
            }
        }
        match std::fs::DirBuilder::new()
            .mode(crate::journal::file::DIR_MODE)
            .create(&dir)
        {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("{}: cannot create: {e}", dir.display())),
        }
        match team.check(&dir) {
            Ok(true) => Ok(dir.join(format!("{}.log", safe(&log.run)))),
            Ok(false) => Err(format!("{}: not there", dir.display())),
            Err(e) => Err(e.to_string()),
        }
    }

    /// [`RealExecutor::step_log`] off the runtime's workers: it walks and makes directories,
    /// and a slow disk must not stall the screen's tasks.
    async fn made_step_log(logs: &StepLogs, log: &StepLog) -> Result<std::path::PathBuf, String> {
        let (logs, log) = (logs.clone(), log.clone());
        tokio::task::spawn_blocking(move || Self::step_log(&logs, &log))
            .await
            .unwrap_or_else(|e| Err(format!("cannot make the step log: {e}")))
    }

    pub fn options(&self) -> ExecutorOptions {
        self.options
    }

    async fn execute(
        &self,
        step: &Step,
        inputs: &BTreeMap<String, String>,
        log: Option<&StepLog>,
        progress: &mpsc::Sender<StepProgress>,
    ) -> super::StepOutcome {
        let aws = &self.clients.aws;
        let kube = &self.clients.kube;
        match &step.action {
            Action::RdsPromoteReadReplica { instance, region } => {
                rds::promote_read_replica(aws, instance, region, progress).await
            }
            Action::RdsRestoreSnapshot {
                snapshot,
                target,
                instance_class,
                region,
                placement,
            } => {
                rds::restore_snapshot(
                    aws,
                    snapshot,
                    target,
                    instance_class.as_deref(),
                    region,
                    landing(placement, inputs),
                    progress,
                )
                .await
            }
            Action::RdsRestorePointInTime {
                source,
                target,
                region,
                placement,
            } => match rds::restore_time(&step.inputs, inputs, Timestamp::now()) {
                Ok(time) => {
                    rds::restore_point_in_time(
                        aws,
                        source,
                        target,
                        region,
                        time,
                        landing(placement, inputs),
                        progress,
                    )
                    .await
                }
                Err(reason) => failed(reason),
            },
            Action::RdsFailoverCluster {
                cluster,
                target_instance,
                region,
            } => {
                rds::failover_cluster(aws, cluster, target_instance.as_deref(), region, progress)
                    .await
            }
            Action::K8sRolloutRestart {
                namespace,
                deployment,
                context,
            } => {
                let target = Target {
                    namespace,
                    deployment,
                    context: context.as_deref(),
                };
                let watch = (self.options.wait_poll, self.options.rollout_within);
                kubernetes::rollout_restart(kube, target, watch, progress).await
            }
            Action::K8sScale {
                namespace,
                deployment,
                context,
                replicas,
            } => {
                let target = Target {
                    namespace,
                    deployment,
                    context: context.as_deref(),
                };
                let watch = (self.options.wait_poll, self.options.rollout_within);
                kubernetes::scale(kube, target, *replicas, watch, progress).await
            }
            Action::K8sWaitAvailable {
                namespace,
                deployment,
                context,
                timeout,
            } => {
                let target = Target {
                    namespace,
                    deployment,
                    context: context.as_deref(),
                };
                kubernetes::wait_available(kube, target, *timeout, self.options.wait_poll, progress)
                    .await
            }
            Action::Command {
                argv,
                env,
                cwd,
                timeout,
                ..
            } => {
                let kept = match (&self.step_logs, log) {
                    (Some(logs), Some(log)) => match Self::made_step_log(logs, log).await {
                        Ok(path) => Some((path, logs.relay.as_path())),
                        Err(why) => {
                            super::status(
                                progress,
                                format!(
                                    "no step log ({why}): the output is only on screen, and \
                                     the program ends with this console"
                                ),
                            )
                            .await;
                            None
                        }
                    },
                    _ => None,
                };
                let logging = kept.as_ref().map(|(log, relay)| command::Logging {
                    log: log.as_path(),
                    relay,
                });
                command::run(argv, env, cwd.as_deref(), *timeout, logging, progress).await
            }
            Action::Http {
                method,
                url,
                headers,
                headers_env,
                body,
                expect_status,
                ..
            } => {
                let request = http::StepRequest {
                    method,
                    url,
                    headers,
                    headers_env,
                    body: body.as_deref(),
                    expect_status: *expect_status,
                };
                http::run(request, self.options.http_timeout, progress).await
            }
            // `Action::console_own`: the model finishes these, never an executor.
            Action::Checklist { .. } => failed(
                "a checklist is handled by the console (a person ticks each item), not run by an executor: nothing done",
            ),
            Action::Notify { .. } => failed(
                "a notify is handled by the console (sent through comms), not run by an executor: nothing sent",
            ),
        }
    }
}

impl Executor for RealExecutor {
    fn run<'a>(
        &'a self,
        step: &'a Step,
        inputs: &'a BTreeMap<String, String>,
        log: Option<&'a StepLog>,
        progress: mpsc::Sender<StepProgress>,
    ) -> RunFuture<'a> {
        Box::pin(async move { self.execute(step, inputs, log, &progress).await })
    }

    fn read_postcondition<'a>(&'a self, postcondition: &'a Postcondition) -> ReadFuture<'a> {
        Box::pin(rds::read_postcondition(&self.clients.aws, postcondition))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Action;

    /// A journal dir as `journal init` leaves it (mode 2770, `incidents/` in it).
    fn journal_dir() -> (tempfile::TempDir, StepLogs) {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let top = dir.path().join("journal");
        std::fs::create_dir_all(top.join("incidents")).expect("mkdir");
        for d in [top.clone(), top.join("incidents")] {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o2770)).expect("chmod");
        }
        let logs = StepLogs {
            journal_dir: top,
            operators: Vec::new(),
            relay: "/proc/self/exe".into(),
        };
        (dir, logs)
    }

    fn run_of(name: &str) -> StepLog {
        StepLog {
            source: crate::app::Source::Incident {
                name: name.into(),
                drill: false,
            },
            run: "rb.step.1700000000000".into(),
        }
    }

    #[test]
    fn a_runs_log_is_beside_its_incidents_journal_in_a_dir_made_for_the_team() {
        use std::os::unix::fs::PermissionsExt;
        let (_d, logs) = journal_dir();
        let path = RealExecutor::step_log(&logs, &run_of("2026-12-07T0300Z-db.jsonl"))
            .expect("a log path");
        let steps = logs.journal_dir.join("incidents/2026-12-07T0300Z-db.steps");
        assert_eq!(path, steps.join("rb.step.1700000000000.log"));
        let mode = std::fs::metadata(&steps)
            .expect("made")
            .permissions()
            .mode();
        // Keeps the journal group (setgid), nothing for others, whatever the umask.
        assert_eq!(mode & 0o7007, 0o2000, "{mode:o}");
        // A name from another console's journal cannot climb out of the dir.
        let path = RealExecutor::step_log(&logs, &run_of("../../etc/x.jsonl")).expect("path");
        assert!(
            path.starts_with(logs.journal_dir.join("incidents")),
            "{}",
            path.display()
        );
        // Nothing left of a name: still a dir of its own inside.
        let path = RealExecutor::step_log(&logs, &run_of("..")).expect("path");
        assert!(
            path.starts_with(logs.journal_dir.join("incidents/_.steps")),
            "{}",
            path.display()
        );
    }

    #[test]
    fn a_steps_dir_planted_as_a_link_is_refused_and_nothing_is_written_through_it() {
        let (d, logs) = journal_dir();
        let elsewhere = d.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).expect("mkdir");
        std::os::unix::fs::symlink(
            &elsewhere,
            logs.journal_dir.join("incidents/2026-12-07T0300Z-db.steps"),
        )
        .expect("plant");
        let why = RealExecutor::step_log(&logs, &run_of("2026-12-07T0300Z-db.jsonl"))
            .expect_err("refused");
        assert!(why.contains("2026-12-07T0300Z-db.steps"), "{why}");
        assert_eq!(std::fs::read_dir(&elsewhere).expect("read").count(), 0);
        // No journal followed: no log.
        let none = StepLog {
            source: crate::app::Source::Nothing,
            run: "r".into(),
        };
        assert!(RealExecutor::step_log(&logs, &none).is_err());
    }

    fn step(action: Action) -> Step {
        Step {
            id: "s".into(),
            title: "s".into(),
            key: '1',
            confirm: action.target_name(),
            action,
            requires: Vec::new(),
            precheck: Vec::new(),
            verify: None,
            inputs: Vec::new(),
            component: None,
        }
    }

    fn executor() -> RealExecutor {
        // Nothing here may reach a network: an endpoint nobody listens on.
        let clients = cloud::Clients {
            aws: crate::cloud::aws::AwsClients::new(Some("http://127.0.0.1:9".into())),
            kube: crate::cloud::kubernetes::KubeClients::new(),
        };
        RealExecutor::new(clients)
    }

    async fn run(action: Action, inputs: &[(&str, &str)]) -> (super::super::StepOutcome, usize) {
        let inputs: BTreeMap<String, String> = inputs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (tx, mut rx) = mpsc::channel(16);
        let step = step(action);
        let outcome = executor().run(&step, &inputs, None, tx).await;
        let mut n = 0;
        while rx.recv().await.is_some() {
            n += 1;
        }
        (outcome, n)
    }

    #[tokio::test]
    async fn checklists_and_notify_are_the_consoles() {
        let (outcome, progress) = run(
            Action::Checklist {
                items: vec!["a".into()],
            },
            &[],
        )
        .await;
        assert!(
            matches!(&outcome, super::super::StepOutcome::Failed { reason } if reason.starts_with("a checklist is handled by the console")),
            "{outcome:?}"
        );
        assert_eq!(progress, 0);
        let (outcome, _) = run(
            Action::Notify {
                template: "declared".into(),
                status: None,
            },
            &[],
        )
        .await;
        assert!(
            matches!(&outcome, super::super::StepOutcome::Failed { reason } if reason.starts_with("a notify is handled by the console")),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn a_bad_restore_time_fails_before_anything_is_said_or_sent() {
        let action = Action::RdsRestorePointInTime {
            source: "db".into(),
            target: "db-pitr".into(),
            region: "us-east-1".into(),
            placement: Default::default(),
        };
        let (outcome, progress) = run(action, &[("time", "last tuesday")]).await;
        match outcome {
            super::super::StepOutcome::Failed { reason } => assert!(
                reason.starts_with("restore time \"last tuesday\" is not an RFC 3339 time"),
                "{reason}"
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(progress, 0, "no call was announced");
    }
}
