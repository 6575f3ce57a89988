//! Every timed fault in real time, seen from many concurrent clients: no byte
//! arrives before the fault's schedule lets it leave, and no close before its
//! delay. Only lower bounds are checked; how late a byte may come depends on
//! the machine's load.

use std::net::SocketAddr;
use std::time::Duration;

use outage::proxy::ToxicProxy;
use outage::toxic::{Direction, Toxic, ToxicKind, Toxics};
use outage::{Fault, FaultServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{echo_upstream, fault, start};

/// Concurrent clients per fault.
const CLIENTS: usize = 32;

/// The longest any client waits for its whole answer.
const PATIENCE: Duration = Duration::from_secs(20);

const GET: &[u8] = b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n";

/// What one client saw, timed from just before it sent its request.
#[derive(Debug)]
struct Seen {
    /// When each read returned, and how many bytes had come in all.
    arrivals: Vec<(Duration, usize)>,
    /// When the server's FIN came.
    closed: Duration,
    /// Where the body starts: the length of the response's head.
    head: usize,
}

impl Seen {
    /// Panics with `what` unless `allowed(elapsed)` bounds every arrival's
    /// count of body bytes.
    fn never_ahead_of(&self, what: &str, allowed: impl Fn(Duration) -> usize) {
        for &(at, total) in &self.arrivals {
            let body = total.saturating_sub(self.head);
            assert!(
                body <= allowed(at),
                "{what}: {body} body bytes after {at:?}, at most {} due",
                allowed(at)
            );
        }
    }

    /// When the first byte came.
    fn first_byte(&self) -> Duration {
        self.arrivals.first().map_or(self.closed, |&(at, _)| at)
    }
}

/// Sends `request` on a new connection to `addr` and reads until the FIN.
async fn see(addr: SocketAddr, request: &'static [u8]) -> Seen {
    let mut stream = TcpStream::connect(addr).await.expect("the server accepts");
    stream
        .set_nodelay(true)
        .expect("loopback takes TCP_NODELAY");
    let start = Instant::now();
    stream
        .write_all(request)
        .await
        .expect("the request is sent");
    let (mut arrivals, mut bytes, mut buf) = (Vec::new(), Vec::new(), [0u8; 4096]);
    loop {
        let n = stream.read(&mut buf).await.expect("the answer is read");
        if n == 0 {
            let head = bytes
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(bytes.len(), |at| at + 4);
            let closed = start.elapsed();
            return Seen {
                arrivals,
                closed,
                head,
            };
        }
        bytes.extend_from_slice(&buf[..n]);
        arrivals.push((start.elapsed(), bytes.len()));
    }
}

/// What `CLIENTS` concurrent clients saw of `addr`.
async fn see_many(addr: SocketAddr, request: &'static [u8]) -> Vec<Seen> {
    let clients = (0..CLIENTS).map(|_| tokio::spawn(see(addr, request)));
    let all = async {
        let mut seen = Vec::new();
        for client in clients {
            seen.push(client.await.expect("a client does not panic"));
        }
        seen
    };
    tokio::time::timeout(PATIENCE, all)
        .await
        .expect("every client is answered in time")
}

/// A server in front of an upstream answering `200` with 100 bytes.
async fn proxy(fault: Fault) -> (MockServer, FaultServer) {
    let hundred = ResponseTemplate::new(200).set_body_string("z".repeat(100));
    crate::support::proxy_in_front(fault, Mock::given(any()).respond_with(hundred)).await
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_never_answers_before_its_delay() {
    let server = start(fault("{ kind = 'slow-headers', delay = '30ms' }")).await;
    for seen in see_many(server.addr(), GET).await {
        assert!(seen.first_byte() >= ms(30), "{seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn httpbin_delay_never_answers_before_its_delay() {
    let server = start(Fault::ok()).await;
    let request = b"GET /delay/0.03 HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n";
    for seen in see_many(server.addr(), request).await {
        assert!(seen.first_byte() >= ms(30), "{seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drip_never_sends_a_byte_before_its_time() {
    let server = start(fault("{ kind = 'drip', bytes = 20, interval = '5ms' }")).await;
    for seen in see_many(server.addr(), GET).await {
        seen.never_ahead_of("drip", |at| (at.as_micros() / 5_000) as usize);
        assert_eq!(seen.arrivals.last().map(|a| a.1 - seen.head), Some(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_never_sends_faster_than_its_rate() {
    let server = start(fault("{ kind = 'bandwidth', rate = 10000, size = 2000 }")).await;
    for seen in see_many(server.addr(), GET).await {
        // The head counts against the rate too.
        let head = seen.head as u128;
        seen.never_ahead_of("bandwidth", |at| {
            (at.as_micros() * 10_000 / 1_000_000).saturating_sub(head) as usize
        });
        let total = seen.arrivals.last().map_or(0, |a| a.1) as u64;
        assert!(
            seen.closed >= Duration::from_micros(total * 100),
            "{seen:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slicer_never_sends_a_slice_before_its_pause_is_over() {
    let server = start(fault(
        "{ kind = 'slicer', segment = 50, delay = '5ms', size = 300 }",
    ))
    .await;
    for seen in see_many(server.addr(), GET).await {
        for &(at, total) in &seen.arrivals {
            let slices = 1 + (at.as_micros() / 5_000) as usize;
            assert!(total <= 50 * slices, "{total} bytes after {at:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_close_never_closes_before_its_delay() {
    let server = start(fault("{ kind = 'slow-close', delay = '30ms' }")).await;
    for seen in see_many(server.addr(), GET).await {
        assert!(seen.closed >= ms(30), "{seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxied_response_keeps_its_head_delay_drip_and_rate() {
    let (_service, delayed) = proxy(fault("{ kind = 'slow-headers', delay = '30ms' }")).await;
    for seen in see_many(delayed.addr(), GET).await {
        assert!(seen.first_byte() >= ms(30), "{seen:?}");
    }
    let (_service, dripped) = proxy(fault("{ kind = 'drip', interval = '1ms' }")).await;
    for seen in see_many(dripped.addr(), GET).await {
        seen.never_ahead_of("drip", |at| at.as_millis() as usize);
        assert!(seen.closed >= ms(100), "{seen:?}");
    }
    let (_service, throttled) = proxy(fault("{ kind = 'bandwidth', rate = 2000 }")).await;
    for seen in see_many(throttled.addr(), GET).await {
        let head = seen.head as u128;
        seen.never_ahead_of("bandwidth", |at| {
            (at.as_micros() * 2_000 / 1_000_000).saturating_sub(head) as usize
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latency_toxic_never_passes_a_chunk_before_its_time() {
    let echo = echo_upstream().await;
    let toxics = Toxics::default();
    let lag = ToxicKind::Latency {
        latency: 30,
        jitter: 0,
    };
    toxics
        .add(Toxic::new(lag, Direction::Downstream))
        .expect("a first toxic has a free name");
    let listen = "127.0.0.1:0".parse().expect("a literal address parses");
    let proxy = ToxicProxy::start(listen, echo.to_string(), toxics)
        .await
        .expect("the proxy listens");
    let clients = (0..CLIENTS).map(|_| {
        let addr = proxy.listen();
        tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.expect("the proxy accepts");
            let mut byte = [0u8; 1];
            let mut waits = Vec::new();
            for _ in 0..3 {
                let sent = Instant::now();
                stream.write_all(b"x").await.expect("a byte is sent");
                stream.read_exact(&mut byte).await.expect("it comes back");
                waits.push(sent.elapsed());
            }
            waits
        })
    });
    let waits = tokio::time::timeout(PATIENCE, async {
        let mut all = Vec::new();
        for client in clients {
            all.extend(client.await.expect("a client does not panic"));
        }
        all
    })
    .await
    .expect("every byte comes back in time");
    assert!(waits.iter().all(|&wait| wait >= ms(30)), "{waits:?}");
}
