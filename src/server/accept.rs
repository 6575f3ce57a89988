//! The listening socket, the accept loop, and the dispatch of each connection
//! to hyper or to a transport fault.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use crate::fault::{Handling, Misbehave, Tls};
use crate::journal::{AttemptLog, Ending};
use crate::server::conn::{Conn, Stream, client_error_ending};
use crate::server::{Exchange, Site, http};
use crate::tls::Leaf;

/// Pending connections the kernel queues before the server accepts them.
const BACKLOG: u32 = 1024;

/// Pause after a failed accept (such as running out of file descriptors), so
/// that a persistent failure does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// Longest a client may take over its side of a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

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
        Handling::Respond(_) => http::serve(conn, log, connection, peer, &site).await,
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

/// Completes the server's side of a TLS handshake presenting `leaf`, and
/// journals how it went. The handshake is bounded by [`HANDSHAKE_TIMEOUT`]
/// and ends when the server stops.
async fn handshake(
    stream: TcpStream,
    leaf: Leaf,
    log: &mut AttemptLog,
    site: &Site,
) -> Result<TlsStream<TcpStream>, Ending> {
    // A server that presents certificates made every one of them at start.
    let Some(acceptor) = site.certificates.as_ref().and_then(|c| c.acceptor(leaf)) else {
        log.action(format!("no {leaf:?} certificate was made; closed"));
        return Err(Ending::ServerFin);
    };
    let accepted = tokio::select! {
        () = site.stop.cancelled() => {
            log.action("server stopped during the TLS handshake");
            return Err(Ending::ServerStopped);
        }
        accepted = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => accepted,
    };
    match accepted {
        Ok(Ok(tls)) => {
            let version = tls.get_ref().1.protocol_version();
            let version = version.map_or("TLS".to_owned(), |v| format!("{v:?}"));
            log.handshake(format!("TLS handshake done ({version})"));
            Ok(tls)
        }
        Ok(Err(error)) => Err(handshake_failed(&error, log)),
        Err(_) => {
            log.action(format!(
                "TLS handshake not finished after {}; closed",
                humantime::format_duration(HANDSHAKE_TIMEOUT)
            ));
            Err(Ending::ServerFin)
        }
    }
}

/// Journals a failed handshake and says which side ended it: the client, by
/// leaving or by sending an alert (such as "unknown CA"), or the server, by
/// rejecting bytes that are not a TLS ClientHello.
fn handshake_failed(error: &io::Error, log: &AttemptLog) -> Ending {
    let rustls = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    match rustls {
        Some(rustls::Error::AlertReceived(alert)) => {
            log.action(format!(
                "TLS handshake failed: the client sent alert {alert:?}"
            ));
            Ending::ClientFin
        }
        Some(other) => {
            log.action(format!("TLS handshake failed: {other}; closed"));
            Ending::ServerFin
        }
        None => {
            log.action(format!("client left during the TLS handshake ({error})"));
            client_error_ending(error)
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
