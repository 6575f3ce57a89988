//! `truncate`: a body shorter than its Content-Length.

use serde::Deserialize;

use crate::fault::{BoxFuture, Misbehave};
use crate::journal::Ending;
use crate::server::Exchange;
use crate::wire;

/// Sends headers promising `Content-Length: length`, then only `sent` body
/// bytes, then closes with a FIN. Clients report an incomplete body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Truncate {
    /// The body length the headers promise.
    pub length: usize,
    /// The body bytes actually sent; less than `length`.
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

impl Truncate {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.sent >= self.length {
            return Err(format!(
                "truncate sends {} bytes of a {}-byte body, which is not a truncation; make `sent` less than `length`",
                self.sent, self.length
            ));
        }
        Ok(())
    }
}

impl Misbehave for Truncate {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            let mut bytes = wire::head(200, &[("content-length", self.length.to_string())]);
            bytes.extend(wire::filler(self.sent));
            exchange
                .send_and_close(
                    &bytes,
                    format!(
                        "sent {} of {} promised body bytes, then closed",
                        self.sent, self.length
                    ),
                )
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
