//! AWS clients shared by the AWS probes and the runbook executors, and what a failed SDK
//! call means ([`CallFailure`]).
//!
//! [`AwsClients`] loads one SDK config per region, lazily and once, from the SDK's default chain
//! (environment, profiles, SSO, web identity, container and instance metadata): credentials
//! are never in the warroom config. `[aws] endpoint_url` (moto, LocalStack) overrides where
//! requests go; without it the SDK itself honours `AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_<SERVICE>` and a profile's `endpoint_url`.
//!
//! [`observe_error`] is the one place that decides what an SDK error means: a control plane
//! that did not answer, refused our credentials or our permissions is a [`CallFailure`]
//! (UNKNOWN on the screen), never DOWN: it is not the database's fault.

use std::collections::HashMap;
use std::error::Error;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_rds::config::http::HttpResponse;
use aws_sdk_rds::config::{Credentials, ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_rds::error::{ProvideErrorMetadata, SdkError};
use jiff::Timestamp;
use tokio::sync::OnceCell;

use super::CallFailure;

/// The AWS clients of one console: cheap to clone (an `Arc` inside), one SDK config per
/// region, loaded on first use and kept.
#[derive(Clone)]
pub struct AwsClients {
    inner: Arc<AwsInner>,
}

struct AwsInner {
    endpoint_url: Option<String>,
    /// Replaces the default credentials chain (tests; an operator never sets this).
    credentials: Option<SharedCredentialsProvider>,
    /// How long one mutating call (a runbook step's) may take to answer.
    call_timeout: std::time::Duration,
    /// How often, and for how long, a step's postcondition is read after its call.
    postcondition: (std::time::Duration, std::time::Duration),
    regions: Mutex<HashMap<String, Arc<Regional>>>,
}

/// One region's config, and the clients built from it, each built once.
#[derive(Default)]
struct Regional {
    config: OnceCell<SdkConfig>,
    rds: OnceLock<aws_sdk_rds::Client>,
    cloudwatch: OnceLock<aws_sdk_cloudwatch::Client>,
}

impl std::fmt::Debug for AwsClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let regions: Vec<String> = self
            .inner
            .regions
            .lock()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        f.debug_struct("AwsClients")
            .field("endpoint_url", &self.inner.endpoint_url)
            .field("static_credentials", &self.inner.credentials.is_some())
            .field("regions", &regions)
            .finish()
    }
}

/// How long a mutating call (a runbook step's) may take to answer by default: it only
/// starts the work; AWS answers in a second or two.
pub const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A step's postcondition (a promoted replica standing alone, a restored instance
/// available) is read every 15 s for up to 30 minutes: a promotion takes minutes.
pub const POSTCONDITION: (std::time::Duration, std::time::Duration) = (
    std::time::Duration::from_secs(15),
    std::time::Duration::from_secs(30 * 60),
);

impl AwsClients {
    /// Clients that send every request to `endpoint_url` when given (`[aws] endpoint_url`),
    /// else wherever the SDK's own settings say (`AWS_ENDPOINT_URL`, profiles, AWS itself).
    /// Credentials come from the SDK's default chain. Nothing is loaded until first use.
    pub fn new(endpoint_url: Option<String>) -> AwsClients {
        AwsClients {
            inner: Arc::new(AwsInner {
                endpoint_url,
                credentials: None,
                call_timeout: CALL_TIMEOUT,
                postcondition: POSTCONDITION,
                regions: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The same clients with the default credentials chain replaced by `provider` (tests
    /// use static credentials). Call before first use: loaded configs are dropped.
    pub fn with_credentials(self, provider: impl ProvideCredentials + 'static) -> AwsClients {
        let credentials = SharedCredentialsProvider::new(provider);
        self.changed(|i| i.credentials = Some(credentials))
    }

    /// The same clients with another bound on a mutating call (tests: a control plane that
    /// never answers, without waiting a minute).
    pub fn with_call_timeout(self, call_timeout: std::time::Duration) -> AwsClients {
        self.changed(|i| i.call_timeout = call_timeout)
    }

    /// The same clients reading a step's postcondition every `poll` for at most `within`.
    pub fn with_postcondition(
        self,
        poll: std::time::Duration,
        within: std::time::Duration,
    ) -> AwsClients {
        self.changed(|i| i.postcondition = (poll, within))
    }

    /// The same settings with `change` made, and no region loaded yet.
    fn changed(self, change: impl FnOnce(&mut AwsInner)) -> AwsClients {
        let mut inner = AwsInner {
            endpoint_url: self.inner.endpoint_url.clone(),
            credentials: self.inner.credentials.clone(),
            call_timeout: self.inner.call_timeout,
            postcondition: self.inner.postcondition,
            regions: Mutex::new(HashMap::new()),
        };
        change(&mut inner);
        AwsClients {
            inner: Arc::new(inner),
        }
    }

    /// How often, and for how long, a step's postcondition is read ([`POSTCONDITION`]).
    pub fn postcondition(&self) -> (std::time::Duration, std::time::Duration) {
        self.inner.postcondition
    }

    /// How long one mutating call may take to answer ([`CALL_TIMEOUT`] unless changed).
    pub fn call_timeout(&self) -> std::time::Duration {
        self.inner.call_timeout
    }

    /// The endpoint every request goes to, when the config set one.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.inner.endpoint_url.as_deref()
    }

    fn regional(&self, region: &str) -> Arc<Regional> {
        let mut regions = self
            .inner
            .regions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        regions.entry(region.to_string()).or_default().clone()
    }

    /// The SDK config of `region`, loaded from the default chain once (concurrent first
    /// callers wait for the same load).
    pub async fn config(&self, region: &str) -> SdkConfig {
        let regional = self.regional(region);
        regional
            .config
            .get_or_init(|| self.load(region))
            .await
            .clone()
    }

    async fn load(&self, region: &str) -> SdkConfig {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_string()));
        if let Some(url) = &self.inner.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(provider) = &self.inner.credentials {
            loader = loader.credentials_provider(provider.clone());
        }
        loader.load().await
    }

    /// The RDS client of `region`.
    pub async fn rds(&self, region: &str) -> aws_sdk_rds::Client {
        let regional = self.regional(region);
        if let Some(client) = regional.rds.get() {
            return client.clone();
        }
        let config = self.config(region).await;
        regional
            .rds
            .get_or_init(|| aws_sdk_rds::Client::new(&config))
            .clone()
    }

    /// The CloudWatch client of `region`.
    pub async fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        let regional = self.regional(region);
        if let Some(client) = regional.cloudwatch.get() {
            return client.clone();
        }
        let config = self.config(region).await;
        regional
            .cloudwatch
            .get_or_init(|| aws_sdk_cloudwatch::Client::new(&config))
            .clone()
    }
}

/// One RDS snapshot (instance or cluster), as far as its age is concerned: what the backup
/// probe and a snapshot restore read.
#[derive(Debug, Clone, PartialEq)]
pub struct Snap {
    pub id: String,
    pub status: String,
    /// When its data was taken (the original's time, for a copy).
    pub taken: Option<Timestamp>,
}

/// The newest available snapshot, if any.
pub fn newest_available(snaps: &[Snap]) -> Option<&Snap> {
    snaps
        .iter()
        .filter(|s| s.status == "available" && s.taken.is_some())
        .max_by_key(|s| s.taken)
}

/// Error codes that mean our credentials are missing, expired or wrong.
const CREDENTIAL_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidSignatureException",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "InvalidAccessKeyId",
    "AuthFailure",
    "RequestExpired",
];

/// Error codes that mean the credentials are fine but not allowed to do this.
const ACCESS_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "NotAuthorized",
    "AuthorizationError",
];

/// Error codes that mean the control plane did not (properly) answer: throttled or failing.
const UNAVAILABLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
];

/// Why an SDK call failed: credentials, access denied, unreachable, or other. A probe first
/// handles the errors that are answers about the thing itself (an instance that does not
/// exist is DOWN), then gives the rest to this: UNKNOWN with the reason.
pub fn observe_error<E>(err: &SdkError<E, HttpResponse>) -> CallFailure
where
    E: ProvideErrorMetadata + Error + 'static,
{
    // No credentials (or a provider that failed to get them: an expired SSO session, a
    // broken profile) is found before anything is sent: look for it in every error.
    if let Some(creds) = credentials_error(err) {
        return CallFailure::Credentials(creds);
    }
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            // An error body the SDK could not read its code from (moto's query services
            // answer `<ErrorResponse><Errors><Error>`, getmoto/moto#7641, where AWS answers
            // `<ErrorResponse><Error>`): read the code and message from the body itself.
            let (code, message) = match e.code() {
                Some(code) => (code.to_string(), e.message().map(str::to_string)),
                None => match xml_error(service.raw()) {
                    Some((code, message)) => (code, message),
                    None => (String::new(), e.message().map(str::to_string)),
                },
            };
            let code = code.as_str();
            let text = code_and_message(code, message.as_deref());
            let status = service.raw().status().as_u16();
            if CREDENTIAL_CODES.contains(&code) {
                CallFailure::Credentials(text)
            } else if ACCESS_CODES.contains(&code) {
                CallFailure::AccessDenied(text)
            } else if UNAVAILABLE_CODES.contains(&code) || status >= 500 {
                CallFailure::Unreachable(text)
            } else if status == 403 {
                // A 403 whose code we do not know: our identity was refused something.
                CallFailure::AccessDenied(text)
            } else {
                CallFailure::Other(text)
            }
        }
        SdkError::DispatchFailure(failure) => {
            let what = if failure.is_timeout() {
                "timed out"
            } else {
                "no answer"
            };
            CallFailure::Unreachable(format!("{what}: {}", causes(err)))
        }
        SdkError::TimeoutError(_) => {
            CallFailure::Unreachable(format!("timed out: {}", causes(err)))
        }
        SdkError::ResponseError(response) => {
            let status = response.raw().status().as_u16();
            CallFailure::Unreachable(format!(
                "unreadable answer (HTTP {status}): {}",
                causes(err)
            ))
        }
        SdkError::ConstructionFailure(_) => CallFailure::Other(causes(err)),
        _ => CallFailure::Other(causes(err)),
    }
}

/// The first `<Code>` and `<Message>` of an XML error body.
fn xml_error(raw: &HttpResponse) -> Option<(String, Option<String>)> {
    let body = std::str::from_utf8(raw.body().bytes()?).ok()?;
    let element = |name: &str| -> Option<String> {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = start + body[start..].find(&format!("</{name}>"))?;
        let text = body[start..end].trim();
        let text = text
            .strip_prefix("<![CDATA[")
            .and_then(|t| t.strip_suffix("]]>"))
            .unwrap_or(text);
        Some(
            text.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        )
    };
    let code = element("Code").filter(|c| !c.is_empty() && c.len() <= 100)?;
    Some((code, element("Message")))
}

/// "Code: message", or whichever of the two there is.
fn code_and_message(code: &str, message: Option<&str>) -> String {
    let message = message.map(one_line);
    match (code, message.as_deref().filter(|m| !m.is_empty())) {
        ("", None) => "unknown error".into(),
        ("", Some(m)) => m.to_string(),
        (c, None) => c.to_string(),
        (c, Some(m)) => format!("{c}: {m}"),
    }
}

/// The messages of an error's sources (the SDK's top-level words, "dispatch failure", say
/// nothing), joined with ": ", repeats dropped.
fn causes(err: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = err.source();
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p == &text) {
            parts.push(text);
        }
        next = e.source();
    }
    if parts.is_empty() {
        one_line(&err.to_string())
    } else {
        one_line(&parts.join(": "))
    }
}

/// When a credentials provider failed somewhere in `err`'s sources: what it said.
fn credentials_error(err: &(dyn Error + 'static)) -> Option<String> {
    let mut next: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(e) = next {
        if is_credentials_error(e) {
            let text = one_line(&causes_from(e));
            // "the credential provider was not enabled: no credentials found in chain…":
            // the second half says it.
            return Some(match text.strip_prefix(NOT_ENABLED) {
                Some(rest) if !rest.is_empty() => rest.to_string(),
                _ => text,
            });
        }
        next = e.source();
    }
    None
}

/// What the SDK says when a credentials provider found nothing to load.
const NOT_ENABLED: &str = "the credential provider was not enabled: ";

/// A text on one line: the SDK lists what the default chain tried one per line ("…
/// Attempted:\n  Environment: …\n  Profile: …"); the screen has one line per reason.
pub fn one_line(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push_str(if out.ends_with(':') { " " } else { "; " });
        }
        out.push_str(line);
    }
    out
}

/// `e` and its sources, joined with ": ".
fn causes_from(e: &(dyn Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(s) = next {
        let text = s.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p == &text) {
            parts.push(text);
        }
        next = s.source();
    }
    parts.join(": ")
}

/// True when `e` is the SDK's `CredentialsError`. That type lives in `aws-credential-types`,
/// which the SDK crates do not re-export; it is named here through what a credentials
/// provider's future resolves to (`Result<Credentials, CredentialsError>`), so that no
/// extra dependency pins its version.
fn is_credentials_error(e: &(dyn Error + 'static)) -> bool {
    fn is_error_of<T, X: Error + 'static>(
        _: &impl Future<Output = Result<T, X>>,
        e: &(dyn Error + 'static),
    ) -> bool {
        e.is::<X>()
    }
    let any = Credentials::new("", "", None, None, "type-witness");
    let future = any.provide_credentials();
    is_error_of(&future, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rds::error::{ConnectorError, ErrorMetadata};
    use aws_sdk_rds::operation::describe_db_instances::DescribeDBInstancesError;

    type Err = SdkError<DescribeDBInstancesError, HttpResponse>;

    fn service(code: &str, message: &str, status: u16) -> Err {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        let raw = HttpResponse::new(status.try_into().expect("status"), "".into());
        SdkError::service_error(DescribeDBInstancesError::generic(meta), raw)
    }

    fn reason(err: &Err) -> CallFailure {
        observe_error(err)
    }

    #[test]
    fn refused_credentials_are_credentials() {
        for code in [
            "ExpiredToken",
            "InvalidClientTokenId",
            "UnrecognizedClientException",
            "SignatureDoesNotMatch",
        ] {
            assert_eq!(
                reason(&service(code, "nope", 403)),
                CallFailure::Credentials(format!("{code}: nope")),
                "{code}"
            );
        }
    }

    #[test]
    fn refused_permissions_are_access_denied() {
        assert_eq!(
            reason(&service(
                "AccessDenied",
                "User: arn:aws:iam::1:user/o is not authorized to perform: rds:DescribeDBInstances",
                403
            )),
            CallFailure::AccessDenied(
                "AccessDenied: User: arn:aws:iam::1:user/o is not authorized to perform: \
                 rds:DescribeDBInstances"
                    .into()
            )
        );
        assert!(matches!(
            reason(&service("UnauthorizedOperation", "x", 403)),
            CallFailure::AccessDenied(_)
        ));
        assert!(matches!(
            reason(&service("SomethingNew", "x", 403)),
            CallFailure::AccessDenied(_)
        ));
    }

    #[test]
    fn throttling_and_failing_control_planes_are_unreachable() {
        assert_eq!(
            reason(&service("Throttling", "Rate exceeded", 400)),
            CallFailure::Unreachable("Throttling: Rate exceeded".into())
        );
        assert!(matches!(
            reason(&service("InternalFailure", "", 500)),
            CallFailure::Unreachable(t) if t == "InternalFailure"
        ));
        assert!(matches!(
            reason(&service("Whatever", "bad gateway", 502)),
            CallFailure::Unreachable(_)
        ));
    }

    #[test]
    fn a_code_the_sdk_did_not_find_is_read_from_the_body() {
        // moto's shape of a query-protocol error (getmoto/moto#7641).
        let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ErrorResponse><Errors><Error>\
                    <Code>InvalidClientTokenId</Code><Message>The security token included in \
                    the request is invalid.</Message><Type>Sender</Type></Error></Errors>\
                    </ErrorResponse>";
        let raw = HttpResponse::new(403.try_into().expect("status"), body.into());
        let err: Err = SdkError::service_error(
            DescribeDBInstancesError::generic(ErrorMetadata::builder().build()),
            raw,
        );
        assert_eq!(
            reason(&err),
            CallFailure::Credentials(
                "InvalidClientTokenId: The security token included in the request is invalid."
                    .into()
            )
        );
        // Nothing to read: a 403 is still access denied, a 500 unreachable.
        let raw = HttpResponse::new(403.try_into().expect("status"), "".into());
        let err: Err = SdkError::service_error(
            DescribeDBInstancesError::generic(ErrorMetadata::builder().build()),
            raw,
        );
        assert_eq!(
            reason(&err),
            CallFailure::AccessDenied("unknown error".into())
        );
    }

    #[test]
    fn other_service_errors_are_other_with_code_and_message() {
        assert_eq!(
            reason(&service("InvalidParameterValue", "bad id", 400)),
            CallFailure::Other("InvalidParameterValue: bad id".into())
        );
    }

    #[test]
    fn dispatch_failures_are_unreachable() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let err: Err = SdkError::dispatch_failure(ConnectorError::io(Box::new(io)));
        match reason(&err) {
            CallFailure::Unreachable(t) => assert!(t.contains("Connection refused"), "{t}"),
            other => panic!("{other:?}"),
        }
        let slow = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timeout");
        let err: Err = SdkError::dispatch_failure(ConnectorError::timeout(Box::new(slow)));
        match reason(&err) {
            CallFailure::Unreachable(t) => assert!(t.starts_with("timed out"), "{t}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_credentials_provider_that_failed_is_credentials() {
        // A real provider's real error: a profile that is in no config file.
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name("warroom-test-no-such-profile")
            .build();
        let failed = provider
            .provide_credentials()
            .await
            .expect_err("no such profile");
        // As the orchestrator hands it over: the identity was not resolved, nothing was sent.
        let err: Err = SdkError::dispatch_failure(ConnectorError::other(Box::new(failed), None));
        match reason(&err) {
            CallFailure::Credentials(t) => assert!(!t.is_empty()),
            other => panic!("{other:?}"),
        }
        // And anywhere else it may be found.
        let failed = provider.provide_credentials().await.expect_err("again");
        let err: Err = SdkError::construction_failure(failed);
        assert!(matches!(reason(&err), CallFailure::Credentials(_)));
    }

    #[test]
    fn reasons_are_one_line() {
        let sdk = "no credentials found in chain. Attempted:\n  Environment: not set\n  \
                   Profile: the credential provider was not enabled\n";
        assert_eq!(
            one_line(sdk),
            "no credentials found in chain. Attempted: Environment: not set; \
             Profile: the credential provider was not enabled"
        );
        assert_eq!(
            reason(&service("Throttling", "Rate\nexceeded", 400)),
            CallFailure::Unreachable("Throttling: Rate; exceeded".into())
        );
    }

    #[tokio::test]
    async fn one_config_per_region_with_the_configured_endpoint() {
        let clients = AwsClients::new(Some("http://127.0.0.1:9".into()))
            .with_credentials(Credentials::new("a", "b", None, None, "t"));
        let other = clients.clone();
        let (east, again) = tokio::join!(clients.config("us-east-1"), other.config("us-east-1"));
        assert_eq!(east.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert_eq!(again.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert_eq!(east.endpoint_url(), Some("http://127.0.0.1:9"));
        let _ = clients.rds("us-west-2").await;
        let _ = other.cloudwatch("us-west-2").await;
        let _ = clients.rds("us-west-2").await;
        let mut regions: Vec<String> = clients
            .inner
            .regions
            .lock()
            .expect("lock")
            .keys()
            .cloned()
            .collect();
        regions.sort();
        assert_eq!(regions, ["us-east-1", "us-west-2"]);
        let west = clients.regional("us-west-2");
        assert!(west.rds.get().is_some() && west.cloudwatch.get().is_some());
    }

    #[test]
    fn clients_are_one_per_console() {
        let clients = AwsClients::new(Some("http://127.0.0.1:9".into()));
        let copy = clients.clone();
        assert!(Arc::ptr_eq(&clients.inner, &copy.inner));
        assert_eq!(copy.endpoint_url(), Some("http://127.0.0.1:9"));
        assert!(format!("{clients:?}").contains("127.0.0.1:9"));
    }
}
