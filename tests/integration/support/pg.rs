//! A real PostgreSQL primary and streaming standby on loopback, for the probe tests.
//!
//! The server binaries come from `$WARROOM_PG_BIN`, else `/usr/lib/postgresql/15/bin`
//! (Debian's `postgresql-15`); without them the tests FAIL, saying so: they never pass
//! silently. PostgreSQL refuses to run as root: as root (CI), every server-side command
//! runs as the `postgres` user (`runuser -u postgres --`) in a directory that user owns;
//! otherwise as the current user.
//!
//! Layout: one temporary directory with `primary/` and `standby/` data directories, their
//! logs and their Unix sockets. The primary listens on 127.0.0.1 at a free port with
//! `wal_level = replica`; the standby is a `pg_basebackup -R` of it on another free port,
//! streaming with `application_name` [`STANDBY_NAME`]. Authentication: trust for the
//! superuser `postgres` and for replication, a password ([`APP_PASSWORD`]) for the
//! unprivileged role `app`.
//!
//! Cleanup: `Drop` stops both servers (`pg_ctl stop -m immediate`) and removes the
//! directory. A cluster kept in a `static` is never dropped, so every cluster also has a
//! watchdog process holding a pipe from the test process: when the test process exits (or
//! dies), the pipe closes and the watchdog stops the servers and removes the directory.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const STANDBY_NAME: &str = "standby1";
pub const APP_USER: &str = "app";
pub const APP_PASSWORD: &str = "app-pw-7Hq2xV";

/// One server of the pair.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: &'static str,
    pub data: PathBuf,
    pub port: u16,
}

pub struct Pg {
    bin: PathBuf,
    dir: PathBuf,
    /// Run server commands as `postgres` (we are root).
    as_postgres: bool,
    pub primary: Node,
    pub standby: Option<Node>,
    watchdog: Mutex<Option<(Child, ChildStdin)>>,
}

impl Pg {
    /// A primary and a streaming standby, both started, the standby streaming.
    pub fn primary_and_standby() -> Pg {
        let mut pg = Pg::primary_only();
        pg.add_standby();
        pg
    }

    /// A primary alone, started.
    pub fn primary_only() -> Pg {
        let bin = PathBuf::from(
            std::env::var("WARROOM_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
        );
        for tool in ["initdb", "pg_ctl", "pg_basebackup", "psql"] {
            assert!(
                bin.join(tool).is_file(),
                "PostgreSQL binaries not found: {} is missing. The PostgreSQL probe tests need a real \
                 server: install PostgreSQL 15 (Debian: apt-get install postgresql-15) or set \
                 WARROOM_PG_BIN to the directory holding initdb, pg_ctl, pg_basebackup and psql.",
                bin.join(tool).display()
            );
        }
        let as_postgres = nix::unistd::geteuid().is_root();
        let base = if as_postgres {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = tempfile::Builder::new()
            .prefix("warroom-pg-")
            .tempdir_in(base)
            .expect("temporary directory")
            .keep();
        if as_postgres {
            let user = nix::unistd::User::from_name("postgres")
                .expect("reading the user database")
                .expect(
                    "running as root, the PostgreSQL tests need a `postgres` user to run the \
                     servers as (PostgreSQL refuses to run as root): install postgresql-15",
                );
            nix::unistd::chown(&dir, Some(user.uid), Some(user.gid)).expect("chown to postgres");
            assert!(
                Path::new("/usr/sbin/runuser").exists() || which("runuser"),
                "running as root, the PostgreSQL tests need `runuser` (util-linux)"
            );
        }
        let [port] = free_ports::<1>();
        let primary = Node {
            name: "primary",
            data: dir.join("primary"),
            port,
        };
        let pg = Pg {
            bin,
            dir,
            as_postgres,
            primary,
            standby: None,
            watchdog: Mutex::new(None),
        };
        pg.start_watchdog();
        pg.init_primary();
        pg
    }

    fn init_primary(&self) {
        let data = self.primary.data.to_str().expect("utf-8 path");
        self.server_cmd(
            "initdb",
            &[
                "-D",
                data,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "--encoding=UTF8",
                "--locale=C",
            ],
        );
        let conf = format!(
            "\n# warroom tests\n\
             listen_addresses = '127.0.0.1'\n\
             port = {port}\n\
             unix_socket_directories = '{dir}'\n\
             wal_level = replica\n\
             max_wal_senders = 10\n\
             hot_standby = on\n\
             fsync = off\n\
             full_page_writes = off\n\
             wal_receiver_status_interval = 1s\n\
             wal_retrieve_retry_interval = 1s\n\
             shared_buffers = 16MB\n\
             max_connections = 40\n",
            port = self.primary.port,
            dir = self.dir.display(),
        );
        append(&self.primary.data.join("postgresql.conf"), &conf);
        std::fs::write(
            self.primary.data.join("pg_hba.conf"),
            format!(
                "local all all trust\n\
                 host all {APP_USER} 127.0.0.1/32 scram-sha-256\n\
                 host all all 127.0.0.1/32 trust\n\
                 host replication all 127.0.0.1/32 trust\n"
            ),
        )
        .expect("write pg_hba.conf");
        self.start(&self.primary);
        self.psql(
            &self.primary,
            &format!("create role {APP_USER} login password '{APP_PASSWORD}'"),
        );
    }

    fn add_standby(&mut self) {
        let [port] = free_ports::<1>();
        let standby = Node {
            name: "standby",
            data: self.dir.join("standby"),
            port,
        };
        let conninfo = format!(
            "host=127.0.0.1 port={} user=postgres application_name={STANDBY_NAME}",
            self.primary.port
        );
        self.server_cmd(
            "pg_basebackup",
            &[
                "-d",
                &conninfo,
                "-D",
                standby.data.to_str().expect("utf-8 path"),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ],
        );
        append(
            &standby.data.join("postgresql.auto.conf"),
            &format!("port = {port}\n"),
        );
        self.start(&standby);
        self.standby = Some(standby);
        self.wait_streaming();
    }

    pub fn standby(&self) -> &Node {
        self.standby.as_ref().expect("a cluster with a standby")
    }

    /// The superuser's DSN (trust) for a node.
    pub fn dsn(&self, node: &Node) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            node.port
        )
    }

    /// The unprivileged `app` role's DSN, with this password.
    pub fn app_dsn(&self, node: &Node, password: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={APP_USER} password={password} dbname=postgres",
            node.port
        )
    }

    /// Runs SQL on a node as the superuser; its output, unaligned, tuples only.
    pub fn psql(&self, node: &Node, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"])
            .args(["-p", &node.port.to_string(), "-c", sql])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql on the {} failed: {sql}\n{}",
            node.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Starts a node and waits until it accepts connections.
    pub fn start(&self, node: &Node) {
        let log = self.dir.join(format!("{}.log", node.name));
        let ok = self.server_cmd_status(
            "pg_ctl",
            &[
                "-D",
                node.data.to_str().expect("utf-8 path"),
                "-l",
                log.to_str().expect("utf-8 path"),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        if !ok {
            panic!(
                "the {} did not start; its log:\n{}",
                node.name,
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
    }

    /// Turns TLS on for a node with a certificate for `localhost` (only: connecting to
    /// 127.0.0.1 is a name mismatch) signed by a test CA made here, and, when
    /// `hostssl_only`, accepts TCP connections only over TLS. Restarts the node. Returns the
    /// CA's PEM file and another CA's (one that signed nothing of this server).
    pub fn enable_tls(&self, node: &Node, hostssl_only: bool) -> (PathBuf, PathBuf) {
        let dir = self.dir.join(format!("{}-tls", node.name));
        std::fs::create_dir_all(&dir).expect("tls dir");
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("run openssl (the TLS tests make their certificates with it)");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        for ca in ["ca", "other-ca"] {
            let (key, crt, subject) = (
                format!("{ca}.key"),
                format!("{ca}.crt"),
                format!("/CN=warroom test {ca}"),
            );
            let mut args = vec!["req", "-x509"];
            args.extend(ec);
            args.extend([
                "-keyout", &key, "-out", &crt, "-days", "2", "-subj", &subject,
            ]);
            openssl(&args);
        }
        let mut req = vec!["req", "-new"];
        req.extend(ec);
        req.extend([
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ]);
        openssl(&req);
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\n",
        )
        .expect("write ext");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]);
        let key = dir.join("server.key");
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .expect("chmod key");
        if self.as_postgres {
            let user = nix::unistd::User::from_name("postgres")
                .expect("user database")
                .expect("postgres user");
            for f in ["server.key", "server.crt"] {
                nix::unistd::chown(&dir.join(f), Some(user.uid), Some(user.gid))
                    .expect("chown to postgres");
            }
        }
        append(
            &node.data.join("postgresql.conf"),
            &format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                dir.join("server.crt").display(),
                key.display()
            ),
        );
        if hostssl_only {
            std::fs::write(
                node.data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl replication all 127.0.0.1/32 trust\n",
            )
            .expect("write pg_hba.conf");
        }
        self.stop(node);
        self.start(node);
        (dir.join("ca.crt"), dir.join("other-ca.crt"))
    }

    /// Stops a node at once (`pg_ctl stop -m immediate`).
    pub fn stop(&self, node: &Node) {
        self.server_cmd_status(
            "pg_ctl",
            &[
                "-D",
                node.data.to_str().expect("utf-8 path"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    /// Begins a smart shutdown without waiting for it (`pg_ctl stop -m smart -W`): the
    /// server refuses new connections ("the database system is shutting down") until its
    /// open sessions end.
    pub fn begin_smart_shutdown(&self, node: &Node) {
        self.server_cmd(
            "pg_ctl",
            &[
                "-D",
                node.data.to_str().expect("utf-8 path"),
                "-m",
                "smart",
                "-W",
                "stop",
            ],
        );
    }

    /// A session that stays open (`select pg_sleep(seconds)`) until the child is killed.
    pub fn hold_session(&self, node: &Node, seconds: u32) -> Child {
        Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .args(["-p", &node.port.to_string()])
            .args(["-c", &format!("select pg_sleep({seconds})")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run psql")
    }

    /// Waits until the primary sees the standby streaming.
    pub fn wait_streaming(&self) {
        let sql = format!(
            "select count(*) from pg_stat_replication where application_name = '{STANDBY_NAME}' and state = 'streaming'"
        );
        self.wait_for(&self.primary, &sql, "1", Duration::from_secs(30));
    }

    /// Waits until everything the standby received is replayed and it has replayed at
    /// least one transaction.
    pub fn wait_replayed(&self) {
        let sql = "select pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() \
                   and pg_last_xact_replay_timestamp() is not null";
        self.wait_for(self.standby(), sql, "t", Duration::from_secs(30));
    }

    /// Polls `sql` on `node` until it prints `want`.
    pub fn wait_for(&self, node: &Node, sql: &str, want: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let got = self.psql(node, sql);
            if got == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited {within:?} on the {} for `{sql}` to give {want:?}; it gives {got:?}",
                node.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn server_cmd(&self, tool: &str, args: &[&str]) {
        let out = self
            .command(tool, args)
            .output()
            .expect("run a server tool");
        assert!(
            out.status.success(),
            "{tool} {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn server_cmd_status(&self, tool: &str, args: &[&str]) -> bool {
        self.command(tool, args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    fn command(&self, tool: &str, args: &[&str]) -> Command {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        cmd.args(args).current_dir(&self.dir).stdin(Stdio::null());
        cmd
    }

    /// A process that stops the servers and removes the directory when our end of its
    /// stdin closes: at drop, or when the test process exits however it exits.
    fn start_watchdog(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let run_as = if self.as_postgres {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let mut script = String::from("read _ignored\n");
        for name in ["standby", "primary"] {
            script.push_str(&format!(
                "[ -f '{dir}/{name}/postmaster.pid' ] && {run_as}'{pg_ctl}' -D '{dir}/{name}' -m immediate -w stop >/dev/null 2>&1\n",
                dir = self.dir.display(),
                pg_ctl = pg_ctl.display(),
            ));
        }
        script.push_str(&format!("rm -rf '{}'\n", self.dir.display()));
        let mut child = {
            use std::os::unix::process::CommandExt;
            Command::new("sh")
                .args(["-c", &script])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                // Its own process group: a Ctrl-C to the tests does not stop the cleanup.
                .process_group(0)
                .spawn()
                .expect("start the cleanup watchdog")
        };
        let stdin = child.stdin.take().expect("piped stdin");
        *self.watchdog.lock().unwrap() = Some((child, stdin));
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        if let Some(standby) = &self.standby {
            self.stop(standby);
        }
        self.stop(&self.primary);
        if let Some((mut child, mut stdin)) = self.watchdog.lock().unwrap().take() {
            let _ = stdin.write_all(b"\n");
            drop(stdin);
            let _ = child.wait();
        }
    }
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    f.write_all(text.as_bytes()).expect("append");
}

/// N distinct free loopback ports (held together while picked, so they differ).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind loopback"))
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().expect("addr").port())
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
}
