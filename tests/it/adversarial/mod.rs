//! Adversarial tests: hostile clients, hostile scenario files, hostile client
//! programs, absurd parameters, and interruption at random moments. After each,
//! the checks in [`guard`] assert what `outage` promises: no panic, no leaked
//! process, fd or temporary file, bounded memory, and a report.

mod clients;
mod files;
mod guard;
mod programs;
mod serve;
mod served;
mod sizes;
