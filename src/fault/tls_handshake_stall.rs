//! `tls-handshake-stall`: the TLS handshake never proceeds.

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::fault::{BoxFuture, Fault, FaultLeaf, Handling, Misbehave};
use crate::journal::Ending;

/// Accepts the TCP connection on an https URL, reads the client's TLS
/// ClientHello, and never answers it, until the client leaves or the server
/// stops. Clients wait for the handshake until a timeout fires, or forever
/// when none is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsHandshakeStall {}

impl Misbehave for TlsHandshakeStall {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            exchange.did("never answered the TLS handshake");
            exchange.conn.until_client_leaves().await
        })
    }
}

impl Fault {
    /// `tls-handshake-stall`: the ClientHello read and never answered.
    pub fn tls_handshake_stall() -> Fault {
        TlsHandshakeStall::default().into()
    }
}

impl FaultLeaf for TlsHandshakeStall {
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
    async fn tls_handshake_stall_never_answers_the_client_hello_until_the_client_leaves() {
        let hour = Duration::from_secs(3600);
        let client = Builder::new().read(mock::CLIENT_HELLO).wait(hour).build();
        let start = Instant::now();
        let (ending, _) = mock::misbehave(&TlsHandshakeStall::default(), client).await;
        assert_eq!(start.elapsed(), hour);
        assert_eq!(ending, Ending::ClientFin);
    }
}
