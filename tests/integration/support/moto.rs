//! A real moto_server (the AWS of the tests) on a free loopback port: [`Moto::start`] starts
//! one for a test (answering when it returns, killed when dropped); [`Moto::shared`] is one
//! per test binary, for the tests that can share it (each names its own resources), killed
//! when the test process ends. Every moto pays ~2 s of CPU importing its services: sharing
//! keeps the AWS tests fast on a small CI machine.
//!
//! moto_server is found at `$MOTO_SERVER`, else in the venv that `.ci/moto.sh` makes
//! (`$MOTO_VENV`, default `~/.cache/warroom/moto-venv`). Without it the tests fail, saying
//! to run `.ci/moto.sh`: an AWS test that silently passes without AWS proves nothing.

use std::fs::File;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_sdk_rds::config::Credentials;
use warroom::cloud::aws::AwsClients;

/// The static credentials every test uses (moto accepts any while IAM auth is off).
pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";

/// How long moto may take to answer after it was started.
const STARTUP: Duration = Duration::from_secs(30);

pub struct Moto {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

/// Where moto_server is, or why the tests cannot run.
pub fn server_path() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "MOTO_SERVER={} is not a file: run `.ci/moto.sh` and export MOTO_SERVER=\"$(.ci/moto.sh)\"",
            path.display()
        );
        return path;
    }
    let venv = match std::env::var_os("MOTO_VENV") {
        Some(v) => PathBuf::from(v),
        None => {
            let home = std::env::var_os("HOME").expect("HOME or MOTO_SERVER must be set");
            PathBuf::from(home).join(".cache/warroom/moto-venv")
        }
    };
    let path = venv.join("bin/moto_server");
    assert!(
        path.is_file(),
        "moto_server not found at {} (nor $MOTO_SERVER): the AWS tests need a real moto: \
         run `.ci/moto.sh` to install it",
        path.display()
    );
    path
}

/// A loopback port nothing listens on (it was free a moment ago).
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// An endpoint that does not answer: a closed loopback port.
pub fn closed_endpoint() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// Clients that send to `endpoint` with the static test credentials.
pub fn clients_at(endpoint: &str) -> AwsClients {
    AwsClients::new(Some(endpoint.to_string())).with_credentials(Credentials::new(
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        None,
        None,
        "warroom-tests",
    ))
}

impl Moto {
    /// A fresh moto_server, answering.
    pub fn start() -> Moto {
        Moto::start_with_env(&[])
    }

    /// The moto_server of this test binary, started on first use. It is started by a thread
    /// that lives as long as the process, so that the kernel kills it when the process
    /// ends (PR_SET_PDEATHSIG fires when the thread that started the child ends).
    pub fn shared() -> &'static Moto {
        static SHARED: OnceLock<Moto> = OnceLock::new();
        SHARED.get_or_init(|| {
            server_path(); // fail here, on the test's thread, with the message to install moto
            let (tx, rx) = mpsc::channel();
            std::thread::Builder::new()
                .name("moto-keeper".into())
                .spawn(move || {
                    let moto = std::panic::catch_unwind(Moto::start).map_err(|e| {
                        e.downcast_ref::<String>()
                            .cloned()
                            .unwrap_or_else(|| "moto_server did not start".into())
                    });
                    let _ = tx.send(moto);
                    loop {
                        std::thread::park();
                    }
                })
                .expect("spawn the moto keeper thread");
            match rx.recv() {
                Ok(Ok(moto)) => moto,
                Ok(Err(why)) => panic!("{why}"),
                Err(_) => panic!("the moto keeper thread died"),
            }
        })
    }

    /// A fresh moto_server with `env` added (e.g. `INITIAL_NO_AUTH_ACTION_COUNT`).
    pub fn start_with_env(env: &[(&str, &str)]) -> Moto {
        let server = server_path();
        let mut last_log = String::new();
        // A port found free may be taken before moto binds it: try a few.
        for _ in 0..3 {
            let port = free_port();
            let log = tempfile::NamedTempFile::new().expect("moto log file");
            let mut cmd = Command::new(&server);
            cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(log.reopen().expect("log"))
                .stderr(log.reopen().expect("log"))
                .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
                .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
                .env("AWS_DEFAULT_REGION", "us-east-1")
                .env("AWS_EC2_METADATA_DISABLED", "true");
            for (k, v) in env {
                cmd.env(k, v);
            }
            // If the test process dies without dropping us (a panic that aborts, a kill),
            // moto goes with it rather than lingering on its port.
            unsafe {
                cmd.pre_exec(|| {
                    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                        .map_err(std::io::Error::from)
                });
            }
            let child = cmd.spawn().unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e}; run `.ci/moto.sh` to (re)install moto",
                    server.display()
                )
            });
            let mut moto = Moto { child, port, log };
            match moto.wait_until_answering() {
                Ok(()) => return moto,
                Err(log) => last_log = log,
            }
        }
        panic!("moto_server did not start; its last words:\n{last_log}");
    }

    /// Waits until moto answers HTTP; its log when it died or never answered.
    fn wait_until_answering(&mut self) -> Result<(), String> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + STARTUP;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Err(self.log_text());
            }
            if let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                use std::io::Write;
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let request = format!(
                    "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
                    self.port
                );
                if stream.write_all(request.as_bytes()).is_ok() {
                    let mut head = [0u8; 12];
                    if stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") {
                        return Ok(());
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Err(format!("no answer within {STARTUP:?}\n{}", self.log_text()))
    }

    /// What moto wrote so far (requests, tracebacks).
    pub fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(self.log.path()) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Clients pointed at this moto (`AwsClients::new(Some(url))`) with static credentials.
    pub fn clients(&self) -> AwsClients {
        clients_at(&self.url())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A PostgreSQL RDS instance in moto.
pub async fn create_instance(clients: &AwsClients, region: &str, id: &str) {
    create(clients, region, id, None).await
}

/// The same with automated backups off (no snapshots of its own).
pub async fn create_unbacked_instance(clients: &AwsClients, region: &str, id: &str) {
    create(clients, region, id, Some(0)).await
}

async fn create(clients: &AwsClients, region: &str, id: &str, backup_retention: Option<i32>) {
    clients
        .rds(region)
        .await
        .create_db_instance()
        .db_instance_identifier(id)
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("dtem")
        .master_user_password("not-a-secret-1")
        .set_backup_retention_period(backup_retention)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {id}: {e:?}"));
}

/// A read replica of `source` in moto.
pub async fn create_replica(clients: &AwsClients, region: &str, id: &str, source: &str) {
    clients
        .rds(region)
        .await
        .create_db_instance_read_replica()
        .db_instance_identifier(id)
        .source_db_instance_identifier(source)
        .db_instance_class("db.t3.micro")
        .send()
        .await
        .unwrap_or_else(|e| panic!("create replica {id}: {e:?}"));
}
