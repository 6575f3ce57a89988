//! `tls-wrong-host`: a certificate for another host.

use serde::{Deserialize, Serialize};

use crate::fault::{Fault, FaultLeaf, HEALTHY, Handling};
use crate::tls::Leaf;

/// Presents a certificate signed by the exported CA that names only
/// `wrong-host.outage.invalid`, not the address the client asked for. A
/// client that trusts the CA reports a host name mismatch; one that skips
/// verification gets `200 OK`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsWrongHost {}

impl TlsWrongHost {
    /// The certificate the server presents.
    pub(crate) fn leaf(&self) -> Leaf {
        Leaf::WrongHost
    }
}

impl Fault {
    /// `tls-wrong-host`: a certificate for another host.
    pub fn tls_wrong_host() -> Fault {
        TlsWrongHost::default().into()
    }
}

impl FaultLeaf for TlsWrongHost {
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
    async fn tls_wrong_host_presents_the_wrong_host_leaf_then_answers_like_ok() {
        mock::presents_then_answers_like_ok(&TlsWrongHost::default(), Leaf::WrongHost).await;
    }
}
