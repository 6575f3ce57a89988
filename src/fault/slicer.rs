//! `slicer`: a valid response in small, delayed segments.

use std::time::Duration;

use serde::Deserialize;

use crate::fault::{BoxFuture, Misbehave};
use crate::journal::Ending;
use crate::server::Exchange;
use crate::wire;

/// Sends a valid `200 OK` response with a `size`-byte body split into
/// `segment`-byte writes, each its own TCP segment (Nagle is off), with `delay`
/// between them; then closes with a FIN. Clients that assume a response
/// arrives in one read break.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Slicer {
    /// Bytes per write.
    pub segment: usize,
    /// Pause between writes.
    #[serde(with = "crate::duration")]
    pub delay: Duration,
    /// Body length in bytes.
    pub size: usize,
}

impl Default for Slicer {
    fn default() -> Self {
        Slicer {
            segment: 16,
            delay: Duration::from_millis(20),
            size: 256,
        }
    }
}

impl Slicer {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.segment == 0 {
            return Err("slicer `segment` must be at least 1 byte".to_owned());
        }
        Ok(())
    }
}

impl Misbehave for Slicer {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            let _ = exchange.conn.tcp().set_nodelay(true);
            let bytes = wire::ok_response(self.size);
            exchange.did(format!(
                "sliced a {}-byte response into {} segments, {} apart",
                bytes.len(),
                bytes.len().div_ceil(self.segment),
                humantime::format_duration(self.delay)
            ));
            for (i, chunk) in bytes.chunks(self.segment).enumerate() {
                if i > 0 {
                    tokio::time::sleep(self.delay).await;
                }
                if exchange.conn.send(chunk).await.is_err() {
                    return Ending::ClientRst;
                }
            }
            exchange.conn.close_fin().await
        })
    }
}
