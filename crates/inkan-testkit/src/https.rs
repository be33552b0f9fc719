//! A real HTTPS server on 127.0.0.1 for tests of HTTPS clients (the MTA-STS policy fetch of
//! `inkan audit`): a certificate authority made at start-up with rcgen, one certificate per host
//! name chosen by SNI (issued by that authority, or self-signed to test refusal), and a canned
//! [`Reply`] per host.
//!
//! Like [`crate::DnsServer`] it runs on its own thread with its own tokio runtime, so a test may
//! block on a child process while it answers; dropping the [`HttpsServer`] stops it. It speaks
//! just enough HTTP/1.1 for one request per connection (RFC 9112): it reads the request head,
//! answers with `Content-Length` and `Connection: close`, and closes with TLS close_notify.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::ResolvesServerCertUsingSni;
use rustls::sign::CertifiedKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// What the server answers for one host.
#[derive(Clone, Debug)]
pub enum Reply {
    /// An HTTP response.
    Respond {
        /// The status code.
        status: u16,
        /// Headers besides `Content-Length` and `Connection`, which the server adds.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// Completes the TLS handshake and reads the request, then never answers.
    Hang,
}

impl Reply {
    /// `200 OK`, `Content-Type: text/plain`, with `body`.
    pub fn text(body: &str) -> Reply {
        Reply::with_type(200, "text/plain", body)
    }

    /// `status` with `Content-Type: content_type` and `body`.
    pub fn with_type(status: u16, content_type: &str, body: &str) -> Reply {
        Reply::Respond {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// `301 Moved Permanently` to `location`.
    pub fn redirect(location: &str) -> Reply {
        Reply::Respond {
            status: 301,
            headers: vec![
                ("Location".into(), location.into()),
                ("Content-Type".into(), "text/plain".into()),
            ],
            body: b"moved".to_vec(),
        }
    }
}

/// Sets up an [`HttpsServer`]: its hosts and their replies.
#[derive(Debug, Default)]
pub struct HttpsServerBuilder {
    hosts: Vec<(String, Reply, bool)>,
}

impl HttpsServerBuilder {
    /// Serves `name` with a certificate from the server's authority ([`HttpsServer::ca_pem`]).
    pub fn host(mut self, name: &str, reply: Reply) -> HttpsServerBuilder {
        self.hosts.push((name.to_ascii_lowercase(), reply, true));
        self
    }

    /// Serves `name` with a self-signed certificate that no authority vouches for.
    pub fn untrusted_host(mut self, name: &str, reply: Reply) -> HttpsServerBuilder {
        self.hosts.push((name.to_ascii_lowercase(), reply, false));
        self
    }

    /// Binds 127.0.0.1 on a free port and starts answering.
    pub fn start(self) -> io::Result<HttpsServer> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).map_err(io::Error::other)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "inkan test authority");
        let ca =
            CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(io::Error::other)?)
                .map_err(io::Error::other)?;
        let mut resolver = ResolvesServerCertUsingSni::new();
        let mut replies = HashMap::new();
        for (name, reply, trusted) in self.hosts {
            let key = KeyPair::generate().map_err(io::Error::other)?;
            let params = CertificateParams::new(vec![name.clone()]).map_err(io::Error::other)?;
            let cert = if trusted {
                params.signed_by(&key, &ca)
            } else {
                params.self_signed(&key)
            }
            .map_err(io::Error::other)?;
            let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
            let signer = provider
                .key_provider
                .load_private_key(key_der)
                .map_err(io::Error::other)?;
            let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
            resolver
                .add(&name, CertifiedKey::new(chain, signer))
                .map_err(io::Error::other)?;
            replies.insert(name, reply);
        }
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(resolver));
        let listener = StdTcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(AtomicUsize::new(0));
        let (stop_tx, stop_rx) = oneshot::channel();
        let state = Arc::new(State {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            replies,
            requests: Arc::clone(&requests),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("inkan-test-https".into())
            .spawn(move || runtime.block_on(serve(listener, state, stop_rx)))?;
        Ok(HttpsServer {
            addr,
            ca_pem: ca.pem(),
            requests,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

/// A running HTTPS server on 127.0.0.1; stops when dropped.
#[derive(Debug)]
pub struct HttpsServer {
    addr: SocketAddr,
    ca_pem: String,
    requests: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl HttpsServer {
    /// A builder with no host yet.
    pub fn builder() -> HttpsServerBuilder {
        HttpsServerBuilder::default()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The test authority's certificate, PEM: the trust anchor for the hosts added with
    /// [`HttpsServerBuilder::host`].
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// How many requests it has read (handshakes that failed are not counted).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct State {
    acceptor: tokio_rustls::TlsAcceptor,
    replies: HashMap<String, Reply>,
    requests: Arc<AtomicUsize>,
}

async fn serve(listener: StdTcpListener, state: Arc<State>, mut stop: oneshot::Receiver<()>) {
    let Ok(listener) = TcpListener::from_std(listener) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => {
                if let Ok((tcp, _)) = accepted {
                    tokio::spawn(connection(tcp, Arc::clone(&state)));
                }
            }
        }
    }
}

/// One connection: handshake, request head, reply, close. Errors end the connection quietly:
/// the client under test reports them.
async fn connection(tcp: tokio::net::TcpStream, state: Arc<State>) {
    let Ok(mut tls) = state.acceptor.accept(tcp).await else {
        return;
    };
    let mut request = Vec::new();
    let mut chunk = [0u8; 2048];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        match tls.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
    }
    state.requests.fetch_add(1, Ordering::SeqCst);
    let host = tls.get_ref().1.server_name().unwrap_or("").to_owned();
    let reply = state.replies.get(&host).cloned().unwrap_or(Reply::Respond {
        status: 421,
        headers: Vec::new(),
        body: Vec::new(),
    });
    match reply {
        Reply::Hang => tokio::time::sleep(Duration::from_secs(3600)).await,
        Reply::Respond {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            ));
            let _ = tls.write_all(head.as_bytes()).await;
            let _ = tls.write_all(&body).await;
            let _ = tls.shutdown().await;
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        421 => "Misdirected Request",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
