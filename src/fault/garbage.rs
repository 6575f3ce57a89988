//! `garbage`: bytes that are not HTTP.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde::Deserialize;

use crate::fault::{BoxFuture, Misbehave};
use crate::journal::Ending;
use crate::server::Exchange;

/// Reads the request, answers with `length` pseudo-random bytes drawn from
/// `seed`, then closes with a FIN. The same seed always gives the same bytes.
/// Clients report a malformed response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Garbage {
    /// How many bytes to send.
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

impl Garbage {
    /// The bytes this fault sends. The first is never `H`, so no run of bytes
    /// can start like a status line.
    pub fn bytes(&self) -> Vec<u8> {
        let mut bytes = vec![0u8; self.length];
        ChaCha8Rng::seed_from_u64(self.seed).fill_bytes(&mut bytes);
        if let Some(first @ b'H') = bytes.first_mut() {
            *first = b'\x00';
        }
        bytes
    }
}

impl Misbehave for Garbage {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            if let Err(ending) = exchange.request().await {
                return ending;
            }
            exchange
                .send_and_close(
                    &self.bytes(),
                    format!(
                        "sent {} garbage bytes (seed {}), then closed",
                        self.length, self.seed
                    ),
                )
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_bytes_and_other_seeds_differ() {
        let a = Garbage {
            length: 64,
            seed: 7,
        };
        assert_eq!(a.bytes(), a.bytes());
        assert_ne!(
            a.bytes(),
            Garbage {
                length: 64,
                seed: 8
            }
            .bytes()
        );
        assert_eq!(a.bytes().len(), 64);
    }
}
