//! `bandwidth`: a valid response at a fixed byte rate.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::conn::Exchange;
use crate::fault::bulk::{self, Source};
use crate::fault::{
    BoxFuture, Fault, FaultLeaf, Handling, Misbehave, Pace, Shape, setters, time_at_rate,
};
use crate::journal::Ending;
use crate::timer;

/// How often a throttled writer sends a slice of bytes.
const TICK: Duration = Duration::from_millis(50);

/// Sends a valid `200 OK` response with a `size`-byte body at `rate` bytes per
/// second (headers included), then closes with a FIN. The response is
/// generated as it is sent, so any size costs one chunk of memory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Bandwidth {
    /// Bytes per second, at least 1.
    pub rate: u64,
    /// Body length in bytes, at most 10^15.
    #[serde(deserialize_with = "crate::fault::bulk::size")]
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

setters! {
    Bandwidth {
        /// The rate in bytes per second, headers included, at least 1 (default 1024).
        rate: u64,
        /// The body length in bytes, at most 10^15 (default 8192).
        size: usize,
    }
}

impl Misbehave for Bandwidth {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            let mut response = Source::ok_response(self.size);
            let total = response.len();
            exchange.did(format!(
                "throttled a {total}-byte response to {} B/s",
                self.rate
            ));
            let rate = self.rate.max(1);
            // A rate past u64::MAX / 50 would overflow a u64 product; u128 cannot.
            let slice =
                (u128::from(rate) * TICK.as_millis() / 1000).clamp(1, u64::MAX.into()) as u64;
            let start = Instant::now();
            let mut sent = 0u64;
            let mut buf = Vec::new();
            while sent < total {
                let len = slice.min(total - sent);
                // Each slice leaves when the rate would have carried its
                // last byte, measured from the start, so rounding and late
                // wake-ups never add up. A slice due past any clock's range
                // never leaves; the server's stop or the client's leaving
                // ends the wait.
                match time_at_rate(sent + len, rate).and_then(|due| start.checked_add(due)) {
                    Some(due) => timer::sleep_until(due).await,
                    None => return exchange.conn.until_client_leaves().await,
                }
                if let Err(ending) = bulk::send(exchange, &mut response, len, &mut buf).await {
                    return ending;
                }
                sent += len;
            }
            exchange.conn.close_fin().await
        })
    }
}

impl Fault {
    /// `bandwidth`: the response at a bounded rate.
    pub fn bandwidth() -> Fault {
        Bandwidth::default().into()
    }
}

impl FaultLeaf for Bandwidth {
    fn shape(&self) -> Option<Shape> {
        let pace = Pace::Rate(self.rate);
        Some(Shape {
            pace,
            ..Shape::PASS
        })
    }

    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }

    fn validate(&self) -> Result<(), String> {
        if self.rate == 0 {
            return Err(
                "bandwidth `rate` is 0 bytes per second, which never finishes; use `hang` for that"
                    .to_owned(),
            );
        }
        bulk::check_size("bandwidth", "size", self.size)
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[test]
    fn a_zero_rate_and_a_size_past_the_limit_are_refused() {
        let bandwidth = |rate, size| Bandwidth { rate, size };
        assert!(
            bandwidth(0, 10)
                .validate()
                .unwrap_err()
                .contains("use `hang`")
        );
        assert_eq!(
            bandwidth(1, usize::MAX).validate().unwrap_err(),
            "bandwidth `size` 18446744073709551615 is out of range; use 0 to 1000000000000000 bytes (1 PB)"
        );
        assert!(bandwidth(u64::MAX, bulk::MAX_SIZE).validate().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn bandwidth_at_100_bytes_a_second_sends_5_bytes_every_50ms_then_fins() {
        let fault = Bandwidth {
            rate: 100,
            size: 10,
        };
        let response = mock::filler_response(10);
        let client = Builder::new().read(mock::GET).write(&response).build();
        let start = Instant::now();
        let (ending, _) = mock::misbehave(&fault, client).await;
        // 94 bytes in 19 slices, each when the rate has carried it: the
        // last at 940 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(940));
        assert_eq!(ending, Ending::ServerFin);
    }
}
