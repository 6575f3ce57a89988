//! `DnsResponder`: a DNS server on a loopback address of its own, port 53,
//! that answers from a [`Names`] table and journals every query.
//!
//! Port 53 because glibc's `/etc/resolv.conf` cannot name another port; an
//! address of its own in `127.0.0.0/8` (all of it is loopback on Linux) so
//! that responders started in parallel never collide.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Header, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record, RecordType};
use hickory_server::ServerFuture;
use hickory_server::authority::MessageResponseBuilder;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use tokio::net::{TcpListener, UdpSocket};

use crate::dns::{DnsFault, Names};

/// Candidate addresses tried before giving up.
const ATTEMPTS: u32 = 64;

/// How long a TCP client may stay idle.
const TCP_IDLE: Duration = Duration::from_secs(5);

/// Why a responder could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponderError {
    /// Binding port 53 needs privilege this process lacks.
    #[error(
        "binding port 53 on loopback was refused ({0}); run as root, grant CAP_NET_BIND_SERVICE, or lower net.ipv4.ip_unprivileged_port_start to 53"
    )]
    Denied(io::Error),
    /// No free loopback address was found, or another socket error.
    #[error("cannot bind a DNS responder on loopback port 53: {0}")]
    Bind(io::Error),
}

/// One query the responder received, and what it did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Query {
    /// The name asked for, without the trailing dot.
    pub name: String,
    /// The record type asked for: `A`, `AAAA`, ...
    pub record_type: String,
    /// What it answered: `A 127.0.0.1`, `NODATA`, `NXDOMAIN`, `SERVFAIL`, `nothing`.
    pub answer: String,
}

/// A DNS responder on `127.X.Y.Z:53`, UDP and TCP. Dropping it stops it.
#[must_use = "dropping the responder stops it; keep it alive while the client runs"]
pub struct DnsResponder {
    ip: Ipv4Addr,
    queries: Arc<Mutex<Vec<Query>>>,
    // Dropping the server drops its tasks' JoinSet, which aborts them.
    _server: ServerFuture<Handler>,
}

impl DnsResponder {
    /// Starts a responder for `names` on a loopback address no other responder uses.
    pub async fn start(names: Names) -> Result<DnsResponder, ResponderError> {
        let (ip, udp, tcp) = bind().await?;
        let queries = Arc::new(Mutex::new(Vec::new()));
        let mut server = ServerFuture::new(Handler {
            names,
            queries: queries.clone(),
        });
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE);
        Ok(DnsResponder {
            ip,
            queries,
            _server: server,
        })
    }

    /// The loopback address it answers on, at port 53.
    pub fn ip(&self) -> Ipv4Addr {
        self.ip
    }

    /// Every query received so far, in order.
    pub fn queries(&self) -> Vec<Query> {
        self.queries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Binds UDP and TCP port 53 on the first free candidate address.
async fn bind() -> Result<(Ipv4Addr, UdpSocket, TcpListener), ResponderError> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let mut last = io::Error::from(io::ErrorKind::AddrInUse);
    for _ in 0..ATTEMPTS {
        let ip = candidate(NEXT.fetch_add(1, Ordering::Relaxed));
        let addr = SocketAddr::new(ip.into(), 53);
        let bound = match UdpSocket::bind(addr).await {
            Ok(udp) => TcpListener::bind(addr).await.map(|tcp| (ip, udp, tcp)),
            Err(e) => Err(e),
        };
        match bound {
            Ok(pair) => return Ok(pair),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return Err(ResponderError::Denied(e));
            }
            Err(e) => last = e,
        }
    }
    Err(ResponderError::Bind(last))
}

/// The `n`th address this process tries, in `127.100.0.1` to `127.199.255.254`,
/// starting from a place chosen by the process id so that processes differ.
fn candidate(n: u32) -> Ipv4Addr {
    const SPACE: u32 = 100 * 256 * 254;
    let i = (std::process::id().wrapping_mul(7919).wrapping_add(n)) % SPACE;
    Ipv4Addr::new(
        127,
        100 + (i / (256 * 254)) as u8,
        (i / 254 % 256) as u8,
        1 + (i % 254) as u8,
    )
}

struct Handler {
    names: Names,
    queries: Arc<Mutex<Vec<Query>>>,
}

impl Handler {
    fn journal(&self, name: &str, record_type: RecordType, answer: String) {
        self.queries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Query {
                name: name.to_owned(),
                record_type: record_type.to_string(),
                answer,
            });
    }
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler>(
        &self,
        request: &Request,
        mut response: R,
    ) -> ResponseInfo {
        let mut header = Header::response_from_request(request.header());
        header.set_authoritative(true);
        let Ok(info) = request.request_info() else {
            header.set_response_code(ResponseCode::FormErr);
            return header.into();
        };
        let asked = info.query.name().to_string();
        let name = asked.trim_end_matches('.');
        let record_type = info.query.query_type();
        let builder = MessageResponseBuilder::from_message_request(request);
        let fault = self.names.fault_for(name);
        let code = match fault {
            DnsFault::Nxdomain => ResponseCode::NXDomain,
            DnsFault::Servfail => ResponseCode::ServFail,
            DnsFault::NoAnswer => {
                self.journal(name, record_type, "nothing".to_owned());
                return header.into();
            }
            DnsFault::Server | DnsFault::Slow { .. } => ResponseCode::NoError,
        };
        if code != ResponseCode::NoError {
            self.journal(name, record_type, fault.name().to_uppercase());
            let message = builder.error_msg(request.header(), code);
            return response
                .send_response(message)
                .await
                .unwrap_or(header.into());
        }
        // Only A records exist: an AAAA query gets an empty NOERROR (NODATA),
        // so clients connect over IPv4 to the fault server. TTL 0 keeps any
        // cache from holding the answer past this lookup.
        let answers: Vec<Record> = match (record_type, self.names.server()) {
            (RecordType::A, IpAddr::V4(ip)) => vec![Record::from_rdata(
                info.query.name().into(),
                0,
                RData::A(A(ip)),
            )],
            _ => Vec::new(),
        };
        let mut answer = match answers.first() {
            Some(_) => format!("A {}", self.names.server()),
            None => "NODATA".to_owned(),
        };
        // Journaled on arrival, so a client that gives up first still shows.
        if let DnsFault::Slow { delay } = fault {
            answer = format!("{answer} after {}", humantime::format_duration(*delay));
        }
        self.journal(name, record_type, answer);
        if let DnsFault::Slow { delay } = fault {
            tokio::time::sleep(*delay).await;
        }
        let message = builder.build(header, answers.iter(), [], [], []);
        response
            .send_response(message)
            .await
            .unwrap_or(header.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_loopback_and_never_a_network_or_broadcast_address() {
        for n in [0, 1, 253, 254, 255, 100 * 256 * 254 - 1, u32::MAX] {
            let ip = candidate(n);
            assert!(ip.is_loopback(), "{ip}");
            assert!(ip.octets()[1] >= 100, "{ip} stays clear of 127.0.0.x");
            assert!(!matches!(ip.octets()[3], 0 | 255), "{ip}");
        }
    }
}
