//! Integration tests, built as one binary.

mod cli;
mod faults;
mod http_faults;
mod httpbin;
mod junk;
mod lifecycle;
mod routes;
mod scenarios;
mod support;
mod tls;
mod virtual_time;
