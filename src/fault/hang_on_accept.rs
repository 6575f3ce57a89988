//! `hang-on-accept`: accept, never read.

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::fault::{BoxFuture, Fault, FaultLeaf, Handling, Misbehave};
use crate::journal::Ending;

/// Accepts the connection and never reads from it. The request stays unread in
/// the server's socket buffer; a client sending a large body blocks once the
/// buffers fill. Clients see their read (or write) timeout fire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct HangOnAccept {}

impl Misbehave for HangOnAccept {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            exchange.did("accepted, never read");
            exchange.conn.until_client_leaves_unread().await
        })
    }
}

impl Fault {
    /// `hang-on-accept`: accepts and never reads.
    pub fn hang_on_accept() -> Fault {
        HangOnAccept::default().into()
    }
}

impl FaultLeaf for HangOnAccept {
    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }

    fn acts_before_request(&self) -> bool {
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
    async fn hang_on_accept_never_reads_and_ends_when_the_client_leaves() {
        let hour = Duration::from_secs(3600);
        let client = Builder::new().read(mock::GET).wait(hour).build();
        let start = Instant::now();
        let (ending, attempt) = mock::misbehave(&HangOnAccept::default(), client).await;
        assert_eq!(start.elapsed(), hour);
        assert_eq!(ending, Ending::ClientFin);
        assert_eq!(attempt.request, None);
        assert_eq!(attempt.bytes_received, 0);
    }
}
