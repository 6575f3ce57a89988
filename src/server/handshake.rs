//! The server's side of a TLS handshake, bounded in time and journaled.

use std::io;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use crate::conn::client_error_ending;
use crate::journal::{AttemptLog, Ending};
use crate::server::Site;
use crate::tls::Leaf;

/// Longest a client may take over its side of a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Completes the server's side of a TLS handshake presenting `leaf`, and
/// journals how it went. The handshake is bounded by [`HANDSHAKE_TIMEOUT`]
/// and ends when the server stops.
pub(crate) async fn handshake(
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
            let session = tls.get_ref().1;
            let version = session.protocol_version();
            let version = version.map_or("TLS".to_owned(), |v| format!("{v:?}"));
            let alpn = match session.alpn_protocol() {
                Some(b"h2") if site.http2 => ", ALPN h2",
                _ => "",
            };
            log.handshake(format!("TLS handshake done ({version}{alpn})"));
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
