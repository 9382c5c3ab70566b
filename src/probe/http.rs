//! `http` health: a GET that must answer the expected status (and, if configured, a body that
//! contains a given text).
//!
//! - One [`reqwest::Client`] for every `http` probe of the process ([`shared_client`]; a
//!   client with its TLS roots costs ~145 KB, 1000 probes made 147 MB), each request with its
//!   probe's own timeout. It keeps no idle connections: every round resolves the name,
//!   connects and (for https) shakes hands afresh, so an expired certificate, a moved DNS
//!   name or a dead listener shows at the next round, and the latency is what a new client
//!   would see. TLS roots: the system's (rustls-platform-verifier through reqwest's
//!   `rustls` feature): add a private CA to the system trust store.
//! - Redirects are not followed: a 301/302 is an answer like any other, compared with
//!   `expect_status` (a health endpoint that redirects to a login page is not healthy, and a
//!   redirect would carry our headers elsewhere).
//! - Headers from `headers_env` are read from the environment at every round (a rotated token
//!   is picked up); a variable that is not set is "cannot observe", naming the variable, never
//!   a value. Header values are marked sensitive.
//! - At most [`BODY_LIMIT`] bytes of the body are read, and only when `body_contains` is set.
//! - The latency runs from sending the request to the decision (body read included). Whether
//!   it is slow (`warn_latency`) is the model's decision: this answers UP with the latency.
//!
//! What the screen says: the expected status (and body) → UP; another status, a body without
//! the text, a name that does not resolve, a refused/reset connection, a TLS failure, a
//! connection closed mid-answer → DOWN; a timeout, a missing header variable or a URL that
//! cannot be requested → cannot observe.
//!
//! No outcome ever carries the URL's user, password or query, nor a header value: reqwest
//! errors are stripped of their URL (`without_url`), texts are built from the error chain's
//! reasons, and then scrubbed of every secret the request carried, just in case.

use std::collections::BTreeMap;
use std::error::Error;
use std::io;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Response, StatusCode, Url};

use super::tcp::{connect_failure, dns_failure};
use super::{ObserveFuture, Probe};
use crate::app::{ObserveError, Outcome};
use crate::process::io_reason;
use crate::text::redact::{self, excerpt};

/// At most this much of a body is searched for `body_contains`.
pub const BODY_LIMIT: usize = 64 * 1024;

/// An error's reason quoted in an outcome is cut to this many characters.
const REASON_CHARS: usize = 160;

pub struct HttpProbe {
    /// The URL as it may be shown ([`redact::url`]).
    shown: String,
    expect_status: u16,
    body_contains: Option<String>,
    /// What to request, or why nothing can be (a bad URL, a bad header name, no client).
    request: Result<ProbeRequest, String>,
}

struct ProbeRequest {
    client: Client,
    timeout: Duration,
    url: Url,
    /// Header name as configured, parsed name, variable holding the value.
    headers: Vec<(String, HeaderName, String)>,
    /// What the URL carries that must never be shown.
    secrets: Vec<String>,
}

impl HttpProbe {
    /// `headers_env` maps a header name to the environment variable holding its value.
    /// `timeout` bounds each round (connect, answer and body); the scheduler's own timeout,
    /// when shorter, ends it too. Never fails: what is wrong with the arguments is answered
    /// at every round as "cannot observe".
    pub fn new(
        url: &str,
        expect_status: u16,
        body_contains: Option<String>,
        headers_env: &BTreeMap<String, String>,
        timeout: Duration,
    ) -> HttpProbe {
        let parsed = Url::parse(url);
        let shown = match &parsed {
            Ok(u) => redact::url(u),
            // Not a URL: show no part of it, it may be anything.
            Err(_) => "<invalid URL>".to_string(),
        };
        let request = parsed
            .map_err(|e| format!("invalid URL: {e}"))
            .and_then(|url| ProbeRequest::new(url, headers_env, timeout));
        HttpProbe {
            shown,
            expect_status,
            body_contains,
            request,
        }
    }

    async fn check(&self) -> Outcome {
        let request = match &self.request {
            Ok(r) => r,
            Err(e) => return cannot_observe(e.clone()),
        };
        let mut secrets = request.secrets.clone();
        let headers = match request.header_values(&mut secrets) {
            Ok(h) => h,
            Err(e) => return cannot_observe(e),
        };
        let start = Instant::now();
        let outcome = self.ask(request, headers, start).await;
        scrub(outcome, &secrets)
    }

    async fn ask(&self, request: &ProbeRequest, headers: HeaderMap, start: Instant) -> Outcome {
        let response = match request
            .client
            .get(request.url.clone())
            .timeout(request.timeout)
            .headers(headers)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return request_failure(e, &request.url),
        };
        let status = response.status();
        if status.as_u16() != self.expect_status {
            return Outcome::Down {
                detail: status_text(status),
            };
        }
        if let Some(wanted) = &self.body_contains {
            match body_has(response, wanted.as_bytes()).await {
                Ok(true) => {}
                Ok(false) => {
                    return Outcome::Down {
                        detail: format!("body lacks \"{}\"", excerpt(wanted, 80)),
                    };
                }
                Err(e) => {
                    return match request_failure(e, &request.url) {
                        Outcome::Down { detail } => Outcome::Down {
                            detail: format!("body: {detail}"),
                        },
                        other => other,
                    };
                }
            }
        }
        Outcome::Up {
            latency: start.elapsed(),
            detail: status_text(status),
        }
    }
}

impl Probe for HttpProbe {
    fn observe(&self) -> ObserveFuture<'_> {
        Box::pin(self.check())
    }

    fn describe(&self) -> String {
        format!("http GET {}", self.shown)
    }
}

impl ProbeRequest {
    fn new(
        url: Url,
        headers_env: &BTreeMap<String, String>,
        timeout: Duration,
    ) -> Result<ProbeRequest, String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "URL scheme {} is not http or https",
                excerpt(url.scheme(), 20)
            ));
        }
        let headers = headers_env
            .iter()
            .map(|(name, var)| {
                HeaderName::try_from(name.as_str())
                    .map(|parsed| (name.clone(), parsed, var.clone()))
                    .map_err(|_| format!("header {}: not a valid header name", excerpt(name, 80)))
            })
            .collect::<Result<_, _>>()?;
        let client = shared_client()?;
        Ok(ProbeRequest {
            client,
            timeout,
            secrets: redact::url_secrets(&url),
            url,
            headers,
        })
    }

    /// The configured headers with their values read now; each value joins `secrets`.
    fn header_values(&self, secrets: &mut Vec<String>) -> Result<HeaderMap, String> {
        let mut map = HeaderMap::new();
        for (name, parsed, var) in &self.headers {
            let value = std::env::var(var);
            let name = excerpt(name, 80);
            let var = excerpt(var, 80);
            let value = match value {
                Ok(v) => v,
                Err(std::env::VarError::NotPresent) => {
                    return Err(format!("header {name}: ${var} is not set"));
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(format!("header {name}: ${var} is not valid UTF-8"));
                }
            };
            let mut header = HeaderValue::from_str(&value)
                .map_err(|_| format!("header {name}: ${var} is not a valid header value"))?;
            header.set_sensitive(true);
            secrets.push(value);
            map.append(parsed.clone(), header);
        }
        Ok(map)
    }
}

/// The one client every `http` probe uses: no redirects followed, no idle connection kept.
pub fn shared_client() -> Result<Client, String> {
    static CLIENT: std::sync::OnceLock<Result<Client, String>> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .user_agent(concat!("warroom/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| format!("HTTP client: {}", root_reason(&e.without_url())))
        })
        .clone()
}

fn cannot_observe(reason: String) -> Outcome {
    Outcome::CannotObserve {
        reason: ObserveError::Other(reason),
    }
}

/// "HTTP 503 Service Unavailable" ("HTTP 599" for a code without a standard reason).
fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

/// Reads the body until `wanted` shows up, the body ends, or [`BODY_LIMIT`] bytes were read.
async fn body_has(mut response: Response, wanted: &[u8]) -> Result<bool, reqwest::Error> {
    let mut body = Vec::new();
    loop {
        if contains(&body, wanted) {
            return Ok(true);
        }
        if body.len() >= BODY_LIMIT {
            return Ok(false);
        }
        match response.chunk().await? {
            Some(chunk) => {
                let room = BODY_LIMIT - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            None => return Ok(false),
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// How a failed request reads. See the module docs.
fn request_failure(err: reqwest::Error, url: &Url) -> Outcome {
    let err = err.without_url();
    if err.is_timeout() {
        return Outcome::CannotObserve {
            reason: ObserveError::Timeout,
        };
    }
    let causes = causes(&err);
    let io_error = causes.iter().find_map(|e| {
        e.downcast_ref::<io::Error>().filter(|io| {
            !matches!(
                io.kind(),
                io::ErrorKind::Other | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
            )
        })
    });
    let host = url.host_str().unwrap_or_default();
    if err.is_dns() {
        return dns_failure(host, io_error);
    }
    if err.is_builder() {
        return cannot_observe(format!("HTTP request: {}", root_reason(&err)));
    }
    if err.is_connect() {
        // TCP's own failures; any other failure of an https connect is the TLS handshake's.
        let tcp = io_error.filter(|io| {
            matches!(
                io.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::NetworkUnreachable
                    | io::ErrorKind::HostUnreachable
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::AddrNotAvailable
            )
        });
        return match (tcp, url.scheme()) {
            (Some(io), _) => connect_failure(io),
            (None, "https") => Outcome::Down {
                detail: format!("TLS: {}", root_reason(&err)),
            },
            (None, _) => match io_error {
                Some(io) => connect_failure(io),
                None => Outcome::Down {
                    detail: format!("connect: {}", root_reason(&err)),
                },
            },
        };
    }
    Outcome::Down {
        detail: root_reason(&err),
    }
}

/// The error and its causes, outermost first. An `io::Error` wrapping another error is
/// followed into that error (its `source()` skips it).
fn causes<'a>(err: &'a (dyn Error + 'static)) -> Vec<&'a (dyn Error + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        out.push(e);
        next = match e.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
            Some(inner) => Some(inner as &(dyn Error + 'static)),
            None => e.source(),
        };
    }
    out
}

/// The innermost reason, the one that says what happened ("connection closed before message
/// completed", "invalid peer certificate: …"), cut to a line.
fn root_reason(err: &(dyn Error + 'static)) -> String {
    let causes = causes(err);
    let root = causes.last().copied().unwrap_or(err);
    let text = match root.downcast_ref::<io::Error>() {
        Some(io) => io_reason(io),
        None => root.to_string(),
    };
    excerpt(&text, REASON_CHARS)
}

/// The outcome with every secret the request carried masked out of its texts.
fn scrub(outcome: Outcome, secrets: &[String]) -> Outcome {
    let clean = |text: String| redact::scrub(&text, secrets);
    match outcome {
        Outcome::Up { latency, detail } => Outcome::Up {
            latency,
            detail: clean(detail),
        },
        Outcome::Degraded { detail } => Outcome::Degraded {
            detail: clean(detail),
        },
        Outcome::Down { detail } => Outcome::Down {
            detail: clean(detail),
        },
        Outcome::CannotObserve { reason } => Outcome::CannotObserve {
            reason: match reason {
                ObserveError::Credentials(t) => ObserveError::Credentials(clean(t)),
                ObserveError::AccessDenied(t) => ObserveError::AccessDenied(clean(t)),
                ObserveError::Unreachable(t) => ObserveError::Unreachable(clean(t)),
                ObserveError::Other(t) => ObserveError::Other(clean(t)),
                r @ (ObserveError::Timeout | ObserveError::NoDatapoints) => r,
            },
        },
        Outcome::Seconds(x) => Outcome::Seconds(x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_with_their_reason() {
        assert_eq!(
            status_text(StatusCode::SERVICE_UNAVAILABLE),
            "HTTP 503 Service Unavailable"
        );
        assert_eq!(
            status_text(StatusCode::from_u16(599).expect("valid")),
            "HTTP 599"
        );
    }

    #[test]
    fn body_search_finds_across_the_whole_prefix() {
        assert!(contains(b"status: ok", b"ok"));
        assert!(!contains(b"status: down", b"ok"));
        assert!(contains(b"", b""));
        assert!(!contains(b"o", b"ok"));
    }

    #[test]
    fn a_bad_url_or_header_name_cannot_be_observed_and_shows_nothing_of_the_url() {
        let none = BTreeMap::new();
        let p = HttpProbe::new("not a url s3cret", 200, None, &none, Duration::from_secs(1));
        assert_eq!(p.describe(), "http GET <invalid URL>");
        assert!(
            matches!(p.request, Err(ref e) if e.starts_with("invalid URL") && !e.contains("s3cret"))
        );
        let p = HttpProbe::new("ftp://h/x", 200, None, &none, Duration::from_secs(1));
        assert_eq!(
            p.request.err().as_deref(),
            Some("URL scheme ftp is not http or https")
        );
        let bad = BTreeMap::from([("Bad Header".to_string(), "X".to_string())]);
        let p = HttpProbe::new("http://h/x", 200, None, &bad, Duration::from_secs(1));
        assert_eq!(
            p.request.err().as_deref(),
            Some("header Bad Header: not a valid header name")
        );
    }

    #[test]
    fn outcomes_are_scrubbed_of_secrets() {
        let secrets = vec!["s3cret-token".to_string()];
        assert_eq!(
            scrub(
                Outcome::Down {
                    detail: "echoed s3cret-token".into()
                },
                &secrets
            ),
            Outcome::Down {
                detail: "echoed ****".into()
            }
        );
        assert_eq!(
            scrub(cannot_observe("s3cret-token".into()), &secrets),
            cannot_observe("****".into())
        );
    }
}
