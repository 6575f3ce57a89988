//! A small HTTP/1.1 load client: keep-alive connections that each send one
//! `GET /` at a time and read the whole response before the next.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n";

/// One keep-alive connection.
struct Connection {
    stream: TcpStream,
    buffer: BytesMut,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Connection {
        let stream = TcpStream::connect(addr).await.expect("the server accepts");
        stream
            .set_nodelay(true)
            .expect("loopback sockets take TCP_NODELAY");
        Connection {
            stream,
            buffer: BytesMut::with_capacity(4096),
        }
    }

    /// Sends one request and reads its whole response; returns how long the
    /// first byte of the response took.
    async fn exchange(&mut self) -> Duration {
        let sent = Instant::now();
        self.stream
            .write_all(REQUEST)
            .await
            .expect("the request is sent");
        let mut first_byte = None;
        loop {
            if let Some(len) = complete_response(&self.buffer) {
                self.buffer.advance(len);
                return first_byte.unwrap_or_default();
            }
            let n = self
                .stream
                .read_buf(&mut self.buffer)
                .await
                .expect("the response arrives");
            assert!(n > 0, "the server closed a keep-alive connection");
            first_byte.get_or_insert_with(|| sent.elapsed());
        }
    }
}

/// The length of the response at the start of `buffer`, once all of it is there.
fn complete_response(buffer: &[u8]) -> Option<usize> {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut response = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head) = response.parse(buffer).expect("a valid response") else {
        return None;
    };
    let body: usize = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok()?.parse().ok())
        .expect("the response has a content-length");
    (buffer.len() >= head + body).then_some(head + body)
}

/// Sends `total` requests over `connections` keep-alive connections.
pub async fn hammer(addr: SocketAddr, connections: usize, total: u64) {
    let left = Arc::new(AtomicU64::new(total));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let left = left.clone();
        tasks.spawn(async move {
            let mut connection = Connection::open(addr).await;
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                connection.exchange().await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a load connection does not panic");
    }
}

/// Time to the first byte of each of `each` requests on each of
/// `connections` concurrent keep-alive connections.
pub async fn first_bytes(addr: SocketAddr, connections: usize, each: usize) -> Vec<Duration> {
    first_bytes_staggered(addr, connections, each, Duration::ZERO).await
}

/// As [`first_bytes`], with the connections' first requests spread evenly
/// over `spread`: connection `i` sends its first `i / connections × spread`
/// after the first, and each sends the next as soon as it has the answer.
pub async fn first_bytes_staggered(
    addr: SocketAddr,
    connections: usize,
    each: usize,
    spread: Duration,
) -> Vec<Duration> {
    let mut tasks = tokio::task::JoinSet::new();
    let start = tokio::time::Instant::now();
    for i in 0..connections {
        let offset = spread.mul_f64(i as f64 / connections as f64);
        tasks.spawn(async move {
            let mut connection = Connection::open(addr).await;
            if !offset.is_zero() {
                tokio::time::sleep_until(start + offset).await;
            }
            let mut times = Vec::with_capacity(each);
            for _ in 0..each {
                times.push(connection.exchange().await);
            }
            times
        });
    }
    let mut all = Vec::new();
    while let Some(done) = tasks.join_next().await {
        all.extend(done.expect("a load connection does not panic"));
    }
    all
}

/// A client runtime on one thread, so the server keeps the other core.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime builds")
}
