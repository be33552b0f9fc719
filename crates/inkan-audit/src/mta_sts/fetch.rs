//! Retrieving an MTA-STS policy (RFC 8461 §3.3): `GET /.well-known/mta-sts.txt` over HTTPS from
//! `mta-sts.<domain>`, with a certificate that must chain to a trusted root and name that host
//! (RFC 6125 via rustls and webpki), no redirect followed, status 200 and `text/plain` required,
//! a size limit on the body and one time limit on the whole exchange. Certificate validity
//! periods are judged at the time of a clock passed in ([`PolicyFetcher::with_clock`]), the
//! system's unless told otherwise.
//!
//! The host's addresses come from the audit's own [`Lookup`], so `--zone` and `--nameserver`
//! decide where the fetch goes, exactly as they decide every other answer. The HTTP/1.1 client
//! is deliberately minimal: one request, `Connection: close`, response framed by
//! `Content-Length`, chunked transfer coding (RFC 9112 §7.1) or the end of the connection.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use inkan_dns::{DnsError, RecordType};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::time_provider::{DefaultTimeProvider, TimeProvider};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::SharedIo;
use crate::lookup::Lookup;

/// Where RFC 8461 §3.3 puts the policy on the policy host.
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";
/// The largest policy body accepted. RFC 8461 leaves the limit to the sender; real policies are
/// a few hundred bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// The largest response head (status line and headers) accepted.
const MAX_HEAD: usize = 16 * 1024;
/// Headers parsed in a response head.
const MAX_HEADERS: usize = 64;

/// Why the trust anchors for policy fetches could not be set up.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The PEM text could not be read.
    #[error("reading PEM certificates from '{source_name}': {detail}")]
    Pem {
        /// Where the text came from (a file name).
        source_name: String,
        /// What was wrong.
        detail: String,
    },
    /// The PEM text holds no certificate.
    #[error("no CERTIFICATE block in '{0}'")]
    NoCertificate(String),
    /// A certificate cannot serve as a trust anchor.
    #[error("certificate {index} in '{source_name}' is not a usable trust anchor: {detail}")]
    Anchor {
        /// The certificate's position in the file, from 1.
        index: usize,
        /// Where it came from.
        source_name: String,
        /// What was wrong.
        detail: String,
    },
    /// rustls refused the configuration.
    #[error("setting up TLS: {0}")]
    Tls(rustls::Error),
}

/// Why a policy could not be fetched. [`FetchError::is_temporary`] tells a failure that may pass
/// on its own (timeout, DNS SERVFAIL, a 5xx answer) from a configuration error.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The policy host's address lookup failed.
    #[error("resolving the policy host failed: {0}")]
    Dns(DnsError),
    /// The policy host has no address.
    #[error("'{0}' has no A or AAAA record")]
    NoAddress(String),
    /// No address of the policy host accepted a connection.
    #[error("connecting to '{host}' at {address} failed: {source}")]
    Connect {
        /// The policy host.
        host: String,
        /// The last address tried.
        address: SocketAddr,
        /// The socket error.
        source: SharedIo,
    },
    /// The exchange did not finish in time.
    #[error("no complete answer from '{host}' within {after:?}")]
    Timeout {
        /// The policy host.
        host: String,
        /// The time limit.
        after: Duration,
    },
    /// The TLS handshake failed: most often a certificate that is expired, self-signed, issued
    /// by an unknown authority or not valid for the policy host.
    #[error("TLS with '{host}' failed: {source}")]
    Tls {
        /// The policy host.
        host: String,
        /// The error from rustls, carried in an I/O error.
        source: SharedIo,
    },
    /// The server answered with a redirect, which RFC 8461 §3.3 forbids following.
    #[error("'{url}' answered {status} redirecting to '{}'; redirects are not followed", location.as_deref().unwrap_or("(no Location)"))]
    Redirect {
        /// The policy URL.
        url: String,
        /// The 3xx status.
        status: u16,
        /// The `Location` header, if any.
        location: Option<String>,
    },
    /// The server answered with a status other than 200.
    #[error("'{url}' answered {status} {reason}")]
    Status {
        /// The policy URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// The body is not declared `text/plain`.
    #[error("'{url}' is served as '{}', not text/plain", content_type.as_deref().unwrap_or("(no Content-Type)"))]
    ContentType {
        /// The policy URL.
        url: String,
        /// The `Content-Type` header, if any.
        content_type: Option<String>,
    },
    /// The body is larger than the limit.
    #[error("'{url}' is larger than {limit} bytes")]
    TooLarge {
        /// The policy URL.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The answer is not well-formed HTTP/1.1 or not text.
    #[error("'{url}' answered with a malformed response: {detail}")]
    Malformed {
        /// The policy URL.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// The connection failed while the request or the answer was in transit.
    #[error("reading from '{host}' failed: {source}")]
    Io {
        /// The policy host.
        host: String,
        /// The socket error.
        source: SharedIo,
    },
}

impl FetchError {
    /// True for failures that may pass on their own: the audit reports them as `unknown`.
    pub fn is_temporary(&self) -> bool {
        match self {
            FetchError::Dns(e) => e.is_temporary(),
            FetchError::Timeout { .. } | FetchError::Io { .. } => true,
            FetchError::Status { status, .. } => *status >= 500,
            FetchError::Connect { source, .. } => source.kind() == std::io::ErrorKind::TimedOut,
            FetchError::NoAddress(_)
            | FetchError::Tls { .. }
            | FetchError::Redirect { .. }
            | FetchError::ContentType { .. }
            | FetchError::TooLarge { .. }
            | FetchError::Malformed { .. } => false,
        }
    }

    /// A stable token for the kind of failure, used in JSON evidence.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Dns(_) => "dns",
            FetchError::NoAddress(_) => "no-address",
            FetchError::Connect { .. } => "connect",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Tls { .. } => "tls",
            FetchError::Redirect { .. } => "redirect",
            FetchError::Status { .. } => "status",
            FetchError::ContentType { .. } => "content-type",
            FetchError::TooLarge { .. } => "too-large",
            FetchError::Malformed { .. } => "malformed",
            FetchError::Io { .. } => "io",
        }
    }
}

/// A policy body as served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// The URL asked.
    pub url: String,
    /// The address that answered.
    pub address: SocketAddr,
    /// The `Content-Type` header.
    pub content_type: String,
    /// The body, as text.
    pub body: String,
}

/// Fetches MTA-STS policies: the trust anchors (the Mozilla roots of `webpki-roots`, plus any
/// added), the port (443 unless a test serves elsewhere) and the time limit for one fetch.
#[derive(Clone, Debug)]
pub struct PolicyFetcher {
    roots: RootCertStore,
    clock: Arc<dyn TimeProvider>,
    tls: Arc<rustls::ClientConfig>,
    port: u16,
    timeout: Duration,
    max_body: usize,
}

impl PolicyFetcher {
    /// A fetcher trusting the Mozilla root programme's authorities, on port 443, with a 10 s
    /// limit per fetch.
    pub fn new() -> Result<PolicyFetcher, TrustError> {
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let clock: Arc<dyn TimeProvider> = Arc::new(DefaultTimeProvider);
        Ok(PolicyFetcher {
            tls: client_config(roots.clone(), Arc::clone(&clock))?,
            clock,
            roots,
            port: 443,
            timeout: Duration::from_secs(10),
            max_body: MAX_BODY,
        })
    }

    /// Also trusts the certificates in `pem` (a private CA, or a test's), read from
    /// `source_name`. Returns how many were added.
    pub fn add_trust_anchors_pem(
        &mut self,
        pem: &[u8],
        source_name: &str,
    ) -> Result<usize, TrustError> {
        let mut added = 0;
        for (i, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let cert = cert.map_err(|e| TrustError::Pem {
                source_name: source_name.to_owned(),
                detail: e.to_string(),
            })?;
            self.roots.add(cert).map_err(|e| TrustError::Anchor {
                index: i + 1,
                source_name: source_name.to_owned(),
                detail: e.to_string(),
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(TrustError::NoCertificate(source_name.to_owned()));
        }
        self.tls = client_config(self.roots.clone(), Arc::clone(&self.clock))?;
        Ok(added)
    }

    /// Judges certificate validity periods at the time `clock` gives instead of the system
    /// clock's.
    pub fn with_clock(mut self, clock: Arc<dyn TimeProvider>) -> Result<PolicyFetcher, TrustError> {
        self.tls = client_config(self.roots.clone(), Arc::clone(&clock))?;
        self.clock = clock;
        Ok(self)
    }

    /// Connects to `port` instead of 443 (for test servers).
    pub fn with_port(mut self, port: u16) -> PolicyFetcher {
        self.port = port;
        self
    }

    /// Gives up on a fetch (connect, handshake, request and answer) after `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> PolicyFetcher {
        self.timeout = timeout;
        self
    }

    /// The time limit for one fetch.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The policy URL for `domain`.
    pub fn url(&self, domain: &str) -> String {
        if self.port == 443 {
            format!("https://mta-sts.{domain}{POLICY_PATH}")
        } else {
            format!("https://mta-sts.{domain}:{}{POLICY_PATH}", self.port)
        }
    }

    /// Fetches the policy of `domain`, resolving `mta-sts.<domain>` through `lookup`.
    pub async fn fetch(&self, lookup: &Lookup<'_>, domain: &str) -> Result<Fetched, FetchError> {
        let host = format!("mta-sts.{domain}");
        let addresses = resolve(lookup, &host).await?;
        match tokio::time::timeout(self.timeout, self.get(&host, &addresses, domain)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout {
                host,
                after: self.timeout,
            }),
        }
    }

    async fn get(
        &self,
        host: &str,
        addresses: &[IpAddr],
        domain: &str,
    ) -> Result<Fetched, FetchError> {
        let mut last = FetchError::NoAddress(host.to_owned());
        for ip in addresses {
            let address = SocketAddr::new(*ip, self.port);
            match TcpStream::connect(address).await {
                Ok(tcp) => return self.exchange(host, address, tcp, domain).await,
                Err(e) => {
                    last = FetchError::Connect {
                        host: host.to_owned(),
                        address,
                        source: Arc::new(e),
                    }
                }
            }
        }
        Err(last)
    }

    async fn exchange(
        &self,
        host: &str,
        address: SocketAddr,
        tcp: TcpStream,
        domain: &str,
    ) -> Result<Fetched, FetchError> {
        let url = self.url(domain);
        let tls_error = |e: std::io::Error| FetchError::Tls {
            host: host.to_owned(),
            source: Arc::new(e),
        };
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| tls_error(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls));
        let mut stream = connector.connect(name, tcp).await.map_err(tls_error)?;
        let io_error = |e: std::io::Error| FetchError::Io {
            host: host.to_owned(),
            source: Arc::new(e),
        };
        let authority = if self.port == 443 {
            host.to_owned()
        } else {
            format!("{host}:{}", self.port)
        };
        let request = format!(
            "GET {POLICY_PATH} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: inkan/{}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(io_error)?;
        stream.flush().await.map_err(io_error)?;
        let response = read_response(&mut stream, &url, self.max_body)
            .await
            .map_err(|e| match e {
                ReadError::Io(e) => io_error(e),
                ReadError::Fetch(e) => e,
            })?;
        Ok(Fetched {
            url,
            address,
            content_type: response.0,
            body: response.1,
        })
    }
}

fn client_config(
    roots: RootCertStore,
    clock: Arc<dyn TimeProvider>,
) -> Result<Arc<rustls::ClientConfig>, TrustError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_details(provider, clock)
        .with_safe_default_protocol_versions()
        .map_err(TrustError::Tls)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The addresses of `host`, IPv4 first. An address family that fails is ignored when the other
/// answers.
async fn resolve(lookup: &Lookup<'_>, host: &str) -> Result<Vec<IpAddr>, FetchError> {
    let (a, aaaa) = futures::join!(
        lookup.get(host, RecordType::A),
        lookup.get(host, RecordType::Aaaa)
    );
    let mut addresses = Vec::new();
    let mut failure = None;
    match a {
        Ok(answer) => addresses.extend(answer.ipv4().map(IpAddr::V4)),
        Err(e) => failure = Some(e),
    }
    match aaaa {
        Ok(answer) => addresses.extend(answer.ipv6().map(IpAddr::V6)),
        Err(e) => failure = failure.or(Some(e)),
    }
    match (addresses.is_empty(), failure) {
        (false, _) => Ok(addresses),
        (true, Some(e)) => Err(FetchError::Dns(e)),
        (true, None) => Err(FetchError::NoAddress(host.to_owned())),
    }
}

enum ReadError {
    Io(std::io::Error),
    Fetch(FetchError),
}

/// Reads more bytes into `buf`; `Ok(false)` at the end of the stream. A peer that closes
/// without TLS close_notify is taken as having closed: the body framing decides whether the
/// answer was complete.
async fn read_more<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Result<bool, ReadError> {
    let mut chunk = [0u8; 4096];
    match stream.read(&mut chunk).await {
        Ok(0) => Ok(false),
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(ReadError::Io(e)),
    }
}

/// Reads one response and returns its content type and body, or why it is not a policy.
async fn read_response<S: AsyncRead + Unpin>(
    stream: &mut S,
    url: &str,
    max_body: usize,
) -> Result<(String, String), ReadError> {
    let malformed = |detail: String| {
        ReadError::Fetch(FetchError::Malformed {
            url: url.to_owned(),
            detail,
        })
    };
    let too_large = || {
        ReadError::Fetch(FetchError::TooLarge {
            url: url.to_owned(),
            limit: max_body,
        })
    };
    let mut buf = Vec::with_capacity(4096);
    let head = loop {
        let open = read_more(stream, &mut buf).await?;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let header = |name: &str| {
                    response
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
                };
                break Head {
                    len,
                    status: response.code.unwrap_or(0),
                    reason: response.reason.unwrap_or("").to_owned(),
                    location: header("location"),
                    content_type: header("content-type"),
                    content_length: header("content-length"),
                    chunked: header("transfer-encoding")
                        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked")),
                };
            }
            Ok(httparse::Status::Partial) if !open => {
                return Err(malformed(format!(
                    "the connection closed after {} bytes, before the end of the response head",
                    buf.len()
                )));
            }
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
                return Err(malformed(format!(
                    "the response head is longer than {MAX_HEAD} bytes"
                )));
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => return Err(malformed(format!("bad response head: {e}"))),
        }
    };
    if (300..400).contains(&head.status) {
        return Err(ReadError::Fetch(FetchError::Redirect {
            url: url.to_owned(),
            status: head.status,
            location: head.location,
        }));
    }
    if head.status != 200 {
        return Err(ReadError::Fetch(FetchError::Status {
            url: url.to_owned(),
            status: head.status,
            reason: head.reason,
        }));
    }
    let is_text = head.content_type.as_deref().is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("text/plain"))
    });
    let Some(content_type) = head.content_type.clone().filter(|_| is_text) else {
        return Err(ReadError::Fetch(FetchError::ContentType {
            url: url.to_owned(),
            content_type: head.content_type,
        }));
    };
    let body = if head.chunked {
        loop {
            match dechunk(&buf[head.len..], max_body) {
                Chunks::Complete(body) => break body,
                Chunks::TooLarge => return Err(too_large()),
                Chunks::Bad(detail) => return Err(malformed(detail)),
                Chunks::Incomplete => {
                    if !read_more(stream, &mut buf).await? {
                        return Err(malformed(
                            "the connection closed inside the chunked body".into(),
                        ));
                    }
                }
            }
        }
    } else if let Some(length) = head.content_length {
        let length: usize = length
            .parse()
            .map_err(|_| malformed(format!("Content-Length '{length}' is not a number")))?;
        if length > max_body {
            return Err(too_large());
        }
        while buf.len() - head.len < length {
            if !read_more(stream, &mut buf).await? {
                return Err(malformed(format!(
                    "the connection closed after {} of {length} body bytes",
                    buf.len() - head.len
                )));
            }
        }
        buf[head.len..head.len + length].to_vec()
    } else {
        while read_more(stream, &mut buf).await? {
            if buf.len() - head.len > max_body {
                return Err(too_large());
            }
        }
        buf[head.len..].to_vec()
    };
    if body.len() > max_body {
        return Err(too_large());
    }
    let body = String::from_utf8(body)
        .map_err(|e| malformed(format!("the body is not UTF-8 text ({e})")))?;
    Ok((content_type, body))
}

/// The parts of a response head the fetch looks at.
struct Head {
    len: usize,
    status: u16,
    reason: String,
    location: Option<String>,
    content_type: Option<String>,
    content_length: Option<String>,
    chunked: bool,
}

enum Chunks {
    Complete(Vec<u8>),
    Incomplete,
    TooLarge,
    Bad(String),
}

/// Decodes a chunked body (RFC 9112 §7.1) received so far. Chunk extensions and trailers are
/// ignored.
fn dechunk(raw: &[u8], limit: usize) -> Chunks {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let Some(eol) = raw[pos..].windows(2).position(|w| w == b"\r\n") else {
            return if raw.len() - pos > 1024 {
                Chunks::Bad("a chunk-size line is longer than 1024 bytes".into())
            } else {
                Chunks::Incomplete
            };
        };
        let line = String::from_utf8_lossy(&raw[pos..pos + eol]);
        let size_text = line.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            return Chunks::Bad(format!("chunk size '{size_text}' is not hexadecimal"));
        };
        pos += eol + 2;
        if size == 0 {
            return Chunks::Complete(body);
        }
        if body.len().saturating_add(size) > limit {
            return Chunks::TooLarge;
        }
        if raw.len() < pos + size + 2 {
            return Chunks::Incomplete;
        }
        body.extend_from_slice(&raw[pos..pos + size]);
        pos += size;
        if &raw[pos..pos + 2] != b"\r\n" {
            return Chunks::Bad("a chunk does not end with CRLF".into());
        }
        pos += 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies() {
        let raw = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
        assert!(matches!(dechunk(raw, 100), Chunks::Complete(b) if b == b"hello, world"));
        assert!(matches!(dechunk(&raw[..9], 100), Chunks::Incomplete));
        assert!(matches!(dechunk(raw, 8), Chunks::TooLarge));
        assert!(matches!(dechunk(b"zz\r\n", 100), Chunks::Bad(m) if m.contains("'zz'")));
        assert!(matches!(dechunk(b"2\r\nabcd", 100), Chunks::Bad(_)));
    }

    async fn parse(raw: &[u8]) -> Result<(String, String), FetchError> {
        let mut reader = raw;
        read_response(
            &mut reader,
            "https://mta-sts.x.test/.well-known/mta-sts.txt",
            64,
        )
        .await
        .map_err(|e| match e {
            ReadError::Fetch(e) => e,
            ReadError::Io(e) => panic!("{e}"),
        })
    }

    #[tokio::test]
    async fn response_framing_and_refusals() {
        let ok = parse(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\nhelloEXTRA").await.unwrap();
        assert_eq!(ok, ("text/plain; charset=utf-8".into(), "hello".into()));
        let to_close = parse(b"HTTP/1.1 200 OK\r\nContent-Type: TEXT/PLAIN\r\n\r\nall of it")
            .await
            .unwrap();
        assert_eq!(to_close.1, "all of it");
        let chunked = parse(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n").await.unwrap();
        assert_eq!(chunked.1, "abc");
        assert!(matches!(
            parse(b"HTTP/1.1 301 Moved\r\nLocation: https://elsewhere.test/\r\n\r\n").await,
            Err(FetchError::Redirect { status: 301, location: Some(l), .. }) if l == "https://elsewhere.test/"
        ));
        assert!(matches!(
            parse(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").await,
            Err(FetchError::Status { status: 404, .. })
        ));
        assert!(matches!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>").await,
            Err(FetchError::ContentType { content_type: Some(c), .. }) if c == "text/html"
        ));
        assert!(matches!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 65\r\n\r\n")
                .await,
            Err(FetchError::TooLarge { limit: 64, .. })
        ));
        assert!(matches!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nshort").await,
            Err(FetchError::Malformed { detail, .. }) if detail.contains("5 of 9")
        ));
        assert!(matches!(
            parse(b"SMTP 220 hello\r\n\r\n").await,
            Err(FetchError::Malformed { .. })
        ));
    }

    #[test]
    fn temporary_failures() {
        let status = |status| FetchError::Status {
            url: "u".into(),
            status,
            reason: String::new(),
        };
        assert!(status(503).is_temporary());
        assert!(!status(404).is_temporary());
        assert!(
            FetchError::Timeout {
                host: "h".into(),
                after: Duration::from_secs(1)
            }
            .is_temporary()
        );
        assert!(!FetchError::NoAddress("h".into()).is_temporary());
    }
}
