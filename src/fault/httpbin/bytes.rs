//! httpbin's byte routes: `/bytes/{n}` and `/drip`, and the chunked body
//! that `/stream/{n}` sends.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Frame;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::fault::drip::DripBody;
use crate::fault::httpbin::{Query, bad_request, count};
use crate::fault::{Body, BoxFuture, parts};

/// The most bytes `/bytes/{n}` sends, as on httpbin.
const MAX_BYTES: u64 = 100 * 1024;

/// The most bytes `/drip` sends, as on httpbin.
const MAX_DRIP: u64 = 10 * 1024 * 1024;

/// `/bytes/{n}`: `n` random bytes (at most 100 KiB), from `?seed=` when given.
pub(super) fn random(n: &str, query: &Query, rng: &mut ChaCha8Rng) -> http::Response<Body> {
    let n = match count(n) {
        Ok(n) => n.min(MAX_BYTES) as usize,
        Err(response) => return *response,
    };
    let mut rng = match query.number::<u64>("seed", 0) {
        Ok(_) if query.get("seed").is_none() => rng.clone(),
        Ok(seed) => ChaCha8Rng::seed_from_u64(seed),
        Err(message) => return bad_request(&message),
    };
    let mut body = vec![0; n];
    rng.fill_bytes(&mut body);
    parts::build(
        200,
        [("content-type", "application/octet-stream")],
        body.into(),
    )
}

/// `/drip?duration=2&numbytes=10&code=200&delay=0`: waits `delay` seconds,
/// then sends `numbytes` asterisks spread over `duration` seconds.
pub(super) fn drip<'a>(query: Query) -> BoxFuture<'a, http::Response<Body>> {
    Box::pin(async move {
        let settings = (|| {
            let duration: f64 = query.number("duration", 2.0)?;
            let numbytes: u64 = query.number("numbytes", 10)?;
            let code: u16 = query.number("code", 200)?;
            let delay: f64 = query.number("delay", 0.0)?;
            if numbytes == 0 || !(duration >= 0.0 && delay >= 0.0) {
                return Err("numbytes must be positive, duration and delay not negative".to_owned());
            }
            parts::check_code(code)?;
            Ok((duration, numbytes.min(MAX_DRIP), code, delay))
        })();
        let (duration, numbytes, code, delay) = match settings {
            Ok(settings) => settings,
            Err(message) => return bad_request(&message),
        };
        crate::timer::sleep(seconds(delay)).await;
        let interval = seconds(duration / numbytes as f64);
        let body = Body::boxed(DripBody::new(numbytes as usize, interval));
        let mut response = http::Response::new(body);
        *response.status_mut() = http::StatusCode::from_u16(code).expect("checked above");
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/octet-stream"),
        );
        response
    })
}

fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or(Duration::MAX)
}

/// A body sent one chunk per frame, without a length: hyper sends it
/// chunked. Each chunk is made when hyper asks for it, so only one is ever
/// held, however many there are.
pub(super) struct Chunks<I>(I);

impl<I: Iterator<Item = Bytes>> Chunks<I> {
    pub(super) fn new(chunks: I) -> Self {
        Chunks(chunks)
    }
}

impl<I: Iterator<Item = Bytes> + Unpin> hyper::body::Body for Chunks<I> {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.next().map(|chunk| Ok(Frame::data(chunk))))
    }
}
