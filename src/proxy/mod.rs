//! `ToxicProxy`: a TCP proxy in front of a real service, whose
//! [`Toxics`] change the bytes flowing each way, as
//! Toxiproxy's proxies do.
//!
//! Each accepted connection opens one to the upstream (if that fails, the
//! client's connection is closed at once) and becomes two links, one per
//! [`Direction`](crate::toxic::Direction): `link` reads the source into
//! chunks, runs them through the `chain` of that direction's toxics, in the
//! order they were added, and writes them to the destination. A change to
//! the toxics rewires the links of open connections without losing or
//! reordering a byte (see `chain`).
//!
//! Ends pass through as Toxiproxy's do, with one difference: when a source
//! closes, its peer gets a FIN once everything ahead of it (held by a
//! latency, say) is written, and the other direction goes on (a half
//! close). A toxic that closes the connection (`timeout`, `limit_data`,
//! `reset_peer`), or a socket error, closes both sides.
//!
//! Disabling a proxy (Toxiproxy's `enabled: false`) is [`ToxicProxy::disable`]:
//! it closes the listener and every connection. [`ToxicProxy::enable`]
//! listens again on the same address; the listener sets `SO_REUSEADDR`, so
//! the port is free again at once. The same value keeps its toxics, its
//! counters ([`ToxicProxy::stats`]) and its count of connections, which
//! seeds their draws. Dropping the proxy (or [`ToxicProxy::shutdown`])
//! closes everything too. Every wait of every task races that stop.
//!
//! Memory is bounded: reads of at most 32 KiB, and at most 128 chunks
//! between one stage of a link and the next.

mod chain;
mod connection;
mod front;
mod link;
mod stats;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::{TcpListener, TcpSocket};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::journal::Journal;
use crate::server::accept_each;
use crate::toxic::Toxics;
use connection::Shared;
use front::Front;
use stats::Counters;
pub use stats::{DirectionStats, ProxyStats};

/// A TCP proxy from a local address to an upstream one, with toxics.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// use outage::proxy::ToxicProxy;
/// use outage::toxic::{Direction, Toxic, ToxicKind, Toxics};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// let service = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let upstream = service.local_addr()?.to_string();
/// let proxy = ToxicProxy::start("127.0.0.1:0".parse().unwrap(), upstream, Toxics::default()).await?;
/// let lag = ToxicKind::Latency { latency: 50, jitter: 0 };
/// proxy.toxics().add(Toxic::new(lag, Direction::Downstream)).unwrap();
///
/// let mut client = tokio::net::TcpStream::connect(proxy.listen()).await?;
/// let (mut server, _) = service.accept().await?;
/// server.write_all(b"hello").await?;
/// let started = tokio::time::Instant::now();
/// let mut hello = [0; 5];
/// client.read_exact(&mut hello).await?;
/// assert!(started.elapsed() >= std::time::Duration::from_millis(50));
/// # Ok(()) }
/// ```
#[must_use = "the proxy stops when this value is dropped"]
pub struct ToxicProxy {
    listen: SocketAddr,
    shared: Arc<Shared>,
    /// The number the next connection gets.
    connections: Arc<AtomicU64>,
    /// The accept loop and the connections, while enabled.
    running: Option<Running>,
}

/// What stops and waits for an enabled proxy's tasks.
struct Running {
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl std::fmt::Debug for ToxicProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToxicProxy")
            .field("listen", &self.listen)
            .field("upstream", &self.shared.upstream)
            .field("enabled", &self.is_enabled())
            .finish()
    }
}

impl ToxicProxy {
    /// Listens on `listen` (port 0: one the OS picks) and forwards each
    /// connection to `upstream` (`host:port`, resolved per connection), with
    /// the toxics of `toxics` applied, now and as they change.
    pub async fn start(
        listen: SocketAddr,
        upstream: impl Into<String>,
        toxics: Toxics,
    ) -> io::Result<ToxicProxy> {
        let mut proxy = ToxicProxy {
            listen,
            shared: Arc::new(Shared {
                upstream: upstream.into(),
                toxics,
                counters: Counters::default(),
                front: Front::default(),
            }),
            connections: Arc::default(),
            running: None,
        };
        proxy.enable().await?;
        Ok(proxy)
    }

    /// The address the proxy listens on (when enabled).
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    /// The upstream address, as given.
    pub fn upstream(&self) -> &str {
        &self.shared.upstream
    }

    /// The proxy's toxics.
    pub fn toxics(&self) -> &Toxics {
        &self.shared.toxics
    }

    /// The journal of the fault of its `outage` toxic: every HTTP attempt
    /// through it since that fault was set; `None` without one, or before a
    /// connection has met it.
    pub fn journal(&self) -> Option<Journal> {
        self.shared.front.journal()
    }

    /// Bytes each way and connections, since the proxy was started.
    pub fn stats(&self) -> ProxyStats {
        self.shared.counters.snapshot()
    }

    /// True while the proxy listens.
    pub fn is_enabled(&self) -> bool {
        self.running.is_some()
    }

    /// Listens again on the same address, after [`ToxicProxy::disable`];
    /// does nothing if the proxy is enabled.
    pub async fn enable(&mut self) -> io::Result<()> {
        if self.running.is_some() {
            return Ok(());
        }
        let listener = bind(self.listen)?;
        self.listen = listener.local_addr()?;
        let running = Running {
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
        };
        running.tasks.spawn(accept_loop(
            listener,
            self.shared.clone(),
            self.connections.clone(),
            running.stop.clone(),
            running.tasks.clone(),
        ));
        self.running = Some(running);
        Ok(())
    }

    /// Closes the listener and every connection, and waits until every
    /// socket is closed; new connections are refused.
    pub async fn disable(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop.cancel();
            running.tasks.close();
            running.tasks.wait().await;
        }
    }

    /// Closes the listener and every connection, and waits until every
    /// socket is closed.
    pub async fn shutdown(mut self) {
        self.disable().await;
    }
}

impl Drop for ToxicProxy {
    fn drop(&mut self) {
        if let Some(running) = &self.running {
            running.stop.cancel();
            running.tasks.close();
        }
    }
}

/// A listener with `SO_REUSEADDR`, so that a proxy disabled and enabled
/// again gets its port back while old connections linger in `TIME_WAIT`.
fn bind(listen: SocketAddr) -> io::Result<TcpListener> {
    let socket = if listen.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(listen)?;
    socket.listen(1024)
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    connections: Arc<AtomicU64>,
    stop: CancellationToken,
    tasks: TaskTracker,
) {
    accept_each(&listener, &stop, |client, _peer| {
        let index = connections.fetch_add(1, Ordering::Relaxed);
        tasks.spawn(connection::forward(
            client,
            index,
            shared.clone(),
            stop.clone(),
        ));
    })
    .await;
}
