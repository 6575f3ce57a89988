//! `garbage`: bytes that are not HTTP.

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::fault::bulk::{self, Source};
use crate::fault::{BoxFuture, Fault, FaultLeaf, Handling, Misbehave, setters};
use crate::journal::Ending;

/// Reads the request, answers with `length` pseudo-random bytes drawn from
/// `seed`, then closes with a FIN. The same seed always gives the same bytes.
/// Clients report a malformed response. The bytes are drawn as they are sent,
/// so any length up to 10^15 costs the server one chunk of memory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Garbage {
    /// How many bytes to send, at most 10^15.
    #[serde(deserialize_with = "crate::fault::bulk::size")]
    pub length: usize,
    /// The seed the bytes are drawn from.
    pub seed: u64,
}

impl Default for Garbage {
    fn default() -> Self {
        Garbage {
            length: 256,
            seed: 0,
        }
    }
}

setters! {
    Garbage {
        /// How many bytes to send, at most 10^15 (default 256).
        length: usize,
        /// The seed the bytes are drawn from; the same seed sends the same bytes (default 0).
        seed: u64,
    }
}

impl Garbage {
    /// The first `count` bytes this fault sends (all of them when it sends
    /// fewer). The first is never `H`, so no run of bytes can start like a
    /// status line.
    pub fn bytes(&self, count: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut source = self.source().cut(count as u64);
        source.next_into(count, &mut bytes);
        bytes
    }

    fn source(&self) -> Source {
        Source::random(self.seed, self.length)
    }
}

impl Misbehave for Garbage {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            let action = format!(
                "sent {} garbage bytes (seed {}), then closed",
                self.length, self.seed
            );
            bulk::send_and_close(exchange, self.source(), action).await
        })
    }
}

impl Fault {
    /// `garbage`: random bytes in place of a response.
    pub fn garbage() -> Fault {
        Garbage::default().into()
    }
}

impl FaultLeaf for Garbage {
    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }

    fn validate(&self) -> Result<(), String> {
        bulk::check_size("garbage", "length", self.length)
    }

    fn seed(&self) -> Option<u64> {
        Some(self.seed)
    }
}

#[cfg(test)]
mod tests {
    use tokio_test::io::Builder;

    use super::*;
    use crate::fault::mock;

    #[test]
    fn same_seed_gives_same_bytes_and_other_seeds_differ() {
        let a = Garbage {
            length: 64,
            seed: 7,
        };
        assert_eq!(a.bytes(64), a.bytes(64));
        assert_ne!(a.bytes(64), Garbage { seed: 8, ..a }.bytes(64));
        assert_eq!(a.bytes(100).len(), 64);
    }

    #[test]
    fn a_huge_length_is_drawn_as_it_is_sent_and_past_the_limit_refused() {
        let huge = Garbage {
            length: 1_000_000_000_000,
            seed: 7,
        };
        assert!(huge.validate().is_ok());
        // The start of a terabyte is the start of any shorter run.
        assert_eq!(
            huge.bytes(64),
            Garbage {
                length: 64,
                seed: 7
            }
            .bytes(64)
        );
        let absurd = Garbage {
            length: usize::MAX,
            seed: 0,
        };
        assert_eq!(
            absurd.validate().unwrap_err(),
            "garbage `length` 18446744073709551615 is out of range; use 0 to 1000000000000000 bytes (1 PB)"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn garbage_sends_16_bytes_drawn_from_seed_7_then_fins() {
        let fault = Garbage {
            length: 16,
            seed: 7,
        };
        let bytes = b"\xbb\x43\xd7\x23\x34\x53\x65\x28\x3a\x29\x9b\x2e\xd3\x59\x01\x2b";
        let client = Builder::new().read(mock::GET).write(bytes).build();
        let (ending, _) = mock::misbehave(&fault, client).await;
        assert_eq!(ending, Ending::ServerFin);
    }
}
