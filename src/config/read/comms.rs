//! `[slack]` and `[statuspage]`, and the secrets they name.

use super::*;

/// A secret named by `<key>_env` (a variable) or `<key>_file` (a 0600 file beside the config):
/// exactly one of them.
pub(super) fn read_secret(
    r: &mut Reader,
    t: &mut Tbl,
    key: &'static str,
    what: &str,
) -> Option<Secret> {
    let (env_key, file_key) = match key {
        "token" => ("token_env", "token_file"),
        "webhook_url" => ("webhook_url_env", "webhook_url_file"),
        "api_key" => ("api_key_env", "api_key_file"),
        _ => ("url_env", "url_file"),
    };
    let env = t.opt_str(r, env_key);
    let file = t.opt_str(r, file_key);
    match (env, file) {
        (Some(var), None) => Some(Secret::Env(var)),
        (None, Some(file)) => {
            let base = r.src.path.parent().unwrap_or(Path::new(""));
            Some(Secret::File(base.join(file)))
        }
        (Some(_), Some(_)) => {
            r.error(
                t.span.clone(),
                &t.path,
                format!("give either `{env_key}` or `{file_key}` for {what}, not both"),
            );
            None
        }
        (None, None) => None,
    }
}

pub(super) fn read_slack(r: &mut Reader, mut t: Tbl) -> Option<Slack> {
    let token = read_secret(r, &mut t, "token", "the bot token");
    let webhook = read_secret(r, &mut t, "webhook_url", "the webhook URL");
    let channel = t.opt_str(r, "channel");
    let api_url = t
        .opt_str(r, "api_url")
        .unwrap_or_else(|| "https://slack.com/api".into());
    let audience_span = t.get("audience").and_then(|f| f.span);
    t.sketch("audience", Ty::OneOf(&["team", "public"]));
    let audience = match t.opt_str(r, "audience").as_deref() {
        None | Some("team") => Audience::Team,
        Some("public") => Audience::Public,
        Some(other) => {
            r.error(
                audience_span,
                &crate::config::tree::join(&t.path, "audience"),
                format!("unknown audience \"{other}\" (known: team, public)"),
            );
            Audience::Team
        }
    };
    let auth = match (token, webhook) {
        (Some(tok), None) => {
            if channel.is_none() {
                r.error(
                    t.span.clone(),
                    &t.path,
                    "missing key `channel`: a bot token posts to a channel",
                );
            }
            Some(SlackAuth::Token(tok))
        }
        (None, Some(w)) => Some(SlackAuth::Webhook(w)),
        (Some(_), Some(_)) => {
            r.error(
                t.span.clone(),
                &t.path,
                "give either a bot token (`token_env`/`token_file`) or an incoming webhook (`webhook_url_env`/`webhook_url_file`), not both",
            );
            None
        }
        (None, None) => {
            r.error(
                t.span.clone(),
                &t.path,
                "missing key `token_env` (a bot token) or `webhook_url_env` (an incoming webhook); `token_file`/`webhook_url_file` name a 0600 file instead",
            );
            None
        }
    };
    t.finish(r);
    Some(Slack {
        auth: auth?,
        channel,
        api_url,
        audience,
    })
}

pub(super) fn read_statuspage(
    r: &mut Reader,
    mut t: Tbl,
    refs: &mut Vec<(String, Loc)>,
) -> Option<StatusPage> {
    let kind = read_kind(r, &mut t, "statuspage", STATUSPAGE_KINDS);
    let kind = statuspage_kind(r, &mut t, kind.as_deref());
    let mut components = BTreeMap::new();
    if let Some(map) = t.opt_str_map(r, "components") {
        for (ours, (theirs, span)) in map {
            let path =
                crate::config::tree::join(&crate::config::tree::join(&t.path, "components"), &ours);
            // The key is ours: point at it, where the unknown id was written.
            refs.push((ours.clone(), r.loc(span, &path)));
            components.insert(ours, theirs);
        }
    }
    t.finish(r);
    Some(StatusPage {
        kind: kind?,
        components,
    })
}

/// The keys of a status page kind, read whatever else is missing.
fn statuspage_kind(r: &mut Reader, t: &mut Tbl, kind: Option<&str>) -> Option<StatusPageKind> {
    match kind {
        Some("atlassian") => {
            let page_id = t.req_str(r, "page_id");
            let api_key = read_secret(r, t, "api_key", "the API key");
            if api_key.is_none() {
                t.missing_because(r, "api_key_env", " (or `api_key_file`, a 0600 file)");
            }
            let api_url = t
                .opt_str(r, "api_url")
                .unwrap_or_else(|| "https://api.statuspage.io/v1".into());
            Some(StatusPageKind::Atlassian {
                page_id: page_id?,
                api_key: api_key?,
                api_url,
            })
        }
        Some("webhook") => {
            let url = read_secret(r, t, "url", "the webhook URL");
            if url.is_none() {
                t.missing_because(r, "url_env", " (or `url_file`, a 0600 file)");
            }
            url.map(|url| StatusPageKind::Webhook { url })
        }
        Some(other) => {
            unknown_kind(r, t, "statuspage", other, STATUSPAGE_KINDS);
            None
        }
        None => None,
    }
}

/// Status page kinds.
const STATUSPAGE_KINDS: &[&str] = &["atlassian", "webhook"];
