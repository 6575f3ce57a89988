//! `tls-not-yet-valid`: a certificate that is not valid yet.

use serde::{Deserialize, Serialize};

use crate::fault::{Fault, FaultLeaf, HEALTHY, Handling};
use crate::tls::Leaf;

/// Presents a certificate signed by the exported CA whose validity starts in
/// 2100, as a server with a clock far ahead would make. A client that trusts
/// the CA reports a certificate outside its validity window; one that skips
/// verification gets `200 OK`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsNotYetValid {}

impl TlsNotYetValid {
    /// The certificate the server presents.
    pub(crate) fn leaf(&self) -> Leaf {
        Leaf::NotYetValid
    }
}

impl Fault {
    /// `tls-not-yet-valid`: a certificate valid from 2100.
    pub fn tls_not_yet_valid() -> Fault {
        TlsNotYetValid::default().into()
    }
}

impl FaultLeaf for TlsNotYetValid {
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
    async fn tls_not_yet_valid_presents_the_not_yet_valid_leaf_then_answers_like_ok() {
        mock::presents_then_answers_like_ok(&TlsNotYetValid::default(), Leaf::NotYetValid).await;
    }
}
