//! `FaultServer`, the facade users hold, over a private engine.
//!
//! `FaultServer` owns shutdown: dropping it (or calling
//! [`FaultServer::shutdown`]) cancels the accept loop and every connection
//! task, and each task closes its sockets as it ends. The engine is split by
//! what a connection needs:
//!
//! - `accept`: the listening socket and the per-connection dispatch;
//! - `handshake`: the server's side of a TLS handshake;
//! - `http`: connections answered by hyper, for the responder faults;
//! - `conn` and `exchange`: the raw connection the transport faults act on.
//!
//! A server whose URL is `https` completes a TLS handshake on each connection
//! in `accept` (unless the connection's fault is about the handshake itself),
//! and hyper and the transport faults then act inside the encrypted stream.

mod accept;
mod handshake;
mod http;
mod http2;
mod panic;
mod relay;
mod routes;
mod slot;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use socket2::{Domain, Socket, Type};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[doc(hidden)]
pub use panic::PanicAt;

use crate::fault::{Acts, Fault, InvalidFault};
use crate::journal::{self, Attempt, Journal};
use crate::tls::Certificates;
pub(crate) use accept::accept_each;
use relay::UpstreamSettings;
use routes::RouteCounts;

/// A server could not start. Its `Debug` is its message, so `?` and
/// `.unwrap()` print it readably.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The fault's parameters are out of range or do not fit together.
    #[error(transparent)]
    InvalidFault(#[from] InvalidFault),
    /// The address could not be bound or listened on.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// A fault made by the listening socket (`blackhole`, say) cannot work
    /// on this machine.
    #[error("cannot start {fault}: {source}")]
    Listener {
        /// The fault's name.
        fault: &'static str,
        /// What failed.
        source: io::Error,
    },
    /// The throwaway TLS certificates could not be made.
    #[error("cannot make TLS certificates: {0}")]
    Certificates(String),
    /// The upstream of a proxy is no `HOST:PORT`.
    #[error("invalid upstream {address:?}: {reason}")]
    Upstream {
        /// The address given.
        address: String,
        /// What is wrong with it and what to give instead.
        reason: String,
    },
}

impl std::fmt::Debug for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// What every task of one server shares.
pub(crate) struct Site {
    fault: Fault,
    /// True when the URL is `https`: every fault that does not shape TLS
    /// itself runs behind a valid certificate.
    https: bool,
    /// True when the server speaks HTTP/2 to a client that offers it.
    http2: bool,
    /// The server's CA and the certificates it presents, when it speaks TLS.
    certificates: Option<Arc<Certificates>>,
    journal: Journal,
    stop: CancellationToken,
    tasks: TaskTracker,
    /// Where to panic on purpose, for the tests of panic handling.
    panic_at: Option<PanicAt>,
    /// How many attempts each route of a `routes` fault has taken.
    routes: RouteCounts,
    /// For a proxy: where requests go.
    upstream: Option<UpstreamSettings>,
}

/// A fault on loopback: a local server that fails in one precise way.
///
/// It binds `127.0.0.1` on a port the OS picks, and is ready when
/// [`start`](FaultServer::start) returns. Dropping it stops every task and
/// releases every port.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use outage::{Fault, FaultServer};
///
/// let server = FaultServer::start(Fault::status(503)).await?;
/// let response = reqwest::get(server.url()).await?;
/// assert_eq!(response.status(), 503);
/// assert_eq!(server.journal().count(), 1);
/// # Ok(()) }
/// ```
#[must_use = "the server stops when this value is dropped"]
pub struct FaultServer {
    addr: SocketAddr,
    serving: Option<SocketAddr>,
    /// The CA's certificate in PEM, for a server whose URL is `https`.
    ca_pem: Option<String>,
    journal: Journal,
    stop: CancellationToken,
    tasks: TaskTracker,
    /// Sockets that must stay open as long as the fault, such as a reserved
    /// port for `refuse`.
    _held: Vec<Socket>,
}

impl std::fmt::Debug for FaultServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultServer")
            .field("addr", &self.addr)
            .field("serving", &self.serving)
            .finish()
    }
}

/// Settings for a [`FaultServer`]; defaults are written down in [`FaultServer::builder`].
#[must_use = "a builder does nothing until `start` is called"]
pub struct FaultServerBuilder {
    fault: Fault,
    port: u16,
    tls: bool,
    http2: bool,
    journal_capacity: usize,
    journal_bytes: usize,
    observer: Option<journal::Observer>,
    panic_at: Option<PanicAt>,
    upstream: Option<UpstreamSettings>,
}

impl FaultServerBuilder {
    /// Listens on this port instead of one the OS picks (default: 0, any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Serves the fault behind TLS, on an `https` URL, with a certificate
    /// signed by the server's own CA (default: false; the faults of the TLS
    /// family are always `https`).
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// Serves HTTP/2 as well as HTTP/1.1 (default: false; the `h2-*` faults
    /// always do): without TLS, to a client that starts with HTTP/2's
    /// preface (prior knowledge, as `curl --http2-prior-knowledge` does);
    /// with TLS, to one that offers `h2` in ALPN. Any other client is
    /// served HTTP/1.1, and an `h2-*` fault answers it
    /// `505 HTTP Version Not Supported`. Each HTTP/2 stream is an attempt.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use outage::{Fault, FaultServer};
    ///
    /// let refused_once = Fault::sequence([Fault::named("h2-refused-stream")?, Fault::ok()]);
    /// let server = FaultServer::builder(refused_once).http2(true).start().await?;
    /// let client = reqwest::Client::builder().http2_prior_knowledge().build()?;
    /// // reqwest retries a refused stream on its own: the journal shows both.
    /// assert_eq!(client.get(server.url()).send().await?.status(), 200);
    /// assert_eq!(server.journal().count(), 2);
    /// # Ok(()) }
    /// ```
    pub fn http2(mut self, http2: bool) -> Self {
        self.http2 = http2;
        self
    }

    /// Stores at most this many attempts in the journal (default: 10,000).
    pub fn journal_capacity(mut self, attempts: usize) -> Self {
        self.journal_capacity = attempts;
        self
    }

    /// Stores at most about this many bytes of attempts in the journal,
    /// letting the oldest go first (default: 32 MiB, [`journal::DEFAULT_MAX_BYTES`]).
    /// Each request head is journaled up to [`journal::HEAD_PREFIX_BYTES`].
    pub fn journal_bytes(mut self, bytes: usize) -> Self {
        self.journal_bytes = bytes;
        self
    }

    /// Calls `observer` with each attempt as it ends (default: none).
    pub fn on_attempt(mut self, observer: impl Fn(&Attempt) + Send + Sync + 'static) -> Self {
        self.observer = Some(Box::new(observer));
        self
    }

    /// Makes the server a proxy in front of `address` (`host:port`, such as
    /// `127.0.0.1:5432`), the real service: each request's fault then acts
    /// on the real exchange. `ok` passes requests and responses through
    /// byte for byte; the faults that shape a response (`truncate`, `drip`,
    /// `bandwidth`, `slicer`, `limit-data`, `slow-headers`, `slow-close`,
    /// `cut-chunk`, `reset` after body bytes) act on the upstream's real
    /// response; every other fault answers in the upstream's place, which
    /// never sees the request. Each attempt's [`UpstreamLeg`](crate::UpstreamLeg)
    /// says how the upstream was reached. Default: no upstream.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use outage::{Fault, FaultServer};
    ///
    /// let service = FaultServer::start(Fault::status(201)).await?;
    /// // Fail once, then pass the real answer through.
    /// let fault = Fault::sequence([Fault::status(503), Fault::ok()]);
    /// let proxy = FaultServer::builder(fault).upstream(service.addr().to_string()).start().await?;
    /// let client = reqwest::Client::new();
    /// assert_eq!(client.get(proxy.url()).send().await?.status(), 503);
    /// assert_eq!(client.get(proxy.url()).send().await?.status(), 201);
    /// assert_eq!(service.journal().count(), 1, "the service saw only the second request");
    /// # Ok(()) }
    /// ```
    pub fn upstream(mut self, address: impl Into<String>) -> Self {
        let bad_gateway = self.upstream.as_ref().is_some_and(|u| u.bad_gateway);
        self.upstream = Some(UpstreamSettings {
            address: address.into(),
            bad_gateway,
        });
        self
    }

    /// For a proxy, answers `502 Bad Gateway` when the upstream cannot be
    /// reached (default: false, the client's connection closes at once, as
    /// Toxiproxy's does).
    pub fn bad_gateway(mut self, answer: bool) -> Self {
        if let Some(upstream) = &mut self.upstream {
            upstream.bad_gateway = answer;
        }
        self
    }

    /// Makes every connection panic at `at`, to test that panics are caught.
    #[doc(hidden)]
    pub fn panic_at(mut self, at: PanicAt) -> Self {
        self.panic_at = Some(at);
        self
    }

    /// Binds, starts serving, and returns once connections can arrive.
    pub async fn start(self) -> Result<FaultServer, ServerError> {
        let fault = self.fault;
        fault.validate()?;
        if let Some(upstream) = &self.upstream {
            relay::check_address(&upstream.address)?;
        }
        if let Some(why) = fault.why_not_behind_tls().filter(|_| self.tls) {
            let reason = format!("tls(true) does not apply: {why}; leave tls off");
            return Err(InvalidFault::new(fault.name(), reason).into());
        }
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let bind_error = |source| ServerError::Bind { addr, source };
        let https = self.tls || fault.is_tls();
        let http2 = self.http2 || fault.is_http2();
        if let Some(upstream) = self.upstream.as_ref().filter(|_| http2) {
            return Err(match fault.is_http2() {
                true => InvalidFault::new(
                    fault.name(),
                    "it acts on HTTP/2, and a proxy serves HTTP/1.1 only; serve it without an upstream",
                )
                .into(),
                false => ServerError::Upstream {
                    address: upstream.address.clone(),
                    reason: "a proxy serves HTTP/1.1 only, so http2(true) (--http2) does not apply; leave it off".to_owned(),
                },
            });
        }
        let certificates = match https {
            true => Some(Arc::new(
                Certificates::new(&fault.leaves(https), http2)
                    .map_err(|e| ServerError::Certificates(e.to_string()))?,
            )),
            false => None,
        };
        let journal = Journal::new(self.journal_capacity, self.journal_bytes, self.observer);
        let stop = CancellationToken::new();
        let tasks = TaskTracker::new();
        let serve = |fault: Fault, addr: SocketAddr| {
            let listener = accept::listen(addr)?;
            let local = listener.local_addr()?;
            let site = Arc::new(Site {
                fault,
                https,
                http2,
                certificates: certificates.clone(),
                journal: journal.clone(),
                stop: stop.clone(),
                tasks: tasks.clone(),
                panic_at: self.panic_at,
                routes: RouteCounts::default(),
                upstream: self.upstream.clone(),
            });
            tasks.spawn(accept::accept_loop(listener, site));
            Ok::<_, io::Error>(local)
        };
        let (url_addr, serving, held) = match fault.for_attempt(0).acts() {
            Acts::Listener(listener) => {
                let socket = reserve(addr).map_err(bind_error)?;
                let url_addr = socket_addr(&socket).map_err(bind_error)?;
                let held = listener
                    .listen(socket)
                    .map_err(|source| ServerError::Listener {
                        fault: fault.name(),
                        source,
                    })?;
                let beside = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
                let serving = listener
                    .beside()
                    .map(|healthy| serve(healthy, beside))
                    .transpose()
                    .map_err(|source| ServerError::Bind {
                        addr: beside,
                        source,
                    })?;
                (url_addr, serving, held)
            }
            _ => (
                serve(fault.clone(), addr).map_err(bind_error)?,
                None,
                Vec::new(),
            ),
        };
        Ok(FaultServer {
            addr: url_addr,
            serving,
            ca_pem: certificates.map(|c| c.ca_pem().to_owned()),
            journal,
            stop,
            tasks,
            _held: held,
        })
    }
}

/// Binds `addr` without listening on it, which keeps the port reserved.
fn reserve(addr: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.bind(&addr.into())?;
    Ok(socket)
}

fn socket_addr(socket: &Socket) -> io::Result<SocketAddr> {
    socket
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("socket has no IP address"))
}

impl FaultServer {
    /// Starts a server for `fault` (a [`Fault`], or one fault's own type such
    /// as [`Truncate`](crate::fault::Truncate)) with default settings.
    pub async fn start(fault: impl Into<Fault>) -> Result<FaultServer, ServerError> {
        FaultServer::builder(fault).start().await
    }

    /// A builder for a server with non-default settings.
    pub fn builder(fault: impl Into<Fault>) -> FaultServerBuilder {
        FaultServerBuilder {
            fault: fault.into(),
            port: 0,
            tls: false,
            http2: false,
            journal_capacity: journal::DEFAULT_CAPACITY,
            journal_bytes: journal::DEFAULT_MAX_BYTES,
            observer: None,
            panic_at: None,
            upstream: None,
        }
    }

    /// The base URL clients should use, such as `http://127.0.0.1:41234`, or
    /// `https://127.0.0.1:41234` for a server that speaks TLS.
    pub fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The certificate of the server's throwaway CA in PEM, when its URL is
    /// `https`: trust it in a client, and the client meets exactly the fault
    /// (an expired certificate, a wrong host name, or any fault behind TLS).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use outage::{ErrorClass, Fault, FaultServer, TlsKind, classify};
    ///
    /// let server = FaultServer::start(Fault::named("tls-expired")?).await?;
    /// let ca = reqwest::Certificate::from_pem(server.ca_pem().unwrap().as_bytes())?;
    /// let client = reqwest::Client::builder().tls_certs_only([ca]).build()?;
    /// let error = client.get(server.url()).send().await.unwrap_err();
    /// assert_eq!(classify(&error), ErrorClass::Tls(TlsKind::Expired));
    /// # Ok(()) }
    /// ```
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The address the URL points at.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where a healthy server really listens when it differs from
    /// [`addr`](Self::addr): the new port of a `wrong-port` service.
    pub fn serving_addr(&self) -> Option<SocketAddr> {
        self.serving
    }

    /// The journal of attempts this server saw.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Stops the server and waits until every connection task has ended and
    /// every socket is closed.
    pub async fn shutdown(self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.cancel();
        self.tasks.close();
    }
}
