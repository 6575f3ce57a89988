//! How faithfully a delay is kept: the time to the first byte of the
//! response minus the intended 100 ms, for `slow-headers 100ms`, against
//! wiremock-rs `set_delay(100ms)` and a bare hyper server that sleeps 100 ms.
//!
//! 32 keep-alive connections each send requests one after the other from this
//! process (one thread); each server runs in a process of its own. Rounds
//! alternate between the servers; each figure is the median over rounds of
//! that round's quantile, so that one burst of load elsewhere moves one round. Run with `make bench`.

mod common;

use std::time::Duration;

use common::serve::DELAY;
use common::{Served, compare, median_f64, ms, quantile, verdict};

const ROUNDS: usize = 5;
const CONNECTIONS: usize = 32;
const EACH: usize = 10;

fn main() {
    common::serve_if_asked();
    let servers = [
        Served::start("outage-slow-headers"),
        Served::start("wiremock-delay"),
        Served::start("hyper-delay"),
    ];
    let runtime = common::load::runtime();
    // Per server, the p50 and p99 error of each round.
    let mut rounds: [Vec<(f64, f64)>; 3] = Default::default();
    for round in 0..ROUNDS {
        for i in 0..servers.len() {
            let which = (round + i) % servers.len();
            let served = &servers[which];
            let times = runtime.block_on(common::load::first_bytes(served.addr, CONNECTIONS, EACH));
            let mut errors: Vec<Duration> = times
                .into_iter()
                .map(|time| {
                    assert!(time >= DELAY, "{} answered early: {time:?}", served.kind);
                    time - DELAY
                })
                .collect();
            rounds[which].push((
                ms(quantile(&mut errors, 0.5)),
                ms(quantile(&mut errors, 0.99)),
            ));
        }
    }
    let [outage, wiremock, hyper] = rounds.map(|r| {
        let (mut p50, mut p99): (Vec<f64>, Vec<f64>) = r.into_iter().unzip();
        (median_f64(&mut p50), median_f64(&mut p99))
    });
    println!(
        "Delay error (time to first byte - 100 ms), {CONNECTIONS} connections x {EACH} requests, median of {ROUNDS} alternating rounds:"
    );
    compare("error p50", outage.0, "wiremock", wiremock.0, "ms");
    compare("error p50", outage.0, "hyper", hyper.0, "ms");
    compare("error p99", outage.1, "wiremock", wiremock.1, "ms");
    compare("error p99", outage.1, "hyper", hyper.1, "ms");
    verdict(
        "p99 error under 2 ms",
        outage.1 < 2.0,
        "the runtime's timer: tokio fires timers on 1 ms ticks, rounding each deadline up, so bare hyper sleeping 100 ms is about as late; 32 timers firing together then share two cores with the client",
    );
}
