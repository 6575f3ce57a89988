//! Fault-injecting HTTP servers on loopback.
//!
//! Code that talks to other services fails in a handful of ways: the port is
//! closed, the connection hangs, the peer resets it, the body stops half way,
//! the server answers 500 or garbage. `outage` makes each of those failures
//! real, on `127.0.0.1`, on demand, and records what the client did.
//!
//! # Getting started
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use outage::{Ending, ErrorClass, Fault, FaultServer, classify};
//!
//! // Fail twice, then succeed: the building block of a retry test.
//! let server = FaultServer::start(Fault::sequence([Fault::reset(), Fault::status(503), Fault::ok()])).await?;
//! // No idle connections kept: each attempt's connection closes after its
//! // answer, so the journal sees every attempt end. (With a pooled client,
//! // the last attempt ends when the client is dropped.)
//! let client = reqwest::Client::builder().pool_max_idle_per_host(0).build()?;
//!
//! let first = client.get(server.url()).send().await.unwrap_err();
//! assert_eq!(classify(&first), ErrorClass::Reset);
//! assert_eq!(client.get(server.url()).send().await?.status(), 503);
//! assert_eq!(client.get(server.url()).send().await?.status(), 200);
//!
//! // The server saw three attempts; the first ended with an RST.
//! let attempts = server.journal().settled(3, Duration::from_secs(5)).await?;
//! assert_eq!(attempts[0].ending, Some(Ending::ServerRst));
//! # Ok(()) }
//! ```
//!
//! # Faults
//!
//! [`Fault`] is the whole vocabulary: one variant per failure, each with
//! defaults for every parameter. The same names, in kebab-case, are used in
//! TOML and on the command line (`outage serve reset`). Listener faults
//! (`refuse`, `blackhole`, `wrong-port`) act in the kernel before a connection
//! exists; responders (`ok`, `status`, `slow-headers`, `drip`, the redirects
//! and `bad-encoding`) are served by hyper; transport faults take over the raw
//! connection. `routes` picks a fault per request path, and `ok` also answers
//! httpbin's routes (`/status/503`, `/delay/2` ...). [`fault::CATALOGUE`]
//! lists them all with what happens on the wire and what clients see.
//!
//! # TLS
//!
//! The `tls-*` faults serve `https` with a certificate that is wrong in one
//! way (expired, for another host, from an unknown CA ...) or break the
//! handshake itself, and [`FaultServerBuilder::tls`] serves any other fault
//! behind TLS. Each https server makes a throwaway CA when it starts and
//! exports its certificate ([`FaultServer::ca_pem`]), so a client can trust it
//! and meet exactly the fault.
//!
//! # The journal
//!
//! Every [`FaultServer`] keeps a [`Journal`]: one [`Attempt`] per connection,
//! or per request on a kept-alive connection, with its timing on tokio's clock,
//! the request head, bytes in and out, what the fault did, and how the
//! connection ended ([`Ending`]: FIN or RST, from which side). Call
//! [`Journal::settled`] before asserting on it: a client can see its error a
//! moment before the server has recorded the close.
//!
//! # Proxies
//!
//! [`FaultServerBuilder::upstream`] puts a fault in front of a real service:
//! `ok` passes HTTP/1.1 through byte for byte, the faults that shape a
//! response act on the service's real one, the others answer in its place,
//! and each attempt's [`UpstreamLeg`] says how the service was reached.
//! [`proxy::ToxicProxy`] is a TCP proxy with Toxiproxy's toxics
//! ([`toxic`]), for any protocol; the `toxiproxy-api` feature serves
//! Toxiproxy's HTTP API over such proxies, for Toxiproxy's own clients.
//!
//! # Error classes
//!
//! [`ErrorClass`] names a failure the same way whatever the client, and
//! [`classify`] places a `reqwest::Error` in it.
//!
//! # Features
//!
//! The default features are the library a test needs, and they turn on no
//! feature of reqwest, so the client under test is built as in production.
//! The tool sits behind features: `runner` (scenario files and the runner),
//! `dns-responder` (the loopback DNS responder), `junit` (JUnit reports),
//! `toxiproxy-api` (Toxiproxy's HTTP API) and `cli` (the `outage` command,
//! with all of them).
//!
//! # Module map
//!
//! - [`fault`]: the `Fault` enum and one module per fault;
//! - [`dns`]: DNS faults, answered in process for reqwest and by a loopback
//!   responder for other programs;
//! - [`journal`]: attempts and how they ended;
//! - [`proxy`]: `ToxicProxy`, a TCP proxy whose toxics change the bytes each way;
//! - [`toxic`]: Toxiproxy's toxics, one module each, and the live set of a proxy;
//! - `toxiproxy` (feature `toxiproxy-api`): Toxiproxy's HTTP API over `ToxicProxy`s;
//! - [`request`]: the request head as read from the client;
//! - [`schedule`]: retry schedules checked against a journal;
//! - `scenario` (feature `runner`): scenario files, loaded with every error located;
//! - `runner` (feature `runner`): running scenarios against their faults and clients;
//! - `matrix` (feature `runner`): every fault against every client, as Markdown or HTML;
//! - `toxiproxy` (feature `toxiproxy-api`): Toxiproxy's HTTP API, served over
//!   the TCP proxies;
//! - `cli` (feature `cli`): the `outage` command line;
//! - `server` (private): the accept loop, TLS handshakes, hyper serving, the raw
//!   connection, and the relay of a server with an upstream;
//! - `tls` (private): the throwaway CA and certificates of https servers;
//! - `timer` (private): waits that end within a fraction of a millisecond of
//!   their deadline, for every fault that waits.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod classify;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod cli;
mod conn;
pub mod dns;
mod duration;
pub mod fault;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod fuzzing;
pub mod journal;
#[cfg(feature = "runner")]
#[cfg_attr(docsrs, doc(cfg(feature = "runner")))]
pub mod matrix;
pub mod proxy;
pub mod request;
#[cfg(feature = "runner")]
#[cfg_attr(docsrs, doc(cfg(feature = "runner")))]
pub mod runner;
#[cfg(feature = "runner")]
#[cfg_attr(docsrs, doc(cfg(feature = "runner")))]
pub mod scenario;
pub mod schedule;
mod server;
mod timer;
mod tls;
pub mod toxic;
#[cfg(feature = "toxiproxy-api")]
#[cfg_attr(docsrs, doc(cfg(feature = "toxiproxy-api")))]
pub mod toxiproxy;
mod words;

pub use classify::{ErrorClass, TlsKind, UnknownClass, classify};
pub use fault::Fault;
pub use journal::{
    Attempt, Ending, Http2Code, Http2Frame, Http2Stream, Journal, NotSettled, UpstreamConnection,
    UpstreamLeg,
};
pub use request::RequestHead;
pub use schedule::{Jitter, Retries, RetryMismatch};
#[doc(hidden)]
pub use server::PanicAt;
pub use server::{FaultServer, FaultServerBuilder, ServerError};

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
