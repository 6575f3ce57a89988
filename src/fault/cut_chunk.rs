//! `cut-chunk`: a chunked body closed mid-chunk.

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::conn::wire;
use crate::fault::bulk::{self, Source};
use crate::fault::{BoxFuture, Cut, Fault, FaultLeaf, Handling, Misbehave, Shape, setters};
use crate::journal::Ending;

/// Sends a chunked response whose first chunk announces `chunk` bytes, sends
/// only `sent` of them, and closes with a FIN. Clients report an incomplete
/// chunked body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct CutChunk {
    /// The size the chunk announces, at most 10^15.
    #[serde(deserialize_with = "crate::fault::bulk::size")]
    pub chunk: usize,
    /// The bytes of it actually sent; less than `chunk`.
    #[serde(deserialize_with = "crate::fault::bulk::size")]
    pub sent: usize,
}

impl Default for CutChunk {
    fn default() -> Self {
        CutChunk {
            chunk: 1024,
            sent: 512,
        }
    }
}

setters! {
    CutChunk {
        /// The size the chunk announces, in bytes, at most 10^15 (default 1024).
        chunk: usize,
        /// The bytes of the chunk actually sent, less than `chunk` (default 512).
        sent: usize,
    }
}

impl Misbehave for CutChunk {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            let mut bytes = wire::head(200, &[("transfer-encoding", "chunked".to_owned())]);
            bytes.extend(format!("{:x}\r\n", self.chunk).into_bytes());
            let action = format!(
                "sent {} of a {}-byte chunk, then closed",
                self.sent, self.chunk
            );
            bulk::send_and_close(exchange, Source::text(bytes, self.sent), action).await
        })
    }
}

impl Fault {
    /// `cut-chunk`: a chunked body that stops inside a chunk.
    pub fn cut_chunk() -> Fault {
        CutChunk::default().into()
    }
}

impl FaultLeaf for CutChunk {
    fn shape(&self) -> Option<Shape> {
        let cut = Cut::InFirstChunk(self.sent as u64);
        Some(Shape { cut, ..Shape::PASS })
    }

    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }

    fn validate(&self) -> Result<(), String> {
        bulk::check_size("cut-chunk", "chunk", self.chunk)?;
        if self.sent >= self.chunk {
            return Err(format!(
                "cut-chunk sends {} bytes of a {}-byte chunk, which is not a cut; make `sent` less than `chunk`",
                self.sent, self.chunk
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[test]
    fn a_chunk_past_the_limit_is_refused_with_the_range() {
        let error = CutChunk {
            chunk: usize::MAX,
            sent: 1,
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            error,
            "cut-chunk `chunk` 18446744073709551615 is out of range; use 0 to 1000000000000000 bytes (1 PB)"
        );
        assert!(CutChunk::default().validate().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn cut_chunk_announces_1024_bytes_and_sends_512_then_fins() {
        let mut response =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n400\r\n"
                .to_vec();
        response.extend(mock::filler(512));
        let client = Builder::new().read(mock::GET).write(&response).build();
        let (ending, _) = mock::misbehave(&CutChunk::default(), client).await;
        assert_eq!(ending, Ending::ServerFin);
    }
}
