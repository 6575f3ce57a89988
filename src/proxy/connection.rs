//! One proxied connection: the connection to the upstream, then the two
//! links, until both have passed their end on or one closes the connection.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::proxy::chain::Wiring;
use crate::proxy::link::{self, Ending, Meters};
use crate::proxy::stats::Counters;
use crate::toxic::stub::Peers;
use crate::toxic::{Direction, Toxics};

/// What every connection of a proxy shares.
pub(super) struct Shared {
    /// The upstream address, `host:port`.
    pub(super) upstream: String,
    /// The proxy's toxics.
    pub(super) toxics: Toxics,
    /// The proxy's counters.
    pub(super) counters: Counters,
}

/// Proxies `client`, the proxy's connection number `index`, until it ends
/// or `stop` is cancelled. If the upstream cannot be reached, the client's
/// connection closes at once.
pub(super) async fn forward(
    client: TcpStream,
    index: u64,
    shared: Arc<Shared>,
    stop: CancellationToken,
) {
    let connected = tokio::select! {
        () = stop.cancelled() => return,
        connected = TcpStream::connect(&shared.upstream) => connected,
    };
    let Ok(server) = connected else { return };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    shared.counters.opened();
    let (client, server) = (Arc::new(client), Arc::new(server));
    // A link that closes the connection ends the other one too.
    let stop = stop.child_token();
    let wiring = |direction| Wiring {
        seed: shared.toxics.seed(),
        connection: index,
        direction,
        peers: Peers::new(&client, &server),
        closing: Arc::new(AtomicBool::new(false)),
        stop: stop.clone(),
    };
    let upstream = link::run(
        &client,
        &server,
        &shared.toxics,
        wiring(Direction::Upstream),
        meters(&shared, Direction::Upstream),
    );
    let downstream = link::run(
        &server,
        &client,
        &shared.toxics,
        wiring(Direction::Downstream),
        meters(&shared, Direction::Downstream),
    );
    let close_on = |ending: Ending| {
        if ending == Ending::Closed {
            stop.cancel();
        }
    };
    tokio::join!(async { close_on(upstream.await) }, async {
        close_on(downstream.await)
    });
    shared.counters.closed();
    // The sockets close here, when the last strong reference goes: with an
    // RST where a toxic armed one.
    drop((client, server));
}

fn meters(shared: &Shared, direction: Direction) -> Meters<'_> {
    let counters = shared.counters.direction(direction);
    Meters {
        received: &counters.received,
        sent: &counters.sent,
    }
}
