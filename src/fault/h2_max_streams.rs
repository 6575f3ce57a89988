//! `h2-max-streams`: a low SETTINGS_MAX_CONCURRENT_STREAMS, with each stream held.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::conn::http2::StreamExchange;
use crate::fault::{
    Acted, BoxFuture, FaultLeaf, Handling, Http2Settings, StreamFault, bulk, setters,
};

/// Starts each connection with SETTINGS_MAX_CONCURRENT_STREAMS = `streams`
/// and holds each stream for `hold` before answering it like `ok`: a client
/// that honours the setting queues its further requests (the journal shows
/// them answered one `hold` apart); one that opens more streams anyway has
/// them refused with RST_STREAM(REFUSED_STREAM).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct H2MaxStreams {
    /// The most streams a client may have open at once; 0 refuses every
    /// stream once the client has the SETTINGS.
    pub streams: u32,
    /// How long each stream is held before its answer, at most 10 years.
    #[serde(with = "crate::duration")]
    pub hold: Duration,
}

impl Default for H2MaxStreams {
    fn default() -> Self {
        H2MaxStreams {
            streams: 1,
            hold: Duration::from_secs(1),
        }
    }
}

setters! {
    H2MaxStreams {
        /// SETTINGS_MAX_CONCURRENT_STREAMS (default 1).
        streams: u32,
        /// How long each stream is held (default 1s).
        hold: Duration,
    }
}

impl StreamFault for H2MaxStreams {
    fn settings(&self) -> Http2Settings {
        Http2Settings {
            max_concurrent_streams: Some(self.streams),
            ..Http2Settings::default()
        }
    }

    fn act<'a>(&'a self, stream: &'a mut StreamExchange) -> BoxFuture<'a, Acted> {
        Box::pin(async move {
            stream.did(format!(
                "held the stream {} (at most {} open at once), then answered like ok",
                humantime::format_duration(self.hold),
                self.streams
            ));
            crate::timer::sleep(self.hold).await;
            Acted::AnswerOk
        })
    }
}

impl FaultLeaf for H2MaxStreams {
    fn handling(&self) -> Handling<'_> {
        Handling::Stream(self)
    }

    fn validate(&self) -> Result<(), String> {
        bulk::check_wait("h2-max-streams", "hold", self.hold)
    }
}
