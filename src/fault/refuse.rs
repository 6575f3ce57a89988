//! `refuse`: nothing listens on the port.

use std::io;
use std::net::SocketAddr;

use crate::fault::{FaultLeaf, Handling};
use serde::Deserialize;
use socket2::{Domain, Socket, Type};

/// Nothing listens: connecting gets `ECONNREFUSED`.
///
/// The port is bound but never listened on, which keeps it reserved: no other
/// process can take it while the server lives, so the refusal stays real.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Refuse {}

impl Refuse {
    /// Binds `addr` without listening on it.
    pub(crate) fn reserve(addr: SocketAddr) -> io::Result<Socket> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
        socket.bind(&addr.into())?;
        Ok(socket)
    }
}

impl FaultLeaf for Refuse {
    fn handling(&self) -> Handling<'_> {
        Handling::Listener
    }
}
