//! TLS for the PostgreSQL store, with libpq's connection-string semantics: the `sslmode`
//! (`disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full`), `sslrootcert` (a PEM
//! file, or `system`), `sslcert` / `sslkey` (PEM client certificate and key), `sslsni` and
//! `ssl_min_protocol_version` / `ssl_max_protocol_version` URL parameters are read here and removed before the rest of the URL goes to the `postgres`
//! crate, which does not know most of them. The connector is rustls (aws-lc-rs) over
//! tokio-rustls and gives the `tls-server-end-point` channel binding (RFC 5929 §4.1) that
//! SCRAM-SHA-256-PLUS (RFC 5802 §6, RFC 7677) binds the login to. Certificates are checked as
//! RFC 5280 §6 paths by webpki; host names and addresses as RFC 6125 reference identities.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use postgres::config::SslMode as WireMode;
use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use postgres::{Client, Config};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::Digest;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::StoreError;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    /// No TLS.
    Disable,
    /// Plain first; TLS when the server refuses a plain connection.
    Allow,
    /// TLS when the server offers it, else plain (the default).
    Prefer,
    /// TLS, the certificate unchecked (checked as `verify-ca` when `sslrootcert` is given).
    Require,
    /// TLS, the certificate chained to a root in `sslrootcert`.
    VerifyCa,
    /// `verify-ca`, and the certificate names the host.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Option<SslMode> {
        Some(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where the trusted roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Roots {
    /// A PEM file of certificates.
    File(PathBuf),
    /// The system's trust store (`sslrootcert=system`).
    System,
}

impl std::fmt::Display for Roots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Roots::File(path) => write!(f, "sslrootcert '{}'", path.display()),
            Roots::System => f.write_str("the system trust store (sslrootcert=system)"),
        }
    }
}

/// The TLS parameters of a `postgres://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsParams {
    pub(crate) mode: SslMode,
    pub(crate) roots: Option<Roots>,
    pub(crate) cert: Option<PathBuf>,
    pub(crate) key: Option<PathBuf>,
    pub(crate) sni: bool,
    /// The TLS versions allowed, lowest and highest (2 for TLS 1.2, 3 for TLS 1.3).
    pub(crate) versions: (u8, u8),
}

/// A libpq protocol version name (`TLSv1.2`, any letter case) as 0 (TLS 1.0) to 3 (TLS 1.3).
fn protocol_version(name: &str, value: &str) -> Result<u8, StoreError> {
    match value.to_ascii_lowercase().as_str() {
        "tlsv1" => Ok(0),
        "tlsv1.1" => Ok(1),
        "tlsv1.2" => Ok(2),
        "tlsv1.3" => Ok(3),
        _ => Err(tls_error(format!(
            "{name} '{value}' is not one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3"
        ))),
    }
}

fn tls_error(message: String) -> StoreError {
    StoreError::Tls(message)
}

/// Decodes `%XX` escapes (a URL's query value); `None` when the escapes are broken or the
/// result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Splits the TLS parameters off a `postgres://` URL: the URL without them (for the `postgres`
/// crate) and what they say. A parameter given twice counts with its last value, as in libpq.
pub(crate) fn split_url(url: &str) -> Result<(String, TlsParams), StoreError> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };
    let mut kept = Vec::new();
    let mut mode = None;
    let mut roots = None;
    let mut cert = None;
    let mut key = None;
    let mut sni = true;
    let mut min_version = 2;
    let mut max_version = 3;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(raw_name).unwrap_or_default();
        if !matches!(
            name.as_str(),
            "sslmode"
                | "sslrootcert"
                | "sslcert"
                | "sslkey"
                | "sslsni"
                | "ssl_min_protocol_version"
                | "ssl_max_protocol_version"
        ) {
            kept.push(pair);
            continue;
        }
        let value = percent_decode(raw_value).ok_or_else(|| {
            tls_error(format!(
                "{name} '{raw_value}' in the database url is not valid percent-encoded UTF-8"
            ))
        })?;
        match name.as_str() {
            "sslmode" => {
                mode = Some(SslMode::parse(&value).ok_or_else(|| {
                    tls_error(format!(
                        "sslmode '{value}' is not one of disable, allow, prefer, require, \
                         verify-ca, verify-full"
                    ))
                })?);
            }
            "sslrootcert" => {
                roots = Some(if value == "system" {
                    Roots::System
                } else {
                    Roots::File(PathBuf::from(value))
                });
            }
            "sslcert" => cert = Some(PathBuf::from(value)),
            "sslkey" => key = Some(PathBuf::from(value)),
            // rustls speaks TLS 1.2 and 1.3: a lower minimum changes nothing.
            "ssl_min_protocol_version" => min_version = protocol_version(&name, &value)?.max(2),
            "ssl_max_protocol_version" if value.is_empty() => max_version = 3,
            "ssl_max_protocol_version" => {
                max_version = protocol_version(&name, &value)?;
                if max_version < 2 {
                    return Err(tls_error(format!(
                        "ssl_max_protocol_version '{value}': only TLSv1.2 and TLSv1.3 are \
                         spoken here"
                    )));
                }
            }
            _ => {
                sni = match value.as_str() {
                    "1" => true,
                    "0" => false,
                    _ => return Err(tls_error(format!("sslsni '{value}' is not 0 or 1"))),
                };
            }
        }
    }
    // libpq: the system roots make verify-full the default and forbid anything weaker, since
    // anyone can get a publicly trusted certificate for a name they control.
    let mode = match (mode, &roots) {
        (None, Some(Roots::System)) => SslMode::VerifyFull,
        (Some(mode), Some(Roots::System)) if mode != SslMode::VerifyFull => {
            return Err(tls_error(format!(
                "sslmode '{}' is too weak for sslrootcert=system: a certificate from a public \
                 authority proves only the host name, so use sslmode=verify-full",
                mode.as_str()
            )));
        }
        (mode, _) => mode.unwrap_or(SslMode::Prefer),
    };
    if min_version > max_version {
        return Err(tls_error(
            "ssl_min_protocol_version is above ssl_max_protocol_version".to_owned(),
        ));
    }
    if cert.is_some() != key.is_some() {
        return Err(tls_error(
            "sslcert and sslkey go together: give both files or neither".to_owned(),
        ));
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((
        rest,
        TlsParams {
            mode,
            roots,
            cert,
            key,
            sni,
            versions: (min_version, max_version),
        },
    ))
}

/// `url` without its `password=` query parameter, so that it can be shown.
pub(crate) fn without_password_parameter(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
            percent_decode(name).as_deref() != Some("password")
        })
        .collect();
    if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// The verifier's failure in words, kept for the error the connection ends with (the
/// `postgres` crate wraps the TLS error in its own).
#[derive(Debug, Default)]
struct Outcome {
    failure: Option<String>,
    handshake_failed: bool,
}

type Shared = Arc<Mutex<Outcome>>;

fn record(shared: &Shared, update: impl FnOnce(&mut Outcome)) {
    if let Ok(mut outcome) = shared.lock() {
        update(&mut outcome);
    }
}

/// Checks the server's certificate as the mode asks: not at all, its chain, or its chain and
/// its names.
#[derive(Debug)]
struct Verifier {
    /// The roots to chain to; `None`: the certificate is not checked (`require`, `prefer`).
    roots: Option<Arc<RootCertStore>>,
    /// Where the roots came from, for messages.
    roots_label: String,
    /// Whether the certificate must name the host (`verify-full`).
    check_name: bool,
    mode: SslMode,
    algorithms: WebPkiSupportedAlgorithms,
    shared: Shared,
}

fn describe_name(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().to_owned(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => format!("{name:?}"),
    }
}

/// A name rustls found in a certificate (`DnsName("db.example")`, `IpAddress(192.0.2.1)`)
/// as a person writes it.
fn presented_name(name: &str) -> String {
    if let Some(dns) = name
        .strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
    {
        return dns.to_owned();
    }
    if let Some(ip) = name
        .strip_prefix("IpAddress(")
        .and_then(|n| n.strip_suffix(')'))
        .and_then(|n| n.parse::<std::net::IpAddr>().ok())
    {
        return ip.to_string();
    }
    name.to_owned()
}

impl Verifier {
    fn chain_failure(&self, host: &str, err: &rustls::Error) -> String {
        let why = match err {
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => format!(
                "is not signed by a certificate authority in {}",
                self.roots_label
            ),
            rustls::Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. },
            ) => "has expired".to_owned(),
            rustls::Error::InvalidCertificate(
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. },
            ) => "is not valid yet".to_owned(),
            other => format!("was refused ({other})"),
        };
        format!(
            "sslmode={}: the certificate of server '{host}' {why}",
            self.mode.as_str()
        )
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(roots) = &self.roots else {
            return Ok(ServerCertVerified::assertion());
        };
        let host = describe_name(server_name);
        let fail = |message: String, err: rustls::Error| {
            record(&self.shared, |o| o.failure = Some(message));
            err
        };
        let cert = ParsedCertificate::try_from(end_entity)
            .map_err(|e| fail(self.chain_failure(&host, &e), e))?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            roots,
            intermediates,
            now,
            self.algorithms.all,
        )
        .map_err(|e| fail(self.chain_failure(&host, &e), e))?;
        if self.check_name {
            rustls::client::verify_server_name(&cert, server_name).map_err(|e| {
                let names = match &e {
                    rustls::Error::InvalidCertificate(
                        CertificateError::NotValidForNameContext { presented, .. },
                    ) if !presented.is_empty() => format!(
                        " (it names {})",
                        presented
                            .iter()
                            .map(|n| presented_name(n))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    _ => String::new(),
                };
                let message = format!(
                    "sslmode=verify-full: the certificate of server '{host}' does not name \
                     that host{names}"
                );
                fail(message, e)
            })?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn read_roots(roots: &Roots) -> Result<RootCertStore, StoreError> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found
                    .errors
                    .first()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default();
                return Err(tls_error(format!(
                    "sslrootcert=system: no certificate found in the system trust store{why}"
                )));
            }
        }
        Roots::File(path) => {
            let label = path.display();
            std::fs::metadata(path)
                .map_err(|e| tls_error(format!("sslrootcert '{label}' cannot be read: {e}")))?;
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    tls_error(format!(
                        "sslrootcert '{label}' is not a PEM certificate file: {e}"
                    ))
                })?;
            if certs.is_empty() {
                return Err(tls_error(format!(
                    "sslrootcert '{label}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
                )));
            }
            for (n, cert) in certs.into_iter().enumerate() {
                store.add(cert).map_err(|e| {
                    tls_error(format!(
                        "sslrootcert '{label}': certificate {} is not a usable root: {e}",
                        n + 1
                    ))
                })?;
            }
        }
    }
    Ok(store)
}

/// libpq's rule for a private key file: no access for others, and none for the group unless
/// root owns it (then group read is allowed).
#[cfg(unix)]
fn check_key_permissions(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| tls_error(format!("sslkey '{}' cannot be read: {e}", path.display())))?;
    let forbidden = if meta.uid() == 0 { 0o037 } else { 0o077 };
    if meta.mode() & forbidden != 0 {
        return Err(tls_error(format!(
            "sslkey '{}' has group or world access (mode {:o}): it must be u=rw (0600) or less, \
             or u=rw,g=r (0640) or less when root owns it",
            path.display(),
            meta.mode() & 0o777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_key_permissions(_: &Path) -> Result<(), StoreError> {
    Ok(())
}

fn read_client_identity(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), StoreError> {
    std::fs::metadata(cert)
        .map_err(|e| tls_error(format!("sslcert '{}' cannot be read: {e}", cert.display())))?;
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            tls_error(format!(
                "sslcert '{}' is not a PEM certificate file: {e}",
                cert.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(tls_error(format!(
            "sslcert '{}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            cert.display()
        )));
    }
    check_key_permissions(key)?;
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        tls_error(format!(
            "sslkey '{}' is not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
            key.display()
        ))
    })?;
    Ok((certs, private))
}

/// The trusted roots the mode asks for: those named, or for `verify-ca` / `verify-full`
/// without `sslrootcert`, libpq's default `~/.postgresql/root.crt`.
fn roots_for(params: &TlsParams) -> Result<Option<Roots>, StoreError> {
    if params.roots.is_some() {
        return Ok(params.roots.clone());
    }
    if !matches!(params.mode, SslMode::VerifyCa | SslMode::VerifyFull) {
        return Ok(None);
    }
    let default = dirs::home_dir().map(|home| home.join(".postgresql").join("root.crt"));
    match default {
        Some(path) if path.exists() => Ok(Some(Roots::File(path))),
        other => Err(tls_error(format!(
            "sslmode={} needs trusted roots: give sslrootcert=PATH (a PEM file of CA \
             certificates) or sslrootcert=system{}",
            params.mode.as_str(),
            other
                .map(|p| format!(" (the default {} does not exist)", p.display()))
                .unwrap_or_default()
        ))),
    }
}

/// The rustls protocol versions from `low` to `high` (2 for TLS 1.2, 3 for TLS 1.3).
fn versions((low, high): (u8, u8)) -> Vec<&'static rustls::SupportedProtocolVersion> {
    let mut out = Vec::new();
    if (low..=high).contains(&3) {
        out.push(&rustls::version::TLS13);
    }
    if (low..=high).contains(&2) {
        out.push(&rustls::version::TLS12);
    }
    out
}

/// A `MakeTlsConnect` over rustls for one connection attempt's settings.
#[derive(Debug, Clone)]
pub(crate) struct MakeRustls {
    config: Arc<rustls::ClientConfig>,
    shared: Shared,
}

impl MakeRustls {
    fn new(params: &TlsParams) -> Result<MakeRustls, StoreError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let roots = roots_for(params)?;
        let store = roots.as_ref().map(read_roots).transpose()?;
        let shared = Shared::default();
        let verifier = Verifier {
            roots: store.map(Arc::new),
            roots_label: roots.as_ref().map(ToString::to_string).unwrap_or_default(),
            check_name: params.mode == SslMode::VerifyFull,
            mode: params.mode,
            algorithms: provider.signature_verification_algorithms,
            shared: Arc::clone(&shared),
        };
        let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&versions(params.versions))
            .map_err(|e| tls_error(format!("setting up TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier));
        let mut config = match (&params.cert, &params.key) {
            (Some(cert), Some(key)) => {
                let (certs, key_der) = read_client_identity(cert, key)?;
                builder.with_client_auth_cert(certs, key_der).map_err(|e| {
                    tls_error(format!(
                        "sslkey '{}' does not go with sslcert '{}': {e}",
                        key.display(),
                        cert.display()
                    ))
                })?
            }
            _ => builder.with_no_client_auth(),
        };
        config.enable_sni = params.sni;
        // PostgreSQL 17's direct TLS (sslnegotiation=direct) requires this ALPN protocol;
        // older servers ignore it.
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(MakeRustls {
            config: Arc::new(config),
            shared,
        })
    }

    fn failure(&self) -> Option<String> {
        self.shared.lock().ok().and_then(|o| o.failure.clone())
    }

    fn handshake_failed(&self) -> bool {
        self.shared.lock().is_ok_and(|o| o.handshake_failed)
    }
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, io::Error> {
        // An empty or odd name (a Unix socket) is only an error if TLS is actually attempted.
        let name = ServerName::try_from(domain.trim_start_matches('[').trim_end_matches(']'))
            .map(|n| n.to_owned())
            .map_err(|_| domain.to_owned());
        Ok(RustlsConnect {
            config: Arc::clone(&self.config),
            name,
            shared: Arc::clone(&self.shared),
        })
    }
}

/// The TLS handshake for one host.
#[derive(Debug)]
pub(crate) struct RustlsConnect {
    config: Arc<rustls::ClientConfig>,
    name: Result<ServerName<'static>, String>,
    shared: Shared,
}

type Handshake<S> = Pin<Box<dyn Future<Output = Result<RustlsStream<S>, io::Error>> + Send>>;

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Handshake<S>;

    fn connect(self, stream: S) -> Handshake<S> {
        Box::pin(async move {
            let name = self.name.map_err(|name| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("'{name}' is not a host name or address TLS can check"),
                )
            })?;
            let connector = tokio_rustls::TlsConnector::from(self.config);
            match connector.connect(name, stream).await {
                Ok(tls) => {
                    let binding = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|certs| certs.first())
                        .and_then(|cert| tls_server_end_point(cert));
                    Ok(RustlsStream { tls, binding })
                }
                Err(e) => {
                    record(&self.shared, |o| o.handshake_failed = true);
                    Err(e)
                }
            }
        })
    }
}

/// A TLS connection to the server, with its channel binding.
#[derive(Debug)]
pub(crate) struct RustlsStream<S> {
    tls: tokio_rustls::client::TlsStream<S>,
    binding: Option<Vec<u8>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tls).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        match &self.binding {
            Some(hash) => ChannelBinding::tls_server_end_point(hash.clone()),
            None => ChannelBinding::none(),
        }
    }
}

/// One DER element: its tag, its contents and what follows it.
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// The hash of a signature algorithm (RFC 5929 §4.1: MD5 and SHA-1 become SHA-256); `None`
/// for algorithms without one (Ed25519) or unknown ones.
fn signature_hash(oid: &[u8], params: &[u8]) -> Option<Hash> {
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    const ECDSA_SHA2: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03];
    const ECDSA_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01];
    const DIGEST: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02];
    if oid == ECDSA_SHA1 {
        return Some(Hash::Sha256);
    }
    if let Some(&[last]) = oid.strip_prefix(ECDSA_SHA2) {
        return match last {
            1 => Some(Hash::Sha224),
            2 => Some(Hash::Sha256),
            3 => Some(Hash::Sha384),
            4 => Some(Hash::Sha512),
            _ => None,
        };
    }
    match oid.strip_prefix(RSA)? {
        // md5, sha1
        [4 | 5] => Some(Hash::Sha256),
        [11] => Some(Hash::Sha256),
        [12] => Some(Hash::Sha384),
        [13] => Some(Hash::Sha512),
        [14] => Some(Hash::Sha224),
        // RSASSA-PSS: the hash is in the parameters ([0] hashAlgorithm, SHA-1 by default).
        [10] => {
            let (_, fields, _) = der(params)?;
            let Some((0xa0, hash_alg, _)) = der(fields) else {
                return Some(Hash::Sha256);
            };
            let (_, alg_id, _) = der(hash_alg)?;
            let (_, digest, _) = der(alg_id)?;
            match digest.strip_prefix(DIGEST)? {
                [1] => Some(Hash::Sha256),
                [2] => Some(Hash::Sha384),
                [3] => Some(Hash::Sha512),
                [4] => Some(Hash::Sha224),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The `tls-server-end-point` channel binding of a server certificate (RFC 5929 §4.1): its
/// hash with the hash function of its signature algorithm.
fn tls_server_end_point(cert: &[u8]) -> Option<Vec<u8>> {
    let (0x30, certificate, _) = der(cert)? else {
        return None;
    };
    let (_, _tbs, rest) = der(certificate)?;
    let (0x30, algorithm, _) = der(rest)? else {
        return None;
    };
    let (0x06, oid, params) = der(algorithm)? else {
        return None;
    };
    Some(match signature_hash(oid, params)? {
        Hash::Sha224 => sha2::Sha224::digest(cert).to_vec(),
        Hash::Sha256 => sha2::Sha256::digest(cert).to_vec(),
        Hash::Sha384 => sha2::Sha384::digest(cert).to_vec(),
        Hash::Sha512 => sha2::Sha512::digest(cert).to_vec(),
    })
}

/// Connects to the PostgreSQL server of `url` with its TLS parameters, as libpq would:
/// `prefer` retries without TLS when the handshake fails, `allow` retries with TLS when the
/// server refuses a plain connection.
pub(crate) fn connect(url: &str) -> Result<Client, StoreError> {
    let (rest, params) = split_url(url)?;
    let mut config: Config = rest.parse()?;
    let attempts: &[WireMode] = match params.mode {
        SslMode::Disable => &[WireMode::Disable],
        SslMode::Allow => &[WireMode::Disable, WireMode::Require],
        SslMode::Prefer => &[WireMode::Prefer, WireMode::Disable],
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => &[WireMode::Require],
    };
    let mut last = None;
    for (n, &wire) in attempts.iter().enumerate() {
        let tls = MakeRustls::new(&params)?;
        config.ssl_mode(wire);
        match config.connect(tls.clone()) {
            Ok(client) => return Ok(client),
            Err(err) => {
                if let Some(failure) = tls.failure() {
                    last = Some(tls_error(failure));
                } else {
                    last = Some(StoreError::from(err));
                }
                let retry = match params.mode {
                    SslMode::Prefer => tls.handshake_failed(),
                    // Whatever the plain attempt failed on (a pg_hba line for TLS only, a
                    // password the plain line asks for), TLS may succeed.
                    SslMode::Allow => true,
                    _ => false,
                };
                if !retry || n + 1 == attempts.len() {
                    break;
                }
            }
        }
    }
    Err(last.unwrap_or_else(|| tls_error("no connection attempt was made".to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(url: &str) -> (String, TlsParams) {
        split_url(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    /// The TLS parameters leave the URL; the others stay as they were written.
    #[test]
    fn tls_parameters_are_taken_out_of_the_url() {
        let (rest, p) = params(
            "postgres://u:p@db.example:5432/reports?options=-csearch_path%3Dx&sslmode=verify-full\
             &sslrootcert=%2Fetc%2Fca.pem&sslcert=/c.pem&sslkey=/k.pem&sslsni=0&connect_timeout=5",
        );
        assert_eq!(
            rest,
            "postgres://u:p@db.example:5432/reports?options=-csearch_path%3Dx&connect_timeout=5"
        );
        assert_eq!(
            p,
            TlsParams {
                mode: SslMode::VerifyFull,
                roots: Some(Roots::File(PathBuf::from("/etc/ca.pem"))),
                cert: Some(PathBuf::from("/c.pem")),
                key: Some(PathBuf::from("/k.pem")),
                sni: false,
                versions: (2, 3),
            }
        );
        let (rest, p) = params("postgres://u@h/db?sslmode=require");
        assert_eq!(
            (rest.as_str(), p.mode),
            ("postgres://u@h/db", SslMode::Require)
        );
        let (_, p) = params("postgres://u@h/db");
        assert_eq!((p.mode, p.roots, p.sni), (SslMode::Prefer, None, true));
        let (_, p) = params("postgres://u@h/db?sslmode=disable&sslmode=verify-ca");
        assert_eq!(p.mode, SslMode::VerifyCa);
    }

    /// libpq: sslrootcert=system means verify-full, and weaker modes are refused.
    #[test]
    fn system_roots_mean_verify_full() {
        let (_, p) = params("postgres://u@h/db?sslrootcert=system");
        assert_eq!(
            (p.mode, p.roots),
            (SslMode::VerifyFull, Some(Roots::System))
        );
        for weak in ["require", "verify-ca", "prefer"] {
            let err = split_url(&format!(
                "postgres://u:secret@h/db?sslmode={weak}&sslrootcert=system"
            ))
            .unwrap_err()
            .to_string();
            assert!(err.contains(&format!("sslmode '{weak}'")), "{err}");
            assert!(err.contains("verify-full"), "{err}");
            assert!(!err.contains("secret"), "{err}");
        }
    }

    /// A password given as a parameter is never shown, nor one in the user part when the
    /// query holds an `@`.
    #[test]
    fn passwords_are_not_shown() {
        let url = super::super::DbUrl::Postgres(
            "postgres://u:pw1@h/db?password=pw2&sslrootcert=/a@b/ca.crt&sslmode=verify-ca"
                .to_owned(),
        )
        .to_string();
        assert_eq!(
            url,
            "postgres://u@h/db?sslrootcert=/a@b/ca.crt&sslmode=verify-ca"
        );
    }

    /// Names found in a certificate are shown as written.
    #[test]
    fn presented_names_read_plainly() {
        assert_eq!(presented_name("DnsName(\"localhost\")"), "localhost");
        assert_eq!(presented_name("IpAddress(0::1)"), "::1");
        assert_eq!(presented_name("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(presented_name("other"), "other");
    }

    /// Wrong values are named, quoted, and the password never shows.
    #[test]
    fn wrong_values_are_named() {
        for (url, expect) in [
            (
                "postgres://u:secret@h/db?sslmode=verify_full",
                "sslmode 'verify_full' is not one of",
            ),
            ("postgres://u:secret@h/db?sslsni=yes", "sslsni 'yes'"),
            (
                "postgres://u:secret@h/db?ssl_min_protocol_version=TLSv1.4",
                "ssl_min_protocol_version 'TLSv1.4' is not one of",
            ),
            (
                "postgres://u:secret@h/db?ssl_max_protocol_version=TLSv1.1",
                "only TLSv1.2 and TLSv1.3",
            ),
            (
                "postgres://u:secret@h/db?ssl_min_protocol_version=tlsv1.3&ssl_max_protocol_version=TLSv1.2",
                "ssl_min_protocol_version is above ssl_max_protocol_version",
            ),
            (
                "postgres://u:secret@h/db?sslcert=/c.pem",
                "sslcert and sslkey go together",
            ),
            (
                "postgres://u:secret@h/db?sslrootcert=%zz",
                "sslrootcert '%zz'",
            ),
        ] {
            let err = split_url(url).unwrap_err().to_string();
            assert!(err.contains(expect), "{url}: {err}");
            assert!(!err.contains("secret"), "{url}: {err}");
        }
    }

    /// The channel binding hash follows the certificate's signature algorithm (RFC 5929
    /// §4.1), SHA-1 and MD5 becoming SHA-256, and RSASSA-PSS reading its parameters.
    #[test]
    fn channel_binding_hash_follows_the_signature_algorithm() {
        let rsa = |n: u8| vec![0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, n];
        assert_eq!(signature_hash(&rsa(11), &[]), Some(Hash::Sha256));
        assert_eq!(signature_hash(&rsa(12), &[]), Some(Hash::Sha384));
        assert_eq!(signature_hash(&rsa(13), &[]), Some(Hash::Sha512));
        assert_eq!(signature_hash(&rsa(5), &[]), Some(Hash::Sha256));
        let ecdsa384 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
        assert_eq!(signature_hash(&ecdsa384, &[]), Some(Hash::Sha384));
        // Ed25519 defines no hash: no binding.
        assert_eq!(signature_hash(&[0x2b, 0x65, 0x70], &[]), None);
        // RSASSA-PSS with SHA-384: SEQUENCE { [0] { SEQUENCE { OID sha384, NULL } } ... }
        let sha384 = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
        let mut alg = vec![0x06, sha384.len() as u8];
        alg.extend_from_slice(&sha384);
        alg.extend_from_slice(&[0x05, 0x00]);
        let mut seq = vec![0x30, alg.len() as u8];
        seq.extend_from_slice(&alg);
        let mut tagged = vec![0xa0, seq.len() as u8];
        tagged.extend_from_slice(&seq);
        let mut pss = vec![0x30, tagged.len() as u8];
        pss.extend_from_slice(&tagged);
        assert_eq!(signature_hash(&rsa(10), &pss), Some(Hash::Sha384));
        // RSASSA-PSS with default parameters (SHA-1): SHA-256.
        assert_eq!(signature_hash(&rsa(10), &[0x30, 0x00]), Some(Hash::Sha256));
    }
}
