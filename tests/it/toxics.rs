//! The TCP toxics of `ToxicProxy`, each measured by its effect on real
//! traffic on loopback: a small upstream, the proxy, a client.
//!
//! Timing bounds: a toxic never acts early, so lower bounds are strict;
//! upper bounds leave room for a loaded machine.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use outage::proxy::ToxicProxy;
use outage::toxic::{Direction, Toxic, ToxicKind, Toxics};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use tokio_util::task::AbortOnDropHandle;

/// The longest any single step of a test may take.
const LIMIT: Duration = Duration::from_secs(5);
/// Slack for a loaded machine on top of what a toxic should take.
const SLACK: Duration = Duration::from_millis(1500);

/// An upstream on loopback, serving each connection with `serve` until
/// dropped.
struct Upstream {
    addr: SocketAddr,
    _task: AbortOnDropHandle<()>,
}

async fn upstream<F, Fut>(serve: F) -> Upstream
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
    Upstream {
        addr,
        _task: AbortOnDropHandle::new(task),
    }
}

/// Echoes every byte until the client closes.
async fn echo() -> Upstream {
    upstream(|mut stream| async move {
        let (mut read, mut write) = stream.split();
        let _ = tokio::io::copy(&mut read, &mut write).await;
    })
    .await
}

/// Sends `body` at once, then closes.
async fn sends(body: Vec<u8>) -> Upstream {
    upstream(move |mut stream| {
        let body = body.clone();
        async move {
            let _ = stream.write_all(&body).await;
        }
    })
    .await
}

async fn proxy(upstream: &Upstream, toxics: &[Toxic]) -> ToxicProxy {
    let set = Toxics::default();
    for toxic in toxics {
        set.add(toxic.clone()).unwrap();
    }
    ToxicProxy::start(
        "127.0.0.1:0".parse().unwrap(),
        upstream.addr.to_string(),
        set,
    )
    .await
    .unwrap()
}

async fn connect(proxy: &ToxicProxy) -> TcpStream {
    timeout(LIMIT, TcpStream::connect(proxy.listen()))
        .await
        .unwrap()
        .unwrap()
}

fn down(kind: ToxicKind) -> Toxic {
    Toxic::new(kind, Direction::Downstream)
}

fn up(kind: ToxicKind) -> Toxic {
    Toxic::new(kind, Direction::Upstream)
}

fn latency(ms: i64) -> ToxicKind {
    ToxicKind::Latency {
        latency: ms,
        jitter: 0,
    }
}

/// Reads until the peer's FIN, or the error that ends the stream.
async fn read_to_end(stream: &mut TcpStream) -> (Vec<u8>, io::Result<()>) {
    let mut all = Vec::new();
    let ended = timeout(LIMIT, stream.read_to_end(&mut all))
        .await
        .expect("the stream ends");
    (all, ended.map(drop))
}

/// Sends `message` and reads as many bytes back.
async fn round_trip(stream: &mut TcpStream, message: &[u8]) -> Duration {
    let start = Instant::now();
    stream.write_all(message).await.unwrap();
    let mut back = vec![0; message.len()];
    timeout(LIMIT, stream.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back, message);
    start.elapsed()
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

#[tokio::test]
async fn latency_delays_each_chunk_from_its_arrival_so_chunks_in_a_row_overlap() {
    let echo = echo().await;
    let proxy = proxy(&echo, &[down(latency(300))]).await;
    let mut client = connect(&proxy).await;
    let waited = round_trip(&mut client, b"ping").await;
    assert!(waited >= ms(300) && waited < ms(300) + SLACK, "{waited:?}");

    // Five messages 40 ms apart: delayed together, not one after the other.
    let start = Instant::now();
    for i in 0..5u8 {
        client.write_all(&[i]).await.unwrap();
        tokio::time::sleep(ms(40)).await;
    }
    let mut back = [0; 5];
    timeout(LIMIT, client.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    let all = start.elapsed();
    assert_eq!(back, [0, 1, 2, 3, 4]);
    assert!(
        all >= ms(460) && all < ms(1500),
        "{all:?}: serialized would be 1500 ms"
    );
}

#[tokio::test]
async fn bandwidth_passes_50_kb_at_100_kb_per_second_in_half_a_second() {
    let server = sends(vec![b'x'; 50_000]).await;
    let proxy = proxy(&server, &[down(ToxicKind::Bandwidth { rate: 100 })]).await;
    let start = Instant::now();
    let mut client = connect(&proxy).await;
    let (body, ended) = read_to_end(&mut client).await;
    let took = start.elapsed();
    assert!(ended.is_ok());
    assert_eq!(body.len(), 50_000);
    assert!(took >= ms(500) && took < ms(500) + SLACK, "{took:?}");
}

#[tokio::test]
async fn slow_close_passes_the_data_at_once_and_delays_the_fin() {
    let server = sends(b"bye".to_vec()).await;
    let proxy = proxy(&server, &[down(ToxicKind::SlowClose { delay: 400 })]).await;
    let start = Instant::now();
    let mut client = connect(&proxy).await;
    let mut bye = [0; 3];
    timeout(LIMIT, client.read_exact(&mut bye))
        .await
        .unwrap()
        .unwrap();
    assert!(
        start.elapsed() < ms(400),
        "the data is not delayed: {:?}",
        start.elapsed()
    );
    let (rest, ended) = read_to_end(&mut client).await;
    let fin = start.elapsed();
    assert!(rest.is_empty() && ended.is_ok());
    assert!(fin >= ms(400) && fin < ms(400) + SLACK, "{fin:?}");
}

#[tokio::test]
async fn timeout_drops_the_data_and_closes_after_the_timeout() {
    let echo = echo().await;
    let proxy = proxy(&echo, &[up(ToxicKind::Timeout { timeout: 300 })]).await;
    let start = Instant::now();
    let mut client = connect(&proxy).await;
    client.write_all(b"lost").await.unwrap();
    let (back, _) = read_to_end(&mut client).await;
    let closed = start.elapsed();
    assert!(back.is_empty(), "{back:?}");
    assert!(closed >= ms(300) && closed < ms(300) + SLACK, "{closed:?}");
}

#[tokio::test]
async fn removing_a_timeout_closes_the_open_connection() {
    let echo = echo().await;
    let proxy = proxy(&echo, &[up(ToxicKind::Timeout { timeout: 0 })]).await;
    let mut client = connect(&proxy).await;
    client.write_all(b"lost").await.unwrap();
    tokio::time::sleep(ms(100)).await;
    proxy.toxics().remove("timeout_upstream").unwrap();
    let (back, _) = read_to_end(&mut client).await;
    assert!(back.is_empty(), "{back:?}");
}

#[tokio::test]
async fn reset_peer_gives_the_client_a_connection_reset_after_the_timeout() {
    let echo = echo().await;
    let proxy = proxy(&echo, &[up(ToxicKind::ResetPeer { timeout: 200 })]).await;
    let start = Instant::now();
    let mut client = connect(&proxy).await;
    client.write_all(b"ping").await.unwrap();
    let (back, ended) = read_to_end(&mut client).await;
    let reset = start.elapsed();
    assert!(back.is_empty(), "{back:?}");
    assert_eq!(ended.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
    assert!(reset >= ms(200) && reset < ms(200) + SLACK, "{reset:?}");
}

#[tokio::test]
async fn slicer_delivers_the_bytes_intact_in_several_reads() {
    let body: Vec<u8> = (0..4000u32).map(|i| (i % 251) as u8).collect();
    let server = sends(body.clone()).await;
    let slicer = ToxicKind::Slicer {
        average_size: 100,
        size_variation: 20,
        delay: 3000,
    };
    let proxy = proxy(&server, &[down(slicer)]).await;
    let start = Instant::now();
    let mut client = connect(&proxy).await;
    let mut got = Vec::new();
    let mut reads = 0;
    let mut buf = [0; 8192];
    loop {
        let n = timeout(LIMIT, client.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        reads += 1;
    }
    assert_eq!(got, body);
    // About 40 slices, 3 ms apart: far more than one read.
    assert!(reads >= 10, "{reads} reads");
    assert!(start.elapsed() >= ms(3 * 30), "{:?}", start.elapsed());
}

#[tokio::test]
async fn limit_data_closes_after_exactly_the_limit() {
    let server = sends(vec![b'z'; 10_000]).await;
    let proxy = proxy(&server, &[down(ToxicKind::LimitData { bytes: 1234 })]).await;
    let mut client = connect(&proxy).await;
    let (body, _) = read_to_end(&mut client).await;
    assert_eq!(body.len(), 1234);
}

/// An upstream that echoes, and reports how each connection ended: a FIN
/// (`Ok`) or an error such as a reset.
async fn echo_reporting(endings: mpsc::UnboundedSender<io::ErrorKind>) -> Upstream {
    upstream(move |mut stream| {
        let endings = endings.clone();
        async move {
            let mut buf = [0; 1024];
            let kind = loop {
                match stream.read(&mut buf).await {
                    Ok(0) => break io::ErrorKind::UnexpectedEof,
                    Ok(n) => {
                        if let Err(e) = stream.write_all(&buf[..n]).await {
                            break e.kind();
                        }
                    }
                    Err(e) => break e.kind(),
                }
            };
            let _ = endings.send(kind);
        }
    })
    .await
}

#[tokio::test]
async fn toxicity_zero_never_acts_and_never_resets_either_side() {
    let (endings, mut ended) = mpsc::unbounded_channel();
    let echo = echo_reporting(endings).await;
    let never = |toxic: Toxic| toxic.toxicity(0.0);
    let toxics = [
        never(up(ToxicKind::ResetPeer { timeout: 0 })),
        never(down(ToxicKind::ResetPeer { timeout: 0 })),
        never(down(latency(2000))),
        never(up(ToxicKind::LimitData { bytes: 1 })),
    ];
    let proxy = proxy(&echo, &toxics).await;
    for _ in 0..5 {
        let mut client = connect(&proxy).await;
        let waited = round_trip(&mut client, b"hello").await;
        assert!(waited < ms(1500), "{waited:?}");
        client.shutdown().await.unwrap();
        let (rest, fin) = read_to_end(&mut client).await;
        assert!(rest.is_empty());
        assert!(fin.is_ok(), "the client got {fin:?}, not a FIN");
        let upstream_saw = timeout(LIMIT, ended.recv()).await.unwrap().unwrap();
        assert_eq!(
            upstream_saw,
            io::ErrorKind::UnexpectedEof,
            "the upstream saw no FIN"
        );
    }
}

/// Toxiproxy #603: a `reset_peer` of toxicity 0 armed `SO_LINGER` 0 anyway,
/// so a connection that another toxic closed ended with RSTs.
#[tokio::test]
async fn a_reset_toxic_that_does_not_act_leaves_another_toxics_close_a_fin() {
    let (endings, mut ended) = mpsc::unbounded_channel();
    let echo = echo_reporting(endings).await;
    let toxics = [
        up(ToxicKind::ResetPeer { timeout: 0 }).toxicity(0.0),
        down(ToxicKind::ResetPeer { timeout: 0 }).toxicity(0.0),
        down(ToxicKind::LimitData { bytes: 5 }),
    ];
    let proxy = proxy(&echo, &toxics).await;
    let mut client = connect(&proxy).await;
    client.write_all(b"hello world").await.unwrap();
    let (body, fin) = read_to_end(&mut client).await;
    assert_eq!(body, b"hello");
    assert!(fin.is_ok(), "the client got {fin:?}, not a FIN");
    let upstream_saw = timeout(LIMIT, ended.recv()).await.unwrap().unwrap();
    assert_eq!(
        upstream_saw,
        io::ErrorKind::UnexpectedEof,
        "the upstream saw no FIN"
    );
}

#[tokio::test]
async fn a_half_close_under_latency_delivers_the_data_in_flight_before_the_fin() {
    // Reads the request to its end, answers, and closes at once: the answer
    // is still in the downstream latency when the upstream's FIN arrives.
    let server = upstream(|mut stream| async move {
        let mut request = Vec::new();
        let _ = stream.read_to_end(&mut request).await;
        let _ = stream
            .write_all(&[b"answer:".as_slice(), &request].concat())
            .await;
    })
    .await;
    let proxy = proxy(&server, &[up(latency(200)), down(latency(200))]).await;
    let start = Instant::now();
    let mut client = connect(&proxy).await;
    client.write_all(b"question").await.unwrap();
    client.shutdown().await.unwrap();
    let (answer, ended) = read_to_end(&mut client).await;
    let took = start.elapsed();
    assert!(ended.is_ok(), "{ended:?}");
    assert_eq!(answer, b"answer:question");
    assert!(took >= ms(400) && took < ms(400) + SLACK, "{took:?}");
}

#[tokio::test]
async fn toxics_added_and_removed_apply_to_an_open_connection() {
    let echo = echo().await;
    let proxy = proxy(&echo, &[]).await;
    let mut client = connect(&proxy).await;
    let before = round_trip(&mut client, b"one").await;
    assert!(before < ms(500), "{before:?}");
    proxy.toxics().add(down(latency(600))).unwrap();
    let during = round_trip(&mut client, b"two").await;
    assert!(during >= ms(600) && during < ms(600) + SLACK, "{during:?}");
    proxy.toxics().remove("latency_downstream").unwrap();
    let after = round_trip(&mut client, b"three").await;
    assert!(after < ms(500), "{after:?}");
}

#[tokio::test]
async fn an_unreachable_upstream_closes_the_client_at_once() {
    let gone = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = gone.local_addr().unwrap();
    drop(gone);
    let proxy = ToxicProxy::start(
        "127.0.0.1:0".parse().unwrap(),
        addr.to_string(),
        Toxics::default(),
    )
    .await
    .unwrap();
    let start = Instant::now();
    let mut client = connect(&proxy).await;
    let (body, _) = read_to_end(&mut client).await;
    assert!(body.is_empty());
    assert!(start.elapsed() < SLACK, "{:?}", start.elapsed());
}

#[tokio::test]
async fn shutdown_closes_every_connection_and_the_listener() {
    let echo = echo().await;
    let proxy = proxy(&echo, &[down(latency(10_000))]).await;
    let listen = proxy.listen();
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut client = connect(&proxy).await;
        client.write_all(b"held by the latency").await.unwrap();
        clients.push(client);
    }
    tokio::time::sleep(ms(100)).await;
    timeout(LIMIT, proxy.shutdown())
        .await
        .expect("shutdown is prompt");
    for client in &mut clients {
        let (body, _) = read_to_end(client).await;
        assert!(body.is_empty());
    }
    let refused = TcpStream::connect(listen).await.unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn dropping_the_proxy_closes_its_connections() {
    let echo = echo().await;
    let proxy = proxy(
        &echo,
        &[up(ToxicKind::Slicer {
            average_size: 1,
            size_variation: 0,
            delay: 1_000_000,
        })],
    )
    .await;
    let mut client = connect(&proxy).await;
    client.write_all(b"sliced one byte a second").await.unwrap();
    tokio::time::sleep(ms(100)).await;
    drop(proxy);
    let start = Instant::now();
    let (body, _) = read_to_end(&mut client).await;
    assert!(body.len() <= 1, "{body:?}");
    assert!(start.elapsed() < SLACK, "{:?}", start.elapsed());
}

#[tokio::test]
async fn disabling_closes_everything_and_enabling_listens_again_on_the_same_port() {
    let echo = echo().await;
    let mut proxy = proxy(&echo, &[]).await;
    let listen = proxy.listen();
    let mut client = connect(&proxy).await;
    round_trip(&mut client, b"before").await;
    timeout(LIMIT, proxy.disable()).await.unwrap();
    assert!(!proxy.is_enabled());
    assert!(read_to_end(&mut client).await.0.is_empty());
    let refused = TcpStream::connect(listen).await.unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
    proxy.enable().await.unwrap();
    assert_eq!(proxy.listen(), listen);
    let mut again = connect(&proxy).await;
    round_trip(&mut again, b"after").await;
    assert_eq!(proxy.stats().connections, 2);
}

#[tokio::test]
async fn the_same_seed_makes_the_same_connections_meet_a_toxic_of_toxicity_one_half() {
    let echo = echo().await;
    let pattern = async |seed| {
        let toxics = Toxics::with_seed(seed);
        toxics
            .add(down(ToxicKind::LimitData { bytes: 2 }).toxicity(0.5))
            .unwrap();
        let proxy = ToxicProxy::start(
            "127.0.0.1:0".parse().unwrap(),
            echo.addr.to_string(),
            toxics,
        )
        .await
        .unwrap();
        let mut cut = Vec::new();
        for _ in 0..16 {
            let mut client = connect(&proxy).await;
            client.write_all(b"hello").await.unwrap();
            client.shutdown().await.unwrap();
            cut.push(read_to_end(&mut client).await.0.len() == 2);
        }
        cut
    };
    let first = pattern(7).await;
    assert_eq!(first, pattern(7).await);
    assert!(first.contains(&true) && first.contains(&false), "{first:?}");
}

/// FNV-1a, to compare what was sent with what arrived.
fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[tokio::test]
async fn ten_megabytes_each_way_pass_intact_and_are_counted() {
    const SIZE: usize = 10 * 1024 * 1024;
    const FNV: u64 = 0xcbf2_9ce4_8422_2325;
    let echo = echo().await;
    let proxy = proxy(&echo, &[]).await;
    let client = connect(&proxy).await;
    let (mut read, mut write) = client.into_split();
    let sender = tokio::spawn(async move {
        let mut hash = FNV;
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut block = vec![0; 64 * 1024];
        for _ in 0..SIZE / block.len() {
            for byte in &mut block {
                // xorshift: bytes that no short cycle could fake.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *byte = state as u8;
            }
            hash = fnv(hash, &block);
            write.write_all(&block).await.unwrap();
        }
        write.shutdown().await.unwrap();
        hash
    });
    let mut hash = FNV;
    let mut received = 0;
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = timeout(LIMIT, read.read(&mut buf)).await.unwrap().unwrap();
        if n == 0 {
            break;
        }
        hash = fnv(hash, &buf[..n]);
        received += n;
    }
    assert_eq!(received, SIZE);
    assert_eq!(hash, sender.await.unwrap());
    let stats = proxy.stats();
    assert_eq!(
        (stats.upstream.received, stats.upstream.sent),
        (SIZE as u64, SIZE as u64)
    );
    assert_eq!(
        (stats.downstream.received, stats.downstream.sent),
        (SIZE as u64, SIZE as u64)
    );
    assert_eq!(stats.connections, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toxic_added_mid_stream_takes_over_without_losing_or_reordering_a_byte() {
    let echo = echo().await;
    let proxy = proxy(&echo, &[]).await;
    let client = connect(&proxy).await;
    let (mut from_proxy, mut to_proxy) = client.into_split();
    let sent: Vec<u8> = (0..4_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let expected = sent.clone();
    let reader = tokio::spawn(async move {
        let mut back = Vec::new();
        from_proxy.read_to_end(&mut back).await.map(|_| back)
    });
    for (i, piece) in sent.chunks(16 * 1024).enumerate() {
        to_proxy.write_all(piece).await.unwrap();
        // Toxics arrive on both ways while bytes flow each way.
        if i == 60 {
            proxy.toxics().add(up(ToxicKind::Noop {})).unwrap();
        }
        if i == 120 {
            proxy.toxics().add(down(latency(1))).unwrap();
        }
    }
    to_proxy.shutdown().await.unwrap();
    let back = tokio::time::timeout(Duration::from_secs(30), reader)
        .await
        .expect("the echo ends")
        .unwrap()
        .unwrap();
    assert_eq!(back.len(), expected.len());
    assert!(back == expected, "every byte, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toxic_acts_on_the_next_bytes_of_an_open_connection_once_added() {
    let echo = echo().await;
    let proxy = proxy(&echo, &[]).await;
    let mut client = connect(&proxy).await;
    for round in 0..30 {
        // Toxiproxy's promise: once the change returns, the open
        // connection's next bytes meet the toxic.
        proxy.toxics().add(up(latency(50))).unwrap();
        let with = round_trip(&mut client, b"x").await;
        assert!(
            with >= ms(50),
            "round {round}: {with:?} with the toxic just added"
        );
        proxy.toxics().remove("latency_upstream").unwrap();
        let without = round_trip(&mut client, b"y").await;
        assert!(
            without < ms(50),
            "round {round}: {without:?} after the toxic's removal"
        );
    }
}
