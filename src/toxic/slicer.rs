//! `slicer`: each chunk is cut into slices of about `average_size` bytes
//! (plus or minus up to `size_variation`), sent `delay` µs apart, as
//! Toxiproxy cuts them: halving until a piece is small enough.

use std::convert::Infallible;
use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

use crate::toxic::draw;
use crate::toxic::stub::{Pipe, Stop, Stub};

/// Cuts the data into slices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slicer {
    /// Bytes; below 1 counts as 1.
    pub(crate) average_size: i64,
    /// Bytes.
    pub(crate) size_variation: i64,
    /// Microseconds after each slice.
    pub(crate) delay: i64,
}

impl Slicer {
    /// The lengths of the slices of `len` bytes, in order.
    fn slices(&self, len: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
        let mut slices = Vec::new();
        self.cut(0, len, rng, &mut slices);
        slices
    }

    fn cut(&self, start: usize, end: usize, rng: &mut ChaCha8Rng, slices: &mut Vec<usize>) {
        let average = self.average_size.max(1) as u64;
        let variation = self.size_variation.max(0) as u64;
        let len = (end - start) as u64;
        if len <= average.saturating_add(variation) {
            slices.push(end - start);
            return;
        }
        let shift = draw::spread(rng, self.size_variation);
        // Kept inside the piece: Toxiproxy's can fall outside it when the
        // variation is larger than the average.
        let middle = (start + (end - start) / 2).saturating_add_signed(shift as isize);
        let middle = middle.clamp(start + 1, end - 1);
        self.cut(start, middle, rng, slices);
        self.cut(middle, end, rng, slices);
    }
}

impl Pipe for Slicer {
    async fn pipe(&self, stub: &mut Stub) -> Result<Infallible, Stop> {
        let delay = draw::duration(self.delay, Duration::from_micros(1));
        loop {
            let mut chunk = stub.recv().await?;
            for len in self.slices(chunk.data.len(), &mut stub.rng) {
                chunk = stub.send_front(chunk, len).await?;
                chunk = stub.hold(chunk, Instant::now() + delay).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::stub::{Chunk, script};

    #[test]
    fn slices_cover_the_chunk_and_stay_near_the_average() {
        let slicer = Slicer {
            average_size: 100,
            size_variation: 20,
            delay: 0,
        };
        let mut rng = draw::DrawKey {
            seed: 1,
            connection: 0,
            direction: crate::toxic::Direction::Downstream,
            name: "slicer",
            generation: 0,
        }
        .rng();
        let slices = slicer.slices(32 * 1024, &mut rng);
        assert_eq!(slices.iter().sum::<usize>(), 32 * 1024);
        assert!(
            slices.iter().all(|&len| (1..=120).contains(&len)),
            "{slices:?}"
        );
        assert!(slices.len() > 200, "{} slices", slices.len());
    }

    #[test]
    fn a_zero_average_or_a_wide_variation_still_cuts_the_chunk_whole() {
        let mut rng = rand_chacha::rand_core::SeedableRng::seed_from_u64(3);
        let tiny = Slicer {
            average_size: 0,
            size_variation: 0,
            delay: 0,
        };
        assert_eq!(tiny.slices(5, &mut rng), [1, 1, 1, 1, 1]);
        let wide = Slicer {
            average_size: 1,
            size_variation: 50,
            delay: 0,
        };
        assert_eq!(wide.slices(200, &mut rng).iter().sum::<usize>(), 200);
    }

    #[tokio::test(start_paused = true)]
    async fn slices_pass_intact_and_in_order_delay_apart() {
        let (stub, feed, mut out) = script::stub();
        script::run(
            Slicer {
                average_size: 10,
                size_variation: 0,
                delay: 1000,
            },
            stub,
        );
        let start = Instant::now();
        let sent: Vec<u8> = (0..40).collect();
        feed.send(Chunk::new(sent.clone())).await.unwrap();
        let mut got = Vec::new();
        let mut arrivals = Vec::new();
        while got.len() < sent.len() {
            got.extend_from_slice(&out.recv().await.unwrap().data);
            arrivals.push(start.elapsed().as_millis());
        }
        assert_eq!(got, sent);
        assert_eq!(arrivals, [0, 1, 2, 3]);
    }
}
