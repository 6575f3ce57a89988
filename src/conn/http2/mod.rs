//! HTTP/2 below the faults: the frames written by hand (`frame`), the tap
//! between the `h2` crate and the socket that puts them in and leaves PINGs
//! unanswered (`tap`), what a connection's streams share (`Link`), and what
//! an HTTP/2 fault acts on for one stream (`StreamExchange`).
//!
//! The `h2` crate speaks the protocol: SETTINGS, flow control, HPACK,
//! RST_STREAM with any code. What it will not do for a fault (a GOAWAY with
//! a chosen last-stream-id, a frame no peer may accept, a PING left
//! unanswered) the tap does on the bytes h2 writes, between two frames.

mod exchange;
pub(crate) mod frame;
mod link;
mod tap;

pub(crate) use exchange::{StreamExchange, connection_lost};
pub(crate) use link::{Link, Stop};
pub(crate) use tap::{Tap, TapControl};
