//! Faults in front of a real upstream: a wiremock `MockServer` where a plain
//! service is enough, a raw TCP service where the bytes themselves matter.

use std::time::{Duration, Instant};

use outage::fault::{Reset, ResetWhen};
use outage::{ErrorClass, Fault, FaultServer, UpstreamConnection, classify};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, Timeouts, fault, settled};

/// A service answering `GET /item` with `body`, and a proxy for `fault` in
/// front of it.
async fn service_behind(fault: Fault, body: &str) -> (MockServer, FaultServer) {
    let item = Mock::given(method("GET")).and(path("/item")).respond_with(
        ResponseTemplate::new(200)
            .insert_header("x-from", "upstream")
            .set_body_string(body),
    );
    support::proxy_in_front(fault, item).await
}

/// A proxy for `fault` in front of `upstream`.
async fn proxy_to(fault: Fault, upstream: impl Into<String>) -> FaultServer {
    FaultServer::builder(fault)
        .upstream(upstream)
        .start()
        .await
        .expect("the proxy starts")
}

/// GETs `/item` through `proxy`.
async fn item(client: &reqwest::Client, proxy: &FaultServer) -> reqwest::Result<reqwest::Response> {
    client.get(format!("{}/item", proxy.url())).send().await
}

async fn seen_by(service: &MockServer) -> usize {
    service.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn ok_passes_the_real_answer_through() {
    let (service, proxy) = service_behind(Fault::ok(), "from the real service").await;
    let client = support::client(Timeouts::default());
    let response = item(&client, &proxy).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-from"], "upstream");
    assert_eq!(response.text().await.unwrap(), "from the real service");
    assert_eq!(seen_by(&service).await, 1);
    let attempts = settled(&proxy, 1).await;
    let leg = attempts[0].upstream.as_ref().expect("an upstream leg");
    assert!(
        matches!(leg.connection, UpstreamConnection::Opened(_)),
        "{leg:?}"
    );
    assert!(leg.bytes_sent > 0 && leg.bytes_received > 0, "{leg:?}");
    assert_eq!(attempts[0].status_sent, Some(200));
}

#[tokio::test]
async fn a_sequence_fails_twice_then_gives_the_real_answer() {
    let steps = Fault::sequence([Fault::status(503), Fault::status(503), Fault::ok()]);
    let (service, proxy) = service_behind(steps, "real").await;
    let client = support::pooled_client();
    let url = format!("{}/item", proxy.url());
    for expected in [503, 503, 200] {
        assert_eq!(client.get(&url).send().await.unwrap().status(), expected);
    }
    assert_eq!(
        seen_by(&service).await,
        1,
        "only the last request reached it"
    );
    drop(client);
    let attempts = settled(&proxy, 3).await;
    let saw: Vec<bool> = attempts.iter().map(|a| a.upstream.is_some()).collect();
    assert_eq!(saw, [false, false, true]);
    assert!(
        attempts[0].action.contains("never saw"),
        "{}",
        attempts[0].action
    );
}

#[tokio::test]
async fn truncate_cuts_the_real_body_short() {
    let body = "x".repeat(4096);
    let (service, proxy) =
        service_behind(fault("{ kind = \"truncate\", sent = 100 }"), &body).await;
    let client = support::client(Timeouts::default());
    let response = item(&client, &proxy).await.unwrap();
    assert_eq!(
        response.headers()["content-length"],
        "4096",
        "the real head"
    );
    let error = response.bytes().await.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::IncompleteBody);
    assert_eq!(seen_by(&service).await, 1);
    let attempts = settled(&proxy, 1).await;
    let action = &attempts[0].action;
    assert!(
        action.contains("cut it after at most 100 body bytes"),
        "{action}"
    );
    assert!(action.contains("the cut fell after "), "{action}");
    assert!(action.ends_with(", 100 of them body"), "{action}");
}

#[tokio::test]
async fn a_reset_after_the_upstream_answered_hides_that_it_did() {
    let reset = Reset::default().when(ResetWhen::AfterUpstream);
    let (service, proxy) = service_behind(reset.into(), "done").await;
    let client = support::client(Timeouts::default());
    let error = item(&client, &proxy).await.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::Reset);
    assert_eq!(
        seen_by(&service).await,
        1,
        "the upstream processed the request"
    );
    let attempts = settled(&proxy, 1).await;
    assert_eq!(attempts[0].ending, Some(outage::Ending::ServerRst));
    assert_eq!(attempts[0].bytes_sent, 0);
}

#[tokio::test]
async fn slow_headers_hold_the_real_head() {
    let (_service, proxy) = service_behind(
        fault("{ kind = \"slow-headers\", delay = \"300ms\" }"),
        "late",
    )
    .await;
    let client = support::client(Timeouts::default());
    let started = Instant::now();
    let (status, body) = support::fetch(&client, &format!("{}/item", proxy.url()))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((status.as_u16(), &body[..]), (200, &b"late"[..]));
}

#[tokio::test]
async fn an_upstream_that_is_down_closes_the_client_or_answers_502() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let down = closed.local_addr().unwrap().to_string();
    drop(closed);
    let proxy = proxy_to(Fault::ok(), &down).await;
    let client = support::client(Timeouts::default());
    let error = client.get(proxy.url()).send().await.unwrap_err();
    assert!(
        matches!(classify(&error), ErrorClass::EmptyReply),
        "{error:?}"
    );
    let attempts = settled(&proxy, 1).await;
    let leg = attempts[0].upstream.as_ref().unwrap();
    assert_eq!(leg.connection, UpstreamConnection::Refused);
    assert!(attempts[0].action.contains("the upstream refused; closed"));

    let proxy = FaultServer::builder(Fault::ok())
        .upstream(&down)
        .bad_gateway(true)
        .start()
        .await
        .unwrap();
    let response = client.get(proxy.url()).send().await.unwrap();
    assert_eq!(response.status(), 502);
}

#[tokio::test]
async fn a_kept_alive_client_reuses_the_upstream_connection() {
    let (service, proxy) = service_behind(Fault::ok(), "again").await;
    let client = support::pooled_client();
    for _ in 0..3 {
        support::fetch(&client, &format!("{}/item", proxy.url()))
            .await
            .unwrap();
    }
    drop(client);
    let attempts = settled(&proxy, 3).await;
    assert_eq!(proxy.journal().connections(), 1);
    let connections: Vec<_> = attempts
        .iter()
        .map(|a| a.upstream.clone().unwrap().connection)
        .collect();
    assert!(matches!(connections[0], UpstreamConnection::Opened(_)));
    assert_eq!(
        connections[1..],
        [UpstreamConnection::Reused, UpstreamConnection::Reused]
    );
    assert_eq!(seen_by(&service).await, 3);
}

/// A raw service: reads one request head and whatever follows it, then
/// writes `answer` and, for a tunnel, echoes every byte after it.
async fn raw_service(answer: &'static [u8], echo: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        let _ = stream.write_all(answer).await;
        if !echo {
            return;
        }
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let _ = stream.write_all(&buf[..n]).await;
                }
            }
        }
    });
    address
}

/// Sends `request` through a proxy for `ok` in front of `upstream`, and
/// reads until `expected.len()` bytes came back or the proxy closed.
async fn through_ok(upstream: &str, request: &[u8], expected: usize) -> Vec<u8> {
    let proxy = proxy_to(Fault::ok(), upstream).await;
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    client.write_all(request).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < expected {
        match tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf)).await {
            Ok(Ok(n @ 1..)) => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    got
}

#[tokio::test]
async fn a_chunked_answer_passes_byte_for_byte() {
    const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Odd-Case: kept\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\n";
    let upstream = raw_service(ANSWER, false).await;
    let got = through_ok(
        &upstream,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        ANSWER.len(),
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(ANSWER)
    );
}

#[tokio::test]
async fn an_upgrade_becomes_a_tunnel_whose_bytes_count_in_the_upstream_leg() {
    const SWITCH: &[u8] =
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    const UPGRADE: &[u8] =
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    let upstream = raw_service(SWITCH, true).await;
    let proxy = proxy_to(Fault::ok(), &upstream).await;
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    client.write_all(UPGRADE).await.unwrap();
    let mut head = vec![0u8; SWITCH.len()];
    tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head, SWITCH);
    client.write_all(b"frames both ways").await.unwrap();
    let mut echoed = [0u8; 16];
    tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut echoed))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&echoed, b"frames both ways");
    drop(client);
    let attempts = settled(&proxy, 1).await;
    let leg = attempts[0].upstream.as_ref().expect("an upstream leg");
    assert_eq!(
        (leg.bytes_sent, leg.bytes_received),
        (UPGRADE.len() as u64 + 16, SWITCH.len() as u64 + 16),
        "the frames each way count too"
    );
    assert_eq!(attempts[0].bytes_sent, leg.bytes_received);
}

#[tokio::test]
async fn expect_continue_waits_for_the_upstream() {
    const ANSWER: &[u8] =
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    let upstream = raw_service(ANSWER, false).await;
    let request =
        b"PUT /f HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
    let proxy = proxy_to(Fault::ok(), &upstream).await;
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    client.write_all(request).await.unwrap();
    let mut interim = [0u8; 25];
    tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut interim))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    client.write_all(b"hello").await.unwrap();
    let mut rest = vec![0u8; ANSWER.len() - 25];
    tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&rest[..], &ANSWER[25..]);
}

/// FNV-1a over a stream of pieces: the same bytes give the same hash
/// however they are cut.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn add(mut self, bytes: &[u8]) -> Fnv {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
        self
    }
}

/// The byte at `offset` of every test payload: not a repeating short pattern.
fn payload(offset: u64, len: usize) -> Vec<u8> {
    (offset..offset + len as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

const BIG: u64 = 100 * 1024 * 1024;

/// A hyper service: `POST` answers the hash of the body it read; `GET`
/// answers [`BIG`] bytes of [`payload`], chunked.
async fn hashing_service() -> String {
    use http_body_util::BodyExt;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = hyper::service::service_fn(
                |request: http::Request<hyper::body::Incoming>| async move {
                    let body: http_body_util::combinators::BoxBody<
                        bytes::Bytes,
                        std::convert::Infallible,
                    > = if request.method() == http::Method::POST {
                        let mut hash = Fnv::new();
                        let mut incoming = request.into_body();
                        while let Some(Ok(frame)) = incoming.frame().await {
                            if let Some(data) = frame.data_ref() {
                                hash = hash.add(data);
                            }
                        }
                        http_body_util::Full::new(bytes::Bytes::from(hash.0.to_string())).boxed()
                    } else {
                        Download(0).boxed()
                    };
                    Ok::<_, std::convert::Infallible>(http::Response::new(body))
                },
            );
            let io = hyper_util::rt::TokioIo::new(stream);
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(io, service));
        }
    });
    address
}

/// [`BIG`] bytes of [`payload`], 64 KiB a frame, of no declared length.
struct Download(u64);

impl hyper::body::Body for Download {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, Self::Error>>> {
        if self.0 >= BIG {
            return std::task::Poll::Ready(None);
        }
        let len = (BIG - self.0).min(64 * 1024) as usize;
        let piece = payload(self.0, len);
        self.0 += len as u64;
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(piece.into()))))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_megabytes_pass_each_way_intact_on_one_connection() {
    let proxy = proxy_to(Fault::ok(), hashing_service().await).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let upload = payload(0, BIG as usize);
    let expected = Fnv::new().add(&upload).0.to_string();
    let response = client.post(proxy.url()).body(upload).send().await.unwrap();
    assert_eq!(
        response.text().await.unwrap(),
        expected,
        "the upload arrived intact"
    );

    let mut response = client.get(proxy.url()).send().await.unwrap();
    assert_eq!(response.headers()["transfer-encoding"], "chunked");
    let (mut hash, mut len) = (Fnv::new(), 0u64);
    while let Some(piece) = response.chunk().await.unwrap() {
        hash = hash.add(&piece);
        len += piece.len() as u64;
    }
    assert_eq!(len, BIG);
    assert_eq!(
        hash.0,
        Fnv::new().add(&payload(0, BIG as usize)).0,
        "the download arrived intact"
    );
    drop(client);
    let attempts = settled(&proxy, 2).await;
    assert_eq!(proxy.journal().connections(), 1, "kept alive");
    assert_eq!(
        attempts[1].upstream.as_ref().unwrap().connection,
        UpstreamConnection::Reused
    );
}

#[tokio::test]
async fn limit_data_and_reset_cut_the_real_response_where_they_say() {
    let body = "y".repeat(1000);
    let (_service, proxy) =
        service_behind(fault("{ kind = \"limit-data\", bytes = 20 }"), &body).await;
    let client = support::client(Timeouts::default());
    let error = item(&client, &proxy).await.unwrap_err();
    assert_eq!(
        classify(&error),
        ErrorClass::EmptyReply,
        "cut inside the head: {error:?}"
    );
    assert_eq!(settled(&proxy, 1).await[0].bytes_sent, 20);

    let reset = fault("{ kind = \"reset\", when = \"after-body-bytes\", body-bytes = 10 }");
    let (_service, proxy) = service_behind(reset, &body).await;
    let response = item(&client, &proxy).await.unwrap();
    let error = response.bytes().await.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::Reset, "{error:?}");
    assert_eq!(
        settled(&proxy, 1).await[0].ending,
        Some(outage::Ending::ServerRst)
    );
}

#[tokio::test]
async fn cut_chunk_ends_inside_the_first_real_chunk() {
    const ANSWER: &[u8] =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
    let upstream = raw_service(ANSWER, false).await;
    let proxy = proxy_to(fault("{ kind = \"cut-chunk\", sent = 4 }"), &upstream).await;
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    let head_len = ANSWER.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(
        &got[head_len..],
        b"10\r\n0123",
        "four data bytes into the chunk, then FIN"
    );
}

#[tokio::test]
async fn pacing_faults_take_their_time_and_deliver_the_real_body() {
    let body = "z".repeat(100);
    let cases = [
        // 100 body bytes, one every 5 ms: at least 500 ms.
        ("{ kind = \"drip\", interval = \"5ms\" }", 500),
        // About 250 bytes of head and body at 1000 B/s: at least 200 ms.
        ("{ kind = \"bandwidth\", rate = 1000 }", 200),
        // 10-byte writes 20 ms apart: at least 10 gaps.
        ("{ kind = \"slicer\", segment = 10, delay = \"20ms\" }", 200),
        ("{ kind = \"slow-close\", delay = \"300ms\" }", 0),
    ];
    for (toml, at_least_ms) in cases {
        let (_service, proxy) = service_behind(fault(toml), &body).await;
        let client = support::client(Timeouts::default());
        let started = Instant::now();
        let (status, got) = support::fetch(&client, &format!("{}/item", proxy.url()))
            .await
            .unwrap_or_else(|e| panic!("{toml}: {e:?}"));
        let took = started.elapsed();
        assert_eq!((status.as_u16(), got.len()), (200, 100), "{toml}");
        assert!(
            took >= Duration::from_millis(at_least_ms),
            "{toml}: {took:?}"
        );
        let attempts = settled(&proxy, 1).await;
        if toml.contains("slow-close") {
            let held = attempts[0].ended.unwrap() - attempts[0].started;
            assert!(
                held >= Duration::from_millis(300),
                "the close was held: {held:?}"
            );
        }
    }
}

/// A hyper service that streams each request's body back as it reads it.
async fn echo_service() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = hyper::service::service_fn(
                |request: http::Request<hyper::body::Incoming>| async move {
                    Ok::<_, std::convert::Infallible>(http::Response::new(request.into_body()))
                },
            );
            let io = hyper_util::rt::TokioIo::new(stream);
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(io, service));
        }
    });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_answering_while_it_reads_never_waits_on_the_proxy() {
    let proxy = proxy_to(Fault::ok(), echo_service().await).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    // Far more than the socket buffers on both legs hold.
    let sent = payload(7, 32 * 1024 * 1024);
    let response = client
        .post(proxy.url())
        .body(sent.clone())
        .send()
        .await
        .unwrap();
    let echoed = response.bytes().await.expect("the echo arrives whole");
    assert!(echoed[..] == sent[..], "{} bytes back", echoed.len());
}

#[tokio::test]
async fn routes_pick_per_path_and_tls_wraps_the_client_side() {
    let routes = Fault::routes([("/item", Fault::ok()), ("/down", Fault::status(503))]);
    let service = MockServer::start().await;
    Mock::given(path("/item"))
        .respond_with(ResponseTemplate::new(200).set_body_string("real"))
        .mount(&service)
        .await;
    let proxy = FaultServer::builder(routes)
        .tls(true)
        .upstream(service.address().to_string())
        .start()
        .await
        .unwrap();
    let ca = reqwest::Certificate::from_pem(proxy.ca_pem().unwrap().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let item = item(&client, &proxy).await.unwrap();
    assert_eq!(item.text().await.unwrap(), "real");
    let down = client
        .get(format!("{}/down", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 503);
    let missing = client
        .get(format!("{}/other", proxy.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404, "the fallback answers in its place");
    assert_eq!(seen_by(&service).await, 1, "only /item reached the service");
}

#[tokio::test]
async fn a_broken_upstream_answer_is_passed_on_and_journaled() {
    let huge_head: &'static [u8] = Box::leak(
        [
            &b"HTTP/1.1 200 OK\r\nX: "[..],
            &vec![b'a'; 70_000],
            b"\r\n\r\n",
        ]
        .concat()
        .into_boxed_slice(),
    );
    let answers: [(&'static [u8], &str); 5] = [
        (b"", "closed after 0 bytes"),
        (b"HTTP/1.1 200 O", "closed after 14 bytes"),
        (
            b"\x00\x01garbage that is not http\r\n\r\n",
            "no HTTP/1 response",
        ),
        (huge_head, "no HTTP/1 response"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "broke the chunk grammar",
        ),
    ];
    for (answer, journaled) in answers {
        let upstream = raw_service(answer, false).await;
        let proxy = proxy_to(Fault::ok(), &upstream).await;
        let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut got = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut got)).await;
        assert!(read.is_ok(), "{journaled}: the proxy closed");
        drop(client);
        assert_eq!(got.len(), answer.len(), "{journaled}: passed on as sent");
        let attempts = settled(&proxy, 1).await;
        assert!(
            attempts[0].action.contains(journaled),
            "{}",
            attempts[0].action
        );
    }
}

#[tokio::test]
async fn a_request_that_is_no_http_never_reaches_the_upstream() {
    let (service, proxy) = service_behind(Fault::ok(), "unused").await;
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    client
        .write_all(b"\x16\x03\x01 not a request\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    let attempts = settled(&proxy, 1).await;
    assert!(
        attempts[0].action.contains("unreadable request"),
        "{}",
        attempts[0].action
    );
    assert_eq!(seen_by(&service).await, 0);
}

/// `outage proxy --upstream` as a process, in front of Python's own
/// `http.server`, with curl as the client.
#[cfg(feature = "cli")]
mod process {
    use std::process::{Child, Command, Stdio};

    use super::*;
    use crate::cli::Outage;

    /// A child process killed when the test ends, however it ends.
    struct Killed(Child);

    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// `python3 -m http.server` serving `dir`, once it accepts connections.
    async fn http_server(dir: &std::path::Path) -> (Killed, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let address = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(&address).await.is_err() {
            assert!(Instant::now() < deadline, "http.server never listened");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (Killed(child), address)
    }

    fn curl(url: &str) -> (Option<i32>, String) {
        let output = Command::new("curl")
            .args(["-sS", "--max-time", "5", url])
            .output()
            .expect("curl runs");
        let body = String::from_utf8_lossy(&output.stdout).into_owned();
        (output.status.code(), body)
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn fault_may_be_left_out_and_proxy_options_may_follow_it() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let journal = dir.path().join("attempts.jsonl");
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let down = closed.local_addr().unwrap().to_string();
        drop(closed);
        let journal_arg = journal.to_str().unwrap();
        let mut outage = Outage::spawn(&[
            "proxy",
            "--upstream",
            &down,
            "--journal",
            journal_arg,
            "--bad-gateway",
        ]);
        let url = outage.first_line();
        let output = Command::new("curl")
            .args([
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "5",
                &url,
            ])
            .output()
            .expect("curl runs");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "502",
            "ok, with --bad-gateway after it"
        );
        outage.signal("TERM");
        let (status, _, stderr) = outage.finish();
        assert_eq!(status.code(), Some(0), "{stderr}");
        let lines = std::fs::read_to_string(&journal).expect("the journal file");
        assert!(lines.contains("\"refused\""), "{lines}");
    }

    #[test]
    fn an_upstream_url_is_refused_with_what_to_give() {
        let (status, stdout, stderr) =
            Outage::spawn(&["proxy", "--upstream", "http://127.0.0.1:8080"]).finish();
        assert_eq!((status.code(), stdout.as_str()), (Some(2), ""));
        assert!(
            stderr.contains("not a URL: leave out the scheme; give HOST:PORT"),
            "{stderr}"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn outage_proxy_cuts_a_real_servers_answer_then_passes_it_whole() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(dir.path().join("item.txt"), "the real file, whole\n").unwrap();
        let (_server, address) = http_server(dir.path()).await;
        let mut outage = Outage::spawn(&[
            "proxy",
            "--upstream",
            &address,
            "sequence",
            "--step",
            "truncate --sent 8",
            "--step",
            "ok",
        ]);
        let url = format!("{}/item.txt", outage.first_line());
        let (code, body) = curl(&url);
        assert_eq!(
            (code, body.as_str()),
            (Some(18), "the real"),
            "curl: partial file"
        );
        assert_eq!(curl(&url), (Some(0), "the real file, whole\n".to_owned()));
        outage.signal("TERM");
        let (status, _, stderr) = outage.finish();
        assert_eq!(status.code(), Some(0), "{stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{stderr}");
        assert!(
            lines[0].contains("cut it after at most 8 body bytes"),
            "{stderr}"
        );
        assert!(
            lines[1].contains(&format!("upstream {address} opened")),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn an_outage_toxic_puts_a_fault_in_front_of_a_tcp_proxys_upstream() {
    use outage::proxy::ToxicProxy;
    use outage::toxic::{Direction, Toxic, ToxicKind, Toxics};
    let (service, _unused) = service_behind(Fault::ok(), "real").await;
    let proxy = ToxicProxy::start(
        "127.0.0.1:0".parse().unwrap(),
        service.address().to_string(),
        Toxics::default(),
    )
    .await
    .unwrap();
    let fault = Fault::sequence([Fault::status(503), Fault::ok()]);
    let outage = Toxic::new(ToxicKind::Outage(fault), Direction::Downstream);
    proxy.toxics().add(outage.clone()).unwrap();
    let second = outage.named("another");
    assert_eq!(
        proxy.toxics().add(second),
        Err(outage::toxic::ToxicError::SecondOutage)
    );
    let client = support::client(Timeouts::default());
    let url = format!("http://{}/item", proxy.listen());
    assert_eq!(client.get(&url).send().await.unwrap().status(), 503);
    assert_eq!(
        client.get(&url).send().await.unwrap().text().await.unwrap(),
        "real"
    );
    let journal = proxy.journal().expect("the fault's journal");
    let attempts = journal.settled(2, Duration::from_secs(5)).await.unwrap();
    assert!(attempts[0].upstream.is_none() && attempts[1].upstream.is_some());

    proxy.toxics().remove("outage_downstream").unwrap();
    assert_eq!(
        client.get(&url).send().await.unwrap().text().await.unwrap(),
        "real"
    );
    assert!(proxy.journal().is_none(), "no fault in front any more");
    assert_eq!(seen_by(&service).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_alive_connections_stay_open_under_concurrent_clients() {
    let upstream = support::start(Fault::ok()).await;
    let proxy = proxy_to(Fault::ok(), upstream.addr().to_string()).await;
    let url = proxy.url();
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let client = support::pooled_client();
                for _ in 0..150 {
                    support::fetch(&client, &url).await.expect("an answer");
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    assert_eq!(
        proxy.journal().connections(),
        4,
        "each client kept its one connection"
    );
}

#[rstest::rstest]
#[case::a_url("http://127.0.0.1:8080", "a proxy's upstream is an address, not a URL")]
#[case::no_port("127.0.0.1", "no port")]
#[case::port_zero("127.0.0.1:0", "\"0\" is no port from 1 to 65535")]
#[case::no_host(":8080", "no host")]
#[tokio::test]
async fn an_upstream_that_is_no_host_and_port_is_refused_at_start(
    #[case] address: &str,
    #[case] why: &str,
) {
    let error = FaultServer::builder(Fault::ok())
        .upstream(address)
        .start()
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("invalid upstream {address:?}: {why}")),
        "{message}"
    );
    assert!(
        message.ends_with("give HOST:PORT, such as 127.0.0.1:8080"),
        "{message}"
    );
}

#[tokio::test]
async fn an_attempt_the_stop_cuts_short_still_says_the_upstream_had_it() {
    let body = "d".repeat(50);
    let (_service, proxy) =
        service_behind(fault("{ kind = \"drip\", interval = \"1s\" }"), &body).await;
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    client
        .write_all(b"GET /item HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 12];
    client.read_exact(&mut head).await.unwrap();
    let journal = proxy.journal().clone();
    tokio::time::timeout(Duration::from_secs(5), proxy.shutdown())
        .await
        .expect("stops in time");
    let attempts = journal.attempts();
    assert_eq!(attempts[0].ending, Some(outage::Ending::ServerStopped));
    let leg = attempts[0]
        .upstream
        .as_ref()
        .expect("the upstream had the request");
    assert!(
        matches!(leg.connection, UpstreamConnection::Opened(_)),
        "{leg:?}"
    );
}
