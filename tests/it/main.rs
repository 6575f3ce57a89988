//! Integration tests, built as one binary.

mod cli;
mod faults;
mod junk;
mod lifecycle;
mod scenarios;
mod support;
mod tls;
mod virtual_time;
