//! Fault-injecting HTTP servers on loopback.
//!
//! See the README for the catalogue of faults and the command line.

pub mod cli;
mod classify;
pub mod fault;
pub mod journal;
pub mod request;
mod server;
mod wire;

pub use classify::{ErrorClass, TlsKind, UnknownClass, classify};
pub use fault::Fault;
pub use journal::{Attempt, Ending, Journal};
pub use request::RequestHead;
pub use server::{FaultServer, FaultServerBuilder, ServerError};
