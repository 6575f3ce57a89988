//! The listening socket, the accept loop, and the dispatch of each connection
//! to hyper or to a transport fault, after a TLS handshake where one is due.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::fault::{Handling, Misbehave, Tls};
use crate::journal::Ending;
use crate::server::conn::Conn;
use crate::server::handshake::handshake;
use crate::server::stream::Stream;
use crate::server::{Exchange, Site, http};

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
    loop {
        let accepted = tokio::select! {
            () = site.stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                site.tasks
                    .spawn(serve_connection(stream, peer, site.clone()));
            }
            Err(_) => tokio::select! {
                () = site.stop.cancelled() => return,
                () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
            },
        }
    }
}

async fn serve_connection(stream: TcpStream, peer: SocketAddr, site: Arc<Site>) {
    let connection = site.journal.open_connection();
    let mut log = site.journal.begin(connection, peer);
    let fault = site.fault.for_attempt(log.index());
    let stream = match fault.tls(site.https) {
        Tls::Raw => Stream::Plain(stream),
        Tls::Present(leaf) => match handshake(stream, leaf, &mut log, &site).await {
            Ok(tls) => Stream::Tls(Box::new(tls)),
            Err(ending) => return log.finish(ending, (0, 0)),
        },
    };
    let conn = Conn::new(stream);
    match fault.handling() {
        // hyper reads the request head; a transport fault chosen by it (a
        // sequence's step or a route) takes the raw connection back.
        Handling::Respond(_) | Handling::Route => {
            http::serve(conn, log, connection, peer, &site).await
        }
        Handling::Misbehave(fault) => {
            misbehave(fault, Exchange::new(conn, None, log), &site.stop).await
        }
        Handling::Listener => {
            // Validation keeps listener faults out of sequences, and servers
            // for listener faults never accept; close politely regardless.
            let meter = conn.meter();
            drop(conn);
            log.action("no connection fault to apply");
            log.finish(Ending::ServerFin, meter.take());
        }
    }
}

/// Runs a transport fault to its end (or until the server stops), closes the
/// connection, and journals how it ended.
pub(crate) async fn misbehave(
    fault: &dyn Misbehave,
    mut exchange: Exchange,
    stop: &CancellationToken,
) {
    let ending = tokio::select! {
        ending = fault.run(&mut exchange) => ending,
        () = stop.cancelled() => Ending::ServerStopped,
    };
    let (conn, log) = exchange.into_parts();
    let meter = conn.meter();
    // Closing here sends the FIN, or the RST that a `reset` armed; the journal
    // is written after, so a settled journal means a closed socket.
    drop(conn);
    log.finish(ending, meter.take());
}
