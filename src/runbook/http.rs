//! `http` steps: one request (a webhook, a feature flag, a DNS or load-balancer API), whose
//! answer must have `expect_status`.
//!
//! - `method`, `url`, plain `headers`, `headers_env` (header → the environment variable
//!   holding its value, read when the step runs; a variable that is not set fails the step
//!   before anything is sent, naming the variable), `body` (sent as written).
//! - Sent once, no retry, redirects not followed (a redirect would carry our headers
//!   elsewhere, and is an answer like any other), [`crate::runbook::ExecutorOptions::http_timeout`].
//!   A timeout or a connection lost after sending says the request may have been applied.
//! - The answer's body (at most [`BODY_LIMIT`] bytes) is sent line by line as
//!   [`StepProgress::Output`]; the outcome quotes its first line.
//! - Secrets never leave: the URL is shown without user, password or query; every outcome,
//!   progress line and error is scrubbed of each `headers_env` value and of what the URL
//!   carries (password, query and its values), wherever a server may echo them.

use std::collections::BTreeMap;
use std::error::Error;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Method, StatusCode, Url};
use tokio::sync::mpsc;

use super::{StepOutcome, StepProgress, failed, report, status, succeeded};
use crate::text::redact::{self, excerpt};

/// At most this much of an answer's body is read and shown.
pub const BODY_LIMIT: usize = 16 * 1024;

/// At most this many lines of the answer's body are sent as output.
const BODY_LINES: usize = 50;

/// A reason or a quoted line is cut to this many characters.
const QUOTE_CHARS: usize = 200;

/// The parts of an `http` action.
#[derive(Debug, Clone, Copy)]
pub struct StepRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a BTreeMap<String, String>,
    pub headers_env: &'a BTreeMap<String, String>,
    pub body: Option<&'a str>,
    pub expect_status: u16,
}

/// Runs an `http` step.
pub async fn run(
    request: StepRequest<'_>,
    timeout: Duration,
    progress: &mpsc::Sender<StepProgress>,
) -> StepOutcome {
    let mut secrets = Vec::new();
    let outcome = send(request, timeout, &mut secrets, progress).await;
    match outcome {
        StepOutcome::Succeeded { summary } => StepOutcome::Succeeded {
            summary: redact::scrub(&summary, &secrets),
        },
        StepOutcome::Checked {
            summary,
            held,
            evidence,
        } => StepOutcome::Checked {
            summary: redact::scrub(&summary, &secrets),
            held,
            evidence: redact::scrub(&evidence, &secrets),
        },
        StepOutcome::Failed { reason } => StepOutcome::Failed {
            reason: redact::scrub(&reason, &secrets),
        },
        // Only a restore makes something still being created.
        other @ StepOutcome::StillCreating { .. } => other,
    }
}

async fn send(
    request: StepRequest<'_>,
    timeout: Duration,
    secrets: &mut Vec<String>,
    progress: &mpsc::Sender<StepProgress>,
) -> StepOutcome {
    let url = match Url::parse(request.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        Ok(u) => {
            return failed(format!(
                "URL scheme {} is not http or https: nothing sent",
                excerpt(u.scheme(), 20)
            ));
        }
        // Not a URL: show no part of it, it may be anything.
        Err(e) => return failed(format!("invalid URL ({e}): nothing sent")),
    };
    secrets.extend(redact::url_secrets(&url));
    let shown = redact::url(&url);
    let method = match Method::from_bytes(request.method.to_ascii_uppercase().as_bytes()) {
        Ok(m) => m,
        Err(_) => {
            return failed(format!(
                "method {:?} is not an HTTP method: nothing sent",
                excerpt(request.method, 20)
            ));
        }
    };
    let headers = match headers(request, secrets) {
        Ok(h) => h,
        Err(reason) => return failed(format!("{reason}: nothing sent")),
    };
    let client = match Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .user_agent(concat!("warroom/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            return failed(format!(
                "HTTP client: {}: nothing sent",
                reason(&e.without_url())
            ));
        }
    };
    let mut what = format!("{method} {shown}");
    if !request.headers_env.is_empty() {
        let names: Vec<&str> = request.headers_env.keys().map(String::as_str).collect();
        what.push_str(&format!(
            " (headers from the environment: {})",
            names.join(", ")
        ));
    }
    if let Some(body) = request.body {
        what.push_str(&format!(", body of {} bytes", body.len()));
    }
    status(progress, redact::scrub(&what, secrets)).await;

    let mut builder = client.request(method.clone(), url).headers(headers);
    if let Some(body) = request.body {
        builder = builder.body(body.to_string());
    }
    let response = match builder.send().await {
        Ok(r) => r,
        Err(e) => return failed(format!("{method} {shown}: {}", request_failure(e))),
    };
    let code = response.status();
    let (body, body_error) = read_body(response).await;
    let text = String::from_utf8_lossy(&body);
    let text = redact::scrub(&text, secrets);
    for line in text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .take(BODY_LINES)
    {
        report(progress, StepProgress::Output(line.to_string())).await;
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| format!(": {}", excerpt(l, QUOTE_CHARS)))
        .unwrap_or_default();
    let answered = status_text(code);
    if code.as_u16() != request.expect_status {
        return failed(format!(
            "{method} {shown}: {answered}, expected {}{first}",
            request.expect_status
        ));
    }
    match body_error {
        // The status came, so it was applied; only the body was cut.
        Some(e) => succeeded(format!(
            "{method} {shown}: {answered} (body cut: {})",
            request_failure(e)
        )),
        None => succeeded(format!("{method} {shown}: {answered}{first}")),
    }
}

/// The plain headers and the `headers_env` ones (read now; each value joins `secrets`).
fn headers(request: StepRequest<'_>, secrets: &mut Vec<String>) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in request.headers {
        let parsed = HeaderName::try_from(name.as_str())
            .map_err(|_| format!("header {}: not a valid header name", excerpt(name, 80)))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("header {}: not a valid header value", excerpt(name, 80)))?;
        map.append(parsed, value);
    }
    for (name, var) in request.headers_env {
        let shown = excerpt(name, 80);
        let parsed = HeaderName::try_from(name.as_str())
            .map_err(|_| format!("header {shown}: not a valid header name"))?;
        let var = excerpt(var, 80);
        let value = match std::env::var(&var) {
            Ok(v) => v,
            Err(std::env::VarError::NotPresent) => {
                return Err(format!("header {shown}: ${var} is not set"));
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(format!("header {shown}: ${var} is not valid UTF-8"));
            }
        };
        secrets.push(value.clone());
        let mut value = HeaderValue::from_str(&value)
            .map_err(|_| format!("header {shown}: ${var} is not a valid header value"))?;
        value.set_sensitive(true);
        map.append(parsed, value);
    }
    Ok(map)
}

/// Up to [`BODY_LIMIT`] bytes of the body, and the error that cut it, if one did.
async fn read_body(mut response: reqwest::Response) -> (Vec<u8>, Option<reqwest::Error>) {
    let mut body = Vec::new();
    while body.len() < BODY_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = BODY_LIMIT - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) => break,
            Err(e) => return (body, Some(e)),
        }
    }
    (body, None)
}

/// "HTTP 503 Service Unavailable".
fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

/// Why a request failed; when it may have reached the server, saying so.
fn request_failure(err: reqwest::Error) -> String {
    // Without the URL (its query may carry a token): the caller names the shown URL.
    let err = err.without_url();
    let text = reason(&err);
    if err.is_timeout() {
        format!(
            "no answer in time ({text}); the request may have been applied: look before running the step again"
        )
    } else if err.is_connect() {
        format!("cannot connect: {text}: nothing sent")
    } else if err.is_builder() {
        format!("cannot build the request: {text}: nothing sent")
    } else {
        format!("{text}; the request may have been applied: look before running the step again")
    }
}

/// An error and its causes on one line, cut to [`QUOTE_CHARS`].
fn reason(err: &(dyn Error + 'static)) -> String {
    let text = redact::error_chain(err);
    let text = match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    };
    excerpt(&text, QUOTE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_with_their_reason() {
        assert_eq!(status_text(StatusCode::CREATED), "HTTP 201 Created");
        assert_eq!(
            status_text(StatusCode::from_u16(599).expect("valid")),
            "HTTP 599"
        );
    }
}
