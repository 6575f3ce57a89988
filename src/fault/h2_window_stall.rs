//! `h2-window-stall`: the headers, then no DATA and no window for the request body.

use serde::{Deserialize, Serialize};

use crate::conn::http2::StreamExchange;
use crate::fault::{
    Acted, BoxFuture, FaultLeaf, Handling, Http2Settings, StreamFault, bulk, setters,
};

/// Starts each connection with an initial stream window of 0 and never
/// sends a WINDOW_UPDATE, so a request body cannot leave the client; answers
/// the headers of a 200 promising `length` bytes, and then never sends a
/// DATA frame, though the client's window would allow it. Only a read or
/// total timeout ends the wait.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct H2WindowStall {
    /// The body length the headers promise; at most 10^15.
    #[serde(deserialize_with = "crate::fault::bulk::size")]
    pub length: usize,
}

impl Default for H2WindowStall {
    fn default() -> Self {
        H2WindowStall { length: 1024 }
    }
}

setters! {
    H2WindowStall {
        /// The body length the headers promise (default 1024).
        length: usize,
    }
}

impl StreamFault for H2WindowStall {
    fn settings(&self) -> Http2Settings {
        Http2Settings {
            initial_window_size: Some(0),
            ..Http2Settings::default()
        }
    }

    fn act<'a>(&'a self, stream: &'a mut StreamExchange) -> BoxFuture<'a, Acted> {
        Box::pin(async move {
            let head = http::Response::builder()
                .status(200)
                .header("content-length", self.length)
                .header("content-type", "text/plain")
                .body(())
                .expect("a response with a fixed valid status and headers always builds");
            if let Err(ending) = stream.send_head(head, false) {
                return Acted::Ended(ending);
            }
            stream.did(format!(
                "sent the headers promising {} bytes, then no DATA and no WINDOW_UPDATE",
                self.length
            ));
            Acted::Ended(stream.hold().await)
        })
    }
}

impl FaultLeaf for H2WindowStall {
    fn handling(&self) -> Handling<'_> {
        Handling::Stream(self)
    }

    fn validate(&self) -> Result<(), String> {
        bulk::check_size("h2-window-stall", "length", self.length)
    }
}
