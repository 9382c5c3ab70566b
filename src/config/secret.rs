//! Reading a secret (a Slack token, a webhook URL, a Statuspage API key, a DSN) at the moment
//! it is needed, from the environment variable or the 0600 file the config names. The value
//! never appears in an error: errors say where it was looked for, not what was found.

use std::os::unix::fs::MetadataExt;

use super::Secret;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("{0} is not set in the environment of this console")]
    Unset(String),
    #[error("{path}: cannot read the secret: {why}")]
    Unreadable { path: String, why: String },
    #[error(
        "{path}: refused: a secret file must be readable by its owner only (mode {mode:04o}); fix with: chmod 600 {path}"
    )]
    Exposed { path: String, mode: u32 },
    #[error(
        "{path}: refused: a team's secret file (owned by root) may be read by its group only (mode {mode:04o}); fix with: chmod 640 {path}"
    )]
    TeamExposed { path: String, mode: u32 },
    #[error("{path}: refused: owned by uid {owner}, not by you (uid {me}) or root")]
    Foreign { path: String, owner: u32, me: u32 },
    #[error("{0}: the secret is empty")]
    Empty(String),
}

/// A secret file larger than this is refused: a token or a URL is small.
const MAX_LEN: u64 = crate::files::SECRET_MAX;

/// The secret's value, read now.
pub fn read(secret: &Secret) -> Result<String, SecretError> {
    let value = match secret {
        Secret::Env(var) => {
            std::env::var(var).map_err(|_| SecretError::Unset(format!("${var}")))?
        }
        Secret::File(path) => {
            let shown = path.display().to_string();
            // A FIFO or a device would block the read (or never end): a secret is a regular
            // file, checked on the file opened, and small.
            let (file, meta) =
                crate::files::open_regular(path, MAX_LEN).map_err(|e| SecretError::Unreadable {
                    path: shown.clone(),
                    why: e.to_string(),
                })?;
            let mode = meta.mode() & 0o7777;
            let me = nix::unistd::getuid().as_raw();
            // Yours and 0600, or the team's: root's, readable by its group (the operators),
            // writable by nobody else.
            if meta.uid() == 0 && me != 0 {
                if mode & 0o7037 != 0 {
                    return Err(SecretError::TeamExposed { path: shown, mode });
                }
            } else if mode & 0o077 != 0 {
                return Err(SecretError::Exposed { path: shown, mode });
            }
            if meta.uid() != me && meta.uid() != 0 {
                return Err(SecretError::Foreign {
                    path: shown,
                    owner: meta.uid(),
                    me,
                });
            }
            let bytes =
                crate::files::read_capped(file, MAX_LEN).map_err(|e| SecretError::Unreadable {
                    path: shown.clone(),
                    why: e.to_string(),
                })?;
            String::from_utf8(bytes).map_err(|_| SecretError::Unreadable {
                path: shown.clone(),
                why: "not UTF-8 text".into(),
            })?
        }
    };
    let value = value.trim_end_matches(['\n', '\r']).to_string();
    if value.trim().is_empty() {
        return Err(SecretError::Empty(secret.describe()));
    }
    Ok(value)
}

/// Why a secret file named by the config cannot be used, for `warroom check` (an environment
/// variable is only read when sending: the console that delivers may not be this one).
pub fn check_file(secret: &Secret) -> Option<String> {
    match secret {
        Secret::Env(_) => None,
        Secret::File(_) => read(secret).err().map(|e| e.to_string()),
    }
}

/// Guards the secrets a config names: no child gets their variables, and their values (and
/// what they carry: a URL's password, a DSN's `password=`) are scrubbed from every
/// text. A secret that cannot be read now is not known; it is withheld all the same.
pub fn guard(cfg: &super::Config) {
    let secrets = cfg.secrets();
    let names: Vec<String> = secrets
        .iter()
        .filter_map(|s| match s {
            Secret::Env(v) => Some(v.clone()),
            Secret::File(_) => None,
        })
        .collect();
    crate::process::withhold_from_children(&names);
    let mut values: Vec<String> = Vec::new();
    for s in &secrets {
        let Ok(v) = read(s) else {
            continue;
        };
        // Not the query's values: `sslmode=require` would mask every "require".
        if let Some(pw) = reqwest::Url::parse(v.trim())
            .ok()
            .and_then(|u| u.password().map(str::to_string))
        {
            values.push(pw);
        }
        for part in v.split_whitespace() {
            if let Some(pw) = part.strip_prefix("password=") {
                values.push(pw.trim_matches(['\'', '"']).to_string());
            }
        }
        values.push(v);
    }
    crate::text::redact::learn_secrets(&values);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_file_secret_must_be_0600_and_its_trailing_newline_is_not_part_of_it() {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = tmp.path().join("token");
        std::fs::write(&path, "xoxb-PLANTED-123\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let s = Secret::File(path.clone());
        let e = read(&s).expect_err("0644");
        assert!(e.to_string().contains("chmod 600"), "{e}");
        assert!(!e.to_string().contains("PLANTED"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert_eq!(read(&s).expect("0600"), "xoxb-PLANTED-123");
        assert!(check_file(&s).is_none());
        let dir = Secret::File(tmp.path().to_path_buf());
        assert!(
            read(&dir)
                .expect_err("a directory")
                .to_string()
                .contains("not a regular file")
        );
        let missing = Secret::File(tmp.path().join("nope"));
        assert!(
            read(&missing)
                .expect_err("missing")
                .to_string()
                .contains("nope")
        );
    }

    #[test]
    fn an_unset_variable_is_named_not_guessed() {
        let s = Secret::Env("WARROOM_TEST_SURELY_UNSET_VAR".into());
        assert_eq!(
            read(&s).expect_err("unset").to_string(),
            "$WARROOM_TEST_SURELY_UNSET_VAR is not set in the environment of this console"
        );
        assert!(check_file(&s).is_none());
    }
}
