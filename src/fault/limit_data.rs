//! `limit-data`: close after a fixed number of bytes.

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::fault::bulk::{self, Source};
use crate::fault::{BoxFuture, Cut, Fault, FaultLeaf, Handling, Misbehave, Shape, setters};
use crate::journal::Ending;

/// Starts a valid `200 OK` response with a `size`-byte body and closes with a
/// FIN after `bytes` bytes of it (headers included). A cut inside the body
/// gives an incomplete body; a cut inside the headers gives an empty or
/// malformed response. Both sizes may be up to 10^15: the response is
/// written as it is generated, one chunk of memory at a time.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct LimitData {
    /// Bytes sent before the close.
    #[serde(deserialize_with = "crate::fault::bulk::size")]
    pub bytes: usize,
    /// Body length the full response would have.
    #[serde(deserialize_with = "crate::fault::bulk::size")]
    pub size: usize,
}

impl Default for LimitData {
    fn default() -> Self {
        LimitData {
            bytes: 100,
            size: 1024,
        }
    }
}

setters! {
    LimitData {
        /// The bytes sent before the close, headers included, at most 10^15 (default 100).
        bytes: usize,
        /// The body length the full response would have, in bytes, at most 10^15 (default 1024).
        size: usize,
    }
}

impl Misbehave for LimitData {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            let response = Source::ok_response(self.size);
            let total = response.len();
            let response = response.cut(self.bytes as u64);
            let action = format!(
                "sent {} of {total} response bytes, then closed",
                response.len()
            );
            bulk::send_and_close(exchange, response, action).await
        })
    }
}

impl Fault {
    /// `limit-data`: the connection closed after a number of bytes.
    pub fn limit_data() -> Fault {
        LimitData::default().into()
    }
}

impl FaultLeaf for LimitData {
    fn shape(&self) -> Option<Shape> {
        let cut = Cut::Bytes(self.bytes as u64);
        Some(Shape { cut, ..Shape::PASS })
    }

    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }

    fn validate(&self) -> Result<(), String> {
        bulk::check_size("limit-data", "bytes", self.bytes)?;
        bulk::check_size("limit-data", "size", self.size)
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[test]
    fn sizes_past_the_limit_are_refused_with_the_range() {
        let error = LimitData {
            bytes: 100,
            size: usize::MAX,
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            error,
            "limit-data `size` 18446744073709551615 is out of range; use 0 to 1000000000000000 bytes (1 PB)"
        );
        assert!(LimitData::default().validate().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn limit_data_fins_after_the_first_100_bytes_of_the_response() {
        let mut whole = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\
                          content-length: 1024\r\nconnection: close\r\n\r\n"
            .to_vec();
        whole.extend(mock::filler(1024));
        let client = Builder::new().read(mock::GET).write(&whole[..100]).build();
        let (ending, _) = mock::misbehave(&LimitData::default(), client).await;
        assert_eq!(ending, Ending::ServerFin);
    }
}
