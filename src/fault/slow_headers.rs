//! `slow-headers`: a delay before the status line.

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::fault::{
    Answer, Fault, FaultLeaf, Handling, Request, Respond, Shape, bulk, setters, status,
};
use crate::request::RequestHead;

/// Reads the request, waits `delay`, then answers a normal `200 OK`. Clients
/// whose read timeout is shorter than the delay report a read timeout.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct SlowHeaders {
    /// How long to wait before the status line, at most 10 years.
    #[serde(with = "crate::duration")]
    pub delay: Duration,
    /// The response body (default `ok`).
    pub body: String,
}

impl Default for SlowHeaders {
    fn default() -> Self {
        SlowHeaders {
            delay: Duration::from_secs(5),
            body: "ok\n".to_owned(),
        }
    }
}

setters! {
    SlowHeaders {
        /// The wait before the status line, at most 10 years (default 5s).
        delay: Duration,
        /// The response body (default `ok`).
        body: impl Into<String>,
    }
}

impl Respond for SlowHeaders {
    fn action(&self, _head: &RequestHead) -> Cow<'static, str> {
        format!(
            "delayed the status line {}",
            humantime::format_duration(self.delay)
        )
        .into()
    }

    fn respond<'a>(&'a self, _request: &'a Request<'a>) -> Answer<'a> {
        Answer::later(async move {
            crate::timer::sleep(self.delay).await;
            status::plain(200, self.body.clone())
        })
    }
}

impl Fault {
    /// `slow-headers`: the status line after a delay.
    pub fn slow_headers() -> Fault {
        SlowHeaders::default().into()
    }
}

impl FaultLeaf for SlowHeaders {
    fn shape(&self) -> Option<Shape> {
        let head_delay = self.delay;
        Some(Shape {
            head_delay,
            ..Shape::PASS
        })
    }

    fn handling(&self) -> Handling<'_> {
        Handling::Respond(self)
    }

    fn validate(&self) -> Result<(), String> {
        bulk::check_wait("slow-headers", "delay", self.delay)
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
        let fault = SlowHeaders {
            delay: Duration::from_secs(11 * 31_557_600),
            ..SlowHeaders::default()
        };
        assert_eq!(
            fault.validate().unwrap_err(),
            "slow-headers `delay` 11years is too long; use 0s to 10years"
        );
        assert!(SlowHeaders::default().validate().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn slow_headers_answers_200_ok_after_5s() {
        let client = Builder::new()
            .read(mock::GET)
            .write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\nok\n")
            .build();
        let start = Instant::now();
        mock::respond(&SlowHeaders::default(), client).await;
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }
}
