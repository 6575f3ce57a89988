//! Probe output: any text a client prints gives an outcome or none, never a
//! panic, and the outcome is the one the last probe line alone gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use outage::runner::probe;

fuzz_target!(|data: &[u8]| {
    let stdout = String::from_utf8_lossy(data);
    let outcome = probe::parse(&stdout);
    if let Some(outcome) = &outcome {
        let _ = outcome.to_string();
    }
    // Output after the last probe line that is not itself a probe line never
    // changes the outcome.
    let trailed = format!("{stdout}\nclient done {{\n");
    assert_eq!(
        probe::parse(&trailed),
        outcome,
        "trailing noise changed the outcome"
    );
});
