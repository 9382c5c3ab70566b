//! The PostgreSQL probes against a real primary and streaming standby on loopback
//! (tests/support/pg.rs). Tests that only read share one pair; tests that stop or
//! reconfigure something start their own.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::pg::{APP_PASSWORD, Pg, STANDBY_NAME};
use warroom::app::{ObserveError, Outcome, Signal};
use warroom::config::Dsn;
use warroom::probe::Probe;
use warroom::probe::postgres::{PostgresProbe, ReplicaLagProbe};

fn shared() -> &'static Pg {
    static PG: OnceLock<Pg> = OnceLock::new();
    PG.get_or_init(Pg::primary_and_standby)
}

fn inline(dsn: String) -> Dsn {
    Dsn::Inline(dsn)
}

fn lag_signal() -> Signal {
    Signal::Lag {
        replica: "standby".into(),
    }
}

/// Observes until `done` holds (or `within` passes); the last outcome.
async fn observe_until(
    probe: &dyn Probe,
    within: Duration,
    done: impl Fn(&Outcome) -> bool,
) -> Outcome {
    let deadline = Instant::now() + within;
    loop {
        let outcome = probe.observe().await;
        if done(&outcome) || Instant::now() >= deadline {
            return outcome;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ---------------------------------------------------------------- health

#[tokio::test]
async fn health_is_up_on_the_primary_and_the_standby() {
    let pg = shared();
    let primary = PostgresProbe::new(&inline(pg.dsn(&pg.primary)));
    match primary.observe().await {
        Outcome::Up { latency, detail } => {
            assert_eq!(detail, "accepting connections (primary, unencrypted)");
            assert!(latency > Duration::ZERO && latency < Duration::from_secs(5));
        }
        other => panic!("primary: expected Up, got {other:?}"),
    }
    let standby = PostgresProbe::new(&inline(pg.dsn(pg.standby())));
    match standby.observe().await {
        Outcome::Up { detail, .. } => {
            assert_eq!(
                detail,
                "accepting connections (standby, read-only, unencrypted)"
            )
        }
        other => panic!("standby: expected Up, got {other:?}"),
    }
    assert_eq!(
        primary.describe(),
        format!("postgres 127.0.0.1:{}/postgres", pg.primary.port)
    );
}

#[tokio::test]
async fn a_password_user_is_up_with_the_right_password() {
    let pg = shared();
    let probe = PostgresProbe::new(&inline(pg.app_dsn(&pg.primary, APP_PASSWORD)));
    assert!(matches!(probe.observe().await, Outcome::Up { .. }));
}

#[tokio::test]
async fn a_wrong_password_cannot_observe_with_credentials_and_never_shows_it() {
    let pg = shared();
    let wrong = "not-the-Pw-91xk";
    let probe = PostgresProbe::new(&inline(pg.app_dsn(&pg.primary, wrong)));
    let outcome = probe.observe().await;
    assert_eq!(
        outcome,
        Outcome::CannotObserve {
            reason: ObserveError::Credentials(
                "password authentication failed for user \"app\"".into()
            )
        }
    );
    assert!(!format!("{outcome:?}").contains(wrong));
    assert!(!probe.describe().contains(wrong), "{}", probe.describe());
}

#[tokio::test]
async fn a_closed_port_is_down_connection_refused() {
    let [port] = crate::support::pg::free_ports::<1>();
    let probe = PostgresProbe::new(&inline(format!(
        "host=127.0.0.1 port={port} user=postgres password=s3cret-in-dsn"
    )));
    let outcome = probe.observe().await;
    assert_eq!(
        outcome,
        Outcome::Down {
            detail: format!("connection refused (127.0.0.1:{port})")
        }
    );
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_down() {
    let probe = PostgresProbe::new(&inline(
        "host=warroom-no-such-host.invalid port=5432 user=postgres".into(),
    ));
    let outcome = tokio::time::timeout(Duration::from_secs(30), probe.observe())
        .await
        .expect("DNS answers within 30 s");
    match outcome {
        Outcome::Down { detail } => assert!(
            detail.starts_with("DNS: cannot resolve warroom-no-such-host.invalid:5432"),
            "{detail}"
        ),
        other => panic!("expected Down, got {other:?}"),
    }
}

#[tokio::test]
async fn the_dsn_comes_from_its_variable_at_observe_time() {
    let pg = shared();
    let var = "WARROOM_TEST_PG_DSN_HEALTH";
    let probe = PostgresProbe::new(&Dsn::Env(var.into()));
    assert_eq!(
        probe.observe().await,
        Outcome::CannotObserve {
            reason: ObserveError::Other(format!(
                "environment variable {var} is not set (it should hold the DSN)"
            ))
        }
    );
    assert_eq!(probe.describe(), format!("postgres (DSN from ${var})"));
    // SAFETY: std serializes its own environment access (and getaddrinfo) behind one lock,
    // and nothing else in this test binary reads the environment through libc; the name
    // is used by this test only.
    unsafe { std::env::set_var(var, pg.app_dsn(&pg.primary, APP_PASSWORD)) };
    assert!(matches!(probe.observe().await, Outcome::Up { .. }));
}

/// A server with `ssl = on`, TCP only over TLS (`hostssl`), a certificate for `localhost`
/// signed by a test CA: each sslmode as libpq means it.
#[tokio::test]
async fn each_sslmode_against_a_server_that_insists_on_tls() {
    let pg = Pg::primary_only();
    let (ca, other_ca) = pg.enable_tls(&pg.primary, true);
    let port = pg.primary.port;
    let ca = ca.display().to_string();
    let other_ca = other_ca.display().to_string();
    let health = |dsn: String| async move { PostgresProbe::new(&inline(dsn)).observe().await };
    let up_encrypted = |o: &Outcome| matches!(o, Outcome::Up { detail, .. } if detail == "accepting connections (primary, TLS)");
    // require: encrypted, the certificate not checked (libpq's meaning).
    let o = health(format!(
        "host=127.0.0.1 port={port} user=postgres sslmode=require"
    ))
    .await;
    assert!(up_encrypted(&o), "require: {o:?}");
    // No sslmode is libpq's `prefer`: the server offers TLS, so it is used.
    let o = health(format!("host=127.0.0.1 port={port} user=postgres")).await;
    assert!(up_encrypted(&o), "prefer: {o:?}");
    // verify-full: the chain to the given root, and the name.
    let o = health(format!(
        "host=localhost port={port} user=postgres sslmode=verify-full sslrootcert={ca}"
    ))
    .await;
    assert!(up_encrypted(&o), "verify-full by name: {o:?}");
    let o = health(format!(
        "postgresql://postgres@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={ca}"
    ))
    .await;
    assert!(up_encrypted(&o), "verify-full, URL form: {o:?}");
    // The certificate names localhost, not 127.0.0.1: verify-full refuses, verify-ca (the
    // chain only) accepts.
    let o = health(format!(
        "host=127.0.0.1 port={port} user=postgres sslmode=verify-full sslrootcert={ca}"
    ))
    .await;
    match &o {
        Outcome::CannotObserve {
            reason: ObserveError::Other(reason),
        } => assert!(
            reason.starts_with(&format!(
                "TLS to 127.0.0.1:{port}: invalid peer certificate"
            )) && reason.contains("not valid for name \"127.0.0.1\""),
            "{reason}"
        ),
        other => panic!("verify-full by address: expected UNKNOWN, got {other:?}"),
    }
    let o = health(format!(
        "host=127.0.0.1 port={port} user=postgres sslmode=verify-ca sslrootcert={ca}"
    ))
    .await;
    assert!(up_encrypted(&o), "verify-ca: {o:?}");
    // The wrong root: UNKNOWN with the reason, never UP.
    let o = health(format!(
        "host=localhost port={port} user=postgres sslmode=verify-full sslrootcert={other_ca}"
    ))
    .await;
    match &o {
        Outcome::CannotObserve {
            reason: ObserveError::Other(reason),
        } => assert!(
            reason.contains("invalid peer certificate") && reason.contains("UnknownIssuer"),
            "{reason}"
        ),
        other => panic!("wrong root: expected UNKNOWN, got {other:?}"),
    }
    // disable against hostssl only: the server refuses the plain connection.
    let o = health(format!(
        "host=127.0.0.1 port={port} user=postgres sslmode=disable"
    ))
    .await;
    match &o {
        Outcome::CannotObserve {
            reason: ObserveError::Credentials(message),
        } => assert!(message.contains("no encryption"), "{message}"),
        other => panic!("disable: expected refused, got {other:?}"),
    }
    // The lag probe connects the same way (a primary without standbys: none connected).
    let lag = ReplicaLagProbe::new(&inline(format!(
        "host=localhost port={port} user=postgres sslmode=verify-full sslrootcert={ca}"
    )));
    let answers = lag.observe_all(&lag_signal()).await;
    assert!(
        answers.iter().all(
            |(_, o)| matches!(o, Outcome::Down { detail } if detail == "no standby connected")
        ),
        "{answers:?}"
    );
}

#[tokio::test]
async fn a_plain_server_is_said_unencrypted_and_verify_needs_a_root() {
    let pg = shared();
    let port = pg.primary.port;
    let o = PostgresProbe::new(&inline(format!(
        "host=127.0.0.1 port={port} user=postgres sslmode=prefer"
    )))
    .observe()
    .await;
    assert!(
        matches!(&o, Outcome::Up { detail, .. } if detail == "accepting connections (primary, unencrypted)"),
        "{o:?}"
    );
    // require against a server without TLS: UNKNOWN, saying so; the password never shown.
    let o = PostgresProbe::new(&inline(format!(
        "host=127.0.0.1 port={port} user=postgres password=pw-8812 sslmode=require"
    )))
    .observe()
    .await;
    match &o {
        Outcome::CannotObserve {
            reason: ObserveError::Other(reason),
        } => {
            assert!(reason.starts_with("TLS to 127.0.0.1"), "{reason}");
            assert!(!reason.contains("pw-8812"), "{reason}");
        }
        other => panic!("expected UNKNOWN, got {other:?}"),
    }
    let o = PostgresProbe::new(&inline(
        "postgresql://app:pw-8812@db.internal/app?sslmode=verify-full".into(),
    ))
    .observe()
    .await;
    match &o {
        Outcome::CannotObserve {
            reason: ObserveError::Other(reason),
        } => {
            assert!(reason.contains("needs sslrootcert"), "{reason}");
            assert!(!reason.contains("pw-8812"), "{reason}");
        }
        other => panic!("expected UNKNOWN, got {other:?}"),
    }
}

#[tokio::test]
async fn an_invalid_dsn_never_shows_itself() {
    let probe = PostgresProbe::new(&inline("host=db password=pw-5501 port=notaport".into()));
    match probe.observe().await {
        Outcome::CannotObserve {
            reason: ObserveError::Other(reason),
        } => {
            assert!(
                reason.starts_with("the DSN in the config is not valid"),
                "{reason}"
            );
            assert!(!reason.contains("pw-5501"), "{reason}");
        }
        other => panic!("expected CannotObserve, got {other:?}"),
    }
}

#[tokio::test]
async fn a_server_shutting_down_is_down_with_its_reason() {
    let pg = Pg::primary_only();
    let mut session = pg.hold_session(&pg.primary, 60);
    pg.wait_for(
        &pg.primary,
        "select count(*) from pg_stat_activity where query like 'select pg_sleep%'",
        "1",
        Duration::from_secs(10),
    );
    pg.begin_smart_shutdown(&pg.primary);
    let probe = PostgresProbe::new(&inline(pg.dsn(&pg.primary)));
    let outcome = observe_until(&probe, Duration::from_secs(10), |o| {
        matches!(o, Outcome::Down { .. })
    })
    .await;
    let _ = session.kill();
    let _ = session.wait();
    assert_eq!(
        outcome,
        Outcome::Down {
            detail: "FATAL: the database system is shutting down".into()
        }
    );
}

// ---------------------------------------------------------------- lag, shared pair

#[tokio::test]
async fn an_idle_standby_that_replayed_all_it_received_lags_zero() {
    let pg = shared();
    let probe = ReplicaLagProbe::new(&inline(pg.dsn(pg.standby())));
    let outcome = observe_until(&probe, Duration::from_secs(10), |o| {
        *o == Outcome::Seconds(0.0)
    })
    .await;
    assert_eq!(outcome, Outcome::Seconds(0.0));
    // A standby answers for the configured replica name.
    let all = probe.observe_all(&lag_signal()).await;
    assert_eq!(all, vec![(lag_signal(), Outcome::Seconds(0.0))]);
}

#[tokio::test]
async fn the_primary_answers_for_each_standby_by_application_name() {
    let pg = shared();
    let probe = ReplicaLagProbe::new(&inline(pg.dsn(&pg.primary)));
    let all = probe.observe_all(&lag_signal()).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        all[0].0,
        Signal::Lag {
            replica: STANDBY_NAME.into()
        }
    );
    match all[0].1 {
        Outcome::Seconds(s) => assert!((0.0..5.0).contains(&s), "{s}"),
        ref other => panic!("expected a lag, got {other:?}"),
    }
    assert!(matches!(probe.observe().await, Outcome::Seconds(_)));
}

#[tokio::test]
async fn without_pg_monitor_the_lag_cannot_be_read() {
    let pg = shared();
    let standby = ReplicaLagProbe::new(&inline(pg.app_dsn(pg.standby(), APP_PASSWORD)));
    match standby.observe().await {
        Outcome::CannotObserve {
            reason: ObserveError::AccessDenied(reason),
        } => assert!(reason.contains("pg_monitor"), "{reason}"),
        other => panic!("standby: expected AccessDenied, got {other:?}"),
    }
    let primary = ReplicaLagProbe::new(&inline(pg.app_dsn(&pg.primary, APP_PASSWORD)));
    let all = primary.observe_all(&lag_signal()).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        all[0].0,
        Signal::Lag {
            replica: STANDBY_NAME.into()
        }
    );
    assert!(
        matches!(&all[0].1, Outcome::CannotObserve { reason: ObserveError::AccessDenied(r) } if r.contains("pg_monitor")),
        "{all:?}"
    );
}

#[tokio::test]
async fn a_lag_probe_that_cannot_connect_cannot_tell() {
    let [port] = crate::support::pg::free_ports::<1>();
    let probe = ReplicaLagProbe::new(&inline(format!("host=127.0.0.1 port={port} user=postgres")));
    assert_eq!(
        probe.observe_all(&lag_signal()).await,
        vec![(
            lag_signal(),
            Outcome::CannotObserve {
                reason: ObserveError::Unreachable(format!("connection refused (127.0.0.1:{port})"))
            }
        )]
    );
}

// ---------------------------------------------------------------- lag, own pairs

#[tokio::test]
async fn a_standby_whose_primary_is_gone_is_not_streaming() {
    let pg = Pg::primary_and_standby();
    pg.psql(
        &pg.primary,
        "create table orders (id int); insert into orders values (1)",
    );
    pg.wait_replayed();
    let last = pg.psql(
        pg.standby(),
        "select to_char(pg_last_xact_replay_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI')",
    );
    let probe = ReplicaLagProbe::new(&inline(pg.dsn(pg.standby())));
    assert_eq!(probe.observe().await, Outcome::Seconds(0.0));

    pg.stop(&pg.primary);
    let outcome = observe_until(&probe, Duration::from_secs(15), |o| {
        matches!(o, Outcome::Down { .. })
    })
    .await;
    match outcome {
        Outcome::Down { detail } => {
            assert!(detail.starts_with("not streaming"), "{detail}");
            assert!(
                detail.contains(&format!(", last replay at {last}")),
                "{detail} (last replay {last})"
            );
        }
        other => panic!("expected not streaming, got {other:?}"),
    }
    // The standby itself still answers; the primary is down.
    let health = PostgresProbe::new(&inline(pg.dsn(pg.standby())));
    assert!(matches!(health.observe().await, Outcome::Up { .. }));
    let primary = PostgresProbe::new(&inline(pg.dsn(&pg.primary)));
    assert_eq!(
        primary.observe().await,
        Outcome::Down {
            detail: format!("connection refused (127.0.0.1:{})", pg.primary.port)
        }
    );
}

#[tokio::test]
async fn replication_switched_off_on_the_standby_reads_on_both_sides() {
    let pg = Pg::primary_and_standby();
    pg.psql(pg.standby(), "alter system set primary_conninfo = ''");
    pg.psql(pg.standby(), "select pg_reload_conf()");

    let standby = ReplicaLagProbe::new(&inline(pg.dsn(pg.standby())));
    let outcome = observe_until(&standby, Duration::from_secs(15), |o| {
        matches!(o, Outcome::Down { .. })
    })
    .await;
    match outcome {
        Outcome::Down { detail } => assert!(detail.starts_with("not streaming"), "{detail}"),
        other => panic!("expected not streaming, got {other:?}"),
    }

    // The primary sees no standby at all: replication is not running.
    pg.wait_for(
        &pg.primary,
        "select count(*) from pg_stat_replication",
        "0",
        Duration::from_secs(15),
    );
    let primary = ReplicaLagProbe::new(&inline(pg.dsn(&pg.primary)));
    let none = Outcome::Down {
        detail: "no standby connected".into(),
    };
    assert_eq!(
        primary.observe_all(&lag_signal()).await,
        vec![(lag_signal(), none.clone())]
    );
    assert_eq!(primary.observe().await, none);
}

#[tokio::test]
async fn a_replay_delay_shows_as_lag_then_catches_up() {
    let pg = Pg::primary_and_standby();
    pg.psql(&pg.primary, "create table events (id int)");
    pg.wait_replayed();
    let probe = ReplicaLagProbe::new(&inline(pg.dsn(pg.standby())));
    assert_eq!(probe.observe().await, Outcome::Seconds(0.0));

    pg.psql(
        pg.standby(),
        "alter system set recovery_min_apply_delay = '4s'",
    );
    pg.psql(pg.standby(), "select pg_reload_conf()");
    pg.wait_for(
        pg.standby(),
        "show recovery_min_apply_delay",
        "4s",
        Duration::from_secs(10),
    );
    // Let the last replayed transaction age a little, then write: the standby receives the
    // WAL at once and holds its replay for 4 s.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    pg.psql(&pg.primary, "insert into events values (1)");
    let outcome = observe_until(
        &probe,
        Duration::from_secs(3),
        |o| matches!(o, Outcome::Seconds(s) if *s > 0.0),
    )
    .await;
    match outcome {
        Outcome::Seconds(s) => assert!(s > 1.0 && s < 60.0, "lag {s}"),
        other => panic!("expected a lag, got {other:?}"),
    }
    // The primary sees it too, by name.
    let primary = ReplicaLagProbe::new(&inline(pg.dsn(&pg.primary)));
    let all = primary.observe_all(&lag_signal()).await;
    assert_eq!(
        all[0].0,
        Signal::Lag {
            replica: STANDBY_NAME.into()
        }
    );
    assert!(matches!(all[0].1, Outcome::Seconds(_)), "{all:?}");
    // Once the delay has passed, everything received is replayed: 0 again.
    let caught_up = observe_until(&probe, Duration::from_secs(15), |o| {
        *o == Outcome::Seconds(0.0)
    })
    .await;
    assert_eq!(caught_up, Outcome::Seconds(0.0));
}
