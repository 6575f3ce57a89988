//! `drip`: the body one byte at a time.

use std::borrow::Cow;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::fault::{
    Answer, Body, Fault, FaultLeaf, Handling, Pace, Request, Respond, Shape, bulk, setters,
};
use crate::request::RequestHead;
use crate::timer;

/// Sends `200 OK` headers at once, then a `bytes`-byte body one byte every
/// `interval`. A per-read timeout longer than the interval never fires; a
/// total timeout shorter than `bytes × interval` does.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Drip {
    /// Body length in bytes, at most 10^15.
    #[serde(deserialize_with = "crate::fault::bulk::size")]
    pub bytes: usize,
    /// Time before each byte, at most 10 years.
    #[serde(with = "crate::duration")]
    pub interval: Duration,
}

impl Default for Drip {
    fn default() -> Self {
        Drip {
            bytes: 10,
            interval: Duration::from_millis(500),
        }
    }
}

setters! {
    Drip {
        /// The body length in bytes, one sent per `interval`, at most 10^15 (default 10).
        bytes: usize,
        /// The wait before each byte, at most 10 years (default 500ms).
        interval: Duration,
    }
}

impl Respond for Drip {
    fn action(&self, _head: &RequestHead) -> Cow<'static, str> {
        format!(
            "dripped {} bytes, one every {}",
            self.bytes,
            humantime::format_duration(self.interval)
        )
        .into()
    }

    fn respond<'a>(&'a self, _request: &'a Request<'a>) -> Answer<'a> {
        let body = DripBody::new(self.bytes, self.interval);
        Answer::now(
            http::Response::builder()
                .header("content-type", "text/plain")
                .body(Body::boxed(body))
                .expect("a response with a fixed valid header always builds"),
        )
    }
}

/// The wait for a drip's next byte.
type Wait = Pin<Box<dyn Future<Output = ()> + Send + Sync>>;

/// A body that yields one byte (`*`) each time its timer fires. Byte `i` is
/// due `i` intervals after the body began, so late wake-ups never add up.
pub(crate) struct DripBody {
    remaining: usize,
    interval: Duration,
    /// When the next byte is due; `None` once that falls past the clock's
    /// range.
    due: Option<Instant>,
    /// The wait for the next byte; `None` when it never comes.
    next: Option<Wait>,
}

impl DripBody {
    /// `bytes` bytes, the first after `interval`, then one every `interval`.
    pub(crate) fn new(bytes: usize, interval: Duration) -> Self {
        let due = Instant::now().checked_add(interval);
        // A first byte past the clock's range comes when tokio's timer
        // fires at its far future, as its sleep does.
        let first: Wait = match due {
            Some(due) => Box::pin(timer::sleep_until(due)),
            None => Box::pin(tokio::time::sleep(interval)),
        };
        DripBody {
            remaining: bytes,
            interval,
            due,
            next: Some(first),
        }
    }

    /// Starts the wait for the byte one interval after the last one's due
    /// time.
    fn wait_for_next(&mut self) {
        self.due = self.due.and_then(|due| due.checked_add(self.interval));
        self.next = self
            .due
            .map(|due| Box::pin(timer::sleep_until(due)) as Wait);
    }
}

impl hyper::body::Body for DripBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        // httpbin's `/drip` may ask for any interval: one past the clock's
        // range is a byte that never comes, until the client or server leaves.
        let Some(next) = self.next.as_mut() else {
            return Poll::Pending;
        };
        ready!(next.as_mut().poll(cx));
        self.remaining -= 1;
        if self.remaining > 0 {
            self.wait_for_next();
        }
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"*")))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining as u64)
    }
}

impl Fault {
    /// `drip`: the body a byte at a time.
    pub fn drip() -> Fault {
        Drip::default().into()
    }
}

impl FaultLeaf for Drip {
    fn shape(&self) -> Option<Shape> {
        let pace = Pace::Drip(self.interval);
        Some(Shape {
            pace,
            ..Shape::PASS
        })
    }

    fn handling(&self) -> Handling<'_> {
        Handling::Respond(self)
    }

    fn validate(&self) -> Result<(), String> {
        bulk::check_size("drip", "bytes", self.bytes)?;
        bulk::check_wait("drip", "interval", self.interval)
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[test]
    fn a_size_or_an_interval_past_its_limit_is_refused_with_the_range() {
        let drip = |bytes, interval| Drip { bytes, interval };
        assert!(
            drip(usize::MAX, Duration::ZERO)
                .validate()
                .unwrap_err()
                .starts_with("drip `bytes` 18446744073709551615 is out of range; use 0 to")
        );
        assert!(
            drip(1, Duration::MAX)
                .validate()
                .unwrap_err()
                .ends_with("is too long; use 0s to 10years")
        );
        assert!(Drip::default().validate().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_byte_due_past_the_clocks_range_never_comes_and_never_panics() {
        // httpbin's `/drip` is not validated: any interval reaches the body.
        let mut body = DripBody::new(2, Duration::MAX);
        let first = body
            .frame()
            .await
            .expect("the first byte")
            .expect("infallible");
        assert_eq!(first.into_data().ok().as_deref(), Some(&b"*"[..]));
        let second = tokio::time::timeout(Duration::from_secs(3600), body.frame()).await;
        assert!(second.is_err(), "the second byte came: {second:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn drip_sends_3_bytes_one_a_second() {
        let fault = Drip {
            bytes: 3,
            interval: Duration::from_secs(1),
        };
        let client = Builder::new()
            .read(mock::GET)
            .write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\n***")
            .build();
        let start = Instant::now();
        mock::respond(&fault, client).await;
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }
}
