//! How cheap a server is to start and stop: `FaultServer::start` and
//! `shutdown` against wiremock-rs's `MockServer::builder().start()` and drop,
//! 10,000 servers each, with the cost of binding a socket alone as the floor.
//!
//! `MockServer::builder().start()` bypasses wiremock-rs's pool, so each server
//! is new: a listener, a thread, a runtime and a readiness probe. Its drop
//! signals the thread and returns without waiting for it; `shutdown` waits
//! until every task of the server has ended. Blocks of rounds alternate
//! between the three so that drift affects them alike. Run with `make bench`.

mod common;

use std::time::{Duration, Instant};

use common::{compare, quantile, us, verdict};
use outage::{Fault, FaultServer};

const ROUNDS: usize = 10_000;
const BLOCK: usize = 500;

/// Start and stop times of each round.
#[derive(Default)]
struct Times {
    start: Vec<Duration>,
    stop: Vec<Duration>,
    total: Vec<Duration>,
}

impl Times {
    fn push(&mut self, start: Duration, stop: Duration) {
        self.start.push(start);
        self.stop.push(stop);
        self.total.push(start + stop);
    }
}

/// Chooses one series of [`Times`].
type Pick = fn(&mut Times) -> &mut Vec<Duration>;

async fn outage_round(times: &mut Times) {
    let began = Instant::now();
    let server = FaultServer::start(Fault::ok())
        .await
        .expect("the fault starts");
    let started = began.elapsed();
    let began = Instant::now();
    server.shutdown().await;
    times.push(started, began.elapsed());
}

async fn wiremock_round(times: &mut Times) {
    let began = Instant::now();
    let server = wiremock::MockServer::builder().start().await;
    let started = began.elapsed();
    let began = Instant::now();
    drop(server);
    times.push(started, began.elapsed());
}

async fn bind_round(times: &mut Times) {
    let began = Instant::now();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback binds");
    let started = began.elapsed();
    let began = Instant::now();
    drop(listener);
    times.push(started, began.elapsed());
}

fn main() {
    let runtime = common::load::runtime();
    let (mut outage, mut wiremock, mut bind) =
        (Times::default(), Times::default(), Times::default());
    runtime.block_on(async {
        for _ in 0..ROUNDS / BLOCK {
            for _ in 0..BLOCK {
                outage_round(&mut outage).await;
                // wiremock-rs's drop runs an async check with a blocking
                // executor; if this task's tokio budget is used up, the lock
                // inside it waits for a wake-up that only this (blocked)
                // thread could deliver. Yielding between rounds, outside the
                // timed part, refills the budget for all three alike.
                tokio::task::yield_now().await;
            }
            for _ in 0..BLOCK {
                wiremock_round(&mut wiremock).await;
                tokio::task::yield_now().await;
            }
            for _ in 0..BLOCK {
                bind_round(&mut bind).await;
                tokio::task::yield_now().await;
            }
        }
    });
    println!(
        "Start + stop, {ROUNDS} servers each (outage `ok`: start + shutdown; wiremock-rs: builder().start() + drop):"
    );
    let rows: [(&str, Pick); 3] = [
        ("start + stop", |t| &mut t.total),
        ("start alone", |t| &mut t.start),
        ("stop alone", |t| &mut t.stop),
    ];
    for (name, pick) in rows {
        for (q, label) in [(0.5, "median"), (0.99, "p99")] {
            compare(
                &format!("{name} {label}"),
                us(quantile(pick(&mut outage), q)),
                "wiremock",
                us(quantile(pick(&mut wiremock), q)),
                "µs",
            );
        }
    }
    println!(
        "  bind + close a socket     median {:>7.1} µs   p99 {:>7.1} µs   (the floor)",
        us(quantile(&mut bind.total, 0.5)),
        us(quantile(&mut bind.total, 0.99))
    );
    let median = quantile(&mut outage.total, 0.5);
    verdict(
        "start + stop median under 30 µs",
        median < Duration::from_micros(30),
        "spawning the accept task and waiting for it to end on shutdown",
    );
}
