//! `tcp` health: can a TCP connection be opened to `host:port`?
//!
//! The name is resolved at every round (a failover may move it), then each address is tried
//! in the order the resolver gave until one accepts. The latency covers resolving and
//! connecting. The connection is closed at once; nothing is sent.
//!
//! What the screen says: connected → UP; refused, unreachable, reset, or a name that does not
//! resolve → DOWN (during an outage the service's own name failing to resolve is the thing
//! failing); an OS connect timeout → cannot observe (timed out). The scheduler's timeout
//! usually comes first.

use std::io;
use std::time::Instant;

use tokio::net::{TcpStream, lookup_host};

use super::{ObserveFuture, Probe};
use crate::app::{ObserveError, Outcome};
use crate::process::io_reason;
use crate::text::redact;

/// Probes `host:port` (`[v6]:port` for an IPv6 literal).
#[derive(Debug, Clone)]
pub struct TcpProbe {
    address: String,
}

impl TcpProbe {
    pub fn new(address: impl Into<String>) -> TcpProbe {
        TcpProbe {
            address: address.into(),
        }
    }

    async fn connect(&self) -> Outcome {
        let start = Instant::now();
        let Some((host, port)) = split_host_port(&self.address) else {
            return Outcome::CannotObserve {
                reason: ObserveError::Other(format!(
                    "address {} is not host:port",
                    redact::excerpt(&self.address, 80)
                )),
            };
        };
        let addrs: Vec<_> = match lookup_host((host, port)).await {
            Ok(addrs) => addrs.collect(),
            Err(e) => return dns_failure(host, Some(&e)),
        };
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(_) => {
                    return Outcome::Up {
                        latency: start.elapsed(),
                        detail: format!("connected to {addr}"),
                    };
                }
                Err(e) => last = Some(e),
            }
        }
        match last {
            Some(e) => connect_failure(&e),
            None => dns_failure(host, None),
        }
    }
}

impl Probe for TcpProbe {
    fn observe(&self) -> ObserveFuture<'_> {
        Box::pin(self.connect())
    }

    fn describe(&self) -> String {
        format!("tcp {}", self.address)
    }
}

/// `host:port` split; the brackets of an IPv6 literal removed.
fn split_host_port(address: &str) -> Option<(&str, u16)> {
    let (host, port) = address.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.strip_suffix(']')?,
        None if host.contains(':') => return None,
        None => host,
    };
    (!host.is_empty()).then_some((host, port))
}

/// A name that did not resolve: the thing is down. `error` is the resolver's, when it said
/// why ("Name or service not known", "Temporary failure in name resolution").
pub(crate) fn dns_failure(host: &str, error: Option<&io::Error>) -> Outcome {
    let mut detail = format!("DNS: cannot resolve {}", redact::excerpt(host, 120));
    if let Some(e) = error {
        let reason = io_reason(e);
        let reason = reason
            .strip_prefix("failed to lookup address information: ")
            .unwrap_or(&reason);
        detail.push_str(&format!(" ({})", redact::excerpt(reason, 120)));
    }
    Outcome::Down { detail }
}

/// How a failed connect reads: refused, unreachable or reset → DOWN; timed out → cannot
/// observe.
pub(crate) fn connect_failure(e: &io::Error) -> Outcome {
    use io::ErrorKind::*;
    let detail = match e.kind() {
        ConnectionRefused => "connection refused".to_string(),
        NetworkUnreachable => "network unreachable".to_string(),
        HostUnreachable => "host unreachable".to_string(),
        ConnectionReset => "connection reset".to_string(),
        ConnectionAborted => "connection aborted".to_string(),
        TimedOut => {
            return Outcome::CannotObserve {
                reason: ObserveError::Timeout,
            };
        }
        _ => format!("connect: {}", redact::excerpt(&io_reason(e), 120)),
    };
    Outcome::Down { detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_host_and_port() {
        assert_eq!(
            split_host_port("db.internal:5432"),
            Some(("db.internal", 5432))
        );
        assert_eq!(split_host_port("10.0.0.5:6379"), Some(("10.0.0.5", 6379)));
        assert_eq!(split_host_port("[::1]:443"), Some(("::1", 443)));
        assert_eq!(split_host_port("db.internal"), None);
        assert_eq!(split_host_port("db:http"), None);
        assert_eq!(split_host_port(":80"), None);
        assert_eq!(split_host_port("::1:443"), None);
        assert_eq!(split_host_port("[::1:443"), None);
    }

    #[test]
    fn connect_errors_read_as_down_or_timeout() {
        let down = |kind| match connect_failure(&io::Error::from(kind)) {
            Outcome::Down { detail } => detail,
            other => panic!("{other:?}"),
        };
        assert_eq!(down(io::ErrorKind::ConnectionRefused), "connection refused");
        assert_eq!(
            down(io::ErrorKind::NetworkUnreachable),
            "network unreachable"
        );
        assert_eq!(down(io::ErrorKind::HostUnreachable), "host unreachable");
        assert_eq!(
            connect_failure(&io::Error::from(io::ErrorKind::TimedOut)),
            Outcome::CannotObserve {
                reason: ObserveError::Timeout
            }
        );
    }

    #[test]
    fn dns_failures_name_the_host_and_the_reason() {
        let e = io::Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(
            dns_failure("api.example.invalid", Some(&e)),
            Outcome::Down {
                detail: "DNS: cannot resolve api.example.invalid (Name or service not known)"
                    .into()
            }
        );
    }
}
