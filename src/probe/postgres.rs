//! PostgreSQL: the `postgres` health probe ([`PostgresProbe`]) and the `postgres_replica`
//! lag probe ([`ReplicaLagProbe`]), over tokio-postgres.
//!
//! The DSN comes from the variable named in the config (read at every observation, so a
//! rotated password is picked up) or is written inline (without a password). No outcome
//! ever carries the DSN or its password: messages name the host and port at most, and every
//! message is scrubbed of the password and the DSN text before it leaves this module.
//!
//! TLS as libpq's `sslmode` says ([`super::pg_tls`]): `disable`, `prefer` (the default),
//! `require`, `verify-ca`, `verify-full`, with `sslrootcert` (a PEM file, or `system`). The
//! health detail says whether the session is encrypted, as the server sees it
//! (`pg_stat_ssl`): "accepting connections (primary, TLS)" or "(primary, unencrypted)". A
//! certificate that fails verification reads `CannotObserve` with the reason; a server that
//! insists on TLS (`hostssl` only, RDS `rds.force_ssl`) refuses a `disable` connection with
//! a `pg_hba.conf` error (SQLSTATE 28000), `CannotObserve { Credentials }` with its message.
//!
//! Health:
//!
//! | what happened | outcome |
//! |---|---|
//! | connected, `select pg_is_in_recovery()` answered | `Up` (latency of connect + query), "accepting connections (primary)" or "(standby, read-only)" |
//! | connection refused, no route, DNS failure | `Down` "connection refused (host:port)", "DNS: …" |
//! | the server refused us (`FATAL: the database system is shutting down`, too many connections, no such database) | `Down` with the server's message |
//! | authentication failed (SQLSTATE 28P01 / 28000) | `CannotObserve { Credentials }` |
//! | connect timeout (`connect_timeout` in the DSN) | `CannotObserve { Timeout }` |
//! | variable unset, DSN unparsable, TLS asked | `CannotObserve { Other }` naming the variable, never its value |
//!
//! Replication lag ([`ReplicaLagProbe`]) asks `pg_is_in_recovery()` first.
//!
//! On a standby (answered under the configured replica name, "standby"):
//! - no WAL receiver (`pg_stat_wal_receiver` empty) → `Down` "not streaming, last replay at T"
//!   (replication not running: crit); a receiver in another state than `streaming` →
//!   `Down` "not streaming (WAL receiver waiting), last replay at T";
//! - streaming and `pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()` → `Seconds(0)`:
//!   everything received is replayed, lag 0 even on an idle primary;
//! - else `Seconds(now() − pg_last_xact_replay_timestamp())`.
//!
//! On a primary ([`Probe::observe_all`]): one answer per row of `pg_stat_replication`
//! (base backups left out), named by `application_name` (else the client address): `state`
//! ≠ `streaming` → `Down` "not streaming (state catchup)"; else `Seconds(replay_lag)`, a NULL
//! `replay_lag` (caught up and idle) being 0. No standby connected at all → one answer
//! `Down` "no standby connected" under the configured name: replication is not running.
//!
//! The statistics views hide their details from a role without `pg_monitor` (or
//! `pg_read_all_stats`): the rows are there but their state is NULL. That reads
//! `CannotObserve { AccessDenied }` saying which role is missing, never "not streaming".
//! A lag probe that cannot connect at all cannot tell the lag: `CannotObserve
//! { Unreachable }` (the health probe of the same server says DOWN).

use std::error::Error as StdError;
use std::time::Instant;

use jiff::Timestamp;
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{ObserveAllFuture, ObserveFuture, Probe};
use crate::app::{ObserveError, Outcome, Signal};
use crate::config::Dsn;

/// The `application_name` the probes connect with, unless the DSN sets one.
pub const APPLICATION_NAME: &str = "warroom";

const NEEDS_MONITOR: &str = "needs the pg_monitor role (or pg_read_all_stats)";

/// A DSN resolved and parsed, with what must never appear in an outcome.
struct PgTarget {
    config: Config,
    /// The TLS connector (`None`: `sslmode=disable`).
    tls: Option<MakeRustlsConnect>,
    secrets: Vec<String>,
}

impl PgTarget {
    /// Reads the DSN (from its variable, now) and parses it.
    fn resolve(dsn: &Dsn) -> Result<PgTarget, ObserveError> {
        let (text, origin) = match dsn {
            Dsn::Env(var) => match std::env::var(var) {
                Ok(text) if text.trim().is_empty() => {
                    return Err(ObserveError::Other(format!(
                        "environment variable {var} is empty (it should hold the DSN)"
                    )));
                }
                Ok(text) => (text, format!("the DSN in {var}")),
                Err(std::env::VarError::NotPresent) => {
                    return Err(ObserveError::Other(format!(
                        "environment variable {var} is not set (it should hold the DSN)"
                    )));
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(ObserveError::Other(format!(
                        "environment variable {var} is not valid UTF-8"
                    )));
                }
            },
            Dsn::Inline(text) => (text.clone(), "the DSN in the config".to_string()),
        };
        let mut secrets = vec![text.clone()];
        // tokio-postgres knows only disable/prefer/require: the TLS keys are read here.
        let (rest, tls) = super::pg_tls::split(&text)
            .map_err(|why| ObserveError::Other(scrub(&format!("{origin}: {why}"), &secrets)))?;
        let parsed = rest.parse::<Config>();
        let mut config = match parsed {
            Ok(config) => config,
            Err(e) => {
                let reason = format!(
                    "{origin} is not valid: {}",
                    crate::text::redact::error_chain(&e)
                );
                return Err(ObserveError::Other(scrub(&reason, &secrets)));
            }
        };
        if let Some(password) = config.get_password() {
            secrets.push(String::from_utf8_lossy(password).into_owned());
        }
        config.ssl_mode(tls.mode.ssl_mode());
        let tls = super::pg_tls::connector(&tls)
            .map_err(|why| ObserveError::Other(scrub(&format!("{origin}: {why}"), &secrets)))?;
        if config.get_application_name().is_none() {
            config.application_name(APPLICATION_NAME);
        }
        Ok(PgTarget {
            config,
            tls,
            secrets,
        })
    }

    /// "db.example:5432", for messages (never the user or the password).
    fn address(&self) -> String {
        address(&self.config)
    }

    async fn connect(&self) -> Result<Client, tokio_postgres::Error> {
        // Each connection task ends when the client is dropped (or the server goes away).
        match &self.tls {
            None => {
                let (client, connection) = self.config.connect(NoTls).await?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                Ok(client)
            }
            Some(tls) => {
                let (client, connection) = self.config.connect(tls.clone()).await?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                Ok(client)
            }
        }
    }

    fn scrub(&self, text: &str) -> String {
        scrub(text, &self.secrets)
    }
}

fn address(config: &Config) -> String {
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match h {
                Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                Host::Unix(path) => format!("{}/.s.PGSQL.{port}", path.display()),
            }
        })
        .collect();
    if hosts.is_empty() {
        "the default host".to_string()
    } else {
        hosts.join(",")
    }
}

/// Removes every secret (the DSN text, the password) from a message.
fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if !secret.is_empty() {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

/// What a failed connect or query means: the thing failed, or we could not tell.
#[derive(Debug, Clone, PartialEq)]
enum Failure {
    /// The server is not there or refused us.
    Down(String),
    Cannot(ObserveError),
}

fn classify(err: &tokio_postgres::Error, target: &PgTarget) -> Failure {
    let address = target.address();
    let failure = if let Some(db) = err.as_db_error() {
        let text = format!("{}: {}", db.severity(), db.message());
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            Failure::Cannot(ObserveError::Credentials(db.message().to_string()))
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            Failure::Cannot(ObserveError::AccessDenied(db.message().to_string()))
        } else {
            Failure::Down(text)
        }
    } else if let Some(why) = tls_failure(err) {
        // A certificate that does not verify, a server without TLS when it is required:
        // not the database's fault, and not something to connect past.
        Failure::Cannot(ObserveError::Other(format!("TLS to {address}: {why}")))
    } else if let Some(io) = find_io(err) {
        use std::io::ErrorKind as K;
        let text = io.to_string();
        match io.kind() {
            K::ConnectionRefused => Failure::Down(format!("connection refused ({address})")),
            K::HostUnreachable | K::NetworkUnreachable => {
                Failure::Down(format!("no route to host ({address})"))
            }
            K::TimedOut => Failure::Cannot(ObserveError::Timeout),
            _ if text.contains("lookup address") || text.contains("Name or service not known") => {
                Failure::Down(format!("DNS: cannot resolve {address}: {text}"))
            }
            _ => Failure::Down(format!(
                "{address}: {}",
                crate::text::redact::error_chain(err)
            )),
        }
    } else if err.to_string().starts_with("timeout") {
        Failure::Cannot(ObserveError::Timeout)
    } else if err.is_closed() {
        Failure::Down(format!("{address}: the server closed the connection"))
    } else {
        Failure::Down(format!(
            "{address}: {}",
            crate::text::redact::error_chain(err)
        ))
    };
    match failure {
        Failure::Down(text) => Failure::Down(target.scrub(&text)),
        Failure::Cannot(reason) => Failure::Cannot(match reason {
            ObserveError::Credentials(t) => ObserveError::Credentials(target.scrub(&t)),
            ObserveError::AccessDenied(t) => ObserveError::AccessDenied(target.scrub(&t)),
            other => other,
        }),
    }
}

/// Why the TLS part of a connection failed, if that is what failed.
fn tls_failure(err: &tokio_postgres::Error) -> Option<String> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls.to_string());
        }
        if let Some(tls) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls.to_string());
        }
        cur = e.source();
    }
    let text = err.to_string();
    text.contains("TLS")
        .then(|| crate::text::redact::error_chain(err))
}

fn find_io<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a std::io::Error> {
    let mut cur = err.source();
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        cur = e.source();
    }
    None
}

fn describe_dsn(kind: &str, dsn: &Dsn) -> String {
    match dsn {
        Dsn::Env(var) => format!("{kind} (DSN from ${var})"),
        Dsn::Inline(text) => match super::pg_tls::split(text)
            .ok()
            .and_then(|(rest, _)| rest.parse::<Config>().ok())
            .ok_or(())
        {
            Ok(config) => format!(
                "{kind} {}/{}",
                address(&config),
                config.get_dbname().unwrap_or_default()
            ),
            Err(_) => format!("{kind} (invalid DSN)"),
        },
    }
}

// ---------------------------------------------------------------- health

/// `postgres`: does the server accept a connection and answer a query?
#[derive(Debug, Clone)]
pub struct PostgresProbe {
    dsn: Dsn,
}

impl PostgresProbe {
    pub fn new(dsn: &Dsn) -> PostgresProbe {
        PostgresProbe { dsn: dsn.clone() }
    }

    async fn ask(&self) -> Outcome {
        let target = match PgTarget::resolve(&self.dsn) {
            Ok(t) => t,
            Err(reason) => return Outcome::CannotObserve { reason },
        };
        let started = Instant::now();
        // Whether the session is encrypted, as the server sees it (its own row of
        // pg_stat_ssl needs no privilege).
        let answer = match target.connect().await {
            Ok(client) => client
                .query_one(
                    "select pg_is_in_recovery(), \
                     coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false)",
                    &[],
                )
                .await
                .and_then(|row| Ok((row.try_get::<_, bool>(0)?, row.try_get::<_, bool>(1)?))),
            Err(e) => Err(e),
        };
        match answer {
            Ok((in_recovery, encrypted)) => Outcome::Up {
                latency: started.elapsed(),
                detail: format!(
                    "accepting connections ({}, {})",
                    if in_recovery {
                        "standby, read-only"
                    } else {
                        "primary"
                    },
                    if encrypted { "TLS" } else { "unencrypted" }
                ),
            },
            Err(e) => match classify(&e, &target) {
                Failure::Down(detail) => Outcome::Down { detail },
                Failure::Cannot(reason) => Outcome::CannotObserve { reason },
            },
        }
    }
}

impl Probe for PostgresProbe {
    fn observe(&self) -> ObserveFuture<'_> {
        Box::pin(self.ask())
    }

    fn describe(&self) -> String {
        describe_dsn("postgres", &self.dsn)
    }
}

// ---------------------------------------------------------------- lag

/// What one look at the server found.
#[derive(Debug, Clone, PartialEq)]
enum PgReading {
    /// A standby (or a failure): one answer, for the configured replica.
    One(Outcome),
    /// A primary: one answer per connected standby, by name (possibly none).
    Standbys(Vec<(String, Outcome)>),
}

/// `postgres_replica`: replication lag, asked of a standby or of its primary.
#[derive(Debug, Clone)]
pub struct ReplicaLagProbe {
    dsn: Dsn,
}

impl ReplicaLagProbe {
    pub fn new(dsn: &Dsn) -> ReplicaLagProbe {
        ReplicaLagProbe { dsn: dsn.clone() }
    }

    async fn read(&self) -> PgReading {
        let target = match PgTarget::resolve(&self.dsn) {
            Ok(t) => t,
            Err(reason) => return PgReading::One(Outcome::CannotObserve { reason }),
        };
        let cannot = |e: &tokio_postgres::Error| {
            PgReading::One(Outcome::CannotObserve {
                reason: match classify(e, &target) {
                    // A server we cannot reach tells no lag: unknown, not "not running".
                    Failure::Down(text) => ObserveError::Unreachable(text),
                    Failure::Cannot(reason) => reason,
                },
            })
        };
        let client = match target.connect().await {
            Ok(c) => c,
            Err(e) => return cannot(&e),
        };
        let row = match client.query_one(STANDBY_QUERY, &[]).await {
            Ok(row) => row,
            Err(e) => return cannot(&e),
        };
        let standby = match StandbyRow::from_row(&row) {
            Ok(s) => s,
            Err(e) => return cannot(&e),
        };
        if standby.in_recovery {
            return PgReading::One(standby.outcome());
        }
        let rows = match client.query(PRIMARY_QUERY, &[]).await {
            Ok(rows) => rows,
            Err(e) => return cannot(&e),
        };
        let mut senders = Vec::with_capacity(rows.len());
        for row in &rows {
            match SenderRow::from_row(row) {
                Ok(s) => senders.push(s),
                Err(e) => return cannot(&e),
            }
        }
        PgReading::Standbys(name_senders(senders))
    }
}

const STANDBY_QUERY: &str = "select pg_is_in_recovery(), \
       r.pid is not null, \
       r.status, \
       pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), \
       extract(epoch from now() - pg_last_xact_replay_timestamp())::float8, \
       extract(epoch from pg_last_xact_replay_timestamp())::float8 \
  from (select 1) as one left join pg_stat_wal_receiver as r on true \
  limit 1";

const PRIMARY_QUERY: &str = "select application_name, host(client_addr), state, \
       extract(epoch from replay_lag)::float8, pid \
  from pg_stat_replication \
 where state is distinct from 'backup' \
 order by application_name, client_addr, pid";

#[derive(Debug, Clone, PartialEq)]
struct StandbyRow {
    in_recovery: bool,
    has_receiver: bool,
    status: Option<String>,
    caught_up: Option<bool>,
    behind: Option<f64>,
    last_replay: Option<f64>,
}

impl StandbyRow {
    fn from_row(row: &tokio_postgres::Row) -> Result<StandbyRow, tokio_postgres::Error> {
        Ok(StandbyRow {
            in_recovery: row.try_get(0)?,
            has_receiver: row.try_get(1)?,
            status: row.try_get(2)?,
            caught_up: row.try_get(3)?,
            behind: row.try_get(4)?,
            last_replay: row.try_get(5)?,
        })
    }

    /// How a standby's own view reads (see the module's rules).
    fn outcome(&self) -> Outcome {
        let last = match self.last_replay.and_then(epoch_to_timestamp) {
            Some(t) => format!("last replay at {t}"),
            None => "no transaction replayed since the standby started".to_string(),
        };
        if !self.has_receiver {
            return Outcome::Down {
                detail: format!("not streaming, {last}"),
            };
        }
        match self.status.as_deref() {
            None => Outcome::CannotObserve {
                reason: ObserveError::AccessDenied(format!(
                    "pg_stat_wal_receiver: reading the WAL receiver's status {NEEDS_MONITOR}"
                )),
            },
            Some("streaming") => match (self.caught_up, self.behind) {
                (Some(true), _) => Outcome::Seconds(0.0),
                (_, Some(behind)) => Outcome::Seconds(behind.max(0.0)),
                (_, None) => Outcome::CannotObserve {
                    reason: ObserveError::Other(
                        "streaming, but no transaction replayed since the standby started: no lag to measure yet".into(),
                    ),
                },
            },
            Some(status) => Outcome::Down {
                detail: format!("not streaming (WAL receiver {status}), {last}"),
            },
        }
    }
}

fn epoch_to_timestamp(epoch: f64) -> Option<Timestamp> {
    if !epoch.is_finite() {
        return None;
    }
    Timestamp::from_second(epoch.floor() as i64).ok()
}

#[derive(Debug, Clone, PartialEq)]
struct SenderRow {
    application_name: Option<String>,
    client_addr: Option<String>,
    state: Option<String>,
    replay_lag: Option<f64>,
    pid: i32,
}

impl SenderRow {
    fn from_row(row: &tokio_postgres::Row) -> Result<SenderRow, tokio_postgres::Error> {
        Ok(SenderRow {
            application_name: row.try_get(0)?,
            client_addr: row.try_get(1)?,
            state: row.try_get(2)?,
            replay_lag: row.try_get(3)?,
            pid: row.try_get(4)?,
        })
    }

    fn base_name(&self) -> String {
        match (&self.application_name, &self.client_addr) {
            (Some(name), _) if !name.is_empty() => name.clone(),
            (_, Some(addr)) => addr.clone(),
            _ => format!("pid {}", self.pid),
        }
    }

    fn outcome(&self) -> Outcome {
        match self.state.as_deref() {
            None => Outcome::CannotObserve {
                reason: ObserveError::AccessDenied(format!(
                    "pg_stat_replication: reading a standby's state {NEEDS_MONITOR}"
                )),
            },
            Some("streaming") => Outcome::Seconds(self.replay_lag.unwrap_or(0.0).max(0.0)),
            Some(state) => Outcome::Down {
                detail: format!("not streaming (state {state})"),
            },
        }
    }
}

/// One name per standby: its `application_name` (else its address), made unique with the
/// address (else the pid) when two standbys share it.
fn name_senders(senders: Vec<SenderRow>) -> Vec<(String, Outcome)> {
    let bases: Vec<String> = senders.iter().map(SenderRow::base_name).collect();
    let mut used: Vec<String> = Vec::with_capacity(senders.len());
    senders
        .iter()
        .zip(&bases)
        .map(|(s, base)| {
            let shared = bases.iter().filter(|b| *b == base).count() > 1;
            let mut name = base.clone();
            if shared && let Some(addr) = s.client_addr.as_ref().filter(|a| *a != base) {
                name = format!("{base} ({addr})");
            }
            if used.contains(&name) {
                name = format!("{base} (pid {})", s.pid);
            }
            used.push(name.clone());
            (name, s.outcome())
        })
        .collect()
}

const NO_STANDBY: &str = "no standby connected";

/// The one answer that stands for several standbys: a failure first, else the largest lag.
fn worst(answers: &[(String, Outcome)]) -> Outcome {
    if let Some((name, Outcome::Down { detail })) = answers
        .iter()
        .find(|(_, o)| matches!(o, Outcome::Down { .. }))
    {
        return Outcome::Down {
            detail: format!("{name}: {detail}"),
        };
    }
    if let Some((_, o)) = answers
        .iter()
        .find(|(_, o)| matches!(o, Outcome::CannotObserve { .. }))
    {
        return o.clone();
    }
    answers
        .iter()
        .filter_map(|(_, o)| match o {
            Outcome::Seconds(s) => Some(*s),
            _ => None,
        })
        .reduce(f64::max)
        .map(Outcome::Seconds)
        .unwrap_or_else(|| Outcome::Down {
            detail: NO_STANDBY.into(),
        })
}

impl Probe for ReplicaLagProbe {
    /// On a standby its lag; on a primary the worst of its standbys (the scheduler asks
    /// [`Probe::observe_all`], which names each one).
    fn observe(&self) -> ObserveFuture<'_> {
        Box::pin(async move {
            match self.read().await {
                PgReading::One(o) => o,
                PgReading::Standbys(answers) => worst(&answers),
            }
        })
    }

    fn observe_all<'a>(&'a self, signal: &'a Signal) -> ObserveAllFuture<'a> {
        Box::pin(async move {
            match self.read().await {
                PgReading::One(o) => vec![(signal.clone(), o)],
                PgReading::Standbys(answers) if answers.is_empty() => vec![(
                    signal.clone(),
                    Outcome::Down {
                        detail: NO_STANDBY.into(),
                    },
                )],
                PgReading::Standbys(answers) => answers
                    .into_iter()
                    .map(|(replica, o)| (Signal::Lag { replica }, o))
                    .collect(),
            }
        })
    }

    fn describe(&self) -> String {
        describe_dsn("postgres_replica", &self.dsn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standby(has_receiver: bool, status: Option<&str>, caught_up: Option<bool>) -> StandbyRow {
        StandbyRow {
            in_recovery: true,
            has_receiver,
            status: status.map(str::to_string),
            caught_up,
            behind: Some(12.5),
            last_replay: Some(1_764_077_525.4),
        }
    }

    #[test]
    fn a_standby_reads_as_the_lag_truths_say() {
        assert_eq!(
            standby(false, None, None).outcome(),
            Outcome::Down {
                detail: "not streaming, last replay at 2025-11-25T13:32:05Z".into()
            }
        );
        assert_eq!(
            standby(true, Some("waiting"), None).outcome(),
            Outcome::Down {
                detail: "not streaming (WAL receiver waiting), last replay at 2025-11-25T13:32:05Z"
                    .into()
            }
        );
        assert_eq!(
            standby(true, Some("streaming"), Some(true)).outcome(),
            Outcome::Seconds(0.0)
        );
        assert_eq!(
            standby(true, Some("streaming"), Some(false)).outcome(),
            Outcome::Seconds(12.5)
        );
        assert!(matches!(
            standby(true, None, None).outcome(),
            Outcome::CannotObserve {
                reason: ObserveError::AccessDenied(_)
            }
        ));
        let mut fresh = standby(false, None, None);
        fresh.last_replay = None;
        assert_eq!(
            fresh.outcome(),
            Outcome::Down {
                detail: "not streaming, no transaction replayed since the standby started".into()
            }
        );
        let mut never = standby(true, Some("streaming"), Some(false));
        never.behind = None;
        assert!(matches!(
            never.outcome(),
            Outcome::CannotObserve {
                reason: ObserveError::Other(_)
            }
        ));
    }

    fn sender(name: &str, addr: &str, state: &str, lag: Option<f64>, pid: i32) -> SenderRow {
        SenderRow {
            application_name: Some(name.to_string()),
            client_addr: Some(addr.to_string()),
            state: Some(state.to_string()),
            replay_lag: lag,
            pid,
        }
    }

    #[test]
    fn standbys_are_named_uniquely() {
        let answers = name_senders(vec![
            sender("dr-west", "10.0.0.5", "streaming", Some(1.5), 10),
            sender("walreceiver", "10.0.0.6", "catchup", None, 11),
            sender("walreceiver", "10.0.0.7", "streaming", None, 12),
            sender("", "10.0.0.8", "streaming", Some(0.2), 13),
        ]);
        let names: Vec<&str> = answers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "dr-west",
                "walreceiver (10.0.0.6)",
                "walreceiver (10.0.0.7)",
                "10.0.0.8"
            ]
        );
        assert_eq!(answers[0].1, Outcome::Seconds(1.5));
        assert_eq!(
            answers[1].1,
            Outcome::Down {
                detail: "not streaming (state catchup)".into()
            }
        );
        // Streaming with no replay_lag: caught up and idle.
        assert_eq!(answers[2].1, Outcome::Seconds(0.0));
        assert_eq!(
            worst(&answers),
            Outcome::Down {
                detail: "walreceiver (10.0.0.6): not streaming (state catchup)".into()
            }
        );
        assert_eq!(worst(&answers[2..]), Outcome::Seconds(0.2));
        assert_eq!(
            worst(&[]),
            Outcome::Down {
                detail: "no standby connected".into()
            }
        );
    }

    #[test]
    fn secrets_are_scrubbed() {
        let secrets = vec!["host=db password=hunter22".to_string(), "hunter22".into()];
        assert_eq!(
            scrub("failed for hunter22 in host=db password=hunter22", &secrets),
            "failed for *** in ***"
        );
    }

    #[test]
    fn inline_dsns_are_described_without_credentials() {
        let p = PostgresProbe::new(&Dsn::Inline(
            "host=db.internal port=5433 user=monitor dbname=app".into(),
        ));
        assert_eq!(p.describe(), "postgres db.internal:5433/app");
        let p = ReplicaLagProbe::new(&Dsn::Env("DTEM_PG_DSN".into()));
        assert_eq!(p.describe(), "postgres_replica (DSN from $DTEM_PG_DSN)");
    }
}
