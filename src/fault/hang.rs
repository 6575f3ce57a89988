//! `hang`: read the request, never answer.

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::fault::{BoxFuture, FaultLeaf, Handling, Misbehave};
use crate::journal::Ending;

/// Accepts, reads the request, and never answers until the client goes away
/// or the server stops. Clients see their read timeout fire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Hang {}

impl Misbehave for Hang {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            exchange.did("read the request, never answered");
            exchange.conn.until_client_leaves().await
        })
    }
}

impl FaultLeaf for Hang {
    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::Instant;
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    const HOUR: Duration = Duration::from_secs(3600);

    #[tokio::test(start_paused = true)]
    async fn hang_reads_the_request_and_stays_silent_until_the_client_leaves() {
        let client = Builder::new().read(mock::GET).wait(HOUR).build();
        let start = Instant::now();
        let (ending, attempt) = mock::misbehave(&Hang::default(), client).await;
        assert_eq!(start.elapsed(), HOUR);
        assert_eq!(ending, Ending::ClientFin);
        assert_eq!(attempt.request_line(), Some("GET / HTTP/1.1"));
    }

    #[tokio::test(start_paused = true)]
    async fn hang_ends_with_the_clients_reset() {
        let client = Builder::new()
            .read(mock::GET)
            .wait(HOUR)
            .read_error(mock::reset())
            .build();
        let (ending, _) = mock::misbehave(&Hang::default(), client).await;
        assert_eq!(ending, Ending::ClientRst);
    }
}
