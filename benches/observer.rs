//! What observing a server costs under load: requests per second of `ok`
//! with an `on_attempt` callback that counts attempts, and of `ok` while a
//! task awaits `journal.settled`, against `ok` alone.
//!
//! Each server runs in its own process; the load comes from `wrk` (one
//! thread, 32 keep-alive connections). Rounds alternate between the
//! servers, rotating the order; each figure is the median of the rounds and
//! each ratio the median of the per-round ratios. Run with `make bench`.

mod common;

use std::time::Duration;

use common::{Served, compare, median_f64, verdict};

/// `ok` alone, with a counting `on_attempt`, and with a `settled` waiter.
const KINDS: [&str; 3] = ["outage-ok", "outage-ok-on-attempt", "outage-ok-settling"];
const ROUNDS: usize = 7;
const SECONDS: u32 = 3;
const CONNECTIONS: usize = 32;

/// One wrk run against `served`: its rate and the requests it had answered.
fn load(served: &Served, seconds: u32) -> (f64, u64) {
    let run = common::wrk::run(served.addr, served.kind, CONNECTIONS, seconds);
    assert_eq!(run.errors, 0, "wrk saw socket errors from {}", served.kind);
    (run.rate, run.requests)
}

/// Checks that the callback saw every request wrk had answered, and at most
/// one attempt more per connection of each run: the one a kept-alive
/// connection begins when wrk stops.
fn check_callback(served: &mut Served, answered: u64, runs: usize) -> u64 {
    let seen = served.wait_count(answered, Duration::from_secs(10));
    let most = answered + (CONNECTIONS * runs) as u64;
    assert!(
        (answered..=most).contains(&seen),
        "the callback counted {seen} attempts for {answered} requests answered"
    );
    seen
}

fn main() {
    common::serve_if_asked();
    let mut served = KINDS.map(Served::start);
    let mut answered = [0; 3];
    for (served, answered) in served.iter().zip(&mut answered) {
        *answered += load(served, 1).1;
    }
    let mut rates: [Vec<f64>; 3] = Default::default();
    for round in 0..ROUNDS {
        for i in 0..served.len() {
            let which = (round + i) % served.len();
            let (rate, requests) = load(&served[which], SECONDS);
            rates[which].push(rate);
            answered[which] += requests;
        }
    }
    let seen = check_callback(&mut served[1], answered[1], ROUNDS + 1);
    // Servers measured in the same round saw the same load from elsewhere.
    let per_round = |observed: &[f64]| {
        let mut ratios: Vec<f64> = observed.iter().zip(&rates[0]).map(|(o, a)| o / a).collect();
        median_f64(&mut ratios)
    };
    let (callback, waiter) = (per_round(&rates[1]), per_round(&rates[2]));
    let [alone, with_callback, with_waiter] = rates.map(|mut r| median_f64(&mut r));
    println!(
        "Throughput of `ok` observed, wrk -t1 -c{CONNECTIONS}, median of {ROUNDS} alternating rounds of {SECONDS}s:"
    );
    compare("with on_attempt", with_callback, "alone", alone, "req/s");
    compare("with settled awaited", with_waiter, "alone", alone, "req/s");
    println!(
        "  on_attempt counted {seen} attempts for {} requests answered",
        answered[1]
    );
    println!(
        "  median of per-round ratios: with on_attempt / alone {callback:.3}, with settled awaited / alone {waiter:.3}"
    );
    verdict(
        "on_attempt slows the server by at most 5%",
        callback >= 0.95,
        "each finished attempt is cloned for the callback",
    );
}
