//! `bandwidth`: the bytes pass at `rate` KB/s (1000 bytes), in slices of at
//! most 100 ms worth, each sent once the slices before it would have
//! finished at that rate; a rate of 0 or less is unlimited.

use std::convert::Infallible;
use std::time::Duration;

use tokio::time::Instant;

use crate::toxic::stub::{Pipe, Stop, Stub};

/// Limits the rate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bandwidth {
    /// KB (1000 bytes) per second; 0 or less is unlimited.
    pub(crate) rate: i64,
}

impl Pipe for Bandwidth {
    async fn pipe(&self, stub: &mut Stub) -> Result<Infallible, Stop> {
        // When the bytes passed so far have gone out at the rate.
        let mut free_at = Instant::now();
        loop {
            let mut chunk = stub.recv().await?;
            let Ok(rate @ 1..) = u64::try_from(self.rate) else {
                stub.send(chunk).await?;
                continue;
            };
            // Time spent idle is not credit for a burst later.
            free_at = free_at.max(Instant::now());
            let slice = usize::try_from(rate.saturating_mul(100)).unwrap_or(usize::MAX);
            while !chunk.data.is_empty() {
                let len = chunk.data.len().min(slice);
                // `rate` KB/s is `rate` bytes per millisecond.
                free_at += Duration::from_micros(len as u64 * 1000 / rate);
                chunk = stub.hold(chunk, free_at).await?;
                chunk = stub.send_front(chunk, len).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::stub::{Chunk, script};

    #[tokio::test(start_paused = true)]
    async fn fifty_kilobytes_at_100_kb_per_second_take_half_a_second_in_slices() {
        let (stub, feed, mut out) = script::stub();
        script::run(Bandwidth { rate: 100 }, stub);
        let start = Instant::now();
        feed.send(Chunk::new(vec![7u8; 25_000])).await.unwrap();
        feed.send(Chunk::new(vec![7u8; 25_000])).await.unwrap();
        let mut sizes = Vec::new();
        while sizes.iter().sum::<usize>() < 50_000 {
            sizes.push(out.recv().await.unwrap().data.len());
        }
        assert_eq!(start.elapsed(), Duration::from_millis(500));
        assert_eq!(sizes, [10_000, 10_000, 5_000, 10_000, 10_000, 5_000]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_of_zero_is_unlimited() {
        let (stub, feed, mut out) = script::stub();
        script::run(Bandwidth { rate: 0 }, stub);
        let start = Instant::now();
        feed.send(Chunk::new(vec![0u8; 1_000_000])).await.unwrap();
        assert_eq!(out.recv().await.unwrap().data.len(), 1_000_000);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn an_interrupt_mid_chunk_keeps_the_bytes_not_yet_sent() {
        let (stub, feed, mut out) = script::stub();
        let interrupt = stub.interrupt.clone();
        let narrow = script::run(Bandwidth { rate: 10 }, stub);
        feed.send(Chunk::new(vec![1u8; 2_500])).await.unwrap();
        assert_eq!(out.recv().await.unwrap().data.len(), 1_000);
        interrupt.cancel();
        let (stop, stub) = narrow.await.unwrap();
        assert_eq!(stop, Stop::Interrupted);
        assert_eq!(stub.held.iter().map(|c| c.data.len()).sum::<usize>(), 1_500);
    }
}
