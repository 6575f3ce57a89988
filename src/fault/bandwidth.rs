//! `bandwidth`: a valid response at a fixed byte rate.

use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use crate::fault::{BoxFuture, Misbehave};
use crate::journal::Ending;
use crate::server::Exchange;
use crate::wire;

/// How often a throttled writer sends a slice of bytes.
const TICK: Duration = Duration::from_millis(50);

/// Sends a valid `200 OK` response with a `size`-byte body at `rate` bytes per
/// second (headers included), then closes with a FIN.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Bandwidth {
    /// Bytes per second.
    pub rate: u64,
    /// Body length in bytes.
    pub size: usize,
}

impl Default for Bandwidth {
    fn default() -> Self {
        Bandwidth {
            rate: 1024,
            size: 8192,
        }
    }
}

impl Bandwidth {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.rate == 0 {
            return Err(
                "bandwidth `rate` is 0 bytes per second, which never finishes; use `hang` for that"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

impl Misbehave for Bandwidth {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            let bytes = wire::ok_response(self.size);
            exchange.did(format!(
                "throttled a {}-byte response to {} B/s",
                bytes.len(),
                self.rate
            ));
            let slice = ((self.rate as u128 * TICK.as_millis() / 1000) as usize).max(1);
            let start = Instant::now();
            let mut sent = 0usize;
            for chunk in bytes.chunks(slice) {
                // Each slice leaves when the rate allows it, measured from the
                // start, so rounding never accumulates into drift.
                let due = Duration::from_secs_f64(sent as f64 / self.rate as f64);
                tokio::time::sleep_until(start + due).await;
                if exchange.conn.send(chunk).await.is_err() {
                    return Ending::ClientRst;
                }
                sent += chunk.len();
            }
            exchange.conn.close_fin().await
        })
    }
}
