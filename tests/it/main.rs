//! Integration tests, built as one binary. The tests of the library run with
//! its default features; those of the runner, the DNS responder, the
//! Toxiproxy API and the command line need their features (`cargo test
//! --all-features`).

#[cfg(feature = "cli")]
mod adversarial;
#[cfg(feature = "runner")]
mod browser;
#[cfg(feature = "cli")]
mod capture;
#[cfg(feature = "cli")]
mod cli;
mod dns;
#[cfg(feature = "dns-responder")]
mod dns_responder;
mod faults;
mod http2;
mod http_faults;
mod httpbin;
mod junk;
mod lifecycle;
#[cfg(feature = "runner")]
mod matrix;
#[cfg(feature = "cli")]
mod offline;
mod on_time;
mod proxy;
mod routes;
#[cfg(feature = "cli")]
mod scenarios;
mod support;
mod tls;
mod toxics;
#[cfg(feature = "toxiproxy-api")]
mod toxiproxy_api;
#[cfg(feature = "cli")]
mod toxiproxy_clients;
mod virtual_time;
