//! The listening socket, the accept loop, and the dispatch of each connection
//! to hyper or to a transport fault, after a TLS handshake where one is due.

use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::conn::Conn;
use crate::conn::Exchange;
use crate::conn::Stream;
use crate::conn::wire;
use crate::fault::{Acts, BoxFuture, Chosen, Misbehave, Tls};
use crate::journal::{Ending, Traffic};
use crate::server::handshake::handshake;
use crate::server::panic::{CatchUnwind, ON_PURPOSE, PanicAt};
use crate::server::{Site, http, http2, relay};

/// Pending connections the kernel queues before the server accepts them.
const BACKLOG: u32 = 1024;

/// Pause after a failed accept (such as running out of file descriptors), so
/// that a persistent failure does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

pub(crate) fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // Lets `--port N` restart at once while old connections sit in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

pub(crate) async fn accept_loop(listener: TcpListener, site: Arc<Site>) {
    accept_each(&listener, &site.stop, |stream, peer| {
        site.tasks.spawn(guarded(stream, peer, site.clone()));
    })
    .await;
}

/// Accepts connections until `stop`, handing each to `serve`. A failed
/// accept (out of file descriptors, say) waits a moment before the next, so
/// that a persistent failure does not spin.
pub(crate) async fn accept_each(
    listener: &TcpListener,
    stop: &CancellationToken,
    mut serve: impl FnMut(TcpStream, SocketAddr),
) {
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => serve(stream, peer),
            Err(_) => tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
            },
        }
    }
}

/// Serves one connection; a panic that nothing closer caught (in a response
/// body, say) still ends the connection's open attempt in the journal.
async fn guarded(stream: TcpStream, peer: SocketAddr, site: Arc<Site>) {
    let connection = site.journal.open_connection();
    let journal = site.journal.clone();
    let served = CatchUnwind(pin!(serve_connection(stream, peer, connection, site))).await;
    if let Err(panic) = served {
        // Unwinding dropped the socket, which closed the connection.
        journal.abandon(
            connection,
            &format!("the connection task panicked ({panic}); closed"),
        );
    }
}

async fn serve_connection(stream: TcpStream, peer: SocketAddr, connection: u64, site: Arc<Site>) {
    let mut log = site.journal.begin(connection, peer);
    let chosen = site.fault.for_attempt(log.index());
    let stream = match chosen.tls(site.https) {
        Tls::Raw => Stream::Plain(stream),
        Tls::Present(leaf) => match handshake(stream, leaf, &mut log, &site).await {
            Ok(tls) => Stream::Tls(Box::new(tls)),
            Err(ending) => return log.finish(ending, Traffic::default()),
        },
    };
    let mut conn = Conn::new(stream);
    // Each protocol's future is boxed, so a connection's task holds only
    // the one it runs: inline, every task would be as large as the largest
    // (HTTP/2's), held connections included.
    if let Some(upstream) = &site.upstream {
        return Box::pin(relay::serve(conn, log, connection, peer, &site, upstream)).await;
    }
    let fault = chosen.fault();
    let http2 = match sniffs(chosen, &site) {
        false => false,
        true => match speaks_http2(&mut conn, &site).await {
            Ok(http2) => http2,
            Err(ending) => {
                log.action("client left before sending a full request");
                return log.finish(ending, conn.meter().take());
            }
        },
    };
    match chosen.acts() {
        // The first stream's fault acts, a transport fault by taking the
        // connection over.
        _ if http2 && !fault.acts_before_request() => {
            let settings = chosen.http2_settings();
            Box::pin(http2::serve(conn, log, connection, peer, &site, settings)).await;
        }
        // hyper reads the request head; a transport fault chosen by it (a
        // route's) takes the raw connection back.
        Acts::Respond(_) | Acts::Route(_) | Acts::Stream(_) => {
            Box::pin(http::serve(conn, log, connection, peer, &site)).await;
        }
        Acts::Misbehave(_) if fault.is_http2() && !http2 => {
            let exchange = Exchange::new(conn, None, log);
            misbehave(&NeedsHttp2(fault.name()), exchange, &site).await;
        }
        Acts::Misbehave(fault) => misbehave(fault, Exchange::new(conn, None, log), &site).await,
        Acts::Listener(_) => {
            // Validation keeps listener faults out of sequences, and servers
            // for listener faults never accept; close politely regardless.
            let meter = conn.meter();
            drop(conn);
            log.action("no connection fault to apply");
            log.finish(Ending::ServerFin, meter.take());
        }
    }
}

/// True when the server must see whether the client speaks HTTP/2 before
/// the fault acts: on a server that speaks it, unless the fault acts before
/// any request (an HTTP/2 fault among those still asks, to answer an
/// HTTP/1.1 client that it needs HTTP/2).
fn sniffs(chosen: Chosen<'_>, site: &Site) -> bool {
    let fault = chosen.fault();
    site.http2
        && match chosen.acts() {
            Acts::Respond(_) | Acts::Route(_) | Acts::Stream(_) => true,
            Acts::Misbehave(_) => fault.is_http2() || !fault.acts_before_request(),
            Acts::Listener(_) => false,
        }
}

/// An HTTP/2 fault's answer to a client that speaks HTTP/1.1.
struct NeedsHttp2(&'static str);

impl Misbehave for NeedsHttp2 {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            let version = match exchange.request().await {
                Ok(head) => head.version().to_owned(),
                Err(ending) => return ending,
            };
            let headers = [("content-type", "text/plain".to_owned())];
            let response = wire::response(505, &headers, http::NEEDS_HTTP2);
            let action = http::needs_http2_action(self.0, &version);
            exchange.send_and_close(&response, action).await
        })
    }
}

/// True when the connection is to be served over HTTP/2: on a server that
/// speaks it, the TLS handshake agreed on `h2` (ALPN), or, without TLS, the
/// client began with HTTP/2's preface (prior knowledge). Any other client
/// is served HTTP/1.1.
async fn speaks_http2(conn: &mut Conn, site: &Site) -> Result<bool, Ending> {
    if !site.http2 {
        return Ok(false);
    }
    match conn.is_tls() {
        true => Ok(conn.agreed_http2()),
        false => conn.starts_with_http2_preface().await,
    }
}

/// Runs a transport fault to its end (or until the server stops), closes the
/// connection, and journals how it ended. A fault that panics is journaled as
/// such and its client answered `500`, or cut off if bytes were sent.
pub(crate) async fn misbehave(fault: &dyn Misbehave, mut exchange: Exchange, site: &Site) {
    let hook = site.panic_at;
    let ran = {
        let run = CatchUnwind(pin!(async {
            if hook == Some(PanicAt::Misbehave) {
                panic!("{ON_PURPOSE}");
            }
            fault.run(&mut exchange).await
        }));
        tokio::select! {
            ran = run => Some(ran),
            () = site.stop.cancelled() => None,
        }
    };
    let ending = match ran {
        Some(Ok(ending)) => ending,
        Some(Err(panic)) => answer_panic(&mut exchange, &panic, &site.stop).await,
        None => Ending::ServerStopped,
    };
    let (conn, log) = exchange.into_parts();
    let meter = conn.meter();
    // Closing here sends the FIN, or the RST that a `reset` armed; the journal
    // is written after, so a settled journal means a closed socket.
    drop(conn);
    log.finish(ending, meter.take());
}

/// Journals a transport fault's panic, answers `500` if the client has had no
/// byte yet, and closes.
async fn answer_panic(exchange: &mut Exchange, panic: &str, stop: &CancellationToken) -> Ending {
    let sent = exchange.conn.meter().sent();
    if sent > 0 {
        exchange.did(format!(
            "the fault panicked ({panic}) after {sent} bytes sent; closed"
        ));
        return exchange.conn.close_fin().await;
    }
    exchange.did(format!(
        "the fault panicked ({panic}); answered 500 and closed"
    ));
    let response = wire::response(500, &[], b"outage: the fault failed; see the journal\n");
    tokio::select! {
        ending = exchange.send_and_close_quietly(&response) => ending,
        () = stop.cancelled() => Ending::ServerStopped,
    }
}

#[cfg(test)]
mod tests {
    use tokio_util::task::TaskTracker;

    use super::*;
    use crate::Fault;
    use crate::journal::{DEFAULT_CAPACITY, DEFAULT_MAX_BYTES, Journal};
    use crate::server::routes::RouteCounts;

    #[tokio::test]
    async fn a_connection_task_is_small_whatever_protocol_it_may_serve() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let _client = TcpStream::connect(listener.local_addr().expect("bound"))
            .await
            .expect("connects");
        let (stream, peer) = listener.accept().await.expect("accepts");
        let site = Arc::new(Site {
            fault: Fault::ok(),
            https: false,
            http2: true,
            certificates: None,
            journal: Journal::new(DEFAULT_CAPACITY, DEFAULT_MAX_BYTES, None),
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
            panic_at: None,
            routes: RouteCounts::default(),
            upstream: None,
        });
        // Every held connection is one such task: HTTP/2's state inline
        // made each about 17 KiB.
        let task = serve_connection(stream, peer, 0, site);
        let size = std::mem::size_of_val(&task);
        assert!(size < 4096, "a connection's task takes {size} bytes");
    }
}
