//! `blackhole`: the TCP handshake never completes.

use std::io;
use std::net::TcpStream;
use std::time::Duration;

use crate::fault::{Fault, FaultLeaf, Handling, Listen};
use serde::{Deserialize, Serialize};
use socket2::Socket;

/// How long the start-up check waits for a handshake that must not complete.
/// On loopback a handshake that can complete does so in microseconds.
const PROBE_WAIT: Duration = Duration::from_millis(20);

/// SYNs to the port are dropped, so clients hit their connect timeout.
///
/// On Linux a listener with backlog 0 accepts exactly one connection into its
/// queue. The server fills that slot with a connection of its own and never
/// accepts it; the kernel then drops every further SYN, and the client keeps
/// retransmitting until its connect timeout fires.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Blackhole {}

impl Listen for Blackhole {
    /// Listens so that handshakes never complete, and checks that they
    /// really do not.
    fn listen(&self, listener: Socket) -> io::Result<Vec<Socket>> {
        listener.listen(0)?;
        let local = listener
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("listener has no IP address"))?;
        let filler = TcpStream::connect_timeout(&local, Duration::from_secs(1))?;
        match TcpStream::connect_timeout(&local, PROBE_WAIT) {
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(vec![listener, filler.into()]),
            Ok(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "blackhole is not possible on this platform: its kernel completes handshakes \
                 beyond a full listen backlog. Use `hang-on-accept` for a connection that \
                 stalls after connecting",
            )),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!("blackhole self-check failed: {e}"),
            )),
        }
    }
}

impl Fault {
    /// `blackhole`: SYNs dropped, the connect never completes.
    pub fn blackhole() -> Fault {
        Blackhole::default().into()
    }
}

impl FaultLeaf for Blackhole {
    fn handling(&self) -> Handling<'_> {
        Handling::Listener(self)
    }
}
