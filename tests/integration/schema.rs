//! `warroom schema`: the JSON Schema an editor checks `warroom.toml` with, checked here by a
//! real validator (Python's `jsonschema`, installed beside moto by `.ci/moto.sh`) against the
//! example config and its runbook files, and against broken copies an editor must flag.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::moto::server_path;

/// The venv's Python (moto_server's directory holds it).
fn python() -> PathBuf {
    let server = server_path();
    server
        .parent()
        .expect("moto_server is in the venv's bin/")
        .join("python")
}

fn schema(dir: &Path) -> PathBuf {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .arg("schema")
        .env_remove("WARROOM_CONFIG")
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("nowhere"))
        .output()
        .expect("run warroom schema");
    assert!(out.status.success(), "warroom schema: {out:?}");
    let path = dir.join("schema.json");
    std::fs::write(&path, &out.stdout).expect("write the schema");
    path
}

/// Validates each TOML file against the schema; one line per file: `path<TAB>error paths`
/// (empty when valid; `.` is the document itself). The schema itself is checked against draft-07 first.
const VALIDATE: &str = r#"
import json, sys, tomllib, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
for f in sys.argv[2:]:
    doc = tomllib.load(open(f, "rb"))
    errors = sorted(("/".join(str(p) for p in e.absolute_path) or ".") for e in v.iter_errors(doc))
    print(f + "\t" + " ".join(errors))
"#;

fn validate(schema: &Path, files: &[PathBuf]) -> Vec<(String, String)> {
    let out = Command::new(python())
        .arg("-c")
        .arg(VALIDATE)
        .arg(schema)
        .args(files)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "the validator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (f, e) = l.split_once('\t').unwrap_or((l, ""));
            (f.to_string(), e.to_string())
        })
        .collect()
}

#[test]
fn the_example_and_its_runbooks_are_valid_under_the_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = schema(dir.path());
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut files = vec![config.join("example.toml")];
    let mut runbooks: Vec<PathBuf> = std::fs::read_dir(config.join("runbooks"))
        .expect("config/runbooks")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    runbooks.sort();
    assert!(
        runbooks.len() >= 5,
        "the example's runbook files: {runbooks:?}"
    );
    files.extend(runbooks);
    let results = validate(&schema, &files);
    assert_eq!(results.len(), files.len());
    for (file, errors) in results {
        assert_eq!(errors, "", "{file} is flagged by the schema");
    }
}

#[test]
fn what_check_refuses_an_editor_flags_where_it_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = schema(dir.path());
    let step = |action: &str| {
        format!(
            "[[runbook]]\nid = \"r\"\ntitle = \"R\"\n[[runbook.step]]\nid = \"s\"\ntitle = \"S\"\naction = {action}\n"
        )
    };
    let cases = [
        // A misspelt key in one action kind (the reader asks for `instance`).
        (
            "typo",
            step(r#"{ kind = "rds_promote_read_replica", instanse = "db", region = "us-west-2" }"#),
        ),
        // A number where a number is needed, as a string.
        (
            "type",
            step(r#"{ kind = "k8s_scale", namespace = "n", deployment = "d", replicas = "five" }"#),
        ),
        // A kind the reader does not know.
        ("kind", step(r#"{ kind = "kubectl", argv = ["kubectl"] }"#)),
        // A required key left out.
        ("argv", step(r#"{ kind = "command", timeout = "1m" }"#)),
        // A duration written as a number.
        (
            "duration",
            "[[component]]\nid = \"c\"\ntier = \"critical\"\nhealth = { kind = \"tcp\", address = \"h:1\", every = 30 }\n".to_string(),
        ),
        // A key that is not a config key at all.
        ("top", "[consle]\ntitle = \"x\"\n".to_string()),
    ];
    let mut files = Vec::new();
    for (name, text) in &cases {
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, text).expect("write a case");
        files.push(path);
    }
    let results = validate(&schema, &files);
    let flagged: Vec<(&str, &str)> = cases
        .iter()
        .map(|(n, _)| *n)
        .zip(results.iter().map(|(_, e)| e.as_str()))
        .collect();
    let expect = [
        ("typo", "runbook/0/step/0/action"),
        ("type", "runbook/0/step/0/action"),
        ("kind", "runbook/0/step/0/action/kind"),
        ("argv", "runbook/0/step/0/action"),
        ("duration", "component/0/health"),
        ("top", "."),
    ];
    for ((name, errors), (_, path)) in flagged.iter().zip(expect) {
        assert!(!errors.is_empty(), "{name}: not flagged");
        assert!(
            errors.split(' ').any(|e| e == path),
            "{name}: flagged at {errors:?}, not at {path:?}"
        );
    }
}
