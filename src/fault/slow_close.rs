//! `slow-close`: a response that ends only when a delayed close comes.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::conn::wire;
use crate::fault::{BoxFuture, Fault, FaultLeaf, Handling, Misbehave, Shape, bulk, setters};
use crate::journal::Ending;

/// Sends `200 OK` with no `Content-Length`, so the body ends only when the
/// connection closes, and waits `delay` before that close (a FIN). Clients
/// read the body at once but cannot know it is complete until the close.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct SlowClose {
    /// How long to hold the connection open after the body, at most 10 years.
    #[serde(with = "crate::duration")]
    pub delay: Duration,
    /// The response body.
    pub body: String,
}

impl Default for SlowClose {
    fn default() -> Self {
        SlowClose {
            delay: Duration::from_secs(5),
            body: "ok\n".to_owned(),
        }
    }
}

setters! {
    SlowClose {
        /// How long the connection stays open after the body, at most 10 years (default 5s).
        delay: Duration,
        /// The response body (default `ok`).
        body: impl Into<String>,
    }
}

impl Misbehave for SlowClose {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            let mut bytes = wire::head(200, &[("content-type", "text/plain".to_owned())]);
            bytes.extend_from_slice(self.body.as_bytes());
            if exchange.conn.send(&bytes).await.is_err() {
                return Ending::ClientRst;
            }
            let delay = humantime::format_duration(self.delay);
            // Journaled before the wait, so a server stop during it shows the plan.
            exchange.did(format!(
                "sent a close-delimited body, to close {delay} later"
            ));
            tokio::select! {
                ending = exchange.conn.until_client_leaves() => {
                    exchange.did(format!(
                        "sent a close-delimited body; the client left before the close due {delay} later"
                    ));
                    ending
                }
                () = crate::timer::sleep(self.delay) => {
                    exchange.did(format!("sent a close-delimited body, closed {delay} later"));
                    exchange.conn.close_fin().await
                }
            }
        })
    }
}

impl Fault {
    /// `slow-close`: the response, then the connection held open.
    pub fn slow_close() -> Fault {
        SlowClose::default().into()
    }
}

impl FaultLeaf for SlowClose {
    fn shape(&self) -> Option<Shape> {
        let close_delay = Some(self.delay);
        Some(Shape {
            close_delay,
            ..Shape::PASS
        })
    }

    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }

    fn validate(&self) -> Result<(), String> {
        bulk::check_wait("slow-close", "delay", self.delay)
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[test]
    fn a_delay_past_ten_years_is_refused_with_the_range() {
        let fault = SlowClose {
            delay: Duration::from_secs(11 * 31_557_600),
            ..SlowClose::default()
        };
        assert_eq!(
            fault.validate().unwrap_err(),
            "slow-close `delay` 11years is too long; use 0s to 10years"
        );
        assert!(SlowClose::default().validate().is_ok());
    }

    const RESPONSE: &[u8] =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nok\n";

    #[tokio::test(start_paused = true)]
    async fn slow_close_sends_a_close_delimited_body_and_fins_5s_later() {
        let client = Builder::new()
            .read(mock::GET)
            .write(RESPONSE)
            .wait(Duration::from_secs(3600))
            .build();
        let start = Instant::now();
        let (ending, _) = mock::misbehave(&SlowClose::default(), client).await;
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        assert_eq!(ending, Ending::ServerFin);
    }

    #[tokio::test(start_paused = true)]
    async fn slow_close_ends_when_the_client_leaves_before_the_close() {
        let client = Builder::new()
            .read(mock::GET)
            .write(RESPONSE)
            .wait(Duration::from_secs(2))
            .build();
        let (ending, attempt) = mock::misbehave(&SlowClose::default(), client).await;
        assert_eq!(ending, Ending::ClientFin);
        assert_eq!(
            attempt.action,
            "sent a close-delimited body; the client left before the close due 5s later"
        );
    }
}
