//! Wall time of a 1s/2s/4s backoff scenario in virtual time against real time.
//!
//! A client retries `sequence [reset, reset, reset, ok]` with waits of 1s, 2s
//! and 4s. In real time that takes seven seconds; on tokio's paused clock it
//! should take milliseconds (target: under 50 ms). Run with `make bench`.

use std::time::{Duration, Instant};

use outage::{Fault, FaultServer};

const ROUNDS: usize = 200;

/// Runs the scenario; in virtual time the gaps must be exact, in real time
/// within 100 ms.
async fn backoff_scenario(exact: bool) {
    let fault = Fault::sequence([Fault::reset(), Fault::reset(), Fault::reset(), Fault::ok()]);
    let server = FaultServer::start(fault).await.expect("the fault starts");
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .expect("plain settings build");
    let mut wait = Duration::from_secs(1);
    while client.get(server.url()).send().await.is_err() {
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
    drop(client);
    server
        .journal()
        .settled(4, Duration::from_secs(30))
        .await
        .expect("four attempts end");
    let gaps = server.journal().gaps();
    let slack = if exact {
        Duration::ZERO
    } else {
        Duration::from_millis(100)
    };
    for (gap, want) in gaps.iter().zip([1, 2, 4].map(Duration::from_secs)) {
        assert!(*gap >= want && *gap <= want + slack, "gaps {gaps:?}");
    }
}

fn runtime(paused: bool) -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all();
    if paused {
        builder.start_paused(true);
    }
    builder.build().expect("a runtime builds")
}

fn main() {
    let mut virtual_times: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let runtime = runtime(true);
            let began = Instant::now();
            runtime.block_on(backoff_scenario(true));
            began.elapsed()
        })
        .collect();
    virtual_times.sort();
    let median = virtual_times[ROUNDS / 2];
    let p99 = virtual_times[ROUNDS * 99 / 100];
    let began = Instant::now();
    runtime(false).block_on(backoff_scenario(false));
    let real = began.elapsed();
    println!(
        "1s/2s/4s backoff against [reset, reset, reset, ok], {ROUNDS} rounds in virtual time:"
    );
    println!(
        "  virtual time  median {:>9.3} ms   p99 {:>9.3} ms   (target: under 50 ms)",
        ms(median),
        ms(p99)
    );
    println!("  real time            {:>9.3} ms", ms(real));
    println!(
        "  real / virtual       {:>9.0}x",
        real.as_secs_f64() / median.as_secs_f64()
    );
    let verdict = if median < Duration::from_millis(50) {
        "met"
    } else {
        "MISSED"
    };
    println!("  target {verdict}");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
