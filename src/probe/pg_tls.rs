//! TLS to PostgreSQL, as libpq's `sslmode` means it, through rustls (tokio-postgres-rustls):
//!
//! | sslmode | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default, like libpq) | if the server offers it, else plain | not checked |
//! | `require` | always | not checked; checked like `verify-ca` when `sslrootcert` is given (libpq) |
//! | `verify-ca` | always | signed by a root in `sslrootcert` |
//! | `verify-full` | always | signed by a root in `sslrootcert`, and issued for the host |
//!
//! `sslrootcert` is a PEM file (the RDS CA bundle, say) or `system` (the system's roots).
//! tokio-postgres itself knows only disable/prefer/require: the two keys are taken out of the
//! DSN here (key=value or URL form) and the rest is parsed as before.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`, all five that mean something with TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl TlsMode {
    fn parse(text: &str) -> Result<TlsMode, String> {
        Ok(match text {
            "disable" => TlsMode::Disable,
            "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode={} is not supported (disable, prefer, require, verify-ca, verify-full)",
                    crate::text::clean(other)
                ));
            }
        })
    }

    /// What tokio-postgres is told: whether TLS is tried, and whether it is a must.
    pub fn ssl_mode(self) -> SslMode {
        match self {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull => SslMode::Require,
        }
    }
}

/// The TLS part of a DSN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub mode: TlsMode,
    /// `sslrootcert`: a PEM file, or `system`.
    pub root: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out of a DSN: the rest, and what they said.
pub fn split(dsn: &str) -> Result<(String, Tls), String> {
    let trimmed = dsn.trim_start();
    let (rest, pairs) =
        if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
            split_url(dsn)
        } else {
            split_key_values(dsn)?
        };
    let mut mode = TlsMode::Prefer;
    let mut root = None;
    for (key, value) in pairs {
        match key.as_str() {
            "sslmode" => mode = TlsMode::parse(&value)?,
            _ => root = Some(value),
        }
    }
    Ok((rest, Tls { mode, root }))
}

const TAKEN: [&str; 2] = ["sslmode", "sslrootcert"];

/// `postgresql://…?sslmode=…&sslrootcert=…`: the query's two parameters taken out.
fn split_url(dsn: &str) -> (String, Vec<(String, String)>) {
    let Some((base, query)) = dsn.split_once('?') else {
        return (dsn.to_string(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for param in query.split('&') {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        if TAKEN.contains(&key) {
            taken.push((key.to_string(), percent_decode(value)));
        } else {
            kept.push(param);
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rest, taken)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// libpq's `key = value` form: values bare (backslash escapes) or in single quotes.
fn split_key_values(dsn: &str) -> Result<(String, Vec<(String, String)>), String> {
    let chars: Vec<(usize, char)> = dsn.char_indices().collect();
    let mut i = 0;
    let mut kept = String::new();
    let mut taken = Vec::new();
    let skip_blank = |i: &mut usize| {
        while *i < chars.len() && chars[*i].1.is_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_blank(&mut i);
        if i >= chars.len() {
            break;
        }
        let start = chars[i].0;
        let mut key = String::new();
        while i < chars.len() && chars[i].1 != '=' && !chars[i].1.is_whitespace() {
            key.push(chars[i].1);
            i += 1;
        }
        skip_blank(&mut i);
        if i >= chars.len() || chars[i].1 != '=' {
            return Err(format!(
                "the DSN is not valid: `{}` has no `=`",
                crate::text::clean(&key)
            ));
        }
        i += 1;
        skip_blank(&mut i);
        let mut value = String::new();
        if i < chars.len() && chars[i].1 == '\'' {
            i += 1;
            loop {
                match chars.get(i).map(|c| c.1) {
                    None => return Err("the DSN is not valid: an unclosed quote".into()),
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        if let Some(&(_, c)) = chars.get(i + 1) {
                            value.push(c);
                        }
                        i += 2;
                    }
                    Some(c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < chars.len() && !chars[i].1.is_whitespace() {
                if chars[i].1 == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                value.push(chars[i].1);
                i += 1;
            }
        }
        let end = chars.get(i).map_or(dsn.len(), |c| c.0);
        if TAKEN.contains(&key.as_str()) {
            taken.push((key, value));
        } else {
            if !kept.is_empty() {
                kept.push(' ');
            }
            kept.push_str(&dsn[start..end]);
        }
    }
    Ok((kept, taken))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The roots of `sslrootcert`: a PEM file's certificates, or the system's.
fn roots(root: &str) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    if root == "system" {
        let found = rustls_native_certs::load_native_certs();
        for cert in found.certs {
            let _ = store.add(cert);
        }
    } else {
        let path = PathBuf::from(root);
        let text = crate::files::read_text(&path, crate::files::CONFIG_MAX)
            .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
        for cert in CertificateDer::pem_slice_iter(text.as_bytes()) {
            let cert = cert.map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
            store
                .add(cert)
                .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
        }
    }
    if store.is_empty() {
        return Err(format!("sslrootcert {root}: no certificate in it"));
    }
    Ok(store)
}

/// The connector for `tls`; `None` for `disable` (no TLS at all).
pub fn connector(tls: &Tls) -> Result<Option<MakeRustlsConnect>, String> {
    let mode = match (tls.mode, &tls.root) {
        (TlsMode::Disable, _) => return Ok(None),
        // libpq: `require` with a root file given checks the chain like verify-ca.
        (TlsMode::Require, Some(_)) => TlsMode::VerifyCa,
        (TlsMode::VerifyCa | TlsMode::VerifyFull, None) => {
            return Err(format!(
                "sslmode={} needs sslrootcert (a PEM file of the CA, e.g. the RDS bundle, or `system`)",
                if tls.mode == TlsMode::VerifyCa {
                    "verify-ca"
                } else {
                    "verify-full"
                }
            ));
        }
        (mode, _) => mode,
    };
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        TlsMode::VerifyCa | TlsMode::VerifyFull => {
            let roots = roots(tls.root.as_deref().unwrap_or("system"))?;
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| format!("TLS roots: {e}"))?;
            if mode == TlsMode::VerifyFull {
                webpki
            } else {
                Arc::new(ChainOnly(webpki))
            }
        }
        _ => Arc::new(Unchecked(provider.clone())),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(MakeRustlsConnect::new(config)))
}

/// `prefer` / `require`: encrypted, the certificate not checked (libpq's meaning). The
/// handshake's signatures are still verified.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a given root; the name is not compared.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_of_either_form() {
        let (rest, tls) =
            split("host=db port=5432 sslmode=verify-full sslrootcert='/etc/rds ca.pem' user=mon")
                .expect("valid");
        assert_eq!(rest, "host=db port=5432 user=mon");
        assert_eq!(
            tls,
            Tls {
                mode: TlsMode::VerifyFull,
                root: Some("/etc/rds ca.pem".into())
            }
        );
        let (rest, tls) = split(
            "postgresql://mon@db:5432/app?sslmode=require&application_name=w&sslrootcert=%2Fetc%2Fca.pem",
        )
        .expect("valid");
        assert_eq!(rest, "postgresql://mon@db:5432/app?application_name=w");
        assert_eq!(
            (tls.mode, tls.root.as_deref()),
            (TlsMode::Require, Some("/etc/ca.pem"))
        );
        // libpq's default.
        let (rest, tls) = split("host=db user=mon").expect("valid");
        assert_eq!(
            (rest.as_str(), tls.mode),
            ("host=db user=mon", TlsMode::Prefer)
        );
        assert_eq!(
            split("host=db sslmode=allow").expect_err("allow"),
            "sslmode=allow is not supported (disable, prefer, require, verify-ca, verify-full)"
        );
        assert!(split("host=db password='unclosed").is_err());
        // Verifying needs roots to verify with.
        let tls = Tls {
            mode: TlsMode::VerifyFull,
            root: None,
        };
        assert!(
            connector(&tls)
                .err()
                .is_some_and(|e| e.starts_with("sslmode=verify-full needs sslrootcert"))
        );
    }
}
