//! `h2-goaway`: a GOAWAY with a chosen last-stream-id and code.

use serde::{Deserialize, Serialize};

use crate::conn::http2::StreamExchange;
use crate::fault::{Acted, BoxFuture, FaultLeaf, Handling, StreamFault, setters};
use crate::journal::{Http2Code, Http2Frame};

/// How an [`H2Goaway`] closes its connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum GoawayClose {
    /// Answers the streams up to the last-stream-id, then closes.
    #[default]
    Graceful,
    /// Closes as soon as the GOAWAY is sent.
    Immediate,
}

/// Sends a GOAWAY on the connection when a stream meets it: streams above
/// `last-stream-id` were not processed, and a client must retry them on a
/// new connection. With `after = N`, the first N streams of each connection
/// are answered like `ok` first, so a pooled connection is told to go away
/// in the middle of its use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
#[non_exhaustive]
pub struct H2Goaway {
    /// The last stream the GOAWAY says was processed; 0 (the default) says
    /// none was.
    pub last_stream_id: u32,
    /// The error code (default `no-error`, a graceful shutdown).
    pub code: Http2Code,
    /// How the connection closes after it.
    pub close: GoawayClose,
    /// Streams answered like `ok` on each connection before the GOAWAY.
    pub after: u64,
}

impl Default for H2Goaway {
    fn default() -> Self {
        H2Goaway {
            last_stream_id: 0,
            code: Http2Code::NO_ERROR,
            close: GoawayClose::Graceful,
            after: 0,
        }
    }
}

setters! {
    H2Goaway {
        /// The last stream the GOAWAY says was processed (default 0: none).
        last_stream_id: u32,
        /// The GOAWAY's error code (default `no-error`).
        code: Http2Code,
        /// Close once the processed streams are answered, or at once (default [`GoawayClose::Graceful`]).
        close: GoawayClose,
        /// Streams answered on each connection before the GOAWAY (default 0).
        after: u64,
    }
}

impl StreamFault for H2Goaway {
    fn act<'a>(&'a self, stream: &'a mut StreamExchange) -> BoxFuture<'a, Acted> {
        Box::pin(async move {
            if stream.position < self.after {
                stream.did(format!(
                    "answered like ok: stream {} of {} before the GOAWAY",
                    stream.position + 1,
                    self.after
                ));
                return Acted::AnswerOk;
            }
            let immediate = self.close == GoawayClose::Immediate;
            let last_stream_id = stream
                .link
                .go_away(self.last_stream_id, self.code, immediate);
            let code = self.code;
            stream.sent_frame(Http2Frame::GoAway {
                last_stream_id,
                code,
            });
            let closing = match immediate {
                true => "closed the connection",
                false => "closing once the streams up to it are answered",
            };
            if stream.id <= last_stream_id && !immediate {
                stream.did(format!(
                    "sent GOAWAY(last-stream-id {last_stream_id}, {code}), {closing}; this stream is processed: answered like ok"
                ));
                return Acted::AnswerOk;
            }
            // The stream's task journals it unprocessed, as it does every
            // stream above the last-stream-id.
            stream.did(format!(
                "sent GOAWAY(last-stream-id {last_stream_id}, {code}), {closing}"
            ));
            Acted::Ended(stream.hold().await)
        })
    }
}

impl FaultLeaf for H2Goaway {
    fn handling(&self) -> Handling<'_> {
        Handling::Stream(self)
    }

    fn validate(&self) -> Result<(), String> {
        match self.last_stream_id {
            id if id >= 1 << 31 => Err(format!(
                "last-stream-id {id} is past the largest stream id, 2^31-1"
            )),
            _ => Ok(()),
        }
    }
}
