//! `ToxicProxy`: a TCP proxy in front of a real service, whose
//! [`Toxics`] change the bytes flowing each way, as
//! Toxiproxy's proxies do.
//!
//! Each accepted connection opens one to the upstream and becomes two links,
//! one per [`Direction`](crate::toxic::Direction). Dropping the proxy (or
//! [`ToxicProxy::shutdown`]) closes the listener and every connection.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::toxic::Toxics;

/// A TCP proxy from a local address to an upstream one, with toxics.
#[must_use = "the proxy stops when this value is dropped"]
pub struct ToxicProxy {
    listen: SocketAddr,
    upstream: String,
    toxics: Toxics,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl std::fmt::Debug for ToxicProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToxicProxy")
            .field("listen", &self.listen)
            .field("upstream", &self.upstream)
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
        let listener = TcpListener::bind(listen).await?;
        let proxy = ToxicProxy {
            listen: listener.local_addr()?,
            upstream: upstream.into(),
            toxics,
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
        };
        proxy.tasks.spawn(accept_loop(
            listener,
            proxy.upstream.clone(),
            proxy.stop.clone(),
            proxy.tasks.clone(),
        ));
        Ok(proxy)
    }

    /// The address the proxy really listens on.
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    /// The upstream address, as given.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The proxy's toxics.
    pub fn toxics(&self) -> &Toxics {
        &self.toxics
    }

    /// Closes the listener and every connection, and waits until every
    /// socket is closed.
    pub async fn shutdown(self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

impl Drop for ToxicProxy {
    fn drop(&mut self) {
        self.stop.cancel();
        self.tasks.close();
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: String,
    stop: CancellationToken,
    tasks: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        if let Ok((client, _peer)) = accepted {
            let stop = stop.clone();
            tasks.spawn(forward(client, upstream.clone(), stop));
        }
    }
}

/// Pass-through only, for now: no toxic is applied yet.
async fn forward(mut client: TcpStream, upstream: String, stop: CancellationToken) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    tokio::select! {
        () = stop.cancelled() => {}
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
    }
}
