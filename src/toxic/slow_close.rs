//! `slow_close`: once the source has closed, the end is passed on `delay` ms
//! later; the data passes as it comes.

use std::convert::Infallible;
use std::time::Duration;

use tokio::time::Instant;

use crate::toxic::draw;
use crate::toxic::stub::{Pipe, Stop, Stub};

/// Delays the close.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlowClose {
    /// Milliseconds.
    pub(crate) delay: i64,
}

impl Pipe for SlowClose {
    async fn pipe(&self, stub: &mut Stub) -> Result<Infallible, Stop> {
        loop {
            match stub.recv().await {
                Ok(chunk) => stub.send(chunk).await?,
                Err(Stop::Finished) => {
                    let delay = draw::duration(self.delay, Duration::from_millis(1));
                    stub.sleep_until(Instant::now() + delay).await?;
                    return Err(Stop::Finished);
                }
                Err(stop) => return Err(stop),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::stub::{Chunk, script};

    #[tokio::test(start_paused = true)]
    async fn data_passes_at_once_and_the_end_comes_delay_later() {
        let (stub, feed, mut out) = script::stub();
        let slow = script::run(SlowClose { delay: 300 }, stub);
        let start = Instant::now();
        feed.send(Chunk::new("bye")).await.unwrap();
        assert_eq!(out.recv().await.unwrap().data, "bye");
        assert_eq!(start.elapsed(), Duration::ZERO);
        drop(feed);
        assert_eq!(out.recv().await, None);
        assert_eq!(start.elapsed(), Duration::from_millis(300));
        assert_eq!(slow.await.unwrap().0, Stop::Finished);
    }
}
