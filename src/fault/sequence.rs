//! `sequence`: one fault per attempt, the last repeating.

use serde::Deserialize;

use crate::fault::Fault;

/// Applies `steps[i]` to attempt `i`, and the last step to every attempt after
/// that. `[reset, status 503, ok]` fails twice, then succeeds: the building
/// block of retry tests.
///
/// Attempts are numbered across connections in the order the server sees
/// them, and each request on a kept-alive connection is its own attempt.
/// Listener faults (`refuse`, `blackhole`, `wrong-port`) cannot be steps: the
/// kernel turns those attempts away before the server sees them, so the server
/// could never count them to know when to move on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sequence {
    /// The faults, in attempt order.
    pub steps: Vec<Fault>,
}

impl Default for Sequence {
    fn default() -> Self {
        Sequence { steps: vec![Fault::reset(), Fault::status(503), Fault::ok()] }
    }
}

impl Sequence {
    pub(crate) fn step(&self, index: u64) -> &Fault {
        let last = self.steps.len().saturating_sub(1);
        &self.steps[(index as usize).min(last)]
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.steps.is_empty() {
            return Err("sequence has no steps; give at least one fault in `steps`".to_owned());
        }
        for (i, step) in self.steps.iter().enumerate() {
            if let Fault::Sequence(_) = step {
                return Err(format!("sequence step {i} is itself a sequence; list its steps in the outer sequence instead"));
            }
            if step.is_listener_fault() {
                return Err(format!(
                    "sequence step {i} is {:?}, which happens in the kernel before the server sees an attempt, \
                     so it cannot be counted; use \"reset\" with when = \"on-accept\" or \"hang-on-accept\" instead",
                    step.name()
                ));
            }
            step.validate().map_err(|e| format!("sequence step {i}: {e}"))?;
        }
        Ok(())
    }
}
