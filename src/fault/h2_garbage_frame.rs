//! `h2-garbage-frame`: a frame no HTTP/2 peer may accept, on stream 0.

use serde::{Deserialize, Serialize};

use crate::conn::http2::{StreamExchange, frame};
use crate::fault::{Acted, BoxFuture, FaultLeaf, Handling, StreamFault, setters};
use crate::journal::Http2Frame;

/// Which broken frame an [`H2GarbageFrame`] sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum GarbageFrame {
    /// A PING of 7 bytes instead of 8: a connection error FRAME_SIZE_ERROR.
    #[default]
    WrongLength,
    /// A header stating 16 MiB, past the client's maximum frame size:
    /// FRAME_SIZE_ERROR.
    Oversized,
    /// DATA on stream 0, which carries only frames about the connection:
    /// PROTOCOL_ERROR.
    DataOnStreamZero,
}

impl GarbageFrame {
    fn bytes(self) -> bytes::Bytes {
        match self {
            GarbageFrame::WrongLength => frame::ping_of_wrong_length(),
            GarbageFrame::Oversized => frame::oversized(),
            GarbageFrame::DataOnStreamZero => frame::data_on_stream_zero(),
        }
    }

    fn what(self) -> &'static str {
        match self {
            GarbageFrame::WrongLength => "PING of 7 bytes",
            GarbageFrame::Oversized => "frame header stating 16 MiB",
            GarbageFrame::DataOnStreamZero => "DATA on stream 0",
        }
    }
}

/// When a stream arrives, sends a frame on stream 0 that no HTTP/2 peer may
/// accept, and answers nothing: the client must treat it as a connection
/// error, send its own GOAWAY and fail every stream on the connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct H2GarbageFrame {
    /// Which broken frame.
    pub frame: GarbageFrame,
}

setters! {
    H2GarbageFrame {
        /// The broken frame (default [`GarbageFrame::WrongLength`]).
        frame: GarbageFrame,
    }
}

impl StreamFault for H2GarbageFrame {
    fn act<'a>(&'a self, stream: &'a mut StreamExchange) -> BoxFuture<'a, Acted> {
        Box::pin(async move {
            stream.link.inject(self.frame.bytes());
            let what = self.frame.what().to_owned();
            stream.did(format!("sent a {what} and answered nothing"));
            stream.sent_frame(Http2Frame::Garbage { what });
            Acted::Ended(stream.hold().await)
        })
    }
}

impl FaultLeaf for H2GarbageFrame {
    fn handling(&self) -> Handling<'_> {
        Handling::Stream(self)
    }
}
