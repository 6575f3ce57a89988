//! `empty-reply`: close without answering.

use serde::Deserialize;

use crate::conn::Exchange;
use crate::fault::{BoxFuture, Fault, FaultLeaf, Handling, Misbehave};
use crate::journal::Ending;

/// Reads the request, then closes the connection with a FIN without sending a
/// byte. Clients report an empty reply or a closed connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
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
