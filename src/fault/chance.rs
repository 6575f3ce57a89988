//! `chance`: a fault that strikes some attempts at random, reproducibly.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::fault::{Fault, FaultLeaf, Handling, Pick, setters};

/// Applies `fault` to each attempt with probability `probability`, and
/// `otherwise` to the rest. Each attempt's draw comes from `seed` and the
/// attempt's index alone, so the same seed gives the same faults on the same
/// attempts however requests interleave: a failing run replays exactly.
///
/// ```
/// use outage::Fault;
/// use outage::fault::{Chance, Status};
///
/// // One attempt in five meets a 503; the rest are healthy.
/// let flaky = Chance::default().probability(0.2).fault(Status::code(503)).seed(7);
/// assert_eq!(*flaky.otherwise, Fault::ok());
/// assert!(Fault::from(flaky).validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Chance {
    /// How likely each attempt is to meet `fault`, from 0 to 1.
    pub probability: f64,
    /// The fault some attempts meet.
    pub fault: Box<Fault>,
    /// What the other attempts meet.
    pub otherwise: Box<Fault>,
    /// The seed of the draws.
    pub seed: u64,
}

impl Default for Chance {
    fn default() -> Self {
        Chance {
            probability: 0.5,
            fault: Box::new(Fault::reset()),
            otherwise: Box::new(Fault::ok()),
            seed: 0,
        }
    }
}

setters! {
    Chance {
        /// How likely each attempt is to meet `fault`, from 0 to 1 (default 0.5).
        probability: f64,
        /// The seed of the draws; the same seed strikes the same attempts (default 0).
        seed: u64,
    }
}

impl Chance {
    /// The fault some attempts meet: one of a single connection, not a
    /// sequence, a chance or a listener fault (default `reset`).
    pub fn fault(mut self, fault: impl Into<Fault>) -> Self {
        self.fault = Box::new(fault.into());
        self
    }

    /// What the other attempts meet, a fault of the same kinds as `fault`
    /// (default `ok`).
    pub fn otherwise(mut self, otherwise: impl Into<Fault>) -> Self {
        self.otherwise = Box::new(otherwise.into());
        self
    }

    /// True when attempt `index` meets `fault`.
    pub fn strikes(&self, index: u64) -> bool {
        // Spread consecutive indexes over the seed space, so that neighbouring
        // attempts draw from unrelated streams.
        let stream = self.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let draw = ChaCha8Rng::seed_from_u64(stream).next_u64() as f64 / u64::MAX as f64;
        draw < self.probability
    }
}

impl Pick for Chance {
    fn pick(&self, attempt: u64) -> &Fault {
        if self.strikes(attempt) {
            &self.fault
        } else {
            &self.otherwise
        }
    }
}

impl Fault {
    /// `chance`: `fault` for attempts drawn with `probability` (from 0 to 1,
    /// from seed 0), `otherwise` for the rest. For another seed, build a
    /// [`Chance`] with its setters: `Chance::default().probability(0.3).seed(7)`.
    pub fn chance(probability: f64, fault: Fault, otherwise: Fault) -> Fault {
        Chance {
            probability,
            fault: Box::new(fault),
            otherwise: Box::new(otherwise),
            ..Chance::default()
        }
        .into()
    }
}

impl FaultLeaf for Chance {
    fn handling(&self) -> Handling<'_> {
        Handling::Pick(self)
    }

    fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(format!(
                "chance probability {} must be from 0 to 1",
                self.probability
            ));
        }
        for (key, fault) in [("fault", &self.fault), ("otherwise", &self.otherwise)] {
            if matches!(**fault, Fault::Sequence(_) | Fault::Chance(_)) || fault.is_listener_fault()
            {
                return Err(format!(
                    "chance `{key}` is {:?}; it must be a fault of a single connection, not a sequence, a chance or a listener fault",
                    fault.name()
                ));
            }
            fault
                .validate()
                .map_err(|e| format!("chance `{key}`: {}", e.reason))?;
        }
        Ok(())
    }

    fn seed(&self) -> Option<u64> {
        Some(self.seed)
    }

    fn is_tls(&self) -> bool {
        self.fault.is_tls() || self.otherwise.is_tls()
    }

    fn is_http2(&self) -> bool {
        self.fault.is_http2() || self.otherwise.is_http2()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chance(probability: f64, seed: u64) -> Chance {
        Chance {
            probability,
            seed,
            ..Chance::default()
        }
    }

    #[test]
    fn the_constructor_gives_chance_with_its_defaults() {
        let built = Fault::chance(0.5, Fault::reset(), Fault::ok());
        assert_eq!(Fault::named("chance").as_ref(), Ok(&built));
    }

    #[test]
    fn the_same_seed_strikes_the_same_attempts() {
        let picks = |c: &Chance| (0..64).map(|i| c.strikes(i)).collect::<Vec<_>>();
        assert_eq!(picks(&chance(0.5, 7)), picks(&chance(0.5, 7)));
        assert_ne!(picks(&chance(0.5, 7)), picks(&chance(0.5, 8)));
    }

    #[test]
    fn the_probability_sets_the_share_of_struck_attempts() {
        assert!((0..1000).all(|i| !chance(0.0, 1).strikes(i)));
        assert!((0..1000).all(|i| chance(1.0, 1).strikes(i)));
        let struck = (0..10_000).filter(|i| chance(0.3, 1).strikes(*i)).count();
        assert!((2_800..3_200).contains(&struck), "{struck} of 10,000");
    }

    #[test]
    fn nested_and_listener_faults_are_rejected() {
        let nested = Chance {
            fault: Box::new(Fault::sequence([Fault::ok()])),
            ..Chance::default()
        };
        assert!(nested.validate().unwrap_err().contains("not a sequence"));
        let refuse = Chance {
            otherwise: Box::new(Fault::refuse()),
            ..Chance::default()
        };
        assert!(
            refuse
                .validate()
                .unwrap_err()
                .starts_with("chance `otherwise` is \"refuse\"")
        );
        assert!(chance(1.5, 0).validate().is_err());
    }
}
