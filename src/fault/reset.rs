//! `reset`: abort the connection with a TCP RST.

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::conn::wire;
use crate::fault::bulk::{self, Source};
use crate::fault::{BoxFuture, Cut, FaultLeaf, Handling, Misbehave, Shape, setters};
use crate::journal::Ending;

/// When a [`Reset`] fires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ResetWhen {
    /// After the request head is read: the client is waiting for its answer.
    #[default]
    AfterRequest,
    /// Straight after accepting. This races with the client's connect: the
    /// client may see "connection refused" or "connection reset" depending on
    /// whether the RST arrives before its connect call has returned.
    OnAccept,
    /// After the headers and `body-bytes` bytes of a longer response body.
    AfterBodyBytes,
    /// In a proxy: once the upstream has answered, before any byte of its
    /// answer reaches the client. The upstream processed the request, and the
    /// client cannot know: the case that decides whether a retry is safe.
    /// Without an upstream, the same as `after-request`.
    AfterUpstream,
}

/// Aborts the connection with a real TCP RST: `SO_LINGER` is set to 0 before
/// the socket is closed. Clients report "connection reset by peer".
///
/// ```
/// use outage::Fault;
/// use outage::fault::{Reset, ResetWhen};
///
/// // Headers and 4 KiB of body, then the RST.
/// let mid_body = Reset::default().when(ResetWhen::AfterBodyBytes).body_bytes(4096);
/// assert!(Fault::from(mid_body).validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
#[non_exhaustive]
pub struct Reset {
    /// When to reset.
    pub when: ResetWhen,
    /// Body bytes sent before the reset, for `when = "after-body-bytes"`; at
    /// most 10^15.
    #[serde(deserialize_with = "crate::fault::bulk::size")]
    pub body_bytes: usize,
}

impl Default for Reset {
    fn default() -> Self {
        Reset {
            when: ResetWhen::AfterRequest,
            body_bytes: 100,
        }
    }
}

setters! {
    Reset {
        /// When the reset fires (default [`ResetWhen::AfterRequest`]).
        when: ResetWhen,
        /// The body bytes sent before the reset, for [`ResetWhen::AfterBodyBytes`]; at most 10^15 (default 100).
        body_bytes: usize,
    }
}

impl Misbehave for Reset {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if self.when != ResetWhen::OnAccept
                && let Err(ending) = exchange.request().await
            {
                return ending;
            }
            if self.when == ResetWhen::AfterBodyBytes {
                // Validation keeps `body_bytes` to 10^15, far from overflowing.
                let promised = self.body_bytes as u64 * 2 + 1;
                let head = wire::head(200, &[("content-length", promised.to_string())]);
                let mut response = Source::text(head, self.body_bytes);
                let mut buf = Vec::new();
                if let Err(ending) = bulk::send(exchange, &mut response, u64::MAX, &mut buf).await {
                    return ending;
                }
            }
            exchange.did(match self.when {
                ResetWhen::OnAccept => "reset on accept".to_owned(),
                ResetWhen::AfterRequest | ResetWhen::AfterUpstream => {
                    "reset after the request".to_owned()
                }
                ResetWhen::AfterBodyBytes => format!("reset after {} body bytes", self.body_bytes),
            });
            exchange.conn.close_rst()
        })
    }
}

impl FaultLeaf for Reset {
    fn shape(&self) -> Option<Shape> {
        let cut = match self.when {
            ResetWhen::AfterBodyBytes => Cut::ResetAfterBody(self.body_bytes as u64),
            ResetWhen::AfterUpstream => Cut::ResetBeforeHead,
            ResetWhen::AfterRequest | ResetWhen::OnAccept => return None,
        };
        Some(Shape { cut, ..Shape::PASS })
    }

    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }

    fn acts_before_request(&self) -> bool {
        self.when == ResetWhen::OnAccept
    }

    fn validate(&self) -> Result<(), String> {
        bulk::check_size("reset", "body-bytes", self.body_bytes)
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[test]
    fn body_bytes_past_the_limit_are_refused_with_the_range() {
        let reset = Reset {
            when: ResetWhen::AfterBodyBytes,
            body_bytes: usize::MAX,
        };
        assert_eq!(
            reset.validate().unwrap_err(),
            "reset `body-bytes` 18446744073709551615 is out of range; use 0 to 1000000000000000 bytes (1 PB)"
        );
        assert!(Reset::default().validate().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn reset_reads_the_request_then_resets_without_a_byte() {
        let client = Builder::new().read(mock::GET).build();
        let (ending, attempt) = mock::misbehave(&Reset::default(), client).await;
        assert_eq!(ending, Ending::ServerRst);
        assert_eq!(attempt.request_line(), Some("GET / HTTP/1.1"));
    }

    #[tokio::test(start_paused = true)]
    async fn reset_on_accept_resets_before_reading() {
        let fault = Reset {
            when: ResetWhen::OnAccept,
            ..Reset::default()
        };
        let (ending, attempt) = mock::misbehave(&fault, Builder::new().build()).await;
        assert_eq!(ending, Ending::ServerRst);
        assert_eq!(attempt.request, None);
    }

    #[tokio::test(start_paused = true)]
    async fn reset_after_body_bytes_promises_201_sends_100_then_resets() {
        let fault = Reset {
            when: ResetWhen::AfterBodyBytes,
            body_bytes: 100,
        };
        let mut response =
            b"HTTP/1.1 200 OK\r\ncontent-length: 201\r\nconnection: close\r\n\r\n".to_vec();
        response.extend(mock::filler(100));
        let client = Builder::new().read(mock::GET).write(&response).build();
        let (ending, _) = mock::misbehave(&fault, client).await;
        assert_eq!(ending, Ending::ServerRst);
    }
}
