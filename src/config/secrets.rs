//! Secrets never live in the config file: only the names of the variables that hold them.
//! This scan looks at every key and string in a document for a secret written inline.

use toml_edit::{Item, TableLike, Value};

use super::tree::{Reader, join};

/// Keys that would hold a secret itself; each has an `_env` form that names a variable instead.
const SECRET_KEYS: &[&str] = &[
    "token",
    "password",
    "passwd",
    "secret",
    "api_key",
    "webhook_url",
    "access_key",
    "secret_access_key",
    "client_secret",
];

pub fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.contains(&key)
}

/// Why `text`, found at `key`, looks like a secret; `None` if it does not.
pub fn secret_reason(key: &str, text: &str) -> Option<String> {
    if is_secret_key(key) && !text.is_empty() {
        return Some(format!(
            "secret written inline: put it in an environment variable and name the variable with `{key}_env`"
        ));
    }
    if text.contains("hooks.slack.com/") {
        return Some(
            "a Slack webhook URL is a secret: put it in an environment variable and name the variable with `webhook_url_env`".into(),
        );
    }
    if ["xoxb-", "xoxp-", "xoxa-", "xoxs-", "xoxr-", "xapp-"]
        .iter()
        .any(|p| text.contains(p))
    {
        return Some(
            "this looks like a Slack token: put it in an environment variable and name the variable with `token_env`".into(),
        );
    }
    if looks_like_aws_key_id(text) {
        return Some(
            "this looks like an AWS access key: credentials come from the AWS SDK's default chain (profile, SSO, environment), never from this file".into(),
        );
    }
    if url_has_password(text) || (key == "dsn" && text.contains("password=")) {
        return Some(if key == "dsn" {
            "the DSN carries a password: put the whole DSN in an environment variable and name the variable with `dsn_env`".into()
        } else {
            "the URL carries a password: put it in an environment variable instead".into()
        });
    }
    None
}

fn looks_like_aws_key_id(text: &str) -> bool {
    text.as_bytes().windows(20).any(|w| {
        (w.starts_with(b"AKIA") || w.starts_with(b"ASIA"))
            && w[4..]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

/// `scheme://user:password@host…`
fn url_has_password(text: &str) -> bool {
    let Some(i) = text.find("://") else {
        return false;
    };
    let rest = &text[i + 3..];
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    match authority.rfind('@') {
        Some(at) => authority[..at].contains(':'),
        None => false,
    }
}

/// A command's `env` entry whose name says it carries a secret.
fn env_name_is_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "PASSWD",
        "TOKEN",
        "SECRET",
        "API_KEY",
        "PRIVATE_KEY",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

/// A plain `headers` entry that carries a credential.
fn header_is_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "x-auth-token",
    ]
    .contains(&lower.as_str())
        || lower.contains("token")
        || lower.contains("secret")
}

/// Which table a value sits in, where that changes what counts as a secret.
#[derive(Clone, Copy, PartialEq)]
enum Within {
    Other,
    /// A command's `env`: the names say what is secret.
    Env,
    /// Plain HTTP `headers`: credentials belong in `headers_env`.
    Headers,
}

fn within(key: &str) -> Within {
    match key {
        "env" => Within::Env,
        "headers" => Within::Headers,
        _ => Within::Other,
    }
}

/// Scans a whole document.
pub fn scan(r: &mut Reader, root: &dyn TableLike) {
    scan_table(r, root, "", Within::Other);
}

fn scan_table(r: &mut Reader, table: &dyn TableLike, path: &str, inside: Within) {
    for (key, item) in table.iter() {
        let here = join(path, key);
        match item {
            Item::Value(v) => scan_value(r, key, v, &here, inside),
            Item::Table(t) => scan_table(r, t, &here, within(key)),
            Item::ArrayOfTables(a) => {
                for (i, t) in a.iter().enumerate() {
                    scan_table(r, t, &format!("{here}[{i}]"), Within::Other);
                }
            }
            Item::None => {}
        }
    }
}

fn scan_value(r: &mut Reader, key: &str, v: &Value, path: &str, inside: Within) {
    match v {
        Value::String(s) => {
            let text = s.value();
            if inside == Within::Headers && header_is_secret(key) && !text.is_empty() {
                r.error(
                    v.span(),
                    path,
                    format!(
                        "`{key}` carries a credential: put it in an environment variable and name the variable in `headers_env`"
                    ),
                );
            } else if inside == Within::Env && env_name_is_secret(key) && !text.is_empty() {
                r.error(
                    v.span(),
                    path,
                    format!(
                        "`{key}` looks like a secret: leave it out of `env`; the command inherits the console's environment"
                    ),
                );
            } else if let Some(reason) = secret_reason(key, text) {
                r.error(v.span(), path, reason);
            }
        }
        Value::Array(a) => {
            for (i, e) in a.iter().enumerate() {
                scan_value(r, key, e, &format!("{path}[{i}]"), Within::Other);
            }
        }
        Value::InlineTable(t) => scan_table(r, t, path, within(key)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_inline_secrets() {
        assert!(secret_reason("token", "abc").is_some());
        assert!(secret_reason("token_env", "SLACK_BOT_TOKEN").is_none());
        assert!(secret_reason("url", "https://hooks.slack.com/services/T0/B0/x").is_some());
        assert!(secret_reason("channel", "xoxb-123-456").is_some());
        assert!(secret_reason("x", "AKIAIOSFODNN7EXAMPLE").is_some());
        assert!(secret_reason("dsn", "postgres://app:hunter2@db/prod").is_some());
        assert!(secret_reason("dsn", "host=db user=app password=hunter2").is_some());
        assert!(secret_reason("dsn", "postgres://app@db/prod").is_none());
        assert!(secret_reason("url", "https://api.example.com:8443/health").is_none());
        assert!(secret_reason("url", "https://u:p@api.example.com/health").is_some());
    }

    #[test]
    fn headers_that_carry_credentials() {
        assert!(header_is_secret("Authorization"));
        assert!(header_is_secret("X-Auth-Token"));
        assert!(!header_is_secret("Content-Type"));
    }

    #[test]
    fn env_names_that_carry_secrets() {
        assert!(env_name_is_secret("PGPASSWORD"));
        assert!(env_name_is_secret("github_token"));
        assert!(!env_name_is_secret("AWS_REGION"));
    }
}
