//! `wrong-port`: the service moved to another port.

use std::io;

use crate::fault::{Fault, FaultLeaf, Handling, Listen};
use serde::{Deserialize, Serialize};
use socket2::Socket;

/// A healthy server listens on one port while the URL handed out points at a
/// second port where nothing listens: a service that moved.
///
/// Clients get `ECONNREFUSED`, exactly as for `refuse`. The server reports both
/// ports, and the healthy server's journal shows that no attempt reached it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WrongPort {}

impl Fault {
    /// `wrong-port`: a healthy server, and a URL that points at a refused port.
    pub fn wrong_port() -> Fault {
        WrongPort::default().into()
    }
}

impl Listen for WrongPort {
    fn listen(&self, socket: Socket) -> io::Result<Vec<Socket>> {
        Ok(vec![socket])
    }

    fn beside(&self) -> Option<Fault> {
        Some(Fault::ok())
    }
}

impl FaultLeaf for WrongPort {
    fn handling(&self) -> Handling<'_> {
        Handling::Listener(self)
    }
}
