//! The servers the benchmarks compare, each run in its own process.
//!
//! Every server answers `200` with the body `ok\n` (after a delay, or never,
//! for the timing and holding kinds), or forwards each connection to the
//! upstream its parent names (the proxy kinds). Each runs on a
//! multi-threaded tokio runtime with one worker per core, except
//! wiremock-rs, which always serves from a thread and runtime of its own.

use std::convert::Infallible;
use std::future::Future;
use std::io::{self, BufRead};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Either;
use http_body_util::Full;
use hyper::body::Frame;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use outage::fault::{Bandwidth, Drip, SlowHeaders};
use outage::proxy::ToxicProxy;
use outage::toxic::{Direction, Toxic, ToxicKind, Toxics};
use outage::{Fault, FaultServer, FaultServerBuilder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The delay of the timing benchmark.
pub const DELAY: Duration = Duration::from_millis(100);

/// The pacing benchmark's drip: `DRIP_BYTES` bytes, one every `DRIP_INTERVAL`.
pub const DRIP_BYTES: usize = 100;
pub const DRIP_INTERVAL: Duration = Duration::from_millis(20);

/// The pacing benchmark's rate, in bytes per second, and body length.
pub const RATE: u64 = 50_000;
pub const RATE_BODY: usize = 75_000;

/// How often the bare hyper peer of a rate sends a slice, as `bandwidth` does.
const RATE_TICK: Duration = Duration::from_millis(50);

/// What a bare hyper server does with each request.
#[derive(Clone, Copy)]
enum Answer {
    Now,
    After(Duration),
    Never,
    /// A body of `.0` slices of `.1` bytes, each after a `tokio::time::sleep`
    /// of `.2`.
    Paced(usize, usize, Duration),
}

/// A server's addresses (one, or one per server for a kind that starts
/// several), how to ask for its count, and what keeps it running.
type Started = (Vec<SocketAddr>, CountFn, Box<dyn std::any::Any>);

/// Asks a server how many requests it has seen.
type CountFn = Box<dyn Fn() -> Pin<Box<dyn Future<Output = u64> + Send>> + Send>;

/// Runs the server `kind`, prints its addresses on one line, then answers
/// each `count` line on stdin with the number of requests (for `hang`,
/// connections) seen, each `unserved` line with the process's `VmRSS` and
/// `RssAnon` in KiB before it started any server, and each `allocations`
/// line with the allocations made since the first such line. Returns when
/// stdin closes, which happens when the benchmark ends.
///
/// Kinds: `outage-ok`, `outage-ok-journal-100` (a journal that stores 100
/// attempts), `outage-ok-on-attempt` (an `on_attempt` callback counting
/// attempts, which its count is), `outage-ok-settling` (a task awaiting
/// `journal.settled` for more attempts than will come),
/// `outage-ok-x<N>`, `hyper-ok-x<N>` and `wiremock-ok-x<N>` (N servers, each
/// on its own port, counted together), `outage-slow-headers`, `outage-hang`, `hyper-ok`,
/// `hyper-delay`, `hyper-hang`, `wiremock-ok`, `wiremock-delay`, `wiremock-hang`.
///
/// HTTP/2 kinds, h2c with prior knowledge: `outage-ok-h2` (`ok` with
/// `.http2(true)`) and `hyper-ok-h2` (hyper's `http2::serve_connection`).
///
/// Proxy kinds, in front of the upstream given to [`super::Served::start_with`],
/// counting connections rather than requests: `copy-forward` (a bare
/// `copy_bidirectional`), `copy-forward-1000` (1,000 of them, each on its
/// own listener), `sleep-forward` (a bare forwarder that sleeps `DELAY`
/// before writing each chunk back to the client), `toxic-proxy` (a
/// `ToxicProxy` with no toxic), `toxic-proxy-1000`, `toxic-proxy-latency`
/// (a `DELAY` downstream `latency` toxic), and `outage-proxy` (the
/// HTTP-aware proxy, fault `ok`, counting requests).
pub fn run(kind: &str) {
    super::raise_open_files();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime builds");
    let pid = std::process::id();
    let unserved = (super::rss_kib(pid), super::rss_anon_kib(pid));
    // Each arm keeps its server alive in `_keep` until stdin closes.
    let (addrs, count, _keep): Started = match kind {
        "outage-ok" => outage(&runtime, FaultServer::builder(Fault::ok())),
        "outage-ok-journal-100" => outage(
            &runtime,
            FaultServer::builder(Fault::ok()).journal_capacity(100),
        ),
        "outage-ok-on-attempt" => observed(&runtime),
        "outage-ok-settling" => settling(&runtime),
        fleet if fleet.starts_with("outage-ok-x") => several(&runtime, fleet, |runtime| {
            outage(runtime, FaultServer::builder(Fault::ok()))
        }),
        fleet if fleet.starts_with("hyper-ok-x") => {
            several(&runtime, fleet, |runtime| hyper(runtime, Answer::Now))
        }
        fleet if fleet.starts_with("wiremock-ok-x") => several(&runtime, fleet, |runtime| {
            wiremock(runtime, ResponseTemplate::new(200))
        }),
        "outage-slow-headers" => outage(
            &runtime,
            FaultServer::builder(SlowHeaders::default().delay(DELAY)),
        ),
        "outage-drip" => outage(
            &runtime,
            FaultServer::builder(Drip::default().bytes(DRIP_BYTES).interval(DRIP_INTERVAL)),
        ),
        "outage-bandwidth" => outage(
            &runtime,
            FaultServer::builder(Bandwidth::default().rate(RATE).size(RATE_BODY)),
        ),
        "outage-hang" => outage(
            &runtime,
            FaultServer::builder(Fault::named("hang").expect("hang exists")),
        ),
        "outage-ok-h2" => outage(&runtime, FaultServer::builder(Fault::ok()).http2(true)),
        "hyper-ok" => hyper(&runtime, Answer::Now),
        "hyper-ok-h2" => hyper_h2(&runtime),
        "hyper-delay" => hyper(&runtime, Answer::After(DELAY)),
        "hyper-hang" => hyper(&runtime, Answer::Never),
        "hyper-drip" => hyper(&runtime, Answer::Paced(DRIP_BYTES, 1, DRIP_INTERVAL)),
        "hyper-bandwidth" => {
            let slice = (RATE as u128 * RATE_TICK.as_millis() / 1000) as usize;
            hyper(
                &runtime,
                Answer::Paced(RATE_BODY.div_ceil(slice), slice, RATE_TICK),
            )
        }
        "wiremock-ok" => wiremock(&runtime, ResponseTemplate::new(200)),
        "wiremock-delay" => wiremock(&runtime, ResponseTemplate::new(200).set_delay(DELAY)),
        "wiremock-hang" => wiremock(
            &runtime,
            ResponseTemplate::new(200).set_delay(Duration::from_secs(3600)),
        ),
        "copy-forward" => forwarders(&runtime, 1, Forward::Copy),
        "copy-forward-1000" => forwarders(&runtime, 1000, Forward::Copy),
        "sleep-forward" => forwarders(&runtime, 1, Forward::SleepDownstream),
        "toxic-proxy" => toxic_proxies(&runtime, 1, None),
        "toxic-proxy-1000" => toxic_proxies(&runtime, 1000, None),
        "toxic-proxy-latency" => {
            let latency = DELAY.as_millis() as i64;
            let lag = ToxicKind::Latency { latency, jitter: 0 };
            toxic_proxies(&runtime, 1, Some(Toxic::new(lag, Direction::Downstream)))
        }
        "outage-proxy" => outage(
            &runtime,
            FaultServer::builder(Fault::ok()).upstream(upstream().to_string()),
        ),
        other => panic!("unknown server kind {other:?}"),
    };
    let addrs: Vec<String> = addrs.iter().map(SocketAddr::to_string).collect();
    println!("{}", addrs.join(" "));
    for line in std::io::stdin().lock().lines() {
        match line.as_deref() {
            Ok("count") => println!("{}", runtime.block_on(count())),
            Ok("unserved") => println!("{} {}", unserved.0, unserved.1),
            Ok("allocations") => println!("{}", super::allocations::start()),
            _ => break,
        }
    }
}

fn outage(runtime: &tokio::runtime::Runtime, builder: FaultServerBuilder) -> Started {
    let server = runtime.block_on(builder.start()).expect("the fault starts");
    journaled(server)
}

/// A started server, counted by its journal.
fn journaled(server: FaultServer) -> Started {
    let journal = server.journal().clone();
    let count: CountFn = Box::new(move || {
        let journal = journal.clone();
        Box::pin(async move { journal.count() })
    });
    (vec![server.addr()], count, Box::new(server))
}

/// `ok` with an `on_attempt` callback that counts the attempts into an
/// atomic, the least a test's callback does; the count is the callback's.
fn observed(runtime: &tokio::runtime::Runtime) -> Started {
    let seen = Arc::new(AtomicU64::new(0));
    let counted = seen.clone();
    let builder = FaultServer::builder(Fault::ok()).on_attempt(move |_| {
        counted.fetch_add(1, Ordering::Relaxed);
    });
    let (addrs, _, server) = outage(runtime, builder);
    (addrs, counter(seen), server)
}

/// `ok` with a task awaiting `journal.settled` for more attempts than will
/// come, as a test does that waits for its client's requests while they run.
fn settling(runtime: &tokio::runtime::Runtime) -> Started {
    let server = runtime
        .block_on(FaultServer::start(Fault::ok()))
        .expect("the fault starts");
    let journal = server.journal().clone();
    runtime.spawn(async move {
        let _ = journal.settled(u64::MAX, Duration::from_secs(3600)).await;
    });
    journaled(server)
}

/// As many servers as the `-x<N>` suffix of `kind` says, each made by
/// `start` on its own port; their count is the sum of theirs.
fn several(
    runtime: &tokio::runtime::Runtime,
    kind: &str,
    start: impl Fn(&tokio::runtime::Runtime) -> Started,
) -> Started {
    let copies: usize = kind
        .rsplit_once("-x")
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or_else(|| panic!("kind {kind:?} ends in -x and a number of servers"));
    let (mut addrs, mut counts, mut keep) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..copies {
        let (its_addrs, count, kept) = start(runtime);
        addrs.extend(its_addrs);
        counts.push(count);
        keep.push(kept);
    }
    let count: CountFn = Box::new(move || {
        let each: Vec<_> = counts.iter().map(|count| count()).collect();
        Box::pin(async move {
            let mut total = 0;
            for count in each {
                total += count.await;
            }
            total
        })
    });
    (addrs, count, Box::new(keep))
}

/// A bare server: `connection` serves each accepted connection, counting
/// its requests in the counter it is given.
fn bare<F, Fut>(runtime: &tokio::runtime::Runtime, connection: F) -> Started
where
    F: Fn(tokio::net::TcpStream, Arc<AtomicU64>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("loopback binds");
    let addr = listener
        .local_addr()
        .expect("a bound socket has an address");
    let seen = Arc::new(AtomicU64::new(0));
    let counter = seen.clone();
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(connection(stream, seen.clone()));
        }
    });
    let count: CountFn = Box::new(move || {
        let n = counter.load(Ordering::Relaxed);
        Box::pin(async move { n })
    });
    (vec![addr], count, Box::new(()))
}

fn hyper(runtime: &tokio::runtime::Runtime, answer: Answer) -> Started {
    bare(runtime, move |stream, seen| async move {
        let service = service_fn(move |_request| {
            seen.fetch_add(1, Ordering::Relaxed);
            async move {
                let body = match answer {
                    Answer::Now => Either::Left(Full::new(Bytes::from_static(b"ok\n"))),
                    Answer::After(delay) => {
                        tokio::time::sleep(delay).await;
                        Either::Left(Full::new(Bytes::from_static(b"ok\n")))
                    }
                    Answer::Never => std::future::pending().await,
                    Answer::Paced(slices, slice, every) => {
                        Either::Right(Paced::new(slices, slice, every))
                    }
                };
                let response = http::Response::builder()
                    .header("content-type", "text/plain")
                    .body(body)
                    .expect("a static response builds");
                Ok::<_, Infallible>(response)
            }
        });
        let _ = http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .await;
    })
}

/// A body of `slices` slices of `slice` bytes, each sent after a
/// `tokio::time::sleep(every)` begun when the one before was taken: how a
/// server paces a body with tokio's timer alone.
struct Paced {
    slices: usize,
    slice: Bytes,
    every: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Paced {
    fn new(slices: usize, slice: usize, every: Duration) -> Paced {
        Paced {
            slices,
            slice: Bytes::from(vec![b'*'; slice]),
            every,
            sleep: Box::pin(tokio::time::sleep(every)),
        }
    }
}

impl hyper::body::Body for Paced {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.slices == 0 {
            return Poll::Ready(None);
        }
        std::task::ready!(self.sleep.as_mut().poll(cx));
        let next = tokio::time::Instant::now() + self.every;
        self.sleep.as_mut().reset(next);
        self.slices -= 1;
        Poll::Ready(Some(Ok(Frame::data(self.slice.clone()))))
    }

    fn is_end_stream(&self) -> bool {
        self.slices == 0
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact((self.slices * self.slice.len()) as u64)
    }
}

/// A bare hyper HTTP/2 server (h2c with prior knowledge), answering every
/// stream `200` with `ok\n` and the headers outage's `ok` sends over
/// HTTP/2: `content-type` alone, so no `date` and no `content-length`.
fn hyper_h2(runtime: &tokio::runtime::Runtime) -> Started {
    bare(runtime, |stream, seen| async move {
        let service = service_fn(move |_request| {
            seen.fetch_add(1, Ordering::Relaxed);
            async move {
                let response = http::Response::builder()
                    .header("content-type", "text/plain")
                    .body(NoLength(Full::new(Bytes::from_static(b"ok\n"))))
                    .expect("a static response builds");
                Ok::<_, Infallible>(response)
            }
        });
        let _ = http2::Builder::new(TokioExecutor::new())
            .auto_date_header(false)
            .serve_connection(TokioIo::new(stream), service)
            .await;
    })
}

/// A `Full` body whose length hyper is not told: hyper's HTTP/2 server adds
/// a `content-length` to a body of known length, which outage's does not.
struct NoLength(Full<Bytes>);

impl hyper::body::Body for NoLength {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.get_mut().0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }
}

fn wiremock(runtime: &tokio::runtime::Runtime, template: ResponseTemplate) -> Started {
    let server = runtime.block_on(async {
        let server = MockServer::builder().start().await;
        Mock::given(any())
            .respond_with(template.set_body_string("ok\n"))
            .mount(&server)
            .await;
        Arc::new(server)
    });
    let addr = *server.address();
    let shared = server.clone();
    let count: CountFn = Box::new(move || {
        let server = shared.clone();
        Box::pin(async move {
            server
                .received_requests()
                .await
                .map_or(0, |requests| requests.len() as u64)
        })
    });
    (vec![addr], count, Box::new(server))
}

/// The upstream of a proxy kind, as its parent passed it.
fn upstream() -> SocketAddr {
    std::env::var(super::UPSTREAM)
        .ok()
        .and_then(|addr| addr.parse().ok())
        .expect("a proxy kind is started with Served::start_with")
}

/// A count of connections, as a [`CountFn`].
fn counter(seen: Arc<AtomicU64>) -> CountFn {
    Box::new(move || {
        let n = seen.load(Ordering::Relaxed);
        Box::pin(async move { n })
    })
}

/// What a bare forwarder does with the bytes.
#[derive(Clone, Copy)]
enum Forward {
    /// `tokio::io::copy_bidirectional`: the floor of a TCP proxy.
    Copy,
    /// Sleeps `DELAY` before writing each chunk from the upstream to the
    /// client: the floor of a `latency` toxic.
    SleepDownstream,
}

/// `count` bare forwarders to the upstream, each on a listener of its own.
fn forwarders(runtime: &tokio::runtime::Runtime, count: usize, forward: Forward) -> Started {
    let upstream = upstream();
    let seen = Arc::new(AtomicU64::new(0));
    let mut first = None;
    for _ in 0..count {
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("loopback binds");
        first.get_or_insert(
            listener
                .local_addr()
                .expect("a bound socket has an address"),
        );
        runtime.spawn(forward_each(listener, upstream, forward, seen.clone()));
    }
    let addr = first.expect("a kind has at least one forwarder");
    (vec![addr], counter(seen), Box::new(()))
}

async fn forward_each(
    listener: TcpListener,
    upstream: SocketAddr,
    forward: Forward,
    seen: Arc<AtomicU64>,
) {
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            continue;
        };
        seen.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            // As `ToxicProxy` does, so that each chunk leaves at once.
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let _ = match forward {
                Forward::Copy => tokio::io::copy_bidirectional(&mut client, &mut server)
                    .await
                    .map(drop),
                Forward::SleepDownstream => sleep_downstream(client, server).await,
            };
        });
    }
}

/// Copies the client to the upstream, and each chunk of the upstream to the
/// client `DELAY` after it was read.
async fn sleep_downstream(client: TcpStream, server: TcpStream) -> io::Result<()> {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up = async {
        tokio::io::copy(&mut client_read, &mut server_write).await?;
        server_write.shutdown().await
    };
    let down = async {
        let mut buffer = vec![0; 32 * 1024];
        loop {
            let n = server_read.read(&mut buffer).await?;
            if n == 0 {
                return client_write.shutdown().await;
            }
            tokio::time::sleep(DELAY).await;
            client_write.write_all(&buffer[..n]).await?;
        }
    };
    tokio::try_join!(up, down).map(drop)
}

/// `count` `ToxicProxy`s to the upstream, each with `toxic` if given.
fn toxic_proxies(runtime: &tokio::runtime::Runtime, count: usize, toxic: Option<Toxic>) -> Started {
    let upstream = upstream().to_string();
    let proxies: Vec<ToxicProxy> = (0..count)
        .map(|_| {
            let toxics = Toxics::default();
            if let Some(toxic) = &toxic {
                toxics
                    .add(toxic.clone())
                    .expect("a first toxic has a free name");
            }
            let listen = "127.0.0.1:0".parse().expect("a literal address parses");
            runtime
                .block_on(ToxicProxy::start(listen, upstream.clone(), toxics))
                .expect("the proxy listens")
        })
        .collect();
    let addr = proxies[0].listen();
    let proxies = Arc::new(proxies);
    let shared = proxies.clone();
    let count: CountFn = Box::new(move || {
        let n = shared[0].stats().connections;
        Box::pin(async move { n })
    });
    (vec![addr], count, Box::new(proxies))
}
