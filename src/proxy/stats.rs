//! The counters of a proxy, for metrics: bytes each way and connections.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::toxic::Direction;

/// The bytes of one direction, since the proxy was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DirectionStats {
    /// Bytes read from the source (the client upstream, the server downstream).
    pub received: u64,
    /// Bytes written to the destination, after the toxics.
    pub sent: u64,
}

/// What a proxy has carried since it was made, across disabling and
/// enabling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyStats {
    /// From the clients to the upstream.
    pub upstream: DirectionStats,
    /// From the upstream to the clients.
    pub downstream: DirectionStats,
    /// Connections proxied (the upstream accepted them), each with one link
    /// per direction.
    pub connections: u64,
    /// Connections open now.
    pub open: u64,
}

/// The live counters behind [`ProxyStats`].
#[derive(Debug, Default)]
pub(super) struct Counters {
    upstream: DirectionCounters,
    downstream: DirectionCounters,
    connections: AtomicU64,
    open: AtomicU64,
}

/// The live counters of one direction.
#[derive(Debug, Default)]
pub(super) struct DirectionCounters {
    /// Bytes read from the source.
    pub(super) received: AtomicU64,
    /// Bytes written to the destination.
    pub(super) sent: AtomicU64,
}

impl Counters {
    pub(super) fn direction(&self, direction: Direction) -> &DirectionCounters {
        match direction {
            Direction::Upstream => &self.upstream,
            Direction::Downstream => &self.downstream,
        }
    }

    pub(super) fn opened(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
        self.open.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn closed(&self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self) -> ProxyStats {
        let direction = |d: &DirectionCounters| DirectionStats {
            received: d.received.load(Ordering::Relaxed),
            sent: d.sent.load(Ordering::Relaxed),
        };
        ProxyStats {
            upstream: direction(&self.upstream),
            downstream: direction(&self.downstream),
            connections: self.connections.load(Ordering::Relaxed),
            open: self.open.load(Ordering::Relaxed),
        }
    }
}
