//! Unit tests' scripted clients: a fault runs over `tokio_test::io::Mock`
//! instead of a socket, so a test reads as the request that goes in, the
//! exact bytes that come out, and how the connection ends.
//!
//! The mock checks the bytes itself: a write it does not expect panics, and
//! bytes left unread or unwritten when the connection is dropped panic too.
//! A read after the script's end is the client's FIN; `read_error` with
//! `ConnectionReset` is its RST; `wait` holds the client silent for a while,
//! so tests run with paused time (`#[tokio::test(start_paused = true)]`).
//!
//! What needs a real socket is answered as the socket would: an armed RST is
//! `ServerRst`, `TCP_NODELAY` is accepted, and waiting for the client to
//! leave without reading consumes the script without counting its bytes.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio_test::io::Mock;

use crate::conn::{Conn, Exchange, Stream};
use crate::fault::{FaultLeaf, Handling, Misbehave, Request, Respond};
use crate::journal::{Attempt, DEFAULT_MAX_BYTES, Ending, Journal};
use crate::request::RequestHead;
use crate::tls::Leaf;

/// A plain request, as most clients send it.
pub(crate) const GET: &[u8] = b"GET / HTTP/1.1\r\nhost: test\r\n\r\n";

/// `ok`'s answer to `GET /`, as hyper writes it (without the `date` header).
pub(crate) const OK: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\nok\n";

/// The first bytes of a TLS ClientHello (a handshake record, TLS 1.0 framing).
pub(crate) const CLIENT_HELLO: &[u8] = b"\x16\x03\x01\x00\xf4\x01\x00\x00\xf0\x03\x03";

/// How long a fault may run before the test calls it stuck: any test's
/// scripted waits are far shorter, and paused time makes it instant.
const STUCK: Duration = Duration::from_secs(24 * 3600);

/// `n` bytes of the filler text that generated bodies are made of.
pub(crate) fn filler(n: usize) -> Vec<u8> {
    let line = b"outage filler text 0123456789 abcdefghijklmnopqrstuvwxyz\n";
    line.iter().copied().cycle().take(n).collect()
}

fn peer() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 40_000))
}

/// Runs `fault` on a connection from the scripted `client` as the server
/// does, and returns how it ended and the attempt as journaled.
pub(crate) async fn misbehave(fault: &dyn Misbehave, client: Mock) -> (Ending, Attempt) {
    let journal = Journal::new(1, DEFAULT_MAX_BYTES, None);
    let conn = Conn::new(Stream::Mock(client));
    let mut exchange = Exchange::new(conn, None, journal.begin(0, peer()));
    let ending = tokio::time::timeout(STUCK, fault.run(&mut exchange))
        .await
        .expect("the fault was still running a day later");
    let (conn, log) = exchange.into_parts();
    let meter = conn.meter();
    // The mock panics here if the fault left scripted bytes unread or unwritten.
    drop(conn);
    log.finish(ending, meter.take());
    let attempt = journal.attempts().remove(0);
    (ending, attempt)
}

/// Serves `responder` with hyper on a connection from the scripted `client`,
/// until the client closes. The server's `date` header is left out, so the
/// script can hold every byte of the response.
pub(crate) async fn respond(responder: &dyn Respond, client: Mock) {
    let service = service_fn(|request: http::Request<hyper::body::Incoming>| async move {
        let head = RequestHead::from_hyper(&request);
        let request = Request {
            head: &head,
            attempt: 0,
            peer: peer(),
        };
        Ok::<_, Infallible>(responder.respond(&request).await)
    });
    let served = http1::Builder::new()
        .auto_date_header(false)
        .serve_connection(TokioIo::new(client), service);
    tokio::time::timeout(STUCK, served)
        .await
        .expect("the connection was still open a day later")
        .expect("hyper served the connection");
}

/// A certificate fault's whole behaviour: it presents `leaf`, and once the
/// handshake is done it answers `GET /` exactly as `ok` does.
pub(crate) async fn presents_then_answers_like_ok(fault: &dyn FaultLeaf, leaf: Leaf) {
    assert_eq!(fault.presents(), Some(leaf));
    let Handling::Respond(ok) = fault.handling() else {
        panic!("a certificate fault answers like ok");
    };
    let client = tokio_test::io::Builder::new().read(GET).write(OK).build();
    respond(ok, client).await;
}

/// The response a bulk fault writes for a `size`-byte body of filler text,
/// before it closes: head and body, whole.
pub(crate) fn filler_response(size: usize) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n"
    )
    .into_bytes();
    response.extend(filler(size));
    response
}

/// The error a read sees when the client resets the connection.
pub(crate) fn reset() -> io::Error {
    io::ErrorKind::ConnectionReset.into()
}
