//! The typed configuration: what `config/example.toml` says, after `check` has accepted it.
//!
//! These types are built by [`super::read`] from the parsed document tree, not by serde:
//! serde stops at the first error, and `check` must report every error with its span.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Console-wide settings (`[console]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Console {
    pub title: String,
    pub theme: String,
    pub layout: String,
    /// Unix users who may run steps; empty means everyone.
    pub operators: Vec<String>,
    /// A console whose terminal has not drained for this long (a stalled SSH link) hands the
    /// recorder's lock to a live console.
    pub stalled_after: Duration,
    /// ASCII glyphs and borders: `Some` as the config says, `None` (`"auto"`) when the
    /// locale's codeset is not UTF-8. `--ascii` forces it on.
    pub ascii: Option<bool>,
}

impl Default for Console {
    fn default() -> Self {
        Console {
            title: "warroom".into(),
            theme: "dark".into(),
            layout: "auto".into(),
            operators: Vec::new(),
            stalled_after: Duration::from_secs(30),
            ascii: None,
        }
    }
}

/// `[aws]`: credentials always come from the SDK's default chain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Aws {
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Critical,
    Standard,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Critical => "critical",
            Tier::Standard => "standard",
        }
    }
}

/// How often a probe runs and how many agreeing answers change what the screen says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub every: Duration,
    pub timeout: Duration,
    pub confirm_after: u32,
}

impl Schedule {
    pub const DEFAULT_EVERY: Duration = Duration::from_secs(15);
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_CONFIRM_AFTER: u32 = 2;
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            every: Self::DEFAULT_EVERY,
            timeout: Self::DEFAULT_TIMEOUT,
            confirm_after: Self::DEFAULT_CONFIRM_AFTER,
        }
    }
}

/// Where a secret-free connection string comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Dsn {
    /// The name of the environment variable that holds the DSN.
    Env(String),
    /// A DSN written in the config; `check` refuses one with a password.
    Inline(String),
}

/// Health probe kinds, as `kind` names them (`check` and `warroom schema` read this list).
pub const HEALTH_KINDS: &[&str] = &[
    "http",
    "tcp",
    "command",
    "k8s_deployment",
    "rds_instance",
    "postgres",
];
/// Lag probe kinds.
pub const LAG_KINDS: &[&str] = &["cloudwatch", "postgres_replica"];
/// Backup probe kinds.
pub const BACKUP_KINDS: &[&str] = &["rds_snapshots", "files", "command"];
/// Action kinds, as a step's `action.kind` names them (also a scenario's `kinds`).
pub const ACTION_KINDS: &[&str] = &[
    "rds_promote_read_replica",
    "rds_restore_snapshot",
    "rds_restore_point_in_time",
    "rds_failover_cluster",
    "k8s_rollout_restart",
    "k8s_scale",
    "k8s_wait_available",
    "command",
    "http",
    "checklist",
    "notify",
];

#[derive(Debug, Clone, PartialEq)]
pub enum HealthKind {
    Http {
        url: String,
        expect_status: u16,
        body_contains: Option<String>,
        /// Header name → name of the environment variable holding its value.
        headers_env: BTreeMap<String, String>,
        warn_latency: Option<Duration>,
    },
    Tcp {
        address: String,
    },
    Command {
        argv: Vec<String>,
        /// Exits that say the program could not look (`aws`: 253 no credentials, 255 its
        /// own failure): UNKNOWN, not DOWN.
        unknown_exit: Vec<i32>,
    },
    K8sDeployment {
        namespace: String,
        deployment: String,
        context: Option<String>,
    },
    RdsInstance {
        instance: String,
        region: String,
    },
    Postgres {
        dsn: Dsn,
    },
}

impl HealthKind {
    pub fn name(&self) -> &'static str {
        match self {
            HealthKind::Http { .. } => "http",
            HealthKind::Tcp { .. } => "tcp",
            HealthKind::Command { .. } => "command",
            HealthKind::K8sDeployment { .. } => "k8s_deployment",
            HealthKind::RdsInstance { .. } => "rds_instance",
            HealthKind::Postgres { .. } => "postgres",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthProbe {
    pub kind: HealthKind,
    pub schedule: Schedule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LagMetric {
    ReplicaLag,
    AuroraReplicaLag,
}

impl LagMetric {
    pub fn as_str(self) -> &'static str {
        match self {
            LagMetric::ReplicaLag => "ReplicaLag",
            LagMetric::AuroraReplicaLag => "AuroraReplicaLag",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum LagKind {
    Cloudwatch {
        instance: String,
        region: String,
        metric: LagMetric,
    },
    PostgresReplica {
        dsn: Dsn,
    },
}

impl LagKind {
    pub fn name(&self) -> &'static str {
        match self {
            LagKind::Cloudwatch { .. } => "cloudwatch",
            LagKind::PostgresReplica { .. } => "postgres_replica",
        }
    }
}

/// Warn and crit thresholds of a lag or a backup age.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub warn: Duration,
    pub crit: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LagProbe {
    pub kind: LagKind,
    pub schedule: Schedule,
    pub thresholds: Thresholds,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotSource {
    Instance(String),
    Cluster(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum BackupKind {
    RdsSnapshots {
        source: SnapshotSource,
        region: String,
    },
    Files {
        glob: String,
    },
    Command {
        argv: Vec<String>,
    },
}

impl BackupKind {
    pub fn name(&self) -> &'static str {
        match self {
            BackupKind::RdsSnapshots { .. } => "rds_snapshots",
            BackupKind::Files { .. } => "files",
            BackupKind::Command { .. } => "command",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BackupProbe {
    pub kind: BackupKind,
    pub schedule: Schedule,
    pub thresholds: Thresholds,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub id: String,
    pub name: String,
    /// What customers call it (the public page's wording), in English and in Spanish: the
    /// public part of an update names a component only by these.
    pub public_name: Option<String>,
    pub public_name_es: Option<String>,
    pub tier: Tier,
    pub group: Option<String>,
    /// Where it lives: the DR level of an outage comes from how far the failures spread.
    pub region: Option<String>,
    pub zone: Option<String>,
    pub rto: Option<Duration>,
    pub rpo: Option<Duration>,
    pub health: HealthProbe,
    pub lag: Option<LagProbe>,
    pub backup: Option<BackupProbe>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotChoice {
    Named(String),
    /// The newest available snapshot of this instance.
    LatestOf(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    RdsPromoteReadReplica {
        instance: String,
        region: String,
    },
    RdsRestoreSnapshot {
        snapshot: SnapshotChoice,
        target: String,
        instance_class: Option<String>,
        region: String,
        placement: Placement,
    },
    RdsRestorePointInTime {
        source: String,
        target: String,
        region: String,
        placement: Placement,
    },
    RdsFailoverCluster {
        cluster: String,
        target_instance: Option<String>,
        region: String,
    },
    K8sRolloutRestart {
        namespace: String,
        deployment: String,
        context: Option<String>,
    },
    K8sScale {
        namespace: String,
        deployment: String,
        context: Option<String>,
        replicas: u32,
    },
    K8sWaitAvailable {
        namespace: String,
        deployment: String,
        context: Option<String>,
        timeout: Duration,
    },
    Command {
        argv: Vec<String>,
        env: BTreeMap<String, String>,
        cwd: Option<PathBuf>,
        timeout: Duration,
        /// The region it acts in, when it acts in one (`region = "us-east-1"`): a drill fails
        /// it like a real call while that region is down.
        region: Option<String>,
    },
    Http {
        method: String,
        url: String,
        /// Plain headers (e.g. Content-Type); `check` refuses credentials here.
        headers: BTreeMap<String, String>,
        headers_env: BTreeMap<String, String>,
        body: Option<String>,
        expect_status: u16,
        /// The region it acts in, as for a command.
        region: Option<String>,
    },
    Checklist {
        items: Vec<String>,
    },
    Notify {
        template: String,
        /// The incident status the update announces, when the step fixes it (the L3
        /// runbook's restoration notice is `monitoring`: the lost region is still out).
        status: Option<String>,
    },
}

/// The incident statuses an update may announce, as the config writes them.
pub const INCIDENT_STATUSES: [&str; 4] = ["investigating", "identified", "monitoring", "resolved"];

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::RdsPromoteReadReplica { .. } => "rds_promote_read_replica",
            Action::RdsRestoreSnapshot { .. } => "rds_restore_snapshot",
            Action::RdsRestorePointInTime { .. } => "rds_restore_point_in_time",
            Action::RdsFailoverCluster { .. } => "rds_failover_cluster",
            Action::K8sRolloutRestart { .. } => "k8s_rollout_restart",
            Action::K8sScale { .. } => "k8s_scale",
            Action::K8sWaitAvailable { .. } => "k8s_wait_available",
            Action::Command { .. } => "command",
            Action::Http { .. } => "http",
            Action::Checklist { .. } => "checklist",
            Action::Notify { .. } => "notify",
        }
    }

    /// The confirm phrase of a step that names none: `<verb> <region-or-context>/<target>[ to
    /// <value>]`, so that two different actions never share one (`promote
    /// us-west-2/dtem-postgres-dr-replica`, `scale dtem-us-west-2/api-gateway to 5`). `None`
    /// for `command` and `http` steps: nothing says what they act on, so they must set
    /// `confirm`.
    pub fn default_phrase(&self) -> Option<String> {
        let k8s = |verb: &str, ns: &str, ctx: &Option<String>, dep: &str| {
            format!("{verb} {}/{dep}", ctx.as_deref().unwrap_or(ns))
        };
        Some(match self {
            Action::RdsPromoteReadReplica { instance, region } => {
                format!("promote {region}/{instance}")
            }
            Action::RdsRestoreSnapshot { target, region, .. }
            | Action::RdsRestorePointInTime { target, region, .. } => {
                format!("restore {region}/{target}")
            }
            Action::RdsFailoverCluster {
                cluster,
                target_instance,
                region,
            } => match target_instance {
                Some(t) => format!("failover {region}/{cluster} to {t}"),
                None => format!("failover {region}/{cluster}"),
            },
            Action::K8sRolloutRestart {
                namespace,
                deployment,
                context,
            } => k8s("restart", namespace, context, deployment),
            Action::K8sScale {
                namespace,
                deployment,
                context,
                replicas,
            } => format!(
                "{} to {replicas}",
                k8s("scale", namespace, context, deployment)
            ),
            Action::K8sWaitAvailable {
                namespace,
                deployment,
                context,
                ..
            } => k8s("wait", namespace, context, deployment),
            Action::Checklist { .. } => "done".into(),
            Action::Notify {
                template,
                status: None,
            } => format!("notify {template}"),
            Action::Notify {
                template,
                status: Some(status),
            } => format!("notify {template} as {status}"),
            Action::Command { .. } | Action::Http { .. } => return None,
        })
    }

    /// Whether the console itself carries the step out, with no executor: a checklist (a
    /// person ticks each item in the modal) and a `notify` (its update goes to the outbox).
    /// `app::update` finishes these; an executor handed one refuses it.
    pub fn console_own(&self) -> bool {
        matches!(self, Action::Checklist { .. } | Action::Notify { .. })
    }

    /// Whether the step acts on something (a checklist only records that people did).
    pub fn acts(&self) -> bool {
        !matches!(self, Action::Checklist { .. })
    }

    /// The thing acted on (its instance, deployment, template…).
    pub fn target_name(&self) -> String {
        match self {
            Action::RdsPromoteReadReplica { instance, .. } => instance.clone(),
            Action::RdsRestoreSnapshot { target, .. } => target.clone(),
            Action::RdsRestorePointInTime { target, .. } => target.clone(),
            Action::RdsFailoverCluster { cluster, .. } => cluster.clone(),
            Action::K8sRolloutRestart { deployment, .. }
            | Action::K8sScale { deployment, .. }
            | Action::K8sWaitAvailable { deployment, .. } => deployment.clone(),
            Action::Command { argv, .. } => argv
                .first()
                .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
                .unwrap_or_default(),
            Action::Http { url, .. } => url.clone(),
            Action::Checklist { .. } => "done".into(),
            Action::Notify { template, .. } => template.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Text,
    Rfc3339,
    Integer,
}

impl InputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::Text => "text",
            InputKind::Rfc3339 => "rfc3339",
            InputKind::Integer => "integer",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub name: String,
    pub kind: InputKind,
    pub prompt: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedState {
    Up,
    Down,
}

/// A condition checked against live values before a step may run.
#[derive(Debug, Clone, PartialEq)]
pub enum Precheck {
    LagBelow {
        component: String,
        max: Duration,
    },
    BackupYoungerThan {
        component: String,
        max: Duration,
    },
    State {
        component: String,
        state: ExpectedState,
    },
}

impl Precheck {
    pub fn component(&self) -> &str {
        match self {
            Precheck::LagBelow { component, .. }
            | Precheck::BackupYoungerThan { component, .. }
            | Precheck::State { component, .. } => component,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verify {
    pub component: String,
    pub up_within: Duration,
    /// What an UP answer's detail must (not) say to count: UP alone says nothing of what
    /// the step was for (a replica that is still a replica is UP).
    pub expect: Expect,
}

/// Conditions on an answer's detail (`expect = { not_contains = "replica of" }`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expect {
    pub contains: Option<String>,
    pub not_contains: Option<String>,
}

impl Expect {
    /// Why `detail` does not meet these conditions, if it does not.
    pub fn unmet(&self, detail: &str) -> Option<String> {
        if let Some(c) = self.contains.as_deref().filter(|c| !detail.contains(c)) {
            return Some(format!("does not say \"{c}\""));
        }
        if let Some(c) = self.not_contains.as_deref().filter(|c| detail.contains(c)) {
            return Some(format!("says \"{c}\""));
        }
        None
    }
}

/// Where a restored instance lands and how it is set up. What is not given is copied from
/// the source instance when it answers in the target region; what is still unknown is AWS's
/// default (the default VPC and security group: a database the apps cannot reach).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    pub subnet_group: Option<String>,
    pub security_groups: Option<Vec<String>>,
    pub parameter_group: Option<String>,
    pub option_group: Option<String>,
    pub multi_az: Option<bool>,
    pub deletion_protection: Option<bool>,
    /// Default false: a restored database is never put on the internet by omission.
    pub publicly_accessible: Option<bool>,
    pub port: Option<u16>,
    pub tags: BTreeMap<String, String>,
    pub storage_type: Option<String>,
    pub iops: Option<u32>,
}

impl Placement {
    /// Whether the network (subnet group and security groups) is known without asking.
    pub fn has_network(&self) -> bool {
        self.subnet_group.is_some() && self.security_groups.is_some()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub key: char,
    pub action: Action,
    pub confirm: String,
    pub requires: Vec<String>,
    pub precheck: Vec<Precheck>,
    pub verify: Option<Verify>,
    pub inputs: Vec<Input>,
    /// The component whose data the step puts at stake, when written (`component = "db"`).
    pub component: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    pub id: String,
    pub title: String,
    /// The file the runbook was written in (the main config or one of its `runbook_files`).
    pub file: PathBuf,
    /// The DR level it serves (`level = 3`), 1..=4.
    pub level: Option<u8>,
    pub steps: Vec<Step>,
}

/// Where a secret is read from, at the moment it is needed: never from the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// The name of the environment variable that holds it.
    Env(String),
    /// A file holding it (owned by the user, mode 0600; a trailing newline is not part of it),
    /// resolved against the config file's directory.
    File(PathBuf),
}

impl Secret {
    /// Where it comes from, as it may be shown (the name, never the value).
    pub fn describe(&self) -> String {
        match self {
            Secret::Env(var) => format!("${var}"),
            Secret::File(path) => path.display().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SlackAuth {
    /// Bot token: postMessage + threaded replies + chat.update.
    Token(Secret),
    /// Incoming webhook: the URL itself is the secret.
    Webhook(Secret),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slack {
    pub auth: SlackAuth,
    pub channel: Option<String>,
    pub api_url: String,
    /// Who reads the channel: the team (everything) or the public (the public part only).
    pub audience: Audience,
}

/// Who reads a channel (`[slack] audience`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Audience {
    /// The team: the internal text and the facts.
    #[default]
    Team,
    /// Customers or partners: only the public part of an update, and `publish` is typed.
    Public,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StatusPageKind {
    Atlassian {
        page_id: String,
        api_key: Secret,
        api_url: String,
    },
    /// A generic webhook receiving the whole status-page state as JSON (seed 000's
    /// StatusPageService: status, components, incidents, lastUpdated).
    Webhook { url: Secret },
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusPage {
    pub kind: StatusPageKind,
    /// Our component id → the status page's component id.
    pub components: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct JournalConfig {
    pub dir: Option<PathBuf>,
}

/// The language of the update templates (`[comms] language`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    En,
    Es,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Es];

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
        }
    }

    pub fn parse(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// `[comms]`: how updates are written and delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct CommsConfig {
    /// An update still not delivered this long after it was queued (and tried) is given up,
    /// so that the ones behind it go on: the next one supersedes it.
    pub give_up_after: Duration,
    /// The templates' language, and the public component names they use.
    pub language: Language,
}

/// The default of `[comms] give_up_after`.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(10 * 60);

impl Default for CommsConfig {
    fn default() -> CommsConfig {
        CommsConfig {
            give_up_after: GIVE_UP_AFTER,
            language: Language::En,
        }
    }
}

/// A whole, valid configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The main config file this was read from.
    pub path: PathBuf,
    pub console: Console,
    pub aws: Aws,
    pub components: Vec<Component>,
    pub runbooks: Vec<Runbook>,
    pub slack: Option<Slack>,
    pub statuspage: Option<StatusPage>,
    pub journal: JournalConfig,
    pub comms: CommsConfig,
    /// Every step's `cwd` and where it is written, for `check`'s warning on this machine.
    pub workdirs: Vec<(PathBuf, super::tree::Loc)>,
}

impl Config {
    /// Every secret the config names: the comms' tokens, keys and webhook URLs, the DSNs of
    /// its PostgreSQL probes, the header values of its `http` probes and steps. Children never
    /// get these variables; every text is scrubbed of their values.
    pub fn secrets(&self) -> Vec<Secret> {
        let mut out: Vec<Secret> = Vec::new();
        if let Some(s) = &self.slack {
            out.push(match &s.auth {
                SlackAuth::Token(t) | SlackAuth::Webhook(t) => t.clone(),
            });
        }
        if let Some(p) = &self.statuspage {
            out.push(match &p.kind {
                StatusPageKind::Atlassian { api_key, .. } => api_key.clone(),
                StatusPageKind::Webhook { url } => url.clone(),
            });
        }
        let env = |name: &String| Secret::Env(name.clone());
        for c in &self.components {
            match &c.health.kind {
                HealthKind::Postgres { dsn: Dsn::Env(v) } => out.push(env(v)),
                HealthKind::Http { headers_env, .. } => out.extend(headers_env.values().map(env)),
                _ => {}
            }
            if let Some(LagProbe {
                kind: LagKind::PostgresReplica { dsn: Dsn::Env(v) },
                ..
            }) = &c.lag
            {
                out.push(env(v));
            }
        }
        for step in self.runbooks.iter().flat_map(|r| &r.steps) {
            if let Action::Http { headers_env, .. } = &step.action {
                out.extend(headers_env.values().map(env));
            }
        }
        out.dedup();
        out
    }

    pub fn component(&self, id: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.id == id)
    }

    pub fn step_count(&self) -> usize {
        self.runbooks.iter().map(|r| r.steps.len()).sum()
    }
}
