//! `tls-handshake-drop`: the connection closes during the TLS handshake.

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::fault::{BoxFuture, Fault, FaultLeaf, Handling, Misbehave};
use crate::journal::Ending;

/// Accepts the TCP connection on an https URL, reads the client's TLS
/// ClientHello, and closes with a FIN without answering it. Clients report a
/// TLS protocol error: the peer closed in the middle of the handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsHandshakeDrop {}

impl Misbehave for TlsHandshakeDrop {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.conn.receive().await {
                exchange.did("client left before sending a byte");
                return ending;
            }
            exchange.did("closed (FIN) after the TLS ClientHello, without answering");
            exchange.conn.close_fin().await
        })
    }
}

impl Fault {
    /// `tls-handshake-drop`: the ClientHello read, then a FIN.
    pub fn tls_handshake_drop() -> Fault {
        TlsHandshakeDrop::default().into()
    }
}

impl FaultLeaf for TlsHandshakeDrop {
    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }

    fn breaks_handshake(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::Instant;
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[tokio::test(start_paused = true)]
    async fn tls_handshake_drop_waits_for_the_client_hello_then_fins_without_a_byte() {
        let second = Duration::from_secs(1);
        let client = Builder::new().wait(second).read(mock::CLIENT_HELLO).build();
        let start = Instant::now();
        let (ending, _) = mock::misbehave(&TlsHandshakeDrop::default(), client).await;
        assert_eq!(start.elapsed(), second);
        assert_eq!(ending, Ending::ServerFin);
    }
}
