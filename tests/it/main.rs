//! Integration tests, built as one binary.

mod adversarial;
mod capture;
mod cli;
mod dns;
mod faults;
mod http_faults;
mod httpbin;
mod junk;
mod lifecycle;
mod offline;
mod routes;
mod scenarios;
mod support;
mod tls;
mod virtual_time;
