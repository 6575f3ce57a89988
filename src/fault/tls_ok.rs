//! `tls-ok`: a valid certificate, signed by the exported CA.

use serde::{Deserialize, Serialize};

use crate::fault::{Fault, FaultLeaf, HEALTHY, Handling};
use crate::tls::Leaf;

/// Presents a valid certificate for `127.0.0.1` and `localhost`, signed by the
/// server's own throwaway CA, then answers `200 OK` like `ok`. Clients that
/// trust the CA ([`FaultServer::ca_pem`](crate::FaultServer::ca_pem)) succeed;
/// the rest report an unknown issuer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsOk {}

impl TlsOk {
    /// The certificate the server presents.
    pub(crate) fn leaf(&self) -> Leaf {
        Leaf::Valid
    }
}

impl Fault {
    /// `tls-ok`: https with a valid certificate from the server's own CA.
    pub fn tls_ok() -> Fault {
        TlsOk::default().into()
    }
}

impl FaultLeaf for TlsOk {
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
    async fn tls_ok_presents_the_valid_leaf_then_answers_like_ok() {
        mock::presents_then_answers_like_ok(&TlsOk::default(), Leaf::Valid).await;
    }
}
