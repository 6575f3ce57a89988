//! `empty-reply`: close without answering.

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::fault::{BoxFuture, Fault, FaultLeaf, Handling, Misbehave};
use crate::journal::Ending;

/// Reads the request, then closes the connection with a FIN without sending a
/// byte. Clients report an empty reply or a closed connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EmptyReply {}

impl Misbehave for EmptyReply {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            exchange.did("closed without sending a byte");
            exchange.conn.close_fin().await
        })
    }
}

impl Fault {
    /// `empty-reply`: reads the request, closes without a byte.
    pub fn empty_reply() -> Fault {
        EmptyReply::default().into()
    }
}

impl FaultLeaf for EmptyReply {
    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[tokio::test(start_paused = true)]
    async fn empty_reply_reads_the_request_then_fins_without_a_byte() {
        let client = Builder::new().read(mock::GET).build();
        let (ending, attempt) = mock::misbehave(&EmptyReply::default(), client).await;
        assert_eq!(ending, Ending::ServerFin);
        assert_eq!(attempt.request_line(), Some("GET / HTTP/1.1"));
    }
}
