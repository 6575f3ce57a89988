//! `hang`: read the request, never answer.

use serde::Deserialize;

use crate::conn::Exchange;
use crate::fault::{BoxFuture, FaultLeaf, Handling, Misbehave};
use crate::journal::Ending;

/// Accepts, reads the request, and never answers until the client goes away
/// or the server stops. Clients see their read timeout fire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
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
