//! DNS faults: the in-process resolver with real reqwest.

use std::sync::Arc;
use std::time::Duration;

use outage::dns::{DnsFault, Names};
use outage::{ErrorClass, Fault, classify};
use tokio::time::Instant;

use crate::support::start;

/// A client whose only timeouts are the ones given; DNS answered by `names`.
fn client(
    names: Names,
    timeouts: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> reqwest::Client {
    timeouts(
        reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(Arc::new(names)),
    )
    .build()
    .expect("a client with plain settings builds")
}

/// GETs `name` on the server's port; the error and how long it took.
async fn get(
    client: &reqwest::Client,
    name: &str,
    port: u16,
) -> (Result<u16, reqwest::Error>, Duration) {
    let began = Instant::now();
    let sent = tokio::time::timeout(
        Duration::from_secs(10),
        client.get(format!("http://{name}:{port}/")).send(),
    )
    .await
    .expect("every lookup in these tests ends within 10s");
    (sent.map(|r| r.status().as_u16()), began.elapsed())
}

#[tokio::test]
async fn a_name_resolves_to_the_fault_server_in_process() {
    let server = start(Fault::status(503)).await;
    let names = Names::new(server.addr().ip()).with("api.outage.test", DnsFault::Server);
    let (status, _) = get(
        &client(names, |b| b),
        "api.outage.test",
        server.addr().port(),
    )
    .await;
    assert_eq!(status.expect("resolves and connects"), 503);
}

#[tokio::test]
async fn nxdomain_servfail_and_unknown_names_are_dns_errors_in_reqwest() {
    let server = start(Fault::ok()).await;
    let names = Names::new(server.addr().ip())
        .with("gone.outage.invalid", DnsFault::Nxdomain)
        .with("broken.outage.test", DnsFault::Servfail);
    let client = client(names, |b| b.timeout(Duration::from_secs(2)));
    for (name, answer) in [
        ("gone.outage.invalid", "NXDOMAIN"),
        ("broken.outage.test", "SERVFAIL"),
        ("never-listed.outage.test", "NXDOMAIN"),
    ] {
        let error = get(&client, name, server.addr().port())
            .await
            .0
            .unwrap_err();
        assert_eq!(classify(&error), ErrorClass::Dns, "{name}: {error:?}");
        assert!(error.is_connect(), "{name}: {error:?}");
        let chain = format!("{:?}", error);
        assert!(chain.contains(answer), "{name}: {chain}");
    }
    assert_eq!(server.journal().count(), 0, "no lookup reached the server");
}

/// Which of reqwest's timeouts end a lookup that is never answered, and the
/// class of each: all three do. `read_timeout` runs from the moment the
/// request is sent, so it ends a lookup too.
#[tokio::test]
async fn every_reqwest_timeout_ends_a_lookup_that_is_never_answered() {
    let server = start(Fault::ok()).await;
    let port = server.addr().port();
    let names = || Names::new(server.addr().ip()).with("silent.outage.test", DnsFault::NoAnswer);
    let short = Duration::from_millis(300);
    type Setting = fn(reqwest::ClientBuilder, Duration) -> reqwest::ClientBuilder;
    let settings: [(&str, Setting, ErrorClass); 3] = [
        (
            "connect_timeout",
            |b, t| b.connect_timeout(t),
            ErrorClass::ConnectTimeout,
        ),
        ("timeout", |b, t| b.timeout(t), ErrorClass::Timeout),
        (
            "read_timeout",
            |b, t| b.read_timeout(t),
            ErrorClass::Timeout,
        ),
    ];
    for (setting, set, class) in settings {
        let (error, took) = get(
            &client(names(), |b| set(b, short)),
            "silent.outage.test",
            port,
        )
        .await;
        let error = error.unwrap_err();
        assert_eq!(classify(&error), class, "{setting}: {error:?}");
        assert!(error.is_timeout(), "{setting}: {error:?}");
        assert!(
            took >= short && took < Duration::from_secs(3),
            "{setting}: {took:?}"
        );
    }
}

#[tokio::test]
async fn a_slow_answer_within_the_connect_timeout_succeeds_and_one_past_it_is_a_connect_timeout() {
    let server = start(Fault::status(503)).await;
    let port = server.addr().port();
    let names = Names::new(server.addr().ip()).with(
        "slow.outage.test",
        DnsFault::Slow {
            delay: Duration::from_millis(400),
        },
    );

    let (status, took) = get(
        &client(names.clone(), |b| b.connect_timeout(Duration::from_secs(2))),
        "slow.outage.test",
        port,
    )
    .await;
    assert_eq!(status.expect("the answer comes in time"), 503);
    assert!(took >= Duration::from_millis(400), "{took:?}");

    let (error, _) = get(
        &client(names, |b| b.connect_timeout(Duration::from_millis(100))),
        "slow.outage.test",
        port,
    )
    .await;
    let error = error.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::ConnectTimeout, "{error:?}");
}
