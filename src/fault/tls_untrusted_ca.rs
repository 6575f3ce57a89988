//! `tls-untrusted-ca`: a certificate from an untrusted CA.

use serde::{Deserialize, Serialize};

use crate::fault::{Fault, FaultLeaf, HEALTHY, Handling};
use crate::tls::Leaf;

/// Presents a certificate for `127.0.0.1` and `localhost` signed by a second CA
/// that is never exported: even a client that trusts the server's CA reports
/// an unknown issuer. One that skips verification gets `200 OK`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsUntrustedCa {}

impl TlsUntrustedCa {
    /// The certificate the server presents.
    pub(crate) fn leaf(&self) -> Leaf {
        Leaf::UntrustedCa
    }
}

impl Fault {
    /// `tls-untrusted-ca`: a certificate from a CA that is never exported.
    pub fn tls_untrusted_ca() -> Fault {
        TlsUntrustedCa::default().into()
    }
}

impl FaultLeaf for TlsUntrustedCa {
    fn handling(&self) -> Handling<'_> {
        Handling::Respond(&*HEALTHY)
    }

    fn presents(&self) -> Option<Leaf> {
        Some(self.leaf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::mock;

    #[tokio::test(start_paused = true)]
    async fn tls_untrusted_ca_presents_the_untrusted_ca_leaf_then_answers_like_ok() {
        mock::presents_then_answers_like_ok(&TlsUntrustedCa::default(), Leaf::UntrustedCa).await;
    }
}
