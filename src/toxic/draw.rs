//! The random draws of toxics, reproducible: each toxic on each link of each
//! connection draws from a generator of its own, seeded from the proxy's
//! seed, the connection's index, the direction, the toxic's name and how
//! often it was updated, so the same seed replays the same run whatever the
//! timing.

use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::toxic::Direction;

/// Where a toxic's draws come from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DrawKey<'a> {
    /// The seed of the proxy's toxics.
    pub(crate) seed: u64,
    /// The connection's index, from 0, in the order the proxy accepted them.
    pub(crate) connection: u64,
    /// The link's direction.
    pub(crate) direction: Direction,
    /// The toxic's name.
    pub(crate) name: &'a str,
    /// How often the toxic was updated before this draw.
    pub(crate) generation: u64,
}

impl DrawKey<'_> {
    /// The toxic's generator on this link.
    pub(crate) fn rng(&self) -> ChaCha8Rng {
        // FNV-1a over every part of the key: stable across builds and
        // platforms, unlike the standard library's hasher.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let direction = [self.direction as u8];
        let parts: [&[u8]; 4] = [
            &self.connection.to_le_bytes(),
            &direction,
            &self.generation.to_le_bytes(),
            self.name.as_bytes(),
        ];
        for byte in parts.into_iter().flatten() {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
        ChaCha8Rng::seed_from_u64(self.seed ^ hash)
    }
}

/// A generator for what draws nothing.
pub(crate) fn unused() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(0)
}

/// True with probability `toxicity`: never for 0, always for 1.
pub(crate) fn acts(rng: &mut ChaCha8Rng, toxicity: f32) -> bool {
    // 24 random bits: every value of the draw is exact in an f32, below 1.
    let draw = (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32;
    draw < toxicity
}

/// A number drawn uniformly in `[-spread, spread)`; 0 when `spread` is not positive.
pub(crate) fn spread(rng: &mut ChaCha8Rng, spread: i64) -> i64 {
    if spread <= 0 {
        return 0;
    }
    let width = (spread as u64).saturating_mul(2);
    // The high half of a 128-bit product: uniform enough for any width.
    let offset = ((u128::from(rng.next_u64()) * u128::from(width)) >> 64) as u64;
    (offset as i64).wrapping_sub(spread)
}

/// `amount` of `unit`s as a duration, none when not positive, and at most
/// a year, which is as good as never for a test.
pub(crate) fn duration(amount: i64, unit: Duration) -> Duration {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    let amount = u32::try_from(amount.max(0)).unwrap_or(u32::MAX);
    unit.saturating_mul(amount).min(YEAR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(connection: u64) -> DrawKey<'static> {
        DrawKey {
            seed: 7,
            connection,
            direction: Direction::Downstream,
            name: "lag",
            generation: 0,
        }
    }

    #[test]
    fn the_same_key_draws_the_same_and_another_connection_draws_otherwise() {
        let draws = |k: DrawKey| {
            let mut rng = k.rng();
            (0..8).map(|_| spread(&mut rng, 1000)).collect::<Vec<_>>()
        };
        assert_eq!(draws(key(3)), draws(key(3)));
        assert_ne!(draws(key(3)), draws(key(4)));
    }

    #[test]
    fn toxicity_zero_never_acts_and_one_always_does() {
        let mut rng = key(0).rng();
        assert!((0..10_000).all(|_| !acts(&mut rng, 0.0)));
        assert!((0..10_000).all(|_| acts(&mut rng, 1.0)));
        let half = (0..10_000).filter(|_| acts(&mut rng, 0.5)).count();
        assert!((4_500..5_500).contains(&half), "{half} of 10000 at 0.5");
    }

    #[test]
    fn a_spread_stays_in_its_range() {
        let mut rng = key(0).rng();
        for _ in 0..10_000 {
            assert!((-3..3).contains(&spread(&mut rng, 3)));
        }
        assert_eq!(spread(&mut rng, 0), 0);
    }

    #[test]
    fn durations_are_clamped_to_none_and_a_year() {
        let ms = Duration::from_millis(1);
        assert_eq!(duration(-5, ms), Duration::ZERO);
        assert_eq!(duration(250, ms), Duration::from_millis(250));
        assert_eq!(
            duration(i64::MAX, Duration::from_secs(1)).as_secs(),
            365 * 24 * 3600
        );
    }
}
