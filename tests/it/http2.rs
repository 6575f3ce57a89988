//! HTTP/2 serving and the `h2-*` faults, against reqwest speaking HTTP/2.

use std::time::Duration;

use outage::fault::{
    GarbageFrame, GoawayClose, H2GarbageFrame, H2Goaway, H2MaxStreams, H2ResetStream,
    StreamResetWhen,
};
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

/// An HTTP/2 client whose whole request is bounded by `total`.
fn h2_client_giving_up_after(total: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(total)
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
        assert_eq!(attempt.request_line(), Some("GET / HTTP/2"));
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
async fn a_window_stall_ends_only_with_the_clients_timeout() {
    let server = h2_server(Fault::named("h2-window-stall").unwrap()).await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let response = client.get(server.url()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let error = response.bytes().await.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::Timeout);
    let attempts = settled(&server, 1).await;
    // Giving up, the client cancels the stream.
    assert_eq!(attempts[0].ending, Some(Ending::ClientStreamReset));
    assert_eq!(
        attempts[0].http2.as_ref().unwrap().reset_by_client,
        Some(Http2Code::CANCEL)
    );
    assert_eq!(
        (attempts[0].status_sent, attempts[0].bytes_sent),
        (Some(200), 0)
    );
}

#[tokio::test]
async fn max_streams_makes_a_client_queue_its_requests() {
    let hold = Duration::from_millis(300);
    let fault = H2MaxStreams::default().streams(1).hold(hold);
    let server = h2_server(fault.into()).await;
    let client = h2_client();
    let requests = (0..3).map(|_| {
        let client = client.clone();
        let url = server.url();
        tokio::spawn(async move { client.get(url).send().await.map(|r| r.status()) })
    });
    for request in requests.collect::<Vec<_>>() {
        assert_eq!(request.await.unwrap().unwrap(), 200);
    }
    let attempts = settled(&server, 3).await;
    assert!(attempts.iter().all(|a| a.connection == 0), "{attempts:#?}");
    // One stream at a time: each began once the one before was answered.
    for pair in attempts.windows(2) {
        assert!(pair[1].started >= pair[0].started + hold, "{attempts:#?}");
    }
}

#[tokio::test]
async fn a_settings_stall_never_lets_a_request_through() {
    let server = h2_server(Fault::named("h2-settings-stall").unwrap()).await;
    let client = h2_client_giving_up_after(Duration::from_millis(300));
    let error = client.get(server.url()).send().await.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::Timeout);
    drop(client);
    let attempts = settled(&server, 1).await;
    assert_eq!(attempts[0].action, "never sent the server's SETTINGS");
    assert_eq!(attempts[0].bytes_sent, 0);
    assert!(attempts[0].http2.is_none());
}

/// A keep-alive client PINGs an idle connection every 50 ms and gives up on
/// one whose PING is not answered within 100 ms.
#[rstest::rstest]
#[case::unanswered("h2-ping-silence", 1)]
#[case::answered("ok", 0)]
#[tokio::test]
async fn a_keep_alive_client_keeps_a_connection_while_its_pings_are_answered(
    #[case] fault: &str,
    #[case] second_connection: u64,
) {
    let server = h2_server(Fault::named(fault).unwrap()).await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .http2_keep_alive_interval(Duration::from_millis(50))
        .http2_keep_alive_timeout(Duration::from_millis(100))
        .http2_keep_alive_while_idle(true)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert_eq!(client.get(server.url()).send().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(client.get(server.url()).send().await.unwrap().status(), 200);
    let attempts = settled(&server, 2).await;
    assert_eq!(attempts[1].connection, second_connection, "{attempts:#?}");
}

#[rstest::rstest]
#[case::wrong_length(GarbageFrame::WrongLength)]
#[case::oversized(GarbageFrame::Oversized)]
#[case::data_on_stream_zero(GarbageFrame::DataOnStreamZero)]
#[tokio::test]
async fn a_garbage_frame_is_a_malformed_response(#[case] frame: GarbageFrame) {
    let server = h2_server(H2GarbageFrame::default().frame(frame).into()).await;
    let error = h2_client().get(server.url()).send().await.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::MalformedResponse, "{error:?}");
    let attempts = settled(&server, 1).await;
    assert!(matches!(
        attempts[0].http2.as_ref().unwrap().frames_sent[..],
        [Http2Frame::Garbage { .. }]
    ));
}

#[tokio::test]
async fn a_goaway_after_a_stream_sends_the_next_request_to_a_new_connection() {
    let server = h2_server(H2Goaway::default().after(1).into()).await;
    let client = h2_client();
    for _ in 0..2 {
        assert_eq!(client.get(server.url()).send().await.unwrap().status(), 200);
    }
    let attempts = settled(&server, 3).await;
    let places: Vec<(u64, u32)> = attempts
        .iter()
        .map(|a| (a.connection, a.http2.as_ref().unwrap().id))
        .collect();
    // Stream 3 met the GOAWAY unprocessed; reqwest retried it on connection 1.
    assert_eq!(places, [(0, 1), (0, 3), (1, 1)]);
    assert!(
        attempts[1].action.contains("left unprocessed"),
        "{}",
        attempts[1].action
    );
}

#[tokio::test]
async fn a_graceful_goaway_answers_the_streams_it_processed() {
    let goaway = H2Goaway::default().after(1).last_stream_id(3);
    let server = h2_server(goaway.into()).await;
    let client = h2_client();
    for _ in 0..3 {
        assert_eq!(client.get(server.url()).send().await.unwrap().status(), 200);
    }
    let attempts = settled(&server, 3).await;
    assert_eq!(attempts[1].ending, Some(Ending::StreamEnded));
    assert_eq!(attempts[2].connection, 1, "{attempts:#?}");
}

#[tokio::test]
async fn tls_offers_http2_by_alpn_and_http1_to_a_client_without_it() {
    let server = FaultServer::builder(Fault::ok())
        .tls(true)
        .http2(true)
        .start()
        .await
        .unwrap();
    let ca = reqwest::Certificate::from_pem(server.ca_pem().unwrap().as_bytes()).unwrap();
    let h2 = reqwest::Client::builder()
        .tls_certs_only([ca.clone()])
        .build()
        .unwrap();
    let h1 = reqwest::Client::builder()
        .tls_certs_only([ca])
        .http1_only()
        .build()
        .unwrap();
    let version = |r: reqwest::Response| r.version();
    assert_eq!(
        version(h2.get(server.url()).send().await.unwrap()),
        reqwest::Version::HTTP_2
    );
    assert_eq!(
        version(h1.get(server.url()).send().await.unwrap()),
        reqwest::Version::HTTP_11
    );
}

#[tokio::test]
async fn an_http1_client_is_served_http1_on_an_http2_server() {
    let server = h2_server(Fault::ok()).await;
    let response = reqwest::get(server.url()).await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_transport_fault_on_a_later_stream_takes_the_connection() {
    let server = h2_server(Fault::sequence([Fault::ok(), Fault::reset()])).await;
    let client = h2_client();
    assert_eq!(client.get(server.url()).send().await.unwrap().status(), 200);
    let error = client.get(server.url()).send().await.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::Reset, "{error:?}");
    let attempts = settled(&server, 2).await;
    assert!(
        attempts[1]
            .action
            .contains("took over the HTTP/2 connection")
    );
    assert_eq!(attempts[1].ending, Some(Ending::ServerRst));
}

#[tokio::test]
async fn shutdown_ends_every_open_stream() {
    let server = h2_server(Fault::named("h2-window-stall").unwrap()).await;
    let client = h2_client();
    let url = server.url();
    let waiting = tokio::spawn(async move {
        let response = client.get(url).send().await?;
        response.bytes().await
    });
    while server.journal().count() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let journal = server.journal().clone();
    tokio::time::timeout(Duration::from_secs(5), server.shutdown())
        .await
        .expect("shutdown ends an HTTP/2 connection with a stream held");
    assert!(waiting.await.unwrap().is_err());
    let attempts = journal.attempts();
    assert_eq!(attempts[0].ending, Some(Ending::ServerStopped));
}

#[tokio::test]
async fn broken_http2_from_a_client_ends_its_connection_and_nothing_else() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = h2_server(Fault::ok()).await;
    let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let broken: [&[u8]; 4] = [
        // A PING of 3 bytes.
        &[0, 0, 3, 6, 0, 0, 0, 0, 0, 1, 2, 3],
        // A frame header stating 16 MiB.
        &[0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1],
        // HEADERS whose block is no HPACK.
        &[0, 0, 4, 1, 5, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff],
        // The preface cut short.
        &[],
    ];
    for (i, bytes) in broken.iter().enumerate() {
        let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        let sent = if bytes.is_empty() {
            &preface[..10]
        } else {
            &preface[..]
        };
        stream.write_all(sent).await.unwrap();
        stream.write_all(bytes).await.unwrap();
        if bytes.is_empty() {
            stream.shutdown().await.unwrap();
        }
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer));
        assert!(read.await.is_ok(), "connection {i} was left open");
    }
    // The server still serves.
    assert_eq!(
        h2_client().get(server.url()).send().await.unwrap().status(),
        200
    );
    let attempts = settled(&server, 5).await;
    assert!(attempts.iter().all(|a| a.is_finished()), "{attempts:#?}");
}

#[tokio::test]
async fn routes_pick_an_h2_fault_per_stream_by_path() {
    let fault = Fault::routes([
        (
            "/flaky",
            Fault::sequence([Fault::named("h2-refused-stream").unwrap(), Fault::ok()]),
        ),
        ("/broken", H2ResetStream::default().into()),
        ("/", Fault::ok()),
    ]);
    let server = h2_server(fault).await;
    let client = h2_client();
    let url = |path: &str| format!("{}{path}", server.url().trim_end_matches('/'));
    assert_eq!(client.get(url("/")).send().await.unwrap().status(), 200);
    assert_eq!(
        client.get(url("/flaky")).send().await.unwrap().status(),
        200
    );
    let error = client.get(url("/broken")).send().await.unwrap_err();
    assert_eq!(
        classify(&error),
        ErrorClass::StreamReset(Http2Code::INTERNAL_ERROR)
    );
    let attempts = settled(&server, 4).await;
    let routes: Vec<_> = attempts
        .iter()
        .map(|a| a.route.as_deref().unwrap())
        .collect();
    assert_eq!(routes, ["/", "/flaky", "/flaky", "/broken"]);
    // Every stream on one connection: the refused one was retried on it.
    assert!(attempts.iter().all(|a| a.connection == 0), "{attempts:#?}");
}

#[tokio::test]
async fn a_transport_fault_meets_the_first_stream_of_an_http2_connection() {
    let server = h2_server(Fault::reset()).await;
    let error = h2_client().get(server.url()).send().await.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::Reset, "{error:?}");
    let attempts = settled(&server, 1).await;
    assert_eq!(attempts[0].request_line(), Some("GET / HTTP/2"));
    assert_eq!(attempts[0].ending, Some(Ending::ServerRst));

    let server = h2_server(Fault::hang()).await;
    let client = h2_client_giving_up_after(Duration::from_millis(300));
    let error = client.get(server.url()).send().await.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::Timeout, "{error:?}");
}

#[rstest::rstest]
#[case::on_a_stream("h2-refused-stream")]
#[case::before_any_stream("h2-settings-stall")]
#[tokio::test]
async fn an_http1_client_of_an_h2_fault_is_answered_505(#[case] fault: &str) {
    let server = FaultServer::start(Fault::named(fault).unwrap())
        .await
        .unwrap();
    let response = reqwest::get(server.url()).await.unwrap();
    assert_eq!(response.status(), 505);
    let attempts = settled(&server, 1).await;
    let action = &attempts[0].action;
    assert!(
        action.contains("needs HTTP/2, and the client spoke HTTP/1.1"),
        "{action}"
    );
}
