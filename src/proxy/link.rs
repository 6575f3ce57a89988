//! One direction of one connection: a reader that cuts what the source
//! sends into chunks, the [`Chain`] of the direction's toxics, and a writer
//! that passes what comes out of it to the destination, then the end: a FIN
//! when the source closed, the close of the whole connection when a toxic
//! closed it or a socket failed.
//!
//! While the direction has no toxic, the link copies each chunk straight
//! from the source to the destination, as a bare forwarder does; the first
//! toxic to arrive starts the chain between two chunks, and the chain stays.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use socket2::SockRef;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use crate::proxy::chain::{CHUNKS_IN_FLIGHT, Chain, Wiring};
use crate::toxic::stub::Chunk;
use crate::toxic::{Toxic, Toxics};

/// The most a single read takes from the source.
const READ_SIZE: usize = 32 * 1024;

/// How a link ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// The source closed; everything it sent was written, then a FIN.
    Finished,
    /// The connection is to close: a toxic closed it, a socket failed, or
    /// the proxy is shutting down.
    Closed,
}

/// Where a link counts the bytes it reads and writes.
pub(super) struct Meters<'a> {
    /// Bytes read from the source.
    pub(super) received: &'a AtomicU64,
    /// Bytes written to the destination.
    pub(super) sent: &'a AtomicU64,
}

/// Moves bytes from `source` to `destination` through the toxics of the
/// wiring's direction, following their changes, until the link ends.
pub(super) async fn run(
    source: &TcpStream,
    destination: &TcpStream,
    toxics: &Toxics,
    wiring: Wiring,
    meters: Meters<'_>,
) -> Ending {
    // Subscribed before the first list is read, so no change is missed.
    let mut changes = toxics.watch();
    let direction = wiring.direction;
    let stop = wiring.stop.clone();
    let closing = wiring.closing.clone();
    let of_direction = |toxics: &Toxics| -> Vec<Toxic> {
        toxics
            .list()
            .into_iter()
            .filter(|t| t.stream == direction)
            .collect()
    };
    if of_direction(toxics).is_empty() {
        let plain = Plain {
            source,
            destination,
            closing: &closing,
            meters: &meters,
        };
        let has_toxics = || !of_direction(toxics).is_empty();
        tokio::select! {
            () = stop.cancelled() => return Ending::Closed,
            ended = plain.copy(&mut changes, has_toxics) => if let Some(ending) = ended {
                return ending;
            },
        }
    }
    let (input, chain_input) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let (chain_output, output) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let mut chain = Chain::start(wiring, of_direction(toxics), chain_input, chain_output);
    let reader = read(source, input, meters.received);
    let writer = write(destination, output, meters.sent);
    tokio::pin!(reader, writer);
    let mut reading = true;
    loop {
        tokio::select! {
            // A change before the next read, as in the plain copy.
            biased;
            () = stop.cancelled() => return Ending::Closed,
            Ok(()) = changes.changed() => chain.update(of_direction(toxics)).await,
            written = &mut writer => {
                return match written {
                    Ok(()) if !closing.load(Ordering::Acquire) => finish(destination),
                    _ => Ending::Closed,
                };
            }
            read = &mut reader, if reading => {
                reading = false;
                if read.is_err() {
                    closing.store(true, Ordering::Release);
                }
            }
        }
    }
}

/// A link while its direction has no toxic: each chunk goes straight from
/// the source to the destination, with no chain to cross.
struct Plain<'a> {
    source: &'a TcpStream,
    destination: &'a TcpStream,
    closing: &'a AtomicBool,
    meters: &'a Meters<'a>,
}

impl Plain<'_> {
    /// Copies until the source ends, or until a change makes `has_toxics`
    /// true (`None`): that is seen only between two chunks, so nothing is in
    /// flight when the chain takes over.
    async fn copy(
        &self,
        changes: &mut watch::Receiver<u64>,
        has_toxics: impl Fn() -> bool,
    ) -> Option<Ending> {
        let mut buf = vec![0; READ_SIZE];
        loop {
            let read = tokio::select! {
                // A change first: bytes that arrive after it meet its toxics,
                // as Toxiproxy promises once its API has answered.
                biased;
                Ok(()) = changes.changed() => match has_toxics() {
                    true => return None,
                    false => continue,
                },
                read = read_some(self.source, &mut buf) => read,
            };
            let n = match read {
                Ok(0) if !self.closing.load(Ordering::Acquire) => {
                    return Some(finish(self.destination));
                }
                Ok(0) | Err(_) => return Some(Ending::Closed),
                Ok(n) => n,
            };
            self.meters.received.fetch_add(n as u64, Ordering::Relaxed);
            if write_all(self.destination, &buf[..n], self.meters.sent)
                .await
                .is_err()
            {
                return Some(Ending::Closed);
            }
        }
    }
}

/// Passes the source's FIN on.
fn finish(destination: &TcpStream) -> Ending {
    match SockRef::from(destination).shutdown(std::net::Shutdown::Write) {
        Ok(()) => Ending::Finished,
        Err(_) => Ending::Closed,
    }
}

/// Reads the source into the chain until it ends. A full chain stops the
/// reading, so the source meets TCP's own back pressure.
async fn read(
    source: &TcpStream,
    input: mpsc::Sender<Chunk>,
    received: &AtomicU64,
) -> io::Result<()> {
    let mut buf = vec![0; READ_SIZE];
    loop {
        let Ok(room) = input.reserve().await else {
            return Ok(());
        };
        let n = read_some(source, &mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        received.fetch_add(n as u64, Ordering::Relaxed);
        room.send(Chunk::new(Bytes::copy_from_slice(&buf[..n])));
    }
}

async fn read_some(source: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        source.readable().await?;
        match source.try_read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            read => return read,
        }
    }
}

/// Writes what comes out of the chain until the chain ends.
async fn write(
    destination: &TcpStream,
    mut output: mpsc::Receiver<Chunk>,
    sent: &AtomicU64,
) -> io::Result<()> {
    while let Some(chunk) = output.recv().await {
        write_all(destination, &chunk.data, sent).await?;
    }
    Ok(())
}

/// Writes all of `data`, counting what leaves.
async fn write_all(destination: &TcpStream, mut data: &[u8], sent: &AtomicU64) -> io::Result<()> {
    while !data.is_empty() {
        destination.writable().await?;
        match destination.try_write(data) {
            Ok(n) => {
                data = &data[n..];
                sent.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
