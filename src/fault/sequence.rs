//! `sequence`: one fault per attempt, the last repeating.

use serde::{Deserialize, Serialize};

use crate::fault::{Fault, FaultLeaf, Handling, Pick};

/// Applies `steps[i]` to attempt `i`, and the last step to every attempt after
/// that. `[reset, status 503, ok]` fails twice, then succeeds: the building
/// block of retry tests.
///
/// Attempts are numbered across connections in the order the server sees
/// them, and each request on a kept-alive connection is its own attempt.
/// Listener faults (`refuse`, `blackhole`, `wrong-port`) cannot be steps: the
/// kernel turns those attempts away before the server sees them, so the server
/// could never count them to know when to move on.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Sequence {
    /// The faults, in attempt order.
    pub steps: Vec<Fault>,
}

impl Default for Sequence {
    fn default() -> Self {
        Sequence {
            steps: vec![Fault::reset(), Fault::status(503), Fault::ok()],
        }
    }
}

impl Sequence {
    /// The faults, in attempt order, the last one repeating; at least one,
    /// none of them a sequence or a listener fault (default `reset`,
    /// `status 503`, `ok`).
    pub fn steps(mut self, steps: impl IntoIterator<Item = Fault>) -> Self {
        self.steps = steps.into_iter().collect();
        self
    }
}

impl Pick for Sequence {
    fn pick(&self, attempt: u64) -> &Fault {
        let last = self.steps.len().saturating_sub(1);
        &self.steps[usize::try_from(attempt).unwrap_or(usize::MAX).min(last)]
    }
}

impl FaultLeaf for Sequence {
    fn handling(&self) -> Handling<'_> {
        Handling::Pick(self)
    }

    fn validate(&self) -> Result<(), String> {
        if self.steps.is_empty() {
            return Err("sequence has no steps; give at least one fault in `steps`".to_owned());
        }
        for (i, step) in self.steps.iter().enumerate() {
            if let Fault::Sequence(_) = step {
                return Err(format!(
                    "sequence step {i} is itself a sequence; list its steps in the outer sequence instead"
                ));
            }
            if step.is_listener_fault() {
                return Err(format!(
                    "sequence step {i} is {:?}, which happens in the kernel before the server sees an attempt, \
                     so it cannot be counted; use \"reset\" with when = \"on-accept\" or \"hang-on-accept\" instead",
                    step.name()
                ));
            }
            step.validate()
                .map_err(|e| format!("sequence step {i}: {}", e.reason))?;
        }
        Ok(())
    }

    fn seed(&self) -> Option<u64> {
        self.steps.iter().find_map(Fault::seed)
    }

    fn is_tls(&self) -> bool {
        self.steps.iter().any(Fault::is_tls)
    }

    fn is_http2(&self) -> bool {
        self.steps.iter().any(Fault::is_http2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_step_repeats_for_every_later_attempt() {
        let sequence = Sequence {
            steps: vec![Fault::reset(), Fault::ok()],
        };
        let names: Vec<_> = (0..4).map(|i| sequence.pick(i).name()).collect();
        assert_eq!(names, ["reset", "ok", "ok", "ok"]);
    }

    #[test]
    fn listener_faults_nested_sequences_and_empty_lists_are_rejected() {
        let refuse = Sequence {
            steps: vec![Fault::ok(), Fault::refuse()],
        }
        .validate()
        .unwrap_err();
        assert!(
            refuse.starts_with("sequence step 1 is \"refuse\", which happens in the kernel"),
            "{refuse}"
        );
        let nested = Sequence {
            steps: vec![Fault::sequence([Fault::ok()])],
        }
        .validate()
        .unwrap_err();
        assert!(nested.contains("is itself a sequence"), "{nested}");
        assert!(
            Sequence { steps: vec![] }
                .validate()
                .unwrap_err()
                .contains("no steps")
        );
    }

    #[test]
    fn an_invalid_step_is_reported_with_its_position() {
        let error = Sequence {
            steps: vec![Fault::ok(), Fault::status(42)],
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            error,
            "sequence step 1: status code 42 cannot be a final response; use 200 to 999"
        );
    }
}
