//! `reset_peer`: on the first data (or the source's end), waits `timeout` ms
//! and resets the connection: `SO_LINGER` 0 on both sockets, then closed, so
//! each peer gets a TCP RST. The data is not passed on.

use std::convert::Infallible;
use std::time::Duration;

use tokio::time::Instant;

use crate::toxic::draw;
use crate::toxic::stub::{Pipe, Stop, Stub};

/// Resets the connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResetPeer {
    /// Milliseconds after the first data.
    pub(crate) timeout: i64,
}

impl Pipe for ResetPeer {
    async fn pipe(&self, stub: &mut Stub) -> Result<Infallible, Stop> {
        let timeout = draw::duration(self.timeout, Duration::from_millis(1));
        match stub.recv().await {
            // Kept while waiting, so that a change of the link meanwhile
            // passes it on rather than losing it.
            Ok(chunk) => drop(stub.hold(chunk, Instant::now() + timeout).await?),
            Err(Stop::Finished) => stub.sleep_until(Instant::now() + timeout).await?,
            Err(stop) => return Err(stop),
        }
        // Only here, where the reset really happens: a toxic that does not
        // act on this connection leaves its sockets to close as usual.
        for socket in stub.peers.sockets() {
            let _ = socket2::SockRef::from(&*socket).set_linger(Some(Duration::ZERO));
        }
        Err(Stop::Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::stub::{Chunk, script};

    #[tokio::test(start_paused = true)]
    async fn the_first_data_closes_the_link_after_the_timeout() {
        let (stub, feed, mut out) = script::stub();
        let reset = script::run(ResetPeer { timeout: 150 }, stub);
        tokio::time::sleep(Duration::from_secs(10)).await;
        let start = Instant::now();
        feed.send(Chunk::new("GET")).await.unwrap();
        assert_eq!(out.recv().await, None);
        assert_eq!(start.elapsed(), Duration::from_millis(150));
        assert_eq!(reset.await.unwrap().0, Stop::Closed);
    }
}
