//! Integration tests, built as one binary.

mod cli;
mod dns;
mod faults;
mod junk;
mod lifecycle;
mod scenarios;
mod support;
mod virtual_time;
