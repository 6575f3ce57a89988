//! What a toxic acts on: [`Chunk`]s read from one side of a connection,
//! taken from a [`Stub`]'s input and given to its output, and the [`Pipe`]
//! trait every toxic implements, after Toxiproxy's `ToxicStub` and `Pipe`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use bytes::Bytes;
use rand_chacha::ChaCha8Rng;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Bytes read from the source in one go, stamped with when they were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunk {
    /// The bytes.
    pub(crate) data: Bytes,
    /// When the proxy read them; latencies are measured from here.
    pub(crate) arrived: Instant,
}

impl Chunk {
    /// `data`, read now.
    pub(crate) fn new(data: impl Into<Bytes>) -> Chunk {
        Chunk {
            data: data.into(),
            arrived: Instant::now(),
        }
    }

    fn split_to(&mut self, len: usize) -> Chunk {
        Chunk {
            data: self.data.split_to(len),
            arrived: self.arrived,
        }
    }
}

/// Why a toxic stopped piping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The link is changing: what the toxic had not passed on is back in
    /// its stub's `held`, to be passed on when the link is rewired.
    Interrupted,
    /// The input ended (the source closed, or the toxic before this one
    /// finished): the end is passed on, after the data ahead of it.
    Finished,
    /// The toxic closes the connection, after the data ahead of it.
    Closed,
}

/// A toxic: moves chunks from a stub's input to its output, changing them
/// on the way, until the link changes or ends.
pub(crate) trait Pipe {
    /// Pipes until it stops; it never returns `Ok`.
    fn pipe(&self, stub: &mut Stub) -> impl Future<Output = Result<Infallible, Stop>> + Send;
}

/// The two sockets of a connection, for the toxics that act on the sockets
/// themselves. Weak: a connection closes when it ends, whatever a toxic holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Peers {
    sockets: [Weak<TcpStream>; 2],
}

impl Peers {
    /// The client's socket and the upstream's.
    pub(crate) fn new(client: &Arc<TcpStream>, upstream: &Arc<TcpStream>) -> Peers {
        Peers {
            sockets: [Arc::downgrade(client), Arc::downgrade(upstream)],
        }
    }

    /// The sockets still open.
    pub(crate) fn sockets(&self) -> impl Iterator<Item = Arc<TcpStream>> + '_ {
        self.sockets.iter().filter_map(Weak::upgrade)
    }
}

/// One toxic's place in a link: its input and output, the signal that the
/// link is changing, and its state on this connection, kept across changes.
#[derive(Debug)]
pub(crate) struct Stub {
    /// Chunks to pass on before reading `input`: what this toxic or the ones
    /// before it had not passed on when the link last changed.
    pub(crate) held: VecDeque<Chunk>,
    /// From the toxic before, or from the source.
    pub(crate) input: mpsc::Receiver<Chunk>,
    /// To the toxic after, or to the destination; `None` once ended.
    pub(crate) output: Option<mpsc::Sender<Chunk>>,
    /// Cancelled when the link changes or the connection ends.
    pub(crate) interrupt: CancellationToken,
    /// Set when a toxic closes the connection rather than passing the end on.
    pub(crate) closing: Arc<AtomicBool>,
    /// The connection's sockets.
    pub(crate) peers: Peers,
    /// This toxic's draws on this link.
    pub(crate) rng: ChaCha8Rng,
    /// When this toxic started (or was last updated) on this link.
    pub(crate) since: Instant,
    /// Bytes this toxic has passed on, on this link.
    pub(crate) passed: u64,
}

impl Stub {
    /// Takes the next chunk, held ones first.
    pub(crate) async fn recv(&mut self) -> Result<Chunk, Stop> {
        if let Some(chunk) = self.held.pop_front() {
            return Ok(chunk);
        }
        tokio::select! {
            biased;
            () = self.interrupt.cancelled() => Err(Stop::Interrupted),
            chunk = self.input.recv() => chunk.ok_or(Stop::Finished),
        }
    }

    /// Passes `chunk` on.
    pub(crate) async fn send(&mut self, chunk: Chunk) -> Result<(), Stop> {
        let len = chunk.data.len();
        self.send_front(chunk, len).await.map(drop)
    }

    /// Passes the first `len` bytes of `chunk` on, and returns the rest.
    pub(crate) async fn send_front(&mut self, mut chunk: Chunk, len: usize) -> Result<Chunk, Stop> {
        let Some(output) = &self.output else {
            return Err(Stop::Finished);
        };
        // Room is reserved before the chunk is cut, so that an interrupt
        // leaves the whole chunk to put back.
        let permit = tokio::select! {
            biased;
            () = self.interrupt.cancelled() => None,
            permit = output.reserve() => Some(permit),
        };
        match permit {
            None => {
                put_back(&mut self.held, chunk);
                Err(Stop::Interrupted)
            }
            // The next toxic is gone: the link is being torn down.
            Some(Err(_)) => Err(Stop::Finished),
            Some(Ok(permit)) => {
                let front = chunk.split_to(len);
                self.passed += front.data.len() as u64;
                permit.send(front);
                Ok(chunk)
            }
        }
    }

    /// Keeps `chunk` until `deadline`, then gives it back.
    pub(crate) async fn hold(&mut self, chunk: Chunk, deadline: Instant) -> Result<Chunk, Stop> {
        match self.sleep_until(deadline).await {
            Ok(()) => Ok(chunk),
            Err(stop) => {
                put_back(&mut self.held, chunk);
                Err(stop)
            }
        }
    }

    /// Waits until `deadline`.
    pub(crate) async fn sleep_until(&self, deadline: Instant) -> Result<(), Stop> {
        tokio::select! {
            biased;
            () = self.interrupt.cancelled() => Err(Stop::Interrupted),
            () = crate::timer::sleep_until(deadline) => Ok(()),
        }
    }

    /// Ends this toxic's output: the toxic after sees the input end, and,
    /// for [`Stop::Closed`], the connection closes once it is written out.
    pub(crate) fn end(&mut self, stop: Stop) {
        if stop == Stop::Closed {
            self.closing.store(true, Ordering::Release);
        }
        self.output = None;
    }
}

/// Returns `chunk` to the front of `held`, unless nothing is left of it.
fn put_back(held: &mut VecDeque<Chunk>, chunk: Chunk) {
    if !chunk.data.is_empty() {
        held.push_front(chunk);
    }
}

/// Scripted stubs for the toxics' unit tests.
#[cfg(test)]
pub(crate) mod script {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;

    /// A stub fed by the returned sender and read from the returned receiver.
    pub(crate) fn stub() -> (Stub, mpsc::Sender<Chunk>, mpsc::Receiver<Chunk>) {
        let (feed, input) = mpsc::channel(64);
        let (output, out) = mpsc::channel(64);
        let stub = Stub {
            held: VecDeque::new(),
            input,
            output: Some(output),
            interrupt: CancellationToken::new(),
            closing: Arc::default(),
            peers: Peers::default(),
            rng: ChaCha8Rng::seed_from_u64(0),
            since: Instant::now(),
            passed: 0,
        };
        (stub, feed, out)
    }

    /// Runs `toxic` over `stub` in a task of its own, ending its output as
    /// a link does; the task returns why it stopped.
    pub(crate) fn run<P: Pipe + Send + 'static>(
        toxic: P,
        mut stub: Stub,
    ) -> tokio::task::JoinHandle<(Stop, Stub)> {
        tokio::spawn(async move {
            let Err(stop) = toxic.pipe(&mut stub).await;
            if stop != Stop::Interrupted {
                stub.end(stop);
            }
            (stop, stub)
        })
    }
}
