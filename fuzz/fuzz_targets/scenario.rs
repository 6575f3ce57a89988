//! `outage::fuzzing::scenario`: the checks live in the library, so that the normal
//! test suite replays the inputs this target failed on.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| outage::fuzzing::scenario(data));
