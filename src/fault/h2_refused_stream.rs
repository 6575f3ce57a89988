//! `h2-refused-stream`: RST_STREAM(REFUSED_STREAM) before the request is processed.

use serde::{Deserialize, Serialize};

use crate::conn::http2::StreamExchange;
use crate::fault::{Acted, BoxFuture, FaultLeaf, Handling, StreamFault};
use crate::journal::Http2Code;

/// Refuses each HTTP/2 stream with RST_STREAM(REFUSED_STREAM) before reading
/// its request: RFC 9113 §8.7 says such a request was not processed, so any
/// request, even a POST, is safe to retry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct H2RefusedStream {}

impl StreamFault for H2RefusedStream {
    fn act<'a>(&'a self, stream: &'a mut StreamExchange) -> BoxFuture<'a, Acted> {
        Box::pin(async move {
            stream.did("refused the stream unprocessed");
            Acted::Ended(stream.reset(Http2Code::REFUSED_STREAM))
        })
    }
}

impl FaultLeaf for H2RefusedStream {
    fn handling(&self) -> Handling<'_> {
        Handling::Stream(self)
    }
}
