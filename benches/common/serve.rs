//! The servers the benchmarks compare, each run in its own process.
//!
//! Every server answers `200` with the body `ok\n` (after a delay, or never,
//! for the timing and holding kinds). Each runs on a multi-threaded tokio
//! runtime with one worker per core, except wiremock-rs, which always serves
//! from a thread and runtime of its own.

use std::convert::Infallible;
use std::future::Future;
use std::io::BufRead;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use outage::fault::SlowHeaders;
use outage::{Fault, FaultServer, FaultServerBuilder};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The delay of the timing benchmark.
pub const DELAY: Duration = Duration::from_millis(100);

/// What a bare hyper server does with each request.
#[derive(Clone, Copy)]
enum Answer {
    Now,
    After(Duration),
    Never,
}

/// A server's address, how to ask for its count, and what keeps it running.
type Started = (SocketAddr, CountFn, Box<dyn std::any::Any>);

/// Asks a server how many requests it has seen.
type CountFn = Box<dyn Fn() -> Pin<Box<dyn Future<Output = u64> + Send>> + Send>;

/// Runs the server `kind`, prints its address, then answers each `count`
/// line on stdin with the number of requests (for `hang`, connections) seen.
/// Returns when stdin closes, which happens when the benchmark ends.
///
/// Kinds: `outage-ok`, `outage-ok-journal-100` (a journal that stores 100
/// attempts), `outage-slow-headers`, `outage-hang`, `hyper-ok`,
/// `hyper-delay`, `hyper-hang`, `wiremock-ok`, `wiremock-delay`, `wiremock-hang`.
pub fn run(kind: &str) {
    super::raise_open_files();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime builds");
    // Each arm keeps its server alive in `_keep` until stdin closes.
    let (addr, count, _keep): Started = match kind {
        "outage-ok" => outage(&runtime, FaultServer::builder(Fault::ok())),
        "outage-ok-journal-100" => outage(
            &runtime,
            FaultServer::builder(Fault::ok()).journal_capacity(100),
        ),
        "outage-slow-headers" => outage(
            &runtime,
            FaultServer::builder(SlowHeaders::default().delay(DELAY)),
        ),
        "outage-hang" => outage(
            &runtime,
            FaultServer::builder(Fault::named("hang").expect("hang exists")),
        ),
        "hyper-ok" => hyper(&runtime, Answer::Now),
        "hyper-delay" => hyper(&runtime, Answer::After(DELAY)),
        "hyper-hang" => hyper(&runtime, Answer::Never),
        "wiremock-ok" => wiremock(&runtime, ResponseTemplate::new(200)),
        "wiremock-delay" => wiremock(&runtime, ResponseTemplate::new(200).set_delay(DELAY)),
        "wiremock-hang" => wiremock(
            &runtime,
            ResponseTemplate::new(200).set_delay(Duration::from_secs(3600)),
        ),
        other => panic!("unknown server kind {other:?}"),
    };
    println!("{addr}");
    for line in std::io::stdin().lock().lines() {
        match line.as_deref() {
            Ok("count") => println!("{}", runtime.block_on(count())),
            _ => break,
        }
    }
}

fn outage(runtime: &tokio::runtime::Runtime, builder: FaultServerBuilder) -> Started {
    let server = runtime.block_on(builder.start()).expect("the fault starts");
    let journal = server.journal().clone();
    let count: CountFn = Box::new(move || {
        let journal = journal.clone();
        Box::pin(async move { journal.count() })
    });
    (server.addr(), count, Box::new(server))
}

fn hyper(runtime: &tokio::runtime::Runtime, answer: Answer) -> Started {
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
            let seen = seen.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_request| {
                    seen.fetch_add(1, Ordering::Relaxed);
                    async move {
                        match answer {
                            Answer::Now => {}
                            Answer::After(delay) => tokio::time::sleep(delay).await,
                            Answer::Never => std::future::pending().await,
                        }
                        let response = http::Response::builder()
                            .header("content-type", "text/plain")
                            .body(Full::new(Bytes::from_static(b"ok\n")))
                            .expect("a static response builds");
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let count: CountFn = Box::new(move || {
        let n = counter.load(Ordering::Relaxed);
        Box::pin(async move { n })
    });
    (addr, count, Box::new(()))
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
    (addr, count, Box::new(server))
}
