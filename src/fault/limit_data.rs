//! `limit-data`: close after a fixed number of bytes.

use serde::Deserialize;

use crate::fault::{BoxFuture, Misbehave};
use crate::journal::Ending;
use crate::server::Exchange;
use crate::wire;

/// Starts a valid `200 OK` response with a `size`-byte body and closes with a
/// FIN after `bytes` bytes of it (headers included). A cut inside the body
/// gives an incomplete body; a cut inside the headers gives an empty or
/// malformed response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitData {
    /// Bytes sent before the close.
    pub bytes: usize,
    /// Body length the full response would have.
    pub size: usize,
}

impl Default for LimitData {
    fn default() -> Self {
        LimitData {
            bytes: 100,
            size: 1024,
        }
    }
}

impl Misbehave for LimitData {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            let response = wire::ok_response(self.size);
            let cut = self.bytes.min(response.len());
            exchange
                .send_and_close(
                    &response[..cut],
                    format!(
                        "sent {cut} of {} response bytes, then closed",
                        response.len()
                    ),
                )
                .await
        })
    }
}
