//! How servers scale with their number: 1, 10, 100 and 1,000 `ok` servers
//! alive in one process, as a test suite keeps them, beside as many
//! wiremock-rs `MockServer`s and bare hyper listeners.
//!
//! Start and stop are timed in this process, one server after another, the
//! N servers alive together between the two. Memory and requests per second
//! are those of a child process serving N servers, loaded by `wrk` with one
//! connection per thread spread round-robin over the servers. The last
//! column is what each server beyond the first adds. Run with `make bench`.

mod common;

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Served, median_f64, ms};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use outage::{Fault, FaultServer};
use tokio::task::JoinHandle;

/// How many servers are alive together.
const SIZES: [usize; 4] = [1, 10, 100, 1000];
/// The child process kinds serving that many servers, in the order of `KINDS`.
const FLEETS: [[&str; 3]; 4] = [
    ["outage-ok-x1", "hyper-ok-x1", "wiremock-ok-x1"],
    ["outage-ok-x10", "hyper-ok-x10", "wiremock-ok-x10"],
    ["outage-ok-x100", "hyper-ok-x100", "wiremock-ok-x100"],
    ["outage-ok-x1000", "hyper-ok-x1000", "wiremock-ok-x1000"],
];
const KINDS: [&str; 3] = ["outage", "hyper", "wiremock"];
/// Servers started and stopped per kind and size: `SERVERS / N` rounds.
const SERVERS: usize = 3000;
const MIN_ROUNDS: usize = 3;
/// wrk's threads, one keep-alive connection each.
const CONNECTIONS: usize = 32;
const ROUNDS: usize = 4;
const SECONDS: u32 = 1;

/// One kind's figures, one per size.
#[derive(Default)]
struct Curve {
    /// Starting all N, median over rounds, in ms.
    start: Vec<f64>,
    /// Stopping all N, in ms.
    stop: Vec<f64>,
    /// `VmRSS` with N alive less the process's before any server, in MiB.
    rss: Vec<f64>,
    /// `RssAnon` likewise.
    anon: Vec<f64>,
    /// Requests per second spread over the servers.
    rate: Vec<f64>,
}

/// A server alive in this process.
enum Alive {
    Outage(FaultServer),
    Hyper(JoinHandle<()>),
    Wiremock(wiremock::MockServer),
}

/// Starts a server of kind `KINDS[kind]`.
async fn start(kind: usize) -> Alive {
    match kind {
        0 => Alive::Outage(
            FaultServer::start(Fault::ok())
                .await
                .expect("the fault starts"),
        ),
        1 => Alive::Hyper(hyper_listener().await),
        _ => Alive::Wiremock(wiremock::MockServer::builder().start().await),
    }
}

/// Stops `alive` as its users do: `shutdown`, which waits for its tasks;
/// aborting the bare listener's task and waiting for it; dropping wiremock-rs's.
async fn stop(alive: Alive) {
    match alive {
        Alive::Outage(server) => server.shutdown().await,
        Alive::Hyper(task) => {
            task.abort();
            let _ = task.await;
        }
        Alive::Wiremock(server) => drop(server),
    }
}

/// A bare hyper server: a listener and the task accepting on it.
async fn hyper_listener() -> JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback binds");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let ok = service_fn(|_| async {
                Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"ok\n"))))
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), ok));
        }
    })
}

/// Starts `n` servers of `kind` one after another, then stops them; returns
/// the summed time of the starts and of the stops.
async fn round(kind: usize, n: usize) -> (Duration, Duration) {
    let (mut started, mut stopped) = (Duration::ZERO, Duration::ZERO);
    let mut alive = Vec::with_capacity(n);
    for _ in 0..n {
        let began = Instant::now();
        alive.push(start(kind).await);
        started += began.elapsed();
        // As in the start benchmark: wiremock-rs's drop blocks on a lock
        // that needs this task's tokio budget; yielding, outside the timed
        // part, refills it for all kinds alike.
        tokio::task::yield_now().await;
    }
    for server in alive {
        let began = Instant::now();
        stop(server).await;
        stopped += began.elapsed();
        tokio::task::yield_now().await;
    }
    (started, stopped)
}

/// Median start and stop times of all `n`, in ms, per kind, over rounds
/// that alternate between the kinds.
fn time_starts(curves: &mut [Curve; 3], n: usize) {
    let runtime = common::load::runtime();
    let mut times: [(Vec<f64>, Vec<f64>); 3] = Default::default();
    for _ in 0..(SERVERS / n).max(MIN_ROUNDS) {
        for (kind, (starts, stops)) in times.iter_mut().enumerate() {
            let (started, stopped) = runtime.block_on(round(kind, n));
            starts.push(ms(started));
            stops.push(ms(stopped));
        }
    }
    for (curve, (mut starts, mut stops)) in curves.iter_mut().zip(times) {
        curve.start.push(median_f64(&mut starts));
        curve.stop.push(median_f64(&mut stops));
    }
}

/// Memory and requests per second of child processes serving every fleet,
/// all alive together, in rounds that rotate over all of them, so that
/// load from elsewhere on the machine falls on every size alike; returns
/// each round's rates, by size and kind.
fn load_fleets(curves: &mut [Curve; 3]) -> Vec<Vec<f64>> {
    let mut served: Vec<Served> = FLEETS.into_iter().flatten().map(Served::start).collect();
    for (i, served) in served.iter_mut().enumerate() {
        let (rss, anon) = served.unserved_mib();
        curves[i % KINDS.len()].rss.push(served.rss_mib() - rss);
        curves[i % KINDS.len()]
            .anon
            .push(served.rss_anon_mib() - anon);
        common::wrk::spread(&served.addrs, served.kind, CONNECTIONS, 1);
    }
    let mut rates = vec![Vec::new(); served.len()];
    let mut answered = vec![0; served.len()];
    for round in 0..ROUNDS {
        for i in 0..served.len() {
            let which = (round + i) % served.len();
            let s = &served[which];
            let run = common::wrk::spread(&s.addrs, s.kind, CONNECTIONS, SECONDS);
            assert_eq!(run.errors, 0, "wrk saw socket errors from {}", s.kind);
            rates[which].push(run.rate);
            answered[which] += run.requests;
        }
    }
    for (served, answered) in served.iter_mut().zip(answered) {
        let seen = served.count();
        assert!(
            seen >= answered,
            "{} saw {seen} of {answered} requests",
            served.kind
        );
    }
    for (i, rate) in rates.iter().enumerate() {
        curves[i % KINDS.len()]
            .rate
            .push(median_f64(&mut rate.clone()));
    }
    rates
}

/// The median over rounds of each kind's rate with 1,000 servers alive over
/// its rate with 100: the same 32 servers loaded, 900 more idle.
fn idle_cost(rates: &[Vec<f64>]) -> String {
    let (hundred, thousand) = (rates.len() - 2 * KINDS.len(), rates.len() - KINDS.len());
    let ratios = KINDS.iter().enumerate().map(|(kind, name)| {
        let per_round = rates[thousand + kind].iter().zip(&rates[hundred + kind]);
        let mut ratios: Vec<f64> = per_round.map(|(a, b)| a / b).collect();
        format!("{name} {:.2}", median_f64(&mut ratios))
    });
    ratios.collect::<Vec<_>>().join(", ")
}

/// Prints one figure of each kind at each size, with `decimals`; with
/// `per_server`, the unit and scale of what each server beyond the first
/// adds, `(at 1,000 - at 1) / 999`.
fn rows(
    what: &str,
    unit: &str,
    decimals: usize,
    of: fn(&Curve) -> Vec<f64>,
    curves: &[Curve; 3],
    per_server: Option<(&str, f64)>,
) {
    for (kind, curve) in KINDS.iter().zip(curves) {
        let at = of(curve);
        let label = if kind == &KINDS[0] { what } else { "" };
        let cells: String = at.iter().map(|v| format!("{v:>10.decimals$}")).collect();
        let added = per_server.map_or(String::new(), |(per_unit, scale)| {
            let first_to_last = (SIZES[SIZES.len() - 1] - SIZES[0]) as f64;
            let each = (at[at.len() - 1] - at[0]) / first_to_last * scale;
            format!("{each:>10.1} {per_unit}")
        });
        println!("  {label:<18} {kind:<9}{cells} {unit:<6}{added}");
    }
}

/// `of` divided by N, in µs: the time of each server from the time of all, in ms.
fn each_us(of: &[f64]) -> Vec<f64> {
    of.iter()
        .zip(SIZES)
        .map(|(v, n)| v * 1e3 / n as f64)
        .collect()
}

fn main() {
    common::serve_if_asked();
    common::raise_open_files();
    let mut curves: [Curve; 3] = Default::default();
    for n in SIZES {
        time_starts(&mut curves, n);
    }
    let rates = load_fleets(&mut curves);
    println!(
        "Scale, N `ok` servers alive in one process (outage FaultServer::start + shutdown; bare hyper listener: bind, spawn, abort; wiremock-rs builder().start() + drop); requests/s: wrk -t{CONNECTIONS} -c{CONNECTIONS}, thread i on server i mod N, median of {ROUNDS} alternating rounds of {SECONDS}s:"
    );
    let header: String = SIZES
        .iter()
        .map(|n| format!("{:>10}", format!("N={n}")))
        .collect();
    println!("  {:<28}{header}        per server beyond the first", "");
    rows(
        "start, all N",
        "ms",
        2,
        |c| c.start.clone(),
        &curves,
        Some(("µs", 1e3)),
    );
    rows("start, each", "µs", 1, |c| each_us(&c.start), &curves, None);
    rows(
        "stop, all N",
        "ms",
        2,
        |c| c.stop.clone(),
        &curves,
        Some(("µs", 1e3)),
    );
    rows("stop, each", "µs", 1, |c| each_us(&c.stop), &curves, None);
    let mib = Some(("KiB", 1024.0));
    rows(
        "RSS over unserved",
        "MiB",
        2,
        |c| c.rss.clone(),
        &curves,
        mib,
    );
    rows(
        "  of it anonymous",
        "MiB",
        2,
        |c| c.anon.clone(),
        &curves,
        mib,
    );
    rows(
        "requests/s",
        "req/s",
        0,
        |c| c.rate.clone(),
        &curves,
        Some(("req/s", 1.0)),
    );
    println!(
        "  requests/s at N=1000 / at N=100 (the same {CONNECTIONS} servers loaded), median of per-round ratios: {}",
        idle_cost(&rates)
    );
}
