//! DNS faults: the loopback responder answering real queries.

use std::time::Duration;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use outage::dns::{DnsFault, DnsResponder, Names, ResponderError};
use tokio::net::UdpSocket;
use tokio::time::Instant;

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
