//! `bad-chunk`: a chunk-size line that is not hexadecimal.

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::conn::wire;
use crate::fault::{BoxFuture, Fault, FaultLeaf, Handling, Misbehave, setters};
use crate::journal::Ending;

/// Sends a chunked response whose chunk-size line is `line` (not a hexadecimal
/// number), followed by some data, then closes with a FIN. Clients report a
/// malformed body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct BadChunk {
    /// The invalid chunk-size line, without its CRLF.
    pub line: String,
}

impl Default for BadChunk {
    fn default() -> Self {
        BadChunk {
            line: "zz".to_owned(),
        }
    }
}

setters! {
    BadChunk {
        /// The chunk-size line sent in place of a hexadecimal size, without its CRLF (default `zz`).
        line: impl Into<String>,
    }
}

impl Misbehave for BadChunk {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            let mut bytes = wire::head(200, &[("transfer-encoding", "chunked".to_owned())]);
            bytes.extend(format!("{}\r\nhello\r\n0\r\n\r\n", self.line).into_bytes());
            exchange
                .send_and_close(
                    &bytes,
                    format!("sent chunk-size line {:?}, then closed", self.line),
                )
                .await
        })
    }
}

impl Fault {
    /// `bad-chunk`: a chunk size that is not hexadecimal.
    pub fn bad_chunk() -> Fault {
        BadChunk::default().into()
    }
}

impl FaultLeaf for BadChunk {
    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[tokio::test(start_paused = true)]
    async fn bad_chunk_sends_a_zz_chunk_size_line_then_fins() {
        let response =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n\
                         zz\r\nhello\r\n0\r\n\r\n";
        let client = Builder::new().read(mock::GET).write(response).build();
        let (ending, _) = mock::misbehave(&BadChunk::default(), client).await;
        assert_eq!(ending, Ending::ServerFin);
    }
}
