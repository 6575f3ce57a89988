//! Retry timing checked in virtual time: the server and the client share one
//! runtime whose clock is paused, so every sleep and timeout completes as
//! soon as nothing else can run, and the journal's timestamps are exact.

use std::time::Duration;

use outage::schedule::{self, Retries};
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

/// reqwest with reqwest-retry's exponential backoff: 1s, 2s, 4s … up to
/// `retries` retries, randomised as `jitter` says.
fn middleware_client(jitter: Jitter, retries: u32) -> reqwest_middleware::ClientWithMiddleware {
    let policy = ExponentialBackoff::builder()
        .retry_bounds(secs(1), secs(60))
        .base(2)
        .jitter(jitter)
        .build_with_max_retries(retries);
    let inner = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    ClientBuilder::new(inner)
        .with(RetryTransientMiddleware::new_with_policy(policy))
        .build()
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
    let client = middleware_client(Jitter::None, 3);
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

/// A client that retries while `wait(retry, &outcome)` gives a wait, and
/// treats 4xx and 5xx as failures. Returns how it ended.
async fn retrying(url: &str, wait: impl Fn(u32, Option<u16>) -> Option<Duration>) -> Option<u16> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut retry = 0;
    loop {
        let status = client
            .get(url)
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16());
        if status.is_some_and(|s| s < 400) {
            return status;
        }
        match wait(retry, status) {
            Some(delay) => tokio::time::sleep(delay).await,
            None => return status,
        }
        retry += 1;
    }
}

fn doubling(retry: u32) -> Duration {
    secs(1) * 2u32.pow(retry)
}

/// The schedule a correct client keeps against three failures.
fn one_two_four() -> Retries {
    Retries::new()
        .attempts(4)
        .exponential(secs(1), 2.0)
        .tolerance(Duration::ZERO)
}

#[tokio::test(start_paused = true)]
async fn a_correct_client_meets_the_schedule() {
    let server = FaultServer::start(fail_three_times()).await.unwrap();
    assert_eq!(
        retrying(&server.url(), |n, _| (n < 3).then(|| doubling(n))).await,
        Some(200)
    );
    settled(&server, 4).await;
    server.journal().check_retries(&one_two_four()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn full_jitter_from_the_retry_middleware_stays_within_its_bounds() {
    let server = FaultServer::start(fail_three_times()).await.unwrap();
    let client = middleware_client(Jitter::Full, 3);
    assert_eq!(client.get(server.url()).send().await.unwrap().status(), 200);
    drop(client);
    settled(&server, 4).await;
    let jittered = one_two_four().jitter(schedule::Jitter::Full);
    server
        .journal()
        .check_retries(&jittered)
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Runs a broken client against `fault` and returns the message its schedule check gives.
async fn broken(
    fault: Fault,
    expected: Retries,
    wait: impl Fn(u32, Option<u16>) -> Option<Duration>,
) -> String {
    let server = FaultServer::start(fault).await.unwrap();
    retrying(&server.url(), wait).await;
    server.journal().settled(0, secs(5)).await.unwrap();
    match server.journal().check_retries(&expected) {
        Ok(()) => panic!("the broken client met {expected:?}"),
        Err(mismatch) => mismatch.to_string(),
    }
}

#[tokio::test(start_paused = true)]
async fn a_client_that_does_not_wait_is_caught() {
    let message = broken(fail_three_times(), one_two_four(), |n, _| {
        (n < 3).then_some(Duration::ZERO)
    })
    .await;
    assert_eq!(
        message,
        "the retries did not go as expected\n  gaps:\n    expected 1.000s        2.000s        4.000s  (each ±0.000s)\n    got      0.000s        0.000s        0.000s\n"
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_that_retries_a_4xx_is_caught() {
    let message = broken(Fault::status(400), Retries::new().attempts(1), |n, _| {
        (n < 3).then(|| doubling(n))
    })
    .await;
    assert_eq!(
        message,
        "the retries did not go as expected\n  attempts:\n    expected 1\n    got      4\n"
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_that_ignores_retry_after_is_caught() {
    let busy = fault(
        "{ kind = 'sequence', steps = [{ kind = 'status', code = 503, headers = { Retry-After = '5' } }, 'ok'] }",
    );
    let honours = Retries::new()
        .attempts(2)
        .gaps([secs(5)])
        .tolerance(Duration::ZERO);
    let message = broken(busy, honours, |n, _| (n < 3).then(|| doubling(n))).await;
    assert!(
        message.contains("expected 5.000s") && message.contains("got      1.000s"),
        "{message}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_that_retries_forever_is_caught() {
    let bounded = Retries::new().attempts_between(1, 5).within(secs(60));
    let message = broken(Fault::reset(), bounded, |n, _| (n < 99).then_some(secs(1))).await;
    assert!(
        message.contains("attempts:\n    expected 1 to 5\n    got      100"),
        "{message}"
    );
    assert!(
        message.contains("total time:\n    expected at most 60.000s\n    got      99.000s"),
        "{message}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_that_gives_up_too_early_is_caught() {
    let message = broken(fail_three_times(), one_two_four(), |n, _| {
        (n < 2).then(|| doubling(n))
    })
    .await;
    assert!(
        message.contains("attempts:\n    expected 4\n    got      3"),
        "{message}"
    );
}

/// reqwest-retry's default strategy retries a POST after a reset although its
/// body was sent: the server may already have acted on it.
#[tokio::test(start_paused = true)]
async fn a_retried_post_after_its_body_was_sent_is_caught() {
    let server = FaultServer::start(Fault::reset()).await.unwrap();
    let client = middleware_client(Jitter::None, 2);
    let _ = client
        .post(server.url())
        .body("charge the card once")
        .send()
        .await;
    drop(client);
    settled(&server, 3).await;
    let message = server
        .journal()
        .check_retries(&Retries::new().non_idempotent_once())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("non-idempotent retries:\n    expected each POST or PATCH sent once\n    got      POST sent 3 times"),
        "{message}"
    );
}

#[tokio::test(start_paused = true)]
#[should_panic(
    expected = "the retries did not go as expected\n  attempts:\n    expected 1\n    got      4\n"
)]
async fn assert_retries_panics_with_the_table() {
    let server = FaultServer::start(Fault::status(400)).await.unwrap();
    retrying(&server.url(), |n, _| (n < 3).then(|| doubling(n))).await;
    server.journal().settled(4, secs(5)).await.unwrap();
    server.journal().assert_retries(&Retries::new().attempts(1));
}

#[tokio::test(start_paused = true)]
async fn a_mismatch_through_question_mark_or_unwrap_prints_the_table() {
    let server = FaultServer::start(Fault::status(400)).await.unwrap();
    retrying(&server.url(), |n, _| (n < 3).then(|| doubling(n))).await;
    server.journal().settled(4, secs(5)).await.unwrap();
    let mismatch = server
        .journal()
        .check_retries(&Retries::new().attempts(1))
        .unwrap_err();
    assert_eq!(format!("{mismatch:?}"), mismatch.to_string());
    let boxed: Box<dyn std::error::Error> = Box::new(mismatch);
    assert!(format!("{boxed:?}").starts_with("the retries did not go as expected\n  attempts:"));
    let unsettled = server.journal().settled(5, secs(1)).await.unwrap_err();
    assert_eq!(format!("{unsettled:?}"), unsettled.to_string());
}
