//! The `server` target: a fault built from the input, every parameter in
//! range or out of it, served on loopback to a request built from the rest.
//!
//! The input reads as: one byte choosing the fault, one choosing how the
//! request is written (and whether the client then closes its side), one
//! giving how many parameter picks follow, the picks, and then the request
//! material. Each pick chooses one parameter's value
//! from a pool of in-range and absurd values for that parameter (0 leaves its
//! default); a nested fault (a step, a route, a chance's branch) takes its
//! own picks from the same run. Running out of picks leaves the rest at
//! their defaults, so a two-byte input is a fault with its defaults. Bit
//! 0x40 of the request byte serves HTTP/2 as well, and sends raw material
//! after HTTP/2's preface.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::conn::http2::frame::PREFACE;
use crate::fault::Fault;
use crate::fuzzing::fault::{PATHS, Picks, valid_fault};
use crate::fuzzing::runtime;
use crate::{FaultServer, ServerError};

/// How long the client reads the answer before it leaves.
const READ_FOR: Duration = Duration::from_millis(200);

/// The most the client reads before it leaves: a huge body is the server's
/// to stream, not the client's to swallow.
const READ_LIMIT: usize = 1 << 20;

/// How long the server may take to stop once asked, every connection closed;
/// and how long `ok` and `empty-reply` may take to close a connection the
/// client closed its side of.
const BOUND: Duration = Duration::from_secs(5);

/// Any fault, any request: validation refuses what cannot be served, with a
/// reason; what passes is served without a panic, stops within a bound, and
/// journals an ending for every attempt it saw.
pub fn check(data: &[u8]) {
    let [kind, mode, count, rest @ ..] = data else {
        return;
    };
    let (picks, material) = rest.split_at(usize::from(*count).min(rest.len()));
    let Some(fault) = valid_fault(*kind, &mut Picks(picks.iter())) else {
        return;
    };
    let http2 = mode & 0x40 != 0;
    let client = Client {
        request: request(*mode, material, http2),
        half_close: mode & 0x80 != 0,
        http2,
    };
    runtime().block_on(serve(fault, &client));
}

/// What the client does: send `request`, then maybe close its side; and
/// whether the server speaks HTTP/2 as well.
struct Client {
    request: Vec<u8>,
    half_close: bool,
    http2: bool,
}

/// The request: the material as raw bytes (after HTTP/2's preface, to a
/// server that speaks it), a GET of a pooled path, or a GET of the material
/// as a path.
fn request(mode: u8, material: &[u8], http2: bool) -> Vec<u8> {
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n\r\n").into_bytes();
    match mode % 3 {
        0 if http2 => [PREFACE, material].concat(),
        0 => material.to_vec(),
        1 => {
            let pick = material.first().map_or(0, |p| usize::from(*p));
            get(PATHS[pick % PATHS.len()])
        }
        _ => {
            let path: String = String::from_utf8_lossy(material)
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect();
            get(&format!("/{path}"))
        }
    }
}

/// Serves `fault`, lets the client in, and stops.
async fn serve(fault: Fault, client: &Client) {
    let name = fault.name();
    // Their promise since the first version of this target: whatever bytes
    // arrive, the answer is HTTP or nothing, and a client that closes its
    // side sees the connection end.
    let plain = client.half_close
        && !client.http2
        && (fault == Fault::ok() || fault == Fault::named("empty-reply").expect("a known fault"));
    let server = match FaultServer::builder(fault)
        .journal_capacity(16)
        .http2(client.http2)
        .start()
        .await
    {
        Ok(server) => server,
        Err(ServerError::InvalidFault(invalid)) => {
            panic!("{name} passed validation, then failed to start: {invalid}")
        }
        // Binding or making certificates can fail on a busy machine; neither
        // is what this target looks for.
        Err(_) => return,
    };
    let bound = if plain { BOUND } else { READ_FOR };
    let answer = tokio::time::timeout(bound, exchange(&server, client)).await;
    if plain {
        let Ok(answer) = answer else {
            panic!("{name}: the connection was still open {BOUND:?} after the client closed");
        };
        assert!(
            answer.is_empty() || answer.starts_with(b"HTTP/1."),
            "{name} answered with something other than HTTP: {:?}",
            String::from_utf8_lossy(&answer[..answer.len().min(80)])
        );
    }
    let journal = server.journal().clone();
    let stopped = tokio::time::timeout(BOUND, server.shutdown()).await;
    assert!(
        stopped.is_ok(),
        "{name}: the server was still stopping {BOUND:?} after it was asked"
    );
    for attempt in journal.attempts() {
        assert!(
            attempt.ending.is_some(),
            "{name}: attempt {} has no ending after the server stopped: {attempt:?}",
            attempt.index
        );
    }
}

/// Sends the client's request and reads the answer until the server ends the
/// connection, keeping at most [`READ_LIMIT`] bytes of it.
async fn exchange(server: &FaultServer, client: &Client) -> Vec<u8> {
    let mut answer = Vec::new();
    let Ok(mut stream) = TcpStream::connect(server.addr()).await else {
        return answer;
    };
    // The server may close before reading everything; what it answered still counts.
    let _ = stream.write_all(&client.request).await;
    if client.half_close {
        let _ = stream.shutdown().await;
    }
    let mut chunk = vec![0u8; 64 * 1024];
    while answer.len() < READ_LIMIT {
        match stream.read(&mut chunk).await {
            Ok(n @ 1..) => answer.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http2_seeds_pass_their_checks() {
        let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/server");
        let mut checked = 0;
        for seed in std::fs::read_dir(seeds).unwrap() {
            let seed = seed.unwrap().path();
            let name = seed.to_string_lossy();
            if name.contains("h2") || name.contains("http2") {
                check(&std::fs::read(&seed).unwrap());
                checked += 1;
            }
        }
        assert!(checked >= 9, "only {checked} HTTP/2 seeds");
    }
}
