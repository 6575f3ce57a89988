//! Requests per second of the healthy `ok` fault served over HTTP/2
//! (`.http2(true)`, h2c with prior knowledge) against a bare hyper HTTP/2
//! server answering every stream with the same `200 ok`.
//!
//! Each server runs in its own process; the load comes from `h2load` (one
//! thread), another process. The machine's cores are shared by the load
//! generator and the server. Rounds alternate between the servers, rotating
//! the order; the figures are the medians of the rounds, and the target is
//! checked on the median of the per-round ratios. Run with `make bench`,
//! which installs `h2load` (Debian's nghttp2-client) if it is missing.

mod common;

use std::process::Command;

use common::{Served, compare, median_f64, verdict};

const ROUNDS: usize = 5;
const SECONDS: u32 = 3;
/// On two cores, `h2load -t1` holds about one and the server the other, as
/// `wrk -t1` does in the HTTP/1 figure; 32 connections, as there, give both
/// of the server's runtime workers connections to serve. Ten streams in
/// flight on each let one read of a connection carry several requests and
/// one write several responses, which is what HTTP/2 adds to keep-alive;
/// more than that only lengthens the queues (the ratio is about the same
/// from 4 to 64 connections and 4 to 32 streams).
const CONNECTIONS: u32 = 32;
const STREAMS: u32 = 10;

/// What one `h2load` run reached.
struct Run {
    /// Requests per second.
    rate: f64,
    /// Requests completed.
    done: u64,
}

/// Runs `h2load` against `served` for `seconds`; panics on any request
/// that failed or was not answered `2xx`.
fn h2load(served: &Served, seconds: u32) -> Run {
    let output = Command::new("h2load")
        .args([
            "-t1",
            &format!("-c{CONNECTIONS}"),
            &format!("-m{STREAMS}"),
            &format!("-D{seconds}"),
        ])
        .arg(format!("http://{}/", served.addr))
        .output()
        .expect("h2load runs (apt-get install nghttp2-client)");
    let text = String::from_utf8_lossy(&output.stdout);
    let line = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in h2load's output:\n{text}"))
    };
    // `requests: 300 total, 320 started, 300 done, 300 succeeded, 0 failed,
    // 0 errored, 0 timeout`; with -D, the streams still open when time is
    // up are started and not done, which is no error.
    let count = |fields: &str, name: &str| -> u64 {
        fields
            .split(',')
            .find_map(|f| f.trim().strip_suffix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name:?} count in h2load's output:\n{text}"))
    };
    let requests = line("requests:");
    let statuses = line("status codes:");
    let failed = ["failed", "errored", "timeout"].map(|name| count(requests, name));
    let other = ["3xx", "4xx", "5xx"].map(|name| count(statuses, name));
    assert!(
        failed == [0; 3] && other == [0; 3],
        "h2load saw errors from {}:\n{text}",
        served.kind
    );
    // `finished in 3.00s, 123456.78 req/s, 3.63MB/s`
    let rate = line("finished in ")
        .split(", ")
        .nth(1)
        .and_then(|r| r.strip_suffix(" req/s")?.parse().ok())
        .unwrap_or_else(|| panic!("no req/s in h2load's output:\n{text}"));
    Run {
        rate,
        done: count(requests, "succeeded"),
    }
}

fn main() {
    common::serve_if_asked();
    let mut servers = [Served::start("outage-ok-h2"), Served::start("hyper-ok-h2")];
    let mut done = [0; 2];
    for (served, done) in servers.iter().zip(&mut done) {
        *done += h2load(served, 1).done;
    }
    let mut rates = [vec![], vec![]];
    let mut cpu = [0.0; 2];
    let mut measured = [0; 2];
    for round in 0..ROUNDS {
        for i in 0..servers.len() {
            let which = (round + i) % servers.len();
            let before = servers[which].cpu_seconds();
            let run = h2load(&servers[which], SECONDS);
            cpu[which] += servers[which].cpu_seconds() - before;
            rates[which].push(run.rate);
            measured[which] += run.done;
            done[which] += run.done;
        }
    }
    for (served, done) in servers.iter_mut().zip(done) {
        let count = served.count();
        assert!(
            count >= done,
            "{} counted {count} requests of the {done} h2load saw answered",
            served.kind
        );
    }
    println!(
        "Throughput of `ok` over HTTP/2 (h2c), h2load -t1 -c{CONNECTIONS} -m{STREAMS}, median of {ROUNDS} alternating rounds of {SECONDS}s:"
    );
    for (round, (outage, hyper)) in rates[0].iter().zip(&rates[1]).enumerate() {
        println!(
            "  round {}: outage {outage:>10.1} req/s, hyper {hyper:>10.1} req/s, ratio {:.2}",
            round + 1,
            outage / hyper
        );
    }
    // Servers measured in the same round, seconds apart, saw much the same
    // load from elsewhere.
    let mut ratios: Vec<f64> = rates[0].iter().zip(&rates[1]).map(|(o, h)| o / h).collect();
    let to_hyper = median_f64(&mut ratios);
    // The server's CPU time per request moves less with load from elsewhere
    // than its rate does.
    let [outage_cpu, hyper_cpu] = [0, 1].map(|which| cpu[which] / measured[which] as f64 * 1e6);
    let [outage, hyper] = rates.map(|mut r| median_f64(&mut r));
    compare("requests/s", outage, "hyper", hyper, "req/s");
    compare(
        "server CPU per request",
        outage_cpu,
        "hyper",
        hyper_cpu,
        "µs",
    );
    println!("  median of per-round ratios: outage / hyper {to_hyper:.2}");
    verdict(
        "at least 90% of bare hyper, per round",
        to_hyper >= 0.9,
        "per-stream work bare hyper does not do: a journal entry for every stream (the request head copied from h2's headers into the block the journal shares, then locked updates as the stream is begun with its head, answered, sent its frames and ended), a task per stream and the write tap's copy of each frame; and TCP_NODELAY, which bare hyper leaves off and outage sets so that no response waits for a delayed ACK, about 0.09 of the ratio (0.79 without it in the same conditions)",
    );
}
