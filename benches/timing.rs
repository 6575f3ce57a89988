//! How faithfully a delay is kept: the time to the first byte of the
//! response minus the intended 100 ms, for `slow-headers 100ms`, against
//! wiremock-rs `set_delay(100ms)` and a bare hyper server that sleeps 100 ms.
//!
//! 32 keep-alive connections each send requests one after the other from this
//! process (one thread); each server runs in a process of its own. Rounds
//! alternate between the servers. Run with `make bench`.

mod common;

use std::time::Duration;

use common::serve::DELAY;
use common::{Served, compare, ms, quantile, verdict};

const ROUNDS: usize = 3;
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
    let mut errors: [Vec<Duration>; 3] = Default::default();
    for round in 0..ROUNDS {
        for i in 0..servers.len() {
            let which = (round + i) % servers.len();
            let times = runtime.block_on(common::load::first_bytes(
                servers[which].addr,
                CONNECTIONS,
                EACH,
            ));
            for time in times {
                assert!(
                    time >= DELAY,
                    "{} answered early: {time:?}",
                    servers[which].kind
                );
                errors[which].push(time - DELAY);
            }
        }
    }
    let [mut outage, mut wiremock, mut hyper] = errors;
    println!(
        "Delay error (time to first byte - 100 ms), {CONNECTIONS} connections, {} requests each:",
        outage.len()
    );
    for (q, label) in [(0.5, "p50"), (0.99, "p99")] {
        let ours = ms(quantile(&mut outage, q));
        compare(
            &format!("error {label}"),
            ours,
            "wiremock",
            ms(quantile(&mut wiremock, q)),
            "ms",
        );
        compare(
            &format!("error {label}"),
            ours,
            "hyper",
            ms(quantile(&mut hyper, q)),
            "ms",
        );
    }
    verdict(
        "p99 error under 2 ms",
        quantile(&mut outage, 0.99) < Duration::from_millis(2),
        "the runtime's timer: tokio fires timers on 1 ms ticks, rounding each deadline up, so bare hyper sleeping 100 ms is as late; 32 timers firing together then share two cores with the client",
    );
}
