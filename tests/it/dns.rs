//! DNS faults: the in-process resolver with real reqwest, and the responder
//! answering real queries.

use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use outage::dns::{DnsFault, DnsResponder, Names, ResponderError};
use outage::{ErrorClass, Fault, classify};
use tokio::net::UdpSocket;
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

/// Starts a responder, or says on the terminal why this machine cannot.
async fn responder(names: Names) -> Option<DnsResponder> {
    match DnsResponder::start(names).await {
        Ok(responder) => Some(responder),
        Err(e @ ResponderError::Denied(_)) => {
            crate::support::skip(&format!("responder tests: {e}"));
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// Sends one query for `name` to the responder; its answer, or `None` when
/// none comes within `wait`.
async fn ask(
    responder: &DnsResponder,
    name: &str,
    record_type: RecordType,
    wait: Duration,
) -> Option<Message> {
    let mut query = Message::new();
    query
        .set_id(7)
        .set_recursion_desired(true)
        .add_query(Query::query(
            Name::from_ascii(name).expect("a valid name"),
            record_type,
        ));
    let socket = UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("a loopback socket");
    let bytes = query.to_vec().expect("a query encodes");
    socket
        .send_to(&bytes, (responder.ip(), 53))
        .await
        .expect("sent on loopback");
    let mut buffer = [0; 512];
    let len = tokio::time::timeout(wait, socket.recv(&mut buffer))
        .await
        .ok()?
        .expect("received");
    Some(Message::from_vec(&buffer[..len]).expect("the answer decodes"))
}

#[tokio::test]
async fn the_responder_answers_each_fault_and_journals_every_query() {
    let names = Names::new([127, 0, 0, 1].into())
        .with("api.outage.test", DnsFault::Server)
        .with("broken.outage.test", DnsFault::Servfail)
        .with("silent.outage.test", DnsFault::NoAnswer)
        .with(
            "slow.outage.test",
            DnsFault::Slow {
                delay: Duration::from_millis(300),
            },
        );
    let Some(responder) = responder(names).await else {
        return;
    };
    let wait = Duration::from_secs(2);

    let answer = ask(&responder, "api.outage.test", RecordType::A, wait)
        .await
        .expect("an answer");
    assert_eq!(answer.response_code(), ResponseCode::NoError);
    assert_eq!(answer.answers()[0].data().to_string(), "127.0.0.1");
    let answer = ask(&responder, "api.outage.test", RecordType::AAAA, wait)
        .await
        .expect("an answer");
    assert_eq!(
        (answer.response_code(), answer.answers().len()),
        (ResponseCode::NoError, 0)
    );
    let answer = ask(&responder, "unlisted.outage.test", RecordType::A, wait)
        .await
        .expect("an answer");
    assert_eq!(answer.response_code(), ResponseCode::NXDomain);
    let answer = ask(&responder, "broken.outage.test", RecordType::A, wait)
        .await
        .expect("an answer");
    assert_eq!(answer.response_code(), ResponseCode::ServFail);
    assert!(
        ask(
            &responder,
            "silent.outage.test",
            RecordType::A,
            Duration::from_millis(500)
        )
        .await
        .is_none()
    );
    let began = Instant::now();
    let answer = ask(&responder, "slow.outage.test", RecordType::A, wait)
        .await
        .expect("an answer");
    assert!(began.elapsed() >= Duration::from_millis(300));
    assert_eq!(answer.answers().len(), 1);

    let journal: Vec<String> = responder
        .queries()
        .iter()
        .map(|q| format!("{} {}: {}", q.record_type, q.name, q.answer))
        .collect();
    assert_eq!(
        journal,
        [
            "A api.outage.test: A 127.0.0.1",
            "AAAA api.outage.test: NODATA",
            "A unlisted.outage.test: NXDOMAIN",
            "A broken.outage.test: SERVFAIL",
            "A silent.outage.test: nothing",
            "A slow.outage.test: A 127.0.0.1 after 300ms",
        ]
    );
}

#[tokio::test]
async fn responders_started_together_each_get_their_own_address() {
    let names = || Names::new([127, 0, 0, 1].into());
    let (Some(a), Some(b)) = (responder(names()).await, responder(names()).await) else {
        return;
    };
    assert_ne!(a.ip(), b.ip());
    assert!(a.ip().is_loopback() && b.ip().is_loopback());
}
