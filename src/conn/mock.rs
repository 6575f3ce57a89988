//! The scripted client's side of what `Conn` does on a socket, for unit
//! tests: reading what has arrived without waiting, and waiting for the
//! client to leave. `fault::mock` runs faults over such a client.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use tokio_test::io::Mock;

use crate::conn::client_error_ending;
use crate::journal::Ending;

/// Reads what the client has sent already, without waiting for more, and
/// returns how many bytes that was: the mock's `try_read`.
pub(super) fn read_now(client: &mut Mock, scratch: &mut [u8]) -> usize {
    let mut cx = Context::from_waker(Waker::noop());
    let mut total = 0;
    loop {
        let mut buf = ReadBuf::new(scratch);
        match Pin::new(&mut *client).poll_read(&mut cx, &mut buf) {
            Poll::Ready(Ok(())) if !buf.filled().is_empty() => total += buf.filled().len(),
            _ => return total,
        }
    }
}

/// Waits until the client closes or resets, discarding what it sends
/// without counting it, as a socket left unread would.
pub(super) async fn until_closed(client: &mut Mock) -> Ending {
    let mut scratch = [0u8; 8192];
    loop {
        match client.read(&mut scratch).await {
            Ok(0) => return Ending::ClientFin,
            Ok(_) => {}
            Err(e) => return client_error_ending(&e),
        }
    }
}
