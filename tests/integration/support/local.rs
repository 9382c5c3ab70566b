//! Small local fixtures shared by the integration tests.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Writes `dir/estate.toml` with mode 0600 (a config others can write is refused).
pub fn private_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("estate.toml");
    std::fs::write(&path, text).expect("write config");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

/// Every byte under `dir` (a search for a planted secret): a directory that is not there is
/// empty; one that cannot be read fails the test, never hides a leak.
pub fn all_bytes(dir: &Path) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("read {}: {e}", d.display()),
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let b = std::fs::read(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
                out.push_str(&String::from_utf8_lossy(&b));
            }
        }
    }
    out
}
