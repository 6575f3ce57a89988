//! `truncate`: a body shorter than its Content-Length.

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::conn::wire;
use crate::fault::bulk::{self, Source};
use crate::fault::{BoxFuture, Cut, Fault, FaultLeaf, Handling, Misbehave, Shape, setters};
use crate::journal::Ending;

/// Sends headers promising `Content-Length: length`, then only `sent` body
/// bytes, then closes with a FIN. Clients report an incomplete body. The body
/// is written as it is generated, so any size costs one chunk of memory.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use outage::fault::Truncate;
/// use outage::{ErrorClass, FaultServer, classify};
///
/// let server = FaultServer::start(Truncate::default().length(2048).sent(100)).await?;
/// let error = reqwest::get(server.url()).await?.bytes().await.unwrap_err();
/// assert_eq!(classify(&error), ErrorClass::IncompleteBody);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Truncate {
    /// The body length the headers promise, at most 10^15.
    #[serde(deserialize_with = "crate::fault::bulk::size")]
    pub length: usize,
    /// The body bytes actually sent; less than `length`.
    #[serde(deserialize_with = "crate::fault::bulk::size")]
    pub sent: usize,
}

impl Default for Truncate {
    fn default() -> Self {
        Truncate {
            length: 1024,
            sent: 512,
        }
    }
}

setters! {
    Truncate {
        /// The body length the headers promise, in bytes, at most 10^15 (default 1024).
        length: usize,
        /// The body bytes actually sent, less than `length` (default 512).
        sent: usize,
    }
}

impl Misbehave for Truncate {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            let head = wire::head(200, &[("content-length", self.length.to_string())]);
            let action = format!(
                "sent {} of {} promised body bytes, then closed",
                self.sent, self.length
            );
            bulk::send_and_close(exchange, Source::text(head, self.sent), action).await
        })
    }
}

impl Fault {
    /// `truncate`: promises 1024 body bytes and sends fewer.
    pub fn truncate() -> Fault {
        Truncate::default().into()
    }
}

impl FaultLeaf for Truncate {
    fn shape(&self) -> Option<Shape> {
        let cut = Cut::BodyBytes(self.sent as u64);
        Some(Shape { cut, ..Shape::PASS })
    }

    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }

    fn validate(&self) -> Result<(), String> {
        bulk::check_size("truncate", "length", self.length)?;
        if self.sent >= self.length {
            return Err(format!(
                "truncate sends {} bytes of a {}-byte body, which is not a truncation; make `sent` less than `length`",
                self.sent, self.length
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[test]
    fn sending_the_whole_promised_body_is_rejected() {
        let error = Truncate {
            length: 10,
            sent: 10,
        }
        .validate()
        .unwrap_err();
        assert!(error.ends_with("make `sent` less than `length`"), "{error}");
        assert!(Truncate::default().validate().is_ok());
    }

    #[test]
    fn a_length_past_the_limit_is_refused_with_the_range() {
        let error = Truncate {
            length: usize::MAX,
            sent: 1,
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            error,
            "truncate `length` 18446744073709551615 is out of range; use 0 to 1000000000000000 bytes (1 PB)"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn truncate_promises_1024_and_sends_512_then_fins() {
        let mut response =
            b"HTTP/1.1 200 OK\r\ncontent-length: 1024\r\nconnection: close\r\n\r\n".to_vec();
        response.extend(mock::filler(512));
        let client = Builder::new().read(mock::GET).write(&response).build();
        let (ending, attempt) = mock::misbehave(&Truncate::default(), client).await;
        assert_eq!(ending, Ending::ServerFin);
        assert_eq!(
            attempt.action,
            "sent 512 of 1024 promised body bytes, then closed"
        );
    }
}
