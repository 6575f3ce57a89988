//! `h2-reset-stream`: RST_STREAM with a chosen code, before, during or after the response head.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::conn::http2::StreamExchange;
use crate::fault::{Acted, BoxFuture, FaultLeaf, Handling, StreamFault, bulk, setters};
use crate::journal::{Ending, Http2Code};

/// When an [`H2ResetStream`] resets its stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StreamResetWhen {
    /// Before any response: the request was read, nothing answered.
    #[default]
    BeforeResponse,
    /// After the response headers (a 200 promising a body).
    AfterHeaders,
    /// After the headers and `body-bytes` bytes of a longer body.
    AfterBodyBytes,
}

/// Resets each HTTP/2 stream with RST_STREAM and a chosen error code. Unlike
/// `refused-stream`, any code but REFUSED_STREAM leaves the client unable to
/// know whether the request was processed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
#[non_exhaustive]
pub struct H2ResetStream {
    /// The error code (RFC 9113 §7) in kebab-case, such as `internal-error`,
    /// `cancel`, `no-error`, `protocol-error`, `stream-closed`,
    /// `flow-control-error`, `enhance-your-calm`, or a number.
    pub code: Http2Code,
    /// When to reset.
    pub when: StreamResetWhen,
    /// Body bytes sent before the reset, for `when = "after-body-bytes"`,
    /// of a body promised twice as long; at most 10^15.
    #[serde(deserialize_with = "crate::fault::bulk::size")]
    pub body_bytes: usize,
}

impl Default for H2ResetStream {
    fn default() -> Self {
        H2ResetStream {
            code: Http2Code::INTERNAL_ERROR,
            when: StreamResetWhen::BeforeResponse,
            body_bytes: 100,
        }
    }
}

setters! {
    H2ResetStream {
        /// The RST_STREAM's error code (default `internal-error`).
        code: Http2Code,
        /// When the reset comes (default [`StreamResetWhen::BeforeResponse`]).
        when: StreamResetWhen,
        /// Body bytes sent first, for [`StreamResetWhen::AfterBodyBytes`] (default 100).
        body_bytes: usize,
    }
}

impl H2ResetStream {
    async fn reset(&self, stream: &mut StreamExchange) -> Ending {
        if let Err(ending) = stream.drain_body().await {
            return ending;
        }
        // The reset waits for what it follows to leave.
        stream.watch_writes();
        let code = self.code;
        let promised = match self.when {
            StreamResetWhen::BeforeResponse => {
                stream.did(format!("read the request, reset the stream ({code})"));
                return stream.reset(code);
            }
            StreamResetWhen::AfterHeaders => 100,
            StreamResetWhen::AfterBodyBytes => self.body_bytes.saturating_mul(2).max(1),
        };
        let head = http::Response::builder()
            .status(200)
            .header("content-length", promised)
            .header("content-type", "application/octet-stream")
            .body(())
            .expect("a response with a fixed valid status and headers always builds");
        if let Err(ending) = stream.send_head(head, false) {
            return ending;
        }
        if self.when == StreamResetWhen::AfterBodyBytes {
            if let Err(ending) = send_filler(stream, self.body_bytes).await {
                return ending;
            }
            stream.did(format!(
                "sent the headers and {} of {promised} body bytes, then reset the stream ({code})",
                self.body_bytes
            ));
        } else {
            stream.did(format!(
                "sent the headers promising {promised} bytes, then reset the stream ({code})"
            ));
        }
        // What h2 still holds of a stream it resets never leaves.
        stream.flushed().await;
        stream.reset(code)
    }
}

/// Sends `len` bytes of filler text on `stream`, a piece at a time.
async fn send_filler(stream: &mut StreamExchange, len: usize) -> Result<(), Ending> {
    let mut source = bulk::Source::text(Vec::new(), len);
    let mut piece = Vec::new();
    loop {
        source.next_into(PIECE, &mut piece);
        if piece.is_empty() {
            return Ok(());
        }
        stream
            .send_data(Bytes::copy_from_slice(&piece), false)
            .await?;
    }
}

/// The most body bytes handed to h2 at once.
const PIECE: usize = 16 * 1024;

impl StreamFault for H2ResetStream {
    fn act<'a>(&'a self, stream: &'a mut StreamExchange) -> BoxFuture<'a, Acted> {
        Box::pin(async move { Acted::Ended(self.reset(stream).await) })
    }
}

impl FaultLeaf for H2ResetStream {
    fn handling(&self) -> Handling<'_> {
        Handling::Stream(self)
    }

    fn validate(&self) -> Result<(), String> {
        bulk::check_size("h2-reset-stream", "body-bytes", self.body_bytes)
    }
}
