//! Requests per second of the healthy `ok` fault against a bare hyper server
//! and a wiremock-rs server answering every request with `200 ok`.
//!
//! Each server runs in its own process; the load comes from `wrk` (one
//! thread, 32 keep-alive connections), another process. The machine's cores
//! are shared by the load generator and the server. Rounds alternate between
//! the servers, rotating the order, and the median of the rounds is kept.
//! Run with `make bench`, which installs `wrk` if it is missing.

mod common;

use std::process::Command;

use common::{Served, compare, median_f64, verdict};

const ROUNDS: usize = 5;
const SECONDS: u32 = 3;
const CONNECTIONS: u32 = 32;

/// Requests per second `wrk` reached against `served`.
fn wrk(served: &Served, seconds: u32) -> f64 {
    let output = Command::new("wrk")
        .args(["-t1", &format!("-c{CONNECTIONS}"), &format!("-d{seconds}s")])
        .arg(format!("http://{}/", served.addr))
        .output()
        .expect("wrk runs (apt-get install wrk)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("Non-2xx") && !text.contains("Socket errors"),
        "wrk saw errors from {}:\n{text}",
        served.kind
    );
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output:\n{text}"))
}

fn main() {
    common::serve_if_asked();
    let mut servers = [
        Served::start("outage-ok"),
        Served::start("hyper-ok"),
        Served::start("wiremock-ok"),
    ];
    for served in &servers {
        wrk(served, 1);
    }
    let mut rates = [vec![], vec![], vec![]];
    for round in 0..ROUNDS {
        for i in 0..servers.len() {
            let which = (round + i) % servers.len();
            rates[which].push(wrk(&servers[which], SECONDS));
        }
    }
    for served in &mut servers {
        assert!(served.count() > 0, "{} saw no request", served.kind);
    }
    // Servers measured in the same round saw the same load from elsewhere.
    let per_round = |peer: &[f64]| {
        let mut ratios: Vec<f64> = rates[0].iter().zip(peer).map(|(o, p)| o / p).collect();
        median_f64(&mut ratios)
    };
    let (to_hyper, to_wiremock) = (per_round(&rates[1]), per_round(&rates[2]));
    let [outage, hyper, wiremock] = rates.map(|mut r| median_f64(&mut r));
    println!(
        "Throughput of `ok`, wrk -t1 -c{CONNECTIONS}, median of {ROUNDS} alternating rounds of {SECONDS}s:"
    );
    compare("requests/s", outage, "hyper", hyper, "req/s");
    compare("requests/s", outage, "wiremock", wiremock, "req/s");
    println!(
        "  median of per-round ratios: outage / hyper {to_hyper:.2}, outage / wiremock {to_wiremock:.2}; wiremock / hyper {:.2}",
        wiremock / hyper
    );
    verdict(
        "at least 90% of bare hyper, per round",
        to_hyper >= 0.9,
        "per-request work bare hyper does not do: a journal entry for every request (its head copied in, three locked updates) and the choice of fault per request; the journal no longer wakes a channel nobody waits on nor clones attempts nobody observes, which took the ratio from about 0.72 to about 0.8",
    );
}
