//! The upstream of the `proxy` target: a raw TCP service on loopback that
//! reads until it has seen a request head, then writes bytes from the input
//! back, well-formed or not, and closes, resets, stays or echoes.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::one_chunk;

/// How long the upstream waits for a request head before it answers anyway.
const HEAD_WAIT: Duration = Duration::from_millis(100);

/// The most of a request head the upstream reads before it answers anyway.
const HEAD_LIMIT: usize = 64 * 1024;

/// How long the upstream reads between two pieces of its answer.
const PAUSE: Duration = Duration::from_millis(20);

/// How long the upstream keeps a connection open after its answer, when it
/// stays or echoes.
const STAY: Duration = Duration::from_millis(100);

/// The longest any upstream connection lives, whatever the proxy does.
const LIFETIME: Duration = Duration::from_millis(500);

/// The largest response head the proxy reads as one; huge heads are built
/// around it.
const PROXY_HEAD_LIMIT: usize = 64 * 1024;

/// What the upstream does once its answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    Close,
    /// Reads (and drops) what comes for [`STAY`], then closes.
    Stay,
    /// Writes back what comes for [`STAY`], then closes: a tunnel's far end.
    Echo,
}

/// How the upstream answers each connection.
pub(super) struct Answer {
    /// Written in turn, [`PAUSE`] apart; `None` when nothing listens.
    pieces: Option<Vec<Vec<u8>>>,
    then: Then,
    /// Every close is a reset (`SO_LINGER` 0).
    reset: bool,
    /// Answers as soon as a connection comes, before any request.
    at_once: bool,
    /// The proxy answers `502` when the upstream cannot be reached.
    bad_gateway: bool,
}

impl Answer {
    /// The answer `mode` picks, its bytes from `material`. The low four bits
    /// pick the answer (raw bytes, a length, chunked, chunk sizes as the
    /// material has them, conflicting lengths, a body cut short, `100
    /// Continue` then the final, `101` then an echo, a huge head, a partial
    /// head, `103` then a body to the close, HTTP/1.0, a `204` with a body,
    /// two responses at once, too many headers, nothing listening). Bit 0x10
    /// asks for a `502` when unreachable, 0x20 answers without waiting for
    /// the request, 0x40 stays open after the answer, 0x80 resets.
    pub(super) fn new(mode: u8, material: &[u8]) -> Answer {
        let n = material.len();
        let first = usize::from(material.first().copied().unwrap_or(0));
        let ok = |headers: &str| format!("HTTP/1.1 200 OK\r\n{headers}\r\n").into_bytes();
        let length = |extra: usize| format!("content-length: {}\r\n", n + extra);
        let with = |head: Vec<u8>| [&head[..], material].concat();
        let pieces = match mode % 16 {
            0 => vec![material.to_vec()],
            1 => vec![with(ok(&length(0)))],
            2 => vec![[ok("transfer-encoding: chunked\r\n"), one_chunk(material)].concat()],
            3 => vec![with(ok("transfer-encoding: chunked\r\n"))],
            4 => vec![with(ok(&format!("{}{}", length(0), length(1))))],
            5 => vec![with(ok(&length(1 + first * 997)))],
            6 => vec![b"HTTP/1.1 100 Continue\r\n\r\n".to_vec(), with(ok(&length(0)))],
            7 => vec![with(
                b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n"
                    .to_vec(),
            )],
            8 => {
                // A head from 128 bytes under the proxy's limit to 127 over it.
                let pad = "a".repeat(PROXY_HEAD_LIMIT - 128 - 49 + first);
                vec![with(ok(&format!("x-pad: {pad}\r\ncontent-length: 0\r\n")))]
            }
            9 => vec![with(b"HTTP/1.1 200 OK\r\nx-partial: ".to_vec())],
            10 => vec![
                b"HTTP/1.1 103 Early Hints\r\nlink: </style.css>\r\n\r\n".to_vec(),
                with(ok("")),
            ],
            11 => vec![with(b"HTTP/1.0 200 OK\r\n\r\n".to_vec())],
            12 => vec![with(format!("HTTP/1.1 204 No Content\r\n{}\r\n", length(0)).into_bytes())],
            13 => vec![with([ok("content-length: 0\r\n"), ok(&length(0))].concat())],
            14 => vec![with(ok(&"x: y\r\n".repeat(200 + first)))],
            _ => return Answer::down(mode),
        };
        Answer {
            then: match (mode % 16, mode & 0x40 != 0) {
                (7, _) => Then::Echo,
                (_, true) => Then::Stay,
                (_, false) => Then::Close,
            },
            pieces: Some(pieces),
            ..Answer::down(mode)
        }
    }

    fn down(mode: u8) -> Answer {
        Answer {
            pieces: None,
            then: Then::Close,
            reset: mode & 0x80 != 0,
            at_once: mode & 0x20 != 0,
            bad_gateway: mode & 0x10 != 0,
        }
    }

    /// True when the proxy is to answer `502` for an upstream it cannot reach.
    pub(super) fn bad_gateway(&self) -> bool {
        self.bad_gateway
    }
}

/// A running upstream; stopping it closes every connection it has.
pub(super) struct Upstream {
    address: String,
    /// Accepts and answers; `None` when nothing listens.
    task: Option<JoinHandle<()>>,
    /// Bytes the upstream wrote, or was about to, on every connection.
    wrote: Arc<AtomicU64>,
}

impl Upstream {
    /// Listens on loopback and answers every connection as `answer` says;
    /// or, for an upstream that is down, leaves its port refused.
    pub(super) async fn start(answer: Answer) -> io::Result<Upstream> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let wrote = Arc::new(AtomicU64::new(0));
        let task = answer.pieces.is_some().then(|| {
            let wrote = wrote.clone();
            tokio::spawn(accept(listener, Arc::new(answer), wrote))
        });
        Ok(Upstream {
            address,
            task,
            wrote,
        })
    }

    pub(super) fn address(&self) -> &str {
        &self.address
    }

    /// Stops answering, and says how many bytes the upstream wrote at most.
    pub(super) async fn stop(self) -> u64 {
        if let Some(task) = self.task {
            task.abort();
            let _ = task.await;
        }
        self.wrote.load(Ordering::SeqCst)
    }
}

/// Answers every connection, each for at most [`LIFETIME`]; dropping the
/// set when the task is aborted closes them all.
async fn accept(listener: TcpListener, answer: Arc<Answer>, wrote: Arc<AtomicU64>) {
    let mut connections = JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        let (answer, wrote) = (answer.clone(), wrote.clone());
        connections.spawn(tokio::time::timeout(LIFETIME, serve(stream, answer, wrote)));
    }
}

/// Reads a request head, writes the answer, then does what it says.
async fn serve(mut stream: TcpStream, answer: Arc<Answer>, wrote: Arc<AtomicU64>) {
    if answer.reset {
        let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    }
    if !answer.at_once {
        let _ = tokio::time::timeout(HEAD_WAIT, read_head(&mut stream)).await;
    }
    for (i, piece) in answer.pieces.iter().flatten().enumerate() {
        if i > 0 {
            let _ = tokio::time::timeout(PAUSE, drain(&mut stream, false, &wrote)).await;
        }
        // Counted first: the proxy may read these bytes before the write returns.
        wrote.fetch_add(piece.len() as u64, Ordering::SeqCst);
        if stream.write_all(piece).await.is_err() {
            return;
        }
    }
    if answer.then != Then::Close {
        let echo = answer.then == Then::Echo;
        let _ = tokio::time::timeout(STAY, drain(&mut stream, echo, &wrote)).await;
    }
}

/// Reads until a blank line ends a head, [`HEAD_LIMIT`] bytes came, or the
/// proxy closed.
async fn read_head(stream: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let ends = |seen: &[u8]| {
        seen.windows(4).any(|w| w == b"\r\n\r\n") || seen.windows(2).any(|w| w == b"\n\n")
    };
    while !ends(&seen) && seen.len() < HEAD_LIMIT {
        match stream.read(&mut chunk).await {
            Ok(n @ 1..) => seen.extend_from_slice(&chunk[..n]),
            _ => return,
        }
    }
}

/// Reads what comes until the proxy closes, writing it back when `echo`.
async fn drain(stream: &mut TcpStream, echo: bool, wrote: &AtomicU64) {
    let mut chunk = [0u8; 16 * 1024];
    while let Ok(n @ 1..) = stream.read(&mut chunk).await {
        if echo {
            wrote.fetch_add(n as u64, Ordering::SeqCst);
            if stream.write_all(&chunk[..n]).await.is_err() {
                return;
            }
        }
    }
}
