//! The ecosystem's retry middleware (reqwest-middleware with reqwest-retry)
//! on a reqwest client, checked against outage in virtual time: three resets,
//! then success, with backoff of 1s, 2s and 4s verified from the server side.
//!
//! Run with `cargo run --example retrying_client`. It finishes at once: the
//! seven seconds of backoff pass on tokio's paused clock.

use std::time::Duration;

use outage::schedule::Retries;
use outage::{Fault, FaultServer};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use reqwest_retry::policies::ExponentialBackoff;
use reqwest_retry::{Jitter, RetryTransientMiddleware};

/// A client that retries transient failures up to three times, waiting 1s,
/// then 2s, then 4s.
fn retrying_client() -> ClientWithMiddleware {
    let policy = ExponentialBackoff::builder()
        .retry_bounds(Duration::from_secs(1), Duration::from_secs(60))
        .base(2)
        .jitter(Jitter::None)
        .build_with_max_retries(3);
    // No idle connections kept: each attempt's connection closes after its
    // answer, so the journal sees every attempt end.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("plain settings build");
    ClientBuilder::new(client)
        .with(RetryTransientMiddleware::new_with_policy(policy))
        .build()
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let wall = std::time::Instant::now();
    let server = FaultServer::start(Fault::sequence([
        Fault::reset(),
        Fault::reset(),
        Fault::reset(),
        Fault::ok(),
    ]))
    .await?;
    let response = retrying_client().get(server.url()).send().await?;
    println!(
        "status {} after {} attempts:",
        response.status(),
        server.journal().count()
    );
    for attempt in server.journal().settled(4, Duration::from_secs(5)).await? {
        println!("  {attempt}");
    }
    let expected = Retries::new()
        .attempts(4)
        .exponential(Duration::from_secs(1), 2.0)
        .tolerance(Duration::ZERO);
    server.journal().check_retries(&expected)?;
    println!(
        "backoff 1s, 2s, 4s verified exactly; wall time {:?}",
        wall.elapsed()
    );
    Ok(())
}
