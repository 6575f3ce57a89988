//! A real server on loopback: any bytes a client sends and then closes its
//! side on are answered with HTTP or nothing, the connection ends within a
//! bound, and the server never panics. Slower than `request_head`, which
//! fuzzes the parser alone.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use outage::{Fault, FaultServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;

/// Longest the server may take to end a connection the client half-closed.
const BOUND: Duration = Duration::from_secs(5);

struct Servers {
    runtime: Runtime,
    /// `ok`: hyper reads the request.
    hyper: FaultServer,
    /// `empty-reply`: the transport path reads the head itself.
    raw: FaultServer,
}

fn servers() -> &'static Servers {
    static SERVERS: OnceLock<Servers> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let runtime = Runtime::new().expect("a tokio runtime");
        let start = |fault: Fault| {
            runtime
                .block_on(FaultServer::builder(fault).journal_capacity(16).start())
                .expect("a server on loopback")
        };
        let hyper = start(Fault::ok());
        let raw = start(Fault::named("empty-reply").expect("a known fault"));
        Servers {
            runtime,
            hyper,
            raw,
        }
    })
}

/// Sends `bytes`, closes the write side, and reads until the server ends the
/// connection; `None` when it does not within `BOUND`.
async fn exchange(server: &FaultServer, bytes: &[u8]) -> Option<Vec<u8>> {
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    // The server may close before reading everything; what it answered still counts.
    let _ = stream.write_all(bytes).await;
    let _ = stream.shutdown().await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(BOUND, async {
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = stream.read(&mut chunk).await {
            answer.extend_from_slice(&chunk[..n]);
        }
    });
    read.await.ok().map(|()| answer)
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, bytes)) = data.split_first() else {
        return;
    };
    let servers = servers();
    let server = if choice % 2 == 0 {
        &servers.hyper
    } else {
        &servers.raw
    };
    let answer = servers
        .runtime
        .block_on(exchange(server, bytes))
        .unwrap_or_else(|| {
            panic!("the connection was still open {BOUND:?} after the client closed")
        });
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1."),
        "answered with something other than HTTP: {:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(80)])
    );
});
