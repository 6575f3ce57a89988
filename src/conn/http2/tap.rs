//! The write side of an HTTP/2 connection, between the `h2` crate and the
//! socket. It follows the frames h2 writes, so it can drop some (a PING's
//! ACK, for `h2-ping-silence`) and put frames of its own between two of
//! h2's (a GOAWAY with a chosen last-stream-id, a broken frame), which h2
//! has no way to write.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use atomic_waker::AtomicWaker;
use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

use super::frame::{self, HEADER_LEN, Header};

/// Bytes the tap holds for the socket before it asks h2 to wait.
const HIGH_WATER: usize = 64 * 1024;

/// What the connection's streams ask of its tap. What the tap reads on
/// every write and read is in atomics; the lock is for the rare rest.
#[derive(Default)]
pub(crate) struct TapControl {
    state: Mutex<Control>,
    written: Notify,
    /// The task driving the connection, woken to write what was queued.
    waker: AtomicWaker,
    /// True while frames wait in `Control::queued`.
    queued: AtomicBool,
    drop_ping_acks: AtomicBool,
    /// True once a stream is watched (see `Control::streams`).
    watching: AtomicBool,
}

#[derive(Default)]
struct Control {
    /// Frames to put in at the next boundary between two of h2's frames.
    queued: Vec<Bytes>,
    /// Frames queued or held that have not reached the socket yet.
    unwritten: usize,
    dropped_ping_acks: u64,
    /// What reached the socket of each stream watched: only a connection
    /// where a fault waits on a stream costs the tap any bookkeeping.
    streams: HashMap<u32, Written>,
}

/// What of one stream's response reached the socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Written {
    pub(crate) headers: bool,
    pub(crate) data: u64,
}

impl TapControl {
    fn state(&self) -> MutexGuard<'_, Control> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `frame` between two of h2's frames, as soon as the connection
    /// is next driven.
    pub(crate) fn inject(&self, frame: Bytes) {
        {
            let mut state = self.state();
            state.queued.push(frame);
            state.unwritten += 1;
        }
        self.queued.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// From now on, the PINGs the client sends are never answered.
    pub(crate) fn drop_ping_acks(&self) {
        self.drop_ping_acks.store(true, Ordering::Relaxed);
    }

    /// How many PING ACKs were kept from the client.
    #[cfg(test)]
    pub(crate) fn dropped_ping_acks(&self) -> u64 {
        self.state().dropped_ping_acks
    }

    /// Starts counting what of stream `id` reaches the socket, before any
    /// of its frames is sent.
    pub(crate) fn watch(&self, id: u32) {
        self.state().streams.entry(id).or_default();
        self.watching.store(true, Ordering::Release);
    }

    /// Waits until stream `id`'s headers (when `headers`) and `data` bytes
    /// of its DATA have reached the socket.
    pub(crate) async fn stream_written(&self, id: u32, headers: bool, data: u64) {
        loop {
            let written = self.written.notified();
            let so_far = self.state().streams.get(&id).copied().unwrap_or_default();
            if (so_far.headers || !headers) && so_far.data >= data {
                return;
            }
            written.await;
        }
    }

    /// Forgets what was written of stream `id`, which has ended.
    pub(crate) fn forget(&self, id: u32) {
        self.state().streams.remove(&id);
    }

    /// Waits until every injected frame has reached the socket.
    pub(crate) async fn injected_written(&self) {
        loop {
            let written = self.written.notified();
            if self.state().unwritten == 0 {
                return;
            }
            written.await;
        }
    }
}

/// Where the tap is in the stream of frames h2 writes.
#[derive(Default)]
struct Cursor {
    header: [u8; HEADER_LEN],
    /// Bytes of the current header seen so far.
    have: usize,
    /// Payload bytes of the current frame still to come.
    left: u32,
    /// True while the current frame is being dropped.
    dropping: bool,
}

impl Cursor {
    fn at_boundary(&self) -> bool {
        self.have == 0 && self.left == 0
    }

    /// Passes `bytes` from h2 to `out`, leaving out the frames to drop;
    /// returns how many frames it dropped.
    fn feed(
        &mut self,
        mut bytes: &[u8],
        out: &mut BytesMut,
        drop_ping_acks: bool,
        passed: &mut Vec<(usize, Header)>,
    ) -> u64 {
        let mut dropped = 0;
        while !bytes.is_empty() {
            if self.left > 0 {
                let n = bytes.len().min(self.left as usize);
                if !self.dropping {
                    out.extend_from_slice(&bytes[..n]);
                }
                self.left -= n as u32;
                bytes = &bytes[n..];
                continue;
            }
            let n = bytes.len().min(HEADER_LEN - self.have);
            self.header[self.have..self.have + n].copy_from_slice(&bytes[..n]);
            self.have += n;
            bytes = &bytes[n..];
            if self.have == HEADER_LEN {
                let header = Header::parse(&self.header);
                self.dropping = drop_ping_acks && header.is_ping_ack();
                if self.dropping {
                    dropped += 1;
                } else {
                    passed.push((out.len(), header));
                    out.extend_from_slice(&self.header);
                }
                self.have = 0;
                self.left = header.length;
            }
        }
        dropped
    }
}

/// An HTTP/2 connection's socket, as h2 sees it.
pub(crate) struct Tap<T> {
    inner: T,
    control: Arc<TapControl>,
    cursor: Cursor,
    /// Bytes accepted from h2 (and injected) not yet written to the socket.
    out: BytesMut,
    /// Bytes ever put in `out`, and ever written from it.
    appended: u64,
    written: u64,
    /// Where in the output each injected frame not yet written ends.
    injected_ends: VecDeque<u64>,
    /// Where in the output each HEADERS and DATA frame not yet written
    /// ends, with its stream and its payload's length.
    responses: VecDeque<(u64, Header)>,
    /// The frame headers a write passed on, reused.
    passed: Vec<(usize, Header)>,
}

impl<T> Tap<T> {
    pub(crate) fn new(inner: T, control: Arc<TapControl>) -> Self {
        Tap {
            inner,
            control,
            cursor: Cursor::default(),
            out: BytesMut::new(),
            appended: 0,
            written: 0,
            injected_ends: VecDeque::new(),
            responses: VecDeque::new(),
            passed: Vec::new(),
        }
    }

    /// Moves the queued frames into the output, when h2 is between frames.
    fn take_queued(&mut self) {
        if !self.cursor.at_boundary() || !self.control.queued.swap(false, Ordering::Acquire) {
            return;
        }
        let queued = std::mem::take(&mut self.control.state().queued);
        for frame in queued {
            self.out.extend_from_slice(&frame);
            self.appended += frame.len() as u64;
            self.injected_ends.push_back(self.appended);
        }
    }

    fn note_written(&mut self, n: usize) {
        self.out.advance(n);
        self.written += n as u64;
        let mut done = 0;
        while self
            .injected_ends
            .front()
            .is_some_and(|&end| end <= self.written)
        {
            self.injected_ends.pop_front();
            done += 1;
        }
        let responded = self
            .responses
            .front()
            .is_some_and(|(end, _)| *end <= self.written);
        if done == 0 && !responded {
            return;
        }
        let mut state = self.control.state();
        state.unwritten -= done;
        while let Some((_, header)) = self
            .responses
            .front()
            .filter(|(end, _)| *end <= self.written)
        {
            if let Some(written) = state.streams.get_mut(&header.stream) {
                match header.kind {
                    frame::HEADERS => written.headers = true,
                    _ => written.data += u64::from(header.length),
                }
            }
            self.responses.pop_front();
        }
        drop(state);
        self.control.written.notify_waiters();
    }
}

impl<T: AsyncWrite + Unpin> Tap<T> {
    /// Writes what the tap holds; ready once it holds nothing.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.out.is_empty() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.out))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.note_written(n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for Tap<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.control.waker.register(cx.waker());
        // h2 always reads, so the frames a stream injected leave from here
        // when h2 itself has nothing to write.
        this.take_queued();
        if !this.out.is_empty() {
            // A failed write shows again on h2's next write.
            let _ = this.drain(cx);
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tap<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.out.len() >= HIGH_WATER {
            ready!(this.drain(cx))?;
        }
        let drop_ping_acks = this.control.drop_ping_acks.load(Ordering::Relaxed);
        let watching = this.control.watching.load(Ordering::Acquire);
        let before = this.out.len();
        let dropped = this
            .cursor
            .feed(buf, &mut this.out, drop_ping_acks, &mut this.passed);
        for (at, header) in this.passed.drain(..) {
            let response = matches!(header.kind, frame::HEADERS | frame::DATA);
            if watching && header.stream != 0 && response {
                let start = this.appended + (at - before) as u64;
                let end = start + (HEADER_LEN as u64) + u64::from(header.length);
                this.responses.push_back((end, header));
            }
        }
        this.appended += (this.out.len() - before) as u64;
        if dropped > 0 {
            this.control.state().dropped_ping_acks += dropped;
        }
        this.take_queued();
        // h2 flushes after every batch of frames; the tap writes them then,
        // together.
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.take_queued();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.take_queued();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::super::frame::{self, ACK, PING};
    use super::*;
    use crate::journal::Http2Code;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn ping(flags: u8) -> Bytes {
        frame::frame(PING, flags, 0, &[1; 8])
    }

    #[tokio::test]
    async fn frames_pass_whole_and_injections_land_between_them() {
        let (near, mut far) = tokio::io::duplex(1 << 20);
        let control = Arc::new(TapControl::default());
        let mut tap = Tap::new(near, control.clone());
        let data = frame::frame(frame::DATA, 0, 1, &[7; 100]);
        // h2 hands over a frame in pieces; the injection waits for its end.
        tap.write_all(&data[..5]).await.unwrap();
        control.inject(frame::go_away(0, Http2Code::NO_ERROR));
        tap.write_all(&data[5..50]).await.unwrap();
        tap.write_all(&data[50..]).await.unwrap();
        tap.flush().await.unwrap();
        control.injected_written().await;
        let mut got = vec![0; data.len() + 17];
        far.read_exact(&mut got).await.unwrap();
        assert_eq!(&got[..data.len()], &data[..]);
        assert_eq!(
            &got[data.len()..],
            &frame::go_away(0, Http2Code::NO_ERROR)[..]
        );
    }

    #[tokio::test]
    async fn ping_acks_are_dropped_once_asked_and_pings_are_not() {
        let (near, mut far) = tokio::io::duplex(1 << 20);
        let control = Arc::new(TapControl::default());
        let mut tap = Tap::new(near, control.clone());
        tap.write_all(&ping(ACK)).await.unwrap();
        control.drop_ping_acks();
        for piece in ping(ACK).chunks(4) {
            tap.write_all(piece).await.unwrap();
        }
        tap.write_all(&ping(0)).await.unwrap();
        tap.flush().await.unwrap();
        drop(tap);
        let mut got = Vec::new();
        far.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, [ping(ACK), ping(0)].concat());
        assert_eq!(control.dropped_ping_acks(), 1);
    }

    #[tokio::test]
    async fn an_injection_leaves_while_h2_only_reads() {
        let (near, mut far) = tokio::io::duplex(1 << 20);
        let control = Arc::new(TapControl::default());
        let mut tap = Tap::new(near, control.clone());
        let reading = tokio::spawn(async move {
            let mut byte = [0];
            tap.read(&mut byte).await.map(|_| byte)
        });
        tokio::task::yield_now().await;
        control.inject(frame::go_away(3, Http2Code::CANCEL));
        let mut got = [0; 17];
        tokio::time::timeout(std::time::Duration::from_secs(5), far.read_exact(&mut got))
            .await
            .expect("the injected frame left without a write from h2")
            .unwrap();
        assert_eq!(&got[..], &frame::go_away(3, Http2Code::CANCEL)[..]);
        far.write_all(b"x").await.unwrap();
        assert_eq!(reading.await.unwrap().unwrap(), *b"x");
    }
}
