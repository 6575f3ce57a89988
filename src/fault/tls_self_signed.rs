//! `tls-self-signed`: a self-signed certificate.

use serde::{Deserialize, Serialize};

use crate::fault::{Fault, FaultLeaf, HEALTHY, Handling};
use crate::tls::Leaf;

/// Presents a self-signed certificate for `127.0.0.1` and `localhost`: no CA
/// vouches for it, not even the exported one. Clients report an untrusted
/// certificate; one that skips verification gets `200 OK`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsSelfSigned {}

impl TlsSelfSigned {
    /// The certificate the server presents.
    pub(crate) fn leaf(&self) -> Leaf {
        Leaf::SelfSigned
    }
}

impl Fault {
    /// `tls-self-signed`: a self-signed certificate.
    pub fn tls_self_signed() -> Fault {
        TlsSelfSigned::default().into()
    }
}

impl FaultLeaf for TlsSelfSigned {
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
    async fn tls_self_signed_presents_the_self_signed_leaf_then_answers_like_ok() {
        mock::presents_then_answers_like_ok(&TlsSelfSigned::default(), Leaf::SelfSigned).await;
    }
}
