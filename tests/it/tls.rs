//! TLS faults, met by reqwest: every fault lands in its class, any fault runs
//! behind TLS, the journal tells how each handshake went, and the CA is
//! exported so that a client can trust it.

use std::time::Duration;

use outage::{Ending, ErrorClass, Fault, FaultServer, TlsKind, classify};
use rstest::rstest;
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::support::{SETTLE, fetch, settled, start};

/// A client that trusts only `server`'s CA, with short timeouts.
fn trusting(server: &FaultServer) -> reqwest::Client {
    let pem = server.ca_pem().expect("an https server exports its CA");
    let ca = reqwest::Certificate::from_pem(pem.as_bytes()).expect("the CA is valid PEM");
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .tls_certs_only([ca])
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(3))
        .build()
        .expect("a client with plain settings builds")
}

/// What a client trusting the server's CA meets: a class, or a status.
async fn met(server: &FaultServer) -> Result<u16, ErrorClass> {
    match fetch(&trusting(server), &server.url()).await {
        Ok((status, _)) => Ok(status.as_u16()),
        Err(error) => Err(classify(&error)),
    }
}

#[rstest]
#[case::ok("tls-ok", Ok(200))]
#[case::self_signed("tls-self-signed", Err(ErrorClass::Tls(TlsKind::Untrusted)))]
#[case::expired("tls-expired", Err(ErrorClass::Tls(TlsKind::Expired)))]
#[case::not_yet_valid("tls-not-yet-valid", Err(ErrorClass::Tls(TlsKind::Expired)))]
#[case::wrong_host("tls-wrong-host", Err(ErrorClass::Tls(TlsKind::Hostname)))]
#[case::untrusted_ca("tls-untrusted-ca", Err(ErrorClass::Tls(TlsKind::Untrusted)))]
#[case::plaintext("tls-plaintext", Err(ErrorClass::Tls(TlsKind::Protocol)))]
#[case::handshake_drop("tls-handshake-drop", Err(ErrorClass::Tls(TlsKind::Protocol)))]
#[case::handshake_stall("tls-handshake-stall", Err(ErrorClass::ConnectTimeout))]
#[tokio::test]
async fn each_tls_fault_lands_in_its_class_for_a_client_that_trusts_the_ca(
    #[case] name: &str,
    #[case] expected: Result<u16, ErrorClass>,
) {
    let server = start(Fault::named(name).unwrap()).await;
    assert!(
        server.url().starts_with("https://127.0.0.1:"),
        "{}",
        server.url()
    );
    assert_eq!(met(&server).await, expected, "{name}");
}

#[tokio::test]
async fn tls_ok_is_untrusted_for_a_client_that_trusts_another_ca() {
    let server = start(Fault::named("tls-ok").unwrap()).await;
    let other = start(Fault::named("tls-ok").unwrap()).await;
    let error = trusting(&other).get(server.url()).send().await.unwrap_err();
    assert_eq!(classify(&error), ErrorClass::Tls(TlsKind::Untrusted));
}

#[tokio::test]
async fn every_server_exports_its_own_ca_and_plain_servers_none() {
    let first = start(Fault::named("tls-ok").unwrap()).await;
    let second = start(Fault::named("tls-ok").unwrap()).await;
    let pem = first.ca_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
    assert!(!pem.contains("PRIVATE KEY"), "{pem}");
    assert_ne!(first.ca_pem(), second.ca_pem());
    let plain = start(Fault::ok()).await;
    assert_eq!(plain.ca_pem(), None);
    assert!(plain.url().starts_with("http://"), "{}", plain.url());
}

#[rstest]
#[case::reset(Fault::reset(), Err(ErrorClass::Reset))]
#[case::status(Fault::status(503), Ok(503))]
#[case::empty_reply(Fault::named("empty-reply").unwrap(), Err(ErrorClass::EmptyReply))]
#[case::truncate(Fault::named("truncate").unwrap(), Err(ErrorClass::IncompleteBody))]
#[tokio::test]
async fn a_fault_behind_tls_is_met_inside_the_encrypted_stream(
    #[case] fault: Fault,
    #[case] expected: Result<u16, ErrorClass>,
) {
    let server = FaultServer::builder(fault).tls(true).start().await.unwrap();
    assert!(server.url().starts_with("https://"), "{}", server.url());
    assert_eq!(met(&server).await, expected);
    let attempts = settled(&server, 1).await;
    assert!(
        attempts[0]
            .action
            .starts_with("TLS handshake done (TLSv1_3); "),
        "{}",
        attempts[0]
    );
    assert!(attempts[0].request.is_some(), "{}", attempts[0]);
}

#[tokio::test]
async fn a_reset_behind_tls_is_a_tcp_rst_after_the_request() {
    let server = FaultServer::builder(Fault::reset())
        .tls(true)
        .start()
        .await
        .unwrap();
    met(&server).await.unwrap_err();
    let attempts = settled(&server, 1).await;
    assert_eq!(
        attempts[0].action,
        "TLS handshake done (TLSv1_3); reset after the request"
    );
    assert_eq!(attempts[0].ending, Some(Ending::ServerRst));
}

#[rstest]
#[case::expired(
    "tls-expired",
    "TLS handshake failed: the client sent alert CertificateExpired"
)]
#[case::wrong_host(
    "tls-wrong-host",
    "TLS handshake failed: the client sent alert BadCertificate"
)]
#[case::untrusted_ca(
    "tls-untrusted-ca",
    "TLS handshake failed: the client sent alert UnknownCA"
)]
#[case::drop(
    "tls-handshake-drop",
    "closed (FIN) after the TLS ClientHello, without answering"
)]
#[case::plaintext("tls-plaintext", "answered the TLS ClientHello with a plain HTTP 400")]
#[tokio::test]
async fn the_journal_tells_how_the_handshake_went(#[case] name: &str, #[case] action: &str) {
    let server = start(Fault::named(name).unwrap()).await;
    met(&server).await.unwrap_err();
    let attempts = settled(&server, 1).await;
    assert_eq!(attempts[0].action, action, "{}", attempts[0]);
    assert_eq!(attempts[0].request, None);
}

#[tokio::test]
async fn a_sequence_moves_from_a_handshake_fault_to_a_valid_server() {
    let fault = Fault::sequence([
        Fault::named("tls-handshake-drop").unwrap(),
        Fault::reset(),
        Fault::named("tls-ok").unwrap(),
    ]);
    let server = start(fault).await;
    assert_eq!(met(&server).await, Err(ErrorClass::Tls(TlsKind::Protocol)));
    assert_eq!(met(&server).await, Err(ErrorClass::Reset));
    assert_eq!(met(&server).await, Ok(200));
}

#[tokio::test]
async fn a_client_that_never_finishes_its_handshake_is_closed_when_the_server_stops() {
    let server = start(Fault::named("tls-ok").unwrap()).await;
    // Connect, and never send a ClientHello.
    let _silent = TcpStream::connect(server.addr()).await.unwrap();
    let journal = server.journal().clone();
    let wait = async {
        while journal.count() == 0 {
            tokio::task::yield_now().await;
        }
    };
    timeout(SETTLE, wait)
        .await
        .expect("the connection is journaled");
    timeout(SETTLE, server.shutdown())
        .await
        .expect("shutdown does not wait for the handshake");
    let attempts = journal.attempts();
    assert_eq!(attempts[0].ending, Some(Ending::ServerStopped));
    assert_eq!(
        attempts[0].action,
        "server stopped during the TLS handshake"
    );
}

#[tokio::test]
async fn a_client_that_leaves_during_the_handshake_is_journaled() {
    let server = start(Fault::named("tls-ok").unwrap()).await;
    drop(TcpStream::connect(server.addr()).await.unwrap());
    let attempts = settled(&server, 1).await;
    assert!(
        attempts[0]
            .action
            .starts_with("client left during the TLS handshake"),
        "{}",
        attempts[0]
    );
    assert_eq!(attempts[0].ending, Some(Ending::ClientFin));
}

#[tokio::test]
async fn plain_http_sent_to_an_https_server_fails_its_handshake() {
    let server = FaultServer::builder(Fault::ok())
        .tls(true)
        .start()
        .await
        .unwrap();
    let plain = server.url().replacen("https://", "http://", 1);
    let error = crate::support::client(Default::default())
        .get(plain)
        .send()
        .await
        .unwrap_err();
    // The server answers with a TLS alert record, which is no HTTP response.
    assert_eq!(classify(&error), ErrorClass::MalformedResponse);
    let attempts = settled(&server, 1).await;
    assert_eq!(
        attempts[0].action,
        "TLS handshake failed: received corrupt message of type InvalidContentType; closed"
    );
    assert_eq!(attempts[0].ending, Some(Ending::ServerFin));
}

#[tokio::test(start_paused = true)]
async fn a_handshake_that_never_finishes_is_closed_after_ten_seconds() {
    let server = start(Fault::named("tls-ok").unwrap()).await;
    let _silent = TcpStream::connect(server.addr()).await.unwrap();
    // On a paused clock the ten seconds pass as soon as every task waits.
    let attempts = server
        .journal()
        .settled(1, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        attempts[0].action,
        "TLS handshake not finished after 10s; closed"
    );
    assert_eq!(attempts[0].ending, Some(Ending::ServerFin));
    assert_eq!(attempts[0].ended, Some(Duration::from_secs(10)));
}

#[rstest]
#[case::refuse(
    "refuse",
    "it never accepts a connection, so there is nothing to put behind TLS"
)]
#[case::blackhole(
    "blackhole",
    "it never accepts a connection, so there is nothing to put behind TLS"
)]
#[case::wrong_port(
    "wrong-port",
    "it never accepts a connection, so there is nothing to put behind TLS"
)]
#[case::tls_expired("tls-expired", "it is a TLS fault, served on an https URL already")]
#[case::tls_plaintext("tls-plaintext", "it is a TLS fault, served on an https URL already")]
#[tokio::test]
async fn tls_on_a_fault_that_cannot_take_it_is_refused_at_start(
    #[case] name: &str,
    #[case] why: &str,
) {
    let fault = Fault::named(name).expect("a catalogued fault");
    let error = FaultServer::builder(fault)
        .tls(true)
        .start()
        .await
        .expect_err("tls(true) on this fault must not start");
    assert_eq!(
        error.to_string(),
        format!("invalid {name} fault: tls(true) does not apply: {why}; leave tls off")
    );
}
