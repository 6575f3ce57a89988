//! `latency`: each chunk is delayed by `latency` ms, plus or minus up to
//! `jitter` ms, counted from when the proxy read it, so that chunks in a row
//! are delayed together rather than one after the other.

use std::convert::Infallible;
use std::time::Duration;

use crate::toxic::draw;
use crate::toxic::stub::{Pipe, Stop, Stub};

/// Delays every chunk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Latency {
    /// Milliseconds.
    pub(crate) latency: i64,
    /// Milliseconds, drawn in `[-jitter, jitter)` per chunk.
    pub(crate) jitter: i64,
}

impl Pipe for Latency {
    async fn pipe(&self, stub: &mut Stub) -> Result<Infallible, Stop> {
        loop {
            let chunk = stub.recv().await?;
            let delay = self.latency + draw::spread(&mut stub.rng, self.jitter);
            let due = chunk.arrived + draw::duration(delay, Duration::from_millis(1));
            let chunk = stub.hold(chunk, due).await?;
            stub.send(chunk).await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;

    use super::*;
    use crate::toxic::stub::{Chunk, script};

    #[tokio::test(start_paused = true)]
    async fn chunks_in_a_row_are_each_delayed_from_their_arrival() {
        let (stub, feed, mut out) = script::stub();
        let start = Instant::now();
        let lag = script::run(
            Latency {
                latency: 100,
                jitter: 0,
            },
            stub,
        );
        feed.send(Chunk::new("a")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        feed.send(Chunk::new("b")).await.unwrap();
        assert_eq!(out.recv().await.unwrap().data, "a");
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        assert_eq!(out.recv().await.unwrap().data, "b");
        assert_eq!(start.elapsed(), Duration::from_millis(110));
        drop(feed);
        assert_eq!(out.recv().await, None);
        assert_eq!(lag.await.unwrap().0, Stop::Finished);
    }

    #[tokio::test(start_paused = true)]
    async fn jitter_keeps_each_delay_within_its_bounds() {
        let (stub, feed, mut out) = script::stub();
        script::run(
            Latency {
                latency: 100,
                jitter: 20,
            },
            stub,
        );
        for _ in 0..20 {
            let start = Instant::now();
            feed.send(Chunk::new("x")).await.unwrap();
            out.recv().await.unwrap();
            let waited = start.elapsed();
            assert!(
                waited >= Duration::from_millis(80) && waited < Duration::from_millis(120),
                "{waited:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_interrupt_keeps_the_waiting_chunk_for_the_rewired_link() {
        let (stub, feed, mut out) = script::stub();
        let interrupt = stub.interrupt.clone();
        let lag = script::run(
            Latency {
                latency: 100,
                jitter: 0,
            },
            stub,
        );
        feed.send(Chunk::new("kept")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        interrupt.cancel();
        let (stop, stub) = lag.await.unwrap();
        assert_eq!(stop, Stop::Interrupted);
        assert_eq!(stub.held.front().map(|c| &c.data[..]), Some(&b"kept"[..]));
        assert!(out.try_recv().is_err());
    }
}
