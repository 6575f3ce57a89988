//! `Conn`: one accepted TCP connection, with byte counts and the ways it can end;
//! [`Exchange`], what a transport fault acts on for one attempt; and the bytes
//! of responses written by hand (`wire`).
//!
//! This layer sits below the faults and above the journal: faults act on a
//! `Conn` or an `Exchange`, and the server hands each connection to them.
//!
//! Faults never touch a `TcpStream` directly: they read the request head, write
//! bytes and end the connection through `Conn`, so that every byte is counted
//! and every ending is recorded the same way.
//!
//! Behind TLS the same holds: the stream is then a TLS stream over the TCP
//! connection, the counts are of the bytes inside it, and the endings still
//! act on the TCP socket beneath (a reset is a TCP RST).
//!
//! In unit tests the stream can be a scripted client instead (`mock`), with
//! no socket beneath: `Conn` then answers each socket-level call as a socket
//! would, so a fault ends, and is journaled, exactly as it is on the wire.

mod exchange;
pub(crate) mod framing;
pub(crate) mod http2;
#[cfg(test)]
mod mock;
mod stream;
pub(crate) mod wire;

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, Interest, ReadBuf};

use crate::journal::{Ending, Traffic};
use crate::request::{self, HeadError, RequestHead};
pub(crate) use exchange::Exchange;
use framing::BodyEnd;
pub(crate) use stream::Stream;

/// Bytes received and sent on a connection since the meter was last taken,
/// and the status line the sent bytes began with.
#[derive(Default)]
pub(crate) struct Meter {
    received: AtomicU64,
    sent: AtomicU64,
    /// How far the first bytes sent match a status line (see [`StatusLine`]).
    status_line: AtomicU32,
}

impl Meter {
    /// Returns what was counted, and starts counting again from zero.
    pub(crate) fn take(&self) -> Traffic {
        Traffic {
            received: self.received.swap(0, Ordering::Relaxed),
            sent: self.sent.swap(0, Ordering::Relaxed),
            status: StatusLine(self.status_line.swap(0, Ordering::Relaxed)).status(),
        }
    }

    /// Takes what was counted for an attempt after the next request's head,
    /// of `head_len` bytes, was already read: the head's bytes stay counted,
    /// for the attempt it begins.
    pub(crate) fn take_before_head(&self, head_len: u64) -> Traffic {
        let traffic = self.take();
        self.add_received(head_len.min(traffic.received));
        Traffic {
            received: traffic.received.saturating_sub(head_len),
            ..traffic
        }
    }

    /// Bytes received since the meter was last taken, leaving the count as it is.
    pub(crate) fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Bytes sent since the meter was last taken, leaving the count as it is.
    pub(crate) fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub(crate) fn add_received(&self, bytes: u64) {
        self.received.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts `bytes` as sent, reading them for a status line while the
    /// first bytes since the meter was last taken are still undecided. Only
    /// the connection's one writer calls this.
    fn add_sent<'a>(&self, bytes: impl IntoIterator<Item = &'a [u8]>, count: usize) {
        self.sent.fetch_add(count as u64, Ordering::Relaxed);
        let mut line = StatusLine(self.status_line.load(Ordering::Relaxed));
        if line.is_decided() {
            return;
        }
        let mut bytes = bytes.into_iter();
        let mut left = count;
        if line.position() == 0 {
            // Most responses start with their whole status line in one write.
            let first = bytes.next().unwrap_or_default();
            let first = &first[..first.len().min(left)];
            if let Some(whole) = StatusLine::whole(first) {
                self.status_line.store(whole.0, Ordering::Relaxed);
                return;
            }
            line = StatusLine::fed(line, first);
            left -= first.len();
        }
        for chunk in bytes {
            if line.is_decided() || left == 0 {
                break;
            }
            let chunk = &chunk[..chunk.len().min(left)];
            left -= chunk.len();
            line = StatusLine::fed(line, chunk);
        }
        self.status_line.store(line.0, Ordering::Relaxed);
    }
}

/// Reads `HTTP/1.x NNN` off the start of what the server sends, one byte at
/// a time, in one word: the position reached in the high half, the status
/// digits so far in the low half.
#[derive(Clone, Copy)]
struct StatusLine(u32);

impl StatusLine {
    const PREFIX: &'static [u8] = b"HTTP/1.";
    /// Positions: the prefix, the minor version, a space, three digits.
    const COMPLETE: u32 = 12;
    const NOT_A_STATUS_LINE: u32 = 0xFFFF;

    fn position(self) -> u32 {
        self.0 >> 16
    }

    fn is_decided(self) -> bool {
        self.position() >= Self::COMPLETE
    }

    fn status(self) -> Option<u16> {
        (self.position() == Self::COMPLETE).then_some((self.0 & 0xFFFF) as u16)
    }

    /// The status line read at once from `bytes`, when they hold all of it.
    fn whole(bytes: &[u8]) -> Option<StatusLine> {
        let line = bytes.get(..Self::COMPLETE as usize)?;
        let digit = |i: usize| line[i].is_ascii_digit().then(|| u32::from(line[i] - b'0'));
        let well_formed = line.starts_with(Self::PREFIX) && line[8] == b' ';
        let code = digit(9)? * 100 + digit(10)? * 10 + digit(11)?;
        (well_formed && digit(7).is_some()).then_some(StatusLine((Self::COMPLETE << 16) | code))
    }

    /// The status line after `bytes`, read one at a time until decided.
    fn fed(mut self, bytes: &[u8]) -> StatusLine {
        for &byte in bytes {
            if self.is_decided() {
                break;
            }
            self = self.next(byte);
        }
        self
    }

    fn next(self, byte: u8) -> StatusLine {
        let at = self.position();
        let code = self.0 & 0xFFFF;
        let fits = match at {
            0..=6 => byte == Self::PREFIX[at as usize],
            7 | 9..=11 => byte.is_ascii_digit(),
            _ => byte == b' ',
        };
        match (fits, at) {
            (false, _) => StatusLine(Self::NOT_A_STATUS_LINE << 16),
            (true, 9..=11) => StatusLine(((at + 1) << 16) | (code * 10 + u32::from(byte - b'0'))),
            (true, _) => StatusLine(((at + 1) << 16) | code),
        }
    }
}

/// Why no request head could be had from the client.
pub(crate) enum NoRequest {
    /// The connection ended first.
    Ended(Ending),
    /// The bytes received are not a request we accept.
    Unreadable(HeadError),
}

pub(crate) struct Conn {
    stream: Stream,
    /// Bytes read from the socket but not yet consumed.
    buffered: BytesMut,
    meter: Arc<Meter>,
}

impl Conn {
    pub(crate) fn new(stream: Stream) -> Self {
        Conn {
            stream,
            buffered: BytesMut::new(),
            meter: Arc::default(),
        }
    }

    pub(crate) fn meter(&self) -> Arc<Meter> {
        self.meter.clone()
    }

    /// Turns Nagle's algorithm off on the TCP connection (beneath TLS if
    /// there is any), so each write leaves in its own segment.
    pub(crate) fn set_nodelay(&self) -> io::Result<()> {
        #[cfg(test)]
        if let Stream::Mock(_) = self.stream {
            return Ok(());
        }
        self.stream.tcp().set_nodelay(true)
    }

    /// True when the connection speaks TLS.
    pub(crate) fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// True when the TLS handshake agreed on HTTP/2 (ALPN `h2`).
    pub(crate) fn agreed_http2(&self) -> bool {
        match &self.stream {
            Stream::Tls(tls) => tls.get_ref().1.alpn_protocol() == Some(b"h2"),
            _ => false,
        }
    }

    /// Reads until a complete request head is buffered, and consumes it.
    pub(crate) async fn read_head(&mut self) -> Result<RequestHead, NoRequest> {
        self.read_head_bytes().await.map(|(head, _)| head)
    }

    /// Reads a complete request head, and returns it with its bytes as sent.
    pub(crate) async fn read_head_bytes(&mut self) -> Result<(RequestHead, Bytes), NoRequest> {
        loop {
            match request::parse(&self.buffered) {
                Ok(Some((head, len))) => {
                    return Ok((head, self.buffered.split_to(len).freeze()));
                }
                Ok(None) => {}
                Err(e) => return Err(NoRequest::Unreadable(e)),
            }
            match self.fill().await {
                Ok(0) => return Err(NoRequest::Ended(Ending::ClientFin)),
                Ok(_) => {}
                Err(e) => return Err(NoRequest::Ended(client_error_ending(&e))),
            }
        }
    }

    async fn fill(&mut self) -> io::Result<usize> {
        self.buffered.reserve(4096);
        let n = self.stream.read_buf(&mut self.buffered).await?;
        self.meter.received.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    /// The next piece of a request body that `end` follows, as sent; `None`
    /// once the body is complete. Bytes past the body stay buffered for the
    /// next request.
    pub(crate) async fn read_body(&mut self, end: &mut BodyEnd) -> Result<Option<Bytes>, Ending> {
        if end.is_done() {
            return Ok(None);
        }
        if self.buffered.is_empty() {
            match self.fill().await {
                Ok(0) => return Err(Ending::ClientFin),
                Ok(_) => {}
                Err(e) => return Err(client_error_ending(&e)),
            }
        }
        // A broken chunk ends the body where it broke; the upstream judges it.
        let used = end.scan(&self.buffered).unwrap_or_else(|_| {
            end.stop();
            self.buffered.len()
        });
        Ok(Some(self.buffered.split_to(used).freeze()))
    }

    /// Puts `bytes`, read past what was consumed, back in front of what is
    /// buffered.
    pub(crate) fn unread(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        let mut joined = BytesMut::from(&bytes[..]);
        joined.extend_from_slice(&self.buffered);
        self.buffered = joined;
    }

    /// Reads until the bytes received either begin with HTTP/2's connection
    /// preface or cannot, and keeps them buffered for whoever reads next.
    pub(crate) async fn starts_with_http2_preface(&mut self) -> Result<bool, Ending> {
        let preface = http2::frame::PREFACE;
        loop {
            let n = self.buffered.len().min(preface.len());
            if self.buffered[..n] != preface[..n] {
                return Ok(false);
            }
            if n == preface.len() {
                return Ok(true);
            }
            match self.fill().await {
                Ok(0) => return Err(Ending::ClientFin),
                Ok(_) => {}
                Err(e) => return Err(client_error_ending(&e)),
            }
        }
    }

    /// Takes every byte read but not yet consumed.
    pub(crate) fn take_buffered(&mut self) -> Bytes {
        self.buffered.split().freeze()
    }

    /// Waits until the client has sent at least one byte, and keeps it buffered.
    pub(crate) async fn receive(&mut self) -> Result<(), Ending> {
        while self.buffered.is_empty() {
            match self.fill().await {
                Ok(0) => return Err(Ending::ClientFin),
                Ok(_) => {}
                Err(e) => return Err(client_error_ending(&e)),
            }
        }
        Ok(())
    }

    /// Writes all of `bytes` and flushes them (TLS holds bytes back until then).
    pub(crate) async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await?;
        self.meter.add_sent([bytes], bytes.len());
        Ok(())
    }

    /// Reads and discards until the client closes or resets the connection.
    pub(crate) async fn until_client_leaves(&mut self) -> Ending {
        loop {
            self.buffered.clear();
            match self.fill().await {
                Ok(0) => return Ending::ClientFin,
                Ok(_) => {}
                Err(e) => return client_error_ending(&e),
            }
        }
    }

    /// Waits until the client closes or resets the connection without reading
    /// anything it sent, so its request stays unread in the socket buffer.
    pub(crate) async fn until_client_leaves_unread(&mut self) -> Ending {
        #[cfg(test)]
        if let Stream::Mock(client) = &mut self.stream {
            return mock::until_closed(client).await;
        }
        let tcp = self.stream.tcp();
        loop {
            let ready = match tcp.ready(Interest::READABLE).await {
                Ok(ready) => ready,
                Err(e) => return client_error_ending(&e),
            };
            if ready.is_read_closed() || ready.is_error() {
                return match tcp.take_error() {
                    Ok(Some(e)) => client_error_ending(&e),
                    _ => Ending::ClientFin,
                };
            }
            // The socket is readable because request bytes arrived. Clear that
            // readiness without reading, so the next wait sleeps until the peer
            // closes (EPOLLRDHUP) instead of spinning.
            let _ = tcp.try_io(Interest::READABLE, || {
                Err::<(), _>(io::ErrorKind::WouldBlock.into())
            });
        }
    }

    /// Closes with a FIN. Bytes the client already sent are read first:
    /// closing a socket with unread input makes the kernel send an RST instead.
    /// Behind TLS a `close_notify` alert goes first, so the client sees a
    /// clean close, as it would from plain TCP.
    pub(crate) async fn close_fin(&mut self) -> Ending {
        self.discard_pending();
        let _ = self.stream.shutdown().await;
        Ending::ServerFin
    }

    /// Arms an RST: with `SO_LINGER` 0, closing the socket (when the connection
    /// is dropped, right after the fault returns) aborts it with a reset.
    pub(crate) fn close_rst(&mut self) -> Ending {
        #[cfg(test)]
        if let Stream::Mock(_) = self.stream {
            return Ending::ServerRst;
        }
        match socket2::SockRef::from(self.stream.tcp()).set_linger(Some(Duration::ZERO)) {
            Ok(()) => Ending::ServerRst,
            // Setting the option can only fail on a socket that is already gone.
            Err(_) => Ending::ServerFin,
        }
    }

    /// Reads what is waiting in the socket, beneath TLS if there is any: the
    /// connection is closing, so nothing read here needs decrypting.
    fn discard_pending(&mut self) {
        let mut scratch = [0u8; 8192];
        #[cfg(test)]
        if let Stream::Mock(client) = &mut self.stream {
            let n = mock::read_now(client, &mut scratch);
            self.meter.received.fetch_add(n as u64, Ordering::Relaxed);
            return;
        }
        while let Ok(n @ 1..) = self.stream.tcp().try_read(&mut scratch) {
            self.meter.received.fetch_add(n as u64, Ordering::Relaxed);
        }
    }
}

/// How a failed read or write on the client's connection ended it.
pub(crate) fn client_error_ending(error: &io::Error) -> Ending {
    match error.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => Ending::ClientRst,
        _ => Ending::ClientFin,
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.buffered.is_empty() {
            let n = this.buffered.len().min(buf.remaining());
            buf.put_slice(&this.buffered[..n]);
            this.buffered.advance(n);
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        this.meter.received.fetch_add(n as u64, Ordering::Relaxed);
        poll
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            self.meter.add_sent([buf], n);
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = poll {
            self.meter.add_sent(bufs.iter().map(|b| &**b), n);
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(writes: &[&[u8]]) -> Option<u16> {
        let meter = Meter::default();
        for write in writes {
            meter.add_sent([*write], write.len());
        }
        meter.take().status
    }

    #[test]
    fn the_status_line_is_read_off_the_first_bytes_sent() {
        assert_eq!(
            status_of(&[b"HTTP/1.1 503 Service Unavailable\r\n\r\n"]),
            Some(503)
        );
        assert_eq!(
            status_of(&[b"HTT", b"P/1.0 2", b"04", b" No Content"]),
            Some(204)
        );
        assert_eq!(status_of(&[b"HTTP/1.1 200 OK", b"HTTP/1.1 500"]), Some(200));
    }

    #[test]
    fn a_status_line_split_over_one_vectored_write_is_read_whole() {
        let meter = Meter::default();
        let bufs: [&[u8]; 3] = [b"HTTP/1.1 4", b"29 Too Many", b" Requests\r\n"];
        meter.add_sent(bufs, 23);
        assert_eq!(meter.take().status, Some(429));
    }

    #[test]
    fn anything_else_is_no_status_line() {
        assert_eq!(status_of(&[]), None);
        assert_eq!(status_of(&[b"\x16\x03\x01garbage"]), None);
        assert_eq!(status_of(&[b"HTTP/2 200"]), None);
        assert_eq!(
            status_of(&[b"HTTP/1.1 20"]),
            None,
            "cut before the third digit"
        );
        assert_eq!(status_of(&[b"HTTP/1.1 2x0"]), None);
    }

    #[test]
    fn only_the_bytes_written_count_and_each_attempt_starts_afresh() {
        let meter = Meter::default();
        meter.add_sent([&b"HTTP/1.1 404 Not Found"[..]], 10);
        assert_eq!(meter.take().status, None, "only \"HTTP/1.1 4\" was written");
        let halves: [&[u8]; 2] = [b"HTTP/1.1 4", b"29 Too Many"];
        meter.add_sent(halves, 14);
        let traffic = meter.take();
        assert_eq!((traffic.sent, traffic.status), (14, Some(429)));
        assert_eq!(meter.take(), Traffic::default());
    }
}
