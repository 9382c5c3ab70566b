//! What the real sinks share (the [`Sink`] trait itself is the model's, in `app::deliver`): a
//! console builds the Slack and status-page sinks of its config; a drill builds only the
//! simulated sinks of `drill/`; a read-only console builds none (it has no outbox worker).

use std::time::Duration;

pub use crate::app::deliver::{Context, Delivered, SendError, Sink, SinkFuture, UNKNOWN_ATTEMPTS};

/// How long a request to Slack or the status page may take before it counts as lost.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// An HTTP status as a [`SendError`]: 429 and 5xx are worth a retry (a 5xx may have been
/// applied), 408 too; any other 4xx is a refusal. `body` is already safe to show.
pub fn http_error(status: u16, retry_after: Option<Duration>, body: &str) -> SendError {
    let what = if body.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {body}")
    };
    match status {
        // 420 is Statuspage's other way of saying "rate limited".
        420 | 429 => SendError::Retry {
            reason: what,
            after: retry_after,
            maybe_arrived: false,
        },
        408 => SendError::Retry {
            reason: what,
            after: retry_after,
            maybe_arrived: true,
        },
        500..=599 => SendError::Retry {
            reason: what,
            after: retry_after,
            maybe_arrived: true,
        },
        _ => SendError::Refused { reason: what },
    }
}

/// A sink's secret, read now; one this console cannot read is not a failure of the update:
/// another console may send it.
pub fn read_secret(secret: &crate::config::Secret) -> Result<String, SendError> {
    crate::config::secret::read(secret).map_err(|e| SendError::NotHere {
        reason: e.to_string(),
    })
}

/// The longest wait a far side may ask for: more is taken as this (a bad header must not
/// park an update for days).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// `Retry-After` in seconds (the HTTP-date form is taken as "soon": a minute).
pub fn retry_after(value: Option<&str>) -> Option<Duration> {
    let v = value?.trim();
    match v.parse::<u64>() {
        Ok(s) => Some(Duration::from_secs(s).min(MAX_RETRY_AFTER)),
        Err(_) if !v.is_empty() => Some(Duration::from_secs(60)),
        Err(_) => None,
    }
}

/// What to take out of any text the far side answers: the secret, and for a URL secret (a
/// webhook) its path and each long path segment too — a 404 page quoting the path quotes it.
pub fn secrets_of(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_string()];
    if let Ok(url) = reqwest::Url::parse(secret) {
        out.extend(crate::text::redact::url_secrets(&url));
        let path = url.path();
        if path.len() > 1 {
            out.push(path.to_string());
            out.extend(
                path.split('/')
                    .filter(|seg| seg.len() >= 6)
                    .map(str::to_string),
            );
        }
    }
    out
}

/// A far side's text made fit for a reason: secrets taken out first (a secret cut in two by
/// the length limit would survive in part), then cut.
pub fn scrubbed(text: &str, secrets: &[String]) -> String {
    crate::text::redact::excerpt(&crate::text::redact::scrub(text, secrets), 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_say_whether_to_retry_and_whether_it_may_have_arrived() {
        assert!(matches!(
            http_error(429, Some(Duration::from_secs(7)), ""),
            SendError::Retry { after: Some(d), maybe_arrived: false, .. } if d.as_secs() == 7
        ));
        assert!(matches!(
            http_error(503, None, "x"),
            SendError::Retry {
                maybe_arrived: true,
                ..
            }
        ));
        assert!(matches!(
            http_error(401, None, ""),
            SendError::Refused { .. }
        ));
        assert_eq!(retry_after(Some("12")), Some(Duration::from_secs(12)));
        assert_eq!(
            retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after(None), None);
    }

    #[test]
    fn a_secret_is_taken_out_before_the_text_is_cut_and_a_webhook_path_too() {
        let token = "xoxb-PLANTED-0123456789";
        let long = format!("{}{token} and more", "x".repeat(290));
        let got = scrubbed(&long, &secrets_of(token));
        assert!(!got.contains("PLANTED"), "{got}");
        let hook = "https://hooks.slack.com/services/T0DTEM/B0HOOK/PLANTEDhookSECRET";
        let echo = "Cannot POST /services/T0DTEM/B0HOOK/PLANTEDhookSECRET (no such hook PLANTEDhookSECRET)";
        let got = scrubbed(echo, &secrets_of(hook));
        assert!(!got.contains("PLANTEDhook"), "{got}");
    }
}
