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
#[cfg(test)]
mod mock;
mod stream;
pub(crate) mod wire;

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, Interest, ReadBuf};

use crate::journal::Ending;
use crate::request::{self, HeadError, RequestHead};
pub(crate) use exchange::Exchange;
pub(crate) use stream::Stream;

/// Bytes received and sent on a connection since the meter was last taken.
#[derive(Default)]
pub(crate) struct Meter {
    received: AtomicU64,
    sent: AtomicU64,
}

impl Meter {
    /// Returns (received, sent) and starts counting again from zero.
    pub(crate) fn take(&self) -> (u64, u64) {
        (
            self.received.swap(0, Ordering::Relaxed),
            self.sent.swap(0, Ordering::Relaxed),
        )
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

    /// Reads until a complete request head is buffered, and consumes it.
    pub(crate) async fn read_head(&mut self) -> Result<RequestHead, NoRequest> {
        loop {
            match request::parse(&self.buffered) {
                Ok(Some((head, len))) => {
                    self.buffered.advance(len);
                    return Ok(head);
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
        self.meter
            .sent
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
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
            self.meter.sent.fetch_add(n as u64, Ordering::Relaxed);
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
            self.meter.sent.fetch_add(n as u64, Ordering::Relaxed);
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
