//! `h2-ping-silence`: PINGs never answered.

use serde::{Deserialize, Serialize};

use crate::conn::http2::StreamExchange;
use crate::fault::{Acted, BoxFuture, FaultLeaf, Handling, StreamFault};

/// Answers each stream like `ok`, and from its first stream on never
/// answers a PING on the connection: a client with HTTP/2 keep-alive PINGs
/// decides the connection is dead when its PING timeout fires; one without
/// them never notices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct H2PingSilence {}

impl StreamFault for H2PingSilence {
    fn act<'a>(&'a self, stream: &'a mut StreamExchange) -> BoxFuture<'a, Acted> {
        Box::pin(async move {
            stream.link.silence_pings();
            stream.did("answered like ok; PINGs on the connection go unanswered");
            Acted::AnswerOk
        })
    }
}

impl FaultLeaf for H2PingSilence {
    fn handling(&self) -> Handling<'_> {
        Handling::Stream(self)
    }
}
