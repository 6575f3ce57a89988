//! A proxy on loopback, for any fault, between a hostile client and a
//! hostile upstream: the input picks the fault and its parameters, the
//! client's bytes (raw, or requests with bodies framed every way), and the
//! upstream's answer (raw, or responses with interim heads, upgrades, bad
//! chunks, conflicting lengths, huge heads, bodies cut short, resets). The
//! proxy serves without a panic, stops within a bound, journals an ending
//! for every attempt, and counts each upstream leg's bytes consistently.
//! The checks are `outage::fuzzing::proxy`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| outage::fuzzing::proxy(data));
