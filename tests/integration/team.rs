//! A team of real Unix accounts sharing one journal dir (made by `.ci/accounts.sh`): two
//! operators (wr-op1, wr-op2 in wr-ops), an observer (wr-obs1 in wr-obs) and an outsider
//! (wr-out), each running the real binary under `runuser` with its own home. The binary and
//! config are copied to a 0755 directory the accounts can reach; the config is root's, 0644.
//!
//! Needs root (to create accounts and switch to them): skipped with a reason outside CI,
//! a failure under `CI=true`.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::local::closed_port;
use crate::support::pty::Pty;

const PATIENCE: Duration = Duration::from_secs(15);
const RUNUSER: &str = "/usr/sbin/runuser";

/// The team's journal dir: `wr-ops` writes, `wr-obs` reads.
const INIT: [&str; 6] = [
    "journal",
    "init",
    "--group",
    "wr-ops",
    "--observers",
    "wr-obs",
];

/// Whether the accounts are there (made now if this is root and they are not).
fn accounts() -> bool {
    let why = if !nix::unistd::getuid().is_root() {
        "not root: cannot create accounts or run consoles as them"
    } else if !Path::new(RUNUSER).exists() {
        "no runuser on this machine"
    } else {
        let have = || {
            ["wr-op1", "wr-op2", "wr-obs1", "wr-out"]
                .iter()
                .all(|u| nix::unistd::User::from_name(u).ok().flatten().is_some())
        };
        if !have() {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/accounts.sh");
            let _ = Command::new("bash")
                .arg(script)
                .stdout(Stdio::null())
                .status();
        }
        if have() {
            return true;
        }
        "the accounts of .ci/accounts.sh could not be made"
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the team tests: {why}"
    );
    eprintln!("skipped: {why}");
    false
}

/// One shared bastion: a 0755 base with the binary, root's config, and the journal dir.
struct Bastion {
    base: tempfile::TempDir,
    bin: PathBuf,
    config: PathBuf,
    journal: PathBuf,
}

impl Bastion {
    fn new() -> Bastion {
        let base = tempfile::Builder::new()
            .prefix("warroom-team-")
            .tempdir()
            .expect("tempdir");
        chmod(base.path(), 0o755);
        let bin_dir = base.path().join("bin");
        std::fs::create_dir(&bin_dir).expect("bin");
        chmod(&bin_dir, 0o755);
        let bin = bin_dir.join("warroom");
        std::fs::copy(env!("CARGO_BIN_EXE_warroom"), &bin).expect("copy the binary");
        chmod(&bin, 0o755);
        // A port nothing listens on: db is DOWN, which the recorder writes.
        let config = base.path().join("estate.toml");
        std::fs::write(
            &config,
            format!(
                r#"
[console]
title = "Team"

[[component]]
id = "db"
tier = "critical"
rto = "1h"
health = {{ kind = "tcp", address = "127.0.0.1:{}", every = "1s", timeout = "1s" }}

[[runbook]]
id = "logs"
title = "Collect logs"

[[runbook.step]]
id = "collect"
title = "Collect the logs"
key = "x"
action = {{ kind = "command", argv = ["sh", "-c", "echo collected by $(id -un); for i in 1 2 3; do echo part $i; done"], timeout = "30s" }}
confirm = "collect"
"#,
                closed_port()
            ),
        )
        .expect("config");
        chmod(&config, 0o644);
        let journal = base.path().join("journal");
        Bastion {
            base,
            bin,
            config,
            journal,
        }
    }

    /// `user`'s own home, 0700.
    fn home(&self, user: &str) -> PathBuf {
        let home = self.base.path().join("home").join(user);
        std::fs::create_dir_all(&home).expect("home");
        chmod(&self.base.path().join("home"), 0o755);
        let u = nix::unistd::User::from_name(user)
            .expect("lookup")
            .expect("account");
        std::os::unix::fs::chown(&home, Some(u.uid.as_raw()), Some(u.gid.as_raw()))
            .expect("chown home");
        chmod(&home, 0o700);
        home
    }

    fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut a = vec![
            "-c".to_string(),
            self.config.display().to_string(),
            "--data-dir".into(),
            self.journal.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }

    /// `warroom ARGS` as `user` (`root` runs it directly), its output.
    fn run(&self, user: &str, extra: &[&str]) -> Output {
        let home = self.home(user);
        let mut cmd = if user == "root" {
            Command::new(&self.bin)
        } else {
            let mut c = Command::new(RUNUSER);
            c.args(["-m", "-u", user, "--"]).arg(&self.bin);
            c
        };
        cmd.args(self.args(extra))
            .current_dir(&home)
            .env("HOME", &home)
            .env("XDG_STATE_HOME", home.join("xdg-state"))
            .env("XDG_DATA_HOME", home.join("xdg-data"))
            .env_remove("WARROOM_CONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("run warroom")
    }

    /// The console as `user`, in a 200×50 terminal.
    fn console(&self, user: &str, extra: &[&str]) -> Pty {
        let home = self.home(user);
        let mut a = vec![
            "-m".to_string(),
            "-u".into(),
            user.into(),
            "--".into(),
            self.bin.display().to_string(),
        ];
        a.extend(self.args(&[&["--layout", "bastion"], extra].concat()));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        Pty::spawn_program(RUNUSER, &a, 200, 50, &home, &[])
    }
}

/// Types a note on a console (`n`, its text, Enter).
fn note(console: &mut Pty, text: &str) {
    console.send(b"n");
    console.wait_for("Note", PATIENCE).expect("note dialog");
    console.send(format!("{text}\r").as_bytes());
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn gid(name: &str) -> u32 {
    nix::unistd::Group::from_name(name)
        .expect("lookup")
        .expect("group")
        .gid
        .as_raw()
}

#[test]
fn two_operators_and_an_observer_share_one_journal_and_an_outsider_is_refused() {
    if !accounts() {
        return;
    }
    let b = Bastion::new();
    let init = INIT;
    let made = b.run("root", &init);
    assert!(made.status.success(), "{}", text(&made));
    assert!(
        text(&made).contains("made for group wr-ops"),
        "{}",
        text(&made)
    );
    // An operator adopting it again changes nothing and may: idempotent.
    let again = b.run("wr-op1", &init);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("adopted"), "{}", text(&again));

    let mut op1 = b.console("wr-op1", &[]);
    op1.wait_for("REC", PATIENCE)
        .expect("the first operator records");
    op1.wait_for("db: UNKNOWN → DOWN", PATIENCE)
        .expect("the recorder's entry");
    note(&mut op1, "from op1");
    op1.wait_for("note: from op1", PATIENCE)
        .expect("op1's note");
    op1.send(b"d");
    op1.wait_for("Declare an incident", PATIENCE)
        .expect("dialog");
    op1.send(b"db gone\t2\r");
    op1.wait_for("L2 investigating: db gone", PATIENCE)
        .expect("declared");

    // The second operator's console follows the incident and writes to it.
    let mut op2 = b.console("wr-op2", &[]);
    op2.wait_for("L2 investigating: db gone", PATIENCE)
        .expect("the incident on op2's console");
    note(&mut op2, "from op2");
    op1.wait_for("note: from op2", PATIENCE)
        .expect("op2's note on op1's console");

    // The observer's account reads it all and is read-only without being told.
    let mut obs = b.console("wr-obs1", &[]);
    obs.wait_for("[RO]", PATIENCE).expect("read-only by group");
    obs.wait_for_all(&["L2 investigating: db gone", "note: from op2"], PATIENCE)
        .expect("the incident on the observer's console");
    obs.send(b"n");
    obs.wait_for("read-only console: cannot add a note", PATIENCE)
        .expect("the observer cannot write");

    // The outsider is refused before any screen, told which groups to join.
    let out = b.run("wr-out", &[]);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(
        text(&out).contains("ask to join group wr-ops (operators) or wr-obs (observers)"),
        "{}",
        text(&out)
    );

    for c in [&mut op1, &mut op2, &mut obs] {
        c.send(b"q");
        assert!(c.wait_exit(PATIENCE).is_some(), "a console did not quit");
    }

    // One chain, both operators in it, every file the team's.
    let incidents = b.journal.join("incidents");
    let incident = warroom::journal::latest(&incidents).expect("the incident");
    let report = warroom::journal::verify(&incident).expect("verify");
    assert!(report.ok(), "{report:?}");
    let journal = std::fs::read_to_string(&incident).expect("read");
    assert!(journal.contains("\"actor\":\"wr-op1@"), "{journal}");
    assert!(journal.contains("\"actor\":\"wr-op2@"), "{journal}");
    for path in [&incident, &b.journal.join("recorder.lock")] {
        let m = std::fs::metadata(path).expect("meta");
        assert_eq!(m.gid(), gid("wr-ops"), "{}", path.display());
        assert_eq!(m.mode() & 0o7777, 0o660, "{}", path.display());
    }
    let check = b.run("wr-op2", &["check"]);
    assert!(check.status.success(), "{}", text(&check));
}

#[test]
fn an_outsiders_plant_in_a_directory_left_open_is_unsafe_and_gets_nothing() {
    if !accounts() {
        return;
    }
    let b = Bastion::new();
    let made = b.run("root", &INIT);
    assert!(made.status.success(), "{}", text(&made));
    // Someone "fixes" a permission problem the wrong way; the outsider uses it.
    let incidents = b.journal.join("incidents");
    chmod(&incidents, 0o777);
    chmod(&b.journal, 0o2771);
    let fake = incidents.join("2099-01-01T0000Z-fake.jsonl");
    let line = r#"{"seq":1,"at":"2099-01-01T00:00:00Z","actor":"wr-out@bastion","kind":"declared","title":"fake","level":1,"status":"investigating","commander":"wr-out@bastion","started":"2099-01-01T00:00:00Z","hash":"0"}"#;
    let planted = Command::new(RUNUSER)
        .args(["-u", "wr-out", "--", "sh", "-c", "cat > \"$0\""])
        .arg(&fake)
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().expect("stdin").write_all(line.as_bytes())?;
            c.wait()
        })
        .expect("the outsider plants");
    assert!(planted.success(), "the outsider could not write the plant");
    let before = std::fs::read(&fake).expect("read");

    let mut op1 = b.console("wr-op1", &[]);
    op1.wait_for("JOURNAL UNSAFE", PATIENCE)
        .expect("the open directory said on screen");
    note(&mut op1, "not for eve");
    op1.wait_for("note: not for eve", PATIENCE)
        .expect("the note, in the watch log");
    op1.send(b"q");
    assert!(op1.wait_exit(PATIENCE).is_some());
    assert_eq!(std::fs::read(&fake).expect("read"), before);
    let check = b.run("wr-op1", &["check"]);
    assert!(!check.status.success(), "{}", text(&check));
    assert!(
        text(&check).contains("incidents: writable by others"),
        "{}",
        text(&check)
    );
}

#[test]
fn a_teams_secret_may_be_roots_and_read_by_the_operators_group_only() {
    if !accounts() {
        return;
    }
    let b = Bastion::new();
    let token = b.base.path().join("slack.token");
    std::fs::write(&token, "xoxb-team-token\n").expect("token");
    std::os::unix::fs::chown(&token, Some(0), Some(gid("wr-ops"))).expect("chown");
    chmod(&token, 0o640);
    let mut config = std::fs::read_to_string(&b.config).expect("config");
    config.push_str(&format!(
        "\n[slack]\ntoken_file = \"{}\"\nchannel = \"#war-room\"\n",
        token.display()
    ));
    std::fs::write(&b.config, config).expect("config");
    let ok = b.run("wr-op1", &["check"]);
    assert!(ok.status.success(), "{}", text(&ok));
    // Readable by everyone: refused, with the fix.
    chmod(&token, 0o644);
    let open = b.run("wr-op1", &["check"]);
    assert!(!open.status.success(), "{}", text(&open));
    assert!(text(&open).contains("chmod 640"), "{}", text(&open));
    // Writable by the group: refused too (a token swapped by one operator for all).
    chmod(&token, 0o660);
    let group_writes = b.run("wr-op2", &["check"]);
    assert!(!group_writes.status.success(), "{}", text(&group_writes));
}

/// Root reads every directory, so only another account can show what an unreadable backup
/// directory reads as: UNKNOWN (access denied), never "no backup".
#[test]
fn a_backup_directory_the_account_cannot_read_is_unknown_not_missing() {
    if !accounts() {
        return;
    }
    let b = Bastion::new();
    let locked = b.base.path().join("locked");
    std::fs::create_dir(&locked).expect("mkdir");
    std::fs::write(locked.join("a.dump"), "x").expect("dump");
    chmod(&locked, 0o700);
    std::fs::write(
        &b.config,
        format!(
            r#"
[[component]]
id = "db"
tier = "critical"
rto = "1h"
health = {{ kind = "tcp", address = "127.0.0.1:{}", every = "1s", timeout = "1s" }}
backup = {{ kind = "files", glob = "{}/*.dump", warn = "2h", crit = "3h" }}
"#,
            closed_port(),
            locked.display()
        ),
    )
    .expect("config");
    chmod(&b.config, 0o644);
    // Root, for contrast: it reads the directory and finds the backup.
    let root = b.run("root", &["status"]);
    assert!(text(&root).contains("backup ok"), "{}", text(&root));
    let out = b.run("wr-out", &["status"]);
    let said = text(&out);
    assert!(said.contains("backup unknown"), "{said}");
    assert!(said.to_lowercase().contains("denied"), "{said}");
    assert!(!said.contains("no file matches"), "{said}");
}

#[test]
fn a_steps_log_is_the_teams_and_an_observer_reads_it_from_the_runbook_panel() {
    if !accounts() {
        return;
    }
    let b = Bastion::new();
    let made = b.run("root", &INIT);
    assert!(made.status.success(), "{}", text(&made));
    let mut op1 = b.console("wr-op1", &[]);
    op1.wait_for("REC", PATIENCE).expect("the operator records");
    op1.send(b"d");
    op1.wait_for("Declare an incident", PATIENCE)
        .expect("dialog");
    op1.send(b"db gone\t2\r");
    op1.wait_for("L2 investigating: db gone", PATIENCE)
        .expect("declared");
    op1.send(b"x");
    op1.wait_for("run (no shell)", PATIENCE).expect("the modal");
    op1.send(b"collect\r");
    op1.wait_for("step logs/collect: succeeded", PATIENCE)
        .expect("the step ran");
    op1.wait_for("4 lines, 4 kept, log", PATIENCE)
        .expect("the journal's summary names the log");

    // The log: beside the incident's journal, the team's.
    let incident = warroom::journal::latest(&b.journal.join("incidents")).expect("incident");
    let steps = warroom::journal::dirs::steps_dir(&incident);
    let log = std::fs::read_dir(&steps)
        .expect("the incident's steps dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .next()
        .expect("a log");
    let dir = std::fs::metadata(&steps).expect("meta");
    assert_eq!(dir.gid(), gid("wr-ops"));
    assert_eq!(dir.mode() & 0o7777, 0o2770);
    let m = std::fs::metadata(&log).expect("meta");
    assert_eq!(m.gid(), gid("wr-ops"), "{}", log.display());
    assert_eq!(m.mode() & 0o007, 0, "others read nothing: {:o}", m.mode());
    let read_as = |user: &str| {
        Command::new(RUNUSER)
            .args(["-u", user, "--", "cat"])
            .arg(&log)
            .output()
            .expect("cat")
    };
    assert!(read_as("wr-op2").status.success(), "an operator reads it");
    assert!(!read_as("wr-out").status.success(), "an outsider does not");

    // The observer opens it from the runbook panel (R, then Enter).
    let mut obs = b.console("wr-obs1", &[]);
    obs.wait_for("[RO]", PATIENCE).expect("read-only by group");
    obs.wait_for("step logs/collect: succeeded", PATIENCE)
        .expect("the step on the observer's timeline");
    obs.send(b"R");
    obs.wait_for("▶ Runbooks", PATIENCE)
        .expect("runbooks focused");
    obs.send(b"\r");
    obs.wait_for_all(
        &["Log of logs/collect", "collected by wr-op1", "part 3"],
        PATIENCE,
    )
    .expect("the observer reads the operator's step log");
    obs.send(b"\x1b");
    obs.wait_gone("Log of logs/collect", PATIENCE)
        .expect("Esc closes it");
    for c in [&mut op1, &mut obs] {
        c.send(b"q");
        assert!(c.wait_exit(PATIENCE).is_some(), "a console did not quit");
    }
}
