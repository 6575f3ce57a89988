//! The proxy's connection to the upstream: connecting, reading the
//! response head as sent, and the response body piece by piece.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::time::Instant;

use crate::conn::framing::BodyEnd;
use crate::journal::{UpstreamConnection, UpstreamLeg};

/// How long the proxy waits for the upstream to accept a connection.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest response head the proxy reads; past it, the bytes are passed on
/// as they are, however they arrived.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Most headers a response head may carry to be read as one.
const MAX_HEADERS: usize = 256;

pub(crate) struct Upstream {
    address: String,
    stream: TcpStream,
    buffered: BytesMut,
    /// Bytes each way since the leg was last taken.
    sent: u64,
    received: u64,
    /// How this connection was had, for the next leg taken.
    connection: UpstreamConnection,
}

/// A response head as the upstream sent it.
pub(crate) struct ResponseHead {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) bytes: Bytes,
}

impl ResponseHead {
    pub(crate) fn header_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// True when the upstream says it closes after this response.
    pub(crate) fn closes(&self) -> bool {
        self.header_pairs().any(|(n, v)| {
            n.eq_ignore_ascii_case("connection") && v.to_ascii_lowercase().contains("close")
        }) || self.bytes.starts_with(b"HTTP/1.0")
    }
}

/// Why no response head could be read: the bytes that did arrive are in it,
/// to be passed on as they are.
pub(crate) enum NoResponse {
    /// The upstream closed (or reset, `reset` true) first.
    Closed { bytes: Bytes, reset: bool },
    /// The bytes are not an HTTP/1 response head.
    NotHttp(Bytes),
}

impl Upstream {
    /// Connects to `address`, within [`CONNECT_TIMEOUT`].
    pub(crate) async fn connect(address: &str) -> Result<Upstream, UpstreamConnection> {
        let started = Instant::now();
        let stream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address)).await
        {
            Err(_) => return Err(UpstreamConnection::TimedOut),
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                return Err(UpstreamConnection::Refused);
            }
            Ok(Err(e)) => return Err(UpstreamConnection::Failed(e.to_string())),
            Ok(Ok(stream)) => stream,
        };
        let _ = stream.set_nodelay(true);
        Ok(Upstream {
            address: address.to_owned(),
            stream,
            buffered: BytesMut::new(),
            sent: 0,
            received: 0,
            connection: UpstreamConnection::Opened(started.elapsed()),
        })
    }

    /// The leg so far.
    pub(crate) fn leg(&self) -> UpstreamLeg {
        UpstreamLeg {
            address: self.address.clone(),
            connection: self.connection.clone(),
            bytes_sent: self.sent,
            bytes_received: self.received,
        }
    }

    /// The leg so far, counts restarting from zero; the next is `Reused`.
    pub(crate) fn take_leg(&mut self) -> UpstreamLeg {
        let leg = self.leg();
        (self.sent, self.received) = (0, 0);
        self.connection = UpstreamConnection::Reused;
        leg
    }

    /// Its reading and writing sides, to use at the same time.
    pub(crate) fn split(&mut self) -> (UpstreamReader<'_>, UpstreamWriter<'_>) {
        let (read, write) = self.stream.split();
        let reader = UpstreamReader {
            read,
            buffered: &mut self.buffered,
            received: &mut self.received,
        };
        let writer = UpstreamWriter {
            write,
            sent: &mut self.sent,
        };
        (reader, writer)
    }
}

/// The upstream as one byte stream, for a tunnel: what passes through it
/// counts in the leg as the relay's own reads and writes do.
impl AsyncRead for Upstream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        // Buffered bytes were counted when they were read.
        if !this.buffered.is_empty() {
            let n = this.buffered.len().min(buf.remaining());
            buf.put_slice(&this.buffered.split_to(n));
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        this.received += (buf.filled().len() - before) as u64;
        poll
    }
}

impl AsyncWrite for Upstream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            self.sent += n as u64;
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The side of the upstream connection the proxy writes requests to.
pub(crate) struct UpstreamWriter<'a> {
    write: WriteHalf<'a>,
    sent: &'a mut u64,
}

impl UpstreamWriter<'_> {
    pub(crate) async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.write.write_all(bytes).await?;
        *self.sent += bytes.len() as u64;
        Ok(())
    }
}

/// The side of the upstream connection the proxy reads responses from.
pub(crate) struct UpstreamReader<'a> {
    read: ReadHalf<'a>,
    buffered: &'a mut BytesMut,
    received: &'a mut u64,
}

impl UpstreamReader<'_> {
    async fn fill(&mut self) -> io::Result<usize> {
        self.buffered.reserve(16 * 1024);
        let n = self.read.read_buf(self.buffered).await?;
        *self.received += n as u64;
        Ok(n)
    }

    /// Reads the next response head (an interim 1xx one included).
    pub(crate) async fn read_head(&mut self) -> Result<ResponseHead, NoResponse> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(self.buffered) {
                Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD_BYTES => {
                    let status = response.code.unwrap_or_default();
                    let headers = response
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_owned(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect();
                    let bytes = self.buffered.split_to(len).freeze();
                    return Ok(ResponseHead {
                        status,
                        headers,
                        bytes,
                    });
                }
                Ok(httparse::Status::Partial) if self.buffered.len() <= MAX_HEAD_BYTES => {}
                _ => return Err(NoResponse::NotHttp(self.buffered.split().freeze())),
            }
            match self.fill().await {
                Ok(1..) => {}
                Ok(0) => return Err(self.closed(false)),
                Err(e) => return Err(self.closed(e.kind() == io::ErrorKind::ConnectionReset)),
            }
        }
    }

    fn closed(&mut self, reset: bool) -> NoResponse {
        let bytes = self.buffered.split().freeze();
        NoResponse::Closed { bytes, reset }
    }

    /// The next piece of the response body that `end` follows; `None` once
    /// it is complete (for a body that ends at the close, once the upstream
    /// closed). `Err(reset)` when the upstream ended it short.
    pub(crate) async fn read_body(&mut self, end: &mut BodyEnd) -> Result<Option<Bytes>, bool> {
        if end.is_done() {
            return Ok(None);
        }
        if self.buffered.is_empty() {
            match self.fill().await {
                Ok(0) if end.until_close() => {
                    end.closed();
                    return Ok(None);
                }
                Ok(0) => return Err(false),
                Ok(_) => {}
                Err(e) => return Err(e.kind() == io::ErrorKind::ConnectionReset),
            }
        }
        Ok(Some(self.body_buffered(end)))
    }

    /// The part of the body that `end` follows already read, without
    /// waiting for more.
    pub(crate) fn body_buffered(&mut self, end: &mut BodyEnd) -> Bytes {
        let used = end.scan(self.buffered).unwrap_or_else(|_| {
            end.stop();
            self.buffered.len()
        });
        self.buffered.split_to(used).freeze()
    }

    /// Takes every byte read but not yet passed on.
    pub(crate) fn take_buffered(&mut self) -> Bytes {
        self.buffered.split().freeze()
    }
}
