//! Sending an upstream's response to the client as a [`Shape`] says: paced,
//! cut short, closed late.

use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use crate::conn::client_error_ending;
use crate::fault::{Cut, Pace, Shape, time_at_rate};
use crate::journal::{AttemptLog, Ending};
use crate::server::relay::exchange::Flow;
use crate::timer;

/// How often a rate-limited response leaves in slices.
const RATE_TICK: Duration = Duration::from_millis(20);

/// What became of a piece of the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Sent whole; the response goes on.
    Whole,
    /// The shape's cut fell in it: the connection is to end now.
    Cut(Close),
}

/// How a cut ends the client's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Close {
    Fin,
    Rst,
}

/// One response on its way to the client.
pub(crate) struct Shaped {
    shape: Shape,
    /// When the first byte left, for a rate.
    started: Option<Instant>,
    /// When the last dripped byte was due, for the next one's time.
    dripped: Option<Instant>,
    /// Response bytes sent, head included.
    sent: u64,
    /// Body bytes sent.
    body_sent: u64,
    /// The body's length, when the head declared it.
    body_length: Option<u64>,
    /// Where the first chunk's data starts and its size, once known.
    first_chunk: Option<(u64, u64)>,
    chunked: bool,
}

impl Shaped {
    pub(crate) fn new(shape: Shape) -> Shaped {
        Shaped {
            shape,
            started: None,
            dripped: None,
            sent: 0,
            body_sent: 0,
            body_length: None,
            first_chunk: None,
            chunked: false,
        }
    }

    /// Says how the body is framed: its length, or that it is chunked.
    pub(crate) fn framed(&mut self, body_length: Option<u64>, chunked: bool) {
        self.body_length = body_length;
        self.chunked = chunked;
    }

    /// Says where the first chunk's data lies, once the body's reader knows.
    pub(crate) fn first_chunk(&mut self, at: Option<(u64, u64)>) {
        if self.first_chunk.is_none() {
            self.first_chunk = at;
        }
    }

    /// Sends the response's head, after the shape's wait.
    pub(crate) async fn head<W: AsyncWrite + Unpin>(
        &mut self,
        to: &mut W,
        bytes: &[u8],
    ) -> Result<Sent, Ending> {
        // A timer, even of zero, waits for the clock's next tick (1 ms).
        if !self.shape.head_delay.is_zero() {
            timer::sleep(self.shape.head_delay).await;
        }
        let room = match self.shape.cut {
            Cut::Bytes(limit) => limit.saturating_sub(self.sent),
            Cut::ResetBeforeHead => return Ok(Sent::Cut(Close::Rst)),
            _ => u64::MAX,
        };
        self.write(to, bytes, room, false).await
    }

    /// Sends a piece of the body, as much of it as the cut allows.
    pub(crate) async fn body<W: AsyncWrite + Unpin>(
        &mut self,
        to: &mut W,
        bytes: &[u8],
    ) -> Result<Sent, Ending> {
        let room = self.body_room();
        self.write(to, bytes, room, true).await
    }

    /// Journals where a cut fell, and says how the connection ends.
    pub(crate) fn cut(&self, log: &AttemptLog, close: Close) -> Flow {
        log.also(format!(
            "the cut fell after {} bytes of the response, {} of them body",
            self.sent, self.body_sent
        ));
        Flow::Ends(Bytes::new(), close)
    }

    /// What the response's end does: nothing, or the slow close's wait.
    pub(crate) async fn end(&mut self) {
        if let Some(delay) = self.shape.close_delay {
            timer::sleep(delay).await;
        }
    }

    /// Body bytes that may still go before the cut.
    fn body_room(&self) -> u64 {
        let short_of_whole = |n: u64| match self.body_length {
            Some(length) => n.min(length.saturating_sub(1)),
            None => n,
        };
        let limit = match self.shape.cut {
            Cut::Never => return u64::MAX,
            Cut::Bytes(limit) => return limit.saturating_sub(self.sent),
            Cut::ResetBeforeHead => 0,
            Cut::BodyBytes(n) | Cut::ResetAfterBody(n) => short_of_whole(n),
            Cut::InFirstChunk(n) if self.chunked => match self.first_chunk {
                Some((start, size)) => start + n.min(size.saturating_sub(1)),
                None => u64::MAX,
            },
            Cut::InFirstChunk(n) => short_of_whole(n),
        };
        limit.saturating_sub(self.body_sent)
    }

    /// Writes up to `room` bytes of `bytes`, paced; a cut when `room` is
    /// shorter than them.
    async fn write<W: AsyncWrite + Unpin>(
        &mut self,
        to: &mut W,
        bytes: &[u8],
        room: u64,
        body: bool,
    ) -> Result<Sent, Ending> {
        let whole = (bytes.len() as u64) <= room;
        let bytes = &bytes[..bytes.len().min(room as usize)];
        let started = *self.started.get_or_insert_with(Instant::now);
        let sent = match self.shape.pace {
            Pace::Drip(interval) if body => drip(to, bytes, interval, &mut self.dripped).await,
            Pace::Rate(rate) => at_rate(to, bytes, rate, started, self.sent).await,
            Pace::Slices(size, delay) => in_slices(to, bytes, size, delay, self.sent > 0).await,
            _ => send(to, bytes).await,
        };
        sent?;
        self.sent += bytes.len() as u64;
        if body {
            self.body_sent += bytes.len() as u64;
        }
        match (whole, self.shape.cut) {
            (true, _) => Ok(Sent::Whole),
            (false, Cut::ResetAfterBody(_)) => Ok(Sent::Cut(Close::Rst)),
            (false, _) => Ok(Sent::Cut(Close::Fin)),
        }
    }
}

/// Writes all of `bytes` and flushes them (TLS holds bytes back until then).
pub(crate) async fn send<W: AsyncWrite + Unpin>(to: &mut W, bytes: &[u8]) -> Result<(), Ending> {
    let sent = async {
        to.write_all(bytes).await?;
        to.flush().await
    };
    sent.await.map_err(|e| client_error_ending(&e))
}

/// Sends `bytes` one byte per `interval`, each due one interval after the
/// last byte's due time, so that late wake-ups never add up; when the
/// upstream kept the body waiting past a byte's time, the count starts again
/// from now.
async fn drip<W: AsyncWrite + Unpin>(
    to: &mut W,
    bytes: &[u8],
    interval: Duration,
    last_due: &mut Option<Instant>,
) -> Result<(), Ending> {
    let now = Instant::now();
    let mut due = match *last_due {
        Some(due) if due.checked_add(interval).is_some_and(|next| next >= now) => due,
        _ => now,
    };
    for byte in bytes.chunks(1) {
        // A byte due past the clock's range never leaves.
        due = match due.checked_add(interval) {
            Some(next) => next,
            None => return std::future::pending().await,
        };
        timer::sleep_until(due).await;
        send(to, byte).await?;
        *last_due = Some(due);
    }
    Ok(())
}

/// Sends `bytes` so that the response's first `k` bytes have left no
/// sooner than the rate would have carried them from its start: each piece
/// leaves when its last byte is due, measured from the start so that
/// rounding never drifts.
async fn at_rate<W: AsyncWrite + Unpin>(
    to: &mut W,
    bytes: &[u8],
    rate: u64,
    started: Instant,
    before: u64,
) -> Result<(), Ending> {
    let rate = rate.max(1);
    let slice = (u128::from(rate) * RATE_TICK.as_millis() / 1000).clamp(1, 64 * 1024) as usize;
    let mut offset = before;
    for piece in bytes.chunks(slice) {
        offset += piece.len() as u64;
        match time_at_rate(offset, rate).and_then(|due| started.checked_add(due)) {
            Some(due) => timer::sleep_until(due).await,
            None => return std::future::pending().await,
        }
        send(to, piece).await?;
    }
    Ok(())
}

/// Sends `bytes` in writes of `size`, `delay` apart (and after the last
/// write before them, when `after` is true).
async fn in_slices<W: AsyncWrite + Unpin>(
    to: &mut W,
    bytes: &[u8],
    size: usize,
    delay: Duration,
    after: bool,
) -> Result<(), Ending> {
    for (i, piece) in bytes.chunks(size.max(1)).enumerate() {
        if i > 0 || after {
            timer::sleep(delay).await;
        }
        send(to, piece).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll, ready};

    use tokio_test::io::Builder;

    use super::*;

    fn paced(pace: Pace) -> Shaped {
        Shaped::new(Shape {
            pace,
            ..Shape::PASS
        })
    }

    /// A client whose every write takes `delay` from when it is made.
    struct SlowClient {
        delay: Duration,
        write: Option<Pin<Box<tokio::time::Sleep>>>,
        got: Vec<u8>,
    }

    impl AsyncWrite for SlowClient {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            let delay = self.delay;
            let write = self
                .write
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
            ready!(write.as_mut().poll(cx));
            self.write = None;
            self.got.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_write_does_not_push_the_next_dripped_bytes_back() {
        // Each write takes 3 ms: bytes due at 10, 20 and 30 ms are written
        // by 13, 23 and 33 ms, not one interval after each other's write.
        let mut client = SlowClient {
            delay: Duration::from_millis(3),
            write: None,
            got: Vec::new(),
        };
        let mut shaped = paced(Pace::Drip(Duration::from_millis(10)));
        let start = Instant::now();
        assert_eq!(shaped.body(&mut client, b"abc").await, Ok(Sent::Whole));
        assert_eq!(start.elapsed(), Duration::from_millis(33));
        assert_eq!(client.got, b"abc");
    }

    #[tokio::test(start_paused = true)]
    async fn a_dripped_body_in_pieces_keeps_one_schedule_unless_the_upstream_lags() {
        let mut client = Builder::new().write(b"a").write(b"b").write(b"c").build();
        let mut shaped = paced(Pace::Drip(Duration::from_millis(10)));
        let start = Instant::now();
        shaped.body(&mut client, b"a").await.unwrap();
        shaped.body(&mut client, b"b").await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(20));
        // The upstream keeps the next piece 50 ms: it waits a whole interval.
        tokio::time::sleep(Duration::from_millis(50)).await;
        shaped.body(&mut client, b"c").await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(80));
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_sends_each_piece_once_the_rate_has_carried_it() {
        // 1000 B/s leaves in 20-byte pieces, each when its last byte is due.
        let mut client = Builder::new()
            .write(&[7; 20])
            .write(&[7; 20])
            .write(&[7; 10])
            .build();
        let mut shaped = paced(Pace::Rate(1000));
        let start = Instant::now();
        shaped.body(&mut client, &[7; 50]).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(50));
    }
}
