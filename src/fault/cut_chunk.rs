//! `cut-chunk`: a chunked body closed mid-chunk.

use serde::Deserialize;

use crate::fault::{BoxFuture, Misbehave};
use crate::journal::Ending;
use crate::server::Exchange;
use crate::wire;

/// Sends a chunked response whose first chunk announces `chunk` bytes, sends
/// only `sent` of them, and closes with a FIN. Clients report an incomplete
/// chunked body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CutChunk {
    /// The size the chunk announces.
    pub chunk: usize,
    /// The bytes of it actually sent; less than `chunk`.
    pub sent: usize,
}

impl Default for CutChunk {
    fn default() -> Self {
        CutChunk {
            chunk: 1024,
            sent: 512,
        }
    }
}

impl CutChunk {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.sent >= self.chunk {
            return Err(format!(
                "cut-chunk sends {} bytes of a {}-byte chunk, which is not a cut; make `sent` less than `chunk`",
                self.sent, self.chunk
            ));
        }
        Ok(())
    }
}

impl Misbehave for CutChunk {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            let mut bytes = wire::head(200, &[("transfer-encoding", "chunked".to_owned())]);
            bytes.extend(format!("{:x}\r\n", self.chunk).into_bytes());
            bytes.extend(wire::filler(self.sent));
            exchange
                .send_and_close(
                    &bytes,
                    format!(
                        "sent {} of a {}-byte chunk, then closed",
                        self.sent, self.chunk
                    ),
                )
                .await
        })
    }
}
