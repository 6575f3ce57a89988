//! `refuse`: nothing listens on the port.

use std::io;

use crate::fault::{FaultLeaf, Handling, Listen};
use serde::{Deserialize, Serialize};
use socket2::Socket;

/// Nothing listens: connecting gets `ECONNREFUSED`.
///
/// The port is bound but never listened on, which keeps it reserved: no other
/// process can take it while the server lives, so the refusal stays real.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Refuse {}

impl Listen for Refuse {
    fn listen(&self, socket: Socket) -> io::Result<Vec<Socket>> {
        Ok(vec![socket])
    }
}

impl FaultLeaf for Refuse {
    fn handling(&self) -> Handling<'_> {
        Handling::Listener(self)
    }
}
