//! HTTP/2 serving and the `h2-*` faults, against reqwest speaking HTTP/2.

use std::time::Duration;

use outage::fault::{GoawayClose, H2Goaway, H2ResetStream, StreamResetWhen};
use outage::{Ending, ErrorClass, Fault, FaultServer, Http2Code, Http2Frame, classify};

use crate::support::{fault, settled};

/// A reqwest client that speaks HTTP/2 with prior knowledge and keeps its
/// connection, as an HTTP/2 client does.
fn h2_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a client with plain settings builds")
}

async fn h2_server(fault: Fault) -> FaultServer {
    FaultServer::builder(fault)
        .http2(true)
        .start()
        .await
        .expect("the server starts")
}

#[tokio::test]
async fn ok_is_served_over_http2_one_attempt_per_stream() {
    let server = h2_server(Fault::ok()).await;
    let client = h2_client();
    for _ in 0..3 {
        let response = client.get(server.url()).send().await.unwrap();
        assert_eq!(response.version(), reqwest::Version::HTTP_2);
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
    }
    let attempts = settled(&server, 3).await;
    let ids: Vec<u32> = attempts
        .iter()
        .map(|a| a.http2.as_ref().unwrap().id)
        .collect();
    assert_eq!(ids, [1, 3, 5]);
    for attempt in &attempts {
        assert_eq!(attempt.connection, 0);
        assert_eq!(attempt.ending, Some(Ending::StreamEnded));
        assert_eq!(attempt.status_sent, Some(200));
        assert_eq!(attempt.request_line().as_deref(), Some("GET / HTTP/2"));
    }
}

#[tokio::test]
async fn a_refused_stream_is_retried_by_reqwest_on_its_own() {
    let server = h2_server(fault(
        r#"{ kind = "sequence", steps = ["h2-refused-stream", "ok"] }"#,
    ))
    .await;
    let response = h2_client().get(server.url()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let attempts = settled(&server, 2).await;
    assert_eq!(attempts[0].ending, Some(Ending::ServerStreamReset));
    assert_eq!(
        attempts[0].http2.as_ref().unwrap().frames_sent,
        [Http2Frame::RstStream {
            code: Http2Code::REFUSED_STREAM
        }]
    );
    assert_eq!(attempts[1].ending, Some(Ending::StreamEnded));
}

#[tokio::test]
async fn a_reset_stream_is_an_error_with_its_code() {
    let reset = H2ResetStream::default().code("cancel".parse().unwrap());
    let server = h2_server(reset.into()).await;
    let error = h2_client().get(server.url()).send().await.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::StreamReset(Http2Code::CANCEL));
    let attempts = settled(&server, 1).await;
    assert_eq!(attempts[0].ending, Some(Ending::ServerStreamReset));
}

#[tokio::test]
async fn a_reset_after_body_bytes_cuts_the_body() {
    let reset = H2ResetStream::default()
        .when(StreamResetWhen::AfterBodyBytes)
        .body_bytes(70_000);
    let server = h2_server(reset.into()).await;
    let response = h2_client().get(server.url()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let error = response.bytes().await.unwrap_err();
    assert_eq!(
        classify(&error),
        ErrorClass::StreamReset(Http2Code::INTERNAL_ERROR)
    );
    let attempts = settled(&server, 1).await;
    assert_eq!(attempts[0].bytes_sent, 70_000);
}

#[tokio::test]
async fn a_goaway_with_no_error_is_retried_on_a_new_connection() {
    let server = h2_server(Fault::sequence([H2Goaway::default().into(), Fault::ok()])).await;
    let response = h2_client().get(server.url()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let attempts = settled(&server, 2).await;
    assert_eq!(
        attempts[0].http2.as_ref().unwrap().frames_sent,
        [Http2Frame::GoAway {
            last_stream_id: 0,
            code: Http2Code::NO_ERROR
        }]
    );
    assert_eq!((attempts[0].connection, attempts[1].connection), (0, 1));
}

#[tokio::test]
async fn an_immediate_goaway_with_an_error_fails_the_request() {
    let goaway = H2Goaway::default()
        .code(Http2Code::INTERNAL_ERROR)
        .close(GoawayClose::Immediate);
    let server = h2_server(goaway.into()).await;
    let error = h2_client().get(server.url()).send().await.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::GoAway, "{error:?}");
}

#[tokio::test]
async fn an_http1_client_of_an_h2_fault_is_answered_505() {
    let server = FaultServer::start(Fault::named("h2-refused-stream").unwrap())
        .await
        .unwrap();
    let response = reqwest::get(server.url()).await.unwrap();
    assert_eq!(response.status(), 505);
}
