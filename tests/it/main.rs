//! Integration tests, built as one binary.

mod capture;
mod cli;
mod dns;
mod faults;
mod junk;
mod lifecycle;
mod offline;
mod scenarios;
mod support;
mod virtual_time;
