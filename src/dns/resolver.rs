//! [`Names`] as reqwest's resolver: lookups answered in process, without
//! `getaddrinfo` and without any packet.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::dns::{DnsFault, Names};

/// A lookup that failed as a DNS server would have failed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot resolve {name:?}: {answer}")]
pub struct LookupFailed {
    /// The name looked up.
    pub name: String,
    /// The answer, in DNS terms: `NXDOMAIN (no such name)` or
    /// `SERVFAIL (the resolver failed)`.
    pub answer: &'static str,
}

impl Resolve for Names {
    fn resolve(&self, name: Name) -> Resolving {
        let name = name.as_str().to_owned();
        let fault = self.fault_for(&name).clone();
        // hyper's connector replaces the port with the URL's, so 0 is a placeholder.
        let addrs = || -> Addrs { Box::new(std::iter::once(SocketAddr::new(self.server(), 0))) };
        let resolved = addrs();
        let failed = |answer| Err(Box::new(LookupFailed { name, answer }) as _);
        match fault {
            DnsFault::Server => Box::pin(std::future::ready(Ok(resolved))),
            DnsFault::Nxdomain => Box::pin(std::future::ready(failed("NXDOMAIN (no such name)"))),
            DnsFault::Servfail => {
                Box::pin(std::future::ready(failed("SERVFAIL (the resolver failed)")))
            }
            // Only a timeout of the client's can end this lookup, as with a
            // nameserver that never replies.
            DnsFault::NoAnswer => Box::pin(std::future::pending()),
            DnsFault::Slow { delay } => Box::pin(async move {
                tokio::time::sleep(delay).await;
                Ok(resolved)
            }),
        }
    }
}
