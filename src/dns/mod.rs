//! DNS faults, with no traffic to any outside resolver.
//!
//! [`Names`] is a table from host names to what looking them up does: the
//! address of a fault server, or a [`DnsFault`]. Every name not in the table
//! is NXDOMAIN; nothing is ever forwarded. The same table serves two kinds of
//! client:
//!
//! - reqwest, in process: [`Names`] implements [`reqwest::dns::Resolve`], so
//!   `ClientBuilder::dns_resolver(names)` replaces the system resolver;
//! - any other program: `DnsResponder` (feature `dns-responder`) answers real DNS queries on a
//!   loopback address, port 53, and the runner starts the program in a private
//!   mount namespace whose `/etc/resolv.conf` names that responder.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use outage::dns::{DnsFault, Names};
//! use outage::{ErrorClass, Fault, FaultServer, classify};
//!
//! let server = FaultServer::start(Fault::status(503)).await?;
//! let names = Names::new(server.addr().ip())
//!     .with("api.outage.test", DnsFault::Server)
//!     .with("down.outage.test", DnsFault::Servfail);
//! let client = reqwest::Client::builder().no_proxy().dns_resolver(names).build()?;
//!
//! let port = server.addr().port();
//! let response = client.get(format!("http://api.outage.test:{port}/")).send().await?;
//! assert_eq!(response.status(), 503);
//! let error = client.get(format!("http://down.outage.test:{port}/")).send().await.unwrap_err();
//! assert_eq!(classify(&error), ErrorClass::Dns);
//! # Ok(()) }
//! ```

mod fault;
mod resolver;
#[cfg(feature = "dns-responder")]
mod responder;

use std::collections::BTreeMap;
use std::net::IpAddr;

pub use fault::{DnsFault, UnknownDnsFault};
pub use resolver::LookupFailed;
#[cfg(feature = "dns-responder")]
#[cfg_attr(docsrs, doc(cfg(feature = "dns-responder")))]
pub use responder::{DnsResponder, Query, ResponderError};

/// Names and what looking each one up does; any other name is NXDOMAIN.
#[derive(Debug, Clone, PartialEq)]
pub struct Names {
    /// The address [`DnsFault::Server`] and [`DnsFault::Slow`] resolve to.
    server: IpAddr,
    /// Each name, lowercase and without a trailing dot, and its fault.
    table: BTreeMap<String, DnsFault>,
}

impl Names {
    /// An empty table whose names, once added, resolve to `server`.
    pub fn new(server: IpAddr) -> Self {
        Names {
            server,
            table: BTreeMap::new(),
        }
    }

    /// Adds `name` with `fault`, replacing what it did before.
    pub fn with(mut self, name: &str, fault: DnsFault) -> Self {
        self.table.insert(normal(name), fault);
        self
    }

    /// The address names that resolve point at.
    pub fn server(&self) -> IpAddr {
        self.server
    }

    /// What looking up `name` does: its entry, or NXDOMAIN.
    pub fn fault_for(&self, name: &str) -> &DnsFault {
        self.table.get(&normal(name)).unwrap_or(&DnsFault::Nxdomain)
    }
}

/// DNS names compare without case and without the root's trailing dot.
fn normal(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Why `name` cannot be a host name: `None` when it can.
pub fn invalid_name(name: &str) -> Option<String> {
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if name.len() > 253 || !labels.iter().all(label_ok) {
        return Some(format!(
            "{name:?} is not a host name; use letters, digits, hyphens and dots, such as \"api.outage.test\""
        ));
    }
    if labels.len() < 2 {
        return Some(format!(
            "{name:?} has a single label, which resolvers treat specially; use a name under a reserved domain, such as \"{name}.outage.test\""
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_without_case_or_trailing_dot_and_unknown_names_are_nxdomain() {
        let names = Names::new([127, 0, 0, 1].into()).with("API.outage.test", DnsFault::Servfail);
        assert_eq!(names.fault_for("api.outage.test."), &DnsFault::Servfail);
        assert_eq!(names.fault_for("other.outage.test"), &DnsFault::Nxdomain);
    }

    #[test]
    fn host_names_are_checked() {
        assert_eq!(invalid_name("api.outage.test"), None);
        assert!(invalid_name("api.outage.test:8080").is_some());
        assert!(invalid_name("-bad.test").is_some());
        assert!(invalid_name("intranet").unwrap().contains("single label"));
    }
}
