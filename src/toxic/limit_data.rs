//! `limit_data`: the first `bytes` bytes of the connection in this direction
//! pass, then the connection closes.

use std::convert::Infallible;

use crate::toxic::stub::{Pipe, Stop, Stub};

/// Closes after so many bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LimitData {
    /// Bytes, per connection.
    pub(crate) bytes: i64,
}

impl Pipe for LimitData {
    async fn pipe(&self, stub: &mut Stub) -> Result<Infallible, Stop> {
        let limit = self.bytes.max(0) as u64;
        loop {
            let chunk = stub.recv().await?;
            // What passed before the link last changed counts too.
            let left = limit.saturating_sub(stub.passed);
            let len = chunk
                .data
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            if len > 0 {
                stub.send_front(chunk, len).await?;
            }
            if stub.passed >= limit {
                return Err(Stop::Closed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toxic::stub::{Chunk, script};

    #[tokio::test(start_paused = true)]
    async fn exactly_the_limit_passes_then_the_link_closes() {
        let (stub, feed, mut out) = script::stub();
        let limit = script::run(LimitData { bytes: 5 }, stub);
        feed.send(Chunk::new("abc")).await.unwrap();
        feed.send(Chunk::new("defgh")).await.unwrap();
        assert_eq!(out.recv().await.unwrap().data, "abc");
        assert_eq!(out.recv().await.unwrap().data, "de");
        assert_eq!(out.recv().await, None);
        assert_eq!(limit.await.unwrap().0, Stop::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_passed_before_a_change_count_towards_the_limit() {
        let (mut stub, feed, mut out) = script::stub();
        stub.passed = 4;
        script::run(LimitData { bytes: 5 }, stub);
        feed.send(Chunk::new("xyz")).await.unwrap();
        assert_eq!(out.recv().await.unwrap().data, "x");
        assert_eq!(out.recv().await, None);
    }
}
