//! `timeout`: all data is dropped, and the connection is closed `timeout` ms
//! after the toxic started on it (0: never). Removing the toxic closes the
//! connection too, as in Toxiproxy: the data it dropped is lost.

use std::convert::Infallible;
use std::time::Duration;

use crate::timer;
use crate::toxic::draw;
use crate::toxic::leaf::{Cleanup, Removal};
use crate::toxic::stub::{Pipe, Stop, Stub};

/// Swallows the data, then closes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeout {
    /// Milliseconds; 0 never closes.
    pub(crate) timeout: i64,
}

impl Pipe for Timeout {
    async fn pipe(&self, stub: &mut Stub) -> Result<Infallible, Stop> {
        let deadline = stub.since + draw::duration(self.timeout, Duration::from_millis(1));
        let never = self.timeout <= 0;
        let mut closes = std::pin::pin!(timer::sleep_until(deadline));
        loop {
            tokio::select! {
                swallowed = stub.recv() => drop(swallowed?),
                () = &mut closes, if !never => return Err(Stop::Closed),
            }
        }
    }
}

impl Cleanup for Timeout {
    fn on_removal(&self) -> Removal {
        Removal::CloseLink
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;

    use super::*;
    use crate::toxic::stub::{Chunk, script};

    #[tokio::test(start_paused = true)]
    async fn data_is_dropped_and_the_link_closes_after_the_timeout() {
        let (stub, feed, mut out) = script::stub();
        let closing = stub.closing.clone();
        let start = Instant::now();
        let timeout = script::run(Timeout { timeout: 200 }, stub);
        feed.send(Chunk::new("lost")).await.unwrap();
        assert_eq!(out.recv().await, None);
        assert_eq!(start.elapsed(), Duration::from_millis(200));
        assert_eq!(timeout.await.unwrap().0, Stop::Closed);
        assert!(closing.load(std::sync::atomic::Ordering::Acquire));
    }

    #[tokio::test(start_paused = true)]
    async fn a_timeout_of_zero_never_closes() {
        let (stub, feed, mut out) = script::stub();
        script::run(Timeout { timeout: 0 }, stub);
        feed.send(Chunk::new("lost")).await.unwrap();
        let waited = tokio::time::timeout(Duration::from_secs(3600), out.recv()).await;
        assert!(waited.is_err(), "{waited:?}");
    }
}
