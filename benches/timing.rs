//! How faithfully a delay is kept: the time to the first byte of the
//! response minus the intended 100 ms, for `slow-headers 100ms`, against
//! wiremock-rs `set_delay(100ms)` and a bare hyper server that sleeps 100 ms;
//! and what each delay costs the server in CPU time, with 32 and with 1,000
//! delays in flight, against bare hyper.
//!
//! Keep-alive connections each send requests one after the other from this
//! process (one thread); each server runs in a process of its own. Rounds
//! alternate between the servers; each figure is the median over rounds of
//! that round's quantile, so that one burst of load elsewhere moves one
//! round. Run with `make bench`.

mod common;

use std::time::Duration;

use common::serve::DELAY;
use common::{Served, compare, median_f64, ms, quantile, verdict};

const ROUNDS: usize = 5;
const CONNECTIONS: usize = 32;
const EACH: usize = 10;

/// Connections of the crowd, each with one delayed request in flight.
const CROWD: usize = 1000;
/// Requests in a row on each connection of the crowd.
const CROWD_EACH: usize = 3;
const CROWD_ROUNDS: usize = 3;

/// One round against one server: its error quantiles, and its CPU time.
struct Round {
    p50: f64,
    p99: f64,
    cpu: f64,
}

/// How a round's connections start.
#[derive(Clone, Copy)]
struct Load {
    connections: usize,
    /// Requests in a row on each connection.
    each: usize,
    /// Over how long the connections' first requests are spread.
    spread: Duration,
}

/// Sends the requests of `load` to `served`, checks that none was answered
/// early, and returns the round's figures.
fn round(runtime: &tokio::runtime::Runtime, served: &Served, load: Load) -> Round {
    let cpu = served.cpu_seconds_fine();
    let times = runtime.block_on(common::load::first_bytes_staggered(
        served.addr,
        load.connections,
        load.each,
        load.spread,
    ));
    let cpu = served.cpu_seconds_fine() - cpu;
    let mut errors: Vec<Duration> = times
        .into_iter()
        .map(|time| {
            assert!(time >= DELAY, "{} answered early: {time:?}", served.kind);
            time - DELAY
        })
        .collect();
    Round {
        p50: ms(quantile(&mut errors, 0.5)),
        p99: ms(quantile(&mut errors, 0.99)),
        cpu,
    }
}

/// Runs `rounds` rounds over `servers`, rotating which goes first;
/// `result[server][round]`.
fn rounds(servers: &[Served], rounds: usize, load: Load) -> Vec<Vec<Round>> {
    let runtime = common::load::runtime();
    let mut result: Vec<Vec<Round>> = servers.iter().map(|_| Vec::new()).collect();
    for r in 0..rounds {
        for i in 0..servers.len() {
            let which = (r + i) % servers.len();
            result[which].push(round(&runtime, &servers[which], load));
        }
    }
    result
}

/// The median over rounds of the p50 and p99 errors, and the CPU time per
/// delay in µs over all rounds.
fn figures(rounds: &[Round], delays_per_round: usize) -> (f64, f64, f64) {
    let mut p50: Vec<f64> = rounds.iter().map(|r| r.p50).collect();
    let mut p99: Vec<f64> = rounds.iter().map(|r| r.p99).collect();
    let cpu: f64 = rounds.iter().map(|r| r.cpu).sum();
    let per_delay = cpu * 1e6 / (rounds.len() * delays_per_round) as f64;
    (median_f64(&mut p50), median_f64(&mut p99), per_delay)
}

fn main() {
    common::serve_if_asked();
    let limit = common::raise_open_files();
    accuracy();
    crowd(limit);
}

/// 32 connections against outage, wiremock-rs and bare hyper: started
/// together, so that 32 answers are due at once, then spread over the
/// delay, so that every delay is in flight with 31 others but due alone.
fn accuracy() {
    let servers = [
        Served::start("outage-slow-headers"),
        Served::start("wiremock-delay"),
        Served::start("hyper-delay"),
    ];
    let together = Load {
        connections: CONNECTIONS,
        each: EACH,
        spread: Duration::ZERO,
    };
    println!(
        "Delay error (time to first byte - 100 ms), {CONNECTIONS} connections x {EACH} requests, median of {ROUNDS} alternating rounds:"
    );
    println!("  started together, 32 answers due at once:");
    compare_three(&servers, together);
    println!("  started over the 100 ms, each answer due alone:");
    let spread = Load {
        spread: DELAY,
        ..together
    };
    let (outage, hyper) = compare_three(&servers, spread);
    println!("  never early: every answer came 100 ms or more after its request");
    verdict(
        "error p50 <= 0.2 ms",
        outage.0 <= 0.2,
        "wake-ups: the kernel's timer and tokio's reactor share two cores with the client",
    );
    verdict(
        "error p99 <= 1 ms",
        outage.1 <= 1.0,
        "wake-ups: the kernel's timer and tokio's reactor share two cores with the client",
    );
    verdict(
        "p99 below bare hyper's in the same run",
        outage.1 < hyper.1,
        "the last margin of each delay waits on the kernel's timer, which this run did not keep better than tokio's ticks",
    );
}

/// Runs `load` against the three servers and prints the figures; returns
/// outage's and bare hyper's.
fn compare_three(servers: &[Served], load: Load) -> ((f64, f64, f64), (f64, f64, f64)) {
    let all = rounds(servers, ROUNDS, load);
    let per_round = load.connections * load.each;
    let [outage, wiremock, hyper] = [0, 1, 2].map(|i| figures(&all[i], per_round));
    compare("error p50", outage.0, "wiremock", wiremock.0, "ms");
    compare("error p50", outage.0, "hyper", hyper.0, "ms");
    compare("error p99", outage.1, "wiremock", wiremock.1, "ms");
    compare("error p99", outage.1, "hyper", hyper.1, "ms");
    compare("CPU per delay", outage.2, "hyper", hyper.2, "µs");
    (outage, hyper)
}

/// 1,000 connections, each with one delayed request in flight, against
/// outage and bare hyper.
fn crowd(limit: u64) {
    let needed = (CROWD + 100) as u64;
    if limit < needed {
        println!(
            "{CROWD} concurrent delays: skipped, the open-file limit is {limit} (raise it above {needed} with `ulimit -Hn`)"
        );
        return;
    }
    let servers = [
        Served::start("outage-slow-headers"),
        Served::start("hyper-delay"),
    ];
    let load = Load {
        connections: CROWD,
        each: CROWD_EACH,
        spread: Duration::ZERO,
    };
    let all = rounds(&servers, CROWD_ROUNDS, load);
    let per_round = CROWD * CROWD_EACH;
    let (outage, hyper) = (figures(&all[0], per_round), figures(&all[1], per_round));
    println!(
        "{CROWD} concurrent delays ({CROWD} connections x {CROWD_EACH} requests), median of {CROWD_ROUNDS} alternating rounds:"
    );
    compare("error p50", outage.0, "hyper", hyper.0, "ms");
    compare("error p99", outage.1, "hyper", hyper.1, "ms");
    compare("CPU per delay", outage.2, "hyper", hyper.2, "µs");
    println!("  never early: every answer came 100 ms or more after its request");
}
