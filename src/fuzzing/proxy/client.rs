//! The client of the `proxy` target: raw bytes, or well-formed requests
//! with bodies framed every way a proxy must follow, written in pieces.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::one_chunk;
use crate::fuzzing::fault::PATHS;

/// How long the client reads between two pieces of its request: long
/// enough for the proxy to pass the first on and the upstream to answer.
const PAUSE: Duration = Duration::from_millis(20);

/// The most the client reads before it leaves.
const READ_LIMIT: usize = 1 << 20;

/// What the client sends, and how it leaves.
pub(super) struct Client {
    /// Written in turn, [`PAUSE`] apart.
    pieces: Vec<Vec<u8>>,
    /// Closes its side once every piece is written.
    half_close: bool,
    /// Leaves with a reset (`SO_LINGER` 0) rather than a FIN.
    reset: bool,
}

impl Client {
    /// The client that `mode` picks, its bytes from `material`. The low three
    /// bits pick the request: raw bytes, a GET of a pooled path, a body with
    /// a length, a chunked body, `Expect: 100-continue`, an upgrade,
    /// pipelined requests, or a HEAD. Bit 0x20 makes the body lie (a length
    /// never met, chunk sizes as the material has them, a body never sent
    /// after the `Expect`, a partial request after the pipelined ones); bit
    /// 0x40 asks to close; bit 0x10 leaves with a reset, bit 0x80 closes
    /// the client's side after writing.
    pub(super) fn new(mode: u8, material: &[u8]) -> Client {
        let lie = mode & 0x20 != 0;
        let close = if mode & 0x40 != 0 {
            "connection: close\r\n"
        } else {
            ""
        };
        let head = |method: &str, path: &str, extra: &str| {
            format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\n{extra}{close}\r\n")
                .into_bytes()
        };
        let length = |extra: usize| format!("content-length: {}\r\n", material.len() + extra);
        let first = usize::from(material.first().copied().unwrap_or(0));
        let pieces = match mode % 8 {
            0 => vec![material.to_vec()],
            1 => vec![head("GET", PATHS[first % PATHS.len()], "")],
            2 => vec![
                [
                    &head("POST", "/post", &length(usize::from(lie) * (1 + first))),
                    material,
                ]
                .concat(),
            ],
            3 => vec![
                [
                    &head("POST", "/post", "transfer-encoding: chunked\r\n"),
                    &chunked(material, lie)[..],
                ]
                .concat(),
            ],
            4 => {
                let expect = head(
                    "PUT",
                    "/put",
                    &format!("expect: 100-continue\r\n{}", length(0)),
                );
                match lie {
                    true => vec![expect],
                    false => vec![expect, material.to_vec()],
                }
            }
            5 => {
                let upgrade = "connection: upgrade\r\nupgrade: websocket\r\n";
                vec![head("GET", "/ws", upgrade), material.to_vec()]
            }
            6 => {
                let partial: &[u8] = if lie { b"GET /par" } else { b"" };
                vec![
                    [
                        &head("GET", "/", ""),
                        &head("GET", "/get", ""),
                        &head("POST", "/post", &length(0)),
                        material,
                        partial,
                    ]
                    .concat(),
                ]
            }
            _ => vec![[&head("HEAD", "/", ""), material].concat()],
        };
        Client {
            pieces,
            half_close: mode & 0x80 != 0,
            reset: mode & 0x10 != 0,
        }
    }

    /// True when the client closes its side after writing.
    pub(super) fn half_closes(&self) -> bool {
        self.half_close
    }

    /// How many bytes the client writes, at most.
    pub(super) fn len(&self) -> u64 {
        self.pieces.iter().map(|p| p.len() as u64).sum()
    }

    /// Writes the pieces to the proxy at `addr`, reading in between, then
    /// reads the answer until the proxy ends the connection; the caller
    /// bounds how long that may take.
    pub(super) async fn exchange(&self, addr: SocketAddr) {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            return;
        };
        if self.reset {
            // Any close of this socket, a cancelled exchange's too, is then an RST.
            let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        }
        let mut got = 0;
        for (i, piece) in self.pieces.iter().enumerate() {
            if i > 0 {
                let _ = tokio::time::timeout(PAUSE, read(&mut stream, &mut got)).await;
            }
            // The proxy may close before reading everything.
            if stream.write_all(piece).await.is_err() {
                break;
            }
        }
        if self.half_close {
            let _ = stream.shutdown().await;
        }
        read(&mut stream, &mut got).await;
    }
}

/// Reads the answer until the proxy ends the connection or [`READ_LIMIT`]
/// bytes came, counting them in `got`: what they are is the upstream's
/// business, passed on as sent.
async fn read(stream: &mut TcpStream, got: &mut usize) {
    let mut chunk = vec![0u8; 64 * 1024];
    while *got < READ_LIMIT {
        match stream.read(&mut chunk).await {
            Ok(n @ 1..) => *got += n,
            _ => break,
        }
    }
}

/// `material` as one chunk and the last chunk; or, to `lie`, as the body
/// itself, chunk sizes and all.
fn chunked(material: &[u8], lie: bool) -> Vec<u8> {
    match lie {
        true => material.to_vec(),
        false => one_chunk(material),
    }
}
