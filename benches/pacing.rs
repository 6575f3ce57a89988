//! How faithfully a pace is kept over a whole body: `drip` of 100 bytes, one
//! every 20 ms (2 s), and `bandwidth` of a 75,000-byte body at 50,000 bytes
//! per second (1.5 s), against a bare hyper server that sends the same
//! bytes with a `tokio::time::sleep` before each slice.
//!
//! Each client sends one request and reads the whole response; its time is
//! from sending the request to the last byte, its error that time against
//! the intended one, in percent. Rounds alternate between the servers, each
//! with `CLIENTS` concurrent clients; each server runs in a process of its
//! own. Run with `make bench`.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::serve::{DRIP_BYTES, DRIP_INTERVAL, RATE, RATE_BODY};
use common::{Served, compare, median_f64, verdict};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ROUNDS: usize = 3;
const CLIENTS: usize = 16;

const GET: &[u8] = b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n";

/// One whole response: how long it took to its last byte, its length, and
/// its head's length.
struct Fetched {
    took: Duration,
    bytes: usize,
    head: usize,
}

async fn fetch(addr: SocketAddr) -> Fetched {
    let mut stream = TcpStream::connect(addr).await.expect("the server accepts");
    stream
        .set_nodelay(true)
        .expect("loopback takes TCP_NODELAY");
    let sent = Instant::now();
    stream.write_all(GET).await.expect("the request is sent");
    let (mut all, mut buf, mut took) = (Vec::new(), vec![0; 64 * 1024], Duration::ZERO);
    loop {
        let n = stream.read(&mut buf).await.expect("the response is read");
        if n == 0 {
            break;
        }
        took = sent.elapsed();
        all.extend_from_slice(&buf[..n]);
    }
    let head = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(all.len(), |at| at + 4);
    Fetched {
        took,
        bytes: all.len(),
        head,
    }
}

/// A pace and the two servers that keep it.
struct Paced {
    what: &'static str,
    servers: [Served; 2],
    /// The time a response should take.
    intended: fn(&Fetched, &str) -> Duration,
}

/// Each server's errors in percent, over alternating rounds.
fn errors(paced: &Paced) -> [Vec<f64>; 2] {
    let runtime = common::load::runtime();
    let mut errors: [Vec<f64>; 2] = Default::default();
    for round in 0..ROUNDS {
        for i in 0..2 {
            let which = (round + i) % 2;
            let served = &paced.servers[which];
            let fetched = runtime.block_on(async {
                let clients: Vec<_> = (0..CLIENTS)
                    .map(|_| tokio::spawn(fetch(served.addr)))
                    .collect();
                let mut all = Vec::new();
                for client in clients {
                    all.push(client.await.expect("a client does not panic"));
                }
                all
            });
            for fetched in fetched {
                let intended = (paced.intended)(&fetched, served.kind);
                assert!(
                    fetched.took >= intended,
                    "{} sent its last byte early: {:?} < {intended:?}",
                    served.kind,
                    fetched.took
                );
                let error = (fetched.took.as_secs_f64() / intended.as_secs_f64() - 1.0) * 100.0;
                errors[which].push(error);
            }
        }
    }
    errors
}

/// Prints a pace's error figures and its verdict.
fn report(paced: &Paced) {
    let [mut outage, mut hyper] = errors(paced);
    let worst = |errors: &[f64]| errors.iter().copied().fold(0.0, f64::max);
    let (outage_worst, hyper_worst) = (worst(&outage), worst(&hyper));
    println!(
        "{}, {CLIENTS} concurrent clients x {ROUNDS} alternating rounds, time to the last byte against the intended time:",
        paced.what
    );
    compare(
        "time error median",
        median_f64(&mut outage),
        "hyper",
        median_f64(&mut hyper),
        "%",
    );
    compare("time error worst", outage_worst, "hyper", hyper_worst, "%");
    let rate_error = |time_error: f64| (1.0 / (1.0 + time_error / 100.0) - 1.0) * 100.0;
    compare(
        "rate error worst",
        rate_error(outage_worst),
        "hyper",
        rate_error(hyper_worst),
        "%",
    );
    println!("  never early: no response ended before its intended time");
    verdict(
        "within 2% of the intended time and rate",
        outage_worst <= 2.0,
        "wake-ups later than the schedule under load",
    );
}

/// `DRIP_BYTES` × `DRIP_INTERVAL`, whichever server.
fn drip_time(_: &Fetched, _: &str) -> Duration {
    DRIP_INTERVAL * DRIP_BYTES as u32
}

/// The bytes paced at `RATE`: outage counts the head against the rate,
/// bare hyper sends it at once and paces the body.
fn rate_time(fetched: &Fetched, kind: &str) -> Duration {
    let paced = if kind.starts_with("outage") {
        fetched.bytes
    } else {
        fetched.bytes - fetched.head
    };
    assert!(paced >= RATE_BODY, "{kind} sent {paced} paced bytes");
    Duration::from_secs_f64(paced as f64 / RATE as f64)
}

fn main() {
    common::serve_if_asked();
    report(&Paced {
        what: "Drip, 100 bytes one every 20 ms (2 s)",
        servers: [Served::start("outage-drip"), Served::start("hyper-drip")],
        intended: drip_time,
    });
    report(&Paced {
        what: "Bandwidth, 75,000 bytes at 50,000 B/s (1.5 s)",
        servers: [
            Served::start("outage-bandwidth"),
            Served::start("hyper-bandwidth"),
        ],
        intended: rate_time,
    });
}
