//! A real server on loopback, for any fault: the input picks the fault and
//! every one of its parameters (in range and far out of it), then the bytes a
//! client sends. Validation refuses what cannot be served; what passes is
//! served without a panic, stops within a bound, and journals an ending for
//! every attempt. Slower than `request_head`, which fuzzes the parser alone.
//! The checks are `outage::fuzzing::server`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| outage::fuzzing::server(data));
