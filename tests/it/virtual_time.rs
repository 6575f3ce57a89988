//! Retry timing checked in virtual time: the server and the client share one
//! runtime whose clock is paused, so every sleep and timeout completes as
//! soon as nothing else can run, and the journal's timestamps are exact.

use std::time::Duration;

use outage::{Ending, ErrorClass, Fault, FaultServer, classify};
use reqwest_middleware::ClientBuilder;
use reqwest_retry::policies::ExponentialBackoff;
use reqwest_retry::{Jitter, RetryTransientMiddleware};

use crate::support::{fault, settled};

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn fail_three_times() -> Fault {
    Fault::sequence([Fault::reset(), Fault::reset(), Fault::reset(), Fault::ok()])
}

/// A client that retries after 1s, 2s and 4s, written out by hand.
async fn fetch_with_backoff(url: &str) -> reqwest::StatusCode {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut wait = secs(1);
    loop {
        match client.get(url).send().await {
            Ok(response) => return response.status(),
            Err(error) => {
                assert_eq!(classify(&error), ErrorClass::Reset);
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn backoff_of_1_2_4_seconds_is_exact_in_virtual_time_200_times_in_a_row() {
    for round in 0..200 {
        let server = FaultServer::start(fail_three_times()).await.unwrap();
        assert_eq!(fetch_with_backoff(&server.url()).await, 200);
        let attempts = settled(&server, 4).await;
        assert_eq!(
            server.journal().gaps(),
            [secs(1), secs(2), secs(4)],
            "round {round}: {attempts:#?}"
        );
        assert_eq!(attempts[3].started, secs(7), "round {round}");
    }
}

#[tokio::test(start_paused = true)]
async fn retry_middleware_backs_off_exactly_as_configured_in_virtual_time() {
    let server = FaultServer::start(fail_three_times()).await.unwrap();
    let policy = ExponentialBackoff::builder()
        .retry_bounds(secs(1), secs(60))
        .base(2)
        .jitter(Jitter::None)
        .build_with_max_retries(3);
    let inner = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let client = ClientBuilder::new(inner)
        .with(RetryTransientMiddleware::new_with_policy(policy))
        .build();
    let response = client
        .get(server.url())
        .send()
        .await
        .expect("the fourth attempt succeeds");
    assert_eq!(response.status(), 200);
    drop(client);
    settled(&server, 4).await;
    assert_eq!(server.journal().gaps(), [secs(1), secs(2), secs(4)]);
}

#[tokio::test(start_paused = true)]
async fn timeouts_fire_at_their_exact_virtual_time() {
    let server = FaultServer::start(fault("'hang'")).await.unwrap();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(secs(30))
        .build()
        .unwrap();
    let began = tokio::time::Instant::now();
    let error = client.get(server.url()).send().await.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::Timeout);
    assert_eq!(began.elapsed(), secs(30));
    drop(client);
    let attempts = settled(&server, 1).await;
    assert_eq!(attempts[0].ending, Some(Ending::ClientFin));
    assert_eq!(attempts[0].ended, Some(secs(30)));
}

#[tokio::test(start_paused = true)]
async fn timed_faults_run_on_virtual_time() {
    let server = FaultServer::start(fault("{ kind = 'drip', bytes = 5, interval = '10s' }"))
        .await
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let began = tokio::time::Instant::now();
    let body = client
        .get(server.url())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!((body.len(), began.elapsed()), (5, secs(50)));
}

#[tokio::test]
async fn the_same_backoff_holds_in_real_time_within_a_tolerance() {
    let server = FaultServer::start(Fault::sequence([
        Fault::reset(),
        Fault::reset(),
        Fault::ok(),
    ]))
    .await
    .unwrap();
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut wait = Duration::from_millis(50);
    while client.get(server.url()).send().await.is_err() {
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
    drop(client);
    settled(&server, 3).await;
    let gaps = server.journal().gaps();
    // Real sleeps are never shorter than asked, and loopback adds little.
    for (gap, asked) in gaps.iter().zip([50, 100]) {
        let asked = Duration::from_millis(asked);
        assert!(
            *gap >= asked && *gap < asked + Duration::from_millis(500),
            "{gaps:?}"
        );
    }
}
