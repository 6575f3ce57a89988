//! `tls-expired`: a certificate that has expired.

use serde::{Deserialize, Serialize};

use crate::fault::{Fault, FaultLeaf, HEALTHY, Handling};
use crate::tls::Leaf;

/// Presents a certificate signed by the exported CA whose validity ended in
/// 2002. A client that trusts the CA reports an expired certificate; one that
/// skips verification gets `200 OK`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsExpired {}

impl TlsExpired {
    /// The certificate the server presents.
    pub(crate) fn leaf(&self) -> Leaf {
        Leaf::Expired
    }
}

impl Fault {
    /// `tls-expired`: a certificate that expired in 2002.
    pub fn tls_expired() -> Fault {
        TlsExpired::default().into()
    }
}

impl FaultLeaf for TlsExpired {
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
    async fn tls_expired_presents_the_expired_leaf_then_answers_like_ok() {
        mock::presents_then_answers_like_ok(&TlsExpired::default(), Leaf::Expired).await;
    }
}
