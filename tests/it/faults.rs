//! One case per fault: a real reqwest client with short timeouts against a
//! real `FaultServer`, checking the client's error class and the journal.

use std::time::Duration;

use outage::{Attempt, Ending, ErrorClass, classify};
use rstest::rstest;
use tokio::time::Instant;

use crate::support::{Timeouts, client, fault, fetch, pooled_client, settled, start};

/// What the client must see.
#[derive(Debug)]
enum Outcome {
    /// An error in one of these classes (more than one only where the
    /// platform races, as documented for `reset` on accept).
    Fails(&'static [ErrorClass]),
    /// A response with this status, no sooner than the given time.
    Answers(u16, Duration),
}

use Outcome::{Answers, Fails};

/// What the journal must hold afterwards.
#[derive(Debug, Clone, Copy)]
struct Journaled {
    attempts: u64,
    ending: Option<Ending>,
    request_read: bool,
    sent: Option<u64>,
}

const fn none() -> Journaled {
    Journaled {
        attempts: 0,
        ending: None,
        request_read: false,
        sent: None,
    }
}

/// One attempt that ended with `ending`, after the request head was read.
const fn one(ending: Ending) -> Journaled {
    Journaled {
        attempts: 1,
        ending: Some(ending),
        request_read: true,
        sent: None,
    }
}

impl Journaled {
    const fn unread(mut self) -> Self {
        self.request_read = false;
        self
    }

    const fn sent(mut self, bytes: u64) -> Self {
        self.sent = Some(bytes);
        self
    }
}

const fn read_timeout(ms: u64) -> Timeouts {
    Timeouts {
        connect: Duration::from_millis(500),
        read: Some(Duration::from_millis(ms)),
        total: Duration::from_secs(5),
    }
}

const fn total_timeout(ms: u64) -> Timeouts {
    Timeouts {
        connect: Duration::from_millis(500),
        read: None,
        total: Duration::from_millis(ms),
    }
}

const fn connect_timeout(ms: u64) -> Timeouts {
    Timeouts {
        connect: Duration::from_millis(ms),
        read: None,
        total: Duration::from_secs(5),
    }
}

const PLAIN: Timeouts = total_timeout(5_000);
const NOW: Duration = Duration::ZERO;
const fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

use ErrorClass::*;

#[rstest]
#[case::refuse("'refuse'", PLAIN, Fails(&[Refused]), none())]
#[case::blackhole("'blackhole'", connect_timeout(200), Fails(&[ConnectTimeout]), none())]
#[case::wrong_port("'wrong-port'", PLAIN, Fails(&[Refused]), none())]
#[case::hang("'hang'", read_timeout(200), Fails(&[Timeout]), one(Ending::ClientFin).sent(0))]
#[case::hang_on_accept("'hang-on-accept'", read_timeout(200), Fails(&[Timeout]), one(Ending::ClientFin).unread().sent(0))]
#[case::empty_reply("'empty-reply'", PLAIN, Fails(&[EmptyReply]), one(Ending::ServerFin).sent(0))]
#[case::reset("'reset'", PLAIN, Fails(&[Reset]), one(Ending::ServerRst).sent(0))]
#[case::reset_on_accept("{ kind = 'reset', when = 'on-accept' }", PLAIN, Fails(&[Reset, Refused]), one(Ending::ServerRst).unread().sent(0))]
#[case::reset_after_body_bytes("{ kind = 'reset', when = 'after-body-bytes', body-bytes = 10 }", PLAIN, Fails(&[Reset]), one(Ending::ServerRst).sent(68))]
#[case::truncate("{ kind = 'truncate', length = 100, sent = 10 }", PLAIN, Fails(&[IncompleteBody]), one(Ending::ServerFin).sent(69))]
#[case::cut_chunk("{ kind = 'cut-chunk', chunk = 100, sent = 10 }", PLAIN, Fails(&[IncompleteBody]), one(Ending::ServerFin).sent(80))]
#[case::bad_chunk("'bad-chunk'", PLAIN, Fails(&[MalformedResponse]), one(Ending::ServerFin).sent(82))]
#[case::garbage("{ kind = 'garbage', length = 64 }", PLAIN, Fails(&[MalformedResponse]), one(Ending::ServerFin).sent(64))]
#[case::slow_headers_past_read_timeout("{ kind = 'slow-headers', delay = '1s' }", read_timeout(200), Fails(&[Timeout]), one(Ending::ClientFin).sent(0))]
#[case::slow_headers_within_timeout(
    "{ kind = 'slow-headers', delay = '50ms' }",
    PLAIN,
    Answers(200, ms(50)),
    one(Ending::ClientFin)
)]
#[case::drip_within_timeout(
    "{ kind = 'drip', bytes = 3, interval = '50ms' }",
    read_timeout(1_000),
    Answers(200, ms(150)),
    one(Ending::ClientFin)
)]
#[case::drip_past_total_timeout("{ kind = 'drip', bytes = 10, interval = '100ms' }", total_timeout(300), Fails(&[Timeout]), one(Ending::ClientFin))]
#[case::bandwidth("{ kind = 'bandwidth', rate = 2000, size = 200 }", PLAIN, Answers(200, ms(100)), one(Ending::ServerFin).sent(285))]
#[case::slicer("{ kind = 'slicer', segment = 8, delay = '5ms', size = 64 }", PLAIN, Answers(200, ms(5 * 18)), one(Ending::ServerFin).sent(148))]
#[case::limit_data_in_headers("{ kind = 'limit-data', bytes = 30 }", PLAIN, Fails(&[EmptyReply]), one(Ending::ServerFin).sent(30))]
#[case::limit_data_in_body("{ kind = 'limit-data', bytes = 200 }", PLAIN, Fails(&[IncompleteBody]), one(Ending::ServerFin).sent(200))]
#[case::slow_close_within_timeout(
    "{ kind = 'slow-close', delay = '100ms' }",
    PLAIN,
    Answers(200, ms(100)),
    one(Ending::ServerFin)
)]
#[case::slow_close_past_read_timeout("{ kind = 'slow-close', delay = '2s' }", read_timeout(200), Fails(&[Timeout]), one(Ending::ClientFin))]
#[case::status(
    "{ kind = 'status', code = 503, headers = { Retry-After = '2' } }",
    PLAIN,
    Answers(503, NOW),
    one(Ending::ClientFin)
)]
#[case::ok("'ok'", PLAIN, Answers(200, NOW), one(Ending::ClientFin))]
#[case::sequence_first_step("'sequence'", PLAIN, Fails(&[Reset]), one(Ending::ServerRst).sent(0))]
#[tokio::test]
async fn fault_reaches_reqwest_as_its_error_class_and_is_journaled(
    #[case] spec: &str,
    #[case] timeouts: Timeouts,
    #[case] outcome: Outcome,
    #[case] journaled: Journaled,
) {
    let server = start(fault(spec)).await;
    let began = Instant::now();
    let result = fetch(&client(timeouts), &server.url()).await;
    let took = began.elapsed();
    match (&outcome, &result) {
        (Fails(classes), Err(error)) => {
            assert!(
                classes.contains(&classify(error)),
                "{spec}: expected {classes:?}, got {} from {error:?}",
                classify(error)
            );
        }
        (Answers(status, at_least), Ok((got, _))) => {
            assert_eq!(got.as_u16(), *status, "{spec}");
            assert!(
                took >= *at_least,
                "{spec}: answered after {took:?}, sooner than its {at_least:?} of delays"
            );
        }
        _ => panic!("{spec}: expected {outcome:?}, got {result:?}"),
    }
    let attempts = settled(&server, journaled.attempts).await;
    check_journal(spec, &attempts, journaled);
}

fn check_journal(spec: &str, attempts: &[Attempt], expected: Journaled) {
    assert_eq!(
        attempts.len() as u64,
        expected.attempts,
        "{spec}: attempts {attempts:#?}"
    );
    let Some(attempt) = attempts.first() else {
        return;
    };
    assert_eq!(attempt.ending, expected.ending, "{spec}: {attempt}");
    assert_eq!(
        attempt.request.is_some(),
        expected.request_read,
        "{spec}: {attempt}"
    );
    if expected.request_read {
        assert_eq!(attempt.request_line(), Some("GET / HTTP/1.1"), "{spec}");
        assert!(attempt.bytes_received > 0, "{spec}: {attempt}");
    }
    if let Some(sent) = expected.sent {
        assert_eq!(attempt.bytes_sent, sent, "{spec}: {attempt}");
    }
    assert!(
        !attempt.action.is_empty(),
        "{spec}: the journal must say what the fault did: {attempt}"
    );
    assert!(attempt.ended >= Some(attempt.started), "{spec}: {attempt}");
}

#[tokio::test]
async fn wrong_port_reports_both_ports_and_the_healthy_one_sees_no_attempt() {
    let server = start(fault("'wrong-port'")).await;
    let serving = server
        .serving_addr()
        .expect("wrong-port reports where the service moved to");
    assert_ne!(serving.port(), server.addr().port());
    let client = client(PLAIN);
    let moved = fetch(&client, &server.url()).await.unwrap_err();
    assert_eq!(classify(&moved), Refused);
    assert_eq!(server.journal().count(), 0);
    let (status, _) = fetch(&client, &format!("http://{serving}"))
        .await
        .expect("the moved service is healthy");
    assert_eq!(status, 200);
    assert_eq!(settled(&server, 1).await.len(), 1);
}

#[tokio::test]
async fn sequence_fails_twice_then_succeeds_one_step_per_attempt() {
    let server = start(fault("'sequence'")).await;
    let client = client(PLAIN);
    let first = fetch(&client, &server.url()).await.unwrap_err();
    assert_eq!(classify(&first), Reset);
    assert_eq!(fetch(&client, &server.url()).await.unwrap().0, 503);
    assert_eq!(fetch(&client, &server.url()).await.unwrap().0, 200);
    assert_eq!(
        fetch(&client, &server.url()).await.unwrap().0,
        200,
        "the last step repeats"
    );
    let attempts = settled(&server, 4).await;
    let endings: Vec<_> = attempts.iter().map(|a| a.ending).collect();
    assert_eq!(endings[0], Some(Ending::ServerRst));
    assert_eq!(server.journal().gaps().len(), 3);
}

#[tokio::test]
async fn sequence_switches_faults_between_requests_on_one_kept_alive_connection() {
    let server = start(fault(
        "{ kind = 'sequence', steps = [{ kind = 'status', code = 503 }, 'reset', 'ok'] }",
    ))
    .await;
    let pooled = pooled_client();
    assert_eq!(fetch(&pooled, &server.url()).await.unwrap().0, 503);
    let second = fetch(&pooled, &server.url()).await.unwrap_err();
    assert_eq!(classify(&second), Reset);
    assert_eq!(fetch(&pooled, &server.url()).await.unwrap().0, 200);
    drop(pooled);
    let attempts = settled(&server, 3).await;
    assert_eq!(
        attempts[0].connection, attempts[1].connection,
        "the reset came on the kept-alive connection"
    );
    assert_eq!(attempts[0].ending, Some(Ending::KeptAlive));
    assert_eq!(attempts[1].ending, Some(Ending::ServerRst));
    assert_ne!(attempts[2].connection, attempts[1].connection);
    for attempt in &attempts {
        assert_eq!(attempt.request_line(), Some("GET / HTTP/1.1"));
        assert!(attempt.bytes_received > 0, "{attempt}");
    }
}

#[tokio::test]
async fn kept_alive_requests_are_separate_attempts_with_their_own_bytes() {
    let server = start(fault("'ok'")).await;
    let pooled = pooled_client();
    for _ in 0..3 {
        assert_eq!(fetch(&pooled, &server.url()).await.unwrap().0, 200);
    }
    drop(pooled);
    let attempts = settled(&server, 3).await;
    assert_eq!(server.journal().connections(), 1);
    let received: Vec<u64> = attempts.iter().map(|a| a.bytes_received).collect();
    let sent: Vec<u64> = attempts.iter().map(|a| a.bytes_sent).collect();
    assert!(
        received.iter().all(|&b| b == received[0] && b > 0),
        "each request counted once: {received:?}"
    );
    assert!(
        sent.iter().all(|&b| b == sent[0] && b > 0),
        "each response counted once: {sent:?}"
    );
    assert_eq!(attempts[2].ending, Some(Ending::ClientFin));
}

#[tokio::test]
async fn error_status_becomes_http_status_class_when_the_client_checks_it() {
    let server = start(fault("{ kind = 'status', code = 429 }")).await;
    let response = client(PLAIN).get(server.url()).send().await.unwrap();
    let error = response.error_for_status().unwrap_err();
    assert_eq!(classify(&error), HttpStatus(429));
}

#[tokio::test]
async fn redirect_loop_is_classified_as_too_many_redirects() {
    let server = start(fault(
        "{ kind = 'status', code = 307, headers = { Location = '/' } }",
    ))
    .await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .unwrap();
    let error = client.get(server.url()).send().await.unwrap_err();
    assert_eq!(classify(&error), TooManyRedirects);
    assert_eq!(
        server.journal().count(),
        4,
        "the first request and three redirects"
    );
}

#[tokio::test]
async fn unusable_url_is_classified_as_invalid_url() {
    let error = client(PLAIN).get("http://[::1").send().await.unwrap_err();
    assert_eq!(classify(&error), InvalidUrl);
}

#[tokio::test]
async fn failed_name_lookup_is_classified_as_dns() {
    struct NoSuchHost;
    impl reqwest::dns::Resolve for NoSuchHost {
        fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
            let message = format!("{} does not exist", name.as_str());
            Box::pin(async move {
                Err(std::io::Error::new(std::io::ErrorKind::NotFound, message).into())
            })
        }
    }
    let client = reqwest::Client::builder()
        .no_proxy()
        .dns_resolver(std::sync::Arc::new(NoSuchHost))
        .build()
        .unwrap();
    let error = client
        .get("http://no-such-host.invalid/")
        .send()
        .await
        .unwrap_err();
    assert_eq!(classify(&error), Dns, "{error:?}");
}

#[tokio::test]
async fn chance_with_the_same_seed_replays_the_same_faults() {
    async fn outcomes(seed: u64) -> Vec<bool> {
        let server = start(fault(&format!(
            "{{ kind = 'chance', probability = 0.5, seed = {seed} }}"
        )))
        .await;
        let client = client(PLAIN);
        let mut succeeded = Vec::new();
        for _ in 0..24 {
            succeeded.push(fetch(&client, &server.url()).await.is_ok());
        }
        succeeded
    }
    let first = outcomes(11).await;
    assert_eq!(
        first,
        outcomes(11).await,
        "the same seed strikes the same attempts"
    );
    assert_ne!(first, outcomes(12).await, "another seed strikes others");
    assert!(first.contains(&true) && first.contains(&false), "{first:?}");
}
