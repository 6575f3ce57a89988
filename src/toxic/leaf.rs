//! The one dispatch from a [`ToxicKind`] to the code of its toxic, and the
//! `noop` toxic, which a toxic that does not act on a connection runs too.

use std::convert::Infallible;

use crate::toxic::ToxicKind;
use crate::toxic::bandwidth::Bandwidth;
use crate::toxic::latency::Latency;
use crate::toxic::limit_data::LimitData;
use crate::toxic::reset_peer::ResetPeer;
use crate::toxic::slicer::Slicer;
use crate::toxic::slow_close::SlowClose;
use crate::toxic::stub::{Pipe, Stop, Stub};
use crate::toxic::timeout::Timeout;

/// What removing a toxic from a live link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    /// The toxic leaves the chain; what it held passes on.
    Detach,
    /// The connection closes.
    CloseLink,
}

/// A toxic that acts when it is removed, as Toxiproxy's `CleanupToxic`.
pub(crate) trait Cleanup {
    /// What removing it from a link where it acts does.
    fn on_removal(&self) -> Removal;
}

/// Passes every chunk on as it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Noop;

impl Pipe for Noop {
    async fn pipe(&self, stub: &mut Stub) -> Result<Infallible, Stop> {
        loop {
            let chunk = stub.recv().await?;
            stub.send(chunk).await?;
        }
    }
}

/// The code of one toxic, with its attributes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Leaf {
    /// `noop`, and any toxic where it does not act.
    Noop(Noop),
    /// `latency`.
    Latency(Latency),
    /// `bandwidth`.
    Bandwidth(Bandwidth),
    /// `slow_close`.
    SlowClose(SlowClose),
    /// `timeout`.
    Timeout(Timeout),
    /// `reset_peer`.
    ResetPeer(ResetPeer),
    /// `slicer`.
    Slicer(Slicer),
    /// `limit_data`.
    LimitData(LimitData),
}

impl Leaf {
    /// The toxic of `kind`.
    pub(crate) fn of(kind: &ToxicKind) -> Leaf {
        match *kind {
            ToxicKind::Latency { latency, jitter } => Leaf::Latency(Latency { latency, jitter }),
            ToxicKind::Bandwidth { rate } => Leaf::Bandwidth(Bandwidth { rate }),
            ToxicKind::SlowClose { delay } => Leaf::SlowClose(SlowClose { delay }),
            ToxicKind::Timeout { timeout } => Leaf::Timeout(Timeout { timeout }),
            ToxicKind::ResetPeer { timeout } => Leaf::ResetPeer(ResetPeer { timeout }),
            ToxicKind::Slicer {
                average_size,
                size_variation,
                delay,
            } => Leaf::Slicer(Slicer {
                average_size,
                size_variation,
                delay,
            }),
            ToxicKind::LimitData { bytes } => Leaf::LimitData(LimitData { bytes }),
            ToxicKind::Noop {} => Leaf::Noop(Noop),
        }
    }

    /// What removing it from a link where it acts does.
    pub(crate) fn on_removal(&self) -> Removal {
        match self {
            Leaf::Timeout(timeout) => timeout.on_removal(),
            _ => Removal::Detach,
        }
    }
}

impl Pipe for Leaf {
    async fn pipe(&self, stub: &mut Stub) -> Result<Infallible, Stop> {
        match self {
            Leaf::Noop(toxic) => toxic.pipe(stub).await,
            Leaf::Latency(toxic) => toxic.pipe(stub).await,
            Leaf::Bandwidth(toxic) => toxic.pipe(stub).await,
            Leaf::SlowClose(toxic) => toxic.pipe(stub).await,
            Leaf::Timeout(toxic) => toxic.pipe(stub).await,
            Leaf::ResetPeer(toxic) => toxic.pipe(stub).await,
            Leaf::Slicer(toxic) => toxic.pipe(stub).await,
            Leaf::LimitData(toxic) => toxic.pipe(stub).await,
        }
    }
}
