//! `tls-plaintext`: plain HTTP answers on an https URL.

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::conn::wire;
use crate::fault::{BoxFuture, Fault, FaultLeaf, Handling, Misbehave};
use crate::journal::Ending;

/// The URL says https, but the server speaks plain HTTP: it reads the
/// client's TLS ClientHello, answers it with a plain `400 Bad Request`, as any
/// HTTP server on a port given the wrong scheme does, and closes. Clients
/// report a TLS protocol error ("wrong version number").
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsPlaintext {}

impl Misbehave for TlsPlaintext {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.conn.receive().await {
                exchange.did("client left before sending a byte");
                return ending;
            }
            let body = b"this port speaks plain HTTP, not TLS\n";
            let response = wire::response(400, &[("content-type", "text/plain".to_owned())], body);
            let action = "answered the TLS ClientHello with a plain HTTP 400".to_owned();
            exchange.send_and_close(&response, action).await
        })
    }
}

impl Fault {
    /// `tls-plaintext`: plain HTTP answered to a ClientHello.
    pub fn tls_plaintext() -> Fault {
        TlsPlaintext::default().into()
    }
}

impl FaultLeaf for TlsPlaintext {
    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }

    fn breaks_handshake(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[tokio::test(start_paused = true)]
    async fn tls_plaintext_answers_the_client_hello_with_a_plain_400_then_fins() {
        let response = b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\n\
                         content-length: 37\r\nconnection: close\r\n\r\n\
                         this port speaks plain HTTP, not TLS\n";
        let client = Builder::new()
            .read(mock::CLIENT_HELLO)
            .write(response)
            .build();
        let (ending, _) = mock::misbehave(&TlsPlaintext::default(), client).await;
        assert_eq!(ending, Ending::ServerFin);
    }
}
