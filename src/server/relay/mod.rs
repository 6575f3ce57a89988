//! A fault server with an upstream: a proxy in front of a real service.
//!
//! Each request is an attempt, and its fault decides what becomes of it. A
//! fault that shapes a response ([`Shape`](crate::fault::Shape): `ok`,
//! `truncate`, `drip` ...) passes the request to the upstream byte for byte
//! and sends the upstream's real response back as the shape says; any other
//! fault answers in the upstream's place (`status`, the redirects) or takes
//! over the connection (`reset`, `hang` ...), and the upstream never sees the
//! request. Bodies are relayed as they arrive, never held whole; their
//! framing is followed only to know where each message ends, so a kept-alive
//! connection carries the next request, and an upgrade (101) becomes a tunnel.

mod answer;
mod exchange;
mod shaped;
mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;

use crate::conn::{Conn, Exchange, NoRequest};
use crate::fault::{Acts, Misbehave};
use crate::journal::{AttemptLog, Ending, UpstreamConnection, UpstreamLeg};
use crate::request::RequestHead;
use crate::server::accept::misbehave;
use crate::server::{ServerError, Site};
use upstream::Upstream;

/// Where a proxy's requests go, and what a client meets when they cannot.
#[derive(Debug, Clone)]
pub(crate) struct UpstreamSettings {
    /// `host:port`, resolved for each new connection.
    pub(crate) address: String,
    /// Answer `502 Bad Gateway` when the upstream cannot be reached, rather
    /// than closing the client's connection at once.
    pub(crate) bad_gateway: bool,
}

/// Checks that `address` is a `HOST:PORT` a proxy can connect to; the host
/// is looked up only when a connection needs it.
pub(crate) fn check_address(address: &str) -> Result<(), ServerError> {
    let refuse = |reason: &str| {
        Err(ServerError::Upstream {
            address: address.to_owned(),
            reason: format!("{reason}; give HOST:PORT, such as 127.0.0.1:8080"),
        })
    };
    if address.contains("://") {
        return refuse("a proxy's upstream is an address, not a URL: leave out the scheme");
    }
    let Some((host, port)) = address.rsplit_once(':') else {
        return refuse("no port");
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match port.parse::<u16>() {
        _ if host.is_empty() => refuse("no host"),
        Ok(1..) => Ok(()),
        _ => refuse(&format!("{port:?} is no port from 1 to 65535")),
    }
}

/// What became of one attempt.
enum Next<'a> {
    /// The response is complete and the connection stays open.
    KeptAlive,
    /// The connection ended this way.
    Ended(Ending),
    /// A transport fault takes the connection over, the request head read.
    HandOver(&'a dyn Misbehave, RequestHead),
}

struct Relay<'a> {
    site: &'a Arc<Site>,
    settings: &'a UpstreamSettings,
    conn: Conn,
    /// The upstream connection of the last attempt, while it can be reused.
    upstream: Option<Upstream>,
    id: u64,
    peer: SocketAddr,
}

/// Serves one client connection of a proxy, attempt after attempt.
pub(crate) async fn serve(
    conn: Conn,
    first: AttemptLog,
    id: u64,
    peer: SocketAddr,
    site: &Arc<Site>,
    settings: &UpstreamSettings,
) {
    let early = site.fault.for_attempt(first.index());
    if let (Acts::Misbehave(fault), None) = (early.acts(), early.shape()) {
        return misbehave(fault, Exchange::new(conn, None, first), site).await;
    }
    // Each write leaves at once: a proxy must not add Nagle's delay, and a
    // slicer's writes are each their own segment.
    let _ = conn.set_nodelay();
    let meter = conn.meter();
    let mut relay = Relay {
        site,
        settings,
        conn,
        upstream: None,
        id,
        peer,
    };
    let mut log = first;
    let mut answered = false;
    loop {
        let next = tokio::select! {
            next = relay.attempt(&mut log, answered) => next,
            () = site.stop.cancelled() => Next::Ended(Ending::ServerStopped),
        };
        match next {
            Next::KeptAlive => answered = true,
            Next::HandOver(fault, head) => {
                let exchange = Exchange::new(relay.conn, Some(head), log);
                return misbehave(fault, exchange, site).await;
            }
            Next::Ended(ending) => {
                // Closing the sockets before journaling: a settled journal
                // means a closed connection.
                drop(relay);
                return log.finish(ending, meter.take());
            }
        }
    }
}

impl<'a> Relay<'a> {
    /// Reads the next request and handles it; `log` becomes the attempt the
    /// connection ends in. After an answered attempt, the next head begins a
    /// new one, and the answered one ends kept alive.
    async fn attempt(&mut self, log: &mut AttemptLog, answered: bool) -> Next<'a> {
        let (head, bytes) = match self.conn.read_head_bytes().await {
            Ok(read) => read,
            Err(NoRequest::Ended(ending)) => {
                if !answered {
                    log.action("client left before sending a full request");
                }
                return Next::Ended(ending);
            }
            Err(NoRequest::Unreadable(error)) => {
                log.action(format!(
                    "unreadable request ({error}); closed without passing it on"
                ));
                return Next::Ended(self.conn.close_fin().await);
            }
        };
        if answered {
            self.begin_next(log, bytes.len() as u64);
        }
        log.request(&head);
        let chosen = self.site.for_request(log, &head);
        match (chosen.shape(), chosen.acts()) {
            (Some(shape), _) => self.forward(log, &head, &bytes, shape).await,
            (None, Acts::Respond(responder)) => self.answer(log, &head, responder).await,
            (None, Acts::Misbehave(fault)) => Next::HandOver(fault, head),
            (None, Acts::Route(_) | Acts::Listener(_) | Acts::Stream(_)) => {
                log.action("no fault to apply; closed");
                Next::Ended(self.conn.close_fin().await)
            }
        }
    }

    /// Ends the answered attempt kept alive, and begins the next one with
    /// the `head_len` bytes of its head.
    fn begin_next(&self, log: &mut AttemptLog, head_len: u64) {
        let answered = self.conn.meter().take_before_head(head_len);
        let next = self.site.journal.begin(self.id, self.peer);
        std::mem::replace(log, next).finish(Ending::KeptAlive, answered);
    }

    /// The upstream connection for this attempt: the last one, or a new one.
    async fn upstream(&mut self) -> Result<Upstream, UpstreamConnection> {
        match self.upstream.take() {
            Some(up) => Ok(up),
            None => Upstream::connect(&self.settings.address).await,
        }
    }

    /// Journals an upstream that could not be reached, and closes the
    /// client's connection, after a 502 when the settings ask for one.
    async fn unreachable(&mut self, log: &AttemptLog, failure: UpstreamConnection) -> Next<'a> {
        let why = match &failure {
            UpstreamConnection::Refused => "refused".to_owned(),
            UpstreamConnection::TimedOut => format!(
                "did not accept within {}",
                humantime::format_duration(upstream::CONNECT_TIMEOUT)
            ),
            UpstreamConnection::Failed(error) => format!("could not be reached ({error})"),
            UpstreamConnection::Opened(_) | UpstreamConnection::Reused => "is gone".to_owned(),
        };
        log.upstream(UpstreamLeg {
            address: self.settings.address.clone(),
            connection: failure,
            bytes_sent: 0,
            bytes_received: 0,
        });
        if !self.settings.bad_gateway {
            log.action(format!("the upstream {why}; closed"));
            return Next::Ended(self.conn.close_fin().await);
        }
        log.action(format!("the upstream {why}; answered 502 and closed"));
        let body = format!("outage: the upstream {} {why}\n", self.settings.address);
        let response = crate::conn::wire::response(502, &[], body.as_bytes());
        match self.conn.send(&response).await {
            Ok(()) => Next::Ended(self.conn.close_fin().await),
            Err(e) => Next::Ended(crate::conn::client_error_ending(&e)),
        }
    }
}
