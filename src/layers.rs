//! DESIGN's "Layers", kept by reading the sources: a room imports only from the layers below
//! it. [`KNOWN`] would list an exception; it is empty, and a listed one that is gone fails
//! too (so the list can only shrink).

use std::collections::BTreeSet;
use std::path::Path;

/// Each room's layer, bottom first. Rooms of one layer may import each other only where
/// DESIGN groups them as one room (the text, path and process helpers; config and themes);
/// the adapters (probe, runbook, comms, drill) never import a sibling.
fn layer(room: &str) -> Option<(u8, bool)> {
    // (layer, siblings of the layer may import each other)
    Some(match room {
        "text" | "paths" | "files" | "process" | "clock" => (0, true),
        "config" | "theme" => (1, true),
        "journal" | "cloud" => (2, false),
        "app" => (3, false),
        "ui" => (4, false),
        "report" => (5, false),
        "probe" | "runbook" | "comms" | "drill" => (6, false),
        "runtime" | "status" => (7, false),
        "commands" => (8, false),
        "lib" | "main" | "layers" => (9, false),
        _ => return None,
    })
}

/// Imports against the layers that exist today, as (room, the room it imports).
const KNOWN: &[(&str, &str)] = &[];

/// Every `crate::ROOM` a room's files name (comments skipped), as (room, ROOM).
fn imports(src: &Path) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let Ok(rel) = path.strip_prefix(src) else {
                continue;
            };
            let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
            let first = parts.next().unwrap_or_default().to_string();
            let room = first.strip_suffix(".rs").unwrap_or(&first).to_string();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for line in text.lines() {
                let code = line.split("//").next().unwrap_or_default();
                let mut rest = code;
                while let Some(at) = rest.find("crate::") {
                    rest = &rest[at + "crate::".len()..];
                    let target: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if !target.is_empty() && target != room {
                        out.insert((room.clone(), target));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn rooms_import_only_downwards_but_for_the_known_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = BTreeSet::new();
    for (room, target) in imports(&src) {
        let (Some((from, _)), Some((to, siblings))) = (layer(&room), layer(&target)) else {
            continue;
        };
        if to > from || (to == from && !siblings) {
            wrong.insert((room, target));
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let new: Vec<_> = wrong.difference(&known).collect();
    assert!(
        new.is_empty(),
        "imports against DESIGN's layers (put the code where its layer is): {new:?}"
    );
    let gone: Vec<_> = known.difference(&wrong).collect();
    assert!(
        gone.is_empty(),
        "no longer imported: strike these from KNOWN in src/layers.rs: {gone:?}"
    );
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

/// DESIGN: type names are unique in the crate (no two `Delivery`, `Options`, `State`), so a
/// name found in a file says which thing it is.
#[test]
fn every_type_name_is_defined_once() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut twice = Vec::new();
    for path in sources(&src) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let mut code = line.split("//").next().unwrap_or_default().trim_start();
            // An attribute on the same line (`#[derive(Debug)] struct X;`).
            while code.starts_with("#[")
                && let Some(end) = code.find("] ")
            {
                code = code[end + 2..].trim_start();
            }
            let code = code
                .strip_prefix("pub(crate) ")
                .or_else(|| code.strip_prefix("pub(super) "))
                .or_else(|| code.strip_prefix("pub "))
                .unwrap_or(code);
            let Some(rest) = ["struct ", "enum ", "trait "]
                .iter()
                .find_map(|k| code.strip_prefix(k))
            else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let here = format!("{}:{}", path.display(), n + 1);
            if let Some(first) = seen.get(&name) {
                twice.push(format!("{name}: {first} and {here}"));
            } else {
                seen.insert(name, here);
            }
        }
    }
    assert!(twice.is_empty(), "type names defined twice: {twice:#?}");
}
