//! The connection, lent to a protocol engine (hyper, h2) one read or write
//! at a time, so that a transport fault can take it back once the engine
//! is dropped.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::conn::Conn;

/// The connection, lent one read or write at a time.
#[derive(Clone)]
pub(crate) struct Slot(Arc<Mutex<Option<Conn>>>);

impl Slot {
    pub(crate) fn new(conn: Conn) -> Self {
        Slot(Arc::new(Mutex::new(Some(conn))))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Conn>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn take(&self) -> Option<Conn> {
        self.lock().take()
    }

    fn with<T>(
        &self,
        f: impl FnOnce(Pin<&mut Conn>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match self.lock().as_mut() {
            Some(conn) => f(Pin::new(conn)),
            None => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }
}

impl AsyncRead for Slot {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.with(|conn| conn.poll_read(cx, buf))
    }
}

impl AsyncWrite for Slot {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.with(|conn| conn.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.with(|conn| conn.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.with(|conn| conn.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.with(|conn| conn.poll_shutdown(cx))
    }
}
