//! `Shape`: what a fault does to an upstream's real response when the server
//! is a proxy. Each fault that shapes a response says how in its own leaf
//! ([`FaultLeaf::shape`](super::FaultLeaf::shape)); the relay applies it.
//!
//! Parameters that describe a made-up body (`size`, `body`, a promised
//! `length`) have no meaning in front of an upstream: the body is the
//! upstream's own.

use std::time::Duration;

/// How a proxied response is paced, cut and closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Shape {
    /// A wait before the response's head is sent.
    pub(crate) head_delay: Duration,
    /// How the response's bytes are spread out in time.
    pub(crate) pace: Pace,
    /// Where the response stops short.
    pub(crate) cut: Cut,
    /// A wait, after the whole response, before the connection closes.
    pub(crate) close_delay: Option<Duration>,
}

/// How a proxied response's bytes are spread out in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Pace {
    /// As they come.
    #[default]
    AsTheyCome,
    /// The head at once, then the body one byte per interval.
    Drip(Duration),
    /// Every byte at this many bytes per second.
    Rate(u64),
    /// Writes of this many bytes, this far apart.
    Slices(usize, Duration),
}

/// Where a proxied response stops short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Cut {
    /// It does not: the whole response is sent.
    #[default]
    Never,
    /// A FIN after this many body bytes, kept short of the whole body.
    BodyBytes(u64),
    /// A FIN inside the first chunk of a chunked body, after at most this
    /// many of its data bytes; a body that is not chunked is cut like
    /// `BodyBytes`.
    InFirstChunk(u64),
    /// A FIN after this many bytes of the response, its head included.
    Bytes(u64),
    /// An RST after this many body bytes, kept short of the whole body.
    ResetAfterBody(u64),
    /// An RST once the upstream's head has arrived, before any of it is sent.
    ResetBeforeHead,
}

/// How long `rate` bytes per second take to carry `bytes` bytes, rounded
/// up to the nanosecond; `None` past what a `Duration` holds.
pub(crate) fn time_at_rate(bytes: u64, rate: u64) -> Option<Duration> {
    let nanos = (u128::from(bytes) * 1_000_000_000).div_ceil(u128::from(rate.max(1)));
    u64::try_from(nanos).ok().map(Duration::from_nanos)
}

impl Shape {
    /// The response as the upstream sent it.
    pub(crate) const PASS: Shape = Shape {
        head_delay: Duration::ZERO,
        pace: Pace::AsTheyCome,
        cut: Cut::Never,
        close_delay: None,
    };

    /// True when the connection can carry the next request afterwards.
    pub(crate) fn keeps_alive(&self) -> bool {
        self.cut == Cut::Never && self.close_delay.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_to_carry_bytes_rounds_up_and_never_overflows() {
        assert_eq!(time_at_rate(94, 100), Some(Duration::from_millis(940)));
        assert_eq!(time_at_rate(1, 3), Some(Duration::from_nanos(333_333_334)));
        assert_eq!(time_at_rate(0, 0), Some(Duration::ZERO));
        assert_eq!(time_at_rate(u64::MAX, 1), None);
        assert!(time_at_rate(u64::MAX, u64::MAX).is_some());
    }
}
