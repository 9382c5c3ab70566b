//! `warroom check` and the CLI contract, run on the real binary.
//!
//! Fixtures: `tests/configs/valid/` must pass; each `tests/configs/invalid/X.toml` (or
//! directory `X/` with a `config.toml`) must fail with exactly the lines of `X.expected`.
//! Each fixture is copied to a fresh directory with owner-only write permission first, so
//! the result does not depend on the umask the repository was checked out with.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/configs")
        .join(kind)
}

fn warroom(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(args)
        .current_dir(dir)
        .env_remove("WARROOM_CONFIG")
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .output()
        .expect("run warroom")
}

/// Copies a file or directory tree into `into`, owner-writable only.
fn copy_safe(from: &Path, into: &Path) -> PathBuf {
    let to = into.join(from.file_name().expect("fixture has a name"));
    if from.is_dir() {
        fs::create_dir_all(&to).expect("mkdir");
        fs::set_permissions(&to, fs::Permissions::from_mode(0o755)).expect("chmod");
        for entry in fs::read_dir(from).expect("read fixture dir") {
            copy_safe(&entry.expect("entry").path(), &to);
        }
    } else {
        fs::copy(from, &to).expect("copy fixture");
        fs::set_permissions(&to, fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    to
}

/// The `-c` argument for a fixture copied into the working directory.
fn config_arg(fixture: &Path) -> String {
    let name = fixture
        .file_name()
        .and_then(|n| n.to_str())
        .expect("utf-8 fixture name");
    if fixture.is_dir() {
        format!("{name}/config.toml")
    } else {
        name.to_string()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_valid_fixture_passes_with_a_one_line_summary() {
    let mut seen = 0;
    for entry in fs::read_dir(fixtures("valid")).expect("valid fixtures") {
        let fixture = entry.expect("entry").path();
        let tmp = tempfile::tempdir().expect("tempdir");
        copy_safe(&fixture, tmp.path());
        let arg = config_arg(&fixture);
        let out = warroom(tmp.path(), &["check", "-c", &arg]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{arg} should pass; stderr:\n{}",
            text(&out.stderr)
        );
        let stdout = text(&out.stdout);
        assert_eq!(stdout.lines().count(), 1, "one line: {stdout}");
        assert!(stdout.starts_with(&format!("{arg}: ok: ")), "{stdout}");
        seen += 1;
    }
    assert!(seen >= 2, "expected the valid fixtures, found {seen}");
}

#[test]
fn the_every_kind_fixture_counts_components_runbooks_and_steps() {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_safe(&fixtures("valid").join("every-kind"), tmp.path());
    let out = warroom(tmp.path(), &["check", "-c", "every-kind/config.toml"]);
    assert_eq!(
        text(&out.stdout),
        "every-kind/config.toml: ok: 6 components, 2 runbooks, 12 steps\n"
    );
    // The restore's placement, component and the runbook's level, read as written.
    let cfg = warroom::config::load(&tmp.path().join("every-kind/config.toml")).expect("loads");
    let rb = cfg
        .runbooks
        .iter()
        .find(|r| r.id == "restore")
        .expect("restore");
    assert_eq!(rb.level, Some(2));
    let named = rb
        .steps
        .iter()
        .find(|s| s.id == "named-snapshot")
        .expect("named");
    assert_eq!(named.component.as_deref(), Some("db"));
    match &named.action {
        warroom::config::Action::RdsRestoreSnapshot { placement, .. } => {
            assert_eq!(
                placement,
                &warroom::config::Placement {
                    subnet_group: Some("db-dr-private".into()),
                    security_groups: Some(vec!["sg-0a1".into(), "sg-0b2".into()]),
                    parameter_group: Some("pg15".into()),
                    option_group: Some("opts".into()),
                    multi_az: Some(true),
                    deletion_protection: Some(true),
                    publicly_accessible: Some(false),
                    port: Some(5433),
                    tags: [("app".to_string(), "db".to_string())].into(),
                    storage_type: Some("io2".into()),
                    iops: Some(12000),
                }
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_invalid_fixture_fails_with_exactly_its_expected_messages() {
    let mut seen = 0;
    for entry in fs::read_dir(fixtures("invalid")).expect("invalid fixtures") {
        let fixture = entry.expect("entry").path();
        if fixture.extension().is_some_and(|e| e == "expected") {
            continue;
        }
        let stem = fixture
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name");
        let expected_path = fixtures("invalid").join(format!("{stem}.expected"));
        let expected = fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} has no {}", fixture.display(), expected_path.display()));
        let tmp = tempfile::tempdir().expect("tempdir");
        copy_safe(&fixture, tmp.path());
        let out = warroom(tmp.path(), &["check", "-c", &config_arg(&fixture)]);
        assert_eq!(out.status.code(), Some(1), "{stem} must exit 1");
        assert_eq!(text(&out.stderr), expected, "messages of {stem}");
        assert!(out.stdout.is_empty(), "{stem}: nothing on stdout");
        seen += 1;
    }
    assert!(seen >= 10, "expected the invalid fixtures, found {seen}");
}

#[test]
fn check_reports_every_error_at_once_not_the_first() {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_safe(&fixtures("invalid").join("wrong-types.toml"), tmp.path());
    let out = warroom(tmp.path(), &["check", "-c", "wrong-types.toml"]);
    let stderr = text(&out.stderr);
    // Four independent mistakes in three tables, then the count.
    assert_eq!(stderr.lines().count(), 5, "{stderr}");
    assert!(stderr.ends_with("wrong-types.toml: 4 errors\n"), "{stderr}");
}

fn write_config(dir: &Path, name: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    fs::write(
        &path,
        "[[component]]\nid = \"api\"\ntier = \"critical\"\nhealth = { kind = \"tcp\", address = \"127.0.0.1:1\" }\n",
    )
    .expect("write config");
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

#[test]
fn a_config_writable_by_group_or_others_is_refused_with_the_reason() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_config(tmp.path(), "group.toml", 0o664);
    write_config(tmp.path(), "others.toml", 0o646);
    let out = warroom(tmp.path(), &["check", "-c", "group.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "group.toml: refused: writable by group (mode 0664); its command steps run with your rights. Fix with: chmod go-w group.toml\ngroup.toml: 1 error\n"
    );
    let out = warroom(tmp.path(), &["check", "-c", "others.toml"]);
    assert!(
        text(&out.stderr).starts_with("others.toml: refused: writable by others (mode 0646)"),
        "{}",
        text(&out.stderr)
    );
    // Any command but check exits 78 on it.
    let out = warroom(tmp.path(), &["-c", "group.toml"]);
    assert_eq!(out.status.code(), Some(78));
}

#[test]
fn a_config_owned_by_another_user_is_refused() {
    // Giving a file away needs root; CI and this machine run the tests as root.
    if !nix::unistd::getuid().is_root() {
        eprintln!("skipped: chown needs root");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = write_config(tmp.path(), "theirs.toml", 0o644);
    nix::unistd::chown(&path, Some(nix::unistd::Uid::from_raw(65534)), None).expect("chown");
    let out = warroom(tmp.path(), &["check", "-c", "theirs.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .starts_with("theirs.toml: refused: owned by uid 65534, not by you (uid 0) or root"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_config_is_found_at_warroom_config_then_the_xdg_config_dir() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_config(tmp.path(), "from-env.toml", 0o600);
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .arg("check")
        .current_dir(tmp.path())
        .env("WARROOM_CONFIG", "from-env.toml")
        .output()
        .expect("run");
    assert_eq!(
        text(&out.stdout),
        "from-env.toml: ok: 1 component, 0 runbooks, 0 steps\n"
    );

    let xdg = tmp.path().join("xdg-config/warroom");
    fs::create_dir_all(&xdg).expect("mkdir");
    let path = write_config(&xdg, "config.toml", 0o600);
    let out = warroom(tmp.path(), &["check"]);
    assert_eq!(
        text(&out.stdout),
        format!("{}: ok: 1 component, 0 runbooks, 0 steps\n", path.display())
    );

    // -c wins over the environment.
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["check", "-c", "missing.toml"])
        .current_dir(tmp.path())
        .env("WARROOM_CONFIG", "from-env.toml")
        .output()
        .expect("run");
    assert_eq!(
        text(&out.stderr),
        "missing.toml: no such file\nmissing.toml: 1 error\n"
    );
}

#[test]
fn usage_errors_exit_64_not_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for args in [
        &["bogus"][..],
        &["--no-such-flag"],
        &["status", "--jsn"],
        &["drill", "--speed", "fast"],
        &["journal"],
    ] {
        let out = warroom(tmp.path(), args);
        assert_eq!(
            out.status.code(),
            Some(64),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn help_documents_every_command_and_option() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = warroom(tmp.path(), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for word in [
        "drill",
        "check",
        "status",
        "report",
        "journal",
        "--config",
        "--theme",
        "--layout",
        "--read-only",
        "--low-bandwidth",
        "--ascii",
        "--data-dir",
        "78",
    ] {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
    let out = warroom(tmp.path(), &["drill", "--help"]);
    let help = text(&out.stdout);
    assert!(
        help.contains("--speed") && help.contains("SCENARIO"),
        "{help}"
    );
    let out = warroom(tmp.path(), &["journal", "verify", "--help"]);
    assert!(text(&out.stdout).contains("INCIDENT"));
    let out = warroom(tmp.path(), &["status", "--help"]);
    assert!(text(&out.stdout).contains("--json"));
}

#[test]
fn global_options_are_accepted_before_or_after_the_command() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_config(tmp.path(), "c.toml", 0o600);
    let after = warroom(tmp.path(), &["check", "-c", "c.toml", "--data-dir", "d"]);
    let before = warroom(tmp.path(), &["-c", "c.toml", "--data-dir", "d", "check"]);
    assert_eq!(after.status.code(), Some(0));
    assert_eq!(after.stdout, before.stdout);
}

#[test]
fn report_without_any_incident_says_where_it_looked_and_exits_1() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_config(tmp.path(), "c.toml", 0o600);
    let args = ["-c", "c.toml", "--data-dir", "journals", "report"];
    let out = warroom(tmp.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("journals"), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn an_invalid_config_exits_78_for_the_console() {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_safe(&fixtures("invalid").join("unknown-key.toml"), tmp.path());
    let out = warroom(tmp.path(), &["-c", "unknown-key.toml"]);
    assert_eq!(out.status.code(), Some(78));
    assert!(text(&out.stderr).contains("unknown-key.toml:3:1: console.colour: unknown key"));
}

#[test]
fn the_example_estate_passes_check() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = copy_safe(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
        tmp.path(),
    );
    assert!(config.join("example.toml").exists());
    let out = warroom(tmp.path(), &["check", "-c", "config/example.toml"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "config/example.toml must pass check:\n{}",
        text(&out.stderr)
    );
    // The line the README quotes.
    assert_eq!(
        text(&out.stdout),
        "config/example.toml: ok: 8 components, 10 runbooks, 75 steps\n"
    );

    // The six rows of the seed's RTO/RPO table, with their own names and targets.
    let cfg = warroom::config::load(&config.join("example.toml")).expect("example loads");
    let minutes = |m: u64| std::time::Duration::from_secs(m * 60);
    for (name, rto, rpo) in [
        ("Base de Datos Principal", minutes(60), minutes(15)),
        ("Aplicaciones Web", minutes(30), minutes(0)),
        ("Cola de Mensajes", minutes(15), minutes(0)),
        ("Cache (Redis)", minutes(30), minutes(60)),
        ("Almacenamiento de Archivos", minutes(120), minutes(60)),
        ("Configuración y Secretos", minutes(15), minutes(0)),
    ] {
        let c = cfg
            .components
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("example lacks {name}"));
        assert_eq!((c.rto, c.rpo), (Some(rto), Some(rpo)), "{name}");
    }
    // DR levels 1-3 and the 8-step failover of the seeds.
    let failover = cfg
        .runbooks
        .iter()
        .find(|r| r.id == "failover")
        .expect("the 8-step failover");
    assert_eq!(failover.steps.len(), 8);
    // The way back after a level-3 failover, as the DR test's restore_primary_region.
    let failback = cfg
        .runbooks
        .iter()
        .find(|r| r.id == "failback")
        .expect("the failback runbook");
    assert!(
        failback
            .steps
            .iter()
            .any(|s| s.action.kind() == "rds_promote_read_replica"),
        "the failback promotes the rebuilt primary"
    );
    for level in ["l1-", "l2-", "l3-"] {
        assert!(
            cfg.runbooks.iter().any(|r| r.id.starts_with(level)),
            "no runbook for DR level {level}"
        );
    }
}

#[test]
fn check_validates_scenarios_beside_the_config_and_user_themes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_config(tmp.path(), "c.toml", 0o600);
    fs::create_dir(tmp.path().join("scenarios")).expect("mkdir");
    fs::write(
        tmp.path().join("scenarios/mine.toml"),
        "name = \"mine\"\ndescription = \"x\"\n[[event]]\nat = \"5s\"\ncomponent = \"db-primary\"\nhealth = \"down\"\n",
    )
    .expect("write scenario");
    let out = warroom(tmp.path(), &["check", "-c", "c.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("scenarios/mine.toml:5:") && stderr.contains("db-primary"),
        "a scenario naming a component the config lacks:\n{stderr}"
    );

    // A broken theme of the user's own is reported too.
    let tmp = tempfile::tempdir().expect("tempdir");
    write_config(tmp.path(), "c.toml", 0o600);
    let themes = tmp.path().join("xdg-config/warroom/themes");
    fs::create_dir_all(&themes).expect("mkdir");
    fs::write(themes.join("mine.toml"), "up = { fg = \"purplish\" }\n").expect("write theme");
    let out = warroom(tmp.path(), &["check", "-c", "c.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("mine.toml:1:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_drill_scenario_that_does_not_fit_the_config_says_so() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_config(tmp.path(), "c.toml", 0o600);
    let out = warroom(tmp.path(), &["drill", "-c", "c.toml"]);
    assert_eq!(out.status.code(), Some(64));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("db-primary"), "{stderr}");
    assert!(
        stderr.contains("`steady` fits any estate"),
        "the way out is named: {stderr}"
    );
    let out = warroom(tmp.path(), &["drill", "no-such-scenario"]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
}

#[test]
fn a_theme_the_config_names_by_path_is_found_beside_the_config() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sub = tmp.path().join("etc");
    fs::create_dir(&sub).expect("mkdir");
    let theme = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/light.toml");
    fs::copy(&theme, sub.join("mine.toml")).expect("copy theme");
    fs::write(
        sub.join("c.toml"),
        "[console]\ntheme = \"mine.toml\"\n[[component]]\nid = \"api\"\ntier = \"critical\"\nhealth = { kind = \"tcp\", address = \"127.0.0.1:1\" }\n",
    )
    .expect("write config");
    fs::set_permissions(sub.join("c.toml"), fs::Permissions::from_mode(0o600)).expect("chmod");
    // Started from the parent directory: the theme is still found beside the config.
    let out = warroom(tmp.path(), &["check", "-c", "etc/c.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    fs::remove_file(sub.join("mine.toml")).expect("rm");
    let out = warroom(tmp.path(), &["check", "-c", "etc/c.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("console.theme"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_refuses_a_journal_dir_writable_by_others() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let journals = tmp.path().join("journals");
    fs::create_dir(&journals).expect("mkdir");
    fs::set_permissions(&journals, fs::Permissions::from_mode(0o777)).expect("chmod");
    fs::write(
        tmp.path().join("c.toml"),
        format!(
            "[journal]\ndir = \"{}\"\n[[component]]\nid = \"api\"\ntier = \"critical\"\nhealth = {{ kind = \"tcp\", address = \"127.0.0.1:1\" }}\n",
            journals.display()
        ),
    )
    .expect("write config");
    fs::set_permissions(tmp.path().join("c.toml"), fs::Permissions::from_mode(0o600))
        .expect("chmod");
    let out = warroom(tmp.path(), &["check", "-c", "c.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("journal.dir"),
        "{}",
        text(&out.stderr)
    );
    fs::set_permissions(&journals, fs::Permissions::from_mode(0o750)).expect("chmod");
    let out = warroom(tmp.path(), &["check", "-c", "c.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_secret_file_readable_by_others_is_refused_and_a_0600_one_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).expect("chmod");
    let config = dir.path().join("config.toml");
    fs::write(
        &config,
        r##"
[[component]]
id = "api"
tier = "critical"
health = { kind = "tcp", address = "127.0.0.1:1" }

[slack]
token_file = "slack-token"
channel = "#war"

[statuspage]
kind = "atlassian"
page_id = "p1"
api_key_file = "missing-key"
"##,
    )
    .expect("write");
    fs::set_permissions(&config, fs::Permissions::from_mode(0o600)).expect("chmod");
    let token = dir.path().join("slack-token");
    fs::write(&token, "xoxb-PLANTED-check-1\n").expect("write");
    fs::set_permissions(&token, fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = warroom(dir.path(), &["check", "-c", "config.toml"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("slack.token_file:") && err.contains("mode 0644") && err.contains("chmod 600"),
        "{err}"
    );
    assert!(
        err.contains("statuspage.api_key_file:") && err.contains("missing-key"),
        "{err}"
    );
    assert!(
        !err.contains("PLANTED"),
        "the secret itself is never printed: {err}"
    );
    fs::set_permissions(&token, fs::Permissions::from_mode(0o600)).expect("chmod");
    fs::write(dir.path().join("missing-key"), "k").expect("write");
    fs::set_permissions(
        dir.path().join("missing-key"),
        fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");
    let out = warroom(dir.path(), &["check", "-c", "config.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Runs warroom like [`warroom`] but gives up after `within`: a special file must never hang
/// it. The exit code and stderr, or `None` if it was still running.
fn warroom_within(dir: &Path, args: &[&str], within: std::time::Duration) -> Option<(i32, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(args)
        .current_dir(dir)
        .env_remove("WARROOM_CONFIG")
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run warroom");
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            let out = child.wait_with_output().expect("output");
            return Some((out.status.code().unwrap_or(-1), text(&out.stderr)));
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A FIFO, `/dev/zero` behind a symlink and a 20 GB sparse file, as the config and as a
/// runbook file: `check` says what and where and exits 1, the console exits 78 — eventually,
/// within 10 s, never hanging or reading without end.
#[test]
fn special_and_huge_files_are_refused_at_once() {
    let within = std::time::Duration::from_secs(10);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let fifo = dir.join("fifo.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let zero = dir.join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
    let sparse = dir.join("sparse.toml");
    fs::File::create(&sparse)
        .and_then(|f| f.set_len(20 << 30))
        .expect("sparse");
    fs::set_permissions(&sparse, fs::Permissions::from_mode(0o600)).expect("chmod");
    for (file, why) in [
        (&fifo, "not a regular file (FIFO)"),
        (&zero, "not a regular file (character device)"),
        (&sparse, "larger than 1 MiB"),
    ] {
        let path = file.to_string_lossy().into_owned();
        let (code, err) = warroom_within(dir, &["check", "-c", &path], within)
            .unwrap_or_else(|| panic!("check hung on {path}"));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(&format!("{path}:1:1: {why}")), "{err}");
        let (code, err) = warroom_within(dir, &["-c", &path], within)
            .unwrap_or_else(|| panic!("the console hung on {path}"));
        assert_eq!(code, 78, "{err}");
        assert!(err.contains(why), "{err}");
    }
    // The same as a runbook file the config names.
    let config = dir.join("config.toml");
    fs::write(
        &config,
        "runbook_files = [\"fifo.toml\"]\n[[component]]\nid = \"db\"\ntier = \"critical\"\nhealth = { kind = \"tcp\", address = \"127.0.0.1:5432\" }\n",
    )
    .expect("write");
    fs::set_permissions(&config, fs::Permissions::from_mode(0o600)).expect("chmod");
    let path = config.to_string_lossy().into_owned();
    let (code, err) = warroom_within(dir, &["check", "-c", &path], within)
        .expect("check hung on a FIFO runbook file");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("fifo.toml:1:1: not a regular file (FIFO)"),
        "{err}"
    );
}

#[test]
fn a_theme_layout_or_scenario_that_is_not_a_file_exits_78_at_once() {
    let within = std::time::Duration::from_secs(10);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let fifo = dir.join("fifo.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let zero = dir.join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
    for (file, why) in [
        (&fifo, "not a regular file (FIFO)"),
        (&zero, "not a regular file (character device)"),
    ] {
        let path = file.to_string_lossy().into_owned();
        for args in [
            vec!["drill", "--theme", &path],
            vec!["drill", "--layout", &path],
            vec!["drill", &path],
        ] {
            let (code, err) =
                warroom_within(dir, &args, within).unwrap_or_else(|| panic!("{args:?} hung"));
            // A file that is not a file is a config error, like the config's own.
            assert_eq!(code, 78, "{args:?}: {err}");
            assert!(err.contains(why), "{args:?}: {err}");
        }
    }
    // An unknown name stays a usage error.
    let (code, err) = warroom_within(dir, &["drill", "--layout", "wall"], within).expect("exits");
    assert_eq!(code, 64, "{err}");
}

#[test]
fn a_cwd_missing_on_this_machine_is_a_warning_where_it_is_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let here = tmp.path().join("scripts");
    fs::create_dir(&here).expect("mkdir");
    let config = |cwd: &Path, cwd2: &Path| {
        format!(
            "[[component]]\nid = \"db\"\ntier = \"critical\"\nhealth = {{ kind = \"tcp\", address = \"127.0.0.1:1\" }}\n\
             [[runbook]]\nid = \"dns\"\ntitle = \"DNS\"\n\
             [[runbook.step]]\nid = \"a\"\ntitle = \"A\"\nkey = \"a\"\nconfirm = \"run a\"\naction = {{ kind = \"command\", argv = [\"true\"], cwd = \"{}\" }}\n\
             [[runbook.step]]\nid = \"b\"\ntitle = \"B\"\nkey = \"b\"\nconfirm = \"run b\"\naction = {{ kind = \"command\", argv = [\"true\"], cwd = \"{}\" }}\n",
            cwd.display(),
            cwd2.display()
        )
    };
    let path = tmp.path().join("c.toml");
    fs::write(&path, config(&here, &here)).expect("write");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
    let out = warroom(tmp.path(), &["check", "-c", "c.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "an existing cwd is not warned about");

    // Missing here: a warning with its place, once per directory; still ok (the steps may
    // run on another machine, the bastion).
    let gone = tmp.path().join("gone");
    fs::write(&path, config(&gone, &gone)).expect("write");
    let out = warroom(tmp.path(), &["check", "-c", "c.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!(
            "c.toml:13:53: warning: cwd {}: no such directory on this machine: steps that run in it fail here (and 1 more step)\n",
            gone.display()
        )
    );
    assert!(text(&out.stdout).starts_with("c.toml: ok:"));
}

/// Every file of the example estate, in turn, replaced by each kind of file that is not a
/// file of sane size: refused with where and why, never a hang, never read whole.
#[test]
fn any_example_file_replaced_by_a_special_file_is_refused() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut files = vec![PathBuf::from("example.toml")];
    for entry in fs::read_dir(source.join("runbooks")).expect("runbooks") {
        let name = entry.expect("entry").file_name();
        files.push(Path::new("runbooks").join(name));
    }
    files.sort();
    let kinds: [(&str, &str); 4] = [
        ("fifo", "not a regular file (FIFO)"),
        ("zero", "not a regular file (character device)"),
        ("dir", "not a regular file (directory)"),
        ("sparse", "larger than 1 MiB"),
    ];
    for file in &files {
        for (kind, why) in kinds {
            let tmp = tempfile::tempdir().expect("tempdir");
            let config = copy_safe(&source, tmp.path());
            let target = config.join(file);
            fs::remove_file(&target).expect("rm");
            match kind {
                "fifo" => {
                    nix::unistd::mkfifo(&target, nix::sys::stat::Mode::from_bits_truncate(0o600))
                        .expect("mkfifo")
                }
                "zero" => std::os::unix::fs::symlink("/dev/zero", &target).expect("symlink"),
                "dir" => fs::create_dir(&target).expect("mkdir"),
                _ => {
                    let f = fs::File::create(&target).expect("create");
                    f.set_len(20 << 30).expect("sparse");
                    fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).expect("chmod");
                }
            }
            let main = config.join("example.toml");
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = tx.send(warroom::config::load(&main).map(|_| ()));
            });
            let result = rx
                .recv_timeout(std::time::Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("{} as {kind}: load hung", file.display()));
            let diags = result.expect_err("refused");
            let shown = diags.to_string();
            assert!(
                shown.contains(why) && shown.contains(&file.display().to_string()),
                "{} as {kind}: {shown}",
                file.display()
            );
        }
    }
}

#[test]
fn an_rds_step_without_a_component_at_stake_is_warned_about() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let write = |component: &str| {
        let path = tmp.path().join("c.toml");
        fs::write(
            &path,
            format!(
                "[[component]]\nid = \"db\"\ntier = \"critical\"\nhealth = {{ kind = \"tcp\", address = \"127.0.0.1:1\" }}\n\
                 [[runbook]]\nid = \"dr\"\ntitle = \"DR\"\n\
                 [[runbook.step]]\nid = \"promote\"\ntitle = \"Promote\"\nkey = \"p\"\n{component}\
                 action = {{ kind = \"rds_promote_read_replica\", instance = \"db-replica\", region = \"us-west-2\" }}\n"
            ),
        )
        .expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
    };
    write("");
    let out = warroom(tmp.path(), &["check", "-c", "c.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "c.toml: warning: runbook dr step promote: no component at stake (no component's probe reads db-replica): add `component = \"<id>\"` so the step's modal shows what it would lose\n"
    );
    // Named on the step: nothing to warn about.
    write("component = \"db\"\n");
    let out = warroom(tmp.path(), &["check", "-c", "c.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    // A component that does not exist is an error, like every other reference.
    write("component = \"nope\"\n");
    let out = warroom(tmp.path(), &["check", "-c", "c.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("unknown component \"nope\""),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_cross_region_restore_without_its_network_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let write = |network: &str| {
        let path = tmp.path().join("c.toml");
        fs::write(
            &path,
            format!(
                "[[component]]\nid = \"db\"\ntier = \"critical\"\nregion = \"us-east-1\"\n\
                 health = {{ kind = \"tcp\", address = \"127.0.0.1:1\" }}\n\
                 backup = {{ kind = \"rds_snapshots\", instance = \"db-main\", region = \"us-west-2\", warn = \"25h\", crit = \"26h\" }}\n\
                 [[runbook]]\nid = \"restore\"\ntitle = \"Restore\"\n\
                 [[runbook.step]]\nid = \"snap\"\ntitle = \"Restore\"\nkey = \"r\"\n\
                 action = {{ kind = \"rds_restore_snapshot\", latest_of = \"db-main\", target = \"db-restored\", region = \"us-west-2\"{network} }}\n"
            ),
        )
        .expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
    };
    write("");
    let out = warroom(tmp.path(), &["check", "-c", "c.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "c.toml: runbook restore step snap: a restore into us-west-2 from us-east-1 needs `subnet_group` and `security_groups` (the source cannot be asked in a region outage; AWS would use the default VPC and security group)\nc.toml: 1 error\n"
    );
    write(", subnet_group = \"db-dr\", security_groups = [\"sg-1\"]");
    let out = warroom(tmp.path(), &["check", "-c", "c.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // An empty list of security groups is no network at all.
    write(", subnet_group = \"db-dr\", security_groups = []");
    let out = warroom(tmp.path(), &["check", "-c", "c.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("an empty list would leave the instance in no security group"),
        "{}",
        text(&out.stderr)
    );
}
