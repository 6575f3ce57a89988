//! Clients that send junk never panic a server: each attempt is journaled and
//! closed, and the server keeps serving.

use std::time::Duration;

use outage::{Ending, ErrorClass, Fault, classify};
use rstest::rstest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::support::{Timeouts, client, fetch, settled, start};

/// Longest a junk client waits for the server to end its connection.
const CLOSE: Duration = Duration::from_secs(5);

fn huge_head() -> Vec<u8> {
    let mut head = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..2000 {
        head.extend(format!("X-Filler-{i}: {}\r\n", "a".repeat(40)).into_bytes());
    }
    head.extend(b"\r\n");
    head
}

fn binary() -> Vec<u8> {
    (0..1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// Sends `bytes`, optionally closes the write side, and reads until the
/// server ends the connection. Writes may fail once the server gives up.
async fn send_junk(addr: std::net::SocketAddr, bytes: &[u8], close_after: bool) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(bytes).await;
    if close_after {
        let _ = stream.shutdown().await;
        drop(stream);
        return;
    }
    let mut sink = Vec::new();
    let ended = timeout(CLOSE, stream.read_to_end(&mut sink)).await;
    assert!(
        ended.is_ok(),
        "the server did not end a junk connection within {CLOSE:?}"
    );
}

#[rstest]
#[case::transport_fault(Fault::named("empty-reply").unwrap(), ErrorClass::EmptyReply)]
#[case::hyper_responder(Fault::ok(), ErrorClass::Other)]
#[tokio::test]
async fn junk_is_journaled_and_closed_and_the_server_keeps_serving(
    #[case] fault: Fault,
    #[case] healthy: ErrorClass,
) {
    let server = start(fault.clone()).await;
    send_junk(server.addr(), &huge_head(), false).await;
    send_junk(server.addr(), &binary(), false).await;
    send_junk(server.addr(), b"GET / HTTP/1.1\r\nHost: half", true).await;
    let attempts = settled(&server, 3).await;
    for attempt in &attempts {
        assert!(
            attempt.request.is_none(),
            "{}: junk is not a request: {attempt}",
            fault.name()
        );
        assert!(
            !attempt.action.is_empty(),
            "{}: the journal says what happened: {attempt}",
            fault.name()
        );
    }
    assert_eq!(
        attempts[1].ending,
        Some(Ending::ServerFin),
        "binary bytes are answered and closed"
    );
    assert_eq!(
        attempts[2].ending,
        Some(Ending::ClientFin),
        "a half request ends when the client leaves"
    );

    let after = fetch(&client(Timeouts::default()), &server.url()).await;
    match after {
        Ok((status, _)) => assert_eq!((status.as_u16(), healthy), (200, ErrorClass::Other)),
        Err(error) => assert_eq!(
            classify(&error),
            healthy,
            "{}: still applies its fault",
            fault.name()
        ),
    }
}
