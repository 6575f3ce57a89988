//! `slicer`: a valid response in small, delayed segments.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::fault::bulk::{self, Source};
use crate::fault::{BoxFuture, Fault, FaultLeaf, Handling, Misbehave, Pace, Shape, setters};
use crate::journal::Ending;

/// Sends a valid `200 OK` response with a `size`-byte body split into
/// `segment`-byte writes, each its own TCP segment (Nagle is off), with `delay`
/// between them; then closes with a FIN. Clients that assume a response
/// arrives in one read break. The response is generated as it is sent, so
/// any size costs one chunk of memory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Slicer {
    /// Bytes per write, from 1 to 10^15; a segment over 64 KiB is written in
    /// several writes, with no delay between them.
    #[serde(deserialize_with = "crate::fault::bulk::size")]
    pub segment: usize,
    /// Pause between writes, at most 10 years.
    #[serde(with = "crate::duration")]
    pub delay: Duration,
    /// Body length in bytes, at most 10^15.
    #[serde(deserialize_with = "crate::fault::bulk::size")]
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

setters! {
    Slicer {
        /// The bytes per write, from 1 to 10^15 (default 16).
        segment: usize,
        /// The pause between writes, at most 10 years (default 20ms).
        delay: Duration,
        /// The body length in bytes, at most 10^15 (default 256).
        size: usize,
    }
}

impl Misbehave for Slicer {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            let _ = exchange.conn.set_nodelay();
            let mut response = Source::ok_response(self.size);
            let total = response.len();
            let segment = self.segment.max(1) as u64;
            exchange.did(format!(
                "sliced a {total}-byte response into {} segments, {} apart",
                total.div_ceil(segment),
                humantime::format_duration(self.delay)
            ));
            let mut buf = Vec::new();
            for i in 0..total.div_ceil(segment) {
                if i > 0 {
                    crate::timer::sleep(self.delay).await;
                }
                if let Err(ending) = bulk::send(exchange, &mut response, segment, &mut buf).await {
                    return ending;
                }
            }
            exchange.conn.close_fin().await
        })
    }
}

impl Fault {
    /// `slicer`: the response in small slices with pauses.
    pub fn slicer() -> Fault {
        Slicer::default().into()
    }
}

impl FaultLeaf for Slicer {
    fn shape(&self) -> Option<Shape> {
        let pace = Pace::Slices(self.segment, self.delay);
        Some(Shape {
            pace,
            ..Shape::PASS
        })
    }

    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }

    fn validate(&self) -> Result<(), String> {
        if self.segment == 0 {
            return Err(format!(
                "slicer `segment` must be at least 1 byte; use 1 to {} bytes",
                bulk::MAX_SIZE
            ));
        }
        bulk::check_size("slicer", "segment", self.segment)?;
        bulk::check_size("slicer", "size", self.size)?;
        bulk::check_wait("slicer", "delay", self.delay)
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[test]
    fn segments_sizes_and_delays_out_of_range_are_refused_with_the_range() {
        let slicer = |segment, size, delay| Slicer {
            segment,
            size,
            delay: Duration::from_secs(delay),
        };
        assert_eq!(
            slicer(0, 10, 0).validate().unwrap_err(),
            "slicer `segment` must be at least 1 byte; use 1 to 1000000000000000 bytes"
        );
        assert!(
            slicer(1, usize::MAX, 0)
                .validate()
                .unwrap_err()
                .starts_with("slicer `size` 18446744073709551615 is out of range; use 0 to")
        );
        assert!(
            slicer(1, 10, u64::MAX)
                .validate()
                .unwrap_err()
                .contains("use 0s to 10years")
        );
        assert!(Slicer::default().validate().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn slicer_writes_94_bytes_in_32_byte_slices_a_second_apart_then_fins() {
        let fault = Slicer {
            segment: 32,
            delay: Duration::from_secs(1),
            size: 10,
        };
        let response = mock::filler_response(10);
        let client = Builder::new().read(mock::GET).write(&response).build();
        let start = Instant::now();
        let (ending, _) = mock::misbehave(&fault, client).await;
        // Three slices (32, 32 and 30 bytes), so two pauses.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        assert_eq!(ending, Ending::ServerFin);
    }
}
